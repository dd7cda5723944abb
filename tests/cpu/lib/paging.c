/* kt paging helpers: 32-bit paging structures with 4 KiB and 4 MiB pages (SDM vol. 3A 4.3,
 * 4.10.4 for TLB invalidation). Everything the library allocates is identity-mapped. */
#include "kt.h"

uint32_t *kt_pgdir;
static uint32_t heap_next;

void *kt_alloc_page(void)
{
    if (!heap_next) heap_next = ((uint32_t)_end + 0xfff) & ~0xfffu;
    void *p = (void *)heap_next;
    heap_next += 4096;
    memset(p, 0, 4096);
    return p;
}

uint32_t *kt_paging_init(uint32_t flags, int big)
{
    kt_pgdir = kt_alloc_page();
    for (uint32_t va = 0; va < KT_RAM_MAP; va += big ? 0x400000 : 0x1000) {
        if (big)
            kt_map_4m(va, va, flags);
        else
            kt_map(va, va, flags);
    }
    write_cr3((uint32_t)kt_pgdir);
    return kt_pgdir;
}

void kt_paging_enable(void)
{
    write_cr4(read_cr4() | CR4_PSE);
    write_cr0(read_cr0() | CR0_PG);
}

void kt_paging_disable(void)
{
    write_cr0(read_cr0() & ~CR0_PG);
}

void kt_map(uint32_t va, uint32_t pa, uint32_t flags)
{
    uint32_t *pde = kt_pde(va);
    if (!(*pde & PTE_P) || (*pde & PTE_PS)) {
        uint32_t *pt = kt_alloc_page();
        /* The directory entry is permissive; the PTE decides (SDM 4.6: both must allow). */
        *pde = (uint32_t)pt | PTE_P | PTE_W | PTE_U;
    }
    uint32_t *pt = (uint32_t *)(*pde & ~0xfffu);
    pt[(va >> 12) & 0x3ff] = (pa & ~0xfffu) | flags;
}

void kt_map_4m(uint32_t va, uint32_t pa, uint32_t flags)
{
    *kt_pde(va) = (pa & 0xffc00000u) | flags | PTE_PS;
}

uint32_t *kt_pte(uint32_t va)
{
    uint32_t pde = *kt_pde(va);
    if (!(pde & PTE_P) || (pde & PTE_PS)) return NULL;
    return &((uint32_t *)(pde & ~0xfffu))[(va >> 12) & 0x3ff];
}
