/* IR optimiser: forward constant folding and copy propagation within straight-line regions,
 * then liveness-based dead-code elimination over the block's control flow. Guest globals are
 * live wherever the guest can observe them: at block exits and at every op that may fault
 * (precise exceptions), so only stores overwritten before such a point die — which is what
 * removes unused lazy-flag computations. */
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "util/alloc.h"

/* ---- forward pass ---- */

typedef struct FwdInfo {
    IrVar copy_of;    /* replacement variable, or 0 */
    uint32_t copy_ver; /* version of copy_of when recorded */
} FwdInfo;

typedef struct Fwd {
    IrBlock *b;
    FwdInfo *info;
    uint32_t *ver; /* per variable: bumped on every definition */
} Fwd;

static void fwd_reset(Fwd *f)
{
    for (int i = 0; i < f->b->nvars; i++) f->info[i].copy_of = 0;
}


static IrVar fwd_resolve(Fwd *f, IrVar v)
{
    if (!v) return v;
    FwdInfo *fi = &f->info[v];
    if (fi->copy_of && f->ver[fi->copy_of] == fi->copy_ver) return fi->copy_of;
    return v;
}

static void fwd_define(Fwd *f, IrVar d)
{
    f->ver[d]++;
    f->info[d].copy_of = 0;
}

static void fwd_record_copy(Fwd *f, IrVar d, IrVar src)
{
    if (d == src) return;
    f->info[d].copy_of = src;
    f->info[d].copy_ver = f->ver[src];
}

static IrCond swap_cond(IrCond c)
{
    switch (c) {
    case IRC_LTU: return IRC_GTU;
    case IRC_GTU: return IRC_LTU;
    case IRC_LEU: return IRC_GEU;
    case IRC_GEU: return IRC_LEU;
    case IRC_LT: return IRC_GT;
    case IRC_GT: return IRC_LT;
    case IRC_LE: return IRC_GE;
    case IRC_GE: return IRC_LE;
    default: return c;
    }
}

static bool is_commutative(unsigned opc)
{
    return opc == IR_ADD || opc == IR_MUL || opc == IR_AND || opc == IR_OR || opc == IR_XOR ||
           opc == IR_MULHU || opc == IR_MULHS || opc == IR_MULSO;
}

static bool opc_reads_c(const IrOp *op) { return op->opc == IR_DIVU2; }

static void make_mov(IrBlock *b, IrOp *op, IrVar src)
{
    IrVar d = op->d;
    *op = (IrOp){.opc = IR_MOV, .d = d, .a = src};
}

static void fold_op(Fwd *f, IrOp *op)
{
    IrBlock *b = f->b;
    bool ca = op->a && ir_is_const(b, op->a);
    bool cb = op->b && ir_is_const(b, op->b);
    uint32_t va = ca ? ir_const_value(b, op->a) : 0, vb = cb ? ir_const_value(b, op->b) : 0;

    switch (op->opc) {
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_MULHU: case IR_MULHS: case IR_AND:
    case IR_OR: case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
    case IR_MULSO:
        if (ca && cb) {
            make_mov(b, op, ir_const(b, ir_eval_binop(op->opc, va, vb)));
            return;
        }
        if (ca && is_commutative(op->opc)) {
            IrVar t = op->a;
            op->a = op->b, op->b = t;
            cb = true, vb = va, ca = false;
        }
        if (!cb) {
            if (op->a == op->b && (op->opc == IR_SUB || op->opc == IR_XOR))
                make_mov(b, op, ir_const(b, 0));
            else if (op->a == op->b && (op->opc == IR_AND || op->opc == IR_OR))
                make_mov(b, op, op->a); /* TEST r, r */
            return;
        }
        switch (op->opc) {
        case IR_ADD: case IR_SUB: case IR_OR: case IR_XOR:
            if (vb == 0) make_mov(b, op, op->a);
            break;
        case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
            if ((vb & 31) == 0) make_mov(b, op, op->a);
            break;
        case IR_AND:
            if (vb == 0) make_mov(b, op, ir_const(b, 0));
            else if (vb == 0xffffffffu) make_mov(b, op, op->a);
            break;
        case IR_MUL:
            if (vb == 0) make_mov(b, op, ir_const(b, 0));
            else if (vb == 1) make_mov(b, op, op->a);
            break;
        default: break;
        }
        return;
    case IR_NEG: case IR_NOT: case IR_SEXT8: case IR_SEXT16: case IR_ZEXT8: case IR_ZEXT16:
    case IR_BSWAP: case IR_EXTRACT:
        if (ca) make_mov(b, op, ir_const(b, ir_eval_unop(op->opc, va, op->imm)));
        return;
    case IR_DIVU2: case IR_DIVS: {
        bool cc = opc_reads_c(op) ? op->c && ir_is_const(b, op->c) : true;
        uint32_t vc = op->opc == IR_DIVU2 && cc ? ir_const_value(b, op->c) : 0, q;
        if (ca && cb && cc && ir_eval_div(op->opc, va, vb, vc, &q)) make_mov(b, op, ir_const(b, q));
        return;
    }
    case IR_CTZ: case IR_CLZ:
        if (ca && va) make_mov(b, op, ir_const(b, ir_eval_unop(op->opc, va, 0)));
        return;
    case IR_DEPOSIT:
        if (ca && cb) {
            unsigned pos = op->imm & 0xff, len = op->imm >> 8;
            uint32_t m = (len >= 32 ? 0xffffffffu : (1u << len) - 1) << pos;
            make_mov(b, op, ir_const(b, (va & ~m) | ((vb << pos) & m)));
        }
        return;
    case IR_SETCOND:
        if (ca && cb) {
            make_mov(b, op, ir_const(b, ir_eval_cond(op->cond, va, vb)));
        } else if (ca) {
            IrVar t = op->a;
            op->a = op->b, op->b = t;
            op->cond = swap_cond(op->cond);
        }
        return;
    case IR_MOVCOND:
        if (ca && cb) {
            if (ir_eval_cond(op->cond, va, vb))
                make_mov(b, op, op->c);
            else
                *op = (IrOp){.opc = IR_NOP};
        }
        return;
    case IR_BRCOND:
        if (ca && cb) {
            if (ir_eval_cond(op->cond, va, vb)) {
                uint32_t label = op->imm;
                *op = (IrOp){.opc = IR_BR, .imm = label};
            } else {
                *op = (IrOp){.opc = IR_NOP};
            }
        } else if (ca) {
            IrVar t = op->a;
            op->a = op->b, op->b = t;
            op->cond = swap_cond(op->cond);
        }
        return;
    default: return;
    }
}

static void forward_pass(IrBlock *b)
{
    /* Folding creates constants: each op adds at most one new variable. */
    size_t cap = (size_t)b->nvars + b->nops + 16;
    Fwd f = {b, xzalloc(sizeof(FwdInfo) * cap), xzalloc(sizeof(uint32_t) * cap)};
    for (int i = 0; i < b->nops; i++) {
        IrOp *op = &b->ops[i];
        if (op->opc == IR_LABEL) {
            fwd_reset(&f);
            continue;
        }
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(op, in, &nin, &def);
        /* Substitute inputs with what they are known to equal. MOVCOND's d is read, but it is
         * also the destination, so it is never substituted. */
        if (nin > 0) op->a = fwd_resolve(&f, op->a);
        if (nin > 1) op->b = fwd_resolve(&f, op->b);
        if (nin > 2) op->c = fwd_resolve(&f, op->c);
        fold_op(&f, op);
        ir_op_uses(op, in, &nin, &def);
        if (op->opc == IR_CALL) {
            const IrHelper *h = b->helpers[op->imm];
            if (!(h->flags & IRH_NO_WRITE_G)) {
                /* The helper may have changed any global: forget copies of globals. */
                for (int g = 1; g <= b->nglobals; g++) fwd_define(&f, (IrVar)g);
            }
        }
        if (def) {
            fwd_define(&f, op->d);
            if (op->opc == IR_MOV) {
                /* A register-like global is not replaced by the temporary it was set from
                 * (the other direction below applies). */
                if (!(ir_is_global(b, op->d) && ir_is_temp(b, op->a) &&
                      (b->globals[op->d - 1].flags & IRG_REG)))
                    fwd_record_copy(&f, op->d, op->a);
                /* After "mov G, t", t also equals G: later uses of t may read G instead, which
                 * often leaves the mov as t's only use (see coalesce_pass). */
                if (ir_is_global(b, op->d) && ir_is_temp(b, op->a))
                    fwd_record_copy(&f, op->a, op->d);
            }
        }
    }
    free(f.info);
    free(f.ver);
}

/* ---- liveness and dead-code elimination ---- */

typedef uint64_t Word;

typedef struct Live {
    int nwords;
    Word *cur;
    Word *globals;   /* mask of all globals */
    Word *label_in;  /* nlabels x nwords */
} Live;

static inline void bs_set(Word *s, IrVar v) { s[v / 64] |= (Word)1 << (v % 64); }
static inline void bs_clr(Word *s, IrVar v) { s[v / 64] &= ~((Word)1 << (v % 64)); }
static inline bool bs_get(const Word *s, IrVar v) { return (s[v / 64] >> (v % 64)) & 1; }

static void bs_or(Word *d, const Word *s, int n)
{
    for (int i = 0; i < n; i++) d[i] |= s[i];
}

/* One backward sweep. With remove set, dead ops become NOPs. Returns true if any label's
 * live-in set changed. */
static bool live_sweep(IrBlock *b, Live *L, bool remove)
{
    bool changed = false;
    int n = L->nwords;
    memset(L->cur, 0, sizeof(Word) * n);
    for (int i = b->nops - 1; i >= 0; i--) {
        IrOp *op = &b->ops[i];
        switch (op->opc) {
        case IR_NOP:
        case IR_INSN_START: continue;
        case IR_GOTO_TB:
        case IR_EXIT:
        case IR_EXIT_LOOKUP:
            memcpy(L->cur, L->globals, sizeof(Word) * n);
            continue;
        case IR_LABEL: {
            Word *in = &L->label_in[op->imm * n];
            for (int k = 0; k < n; k++) {
                Word v = in[k] | L->cur[k];
                if (v != in[k]) changed = true;
                in[k] = v;
            }
            continue;
        }
        case IR_BR:
            memcpy(L->cur, &L->label_in[op->imm * n], sizeof(Word) * n);
            continue;
        case IR_BRCOND:
            bs_or(L->cur, &L->label_in[op->imm * n], n);
            break;
        default: break;
        }
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(op, in, &nin, &def);
        if (def && !bs_get(L->cur, op->d) && !ir_op_has_side_effects(b, op)) {
            if (remove) *op = (IrOp){.opc = IR_NOP};
            continue;
        }
        if (def && op->opc != IR_MOVCOND) bs_clr(L->cur, op->d);
        if (op->opc == IR_MOVCOND) bs_set(L->cur, op->d);
        for (int k = 0; k < nin; k++)
            if (in[k] && !ir_is_const(b, in[k])) bs_set(L->cur, in[k]);
        if (ir_op_may_fault(b, op)) bs_or(L->cur, L->globals, n);
        if (op->opc == IR_CALL && !(b->helpers[op->imm]->flags & IRH_NO_READ_G))
            bs_or(L->cur, L->globals, n);
    }
    return changed;
}

static void dce_pass(IrBlock *b)
{
    Live L;
    L.nwords = (b->nvars + 63) / 64;
    L.cur = xzalloc(sizeof(Word) * L.nwords);
    L.globals = xzalloc(sizeof(Word) * L.nwords);
    L.label_in = xzalloc(sizeof(Word) * L.nwords * (b->nlabels ? b->nlabels : 1));
    for (int g = 1; g <= b->nglobals; g++) bs_set(L.globals, (IrVar)g);
    /* Iterate to a fixed point for backward branches, then remove. */
    for (int iter = 0; iter < 8 && live_sweep(b, &L, false); iter++) {}
    live_sweep(b, &L, true);
    free(L.cur);
    free(L.globals);
    free(L.label_in);
}

static void compact(IrBlock *b)
{
    int j = 0;
    for (int i = 0; i < b->nops; i++)
        if (b->ops[i].opc != IR_NOP) b->ops[j++] = b->ops[i];
    b->nops = j;
}

/* "t = op ...; mov G, t" with no other use of t becomes "G = op ...". Only when the two ops
 * are adjacent within one guest instruction, so no fault point moves relative to the write. */
static void coalesce_pass(IrBlock *b)
{
    uint16_t *uses = xzalloc(sizeof(uint16_t) * b->nvars);
    for (int i = 0; i < b->nops; i++) {
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(&b->ops[i], in, &nin, &def);
        for (int k = 0; k < nin; k++)
            if (in[k] && uses[in[k]] < 0xffff) uses[in[k]]++;
        if (b->ops[i].opc == IR_MOVCOND && uses[b->ops[i].d] < 0xffff) uses[b->ops[i].d]++;
    }
    for (int i = 1; i < b->nops; i++) {
        IrOp *mv = &b->ops[i], *defop = &b->ops[i - 1];
        if (mv->opc != IR_MOV || !ir_is_global(b, mv->d) || !ir_is_temp(b, mv->a)) continue;
        if (uses[mv->a] != 1) continue;
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(defop, in, &nin, &def);
        if (!def || defop->d != mv->a || defop->opc == IR_MOVCOND || defop->opc == IR_CALL)
            continue;
        defop->d = mv->d;
        *mv = (IrOp){.opc = IR_NOP};
    }
    free(uses);
}

void ir_optimize(IrBlock *b)
{
    forward_pass(b);
    dce_pass(b);
    compact(b);
    coalesce_pass(b);
    compact(b);
}
