/* The run loop of the CPU: finds or translates the block at the current EIP, runs it through
 * the back end, chains blocks, takes interrupts at block boundaries, and turns guest exceptions
 * (longjmp from helpers and slow paths) into deliveries through the IDT. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cpu/x86/fpu.h"
#include "cpu/x86/helpers.h"
#include "cpu/x86/translate.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"
#include "util/log.h"

void x86_restore_state(CPUX86State *env)
{
    TranslationBlock *tb = env->cur_tb;
    if (tb && env->cur_pos) {
        int k = env->backend->fault_insn(tb, env->cur_pos);
        env->eip = tb->pc + tb->insn_off[k];
        if (tb->insn_aux[k] != CC_OP_DYNAMIC) env->cc_op = tb->insn_aux[k];
        /* Instructions k.. were not retired. */
        env->budget += tb->icount - k;
    }
    env->cur_pos = NULL;
}

_Noreturn void x86_cpu_loop_exit(CPUX86State *env)
{
    env->cur_pos = NULL;
    longjmp(env->jmp_env, 1);
}

static TranslationBlock *tb_translate(CPUX86State *env, uint32_t pc, uint32_t cs_base,
                                      uint32_t flags, int cflags)
{
    TbCache *c = env->tbs;
    for (int attempt = 0; attempt < 2; attempt++) {
        TranslationBlock *tb = tb_arena_alloc(c, sizeof(TranslationBlock));
        if (tb) {
            memset(tb, 0, sizeof *tb);
            tb->pc = pc;
            tb->cs_base = cs_base;
            tb->flags = flags;
            tb->cflags = cflags;
            tb->phys_page2 = UINT32_MAX;
            if (x86_translate_block(env, tb)) {
                if (!(cflags & TB_NOCACHE)) tb_insert(c, tb);
                return tb;
            }
        }
        /* Arena full: drop everything and translate again into the empty arena. */
        tb_flush(c);
    }
    log_error("internal error: a single block does not fit the translation cache");
    abort();
}

/* Physical address of the instruction fetch at linear address lin: faulting as the fetch would,
 * or (may_fault false) returning false instead. */
static bool code_phys(CPUX86State *env, uint32_t lin, bool may_fault, uint32_t *phys)
{
    if (!may_fault) return softmmu_code_phys(env, lin, x86_mmu_idx(env), phys);
    softmmu_code_page(env, lin, x86_mmu_idx(env), phys);
    return true;
}

/* The translated block for CS:EIP = cs_base:pc in mode flags through the page tables and the
 * hash table, or NULL (not translated, or a page walk that would fault when !may_fault). */
static TranslationBlock *tb_lookup(CPUX86State *env, uint32_t pc, uint32_t cs_base,
                                   uint32_t flags, bool may_fault)
{
    uint32_t phys;
    if (!code_phys(env, cs_base + pc, may_fault, &phys)) return NULL;
    TranslationBlock *tb = tb_hash_lookup(env->tbs, phys, pc, cs_base, flags);
    if (tb && tb->phys_page2 != UINT32_MAX) {
        /* The second page must still map to the same physical page. */
        uint32_t phys2, lin2 = ((cs_base + pc) & PAGE_MASK) + PAGE_SIZE;
        if (!code_phys(env, lin2, may_fault, &phys2) || (phys2 & PAGE_MASK) != tb->phys_page2)
            tb = NULL;
    }
    return tb;
}

/* Enters tb in the jump cache, marked global when its one page has a global translation (the
 * page walk of tb_lookup or of the translation left that page's entry in the TLB). */
static void jmp_cache_remember(CPUX86State *env, TranslationBlock *tb)
{
    uint32_t lin = tb->cs_base + tb->pc;
    const TlbEntry *e = &env->tlb[x86_mmu_idx(env)][tlb_index(lin)];
    bool global = tb->phys_page2 == UINT32_MAX && e->vaddr == (lin & PAGE_MASK) &&
                  (e->flags & TLBF_GLOBAL) && !(tb->cflags & TB_NOCACHE);
    tb_jmp_cache_set(env->tbs, tb->pc, tb->cs_base, tb, global);
}

/* Block at the current CS:EIP in the current mode, translating it if needed. */
static TranslationBlock *tb_find(CPUX86State *env)
{
    TbCache *c = env->tbs;
    uint32_t pc = env->eip, cs_base = env->seg_base[R_CS], flags = env->hflags;
    c->nfind++;
    if (env->single_insn_next || (env->eflags & RF_MASK)) {
        /* SMC restart, data-breakpoint re-run, or an instruction breakpoint resumed with RF. */
        env->single_insn_next = false;
        return tb_translate(env, pc, cs_base, flags, TB_NOCACHE);
    }
    TranslationBlock *tb = c->jmp_cache[tb_jmp_cache_hash(pc)];
    if (tb && tb->pc == pc && tb->cs_base == cs_base && tb->flags == flags) return tb;
    tb = tb_lookup(env, pc, cs_base, flags, true);
    if (!tb) tb = tb_translate(env, pc, cs_base, flags, 0);
    jmp_cache_remember(env, tb);
    return tb;
}

TranslationBlock *x86_tb_find_cached(CPUX86State *env)
{
    if (env->single_insn_next || (env->eflags & RF_MASK)) return NULL;
    TranslationBlock *tb = tb_lookup(env, env->eip, env->seg_base[R_CS], env->hflags, false);
    if (tb) {
        jmp_cache_remember(env, tb);
        env->tbs->nfind_cached++;
    }
    return tb;
}

/* Takes a pending hardware interrupt or NMI if the CPU can accept it now. */
static bool handle_interrupts(CPUX86State *env)
{
    if (env->interrupt_request & INT_REQ_NMI) {
        env->interrupt_request &= ~INT_REQ_NMI;
        env->halted = false;
        x86_do_interrupt(env, EXCP_NMI, false, false, 0, env->eip, true);
        return true;
    }
    if ((env->interrupt_request & INT_REQ_HARD) && (env->eflags & IF_MASK) && !env->inhibit_irq) {
        int vector = env->intack ? env->intack(env->intack_opaque) : -1;
        env->halted = false;
        if (vector >= 0) {
            LOG(LOG_INT, "int: hardware vector 0x%02x at %04x:%08x", vector,
                env->segs[R_CS].sel, env->eip);
            x86_do_interrupt(env, vector, false, false, 0, env->eip, true);
            return true;
        }
    }
    return false;
}

static int exec_loop(CPUX86State *env)
{
    TranslationBlock *last = NULL;
    int last_slot = -1;
    for (;;) {
        if (env->interrupt_request & INT_REQ_RESET) {
            env->interrupt_request &= ~INT_REQ_RESET;
            return X86_EXIT_SHUTDOWN;
        }
        if (env->exit_request) {
            x86_cpu_exit_taken(env);
            last = NULL;
        }
        if (env->interrupt_request && handle_interrupts(env)) last = NULL;
        if (env->halted) return X86_EXIT_HALT;
        /* (An exit requested by the interrupt delivery just made is taken after one block.) */
        if (x86_budget_left(env) <= 0) return X86_EXIT_BUDGET;

        uint64_t flushes = env->tbs->nflushes;
        TranslationBlock *tb = tb_find(env);
        /* A flush to make room for tb dropped `last` with everything else. */
        if (env->tbs->nflushes != flushes) last = NULL;
        /* Chain the previous block's direct exit to this one when it is on the same page, or
         * when the exit checks the page's translation (then tb must lie in one page). */
        if (last && last_slot >= 0 && !(tb->cflags & TB_NOCACHE) && !last->invalid &&
            (((last->pc + last->cs_base) & PAGE_MASK) == ((tb->pc + tb->cs_base) & PAGE_MASK) ||
             ((last->xpage_slots >> last_slot & 1) && tb->phys_page2 == UINT32_MAX &&
              tb->flags == last->flags && tb->cs_base == last->cs_base)))
            tb_chain(env->tbs, last, last_slot, tb);
        env->budget -= tb->icount;
        env->inhibit_irq = false;
        if (LOG_ON(LOG_EXEC))
            log_msg("exec: %04x:%08x flags=%x", env->segs[R_CS].sel, tb->pc, tb->flags);
        uint64_t flushes_before = env->tbs->nflushes;
        last = env->backend->exec(env, tb, &last_slot);
        env->cur_tb = NULL;
        /* A helper flushed the cache while the chain ran: the exited block is gone. */
        if (env->tbs->nflushes != flushes_before) last = NULL;
        if (last && (last->cflags & TB_NOCACHE)) {
            last = NULL;
            env->watch_suppress = false;
            if (env->db_trap_pending) {
                env->db_trap_pending = false;
                x86_do_interrupt(env, EXCP_DB, false, false, 0, env->eip, false);
            }
        }
        if (env->halted) return X86_EXIT_HALT;
    }
}

static int cpu_exec_slice(CPUX86State *env)
{
    if (setjmp(env->jmp_env)) {
        /* Unwound from a helper or slow path: state is that of an instruction boundary. */
        env->cur_tb = NULL;
        env->cur_pos = NULL;
        if (env->interrupt_request & INT_REQ_RESET) return X86_EXIT_SHUTDOWN;
        /* A delivery counts as an instruction, so a guest stuck faulting in a loop (a handler
         * that faults on its first instruction) still uses up its slice and lets timers and
         * the user in. */
        env->budget--;
        x86_deliver_pending_exception(env);
        if (env->interrupt_request & INT_REQ_RESET) return X86_EXIT_SHUTDOWN;
    }
    return exec_loop(env);
}

int x86_cpu_exec(CPUX86State *env)
{
    int r = cpu_exec_slice(env);
    /* Outside the run loop, env->fpu holds the x87 state (devices, save/restore, the
     * debugger, tests look at it there). */
    x86_fpu_release(env);
    return r;
}
