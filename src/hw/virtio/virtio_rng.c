/* virtio-rng (virtio 1.x spec 5.4: one requestq whose device-writable buffers the device
 * fills with random bytes; no configuration, no features). */
#include "hw/virtio/virtio_rng.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"
#include "util/alloc.h"

enum {
    QUEUE_SIZE = 8,
    /* Per request: enough for any guest's pool, and bounds the time a huge buffer costs. */
    RNG_MAX_BYTES = 64 * 1024,
};

typedef struct VirtioRng {
    VirtioDevice vdev;
} VirtioRng;

/* Fill up to len bytes; returns how many were filled. */
static size_t virtio_rng_fill(uint8_t *p, size_t len)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        done += (size_t)n;
    }
    return done;
}

static void virtio_rng_handle(VirtioDevice *vdev, Virtqueue *vq)
{
    bool pushed = false;
    VirtqElem *e;
    while ((e = vq_pop(vq))) {
        size_t total = 0;
        for (int i = 0; i < e->in_num && total < RNG_MAX_BYTES; i++) {
            size_t want = e->in[i].iov_len;
            if (want > RNG_MAX_BYTES - total) want = RNG_MAX_BYTES - total;
            size_t got = virtio_rng_fill(e->in[i].iov_base, want);
            total += got;
            if (got < want) break;
        }
        vq_push(vq, e, (uint32_t)total);
        free(e);
        pushed = true;
    }
    if (pushed) vq_notify(vq);
}

static void virtio_rng_destroy(VirtioDevice *vdev)
{
    virtio_cleanup(vdev);
    free(vdev);
}

static const VirtioDeviceOps virtio_rng_ops = {
    .destroy = virtio_rng_destroy,
};

PciDevice *virtio_rng_new(PciBus *bus, int slot, AddressSpace *mem, char *err, size_t errlen)
{
    VirtioRng *r = XNEW(VirtioRng);
    virtio_init(&r->vdev, "virtio-rng", VIRTIO_ID_RNG, &virtio_rng_ops, mem, 0, NULL, 0);
    virtio_add_queue(&r->vdev, QUEUE_SIZE, virtio_rng_handle);
    PciDevice *d = virtio_pci_new(bus, slot, &r->vdev, 0xff0000 /* unclassified */, err, errlen);
    if (!d) {
        virtio_cleanup(&r->vdev);
        free(r);
    }
    return d;
}
