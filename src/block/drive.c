/* -drive option parsing and opening (QEMU's -drive syntax, the subset a PC needs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/block.h"
#include "block/keyval.h"
#include "util/alloc.h"

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static bool drive_int(KvList *l, const char *key, int *out, char *err, size_t errlen)
{
    uint64_t v = UINT64_MAX;
    if (!kv_get_u64(l, key, &v, err, errlen)) return false;
    if (v == UINT64_MAX) return true; /* not given */
    if (v > 1000) {
        snprintf(err, errlen, "-drive %s=%llu is out of range", key, (unsigned long long)v);
        return false;
    }
    *out = (int)v;
    return true;
}

static bool one_of(const char *v, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(v, *list)) return true;
    return false;
}

bool blk_parse_drive_spec(const char *spec, DriveSpec *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    d->index = d->bus = d->unit = -1;
    KvList l;
    if (!kv_parse(&l, spec, "file", err, errlen)) return false;
    bool ok = false;
    const char *v;
    d->file = dup_or_null(kv_get(&l, "file"));
    d->format = dup_or_null(kv_get(&l, "format"));
    d->id = dup_or_null(kv_get(&l, "id"));
    d->serial = dup_or_null(kv_get(&l, "serial"));
    d->iface = xstrdup((v = kv_get(&l, "if")) ? v : "ide");
    static const char *const ifaces[] = {"ide", "virtio", "none", "floppy", "scsi", "sd", NULL};
    if (!one_of(d->iface, ifaces)) {
        snprintf(err, errlen, "-drive: unknown interface if=%s", d->iface);
        goto out;
    }
    if (!drive_int(&l, "index", &d->index, err, errlen) ||
        !drive_int(&l, "bus", &d->bus, err, errlen) ||
        !drive_int(&l, "unit", &d->unit, err, errlen))
        goto out;
    if ((v = kv_get(&l, "media"))) {
        if (strcmp(v, "disk") && strcmp(v, "cdrom")) {
            snprintf(err, errlen, "-drive: media must be disk or cdrom, not '%s'", v);
            goto out;
        }
        d->cdrom = !strcmp(v, "cdrom");
    }
    if (!kv_get_bool(&l, "readonly", &d->readonly, err, errlen) ||
        !kv_get_bool(&l, "snapshot", &d->snapshot, err, errlen))
        goto out;
    if ((v = kv_get(&l, "cache"))) {
        static const char *const modes[] = {"none",   "writeback",  "writethrough",
                                            "unsafe", "directsync", NULL};
        if (!one_of(v, modes)) {
            snprintf(err, errlen, "-drive: unknown cache mode '%s'", v);
            goto out;
        }
        d->cache_unsafe = !strcmp(v, "unsafe");
    }
    if ((v = kv_get(&l, "discard"))) {
        if (!strcmp(v, "unmap") || !strcmp(v, "on"))
            d->discard_unmap = true;
        else if (strcmp(v, "ignore") && strcmp(v, "off")) {
            snprintf(err, errlen, "-drive: discard must be ignore or unmap, not '%s'", v);
            goto out;
        }
    }
    /* Accepted for compatibility with existing scripts; they change nothing here. */
    kv_get(&l, "aio");
    kv_get(&l, "werror");
    kv_get(&l, "rerror");
    kv_get(&l, "detect-zeroes");
    kv_get(&l, "copy-on-read");
    if ((v = kv_unused(&l))) {
        snprintf(err, errlen, "-drive: unknown option '%s'", v);
        goto out;
    }
    if (!d->file && strcmp(d->iface, "none") && !d->cdrom) {
        snprintf(err, errlen, "-drive: missing file= option");
        goto out;
    }
    if (d->cdrom) d->readonly = true;
    ok = true;
out:
    kv_free(&l);
    if (!ok) blk_drive_spec_free(d);
    return ok;
}

void blk_drive_spec_free(DriveSpec *d)
{
    free(d->file);
    free(d->format);
    free(d->id);
    free(d->serial);
    free(d->iface);
    memset(d, 0, sizeof *d);
}

BlockDriverState *blk_open_drive(const DriveSpec *d, bool snapshot, char *err, size_t errlen)
{
    if (!d->file) {
        snprintf(err, errlen, "-drive%s%s has no file", d->id ? " " : "", d->id ? d->id : "");
        return NULL;
    }
    int flags = d->readonly ? 0 : BLK_O_RDWR;
    if (snapshot || d->snapshot) flags |= BLK_O_SNAPSHOT;
    if (d->cache_unsafe) flags |= BLK_O_NO_FLUSH;
    if (d->discard_unmap) flags |= BLK_O_DISCARD;
    return blk_open(d->file, d->format, flags, err, errlen);
}

BlockDriverState *blk_open_drive_spec(const char *spec, bool snapshot, char *err, size_t errlen)
{
    DriveSpec d;
    if (!blk_parse_drive_spec(spec, &d, err, errlen)) return NULL;
    BlockDriverState *bs = blk_open_drive(&d, snapshot, err, errlen);
    blk_drive_spec_free(&d);
    return bs;
}
