/* Socket back end: TCP or Unix stream socket, as client or as a server accepting one client at
 * a time (later connections are refused while one is active). No telnet negotiation. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "chardev/fdinput.h"
#include "util/alloc.h"

typedef struct SocketChr {
    Chardev chr;
    ChrFdInput in;
    Poller *poller;
    int listen_fd, fd;
    char *unix_path; /* server socket file to remove at close */
    char desc[160];
} SocketChr;

static void socket_disconnect(SocketChr *s)
{
    chr_fdinput_stop(&s->in);
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
}

static void socket_on_eof(void *opaque)
{
    socket_disconnect(opaque);
}

static void socket_attach(SocketChr *s, int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* fails harmlessly on Unix */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    s->fd = fd;
    chr_fdinput_start(&s->in, &s->chr, s->poller, fd);
}

static void socket_accept(void *opaque)
{
    SocketChr *s = opaque;
    int fd = accept(s->listen_fd, NULL, NULL);
    if (fd < 0) return;
    if (s->fd >= 0) {
        close(fd); /* one client at a time */
        return;
    }
    socket_attach(s, fd);
}

static void socket_write(Chardev *c, const uint8_t *buf, size_t len)
{
    SocketChr *s = (SocketChr *)c;
    if (s->fd < 0) return; /* nobody connected: output is lost, as on an open line */
    if (!chr_write_fd(s->fd, buf, len, 100, true)) socket_disconnect(s);
}

static void socket_accept_input(Chardev *c)
{
    SocketChr *s = (SocketChr *)c;
    if (s->fd >= 0) chr_fdinput_flush(&s->in);
}

static void socket_close(Chardev *c)
{
    SocketChr *s = (SocketChr *)c;
    socket_disconnect(s);
    if (s->listen_fd >= 0) {
        if (s->poller) poller_unwatch(s->poller, s->listen_fd);
        close(s->listen_fd);
    }
    if (s->unix_path) {
        unlink(s->unix_path);
        free(s->unix_path);
    }
    free(s);
}

/* Create the socket and bind+listen (server) or connect (client). Returns the fd or -1. */
static int socket_open(const char *host, const char *port, const char *path, bool server, char *err,
                       size_t errlen)
{
    if (path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path) {
            snprintf(err, errlen, "unix socket path too long: %s", path);
            return -1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) goto fail;
        if (server) {
            unlink(path);
            if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 1) < 0) {
                close(fd);
                goto fail;
            }
        } else if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
            close(fd);
            goto fail;
        }
        return fd;
    fail:
        snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
        return -1;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    if (server) hints.ai_flags = AI_PASSIVE;
    struct addrinfo *res;
    int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
    if (rc) {
        snprintf(err, errlen, "tcp:%s:%s: %s", host ? host : "", port, gai_strerror(rc));
        return -1;
    }
    int fd = -1, saved = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        if (server) {
            int one = 1;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0) break;
        } else if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) snprintf(err, errlen, "tcp:%s:%s: %s", host ? host : "", port, strerror(saved));
    return fd;
}

Chardev *chr_socket_new(Poller *p, const char *host, const char *port, const char *unix_path,
                        bool server, bool nowait, char *err, size_t errlen)
{
    int fd = socket_open(host, port, unix_path, server, err, errlen);
    if (fd < 0) return NULL;
    SocketChr *s = XNEW(SocketChr);
    s->chr.name = "socket";
    s->chr.write = socket_write;
    s->chr.close = socket_close;
    s->chr.accept_input = socket_accept_input;
    s->poller = p;
    s->listen_fd = s->fd = -1;
    s->in.fd = -1;
    s->in.chr = &s->chr;
    s->in.on_eof = socket_on_eof;
    s->in.opaque = s;
    if (unix_path)
        snprintf(s->desc, sizeof s->desc, "unix:%s", unix_path);
    else
        snprintf(s->desc, sizeof s->desc, "tcp:%s:%s", host ? host : "", port);
    if (!server) {
        socket_attach(s, fd);
        return &s->chr;
    }
    s->listen_fd = fd;
    if (unix_path) s->unix_path = xstrdup(unix_path);
    if (!nowait) {
        fprintf(stderr, "kestrel: waiting for connection on %s,server\n", s->desc);
        int c;
        do
            c = accept(fd, NULL, NULL);
        while (c < 0 && errno == EINTR);
        if (c >= 0) socket_attach(s, c);
    }
    if (p) poller_watch(p, fd, socket_accept, s);
    return &s->chr;
}
