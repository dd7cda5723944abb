/* x87 FPU execution for translated code: register stack and tags, exception flags with their
 * masked and unmasked responses, #MF / FERR#, environment and state images, FXSAVE/FXRSTOR
 * (SDM vol. 1 ch. 8 and appendix D, vol. 2 x87 instruction pages, vol. 3 ch. 6). */
#include <string.h>

#include "cpu/x86/fpu.h"
#include "cpu/x86/decode.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "util/float80.h"
#include "util/float80_fast.h"

/* Status-word bits beyond the exception flags (which match F80_IE..F80_PE). */
#define FSW_IE  0x0001u
#define FSW_EXC 0x003fu
#define FSW_SF  0x0040u
#define FSW_ES  0x0080u
#define FSW_C0  0x0100u
#define FSW_C1  0x0200u
#define FSW_C2  0x0400u
#define FSW_TOP 0x3800u
#define FSW_C3  0x4000u
#define FSW_B   0x8000u
#define FSW_CC  (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

#define FCW_INIT 0x037fu

/* MXCSR bits FXRSTOR accepts (no DAZ on a P6-class CPU); others raise #GP(0). */
#define MXCSR_MASK 0x0000ffbfu

static const Float80 f80_one = {0x8000000000000000ull, 0x3fff};

/* ---- FERR# --------------------------------------------------------------------------------- */

void x86_fpu_set_ferr_handler(CPUX86State *env, void (*ferr)(void *opaque, int level), void *opaque)
{
    env->ferr = ferr;
    env->ferr_opaque = opaque;
    env->ferr_level = false;
}

static void fpu_set_ferr(CPUX86State *env, bool level)
{
    if (!env->ferr || env->ferr_level == level) return;
    env->ferr_level = level;
    env->ferr(env->ferr_opaque, level);
}

/* The P6 asserts FERR# as soon as it detects an unmasked exception and releases it when the
 * flags are cleared (SDM vol. 1, D.2.2). With CR0.NE = 1 the PC's IRQ13 stays quiet. */
static void fpu_update_ferr(CPUX86State *env)
{
    fpu_set_ferr(env, (env->fpu.fsw & FSW_ES) && !(env->cr[0] & CR0_NE));
}

/* ---- register stack ---- */

static inline unsigned st_phys(const X87State *f, unsigned i)
{
    return (f->top + i) & 7;
}
static inline bool st_empty(const X87State *f, unsigned i)
{
    return f->tag_empty >> st_phys(f, i) & 1;
}
static inline Float80 st_reg(const X87State *f, unsigned r)
{
    return f->st[r];
}
static inline void st_put(X87State *f, unsigned r, Float80 v)
{
    f->st[r] = v;
}
static inline Float80 st_get(const X87State *f, unsigned i)
{
    return f->st[st_phys(f, i)];
}
static inline void st_set(X87State *f, unsigned i, Float80 v)
{
    unsigned r = st_phys(f, i);
    f->st[r] = v;
    f->tag_empty &= ~(1u << r);
}
static inline void st_push(X87State *f, Float80 v)
{
    f->top = (f->top - 1) & 7;
    st_set(f, 0, v);
}
static inline void st_pop(X87State *f)
{
    f->tag_empty |= 1u << f->top;
    f->top = (f->top + 1) & 7;
}
static inline void set_cc(X87State *f, uint16_t mask, uint16_t bits)
{
    f->fsw = (f->fsw & ~mask) | (bits & mask);
}
static inline void set_c1(X87State *f, bool c1)
{
    set_cc(f, FSW_C1, c1 ? FSW_C1 : 0);
}

uint16_t x86_fpu_status_word(const X87State *f)
{
    return (f->fsw & ~FSW_TOP) | (uint16_t)(f->top << 11);
}

static unsigned reg_tag(const X87State *f, unsigned r)
{
    if (f->tag_empty >> r & 1) return 3;
    switch (f80_classify(f->st[r])) {
    case F80_NORMAL: return 0;
    case F80_ZERO: return 1;
    default: return 2;
    }
}

uint16_t x86_fpu_tag_word(const X87State *f)
{
    uint16_t t = 0;
    for (unsigned r = 0; r < 8; r++)
        t |= (uint16_t)(reg_tag(f, r) << (2 * r));
    return t;
}

uint8_t x86_fpu_abridged_tags(const X87State *f)
{
    return (uint8_t)~f->tag_empty;
}

/* ---- exceptions ---- */

static inline unsigned unmasked(const X87State *f, unsigned exc)
{
    return exc & ~f->fcw & FSW_EXC;
}

/* ES and B summarise the unmasked flags; recomputed whenever FCW or the flags are loaded. */
static void fpu_recompute_es(X87State *f)
{
    if (unmasked(f, f->fsw))
        f->fsw |= FSW_ES | FSW_B;
    else
        f->fsw &= ~(FSW_ES | FSW_B);
}

static void fpu_raise_flags(X87State *f, unsigned exc)
{
    f->fsw |= exc;
    if (unmasked(f, exc)) f->fsw |= FSW_ES | FSW_B;
}

/* Stack overflow or underflow (#IS): IE and SF, C1 = 1 for overflow (SDM vol. 1, 8.5.1.1).
 * Returns true when IE is masked and the caller applies the default response (the real
 * indefinite); otherwise TOP and the registers stay as they are. */
static bool stack_fault(X87State *f, bool overflow)
{
    set_c1(f, overflow);
    fpu_raise_flags(f, FSW_IE | FSW_SF);
    return f->fcw & FSW_IE;
}

/* Records the outcome of an arithmetic operation: C1 (rounded up) and the flags. Returns false
 * when an unmasked IE, DE or ZE means the destination must stay unchanged and nothing is popped
 * or pushed (vol. 1, 4.9.2 / 8.5); unmasked OE and UE still deliver the biased result. */
static bool arith_done(X87State *f, const F80Ctx *c)
{
    unsigned pre = c->exc & (F80_IE | F80_DE | F80_ZE);
    if (unmasked(f, pre)) {
        /* The operation is not carried out, so nothing is rounded and its result flags (OE,
         * UE, PE) do not arise. */
        set_c1(f, false);
        fpu_raise_flags(f, pre);
        return false;
    }
    set_c1(f, c->c1);
    fpu_raise_flags(f, c->exc);
    return true;
}

/* A memory source converted before the operation may report DE. Like a denormal register
 * operand, it does not when the other operand is a NaN or the operation raises IE or ZE. */
static void merge_load_exc(F80Ctx *c, uint8_t load_exc, Float80 other)
{
    if ((c->exc & (F80_IE | F80_ZE)) || f80_is_nan(other)) load_exc &= ~F80_DE;
    c->exc |= load_exc;
}

/* Pending unmasked exception at a waiting instruction (vol. 1, 8.6 and D.2.2). With CR0.NE = 1
 * this is #MF. With NE = 0 FERR# drives IRQ13 and the P6 freezes here until an interrupt
 * arrives: a deliverable interrupt is taken before this instruction; otherwise (IRQ13 masked,
 * already serviced, IGNNE# through port F0) the instruction proceeds as with IGNNE#. */
static void fpu_check_pending(CPUX86State *env)
{
    if (!(env->fpu.fsw & FSW_ES)) return;
    if (env->cr[0] & CR0_NE) x86_raise_exception(env, EXCP_MF);
    fpu_set_ferr(env, true);
    if ((env->interrupt_request & INT_REQ_HARD) && (env->eflags & IF_MASK) && !env->inhibit_irq) {
        x86_restore_state(env);
        x86_cpu_loop_exit(env);
    }
}

static void fpu_init_state(X87State *f)
{
    f->fcw = FCW_INIT;
    f->fsw = 0;
    f->top = 0;
    f->tag_empty = 0xff;
    f->fop = 0;
    f->fip = f->fdp = 0;
    f->fcs = f->fds = 0;
}

/* Power-on and RESET. Table 9-1 of vol. 3 lists FCW 0040H and zero tags after RESET, but boot
 * loaders and test kernels expect the FNINIT state that firmware leaves behind. */
void x86_cpu_init_fpu(CPUX86State *env)
{
    x86_fpu_release(env);
    fpu_init_state(&env->fpu);
    memset(env->fpu.st, 0, sizeof env->fpu.st);
    env->mxcsr = 0x1f80;
    memset(env->xmm, 0, sizeof env->xmm);
    fpu_set_ferr(env, false);
}

/* ---- the decoded instruction ---- */

typedef struct FpuInsn {
    uint32_t lin;
    unsigned fop, fmt, i, mmu, seg;
    bool dest_sti, mem, op32;
} FpuInsn;

/* ---- guest memory ---- */

static inline void put16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void put32(uint8_t *p, uint32_t v)
{
    put16(p, v);
    put16(p + 2, v >> 16);
}
static inline uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t get32(const uint8_t *p)
{
    return get16(p) | (uint32_t)get16(p + 2) << 16;
}
static inline void put80(uint8_t *p, Float80 v)
{
    put32(p, (uint32_t)v.mant);
    put32(p + 4, (uint32_t)(v.mant >> 32));
    put16(p + 8, v.se);
}
static inline Float80 get80(const uint8_t *p)
{
    return (Float80){get32(p) | (uint64_t)get32(p + 4) << 32, get16(p + 8)};
}

/* Whole-buffer accesses: reads may fault part-way (nothing is committed before they finish);
 * writes are probed first so that a fault leaves memory untouched. */
static void mem_read(CPUX86State *env, uint32_t lin, int mmu, uint8_t *buf, unsigned n)
{
    unsigned k = 0;
    for (; k + 4 <= n; k += 4)
        put32(buf + k, x86_ldl(env, lin + k, mmu));
    for (; k < n; k++)
        buf[k] = (uint8_t)x86_ldub(env, lin + k, mmu);
}

static void mem_write(CPUX86State *env, uint32_t lin, int mmu, const uint8_t *buf, unsigned n)
{
    if (n > 4) softmmu_probe(env, lin, n, ACC_WRITE, mmu);
    unsigned k = 0;
    for (; k + 4 <= n; k += 4)
        x86_stl(env, lin + k, get32(buf + k), mmu);
    if (k + 2 <= n) {
        x86_stw(env, lin + k, get16(buf + k), mmu);
        k += 2;
    }
    for (; k < n; k++)
        x86_stb(env, lin + k, buf[k], mmu);
}

static uint64_t mem_ld64(CPUX86State *env, const FpuInsn *in)
{
    uint32_t lo = x86_ldl(env, in->lin, in->mmu);
    return lo | (uint64_t)x86_ldl(env, in->lin + 4, in->mmu) << 32;
}

/* Source operand of an arithmetic or compare instruction in memory, as an 80-bit value. SNaNs
 * stay signalling so that the operation reports IE and picks the NaN it returns as for register
 * operands (vol. 1, table 4-7); denormal singles and doubles become normal 80-bit values exactly
 * and are reported as DE in *exc. */
static Float80 read_src(CPUX86State *env, const FpuInsn *in, uint8_t *exc)
{
    F80Ctx c = {0};
    Float80 r;
    switch (in->fmt) {
    case FMT_F32: {
        uint32_t v = x86_ldl(env, in->lin, in->mmu);
        if ((v & 0x7f800000u) == 0x7f800000u && (v & 0x007fffffu) && !(v & 0x00400000u))
            return f80_make(v >> 31, 0x7fff, 1ull << 63 | (uint64_t)(v & 0x7fffffu) << 40);
        r = f80_from_f32(&c, v);
        break;
    }
    case FMT_F64: {
        uint64_t v = mem_ld64(env, in);
        uint64_t frac = v & 0x000fffffffffffffull;
        if ((v >> 52 & 0x7ff) == 0x7ff && frac && !(frac >> 51))
            return f80_make(v >> 63, 0x7fff, 1ull << 63 | frac << 11);
        r = f80_from_f64(&c, v);
        break;
    }
    case FMT_I16: return f80_from_i64((int16_t)x86_lduw(env, in->lin, in->mmu));
    case FMT_I32: return f80_from_i64((int32_t)x86_ldl(env, in->lin, in->mmu));
    default: return F80_INDEFINITE;
    }
    *exc = c.exc;
    return r;
}

/* ---- arithmetic ---- */

enum { AR_ADD, AR_MUL, AR_SUB, AR_SUBR, AR_DIV, AR_DIVR };

static Float80 arith(F80Ctx *c, unsigned kind, Float80 x, Float80 y)
{
    switch (kind) {
    case AR_ADD: return f80_add(c, x, y);
    case AR_MUL: return f80_mul(c, x, y);
    case AR_SUB: return f80_sub(c, x, y);
    case AR_SUBR: return f80_sub(c, y, x);
    case AR_DIV: return f80_div(c, x, y);
    default: return f80_div(c, y, x);
    }
}

/* dest = dest op src: ST0 op mem, ST0 op ST(i), or ST(i) op ST0 (then optionally pop). */
static void op_arith(CPUX86State *env, const FpuInsn *in, unsigned kind, bool pop)
{
    X87State *f = &env->fpu;
    unsigned d = in->dest_sti ? in->i : 0, s = in->dest_sti ? 0 : in->i;
    uint8_t load_exc = 0;
    Float80 y = {0, 0};
    if (in->mem) y = read_src(env, in, &load_exc);
    if (st_empty(f, d) || (!in->mem && st_empty(f, s))) {
        if (stack_fault(f, false)) {
            st_set(f, d, F80_INDEFINITE);
            if (pop) st_pop(f);
        }
        return;
    }
    if (!in->mem) y = st_get(f, s);
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 x = st_get(f, d);
    Float80 r = arith(&c, kind, x, y);
    merge_load_exc(&c, load_exc, x);
    if (!arith_done(f, &c)) return;
    st_set(f, d, r);
    if (pop) st_pop(f);
}

static void set_cmp_eflags(CPUX86State *env, F80Rel rel)
{
    static const uint32_t fl[4] = {
        [F80_LT] = CF_MASK,
        [F80_EQ] = ZF_MASK,
        [F80_GT] = 0,
        [F80_UNORDERED] = ZF_MASK | PF_MASK | CF_MASK,
    };
    env->cc_src = fl[rel];
    env->cc_op = CC_OP_EFLAGS;
}

/* FCOM/FUCOM/FICOM/FTST (C3 C2 C0) and FCOMI/FUCOMI (ZF PF CF, OF SF AF cleared). An unmasked
 * invalid operand or stack fault leaves the condition codes (ZF PF CF) alone, though FCOMI still
 * clears OF, SF and AF (SDM vol. 2, FCOM and FCOMI); an unmasked denormal operand still sets
 * them, as hardware does. Either keeps the stack from being popped. */
static void op_compare(CPUX86State *env, const FpuInsn *in, unsigned other, int npop, bool quiet,
                       bool eflags, bool ftst)
{
    X87State *f = &env->fpu;
    uint8_t load_exc = 0;
    Float80 y = {0, 0};
    if (in->mem) y = read_src(env, in, &load_exc);
    F80Rel rel = F80_UNORDERED;
    bool done, codes;
    if (st_empty(f, 0) || (!in->mem && !ftst && st_empty(f, other))) {
        done = codes = stack_fault(f, false);
    } else {
        if (!in->mem && !ftst) y = st_get(f, other);
        F80Ctx c = f80_ctx_from_fcw(f->fcw);
        Float80 x = st_get(f, 0);
        rel = f80_compare(&c, x, y, quiet);
        merge_load_exc(&c, load_exc, x);
        c.c1 = 0;
        done = arith_done(f, &c);
        codes = !unmasked(f, c.exc & F80_IE);
    }
    if (eflags) {
        if (codes) {
            set_cmp_eflags(env, rel);
        } else {
            env->cc_src = x86_cc_eflags(env) & (ZF_MASK | PF_MASK | CF_MASK);
            env->cc_op = CC_OP_EFLAGS;
        }
    } else if (codes) {
        set_cc(f, FSW_C0 | FSW_C2 | FSW_C3, f80_rel_cc(rel));
    }
    if (!done) return;
    while (npop-- > 0)
        st_pop(f);
}

/* ---- loads ---- */

/* Pushes v with the flags of its conversion (FLD m32/m64); stack overflow first, as the x87
 * checks it before converting the source (vol. 1, 8.5.1.1). An unmasked IE (SNaN source) stops
 * the push; a denormal source is loaded even when DE is unmasked, as on hardware. */
static void push_value(X87State *f, Float80 v, const F80Ctx *c)
{
    if (!st_empty(f, 7)) {
        if (stack_fault(f, true)) st_push(f, F80_INDEFINITE);
        return;
    }
    set_c1(f, false);
    if (c) {
        fpu_raise_flags(f, c->exc);
        if (unmasked(f, c->exc & F80_IE)) return;
    }
    st_push(f, v);
}

static void op_load(CPUX86State *env, const FpuInsn *in)
{
    X87State *f = &env->fpu;
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 v;
    if (!in->mem) {
        /* The source is examined before the push: an empty ST(i) is an underflow even when the
         * stack is also full (as measured on hardware). */
        if (st_empty(f, in->i)) {
            if (stack_fault(f, false)) st_push(f, F80_INDEFINITE);
        } else {
            push_value(f, st_get(f, in->i), NULL);
        }
        return;
    }
    switch (in->fmt) {
    case FMT_F32: v = f80_from_f32(&c, x86_ldl(env, in->lin, in->mmu)); break;
    case FMT_F64: v = f80_from_f64(&c, mem_ld64(env, in)); break;
    default: {
        uint8_t b[10];
        mem_read(env, in->lin, in->mmu, b, 10);
        v = get80(b);
        break;
    }
    }
    push_value(f, v, &c);
}

static void op_iload(CPUX86State *env, const FpuInsn *in)
{
    int64_t v;
    switch (in->fmt) {
    case FMT_I16: v = (int16_t)x86_lduw(env, in->lin, in->mmu); break;
    case FMT_I32: v = (int32_t)x86_ldl(env, in->lin, in->mmu); break;
    default: v = (int64_t)mem_ld64(env, in); break;
    }
    push_value(&env->fpu, f80_from_i64(v), NULL);
}

static void op_bload(CPUX86State *env, const FpuInsn *in)
{
    uint8_t b[10];
    mem_read(env, in->lin, in->mmu, b, 10);
    push_value(&env->fpu, f80_from_bcd(b), NULL);
}

static void op_const(CPUX86State *env, F80Const which)
{
    X87State *f = &env->fpu;
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    push_value(f, f80_const(&c, which), NULL);
}

/* ---- stores ---- */

/* FST/FSTP to a register: a plain copy, no exceptions but stack underflow. */
static void op_store_reg(X87State *f, unsigned i, bool pop)
{
    if (st_empty(f, 0)) {
        if (!stack_fault(f, false)) return;
        st_set(f, i, F80_INDEFINITE);
    } else {
        set_c1(f, false);
        st_set(f, i, st_get(f, 0));
    }
    if (pop) st_pop(f);
}

/* Stores of ST0 to memory in any format. The image is computed first and written before any
 * FPU state changes, so that a page fault restarts the instruction cleanly. An unmasked IE, DE,
 * OE or UE stores nothing and does not pop (vol. 1, 4.9.1.4-5 and 8.5); PE stores. An empty ST0
 * stores the format's indefinite when IE is masked. */
static void op_store_mem(CPUX86State *env, const FpuInsn *in, bool pop)
{
    X87State *f = &env->fpu;
    bool underflow = st_empty(f, 0);
    if (underflow && !(f->fcw & FSW_IE)) {
        stack_fault(f, false);
        return;
    }
    Float80 a = underflow ? F80_INDEFINITE : st_get(f, 0);
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    uint8_t buf[10];
    unsigned n;
    bool trunc = in->fop == F_ISTTP;
    switch (in->fop) {
    case F_ST:
    case F_STP:
        switch (in->fmt) {
        case FMT_F32: put32(buf, f80_to_f32(&c, a)), n = 4; break;
        case FMT_F64: {
            uint64_t v = f80_to_f64(&c, a);
            put32(buf, (uint32_t)v), put32(buf + 4, (uint32_t)(v >> 32)), n = 8;
            break;
        }
        default: put80(buf, a), n = 10; break;
        }
        break;
    case F_BSTP: f80_to_bcd(&c, a, buf), n = 10; break;
    default: /* FIST, FISTP, FISTTP */
        switch (in->fmt) {
        case FMT_I16: put16(buf, (uint16_t)f80_to_i16(&c, a, trunc)), n = 2; break;
        case FMT_I32: put32(buf, (uint32_t)f80_to_i32(&c, a, trunc)), n = 4; break;
        default: {
            uint64_t v = (uint64_t)f80_to_i64(&c, a, trunc);
            put32(buf, (uint32_t)v), put32(buf + 4, (uint32_t)(v >> 32)), n = 8;
            break;
        }
        }
        break;
    }
    if (underflow) {
        /* The indefinite's own conversion flags (IE for integers) are not reported. */
        mem_write(env, in->lin, in->mmu, buf, n);
        stack_fault(f, false);
        if (pop) st_pop(f);
        return;
    }
    if (unmasked(f, c.exc & (F80_IE | F80_DE | F80_OE | F80_UE))) {
        /* Nothing is stored, so nothing is inexact either. */
        set_c1(f, false);
        fpu_raise_flags(f, c.exc & ~F80_PE);
        return;
    }
    mem_write(env, in->lin, in->mmu, buf, n);
    set_c1(f, c.c1);
    fpu_raise_flags(f, c.exc);
    if (pop) st_pop(f);
}

/* ---- single-register and stack operations ---- */

/* ST0 = fn(ST0) for FSQRT, FRNDINT, F2XM1. */
static void op_unary(X87State *f, Float80 (*fn)(F80Ctx *, Float80))
{
    if (st_empty(f, 0)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 r = fn(&c, st_get(f, 0));
    if (arith_done(f, &c)) st_set(f, 0, r);
}

/* FCHS/FABS: sign manipulation only, no exceptions besides stack underflow. */
static void op_sign(X87State *f, bool abs)
{
    if (st_empty(f, 0)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    set_c1(f, false);
    Float80 a = st_get(f, 0);
    st_set(f, 0, abs ? f80_abs(a) : f80_chs(a));
}

/* ST1 = fn(ST1, ST0), pop: FPATAN, FYL2X, FYL2XP1. */
static void op_st1_pop(X87State *f, Float80 (*fn)(F80Ctx *, Float80, Float80))
{
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (stack_fault(f, false)) {
            st_set(f, 1, F80_INDEFINITE);
            st_pop(f);
        }
        return;
    }
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 r = fn(&c, st_get(f, 1), st_get(f, 0));
    if (!arith_done(f, &c)) return;
    st_set(f, 1, r);
    st_pop(f);
}

static void op_fscale(X87State *f)
{
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 r = f80_scale(&c, st_get(f, 0), st_get(f, 1));
    if (arith_done(f, &c)) st_set(f, 0, r);
}

static void op_fprem(X87State *f, bool ieee)
{
    /* Without a remainder (stack fault, NaN or invalid operands) C2 says "complete" and the
     * quotient bits C0 and C3 keep their values, as measured on hardware. */
    set_cc(f, FSW_C2, 0);
    if (st_empty(f, 0) || st_empty(f, 1)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    uint16_t cc = 0;
    Float80 a = st_get(f, 0), b = st_get(f, 1);
    Float80 r = ieee ? f80_prem1(&c, a, b, &cc) : f80_prem(&c, a, b, &cc);
    if (!arith_done(f, &c)) return;
    st_set(f, 0, r);
    set_cc(f, f80_is_nan(r) ? FSW_C1 : FSW_CC, cc);
}

/* The stack checks of instructions that replace ST0 and push (FXTRACT, FPTAN, FSINCOS): the
 * masked response fills both with the indefinite. Returns false if the instruction ends here. */
static bool replace_push_ok(X87State *f)
{
    if (st_empty(f, 0) || !st_empty(f, 7)) {
        if (stack_fault(f, !st_empty(f, 0))) {
            st_set(f, 0, F80_INDEFINITE);
            st_push(f, F80_INDEFINITE);
        }
        return false;
    }
    return true;
}

static void op_fxtract(X87State *f)
{
    if (!replace_push_ok(f)) return;
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 e;
    Float80 sig = f80_xtract(&c, st_get(f, 0), &e);
    if (!arith_done(f, &c)) return;
    st_set(f, 0, e);
    st_push(f, sig);
}

/* FSIN, FCOS, FPTAN, FSINCOS. An operand out of range (|x| >= 2^63) sets C2 and changes
 * nothing else; otherwise, stack faults included, C2 is cleared. */
static void op_trig(X87State *f, unsigned fop)
{
    bool pushes = fop == F_PTAN || fop == F_SINCOS;
    set_cc(f, FSW_C2, 0);
    if (pushes) {
        if (!replace_push_ok(f)) return;
    } else if (st_empty(f, 0)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    uint16_t cc = 0;
    Float80 a = st_get(f, 0), r, second = f80_one;
    switch (fop) {
    case F_SIN: r = f80_sin(&c, a, &cc); break;
    case F_COS: r = f80_cos(&c, a, &cc); break;
    case F_PTAN:
        r = f80_tan(&c, a, &cc);
        /* A NaN result is pushed again in place of 1.0, as the x87 does. */
        if (f80_is_nan(r)) second = r;
        break;
    default: f80_sincos(&c, a, &r, &second, &cc); break;
    }
    if (cc & F80_C2) {
        set_cc(f, FSW_C2, FSW_C2);
        return;
    }
    if (!arith_done(f, &c)) return;
    st_set(f, 0, r);
    if (pushes) st_push(f, second);
}

static void op_fxch(X87State *f, unsigned i)
{
    if (st_empty(f, 0) || st_empty(f, i)) {
        if (!stack_fault(f, false)) return;
        if (st_empty(f, 0)) st_set(f, 0, F80_INDEFINITE);
        if (st_empty(f, i)) st_set(f, i, F80_INDEFINITE);
    } else {
        set_c1(f, false);
    }
    Float80 t = st_get(f, 0);
    st_set(f, 0, st_get(f, i));
    st_set(f, i, t);
}

static void op_fxam(X87State *f)
{
    Float80 a = st_get(f, 0);
    uint16_t cc;
    if (st_empty(f, 0))
        cc = FSW_C3 | FSW_C0 | (f80_sign(a) ? FSW_C1 : 0);
    else
        cc = f80_fxam(a);
    set_cc(f, FSW_CC, cc);
}

static bool fcmov_cond(CPUX86State *env, unsigned fop)
{
    uint32_t fl = x86_cc_eflags(env);
    bool c;
    switch (fop) {
    case F_CMOVB:
    case F_CMOVNB: c = fl & CF_MASK; break;
    case F_CMOVE:
    case F_CMOVNE: c = fl & ZF_MASK; break;
    case F_CMOVBE:
    case F_CMOVNBE: c = fl & (CF_MASK | ZF_MASK); break;
    default: c = fl & PF_MASK; break;
    }
    return fop >= F_CMOVNB ? !c : c;
}

static void op_fcmov(CPUX86State *env, const FpuInsn *in)
{
    X87State *f = &env->fpu;
    if (st_empty(f, 0) || st_empty(f, in->i)) {
        if (stack_fault(f, false)) st_set(f, 0, F80_INDEFINITE);
        return;
    }
    if (fcmov_cond(env, in->fop)) st_set(f, 0, st_get(f, in->i));
}

/* ---- environment and state images (vol. 1, figures 8-9 to 8-12) ---- */

static unsigned env_size(bool op32)
{
    return op32 ? 28 : 14;
}

/* Protected-mode layouts hold selector:offset pointers; the real-mode (and virtual-8086)
 * layouts hold 20-bit linear addresses split around the opcode. The 32-bit layouts' reserved
 * upper halves read as ones, as on hardware. */
static bool env_protected(const CPUX86State *env)
{
    return (env->hflags & (HF_PE | HF_VM)) == HF_PE;
}

static void env_store(const CPUX86State *env, uint8_t *p, bool op32)
{
    const X87State *f = &env->fpu;
    uint16_t cw = f->fcw, sw = x86_fpu_status_word(f), tw = x86_fpu_tag_word(f);
    uint16_t fop = f->fop & 0x7ff;
    if (env_protected(env)) {
        if (op32) {
            put32(p + 0, 0xffff0000u | cw);
            put32(p + 4, 0xffff0000u | sw);
            put32(p + 8, 0xffff0000u | tw);
            put32(p + 12, f->fip);
            put32(p + 16, f->fcs | (uint32_t)fop << 16);
            put32(p + 20, f->fdp);
            put32(p + 24, 0xffff0000u | f->fds);
        } else {
            put16(p + 0, cw);
            put16(p + 2, sw);
            put16(p + 4, tw);
            put16(p + 6, f->fip);
            put16(p + 8, f->fcs);
            put16(p + 10, f->fdp);
            put16(p + 12, f->fds);
        }
        return;
    }
    uint32_t ip = ((uint32_t)f->fcs << 4) + f->fip, dp = ((uint32_t)f->fds << 4) + f->fdp;
    if (op32) {
        put32(p + 0, 0xffff0000u | cw);
        put32(p + 4, 0xffff0000u | sw);
        put32(p + 8, 0xffff0000u | tw);
        put32(p + 12, 0xffff0000u | (ip & 0xffff));
        put32(p + 16, (ip & 0xffff0000u) >> 4 | fop);
        put32(p + 20, 0xffff0000u | (dp & 0xffff));
        put32(p + 24, (dp & 0xffff0000u) >> 4);
    } else {
        put16(p + 0, cw);
        put16(p + 2, sw);
        put16(p + 4, tw);
        put16(p + 6, ip);
        put16(p + 8, (ip >> 4 & 0xf000) | fop);
        put16(p + 10, dp);
        put16(p + 12, dp >> 4 & 0xf000);
    }
}

/* FCW, FSW with TOP and the tag word of an image. Only the empty / non-empty distinction of the
 * tags is kept; the others follow from the register contents (vol. 1, 8.1.7). */
static void control_load(X87State *f, uint16_t cw, uint16_t sw, uint16_t tw)
{
    f->fcw = x86_fpu_fcw_stored(cw);
    f->fsw = sw & ~FSW_TOP;
    f->top = sw >> 11 & 7;
    uint8_t empty = 0;
    for (unsigned r = 0; r < 8; r++)
        if ((tw >> (2 * r) & 3) == 3) empty |= (uint8_t)(1u << r);
    f->tag_empty = empty;
}

/* ST(0)..ST(7) to and from the register area of an FNSAVE/FRSTOR image. */
static void regs_store(const X87State *f, uint8_t *p)
{
    for (unsigned i = 0; i < 8; i++)
        put80(p + 10 * i, st_get(f, i));
}
static void regs_load(X87State *f, const uint8_t *p)
{
    for (unsigned i = 0; i < 8; i++)
        f->st[st_phys(f, i)] = get80(p + 10 * i);
}

/* Loads an environment image. */
static void env_load(CPUX86State *env, const uint8_t *p, bool op32)
{
    X87State *f = &env->fpu;
    uint16_t cw, sw, tw;
    if (op32) {
        cw = get16(p), sw = get16(p + 4), tw = get16(p + 8);
    } else {
        cw = get16(p), sw = get16(p + 2), tw = get16(p + 4);
    }
    if (env_protected(env)) {
        if (op32) {
            f->fip = get32(p + 12);
            f->fcs = get16(p + 16);
            f->fop = get32(p + 16) >> 16 & 0x7ff;
            f->fdp = get32(p + 20);
            f->fds = get16(p + 24);
        } else {
            f->fip = get16(p + 6);
            f->fcs = get16(p + 8);
            f->fop = 0;
            f->fdp = get16(p + 10);
            f->fds = get16(p + 12);
        }
    } else {
        if (op32) {
            f->fip = get16(p + 12) | (get32(p + 16) & 0x0ffff000u) << 4;
            f->fop = get32(p + 16) & 0x7ff;
            f->fdp = get16(p + 20) | (get32(p + 24) & 0x0ffff000u) << 4;
        } else {
            f->fip = get16(p + 6) | (uint32_t)(get16(p + 8) & 0xf000) << 4;
            f->fop = get16(p + 8) & 0x7ff;
            f->fdp = get16(p + 10) | (uint32_t)(get16(p + 12) & 0xf000) << 4;
        }
        f->fcs = f->fds = 0;
    }
    control_load(f, cw, sw, tw);
    fpu_recompute_es(f);
}

static void op_fnstenv(CPUX86State *env, const FpuInsn *in)
{
    uint8_t buf[28];
    env_store(env, buf, in->op32);
    mem_write(env, in->lin, in->mmu, buf, env_size(in->op32));
    /* FNSTENV then masks all exceptions, which also clears ES and B. */
    env->fpu.fcw |= FSW_EXC;
    fpu_recompute_es(&env->fpu);
}

static void op_fldenv(CPUX86State *env, const FpuInsn *in)
{
    uint8_t buf[28];
    mem_read(env, in->lin, in->mmu, buf, env_size(in->op32));
    env_load(env, buf, in->op32);
}

static void op_fnsave(CPUX86State *env, const FpuInsn *in)
{
    X87State *f = &env->fpu;
    uint8_t buf[108];
    unsigned n = env_size(in->op32);
    env_store(env, buf, in->op32);
    regs_store(f, buf + n);
    mem_write(env, in->lin, in->mmu, buf, n + 80);
    fpu_init_state(f);
}

static void op_frstor(CPUX86State *env, const FpuInsn *in)
{
    X87State *f = &env->fpu;
    uint8_t buf[108];
    unsigned n = env_size(in->op32);
    mem_read(env, in->lin, in->mmu, buf, n + 80);
    env_load(env, buf, in->op32);
    regs_load(f, buf + n);
}

/* ---- the host FPU (see x86_fpu_acquire in fpu.h) ---- */

/* The host's FNSAVE/FRSTOR image: in 64-bit mode the 32-bit layout (FCW, FSW, FTW at 0, 4, 8,
 * the registers from byte 28). Its pointer fields do not matter: those stay in env->fpu. */
#define HOST_IMG 108

bool x86_fpu_acquire(CPUX86State *env)
{
#if defined(__x86_64__)
    X87State *f = &env->fpu;
    if (env->fpu_host) return true;
    if ((f->fcw & FSW_EXC) != FSW_EXC || (f->fsw & FSW_ES)) return false;
    uint8_t img[HOST_IMG];
    env_store(env, img, true);
    regs_store(f, img + env_size(true));
    __asm__ volatile("frstor %0" : : "m"(img));
    env->fpu_host = true;
    return true;
#else
    (void)env;
    return false;
#endif
}

void x86_fpu_release(CPUX86State *env)
{
#if defined(__x86_64__)
    if (!env->fpu_host) return;
    X87State *f = &env->fpu;
    uint8_t img[HOST_IMG];
    /* FNSAVE also reinitialises the host FPU: empty stack, default FCW, as C code expects. */
    __asm__ volatile("fnsave %0" : "=m"(img));
    env->fpu_host = false;
    control_load(f, get16(img), get16(img + 4), get16(img + 8));
    regs_load(f, img + env_size(true));
#else
    (void)env;
#endif
}

/* FCOMI and FUCOMI (and their popping forms) clear C1 per the SDM, as a P6 does; some hosts
 * (AMD) leave it unchanged. There FINCSTP; FDECSTP in front clear it, if the host's leave C0,
 * C2 and C3 alone (the SDM calls them undefined). Probed once, on the host's own FPU, with its
 * state saved around the probe. */
enum { HOST_FCOMI_NONE, HOST_FCOMI_OK, HOST_FCOMI_CLEAR_C1 };

#if defined(__x86_64__)
/* The status word after FCOMI ST(1) (or FINCSTP; FDECSTP) with ST0 = 0, ST1 = 1 and the
 * condition codes of cc (C0 C1 C2 C3 in bits 0-3) set before. */
static uint16_t host_sw_after(unsigned cc, bool fcomi)
{
    uint8_t saved[HOST_IMG], env[28];
    uint16_t sw;
    __asm__ volatile("fnsave %0" : "=m"(saved));
    __asm__ volatile("fld1\n\tfldz\n\tfnstenv %0" : "=m"(env));
    put16(env + 4, 6u << 11 | (cc & 7) << 8 | (cc >> 3 & 1) << 14);
    __asm__ volatile("fldenv %0" : : "m"(env));
    if (fcomi)
        __asm__ volatile("fcomi %%st(1), %%st" : : : "cc");
    else
        __asm__ volatile("fincstp\n\tfdecstp");
    __asm__ volatile("fnstsw %0" : "=m"(sw));
    __asm__ volatile("frstor %0" : : "m"(saved));
    return sw;
}
#endif

static int host_fcomi_mode(void)
{
    static int mode = -1;
    if (mode >= 0) return mode;
    int m = HOST_FCOMI_NONE;
#if defined(__x86_64__)
    bool fcomi_ok = true, clear_ok = true;
    for (unsigned cc = 0; cc < 16; cc++) {
        uint16_t want = (uint16_t)(6u << 11 | (cc & 5) << 8 | (cc >> 3 & 1) << 14); /* C1 = 0 */
        fcomi_ok &= host_sw_after(cc, true) == want;
        clear_ok &= host_sw_after(cc, false) == want;
    }
    m = fcomi_ok ? HOST_FCOMI_OK : clear_ok ? HOST_FCOMI_CLEAR_C1 : HOST_FCOMI_NONE;
#endif
    return mode = m;
}

static unsigned fmt_size(unsigned fmt)
{
    static const uint8_t size[8] = {
        [FMT_F32] = 4, [FMT_F64] = 8, [FMT_F80] = 10, [FMT_I16] = 2, [FMT_I32] = 4, [FMT_I64] = 8,
    };
    return size[fmt & 7];
}

/* The basic arithmetic, compares, loads, stores and register operations: IEEE-defined or
 * exact results, and masked responses (indefinite, stack faults) fixed by the architecture.
 * Not accepted: transcendental and reduction instructions (their precision is the model's),
 * BCD, FCMOVcc, and the environment and state ones. */
enum { NAT_NO, NAT_PLAIN, NAT_CONTROL, NAT_EFLAGS, NAT_STSW_AX };
static const uint8_t native_reg[F_OP_COUNT] = {
    [F_ADD] = NAT_PLAIN,     [F_MUL] = NAT_PLAIN,        [F_COM] = NAT_PLAIN,
    [F_COMP] = NAT_PLAIN,    [F_SUB] = NAT_PLAIN,        [F_SUBR] = NAT_PLAIN,
    [F_DIV] = NAT_PLAIN,     [F_DIVR] = NAT_PLAIN,       [F_ADDP] = NAT_PLAIN,
    [F_MULP] = NAT_PLAIN,    [F_SUBP] = NAT_PLAIN,       [F_SUBRP] = NAT_PLAIN,
    [F_DIVP] = NAT_PLAIN,    [F_DIVRP] = NAT_PLAIN,      [F_COMPP] = NAT_PLAIN,
    [F_UCOM] = NAT_PLAIN,    [F_UCOMP] = NAT_PLAIN,      [F_UCOMPP] = NAT_PLAIN,
    [F_LD] = NAT_PLAIN,      [F_ST] = NAT_PLAIN,         [F_STP] = NAT_PLAIN,
    [F_XCH] = NAT_PLAIN,     [F_CHS] = NAT_PLAIN,        [F_ABS] = NAT_PLAIN,
    [F_TST] = NAT_PLAIN,     [F_LD1] = NAT_PLAIN,        [F_LDZ] = NAT_PLAIN,
    [F_SQRT] = NAT_PLAIN,    [F_RNDINT] = NAT_PLAIN,     [F_NOP] = NAT_CONTROL,
    [F_FREE] = NAT_CONTROL,  [F_DECSTP] = NAT_CONTROL,   [F_INCSTP] = NAT_CONTROL,
    [F_COMI] = NAT_EFLAGS,   [F_COMIP] = NAT_EFLAGS,     [F_UCOMI] = NAT_EFLAGS,
    [F_UCOMIP] = NAT_EFLAGS, [F_NSTSW_AX] = NAT_STSW_AX, [F_XAM] = NAT_PLAIN,
    [F_LDPI] = NAT_PLAIN,    [F_LDL2T] = NAT_PLAIN,      [F_LDL2E] = NAT_PLAIN,
    [F_LDLG2] = NAT_PLAIN,   [F_LDLN2] = NAT_PLAIN,
};

/* Memory forms: the formats accepted, bit FMT_*. */
#define FMTS(a, b, c, d) (1u << (a) | 1u << (b) | 1u << (c) | 1u << (d))
#define ARITH_FMTS       FMTS(FMT_F32, FMT_F64, FMT_I16, FMT_I32)
static const uint8_t native_mem[F_OP_COUNT] = {
    [F_ADD] = ARITH_FMTS,
    [F_MUL] = ARITH_FMTS,
    [F_COM] = ARITH_FMTS,
    [F_COMP] = ARITH_FMTS,
    [F_SUB] = ARITH_FMTS,
    [F_SUBR] = ARITH_FMTS,
    [F_DIV] = ARITH_FMTS,
    [F_DIVR] = ARITH_FMTS,
    [F_LD] = FMTS(FMT_F32, FMT_F64, FMT_F80, FMT_F80),
    [F_ILD] = FMTS(FMT_I16, FMT_I32, FMT_I64, FMT_I64),
    [F_ST] = FMTS(FMT_F32, FMT_F64, FMT_F64, FMT_F64),
    [F_STP] = FMTS(FMT_F32, FMT_F64, FMT_F80, FMT_F80),
    [F_IST] = FMTS(FMT_I16, FMT_I32, FMT_I32, FMT_I32),
    [F_ISTP] = FMTS(FMT_I16, FMT_I32, FMT_I64, FMT_I64),
};

bool x86_fpu_native(uint32_t desc, X86FpuNative *n)
{
    unsigned fop = desc & 0x7f, fmt = desc >> 7 & 7;
    *n = (X86FpuNative){.pointers = true, .kind = FPU_NAT_PLAIN};
    if (fop >= F_OP_COUNT) return false;
    if (!(desc & FPU_DESC_MEM)) {
        switch (native_reg[fop]) {
        case NAT_PLAIN: return true;
        case NAT_CONTROL: n->pointers = false; return true;
        case NAT_EFLAGS:
            n->kind = FPU_NAT_EFLAGS;
            n->clear_c1 = host_fcomi_mode() == HOST_FCOMI_CLEAR_C1;
            return host_fcomi_mode() != HOST_FCOMI_NONE;
        case NAT_STSW_AX: n->pointers = false, n->kind = FPU_NAT_STSW_AX; return true;
        default: return false;
        }
    }
    n->write = fop == F_ST || fop == F_STP || fop == F_IST || fop == F_ISTP;
    switch (fop) {
    case F_LDCW: n->size = 2, n->pointers = false, n->kind = FPU_NAT_LDCW; return true;
    case F_NSTCW:
    case F_NSTSW: n->size = 2, n->pointers = false, n->write = true; return true;
    default: n->size = (uint8_t)fmt_size(fmt); return native_mem[fop] >> fmt & 1;
    }
}

/* ---- dispatch ---- */

/* Instructions that do not check for pending exceptions (vol. 1, 8.3.12). */
static bool fop_nowait(unsigned fop)
{
    switch (fop) {
    case F_NINIT:
    case F_NCLEX:
    case F_NSTSW:
    case F_NSTSW_AX:
    case F_NSTCW:
    case F_NSTENV:
    case F_NSAVE:
    case F_NENI:
    case F_NDISI:
    case F_SETPM: return true;
    default: return false;
    }
}

/* Control instructions leave FIP, FCS, FOP, FDP and FDS alone (vol. 1, 8.1.8 and 8.3.11). */
static bool fop_control(unsigned fop)
{
    switch (fop) {
    case F_LDCW:
    case F_LDENV:
    case F_RSTOR:
    case F_INCSTP:
    case F_DECSTP:
    case F_FREE:
    case F_FREEP:
    case F_NOP: return true;
    default: return fop_nowait(fop);
    }
}

static void fpu_exec(CPUX86State *env, const FpuInsn *in)
{
    X87State *f = &env->fpu;
    switch (in->fop) {
    case F_ADD: op_arith(env, in, AR_ADD, false); break;
    case F_MUL: op_arith(env, in, AR_MUL, false); break;
    case F_SUB: op_arith(env, in, AR_SUB, false); break;
    case F_SUBR: op_arith(env, in, AR_SUBR, false); break;
    case F_DIV: op_arith(env, in, AR_DIV, false); break;
    case F_DIVR: op_arith(env, in, AR_DIVR, false); break;
    case F_ADDP: op_arith(env, in, AR_ADD, true); break;
    case F_MULP: op_arith(env, in, AR_MUL, true); break;
    case F_SUBP: op_arith(env, in, AR_SUB, true); break;
    case F_SUBRP: op_arith(env, in, AR_SUBR, true); break;
    case F_DIVP: op_arith(env, in, AR_DIV, true); break;
    case F_DIVRP: op_arith(env, in, AR_DIVR, true); break;

    case F_COM: op_compare(env, in, in->i, 0, false, false, false); break;
    case F_COMP: op_compare(env, in, in->i, 1, false, false, false); break;
    case F_COMPP: op_compare(env, in, 1, 2, false, false, false); break;
    case F_UCOM: op_compare(env, in, in->i, 0, true, false, false); break;
    case F_UCOMP: op_compare(env, in, in->i, 1, true, false, false); break;
    case F_UCOMPP: op_compare(env, in, 1, 2, true, false, false); break;
    case F_COMI: op_compare(env, in, in->i, 0, false, true, false); break;
    case F_COMIP: op_compare(env, in, in->i, 1, false, true, false); break;
    case F_UCOMI: op_compare(env, in, in->i, 0, true, true, false); break;
    case F_UCOMIP: op_compare(env, in, in->i, 1, true, true, false); break;
    case F_TST: op_compare(env, in, 0, 0, false, false, true); break;
    case F_XAM: op_fxam(f); break;

    case F_LD: op_load(env, in); break;
    case F_ILD: op_iload(env, in); break;
    case F_BLD: op_bload(env, in); break;
    case F_LD1: op_const(env, F80_CONST_ONE); break;
    case F_LDL2T: op_const(env, F80_CONST_L2T); break;
    case F_LDL2E: op_const(env, F80_CONST_L2E); break;
    case F_LDPI: op_const(env, F80_CONST_PI); break;
    case F_LDLG2: op_const(env, F80_CONST_LG2); break;
    case F_LDLN2: op_const(env, F80_CONST_LN2); break;
    case F_LDZ: op_const(env, F80_CONST_ZERO); break;

    case F_ST:
    case F_STP:
        if (in->mem)
            op_store_mem(env, in, in->fop == F_STP);
        else
            op_store_reg(f, in->i, in->fop == F_STP);
        break;
    case F_IST: op_store_mem(env, in, false); break;
    case F_ISTP:
    case F_ISTTP:
    case F_BSTP: op_store_mem(env, in, true); break;

    case F_XCH: op_fxch(f, in->i); break;
    case F_CHS: op_sign(f, false); break;
    case F_ABS: op_sign(f, true); break;
    case F_SQRT: op_unary(f, f80_sqrt); break;
    case F_RNDINT: op_unary(f, f80_rndint); break;
    case F_2XM1: op_unary(f, f80_2xm1); break;
    case F_SCALE: op_fscale(f); break;
    case F_XTRACT: op_fxtract(f); break;
    case F_PREM: op_fprem(f, false); break;
    case F_PREM1: op_fprem(f, true); break;
    case F_SIN:
    case F_COS:
    case F_PTAN:
    case F_SINCOS: op_trig(f, in->fop); break;
    case F_PATAN: op_st1_pop(f, f80_patan); break;
    case F_YL2X: op_st1_pop(f, f80_yl2x); break;
    case F_YL2XP1: op_st1_pop(f, f80_yl2xp1); break;

    case F_CMOVB:
    case F_CMOVE:
    case F_CMOVBE:
    case F_CMOVU:
    case F_CMOVNB:
    case F_CMOVNE:
    case F_CMOVNBE:
    case F_CMOVNU: op_fcmov(env, in); break;

    case F_FREE:
        /* C1 is undefined; hardware clears it. */
        f->tag_empty |= (uint8_t)(1u << st_phys(f, in->i));
        set_c1(f, false);
        break;
    case F_FREEP:
        f->tag_empty |= (uint8_t)(1u << st_phys(f, in->i));
        set_c1(f, false);
        st_pop(f);
        break;
    case F_INCSTP:
        f->top = (f->top + 1) & 7;
        set_c1(f, false);
        break;
    case F_DECSTP:
        f->top = (f->top - 1) & 7;
        set_c1(f, false);
        break;

    case F_LDCW:
        f->fcw = x86_fpu_fcw_stored(x86_lduw(env, in->lin, in->mmu));
        fpu_recompute_es(f);
        break;
    case F_NSTCW: x86_stw(env, in->lin, f->fcw, in->mmu); break;
    case F_NSTSW: x86_stw(env, in->lin, x86_fpu_status_word(f), in->mmu); break;
    case F_NSTSW_AX:
        env->regs[R_EAX] = (env->regs[R_EAX] & 0xffff0000u) | x86_fpu_status_word(f);
        break;
    case F_NCLEX: f->fsw &= ~(FSW_EXC | FSW_SF | FSW_ES | FSW_B); break;
    case F_NINIT: fpu_init_state(f); break;
    case F_LDENV: op_fldenv(env, in); break;
    case F_NSTENV: op_fnstenv(env, in); break;
    case F_RSTOR: op_frstor(env, in); break;
    case F_NSAVE: op_fnsave(env, in); break;

    default: /* FNOP; FENI, FDISI and FSETPM do nothing on a 387 and later (vol. 1, 8.3.13) */
        break;
    }
}

/* ---- fast path ---- */

/* The common instructions when nothing unusual happens: no exception pending, the registers
 * involved valid (or empty where pushed), and no unmasked exception raised. Each class has its
 * own small function that hlp_fpu_fn tail-calls; a function that finds something unusual
 * tail-calls the general path, having changed nothing (that path repeats any memory read). */

static uint32_t __attribute__((noinline))
fpu_general(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip);

/* FIP, FCS, FOP and for memory forms FDP, FDS: every fast-path instruction is a non-control
 * one. Returns the helper's result. */
static inline uint32_t fast_done(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip)
{
    X87State *f = &env->fpu;
    f->fip = eip;
    f->fcs = env->segs[R_CS].sel;
    f->fop = desc >> 21;
    if (desc & FPU_DESC_MEM) {
        unsigned seg = desc >> 17 & 7;
        f->fdp = lin - env->segs[seg].base;
        f->fds = env->segs[seg].sel;
    }
    return 0;
}

/* A float operand in memory (single or double) for arithmetic and compares. */
static inline bool fast_mem_src(CPUX86State *env, uint32_t lin, uint32_t desc, Float80 *y,
                                uint8_t *load_exc)
{
    unsigned fmt = desc >> 7 & 7;
    if (fmt != FMT_F32 && fmt != FMT_F64) return false;
    FpuInsn in = {.lin = lin, .fmt = fmt, .mmu = desc >> 15 & 3};
    *y = read_src(env, &in, load_exc);
    return true;
}

/* ST0 op= src, ST(i) op= ST0 (and pop); kind_pop = arithmetic kind | pop << 3. */
static uint32_t __attribute__((noinline))
fast_arith(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip, unsigned kind_pop)
{
    X87State *f = &env->fpu;
    unsigned i = desc >> 10 & 7;
    bool dest_sti = desc & FPU_DESC_DEST_STI, mem = desc & FPU_DESC_MEM;
    unsigned d = dest_sti ? i : 0, s = dest_sti ? 0 : i;
    if (st_empty(f, d) || (!mem && st_empty(f, s))) return fpu_general(env, lin, desc, eip);
    uint8_t load_exc = 0;
    Float80 y;
    if (!mem)
        y = st_get(f, s);
    else if (!fast_mem_src(env, lin, desc, &y, &load_exc))
        return fpu_general(env, lin, desc, eip);
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 x = st_get(f, d), r;
    unsigned kind = kind_pop & 7;
    bool quick = (kind == AR_MUL && f80f_mul(&c, x, y, &r)) ||
                 (kind == AR_ADD && f80f_addsub(&c, x, y, false, &r)) ||
                 (kind == AR_SUB && f80f_addsub(&c, x, y, true, &r)) ||
                 (kind == AR_SUBR && f80f_addsub(&c, y, x, true, &r));
    if (!quick) r = arith(&c, kind, x, y);
    if (load_exc) merge_load_exc(&c, load_exc, x);
    if (unmasked(f, c.exc)) return fpu_general(env, lin, desc, eip);
    set_c1(f, c.c1);
    f->fsw |= c.exc;
    st_set(f, d, r);
    if (kind_pop >> 3) st_pop(f);
    return fast_done(env, lin, desc, eip);
}

/* FCOM/FUCOM (C3 C2 C0) and FCOMI/FUCOMI (EFLAGS) of ST0 with ST(i) or a float in memory;
 * mode = pops | quiet << 2 | eflags << 3. */
static uint32_t __attribute__((noinline))
fast_compare(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip, unsigned mode)
{
    X87State *f = &env->fpu;
    unsigned i = desc >> 10 & 7;
    bool mem = desc & FPU_DESC_MEM;
    if (st_empty(f, 0) || (!mem && st_empty(f, i))) return fpu_general(env, lin, desc, eip);
    uint8_t load_exc = 0;
    Float80 y;
    if (!mem)
        y = st_get(f, i);
    else if (!fast_mem_src(env, lin, desc, &y, &load_exc))
        return fpu_general(env, lin, desc, eip);
    F80Ctx c = f80_ctx_from_fcw(f->fcw);
    Float80 x = st_get(f, 0);
    F80Rel rel = f80_compare(&c, x, y, mode >> 2 & 1);
    if (load_exc) merge_load_exc(&c, load_exc, x);
    if (unmasked(f, c.exc)) return fpu_general(env, lin, desc, eip);
    set_c1(f, false);
    f->fsw |= c.exc;
    if (mode >> 3 & 1)
        set_cmp_eflags(env, rel);
    else
        set_cc(f, FSW_C0 | FSW_C2 | FSW_C3, f80_rel_cc(rel));
    for (unsigned n = mode & 3; n > 0; n--)
        st_pop(f);
    return fast_done(env, lin, desc, eip);
}

/* Pushes v (the caller checked that the register below TOP is empty). */
static inline void fast_push(X87State *f, unsigned dst, Float80 v)
{
    set_c1(f, false);
    st_put(f, dst, v);
    f->top = dst;
    f->tag_empty = (uint8_t)(f->tag_empty & ~(1u << dst));
}

/* FLD (ST(i), m32, m64), FILD (m16, m32), FLDZ, FLD1. */
static uint32_t __attribute__((noinline))
fast_load(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip)
{
    X87State *f = &env->fpu;
    unsigned fop = desc & 0x7f, top = f->top, dst = (top - 1) & 7;
    unsigned fmt = desc >> 7 & 7, mmu = desc >> 15 & 3;
    if (!(f->tag_empty >> dst & 1)) return fpu_general(env, lin, desc, eip);
    Float80 v;
    if (fop == F_LDZ || fop == F_LD1) {
        v = fop == F_LD1 ? f80_one : (Float80){0, 0};
    } else if (fop == F_ILD) {
        if (fmt == FMT_I16)
            v = f80_from_i64((int16_t)x86_lduw(env, lin, mmu)); /* exact */
        else if (fmt == FMT_I32)
            v = f80_from_i64((int32_t)x86_ldl(env, lin, mmu));
        else
            return fpu_general(env, lin, desc, eip);
    } else if (!(desc & FPU_DESC_MEM)) {
        unsigned src = (top + (desc >> 10 & 7)) & 7;
        if (f->tag_empty >> src & 1) return fpu_general(env, lin, desc, eip);
        v = st_reg(f, src);
    } else {
        F80Ctx c = f80_ctx_from_fcw(f->fcw);
        if (fmt == FMT_F32) {
            v = f80_from_f32(&c, x86_ldl(env, lin, mmu));
        } else if (fmt == FMT_F64) {
            uint32_t lo = x86_ldl(env, lin, mmu);
            v = f80_from_f64(&c, lo | (uint64_t)x86_ldl(env, lin + 4, mmu) << 32);
        } else {
            return fpu_general(env, lin, desc, eip);
        }
        if (unmasked(f, c.exc)) return fpu_general(env, lin, desc, eip);
        f->fsw |= c.exc;
    }
    fast_push(f, dst, v);
    return fast_done(env, lin, desc, eip);
}

/* FST/FSTP to ST(i), m32, m64. */
static uint32_t __attribute__((noinline))
fast_store(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip)
{
    X87State *f = &env->fpu;
    unsigned fop = desc & 0x7f;
    if (st_empty(f, 0)) return fpu_general(env, lin, desc, eip);
    if (desc & FPU_DESC_MEM) {
        unsigned fmt = desc >> 7 & 7;
        if (fmt != FMT_F32 && fmt != FMT_F64) return fpu_general(env, lin, desc, eip);
        F80Ctx c = f80_ctx_from_fcw(f->fcw);
        uint8_t buf[8];
        unsigned n = 4;
        if (fmt == FMT_F32) {
            put32(buf, f80_to_f32(&c, st_get(f, 0)));
        } else {
            uint64_t v = f80_to_f64(&c, st_get(f, 0));
            put32(buf, (uint32_t)v), put32(buf + 4, (uint32_t)(v >> 32)), n = 8;
        }
        if (unmasked(f, c.exc)) return fpu_general(env, lin, desc, eip);
        mem_write(env, lin, desc >> 15 & 3, buf, n); /* may fault: nothing changed yet */
        set_c1(f, c.c1);
        f->fsw |= c.exc;
    } else {
        set_c1(f, false);
        st_set(f, desc >> 10 & 7, st_get(f, 0));
    }
    if (fop == F_STP) st_pop(f);
    return fast_done(env, lin, desc, eip);
}

/* FXCH, FCHS, FABS. */
static uint32_t __attribute__((noinline))
fast_reg(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip)
{
    X87State *f = &env->fpu;
    unsigned fop = desc & 0x7f, a = f->top, empty = f->tag_empty;
    if (fop == F_XCH) {
        unsigned b = (a + (desc >> 10 & 7)) & 7;
        if ((empty >> a | empty >> b) & 1) return fpu_general(env, lin, desc, eip);
        Float80 t = st_reg(f, a);
        st_put(f, a, st_reg(f, b));
        st_put(f, b, t);
    } else {
        if (empty >> a & 1) return fpu_general(env, lin, desc, eip);
        st_put(f, a, fop == F_ABS ? f80_abs(st_reg(f, a)) : f80_chs(st_reg(f, a)));
    }
    set_c1(f, false);
    return fast_done(env, lin, desc, eip);
}

static uint32_t hlp_fpu_fn(void *opaque, uint32_t lin, uint32_t desc, uint32_t eip)
{
    CPUX86State *env = opaque;
    env->nfpu_c++;
    x86_fpu_release(env);
    if (env->fpu.fsw & FSW_ES) return fpu_general(env, lin, desc, eip);
    switch (desc & 0x7f) {
    case F_ADD: return fast_arith(env, lin, desc, eip, AR_ADD);
    case F_MUL: return fast_arith(env, lin, desc, eip, AR_MUL);
    case F_SUB: return fast_arith(env, lin, desc, eip, AR_SUB);
    case F_SUBR: return fast_arith(env, lin, desc, eip, AR_SUBR);
    case F_DIV: return fast_arith(env, lin, desc, eip, AR_DIV);
    case F_DIVR: return fast_arith(env, lin, desc, eip, AR_DIVR);
    case F_ADDP: return fast_arith(env, lin, desc, eip, AR_ADD | 8);
    case F_MULP: return fast_arith(env, lin, desc, eip, AR_MUL | 8);
    case F_SUBP: return fast_arith(env, lin, desc, eip, AR_SUB | 8);
    case F_SUBRP: return fast_arith(env, lin, desc, eip, AR_SUBR | 8);
    case F_DIVP: return fast_arith(env, lin, desc, eip, AR_DIV | 8);
    case F_DIVRP: return fast_arith(env, lin, desc, eip, AR_DIVR | 8);
    case F_COM: return fast_compare(env, lin, desc, eip, 0);
    case F_COMP: return fast_compare(env, lin, desc, eip, 1);
    case F_UCOM: return fast_compare(env, lin, desc, eip, 4);
    case F_UCOMP: return fast_compare(env, lin, desc, eip, 4 | 1);
    case F_COMI: return fast_compare(env, lin, desc, eip, 8);
    case F_COMIP: return fast_compare(env, lin, desc, eip, 8 | 1);
    case F_UCOMI: return fast_compare(env, lin, desc, eip, 8 | 4);
    case F_UCOMIP: return fast_compare(env, lin, desc, eip, 8 | 4 | 1);
    case F_LD:
    case F_ILD:
    case F_LDZ:
    case F_LD1: return fast_load(env, lin, desc, eip);
    case F_ST:
    case F_STP: return fast_store(env, lin, desc, eip);
    case F_XCH:
    case F_CHS:
    case F_ABS: return fast_reg(env, lin, desc, eip);
    default: return fpu_general(env, lin, desc, eip);
    }
}

static uint32_t fpu_general(CPUX86State *env, uint32_t lin, uint32_t desc, uint32_t eip)
{
    X87State *f = &env->fpu;
    FpuInsn in = {
        .lin = lin,
        .fop = desc & 0x7f,
        .fmt = desc >> 7 & 7,
        .i = desc >> 10 & 7,
        .dest_sti = desc & FPU_DESC_DEST_STI,
        .mem = desc & FPU_DESC_MEM,
        .mmu = desc >> 15 & 3,
        .seg = desc >> 17 & 7,
        .op32 = desc & FPU_DESC_OP32,
    };
    if (!fop_nowait(in.fop)) fpu_check_pending(env);
    uint16_t es = f->fsw & FSW_ES;
    fpu_exec(env, &in);
    if (!fop_control(in.fop)) {
        f->fip = eip;
        f->fcs = env->segs[R_CS].sel;
        f->fop = desc >> 21;
        if (in.mem) {
            f->fdp = lin - env->segs[in.seg].base;
            f->fds = env->segs[in.seg].sel;
        }
    }
    if ((f->fsw & FSW_ES) != es) fpu_update_ferr(env);
    return 0;
}

static uint32_t hlp_fwait_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    /* A state the host holds has nothing pending (x86_fpu_acquire). */
    if (((CPUX86State *)opaque)->fpu_host) return 0;
    fpu_check_pending(opaque);
    return 0;
}

/* ---- FXSAVE / FXRSTOR (vol. 2 FXSAVE, table 3-53: the 32-bit layout) ---- */

#define FXSAVE_USED 288 /* bytes 288-511 are reserved or available to software */

static uint32_t hlp_fxsave_fn(void *opaque, uint32_t lin, uint32_t mmu, uint32_t c)
{
    CPUX86State *env = opaque;
    x86_fpu_release(env);
    const X87State *f = &env->fpu;
    if (lin & 15) x86_raise_exception_err(env, EXCP_GP, 0);
    uint8_t img[FXSAVE_USED];
    memset(img, 0, sizeof img);
    put16(img + 0, f->fcw);
    put16(img + 2, x86_fpu_status_word(f));
    img[4] = x86_fpu_abridged_tags(f);
    put16(img + 6, f->fop & 0x7ff);
    put32(img + 8, f->fip);
    put16(img + 12, f->fcs);
    put32(img + 16, f->fdp);
    put16(img + 20, f->fds);
    put32(img + 24, env->mxcsr);
    put32(img + 28, MXCSR_MASK);
    for (unsigned i = 0; i < 8; i++)
        put80(img + 32 + 16 * i, st_get(f, i));
    for (unsigned i = 0; i < 8; i++)
        for (unsigned k = 0; k < 4; k++)
            put32(img + 160 + 16 * i + 4 * k, env->xmm[i].d[k]);
    /* The whole operand is checked, as the segment limit check was. */
    softmmu_probe(env, lin, 512, ACC_WRITE, mmu);
    mem_write(env, lin, mmu, img, sizeof img);
    return 0;
}

static uint32_t hlp_fxrstor_fn(void *opaque, uint32_t lin, uint32_t mmu, uint32_t c)
{
    CPUX86State *env = opaque;
    x86_fpu_release(env);
    X87State *f = &env->fpu;
    if (lin & 15) x86_raise_exception_err(env, EXCP_GP, 0);
    uint8_t img[FXSAVE_USED];
    mem_read(env, lin, mmu, img, sizeof img);
    uint32_t mxcsr = get32(img + 24);
    if (mxcsr & ~MXCSR_MASK) x86_raise_exception_err(env, EXCP_GP, 0);
    uint16_t es = f->fsw & FSW_ES;
    uint16_t sw = get16(img + 2);
    f->fcw = x86_fpu_fcw_stored(get16(img));
    f->fsw = sw & ~FSW_TOP;
    f->top = sw >> 11 & 7;
    f->tag_empty = (uint8_t)~img[4];
    f->fop = get16(img + 6) & 0x7ff;
    f->fip = get32(img + 8);
    f->fcs = get16(img + 12);
    f->fdp = get32(img + 16);
    f->fds = get16(img + 20);
    for (unsigned i = 0; i < 8; i++)
        f->st[st_phys(f, i)] = get80(img + 32 + 16 * i);
    for (unsigned i = 0; i < 8; i++)
        for (unsigned k = 0; k < 4; k++)
            env->xmm[i].d[k] = get32(img + 160 + 16 * i + 4 * k);
    env->mxcsr = mxcsr;
    fpu_recompute_es(f);
    if ((f->fsw & FSW_ES) != es) fpu_update_ferr(env);
    return 0;
}

const IrHelper hlp_fpu = {hlp_fpu_fn, "fpu", 0};
/* The same for instructions that neither read nor write general registers or EFLAGS. */
const IrHelper hlp_fpu_local = {hlp_fpu_fn, "fpu_local", IRH_NO_READ_G | IRH_NO_WRITE_G};
const IrHelper hlp_fwait = {hlp_fwait_fn, "fwait", 0};
const IrHelper hlp_fxsave = {hlp_fxsave_fn, "fxsave", 0};
const IrHelper hlp_fxrstor = {hlp_fxrstor_fn, "fxrstor", 0};
