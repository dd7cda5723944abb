/* Software MMU TLB shared by both back ends (DESIGN.md section 3): a direct-mapped table per
 * privilege class whose entries hold read/write/execute tags and a host addend, so that the
 * fast path of a guest access is one compare and one add. Low tag bits force the slow path. */
#ifndef EXEC_SOFTMMU_H
#define EXEC_SOFTMMU_H

#include <stdint.h>

#define PAGE_BITS 12
#define PAGE_SIZE (1u << PAGE_BITS)
#define PAGE_MASK (~(PAGE_SIZE - 1))

#define TLB_BITS 12
#define TLB_SIZE (1u << TLB_BITS)
#define TLB_VICTIM 8
#define NB_MMU_MODES 2 /* 0: supervisor, 1: user */

/* Tag flag bits (below the page offset, so the fast-path compare of a page address fails). */
#define TLB_INVALID 0x001u  /* never matches */
#define TLB_MMIO 0x002u     /* not RAM: go through the address space */
#define TLB_NOTDIRTY 0x004u /* page holds translated code: writes must invalidate it */
#define TLB_WATCH 0x008u    /* a debug register watches this page */
#define TLB_FLAGS_MASK 0xfffu

enum { ACC_READ = 0, ACC_WRITE = 1, ACC_EXEC = 2 };

#define TLB_INVALID_TAG 0xffffffffu

/* Entry flags (TlbEntry.flags). */
#define TLBF_GLOBAL 0x1u /* survives CR3 writes (CR4.PGE) */
#define TLBF_LARGE 0x2u  /* part of a 4 MiB page */

typedef struct TlbEntry {
    uint32_t tag_r, tag_w, tag_x; /* page address | flags, or TLB_INVALID_TAG */
    uint32_t phys;                /* guest physical page address */
    uintptr_t addend;             /* host = guest virtual + addend (RAM pages) */
    uint32_t vaddr;               /* virtual page address */
    uint32_t flags;
} TlbEntry;

/* Index hash: consecutive pages never share an entry, and neither do pages a multiple of
 * 4 MiB apart (the stride that makes a plain modulo index thrash on large copies). */
static inline unsigned tlb_index(uint32_t addr)
{
    return ((addr >> PAGE_BITS) + ((addr >> 22) << 1)) & (TLB_SIZE - 1);
}

/* Fast-path test for an access of size bytes at addr against the tag of entry tlb_index(addr):
 * compares the page of the LAST byte. A page-crossing access therefore fails, because the
 * index hash never puts the following page (or, at 4 GiB wrap-around, page 0) into the entry of
 * the first byte's page. Flag bits in the tag make it fail as well. */
static inline int tlb_hit(uint32_t tag, uint32_t addr, unsigned size)
{
    return tag == ((addr + size - 1) & PAGE_MASK);
}

#endif
