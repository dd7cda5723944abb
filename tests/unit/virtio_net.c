/* virtio-net: two guests' devices connected through -netdev socket (listen/connect on
 * loopback) exchanging frames; the virtio_net_hdr and num_buffers; mergeable receive buffers;
 * frames held while the guest has no buffers and delivered after it adds some; frames too big
 * for a buffer; the MAC in the configuration. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/poll.h"
#include "hw/virtio/virtio_net.h"
#include "net/net.h"
#include "virtio_guest.h"

enum {
    SLOT = 3,
    BAR = 0xfe000000u,
    F_MAC = 5,
    F_MRG_RXBUF = 15,
    F_STATUS = 16,
    HDR = 12,
    RXQ = 0,
    TXQ = 1,
};

typedef struct Nic {
    VGuest g;
    VDev d;
} Nic;

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

static void pump(Poller *p, int rounds)
{
    for (int i = 0; i < rounds; i++)
        poller_wait(p, 10 * 1000000LL);
}

static bool nic_init(Nic *n, NetPort *port, const uint8_t *mac, uint64_t features)
{
    vg_init(&n->g);
    char err[256];
    if (!virtio_net_new(n->g.bus, SLOT, &n->g.mem, port, mac, err, sizeof err)) return false;
    return vd_probe(&n->d, &n->g, SLOT, BAR) && vd_init(&n->d, features) &&
           vd_setup_queue(&n->d, RXQ, 0) && vd_setup_queue(&n->d, TXQ, 0);
}

/* Post count receive buffers of size bytes each; returns the first buffer's address. */
static uint64_t post_rx(Nic *n, int count, uint32_t size)
{
    uint64_t base = vg_alloc(&n->g, (uint64_t)count * size, 16);
    for (int i = 0; i < count; i++) {
        VBuf b = {base + (uint64_t)i * size, size, true};
        vq_add(&n->d, &n->d.q[RXQ], &b, 1, false);
    }
    return base;
}

static void send_frame(Nic *n, const uint8_t *frame, uint32_t len)
{
    uint64_t h = vg_alloc(&n->g, HDR, 4), f = vg_alloc(&n->g, len, 4);
    memcpy(vg_ptr(&n->g, f), frame, len);
    VBuf b[2] = {{h, HDR, false}, {f, len, false}};
    vq_add(&n->d, &n->d.q[TXQ], b, 2, false);
    vd_kick(&n->d, &n->d.q[TXQ]);
}

static void make_frame(uint8_t *f, uint32_t len, uint8_t tag)
{
    memset(f, 0xff, 6); /* broadcast */
    memcpy(f + 6, "\x52\x54\x00\x12\x34\x56", 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental ethertype */
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(tag + i);
}

/* Two NICs wired together: a listens, b connects. */
static bool pair_init(Poller *p, Nic *a, Nic *b, uint64_t fa, uint64_t fb)
{
    char spec[128], err[256];
    int port = free_port();
    snprintf(spec, sizeof spec, "socket,id=a,listen=127.0.0.1:%d", port);
    NetPort *pa = net_open_netdev_spec(spec, p, err, sizeof err);
    snprintf(spec, sizeof spec, "socket,id=b,connect=127.0.0.1:%d", port);
    NetPort *pb = net_open_netdev_spec(spec, p, err, sizeof err);
    if (!pa || !pb) return false;
    static const uint8_t mac_b[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
    bool ok = nic_init(a, pa, NULL, fa) && nic_init(b, pb, mac_b, fb);
    pump(p, 2);
    return ok;
}

TEST(config)
{
    Nic n;
    CHECK(nic_init(&n, NULL, NULL, ~0ull));
    CHECK(n.d.features >> F_MAC & 1);
    CHECK(n.d.features >> F_STATUS & 1);
    CHECK(n.d.features >> F_MRG_RXBUF & 1);
    uint8_t mac[6];
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)vd_config_read(&n.d, (unsigned)i, 1);
    CHECK(!memcmp(mac, "\x52\x54\x00\x12\x34\x56", 6));
    CHECK_EQ(vd_config_read(&n.d, 6, 2), 1); /* link up */
    /* Transmitting without a back end just completes the buffers. */
    vd_driver_ok(&n.d);
    uint8_t f[60];
    make_frame(f, 60, 1);
    send_frame(&n, f, 60);
    uint32_t len = 99;
    CHECK(vq_get_used(&n.d, &n.d.q[TXQ], NULL, &len));
    CHECK_EQ(len, 0);
    CHECK_EQ(vd_irq(&n.d), 1);
    vg_free(&n.g);
}

TEST(frames_between_two_guests)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    uint64_t nomrg = ~VIRTIO_FEATURE(F_MRG_RXBUF);
    CHECK(pair_init(&p, &a, &b, nomrg, nomrg));
    vd_driver_ok(&a.d);
    vd_driver_ok(&b.d);
    uint64_t rx_a = post_rx(&a, 4, 1526 + HDR);
    uint64_t rx_b = post_rx(&b, 4, 1526 + HDR);
    vd_kick(&a.d, &a.d.q[RXQ]);
    vd_kick(&b.d, &b.d.q[RXQ]);
    uint8_t f[1514], g2[100];
    make_frame(f, sizeof f, 7);
    make_frame(g2, sizeof g2, 9);
    send_frame(&a, f, sizeof f);
    send_frame(&b, g2, sizeof g2);
    CHECK(vq_get_used(&a.d, &a.d.q[TXQ], NULL, NULL));
    pump(&p, 4);
    uint32_t id = 0, len = 0;
    CHECK(vq_get_used(&b.d, &b.d.q[RXQ], &id, &len));
    CHECK_EQ(len, HDR + sizeof f);
    uint8_t *hdr = vg_ptr(&b.g, rx_b);
    CHECK_EQ(hdr[0], 0);               /* flags */
    CHECK_EQ(hdr[1], 0);               /* GSO none */
    CHECK_EQ(virtio_ldw(hdr + 10), 1); /* num_buffers */
    CHECK(!memcmp(hdr + HDR, f, sizeof f));
    CHECK_EQ(vd_irq(&b.d), 1);
    CHECK(vq_get_used(&a.d, &a.d.q[RXQ], NULL, &len));
    CHECK_EQ(len, HDR + sizeof g2);
    CHECK(!memcmp(vg_ptr(&a.g, rx_a) + HDR, g2, sizeof g2));
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}

TEST(mergeable_buffers)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    CHECK(pair_init(&p, &a, &b, ~0ull, ~0ull));
    CHECK(b.d.features >> F_MRG_RXBUF & 1);
    vd_driver_ok(&a.d);
    vd_driver_ok(&b.d);
    uint64_t rx = post_rx(&b, 8, 256);
    vd_kick(&b.d, &b.d.q[RXQ]);
    uint8_t f[1000];
    make_frame(f, sizeof f, 3);
    send_frame(&a, f, sizeof f);
    pump(&p, 4);
    /* 12 + 1000 bytes over 256-byte buffers: 4 buffers, the last with 244 bytes. */
    CHECK_EQ(virtio_ldw(vg_ptr(&b.g, rx) + 10), 4);
    uint32_t lens[4] = {0}, total = 0;
    for (int i = 0; i < 4; i++) {
        CHECK(vq_get_used(&b.d, &b.d.q[RXQ], NULL, &lens[i]));
        total += lens[i];
    }
    CHECK_EQ(lens[0], 256);
    CHECK_EQ(lens[3], 244);
    CHECK_EQ(total, HDR + sizeof f);
    CHECK(!vq_get_used(&b.d, &b.d.q[RXQ], NULL, NULL));
    CHECK(!memcmp(vg_ptr(&b.g, rx) + HDR, f, 256 - HDR));
    CHECK(!memcmp(vg_ptr(&b.g, rx) + 256, f + 256 - HDR, 1000 - (256 - HDR)));
    /* Not enough buffers left (4 x 256) for a 1500-byte frame: held, not split or lost. */
    uint8_t big[1500];
    make_frame(big, sizeof big, 5);
    send_frame(&a, big, sizeof big);
    pump(&p, 4);
    CHECK(!vq_get_used(&b.d, &b.d.q[RXQ], NULL, NULL));
    uint64_t more = post_rx(&b, 4, 256);
    (void)more;
    vd_kick(&b.d, &b.d.q[RXQ]);
    pump(&p, 2);
    int count = 0;
    total = 0;
    uint32_t len;
    while (vq_get_used(&b.d, &b.d.q[RXQ], NULL, &len)) {
        count++;
        total += len;
    }
    CHECK_EQ(count, 6);
    CHECK_EQ(total, HDR + sizeof big);
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}

TEST(no_buffers_then_buffers)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    uint64_t nomrg = ~VIRTIO_FEATURE(F_MRG_RXBUF);
    CHECK(pair_init(&p, &a, &b, nomrg, nomrg));
    vd_driver_ok(&a.d);
    /* b's driver is not ready yet, then has no buffers: frames wait in the back end. */
    uint8_t f[3][200];
    for (int i = 0; i < 3; i++) {
        make_frame(f[i], 200, (uint8_t)(10 * i));
        send_frame(&a, f[i], 200);
    }
    pump(&p, 3);
    vd_driver_ok(&b.d);
    pump(&p, 3);
    CHECK(!vq_get_used(&b.d, &b.d.q[RXQ], NULL, NULL));
    /* Without mergeable buffers a frame must fit one buffer; one that does not is dropped
     * (as QEMU does), the buffer stays unused, and the device keeps working. */
    post_rx(&b, 1, 100);
    vd_kick(&b.d, &b.d.q[RXQ]);
    pump(&p, 2);
    CHECK(!vq_get_used(&b.d, &b.d.q[RXQ], NULL, NULL));
    CHECK(!(vd_status(&b.d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET));
    /* Small frames still fit it. */
    uint8_t tiny[60];
    make_frame(tiny, sizeof tiny, 1);
    send_frame(&a, tiny, sizeof tiny);
    pump(&p, 3);
    uint32_t len = 0;
    CHECK(vq_get_used(&b.d, &b.d.q[RXQ], NULL, &len));
    CHECK_EQ(len, HDR + sizeof tiny);
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}

TEST(held_frames_are_delivered_in_order)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    uint64_t nomrg = ~VIRTIO_FEATURE(F_MRG_RXBUF);
    CHECK(pair_init(&p, &a, &b, nomrg, nomrg));
    vd_driver_ok(&a.d);
    vd_driver_ok(&b.d);
    uint8_t f[5][300];
    for (int i = 0; i < 5; i++) {
        make_frame(f[i], 300, (uint8_t)(20 * i));
        send_frame(&a, f[i], 300);
    }
    pump(&p, 3);
    uint64_t rx = post_rx(&b, 2, 1526 + HDR);
    vd_kick(&b.d, &b.d.q[RXQ]);
    pump(&p, 2);
    uint64_t rx2 = post_rx(&b, 3, 1526 + HDR);
    vd_kick(&b.d, &b.d.q[RXQ]);
    pump(&p, 2);
    uint32_t len = 0;
    for (int i = 0; i < 5; i++) {
        CHECK(vq_get_used(&b.d, &b.d.q[RXQ], NULL, &len));
        CHECK_EQ(len, HDR + 300);
        uint64_t addr =
            i < 2 ? rx + (uint64_t)i * (1526 + HDR) : rx2 + (uint64_t)(i - 2) * (1526 + HDR);
        CHECK(!memcmp(vg_ptr(&b.g, addr) + HDR, f[i], 300));
    }
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}

TEST(bad_tx_buffer)
{
    Nic n;
    CHECK(nic_init(&n, NULL, NULL, ~0ull));
    vd_driver_ok(&n.d);
    uint64_t h = vg_alloc(&n.g, 4, 4);
    VBuf b = {h, 4, false}; /* shorter than virtio_net_hdr */
    vq_add(&n.d, &n.d.q[TXQ], &b, 1, false);
    vd_kick(&n.d, &n.d.q[TXQ]);
    CHECK(vd_status(&n.d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    vg_free(&n.g);
}
