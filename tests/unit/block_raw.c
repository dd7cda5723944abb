/* Block layer: option strings, -drive parsing, raw images (open errors, bounds, read-only,
 * locking, discard and write zeroes), and the -snapshot overlay checked against an in-memory
 * model while the image file stays byte-identical. */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "block/keyval.h"
#include "util/alloc.h"

static char *make_image(size_t size, unsigned seed)
{
    char *path = strdup("/tmp/kestrel-blk-test-XXXXXX");
    int fd = mkstemp(path);
    uint8_t *buf = malloc(size);
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(i * 7 + seed + (i >> 9));
    if (write(fd, buf, size) != (ssize_t)size) abort();
    close(fd);
    free(buf);
    return path;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    fstat(fd, &st);
    uint8_t *buf = malloc((size_t)st.st_size + 1);
    *len = (size_t)read(fd, buf, (size_t)st.st_size);
    close(fd);
    return buf;
}

TEST(keyval)
{
    char err[128];
    KvList l;
    CHECK(kv_parse(&l, "socket,id=n0,listen=:1234,flag,name=a,,b,id=n1", "type", err, sizeof err));
    CHECK(!strcmp(kv_get(&l, "type"), "socket"));
    CHECK(!strcmp(kv_get(&l, "id"), "n1")); /* the last one wins */
    CHECK(!strcmp(kv_get(&l, "listen"), ":1234"));
    CHECK(!strcmp(kv_get(&l, "name"), "a,b"));
    CHECK(kv_unused(&l) && !strcmp(kv_unused(&l), "flag"));
    bool b = false;
    CHECK(kv_get_bool(&l, "flag", &b, err, sizeof err));
    CHECK(b);
    CHECK(kv_unused(&l) == NULL);
    CHECK(kv_get(&l, "missing") == NULL);
    kv_free(&l);
    CHECK(kv_parse(&l, "x=on,n=0x10,bad=maybe", NULL, err, sizeof err));
    uint64_t n = 0;
    CHECK(kv_get_u64(&l, "n", &n, err, sizeof err));
    CHECK_EQ(n, 16);
    CHECK(!kv_get_bool(&l, "bad", &b, err, sizeof err));
    CHECK(strstr(err, "bad") != NULL);
    CHECK(!kv_get_u64(&l, "x", &n, err, sizeof err));
    kv_free(&l);
    CHECK(!kv_parse(&l, "a=1,,,=2", NULL, err, sizeof err));
    CHECK(!kv_parse(&l, "a=1,,,b", NULL, err, sizeof err) || (kv_free(&l), true));
    CHECK(!kv_parse(&l, "a,,b,,,", NULL, err, sizeof err) || (kv_free(&l), true));
    CHECK(kv_parse(&l, "", "type", err, sizeof err));
    CHECK_EQ(l.n, 0);
    kv_free(&l);
}

TEST(drive_spec)
{
    char err[160];
    DriveSpec d;
    CHECK(blk_parse_drive_spec("file=/x/disk.img,format=raw,if=virtio,readonly=on,snapshot=on,"
                               "id=d0,serial=ABC,cache=unsafe,discard=unmap,aio=threads",
                               &d, err, sizeof err));
    CHECK(!strcmp(d.file, "/x/disk.img"));
    CHECK(!strcmp(d.format, "raw"));
    CHECK(!strcmp(d.iface, "virtio"));
    CHECK(!strcmp(d.id, "d0"));
    CHECK(!strcmp(d.serial, "ABC"));
    CHECK(d.readonly && d.snapshot && d.cache_unsafe && d.discard_unmap);
    blk_drive_spec_free(&d);
    CHECK(blk_parse_drive_spec("disk.img", &d, err, sizeof err));
    CHECK(!strcmp(d.file, "disk.img"));
    CHECK(!strcmp(d.iface, "ide"));
    CHECK(!d.readonly && !d.snapshot);
    CHECK_EQ(d.index, -1);
    blk_drive_spec_free(&d);
    CHECK(blk_parse_drive_spec("file=a,,b.img,media=cdrom,index=2", &d, err, sizeof err));
    CHECK(!strcmp(d.file, "a,b.img"));
    CHECK(d.cdrom && d.readonly);
    CHECK_EQ(d.index, 2);
    blk_drive_spec_free(&d);
    CHECK(blk_parse_drive_spec("if=none,id=empty", &d, err, sizeof err));
    blk_drive_spec_free(&d);
    static const char *const bad[] = {
        "file=x,frobnicate=1", "file=x,if=usb",      "if=virtio",          "file=x,readonly=2",
        "file=x,media=tape",   "file=x,cache=maybe", "file=x,discard=yes", "file=x,index=-1",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        err[0] = 0;
        bool ok = blk_parse_drive_spec(bad[i], &d, err, sizeof err);
        if (ok) {
            printf("# '%s' accepted\n", bad[i]);
            blk_drive_spec_free(&d);
        }
        CHECK(!ok);
        CHECK(err[0] != 0 && !strchr(err, '\n'));
    }
    CHECK(!blk_parse_drive_spec("file=x,frobnicate=1", &d, err, sizeof err));
    CHECK(strstr(err, "frobnicate") != NULL);
}

TEST(open_errors)
{
    char err[256];
    CHECK(blk_open("/nonexistent/disk.img", NULL, BLK_O_RDWR, err, sizeof err) == NULL);
    CHECK(strstr(err, "/nonexistent/disk.img") != NULL);
    CHECK(blk_open("/tmp", NULL, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "directory") != NULL);
    char *path = make_image(4096, 1);
    CHECK(blk_open(path, "qcow3", 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "qcow3") != NULL);
    /* An image in a format we do not read yet is not silently treated as raw. */
    int fd = open(path, O_WRONLY);
    CHECK(write(fd, "QFI\xfb", 4) == 4);
    close(fd);
    CHECK(blk_open(path, NULL, BLK_O_RDWR, err, sizeof err) == NULL);
    CHECK(strstr(err, "qcow2") != NULL);
    /* ... unless the user says it is raw. */
    BlockDriverState *bs = blk_open(path, "raw", 0, err, sizeof err);
    CHECK(bs != NULL);
    blk_close(bs);
    unlink(path);
    free(path);
}

/* Opening a file we may not write, for writing, fails with one line; read-only and
 * snapshot opens work and leave it alone. Root ignores file modes, so the check runs in a
 * child that gives up root first. */
static int check_readonly_file(const char *path)
{
    char err[256];
    BlockDriverState *bs = blk_open(path, NULL, BLK_O_RDWR, err, sizeof err);
    if (bs || !strstr(err, "for writing") || !strstr(err, path) || strchr(err, '\n')) return 1;
    bs = blk_open(path, NULL, 0, err, sizeof err);
    if (!bs || !blk_is_read_only(bs)) return 2;
    uint8_t b[512];
    if (blk_pread(bs, 0, b, 512) != 0 || blk_pwrite(bs, 0, b, 512) != -EROFS) return 3;
    blk_close(bs);
    bs = blk_open(path, NULL, BLK_O_RDWR | BLK_O_SNAPSHOT, err, sizeof err);
    if (!bs || blk_is_read_only(bs)) return 4;
    memset(b, 0xee, sizeof b);
    if (blk_pwrite(bs, 0, b, 512) != 0) return 5;
    blk_close(bs);
    return 0;
}

TEST(read_only_file)
{
    char *path = make_image(8192, 2);
    size_t before_len;
    uint8_t *before = read_file(path, &before_len);
    chmod(path, 0444);
    int rc;
    if (getuid() == 0) {
        pid_t pid = fork();
        if (pid == 0) {
            if (setgid(65534) || setuid(65534)) _exit(99);
            _exit(check_readonly_file(path));
        }
        int st;
        waitpid(pid, &st, 0);
        rc = WIFEXITED(st) ? WEXITSTATUS(st) : 98;
    } else {
        rc = check_readonly_file(path);
    }
    CHECK_EQ(rc, 0);
    size_t after_len;
    uint8_t *after = read_file(path, &after_len);
    CHECK(after_len == before_len && !memcmp(before, after, before_len));
    free(before);
    free(after);
    unlink(path);
    free(path);
}

TEST(raw_io)
{
    char err[256];
    char *path = make_image(1 << 20, 3);
    BlockDriverState *bs = blk_open(path, NULL, BLK_O_RDWR | BLK_O_DISCARD, err, sizeof err);
    CHECK(bs != NULL);
    if (!bs) return;
    CHECK_EQ(blk_size(bs), 1 << 20);
    CHECK(!blk_is_read_only(bs));
    /* A second writer is locked out; so is a reader while we write. */
    CHECK(blk_open(path, NULL, BLK_O_RDWR, err, sizeof err) == NULL);
    CHECK(strstr(err, "in use") != NULL);
    CHECK(blk_open(path, NULL, 0, err, sizeof err) == NULL);
    uint8_t a[3000], b[3000];
    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (uint8_t)(i ^ 0x5a);
    struct iovec iov[3] = {{a, 1000}, {a + 1000, 1}, {a + 1001, 1999}};
    CHECK_EQ(blk_pwritev(bs, 12345, iov, 3), 0);
    CHECK_EQ(blk_pread(bs, 12345, b, sizeof b), 0);
    CHECK(!memcmp(a, b, sizeof a));
    CHECK_EQ(blk_pread(bs, (1 << 20) - 10, b, 11), -EINVAL);
    CHECK_EQ(blk_pread(bs, UINT64_MAX - 5, b, 11), -EINVAL);
    CHECK_EQ(blk_pwrite(bs, (1 << 20) - 10, b, 10), 0);
    CHECK_EQ(blk_flush(bs), 0);
    CHECK_EQ(blk_write_zeroes(bs, 4096, 8192, false), 0);
    CHECK_EQ(blk_pread(bs, 4096, b, 3000), 0);
    for (int i = 0; i < 3000; i++)
        CHECK_EQ(b[i], 0);
    CHECK_EQ(blk_discard(bs, 65536, 65536), 0);
    CHECK_EQ(blk_pread(bs, 65536, b, 3000), 0);
    for (int i = 0; i < 3000; i++)
        CHECK_EQ(b[i], 0); /* holes in a regular file read as zeros */
    CHECK_EQ(blk_write_zeroes(bs, 200000, 100, true), 0);
    CHECK_EQ(blk_discard(bs, (1 << 20) - 512, 1024), -EINVAL);
    blk_close(bs);
    unlink(path);
    free(path);
}

TEST(drive_open)
{
    char err[256];
    char *path = make_image(4096, 4);
    char spec[256];
    snprintf(spec, sizeof spec, "file=%s,format=raw,if=virtio,readonly=on", path);
    BlockDriverState *bs = blk_open_drive_spec(spec, false, err, sizeof err);
    CHECK(bs && blk_is_read_only(bs));
    blk_close(bs);
    snprintf(spec, sizeof spec, "file=%s,if=virtio", path);
    bs = blk_open_drive_spec(spec, true, err, sizeof err); /* global -snapshot */
    CHECK(bs && !blk_is_read_only(bs) && (bs->flags & BLK_O_SNAPSHOT));
    blk_close(bs);
    CHECK(blk_open_drive_spec("file=/no/such/file,if=virtio", false, err, sizeof err) == NULL);
    CHECK(strstr(err, "/no/such/file") != NULL);
    unlink(path);
    free(path);
}

/* Random writes through the overlay against a model; the image must not change. */
TEST(snapshot_overlay)
{
    char err[256];
    enum { SIZE = 300000 }; /* not a multiple of the 64 KiB cluster */
    char *path = make_image(SIZE, 5);
    size_t orig_len;
    uint8_t *orig = read_file(path, &orig_len);
    uint8_t *model = malloc(SIZE);
    memcpy(model, orig, SIZE);
    BlockDriverState *bs = blk_open(path, "raw", BLK_O_RDWR | BLK_O_SNAPSHOT, err, sizeof err);
    CHECK(bs != NULL);
    if (!bs) return;
    CHECK_EQ(blk_size(bs), SIZE);
    /* The image is only read: another writer could even open it (shared lock only). */
    uint8_t *buf = malloc(SIZE);
    unsigned seed = 12345;
    for (int op = 0; op < 300; op++) {
        seed = seed * 1103515245 + 12345;
        uint64_t off = (seed >> 8) % SIZE;
        seed = seed * 1103515245 + 12345;
        size_t len = 1 + (seed >> 8) % 150000;
        if (off + len > SIZE) len = SIZE - off;
        switch (op % 4) {
        case 0:
        case 1:
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)(op + i);
            /* Scatter the write over three pieces. */
            struct iovec iov[3] = {{buf, len / 3},
                                   {buf + len / 3, len / 3},
                                   {buf + 2 * (len / 3), len - 2 * (len / 3)}};
            CHECK_EQ(blk_pwritev(bs, off, iov, 3), 0);
            memcpy(model + off, buf, len);
            break;
        case 2:
            CHECK_EQ(blk_write_zeroes(bs, off, len, true), 0);
            memset(model + off, 0, len);
            break;
        case 3:
            CHECK_EQ(blk_pread(bs, off, buf, len), 0);
            CHECK(!memcmp(buf, model + off, len));
            break;
        }
    }
    CHECK_EQ(blk_pread(bs, 0, buf, SIZE), 0);
    CHECK(!memcmp(buf, model, SIZE));
    CHECK_EQ(blk_flush(bs), 0);
    CHECK_EQ(blk_discard(bs, 0, 65536), 0);
    blk_close(bs);
    size_t after_len;
    uint8_t *after = read_file(path, &after_len);
    CHECK_EQ(after_len, orig_len);
    CHECK(!memcmp(after, orig, orig_len));
    free(after);
    free(orig);
    free(model);
    free(buf);
    unlink(path);
    free(path);
}

TEST(snapshot_readonly_drive)
{
    char err[256];
    char *path = make_image(4096, 6);
    BlockDriverState *bs = blk_open(path, NULL, BLK_O_SNAPSHOT, err, sizeof err);
    CHECK(bs && blk_is_read_only(bs));
    uint8_t b[512] = {0};
    CHECK_EQ(blk_pwrite(bs, 0, b, 512), -EROFS);
    blk_close(bs);
    unlink(path);
    free(path);
}
