/* Disk images behind one set of operations (a BlockDriver per format, chosen by format= or by
 * probing the first bytes), with an optional temporary overlay that takes all writes
 * (-snapshot), so the image file itself is never modified. */
#ifndef BLOCK_BLOCK_H
#define BLOCK_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

typedef struct BlockDriverState BlockDriverState;

/* Open flags. */
enum {
    BLK_O_RDWR = 1 << 0,     /* writable; without it writes fail with -EROFS */
    BLK_O_SNAPSHOT = 1 << 1, /* writes go to a temporary overlay; the file is opened read-only */
    BLK_O_NO_FLUSH = 1 << 2, /* cache=unsafe: flushes succeed without reaching the disk */
    BLK_O_DISCARD = 1 << 3,  /* discard=unmap: pass discards down (else they are no-ops) */
};

/* One image format. All offsets and lengths are in bytes; the generic layer has already
 * checked that [offset, offset+len) lies within the image and that writes are allowed, so
 * drivers only see valid requests. Operations return 0 or a negative errno. A later qcow2
 * driver needs nothing more: it keeps its metadata in bs->opaque and may open backing files
 * itself with blk_open(). */
typedef struct BlockDriver {
    const char *format_name;
    /* How likely (0 = not at all, 100 = certain) the file starting with buf (the first
     * min(file size, BLK_PROBE_SIZE) bytes, len of them) is in this format. */
    int (*probe)(const uint8_t *buf, size_t len, const char *filename);
    /* Set bs->opaque and bs->size. Return 0, or -1 with a one-line message in err. */
    int (*open)(BlockDriverState *bs, const char *filename, int flags, char *err, size_t errlen);
    int (*preadv)(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
    int (*pwritev)(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
    int (*flush)(BlockDriverState *bs);
    /* Optional: drop the data (later reads return zeros or the old data). */
    int (*discard)(BlockDriverState *bs, uint64_t offset, uint64_t len);
    /* Optional: make the range read as zeros, deallocating if may_unmap. -ENOTSUP makes the
     * generic layer write zero buffers instead. */
    int (*write_zeroes)(BlockDriverState *bs, uint64_t offset, uint64_t len, bool may_unmap);
    void (*close)(BlockDriverState *bs);
} BlockDriver;

#define BLK_PROBE_SIZE 2048

struct BlockDriverState {
    const BlockDriver *drv;
    void *opaque; /* the driver's state */
    char *filename;
    uint64_t size; /* bytes */
    int flags;     /* BLK_O_* as opened */
};

/* Open filename with the named format (NULL: probe). Errors (missing or unreadable file, a
 * read-only file opened for writing, unknown or mismatched format) return NULL with a
 * one-line message naming the file in err. No file is modified by a failed open. */
BlockDriverState *blk_open(const char *filename, const char *format, int flags, char *err,
                           size_t errlen);
void blk_close(BlockDriverState *bs); /* NULL is allowed */

static inline uint64_t blk_size(const BlockDriverState *bs)
{
    return bs->size;
}
static inline bool blk_is_read_only(const BlockDriverState *bs)
{
    return !(bs->flags & BLK_O_RDWR);
}

/* Requests outside the image fail with -EINVAL, writes to a read-only image with -EROFS. */
int blk_preadv(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
int blk_pwritev(BlockDriverState *bs, uint64_t offset, const struct iovec *iov, int iovcnt);
int blk_pread(BlockDriverState *bs, uint64_t offset, void *buf, size_t len);
int blk_pwrite(BlockDriverState *bs, uint64_t offset, const void *buf, size_t len);
int blk_flush(BlockDriverState *bs);
int blk_discard(BlockDriverState *bs, uint64_t offset, uint64_t len);
int blk_write_zeroes(BlockDriverState *bs, uint64_t offset, uint64_t len, bool may_unmap);

/* Drivers, for the probe table and for tests. */
extern const BlockDriver blk_raw_driver;
/* Wrap base in a temporary overlay (base must stay open until the overlay is closed, which
 * closes it). Used by blk_open for BLK_O_SNAPSHOT. */
BlockDriverState *blk_snapshot_new(BlockDriverState *base, char *err, size_t errlen);

/* ---- -drive specifications ---- */

typedef struct DriveSpec {
    char *file;   /* file= */
    char *format; /* format= (NULL: probe) */
    char *id;     /* id= (NULL if not given) */
    char *serial; /* serial= */
    char *iface;  /* if=: "ide" (QEMU's default on pc), "virtio", "none", "floppy", ... */
    int index;    /* index= or -1 */
    int bus, unit;
    bool cdrom;              /* media=cdrom */
    bool readonly, snapshot; /* readonly=on, snapshot=on */
    bool discard_unmap;      /* discard=unmap */
    bool cache_unsafe;       /* cache=unsafe */
} DriveSpec;

/* Parse "file=X[,format=raw][,if=virtio][,readonly=on][,snapshot=on][,id=ID][,serial=S]
 * [,media=disk|cdrom][,index=N][,bus=N][,unit=N][,cache=MODE][,discard=ignore|unmap]
 * [,aio=threads|native|io_uring][,werror=..][,rerror=..]". A bare argument without '=' is taken
 * as the file name (as for -hda). Returns false with a one-line message in err. */
bool blk_parse_drive_spec(const char *spec, DriveSpec *d, char *err, size_t errlen);
void blk_drive_spec_free(DriveSpec *d);
/* Open the drive's image; snapshot forces BLK_O_SNAPSHOT (the global -snapshot option). */
BlockDriverState *blk_open_drive(const DriveSpec *d, bool snapshot, char *err, size_t errlen);
/* Both in one go, for callers that need nothing else from the spec. */
BlockDriverState *blk_open_drive_spec(const char *spec, bool snapshot, char *err, size_t errlen);

#endif
