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

/* A frame with its virtio_net_hdr on the transmit queue. */
static void send_with_hdr(Nic *n, const uint8_t *hdr, const uint8_t *frame, uint32_t len)
{
    uint64_t h = vg_alloc(&n->g, HDR, 4), f = vg_alloc(&n->g, len, 4);
    memcpy(vg_ptr(&n->g, h), hdr, HDR);
    memcpy(vg_ptr(&n->g, f), frame, len);
    VBuf b[2] = {{h, HDR, false}, {f, len, false}};
    vq_add(&n->d, &n->d.q[TXQ], b, 2, false);
    vd_kick(&n->d, &n->d.q[TXQ]);
}

/* Without offloads: flags 0, GSO none. */
static void send_frame(Nic *n, const uint8_t *frame, uint32_t len)
{
    static const uint8_t none[HDR];
    send_with_hdr(n, none, frame, len);
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

/* ---- offloads (CSUM, HOST_TSO4, GUEST_CSUM) ---- */

enum { F_CSUM = 0, F_GUEST_CSUM = 1, F_HOST_TSO4 = 11 };

/* Ones' complement sum, written out independently of the device's. */
static uint32_t ocsum(uint32_t s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1) s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* Pseudo-header sum of an IPv4 packet at f + 14 with l4len transport bytes. */
static uint32_t pseudo(const uint8_t *f, unsigned l4len)
{
    return ocsum(f[14 + 9] + l4len, f + 14 + 12, 8);
}

/* IPv4 header checksum and TCP/UDP checksum both verify. */
static bool frame_sums_ok(const uint8_t *f, size_t len)
{
    unsigned ihl = (f[14] & 15) * 4u, tot = (unsigned)(f[16] << 8 | f[17]);
    if (14 + tot > len) return false;
    return ocsum(0, f + 14, ihl) == 0xffff &&
           ocsum(pseudo(f, tot - ihl), f + 14 + ihl, tot - ihl) == 0xffff;
}

/* Ethernet + IPv4 (no options) + TCP (no options) or UDP from 10.0.0.1 to 10.0.0.2 with
 * `payload` bytes; the transport checksum holds the pseudo-header sum only (partial). */
static size_t make_ip(uint8_t *f, bool tcp, size_t payload, uint32_t seq, uint8_t flags)
{
    size_t l4h = tcp ? 20 : 8, tot = 20 + l4h + payload;
    memset(f, 0, 14 + tot);
    memcpy(f, "\x52\x54\x00\x12\x34\x57\x52\x54\x00\x12\x34\x56\x08\x00", 14);
    uint8_t *ip = f + 14, *l4 = ip + 20;
    ip[0] = 0x45;
    ip[2] = (uint8_t)(tot >> 8), ip[3] = (uint8_t)tot;
    ip[4] = 0x12, ip[5] = 0x34, ip[6] = 0x40; /* id 0x1234, DF */
    ip[8] = 64, ip[9] = tcp ? 6 : 17;
    memcpy(ip + 12, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
    uint32_t s = ocsum(0, ip, 20);
    ip[10] = (uint8_t)(~s >> 8), ip[11] = (uint8_t)~s;
    l4[0] = 0x03, l4[1] = 0xe8, l4[2] = 0x07, l4[3] = 0xd0; /* ports 1000 -> 2000 */
    if (tcp) {
        l4[4] = (uint8_t)(seq >> 24), l4[5] = (uint8_t)(seq >> 16);
        l4[6] = (uint8_t)(seq >> 8), l4[7] = (uint8_t)seq;
        l4[11] = 1;                      /* ack 1 */
        l4[12] = 5 << 4, l4[13] = flags; /* no options */
        l4[14] = 0xff, l4[15] = 0xff;    /* window */
    } else {
        l4[4] = (uint8_t)((8 + payload) >> 8), l4[5] = (uint8_t)(8 + payload);
    }
    for (size_t i = 0; i < payload; i++)
        l4[l4h + i] = (uint8_t)(i * 13 + 5);
    uint32_t ps = pseudo(f, (unsigned)(l4h + payload));
    uint8_t *c = l4 + (tcp ? 16 : 6);
    c[0] = (uint8_t)(ps >> 8), c[1] = (uint8_t)ps;
    return 14 + tot;
}

/* A 2500-byte TCP payload sent as one frame with GSO TCPV4 and MSS 1000 arrives as three
 * frames with the IP lengths, identifications, sequence numbers, flags and both checksums
 * of separate segments; the receiver, which negotiated GUEST_CSUM, is told they verified. */
TEST(tso4_segments)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    uint64_t nomrg = ~VIRTIO_FEATURE(F_MRG_RXBUF);
    CHECK(pair_init(&p, &a, &b, nomrg, nomrg));
    CHECK(a.d.features & VIRTIO_FEATURE(F_HOST_TSO4));
    CHECK(a.d.features & VIRTIO_FEATURE(F_CSUM));
    vd_driver_ok(&a.d);
    vd_driver_ok(&b.d);
    uint64_t rx = post_rx(&b, 4, 1526 + HDR);
    vd_kick(&b.d, &b.d.q[RXQ]);
    static uint8_t f[2600];
    size_t len = make_ip(f, true, 2500, 0x01020304, 0x19);      /* FIN PSH ACK */
    uint8_t hdr[HDR] = {1, 1, 54, 0, 0xe8, 0x03, 34, 0, 16, 0}; /* NEEDS_CSUM, TCPV4, MSS 1000 */
    send_with_hdr(&a, hdr, f, (uint32_t)len);
    pump(&p, 6);
    for (unsigned k = 0; k < 3; k++) {
        uint32_t id = 0, got = 0;
        CHECK(vq_get_used(&b.d, &b.d.q[RXQ], &id, &got));
        const uint8_t *r = vg_ptr(&b.g, rx + (uint64_t)id * (1526 + HDR));
        const uint8_t *s = r + HDR;
        size_t n = k < 2 ? 1000 : 500;
        CHECK_EQ(got, HDR + 54 + n);
        CHECK_EQ(r[0], 2); /* DATA_VALID */
        CHECK(frame_sums_ok(s, got - HDR));
        CHECK_EQ((unsigned)(s[16] << 8 | s[17]), 40 + n);     /* IP total length */
        CHECK_EQ((unsigned)(s[18] << 8 | s[19]), 0x1234 + k); /* identification */
        uint32_t seq = (uint32_t)s[38] << 24 | s[39] << 16 | s[40] << 8 | s[41];
        CHECK_EQ(seq, 0x01020304 + 1000 * k);
        CHECK_EQ(s[47], k < 2 ? 0x10 : 0x19); /* FIN PSH on the last */
        CHECK(!memcmp(s + 54, f + 54 + 1000 * k, n));
    }
    CHECK(!vq_get_used(&b.d, &b.d.q[RXQ], NULL, NULL));
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}

/* NEEDS_CSUM without GSO: the device completes a UDP checksum; a receiver gets DATA_VALID only
 * for frames whose checksum verifies, and only if it negotiated GUEST_CSUM. */
TEST(checksum_offloads)
{
    Poller p;
    CHECK(poller_init(&p));
    Nic a, b;
    uint64_t nomrg = ~VIRTIO_FEATURE(F_MRG_RXBUF);
    CHECK(pair_init(&p, &a, &b, nomrg, nomrg & ~VIRTIO_FEATURE(F_GUEST_CSUM)));
    vd_driver_ok(&a.d);
    vd_driver_ok(&b.d);
    uint64_t rx_a = post_rx(&a, 4, 1526 + HDR), rx_b = post_rx(&b, 4, 1526 + HDR);
    vd_kick(&a.d, &a.d.q[RXQ]);
    vd_kick(&b.d, &b.d.q[RXQ]);
    static uint8_t f[600], g2[600];
    size_t len = make_ip(f, false, 301, 0, 0);
    uint8_t hdr[HDR] = {1, 0, 0, 0, 0, 0, 34, 0, 6, 0}; /* NEEDS_CSUM at 34 + 6 */
    send_with_hdr(&a, hdr, f, (uint32_t)len);
    /* From b: one TCP frame with a correct checksum, one with a wrong one, no offload. */
    size_t glen = make_ip(g2, true, 100, 7, 0x10);
    memcpy(g2, "\x52\x54\x00\x12\x34\x56\x52\x54\x00\x12\x34\x57", 12);
    g2[50] = g2[51] = 0;
    uint32_t s = ocsum(pseudo(g2, 120), g2 + 34, 120);
    g2[50] = (uint8_t)(~s >> 8), g2[51] = (uint8_t)~s;
    CHECK(frame_sums_ok(g2, glen));
    send_frame(&b, g2, (uint32_t)glen);
    g2[60] ^= 1;
    send_frame(&b, g2, (uint32_t)glen);
    pump(&p, 6);
    uint32_t got = 0;
    CHECK(vq_get_used(&b.d, &b.d.q[RXQ], NULL, &got));
    CHECK_EQ(got, HDR + len);
    const uint8_t *r = vg_ptr(&b.g, rx_b);
    CHECK_EQ(r[0], 0); /* b did not negotiate GUEST_CSUM */
    CHECK(frame_sums_ok(r + HDR, len));
    CHECK(!memcmp(r + HDR + 42, f + 42, 301));
    CHECK(vq_get_used(&a.d, &a.d.q[RXQ], NULL, &got));
    CHECK_EQ(vg_ptr(&a.g, rx_a)[0], 2); /* verified */
    CHECK(vq_get_used(&a.d, &a.d.q[RXQ], NULL, &got));
    CHECK_EQ(vg_ptr(&a.g, rx_a + 1526 + HDR)[0], 0); /* corrupted: the guest checks it */
    vg_free(&a.g);
    vg_free(&b.g);
    poller_destroy(&p);
}
