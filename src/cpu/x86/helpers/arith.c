/* Arithmetic helpers with irregular flag behaviour or exceptions: DIV/IDIV (#DE), the decimal
 * adjust instructions, shifts and rotates with run-time counts, double shifts, CMPXCHG8B
 * (SDM vol. 2 instruction pages). */
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"

static inline uint32_t parity_flag(uint32_t v) { return __builtin_parity(v & 0xff) ? 0 : PF_MASK; }

static uint32_t zsp(uint32_t v, int size)
{
    uint32_t m = size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu;
    uint32_t sb = size == 1 ? 0x80 : size == 2 ? 0x8000 : 0x80000000u;
    return ((v & m) == 0 ? ZF_MASK : 0) | ((v & sb) ? SF_MASK : 0) | parity_flag(v);
}

static void set_flags(CPUX86State *env, uint32_t f)
{
    env->cc_src = f & CC_MASK;
    env->cc_op = CC_OP_EFLAGS;
}

/* ---- division ---- */

static _Noreturn void div_error(CPUX86State *env) { x86_raise_exception(env, EXCP_DE); }

static uint32_t hlp_div_fn(void *opaque, uint32_t divisor, uint32_t size, uint32_t is_signed)
{
    CPUX86State *env = opaque;
    uint32_t *r = env->regs;
    if (size == 1) {
        divisor &= 0xff;
        uint32_t n = r[R_EAX] & 0xffff;
        uint32_t q, rem;
        if (is_signed) {
            int32_t d = (int8_t)divisor, nn = (int16_t)n;
            if (d == 0) div_error(env);
            int32_t qq = nn / d;
            if (qq != (int8_t)qq) div_error(env);
            q = (uint32_t)qq, rem = (uint32_t)(nn % d);
        } else {
            if (divisor == 0) div_error(env);
            q = n / divisor, rem = n % divisor;
            if (q > 0xff) div_error(env);
        }
        r[R_EAX] = (r[R_EAX] & 0xffff0000u) | (q & 0xff) | (rem & 0xff) << 8;
    } else if (size == 2) {
        divisor &= 0xffff;
        uint32_t n = (r[R_EAX] & 0xffff) | (r[R_EDX] & 0xffff) << 16;
        uint32_t q, rem;
        if (is_signed) {
            int32_t d = (int16_t)divisor, nn = (int32_t)n;
            if (d == 0) div_error(env);
            if (nn == INT32_MIN && d == -1) div_error(env);
            int32_t qq = nn / d;
            if (qq != (int16_t)qq) div_error(env);
            q = (uint32_t)qq, rem = (uint32_t)(nn % d);
        } else {
            if (divisor == 0) div_error(env);
            q = n / divisor, rem = n % divisor;
            if (q > 0xffff) div_error(env);
        }
        r[R_EAX] = (r[R_EAX] & 0xffff0000u) | (q & 0xffff);
        r[R_EDX] = (r[R_EDX] & 0xffff0000u) | (rem & 0xffff);
    } else {
        uint64_t n = r[R_EAX] | (uint64_t)r[R_EDX] << 32;
        uint64_t q, rem;
        if (is_signed) {
            int64_t d = (int32_t)divisor, nn = (int64_t)n;
            if (d == 0) div_error(env);
            if (nn == INT64_MIN && d == -1) div_error(env);
            int64_t qq = nn / d;
            if (qq != (int32_t)qq) div_error(env);
            q = (uint64_t)qq, rem = (uint64_t)(nn % d);
        } else {
            if (divisor == 0) div_error(env);
            q = n / divisor, rem = n % divisor;
            if (q > 0xffffffffu) div_error(env);
        }
        r[R_EAX] = (uint32_t)q;
        r[R_EDX] = (uint32_t)rem;
    }
    /* Undefined in the SDM; the reference host keeps CF/OF and sets SF=ZF=PF=0, AF=1. */
    set_flags(env, (x86_cc_eflags(env) & (CF_MASK | OF_MASK)) | AF_MASK);
    return 0;
}

/* ---- decimal adjust (AL/AH) ---- */

static uint32_t hlp_bcd_fn(void *opaque, uint32_t op, uint32_t imm, uint32_t c)
{
    CPUX86State *env = opaque;
    uint32_t f = x86_cc_eflags(env);
    uint32_t eax = env->regs[R_EAX];
    uint32_t al = eax & 0xff, ah = (eax >> 8) & 0xff;
    bool cf = f & CF_MASK, af = f & AF_MASK;
    uint32_t nf = 0;
    switch (op) {
    case 0: { /* DAA */
        uint32_t old_al = al;
        bool ncf = false;
        if ((al & 0xf) > 9 || af) {
            al += 6;
            ncf = cf || al > 0xff;
            nf |= AF_MASK;
        }
        if (old_al > 0x99 || cf) {
            al += 0x60;
            ncf = true;
        }
        al &= 0xff;
        nf |= zsp(al, 1) | (ncf ? CF_MASK : 0);
        /* OF: set when the adjustment flips the sign bit from 0 to 1 (as hardware does). */
        if (!(old_al & 0x80) && (al & 0x80)) nf |= OF_MASK;
        break;
    }
    case 1: { /* DAS */
        uint32_t old_al = al;
        bool ncf = false;
        if ((al & 0xf) > 9 || af) {
            ncf = cf || al < 6;
            al -= 6;
            nf |= AF_MASK;
        }
        if (old_al > 0x99 || cf) {
            al -= 0x60;
            ncf = true;
        }
        al &= 0xff;
        nf |= zsp(al, 1) | (ncf ? CF_MASK : 0);
        if ((old_al & 0x80) && !(al & 0x80)) nf |= OF_MASK;
        break;
    }
    case 2: /* AAA */
    case 3: { /* AAS */
        /* Flags are those of the 16-bit AX +/- 0x106 (or 0 when not adjusting) on the
         * reference host; the SDM defines only AF and CF. */
        bool adjust = (al & 0xf) > 9 || af;
        uint32_t ax = eax & 0xffff, k = adjust ? 0x106 : 0;
        uint32_t t = (op == 2 ? ax + k : ax - k) & 0xffff;
        bool of = op == 2 ? (~(ax ^ k) & (ax ^ t) & 0x8000) : ((ax ^ k) & (ax ^ t) & 0x8000);
        nf = zsp(t, 2) | (of ? OF_MASK : 0) | (adjust ? AF_MASK | CF_MASK : 0);
        al = t & 0xf;
        ah = (t >> 8) & 0xff;
        break;
    }
    case 4: /* AAM */
        if ((imm & 0xff) == 0) x86_raise_exception(env, EXCP_DE);
        ah = al / (imm & 0xff);
        al = al % (imm & 0xff);
        nf = zsp(al, 1);
        break;
    case 5: { /* AAD: all flags from the 8-bit addition AL + (AH * imm) */
        uint32_t addend = (ah * (imm & 0xff)) & 0xff;
        uint32_t sum = al + addend;
        nf = x86_cc_compute(CC_OP_ADDB, sum, addend, 0);
        al = sum & 0xff;
        ah = 0;
        break;
    }
    }
    env->regs[R_EAX] = (eax & 0xffff0000u) | (ah & 0xff) << 8 | (al & 0xff);
    set_flags(env, nf);
    return 0;
}

/* ---- shifts and rotates with run-time counts ----
 * op: 0 ROL 1 ROR 2 RCL 3 RCR 4 SHL 5 SHR 6 SAL 7 SAR; c = op | size << 8.
 * Returns the result; flags are written to the lazy state. */
static uint32_t hlp_shift_fn(void *opaque, uint32_t val, uint32_t count, uint32_t opsize)
{
    CPUX86State *env = opaque;
    int op = opsize & 7, size = opsize >> 8, bits = size * 8;
    uint32_t mask = size == 4 ? 0xffffffffu : (1u << bits) - 1, sb = 1u << (bits - 1);
    uint32_t f = x86_cc_eflags(env);
    val &= mask;
    count &= 31;
    uint32_t res = val;
    bool cf = f & CF_MASK;
    switch (op) {
    case 0: case 1: { /* ROL, ROR: count modulo the width; flags only if count != 0 */
        if (count == 0) return val;
        unsigned n = count % bits;
        if (op == 0) {
            res = n ? ((val << n) | (val >> (bits - n))) & mask : val;
            cf = res & 1;
            f = (f & ~(CF_MASK | OF_MASK)) | (cf ? CF_MASK : 0) |
                ((((res & sb) != 0) ^ cf) ? OF_MASK : 0);
        } else {
            res = n ? ((val >> n) | (val << (bits - n))) & mask : val;
            cf = res & sb;
            f = (f & ~(CF_MASK | OF_MASK)) | (cf ? CF_MASK : 0) |
                ((((res & sb) != 0) ^ ((res & (sb >> 1)) != 0)) ? OF_MASK : 0);
        }
        break;
    }
    case 2: case 3: { /* RCL, RCR through CF: width + 1 bits */
        unsigned n = count % (bits + 1);
        if (count == 0) return val;
        uint64_t v = val | (uint64_t)(cf ? 1 : 0) << bits; /* CF above the top bit */
        uint64_t full = ((uint64_t)1 << (bits + 1)) - 1;
        if (op == 2)
            v = ((v << n) | (v >> (bits + 1 - n))) & full;
        else
            v = ((v >> n) | (v << (bits + 1 - n))) & full;
        if (n == 0) v = val | (uint64_t)(cf ? 1 : 0) << bits;
        res = (uint32_t)v & mask;
        bool ncf = (v >> bits) & 1;
        bool of = op == 2 ? (((res & sb) != 0) ^ ncf) : (((res & sb) != 0) ^ ((res & (sb >> 1)) != 0));
        f = (f & ~(CF_MASK | OF_MASK)) | (ncf ? CF_MASK : 0) | (of ? OF_MASK : 0);
        break;
    }
    case 4: case 6: /* SHL */
        if (count == 0) return val;
        res = count >= 32 ? 0 : (val << count) & mask;
        cf = count <= (unsigned)bits ? (val >> (bits - count)) & 1 : 0;
        f = zsp(res, size) | (cf ? CF_MASK : 0) | ((((res & sb) != 0) ^ cf) ? OF_MASK : 0) |
            AF_MASK;
        break;
    case 5: /* SHR */
        if (count == 0) return val;
        res = val >> count;
        cf = count <= (unsigned)bits ? (val >> (count - 1)) & 1 : 0;
        f = zsp(res, size) | (cf ? CF_MASK : 0) | (count == 1 && (val & sb) ? OF_MASK : 0) |
            AF_MASK;
        break;
    case 7: { /* SAR */
        if (count == 0) return val;
        int32_t sv = size == 1 ? (int8_t)val : size == 2 ? (int16_t)val : (int32_t)val;
        unsigned n = count > 31 ? 31 : count;
        res = (uint32_t)(sv >> n) & mask;
        cf = (sv >> (count - 1 > 31 ? 31 : count - 1)) & 1;
        f = zsp(res, size) | (cf ? CF_MASK : 0) | AF_MASK;
        break;
    }
    }
    set_flags(env, f);
    return res;
}

/* SHLD/SHRD: a = destination, b = source, c = count | size << 8 | (1 << 16 for SHRD).
 * Includes the reference host's results for 16-bit counts above 16 (undefined in the SDM). */
static uint32_t hlp_dshift_fn(void *opaque, uint32_t x, uint32_t y, uint32_t packed)
{
    CPUX86State *env = opaque;
    unsigned c = packed & 31, size = (packed >> 8) & 0xff;
    bool right = packed >> 16;
    if (c == 0) return x;
    unsigned n = size * 8;
    uint32_t mask = size == 4 ? 0xffffffffu : 0xffff, sb = 1u << (n - 1);
    x &= mask, y &= mask;
    uint32_t r;
    bool cf, of;
    if (size == 2 && c > 16) {
        unsigned k = c - 16;
        if (right) {
            r = ((y >> k) | (y << (16 - k))) & mask;
            cf = false;
            of = ((r >> 15) ^ (r >> 14)) & 1;
        } else {
            r = ((y << k) | (y >> (16 - k))) & mask;
            cf = of = false;
        }
    } else if (right) {
        r = ((x >> c) | (c == n ? y : (uint32_t)((uint64_t)y << (n - c)))) & mask;
        cf = (x >> (c - 1)) & 1;
        of = (((r & sb) != 0) ^ ((r & (sb >> 1)) != 0));
    } else {
        r = ((c == n ? 0 : x << c) | (y >> (n - c))) & mask;
        cf = (x >> (n - c)) & 1;
        of = size == 2 && c == 16 ? cf : (((r & sb) != 0) ^ cf);
    }
    set_flags(env, zsp(r, size) | (cf ? CF_MASK : 0) | (of ? OF_MASK : 0) | AF_MASK);
    return r;
}

/* CMPXCHG8B m64 at linear address lin (mmu index b). */
static uint32_t hlp_cmpxchg8b_fn(void *opaque, uint32_t lin, uint32_t mmu, uint32_t c)
{
    CPUX86State *env = opaque;
    softmmu_probe(env, lin, 8, ACC_WRITE, mmu);
    uint32_t lo = x86_ldl(env, lin, mmu), hi = x86_ldl(env, lin + 4, mmu);
    uint32_t f = x86_cc_eflags(env) & ~ZF_MASK;
    if (lo == env->regs[R_EAX] && hi == env->regs[R_EDX]) {
        x86_stl(env, lin, env->regs[R_EBX], mmu);
        x86_stl(env, lin + 4, env->regs[R_ECX], mmu);
        f |= ZF_MASK;
    } else {
        /* The locked cycle writes the old value back. */
        x86_stl(env, lin, lo, mmu);
        x86_stl(env, lin + 4, hi, mmu);
        env->regs[R_EAX] = lo;
        env->regs[R_EDX] = hi;
    }
    set_flags(env, f);
    return 0;
}

const IrHelper hlp_div = {hlp_div_fn, "div", 0};
const IrHelper hlp_bcd = {hlp_bcd_fn, "bcd", 0};
const IrHelper hlp_shift = {hlp_shift_fn, "shift", IRH_NO_FAULT};
const IrHelper hlp_dshift = {hlp_dshift_fn, "dshift", IRH_NO_FAULT};
const IrHelper hlp_cmpxchg8b = {hlp_cmpxchg8b_fn, "cmpxchg8b", 0};
