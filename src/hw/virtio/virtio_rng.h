/* virtio-rng over PCI (virtio 1.x spec 5.4): an entropy source filled from the host's
 * getrandom(). */
#ifndef HW_VIRTIO_VIRTIO_RNG_H
#define HW_VIRTIO_VIRTIO_RNG_H

#include <stddef.h>

#include "core/memory.h"
#include "hw/pci/pci.h"

/* Add a virtio-rng-pci function at slot (-1: first free). NULL with a message in err if the
 * slot is taken. */
PciDevice *virtio_rng_new(PciBus *bus, int slot, AddressSpace *mem, char *err, size_t errlen);

#endif
