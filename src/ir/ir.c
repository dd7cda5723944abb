/* IR construction, constant evaluation, verification and dumping (see ir.h). */
#include "ir/ir.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void ir_block_init(IrBlock *b, const IrGlobalDesc *globals, int nglobals)
{
    memset(b, 0, sizeof *b);
    b->globals = globals;
    b->nglobals = nglobals;
    ir_block_reset(b);
}

void ir_block_reset(IrBlock *b)
{
    b->nops = 0;
    b->nlabels = 0;
    b->nhelpers = 0;
    int need = b->nglobals + 1;
    if (b->capvars < need + 256) {
        b->capvars = need + 256;
        b->vars = xrealloc(b->vars, sizeof(IrVarInfo) * b->capvars);
    }
    b->vars[0] = (IrVarInfo){IRV_NONE, 0, 0};
    for (int i = 0; i < b->nglobals; i++)
        b->vars[1 + i] = (IrVarInfo){IRV_GLOBAL, b->globals[i].slot, 0};
    b->nvars = need;
}

void ir_block_free(IrBlock *b)
{
    free(b->ops);
    free(b->vars);
    free(b->helpers);
    memset(b, 0, sizeof *b);
}

static IrVar new_var(IrBlock *b, IrVarKind kind, uint32_t value)
{
    if (b->nvars == b->capvars) {
        b->capvars *= 2;
        b->vars = xrealloc(b->vars, sizeof(IrVarInfo) * b->capvars);
    }
    if (b->nvars >= 0xffff) abort(); /* translators bound block size well below this */
    b->vars[b->nvars] = (IrVarInfo){(uint8_t)kind, 0, value};
    return (IrVar)b->nvars++;
}

IrVar ir_temp(IrBlock *b) { return new_var(b, IRV_TEMP, 0); }

IrVar ir_const(IrBlock *b, uint32_t value)
{
    /* Reuse a recent identical constant to keep the variable table small. */
    for (int i = b->nvars - 1; i > b->nvars - 16 && i > b->nglobals; i--)
        if (b->vars[i].kind == IRV_CONST && b->vars[i].value == value) return (IrVar)i;
    return new_var(b, IRV_CONST, value);
}

int ir_new_label(IrBlock *b) { return b->nlabels++; }

IrOp *ir_emit(IrBlock *b, IrOpc opc, IrVar d, IrVar a, IrVar bb, IrVar c)
{
    if (b->nops == b->capops) {
        b->capops = b->capops ? 2 * b->capops : 256;
        b->ops = xrealloc(b->ops, sizeof(IrOp) * b->capops);
    }
    IrOp *op = &b->ops[b->nops++];
    *op = (IrOp){.opc = (uint8_t)opc, .d = d, .a = a, .b = bb, .c = c};
    return op;
}

void ir_mov(IrBlock *b, IrVar d, IrVar a)
{
    if (d != a) ir_emit(b, IR_MOV, d, a, 0, 0);
}
void ir_movi(IrBlock *b, IrVar d, uint32_t value) { ir_emit(b, IR_MOV, d, ir_const(b, value), 0, 0); }
void ir_binop(IrBlock *b, IrOpc opc, IrVar d, IrVar a, IrVar c) { ir_emit(b, opc, d, a, c, 0); }
void ir_binopi(IrBlock *b, IrOpc opc, IrVar d, IrVar a, uint32_t imm)
{
    ir_emit(b, opc, d, a, ir_const(b, imm), 0);
}
void ir_add(IrBlock *b, IrVar d, IrVar a, IrVar c) { ir_binop(b, IR_ADD, d, a, c); }
void ir_addi(IrBlock *b, IrVar d, IrVar a, uint32_t imm) { ir_binopi(b, IR_ADD, d, a, imm); }
void ir_sub(IrBlock *b, IrVar d, IrVar a, IrVar c) { ir_binop(b, IR_SUB, d, a, c); }
void ir_and(IrBlock *b, IrVar d, IrVar a, IrVar c) { ir_binop(b, IR_AND, d, a, c); }
void ir_andi(IrBlock *b, IrVar d, IrVar a, uint32_t imm) { ir_binopi(b, IR_AND, d, a, imm); }
void ir_or(IrBlock *b, IrVar d, IrVar a, IrVar c) { ir_binop(b, IR_OR, d, a, c); }
void ir_xor(IrBlock *b, IrVar d, IrVar a, IrVar c) { ir_binop(b, IR_XOR, d, a, c); }
void ir_shli(IrBlock *b, IrVar d, IrVar a, unsigned n) { ir_binopi(b, IR_SHL, d, a, n); }
void ir_shri(IrBlock *b, IrVar d, IrVar a, unsigned n) { ir_binopi(b, IR_SHR, d, a, n); }
void ir_sari(IrBlock *b, IrVar d, IrVar a, unsigned n) { ir_binopi(b, IR_SAR, d, a, n); }
void ir_unop(IrBlock *b, IrOpc opc, IrVar d, IrVar a) { ir_emit(b, opc, d, a, 0, 0); }

void ir_extract(IrBlock *b, IrVar d, IrVar a, unsigned pos, unsigned len)
{
    ir_emit(b, IR_EXTRACT, d, a, 0, 0)->imm = pos | len << 8;
}

void ir_deposit(IrBlock *b, IrVar d, IrVar a, IrVar val, unsigned pos, unsigned len)
{
    ir_emit(b, IR_DEPOSIT, d, a, val, 0)->imm = pos | len << 8;
}

void ir_setcond(IrBlock *b, IrCond cond, IrVar d, IrVar a, IrVar c)
{
    ir_emit(b, IR_SETCOND, d, a, c, 0)->cond = cond;
}

void ir_movcond(IrBlock *b, IrCond cond, IrVar d, IrVar a, IrVar c, IrVar val)
{
    ir_emit(b, IR_MOVCOND, d, a, c, val)->cond = cond;
}

void ir_ld(IrBlock *b, IrVar d, IrVar addr, unsigned size, bool sign, unsigned mmu_idx)
{
    IrOp *op = ir_emit(b, IR_LD, d, addr, 0, 0);
    op->size = size | (sign && size < 4 ? IR_SIGNED : 0);
    op->aux = mmu_idx;
}

void ir_st(IrBlock *b, IrVar addr, IrVar val, unsigned size, unsigned mmu_idx)
{
    IrOp *op = ir_emit(b, IR_ST, 0, addr, val, 0);
    op->size = size;
    op->aux = mmu_idx;
}

void ir_chkrange(IrBlock *b, IrVar off, IrVar lo, IrVar hi, unsigned size, unsigned vector)
{
    IrOp *op = ir_emit(b, IR_CHKRANGE, 0, off, lo, hi);
    op->imm = size - 1;
    op->aux = vector;
}

void ir_label(IrBlock *b, int label) { ir_emit(b, IR_LABEL, 0, 0, 0, 0)->imm = label; }
void ir_br(IrBlock *b, int label) { ir_emit(b, IR_BR, 0, 0, 0, 0)->imm = label; }

void ir_brcond(IrBlock *b, IrCond cond, IrVar a, IrVar c, int label)
{
    IrOp *op = ir_emit(b, IR_BRCOND, 0, a, c, 0);
    op->cond = cond;
    op->imm = label;
}

void ir_call(IrBlock *b, const IrHelper *h, IrVar d, IrVar a, IrVar bb, IrVar c)
{
    int idx = -1;
    for (int i = 0; i < b->nhelpers; i++)
        if (b->helpers[i] == h) idx = i;
    if (idx < 0) {
        if (b->nhelpers == b->caphelpers) {
            b->caphelpers = b->caphelpers ? 2 * b->caphelpers : 16;
            b->helpers = xrealloc(b->helpers, sizeof(IrHelper *) * b->caphelpers);
        }
        idx = b->nhelpers;
        b->helpers[b->nhelpers++] = h;
    }
    ir_emit(b, IR_CALL, d, a, bb, c)->imm = idx;
}

void ir_goto_tb(IrBlock *b, unsigned slot) { ir_emit(b, IR_GOTO_TB, 0, 0, 0, 0)->imm = slot; }
void ir_exit_lookup(IrBlock *b) { ir_emit(b, IR_EXIT_LOOKUP, 0, 0, 0, 0); }
void ir_exit(IrBlock *b) { ir_emit(b, IR_EXIT, 0, 0, 0, 0); }

void ir_insn_start(IrBlock *b, uint32_t offset, unsigned aux)
{
    IrOp *op = ir_emit(b, IR_INSN_START, 0, 0, 0, 0);
    op->imm = offset;
    op->aux = aux;
}

void ir_discard(IrBlock *b, IrVar global) { ir_emit(b, IR_DISCARD, global, 0, 0, 0); }

uint32_t ir_eval_binop(IrOpc opc, uint32_t a, uint32_t b)
{
    switch (opc) {
    case IR_ADD: return a + b;
    case IR_SUB: return a - b;
    case IR_MUL: return a * b;
    case IR_MULHU: return (uint32_t)(((uint64_t)a * b) >> 32);
    case IR_MULHS: return (uint32_t)((uint64_t)((int64_t)(int32_t)a * (int32_t)b) >> 32);
    case IR_MULSO: {
        int64_t p = (int64_t)(int32_t)a * (int32_t)b;
        return p != (int32_t)p;
    }
    case IR_AND: return a & b;
    case IR_OR: return a | b;
    case IR_XOR: return a ^ b;
    case IR_SHL: return a << (b & 31);
    case IR_SHR: return a >> (b & 31);
    case IR_SAR: return (uint32_t)((int32_t)a >> (b & 31));
    case IR_ROL: b &= 31; return b ? (a << b) | (a >> (32 - b)) : a;
    case IR_ROR: b &= 31; return b ? (a >> b) | (a << (32 - b)) : a;
    default: return 0;
    }
}

bool ir_eval_div(IrOpc opc, uint32_t a, uint32_t b, uint32_t c, uint32_t *d)
{
    if (opc == IR_DIVU2) {
        if (c >= b) return false;
        *d = (uint32_t)((((uint64_t)c << 32) | a) / b);
        return true;
    }
    if (b == 0 || (a == 0x80000000u && b == 0xffffffffu)) return false;
    *d = (uint32_t)((int32_t)a / (int32_t)b);
    return true;
}

uint32_t ir_eval_unop(IrOpc opc, uint32_t a, uint32_t imm)
{
    switch (opc) {
    case IR_MOV: return a;
    case IR_NEG: return -a;
    case IR_NOT: return ~a;
    case IR_SEXT8: return (uint32_t)(int32_t)(int8_t)a;
    case IR_SEXT16: return (uint32_t)(int32_t)(int16_t)a;
    case IR_ZEXT8: return a & 0xff;
    case IR_ZEXT16: return a & 0xffff;
    case IR_BSWAP: return __builtin_bswap32(a);
    case IR_CTZ: return a ? (uint32_t)__builtin_ctz(a) : 32;
    case IR_CLZ: return a ? (uint32_t)__builtin_clz(a) : 32;
    case IR_EXTRACT: {
        unsigned pos = imm & 0xff, len = imm >> 8;
        uint32_t v = a >> pos;
        return len >= 32 ? v : v & ((1u << len) - 1);
    }
    default: return 0;
    }
}

bool ir_eval_cond(IrCond cond, uint32_t a, uint32_t b)
{
    switch (cond) {
    case IRC_EQ: return a == b;
    case IRC_NE: return a != b;
    case IRC_LTU: return a < b;
    case IRC_GEU: return a >= b;
    case IRC_LEU: return a <= b;
    case IRC_GTU: return a > b;
    case IRC_LT: return (int32_t)a < (int32_t)b;
    case IRC_GE: return (int32_t)a >= (int32_t)b;
    case IRC_LE: return (int32_t)a <= (int32_t)b;
    case IRC_GT: return (int32_t)a > (int32_t)b;
    case IRC_TSTEQ: return (a & b) == 0;
    case IRC_TSTNE: return (a & b) != 0;
    default: return false;
    }
}

IrCond ir_invert_cond(IrCond cond)
{
    static const IrCond inv[IRC_COUNT] = {
        [IRC_EQ] = IRC_NE,   [IRC_NE] = IRC_EQ,   [IRC_LTU] = IRC_GEU, [IRC_GEU] = IRC_LTU,
        [IRC_LEU] = IRC_GTU, [IRC_GTU] = IRC_LEU, [IRC_LT] = IRC_GE,   [IRC_GE] = IRC_LT,
        [IRC_LE] = IRC_GT,   [IRC_GT] = IRC_LE,   [IRC_TSTEQ] = IRC_TSTNE, [IRC_TSTNE] = IRC_TSTEQ,
    };
    return inv[cond];
}

bool ir_op_may_fault(const IrBlock *b, const IrOp *op)
{
    switch (op->opc) {
    case IR_LD:
    case IR_ST:
    case IR_CHKRANGE: return true;
    case IR_CALL: return !(b->helpers[op->imm]->flags & IRH_NO_FAULT);
    default: return false;
    }
}

bool ir_op_has_side_effects(const IrBlock *b, const IrOp *op)
{
    switch (op->opc) {
    case IR_LD: /* a load can fault, so it stays even when its value is unused */
    case IR_ST:
    case IR_CHKRANGE:
    case IR_LABEL:
    case IR_BR:
    case IR_BRCOND:
    case IR_GOTO_TB:
    case IR_EXIT_LOOKUP:
    case IR_EXIT:
    case IR_INSN_START: return true;
    case IR_CALL: return (b->helpers[op->imm]->flags & IRH_QUERY) != IRH_QUERY;
    default: return false;
    }
}

static const char *const opc_names[IR_OPC_COUNT] = {
    [IR_NOP] = "nop", [IR_DISCARD] = "discard", [IR_MOV] = "mov", [IR_ADD] = "add", [IR_SUB] = "sub", [IR_MUL] = "mul",
    [IR_MULHU] = "mulhu", [IR_MULHS] = "mulhs", [IR_MULSO] = "mulso", [IR_DIVU2] = "divu2", [IR_DIVS] = "divs", [IR_AND] = "and", [IR_OR] = "or",
    [IR_XOR] = "xor", [IR_SHL] = "shl", [IR_SHR] = "shr", [IR_SAR] = "sar", [IR_ROL] = "rol",
    [IR_ROR] = "ror", [IR_NEG] = "neg", [IR_NOT] = "not", [IR_SEXT8] = "sext8",
    [IR_SEXT16] = "sext16", [IR_ZEXT8] = "zext8", [IR_ZEXT16] = "zext16", [IR_BSWAP] = "bswap",
    [IR_CTZ] = "ctz", [IR_CLZ] = "clz", [IR_EXTRACT] = "extract", [IR_DEPOSIT] = "deposit",
    [IR_SETCOND] = "setcond", [IR_MOVCOND] = "movcond", [IR_LD] = "ld", [IR_ST] = "st",
    [IR_CHKRANGE] = "chkrange", [IR_LABEL] = "label", [IR_BR] = "br", [IR_BRCOND] = "brcond",
    [IR_CALL] = "call", [IR_GOTO_TB] = "goto_tb", [IR_EXIT_LOOKUP] = "exit_lookup",
    [IR_EXIT] = "exit", [IR_INSN_START] = "insn_start",
};

static const char *const cond_names[IRC_COUNT] = {
    "eq", "ne", "ltu", "geu", "leu", "gtu", "lt", "ge", "le", "gt", "tsteq", "tstne",
};

const char *ir_opc_name(unsigned opc) { return opc < IR_OPC_COUNT ? opc_names[opc] : "?"; }

static void dump_var(const IrBlock *b, IrVar v, FILE *out)
{
    const IrVarInfo *vi = &b->vars[v];
    switch (vi->kind) {
    case IRV_GLOBAL: fprintf(out, "%s", b->globals[v - 1].name); break;
    case IRV_TEMP: fprintf(out, "t%d", v); break;
    case IRV_CONST: fprintf(out, "$0x%x", vi->value); break;
    default: fprintf(out, "-"); break;
    }
}

void ir_dump(const IrBlock *b, FILE *out)
{
    for (int i = 0; i < b->nops; i++) {
        const IrOp *op = &b->ops[i];
        if (op->opc == IR_NOP) continue;
        if (op->opc == IR_INSN_START) {
            fprintf(out, " ---- +0x%x cc=%d\n", op->imm, op->aux);
            continue;
        }
        if (op->opc == IR_LABEL) {
            fprintf(out, " L%u:\n", op->imm);
            continue;
        }
        fprintf(out, "  %3d %s", i, ir_opc_name(op->opc));
        if (op->opc == IR_SETCOND || op->opc == IR_MOVCOND || op->opc == IR_BRCOND)
            fprintf(out, ".%s", cond_names[op->cond]);
        if (op->opc == IR_LD || op->opc == IR_ST)
            fprintf(out, "%d%s.m%d", (op->size & 0x7f) * 8, op->size & IR_SIGNED ? "s" : "",
                    op->aux);
        if (op->opc == IR_CALL) fprintf(out, " %s", b->helpers[op->imm]->name);
        IrVar vars[4] = {op->d, op->a, op->b, op->c};
        const char *sep = " ";
        for (int k = 0; k < 4; k++) {
            if (!vars[k]) continue;
            fputs(sep, out);
            dump_var(b, vars[k], out);
            sep = ", ";
        }
        switch (op->opc) {
        case IR_EXTRACT:
        case IR_DEPOSIT: fprintf(out, " [%u:%u]", op->imm & 0xff, op->imm >> 8); break;
        case IR_BR:
        case IR_BRCOND: fprintf(out, " -> L%u", op->imm); break;
        case IR_GOTO_TB: fprintf(out, " %u", op->imm); break;
        case IR_CHKRANGE: fprintf(out, " +%u #%u", op->imm, op->aux); break;
        default: break;
        }
        fputc('\n', out);
    }
}

/* How many inputs each op reads (a, b, c) and whether it writes d. */
typedef struct OpShape {
    uint8_t nin;
    bool def;
} OpShape;

static OpShape op_shape(const IrOp *op)
{
    switch (op->opc) {
    case IR_MOV:
    case IR_NEG:
    case IR_NOT:
    case IR_SEXT8:
    case IR_SEXT16:
    case IR_ZEXT8:
    case IR_ZEXT16:
    case IR_BSWAP:
    case IR_CTZ:
    case IR_CLZ:
    case IR_EXTRACT:
    case IR_LD: return (OpShape){1, true};
    case IR_DISCARD: return (OpShape){0, true};
    case IR_ADD: case IR_SUB: case IR_MUL: case IR_MULHU: case IR_MULHS: case IR_AND:
    case IR_OR: case IR_XOR: case IR_SHL: case IR_SHR: case IR_SAR: case IR_ROL: case IR_ROR:
    case IR_MULSO: case IR_DEPOSIT: case IR_DIVS:
    case IR_SETCOND: return (OpShape){2, true};
    case IR_MOVCOND: case IR_DIVU2: return (OpShape){3, true};
    case IR_ST:
    case IR_BRCOND: return (OpShape){2, false};
    case IR_CHKRANGE: return (OpShape){3, false};
    case IR_CALL: return (OpShape){3, op->d != 0};
    default: return (OpShape){0, false};
    }
}

bool ir_verify(const IrBlock *b)
{
    bool ok = true;
    for (int i = 0; i < b->nops; i++) {
        const IrOp *op = &b->ops[i];
        OpShape s = op_shape(op);
        IrVar in[3] = {op->a, op->b, op->c};
        for (int k = 0; k < s.nin; k++) {
            if (op->opc == IR_CALL && !in[k]) continue;
            if (!in[k] || in[k] >= b->nvars) {
                fprintf(stderr, "ir_verify: op %d (%s): bad input %d\n", i, ir_opc_name(op->opc), k);
                ok = false;
            }
        }
        if (s.def && (!op->d || op->d >= b->nvars || b->vars[op->d].kind == IRV_CONST)) {
            fprintf(stderr, "ir_verify: op %d (%s): bad destination\n", i, ir_opc_name(op->opc));
            ok = false;
        }
        if ((op->opc == IR_BR || op->opc == IR_BRCOND || op->opc == IR_LABEL) &&
            op->imm >= (uint32_t)b->nlabels) {
            fprintf(stderr, "ir_verify: op %d: bad label %u\n", i, op->imm);
            ok = false;
        }
    }
    if (b->nops == 0) return ok;
    uint8_t last = b->ops[b->nops - 1].opc;
    if (last != IR_GOTO_TB && last != IR_EXIT && last != IR_EXIT_LOOKUP && last != IR_BR) {
        fprintf(stderr, "ir_verify: block does not end with an exit\n");
        ok = false;
    }
    return ok;
}

void ir_op_uses(const IrOp *op, IrVar in[3], int *nin, bool *def)
{
    OpShape s = op_shape(op);
    in[0] = op->a, in[1] = op->b, in[2] = op->c;
    *nin = s.nin;
    *def = s.def;
}
