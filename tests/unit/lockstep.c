/* Lockstep differential test of the two back ends: each bare-metal guest program found in
 * $BUILD (tests/cpu/ *.elf, the differential-test guest, the MIPS loops) runs on two CPUs, one
 * interpreting the IR and one running generated x86-64 code, slice by slice with the same random
 * budgets (so both stop at the same block boundary, with chaining and lookups exercised in
 * between). After every slice the whole CPU state must match, and guest RAM every few slices.
 * Prints PASS/FAIL/SKIP lines like the other suites (see tests/run). */
#include <glob.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#ifdef BACKEND_HAVE_X86_64
#include "backend/x86_64/x64_jit.h"
#endif
#include "boot/boot.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"

#define RAM_SIZE        (48u << 20)
#define MAX_INSNS       40000000ull /* per program: the MIPS loops would run for 500M */
#define RAM_CHECK_EVERY 256         /* slices */

typedef struct Side {
    AddressSpace mem, io;
    Clock clock;
    uint8_t *ram;
    CPUX86State *env;
    int exit_status;            /* isa-debug-exit status, or -1 */
    uint64_t out_hash, out_len; /* debug console output */
} Side;

static uint64_t side_icount(void *opaque)
{
    return x86_cpu_icount(opaque);
}

static uint32_t port_read(void *opaque, uint64_t off, unsigned size)
{
    return 0xffffffffu;
}

static void debugcon_write(void *opaque, uint64_t off, uint32_t v, unsigned size)
{
    Side *s = opaque;
    s->out_hash = (s->out_hash ^ (v & 0xff)) * 0x100000001b3ull;
    s->out_len++;
}

static void exit_write(void *opaque, uint64_t off, uint32_t v, unsigned size)
{
    Side *s = opaque;
    s->exit_status = (int)((v << 1) | 1) & 0xff;
    x86_cpu_exit(s->env);
}

static const MemOps debugcon_ops = {port_read, debugcon_write, 1, 1};
static const MemOps exit_ops = {port_read, exit_write, 1, 4};

static bool side_init(Side *s, const char *elf, bool jit, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->exit_status = -1;
    as_init(&s->mem, "mem", 1ull << 32);
    as_init(&s->io, "io", 0x10000);
    s->ram = calloc(1, RAM_SIZE);
    as_add_ram(&s->mem, "ram", 0, RAM_SIZE, s->ram);
    as_add_mmio(&s->io, "debugcon", 0xe9, 1, &debugcon_ops, s);
    as_add_mmio(&s->io, "debug-exit", 0xf4, 4, &exit_ops, s);
    clock_init(&s->clock, true, 0);
    s->env = x86_cpu_new(&s->mem, &s->io, &s->clock, jit);
    s->clock.insn_count = side_icount;
    s->clock.insn_opaque = s->env;
    BootMemMap map = {.ram_size = RAM_SIZE, .ne820 = 2};
    map.e820[0] = (E820Entry){0, LOW_RAM_END, E820_RAM};
    map.e820[1] = (E820Entry){HIGH_RAM_START, RAM_SIZE - HIGH_RAM_START, E820_RAM};
    BootImage img;
    if (!boot_open(&img, elf, NULL, "", &map, err, errlen)) return false;
    BootEntry e;
    boot_load(&img, s->ram, &e);
    boot_close(&img);
    x86_cpu_setup_flat32(s->env, e.eip, e.cs, e.ds, e.gdt_base, e.gdt_limit);
    s->env->regs[R_EAX] = e.eax;
    s->env->regs[R_EBX] = e.ebx;
    s->env->regs[R_ESI] = e.esi;
    return true;
}

static void side_free(Side *s)
{
    x86_cpu_free(s->env);
    as_destroy(&s->mem);
    as_destroy(&s->io);
    free(s->ram);
}

static int side_slice(Side *s, int32_t budget)
{
    CPUX86State *env = s->env;
    x86_cpu_start_slice(env, budget);
    int r = x86_cpu_exec(env);
    x86_cpu_end_slice(env);
    return r;
}

/* First difference between the two CPU states, described in buf; false if none. */
/* Set while the JIT's code buffer is flushed more often than the interpreter's arena: a flush
 * breaks chains, so the run loop runs more often on one side and clears the interrupt shadow
 * (inhibit_irq) at other block boundaries. That is not a difference in guest behaviour. */
static bool chains_differ;

static bool state_diff(const CPUX86State *a, const CPUX86State *b, char *buf, size_t n)
{
#define CMP(field)                                                                                 \
    do {                                                                                           \
        if (memcmp(&a->field, &b->field, sizeof a->field)) {                                       \
            snprintf(buf, n, "%s differs", #field);                                                \
            return true;                                                                           \
        }                                                                                          \
    } while (0)
    static const char *const names[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (int i = 0; i < 8; i++) {
        if (a->regs[i] != b->regs[i]) {
            snprintf(buf, n, "%s: interp %08x, jit %08x", names[i], a->regs[i], b->regs[i]);
            return true;
        }
    }
    if (a->eip != b->eip) {
        snprintf(buf, n, "eip: interp %08x, jit %08x", a->eip, b->eip);
        return true;
    }
    uint32_t fa = x86_get_eflags((CPUX86State *)a), fb = x86_get_eflags((CPUX86State *)b);
    if (fa != fb) {
        snprintf(buf, n, "eflags: interp %08x, jit %08x", fa, fb);
        return true;
    }
    CMP(cc_op);
    CMP(cc_dst);
    CMP(cc_src);
    CMP(cc_src2);
    CMP(df);
    CMP(seg_base);
    CMP(seg_bounds);
    CMP(cs_limit);
    CMP(budget);
    CMP(hflags);
    CMP(interrupt_request);
    CMP(halted);
    if (!chains_differ) CMP(inhibit_irq);
    CMP(single_insn_next);
    CMP(icount);
    for (int s = 0; s < SEG_COUNT; s++) {
        CMP(segs[s].base);
        CMP(segs[s].limit);
        CMP(segs[s].flags);
        CMP(segs[s].sel);
    }
    CMP(gdt.base);
    CMP(gdt.limit);
    CMP(idt.base);
    CMP(idt.limit);
    CMP(cr);
    CMP(dr);
    CMP(a20_mask);
    CMP(sysenter_cs);
    CMP(sysenter_esp);
    CMP(sysenter_eip);
    CMP(tsc_offset);
    CMP(fpu.fcw);
    CMP(fpu.fsw);
    CMP(fpu.top);
    CMP(fpu.tag_empty);
    CMP(fpu.fip);
    CMP(fpu.fdp);
    for (int i = 0; i < 8; i++) {
        CMP(fpu.st[i].mant);
        CMP(fpu.st[i].se);
    }
    CMP(mxcsr);
    CMP(xmm);
    CMP(exc_in_progress);
    return false;
#undef CMP
}

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Runs one program in lockstep; prints its PASS/FAIL/SKIP line. Returns false on FAIL. */
static bool lockstep(const char *elf, const char *name)
{
    Side a, b;
    char err[256];
    if (!side_init(&a, elf, false, err, sizeof err)) {
        printf("SKIP unit.lockstep.%s: %s\n", name, err);
        return true;
    }
    side_init(&b, elf, true, err, sizeof err);
    if (a.env->backend == b.env->backend) {
        printf("SKIP unit.lockstep.%s: no x86-64 back end on this host\n", name);
        side_free(&a);
        side_free(&b);
        return true;
    }
    uint64_t seed = 0x9e3779b97f4a7c15ull, slices = 0, idle = 0;
    bool ok = true;
    char why[256] = "";
    while (a.env->icount < MAX_INSNS) {
        /* Single blocks a quarter of the time, longer chains otherwise. */
        uint64_t r = rng_next(&seed);
        int32_t budget = (r & 3) == 0 ? 1 : (int32_t)(1 + (r >> 8) % 4000);
        uint64_t before = a.env->icount;
        int ra = side_slice(&a, budget);
        int rb = side_slice(&b, budget);
        slices++;
        /* Halted, exited, shut down (triple fault), or faulting in a loop without retiring. */
        idle = a.env->icount == before ? idle + 1 : 0;
        bool done = a.env->halted || a.exit_status >= 0 || ra == X86_EXIT_SHUTDOWN || idle > 1000;
        if (ra != rb) {
            snprintf(why, sizeof why, "run loop exit: interp %d, jit %d", ra, rb);
            ok = false;
        } else if (state_diff(a.env, b.env, why, sizeof why)) {
            ok = false;
        } else if (a.exit_status != b.exit_status || a.out_hash != b.out_hash) {
            snprintf(why, sizeof why, "output differs (%" PRIu64 " vs %" PRIu64 " bytes)",
                     a.out_len, b.out_len);
            ok = false;
        } else if ((done || slices % RAM_CHECK_EVERY == 0) && memcmp(a.ram, b.ram, RAM_SIZE)) {
            size_t k = 0;
            while (a.ram[k] == b.ram[k])
                k++;
            snprintf(why, sizeof why, "RAM differs at %08zx: interp %02x, jit %02x", k, a.ram[k],
                     b.ram[k]);
            ok = false;
        }
        if (!ok) {
            printf("FAIL unit.lockstep.%s: slice %" PRIu64 " (budget %d) ending at eip %08x after "
                   "%" PRIu64 " instructions: %s\n",
                   name, slices, (int)budget, a.env->eip, a.env->icount, why);
            break;
        }
        if (done) break;
    }
    if (ok)
        printf("PASS unit.lockstep.%s: %" PRIu64 " slices, %" PRIu64 " instructions, %" PRIu64
               " flushes\n",
               name, slices, a.env->icount, b.env->tbs->nflushes);
    side_free(&a);
    side_free(&b);
    return ok;
}

/* The JIT configurations: the default, and a code buffer small enough to be flushed over and
 * over (retranslation, chains and lookups across flushes) that is written through mprotect. */
static bool set_config(int config)
{
#ifdef BACKEND_HAVE_X86_64
    jit_code_size = config ? 96u << 10 : 64u << 20;
    jit_mem_mode = config ? JITMEM_MPROTECT : JITMEM_DUAL;
    chains_differ = config != 0;
    return true;
#else
    return config == 0;
#endif
}

/* Runs the programs matching pattern (a glob with %s for $BUILD); returns the failures. */
static int run_programs(const char *build, const char *pattern, const char *prefix,
                        const char *filter, int *found)
{
    char pat[512];
    snprintf(pat, sizeof pat, pattern, build);
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0) return 0;
    int failures = 0;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        const char *path = g.gl_pathv[i];
        const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        char name[160];
        snprintf(name, sizeof name, "%s.%.*s", prefix, (int)(strlen(base) - 4), base);
        if (filter && !strstr(name, filter)) continue;
        /* The CPUID backdoor hands the guest host time, which differs between the two runs. */
        if (!strcmp(base, "backdoor.elf")) continue;
        (*found)++;
        failures += !lockstep(path, name);
    }
    globfree(&g);
    return failures;
}

int main(int argc, char **argv)
{
    const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
    const char *filter = argc > 1 ? argv[1] : NULL;
    setvbuf(stdout, NULL, _IOLBF, 0);
    static const char *const patterns[][2] = {
        {"%s/tests/cpu/*.elf", "cpu"},
        {"%s/tests/diff/*.elf", "diff"},
        {"%s/bench/mips/*.elf", "mips"},
    };
    int failures = 0, found = 0;
    for (int config = 0; config < 2 && set_config(config); config++) {
        for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "%s%s", config ? "smallcode." : "", patterns[p][1]);
            failures += run_programs(build, patterns[p][0], prefix, filter, &found);
        }
    }
    if (!found) printf("SKIP unit.lockstep: no guest programs in %s (make cpu-tests)\n", build);
    return failures != 0;
}
