/* Virtio over PCI, modern interface only (virtio 1.x spec 4.1): vendor-specific capabilities
 * for the common, notify, ISR and device structures in one 32-bit memory BAR; INTx. */
#ifndef HW_VIRTIO_VIRTIO_PCI_H
#define HW_VIRTIO_VIRTIO_PCI_H

#include <stddef.h>
#include <stdint.h>

#include "hw/pci/pci.h"
#include "hw/virtio/virtio.h"

enum {
    VIRTIO_PCI_VENDOR_ID = 0x1af4,
    VIRTIO_PCI_DEVICE_ID_BASE = 0x1040, /* + virtio device type */
    VIRTIO_PCI_SUBSYSTEM_ID = 0x1100,   /* what QEMU's modern devices report */

    /* Our BAR layout: each structure on its own 4 KiB page. */
    VIRTIO_PCI_BAR = 4,
    VIRTIO_PCI_BAR_SIZE = 0x4000,
    VIRTIO_PCI_COMMON_OFF = 0x0000,
    VIRTIO_PCI_ISR_OFF = 0x1000,
    VIRTIO_PCI_DEVICE_OFF = 0x2000,
    VIRTIO_PCI_NOTIFY_OFF = 0x3000,
    VIRTIO_PCI_NOTIFY_MULTIPLIER = 4,

    /* virtio_pci_cap.cfg_type (4.1.4). */
    VIRTIO_PCI_CAP_COMMON_CFG = 1,
    VIRTIO_PCI_CAP_NOTIFY_CFG = 2,
    VIRTIO_PCI_CAP_ISR_CFG = 3,
    VIRTIO_PCI_CAP_DEVICE_CFG = 4,
    VIRTIO_PCI_CAP_PCI_CFG = 5,

    /* struct virtio_pci_common_cfg (4.1.4.3). */
    VIRTIO_PCI_COMMON_DFSELECT = 0x00,
    VIRTIO_PCI_COMMON_DF = 0x04,
    VIRTIO_PCI_COMMON_GFSELECT = 0x08,
    VIRTIO_PCI_COMMON_GF = 0x0c,
    VIRTIO_PCI_COMMON_MSIX = 0x10,
    VIRTIO_PCI_COMMON_NUMQ = 0x12,
    VIRTIO_PCI_COMMON_STATUS = 0x14,
    VIRTIO_PCI_COMMON_CFGGENERATION = 0x15,
    VIRTIO_PCI_COMMON_Q_SELECT = 0x16,
    VIRTIO_PCI_COMMON_Q_SIZE = 0x18,
    VIRTIO_PCI_COMMON_Q_MSIX = 0x1a,
    VIRTIO_PCI_COMMON_Q_ENABLE = 0x1c,
    VIRTIO_PCI_COMMON_Q_NOFF = 0x1e,
    VIRTIO_PCI_COMMON_Q_DESC = 0x20,
    VIRTIO_PCI_COMMON_Q_AVAIL = 0x28,
    VIRTIO_PCI_COMMON_Q_USED = 0x30,
    VIRTIO_PCI_COMMON_SIZE = 0x38,

    VIRTIO_MSI_NO_VECTOR = 0xffff,
};

/* Put vdev on bus at slot (-1: the first free one) as function 0 with the given 24-bit class
 * code. From then on the transport owns vdev: vdev->ops->destroy runs when the bus is freed,
 * and bus resets reset the device. Returns NULL with a one-line message if the slot is taken
 * (vdev is then still the caller's). */
PciDevice *virtio_pci_new(PciBus *bus, int slot, VirtioDevice *vdev, uint32_t class_code, char *err,
                          size_t errlen);
VirtioDevice *virtio_pci_vdev(PciDevice *d);

#endif
