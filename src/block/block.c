/* Generic block layer: format probing, request checking and dispatch to the BlockDriver,
 * fallbacks for optional operations, and the -snapshot overlay on top. */
#include "block/block.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/iov.h"
#include "util/alloc.h"

static const BlockDriver *const blk_drivers[] = {&blk_raw_driver};

/* Formats we recognise but cannot open yet: opening them as raw would expose (and, when
 * written, corrupt) their metadata, so probing refuses them instead. */
static const struct {
    const char *name;
    const char *magic;
    size_t len;
} blk_foreign_magic[] = {
    {"qcow2", "QFI\xfb", 4}, {"vmdk", "KDMV", 4}, {"vdi", "<<< ", 4},
    {"vhdx", "vhdxfile", 8}, {"qed", "QED\0", 4},
};

static const BlockDriver *blk_find_driver(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(blk_drivers); i++)
        if (!strcmp(blk_drivers[i]->format_name, name)) return blk_drivers[i];
    return NULL;
}

static const BlockDriver *blk_probe(const char *filename, char *err, size_t errlen)
{
    int fd = open(filename, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    uint8_t buf[BLK_PROBE_SIZE];
    ssize_t n = pread(fd, buf, sizeof buf, 0);
    int saved = errno;
    close(fd);
    if (n < 0) {
        snprintf(err, errlen, "could not read '%s': %s", filename, strerror(saved));
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(blk_foreign_magic); i++) {
        if ((size_t)n >= blk_foreign_magic[i].len &&
            !memcmp(buf, blk_foreign_magic[i].magic, blk_foreign_magic[i].len)) {
            snprintf(err, errlen, "'%s' is a %s image, which is not supported yet", filename,
                     blk_foreign_magic[i].name);
            return NULL;
        }
    }
    const BlockDriver *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < ARRAY_SIZE(blk_drivers); i++) {
        int s = blk_drivers[i]->probe ? blk_drivers[i]->probe(buf, (size_t)n, filename) : 0;
        if (s > best_score) {
            best_score = s;
            best = blk_drivers[i];
        }
    }
    if (!best) snprintf(err, errlen, "could not determine the format of '%s'", filename);
    return best;
}

static BlockDriverState *blk_open_driver(const BlockDriver *drv, const char *filename, int flags,
                                         char *err, size_t errlen)
{
    BlockDriverState *bs = XNEW(BlockDriverState);
    bs->drv = drv;
    bs->filename = xstrdup(filename);
    bs->flags = flags;
    if (drv->open(bs, filename, flags, err, errlen) < 0) {
        free(bs->filename);
        free(bs);
        return NULL;
    }
    return bs;
}

BlockDriverState *blk_open(const char *filename, const char *format, int flags, char *err,
                           size_t errlen)
{
    if (!filename || !*filename) {
        snprintf(err, errlen, "no image file name given");
        return NULL;
    }
    struct stat st;
    if (stat(filename, &st) < 0) {
        snprintf(err, errlen, "could not open '%s': %s", filename, strerror(errno));
        return NULL;
    }
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "could not open '%s': is a directory", filename);
        return NULL;
    }
    const BlockDriver *drv;
    if (format) {
        drv = blk_find_driver(format);
        if (!drv) {
            snprintf(err, errlen, "unknown or unsupported image format '%s' for '%s'", format,
                     filename);
            return NULL;
        }
    } else {
        drv = blk_probe(filename, err, errlen);
        if (!drv) return NULL;
    }
    bool snapshot = flags & BLK_O_SNAPSHOT;
    /* The image under a snapshot overlay is only ever read. */
    int base_flags = snapshot ? flags & ~(BLK_O_RDWR | BLK_O_SNAPSHOT) : flags;
    BlockDriverState *bs = blk_open_driver(drv, filename, base_flags, err, errlen);
    if (!bs || !snapshot) return bs;
    BlockDriverState *top = blk_snapshot_new(bs, err, errlen);
    if (!top) {
        blk_close(bs);
        return NULL;
    }
    /* The overlay is writable unless the drive itself is read-only. */
    top->flags = (flags & ~BLK_O_SNAPSHOT) | BLK_O_SNAPSHOT;
    return top;
}

void blk_close(BlockDriverState *bs)
{
    if (!bs) return;
    if (bs->drv->close) bs->drv->close(bs);
    free(bs->filename);
    free(bs);
}

static bool blk_range_ok(const BlockDriverState *bs, uint64_t offset, uint64_t len)
{
    return offset <= bs->size && len <= bs->size - offset;
}

int blk_preadv(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    if (!blk_range_ok(bs, offset, iov_size(iov, iovcnt))) return -EINVAL;
    return bs->drv->preadv(bs, offset, iov, iovcnt);
}

int blk_pwritev(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    if (blk_is_read_only(bs)) return -EROFS;
    if (!blk_range_ok(bs, offset, iov_size(iov, iovcnt))) return -EINVAL;
    return bs->drv->pwritev(bs, offset, iov, iovcnt);
}

int blk_pread(BlockDriverState *bs, uint64_t offset, void *buf, size_t len)
{
    struct iovec iov = {buf, len};
    return blk_preadv(bs, offset, &iov, 1);
}

int blk_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf, size_t len)
{
    struct iovec iov = {(void *)buf, len};
    return blk_pwritev(bs, offset, &iov, 1);
}

int blk_flush(BlockDriverState *bs)
{
    if (blk_is_read_only(bs) || (bs->flags & BLK_O_NO_FLUSH)) return 0;
    return bs->drv->flush ? bs->drv->flush(bs) : 0;
}

int blk_discard(BlockDriverState *bs, uint64_t offset, uint64_t len)
{
    if (blk_is_read_only(bs)) return -EROFS;
    if (!blk_range_ok(bs, offset, len)) return -EINVAL;
    /* Discard is a hint: without discard=unmap, or where the format cannot, it does nothing. */
    if (!(bs->flags & BLK_O_DISCARD) || !bs->drv->discard || len == 0) return 0;
    int r = bs->drv->discard(bs, offset, len);
    return r == -ENOTSUP || r == -EOPNOTSUPP ? 0 : r;
}

int blk_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t len, bool may_unmap)
{
    if (blk_is_read_only(bs)) return -EROFS;
    if (!blk_range_ok(bs, offset, len)) return -EINVAL;
    if (len == 0) return 0;
    if (bs->drv->write_zeroes) {
        int r = bs->drv->write_zeroes(bs, offset, len, may_unmap && (bs->flags & BLK_O_DISCARD));
        if (r != -ENOTSUP && r != -EOPNOTSUPP) return r;
    }
    enum { CHUNK = 64 * 1024 };
    uint8_t *zero = xzalloc(CHUNK);
    int r = 0;
    while (len && r == 0) {
        size_t n = len < CHUNK ? (size_t)len : CHUNK;
        struct iovec iov = {zero, n};
        r = bs->drv->pwritev(bs, offset, &iov, 1);
        offset += n;
        len -= n;
    }
    free(zero);
    return r;
}
