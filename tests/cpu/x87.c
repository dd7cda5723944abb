/* x87: FPU state, loads/stores, arithmetic in every operand form, compares, rounding and
 * precision control, stack faults, masked and unmasked exceptions, save/restore images and
 * device-not-available (SDM vol. 1 ch. 8 x87 FPU, 4.8 real numbers, vol. 2 Fxxx pages and
 * FXSAVE table 3-53, vol. 3A 2.5 CR0.EM/MP/TS/NE). Expected values are bit patterns computed
 * offline with exact rational arithmetic. */
#include "kt.h"

struct f80 {
    uint64_t m;
    uint16_t se;
} __attribute__((packed));

#define SW_IE      0x0001
#define SW_DE      0x0002
#define SW_ZE      0x0004
#define SW_OE      0x0008
#define SW_UE      0x0010
#define SW_PE      0x0020
#define SW_SF      0x0040
#define SW_ES      0x0080
#define SW_C0      0x0100
#define SW_C1      0x0200
#define SW_C2      0x0400
#define SW_C3      0x4000
#define SW_B       0x8000
#define SW_TOP(sw) (((sw) >> 11) & 7)
#define SW_EXC     0x003f
#define SW_CC      (SW_C0 | SW_C1 | SW_C2 | SW_C3)

#define D_2     0x4000000000000000ull
#define D_3     0x4008000000000000ull
#define D_8     0x4020000000000000ull
#define D_1     0x3ff0000000000000ull
#define D_M1    0xbff0000000000000ull
#define D_0     0x0000000000000000ull
#define D_2_5   0x4004000000000000ull
#define D_M2_5  0xc004000000000000ull
#define D_INDEF 0xfff8000000000000ull

static uint16_t fnstsw(void)
{
    uint16_t s;
    __asm__ volatile("fnstsw %0" : "=m"(s));
    return s;
}

static uint16_t fnstcw(void)
{
    uint16_t c;
    __asm__ volatile("fnstcw %0" : "=m"(c));
    return c;
}

static void fldcw(uint16_t c)
{
    __asm__ volatile("fldcw %0" : : "m"(c));
}
static void fninit(void)
{
    __asm__ volatile("fninit");
}

struct fenv {
    uint32_t cw, sw, tw, fip, fcs_op, fdp, fds;
};

static struct fenv fnstenv(void)
{
    struct fenv e;
    __asm__ volatile("fnstenv %0" : "=m"(e));
    return e;
}

static void eq80(struct f80 got, uint16_t se, uint64_t m, const char *name)
{
    if (got.se == se && got.m == m)
        kt_ok(1, "%s", name);
    else
        kt_fail(name, "expected %04x:%016llx got %04x:%016llx", se, (unsigned long long)m, got.se,
                (unsigned long long)got.m);
}

/* ---- FINIT state ---- */

static void init_tests(void)
{
    __asm__ volatile("fld1\n\tfldz\n\tfninit");
    struct fenv e = fnstenv();
    kt_eq(e.cw & 0xffff, 0x037f, "finit_fcw");
    kt_eq(e.sw & 0xffff, 0, "finit_fsw");
    kt_eq(e.tw & 0xffff, 0xffff, "finit_tags_empty");
    uint16_t ax;
    __asm__ volatile("fnstsw %%ax" : "=a"(ax));
    kt_eq(ax, 0, "fnstsw_ax");
    fldcw(0x0c7f);
    kt_eq(fnstcw(), 0x0c7f, "fldcw_fnstcw_roundtrip");
    __asm__ volatile("finit"); /* the waiting form */
    kt_eq(fnstcw(), 0x037f, "finit_waiting_form");
    /* FNSTENV masks all exceptions in the live control word (like FLDENV's "after" state). */
    fldcw(0x0360);
    e = fnstenv();
    kt_eq(e.cw & 0xffff, 0x0360, "fnstenv_stores_fcw");
    kt_eq(fnstcw() & 0x3f, 0x3f, "fnstenv_masks_exceptions");
    fninit();
}

/* ---- loads, stores, conversions ---- */

static void load_store_tests(void)
{
    struct f80 r;
    uint32_t f32 = 0x3fc00000; /* 1.5f */
    fninit();
    __asm__ volatile("flds %1\n\tfstpt %0" : "=m"(r) : "m"(f32));
    eq80(r, 0x3fff, 0xc000000000000000ull, "fld_m32_fstp_m80");
    uint64_t third = 0x3fd5555555555555ull, d;
    uint32_t s;
    __asm__ volatile("fldl %1\n\tfstps %0" : "=m"(s) : "m"(third));
    kt_eq(s, 0x3eaaaaab, "fld_m64_fstp_m32_rounds");
    struct f80 t80 = {0xaaaaaaaaaaaaaaabull, 0x3ffd};
    __asm__ volatile("fldt %1\n\tfstpl %0" : "=m"(d) : "m"(t80));
    kt_eq(d, 0x3fd5555555555555ull, "fld_m80_fstp_m64_rounds");
    __asm__ volatile("fldt %1\n\tfstpt %0" : "=m"(r) : "m"(t80));
    eq80(r, 0x3ffd, 0xaaaaaaaaaaaaaaabull, "fld_m80_fstp_m80_exact");
    uint64_t one = D_1;
    __asm__ volatile("fldl %1\n\tfstl %0\n\tfstpl %0" : "=m"(d) : "m"(one));
    kt_eq(d, D_1, "fst_then_fstp_m64");
    kt_eq(SW_TOP(fnstsw()), 0, "fstp_pops_back_to_top0");

    int16_t i16 = -5;
    __asm__ volatile("filds %1\n\tfstpl %0" : "=m"(d) : "m"(i16));
    kt_eq(d, 0xc014000000000000ull, "fild_m16");
    int32_t i32 = 0x7fffffff;
    __asm__ volatile("fildl %1\n\tfstpt %0" : "=m"(r) : "m"(i32));
    eq80(r, 0x401d, 0xfffffffe00000000ull, "fild_m32");
    int64_t i64 = -1;
    __asm__ volatile("fildll %1\n\tfstpl %0" : "=m"(d) : "m"(i64));
    kt_eq(d, D_M1, "fild_m64");

    /* FIST rounds by RC (nearest-even by default). */
    uint64_t v25 = D_2_5, vm25 = D_M2_5, vm27 = 0xc00599999999999aull; /* -2.7 */
    int16_t o16;
    int32_t o32;
    int64_t o64;
    fninit();
    __asm__ volatile("fldl %1\n\tfistps %0" : "=m"(o16) : "m"(v25));
    kt_eq((uint16_t)o16, 2, "fistp_m16_half_even");
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(o32) : "m"(vm25));
    kt_eq((uint32_t)o32, (uint32_t)-2, "fistp_m32_neg_half_even");
    fldcw(0x0b7f); /* RC up */
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(o32) : "m"(v25));
    kt_eq((uint32_t)o32, 3, "fistp_rc_up");
    fldcw(0x077f); /* RC down */
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(o32) : "m"(vm25));
    kt_eq((uint32_t)o32, (uint32_t)-3, "fistp_rc_down");
    fldcw(0x0f7f); /* RC chop */
    __asm__ volatile("fldl %1\n\tfistpl %0" : "=m"(o32) : "m"(vm27));
    kt_eq((uint32_t)o32, (uint32_t)-2, "fistp_rc_chop");
    fninit();
    uint64_t big = 0x4270000000000800ull; /* 2^40 + 0.5 */
    __asm__ volatile("fldl %1\n\tfistpll %0" : "=m"(o64) : "m"(big));
    kt_eq((uint64_t)o64, 1ull << 40, "fistp_m64_half_even");
    __asm__ volatile("fldl %1\n\tfistl %0\n\tfstp %%st(0)" : "=m"(o32) : "m"(v25));
    kt_eq((uint32_t)o32, 2, "fist_no_pop");
    /* Out of range: IE, and the integer indefinite is stored. */
    uint64_t v40000 = 0x40e3880000000000ull;
    fninit();
    __asm__ volatile("fldl %1\n\tfistps %0" : "=m"(o16) : "m"(v40000));
    kt_eq((uint16_t)o16, 0x8000, "fistp_m16_overflow_indefinite");
    kt_eq(fnstsw() & SW_EXC, SW_IE, "fistp_m16_overflow_ie");

    /* Packed BCD. */
    uint8_t bcd[10] = {0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x00};
    fninit();
    __asm__ volatile("fbld %1\n\tfstpl %0" : "=m"(d) : "m"(bcd));
    kt_eq(d, 0x4093480000000000ull, "fbld_1234");
    int32_t n = -98765;
    uint8_t out[10];
    __asm__ volatile("fildl %1\n\tfbstp %0" : "=m"(out) : "m"(n));
    kt_ok(out[0] == 0x65 && out[1] == 0x87 && out[2] == 0x09 && out[3] == 0 && out[8] == 0 &&
              out[9] == 0x80,
          "fbstp_neg_98765");

    /* Constants (round to nearest). */
    struct {
        const char *name;
        uint16_t se;
        uint64_t m;
    } k[] = {{"fld1", 0x3fff, 0x8000000000000000ull},   {"fldz", 0, 0},
             {"fldpi", 0x4000, 0xc90fdaa22168c235ull},  {"fldl2t", 0x4000, 0xd49a784bcd1b8afeull},
             {"fldl2e", 0x3fff, 0xb8aa3b295c17f0bcull}, {"fldlg2", 0x3ffd, 0x9a209a84fbcff799ull},
             {"fldln2", 0x3ffe, 0xb17217f7d1cf79acull}};
    fninit();
    __asm__ volatile("fld1\n\tfstpt %0" : "=m"(r));
    eq80(r, k[0].se, k[0].m, k[0].name);
    __asm__ volatile("fldz\n\tfstpt %0" : "=m"(r));
    eq80(r, k[1].se, k[1].m, k[1].name);
    __asm__ volatile("fldpi\n\tfstpt %0" : "=m"(r));
    eq80(r, k[2].se, k[2].m, k[2].name);
    __asm__ volatile("fldl2t\n\tfstpt %0" : "=m"(r));
    eq80(r, k[3].se, k[3].m, k[3].name);
    __asm__ volatile("fldl2e\n\tfstpt %0" : "=m"(r));
    eq80(r, k[4].se, k[4].m, k[4].name);
    __asm__ volatile("fldlg2\n\tfstpt %0" : "=m"(r));
    eq80(r, k[5].se, k[5].m, k[5].name);
    __asm__ volatile("fldln2\n\tfstpt %0" : "=m"(r));
    eq80(r, k[6].se, k[6].m, k[6].name);

    /* Register moves: FLD ST(i), FST ST(i), FXCH, FFREE, FINCSTP/FDECSTP. */
    uint64_t a = D_8, b = D_2, r0, r1;
    fninit();
    __asm__ volatile("fldl %3\n\tfldl %2\n\tfld %%st(1)\n\tfstpl %0\n\tfstpl %1\n\tfstp %%st(0)"
                     : "=m"(r0), "=m"(r1)
                     : "m"(a), "m"(b));
    kt_ok(r0 == D_2 && r1 == D_8, "fld_st_i_duplicates");
    __asm__ volatile("fldl %3\n\tfldl %2\n\tfxch %%st(1)\n\tfstpl %0\n\tfstpl %1"
                     : "=m"(r0), "=m"(r1)
                     : "m"(a), "m"(b));
    kt_ok(r0 == D_2 && r1 == D_8, "fxch");
    __asm__ volatile("fldl %3\n\tfldl %2\n\tfst %%st(1)\n\tfstpl %0\n\tfstpl %1"
                     : "=m"(r0), "=m"(r1)
                     : "m"(a), "m"(b));
    kt_ok(r0 == D_8 && r1 == D_8, "fst_st_i");
    fninit();
    __asm__ volatile("fld1\n\tfldz\n\tffree %st(1)");
    struct fenv e = fnstenv();
    kt_eq(e.tw & 0xffff, 0xdfff, "ffree_tags"); /* reg 6 holds zero (01), reg 7 freed (11) */
    __asm__ volatile("fincstp");
    kt_eq(SW_TOP(fnstsw()), 7, "fincstp_top");
    __asm__ volatile("fdecstp\n\tfdecstp");
    kt_eq(SW_TOP(fnstsw()), 5, "fdecstp_top");
    fninit();
}

/* ---- arithmetic in all operand forms: st0 = 8, st1 = 2 ---- */

struct arith {
    const char *name;
    int kind; /* 0: two results (st0, st1), 1: popped (one result) */
    uint64_t r0, r1;
};

#define D_10 0x4024000000000000ull
#define D_6  0x4018000000000000ull
#define D_M6 0xc018000000000000ull
#define D_16 0x4030000000000000ull
#define D_4  0x4010000000000000ull
#define D_Q  0x3fd0000000000000ull /* 0.25 */

static void run_reg_form(int i, uint64_t *r0, uint64_t *r1)
{
    uint64_t a = D_8, b = D_2;
    *r0 = *r1 = 0;
#define REGFORM(n, bytes)                                                                          \
    case n:                                                                                        \
        __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\t.byte " bytes "\n\tfstpl %0\n\t"         \
                         "fnstsw %%ax\n\ttestb $0x40, %%al\n\tjnz 1f\n\tfstpl %1\n1:\n\tfninit"    \
                         : "=m"(*r0), "=m"(*r1)                                                    \
                         : "m"(a), "m"(b)                                                          \
                         : "eax", "memory");                                                       \
        break;
    switch (i) {
        REGFORM(0, "0xd8, 0xc1")  /* fadd st0, st1 */
        REGFORM(1, "0xdc, 0xc1")  /* fadd st1, st0 */
        REGFORM(2, "0xde, 0xc1")  /* faddp st1, st0 */
        REGFORM(3, "0xd8, 0xe1")  /* fsub st0, st1: st0 - st1 */
        REGFORM(4, "0xd8, 0xe9")  /* fsubr st0, st1: st1 - st0 */
        REGFORM(5, "0xdc, 0xe9")  /* fsub st1, st0: st1 - st0 */
        REGFORM(6, "0xdc, 0xe1")  /* fsubr st1, st0: st0 - st1 */
        REGFORM(7, "0xde, 0xe9")  /* fsubp st1, st0 */
        REGFORM(8, "0xde, 0xe1")  /* fsubrp st1, st0 */
        REGFORM(9, "0xd8, 0xc9")  /* fmul st0, st1 */
        REGFORM(10, "0xdc, 0xc9") /* fmul st1, st0 */
        REGFORM(11, "0xde, 0xc9") /* fmulp */
        REGFORM(12, "0xd8, 0xf1") /* fdiv st0, st1: st0 / st1 */
        REGFORM(13, "0xd8, 0xf9") /* fdivr st0, st1: st1 / st0 */
        REGFORM(14, "0xdc, 0xf9") /* fdiv st1, st0: st1 / st0 */
        REGFORM(15, "0xdc, 0xf1") /* fdivr st1, st0: st0 / st1 */
        REGFORM(16, "0xde, 0xf9") /* fdivp st1, st0 */
        REGFORM(17, "0xde, 0xf1") /* fdivrp st1, st0 */
    }
}

static void run_mem_form(int i, uint64_t *r0)
{
    uint64_t a = D_8, m64 = D_2;
    uint32_t m32 = 0x40000000;
    int16_t i16 = 2;
    int32_t i32 = 2;
#define MEMFORM(n, insn, op)                                                                       \
    case n:                                                                                        \
        __asm__ volatile("fninit\n\tfldl %1\n\t" insn " %2\n\tfstpl %0"                            \
                         : "=m"(*r0)                                                               \
                         : "m"(a), "m"(op));                                                       \
        break;
    switch (i) {
        MEMFORM(0, "fadds", m32)
        MEMFORM(1, "fsubs", m32)
        MEMFORM(2, "fsubrs", m32)
        MEMFORM(3, "fmuls", m32)
        MEMFORM(4, "fdivs", m32)
        MEMFORM(5, "fdivrs", m32)
        MEMFORM(6, "faddl", m64)
        MEMFORM(7, "fsubl", m64)
        MEMFORM(8, "fsubrl", m64)
        MEMFORM(9, "fmull", m64)
        MEMFORM(10, "fdivl", m64)
        MEMFORM(11, "fdivrl", m64)
        MEMFORM(12, "fiadds", i16)
        MEMFORM(13, "fisubs", i16)
        MEMFORM(14, "fisubrs", i16)
        MEMFORM(15, "fimuls", i16)
        MEMFORM(16, "fidivs", i16)
        MEMFORM(17, "fidivrs", i16)
        MEMFORM(18, "fiaddl", i32)
        MEMFORM(19, "fisubl", i32)
        MEMFORM(20, "fisubrl", i32)
        MEMFORM(21, "fimull", i32)
        MEMFORM(22, "fidivl", i32)
        MEMFORM(23, "fidivrl", i32)
    }
}

static void arith_tests(void)
{
    static const struct arith reg[] = {
        {"fadd_st0_sti", 0, D_10, D_2},
        {"fadd_sti_st0", 0, D_8, D_10},
        {"faddp", 1, D_10, 0},
        {"fsub_st0_sti", 0, D_6, D_2},
        {"fsubr_st0_sti", 0, D_M6, D_2},
        {"fsub_sti_st0", 0, D_8, D_M6},
        {"fsubr_sti_st0", 0, D_8, D_6},
        {"fsubp", 1, D_M6, 0},
        {"fsubrp", 1, D_6, 0},
        {"fmul_st0_sti", 0, D_16, D_2},
        {"fmul_sti_st0", 0, D_8, D_16},
        {"fmulp", 1, D_16, 0},
        {"fdiv_st0_sti", 0, D_4, D_2},
        {"fdivr_st0_sti", 0, D_Q, D_2},
        {"fdiv_sti_st0", 0, D_8, D_Q},
        {"fdivr_sti_st0", 0, D_8, D_4},
        {"fdivp", 1, D_Q, 0},
        {"fdivrp", 1, D_4, 0},
    };
    for (int i = 0; i < 18; i++) {
        uint64_t r0, r1;
        run_reg_form(i, &r0, &r1);
        int ok = r0 == reg[i].r0 && (reg[i].kind || r1 == reg[i].r1);
        if (ok)
            kt_ok(1, "%s", reg[i].name);
        else
            kt_fail(reg[i].name, "expected st0 %llx st1 %llx got %llx %llx",
                    (unsigned long long)reg[i].r0, (unsigned long long)reg[i].r1,
                    (unsigned long long)r0, (unsigned long long)r1);
    }
    static const char *mem_names[] = {
        "fadd_m32",  "fsub_m32",  "fsubr_m32",  "fmul_m32",  "fdiv_m32",  "fdivr_m32",
        "fadd_m64",  "fsub_m64",  "fsubr_m64",  "fmul_m64",  "fdiv_m64",  "fdivr_m64",
        "fiadd_m16", "fisub_m16", "fisubr_m16", "fimul_m16", "fidiv_m16", "fidivr_m16",
        "fiadd_m32", "fisub_m32", "fisubr_m32", "fimul_m32", "fidiv_m32", "fidivr_m32"};
    static const uint64_t mem_exp[6] = {D_10, D_6, D_M6, D_16, D_4, D_Q};
    for (int i = 0; i < 24; i++) {
        uint64_t r0;
        run_mem_form(i, &r0);
        kt_eq(r0, mem_exp[i % 6], "%s", mem_names[i]);
    }
}

/* ---- compares ---- */

static uint16_t cmp_sw(uint64_t a, uint64_t b, int which)
{
    uint16_t sw = 0;
    fninit();
    switch (which) {
    case 0: /* fcom st1 */
        __asm__ volatile("fldl %2\n\tfldl %1\n\tfcom %%st(1)\n\tfnstsw %0\n\tfninit"
                         : "=m"(sw)
                         : "m"(a), "m"(b));
        break;
    case 1: /* fucom st1 */
        __asm__ volatile("fldl %2\n\tfldl %1\n\tfucom %%st(1)\n\tfnstsw %0\n\tfninit"
                         : "=m"(sw)
                         : "m"(a), "m"(b));
        break;
    case 2: /* fcomp m64 */
        __asm__ volatile("fldl %1\n\tfcompl %2\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(a), "m"(b));
        break;
    case 3: /* fcompp */
        __asm__ volatile("fldl %2\n\tfldl %1\n\tfcompp\n\tfnstsw %0\n\tfninit"
                         : "=m"(sw)
                         : "m"(a), "m"(b));
        break;
    case 4: /* fucompp */
        __asm__ volatile("fldl %2\n\tfldl %1\n\tfucompp\n\tfnstsw %0\n\tfninit"
                         : "=m"(sw)
                         : "m"(a), "m"(b));
        break;
    }
    return sw;
}

static uint32_t comi_flags(uint64_t a, uint64_t b, int unordered_form, uint16_t *sw)
{
    uint32_t f;
    fninit();
    if (unordered_form)
        __asm__ volatile("fldl %3\n\tfldl %2\n\tfucomi %%st(1), %%st\n\tpushf\n\tpop %0\n\t"
                         "fnstsw %1\n\tfninit"
                         : "=r"(f), "=m"(*sw)
                         : "m"(a), "m"(b)
                         : "cc");
    else
        __asm__ volatile("fldl %3\n\tfldl %2\n\tfcomi %%st(1), %%st\n\tpushf\n\tpop %0\n\t"
                         "fnstsw %1\n\tfninit"
                         : "=r"(f), "=m"(*sw)
                         : "m"(a), "m"(b)
                         : "cc");
    return f;
}

#define QNAN 0x7ff8000000000000ull
#define SNAN 0x7ff0000000000001ull

static void compare_tests(void)
{
    static const char *names[] = {"fcom", "fucom", "fcomp_m64", "fcompp", "fucompp"};
    for (int w = 0; w < 5; w++) {
        uint16_t gt = cmp_sw(D_8, D_2, w), lt = cmp_sw(D_2, D_8, w), eq = cmp_sw(D_2, D_2, w);
        uint16_t un = cmp_sw(QNAN, D_2, w);
        kt_ok((gt & (SW_C0 | SW_C2 | SW_C3)) == 0 && (lt & (SW_C0 | SW_C2 | SW_C3)) == SW_C0 &&
                  (eq & (SW_C0 | SW_C2 | SW_C3)) == SW_C3,
              "%s_gt_lt_eq", names[w]);
        kt_eq(un & (SW_C0 | SW_C2 | SW_C3), SW_C0 | SW_C2 | SW_C3, "%s_unordered", names[w]);
        /* FCOM signals IE on any NaN, FUCOM only on SNaN. */
        int unordered_form = w == 1 || w == 4;
        kt_eq(un & SW_IE, unordered_form ? 0 : SW_IE, "%s_qnan_ie", names[w]);
    }
    kt_eq(cmp_sw(SNAN, D_2, 1) & SW_IE, SW_IE, "fucom_snan_ie");
    kt_eq(SW_TOP(cmp_sw(D_8, D_2, 3)), 0, "fcompp_pops_two");

    uint16_t sw;
    const uint32_t zpc = FL_ZF | FL_PF | FL_CF;
    kt_eq(comi_flags(D_8, D_2, 0, &sw) & zpc, 0, "fcomi_gt");
    kt_eq(comi_flags(D_2, D_8, 0, &sw) & zpc, FL_CF, "fcomi_lt");
    kt_eq(comi_flags(D_2, D_2, 0, &sw) & zpc, FL_ZF, "fcomi_eq");
    kt_eq(comi_flags(QNAN, D_2, 0, &sw) & zpc, zpc, "fcomi_unordered");
    kt_eq(sw & SW_IE, SW_IE, "fcomi_qnan_ie");
    kt_eq(comi_flags(QNAN, D_2, 1, &sw) & zpc, zpc, "fucomi_unordered");
    kt_eq(sw & SW_IE, 0, "fucomi_qnan_no_ie");
    kt_eq(comi_flags(D_2, D_8, 1, &sw) & (FL_OF | FL_SF | FL_AF), 0, "fucomi_clears_of_sf_af");

    /* FICOM, FTST. */
    int16_t three = 3;
    uint64_t v = D_2;
    fninit();
    __asm__ volatile("fldl %1\n\tficoms %2\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(v), "m"(three));
    kt_eq(sw & (SW_C0 | SW_C2 | SW_C3), SW_C0, "ficom_m16_lt");
    uint64_t neg = D_M1, zero = D_0;
    __asm__ volatile("fldl %1\n\tftst\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(neg));
    kt_eq(sw & (SW_C0 | SW_C2 | SW_C3), SW_C0, "ftst_negative");
    __asm__ volatile("fldl %1\n\tftst\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(zero));
    kt_eq(sw & (SW_C0 | SW_C2 | SW_C3), SW_C3, "ftst_zero");

    /* FXAM classes (C3 C2 C0) and sign (C1). */
    static const struct {
        const char *name;
        uint64_t v;
        uint16_t cc;
    } fx[] = {
        {"fxam_pos_zero", D_0, SW_C3},
        {"fxam_neg_zero", 0x8000000000000000ull, SW_C3 | SW_C1},
        {"fxam_pos_normal", D_2, SW_C2},
        {"fxam_neg_normal", D_M1, SW_C2 | SW_C1},
        {"fxam_pos_inf", 0x7ff0000000000000ull, SW_C2 | SW_C0},
        {"fxam_nan", QNAN, SW_C0},
        {"fxam_denormal_as_normal", 0x0000000000000001ull, SW_C2},
    };
    for (unsigned i = 0; i < sizeof(fx) / sizeof(fx[0]); i++) {
        fninit();
        __asm__ volatile("fldl %1\n\tfxam\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(fx[i].v));
        kt_eq(sw & SW_CC, fx[i].cc, "%s", fx[i].name);
    }
    /* A double denormal is a normal extended number; an extended denormal stays one. */
    struct f80 den = {0x0000000000000001ull, 0x0000};
    __asm__ volatile("fninit\n\tfldt %1\n\tfxam\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(den));
    kt_eq(sw & SW_CC, SW_C3 | SW_C2, "fxam_denormal");
    __asm__ volatile("fninit\n\tfxam\n\tfnstsw %0" : "=m"(sw));
    kt_eq(sw & (SW_C0 | SW_C2 | SW_C3), SW_C3 | SW_C0, "fxam_empty");

    /* FCMOVcc (P6) follows EFLAGS. */
    uint64_t r, a = D_8, b = D_2;
    __asm__ volatile(
        "fninit\n\tfldl %2\n\tfldl %1\n\tstc\n\tfcmovb %%st(1), %%st\n\tfstpl %0\n\tfninit"
        : "=m"(r)
        : "m"(a), "m"(b)
        : "cc");
    kt_eq(r, D_2, "fcmovb_taken");
    __asm__ volatile("fninit\n\tfldl %2\n\tfldl %1\n\tstc\n\tfcmovnb %%st(1), %%st\n\tfstpl %0\n\t"
                     "fninit"
                     : "=m"(r)
                     : "m"(a), "m"(b)
                     : "cc");
    kt_eq(r, D_8, "fcmovnb_not_taken");
    __asm__ volatile("fninit\n\tfldl %2\n\tfldl %1\n\txorl %%eax, %%eax\n\tfcmove %%st(1), %%st\n\t"
                     "fstpl %0\n\tfninit"
                     : "=m"(r)
                     : "m"(a), "m"(b)
                     : "eax", "cc");
    kt_eq(r, D_2, "fcmove_taken");
}

/* ---- unary and special operations ---- */

static void unary_tests(void)
{
    struct f80 r;
    uint64_t d, v;
    uint16_t sw;
    v = D_2;
    __asm__ volatile("fninit\n\tfldl %1\n\tfsqrt\n\tfstpt %0" : "=m"(r) : "m"(v));
    eq80(r, 0x3fff, 0xb504f333f9de6484ull, "fsqrt_2");
    v = 0x4031000000000000ull; /* 17 */
    __asm__ volatile("fninit\n\tfldl %1\n\tfchs\n\tfstpl %0" : "=m"(d) : "m"(v));
    kt_eq(d, 0xc031000000000000ull, "fchs");
    __asm__ volatile("fninit\n\tfldl %1\n\tfchs\n\tfabs\n\tfstpl %0" : "=m"(d) : "m"(v));
    kt_eq(d, v, "fabs");
    uint64_t z = D_0;
    __asm__ volatile("fninit\n\tfldl %1\n\tfchs\n\tfstpl %0" : "=m"(d) : "m"(z));
    kt_eq(d, 0x8000000000000000ull, "fchs_zero_gives_neg_zero");

    /* FRNDINT in each rounding mode. */
    static const struct {
        uint16_t cw;
        uint64_t in, out;
        const char *name;
    } rnd[] = {{0x037f, D_2_5, D_2, "frndint_rn_2_5"},
               {0x037f, 0x400c000000000000ull, 0x4010000000000000ull, "frndint_rn_3_5"},
               {0x077f, D_M2_5, 0xc008000000000000ull, "frndint_rd_m2_5"},
               {0x0b7f, D_2_5, D_3, "frndint_ru_2_5"},
               {0x0f7f, 0x4005999999999999ull, D_2, "frndint_rz_2_7"},
               {0x037f, D_M2_5, 0xc000000000000000ull, "frndint_rn_m2_5"}};
    for (unsigned i = 0; i < sizeof(rnd) / sizeof(rnd[0]); i++) {
        fninit();
        fldcw(rnd[i].cw);
        __asm__ volatile("fldl %1\n\tfrndint\n\tfstpl %0" : "=m"(d) : "m"(rnd[i].in));
        kt_eq(d, rnd[i].out, "%s", rnd[i].name);
    }
    fninit();

    /* FSCALE: st0 * 2^trunc(st1). */
    uint64_t s15 = 0x3ff8000000000000ull, s37 = 0x400d99999999999aull, sm2 = 0xc000000000000000ull;
    __asm__ volatile("fninit\n\tfldl %2\n\tfldl %1\n\tfscale\n\tfstpl %0\n\tfninit"
                     : "=m"(d)
                     : "m"(s15), "m"(s37));
    kt_eq(d, 0x4028000000000000ull, "fscale_1_5_by_3_7");
    __asm__ volatile("fninit\n\tfldl %2\n\tfldl %1\n\tfscale\n\tfstpl %0\n\tfninit"
                     : "=m"(d)
                     : "m"(s15), "m"(sm2));
    kt_eq(d, 0x3fd8000000000000ull, "fscale_negative");
    /* FXTRACT: 12 -> st1 = 3 (exponent), st0 = 1.5 (significand). */
    uint64_t twelve = 0x4028000000000000ull, sig, ex;
    __asm__ volatile("fninit\n\tfldl %2\n\tfxtract\n\tfstpl %0\n\tfstpl %1"
                     : "=m"(sig), "=m"(ex)
                     : "m"(twelve));
    kt_ok(sig == s15 && ex == D_3, "fxtract_12");
    /* FPREM (truncating) and FPREM1 (IEEE), with the low quotient bits in C0 C3 C1. */
    uint64_t seven = 0x401c000000000000ull, three = D_3, eight = D_8, m7 = 0xc01c000000000000ull;
    __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\tfprem\n\tfnstsw %1\n\tfstpl %0\n\tfninit"
                     : "=m"(d), "=m"(sw)
                     : "m"(seven), "m"(three));
    kt_eq(d, D_1, "fprem_7_3");
    kt_eq(sw & SW_CC, SW_C3, "fprem_7_3_quotient_2"); /* Q1=1 in C3, Q0=0 in C1, Q2=0 in C0 */
    __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\tfprem\n\tfnstsw %1\n\tfstpl %0\n\tfninit"
                     : "=m"(d), "=m"(sw)
                     : "m"(m7), "m"(three));
    kt_eq(d, D_M1, "fprem_m7_3_sign_of_dividend");
    __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\tfprem1\n\tfnstsw %1\n\tfstpl %0\n\tfninit"
                     : "=m"(d), "=m"(sw)
                     : "m"(eight), "m"(three));
    kt_eq(d, D_M1, "fprem1_8_3");
    kt_eq(sw & SW_CC, SW_C3 | SW_C1, "fprem1_8_3_quotient_3");
    __asm__ volatile("fninit\n\tfldl %3\n\tfldl %2\n\tfprem\n\tfnstsw %1\n\tfstpl %0\n\tfninit"
                     : "=m"(d), "=m"(sw)
                     : "m"(eight), "m"(three));
    kt_eq(d, D_2, "fprem_8_3");

    /* Transcendentals on exact points. */
    __asm__ volatile("fninit\n\tfldz\n\tfsin\n\tfstpl %0" : "=m"(d));
    kt_eq(d, D_0, "fsin_0");
    __asm__ volatile("fninit\n\tfldz\n\tfcos\n\tfstpl %0" : "=m"(d));
    kt_eq(d, D_1, "fcos_0");
    uint64_t t0, t1;
    __asm__ volatile("fninit\n\tfldz\n\tfptan\n\tfstpl %0\n\tfstpl %1" : "=m"(t0), "=m"(t1));
    kt_ok(t0 == D_1 && t1 == D_0, "fptan_0_pushes_1");
    __asm__ volatile("fninit\n\tfldz\n\tfld1\n\tfpatan\n\tfstpl %0" : "=m"(d));
    kt_eq(d, D_0, "fpatan_0_over_1");
    fninit();
}

/* ---- rounding and precision control ---- */

static void rounding_tests(void)
{
    static const char *rc_name[4] = {"rn", "rd", "ru", "rz"};
    /* 1/3 and -1/3 at 64-, 53- and 24-bit precision. */
    static const uint64_t third[3][4][2] = {{{0xaaaaaaaaaaaaaaabull, 0xaaaaaaaaaaaaaaabull},
                                             {0xaaaaaaaaaaaaaaaaull, 0xaaaaaaaaaaaaaaabull},
                                             {0xaaaaaaaaaaaaaaabull, 0xaaaaaaaaaaaaaaaaull},
                                             {0xaaaaaaaaaaaaaaaaull, 0xaaaaaaaaaaaaaaaaull}},
                                            {{0xaaaaaaaaaaaaa800ull, 0xaaaaaaaaaaaaa800ull},
                                             {0xaaaaaaaaaaaaa800ull, 0xaaaaaaaaaaaab000ull},
                                             {0xaaaaaaaaaaaab000ull, 0xaaaaaaaaaaaaa800ull},
                                             {0xaaaaaaaaaaaaa800ull, 0xaaaaaaaaaaaaa800ull}},
                                            {{0xaaaaab0000000000ull, 0xaaaaab0000000000ull},
                                             {0xaaaaaa0000000000ull, 0xaaaaab0000000000ull},
                                             {0xaaaaab0000000000ull, 0xaaaaaa0000000000ull},
                                             {0xaaaaaa0000000000ull, 0xaaaaaa0000000000ull}}};
    static const uint16_t pc_bits[3] = {3, 2, 0};
    static const int pc_val[3] = {64, 53, 24};
    uint64_t three = D_3, mone = D_M1;
    for (int p = 0; p < 3; p++)
        for (int rc = 0; rc < 4; rc++) {
            struct f80 pos, neg;
            uint16_t cw = 0x7f | (pc_bits[p] << 8) | (rc << 10);
            fninit();
            fldcw(cw);
            __asm__ volatile("fld1\n\tfdivl %2\n\tfstpt %0\n\tfldl %3\n\tfdivl %2\n\tfstpt %1"
                             : "=m"(pos), "=m"(neg)
                             : "m"(three), "m"(mone));
            char name[48];
            kt_snprintf(name, sizeof(name), "third_pc%d_%s", pc_val[p], rc_name[rc]);
            eq80(pos, 0x3ffd, third[p][rc][0], name);
            kt_snprintf(name, sizeof(name), "minus_third_pc%d_%s", pc_val[p], rc_name[rc]);
            eq80(neg, 0xbffd, third[p][rc][1], name);
        }
    /* Exact halfway cases: 1 + 2^-64 and 1 + 3*2^-64 at 64 bits, 1 + 2^-24 at 24 bits,
     * 1 + 2^-53 at 53 bits, and the negative of the first. */
    uint64_t h64 = 0x3bf0000000000000ull, h64x3 = 0x3c08000000000000ull;
    uint64_t h24 = 0x3e70000000000000ull, h53 = 0x3ca0000000000000ull;
    static const struct {
        const char *name;
        int which, pc;
        uint64_t exp[4]; /* rn rd ru rz mantissas */
    } half[] = {
        {"half_1p2m64",
         0,
         3,
         {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000001ull,
          0x8000000000000000ull}},
        {"half_1p3x2m64",
         1,
         3,
         {0x8000000000000002ull, 0x8000000000000001ull, 0x8000000000000002ull,
          0x8000000000000001ull}},
        {"half_pc24_1p2m24",
         2,
         0,
         {0x8000000000000000ull, 0x8000000000000000ull, 0x8000010000000000ull,
          0x8000000000000000ull}},
        {"half_pc53_1p2m53",
         3,
         2,
         {0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000800ull,
          0x8000000000000000ull}},
        {"half_neg_1p2m64",
         4,
         3,
         {0x8000000000000000ull, 0x8000000000000001ull, 0x8000000000000000ull,
          0x8000000000000000ull}},
    };
    for (unsigned i = 0; i < sizeof(half) / sizeof(half[0]); i++)
        for (int rc = 0; rc < 4; rc++) {
            struct f80 r;
            uint64_t add = half[i].which == 0 || half[i].which == 4 ? h64
                           : half[i].which == 1                     ? h64x3
                           : half[i].which == 2                     ? h24
                                                                    : h53;
            fninit();
            fldcw(0x7f | (half[i].pc << 8) | (rc << 10));
            uint64_t mone = D_M1, nadd = add | (1ull << 63);
            if (half[i].which == 4)
                __asm__ volatile("fldl %1\n\tfaddl %2\n\tfstpt %0"
                                 : "=m"(r)
                                 : "m"(mone), "m"(nadd));
            else
                __asm__ volatile("fld1\n\tfaddl %1\n\tfstpt %0" : "=m"(r) : "m"(add));
            char name[48];
            kt_snprintf(name, sizeof(name), "%s_%s", half[i].name, rc_name[rc]);
            eq80(r, half[i].which == 4 ? 0xbfff : 0x3fff, half[i].exp[rc], name);
        }
    /* C1 reports a round-up on inexact results. */
    uint16_t sw;
    fninit();
    __asm__ volatile("fld1\n\tfdivl %1\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(three));
    kt_eq(sw & (SW_PE | SW_C1), SW_PE | SW_C1, "inexact_round_up_c1");
    fldcw(0x0f7f);
    __asm__ volatile("fld1\n\tfdivl %1\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(three));
    kt_eq(sw & (SW_PE | SW_C1), SW_PE, "inexact_chop_c1_clear");
}

/* ---- stack faults and masked exception responses ---- */

static void exception_tests(void)
{
    struct f80 r;
    uint64_t d;
    uint16_t sw;
    /* Overflow: the ninth push. */
    fninit();
    __asm__ volatile("fld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfld1\n\tfnstsw %0"
                     : "=m"(sw));
    kt_eq(sw & (SW_EXC | SW_SF), 0, "stack_eight_pushes_ok");
    __asm__ volatile("fldz\n\tfnstsw %0\n\tfstpt %1" : "=m"(sw), "=m"(r));
    kt_eq(sw & (SW_IE | SW_SF | SW_C1 | SW_ES), SW_IE | SW_SF | SW_C1, "stack_overflow_ie_sf_c1");
    eq80(r, 0xffff, 0xc000000000000000ull, "stack_overflow_loads_indefinite");
    /* Underflow: reading an empty register. */
    fninit();
    __asm__ volatile("fstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw));
    kt_eq(sw & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF, "stack_underflow_ie_sf_c1_clear");
    kt_eq(d, D_INDEF, "stack_underflow_stores_indefinite");
    kt_eq(SW_TOP(sw), 1, "stack_underflow_still_pops");
    fninit();
    __asm__ volatile("fld1\n\t.byte 0xd8, 0xc1\n\tfnstsw %0\n\tfstpt %1" : "=m"(sw), "=m"(r));
    kt_eq(sw & (SW_IE | SW_SF | SW_C1), SW_IE | SW_SF, "fadd_empty_sti_underflow");
    eq80(r, 0xffff, 0xc000000000000000ull, "fadd_empty_sti_indefinite");

    /* Masked responses. */
    uint64_t zero = D_0, one = D_1, mone = D_M1;
    fninit();
    __asm__ volatile("fld1\n\tfdivl %2\n\tfstpt %0\n\tfnstsw %1" : "=m"(r), "=m"(sw) : "m"(zero));
    eq80(r, 0x7fff, 0x8000000000000000ull, "div_by_zero_inf");
    kt_eq(sw & SW_EXC, SW_ZE, "div_by_zero_ze");
    fninit();
    __asm__ volatile("fldl %1\n\tfdivl %2\n\tfstpl %0" : "=m"(d) : "m"(mone), "m"(zero));
    kt_eq(d, 0xfff0000000000000ull, "neg_div_by_zero_neg_inf");
    fninit();
    __asm__ volatile("fldz\n\tfdivl %2\n\tfstpt %0\n\tfnstsw %1" : "=m"(r), "=m"(sw) : "m"(zero));
    eq80(r, 0xffff, 0xc000000000000000ull, "zero_div_zero_indefinite");
    kt_eq(sw & SW_EXC, SW_IE, "zero_div_zero_ie");
    fninit();
    __asm__ volatile("fldl %2\n\tfsqrt\n\tfstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "m"(mone));
    kt_eq(d, D_INDEF, "sqrt_neg_indefinite");
    kt_eq(sw & SW_EXC, SW_IE, "sqrt_neg_ie");
    uint64_t inf = 0x7ff0000000000000ull;
    fninit();
    __asm__ volatile("fldl %2\n\tfsubl %2\n\tfstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "m"(inf));
    kt_ok(d == D_INDEF && (sw & SW_IE), "inf_minus_inf_indefinite");
    struct f80 huge = {0x8000000000000000ull, 0x7000};
    fninit();
    __asm__ volatile("fldt %2\n\tfstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "m"(huge));
    kt_eq(d, inf, "store_overflow_inf");
    kt_eq(sw & SW_EXC, SW_OE | SW_PE, "store_overflow_oe_pe");
    struct f80 tiny = {0x8000000000000001ull, 0x3f00};
    uint32_t f;
    fninit();
    __asm__ volatile("fldt %2\n\tfstps %0\n\tfnstsw %1" : "=m"(f), "=m"(sw) : "m"(tiny));
    kt_eq(f, 0, "store_underflow_to_zero");
    kt_eq(sw & SW_EXC, SW_UE | SW_PE, "store_underflow_ue_pe");
    uint32_t fden = 0x00000001;
    fninit();
    __asm__ volatile("flds %1\n\tfnstsw %0\n\tfninit" : "=m"(sw) : "m"(fden));
    kt_eq(sw & SW_EXC, SW_DE, "load_denormal_de");
    uint64_t snan = SNAN;
    fninit();
    __asm__ volatile("fldl %2\n\tfstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "m"(snan));
    kt_eq(d, 0x7ff8000000000001ull, "load_snan_quieted");
    kt_eq(sw & SW_EXC, SW_IE, "load_snan_ie");
    fninit();
    __asm__ volatile("fld1\n\tfaddl %2\n\tfstpl %0\n\tfnstsw %1" : "=m"(d), "=m"(sw) : "m"(one));
    kt_ok(d == D_2 && (sw & SW_EXC) == 0, "exact_add_no_flags");
    /* Flags are sticky until FNCLEX. */
    __asm__ volatile("fninit\n\tfld1\n\tfdivl %0\n\tfld1\n\tfaddl %1\n\tfnclex\n\tfninit"
                     :
                     : "m"(zero), "m"(one));
    __asm__ volatile("fninit\n\tfldz\n\tfdivl %2\n\tfld1\n\tfaddl %3\n\tfnstsw %0\n\tfnclex\n\t"
                     "fnstsw %1\n\tfninit"
                     : "=m"(sw), "=m"(f)
                     : "m"(zero), "m"(one));
    kt_ok((sw & SW_IE) && !(f & SW_EXC), "sticky_until_fnclex");
}

/* ---- unmasked exceptions: #MF at the next waiting instruction (CR0.NE=1) ---- */

uint64_t x87_zero; /* absolute operand: fixes the ModR/M byte recorded in FOP */
uint64_t x87_two = D_2;

/* FIP, FOP and FDP/FDS follow every non-control instruction, not only faulting ones (the
 * common instructions take a shorter path in the emulator). */
static void last_insn_pointer_tests(void)
{
    uint32_t mul_at, xch_at;
    fninit();
    __asm__ volatile("movl $1f, %0\n\tmovl $2f, %1\n\t"
                     "fld1\n1:\n\tfmull x87_two\n\tfld1\n2:\n\tfxch %%st(1)\n\tfnclex"
                     : "=m"(mul_at), "=m"(xch_at)
                     :
                     : "memory");
    struct fenv e = fnstenv();
    kt_eq(e.fip, xch_at, "fip_after_fxch");
    kt_eq((e.fcs_op >> 16) & 0x7ff, 0x1c9, "fop_after_fxch"); /* d9 c9 */
    fninit();
    __asm__ volatile("movl $1f, %0\n\tfld1\n1:\n\tfmull x87_two" : "=m"(mul_at) : : "memory");
    e = fnstenv();
    kt_eq(e.fip, mul_at, "fip_after_fmul_m64");
    kt_eq((e.fcs_op >> 16) & 0x7ff, 0x40d, "fop_after_fmul_m64"); /* dc 0d */
    kt_eq(e.fdp, (uint32_t)&x87_two, "fdp_after_fmul_m64");
    kt_eq(e.fds & 0xffff, KT_DS, "fds_after_fmul_m64");
    uint64_t r;
    __asm__ volatile("fstpl %0\n\tfninit" : "=m"(r));
    kt_eq(r, D_2, "fmul_m64_result");
}

static void mf_tests(void)
{
    write_cr0(read_cr0() | CR0_NE);
    uint32_t wait_at, div_at;
    uint64_t zero = D_0;
    x87_zero = 0;
    fninit();
    fldcw(0x037b); /* ZE unmasked */
    kt_fault_reset();
    __asm__ volatile("movl $1f, %0\n\tmovl $2f, %1\n\t" KT_TRY "fld1\n2:\n\tfdivl x87_zero\n1:\n\t"
                     "fwait" KT_END
                     : "=m"(wait_at), "=m"(div_at)
                     :
                     : "memory");
    kt_eq_fault(16, 0, wait_at, "mf_at_next_fwait");
    uint16_t sw = fnstsw();
    kt_eq(sw & (SW_ZE | SW_ES | SW_B), SW_ZE | SW_ES | SW_B, "mf_fsw_ze_es_b");
    /* The environment points at the instruction that raised it: FIP/FCS, FOP (dc 35 -> 0x435),
     * FDP/FDS of its memory operand. */
    struct fenv e = fnstenv();
    kt_eq(e.fip, div_at, "mf_fip_is_faulting_insn");
    kt_eq(e.fcs_op & 0xffff, KT_CS, "mf_fcs");
    kt_eq((e.fcs_op >> 16) & 0x7ff, 0x435, "mf_fop");
    kt_eq(e.fdp, (uint32_t)&x87_zero, "mf_fdp");
    kt_eq(e.fds & 0xffff, KT_DS, "mf_fds");
    uint64_t st0;
    fninit();
    fldcw(0x037b);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fld1\n\tfdivl %1\n1:\n\tfld1" KT_END "fnclex\n\tfstpl %0\n\tfninit"
                     : "=m"(st0)
                     : "m"(zero)
                     : "memory");
    kt_eq(kt_last.vector, 16, "mf_at_next_fp_insn");
    kt_eq(st0, D_1, "mf_unmasked_leaves_operand");
    /* Non-waiting forms never raise #MF even with an exception pending. */
    fninit();
    fldcw(0x037b);
    kt_fault_reset();
    uint16_t cw;
    __asm__ volatile(KT_TRY "fld1\n\tfdivl %2\n\tfnstsw %0\n\tfnstcw %1\n\tfnclex\n\tfwait" KT_END
                     : "=m"(sw), "=m"(cw)
                     : "m"(zero)
                     : "memory");
    kt_no_fault("no_mf_for_fnstsw_fnstcw_fnclex");
    fninit();
    write_cr0(read_cr0() & ~CR0_NE);
}

/* ---- FSAVE/FRSTOR and FXSAVE/FXRSTOR images ---- */

static void save_tests(void)
{
    static uint8_t img[108];
    uint64_t a = D_8, b = D_2, r0, r1;
    fninit();
    fldcw(0x0b7f);
    __asm__ volatile("fldl %1\n\tfldl %2\n\tfnsave %0" : "=m"(img) : "m"(a), "m"(b));
    kt_eq(fnstcw(), 0x037f, "fnsave_reinitializes");
    uint32_t *env = (uint32_t *)img;
    kt_eq(env[0] & 0xffff, 0x0b7f, "fnsave_fcw");
    kt_eq((env[1] >> 11) & 7, 6, "fnsave_top");
    kt_eq(env[2] & 0xffff, 0x0fff, "fnsave_tags"); /* regs 6, 7 valid (00), rest empty */
    struct f80 *regs = (struct f80 *)(img + 28);
    eq80(regs[0], 0x4000, 0x8000000000000000ull, "fnsave_st0");
    eq80(regs[1], 0x4002, 0x8000000000000000ull, "fnsave_st1");
    regs[0].se = 0x3fff; /* st0 becomes 1.0 */
    __asm__ volatile("frstor %2\n\tfstpl %0\n\tfstpl %1" : "=m"(r0), "=m"(r1) : "m"(img));
    kt_ok(r0 == D_1 && r1 == D_8, "frstor_values");
    kt_eq(fnstcw(), 0x0b7f, "frstor_fcw");
    fninit();

    if (!(cpuid(1, 0).d & (1u << 24))) {
        kt_skip("fxsave", "CPUID reports no FXSR");
        return;
    }
    static uint8_t fx[512] __attribute__((aligned(16)));
    memset(fx, 0x5a, sizeof(fx));
    fninit();
    fldcw(0x077f);
    __asm__ volatile("fld1\n\tfldz\n\tfxsave %0" : "=m"(fx) : : "memory");
    kt_eq(*(uint16_t *)&fx[0], 0x077f, "fxsave_fcw");
    kt_eq(SW_TOP(*(uint16_t *)&fx[2]), 6, "fxsave_fsw_top");
    kt_eq(fx[4], 0xc0, "fxsave_abridged_tags");
    eq80(*(struct f80 *)&fx[32], 0, 0, "fxsave_st0_zero");
    eq80(*(struct f80 *)&fx[48], 0x3fff, 0x8000000000000000ull, "fxsave_st1_one");
    kt_eq(fnstcw(), 0x077f, "fxsave_keeps_state");
    *(uint16_t *)&fx[0] = 0x0f7f;
    *(uint64_t *)&fx[32] = 0x8000000000000000ull; /* st0: 1.0 * 2^(0x4001-0x3fff) = 4 */
    *(uint16_t *)&fx[40] = 0x4001;
    fninit();
    __asm__ volatile("fxrstor %2\n\tfstpl %0\n\tfstpl %1" : "=m"(r0), "=m"(r1) : "m"(fx));
    kt_ok(r0 == D_4 && r1 == D_1, "fxrstor_values");
    kt_eq(fnstcw(), 0x0f7f, "fxrstor_fcw");
    fninit();
    /* FXSAVE needs a 16-byte aligned operand: #GP(0) otherwise. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fxsave %0" KT_END : "=m"(fx[8]) : : "memory");
    kt_eq_fault(13, 0, kt_site, "fxsave_misaligned_gp");
}

/* ---- #NM: CR0.TS and CR0.EM ---- */

static void nm_tests(void)
{
    uint32_t cr0 = read_cr0();
    fninit();
    write_cr0(cr0 | CR0_TS);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fld1" KT_END ::: "memory");
    kt_eq_fault(7, 0, kt_site, "nm_ts_fp_insn");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fwait" KT_END ::: "memory");
    kt_no_fault("ts_mp0_fwait_ok");
    write_cr0(cr0 | CR0_TS | CR0_MP);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fwait" KT_END ::: "memory");
    kt_eq_fault(7, 0, kt_site, "nm_ts_mp_fwait");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fnstsw %%ax" KT_END ::: "eax", "memory");
    kt_eq_fault(7, 0, kt_site, "nm_ts_fnstsw");
    write_cr0(cr0 | CR0_EM);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fldz" KT_END ::: "memory");
    kt_eq_fault(7, 0, kt_site, "nm_em_fp_insn");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fwait" KT_END ::: "memory");
    kt_no_fault("em_fwait_ok");
    if (cpuid(1, 0).d & (1u << 24)) {
        static uint8_t fx[512] __attribute__((aligned(16)));
        kt_fault_reset();
        __asm__ volatile(KT_TRY "fxsave %0" KT_END : "=m"(fx) : : "memory");
        kt_eq_fault(7, 0, kt_site, "nm_em_fxsave");
    }
    write_cr0(cr0);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "fld1\n\tfwait\n\tfstp %%st(0)" KT_END ::: "memory");
    kt_no_fault("fp_ok_after_clearing_ts_em");
}

void test_main(void)
{
    init_tests();
    load_store_tests();
    arith_tests();
    compare_tests();
    unary_tests();
    rounding_tests();
    exception_tests();
    last_insn_pointer_tests();
    mf_tests();
    save_tests();
    nm_tests();
}
