/* virtio-console (virtio 1.x spec 5.3: 5.3.4 configuration layout, 5.3.6 device operation)
 * with port 0 only: receiveq 0 carries input to the guest, transmitq 1 its output. Input is
 * pulled from the character back end only while the guest has receive buffers. */
#include "hw/virtio/virtio_console.h"

#include <stdlib.h>
#include <string.h>

#include "block/iov.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"
#include "util/alloc.h"

enum {
    VIRTIO_CONSOLE_F_EMERG_WRITE = 2,
    CFG_COLS = 0,
    CFG_ROWS = 2,
    CFG_MAX_NR_PORTS = 4,
    CFG_EMERG_WR = 8,
    CFG_SIZE = 12,
    QUEUE_SIZE = 128,
    RXQ = 0,
    TXQ = 1,
};

typedef struct VirtioConsole {
    VirtioDevice vdev;
    Chardev *chr;
    VirtqElem *rx; /* a receive buffer popped for input the back end announced */
    uint8_t config[CFG_SIZE];
} VirtioConsole;

/* How much input the guest can take now: the room in one receive buffer. */
static size_t virtio_console_can_read(void *opaque)
{
    VirtioConsole *c = opaque;
    Virtqueue *vq = &c->vdev.vq[RXQ];
    if (!vq_ready(vq)) return 0;
    /* Skip (and return) buffers without room; bounded by the ring size. */
    for (int i = 0; !c->rx && i < QUEUE_SIZE; i++) {
        VirtqElem *e = vq_pop(vq);
        if (!e) break;
        if (e->in_len) {
            c->rx = e;
        } else {
            vq_push(vq, e, 0);
            free(e);
            vq_notify(vq);
        }
    }
    return c->rx ? c->rx->in_len : 0;
}

static void virtio_console_read(void *opaque, const uint8_t *buf, size_t len)
{
    VirtioConsole *c = opaque;
    Virtqueue *vq = &c->vdev.vq[RXQ];
    if (!c->rx && !virtio_console_can_read(c)) return; /* back end overran us: drop */
    VirtqElem *e = c->rx;
    c->rx = NULL;
    size_t n = iov_from_buf(e->in, e->in_num, 0, buf, len);
    vq_push(vq, e, (uint32_t)n);
    free(e);
    vq_notify(vq);
}

static void virtio_console_rx_kick(VirtioDevice *vdev, Virtqueue *vq)
{
    chr_accept_input(((VirtioConsole *)vdev)->chr);
}

static void virtio_console_tx(VirtioDevice *vdev, Virtqueue *vq)
{
    VirtioConsole *c = (VirtioConsole *)vdev;
    bool pushed = false;
    VirtqElem *e;
    while ((e = vq_pop(vq))) {
        for (int i = 0; i < e->out_num; i++)
            chr_write(c->chr, e->out[i].iov_base, e->out[i].iov_len);
        vq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    if (pushed) vq_notify(vq);
}

static void virtio_console_config_write(VirtioDevice *vdev, uint32_t off, uint32_t val,
                                        unsigned size)
{
    VirtioConsole *c = (VirtioConsole *)vdev;
    /* Emergency write (5.3.4): one character, usable before the queues are set up. */
    if (off == CFG_EMERG_WR && virtio_has_feature(vdev, VIRTIO_CONSOLE_F_EMERG_WRITE)) {
        uint8_t ch = (uint8_t)val;
        chr_write(c->chr, &ch, 1);
    }
}

static void virtio_console_reset(VirtioDevice *vdev)
{
    VirtioConsole *c = (VirtioConsole *)vdev;
    free(c->rx);
    c->rx = NULL;
}

static void virtio_console_destroy(VirtioDevice *vdev)
{
    VirtioConsole *c = (VirtioConsole *)vdev;
    virtio_console_reset(vdev);
    virtio_cleanup(vdev);
    free(c);
}

static const VirtioDeviceOps virtio_console_ops = {
    .config_write = virtio_console_config_write,
    .reset = virtio_console_reset,
    .destroy = virtio_console_destroy,
};

PciDevice *virtio_console_new(PciBus *bus, int slot, AddressSpace *mem, Chardev *chr, char *err,
                              size_t errlen)
{
    VirtioConsole *c = XNEW(VirtioConsole);
    c->chr = chr;
    virtio_stl(c->config + CFG_MAX_NR_PORTS, 1);
    virtio_init(&c->vdev, "virtio-console", VIRTIO_ID_CONSOLE, &virtio_console_ops, mem,
                VIRTIO_FEATURE(VIRTIO_CONSOLE_F_EMERG_WRITE), c->config, sizeof c->config);
    virtio_add_queue(&c->vdev, QUEUE_SIZE, virtio_console_rx_kick);
    virtio_add_queue(&c->vdev, QUEUE_SIZE, virtio_console_tx);
    PciDevice *d = virtio_pci_new(bus, slot, &c->vdev, 0x078000 /* simple communication, other */,
                                  err, errlen);
    if (!d) {
        virtio_cleanup(&c->vdev);
        free(c);
        return NULL;
    }
    if (chr) chr_set_frontend(chr, virtio_console_can_read, virtio_console_read, c);
    return d;
}
