/* Translation of x87 instructions, WAIT/FWAIT and FXSAVE/FXRSTOR into calls of the FPU helpers
 * (SDM vol. 2 instruction pages; #NM from CR0.EM/TS/MP as in vol. 3, 2.5 and table 2-2). */
#include "cpu/x86/fpu.h"
#include "cpu/x86/translate.h"

/* Size and direction of the memory access of an x87 memory form. */
static unsigned fpu_mem_size(const X86Insn *in, bool *write)
{
    unsigned env = in->opsize == 4 ? 28 : 14;
    *write = false;
    switch (in->fop) {
    case F_LDENV: return env;
    case F_RSTOR: return env + 80;
    case F_NSTENV: *write = true; return env;
    case F_NSAVE: *write = true; return env + 80;
    case F_ST:
    case F_STP:
    case F_IST:
    case F_ISTP:
    case F_ISTTP:
    case F_BSTP:
    case F_NSTCW:
    case F_NSTSW: *write = true; return in->op[0].size;
    default: return in->op[0].size;
    }
}

static bool fpu_writes_eflags(unsigned fop)
{
    return fop == F_COMI || fop == F_COMIP || fop == F_UCOMI || fop == F_UCOMIP;
}

static bool fpu_reads_eflags(unsigned fop)
{
    return fop >= F_CMOVB && fop <= F_CMOVNU;
}

static IrVar fpu_operand_lin(DisasContext *dc, unsigned size, bool write)
{
    const X86Operand *o = &dc->insn.op[0];
    return gen_lin(dc, o->seg, gen_ea(dc, o), size, write);
}

bool translate_x87(DisasContext *dc)
{
    const X86Insn *in = &dc->insn;
    switch (in->mnem) {
    case X86_WAIT:
        /* WAIT ignores EM; with MP and TS it lets the OS switch the FPU context lazily. */
        if ((dc->flags & (HF_TS | HF_MP)) == (HF_TS | HF_MP)) {
            gen_exception(dc, EXCP_NM, 0);
            return true;
        }
        gen_helper(dc, &hlp_fwait, 0, 0, 0, 0);
        return true;
    case X86_FXSAVE:
    case X86_FXRSTOR: {
        if (dc->flags & (HF_TS | HF_EM)) {
            gen_exception(dc, EXCP_NM, 0);
            return true;
        }
        bool save = in->mnem == X86_FXSAVE;
        IrVar lin = fpu_operand_lin(dc, 512, save);
        gen_helper(dc, save ? &hlp_fxsave : &hlp_fxrstor, 0, lin, tcg_const(dc, dc->mem_idx), 0);
        return true;
    }
    case X86_FPU: break;
    default: return false;
    }

    if (dc->flags & (HF_TS | HF_EM)) {
        gen_exception(dc, EXCP_NM, 0);
        return true;
    }
    bool mem = in->nops == 1 && in->op[0].kind == OPK_MEM;
    IrVar lin;
    if (mem) {
        bool write;
        unsigned size = fpu_mem_size(in, &write);
        lin = fpu_operand_lin(dc, size, write);
    } else {
        lin = tcg_const(dc, 0);
    }
    uint32_t desc = x86_fpu_insn_desc(in, dc->mem_idx);
    bool flags_out = fpu_writes_eflags(in->fop);
    /* The helper reads EFLAGS through the lazy state (FCMOVcc) or may leave it untouched after
     * an unmasked exception (FCOMI): either way env->cc_op must be current. */
    if (flags_out || fpu_reads_eflags(in->fop)) gen_sync_cc_op(dc);
    /* Most x87 instructions touch only the FPU state: the back ends need not reload guest
     * registers after them. FNSTSW AX, FCOMI and FCMOVcc use the general state. */
    bool touches_globals = flags_out || fpu_reads_eflags(in->fop) || in->fop == F_NSTSW_AX;
    gen_helper(dc, touches_globals ? &hlp_fpu : &hlp_fpu_local, 0, lin, tcg_const(dc, desc),
               tcg_const(dc, dc->pc));
    if (flags_out) dc->cc_op = CC_OP_DYNAMIC;
    return true;
}
