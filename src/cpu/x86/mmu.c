/* i386 paging: the two-level page walk with 4 KiB and (CR4.PSE) 4 MiB pages, accessed/dirty
 * bits, CR0.WP and U/S checks, #PF error codes and CR2, and the TLB fill that follows
 * (SDM vol. 3, 4.3 and 4.7). */
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"
#include "util/log.h"

#define PG_P 0x001u
#define PG_RW 0x002u
#define PG_US 0x004u
#define PG_A 0x020u
#define PG_D 0x040u
#define PG_PS 0x080u
#define PG_G 0x100u

static uint32_t phys_ld32(CPUX86State *env, uint32_t pa)
{
    uint8_t *p = as_ram_ptr(env->mem, pa & env->a20_mask, 4, false);
    if (p) return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
    return as_read(env->mem, pa & env->a20_mask, 4);
}

static void phys_st32(CPUX86State *env, uint32_t pa, uint32_t v)
{
    pa &= env->a20_mask;
    as_write(env->mem, pa, v, 4);
    x86_cpu_notify_ram_write(env, pa, 4);
}

static _Noreturn void page_fault(CPUX86State *env, uint32_t addr, uint32_t err)
{
    env->cr[2] = addr;
    LOG(LOG_MMU, "mmu: #PF addr=%08x err=%x eip=%08x", addr, err, env->eip);
    x86_raise_exception_err(env, EXCP_PF, err);
}

/* Walks the page tables: the physical page and permissions, or false with the #PF error code
 * in *err (and nothing written: accessed and dirty bits are set only by walks that succeed). */
static bool walk(CPUX86State *env, uint32_t addr, int access, unsigned mmu_idx, uint32_t *phys_out,
                 bool *writable, uint32_t *eflags_out, uint32_t *err)
{
    bool user = mmu_idx == 1, is_write = access == ACC_WRITE;
    uint32_t err_user = user ? PF_ERR_U : 0, err_w = is_write ? PF_ERR_W : 0;
    uint32_t pde_addr = (env->cr[3] & PAGE_MASK) + ((addr >> 20) & 0xffc);
    uint32_t pde = phys_ld32(env, pde_addr);
    *err = err_user | err_w;
    if (!(pde & PG_P)) return false;
    uint32_t phys, perm, tflags = 0;
    if ((pde & PG_PS) && (env->cr[4] & CR4_PSE)) {
        if (pde & 0x003fe000u) {
            *err |= PF_ERR_P | PF_ERR_RSVD;
            return false;
        }
        perm = pde;
        phys = (pde & 0xffc00000u) | (addr & 0x003ff000u);
        tflags |= TLBF_LARGE;
        if ((pde & PG_G) && (env->cr[4] & CR4_PGE)) tflags |= TLBF_GLOBAL;
        bool ok_u = !user || (perm & PG_US);
        bool ok_w = !is_write || (perm & PG_RW) || (!user && !(env->cr[0] & CR0_WP));
        if (!ok_u || !ok_w) {
            *err |= PF_ERR_P;
            return false;
        }
        uint32_t npde = pde | PG_A | (is_write ? PG_D : 0);
        if (npde != pde) phys_st32(env, pde_addr, npde);
        *writable = (perm & PG_RW) || (!user && !(env->cr[0] & CR0_WP));
        if (!is_write && !(pde & PG_D)) *writable = false; /* first write must set D */
    } else {
        uint32_t pte_addr = (pde & PAGE_MASK) + ((addr >> 10) & 0xffc);
        uint32_t pte = phys_ld32(env, pte_addr);
        if (!(pte & PG_P)) return false;
        perm = pde & pte;
        bool ok_u = !user || (perm & PG_US);
        bool ok_w = !is_write || (perm & PG_RW) || (!user && !(env->cr[0] & CR0_WP));
        if (!ok_u || !ok_w) {
            *err |= PF_ERR_P;
            return false;
        }
        if (!(pde & PG_A)) phys_st32(env, pde_addr, pde | PG_A);
        uint32_t npte = pte | PG_A | (is_write ? PG_D : 0);
        if (npte != pte) phys_st32(env, pte_addr, npte);
        phys = pte & PAGE_MASK;
        if ((pte & PG_G) && (env->cr[4] & CR4_PGE)) tflags |= TLBF_GLOBAL;
        *writable = (perm & PG_RW) || (!user && !(env->cr[0] & CR0_WP));
        if (!is_write && !(pte & PG_D)) *writable = false;
    }
    *eflags_out = tflags;
    *phys_out = phys;
    return true;
}

bool x86_tlb_try_fill(CPUX86State *env, uint32_t addr, int access, unsigned mmu_idx,
                      uint32_t *err)
{
    uint32_t page = addr & PAGE_MASK;
    uint32_t phys = page;
    bool writable = true;
    uint32_t tflags = 0;
    if ((env->cr[0] & CR0_PG) && !walk(env, addr, access, mmu_idx, &phys, &writable, &tflags, err))
        return false;
    phys &= env->a20_mask;
    TlbEntry *e = &env->tlb[mmu_idx][tlb_index(addr)];
    softmmu_note_fill(env, mmu_idx, tlb_index(addr), tflags & TLBF_GLOBAL);
    /* Keep the entry being replaced in the victim table. */
    if (e->vaddr != TLB_INVALID_TAG && e->vaddr != page) {
        unsigned v = env->victim_next[mmu_idx]++ % TLB_VICTIM;
        env->victim[mmu_idx][v] = *e;
    }
    e->vaddr = page;
    e->phys = phys;
    e->flags = tflags;
    const FlatRange *fr = as_lookup(env->mem, phys);
    uint32_t rflags = 0, wflags = 0;
    if (fr && fr->mr->kind != MR_MMIO && fr->end - phys >= PAGE_SIZE - 1) {
        e->addend = (uintptr_t)(fr->mr->host + (phys - fr->mr->base)) - page;
        if (fr->mr->kind == MR_ROM) wflags = TLB_MMIO;
        else if (tb_page_has_code(env->tbs, phys)) wflags = TLB_NOTDIRTY;
    } else {
        e->addend = 0;
        rflags = wflags = TLB_MMIO;
    }
    e->tag_x = page | rflags;
    if (x86_page_watched(env, page, false)) rflags |= TLB_WATCH;
    if (x86_page_watched(env, page, true)) wflags |= TLB_WATCH;
    e->tag_r = page | rflags;
    e->tag_w = writable ? page | wflags : TLB_INVALID_TAG;
    if (tflags & TLBF_LARGE) softmmu_note_large(env, page);
    return true;
}

void x86_tlb_fill(CPUX86State *env, uint32_t addr, int access, unsigned mmu_idx)
{
    uint32_t err;
    if (!x86_tlb_try_fill(env, addr, access, mmu_idx, &err)) page_fault(env, addr, err);
}

bool x86_debug_translate(CPUX86State *env, uint32_t addr, uint32_t *phys)
{
    if (!(env->cr[0] & CR0_PG)) {
        *phys = addr & env->a20_mask;
        return true;
    }
    uint32_t pde = phys_ld32(env, (env->cr[3] & PAGE_MASK) + ((addr >> 20) & 0xffc));
    if (!(pde & PG_P)) return false;
    if ((pde & PG_PS) && (env->cr[4] & CR4_PSE)) {
        *phys = ((pde & 0xffc00000u) | (addr & 0x003fffffu)) & env->a20_mask;
        return true;
    }
    uint32_t pte = phys_ld32(env, (pde & PAGE_MASK) + ((addr >> 10) & 0xffc));
    if (!(pte & PG_P)) return false;
    *phys = ((pte & PAGE_MASK) | (addr & 0xfff)) & env->a20_mask;
    return true;
}
