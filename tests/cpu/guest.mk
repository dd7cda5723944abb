# Builds the bare-metal CPU tests: each tests/cpu/<name>.c (plus an optional <name>.S) linked
# with tests/cpu/lib into $(BUILD)/tests/cpu/<name>.elf, a multiboot kernel loaded at 1 MiB.
BUILD    ?= build
GUEST_CC ?= gcc
O        := $(BUILD)/tests/cpu

# -mgeneral-regs-only keeps the compiler away from x87/MMX/SSE so the x87 tests own the FPU
# state and CR0.TS/EM never trap in library code.
GUEST_CFLAGS := -m32 -march=i686 -std=gnu11 -ffreestanding -fno-pic -no-pie -nostdlib \
                -fno-stack-protector -O2 -g -mgeneral-regs-only -fno-asynchronous-unwind-tables \
                -fno-tree-loop-distribute-patterns -fno-strict-aliasing -fcf-protection=none \
                -Wall -Wextra -Werror -Wno-unused-parameter -Itests/cpu/lib -MMD -MP
# Low physical addresses (the real-mode IVT at 0) are legitimate here: no null-pointer
# assumptions, no "array bounds" warnings for constant addresses.
GUEST_CFLAGS += -fno-delete-null-pointer-checks --param=min-pagesize=0
GUEST_LDFLAGS := -m32 -nostdlib -no-pie -static -Wl,-T,tests/cpu/lib/link.ld \
                 -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack \
                 -Wl,--no-warn-rwx-segments

TESTS    := $(basename $(notdir $(wildcard tests/cpu/*.c)))
LIB_SRCS := $(wildcard tests/cpu/lib/*.c tests/cpu/lib/*.S)
LIB_OBJS := $(patsubst tests/cpu/lib/%,$(O)/lib/%.o,$(LIB_SRCS))

.PHONY: all
.SECONDARY:
all: $(TESTS:%=$(O)/%.elf)

$(O)/lib/%.c.o: tests/cpu/lib/%.c tests/cpu/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/lib/%.S.o: tests/cpu/lib/%.S tests/cpu/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(O)/%.c.o: tests/cpu/%.c tests/cpu/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -DKT_NAME='"$*"' -c $< -o $@

$(O)/%.S.o: tests/cpu/%.S tests/cpu/guest.mk
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# One link rule per test: its objects, the library and the linker script.
define test_rule
$(O)/$(1).elf: $(O)/$(1).c.o $(if $(wildcard tests/cpu/$(1).S),$(O)/$(1).S.o) $(LIB_OBJS) \
               tests/cpu/lib/link.ld
	$$(GUEST_CC) $$(GUEST_LDFLAGS) -o $$@ $$(filter %.o,$$^) -lgcc
endef
$(foreach t,$(TESTS),$(eval $(call test_rule,$(t))))

-include $(wildcard $(O)/*.d $(O)/lib/*.d)
