/* Character back ends (stdio, file, socket, null) behind one interface; a front end (UART,
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
    /* Front end input: how many bytes it can take now, and delivery. */
    size_t (*fe_can_read)(void *opaque);
    void (*fe_read)(void *opaque, const uint8_t *buf, size_t len);
    void *fe_opaque;
    /* Set by the stdio back end when the user typed Ctrl-A X. */
    bool *quit_request;
};

static inline void chr_write(Chardev *c, const uint8_t *buf, size_t len)
{
    if (c && c->write) c->write(c, buf, len);
}

void chr_set_frontend(Chardev *c, size_t (*can_read)(void *), void (*read)(void *, const uint8_t *, size_t),
                      void *opaque);

#endif
