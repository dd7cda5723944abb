/* Protected-mode control transfers and descriptor handling: segment loads, interrupt and
 * exception delivery through the IVT/IDT, far JMP/CALL/RET through call gates, IRET, task
 * switches, SYSENTER/SYSEXIT (SDM vol. 3, chapters 5-7 and the instruction pages in vol. 2). */
#include <string.h>

#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "util/log.h"


/* ---- descriptors ---- */

typedef struct Desc {
    uint32_t lo, hi;
} Desc;

static uint32_t desc_base(Desc d) { return (d.lo >> 16) | ((d.hi & 0xff) << 16) | (d.hi & 0xff000000u); }
static uint32_t desc_limit(Desc d)
{
    uint32_t l = (d.lo & 0xffff) | (d.hi & 0xf0000);
    return (d.hi & DESC_G_MASK) ? (l << 12) | 0xfff : l;
}
static uint32_t desc_flags(Desc d) { return d.hi & 0x00f0ff00u; }
static int desc_dpl(Desc d) { return (d.hi >> 13) & 3; }
static int desc_type(Desc d) { return (d.hi >> 8) & 15; }
static bool desc_present(Desc d) { return d.hi & DESC_P_MASK; }
static bool desc_is_seg(Desc d) { return d.hi & DESC_S_MASK; }
static bool desc_is_code(Desc d) { return desc_is_seg(d) && (d.hi & DESC_CS_MASK); }
static bool desc_conforming(Desc d) { return d.hi & DESC_CE_MASK; }

static bool pm_mode(const CPUX86State *env)
{
    return (env->cr[0] & CR0_PE) && !(env->eflags & VM_MASK);
}

/* Linear address of the descriptor for sel, or false if beyond the table limit. */
static bool desc_addr(CPUX86State *env, uint16_t sel, uint32_t *addr)
{
    uint32_t base, limit;
    if (sel & 4) {
        base = env->segs[R_LDTR].base;
        limit = env->segs[R_LDTR].limit;
        if (!(env->segs[R_LDTR].flags & DESC_P_MASK)) return false;
    } else {
        base = env->gdt.base;
        limit = env->gdt.limit;
    }
    uint32_t idx = sel & ~7u;
    if (idx + 7 > limit) return false;
    *addr = base + idx;
    return true;
}

static bool load_desc(CPUX86State *env, uint16_t sel, Desc *d)
{
    uint32_t a;
    if (!desc_addr(env, sel, &a)) return false;
    d->lo = x86_ldl(env, a, MMU_KSYS);
    d->hi = x86_ldl(env, a + 4, MMU_KSYS);
    return true;
}

static void set_accessed(CPUX86State *env, uint16_t sel, Desc *d)
{
    uint32_t a;
    if (!(d->hi & DESC_A_MASK) && desc_addr(env, sel, &a)) {
        d->hi |= DESC_A_MASK;
        x86_stl(env, a + 4, d->hi, MMU_KSYS);
    }
}

static void load_cache_from_desc(CPUX86State *env, int seg, uint16_t sel, Desc d)
{
    x86_load_seg_cache(env, seg, sel, desc_base(d), desc_limit(d), desc_flags(d));
}

/* ---- segment register loads (MOV, POP, LDS...) ---- */

/* FS and GS take no part in hflags (CS, SS, DS and ES do: size, CPL, flat segments). */
static inline bool seg_affects_hflags(int seg) { return seg != R_FS && seg != R_GS; }

void x86_load_seg(CPUX86State *env, int seg, uint16_t sel)
{
    if (!pm_mode(env)) {
        /* Real mode keeps limit and attributes ("unreal mode"); v86 sets them. */
        SegCache *s = &env->segs[seg];
        if (env->eflags & VM_MASK)
            x86_load_seg_cache(env, seg, sel, (uint32_t)sel << 4, 0xffff,
                               DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK | DESC_A_MASK |
                                   (3u << DESC_DPL_SHIFT) | (seg == R_CS ? DESC_CS_MASK : 0));
        else
            x86_load_seg_cache(env, seg, sel, (uint32_t)sel << 4, s->limit, s->flags);
        if (seg_affects_hflags(seg)) x86_update_hflags(env);
        return;
    }
    int cpl = x86_cpl(env), rpl = sel & 3;
    if ((sel & ~3u) == 0) {
        if (seg == R_SS) x86_raise_exception_err(env, EXCP_GP, 0);
        x86_load_seg_cache(env, seg, sel, 0, 0, 0);
        if (seg_affects_hflags(seg)) x86_update_hflags(env);
        return;
    }
    Desc d;
    if (!load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (seg == R_SS) {
        if (rpl != cpl || desc_dpl(d) != cpl || !desc_is_seg(d) || desc_is_code(d) ||
            !(d.hi & DESC_RW_MASK))
            x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
        if (!desc_present(d)) x86_raise_exception_err(env, EXCP_SS, sel & 0xfffc);
    } else {
        if (!desc_is_seg(d) || (desc_is_code(d) && !(d.hi & DESC_RW_MASK)))
            x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
        if ((!desc_is_code(d) || !desc_conforming(d)) && (rpl > desc_dpl(d) || cpl > desc_dpl(d)))
            x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
        if (!desc_present(d)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    }
    set_accessed(env, sel, &d);
    /* Reloading what the register holds (the data segments on each kernel entry and exit)
     * changes neither its bounds nor the mode flags. */
    const SegCache *s = &env->segs[seg];
    if (seg != R_CS && s->sel == sel && s->base == desc_base(d) && s->limit == desc_limit(d) &&
        s->flags == desc_flags(d))
        return;
    load_cache_from_desc(env, seg, sel, d);
    if (seg_affects_hflags(seg)) x86_update_hflags(env);
}

/* ---- stack access during transfers ---- */

typedef struct Stack {
    uint32_t base, sp, mask;
    int mmu;
} Stack;

static void push(CPUX86State *env, Stack *s, uint32_t v, int size)
{
    s->sp -= size;
    uint32_t a = s->base + (s->sp & s->mask);
    if (size == 4)
        x86_stl(env, a, v, s->mmu);
    else
        x86_stw(env, a, v, s->mmu);
}

static uint32_t pop(CPUX86State *env, Stack *s, int size)
{
    uint32_t a = s->base + (s->sp & s->mask);
    uint32_t v = size == 4 ? x86_ldl(env, a, s->mmu) : x86_lduw(env, a, s->mmu);
    s->sp += size;
    return v;
}

static Stack cur_stack(CPUX86State *env)
{
    return (Stack){env->segs[R_SS].base, env->regs[R_ESP],
                   (env->segs[R_SS].flags & DESC_B_MASK) ? 0xffffffffu : 0xffffu,
                   x86_mmu_idx(env)};
}

static void set_esp(CPUX86State *env, const Stack *s)
{
    env->regs[R_ESP] = (env->regs[R_ESP] & ~s->mask) | (s->sp & s->mask);
}

/* Pre-fault the stack area [sp - bytes, sp) so the pushes that follow cannot fault halfway. */
static void probe_stack(CPUX86State *env, const Stack *s, unsigned bytes)
{
    /* The first push faults first: probe its (top) end before the rest. */
    softmmu_probe(env, s->base + ((s->sp - 2) & s->mask), 2, ACC_WRITE, s->mmu);
    uint32_t lo = (s->sp - bytes) & s->mask;
    softmmu_probe(env, s->base + lo, bytes, ACC_WRITE, s->mmu);
}

/* ---- TSS ---- */

static void tss_stack(CPUX86State *env, int dpl, uint16_t *ss, uint32_t *esp)
{
    SegCache *tr = &env->segs[R_TR];
    int type = (tr->flags >> 8) & 15;
    if (!(tr->flags & DESC_P_MASK)) x86_raise_exception_err(env, EXCP_TS, tr->sel & 0xfffc);
    bool t32 = type & 8;
    uint32_t off = t32 ? 4 + dpl * 8 : 2 + dpl * 4;
    if (off + (t32 ? 7 : 3) > tr->limit) x86_raise_exception_err(env, EXCP_TS, tr->sel & 0xfffc);
    if (t32) {
        *esp = x86_ldl(env, tr->base + off, MMU_KSYS);
        *ss = x86_lduw(env, tr->base + off + 4, MMU_KSYS);
    } else {
        *esp = x86_lduw(env, tr->base + off, MMU_KSYS);
        *ss = x86_lduw(env, tr->base + off + 2, MMU_KSYS);
    }
}

enum { TS_JMP, TS_CALL, TS_IRET, TS_INT };

static void set_busy(CPUX86State *env, uint16_t sel, bool busy)
{
    uint32_t a;
    if (!desc_addr(env, sel, &a)) return;
    uint32_t hi = x86_ldl(env, a + 4, MMU_KSYS);
    hi = busy ? hi | (2u << 8) : hi & ~(2u << 8);
    x86_stl(env, a + 4, hi, MMU_KSYS);
}

/* Load a segment register of the incoming task; faults are #TS with the selector. */
static void task_load_seg(CPUX86State *env, int seg, uint16_t sel)
{
    if (env->eflags & VM_MASK) {
        x86_load_seg_cache(env, seg, sel, (uint32_t)sel << 4, 0xffff,
                           DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK | DESC_A_MASK |
                               (3u << DESC_DPL_SHIFT) | (seg == R_CS ? DESC_CS_MASK : 0));
        return;
    }
    int cpl = sel & 3; /* CPL of the new task comes from its CS */
    if ((sel & ~3u) == 0) {
        if (seg == R_SS || seg == R_CS) x86_raise_exception_err(env, EXCP_TS, 0);
        x86_load_seg_cache(env, seg, sel, 0, 0, 0);
        return;
    }
    Desc d;
    if (!load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
    if (seg == R_CS) {
        if (!desc_is_code(d)) x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
        if (desc_conforming(d) ? desc_dpl(d) > cpl : desc_dpl(d) != cpl)
            x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
    } else if (seg == R_SS) {
        cpl = env->segs[R_CS].sel & 3;
        if (!desc_is_seg(d) || desc_is_code(d) || !(d.hi & DESC_RW_MASK) ||
            desc_dpl(d) != cpl || (sel & 3) != cpl)
            x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
    } else {
        cpl = env->segs[R_CS].sel & 3;
        if (!desc_is_seg(d) || (desc_is_code(d) && !(d.hi & DESC_RW_MASK)))
            x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
        if ((!desc_is_code(d) || !desc_conforming(d)) &&
            ((sel & 3) > desc_dpl(d) || cpl > desc_dpl(d)))
            x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
    }
    if (!desc_present(d))
        x86_raise_exception_err(env, seg == R_SS ? EXCP_SS : EXCP_NP, sel & 0xfffc);
    set_accessed(env, sel, &d);
    load_cache_from_desc(env, seg, sel, d);
}

static void task_switch(CPUX86State *env, uint16_t sel, Desc d, int source, uint32_t next_eip)
{
    int type = desc_type(d);
    if (!(type & 8)) {
        LOG_ONCE(LOG_UNIMP, "unimplemented: task switch to a 16-bit TSS");
        x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    }
    if (!desc_present(d)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    uint32_t nbase = desc_base(d), nlimit = desc_limit(d);
    if (nlimit < 0x67) x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);

    /* Read the whole incoming state first so that a fault leaves the old task intact. */
    uint32_t n[26];
    for (int i = 0; i < 26; i++) n[i] = x86_ldl(env, nbase + i * 4, MMU_KSYS);
    uint32_t new_cr3 = n[7], new_eip = n[8], new_eflags = n[9];
    uint16_t new_ldt = n[24] & 0xffff;
    uint16_t new_segs[6];
    for (int i = 0; i < 6; i++) new_segs[i] = n[18 + i] & 0xffff;

    /* Save the outgoing state. */
    SegCache *tr = &env->segs[R_TR];
    uint32_t obase = tr->base;
    uint32_t eflags = x86_get_eflags(env);
    if (source == TS_IRET) eflags &= ~NT_MASK;
    if (source == TS_JMP || source == TS_IRET) set_busy(env, tr->sel, false);
    x86_stl(env, obase + 0x20, next_eip, MMU_KSYS);
    x86_stl(env, obase + 0x24, eflags, MMU_KSYS);
    for (int i = 0; i < 8; i++) x86_stl(env, obase + 0x28 + i * 4, env->regs[i], MMU_KSYS);
    for (int i = 0; i < 6; i++) x86_stw(env, obase + 0x48 + i * 4, env->segs[i].sel, MMU_KSYS);

    if (source == TS_CALL || source == TS_INT) {
        x86_stw(env, nbase, tr->sel, MMU_KSYS); /* back link */
        new_eflags |= NT_MASK;
    }
    if (source != TS_IRET) set_busy(env, sel, true);
    d.hi |= 2u << 8;
    x86_load_seg_cache(env, R_TR, sel, nbase, nlimit, desc_flags(d));

    /* Load the incoming state. */
    env->cr[0] |= CR0_TS;
    if (env->cr[0] & CR0_PG) {
        env->cr[3] = new_cr3;
        softmmu_flush(env);
    }
    env->eip = new_eip;
    x86_set_eflags(env, new_eflags, 0xffffffffu);
    for (int i = 0; i < 8; i++) env->regs[i] = n[10 + i];
    /* Selectors first (so faults report them), then descriptors. */
    for (int i = 0; i < 6; i++) env->segs[i].sel = new_segs[i];
    env->segs[R_LDTR].sel = new_ldt;
    if (new_ldt & 4) x86_raise_exception_err(env, EXCP_TS, new_ldt & 0xfffc);
    if ((new_ldt & ~3u) != 0) {
        Desc ld;
        if (!load_desc(env, new_ldt, &ld) || desc_is_seg(ld) || desc_type(ld) != 2)
            x86_raise_exception_err(env, EXCP_TS, new_ldt & 0xfffc);
        if (!desc_present(ld)) x86_raise_exception_err(env, EXCP_TS, new_ldt & 0xfffc);
        load_cache_from_desc(env, R_LDTR, new_ldt, ld);
    } else {
        x86_load_seg_cache(env, R_LDTR, new_ldt, 0, 0, 0);
    }
    if (new_eflags & VM_MASK) x86_set_cpl(env, 3);
    else x86_set_cpl(env, new_segs[R_CS] & 3);
    task_load_seg(env, R_CS, new_segs[R_CS]);
    task_load_seg(env, R_SS, new_segs[R_SS]);
    for (int i = 0; i < 6; i++)
        if (i != R_CS && i != R_SS) task_load_seg(env, i, new_segs[i]);
    x86_refresh_segments(env);
    if (env->eip > env->segs[R_CS].limit) x86_raise_exception_err(env, EXCP_GP, 0);
}

/* ---- interrupt and exception delivery ---- */

static void do_interrupt_real(CPUX86State *env, int vector, uint32_t ret_eip)
{
    if (vector * 4u + 3 > env->idt.limit) x86_raise_exception_err(env, EXCP_GP, vector * 8 + 2);
    uint32_t ent = x86_ldl(env, env->idt.base + vector * 4, MMU_KSYS);
    Stack s = cur_stack(env);
    probe_stack(env, &s, 6);
    push(env, &s, x86_get_eflags(env), 2);
    push(env, &s, env->segs[R_CS].sel, 2);
    push(env, &s, ret_eip, 2);
    set_esp(env, &s);
    x86_set_eflags(env, 0, IF_MASK | TF_MASK | AC_MASK | RF_MASK);
    x86_load_seg(env, R_CS, ent >> 16);
    env->eip = ent & 0xffff;
}

static void do_interrupt_pm(CPUX86State *env, int vector, bool is_sw, bool has_error,
                            uint32_t error_code, uint32_t ret_eip, bool is_hw)
{
    int ext = is_sw ? 0 : 1;
    uint32_t gate_err = vector * 8 + 2 + ext;
    if (vector * 8u + 7 > env->idt.limit) x86_raise_exception_err(env, EXCP_GP, gate_err);
    Desc g = {x86_ldl(env, env->idt.base + vector * 8, MMU_KSYS),
              x86_ldl(env, env->idt.base + vector * 8 + 4, MMU_KSYS)};
    int type = desc_type(g);
    if (desc_is_seg(g) || !(type == 5 || type == 6 || type == 7 || type == 14 || type == 15))
        x86_raise_exception_err(env, EXCP_GP, gate_err);
    int cpl = x86_cpl(env);
    if (is_sw && desc_dpl(g) < cpl) x86_raise_exception_err(env, EXCP_GP, gate_err);
    if (!desc_present(g)) x86_raise_exception_err(env, EXCP_NP, gate_err);
    uint16_t sel = g.lo >> 16;
    if (type == 5) {
        Desc t;
        if ((sel & 4) || !load_desc(env, sel, &t) || desc_is_seg(t) || (desc_type(t) & ~8) != 1)
            x86_raise_exception_err(env, EXCP_TS, sel & 0xfffc);
        task_switch(env, sel, t, TS_INT, ret_eip);
        if (has_error) {
            Stack s = cur_stack(env);
            push(env, &s, error_code, (desc_type(t) & 8) ? 4 : 2);
            set_esp(env, &s);
        }
        return;
    }
    bool gate32 = type & 8;
    int size = gate32 ? 4 : 2;
    uint32_t offset = gate32 ? (g.lo & 0xffff) | (g.hi & 0xffff0000u) : g.lo & 0xffff;
    if ((sel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, ext);
    Desc c;
    if (!load_desc(env, sel, &c)) x86_raise_exception_err(env, EXCP_GP, (sel & 0xfffc) + ext);
    int dpl = desc_dpl(c);
    if (!desc_is_code(c) || dpl > cpl) x86_raise_exception_err(env, EXCP_GP, (sel & 0xfffc) + ext);
    if (!desc_present(c)) x86_raise_exception_err(env, EXCP_NP, (sel & 0xfffc) + ext);
    bool vm86 = env->eflags & VM_MASK;
    uint32_t old_eflags = x86_get_eflags(env);
    uint16_t old_ss = env->segs[R_SS].sel;
    uint32_t old_esp = env->regs[R_ESP];
    Stack s;
    Desc ssd = {0, 0};
    uint16_t new_ss = 0;
    bool inner = !desc_conforming(c) && dpl < cpl;
    if (inner) {
        uint32_t esp;
        tss_stack(env, dpl, &new_ss, &esp);
        if ((new_ss & ~3u) == 0) x86_raise_exception_err(env, EXCP_TS, ext);
        if ((new_ss & 3) != dpl) x86_raise_exception_err(env, EXCP_TS, (new_ss & 0xfffc) + ext);
        if (!load_desc(env, new_ss, &ssd) || desc_dpl(ssd) != dpl || !desc_is_seg(ssd) ||
            desc_is_code(ssd) || !(ssd.hi & DESC_RW_MASK))
            x86_raise_exception_err(env, EXCP_TS, (new_ss & 0xfffc) + ext);
        if (!desc_present(ssd)) x86_raise_exception_err(env, EXCP_SS, (new_ss & 0xfffc) + ext);
        s = (Stack){desc_base(ssd), esp, (ssd.hi & DESC_B_MASK) ? 0xffffffffu : 0xffffu, 0};
    } else {
        if (vm86) x86_raise_exception_err(env, EXCP_GP, (sel & 0xfffc) + ext);
        if (!desc_conforming(c) && dpl != cpl)
            x86_raise_exception_err(env, EXCP_GP, (sel & 0xfffc) + ext);
        s = cur_stack(env);
        dpl = cpl;
    }
    if (vm86 && dpl != 0) x86_raise_exception_err(env, EXCP_GP, (sel & 0xfffc) + ext);
    if (offset > desc_limit(c)) x86_raise_exception_err(env, EXCP_GP, 0);
    unsigned frame = (inner ? (vm86 ? 9 : 5) : 3) + (has_error ? 1 : 0);
    probe_stack(env, &s, frame * size);
    if (inner) {
        if (vm86) {
            push(env, &s, env->segs[R_GS].sel, size);
            push(env, &s, env->segs[R_FS].sel, size);
            push(env, &s, env->segs[R_DS].sel, size);
            push(env, &s, env->segs[R_ES].sel, size);
        }
        push(env, &s, old_ss, size);
        push(env, &s, old_esp, size);
    }
    push(env, &s, old_eflags, size);
    push(env, &s, env->segs[R_CS].sel, size);
    push(env, &s, ret_eip, size);
    if (has_error) push(env, &s, error_code, size);

    /* Commit. */
    if (inner) {
        if (vm86) {
            x86_set_eflags(env, 0, VM_MASK);
            for (int i = 0; i < 6; i++)
                if (i != R_CS && i != R_SS) x86_load_seg_cache(env, i, 0, 0, 0, 0);
        }
        set_accessed(env, new_ss, &ssd);
        x86_set_cpl(env, dpl);
        load_cache_from_desc(env, R_SS, (new_ss & ~3u) | dpl, ssd);
    }
    set_esp(env, &s);
    set_accessed(env, sel, &c);
    load_cache_from_desc(env, R_CS, (sel & ~3u) | dpl, c);
    x86_set_cpl(env, dpl);
    env->eip = offset;
    uint32_t clear = TF_MASK | NT_MASK | RF_MASK | VM_MASK;
    if (!(type & 1)) clear |= IF_MASK; /* interrupt gate */
    x86_set_eflags(env, 0, clear);
    x86_refresh_segments(env);
    (void)is_hw;
}

void x86_do_interrupt(CPUX86State *env, int vector, bool is_sw, bool has_error,
                      uint32_t error_code, uint32_t next_eip, bool is_hw)
{
    if (LOG_ON(LOG_INT))
        log_msg("int: deliver %d%s err=%x at %04x:%08x esp=%08x", vector, is_sw ? " (sw)" : "",
                error_code, env->segs[R_CS].sel, env->eip, env->regs[R_ESP]);
    env->halted = false;
    if (env->cr[0] & CR0_PE)
        do_interrupt_pm(env, vector, is_sw, has_error, error_code, next_eip, is_hw);
    else
        do_interrupt_real(env, vector, next_eip);
    x86_cpu_exit(env);
}

/* ---- far transfers ---- */

/* Checks a code-segment target of a far JMP/CALL (not through a gate). */
static void check_direct_code(CPUX86State *env, uint16_t sel, Desc c)
{
    int cpl = x86_cpl(env);
    if (desc_conforming(c)) {
        if (desc_dpl(c) > cpl) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    } else if ((sel & 3) > cpl || desc_dpl(c) != cpl) {
        x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    }
    if (!desc_present(c)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
}

static void far_real(CPUX86State *env, uint16_t sel, uint32_t offset)
{
    x86_load_seg(env, R_CS, sel);
    env->eip = offset;
}

/* A far JMP/CALL to a system descriptor: checks its DPL and presence, performs the task
 * switch for a TSS or task gate (returns true), and otherwise makes sure it is a call gate. */
static bool far_system_target(CPUX86State *env, uint16_t sel, Desc d, int source,
                              uint32_t next_eip)
{
    int cpl = x86_cpl(env), type = desc_type(d);
    if (desc_dpl(d) < cpl || desc_dpl(d) < (int)(sel & 3))
        x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (!desc_present(d)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    if (type == 1 || type == 9) {
        task_switch(env, sel, d, source, next_eip);
        return true;
    }
    if (type == 5) {
        uint16_t tsel = d.lo >> 16;
        Desc t;
        if ((tsel & 4) || !load_desc(env, tsel, &t) || desc_is_seg(t) || (desc_type(t) & ~8) != 1)
            x86_raise_exception_err(env, EXCP_GP, tsel & 0xfffc);
        task_switch(env, tsel, t, source, next_eip);
        return true;
    }
    if (type != 4 && type != 12) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    return false;
}

static uint32_t hlp_ljmp_fn(void *opaque, uint32_t sel, uint32_t offset, uint32_t next_eip)
{
    CPUX86State *env = opaque;
    if (!pm_mode(env)) {
        far_real(env, sel, offset);
        return 0;
    }
    if ((sel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc d;
    if (!load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    int cpl = x86_cpl(env);
    if (desc_is_seg(d)) {
        if (!desc_is_code(d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
        check_direct_code(env, sel, d);
        if (offset > desc_limit(d)) x86_raise_exception_err(env, EXCP_GP, 0);
        set_accessed(env, sel, &d);
        load_cache_from_desc(env, R_CS, (sel & ~3u) | cpl, d);
        env->eip = offset;
        x86_update_hflags(env);
        return 0;
    }
    if (far_system_target(env, sel, d, TS_JMP, next_eip)) return 0;
    int type = desc_type(d);
    uint16_t csel = d.lo >> 16;
    uint32_t goff = type == 12 ? (d.lo & 0xffff) | (d.hi & 0xffff0000u) : d.lo & 0xffff;
    if ((csel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc c;
    if (!load_desc(env, csel, &c) || !desc_is_code(c))
        x86_raise_exception_err(env, EXCP_GP, csel & 0xfffc);
    if (desc_conforming(c) ? desc_dpl(c) > cpl : desc_dpl(c) != cpl)
        x86_raise_exception_err(env, EXCP_GP, csel & 0xfffc);
    if (!desc_present(c)) x86_raise_exception_err(env, EXCP_NP, csel & 0xfffc);
    if (goff > desc_limit(c)) x86_raise_exception_err(env, EXCP_GP, 0);
    set_accessed(env, csel, &c);
    load_cache_from_desc(env, R_CS, (csel & ~3u) | cpl, c);
    env->eip = goff;
    x86_update_hflags(env);
    return 0;
}

/* a = selector | operand size << 16, b = offset, c = return EIP. */
static uint32_t hlp_lcall_fn(void *opaque, uint32_t sel_size, uint32_t offset, uint32_t next_eip)
{
    CPUX86State *env = opaque;
    int size = sel_size >> 16;
    uint16_t sel = sel_size & 0xffff;
    Stack s = cur_stack(env);
    if (!pm_mode(env)) {
        probe_stack(env, &s, 2 * size);
        push(env, &s, env->segs[R_CS].sel, size);
        push(env, &s, next_eip, size);
        set_esp(env, &s);
        far_real(env, sel, offset);
        return 0;
    }
    if ((sel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc d;
    if (!load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    int cpl = x86_cpl(env);
    if (desc_is_seg(d)) {
        if (!desc_is_code(d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
        check_direct_code(env, sel, d);
        if (offset > desc_limit(d)) x86_raise_exception_err(env, EXCP_GP, 0);
        probe_stack(env, &s, 2 * size);
        push(env, &s, env->segs[R_CS].sel, size);
        push(env, &s, next_eip, size);
        set_esp(env, &s);
        set_accessed(env, sel, &d);
        load_cache_from_desc(env, R_CS, (sel & ~3u) | cpl, d);
        env->eip = offset;
        x86_update_hflags(env);
        return 0;
    }
    if (far_system_target(env, sel, d, TS_CALL, next_eip)) return 0;
    int type = desc_type(d);
    int gsize = type == 12 ? 4 : 2;
    uint16_t csel = d.lo >> 16;
    uint32_t goff = type == 12 ? (d.lo & 0xffff) | (d.hi & 0xffff0000u) : d.lo & 0xffff;
    unsigned nparams = d.hi & 31;
    if ((csel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc c;
    if (!load_desc(env, csel, &c) || !desc_is_code(c) || desc_dpl(c) > cpl)
        x86_raise_exception_err(env, EXCP_GP, csel & 0xfffc);
    if (!desc_present(c)) x86_raise_exception_err(env, EXCP_NP, csel & 0xfffc);
    if (goff > desc_limit(c)) x86_raise_exception_err(env, EXCP_GP, 0);
    int dpl = desc_dpl(c);
    if (!desc_conforming(c) && dpl < cpl) {
        /* Call to a more privileged level: switch stacks and copy parameters. */
        uint16_t new_ss;
        uint32_t esp;
        tss_stack(env, dpl, &new_ss, &esp);
        if ((new_ss & ~3u) == 0) x86_raise_exception_err(env, EXCP_TS, 0);
        Desc ssd;
        if ((new_ss & 3) != dpl || !load_desc(env, new_ss, &ssd) || desc_dpl(ssd) != dpl ||
            !desc_is_seg(ssd) || desc_is_code(ssd) || !(ssd.hi & DESC_RW_MASK))
            x86_raise_exception_err(env, EXCP_TS, new_ss & 0xfffc);
        if (!desc_present(ssd)) x86_raise_exception_err(env, EXCP_SS, new_ss & 0xfffc);
        Stack ns = {desc_base(ssd), esp, (ssd.hi & DESC_B_MASK) ? 0xffffffffu : 0xffffu, 0};
        probe_stack(env, &ns, (4 + nparams) * gsize);
        /* Parameters keep their order: the one at the highest address is pushed first. */
        uint32_t params[32];
        Stack os = s;
        for (unsigned i = 0; i < nparams; i++) params[i] = pop(env, &os, gsize);
        push(env, &ns, env->segs[R_SS].sel, gsize);
        push(env, &ns, env->regs[R_ESP], gsize);
        for (int i = (int)nparams - 1; i >= 0; i--) push(env, &ns, params[i], gsize);
        push(env, &ns, env->segs[R_CS].sel, gsize);
        push(env, &ns, next_eip, gsize);
        set_accessed(env, new_ss, &ssd);
        x86_set_cpl(env, dpl);
        load_cache_from_desc(env, R_SS, new_ss, ssd);
        env->regs[R_ESP] = (ssd.hi & DESC_B_MASK) ? ns.sp
                                                  : (env->regs[R_ESP] & 0xffff0000u) | (ns.sp & 0xffff);
    } else {
        dpl = cpl;
        probe_stack(env, &s, 2 * gsize);
        push(env, &s, env->segs[R_CS].sel, gsize);
        push(env, &s, next_eip, gsize);
        set_esp(env, &s);
    }
    set_accessed(env, csel, &c);
    load_cache_from_desc(env, R_CS, (csel & ~3u) | dpl, c);
    x86_set_cpl(env, dpl);
    env->eip = goff;
    x86_refresh_segments(env);
    return 0;
}

/* After a return to an outer level, data segments the new CPL may not use become null. */
static void validate_data_segs(CPUX86State *env)
{
    int cpl = x86_cpl(env);
    static const int segs[4] = {R_ES, R_DS, R_FS, R_GS};
    for (int i = 0; i < 4; i++) {
        SegCache *s = &env->segs[segs[i]];
        bool code_conf = (s->flags & DESC_CS_MASK) && (s->flags & DESC_CE_MASK);
        int dpl = (s->flags >> DESC_DPL_SHIFT) & 3;
        if ((s->sel & ~3u) && !code_conf && dpl < cpl)
            x86_load_seg_cache(env, segs[i], 0, 0, 0, 0);
    }
}

/* Common tail of far RET and IRET in protected mode: s points after the popped CS/EIP(/EFLAGS).
 * Returns after loading CS:EIP and, for an outer return, SS:ESP. */
static void pm_return(CPUX86State *env, Stack *s, uint16_t sel, uint32_t new_eip, int size,
                      uint32_t imm)
{
    int cpl = x86_cpl(env), rpl = sel & 3;
    if ((sel & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc c;
    if (!load_desc(env, sel, &c)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (!desc_is_code(c) || rpl < cpl) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (desc_conforming(c) ? desc_dpl(c) > rpl : desc_dpl(c) != rpl)
        x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (!desc_present(c)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    if (new_eip > desc_limit(c)) x86_raise_exception_err(env, EXCP_GP, 0);
    s->sp += imm;
    if (rpl == cpl) {
        set_accessed(env, sel, &c);
        load_cache_from_desc(env, R_CS, sel, c);
        set_esp(env, s);
        env->eip = new_eip;
        return;
    }
    uint32_t new_esp = pop(env, s, size);
    uint16_t new_ss = pop(env, s, size);
    if ((new_ss & ~3u) == 0) x86_raise_exception_err(env, EXCP_GP, 0);
    Desc ssd;
    if ((new_ss & 3) != rpl || !load_desc(env, new_ss, &ssd) || desc_dpl(ssd) != rpl ||
        !desc_is_seg(ssd) || desc_is_code(ssd) || !(ssd.hi & DESC_RW_MASK))
        x86_raise_exception_err(env, EXCP_GP, new_ss & 0xfffc);
    if (!desc_present(ssd)) x86_raise_exception_err(env, EXCP_SS, new_ss & 0xfffc);
    set_accessed(env, sel, &c);
    set_accessed(env, new_ss, &ssd);
    load_cache_from_desc(env, R_CS, sel, c);
    x86_set_cpl(env, rpl);
    load_cache_from_desc(env, R_SS, new_ss, ssd);
    uint32_t mask = (ssd.hi & DESC_B_MASK) ? 0xffffffffu : 0xffffu;
    env->regs[R_ESP] = (env->regs[R_ESP] & ~mask) | ((new_esp + imm) & mask);
    env->eip = new_eip;
    validate_data_segs(env);
}

static uint32_t hlp_lret_fn(void *opaque, uint32_t size, uint32_t imm, uint32_t unused)
{
    CPUX86State *env = opaque;
    Stack s = cur_stack(env);
    uint32_t new_eip = pop(env, &s, size);
    uint16_t sel = pop(env, &s, size);
    if (!pm_mode(env)) {
        s.sp += imm;
        set_esp(env, &s);
        far_real(env, sel, size == 2 ? new_eip & 0xffff : new_eip);
        return 0;
    }
    pm_return(env, &s, sel, new_eip, size, imm);
    x86_refresh_segments(env);
    return 0;
}

static uint32_t hlp_iret_fn(void *opaque, uint32_t size, uint32_t next_eip, uint32_t unused)
{
    CPUX86State *env = opaque;
    int cpl = x86_cpl(env);
    int iopl = (env->eflags & IOPL_MASK) >> IOPL_SHIFT;
    Stack s = cur_stack(env);
    if (!(env->cr[0] & CR0_PE) || (env->eflags & VM_MASK)) {
        if ((env->eflags & VM_MASK) && iopl != 3) x86_raise_exception_err(env, EXCP_GP, 0);
        uint32_t new_eip = pop(env, &s, size);
        uint16_t sel = pop(env, &s, size);
        uint32_t fl = pop(env, &s, size);
        set_esp(env, &s);
        uint32_t mask = size == 4 ? (ID_MASK | AC_MASK | RF_MASK | NT_MASK | IOPL_MASK |
                                     CC_MASK | DF_MASK | IF_MASK | TF_MASK)
                                  : 0xffff;
        if (env->eflags & VM_MASK) mask &= ~IOPL_MASK;
        far_real(env, sel, new_eip);
        x86_set_eflags(env, fl, mask);
        return 0;
    }
    if (env->eflags & NT_MASK) {
        uint16_t back = x86_lduw(env, env->segs[R_TR].base, MMU_KSYS);
        Desc t;
        if ((back & 4) || !load_desc(env, back, &t) || desc_is_seg(t) || (desc_type(t) & ~8) != 3)
            x86_raise_exception_err(env, EXCP_TS, back & 0xfffc);
        task_switch(env, back, t, TS_IRET, next_eip);
        return 0;
    }
    uint32_t new_eip = pop(env, &s, size);
    uint16_t sel = pop(env, &s, size);
    uint32_t fl = pop(env, &s, size);
    if ((fl & VM_MASK) && cpl == 0 && size == 4) {
        /* Return to virtual-8086 mode. */
        uint32_t new_esp = pop(env, &s, 4);
        uint16_t new_ss = pop(env, &s, 4), es = pop(env, &s, 4), ds = pop(env, &s, 4);
        uint16_t fs = pop(env, &s, 4), gs = pop(env, &s, 4);
        LOG_ONCE(LOG_UNIMP, "unimplemented: virtual-8086 mode (entered at %04x:%04x)", sel,
                 new_eip & 0xffff);
        x86_set_eflags(env, fl, 0xffffffffu);
        x86_set_cpl(env, 3);
        x86_load_seg(env, R_CS, sel);
        x86_load_seg(env, R_SS, new_ss);
        x86_load_seg(env, R_ES, es);
        x86_load_seg(env, R_DS, ds);
        x86_load_seg(env, R_FS, fs);
        x86_load_seg(env, R_GS, gs);
        env->regs[R_ESP] = new_esp;
        env->eip = new_eip & 0xffff;
        x86_refresh_segments(env);
        return 0;
    }
    pm_return(env, &s, sel, new_eip, size, 0);
    uint32_t mask = CC_MASK | DF_MASK | TF_MASK | NT_MASK | RF_MASK;
    if (size == 4) mask |= AC_MASK | ID_MASK;
    if (cpl == 0) mask |= IOPL_MASK | (size == 4 ? VIF_MASK | VIP_MASK : 0);
    if (cpl <= iopl) mask |= IF_MASK;
    if (size == 2) mask &= 0xffff;
    x86_set_eflags(env, fl, mask);
    x86_refresh_segments(env);
    return 0;
}

/* ---- system instructions on descriptors ---- */

/* LAR/LSL/VERR/VERW: result in ZF; returns the value for LAR/LSL. kind: 0 LAR, 1 LSL, 2 VERR,
 * 3 VERW. */
static uint32_t hlp_desc_check_fn(void *opaque, uint32_t sel, uint32_t kind, uint32_t old)
{
    CPUX86State *env = opaque;
    sel &= 0xffff;
    uint32_t eflags = x86_cc_eflags(env) & ~ZF_MASK;
    uint32_t result = old;
    bool ok = false;
    Desc d;
    if ((sel & ~3u) != 0 && load_desc(env, sel, &d)) {
        int cpl = x86_cpl(env), rpl = sel & 3, dpl = desc_dpl(d);
        bool priv_ok = dpl >= cpl && dpl >= rpl;
        if (desc_is_seg(d)) {
            bool conf_code = desc_is_code(d) && desc_conforming(d);
            if (!conf_code && !priv_ok) {
                ok = false;
            } else if (kind == 2) {
                ok = !desc_is_code(d) || (d.hi & DESC_RW_MASK);
            } else if (kind == 3) {
                ok = !desc_is_code(d) && (d.hi & DESC_RW_MASK);
            } else {
                ok = true;
            }
        } else if (kind < 2 && priv_ok) {
            int type = desc_type(d);
            static const bool lar_ok[16] = {0, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 0};
            static const bool lsl_ok[16] = {0, 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0};
            ok = kind == 0 ? lar_ok[type] : lsl_ok[type];
        }
        if (ok) {
            if (kind == 0) result = d.hi & 0x00f0ff00u;
            if (kind == 1) result = desc_limit(d);
        }
    }
    env->cc_src = eflags | (ok ? ZF_MASK : 0);
    env->cc_op = CC_OP_EFLAGS;
    return result;
}

static uint32_t hlp_lldt_fn(void *opaque, uint32_t sel, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    sel &= 0xffff;
    if ((sel & ~3u) == 0) {
        x86_load_seg_cache(env, R_LDTR, sel, 0, 0, 0);
        return 0;
    }
    Desc d;
    if ((sel & 4) || !load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (desc_is_seg(d) || desc_type(d) != 2) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (!desc_present(d)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    load_cache_from_desc(env, R_LDTR, sel, d);
    return 0;
}

static uint32_t hlp_ltr_fn(void *opaque, uint32_t sel, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    sel &= 0xffff;
    if ((sel & ~3u) == 0 || (sel & 4)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    Desc d;
    if (!load_desc(env, sel, &d)) x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    int type = desc_type(d);
    if (desc_is_seg(d) || (type != 1 && type != 9))
        x86_raise_exception_err(env, EXCP_GP, sel & 0xfffc);
    if (!desc_present(d)) x86_raise_exception_err(env, EXCP_NP, sel & 0xfffc);
    set_busy(env, sel, true);
    d.hi |= 2u << 8;
    load_cache_from_desc(env, R_TR, sel, d);
    return 0;
}

static uint32_t hlp_sysenter_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (!(env->cr[0] & CR0_PE) || (env->sysenter_cs & 0xfffc) == 0)
        x86_raise_exception_err(env, EXCP_GP, 0);
    bool from_vm86 = env->eflags & VM_MASK;
    x86_set_eflags_only(env, 0, VM_MASK | IF_MASK | RF_MASK);
    x86_set_cpl(env, 0);
    uint16_t cs = env->sysenter_cs & 0xfffc;
    x86_load_seg_cache(env, R_CS, cs, 0, 0xffffffffu,
                       DESC_G_MASK | DESC_B_MASK | DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK |
                           DESC_RW_MASK | DESC_A_MASK);
    x86_load_seg_cache(env, R_SS, cs + 8, 0, 0xffffffffu,
                       DESC_G_MASK | DESC_B_MASK | DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK |
                           DESC_A_MASK);
    env->regs[R_ESP] = env->sysenter_esp;
    env->eip = env->sysenter_eip;
    /* CS and SS got their bounds above; the others change only when leaving virtual-8086
     * mode. */
    if (from_vm86)
        x86_refresh_segments(env);
    else
        x86_update_hflags_at_exit(env);
    return 0;
}

static uint32_t hlp_sysexit_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (!(env->cr[0] & CR0_PE) || x86_cpl(env) != 0 || (env->sysenter_cs & 0xfffc) == 0)
        x86_raise_exception_err(env, EXCP_GP, 0);
    uint16_t cs = (env->sysenter_cs + 16) | 3;
    x86_set_cpl(env, 3);
    x86_load_seg_cache(env, R_CS, cs, 0, 0xffffffffu,
                       DESC_G_MASK | DESC_B_MASK | DESC_P_MASK | DESC_S_MASK | DESC_CS_MASK |
                           DESC_RW_MASK | DESC_A_MASK | (3u << DESC_DPL_SHIFT));
    x86_load_seg_cache(env, R_SS, (env->sysenter_cs + 24) | 3, 0, 0xffffffffu,
                       DESC_G_MASK | DESC_B_MASK | DESC_P_MASK | DESC_S_MASK | DESC_RW_MASK |
                           DESC_A_MASK | (3u << DESC_DPL_SHIFT));
    env->regs[R_ESP] = env->regs[R_ECX];
    env->eip = env->regs[R_EDX];
    /* At CPL 0, so not in virtual-8086 mode: no other bounds change. */
    x86_update_hflags_at_exit(env);
    return 0;
}

static uint32_t hlp_load_seg_fn(void *opaque, uint32_t seg, uint32_t sel, uint32_t c)
{
    CPUX86State *env = opaque;
    x86_load_seg(env, seg, sel & 0xffff);
    /* MOV SS / POP SS: no interrupt before the next instruction (it loads ESP). */
    if (seg == R_SS) env->inhibit_irq = true;
    return 0;
}

static uint32_t hlp_get_sel_fn(void *opaque, uint32_t seg, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    return env->segs[seg].sel;
}

const IrHelper hlp_ljmp = {hlp_ljmp_fn, "ljmp", 0};
const IrHelper hlp_lcall = {hlp_lcall_fn, "lcall", 0};
const IrHelper hlp_lret = {hlp_lret_fn, "lret", 0};
const IrHelper hlp_iret = {hlp_iret_fn, "iret", 0};
const IrHelper hlp_desc_check = {hlp_desc_check_fn, "desc_check", 0};
const IrHelper hlp_lldt = {hlp_lldt_fn, "lldt", 0};
const IrHelper hlp_ltr = {hlp_ltr_fn, "ltr", 0};
const IrHelper hlp_sysenter = {hlp_sysenter_fn, "sysenter", 0};
const IrHelper hlp_sysexit = {hlp_sysexit_fn, "sysexit", 0};
const IrHelper hlp_load_seg = {hlp_load_seg_fn, "load_seg", 0};
const IrHelper hlp_get_sel = {hlp_get_sel_fn, "get_sel", IRH_NO_READ_G | IRH_QUERY};
