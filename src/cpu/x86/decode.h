/* i386/P6 instruction decoder: bytes -> X86Insn (mnemonic, operands, length). Pure: it reads
 * only the bytes it is given. Follows the opcode maps of SDM vol. 2, appendix A. */
#ifndef CPU_X86_DECODE_H
#define CPU_X86_DECODE_H

#include <stddef.h>
#include <stdint.h>

typedef enum X86Mnem {
    X86_INVALID = 0,
    /* integer ALU */
    X86_ADD, X86_OR, X86_ADC, X86_SBB, X86_AND, X86_SUB, X86_XOR, X86_CMP,
    X86_ROL, X86_ROR, X86_RCL, X86_RCR, X86_SHL, X86_SHR, X86_SAL, X86_SAR,
    X86_TEST, X86_NOT, X86_NEG, X86_MUL, X86_IMUL, X86_DIV, X86_IDIV,
    X86_INC, X86_DEC, X86_SHLD, X86_SHRD,
    X86_BT, X86_BTS, X86_BTR, X86_BTC, X86_BSF, X86_BSR, X86_BSWAP,
    X86_XADD, X86_CMPXCHG, X86_CMPXCHG8B,
    X86_DAA, X86_DAS, X86_AAA, X86_AAS, X86_AAM, X86_AAD, X86_SALC,
    /* data movement */
    X86_MOV, X86_MOVZX, X86_MOVSX, X86_LEA, X86_XCHG, X86_XLAT, X86_CMOV, X86_SETCC,
    X86_PUSH, X86_POP, X86_PUSHA, X86_POPA, X86_PUSHF, X86_POPF, X86_LAHF, X86_SAHF,
    X86_CBW, X86_CWD, X86_ENTER, X86_LEAVE, X86_BOUND, X86_LDS, X86_LES, X86_LFS, X86_LGS,
    X86_LSS, X86_MOV_SEG_LOAD, X86_MOV_SEG_STORE,
    /* control */
    X86_JCC, X86_JMP, X86_JMPF, X86_CALL, X86_CALLF, X86_RET, X86_RETF, X86_IRET,
    X86_LOOP, X86_LOOPE, X86_LOOPNE, X86_JCXZ, X86_INT, X86_INT3, X86_INTO, X86_INT1,
    /* strings */
    X86_MOVS, X86_CMPS, X86_STOS, X86_LODS, X86_SCAS, X86_INS, X86_OUTS,
    /* flags and misc */
    X86_CLC, X86_STC, X86_CMC, X86_CLD, X86_STD, X86_CLI, X86_STI, X86_NOP, X86_HLT,
    X86_WAIT, X86_IN, X86_OUT, X86_UD2, X86_CPUID, X86_RDTSC, X86_RDMSR, X86_WRMSR,
    X86_RDPMC, X86_SYSENTER, X86_SYSEXIT, X86_RSM,
    /* system */
    X86_SLDT, X86_STR, X86_LLDT, X86_LTR, X86_VERR, X86_VERW, X86_SGDT, X86_SIDT,
    X86_LGDT, X86_LIDT, X86_SMSW, X86_LMSW, X86_INVLPG, X86_LAR, X86_LSL, X86_CLTS,
    X86_INVD, X86_WBINVD, X86_ARPL, X86_MOV_CR, X86_MOV_DR, /* direction in insn->dir */
    /* x87 and FXSAVE */
    X86_FPU, X86_FXSAVE, X86_FXRSTOR,
    X86_MNEM_COUNT
} X86Mnem;

/* x87 operations (insn->fop when mnem == X86_FPU); memory forms carry the memory operand's
 * format in X86Insn.fmt. */
typedef enum X86FpuOp {
    F_NONE = 0,
    F_ADD, F_MUL, F_COM, F_COMP, F_SUB, F_SUBR, F_DIV, F_DIVR, /* arithmetic group */
    F_ADDP, F_MULP, F_SUBP, F_SUBRP, F_DIVP, F_DIVRP, F_COMPP,
    F_LD, F_ST, F_STP, F_ILD, F_IST, F_ISTP, F_ISTTP, F_BLD, F_BSTP,
    F_LDENV, F_LDCW, F_NSTENV, F_NSTCW, F_NSTSW, F_NSTSW_AX, F_RSTOR, F_NSAVE,
    F_XCH, F_NOP, F_CHS, F_ABS, F_TST, F_XAM, F_LD1, F_LDL2T, F_LDL2E, F_LDPI, F_LDLG2,
    F_LDLN2, F_LDZ, F_2XM1, F_YL2X, F_PTAN, F_PATAN, F_XTRACT, F_PREM1, F_DECSTP, F_INCSTP,
    F_PREM, F_YL2XP1, F_SQRT, F_SINCOS, F_RNDINT, F_SCALE, F_SIN, F_COS,
    F_CMOVB, F_CMOVE, F_CMOVBE, F_CMOVU, F_CMOVNB, F_CMOVNE, F_CMOVNBE, F_CMOVNU,
    F_UCOM, F_UCOMP, F_UCOMPP, F_COMI, F_COMIP, F_UCOMI, F_UCOMIP,
    F_NCLEX, F_NINIT, F_FREE, F_FREEP, F_NENI, F_NDISI, F_SETPM,
    F_OP_COUNT
} X86FpuOp;

/* Memory operand formats of x87 instructions. */
enum { FMT_NONE, FMT_F32, FMT_F64, FMT_F80, FMT_I16, FMT_I32, FMT_I64, FMT_BCD };

typedef enum X86OpKind {
    OPK_NONE,
    OPK_REG,  /* general register; size 1 uses AL,CL,DL,BL,AH,CH,DH,BH numbering */
    OPK_MEM,  /* memory; size is the access size in bytes (0 for LEA / address-only) */
    OPK_IMM,  /* immediate, already sign- or zero-extended to the operand size */
    OPK_SREG, /* segment register 0-5 */
    OPK_CREG, /* control register */
    OPK_DREG, /* debug register */
    OPK_STI,  /* x87 ST(i) */
    OPK_REL,  /* relative branch target: imm holds the sign-extended displacement */
    OPK_FAR,  /* far pointer immediate: imm = offset, insn->imm2 = selector */
} X86OpKind;

typedef struct X86Operand {
    uint8_t kind;
    uint8_t size;
    uint8_t reg;   /* OPK_REG/SREG/CREG/DREG/STI */
    int8_t base;   /* OPK_MEM: base register or -1 */
    int8_t index;  /* OPK_MEM: index register or -1 */
    uint8_t scale; /* OPK_MEM: 0..3 (shift count) */
    uint8_t seg;   /* OPK_MEM: effective segment (override or default) */
    uint32_t disp; /* OPK_MEM displacement */
    uint32_t imm;  /* OPK_IMM / OPK_REL / OPK_FAR */
} X86Operand;

/* Prefix flags. */
#define PFX_LOCK 0x01
#define PFX_REP 0x02   /* F3 */
#define PFX_REPNE 0x04 /* F2 */
#define PFX_OPSIZE 0x08
#define PFX_ADDRSIZE 0x10
#define PFX_SEG 0x20 /* a segment override was given (insn->seg_override) */

typedef struct X86Insn {
    uint16_t mnem;
    uint8_t len;
    uint8_t opsize;   /* 2 or 4 */
    uint8_t datasize; /* size of the operation in bytes: 1 for byte forms, else opsize (string
                         element size, shift/ALU width) */
    uint8_t addrsize; /* 2 or 4 */
    uint8_t prefixes;
    uint8_t seg_override;
    uint8_t opcode;   /* last opcode byte */
    uint8_t twobyte;  /* opcode was 0F xx */
    uint8_t modrm;
    uint8_t has_modrm;
    uint8_t cond;     /* condition code for Jcc/SETcc/CMOVcc */
    uint8_t nops;
    uint8_t dir;      /* MOV_CR/MOV_DR: 1 = write the special register */
    uint8_t fop;      /* X86FpuOp for X86_FPU */
    uint8_t fmt;      /* x87 memory format */
    uint16_t imm2;    /* ENTER nesting level, far pointer selector */
    X86Operand op[3];
} X86Insn;

/* Decode results (negative) besides the instruction length. */
#define X86_DECODE_UD (-1)       /* invalid encoding: #UD */
#define X86_DECODE_TOO_LONG (-2) /* more than 15 bytes: #GP(0) */
#define X86_DECODE_NEED_MORE (-3) /* ran out of bytes before 15: supply more and retry */

/* Decode one instruction from buf[0..avail). code32 selects the default operand and address
 * size (CS.D). Returns the length (1..15) or one of the negative codes above. */
int x86_decode(X86Insn *insn, const uint8_t *buf, size_t avail, int code32);

/* Mnemonic name for tracing and the decoder tests ("add", "jcc", "fpu" ...). */
const char *x86_mnem_name(unsigned mnem);
const char *x86_fpu_op_name(unsigned fop);
/* Formats insn as Intel-syntax text into buf (for logs and tests). */
void x86_format(const X86Insn *insn, uint32_t eip, char *buf, size_t len);

#endif
