/* virtio-blk over PCI (virtio 1.x spec 5.2): one request queue; read, write, flush, get-id,
 * discard and write-zeroes through the block layer. */
#ifndef HW_VIRTIO_VIRTIO_BLK_H
#define HW_VIRTIO_VIRTIO_BLK_H

#include <stddef.h>

#include "block/block.h"
#include "core/memory.h"
#include "hw/pci/pci.h"

/* Add a virtio-blk-pci function at slot (-1: first free) serving bs, with guest memory mem.
 * serial (may be NULL) is what GET_ID returns, up to 20 bytes. On success the device owns bs
 * (closed when the bus is freed); on failure (NULL, message in err) bs is still the
 * caller's. A read-only bs gives a read-only disk (VIRTIO_BLK_F_RO). */
PciDevice *virtio_blk_new(PciBus *bus, int slot, AddressSpace *mem, BlockDriverState *bs,
                          const char *serial, char *err, size_t errlen);

#endif
