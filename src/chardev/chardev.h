/* Character back ends (stdio, file, socket, pty, null) behind one interface; a front end (UART,
 * virtio-console) registers callbacks to receive input. */
#ifndef CHARDEV_CHARDEV_H
#define CHARDEV_CHARDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/poll.h"

typedef struct Chardev Chardev;
struct Chardev {
    const char *name;
    /* Output from the guest. Never blocks the emulator for long. */
    void (*write)(Chardev *c, const uint8_t *buf, size_t len);
    void (*close)(Chardev *c);
    /* Front end input: how many bytes it can take now, and delivery. The back end never
     * delivers more than fe_can_read() allowed; it holds the rest until accept_input. */
    size_t (*fe_can_read)(void *opaque);
    void (*fe_read)(void *opaque, const uint8_t *buf, size_t len);
    void *fe_opaque;
    /* Set by the stdio back end when the user typed Ctrl-A X. */
    bool *quit_request;
    /* Back end hook: the front end has room again (e.g. the guest drained a FIFO), deliver
     * any held input now. May be NULL for output-only back ends. */
    void (*accept_input)(Chardev *c);
};

static inline void chr_write(Chardev *c, const uint8_t *buf, size_t len)
{
    if (c && c->write) c->write(c, buf, len);
}

/* Called by front ends whenever fe_can_read() may have gone from 0 to non-zero. */
static inline void chr_accept_input(Chardev *c)
{
    if (c && c->accept_input) c->accept_input(c);
}

void chr_set_frontend(Chardev *c, size_t (*can_read)(void *),
                      void (*read)(void *, const uint8_t *, size_t), void *opaque);

/* Writes out the output every back end has gathered (the run loop calls it once per slice and
 * before the CPU idles, so guest output is never held for more than a slice). */
void chr_flush_all(void);

/* Close the back end (restores the terminal for stdio) and free it. NULL is allowed. */
void chr_close(Chardev *c);

/* Back ends. p is the poller that input fds are watched on (may be NULL for output-only use).
 * They return NULL and fill err on failure. */
Chardev *chr_null_new(void);
Chardev *chr_file_new(const char *path, char *err, size_t errlen);
/* stdin/stdout. A terminal on stdin is put into raw mode and restored at exit and on fatal
 * signals. Ctrl-A is an escape: Ctrl-A X sets *quit_request, Ctrl-A H prints help, Ctrl-A A
 * sends a literal Ctrl-A. EOF on stdin (or /dev/null) just stops input. */
Chardev *chr_stdio_new(Poller *p, char *err, size_t errlen);
/* TCP or Unix socket; server mode listens and accepts one client at a time. Without nowait, a
 * server waits (blocking) for the first client before returning. */
Chardev *chr_socket_new(Poller *p, const char *host, const char *port, const char *unix_path,
                        bool server, bool nowait, char *err, size_t errlen);
/* A pseudo-terminal; its slave path is printed on stderr and kept in the name. */
Chardev *chr_pty_new(Poller *p, char *err, size_t errlen);

/* QEMU-style specification: "stdio", "null", "none", "file:PATH", "pty",
 * "tcp:[HOST]:PORT[,server][,nowait]", "unix:PATH[,server][,nowait]". "none" returns NULL with
 * an empty err string, meaning "no device at all"; any other NULL return has a message. */
Chardev *chr_new_from_spec(const char *spec, Poller *p, char *err, size_t errlen);

#endif
