/* Software x87 arithmetic (util/float80) checked bit for bit against the host's x87 FPU: edge
 * cases for every RC/PC setting plus seeded random operands (SDM vol. 1 ch. 4 and 8). */
#include "test.h"

#include "util/float80.h"
#include "util/float80_int.h"

/* --- Known answers, on every host ----------------------------------------------------------------
 * Results and status words recorded from an x87 (AMD EPYC host) for the behaviours that matter
 * most: ties under each RC and PC, tininess after rounding, bias-adjusted results for unmasked
 * OE/UE, NaN selection, unsupported encodings, partial remainders, the 66-bit pi reduction. */

enum {
    OP_ADD,
    OP_SUB,
    OP_MUL,
    OP_DIV,
    OP_SQRT,
    OP_PREM,
    OP_PREM1,
    OP_SCALE,
    OP_RNDINT,
    OP_SIN,
    OP_COS
};

static const struct {
    int op, rc, pc;
    uint8_t unmasked;
    Float80 a, b, r;
    uint16_t sw; /* exception flags and C0..C3 */
} kats[] = {
    {OP_ADD,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fbf},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     1,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fbf},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     2,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fbf},
     {0x8000000000000001ull, 0x3fff},
     0x0220},
    {OP_ADD,
     3,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fbf},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     0,
     0,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fe7},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     1,
     0,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fe7},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     2,
     0,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fe7},
     {0x8000010000000000ull, 0x3fff},
     0x0220},
    {OP_ADD,
     3,
     0,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fe7},
     {0x8000000000000000ull, 0x3fff},
     0x0020},
    {OP_ADD,
     0,
     2,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x3fca},
     {0x8000000000000800ull, 0x3fff},
     0x0220},
    {OP_SUB,
     3,
     3,
     0x00,
     {0x8000000000000000ull, 0x0001},
     {0x8000000000000000ull, 0x0000},
     {0x0000000000000000ull, 0x0000},
     0x0002},
    {OP_SUB,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fff},
     {0x0000000000000000ull, 0x0000},
     0x0000},
    {OP_SUB,
     1,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fff},
     {0x0000000000000000ull, 0x8000},
     0x0000},
    {OP_MUL,
     0,
     3,
     0x00,
     {0xffffffffffffffffull, 0x3ffe},
     {0x8000000000000000ull, 0x0001},
     {0x8000000000000000ull, 0x0001},
     0x0230},
    {OP_MUL,
     3,
     3,
     0x00,
     {0xffffffffffffffffull, 0x3ffe},
     {0x8000000000000000ull, 0x0001},
     {0x7fffffffffffffffull, 0x0000},
     0x0030},
    {OP_MUL,
     0,
     3,
     0x10,
     {0x8000000000000001ull, 0x3ffe},
     {0x8000000000000000ull, 0x0001},
     {0x8000000000000001ull, 0x6000},
     0x0010},
    {OP_MUL,
     0,
     3,
     0x08,
     {0xffffffffffffffffull, 0x7ffe},
     {0x8000000000000000ull, 0x4000},
     {0xffffffffffffffffull, 0x1fff},
     0x0008},
    {OP_MUL,
     0,
     3,
     0x00,
     {0xffffffffffffffffull, 0x7ffe},
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0x7fff},
     0x0228},
    {OP_MUL,
     1,
     3,
     0x00,
     {0xffffffffffffffffull, 0x7ffe},
     {0x8000000000000000ull, 0x4000},
     {0xffffffffffffffffull, 0x7ffe},
     0x0028},
    {OP_MUL,
     2,
     3,
     0x00,
     {0xffffffffffffffffull, 0x7ffe},
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0x7fff},
     0x0228},
    {OP_MUL,
     3,
     3,
     0x00,
     {0xffffffffffffffffull, 0x7ffe},
     {0x8000000000000000ull, 0x4000},
     {0xffffffffffffffffull, 0x7ffe},
     0x0028},
    {OP_MUL,
     0,
     3,
     0x00,
     {0x4000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0x3fff},
     {0x4000000000000000ull, 0x0000},
     0x0002},
    {OP_ADD,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x0000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0x0001},
     0x0002},
    {OP_ADD,
     0,
     3,
     0x00,
     {0x8000000000000001ull, 0x7fff},
     {0xc000000000000005ull, 0xffff},
     {0xc000000000000005ull, 0xffff},
     0x0001},
    {OP_ADD,
     0,
     3,
     0x00,
     {0xc000000000000005ull, 0xffff},
     {0xd000000000000000ull, 0x7fff},
     {0xd000000000000000ull, 0x7fff},
     0x0000},
    {OP_ADD,
     0,
     3,
     0x00,
     {0x8000000000000001ull, 0x7fff},
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000001ull, 0x7fff},
     0x0001},
    {OP_ADD,
     0,
     3,
     0x00,
     {0x4000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0xffff},
     0x0001},
    {OP_SUB,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x7fff},
     {0x8000000000000000ull, 0x7fff},
     {0xc000000000000000ull, 0xffff},
     0x0001},
    {OP_MUL,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x7fff},
     {0x0000000000000000ull, 0x0000},
     {0xc000000000000000ull, 0xffff},
     0x0001},
    {OP_DIV,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4000},
     {0xaaaaaaaaaaaaaaabull, 0x3ffd},
     0x0220},
    {OP_DIV,
     1,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4000},
     {0xaaaaaaaaaaaaaaaaull, 0x3ffd},
     0x0020},
    {OP_DIV,
     2,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4000},
     {0xaaaaaaaaaaaaaaabull, 0x3ffd},
     0x0220},
    {OP_DIV,
     3,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4000},
     {0xaaaaaaaaaaaaaaaaull, 0x3ffd},
     0x0020},
    {OP_DIV,
     0,
     0,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4000},
     {0xaaaaab0000000000ull, 0x3ffd},
     0x0220},
    {OP_DIV,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0x7fff},
     0x0004},
    {OP_DIV,
     0,
     3,
     0x00,
     {0x4000000000000000ull, 0x0000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0x7fff},
     0x0004},
    {OP_DIV,
     0,
     3,
     0x00,
     {0x0000000000000000ull, 0x0000},
     {0x0000000000000000ull, 0x0000},
     {0xc000000000000000ull, 0xffff},
     0x0001},
    {OP_SQRT,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0x4000},
     {0xb504f333f9de6484ull, 0x3fff},
     0x0020},
    {OP_SQRT,
     2,
     2,
     0x00,
     {0xc000000000000000ull, 0x4000},
     {0xc000000000000000ull, 0x4000},
     {0xddb3d742c2655800ull, 0x3fff},
     0x0220},
    {OP_SQRT,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0xbfff},
     {0x0000000000000000ull, 0x0000},
     {0xc000000000000000ull, 0xffff},
     0x0001},
    {OP_PREM,
     0,
     3,
     0x00,
     {0x9234567890abcdefull, 0x4063},
     {0xc90fdaa22168c235ull, 0x3fff},
     {0x9d306c9bfecce6f7ull, 0x403f},
     0x0400},
    {OP_PREM,
     0,
     3,
     0x00,
     {0xe000000000000000ull, 0x4001},
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0x3fff},
     0x4200},
    {OP_PREM1,
     0,
     3,
     0x00,
     {0xe000000000000000ull, 0x4001},
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0xbfff},
     0x0100},
    {OP_PREM1,
     0,
     3,
     0x00,
     {0xa000000000000000ull, 0x4001},
     {0x8000000000000000ull, 0x4000},
     {0x8000000000000000ull, 0x3fff},
     0x4000},
    {OP_SCALE,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0xc000000000000000ull, 0x4008},
     {0x8000000000000000ull, 0x42ff},
     0x0000},
    {OP_SCALE,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0xc00d},
     {0x2000000000000000ull, 0x0000},
     0x0000},
    {OP_SCALE,
     3,
     3,
     0x08,
     {0x8000000000000000ull, 0x3fff},
     {0x8000000000000000ull, 0x4010},
     {0x8000000000000000ull, 0x7fff},
     0x0228},
    {OP_RNDINT,
     0,
     3,
     0x00,
     {0xa000000000000000ull, 0xc000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0xc000},
     0x0020},
    {OP_RNDINT,
     1,
     3,
     0x00,
     {0xa000000000000000ull, 0xc000},
     {0x0000000000000000ull, 0x0000},
     {0xc000000000000000ull, 0xc000},
     0x0220},
    {OP_RNDINT,
     2,
     3,
     0x00,
     {0xa000000000000000ull, 0xc000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0xc000},
     0x0020},
    {OP_RNDINT,
     3,
     3,
     0x00,
     {0xa000000000000000ull, 0xc000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0xc000},
     0x0020},
    {OP_SIN,
     0,
     3,
     0x00,
     {0xc90fdaa22168c235ull, 0x4000},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0xbfbf},
     0x0220},
    {OP_COS,
     0,
     3,
     0x00,
     {0xc90fdaa22168c235ull, 0x3fff},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0xbfbe},
     0x0220},
    {OP_SIN,
     0,
     3,
     0x00,
     {0x8000000000000000ull, 0x403e},
     {0x0000000000000000ull, 0x0000},
     {0x8000000000000000ull, 0x403e},
     0x0400},
};

TEST(known_answers)
{
    for (unsigned i = 0; i < sizeof kats / sizeof kats[0]; i++) {
        F80Ctx c = {
            .rc = (uint8_t)kats[i].rc, .pc = (uint8_t)kats[i].pc, .unmasked = kats[i].unmasked};
        Float80 a = kats[i].a, b = kats[i].b, r;
        uint16_t cc = 0;
        switch (kats[i].op) {
        case OP_ADD: r = f80_add(&c, a, b); break;
        case OP_SUB: r = f80_sub(&c, a, b); break;
        case OP_MUL: r = f80_mul(&c, a, b); break;
        case OP_DIV: r = f80_div(&c, a, b); break;
        case OP_SQRT: r = f80_sqrt(&c, a); break;
        case OP_PREM: r = f80_prem(&c, a, b, &cc); break;
        case OP_PREM1: r = f80_prem1(&c, a, b, &cc); break;
        case OP_SCALE: r = f80_scale(&c, a, b); break;
        case OP_RNDINT: r = f80_rndint(&c, a); break;
        case OP_SIN: r = f80_sin(&c, a, &cc); break;
        default: r = f80_cos(&c, a, &cc); break;
        }
        uint16_t sw = (uint16_t)(c.exc | cc | (c.c1 ? F80_C1 : 0));
        if (!f80_same(r, kats[i].r) || sw != kats[i].sw)
            printf("# vector %u: got %04x:%016" PRIx64 " sw %04x, want %04x:%016" PRIx64
                   " sw %04x\n",
                   i, r.se, r.mant, sw, kats[i].r.se, kats[i].r.mant, kats[i].sw);
        CHECK(f80_same(r, kats[i].r));
        CHECK_EQ(sw, kats[i].sw);
    }
}

/* The portable 128-by-64-bit division agrees with the one the build uses (the host's
 * instruction on x86-64), on random normalised divisors and edge quotients. */
TEST(div128_generic)
{
    uint64_t x = 0x2545f4914f6cdd1dull;
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t d = x | 1ull << 63;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t hi = i % 7 == 0 ? d - 1 : i % 11 == 0 ? 0 : x % d;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint64_t lo = i % 13 == 0 ? ~0ull : x;
        uint64_t r1, r2;
        uint64_t q1 = f80i_div128(hi, lo, d, &r1), q2 = f80i_div128_generic(hi, lo, d, &r2);
        if (q1 != q2 || r1 != r2) bad++;
#ifdef __SIZEOF_INT128__
        unsigned __int128 n = (unsigned __int128)hi << 64 | lo;
        if ((uint64_t)(n / d) != q2 || (uint64_t)(n % d) != r2) bad++;
#endif
    }
    CHECK_EQ(bad, 0);
}

/* Every entry point on raw random bit patterns, including operands outside an instruction's
 * defined domain (F2XM1 beyond +-1, FYL2XP1 beyond 1 - sqrt(2)/2): nothing may trap or report
 * anything but the six flags; run under the sanitizers this also covers undefined behaviour. */
TEST(robustness)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        Float80 v[2];
        for (int k = 0; k < 2; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[k].mant = x;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            v[k].se = (uint16_t)x;
        }
        F80Ctx c = {
            .rc = (uint8_t)(i & 3), .pc = (uint8_t)(i >> 2 & 3), .unmasked = (uint8_t)(i & 0x18)};
        uint16_t cc;
        uint8_t bcd[10];
        Float80 t, u;
        f80_add(&c, v[0], v[1]), f80_sub(&c, v[0], v[1]), f80_mul(&c, v[0], v[1]);
        f80_div(&c, v[0], v[1]), f80_sqrt(&c, v[0]), f80_prem(&c, v[0], v[1], &cc);
        f80_prem1(&c, v[0], v[1], &cc), f80_rndint(&c, v[0]), f80_scale(&c, v[0], v[1]);
        f80_xtract(&c, v[0], &t), f80_compare(&c, v[0], v[1], i & 1), f80_fxam(v[0]);
        f80_to_i16(&c, v[0], i & 1), f80_to_i32(&c, v[0], i & 1), f80_to_i64(&c, v[0], i & 1);
        f80_from_f32(&c, (uint32_t)v[0].mant), f80_from_f64(&c, v[0].mant);
        f80_to_f32(&c, v[0]), f80_to_f64(&c, v[0]), f80_to_bcd(&c, v[0], bcd);
        memcpy(bcd, &v[1].mant, 8), memcpy(bcd + 8, &v[1].se, 2), f80_from_bcd(bcd);
        f80_sin(&c, v[0], &cc), f80_cos(&c, v[0], &cc), f80_tan(&c, v[0], &cc);
        f80_sincos(&c, v[0], &t, &u, &cc), f80_patan(&c, v[0], v[1]), f80_2xm1(&c, v[0]);
        f80_yl2x(&c, v[0], v[1]), f80_yl2xp1(&c, v[0], v[1]);
        CHECK(c.c1 <= 1);
        CHECK_EQ(c.exc & ~0x3f, 0);
    }
}

#if defined(__x86_64__) || defined(__i386__)

/* --- Host x87 access -----------------------------------------------------------------------------
 * Each helper starts and ends with FNINIT so the host stack is empty around it. Status is read
 * with FNSTSW and cleared with FNCLEX before storing, so unmasked OE/UE (the only unmasked
 * exceptions used) never reach a waiting instruction. */

typedef struct Host {
    Float80 r, r2;
    uint16_t sw;
} Host;

#define X87_CLOBBERS "st", "st(1)", "st(2)", "st(3)", "st(4)", "st(5)", "st(6)", "st(7)"

/* ST0 = a, ST1 = b, then insn; result ST0. */
#define HOST2(name, insn)                                                                          \
    __attribute__((unused)) static Host name(Float80 a, Float80 b, uint16_t cw)                    \
    {                                                                                              \
        Host h = {{0, 0}, {0, 0}, 0};                                                              \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\t" insn                \
                         "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                      \
                         : [r] "=m"(h.r), [sw] "=m"(h.sw)                                          \
                         : [a] "m"(a), [b] "m"(b), [cw] "m"(cw)                                    \
                         : X87_CLOBBERS);                                                          \
        return h;                                                                                  \
    }

/* ST0 = a, then insn; results ST0 and (for two-result instructions) ST1. */
#define HOST1(name, insn, two)                                                                     \
    __attribute__((unused)) static Host name(Float80 a, uint16_t cw)                               \
    {                                                                                              \
        Host h = {{0, 0}, {0, 0}, 0};                                                              \
        if (two)                                                                                   \
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn                         \
                             "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfninit"   \
                             : [r] "=m"(h.r), [r2] "=m"(h.r2), [sw] "=m"(h.sw)                     \
                             : [a] "m"(a), [cw] "m"(cw)                                            \
                             : X87_CLOBBERS);                                                      \
        else                                                                                       \
            __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn                         \
                             "\n\tfnstsw %[sw]\n\tfnclex\n\tfstpt %[r]\n\tfninit"                  \
                             : [r] "=m"(h.r), [sw] "=m"(h.sw)                                      \
                             : [a] "m"(a), [cw] "m"(cw)                                            \
                             : X87_CLOBBERS);                                                      \
        return h;                                                                                  \
    }

/* Store ST0 = a to memory with `insn`, into *out (up to 10 bytes). */
#define HOSTST(name, insn)                                                                         \
    __attribute__((unused)) static uint16_t name(Float80 a, uint16_t cw, void *out)                \
    {                                                                                              \
        uint16_t sw;                                                                               \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[a]\n\t" insn                             \
                         " (%[o])\n\tfnstsw %[sw]\n\tfninit"                                       \
                         : [sw] "=m"(sw)                                                           \
                         : [a] "m"(a), [cw] "m"(cw), [o] "r"(out)                                  \
                         : "memory", X87_CLOBBERS);                                                \
        return sw;                                                                                 \
    }

/* Load from memory *in with `insn`, result stored as 80 bits. */
#define HOSTLD(name, insn)                                                                         \
    __attribute__((unused)) static Host name(const void *in, uint16_t cw)                          \
    {                                                                                              \
        Host h = {{0, 0}, {0, 0}, 0};                                                              \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\t" insn " (%[i])\n\tfnstsw %[sw]\n\tfnclex\n\t"  \
                         "fstpt %[r]\n\tfninit"                                                    \
                         : [r] "=m"(h.r), [sw] "=m"(h.sw)                                          \
                         : [i] "r"(in), [cw] "m"(cw)                                               \
                         : "memory", X87_CLOBBERS);                                                \
        return h;                                                                                  \
    }

/* Constant load. */
#define HOSTK(name, insn)                                                                          \
    __attribute__((unused)) static Host name(uint16_t cw)                                          \
    {                                                                                              \
        Host h = {{0, 0}, {0, 0}, 0};                                                              \
        __asm__ volatile("fninit\n\tfldcw %[cw]\n\t" insn                                          \
                         "\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfninit"                                \
                         : [r] "=m"(h.r), [sw] "=m"(h.sw)                                          \
                         : [cw] "m"(cw)                                                            \
                         : X87_CLOBBERS);                                                          \
        return h;                                                                                  \
    }

HOST2(host_add, "fadd %%st(1), %%st")
HOST2(host_sub, "fsub %%st(1), %%st")
HOST2(host_mul, "fmul %%st(1), %%st")
HOST2(host_div, "fdiv %%st(1), %%st")
HOST2(host_prem, "fprem")
HOST2(host_prem1, "fprem1")
HOST2(host_scale, "fscale")
HOST2(host_com, "fcom %%st(1)")
HOST2(host_ucom, "fucom %%st(1)")
HOST2(host_patan, "fpatan")
HOST2(host_yl2x, "fyl2x")
HOST2(host_yl2xp1, "fyl2xp1")
HOST1(host_sqrt, "fsqrt", 0)
HOST1(host_rndint, "frndint", 0)
HOST1(host_xam, "fxam", 0)
HOST1(host_tst, "ftst", 0)
HOST1(host_xtract, "fxtract", 1)
HOST1(host_sin, "fsin", 0)
HOST1(host_cos, "fcos", 0)
HOST1(host_sincos, "fsincos", 1)
HOST1(host_ptan, "fptan", 1)
HOST1(host_2xm1, "f2xm1", 0)
HOSTST(host_st32, "fstps")
HOSTST(host_st64, "fstpl")
HOSTST(host_ist16, "fistps")
HOSTST(host_ist32, "fistpl")
HOSTST(host_ist64, "fistpll")
HOSTST(host_istt16, "fisttps")
HOSTST(host_istt32, "fisttpl")
HOSTST(host_istt64, "fisttpll")
HOSTST(host_bstp, "fbstp")
HOSTLD(host_ld32, "flds")
HOSTLD(host_ld64, "fldl")
HOSTLD(host_bld, "fbld")
HOSTK(host_ld1, "fld1")
HOSTK(host_ldl2t, "fldl2t")
HOSTK(host_ldl2e, "fldl2e")
HOSTK(host_ldpi, "fldpi")
HOSTK(host_ldlg2, "fldlg2")
HOSTK(host_ldln2, "fldln2")
HOSTK(host_ldz, "fldz")

/* --- Operand generation ---------------------------------------------------------------------- */

/* Fixed seed; FLOAT80_SEED=n in the environment explores other sequences. */
static uint64_t rng = 0x243f6a8885a308d3ull;
__attribute__((constructor)) static void float80_seed(void)
{
    const char *s = getenv("FLOAT80_SEED");
    if (s && strtoull(s, NULL, 0)) rng = strtoull(s, NULL, 0);
}
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Significands biased towards rounding edges: runs of ones or zeros at the PC boundaries. */
static uint64_t rand_mant(void)
{
    uint64_t m = rnd();
    switch (rnd() % 8) {
    case 0: m &= ~0ull << (rnd() % 64); break;
    case 1: m |= ~0ull >> (rnd() % 64); break;
    case 2: m = (m & ~0xffffffffffull) | (rnd() & 1 ? 0x8000000000ull : 0x7fffffffffull); break;
    case 3: m = (m & ~0x7ffull) | (rnd() & 1 ? 0x400ull : 0x3ffull); break;
    case 4: m = (m & ~0xffffffull) | (rnd() % 3 == 0 ? 0 : rnd() & 0x1ff); break;
    default: break;
    }
    return m | (1ull << 63);
}

/* Random sign, exponent in [lo, lo + span) and significand, drawn in a fixed order so the
 * sequence does not depend on the compiler's argument evaluation order. */
static Float80 rand_exp(int lo, int span)
{
    bool s = rnd() & 1;
    int e = lo + (int)(rnd() % (uint64_t)span);
    return f80_make(s, e, rand_mant());
}

/* Random control word: any RC, PC drawn from `pcs` values (1 = 64 bits only), and with
 * probability 1/4 the exceptions in `unmask` unmasked. */
static uint16_t rand_cw(int pcs, uint8_t unmask)
{
    int rc = (int)(rnd() & 3);
    int pc = pcs > 1 ? (int)(rnd() % (uint64_t)pcs) : 3;
    uint8_t um = rnd() % 4 ? 0 : unmask;
    return (uint16_t)(0x40 | (0x3f & ~um) | pc << 8 | rc << 10);
}

static Float80 rand_f80(void)
{
    bool s = rnd() & 1;
    uint64_t m = rand_mant();
    switch (rnd() % 32) {
    case 0: return f80_make(s, 0, 0);
    case 1: return f80_make(s, 0x7fff, 1ull << 63);
    case 2: return f80_make(s, 0x7fff, m | (1ull << 62));        /* QNaN */
    case 3: return f80_make(s, 0x7fff, (m & ~(1ull << 62)) | 1); /* SNaN */
    case 4: return f80_make(s, 0, m >> (1 + rnd() % 63));        /* denormal */
    case 5: return f80_make(s, 0, m);                            /* pseudo-denormal */
    case 6: {
        int e = (int)(rnd() % 0x7fff);
        return f80_make(s, e, m >> (1 + rnd() % 8)); /* unnormal etc. */
    }
    case 7: return f80_make(s, 0x7fff - 1 - rnd() % 64, m);   /* near overflow */
    case 8: return f80_make(s, 1 + rnd() % 64, m);            /* near underflow */
    case 9: return f80_make(s, rnd() % 0x7fff, m);            /* anywhere */
    default: return f80_make(s, 16383 - 70 + rnd() % 140, m); /* ordinary */
    }
}

/* Second operand related to the first: close values exercise cancellation and ties. */
static Float80 rand_partner(Float80 a)
{
    switch (rnd() % 8) {
    case 0: {
        bool s = rnd() & 1;
        return f80_make(s, f80_exp(a), a.mant ^ (rnd() & 0xff));
    }
    case 1: return rand_exp(f80_exp(a) - 69, 70);
    case 2: return rand_exp(f80_exp(a), 70);
    default: return rand_f80();
    }
}

static const Float80 edges[] = {
    {0, 0},
    {0, 0x8000},
    {1ull << 63, 0x7fff},
    {1ull << 63, 0xffff},
    {0xc000000000000000ull, 0x7fff}, /* QNaN */
    {0xc000000000000000ull, 0xffff}, /* indefinite */
    {0xe123456789abcdefull, 0x7fff},
    {0x8000000000000001ull, 0x7fff}, /* SNaN */
    {0xa123456789abcdefull, 0xffff},
    {1, 0},                          /* smallest denormal */
    {0x7fffffffffffffffull, 0x8000}, /* largest denormal */
    {0x4000000000000000ull, 0},
    {1ull << 63, 0}, /* pseudo-denormal */
    {1ull << 63, 1}, /* smallest normal */
    {~0ull, 0x7ffe}, /* largest finite */
    {~0ull, 0xfffe},
    {1ull << 63, 0x3fff}, /* 1 */
    {1ull << 63, 0xbfff},
    {0x8000000000000001ull, 0x3fff}, /* 1 + ulp */
    {~0ull, 0x3fff},                 /* 2 - ulp */
    {0xc000000000000000ull, 0x4000}, /* 3 */
    {1ull << 63, 0x3ffe},            /* 0.5 */
    {0x8000008000000000ull, 0x3fff}, /* PC24 halfway */
    {0x8000018000000000ull, 0x3fff},
    {0x8000000000000400ull, 0x3fff}, /* PC53 halfway */
    {0x8000000000000c00ull, 0xbfff},
    {0xffffff8000000000ull, 0x3fff},
    {0xfffffffffffffc00ull, 0x3fff},
    {0xc90fdaa22168c235ull, 0x4000}, /* pi */
    {0x4000000000000000ull, 0x3fff}, /* unnormal */
    {0, 0x7fff},                     /* pseudo-infinity */
    {0x4000000000000001ull, 0x7fff}, /* pseudo-NaN */
    {1ull << 63, 0x403e},            /* 2^63 */
    {0xfffffffffffff800ull, 0x43fe}, /* DBL_MAX */
    {0xffffff0000000000ull, 0x407e}, /* FLT_MAX */
    {1ull << 63, 0x3f81},            /* FLT_MIN */
    {1ull << 63, 0x3c01},            /* DBL_MIN */
    {0xffffff8000000000ull, 0x3f80}, /* rounds up to FLT_MIN: tiny only before rounding */
    {0xffffff7fffffffffull, 0xbf80},
    {0xfffffffffffffc00ull, 0x3c00}, /* same for DBL_MIN */
    {0xffffffffffffffffull, 0x3c00},
    {0xffffff8000000000ull, 0x0000}, /* pseudo-denormals that round up under PC */
    {0xfffffffffffff800ull, 0x8000},
    {0xabcdef0123456789ull, 0x3f70},
    {0xabcdef0123456789ull, 0xbc00},
    {0xfedcba9876543210ull, 0x4040},
};
#define N_EDGES (sizeof edges / sizeof edges[0])

static uint16_t make_cw(int rc, int pc, uint8_t unmasked)
{
    return (uint16_t)(0x40 | (0x3f & ~unmasked) | pc << 8 | rc << 10);
}

/* --- Comparison machinery -------------------------------------------------------------------- */

static int shown;

static void show(const char *what, Float80 a, Float80 b, uint16_t cw, Float80 got, unsigned gexc,
                 Float80 want, unsigned wsw)
{
    if (shown++ >= 8) return;
    printf("# %s a=%04x:%016" PRIx64 " b=%04x:%016" PRIx64 " cw=%04x: got %04x:%016" PRIx64
           " exc=%02x, host %04x:%016" PRIx64 " sw=%04x\n",
           what, a.se, a.mant, b.se, b.mant, cw, got.se, got.mant, gexc, want.se, want.mant, wsw);
}

/* Result bits, exception flags, and C1 when `c1` says it is meaningful. */
static bool same_result(Float80 got, const F80Ctx *c, Float80 want, uint16_t sw, bool c1)
{
    if (!f80_same(got, want)) return false;
    if (c->exc != (sw & 0x3f)) return false;
    if (c1 && c->c1 != !!(sw & F80_C1)) return false;
    return true;
}

/* --- Newer Intel x87s ----------------------------------------------------------------------------
 * A Sapphire Rapids-class Xeon answers a few edge cases differently from the P6 (and from the
 * AMD x87 the tests were first run on), whose answers the library gives. Each is accepted only
 * in its exact shape, counted and reported in a "#" line; everything else compares as before. */

static int passed_through; /* cases accepted by ue_passthrough, per test */

static void note_passthrough(const char *name)
{
    if (passed_through)
        printf("# %s: %d cases where the host passes the denormal operand through without the "
               "underflow response (newer Intel); accepted\n",
               name, passed_through);
}

/* FSCALE by +-0 and FPREM/FPREM1 by +-infinity of a denormal, UE unmasked: the exact result is
 * the denormal itself, tiny, so the P6 delivers the underflow response (SDM vol. 1, 8.5.5):
 * the value normalised with its exponent biased by +24576, and UE with DE. Newer Intel x87s
 * return the operand unchanged with DE alone. `cc` is the library's C0-C3. */
static bool ue_passthrough(Float80 a, const F80Ctx *c, Float80 got, uint16_t cc, const Host *h)
{
    if (f80_exp(a) != 0 || a.mant >> 63 || !a.mant || !(c->unmasked & F80_UE)) return false;
    int s = __builtin_clzll(a.mant);
    Float80 biased = f80_make(f80_sign(a), 1 - s + 24576, a.mant << s);
    return f80_same(got, biased) && c->exc == (F80_DE | F80_UE) && !c->c1 && !cc &&
           f80_same(h->r, a) && (h->sw & (0x3f | F80_C0 | F80_C1 | F80_C2 | F80_C3)) == F80_DE;
}

/* A result whose exact value lies a hair below 2^-16382 in magnitude (FSIN of +-2^-16382, also
 * as a pseudo-denormal; FPATAN with y/x = 2^-16382; the sine of FSINCOS), rounded toward zero:
 * the P6 gives the largest denormal (UE unmasked: the value below 2^-16382, exponent biased by
 * +24576) and UE; newer Intel x87s return +-2^-16382 itself, as if rounding to nearest, and
 * flag the rest (PE, DE) alike. */
static bool tiny_passthrough(const F80Ctx *c, Float80 got, Float80 want, uint16_t sw)
{
    bool neg = f80_sign(want);
    Float80 below =
        c->unmasked & F80_UE ? f80_make(neg, 24576, ~0ull) : f80_make(neg, 0, ~0ull >> 1);
    bool toward_zero = c->rc == F80_RC_ZERO || c->rc == (neg ? F80_RC_UP : F80_RC_DOWN);
    return toward_zero && f80_same(want, f80_make(neg, 1, 1ull << 63)) && f80_same(got, below) &&
           (c->exc & (F80_UE | F80_PE)) == (F80_UE | F80_PE) && (sw & 0x3f) == (c->exc & ~F80_UE);
}

typedef Float80 (*SoftOp2)(F80Ctx *, Float80, Float80);
typedef Host (*HostOp2)(Float80, Float80, uint16_t);

static bool check_op2(const char *name, SoftOp2 soft, HostOp2 host, Float80 a, Float80 b, int rc,
                      int pc, uint8_t unmasked)
{
    uint16_t cw = make_cw(rc, pc, unmasked);
    F80Ctx c = f80_ctx_from_fcw(cw);
    Float80 got = soft(&c, a, b);
    Host h = host(a, b, cw);
    if (same_result(got, &c, h.r, h.sw, true)) return true;
    if (soft == f80_scale && f80_classify(b) == F80_ZERO && ue_passthrough(a, &c, got, 0, &h)) {
        passed_through++;
        return true;
    }
    show(name, a, b, cw, got, c.exc | (c.c1 ? 0x200 : 0), h.r, h.sw);
    return false;
}

/* Every edge pair under every RC and PC, then `n` random pairs with random settings; a quarter
 * of the random ones run with OE and UE unmasked to check the bias-adjusted results. */
static int run_op2(const char *name, SoftOp2 soft, HostOp2 host, int n, bool use_pc)
{
    int bad = 0;
    shown = 0;
    for (unsigned i = 0; i < N_EDGES; i++)
        for (unsigned j = 0; j < N_EDGES; j++)
            for (int rc = 0; rc < 4; rc++)
                for (int pc = use_pc ? 0 : 3; pc < 4; pc++) {
                    if (pc == 1) continue;
                    bad += !check_op2(name, soft, host, edges[i], edges[j], rc, pc, 0);
                }
    for (int i = 0; i < n; i++) {
        Float80 a = rand_f80(), b = rand_partner(a);
        if (rnd() & 1) {
            Float80 t = a;
            a = b, b = t;
        }
        int pc = use_pc ? (int)(rnd() % 4) : 3; /* PC = 1 (reserved) acts as 64 bits */
        uint8_t um = rnd() % 4 == 0 ? (F80_OE | F80_UE) : 0;
        bad += !check_op2(name, soft, host, a, b, (int)(rnd() & 3), pc, um);
    }
    return bad;
}

/* --- Basic arithmetic ------------------------------------------------------------------------- */

TEST(add)
{
    CHECK_EQ(run_op2("add", f80_add, host_add, 30000, true), 0);
}
TEST(sub)
{
    CHECK_EQ(run_op2("sub", f80_sub, host_sub, 30000, true), 0);
}
TEST(mul)
{
    CHECK_EQ(run_op2("mul", f80_mul, host_mul, 30000, true), 0);
}
TEST(div)
{
    CHECK_EQ(run_op2("div", f80_div, host_div, 30000, true), 0);
}
TEST(scale)
{
    /* FSCALE's interesting range is small integers in ST1; mix those with random operands. */
    passed_through = 0;
    int bad = run_op2("scale", f80_scale, host_scale, 10000, false);
    for (int i = 0; i < 20000; i++) {
        Float80 a = rand_f80();
        int64_t k = (int64_t)(rnd() % 70000) - 35000;
        Float80 b = f80_from_i64(k);
        if (rnd() & 1) b.mant |= rnd() >> (f80_exp(b) - 16383 + 1); /* add a fraction */
        int rc = (int)(rnd() & 3);
        bad += !check_op2("scale", f80_scale, host_scale, a, b, rc, 3,
                          rnd() % 4 == 0 ? (F80_OE | F80_UE) : 0);
    }
    note_passthrough("scale");
    CHECK_EQ(bad, 0);
}

static void check_prem(bool one, int n, int *bad)
{
    for (int i = 0; i < n + (int)(N_EDGES * N_EDGES); i++) {
        Float80 a, b;
        if (i < (int)(N_EDGES * N_EDGES)) {
            a = edges[i / N_EDGES], b = edges[i % N_EDGES];
        } else {
            a = rand_f80();
            b = rand_partner(a);
        }
        uint16_t cw = rand_cw(4, F80_UE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        uint16_t cc;
        Float80 got = one ? f80_prem1(&c, a, b, &cc) : f80_prem(&c, a, b, &cc);
        Host h = one ? host_prem1(a, b, cw) : host_prem(a, b, cw);
        uint16_t want_cc = h.sw & (F80_C0 | F80_C1 | F80_C2 | F80_C3);
        if (f80_same(got, h.r) && c.exc == (h.sw & 0x3f) && (c.exc & F80_IE || cc == want_cc))
            continue;
        if (f80_classify(b) == F80_INF && ue_passthrough(a, &c, got, cc, &h)) {
            passed_through++;
            continue;
        }
        show(one ? "prem1" : "prem", a, b, cw, got, c.exc | cc, h.r, h.sw);
        ++*bad;
    }
}

TEST(prem)
{
    int bad = 0;
    shown = 0;
    passed_through = 0;
    check_prem(false, 30000, &bad);
    note_passthrough("prem");
    CHECK_EQ(bad, 0);
}

TEST(prem1)
{
    int bad = 0;
    shown = 0;
    passed_through = 0;
    check_prem(true, 30000, &bad);
    note_passthrough("prem1");
    CHECK_EQ(bad, 0);
}

typedef Float80 (*SoftOp1)(F80Ctx *, Float80);
typedef Host (*HostOp1)(Float80, uint16_t);

static int run_op1(const char *name, SoftOp1 soft, HostOp1 host, int n, bool use_pc)
{
    int bad = 0;
    shown = 0;
    for (int i = 0; i < n + (int)N_EDGES * 12; i++) {
        Float80 a = i < (int)N_EDGES * 12 ? edges[i / 12] : rand_f80();
        int rc = i < (int)N_EDGES * 12 ? i % 4 : (int)(rnd() & 3);
        int pc = use_pc ? (i < (int)N_EDGES * 12 ? (i / 4) % 3 : (int)(rnd() % 3)) : 3;
        if (pc == 1) pc = 3;
        uint16_t cw = make_cw(rc, pc, rnd() % 4 ? 0 : F80_OE | F80_UE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = soft(&c, a);
        Host h = host(a, cw);
        if (!same_result(got, &c, h.r, h.sw, true)) {
            show(name, a, a, cw, got, c.exc | (c.c1 ? 0x200 : 0), h.r, h.sw);
            bad++;
        }
    }
    return bad;
}

TEST(sqrt)
{
    int bad = run_op1("sqrt", f80_sqrt, host_sqrt, 40000, true);
    CHECK_EQ(bad, 0);
}

TEST(rndint)
{
    CHECK_EQ(run_op1("rndint", f80_rndint, host_rndint, 40000, false), 0);
}

TEST(xtract)
{
    int bad = 0;
    shown = 0;
    for (int i = 0; i < 20000 + (int)N_EDGES; i++) {
        Float80 a = i < (int)N_EDGES ? edges[i] : rand_f80();
        uint16_t cw = make_cw(0, 3, 0);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 e, s = f80_xtract(&c, a, &e);
        Host h = host_xtract(a, cw);
        if (!f80_same(s, h.r) || !f80_same(e, h.r2) || c.exc != (h.sw & 0x3f)) {
            show("xtract", a, e, cw, s, c.exc, h.r, h.sw);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

/* --- Comparison and classification ------------------------------------------------------------ */

TEST(compare)
{
    int bad = 0;
    shown = 0;
    const uint16_t ccmask = F80_C0 | F80_C2 | F80_C3;
    for (int i = 0; i < 40000 + (int)(N_EDGES * N_EDGES); i++) {
        Float80 a, b;
        if (i < (int)(N_EDGES * N_EDGES)) {
            a = edges[i / N_EDGES], b = edges[i % N_EDGES];
        } else {
            a = rand_f80();
            b = rnd() % 4 ? rand_partner(a) : a;
        }
        for (int quiet = 0; quiet < 2; quiet++) {
            uint16_t cw = make_cw(0, 3, 0);
            F80Ctx c = f80_ctx_from_fcw(cw);
            F80Rel r = f80_compare(&c, a, b, quiet);
            Host h = quiet ? host_ucom(a, b, cw) : host_com(a, b, cw);
            if (f80_rel_cc(r) != (h.sw & ccmask) || c.exc != (h.sw & 0x3f)) {
                show(quiet ? "ucom" : "com", a, b, cw, a, c.exc | f80_rel_cc(r), h.r, h.sw);
                bad++;
            }
        }
        /* FTST compares with +0 */
        uint16_t cw = make_cw(0, 3, 0);
        F80Ctx c = f80_ctx_from_fcw(cw);
        F80Rel r = f80_compare(&c, a, f80_make(false, 0, 0), false);
        Host h = host_tst(a, cw);
        if (f80_rel_cc(r) != (h.sw & ccmask) || c.exc != (h.sw & 0x3f)) {
            show("tst", a, b, cw, a, c.exc | f80_rel_cc(r), h.r, h.sw);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

TEST(fxam)
{
    int bad = 0;
    shown = 0;
    const uint16_t ccmask = F80_C0 | F80_C1 | F80_C2 | F80_C3;
    for (int i = 0; i < 20000 + (int)N_EDGES; i++) {
        Float80 a = i < (int)N_EDGES ? edges[i] : rand_f80();
        Host h = host_xam(a, 0x37f);
        if (f80_fxam(a) != (h.sw & ccmask)) {
            show("fxam", a, a, 0x37f, a, f80_fxam(a), h.r, h.sw);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

/* --- Conversions ------------------------------------------------------------------------------ */

TEST(store_float)
{
    int bad = 0;
    shown = 0;
    for (int i = 0; i < 60000 + (int)N_EDGES * 4; i++) {
        Float80 a = i < (int)N_EDGES * 4 ? edges[i / 4] : rand_f80();
        if (i >= (int)N_EDGES * 4 && rnd() % 3 == 0) {
            /* exponents around the float32/float64 ranges */
            int e = rnd() & 1 ? 16383 - 126 - 30 + (int)(rnd() % 60)
                              : 16383 - 1022 - 60 + (int)(rnd() % 100);
            if (rnd() % 4 == 0)
                e = rnd() & 1 ? 16383 + 128 - 3 + (int)(rnd() % 6)
                              : 16383 + 1024 - 3 + (int)(rnd() % 6);
            a = rand_exp(e, 1);
        }
        int rc = i < (int)N_EDGES * 4 ? i % 4 : (int)(rnd() & 3);
        uint16_t cw = make_cw(rc, (int)(rnd() % 4), 0);
        F80Ctx c = f80_ctx_from_fcw(cw);
        uint32_t f = f80_to_f32(&c, a), hf = 0;
        uint16_t sw = host_st32(a, cw, &hf);
        if (f != hf || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
            show("st32", a, a, cw, f80_make(0, 0, f), c.exc | (c.c1 ? 0x200 : 0),
                 f80_make(0, 0, hf), sw);
            bad++;
        }
        c = f80_ctx_from_fcw(cw);
        uint64_t d = f80_to_f64(&c, a), hd = 0;
        sw = host_st64(a, cw, &hd);
        if (d != hd || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
            show("st64", a, a, cw, f80_make(0, 0, d), c.exc | (c.c1 ? 0x200 : 0),
                 f80_make(0, 0, hd), sw);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

TEST(load_float)
{
    int bad = 0;
    shown = 0;
    for (int i = 0; i < 40000; i++) {
        uint32_t f = (uint32_t)rnd();
        uint64_t d = rnd();
        switch (i % 8) {
        case 0: f &= 0x807fffff, d &= 0x800fffffffffffffull; break; /* zero / denormal */
        case 1: f |= 0x7f800000, d |= 0x7ff0000000000000ull; break; /* inf / NaN */
        case 2:
            f = (f | 0x7f800000) & 0xffbfffff, d = (d | 0x7ff0000000000000ull) & ~(1ull << 51);
            break;
        case 3: f &= 0xff800000, d &= 0xfff0000000000000ull; break;
        default: break;
        }
        uint16_t cw = rand_cw(4, 0);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = f80_from_f32(&c, f);
        Host h = host_ld32(&f, cw);
        if (!same_result(got, &c, h.r, h.sw, false)) {
            show("ld32", f80_make(0, 0, f), got, cw, got, c.exc, h.r, h.sw);
            bad++;
        }
        c = f80_ctx_from_fcw(cw);
        got = f80_from_f64(&c, d);
        h = host_ld64(&d, cw);
        if (!same_result(got, &c, h.r, h.sw, false)) {
            show("ld64", f80_make(0, 0, d), got, cw, got, c.exc, h.r, h.sw);
            bad++;
        }
    }
    CHECK_EQ(bad, 0);
}

static Float80 rand_intish(void)
{
    /* values around the int16/int32/int64 limits and small fractions */
    int top = (int)(rnd() % 70);
    Float80 a = rand_exp(16383 + top - 3, 4);
    return rnd() % 4 ? a : rand_f80();
}

TEST(store_int)
{
    int bad = 0;
    shown = 0;
    /* +-2^15, 2^31, 2^63 offset by -1, -1/2, -1/4, 0, 1/4, 1/2, 1 (where representable) */
    Float80 lim[3 * 2 * 7];
    int nlim = 0;
    F80Ctx k = f80_ctx_from_fcw(0x37f);
    for (int w = 0; w < 3; w++)
        for (int sgn = 0; sgn < 2; sgn++)
            for (int off = -4; off <= 4; off++) {
                if (off == 3 || off == -3) continue;
                Float80 base = f80_make(sgn, 16383 + (w == 0 ? 15 : w == 1 ? 31 : 63), 1ull << 63);
                lim[nlim++] = f80_add(&k, base, f80_scale(&k, f80_from_i64(off), f80_from_i64(-2)));
            }
    int nfix = (int)N_EDGES + nlim;
    for (int i = 0; i < 30000 + nfix * 4; i++) {
        Float80 a = i < nfix * 4 ? (i / 4 < (int)N_EDGES ? edges[i / 4] : lim[i / 4 - (int)N_EDGES])
                                 : rand_intish();
        uint16_t cw = make_cw(i < nfix * 4 ? i % 4 : (int)(rnd() & 3), 3, 0);
        for (int t = 0; t < 2; t++) {
            int16_t h16 = 0;
            int32_t h32 = 0;
            int64_t h64 = 0;
            F80Ctx c = f80_ctx_from_fcw(cw);
            int16_t v16 = f80_to_i16(&c, a, t);
            uint16_t sw = t ? host_istt16(a, cw, &h16) : host_ist16(a, cw, &h16);
            if (v16 != h16 || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
                show(t ? "istt16" : "ist16", a, a, cw, f80_make(0, 0, (uint16_t)v16),
                     c.exc | (c.c1 ? 0x200 : 0), f80_make(0, 0, (uint16_t)h16), sw);
                bad++;
            }
            c = f80_ctx_from_fcw(cw);
            int32_t v32 = f80_to_i32(&c, a, t);
            sw = t ? host_istt32(a, cw, &h32) : host_ist32(a, cw, &h32);
            if (v32 != h32 || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
                show(t ? "istt32" : "ist32", a, a, cw, f80_make(0, 0, (uint32_t)v32),
                     c.exc | (c.c1 ? 0x200 : 0), f80_make(0, 0, (uint32_t)h32), sw);
                bad++;
            }
            c = f80_ctx_from_fcw(cw);
            int64_t v64 = f80_to_i64(&c, a, t);
            sw = t ? host_istt64(a, cw, &h64) : host_ist64(a, cw, &h64);
            if (v64 != h64 || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
                show(t ? "istt64" : "ist64", a, a, cw, f80_make(0, 0, (uint64_t)v64),
                     c.exc | (c.c1 ? 0x200 : 0), f80_make(0, 0, (uint64_t)h64), sw);
                bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);
}

TEST(load_int)
{
    int64_t vals[] = {0, 1, -1, 32767, -32768, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 12345};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        long double ld = (long double)vals[i];
        Float80 want;
        memcpy(&want, &ld, 10);
        want.se = ((uint16_t *)&ld)[4];
        Float80 got = f80_from_i64(vals[i]);
        CHECK_EQ(got.mant, want.mant);
        CHECK_EQ(got.se, want.se);
    }
}

TEST(bcd)
{
    int bad = 0;
    shown = 0;
    for (int i = 0; i < 30000 + (int)N_EDGES * 4; i++) {
        Float80 a = i < (int)N_EDGES * 4 ? edges[i / 4] : rand_intish();
        if (i % 5 == 0 && i >= (int)N_EDGES * 4) a = rand_exp(16383 + 56, 5);
        uint16_t cw = make_cw(i < (int)N_EDGES * 4 ? i % 4 : (int)(rnd() & 3), 3, 0);
        F80Ctx c = f80_ctx_from_fcw(cw);
        uint8_t got[10], want[10] = {0};
        f80_to_bcd(&c, a, got);
        uint16_t sw = host_bstp(a, cw, want);
        if (memcmp(got, want, 10) || c.exc != (sw & 0x3f) || c.c1 != !!(sw & F80_C1)) {
            Float80 g, w;
            memcpy(&g.mant, got, 8), memcpy(&g.se, got + 8, 2);
            memcpy(&w.mant, want, 8), memcpy(&w.se, want + 8, 2);
            show("bstp", a, a, cw, g, c.exc | (c.c1 ? 0x200 : 0), w, sw);
            bad++;
        }
        /* and back: FBLD of the stored digits (valid BCD) */
        if (!(c.exc & F80_IE)) {
            Host h = host_bld(got, cw);
            Float80 r = f80_from_bcd(got);
            if (!f80_same(r, h.r) || (h.sw & 0x3f)) {
                show("bld", a, a, cw, r, 0, h.r, h.sw);
                bad++;
            }
        }
    }
    CHECK_EQ(bad, 0);
}

TEST(constants)
{
    static const struct {
        F80Const k;
        Host (*host)(uint16_t);
    } ks[] = {
        {F80_CONST_ONE, host_ld1},  {F80_CONST_L2T, host_ldl2t}, {F80_CONST_L2E, host_ldl2e},
        {F80_CONST_PI, host_ldpi},  {F80_CONST_LG2, host_ldlg2}, {F80_CONST_LN2, host_ldln2},
        {F80_CONST_ZERO, host_ldz},
    };
    shown = 0;
    for (unsigned i = 0; i < sizeof ks / sizeof ks[0]; i++)
        for (int rc = 0; rc < 4; rc++)
            for (int pc = 0; pc < 4; pc++) {
                uint16_t cw = make_cw(rc, pc, 0);
                F80Ctx c = f80_ctx_from_fcw(cw);
                Float80 got = f80_const(&c, ks[i].k);
                Host h = ks[i].host(cw);
                if (!f80_same(got, h.r) || (h.sw & 0x3f))
                    show("const", got, got, cw, got, 0, h.r, h.sw);
                CHECK(f80_same(got, h.r));
            }
}

/* --- Transcendentals -----------------------------------------------------------------------------
 * Not bit-exact by design: results must be within MAX_ULP of the host, exception flags must
 * match exactly, and C1 must match whenever the result bits do. Each test prints how many
 * results matched exactly. */

#define MAX_ULP 1

/* Distance in units in the last place between two finite values (or 0 for identical bits). */
static uint64_t ulp_dist(Float80 a, Float80 b)
{
    if (f80_same(a, b)) return 0;
    if (f80_exp(a) == 0x7fff || f80_exp(b) == 0x7fff) return UINT64_MAX;
    int ea = f80_exp(a) ? f80_exp(a) : 1, eb = f80_exp(b) ? f80_exp(b) : 1;
    if (f80_sign(a) != f80_sign(b)) {
        /* only tiny values of opposite sign can be close */
        if (ea > 1 || eb > 1) return UINT64_MAX;
        return a.mant + b.mant;
    }
    if (ea - eb > 1 || eb - ea > 1) return UINT64_MAX;
    int64_t d = (int64_t)((uint64_t)(int64_t)(ea - eb) * (1ull << 63) + a.mant - b.mant);
    return d < 0 ? (uint64_t)-d : (uint64_t)d;
}

typedef struct TransStats {
    int n, exact, bad, c1_same, passed;
    uint64_t worst;
} TransStats;

/* `tiny` says the case is tiny_passthrough's, which then stands in for the result and flags. */
static void trans_check(TransStats *st, const char *name, Float80 a, Float80 b, uint16_t cw,
                        Float80 got, const F80Ctx *c, uint16_t gcc, Float80 want, uint16_t sw,
                        uint16_t ccmask, bool tiny)
{
    uint64_t d = ulp_dist(got, want);
    st->n++;
    st->exact += d == 0;
    if (d != UINT64_MAX && d > st->worst) st->worst = d;
    bool ok = (tiny || (d <= MAX_ULP && c->exc == (sw & 0x3f))) && (gcc & ccmask) == (sw & ccmask);
    st->passed += tiny && ok;
    /* C1 reports the direction of the FPU's own rounding of its internal approximation, so it
     * can differ even where the result bits agree; it is only counted. */
    st->c1_same += d == 0 && c->c1 == !!(sw & F80_C1);
    if (!ok) {
        st->bad++;
        show(name, a, b, cw, got, c->exc | gcc | (c->c1 ? 0x200 : 0), want, sw);
    }
}

static void trans_report(const char *name, TransStats *st)
{
    printf("# %s: %d cases, %d bit-exact (%d of them with the same C1), worst %" PRIu64 " ulp\n",
           name, st->n, st->exact, st->c1_same, st->worst);
    if (st->passed)
        printf("# %s: %d cases where the host returns +-2^-16382 without underflow where the P6 "
               "rounds toward zero to a denormal (newer Intel); accepted\n",
               name, st->passed);
}

/* Trigonometric arguments: tiny, ordinary, huge, near multiples of pi/2 and the C2 range. */
static Float80 rand_angle(void)
{
    switch (rnd() % 8) {
    case 0: return rand_f80();
    case 1: return rand_exp(16383 - 80, 80);
    case 2: return rand_exp(16383, 64);
    case 3: {
        /* k * FLDPI/2 +- a few ulps: results dominated by the reduction constant */
        F80Ctx c = f80_ctx_from_fcw(0x37f);
        Float80 k = f80_from_i64((int64_t)(rnd() % 100000));
        Float80 p = f80_mul(&c, k, f80_make(false, 16383, 0xc90fdaa22168c235ull));
        p.mant += rnd() % 5 - 2;
        return p;
    }
    case 4: return rand_exp(16383 + 62, 3);
    default: return rand_exp(16383 - 3, 8);
    }
}

static void trig_test(int which, int n, TransStats *st)
{
    static const char *names[] = {"sin", "cos", "tan", "sincos"};
    shown = 0;
    for (int i = 0; i < n + (int)N_EDGES; i++) {
        Float80 a = i < (int)N_EDGES ? edges[i] : rand_angle();
        uint16_t cw = rand_cw(4, F80_UE | F80_OE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        uint16_t cc;
        Host h;
        Float80 got, got2 = {0, 0};
        bool tiny = false;
        switch (which) {
        case 0:
            got = f80_sin(&c, a, &cc), h = host_sin(a, cw);
            tiny = tiny_passthrough(&c, got, h.r, h.sw);
            break;
        case 1: got = f80_cos(&c, a, &cc), h = host_cos(a, cw); break;
        case 2:
            got = f80_tan(&c, a, &cc), h = host_ptan(a, cw);
            if (!(cc & F80_C2)) {
                /* FPTAN pushes 1.0 over the result, or a copy of a NaN result. */
                Float80 pushed = f80_is_nan(got) ? got : f80_make(false, 16383, 1ull << 63);
                if (!f80_same(h.r, pushed)) show("ptan.push", a, a, cw, got, c.exc, h.r, h.sw);
                CHECK(f80_same(h.r, pushed));
                h.r = h.r2;
            }
            break;
        default:
            f80_sincos(&c, a, &got2, &got, &cc), h = host_sincos(a, cw);
            /* the sine is the tiny one; the cosine must still be within MAX_ULP */
            tiny = tiny_passthrough(&c, got2, h.r2, h.sw) && ulp_dist(got, h.r) <= MAX_ULP;
            if (!(cc & F80_C2) && !(c.exc & F80_IE) && !tiny) {
                if (ulp_dist(got2, h.r2) > MAX_ULP) {
                    show("sincos.sin", a, a, cw, got2, c.exc, h.r2, h.sw);
                    st->bad++;
                }
            }
            break;
        }
        trans_check(st, names[which], a, a, cw, got, &c, cc, h.r, h.sw, F80_C2, tiny);
    }
    trans_report(names[which], st);
}

TEST(sin)
{
    TransStats st = {0};
    trig_test(0, 20000, &st);
    CHECK_EQ(st.bad, 0);
}

TEST(cos)
{
    TransStats st = {0};
    trig_test(1, 20000, &st);
    CHECK_EQ(st.bad, 0);
}

TEST(ptan)
{
    TransStats st = {0};
    trig_test(2, 20000, &st);
    CHECK_EQ(st.bad, 0);
}

TEST(sincos)
{
    TransStats st = {0};
    trig_test(3, 10000, &st);
    CHECK_EQ(st.bad, 0);
}

TEST(patan)
{
    TransStats st = {0};
    shown = 0;
    for (int i = 0; i < 20000 + (int)(N_EDGES * N_EDGES); i++) {
        Float80 y, x;
        if (i < (int)(N_EDGES * N_EDGES)) {
            y = edges[i / N_EDGES], x = edges[i % N_EDGES];
        } else {
            y = rand_f80();
            x = rand_partner(y);
        }
        uint16_t cw = rand_cw(4, F80_UE | F80_OE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = f80_patan(&c, y, x);
        Host h = host_patan(x, y, cw);
        trans_check(&st, "patan", y, x, cw, got, &c, 0, h.r, h.sw, 0,
                    tiny_passthrough(&c, got, h.r, h.sw));
    }
    trans_report("patan", &st);
    CHECK_EQ(st.bad, 0);
}

TEST(f2xm1)
{
    TransStats st = {0};
    shown = 0;
    for (int i = 0; i < 20000 + (int)N_EDGES; i++) {
        Float80 a = i < (int)N_EDGES ? edges[i] : rnd() % 8 ? rand_exp(16383 - 70, 70) : rand_f80();
        if (f80_classify(a) == F80_NORMAL && f80_exp(a) >= 16383 &&
            !(f80_exp(a) == 16383 && a.mant == 1ull << 63))
            continue; /* |x| > 1: undefined */
        uint16_t cw = rand_cw(4, F80_UE | F80_OE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = f80_2xm1(&c, a);
        Host h = host_2xm1(a, cw);
        trans_check(&st, "f2xm1", a, a, cw, got, &c, 0, h.r, h.sw, 0, false);
    }
    trans_report("f2xm1", &st);
    CHECK_EQ(st.bad, 0);
}

TEST(yl2x)
{
    TransStats st = {0};
    shown = 0;
    for (int i = 0; i < 20000 + (int)(N_EDGES * N_EDGES); i++) {
        Float80 y, x;
        if (i < (int)(N_EDGES * N_EDGES)) {
            y = edges[i / N_EDGES], x = edges[i % N_EDGES];
        } else {
            y = rand_f80();
            switch (rnd() % 4) {
            case 0: x = rand_f80(); break;
            case 1: x = f80_abs(rand_exp(16382, 2)); break; /* near 1 */
            default: x = f80_abs(rand_exp(1, 0x7ffd)); break;
            }
        }
        uint16_t cw = rand_cw(4, F80_UE | F80_OE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = f80_yl2x(&c, y, x);
        Host h = host_yl2x(x, y, cw);
        trans_check(&st, "yl2x", y, x, cw, got, &c, 0, h.r, h.sw, 0, false);
    }
    trans_report("yl2x", &st);
    CHECK_EQ(st.bad, 0);
}

TEST(yl2xp1)
{
    TransStats st = {0};
    shown = 0;
    for (int i = 0; i < 20000 + (int)(N_EDGES * N_EDGES); i++) {
        Float80 y, x;
        if (i < (int)(N_EDGES * N_EDGES)) {
            y = edges[i / N_EDGES], x = edges[i % N_EDGES];
        } else {
            y = rand_f80();
            x = rnd() % 8 ? rand_exp(16380 - 79, 80) : rand_f80();
        }
        /* The instruction is defined for |x| < 1 - sqrt(2)/2 only. */
        F80Class cx = f80_classify(x);
        if ((cx == F80_NORMAL && f80_exp(x) >= 16381) || cx == F80_INF) continue;
        uint16_t cw = rand_cw(4, F80_UE | F80_OE);
        F80Ctx c = f80_ctx_from_fcw(cw);
        Float80 got = f80_yl2xp1(&c, y, x);
        Host h = host_yl2xp1(x, y, cw);
        trans_check(&st, "yl2xp1", y, x, cw, got, &c, 0, h.r, h.sw, 0, false);
    }
    trans_report("yl2xp1", &st);
    CHECK_EQ(st.bad, 0);
}

#else

/* No x87 to compare with: name every differential test as skipped. */
__attribute__((constructor)) static void float80_skip_host_tests(void)
{
    static const char *const names[] = {
        "add",       "sub",      "mul",    "div",       "scale",  "prem",        "prem1",
        "sqrt",      "rndint",   "xtract", "compare",   "fxam",   "store_float", "load_float",
        "store_int", "load_int", "bcd",    "constants", "sin",    "cos",         "ptan",
        "sincos",    "patan",    "f2xm1",  "yl2x",      "yl2xp1",
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        printf("SKIP unit.float80.%s: needs an x87 host\n", names[i]);
}

#endif
