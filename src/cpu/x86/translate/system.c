/* Translation of segment-register loads and stores and of system instructions: descriptor
 * tables, control/debug registers, MSRs, CPUID/RDTSC, port I/O, HLT/CLI/STI, LAR/LSL/VERR/VERW,
 * ARPL, SYSENTER/SYSEXIT (SDM vol. 2 instruction pages; vol. 3 chapters 2-5). Instructions
 * that can change the translation mode end the block. */
#include "cpu/x86/translate.h"

static bool pm_only(DisasContext *dc)
{
    if (!dc->pe || dc->vm86) {
        gen_exception(dc, EXCP_UD, 0);
        return false;
    }
    return true;
}

static bool cpl0_only(DisasContext *dc)
{
    if (dc->cpl != 0) {
        gen_exception(dc, EXCP_GP, 0);
        return false;
    }
    return true;
}

static void gen_load_seg(DisasContext *dc, int seg, IrVar sel)
{
    gen_sync_cc_op(dc);
    gen_helper(dc, &hlp_load_seg, 0, tcg_const(dc, seg), sel, 0);
}

static IrVar gen_get_sel(DisasContext *dc, int seg)
{
    IrVar t = tcg_temp(dc);
    gen_helper(dc, &hlp_get_sel, t, tcg_const(dc, seg), 0, 0);
    return t;
}

/* Write a 16-bit system value to r/m: registers get the operand size (zero-extended). */
static void gen_store_sys16(DisasContext *dc, const X86Operand *o, IrVar v)
{
    Loc l = gen_loc(dc, o, true);
    if (l.mem) {
        gen_st(dc, l.lin, v, 2);
    } else {
        gen_set_reg(dc, l.reg, l.size, v);
    }
}

static IrVar mem_lin(DisasContext *dc, const X86Operand *o, unsigned size, bool write)
{
    return gen_lin(dc, o->seg, gen_ea(dc, o), size, write);
}

bool translate_system(DisasContext *dc)
{
    IrBlock *b = dc->b;
    X86Insn *insn = &dc->insn;
    int size = insn->opsize;
    const X86Operand *o0 = &insn->op[0], *o1 = &insn->op[1];
    switch (insn->mnem) {
    case X86_MOV_SEG_LOAD: {
        IrVar sel = gen_operand(dc, o1);
        gen_load_seg(dc, o0->reg, sel);
        gen_end_block(dc);
        return true;
    }
    case X86_POP:
        if (o0->kind != OPK_SREG) return false;
        {
            IrVar sel = gen_pop_peek(dc, size, 0);
            gen_load_seg(dc, o0->reg, sel);
            gen_add_esp(dc, size);
            gen_end_block(dc);
        }
        return true;
    case X86_LDS: case X86_LES: case X86_LFS: case X86_LGS: case X86_LSS: {
        static const int segs[] = {[X86_LDS - X86_LDS] = R_DS, [X86_LES - X86_LDS] = R_ES,
                                   [X86_LFS - X86_LDS] = R_FS, [X86_LGS - X86_LDS] = R_GS,
                                   [X86_LSS - X86_LDS] = R_SS};
        IrVar lin = mem_lin(dc, o1, size + 2, false);
        IrVar off = gen_ld(dc, lin, size, false);
        IrVar lin2 = tcg_temp(dc);
        ir_addi(b, lin2, lin, size);
        IrVar sel = gen_ld(dc, lin2, 2, false);
        gen_load_seg(dc, segs[insn->mnem - X86_LDS], sel);
        gen_set_reg(dc, o0->reg, size, off);
        gen_end_block(dc);
        return true;
    }
    case X86_MOV_SEG_STORE:
        gen_store_sys16(dc, o0, gen_get_sel(dc, o1->reg));
        return true;
    case X86_LGDT:
    case X86_LIDT:
        if (!cpl0_only(dc)) return true;
        gen_helper(dc, &hlp_lgdt, 0, mem_lin(dc, o0, 6, false), tcg_const(dc, size),
                   tcg_const(dc, insn->mnem == X86_LIDT));
        return true;
    case X86_SGDT:
    case X86_SIDT:
        gen_helper(dc, &hlp_sgdt, 0, mem_lin(dc, o0, 6, true), tcg_const(dc, size),
                   tcg_const(dc, insn->mnem == X86_SIDT));
        return true;
    case X86_LLDT:
    case X86_LTR: {
        if (!pm_only(dc) || !cpl0_only(dc)) return true;
        IrVar sel = gen_operand(dc, o0);
        gen_helper(dc, insn->mnem == X86_LLDT ? &hlp_lldt : &hlp_ltr, 0, sel, 0, 0);
        return true;
    }
    case X86_SLDT:
    case X86_STR:
        if (!pm_only(dc)) return true;
        gen_store_sys16(dc, o0, gen_get_sel(dc, insn->mnem == X86_SLDT ? R_LDTR : R_TR));
        return true;
    case X86_SMSW: {
        IrVar t = tcg_temp(dc);
        gen_helper(dc, &hlp_smsw, t, 0, 0, 0);
        if (o0->kind == OPK_MEM) {
            gen_st(dc, mem_lin(dc, o0, 2, true), t, 2);
        } else {
            gen_set_reg(dc, o0->reg, size, t);
        }
        return true;
    }
    case X86_LMSW: {
        if (!cpl0_only(dc)) return true;
        IrVar v = gen_operand(dc, o0);
        gen_helper(dc, &hlp_lmsw, 0, v, 0, 0);
        gen_end_block(dc);
        return true;
    }
    case X86_CLTS:
        if (!cpl0_only(dc)) return true;
        gen_helper(dc, &hlp_clts, 0, 0, 0, 0);
        gen_end_block(dc);
        return true;
    case X86_MOV_CR:
    case X86_MOV_DR: {
        bool cr = insn->mnem == X86_MOV_CR;
        if (!cpl0_only(dc)) return true;
        if (insn->dir) {
            IrVar v = dc->R[o1->reg];
            gen_sync_cc_op(dc);
            gen_helper(dc, cr ? &hlp_write_cr : &hlp_write_dr, 0, tcg_const(dc, o0->reg), v, 0);
            gen_end_block(dc);
        } else {
            IrVar t = tcg_temp(dc);
            gen_helper(dc, cr ? &hlp_read_cr : &hlp_read_dr, t, tcg_const(dc, o1->reg), 0, 0);
            ir_mov(b, dc->R[o0->reg], t);
        }
        return true;
    }
    case X86_INVLPG: {
        if (!cpl0_only(dc)) return true;
        IrVar ea = gen_ea(dc, o0);
        IrVar lin = tcg_temp(dc);
        ir_add(b, lin, ea, dc->seg_base[o0->seg]);
        gen_helper(dc, &hlp_invlpg, 0, lin, 0, 0);
        gen_end_block(dc);
        return true;
    }
    case X86_INVD:
    case X86_WBINVD: cpl0_only(dc); return true;
    case X86_CPUID:
        /* The backdoor reads and clears CF; histogram start/stop change the mode. */
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_cpuid, 0, 0, 0, 0);
        dc->cc_op = CC_OP_DYNAMIC;
        gen_end_block(dc);
        return true;
    case X86_RDTSC: gen_helper(dc, &hlp_rdtsc, 0, 0, 0, 0); return true;
    case X86_RDMSR: gen_helper(dc, &hlp_rdmsr, 0, 0, 0, 0); return true;
    case X86_WRMSR:
        gen_helper(dc, &hlp_wrmsr, 0, 0, 0, 0);
        gen_end_block(dc);
        return true;
    case X86_RDPMC: gen_helper(dc, &hlp_rdpmc, 0, 0, 0, 0); return true;
    case X86_HLT:
        if (!cpl0_only(dc)) return true;
        gen_sync_cc_op(dc);
        gen_helper(dc, &hlp_hlt, 0, tcg_const(dc, dc->next_pc), 0, 0);
        ir_exit(b);
        dc->end = DISAS_END;
        return true;
    case X86_CLI:
        gen_helper(dc, &hlp_cli, 0, 0, 0, 0);
        return true;
    case X86_STI:
        gen_helper(dc, &hlp_sti, 0, 0, 0, 0);
        gen_end_block(dc);
        return true;
    case X86_IN:
    case X86_OUT: {
        int n = insn->datasize;
        bool in = insn->mnem == X86_IN;
        const X86Operand *po = in ? o1 : o0;
        IrVar port = po->kind == OPK_IMM ? tcg_const(dc, po->imm & 0xff) : gen_get_reg(dc, R_EDX, 2);
        gen_sync_cc_op(dc);
        if (in) {
            IrVar v = tcg_temp(dc);
            gen_helper(dc, &hlp_in, v, port, tcg_const(dc, n), 0);
            gen_set_reg(dc, R_EAX, n, v);
        } else {
            gen_helper(dc, &hlp_out, 0, port, tcg_const(dc, n), gen_get_reg(dc, R_EAX, n));
        }
        gen_end_block(dc);
        return true;
    }
    case X86_LAR:
    case X86_LSL:
    case X86_VERR:
    case X86_VERW: {
        if (!pm_only(dc)) return true;
        int kind = insn->mnem == X86_LAR ? 0 : insn->mnem == X86_LSL ? 1
                   : insn->mnem == X86_VERR ? 2 : 3;
        bool has_dest = kind < 2;
        IrVar sel = gen_operand(dc, has_dest ? o1 : o0);
        IrVar old = has_dest ? gen_get_reg(dc, o0->reg, size) : tcg_const(dc, 0);
        gen_sync_cc_op(dc);
        IrVar t = tcg_temp(dc);
        gen_helper(dc, &hlp_desc_check, t, sel, tcg_const(dc, kind), old);
        dc->cc_op = CC_OP_EFLAGS;
        if (has_dest) gen_set_reg(dc, o0->reg, size, t);
        return true;
    }
    case X86_ARPL: {
        if (!pm_only(dc)) return true;
        Loc l = gen_loc(dc, o0, true);
        IrVar d = gen_read(dc, &l);
        IrVar s = gen_get_reg(dc, o1->reg, 2);
        IrVar drpl = tcg_temp(dc), srpl = tcg_temp(dc), adj = tcg_temp(dc);
        ir_andi(b, drpl, d, 3);
        ir_andi(b, srpl, s, 3);
        ir_setcond(b, IRC_LTU, adj, drpl, srpl);
        int skip = ir_new_label(b);
        IrVar nd = tcg_temp(dc);
        ir_andi(b, nd, d, 0xfffc);
        ir_or(b, nd, nd, srpl);
        IrVar f = gen_compute_eflags(dc);
        IrVar nf = tcg_temp(dc), z = tcg_temp(dc);
        ir_andi(b, nf, f, CC_MASK & ~ZF_MASK);
        ir_shli(b, z, adj, 6);
        ir_or(b, nf, nf, z);
        ir_brcond(b, IRC_EQ, adj, tcg_const(dc, 0), skip);
        gen_write(dc, &l, nd);
        ir_label(b, skip);
        gen_set_cc(dc, CC_OP_EFLAGS, 0, nf, 0);
        return true;
    }
    case X86_SYSENTER:
    case X86_SYSEXIT:
        gen_sync_cc_op(dc);
        gen_helper(dc, insn->mnem == X86_SYSENTER ? &hlp_sysenter : &hlp_sysexit, 0, 0, 0, 0);
        dc->cc_op = CC_OP_DYNAMIC;
        ir_exit_lookup(b);
        dc->end = DISAS_END;
        return true;
    case X86_UD2:
    case X86_RSM:
        gen_exception(dc, EXCP_UD, 0);
        return true;
    default: return false;
    }
}
