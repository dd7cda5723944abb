# kestrel build: `make` builds build/kestrel, `make check` builds and runs every test,
# `make bench` runs the benchmarks. Out-of-tree objects under $(BUILD).

BUILD    ?= build
CC       ?= cc
SANITIZE ?= 0
OPT      ?= -O2

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -g $(OPT) -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
               -fno-strict-aliasing -Isrc -MMD -MP
LDLIBS      := -lm -lpthread
ifeq ($(SANITIZE),1)
CFLAGS_BASE += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS     += -fsanitize=address,undefined
BUILD       := $(BUILD)-san
endif
override CFLAGS := $(CFLAGS_BASE) $(CFLAGS)

# Every .c under src/ is part of the emulator library except the program entry point.
LIB_SRCS  := $(shell find src -name '*.c' ! -path src/main.c | sort)
LIB_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/%.o)
LIB       := $(BUILD)/libkestrel.a

UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)

.PHONY: all check bench run clean guests cpu-tests diff-tests format
all: $(BUILD)/kestrel

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/kestrel: $(BUILD)/src/main.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/unit/%: tests/unit/%.c tests/unit/test.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# Bare-metal guest tests and the differential tests have their own makefiles: they are
# built with the host compiler in 32-bit freestanding mode, not with $(CC)'s sanitizers.
cpu-tests:
	$(MAKE) -f tests/cpu/guest.mk BUILD=$(BUILD)
diff-tests: $(BUILD)/kestrel
	$(MAKE) -f tests/diff/diff.mk BUILD=$(BUILD)

check: $(BUILD)/kestrel $(UNIT_BINS) cpu-tests diff-tests
	BUILD=$(BUILD) tests/run

bench: $(BUILD)/kestrel
	BUILD=$(BUILD) bench/run

run: $(BUILD)/kestrel
	BUILD=$(BUILD) tools/run-guest

format:
	clang-format -i $$(find src tests -name '*.[ch]')

clean:
	rm -rf $(BUILD) $(BUILD)-san

-include $(LIB_OBJS:.o=.d) $(BUILD)/src/main.d $(UNIT_BINS:=.d)
