/* Pseudo-terminal back end: the guest's port appears as /dev/pts/N for screen/minicom. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "chardev/fdinput.h"
#include "util/alloc.h"

typedef struct PtyChr {
    Chardev chr;
    ChrFdInput in;
    int master;
    int slave; /* held open so the master never reports hang-up while no one is attached */
    char name[96];
} PtyChr;

static void pty_write(Chardev *c, const uint8_t *buf, size_t len)
{
    PtyChr *p = (PtyChr *)c;
    /* Non-blocking: with nobody reading, output beyond the pty buffer is dropped. */
    chr_write_fd(p->master, buf, len, 0, false);
}

static void pty_accept_input(Chardev *c)
{
    PtyChr *p = (PtyChr *)c;
    chr_fdinput_flush(&p->in);
}

static void pty_close(Chardev *c)
{
    PtyChr *p = (PtyChr *)c;
    chr_fdinput_stop(&p->in);
    close(p->master);
    if (p->slave >= 0) close(p->slave);
    free(p);
}

Chardev *chr_pty_new(Poller *poller, char *err, size_t errlen)
{
    int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0) {
        snprintf(err, errlen, "pty: %s", strerror(errno));
        if (m >= 0) close(m);
        return NULL;
    }
    const char *path = ptsname(m);
    if (!path) {
        snprintf(err, errlen, "pty: ptsname: %s", strerror(errno));
        close(m);
        return NULL;
    }
    PtyChr *p = XNEW(PtyChr);
    p->master = m;
    snprintf(p->name, sizeof p->name, "pty:%s", path);
    p->slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
    struct termios tio;
    if (tcgetattr(m, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(m, TCSANOW, &tio);
    }
    fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK);
    p->chr.name = p->name;
    p->chr.write = pty_write;
    p->chr.close = pty_close;
    p->chr.accept_input = pty_accept_input;
    p->in.fd = -1;
    p->in.chr = &p->chr;
    fprintf(stderr, "kestrel: char device redirected to %s\n", path);
    if (poller) chr_fdinput_start(&p->in, &p->chr, poller, m);
    return &p->chr;
}
