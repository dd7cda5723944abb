/* The raw format: the file (or host block device) is the disk, byte for byte. Opened images
 * are locked like QEMU does (OFD locks: shared for readers, exclusive for a writer) so two
 * emulators cannot write one image. */
#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "block/iov.h"
#include "util/alloc.h"

typedef struct RawState {
    int fd;
    bool is_file; /* regular file (fallocate works) rather than a device */
} RawState;

static int raw_probe(const uint8_t *buf, size_t len, const char *filename)
{
    return 1; /* anything is a raw image, but every other format wins over it */
}

static int raw_open(BlockDriverState *bs, const char *filename, int flags, char *err, size_t errlen)
{
    bool rw = flags & BLK_O_RDWR;
    int fd = open(filename, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        if (rw && (errno == EACCES || errno == EROFS || errno == EPERM))
            snprintf(err, errlen, "could not open '%s' for writing: %s (use readonly=on?)",
                     filename, strerror(errno));
        else
            snprintf(err, errlen, "could not open '%s': %s", filename, strerror(errno));
        return -1;
    }
    struct stat st;
    off_t size = lseek(fd, 0, SEEK_END);
    if (fstat(fd, &st) < 0 || size < 0) {
        snprintf(err, errlen, "could not get the size of '%s': %s", filename, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        snprintf(err, errlen, "'%s' is not a regular file or block device", filename);
        close(fd);
        return -1;
    }
    struct flock fl = {.l_type = rw ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES)) {
        snprintf(err, errlen, "'%s' is in use by another process (failed to get %s lock)", filename,
                 rw ? "a write" : "a shared");
        close(fd);
        return -1;
    }
    RawState *s = XNEW(RawState);
    s->fd = fd;
    s->is_file = S_ISREG(st.st_mode);
    bs->opaque = s;
    bs->size = (uint64_t)size;
    return 0;
}

/* preadv/pwritev until done, retrying short transfers. Reads past the end of a file return
 * zeros (a file image may shrink under us; never leave guest buffers with stale data). */
static int raw_rw(RawState *s, uint64_t offset, const struct iovec *iov, int iovcnt, bool write)
{
    struct iovec local[64];
    size_t total = iov_size(iov, iovcnt), done = 0;
    while (done < total) {
        /* At most 64 pieces per system call; the loop does the rest. */
        int n = iov_slice(iov, iovcnt, done, total - done, local, (int)ARRAY_SIZE(local));
        ssize_t r = write ? pwritev(s->fd, local, n, (off_t)(offset + done))
                          : preadv(s->fd, local, n, (off_t)(offset + done));
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) {
            if (write) return -EIO;
            iov_memset(iov, iovcnt, done, 0, total - done);
            return 0;
        }
        done += (size_t)r;
    }
    return 0;
}

static int raw_preadv(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    return raw_rw(bs->opaque, offset, iov, iovcnt, false);
}

static int raw_pwritev(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt)
{
    return raw_rw(bs->opaque, offset, iov, iovcnt, true);
}

static int raw_flush(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    return fdatasync(s->fd) < 0 ? -errno : 0;
}

static int raw_discard(BlockDriverState *bs, uint64_t offset, uint64_t len)
{
    RawState *s = bs->opaque;
    if (!s->is_file) return -ENOTSUP;
    if (fallocate(s->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)offset, (off_t)len))
        return -errno;
    return 0;
}

static int raw_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t len, bool may_unmap)
{
    RawState *s = bs->opaque;
    if (!s->is_file) return -ENOTSUP;
    int mode = may_unmap ? FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE : FALLOC_FL_ZERO_RANGE;
    if (fallocate(s->fd, mode, (off_t)offset, (off_t)len) == 0) return 0;
    return errno == EOPNOTSUPP || errno == ENOSYS ? -ENOTSUP : -errno;
}

static void raw_close(BlockDriverState *bs)
{
    RawState *s = bs->opaque;
    close(s->fd); /* also drops the OFD lock */
    free(s);
}

const BlockDriver blk_raw_driver = {
    .format_name = "raw",
    .probe = raw_probe,
    .open = raw_open,
    .preadv = raw_preadv,
    .pwritev = raw_pwritev,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .close = raw_close,
};
