/* Virtio PCI modern transport (virtio 1.x spec 4.1.4: virtio structure PCI capabilities,
 * 4.1.4.3 common configuration, 4.1.4.4 notification, 4.1.4.5 ISR status, 4.1.4.6 device
 * configuration, 4.1.4.9 PCI configuration access; 4.1.5.3-4.1.5.4 INTx notifications). */
#include "hw/virtio/virtio_pci.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

typedef struct VirtioPci {
    PciDevice *pci;
    VirtioDevice *vdev;
    uint32_t dfselect, gfselect;
    uint16_t queue_select;
    uint8_t cfg_cap; /* config-space offset of the PCI configuration access capability */
} VirtioPci;

enum { CAP_BAR = 4, CAP_OFFSET = 8, CAP_LENGTH = 12, CAP_DATA = 16 };

/* ---- common configuration ---- */

static Virtqueue *vpci_queue(VirtioPci *p)
{
    return p->queue_select < p->vdev->num_queues ? &p->vdev->vq[p->queue_select] : NULL;
}

/* The structure as the driver would see it now; reads and writes of any width work on this
 * image, so odd accesses behave consistently. */
static void vpci_common_image(VirtioPci *p, uint8_t *img)
{
    VirtioDevice *vdev = p->vdev;
    Virtqueue *vq = vpci_queue(p);
    memset(img, 0, VIRTIO_PCI_COMMON_SIZE);
    virtio_stl(img + VIRTIO_PCI_COMMON_DFSELECT, p->dfselect);
    if (p->dfselect < 2)
        virtio_stl(img + VIRTIO_PCI_COMMON_DF,
                   (uint32_t)(vdev->host_features >> (32 * p->dfselect)));
    virtio_stl(img + VIRTIO_PCI_COMMON_GFSELECT, p->gfselect);
    if (p->gfselect < 2)
        virtio_stl(img + VIRTIO_PCI_COMMON_GF,
                   (uint32_t)(vdev->guest_features >> (32 * p->gfselect)));
    virtio_stw(img + VIRTIO_PCI_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
    virtio_stw(img + VIRTIO_PCI_COMMON_NUMQ, (uint16_t)vdev->num_queues);
    img[VIRTIO_PCI_COMMON_STATUS] = vdev->status;
    img[VIRTIO_PCI_COMMON_CFGGENERATION] = vdev->config_generation;
    virtio_stw(img + VIRTIO_PCI_COMMON_Q_SELECT, p->queue_select);
    virtio_stw(img + VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    if (!vq) return; /* queue_size 0: no such queue */
    virtio_stw(img + VIRTIO_PCI_COMMON_Q_SIZE, vq->num);
    virtio_stw(img + VIRTIO_PCI_COMMON_Q_ENABLE, vq->enabled);
    virtio_stw(img + VIRTIO_PCI_COMMON_Q_NOFF, vq->index);
    virtio_stq(img + VIRTIO_PCI_COMMON_Q_DESC, vq->desc_addr);
    virtio_stq(img + VIRTIO_PCI_COMMON_Q_AVAIL, vq->avail_addr);
    virtio_stq(img + VIRTIO_PCI_COMMON_Q_USED, vq->used_addr);
}

static uint32_t vpci_common_read(VirtioPci *p, uint64_t off, unsigned size)
{
    uint8_t img[VIRTIO_PCI_COMMON_SIZE];
    vpci_common_image(p, img);
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        if (off + i < VIRTIO_PCI_COMMON_SIZE) v |= (uint32_t)img[off + i] << (8 * i);
    return v;
}

static void vpci_common_field(VirtioPci *p, unsigned field, const uint8_t *img)
{
    VirtioDevice *vdev = p->vdev;
    Virtqueue *vq = vpci_queue(p);
    /* Queue configuration is frozen while the queue is enabled (4.1.4.3.2). */
    bool q_writable = vq && !vq->enabled;
    switch (field) {
    case VIRTIO_PCI_COMMON_DFSELECT: p->dfselect = virtio_ldl(img + field); break;
    case VIRTIO_PCI_COMMON_GFSELECT: p->gfselect = virtio_ldl(img + field); break;
    case VIRTIO_PCI_COMMON_GF:
        virtio_set_driver_features(vdev, p->gfselect, virtio_ldl(img + field));
        break;
    case VIRTIO_PCI_COMMON_STATUS:
        virtio_set_status(vdev, img[field]);
        if (img[field] == 0) p->dfselect = p->gfselect = p->queue_select = 0;
        break;
    case VIRTIO_PCI_COMMON_Q_SELECT: p->queue_select = virtio_ldw(img + field); break;
    case VIRTIO_PCI_COMMON_Q_SIZE:
        if (q_writable) vq->num = virtio_ldw(img + field);
        break;
    case VIRTIO_PCI_COMMON_Q_ENABLE:
        if (vq && virtio_ldw(img + field) == 1) virtio_queue_enable(vdev, vq->index);
        break;
    case VIRTIO_PCI_COMMON_Q_DESC:
        if (q_writable) vq->desc_addr = virtio_ldq(img + field);
        break;
    case VIRTIO_PCI_COMMON_Q_AVAIL:
        if (q_writable) vq->avail_addr = virtio_ldq(img + field);
        break;
    case VIRTIO_PCI_COMMON_Q_USED:
        if (q_writable) vq->used_addr = virtio_ldq(img + field);
        break;
    default: break; /* read-only, or MSI-X vectors we do not have (they read NO_VECTOR) */
    }
}

static void vpci_common_write(VirtioPci *p, uint64_t off, uint32_t val, unsigned size)
{
    static const struct {
        uint8_t off, size;
    } fields[] = {
        {VIRTIO_PCI_COMMON_DFSELECT, 4}, {VIRTIO_PCI_COMMON_GFSELECT, 4},
        {VIRTIO_PCI_COMMON_GF, 4},       {VIRTIO_PCI_COMMON_STATUS, 1},
        {VIRTIO_PCI_COMMON_Q_SELECT, 2}, {VIRTIO_PCI_COMMON_Q_SIZE, 2},
        {VIRTIO_PCI_COMMON_Q_ENABLE, 2}, {VIRTIO_PCI_COMMON_Q_DESC, 8},
        {VIRTIO_PCI_COMMON_Q_AVAIL, 8},  {VIRTIO_PCI_COMMON_Q_USED, 8},
    };
    if (off >= VIRTIO_PCI_COMMON_SIZE) return;
    uint8_t img[VIRTIO_PCI_COMMON_SIZE];
    vpci_common_image(p, img);
    for (unsigned i = 0; i < size && off + i < VIRTIO_PCI_COMMON_SIZE; i++)
        img[off + i] = (uint8_t)(val >> (8 * i));
    /* Commit every writable field the access touched (a 32-bit write to half of a 64-bit
     * address updates that half). */
    for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
        if (off < fields[i].off + fields[i].size && off + size > fields[i].off)
            vpci_common_field(p, fields[i].off, img);
}

/* ---- the BAR ---- */

static uint32_t vpci_bar_read(void *opaque, uint64_t off, unsigned size)
{
    VirtioPci *p = opaque;
    VirtioDevice *vdev = p->vdev;
    if (off < VIRTIO_PCI_ISR_OFF) return vpci_common_read(p, off - VIRTIO_PCI_COMMON_OFF, size);
    if (off < VIRTIO_PCI_DEVICE_OFF)
        return off == VIRTIO_PCI_ISR_OFF ? virtio_isr_read_clear(vdev) : 0;
    if (off < VIRTIO_PCI_NOTIFY_OFF) {
        uint64_t o = off - VIRTIO_PCI_DEVICE_OFF;
        uint32_t v = 0;
        for (unsigned i = 0; i < size; i++)
            if (o + i < vdev->config_len) v |= (uint32_t)vdev->config[o + i] << (8 * i);
        return v;
    }
    return 0;
}

static void vpci_bar_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    VirtioPci *p = opaque;
    VirtioDevice *vdev = p->vdev;
    if (off < VIRTIO_PCI_ISR_OFF) {
        vpci_common_write(p, off - VIRTIO_PCI_COMMON_OFF, val, size);
    } else if (off < VIRTIO_PCI_DEVICE_OFF) {
        /* the ISR is read-only */
    } else if (off < VIRTIO_PCI_NOTIFY_OFF) {
        uint64_t o = off - VIRTIO_PCI_DEVICE_OFF;
        if (o + size <= vdev->config_len && vdev->ops->config_write)
            vdev->ops->config_write(vdev, (uint32_t)o, val, size);
    } else {
        /* Which doorbell was rung tells the queue (without VIRTIO_F_NOTIFICATION_DATA the
         * value written is just the index again). */
        virtio_queue_notify(
            vdev, (unsigned)((off - VIRTIO_PCI_NOTIFY_OFF) / VIRTIO_PCI_NOTIFY_MULTIPLIER));
    }
}

static const MemOps vpci_bar_ops = {vpci_bar_read, vpci_bar_write, 1, 4};

/* ---- PCI configuration access capability (4.1.4.9) ---- */

/* A driver access to pci_cfg_data becomes an access of cap.length bytes at cap.offset in the
 * BAR named by cap.bar; anything else is ignored (the data then reads as written). */
static bool vpci_cfg_window(VirtioPci *p, uint32_t *off, unsigned *len)
{
    PciDevice *d = p->pci;
    uint8_t bar = pci_get_byte(d, p->cfg_cap + CAP_BAR);
    *off = pci_get_long(d, p->cfg_cap + CAP_OFFSET);
    *len = pci_get_long(d, p->cfg_cap + CAP_LENGTH);
    return bar == VIRTIO_PCI_BAR && (*len == 1 || *len == 2 || *len == 4) && *off % *len == 0 &&
           *off < VIRTIO_PCI_BAR_SIZE;
}

static bool vpci_touches_cfg_data(VirtioPci *p, unsigned off, unsigned size)
{
    unsigned data = p->cfg_cap + CAP_DATA;
    return p->cfg_cap && off < data + 4 && off + size > data;
}

static uint32_t vpci_config_read(PciDevice *d, unsigned off, unsigned size)
{
    VirtioPci *p = d->opaque;
    uint32_t boff;
    unsigned len;
    if (vpci_touches_cfg_data(p, off, size) && vpci_cfg_window(p, &boff, &len)) {
        uint32_t v = vpci_bar_read(p, boff, len);
        pci_set_long(d, p->cfg_cap + CAP_DATA, v);
    }
    return pci_default_config_read(d, off, size);
}

static void vpci_config_write(PciDevice *d, unsigned off, uint32_t val, unsigned size)
{
    VirtioPci *p = d->opaque;
    pci_default_config_write(d, off, val, size);
    uint32_t boff;
    unsigned len;
    if (vpci_touches_cfg_data(p, off, size) && vpci_cfg_window(p, &boff, &len)) {
        uint32_t v = pci_get_long(d, p->cfg_cap + CAP_DATA);
        vpci_bar_write(p, boff, len == 4 ? v : v & ((1u << (8 * len)) - 1), len);
    }
}

/* ---- setup ---- */

static void vpci_set_irq(void *opaque, bool level)
{
    VirtioPci *p = opaque;
    pci_set_irq(p->pci, level);
}

static bool vpci_dma_enabled(void *opaque)
{
    VirtioPci *p = opaque;
    return pci_bus_master_enabled(p->pci);
}

static const VirtioTransportOps vpci_transport = {vpci_set_irq, vpci_dma_enabled};

static void vpci_reset(PciDevice *d)
{
    VirtioPci *p = d->opaque;
    p->dfselect = p->gfselect = p->queue_select = 0;
    virtio_reset(p->vdev);
}

static void vpci_destroy(PciDevice *d)
{
    VirtioPci *p = d->opaque;
    if (p->vdev->ops->destroy) p->vdev->ops->destroy(p->vdev);
    free(p);
}

static uint8_t vpci_add_cap(PciDevice *d, uint8_t cfg_type, uint8_t len, uint32_t offset,
                            uint32_t length)
{
    uint8_t c = pci_add_capability(d, PCI_CAP_ID_VNDR, len);
    if (!c) return 0;
    pci_set_byte(d, c + 2, len);
    pci_set_byte(d, c + 3, cfg_type);
    pci_set_byte(d, c + CAP_BAR, VIRTIO_PCI_BAR);
    pci_set_long(d, c + CAP_OFFSET, offset);
    pci_set_long(d, c + CAP_LENGTH, length);
    return c;
}

PciDevice *virtio_pci_new(PciBus *bus, int slot, VirtioDevice *vdev, uint32_t class_code, char *err,
                          size_t errlen)
{
    PciDevice *d = pci_register_device(bus, slot, 0, vdev->name, VIRTIO_PCI_VENDOR_ID,
                                       VIRTIO_PCI_DEVICE_ID_BASE + vdev->device_id, 1, class_code);
    if (!d) {
        if (slot < 0)
            snprintf(err, errlen, "%s: no free PCI slot", vdev->name);
        else
            snprintf(err, errlen, "%s: PCI slot %d is already in use", vdev->name, slot);
        return NULL;
    }
    VirtioPci *p = XNEW(VirtioPci);
    p->pci = d;
    p->vdev = vdev;
    vdev->transport = &vpci_transport;
    vdev->transport_opaque = p;
    d->opaque = p;
    d->config_read = vpci_config_read;
    d->config_write = vpci_config_write;
    d->reset = vpci_reset;
    d->destroy = vpci_destroy;
    pci_set_word(d, PCI_SUBSYSTEM_VENDOR_ID, VIRTIO_PCI_VENDOR_ID);
    pci_set_word(d, PCI_SUBSYSTEM_ID, VIRTIO_PCI_SUBSYSTEM_ID);
    pci_set_byte(d, PCI_INTERRUPT_PIN, 1);
    pci_register_bar(d, VIRTIO_PCI_BAR, VIRTIO_PCI_BAR_SIZE, false, &vpci_bar_ops, p);
    /* The order QEMU uses, so guests and tools see a familiar list. The configuration
     * structures fit easily in config space, so the capabilities cannot fail here. */
    vpci_add_cap(d, VIRTIO_PCI_CAP_COMMON_CFG, 16, VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_SIZE);
    vpci_add_cap(d, VIRTIO_PCI_CAP_ISR_CFG, 16, VIRTIO_PCI_ISR_OFF, 1);
    if (vdev->config_len)
        vpci_add_cap(d, VIRTIO_PCI_CAP_DEVICE_CFG, 16, VIRTIO_PCI_DEVICE_OFF, vdev->config_len);
    uint8_t n =
        vpci_add_cap(d, VIRTIO_PCI_CAP_NOTIFY_CFG, 20, VIRTIO_PCI_NOTIFY_OFF,
                     VIRTIO_PCI_NOTIFY_MULTIPLIER * (vdev->num_queues ? vdev->num_queues : 1));
    pci_set_long(d, n + CAP_DATA, VIRTIO_PCI_NOTIFY_MULTIPLIER);
    p->cfg_cap = vpci_add_cap(d, VIRTIO_PCI_CAP_PCI_CFG, 20, 0, 0);
    /* The driver programs bar, offset, length and data of the access capability. */
    d->wmask[p->cfg_cap + CAP_BAR] = 0xff;
    for (int i = 0; i < 4; i++) {
        d->wmask[p->cfg_cap + CAP_OFFSET + i] = 0xff;
        d->wmask[p->cfg_cap + CAP_LENGTH + i] = 0xff;
        d->wmask[p->cfg_cap + CAP_DATA + i] = 0xff;
    }
    return d;
}

VirtioDevice *virtio_pci_vdev(PciDevice *d)
{
    return ((VirtioPci *)d->opaque)->vdev;
}
