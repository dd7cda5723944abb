/* -netdev socket: Ethernet frames over TCP (QEMU's stream framing: each frame preceded by its
 * length as a 4-byte big-endian number) as listener or client, or one frame per UDP datagram
 * to a peer or a multicast group. Interoperates with QEMU's socket netdev. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/clock.h"
#include "net/net.h"
#include "util/alloc.h"
#include "util/log.h"

typedef enum { NS_LISTEN, NS_CONNECT, NS_UDP, NS_MCAST } NetSocketMode;

enum {
    NS_RBUF_SIZE = 64 * 1024,
    NS_WBUF_SIZE = 256 * 1024, /* frames (with their length prefixes) held until a flush */
    NS_SEND_TIMEOUT_MS = 2000, /* to finish a frame already partly on the wire */
};

typedef struct NetSocket {
    NetPort port;
    Poller *poller;
    NetSocketMode mode;
    int listen_fd; /* NS_LISTEN */
    int fd;        /* connected stream or datagram socket; -1 while unconnected */
    bool watching, in_process;
    struct sockaddr_storage dst; /* datagram destination */
    socklen_t dst_len;
    /* Stream receive state: bytes read but not yet parsed, the length prefix being
     * assembled, and the frame being assembled (or held for the front end). */
    uint8_t *rbuf;
    size_t rpos, rlen;
    uint8_t hdr[4];
    unsigned hdr_got;
    uint8_t *frame;
    size_t frame_len, frame_got;
    bool frame_ready;
    /* Stream send state: whole frames with their prefixes, written at once by ns_flush. */
    uint8_t *wbuf;
    size_t wlen;
} NetSocket;

static void ns_readable(void *opaque);

static void ns_set_watch(NetSocket *s, bool want)
{
    if (want == s->watching) return;
    if (want)
        poller_watch(s->poller, s->fd, ns_readable, s);
    else
        poller_unwatch(s->poller, s->fd);
    s->watching = want;
}

static void ns_disconnect(NetSocket *s)
{
    if (s->fd < 0) return;
    ns_set_watch(s, false);
    close(s->fd);
    s->fd = -1;
    s->rpos = s->rlen = 0;
    s->hdr_got = 0;
    s->frame_got = s->frame_len = 0;
    s->frame_ready = false;
    s->wlen = 0;
    LOG(LOG_DEV, "netdev %s: peer disconnected", s->port.id);
}

/* Deliver what has been received as far as the front end takes it; keep reading from the
 * socket only while nothing is held. */
static void ns_process(NetSocket *s)
{
    if (s->in_process || s->fd < 0) return;
    s->in_process = true;
    for (;;) {
        if (s->frame_ready) {
            if (!net_port_deliver(&s->port, s->frame, s->frame_len)) break;
            s->frame_ready = false;
        }
        if (s->rpos == s->rlen) break;
        if (s->hdr_got < 4) {
            while (s->hdr_got < 4 && s->rpos < s->rlen)
                s->hdr[s->hdr_got++] = s->rbuf[s->rpos++];
            if (s->hdr_got < 4) break;
            uint32_t len = (uint32_t)s->hdr[0] << 24 | (uint32_t)s->hdr[1] << 16 |
                           (uint32_t)s->hdr[2] << 8 | s->hdr[3];
            if (len > NET_MAX_FRAME) {
                /* The stream cannot be resynchronised after a bogus length. */
                LOG(LOG_DEV, "netdev %s: frame length %u from peer, disconnecting", s->port.id,
                    len);
                s->in_process = false;
                ns_disconnect(s);
                return;
            }
            s->frame_len = len;
            s->frame_got = 0;
            if (len == 0) s->hdr_got = 0; /* empty frames carry nothing */
            continue;
        }
        size_t n = s->frame_len - s->frame_got;
        if (n > s->rlen - s->rpos) n = s->rlen - s->rpos;
        memcpy(s->frame + s->frame_got, s->rbuf + s->rpos, n);
        s->frame_got += n;
        s->rpos += n;
        if (s->frame_got == s->frame_len) {
            s->frame_ready = true;
            s->hdr_got = 0;
        }
    }
    s->in_process = false;
    if (s->fd >= 0) ns_set_watch(s, !s->frame_ready && s->rpos == s->rlen);
}

static void ns_readable(void *opaque)
{
    NetSocket *s = opaque;
    if (s->fd < 0) return;
    if (s->mode == NS_UDP || s->mode == NS_MCAST) {
        if (s->frame_ready) return;
        ssize_t n = recv(s->fd, s->frame, NET_MAX_FRAME, MSG_DONTWAIT);
        if (n <= 0) return; /* datagram sockets have no end of stream */
        s->frame_len = (size_t)n;
        s->frame_ready = true;
        ns_process(s);
        return;
    }
    if (s->frame_ready || s->rpos < s->rlen) {
        ns_process(s);
        return;
    }
    ssize_t n = recv(s->fd, s->rbuf, NS_RBUF_SIZE, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
        ns_disconnect(s);
        return;
    }
    s->rpos = 0;
    s->rlen = (size_t)n;
    ns_process(s);
}

static void ns_attach(NetSocket *s, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    s->fd = fd;
    s->watching = false;
    ns_set_watch(s, true);
}

static void ns_accept(void *opaque)
{
    NetSocket *s = opaque;
    int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0) return;
    if (s->fd >= 0) {
        close(fd); /* one peer at a time */
        return;
    }
    LOG(LOG_DEV, "netdev %s: peer connected", s->port.id);
    ns_attach(s, fd);
}

/* Write the rest of a frame that is partly sent: the stream would be garbage otherwise. */
static bool ns_finish_write(int fd, struct iovec *iov, int cnt, size_t done)
{
    int64_t deadline = host_monotonic_ns() + NS_SEND_TIMEOUT_MS * 1000000LL;
    for (;;) {
        while (cnt && done >= iov->iov_len) {
            done -= iov->iov_len;
            iov++, cnt--;
        }
        if (!cnt) return true;
        iov->iov_base = (uint8_t *)iov->iov_base + done;
        iov->iov_len -= done;
        struct pollfd pfd = {.fd = fd, .events = POLLOUT};
        int64_t left = (deadline - host_monotonic_ns()) / 1000000;
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0) return false;
        struct msghdr m = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
        ssize_t n = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return false;
        done = n > 0 ? (size_t)n : 0;
    }
}

/* Writes the held frames: all of them, or none when the socket cannot take any now (dropped,
 * as on a congested wire); a batch partly written is finished, since the stream would be
 * garbage otherwise. */
static void ns_flush(NetPort *p)
{
    NetSocket *s = (NetSocket *)p;
    if (s->fd < 0 || !s->wlen) return;
    struct iovec iov = {s->wbuf, s->wlen};
    s->wlen = 0;
    ssize_t n;
    do {
        n = send(s->fd, iov.iov_base, iov.iov_len, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK) ns_disconnect(s);
        return;
    }
    if ((size_t)n < iov.iov_len && !ns_finish_write(s->fd, &iov, 1, (size_t)n)) ns_disconnect(s);
}

static void ns_send(NetPort *p, const uint8_t *frame, size_t len)
{
    NetSocket *s = (NetSocket *)p;
    if (s->fd < 0 || len > NET_MAX_FRAME) return;
    if (s->mode == NS_UDP || s->mode == NS_MCAST) {
        sendto(s->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr *)&s->dst,
               s->dst_len);
        return;
    }
    if (s->wlen + 4 + len > NS_WBUF_SIZE) ns_flush(p);
    if (s->fd < 0) return;
    uint8_t *w = s->wbuf + s->wlen;
    w[0] = (uint8_t)(len >> 24), w[1] = (uint8_t)(len >> 16);
    w[2] = (uint8_t)(len >> 8), w[3] = (uint8_t)len;
    memcpy(w + 4, frame, len);
    s->wlen += 4 + len;
}

static void ns_accept_input(NetPort *p)
{
    ns_process((NetSocket *)p);
}

static void ns_close(NetPort *p)
{
    NetSocket *s = (NetSocket *)p;
    ns_flush(p);
    ns_disconnect(s);
    if (s->listen_fd >= 0) {
        poller_unwatch(s->poller, s->listen_fd);
        close(s->listen_fd);
    }
    free(s->rbuf);
    free(s->wbuf);
    free(s->frame);
    free(s->port.id);
    free(s);
}

/* Split "HOST:PORT" (HOST may be empty or [v6]) and resolve it. */
static bool ns_resolve(const char *what, const char *spec, int socktype, bool passive,
                       struct sockaddr_storage *out, socklen_t *out_len, char *err, size_t errlen)
{
    char *s = xstrdup(spec);
    char *colon = strrchr(s, ':');
    bool ok = false;
    if (!colon || !colon[1]) {
        snprintf(err, errlen, "-netdev socket: %s=%s: expected HOST:PORT", what, spec);
        goto out;
    }
    *colon = '\0';
    char *host = s;
    size_t hl = strlen(host);
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        host++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = socktype};
    if (passive) hints.ai_flags = AI_PASSIVE;
    struct addrinfo *res;
    int rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "-netdev socket: %s=%s: %s", what, spec, gai_strerror(rc));
        goto out;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *out_len = res->ai_addrlen;
    freeaddrinfo(res);
    ok = true;
out:
    free(s);
    return ok;
}

static int ns_open_listen(NetSocket *s, const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (!ns_resolve("listen", spec, SOCK_STREAM, true, &sa, &len, err, errlen)) return -1;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, len) < 0 || listen(fd, 1) < 0) {
        snprintf(err, errlen, "-netdev socket: listen=%s: %s", spec, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    s->listen_fd = fd;
    poller_watch(s->poller, fd, ns_accept, s);
    return 0;
}

static int ns_open_connect(NetSocket *s, const char *spec, char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (!ns_resolve("connect", spec, SOCK_STREAM, false, &sa, &len, err, errlen)) return -1;
    int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int r = fd < 0 ? -1 : connect(fd, (struct sockaddr *)&sa, len);
    while (r < 0 && errno == EINTR)
        r = connect(fd, (struct sockaddr *)&sa, len);
    if (r < 0) {
        snprintf(err, errlen, "-netdev socket: connect=%s: %s", spec, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    ns_attach(s, fd);
    return 0;
}

static int ns_open_udp(NetSocket *s, const char *spec, const char *local, char *err, size_t errlen)
{
    struct sockaddr_storage sa;
    socklen_t len;
    if (!local) {
        snprintf(err, errlen, "-netdev socket: udp= needs localaddr=HOST:PORT");
        return -1;
    }
    if (!ns_resolve("udp", spec, SOCK_DGRAM, false, &s->dst, &s->dst_len, err, errlen) ||
        !ns_resolve("localaddr", local, SOCK_DGRAM, true, &sa, &len, err, errlen))
        return -1;
    int fd = socket(sa.ss_family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&sa, len) < 0) {
        snprintf(err, errlen, "-netdev socket: localaddr=%s: %s", local, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    ns_attach(s, fd);
    return 0;
}

static int ns_open_mcast(NetSocket *s, const char *spec, const char *local, char *err,
                         size_t errlen)
{
    if (!ns_resolve("mcast", spec, SOCK_DGRAM, false, &s->dst, &s->dst_len, err, errlen)) return -1;
    struct sockaddr_in *group = (struct sockaddr_in *)&s->dst;
    if (group->sin_family != AF_INET || !IN_MULTICAST(ntohl(group->sin_addr.s_addr))) {
        snprintf(err, errlen, "-netdev socket: mcast=%s is not an IPv4 multicast group", spec);
        return -1;
    }
    struct ip_mreq mreq = {.imr_multiaddr = group->sin_addr};
    mreq.imr_interface.s_addr = htonl(INADDR_ANY);
    if (local && inet_pton(AF_INET, local, &mreq.imr_interface) != 1) {
        snprintf(err, errlen, "-netdev socket: localaddr=%s is not an IPv4 address", local);
        return -1;
    }
    /* Bind the group address itself so only the group's traffic arrives; loop back so that
     * several emulators on one host see each other. */
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    unsigned char loop = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)group, sizeof *group) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop) < 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq.imr_interface,
                   sizeof mreq.imr_interface) < 0) {
        snprintf(err, errlen, "-netdev socket: mcast=%s: %s", spec, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    ns_attach(s, fd);
    return 0;
}

NetPort *net_socket_new(Poller *p, const char *id, const NetSocketOptions *o, char *err,
                        size_t errlen)
{
    if (!p) {
        snprintf(err, errlen, "-netdev socket: no event loop to watch the socket on");
        return NULL;
    }
    int modes = !!o->listen + !!o->connect + !!o->mcast + !!o->udp;
    if (modes != 1) {
        snprintf(err, errlen,
                 "-netdev socket: give exactly one of listen=, connect=, mcast=, "
                 "udp=");
        return NULL;
    }
    if (o->localaddr && !o->udp && !o->mcast) {
        snprintf(err, errlen, "-netdev socket: localaddr= only goes with udp= or mcast=");
        return NULL;
    }
    NetSocket *s = XNEW(NetSocket);
    s->port.id = xstrdup(id);
    s->port.type = "socket";
    s->port.send = ns_send;
    s->port.flush = ns_flush;
    s->port.accept_input = ns_accept_input;
    s->port.close = ns_close;
    s->poller = p;
    s->listen_fd = s->fd = -1;
    s->rbuf = xmalloc(NS_RBUF_SIZE);
    s->wbuf = xmalloc(NS_WBUF_SIZE);
    s->frame = xmalloc(NET_MAX_FRAME);
    int r;
    if (o->listen) {
        s->mode = NS_LISTEN;
        r = ns_open_listen(s, o->listen, err, errlen);
    } else if (o->connect) {
        s->mode = NS_CONNECT;
        r = ns_open_connect(s, o->connect, err, errlen);
    } else if (o->udp) {
        s->mode = NS_UDP;
        r = ns_open_udp(s, o->udp, o->localaddr, err, errlen);
    } else {
        s->mode = NS_MCAST;
        r = ns_open_mcast(s, o->mcast, o->localaddr, err, errlen);
    }
    if (r < 0) {
        ns_close(&s->port);
        return NULL;
    }
    return &s->port;
}
