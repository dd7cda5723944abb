/* A minimal guest-side virtio PCI driver for device tests: a machine with RAM, a PCI bus
 * reached through ports 0xcf8/0xcfc, capability discovery by walking config space, the
 * initialisation sequence of virtio 1.x spec 3.1, and split rings built in guest RAM. */
#ifndef TESTS_UNIT_VIRTIO_GUEST_H
#define TESTS_UNIT_VIRTIO_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "core/memory.h"
#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"
#include "util/alloc.h"

#define VG_RAM_SIZE (4u << 20)

typedef struct VGuest {
    AddressSpace mem, io;
    uint8_t *ram;
    PciBus *bus;
    int pirq[4];
    uint64_t brk; /* bump allocator for guest RAM */
} VGuest;

typedef struct VQueue {
    uint16_t index, num;
    uint64_t desc, avail, used;
    uint16_t next_desc, avail_idx, last_used;
    uint32_t notify_addr;
} VQueue;

typedef struct VDev {
    VGuest *g;
    int devfn;
    uint32_t bar;
    uint32_t common, isr, device, notify, notify_mult; /* guest-physical addresses */
    uint8_t cap_off[6];                                /* config offset per cfg_type */
    uint32_t device_len;
    uint64_t features;
    VQueue q[4];
} VDev;

typedef struct VBuf {
    uint64_t addr;
    uint32_t len;
    bool write;
} VBuf;

static inline int vg_map_irq(PciDevice *d, int pin)
{
    return ((d->devfn >> 3) - 1 + pin - 1) & 3;
}
static inline void vg_set_pirq(void *o, int pirq, int level)
{
    ((VGuest *)o)->pirq[pirq] = level;
}

static inline void vg_init(VGuest *g)
{
    memset(g, 0, sizeof *g);
    as_init(&g->mem, "mem", 1ull << 32);
    as_init(&g->io, "io", 0x10000);
    g->ram = xzalloc(VG_RAM_SIZE);
    as_add_ram(&g->mem, "ram", 0, VG_RAM_SIZE, g->ram);
    g->bus = pci_bus_new(&g->mem, &g->io);
    pci_bus_set_irq_router(g->bus, vg_map_irq, vg_set_pirq, g);
    g->brk = 0x10000;
}

static inline void vg_free(VGuest *g)
{
    pci_bus_free(g->bus);
    as_destroy(&g->mem);
    as_destroy(&g->io);
    free(g->ram);
}

static inline uint64_t vg_alloc(VGuest *g, uint64_t size, uint64_t align)
{
    g->brk = (g->brk + align - 1) & ~(align - 1);
    uint64_t a = g->brk;
    g->brk += size;
    if (g->brk > VG_RAM_SIZE) abort();
    memset(g->ram + a, 0, size);
    return a;
}

static inline uint8_t *vg_ptr(VGuest *g, uint64_t addr)
{
    return g->ram + addr;
}

static inline uint32_t vg_cfg_read(VGuest *g, int devfn, unsigned off, unsigned size)
{
    as_write(&g->io, 0xcf8, 0x80000000u | (unsigned)devfn << 8 | (off & 0xfc), 4);
    return as_read(&g->io, 0xcfc + (off & 3), size);
}

static inline void vg_cfg_write(VGuest *g, int devfn, unsigned off, uint32_t v, unsigned size)
{
    as_write(&g->io, 0xcf8, 0x80000000u | (unsigned)devfn << 8 | (off & 0xfc), 4);
    as_write(&g->io, 0xcfc + (off & 3), v, size);
}

/* Program BAR 4, enable memory decoding and bus mastering, and find the virtio structures
 * by walking the capability list the way a driver does. */
static inline bool vd_probe(VDev *d, VGuest *g, int slot, uint32_t bar)
{
    memset(d, 0, sizeof *d);
    d->g = g;
    d->devfn = PCI_DEVFN(slot, 0);
    if (vg_cfg_read(g, d->devfn, PCI_VENDOR_ID, 2) != VIRTIO_PCI_VENDOR_ID) return false;
    d->bar = bar;
    vg_cfg_write(g, d->devfn, PCI_BASE_ADDRESS_0 + 4 * VIRTIO_PCI_BAR, bar, 4);
    vg_cfg_write(g, d->devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    if (!(vg_cfg_read(g, d->devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) return false;
    unsigned off = vg_cfg_read(g, d->devfn, PCI_CAPABILITY_LIST, 1);
    for (int guard = 0; off && guard < 48; guard++) {
        if (vg_cfg_read(g, d->devfn, off, 1) == PCI_CAP_ID_VNDR) {
            unsigned type = vg_cfg_read(g, d->devfn, off + 3, 1);
            unsigned barno = vg_cfg_read(g, d->devfn, off + 4, 1);
            uint32_t o = vg_cfg_read(g, d->devfn, off + 8, 4);
            uint32_t len = vg_cfg_read(g, d->devfn, off + 12, 4);
            if (type < 6 && !d->cap_off[type]) d->cap_off[type] = (uint8_t)off;
            if (barno == VIRTIO_PCI_BAR) {
                switch (type) {
                case VIRTIO_PCI_CAP_COMMON_CFG: d->common = bar + o; break;
                case VIRTIO_PCI_CAP_ISR_CFG: d->isr = bar + o; break;
                case VIRTIO_PCI_CAP_DEVICE_CFG:
                    d->device = bar + o;
                    d->device_len = len;
                    break;
                case VIRTIO_PCI_CAP_NOTIFY_CFG:
                    d->notify = bar + o;
                    d->notify_mult = vg_cfg_read(g, d->devfn, off + 16, 4);
                    break;
                }
            }
        }
        off = vg_cfg_read(g, d->devfn, off + 1, 1);
    }
    return d->common && d->isr && d->notify;
}

static inline uint32_t vd_common_read(VDev *d, unsigned off, unsigned size)
{
    return as_read(&d->g->mem, d->common + off, size);
}
static inline void vd_common_write(VDev *d, unsigned off, uint32_t v, unsigned size)
{
    as_write(&d->g->mem, d->common + off, v, size);
}
static inline uint8_t vd_status(VDev *d)
{
    return (uint8_t)vd_common_read(d, VIRTIO_PCI_COMMON_STATUS, 1);
}
static inline uint8_t vd_isr(VDev *d)
{
    return (uint8_t)as_read(&d->g->mem, d->isr, 1);
}
static inline uint32_t vd_config_read(VDev *d, unsigned off, unsigned size)
{
    return as_read(&d->g->mem, d->device + off, size);
}

static inline uint64_t vd_device_features(VDev *d)
{
    vd_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
    uint64_t f = vd_common_read(d, VIRTIO_PCI_COMMON_DF, 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
    return f | (uint64_t)vd_common_read(d, VIRTIO_PCI_COMMON_DF, 4) << 32;
}

/* Reset, acknowledge, negotiate (device features & want). Returns false if the device
 * refused FEATURES_OK. */
static inline bool vd_init(VDev *d, uint64_t want)
{
    vd_common_write(d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    vd_common_write(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
    vd_common_write(d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER,
                    1);
    d->features = vd_device_features(d) & want;
    vd_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_GF, (uint32_t)d->features, 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_GF, (uint32_t)(d->features >> 32), 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_STATUS,
                    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK,
                    1);
    return vd_status(d) & VIRTIO_STATUS_FEATURES_OK;
}

static inline bool vd_setup_queue(VDev *d, unsigned index, uint16_t num)
{
    VQueue *q = &d->q[index];
    memset(q, 0, sizeof *q);
    vd_common_write(d, VIRTIO_PCI_COMMON_Q_SELECT, index, 2);
    uint16_t max = (uint16_t)vd_common_read(d, VIRTIO_PCI_COMMON_Q_SIZE, 2);
    if (max == 0) return false;
    if (num == 0 || num > max) num = max;
    q->index = (uint16_t)index;
    q->num = num;
    q->desc = vg_alloc(d->g, 16u * num, 16);
    q->avail = vg_alloc(d->g, 6u + 2u * num, 2);
    q->used = vg_alloc(d->g, 6u + 8u * num, 4);
    vd_common_write(d, VIRTIO_PCI_COMMON_Q_SIZE, num, 2);
    uint64_t addrs[3] = {q->desc, q->avail, q->used};
    for (int i = 0; i < 3; i++) {
        vd_common_write(d, VIRTIO_PCI_COMMON_Q_DESC + 8 * i, (uint32_t)addrs[i], 4);
        vd_common_write(d, VIRTIO_PCI_COMMON_Q_DESC + 8 * i + 4, (uint32_t)(addrs[i] >> 32), 4);
    }
    uint16_t noff = (uint16_t)vd_common_read(d, VIRTIO_PCI_COMMON_Q_NOFF, 2);
    q->notify_addr = d->notify + noff * d->notify_mult;
    vd_common_write(d, VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
    return vd_common_read(d, VIRTIO_PCI_COMMON_Q_ENABLE, 2) == 1;
}

static inline void vd_driver_ok(VDev *d)
{
    vd_common_write(d, VIRTIO_PCI_COMMON_STATUS,
                    VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK |
                        VIRTIO_STATUS_DRIVER_OK,
                    1);
}

static inline void vg_write_desc(uint8_t *p, uint64_t addr, uint32_t len, uint16_t flags,
                                 uint16_t next)
{
    virtio_stq(p, addr);
    virtio_stl(p + 8, len);
    virtio_stw(p + 12, flags);
    virtio_stw(p + 14, next);
}

/* Put a chain of n buffers on the queue (through an indirect table if indirect), publish it
 * in the available ring, and return its head. Descriptors are used round-robin. */
static inline uint16_t vq_add(VDev *d, VQueue *q, const VBuf *b, int n, bool indirect)
{
    VGuest *g = d->g;
    uint16_t head = q->next_desc;
    if (indirect) {
        uint64_t table = vg_alloc(g, 16u * (unsigned)n, 16);
        for (int i = 0; i < n; i++)
            vg_write_desc(vg_ptr(g, table + 16u * (unsigned)i), b[i].addr, b[i].len,
                          (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                                     (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                          (uint16_t)(i + 1));
        vg_write_desc(vg_ptr(g, q->desc + 16u * head), table, 16u * (unsigned)n,
                      VIRTQ_DESC_F_INDIRECT, 0);
        q->next_desc = (uint16_t)((head + 1) % q->num);
    } else {
        for (int i = 0; i < n; i++) {
            uint16_t idx = (uint16_t)((head + i) % q->num);
            uint16_t next = (uint16_t)((idx + 1) % q->num);
            vg_write_desc(vg_ptr(g, q->desc + 16u * idx), b[i].addr, b[i].len,
                          (uint16_t)((b[i].write ? VIRTQ_DESC_F_WRITE : 0) |
                                     (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0)),
                          next);
        }
        q->next_desc = (uint16_t)((head + n) % q->num);
    }
    virtio_stw(vg_ptr(g, q->avail + 4 + 2u * (q->avail_idx % q->num)), head);
    q->avail_idx++;
    virtio_stw(vg_ptr(g, q->avail + 2), q->avail_idx);
    return head;
}

static inline void vd_kick(VDev *d, VQueue *q)
{
    as_write(&d->g->mem, q->notify_addr, q->index, 2);
}

/* Next used entry, if any. */
static inline bool vq_get_used(VDev *d, VQueue *q, uint32_t *id, uint32_t *len)
{
    uint16_t idx = virtio_ldw(vg_ptr(d->g, q->used + 2));
    if (idx == q->last_used) return false;
    uint8_t *e = vg_ptr(d->g, q->used + 4 + 8u * (q->last_used % q->num));
    if (id) *id = virtio_ldl(e);
    if (len) *len = virtio_ldl(e + 4);
    q->last_used++;
    return true;
}

/* The PIRQ our device's INTA# goes to. */
static inline int vd_irq(VDev *d)
{
    return d->g->pirq[((d->devfn >> 3) - 1) & 3];
}

#endif
