/* i386 (P6-class) architectural state: registers, segment caches, control/debug registers,
 * MSRs, x87 state and the lazy-flags fields the translator uses (Intel SDM vol. 3, ch. 2-3). */
#ifndef CPU_X86_STATE_H
#define CPU_X86_STATE_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/float80.h"

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS, R_LDTR, R_TR, SEG_COUNT };

/* EFLAGS bits (SDM vol. 1, 3.4.3). */
#define CF_MASK 0x00000001u
#define PF_MASK 0x00000004u
#define AF_MASK 0x00000010u
#define ZF_MASK 0x00000040u
#define SF_MASK 0x00000080u
#define TF_MASK 0x00000100u
#define IF_MASK 0x00000200u
#define DF_MASK 0x00000400u
#define OF_MASK 0x00000800u
#define IOPL_MASK 0x00003000u
#define IOPL_SHIFT 12
#define NT_MASK 0x00004000u
#define RF_MASK 0x00010000u
#define VM_MASK 0x00020000u
#define AC_MASK 0x00040000u
#define VIF_MASK 0x00080000u
#define VIP_MASK 0x00100000u
#define ID_MASK 0x00200000u
#define CC_MASK (CF_MASK | PF_MASK | AF_MASK | ZF_MASK | SF_MASK | OF_MASK)

/* CR0/CR4 bits. */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_ET 0x00000010u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_AM 0x00040000u
#define CR0_NW 0x20000000u
#define CR0_CD 0x40000000u
#define CR0_PG 0x80000000u
#define CR4_VME 0x0001u
#define CR4_PVI 0x0002u
#define CR4_TSD 0x0004u
#define CR4_DE 0x0008u
#define CR4_PSE 0x0010u
#define CR4_PAE 0x0020u
#define CR4_MCE 0x0040u
#define CR4_PGE 0x0080u
#define CR4_PCE 0x0100u
#define CR4_OSFXSR 0x0200u
#define CR4_OSXMMEXCPT 0x0400u

/* Descriptor attribute bits as kept in SegCache.flags: bits 8..23 of the descriptor's high
 * dword, in place (SDM vol. 3, 3.4.5). */
#define DESC_TYPE_SHIFT 8
#define DESC_TYPE_MASK (15u << 8)
#define DESC_A_MASK (1u << 8)
#define DESC_RW_MASK (1u << 9) /* readable code / writable data */
#define DESC_CE_MASK (1u << 10) /* conforming code / expand-down data */
#define DESC_CS_MASK (1u << 11) /* code segment */
#define DESC_S_MASK (1u << 12)
#define DESC_DPL_SHIFT 13
#define DESC_DPL_MASK (3u << 13)
#define DESC_P_MASK (1u << 15)
#define DESC_AVL_MASK (1u << 20)
#define DESC_B_MASK (1u << 22)
#define DESC_G_MASK (1u << 23)

/* Exception vectors. */
enum {
    EXCP_DE = 0, EXCP_DB = 1, EXCP_NMI = 2, EXCP_BP = 3, EXCP_OF = 4, EXCP_BR = 5, EXCP_UD = 6,
    EXCP_NM = 7, EXCP_DF = 8, EXCP_TS = 10, EXCP_NP = 11, EXCP_SS = 12, EXCP_GP = 13,
    EXCP_PF = 14, EXCP_MF = 16, EXCP_AC = 17, EXCP_MC = 18, EXCP_XM = 19,
};

/* #PF error code bits. */
#define PF_ERR_P 1u
#define PF_ERR_W 2u
#define PF_ERR_U 4u
#define PF_ERR_RSVD 8u
#define PF_ERR_I 16u

typedef struct SegCache {
    uint32_t base;
    uint32_t limit; /* byte granular (already scaled by G) */
    uint32_t flags; /* DESC_* attribute bits */
    uint16_t sel;
} SegCache;

typedef struct DescTable {
    uint32_t base;
    uint32_t limit;
} DescTable;


typedef struct X87State {
    Float80 st[8]; /* physical registers R0..R7; ST(i) is st[(top + i) & 7] */
    uint16_t fcw;
    uint16_t fsw;  /* status word with the TOP field (bits 11-13) kept separately in top */
    uint8_t top;
    uint8_t tag_empty; /* bit i set: physical register i is empty */
    uint16_t fop;
    uint32_t fip, fdp;
    uint16_t fcs, fds;
} X87State;

typedef struct XmmReg {
    uint32_t d[4];
} XmmReg;

/* Segment bounds the translated code checks against (see cpu/x86/seg.c): an access of size n at
 * offset off is allowed if lo <= off and off + n - 1 <= hi, without wrap-around.
 * A null or unusable segment has lo = 1, hi = 0. */
typedef struct SegBounds {
    uint32_t rlo, rhi; /* reads */
    uint32_t wlo, whi; /* writes */
} SegBounds;

#endif
