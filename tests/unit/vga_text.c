/* VGA text mode: memory at 0xb8000, CRTC cursor/start address, rendering, retrace bits,
 * attribute flip-flop, CRTC write protection, colour/mono port decoding, DAC. */
#include "test.h"

#include "core/clock.h"
#include "core/memory.h"
#include "hw/display/vga_text.h"

typedef struct {
    AddressSpace mem, io;
    Clock clock;
    uint64_t insns;
    VgaText *vga;
    VgaTextScreen scr;
} Rig;

static uint64_t rig_insns(void *o)
{
    return ((Rig *)o)->insns;
}
static void out8(Rig *r, uint16_t port, uint8_t v)
{
    as_write(&r->io, port, v, 1);
}
static uint8_t in8(Rig *r, uint16_t port)
{
    return as_read(&r->io, port, 1);
}
static void crtc(Rig *r, uint8_t i, uint8_t v)
{
    out8(r, 0x3d4, i);
    out8(r, 0x3d5, v);
}

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->mem, "mem", 1ull << 32);
    as_init(&r->io, "io", 0x10000);
    clock_init(&r->clock, true, 0);
    r->clock.insn_count = rig_insns;
    r->clock.insn_opaque = r;
    r->vga = vga_text_new(&r->mem, &r->io, &r->clock);
}

static void rig_free(Rig *r)
{
    vga_text_free(r->vga);
    as_destroy(&r->mem);
    as_destroy(&r->io);
}

static void put_str(Rig *r, int row, int col, const char *s, uint8_t attr)
{
    for (int i = 0; s[i]; i++)
        as_write(&r->mem, 0xb8000 + (row * 80 + col + i) * 2, (uint8_t)s[i] | attr << 8, 2);
}

TEST(render_text_and_cursor)
{
    Rig r;
    rig_init(&r);
    put_str(&r, 0, 0, "Hello", 0x07);
    put_str(&r, 24, 75, "world", 0x1f);
    crtc(&r, 0x0e, 0x00);
    crtc(&r, 0x0f, 85); /* row 1, col 5 */
    vga_text_render(r.vga, &r.scr);
    CHECK_EQ(r.scr.cols, 80);
    CHECK_EQ(r.scr.rows, 25);
    CHECK_EQ(r.scr.cells[0][0], 'H' | 0x0700);
    CHECK_EQ(r.scr.cells[0][4], 'o' | 0x0700);
    CHECK_EQ(r.scr.cells[24][79], 'd' | 0x1f00);
    CHECK(r.scr.cursor_visible);
    CHECK_EQ(r.scr.cursor_row, 1);
    CHECK_EQ(r.scr.cursor_col, 5);
    CHECK_EQ(r.scr.cursor_start, 0x0d);
    CHECK_EQ(r.scr.cursor_end, 0x0e);
    /* Read back through the bus. */
    CHECK_EQ(as_read(&r.mem, 0xb8000, 2), 'H' | 0x0700);
    out8(&r, 0x3d4, 0x0f);
    CHECK_EQ(in8(&r, 0x3d5), 85);
    /* Hardware scrolling via the start address: row 1 becomes the top line. */
    put_str(&r, 1, 0, "second", 0x07);
    crtc(&r, 0x0c, 0x00);
    crtc(&r, 0x0d, 80);
    vga_text_render(r.vga, &r.scr);
    CHECK_EQ(r.scr.cells[0][0], 's' | 0x0700);
    CHECK_EQ(r.scr.cursor_row, 0);
    /* Cursor disable bit. */
    crtc(&r, 0x0a, 0x20);
    vga_text_render(r.vga, &r.scr);
    CHECK(!r.scr.cursor_visible);
    rig_free(&r);
}

TEST(retrace_bits_toggle)
{
    Rig r;
    rig_init(&r);
    int seen_vr = 0, seen_active = 0, seen_blank = 0;
    for (int64_t t = 0; t < 20000000; t += 7919) {
        r.insns = t;
        uint8_t s = in8(&r, 0x3da);
        if (s & 8) seen_vr++;
        if (s & 1)
            seen_blank++;
        else
            seen_active++;
    }
    CHECK(seen_vr > 0);
    CHECK(seen_active > seen_blank);
    CHECK(seen_blank > 0);
    r.insns = 412 * 31778 + 100;
    CHECK_EQ(in8(&r, 0x3da) & 9, 9);
    r.insns = 100 * 31778 + 100;
    CHECK_EQ(in8(&r, 0x3da) & 9, 0);
    rig_free(&r);
}

TEST(registers)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ(in8(&r, 0x3cc), 0x67);
    /* Attribute controller: index/data flip-flop reset by reading input status 1. */
    in8(&r, 0x3da);
    out8(&r, 0x3c0, 0x30); /* index 0x10 with PAS */
    out8(&r, 0x3c0, 0x08); /* data */
    out8(&r, 0x3c0, 0x30);
    CHECK_EQ(in8(&r, 0x3c1), 0x08);
    CHECK_EQ(in8(&r, 0x3c0), 0x30);
    in8(&r, 0x3da);
    out8(&r, 0x3c0, 0x32);
    CHECK_EQ(in8(&r, 0x3c1), 0x0f);
    /* CRTC write protection of registers 0-7. */
    crtc(&r, 0x11, 0x8e);
    crtc(&r, 0x01, 0x10);
    out8(&r, 0x3d4, 0x01);
    CHECK_EQ(in8(&r, 0x3d5), 0x4f);
    crtc(&r, 0x11, 0x0e);
    crtc(&r, 0x01, 0x27); /* 40 columns */
    vga_text_render(r.vga, &r.scr);
    CHECK_EQ(r.scr.cols, 40);
    /* Sequencer, graphics, DAC. */
    out8(&r, 0x3c4, 0x04);
    CHECK_EQ(in8(&r, 0x3c5), 0x02);
    out8(&r, 0x3ce, 0x06);
    CHECK_EQ(in8(&r, 0x3cf), 0x0e);
    out8(&r, 0x3c8, 5);
    out8(&r, 0x3c9, 0x3f);
    out8(&r, 0x3c9, 0x7f);
    out8(&r, 0x3c9, 0x01);
    out8(&r, 0x3c7, 5);
    CHECK_EQ(in8(&r, 0x3c7), 3);
    CHECK_EQ(in8(&r, 0x3c9), 0x3f);
    CHECK_EQ(in8(&r, 0x3c9), 0x3f);
    CHECK_EQ(in8(&r, 0x3c9), 0x01);
    /* Mono mode moves the CRTC to 0x3b4. */
    out8(&r, 0x3c2, 0x66);
    CHECK_EQ(in8(&r, 0x3d5), 0xff);
    out8(&r, 0x3b4, 0x0e);
    CHECK_EQ(in8(&r, 0x3b5), 0x00);
    /* Out-of-range indices read as all ones and ignore writes. */
    out8(&r, 0x3b4, 0x3f);
    out8(&r, 0x3b5, 0x12);
    CHECK_EQ(in8(&r, 0x3b5), 0xff);
    rig_free(&r);
}
