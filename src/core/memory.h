/* Address spaces (guest physical memory and I/O ports): RAM, ROM and MMIO regions, with a
 * flattened, binary-searched view rebuilt whenever a region is added, moved or removed. */
#ifndef CORE_MEMORY_H
#define CORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct MemOps {
    /* offset is relative to the region base; size is 1, 2 or 4 (and within min..max). */
    uint32_t (*read)(void *opaque, uint64_t offset, unsigned size);
    void (*write)(void *opaque, uint64_t offset, uint32_t value, unsigned size);
    /* Access sizes the device implements; other sizes are split or widened by the core.
     * 0 means 1 (min) and 4 (max). */
    uint8_t min_size, max_size;
} MemOps;

typedef enum { MR_RAM, MR_ROM, MR_MMIO } MemRegionKind;

typedef struct MemRegion {
    const char *name;
    MemRegionKind kind;
    uint64_t base, size;
    uint8_t *host; /* RAM and ROM contents */
    const MemOps *ops;
    void *opaque;
    int priority; /* higher wins where regions overlap */
    bool enabled;
} MemRegion;

/* One piece of the flattened view: [start, end] maps to region at (start - region->base). */
typedef struct FlatRange {
    uint64_t start, end;
    MemRegion *mr;
} FlatRange;

typedef struct AddressSpace {
    const char *name;
    uint64_t size; /* 4 GiB for memory, 64 KiB for ports */
    MemRegion **regions;
    size_t nregions, cap;
    FlatRange *flat;
    size_t nflat;
    /* Bumped on every change to the map; CPUs compare it to know when to flush their TLBs. */
    uint32_t generation;
    /* Called after every map change (e.g. to flush CPU TLBs); may be NULL. */
    void (*changed)(void *opaque);
    void *changed_opaque;
    /* Called when a device is about to write guest RAM behind the CPU's back (DMA), so that
     * translated code of that range is dropped; may be NULL. */
    void (*dma_write)(void *opaque, uint64_t addr, uint64_t len);
    void *dma_opaque;
} AddressSpace;

void as_init(AddressSpace *as, const char *name, uint64_t size);
void as_destroy(AddressSpace *as);

MemRegion *as_add_ram(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                      uint8_t *host);
MemRegion *as_add_rom(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                      uint8_t *host);
MemRegion *as_add_mmio(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                       const MemOps *ops, void *opaque);
void as_set_priority(AddressSpace *as, MemRegion *mr, int priority);
void as_move(AddressSpace *as, MemRegion *mr, uint64_t new_base);
void as_enable(AddressSpace *as, MemRegion *mr, bool enabled);
void as_remove(AddressSpace *as, MemRegion *mr);

/* The flat range containing addr, or NULL for an unassigned address. */
const FlatRange *as_lookup(const AddressSpace *as, uint64_t addr);

/* Single accesses of size 1, 2 or 4 (little-endian). Unassigned reads return all ones,
 * unassigned writes and writes to ROM are ignored. */
uint32_t as_read(AddressSpace *as, uint64_t addr, unsigned size);
void as_write(AddressSpace *as, uint64_t addr, uint32_t value, unsigned size);

/* Host pointer to [addr, addr+len) if it lies entirely in one RAM region (ROM too when
 * !for_write), else NULL. This is what DMA-capable devices use: a guest-supplied address that
 * is not RAM never reaches host memory. */
uint8_t *as_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool for_write);

/* Devices call this for every guest RAM range they write through a host pointer from
 * as_ram_ptr (before or right after writing; the CPU does not run in between). */
void as_notify_dma_write(AddressSpace *as, uint64_t addr, uint64_t len);

/* Copy to/from guest memory through the map (RAM directly, MMIO byte by byte).
 * Returns false if any byte was unassigned. */
bool as_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write);

#endif
