/* The intermediate representation between guest decoders and host back ends: a linear list of
 * three-address operations on 32-bit variables (guest globals living in the CPU state, block-local
 * temporaries and constants), with labels, conditional branches, soft-MMU loads/stores, helper
 * calls and block exits. ISA-neutral: the guest front end names its globals and helpers. */
#ifndef IR_IR_H
#define IR_IR_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef uint16_t IrVar; /* index into IrBlock.vars; 0 is "no variable" */

typedef enum IrVarKind { IRV_NONE, IRV_GLOBAL, IRV_TEMP, IRV_CONST } IrVarKind;

typedef struct IrVarInfo {
    uint8_t kind;
    uint16_t slot;  /* IRV_GLOBAL: 32-bit slot index in the CPU state */
    uint32_t value; /* IRV_CONST */
} IrVarInfo;

typedef enum IrOpc {
    IR_NOP,
    IR_MOV,   /* d = a */
    IR_ADD,   /* d = a + b */
    IR_SUB,
    IR_MUL,   /* low 32 bits */
    IR_MULHU, /* high 32 bits of the unsigned 64-bit product */
    IR_MULHS, /* high 32 bits of the signed 64-bit product */
    IR_MULSO, /* d = 1 if the signed 32-bit product a * b overflows, else 0 */
    IR_DIVU2, /* d = (c:a) / b unsigned, 64 by 32 bits; the producer guarantees c < b */
    IR_DIVS,  /* d = a / b signed; the producer guarantees b != 0 and not INT_MIN / -1 */
    IR_AND,
    IR_OR,
    IR_XOR,
    IR_SHL, /* shift counts are taken modulo 32 */
    IR_SHR,
    IR_SAR,
    IR_ROL,
    IR_ROR,
    IR_NEG,
    IR_NOT,
    IR_SEXT8,
    IR_SEXT16,
    IR_ZEXT8,
    IR_ZEXT16,
    IR_BSWAP,
    IR_CTZ,     /* count trailing zeros; a != 0 */
    IR_CLZ,     /* count leading zeros; a != 0 */
    IR_EXTRACT, /* d = (a >> pos) & mask(len); imm = pos | len << 8 */
    IR_DEPOSIT, /* d = a with bits [pos, pos+len) replaced by the low bits of b */
    IR_SETCOND, /* d = (a cond b) ? 1 : 0 */
    IR_MOVCOND, /* if (a cond b) d = c  (d is read and written) */
    IR_LD,      /* d = mem[a]; size = access size | IR_SIGNED; aux = MMU index */
    IR_ST,      /* mem[a] = b */
    IR_CHKRANGE, /* fault with vector aux (error code 0) unless b <= a && a + imm <= c, without
                    wrap-around: segment limit checks */
    IR_LABEL,   /* imm = label */
    IR_BR,      /* goto label imm */
    IR_BRCOND,  /* if (a cond b) goto label imm */
    IR_CALL,    /* d = helper imm (env, a, b, c); d may be 0 */
    IR_GOTO_TB, /* leave the block to the successor slot imm & 1, chainable; with
                   IR_GOTO_TB_XPAGE in imm the successor (EIP set by the mov right before) is in
                   another page: chains must check that the page still maps where it did */
    IR_EXIT_LOOKUP, /* leave the block; the successor is found from the guest state */
    IR_EXIT,    /* leave the block and return to the run loop */
    IR_DISCARD, /* metadata: global d's value is dead from here on (no reader relies on it until
                   it is written again); lets the optimiser remove stores to it */
    IR_INSN_START, /* metadata: guest instruction at offset imm starts here; aux = front-end
                      state to restore on a fault (x86: the lazy-flags op) */
    IR_OPC_COUNT
} IrOpc;

#define IR_SIGNED 0x80 /* in IrOp.size for IR_LD */

typedef enum IrCond {
    IRC_EQ, IRC_NE,
    IRC_LTU, IRC_GEU, IRC_LEU, IRC_GTU,
    IRC_LT, IRC_GE, IRC_LE, IRC_GT,
    IRC_TSTEQ, /* (a & b) == 0 */
    IRC_TSTNE, /* (a & b) != 0 */
    IRC_COUNT
} IrCond;

typedef struct IrOp {
    uint8_t opc;
    uint8_t cond;
    uint8_t size;
    uint8_t aux;
    IrVar d, a, b, c;
    uint32_t imm;
} IrOp;

/* Helpers are C functions called from translated code with the CPU state and up to three
 * 32-bit arguments. Flags tell the optimiser and back ends what they may do. */
typedef uint32_t (*IrHelperFn)(void *env, uint32_t a, uint32_t b, uint32_t c);

#define IRH_NO_READ_G 0x1  /* does not read guest globals */
#define IRH_NO_WRITE_G 0x2 /* does not write guest globals */
#define IRH_NO_FAULT 0x4   /* never raises a guest exception or leaves the block */
#define IRH_NO_SIDE_EFFECTS 0x8 /* only computes its result: removable when that is unused */
/* A query: may read state, changes nothing. */
#define IRH_QUERY (IRH_NO_WRITE_G | IRH_NO_FAULT | IRH_NO_SIDE_EFFECTS)
#define IRH_PURE (IRH_NO_READ_G | IRH_QUERY) /* depends only on its arguments */

typedef struct IrHelper {
    IrHelperFn fn;
    const char *name;
    uint32_t flags;
} IrHelper;

typedef struct IrGlobalDesc {
    const char *name;
    uint16_t slot;
    uint8_t flags;
} IrGlobalDesc;

/* IrGlobalDesc.flags: a back end may keep the global in a host register, so reading it costs
 * no more than reading a temporary (copy propagation then prefers the global, which keeps
 * temporaries short-lived). */
#define IRG_REG 0x1

typedef struct IrBlock {
    IrOp *ops;
    int nops, capops;
    IrVarInfo *vars;
    int nvars, capvars;
    int nlabels;
    const IrHelper **helpers;
    int nhelpers, caphelpers;
    const IrGlobalDesc *globals;
    int nglobals;
} IrBlock;

/* Globals occupy vars 1..nglobals in the order given. */
void ir_block_init(IrBlock *b, const IrGlobalDesc *globals, int nglobals);
void ir_block_reset(IrBlock *b);
void ir_block_free(IrBlock *b);

static inline IrVar ir_global(const IrBlock *b, int index) { return (IrVar)(1 + index); }
IrVar ir_temp(IrBlock *b);
IrVar ir_const(IrBlock *b, uint32_t value);
int ir_new_label(IrBlock *b);
static inline bool ir_is_const(const IrBlock *b, IrVar v) { return b->vars[v].kind == IRV_CONST; }
static inline bool ir_is_global(const IrBlock *b, IrVar v) { return b->vars[v].kind == IRV_GLOBAL; }
static inline bool ir_is_temp(const IrBlock *b, IrVar v) { return b->vars[v].kind == IRV_TEMP; }
static inline uint32_t ir_const_value(const IrBlock *b, IrVar v) { return b->vars[v].value; }

IrOp *ir_emit(IrBlock *b, IrOpc opc, IrVar d, IrVar a, IrVar bb, IrVar c);

/* Builder: each emits one op. */
void ir_mov(IrBlock *b, IrVar d, IrVar a);
void ir_movi(IrBlock *b, IrVar d, uint32_t value);
void ir_binop(IrBlock *b, IrOpc opc, IrVar d, IrVar a, IrVar c);
void ir_binopi(IrBlock *b, IrOpc opc, IrVar d, IrVar a, uint32_t imm);
void ir_add(IrBlock *b, IrVar d, IrVar a, IrVar c);
void ir_addi(IrBlock *b, IrVar d, IrVar a, uint32_t imm);
void ir_sub(IrBlock *b, IrVar d, IrVar a, IrVar c);
void ir_and(IrBlock *b, IrVar d, IrVar a, IrVar c);
void ir_andi(IrBlock *b, IrVar d, IrVar a, uint32_t imm);
void ir_or(IrBlock *b, IrVar d, IrVar a, IrVar c);
void ir_xor(IrBlock *b, IrVar d, IrVar a, IrVar c);
void ir_shli(IrBlock *b, IrVar d, IrVar a, unsigned count);
void ir_shri(IrBlock *b, IrVar d, IrVar a, unsigned count);
void ir_sari(IrBlock *b, IrVar d, IrVar a, unsigned count);
void ir_unop(IrBlock *b, IrOpc opc, IrVar d, IrVar a);
void ir_extract(IrBlock *b, IrVar d, IrVar a, unsigned pos, unsigned len);
void ir_deposit(IrBlock *b, IrVar d, IrVar a, IrVar val, unsigned pos, unsigned len);
void ir_setcond(IrBlock *b, IrCond cond, IrVar d, IrVar a, IrVar c);
void ir_movcond(IrBlock *b, IrCond cond, IrVar d, IrVar a, IrVar c, IrVar val);
void ir_ld(IrBlock *b, IrVar d, IrVar addr, unsigned size, bool sign, unsigned mmu_idx);
void ir_st(IrBlock *b, IrVar addr, IrVar val, unsigned size, unsigned mmu_idx);
void ir_chkrange(IrBlock *b, IrVar off, IrVar lo, IrVar hi, unsigned size, unsigned vector);
void ir_label(IrBlock *b, int label);
void ir_br(IrBlock *b, int label);
void ir_brcond(IrBlock *b, IrCond cond, IrVar a, IrVar c, int label);
void ir_call(IrBlock *b, const IrHelper *h, IrVar d, IrVar a, IrVar bb, IrVar c);
#define IR_GOTO_TB_XPAGE 2u
void ir_goto_tb(IrBlock *b, unsigned slot);
void ir_exit_lookup(IrBlock *b);
void ir_exit(IrBlock *b);
void ir_insn_start(IrBlock *b, uint32_t offset, unsigned aux);
void ir_discard(IrBlock *b, IrVar global);

/* Constant evaluation shared by the optimiser and the interpreter. */
uint32_t ir_eval_binop(IrOpc opc, uint32_t a, uint32_t b);
uint32_t ir_eval_unop(IrOpc opc, uint32_t a, uint32_t imm);
/* IR_DIVU2 (c:a / b) and IR_DIVS (a / b): false, *d untouched, when the operands break the
 * op's guarantee (the caller then must not rely on a value). */
bool ir_eval_div(IrOpc opc, uint32_t a, uint32_t b, uint32_t c, uint32_t *d);
bool ir_eval_cond(IrCond cond, uint32_t a, uint32_t b);
IrCond ir_invert_cond(IrCond cond);

/* Optimiser: constant folding and copy propagation, then dead-code elimination by liveness
 * (dead flag computations disappear here). */
void ir_optimize(IrBlock *b);
/* Checks structural invariants (defined vars, labels, operands); returns false and prints the
 * problem to stderr if something is wrong. */
bool ir_verify(const IrBlock *b);
void ir_dump(const IrBlock *b, FILE *out);
const char *ir_opc_name(unsigned opc);

/* Op properties. ir_op_uses gives the inputs an op reads (a, b, c in order; *nin of them,
 * zero entries of a call excluded by the caller) and whether it defines d. IR_MOVCOND also
 * reads d. */
void ir_op_uses(const IrOp *op, IrVar in[3], int *nin, bool *def);
bool ir_op_has_side_effects(const IrBlock *b, const IrOp *op);
bool ir_op_may_fault(const IrBlock *b, const IrOp *op);

#endif
