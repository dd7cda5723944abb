/* The emulated i386 CPU: its state as seen by translated code (IR slots first), the machine
 * interface (memory, ports, interrupt acknowledge, reset/shutdown) and the entry points. */
#ifndef CPU_X86_CPU_H
#define CPU_X86_CPU_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/memory.h"
#include "cpu/x86/state.h"
#include "exec/softmmu.h"

#define X86_TEMP_SLOTS 2048

/* Translation-relevant mode bits (part of every TB key). */
#define HF_CPL_MASK 0x0003u
#define HF_PE 0x0004u    /* protected mode */
#define HF_CS32 0x0008u  /* default operand/address size 32 */
#define HF_SS32 0x0010u  /* 32-bit stack pointer */
#define HF_FLAT 0x0020u  /* DS, ES, SS: base 0, 4 GiB expand-up writable: no base add, no checks */
#define HF_VM 0x0040u    /* virtual-8086 mode */
#define HF_TF 0x0080u    /* single-step trap after each instruction */
#define HF_TS 0x0100u    /* CR0.TS */
#define HF_EM 0x0200u    /* CR0.EM */
#define HF_MP 0x0400u    /* CR0.MP */
#define HF_OSFXSR 0x0800u
#define HF_CSLIM 0x1000u /* CS limit is 4 GiB - 1: near jumps need no limit check */
#define HF_AC 0x2000u    /* alignment checking (CPL 3, CR0.AM, EFLAGS.AC) */
#define HF_DBG 0x4000u   /* DR7 enables instruction breakpoints */
#define HF_HIST 0x8000u  /* the opcode histogram counts executed instructions */

/* interrupt_request bits */
#define INT_REQ_HARD 0x1u  /* INTR line asserted */
#define INT_REQ_NMI 0x2u
#define INT_REQ_RESET 0x4u

typedef struct TranslationBlock TranslationBlock;
typedef struct TbCache TbCache;
typedef struct Backend Backend;

typedef struct X86PendingExc {
    int vector;
    bool has_error, is_sw, trap;
    uint32_t error_code, next_eip;
} X86PendingExc;

/* MTRR storage: read back what was written; no effect on caching. */
typedef struct X86Mtrr {
    uint64_t def_type;
    uint64_t fixed[11];
    uint64_t var_base[8], var_mask[8];
} X86Mtrr;

typedef struct CPUX86State {
    /* ---- IR slots: 32-bit words addressed by index from the start of the structure ---- */
    uint32_t regs[8];
    uint32_t eip;
    uint32_t cc_op;
    uint32_t cc_dst, cc_src, cc_src2;
    uint32_t eflags; /* all EFLAGS bits except the arithmetic ones and DF, which are lazy */
    int32_t df;      /* +1 or -1 */
    uint32_t seg_base[6];
    SegBounds seg_bounds[6];
    uint32_t cs_limit; /* CS limit for near-branch targets */
    uint32_t tmp[X86_TEMP_SLOTS];

    /* ---- everything below is reached from C helpers and the run loop ---- */
    int32_t budget;              /* instructions left in this time slice, less X86_EXIT_BIAS
                                    while exit_request is set (see x86_cpu_exit) */
    volatile int exit_request;   /* leave translated code at the next block boundary */
    uint32_t hflags;
    uint32_t interrupt_request;
    bool halted;
    bool inhibit_irq;            /* interrupt shadow after STI / MOV SS / POP SS */
    bool single_insn_next;       /* next block: one instruction, not cached (SMC restart) */
    bool watch_suppress;         /* data breakpoints are being re-run: do not stop again */
    bool db_trap_pending;        /* a data breakpoint hit: #DB after the current instruction */
    uint64_t icount;             /* instructions retired before the current slice */
    int32_t slice_budget;        /* budget the current slice started with */

    SegCache segs[SEG_COUNT];
    DescTable gdt, idt;
    uint32_t cr[5];
    uint32_t dr[8];
    uint32_t a20_mask;

    uint32_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t tsc_offset;
    uint64_t apic_base;
    X86Mtrr mtrr;
    uint64_t pat;
    uint64_t misc_enable;

    X87State fpu;
    /* The x87 state lives in the host FPU instead of `fpu` (x86_fpu_acquire): only while
     * translated code of the x86-64 back end runs; C code reads `fpu` after x86_fpu_release. */
    bool fpu_host;
    uint32_t mxcsr;
    XmmReg xmm[8];

    /* Exception delivery bookkeeping (double fault detection). */
    int exc_in_progress; /* vector being delivered, or -1 */
    X86PendingExc pending;

    /* Soft MMU. */
    /* Cache-line aligned, so no entry straddles two lines (x86_cpu_new aligns env). */
    _Alignas(64) TlbEntry tlb[NB_MMU_MODES][TLB_SIZE];
    TlbEntry victim[NB_MMU_MODES][TLB_VICTIM];
    /* Indexes of the entries filled since the last flush, non-global ones and global ones
     * apart, so that flushes and code-page protection visit only those (the table is large; a
     * process switch uses few entries). tlb_listed: bit 0 in tlb_used, bit 1 in tlb_gused. */
    uint16_t tlb_used[NB_MMU_MODES][TLB_SIZE];
    uint16_t tlb_gused[NB_MMU_MODES][TLB_SIZE];
    unsigned tlb_nused[NB_MMU_MODES], tlb_ngused[NB_MMU_MODES];
    uint8_t tlb_listed[NB_MMU_MODES][TLB_SIZE];
    uint64_t nslow_mem; /* accesses that took the soft-MMU slow path (statistics) */
    uint64_t nfpu_c;    /* x87 instructions executed by the C helpers (statistics) */
    unsigned victim_next[NB_MMU_MODES];
    uint32_t tlb_large[32]; /* bit per 4 MiB region: it may have entries of a large page */
    uint32_t mem_generation;

    /* Execution. */
    jmp_buf jmp_env;
    TranslationBlock *cur_tb;
    const void *cur_pos;        /* back-end position inside cur_tb of a possible fault */
    TbCache *tbs;
    const Backend *backend;

    /* Machine interface. */
    AddressSpace *mem;
    AddressSpace *io;
    Clock *clock;
    int (*intack)(void *opaque); /* returns the vector of the highest pending interrupt */
    void *intack_opaque;
    void (*shutdown_request)(void *opaque, bool reset); /* triple fault / reset request */
    void (*ferr)(void *opaque, int level);              /* x87 FERR# output (IRQ13 on the PC) */
    void *ferr_opaque;
    bool ferr_level;
    void *machine_opaque;
    uint64_t tsc_hz;
    uint32_t cpuid_features; /* CPUID.1:EDX as advertised */
    /* Opcode histogram of the CPUID backdoor. */
    bool hist_enabled;
    uint64_t *hist;
    uint8_t *hist_buf;
    uint32_t hist_buf_size;
} CPUX86State;

/* Slot index of a field of CPUX86State (for the IR global table). */
#define X86_SLOT(field) ((uint16_t)(__builtin_offsetof(CPUX86State, field) / 4))

CPUX86State *x86_cpu_new(AddressSpace *mem, AddressSpace *io, Clock *clock, bool jit);
void x86_cpu_free(CPUX86State *env);
void x86_cpu_reset(CPUX86State *env);

/* Boot-loader entry state (multiboot, Linux 32-bit boot protocol): protected mode, paging off,
 * interrupts off, flat 4 GiB code (selector cs_sel) and data (ds_sel for DS/ES/SS/FS/GS)
 * segments, GDTR = gdt_base/gdt_limit (the caller writes the descriptors to RAM), EIP = eip. */
void x86_cpu_setup_flat32(CPUX86State *env, uint32_t eip, uint16_t cs_sel, uint16_t ds_sel,
                          uint32_t gdt_base, uint16_t gdt_limit);

/* Runs guest code until the budget is used up, the CPU halts, or something needs the run loop.
 * Returns one of the X86_EXIT_* codes. */
enum { X86_EXIT_BUDGET, X86_EXIT_HALT, X86_EXIT_REQUEST, X86_EXIT_SHUTDOWN };
int x86_cpu_exec(CPUX86State *env);

/* Interrupt line from the interrupt controller (level). */
void x86_cpu_set_irq(void *opaque, int n, int level);
void x86_cpu_set_nmi(CPUX86State *env);
void x86_cpu_set_a20(CPUX86State *env, bool enabled);
/* Instructions retired so far (for deterministic time). */
uint64_t x86_cpu_icount(const CPUX86State *env);

/* Leave translated code at the next block boundary. A block's chain entry makes one check,
 * "budget -= icount, below zero: back to the run loop"; a request lowers the budget by
 * X86_EXIT_BIAS so that this check catches it too, and the run loop gives the bias back when it
 * takes the request. Everything runs on the CPU's thread, so the single read-modify-write of
 * the chain entry cannot lose a request. */
#define X86_EXIT_BIAS (1 << 30)
static inline void x86_cpu_exit(CPUX86State *env)
{
    if (!env->exit_request) {
        env->exit_request = 1;
        env->budget -= X86_EXIT_BIAS;
    }
}
/* The request is taken: the budget is the slice's again. */
static inline void x86_cpu_exit_taken(CPUX86State *env)
{
    if (env->exit_request) {
        env->exit_request = 0;
        env->budget += X86_EXIT_BIAS;
    }
}
/* Instructions left in the slice, whether or not an exit is requested. */
static inline int32_t x86_budget_left(const CPUX86State *env)
{
    return env->budget + (env->exit_request ? X86_EXIT_BIAS : 0);
}
/* A time slice of n instructions starts; x86_cpu_end_slice ends it, adds what ran to icount
 * and returns that. */
void x86_cpu_start_slice(CPUX86State *env, int32_t n);
uint64_t x86_cpu_end_slice(CPUX86State *env);
/* The map of guest memory changed (regions added/moved): flush TLBs. */
void x86_cpu_memory_changed(void *opaque);
/* A device wrote guest RAM directly: drop translations of that range. */
void x86_cpu_notify_ram_write(CPUX86State *env, uint32_t phys, uint32_t len);

#endif
