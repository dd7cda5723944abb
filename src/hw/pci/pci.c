/* PCI bus 0 (PCI Local Bus Specification 3.0, ch. 3.2.2.3.2 configuration mechanism #1 and
 * ch. 6 configuration space: header, BARs, capabilities, interrupt pin/line). */
#include "hw/pci/pci.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

struct PciBus {
    Device dev;
    PciDevice *devices[256];
    AddressSpace *mem, *io;
    MemRegion *mr_addr, *mr_data;
    uint32_t config_addr;
    int pirq_count[4];
    int (*map_irq)(PciDevice *d, int pin);
    void (*set_pirq)(void *opaque, int pirq, int level);
    void *pirq_opaque;
    uint8_t (*rc_read)(void *opaque);
    void (*rc_write)(void *opaque, uint8_t val);
    void *rc_opaque;
};

void pci_set_byte(PciDevice *d, unsigned off, uint8_t v)
{
    d->config[off & 0xff] = v;
}
void pci_set_word(PciDevice *d, unsigned off, uint16_t v)
{
    pci_set_byte(d, off, v & 0xff);
    pci_set_byte(d, off + 1, v >> 8);
}
void pci_set_long(PciDevice *d, unsigned off, uint32_t v)
{
    pci_set_word(d, off, v & 0xffff);
    pci_set_word(d, off + 2, v >> 16);
}
uint8_t pci_get_byte(const PciDevice *d, unsigned off)
{
    return d->config[off & 0xff];
}
uint16_t pci_get_word(const PciDevice *d, unsigned off)
{
    return pci_get_byte(d, off) | pci_get_byte(d, off + 1) << 8;
}
uint32_t pci_get_long(const PciDevice *d, unsigned off)
{
    return pci_get_word(d, off) | (uint32_t)pci_get_word(d, off + 2) << 16;
}

static void set_wmask_word(PciDevice *d, unsigned off, uint16_t m)
{
    d->wmask[off] = m & 0xff;
    d->wmask[off + 1] = m >> 8;
}

/* ---- BAR decoding ---- */

static uint32_t bar_decode_address(const PciDevice *d, const PciBar *bar, int index)
{
    uint16_t cmd = pci_get_word(d, PCI_COMMAND);
    uint32_t raw = pci_get_long(d, PCI_BASE_ADDRESS_0 + 4 * index);
    if (bar->is_io) {
        if (!(cmd & PCI_COMMAND_IO)) return PCI_BAR_UNMAPPED;
        uint32_t addr = raw & ~(bar->size - 1) & ~3u;
        /* Address 0 is what an unprogrammed BAR holds; the x86 port space ends at 64 KiB. */
        if (addr == 0 || (uint64_t)addr + bar->size > 0x10000) return PCI_BAR_UNMAPPED;
        return addr;
    }
    if (!(cmd & PCI_COMMAND_MEMORY)) return PCI_BAR_UNMAPPED;
    uint32_t addr = raw & ~(bar->size - 1) & ~0xfu;
    /* A BAR still holding the all-ones sizing pattern ends at 4 GiB - 1: treat as unmapped,
     * like a BAR at 0, so sizing with decoding enabled does not shadow the BIOS. */
    if (addr == 0 || (uint64_t)addr + bar->size - 1 >= 0xffffffffu) return PCI_BAR_UNMAPPED;
    return addr;
}

static void pci_update_mappings(PciDevice *d)
{
    for (int i = 0; i < PCI_NUM_BARS; i++) {
        PciBar *bar = &d->bars[i];
        if (!bar->size) continue;
        uint32_t addr = bar_decode_address(d, bar, i);
        if (addr == bar->addr) continue;
        AddressSpace *as = bar->is_io ? d->bus->io : d->bus->mem;
        if (addr == PCI_BAR_UNMAPPED) {
            as_enable(as, bar->mr, false);
        } else {
            as_move(as, bar->mr, addr);
            as_enable(as, bar->mr, true);
        }
        LOG(LOG_DEV, "pci %02x.%d %s: BAR%d %s at 0x%x", d->devfn >> 3, d->devfn & 7, d->name, i,
            bar->is_io ? "io" : "mem", addr);
        bar->addr = addr;
    }
}

/* ---- INTx ---- */

static void pci_update_irq(PciDevice *d)
{
    PciBus *bus = d->bus;
    int pin = pci_get_byte(d, PCI_INTERRUPT_PIN);
    uint16_t status = pci_get_word(d, PCI_STATUS);
    if (d->irq_level)
        status |= PCI_STATUS_INTERRUPT;
    else
        status &= ~PCI_STATUS_INTERRUPT;
    pci_set_word(d, PCI_STATUS, status);
    bool counted = d->irq_level && pin >= 1 && pin <= 4 &&
                   !(pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) && bus->map_irq;
    if (counted == d->irq_counted) return;
    /* Pin and router are fixed while counted, so the same PIRQ is decremented later. */
    int pirq = bus->map_irq ? bus->map_irq(d, pin) & 3 : 0;
    int before = bus->pirq_count[pirq];
    bus->pirq_count[pirq] += counted ? 1 : -1;
    d->irq_counted = counted;
    int after = bus->pirq_count[pirq];
    if ((before > 0) != (after > 0) && bus->set_pirq)
        bus->set_pirq(bus->pirq_opaque, pirq, after > 0);
}

void pci_set_irq(PciDevice *d, int level)
{
    d->irq_level = level != 0;
    pci_update_irq(d);
}

bool pci_bus_master_enabled(const PciDevice *d)
{
    return pci_get_word(d, PCI_COMMAND) & PCI_COMMAND_MASTER;
}

void pci_bus_set_irq_router(PciBus *bus, int (*map_irq)(PciDevice *d, int pin),
                            void (*set_pirq)(void *opaque, int pirq, int level), void *opaque)
{
    bus->map_irq = map_irq;
    bus->set_pirq = set_pirq;
    bus->pirq_opaque = opaque;
}

void pci_bus_set_reset_control(PciBus *bus, uint8_t (*read)(void *opaque),
                               void (*write)(void *opaque, uint8_t val), void *opaque)
{
    bus->rc_read = read;
    bus->rc_write = write;
    bus->rc_opaque = opaque;
}

/* ---- configuration space ---- */

uint32_t pci_default_config_read(PciDevice *d, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < 256; i++)
        v |= (uint32_t)d->config[off + i] << (8 * i);
    return v;
}

void pci_default_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size)
{
    bool touch_cmd = false, touch_bar = false;
    for (unsigned i = 0; i < size && off + i < 256; i++) {
        unsigned o = off + i;
        uint8_t b = val >> (8 * i);
        uint8_t nv = (d->config[o] & ~d->wmask[o]) | (b & d->wmask[o]);
        nv &= ~(b & d->w1cmask[o]);
        d->config[o] = nv;
        if (o == PCI_COMMAND || o == PCI_COMMAND + 1) touch_cmd = true;
        if (o >= PCI_BASE_ADDRESS_0 && o < PCI_BASE_ADDRESS_0 + 4 * PCI_NUM_BARS) touch_bar = true;
    }
    if (touch_cmd || touch_bar) pci_update_mappings(d);
    if (touch_cmd) pci_update_irq(d);
}

static PciDevice *pci_lookup(PciBus *bus, int devfn)
{
    return devfn >= 0 && devfn < 256 ? bus->devices[devfn] : NULL;
}

uint32_t pci_config_read(PciBus *bus, int devfn, unsigned off, unsigned size)
{
    PciDevice *d = pci_lookup(bus, devfn);
    uint32_t ones = size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    if (!d || off + size > 256) return ones;
    uint32_t v =
        d->config_read ? d->config_read(d, off, size) : pci_default_config_read(d, off, size);
    return v & ones;
}

void pci_config_write(PciBus *bus, int devfn, unsigned off, uint32_t val, unsigned size)
{
    PciDevice *d = pci_lookup(bus, devfn);
    if (!d || off + size > 256) return;
    if (d->config_write)
        d->config_write(d, off, val, size);
    else
        pci_default_config_write(d, off, val, size);
}

/* 0xcf8-0xcfb: CONFIG_ADDRESS is only the full dword; 0xcf9 alone is the reset control
 * register; other byte/word accesses are not claimed by the host bridge. */
static uint32_t cf8_read(void *opaque, uint64_t off, unsigned size)
{
    PciBus *bus = opaque;
    if (off == 0 && size == 4) return bus->config_addr;
    if (off == 1 && size == 1 && bus->rc_read) return bus->rc_read(bus->rc_opaque);
    return 0xffffffffu;
}

static void cf8_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    PciBus *bus = opaque;
    if (off == 0 && size == 4)
        bus->config_addr = val & 0x80fffffcu;
    else if (off == 1 && size == 1 && bus->rc_write)
        bus->rc_write(bus->rc_opaque, val);
}

static bool cfc_target(PciBus *bus, uint64_t off, int *devfn, unsigned *reg)
{
    uint32_t a = bus->config_addr;
    if (!(a & 0x80000000u) || ((a >> 16) & 0xff) != 0) return false; /* disabled or bus != 0 */
    *devfn = (a >> 8) & 0xff;
    *reg = (a & 0xfc) + (unsigned)off;
    return true;
}

static uint32_t cfc_read(void *opaque, uint64_t off, unsigned size)
{
    PciBus *bus = opaque;
    int devfn;
    unsigned reg;
    if (!cfc_target(bus, off, &devfn, &reg)) return 0xffffffffu;
    return pci_config_read(bus, devfn, reg, size);
}

static void cfc_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    PciBus *bus = opaque;
    int devfn;
    unsigned reg;
    if (cfc_target(bus, off, &devfn, &reg)) pci_config_write(bus, devfn, reg, val, size);
}

static const MemOps cf8_ops = {cf8_read, cf8_write, 1, 4};
static const MemOps cfc_ops = {cfc_read, cfc_write, 1, 4};

/* ---- devices ---- */

PciDevice *pci_register_device(PciBus *bus, int slot, int func, const char *name,
                               uint16_t vendor_id, uint16_t device_id, uint8_t revision,
                               uint32_t class_code)
{
    if (func < 0 || func > 7 || slot > 31) return NULL;
    if (slot < 0) {
        for (slot = 0; slot < 32 && bus->devices[PCI_DEVFN(slot, 0)]; slot++) {
        }
        if (slot == 32) return NULL;
    }
    int devfn = PCI_DEVFN(slot, func);
    if (bus->devices[devfn]) return NULL;
    PciDevice *d = XNEW(PciDevice);
    d->bus = bus;
    d->name = name;
    d->devfn = devfn;
    d->cap_next = PCI_CONFIG_HEADER_END;
    for (int i = 0; i < PCI_NUM_BARS; i++)
        d->bars[i].addr = PCI_BAR_UNMAPPED;
    pci_set_word(d, PCI_VENDOR_ID, vendor_id);
    pci_set_word(d, PCI_DEVICE_ID, device_id);
    pci_set_byte(d, PCI_REVISION_ID, revision);
    pci_set_byte(d, PCI_CLASS_PROG, class_code & 0xff);
    pci_set_word(d, PCI_CLASS_DEVICE, class_code >> 8);
    set_wmask_word(d, PCI_COMMAND,
                   PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
                       PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
    d->w1cmask[PCI_STATUS + 1] = 0xf9; /* parity/abort/SERR error bits */
    d->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
    d->wmask[PCI_LATENCY_TIMER] = 0xff;
    d->wmask[PCI_INTERRUPT_LINE] = 0xff;
    /* Multi-function devices announce themselves in function 0's header type. */
    PciDevice *f0 = bus->devices[PCI_DEVFN(slot, 0)];
    if (func > 0 && f0) f0->config[PCI_HEADER_TYPE] |= 0x80;
    if (func == 0) {
        for (int f = 1; f < 8; f++)
            if (bus->devices[PCI_DEVFN(slot, f)]) d->config[PCI_HEADER_TYPE] |= 0x80;
    }
    bus->devices[devfn] = d;
    return d;
}

PciDevice *pci_find_device(PciBus *bus, int slot, int func)
{
    if (slot < 0 || slot > 31 || func < 0 || func > 7) return NULL;
    return bus->devices[PCI_DEVFN(slot, func)];
}

bool pci_register_bar(PciDevice *d, int index, uint32_t size, bool is_io, const MemOps *ops,
                      void *opaque)
{
    if (index < 0 || index >= PCI_NUM_BARS || d->bars[index].size || size == 0 ||
        size > 0x80000000u)
        return false;
    uint32_t min = is_io ? 4 : 16;
    uint32_t sz = min;
    while (sz < size)
        sz <<= 1;
    if (is_io && sz > 256) return false; /* PCI limits I/O BARs to 256 bytes */
    PciBar *bar = &d->bars[index];
    *bar = (PciBar){
        .size = sz, .is_io = is_io, .ops = ops, .opaque = opaque, .addr = PCI_BAR_UNMAPPED};
    AddressSpace *as = is_io ? d->bus->io : d->bus->mem;
    bar->mr = as_add_mmio(as, d->name, 0, sz, ops, opaque);
    as_enable(as, bar->mr, false);
    unsigned off = PCI_BASE_ADDRESS_0 + 4 * index;
    uint32_t mask = ~(sz - 1) & (is_io ? ~3u : ~0xfu);
    pci_set_long(d, off, is_io ? 1 : 0);
    for (int i = 0; i < 4; i++)
        d->wmask[off + i] = mask >> (8 * i);
    return true;
}

uint32_t pci_bar_address(const PciDevice *d, int index)
{
    return index >= 0 && index < PCI_NUM_BARS ? d->bars[index].addr : PCI_BAR_UNMAPPED;
}

uint8_t pci_add_capability(PciDevice *d, uint8_t id, uint8_t size)
{
    if (size < 2) size = 2;
    unsigned off = (d->cap_next + 3u) & ~3u;
    if (off < PCI_CONFIG_HEADER_END || off + size > 256) return 0;
    d->config[off] = id;
    d->config[off + 1] = 0;
    uint8_t *link = &d->config[PCI_CAPABILITY_LIST];
    while (*link)
        link = &d->config[*link + 1];
    *link = (uint8_t)off;
    d->config[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->cap_next = off + size;
    return (uint8_t)off;
}

uint8_t pci_find_capability(const PciDevice *d, uint8_t id)
{
    if (!(d->config[PCI_STATUS] & PCI_STATUS_CAP_LIST)) return 0;
    uint8_t off = d->config[PCI_CAPABILITY_LIST];
    for (int guard = 0; off && guard < 64; guard++) {
        if (d->config[off] == id) return off;
        off = d->config[off + 1];
    }
    return 0;
}

void pci_for_each_device(PciBus *bus, void (*fn)(PciDevice *d, void *opaque), void *opaque)
{
    for (int i = 0; i < 256; i++)
        if (bus->devices[i]) fn(bus->devices[i], opaque);
}

/* ---- bus ---- */

static void pci_device_reset(PciDevice *d)
{
    /* Power-on state of the standard header: decoding off, BARs at 0, no interrupt line. */
    pci_set_word(d, PCI_COMMAND, 0);
    pci_set_word(d, PCI_STATUS, pci_get_word(d, PCI_STATUS) & PCI_STATUS_CAP_LIST);
    pci_set_byte(d, PCI_CACHE_LINE_SIZE, 0);
    pci_set_byte(d, PCI_LATENCY_TIMER, 0);
    pci_set_byte(d, PCI_INTERRUPT_LINE, 0);
    for (int i = 0; i < PCI_NUM_BARS; i++)
        if (d->bars[i].size) pci_set_long(d, PCI_BASE_ADDRESS_0 + 4 * i, d->bars[i].is_io ? 1 : 0);
    pci_update_mappings(d);
    if (d->reset) d->reset(d);
    pci_update_irq(d);
}

static void pci_bus_reset(Device *dev)
{
    PciBus *bus = (PciBus *)dev;
    bus->config_addr = 0;
    for (int i = 0; i < 256; i++)
        if (bus->devices[i]) pci_device_reset(bus->devices[i]);
}

static void pci_bus_describe(Device *dev, FILE *out)
{
    PciBus *bus = (PciBus *)dev;
    int n = 0;
    for (int i = 0; i < 256; i++) {
        PciDevice *d = bus->devices[i];
        if (!d) continue;
        fprintf(out, "%s%02x.%d %04x:%04x %s cmd=%04x", n++ ? "; " : "", i >> 3, i & 7,
                pci_get_word(d, PCI_VENDOR_ID), pci_get_word(d, PCI_DEVICE_ID), d->name,
                pci_get_word(d, PCI_COMMAND));
    }
    fprintf(out, "%sPIRQ counts %d %d %d %d\n", n ? "; " : "", bus->pirq_count[0],
            bus->pirq_count[1], bus->pirq_count[2], bus->pirq_count[3]);
}

PciBus *pci_bus_new(AddressSpace *mem, AddressSpace *io)
{
    PciBus *bus = XNEW(PciBus);
    bus->dev.name = "pci";
    bus->dev.reset = pci_bus_reset;
    bus->dev.describe = pci_bus_describe;
    bus->mem = mem;
    bus->io = io;
    bus->mr_addr = as_add_mmio(io, "pci-config-address", 0xcf8, 4, &cf8_ops, bus);
    bus->mr_data = as_add_mmio(io, "pci-config-data", 0xcfc, 4, &cfc_ops, bus);
    return bus;
}

void pci_bus_free(PciBus *bus)
{
    if (!bus) return;
    for (int i = 0; i < 256; i++) {
        PciDevice *d = bus->devices[i];
        if (!d) continue;
        if (d->destroy) d->destroy(d);
        for (int b = 0; b < PCI_NUM_BARS; b++)
            if (d->bars[b].size) as_remove(d->bars[b].is_io ? bus->io : bus->mem, d->bars[b].mr);
        free(d);
    }
    as_remove(bus->io, bus->mr_addr);
    as_remove(bus->io, bus->mr_data);
    free(bus);
}

Device *pci_bus_device(PciBus *bus)
{
    return &bus->dev;
}
