/* Translation of integer arithmetic, logic, shifts, bit operations, multiply/divide, decimal
 * adjust and data movement. Flags the SDM leaves undefined follow the rules measured on the
 * reference host (tests/diff/UNDEFINED-FLAGS.md). */
#include "cpu/x86/translate.h"

static uint32_t size_mask(int size) { return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu; }
static int cc_idx(int size) { return cc_op_size_index(size); }

/* A stable copy of v: globals may be overwritten by the instruction's own result. */
static IrVar snap(DisasContext *dc, IrVar v)
{
    if (!ir_is_global(dc->b, v)) return v;
    IrVar t = tcg_temp(dc);
    ir_mov(dc->b, t, v);
    return t;
}

/* Eagerly computed flags: keep the bits in `keep` of the current flags, OR in `set`. */
static void gen_flags_keep(DisasContext *dc, uint32_t keep, IrVar set)
{
    IrBlock *b = dc->b;
    IrVar f = gen_compute_eflags(dc);
    IrVar t = tcg_temp(dc);
    ir_andi(b, t, f, keep);
    if (set) ir_or(b, t, t, set);
    gen_set_cc(dc, CC_OP_EFLAGS, 0, t, 0);
}

static void gen_binary_alu(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->datasize;
    int m = insn->mnem;
    bool writes = m != X86_CMP && m != X86_TEST;
    Loc ld = gen_loc(dc, &insn->op[0], writes);
    IrVar a = snap(dc, gen_read(dc, &ld));
    IrVar s = snap(dc, gen_operand(dc, &insn->op[1]));
    IrVar r = tcg_temp(dc);
    IrVar cf = 0;
    switch (m) {
    case X86_ADD: ir_add(b, r, a, s); break;
    case X86_ADC:
        cf = gen_compute_cf(dc);
        ir_add(b, r, a, s);
        ir_add(b, r, r, cf);
        break;
    case X86_SUB:
    case X86_CMP: ir_sub(b, r, a, s); break;
    case X86_SBB:
        cf = gen_compute_cf(dc);
        ir_sub(b, r, a, s);
        ir_sub(b, r, r, cf);
        break;
    case X86_AND:
    case X86_TEST: ir_and(b, r, a, s); break;
    case X86_OR: ir_or(b, r, a, s); break;
    case X86_XOR: ir_xor(b, r, a, s); break;
    }
    if (writes) gen_write(dc, &ld, r);
    int ci = cc_idx(size);
    switch (m) {
    case X86_ADD: gen_set_cc(dc, CC_OP_ADDB + ci, r, s, 0); break;
    case X86_ADC: gen_set_cc(dc, CC_OP_ADCB + ci, r, s, cf); break;
    case X86_SUB:
    case X86_CMP:
        gen_set_cc(dc, CC_OP_SUBB + ci, r, s, 0);
        dc->cc_srcT = a;
        break;
    case X86_SBB: gen_set_cc(dc, CC_OP_SBBB + ci, r, s, cf); break;
    default: gen_set_cc(dc, CC_OP_LOGICB + ci, r, 0, 0); break;
    }
}

static void gen_incdec(DisasContext *dc, bool inc)
{
    IrBlock *b = dc->b;
    int size = dc->insn.datasize;
    Loc l = gen_loc(dc, &dc->insn.op[0], true);
    IrVar cf = gen_compute_cf(dc);
    IrVar a = gen_read(dc, &l);
    IrVar r = tcg_temp(dc);
    ir_addi(b, r, a, inc ? 1 : (uint32_t)-1);
    gen_write(dc, &l, r);
    gen_set_cc(dc, (inc ? CC_OP_INCB : CC_OP_DECB) + cc_idx(size), r, cf, 0);
}

static void gen_neg_not(DisasContext *dc, bool neg)
{
    IrBlock *b = dc->b;
    int size = dc->insn.datasize;
    Loc l = gen_loc(dc, &dc->insn.op[0], true);
    IrVar a = snap(dc, gen_read(dc, &l));
    IrVar r = tcg_temp(dc);
    ir_unop(b, neg ? IR_NEG : IR_NOT, r, a);
    gen_write(dc, &l, r);
    if (neg) {
        gen_set_cc(dc, CC_OP_SUBB + cc_idx(size), r, a, 0);
        dc->cc_srcT = tcg_const(dc, 0);
    }
}

/* MUL/IMUL flags: CF = OF = ov (0/1); SF ZF AF PF keep their values. */
static void gen_mul_flags(DisasContext *dc, IrVar ov)
{
    IrVar t = tcg_temp(dc);
    ir_binopi(dc->b, IR_MUL, t, ov, CF_MASK | OF_MASK);
    gen_flags_keep(dc, SF_MASK | ZF_MASK | AF_MASK | PF_MASK, t);
}

static void gen_mul1(DisasContext *dc, bool is_signed)
{
    IrBlock *b = dc->b;
    int size = dc->insn.datasize;
    IrVar src = gen_operand(dc, &dc->insn.op[0]);
    IrVar ov = tcg_temp(dc);
    if (size == 4) {
        IrVar a = snap(dc, dc->R[R_EAX]);
        IrVar lo = tcg_temp(dc), hi = tcg_temp(dc);
        ir_binop(b, IR_MUL, lo, a, src);
        ir_binop(b, is_signed ? IR_MULHS : IR_MULHU, hi, a, src);
        if (is_signed) {
            IrVar sx = tcg_temp(dc);
            ir_sari(b, sx, lo, 31);
            ir_setcond(b, IRC_NE, ov, hi, sx);
        } else {
            ir_setcond(b, IRC_NE, ov, hi, tcg_const(dc, 0));
        }
        ir_mov(b, dc->R[R_EAX], lo);
        ir_mov(b, dc->R[R_EDX], hi);
    } else {
        IrVar a = gen_get_reg(dc, R_EAX, size);
        if (is_signed) {
            a = gen_ext(dc, a, size, true);
            src = gen_ext(dc, src, size, true);
        }
        IrVar p = tcg_temp(dc);
        ir_binop(b, IR_MUL, p, a, src);
        if (is_signed) {
            IrVar sx = gen_ext(dc, p, size, true);
            ir_setcond(b, IRC_NE, ov, p, sx);
        } else {
            ir_setcond(b, IRC_GTU, ov, p, tcg_const(dc, size_mask(size)));
        }
        if (size == 1) {
            gen_set_reg(dc, R_EAX, 2, p);
        } else {
            IrVar hi = tcg_temp(dc);
            ir_shri(b, hi, p, 16);
            gen_set_reg(dc, R_EAX, 2, p);
            gen_set_reg(dc, R_EDX, 2, hi);
        }
    }
    gen_mul_flags(dc, ov);
}

/* IMUL r, r/m[, imm]: truncated product; CF = OF = it does not fit. */
static void gen_imul_n(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    IrVar x, y;
    if (insn->nops == 3) {
        x = gen_operand(dc, &insn->op[1]);
        y = tcg_const(dc, insn->op[2].imm);
    } else {
        x = gen_operand(dc, &insn->op[1]);
        y = gen_get_reg(dc, insn->op[0].reg, size);
    }
    IrVar lo = tcg_temp(dc), ov = tcg_temp(dc);
    if (size == 4) {
        ir_binop(b, IR_MUL, lo, x, y);
        ir_binop(b, IR_MULSO, ov, x, y);
    } else {
        IrVar xs = gen_ext(dc, x, 2, true);
        IrVar ys = tcg_temp(dc);
        if (insn->nops == 3)
            ir_movi(b, ys, (uint32_t)(int32_t)(int16_t)insn->op[2].imm);
        else
            ys = gen_ext(dc, y, 2, true);
        ir_binop(b, IR_MUL, lo, xs, ys);
        IrVar sx = gen_ext(dc, lo, 2, true);
        ir_setcond(b, IRC_NE, ov, lo, sx);
    }
    gen_set_reg(dc, insn->op[0].reg, size, lo);
    gen_mul_flags(dc, ov);
}

static void gen_div(DisasContext *dc, bool is_signed)
{
    IrBlock *b = dc->b;
    IrVar src = snap(dc, gen_operand(dc, &dc->insn.op[0]));
    int size = dc->insn.datasize;
    gen_sync_cc_op(dc);
    if (size != 4) {
        gen_helper(dc, &hlp_div, 0, src, tcg_const(dc, size), tcg_const(dc, is_signed));
        dc->cc_op = CC_OP_EFLAGS;
        return;
    }
    /* 32-bit: a pure division when no #DE can arise (unsigned: divisor above EDX; signed: EDX
     * is EAX's sign extension, divisor nonzero, not INT_MIN / -1); the full helper otherwise.
     * Flags as the reference host leaves them: CF, OF kept, SF = ZF = PF = 0, AF = 1. */
    IrVar old = gen_compute_eflags(dc);
    IrVar eax = snap(dc, dc->R[R_EAX]), edx = snap(dc, dc->R[R_EDX]);
    int slow = ir_new_label(b), done = ir_new_label(b);
    IrVar q = tcg_temp(dc);
    if (is_signed) {
        IrVar sx = tcg_temp(dc);
        ir_sari(b, sx, eax, 31);
        ir_brcond(b, IRC_NE, edx, sx, slow);
        ir_brcond(b, IRC_EQ, src, tcg_const(dc, 0), slow);
        int ok = ir_new_label(b);
        ir_brcond(b, IRC_NE, src, tcg_const(dc, 0xffffffffu), ok);
        ir_brcond(b, IRC_EQ, eax, tcg_const(dc, 0x80000000u), slow);
        ir_label(b, ok);
        ir_binop(b, IR_DIVS, q, eax, src);
    } else {
        ir_brcond(b, IRC_GEU, edx, src, slow); /* also catches a zero divisor */
        ir_emit(b, IR_DIVU2, q, eax, src, edx);
    }
    IrVar r = tcg_temp(dc);
    ir_binop(b, IR_MUL, r, q, src);
    ir_sub(b, r, eax, r);
    ir_mov(b, dc->R[R_EAX], q);
    ir_mov(b, dc->R[R_EDX], r);
    IrVar f = tcg_temp(dc);
    ir_andi(b, f, old, CF_MASK | OF_MASK);
    ir_binopi(b, IR_OR, f, f, AF_MASK);
    ir_mov(b, dc->cc_src, f);
    ir_movi(b, dc->g_cc_op, CC_OP_EFLAGS);
    ir_br(b, done);
    ir_label(b, slow);
    gen_helper(dc, &hlp_div, 0, src, tcg_const(dc, 4), tcg_const(dc, is_signed));
    ir_label(b, done);
    dc->cc_op = CC_OP_EFLAGS;
    dc->cc_srcT = 0;
}

/* Shifts and rotates (group 2). Constant-count SHL/SHR/SAR use lazy flags; everything else
 * goes through the helper, which implements every count. */
static void gen_shift(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->datasize, m = insn->mnem;
    int bits = size * 8;
    Loc l = gen_loc(dc, &insn->op[0], true);
    IrVar x = snap(dc, gen_read(dc, &l));
    bool const_count = insn->op[1].kind == OPK_IMM;
    unsigned c = const_count ? insn->op[1].imm & 31 : 0;
    if (const_count && c == 0) return; /* no effect, flags unchanged */
    if (const_count && (m == X86_SHL || m == X86_SAL || m == X86_SHR || m == X86_SAR)) {
        IrVar r = tcg_temp(dc), s = tcg_temp(dc);
        int ci = cc_idx(size);
        if (m == X86_SHL || m == X86_SAL) {
            ir_shli(b, r, x, c);
            ir_shli(b, s, x, c - 1);
            gen_write(dc, &l, r);
            gen_set_cc(dc, CC_OP_SHLB + ci, r, s, 0);
        } else if (m == X86_SHR) {
            if ((int)c > bits) { /* only zeros remain; CF is 0 */
                ir_movi(b, r, 0);
                ir_movi(b, s, 0);
            } else {
                ir_shri(b, r, x, c);
                ir_shri(b, s, x, c - 1);
            }
            gen_write(dc, &l, r);
            gen_set_cc(dc, CC_OP_SHRB + ci, r, s, tcg_const(dc, c));
        } else {
            IrVar xs = gen_ext(dc, x, size, true);
            unsigned cs = c > 31 ? 31 : c;
            ir_sari(b, r, xs, cs);
            ir_sari(b, s, xs, c - 1 > 31 ? 31 : c - 1);
            gen_write(dc, &l, r);
            gen_set_cc(dc, CC_OP_SARB + ci, r, s, 0);
        }
        return;
    }
    if (!const_count && (m == X86_SHL || m == X86_SAL || m == X86_SHR || m == X86_SAR)) {
        /* Count in CL: a zero count changes nothing (flags included), so the lazy-flags op is
         * written at run time on the shifting path only. */
        IrVar cnt = tcg_temp(dc), c1 = tcg_temp(dc), r = tcg_temp(dc), sv = tcg_temp(dc);
        int skip = ir_new_label(b);
        ir_andi(b, cnt, dc->R[R_ECX], 31);
        gen_sync_cc_op(dc);
        ir_brcond(b, IRC_EQ, cnt, tcg_const(dc, 0), skip);
        ir_addi(b, c1, cnt, (uint32_t)-1);
        int ci = cc_idx(size), op;
        if (m == X86_SHL || m == X86_SAL) {
            ir_binop(b, IR_SHL, r, x, cnt);
            ir_binop(b, IR_SHL, sv, x, c1);
            op = CC_OP_SHLB + ci;
        } else if (m == X86_SHR) {
            ir_binop(b, IR_SHR, r, x, cnt);
            ir_binop(b, IR_SHR, sv, x, c1);
            op = CC_OP_SHRB + ci;
        } else {
            IrVar xs = gen_ext(dc, x, size, true);
            ir_binop(b, IR_SAR, r, xs, cnt);
            ir_binop(b, IR_SAR, sv, xs, c1);
            op = CC_OP_SARB + ci;
        }
        gen_write(dc, &l, r);
        ir_mov(b, dc->cc_dst, r);
        ir_mov(b, dc->cc_src, sv);
        if (m == X86_SHR) ir_mov(b, dc->cc_src2, cnt);
        ir_movi(b, dc->g_cc_op, op);
        ir_label(b, skip);
        dc->cc_op = CC_OP_DYNAMIC;
        dc->cc_srcT = 0;
        return;
    }
    static const int opnum[] = {[X86_ROL - X86_ROL] = 0, [X86_ROR - X86_ROL] = 1,
                                [X86_RCL - X86_ROL] = 2, [X86_RCR - X86_ROL] = 3,
                                [X86_SHL - X86_ROL] = 4, [X86_SHR - X86_ROL] = 5,
                                [X86_SAL - X86_ROL] = 6, [X86_SAR - X86_ROL] = 7};
    IrVar count = const_count ? tcg_const(dc, c) : gen_get_reg(dc, R_ECX, 1);
    gen_sync_cc_op(dc);
    IrVar r = tcg_temp(dc);
    gen_helper(dc, &hlp_shift, r, x, count, tcg_const(dc, opnum[m - X86_ROL] | size << 8));
    dc->cc_op = CC_OP_DYNAMIC;
    gen_write(dc, &l, r);
}

static void gen_dshift(DisasContext *dc, bool right)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    Loc l = gen_loc(dc, &insn->op[0], true);
    IrVar x = snap(dc, gen_read(dc, &l));
    IrVar y = gen_get_reg(dc, insn->op[1].reg, size);
    IrVar packed = tcg_temp(dc);
    if (insn->op[2].kind == OPK_IMM) {
        ir_movi(b, packed, (insn->op[2].imm & 31) | size << 8 | (right ? 1u << 16 : 0));
    } else {
        ir_andi(b, packed, dc->R[R_ECX], 31);
        ir_binopi(b, IR_OR, packed, packed, size << 8 | (right ? 1u << 16 : 0));
    }
    gen_sync_cc_op(dc);
    IrVar r = tcg_temp(dc);
    gen_helper(dc, &hlp_dshift, r, x, y, packed);
    dc->cc_op = CC_OP_DYNAMIC;
    gen_write(dc, &l, r);
}

/* BT, BTS, BTR, BTC: only CF changes. */
static void gen_bt(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize, m = insn->mnem;
    const X86Operand *od = &insn->op[0], *os = &insn->op[1];
    IrVar bit = tcg_temp(dc);
    Loc l;
    if (os->kind == OPK_IMM) {
        ir_movi(b, bit, os->imm & (size * 8 - 1));
        l = gen_loc(dc, od, m != X86_BT);
    } else {
        IrVar off = gen_get_reg(dc, os->reg, size);
        ir_andi(b, bit, off, size * 8 - 1);
        if (od->kind == OPK_MEM) {
            /* A register bit offset addresses memory beyond the operand (signed). */
            IrVar ea = gen_ea(dc, od);
            IrVar soff = gen_ext(dc, off, size, true);
            IrVar disp = tcg_temp(dc);
            ir_sari(b, disp, soff, size == 4 ? 5 : 4);
            ir_shli(b, disp, disp, size == 4 ? 2 : 1);
            IrVar ea2 = tcg_temp(dc);
            ir_add(b, ea2, ea, disp);
            if (insn->addrsize == 2) ir_andi(b, ea2, ea2, 0xffff);
            l = (Loc){.mem = true, .size = size};
            l.lin = gen_lin(dc, od->seg, ea2, size, m != X86_BT);
        } else {
            l = gen_loc(dc, od, true);
        }
    }
    IrVar v = gen_read(dc, &l);
    IrVar cf = tcg_temp(dc);
    ir_binop(b, IR_SHR, cf, v, bit);
    ir_andi(b, cf, cf, 1);
    if (m != X86_BT) {
        IrVar mask = tcg_temp(dc), r = tcg_temp(dc);
        ir_binop(b, IR_SHL, mask, tcg_const(dc, 1), bit);
        if (m == X86_BTS) ir_or(b, r, v, mask);
        else if (m == X86_BTC) ir_xor(b, r, v, mask);
        else {
            ir_unop(b, IR_NOT, mask, mask);
            ir_and(b, r, v, mask);
        }
        gen_write(dc, &l, r);
    }
    gen_flags_keep(dc, CC_MASK & ~CF_MASK, cf);
}

/* BSF/BSR: ZF = (source == 0); a zero source leaves the destination unchanged. */
static void gen_bitscan(DisasContext *dc, bool reverse)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    IrVar src = snap(dc, gen_operand(dc, &insn->op[1]));
    IrVar r = tcg_temp(dc);
    if (reverse) {
        ir_unop(b, IR_CLZ, r, src);
        ir_binop(b, IR_SUB, r, tcg_const(dc, 31), r);
    } else {
        ir_unop(b, IR_CTZ, r, src);
    }
    int reg = insn->op[0].reg;
    if (size == 4) {
        ir_movcond(b, IRC_NE, dc->R[reg], src, tcg_const(dc, 0), r);
    } else {
        IrVar nv = tcg_temp(dc);
        ir_deposit(b, nv, dc->R[reg], r, 0, 16);
        ir_movcond(b, IRC_NE, dc->R[reg], src, tcg_const(dc, 0), nv);
    }
    IrVar z = tcg_temp(dc);
    ir_setcond(b, IRC_EQ, z, src, tcg_const(dc, 0));
    ir_shli(b, z, z, 6);
    gen_flags_keep(dc, CC_MASK & ~ZF_MASK, z);
}

static void gen_xadd(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->datasize;
    Loc l = gen_loc(dc, &insn->op[0], true);
    IrVar a = snap(dc, gen_read(dc, &l));
    IrVar s = snap(dc, gen_get_reg(dc, insn->op[1].reg, size));
    IrVar r = tcg_temp(dc);
    ir_add(b, r, a, s);
    if (l.mem) {
        gen_write(dc, &l, r);
        gen_set_reg(dc, insn->op[1].reg, size, a);
    } else {
        gen_set_reg(dc, insn->op[1].reg, size, a);
        gen_write(dc, &l, r);
    }
    gen_set_cc(dc, CC_OP_ADDB + cc_idx(size), r, s, 0);
}

static void gen_cmpxchg(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->datasize;
    Loc l = gen_loc(dc, &insn->op[0], true);
    IrVar d = snap(dc, gen_read(dc, &l));
    IrVar acc = snap(dc, gen_get_reg(dc, R_EAX, size));
    IrVar src = snap(dc, gen_get_reg(dc, insn->op[1].reg, size));
    IrVar nd = tcg_temp(dc);
    ir_mov(b, nd, d);
    ir_movcond(b, IRC_EQ, nd, acc, d, src);
    IrVar nacc = tcg_temp(dc);
    ir_mov(b, nacc, acc);
    ir_movcond(b, IRC_NE, nacc, acc, d, d);
    /* The destination is always written (the old value when unequal). */
    if (l.mem) {
        gen_write(dc, &l, nd);
        gen_set_reg(dc, R_EAX, size, nacc);
    } else {
        gen_set_reg(dc, R_EAX, size, nacc);
        gen_write(dc, &l, nd);
    }
    IrVar r = tcg_temp(dc);
    ir_sub(b, r, acc, d);
    gen_set_cc(dc, CC_OP_SUBB + cc_idx(size), r, d, 0);
    dc->cc_srcT = acc;
}

static void gen_cmov_setcc(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    IrCond c;
    IrVar x, y;
    if (insn->mnem == X86_SETCC) {
        Loc l = gen_loc(dc, &insn->op[0], true);
        IrVar v = gen_setcc(dc, insn->cond);
        gen_write(dc, &l, v);
        return;
    }
    int size = insn->opsize;
    IrVar src = gen_operand(dc, &insn->op[1]);
    gen_cond(dc, insn->cond, &c, &x, &y);
    int reg = insn->op[0].reg;
    if (size == 4) {
        ir_movcond(b, c, dc->R[reg], x, y, src);
    } else {
        IrVar nv = tcg_temp(dc);
        ir_deposit(b, nv, dc->R[reg], src, 0, 16);
        ir_movcond(b, c, dc->R[reg], x, y, nv);
    }
}

static void gen_bcd(DisasContext *dc, int op)
{
    uint32_t imm = dc->insn.nops ? dc->insn.op[0].imm : 0;
    gen_sync_cc_op(dc);
    gen_helper(dc, &hlp_bcd, 0, tcg_const(dc, op), tcg_const(dc, imm), 0);
    dc->cc_op = CC_OP_EFLAGS;
}

static void gen_mov(DisasContext *dc)
{
    X86Insn *insn = &dc->insn;
    IrVar v = gen_operand(dc, &insn->op[1]);
    Loc l = gen_loc(dc, &insn->op[0], true);
    gen_write(dc, &l, v);
}

static void gen_xchg(DisasContext *dc)
{
    X86Insn *insn = &dc->insn;
    int size = insn->datasize;
    Loc l0 = gen_loc(dc, &insn->op[0], true);
    Loc l1 = gen_loc(dc, &insn->op[1], true);
    IrVar a = snap(dc, gen_read(dc, &l0));
    IrVar c = snap(dc, gen_read(dc, &l1));
    (void)size;
    if (l0.mem) {
        gen_write(dc, &l0, c);
        gen_write(dc, &l1, a);
    } else {
        gen_write(dc, &l1, a);
        gen_write(dc, &l0, c);
    }
}

bool translate_alu(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    switch (insn->mnem) {
    case X86_ADD: case X86_OR: case X86_ADC: case X86_SBB: case X86_AND: case X86_SUB:
    case X86_XOR: case X86_CMP: case X86_TEST:
        gen_binary_alu(dc);
        return true;
    case X86_INC: gen_incdec(dc, true); return true;
    case X86_DEC: gen_incdec(dc, false); return true;
    case X86_NEG: gen_neg_not(dc, true); return true;
    case X86_NOT: gen_neg_not(dc, false); return true;
    case X86_MUL: gen_mul1(dc, false); return true;
    case X86_IMUL:
        if (insn->nops == 1) gen_mul1(dc, true);
        else gen_imul_n(dc);
        return true;
    case X86_DIV: gen_div(dc, false); return true;
    case X86_IDIV: gen_div(dc, true); return true;
    case X86_ROL: case X86_ROR: case X86_RCL: case X86_RCR: case X86_SHL: case X86_SHR:
    case X86_SAL: case X86_SAR:
        gen_shift(dc);
        return true;
    case X86_SHLD: gen_dshift(dc, false); return true;
    case X86_SHRD: gen_dshift(dc, true); return true;
    case X86_BT: case X86_BTS: case X86_BTR: case X86_BTC: gen_bt(dc); return true;
    case X86_BSF: gen_bitscan(dc, false); return true;
    case X86_BSR: gen_bitscan(dc, true); return true;
    case X86_BSWAP: {
        int reg = insn->op[0].reg;
        if (insn->opsize == 4) {
            ir_unop(b, IR_BSWAP, dc->R[reg], dc->R[reg]);
        } else {
            /* 16-bit BSWAP is undefined; the reference host clears the low word. */
            ir_andi(b, dc->R[reg], dc->R[reg], 0xffff0000u);
        }
        return true;
    }
    case X86_XADD: gen_xadd(dc); return true;
    case X86_CMPXCHG: gen_cmpxchg(dc); return true;
    case X86_CMPXCHG8B: {
        Loc l = gen_loc(dc, &insn->op[0], true);
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_cmpxchg8b, 0, l.lin, tcg_const(dc, dc->mem_idx), 0);
        dc->cc_op = CC_OP_EFLAGS;
        return true;
    }
    case X86_DAA: gen_bcd(dc, 0); return true;
    case X86_DAS: gen_bcd(dc, 1); return true;
    case X86_AAA: gen_bcd(dc, 2); return true;
    case X86_AAS: gen_bcd(dc, 3); return true;
    case X86_AAM: gen_bcd(dc, 4); return true;
    case X86_AAD: gen_bcd(dc, 5); return true;
    case X86_SALC: {
        IrVar cf = gen_compute_cf(dc), t = tcg_temp(dc);
        ir_unop(b, IR_NEG, t, cf);
        gen_set_reg(dc, R_EAX, 1, t);
        return true;
    }
    case X86_CBW: {
        int size = insn->opsize;
        IrVar src = gen_get_reg(dc, R_EAX, size / 2);
        IrVar t = gen_ext(dc, src, size / 2, true);
        gen_set_reg(dc, R_EAX, size, t);
        return true;
    }
    case X86_CWD: {
        int size = insn->opsize;
        IrVar src = gen_ext(dc, gen_get_reg(dc, R_EAX, size), size, true);
        IrVar t = tcg_temp(dc);
        ir_sari(b, t, src, 31);
        gen_set_reg(dc, R_EDX, size, t);
        return true;
    }
    case X86_MOVZX:
    case X86_MOVSX: {
        const X86Operand *os = &insn->op[1];
        Loc l = gen_loc(dc, os, false);
        IrVar v = insn->mnem == X86_MOVSX ? gen_read_sext(dc, &l) : gen_read(dc, &l);
        gen_set_reg(dc, insn->op[0].reg, insn->opsize, v);
        return true;
    }
    case X86_LEA: {
        IrVar ea = gen_ea(dc, &insn->op[1]);
        gen_set_reg(dc, insn->op[0].reg, insn->opsize, ea);
        return true;
    }
    case X86_MOV: gen_mov(dc); return true;
    case X86_XCHG: gen_xchg(dc); return true;
    case X86_XLAT: {
        IrVar al = gen_get_reg(dc, R_EAX, 1);
        IrVar ea = tcg_temp(dc);
        ir_add(b, ea, dc->R[R_EBX], al);
        if (insn->addrsize == 2) ir_andi(b, ea, ea, 0xffff);
        int seg = (insn->prefixes & PFX_SEG) ? insn->seg_override : R_DS;
        IrVar lin = gen_lin(dc, seg, ea, 1, false);
        gen_set_reg(dc, R_EAX, 1, gen_ld(dc, lin, 1, false));
        return true;
    }
    case X86_CMOV:
    case X86_SETCC: gen_cmov_setcc(dc); return true;
    case X86_LAHF: {
        IrVar f = gen_compute_eflags(dc), t = tcg_temp(dc);
        ir_andi(b, t, f, SF_MASK | ZF_MASK | AF_MASK | PF_MASK | CF_MASK);
        ir_binopi(b, IR_OR, t, t, 0x2);
        gen_set_reg(dc, 4, 1, t); /* AH */
        return true;
    }
    case X86_SAHF: {
        IrVar ah = gen_get_reg(dc, 4, 1), t = tcg_temp(dc);
        ir_andi(b, t, ah, SF_MASK | ZF_MASK | AF_MASK | PF_MASK | CF_MASK);
        gen_flags_keep(dc, OF_MASK, t);
        return true;
    }
    case X86_CLC:
    case X86_STC:
    case X86_CMC: {
        IrVar f = gen_compute_eflags(dc), t = tcg_temp(dc);
        if (insn->mnem == X86_CLC) ir_andi(b, t, f, CC_MASK & ~CF_MASK);
        else if (insn->mnem == X86_STC) ir_binopi(b, IR_OR, t, f, CF_MASK);
        else ir_binopi(b, IR_XOR, t, f, CF_MASK);
        gen_set_cc(dc, CC_OP_EFLAGS, 0, t, 0);
        return true;
    }
    case X86_CLD: ir_movi(b, dc->df, 1); return true;
    case X86_STD: ir_movi(b, dc->df, (uint32_t)-1); return true;
    case X86_NOP: return true;
    default: return false;
    }
}
