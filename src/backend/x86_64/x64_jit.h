/* Internals of the x86-64 back end shared by its code generator (x64_gen.c) and its run-time
 * part (x64_backend.c): the host register convention, the per-cache code buffer with its shared
 * stubs, and the layout of a generated block. */
#ifndef BACKEND_X86_64_X64_JIT_H
#define BACKEND_X86_64_X64_JIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"
#include "backend/x86_64/x64_emit.h"
#include "host/jitmem.h"

/* Host registers while translated code runs:
 *   RBP          the CPU state (env); IR globals are 32-bit slots at [rbp + 4 * slot]
 *   RBX R12-R15  guest EAX ECX EDX EBX ESP (callee-saved: they survive C calls)
 *   R8 R9 R10    guest EBP ESI EDI (caller-saved: stored and reloaded around C calls)
 *   RDX RSI RDI R11  block temporaries (register allocation; saved around C calls if live)
 *   RAX RCX      scratch of single IR operations
 * The guest registers stay in host registers across chained and looked-up block transitions;
 * env->regs is brought up to date only when C code may look at it (helper calls, slow paths)
 * and when leaving to the run loop. Every value register holds a 32-bit value zero-extended to
 * 64 bits (all IR arithmetic uses 32-bit operations), so it can index a host address. */
#define JIT_ENV       X_RBP
#define JIT_NPINNED   8
#define JIT_NTEMPREGS 4
extern const int8_t jit_pinned[JIT_NPINNED]; /* host register of guest register i */
extern const int8_t jit_tempregs[JIT_NTEMPREGS];
#define JIT_NCALLEE_PINNED 5 /* jit_pinned[0..4] are callee-saved */

/* Size/position conventions of a block in the code buffer:
 *   [header]  JitTbHeader, 16 bytes, just below tb->code
 *   tb->code  chain entry: budget -= icount, to the run loop if below zero (entered from
 *             chained jumps and the jump-cache lookup)
 *   + JIT_BODY_OFFSET  the body (entered from the run loop, which did the checks itself)
 * followed by the out-of-line slow paths and exits of the block. */
typedef struct JitTbHeader {
    uint32_t jmp_site[2]; /* offset from tb->code of the rel32 of each GOTO_TB slot, or 0 */
    uint32_t size;        /* bytes of code from tb->code */
    uint32_t xpage;       /* bit n: slot n is a cross-page exit (offsets below from its rel32) */
} JitTbHeader;
#define JIT_XPAGE_PHYS   26 /* imm32: physical page of the successor */
#define JIT_XPAGE_TARGET 37 /* rel32: the successor's chain entry */
#define JIT_XPAGE_EXIT   41 /* the unchained exit */
#define JIT_BODY_OFFSET 16 /* sub dword [rbp+disp32], imm32; jl rel32 */

/* Returned by the entry trampoline in RAX:RDX. */
typedef struct JitRet {
    TranslationBlock *tb;
    int64_t slot;
} JitRet;
typedef JitRet (*JitEnterFn)(CPUX86State *env, const void *body);

/* Sizes of guest memory accesses with a slow-path stub each: 1, 2, 4 bytes. */
#define JIT_NSIZES 3

typedef struct JitState {
    JitMem mem;
    TbCache *cache;
    size_t code_start; /* blocks are placed from here; below are the shared stubs */
    size_t pos;        /* next free byte */
    JitEnterFn enter;
    bool bmi2; /* the host has BMI2 (rorx) */
    /* Offsets of the shared stubs in the buffer. */
    size_t exit_stub;   /* RAX = block, RDX = slot: store guest registers, return to C */
    size_t lookup_stub; /* RSI = block leaving -> RAX = where to jump (successor or exit) */
    size_t raise_stub;  /* ESI = vector: x86_raise_exception_err(env, vector, 0) */
    size_t ld_stub[NB_MMU_MODES][JIT_NSIZES]; /* EAX = address -> EAX = value */
    size_t st_stub[NB_MMU_MODES][JIT_NSIZES]; /* EAX = address, ECX = value */
    /* EAX = lazy-flags op -> EAX = x86_cc_compute (0) or x86_cc_compute_cf (1) of env->cc_*;
     * every other register but RCX preserved. cc_stub calls C; cc_table holds the addresses of
     * generated routines per op (callers bound-check the op and call through it). */
    size_t cc_stub[2], cc_table[2];
    /* EAX = x86_fpu_acquire(env); every other register but RCX preserved. */
    size_t x87_stub;
    uint64_t nblocks, ncode_bytes;
    FILE *perfmap; /* -d perfmap: /tmp/perf-PID.map */
} JitState;

/* Names [start, start + size) of generated code for perf (with -d perfmap). */
void jit_perfmap_add(JitState *j, size_t start, size_t size, const char *name);

static inline int jit_size_index(unsigned size)
{
    return size == 1 ? 0 : size == 2 ? 1 : 2;
}

/* Size and W^X scheme of the code buffer of each CPU created from now on (tests shrink it to
 * make flushes frequent, or select mprotect switching). */
extern size_t jit_code_size;
extern JitMemMode jit_mem_mode;

/* EAX = the lazy flags of constant op (x86_cc_compute & need) using RCX; returns the rel32 of
 * a jump to take the C function instead, or 0 (x64_flags.c). */
size_t jit_emit_cc(X64Buf *b, unsigned op, uint32_t need);

/* Generates tb's code at j->pos; false if the buffer (or the arena) is full. */
bool jit_gen_block(JitState *j, TranslationBlock *tb, const IrBlock *ir);

/* Offsets into CPUX86State used by generated code. */
#define ENV_OFF(field) ((int32_t) __builtin_offsetof(CPUX86State, field))

#endif
