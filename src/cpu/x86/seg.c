/* Segment-register caches, the bounds that translated code checks accesses against, and the
 * translation mode bits derived from them (SDM vol. 3, 3.4 and 5.3). */
#include "cpu/x86/helpers.h"

#include "exec/softmmu_slow.h"

static void update_bounds(CPUX86State *env, int seg)
{
    const SegCache *s = &env->segs[seg];
    SegBounds *b = &env->seg_bounds[seg];
    bool pm = (env->cr[0] & CR0_PE) && !(env->eflags & VM_MASK);
    if (!pm) {
        /* Real and virtual-8086 mode: no type or privilege checks, only the limit. */
        b->rlo = b->wlo = 0;
        b->rhi = b->whi = s->limit;
        return;
    }
    if (!(s->flags & DESC_P_MASK) || !(s->flags & DESC_S_MASK)) {
        b->rlo = b->wlo = 1;
        b->rhi = b->whi = 0;
        return;
    }
    uint32_t lo = 0, hi = s->limit;
    if (!(s->flags & DESC_CS_MASK) && (s->flags & DESC_CE_MASK)) {
        /* Expand-down data: valid offsets are above the limit. */
        lo = s->limit + 1;
        hi = (s->flags & DESC_B_MASK) ? 0xffffffffu : 0xffffu;
        if (lo == 0) { /* limit 0xffffffff: nothing is valid */
            lo = 1;
            hi = 0;
        }
    }
    bool readable = !(s->flags & DESC_CS_MASK) || (s->flags & DESC_RW_MASK);
    bool writable = !(s->flags & DESC_CS_MASK) && (s->flags & DESC_RW_MASK);
    b->rlo = readable ? lo : 1;
    b->rhi = readable ? hi : 0;
    b->wlo = writable ? lo : 1;
    b->whi = writable ? hi : 0;
}

static bool seg_flat(const CPUX86State *env, int seg)
{
    const SegBounds *b = &env->seg_bounds[seg];
    return env->seg_base[seg] == 0 && b->rlo == 0 && b->wlo == 0 && b->rhi == 0xffffffffu &&
           b->whi == 0xffffffffu;
}

/* Recomputes env->hflags; true if they changed. */
static bool compute_hflags(CPUX86State *env)
{
    uint32_t hf = env->hflags & HF_CPL_MASK;
    bool pe = env->cr[0] & CR0_PE, vm = pe && (env->eflags & VM_MASK);
    if (pe) hf |= HF_PE;
    if (vm) hf |= HF_VM;
    if (!vm && (env->segs[R_CS].flags & DESC_B_MASK)) hf |= HF_CS32;
    if (!vm && (env->segs[R_SS].flags & DESC_B_MASK)) hf |= HF_SS32;
    if (pe && !vm && seg_flat(env, R_DS) && seg_flat(env, R_ES) && seg_flat(env, R_SS))
        hf |= HF_FLAT;
    if (env->eflags & TF_MASK) hf |= HF_TF;
    if (env->segs[R_CS].limit == 0xffffffffu) hf |= HF_CSLIM;
    if ((hf & HF_CPL_MASK) == 3 && (env->cr[0] & CR0_AM) && (env->eflags & AC_MASK)) hf |= HF_AC;
    if ((env->dr[7] & 0xff) && x86_dr7_exec_bps(env)) hf |= HF_DBG;
    if (env->hist_enabled) hf |= HF_HIST;
    if (env->cr[0] & CR0_TS) hf |= HF_TS;
    if (env->cr[0] & CR0_EM) hf |= HF_EM;
    if (env->cr[0] & CR0_MP) hf |= HF_MP;
    if (env->cr[4] & CR4_OSFXSR) hf |= HF_OSFXSR;
    if (hf == env->hflags) return false;
    env->hflags = hf;
    return true;
}

void x86_update_hflags(CPUX86State *env)
{
    if (compute_hflags(env)) x86_cpu_exit(env);
}

void x86_update_hflags_at_exit(CPUX86State *env)
{
    compute_hflags(env);
}

void x86_set_cpl(CPUX86State *env, int cpl)
{
    env->hflags = (env->hflags & ~HF_CPL_MASK) | (cpl & 3);
}

/* Mask of enabled DR0-DR3 breakpoints of the given R/W type (0 = execute, 1 = write,
 * 3 = read/write). */
unsigned x86_dr7_bps(const CPUX86State *env, int type)
{
    unsigned m = 0;
    uint32_t dr7 = env->dr[7];
    for (int i = 0; i < 4; i++) {
        int rw = (dr7 >> (16 + 4 * i)) & 3;
        if ((dr7 >> (2 * i)) & 3 && rw == type) m |= 1u << i;
    }
    return m;
}

unsigned x86_dr7_exec_bps(const CPUX86State *env) { return x86_dr7_bps(env, 0); }

void x86_load_seg_cache(CPUX86State *env, int seg, uint16_t sel, uint32_t base, uint32_t limit,
                        uint32_t flags)
{
    SegCache *s = &env->segs[seg];
    s->sel = sel;
    s->base = base;
    s->limit = limit;
    s->flags = flags;
    if (seg == R_CS) env->cs_limit = limit;
    if (seg < 6) {
        env->seg_base[seg] = base;
        update_bounds(env, seg);
        if (seg == R_CS && (env->cr[0] & CR0_PE) && !(env->eflags & VM_MASK))
            x86_set_cpl(env, sel & 3);
    }
}

/* Recompute all bounds after a mode change (CR0.PE, EFLAGS.VM). */
void x86_refresh_segments(CPUX86State *env)
{
    for (int i = 0; i < 6; i++) update_bounds(env, i);
    x86_update_hflags(env);
}
