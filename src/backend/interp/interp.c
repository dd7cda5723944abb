/* Portable IR interpreter back end: lowers an optimised IR block to compact threaded code over
 * 32-bit slots of the CPU state (guest globals and temporaries), then runs it with computed-goto
 * dispatch. Memory accesses use the soft-MMU fast path inline and the C slow path otherwise. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "util/alloc.h"
#include "util/log.h"

typedef struct IOp {
    uint16_t h;
    uint16_t d, a, b, c;
    uint16_t x;
    uint32_t imm;
} IOp;

enum {
    IH_MOV_RR, IH_MOV_RI,
    IH_ADD_RR, IH_ADD_RI, IH_SUB_RR, IH_SUB_RI, IH_MUL_RR, IH_MUL_RI,
    IH_MULHU_RR, IH_MULHU_RI, IH_MULHS_RR, IH_MULHS_RI, IH_MULSO_RR, IH_MULSO_RI,
    IH_AND_RR, IH_AND_RI, IH_OR_RR, IH_OR_RI, IH_XOR_RR, IH_XOR_RI,
    IH_SHL_RR, IH_SHL_RI, IH_SHR_RR, IH_SHR_RI, IH_SAR_RR, IH_SAR_RI,
    IH_ROL_RR, IH_ROL_RI, IH_ROR_RR, IH_ROR_RI,
    IH_NEG, IH_NOT, IH_SEXT8, IH_SEXT16, IH_ZEXT8, IH_ZEXT16, IH_BSWAP, IH_CTZ, IH_CLZ,
    IH_EXTRACT, IH_DEPOSIT, IH_SETCOND, IH_MOVCOND, IH_DIVU2, IH_DIVS,
    IH_LD8U, IH_LD8S, IH_LD16U, IH_LD16S, IH_LD32,
    IH_ST8, IH_ST16, IH_ST32,
    IH_CHKRANGE,
    IH_BR,
    IH_BEQ_RR, IH_BNE_RR, IH_BLTU_RR, IH_BGEU_RR, IH_BLEU_RR, IH_BGTU_RR,
    IH_BLT_RR, IH_BGE_RR, IH_BLE_RR, IH_BGT_RR, IH_BTSTEQ_RR, IH_BTSTNE_RR,
    IH_BEQ_RI, IH_BNE_RI, IH_BLTU_RI, IH_BGEU_RI, IH_BLEU_RI, IH_BGTU_RI,
    IH_BLT_RI, IH_BGE_RI, IH_BLE_RI, IH_BGT_RI, IH_BTSTEQ_RI, IH_BTSTNE_RI,
    IH_CALL, IH_GOTO_TB, IH_EXIT_LOOKUP, IH_EXIT,
    IH_COUNT
};

/* Binary IR ops in the order of their _RR handlers (each followed by its _RI form). */
static int binop_handler(unsigned opc)
{
    switch (opc) {
    case IR_ADD: return IH_ADD_RR;
    case IR_SUB: return IH_SUB_RR;
    case IR_MUL: return IH_MUL_RR;
    case IR_MULHU: return IH_MULHU_RR;
    case IR_MULHS: return IH_MULHS_RR;
    case IR_MULSO: return IH_MULSO_RR;
    case IR_AND: return IH_AND_RR;
    case IR_OR: return IH_OR_RR;
    case IR_XOR: return IH_XOR_RR;
    case IR_SHL: return IH_SHL_RR;
    case IR_SHR: return IH_SHR_RR;
    case IR_SAR: return IH_SAR_RR;
    case IR_ROL: return IH_ROL_RR;
    case IR_ROR: return IH_ROR_RR;
    default: return -1;
    }
}

static int unop_handler(unsigned opc)
{
    switch (opc) {
    case IR_NEG: return IH_NEG;
    case IR_NOT: return IH_NOT;
    case IR_SEXT8: return IH_SEXT8;
    case IR_SEXT16: return IH_SEXT16;
    case IR_ZEXT8: return IH_ZEXT8;
    case IR_ZEXT16: return IH_ZEXT16;
    case IR_BSWAP: return IH_BSWAP;
    case IR_CTZ: return IH_CTZ;
    case IR_CLZ: return IH_CLZ;
    default: return -1;
    }
}

/* ---- lowering ---- */

typedef struct Lower {
    const IrBlock *ir;
    IOp *ops;
    int nops, cap;
    uint16_t *slot;      /* per IR variable: slot index, 0xffff = unassigned */
    uint16_t next_temp;  /* next free temp slot */
    uint16_t scratch[3];
    int *label_pos;
    uint32_t *insn_pos;
    uint16_t *insn_off;
    uint8_t *insn_aux;
    int ninsns;
    bool overflow;
    /* "mov eip, $const" right before GOTO_TB is folded into it: EIP is only written when the
     * chain is left, since a chained successor never reads it. */
    bool has_pending_eip;
    uint32_t pending_eip;
} Lower;

static IOp *lw_emit(Lower *L, int h)
{
    if (L->nops == L->cap) {
        L->cap *= 2;
        L->ops = xrealloc(L->ops, sizeof(IOp) * L->cap);
    }
    IOp *op = &L->ops[L->nops++];
    memset(op, 0, sizeof *op);
    op->h = (uint16_t)h;
    return op;
}

static uint16_t lw_slot(Lower *L, IrVar v)
{
    const IrVarInfo *vi = &L->ir->vars[v];
    if (vi->kind == IRV_GLOBAL) return vi->slot;
    if (L->slot[v] == 0xffff) {
        if (L->next_temp >= X86_SLOT(tmp) + X86_TEMP_SLOTS) {
            L->overflow = true;
            return X86_SLOT(tmp);
        }
        L->slot[v] = L->next_temp++;
    }
    return L->slot[v];
}

/* Slot holding v's value; constants are materialised into scratch slot k. */
static uint16_t lw_in(Lower *L, IrVar v, int k)
{
    if (!v) return 0;
    if (L->ir->vars[v].kind == IRV_CONST) {
        IOp *op = lw_emit(L, IH_MOV_RI);
        op->d = L->scratch[k];
        op->imm = L->ir->vars[v].value;
        return L->scratch[k];
    }
    return lw_slot(L, v);
}

static bool is_const(Lower *L, IrVar v) { return v && L->ir->vars[v].kind == IRV_CONST; }

static void lower_op(Lower *L, const IrOp *op)
{
    const IrBlock *ir = L->ir;
    IOp *o;
    int h;
    switch (op->opc) {
    case IR_NOP:
    case IR_DISCARD: return;
    case IR_INSN_START:
        L->insn_pos[L->ninsns] = L->nops;
        L->insn_off[L->ninsns] = (uint16_t)op->imm;
        L->insn_aux[L->ninsns] = op->aux;
        L->ninsns++;
        return;
    case IR_MOV:
        if (is_const(L, op->a)) {
            o = lw_emit(L, IH_MOV_RI);
            o->imm = ir->vars[op->a].value;
        } else {
            uint16_t a = lw_slot(L, op->a);
            o = lw_emit(L, IH_MOV_RR);
            o->a = a;
        }
        o->d = lw_slot(L, op->d);
        return;
    case IR_EXTRACT: {
        uint16_t a = lw_in(L, op->a, 0);
        o = lw_emit(L, IH_EXTRACT);
        unsigned pos = op->imm & 0xff, len = op->imm >> 8;
        o->a = a;
        o->x = pos;
        o->imm = len >= 32 ? 0xffffffffu : (1u << len) - 1;
        o->d = lw_slot(L, op->d);
        return;
    }
    case IR_DEPOSIT: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1);
        o = lw_emit(L, IH_DEPOSIT);
        unsigned pos = op->imm & 0xff, len = op->imm >> 8;
        o->a = a, o->b = b, o->x = pos;
        o->imm = len >= 32 ? 0xffffffffu : (1u << len) - 1;
        o->d = lw_slot(L, op->d);
        return;
    }
    case IR_DIVU2:
    case IR_DIVS: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1);
        uint16_t c = op->opc == IR_DIVU2 ? lw_in(L, op->c, 2) : 0;
        o = lw_emit(L, op->opc == IR_DIVU2 ? IH_DIVU2 : IH_DIVS);
        o->a = a, o->b = b, o->c = c;
        o->d = lw_slot(L, op->d);
        return;
    }
    case IR_SETCOND:
    case IR_MOVCOND: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1);
        uint16_t c = op->opc == IR_MOVCOND ? lw_in(L, op->c, 2) : 0;
        o = lw_emit(L, op->opc == IR_SETCOND ? IH_SETCOND : IH_MOVCOND);
        o->a = a, o->b = b, o->c = c, o->x = op->cond;
        o->d = lw_slot(L, op->d);
        return;
    }
    case IR_LD: {
        uint16_t a = lw_in(L, op->a, 0);
        unsigned size = op->size & 0x7f;
        bool sign = op->size & IR_SIGNED;
        h = size == 1 ? (sign ? IH_LD8S : IH_LD8U) : size == 2 ? (sign ? IH_LD16S : IH_LD16U)
                                                                : IH_LD32;
        o = lw_emit(L, h);
        o->a = a, o->x = op->aux;
        o->d = lw_slot(L, op->d);
        return;
    }
    case IR_ST: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1);
        h = op->size == 1 ? IH_ST8 : op->size == 2 ? IH_ST16 : IH_ST32;
        o = lw_emit(L, h);
        o->a = a, o->b = b, o->x = op->aux;
        return;
    }
    case IR_CHKRANGE: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1), c = lw_in(L, op->c, 2);
        o = lw_emit(L, IH_CHKRANGE);
        o->a = a, o->b = b, o->c = c, o->x = op->aux, o->imm = op->imm;
        return;
    }
    case IR_LABEL: L->label_pos[op->imm] = L->nops; return;
    case IR_BR:
        o = lw_emit(L, IH_BR);
        o->imm = op->imm; /* label, fixed up later */
        return;
    case IR_BRCOND: {
        uint16_t a = lw_in(L, op->a, 0);
        if (is_const(L, op->b)) {
            o = lw_emit(L, IH_BEQ_RI + op->cond);
            o->x = 0;
            o->c = 0;
            o->b = 0;
            o->a = a;
            o->d = (uint16_t)op->imm; /* label, fixed up later */
            o->imm = ir->vars[op->b].value;
        } else {
            uint16_t b = lw_slot(L, op->b);
            o = lw_emit(L, IH_BEQ_RR + op->cond);
            o->a = a, o->b = b;
            o->d = (uint16_t)op->imm;
        }
        return;
    }
    case IR_CALL: {
        uint16_t a = lw_in(L, op->a, 0), b = lw_in(L, op->b, 1), c = lw_in(L, op->c, 2);
        o = lw_emit(L, IH_CALL);
        o->a = a, o->b = b, o->c = c, o->x = (uint16_t)op->imm;
        o->d = op->d ? lw_slot(L, op->d) : L->scratch[0];
        return;
    }
    case IR_GOTO_TB:
        if (op->imm & IR_GOTO_TB_XPAGE) { /* not chained here: the interpreter has no check */
            lw_emit(L, IH_EXIT_LOOKUP);
            return;
        }
        o = lw_emit(L, IH_GOTO_TB);
        o->x = (uint16_t)op->imm;
        o->imm = L->pending_eip;
        o->a = L->has_pending_eip;
        L->has_pending_eip = false;
        return;
    case IR_EXIT_LOOKUP: lw_emit(L, IH_EXIT_LOOKUP); return;
    case IR_EXIT: lw_emit(L, IH_EXIT); return;
    default: break;
    }
    h = binop_handler(op->opc);
    if (h >= 0) {
        if (is_const(L, op->b)) {
            uint16_t a = lw_in(L, op->a, 0);
            o = lw_emit(L, h + 1);
            o->a = a;
            o->imm = ir->vars[op->b].value;
        } else {
            uint16_t a = lw_in(L, op->a, 0), b = lw_slot(L, op->b);
            o = lw_emit(L, h);
            o->a = a, o->b = b;
        }
        o->d = lw_slot(L, op->d);
        return;
    }
    h = unop_handler(op->opc);
    if (h >= 0) {
        uint16_t a = lw_in(L, op->a, 0);
        o = lw_emit(L, h);
        o->a = a;
        o->d = lw_slot(L, op->d);
        return;
    }
    abort(); /* every IR opcode is handled above */
}

static bool interp_gen(TbCache *c, TranslationBlock *tb, const IrBlock *ir)
{
    Lower L = {.ir = ir, .cap = ir->nops + 64};
    L.ops = xmalloc(sizeof(IOp) * L.cap);
    L.slot = xmalloc(sizeof(uint16_t) * ir->nvars);
    memset(L.slot, 0xff, sizeof(uint16_t) * ir->nvars);
    L.scratch[0] = X86_SLOT(tmp);
    L.scratch[1] = X86_SLOT(tmp) + 1;
    L.scratch[2] = X86_SLOT(tmp) + 2;
    L.next_temp = X86_SLOT(tmp) + 3;
    L.label_pos = xzalloc(sizeof(int) * (ir->nlabels + 1));
    L.insn_pos = xmalloc(sizeof(uint32_t) * (tb->icount + 1));
    L.insn_off = xmalloc(sizeof(uint16_t) * (tb->icount + 1));
    L.insn_aux = xmalloc(sizeof(uint8_t) * (tb->icount + 1));
    for (int i = 0; i < ir->nops; i++) {
        const IrOp *op = &ir->ops[i];
        if (op->opc == IR_INSN_START && L.ninsns >= tb->icount) continue;
        if (op->opc == IR_MOV && i + 1 < ir->nops && ir->ops[i + 1].opc == IR_GOTO_TB &&
            !(ir->ops[i + 1].imm & IR_GOTO_TB_XPAGE) && ir_is_global(ir, op->d) &&
            ir->vars[op->d].slot == X86_SLOT(eip) && ir_is_const(ir, op->a)) {
            L.has_pending_eip = true;
            L.pending_eip = ir_const_value(ir, op->a);
            continue;
        }
        lower_op(&L, op);
    }
    /* Resolve branch labels to op indexes. */
    for (int i = 0; i < L.nops; i++) {
        IOp *o = &L.ops[i];
        if (o->h == IH_BR) o->imm = L.label_pos[o->imm];
        else if (o->h >= IH_BEQ_RR && o->h <= IH_BTSTNE_RI) o->d = (uint16_t)L.label_pos[o->d];
    }
    bool ok = false;
    if (L.overflow) {
        log_error("internal error: translation block needs too many temporaries");
        abort();
    }
    IOp *code = tb_arena_alloc(c, sizeof(IOp) * L.nops);
    uint32_t *pos = tb_arena_alloc(c, sizeof(uint32_t) * (L.ninsns + 1));
    uint16_t *off = tb_arena_alloc(c, sizeof(uint16_t) * (L.ninsns + 1));
    uint8_t *aux = tb_arena_alloc(c, L.ninsns + 1);
    const IrHelper **helpers = tb_arena_alloc(c, sizeof(IrHelper *) * (ir->nhelpers + 1));
    if (code && pos && off && aux && helpers) {
        memcpy(code, L.ops, sizeof(IOp) * L.nops);
        memcpy(pos, L.insn_pos, sizeof(uint32_t) * L.ninsns);
        memcpy(off, L.insn_off, sizeof(uint16_t) * L.ninsns);
        memcpy(aux, L.insn_aux, L.ninsns);
        if (ir->nhelpers) memcpy(helpers, ir->helpers, sizeof(IrHelper *) * ir->nhelpers);
        tb->code = code;
        tb->insn_pos = pos;
        tb->insn_off = off;
        tb->insn_aux = aux;
        tb->helpers = helpers;
        ok = true;
    }
    free(L.ops);
    free(L.slot);
    free(L.label_pos);
    free(L.insn_pos);
    free(L.insn_off);
    free(L.insn_aux);
    return ok;
}

static int interp_fault_insn(const TranslationBlock *tb, const void *pos)
{
    uint32_t idx = (uint32_t)((const IOp *)pos - (const IOp *)tb->code);
    int lo = 0, hi = tb->icount - 1;
    /* Last instruction whose first op is at or before idx. */
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (tb->insn_pos[mid] <= idx)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* ---- execution ---- */

static inline uint32_t host_ld32(uintptr_t p)
{
    uint32_t v;
    memcpy(&v, (const void *)p, 4);
    return v;
}
static inline uint16_t host_ld16(uintptr_t p)
{
    uint16_t v;
    memcpy(&v, (const void *)p, 2);
    return v;
}
static inline void host_st32(uintptr_t p, uint32_t v) { memcpy((void *)p, &v, 4); }
static inline void host_st16(uintptr_t p, uint16_t v) { memcpy((void *)p, &v, 2); }

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

static TranslationBlock *interp_exec(CPUX86State *env, TranslationBlock *tb, int *exit_slot)
{
    static const void *const labels[IH_COUNT] = {
        [IH_MOV_RR] = &&mov_rr, [IH_MOV_RI] = &&mov_ri,
        [IH_ADD_RR] = &&add_rr, [IH_ADD_RI] = &&add_ri, [IH_SUB_RR] = &&sub_rr,
        [IH_SUB_RI] = &&sub_ri, [IH_MUL_RR] = &&mul_rr, [IH_MUL_RI] = &&mul_ri,
        [IH_MULHU_RR] = &&mulhu_rr, [IH_MULHU_RI] = &&mulhu_ri, [IH_MULHS_RR] = &&mulhs_rr,
        [IH_MULHS_RI] = &&mulhs_ri,
        [IH_MULSO_RR] = &&mulso_rr, [IH_MULSO_RI] = &&mulso_ri, [IH_AND_RR] = &&and_rr, [IH_AND_RI] = &&and_ri,
        [IH_OR_RR] = &&or_rr, [IH_OR_RI] = &&or_ri, [IH_XOR_RR] = &&xor_rr, [IH_XOR_RI] = &&xor_ri,
        [IH_SHL_RR] = &&shl_rr, [IH_SHL_RI] = &&shl_ri, [IH_SHR_RR] = &&shr_rr,
        [IH_SHR_RI] = &&shr_ri, [IH_SAR_RR] = &&sar_rr, [IH_SAR_RI] = &&sar_ri,
        [IH_ROL_RR] = &&rol_rr, [IH_ROL_RI] = &&rol_ri, [IH_ROR_RR] = &&ror_rr,
        [IH_ROR_RI] = &&ror_ri, [IH_NEG] = &&neg, [IH_NOT] = &&not, [IH_SEXT8] = &&sext8,
        [IH_SEXT16] = &&sext16, [IH_ZEXT8] = &&zext8, [IH_ZEXT16] = &&zext16,
        [IH_BSWAP] = &&bswap, [IH_CTZ] = &&ctz, [IH_CLZ] = &&clz, [IH_EXTRACT] = &&extract,
        [IH_DEPOSIT] = &&deposit, [IH_SETCOND] = &&setcond, [IH_MOVCOND] = &&movcond,
        [IH_DIVU2] = &&divu2, [IH_DIVS] = &&divs,
        [IH_LD8U] = &&ld8u, [IH_LD8S] = &&ld8s, [IH_LD16U] = &&ld16u, [IH_LD16S] = &&ld16s,
        [IH_LD32] = &&ld32, [IH_ST8] = &&st8, [IH_ST16] = &&st16, [IH_ST32] = &&st32,
        [IH_CHKRANGE] = &&chkrange, [IH_BR] = &&br,
        [IH_BEQ_RR] = &&beq_rr, [IH_BNE_RR] = &&bne_rr, [IH_BLTU_RR] = &&bltu_rr,
        [IH_BGEU_RR] = &&bgeu_rr, [IH_BLEU_RR] = &&bleu_rr, [IH_BGTU_RR] = &&bgtu_rr,
        [IH_BLT_RR] = &&blt_rr, [IH_BGE_RR] = &&bge_rr, [IH_BLE_RR] = &&ble_rr,
        [IH_BGT_RR] = &&bgt_rr, [IH_BTSTEQ_RR] = &&btsteq_rr, [IH_BTSTNE_RR] = &&btstne_rr,
        [IH_BEQ_RI] = &&beq_ri, [IH_BNE_RI] = &&bne_ri, [IH_BLTU_RI] = &&bltu_ri,
        [IH_BGEU_RI] = &&bgeu_ri, [IH_BLEU_RI] = &&bleu_ri, [IH_BGTU_RI] = &&bgtu_ri,
        [IH_BLT_RI] = &&blt_ri, [IH_BGE_RI] = &&bge_ri, [IH_BLE_RI] = &&ble_ri,
        [IH_BGT_RI] = &&bgt_ri, [IH_BTSTEQ_RI] = &&btsteq_ri, [IH_BTSTNE_RI] = &&btstne_ri,
        [IH_CALL] = &&call, [IH_GOTO_TB] = &&goto_tb, [IH_EXIT_LOOKUP] = &&exit_lookup,
        [IH_EXIT] = &&exit,
    };
    uint32_t *S = (uint32_t *)env;
    const IOp *op = tb->code;
    const IOp *base = op;

#define DISPATCH() goto *labels[op->h]
#define NEXT()                                                                                     \
    do {                                                                                           \
        op++;                                                                                      \
        DISPATCH();                                                                                \
    } while (0)
#define BINOP(lbl, expr_rr, expr_ri)                                                               \
    lbl##_rr : {                                                                                   \
        uint32_t a = S[op->a], b = S[op->b];                                                       \
        S[op->d] = (expr_rr);                                                                      \
        NEXT();                                                                                    \
    }                                                                                              \
    lbl##_ri : {                                                                                   \
        uint32_t a = S[op->a], b = op->imm;                                                        \
        S[op->d] = (expr_ri);                                                                      \
        NEXT();                                                                                    \
    }
#define BRANCH(lbl, cond)                                                                          \
    lbl##_rr : {                                                                                   \
        uint32_t a = S[op->a], b = S[op->b];                                                       \
        if (cond) {                                                                                \
            op = base + op->d;                                                                     \
            DISPATCH();                                                                            \
        }                                                                                          \
        NEXT();                                                                                    \
    }                                                                                              \
    lbl##_ri : {                                                                                   \
        uint32_t a = S[op->a], b = op->imm;                                                        \
        if (cond) {                                                                                \
            op = base + op->d;                                                                     \
            DISPATCH();                                                                            \
        }                                                                                          \
        NEXT();                                                                                    \
    }
#define LOAD(lbl, size, conv)                                                                      \
    lbl : {                                                                                        \
        uint32_t addr = S[op->a];                                                                  \
        const TlbEntry *e = &env->tlb[op->x][tlb_index(addr)];                                     \
        uint32_t v;                                                                                \
        if (LIKELY(tlb_hit(e->tag_r, addr, size))) {                                               \
            uintptr_t p = addr + e->addend;                                                        \
            v = size == 1 ? *(const uint8_t *)p : size == 2 ? host_ld16(p) : host_ld32(p);        \
        } else {                                                                                   \
            env->cur_pos = op;                                                                     \
            v = softmmu_ld(env, addr, size, op->x);                                                \
        }                                                                                          \
        S[op->d] = conv;                                                                           \
        NEXT();                                                                                    \
    }
#define STORE(lbl, size)                                                                           \
    lbl : {                                                                                        \
        uint32_t addr = S[op->a], v = S[op->b];                                                    \
        const TlbEntry *e = &env->tlb[op->x][tlb_index(addr)];                                     \
        if (LIKELY(tlb_hit(e->tag_w, addr, size))) {                                               \
            uintptr_t p = addr + e->addend;                                                        \
            if (size == 1)                                                                         \
                *(uint8_t *)p = (uint8_t)v;                                                        \
            else if (size == 2)                                                                    \
                host_st16(p, (uint16_t)v);                                                         \
            else                                                                                   \
                host_st32(p, v);                                                                   \
        } else {                                                                                   \
            env->cur_pos = op;                                                                     \
            softmmu_st(env, addr, v, size, op->x);                                                 \
        }                                                                                          \
        NEXT();                                                                                    \
    }

    env->cur_tb = tb;
    DISPATCH();

mov_rr:
    S[op->d] = S[op->a];
    NEXT();
mov_ri:
    S[op->d] = op->imm;
    NEXT();
    BINOP(add, a + b, a + b)
    BINOP(sub, a - b, a - b)
    BINOP(mul, a * b, a * b)
    BINOP(mulhu, (uint32_t)(((uint64_t)a * b) >> 32), (uint32_t)(((uint64_t)a * b) >> 32))
    BINOP(mulhs, (uint32_t)((uint64_t)((int64_t)(int32_t)a * (int32_t)b) >> 32),
          (uint32_t)((uint64_t)((int64_t)(int32_t)a * (int32_t)b) >> 32))
    BINOP(mulso, ir_eval_binop(IR_MULSO, a, b), ir_eval_binop(IR_MULSO, a, b))
    BINOP(and, a & b, a & b)
    BINOP(or, a | b, a | b)
    BINOP(xor, a ^ b, a ^ b)
    BINOP(shl, a << (b & 31), a << (b & 31))
    BINOP(shr, a >> (b & 31), a >> (b & 31))
    BINOP(sar, (uint32_t)((int32_t)a >> (b & 31)), (uint32_t)((int32_t)a >> (b & 31)))
    BINOP(rol, ir_eval_binop(IR_ROL, a, b), ir_eval_binop(IR_ROL, a, b))
    BINOP(ror, ir_eval_binop(IR_ROR, a, b), ir_eval_binop(IR_ROR, a, b))
neg:
    S[op->d] = -S[op->a];
    NEXT();
not:
    S[op->d] = ~S[op->a];
    NEXT();
sext8:
    S[op->d] = (uint32_t)(int32_t)(int8_t)S[op->a];
    NEXT();
sext16:
    S[op->d] = (uint32_t)(int32_t)(int16_t)S[op->a];
    NEXT();
zext8:
    S[op->d] = S[op->a] & 0xff;
    NEXT();
zext16:
    S[op->d] = S[op->a] & 0xffff;
    NEXT();
bswap:
    S[op->d] = __builtin_bswap32(S[op->a]);
    NEXT();
ctz:
    S[op->d] = S[op->a] ? (uint32_t)__builtin_ctz(S[op->a]) : 32;
    NEXT();
clz:
    S[op->d] = S[op->a] ? (uint32_t)__builtin_clz(S[op->a]) : 32;
    NEXT();
extract:
    S[op->d] = (S[op->a] >> op->x) & op->imm;
    NEXT();
deposit: {
    uint32_t m = op->imm << op->x;
    S[op->d] = (S[op->a] & ~m) | ((S[op->b] << op->x) & m);
    NEXT();
}
setcond:
    S[op->d] = ir_eval_cond(op->x, S[op->a], S[op->b]);
    NEXT();
movcond:
    if (ir_eval_cond(op->x, S[op->a], S[op->b])) S[op->d] = S[op->c];
    NEXT();
divu2:
    ir_eval_div(IR_DIVU2, S[op->a], S[op->b], S[op->c], &S[op->d]);
    NEXT();
divs:
    ir_eval_div(IR_DIVS, S[op->a], S[op->b], 0, &S[op->d]);
    NEXT();
    LOAD(ld8u, 1, v)
    LOAD(ld8s, 1, (uint32_t)(int32_t)(int8_t)v)
    LOAD(ld16u, 2, v)
    LOAD(ld16s, 2, (uint32_t)(int32_t)(int16_t)v)
    LOAD(ld32, 4, v)
    STORE(st8, 1)
    STORE(st16, 2)
    STORE(st32, 4)
chkrange: {
    uint32_t off = S[op->a], lo = S[op->b], hi = S[op->c], last = off + op->imm;
    if (UNLIKELY(off < lo || last > hi || last < off)) {
        env->cur_pos = op;
        x86_raise_exception_err(env, op->x, 0);
    }
    NEXT();
}
br:
    op = base + op->imm;
    DISPATCH();
    BRANCH(beq, a == b)
    BRANCH(bne, a != b)
    BRANCH(bltu, a < b)
    BRANCH(bgeu, a >= b)
    BRANCH(bleu, a <= b)
    BRANCH(bgtu, a > b)
    BRANCH(blt, (int32_t)a < (int32_t)b)
    BRANCH(bge, (int32_t)a >= (int32_t)b)
    BRANCH(ble, (int32_t)a <= (int32_t)b)
    BRANCH(bgt, (int32_t)a > (int32_t)b)
    BRANCH(btsteq, (a & b) == 0)
    BRANCH(btstne, (a & b) != 0)
call: {
    env->cur_pos = op;
    const IrHelper *h = tb->helpers[op->x];
    uint32_t r = h->fn(env, S[op->a], S[op->b], S[op->c]);
    S[op->d] = r;
    NEXT();
}
goto_tb: {
    /* A requested exit has made the budget negative (x86_cpu_exit). */
    TranslationBlock *next = tb->jmp_dest[op->x];
    if (LIKELY(next && env->budget >= next->icount)) {
        env->budget -= next->icount;
        tb = next;
        env->cur_tb = tb;
        op = base = tb->code;
        DISPATCH();
    }
    if (op->a) env->eip = op->imm;
    *exit_slot = (int)op->x;
    return tb;
}
exit_lookup: {
    TranslationBlock *next = env->tbs->jmp_cache[tb_jmp_cache_hash(env->eip)];
    if (!next || next->pc != env->eip || next->flags != env->hflags ||
        next->cs_base != env->seg_base[R_CS])
        next = x86_tb_find_cached(env);
    if (LIKELY(next && env->budget >= next->icount)) {
        env->budget -= next->icount;
        tb = next;
        env->cur_tb = tb;
        op = base = tb->code;
        DISPATCH();
    }
    *exit_slot = -1;
    return tb;
}
exit:
    *exit_slot = -1;
    return tb;

#undef DISPATCH
#undef NEXT
#undef BINOP
#undef BRANCH
#undef LOAD
#undef STORE
}

const Backend backend_interp = {
    .name = "interp",
    .gen = interp_gen,
    .exec = interp_exec,
    .fault_insn = interp_fault_insn,
};
