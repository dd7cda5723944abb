/* virtio-blk through the PCI transport against temporary raw images: configuration, read,
 * write, flush, get-id, discard, write zeroes, status codes for bad requests, read-only
 * disks, and -snapshot leaving the image file byte-identical. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "hw/virtio/virtio_blk.h"
#include "virtio_guest.h"

enum {
    IMG_SIZE = 1 << 20,
    SLOT = 5,
    BAR = 0xfe000000u,
    T_IN = 0,
    T_OUT = 1,
    T_FLUSH = 4,
    T_GET_ID = 8,
    T_DISCARD = 11,
    T_WRITE_ZEROES = 13,
    S_OK = 0,
    S_IOERR = 1,
    S_UNSUPP = 2,
    F_RO = 5,
    F_FLUSH = 9,
    F_DISCARD = 13,
    F_WRITE_ZEROES = 14,
    F_SEG_MAX = 2,
    F_BLK_SIZE = 6,
};

typedef struct Rig {
    VGuest g;
    VDev d;
    char *path;
    uint64_t hdr, status, data;
} Rig;

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 13 + (i >> 9));
}

static char *make_image(void)
{
    char *path = strdup("/tmp/kestrel-vblk-XXXXXX");
    int fd = mkstemp(path);
    uint8_t *buf = malloc(IMG_SIZE);
    for (size_t i = 0; i < IMG_SIZE; i++)
        buf[i] = pattern(i);
    if (write(fd, buf, IMG_SIZE) != IMG_SIZE) abort();
    close(fd);
    free(buf);
    return path;
}

static uint8_t *read_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    uint8_t *buf = malloc(IMG_SIZE);
    if (read(fd, buf, IMG_SIZE) != IMG_SIZE) abort();
    close(fd);
    return buf;
}

/* Machine with a virtio-blk on a fresh image opened with spec options (e.g. "readonly=on"). */
static bool rig_init(Rig *r, const char *opts, uint64_t features)
{
    memset(r, 0, sizeof *r);
    r->path = make_image();
    vg_init(&r->g);
    char spec[256], err[256];
    snprintf(spec, sizeof spec, "file=%s,format=raw,if=virtio%s%s", r->path, *opts ? "," : "",
             opts);
    BlockDriverState *bs = blk_open_drive_spec(spec, false, err, sizeof err);
    if (!bs) {
        printf("# %s\n", err);
        return false;
    }
    if (!virtio_blk_new(r->g.bus, SLOT, &r->g.mem, bs, "SERIAL123", err, sizeof err)) {
        blk_close(bs);
        return false;
    }
    if (!vd_probe(&r->d, &r->g, SLOT, BAR) || !vd_init(&r->d, features) ||
        !vd_setup_queue(&r->d, 0, 0))
        return false;
    vd_driver_ok(&r->d);
    r->hdr = vg_alloc(&r->g, 16, 16);
    r->status = vg_alloc(&r->g, 1, 1);
    r->data = vg_alloc(&r->g, 64 * 1024, 4096);
    return true;
}

static void rig_free(Rig *r)
{
    vg_free(&r->g);
    unlink(r->path);
    free(r->path);
}

/* Issue one request; data of len bytes at r->data, split into pieces of at most piece bytes.
 * Returns the status byte, or 0xee if the request was not completed. */
static uint8_t req(Rig *r, uint32_t type, uint64_t sector, uint32_t len, uint32_t piece,
                   bool indirect, uint32_t *used_len)
{
    uint8_t *h = vg_ptr(&r->g, r->hdr);
    virtio_stl(h, type);
    virtio_stl(h + 4, 0);
    virtio_stq(h + 8, sector);
    *vg_ptr(&r->g, r->status) = 0xee;
    VBuf b[40];
    int n = 0;
    b[n++] = (VBuf){r->hdr, 16, false};
    bool in = type == T_IN || type == T_GET_ID;
    for (uint32_t off = 0; off < len; off += piece)
        b[n++] = (VBuf){r->data + off, len - off < piece ? len - off : piece, in};
    b[n++] = (VBuf){r->status, 1, true};
    uint16_t head = vq_add(&r->d, &r->d.q[0], b, n, indirect);
    vd_kick(&r->d, &r->d.q[0]);
    uint32_t id, ulen;
    if (!vq_get_used(&r->d, &r->d.q[0], &id, &ulen)) return 0xee;
    CHECK_EQ(id, head);
    if (used_len) *used_len = ulen;
    return *vg_ptr(&r->g, r->status);
}

TEST(config_and_features)
{
    Rig r;
    CHECK(rig_init(&r, "", ~0ull));
    uint64_t f = r.d.features;
    CHECK(f >> F_FLUSH & 1);
    CHECK(f >> F_DISCARD & 1);
    CHECK(f >> F_WRITE_ZEROES & 1);
    CHECK(f >> F_SEG_MAX & 1);
    CHECK(f >> F_BLK_SIZE & 1);
    CHECK(!(f >> F_RO & 1));
    CHECK_EQ(vd_config_read(&r.d, 0, 4), IMG_SIZE / 512);
    CHECK_EQ(vd_config_read(&r.d, 4, 4), 0);
    CHECK_EQ(vd_config_read(&r.d, 20, 4), 512); /* blk_size */
    CHECK(vd_config_read(&r.d, 12, 4) >= 1);    /* seg_max */
    CHECK(vd_config_read(&r.d, 36, 4) >= 1);    /* max_discard_sectors */
    CHECK(vd_config_read(&r.d, 40, 4) >= 1);    /* max_discard_seg */
    CHECK(r.d.device_len >= 60);
    rig_free(&r);
    CHECK(rig_init(&r, "readonly=on", ~0ull));
    CHECK(r.d.features >> F_RO & 1);
    rig_free(&r);
}

TEST(read_write_flush)
{
    Rig r;
    CHECK(rig_init(&r, "", ~0ull));
    uint32_t ulen = 0;
    /* Read 8 sectors at sector 3 in 512-byte pieces, directly and through an indirect
     * table. */
    for (int indirect = 0; indirect < 2; indirect++) {
        memset(vg_ptr(&r.g, r.data), 0, 4096);
        CHECK_EQ(req(&r, T_IN, 3, 4096, indirect ? 700 : 512, indirect, &ulen), S_OK);
        CHECK_EQ(ulen, 4097);
        bool same = true;
        for (int i = 0; i < 4096; i++)
            same &= vg_ptr(&r.g, r.data)[i] == pattern(3 * 512 + (size_t)i);
        CHECK(same);
    }
    /* Write two sectors and read them back. */
    for (int i = 0; i < 1024; i++)
        vg_ptr(&r.g, r.data)[i] = (uint8_t)(0xa0 ^ i);
    CHECK_EQ(req(&r, T_OUT, 100, 1024, 300, false, &ulen), S_OK);
    CHECK_EQ(ulen, 1);
    memset(vg_ptr(&r.g, r.data), 0, 1024);
    CHECK_EQ(req(&r, T_IN, 100, 1024, 1024, false, NULL), S_OK);
    CHECK_EQ(vg_ptr(&r.g, r.data)[5], 0xa0 ^ 5);
    CHECK_EQ(req(&r, T_FLUSH, 0, 0, 1, false, &ulen), S_OK);
    CHECK_EQ(ulen, 1);
    /* The data reached the image file. */
    uint8_t *file = read_file(r.path);
    CHECK_EQ(file[100 * 512 + 7], 0xa0 ^ 7);
    CHECK_EQ(file[102 * 512], pattern(102 * 512));
    free(file);
    /* Last sector fine, one past the end not; partial sectors are errors. */
    CHECK_EQ(req(&r, T_IN, IMG_SIZE / 512 - 1, 512, 512, false, NULL), S_OK);
    CHECK_EQ(req(&r, T_IN, IMG_SIZE / 512, 512, 512, false, NULL), S_IOERR);
    CHECK_EQ(req(&r, T_IN, UINT64_MAX / 256, 512, 512, false, NULL), S_IOERR);
    CHECK_EQ(req(&r, T_OUT, IMG_SIZE / 512 - 1, 1024, 1024, false, NULL), S_IOERR);
    CHECK_EQ(req(&r, T_IN, 0, 100, 100, false, NULL), S_IOERR);
    CHECK_EQ(req(&r, 77, 0, 0, 1, false, NULL), S_UNSUPP);
    CHECK(!(vd_status(&r.d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    rig_free(&r);
}

TEST(get_id)
{
    Rig r;
    CHECK(rig_init(&r, "", ~0ull));
    memset(vg_ptr(&r.g, r.data), 0x55, 20);
    uint32_t ulen;
    CHECK_EQ(req(&r, T_GET_ID, 0, 20, 20, false, &ulen), S_OK);
    CHECK_EQ(ulen, 21);
    CHECK(!memcmp(vg_ptr(&r.g, r.data), "SERIAL123\0\0\0\0\0\0\0\0\0\0\0", 20));
    rig_free(&r);
}

static void put_range(Rig *r, int i, uint64_t sector, uint32_t count, uint32_t flags)
{
    uint8_t *p = vg_ptr(&r->g, r->data) + 16 * i;
    virtio_stq(p, sector);
    virtio_stl(p + 8, count);
    virtio_stl(p + 12, flags);
}

TEST(discard_and_write_zeroes)
{
    Rig r;
    CHECK(rig_init(&r, "discard=unmap", ~0ull));
    put_range(&r, 0, 8, 8, 0);
    put_range(&r, 1, 256, 128, 0);
    CHECK_EQ(req(&r, T_DISCARD, 0, 32, 32, false, NULL), S_OK);
    put_range(&r, 0, 1024, 16, 1);
    CHECK_EQ(req(&r, T_WRITE_ZEROES, 0, 16, 16, false, NULL), S_OK);
    put_range(&r, 0, 1100, 3, 0);
    CHECK_EQ(req(&r, T_WRITE_ZEROES, 0, 16, 16, false, NULL), S_OK);
    uint8_t *file = read_file(r.path);
    bool zero = true;
    for (int i = 1024 * 512; i < 1040 * 512; i++)
        zero &= file[i] == 0;
    for (int i = 1100 * 512; i < 1103 * 512; i++)
        zero &= file[i] == 0;
    for (int i = 256 * 512; i < 384 * 512; i++)
        zero &= file[i] == 0; /* discard punched a hole */
    CHECK(zero);
    CHECK_EQ(file[1040 * 512], pattern(1040 * 512));
    CHECK_EQ(file[1099 * 512 + 511], pattern(1099 * 512 + 511));
    free(file);
    /* Discard with the unmap flag, unknown flags, ragged or empty lists, out of range. */
    put_range(&r, 0, 0, 1, 1);
    CHECK_EQ(req(&r, T_DISCARD, 0, 16, 16, false, NULL), S_UNSUPP);
    put_range(&r, 0, 0, 1, 2);
    CHECK_EQ(req(&r, T_WRITE_ZEROES, 0, 16, 16, false, NULL), S_UNSUPP);
    CHECK_EQ(req(&r, T_DISCARD, 0, 12, 12, false, NULL), S_UNSUPP);
    CHECK_EQ(req(&r, T_DISCARD, 0, 0, 1, false, NULL), S_UNSUPP);
    put_range(&r, 0, IMG_SIZE / 512 - 1, 2, 0);
    CHECK_EQ(req(&r, T_DISCARD, 0, 16, 16, false, NULL), S_IOERR);
    rig_free(&r);
    /* A driver that did not negotiate DISCARD gets UNSUPP. */
    CHECK(rig_init(&r, "", ~VIRTIO_FEATURE(F_DISCARD)));
    put_range(&r, 0, 0, 1, 0);
    CHECK_EQ(req(&r, T_DISCARD, 0, 16, 16, false, NULL), S_UNSUPP);
    rig_free(&r);
}

TEST(read_only)
{
    Rig r;
    CHECK(rig_init(&r, "readonly=on", ~0ull));
    CHECK_EQ(req(&r, T_IN, 0, 512, 512, false, NULL), S_OK);
    CHECK_EQ(req(&r, T_OUT, 0, 512, 512, false, NULL), S_IOERR);
    put_range(&r, 0, 0, 1, 0);
    CHECK_EQ(req(&r, T_WRITE_ZEROES, 0, 16, 16, false, NULL), S_IOERR);
    CHECK_EQ(req(&r, T_FLUSH, 0, 0, 1, false, NULL), S_OK);
    uint8_t *file = read_file(r.path);
    CHECK_EQ(file[0], pattern(0));
    free(file);
    rig_free(&r);
}

TEST(snapshot_leaves_image_identical)
{
    Rig r;
    CHECK(rig_init(&r, "snapshot=on", ~0ull));
    uint8_t *before = read_file(r.path);
    for (int round = 0; round < 20; round++) {
        uint64_t sector = (uint64_t)(round * 97) % (IMG_SIZE / 512 - 64);
        for (int i = 0; i < 8192; i++)
            vg_ptr(&r.g, r.data)[i] = (uint8_t)(round + i);
        CHECK_EQ(req(&r, T_OUT, sector, 8192, 4096, round & 1, NULL), S_OK);
        memset(vg_ptr(&r.g, r.data), 0, 8192);
        CHECK_EQ(req(&r, T_IN, sector, 8192, 8192, false, NULL), S_OK);
        CHECK_EQ(vg_ptr(&r.g, r.data)[1234], (uint8_t)(round + 1234));
    }
    put_range(&r, 0, 500, 100, 1);
    CHECK_EQ(req(&r, T_WRITE_ZEROES, 0, 16, 16, false, NULL), S_OK);
    put_range(&r, 0, 800, 100, 0);
    CHECK_EQ(req(&r, T_DISCARD, 0, 16, 16, false, NULL), S_OK);
    CHECK_EQ(req(&r, T_FLUSH, 0, 0, 1, false, NULL), S_OK);
    CHECK_EQ(req(&r, T_IN, 500, 512, 512, false, NULL), S_OK);
    CHECK_EQ(vg_ptr(&r.g, r.data)[100], 0);
    /* Free the machine (closing the overlay) before comparing. */
    vg_free(&r.g);
    uint8_t *after = read_file(r.path);
    CHECK(!memcmp(before, after, IMG_SIZE));
    free(before);
    free(after);
    unlink(r.path);
    free(r.path);
}

TEST(malformed_requests)
{
    Rig r;
    CHECK(rig_init(&r, "", ~0ull));
    /* A header shorter than 16 bytes: the device needs a reset. */
    VBuf b[2] = {{r.hdr, 8, false}, {r.status, 1, true}};
    vq_add(&r.d, &r.d.q[0], b, 2, false);
    vd_kick(&r.d, &r.d.q[0]);
    CHECK(!vq_get_used(&r.d, &r.d.q[0], NULL, NULL));
    CHECK(vd_status(&r.d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* No status byte. */
    CHECK(vd_init(&r.d, ~0ull) && vd_setup_queue(&r.d, 0, 0));
    vd_driver_ok(&r.d);
    VBuf c[1] = {{r.hdr, 16, false}};
    vq_add(&r.d, &r.d.q[0], c, 1, false);
    vd_kick(&r.d, &r.d.q[0]);
    CHECK(vd_status(&r.d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    /* Header split over two descriptors is fine. */
    CHECK(vd_init(&r.d, ~0ull) && vd_setup_queue(&r.d, 0, 0));
    vd_driver_ok(&r.d);
    uint8_t *h = vg_ptr(&r.g, r.hdr);
    virtio_stl(h, T_IN);
    virtio_stl(h + 4, 0);
    virtio_stq(h + 8, 2);
    VBuf s[4] = {
        {r.hdr, 5, false}, {r.hdr + 5, 11, false}, {r.data, 512, true}, {r.status, 1, true}};
    vq_add(&r.d, &r.d.q[0], s, 4, false);
    vd_kick(&r.d, &r.d.q[0]);
    CHECK(vq_get_used(&r.d, &r.d.q[0], NULL, NULL));
    CHECK_EQ(*vg_ptr(&r.g, r.status), S_OK);
    CHECK_EQ(vg_ptr(&r.g, r.data)[0], pattern(1024));
    rig_free(&r);
}
