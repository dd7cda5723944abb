/* i386/P6 instruction decoder driven by one opcode table in the operand notation of the SDM
 * (vol. 2, appendix A: Eb/Ev r/m operands, Gb/Gv reg operands, Ib/Iz immediates, ...). */
#include "cpu/x86/decode.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cpu/x86/state.h"

/* Operand specifications (SDM vol. 2, A.2). */
enum {
    O_NONE,
    O_Eb, O_Ew, O_Ev, O_Gb, O_Gw, O_Gv,
    O_Ib,   /* imm8 (byte operation) */
    O_Ibs,  /* imm8 sign-extended to the operand size */
    O_Ibz,  /* imm8 zero-extended (ports, INT n, shift counts, ENTER level) */
    O_Iw,   /* imm16 (RET n, ENTER frame size) */
    O_Iv,   /* imm16/32 by operand size */
    O_Ix,   /* immediate of the operation's data size (imm8 for byte forms) */
    O_Jb, O_Jv,
    O_M,    /* memory, address only (LEA, INVLPG) */
    O_Mp,   /* far pointer in memory: offset + selector */
    O_Mq,   /* 8 bytes (CMPXCHG8B) */
    O_Ma,   /* BOUND: two operand-size values */
    O_Ms,   /* descriptor-table pseudo-descriptor: 6 bytes */
    O_Mfx,  /* 512-byte FXSAVE area */
    O_Mw_Rv, /* 16-bit memory, or a register of the operand size (MOV Ew,Sw; SMSW; SLDT; STR) */
    O_Ob, O_Ov, O_Sw, O_Ap, O_Rd, O_Cd, O_Dd,
    O_AL, O_CL, O_DX, O_eAX, O_ONE,
    O_Zb, O_Zv, /* register in the low three opcode bits */
    O_ES, O_CS, O_SS, O_DS, O_FS, O_GS,
};

/* Entry flags. */
#define E_MODRM 0x01
#define E_GRP 0x02   /* mnem is a group index; the ModRM reg field selects the entry */
#define E_LOCK 0x04  /* LOCK allowed (with a memory destination) */
#define E_COND 0x08  /* condition code in the low four opcode bits */
#define E_BYTE 0x10  /* byte operation */
#define E_SIZE0 0x20 /* no data size (operand size irrelevant) */

typedef struct OpEntry {
    uint8_t mnem;
    uint8_t ops[3];
    uint8_t flags;
} OpEntry;

enum { G_1, G_1A, G_2, G_3, G_4, G_5, G_6, G_7, G_8, G_9, G_11, G_15, G_NOP, G_COUNT };

#define B (E_BYTE)
#define M (E_MODRM)
#define L (E_LOCK)

static const OpEntry one_byte[256] = {
    [0x00] = {X86_ADD, {O_Eb, O_Gb}, M | L | B}, [0x01] = {X86_ADD, {O_Ev, O_Gv}, M | L},
    [0x02] = {X86_ADD, {O_Gb, O_Eb}, M | B},     [0x03] = {X86_ADD, {O_Gv, O_Ev}, M},
    [0x04] = {X86_ADD, {O_AL, O_Ib}, B},         [0x05] = {X86_ADD, {O_eAX, O_Iv}},
    [0x06] = {X86_PUSH, {O_ES}},                 [0x07] = {X86_POP, {O_ES}},
    [0x08] = {X86_OR, {O_Eb, O_Gb}, M | L | B},  [0x09] = {X86_OR, {O_Ev, O_Gv}, M | L},
    [0x0a] = {X86_OR, {O_Gb, O_Eb}, M | B},      [0x0b] = {X86_OR, {O_Gv, O_Ev}, M},
    [0x0c] = {X86_OR, {O_AL, O_Ib}, B},          [0x0d] = {X86_OR, {O_eAX, O_Iv}},
    [0x0e] = {X86_PUSH, {O_CS}},
    [0x10] = {X86_ADC, {O_Eb, O_Gb}, M | L | B}, [0x11] = {X86_ADC, {O_Ev, O_Gv}, M | L},
    [0x12] = {X86_ADC, {O_Gb, O_Eb}, M | B},     [0x13] = {X86_ADC, {O_Gv, O_Ev}, M},
    [0x14] = {X86_ADC, {O_AL, O_Ib}, B},         [0x15] = {X86_ADC, {O_eAX, O_Iv}},
    [0x16] = {X86_PUSH, {O_SS}},                 [0x17] = {X86_POP, {O_SS}},
    [0x18] = {X86_SBB, {O_Eb, O_Gb}, M | L | B}, [0x19] = {X86_SBB, {O_Ev, O_Gv}, M | L},
    [0x1a] = {X86_SBB, {O_Gb, O_Eb}, M | B},     [0x1b] = {X86_SBB, {O_Gv, O_Ev}, M},
    [0x1c] = {X86_SBB, {O_AL, O_Ib}, B},         [0x1d] = {X86_SBB, {O_eAX, O_Iv}},
    [0x1e] = {X86_PUSH, {O_DS}},                 [0x1f] = {X86_POP, {O_DS}},
    [0x20] = {X86_AND, {O_Eb, O_Gb}, M | L | B}, [0x21] = {X86_AND, {O_Ev, O_Gv}, M | L},
    [0x22] = {X86_AND, {O_Gb, O_Eb}, M | B},     [0x23] = {X86_AND, {O_Gv, O_Ev}, M},
    [0x24] = {X86_AND, {O_AL, O_Ib}, B},         [0x25] = {X86_AND, {O_eAX, O_Iv}},
    [0x27] = {X86_DAA, {0}, B},
    [0x28] = {X86_SUB, {O_Eb, O_Gb}, M | L | B}, [0x29] = {X86_SUB, {O_Ev, O_Gv}, M | L},
    [0x2a] = {X86_SUB, {O_Gb, O_Eb}, M | B},     [0x2b] = {X86_SUB, {O_Gv, O_Ev}, M},
    [0x2c] = {X86_SUB, {O_AL, O_Ib}, B},         [0x2d] = {X86_SUB, {O_eAX, O_Iv}},
    [0x2f] = {X86_DAS, {0}, B},
    [0x30] = {X86_XOR, {O_Eb, O_Gb}, M | L | B}, [0x31] = {X86_XOR, {O_Ev, O_Gv}, M | L},
    [0x32] = {X86_XOR, {O_Gb, O_Eb}, M | B},     [0x33] = {X86_XOR, {O_Gv, O_Ev}, M},
    [0x34] = {X86_XOR, {O_AL, O_Ib}, B},         [0x35] = {X86_XOR, {O_eAX, O_Iv}},
    [0x37] = {X86_AAA, {0}, B},
    [0x38] = {X86_CMP, {O_Eb, O_Gb}, M | B},     [0x39] = {X86_CMP, {O_Ev, O_Gv}, M},
    [0x3a] = {X86_CMP, {O_Gb, O_Eb}, M | B},     [0x3b] = {X86_CMP, {O_Gv, O_Ev}, M},
    [0x3c] = {X86_CMP, {O_AL, O_Ib}, B},         [0x3d] = {X86_CMP, {O_eAX, O_Iv}},
    [0x3f] = {X86_AAS, {0}, B},
    [0x40] = {X86_INC, {O_Zv}}, [0x41] = {X86_INC, {O_Zv}}, [0x42] = {X86_INC, {O_Zv}},
    [0x43] = {X86_INC, {O_Zv}}, [0x44] = {X86_INC, {O_Zv}}, [0x45] = {X86_INC, {O_Zv}},
    [0x46] = {X86_INC, {O_Zv}}, [0x47] = {X86_INC, {O_Zv}},
    [0x48] = {X86_DEC, {O_Zv}}, [0x49] = {X86_DEC, {O_Zv}}, [0x4a] = {X86_DEC, {O_Zv}},
    [0x4b] = {X86_DEC, {O_Zv}}, [0x4c] = {X86_DEC, {O_Zv}}, [0x4d] = {X86_DEC, {O_Zv}},
    [0x4e] = {X86_DEC, {O_Zv}}, [0x4f] = {X86_DEC, {O_Zv}},
    [0x50] = {X86_PUSH, {O_Zv}}, [0x51] = {X86_PUSH, {O_Zv}}, [0x52] = {X86_PUSH, {O_Zv}},
    [0x53] = {X86_PUSH, {O_Zv}}, [0x54] = {X86_PUSH, {O_Zv}}, [0x55] = {X86_PUSH, {O_Zv}},
    [0x56] = {X86_PUSH, {O_Zv}}, [0x57] = {X86_PUSH, {O_Zv}},
    [0x58] = {X86_POP, {O_Zv}}, [0x59] = {X86_POP, {O_Zv}}, [0x5a] = {X86_POP, {O_Zv}},
    [0x5b] = {X86_POP, {O_Zv}}, [0x5c] = {X86_POP, {O_Zv}}, [0x5d] = {X86_POP, {O_Zv}},
    [0x5e] = {X86_POP, {O_Zv}}, [0x5f] = {X86_POP, {O_Zv}},
    [0x60] = {X86_PUSHA}, [0x61] = {X86_POPA},
    [0x62] = {X86_BOUND, {O_Gv, O_Ma}, M},
    [0x63] = {X86_ARPL, {O_Ew, O_Gw}, M},
    [0x68] = {X86_PUSH, {O_Iv}},
    [0x69] = {X86_IMUL, {O_Gv, O_Ev, O_Iv}, M},
    [0x6a] = {X86_PUSH, {O_Ibs}},
    [0x6b] = {X86_IMUL, {O_Gv, O_Ev, O_Ibs}, M},
    [0x6c] = {X86_INS, {0}, B}, [0x6d] = {X86_INS},
    [0x6e] = {X86_OUTS, {0}, B}, [0x6f] = {X86_OUTS},
    [0x70] = {X86_JCC, {O_Jb}, E_COND}, [0x71] = {X86_JCC, {O_Jb}, E_COND},
    [0x72] = {X86_JCC, {O_Jb}, E_COND}, [0x73] = {X86_JCC, {O_Jb}, E_COND},
    [0x74] = {X86_JCC, {O_Jb}, E_COND}, [0x75] = {X86_JCC, {O_Jb}, E_COND},
    [0x76] = {X86_JCC, {O_Jb}, E_COND}, [0x77] = {X86_JCC, {O_Jb}, E_COND},
    [0x78] = {X86_JCC, {O_Jb}, E_COND}, [0x79] = {X86_JCC, {O_Jb}, E_COND},
    [0x7a] = {X86_JCC, {O_Jb}, E_COND}, [0x7b] = {X86_JCC, {O_Jb}, E_COND},
    [0x7c] = {X86_JCC, {O_Jb}, E_COND}, [0x7d] = {X86_JCC, {O_Jb}, E_COND},
    [0x7e] = {X86_JCC, {O_Jb}, E_COND}, [0x7f] = {X86_JCC, {O_Jb}, E_COND},
    [0x80] = {G_1, {O_Eb, O_Ib}, E_GRP | M | B}, [0x81] = {G_1, {O_Ev, O_Iv}, E_GRP | M},
    [0x82] = {G_1, {O_Eb, O_Ib}, E_GRP | M | B}, [0x83] = {G_1, {O_Ev, O_Ibs}, E_GRP | M},
    [0x84] = {X86_TEST, {O_Eb, O_Gb}, M | B}, [0x85] = {X86_TEST, {O_Ev, O_Gv}, M},
    [0x86] = {X86_XCHG, {O_Eb, O_Gb}, M | L | B}, [0x87] = {X86_XCHG, {O_Ev, O_Gv}, M | L},
    [0x88] = {X86_MOV, {O_Eb, O_Gb}, M | B}, [0x89] = {X86_MOV, {O_Ev, O_Gv}, M},
    [0x8a] = {X86_MOV, {O_Gb, O_Eb}, M | B}, [0x8b] = {X86_MOV, {O_Gv, O_Ev}, M},
    [0x8c] = {X86_MOV_SEG_STORE, {O_Mw_Rv, O_Sw}, M},
    [0x8d] = {X86_LEA, {O_Gv, O_M}, M},
    [0x8e] = {X86_MOV_SEG_LOAD, {O_Sw, O_Ew}, M},
    [0x8f] = {G_1A, {O_Ev}, E_GRP | M},
    [0x90] = {X86_NOP},
    [0x91] = {X86_XCHG, {O_Zv, O_eAX}}, [0x92] = {X86_XCHG, {O_Zv, O_eAX}},
    [0x93] = {X86_XCHG, {O_Zv, O_eAX}}, [0x94] = {X86_XCHG, {O_Zv, O_eAX}},
    [0x95] = {X86_XCHG, {O_Zv, O_eAX}}, [0x96] = {X86_XCHG, {O_Zv, O_eAX}},
    [0x97] = {X86_XCHG, {O_Zv, O_eAX}},
    [0x98] = {X86_CBW}, [0x99] = {X86_CWD},
    [0x9a] = {X86_CALLF, {O_Ap}},
    [0x9b] = {X86_WAIT, {0}, E_SIZE0},
    [0x9c] = {X86_PUSHF}, [0x9d] = {X86_POPF},
    [0x9e] = {X86_SAHF, {0}, B}, [0x9f] = {X86_LAHF, {0}, B},
    [0xa0] = {X86_MOV, {O_AL, O_Ob}, B}, [0xa1] = {X86_MOV, {O_eAX, O_Ov}},
    [0xa2] = {X86_MOV, {O_Ob, O_AL}, B}, [0xa3] = {X86_MOV, {O_Ov, O_eAX}},
    [0xa4] = {X86_MOVS, {0}, B}, [0xa5] = {X86_MOVS},
    [0xa6] = {X86_CMPS, {0}, B}, [0xa7] = {X86_CMPS},
    [0xa8] = {X86_TEST, {O_AL, O_Ib}, B}, [0xa9] = {X86_TEST, {O_eAX, O_Iv}},
    [0xaa] = {X86_STOS, {0}, B}, [0xab] = {X86_STOS},
    [0xac] = {X86_LODS, {0}, B}, [0xad] = {X86_LODS},
    [0xae] = {X86_SCAS, {0}, B}, [0xaf] = {X86_SCAS},
    [0xb0] = {X86_MOV, {O_Zb, O_Ib}, B}, [0xb1] = {X86_MOV, {O_Zb, O_Ib}, B},
    [0xb2] = {X86_MOV, {O_Zb, O_Ib}, B}, [0xb3] = {X86_MOV, {O_Zb, O_Ib}, B},
    [0xb4] = {X86_MOV, {O_Zb, O_Ib}, B}, [0xb5] = {X86_MOV, {O_Zb, O_Ib}, B},
    [0xb6] = {X86_MOV, {O_Zb, O_Ib}, B}, [0xb7] = {X86_MOV, {O_Zb, O_Ib}, B},
    [0xb8] = {X86_MOV, {O_Zv, O_Iv}}, [0xb9] = {X86_MOV, {O_Zv, O_Iv}},
    [0xba] = {X86_MOV, {O_Zv, O_Iv}}, [0xbb] = {X86_MOV, {O_Zv, O_Iv}},
    [0xbc] = {X86_MOV, {O_Zv, O_Iv}}, [0xbd] = {X86_MOV, {O_Zv, O_Iv}},
    [0xbe] = {X86_MOV, {O_Zv, O_Iv}}, [0xbf] = {X86_MOV, {O_Zv, O_Iv}},
    [0xc0] = {G_2, {O_Eb, O_Ibz}, E_GRP | M | B}, [0xc1] = {G_2, {O_Ev, O_Ibz}, E_GRP | M},
    [0xc2] = {X86_RET, {O_Iw}}, [0xc3] = {X86_RET},
    [0xc4] = {X86_LES, {O_Gv, O_Mp}, M}, [0xc5] = {X86_LDS, {O_Gv, O_Mp}, M},
    [0xc6] = {G_11, {O_Eb, O_Ib}, E_GRP | M | B}, [0xc7] = {G_11, {O_Ev, O_Iv}, E_GRP | M},
    [0xc8] = {X86_ENTER, {O_Iw, O_Ibz}}, [0xc9] = {X86_LEAVE},
    [0xca] = {X86_RETF, {O_Iw}}, [0xcb] = {X86_RETF},
    [0xcc] = {X86_INT3}, [0xcd] = {X86_INT, {O_Ibz}}, [0xce] = {X86_INTO}, [0xcf] = {X86_IRET},
    [0xd0] = {G_2, {O_Eb, O_ONE}, E_GRP | M | B}, [0xd1] = {G_2, {O_Ev, O_ONE}, E_GRP | M},
    [0xd2] = {G_2, {O_Eb, O_CL}, E_GRP | M | B}, [0xd3] = {G_2, {O_Ev, O_CL}, E_GRP | M},
    [0xd4] = {X86_AAM, {O_Ibz}, B}, [0xd5] = {X86_AAD, {O_Ibz}, B},
    [0xd6] = {X86_SALC, {0}, B}, [0xd7] = {X86_XLAT, {0}, B},
    [0xe0] = {X86_LOOPNE, {O_Jb}}, [0xe1] = {X86_LOOPE, {O_Jb}}, [0xe2] = {X86_LOOP, {O_Jb}},
    [0xe3] = {X86_JCXZ, {O_Jb}},
    [0xe4] = {X86_IN, {O_AL, O_Ibz}, B}, [0xe5] = {X86_IN, {O_eAX, O_Ibz}},
    [0xe6] = {X86_OUT, {O_Ibz, O_AL}, B}, [0xe7] = {X86_OUT, {O_Ibz, O_eAX}},
    [0xe8] = {X86_CALL, {O_Jv}}, [0xe9] = {X86_JMP, {O_Jv}},
    [0xea] = {X86_JMPF, {O_Ap}}, [0xeb] = {X86_JMP, {O_Jb}},
    [0xec] = {X86_IN, {O_AL, O_DX}, B}, [0xed] = {X86_IN, {O_eAX, O_DX}},
    [0xee] = {X86_OUT, {O_DX, O_AL}, B}, [0xef] = {X86_OUT, {O_DX, O_eAX}},
    [0xf1] = {X86_INT1}, [0xf4] = {X86_HLT}, [0xf5] = {X86_CMC},
    [0xf6] = {G_3, {O_Eb}, E_GRP | M | B}, [0xf7] = {G_3, {O_Ev}, E_GRP | M},
    [0xf8] = {X86_CLC}, [0xf9] = {X86_STC}, [0xfa] = {X86_CLI}, [0xfb] = {X86_STI},
    [0xfc] = {X86_CLD}, [0xfd] = {X86_STD},
    [0xfe] = {G_4, {O_Eb}, E_GRP | M | B}, [0xff] = {G_5, {O_Ev}, E_GRP | M},
};

static const OpEntry two_byte[256] = {
    [0x00] = {G_6, {0}, E_GRP | M}, [0x01] = {G_7, {0}, E_GRP | M},
    [0x02] = {X86_LAR, {O_Gv, O_Ew}, M}, [0x03] = {X86_LSL, {O_Gv, O_Ew}, M},
    [0x06] = {X86_CLTS}, [0x08] = {X86_INVD}, [0x09] = {X86_WBINVD}, [0x0b] = {X86_UD2},
    /* 0F 18-1F: hint NOPs with a ModRM operand (prefetch hints on later models). */
    [0x18] = {G_NOP, {O_Ev}, E_GRP | M}, [0x19] = {G_NOP, {O_Ev}, E_GRP | M},
    [0x1a] = {G_NOP, {O_Ev}, E_GRP | M}, [0x1b] = {G_NOP, {O_Ev}, E_GRP | M},
    [0x1c] = {G_NOP, {O_Ev}, E_GRP | M}, [0x1d] = {G_NOP, {O_Ev}, E_GRP | M},
    [0x1e] = {G_NOP, {O_Ev}, E_GRP | M}, [0x1f] = {G_NOP, {O_Ev}, E_GRP | M},
    [0x20] = {X86_MOV_CR, {O_Rd, O_Cd}, M}, [0x21] = {X86_MOV_DR, {O_Rd, O_Dd}, M},
    [0x22] = {X86_MOV_CR, {O_Cd, O_Rd}, M}, [0x23] = {X86_MOV_DR, {O_Dd, O_Rd}, M},
    [0x30] = {X86_WRMSR}, [0x31] = {X86_RDTSC}, [0x32] = {X86_RDMSR}, [0x33] = {X86_RDPMC},
    [0x34] = {X86_SYSENTER}, [0x35] = {X86_SYSEXIT},
    [0x40] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x41] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x42] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x43] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x44] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x45] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x46] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x47] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x48] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x49] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x4a] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x4b] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x4c] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x4d] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x4e] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND}, [0x4f] = {X86_CMOV, {O_Gv, O_Ev}, M | E_COND},
    [0x80] = {X86_JCC, {O_Jv}, E_COND}, [0x81] = {X86_JCC, {O_Jv}, E_COND},
    [0x82] = {X86_JCC, {O_Jv}, E_COND}, [0x83] = {X86_JCC, {O_Jv}, E_COND},
    [0x84] = {X86_JCC, {O_Jv}, E_COND}, [0x85] = {X86_JCC, {O_Jv}, E_COND},
    [0x86] = {X86_JCC, {O_Jv}, E_COND}, [0x87] = {X86_JCC, {O_Jv}, E_COND},
    [0x88] = {X86_JCC, {O_Jv}, E_COND}, [0x89] = {X86_JCC, {O_Jv}, E_COND},
    [0x8a] = {X86_JCC, {O_Jv}, E_COND}, [0x8b] = {X86_JCC, {O_Jv}, E_COND},
    [0x8c] = {X86_JCC, {O_Jv}, E_COND}, [0x8d] = {X86_JCC, {O_Jv}, E_COND},
    [0x8e] = {X86_JCC, {O_Jv}, E_COND}, [0x8f] = {X86_JCC, {O_Jv}, E_COND},
    [0x90] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x91] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x92] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x93] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x94] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x95] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x96] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x97] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x98] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x99] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x9a] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x9b] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x9c] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x9d] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0x9e] = {X86_SETCC, {O_Eb}, M | B | E_COND}, [0x9f] = {X86_SETCC, {O_Eb}, M | B | E_COND},
    [0xa0] = {X86_PUSH, {O_FS}}, [0xa1] = {X86_POP, {O_FS}}, [0xa2] = {X86_CPUID},
    [0xa3] = {X86_BT, {O_Ev, O_Gv}, M},
    [0xa4] = {X86_SHLD, {O_Ev, O_Gv, O_Ibz}, M}, [0xa5] = {X86_SHLD, {O_Ev, O_Gv, O_CL}, M},
    [0xa8] = {X86_PUSH, {O_GS}}, [0xa9] = {X86_POP, {O_GS}}, [0xaa] = {X86_RSM},
    [0xab] = {X86_BTS, {O_Ev, O_Gv}, M | L},
    [0xac] = {X86_SHRD, {O_Ev, O_Gv, O_Ibz}, M}, [0xad] = {X86_SHRD, {O_Ev, O_Gv, O_CL}, M},
    [0xae] = {G_15, {0}, E_GRP | M}, [0xaf] = {X86_IMUL, {O_Gv, O_Ev}, M},
    [0xb0] = {X86_CMPXCHG, {O_Eb, O_Gb}, M | L | B}, [0xb1] = {X86_CMPXCHG, {O_Ev, O_Gv}, M | L},
    [0xb2] = {X86_LSS, {O_Gv, O_Mp}, M}, [0xb3] = {X86_BTR, {O_Ev, O_Gv}, M | L},
    [0xb4] = {X86_LFS, {O_Gv, O_Mp}, M}, [0xb5] = {X86_LGS, {O_Gv, O_Mp}, M},
    [0xb6] = {X86_MOVZX, {O_Gv, O_Eb}, M}, [0xb7] = {X86_MOVZX, {O_Gv, O_Ew}, M},
    [0xba] = {G_8, {O_Ev, O_Ibz}, E_GRP | M}, [0xbb] = {X86_BTC, {O_Ev, O_Gv}, M | L},
    [0xbc] = {X86_BSF, {O_Gv, O_Ev}, M}, [0xbd] = {X86_BSR, {O_Gv, O_Ev}, M},
    [0xbe] = {X86_MOVSX, {O_Gv, O_Eb}, M}, [0xbf] = {X86_MOVSX, {O_Gv, O_Ew}, M},
    [0xc0] = {X86_XADD, {O_Eb, O_Gb}, M | L | B}, [0xc1] = {X86_XADD, {O_Ev, O_Gv}, M | L},
    [0xc7] = {G_9, {0}, E_GRP | M},
    [0xc8] = {X86_BSWAP, {O_Zv}}, [0xc9] = {X86_BSWAP, {O_Zv}}, [0xca] = {X86_BSWAP, {O_Zv}},
    [0xcb] = {X86_BSWAP, {O_Zv}}, [0xcc] = {X86_BSWAP, {O_Zv}}, [0xcd] = {X86_BSWAP, {O_Zv}},
    [0xce] = {X86_BSWAP, {O_Zv}}, [0xcf] = {X86_BSWAP, {O_Zv}},
};

/* Group tables, indexed by ModRM.reg. Entries without operands inherit them from the primary
 * entry. A zero mnem is an invalid encoding. */
static const OpEntry groups[G_COUNT][8] = {
    [G_1] = {{X86_ADD, {0}, L}, {X86_OR, {0}, L}, {X86_ADC, {0}, L}, {X86_SBB, {0}, L},
             {X86_AND, {0}, L}, {X86_SUB, {0}, L}, {X86_XOR, {0}, L}, {X86_CMP}},
    [G_1A] = {{X86_POP}},
    [G_2] = {{X86_ROL}, {X86_ROR}, {X86_RCL}, {X86_RCR}, {X86_SHL}, {X86_SHR}, {X86_SAL},
             {X86_SAR}},
    [G_3] = {{X86_TEST, {0, O_Ix}}, {X86_TEST, {0, O_Ix}}, {X86_NOT, {0}, L}, {X86_NEG, {0}, L},
             {X86_MUL}, {X86_IMUL}, {X86_DIV}, {X86_IDIV}},
    [G_4] = {{X86_INC, {0}, L}, {X86_DEC, {0}, L}},
    [G_5] = {{X86_INC, {0}, L}, {X86_DEC, {0}, L}, {X86_CALL, {O_Ev}}, {X86_CALLF, {O_Mp}},
             {X86_JMP, {O_Ev}}, {X86_JMPF, {O_Mp}}, {X86_PUSH, {O_Ev}}},
    [G_6] = {{X86_SLDT, {O_Mw_Rv}}, {X86_STR, {O_Mw_Rv}}, {X86_LLDT, {O_Ew}}, {X86_LTR, {O_Ew}},
             {X86_VERR, {O_Ew}}, {X86_VERW, {O_Ew}}},
    [G_7] = {{X86_SGDT, {O_Ms}}, {X86_SIDT, {O_Ms}}, {X86_LGDT, {O_Ms}}, {X86_LIDT, {O_Ms}},
             {X86_SMSW, {O_Mw_Rv}}, {0}, {X86_LMSW, {O_Ew}}, {X86_INVLPG, {O_M}}},
    [G_8] = {{0}, {0}, {0}, {0}, {X86_BT}, {X86_BTS, {0}, L}, {X86_BTR, {0}, L},
             {X86_BTC, {0}, L}},
    [G_9] = {{0}, {X86_CMPXCHG8B, {O_Mq}, L}},
    [G_11] = {{X86_MOV}},
    [G_15] = {{X86_FXSAVE, {O_Mfx}}, {X86_FXRSTOR, {O_Mfx}}},
    [G_NOP] = {{X86_NOP}, {X86_NOP}, {X86_NOP}, {X86_NOP}, {X86_NOP}, {X86_NOP}, {X86_NOP},
               {X86_NOP}},
};

#undef B
#undef M
#undef L

/* x87 escape opcodes D8-DF (SDM vol. 2, A.5). Memory forms by ModRM.reg. */
typedef struct FpuMemEntry {
    uint8_t fop, fmt;
} FpuMemEntry;

static const FpuMemEntry fpu_mem[8][8] = {
    {{F_ADD, FMT_F32}, {F_MUL, FMT_F32}, {F_COM, FMT_F32}, {F_COMP, FMT_F32}, {F_SUB, FMT_F32},
     {F_SUBR, FMT_F32}, {F_DIV, FMT_F32}, {F_DIVR, FMT_F32}},
    {{F_LD, FMT_F32}, {0}, {F_ST, FMT_F32}, {F_STP, FMT_F32}, {F_LDENV}, {F_LDCW, FMT_I16},
     {F_NSTENV}, {F_NSTCW, FMT_I16}},
    {{F_ADD, FMT_I32}, {F_MUL, FMT_I32}, {F_COM, FMT_I32}, {F_COMP, FMT_I32}, {F_SUB, FMT_I32},
     {F_SUBR, FMT_I32}, {F_DIV, FMT_I32}, {F_DIVR, FMT_I32}},
    {{F_ILD, FMT_I32}, {0}, {F_IST, FMT_I32}, {F_ISTP, FMT_I32}, {0}, {F_LD, FMT_F80}, {0},
     {F_STP, FMT_F80}},
    {{F_ADD, FMT_F64}, {F_MUL, FMT_F64}, {F_COM, FMT_F64}, {F_COMP, FMT_F64}, {F_SUB, FMT_F64},
     {F_SUBR, FMT_F64}, {F_DIV, FMT_F64}, {F_DIVR, FMT_F64}},
    {{F_LD, FMT_F64}, {0}, {F_ST, FMT_F64}, {F_STP, FMT_F64}, {F_RSTOR}, {0}, {F_NSAVE},
     {F_NSTSW, FMT_I16}},
    {{F_ADD, FMT_I16}, {F_MUL, FMT_I16}, {F_COM, FMT_I16}, {F_COMP, FMT_I16}, {F_SUB, FMT_I16},
     {F_SUBR, FMT_I16}, {F_DIV, FMT_I16}, {F_DIVR, FMT_I16}},
    {{F_ILD, FMT_I16}, {0}, {F_IST, FMT_I16}, {F_ISTP, FMT_I16}, {F_BLD, FMT_BCD},
     {F_ILD, FMT_I64}, {F_BSTP, FMT_BCD}, {F_ISTP, FMT_I64}},
};

/* Register forms: operand shape. */
enum { FR_NONE, FR_ST0_STI, FR_STI_ST0, FR_STI, FR_SPECIAL };
typedef struct FpuRegEntry {
    uint8_t fop, shape;
} FpuRegEntry;

static const FpuRegEntry fpu_reg[8][8] = {
    {{F_ADD, FR_ST0_STI}, {F_MUL, FR_ST0_STI}, {F_COM, FR_STI}, {F_COMP, FR_STI},
     {F_SUB, FR_ST0_STI}, {F_SUBR, FR_ST0_STI}, {F_DIV, FR_ST0_STI}, {F_DIVR, FR_ST0_STI}},
    {{F_LD, FR_STI}, {F_XCH, FR_STI}, {0, FR_SPECIAL}, {F_STP, FR_STI}, {0, FR_SPECIAL},
     {0, FR_SPECIAL}, {0, FR_SPECIAL}, {0, FR_SPECIAL}},
    {{F_CMOVB, FR_ST0_STI}, {F_CMOVE, FR_ST0_STI}, {F_CMOVBE, FR_ST0_STI},
     {F_CMOVU, FR_ST0_STI}, {0}, {0, FR_SPECIAL}, {0}, {0}},
    {{F_CMOVNB, FR_ST0_STI}, {F_CMOVNE, FR_ST0_STI}, {F_CMOVNBE, FR_ST0_STI},
     {F_CMOVNU, FR_ST0_STI}, {0, FR_SPECIAL}, {F_UCOMI, FR_ST0_STI}, {F_COMI, FR_ST0_STI}, {0}},
    {{F_ADD, FR_STI_ST0}, {F_MUL, FR_STI_ST0}, {F_COM, FR_STI}, {F_COMP, FR_STI},
     {F_SUBR, FR_STI_ST0}, {F_SUB, FR_STI_ST0}, {F_DIVR, FR_STI_ST0}, {F_DIV, FR_STI_ST0}},
    {{F_FREE, FR_STI}, {F_XCH, FR_STI}, {F_ST, FR_STI}, {F_STP, FR_STI}, {F_UCOM, FR_STI},
     {F_UCOMP, FR_STI}, {0}, {0}},
    {{F_ADDP, FR_STI_ST0}, {F_MULP, FR_STI_ST0}, {F_COMP, FR_STI}, {0, FR_SPECIAL},
     {F_SUBRP, FR_STI_ST0}, {F_SUBP, FR_STI_ST0}, {F_DIVRP, FR_STI_ST0}, {F_DIVP, FR_STI_ST0}},
    {{F_FREEP, FR_STI}, {F_XCH, FR_STI}, {F_STP, FR_STI}, {F_STP, FR_STI}, {0, FR_SPECIAL},
     {F_UCOMIP, FR_ST0_STI}, {F_COMIP, FR_ST0_STI}, {0}},
};

/* Register forms whose ModRM.rm selects the operation (D9 /2,/4-/7, DA /5, DB /4, DE /3,
 * DF /4). Indexed by the full ModRM byte. */
static uint8_t fpu_special(unsigned esc, unsigned modrm)
{
    static const uint8_t d9[32] = {
        F_CHS, F_ABS, 0, 0, F_TST, F_XAM, 0, 0,
        F_LD1, F_LDL2T, F_LDL2E, F_LDPI, F_LDLG2, F_LDLN2, F_LDZ, 0,
        F_2XM1, F_YL2X, F_PTAN, F_PATAN, F_XTRACT, F_PREM1, F_DECSTP, F_INCSTP,
        F_PREM, F_YL2XP1, F_SQRT, F_SINCOS, F_RNDINT, F_SCALE, F_SIN, F_COS,
    };
    switch (esc) {
    case 1:
        if (modrm == 0xd0) return F_NOP;
        return modrm >= 0xe0 ? d9[modrm - 0xe0] : 0;
    case 2: return modrm == 0xe9 ? F_UCOMPP : 0;
    case 3:
        switch (modrm) {
        case 0xe0: return F_NENI;
        case 0xe1: return F_NDISI;
        case 0xe2: return F_NCLEX;
        case 0xe3: return F_NINIT;
        case 0xe4: return F_SETPM;
        }
        return 0;
    case 6: return modrm == 0xd9 ? F_COMPP : 0;
    case 7: return modrm == 0xe0 ? F_NSTSW_AX : 0;
    }
    return 0;
}

static const char *const mnem_names[X86_MNEM_COUNT] = {
    [X86_INVALID] = "(bad)", [X86_ADD] = "add", [X86_OR] = "or", [X86_ADC] = "adc",
    [X86_SBB] = "sbb", [X86_AND] = "and", [X86_SUB] = "sub", [X86_XOR] = "xor",
    [X86_CMP] = "cmp", [X86_ROL] = "rol", [X86_ROR] = "ror", [X86_RCL] = "rcl",
    [X86_RCR] = "rcr", [X86_SHL] = "shl", [X86_SHR] = "shr", [X86_SAL] = "sal",
    [X86_SAR] = "sar", [X86_TEST] = "test", [X86_NOT] = "not", [X86_NEG] = "neg",
    [X86_MUL] = "mul", [X86_IMUL] = "imul", [X86_DIV] = "div", [X86_IDIV] = "idiv",
    [X86_INC] = "inc", [X86_DEC] = "dec", [X86_SHLD] = "shld", [X86_SHRD] = "shrd",
    [X86_BT] = "bt", [X86_BTS] = "bts", [X86_BTR] = "btr", [X86_BTC] = "btc",
    [X86_BSF] = "bsf", [X86_BSR] = "bsr", [X86_BSWAP] = "bswap", [X86_XADD] = "xadd",
    [X86_CMPXCHG] = "cmpxchg", [X86_CMPXCHG8B] = "cmpxchg8b", [X86_DAA] = "daa",
    [X86_DAS] = "das", [X86_AAA] = "aaa", [X86_AAS] = "aas", [X86_AAM] = "aam",
    [X86_AAD] = "aad", [X86_SALC] = "salc", [X86_MOV] = "mov", [X86_MOVZX] = "movzx",
    [X86_MOVSX] = "movsx", [X86_LEA] = "lea", [X86_XCHG] = "xchg", [X86_XLAT] = "xlat",
    [X86_CMOV] = "cmov", [X86_SETCC] = "set", [X86_PUSH] = "push", [X86_POP] = "pop",
    [X86_PUSHA] = "pusha", [X86_POPA] = "popa", [X86_PUSHF] = "pushf", [X86_POPF] = "popf",
    [X86_LAHF] = "lahf", [X86_SAHF] = "sahf", [X86_CBW] = "cbw", [X86_CWD] = "cwd",
    [X86_ENTER] = "enter", [X86_LEAVE] = "leave", [X86_BOUND] = "bound", [X86_LDS] = "lds",
    [X86_LES] = "les", [X86_LFS] = "lfs", [X86_LGS] = "lgs", [X86_LSS] = "lss",
    [X86_MOV_SEG_LOAD] = "mov", [X86_MOV_SEG_STORE] = "mov", [X86_JCC] = "j",
    [X86_JMP] = "jmp", [X86_JMPF] = "jmpf", [X86_CALL] = "call", [X86_CALLF] = "callf",
    [X86_RET] = "ret", [X86_RETF] = "retf", [X86_IRET] = "iret", [X86_LOOP] = "loop",
    [X86_LOOPE] = "loope", [X86_LOOPNE] = "loopne", [X86_JCXZ] = "jcxz", [X86_INT] = "int",
    [X86_INT3] = "int3", [X86_INTO] = "into", [X86_INT1] = "int1", [X86_MOVS] = "movs",
    [X86_CMPS] = "cmps", [X86_STOS] = "stos", [X86_LODS] = "lods", [X86_SCAS] = "scas",
    [X86_INS] = "ins", [X86_OUTS] = "outs", [X86_CLC] = "clc", [X86_STC] = "stc",
    [X86_CMC] = "cmc", [X86_CLD] = "cld", [X86_STD] = "std", [X86_CLI] = "cli",
    [X86_STI] = "sti", [X86_NOP] = "nop", [X86_HLT] = "hlt", [X86_WAIT] = "wait",
    [X86_IN] = "in", [X86_OUT] = "out", [X86_UD2] = "ud2", [X86_CPUID] = "cpuid",
    [X86_RDTSC] = "rdtsc", [X86_RDMSR] = "rdmsr", [X86_WRMSR] = "wrmsr", [X86_RDPMC] = "rdpmc",
    [X86_SYSENTER] = "sysenter", [X86_SYSEXIT] = "sysexit", [X86_RSM] = "rsm",
    [X86_SLDT] = "sldt", [X86_STR] = "str", [X86_LLDT] = "lldt", [X86_LTR] = "ltr",
    [X86_VERR] = "verr", [X86_VERW] = "verw", [X86_SGDT] = "sgdt", [X86_SIDT] = "sidt",
    [X86_LGDT] = "lgdt", [X86_LIDT] = "lidt", [X86_SMSW] = "smsw", [X86_LMSW] = "lmsw",
    [X86_INVLPG] = "invlpg", [X86_LAR] = "lar", [X86_LSL] = "lsl", [X86_CLTS] = "clts",
    [X86_INVD] = "invd", [X86_WBINVD] = "wbinvd", [X86_ARPL] = "arpl", [X86_MOV_CR] = "mov",
    [X86_MOV_DR] = "mov", [X86_FPU] = "fpu", [X86_FXSAVE] = "fxsave", [X86_FXRSTOR] = "fxrstor",
};

static const char *const fpu_names[F_OP_COUNT] = {
    [F_ADD] = "fadd", [F_MUL] = "fmul", [F_COM] = "fcom", [F_COMP] = "fcomp",
    [F_SUB] = "fsub", [F_SUBR] = "fsubr", [F_DIV] = "fdiv", [F_DIVR] = "fdivr",
    [F_ADDP] = "faddp", [F_MULP] = "fmulp", [F_SUBP] = "fsubp", [F_SUBRP] = "fsubrp",
    [F_DIVP] = "fdivp", [F_DIVRP] = "fdivrp", [F_COMPP] = "fcompp", [F_LD] = "fld",
    [F_ST] = "fst", [F_STP] = "fstp", [F_ILD] = "fild", [F_IST] = "fist", [F_ISTP] = "fistp",
    [F_ISTTP] = "fisttp", [F_BLD] = "fbld", [F_BSTP] = "fbstp", [F_LDENV] = "fldenv",
    [F_LDCW] = "fldcw", [F_NSTENV] = "fnstenv", [F_NSTCW] = "fnstcw", [F_NSTSW] = "fnstsw",
    [F_NSTSW_AX] = "fnstsw", [F_RSTOR] = "frstor", [F_NSAVE] = "fnsave", [F_XCH] = "fxch",
    [F_NOP] = "fnop", [F_CHS] = "fchs", [F_ABS] = "fabs", [F_TST] = "ftst", [F_XAM] = "fxam",
    [F_LD1] = "fld1", [F_LDL2T] = "fldl2t", [F_LDL2E] = "fldl2e", [F_LDPI] = "fldpi",
    [F_LDLG2] = "fldlg2", [F_LDLN2] = "fldln2", [F_LDZ] = "fldz", [F_2XM1] = "f2xm1",
    [F_YL2X] = "fyl2x", [F_PTAN] = "fptan", [F_PATAN] = "fpatan", [F_XTRACT] = "fxtract",
    [F_PREM1] = "fprem1", [F_DECSTP] = "fdecstp", [F_INCSTP] = "fincstp", [F_PREM] = "fprem",
    [F_YL2XP1] = "fyl2xp1", [F_SQRT] = "fsqrt", [F_SINCOS] = "fsincos", [F_RNDINT] = "frndint",
    [F_SCALE] = "fscale", [F_SIN] = "fsin", [F_COS] = "fcos", [F_CMOVB] = "fcmovb",
    [F_CMOVE] = "fcmove", [F_CMOVBE] = "fcmovbe", [F_CMOVU] = "fcmovu", [F_CMOVNB] = "fcmovnb",
    [F_CMOVNE] = "fcmovne", [F_CMOVNBE] = "fcmovnbe", [F_CMOVNU] = "fcmovnu",
    [F_UCOM] = "fucom", [F_UCOMP] = "fucomp", [F_UCOMPP] = "fucompp", [F_COMI] = "fcomi",
    [F_COMIP] = "fcomip", [F_UCOMI] = "fucomi", [F_UCOMIP] = "fucomip", [F_NCLEX] = "fnclex",
    [F_NINIT] = "fninit", [F_FREE] = "ffree", [F_FREEP] = "ffreep", [F_NENI] = "fneni",
    [F_NDISI] = "fndisi", [F_SETPM] = "fsetpm",
};

const char *x86_mnem_name(unsigned mnem)
{
    return mnem < X86_MNEM_COUNT && mnem_names[mnem] ? mnem_names[mnem] : "?";
}

const char *x86_fpu_op_name(unsigned fop)
{
    return fop < F_OP_COUNT && fpu_names[fop] ? fpu_names[fop] : "?";
}

/* Decoder cursor over the caller's bytes. */
typedef struct Cursor {
    const uint8_t *buf;
    size_t avail, pos;
    bool short_read;
} Cursor;

static uint32_t fetch(Cursor *c, unsigned n)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < n; i++) {
        if (c->pos >= c->avail || c->pos >= 15) {
            c->short_read = true;
            c->pos++;
            continue;
        }
        v |= (uint32_t)c->buf[c->pos++] << (8 * i);
    }
    return v;
}

static uint32_t sext(uint32_t v, unsigned bytes)
{
    if (bytes == 1) return (uint32_t)(int32_t)(int8_t)v;
    if (bytes == 2) return (uint32_t)(int32_t)(int16_t)v;
    return v;
}

/* Decodes the ModRM memory operand (SDM vol. 2, tables 2-1 to 2-3). */
static void decode_modrm_mem(Cursor *c, X86Insn *insn, X86Operand *o)
{
    unsigned mod = insn->modrm >> 6, rm = insn->modrm & 7;
    o->kind = OPK_MEM;
    o->base = o->index = -1;
    o->scale = 0;
    o->disp = 0;
    unsigned seg = R_DS;
    if (insn->addrsize == 2) {
        static const int8_t base16[8] = {R_EBX, R_EBX, R_EBP, R_EBP, R_ESI, R_EDI, R_EBP, R_EBX};
        static const int8_t index16[8] = {R_ESI, R_EDI, R_ESI, R_EDI, -1, -1, -1, -1};
        if (mod == 0 && rm == 6) {
            o->disp = fetch(c, 2);
        } else {
            o->base = base16[rm];
            o->index = index16[rm];
            if (o->base == R_EBP) seg = R_SS;
            if (mod == 1) o->disp = sext(fetch(c, 1), 1);
            if (mod == 2) o->disp = fetch(c, 2);
        }
    } else {
        if (rm == 4) {
            unsigned sib = fetch(c, 1);
            unsigned base = sib & 7, index = (sib >> 3) & 7;
            o->scale = sib >> 6;
            o->index = index == 4 ? -1 : (int8_t)index;
            if (base == 5 && mod == 0) {
                o->disp = fetch(c, 4);
            } else {
                o->base = base;
            }
        } else if (rm == 5 && mod == 0) {
            o->disp = fetch(c, 4);
        } else {
            o->base = rm;
        }
        if (o->base == R_ESP || o->base == R_EBP) seg = R_SS;
        if (mod == 1) o->disp = sext(fetch(c, 1), 1);
        if (mod == 2) o->disp = fetch(c, 4);
    }
    o->seg = (insn->prefixes & PFX_SEG) ? insn->seg_override : seg;
}

static void set_reg(X86Operand *o, unsigned reg, unsigned size)
{
    o->kind = OPK_REG;
    o->reg = reg;
    o->size = size;
}

/* Fills one operand from its specification. Returns false for an invalid form. */
static bool decode_operand(Cursor *c, X86Insn *insn, unsigned spec, X86Operand *o)
{
    unsigned osz = insn->opsize;
    unsigned mod = insn->modrm >> 6, reg = (insn->modrm >> 3) & 7, rm = insn->modrm & 7;
    switch (spec) {
    case O_NONE: return true;
    case O_Eb:
    case O_Ew:
    case O_Ev: {
        unsigned size = spec == O_Eb ? 1 : spec == O_Ew ? 2 : osz;
        if (mod == 3)
            set_reg(o, rm, size);
        else
            decode_modrm_mem(c, insn, o);
        o->size = size;
        return true;
    }
    case O_Mw_Rv:
        if (mod == 3) {
            set_reg(o, rm, osz);
        } else {
            decode_modrm_mem(c, insn, o);
            o->size = 2;
        }
        return true;
    case O_Gb: set_reg(o, reg, 1); return true;
    case O_Gw: set_reg(o, reg, 2); return true;
    case O_Gv: set_reg(o, reg, osz); return true;
    case O_Rd:
        if (mod != 3) return false; /* the SDM says mod is ignored; P6 treats it as a register */
        set_reg(o, rm, 4);
        return true;
    case O_Cd:
        o->kind = OPK_CREG, o->reg = reg, o->size = 4;
        return reg == 0 || (reg >= 2 && reg <= 4);
    case O_Dd: o->kind = OPK_DREG, o->reg = reg, o->size = 4; return true;
    case O_Sw:
        o->kind = OPK_SREG, o->reg = reg, o->size = 2;
        return reg < 6;
    case O_M:
    case O_Mp:
    case O_Mq:
    case O_Ma:
    case O_Ms:
    case O_Mfx:
        if (mod == 3) return false;
        decode_modrm_mem(c, insn, o);
        o->size = spec == O_M ? 0 : spec == O_Mp ? osz + 2 : spec == O_Mq ? 8
                  : spec == O_Ma ? 2 * osz : spec == O_Ms ? 6 : 0;
        return true;
    case O_Ib: o->kind = OPK_IMM, o->size = 1, o->imm = fetch(c, 1); return true;
    case O_Ibs: o->kind = OPK_IMM, o->size = osz, o->imm = sext(fetch(c, 1), 1); return true;
    case O_Ibz: o->kind = OPK_IMM, o->size = 1, o->imm = fetch(c, 1); return true;
    case O_Iw: o->kind = OPK_IMM, o->size = 2, o->imm = fetch(c, 2); return true;
    case O_Iv: o->kind = OPK_IMM, o->size = osz, o->imm = fetch(c, osz); return true;
    case O_Ix:
        o->kind = OPK_IMM, o->size = insn->datasize, o->imm = fetch(c, insn->datasize);
        return true;
    case O_Jb: o->kind = OPK_REL, o->size = osz, o->imm = sext(fetch(c, 1), 1); return true;
    case O_Jv: o->kind = OPK_REL, o->size = osz, o->imm = sext(fetch(c, osz), osz); return true;
    case O_Ob:
    case O_Ov:
        o->kind = OPK_MEM;
        o->base = o->index = -1;
        o->scale = 0;
        o->disp = fetch(c, insn->addrsize);
        o->seg = (insn->prefixes & PFX_SEG) ? insn->seg_override : R_DS;
        o->size = spec == O_Ob ? 1 : osz;
        return true;
    case O_Ap:
        o->kind = OPK_FAR;
        o->size = osz;
        o->imm = fetch(c, osz);
        insn->imm2 = fetch(c, 2);
        return true;
    case O_AL: set_reg(o, R_EAX, 1); return true;
    case O_CL: set_reg(o, R_ECX, 1); return true;
    case O_DX: set_reg(o, R_EDX, 2); return true;
    case O_eAX: set_reg(o, R_EAX, osz); return true;
    case O_ONE: o->kind = OPK_IMM, o->size = 1, o->imm = 1; return true;
    case O_Zb: set_reg(o, insn->opcode & 7, 1); return true;
    case O_Zv: set_reg(o, insn->opcode & 7, osz); return true;
    case O_ES:
    case O_CS:
    case O_SS:
    case O_DS:
    case O_FS:
    case O_GS:
        o->kind = OPK_SREG;
        o->reg = spec - O_ES;
        o->size = 2;
        return true;
    }
    return false;
}

static int decode_fpu(Cursor *c, X86Insn *insn)
{
    unsigned esc = insn->opcode - 0xd8;
    unsigned mod = insn->modrm >> 6, reg = (insn->modrm >> 3) & 7, rm = insn->modrm & 7;
    insn->mnem = X86_FPU;
    insn->datasize = 0;
    if (mod != 3) {
        const FpuMemEntry *e = &fpu_mem[esc][reg];
        if (!e->fop) return X86_DECODE_UD;
        insn->fop = e->fop;
        insn->fmt = e->fmt;
        decode_modrm_mem(c, insn, &insn->op[0]);
        static const uint8_t fmt_size[] = {0, 4, 8, 10, 2, 4, 8, 10};
        insn->op[0].size = fmt_size[e->fmt];
        insn->nops = 1;
        return 0;
    }
    const FpuRegEntry *e = &fpu_reg[esc][reg];
    insn->fmt = FMT_NONE;
    if (e->shape == FR_SPECIAL) {
        insn->fop = fpu_special(esc, insn->modrm);
        insn->nops = 0;
        return insn->fop ? 0 : X86_DECODE_UD;
    }
    if (!e->fop) return X86_DECODE_UD;
    insn->fop = e->fop;
    X86Operand st0 = {.kind = OPK_STI, .reg = 0, .size = 10};
    X86Operand sti = {.kind = OPK_STI, .reg = rm, .size = 10};
    switch (e->shape) {
    case FR_ST0_STI:
        insn->op[0] = st0, insn->op[1] = sti, insn->nops = 2;
        break;
    case FR_STI_ST0:
        insn->op[0] = sti, insn->op[1] = st0, insn->nops = 2;
        break;
    default:
        insn->op[0] = sti, insn->nops = 1;
        break;
    }
    return 0;
}

static bool lock_allowed(const X86Insn *insn, const OpEntry *e)
{
    return (e->flags & E_LOCK) && insn->nops > 0 && insn->op[0].kind == OPK_MEM;
}

int x86_decode(X86Insn *insn, const uint8_t *buf, size_t avail, int code32)
{
    Cursor c = {buf, avail, 0, false};
    memset(insn, 0, sizeof *insn);
    insn->opsize = code32 ? 4 : 2;
    insn->addrsize = code32 ? 4 : 2;
    unsigned b;

    /* Prefixes: any order, any number, up to the 15-byte limit. */
    for (;;) {
        b = fetch(&c, 1);
        if (c.short_read) goto short_read;
        switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e:
            insn->prefixes |= PFX_SEG;
            insn->seg_override = (b >> 3) & 3; /* ES=0 CS=1 SS=2 DS=3 */
            continue;
        case 0x64: case 0x65:
            insn->prefixes |= PFX_SEG;
            insn->seg_override = b == 0x64 ? R_FS : R_GS;
            continue;
        case 0x66:
            insn->prefixes |= PFX_OPSIZE;
            insn->opsize = code32 ? 2 : 4;
            continue;
        case 0x67:
            insn->prefixes |= PFX_ADDRSIZE;
            insn->addrsize = code32 ? 2 : 4;
            continue;
        case 0xf0: insn->prefixes |= PFX_LOCK; continue;
        case 0xf2: insn->prefixes = (insn->prefixes & ~PFX_REP) | PFX_REPNE; continue;
        case 0xf3: insn->prefixes = (insn->prefixes & ~PFX_REPNE) | PFX_REP; continue;
        }
        break;
    }

    const OpEntry *e;
    if (b == 0x0f) {
        b = fetch(&c, 1);
        if (c.short_read) goto short_read;
        insn->twobyte = 1;
        e = &two_byte[b];
    } else {
        e = &one_byte[b];
    }
    insn->opcode = b;

    if (!insn->twobyte && b >= 0xd8 && b <= 0xdf) {
        insn->has_modrm = 1;
        insn->modrm = fetch(&c, 1);
        int r = decode_fpu(&c, insn);
        if (c.short_read) goto short_read;
        if (r < 0 || (insn->prefixes & PFX_LOCK)) return X86_DECODE_UD;
        insn->len = c.pos;
        return c.pos;
    }

    if (e->flags & E_MODRM) {
        insn->has_modrm = 1;
        insn->modrm = fetch(&c, 1);
        if (c.short_read) goto short_read;
    }
    OpEntry entry = *e;
    if (e->flags & E_GRP) {
        const OpEntry *g = &groups[e->mnem][(insn->modrm >> 3) & 7];
        entry.mnem = g->mnem;
        entry.flags = (e->flags & ~(E_GRP | E_LOCK)) | (g->flags & E_LOCK);
        for (int i = 0; i < 3; i++)
            if (g->ops[i]) entry.ops[i] = g->ops[i];
        /* BT with an immediate bit offset is not lockable; the group flags say so. */
    }
    if (entry.mnem == X86_INVALID) return c.short_read ? X86_DECODE_NEED_MORE : X86_DECODE_UD;

    insn->mnem = entry.mnem;
    insn->datasize = (entry.flags & E_BYTE) ? 1 : insn->opsize;
    if (entry.flags & E_COND) insn->cond = b & 15;
    if (entry.mnem == X86_MOV_CR || entry.mnem == X86_MOV_DR) insn->dir = (b & 2) != 0;
    for (int i = 0; i < 3 && entry.ops[i]; i++) {
        if (!decode_operand(&c, insn, entry.ops[i], &insn->op[i])) {
            if (c.short_read) goto short_read;
            return X86_DECODE_UD;
        }
        insn->nops = i + 1;
    }
    /* ENTER's second immediate is the nesting level. */
    if (entry.mnem == X86_ENTER) insn->imm2 = insn->op[1].imm;
    if (c.short_read) goto short_read;
    if ((insn->prefixes & PFX_LOCK) && !lock_allowed(insn, &entry)) return X86_DECODE_UD;
    /* POP Ev only exists as /0; MOV to CS is invalid. */
    if (entry.mnem == X86_MOV_SEG_LOAD && insn->op[0].reg == R_CS) return X86_DECODE_UD;
    insn->len = c.pos;
    return c.pos;

short_read:
    /* Either the instruction really exceeds 15 bytes, or the caller must supply more. */
    if (c.pos > 15 && avail >= 15) return X86_DECODE_TOO_LONG;
    if (avail >= 15) return X86_DECODE_TOO_LONG;
    return X86_DECODE_NEED_MORE;
}

static const char *const reg32[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
static const char *const reg16[8] = {"ax", "cx", "dx", "bx", "sp", "bp", "si", "di"};
static const char *const reg8[8] = {"al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"};
static const char *const sreg[6] = {"es", "cs", "ss", "ds", "fs", "gs"};
static const char *const cond_names[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                           "s", "ns", "p", "np", "l", "ge", "le", "g"};

static size_t format_operand(const X86Insn *insn, const X86Operand *o, uint32_t next_eip,
                             char *buf, size_t len)
{
    switch (o->kind) {
    case OPK_REG:
        return snprintf(buf, len, "%s", o->size == 1 ? reg8[o->reg] : o->size == 2 ? reg16[o->reg]
                                                                                  : reg32[o->reg]);
    case OPK_SREG: return snprintf(buf, len, "%s", sreg[o->reg]);
    case OPK_CREG: return snprintf(buf, len, "cr%d", o->reg);
    case OPK_DREG: return snprintf(buf, len, "dr%d", o->reg);
    case OPK_STI: return snprintf(buf, len, "st(%d)", o->reg);
    case OPK_IMM: return snprintf(buf, len, "0x%x", o->imm);
    case OPK_REL: return snprintf(buf, len, "0x%x", next_eip + o->imm);
    case OPK_FAR: return snprintf(buf, len, "0x%x:0x%x", insn->imm2, o->imm);
    case OPK_MEM: {
        const char *const *regs = insn->addrsize == 2 ? reg16 : reg32;
        const char *sz = o->size == 1 ? "byte " : o->size == 2 ? "word " : o->size == 4 ? "dword "
                       : o->size == 8 ? "qword " : o->size == 10 ? "tbyte " : "";
        size_t n = snprintf(buf, len, "%s%s:[", sz, sreg[o->seg]);
        const char *plus = "";
        if (o->base >= 0) n += snprintf(buf + n, len > n ? len - n : 0, "%s", regs[o->base]), plus = "+";
        if (o->index >= 0) {
            n += snprintf(buf + n, len > n ? len - n : 0, "%s%s", plus, regs[o->index]);
            if (o->scale) n += snprintf(buf + n, len > n ? len - n : 0, "*%d", 1 << o->scale);
            plus = "+";
        }
        if (o->disp || (o->base < 0 && o->index < 0))
            n += snprintf(buf + n, len > n ? len - n : 0, "%s0x%x", plus, o->disp);
        n += snprintf(buf + n, len > n ? len - n : 0, "]");
        return n;
    }
    }
    return 0;
}

void x86_format(const X86Insn *insn, uint32_t eip, char *buf, size_t len)
{
    size_t n = 0;
    if (insn->prefixes & PFX_LOCK) n += snprintf(buf + n, len > n ? len - n : 0, "lock ");
    if (insn->prefixes & PFX_REP) n += snprintf(buf + n, len > n ? len - n : 0, "rep ");
    if (insn->prefixes & PFX_REPNE) n += snprintf(buf + n, len > n ? len - n : 0, "repne ");
    if (insn->mnem == X86_FPU) {
        n += snprintf(buf + n, len > n ? len - n : 0, "%s", x86_fpu_op_name(insn->fop));
    } else {
        n += snprintf(buf + n, len > n ? len - n : 0, "%s", x86_mnem_name(insn->mnem));
        if (insn->mnem == X86_JCC || insn->mnem == X86_SETCC || insn->mnem == X86_CMOV)
            n += snprintf(buf + n, len > n ? len - n : 0, "%s", cond_names[insn->cond]);
        if (insn->nops == 0 && insn->datasize && insn->mnem >= X86_MOVS && insn->mnem <= X86_OUTS)
            n += snprintf(buf + n, len > n ? len - n : 0, "%c",
                          insn->datasize == 1 ? 'b' : insn->datasize == 2 ? 'w' : 'd');
    }
    for (int i = 0; i < insn->nops; i++) {
        n += snprintf(buf + n, len > n ? len - n : 0, i ? ", " : " ");
        n += format_operand(insn, &insn->op[i], eip + insn->len, buf + n, len > n ? len - n : 0);
    }
}
