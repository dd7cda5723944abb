/* PIIX3 ISA bridge (Intel 82371SB datasheet: PIRQRC[A:D] at 0x60-0x63, reset control register
 * at 0xcf9) acting as the PCI interrupt router of the bus. */
#include "hw/pci/piix.h"

#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

enum { PIIX_PIRQRC = 0x60, PIRQ_DISABLE = 0x80, RC_SRST = 0x02, RC_RCPU = 0x04 };

/* ISA IRQs a PIRQ may be steered to (0-2, 8 and 13 are reserved in PIRQRC). */
#define PIRQ_VALID_IRQS 0xdef8u

struct Piix {
    PciDevice *dev;
    AddressSpace *io;
    IrqLine isa_irq[16];
    int pirq_level[4];
    uint16_t driven; /* ISA IRQs we have raised and must lower when they lose their PIRQ */
    uint8_t rc;      /* reset control register */
    void (*request_reset)(void *opaque);
    void *opaque;
};

static int piix_map_irq(PciDevice *d, int pin)
{
    int slot = d->devfn >> 3;
    return (slot - 1 + pin - 1) & 3;
}

static int pirq_target(const Piix *p, int pirq)
{
    uint8_t r = p->dev->config[PIIX_PIRQRC + pirq];
    int irq = r & 15;
    if ((r & PIRQ_DISABLE) || !(PIRQ_VALID_IRQS >> irq & 1)) return -1;
    return irq;
}

/* Drive every ISA IRQ from the PIRQs steered to it (several PIRQs may share one IRQ). */
static void piix_update(Piix *p)
{
    uint16_t level = 0;
    for (int i = 0; i < 4; i++) {
        int irq = pirq_target(p, i);
        if (irq >= 0 && p->pirq_level[i]) level |= 1u << irq;
    }
    for (int n = 0; n < 16; n++) {
        uint16_t bit = 1u << n;
        bool want = level & bit;
        bool had = p->driven & bit;
        if (want && !had) {
            irq_raise(&p->isa_irq[n]);
            p->driven |= bit;
        } else if (!want && had) {
            irq_lower(&p->isa_irq[n]);
            p->driven &= ~bit;
        }
    }
}

static void piix_set_pirq(void *opaque, int pirq, int level)
{
    Piix *p = opaque;
    p->pirq_level[pirq & 3] = level;
    piix_update(p);
}

static void piix_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size)
{
    pci_default_config_write(d, off, val, size);
    if (off < PIIX_PIRQRC + 4 && off + size > PIIX_PIRQRC) piix_update(d->opaque);
}

static void piix_reset(PciDevice *d)
{
    Piix *p = d->opaque;
    for (int i = 0; i < 4; i++)
        d->config[PIIX_PIRQRC + i] = PIRQ_DISABLE;
    p->rc = 0;
    piix_update(p);
}

static void piix_destroy(PciDevice *d)
{
    free(d->opaque);
}

static uint8_t piix_rc_read(void *opaque)
{
    return ((Piix *)opaque)->rc;
}

static void piix_rc_write(void *opaque, uint8_t val)
{
    Piix *p = opaque;
    /* A 0->1 transition of RCPU resets the CPU (soft or hard per SRST: both are a machine
     * reset for us). RCPU itself does not stay set. */
    bool go = (val & RC_RCPU) && !(p->rc & RC_RCPU);
    p->rc = val & RC_SRST;
    if (go && p->request_reset) p->request_reset(p->opaque);
}

Piix *piix_new(PciBus *bus, AddressSpace *io, const IrqLine isa_irq[16],
               void (*request_reset)(void *opaque), void *opaque)
{
    PciDevice *d = pci_register_device(bus, 1, 0, "piix3", 0x8086, 0x7000, 0x00, 0x060100);
    if (!d) return NULL;
    Piix *p = XNEW(Piix);
    p->dev = d;
    p->io = io;
    for (int i = 0; i < 16; i++)
        p->isa_irq[i] = isa_irq[i];
    p->request_reset = request_reset;
    p->opaque = opaque;
    d->opaque = p;
    d->config_write = piix_config_write;
    d->reset = piix_reset;
    d->destroy = piix_destroy;
    /* The PIIX3 is multi-function (IDE, USB) on real boards; say so even though only function
     * 0 exists here, as guests expect. */
    d->config[PCI_HEADER_TYPE] = 0x80;
    /* Bridge configuration (IORT, XBCS, TOM, MSTAT, motherboard IRQ/DMA, APIC base, DLC, SMI
     * and power management) is plain storage for firmware. */
    for (unsigned o = 0x4c; o <= 0x4f; o++)
        d->wmask[o] = 0xff;
    for (int i = 0; i < 4; i++) {
        d->wmask[PIIX_PIRQRC + i] = 0x8f;
        d->config[PIIX_PIRQRC + i] = PIRQ_DISABLE;
    }
    for (unsigned o = 0x69; o <= 0xab; o++)
        d->wmask[o] = 0xff;
    pci_bus_set_irq_router(bus, piix_map_irq, piix_set_pirq, p);
    pci_bus_set_reset_control(bus, piix_rc_read, piix_rc_write, p);
    return p;
}

static void assign_line(PciDevice *d, void *opaque)
{
    Piix *p = opaque;
    int pin = pci_get_byte(d, PCI_INTERRUPT_PIN);
    if (pin < 1 || pin > 4) return;
    int irq = pirq_target(p, piix_map_irq(d, pin));
    pci_set_byte(d, PCI_INTERRUPT_LINE, irq < 0 ? 0xff : (uint8_t)irq);
}

void piix_assign_irqs(Piix *piix, const uint8_t irqs[4])
{
    static const uint8_t defaults[4] = {10, 10, 11, 11};
    if (!irqs) irqs = defaults;
    uint16_t level_irqs = 0;
    for (int i = 0; i < 4; i++) {
        pci_config_write(piix->dev->bus, piix->dev->devfn, PIIX_PIRQRC + i, irqs[i], 1);
        int irq = pirq_target(piix, i);
        if (irq >= 0) level_irqs |= 1u << irq;
    }
    /* PCI interrupts are level-triggered and shareable: tell the PIC through the ELCR. */
    uint8_t lo = as_read(piix->io, 0x4d0, 1), hi = as_read(piix->io, 0x4d1, 1);
    as_write(piix->io, 0x4d0, lo | (level_irqs & 0xff), 1);
    as_write(piix->io, 0x4d1, hi | (level_irqs >> 8), 1);
    pci_for_each_device(piix->dev->bus, assign_line, piix);
}
