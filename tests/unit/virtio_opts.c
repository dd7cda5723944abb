/* Command-line handling of virtio devices: which options are ours, syntax errors as one line,
 * realizing drives, netdevs, -nic, consoles and rng on a PCI bus at the requested slots,
 * realize-time errors, and -snapshot keeping the image intact. */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hw/virtio/virtio_opts.h"
#include "virtio_guest.h"

static char *make_image(size_t size)
{
    char *path = strdup("/tmp/kestrel-vopts-XXXXXX");
    int fd = mkstemp(path);
    uint8_t *buf = calloc(1, size);
    for (size_t i = 0; i < size; i++)
        buf[i] = (uint8_t)(i * 3);
    if (write(fd, buf, size) != (ssize_t)size) abort();
    close(fd);
    free(buf);
    return path;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

typedef struct Chars {
    Chardev *c0;
} Chars;

static Chardev *lookup(void *opaque, const char *id)
{
    Chars *c = opaque;
    return !strcmp(id, "c0") ? c->c0 : NULL;
}

TEST(which_options_are_ours)
{
    char err[256];
    VirtioOpts *o = virtio_opts_new();
    CHECK(virtio_opts_empty(o));
    CHECK_EQ(virtio_opts_drive(o, "file=disk.img", err, sizeof err), 0); /* if=ide */
    CHECK_EQ(virtio_opts_drive(o, "file=disk.img,if=floppy", err, sizeof err), 0);
    CHECK_EQ(virtio_opts_drive(o, "file=disk.img,if=virtio", err, sizeof err), 1);
    CHECK(!virtio_opts_empty(o));
    CHECK_EQ(virtio_opts_drive(o, "file=d2.img,if=none,id=d2", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "e1000,netdev=n0", err, sizeof err), 0);
    CHECK_EQ(virtio_opts_device(o, "ide-hd,drive=d2", err, sizeof err), 0);
    /* Another device model can claim an if=none drive, once; if=virtio ones are taken. */
    CHECK_EQ(virtio_opts_drive(o, "if=none,id=cd,media=cdrom", err, sizeof err), 1);
    const DriveSpec *cd = virtio_opts_claim_drive(o, "cd");
    CHECK(cd && cd->cdrom && !cd->file);
    CHECK(virtio_opts_claim_drive(o, "cd") == NULL);
    CHECK(virtio_opts_claim_drive(o, "nope") == NULL);
    CHECK_EQ(virtio_opts_device(o, "isa-debug-exit,iobase=0xf4,iosize=4", err, sizeof err), 0);
    CHECK_EQ(virtio_opts_nic(o, "user,model=e1000", err, sizeof err), 0);
    CHECK_EQ(virtio_opts_nic(o, "none", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-rng-pci,id=rng0,addr=0x1f.0,bus=pci.0", err, sizeof err),
             1);
    CHECK_EQ(virtio_opts_device(o,
                                "virtio-blk-pci,drive=d2,serial=XYZ,disable-legacy=on,"
                                "bootindex=1",
                                err, sizeof err),
             1);
    virtio_opts_free(o);
}

TEST(syntax_errors)
{
    static const char *const devices[] = {
        "virtio-net-pci,mac=52:54:00:12:34",
        "virtio-net-pci,mac=01:00:00:00:00:01",
        "virtio-net-pci,mac=52:54:00:12:34:56:78",
        "virtio-blk-pci",
        "virtio-rng-pci,frob=1",
        "virtio-rng-pci,addr=0x20",
        "virtio-rng-pci,addr=3.1",
        "virtio-rng-pci,bus=pci.1",
        "virtio-rng-pci,disable-modern=on",
        "virtconsole,chardev=c0",
        "",
        "virtio-rng-pci,addr=zz",
    };
    char err[256];
    for (size_t i = 0; i < ARRAY_SIZE(devices); i++) {
        VirtioOpts *o = virtio_opts_new();
        err[0] = 0;
        int r = virtio_opts_device(o, devices[i], err, sizeof err);
        if (r != -1) printf("# '%s' gave %d\n", devices[i], r);
        CHECK_EQ(r, -1);
        CHECK(err[0] && !strchr(err, '\n'));
        virtio_opts_free(o);
    }
    VirtioOpts *o = virtio_opts_new();
    CHECK_EQ(virtio_opts_device(o, "virtio-serial-pci", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtconsole", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_device(o, "virtconsole,chardev=c0,frob=2", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_device(o, "virtconsole,chardev=c0,name=org.x", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtconsole,chardev=c1", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_netdev(o, "user,id=n0", err, sizeof err), -1);
    CHECK(strstr(err, "user") != NULL);
    CHECK_EQ(virtio_opts_netdev(o, "socket,listen=:1", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_netdev(o, "socket,id=n0,listen=:1", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_netdev(o, "socket,id=n0,listen=:2", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_drive(o, "file=x,if=virtio,bogus=1", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_drive(o, "file=x,if=none,id=a", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_drive(o, "file=y,if=none,id=a", err, sizeof err), -1);
    CHECK_EQ(virtio_opts_nic(o, "socket,listen=:1,model=virtio-net-pci,mac=zz", err, sizeof err),
             -1);
    virtio_opts_free(o);
}

TEST(realize_everything)
{
    char err[256], spec[256];
    VGuest g;
    vg_init(&g);
    Poller p;
    CHECK(poller_init(&p));
    char *img1 = make_image(1 << 20), *img2 = make_image(1 << 16);
    int port = free_port(), port2 = free_port();
    VirtioOpts *o = virtio_opts_new();
    snprintf(spec, sizeof spec, "file=%s,format=raw,if=virtio", img1);
    CHECK_EQ(virtio_opts_drive(o, spec, err, sizeof err), 1);
    snprintf(spec, sizeof spec, "file=%s,if=none,id=d1,readonly=on", img2);
    CHECK_EQ(virtio_opts_drive(o, spec, err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-blk-pci,drive=d1,addr=9", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-rng-pci,addr=0x1f", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-serial-pci,addr=0a.0", err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtconsole,chardev=c0", err, sizeof err), 1);
    snprintf(spec, sizeof spec, "socket,id=n0,listen=127.0.0.1:%d", port);
    CHECK_EQ(virtio_opts_netdev(o, spec, err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-net-pci,netdev=n0,mac=52:54:00:aa:bb:cc,addr=0x10", err,
                                sizeof err),
             1);
    snprintf(spec, sizeof spec, "socket,listen=127.0.0.1:%d,model=virtio-net-pci", port2);
    CHECK_EQ(virtio_opts_nic(o, spec, err, sizeof err), 1);
    CHECK_EQ(virtio_opts_device(o, "virtio-net-pci", err, sizeof err), 1); /* no back end */
    Chars chars = {chr_null_new()};
    bool ok = virtio_opts_realize(o, g.bus, &g.mem, &p, lookup, &chars, err, sizeof err);
    if (!ok) printf("# %s\n", err);
    CHECK(ok);
    virtio_opts_free(o);
    /* The automatic if=virtio disk took the first free slot. */
    PciDevice *d;
    CHECK((d = pci_find_device(g.bus, 0, 0)) && pci_get_word(d, PCI_DEVICE_ID) == 0x1042);
    CHECK((d = pci_find_device(g.bus, 9, 0)) && pci_get_word(d, PCI_DEVICE_ID) == 0x1042);
    CHECK((d = pci_find_device(g.bus, 0x1f, 0)) && pci_get_word(d, PCI_DEVICE_ID) == 0x1044);
    CHECK((d = pci_find_device(g.bus, 0x0a, 0)) && pci_get_word(d, PCI_DEVICE_ID) == 0x1043);
    CHECK((d = pci_find_device(g.bus, 0x10, 0)) && pci_get_word(d, PCI_DEVICE_ID) == 0x1041);
    /* MACs: explicit, then the defaults in order. */
    static const struct {
        int slot;
        uint8_t last;
    } macs[] = {{0x10, 0xcc}, {1, 0x56}, {2, 0x57}};
    for (size_t i = 0; i < ARRAY_SIZE(macs); i++) {
        VDev v;
        CHECK(vd_probe(&v, &g, macs[i].slot, 0xf0000000u + 0x10000u * (uint32_t)i));
        CHECK_EQ(vd_config_read(&v, 5, 1), macs[i].last);
    }
    /* The read-only drive is a read-only disk. */
    VDev v;
    CHECK(vd_probe(&v, &g, 9, 0xf1000000u));
    CHECK(vd_device_features(&v) >> 5 & 1);
    /* The listening sockets are up. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port2),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    close(fd);
    vg_free(&g);
    chr_close(chars.c0);
    poller_destroy(&p);
    unlink(img1);
    unlink(img2);
    free(img1);
    free(img2);
}

static bool realize_one(const char *drive, const char *netdev, const char *dev1, const char *dev2,
                        char *err, size_t errlen)
{
    VGuest g;
    vg_init(&g);
    Poller p;
    poller_init(&p);
    VirtioOpts *o = virtio_opts_new();
    bool ok = (!drive || virtio_opts_drive(o, drive, err, errlen) == 1) &&
              (!netdev || virtio_opts_netdev(o, netdev, err, errlen) == 1) &&
              (!dev1 || virtio_opts_device(o, dev1, err, errlen) == 1) &&
              (!dev2 || virtio_opts_device(o, dev2, err, errlen) == 1);
    if (ok) ok = virtio_opts_realize(o, g.bus, &g.mem, &p, lookup, &(Chars){0}, err, errlen);
    virtio_opts_free(o);
    vg_free(&g);
    poller_destroy(&p);
    return ok;
}

TEST(realize_errors)
{
    char err[256], spec[256];
    char *img = make_image(4096);
    snprintf(spec, sizeof spec, "file=%s,if=none,id=d0", img);
    CHECK(realize_one(spec, NULL, "virtio-blk-pci,drive=d0", NULL, err, sizeof err));
    CHECK(!realize_one(spec, NULL, "virtio-blk-pci,drive=d9", NULL, err, sizeof err));
    CHECK(strstr(err, "d9") != NULL);
    CHECK(!realize_one(spec, NULL, "virtio-blk-pci,drive=d0", "virtio-blk-pci,drive=d0", err,
                       sizeof err));
    CHECK(!realize_one(spec, NULL, "virtio-blk-pci,drive=d0,addr=4", "virtio-rng-pci,addr=4", err,
                       sizeof err));
    CHECK(strstr(err, "slot 4") != NULL);
    snprintf(spec, sizeof spec, "file=%s,if=virtio,id=v0", img);
    CHECK(!realize_one(spec, NULL, "virtio-blk-pci,drive=v0", NULL, err, sizeof err));
    CHECK(!realize_one("file=/no/such/image.img,if=virtio", NULL, NULL, NULL, err, sizeof err));
    CHECK(strstr(err, "/no/such/image.img") != NULL && !strchr(err, '\n'));
    CHECK(!realize_one(NULL, "socket,id=n0,listen=:1", "virtio-net-pci,netdev=n1", NULL, err,
                       sizeof err));
    CHECK(!realize_one(NULL, NULL, "virtio-serial-pci", "virtconsole,chardev=zz", err, sizeof err));
    CHECK(strstr(err, "zz") != NULL);
    snprintf(spec, sizeof spec, "socket,id=n0,connect=127.0.0.1:%d", free_port());
    CHECK(!realize_one(NULL, spec, "virtio-net-pci,netdev=n0", NULL, err, sizeof err));
    CHECK(strstr(err, "connect") != NULL);
    unlink(img);
    free(img);
}

TEST(snapshot_option)
{
    char err[256], spec[256];
    char *img = make_image(1 << 16);
    int fd = open(img, O_RDONLY);
    uint8_t before[1 << 16], after[1 << 16];
    CHECK(read(fd, before, sizeof before) == sizeof before);
    close(fd);
    VGuest g;
    vg_init(&g);
    VirtioOpts *o = virtio_opts_new();
    virtio_opts_set_snapshot(o, true);
    snprintf(spec, sizeof spec, "file=%s,if=virtio", img);
    CHECK_EQ(virtio_opts_drive(o, spec, err, sizeof err), 1);
    CHECK(virtio_opts_realize(o, g.bus, &g.mem, NULL, NULL, NULL, err, sizeof err));
    virtio_opts_free(o);
    VDev d;
    CHECK(vd_probe(&d, &g, 0, 0xf0000000u) && vd_init(&d, ~0ull) && vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    uint64_t h = vg_alloc(&g, 16, 16), data = vg_alloc(&g, 4096, 16), st = vg_alloc(&g, 1, 1);
    virtio_stl(vg_ptr(&g, h), 1); /* OUT */
    virtio_stq(vg_ptr(&g, h) + 8, 4);
    memset(vg_ptr(&g, data), 0x77, 4096);
    VBuf b[3] = {{h, 16, false}, {data, 4096, false}, {st, 1, true}};
    vq_add(&d, &d.q[0], b, 3, false);
    vd_kick(&d, &d.q[0]);
    CHECK(vq_get_used(&d, &d.q[0], NULL, NULL));
    CHECK_EQ(*vg_ptr(&g, st), 0);
    vg_free(&g);
    fd = open(img, O_RDONLY);
    CHECK(read(fd, after, sizeof after) == sizeof after);
    close(fd);
    CHECK(!memcmp(before, after, sizeof before));
    unlink(img);
    free(img);
}
