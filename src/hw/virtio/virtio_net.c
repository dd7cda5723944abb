/* virtio-net (virtio 1.x spec 5.1: 5.1.4 configuration, 5.1.6 virtio_net_hdr and receive
 * buffers incl. MRG_RXBUF, 5.1.6.2 checksum and TCP segmentation offload on transmit,
 * verified checksums on receive); frames wait in the back end while the guest has no
 * buffers. */
#include "hw/virtio/virtio_net.h"

#include <stdlib.h>
#include <string.h>

#include "block/iov.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"
#include "net/offload.h"
#include "util/alloc.h"
#include "util/log.h"

enum {
    VIRTIO_NET_F_CSUM = 0,       /* the device completes partial checksums on transmit */
    VIRTIO_NET_F_GUEST_CSUM = 1, /* the driver takes DATA_VALID on receive */
    VIRTIO_NET_F_HOST_TSO4 = 11, /* the device segments IPv4 TCP on transmit */
    VIRTIO_NET_F_MAC = 5,
    VIRTIO_NET_F_MRG_RXBUF = 15,
    VIRTIO_NET_F_STATUS = 16,
    VIRTIO_NET_S_LINK_UP = 1,

    /* struct virtio_net_hdr with num_buffers, always this size with VERSION_1 (5.1.6). */
    NET_HDR_LEN = 12,
    NET_HDR_FLAGS = 0,
    NET_HDR_GSO_TYPE = 1,
    NET_HDR_GSO_SIZE = 4,
    NET_HDR_CSUM_START = 6,
    NET_HDR_CSUM_OFFSET = 8,
    NET_HDR_NUM_BUFFERS = 10,
    NET_HDR_F_NEEDS_CSUM = 1,
    NET_HDR_F_DATA_VALID = 2,
    NET_HDR_GSO_NONE = 0,
    NET_HDR_GSO_TCPV4 = 1,
    NET_HDR_GSO_ECN = 0x80,

    CFG_MAC = 0,
    CFG_STATUS = 6,
    CFG_MAX_VQ_PAIRS = 8,
    CFG_SIZE = 10,

    QUEUE_SIZE = 256,
    RXQ = 0,
    TXQ = 1,
};

typedef struct VirtioNet {
    VirtioDevice vdev;
    NetPort *port;
    uint8_t config[CFG_SIZE];
    uint8_t *tx_buf;      /* one frame being transmitted (NET_MAX_FRAME) */
    VirtqElem **rx_elems; /* buffers gathered for one merged frame */
} VirtioNet;

/* Receive one frame. False if there are not enough buffers now (the back end keeps it). */
static bool virtio_net_receive(void *opaque, const uint8_t *frame, size_t len)
{
    VirtioNet *n = opaque;
    VirtioDevice *vdev = &n->vdev;
    Virtqueue *vq = &vdev->vq[RXQ];
    if (!vq_ready(vq)) return false;
    if (len > NET_MAX_FRAME) return true;
    bool mergeable = virtio_has_feature(vdev, VIRTIO_NET_F_MRG_RXBUF);
    size_t need = NET_HDR_LEN + len, got = 0;
    unsigned count = 0;
    /* Without mergeable buffers the whole frame must fit one chain (5.1.6.3.1). */
    while (got < need && (mergeable || count == 0) && count < QUEUE_SIZE) {
        VirtqElem *e = vq_pop(vq);
        if (!e) break;
        n->rx_elems[count++] = e;
        got += e->in_len;
    }
    if (got < need) {
        vq_unpop(vq, count);
        for (unsigned i = 0; i < count; i++)
            free(n->rx_elems[i]);
        if (vdev->broken) return true;
        if (!mergeable && count) {
            /* A buffer too small for this frame: drop the frame, keep the buffer. */
            LOG(LOG_GUEST, "%s: %zu-byte frame does not fit a receive buffer", vdev->name, len);
            return true;
        }
        return false;
    }
    /* No segmentation offload: GSO none. A TCP/UDP checksum checked here need not be checked
     * again by the guest. */
    uint8_t hdr[NET_HDR_LEN] = {0};
    if (virtio_has_feature(vdev, VIRTIO_NET_F_GUEST_CSUM) && net_l4_csum_ok(frame, len))
        hdr[NET_HDR_FLAGS] = NET_HDR_F_DATA_VALID;
    virtio_stw(hdr + NET_HDR_NUM_BUFFERS, (uint16_t)count);
    size_t done = 0;
    for (unsigned i = 0; i < count; i++) {
        VirtqElem *e = n->rx_elems[i];
        size_t w = 0;
        if (done < NET_HDR_LEN)
            w += iov_from_buf(e->in, e->in_num, 0, hdr + done, NET_HDR_LEN - done);
        if (done + w >= NET_HDR_LEN)
            w += iov_from_buf(e->in, e->in_num, w, frame + (done + w - NET_HDR_LEN),
                              need - (done + w));
        vq_fill(vq, e, (uint32_t)w, i);
        done += w;
        free(e);
    }
    vq_flush(vq, count);
    vq_notify(vq);
    return true;
}

static void virtio_net_rx_kick(VirtioDevice *vdev, Virtqueue *vq)
{
    /* New receive buffers: let the back end deliver what it holds. */
    net_port_accept_input(((VirtioNet *)vdev)->port);
}

static void send_segment(void *opaque, const uint8_t *seg, size_t len)
{
    net_port_send(opaque, seg, len);
}

/* One frame from the guest with its virtio_net_hdr: segmented (TSO), its checksum completed,
 * or as it is. A header asking for what was not negotiated, or not applying to the frame,
 * leaves the frame as it is (a real NIC would send it out unchanged too). */
static void transmit(VirtioNet *n, const uint8_t *hdr, uint8_t *frame, size_t len)
{
    VirtioDevice *vdev = &n->vdev;
    unsigned gso = hdr[NET_HDR_GSO_TYPE] & ~NET_HDR_GSO_ECN;
    if (gso == NET_HDR_GSO_TCPV4 && virtio_has_feature(vdev, VIRTIO_NET_F_HOST_TSO4) &&
        net_tso4_segment(frame, len, virtio_ldw(hdr + NET_HDR_GSO_SIZE), send_segment, n->port))
        return;
    if ((hdr[NET_HDR_FLAGS] & NET_HDR_F_NEEDS_CSUM) && virtio_has_feature(vdev, VIRTIO_NET_F_CSUM))
        net_csum_complete(frame, len, virtio_ldw(hdr + NET_HDR_CSUM_START),
                          virtio_ldw(hdr + NET_HDR_CSUM_OFFSET));
    net_port_send(n->port, frame, len);
}

static void virtio_net_tx(VirtioDevice *vdev, Virtqueue *vq)
{
    VirtioNet *n = (VirtioNet *)vdev;
    bool pushed = false;
    VirtqElem *e;
    while ((e = vq_pop(vq))) {
        if (e->out_len < NET_HDR_LEN) {
            virtio_error(vdev, "transmit buffer without virtio_net_hdr");
            free(e);
            break;
        }
        size_t len = e->out_len - NET_HDR_LEN;
        if (len <= NET_MAX_FRAME) {
            uint8_t hdr[NET_HDR_LEN];
            iov_to_buf(e->out, e->out_num, 0, hdr, NET_HDR_LEN);
            iov_to_buf(e->out, e->out_num, NET_HDR_LEN, n->tx_buf, len);
            transmit(n, hdr, n->tx_buf, len);
        } else {
            LOG(LOG_GUEST, "%s: dropping %zu-byte frame", vdev->name, len);
        }
        vq_push(vq, e, 0);
        free(e);
        pushed = true;
    }
    net_port_flush(n->port);
    if (pushed) vq_notify(vq);
}

static void virtio_net_driver_ok(VirtioDevice *vdev)
{
    net_port_accept_input(((VirtioNet *)vdev)->port);
}

static void virtio_net_destroy(VirtioDevice *vdev)
{
    VirtioNet *n = (VirtioNet *)vdev;
    net_port_close(n->port);
    virtio_cleanup(vdev);
    free(n->tx_buf);
    free(n->rx_elems);
    free(n);
}

static const VirtioDeviceOps virtio_net_ops = {
    .driver_ok = virtio_net_driver_ok,
    .destroy = virtio_net_destroy,
};

PciDevice *virtio_net_new(PciBus *bus, int slot, AddressSpace *mem, NetPort *port,
                          const uint8_t mac[6], char *err, size_t errlen)
{
    static const uint8_t default_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    VirtioNet *n = XNEW(VirtioNet);
    n->port = port;
    n->tx_buf = xmalloc(NET_MAX_FRAME);
    n->rx_elems = xmalloc(sizeof(VirtqElem *) * QUEUE_SIZE);
    memcpy(n->config + CFG_MAC, mac ? mac : default_mac, 6);
    /* The link is up whenever the device exists, as in QEMU (a socket peer may come and go). */
    virtio_stw(n->config + CFG_STATUS, VIRTIO_NET_S_LINK_UP);
    virtio_stw(n->config + CFG_MAX_VQ_PAIRS, 1);
    uint64_t features = VIRTIO_FEATURE(VIRTIO_NET_F_MAC) | VIRTIO_FEATURE(VIRTIO_NET_F_STATUS) |
                        VIRTIO_FEATURE(VIRTIO_NET_F_MRG_RXBUF) | VIRTIO_FEATURE(VIRTIO_NET_F_CSUM) |
                        VIRTIO_FEATURE(VIRTIO_NET_F_GUEST_CSUM) |
                        VIRTIO_FEATURE(VIRTIO_NET_F_HOST_TSO4);
    virtio_init(&n->vdev, "virtio-net", VIRTIO_ID_NET, &virtio_net_ops, mem, features, n->config,
                sizeof n->config);
    virtio_add_queue(&n->vdev, QUEUE_SIZE, virtio_net_rx_kick);
    virtio_add_queue(&n->vdev, QUEUE_SIZE, virtio_net_tx);
    PciDevice *d = virtio_pci_new(bus, slot, &n->vdev, 0x020000 /* Ethernet */, err, errlen);
    if (!d) {
        virtio_cleanup(&n->vdev);
        free(n->tx_buf);
        free(n->rx_elems);
        free(n);
        return NULL;
    }
    net_port_set_frontend(port, virtio_net_receive, n);
    return d;
}
