/* IR -> x86-64 code generation: live ranges of block temporaries and linear-scan allocation to
 * four host registers (spilling to env->tmp), then one pass over the ops emitting host code with
 * guest registers pinned (x64_jit.h), the soft-MMU fast path inline and slow paths out of line,
 * and exits that chain directly (patched jumps) or through the jump cache. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/x86_64/x64_jit.h"

#ifdef BACKEND_HAVE_X86_64

#include "cpu/x86/fpu.h"
#include "cpu/x86/helpers.h"
#include "util/alloc.h"
#include "util/log.h"

_Static_assert(__builtin_offsetof(CPUX86State, regs) == 0, "guest registers are slots 0-7");

enum { L_REG, L_MEM, L_IMM };

/* Where an IR variable lives: a host register, a 32-bit slot at [rbp + disp], or a constant. */
typedef struct Loc {
    uint8_t kind;
    int8_t reg;
    int32_t disp;
    uint32_t imm;
} Loc;

/* An out-of-line piece of code emitted after the body: a memory access slow path, a fault, or
 * lazy flags computed in C. */
enum { COLD_LD, COLD_ST, COLD_RAISE, COLD_CC, COLD_CC_C, COLD_X87 };
typedef struct Cold {
    uint8_t kind, size, sign, mmu, vector;
    uint32_t cc_need;   /* COLD_CC: op in vector, flags wanted */
    bool restore_index; /* LD/ST: recompute RCX = TLB entry offset of a before rejoining */
    bool recheck;       /* LD/ST: the fast path borrowed the previous access's entry; first try
                         * a's own entry (tag field `tag`), rejoining at `hit` */
    uint8_t tag;
    size_t hit;
    size_t jcc[3];      /* rel32 fields that jump here */
    int njcc;
    size_t ret; /* where the slow path continues */
    size_t alt; /* COLD_X87: where it continues when the host cannot take the x87 state */
    Loc a, b, d;
    uint32_t token;
} Cold;

typedef struct Fixup {
    size_t at;
    uint32_t label;
} Fixup;

/* Spill slots: env->tmp[0..3] save the temporary registers around calls, the rest hold spilled
 * temporaries. */
#define SAVE_SLOT(k) (ENV_OFF(tmp) + 4 * (k))
#define SPILL_FIRST  JIT_NTEMPREGS

typedef struct Gen {
    JitState *j;
    X64Buf b;
    const IrBlock *ir;
    TranslationBlock *tb;
    size_t code; /* buffer offset of tb->code */

    /* Per IR variable (temporaries only). */
    int *start, *end; /* live range hull in op indexes; start -1 if unused */
    int8_t *reg;      /* host register, or -1 when spilled */
    int32_t *disp;    /* spill slot displacement */
    uint16_t *uses;   /* number of ops reading it */
    /* Temporaries given each temp register, in order of start, and a cursor for calls. */
    int *reg_list[JIT_NTEMPREGS];
    int reg_count[JIT_NTEMPREGS], reg_cursor[JIT_NTEMPREGS];

    size_t *label_off;
    Fixup *fix;
    int nfix, capfix;
    Cold *cold;
    int ncold, capcold;

    int insn; /* guest instruction of the current op */
    int ninsns;
    uint32_t *insn_pos;
    uint16_t *insn_off;
    uint8_t *insn_aux;
    uint32_t jmp_site[2];
    uint8_t xpage; /* bit n: jmp_site[n] has the IR_GOTO_TB_XPAGE layout */
    IrVar tlb_var;        /* RCX holds the TLB entry offset for this address variable (or 0) */
                          /* (tlb_root below: RCX holds the entry of the last access) */
    IrVar flags_var;      /* the host ZF and SF reflect this variable's value (or 0) */
    IrVar flags_a, flags_b; /* ... and all flags are those of "cmp flags_a, flags_b" (or 0) */
    uint8_t pinned_clean; /* bit i: env->regs[i] equals guest register i's host register */
    bool flags_set;       /* the current op set flags_var */
    uint8_t tlb_mmu;
    /* Addresses known relative to each other: v's value is the value its root variable had
     * when it was rooted, plus rel_off[v] (modulo 2^32), while rel_epoch[v] == epoch (labels
     * and helper calls start a new epoch). tlb_root/tlb_off: the same for the address of the
     * access whose entry RCX holds (with tlb_var). */
    uint32_t *rel_root, *rel_off, *rel_epoch;
    uint32_t epoch, nroots, tlb_root, tlb_off;
    bool has_pending_eip;
    uint32_t pending_eip;
} Gen;

/* ---- live ranges and register allocation ---- */

typedef uint64_t Word;

static inline void bs_set(Word *s, int v)
{
    s[v / 64] |= (Word)1 << (v % 64);
}
static inline void bs_clr(Word *s, int v)
{
    s[v / 64] &= ~((Word)1 << (v % 64));
}

static void extend(Gen *g, int v, int pos)
{
    if (g->start[v] < 0 || pos < g->start[v]) g->start[v] = pos;
    if (pos > g->end[v]) g->end[v] = pos;
}

/* One backward liveness sweep over the temporaries (dense indexes tix[]). With `hull` set the
 * live ranges are recorded. Returns true if a label's live-in set grew. */
static bool live_sweep(Gen *g, const int *tix, const int *tvar, Word *cur, Word *label_in, int nw,
                       bool hull)
{
    const IrBlock *ir = g->ir;
    bool changed = false;
    memset(cur, 0, sizeof(Word) * nw);
    for (int i = ir->nops - 1; i >= 0; i--) {
        const IrOp *op = &ir->ops[i];
        switch (op->opc) {
        case IR_NOP:
        case IR_INSN_START: continue;
        case IR_GOTO_TB:
        case IR_EXIT:
        case IR_EXIT_LOOKUP: memset(cur, 0, sizeof(Word) * nw); continue;
        case IR_LABEL: {
            Word *in = &label_in[(size_t)op->imm * nw];
            for (int k = 0; k < nw; k++) {
                Word v = in[k] | cur[k];
                if (v != in[k]) changed = true;
                in[k] = v;
            }
            break;
        }
        case IR_BR: memcpy(cur, &label_in[(size_t)op->imm * nw], sizeof(Word) * nw); break;
        case IR_BRCOND: {
            const Word *in = &label_in[(size_t)op->imm * nw];
            for (int k = 0; k < nw; k++)
                cur[k] |= in[k];
            break;
        }
        default: break;
        }
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(op, in, &nin, &def);
        if (def && tix[op->d] >= 0) {
            if (hull) extend(g, op->d, i);
            if (op->opc != IR_MOVCOND)
                bs_clr(cur, tix[op->d]);
            else
                bs_set(cur, tix[op->d]);
        }
        for (int k = 0; k < nin; k++)
            if (in[k] && tix[in[k]] >= 0) bs_set(cur, tix[in[k]]);
        if (hull) {
            for (int k = 0; k < nin; k++)
                if (in[k] && g->uses[in[k]] < 0xffff) g->uses[in[k]]++;
            if (op->opc == IR_MOVCOND && g->uses[op->d] < 0xffff) g->uses[op->d]++;
            for (int k = 0; k < nw; k++) {
                for (Word w = cur[k]; w; w &= w - 1)
                    extend(g, tvar[k * 64 + __builtin_ctzll(w)], i);
            }
        }
    }
    return changed;
}

static void compute_ranges(Gen *g)
{
    const IrBlock *ir = g->ir;
    int *tix = xmalloc(sizeof(int) * ir->nvars);
    int *tvar = xmalloc(sizeof(int) * (ir->nvars + 1));
    int nt = 0;
    for (int v = 0; v < ir->nvars; v++) {
        tix[v] = ir->vars[v].kind == IRV_TEMP ? nt : -1;
        if (tix[v] >= 0) tvar[nt++] = v;
    }
    int nw = (nt + 63) / 64;
    if (nw == 0) nw = 1;
    Word *cur = xmalloc(sizeof(Word) * nw);
    Word *label_in = xzalloc(sizeof(Word) * nw * (size_t)(ir->nlabels ? ir->nlabels : 1));
    /* Monotone: converges after at most one sweep per nested backward branch. */
    for (int iter = 0; iter <= ir->nlabels + 1; iter++)
        if (!live_sweep(g, tix, tvar, cur, label_in, nw, false)) break;
    live_sweep(g, tix, tvar, cur, label_in, nw, true);
    free(tix);
    free(tvar);
    free(cur);
    free(label_in);
}

/* True if op `pos` defines v (so v may share a register with an input dying there). */
static bool defined_at(const Gen *g, int v, int pos)
{
    const IrOp *op = &g->ir->ops[pos];
    IrVar in[3];
    int nin;
    bool def;
    ir_op_uses(op, in, &nin, &def);
    return def && op->d == v && op->opc != IR_MOVCOND;
}

/* Linear scan (Poletto & Sarkar): whole live ranges get a register or a spill slot. */
static void allocate(Gen *g)
{
    const IrBlock *ir = g->ir;
    /* Counting sort of the used temporaries by start. */
    int n = 0;
    int *order = xmalloc(sizeof(int) * ir->nvars);
    int *first = xzalloc(sizeof(int) * (ir->nops + 1));
    for (int v = 0; v < ir->nvars; v++)
        if (ir->vars[v].kind == IRV_TEMP && g->start[v] >= 0) first[g->start[v] + 1]++, n++;
    for (int p = 0; p < ir->nops; p++)
        first[p + 1] += first[p];
    for (int v = 0; v < ir->nvars; v++)
        if (ir->vars[v].kind == IRV_TEMP && g->start[v] >= 0) order[first[g->start[v]]++] = v;
    free(first);

    int active[JIT_NTEMPREGS]; /* temporary holding each register, or -1 */
    for (int k = 0; k < JIT_NTEMPREGS; k++)
        active[k] = -1;
    int nslots = 0, capslots = 16;
    int *slot_free_after = xmalloc(sizeof(int) * capslots); /* last position using the slot */
    int max_slots = X86_TEMP_SLOTS - SPILL_FIRST;

    for (int i = 0; i < n; i++) {
        int v = order[i], s = g->start[v];
        bool def = defined_at(g, v, s);
        int free_k = -1;
        for (int k = 0; k < JIT_NTEMPREGS; k++) {
            int a = active[k];
            if (a >= 0 && (g->end[a] < s || (g->end[a] == s && def))) active[k] = a = -1;
            if (a < 0 && free_k < 0) free_k = k;
        }
        int victim = v;
        if (free_k < 0) {
            /* Spill whichever of the active ranges and this one ends last. */
            int kmax = -1;
            for (int k = 0; k < JIT_NTEMPREGS; k++)
                if (g->end[active[k]] > g->end[victim]) victim = active[k], kmax = k;
            if (kmax >= 0) {
                g->reg[v] = g->reg[victim];
                active[kmax] = v;
            }
        } else {
            g->reg[v] = jit_tempregs[free_k];
            active[free_k] = v;
            victim = -1;
        }
        if (victim >= 0) {
            int slot = -1;
            for (int k = 0; k < nslots && slot < 0; k++)
                if (slot_free_after[k] < g->start[victim]) slot = k;
            if (slot < 0) {
                if (nslots == max_slots) {
                    log_error("internal error: translation block needs too many spill slots");
                    abort();
                }
                if (nslots == capslots) {
                    capslots *= 2;
                    slot_free_after = xrealloc(slot_free_after, sizeof(int) * capslots);
                }
                slot = nslots++;
            }
            slot_free_after[slot] = g->end[victim];
            g->reg[victim] = -1;
            g->disp[victim] = ENV_OFF(tmp) + 4 * (SPILL_FIRST + slot);
        }
    }
    /* Per-register lists in order of start, for saving live temporaries around calls. */
    for (int k = 0; k < JIT_NTEMPREGS; k++)
        g->reg_list[k] = xmalloc(sizeof(int) * (n + 1));
    for (int i = 0; i < n; i++) {
        int v = order[i];
        for (int k = 0; k < JIT_NTEMPREGS; k++)
            if (g->reg[v] == jit_tempregs[k]) g->reg_list[k][g->reg_count[k]++] = v;
    }
    free(slot_free_after);
    free(order);
}

/* ---- operand helpers ---- */

static X64Mem envm(int32_t disp)
{
    return x64_mem(JIT_ENV, disp);
}
static Loc loc_reg(int r)
{
    return (Loc){L_REG, (int8_t)r, 0, 0};
}
static Loc loc_imm(uint32_t v)
{
    return (Loc){L_IMM, -1, 0, v};
}

static Loc loc(const Gen *g, IrVar v)
{
    const IrVarInfo *vi = &g->ir->vars[v];
    switch (vi->kind) {
    case IRV_GLOBAL:
        if (vi->slot < JIT_NPINNED) return loc_reg(jit_pinned[vi->slot]);
        return (Loc){L_MEM, -1, 4 * vi->slot, 0};
    case IRV_TEMP:
        if (g->reg[v] >= 0) return loc_reg(g->reg[v]);
        return (Loc){L_MEM, -1, g->disp[v], 0};
    case IRV_CONST: return loc_imm(vi->value);
    default: return loc_imm(0); /* a missing helper argument */
    }
}

static bool loc_eq(Loc a, Loc b)
{
    if (a.kind != b.kind) return false;
    if (a.kind == L_REG) return a.reg == b.reg;
    if (a.kind == L_MEM) return a.disp == b.disp;
    return false;
}

/* r = a (32 bits). Never changes host flags. */
static void emit_load(Gen *g, int r, Loc a)
{
    switch (a.kind) {
    case L_REG:
        if (a.reg != r) x64_mov_rr(&g->b, false, r, a.reg);
        break;
    case L_MEM: x64_mov_rm(&g->b, false, r, envm(a.disp)); break;
    default: x64_mov_ri32(&g->b, r, a.imm); break;
    }
}

static void emit_store(Gen *g, Loc d, int r)
{
    if (d.kind == L_REG) {
        if (d.reg != r) x64_mov_rr(&g->b, false, d.reg, r);
    } else {
        x64_mov_mr(&g->b, 4, envm(d.disp), r);
    }
}

static void emit_mov(Gen *g, Loc d, Loc a)
{
    if (loc_eq(d, a)) return;
    if (d.kind == L_REG) {
        emit_load(g, d.reg, a);
    } else if (a.kind == L_REG) {
        emit_store(g, d, a.reg);
    } else if (a.kind == L_IMM) {
        x64_mov_mi(&g->b, 4, envm(d.disp), (int32_t)a.imm);
    } else {
        emit_load(g, X_RAX, a);
        emit_store(g, d, X_RAX);
    }
}

/* r op= s for a group-1 ALU operation. */
static void alu_r(Gen *g, int op, int r, Loc s)
{
    switch (s.kind) {
    case L_REG: x64_alu_rr(&g->b, false, op, r, s.reg); break;
    case L_MEM: x64_alu_rm(&g->b, false, op, r, envm(s.disp)); break;
    default: x64_alu_ri(&g->b, false, op, r, (int32_t)s.imm); break;
    }
}

/* Memory slot op= s (s a register or constant). */
static void alu_m(Gen *g, int op, int32_t disp, Loc s)
{
    if (s.kind == L_REG)
        x64_alu_mr(&g->b, false, op, envm(disp), s.reg);
    else
        x64_alu_mi(&g->b, 4, op, envm(disp), (int32_t)s.imm);
}

static const int8_t x86_cc_of[IRC_COUNT] = {
    [IRC_EQ] = CC_E,   [IRC_NE] = CC_NE, [IRC_LTU] = CC_B,   [IRC_GEU] = CC_AE,
    [IRC_LEU] = CC_BE, [IRC_GTU] = CC_A, [IRC_LT] = CC_L,    [IRC_GE] = CC_GE,
    [IRC_LE] = CC_LE,  [IRC_GT] = CC_G,  [IRC_TSTEQ] = CC_E, [IRC_TSTNE] = CC_NE,
};

/* Sets host flags for "a cond b" and returns the x86 condition code to test. Uses RCX only. */
static int emit_cmp(Gen *g, unsigned cond, Loc a, Loc b)
{
    X64Buf *B = &g->b;
    if (cond == IRC_TSTEQ || cond == IRC_TSTNE) {
        if (a.kind == L_IMM) {
            Loc t = a;
            a = b, b = t;
        }
        if (a.kind == L_IMM) {
            emit_load(g, X_RCX, a);
            a = loc_reg(X_RCX);
        }
        if (b.kind == L_IMM) {
            if (a.kind == L_REG) {
                if (b.imm == 0x80000000u) { /* the sign bit: SF of test r, r */
                    x64_test_rr(B, false, a.reg, a.reg);
                    return cond == IRC_TSTEQ ? CC_NS : CC_S;
                }
                if (b.imm == 0xffffffffu)
                    x64_test_rr(B, false, a.reg, a.reg);
                else
                    x64_test_ri(B, a.reg, b.imm);
            } else {
                x64_test_mi(B, envm(a.disp), b.imm);
            }
        } else if (b.kind == L_REG) {
            if (a.kind == L_REG)
                x64_test_rr(B, false, a.reg, b.reg);
            else
                x64_test_mr(B, envm(a.disp), b.reg);
        } else {
            if (a.kind != L_REG) {
                emit_load(g, X_RCX, a);
                a = loc_reg(X_RCX);
            }
            x64_test_mr(B, envm(b.disp), a.reg);
        }
        return cond == IRC_TSTEQ ? CC_E : CC_NE;
    }
    if (a.kind == L_IMM || (a.kind == L_MEM && b.kind == L_MEM)) {
        emit_load(g, X_RCX, a);
        a = loc_reg(X_RCX);
    }
    if (a.kind == L_REG) {
        /* test r,r gives the flags of cmp r,0 (CF = OF = 0) in fewer bytes. */
        if (b.kind == L_IMM && b.imm == 0)
            x64_test_rr(B, false, a.reg, a.reg);
        else
            alu_r(g, ALU_CMP, a.reg, b);
    } else {
        alu_m(g, ALU_CMP, a.disp, b);
    }
    return x86_cc_of[cond];
}

static uint32_t token(const Gen *g)
{
    return (uint32_t)(g->insn < 0 ? 0 : g->insn) + 1;
}

/* env->cur_tb and env->cur_pos for a C call that may fault (see jit fault_insn). */
static void emit_set_cur(Gen *g, uint32_t tok)
{
    x64_mov_ri64(&g->b, X_RCX, (uintptr_t)g->tb);
    x64_mov_mr(&g->b, 8, envm(ENV_OFF(cur_tb)), X_RCX);
    x64_mov_mi(&g->b, 8, envm(ENV_OFF(cur_pos)), (int32_t)tok);
}

static Cold *new_cold(Gen *g, int kind)
{
    if (g->ncold == g->capcold) {
        g->capcold = g->capcold ? 2 * g->capcold : 16;
        g->cold = xrealloc(g->cold, sizeof(Cold) * g->capcold);
    }
    Cold *c = &g->cold[g->ncold++];
    memset(c, 0, sizeof *c);
    c->kind = (uint8_t)kind;
    c->token = token(g);
    return c;
}

static void add_fixup(Gen *g, size_t at, uint32_t label)
{
    if (g->nfix == g->capfix) {
        g->capfix = g->capfix ? 2 * g->capfix : 16;
        g->fix = xrealloc(g->fix, sizeof(Fixup) * g->capfix);
    }
    g->fix[g->nfix++] = (Fixup){at, label};
}

/* Stores guest registers from..to-1 whose env copy may be stale, and notes them clean. */
static void store_dirty_pinned(Gen *g, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (!(g->pinned_clean & (1u << i))) x64_mov_mr(&g->b, 4, envm(4 * i), jit_pinned[i]);
        g->pinned_clean |= (uint8_t)(1u << i);
    }
}

static void emit_load_pinned(X64Buf *b, int from, int to)
{
    for (int i = from; i < to; i++)
        x64_mov_rm(b, false, jit_pinned[i], envm(4 * i));
}

/* ---- operations ---- */

static int alu_of(unsigned opc)
{
    switch (opc) {
    case IR_ADD: return ALU_ADD;
    case IR_SUB: return ALU_SUB;
    case IR_AND: return ALU_AND;
    case IR_OR: return ALU_OR;
    default: return ALU_XOR;
    }
}

/* r = r op s for ADD SUB AND OR XOR MUL. */
static void arith_r(Gen *g, unsigned opc, int r, Loc s)
{
    if (opc != IR_MUL) {
        alu_r(g, alu_of(opc), r, s);
    } else if (s.kind == L_IMM) {
        x64_imul_rri(&g->b, r, r, (int32_t)s.imm);
    } else if (s.kind == L_REG) {
        x64_imul_rr(&g->b, false, r, s.reg);
    } else {
        x64_imul_rm(&g->b, false, r, envm(s.disp));
    }
}

/* Returns true if the host flags now reflect the 32-bit result d (ZF, SF as of a test). */
static bool gen_arith(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), a = loc(g, op->a), b = loc(g, op->b);
    unsigned opc = op->opc;
    bool comm = opc != IR_SUB;
    if (opc == IR_ADD && d.kind == L_REG && a.kind == L_REG && !loc_eq(d, a) &&
        (b.kind == L_IMM || (b.kind == L_REG && !loc_eq(d, b)))) {
        /* Three-operand add. 32-bit LEA truncates the 64-bit sum: the wrapped 32-bit result. */
        if (b.kind == L_IMM)
            x64_lea(&g->b, false, d.reg, x64_mem(a.reg, (int32_t)b.imm));
        else
            x64_lea(&g->b, false, d.reg, x64_mem_idx(a.reg, b.reg, 0, 0));
        return false;
    }
    bool flags = opc != IR_MUL; /* the last instruction is the ALU operation writing d */
    if (opc == IR_MUL && b.kind == L_IMM && d.kind == L_REG && a.kind != L_IMM) {
        if (a.kind == L_REG)
            x64_imul_rri(&g->b, d.reg, a.reg, (int32_t)b.imm);
        else
            x64_imul_rmi(&g->b, d.reg, envm(a.disp), (int32_t)b.imm);
        return false;
    }
    if (d.kind == L_REG) {
        if (loc_eq(d, b) && !loc_eq(d, a)) {
            if (comm) {
                arith_r(g, opc, d.reg, a);
                return flags;
            }
            emit_load(g, X_RAX, a);
            arith_r(g, opc, X_RAX, b);
            emit_store(g, d, X_RAX);
            return flags;
        }
        emit_load(g, d.reg, a);
        arith_r(g, opc, d.reg, b);
        return flags;
    }
    if (loc_eq(d, a) && b.kind != L_MEM && opc != IR_MUL) {
        alu_m(g, alu_of(opc), d.disp, b);
        return flags;
    }
    emit_load(g, X_RAX, a);
    arith_r(g, opc, X_RAX, b);
    emit_store(g, d, X_RAX);
    return flags;
}

static void gen_mulh(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    emit_load(g, X_RAX, loc(g, op->a));
    emit_load(g, X_RCX, loc(g, op->b));
    if (op->opc == IR_MULHS) {
        x64_movsxd_rr(B, X_RAX, X_RAX);
        x64_movsxd_rr(B, X_RCX, X_RCX);
    }
    /* Zero- or sign-extended 32-bit factors: the 64-bit product is exact. */
    x64_imul_rr(B, true, X_RAX, X_RCX);
    x64_shift_ri(B, true, SH_SHR, X_RAX, 32);
    emit_store(g, loc(g, op->d), X_RAX);
}

/* OF of the host's 32-bit IMUL is the signed overflow. */
static void gen_mulso(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    Loc a = loc(g, op->a), b = loc(g, op->b);
    if (a.kind == L_IMM) {
        Loc t = a;
        a = b, b = t;
    }
    emit_load(g, X_RAX, a);
    if (b.kind == L_IMM)
        x64_imul_rri(B, X_RAX, X_RAX, (int32_t)b.imm);
    else if (b.kind == L_REG)
        x64_imul_rr(B, false, X_RAX, b.reg);
    else
        x64_imul_rm(B, false, X_RAX, envm(b.disp));
    x64_setcc(B, CC_O, X_RAX);
    x64_movzx_rr(B, 1, X_RAX, X_RAX);
    emit_store(g, loc(g, op->d), X_RAX);
}

/* The host DIV/IDIV take the dividend in EDX:EAX; RDX is a temporary register, so its value
 * is kept in its call-save slot meanwhile (the producer guarantees no #DE). */
static void gen_div(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    Loc d = loc(g, op->d);
    emit_load(g, X_RCX, loc(g, op->b));
    emit_load(g, X_RAX, loc(g, op->a));
    x64_mov_mr(B, 4, envm(SAVE_SLOT(0)), X_RDX);
    if (op->opc == IR_DIVU2) {
        emit_load(g, X_RDX, loc(g, op->c));
        x64_unary_r(B, false, UN_DIV, X_RCX);
    } else {
        x64_byte(B, 0x99); /* cdq */
        x64_unary_r(B, false, UN_IDIV, X_RCX);
    }
    x64_mov_rm(B, false, X_RDX, envm(SAVE_SLOT(0)));
    emit_store(g, d, X_RAX);
}

static int shift_of(unsigned opc)
{
    switch (opc) {
    case IR_SHL: return SH_SHL;
    case IR_SHR: return SH_SHR;
    case IR_SAR: return SH_SAR;
    case IR_ROL: return SH_ROL;
    default: return SH_ROR;
    }
}

/* Host 32-bit shifts and rotates take the count modulo 32, as the IR does. */
static void gen_shift(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), a = loc(g, op->a), b = loc(g, op->b);
    int sh = shift_of(op->opc);
    int r = d.kind == L_REG ? d.reg : X_RAX;
    if (b.kind == L_IMM) {
        emit_load(g, r, a);
        if (b.imm & 31) x64_shift_ri(&g->b, false, sh, r, b.imm & 31);
    } else {
        emit_load(g, X_RCX, b);
        emit_load(g, r, a);
        x64_shift_rcl(&g->b, false, sh, r);
    }
    if (r == X_RAX) emit_store(g, d, X_RAX);
}

static void gen_unary(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), a = loc(g, op->a);
    X64Buf *B = &g->b;
    if (a.kind == L_IMM) {
        emit_mov(g, d, loc_imm(ir_eval_unop(op->opc, a.imm, op->imm)));
        return;
    }
    int r = d.kind == L_REG ? d.reg : X_RAX;
    switch (op->opc) {
    case IR_NEG:
    case IR_NOT: {
        int un = op->opc == IR_NEG ? UN_NEG : UN_NOT;
        if (d.kind == L_MEM && loc_eq(d, a)) {
            x64_unary_m(B, 4, un, envm(d.disp));
            return;
        }
        emit_load(g, r, a);
        x64_unary_r(B, false, un, r);
        break;
    }
    case IR_SEXT8:
    case IR_SEXT16:
    case IR_ZEXT8:
    case IR_ZEXT16: {
        int size = op->opc == IR_SEXT8 || op->opc == IR_ZEXT8 ? 1 : 2;
        bool sign = op->opc == IR_SEXT8 || op->opc == IR_SEXT16;
        if (a.kind == L_REG) {
            if (sign)
                x64_movsx_rr(B, size, r, a.reg);
            else
                x64_movzx_rr(B, size, r, a.reg);
        } else {
            if (sign)
                x64_movsx_rm(B, size, r, envm(a.disp));
            else
                x64_movzx_rm(B, size, r, envm(a.disp));
        }
        break;
    }
    case IR_BSWAP:
        emit_load(g, r, a);
        x64_bswap(B, r);
        break;
    case IR_CTZ:
    case IR_CLZ: {
        bool fwd = op->opc == IR_CTZ;
        if (a.kind == L_REG)
            x64_bitscan_rr(B, fwd, X_RAX, a.reg);
        else
            x64_bitscan_rm(B, fwd, X_RAX, envm(a.disp));
        /* A zero input sets ZF and leaves the destination undefined: the IR wants 32. */
        x64_mov_ri32(B, X_RCX, fwd ? 32 : 63);
        x64_cmov_rr(B, CC_E, X_RAX, X_RCX);
        if (!fwd) x64_alu_ri(B, false, ALU_XOR, X_RAX, 31);
        r = X_RAX;
        break;
    }
    default: abort();
    }
    if (r == X_RAX) emit_store(g, d, X_RAX);
}

static uint32_t low_mask(unsigned len)
{
    return len >= 32 ? 0xffffffffu : (1u << len) - 1;
}

static void gen_extract(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), a = loc(g, op->a);
    unsigned pos = op->imm & 0xff, len = op->imm >> 8;
    X64Buf *B = &g->b;
    if (a.kind == L_IMM) {
        emit_mov(g, d, loc_imm(ir_eval_unop(IR_EXTRACT, a.imm, op->imm)));
        return;
    }
    int r = d.kind == L_REG ? d.reg : X_RAX;
    if (pos == 0 && (len == 8 || len == 16)) {
        if (a.kind == L_REG)
            x64_movzx_rr(B, len / 8, r, a.reg);
        else
            x64_movzx_rm(B, len / 8, r, envm(a.disp));
    } else if (a.kind == L_MEM && pos % 8 == 0 && (len == 8 || len == 16) && pos + len <= 32) {
        x64_movzx_rm(B, len / 8, r, envm(a.disp + (int32_t)pos / 8));
    } else {
        emit_load(g, r, a);
        if (pos) x64_shift_ri(B, false, SH_SHR, r, pos);
        if (pos + len < 32) x64_alu_ri(B, false, ALU_AND, r, (int32_t)low_mask(len));
    }
    if (r == X_RAX) emit_store(g, d, X_RAX);
}

static void gen_deposit(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), a = loc(g, op->a), b = loc(g, op->b);
    unsigned pos = op->imm & 0xff, len = op->imm >> 8;
    uint32_t m = low_mask(len) << pos;
    X64Buf *B = &g->b;
    if (m == 0) {
        emit_mov(g, d, a);
        return;
    }
    if (m == 0xffffffffu) {
        emit_mov(g, d, b);
        return;
    }
    /* Replacing the low byte or word in place is a narrow move. */
    if (loc_eq(d, a) && pos == 0 && (len == 8 || len == 16) && b.kind != L_MEM &&
        !(d.kind == L_REG && b.kind == L_IMM)) {
        if (d.kind == L_REG)
            x64_mov_rr_low(B, len / 8, d.reg, b.reg);
        else if (b.kind == L_REG)
            x64_mov_mr(B, len / 8, envm(d.disp), b.reg);
        else
            x64_mov_mi(B, len / 8, envm(d.disp), (int32_t)b.imm);
        return;
    }
    int r = d.kind == L_REG ? d.reg : X_RAX;
    if (b.kind == L_IMM) {
        uint32_t v = (b.imm << pos) & m;
        emit_load(g, r, a);
        x64_alu_ri(B, false, ALU_AND, r, (int32_t)~m);
        if (v) x64_alu_ri(B, false, ALU_OR, r, (int32_t)v);
    } else {
        emit_load(g, X_RCX, b);
        if (pos) x64_shift_ri(B, false, SH_SHL, X_RCX, pos);
        if (pos + len < 32) x64_alu_ri(B, false, ALU_AND, X_RCX, (int32_t)m);
        emit_load(g, r, a);
        x64_alu_ri(B, false, ALU_AND, r, (int32_t)~m);
        x64_alu_rr(B, false, ALU_OR, r, X_RCX);
    }
    if (r == X_RAX) emit_store(g, d, X_RAX);
}

/* The x86 condition testing "a cond b" from the flags an earlier ALU operation left, or -1:
 * the operation was a subtraction a - b, or wrote a, tested against a constant. */
static int fused_cc(const Gen *g, unsigned cond, IrVar a, IrVar b)
{
    if (!g->flags_var) return -1;
    bool tst = cond == IRC_TSTEQ || cond == IRC_TSTNE;
    if (g->flags_a && a == g->flags_a && b == g->flags_b && !tst) return x86_cc_of[cond];
    if (a != g->flags_var || !ir_is_const(g->ir, b)) return -1;
    uint32_t c = ir_const_value(g->ir, b);
    switch (cond) {
    case IRC_TSTEQ: return c == 0xffffffffu ? CC_E : c == 0x80000000u ? CC_NS : -1;
    case IRC_TSTNE: return c == 0xffffffffu ? CC_NE : c == 0x80000000u ? CC_S : -1;
    case IRC_EQ: return c == 0 ? CC_E : -1;
    case IRC_NE: return c == 0 ? CC_NE : -1;
    case IRC_LT: return c == 0 ? CC_S : -1; /* sign alone: OF of the operation is not 0 */
    case IRC_GE: return c == 0 ? CC_NS : -1;
    default: return -1;
    }
}

/* Host flags for "op->a op->cond op->b": those already there, or a compare. */
static int emit_cond(Gen *g, const IrOp *op)
{
    int cc = fused_cc(g, op->cond, op->a, op->b);
    return cc >= 0 ? cc : emit_cmp(g, op->cond, loc(g, op->a), loc(g, op->b));
}

static void gen_setcond(Gen *g, const IrOp *op)
{
    x64_setcc(&g->b, emit_cond(g, op), X_RAX);
    x64_movzx_rr(&g->b, 1, X_RAX, X_RAX);
    emit_store(g, loc(g, op->d), X_RAX);
}

static void gen_movcond(Gen *g, const IrOp *op)
{
    Loc d = loc(g, op->d), c = loc(g, op->c);
    if (d.kind == L_REG) {
        if (c.kind == L_IMM) {
            emit_load(g, X_RAX, c); /* a MOV: the flags stay */
            c = loc_reg(X_RAX);
        }
        int cc = emit_cond(g, op);
        if (c.kind == L_REG)
            x64_cmov_rr(&g->b, cc, d.reg, c.reg);
        else
            x64_cmov_rm(&g->b, cc, d.reg, envm(c.disp));
        return;
    }
    int cc = emit_cond(g, op);
    size_t at = x64_jcc8(&g->b, cc ^ 1);
    emit_mov(g, d, c);
    x64_patch_rel8(&g->b, at, g->b.pos);
}

static void gen_brcond(Gen *g, const IrOp *op)
{
    add_fixup(g, x64_jcc32(&g->b, emit_cond(g, op)), op->imm);
}

/* ---- soft MMU ---- */

/* Displacement of a field of env->tlb[mmu][0]. */
static int32_t tlb_disp(unsigned mmu, size_t field)
{
    return ENV_OFF(tlb) + (int32_t)(mmu * TLB_SIZE * sizeof(TlbEntry) + field);
}

/* Compares the tag of the TLB entry for address a against the page of its last byte and leaves
 * the entry offset (index * sizeof(TlbEntry)) in RCX, or with a constant address returns the
 * entry's displacement and leaves RCX alone (*const_entry set). Returns the rel32 of the
 * mismatch jump. Uses RAX and RCX. */
/* RCX = tlb_index(a) * sizeof(TlbEntry), using RAX. */
static void emit_tlb_index(Gen *g, Loc a)
{
    X64Buf *B = &g->b;
    /* index = ((a >> 12) + ((a >> 22) << 1)) & (TLB_SIZE - 1), as tlb_index(). With BMI2 the
     * rotation leaves a >> 12 in the low 20 bits (the address's low bits above them are carried
     * out by the mask); a >> 22 must be exact, as it is added at twice its weight. */
    _Static_assert(TLB_BITS <= 20, "the rotation keeps 20 clean bits");
    if (g->j->bmi2) {
        if (a.kind == L_REG)
            x64_rorx_rr(B, X_RCX, a.reg, PAGE_BITS);
        else
            x64_rorx_rm(B, X_RCX, envm(a.disp), PAGE_BITS);
        emit_load(g, X_RAX, a);
        x64_shift_ri(B, false, SH_SHR, X_RAX, 22);
    } else {
        emit_load(g, X_RCX, a);
        x64_shift_ri(B, false, SH_SHR, X_RCX, PAGE_BITS);
        x64_mov_rr(B, false, X_RAX, X_RCX);
        x64_shift_ri(B, false, SH_SHR, X_RAX, 22 - PAGE_BITS);
    }
    x64_lea(B, false, X_RCX, x64_mem_idx(X_RCX, X_RAX, 1, 0));
    x64_alu_ri(B, false, ALU_AND, X_RCX, TLB_SIZE - 1);
    x64_shift_ri(B, false, SH_SHL, X_RCX, 5);
}

/* Root and offset of v (rooting it when it is not yet known); false for constants. */
static bool rel_get(Gen *g, IrVar v, uint32_t *root, uint32_t *off)
{
    if (!v || ir_is_const(g->ir, v)) return false;
    if (g->rel_epoch[v] != g->epoch) {
        g->rel_epoch[v] = g->epoch;
        g->rel_root[v] = ++g->nroots;
        g->rel_off[v] = 0;
    }
    *root = g->rel_root[v];
    *off = g->rel_off[v];
    return true;
}

/* Keeps the address arithmetic of op (moves, adding or subtracting constants) in rel_*; def:
 * op writes op->d (ir_op_uses). */
static void rel_update(Gen *g, const IrOp *op, bool def)
{
    const IrBlock *ir = g->ir;
    uint32_t root, off;
    switch (op->opc) {
    case IR_LABEL:
    case IR_CALL: g->epoch++; return;
    case IR_MOV:
        if (rel_get(g, op->a, &root, &off)) {
            if (op->d == op->a) return;
            g->rel_epoch[op->d] = g->epoch, g->rel_root[op->d] = root, g->rel_off[op->d] = off;
            return;
        }
        break;
    case IR_ADD:
    case IR_SUB: {
        IrVar v = op->a, k = op->b;
        if (op->opc == IR_ADD && ir_is_const(ir, v)) v = op->b, k = op->a;
        if (!ir_is_const(ir, k) || !rel_get(g, v, &root, &off)) break;
        uint32_t c = ir_const_value(ir, k);
        g->rel_epoch[op->d] = g->epoch, g->rel_root[op->d] = root;
        g->rel_off[op->d] = op->opc == IR_ADD ? off + c : off - c;
        return;
    }
    default: break;
    }
    if (def && op->d) g->rel_epoch[op->d] = 0;
}

/* Compares the page of byte a + last with the tag of the TLB entry at offset RCX (uses RAX). */
static void emit_tag_cmp(Gen *g, Loc a, int32_t last, unsigned mmu, size_t tag_field)
{
    X64Buf *B = &g->b;
    if (a.kind == L_REG && last) {
        x64_lea(B, false, X_RAX, x64_mem(a.reg, last));
    } else {
        emit_load(g, X_RAX, a);
        if (last) x64_alu_ri(B, false, ALU_ADD, X_RAX, last);
    }
    x64_alu_ri(B, false, ALU_AND, X_RAX, (int32_t)PAGE_MASK);
    x64_alu_rm(B, false, ALU_CMP, X_RAX, x64_mem_idx(JIT_ENV, X_RCX, 0, tlb_disp(mmu, tag_field)));
}

/* RCX may still hold the entry offset for the previous access's address variable (a store back
 * to the address just loaded from): then only the tag compare is repeated. Or the previous
 * access was at a known distance below or above this one (stack pushes and pops, fields of
 * one structure): then the compare against that entry's tag of the page of this access's end
 * (at or above the previous address) or start (wholly below it) shows that both accesses lie in
 * one page, and *borrowed is set: the mismatch path must try this address's own entry. */
static size_t emit_tlb_check(Gen *g, IrVar av, Loc a, unsigned size, unsigned mmu, size_t tag_field,
                             bool *const_entry, int32_t *entry, bool *borrowed)
{
    X64Buf *B = &g->b;
    _Static_assert(sizeof(TlbEntry) == 32, "TLB entry size");
    if (a.kind == L_IMM) {
        *const_entry = true;
        *entry = tlb_disp(mmu, 0) + (int32_t)(tlb_index(a.imm) * sizeof(TlbEntry));
        x64_alu_mi(B, 4, ALU_CMP, envm(*entry + (int32_t)tag_field),
                   (int32_t)((a.imm + size - 1) & PAGE_MASK));
        return x64_jcc32(B, CC_NE);
    }
    *const_entry = false;
    int32_t last = (int32_t)size - 1; /* the byte whose page is compared */
    bool kept = g->tlb_var && g->tlb_var == av && g->tlb_mmu == mmu;
    uint32_t root, off;
    if (!kept) {
        int32_t delta = 0;
        kept = borrowed && a.kind == L_REG && g->tlb_root && g->tlb_mmu == mmu &&
               rel_get(g, av, &root, &off) && root == g->tlb_root;
        if (kept) delta = (int32_t)(off - g->tlb_off);
        if (kept && delta >= 0 && delta < (int32_t)PAGE_SIZE)
            *borrowed = true;
        else if (kept && delta < 0 && delta > -(int32_t)PAGE_SIZE && delta + (int32_t)size <= 0)
            *borrowed = true, last = 0;
        else
            kept = false;
    }
    if (!kept) emit_tlb_index(g, a);
    emit_tag_cmp(g, a, last, mmu, tag_field);
    return x64_jcc32(B, CC_NE);
}

/* Host address of the access: loads the addend into RAX and returns the memory operand. */
static X64Mem emit_host_addr(Gen *g, Loc a, bool const_entry, int32_t entry, unsigned mmu)
{
    X64Buf *B = &g->b;
    size_t addend = __builtin_offsetof(TlbEntry, addend);
    if (const_entry)
        x64_mov_rm(B, true, X_RAX, envm(entry + (int32_t)addend));
    else
        x64_mov_rm(B, true, X_RAX, x64_mem_idx(JIT_ENV, X_RCX, 0, tlb_disp(mmu, addend)));
    if (a.kind == L_IMM) {
        if (a.imm <= 0x7fffffffu) return x64_mem(X_RAX, (int32_t)a.imm);
        x64_mov_ri32(B, X_RCX, a.imm);
        return x64_mem_idx(X_RAX, X_RCX, 0, 0);
    }
    if (a.kind == L_MEM) {
        emit_load(g, X_RCX, a);
        return x64_mem_idx(X_RAX, X_RCX, 0, 0);
    }
    return x64_mem_idx(X_RAX, a.reg, 0, 0);
}

/* After an access, RCX holds the TLB entry offset of address variable av (0: nothing kept); the
 * slow path then recomputes it before rejoining. */
static void keep_tlb_index(Gen *g, Cold *c, IrVar av, unsigned mmu)
{
    g->tlb_var = av;
    g->tlb_mmu = (uint8_t)mmu;
    c->restore_index = av != 0;
    if (!av || !rel_get(g, av, &g->tlb_root, &g->tlb_off)) g->tlb_root = 0;
}

/* The mismatch path of a borrowed check goes first to the access's own entry. */
static void set_recheck(Cold *c, bool borrowed, size_t hit, size_t tag)
{
    c->recheck = borrowed;
    c->hit = hit;
    c->tag = (uint8_t)tag;
}

/* Ops that leave RCX and the TLB alone (see gen_arith, gen_unary, gen_extract, emit_mov). */
static bool keeps_tlb_index(const IrOp *op)
{
    switch (op->opc) {
    case IR_NOP:
    case IR_DISCARD:
    case IR_INSN_START:
    case IR_MOV:
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
    case IR_AND:
    case IR_OR:
    case IR_XOR:
    case IR_NEG:
    case IR_NOT:
    case IR_SEXT8:
    case IR_SEXT16:
    case IR_ZEXT8:
    case IR_ZEXT16:
    case IR_BSWAP:
    case IR_EXTRACT: return true;
    default: return false;
    }
}

static void gen_ld(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    Loc a = loc(g, op->a), d = loc(g, op->d);
    unsigned size = op->size & 0x7f, mmu = op->aux;
    bool sign = op->size & IR_SIGNED;
    bool ce;
    int32_t entry;
    bool borrowed = false;
    size_t tag = __builtin_offsetof(TlbEntry, tag_r);
    size_t miss = emit_tlb_check(g, op->a, a, size, mmu, tag, &ce, &entry, &borrowed);
    size_t hit = B->pos;
    X64Mem m = emit_host_addr(g, a, ce, entry, mmu);
    int r = d.kind == L_REG ? d.reg : X_RAX;
    if (size == 4)
        x64_mov_rm(B, false, r, m);
    else if (sign)
        x64_movsx_rm(B, (int)size, r, m);
    else
        x64_movzx_rm(B, (int)size, r, m);
    if (r == X_RAX) emit_store(g, d, X_RAX);
    Cold *c = new_cold(g, COLD_LD);
    c->jcc[c->njcc++] = miss;
    c->ret = B->pos;
    c->a = a, c->d = d;
    c->size = (uint8_t)size, c->sign = sign, c->mmu = (uint8_t)mmu;
    set_recheck(c, borrowed, hit, tag);
    keep_tlb_index(g, c, op->d != op->a && !ce && a.kind == L_REG ? op->a : 0, mmu);
}

static void gen_st(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    Loc a = loc(g, op->a), v = loc(g, op->b);
    unsigned size = op->size, mmu = op->aux;
    bool ce;
    int32_t entry;
    bool borrowed = false;
    size_t tag = __builtin_offsetof(TlbEntry, tag_w);
    size_t miss = emit_tlb_check(g, op->a, a, size, mmu, tag, &ce, &entry, &borrowed);
    size_t hit = B->pos;
    X64Mem m = emit_host_addr(g, a, ce, entry, mmu);
    if (v.kind == L_IMM) {
        x64_mov_mi(B, (int)size, m, (int32_t)v.imm);
    } else if (v.kind == L_REG) {
        x64_mov_mr(B, (int)size, m, v.reg);
    } else {
        if (m.index == X_RCX) {
            /* RCX holds the address: fold it in to free RCX for the value. */
            x64_lea(B, true, X_RAX, m);
            m = x64_mem(X_RAX, 0);
        }
        emit_load(g, X_RCX, v);
        x64_mov_mr(B, (int)size, m, X_RCX);
    }
    Cold *c = new_cold(g, COLD_ST);
    c->jcc[c->njcc++] = miss;
    c->ret = B->pos;
    c->a = a, c->b = v;
    c->size = (uint8_t)size, c->mmu = (uint8_t)mmu;
    set_recheck(c, borrowed, hit, tag);
    keep_tlb_index(g, c, !ce && a.kind == L_REG && v.kind != L_MEM ? op->a : 0, mmu);
}

/* Fault with vector aux unless b <= a && a + imm <= c, without wrap-around. */
static void gen_chkrange(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    Loc a = loc(g, op->a), lo = loc(g, op->b), hi = loc(g, op->c);
    Cold *c = new_cold(g, COLD_RAISE);
    c->vector = op->aux;
    if (!(lo.kind == L_IMM && lo.imm == 0)) {
        int cc = emit_cmp(g, IRC_LTU, a, lo);
        c->jcc[c->njcc++] = x64_jcc32(B, cc);
    }
    emit_load(g, X_RAX, a);
    if (op->imm) {
        x64_alu_ri(B, false, ALU_ADD, X_RAX, (int32_t)op->imm);
        c->jcc[c->njcc++] = x64_jcc32(B, CC_B);
    }
    alu_r(g, ALU_CMP, X_RAX, hi);
    c->jcc[c->njcc++] = x64_jcc32(B, CC_A);
}

static void emit_cold(Gen *g, Cold *c)
{
    X64Buf *B = &g->b;
    JitState *j = g->j;
    for (int k = 0; k < c->njcc; k++)
        x64_patch_rel32(B, c->jcc[k], B->pos);
    if (c->recheck) {
        /* The access is not in the previous one's page: the check with its own entry. */
        emit_tlb_index(g, c->a);
        emit_tag_cmp(g, c->a, c->size - 1, c->mmu, c->tag);
        x64_patch_rel32(B, x64_jcc32(B, CC_E), c->hit);
    }
    if (c->kind != COLD_CC && c->kind != COLD_CC_C && c->kind != COLD_X87)
        emit_set_cur(g, c->token);
    switch (c->kind) {
    case COLD_LD: {
        int si = jit_size_index(c->size);
        emit_load(g, X_RAX, c->a);
        x64_patch_rel32(B, x64_call32(B), j->ld_stub[c->mmu][si]);
        if (c->sign) x64_movsx_rr(B, c->size, X_RAX, X_RAX);
        emit_store(g, c->d, X_RAX);
        if (c->restore_index) emit_tlb_index(g, c->a);
        x64_patch_rel32(B, x64_jmp32(B), c->ret);
        break;
    }
    case COLD_ST: {
        int si = jit_size_index(c->size);
        emit_load(g, X_RAX, c->a);
        emit_load(g, X_RCX, c->b);
        x64_patch_rel32(B, x64_call32(B), j->st_stub[c->mmu][si]);
        if (c->restore_index) emit_tlb_index(g, c->a);
        x64_patch_rel32(B, x64_jmp32(B), c->ret);
        break;
    }
    case COLD_CC_C: /* EAX = op, size = CF only */
        x64_patch_rel32(B, x64_call32(B), j->cc_stub[c->size]);
        x64_patch_rel32(B, x64_jmp32(B), c->ret);
        break;
    case COLD_X87:
        x64_patch_rel32(B, x64_call32(B), j->x87_stub);
        x64_test_rr_sz(B, 1, X_RAX, X_RAX);
        x64_patch_rel32(B, x64_jcc32(B, CC_NE), c->ret);
        x64_patch_rel32(B, x64_jmp32(B), c->alt);
        break;
    case COLD_CC:
        x64_mov_ri32(B, X_RAX, c->vector);
        x64_patch_rel32(B, x64_call32(B), j->cc_stub[0]);
        x64_alu_ri(B, false, ALU_AND, X_RAX, (int32_t)c->cc_need);
        x64_patch_rel32(B, x64_jmp32(B), c->ret);
        break;
    default:
        x64_mov_ri32(B, X_RSI, c->vector);
        x64_patch_rel32(B, x64_jmp32(B), j->raise_stub);
        break;
    }
}

/* ---- lazy flags (hlp_cc_eflags, hlp_cc_cf) ---- */

/* The flags of the lazy state that the result's only use looks at: a test or AND against a
 * constant mask. Other bits of the result may then differ from x86_cc_compute's. */
static uint32_t cc_need(const Gen *g, const IrOp *op, int pos)
{
    const IrBlock *ir = g->ir;
    if (!op->d || !ir_is_temp(ir, op->d) || g->uses[op->d] != 1) return CC_MASK;
    for (int k = pos + 1; k < ir->nops; k++) {
        const IrOp *u = &ir->ops[k];
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(u, in, &nin, &def);
        bool reads = false;
        for (int i = 0; i < nin; i++)
            reads |= in[i] == op->d;
        if (!reads && !(u->opc == IR_MOVCOND && u->d == op->d)) continue;
        IrVar other = u->a == op->d ? u->b : u->a;
        bool masked = ((u->opc == IR_SETCOND || u->opc == IR_BRCOND) &&
                       (u->cond == IRC_TSTEQ || u->cond == IRC_TSTNE)) ||
                      u->opc == IR_AND;
        if (masked && ir_is_const(ir, other)) return ir_const_value(ir, other) & CC_MASK;
        return CC_MASK;
    }
    return CC_MASK;
}

/* The lazy-flags helpers read only env->cc_* (never pinned): no guest register is stored. */
/* EAX = the lazy flags (x86_cc_compute, or its CF with cf_only) for the op in ccop. */
static void emit_cc_dynamic(Gen *g, Loc ccop, bool cf_only)
{
    /* Per-op routines through a table; out-of-range values are C's business. */
    X64Buf *B = &g->b;
    emit_load(g, X_RAX, ccop);
    x64_alu_ri(B, false, ALU_CMP, X_RAX, CC_OP_COUNT);
    Cold *c = new_cold(g, COLD_CC_C);
    c->jcc[c->njcc++] = x64_jcc32(B, CC_AE);
    c->size = cf_only;
    x64_patch_rel32(B, x64_lea_rip(B, X_RCX), g->j->cc_table[cf_only]);
    x64_call_m(B, x64_mem_idx(X_RCX, X_RAX, 3, 0));
    c->ret = B->pos;
}

static void gen_cc_helper(Gen *g, const IrOp *op, int pos, bool cf_only)
{
    Loc ccop = loc(g, op->a);
    if (ccop.kind == L_IMM) {
        uint32_t need = cf_only ? CF_MASK : cc_need(g, op, pos);
        size_t to_c = jit_emit_cc(&g->b, ccop.imm, need);
        if (to_c) {
            Cold *c = new_cold(g, COLD_CC);
            c->jcc[c->njcc++] = to_c;
            c->vector = (uint8_t)ccop.imm;
            c->cc_need = need;
            c->ret = g->b.pos;
        }
    } else {
        emit_cc_dynamic(g, ccop, cf_only);
    }
    if (op->d) emit_store(g, loc(g, op->d), X_RAX);
}

/* hlp_shift (cpu/x86/helpers/arith.c) for ROL and ROR by a constant count, which the translator
 * leaves to the helper: d = the rotated operand; CF and OF replaced in the current flags, which
 * become CC_OP_EFLAGS. A zero count changes nothing but masks the operand. Returns false for
 * the other forms (they call the helper). */
static bool gen_rotate(Gen *g, const IrOp *op)
{
    const IrBlock *ir = g->ir;
    if (!op->b || !op->c || !ir_is_const(ir, op->b) || !ir_is_const(ir, op->c)) return false;
    uint32_t packed = ir_const_value(ir, op->c), count = ir_const_value(ir, op->b) & 31;
    unsigned kind = packed & 7, size = packed >> 8;
    if (kind > 1 || (size != 1 && size != 2 && size != 4)) return false;
    X64Buf *B = &g->b;
    unsigned bits = size * 8;
    Loc a = loc(g, op->a);
    X64Mem res = envm(SAVE_SLOT(0)); /* free outside helper calls */
    /* The operand, masked to its size, in RCX. */
    emit_load(g, X_RCX, a);
    if (size < 4) x64_movzx_rr(B, (int)size, X_RCX, X_RCX);
    if (count == 0) {
        if (op->d) emit_store(g, loc(g, op->d), X_RCX);
        return true;
    }
    x64_mov_mr(B, 4, res, X_RCX);
    emit_cc_dynamic(g, (Loc){L_MEM, -1, ENV_OFF(cc_op), 0}, false);
    x64_alu_ri(B, false, ALU_AND, X_RAX, (int32_t) ~(CF_MASK | OF_MASK));
    /* Rotating a narrow operand replicated across 32 bits leaves its own rotation below. */
    unsigned n = count % bits;
    x64_mov_rm(B, false, X_RCX, res);
    if (size < 4) x64_imul_rri(B, X_RCX, X_RCX, size == 1 ? 0x01010101 : 0x00010001);
    if (n) x64_shift_ri(B, false, kind == 0 ? SH_ROL : SH_ROR, X_RCX, n);
    if (size < 4) x64_movzx_rr(B, (int)size, X_RCX, X_RCX);
    x64_mov_mr(B, 4, res, X_RCX);
    /* ROL: CF = bit 0, OF = top ^ CF. ROR: CF = top bit, OF = top ^ the bit below it. */
    if (kind == 0) {
        x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
    } else {
        x64_shift_ri(B, false, SH_SHR, X_RCX, bits - 1);
        x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
    }
    x64_alu_rr(B, false, ALU_OR, X_RAX, X_RCX);
    x64_mov_rm(B, false, X_RCX, res);
    if (kind == 0) {
        x64_shift_ri(B, false, SH_SHR, X_RCX, bits - 1);
        x64_alu_rm(B, false, ALU_XOR, X_RCX, res);
    } else {
        x64_shift_ri(B, false, SH_SHR, X_RCX, 1);
        x64_alu_rm(B, false, ALU_XOR, X_RCX, res);
        x64_shift_ri(B, false, SH_SHR, X_RCX, bits - 2);
    }
    x64_alu_ri(B, false, ALU_AND, X_RCX, 1);
    x64_shift_ri(B, false, SH_SHL, X_RCX, 11);
    x64_alu_rr(B, false, ALU_OR, X_RAX, X_RCX);
    x64_mov_mr(B, 4, envm(ENV_OFF(cc_src)), X_RAX);
    x64_mov_mi(B, 4, envm(ENV_OFF(cc_op)), CC_OP_EFLAGS);
    if (op->d) {
        x64_mov_rm(B, false, X_RAX, res);
        emit_store(g, loc(g, op->d), X_RAX);
    }
    return true;
}

/* ---- helper calls ---- */

/* Front-end helpers whose only globals are the lazy flags (cc_*, eflags, df): they neither
 * fault nor look at the guest general registers, so those need not go through env. Kept in
 * step with cpu/x86/helpers (arith.c, misc.c); the lockstep tests compare against the
 * interpreter, which keeps every global in env. */
static bool helper_uses_gprs(const IrHelper *h)
{
    return h != &hlp_shift && h != &hlp_dshift && h != &hlp_set_ccflags && h != &hlp_get_eflags;
}

/* Sets ESI, EDX, ECX to helper arguments a, b, c whatever registers they live in. */
static void emit_call_args(Gen *g, Loc a, Loc b, Loc c, bool has_a, bool has_b, bool has_c)
{
    if (has_c) emit_load(g, X_RCX, c);
    bool a_in_rdx = has_a && a.kind == L_REG && a.reg == X_RDX;
    bool b_in_rsi = has_b && b.kind == L_REG && b.reg == X_RSI;
    if (a_in_rdx && b_in_rsi) {
        x64_xchg_rr(&g->b, false, X_RSI, X_RDX);
    } else if (a_in_rdx) {
        emit_load(g, X_RSI, a);
        if (has_b) emit_load(g, X_RDX, b);
    } else {
        if (has_b) emit_load(g, X_RDX, b);
        if (has_a) emit_load(g, X_RSI, a);
    }
}

static void gen_helper_call(Gen *g, const IrOp *op, int pos)
{
    X64Buf *B = &g->b;
    const IrHelper *h = g->ir->helpers[op->imm];
    /* Guest registers go to env if the helper may look at them (or fault), and come back if it
     * may change them; the caller-saved ones (R8-R10) always make the round trip. */
    bool gprs = helper_uses_gprs(h);
    bool writes = gprs && !(h->flags & IRH_NO_WRITE_G);
    /* Reloading after a writing helper needs env current even if it reads nothing. */
    bool reads = gprs && (!(h->flags & IRH_NO_READ_G) || !(h->flags & IRH_NO_FAULT) || writes);
    /* Temporaries living in caller-saved registers across the call. */
    int saved[JIT_NTEMPREGS];
    for (int k = 0; k < JIT_NTEMPREGS; k++) {
        saved[k] = 0;
        int *cur = &g->reg_cursor[k];
        while (*cur < g->reg_count[k] && g->end[g->reg_list[k][*cur]] < pos)
            (*cur)++;
        if (*cur < g->reg_count[k]) {
            int v = g->reg_list[k][*cur];
            if (g->start[v] < pos && g->end[v] > pos) {
                saved[k] = 1;
                x64_mov_mr(B, 4, envm(SAVE_SLOT(k)), jit_tempregs[k]);
            }
        }
    }
    store_dirty_pinned(g, reads ? 0 : JIT_NCALLEE_PINNED, JIT_NPINNED);
    emit_set_cur(g, token(g));
    emit_call_args(g, loc(g, op->a), loc(g, op->b), loc(g, op->c), op->a != 0, op->b != 0,
                   op->c != 0);
    x64_mov_rr(B, true, X_RDI, JIT_ENV);
    x64_mov_ri64(B, X_RAX, (uintptr_t)h->fn);
    x64_call_r(B, X_RAX);
    for (int k = 0; k < JIT_NTEMPREGS; k++)
        if (saved[k]) x64_mov_rm(B, false, jit_tempregs[k], envm(SAVE_SLOT(k)));
    emit_load_pinned(B, writes ? 0 : JIT_NCALLEE_PINNED, JIT_NPINNED);
    if (op->d) emit_store(g, loc(g, op->d), X_RAX);
}

/* ---- x87 instructions on the host FPU ---- */

/* hlp_fpu(lin, desc, eip) with a constant descriptor of an instruction the host may execute
 * (x86_fpu_native): while the host FPU holds the guest's x87 state (env->fpu_host, taken over
 * through the acquire stub when x86_fpu_acquire allows), the instruction itself runs, on
 * guest memory through the TLB; the helper call emitted after it takes the other cases (state
 * not transferable, TLB miss, FLDCW unmasking an exception). */
static bool gen_x87(Gen *g, const IrOp *op, int pos)
{
    X64Buf *B = &g->b;
    Loc dl = loc(g, op->b), el = loc(g, op->c), a = loc(g, op->a);
    X86FpuNative n;
    if (dl.kind != L_IMM || el.kind != L_IMM || !x86_fpu_native(dl.imm, &n)) return false;
    uint32_t desc = dl.imm;
    uint8_t esc = x86_fpu_desc_escape(desc), modrm = x86_fpu_desc_modrm(desc);

    x64_alu_mi(B, 1, ALU_CMP, envm(ENV_OFF(fpu_host)), 0);
    int acquire = g->ncold;
    new_cold(g, COLD_X87)->jcc[0] = x64_jcc32(B, CC_E);
    g->cold[acquire].njcc = 1;
    g->cold[acquire].ret = B->pos;
    g->tlb_var = g->tlb_root = 0; /* the acquire stub does not keep RCX */
    size_t slow[2];
    int nslow = 0;
    X64Mem m = x64_mem(JIT_ENV, 0);
    if (n.size) {
        unsigned mmu = desc >> 15 & 3;
        size_t tag =
            n.write ? __builtin_offsetof(TlbEntry, tag_w) : __builtin_offsetof(TlbEntry, tag_r);
        bool ce;
        int32_t entry;
        slow[nslow++] = emit_tlb_check(g, op->a, a, n.size, mmu, tag, &ce, &entry, NULL);
        m = emit_host_addr(g, a, ce, entry, mmu);
    }
    if (n.kind == FPU_NAT_LDCW) {
        /* The FCW as stored goes through env->fpu.fcw, which the host state overrides. */
        x64_lea(B, true, X_RAX, m);
        x64_movzx_rm(B, 2, X_RCX, x64_mem(X_RAX, 0));
        x64_alu_ri(B, false, ALU_AND, X_RCX, FPU_FCW_VALID);
        x64_alu_ri(B, false, ALU_OR, X_RCX, FPU_FCW_ONES);
        x64_mov_rr(B, false, X_RAX, X_RCX);
        x64_alu_ri(B, false, ALU_AND, X_RAX, 0x3f);
        x64_alu_ri(B, false, ALU_CMP, X_RAX, 0x3f);
        slow[nslow++] = x64_jcc32(B, CC_NE);
        m = envm(ENV_OFF(fpu.fcw));
        x64_mov_mr(B, 2, m, X_RCX);
    }
    if (n.clear_c1) {
        x64_byte(B, 0xd9), x64_byte(B, 0xf7); /* fincstp */
        x64_byte(B, 0xd9), x64_byte(B, 0xf6); /* fdecstp */
    }
    if (n.size) {
        x64_x87_m(B, esc, modrm >> 3 & 7, m);
    } else {
        x64_byte(B, esc);
        x64_byte(B, modrm);
    }
    if (n.kind == FPU_NAT_EFLAGS) {
        /* FCOMI sets ZF PF CF and clears OF SF AF, as set_cmp_eflags records them. */
        x64_pushf(B);
        x64_pop(B, X_RAX);
        x64_alu_ri(B, false, ALU_AND, X_RAX, ZF_MASK | PF_MASK | CF_MASK);
        x64_mov_mr(B, 4, envm(ENV_OFF(cc_src)), X_RAX);
        x64_mov_mi(B, 4, envm(ENV_OFF(cc_op)), CC_OP_EFLAGS);
    } else if (n.kind == FPU_NAT_STSW_AX) {
        x64_mov_rr_low(B, 2, jit_pinned[R_EAX], X_RAX); /* FNSTSW AX wrote the host's AX */
    }
    if (n.pointers) {
        x64_mov_mi(B, 4, envm(ENV_OFF(fpu.fip)), (int32_t)el.imm);
        x64_mov_mi(B, 2, envm(ENV_OFF(fpu.fop)), (int32_t)(desc >> 21));
        x64_movzx_rm(B, 2, X_RAX, envm(ENV_OFF(segs[R_CS].sel)));
        x64_mov_mr(B, 2, envm(ENV_OFF(fpu.fcs)), X_RAX);
        if (n.size) {
            int32_t seg = ENV_OFF(segs) + (int32_t)((desc >> 17 & 7) * sizeof(SegCache));
            emit_load(g, X_RAX, a);
            x64_alu_rm(B, false, ALU_SUB, X_RAX,
                       envm(seg + (int32_t) __builtin_offsetof(SegCache, base)));
            x64_mov_mr(B, 4, envm(ENV_OFF(fpu.fdp)), X_RAX);
            x64_movzx_rm(B, 2, X_RAX, envm(seg + (int32_t) __builtin_offsetof(SegCache, sel)));
            x64_mov_mr(B, 2, envm(ENV_OFF(fpu.fds)), X_RAX);
        }
    }
    size_t done = x64_jmp32(B);
    for (int k = 0; k < nslow; k++)
        x64_patch_rel32(B, slow[k], B->pos);
    g->cold[acquire].alt = B->pos;
    /* The helper path leaves more guest registers clean in env than the host path does. */
    uint8_t clean = g->pinned_clean;
    if (n.kind == FPU_NAT_STSW_AX) clean &= (uint8_t) ~(1u << R_EAX);
    gen_helper_call(g, op, pos);
    g->pinned_clean = clean;
    x64_patch_rel32(B, done, B->pos);
    return true;
}

static void gen_call(Gen *g, const IrOp *op, int pos)
{
    const IrHelper *h = g->ir->helpers[op->imm];
    if (h == &hlp_cc_eflags || h == &hlp_cc_cf) {
        gen_cc_helper(g, op, pos, h == &hlp_cc_cf);
        return;
    }
    if (h == &hlp_shift && gen_rotate(g, op)) return;
    if ((h == &hlp_fpu || h == &hlp_fpu_local) && gen_x87(g, op, pos)) return;
    gen_helper_call(g, op, pos);
}

/* ---- block exits ---- */

/* op dword [rbp + disp32], imm32 (ALU_*), always in this 10-byte form: block layouts depend on
 * it (JIT_BODY_OFFSET, JIT_XPAGE_*), and the chaining patches imm32. */
static void emit_alu_env_i32(X64Buf *B, int op, int32_t disp, uint32_t imm)
{
    x64_byte(B, 0x81);
    x64_byte(B, (uint8_t)(0x85 | op << 3)); /* mod 10, reg op, rm 101 (RBP) */
    x64_u32(B, (uint32_t)disp);
    x64_u32(B, imm);
}

/* Leaves to the run loop from exit slot `slot` (-1: not a chainable exit). */
static void emit_exit(Gen *g, int slot)
{
    X64Buf *B = &g->b;
    x64_mov_ri64(B, X_RAX, (uintptr_t)g->tb);
    if (slot < 0)
        x64_mov_ri64(B, X_RDX, (uint64_t)-1);
    else
        x64_mov_ri32(B, X_RDX, (uint32_t)slot);
    x64_patch_rel32(B, x64_jmp32(B), g->j->exit_stub);
}

static void gen_exit_lookup(Gen *g)
{
    X64Buf *B = &g->b;
    x64_mov_ri64(B, X_RSI, (uintptr_t)g->tb);
    x64_patch_rel32(B, x64_call32(B), g->j->lookup_stub);
    x64_jmp_r(B, X_RAX);
}

/* A direct exit to another page (IR_GOTO_TB_XPAGE). Layout from the rel32 p of the first jump
 * (JIT_XPAGE_*): unchained it leads to the exit at p + 41, which lets the run loop chain; chained
 * it leads to p + 4, where the target page's TLB entry must still be there for execution and
 * map to the physical page the successor was translated from (imm32 at p + 26), before the
 * jump to the successor (rel32 at p + 37); otherwise the jump-cache lookup. */
static void gen_goto_xpage(Gen *g, unsigned slot)
{
    X64Buf *B = &g->b;
    const TranslationBlock *tb = g->tb;
    uint32_t target = g->pending_eip, lin = tb->cs_base + target, page = lin & PAGE_MASK;
    unsigned mmu = (tb->flags & HF_CPL_MASK) == 3 ? 1 : 0;
    int32_t entry = tlb_disp(mmu, 0) + (int32_t)(tlb_index(lin) * sizeof(TlbEntry));
    x64_align(B, 4, 3);
    size_t at = x64_jmp32(B);
    g->jmp_site[slot] = (uint32_t)(at - g->code);
    g->xpage |= (uint8_t)(1u << slot);
    emit_alu_env_i32(B, ALU_CMP, entry + (int32_t)__builtin_offsetof(TlbEntry, tag_x), page);
    size_t miss1 = x64_jcc32(B, CC_NE);
    emit_alu_env_i32(B, ALU_CMP, entry + (int32_t)__builtin_offsetof(TlbEntry, phys), UINT32_MAX);
    size_t miss2 = x64_jcc32(B, CC_NE);
    size_t to = x64_jmp32(B);
    if (at + JIT_XPAGE_PHYS != miss2 - 6 || at + JIT_XPAGE_TARGET != to ||
        at + JIT_XPAGE_EXIT != B->pos)
        abort(); /* the layout jit_set_jump patches */
    x64_patch_rel32(B, at, B->pos);
    x64_patch_rel32(B, to, B->pos);
    x64_mov_mi(B, 4, envm(ENV_OFF(eip)), (int32_t)target);
    emit_exit(g, (int)slot);
    x64_patch_rel32(B, miss1, B->pos);
    x64_patch_rel32(B, miss2, B->pos);
    x64_mov_mi(B, 4, envm(ENV_OFF(eip)), (int32_t)target);
    gen_exit_lookup(g);
}

static void gen_goto_tb(Gen *g, const IrOp *op)
{
    X64Buf *B = &g->b;
    unsigned slot = op->imm & 1;
    if (op->imm & IR_GOTO_TB_XPAGE) {
        if (g->has_pending_eip) {
            g->has_pending_eip = false;
            gen_goto_xpage(g, slot);
        } else {
            gen_exit_lookup(g); /* EIP is not a constant here: no chaining */
        }
        return;
    }
    /* The rel32 is 4-aligned so that patching it is a single atomic store. */
    x64_align(B, 4, 3);
    size_t at = x64_jmp32(B); /* unchained: continues right below */
    /* The translator emits each slot once; a second exit of the same slot would simply never
     * be chained (tb_chain patches the site recorded last). */
    g->jmp_site[slot] = (uint32_t)(at - g->code);
    if (g->has_pending_eip) {
        x64_mov_mi(B, 4, envm(ENV_OFF(eip)), (int32_t)g->pending_eip);
        g->has_pending_eip = false;
    }
    emit_exit(g, (int)slot);
}

static void gen_op(Gen *g, const IrOp *op, int pos)
{
    X64Buf *B = &g->b;
    switch (op->opc) {
    case IR_NOP:
    case IR_DISCARD: break;
    case IR_MOV: emit_mov(g, loc(g, op->d), loc(g, op->a)); break;
    case IR_ADD:
    case IR_SUB:
    case IR_MUL:
    case IR_AND:
    case IR_OR:
    case IR_XOR:
        g->flags_var = gen_arith(g, op) ? op->d : 0;
        g->flags_a = op->opc == IR_SUB && g->flags_var ? op->a : 0;
        g->flags_b = op->opc == IR_SUB && g->flags_var ? op->b : 0;
        g->flags_set = true;
        break;
    case IR_MULHU:
    case IR_MULHS: gen_mulh(g, op); break;
    case IR_MULSO: gen_mulso(g, op); break;
    case IR_DIVU2:
    case IR_DIVS: gen_div(g, op); break;
    case IR_SHL:
    case IR_SHR:
    case IR_SAR:
    case IR_ROL:
    case IR_ROR: gen_shift(g, op); break;
    case IR_NEG:
    case IR_NOT:
    case IR_SEXT8:
    case IR_SEXT16:
    case IR_ZEXT8:
    case IR_ZEXT16:
    case IR_BSWAP:
    case IR_CTZ:
    case IR_CLZ: gen_unary(g, op); break;
    case IR_EXTRACT: gen_extract(g, op); break;
    case IR_DEPOSIT: gen_deposit(g, op); break;
    case IR_SETCOND: gen_setcond(g, op); break;
    case IR_MOVCOND: gen_movcond(g, op); break;
    case IR_LD: gen_ld(g, op); break;
    case IR_ST: gen_st(g, op); break;
    case IR_CHKRANGE: gen_chkrange(g, op); break;
    case IR_LABEL: g->label_off[op->imm] = B->pos; break;
    case IR_BR: add_fixup(g, x64_jmp32(B), op->imm); break;
    case IR_BRCOND: gen_brcond(g, op); break;
    case IR_CALL: gen_call(g, op, pos); break;
    case IR_GOTO_TB: gen_goto_tb(g, op); break;
    case IR_EXIT_LOOKUP: gen_exit_lookup(g); break;
    case IR_EXIT: emit_exit(g, -1); break;
    default: abort(); /* every IR opcode is handled above */
    }
}

/* ---- the block ---- */

static void gen_free(Gen *g)
{
    free(g->start);
    free(g->end);
    free(g->reg);
    free(g->disp);
    free(g->uses);
    free(g->rel_root);
    free(g->rel_off);
    free(g->rel_epoch);
    for (int k = 0; k < JIT_NTEMPREGS; k++)
        free(g->reg_list[k]);
    free(g->label_off);
    free(g->fix);
    free(g->cold);
    free(g->insn_pos);
    free(g->insn_off);
    free(g->insn_aux);
}

static bool is_eip_const_mov(const IrBlock *ir, const IrOp *op)
{
    return op->opc == IR_MOV && ir_is_global(ir, op->d) && ir->vars[op->d].slot == X86_SLOT(eip) &&
           ir_is_const(ir, op->a);
}

bool jit_gen_block(JitState *j, TranslationBlock *tb, const IrBlock *ir)
{
    Gen g;
    memset(&g, 0, sizeof g);
    g.j = j;
    g.ir = ir;
    g.tb = tb;
    g.insn = -1;
    int nv = ir->nvars;
    g.start = xmalloc(sizeof(int) * nv);
    g.end = xmalloc(sizeof(int) * nv);
    g.reg = xmalloc(nv);
    g.disp = xzalloc(sizeof(int32_t) * nv);
    g.uses = xzalloc(sizeof(uint16_t) * nv);
    g.rel_root = xmalloc(sizeof(uint32_t) * nv);
    g.rel_off = xmalloc(sizeof(uint32_t) * nv);
    g.rel_epoch = xzalloc(sizeof(uint32_t) * nv);
    g.epoch = 1;
    for (int v = 0; v < nv; v++)
        g.start[v] = g.end[v] = -1, g.reg[v] = -1;
    g.label_off = xzalloc(sizeof(size_t) * (ir->nlabels + 1));
    g.insn_pos = xmalloc(sizeof(uint32_t) * (tb->icount + 1));
    g.insn_off = xmalloc(sizeof(uint16_t) * (tb->icount + 1));
    g.insn_aux = xmalloc(tb->icount + 1);
    compute_ranges(&g);
    allocate(&g);

    size_t start = (j->pos + 15) & ~(size_t)15;
    size_t limit = j->mem.size - X64_SLACK;
    if (start + sizeof(JitTbHeader) > limit) {
        gen_free(&g);
        return false;
    }
    jitmem_write_begin(&j->mem, start, j->mem.size - start);
    g.b = (X64Buf){j->mem.rw, start + sizeof(JitTbHeader), limit};
    X64Buf *B = &g.b;
    g.code = B->pos;

    /* Chain entry: the check the run loop makes before entering a block. Chained entry when
     * the slice still covers the whole block; otherwise the budget is given back and the run
     * loop takes over (it runs a block while any budget remains, so the accounting is the same
     * as entering here). A requested exit has made the budget negative (x86_cpu_exit). */
    emit_alu_env_i32(B, ALU_SUB, ENV_OFF(budget), tb->icount);
    size_t fail = x64_jcc32(B, CC_L);
    if (B->pos != g.code + JIT_BODY_OFFSET) abort(); /* JIT_BODY_OFFSET is wrong */
    /* The sampling profiler (-d prof) reads env->cur_tb asynchronously: keep it exact. */
    if (LOG_ON(LOG_PROF)) {
        x64_mov_ri64(B, X_RAX, (uintptr_t)tb);
        x64_mov_mr(B, 8, envm(ENV_OFF(cur_tb)), X_RAX);
    }

    for (int i = 0; i < ir->nops && !x64_full(B); i++) {
        const IrOp *op = &ir->ops[i];
        if (op->opc == IR_INSN_START) {
            if (g.ninsns >= tb->icount) continue;
            g.insn = g.ninsns++;
            g.insn_pos[g.insn] = (uint32_t)(B->pos - g.code);
            g.insn_off[g.insn] = (uint16_t)op->imm;
            g.insn_aux[g.insn] = op->aux;
            continue;
        }
        /* "mov eip, $const" right before GOTO_TB is done on the unchained path only: a chained
         * successor never reads EIP (as in the interpreter). */
        if (is_eip_const_mov(ir, op) && i + 1 < ir->nops && ir->ops[i + 1].opc == IR_GOTO_TB) {
            g.has_pending_eip = true;
            g.pending_eip = ir_const_value(ir, op->a);
            rel_update(&g, op, true);
            continue;
        }
        /* Host flags survive only moves (and ops without code) that leave their variable. */
        bool keep_flags = (op->opc == IR_MOV && op->d != g.flags_var) || op->opc == IR_NOP ||
                          op->opc == IR_DISCARD;
        g.flags_set = false;
        /* A move into an operand of the compare the flags stand for ends that meaning. */
        if (op->opc == IR_MOV && (op->d == g.flags_a || op->d == g.flags_b))
            g.flags_a = g.flags_b = 0;
        gen_op(&g, op, i);
        if (!g.flags_set && !keep_flags) g.flags_var = 0;
        IrVar in[3];
        int nin;
        bool def;
        ir_op_uses(op, in, &nin, &def);
        rel_update(&g, op, def);
        /* A write to a guest register makes its env copy stale; so may any path joining here. */
        if (op->opc == IR_LABEL)
            g.pinned_clean = 0;
        else if (def && ir_is_global(ir, op->d) && ir->vars[op->d].slot < JIT_NPINNED)
            g.pinned_clean &= (uint8_t) ~(1u << ir->vars[op->d].slot);
        /* RCX survives the ops that keep it and the accesses, which set it themselves; the
         * variable it belongs to also ends when written. */
        if (!keeps_tlb_index(op) && op->opc != IR_LD && op->opc != IR_ST)
            g.tlb_var = g.tlb_root = 0;
        else if (op->d && op->d == g.tlb_var && op->opc != IR_LD && op->opc != IR_ST)
            g.tlb_var = 0;
    }
    x64_byte(B, 0xcc); /* the last op is an exit: never reached */
    for (int k = 0; k < g.ncold && !x64_full(B); k++)
        emit_cold(&g, &g.cold[k]);
    /* Chain entry refused (budget or exit request): leave with EIP at this block. */
    x64_patch_rel32(B, fail, B->pos);
    x64_alu_mi(B, 4, ALU_ADD, envm(ENV_OFF(budget)), tb->icount);
    x64_mov_mi(B, 4, envm(ENV_OFF(eip)), (int32_t)tb->pc);
    emit_exit(&g, -1);
    for (int k = 0; k < g.nfix; k++)
        x64_patch_rel32(B, g.fix[k].at, g.label_off[g.fix[k].label]);

    bool ok = !x64_full(B);
    uint32_t *pos = NULL;
    uint16_t *off = NULL;
    uint8_t *aux = NULL;
    if (ok) {
        pos = tb_arena_alloc(j->cache, sizeof(uint32_t) * (g.ninsns + 1));
        off = tb_arena_alloc(j->cache, sizeof(uint16_t) * (g.ninsns + 1));
        aux = tb_arena_alloc(j->cache, g.ninsns + 1);
        ok = pos && off && aux;
    }
    if (ok) {
        JitTbHeader h = {{g.jmp_site[0], g.jmp_site[1]}, (uint32_t)(B->pos - g.code), g.xpage};
        memcpy(j->mem.rw + g.code - sizeof h, &h, sizeof h);
        memcpy(pos, g.insn_pos, sizeof(uint32_t) * g.ninsns);
        memcpy(off, g.insn_off, sizeof(uint16_t) * g.ninsns);
        memcpy(aux, g.insn_aux, g.ninsns);
        tb->code = j->mem.rx + g.code;
        tb->code_handle = (uint32_t)g.code;
        tb->insn_pos = pos;
        tb->insn_off = off;
        tb->insn_aux = aux;
        tb->helpers = NULL;
        if (LOG_ON(LOG_OUT_ASM)) {
            size_t n = B->pos - g.code;
            char *hex = xmalloc(2 * n + 1);
            for (size_t k = 0; k < n; k++)
                snprintf(hex + 2 * k, 3, "%02x", j->mem.rw[g.code + k]);
            log_msg("out_asm: %08x %08x %p %s", tb->cs_base, tb->pc, (void *)tb->code, hex);
            free(hex);
        }
        if (j->perfmap) {
            char name[48];
            snprintf(name, sizeof name, "guest_%08x_%08x", tb->cs_base, tb->pc);
            jit_perfmap_add(j, g.code, B->pos - g.code, name);
        }
        j->pos = B->pos;
        j->nblocks++;
        j->ncode_bytes += B->pos - start;
    }
    jitmem_write_end(&j->mem, start, j->mem.size - start);
    gen_free(&g);
    return ok;
}

#else
typedef int x64_gen_unused; /* ISO C wants a declaration in every translation unit */
#endif
