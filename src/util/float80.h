/* x87 80-bit extended-precision arithmetic in software (IEEE 754 double-extended as the x87
 * implements it, SDM vol. 1 ch. 4 and 8), bit-exact with a real FPU for the basic operations. */
#ifndef UTIL_FLOAT80_H
#define UTIL_FLOAT80_H

#include <stdbool.h>
#include <stdint.h>

/* 64-bit significand with explicit integer bit; se = sign (bit 15) and biased exponent. */
typedef struct Float80 {
    uint64_t mant;
    uint16_t se;
} Float80;

/* Exception flags, in x87 status-word (and control-word mask) bit positions. */
enum {
    F80_IE = 0x01, /* invalid operation (stack faults are the caller's business) */
    F80_DE = 0x02, /* denormal operand */
    F80_ZE = 0x04, /* zero divide */
    F80_OE = 0x08, /* overflow */
    F80_UE = 0x10, /* underflow */
    F80_PE = 0x20, /* precision (inexact) */
};

/* Condition-code bits in their status-word positions, so callers can OR them into FSW. */
#define F80_C0 0x0100
#define F80_C1 0x0200
#define F80_C2 0x0400
#define F80_C3 0x4000

/* FCW.RC and FCW.PC encodings. */
enum { F80_RC_NEAREST = 0, F80_RC_DOWN = 1, F80_RC_UP = 2, F80_RC_ZERO = 3 };
enum { F80_PC_24 = 0, F80_PC_53 = 2, F80_PC_64 = 3 };

/*
 * Per-operation environment and result status.
 *
 * rc, pc:   rounding and precision control, as in FCW. pc only affects add, sub, mul, div and
 *           sqrt (SDM vol. 1, 8.1.5.2); everything else rounds to 64 bits. pc = 1 (reserved)
 *           behaves as 64 bits.
 * unmasked: FCW exception bits that are NOT masked (~FCW & 0x3f). Only OE and UE change what the
 *           library computes: when set, a result that overflows or underflows into an 80-bit
 *           register is returned with its exponent biased by -24576 / +24576 (rounded as usual,
 *           PC included), and UE is reported for every tiny result, exact or not (SDM vol. 1,
 *           8.5.4 and 8.5.5); a result still out of range after biasing (FSCALE) becomes an
 *           infinity or a signed zero, as measured on hardware. Everything else about unmasked
 * exceptions (not writing the destination on IE/DE/ZE, not storing to memory on OE/UE, raising #MF)
 * is the caller's. A zeroed context therefore means "all exceptions masked". exc:      accumulated
 * exception flags (F80_IE...). The library only ORs bits in. c1:       set by every operation that
 * rounds: 1 if the result's magnitude was rounded up, else 0 (the x87 "round-up" C1). Operations
 * that do not round leave it 0.
 */
typedef struct F80Ctx {
    uint8_t rc;
    uint8_t pc;
    uint8_t unmasked;
    uint8_t exc;
    uint8_t c1;
} F80Ctx;

/* Context from a control word (RC, PC, masks); exc and c1 cleared. Inline: built in registers
 * at the call site rather than returned through memory (a store-forwarding stall otherwise). */
static inline F80Ctx f80_ctx_from_fcw(uint16_t fcw)
{
    F80Ctx c;
    c.rc = (uint8_t)(fcw >> 10 & 3);
    c.pc = (uint8_t)(fcw >> 8 & 3);
    c.unmasked = (uint8_t)(~fcw & 0x3f);
    c.exc = 0;
    c.c1 = 0;
    return c;
}

/* --- Encodings ------------------------------------------------------------------------------- */

static inline bool f80_sign(Float80 a)
{
    return a.se >> 15;
}
static inline int f80_exp(Float80 a)
{
    return a.se & 0x7fff;
}
static inline Float80 f80_make(bool sign, int exp, uint64_t mant)
{
    return (Float80){mant, (uint16_t)((sign ? 0x8000 : 0) | (exp & 0x7fff))};
}
static inline Float80 f80_abs(Float80 a)
{
    return (Float80){a.mant, (uint16_t)(a.se & 0x7fff)};
}
static inline Float80 f80_chs(Float80 a)
{
    return (Float80){a.mant, (uint16_t)(a.se ^ 0x8000)};
}
static inline bool f80_same(Float80 a, Float80 b)
{
    return a.mant == b.mant && a.se == b.se;
}

#define F80_INDEFINITE ((Float80){0xc000000000000000ull, 0xffff}) /* default QNaN */

/* Operand classes. Denormal includes pseudo-denormals (exponent 0, integer bit 1), which the
 * x87 accepts as denormal operands. Unsupported covers unnormals, pseudo-NaNs and
 * pseudo-infinities (integer bit clear with a non-zero exponent), which raise IE as on a P6. */
typedef enum F80Class {
    F80_ZERO,
    F80_NORMAL,
    F80_DENORMAL,
    F80_INF,
    F80_QNAN,
    F80_SNAN,
    F80_UNSUPPORTED,
} F80Class;

F80Class f80_classify(Float80 a);
static inline bool f80_is_nan(Float80 a)
{
    F80Class c = f80_classify(a);
    return c == F80_QNAN || c == F80_SNAN;
}

/* FXAM: C3, C2, C0 class code plus C1 = sign. The "empty" code (C3|C0) is the caller's. */
uint16_t f80_fxam(Float80 a);

/* --- Constants ------------------------------------------------------------------------------- */

typedef enum F80Const {
    F80_CONST_ONE, /* FLD1 */
    F80_CONST_L2T, /* FLDL2T: log2(10) */
    F80_CONST_L2E, /* FLDL2E: log2(e) */
    F80_CONST_PI,  /* FLDPI */
    F80_CONST_LG2, /* FLDLG2: log10(2) */
    F80_CONST_LN2, /* FLDLN2: ln(2) */
    F80_CONST_ZERO /* FLDZ */
} F80Const;

/* The constant rounded by ctx->rc as the x87 rounds its wider internal value: round-to-nearest
 * gives the correctly rounded constant, up the next value above, down and zero the one below.
 * PC is ignored and no flags are raised. */
Float80 f80_const(const F80Ctx *ctx, F80Const which);

/* --- Arithmetic ----------------------------------------------------------------------------------
 * All follow the x87 operand rules: NaN propagation as SDM vol. 1 table 4-7 (an SNaN raises IE
 * and is quieted; of two NaNs the QNaN wins over an SNaN, else the larger significand),
 * unsupported operands and invalid combinations give IE and the real indefinite, denormal
 * operands raise DE unless IE or ZE is raised instead (so denormal / 0 is ZE alone). An exact
 * zero sum is +0, or -0 under RC down. Results are rounded by ctx->rc and, where the x87 does,
 * ctx->pc. */

Float80 f80_add(F80Ctx *ctx, Float80 a, Float80 b);
Float80 f80_sub(F80Ctx *ctx, Float80 a, Float80 b); /* a - b */
Float80 f80_mul(F80Ctx *ctx, Float80 a, Float80 b);
Float80 f80_div(F80Ctx *ctx, Float80 a, Float80 b); /* a / b */
Float80 f80_sqrt(F80Ctx *ctx, Float80 a);

/* FPREM (truncated quotient) and FPREM1 (quotient rounded to nearest) of a = ST0 by b = ST1.
 * *cc receives C2 = incomplete (partial remainder, exponent reduced by 32..63 bits) or, when
 * complete, the low quotient bits C0 = Q2, C3 = Q1, C1 = Q0. */
Float80 f80_prem(F80Ctx *ctx, Float80 a, Float80 b, uint16_t *cc);
Float80 f80_prem1(F80Ctx *ctx, Float80 a, Float80 b, uint16_t *cc);

Float80 f80_rndint(F80Ctx *ctx, Float80 a);             /* FRNDINT by ctx->rc */
Float80 f80_scale(F80Ctx *ctx, Float80 a, Float80 b);   /* FSCALE: a * 2^trunc(b) */
Float80 f80_xtract(F80Ctx *ctx, Float80 a, Float80 *e); /* FXTRACT: returns significand */

/* FCOM/FUCOM family. quiet = FUCOM semantics (IE only for SNaN and unsupported operands); else
 * any NaN raises IE. FTST is a comparison with +0, FICOM with the integer converted exactly. */
typedef enum F80Rel { F80_LT, F80_EQ, F80_GT, F80_UNORDERED } F80Rel;
F80Rel f80_compare(F80Ctx *ctx, Float80 a, Float80 b, bool quiet);
/* The C3/C2/C0 pattern FCOM leaves for a relation (C1 is cleared by FCOM itself). */
uint16_t f80_rel_cc(F80Rel r);

/* --- Conversions ---------------------------------------------------------------------------------
 * Integer sources are exact. Integer destinations round by ctx->rc, or truncate (FISTTP); NaNs,
 * infinities, unsupported encodings and out-of-range values give IE and the integer indefinite
 * (the most negative value of the width). Float32/64 loads raise IE for an SNaN (quieting it)
 * and DE for a denormal source; stores round to the memory format's precision and exponent
 * range with OE/UE/PE as the x87 reports them (tininess after rounding). */

Float80 f80_from_i64(int64_t v);
int16_t f80_to_i16(F80Ctx *ctx, Float80 a, bool truncate);
int32_t f80_to_i32(F80Ctx *ctx, Float80 a, bool truncate);
int64_t f80_to_i64(F80Ctx *ctx, Float80 a, bool truncate);

Float80 f80_from_f32(F80Ctx *ctx, uint32_t bits);
Float80 f80_from_f64(F80Ctx *ctx, uint64_t bits);
uint32_t f80_to_f32(F80Ctx *ctx, Float80 a);
uint64_t f80_to_f64(F80Ctx *ctx, Float80 a);

/* 80-bit packed BCD, little-endian bytes as in memory: 18 digits in bytes 0-8, sign in bit 7 of
 * byte 9. FBLD of non-decimal digits is undefined on hardware; here nibbles count at face value.
 * FBSTP rounds by ctx->rc; out of range or non-finite stores the BCD indefinite with IE. */
Float80 f80_from_bcd(const uint8_t bcd[10]);
void f80_to_bcd(F80Ctx *ctx, Float80 a, uint8_t bcd[10]);

/* --- Transcendentals -----------------------------------------------------------------------------
 * Evaluated in 128-bit arithmetic and rounded once by ctx->rc to 64 bits, so results are
 * correctly rounded except in near-halfway cases; like the x87, the trigonometric functions
 * reduce their argument by pi/2 taken to 66 bits, which decides the result near multiples of
 * pi/2. Measured against an x87: within 1 ulp, 92% (FPTAN) to 99% (FCOS) bit-identical, the
 * flags identical. Every result that is not a special case raises PE, and UE when denormal.
 * F2XM1 and FYL2XP1 outside their defined domain return some value without failing. The
 * trigonometric functions set C2 in *cc and return the operand unchanged when |a| >= 2^63;
 * callers must then leave the stack alone. FSINCOS's caller stores *sin in ST0 and pushes *cos
 * (both are the NaN result for a NaN or invalid operand). FPTAN's push is
 * the caller's: it pushes 1.0, or a copy of the result when that is a NaN (as the x87 does for
 * NaN and invalid operands). C1 is the library's own rounding direction, which can differ from
 * the x87's even where the result bits agree. */

Float80 f80_sin(F80Ctx *ctx, Float80 a, uint16_t *cc);
Float80 f80_cos(F80Ctx *ctx, Float80 a, uint16_t *cc);
void f80_sincos(F80Ctx *ctx, Float80 a, Float80 *sin, Float80 *cos, uint16_t *cc);
Float80 f80_tan(F80Ctx *ctx, Float80 a, uint16_t *cc);
Float80 f80_patan(F80Ctx *ctx, Float80 y, Float80 x);  /* FPATAN: atan(y / x), y = ST1 */
Float80 f80_2xm1(F80Ctx *ctx, Float80 a);              /* F2XM1: 2^a - 1, -1 <= a <= 1 */
Float80 f80_yl2x(F80Ctx *ctx, Float80 y, Float80 x);   /* FYL2X: y * log2(x), y = ST1 */
Float80 f80_yl2xp1(F80Ctx *ctx, Float80 y, Float80 x); /* FYL2XP1: y * log2(x + 1) */

#endif
