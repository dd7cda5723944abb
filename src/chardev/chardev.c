/* Character device core: front-end registration, fd input with flow control, the null and file
 * back ends, and the QEMU-style "-serial" spec parser. */
#include "chardev/chardev.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chardev/fdinput.h"
#include "util/alloc.h"

void chr_set_frontend(Chardev *c, size_t (*can_read)(void *),
                      void (*read)(void *, const uint8_t *, size_t), void *opaque)
{
    if (!c) return;
    c->fe_can_read = can_read;
    c->fe_read = read;
    c->fe_opaque = opaque;
    chr_accept_input(c);
}

void chr_close(Chardev *c)
{
    if (c && c->close) c->close(c);
}

/* ---- fd input ---- */

static void fdinput_readable(void *opaque)
{
    ChrFdInput *in = opaque;
    if (in->len) {
        /* Still holding bytes: should not be watching, but be safe. */
        chr_fdinput_flush(in);
        return;
    }
    ssize_t n = read(in->fd, in->buf, sizeof in->buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n <= 0) {
        chr_fdinput_stop(in);
        if (in->on_eof) in->on_eof(in->opaque);
        return;
    }
    in->pos = 0;
    in->len = in->filter ? in->filter(in->opaque, in->buf, (size_t)n) : (size_t)n;
    chr_fdinput_flush(in);
}

void chr_fdinput_start(ChrFdInput *in, Chardev *chr, Poller *p, int fd)
{
    in->chr = chr;
    in->poller = p;
    in->fd = fd;
    in->pos = in->len = 0;
    in->watching = false;
    chr_fdinput_flush(in);
}

void chr_fdinput_stop(ChrFdInput *in)
{
    if (in->watching && in->poller) poller_unwatch(in->poller, in->fd);
    in->watching = false;
    in->fd = -1;
    in->pos = in->len = 0;
}

void chr_fdinput_flush(ChrFdInput *in)
{
    Chardev *c = in->chr;
    while (in->len) {
        if (!c->fe_read) {
            in->len = 0; /* nobody listens: input is dropped, as on an unconnected line */
            break;
        }
        size_t n = c->fe_can_read ? c->fe_can_read(c->fe_opaque) : in->len;
        if (n == 0) break;
        if (n > in->len) n = in->len;
        const uint8_t *p = in->buf + in->pos;
        in->pos += n;
        in->len -= n;
        c->fe_read(c->fe_opaque, p, n);
    }
    if (in->fd < 0 || !in->poller) return;
    bool want = in->len == 0;
    if (want && !in->watching)
        poller_watch(in->poller, in->fd, fdinput_readable, in);
    else if (!want && in->watching)
        poller_unwatch(in->poller, in->fd);
    in->watching = want;
}

bool chr_write_fd(int fd, const uint8_t *buf, size_t len, int timeout_ms, bool is_socket)
{
    while (len) {
        ssize_t n =
            is_socket ? send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT) : write(fd, buf, len);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = fd, .events = POLLOUT};
            if (timeout_ms <= 0 || poll(&pfd, 1, timeout_ms) <= 0) return true; /* drop */
            continue;
        }
        return false;
    }
    return true;
}

/* ---- gathered output ---- */

#define MAX_OUTBUFS 8
static ChrOutBuf *outbufs[MAX_OUTBUFS];

void chr_flush_all(void)
{
    for (int i = 0; i < MAX_OUTBUFS; i++)
        if (outbufs[i] && outbufs[i]->len) chr_outbuf_flush(outbufs[i]);
}

void chr_outbuf_init(ChrOutBuf *ob, int fd)
{
    static bool at_exit;
    ob->fd = fd;
    ob->len = 0;
    ob->gathered = false;
    for (int i = 0; i < MAX_OUTBUFS && !ob->gathered; i++) {
        if (!outbufs[i]) {
            outbufs[i] = ob;
            ob->gathered = true;
        }
    }
    if (ob->gathered && !at_exit) atexit(chr_flush_all);
    at_exit |= ob->gathered;
}

void chr_outbuf_flush(ChrOutBuf *ob)
{
    if (ob->len) chr_write_fd(ob->fd, ob->data, ob->len, 1000, false);
    ob->len = 0;
}

void chr_outbuf_write(ChrOutBuf *ob, const uint8_t *buf, size_t len)
{
    if (ob->len + len > CHR_OUTBUF_SIZE) chr_outbuf_flush(ob);
    if (!ob->gathered || len >= CHR_OUTBUF_SIZE) {
        chr_write_fd(ob->fd, buf, len, 1000, false);
        return;
    }
    memcpy(ob->data + ob->len, buf, len);
    ob->len += len;
}

void chr_outbuf_release(ChrOutBuf *ob)
{
    chr_outbuf_flush(ob);
    for (int i = 0; i < MAX_OUTBUFS; i++)
        if (outbufs[i] == ob) outbufs[i] = NULL;
}

/* ---- null ---- */

static void null_write(Chardev *c, const uint8_t *buf, size_t len) {}
static void null_close(Chardev *c)
{
    free(c);
}

Chardev *chr_null_new(void)
{
    Chardev *c = XNEW(Chardev);
    c->name = "null";
    c->write = null_write;
    c->close = null_close;
    return c;
}

/* ---- file (output only) ---- */

typedef struct FileChr {
    Chardev chr;
    int fd;
    ChrOutBuf out;
} FileChr;

static void file_write(Chardev *c, const uint8_t *buf, size_t len)
{
    FileChr *f = (FileChr *)c;
    chr_outbuf_write(&f->out, buf, len);
}

static void file_close(Chardev *c)
{
    FileChr *f = (FileChr *)c;
    chr_outbuf_release(&f->out);
    close(f->fd);
    free(f);
}

Chardev *chr_file_new(const char *path, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    FileChr *f = XNEW(FileChr);
    f->chr.name = "file";
    f->chr.write = file_write;
    f->chr.close = file_close;
    f->fd = fd;
    chr_outbuf_init(&f->out, fd);
    return &f->chr;
}

/* ---- spec parser ---- */

/* Parse ",server,nowait" style options; returns false on an unknown option. */
static bool parse_socket_opts(char *opts, bool *server, bool *nowait, char *err, size_t errlen)
{
    *server = false;
    *nowait = false;
    for (char *save, *o = opts ? strtok_r(opts, ",", &save) : NULL; o;
         o = strtok_r(NULL, ",", &save)) {
        if (!strcmp(o, "server") || !strcmp(o, "server=on"))
            *server = true;
        else if (!strcmp(o, "server=off"))
            *server = false;
        else if (!strcmp(o, "nowait") || !strcmp(o, "wait=off"))
            *nowait = true;
        else if (!strcmp(o, "wait=on"))
            *nowait = false;
        else {
            snprintf(err, errlen, "unknown socket option '%s'", o);
            return false;
        }
    }
    return true;
}

Chardev *chr_new_from_spec(const char *spec, Poller *p, char *err, size_t errlen)
{
    if (errlen) err[0] = '\0';
    if (!strcmp(spec, "none")) return NULL;
    if (!strcmp(spec, "null")) return chr_null_new();
    if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) return chr_stdio_new(p, err, errlen);
    if (!strcmp(spec, "pty")) return chr_pty_new(p, err, errlen);
    if (!strncmp(spec, "file:", 5)) {
        if (!spec[5]) {
            snprintf(err, errlen, "file: needs a path");
            return NULL;
        }
        return chr_file_new(spec + 5, err, errlen);
    }
    bool is_tcp = !strncmp(spec, "tcp:", 4), is_telnet = !strncmp(spec, "telnet:", 7);
    if (is_tcp || is_telnet || !strncmp(spec, "unix:", 5)) {
        char *s = xstrdup(strchr(spec, ':') + 1);
        char *opts = strchr(s, ',');
        if (opts) *opts++ = '\0';
        bool server, nowait;
        Chardev *c = NULL;
        if (!parse_socket_opts(opts, &server, &nowait, err, errlen)) goto out;
        if (is_tcp || is_telnet) {
            /* HOST:PORT with HOST optional ("tcp::4444"); [v6addr]:PORT accepted. */
            char *colon = strrchr(s, ':');
            if (!colon || !colon[1]) {
                snprintf(err, errlen, "'%s': expected HOST:PORT", spec);
                goto out;
            }
            *colon = '\0';
            char *host = s;
            size_t hl = strlen(host);
            if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
                host[hl - 1] = '\0';
                host++;
            }
            c = chr_socket_new(p, host, colon + 1, NULL, server, nowait, err, errlen);
        } else {
            if (!*s) {
                snprintf(err, errlen, "unix: needs a path");
                goto out;
            }
            c = chr_socket_new(p, NULL, NULL, s, server, nowait, err, errlen);
        }
    out:
        free(s);
        return c;
    }
    snprintf(err, errlen, "unknown character device '%s'", spec);
    return NULL;
}
