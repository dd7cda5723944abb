/* x86 -> IR translation driver: instruction fetch across pages, the per-block loop, operand
 * addressing with segment checks, lazy flags and condition evaluation, block exits. */
#include <string.h>

#include "backend/backend.h"
#include "cpu/x86/translate.h"
#include "debug/backdoor.h"
#include "exec/softmmu_slow.h"
#include "util/log.h"

/* ---- IR globals: the CPU state slots translated code reads and writes ---- */

enum {
    G_EAX, G_ECX, G_EDX, G_EBX, G_ESP, G_EBP, G_ESI, G_EDI,
    G_EIP, G_CC_OP, G_CC_DST, G_CC_SRC, G_CC_SRC2, G_EFLAGS, G_DF, G_CS_LIMIT,
    G_SEG_BASE, /* 6 */
    G_BOUNDS = G_SEG_BASE + 6, /* 6 x (rlo, rhi, wlo, whi) */
    G_COUNT = G_BOUNDS + 24
};

static IrGlobalDesc globals[G_COUNT];

static void init_globals(void)
{
    static const char *const regs[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *const segs[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
    static char names[6][5][16];
    if (globals[0].name) return;
    for (int i = 0; i < 8; i++) globals[G_EAX + i] = (IrGlobalDesc){regs[i], X86_SLOT(regs[i]), IRG_REG};
    globals[G_EIP] = (IrGlobalDesc){"eip", X86_SLOT(eip)};
    globals[G_CC_OP] = (IrGlobalDesc){"cc_op", X86_SLOT(cc_op)};
    globals[G_CC_DST] = (IrGlobalDesc){"cc_dst", X86_SLOT(cc_dst)};
    globals[G_CC_SRC] = (IrGlobalDesc){"cc_src", X86_SLOT(cc_src)};
    globals[G_CC_SRC2] = (IrGlobalDesc){"cc_src2", X86_SLOT(cc_src2)};
    globals[G_EFLAGS] = (IrGlobalDesc){"eflags", X86_SLOT(eflags)};
    globals[G_DF] = (IrGlobalDesc){"df", X86_SLOT(df)};
    globals[G_CS_LIMIT] = (IrGlobalDesc){"cs_limit", X86_SLOT(cs_limit)};
    for (int s = 0; s < 6; s++) {
        snprintf(names[s][0], 16, "%s_base", segs[s]);
        snprintf(names[s][1], 16, "%s_rlo", segs[s]);
        snprintf(names[s][2], 16, "%s_rhi", segs[s]);
        snprintf(names[s][3], 16, "%s_wlo", segs[s]);
        snprintf(names[s][4], 16, "%s_whi", segs[s]);
        globals[G_SEG_BASE + s] = (IrGlobalDesc){names[s][0], X86_SLOT(seg_base[s])};
        globals[G_BOUNDS + 4 * s + 0] = (IrGlobalDesc){names[s][1], X86_SLOT(seg_bounds[s].rlo)};
        globals[G_BOUNDS + 4 * s + 1] = (IrGlobalDesc){names[s][2], X86_SLOT(seg_bounds[s].rhi)};
        globals[G_BOUNDS + 4 * s + 2] = (IrGlobalDesc){names[s][3], X86_SLOT(seg_bounds[s].wlo)};
        globals[G_BOUNDS + 4 * s + 3] = (IrGlobalDesc){names[s][4], X86_SLOT(seg_bounds[s].whi)};
    }
}

/* ---- small helpers ---- */

IrVar tcg_temp(DisasContext *dc) { return ir_temp(dc->b); }
IrVar tcg_const(DisasContext *dc, uint32_t v) { return ir_const(dc->b, v); }

static uint32_t size_mask(int size) { return size == 1 ? 0xff : size == 2 ? 0xffff : 0xffffffffu; }

uint32_t mask_ip(DisasContext *dc, uint32_t eip)
{
    return dc->insn.opsize == 2 ? eip & 0xffff : eip;
}

void gen_helper(DisasContext *dc, const IrHelper *h, IrVar d, IrVar a, IrVar b, IrVar c)
{
    ir_call(dc->b, h, d, a, b, c);
}

IrVar gen_ext(DisasContext *dc, IrVar v, int size, bool sign)
{
    if (size == 4) return v;
    IrVar t = tcg_temp(dc);
    if (size == 1) ir_unop(dc->b, sign ? IR_SEXT8 : IR_ZEXT8, t, v);
    else ir_unop(dc->b, sign ? IR_SEXT16 : IR_ZEXT16, t, v);
    return t;
}

/* ---- registers ---- */

IrVar gen_get_reg(DisasContext *dc, int reg, int size)
{
    if (size == 4) return dc->R[reg];
    IrVar t = tcg_temp(dc);
    if (size == 2) {
        ir_unop(dc->b, IR_ZEXT16, t, dc->R[reg]);
    } else if (reg < 4) {
        ir_unop(dc->b, IR_ZEXT8, t, dc->R[reg]);
    } else {
        ir_extract(dc->b, t, dc->R[reg - 4], 8, 8);
    }
    return t;
}

void gen_set_reg(DisasContext *dc, int reg, int size, IrVar v)
{
    if (size == 4) {
        ir_mov(dc->b, dc->R[reg], v);
    } else if (size == 2) {
        ir_deposit(dc->b, dc->R[reg], dc->R[reg], v, 0, 16);
    } else if (reg < 4) {
        ir_deposit(dc->b, dc->R[reg], dc->R[reg], v, 0, 8);
    } else {
        ir_deposit(dc->b, dc->R[reg - 4], dc->R[reg - 4], v, 8, 8);
    }
}

/* ---- memory operands ---- */

IrVar gen_ea(DisasContext *dc, const X86Operand *o)
{
    IrBlock *b = dc->b;
    IrVar acc = 0;
    if (o->base >= 0) acc = dc->R[o->base];
    if (o->index >= 0) {
        IrVar idx = dc->R[o->index];
        if (o->scale) {
            IrVar t = tcg_temp(dc);
            ir_shli(b, t, idx, o->scale);
            idx = t;
        }
        if (acc) {
            IrVar t = tcg_temp(dc);
            ir_add(b, t, acc, idx);
            acc = t;
        } else {
            acc = idx;
        }
    }
    if (!acc) {
        uint32_t d = dc->insn.addrsize == 2 ? o->disp & 0xffff : o->disp;
        return tcg_const(dc, d);
    }
    if (o->disp) {
        IrVar t = tcg_temp(dc);
        ir_addi(b, t, acc, o->disp);
        acc = t;
    }
    if (dc->insn.addrsize == 2) {
        IrVar t = tcg_temp(dc);
        ir_andi(b, t, acc, 0xffff);
        acc = t;
    }
    return acc;
}

IrVar gen_lin(DisasContext *dc, int seg, IrVar off, unsigned size, bool write)
{
    if (dc->flat && (seg == R_DS || seg == R_ES || seg == R_SS)) return off;
    ir_chkrange(dc->b, off, write ? dc->wlo[seg] : dc->rlo[seg], write ? dc->whi[seg] : dc->rhi[seg],
                size ? size : 1, seg == R_SS ? EXCP_SS : EXCP_GP);
    IrVar t = tcg_temp(dc);
    ir_add(dc->b, t, off, dc->seg_base[seg]);
    return t;
}

/* #AC(0) for a misaligned access when alignment checking is on (CPL 3, CR0.AM, EFLAGS.AC). */
static void gen_check_align(DisasContext *dc, IrVar lin, unsigned size)
{
    if (!(dc->flags & HF_AC) || size < 2) return;
    int ok = ir_new_label(dc->b);
    IrVar t = tcg_temp(dc);
    ir_andi(dc->b, t, lin, size - 1);
    ir_brcond(dc->b, IRC_EQ, t, tcg_const(dc, 0), ok);
    gen_sync_cc_op(dc);
    gen_helper(dc, &hlp_raise, 0, tcg_const(dc, EXCP_AC), tcg_const(dc, 0), 0);
    ir_label(dc->b, ok);
}

IrVar gen_ld(DisasContext *dc, IrVar lin, unsigned size, bool sign)
{
    gen_check_align(dc, lin, size);
    IrVar t = tcg_temp(dc);
    ir_ld(dc->b, t, lin, size, sign, dc->mem_idx);
    return t;
}

void gen_st(DisasContext *dc, IrVar lin, IrVar val, unsigned size)
{
    gen_check_align(dc, lin, size);
    ir_st(dc->b, lin, val, size, dc->mem_idx);
}

Loc gen_loc(DisasContext *dc, const X86Operand *o, bool write)
{
    Loc l = {.size = o->size};
    if (o->kind == OPK_REG) {
        l.reg = o->reg;
        return l;
    }
    l.mem = true;
    l.lin = gen_lin(dc, o->seg, gen_ea(dc, o), o->size, write);
    return l;
}

IrVar gen_read(DisasContext *dc, const Loc *l)
{
    if (!l->mem) return gen_get_reg(dc, l->reg, l->size);
    return gen_ld(dc, l->lin, l->size, false);
}

IrVar gen_read_sext(DisasContext *dc, const Loc *l)
{
    if (!l->mem) return gen_ext(dc, gen_get_reg(dc, l->reg, l->size), l->size, true);
    return gen_ld(dc, l->lin, l->size, true);
}

void gen_write(DisasContext *dc, const Loc *l, IrVar v)
{
    if (!l->mem)
        gen_set_reg(dc, l->reg, l->size, v);
    else
        gen_st(dc, l->lin, v, l->size);
}

IrVar gen_operand(DisasContext *dc, const X86Operand *o)
{
    switch (o->kind) {
    case OPK_IMM: return tcg_const(dc, o->imm & size_mask(o->size ? o->size : 4));
    case OPK_REG: return gen_get_reg(dc, o->reg, o->size);
    case OPK_MEM: {
        Loc l = gen_loc(dc, o, false);
        return gen_read(dc, &l);
    }
    default: return tcg_const(dc, 0);
    }
}

/* ---- stack ---- */

IrVar gen_stack_lin(DisasContext *dc, IrVar sp_off, unsigned size, bool write)
{
    return gen_lin(dc, R_SS, sp_off, size, write);
}

void gen_push(DisasContext *dc, IrVar v, int size)
{
    IrBlock *b = dc->b;
    IrVar nsp = tcg_temp(dc);
    ir_addi(b, nsp, dc->R[R_ESP], (uint32_t)-size);
    if (!dc->ss32) ir_andi(b, nsp, nsp, 0xffff);
    IrVar lin = gen_stack_lin(dc, nsp, size, true);
    gen_st(dc, lin, v, size);
    if (dc->ss32)
        ir_mov(b, dc->R[R_ESP], nsp);
    else
        ir_deposit(b, dc->R[R_ESP], dc->R[R_ESP], nsp, 0, 16);
}

IrVar gen_pop_peek(DisasContext *dc, int size, int offset)
{
    IrBlock *b = dc->b;
    IrVar sp = dc->R[R_ESP];
    if (offset || !dc->ss32) {
        IrVar t = tcg_temp(dc);
        ir_addi(b, t, sp, offset);
        if (!dc->ss32) ir_andi(b, t, t, 0xffff);
        sp = t;
    }
    IrVar lin = gen_stack_lin(dc, sp, size, false);
    return gen_ld(dc, lin, size, false);
}

void gen_add_esp(DisasContext *dc, int delta)
{
    IrBlock *b = dc->b;
    if (dc->ss32) {
        ir_addi(b, dc->R[R_ESP], dc->R[R_ESP], delta);
    } else {
        IrVar t = tcg_temp(dc);
        ir_addi(b, t, dc->R[R_ESP], delta);
        ir_deposit(b, dc->R[R_ESP], dc->R[R_ESP], t, 0, 16);
    }
}

/* ---- lazy flags ---- */

void gen_set_cc(DisasContext *dc, int cc_op, IrVar dst, IrVar src, IrVar src2)
{
    IrBlock *b = dc->b;
    if (dst) ir_mov(b, dc->cc_dst, dst);
    if (src) ir_mov(b, dc->cc_src, src);
    if (src2) ir_mov(b, dc->cc_src2, src2);
    dc->cc_op = cc_op;
    dc->cc_srcT = 0;
}

void gen_sync_cc_op(DisasContext *dc)
{
    if (dc->cc_op != CC_OP_DYNAMIC) ir_movi(dc->b, dc->g_cc_op, dc->cc_op);
}

/* At an instruction boundary with a static lazy-flags op, the globals that op does not read
 * are dead until written again (nothing observes them: flag readers and fault recovery go
 * through the op), so stores to them left over from earlier instructions can be removed. */
static void gen_discard_unused_cc(DisasContext *dc)
{
    int op = dc->cc_op;
    if (op == CC_OP_DYNAMIC || op == dc->cc_discarded) return;
    dc->cc_discarded = op;
    bool logic = op >= CC_OP_LOGICB && op <= CC_OP_LOGICL;
    bool carry = (op >= CC_OP_ADCB && op <= CC_OP_ADCL) || (op >= CC_OP_SBBB && op <= CC_OP_SBBL) ||
                 (op >= CC_OP_SHRB && op <= CC_OP_SHRL);
    if (op == CC_OP_EFLAGS) ir_discard(dc->b, dc->cc_dst);
    if (logic) ir_discard(dc->b, dc->cc_src);
    if (!carry) ir_discard(dc->b, dc->cc_src2);
}

IrVar gen_compute_eflags(DisasContext *dc)
{
    IrVar t = tcg_temp(dc);
    if (dc->cc_op == CC_OP_EFLAGS) {
        ir_andi(dc->b, t, dc->cc_src, CC_MASK);
        return t;
    }
    IrVar op = dc->cc_op == CC_OP_DYNAMIC ? dc->g_cc_op : tcg_const(dc, dc->cc_op);
    gen_helper(dc, &hlp_cc_eflags, t, op, 0, 0);
    return t;
}

IrVar gen_compute_cf(DisasContext *dc)
{
    if (dc->cc_op == CC_OP_DYNAMIC) {
        IrVar t = tcg_temp(dc);
        gen_helper(dc, &hlp_cc_cf, t, dc->g_cc_op, 0, 0);
        return t;
    }
    IrCond c;
    IrVar a, bb;
    gen_cond(dc, 2, &c, &a, &bb);
    IrVar t = tcg_temp(dc);
    ir_setcond(dc->b, c, t, a, bb);
    return t;
}

static int cc_kind(int cc_op) { return cc_op < CC_OP_ADDB ? cc_op : CC_OP_ADDB + (cc_op - CC_OP_ADDB) / 3 * 3; }
static int cc_size(int cc_op) { return 1 << ((cc_op - CC_OP_ADDB) % 3); }

/* Condition `cond` (x86 encoding 0-15) as "a c b". */
void gen_cond(DisasContext *dc, int cond, IrCond *c, IrVar *a, IrVar *b)
{
    IrBlock *ir = dc->b;
    bool inv = cond & 1;
    int base = cond & ~1;
    int op = dc->cc_op;
    int kind = op >= CC_OP_ADDB ? cc_kind(op) : op;
    int size = op >= CC_OP_ADDB ? cc_size(op) : 4;
    uint32_t m = size_mask(size), sb = size == 1 ? 0x80 : size == 2 ? 0x8000 : 0x80000000u;
    bool done = false;

    switch (kind) {
    case CC_OP_SUBB: {
        IrVar s1 = dc->cc_srcT;
        if (!s1) {
            s1 = tcg_temp(dc);
            ir_add(ir, s1, dc->cc_dst, dc->cc_src);
            if (size < 4) ir_andi(ir, s1, s1, m);
        }
        switch (base) {
        case 2: *c = IRC_LTU, *a = s1, *b = dc->cc_src, done = true; break;
        case 6: *c = IRC_LEU, *a = s1, *b = dc->cc_src, done = true; break;
        case 12:
        case 14:
            *c = base == 12 ? IRC_LT : IRC_LE;
            *a = gen_ext(dc, s1, size, true);
            *b = gen_ext(dc, dc->cc_src, size, true);
            done = true;
            break;
        }
        break;
    }
    case CC_OP_LOGICB:
        switch (base) {
        case 0: /* OF = 0 */
        case 2: /* CF = 0 */
            *c = IRC_NE, *a = tcg_const(dc, 0), *b = tcg_const(dc, 0), done = true;
            break;
        case 6: *c = IRC_TSTEQ, *a = dc->cc_dst, *b = tcg_const(dc, m), done = true; break;
        case 12: *c = IRC_TSTNE, *a = dc->cc_dst, *b = tcg_const(dc, sb), done = true; break;
        case 14:
            *c = IRC_LE, *a = gen_ext(dc, dc->cc_dst, size, true), *b = tcg_const(dc, 0);
            done = true;
            break;
        }
        break;
    case CC_OP_ADDB:
        if (base == 2) {
            IrVar d = dc->cc_dst, s = dc->cc_src;
            if (size < 4) {
                d = tcg_temp(dc), s = tcg_temp(dc);
                ir_andi(ir, d, dc->cc_dst, m);
                ir_andi(ir, s, dc->cc_src, m);
            }
            *c = IRC_LTU, *a = d, *b = s, done = true;
        }
        break;
    case CC_OP_ADCB:
    case CC_OP_SBBB:
        if (base == 2) {
            /* With carry in: ADC carries out iff dst <= src, SBB borrows iff the first operand
             * (dst + src + carry) <= src; without, the strict comparisons (as cc_cf). */
            IrVar d = dc->cc_dst, s = dc->cc_src;
            if (kind == CC_OP_SBBB) {
                d = tcg_temp(dc);
                ir_add(ir, d, dc->cc_dst, dc->cc_src);
                ir_add(ir, d, d, dc->cc_src2);
            }
            if (size < 4) {
                IrVar dm = tcg_temp(dc), sm = tcg_temp(dc);
                ir_andi(ir, dm, d, m);
                ir_andi(ir, sm, s, m);
                d = dm, s = sm;
            }
            IrVar t = tcg_temp(dc), le = tcg_temp(dc);
            ir_setcond(ir, IRC_LTU, t, d, s);
            ir_setcond(ir, IRC_LEU, le, d, s);
            ir_movcond(ir, IRC_NE, t, dc->cc_src2, tcg_const(dc, 0), le);
            *c = IRC_NE, *a = t, *b = tcg_const(dc, 0), done = true;
        }
        break;
    case CC_OP_INCB:
    case CC_OP_DECB:
        if (base == 2) *c = IRC_NE, *a = dc->cc_src, *b = tcg_const(dc, 0), done = true;
        break;
    case CC_OP_SHLB: /* CF is the top bit of operand << (count - 1) */
        if (base == 2) *c = IRC_TSTNE, *a = dc->cc_src, *b = tcg_const(dc, sb), done = true;
        break;
    case CC_OP_SARB:
    case CC_OP_SHRB: /* CF is bit 0 of operand >> (count - 1) */
        if (base == 2) *c = IRC_TSTNE, *a = dc->cc_src, *b = tcg_const(dc, 1), done = true;
        break;
    case CC_OP_EFLAGS: break;
    default: break;
    }
    /* ZF and SF come straight from the result for every arithmetic op except MUL. */
    if (!done && kind >= CC_OP_ADDB && kind != CC_OP_MULB && (base == 4 || base == 8)) {
        *c = base == 4 ? IRC_TSTEQ : IRC_TSTNE;
        *a = dc->cc_dst;
        *b = tcg_const(dc, base == 4 ? m : sb);
        done = true;
    }
    if (!done) {
        /* Generic: materialise the flags and test bits. */
        IrVar f = kind == CC_OP_EFLAGS ? dc->cc_src : gen_compute_eflags(dc);
        static const uint32_t bits[8] = {OF_MASK, CF_MASK, ZF_MASK, CF_MASK | ZF_MASK,
                                         SF_MASK, PF_MASK, 0, 0};
        *c = IRC_TSTNE;
        if (base == 12 || base == 14) {
            IrVar t = tcg_temp(dc);
            ir_shri(ir, t, f, 4);
            ir_xor(ir, t, t, f); /* bit 7 = SF ^ OF, bit 6 = ZF */
            *a = t;
            *b = tcg_const(dc, base == 12 ? 0x80 : 0xc0);
        } else {
            *a = f;
            *b = tcg_const(dc, bits[base / 2]);
        }
    }
    if (inv) *c = ir_invert_cond(*c);
}

IrVar gen_setcc(DisasContext *dc, int cond)
{
    IrCond c;
    IrVar a, b;
    gen_cond(dc, cond, &c, &a, &b);
    IrVar t = tcg_temp(dc);
    ir_setcond(dc->b, c, t, a, b);
    return t;
}

/* ---- control ---- */

static bool same_page(DisasContext *dc, uint32_t target)
{
    return ((dc->cs_base + target) & PAGE_MASK) == ((dc->cs_base + dc->tb->pc) & PAGE_MASK);
}

/* Near branches to a target beyond the CS limit fault at the branch (#GP(0)). */
void gen_check_cs_limit(DisasContext *dc, IrVar target)
{
    if (!(dc->flags & HF_CSLIM))
        ir_chkrange(dc->b, target, tcg_const(dc, 0), dc->cs_limit, 1, EXCP_GP);
}

void gen_jmp(DisasContext *dc, uint32_t target, int slot)
{
    gen_sync_cc_op(dc);
    /* Falling through to the next instruction is checked by its fetch instead. */
    if (target != dc->next_pc) gen_check_cs_limit(dc, tcg_const(dc, target));
    ir_movi(dc->b, dc->eip, target);
    if (dc->flags & HF_TF) {
        gen_helper(dc, &hlp_single_step, 0, tcg_const(dc, target), 0, 0);
        ir_exit(dc->b);
    } else if (same_page(dc, target) && !(dc->tb->cflags & TB_NOCACHE)) {
        ir_goto_tb(dc->b, slot);
    } else if (!(dc->tb->cflags & TB_NOCACHE)) {
        /* Chainable too, by back ends that check the page's translation on the way. */
        ir_goto_tb(dc->b, (unsigned)slot | IR_GOTO_TB_XPAGE);
        dc->tb->xpage_slots |= (uint8_t)(1u << slot);
    } else {
        ir_exit_lookup(dc->b);
    }
    dc->end = DISAS_END;
}

void gen_end_block(DisasContext *dc)
{
    gen_sync_cc_op(dc);
    ir_movi(dc->b, dc->eip, dc->next_pc);
    if (dc->flags & HF_TF) gen_helper(dc, &hlp_single_step, 0, tcg_const(dc, dc->next_pc), 0, 0);
    ir_exit_lookup(dc->b);
    dc->end = DISAS_END;
}

void gen_exception(DisasContext *dc, int vector, uint32_t err)
{
    gen_sync_cc_op(dc);
    gen_helper(dc, &hlp_raise, 0, tcg_const(dc, vector), tcg_const(dc, err), 0);
    ir_exit(dc->b);
    dc->end = DISAS_END;
}

/* ---- the block loop ---- */

typedef struct Fetch {
    const uint8_t *page; /* host pointer of the page holding the current instruction */
    uint32_t page_lin;
    uint32_t phys_page;
} Fetch;

/* Decodes the instruction at dc->pc. Returns the decoder result; *stop is set when the
 * instruction should start a new block instead (it crosses into another page). */
static int fetch_decode(DisasContext *dc, Fetch *f, bool first, bool *stop)
{
    uint32_t lin = dc->cs_base + dc->pc;
    *stop = false;
    if ((lin & PAGE_MASK) != f->page_lin) {
        if (!first) {
            *stop = true;
            return 0;
        }
    }
    uint32_t off = lin & ~PAGE_MASK;
    uint32_t avail = PAGE_SIZE - off;
    uint8_t buf[16];
    unsigned n = avail < 15 ? avail : 15;
    if (f->page) {
        memcpy(buf, f->page + off, n);
    } else {
        for (unsigned i = 0; i < n; i++) buf[i] = as_read(dc->env->mem, f->phys_page + off + i, 1);
    }
    int len = x86_decode(&dc->insn, buf, n, dc->code32);
    if (len != X86_DECODE_NEED_MORE) return len;
    if (!first) {
        *stop = true;
        return 0;
    }
    /* The first instruction crosses into the next page: fetch it (this may fault). */
    uint32_t phys2;
    const uint8_t *p2 = softmmu_code_page(dc->env, (lin & PAGE_MASK) + PAGE_SIZE,
                                          x86_mmu_idx(dc->env), &phys2);
    for (unsigned i = n; i < 15; i++)
        buf[i] = p2 ? p2[i - n] : as_read(dc->env->mem, (phys2 & PAGE_MASK) + i - n, 1);
    dc->tb->phys_page2 = phys2 & PAGE_MASK;
    return x86_decode(&dc->insn, buf, 15, dc->code32);
}

static void translate_insn(DisasContext *dc)
{
    if (translate_alu(dc) || translate_control(dc) || translate_string(dc) ||
        translate_system(dc) || translate_x87(dc))
        return;
    LOG_ONCE(LOG_UNIMP, "unimplemented: instruction %s at %08x", x86_mnem_name(dc->insn.mnem),
             dc->pc);
    gen_exception(dc, EXCP_UD, 0);
}

static IrBlock ir_block;
static bool ir_block_ready;

bool x86_translate_block(CPUX86State *env, TranslationBlock *tb)
{
    init_globals();
    if (!ir_block_ready) {
        ir_block_init(&ir_block, globals, G_COUNT);
        ir_block_ready = true;
    }
    IrBlock *b = &ir_block;
    ir_block_reset(b);

    DisasContext dc_s, *dc = &dc_s;
    memset(dc, 0, sizeof *dc);
    dc->env = env;
    dc->b = b;
    dc->tb = tb;
    dc->cs_base = tb->cs_base;
    dc->flags = tb->flags;
    dc->cpl = tb->flags & HF_CPL_MASK;
    dc->mem_idx = dc->cpl == 3 ? 1 : 0;
    dc->pe = tb->flags & HF_PE;
    dc->vm86 = tb->flags & HF_VM;
    dc->code32 = tb->flags & HF_CS32;
    dc->ss32 = tb->flags & HF_SS32;
    dc->flat = tb->flags & HF_FLAT;
    dc->cc_op = CC_OP_DYNAMIC;
    dc->cc_discarded = CC_OP_DYNAMIC;
    for (int i = 0; i < 8; i++) dc->R[i] = ir_global(b, G_EAX + i);
    dc->eip = ir_global(b, G_EIP);
    dc->g_cc_op = ir_global(b, G_CC_OP);
    dc->cc_dst = ir_global(b, G_CC_DST);
    dc->cc_src = ir_global(b, G_CC_SRC);
    dc->cc_src2 = ir_global(b, G_CC_SRC2);
    dc->eflags = ir_global(b, G_EFLAGS);
    dc->df = ir_global(b, G_DF);
    dc->cs_limit = ir_global(b, G_CS_LIMIT);
    for (int s = 0; s < 6; s++) {
        dc->seg_base[s] = ir_global(b, G_SEG_BASE + s);
        dc->rlo[s] = ir_global(b, G_BOUNDS + 4 * s + 0);
        dc->rhi[s] = ir_global(b, G_BOUNDS + 4 * s + 1);
        dc->wlo[s] = ir_global(b, G_BOUNDS + 4 * s + 2);
        dc->whi[s] = ir_global(b, G_BOUNDS + 4 * s + 3);
    }

    Fetch f;
    uint32_t lin0 = tb->cs_base + tb->pc;
    f.page = softmmu_code_page(env, lin0, dc->mem_idx, &f.phys_page);
    f.page_lin = lin0 & PAGE_MASK;
    f.phys_page &= PAGE_MASK;
    tb->phys_pc = f.phys_page | (lin0 & ~PAGE_MASK);

    int max_insns = (tb->cflags & TB_NOCACHE) || (tb->flags & HF_TF) ? 1 : TB_MAX_INSNS;
    dc->pc = tb->pc;
    int ninsns = 0;
    while (dc->end == DISAS_NEXT) {
        bool stop;
        int len = fetch_decode(dc, &f, ninsns == 0, &stop);
        /* Stay well inside the back ends' limits (temporaries live in X86_TEMP_SLOTS slots); one
         * instruction needs at most a few hundred variables (ENTER with nesting level 31). */
        if (stop || b->nvars - b->nglobals > X86_TEMP_SLOTS - 512 || b->nops > 4000) {
            dc->next_pc = dc->pc;
            gen_jmp(dc, dc->pc, 1);
            break;
        }
        ir_insn_start(b, dc->pc - tb->pc, dc->cc_op);
        gen_discard_unused_cc(dc);
        ninsns++;
        /* Instruction breakpoints fault before the instruction; RF suppresses the first. */
        if ((dc->flags & HF_DBG) && !(ninsns == 1 && (tb->cflags & TB_NOCACHE)))
            gen_helper(dc, &hlp_insn_bp, 0, tcg_const(dc, dc->cs_base + dc->pc), 0, 0);
        if (len < 0) {
            dc->next_pc = dc->pc;
            gen_exception(dc, len == X86_DECODE_TOO_LONG ? EXCP_GP : EXCP_UD, 0);
            break;
        }
        dc->next_pc = dc->pc + len;
        if (!dc->code32) dc->next_pc &= 0xffff;
        /* Instructions must lie within the CS limit. */
        uint32_t cs_limit = env->segs[R_CS].limit;
        if (dc->pc + len - 1 > cs_limit || dc->pc + len - 1 < dc->pc) {
            gen_exception(dc, EXCP_GP, 0);
            break;
        }
        if (LOG_ON(LOG_IR)) {
            char text[96];
            x86_format(&dc->insn, dc->pc, text, sizeof text);
            log_msg("ir: %08x: %s", dc->pc, text);
        }
        if ((tb->cflags & TB_NOCACHE) && ninsns == 1) gen_helper(dc, &hlp_clear_rf, 0, 0, 0, 0);
        if (dc->flags & HF_HIST)
            gen_helper(dc, &hlp_hist_count, 0, tcg_const(dc, dc->insn.mnem), 0, 0);
        translate_insn(dc);
        if (dc->end != DISAS_NEXT) break;
        dc->pc = dc->next_pc;
        if (ninsns >= max_insns) {
            if (dc->flags & HF_TF) {
                gen_end_block(dc);
            } else {
                gen_jmp(dc, dc->pc, 1);
            }
            break;
        }
    }
    tb->icount = ninsns;
    uint32_t end_lin = tb->cs_base + dc->pc;
    (void)end_lin;
    tb->size = (uint16_t)((dc->next_pc - tb->pc) ? (dc->next_pc - tb->pc) : 1);
    if (tb->phys_page2 == UINT32_MAX && ((lin0 & ~PAGE_MASK) + tb->size > PAGE_SIZE))
        tb->size = PAGE_SIZE - (lin0 & ~PAGE_MASK);

    if (LOG_ON(LOG_IR)) {
        log_msg("ir: block %08x before optimisation:", tb->pc);
        ir_dump(b, stderr);
    }
    ir_optimize(b);
    if (LOG_ON(LOG_IR)) {
        log_msg("ir: block %08x after optimisation:", tb->pc);
        ir_dump(b, stderr);
    }
    return env->backend->gen(env->tbs, tb, b);
}
