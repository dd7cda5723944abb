# Builds the guest benchmark suite: one static i386 program, run natively and in guests.
# The guest CPU is a P6 without MMX/SSE, so neither is used (x87 floating point).
BUILD ?= build
OUT := $(BUILD)/bench/guest
KBENCH_CFLAGS := -m32 -march=i686 -mtune=generic -mno-mmx -mno-sse -mfpmath=387 -O2 -std=gnu11 \
                 -Wall -Wextra -Wno-unused-parameter -fno-pic -no-pie -static
all: $(OUT)/kbench
$(OUT)/kbench: bench/guest/kbench.c bench/guest/io.c bench/guest/kbench.h bench/guest/guest.mk
	@mkdir -p $(OUT)
	gcc $(KBENCH_CFLAGS) -o $@ bench/guest/kbench.c bench/guest/io.c
