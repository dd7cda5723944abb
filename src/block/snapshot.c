/* The -snapshot overlay: an unlinked temporary file takes all writes at 64 KiB cluster
 * granularity (copy-on-write), so the image file itself is only ever read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "block/iov.h"
#include "util/alloc.h"

#define OVL_CLUSTER_BITS 16
#define OVL_CLUSTER_SIZE (1u << OVL_CLUSTER_BITS)

typedef struct Overlay {
    BlockDriverState *base, *file;
    uint64_t *bitmap; /* one bit per cluster: written to the overlay */
} Overlay;

static bool ovl_allocated(const Overlay *o, uint64_t cluster)
{
    return o->bitmap[cluster / 64] >> (cluster % 64) & 1;
}

static void ovl_set_allocated(Overlay *o, uint64_t cluster)
{
    o->bitmap[cluster / 64] |= 1ull << (cluster % 64);
}

/* Length of the run of clusters starting at offset (up to end) that share offset's
 * allocation state; *alloc receives that state. */
static uint64_t ovl_run(const Overlay *o, uint64_t offset, uint64_t end, bool *alloc)
{
    uint64_t c = offset >> OVL_CLUSTER_BITS;
    *alloc = ovl_allocated(o, c);
    uint64_t pos = offset;
    while (pos < end && ovl_allocated(o, pos >> OVL_CLUSTER_BITS) == *alloc)
        pos = ((pos >> OVL_CLUSTER_BITS) + 1) << OVL_CLUSTER_BITS;
    return (pos < end ? pos : end) - offset;
}

static int ovl_preadv(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    Overlay *o = bs->opaque;
    size_t total = iov_size(iov, iovcnt), done = 0;
    struct iovec *part = xmalloc(sizeof(struct iovec) * (size_t)iovcnt);
    int r = 0;
    while (done < total && r == 0) {
        bool alloc;
        uint64_t n = ovl_run(o, offset + done, offset + total, &alloc);
        int cnt = iov_slice(iov, iovcnt, done, n, part, iovcnt);
        r = blk_preadv(alloc ? o->file : o->base, offset + done, part, cnt);
        done += n;
    }
    free(part);
    return r;
}

/* Make one cluster allocated by copying it from the image and merging in the new bytes. */
static int ovl_cow(Overlay *o, uint64_t cluster, uint64_t offset, const struct iovec *iov,
                   int iovcnt, size_t iov_off, size_t len)
{
    uint64_t start = cluster << OVL_CLUSTER_BITS;
    uint64_t csize =
        o->base->size - start < OVL_CLUSTER_SIZE ? o->base->size - start : OVL_CLUSTER_SIZE;
    uint8_t *buf = xmalloc(csize);
    int r = blk_pread(o->base, start, buf, csize);
    if (r == 0) {
        iov_to_buf(iov, iovcnt, iov_off, buf + (offset - start), len);
        r = blk_pwrite(o->file, start, buf, csize);
    }
    if (r == 0) ovl_set_allocated(o, cluster);
    free(buf);
    return r;
}

static int ovl_pwritev(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    Overlay *o = bs->opaque;
    size_t total = iov_size(iov, iovcnt), done = 0;
    struct iovec *part = xmalloc(sizeof(struct iovec) * (size_t)iovcnt);
    int r = 0;
    while (done < total && r == 0) {
        uint64_t pos = offset + done;
        uint64_t cluster = pos >> OVL_CLUSTER_BITS;
        uint64_t cstart = cluster << OVL_CLUSTER_BITS;
        uint64_t cend = cstart + OVL_CLUSTER_SIZE;
        if (cend > o->base->size) cend = o->base->size;
        size_t n = (size_t)((cend < offset + total ? cend : offset + total) - pos);
        bool whole = pos == cstart && pos + n == cend;
        if (ovl_allocated(o, cluster) || whole) {
            int cnt = iov_slice(iov, iovcnt, done, n, part, iovcnt);
            r = blk_pwritev(o->file, pos, part, cnt);
            if (r == 0) ovl_set_allocated(o, cluster);
        } else {
            r = ovl_cow(o, cluster, pos, iov, iovcnt, done, n);
        }
        done += n;
    }
    free(part);
    return r;
}

static int ovl_flush(BlockDriverState *bs)
{
    return 0; /* the overlay's contents die with the process anyway */
}

static void ovl_close(BlockDriverState *bs)
{
    Overlay *o = bs->opaque;
    blk_close(o->file);
    blk_close(o->base);
    free(o->bitmap);
    free(o);
}

static const BlockDriver blk_overlay_driver = {
    .format_name = "snapshot-overlay",
    .preadv = ovl_preadv,
    .pwritev = ovl_pwritev,
    .flush = ovl_flush,
    .close = ovl_close,
};

BlockDriverState *blk_snapshot_new(BlockDriverState *base, char *err, size_t errlen)
{
    /* Like QEMU, prefer /var/tmp: the overlay can grow to the image size, too big for a
     * RAM-backed /tmp. */
    const char *dir = getenv("TMPDIR");
    if (!dir || !*dir) dir = access("/var/tmp", W_OK) == 0 ? "/var/tmp" : "/tmp";
    size_t plen = strlen(dir) + 32;
    char *path = xmalloc(plen);
    snprintf(path, plen, "%s/kestrel-snapshot-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        snprintf(err, errlen, "could not create a snapshot overlay in %s: %s", dir,
                 strerror(errno));
        free(path);
        return NULL;
    }
    int r = ftruncate(fd, (off_t)base->size);
    int saved = errno;
    close(fd);
    BlockDriverState *file = NULL;
    if (r == 0)
        file = blk_open(path, "raw", BLK_O_RDWR, err, errlen);
    else
        snprintf(err, errlen, "could not size the snapshot overlay %s: %s", path, strerror(saved));
    unlink(path); /* the open descriptor keeps it alive */
    free(path);
    if (!file) return NULL;
    Overlay *o = XNEW(Overlay);
    o->base = base;
    o->file = file;
    uint64_t nclusters = (base->size + OVL_CLUSTER_SIZE - 1) >> OVL_CLUSTER_BITS;
    o->bitmap = xzalloc(((nclusters + 63) / 64 + 1) * sizeof(uint64_t));
    BlockDriverState *bs = XNEW(BlockDriverState);
    bs->drv = &blk_overlay_driver;
    bs->opaque = o;
    bs->filename = xstrdup(base->filename);
    bs->size = base->size;
    bs->flags = BLK_O_RDWR | BLK_O_SNAPSHOT;
    return bs;
}
