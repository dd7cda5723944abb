/* A guest executing garbage never crashes or hangs the emulator: random bytes as code, data,
 * descriptor tables and page tables, run for a bounded number of instructions in protected and
 * real mode. The checks are that every slice returns and the CPU state stays sane. */
#include "test.h"

#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"

#define RAM_SIZE (2u << 20)

static uint32_t rng_state = 0x12345678;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

static uint64_t icount_cb(void *opaque) { return x86_cpu_icount(opaque); }
static void shutdown_cb(void *opaque, bool reset) { *(int *)opaque += 1; }

static int run_one(bool protected_mode, bool jit)
{
    AddressSpace mem, io;
    Clock clock;
    as_init(&mem, "mem", 1ull << 32);
    as_init(&io, "io", 0x10000);
    uint8_t *ram = malloc(RAM_SIZE);
    for (uint32_t i = 0; i < RAM_SIZE; i += 4) {
        uint32_t v = rnd();
        memcpy(ram + i, &v, 4);
    }
    as_add_ram(&mem, "ram", 0, RAM_SIZE, ram);
    clock_init(&clock, true, 0);
    CPUX86State *env = x86_cpu_new(&mem, &io, &clock, jit);
    int shutdowns = 0;
    env->shutdown_request = shutdown_cb;
    env->machine_opaque = &shutdowns;
    clock.insn_count = icount_cb;
    clock.insn_opaque = env;
    mem.changed = x86_cpu_memory_changed;
    mem.changed_opaque = env;
    if (protected_mode) {
        x86_cpu_setup_flat32(env, rnd() % RAM_SIZE, 0x08, 0x10, rnd() % RAM_SIZE, rnd() & 0xffff);
        env->idt.base = rnd() % RAM_SIZE;
        env->idt.limit = 0x7ff;
        for (int i = 0; i < 8; i++) env->regs[i] = rnd();
    } else {
        env->eip = rnd() & 0xffff;
    }
    int slices = 0;
    for (; slices < 20; slices++) {
        x86_cpu_start_slice(env, 500);
        int r = x86_cpu_exec(env);
        x86_cpu_end_slice(env);
        if (r == X86_EXIT_SHUTDOWN) {
            /* Triple fault: restart somewhere else, as a board would. */
            x86_cpu_reset(env);
            env->eip = rnd() & 0xffff;
        }
        if (env->halted) {
            env->halted = false; /* no interrupts will come: keep going */
            env->eip += 1;
        }
    }
    CHECK((env->hflags & HF_CPL_MASK) <= 3);
    x86_cpu_free(env);
    as_destroy(&mem);
    as_destroy(&io);
    free(ram);
    return slices;
}

TEST(random_code_protected_mode)
{
    for (int i = 0; i < 150; i++) CHECK_EQ(run_one(true, false), 20);
}

TEST(random_code_real_mode)
{
    for (int i = 0; i < 150; i++) CHECK_EQ(run_one(false, false), 20);
}

TEST(random_code_jit)
{
    for (int i = 0; i < 150; i++) CHECK_EQ(run_one(i & 1, true), 20);
}
