/* -netdev socket: QEMU's length-prefixed TCP framing (frames split and coalesced arbitrarily
 * by the stream), flow control towards a front end that has no room, a bogus length from the
 * peer, listen/connect pairs, UDP, and spec errors. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/poll.h"
#include "net/net.h"

typedef struct Front {
    uint8_t frames[16][2048];
    size_t len[16];
    int n;
    bool full; /* refuse frames */
} Front;

static bool fe_receive(void *o, const uint8_t *f, size_t len)
{
    Front *fr = o;
    if (fr->full || fr->n == 16) return false;
    memcpy(fr->frames[fr->n], f, len < 2048 ? len : 2048);
    fr->len[fr->n++] = len;
    return true;
}

static void pump(Poller *p, int rounds)
{
    for (int i = 0; i < rounds; i++)
        poller_wait(p, 10 * 1000000LL);
}

static int free_port(int type)
{
    int fd = socket(AF_INET, type, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    bind(fd, (struct sockaddr *)&sa, sizeof sa);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    close(fd);
    return ntohs(sa.sin_port);
}

static int tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void put_frame(uint8_t *p, const char *s)
{
    size_t n = strlen(s);
    p[0] = (uint8_t)(n >> 24);
    p[1] = (uint8_t)(n >> 16);
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    memcpy(p + 4, s, n);
}

static bool read_all(int fd, uint8_t *buf, size_t len)
{
    while (len) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 1000) <= 0) return false;
        ssize_t n = read(fd, buf, len);
        if (n <= 0) return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

TEST(stream_framing)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[128], err[256];
    int port = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=n0,listen=127.0.0.1:%d", port);
    NetPort *np = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(np != NULL);
    if (!np) return;
    CHECK(!strcmp(np->id, "n0"));
    Front fr = {0};
    net_port_set_frontend(np, fe_receive, &fr);
    /* Sending with no peer drops the frame. */
    net_port_send(np, (const uint8_t *)"lost", 4);
    net_port_flush(np);
    int fd = tcp_connect(port);
    CHECK(fd >= 0);
    pump(&p, 2);
    /* Two frames in one write, then one frame byte by byte, then an empty frame. */
    uint8_t buf[64];
    put_frame(buf, "hello");
    put_frame(buf + 9, "world!");
    CHECK(write(fd, buf, 19) == 19);
    pump(&p, 3);
    put_frame(buf, "split");
    for (int i = 0; i < 9; i++) {
        CHECK(write(fd, buf + i, 1) == 1);
        pump(&p, 1);
    }
    put_frame(buf, "");
    put_frame(buf + 4, "end");
    CHECK(write(fd, buf, 11) == 11);
    pump(&p, 3);
    CHECK_EQ(fr.n, 4);
    CHECK(fr.len[0] == 5 && !memcmp(fr.frames[0], "hello", 5));
    CHECK(fr.len[1] == 6 && !memcmp(fr.frames[1], "world!", 6));
    CHECK(fr.len[2] == 5 && !memcmp(fr.frames[2], "split", 5));
    CHECK(fr.len[3] == 3 && !memcmp(fr.frames[3], "end", 3));
    /* Frames from the guest get the same framing; they are held until the front end's
     * flush, then written together. */
    net_port_send(np, (const uint8_t *)"to-peer", 7);
    net_port_send(np, (const uint8_t *)"2nd", 3);
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    CHECK_EQ(poll(&pfd, 1, 50), 0);
    net_port_flush(np);
    uint8_t got[18];
    CHECK(read_all(fd, got, 18));
    CHECK(got[0] == 0 && got[1] == 0 && got[2] == 0 && got[3] == 7);
    CHECK(!memcmp(got + 4, "to-peer", 7));
    CHECK(got[11] == 0 && got[12] == 0 && got[13] == 0 && got[14] == 3);
    CHECK(!memcmp(got + 15, "2nd", 3));
    /* A second client is refused while the first is connected. */
    int fd2 = tcp_connect(port);
    pump(&p, 2);
    uint8_t c;
    CHECK(fd2 < 0 || read(fd2, &c, 1) == 0);
    if (fd2 >= 0) close(fd2);
    close(fd);
    pump(&p, 2);
    /* After the peer left, a new one is accepted. */
    fd = tcp_connect(port);
    pump(&p, 2);
    put_frame(buf, "again");
    CHECK(write(fd, buf, 9) == 9);
    pump(&p, 3);
    CHECK_EQ(fr.n, 5);
    close(fd);
    net_port_close(np);
    poller_destroy(&p);
}

TEST(flow_control)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[128], err[256];
    int port = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=n0,listen=127.0.0.1:%d", port);
    NetPort *np = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(np != NULL);
    if (!np) return;
    Front fr = {.full = true};
    net_port_set_frontend(np, fe_receive, &fr);
    int fd = tcp_connect(port);
    pump(&p, 2);
    uint8_t buf[64];
    for (int i = 0; i < 5; i++) {
        char s[16];
        snprintf(s, sizeof s, "f%d", i);
        put_frame(buf, s);
        CHECK(write(fd, buf, 6) == 6);
    }
    pump(&p, 5);
    CHECK_EQ(fr.n, 0);
    /* Room again: everything arrives, in order, none lost. */
    fr.full = false;
    net_port_accept_input(np);
    pump(&p, 3);
    CHECK_EQ(fr.n, 5);
    for (int i = 0; i < fr.n; i++) {
        char s[16];
        snprintf(s, sizeof s, "f%d", i);
        CHECK(fr.len[i] == 2 && !memcmp(fr.frames[i], s, 2));
    }
    close(fd);
    net_port_close(np);
    poller_destroy(&p);
}

TEST(bogus_length_disconnects)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[128], err[256];
    int port = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=n0,listen=127.0.0.1:%d", port);
    NetPort *np = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(np != NULL);
    if (!np) return;
    Front fr = {0};
    net_port_set_frontend(np, fe_receive, &fr);
    int fd = tcp_connect(port);
    pump(&p, 2);
    uint8_t bad[8] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    CHECK(write(fd, bad, 8) == 8);
    pump(&p, 3);
    uint8_t c;
    struct pollfd pfd = {fd, POLLIN, 0};
    CHECK(poll(&pfd, 1, 1000) == 1 && read(fd, &c, 1) <= 0);
    CHECK_EQ(fr.n, 0);
    close(fd);
    net_port_close(np);
    poller_destroy(&p);
}

TEST(listen_connect_pair)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[128], err[256];
    int port = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=a,listen=:%d", port);
    NetPort *a = net_open_netdev_spec(spec, &p, err, sizeof err);
    snprintf(spec, sizeof spec, "socket,id=b,connect=127.0.0.1:%d", port);
    NetPort *b = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(a && b);
    if (!a || !b) return;
    Front fa = {0}, fb = {0};
    net_port_set_frontend(a, fe_receive, &fa);
    net_port_set_frontend(b, fe_receive, &fb);
    pump(&p, 2);
    uint8_t big[1500];
    for (int i = 0; i < 1500; i++)
        big[i] = (uint8_t)i;
    net_port_send(a, big, 1500);
    net_port_flush(a);
    net_port_send(b, (const uint8_t *)"pong", 4);
    net_port_flush(b);
    pump(&p, 4);
    CHECK_EQ(fb.n, 1);
    CHECK(fb.len[0] == 1500 && !memcmp(fb.frames[0], big, 1500));
    CHECK_EQ(fa.n, 1);
    CHECK(fa.len[0] == 4 && !memcmp(fa.frames[0], "pong", 4));
    net_port_close(b);
    net_port_close(a);
    poller_destroy(&p);
}

TEST(udp_pair)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[160], err[256];
    int pa = free_port(SOCK_DGRAM), pb = free_port(SOCK_DGRAM);
    snprintf(spec, sizeof spec, "socket,id=a,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pb, pa);
    NetPort *a = net_open_netdev_spec(spec, &p, err, sizeof err);
    snprintf(spec, sizeof spec, "socket,id=b,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", pa, pb);
    NetPort *b = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(a && b);
    if (!a || !b) return;
    Front fa = {0}, fb = {.full = true};
    net_port_set_frontend(a, fe_receive, &fa);
    net_port_set_frontend(b, fe_receive, &fb);
    net_port_send(a, (const uint8_t *)"one", 3);
    net_port_send(a, (const uint8_t *)"two", 3);
    net_port_flush(a);
    pump(&p, 3);
    CHECK_EQ(fb.n, 0); /* held */
    fb.full = false;
    net_port_accept_input(b);
    pump(&p, 3);
    CHECK_EQ(fb.n, 2);
    CHECK(fb.len[1] == 3 && !memcmp(fb.frames[1], "two", 3));
    net_port_send(b, (const uint8_t *)"back", 4);
    net_port_flush(b);
    pump(&p, 3);
    CHECK_EQ(fa.n, 1);
    net_port_close(a);
    net_port_close(b);
    poller_destroy(&p);
}

TEST(spec_errors)
{
    Poller p;
    CHECK(poller_init(&p));
    char err[256], spec[128];
    int port = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=x,connect=127.0.0.1:%d", port);
    const char *bad[] = {
        "socket,listen=:1234",                         /* no id */
        "tap,id=n0",                                   /* unsupported type */
        "socket,id=n0",                                /* no mode */
        "socket,id=n0,listen=:1,connect=a:2",          /* two modes */
        "socket,id=n0,listen=1234",                    /* no colon */
        "socket,id=n0,connect=no.such.host.invalid:1", /* unresolvable */
        "socket,id=n0,listen=:1,frob=1",               /* unknown option */
        "socket,id=n0,mcast=127.0.0.1:1234",           /* not multicast */
        "socket,id=n0,udp=127.0.0.1:1",                /* udp without localaddr */
        "socket,id=n0,listen=:1,localaddr=1.2.3.4",    /* localaddr without udp/mcast */
        spec,                                          /* connection refused */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        NetPort *np = net_open_netdev_spec(bad[i], &p, err, sizeof err);
        if (np) {
            printf("# '%s' accepted\n", bad[i]);
            net_port_close(np);
        }
        CHECK(np == NULL);
        CHECK(err[0] && !strchr(err, '\n'));
    }
    /* Listening on a port in use. */
    int lp = free_port(SOCK_STREAM);
    snprintf(spec, sizeof spec, "socket,id=a,listen=127.0.0.1:%d", lp);
    NetPort *a = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(a != NULL);
    CHECK(net_open_netdev_spec(spec, &p, err, sizeof err) == NULL);
    net_port_close(a);
    poller_destroy(&p);
}

/* Multicast needs a route for the group; where the host has none, opening fails with a
 * one-line error and the rest is skipped. */
TEST(mcast_group)
{
    Poller p;
    CHECK(poller_init(&p));
    char spec[128], err[256];
    int port = free_port(SOCK_DGRAM);
    snprintf(spec, sizeof spec, "socket,id=a,mcast=230.0.0.1:%d,localaddr=127.0.0.1", port);
    NetPort *a = net_open_netdev_spec(spec, &p, err, sizeof err);
    if (!a) {
        printf("# mcast unavailable here: %s\n", err);
        CHECK(err[0] && !strchr(err, '\n'));
        poller_destroy(&p);
        return;
    }
    snprintf(spec, sizeof spec, "socket,id=b,mcast=230.0.0.1:%d,localaddr=127.0.0.1", port);
    NetPort *b = net_open_netdev_spec(spec, &p, err, sizeof err);
    CHECK(b != NULL);
    Front fa = {0}, fb = {0};
    net_port_set_frontend(a, fe_receive, &fa);
    net_port_set_frontend(b, fe_receive, &fb);
    net_port_send(a, (const uint8_t *)"mc", 2);
    net_port_flush(a);
    pump(&p, 5);
    /* Every member sees the frame, the sender too (as with QEMU's mcast netdev). */
    CHECK_EQ(fb.n, 1);
    CHECK(fb.n == 0 || (fb.len[0] == 2 && !memcmp(fb.frames[0], "mc", 2)));
    net_port_close(a);
    net_port_close(b);
    poller_destroy(&p);
}
