/* Translation of control transfers and stack instructions: Jcc/JMP/CALL/RET, LOOP/JCXZ,
 * INT n/INT3/INTO/INT1, far transfers and IRET (through helpers), ENTER/LEAVE, PUSH/POP and
 * their variants, BOUND (SDM vol. 2 instruction pages; vol. 1, 6.3-6.5). */
#include "cpu/x86/translate.h"

static IrVar snap(DisasContext *dc, IrVar v)
{
    if (!ir_is_global(dc->b, v)) return v;
    IrVar t = tcg_temp(dc);
    ir_mov(dc->b, t, v);
    return t;
}

/* Jump to a run-time target: the block ends with a lookup. */
static void gen_jmp_var(DisasContext *dc, IrVar target)
{
    gen_sync_cc_op(dc);
    if (dc->insn.opsize == 2) {
        IrVar t = tcg_temp(dc);
        ir_andi(dc->b, t, target, 0xffff);
        target = t;
    }
    gen_check_cs_limit(dc, target);
    ir_mov(dc->b, dc->eip, target);
    if (dc->flags & HF_TF) {
        gen_helper(dc, &hlp_single_step, 0, target, 0, 0);
        ir_exit(dc->b);
    } else {
        ir_exit_lookup(dc->b);
    }
    dc->end = DISAS_END;
}

/* After a helper that set EIP (far transfers, IRET): leave the block. */
static void gen_exit_after_helper(DisasContext *dc)
{
    dc->cc_op = CC_OP_DYNAMIC;
    if (dc->flags & HF_TF) {
        /* The single-step trap is taken after the transfer, at the new EIP. */
        gen_helper(dc, &hlp_single_step, 0, dc->eip, 0, 0);
        ir_exit(dc->b);
    } else {
        ir_exit_lookup(dc->b);
    }
    dc->end = DISAS_END;
}

static void gen_jcc(DisasContext *dc, IrCond c, IrVar a, IrVar b, uint32_t target)
{
    int taken = ir_new_label(dc->b);
    gen_sync_cc_op(dc);
    ir_brcond(dc->b, c, a, b, taken);
    int saved_cc = dc->cc_op;
    gen_jmp(dc, dc->next_pc, 1);
    ir_label(dc->b, taken);
    dc->cc_op = saved_cc;
    gen_jmp(dc, target, 0);
}

static uint32_t rel_target(DisasContext *dc)
{
    return mask_ip(dc, dc->next_pc + dc->insn.op[0].imm);
}

/* Effective address of a POP destination: ESP as a base register already has the popped
 * value's size added (SDM: POP computes the address after incrementing ESP). */
static IrVar pop_dest_lin(DisasContext *dc, const X86Operand *o, int size)
{
    X86Operand copy = *o;
    IrVar ea;
    if (o->base == R_ESP || o->index == R_ESP) {
        IrVar saved = dc->R[R_ESP];
        IrVar t = tcg_temp(dc);
        ir_addi(dc->b, t, saved, size);
        dc->R[R_ESP] = t;
        ea = gen_ea(dc, &copy);
        dc->R[R_ESP] = saved;
    } else {
        ea = gen_ea(dc, &copy);
    }
    return gen_lin(dc, o->seg, ea, size, true);
}

static void gen_enter(DisasContext *dc)
{
    IrBlock *b = dc->b;
    int size = dc->insn.opsize;
    uint32_t frame_size = dc->insn.op[0].imm & 0xffff;
    int level = dc->insn.imm2 & 31;
    IrVar sp = tcg_temp(dc);
    ir_mov(b, sp, dc->R[R_ESP]);
    uint32_t spmask = dc->ss32 ? 0xffffffffu : 0xffff;
    ir_addi(b, sp, sp, (uint32_t)-size);
    ir_andi(b, sp, sp, spmask);
    gen_st(dc, gen_stack_lin(dc, sp, size, true), dc->R[R_EBP], size);
    IrVar frame = tcg_temp(dc);
    ir_mov(b, frame, sp);
    if (level > 0) {
        IrVar bp = tcg_temp(dc);
        ir_mov(b, bp, dc->R[R_EBP]);
        for (int i = 1; i < level; i++) {
            ir_addi(b, bp, bp, (uint32_t)-size);
            ir_andi(b, bp, bp, spmask);
            IrVar v = gen_ld(dc, gen_stack_lin(dc, bp, size, false), size, false);
            ir_addi(b, sp, sp, (uint32_t)-size);
            ir_andi(b, sp, sp, spmask);
            gen_st(dc, gen_stack_lin(dc, sp, size, true), v, size);
        }
        ir_addi(b, sp, sp, (uint32_t)-size);
        ir_andi(b, sp, sp, spmask);
        gen_st(dc, gen_stack_lin(dc, sp, size, true), frame, size);
    }
    ir_addi(b, sp, sp, (uint32_t)-frame_size);
    ir_andi(b, sp, sp, spmask);
    /* Touch the bottom of the new frame as the CPU does (stack fault before commit). */
    if (dc->ss32)
        ir_mov(b, dc->R[R_ESP], sp);
    else
        ir_deposit(b, dc->R[R_ESP], dc->R[R_ESP], sp, 0, 16);
    gen_set_reg(dc, R_EBP, size, frame);
}

static void gen_leave(DisasContext *dc)
{
    IrBlock *b = dc->b;
    int size = dc->insn.opsize;
    IrVar sp = tcg_temp(dc);
    if (dc->ss32)
        ir_mov(b, sp, dc->R[R_EBP]);
    else
        ir_andi(b, sp, dc->R[R_EBP], 0xffff);
    IrVar v = gen_ld(dc, gen_stack_lin(dc, sp, size, false), size, false);
    ir_addi(b, sp, sp, size);
    if (dc->ss32)
        ir_mov(b, dc->R[R_ESP], sp);
    else
        ir_deposit(b, dc->R[R_ESP], dc->R[R_ESP], sp, 0, 16);
    gen_set_reg(dc, R_EBP, size, v);
}

static void gen_pusha(DisasContext *dc)
{
    IrBlock *b = dc->b;
    int size = dc->insn.opsize;
    uint32_t spmask = dc->ss32 ? 0xffffffffu : 0xffff;
    IrVar sp = tcg_temp(dc);
    for (int i = 0; i < 8; i++) {
        ir_addi(b, sp, dc->R[R_ESP], (uint32_t)(-(i + 1) * size));
        ir_andi(b, sp, sp, spmask);
        gen_st(dc, gen_stack_lin(dc, sp, size, true), dc->R[i], size);
    }
    gen_add_esp(dc, -8 * size);
}

static void gen_popa(DisasContext *dc)
{
    IrBlock *b = dc->b;
    int size = dc->insn.opsize;
    IrVar vals[8];
    for (int i = 0; i < 8; i++) {
        if (i == R_ESP) continue;
        vals[i] = gen_pop_peek(dc, size, (7 - i) * size);
    }
    gen_add_esp(dc, 8 * size);
    for (int i = 0; i < 8; i++)
        if (i != R_ESP) gen_set_reg(dc, i, size, vals[i]);
    (void)b;
}

static void gen_bound(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    const X86Operand *o = &insn->op[1];
    IrVar ea = gen_ea(dc, o);
    IrVar lin = gen_lin(dc, o->seg, ea, 2 * size, false);
    IrVar lo = gen_ld(dc, lin, size, true);
    IrVar lin2 = tcg_temp(dc);
    ir_addi(b, lin2, lin, size);
    IrVar hi = gen_ld(dc, lin2, size, true);
    IrVar idx = gen_ext(dc, gen_get_reg(dc, insn->op[0].reg, size), size, true);
    int fail = ir_new_label(b), ok = ir_new_label(b);
    ir_brcond(b, IRC_LT, idx, lo, fail);
    ir_brcond(b, IRC_GT, idx, hi, fail);
    ir_br(b, ok);
    ir_label(b, fail);
    gen_sync_cc_op(dc);
    gen_helper(dc, &hlp_raise, 0, tcg_const(dc, EXCP_BR), tcg_const(dc, 0), 0);
    ir_label(b, ok);
}

static void gen_loop(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int asize = insn->addrsize;
    uint32_t target = rel_target(dc);
    IrVar cnt = tcg_temp(dc);
    if (insn->mnem != X86_JCXZ) {
        if (asize == 4) {
            ir_addi(b, dc->R[R_ECX], dc->R[R_ECX], (uint32_t)-1);
            ir_mov(b, cnt, dc->R[R_ECX]);
        } else {
            ir_addi(b, cnt, dc->R[R_ECX], (uint32_t)-1);
            ir_andi(b, cnt, cnt, 0xffff);
            ir_deposit(b, dc->R[R_ECX], dc->R[R_ECX], cnt, 0, 16);
        }
    } else if (asize == 4) {
        ir_mov(b, cnt, dc->R[R_ECX]);
    } else {
        ir_andi(b, cnt, dc->R[R_ECX], 0xffff);
    }
    if (insn->mnem == X86_LOOP) {
        gen_jcc(dc, IRC_NE, cnt, tcg_const(dc, 0), target);
    } else if (insn->mnem == X86_JCXZ) {
        gen_jcc(dc, IRC_EQ, cnt, tcg_const(dc, 0), target);
    } else {
        /* LOOPE: count != 0 && ZF; LOOPNE: count != 0 && !ZF. */
        IrCond c;
        IrVar x, y;
        gen_cond(dc, insn->mnem == X86_LOOPE ? 4 : 5, &c, &x, &y);
        IrVar z = tcg_temp(dc), nz = tcg_temp(dc);
        ir_setcond(b, c, z, x, y);
        ir_setcond(b, IRC_NE, nz, cnt, tcg_const(dc, 0));
        ir_and(b, z, z, nz);
        gen_jcc(dc, IRC_NE, z, tcg_const(dc, 0), target);
    }
}

static IrVar far_sel_off(DisasContext *dc, IrVar *off)
{
    X86Insn *insn = &dc->insn;
    const X86Operand *o = &insn->op[0];
    if (o->kind == OPK_FAR) {
        *off = tcg_const(dc, o->imm);
        return tcg_const(dc, insn->imm2);
    }
    int size = insn->opsize;
    IrVar lin = gen_lin(dc, o->seg, gen_ea(dc, o), size + 2, false);
    *off = gen_ld(dc, lin, size, false);
    IrVar lin2 = tcg_temp(dc);
    ir_addi(dc->b, lin2, lin, size);
    return gen_ld(dc, lin2, 2, false);
}

static void gen_push_op(DisasContext *dc)
{
    X86Insn *insn = &dc->insn;
    const X86Operand *o = &insn->op[0];
    int size = insn->opsize;
    if (o->kind == OPK_SREG) {
        IrVar sel = tcg_temp(dc);
        gen_helper(dc, &hlp_get_sel, sel, tcg_const(dc, o->reg), 0, 0);
        /* A 32-bit push of a segment register writes only the selector's 16 bits. */
        IrBlock *b = dc->b;
        IrVar nsp = tcg_temp(dc);
        ir_addi(b, nsp, dc->R[R_ESP], (uint32_t)-size);
        if (!dc->ss32) ir_andi(b, nsp, nsp, 0xffff);
        gen_st(dc, gen_stack_lin(dc, nsp, size, true), sel, 2);
        gen_add_esp(dc, -size);
        return;
    }
    IrVar v;
    if (o->kind == OPK_IMM)
        v = tcg_const(dc, o->imm & (size == 2 ? 0xffff : 0xffffffffu));
    else
        v = gen_operand(dc, o);
    gen_push(dc, v, size);
}

static void gen_pop_op(DisasContext *dc)
{
    X86Insn *insn = &dc->insn;
    const X86Operand *o = &insn->op[0];
    int size = insn->opsize;
    IrVar v = gen_pop_peek(dc, size, 0);
    if (o->kind == OPK_MEM) {
        IrVar lin = pop_dest_lin(dc, o, size);
        gen_st(dc, lin, v, size);
        gen_add_esp(dc, size);
    } else {
        gen_add_esp(dc, size);
        gen_set_reg(dc, o->reg, size, v);
    }
}

bool translate_control(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    switch (insn->mnem) {
    case X86_JCC: {
        IrCond c;
        IrVar x, y;
        gen_cond(dc, insn->cond, &c, &x, &y);
        gen_jcc(dc, c, x, y, rel_target(dc));
        return true;
    }
    case X86_JMP:
        if (insn->op[0].kind == OPK_REL)
            gen_jmp(dc, rel_target(dc), 0);
        else
            gen_jmp_var(dc, gen_operand(dc, &insn->op[0]));
        return true;
    case X86_CALL: {
        IrVar target = 0;
        if (insn->op[0].kind != OPK_REL) target = snap(dc, gen_operand(dc, &insn->op[0]));
        gen_push(dc, tcg_const(dc, dc->next_pc), size);
        if (insn->op[0].kind == OPK_REL)
            gen_jmp(dc, rel_target(dc), 0);
        else
            gen_jmp_var(dc, target);
        return true;
    }
    case X86_RET: {
        IrVar t = gen_pop_peek(dc, size, 0);
        gen_add_esp(dc, size + (insn->nops ? (insn->op[0].imm & 0xffff) : 0));
        gen_jmp_var(dc, t);
        return true;
    }
    case X86_JMPF:
    case X86_CALLF: {
        IrVar off, sel = far_sel_off(dc, &off);
        gen_sync_cc_op(dc);
        if (insn->mnem == X86_JMPF) {
            gen_helper(dc, &hlp_ljmp, 0, sel, off, tcg_const(dc, dc->next_pc));
        } else {
            IrVar packed = tcg_temp(dc);
            ir_binopi(b, IR_OR, packed, sel, (uint32_t)size << 16);
            gen_helper(dc, &hlp_lcall, 0, packed, off, tcg_const(dc, dc->next_pc));
        }
        gen_exit_after_helper(dc);
        return true;
    }
    case X86_RETF:
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_lret, 0, tcg_const(dc, size),
                   tcg_const(dc, insn->nops ? insn->op[0].imm & 0xffff : 0), 0);
        gen_exit_after_helper(dc);
        return true;
    case X86_IRET:
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_iret, 0, tcg_const(dc, size), tcg_const(dc, dc->next_pc), 0);
        gen_exit_after_helper(dc);
        return true;
    case X86_LOOP:
    case X86_LOOPE:
    case X86_LOOPNE:
    case X86_JCXZ: gen_loop(dc); return true;
    case X86_INT:
    case X86_INT3:
    case X86_INT1: {
        int vec = insn->mnem == X86_INT ? (int)(insn->op[0].imm & 0xff)
                  : insn->mnem == X86_INT3 ? EXCP_BP : EXCP_DB;
        int sw = insn->mnem == X86_INT ? 1 : insn->mnem == X86_INT3 ? 2 : 0;
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_raise_int, 0, tcg_const(dc, vec), tcg_const(dc, dc->next_pc),
                   tcg_const(dc, sw));
        ir_exit(b);
        dc->end = DISAS_END;
        return true;
    }
    case X86_INTO:
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_into, 0, tcg_const(dc, dc->next_pc), 0, 0);
        return true;
    case X86_ENTER: gen_enter(dc); return true;
    case X86_LEAVE: gen_leave(dc); return true;
    case X86_PUSH: gen_push_op(dc); return true;
    case X86_POP:
        if (insn->op[0].kind == OPK_SREG) return false; /* segment loads: system.c */
        gen_pop_op(dc);
        return true;
    case X86_PUSHA: gen_pusha(dc); return true;
    case X86_POPA: gen_popa(dc); return true;
    case X86_PUSHF: {
        gen_sync_cc_op(dc);
        IrVar f = tcg_temp(dc);
        gen_helper(dc, &hlp_pushf, f, 0, 0, 0);
        gen_push(dc, f, size);
        return true;
    }
    case X86_POPF: {
        IrVar v = gen_pop_peek(dc, size, 0);
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_popf, 0, v, tcg_const(dc, size), 0);
        dc->cc_op = CC_OP_EFLAGS;
        gen_add_esp(dc, size);
        gen_end_block(dc); /* TF, IF, IOPL may have changed */
        return true;
    }
    case X86_BOUND: gen_bound(dc); return true;
    default: return false;
    }
}
