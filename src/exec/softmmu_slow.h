/* Slow paths of guest memory accesses (TLB miss, MMIO, pages holding code, page-crossing
 * accesses), called by both back ends and by C helpers. Faults unwind to the run loop. */
#ifndef EXEC_SOFTMMU_SLOW_H
#define EXEC_SOFTMMU_SLOW_H

#include <stdint.h>

#include "cpu/x86/cpu.h"

uint32_t softmmu_ld(CPUX86State *env, uint32_t addr, unsigned size, unsigned mmu_idx);
void softmmu_st(CPUX86State *env, uint32_t addr, uint32_t val, unsigned size, unsigned mmu_idx);

/* Makes sure [addr, addr+size) is accessible for the given access (filling the TLB or raising
 * the fault) without touching memory; used before multi-part stores. */
void softmmu_probe(CPUX86State *env, uint32_t addr, unsigned size, int access, unsigned mmu_idx);

/* Host pointer to the code page containing linear addr (filled for execute access, faulting
 * as an instruction fetch would). *phys receives the physical address of addr. Returns NULL if
 * the page is not RAM or ROM. */
const uint8_t *softmmu_code_page(CPUX86State *env, uint32_t addr, unsigned mmu_idx,
                                 uint32_t *phys);
/* The physical address of linear addr for an instruction fetch, filling the TLB as
 * softmmu_code_page does; false instead of the fault where the fetch would fault. */
bool softmmu_code_phys(CPUX86State *env, uint32_t addr, unsigned mmu_idx, uint32_t *phys);

/* Records that entry idx of table mmu_idx now holds a translation, global or not (called by
 * every writer of a main-table entry), for the flushes below. */
static inline void softmmu_note_fill(CPUX86State *env, unsigned mmu_idx, unsigned idx, bool global)
{
    uint8_t bit = global ? 2 : 1;
    if (env->tlb_listed[mmu_idx][idx] & bit) return;
    env->tlb_listed[mmu_idx][idx] |= bit;
    if (global)
        env->tlb_gused[mmu_idx][env->tlb_ngused[mmu_idx]++] = (uint16_t)idx;
    else
        env->tlb_used[mmu_idx][env->tlb_nused[mmu_idx]++] = (uint16_t)idx;
}

/* Large-page bookkeeping: the 4 MiB region of vaddr may have entries of a large page. */
static inline void softmmu_note_large(CPUX86State *env, uint32_t vaddr)
{
    env->tlb_large[vaddr >> 27] |= 1u << (vaddr >> 22 & 31);
}

/* Empties the whole TLB of a new CPU (the flushes below visit only the entries in use). */
void softmmu_init(CPUX86State *env);
void softmmu_flush(CPUX86State *env);
void softmmu_flush_nonglobal(CPUX86State *env);
void softmmu_flush_page(CPUX86State *env, uint32_t addr);
/* A page became code: route TLB writes to it through the slow path. */
void softmmu_protect_code_page(CPUX86State *env, uint32_t phys_page);

#endif
