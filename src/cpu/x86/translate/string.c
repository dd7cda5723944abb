/* Translation of string instructions (MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS) and their
 * REP/REPE/REPNE forms (SDM vol. 2 instruction pages; vol. 1, 7.3.9). A repeated instruction
 * loops inside the block for up to REP_CHUNK iterations, then leaves the block at the same
 * instruction so that interrupts are taken between chunks. */
#include "cpu/x86/translate.h"

#define REP_CHUNK 1024
#define REP_FAST_CHUNK 16384 /* elements per block execution when whole pages move at once */

static int log2_size(int n) { return n == 1 ? 0 : n == 2 ? 1 : 2; }

/* Offset register value (ESI or EDI) for the address size. */
static IrVar str_off(DisasContext *dc, int reg)
{
    if (dc->insn.addrsize == 4) return dc->R[reg];
    IrVar t = tcg_temp(dc);
    ir_andi(dc->b, t, dc->R[reg], 0xffff);
    return t;
}

/* reg += DF * n within the address size. */
static void str_advance(DisasContext *dc, int reg, IrVar delta)
{
    IrBlock *b = dc->b;
    if (dc->insn.addrsize == 4) {
        ir_add(b, dc->R[reg], dc->R[reg], delta);
    } else {
        IrVar t = tcg_temp(dc);
        ir_add(b, t, dc->R[reg], delta);
        ir_deposit(b, dc->R[reg], dc->R[reg], t, 0, 16);
    }
}

static int src_seg(DisasContext *dc)
{
    return (dc->insn.prefixes & PFX_SEG) ? dc->insn.seg_override : R_DS;
}

/* One iteration. Flag-setting forms write the flags globals and, when `dyn` is set, the
 * lazy-flags op global too (inside REP loops the static flag state is unknown). */
static void gen_string_iter(DisasContext *dc, bool dyn)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int n = insn->datasize, m = insn->mnem;
    IrVar delta = tcg_temp(dc);
    ir_shli(b, delta, dc->df, log2_size(n));
    switch (m) {
    case X86_MOVS: {
        IrVar v = gen_ld(dc, gen_lin(dc, src_seg(dc), str_off(dc, R_ESI), n, false), n, false);
        gen_st(dc, gen_lin(dc, R_ES, str_off(dc, R_EDI), n, true), v, n);
        str_advance(dc, R_ESI, delta);
        str_advance(dc, R_EDI, delta);
        break;
    }
    case X86_STOS: {
        IrVar v = gen_get_reg(dc, R_EAX, n);
        gen_st(dc, gen_lin(dc, R_ES, str_off(dc, R_EDI), n, true), v, n);
        str_advance(dc, R_EDI, delta);
        break;
    }
    case X86_LODS: {
        IrVar v = gen_ld(dc, gen_lin(dc, src_seg(dc), str_off(dc, R_ESI), n, false), n, false);
        gen_set_reg(dc, R_EAX, n, v);
        str_advance(dc, R_ESI, delta);
        break;
    }
    case X86_CMPS:
    case X86_SCAS: {
        IrVar a, c;
        if (m == X86_CMPS) {
            a = gen_ld(dc, gen_lin(dc, src_seg(dc), str_off(dc, R_ESI), n, false), n, false);
            c = gen_ld(dc, gen_lin(dc, R_ES, str_off(dc, R_EDI), n, false), n, false);
            str_advance(dc, R_ESI, delta);
        } else {
            IrVar acc = gen_get_reg(dc, R_EAX, n);
            a = tcg_temp(dc);
            ir_mov(b, a, acc);
            c = gen_ld(dc, gen_lin(dc, R_ES, str_off(dc, R_EDI), n, false), n, false);
        }
        str_advance(dc, R_EDI, delta);
        IrVar r = tcg_temp(dc);
        ir_sub(b, r, a, c);
        gen_set_cc(dc, CC_OP_SUBB + cc_op_size_index(n), r, c, 0);
        dc->cc_srcT = a;
        if (dyn) {
            gen_sync_cc_op(dc);
            dc->cc_op = CC_OP_DYNAMIC;
        }
        break;
    }
    case X86_INS: {
        IrVar port = gen_get_reg(dc, R_EDX, 2);
        IrVar lin = gen_lin(dc, R_ES, str_off(dc, R_EDI), n, true);
        IrVar v = tcg_temp(dc);
        gen_helper(dc, &hlp_in, v, port, tcg_const(dc, n), 0);
        gen_st(dc, lin, v, n);
        str_advance(dc, R_EDI, delta);
        break;
    }
    case X86_OUTS: {
        IrVar port = gen_get_reg(dc, R_EDX, 2);
        IrVar v = gen_ld(dc, gen_lin(dc, src_seg(dc), str_off(dc, R_ESI), n, false), n, false);
        gen_helper(dc, &hlp_out, 0, port, tcg_const(dc, n), v);
        str_advance(dc, R_ESI, delta);
        break;
    }
    }
}

bool translate_string(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int m = insn->mnem;
    if (m != X86_MOVS && m != X86_CMPS && m != X86_STOS && m != X86_LODS && m != X86_SCAS &&
        m != X86_INS && m != X86_OUTS)
        return false;
    bool io = m == X86_INS || m == X86_OUTS;
    bool cmp = m == X86_CMPS || m == X86_SCAS;
    bool rep = insn->prefixes & (PFX_REP | PFX_REPNE);
    if (io) {
        /* Port I/O may have side effects and take time: one instruction per block. */
        gen_sync_cc_op(dc);
    }
    if (!rep) {
        gen_string_iter(dc, false);
        if (io) gen_end_block(dc);
        return true;
    }
    /* The loop body may set flags on some paths only: make the flag state dynamic before the
     * first fault point of this instruction, and tell the fault-restore metadata. */
    gen_sync_cc_op(dc);
    dc->cc_op = CC_OP_DYNAMIC;
    dc->cc_srcT = 0;
    IrOp *start = &b->ops[b->nops - 1];
    for (int i = b->nops - 1; i >= 0; i--) {
        if (b->ops[i].opc == IR_INSN_START) {
            start = &b->ops[i];
            break;
        }
    }
    start->aux = CC_OP_DYNAMIC;

    /* REP MOVS/STOS over flat DS/ES with 32-bit addresses: runs inside one page each go
     * through hlp_rep_fast; the element it declines takes the per-element path below. */
    bool fast = (m == X86_MOVS || m == X86_STOS) && dc->flat && insn->addrsize == 4 &&
                !(dc->flags & HF_AC) &&
                (m == X86_STOS || src_seg(dc) == R_DS || src_seg(dc) == R_ES ||
                 src_seg(dc) == R_SS);
    int loop = ir_new_label(b), done = ir_new_label(b), next = ir_new_label(b);
    IrVar iters = tcg_temp(dc);
    ir_movi(b, iters, 0);
    ir_label(b, loop);
    IrVar cnt = str_off(dc, R_ECX);
    ir_brcond(b, IRC_EQ, cnt, tcg_const(dc, 0), done);
    if (fast) {
        int slow = ir_new_label(b);
        IrVar n = tcg_temp(dc);
        gen_helper(dc, &hlp_rep_fast, n,
                   tcg_const(dc, (uint32_t)insn->datasize | (uint32_t)dc->mem_idx << 8),
                   tcg_const(dc, m == X86_STOS), 0);
        ir_brcond(b, IRC_EQ, n, tcg_const(dc, 0), slow);
        ir_add(b, iters, iters, n);
        ir_br(b, next);
        ir_label(b, slow);
    }
    gen_string_iter(dc, true);
    str_advance(dc, R_ECX, tcg_const(dc, (uint32_t)-1));
    if (cmp) {
        /* REPE stops when ZF = 0, REPNE when ZF = 1. */
        uint32_t mask = insn->datasize == 1 ? 0xff : insn->datasize == 2 ? 0xffff : 0xffffffffu;
        ir_brcond(b, (insn->prefixes & PFX_REP) ? IRC_TSTNE : IRC_TSTEQ, dc->cc_dst,
                  tcg_const(dc, mask), done);
    }
    ir_addi(b, iters, iters, 1);
    ir_label(b, next);
    ir_brcond(b, IRC_LTU, iters, tcg_const(dc, io ? 1 : fast ? REP_FAST_CHUNK : REP_CHUNK), loop);
    /* Chunk done with work left: resume this instruction in a new block execution. */
    cnt = str_off(dc, R_ECX);
    ir_brcond(b, IRC_EQ, cnt, tcg_const(dc, 0), done);
    ir_movi(b, dc->eip, dc->pc);
    ir_exit_lookup(b);
    ir_label(b, done);
    if (io) gen_end_block(dc);
    return true;
}
