/* x87 transcendental instructions (FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1, FYL2X, FYL2XP1;
 * SDM vol. 2 instruction pages and vol. 1, 8.3.10) evaluated in 128-bit software arithmetic. */
#include "util/float80.h"

#include "util/float80_int.h"

#include <stddef.h>

/*
 * Working precision: sign * (hi:lo) * 2^(exp - 127), bit 127 set unless the value is zero. The
 * series below lose a few units of 2^-128, far below the 2^-64 that the final rounding keeps,
 * so results are correctly rounded except in the rarest near-halfway cases. Additions keep a
 * sticky bit so that "1 - tiny" or "x - x^3/6" still round in the right direction.
 */
typedef struct W {
    bool sign;
    int32_t exp;
    uint64_t hi, lo;
} W;

static const W w_zero = {false, 0, 0, 0};

static bool w_is_zero(W a)
{
    return !a.hi && !a.lo;
}

static W w_norm(W a)
{
    if (w_is_zero(a)) return a;
    a.exp -= f80i_norm128(&a.hi, &a.lo);
    return a;
}

static W w_from_u64(uint64_t v, int32_t exp) /* v * 2^exp */
{
    W r = {false, exp + 127, 0, v};
    return w_norm(r);
}

static W w_from_unpacked(F80Unpacked u)
{
    return (W){u.sign, u.exp - 16383, u.sig, 0};
}

static W w_neg(W a)
{
    a.sign = !a.sign;
    return a;
}

static W w_add(W a, W b)
{
    if (w_is_zero(a)) return b;
    if (w_is_zero(b)) return a;
    if (a.exp < b.exp || (a.exp == b.exp && (a.hi < b.hi || (a.hi == b.hi && a.lo < b.lo)))) {
        W t = a;
        a = b, b = t;
    }
    f80i_shr_sticky(&b.hi, &b.lo, a.exp - b.exp);
    if (a.sign == b.sign) {
        uint64_t lo = a.lo + b.lo;
        uint64_t hi = a.hi + b.hi + (lo < a.lo);
        bool carry = hi < a.hi || (hi == a.hi && lo < a.lo);
        if (carry) {
            lo = (lo >> 1) | (hi << 63) | (lo & 1);
            hi = (hi >> 1) | (1ull << 63);
            a.exp++;
        }
        a.hi = hi, a.lo = lo;
        return a;
    }
    a.hi = a.hi - b.hi - (a.lo < b.lo);
    a.lo -= b.lo;
    if (w_is_zero(a)) return w_zero;
    return w_norm(a);
}

static W w_sub(W a, W b)
{
    return w_add(a, w_neg(b));
}

static W w_mul(W a, W b)
{
    if (w_is_zero(a) || w_is_zero(b)) return w_zero;
    uint64_t p[4] = {0, 0, 0, 0}, h, l;
    /* Schoolbook 128x128: accumulate the four partial products into 256 bits. */
    const uint64_t x[2] = {a.lo, a.hi}, y[2] = {b.lo, b.hi};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            f80i_mul64(x[i], y[j], &h, &l);
            int k = i + j;
            uint64_t s = p[k] + l;
            uint64_t c = s < l;
            p[k] = s;
            s = p[k + 1] + h + c;
            c = s < h || (s == h && c);
            p[k + 1] = s;
            for (int m = k + 2; c && m < 4; m++)
                c = ++p[m] == 0;
        }
    W r = {a.sign != b.sign, a.exp + b.exp + 1, p[3], p[2] | ((p[1] | p[0]) != 0)};
    if (!(r.hi >> 63)) {
        r.hi = (r.hi << 1) | (p[2] >> 63);
        r.lo = (p[2] << 1) | (p[1] >> 63) | ((p[1] << 1 | p[0]) != 0);
        r.exp--;
    }
    return r;
}

/* a / b by restoring division, 128 quotient bits plus sticky. */
static W w_div(W a, W b)
{
    if (w_is_zero(a)) return w_zero;
    W q = {a.sign != b.sign, a.exp - b.exp, 0, 0};
    uint64_t rh = a.hi, rl = a.lo;
    bool carry = false;
    if (rh < b.hi || (rh == b.hi && rl < b.lo)) {
        carry = rh >> 63;
        rh = (rh << 1) | (rl >> 63);
        rl <<= 1;
        q.exp--;
    }
    for (int i = 0; i < 128; i++) {
        q.hi = (q.hi << 1) | (q.lo >> 63);
        q.lo <<= 1;
        if (carry || rh > b.hi || (rh == b.hi && rl >= b.lo)) {
            rh = rh - b.hi - (rl < b.lo);
            rl -= b.lo;
            q.lo |= 1;
        }
        carry = rh >> 63;
        rh = (rh << 1) | (rl >> 63);
        rl <<= 1;
    }
    q.lo |= (rh | rl) != 0;
    return q;
}

/* a / d for a small integer d, via 32-bit digits with 64 extra bits of quotient. */
static W w_div_small(W a, uint32_t d)
{
    if (w_is_zero(a)) return a;
    uint32_t digits[6] = {
        (uint32_t)(a.hi >> 32), (uint32_t)a.hi, (uint32_t)(a.lo >> 32), (uint32_t)a.lo, 0, 0};
    uint64_t rem = 0, q[6];
    for (int i = 0; i < 6; i++) {
        uint64_t cur = rem << 32 | digits[i];
        q[i] = cur / d;
        rem = cur % d;
    }
    /* The 192-bit quotient is a * 2^64 / d; its top word is non-zero since a is normalised. */
    uint64_t hi = q[0] << 32 | q[1], mid = q[2] << 32 | q[3], lo = q[4] << 32 | q[5];
    int sh = f80i_clz64(hi);
    W r = {a.sign, a.exp - sh, hi, mid};
    if (sh) {
        r.hi = (hi << sh) | (mid >> (64 - sh));
        r.lo = (mid << sh) | (lo >> (64 - sh));
        lo <<= sh;
    }
    r.lo |= (lo != 0 || rem != 0);
    return r;
}

static W w_const(int32_t exp, uint64_t hi, uint64_t lo)
{
    return (W){false, exp, hi, lo};
}

static const W w_pi_2 = {false, 0, 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull};
static const W w_ln2 = {false, -1, 0xb17217f7d1cf79abull, 0xc9e3b39803f2f6afull};
static const W w_log2e = {false, 0, 0xb8aa3b295c17f0bbull, 0xbe87fed0691d3e88ull};

/* Round to the 80-bit result. The arithmetic above keeps sticky bits, so a working value that
 * lands on a representable number (y * log2(2^k), or tan(x) for a denormal x, where every
 * correction term is far below 2^-128) rounds without moving. The x87 reports such results as
 * inexact all the same (SDM vol. 1, 8.5.6), and hence a denormal one as an underflow. */
static Float80 w_round(F80Ctx *c, W a)
{
    Float80 r =
        w_is_zero(a) ? f80_make(a.sign, 0, 0) : f80i_pack(c, a.sign, a.exp + 16383, a.hi, a.lo, 64);
    if (f80_exp(r) == 0 && r.mant) c->exc |= F80_UE;
    c->exc |= F80_PE;
    return r;
}

/* --- Series ----------------------------------------------------------------------------------- */

/* sin(r) (odd = true) or cos(r) for |r| <= pi/4 by its Taylor series. */
static W w_sin_or_cos(W r, bool odd)
{
    W r2 = w_mul(r, r);
    W one = w_from_u64(1, 0);
    W term = odd ? r : one, sum = term;
    for (uint32_t n = odd ? 2 : 1, k = 1; n < 60; n += 2, k++) {
        term = w_div_small(w_mul(term, r2), n * (n + 1));
        sum = w_add(sum, k & 1 ? w_neg(term) : term);
        if (term.exp < sum.exp - 136) break;
    }
    return sum;
}

/* atanh-style series: 2 * (s + s^3/3 + s^5/5 + ...) = ln((1 + s) / (1 - s)), |s| < 0.18. */
static W w_log_series(W s)
{
    if (w_is_zero(s)) return s;
    W s2 = w_mul(s, s), pw = s, sum = s;
    for (uint32_t n = 3; n < 200; n += 2) {
        pw = w_mul(pw, s2);
        W term = w_div_small(pw, n);
        sum = w_add(sum, term);
        if (term.exp < sum.exp - 140) break;
    }
    sum.exp++;
    return sum;
}

/* atan(t) for 0 <= t <= 1: atan(c) + atan((t - c) / (1 + t c)) with c the nearest eighth. */
static W w_atan01(W t)
{
    static const W tab[9] = {
        {false, 0, 0, 0},
        {false, -4, 0xfeadd4d5617b6e32ull, 0xc897989f3e888ef7ull},
        {false, -3, 0xfadbafc96406eb15ull, 0x6dc79ef5f7a217e5ull},
        {false, -2, 0xb7b0ca0f26f78473ull, 0x8aa32122dcfe4483ull},
        {false, -2, 0xed63382b0dda7b45ull, 0x6fe445ecbc3a8d03ull},
        {false, -1, 0x8f005d5ef7f59f9bull, 0x5c835e1665c43747ull},
        {false, -1, 0xa4bc7d1934f70924ull, 0x19a87f2a457dac9eull},
        {false, -1, 0xb8053e2bc2319e73ull, 0xcb2da55210a4443dull},
        {false, -1, 0xc90fdaa22168c234ull, 0xc4c6628b80dc1cd1ull},
    };
    /* j = round(8t), from the top bits of t. */
    int j = 0;
    if (!w_is_zero(t) && t.exp >= -5) {
        int sh = 63 - (t.exp + 4);
        uint64_t v = sh >= 64 ? 0 : t.hi >> sh; /* 16t, truncated */
        j = (int)((v + 1) >> 1);
        if (j > 8) j = 8;
    }
    W u = t;
    if (j) {
        W cj = w_from_u64((uint64_t)j, -3);
        u = w_div(w_sub(t, cj), w_add(w_from_u64(1, 0), w_mul(t, cj)));
    }
    W u2 = w_mul(u, u), pw = u, sum = u;
    for (uint32_t n = 3; n < 200; n += 2) {
        pw = w_mul(pw, u2);
        W term = w_div_small(pw, n);
        sum = w_add(sum, (n / 2) & 1 ? w_neg(term) : term);
        if (term.exp < sum.exp - 140) break;
    }
    return j ? w_add(tab[j], sum) : sum;
}

/* --- Trigonometric functions ------------------------------------------------------------------ */

/* The x87 reduces by pi/2 approximated with 66 bits (SDM vol. 1, 8.3.10); the same constant gives
 * the same results near multiples of pi/2. 0x3243f6a8885a308d3 = round-down of pi * 2^64. */
#define PI66_HI 0x3ull
#define PI66_LO 0x243f6a8885a308d3ull

/* |x| = k * (pi66 / 2) + r with |r| <= pi66 / 4. Returns r (signed) and the low bits of k. */
static W reduce(F80Unpacked x, unsigned *k)
{
    int32_t e = x.exp - 16383; /* |x| = sig * 2^(e - 63) */
    *k = 0;
    if (e < -1) return (W){false, e, x.sig, 0};
    /* Numerator N = sig * 2^(e + 2), so x / (pi/2) = N / PI66 with PI66 = pi/2 * 2^65. */
    uint64_t nh = 0, nl = x.sig;
    int sh = e + 2;
    if (sh >= 64) nh = nl, nl = 0, sh -= 64;
    if (sh) nh = (nh << sh) | (nl >> (64 - sh)), nl <<= sh;
    uint64_t rh = 0, rl = 0, q = 0;
    for (int i = 127; i >= 0; i--) {
        uint64_t bit = (i >= 64 ? nh >> (i - 64) : nl >> i) & 1;
        rh = (rh << 1) | (rl >> 63);
        rl = (rl << 1) | bit;
        q <<= 1;
        if (rh > PI66_HI || (rh == PI66_HI && rl >= PI66_LO)) {
            rh = rh - PI66_HI - (rl < PI66_LO);
            rl -= PI66_LO;
            q |= 1;
        }
    }
    /* Round the quotient to nearest: r > PI66 / 2 becomes r - PI66. */
    uint64_t h2 = PI66_HI >> 1, l2 = (PI66_LO >> 1) | (PI66_HI << 63);
    bool neg = false;
    if (rh > h2 || (rh == h2 && rl > l2)) {
        rh = PI66_HI - rh - (PI66_LO < rl);
        rl = PI66_LO - rl;
        neg = true;
        q++;
    }
    *k = (unsigned)q;
    W r = {neg, 127 - 65, rh, rl};
    return w_norm(r);
}

typedef enum { TRIG_SIN, TRIG_COS, TRIG_TAN } TrigFn;

/* Shared operand screening: returns true when *res already holds the answer. */
static bool trig_special(F80Ctx *c, Float80 a, uint16_t *cc, Float80 *res, TrigFn fn)
{
    F80Class ca = f80_classify(a);
    *cc = 0;
    c->c1 = 0;
    if (ca >= F80_QNAN) {
        *res = f80i_nan1(c, a);
        return true;
    }
    if (ca == F80_INF) {
        c->exc |= F80_IE;
        *res = F80_INDEFINITE;
        return true;
    }
    if (ca == F80_ZERO) {
        *res = fn == TRIG_COS ? f80_make(false, 16383, 1ull << 63) : a;
        return true;
    }
    if (ca == F80_DENORMAL) c->exc |= F80_DE;
    if (f80_exp(a) >= 16383 + 63) {
        *cc = F80_C2;
        *res = a;
        return true;
    }
    return false;
}

/* sin and/or cos of a finite operand below 2^63 (either output may be NULL). */
static void trig_eval(Float80 a, W *s, W *co)
{
    F80Unpacked u = f80i_unpack(a);
    unsigned k;
    W r = reduce(u, &k);
    /* Quadrant k: sin x = sin r, cos r, -sin r, -cos r; cos x = cos r, -sin r, -cos r, sin r. */
    if (s) {
        *s = w_sin_or_cos(r, !(k & 1));
        if ((k & 2) != 0) *s = w_neg(*s);
        if (u.sign) *s = w_neg(*s);
    }
    if (co) {
        *co = w_sin_or_cos(r, k & 1);
        if (((k + 1) & 2) != 0) *co = w_neg(*co);
    }
}

Float80 f80_sin(F80Ctx *c, Float80 a, uint16_t *cc)
{
    Float80 r;
    if (trig_special(c, a, cc, &r, TRIG_SIN)) return r;
    W s;
    trig_eval(a, &s, NULL);
    return w_round(c, s);
}

Float80 f80_cos(F80Ctx *c, Float80 a, uint16_t *cc)
{
    Float80 r;
    if (trig_special(c, a, cc, &r, TRIG_COS)) return r;
    W co;
    trig_eval(a, NULL, &co);
    return w_round(c, co);
}

void f80_sincos(F80Ctx *c, Float80 a, Float80 *sin, Float80 *cos, uint16_t *cc)
{
    Float80 r;
    if (trig_special(c, a, cc, &r, TRIG_SIN)) {
        *sin = r;
        *cos = f80_classify(a) == F80_ZERO ? f80_make(false, 16383, 1ull << 63) : r;
        return;
    }
    W s, co;
    trig_eval(a, &s, &co);
    *sin = w_round(c, s);
    uint8_t c1 = c->c1;
    *cos = w_round(c, co);
    c->c1 |= c1;
}

Float80 f80_tan(F80Ctx *c, Float80 a, uint16_t *cc)
{
    Float80 r;
    if (trig_special(c, a, cc, &r, TRIG_TAN)) return r;
    W s, co;
    trig_eval(a, &s, &co);
    return w_round(c, w_div(s, co));
}

/* --- FPATAN ----------------------------------------------------------------------------------- */

Float80 f80_patan(F80Ctx *c, Float80 y, Float80 x)
{
    F80Class cy = f80_classify(y), cx = f80_classify(x);
    c->c1 = 0;
    if (cy >= F80_QNAN || cx >= F80_QNAN) return f80i_nan2(c, x, y);
    if (cy == F80_DENORMAL || cx == F80_DENORMAL) c->exc |= F80_DE;
    bool sy = f80_sign(y), sx = f80_sign(x);
    W v;
    if (cy == F80_ZERO) {
        if (!sx) return y;
        v = w_const(1, w_pi_2.hi, w_pi_2.lo); /* pi */
    } else if (cx == F80_ZERO) {
        v = w_pi_2;
    } else if (cy == F80_INF || cx == F80_INF) {
        if (cy != F80_INF) {
            if (!sx) return f80_make(sy, 0, 0);
            v = w_const(1, w_pi_2.hi, w_pi_2.lo);
        } else if (cx != F80_INF) {
            v = w_pi_2;
        } else {
            v = w_const(-1, w_pi_2.hi, w_pi_2.lo); /* pi/4, or 3pi/4 for x = -inf */
            if (sx) v = w_sub(w_const(1, w_pi_2.hi, w_pi_2.lo), v);
        }
    } else {
        W wy = w_from_unpacked(f80i_unpack(y)), wx = w_from_unpacked(f80i_unpack(x));
        wy.sign = wx.sign = false;
        bool swap = wy.exp > wx.exp || (wy.exp == wx.exp && wy.hi > wx.hi);
        W t = swap ? w_div(wx, wy) : w_div(wy, wx);
        v = w_atan01(t);
        if (swap) v = w_sub(w_pi_2, v);
        if (sx) v = w_sub(w_const(1, w_pi_2.hi, w_pi_2.lo), v);
    }
    v.sign = sy;
    return w_round(c, v);
}

/* --- Exponential and logarithms --------------------------------------------------------------- */

Float80 f80_2xm1(F80Ctx *c, Float80 a)
{
    F80Class ca = f80_classify(a);
    c->c1 = 0;
    if (ca >= F80_QNAN) return f80i_nan1(c, a);
    if (ca == F80_ZERO) return a;
    if (ca == F80_INF) return f80_sign(a) ? f80_make(true, 16383, 1ull << 63) : a;
    if (ca == F80_DENORMAL) c->exc |= F80_DE;
    /* expm1(x ln 2) by its Taylor series; the instruction is defined for |x| <= 1 only. */
    W u = w_mul(w_from_unpacked(f80i_unpack(a)), w_ln2);
    W term = u, sum = u;
    for (uint32_t n = 2; n < 80; n++) {
        term = w_div_small(w_mul(term, u), n);
        sum = w_add(sum, term);
        if (term.exp < sum.exp - 140) break;
    }
    return w_round(c, sum);
}

/* log2(x) for finite x > 0. */
static W w_log2(F80Unpacked x)
{
    int32_t e = x.exp - 16383;
    W m = {false, 0, x.sig, 0};
    /* Keep m in [sqrt(1/2), sqrt(2)) so the series argument stays below 0.18. */
    if (x.sig > 0xb504f333f9de6484ull) {
        m.exp = -1;
        e++;
    }
    W one = w_from_u64(1, 0);
    W s = w_div(w_sub(m, one), w_add(m, one));
    W l = w_mul(w_log_series(s), w_log2e);
    if (e) {
        W we = w_from_u64(e < 0 ? (uint64_t) - (int64_t)e : (uint64_t)e, 0);
        we.sign = e < 0;
        l = w_add(we, l);
    }
    return l;
}

Float80 f80_yl2x(F80Ctx *c, Float80 y, Float80 x)
{
    F80Class cy = f80_classify(y), cx = f80_classify(x);
    c->c1 = 0;
    if (cy >= F80_QNAN || cx >= F80_QNAN) return f80i_nan2(c, x, y);
    bool sy = f80_sign(y), sx = f80_sign(x);
    if (sx && cx != F80_ZERO) {
        c->exc |= F80_IE;
        return F80_INDEFINITE;
    }
    if (cx == F80_ZERO) {
        if (cy == F80_ZERO) {
            c->exc |= F80_IE;
            return F80_INDEFINITE;
        }
        /* Zero divide outranks the denormal operand, as for FDIV. */
        if (cy != F80_INF) c->exc |= F80_ZE;
        return f80_make(!sy, 0x7fff, 1ull << 63);
    }
    if (cx == F80_INF) {
        if (cy == F80_ZERO) {
            c->exc |= F80_IE;
            return F80_INDEFINITE;
        }
        if (cy == F80_DENORMAL) c->exc |= F80_DE;
        return f80_make(sy, 0x7fff, 1ull << 63);
    }
    if (cx == F80_DENORMAL || cy == F80_DENORMAL) c->exc |= F80_DE;
    F80Unpacked ux = f80i_unpack(x);
    bool one = ux.exp == 16383 && ux.sig == 1ull << 63;
    bool below_one = ux.exp < 16383;
    if (cy == F80_INF) {
        if (one) {
            c->exc |= F80_IE;
            return F80_INDEFINITE;
        }
        return f80_make(sy != below_one, 0x7fff, 1ull << 63);
    }
    if (cy == F80_ZERO || one) return f80_make(sy != below_one, 0, 0);
    W l = w_log2(ux);
    W r = w_mul(w_from_unpacked(f80i_unpack(y)), l);
    return w_round(c, r);
}

Float80 f80_yl2xp1(F80Ctx *c, Float80 y, Float80 x)
{
    F80Class cy = f80_classify(y), cx = f80_classify(x);
    c->c1 = 0;
    if (cy >= F80_QNAN || cx >= F80_QNAN) return f80i_nan2(c, x, y);
    bool sy = f80_sign(y), sx = f80_sign(x);
    if (cx == F80_INF) {
        /* Outside the instruction's domain; behave as FYL2X of x + 1. */
        if (sx || cy == F80_ZERO) {
            c->exc |= F80_IE;
            return F80_INDEFINITE;
        }
        if (cy == F80_DENORMAL) c->exc |= F80_DE;
        return f80_make(sy, 0x7fff, 1ull << 63);
    }
    if (cx == F80_ZERO) {
        if (cy == F80_INF) {
            c->exc |= F80_IE;
            return F80_INDEFINITE;
        }
        if (cy == F80_DENORMAL) c->exc |= F80_DE;
        return f80_make(sy != sx, 0, 0);
    }
    if (cx == F80_DENORMAL || cy == F80_DENORMAL) c->exc |= F80_DE;
    if (cy == F80_INF) return f80_make(sy != sx, 0x7fff, 1ull << 63);
    if (cy == F80_ZERO) return f80_make(sy != sx, 0, 0);
    /* ln(1 + x) = 2 atanh(x / (2 + x)). */
    W wx = w_from_unpacked(f80i_unpack(x));
    W s = w_div(wx, w_add(w_from_u64(2, 0), wx));
    W l = w_mul(w_log_series(s), w_log2e);
    W r = w_mul(w_from_unpacked(f80i_unpack(y)), l);
    return w_round(c, r);
}
