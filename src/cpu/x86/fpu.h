/* Interface between the x87 translator (translate/x87.c) and the x87 helpers (helpers/fpu.c):
 * the packed instruction descriptor, the helper descriptors and the FERR# output (SDM vol. 1,
 * ch. 8 and appendix D). */
#ifndef CPU_X86_FPU_H
#define CPU_X86_FPU_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"
#include "cpu/x86/decode.h"
#include "ir/ir.h"

/*
 * hlp_fpu(env, lin, desc, eip) executes one x87 instruction:
 *   lin   linear address of the memory operand (segment checks already done), else unused;
 *   desc  the packed descriptor below;
 *   eip   offset of the instruction in CS, for the FPU instruction pointer (FIP).
 * desc bits:
 *    0- 6  X86FpuOp            13     destination is ST(i) (DC/DE register forms)
 *    7- 9  FMT_* memory format 14     has a memory operand
 *   10-12  i of ST(i)          15-16  MMU index of the access
 *   17-19  segment register    20     32-bit operand size (FNSTENV/FLDENV/FNSAVE/FRSTOR layout)
 *   21-31  FOP: low 3 bits of the D8-DF escape byte in bits 8-10, ModRM in bits 0-7
 */
#define FPU_DESC_DEST_STI (1u << 13)
#define FPU_DESC_MEM      (1u << 14)
#define FPU_DESC_OP32     (1u << 20)

static inline uint32_t x86_fpu_desc(unsigned fop, unsigned fmt, unsigned sti, bool dest_sti,
                                    bool mem, unsigned mmu_idx, unsigned seg, bool op32,
                                    unsigned fopcode)
{
    return (fop & 0x7f) | (fmt & 7) << 7 | (sti & 7) << 10 | (dest_sti ? FPU_DESC_DEST_STI : 0) |
           (mem ? FPU_DESC_MEM : 0) | (mmu_idx & 3) << 15 | (seg & 7) << 17 |
           (op32 ? FPU_DESC_OP32 : 0) | (fopcode & 0x7ffu) << 21;
}

/* The descriptor of a decoded x87 instruction (X86_FPU) executed with MMU index mmu_idx. */
static inline uint32_t x86_fpu_insn_desc(const X86Insn *in, unsigned mmu_idx)
{
    bool mem = in->nops == 1 && in->op[0].kind == OPK_MEM;
    /* DC and DE register forms name ST(i) first: the result goes there. */
    bool dest_sti = in->nops == 2 && in->op[0].kind == OPK_STI && in->op[0].reg != 0;
    unsigned fopcode = (in->opcode & 7u) << 8 | in->modrm;
    return x86_fpu_desc(in->fop, in->fmt, in->modrm & 7, dest_sti, mem, mmu_idx,
                        mem ? in->op[0].seg : 0, in->opsize == 4, fopcode);
}

/* hlp_fwait(env): WAIT/FWAIT. hlp_fxsave / hlp_fxrstor(env, lin, mmu_idx): FXSAVE/FXRSTOR of
 * the 512-byte image at lin (checked against the segment limit by the caller). All may fault
 * and read or write guest state; #NM is the translator's. */
extern const IrHelper hlp_fpu, hlp_fpu_local, hlp_fwait, hlp_fxsave, hlp_fxrstor;

/* Host execution of x87 instructions (x86-64 hosts). While env->fpu_host is set, the guest's
 * x87 registers, TOP, tags, FCW and FSW are held by the host FPU; FIP, FCS, FOP, FDP and FDS
 * stay in env->fpu. x86_fpu_acquire moves the state there when no exception is unmasked (FCW
 * bits 0-5 set) and none is pending: the instructions x86_fpu_native accepts then have on the
 * host the results, flags and stack effects they have on the guest, since their masked
 * responses are architectural. It returns false, leaving the state in env, otherwise and on
 * other hosts. x86_fpu_release moves the state back; C code reading env->fpu while translated
 * code may run goes through it (the FPU helpers do, and x86_cpu_exec before returning). */
bool x86_fpu_acquire(CPUX86State *env);
void x86_fpu_release(CPUX86State *env);

enum {
    FPU_NAT_PLAIN,
    FPU_NAT_EFLAGS,  /* FCOMI family: ZF PF CF out, OF SF AF cleared */
    FPU_NAT_LDCW,    /* FLDCW: runs on the host only if the new FCW masks every exception */
    FPU_NAT_STSW_AX, /* FNSTSW AX */
};
typedef struct X86FpuNative {
    uint8_t size;  /* bytes of the memory operand, 0 for register forms */
    bool write;    /* the memory operand is written */
    bool pointers; /* not a control instruction: updates FIP, FCS, FOP (and FDP, FDS) */
    uint8_t kind;  /* FPU_NAT_* */
    bool clear_c1; /* FPU_NAT_EFLAGS: FINCSTP; FDECSTP first (the host's FCOMI leaves C1) */
} X86FpuNative;

/* FCW as FLDCW stores it: (value & FPU_FCW_VALID) | FPU_FCW_ONES (reserved bits 6, 7 and 13-15;
 * bit 6 reads as 1 on the P6 and later). */
#define FPU_FCW_VALID 0x1f3fu
#define FPU_FCW_ONES  0x0040u
static inline uint16_t x86_fpu_fcw_stored(uint32_t value)
{
    return (uint16_t)((value & FPU_FCW_VALID) | FPU_FCW_ONES);
}

/* Whether the host may execute the instruction of descriptor desc, and how. */
bool x86_fpu_native(uint32_t desc, X86FpuNative *n);

/* The instruction's escape byte (D8-DF) and ModRM byte, from the FOP field of desc. */
static inline uint8_t x86_fpu_desc_escape(uint32_t desc)
{
    return (uint8_t)(0xd8 | (desc >> 29 & 7));
}
static inline uint8_t x86_fpu_desc_modrm(uint32_t desc)
{
    return (uint8_t)(desc >> 21);
}

/* FERR#: called with level 1 when an unmasked x87 exception is pending while CR0.NE = 0 (the PC
 * routes it to IRQ13) and with 0 when the exception flags are cleared. One handler per CPU. */
void x86_fpu_set_ferr_handler(CPUX86State *env, void (*ferr)(void *opaque, int level),
                              void *opaque);

/* Status word with TOP, and the tag word computed from the register contents (FNSTENV) or in
 * the abridged form FXSAVE stores (bit i set: physical register i not empty). */
uint16_t x86_fpu_status_word(const X87State *f);
uint16_t x86_fpu_tag_word(const X87State *f);
uint8_t x86_fpu_abridged_tags(const X87State *f);

#endif
