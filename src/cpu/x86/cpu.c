/* CPU object: creation, the power-on/reset state (SDM vol. 3, 9.1, table 9-1), the interrupt
 * and A20 inputs from the board, and memory accessors for C helpers. */
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "debug/profiler.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"
#include "util/alloc.h"
#include "util/log.h"


static void page_became_code(void *opaque, uint32_t phys_page)
{
    softmmu_protect_code_page(opaque, phys_page);
}

CPUX86State *x86_cpu_new(AddressSpace *mem, AddressSpace *io, Clock *clock, bool jit)
{
    CPUX86State *env = xzalloc_aligned(_Alignof(CPUX86State), sizeof *env);
    env->mem = mem;
    env->io = io;
    env->clock = clock;
    softmmu_init(env);
    env->tbs = tb_cache_new(64u << 20);
    if (!env->tbs) {
        free(env);
        return NULL;
    }
    env->tbs->page_became_code = page_became_code;
    env->tbs->opaque = env;
    env->backend = &backend_interp;
#ifdef BACKEND_HAVE_X86_64
    if (jit) {
        if (backend_x86_64.attach(env->tbs))
            env->backend = &backend_x86_64;
        else
            log_error("x86-64 code generator unavailable (no executable memory): interpreting");
    }
#else
    (void)jit;
#endif
    env->tsc_hz = 1000000000ull; /* the TSC counts virtual nanoseconds: 1 GHz */
    x86_cpu_reset(env);
    if (LOG_ON(LOG_PROF)) profiler_start(env);
    return env;
}

void x86_cpu_free(CPUX86State *env)
{
    if (!env) return;
    tb_cache_free(env->tbs);
    free(env->hist);
    free(env->hist_buf);
    free(env);
}

void x86_cpu_reset(CPUX86State *env)
{
    memset(env->regs, 0, sizeof env->regs);
    env->regs[R_EDX] = 0x0633; /* family 6, model 3, stepping 3 */
    env->eflags = 0x2;
    env->cc_op = CC_OP_EFLAGS;
    env->cc_src = 0;
    env->df = 1;
    env->cr[0] = CR0_ET | CR0_CD | CR0_NW;
    env->cr[2] = env->cr[3] = env->cr[4] = 0;
    memset(env->dr, 0, sizeof env->dr);
    env->dr[6] = 0xffff0ff0;
    env->dr[7] = 0x400;
    env->a20_mask = 0xffffffffu;
    env->hflags = 0;
    uint32_t data = DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK | DESC_A_MASK;
    for (int i = 0; i < 6; i++) x86_load_seg_cache(env, i, 0, 0, 0xffff, data);
    x86_load_seg_cache(env, R_CS, 0xf000, 0xffff0000u, 0xffff, data | DESC_CS_MASK);
    x86_load_seg_cache(env, R_LDTR, 0, 0, 0xffff, DESC_P_MASK | (2u << 8));
    x86_load_seg_cache(env, R_TR, 0, 0, 0xffff, DESC_P_MASK | (11u << 8));
    env->gdt = (DescTable){0, 0xffff};
    env->idt = (DescTable){0, 0x3ff};
    env->eip = 0xfff0;
    env->sysenter_cs = env->sysenter_esp = env->sysenter_eip = 0;
    env->apic_base = 0xfee00000u | (1u << 8); /* BSP; the APIC itself is not advertised */
    env->pat = 0x0007040600070406ull;
    memset(&env->mtrr, 0, sizeof env->mtrr);
    env->tsc_offset = 0;
    env->halted = false;
    env->inhibit_irq = false;
    env->interrupt_request &= INT_REQ_HARD; /* the INTR line level persists */
    env->exc_in_progress = -1;
    env->pending.vector = -1;
    x86_cpu_init_fpu(env);
    env->mxcsr = 0x1f80;
    x86_refresh_segments(env);
    softmmu_flush(env);
    tb_flush(env->tbs);
}

void x86_cpu_setup_flat32(CPUX86State *env, uint32_t eip, uint16_t cs_sel, uint16_t ds_sel,
                          uint32_t gdt_base, uint16_t gdt_limit)
{
    env->cr[0] = (env->cr[0] | CR0_PE) & ~CR0_PG;
    env->gdt = (DescTable){gdt_base, gdt_limit};
    x86_set_eflags(env, 0x2, 0xffffffffu);
    x86_set_cpl(env, 0);
    uint32_t attr = DESC_G_MASK | DESC_B_MASK | DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK |
                    DESC_A_MASK;
    x86_load_seg_cache(env, R_CS, cs_sel, 0, 0xffffffffu, attr | DESC_CS_MASK);
    for (int s = 0; s < 6; s++)
        if (s != R_CS) x86_load_seg_cache(env, s, ds_sel, 0, 0xffffffffu, attr);
    env->eip = eip;
    x86_refresh_segments(env);
    softmmu_flush(env);
}

void x86_cpu_set_irq(void *opaque, int n, int level)
{
    CPUX86State *env = opaque;
    if (level) {
        env->interrupt_request |= INT_REQ_HARD;
        x86_cpu_exit(env);
    } else {
        env->interrupt_request &= ~INT_REQ_HARD;
    }
}

void x86_cpu_set_nmi(CPUX86State *env)
{
    env->interrupt_request |= INT_REQ_NMI;
    x86_cpu_exit(env);
}

void x86_cpu_set_a20(CPUX86State *env, bool enabled)
{
    uint32_t mask = enabled ? 0xffffffffu : ~(1u << 20);
    if (mask != env->a20_mask) {
        env->a20_mask = mask;
        softmmu_flush(env);
        x86_cpu_exit(env);
    }
}

uint64_t x86_cpu_icount(const CPUX86State *env)
{
    /* Retired = before this slice + (slice budget - what is left). */
    return env->icount + (uint64_t)(int64_t)(env->slice_budget - x86_budget_left(env));
}

void x86_cpu_start_slice(CPUX86State *env, int32_t n)
{
    env->slice_budget = n;
    env->budget = n - (env->exit_request ? X86_EXIT_BIAS : 0);
}

uint64_t x86_cpu_end_slice(CPUX86State *env)
{
    uint64_t done = x86_cpu_icount(env) - env->icount;
    env->icount += done;
    x86_cpu_start_slice(env, 0);
    return done;
}

void x86_cpu_memory_changed(void *opaque)
{
    CPUX86State *env = opaque;
    softmmu_flush(env);
    x86_cpu_exit(env);
}

void x86_cpu_notify_ram_write(CPUX86State *env, uint32_t phys, uint32_t len)
{
    if (len) tb_invalidate_phys_range(env->tbs, phys, len, NULL);
}

/* ---- memory access for helpers ---- */

static inline uint32_t helper_ld(CPUX86State *env, uint32_t lin, unsigned size, int mmu)
{
    const TlbEntry *e = &env->tlb[mmu][tlb_index(lin)];
    if (tlb_hit(e->tag_r, lin, size)) {
        const uint8_t *p = (const uint8_t *)(lin + e->addend);
        return size == 1 ? p[0] : size == 2 ? (uint32_t)(p[0] | p[1] << 8)
                                            : p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
    }
    return softmmu_ld(env, lin, size, mmu);
}

static inline void helper_st(CPUX86State *env, uint32_t lin, uint32_t v, unsigned size, int mmu)
{
    const TlbEntry *e = &env->tlb[mmu][tlb_index(lin)];
    if (tlb_hit(e->tag_w, lin, size)) {
        uint8_t *p = (uint8_t *)(lin + e->addend);
        for (unsigned i = 0; i < size; i++) p[i] = v >> (8 * i);
        return;
    }
    softmmu_st(env, lin, v, size, mmu);
}

uint32_t x86_ldub(CPUX86State *env, uint32_t lin, int mmu) { return helper_ld(env, lin, 1, mmu); }
uint32_t x86_lduw(CPUX86State *env, uint32_t lin, int mmu) { return helper_ld(env, lin, 2, mmu); }
uint32_t x86_ldl(CPUX86State *env, uint32_t lin, int mmu) { return helper_ld(env, lin, 4, mmu); }
void x86_stb(CPUX86State *env, uint32_t lin, uint32_t v, int mmu) { helper_st(env, lin, v, 1, mmu); }
void x86_stw(CPUX86State *env, uint32_t lin, uint32_t v, int mmu) { helper_st(env, lin, v, 2, mmu); }
void x86_stl(CPUX86State *env, uint32_t lin, uint32_t v, int mmu) { helper_st(env, lin, v, 4, mmu); }
