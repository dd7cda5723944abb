/* virtio-net over PCI (virtio 1.x spec 5.1): one receive and one transmit queue, MAC and link
 * status in the configuration, mergeable receive buffers, no offloads; frames go to and come
 * from a NetPort back end. */
#ifndef HW_VIRTIO_VIRTIO_NET_H
#define HW_VIRTIO_VIRTIO_NET_H

#include <stddef.h>
#include <stdint.h>

#include "core/memory.h"
#include "hw/pci/pci.h"
#include "net/net.h"

/* Add a virtio-net-pci function at slot (-1: first free) attached to port (NULL: no back end,
 * transmitted frames vanish), with guest memory mem. mac NULL gives 52:54:00:12:34:56. On
 * success the device owns port (closed when the bus is freed); on failure (NULL, message in
 * err) port is still the caller's. */
PciDevice *virtio_net_new(PciBus *bus, int slot, AddressSpace *mem, NetPort *port,
                          const uint8_t mac[6], char *err, size_t errlen);

#endif
