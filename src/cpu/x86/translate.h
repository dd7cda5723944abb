/* x86 -> IR translator: per-block context and the operand, flag and control-flow primitives
 * the instruction-group translators (translate/ *.c) build on. */
#ifndef CPU_X86_TRANSLATE_H
#define CPU_X86_TRANSLATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"
#include "cpu/x86/decode.h"
#include "cpu/x86/helpers.h"
#include "exec/tb.h"
#include "ir/ir.h"

/* Translates the block tb->pc in mode tb->flags; generates back-end code. Returns false if the
 * translation cache is full. Guest faults during instruction fetch of the first instruction
 * unwind like any other exception. */
bool x86_translate_block(CPUX86State *env, TranslationBlock *tb);

enum { DISAS_NEXT, DISAS_END };

typedef struct DisasContext {
    CPUX86State *env;
    IrBlock *b;
    TranslationBlock *tb;
    X86Insn insn;
    uint32_t pc, next_pc;
    uint32_t cs_base;
    uint32_t flags;
    int cpl, mem_idx;
    bool pe, vm86, code32, ss32, flat;
    int cc_op;     /* static lazy-flags op, or CC_OP_DYNAMIC */
    IrVar cc_srcT; /* first operand of the last SUB/CMP, when cc_op is a SUB op */
    int cc_discarded; /* the static op whose unused lazy-flags globals were last discarded */
    int end;

    /* IR globals. */
    IrVar R[8], eip, g_cc_op, cc_dst, cc_src, cc_src2, eflags, df, cs_limit;
    IrVar seg_base[6], rlo[6], rhi[6], wlo[6], whi[6];
} DisasContext;

/* An operand location: a register (with size) or memory at a computed linear address. */
typedef struct Loc {
    bool mem;
    uint8_t size;
    uint8_t reg;
    IrVar lin;
} Loc;

/* ---- primitives (translate.c) ---- */
IrVar tcg_temp(DisasContext *dc);
IrVar tcg_const(DisasContext *dc, uint32_t v);
IrVar gen_ea(DisasContext *dc, const X86Operand *o);
IrVar gen_lin(DisasContext *dc, int seg, IrVar off, unsigned size, bool write);
IrVar gen_ld(DisasContext *dc, IrVar lin, unsigned size, bool sign);
void gen_st(DisasContext *dc, IrVar lin, IrVar val, unsigned size);
Loc gen_loc(DisasContext *dc, const X86Operand *o, bool write);
IrVar gen_read(DisasContext *dc, const Loc *l);
IrVar gen_read_sext(DisasContext *dc, const Loc *l);
void gen_write(DisasContext *dc, const Loc *l, IrVar v);
IrVar gen_get_reg(DisasContext *dc, int reg, int size);
void gen_set_reg(DisasContext *dc, int reg, int size, IrVar v);
IrVar gen_operand(DisasContext *dc, const X86Operand *o); /* read any source operand */
IrVar gen_ext(DisasContext *dc, IrVar v, int size, bool sign);

/* Stack. */
void gen_push(DisasContext *dc, IrVar v, int size);
IrVar gen_pop_peek(DisasContext *dc, int size, int offset); /* load at SS:ESP+offset */
void gen_add_esp(DisasContext *dc, int delta);
IrVar gen_stack_lin(DisasContext *dc, IrVar sp_off, unsigned size, bool write);

/* Flags. */
void gen_set_cc(DisasContext *dc, int cc_op, IrVar dst, IrVar src, IrVar src2);
void gen_sync_cc_op(DisasContext *dc);
IrVar gen_compute_eflags(DisasContext *dc); /* CC bits of the current lazy state */
IrVar gen_compute_cf(DisasContext *dc);     /* 0 or 1 */
void gen_cond(DisasContext *dc, int cond, IrCond *c, IrVar *a, IrVar *b);
IrVar gen_setcc(DisasContext *dc, int cond); /* 0 or 1 */

/* Control. */
void gen_jmp(DisasContext *dc, uint32_t target, int slot);
void gen_end_block(DisasContext *dc); /* next instruction in a new block (mode may change) */
void gen_check_cs_limit(DisasContext *dc, IrVar target);
void gen_exception(DisasContext *dc, int vector, uint32_t err);
void gen_helper(DisasContext *dc, const IrHelper *h, IrVar d, IrVar a, IrVar b, IrVar c);
uint32_t mask_ip(DisasContext *dc, uint32_t eip);

/* Instruction groups. Each returns false if it does not handle insn->mnem. */
bool translate_alu(DisasContext *dc);
bool translate_control(DisasContext *dc);
bool translate_string(DisasContext *dc);
bool translate_system(DisasContext *dc);
bool translate_x87(DisasContext *dc);

#endif
