/* virtio-blk (virtio 1.x spec 5.2: 5.2.4 configuration layout, 5.2.6 requests and status);
 * parsing touches the rings, execution only the block layer, so it could move to a thread. */
#include "hw/virtio/virtio_blk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "block/iov.h"
#include "hw/virtio/virtio.h"
#include "hw/virtio/virtio_pci.h"
#include "util/alloc.h"

enum {
    VIRTIO_BLK_F_SEG_MAX = 2,
    VIRTIO_BLK_F_RO = 5,
    VIRTIO_BLK_F_BLK_SIZE = 6,
    VIRTIO_BLK_F_FLUSH = 9,
    VIRTIO_BLK_F_DISCARD = 13,
    VIRTIO_BLK_F_WRITE_ZEROES = 14,

    VIRTIO_BLK_T_IN = 0,
    VIRTIO_BLK_T_OUT = 1,
    VIRTIO_BLK_T_FLUSH = 4,
    VIRTIO_BLK_T_GET_ID = 8,
    VIRTIO_BLK_T_DISCARD = 11,
    VIRTIO_BLK_T_WRITE_ZEROES = 13,

    VIRTIO_BLK_S_OK = 0,
    VIRTIO_BLK_S_IOERR = 1,
    VIRTIO_BLK_S_UNSUPP = 2,

    VIRTIO_BLK_ID_BYTES = 20,
    VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP = 1,

    /* Configuration layout (5.2.4). */
    CFG_CAPACITY = 0,
    CFG_SEG_MAX = 12,
    CFG_BLK_SIZE = 20,
    CFG_MAX_DISCARD_SECTORS = 36,
    CFG_MAX_DISCARD_SEG = 40,
    CFG_DISCARD_ALIGNMENT = 44,
    CFG_MAX_WRITE_ZEROES_SECTORS = 48,
    CFG_MAX_WRITE_ZEROES_SEG = 52,
    CFG_WRITE_ZEROES_MAY_UNMAP = 56,
    CFG_SIZE = 60,

    QUEUE_SIZE = 256,
    SECTOR = 512,
    MAX_SEGMENTS = 32,            /* discard / write-zeroes ranges per request */
    MAX_RANGE_SECTORS = 0x3fffff, /* per discard / write-zeroes range */
};

typedef struct VirtioBlk {
    VirtioDevice vdev;
    BlockDriverState *bs;
    uint64_t sectors;
    char serial[VIRTIO_BLK_ID_BYTES];
    uint8_t config[CFG_SIZE];
} VirtioBlk;

/* One request, with everything the back end needs; nothing in it points at the rings. */
typedef struct VirtioBlkReq {
    VirtqElem *elem;
    uint32_t type;
    uint64_t sector;
    struct iovec *data; /* the payload, without header and status byte */
    int data_cnt;
    size_t data_len;
    uint32_t written; /* payload bytes written for the driver */
    uint8_t status;
} VirtioBlkReq;

static bool virtio_blk_range_ok(VirtioBlk *b, uint64_t sector, uint64_t count)
{
    return sector <= b->sectors && count <= b->sectors - sector;
}

/* Discard / write-zeroes: an array of {le64 sector, le32 num_sectors, le32 flags}. */
static uint8_t virtio_blk_ranges(VirtioBlk *b, VirtioBlkReq *r)
{
    bool zeroes = r->type == VIRTIO_BLK_T_WRITE_ZEROES;
    size_t n = r->data_len / 16;
    if (r->data_len % 16 || n == 0 || n > MAX_SEGMENTS) return VIRTIO_BLK_S_UNSUPP;
    for (size_t i = 0; i < n; i++) {
        uint8_t seg[16];
        iov_to_buf(r->data, r->data_cnt, 16 * i, seg, 16);
        uint64_t sector = virtio_ldq(seg);
        uint32_t count = virtio_ldl(seg + 8), flags = virtio_ldl(seg + 12);
        /* 5.2.6.2: unmap is only meaningful for write zeroes; unknown flags are refused. */
        if (flags & ~(uint32_t)(zeroes ? VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0))
            return VIRTIO_BLK_S_UNSUPP;
        if (count > MAX_RANGE_SECTORS || !virtio_blk_range_ok(b, sector, count))
            return VIRTIO_BLK_S_IOERR;
        int e = zeroes ? blk_write_zeroes(b->bs, sector * SECTOR, (uint64_t)count * SECTOR,
                                          flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP)
                       : blk_discard(b->bs, sector * SECTOR, (uint64_t)count * SECTOR);
        if (e < 0) return VIRTIO_BLK_S_IOERR;
    }
    return VIRTIO_BLK_S_OK;
}

/* The back-end half: block layer I/O only. */
static void virtio_blk_execute(VirtioBlk *b, VirtioBlkReq *r)
{
    bool ro = blk_is_read_only(b->bs);
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_OUT: {
        bool in = r->type == VIRTIO_BLK_T_IN;
        if (r->data_len % SECTOR || !virtio_blk_range_ok(b, r->sector, r->data_len / SECTOR) ||
            (!in && ro)) {
            r->status = VIRTIO_BLK_S_IOERR;
            break;
        }
        int e = in ? blk_preadv(b->bs, r->sector * SECTOR, r->data, r->data_cnt)
                   : blk_pwritev(b->bs, r->sector * SECTOR, r->data, r->data_cnt);
        r->status = e < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
        if (in && e == 0) r->written = (uint32_t)r->data_len;
        break;
    }
    case VIRTIO_BLK_T_FLUSH:
        r->status = blk_flush(b->bs) < 0 ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
        break;
    case VIRTIO_BLK_T_GET_ID: {
        size_t n = r->data_len < VIRTIO_BLK_ID_BYTES ? r->data_len : VIRTIO_BLK_ID_BYTES;
        r->written = (uint32_t)iov_from_buf(r->data, r->data_cnt, 0, b->serial, n);
        r->status = VIRTIO_BLK_S_OK;
        break;
    }
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES: {
        unsigned feature =
            r->type == VIRTIO_BLK_T_DISCARD ? VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES;
        if (!virtio_has_feature(&b->vdev, feature) || ro)
            r->status = ro ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_UNSUPP;
        else
            r->status = virtio_blk_ranges(b, r);
        break;
    }
    default: r->status = VIRTIO_BLK_S_UNSUPP; break;
    }
}

/* Completion: the status byte is the last byte the driver gave us to write. */
static void virtio_blk_complete(VirtioBlk *b, Virtqueue *vq, VirtioBlkReq *r)
{
    VirtqElem *e = r->elem;
    iov_from_buf(e->in, e->in_num, e->in_len - 1, &r->status, 1);
    vq_push(vq, e, r->written + 1);
    free(r->data);
    free(e);
}

static void virtio_blk_handle(VirtioDevice *vdev, Virtqueue *vq)
{
    VirtioBlk *b = (VirtioBlk *)vdev;
    bool pushed = false;
    VirtqElem *e;
    while ((e = vq_pop(vq))) {
        uint8_t hdr[16];
        if (e->out_len < sizeof hdr || e->in_len < 1) {
            virtio_error(vdev, "request without header or status byte");
            free(e);
            break;
        }
        iov_to_buf(e->out, e->out_num, 0, hdr, sizeof hdr);
        VirtioBlkReq r = {.elem = e, .type = virtio_ldl(hdr), .sector = virtio_ldq(hdr + 8)};
        /* Driver-to-device payload follows the header; device-to-driver payload precedes the
         * status byte. Each request type uses one of them. */
        bool to_driver = r.type == VIRTIO_BLK_T_IN || r.type == VIRTIO_BLK_T_GET_ID;
        struct iovec *src = to_driver ? e->in : e->out;
        int cnt = to_driver ? e->in_num : e->out_num;
        size_t off = to_driver ? 0 : sizeof hdr;
        size_t len = to_driver ? e->in_len - 1 : e->out_len - sizeof hdr;
        r.data = xmalloc(sizeof(struct iovec) * (size_t)(cnt ? cnt : 1));
        r.data_cnt = iov_slice(src, cnt, off, len, r.data, cnt);
        r.data_len = len;
        virtio_blk_execute(b, &r);
        virtio_blk_complete(b, vq, &r);
        pushed = true;
    }
    if (pushed) vq_notify(vq);
}

static void virtio_blk_destroy(VirtioDevice *vdev)
{
    VirtioBlk *b = (VirtioBlk *)vdev;
    blk_close(b->bs);
    virtio_cleanup(vdev);
    free(b);
}

static const VirtioDeviceOps virtio_blk_ops = {
    .destroy = virtio_blk_destroy,
};

PciDevice *virtio_blk_new(PciBus *bus, int slot, AddressSpace *mem, BlockDriverState *bs,
                          const char *serial, char *err, size_t errlen)
{
    VirtioBlk *b = XNEW(VirtioBlk);
    b->bs = bs;
    b->sectors = blk_size(bs) / SECTOR;
    /* Padded with zeros, not terminated when all 20 bytes are used (5.2.6). */
    if (serial) memcpy(b->serial, serial, strnlen(serial, sizeof b->serial));
    bool ro = blk_is_read_only(bs);
    uint64_t features = VIRTIO_FEATURE(VIRTIO_BLK_F_SEG_MAX) |
                        VIRTIO_FEATURE(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_FEATURE(VIRTIO_BLK_F_FLUSH);
    if (ro)
        features |= VIRTIO_FEATURE(VIRTIO_BLK_F_RO);
    else
        features |=
            VIRTIO_FEATURE(VIRTIO_BLK_F_DISCARD) | VIRTIO_FEATURE(VIRTIO_BLK_F_WRITE_ZEROES);
    uint8_t *c = b->config;
    virtio_stq(c + CFG_CAPACITY, b->sectors);
    /* The ring holds header and status descriptors besides the data segments. */
    virtio_stl(c + CFG_SEG_MAX, QUEUE_SIZE - 2);
    virtio_stl(c + CFG_BLK_SIZE, SECTOR);
    virtio_stl(c + CFG_MAX_DISCARD_SECTORS, MAX_RANGE_SECTORS);
    virtio_stl(c + CFG_MAX_DISCARD_SEG, MAX_SEGMENTS);
    virtio_stl(c + CFG_DISCARD_ALIGNMENT, 8); /* 4 KiB: what hole punching deallocates */
    virtio_stl(c + CFG_MAX_WRITE_ZEROES_SECTORS, MAX_RANGE_SECTORS);
    virtio_stl(c + CFG_MAX_WRITE_ZEROES_SEG, MAX_SEGMENTS);
    c[CFG_WRITE_ZEROES_MAY_UNMAP] = 1;
    virtio_init(&b->vdev, "virtio-blk", VIRTIO_ID_BLOCK, &virtio_blk_ops, mem, features, b->config,
                sizeof b->config);
    virtio_add_queue(&b->vdev, QUEUE_SIZE, virtio_blk_handle);
    PciDevice *d =
        virtio_pci_new(bus, slot, &b->vdev, 0x010000 /* mass storage, SCSI */, err, errlen);
    if (!d) {
        virtio_cleanup(&b->vdev);
        free(b);
    }
    return d;
}
