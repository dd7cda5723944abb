/* Intel 82441FX PCI and memory controller (the i440FX "PMC" host bridge) at 00.0. */
#ifndef HW_PCI_I440FX_H
#define HW_PCI_I440FX_H

#include <stdint.h>

#include "core/memory.h"
#include "hw/pci/pci.h"

/* Creates PCI bus 0 (configuration mechanism #1 at 0xcf8/0xcfc in io, BARs in mem/io) with the
 * host bridge 8086:1237 at 00.0, and returns the bus. The PAM registers (0x59-0x5f, shadow RAM
 * control of 0xc0000-0xfffff) and SMRAM (0x72) are stored; pam_changed (may be NULL) is called
 * after the guest changes any of them, and at reset, so the board can remap RAM/ROM there.
 * The bridge is freed with the bus. */
PciBus *i440fx_new(AddressSpace *mem, AddressSpace *io,
                   void (*pam_changed)(void *opaque, const uint8_t pam[7], uint8_t smram),
                   void *opaque);

#endif
