/* PCI: configuration mechanism #1, BAR sizing and moving, command decoding, capabilities,
 * PIRQ routing with shared level interrupts, INTx disable, reset control, bus reset. */
#include "test.h"

#include "core/memory.h"
#include "hw/pci/i440fx.h"
#include "hw/pci/pci.h"
#include "hw/pci/piix.h"

typedef struct {
    AddressSpace mem, io;
    PciBus *bus;
    Piix *piix;
    int isa[16];
    int resets, pam_calls;
    uint8_t pam[7];
} Rig;

static void isa_set(void *o, int n, int level)
{
    ((Rig *)o)->isa[n] = level;
}
static void reset_cb(void *o)
{
    ((Rig *)o)->resets++;
}
static void pam_cb(void *o, const uint8_t pam[7], uint8_t smram)
{
    Rig *r = o;
    r->pam_calls++;
    memcpy(r->pam, pam, 7);
}

/* A device whose registers echo offset ^ tag, and remember the last write. */
typedef struct {
    uint32_t tag;
    uint64_t last_off;
    uint32_t last_val;
} TestDev;

static uint32_t tdev_read(void *o, uint64_t off, unsigned size)
{
    return ((TestDev *)o)->tag ^ (uint32_t)off;
}
static void tdev_write(void *o, uint64_t off, uint32_t v, unsigned size)
{
    TestDev *t = o;
    t->last_off = off;
    t->last_val = v;
}
static const MemOps tdev_ops = {tdev_read, tdev_write, 1, 4};

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->mem, "mem", 1ull << 32);
    as_init(&r->io, "io", 0x10000);
    IrqLine isa[16];
    for (int i = 0; i < 16; i++)
        isa[i] = (IrqLine){isa_set, r, i};
    r->bus = i440fx_new(&r->mem, &r->io, pam_cb, r);
    r->piix = piix_new(r->bus, &r->io, isa, reset_cb, r);
    device_reset_all(&(DeviceList){pci_bus_device(r->bus)});
}

static void rig_free(Rig *r)
{
    pci_bus_free(r->bus);
    as_destroy(&r->mem);
    as_destroy(&r->io);
}

static uint32_t cfg_read(Rig *r, int slot, int func, unsigned reg, unsigned size)
{
    as_write(&r->io, 0xcf8, 0x80000000u | slot << 11 | func << 8 | (reg & 0xfc), 4);
    return as_read(&r->io, 0xcfc + (reg & 3), size);
}

static void cfg_write(Rig *r, int slot, int func, unsigned reg, uint32_t v, unsigned size)
{
    as_write(&r->io, 0xcf8, 0x80000000u | slot << 11 | func << 8 | (reg & 0xfc), 4);
    as_write(&r->io, 0xcfc + (reg & 3), v, size);
}

static PciDevice *add_test_dev(Rig *r, int slot, TestDev *t)
{
    PciDevice *d = pci_register_device(r->bus, slot, 0, "test", 0x1af4, 0x1000, 0, 0x020000);
    CHECK(d != NULL);
    CHECK(pci_register_bar(d, 0, 32, true, &tdev_ops, t));
    CHECK(pci_register_bar(d, 1, 4096, false, &tdev_ops, t));
    pci_set_byte(d, PCI_INTERRUPT_PIN, 1);
    return d;
}

TEST(config_mechanism_1)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ(cfg_read(&r, 0, 0, 0, 4), 0x12378086);
    CHECK_EQ(cfg_read(&r, 1, 0, 0, 4), 0x70008086);
    CHECK_EQ(cfg_read(&r, 1, 0, 0x0a, 2), 0x0601);
    CHECK_EQ(cfg_read(&r, 1, 0, 0x0e, 1), 0x80);
    CHECK_EQ(cfg_read(&r, 0, 0, 0x0b, 1), 0x06);
    CHECK_EQ(cfg_read(&r, 5, 0, 0, 4), 0xffffffff); /* empty slot */
    CHECK_EQ(cfg_read(&r, 1, 3, 0, 2), 0xffff);     /* absent function */
    /* CONFIG_ADDRESS reads back; bit 31 clear means no configuration cycle. */
    as_write(&r.io, 0xcf8, 0x80000810, 4);
    CHECK_EQ(as_read(&r.io, 0xcf8, 4), 0x80000810);
    as_write(&r.io, 0xcf8, 0x00000000, 4);
    CHECK_EQ(as_read(&r.io, 0xcfc, 4), 0xffffffff);
    /* Bus 1 does not exist. */
    as_write(&r.io, 0xcf8, 0x80010000, 4);
    CHECK_EQ(as_read(&r.io, 0xcfc, 4), 0xffffffff);
    /* Byte accesses to 0xcfb do not disturb CONFIG_ADDRESS (Linux's type-1 probe). */
    as_write(&r.io, 0xcf8, 0x80000000, 4);
    as_write(&r.io, 0xcfb, 0x01, 1);
    CHECK_EQ(as_read(&r.io, 0xcf8, 4), 0x80000000);
    /* Read-only fields ignore writes; the latency timer is writable. */
    cfg_write(&r, 0, 0, 0, 0xdeadbeef, 4);
    CHECK_EQ(cfg_read(&r, 0, 0, 0, 4), 0x12378086);
    cfg_write(&r, 0, 0, 0x0d, 0x40, 1);
    CHECK_EQ(cfg_read(&r, 0, 0, 0x0c, 4), 0x00004000);
    rig_free(&r);
}

TEST(bar_sizing_and_moving)
{
    Rig r;
    rig_init(&r);
    TestDev t = {.tag = 0xabcd0000};
    PciDevice *d = add_test_dev(&r, 3, &t);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x10, 4), 0x00000001);
    cfg_write(&r, 3, 0, 0x10, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x10, 4), 0xffffffe1);
    cfg_write(&r, 3, 0, 0x14, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x14, 4), 0xfffff000);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x18, 4), 0); /* unimplemented BAR */
    cfg_write(&r, 3, 0, 0x18, 0xffffffff, 4);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x18, 4), 0);
    /* Sizing with decoding on must not map anything at the all-ones address. */
    cfg_write(&r, 3, 0, 0x04, 0x0003, 2);
    CHECK_EQ(pci_bar_address(d, 1), PCI_BAR_UNMAPPED);
    CHECK_EQ(as_read(&r.mem, 0xfffff000, 4), 0xffffffff);
    cfg_write(&r, 3, 0, 0x10, 0xc000, 4);
    cfg_write(&r, 3, 0, 0x14, 0xfebf0000, 4);
    CHECK_EQ(pci_bar_address(d, 0), 0xc000);
    CHECK_EQ(pci_bar_address(d, 1), 0xfebf0000);
    CHECK_EQ(as_read(&r.io, 0xc004, 4), 0xabcd0004);
    CHECK_EQ(as_read(&r.mem, 0xfebf0010, 4), 0xabcd0010);
    as_write(&r.mem, 0xfebf0ff0, 0x1234, 2);
    CHECK_EQ(t.last_off, 0xff0);
    CHECK_EQ(t.last_val, 0x1234);
    /* Low bits of the BAR are read-only and the address is aligned to the size. */
    cfg_write(&r, 3, 0, 0x10, 0xc01f, 4);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x10, 4), 0xc001);
    /* Move the memory BAR. */
    cfg_write(&r, 3, 0, 0x14, 0xfebe0000, 4);
    CHECK_EQ(as_read(&r.mem, 0xfebf0010, 4), 0xffffffff);
    CHECK_EQ(as_read(&r.mem, 0xfebe0010, 4), 0xabcd0010);
    /* Turning memory decoding off unmaps only the memory BAR. */
    cfg_write(&r, 3, 0, 0x04, 0x0001, 2);
    CHECK_EQ(as_read(&r.mem, 0xfebe0010, 4), 0xffffffff);
    CHECK_EQ(as_read(&r.io, 0xc000, 1), 0x00);
    /* Word write to the upper half of a BAR. */
    cfg_write(&r, 3, 0, 0x04, 0x0003, 2);
    cfg_write(&r, 3, 0, 0x16, 0xfe00, 2);
    CHECK_EQ(pci_bar_address(d, 1), 0xfe000000);
    CHECK_EQ(as_read(&r.mem, 0xfe000008, 4), 0xabcd0008);
    /* An I/O BAR beyond 64 KiB is not decoded. */
    cfg_write(&r, 3, 0, 0x10, 0x10000, 4);
    CHECK_EQ(pci_bar_address(d, 0), PCI_BAR_UNMAPPED);
    CHECK_EQ(as_read(&r.io, 0xc004, 4), 0xffffffff);
    /* Bus reset: decoding off, BARs back to 0. */
    device_reset_all(&(DeviceList){pci_bus_device(r.bus)});
    CHECK_EQ(cfg_read(&r, 3, 0, 0x04, 2), 0);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x14, 4), 0);
    CHECK_EQ(as_read(&r.mem, 0xfe000008, 4), 0xffffffff);
    /* Bad registrations are refused. */
    CHECK(!pci_register_bar(d, 1, 16, false, &tdev_ops, &t));
    CHECK(!pci_register_bar(d, 6, 16, false, &tdev_ops, &t));
    CHECK(!pci_register_bar(d, 2, 4096, true, &tdev_ops, &t));
    CHECK(pci_register_device(r.bus, 3, 0, "dup", 1, 2, 0, 0) == NULL);
    rig_free(&r);
}

TEST(pirq_routing_and_sharing)
{
    Rig r;
    rig_init(&r);
    TestDev t1 = {0}, t2 = {0};
    PciDevice *a = add_test_dev(&r, 3, &t1); /* INTA of slot 3 -> PIRQC */
    PciDevice *b = add_test_dev(&r, 7, &t2); /* INTA of slot 7 -> PIRQC as well */
    cfg_write(&r, 1, 0, 0x62, 11, 1);
    CHECK_EQ(cfg_read(&r, 1, 0, 0x60, 4), 0x800b8080);
    pci_set_irq(a, 1);
    CHECK_EQ(r.isa[11], 1);
    CHECK(cfg_read(&r, 3, 0, 0x06, 2) & PCI_STATUS_INTERRUPT);
    pci_set_irq(b, 1);
    pci_set_irq(a, 0);
    CHECK_EQ(r.isa[11], 1); /* b still asserts */
    CHECK(!(cfg_read(&r, 3, 0, 0x06, 2) & PCI_STATUS_INTERRUPT));
    pci_set_irq(b, 0);
    CHECK_EQ(r.isa[11], 0);
    /* Re-routing while asserted moves the level. */
    pci_set_irq(a, 1);
    cfg_write(&r, 1, 0, 0x62, 10, 1);
    CHECK_EQ(r.isa[11], 0);
    CHECK_EQ(r.isa[10], 1);
    /* Disabled route and reserved IRQs drive nothing. */
    cfg_write(&r, 1, 0, 0x62, 0x8a, 1);
    CHECK_EQ(r.isa[10], 0);
    cfg_write(&r, 1, 0, 0x62, 0x02, 1);
    CHECK_EQ(r.isa[2], 0);
    /* INTx disable masks the device but keeps the status bit. */
    cfg_write(&r, 1, 0, 0x62, 10, 1);
    CHECK_EQ(r.isa[10], 1);
    cfg_write(&r, 3, 0, 0x04, 0x0400, 2);
    CHECK_EQ(r.isa[10], 0);
    CHECK(cfg_read(&r, 3, 0, 0x06, 2) & PCI_STATUS_INTERRUPT);
    cfg_write(&r, 3, 0, 0x04, 0x0000, 2);
    CHECK_EQ(r.isa[10], 1);
    /* Two PIRQs steered to one IRQ. */
    pci_set_irq(a, 0);
    PciDevice *c = add_test_dev(&r, 4, &t2); /* slot 4 INTA -> PIRQD */
    cfg_write(&r, 1, 0, 0x63, 10, 1);
    pci_set_irq(a, 1);
    pci_set_irq(c, 1);
    pci_set_irq(a, 0);
    CHECK_EQ(r.isa[10], 1);
    pci_set_irq(c, 0);
    CHECK_EQ(r.isa[10], 0);
    rig_free(&r);
}

TEST(firmware_irq_assignment)
{
    Rig r;
    rig_init(&r);
    TestDev t = {0};
    add_test_dev(&r, 3, &t); /* PIRQC */
    add_test_dev(&r, 2, &t); /* PIRQB */
    piix_assign_irqs(r.piix, NULL);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x3c, 1), 11);
    CHECK_EQ(cfg_read(&r, 2, 0, 0x3c, 1), 10);
    CHECK_EQ(cfg_read(&r, 1, 0, 0x60, 4), 0x0b0b0a0a);
    rig_free(&r);
}

TEST(capabilities)
{
    Rig r;
    rig_init(&r);
    TestDev t = {0};
    PciDevice *d = add_test_dev(&r, 3, &t);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x06, 2) & PCI_STATUS_CAP_LIST, 0);
    uint8_t c1 = pci_add_capability(d, PCI_CAP_ID_VNDR, 14);
    uint8_t c2 = pci_add_capability(d, 0x05, 10);
    CHECK_EQ(c1, 0x40);
    CHECK_EQ(c2, 0x50);
    CHECK(cfg_read(&r, 3, 0, 0x06, 2) & PCI_STATUS_CAP_LIST);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x34, 1), 0x40);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x40, 2), 0x5009);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x50, 2), 0x0005);
    CHECK_EQ(pci_find_capability(d, 0x05), 0x50);
    CHECK_EQ(pci_find_capability(d, 0x11), 0);
    /* Capability bodies are read-only unless the device opens them up. */
    d->wmask[c1 + 4] = 0xff;
    cfg_write(&r, 3, 0, c1 + 4, 0x12345678, 4);
    CHECK_EQ(cfg_read(&r, 3, 0, c1 + 4, 4), 0x78);
    cfg_write(&r, 3, 0, 0x40, 0xffff, 2);
    CHECK_EQ(cfg_read(&r, 3, 0, 0x40, 2), 0x5009);
    /* Filling config space ends with 0. */
    int n = 0;
    while (pci_add_capability(d, 0x09, 16))
        n++;
    CHECK_EQ(n, (256 - 0x5c) / 16);
    rig_free(&r);
}

TEST(reset_control_pam_and_multifunction)
{
    Rig r;
    rig_init(&r);
    CHECK(r.pam_calls >= 1);
    cfg_write(&r, 0, 0, 0x5a, 0x33, 1);
    CHECK_EQ(r.pam[1], 0x33);
    cfg_write(&r, 0, 0, 0x59, 0xff, 1);
    CHECK_EQ(r.pam[0], 0x30);
    as_write(&r.io, 0xcf8, 0x80000000, 4);
    as_write(&r.io, 0xcf9, 0x02, 1);
    CHECK_EQ(r.resets, 0);
    as_write(&r.io, 0xcf9, 0x06, 1);
    CHECK_EQ(r.resets, 1);
    CHECK_EQ(as_read(&r.io, 0xcf9, 1), 0x02);
    CHECK_EQ(as_read(&r.io, 0xcf8, 4), 0x80000000);
    /* Adding function 1 marks function 0 multi-function. */
    PciDevice *f0 = pci_register_device(r.bus, 9, 0, "f0", 1, 2, 0, 0);
    CHECK_EQ(pci_get_byte(f0, PCI_HEADER_TYPE), 0);
    pci_register_device(r.bus, 9, 1, "f1", 1, 3, 0, 0);
    CHECK_EQ(cfg_read(&r, 9, 0, 0x0e, 1), 0x80);
    CHECK_EQ(cfg_read(&r, 9, 1, 0x00, 4), 0x00030001);
    /* Auto slot allocation picks the first free slot. */
    PciDevice *a = pci_register_device(r.bus, -1, 0, "auto", 1, 4, 0, 0);
    CHECK_EQ(a->devfn, PCI_DEVFN(2, 0));
    rig_free(&r);
}
