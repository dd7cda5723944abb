/* Address spaces: region list plus a flattened view rebuilt on change (see memory.h). */
#include "core/memory.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

void as_init(AddressSpace *as, const char *name, uint64_t size)
{
    memset(as, 0, sizeof *as);
    as->name = name;
    as->size = size;
}

void as_destroy(AddressSpace *as)
{
    for (size_t i = 0; i < as->nregions; i++) free(as->regions[i]);
    free(as->regions);
    free(as->flat);
    memset(as, 0, sizeof *as);
}

/* Rebuild the flat view: walk all region boundaries, and for each elementary interval pick the
 * enabled region with the highest priority (latest added wins ties). */
static void as_rebuild(AddressSpace *as)
{
    size_t nb = 0;
    uint64_t *bounds = xmalloc(sizeof(uint64_t) * (2 * as->nregions + 1));
    for (size_t i = 0; i < as->nregions; i++) {
        MemRegion *mr = as->regions[i];
        if (!mr->enabled || mr->size == 0 || mr->base >= as->size) continue;
        bounds[nb++] = mr->base;
        uint64_t end = mr->base + mr->size;
        bounds[nb++] = end > as->size ? as->size : end;
    }
    /* Sort boundaries (insertion sort is fine: tens of regions). */
    for (size_t i = 1; i < nb; i++) {
        uint64_t v = bounds[i];
        size_t j = i;
        while (j > 0 && bounds[j - 1] > v) {
            bounds[j] = bounds[j - 1];
            j--;
        }
        bounds[j] = v;
    }
    free(as->flat);
    as->flat = xmalloc(sizeof(FlatRange) * (nb + 1));
    as->nflat = 0;
    for (size_t k = 0; k + 1 < nb; k++) {
        uint64_t s = bounds[k], e = bounds[k + 1];
        if (s == e) continue;
        MemRegion *best = NULL;
        for (size_t i = 0; i < as->nregions; i++) {
            MemRegion *mr = as->regions[i];
            if (!mr->enabled || s < mr->base || s >= mr->base + mr->size) continue;
            if (!best || mr->priority >= best->priority) best = mr;
        }
        if (!best) continue;
        FlatRange *prev = as->nflat ? &as->flat[as->nflat - 1] : NULL;
        if (prev && prev->mr == best && prev->end + 1 == s) {
            prev->end = e - 1;
        } else {
            as->flat[as->nflat++] = (FlatRange){s, e - 1, best};
        }
    }
    free(bounds);
    as->generation++;
    if (as->changed) as->changed(as->changed_opaque);
}

static MemRegion *as_add(AddressSpace *as, MemRegion *mr)
{
    if (as->nregions == as->cap) {
        as->cap = as->cap ? as->cap * 2 : 16;
        as->regions = xrealloc(as->regions, sizeof(MemRegion *) * as->cap);
    }
    mr->enabled = true;
    as->regions[as->nregions++] = mr;
    as_rebuild(as);
    return mr;
}

MemRegion *as_add_ram(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                      uint8_t *host)
{
    MemRegion *mr = XNEW(MemRegion);
    *mr = (MemRegion){.name = name, .kind = MR_RAM, .base = base, .size = size, .host = host};
    return as_add(as, mr);
}

MemRegion *as_add_rom(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                      uint8_t *host)
{
    MemRegion *mr = as_add_ram(as, name, base, size, host);
    mr->kind = MR_ROM;
    return mr;
}

MemRegion *as_add_mmio(AddressSpace *as, const char *name, uint64_t base, uint64_t size,
                       const MemOps *ops, void *opaque)
{
    MemRegion *mr = XNEW(MemRegion);
    *mr = (MemRegion){.name = name, .kind = MR_MMIO, .base = base, .size = size, .ops = ops,
                      .opaque = opaque};
    return as_add(as, mr);
}

void as_set_priority(AddressSpace *as, MemRegion *mr, int priority)
{
    mr->priority = priority;
    as_rebuild(as);
}

void as_move(AddressSpace *as, MemRegion *mr, uint64_t new_base)
{
    if (mr->base == new_base) return;
    mr->base = new_base;
    as_rebuild(as);
}

void as_enable(AddressSpace *as, MemRegion *mr, bool enabled)
{
    if (mr->enabled == enabled) return;
    mr->enabled = enabled;
    as_rebuild(as);
}

void as_remove(AddressSpace *as, MemRegion *mr)
{
    for (size_t i = 0; i < as->nregions; i++) {
        if (as->regions[i] == mr) {
            memmove(&as->regions[i], &as->regions[i + 1],
                    sizeof(MemRegion *) * (as->nregions - i - 1));
            as->nregions--;
            free(mr);
            as_rebuild(as);
            return;
        }
    }
}

const FlatRange *as_lookup(const AddressSpace *as, uint64_t addr)
{
    size_t lo = 0, hi = as->nflat;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const FlatRange *fr = &as->flat[mid];
        if (addr < fr->start) {
            hi = mid;
        } else if (addr > fr->end) {
            lo = mid + 1;
        } else {
            return fr;
        }
    }
    return NULL;
}

static uint32_t size_mask(unsigned size) { return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1; }

static uint32_t mmio_read(MemRegion *mr, uint64_t off, unsigned size)
{
    unsigned min = mr->ops->min_size ? mr->ops->min_size : 1;
    unsigned max = mr->ops->max_size ? mr->ops->max_size : 4;
    if (!mr->ops->read) return 0xffffffffu >> (32 - 8 * size);
    if (size >= min && size <= max) return mr->ops->read(mr->opaque, off, size) & size_mask(size);
    if (size > max) {
        /* Split into device-sized pieces, little-endian. */
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i += max)
            v |= (mr->ops->read(mr->opaque, off + i, max) & size_mask(max)) << (8 * i);
        return v;
    }
    /* Widen: read the aligned containing unit and extract. */
    uint64_t aligned = off & ~(uint64_t)(min - 1);
    uint32_t v = mr->ops->read(mr->opaque, aligned, min) >> (8 * (off - aligned));
    return v & size_mask(size);
}

static void mmio_write(MemRegion *mr, uint64_t off, uint32_t value, unsigned size)
{
    unsigned min = mr->ops->min_size ? mr->ops->min_size : 1;
    unsigned max = mr->ops->max_size ? mr->ops->max_size : 4;
    if (!mr->ops->write) return;
    if (size >= min && size <= max) {
        mr->ops->write(mr->opaque, off, value, size);
    } else if (size > max) {
        for (unsigned i = 0; i < size; i += max)
            mr->ops->write(mr->opaque, off + i, value >> (8 * i), max);
    } else {
        /* Widen a narrow write by read-modify-write of the containing unit. */
        uint64_t aligned = off & ~(uint64_t)(min - 1);
        unsigned shift = 8 * (off - aligned);
        uint32_t mask = size_mask(size) << shift;
        uint32_t old = mr->ops->read ? mr->ops->read(mr->opaque, aligned, min) : 0;
        mr->ops->write(mr->opaque, aligned, (old & ~mask) | ((value << shift) & mask), min);
    }
}

uint32_t as_read(AddressSpace *as, uint64_t addr, unsigned size)
{
    const FlatRange *fr = as_lookup(as, addr);
    if (!fr || addr + size - 1 > fr->end) {
        if (size > 1) {
            /* Access straddles ranges or touches unassigned space: do it bytewise. */
            uint32_t v = 0;
            for (unsigned i = 0; i < size; i++) v |= as_read(as, addr + i, 1) << (8 * i);
            return v;
        }
        LOG(LOG_IO, "%s: read from unassigned 0x%llx", as->name, (unsigned long long)addr);
        return 0xff;
    }
    MemRegion *mr = fr->mr;
    uint64_t off = addr - mr->base;
    if (mr->kind == MR_MMIO) return mmio_read(mr, off, size);
    const uint8_t *p = mr->host + off;
    switch (size) {
    case 1: return p[0];
    case 2: return p[0] | p[1] << 8;
    default: return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
    }
}

void as_write(AddressSpace *as, uint64_t addr, uint32_t value, unsigned size)
{
    const FlatRange *fr = as_lookup(as, addr);
    if (!fr || addr + size - 1 > fr->end) {
        if (size > 1) {
            for (unsigned i = 0; i < size; i++) as_write(as, addr + i, value >> (8 * i), 1);
            return;
        }
        LOG(LOG_IO, "%s: write 0x%x to unassigned 0x%llx", as->name, value,
            (unsigned long long)addr);
        return;
    }
    MemRegion *mr = fr->mr;
    uint64_t off = addr - mr->base;
    if (mr->kind == MR_MMIO) {
        mmio_write(mr, off, value, size);
    } else if (mr->kind == MR_RAM) {
        uint8_t *p = mr->host + off;
        for (unsigned i = 0; i < size; i++) p[i] = value >> (8 * i);
    }
}

uint8_t *as_ram_ptr(AddressSpace *as, uint64_t addr, uint64_t len, bool for_write)
{
    if (len == 0 || addr + len < addr) return NULL;
    const FlatRange *fr = as_lookup(as, addr);
    if (!fr || addr + len - 1 > fr->end) return NULL;
    MemRegion *mr = fr->mr;
    if (mr->kind == MR_MMIO || (for_write && mr->kind != MR_RAM)) return NULL;
    return mr->host + (addr - mr->base);
}

void as_notify_dma_write(AddressSpace *as, uint64_t addr, uint64_t len)
{
    if (as->dma_write && len) as->dma_write(as->dma_opaque, addr, len);
}

bool as_rw(AddressSpace *as, uint64_t addr, void *buf, uint64_t len, bool is_write)
{
    if (is_write) as_notify_dma_write(as, addr, len);
    uint8_t *b = buf;
    bool ok = true;
    while (len) {
        const FlatRange *fr = as_lookup(as, addr);
        if (!fr) {
            ok = false;
            if (!is_write) *b = 0xff;
            addr++, b++, len--;
            continue;
        }
        uint64_t n = fr->end - addr + 1;
        if (n > len) n = len;
        MemRegion *mr = fr->mr;
        if (mr->kind == MR_MMIO) {
            for (uint64_t i = 0; i < n; i++) {
                if (is_write)
                    mmio_write(mr, addr + i - mr->base, b[i], 1);
                else
                    b[i] = mmio_read(mr, addr + i - mr->base, 1);
            }
        } else if (is_write) {
            if (mr->kind == MR_RAM) memcpy(mr->host + (addr - mr->base), b, n);
        } else {
            memcpy(b, mr->host + (addr - mr->base), n);
        }
        addr += n, b += n, len -= n;
    }
    return ok;
}
