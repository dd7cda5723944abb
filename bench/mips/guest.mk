# Builds the bare-metal MIPS loops (multiboot ELF, 32-bit, linked at 1 MiB).
BUILD ?= build
OUT := $(BUILD)/bench/mips
LOOPS := int mem mem16 call fpu
all: $(LOOPS:%=$(OUT)/%.elf)
$(OUT)/%.elf: bench/mips/%.S bench/mips/common.inc
	@mkdir -p $(OUT)
	gcc -m32 -nostdlib -static -no-pie -fno-pic -Wl,--build-id=none -Wl,-N -Wl,--no-warn-rwx-segments -Wl,-Ttext=0x100000 \
	    -Wl,-e,_start -o $@ $<
$(OUT)/mem16.elf: bench/mips/mem.S
