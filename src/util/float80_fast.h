/* Inline fast paths of the basic float80 operations for their common case: both operands
 * normal, extended precision, round to nearest, a normal result. Each returns false without
 * touching anything when another case applies; the caller then uses the full operation
 * (f80_add, f80_sub, f80_mul), whose result and flags these match bit for bit. */
#ifndef UTIL_FLOAT80_FAST_H
#define UTIL_FLOAT80_FAST_H

#include "util/float80.h"

/* Forced: values then stay in registers (a spilled Float80 is reloaded with a wider access
 * than the one that stored it, which the host cannot forward). */
#define F80F_INLINE static inline __attribute__((always_inline))

F80F_INLINE bool f80f_normal(Float80 a)
{
    return (unsigned)f80_exp(a) - 1 < 0x7ffe && (a.mant >> 63);
}

/* Rounds sign * (sig:low) * 2^(exp - 16383 - 63), sig with bit 63 set, to nearest. */
F80F_INLINE bool f80f_round(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low,
                            Float80 *out)
{
    if (exp < 1 || exp >= 0x7ffe) return false;
    bool inc = low > (1ull << 63) || (low == (1ull << 63) && (sig & 1));
    uint64_t r = sig + inc;
    if (!r) {
        r = 1ull << 63;
        exp++;
    }
    if (low) c->exc |= F80_PE;
    c->c1 = inc;
    *out = f80_make(sign, exp, r);
    return true;
}

F80F_INLINE bool f80f_mode_ok(const F80Ctx *c)
{
    return c->pc == F80_PC_64 && c->rc == F80_RC_NEAREST;
}

/* a * b. */
F80F_INLINE bool f80f_mul(F80Ctx *c, Float80 a, Float80 b, Float80 *out)
{
#ifndef __SIZEOF_INT128__
    return false; /* the full operation has the portable 64x64-bit product */
#else
    if (!f80f_normal(a) || !f80f_normal(b) || !f80f_mode_ok(c)) return false;
    unsigned __int128 p = (unsigned __int128)a.mant * b.mant;
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
    int32_t e = f80_exp(a) + f80_exp(b) - 16383 + 1;
    if (!(hi >> 63)) { /* the product of two [2^63, 2^64) values is at least 2^126 */
        hi = hi << 1 | lo >> 63;
        lo <<= 1;
        e--;
    }
    return f80f_round(c, f80_sign(a) ^ f80_sign(b), e, hi, lo, out);
#endif
}

/* a + b, or a - b with negate_b. An exact zero result (whose sign depends on the rounding
 * mode) and exponent differences of 64 or more (sticky bits) are left to the full operation. */
F80F_INLINE bool f80f_addsub(F80Ctx *c, Float80 a, Float80 b, bool negate_b, Float80 *out)
{
    if (!f80f_normal(a) || !f80f_normal(b) || !f80f_mode_ok(c)) return false;
    bool sx = f80_sign(a), sy = f80_sign(b) ^ negate_b;
    int32_t ex = f80_exp(a), ey = f80_exp(b);
    uint64_t mx = a.mant, my = b.mant;
    if (ex < ey || (ex == ey && mx < my)) {
        bool ts = sx;
        sx = sy, sy = ts;
        int32_t te = ex;
        ex = ey, ey = te;
        uint64_t tm = mx;
        mx = my, my = tm;
    }
    int32_t d = ex - ey;
    if (d >= 64) return false;
    uint64_t yh = d ? my >> d : my, yl = d ? my << (64 - d) : 0, hi = mx, lo;
    int32_t e = ex;
    if (sx == sy) {
        lo = yl;
        hi += yh;
        if (hi < yh) {
            lo = (lo >> 1) | (hi << 63) | (lo & 1);
            hi = (hi >> 1) | (1ull << 63);
            e++;
        }
    } else {
        lo = 0 - yl;
        hi = hi - yh - (yl != 0);
        if (!hi && !lo) return false;
        int s;
        if (!hi) {
            s = 64 + __builtin_clzll(lo);
            hi = lo << (s - 64);
            lo = 0;
        } else {
            s = __builtin_clzll(hi);
            if (s) {
                hi = (hi << s) | (lo >> (64 - s));
                lo <<= s;
            }
        }
        e -= s;
    }
    return f80f_round(c, sx, e, hi, lo, out);
}

#endif
