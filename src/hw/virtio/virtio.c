/* Virtio device core (virtio 1.x spec 2.1 device status, 2.2 feature bits, 2.5 device
 * configuration space and its generation, 3.1 device initialization, 2.1.2 DEVICE_NEEDS_RESET
 * for driver errors). */
#include "hw/virtio/virtio.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/log.h"

void virtio_init(VirtioDevice *vdev, const char *name, uint16_t device_id,
                 const VirtioDeviceOps *ops, AddressSpace *mem, uint64_t host_features,
                 void *config, uint32_t config_len)
{
    vdev->name = name;
    vdev->device_id = device_id;
    vdev->ops = ops;
    vdev->mem = mem;
    vdev->host_features = host_features | VIRTIO_FEATURE(VIRTIO_F_VERSION_1) |
                          VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) |
                          VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
    vdev->config = config;
    vdev->config_len = config_len;
}

Virtqueue *virtio_add_queue(VirtioDevice *vdev, uint16_t max_size, VirtqHandler handler)
{
    if (vdev->num_queues >= VIRTIO_MAX_QUEUES) return NULL;
    Virtqueue *vq = &vdev->vq[vdev->num_queues];
    vq->vdev = vdev;
    vq->index = (uint16_t)vdev->num_queues++;
    vq->num_max = max_size;
    vq->handler = handler;
    vq_reset(vq);
    return vq;
}

void virtio_cleanup(VirtioDevice *vdev)
{
    for (unsigned i = 0; i < vdev->num_queues; i++) {
        free(vdev->vq[i].scratch);
        vdev->vq[i].scratch = NULL;
        vdev->vq[i].scratch_cap = 0;
    }
}

static void virtio_update_irq(VirtioDevice *vdev)
{
    if (vdev->transport && vdev->transport->set_irq)
        vdev->transport->set_irq(vdev->transport_opaque, vdev->isr != 0);
}

void virtio_raise_isr(VirtioDevice *vdev, uint8_t bits)
{
    vdev->isr |= bits;
    virtio_update_irq(vdev);
}

uint8_t virtio_isr_read_clear(VirtioDevice *vdev)
{
    uint8_t v = vdev->isr;
    vdev->isr = 0;
    virtio_update_irq(vdev);
    return v;
}

bool virtio_dma_enabled(VirtioDevice *vdev)
{
    if (!vdev->transport || !vdev->transport->dma_enabled) return true;
    return vdev->transport->dma_enabled(vdev->transport_opaque);
}

void virtio_reset(VirtioDevice *vdev)
{
    vdev->status = 0;
    vdev->guest_features = 0;
    vdev->broken = false;
    vdev->isr = 0;
    virtio_update_irq(vdev);
    for (unsigned i = 0; i < vdev->num_queues; i++)
        vq_reset(&vdev->vq[i]);
    if (vdev->ops && vdev->ops->reset) vdev->ops->reset(vdev);
}

void virtio_config_changed(VirtioDevice *vdev)
{
    vdev->config_generation++;
    /* No notifications before the driver is ready for them (3.1.2). */
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) virtio_raise_isr(vdev, VIRTIO_ISR_CONFIG);
}

void virtio_error(VirtioDevice *vdev, const char *fmt, ...)
{
    if (vdev->broken) return;
    vdev->broken = true;
    if (!vdev->error_logged && LOG_ON(LOG_GUEST)) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        log_msg("%s: %s; device needs reset", vdev->name, buf);
    }
    vdev->error_logged = true;
    /* 2.1.2: tell the driver through DEVICE_NEEDS_RESET and a configuration interrupt. */
    if (vdev->status & VIRTIO_STATUS_DRIVER_OK) {
        vdev->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET;
        virtio_config_changed(vdev);
    }
}

void virtio_set_driver_features(VirtioDevice *vdev, unsigned select, uint32_t bits)
{
    if (vdev->status & VIRTIO_STATUS_FEATURES_OK || select > 1) return;
    uint64_t mask = 0xffffffffull << (32 * select);
    vdev->guest_features = (vdev->guest_features & ~mask) | ((uint64_t)bits << (32 * select));
}

void virtio_set_status(VirtioDevice *vdev, uint8_t val)
{
    if (val == 0) {
        virtio_reset(vdev);
        return;
    }
    uint8_t old = vdev->status;
    if ((val & VIRTIO_STATUS_FEATURES_OK) && !(old & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t f = vdev->guest_features;
        /* 3.1.1: features the device did not offer, or a legacy-only driver, are refused by
         * leaving FEATURES_OK clear when the driver reads the status back. */
        bool ok = !(f & ~vdev->host_features) && (f & VIRTIO_FEATURE(VIRTIO_F_VERSION_1));
        if (ok && vdev->ops && vdev->ops->validate_features)
            ok = vdev->ops->validate_features(vdev, f);
        if (!ok) val &= ~VIRTIO_STATUS_FEATURES_OK;
    }
    /* DEVICE_NEEDS_RESET belongs to the device. */
    val = (val & ~VIRTIO_STATUS_DEVICE_NEEDS_RESET) | (old & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    vdev->status = val;
    if ((val & VIRTIO_STATUS_DRIVER_OK) && !(old & VIRTIO_STATUS_DRIVER_OK) && !vdev->broken) {
        if (vdev->ops && vdev->ops->driver_ok) vdev->ops->driver_ok(vdev);
        /* Drivers may fill queues and notify before DRIVER_OK (virtio-console's receive
         * queue does); those buffers are processed now. */
        for (unsigned i = 0; i < vdev->num_queues; i++)
            if (vdev->vq[i].enabled && vdev->vq[i].handler) vdev->vq[i].handler(vdev, &vdev->vq[i]);
    }
}

void virtio_queue_notify(VirtioDevice *vdev, unsigned index)
{
    if (index >= vdev->num_queues) {
        LOG(LOG_GUEST, "%s: notify of nonexistent queue %u", vdev->name, index);
        return;
    }
    Virtqueue *vq = &vdev->vq[index];
    if (!vq_ready(vq) || !virtio_dma_enabled(vdev)) return;
    if (vq->handler) vq->handler(vdev, vq);
}

void virtio_queue_enable(VirtioDevice *vdev, unsigned index)
{
    if (index >= vdev->num_queues) return;
    Virtqueue *vq = &vdev->vq[index];
    if (vq->enabled) return;
    /* Split rings have power-of-two sizes (2.6), which the index arithmetic relies on. */
    if (vq->num == 0 || vq->num > vq->num_max || (vq->num & (vq->num - 1))) {
        virtio_error(vdev, "queue %u: bad size %u", index, vq->num);
        return;
    }
    if (!vq_map_rings(vq)) {
        virtio_error(vdev, "queue %u: rings at 0x%llx/0x%llx/0x%llx misaligned or not in RAM",
                     index, (unsigned long long)vq->desc_addr, (unsigned long long)vq->avail_addr,
                     (unsigned long long)vq->used_addr);
        return;
    }
    vq->enabled = true;
}
