/* x86-64 instruction encoder for the JIT back end: the integer subset it generates (ALU, moves
 * with zero/sign extension, shifts, multiplies, bit scans, conditional moves and sets, jumps,
 * calls), encoded per the Intel SDM vol. 2 (REX, ModRM, SIB, displacements, immediates). */
#ifndef BACKEND_X86_64_X64_EMIT_H
#define BACKEND_X86_64_X64_EMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* clang-format off */
enum {
    X_RAX, X_RCX, X_RDX, X_RBX, X_RSP, X_RBP, X_RSI, X_RDI,
    X_R8, X_R9, X_R10, X_R11, X_R12, X_R13, X_R14, X_R15,
};

/* Group-1 ALU operations (the /digit of opcodes 80/81/83 and bits 3-5 of 00-3F). */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_ADC = 2, ALU_SBB = 3, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6,
       ALU_CMP = 7 };
/* Group-2 shifts (the /digit of C1/D1/D3). */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };
/* Group-3 unary operations (F7 /digit). */
enum { UN_NOT = 2, UN_NEG = 3, UN_MUL = 4, UN_IMUL = 5, UN_DIV = 6, UN_IDIV = 7 };
/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE,
       CC_LE, CC_G };
/* clang-format on */

/* Memory operand [base + index * (1 << scale) + disp]; index -1 for none. base is required. */
typedef struct X64Mem {
    int8_t base, index;
    uint8_t scale;
    int32_t disp;
} X64Mem;

static inline X64Mem x64_mem(int base, int32_t disp)
{
    return (X64Mem){(int8_t)base, -1, 0, disp};
}
static inline X64Mem x64_mem_idx(int base, int index, int scale, int32_t disp)
{
    return (X64Mem){(int8_t)base, (int8_t)index, (uint8_t)scale, disp};
}

/* Output buffer: p is where bytes are written; offsets are relative to it. Writers may run up
 * to X64_SLACK bytes past `limit`; callers check x64_full() between operations. */
typedef struct X64Buf {
    uint8_t *p;
    size_t pos, limit;
} X64Buf;

#define X64_SLACK 8192

static inline bool x64_full(const X64Buf *b)
{
    return b->pos > b->limit;
}

static inline void x64_byte(X64Buf *b, uint8_t v)
{
    b->p[b->pos++] = v;
}
void x64_u16(X64Buf *b, uint16_t v);
void x64_u32(X64Buf *b, uint32_t v);
void x64_u64(X64Buf *b, uint64_t v);
/* Writes rel32 at offset `at` so that it reaches offset `target`. */
void x64_patch_rel32(X64Buf *b, size_t at, size_t target);
/* n bytes of NOPs, in as few instructions as the recommended forms allow. */
void x64_nops(X64Buf *b, unsigned n);
/* Pads with NOPs until pos % align == want. */
void x64_align(X64Buf *b, unsigned align, unsigned want);

/* ALU: d op= s. w selects 64-bit operand size. */
void x64_alu_rr(X64Buf *b, bool w, int op, int d, int s);
void x64_alu_rm(X64Buf *b, bool w, int op, int d, X64Mem m);
void x64_alu_mr(X64Buf *b, bool w, int op, X64Mem m, int s);
void x64_alu_ri(X64Buf *b, bool w, int op, int d, int32_t imm);
/* size 1, 2, 4 or 8 */
void x64_alu_mi(X64Buf *b, int size, int op, X64Mem m, int32_t imm);

/* Operand-size variants (size 1, 2 or 4) for flag computations: d op= m, test d,d, inc/dec d. */
void x64_alu_rm_sz(X64Buf *b, int size, int op, int d, X64Mem m);
void x64_test_rr_sz(X64Buf *b, int size, int a, int s);
void x64_incdec_r_sz(X64Buf *b, int size, bool dec, int d);
void x64_pushf(X64Buf *b);
/* x87 instruction with escape byte esc (D8-DF), ModRM reg field reg and a memory operand. */
void x64_x87_m(X64Buf *b, uint8_t esc, int reg, X64Mem m);

void x64_mov_rr(X64Buf *b, bool w, int d, int s);
/* Register to register move of the low 1 or 2 bytes, keeping the rest of d. */
void x64_mov_rr_low(X64Buf *b, int size, int d, int s);
/* Loads of size 4 or 8; smaller loads use x64_movzx_rm / x64_movsx_rm. */
void x64_mov_rm(X64Buf *b, bool w, int d, X64Mem m);
/* Stores of size 1, 2, 4 or 8. */
void x64_mov_mr(X64Buf *b, int size, X64Mem m, int s);
void x64_mov_mi(X64Buf *b, int size, X64Mem m, int32_t imm);
/* 32-bit immediate, zero-extended to 64 bits. */
void x64_mov_ri32(X64Buf *b, int d, uint32_t imm);
/* Shortest encoding of a 64-bit immediate. */
void x64_mov_ri64(X64Buf *b, int d, uint64_t imm);
/* movzx/movsx r32, r/m8 or r/m16 (size 1 or 2). */
void x64_movzx_rr(X64Buf *b, int size, int d, int s);
void x64_movzx_rm(X64Buf *b, int size, int d, X64Mem m);
void x64_movsx_rr(X64Buf *b, int size, int d, int s);
void x64_movsx_rm(X64Buf *b, int size, int d, X64Mem m);
void x64_movsxd_rr(X64Buf *b, int d, int s);
void x64_lea(X64Buf *b, bool w, int d, X64Mem m);
/* lea d, [rip + rel32]: returns the offset of the rel32 (x64_patch_rel32). */
size_t x64_lea_rip(X64Buf *b, int d);

void x64_shift_ri(X64Buf *b, bool w, int op, int d, unsigned imm);
/* BMI2 rorx d, s, imm (32-bit): rotate right without touching flags, three-operand. */
void x64_rorx_rr(X64Buf *b, int d, int s, unsigned imm);
void x64_rorx_rm(X64Buf *b, int d, X64Mem m, unsigned imm);
void x64_shift_rcl(X64Buf *b, bool w, int op, int d);
void x64_unary_r(X64Buf *b, bool w, int op, int d);
void x64_unary_m(X64Buf *b, int size, int op, X64Mem m);
void x64_imul_rr(X64Buf *b, bool w, int d, int s);
void x64_imul_rm(X64Buf *b, bool w, int d, X64Mem m);
void x64_imul_rri(X64Buf *b, int d, int s, int32_t imm);
void x64_imul_rmi(X64Buf *b, int d, X64Mem m, int32_t imm);
void x64_bswap(X64Buf *b, int d);
/* bsf (fwd) / bsr: d = index of the lowest / highest set bit of s. */
void x64_bitscan_rr(X64Buf *b, bool fwd, int d, int s);
void x64_bitscan_rm(X64Buf *b, bool fwd, int d, X64Mem m);
void x64_setcc(X64Buf *b, int cc, int d);
void x64_cmov_rr(X64Buf *b, int cc, int d, int s);
void x64_cmov_rm(X64Buf *b, int cc, int d, X64Mem m);
void x64_test_rr(X64Buf *b, bool w, int a, int s);
void x64_test_ri(X64Buf *b, int a, uint32_t imm);
void x64_test_mr(X64Buf *b, X64Mem m, int s);
void x64_test_mi(X64Buf *b, X64Mem m, uint32_t imm);
void x64_xchg_rr(X64Buf *b, bool w, int a, int s);
void x64_push(X64Buf *b, int r);
void x64_pop(X64Buf *b, int r);
void x64_ret(X64Buf *b);

/* Jumps and calls with a 32-bit displacement: return the offset of the rel32 field, to be
 * filled with x64_patch_rel32 (or left pointing at the next instruction). */
size_t x64_jmp32(X64Buf *b);
size_t x64_jcc32(X64Buf *b, int cc);
size_t x64_call32(X64Buf *b);
void x64_call_r(X64Buf *b, int r);
void x64_jmp_r(X64Buf *b, int r);
void x64_jmp_m(X64Buf *b, X64Mem m);
void x64_call_m(X64Buf *b, X64Mem m);
/* Short conditional jump: returns the offset of the rel8 field (x64_patch_rel8). */
size_t x64_jcc8(X64Buf *b, int cc);
size_t x64_jmp8(X64Buf *b);
void x64_patch_rel8(X64Buf *b, size_t at, size_t target);

#endif
