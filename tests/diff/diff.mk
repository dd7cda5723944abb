# Differential CPU tests: builds the case generator, the case file, the native 32-bit runner,
# the multiboot guest runner, the comparator and the undefined-flags checker under $(BUILD).
# Invoked as `make -f tests/diff/diff.mk BUILD=build` from the top of the tree.

BUILD  ?= build
HOSTCC ?= cc
CC32   ?= gcc -m32
D      := tests/diff
O      := $(BUILD)/tests/diff

WARN       := -Wall -Wextra -Werror
HOSTCFLAGS := -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE
NATCFLAGS  := -std=c11 -O2 -g $(WARN) -D_GNU_SOURCE
GSTCFLAGS  := -std=c11 -O2 $(WARN) -ffreestanding -nostdlib -fno-pic -fno-pie -no-pie \
              -fno-stack-protector -fno-asynchronous-unwind-tables -mgeneral-regs-only -static \
              -Wl,--build-id=none -Wl,--no-warn-rwx-segments -Wl,-T,$(D)/guest.ld
BLOBFLAGS   = -DDIFF_CASES='"$(O)/cases.bin"'

.PHONY: all
all: $(O)/cases.bin $(O)/diff-native $(O)/diff-guest.elf $(O)/compare $(O)/undef-check

$(O)/gen: $(D)/gen.c $(D)/diff.h
	@mkdir -p $(O)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(D)/gen.c

$(O)/cases.bin: $(O)/gen
	$(O)/gen $@

$(O)/compare: $(D)/compare.c $(D)/diff.h
	@mkdir -p $(O)
	$(HOSTCC) $(HOSTCFLAGS) -o $@ $(D)/compare.c

RUNNER_SRCS := $(D)/runner.c $(D)/core.S $(D)/blob.S
RUNNER_DEPS := $(RUNNER_SRCS) $(D)/runner.h $(D)/diff.h $(O)/cases.bin

$(O)/diff-native: $(D)/native.c $(RUNNER_DEPS)
	$(CC32) $(NATCFLAGS) $(BLOBFLAGS) -o $@ $(D)/native.c $(RUNNER_SRCS)

$(O)/diff-guest.elf: $(D)/guest.c $(D)/guest-entry.S $(D)/guest.ld $(RUNNER_DEPS)
	$(CC32) $(GSTCFLAGS) $(BLOBFLAGS) -o $@ $(D)/guest-entry.S $(D)/guest.c $(RUNNER_SRCS)

$(O)/undef-check: $(D)/undef-check.c $(D)/diff.h
	$(CC32) $(NATCFLAGS) -o $@ $(D)/undef-check.c
