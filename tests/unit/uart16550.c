/* 16550A UART: transmit, divisor latch, loopback, FIFO trigger levels and character timeout,
 * interrupt priority and clearing, THRE interrupt, OUT2 gating, input flow control. */
#include "test.h"

#include "chardev/chardev.h"
#include "core/clock.h"
#include "core/memory.h"
#include "hw/char/uart16550.h"

/* A chardev that records output and holds input until the front end can take it. */
typedef struct {
    Chardev chr;
    uint8_t out[256];
    size_t nout;
    uint8_t in[256];
    size_t in_pos, in_len;
} FakeChr;

static void fake_write(Chardev *c, const uint8_t *buf, size_t len)
{
    FakeChr *f = (FakeChr *)c;
    for (size_t i = 0; i < len && f->nout < sizeof f->out; i++)
        f->out[f->nout++] = buf[i];
}

static void fake_accept(Chardev *c)
{
    FakeChr *f = (FakeChr *)c;
    while (f->in_pos < f->in_len && c->fe_read) {
        size_t n = c->fe_can_read(c->fe_opaque);
        if (!n) break;
        if (n > f->in_len - f->in_pos) n = f->in_len - f->in_pos;
        f->in_pos += n;
        c->fe_read(c->fe_opaque, f->in + f->in_pos - n, n);
    }
}

static void fake_send(FakeChr *f, const char *s)
{
    size_t n = strlen(s);
    memcpy(f->in + f->in_len, s, n);
    f->in_len += n;
    fake_accept(&f->chr);
}

typedef struct {
    AddressSpace io;
    Clock clock;
    uint64_t insns;
    FakeChr chr;
    Uart *uart;
    int level, rises;
} Rig;

static uint64_t rig_insns(void *o)
{
    return ((Rig *)o)->insns;
}
static void irq_cb(void *o, int n, int level)
{
    Rig *r = o;
    if (level && !r->level) r->rises++;
    r->level = level;
}

#define COM1 0x3f8

static void out8(Rig *r, uint16_t off, uint8_t v)
{
    as_write(&r->io, COM1 + off, v, 1);
}
static uint8_t in8(Rig *r, uint16_t off)
{
    return as_read(&r->io, COM1 + off, 1);
}

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->io, "io", 0x10000);
    clock_init(&r->clock, true, 0);
    r->clock.insn_count = rig_insns;
    r->clock.insn_opaque = r;
    r->chr.chr.name = "fake";
    r->chr.chr.write = fake_write;
    r->chr.chr.accept_input = fake_accept;
    r->uart = uart_new(&r->io, COM1, (IrqLine){irq_cb, r, 4}, &r->chr.chr, &r->clock);
    /* 115200 8N1 */
    out8(r, 3, 0x80);
    out8(r, 0, 1);
    out8(r, 1, 0);
    out8(r, 3, 0x03);
}

static void rig_free(Rig *r)
{
    uart_free(r->uart);
    as_destroy(&r->io);
    free(r->clock.heap);
}

static void run_to(Rig *r, int64_t ns)
{
    for (;;) {
        int64_t next = clock_next_deadline(&r->clock);
        if (next > ns) break;
        if (next > (int64_t)r->insns) r->insns = next;
        clock_run_timers(&r->clock);
    }
    r->insns = ns;
}

TEST(transmit_and_registers)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ(in8(&r, 5), 0x60);
    CHECK_EQ(in8(&r, 2), 0x01);
    out8(&r, 0, 'h');
    out8(&r, 0, 'i');
    CHECK_EQ(r.chr.nout, 2);
    CHECK(!memcmp(r.chr.out, "hi", 2));
    CHECK_EQ(in8(&r, 5), 0x60);
    out8(&r, 3, 0x83);
    CHECK_EQ(in8(&r, 0), 1);
    CHECK_EQ(in8(&r, 1), 0);
    out8(&r, 1, 0x12);
    CHECK_EQ(in8(&r, 1), 0x12);
    out8(&r, 3, 0x03);
    CHECK_EQ(in8(&r, 1), 0); /* IER again, not DLM */
    out8(&r, 7, 0x5a);
    CHECK_EQ(in8(&r, 7), 0x5a);
    CHECK_EQ(in8(&r, 6), 0xb0); /* DCD, DSR, CTS */
    out8(&r, 1, 0xff);
    CHECK_EQ(in8(&r, 1), 0x0f);
    rig_free(&r);
}

TEST(loopback)
{
    Rig r;
    rig_init(&r);
    out8(&r, 4, 0x10);
    in8(&r, 6);
    out8(&r, 4, 0x10 | 0x0f);          /* DTR RTS OUT1 OUT2 -> DSR CTS RI DCD */
    CHECK_EQ(in8(&r, 6), 0xf0 | 0x0b); /* + DCTS DDSR DDCD (RI rose: no TERI) */
    CHECK_EQ(in8(&r, 6), 0xf0);
    out8(&r, 4, 0x10 | 0x0b); /* OUT1 drops: trailing edge of RI */
    CHECK_EQ(in8(&r, 6), 0xb0 | 0x04);
    out8(&r, 0, 'x');
    CHECK_EQ(r.chr.nout, 0);
    CHECK_EQ(in8(&r, 5), 0x61);
    CHECK_EQ(in8(&r, 0), 'x');
    CHECK_EQ(in8(&r, 5), 0x60);
    /* Input from the back end waits while in loopback. */
    fake_send(&r.chr, "ab");
    CHECK_EQ(in8(&r, 5) & 1, 0);
    out8(&r, 4, 0x00);
    CHECK_EQ(in8(&r, 0), 'a');
    rig_free(&r);
}

TEST(fifo_trigger_and_timeout)
{
    Rig r;
    rig_init(&r);
    out8(&r, 4, 0x08); /* OUT2: interrupts reach the PIC */
    out8(&r, 2, 0x87); /* FIFO on, clear, trigger 8 */
    out8(&r, 1, 0x01); /* RDI */
    CHECK_EQ(in8(&r, 2), 0xc1);
    fake_send(&r.chr, "1234567");
    CHECK_EQ(in8(&r, 2), 0xc1);
    CHECK_EQ(r.level, 0);
    fake_send(&r.chr, "8");
    CHECK_EQ(in8(&r, 2), 0xc4);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(in8(&r, 0), '1');
    CHECK_EQ(in8(&r, 2), 0xc1); /* below the trigger again */
    CHECK_EQ(r.level, 0);
    /* Four character times at 115200 8N1: 4 * 10 bits * 8.68 us = 347 us. */
    run_to(&r, 347221);
    CHECK_EQ(in8(&r, 2), 0xc1);
    run_to(&r, 347223);
    CHECK_EQ(in8(&r, 2), 0xcc);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(in8(&r, 0), '2'); /* reading clears the timeout and restarts it */
    CHECK_EQ(in8(&r, 2), 0xc1);
    for (int i = 3; i <= 8; i++)
        CHECK_EQ(in8(&r, 0), '0' + i);
    run_to(&r, 10000000);
    CHECK_EQ(in8(&r, 2), 0xc1); /* empty FIFO: no timeout */
    /* Trigger level 14 and FIFO capacity 16 with flow control. */
    out8(&r, 2, 0xc7);
    fake_send(&r.chr, "abcdefghijklmnopqrstuvwxyz");
    CHECK_EQ(r.chr.in_pos, 8 + 16);
    CHECK_EQ(in8(&r, 2), 0xc4);
    CHECK_EQ(in8(&r, 0), 'a');
    CHECK_EQ(r.chr.in_pos, 8 + 17); /* one slot freed, one more byte pulled */
    rig_free(&r);
}

TEST(non_fifo_mode)
{
    Rig r;
    rig_init(&r);
    out8(&r, 1, 0x01);
    fake_send(&r.chr, "xy");
    CHECK_EQ(r.chr.in_pos, 1);
    CHECK_EQ(in8(&r, 2), 0x04);
    CHECK_EQ(in8(&r, 0), 'x');
    CHECK_EQ(in8(&r, 0), 'y');
    CHECK_EQ(in8(&r, 2), 0x01);
    /* Overrun in loopback without FIFO. */
    out8(&r, 4, 0x10);
    out8(&r, 0, 'p');
    out8(&r, 0, 'q');
    CHECK_EQ(in8(&r, 5), 0x63);
    CHECK_EQ(in8(&r, 5), 0x61);
    CHECK_EQ(in8(&r, 0), 'q');
    rig_free(&r);
}

TEST(thre_interrupt)
{
    Rig r;
    rig_init(&r);
    out8(&r, 4, 0x08);
    out8(&r, 1, 0x02);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(in8(&r, 2), 0x02);
    CHECK_EQ(r.level, 0);
    CHECK_EQ(in8(&r, 2), 0x01); /* cleared by the IIR read */
    out8(&r, 0, 'z');           /* the THR empties again at once */
    CHECK_EQ(r.level, 1);
    /* A THR write while THRE is pending: the line drops and rises again (a new edge). */
    int before = r.rises;
    out8(&r, 0, 'z');
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.rises, before + 1);
    out8(&r, 1, 0x00);
    CHECK_EQ(r.level, 0);
    /* Linux's THRE test: re-enabling THRI re-asserts it. */
    out8(&r, 1, 0x02);
    CHECK_EQ(in8(&r, 2), 0x02);
    out8(&r, 1, 0x00);
    out8(&r, 1, 0x02);
    CHECK_EQ(in8(&r, 2), 0x02);
    /* Without OUT2 the line stays low though IIR reports the interrupt. */
    out8(&r, 4, 0x00);
    out8(&r, 0, 'z');
    CHECK_EQ(r.level, 0);
    CHECK_EQ(in8(&r, 2), 0x02);
    rig_free(&r);
}

TEST(interrupt_priority)
{
    Rig r;
    rig_init(&r);
    out8(&r, 2, 0x07); /* FIFO, trigger 1 */
    out8(&r, 4, 0x10); /* loopback: CTS DSR DCD drop */
    CHECK_EQ(in8(&r, 6), 0x0b);
    for (int i = 0; i < 17; i++)
        out8(&r, 0, 'A' + i); /* 17th overruns */
    out8(&r, 4, 0x11);        /* DTR: DSR delta */
    out8(&r, 1, 0x0f);
    CHECK_EQ(in8(&r, 2), 0xc6); /* line status first */
    CHECK_EQ(in8(&r, 5) & 0x03, 0x03);
    CHECK_EQ(in8(&r, 2), 0xc4); /* then received data */
    for (int i = 0; i < 16; i++)
        CHECK_EQ(in8(&r, 0), 'A' + i);
    CHECK_EQ(in8(&r, 2), 0xc2); /* THRE (pending since the last write) */
    CHECK_EQ(in8(&r, 2), 0xc0); /* modem status */
    CHECK_EQ(in8(&r, 6) & 0x0f, 0x02);
    CHECK_EQ(in8(&r, 2), 0xc1);
    rig_free(&r);
}
