/* x87 extended-precision arithmetic: rounding, basic operations, remainders, comparisons and
 * format conversions (SDM vol. 1 ch. 4.8-4.9 and 8.5, instruction pages in vol. 2). */
#include "util/float80.h"

#include "util/float80_fast.h"
#include "util/float80_int.h"

#include <string.h>

/* --- 64/128-bit helpers ----------------------------------------------------------------------- */

/* Full 64x64 -> 128 product: the compiler's 128-bit type where there is one, else 32-bit
 * halves. */
void f80i_mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
#ifdef __SIZEOF_INT128__
    unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t al = (uint32_t)a, ah = a >> 32, bl = (uint32_t)b, bh = b >> 32;
    uint64_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint64_t mid = (ll >> 32) + (uint32_t)lh + (uint32_t)hl;
    *lo = (mid << 32) | (uint32_t)ll;
    *hi = hh + (lh >> 32) + (hl >> 32) + (mid >> 32);
#endif
}

/* (hi:lo) / d for a normalised d (bit 63 set) and hi < d: schoolbook division in base 2^32
 * (Knuth vol. 2, 4.3.1), where the normalised divisor bounds each digit estimate to two fixes.
 * The portable form of f80i_div128. */
uint64_t f80i_div128_generic(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
    uint64_t dh = d >> 32, dl = (uint32_t)d;
    uint64_t digits[2] = {lo >> 32, (uint32_t)lo};
    uint64_t top = hi, q = 0;
    for (int i = 0; i < 2; i++) {
        uint64_t qd = top / dh, r = top % dh;
        while (qd >> 32 || qd * dl > ((r << 32) | digits[i])) {
            qd--;
            r += dh;
            if (r >> 32) break;
        }
        top = (top << 32 | digits[i]) - qd * d; /* exact modulo 2^64: the true value is < d */
        q = q << 32 | qd;
    }
    *rem = top;
    return q;
}

uint64_t f80i_div128(uint64_t hi, uint64_t lo, uint64_t d, uint64_t *rem)
{
#if defined(__x86_64__) && defined(__GNUC__)
    /* The host's 128-by-64-bit division: hi < d, so it cannot overflow. */
    uint64_t q, r;
    __asm__("divq %4" : "=a"(q), "=d"(r) : "a"(lo), "d"(hi), "rm"(d) : "cc");
    *rem = r;
    return q;
#else
    return f80i_div128_generic(hi, lo, d, rem);
#endif
}

/* Shift (hi:lo) right by n, OR-ing every bit shifted out into bit 0 (the sticky bit). */
void f80i_shr_sticky(uint64_t *hi, uint64_t *lo, int32_t n)
{
    uint64_t h = *hi, l = *lo;
    if (n <= 0) return;
    if (n >= 128) {
        *lo = (h | l) != 0;
        *hi = 0;
    } else if (n >= 64) {
        uint64_t lost = l | (n > 64 ? h << (128 - n) : 0);
        *lo = (n > 64 ? h >> (n - 64) : h) | (lost != 0);
        *hi = 0;
    } else {
        *lo = (h << (64 - n)) | (l >> n) | ((l << (64 - n)) != 0);
        *hi = h >> n;
    }
}

/* Shift (hi:lo) left until bit 127 is set; returns the shift. (hi:lo) must not be zero. */
int f80i_norm128(uint64_t *hi, uint64_t *lo)
{
    int s;
    if (*hi == 0) {
        s = 64 + f80i_clz64(*lo);
        *hi = *lo << (s - 64);
        *lo = 0;
    } else {
        s = f80i_clz64(*hi);
        if (s) {
            *hi = (*hi << s) | (*lo >> (64 - s));
            *lo <<= s;
        }
    }
    return s;
}

/* --- Classification and unpacking ------------------------------------------------------------ */

F80Class f80_classify(Float80 a)
{
    int e = f80_exp(a);
    bool j = a.mant >> 63;
    if (e == 0) return a.mant ? F80_DENORMAL : F80_ZERO;
    if (!j) return F80_UNSUPPORTED;
    if (e == 0x7fff) {
        if (!(a.mant << 1)) return F80_INF;
        return (a.mant >> 62 & 1) ? F80_QNAN : F80_SNAN;
    }
    return F80_NORMAL;
}

uint16_t f80_fxam(Float80 a)
{
    static const uint16_t code[] = {
        [F80_ZERO] = F80_C3,         [F80_NORMAL] = F80_C2, [F80_DENORMAL] = F80_C3 | F80_C2,
        [F80_INF] = F80_C2 | F80_C0, [F80_QNAN] = F80_C0,   [F80_SNAN] = F80_C0,
        [F80_UNSUPPORTED] = 0,
    };
    return code[f80_classify(a)] | (f80_sign(a) ? F80_C1 : 0);
}

/* Normalised view of a finite non-zero value: value = sig * 2^(exp - 16383 - 63). Denormals
 * and pseudo-denormals both use the minimum exponent 1 before normalisation, so exp may go
 * below 1. */
F80Unpacked f80i_unpack(Float80 a)
{
    F80Unpacked u = {f80_sign(a), f80_exp(a), a.mant};
    if (u.exp == 0) u.exp = 1;
    int s = f80i_clz64(u.sig);
    u.sig <<= s;
    u.exp -= s;
    return u;
}


int f80i_prec(const F80Ctx *c)
{
    return c->pc == F80_PC_24 ? 24 : c->pc == F80_PC_53 ? 53 : 64;
}

/* --- Rounding --------------------------------------------------------------------------------- */

/* Keep the top `prec` bits of (sig:low) and round by rc. *carry reports a carry out of bit 63
 * (sig is then returned as 0), *inexact a discarded non-zero part, *up a magnitude increase. */
static uint64_t round_bits(int rc, bool sign, uint64_t sig, uint64_t low, int prec, bool *carry,
                           bool *inexact, bool *up)
{
    uint64_t mask = prec >= 64 ? 0 : (~0ull >> prec);
    uint64_t frac, half;
    bool sticky;
    if (prec >= 64) {
        frac = low, half = 1ull << 63, sticky = false;
    } else {
        frac = sig & mask, half = (mask >> 1) + 1, sticky = low != 0;
    }
    uint64_t lsb = mask + 1;
    *inexact = frac || sticky;
    bool inc;
    switch (rc) {
    case F80_RC_NEAREST: inc = frac > half || (frac == half && (sticky || (sig & lsb))); break;
    case F80_RC_UP: inc = *inexact && !sign; break;
    case F80_RC_DOWN: inc = *inexact && sign; break;
    default: inc = false; break;
    }
    *up = inc;
    sig &= ~mask;
    *carry = false;
    if (inc) {
        sig += lsb;
        *carry = sig == 0;
    }
    return sig;
}

/*
 * Round sign * (sig:low) * 2^(exp - bias - 63) into a format whose finite exponent fields are
 * 1..emax and whose significand keeps `prec` bits. sig must have bit 63 set (or sig = low = 0);
 * exp is already in the destination's bias. `reg` marks an 80-bit register destination, the
 * only one for which unmasked OE/UE deliver a bias-adjusted result. Returns the exponent field
 * (0 for zero/denormal, emax + 1 for infinity) and sets *out to the significand with its integer
 * bit in bit 63.
 */
int32_t f80i_round(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low, int prec,
                   int32_t emax, bool reg, uint64_t *out)
{
    bool carry, inexact, up;
    uint64_t r;
    /* The common case: extended precision, round to nearest, a normal result. */
    if (prec == 64 && c->rc == F80_RC_NEAREST && exp >= 1 && exp < emax && (sig >> 63)) {
        bool inc = low > (1ull << 63) || (low == (1ull << 63) && (sig & 1));
        r = sig + inc;
        if (!r) {
            r = 1ull << 63;
            exp++;
        }
        if (low) c->exc |= F80_PE;
        c->c1 = inc;
        *out = r;
        return exp;
    }
    c->c1 = 0;
    if (!sig && !low) {
        *out = 0;
        return 0;
    }
    if (exp < 1) {
        /* The x87 detects tininess after rounding to the precision with unbounded exponent. */
        bool tiny = true;
        if (exp == 0) {
            round_bits(c->rc, sign, sig, low, prec, &carry, &inexact, &up);
            tiny = !carry;
        }
        if (tiny && reg && (c->unmasked & F80_UE)) {
            c->exc |= F80_UE;
            exp += 24576;
            if (exp < 1) {
                /* Massive underflow: even the biased result is tiny, store a signed zero. */
                c->exc |= F80_PE;
                *out = 0;
                return 0;
            }
        } else if (tiny) {
            f80i_shr_sticky(&sig, &low, 1 - exp);
            r = round_bits(c->rc, sign, sig, low, prec, &carry, &inexact, &up);
            if (inexact)
                c->exc |= F80_UE | F80_PE;
            else if (c->unmasked & F80_UE)
                c->exc |= F80_UE;
            c->c1 = up;
            *out = r;
            return r >> 63; /* rounding may carry into the smallest normal */
        }
    }
    r = round_bits(c->rc, sign, sig, low, prec, &carry, &inexact, &up);
    if (carry) {
        r = 1ull << 63;
        exp++;
    }
    if (exp > emax) {
        if (reg && (c->unmasked & F80_OE)) {
            c->exc |= F80_OE | (inexact ? F80_PE : 0);
            exp -= 24576;
            if (exp <= emax) {
                c->c1 = up;
                *out = r;
                return exp;
            }
            /* Massive overflow (FSCALE): even the biased exponent is too large. */
            c->exc |= F80_PE;
            c->c1 = 1;
            *out = 1ull << 63;
            return emax + 1;
        }
        c->exc |= F80_OE | F80_PE;
        bool to_inf = c->rc == F80_RC_NEAREST || c->rc == (sign ? F80_RC_DOWN : F80_RC_UP);
        c->c1 = to_inf;
        if (to_inf) {
            *out = 1ull << 63;
            return emax + 1;
        }
        *out = prec >= 64 ? ~0ull : ~(~0ull >> prec);
        return emax;
    }
    if (inexact) c->exc |= F80_PE;
    c->c1 = up;
    *out = r;
    return exp;
}

Float80 f80i_pack(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low, int prec)
{
    uint64_t m;
    int32_t e = f80i_round(c, sign, exp, sig, low, prec, 0x7ffe, true, &m);
    return f80_make(sign, e, m);
}

/* f80i_pack with its common case inline: extended precision, round to nearest, a normal
 * result (the same outcome as f80i_round's own short path). */
static inline Float80 pack(F80Ctx *c, bool sign, int32_t exp, uint64_t sig, uint64_t low,
                           int prec)
{
    if (prec == 64 && c->rc == F80_RC_NEAREST && exp >= 1 && exp < 0x7ffe && (sig >> 63)) {
        bool inc = low > (1ull << 63) || (low == (1ull << 63) && (sig & 1));
        uint64_t r = sig + inc;
        if (!r) {
            r = 1ull << 63;
            exp++;
        }
        if (low) c->exc |= F80_PE;
        c->c1 = inc;
        return f80_make(sign, exp, r);
    }
    return f80i_pack(c, sign, exp, sig, low, prec);
}

/* Round a finite non-zero encoding to a precision (x + 0 under PC, exact re-encodings). */
static Float80 repack(F80Ctx *c, Float80 a, int prec)
{
    F80Unpacked u = f80i_unpack(a);
    return f80i_pack(c, u.sign, u.exp, u.sig, 0, prec);
}

/* --- NaN rules -------------------------------------------------------------------------------- */

static bool cls_nan(F80Class c)
{
    return c == F80_QNAN || c == F80_SNAN;
}

/* One-operand NaN/unsupported result (the caller knows a is one of those). */
Float80 f80i_nan1(F80Ctx *c, Float80 a)
{
    F80Class ca = f80_classify(a);
    if (ca == F80_UNSUPPORTED) {
        c->exc |= F80_IE;
        return F80_INDEFINITE;
    }
    if (ca == F80_SNAN) c->exc |= F80_IE;
    a.mant |= 1ull << 62;
    return a;
}

/* SDM vol. 1 table 4-7, x87 column: an unsupported operand is invalid; a QNaN beats an SNaN;
 * of two NaNs of one kind the larger significand wins. */
Float80 f80i_nan2(F80Ctx *c, Float80 a, Float80 b)
{
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    if (ca == F80_UNSUPPORTED || cb == F80_UNSUPPORTED) {
        c->exc |= F80_IE;
        return F80_INDEFINITE;
    }
    if (ca == F80_SNAN || cb == F80_SNAN) c->exc |= F80_IE;
    Float80 r;
    if (cls_nan(ca) && cls_nan(cb)) {
        if (ca != cb)
            r = ca == F80_QNAN ? a : b;
        else if (a.mant != b.mant)
            r = a.mant > b.mant ? a : b;
        else
            r = a.se < b.se ? a : b;
    } else {
        r = cls_nan(ca) ? a : b;
    }
    r.mant |= 1ull << 62;
    return r;
}

static Float80 invalid(F80Ctx *c)
{
    c->exc |= F80_IE;
    return F80_INDEFINITE;
}

static Float80 inf80(bool sign)
{
    return f80_make(sign, 0x7fff, 1ull << 63);
}
static Float80 zero80(bool sign)
{
    return f80_make(sign, 0, 0);
}

/* --- Basic arithmetic ------------------------------------------------------------------------- */

/* Both operands normal (exponent field 1..0x7ffe, integer bit set): the values the general
 * paths would unpack, without classifying them. */
static inline bool both_normal(Float80 a, Float80 b)
{
    return (unsigned)f80_exp(a) - 1 < 0x7ffe && (unsigned)f80_exp(b) - 1 < 0x7ffe &&
           (a.mant & b.mant) >> 63;
}

static Float80 addsub_finite(F80Ctx *c, F80Unpacked x, F80Unpacked y, int prec);

static Float80 addsub(F80Ctx *c, Float80 a, Float80 b, bool negate_b)
{
    Float80 r;
    if (f80f_addsub(c, a, b, negate_b, &r)) return r;
    if (both_normal(a, b)) {
        c->c1 = 0;
        return addsub_finite(c, (F80Unpacked){f80_sign(a), f80_exp(a), a.mant},
                             (F80Unpacked){f80_sign(b) ^ negate_b, f80_exp(b), b.mant},
                             f80i_prec(c));
    }
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) return f80i_nan2(c, a, b);
    bool sa = f80_sign(a), sb = f80_sign(b) ^ negate_b;
    if (ca == F80_INF || cb == F80_INF) {
        if (ca == F80_INF && cb == F80_INF && sa != sb) return invalid(c);
        if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
        return inf80(ca == F80_INF ? sa : sb);
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    int prec = f80i_prec(c);
    if (ca == F80_ZERO && cb == F80_ZERO) return zero80(sa == sb ? sa : c->rc == F80_RC_DOWN);
    if (ca == F80_ZERO) return repack(c, f80_make(sb, f80_exp(b), b.mant), prec);
    if (cb == F80_ZERO) return repack(c, a, prec);

    F80Unpacked x = f80i_unpack(a), y = f80i_unpack(b);
    x.sign = sa, y.sign = sb;
    return addsub_finite(c, x, y, prec);
}

/* x + y for finite non-zero unpacked operands (signs already applied). */
static Float80 addsub_finite(F80Ctx *c, F80Unpacked x, F80Unpacked y, int prec)
{
    if (x.exp < y.exp || (x.exp == y.exp && x.sig < y.sig)) {
        F80Unpacked t = x;
        x = y, y = t;
    }
    uint64_t yh = y.sig, yl = 0, hi = x.sig, lo = 0;
    int32_t e = x.exp;
    int32_t d = x.exp - y.exp;
    if (d > 0 && d < 64) { /* nothing shifted out of yl (still zero): no sticky bit */
        yl = yh << (64 - d);
        yh >>= d;
    } else if (d) {
        f80i_shr_sticky(&yh, &yl, d);
    }
    if (x.sign == y.sign) {
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
        if (!hi && !lo) return zero80(c->rc == F80_RC_DOWN);
        e -= f80i_norm128(&hi, &lo);
    }
    return pack(c, x.sign, e, hi, lo, prec);
}

Float80 f80_add(F80Ctx *c, Float80 a, Float80 b)
{
    return addsub(c, a, b, false);
}
Float80 f80_sub(F80Ctx *c, Float80 a, Float80 b)
{
    return addsub(c, a, b, true);
}

Float80 f80_mul(F80Ctx *c, Float80 a, Float80 b)
{
    Float80 r;
    if (f80f_mul(c, a, b, &r)) return r;
    if (both_normal(a, b)) {
        c->c1 = 0;
        uint64_t hi, lo;
        f80i_mul64(a.mant, b.mant, &hi, &lo);
        int32_t e = f80_exp(a) + f80_exp(b) - 16383 + 1;
        if (!(hi >> 63)) { /* the product of two [2^63, 2^64) values is at least 2^126 */
            hi = hi << 1 | lo >> 63;
            lo <<= 1;
            e--;
        }
        return pack(c, f80_sign(a) ^ f80_sign(b), e, hi, lo, f80i_prec(c));
    }
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) return f80i_nan2(c, a, b);
    bool s = f80_sign(a) ^ f80_sign(b);
    if (ca == F80_INF || cb == F80_INF) {
        if (ca == F80_ZERO || cb == F80_ZERO) return invalid(c);
        if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
        return inf80(s);
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    if (ca == F80_ZERO || cb == F80_ZERO) return zero80(s);
    F80Unpacked x = f80i_unpack(a), y = f80i_unpack(b);
    uint64_t hi, lo;
    f80i_mul64(x.sig, y.sig, &hi, &lo);
    int32_t e = x.exp + y.exp - 16383 + 1;
    e -= f80i_norm128(&hi, &lo);
    return pack(c, s, e, hi, lo, f80i_prec(c));
}

Float80 f80_div(F80Ctx *c, Float80 a, Float80 b)
{
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) return f80i_nan2(c, a, b);
    bool s = f80_sign(a) ^ f80_sign(b);
    if ((ca == F80_INF && cb == F80_INF) || (ca == F80_ZERO && cb == F80_ZERO)) return invalid(c);
    if (cb == F80_ZERO && ca != F80_INF) {
        /* Zero divide outranks the denormal-operand exception (SDM vol. 1, 4.9.2). */
        c->exc |= F80_ZE;
        return inf80(s);
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    if (ca == F80_INF) return inf80(s);
    if (cb == F80_INF) return zero80(s);
    if (ca == F80_ZERO) return zero80(s);
    F80Unpacked x = f80i_unpack(a), y = f80i_unpack(b);
    uint64_t r = x.sig, q0 = 0, q1, q2;
    if (r >= y.sig) {
        q0 = 1;
        r -= y.sig;
    }
    q1 = f80i_div128(r, 0, y.sig, &r);
    q2 = f80i_div128(r, 0, y.sig, &r);
    uint64_t hi = q1, lo = q2 | (r != 0);
    int32_t e = x.exp - y.exp + 16383 - 1;
    if (q0) {
        f80i_shr_sticky(&hi, &lo, 1);
        hi |= 1ull << 63;
        e++;
    }
    return pack(c, s, e, hi, lo, f80i_prec(c));
}

/* Digit-by-digit square root (two radicand bits per root bit) of sig * 2^shift held in three
 * words; the 66+ bit root plus a sticky remainder is enough for correct rounding. */
Float80 f80_sqrt(F80Ctx *c, Float80 a)
{
    F80Class ca = f80_classify(a);
    c->c1 = 0;
    if (ca >= F80_QNAN) return f80i_nan1(c, a);
    if (ca == F80_ZERO) return a;
    if (f80_sign(a)) return invalid(c);
    if (ca == F80_INF) return a;
    if (ca == F80_DENORMAL) c->exc |= F80_DE;
    F80Unpacked x = f80i_unpack(a);
    int32_t ue = x.exp - 16383 - 63;  /* value = sig * 2^ue */
    int shift = 70 + ((ue - 70) & 1); /* radicand sig * 2^shift with even ue - shift */
    /* Radicand in w[0] (top) .. w[2]: sig occupies bits shift .. shift + 63. */
    uint64_t w[3] = {0, 0, 0};
    w[1] = x.sig << (shift - 64);
    w[0] = x.sig >> (128 - shift);
    uint64_t qh = 0, ql = 0, rh = 0, rl = 0;
    for (int i = 0; i < 96; i++) {
        uint64_t pair = w[i / 32] >> (62 - 2 * (i % 32)) & 3;
        rh = (rh << 2) | (rl >> 62);
        rl = (rl << 2) | pair;
        uint64_t th = (qh << 2) | (ql >> 62), tl = (ql << 2) | 1;
        qh = (qh << 1) | (ql >> 63);
        ql <<= 1;
        if (rh > th || (rh == th && rl >= tl)) {
            rh = rh - th - (rl < tl);
            rl -= tl;
            ql |= 1;
        }
    }
    int32_t half = (ue - shift) / 2;
    int s = f80i_norm128(&qh, &ql);
    ql |= (rh | rl) != 0;
    int32_t e = 127 - s + half + 16383;
    return f80i_pack(c, false, e, qh, ql, f80i_prec(c));
}

/* --- Remainders ------------------------------------------------------------------------------- */

/* Remainder of x by y with truncated quotient, developing n + 1 quotient bits (n = x.exp -
 * y.exp >= 0). Returns the remainder in units of y's ulp and the quotient's low 64 bits. */
static uint64_t rem_loop(uint64_t xs, uint64_t ys, int n, uint64_t *q)
{
    uint64_t r = xs, qq = 0;
    for (int i = 0; i <= n; i++) {
        bool top = false;
        if (i) {
            top = r >> 63;
            r <<= 1;
        }
        qq <<= 1;
        /* A doubled remainder past 64 bits certainly exceeds ys; the subtraction wraps back
         * to the exact value because the true difference is below ys. */
        if (top || r >= ys) {
            r -= ys;
            qq |= 1;
        }
    }
    *q = qq;
    return r;
}

static Float80 prem_common(F80Ctx *c, Float80 a, Float80 b, uint16_t *cc, bool nearest)
{
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    *cc = 0;
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) return f80i_nan2(c, a, b);
    if (ca == F80_INF || cb == F80_ZERO) return invalid(c);
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    if (cb == F80_INF || ca == F80_ZERO) return ca == F80_ZERO ? a : repack(c, a, 64);
    F80Unpacked x = f80i_unpack(a), y = f80i_unpack(b);
    int32_t d = x.exp - y.exp;
    bool sign = x.sign;
    uint64_t q = 0, r;
    int32_t re = y.exp;
    if (d < 0) {
        /* |a| < |b|: quotient 0, except that FPREM1 rounds a quotient above 1/2 up to 1. */
        if (!(nearest && d == -1 && x.sig > y.sig)) return repack(c, a, 64);
        /* |b| - |a| = (2 * y.sig - x.sig) in units of a's ulp. */
        uint64_t hi = y.sig >> 63, lo = y.sig << 1;
        hi -= lo < x.sig;
        lo -= x.sig;
        int32_t e = x.exp + 64;
        e -= f80i_norm128(&hi, &lo);
        *cc = F80_C1;
        return f80i_pack(c, !sign, e, hi, lo, 64);
    }
    if (d >= 64) {
        /* Partial remainder: reduce by b * 2^(d - n) with n = 32 + d mod 32, as measured on
         * hardware (SDM: "an implementation-dependent number between 32 and 63"). The
         * quotient bits are not reported and the quotient is truncated for both variants. */
        int n = 32 + (d & 31);
        uint64_t qq;
        r = rem_loop(x.sig, y.sig, n, &qq);
        re = y.exp + (d - n);
        *cc = F80_C2;
        if (!r) return zero80(sign);
        int s = f80i_clz64(r);
        return f80i_pack(c, sign, re - s, r << s, 0, 64);
    }
    r = rem_loop(x.sig, y.sig, d, &q);
    if (nearest && (r > y.sig - r || (r == y.sig - r && (q & 1)))) {
        r = y.sig - r;
        q++;
        sign = !sign;
    }
    *cc = (q & 4 ? F80_C0 : 0) | (q & 2 ? F80_C3 : 0) | (q & 1 ? F80_C1 : 0);
    if (!r) return zero80(x.sign);
    int s = f80i_clz64(r);
    return f80i_pack(c, sign, re - s, r << s, 0, 64);
}

Float80 f80_prem(F80Ctx *c, Float80 a, Float80 b, uint16_t *cc)
{
    return prem_common(c, a, b, cc, false);
}

Float80 f80_prem1(F80Ctx *c, Float80 a, Float80 b, uint16_t *cc)
{
    return prem_common(c, a, b, cc, true);
}

/* --- Rounding to integer, scaling, extraction ------------------------------------------------- */

/* Split |a| (finite, non-zero) into integer part and 64-bit fraction with sticky, then round the
 * integer by rc. Returns the rounded magnitude; *overflow when it needs more than 64 bits. */
static uint64_t round_to_integer(int rc, F80Unpacked u, bool *inexact, bool *up, bool *overflow)
{
    int32_t e = u.exp - 16383; /* value = sig * 2^(e - 63) */
    uint64_t ip = u.sig, fr = 0;
    bool carry;
    *overflow = false;
    if (e >= 64) {
        *overflow = true;
        *inexact = *up = false;
        return 0;
    }
    f80i_shr_sticky(&ip, &fr, 63 - e);
    ip = round_bits(rc, u.sign, ip, fr, 64, &carry, inexact, up);
    if (carry) *overflow = true;
    return ip;
}

Float80 f80_rndint(F80Ctx *c, Float80 a)
{
    F80Class ca = f80_classify(a);
    c->c1 = 0;
    if (ca >= F80_QNAN) return f80i_nan1(c, a);
    if (ca == F80_ZERO || ca == F80_INF) return a;
    if (ca == F80_DENORMAL) c->exc |= F80_DE;
    F80Unpacked u = f80i_unpack(a);
    if (u.exp - 16383 >= 63) return a;
    bool inexact, up, ovf;
    uint64_t v = round_to_integer(c->rc, u, &inexact, &up, &ovf);
    if (inexact) c->exc |= F80_PE;
    c->c1 = up;
    if (!v) return zero80(u.sign);
    int s = f80i_clz64(v);
    return f80_make(u.sign, 16383 + 63 - s, v << s);
}

Float80 f80_scale(F80Ctx *c, Float80 a, Float80 b)
{
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) return f80i_nan2(c, a, b);
    if (cb == F80_INF) {
        if (!f80_sign(b)) {
            if (ca == F80_ZERO) return invalid(c);
            if (ca == F80_DENORMAL) c->exc |= F80_DE;
            return inf80(f80_sign(a));
        }
        if (ca == F80_INF) return invalid(c);
        if (ca == F80_DENORMAL) c->exc |= F80_DE;
        return zero80(f80_sign(a));
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    if (ca == F80_INF || ca == F80_ZERO) return a;
    F80Unpacked x = f80i_unpack(a);
    int32_t n = 0;
    if (cb != F80_ZERO) {
        F80Unpacked y = f80i_unpack(b);
        int32_t e = y.exp - 16383;
        /* Anything past 2^17 already over/underflows every finite value; clamp to keep the
         * exponent arithmetic in range. */
        if (e >= 17)
            n = 1 << 17;
        else if (e >= 0)
            n = (int32_t)(y.sig >> (63 - e));
        if (y.sign) n = -n;
    }
    return f80i_pack(c, x.sign, x.exp + n, x.sig, 0, 64);
}

Float80 f80_xtract(F80Ctx *c, Float80 a, Float80 *e)
{
    F80Class ca = f80_classify(a);
    c->c1 = 0;
    if (ca >= F80_QNAN) {
        *e = f80i_nan1(c, a);
        return *e;
    }
    if (ca == F80_ZERO) {
        c->exc |= F80_ZE;
        *e = inf80(true);
        return a;
    }
    if (ca == F80_INF) {
        *e = inf80(false);
        return a;
    }
    if (ca == F80_DENORMAL) c->exc |= F80_DE;
    F80Unpacked u = f80i_unpack(a);
    *e = f80_from_i64(u.exp - 16383);
    return f80_make(u.sign, 16383, u.sig);
}

/* --- Comparison ------------------------------------------------------------------------------- */

F80Rel f80_compare(F80Ctx *c, Float80 a, Float80 b, bool quiet)
{
    F80Class ca = f80_classify(a), cb = f80_classify(b);
    c->c1 = 0;
    if (ca >= F80_QNAN || cb >= F80_QNAN) {
        if (ca == F80_UNSUPPORTED || cb == F80_UNSUPPORTED || ca == F80_SNAN || cb == F80_SNAN ||
            !quiet)
            c->exc |= F80_IE;
        return F80_UNORDERED;
    }
    if (ca == F80_DENORMAL || cb == F80_DENORMAL) c->exc |= F80_DE;
    if (ca == F80_ZERO && cb == F80_ZERO) return F80_EQ;
    bool sa = f80_sign(a), sb = f80_sign(b);
    if (ca == F80_ZERO) return sb ? F80_GT : F80_LT;
    if (cb == F80_ZERO) return sa ? F80_LT : F80_GT;
    if (sa != sb) return sa ? F80_LT : F80_GT;
    F80Unpacked x = f80i_unpack(a), y = f80i_unpack(b);
    int mag = x.exp != y.exp   ? (x.exp < y.exp ? -1 : 1)
              : x.sig != y.sig ? (x.sig < y.sig ? -1 : 1)
                               : 0;
    if (!mag) return F80_EQ;
    return (mag < 0) != sa ? F80_LT : F80_GT;
}

uint16_t f80_rel_cc(F80Rel r)
{
    static const uint16_t cc[] = {[F80_LT] = F80_C0,
                                  [F80_EQ] = F80_C3,
                                  [F80_GT] = 0,
                                  [F80_UNORDERED] = F80_C3 | F80_C2 | F80_C0};
    return cc[r];
}

/* --- Integer conversions ---------------------------------------------------------------------- */

Float80 f80_from_i64(int64_t v)
{
    if (!v) return zero80(false);
    bool s = v < 0;
    uint64_t m = s ? 0 - (uint64_t)v : (uint64_t)v;
    int sh = f80i_clz64(m);
    return f80_make(s, 16383 + 63 - sh, m << sh);
}

/* Conversion to a two's complement integer of `bits` bits; the indefinite is its minimum. */
static int64_t to_int(F80Ctx *c, Float80 a, int bits, bool truncate)
{
    F80Class ca = f80_classify(a);
    uint64_t limit = 1ull << (bits - 1);
    int64_t indefinite = (int64_t)(0 - limit);
    c->c1 = 0;
    if (ca == F80_ZERO) return 0;
    if (ca != F80_NORMAL && ca != F80_DENORMAL) {
        c->exc |= F80_IE;
        return indefinite;
    }
    F80Unpacked u = f80i_unpack(a);
    bool inexact, up, ovf;
    uint64_t v = round_to_integer(truncate ? F80_RC_ZERO : c->rc, u, &inexact, &up, &ovf);
    if (ovf || v > limit || (v == limit && !u.sign)) {
        c->exc |= F80_IE;
        return indefinite;
    }
    if (inexact) c->exc |= F80_PE;
    c->c1 = up;
    return u.sign ? (int64_t)(0 - v) : (int64_t)v;
}

int16_t f80_to_i16(F80Ctx *c, Float80 a, bool truncate)
{
    return (int16_t)to_int(c, a, 16, truncate);
}
int32_t f80_to_i32(F80Ctx *c, Float80 a, bool truncate)
{
    return (int32_t)to_int(c, a, 32, truncate);
}
int64_t f80_to_i64(F80Ctx *c, Float80 a, bool truncate)
{
    return to_int(c, a, 64, truncate);
}

/* --- Float32/64 conversions ------------------------------------------------------------------- */

/* Load an IEEE binary format with `fbits` fraction bits and exponent bias `bias`. */
static Float80 from_ieee(F80Ctx *c, uint64_t bits, int fbits, int ebits)
{
    bool s = bits >> (fbits + ebits) & 1;
    int32_t emax = (1 << ebits) - 1, bias = emax >> 1;
    int32_t e = (int32_t)(bits >> fbits) & emax;
    uint64_t f = bits & ((1ull << fbits) - 1);
    c->c1 = 0;
    if (e == emax) {
        if (!f) return inf80(s);
        if (!(f >> (fbits - 1) & 1)) c->exc |= F80_IE;
        return f80_make(s, 0x7fff, (3ull << 62) | (f << (63 - fbits)));
    }
    if (e == 0) {
        if (!f) return zero80(s);
        c->exc |= F80_DE;
        int sh = f80i_clz64(f);
        /* value = f * 2^(1 - bias - fbits) */
        return f80_make(s, 1 - bias - fbits + 63 - sh + 16383, f << sh);
    }
    return f80_make(s, e - bias + 16383, (1ull << 63) | (f << (63 - fbits)));
}

static uint64_t to_ieee(F80Ctx *c, Float80 a, int fbits, int ebits)
{
    F80Class ca = f80_classify(a);
    int32_t emax = (1 << ebits) - 1, bias = emax >> 1;
    uint64_t s = (uint64_t)f80_sign(a) << (fbits + ebits);
    uint64_t inf = (uint64_t)emax << fbits;
    c->c1 = 0;
    switch (ca) {
    case F80_ZERO: return s;
    case F80_INF: return s | inf;
    case F80_UNSUPPORTED:
        c->exc |= F80_IE;
        return (1ull << (fbits + ebits)) | inf | (1ull << (fbits - 1));
    case F80_SNAN: c->exc |= F80_IE; /* fall through */
    case F80_QNAN: return s | inf | (1ull << (fbits - 1)) | ((a.mant << 1) >> (64 - fbits));
    default: break;
    }
    F80Unpacked u = f80i_unpack(a);
    uint64_t m;
    int32_t e =
        f80i_round(c, u.sign, u.exp - 16383 + bias, u.sig, 0, fbits + 1, emax - 1, false, &m);
    return s | ((uint64_t)e << fbits) | ((m << 1) >> (64 - fbits));
}

Float80 f80_from_f32(F80Ctx *c, uint32_t bits)
{
    return from_ieee(c, bits, 23, 8);
}
Float80 f80_from_f64(F80Ctx *c, uint64_t bits)
{
    return from_ieee(c, bits, 52, 11);
}
uint32_t f80_to_f32(F80Ctx *c, Float80 a)
{
    return (uint32_t)to_ieee(c, a, 23, 8);
}
uint64_t f80_to_f64(F80Ctx *c, Float80 a)
{
    return to_ieee(c, a, 52, 11);
}

/* --- Packed BCD ------------------------------------------------------------------------------- */

Float80 f80_from_bcd(const uint8_t bcd[10])
{
    uint64_t v = 0;
    for (int i = 8; i >= 0; i--)
        v = v * 100 + (bcd[i] >> 4) * 10 + (bcd[i] & 15);
    if (!v) return zero80(bcd[9] >> 7);
    int sh = f80i_clz64(v);
    return f80_make(bcd[9] >> 7, 16383 + 63 - sh, v << sh);
}

void f80_to_bcd(F80Ctx *c, Float80 a, uint8_t bcd[10])
{
    F80Class ca = f80_classify(a);
    uint64_t v = 0;
    c->c1 = 0;
    memset(bcd, 0, 10);
    if (ca == F80_NORMAL || ca == F80_DENORMAL) {
        bool inexact, up, ovf;
        v = round_to_integer(c->rc, f80i_unpack(a), &inexact, &up, &ovf);
        if (ovf || v > 999999999999999999ull) {
            ca = F80_UNSUPPORTED;
        } else {
            if (inexact) c->exc |= F80_PE;
            c->c1 = up;
        }
    }
    if (ca != F80_NORMAL && ca != F80_DENORMAL && ca != F80_ZERO) {
        c->exc |= F80_IE;
        bcd[7] = 0xc0, bcd[8] = 0xff, bcd[9] = 0xff;
        return;
    }
    for (int i = 0; i < 9; i++, v /= 100)
        bcd[i] = (uint8_t)((v % 100 / 10) << 4 | v % 10);
    bcd[9] = f80_sign(a) ? 0x80 : 0;
}

/* --- Constants -------------------------------------------------------------------------------- */

/* The FPU holds its constants with extra precision and rounds them by RC (SDM vol. 1, 8.3.8 and
 * the FLD1/FLDL2T/... page): we keep each one truncated to 64 bits plus whether its exact value
 * lies above the halfway point. None of the irrational ones is exact, so RC up always adds one. */
static const struct {
    uint16_t exp;
    uint64_t mant;
    bool past_half;
} f80_consts[] = {
    [F80_CONST_ONE] = {16383, 1ull << 63, false},
    [F80_CONST_L2T] = {16384, 0xd49a784bcd1b8afeull, false},
    [F80_CONST_L2E] = {16383, 0xb8aa3b295c17f0bbull, true},
    [F80_CONST_PI] = {16384, 0xc90fdaa22168c234ull, true},
    [F80_CONST_LG2] = {16381, 0x9a209a84fbcff798ull, true},
    [F80_CONST_LN2] = {16382, 0xb17217f7d1cf79abull, true},
    [F80_CONST_ZERO] = {0, 0, false},
};

Float80 f80_const(const F80Ctx *c, F80Const which)
{
    Float80 r = f80_make(false, f80_consts[which].exp, f80_consts[which].mant);
    if (which == F80_CONST_ONE || which == F80_CONST_ZERO) return r;
    if (c->rc == F80_RC_UP || (c->rc == F80_RC_NEAREST && f80_consts[which].past_half)) r.mant++;
    return r;
}
