/* Back-end interface: turn an optimised IR block into executable form, run chains of blocks,
 * and map a fault position back to the guest instruction. Chosen at run time. */
#ifndef BACKEND_BACKEND_H
#define BACKEND_BACKEND_H

#include <stdbool.h>

#include "cpu/x86/cpu.h"
#include "exec/tb.h"
#include "ir/ir.h"

struct Backend {
    const char *name;
    /* Generates tb's code into the cache arena and fills tb->code and tb->insn_pos. Returns
     * false if the arena is full (the caller flushes and retries). */
    bool (*gen)(TbCache *c, TranslationBlock *tb, const IrBlock *ir);
    /* Runs from tb, following chained and cached successors while the budget lasts. Returns
     * the block that exited; *exit_slot is its GOTO_TB slot, or -1 for other exits. */
    TranslationBlock *(*exec)(CPUX86State *env, TranslationBlock *tb, int *exit_slot);
    /* Index of the guest instruction of tb containing back-end position pos (env->cur_pos). */
    int (*fault_insn)(const TranslationBlock *tb, const void *pos);
    /* Optional: sets up the back end's state for a translation cache (e.g. executable memory);
     * false if the host cannot provide it, and the caller uses another back end. */
    bool (*attach)(TbCache *c);
};

extern const Backend backend_interp;

/* The x86-64 code generator exists only on x86-64 hosts; elsewhere the interpreter is the
 * portable path. */
#if defined(__x86_64__)
#define BACKEND_HAVE_X86_64 1
extern const Backend backend_x86_64;
#endif

#endif
