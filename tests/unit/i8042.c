/* 8042 keyboard controller, port 0x92 and port 0x80: self-test, command byte, A20 and reset
 * callbacks, keyboard and mouse commands, IRQ 1/12, scan code conversion. */
#include "test.h"

#include "core/memory.h"
#include "hw/input/i8042.h"
#include "hw/misc/port92.h"

typedef struct {
    AddressSpace io;
    I8042 *kbd;
    int irq1, irq12;
    int a20_calls, a20, resets;
} Rig;

static void irq_cb(void *o, int n, int level)
{
    Rig *r = o;
    if (n == 1)
        r->irq1 = level;
    else
        r->irq12 = level;
}
static void a20_cb(void *o, bool on)
{
    Rig *r = o;
    r->a20_calls++;
    r->a20 = on;
}
static void reset_cb(void *o)
{
    ((Rig *)o)->resets++;
}

static void out8(Rig *r, uint16_t port, uint8_t v)
{
    as_write(&r->io, port, v, 1);
}
static uint8_t in8(Rig *r, uint16_t port)
{
    return as_read(&r->io, port, 1);
}

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->io, "io", 0x10000);
    r->kbd =
        kbd_new(&r->io, (IrqLine){irq_cb, r, 1}, (IrqLine){irq_cb, r, 12}, a20_cb, reset_cb, r);
}

static void rig_free(Rig *r)
{
    kbd_free(r->kbd);
    as_destroy(&r->io);
}

/* Read one byte the way a polling driver does; -1 when the buffer is empty. */
static int read_byte(Rig *r)
{
    if (!(in8(r, 0x64) & 1)) return -1;
    return in8(r, 0x60);
}

TEST(self_test_and_command_byte)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ(in8(&r, 0x64), 0x14); /* unlocked, SYS */
    out8(&r, 0x64, 0xaa);
    CHECK_EQ(in8(&r, 0x64) & 0x09, 0x09); /* OBF, last write was a command */
    CHECK_EQ(read_byte(&r), 0x55);
    CHECK_EQ(read_byte(&r), -1);
    out8(&r, 0x64, 0xab);
    CHECK_EQ(read_byte(&r), 0x00);
    out8(&r, 0x64, 0x20);
    CHECK_EQ(read_byte(&r), 0x45);
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x30); /* both interfaces disabled, no interrupts, SYS clear */
    out8(&r, 0x64, 0x20);
    CHECK_EQ(read_byte(&r), 0x30);
    CHECK_EQ(in8(&r, 0x64) & 0x04, 0);
    out8(&r, 0x64, 0xae);
    out8(&r, 0x64, 0xa8);
    out8(&r, 0x64, 0x20);
    CHECK_EQ(read_byte(&r), 0x00);
    out8(&r, 0x64, 0xa7);
    out8(&r, 0x64, 0x20);
    CHECK_EQ(read_byte(&r), 0x20);
    /* RAM bytes beyond the command byte. */
    out8(&r, 0x64, 0x65);
    out8(&r, 0x60, 0x77);
    out8(&r, 0x64, 0x25);
    CHECK_EQ(read_byte(&r), 0x77);
    rig_free(&r);
}

TEST(a20_and_reset)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x64, 0xd0);
    CHECK_EQ(read_byte(&r) & 0x03, 0x03);
    out8(&r, 0x64, 0xd1);
    out8(&r, 0x60, 0xdd); /* A20 off, reset inactive */
    CHECK_EQ(r.a20_calls, 1);
    CHECK_EQ(r.a20, 0);
    CHECK_EQ(r.resets, 0);
    out8(&r, 0x64, 0xd1);
    out8(&r, 0x60, 0xdf); /* A20 on */
    CHECK_EQ(r.a20_calls, 2);
    CHECK_EQ(r.a20, 1);
    out8(&r, 0x64, 0xd1);
    out8(&r, 0x60, 0xdf); /* unchanged: no call */
    CHECK_EQ(r.a20_calls, 2);
    out8(&r, 0x64, 0xdd);
    CHECK_EQ(r.a20, 0);
    out8(&r, 0x64, 0xdf);
    CHECK_EQ(r.a20, 1);
    out8(&r, 0x64, 0xfe); /* pulse reset */
    CHECK_EQ(r.resets, 1);
    out8(&r, 0x64, 0xff); /* pulse nothing */
    CHECK_EQ(r.resets, 1);
    out8(&r, 0x64, 0xd1);
    out8(&r, 0x60, 0x02); /* reset line driven low */
    CHECK_EQ(r.resets, 2);
    rig_free(&r);
}

TEST(keyboard_commands_and_irq)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x60, 0xff);
    CHECK_EQ(r.irq1, 1);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(r.irq1, 1); /* next byte loaded at once: a new edge for the PIC */
    CHECK_EQ(read_byte(&r), 0xaa);
    CHECK_EQ(r.irq1, 0);
    out8(&r, 0x60, 0xf2);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(read_byte(&r), 0xab);
    CHECK_EQ(read_byte(&r), 0x41); /* translated ID */
    out8(&r, 0x60, 0xed);
    CHECK_EQ(read_byte(&r), 0xfa);
    out8(&r, 0x60, 0x07);
    CHECK_EQ(read_byte(&r), 0xfa);
    out8(&r, 0x60, 0xee);
    CHECK_EQ(read_byte(&r), 0xee);
    out8(&r, 0x60, 0x12);
    CHECK_EQ(read_byte(&r), 0xfe);
    /* Scan code set selection and query, untranslated. */
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x01); /* kbd interrupt only, no translation */
    out8(&r, 0x60, 0xf0);
    CHECK_EQ(read_byte(&r), 0xfa);
    out8(&r, 0x60, 0x00);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(read_byte(&r), 0x02);
    /* Interrupts off: OBF without IRQ 1. */
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x00);
    out8(&r, 0x60, 0xf4);
    CHECK_EQ(r.irq1, 0);
    CHECK_EQ(read_byte(&r), 0xfa);
    rig_free(&r);
}

TEST(scancodes)
{
    Rig r;
    rig_init(&r);
    /* Translated (the default command byte): set 1 passes through. */
    kbd_put_scancode(r.kbd, 0x1e);
    kbd_put_scancode(r.kbd, 0x9e);
    CHECK_EQ(read_byte(&r), 0x1e);
    CHECK_EQ(read_byte(&r), 0x9e);
    /* Untranslated set 2: 'A' is 1c / f0 1c; right ctrl is e0 14 / e0 f0 14. */
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x01);
    kbd_put_scancode(r.kbd, 0x1e);
    kbd_put_scancode(r.kbd, 0x9e);
    kbd_put_scancode(r.kbd, 0xe0);
    kbd_put_scancode(r.kbd, 0x9d);
    static const uint8_t want[] = {0x1c, 0xf0, 0x1c, 0xe0, 0xf0, 0x14};
    for (size_t i = 0; i < sizeof want; i++)
        CHECK_EQ(read_byte(&r), want[i]);
    /* Keyboard interface disabled: bytes wait in the keyboard. */
    out8(&r, 0x64, 0xad);
    kbd_put_scancode(r.kbd, 0x10);
    CHECK_EQ(read_byte(&r), -1);
    out8(&r, 0x64, 0xae);
    CHECK_EQ(read_byte(&r), 0x15);
    /* Scanning disabled: keys are dropped. */
    out8(&r, 0x60, 0xf5);
    CHECK_EQ(read_byte(&r), 0xfa);
    kbd_put_scancode(r.kbd, 0x10);
    CHECK_EQ(read_byte(&r), -1);
    /* A flood of keys does not overflow anything. */
    out8(&r, 0x60, 0xf4);
    CHECK_EQ(read_byte(&r), 0xfa);
    for (int i = 0; i < 500; i++)
        kbd_put_scancode(r.kbd, 0x1e);
    int n = 0;
    while (read_byte(&r) >= 0)
        n++;
    CHECK(n > 16 && n <= 64);
    rig_free(&r);
}

TEST(aux_port)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x47); /* both interrupts */
    /* Linux's AUX loopback check. */
    out8(&r, 0x64, 0xd3);
    out8(&r, 0x60, 0x5a);
    CHECK_EQ(in8(&r, 0x64) & 0x21, 0x21);
    CHECK_EQ(r.irq12, 1);
    CHECK_EQ(r.irq1, 0);
    CHECK_EQ(read_byte(&r), 0x5a);
    CHECK_EQ(r.irq12, 0);
    out8(&r, 0x64, 0xa9);
    CHECK_EQ(read_byte(&r), 0x00);
    out8(&r, 0x64, 0xd4);
    out8(&r, 0x60, 0xff);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(read_byte(&r), 0xaa);
    CHECK_EQ(read_byte(&r), 0x00);
    out8(&r, 0x64, 0xd4);
    out8(&r, 0x60, 0xf2);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(read_byte(&r), 0x00);
    /* IntelliMouse knock. */
    static const uint8_t knock[] = {200, 100, 80};
    for (int i = 0; i < 3; i++) {
        out8(&r, 0x64, 0xd4);
        out8(&r, 0x60, 0xf3);
        CHECK_EQ(read_byte(&r), 0xfa);
        out8(&r, 0x64, 0xd4);
        out8(&r, 0x60, knock[i]);
        CHECK_EQ(read_byte(&r), 0xfa);
    }
    out8(&r, 0x64, 0xd4);
    out8(&r, 0x60, 0xf2);
    CHECK_EQ(read_byte(&r), 0xfa);
    CHECK_EQ(read_byte(&r), 0x03);
    kbd_put_mouse(r.kbd, 5, -3, 1, 1); /* not enabled yet: dropped */
    CHECK_EQ(read_byte(&r), -1);
    out8(&r, 0x64, 0xd4);
    out8(&r, 0x60, 0xf4);
    CHECK_EQ(read_byte(&r), 0xfa);
    kbd_put_mouse(r.kbd, 5, -3, 1, 1);
    CHECK_EQ(read_byte(&r), 0x29);
    CHECK_EQ(read_byte(&r), 5);
    CHECK_EQ(read_byte(&r), 0xfd);
    CHECK_EQ(read_byte(&r), 1);
    out8(&r, 0x64, 0xd4);
    out8(&r, 0x60, 0x42); /* unknown */
    CHECK_EQ(read_byte(&r), 0xfe);
    rig_free(&r);
}

/* Commands 0xd2/0xd3 place their byte in the output buffer whatever the interface clocks:
 * Linux runs its aux loopback test with the aux interface disabled (command byte bit 5), and
 * waits half a second for the byte when it does not come. */
TEST(loopback_with_interfaces_disabled)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x64, 0x60);
    out8(&r, 0x60, 0x30 | 0x04); /* both interfaces disabled, no interrupts */
    out8(&r, 0x64, 0xd3);
    out8(&r, 0x60, 0xa5);
    CHECK_EQ(in8(&r, 0x64) & 0x21, 0x21); /* full, from the aux device */
    CHECK_EQ(read_byte(&r), 0xa5);
    out8(&r, 0x64, 0xd2);
    out8(&r, 0x60, 0x3c);
    CHECK_EQ(in8(&r, 0x64) & 0x21, 0x01); /* full, from the keyboard */
    CHECK_EQ(read_byte(&r), 0x3c);
    CHECK_EQ(read_byte(&r), -1);
    rig_free(&r);
}

TEST(port92_and_post)
{
    AddressSpace io;
    Rig r;
    memset(&r, 0, sizeof r);
    as_init(&io, "io", 0x10000);
    Port92 *p = port92_new(&io, a20_cb, reset_cb, &r);
    PostPort *post = post_port_new(&io);
    CHECK_EQ(as_read(&io, 0x92, 1), 0);
    as_write(&io, 0x92, 0x02, 1);
    CHECK_EQ(r.a20, 1);
    CHECK_EQ(r.resets, 0);
    CHECK_EQ(as_read(&io, 0x92, 1), 0x02);
    as_write(&io, 0x92, 0x03, 1);
    CHECK_EQ(r.resets, 1);
    CHECK_EQ(r.a20_calls, 1);
    as_write(&io, 0x92, 0x03, 1); /* bit 0 already set: no new reset */
    CHECK_EQ(r.resets, 1);
    as_write(&io, 0x92, 0x00, 1);
    CHECK_EQ(r.a20, 0);
    as_write(&io, 0x80, 0x42, 1);
    CHECK_EQ(as_read(&io, 0x80, 1), 0x42);
    CHECK_EQ(post_port_last(post), 0x42);
    port92_free(p);
    post_port_free(post);
    as_destroy(&io);
}
