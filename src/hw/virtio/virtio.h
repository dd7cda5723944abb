/* Virtio device core (virtio 1.x spec ch. 2 basic facilities, 2.7 split virtqueues): status,
 * features, config generation, ISR bits, and virtqueues with indirect descriptors and event index.
 */
#ifndef HW_VIRTIO_VIRTIO_H
#define HW_VIRTIO_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "core/memory.h"

/* Device types (5 "Device Types"). */
enum {
    VIRTIO_ID_NET = 1,
    VIRTIO_ID_BLOCK = 2,
    VIRTIO_ID_CONSOLE = 3,
    VIRTIO_ID_RNG = 4,
};

/* Device status bits (2.1). */
enum {
    VIRTIO_STATUS_ACKNOWLEDGE = 1,
    VIRTIO_STATUS_DRIVER = 2,
    VIRTIO_STATUS_DRIVER_OK = 4,
    VIRTIO_STATUS_FEATURES_OK = 8,
    VIRTIO_STATUS_DEVICE_NEEDS_RESET = 0x40,
    VIRTIO_STATUS_FAILED = 0x80,
};

/* Reserved feature bits (6 "Reserved Feature Bits"). */
enum {
    VIRTIO_F_RING_INDIRECT_DESC = 28,
    VIRTIO_F_RING_EVENT_IDX = 29,
    VIRTIO_F_VERSION_1 = 32,
};

/* Interrupt status bits (4.1.4.5 ISR status). */
enum {
    VIRTIO_ISR_QUEUE = 1,
    VIRTIO_ISR_CONFIG = 2,
};

/* Split ring layout (2.7.5-2.7.8). */
enum {
    VIRTQ_DESC_F_NEXT = 1,
    VIRTQ_DESC_F_WRITE = 2,
    VIRTQ_DESC_F_INDIRECT = 4,
    VIRTQ_AVAIL_F_NO_INTERRUPT = 1,
    VIRTQ_USED_F_NO_NOTIFY = 1,
    VIRTQ_MAX_SIZE = 32768,
};

#define VIRTIO_MAX_QUEUES   8
#define VIRTIO_FEATURE(bit) (1ull << (bit))

typedef struct VirtioDevice VirtioDevice;
typedef struct Virtqueue Virtqueue;

/* Called when the driver notifies the queue (and once more at DRIVER_OK). */
typedef void (*VirtqHandler)(VirtioDevice *vdev, Virtqueue *vq);

/* One popped descriptor chain, mapped to host memory: out[] are the driver's buffers the
 * device reads, in[] those it writes. Allocated by vq_pop, released with free(). */
typedef struct VirtqElem {
    uint16_t head; /* descriptor index, handed back in the used ring */
    int out_num, in_num;
    size_t out_len, in_len; /* total bytes */
    struct iovec *out, *in; /* point into iov[] */
    struct iovec iov[];
} VirtqElem;

struct Virtqueue {
    VirtioDevice *vdev;
    uint16_t index;
    uint16_t num_max; /* largest size the device accepts */
    uint16_t num;     /* size the driver chose */
    bool enabled;
    uint64_t desc_addr, avail_addr, used_addr;
    VirtqHandler handler;
    bool notification;       /* want driver notifications (vq_set_notification) */
    uint16_t last_avail_idx; /* next available entry to consume */
    uint16_t used_idx;       /* our copy of used->idx */
    uint16_t signalled_used; /* used->idx when we last decided about an interrupt */
    bool signalled_used_valid;
    uint32_t inflight; /* popped and not yet pushed */
    /* Host pointers to the rings, recomputed when the memory map's generation changes. */
    uint32_t map_generation;
    uint8_t *desc, *avail, *used;
    /* Scratch list of mapped buffers while walking a chain. */
    struct iovec *scratch;
    int scratch_cap;
};

typedef struct VirtioDeviceOps {
    /* The driver wrote size bytes at off within the device configuration. Optional: without
     * it the configuration is read-only. */
    void (*config_write)(VirtioDevice *vdev, uint32_t off, uint32_t val, unsigned size);
    /* The driver set FEATURES_OK with these features; return false to refuse them. */
    bool (*validate_features)(VirtioDevice *vdev, uint64_t features);
    /* DRIVER_OK was set: start (queue handlers run right after). */
    void (*driver_ok)(VirtioDevice *vdev);
    /* Device reset (status written 0, or bus reset): back to the power-on state. The core
     * has already reset the queues and features. */
    void (*reset)(VirtioDevice *vdev);
    /* Free the device (called with the transport, e.g. when the PCI bus is freed). */
    void (*destroy)(VirtioDevice *vdev);
} VirtioDeviceOps;

/* What the core needs from the transport. */
typedef struct VirtioTransportOps {
    /* Drive the interrupt line: level is true while the ISR has bits set. */
    void (*set_irq)(void *opaque, bool level);
    /* May the device access guest memory now (PCI bus mastering enabled)? */
    bool (*dma_enabled)(void *opaque);
} VirtioTransportOps;

struct VirtioDevice {
    const char *name;
    uint16_t device_id;
    const VirtioDeviceOps *ops;
    AddressSpace *mem;
    uint64_t host_features, guest_features;
    uint8_t status, isr, config_generation;
    bool broken;       /* the driver broke the rules; nothing runs until reset */
    bool error_logged; /* log only the first guest error per device */
    Virtqueue vq[VIRTIO_MAX_QUEUES];
    unsigned num_queues;
    uint8_t *config; /* device-specific configuration, little-endian, owned by the device */
    uint32_t config_len;
    const VirtioTransportOps *transport;
    void *transport_opaque;
};

/* ---- device core (virtio.c) ---- */

/* host_features gets VIRTIO_F_VERSION_1, INDIRECT_DESC and EVENT_IDX added. */
void virtio_init(VirtioDevice *vdev, const char *name, uint16_t device_id,
                 const VirtioDeviceOps *ops, AddressSpace *mem, uint64_t host_features,
                 void *config, uint32_t config_len);
/* Add the next queue (index = number of queues so far); max_size is a power of two. */
Virtqueue *virtio_add_queue(VirtioDevice *vdev, uint16_t max_size, VirtqHandler handler);
void virtio_cleanup(VirtioDevice *vdev);

static inline bool virtio_has_feature(const VirtioDevice *vdev, unsigned bit)
{
    return vdev->guest_features >> bit & 1;
}
static inline bool virtio_driver_ok(const VirtioDevice *vdev)
{
    return (vdev->status & VIRTIO_STATUS_DRIVER_OK) && !vdev->broken;
}

/* Status register write (2.1, 3.1): 0 resets; FEATURES_OK is refused (left clear) for
 * features the device did not offer or without VERSION_1; DRIVER_OK starts the device. */
void virtio_set_status(VirtioDevice *vdev, uint8_t status);
/* Driver feature bits, 32 at a time; ignored once FEATURES_OK is set. */
void virtio_set_driver_features(VirtioDevice *vdev, unsigned select, uint32_t bits);
void virtio_reset(VirtioDevice *vdev);

/* The device changed its configuration: new generation and a configuration interrupt. */
void virtio_config_changed(VirtioDevice *vdev);
/* Read-to-clear interrupt status (drops the interrupt line). */
uint8_t virtio_isr_read_clear(VirtioDevice *vdev);
void virtio_raise_isr(VirtioDevice *vdev, uint8_t bits);
/* A guest-caused error: log once, mark DEVICE_NEEDS_RESET, stop processing until reset. */
void virtio_error(VirtioDevice *vdev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The driver notified queue index (transport doorbell). */
void virtio_queue_notify(VirtioDevice *vdev, unsigned index);
/* queue_enable written 1: validate the ring addresses. */
void virtio_queue_enable(VirtioDevice *vdev, unsigned index);
bool virtio_dma_enabled(VirtioDevice *vdev);

/* Little-endian configuration field helpers. */
static inline void virtio_stw(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void virtio_stl(uint8_t *p, uint32_t v)
{
    virtio_stw(p, (uint16_t)v);
    virtio_stw(p + 2, (uint16_t)(v >> 16));
}
static inline void virtio_stq(uint8_t *p, uint64_t v)
{
    virtio_stl(p, (uint32_t)v);
    virtio_stl(p + 4, (uint32_t)(v >> 32));
}
static inline uint16_t virtio_ldw(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t virtio_ldl(const uint8_t *p)
{
    return virtio_ldw(p) | (uint32_t)virtio_ldw(p + 2) << 16;
}
static inline uint64_t virtio_ldq(const uint8_t *p)
{
    return virtio_ldl(p) | (uint64_t)virtio_ldl(p + 4) << 32;
}

/* ---- split virtqueues (virtqueue.c) ---- */

/* Next available chain, or NULL when there is none (or the queue is not usable, or the chain
 * is malformed, which also marks the device broken). */
VirtqElem *vq_pop(Virtqueue *vq);
/* Give back the last n popped elements unconsumed (they will be popped again). The caller
 * still frees them. */
void vq_unpop(Virtqueue *vq, unsigned n);
/* Record elem as used with len bytes written, at position idx of a batch; vq_flush then
 * publishes count entries. vq_push does both for one element. */
void vq_fill(Virtqueue *vq, const VirtqElem *elem, uint32_t len, unsigned idx);
void vq_flush(Virtqueue *vq, unsigned count);
void vq_push(Virtqueue *vq, const VirtqElem *elem, uint32_t len);
/* Interrupt the driver if it wants to hear about the used entries published so far
 * (VIRTQ_AVAIL_F_NO_INTERRUPT, or used_event with EVENT_IDX). */
void vq_notify(Virtqueue *vq);
/* Ask the driver (not) to notify us of new buffers (VIRTQ_USED_F_NO_NOTIFY / avail_event). */
void vq_set_notification(Virtqueue *vq, bool enable);
/* Whether the driver has made buffers available that we have not popped. */
bool vq_has_avail(Virtqueue *vq);
static inline bool vq_ready(const Virtqueue *vq)
{
    return vq->enabled && virtio_driver_ok(vq->vdev);
}
/* Reset ring state (device reset). */
void vq_reset(Virtqueue *vq);
/* Check ring placement; false if the rings are not in RAM or misaligned. */
bool vq_map_rings(Virtqueue *vq);

#endif
