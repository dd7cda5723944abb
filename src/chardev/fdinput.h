/* Internal to src/chardev: input from a file descriptor through the Poller, with flow control
 * towards the front end (read only what it can take, stop watching the fd while it is full). */
#ifndef CHARDEV_FDINPUT_H
#define CHARDEV_FDINPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chardev/chardev.h"

typedef struct ChrFdInput {
    Chardev *chr;
    Poller *poller;
    int fd; /* -1 when stopped */
    bool watching;
    uint8_t buf[4096];
    size_t pos, len;
    /* Optional: rewrite freshly read bytes in place (escape sequences); returns the new length. */
    size_t (*filter)(void *opaque, uint8_t *buf, size_t len);
    /* Optional: end of file or read error; input has already been stopped. */
    void (*on_eof)(void *opaque);
    void *opaque;
} ChrFdInput;

void chr_fdinput_start(ChrFdInput *in, Chardev *chr, Poller *p, int fd);
void chr_fdinput_stop(ChrFdInput *in);
/* Deliver held bytes as far as the front end allows; resume watching when drained. */
void chr_fdinput_flush(ChrFdInput *in);

/* Write all of buf to a (possibly non-blocking) fd, waiting at most timeout_ms in total for it
 * to become writable. Returns false on an error other than a timeout. */
bool chr_write_fd(int fd, const uint8_t *buf, size_t len, int timeout_ms, bool is_socket);

/* Output gathered for one write per run-loop slice instead of one per guest byte (a UART
 * transmits byte by byte). Registered buffers are written out by chr_flush_all(), at exit, and
 * whenever they fill up. */
#define CHR_OUTBUF_SIZE 4096
typedef struct ChrOutBuf {
    int fd;
    bool gathered; /* false when no registry slot was free: every write goes straight out */
    size_t len;
    uint8_t data[CHR_OUTBUF_SIZE];
} ChrOutBuf;
void chr_outbuf_init(ChrOutBuf *ob, int fd);
void chr_outbuf_write(ChrOutBuf *ob, const uint8_t *buf, size_t len);
void chr_outbuf_flush(ChrOutBuf *ob);
void chr_outbuf_release(ChrOutBuf *ob); /* flushes and unregisters */

#endif
