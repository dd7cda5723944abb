/* virtio-console over PCI (virtio 1.x spec 5.3) with a single port (no MULTIPORT): Linux's
 * hvc0, connected to a character back end. */
#ifndef HW_VIRTIO_VIRTIO_CONSOLE_H
#define HW_VIRTIO_VIRTIO_CONSOLE_H

#include <stddef.h>

#include "chardev/chardev.h"
#include "core/memory.h"
#include "hw/pci/pci.h"

/* Add a virtio-serial-pci function at slot (-1: first free) whose console port talks to chr
 * (NULL: output is dropped and there is no input). The device becomes chr's front end; chr
 * is not owned and must stay open until the bus is freed. Returns NULL with a message in err
 * if the slot is taken. */
PciDevice *virtio_console_new(PciBus *bus, int slot, AddressSpace *mem, Chardev *chr, char *err,
                              size_t errlen);

#endif
