/* Lazy arithmetic flags: EFLAGS.{CF,PF,AF,ZF,SF,OF} computed on demand from the last
 * flag-setting operation (SDM vol. 1, 3.4.3.1 and appendix A). */
#include "cpu/x86/helpers.h"

static inline uint32_t parity(uint32_t v)
{
    return __builtin_parity(v & 0xff) ? 0 : PF_MASK;
}

static inline uint32_t size_mask(int idx) { return idx == 0 ? 0xff : idx == 1 ? 0xffff : ~0u; }
static inline uint32_t sign_bit(int idx) { return idx == 0 ? 0x80 : idx == 1 ? 0x8000 : 0x80000000u; }

/* ZF, SF and PF of a result of the given size. */
static inline uint32_t zsp(uint32_t res, int idx)
{
    uint32_t m = size_mask(idx);
    return ((res & m) == 0 ? ZF_MASK : 0) | ((res & sign_bit(idx)) ? SF_MASK : 0) | parity(res);
}

uint32_t x86_cc_compute(int cc_op, uint32_t dst, uint32_t src, uint32_t src2)
{
    if (cc_op == CC_OP_EFLAGS) return src & CC_MASK;
    if (cc_op < CC_OP_ADDB || cc_op >= CC_OP_COUNT) return src & CC_MASK;
    int idx = (cc_op - CC_OP_ADDB) % 3;
    int kind = CC_OP_ADDB + (cc_op - CC_OP_ADDB) / 3 * 3;
    uint32_t m = size_mask(idx), sb = sign_bit(idx);
    uint32_t f = zsp(dst, idx);
    uint32_t s1;
    switch (kind) {
    case CC_OP_ADDB:
        s1 = dst - src;
        f |= ((dst & m) < (src & m)) ? CF_MASK : 0;
        f |= (dst ^ src ^ s1) & AF_MASK;
        f |= ((s1 ^ ~src) & (s1 ^ dst) & sb) ? OF_MASK : 0;
        return f;
    case CC_OP_ADCB:
        s1 = dst - src - src2;
        f |= (src2 ? (dst & m) <= (src & m) : (dst & m) < (src & m)) ? CF_MASK : 0;
        f |= (dst ^ src ^ s1) & AF_MASK;
        f |= ((s1 ^ ~src) & (s1 ^ dst) & sb) ? OF_MASK : 0;
        return f;
    case CC_OP_SUBB:
        s1 = dst + src;
        f |= ((s1 & m) < (src & m)) ? CF_MASK : 0;
        f |= (dst ^ src ^ s1) & AF_MASK;
        f |= ((s1 ^ src) & (s1 ^ dst) & sb) ? OF_MASK : 0;
        return f;
    case CC_OP_SBBB:
        s1 = dst + src + src2;
        f |= (src2 ? (s1 & m) <= (src & m) : (s1 & m) < (src & m)) ? CF_MASK : 0;
        f |= (dst ^ src ^ s1) & AF_MASK;
        f |= ((s1 ^ src) & (s1 ^ dst) & sb) ? OF_MASK : 0;
        return f;
    case CC_OP_LOGICB: return f;
    case CC_OP_INCB:
        s1 = dst - 1;
        f |= src ? CF_MASK : 0;
        f |= (dst ^ s1 ^ 1) & AF_MASK;
        f |= ((dst & m) == sb) ? OF_MASK : 0;
        return f;
    case CC_OP_DECB:
        s1 = dst + 1;
        f |= src ? CF_MASK : 0;
        f |= (dst ^ s1 ^ 1) & AF_MASK;
        f |= ((dst & m) == sb - 1) ? OF_MASK : 0;
        return f;
    /* Shifts by a nonzero count: AF = 1 on the reference host (undefined in the SDM). */
    case CC_OP_SHLB:
        /* src = operand << (count - 1): its top bit is the last bit shifted out. OF follows
         * the count-1 formula for every count. */
        f |= (src & sb) ? CF_MASK : 0;
        f |= ((dst ^ src) & sb) ? OF_MASK : 0;
        return f | AF_MASK;
    case CC_OP_SARB:
        f |= (src & 1) ? CF_MASK : 0;
        return f | AF_MASK;
    case CC_OP_SHRB:
        /* src = operand >> (count - 1), src2 = count: OF = top bit of the operand for a count
         * of 1, else 0. */
        f |= (src & 1) ? CF_MASK : 0;
        f |= (src2 == 1 && (src & sb)) ? OF_MASK : 0;
        return f | AF_MASK;
    case CC_OP_MULB:
        f |= src ? (CF_MASK | OF_MASK) : 0;
        return f;
    }
    return f;
}

uint32_t x86_cc_eflags(CPUX86State *env)
{
    return x86_cc_compute(env->cc_op, env->cc_dst, env->cc_src, env->cc_src2);
}

uint32_t x86_get_eflags(CPUX86State *env)
{
    return (env->eflags & ~(CC_MASK | DF_MASK)) | x86_cc_eflags(env) |
           (env->df < 0 ? DF_MASK : 0) | 0x2;
}

void x86_note_if_set(CPUX86State *env)
{
    /* One raised later leaves the chain of blocks itself (x86_cpu_set_irq). */
    if (env->interrupt_request & INT_REQ_HARD) x86_cpu_exit(env);
}

/* Writes the bits of value selected by mask; returns the EFLAGS before. */
static uint32_t write_eflags(CPUX86State *env, uint32_t value, uint32_t mask)
{
    uint32_t old = x86_get_eflags(env);
    uint32_t v = (old & ~mask) | (value & mask);
    if ((v & ~old) & IF_MASK) x86_note_if_set(env);
    env->cc_src = v & CC_MASK;
    env->cc_op = CC_OP_EFLAGS;
    env->df = (v & DF_MASK) ? -1 : 1;
    /* Reserved bits: 1 is always set; 3, 5, 15 and 22-31 are always clear. */
    env->eflags = (v & ~(CC_MASK | DF_MASK) & 0x003f7fd5u) | 0x2;
    return old;
}

void x86_set_eflags(CPUX86State *env, uint32_t value, uint32_t mask)
{
    write_eflags(env, value, mask);
    x86_update_hflags(env);
}

void x86_set_eflags_only(CPUX86State *env, uint32_t value, uint32_t mask)
{
    uint32_t old = write_eflags(env, value, mask);
    if ((old ^ env->eflags) & (TF_MASK | AC_MASK | VM_MASK)) x86_update_hflags(env);
}

/* CF alone, for INC/DEC/ADC/SBB after a block boundary (cheaper than all flags). */
uint32_t x86_cc_compute_cf(int cc_op, uint32_t dst, uint32_t src, uint32_t src2)
{
    if (cc_op < CC_OP_ADDB || cc_op >= CC_OP_COUNT) return src & CF_MASK;
    int idx = (cc_op - CC_OP_ADDB) % 3;
    int kind = CC_OP_ADDB + (cc_op - CC_OP_ADDB) / 3 * 3;
    uint32_t m = size_mask(idx);
    switch (kind) {
    case CC_OP_ADDB: return (dst & m) < (src & m);
    case CC_OP_ADCB: return src2 ? (dst & m) <= (src & m) : (dst & m) < (src & m);
    case CC_OP_SUBB: return ((dst + src) & m) < (src & m);
    case CC_OP_SBBB: return src2 ? ((dst + src + src2) & m) <= (src & m) : ((dst + src) & m) < (src & m);
    case CC_OP_LOGICB: return 0;
    case CC_OP_INCB:
    case CC_OP_DECB: return src != 0;
    case CC_OP_SHLB: return (src & sign_bit(idx)) != 0;
    case CC_OP_SARB:
    case CC_OP_SHRB: return src & 1;
    case CC_OP_MULB: return src != 0;
    }
    return 0;
}
