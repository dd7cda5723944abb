/* i440FX host bridge (Intel 82441FX PMC datasheet, configuration registers 0x50-0x93): an
 * identity on the bus plus stored chipset registers; PAM/SMRAM changes go to the board. */
#include "hw/pci/i440fx.h"

#include <stdlib.h>

#include "util/alloc.h"

enum { PMC_PAM0 = 0x59, PMC_SMRAM = 0x72 };

typedef struct I440fx {
    void (*pam_changed)(void *opaque, const uint8_t pam[7], uint8_t smram);
    void *opaque;
} I440fx;

static void pmc_notify(PciDevice *d)
{
    I440fx *s = d->opaque;
    if (s->pam_changed) s->pam_changed(s->opaque, &d->config[PMC_PAM0], d->config[PMC_SMRAM]);
}

static void pmc_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size)
{
    pci_default_config_write(d, off, val, size);
    if ((off < PMC_PAM0 + 7 && off + size > PMC_PAM0) ||
        (off <= PMC_SMRAM && off + size > PMC_SMRAM))
        pmc_notify(d);
}

static void pmc_reset(PciDevice *d)
{
    for (int i = 0; i < 7; i++)
        d->config[PMC_PAM0 + i] = 0;
    d->config[PMC_SMRAM] = 0x02; /* compatible SMRAM base segment A0000 */
    pmc_notify(d);
}

static void pmc_destroy(PciDevice *d)
{
    free(d->opaque);
}

PciBus *i440fx_new(AddressSpace *mem, AddressSpace *io,
                   void (*pam_changed)(void *opaque, const uint8_t pam[7], uint8_t smram),
                   void *opaque)
{
    PciBus *bus = pci_bus_new(mem, io);
    PciDevice *d = pci_register_device(bus, 0, 0, "i440fx", 0x8086, 0x1237, 0x02, 0x060000);
    I440fx *s = XNEW(I440fx);
    s->pam_changed = pam_changed;
    s->opaque = opaque;
    d->opaque = s;
    d->config_write = pmc_config_write;
    d->reset = pmc_reset;
    d->destroy = pmc_destroy;
    /* Chipset configuration (PMCCFG, DBC, DRAM control/timing, DRB, FDHC, MTT, CLT, error
     * registers) is plain storage for firmware. */
    for (unsigned o = 0x50; o <= 0x58; o++)
        d->wmask[o] = 0xff;
    d->wmask[PMC_PAM0] = 0x30; /* PAM0 covers only the BIOS area 0xf0000 */
    for (unsigned o = PMC_PAM0 + 1; o < PMC_PAM0 + 7; o++)
        d->wmask[o] = 0x33;
    for (unsigned o = 0x60; o <= 0x71; o++)
        d->wmask[o] = 0xff;
    d->wmask[PMC_SMRAM] = 0x78;
    d->wmask[0x90] = d->wmask[0x93] = 0xff;
    d->w1cmask[0x91] = 0xff;
    d->config[PMC_SMRAM] = 0x02;
    return bus;
}
