/* Soft-MMU slow paths: TLB misses (victim table, then the page walk), MMIO through the address
 * space, writes to pages holding translated code (self-modifying code), and accesses that cross
 * a page boundary. */
#include <string.h>

#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"

static uint32_t entry_tag(const TlbEntry *e, int access)
{
    return access == ACC_READ ? e->tag_r : access == ACC_WRITE ? e->tag_w : e->tag_x;
}

static bool tag_matches(uint32_t tag, uint32_t page)
{
    return tag != TLB_INVALID_TAG && (tag & PAGE_MASK) == page;
}

/* The entry for addr if the TLB or its victim table has it (swapped into the main table). */
static TlbEntry *tlb_entry_cached(CPUX86State *env, uint32_t addr, int access, unsigned mmu)
{
    uint32_t page = addr & PAGE_MASK;
    TlbEntry *e = &env->tlb[mmu][tlb_index(addr)];
    if (tag_matches(entry_tag(e, access), page)) return e;
    for (unsigned i = 0; i < TLB_VICTIM; i++) {
        TlbEntry *v = &env->victim[mmu][i];
        if (v->vaddr == page && tag_matches(entry_tag(v, access), page)) {
            TlbEntry tmp = *e;
            *e = *v;
            *v = tmp;
            softmmu_note_fill(env, mmu, tlb_index(addr), e->flags & TLBF_GLOBAL);
            return e;
        }
    }
    return NULL;
}

/* Entry for addr valid for the access, filling it (or faulting) if needed. */
static TlbEntry *tlb_entry_for(CPUX86State *env, uint32_t addr, int access, unsigned mmu)
{
    TlbEntry *e = tlb_entry_cached(env, addr, access, mmu);
    if (e) return e;
    x86_tlb_fill(env, addr, access, mmu);
    return &env->tlb[mmu][tlb_index(addr)];
}

static uint32_t ram_load(uintptr_t p, unsigned size)
{
    const uint8_t *b = (const uint8_t *)p;
    switch (size) {
    case 1: return b[0];
    case 2: return b[0] | b[1] << 8;
    default: return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
    }
}

static void ram_store(uintptr_t p, uint32_t v, unsigned size)
{
    uint8_t *b = (uint8_t *)p;
    for (unsigned i = 0; i < size; i++) b[i] = v >> (8 * i);
}

/* A data breakpoint hit: re-run the instruction on its own with breakpoints suppressed, then
 * the run loop raises the #DB trap after it (SDM vol. 3, 18.3.1.2). */
static void check_watch(CPUX86State *env, uint32_t addr, unsigned size, bool write)
{
    unsigned hits = x86_watch_hits(env, addr, size, write);
    if (!hits) return;
    env->dr[6] = (env->dr[6] & ~0xfu) | hits;
    if (env->watch_suppress) {
        env->db_trap_pending = true;
        return;
    }
    env->single_insn_next = true;
    env->watch_suppress = true;
    x86_restore_state(env);
    x86_cpu_loop_exit(env);
}

uint32_t softmmu_ld(CPUX86State *env, uint32_t addr, unsigned size, unsigned mmu)
{
    env->nslow_mem++;
    if ((addr & ~PAGE_MASK) + size > PAGE_SIZE) {
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++) v |= softmmu_ld(env, addr + i, 1, mmu) << (8 * i);
        return v;
    }
    TlbEntry *e = tlb_entry_for(env, addr, ACC_READ, mmu);
    if (e->tag_r & TLB_WATCH) check_watch(env, addr, size, false);
    if (e->tag_r & TLB_MMIO) return as_read(env->mem, e->phys | (addr & ~PAGE_MASK), size);
    return ram_load(addr + e->addend, size);
}

void softmmu_probe(CPUX86State *env, uint32_t addr, unsigned size, int access, unsigned mmu)
{
    if (size == 0) return;
    tlb_entry_for(env, addr, access, mmu);
    uint32_t last = addr + size - 1;
    for (uint32_t p = (addr & PAGE_MASK) + PAGE_SIZE; (p - addr) <= (last - addr); p += PAGE_SIZE)
        tlb_entry_for(env, p, access, mmu);
}

void softmmu_st(CPUX86State *env, uint32_t addr, uint32_t val, unsigned size, unsigned mmu)
{
    env->nslow_mem++;
    if ((addr & ~PAGE_MASK) + size > PAGE_SIZE) {
        /* Both pages must be writable before any byte is written. */
        softmmu_probe(env, addr, size, ACC_WRITE, mmu);
        for (unsigned i = 0; i < size; i++) softmmu_st(env, addr + i, val >> (8 * i), 1, mmu);
        return;
    }
    TlbEntry *e = tlb_entry_for(env, addr, ACC_WRITE, mmu);
    if (e->tag_w & TLB_WATCH) check_watch(env, addr, size, true);
    uint32_t phys = e->phys | (addr & ~PAGE_MASK);
    if (e->tag_w & TLB_MMIO) {
        as_write(env->mem, phys, val, size);
        return;
    }
    if (e->tag_w & TLB_NOTDIRTY) {
        if (tb_page_has_code(env->tbs, phys) &&
            tb_invalidate_phys_range(env->tbs, phys, size, env->cur_tb) && env->cur_pos) {
            /* The running block was just modified: run this instruction again on its own,
             * translated from the new bytes. Nothing of it has been committed yet. */
            env->single_insn_next = true;
            x86_restore_state(env);
            x86_cpu_loop_exit(env);
        }
        if (!tb_page_has_code(env->tbs, phys)) e->tag_w &= ~TLB_NOTDIRTY;
    }
    ram_store(addr + e->addend, val, size);
}

const uint8_t *softmmu_code_page(CPUX86State *env, uint32_t addr, unsigned mmu, uint32_t *phys)
{
    TlbEntry *e = tlb_entry_for(env, addr, ACC_EXEC, mmu);
    *phys = e->phys | (addr & ~PAGE_MASK);
    if (e->tag_x & TLB_MMIO) return NULL;
    return (const uint8_t *)((addr & PAGE_MASK) + e->addend);
}

bool softmmu_code_phys(CPUX86State *env, uint32_t addr, unsigned mmu, uint32_t *phys)
{
    TlbEntry *e = tlb_entry_cached(env, addr, ACC_EXEC, mmu);
    uint32_t err;
    if (!e) {
        if (!x86_tlb_try_fill(env, addr, ACC_EXEC, mmu, &err)) return false;
        e = &env->tlb[mmu][tlb_index(addr)];
    }
    *phys = e->phys | (addr & ~PAGE_MASK);
    return true;
}

static void invalidate_entry(TlbEntry *e)
{
    e->tag_r = e->tag_w = e->tag_x = TLB_INVALID_TAG;
    e->vaddr = TLB_INVALID_TAG;
}

void softmmu_init(CPUX86State *env)
{
    memset(env->tlb, 0xff, sizeof env->tlb);
    memset(env->victim, 0xff, sizeof env->victim);
    memset(env->tlb_listed, 0, sizeof env->tlb_listed);
    memset(env->tlb_nused, 0, sizeof env->tlb_nused);
    memset(env->tlb_ngused, 0, sizeof env->tlb_ngused);
    memset(env->tlb_large, 0, sizeof env->tlb_large);
}

/* Invalidates the entries of table m on one of its fill lists and unlists them. */
static void invalidate_listed(CPUX86State *env, int m, const uint16_t *list, unsigned n)
{
    for (unsigned k = 0; k < n; k++) {
        invalidate_entry(&env->tlb[m][list[k]]);
        env->tlb_listed[m][list[k]] = 0;
    }
}

void softmmu_flush(CPUX86State *env)
{
    for (int m = 0; m < NB_MMU_MODES; m++) {
        invalidate_listed(env, m, env->tlb_used[m], env->tlb_nused[m]);
        invalidate_listed(env, m, env->tlb_gused[m], env->tlb_ngused[m]);
        env->tlb_nused[m] = env->tlb_ngused[m] = 0;
    }
    memset(env->victim, 0xff, sizeof env->victim);
    memset(env->tlb_large, 0, sizeof env->tlb_large);
    if (env->tbs) tb_jmp_cache_clear(env->tbs);
}

/* Flush on CR3 writes: global entries survive. An entry that is global now was filled as
 * global, so it is in tlb_gused and only tlb_used needs visiting. (tlb_large stays as it is: it
 * may only over-approximate.) */
void softmmu_flush_nonglobal(CPUX86State *env)
{
    for (int m = 0; m < NB_MMU_MODES; m++) {
        for (unsigned k = 0; k < env->tlb_nused[m]; k++) {
            unsigned i = env->tlb_used[m][k];
            TlbEntry *e = &env->tlb[m][i];
            if (!(e->flags & TLBF_GLOBAL) || e->vaddr == TLB_INVALID_TAG) invalidate_entry(e);
            env->tlb_listed[m][i] &= ~1;
        }
        env->tlb_nused[m] = 0;
        for (unsigned i = 0; i < TLB_VICTIM; i++) {
            TlbEntry *e = &env->victim[m][i];
            if (!(e->flags & TLBF_GLOBAL) || e->vaddr == TLB_INVALID_TAG) invalidate_entry(e);
        }
    }
    if (env->tbs) tb_jmp_cache_clear_nonglobal(env->tbs);
}

/* INVLPG: the page's entries; when its 4 MiB region has entries of a large page, every entry
 * of that large page (its 1024 small pages occupy consecutive TLB indexes). */
void softmmu_flush_page(CPUX86State *env, uint32_t addr)
{
    uint32_t page = addr & PAGE_MASK;
    uint32_t *large = &env->tlb_large[addr >> 27], bit = 1u << (addr >> 22 & 31);
    if (*large & bit) {
        *large &= ~bit;
        uint32_t base = addr & 0xffc00000u;
        for (int m = 0; m < NB_MMU_MODES; m++) {
            for (unsigned k = 0; k < 1024; k++) {
                TlbEntry *e = &env->tlb[m][tlb_index(base + (k << PAGE_BITS))];
                if ((e->vaddr & 0xffc00000u) == base && (e->flags & TLBF_LARGE)) invalidate_entry(e);
            }
            for (unsigned i = 0; i < TLB_VICTIM; i++) {
                TlbEntry *e = &env->victim[m][i];
                if ((e->vaddr & 0xffc00000u) == base && (e->flags & TLBF_LARGE)) invalidate_entry(e);
            }
        }
        /* The blocks of 4 MiB: forget every jump cache entry. */
        if (env->tbs) tb_jmp_cache_clear(env->tbs);
    }
    for (int m = 0; m < NB_MMU_MODES; m++) {
        TlbEntry *e = &env->tlb[m][tlb_index(addr)];
        if (e->vaddr == page) invalidate_entry(e);
        for (unsigned i = 0; i < TLB_VICTIM; i++)
            if (env->victim[m][i].vaddr == page) invalidate_entry(&env->victim[m][i]);
    }
    if (env->tbs) tb_jmp_cache_clear_page(env->tbs, page);
}

/* Routes writes through e to the slow path if it maps phys_page to RAM. */
static void protect_entry(TlbEntry *e, uint32_t phys_page)
{
    if (e->phys == phys_page && e->tag_w != TLB_INVALID_TAG && !(e->tag_w & TLB_MMIO))
        e->tag_w |= TLB_NOTDIRTY;
}

void softmmu_protect_code_page(CPUX86State *env, uint32_t phys_page)
{
    for (int m = 0; m < NB_MMU_MODES; m++) {
        for (unsigned k = 0; k < env->tlb_nused[m]; k++)
            protect_entry(&env->tlb[m][env->tlb_used[m][k]], phys_page);
        for (unsigned k = 0; k < env->tlb_ngused[m]; k++)
            protect_entry(&env->tlb[m][env->tlb_gused[m][k]], phys_page);
        for (unsigned i = 0; i < TLB_VICTIM; i++)
            protect_entry(&env->victim[m][i], phys_page);
    }
}
