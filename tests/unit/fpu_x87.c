/* Unit tests of the x87 helpers (cpu/x86/helpers/fpu.c) on a CPU state with stubbed memory and
 * exceptions: layouts of FNSTENV/FNSAVE/FXSAVE images, #MF and FERR#, precise faults, and on an
 * x86-64 host a differential test against the host's own x87 (SDM vol. 1 ch. 8). */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <sys/mman.h>
#endif

#include "cpu/x86/fpu.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "test.h"
#include "util/alloc.h"

/* ---- stubs of the CPU services the helpers use ------------------------------------------------
 * These replace the real ones from the library, so only fpu.c, float80.c and decode.c are linked
 * in: the test does not depend on the rest of the CPU. */

#define TMEM_SIZE 0x10000u
static uint8_t tmem[TMEM_SIZE];
static uint32_t fault_lo = 1, fault_hi = 0; /* accesses touching [lo, hi] raise #PF */
static jmp_buf test_jb;
static int test_exc;
static int test_err;
#define EXIT_LOOP 1000

static void check_fault(CPUX86State *env, uint32_t lin, unsigned n)
{
    if (lin <= fault_hi && lin + n - 1 >= fault_lo) x86_raise_exception_err(env, EXCP_PF, 2);
}

static uint32_t ld(CPUX86State *env, uint32_t lin, unsigned n)
{
    check_fault(env, lin, n);
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint32_t)tmem[(lin + i) % TMEM_SIZE] << (8 * i);
    return v;
}

static void st(CPUX86State *env, uint32_t lin, uint32_t v, unsigned n)
{
    check_fault(env, lin, n);
    for (unsigned i = 0; i < n; i++)
        tmem[(lin + i) % TMEM_SIZE] = (uint8_t)(v >> (8 * i));
}

uint32_t x86_ldub(CPUX86State *env, uint32_t lin, int mmu)
{
    return ld(env, lin, 1);
}
uint32_t x86_lduw(CPUX86State *env, uint32_t lin, int mmu)
{
    return ld(env, lin, 2);
}
uint32_t x86_ldl(CPUX86State *env, uint32_t lin, int mmu)
{
    return ld(env, lin, 4);
}
void x86_stb(CPUX86State *env, uint32_t lin, uint32_t v, int mmu)
{
    st(env, lin, v, 1);
}
void x86_stw(CPUX86State *env, uint32_t lin, uint32_t v, int mmu)
{
    st(env, lin, v, 2);
}
void x86_stl(CPUX86State *env, uint32_t lin, uint32_t v, int mmu)
{
    st(env, lin, v, 4);
}

void softmmu_probe(CPUX86State *env, uint32_t addr, unsigned size, int access, unsigned mmu_idx)
{
    check_fault(env, addr, size);
}

_Noreturn void x86_raise_exception_err(CPUX86State *env, int vector, uint32_t error_code)
{
    test_exc = vector;
    test_err = (int)error_code;
    longjmp(test_jb, 1);
}

_Noreturn void x86_raise_exception(CPUX86State *env, int vector)
{
    x86_raise_exception_err(env, vector, 0);
}

void x86_restore_state(CPUX86State *env) {}

_Noreturn void x86_cpu_loop_exit(CPUX86State *env)
{
    test_exc = EXIT_LOOP;
    longjmp(test_jb, 1);
}

uint32_t x86_cc_eflags(CPUX86State *env)
{
    return env->cc_op == CC_OP_EFLAGS ? env->cc_src & CC_MASK : 0;
}

/* ---- running helpers ---- */

/* Calls a helper; returns -1, or the exception vector it raised (EXIT_LOOP for a loop exit). */
static int run(CPUX86State *env, const IrHelper *h, uint32_t a, uint32_t b, uint32_t c)
{
    test_exc = -1;
    if (setjmp(test_jb) == 0) h->fn(env, a, b, c);
    return test_exc;
}

/* Decodes one x87 instruction (32-bit code) and executes it with memory operand at lin. */
static int exec_insn(CPUX86State *env, const uint8_t *bytes, size_t n, uint32_t lin)
{
    X86Insn in;
    int len = x86_decode(&in, bytes, n, 1);
    if (len <= 0 || in.mnem != X86_FPU) {
        printf("# cannot decode %02x %02x\n", bytes[0], n > 1 ? bytes[1] : 0);
        exit(2);
    }
    return run(env, &hlp_fpu, lin, x86_fpu_insn_desc(&in, 0), 0x1000);
}

#define X(...)                                                                                     \
    exec_insn(env, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), 0)
#define XM(lin, ...)                                                                               \
    exec_insn(env, (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}), lin)

static CPUX86State *new_env(void)
{
    CPUX86State *env = xzalloc_aligned(_Alignof(CPUX86State), sizeof *env);
    env->hflags = HF_PE | HF_CS32;
    env->cr[0] = CR0_PE | CR0_ET | CR0_NE;
    env->eflags = 0x2;
    env->cc_op = CC_OP_EFLAGS;
    env->segs[R_CS].sel = 0x08;
    env->segs[R_DS].sel = 0x10;
    x86_cpu_init_fpu(env);
    memset(tmem, 0, sizeof tmem);
    fault_lo = 1, fault_hi = 0;
    return env;
}

static uint16_t fsw(CPUX86State *env)
{
    return x86_fpu_status_word(&env->fpu);
}
static Float80 st_i(CPUX86State *env, unsigned i)
{
    return env->fpu.st[(env->fpu.top + i) & 7];
}
static uint16_t get16(uint32_t a)
{
    return (uint16_t)(tmem[a] | tmem[a + 1] << 8);
}
static uint32_t get32(uint32_t a)
{
    return get16(a) | (uint32_t)get16(a + 2) << 16;
}
static void put32(uint32_t a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        tmem[a + i] = (uint8_t)(v >> (8 * i));
}

/* ---- targeted tests ---- */

TEST(init_state)
{
    CPUX86State *env = new_env();
    CHECK_EQ(env->fpu.fcw, 0x037f);
    CHECK_EQ(fsw(env), 0);
    CHECK_EQ(x86_fpu_tag_word(&env->fpu), 0xffff);
    CHECK_EQ(x86_fpu_abridged_tags(&env->fpu), 0);
    free(env);
}

TEST(push_pop_and_tags)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8); /* fld1 */
    X(0xd9, 0xee); /* fldz */
    CHECK_EQ(fsw(env) >> 11 & 7, 6);
    CHECK_EQ(st_i(env, 0).se, 0);
    CHECK_EQ(st_i(env, 1).se, 0x3fff);
    /* R7 = 1.0 (valid), R6 = 0 (zero), the rest empty. */
    CHECK_EQ(x86_fpu_tag_word(&env->fpu), 0x1fff);
    CHECK_EQ(x86_fpu_abridged_tags(&env->fpu), 0xc0);
    X(0xde, 0xc1); /* faddp st1, st0 */
    CHECK_EQ(fsw(env) >> 11 & 7, 7);
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    CHECK_EQ(st_i(env, 0).mant, 1ull << 63);
    free(env);
}

TEST(reversed_forms)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8); /* fld1: ST1 = 1 */
    X(0xd9, 0xe8); /* fld1 */
    X(0xd8, 0xc0); /* fadd st0, st0: ST0 = 2 */
    X(0xdc, 0xe9); /* fsub st1, st0 (DC E8+i): ST1 = ST1 - ST0 = -1 */
    CHECK_EQ(st_i(env, 1).se, 0xbfff);
    X(0xdc, 0xe1); /* fsubr st1, st0 (DC E0+i): ST1 = ST0 - ST1 = 3 */
    CHECK_EQ(st_i(env, 1).se, 0x4000);
    CHECK_EQ(st_i(env, 1).mant, 0xc000000000000000ull);
    X(0xde, 0xf9); /* fdivp st1, st0 (DE F8+i): ST1 = ST1 / ST0 = 1.5, pop */
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    CHECK_EQ(st_i(env, 0).mant, 0xc000000000000000ull);
    free(env);
}

TEST(stack_underflow_masked_and_unmasked)
{
    CPUX86State *env = new_env();
    X(0xd8, 0xc1);                     /* fadd st0, st1 on an empty stack */
    CHECK_EQ(fsw(env) & 0x02ff, 0x41); /* IE SF, C1 = 0, no ES */
    CHECK(f80_same(st_i(env, 0), F80_INDEFINITE));
    CHECK_EQ(x86_fpu_tag_word(&env->fpu) & 3, 2); /* R0 now holds the indefinite */
    free(env);

    env = new_env();
    env->fpu.fcw = 0x037e; /* IE unmasked */
    X(0xd8, 0xc1);
    CHECK_EQ(fsw(env), 0x8000 | 0x80 | 0x41);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    /* The next waiting instruction raises #MF, a no-wait one does not. */
    CHECK_EQ(X(0xd9, 0xe8), EXCP_MF);
    CHECK_EQ(X(0xdb, 0xe2), -1); /* fnclex */
    CHECK_EQ(fsw(env), 0);
    CHECK_EQ(X(0xd9, 0xe8), -1);
    free(env);
}

TEST(stack_overflow)
{
    CPUX86State *env = new_env();
    for (int i = 0; i < 8; i++)
        X(0xd9, 0xe8);
    CHECK_EQ(env->fpu.tag_empty, 0);
    X(0xd9, 0xee);                      /* fldz into a full stack */
    CHECK_EQ(fsw(env) & 0x02ff, 0x241); /* IE SF C1 */
    CHECK(f80_same(st_i(env, 0), F80_INDEFINITE));
    free(env);
}

TEST(fnstsw_ax_and_compare)
{
    CPUX86State *env = new_env();
    env->regs[R_EAX] = 0x12345678;
    X(0xd9, 0xe8); /* fld1 */
    X(0xd9, 0xee); /* fldz */
    X(0xd8, 0xd1); /* fcom st1: 0 < 1 -> C0 */
    X(0xdf, 0xe0); /* fnstsw ax */
    CHECK_EQ(env->regs[R_EAX], 0x12340000u | 0x3100);
    X(0xdb, 0xf1); /* fcomi st0, st1 */
    CHECK_EQ(env->cc_op, CC_OP_EFLAGS);
    CHECK_EQ(env->cc_src, CF_MASK);
    X(0xde, 0xd9); /* fcompp */
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    free(env);
}

TEST(fcmov)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8); /* fld1 */
    X(0xd9, 0xee); /* fldz */
    env->cc_op = CC_OP_EFLAGS;
    env->cc_src = 0;
    X(0xda, 0xc1); /* fcmovb st0, st1: CF = 0, no move */
    CHECK_EQ(st_i(env, 0).se, 0);
    X(0xdb, 0xc1); /* fcmovnb: moves */
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    free(env);
}

TEST(fptan_pushes_one)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xee); /* fldz */
    X(0xd9, 0xf2); /* fptan */
    CHECK_EQ(fsw(env) >> 11 & 7, 6);
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    CHECK_EQ(st_i(env, 1).se, 0);
    /* Out of range: C2 set and the stack unchanged. */
    X(0xdd, 0xd8); /* fstp st0 */
    X(0xdd, 0xd8);
    env->fpu.fsw = 0;
    put32(0x100, 0x5f800000); /* 2^64 */
    XM(0x100, 0xd9, 0x06);    /* fld dword [esi] */
    X(0xd9, 0xf2);
    CHECK_EQ(fsw(env) & 0x0400, 0x0400);
    CHECK_EQ(fsw(env) >> 11 & 7, 7);
    CHECK_EQ(st_i(env, 0).se, 0x403f);
    free(env);
}

TEST(fsincos_order)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xee); /* fldz */
    X(0xd9, 0xfb); /* fsincos: ST0 = cos 0 = 1, ST1 = sin 0 = 0 */
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    CHECK_EQ(st_i(env, 1).se, 0);
    free(env);
}

TEST(fxtract_and_fprem)
{
    CPUX86State *env = new_env();
    put32(0x100, 0x41400000); /* 12.0f */
    XM(0x100, 0xd9, 0x06);
    X(0xd9, 0xf4); /* fxtract: ST0 = 1.5, ST1 = 3 */
    CHECK_EQ(st_i(env, 0).se, 0x3fff);
    CHECK_EQ(st_i(env, 1).se, 0x4000);
    CHECK_EQ(st_i(env, 1).mant, 0xc000000000000000ull);
    /* fprem of 3 by 1.5 after swapping: quotient 2 -> C1 = Q0 = 0, C3 = Q1 = 1 */
    X(0xd9, 0xc9); /* fxch st1 */
    X(0xd9, 0xf8); /* fprem */
    CHECK_EQ(fsw(env) & 0x4700, 0x4000);
    CHECK_EQ(st_i(env, 0).se, 0);
    free(env);
}

TEST(store_formats)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xeb);         /* fldpi */
    XM(0x200, 0xd9, 0x16); /* fst dword */
    CHECK_EQ(get32(0x200), 0x40490fdb);
    XM(0x208, 0xdd, 0x16); /* fst qword */
    CHECK_EQ(get32(0x208), 0x54442d18);
    CHECK_EQ(get32(0x20c), 0x400921fb);
    CHECK_EQ(fsw(env) & 0x20, 0x20); /* PE */
    XM(0x210, 0xdb, 0x16);           /* fist dword: 3 */
    CHECK_EQ(get32(0x210), 3);
    XM(0x220, 0xdf, 0x36); /* fbstp: 3 */
    CHECK_EQ(get32(0x220), 3);
    CHECK_EQ(tmem[0x229], 0);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    /* Empty stack, IE masked: the integer indefinite. */
    XM(0x230, 0xdf, 0x16); /* fist word */
    CHECK_EQ(get16(0x230), 0x8000);
    CHECK_EQ(fsw(env) & 0x41, 0x41);
    free(env);
}

TEST(unmasked_store_overflow_stores_nothing)
{
    CPUX86State *env = new_env();
    env->fpu.fcw = 0x0377; /* OE unmasked */
    put32(0x100, 0x7f7fffff);
    XM(0x100, 0xd9, 0x06);
    X(0xd8, 0xc8); /* fmul st0, st0: fits in 80 bits */
    CHECK_EQ(fsw(env) & 0x08, 0);
    put32(0x200, 0xdeadbeef);
    XM(0x200, 0xd9, 0x1e); /* fstp dword: overflows */
    CHECK_EQ(get32(0x200), 0xdeadbeef);
    CHECK_EQ(fsw(env) & 0x88, 0x88);
    CHECK_EQ(env->fpu.tag_empty, 0x7f); /* not popped */
    free(env);
}

TEST(page_fault_leaves_state)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8);
    X(0xd9, 0xe8);
    X87State before = env->fpu;
    fault_lo = 0x300, fault_hi = 0x3ff;
    CHECK_EQ(XM(0x2fc, 0xdb, 0x3e), EXCP_PF); /* fstp tword across into the faulting page */
    CHECK_EQ(get32(0x2fc), 0);                /* nothing written */
    CHECK(memcmp(&before, &env->fpu, sizeof before) == 0);
    CHECK_EQ(XM(0x300, 0xdd, 0x36), EXCP_PF); /* fnsave */
    CHECK(memcmp(&before, &env->fpu, sizeof before) == 0);
    CHECK_EQ(XM(0x2f0, 0xd9, 0x06), -1); /* fld dword below the page: fine */
    free(env);
}

TEST(pointers)
{
    CPUX86State *env = new_env();
    env->segs[R_DS].base = 0x40; /* lin 0x180 is offset 0x140 */
    XM(0x180, 0xd9, 0x06);       /* fld dword [esi] */
    CHECK_EQ(env->fpu.fip, 0x1000);
    CHECK_EQ(env->fpu.fcs, 0x08);
    CHECK_EQ(env->fpu.fop, 0x106);
    CHECK_EQ(env->fpu.fdp, 0x140);
    CHECK_EQ(env->fpu.fds, 0x10);
    /* Control instructions leave the pointers alone. */
    env->fpu.fip = 0x55;
    X(0xd9, 0xf7); /* fincstp */
    X(0xd9, 0xd0); /* fnop */
    CHECK_EQ(env->fpu.fip, 0x55);
    X(0xd9, 0xe0); /* fchs */
    CHECK_EQ(env->fpu.fop, 0x1e0);
    CHECK_EQ(env->fpu.fdp, 0x140);
    free(env);
}

TEST(fnstenv_layouts)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8);
    env->fpu.fip = 0x12345;
    env->fpu.fcs = 0x1234;
    env->fpu.fop = 0x5e8;
    env->fpu.fdp = 0x6789a;
    env->fpu.fds = 0x5678;
    env->fpu.fcw = 0x0372;
    XM(0x100, 0xd9, 0x36); /* fnstenv, 32-bit protected */
    CHECK_EQ(get32(0x100), 0xffff0372);
    CHECK_EQ(get32(0x104), 0xffff3800);
    CHECK_EQ(get32(0x108), 0xffff3fff);
    CHECK_EQ(get32(0x10c), 0x12345);
    CHECK_EQ(get32(0x110), 0x05e81234);
    CHECK_EQ(get32(0x114), 0x6789a);
    CHECK_EQ(get32(0x118), 0xffff5678);
    CHECK_EQ(env->fpu.fcw, 0x037f); /* all exceptions masked afterwards */

    /* 32-bit real mode: linear pointers. */
    env->hflags = 0;
    env->fpu.fip = 0x0005, env->fpu.fcs = 0x1234; /* 0x12345 */
    env->fpu.fdp = 0x0010, env->fpu.fds = 0xf000; /* 0xf0010 */
    XM(0x200, 0xd9, 0x36);
    CHECK_EQ(get32(0x20c), 0xffff2345);
    CHECK_EQ(get32(0x210), 0x000015e8);
    CHECK_EQ(get32(0x214), 0xffff0010);
    CHECK_EQ(get32(0x218), 0x0000f000);
    /* Loading it back keeps the linear addresses with null selectors. */
    XM(0x200, 0xd9, 0x26); /* fldenv */
    CHECK_EQ(env->fpu.fip, 0x12345);
    CHECK_EQ(env->fpu.fcs, 0);
    CHECK_EQ(env->fpu.fdp, 0xf0010);
    CHECK_EQ(env->fpu.fop, 0x5e8);

    /* 16-bit real mode (operand-size prefix in 32-bit code). */
    XM(0x300, 0x66, 0xd9, 0x36);
    CHECK_EQ(get16(0x300), 0x037f);
    CHECK_EQ(get16(0x304), 0x3fff);
    CHECK_EQ(get16(0x306), 0x2345);
    CHECK_EQ(get16(0x308), 0x15e8);
    CHECK_EQ(get16(0x30a), 0x0010);
    CHECK_EQ(get16(0x30c), 0xf000);
    CHECK_EQ(tmem[0x30e], 0);

    /* 16-bit protected mode. */
    env->hflags = HF_PE | HF_CS32;
    env->fpu.fip = 0x1111, env->fpu.fcs = 0x2222, env->fpu.fdp = 0x3333, env->fpu.fds = 0x4444;
    XM(0x400, 0x66, 0xd9, 0x36);
    CHECK_EQ(get16(0x406), 0x1111);
    CHECK_EQ(get16(0x408), 0x2222);
    CHECK_EQ(get16(0x40a), 0x3333);
    CHECK_EQ(get16(0x40c), 0x4444);
    free(env);
}

TEST(fldenv_recomputes_es_and_tags)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8);
    XM(0x100, 0xd9, 0x36); /* fnstenv */
    put32(0x100, 0x037b);  /* ZE unmasked */
    put32(0x104, 0x3804);  /* ZE set, TOP 7, no ES in the image */
    put32(0x108, 0x0000);  /* all "valid": tags are recomputed from the contents */
    XM(0x100, 0xd9, 0x26);
    CHECK_EQ(fsw(env), 0x8000 | 0x3800 | 0x80 | 0x04);
    CHECK_EQ(env->fpu.tag_empty, 0);
    CHECK_EQ(X(0xd9, 0xe8), EXCP_MF);
    free(env);
}

TEST(fnsave_frstor_roundtrip)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xeb); /* fldpi */
    X(0xd9, 0xe8); /* fld1 */
    X87State before = env->fpu;
    XM(0x100, 0xdd, 0x36); /* fnsave */
    CHECK_EQ(env->fpu.fcw, 0x037f);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    CHECK_EQ(fsw(env), 0);
    CHECK_EQ(get16(0x100 + 28 + 8), 0x3fff); /* ST0 = 1.0 first */
    CHECK_EQ(get16(0x100 + 38 + 8), 0x4000); /* ST1 = pi */
    XM(0x100, 0xdd, 0x26);                   /* frstor */
    CHECK_EQ(env->fpu.top, before.top);
    CHECK_EQ(env->fpu.tag_empty, before.tag_empty);
    CHECK(f80_same(st_i(env, 0), before.st[before.top]));
    CHECK(f80_same(st_i(env, 1), before.st[(before.top + 1) & 7]));
    free(env);
}

TEST(fxsave_fxrstor)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe8);
    X(0xd9, 0xee);
    env->mxcsr = 0x1f80;
    env->xmm[3].d[2] = 0xcafef00d;
    CHECK_EQ(run(env, &hlp_fxsave, 0x1008, 0, 0), EXCP_GP);
    CHECK_EQ(test_err, 0);
    CHECK_EQ(run(env, &hlp_fxsave, 0x1000, 0, 0), -1);
    CHECK_EQ(get16(0x1000), 0x037f);
    CHECK_EQ(get16(0x1002), 0x3000);
    CHECK_EQ(tmem[0x1004], 0xc0);
    CHECK_EQ(get32(0x1018), 0x1f80);
    CHECK_EQ(get32(0x101c), 0xffbf);
    CHECK_EQ(get16(0x1020 + 8), 0);      /* ST0 = +0 */
    CHECK_EQ(get16(0x1030 + 8), 0x3fff); /* ST1 = 1.0 */
    CHECK_EQ(get32(0x10a0 + 3 * 16 + 8), 0xcafef00d);
    X(0xdb, 0xe3); /* fninit */
    env->xmm[3].d[2] = 0;
    CHECK_EQ(run(env, &hlp_fxrstor, 0x1000, 0, 0), -1);
    CHECK_EQ(env->fpu.tag_empty, 0x3f);
    CHECK_EQ(env->fpu.top, 6);
    CHECK_EQ(st_i(env, 1).se, 0x3fff);
    CHECK_EQ(env->xmm[3].d[2], 0xcafef00d);
    /* Reserved MXCSR bits: #GP(0) and nothing restored. */
    put32(0x1018, 0x10000);
    X(0xdb, 0xe3);
    CHECK_EQ(run(env, &hlp_fxrstor, 0x1000, 0, 0), EXCP_GP);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    free(env);
}

static int ferr_level = -1, ferr_calls;
static void ferr_cb(void *opaque, int level)
{
    ferr_level = level;
    ferr_calls++;
}

TEST(ferr_ms_dos_mode)
{
    CPUX86State *env = new_env();
    x86_fpu_set_ferr_handler(env, ferr_cb, NULL);
    env->cr[0] &= ~CR0_NE;
    env->fpu.fcw = 0x037b; /* ZE unmasked */
    X(0xd9, 0xe8);
    X(0xd9, 0xee);
    X(0xde, 0xf1); /* fdivrp st1, st0: ST1 = 0 / 1 */
    CHECK_EQ(ferr_calls, 0);
    X(0xd9, 0xe8);
    X(0xd9, 0xee);
    X(0xde, 0xf9); /* fdivp st1, st0: ST1 = 1 / 0 -> ZE unmasked */
    CHECK_EQ(ferr_level, 1);
    CHECK_EQ(ferr_calls, 1);
    /* No interrupt pending: the next waiting instruction goes ahead (as with IGNNE#). */
    CHECK_EQ(X(0xd9, 0xe8), -1);
    /* An interrupt pending with IF = 1: taken before the waiting instruction. */
    env->interrupt_request = INT_REQ_HARD;
    env->eflags |= IF_MASK;
    CHECK_EQ(X(0xd9, 0xe8), EXIT_LOOP);
    CHECK_EQ(run(env, &hlp_fwait, 0, 0, 0), EXIT_LOOP);
    env->interrupt_request = 0;
    CHECK_EQ(X(0xdb, 0xe2), -1); /* fnclex releases FERR# */
    CHECK_EQ(ferr_level, 0);
    CHECK_EQ(ferr_calls, 2);
    x86_fpu_set_ferr_handler(env, NULL, NULL);
    free(env);
}

TEST(fldcw_unmasking_pending_flag)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xee);
    X(0xd9, 0xe8);
    X(0xde, 0xf1); /* 1/0 with ZE masked: inf, ZE */
    CHECK_EQ(fsw(env) & 0x84, 0x04);
    put32(0x100, 0x037b);
    XM(0x100, 0xd9, 0x2e); /* fldcw: unmask ZE -> ES */
    CHECK_EQ(fsw(env) & 0x8084, 0x8084);
    CHECK_EQ(run(env, &hlp_fwait, 0, 0, 0), EXCP_MF);
    put32(0x100, 0x0000);
    XM(0x100, 0xd9, 0x3e); /* fnstcw: no-wait */
    CHECK_EQ(get16(0x100), 0x037b);
    put32(0x100, 0x0000);
    CHECK_EQ(XM(0x100, 0xd9, 0x2e), EXCP_MF); /* fldcw is a waiting instruction */
    free(env);
}

TEST(fldcw_reserved_bits)
{
    CPUX86State *env = new_env();
    put32(0x100, 0xffff);
    XM(0x100, 0xd9, 0x2e);
    CHECK_EQ(env->fpu.fcw, 0x1f7f);
    put32(0x100, 0x0000);
    XM(0x100, 0xd9, 0x2e);
    CHECK_EQ(env->fpu.fcw, 0x0040);
    free(env);
}

TEST(fxam_empty_and_ffree)
{
    CPUX86State *env = new_env();
    X(0xd9, 0xe5); /* fxam on empty: C3 C0 */
    CHECK_EQ(fsw(env) & 0x4700, 0x4100);
    X(0xd9, 0xe8);
    X(0xd9, 0xe0); /* fchs: -1 */
    X(0xd9, 0xe5); /* normal, negative: C2 C1 */
    CHECK_EQ(fsw(env) & 0x4700, 0x0600);
    X(0xdd, 0xc0); /* ffree st0 */
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    CHECK_EQ(fsw(env) >> 11 & 7, 7);
    X(0xd9, 0xe8);
    X(0xdf, 0xc0); /* ffreep st0 */
    CHECK_EQ(fsw(env) >> 11 & 7, 7);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    free(env);
}

/* ---- differential test against the host x87 ------------------------------------------------ */

#if defined(__x86_64__)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static Float80 rand_f80(void)
{
    bool s = rnd() & 1;
    uint64_t m = rnd();
    switch (rnd() % 19) {
    case 16: return f80_make(s, 0, m | 1ull << 63);                        /* pseudo-denormal */
    case 17: return f80_make(s, (int)(rnd() % 0x7fff), m & ~(1ull << 63)); /* unnormal */
    case 18: return f80_make(s, 0x7fff, m & ~(1ull << 63)); /* pseudo-NaN, pseudo-infinity */
    case 0: return f80_make(s, 0, 0);
    case 1: return f80_make(s, 0x3fff, 1ull << 63);
    case 2: return f80_from_i64((int64_t)(rnd() % 2000) - 1000);
    case 3: return f80_make(s, 0x7fff, 1ull << 63);
    case 4: return f80_make(s, 0x7fff, m | 3ull << 62);
    case 5: return f80_make(s, 0x7fff, ((m & ~(3ull << 62)) | 1) | 1ull << 63);
    case 6: return f80_make(s, 0, (m >> (rnd() % 64)) & ~(1ull << 63));
    case 7: return F80_INDEFINITE;
    case 8: return f80_make(s, 0x7ffe - (int)(rnd() % 64), m | 1ull << 63);
    case 9: return f80_make(s, 1 + (int)(rnd() % 64), m | 1ull << 63);
    case 10: return f80_make(s, 0x3fff + 1023 + (int)(rnd() % 5) - 2, m | 1ull << 63);
    case 11: return f80_make(s, 0x3fff - 1022 - (int)(rnd() % 60), m | 1ull << 63);
    case 12: return f80_make(s, 0x3fff - 126 - (int)(rnd() % 30), m | 1ull << 63);
    case 13: return f80_make(s, 0x3fff + 64 - (int)(rnd() % 4), m | 1ull << 63);
    default: return f80_make(s, 0x3fff + (int)(rnd() % 128) - 64, m | 1ull << 63);
    }
}

static void rand_mem(uint8_t *b, unsigned fmt)
{
    for (int i = 0; i < 16; i++)
        b[i] = (uint8_t)rnd();
    uint64_t m = rnd();
    bool s = rnd() & 1;
    switch (fmt) {
    case FMT_F32: {
        static const uint32_t special[] = {0,          0x7f800000, 0x7fc00000, 0x7f800001,
                                           0x7f7fffff, 0x00800000, 0x00000001, 0x3f800000};
        uint32_t v = rnd() % 2 ? special[rnd() % 8] : (uint32_t)m;
        if (rnd() % 4 == 0) v = (v & 0x807fffff) | (uint32_t)(rnd() % 3) << 23; /* tiny */
        v |= s ? 0x80000000u : 0;
        memcpy(b, &v, 4);
        break;
    }
    case FMT_F64: {
        static const uint64_t special[] = {0,
                                           0x7ff0000000000000ull,
                                           0x7ff8000000000000ull,
                                           0x7ff0000000000001ull,
                                           0x7fefffffffffffffull,
                                           0x0010000000000000ull,
                                           1,
                                           0x3ff0000000000000ull};
        uint64_t v = rnd() % 2 ? special[rnd() % 8] : m;
        v |= s ? 1ull << 63 : 0;
        memcpy(b, &v, 8);
        break;
    }
    case FMT_F80: {
        Float80 v = rand_f80();
        memcpy(b, &v.mant, 8);
        memcpy(b + 8, &v.se, 2);
        break;
    }
    case FMT_I16:
    case FMT_I32:
    case FMT_I64:
        if (rnd() % 2) {
            int64_t v = (int64_t)(rnd() % 20000) - 10000;
            if (rnd() % 4 == 0)
                v = fmt == FMT_I16 ? INT16_MIN : fmt == FMT_I32 ? INT32_MIN : INT64_MIN;
            memcpy(b, &v, 8);
        }
        break;
    case FMT_BCD:
        for (int i = 0; i < 9; i++)
            b[i] = (uint8_t)(rnd() % 10 | (rnd() % 10) << 4);
        b[9] = s ? 0x80 : 0;
        break;
    }
}

typedef uint64_t (*NativeFn)(void *image, void *mem, uint64_t flags);

static uint8_t *native_code;

/* push rdx; popfq; frstor [rdi]; <insn>; fnsave [rdi]; pushfq; pop rax; ret */
static NativeFn native_build(const uint8_t *insn, unsigned n)
{
    if (!native_code) {
        native_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (native_code == MAP_FAILED) return NULL;
    }
    if (mprotect(native_code, 4096, PROT_READ | PROT_WRITE)) return NULL;
    uint8_t *p = native_code;
    *p++ = 0x52, *p++ = 0x9d, *p++ = 0xdd, *p++ = 0x27;
    memcpy(p, insn, n), p += n;
    *p++ = 0xdd, *p++ = 0x37, *p++ = 0x9c, *p++ = 0x58, *p++ = 0xc3;
    if (mprotect(native_code, 4096, PROT_READ | PROT_EXEC)) return NULL;
    NativeFn fn;
    void *obj = native_code;
    memcpy(&fn, &obj, sizeof fn);
    return fn;
}

/* The transcendentals, whose results may differ from a real x87's in the last bit and whose C1
 * is the library's own (util/float80.h). */
static bool is_transcendental(const uint8_t *b)
{
    if (b[0] != 0xd9 || b[1] < 0xf0) return false;
    switch (b[1]) {
    case 0xf4:
    case 0xf5:
    case 0xf6:
    case 0xf7:
    case 0xf8:
    case 0xfa:
    case 0xfc:
    case 0xfd: return false;
    default: return true;
    }
}

/* Two register images agree, or differ by one unit in the last place, also across a power of
 * two (FCOS of a tiny argument rounded down is the value below 1.0, a newer Intel x87's 1.0). */
static bool f80_close(const uint8_t *a, const uint8_t *b)
{
    uint64_t ma, mb;
    uint16_t ea, eb;
    memcpy(&ma, a, 8), memcpy(&ea, a + 8, 2);
    memcpy(&mb, b, 8), memcpy(&eb, b + 8, 2);
    if (ea == eb) return ma - mb + 1 <= 2;
    if (ea < eb) return f80_close(b, a);
    return ea == eb + 1 && !((ea ^ eb) & 0x8000) && (eb & 0x7fff) && (ea & 0x7fff) != 0x7fff &&
           ma == 1ull << 63 && mb == ~0ull;
}

/* Instructions a 64-bit host does not accept (FENI, FDISI, FSETPM) or that are tested on
 * their own. */
static bool diff_skip(const uint8_t *b)
{
    if (b[0] == 0xdb && (b[1] == 0xe0 || b[1] == 0xe1 || b[1] == 0xe4)) return true;
    if (b[1] < 0xc0) {
        unsigned reg = b[1] >> 3 & 7;
        /* environment and state images are tested on their own; FISTTP is SSE3 */
        if (b[0] == 0xd9 && (reg == 4 || reg == 6)) return true;
        if (b[0] == 0xdd && (reg == 4 || reg == 6)) return true;
        if (reg == 1 && (b[0] == 0xdb || b[0] == 0xdd || b[0] == 0xdf)) return true;
    }
    return false;
}

static void rand_image(uint8_t *img)
{
    memset(img, 0, 108);
    uint16_t fcw = 0x037f;
    if (rnd() % 4 == 0) fcw = (fcw & ~0x3fu) | (uint16_t)(rnd() & 0x3f);
    fcw = (uint16_t)((fcw & ~0x0f00u) | (rnd() % 4) << 10 | (rnd() % 3 ? 3u : rnd() % 3) << 8);
    uint16_t flags = (uint16_t)(rnd() & 0x7f & (fcw | 0x40));
    uint16_t fsw = (uint16_t)(flags | (rnd() % 8) << 11 | (rnd() & 0x4700));
    uint16_t ftw = 0;
    for (int r = 0; r < 8; r++)
        if (rnd() % 10 < 3) ftw |= (uint16_t)(3u << (2 * r));
    img[0] = (uint8_t)fcw, img[1] = (uint8_t)(fcw >> 8);
    img[4] = (uint8_t)fsw, img[5] = (uint8_t)(fsw >> 8);
    img[8] = (uint8_t)ftw, img[9] = (uint8_t)(ftw >> 8);
    for (int i = 0; i < 8; i++) {
        Float80 v = rand_f80();
        memcpy(img + 28 + 10 * i, &v.mant, 8);
        memcpy(img + 28 + 10 * i + 8, &v.se, 2);
    }
}

static void hexdump(const char *what, const uint8_t *p, unsigned n)
{
    printf("#   %s:", what);
    for (unsigned i = 0; i < n; i++)
        printf("%s%02x", i % 10 == 0 ? "  " : " ", p[i]);
    printf("\n");
}

static bool host_amd;

static bool is_amd(void)
{
    unsigned a = 0, b, c, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
    return b == 0x68747541; /* "Auth"enticAMD */
}

/* Where AMD processors differ from the Intel SDM (which the helpers follow), the host's answer
 * is made to agree in the parts the SDM decides:
 *   FCOM/FCOMI with an unmasked invalid operand: AMD still sets C3 C2 C0 / ZF PF CF;
 *   FCOMI: AMD leaves C1 alone (the SDM clears it);
 *   FST/FSTP ST(i) from an empty ST0: AMD just copies (or pops) without a stack fault. */
static void amd_quirks(const X86Insn *in, const uint8_t *before, uint8_t *host, const uint8_t *emu,
                       uint32_t *fl_mask)
{
    uint16_t fcw = (uint16_t)(before[0] | before[1] << 8);
    uint16_t sw_emu = (uint16_t)(emu[4] | emu[5] << 8);
    bool ie_unmasked = !(fcw & 1) && (sw_emu & 1);
    switch (in->fop) {
    case F_COMI:
    case F_COMIP:
    case F_UCOMI:
    case F_UCOMIP:
        host[5] = (uint8_t)((host[5] & ~0x02) | (emu[5] & 0x02));
        if (ie_unmasked) *fl_mask &= ~(ZF_MASK | PF_MASK | CF_MASK);
        break;
    case F_COM:
    case F_COMP:
    case F_COMPP:
    case F_UCOM:
    case F_UCOMP:
    case F_UCOMPP:
    case F_TST:
        if (ie_unmasked) host[5] = (uint8_t)((host[5] & ~0x45) | (emu[5] & 0x45));
        break;
    case F_ST:
    case F_STP: {
        uint16_t sw = (uint16_t)(before[4] | before[5] << 8);
        uint16_t tw = (uint16_t)(before[8] | before[9] << 8);
        if (in->nops && in->op[0].kind == OPK_STI && (tw >> (2 * (sw >> 11 & 7)) & 3) == 3)
            memcpy(host, emu, 108);
        break;
    }
    default: break;
    }
}

#define DIFF_IMG 0x2000
#define DIFF_MEM 0x3000 /* 16-byte aligned for FXSAVE */

/* FRSTOR img, the instruction (memory operand at DIFF_MEM), FNSAVE, from EFLAGS `flags`: the
 * emulator's image is then at tmem + DIFF_IMG. False if anything raised an exception. */
static bool emu_run(CPUX86State *env, const uint8_t *img, const uint8_t *insn, unsigned n, bool mem,
                    uint64_t flags)
{
    memcpy(tmem + DIFF_IMG, img, 108);
    env->cc_op = CC_OP_EFLAGS;
    env->cc_src = (uint32_t)flags & CC_MASK;
    return XM(DIFF_IMG, 0xdd, 0x26) == -1 && exec_insn(env, insn, n, mem ? DIFF_MEM : 0) == -1 &&
           XM(DIFF_IMG, 0xdd, 0x36) == -1;
}

/* What the test compares of two FNSAVE images and EFLAGS: FCW, FSW, FTW and the registers, not
 * the pointer fields (the host's FIP is its own code address; FOP, FDP, FCS and FDS are zero on
 * CPUs that store them only for unmasked exceptions or not at all, CPUID.7.EBX[6] and [13]). */
static bool same_state(const uint8_t *a, const uint8_t *b, uint32_t fa, uint32_t fb, uint32_t mask)
{
    return !memcmp(a, b, 12) && !memcmp(a + 28, b + 28, 80) && !((fa ^ fb) & mask);
}

/* Where newer Intel x87s (seen on a Sapphire Rapids-class Xeon) answer differently from the SDM,
 * which the helpers follow, the host's answer is accepted only in its exact form: when the
 * emulator gave the SDM's answer and that answer with just the named change equals the host's.
 * (On AMD hosts amd_quirks has already reconciled AMD's similar answers.) */
enum { ALT_COMI_C1, ALT_UNORDERED, ALT_FSTP1_EMPTY, ALT_KINDS };
static const char *const alt_what[ALT_KINDS] = {
    "FCOMI/FUCOMI(P) leave C1 unchanged, where the SDM clears it",
    "compares with an unmasked invalid operand set C3 C2 C0 (FCOMI: ZF PF CF) to unordered, "
    "where the SDM leaves them",
    "FSTP ST(i) in its D9 D8+i encoding pops an empty ST0 like FINCSTP, where the SDM has a "
    "stack fault",
};
static int alt_seen[ALT_KINDS];

/* ST(i) is empty in an FNSAVE image. */
static bool st_empty(const uint8_t *img, unsigned i)
{
    unsigned top = img[5] >> 3 & 7;
    return ((img[8] | img[9] << 8) >> (2 * ((top + i) & 7)) & 3) == 3;
}

static bool newer_intel(CPUX86State *env, const X86Insn *in, const uint8_t *insn,
                        const uint8_t *before, uint64_t flags, const uint8_t *emu, uint32_t emu_fl,
                        const uint8_t *host, uint32_t host_fl, uint32_t fl_mask)
{
    const uint32_t zpc = ZF_MASK | PF_MASK | CF_MASK;
    uint8_t alt[108];
    uint32_t alt_fl = emu_fl;
    bool used[ALT_KINDS] = {false};
    memcpy(alt, emu, 108);
    bool comi =
        in->fop == F_COMI || in->fop == F_COMIP || in->fop == F_UCOMI || in->fop == F_UCOMIP;
    bool com = in->fop == F_COM || in->fop == F_COMP || in->fop == F_COMPP || in->fop == F_UCOM ||
               in->fop == F_UCOMP || in->fop == F_UCOMPP || in->fop == F_TST;
    /* C1 stays as it was, but for a stack underflow, which clears it as any stack fault does */
    bool underflow = st_empty(before, 0) || st_empty(before, insn[1] & 7);
    if (comi && (before[5] & 0x02) && !(emu[5] & 0x02) && !underflow) {
        alt[5] |= 0x02;
        used[ALT_COMI_C1] = true;
    }
    bool ie_unmasked = !(before[0] & 1) && (emu[4] & 1);
    if (ie_unmasked && com && (emu[5] & 0x45) == (before[5] & 0x45) && (emu[5] & 0x45) != 0x45) {
        alt[5] |= 0x45;
        used[ALT_UNORDERED] = true;
    }
    if (ie_unmasked && comi && (emu_fl & zpc) == (flags & zpc) && (emu_fl & zpc) != zpc) {
        alt_fl |= zpc;
        used[ALT_UNORDERED] = true;
    }
    if (insn[0] == 0xd9 && (insn[1] & 0xf8) == 0xd8 && st_empty(before, 0)) {
        /* The emulator's answer must be its FSTP ST(i) (DD D8+i), which the host answers per
         * the SDM; the host's must be the emulator's FINCSTP. */
        if (!emu_run(env, before, (const uint8_t[]){0xdd, insn[1]}, 2, false, flags) ||
            !same_state(tmem + DIFF_IMG, emu, 0, 0, 0) ||
            !emu_run(env, before, (const uint8_t[]){0xd9, 0xf7}, 2, false, flags))
            return false;
        memcpy(alt, tmem + DIFF_IMG, 108);
        used[ALT_FSTP1_EMPTY] = true;
    }
    if (!same_state(alt, host, alt_fl, host_fl, fl_mask)) return false;
    for (int k = 0; k < ALT_KINDS; k++)
        alt_seen[k] += used[k];
    return true;
}

/* One instruction on the host and in the helpers from the same state; returns true if the
 * FNSAVE images (without the pointer fields), the memory operand and EFLAGS agree. */
static int diff_seen[8][256];

static bool diff_one(CPUX86State *env, const uint8_t *insn, unsigned n, int *reported)
{
    X86Insn in;
    if (x86_decode(&in, insn, n, 1) != (int)n || in.mnem != X86_FPU) return true;
    uint8_t img[108], nat_img[108], nat_mem[16], mem0[16];
    rand_image(img);
    rand_mem(mem0, in.fmt);
    uint64_t flags = 0x202 | (rnd() & (CF_MASK | PF_MASK | ZF_MASK | AF_MASK | SF_MASK | OF_MASK));

    NativeFn fn = native_build(insn, n);
    if (!fn) return true;
    memcpy(nat_img, img, 108);
    memcpy(nat_mem, mem0, 16);
    uint64_t nat_flags = fn(nat_img, nat_mem, flags);

    memcpy(tmem + DIFF_MEM, mem0, 16);
    bool ok = emu_run(env, img, insn, n, in.nops, flags);
    uint8_t emu_img[108], *emu_mem = tmem + DIFF_MEM;
    memcpy(emu_img, tmem + DIFF_IMG, 108);
    uint32_t emu_flags = x86_cc_eflags(env);
    uint32_t fl_mask = CF_MASK | PF_MASK | ZF_MASK | AF_MASK | SF_MASK | OF_MASK;
    if (host_amd) amd_quirks(&in, img, nat_img, emu_img, &fl_mask);
    /* F2XM1 and FYL2XP1 are undefined outside their domains. */
    uint16_t top0 = (uint16_t)(img[5] >> 3 & 7),
             exp0 = (uint16_t)((img[36] | img[37] << 8) & 0x7fff);
    bool tag0_empty = ((img[8] | img[9] << 8) >> (2 * top0) & 3) == 3;
    if (insn[0] == 0xd9 && !tag0_empty &&
        ((insn[1] == 0xf0 && exp0 >= 0x3fff) || (insn[1] == 0xf9 && exp0 >= 0x3ffd)))
        memcpy(nat_img, emu_img, 108);
    if (is_transcendental(insn)) {
        nat_img[5] = (uint8_t)((nat_img[5] & ~0x02) | (emu_img[5] & 0x02)); /* C1 */
        for (int i = 0; i < 8; i++)
            if (f80_close(emu_img + 28 + 10 * i, nat_img + 28 + 10 * i))
                memcpy(nat_img + 28 + 10 * i, emu_img + 28 + 10 * i, 10);
    }
    bool same = ok && memcmp(emu_mem, nat_mem, 16) == 0;
    if (same && !same_state(emu_img, nat_img, emu_flags, (uint32_t)nat_flags, fl_mask))
        same = newer_intel(env, &in, insn, img, flags, emu_img, emu_flags, nat_img,
                           (uint32_t)nat_flags, fl_mask);
    if (!same && diff_seen[insn[0] & 7][insn[1]]++ == 0 && (*reported)++ < 40) {
        char text[80];
        x86_format(&in, 0, text, sizeof text);
        printf("# differs: %02x %02x  %s%s\n", insn[0], insn[1], text, ok ? "" : " (exception)");
        hexdump("before", img, 108);
        hexdump("host  ", nat_img, 108);
        hexdump("emu   ", emu_img, 108);
        hexdump("mem before", mem0, 16);
        hexdump("mem host  ", nat_mem, 16);
        hexdump("mem emu   ", emu_mem, 16);
        printf("#   flags in %03x host %03x emu %03x\n", (unsigned)flags & fl_mask,
               (unsigned)nat_flags & fl_mask, emu_flags & fl_mask);
    }
    return same;
}

TEST(differential_host)
{
    CPUX86State *env = new_env();
    host_amd = is_amd();
    if (getenv("FPU_DIFF_SEED")) rng = strtoull(getenv("FPU_DIFF_SEED"), NULL, 0) | 1;
    int reported = 0, failed = 0,
        iters = getenv("FPU_DIFF_ITERS") ? atoi(getenv("FPU_DIFF_ITERS")) : 40;
    for (int it = 0; it < iters; it++) {
        for (unsigned esc = 0xd8; esc <= 0xdf; esc++) {
            for (unsigned modrm = 0; modrm < 256; modrm++) {
                if (modrm < 0xc0 && (modrm & 0xc7) != 0x06) continue; /* memory: [esi] only */
                uint8_t insn[2] = {(uint8_t)esc, (uint8_t)modrm};
                if (modrm < 0xc0) insn[1] = (uint8_t)(modrm & ~0xc0); /* mod 00 rm 110 */
                if (diff_skip(insn)) continue;
                if (!diff_one(env, insn, 2, &reported)) failed++;
            }
        }
    }
    for (int k = 0; k < ALT_KINDS; k++)
        if (alt_seen[k])
            printf("# %d cases where the host's %s (newer Intel); accepted\n", alt_seen[k],
                   alt_what[k]);
    if (failed) printf("# %d differences\n", failed);
    CHECK_EQ(failed, 0);
    free(env);
}

/* State images against the host: FNSTENV and FXSAVE of random states (without the pointer
 * fields, which a 64-bit host stores differently), FLDENV and FXRSTOR of random images. */
enum { ST_FNSTENV, ST_FLDENV, ST_FXSAVE, ST_FXRSTOR };

static bool diff_state_one(CPUX86State *env, int kind)
{
    static const uint8_t insns[4][3] = {
        {0xd9, 0x36}, {0xd9, 0x26}, {0x0f, 0xae, 0x06}, {0x0f, 0xae, 0x0e}};
    static uint8_t nat_mem[512] __attribute__((aligned(16)));
    uint8_t img[108], nat_img[108], mem0[512];
    rand_image(img);
    for (int i = 0; i < 512; i++)
        mem0[i] = (uint8_t)rnd();
    if (kind == ST_FLDENV || kind == ST_FXRSTOR) {
        /* A plausible image: any FCW, flags and tags, a valid MXCSR. */
        uint8_t src[108];
        rand_image(src);
        if (kind == ST_FLDENV) {
            memcpy(mem0, src, 12);
            mem0[4] = (uint8_t)rnd();
        } else {
            memcpy(mem0, src, 2);
            mem0[2] = (uint8_t)rnd(), mem0[3] = src[5];
            mem0[24] = 0x80, mem0[25] = 0x1f, mem0[26] = mem0[27] = 0;
            for (int i = 0; i < 8; i++)
                memcpy(mem0 + 32 + 16 * i, src + 28 + 10 * i, 10);
        }
    }
    unsigned n = kind >= ST_FXSAVE ? 3 : 2;
    NativeFn fn = native_build(insns[kind], n);
    if (!fn) return true;
    memcpy(nat_img, img, 108);
    memcpy(nat_mem, mem0, 512);
    fn(nat_img, nat_mem, 0x202);

    memcpy(tmem + DIFF_IMG, img, 108);
    memcpy(tmem + DIFF_MEM, mem0, 512);
    bool ok = XM(DIFF_IMG, 0xdd, 0x26) == -1;
    switch (kind) {
    case ST_FNSTENV: ok = ok && XM(DIFF_MEM, 0xd9, 0x36) == -1; break;
    case ST_FLDENV: ok = ok && XM(DIFF_MEM, 0xd9, 0x26) == -1; break;
    case ST_FXSAVE: ok = ok && run(env, &hlp_fxsave, DIFF_MEM, 0, 0) == -1; break;
    default: ok = ok && run(env, &hlp_fxrstor, DIFF_MEM, 0, 0) == -1; break;
    }
    ok = ok && XM(DIFF_IMG, 0xdd, 0x36) == -1;
    uint8_t *emu_img = tmem + DIFF_IMG, *emu_mem = tmem + DIFF_MEM;
    bool same =
        ok && memcmp(emu_img, nat_img, 12) == 0 && memcmp(emu_img + 28, nat_img + 28, 80) == 0;
    if (kind == ST_FNSTENV) same = same && memcmp(emu_mem, nat_mem, 12) == 0;
    if (kind == ST_FXSAVE) {
        same = same && memcmp(emu_mem, nat_mem, 6) == 0;
        for (int i = 0; i < 8; i++)
            same = same && memcmp(emu_mem + 32 + 16 * i, nat_mem + 32 + 16 * i, 10) == 0;
    }
    if (!same) {
        printf("# state image %d differs%s\n", kind, ok ? "" : " (exception)");
        hexdump("before", img, 108);
        hexdump("mem   ", mem0, 32);
        hexdump("host  ", nat_img, 108);
        hexdump("emu   ", emu_img, 108);
        hexdump("mem host", nat_mem, 32);
        hexdump("mem emu ", emu_mem, 32);
    }
    return same;
}

TEST(differential_host_images)
{
    CPUX86State *env = new_env();
    int failed = 0;
    for (int it = 0; it < 200 && failed < 4; it++)
        for (int kind = 0; kind < 4; kind++)
            failed += !diff_state_one(env, kind);
    CHECK_EQ(failed, 0);
    free(env);
}

#endif
