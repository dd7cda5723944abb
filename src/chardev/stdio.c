/* stdio back end: the guest console on the emulator's own terminal, in raw mode, with a
 * Ctrl-A escape prefix for emulator commands (the convention of QEMU's -nographic mux). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "chardev/chardev.h"
#include "chardev/fdinput.h"
#include "util/alloc.h"

#define ESCAPE_CHAR 0x01 /* Ctrl-A */

typedef struct StdioChr {
    Chardev chr;
    ChrFdInput in;
    bool escape_pending;
    ChrOutBuf out;
} StdioChr;

/* The saved terminal state must be reachable from atexit and signal handlers, which take no
 * argument; this is the one piece of process-wide state in the chardev layer. Only one stdio
 * back end can own the terminal. */
static struct {
    bool saved;
    bool in_use;
    struct termios tio;
} tty_state;

static void tty_restore(void)
{
    if (tty_state.saved) tcsetattr(STDIN_FILENO, TCSANOW, &tty_state.tio);
}

static void tty_fatal_signal(int sig)
{
    tty_restore(); /* tcsetattr is async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void tty_install_signal_handlers(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGSEGV,
                               SIGBUS,  SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        /* Leave alone handlers someone else installed (main, or the sanitizers). */
        if (sigaction(sigs[i], NULL, &old) < 0 || old.sa_handler != SIG_DFL) continue;
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = tty_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
}

static void tty_make_raw(void)
{
    if (!isatty(STDIN_FILENO)) return;
    /* A background job must not touch the terminal (tcsetattr would stop it with SIGTTOU). */
    if (tcgetpgrp(STDIN_FILENO) != getpgrp()) return;
    struct termios tio;
    if (tcgetattr(STDIN_FILENO, &tio) < 0) return;
    tty_state.tio = tio;
    tty_state.saved = true;
    atexit(tty_restore);
    tty_install_signal_handlers();
    /* Raw input, no echo, no signals from the keyboard (Ctrl-C goes to the guest; Ctrl-A X
     * quits), 8-bit clean; output post-processing kept so stray "\n" still returns the
     * carriage. */
    tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tio.c_oflag |= OPOST;
    tio.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
    tio.c_cflag &= ~(CSIZE | PARENB);
    tio.c_cflag |= CS8;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &tio);
}

static void stdio_print(const char *s)
{
    chr_flush_all(); /* after the guest output gathered so far */
    chr_write_fd(STDOUT_FILENO, (const uint8_t *)s, strlen(s), 1000, false);
}

static size_t stdio_filter(void *opaque, uint8_t *buf, size_t len)
{
    StdioChr *s = opaque;
    size_t out = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t b = buf[i];
        if (!s->escape_pending) {
            if (b == ESCAPE_CHAR)
                s->escape_pending = true;
            else
                buf[out++] = b;
            continue;
        }
        s->escape_pending = false;
        switch (b) {
        case 'x':
        case 'X':
            stdio_print("\r\nkestrel: terminated (Ctrl-A X)\r\n");
            if (s->chr.quit_request) *s->chr.quit_request = true;
            break;
        case 'h':
        case 'H':
        case '?':
            stdio_print("\r\nC-a h    print this help\r\n"
                        "C-a x    exit emulator\r\n"
                        "C-a a    send C-a to the guest\r\n");
            break;
        case 'a':
        case 'A':
        case ESCAPE_CHAR: buf[out++] = ESCAPE_CHAR; break;
        default: break; /* unknown commands are swallowed */
        }
    }
    return out;
}

static void stdio_write(Chardev *c, const uint8_t *buf, size_t len)
{
    StdioChr *s = (StdioChr *)c;
    chr_outbuf_write(&s->out, buf, len);
}

static void stdio_accept_input(Chardev *c)
{
    StdioChr *s = (StdioChr *)c;
    chr_fdinput_flush(&s->in);
}

static void stdio_close(Chardev *c)
{
    StdioChr *s = (StdioChr *)c;
    chr_fdinput_stop(&s->in);
    chr_outbuf_release(&s->out);
    tty_restore();
    tty_state.in_use = false;
    free(s);
}

Chardev *chr_stdio_new(Poller *p, char *err, size_t errlen)
{
    if (tty_state.in_use) {
        snprintf(err, errlen, "stdio can be used by only one character device");
        return NULL;
    }
    tty_state.in_use = true;
    StdioChr *s = XNEW(StdioChr);
    s->chr.name = "stdio";
    s->chr.write = stdio_write;
    s->chr.close = stdio_close;
    s->chr.accept_input = stdio_accept_input;
    s->in.filter = stdio_filter;
    s->in.opaque = s;
    s->in.fd = -1;
    chr_outbuf_init(&s->out, STDOUT_FILENO);
    tty_make_raw();
    s->in.chr = &s->chr;
    if (p) chr_fdinput_start(&s->in, &s->chr, p, STDIN_FILENO);
    return &s->chr;
}
