/* VGA text mode (IBM VGA Technical Reference: CRT controller, sequencer, graphics controller,
 * attribute controller, DAC and external registers). Registers are stored and read back; the
 * only behaviour modelled is what text rendering and retrace polling need. */
#include "hw/display/vga_text.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

/* Mode 3 timing: 449 lines of 31.778 us per frame (70 Hz), 400 visible, vertical retrace on
 * lines 412-413 (CRTC 0x10/0x11 of the standard register set). */
#define LINE_NS        31778
#define FRAME_LINES    449
#define VISIBLE_LINES  400
#define VRETRACE_START 412
#define VRETRACE_END   414
#define HBLANK_FROM_NS (LINE_NS * 8 / 10)

enum { NCRTC = 25, NSEQ = 5, NGR = 9, NATTR = 21 };

struct VgaText {
    Device dev;
    uint8_t vram[VGA_TEXT_VRAM_SIZE];
    uint8_t crtc[NCRTC], crtc_index;
    uint8_t seq[NSEQ], seq_index;
    uint8_t gr[NGR], gr_index;
    uint8_t attr[NATTR], attr_index;
    bool attr_is_data; /* the 0x3c0 flip-flop: next write is data */
    uint8_t misc, feature, vga_enable;
    uint8_t dac[256][3], dac_mask, dac_read_index, dac_write_index, dac_sub;
    bool dac_reading;
    Clock *clock;
    AddressSpace *mem, *io;
    MemRegion *mr_vram, *mr_io;
};

static const uint8_t mode3_crtc[NCRTC] = {0x5f, 0x4f, 0x50, 0x82, 0x55, 0x81, 0xbf, 0x1f, 0x00,
                                          0x4f, 0x0d, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x9c, 0x8e,
                                          0x8f, 0x28, 0x1f, 0x96, 0xb9, 0xa3, 0xff};
static const uint8_t mode3_seq[NSEQ] = {0x03, 0x00, 0x03, 0x00, 0x02};
static const uint8_t mode3_gr[NGR] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x0e, 0x00, 0xff};
static const uint8_t mode3_attr[NATTR] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14,
                                          0x07, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d,
                                          0x3e, 0x3f, 0x0c, 0x00, 0x0f, 0x08, 0x00};

/* The 16 EGA colours in 6-bit DAC values, with the 16 entries the attribute palette uses. */
static void vga_default_palette(VgaText *v)
{
    memset(v->dac, 0, sizeof v->dac);
    for (int i = 0; i < 64; i++) {
        /* Attribute palette entries are rgbRGB bit patterns (secondary bits are 1/3 steps). */
        int r = ((i >> 2) & 1) * 2 + ((i >> 5) & 1), g = ((i >> 1) & 1) * 2 + ((i >> 4) & 1),
            b = (i & 1) * 2 + ((i >> 3) & 1);
        v->dac[i][0] = (uint8_t)(r * 21);
        v->dac[i][1] = (uint8_t)(g * 21);
        v->dac[i][2] = (uint8_t)(b * 21);
    }
}

static bool color_mode(const VgaText *v)
{
    return v->misc & 1;
}

static uint8_t input_status1(VgaText *v)
{
    int64_t ns = clock_ns(v->clock);
    int64_t frame_pos = ns % ((int64_t)LINE_NS * FRAME_LINES);
    int line = (int)(frame_pos / LINE_NS);
    int64_t in_line = frame_pos % LINE_NS;
    uint8_t s = 0;
    if (line >= VISIBLE_LINES || in_line >= HBLANK_FROM_NS) s |= 0x01; /* display disabled */
    if (line >= VRETRACE_START && line < VRETRACE_END) s |= 0x08;
    return s;
}

static void crtc_write(VgaText *v, uint8_t val)
{
    int i = v->crtc_index;
    if (i >= NCRTC) return;
    /* CR11 bit 7 write-protects CR0-CR7, except the line-compare bit 8 in CR7. */
    if ((v->crtc[0x11] & 0x80) && i <= 7) {
        if (i == 7) v->crtc[7] = (v->crtc[7] & ~0x10) | (val & 0x10);
        return;
    }
    v->crtc[i] = val;
}

static uint32_t vga_io_read(void *opaque, uint64_t off, unsigned size)
{
    VgaText *v = opaque;
    uint16_t port = 0x3b0 + (uint16_t)off;
    /* The CRTC and input status 1 answer at 0x3dx in colour mode, at 0x3bx in mono mode. */
    if ((port >= 0x3b0 && port <= 0x3bf && color_mode(v)) ||
        (port >= 0x3d0 && port <= 0x3df && !color_mode(v)))
        return 0xff;
    switch (port) {
    case 0x3b4:
    case 0x3d4: return v->crtc_index;
    case 0x3b5:
    case 0x3d5: return v->crtc_index < NCRTC ? v->crtc[v->crtc_index] : 0xff;
    case 0x3ba:
    case 0x3da:
        v->attr_is_data = false; /* reading input status 1 resets the attribute flip-flop */
        return input_status1(v);
    case 0x3c0: return v->attr_index;
    case 0x3c1: {
        int i = v->attr_index & 0x1f;
        return i < NATTR ? v->attr[i] : 0xff;
    }
    case 0x3c2: return 0x10; /* input status 0: switch sense (colour monitor attached) */
    case 0x3c3: return v->vga_enable;
    case 0x3c4: return v->seq_index;
    case 0x3c5: return v->seq_index < NSEQ ? v->seq[v->seq_index] : 0xff;
    case 0x3c6: return v->dac_mask;
    case 0x3c7: return v->dac_reading ? 0x03 : 0x00;
    case 0x3c8: return v->dac_write_index;
    case 0x3c9: {
        uint8_t val = v->dac[v->dac_read_index][v->dac_sub];
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_read_index++;
        }
        return val;
    }
    case 0x3ca: return v->feature;
    case 0x3cc: return v->misc;
    case 0x3ce: return v->gr_index;
    case 0x3cf: return v->gr_index < NGR ? v->gr[v->gr_index] : 0xff;
    default: return 0xff;
    }
}

static void vga_io_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    VgaText *v = opaque;
    uint16_t port = 0x3b0 + (uint16_t)off;
    if ((port >= 0x3b0 && port <= 0x3bf && color_mode(v)) ||
        (port >= 0x3d0 && port <= 0x3df && !color_mode(v)))
        return;
    switch (port) {
    case 0x3b4:
    case 0x3d4: v->crtc_index = val & 0x3f; break;
    case 0x3b5:
    case 0x3d5: crtc_write(v, val); break;
    case 0x3ba:
    case 0x3da: v->feature = val; break;
    case 0x3c0:
        if (!v->attr_is_data) {
            v->attr_index = val & 0x3f;
        } else if ((v->attr_index & 0x1f) < NATTR) {
            v->attr[v->attr_index & 0x1f] = val;
        }
        v->attr_is_data = !v->attr_is_data;
        break;
    case 0x3c2: v->misc = val; break;
    case 0x3c3: v->vga_enable = val; break;
    case 0x3c4: v->seq_index = val & 7; break;
    case 0x3c5:
        if (v->seq_index < NSEQ) v->seq[v->seq_index] = val;
        break;
    case 0x3c6: v->dac_mask = val; break;
    case 0x3c7:
        v->dac_read_index = val;
        v->dac_sub = 0;
        v->dac_reading = true;
        break;
    case 0x3c8:
        v->dac_write_index = val;
        v->dac_sub = 0;
        v->dac_reading = false;
        break;
    case 0x3c9:
        v->dac[v->dac_write_index][v->dac_sub] = val & 0x3f;
        if (++v->dac_sub == 3) {
            v->dac_sub = 0;
            v->dac_write_index++;
        }
        break;
    case 0x3ce: v->gr_index = val & 0x0f; break;
    case 0x3cf:
        if (v->gr_index < NGR) v->gr[v->gr_index] = val;
        break;
    default: break;
    }
}

static const MemOps vga_io_ops = {vga_io_read, vga_io_write, 1, 1};

void vga_text_render(VgaText *v, VgaTextScreen *out)
{
    const uint8_t *c = v->crtc;
    int cols = c[0x01] + 1;
    int vde = c[0x12] | ((c[0x07] >> 1) & 1) << 8 | ((c[0x07] >> 6) & 1) << 9;
    int char_h = (c[0x09] & 0x1f) + 1;
    int rows = (vde + 1) / char_h / (c[0x09] & 0x80 ? 2 : 1);
    if (cols > VGA_TEXT_MAX_COLS) cols = VGA_TEXT_MAX_COLS;
    if (rows > VGA_TEXT_MAX_ROWS) rows = VGA_TEXT_MAX_ROWS;
    if (rows < 1) rows = 1;
    int stride = c[0x13] * 2;
    unsigned start = c[0x0c] << 8 | c[0x0d];
    out->cols = cols;
    out->rows = rows;
    for (int r = 0; r < rows; r++) {
        for (int col = 0; col < cols; col++) {
            unsigned a = ((start + (unsigned)(r * stride + col)) * 2) % VGA_TEXT_VRAM_SIZE;
            out->cells[r][col] = (uint16_t)(v->vram[a] | v->vram[a + 1] << 8);
        }
    }
    int cursor = (c[0x0e] << 8 | c[0x0f]) - (int)start;
    out->cursor_start = c[0x0a] & 0x1f;
    out->cursor_end = c[0x0b] & 0x1f;
    out->cursor_visible = !(c[0x0a] & 0x20) && out->cursor_start <= out->cursor_end && stride > 0 &&
                          cursor >= 0 && cursor < rows * stride && cursor % stride < cols;
    out->cursor_row = stride > 0 && cursor >= 0 ? cursor / stride : 0;
    out->cursor_col = stride > 0 && cursor >= 0 ? cursor % stride : 0;
}

uint8_t *vga_text_vram(VgaText *vga)
{
    return vga->vram;
}

static void vga_reset(Device *dev)
{
    VgaText *v = (VgaText *)dev;
    memcpy(v->crtc, mode3_crtc, sizeof v->crtc);
    memcpy(v->seq, mode3_seq, sizeof v->seq);
    memcpy(v->gr, mode3_gr, sizeof v->gr);
    memcpy(v->attr, mode3_attr, sizeof v->attr);
    v->crtc_index = v->seq_index = v->gr_index = 0;
    v->attr_index = 0x20; /* palette address source set: display enabled */
    v->attr_is_data = false;
    v->misc = 0x67;
    v->feature = 0;
    v->vga_enable = 1;
    v->dac_mask = 0xff;
    v->dac_read_index = v->dac_write_index = v->dac_sub = 0;
    v->dac_reading = false;
    vga_default_palette(v);
}

static void vga_describe(Device *dev, FILE *out)
{
    VgaText *v = (VgaText *)dev;
    fprintf(out, "misc=%02x start=%04x cursor=%04x shape=%02x-%02x\n", v->misc,
            v->crtc[0x0c] << 8 | v->crtc[0x0d], v->crtc[0x0e] << 8 | v->crtc[0x0f], v->crtc[0x0a],
            v->crtc[0x0b]);
}

VgaText *vga_text_new(AddressSpace *mem, AddressSpace *io, Clock *clock)
{
    VgaText *v = XNEW(VgaText);
    v->dev.name = "vga-text";
    v->dev.reset = vga_reset;
    v->dev.describe = vga_describe;
    v->clock = clock;
    v->mem = mem;
    v->io = io;
    v->mr_vram = as_add_ram(mem, "vga-text", 0xb8000, VGA_TEXT_VRAM_SIZE, v->vram);
    v->mr_io = as_add_mmio(io, "vga", 0x3b0, 0x30, &vga_io_ops, v);
    vga_reset(&v->dev);
    return v;
}

void vga_text_free(VgaText *vga)
{
    if (!vga) return;
    as_remove(vga->mem, vga->mr_vram);
    as_remove(vga->io, vga->mr_io);
    free(vga);
}

Device *vga_text_device(VgaText *vga)
{
    return &vga->dev;
}
