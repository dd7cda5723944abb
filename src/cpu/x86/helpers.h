/* Internal interface of the x86 CPU: lazy-flags operations, exception raising, and the C
 * helpers that translated code calls (slow paths of system instructions). */
#ifndef CPU_X86_HELPERS_H
#define CPU_X86_HELPERS_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/x86/cpu.h"
#include "ir/ir.h"

/* Lazy flags: the last flag-setting operation and its operands (cc_dst, cc_src, cc_src2).
 * Byte/word/dword variants are consecutive. */
enum {
    CC_OP_DYNAMIC, /* the operation is in env->cc_op (translator does not know it) */
    CC_OP_EFLAGS,  /* cc_src holds the flags (CC_MASK bits) */
    CC_OP_ADDB, CC_OP_ADDW, CC_OP_ADDL,   /* dst = result, src = second operand */
    CC_OP_ADCB, CC_OP_ADCW, CC_OP_ADCL,   /* + src2 = carry in */
    CC_OP_SUBB, CC_OP_SUBW, CC_OP_SUBL,   /* dst = result, src = second operand */
    CC_OP_SBBB, CC_OP_SBBW, CC_OP_SBBL,   /* + src2 = borrow in */
    CC_OP_LOGICB, CC_OP_LOGICW, CC_OP_LOGICL, /* dst = result */
    CC_OP_INCB, CC_OP_INCW, CC_OP_INCL,   /* dst = result, src = CF before */
    CC_OP_DECB, CC_OP_DECW, CC_OP_DECL,
    CC_OP_SHLB, CC_OP_SHLW, CC_OP_SHLL,   /* dst = result, src = operand << (count - 1) */
    CC_OP_SARB, CC_OP_SARW, CC_OP_SARL,   /* dst = result, src = operand >> (count - 1) */
    CC_OP_SHRB, CC_OP_SHRW, CC_OP_SHRL,   /* as SAR; OF = top bit of the original operand */
    CC_OP_MULB, CC_OP_MULW, CC_OP_MULL,   /* dst = low result, src = nonzero if CF=OF=1 */
    CC_OP_COUNT
};

static inline int cc_op_size_index(int size) { return size == 1 ? 0 : size == 2 ? 1 : 2; }

/* Flag computation from the lazy state. */
uint32_t x86_cc_compute(int cc_op, uint32_t dst, uint32_t src, uint32_t src2);
uint32_t x86_cc_compute_cf(int cc_op, uint32_t dst, uint32_t src, uint32_t src2); /* 0 or 1 */
uint32_t x86_cc_eflags(CPUX86State *env); /* CC_MASK bits */
uint32_t x86_get_eflags(CPUX86State *env); /* full architectural EFLAGS */
/* Writes EFLAGS: only the bits in mask change (arith bits and DF go to the lazy state). */
void x86_set_eflags(CPUX86State *env, uint32_t value, uint32_t mask);
/* EFLAGS.IF went from 0 to 1: an interrupt pending now may be taken (the run loop takes it). */
void x86_note_if_set(CPUX86State *env);
/* x86_set_eflags for writes that change nothing else the mode flags depend on (CPL,
 * segments, control registers): POPF. The mode flags are recomputed only if TF, AC or VM
 * changed. */
void x86_set_eflags_only(CPUX86State *env, uint32_t value, uint32_t mask);

/* Exceptions: all unwind to the run loop with the guest state of the faulting instruction. */
_Noreturn void x86_raise_exception(CPUX86State *env, int vector);
_Noreturn void x86_raise_exception_err(CPUX86State *env, int vector, uint32_t error_code);
/* Software interrupt / trap: delivered with return address next_eip. */
_Noreturn void x86_raise_interrupt(CPUX86State *env, int vector, uint32_t next_eip, bool sw);
/* Leaves translated code at the current instruction boundary without an exception (state is
 * already consistent: env->eip set by the caller). */
_Noreturn void x86_cpu_loop_exit(CPUX86State *env);
/* Restores EIP and the lazy-flags op of the instruction containing env->cur_pos. */
void x86_restore_state(CPUX86State *env);
/* For a back end's inline lookup that missed the jump cache (exec/cpu_exec.c): the block at
 * CS:EIP if it is already translated and its pages map without a fault, now in the jump cache;
 * NULL leaves the work to the run loop (translation, #PF, single-instruction blocks). Called from
 * translated code, so it never unwinds and looks at no guest general register. */
TranslationBlock *x86_tb_find_cached(CPUX86State *env);

/* Delivery of an interrupt or exception through the IVT/IDT (helpers/excp.c). */
void x86_do_interrupt(CPUX86State *env, int vector, bool is_sw, bool has_error,
                      uint32_t error_code, uint32_t next_eip, bool is_hw);
/* Called by the run loop for a pending exception (after a longjmp). */
void x86_deliver_pending_exception(CPUX86State *env);

/* Mode bits and segment caches (seg.c). */
void x86_update_hflags(CPUX86State *env);
/* The same from a helper after which its block ends with a lookup of the next block (which
 * compares the new flags): a change needs no return to the run loop. */
void x86_update_hflags_at_exit(CPUX86State *env);
void x86_load_seg_cache(CPUX86State *env, int seg, uint16_t sel, uint32_t base, uint32_t limit,
                        uint32_t flags);
void x86_set_cpl(CPUX86State *env, int cpl);
unsigned x86_dr7_bps(const CPUX86State *env, int type);
unsigned x86_dr7_exec_bps(const CPUX86State *env);
/* Data breakpoints: which of DR0-DR3 (bit mask) watch [addr, addr+size) for this access. */
unsigned x86_watch_hits(const CPUX86State *env, uint32_t addr, unsigned size, bool write);
bool x86_page_watched(const CPUX86State *env, uint32_t page, bool write);
static inline int x86_cpl(const CPUX86State *env) { return env->hflags & HF_CPL_MASK; }
static inline int x86_mmu_idx(const CPUX86State *env) { return x86_cpl(env) == 3 ? 1 : 0; }

/* Memory access from C helpers (linear addresses, through the soft MMU; may fault). */
uint32_t x86_ldub(CPUX86State *env, uint32_t lin, int mmu);
uint32_t x86_lduw(CPUX86State *env, uint32_t lin, int mmu);
uint32_t x86_ldl(CPUX86State *env, uint32_t lin, int mmu);
void x86_stb(CPUX86State *env, uint32_t lin, uint32_t v, int mmu);
void x86_stw(CPUX86State *env, uint32_t lin, uint32_t v, int mmu);
void x86_stl(CPUX86State *env, uint32_t lin, uint32_t v, int mmu);
/* Supervisor-privilege accesses the CPU makes on its own (descriptor tables, TSS). */
#define MMU_KSYS 0

/* Page walk (mmu.c): fills the TLB entry for addr or raises #PF. */
void x86_tlb_fill(CPUX86State *env, uint32_t addr, int access, unsigned mmu_idx);
/* The same without the fault: false (and *err the #PF error code) where x86_tlb_fill raises. */
bool x86_tlb_try_fill(CPUX86State *env, uint32_t addr, int access, unsigned mmu_idx,
                      uint32_t *err);
/* Translate without side effects for debuggers; returns false if unmapped. */
bool x86_debug_translate(CPUX86State *env, uint32_t addr, uint32_t *phys);

/* Descriptor handling (helpers/seg.c). */
void x86_load_seg(CPUX86State *env, int seg, uint16_t sel);
void x86_cpu_init_fpu(CPUX86State *env);

void x86_refresh_segments(CPUX86State *env);
void x86_write_cr(CPUX86State *env, int n, uint32_t v);
void x86_excp_reset(CPUX86State *env);

/* Helpers translated code calls (see helpers/ *.c for the argument conventions). */
extern const IrHelper hlp_ljmp, hlp_lcall, hlp_lret, hlp_iret, hlp_desc_check, hlp_lldt, hlp_ltr,
    hlp_sysenter, hlp_sysexit, hlp_load_seg, hlp_get_sel;
extern const IrHelper hlp_cpuid, hlp_rdtsc, hlp_rdmsr, hlp_wrmsr, hlp_rdpmc, hlp_read_cr,
    hlp_write_cr, hlp_read_dr, hlp_write_dr, hlp_in, hlp_out, hlp_check_io, hlp_pushf, hlp_popf,
    hlp_cli, hlp_sti, hlp_hlt, hlp_raise, hlp_raise_int, hlp_into, hlp_lgdt, hlp_sgdt, hlp_lmsw,
    hlp_clts, hlp_invlpg, hlp_priv, hlp_single_step, hlp_cc_eflags, hlp_get_eflags,
    hlp_set_ccflags, hlp_smsw, hlp_cc_cf, hlp_insn_bp, hlp_clear_rf;
extern const IrHelper hlp_div, hlp_bcd, hlp_shift, hlp_dshift, hlp_cmpxchg8b;
extern const IrHelper hlp_rep_fast; /* helpers/string.c */
extern const IrHelper hlp_fpu, hlp_fpu_local, hlp_fwait, hlp_fxsave, hlp_fxrstor;

#endif
