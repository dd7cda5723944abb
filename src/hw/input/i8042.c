/* 8042 keyboard controller (IBM PC/AT Technical Reference, keyboard controller commands and
 * status; IBM PS/2 Hardware Interface Technical Reference for the auxiliary port) with the
 * PS/2 keyboard and mouse command sets. Replies are queued instantly; no bus timing. */
#include "hw/input/i8042.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

enum {
    STAT_OBF = 0x01,
    STAT_SYS = 0x04,
    STAT_CMD = 0x08, /* last write went to 0x64 */
    STAT_UNLOCKED = 0x10,
    STAT_AUX_OBF = 0x20,
    CTR_KBD_INT = 0x01,
    CTR_AUX_INT = 0x02,
    CTR_SYS = 0x04,
    CTR_KBD_DISABLE = 0x10,
    CTR_AUX_DISABLE = 0x20,
    CTR_XLATE = 0x40,
    OUT_RESET = 0x01, /* active low: 0 holds the CPU in reset */
    OUT_A20 = 0x02,
    OUT_KBD_OBF = 0x10,
    OUT_AUX_OBF = 0x20,
    KBD_ACK = 0xfa,
    KBD_RESEND = 0xfe,
    KBD_BAT_OK = 0xaa,
};

#define QUEUE_SIZE 64

typedef struct ByteQueue {
    uint8_t data[QUEUE_SIZE];
    int head, count;
} ByteQueue;

typedef enum { SRC_KBD, SRC_AUX } Source;

struct I8042 {
    Device dev;
    uint8_t ram[32]; /* ram[0] is the controller command byte */
    uint8_t outport;
    bool last_was_cmd;
    uint8_t pending_cmd; /* controller command waiting for its data byte */
    uint8_t obuf;
    bool obf;
    Source obuf_src;
    ByteQueue ctrl_q, kbd_q, aux_q;
    ByteQueue ctrl_src_q; /* Source of each byte of ctrl_q (0xd3 places "aux" bytes there) */
    int irq1_level, irq12_level;
    IrqLine irq1, irq12;
    void (*set_a20)(void *opaque, bool on);
    void (*request_reset)(void *opaque);
    void *opaque;
    struct {
        bool scanning;
        int set;
        uint8_t leds, expect, last;
    } kb;
    struct {
        bool enabled, remote, wrap, scale21;
        uint8_t expect, rate, resolution, id, last;
        uint8_t rate_hist[3];
        unsigned buttons;
    } ms;
    AddressSpace *io;
    MemRegion *mr_data, *mr_cmd;
};

/* Scan code set 1 make code -> set 2 make code (0 = no key). Prefixed (0xe0) keys use the same
 * table; 0x5b-0x5d only occur prefixed (Windows and menu keys). */
static const uint8_t set1_to_set2[128] = {
    [0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25, [0x06] = 0x2e,
    [0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46, [0x0b] = 0x45, [0x0c] = 0x4e,
    [0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d, [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24,
    [0x13] = 0x2d, [0x14] = 0x2c, [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44,
    [0x19] = 0x4d, [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
    [0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33, [0x24] = 0x3b,
    [0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52, [0x29] = 0x0e, [0x2a] = 0x12,
    [0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22, [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32,
    [0x31] = 0x31, [0x32] = 0x3a, [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59,
    [0x37] = 0x7c, [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
    [0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83, [0x42] = 0x0a,
    [0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e, [0x47] = 0x6c, [0x48] = 0x75,
    [0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b, [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79,
    [0x4f] = 0x69, [0x50] = 0x72, [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x54] = 0x84,
    [0x56] = 0x61, [0x57] = 0x78, [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
};

static bool q_push(ByteQueue *q, uint8_t b)
{
    if (q->count == QUEUE_SIZE) return false;
    q->data[(q->head + q->count++) % QUEUE_SIZE] = b;
    return true;
}

static uint8_t q_pop(ByteQueue *q)
{
    uint8_t b = q->data[q->head];
    q->head = (q->head + 1) % QUEUE_SIZE;
    q->count--;
    return b;
}

static void q_clear(ByteQueue *q)
{
    q->head = q->count = 0;
}

static void kbd_update_irq(I8042 *k)
{
    int l1 = k->obf && k->obuf_src == SRC_KBD && (k->ram[0] & CTR_KBD_INT);
    int l12 = k->obf && k->obuf_src == SRC_AUX && (k->ram[0] & CTR_AUX_INT);
    if (l1 != k->irq1_level) irq_set(&k->irq1, k->irq1_level = l1);
    if (l12 != k->irq12_level) irq_set(&k->irq12, k->irq12_level = l12);
}

/* Move the next byte into the output buffer: controller replies first, then the devices whose
 * interface clock is enabled. */
static void kbd_refill(I8042 *k)
{
    if (!k->obf) {
        if (k->ctrl_q.count) {
            k->obuf = q_pop(&k->ctrl_q);
            k->obuf_src = q_pop(&k->ctrl_src_q) ? SRC_AUX : SRC_KBD;
            k->obf = true;
        } else if (k->kbd_q.count && !(k->ram[0] & CTR_KBD_DISABLE)) {
            k->obuf = q_pop(&k->kbd_q);
            k->obuf_src = SRC_KBD;
            k->obf = true;
        } else if (k->aux_q.count && !(k->ram[0] & CTR_AUX_DISABLE)) {
            k->obuf = q_pop(&k->aux_q);
            k->obuf_src = SRC_AUX;
            k->obf = true;
        }
    }
    kbd_update_irq(k);
}

/* A byte the controller itself places in the output buffer, whatever the interface clocks:
 * its replies, and the bytes of commands 0xd2/0xd3 (as if from the keyboard or the aux device;
 * Linux's aux loopback test runs with the aux interface disabled). */
static void ctrl_put(I8042 *k, uint8_t b, Source src)
{
    if (k->ctrl_q.count >= QUEUE_SIZE) return;
    q_push(&k->ctrl_q, b);
    q_push(&k->ctrl_src_q, src == SRC_AUX);
    kbd_refill(k);
}

static void ctrl_reply(I8042 *k, uint8_t b)
{
    ctrl_put(k, b, SRC_KBD);
}

static void kb_send(I8042 *k, uint8_t b)
{
    k->kb.last = b;
    q_push(&k->kbd_q, b);
    kbd_refill(k);
}

static void ms_send(I8042 *k, uint8_t b)
{
    k->ms.last = b;
    q_push(&k->aux_q, b);
    kbd_refill(k);
}

/* ---- output port ---- */

static void kbd_write_outport(I8042 *k, uint8_t val)
{
    uint8_t old = k->outport;
    k->outport = val & ~(OUT_KBD_OBF | OUT_AUX_OBF);
    if (((old ^ val) & OUT_A20) && k->set_a20) k->set_a20(k->opaque, val & OUT_A20);
    if (!(val & OUT_RESET)) {
        /* Bit 0 low holds the CPU in reset; it comes back high when the system restarts. */
        k->outport |= OUT_RESET;
        if (k->request_reset) k->request_reset(k->opaque);
    }
}

static uint8_t kbd_read_outport(const I8042 *k)
{
    uint8_t v = k->outport;
    if (k->obf) v |= k->obuf_src == SRC_AUX ? OUT_AUX_OBF : OUT_KBD_OBF;
    return v;
}

/* ---- PS/2 keyboard ---- */

static void kb_defaults(I8042 *k)
{
    k->kb.set = 2;
    k->kb.leds = 0;
}

/* Replies that the controller would translate (set 2 -> set 1) when XLATE is on. */
static uint8_t kb_xlate_reply(const I8042 *k, uint8_t b)
{
    if (!(k->ram[0] & CTR_XLATE)) return b;
    switch (b) {
    case 0x01: return 0x43;
    case 0x02: return 0x41;
    case 0x03: return 0x3f;
    case 0x83: return 0x41;
    default: return b;
    }
}

static void kb_write(I8042 *k, uint8_t val)
{
    uint8_t expect = k->kb.expect;
    k->kb.expect = 0;
    /* A parameter byte; anything from 0xed up is a new command that aborts the wait. */
    if (expect && val < 0xed) {
        switch (expect) {
        case 0xed: k->kb.leds = val & 7; break;
        case 0xf0:
            if (val == 0) {
                kb_send(k, KBD_ACK);
                kb_send(k, kb_xlate_reply(k, (uint8_t)k->kb.set));
                return;
            }
            if (val > 3) {
                kb_send(k, KBD_RESEND);
                return;
            }
            k->kb.set = val;
            break;
        default: break; /* 0xf3 typematic rate/delay */
        }
        kb_send(k, KBD_ACK);
        return;
    }
    switch (val) {
    case 0xed:
    case 0xf0:
    case 0xf3:
        k->kb.expect = val;
        kb_send(k, KBD_ACK);
        break;
    case 0xee: kb_send(k, 0xee); break; /* echo */
    case 0xf2:
        kb_send(k, KBD_ACK);
        kb_send(k, 0xab);
        kb_send(k, kb_xlate_reply(k, 0x83));
        break;
    case 0xf4:
        k->kb.scanning = true;
        kb_send(k, KBD_ACK);
        break;
    case 0xf5:
        kb_defaults(k);
        k->kb.scanning = false;
        kb_send(k, KBD_ACK);
        break;
    case 0xf6:
        kb_defaults(k);
        kb_send(k, KBD_ACK);
        break;
    case 0xf7:
    case 0xf8:
    case 0xf9:
    case 0xfa:
    case 0xfb:
    case 0xfc:
    case 0xfd: kb_send(k, KBD_ACK); break; /* set-3 key types: accepted, no effect */
    case 0xfe: kb_send(k, k->kb.last); break;
    case 0xff:
        q_clear(&k->kbd_q);
        kb_defaults(k);
        k->kb.scanning = true;
        kb_send(k, KBD_ACK);
        kb_send(k, KBD_BAT_OK);
        break;
    default: kb_send(k, KBD_RESEND); break;
    }
}

void kbd_put_scancode(I8042 *kbd, uint8_t code)
{
    I8042 *k = kbd;
    if (!k->kb.scanning) return;
    /* Keep room so that a key's bytes are not cut in half by a full buffer. */
    if (k->kbd_q.count > QUEUE_SIZE - 3) return;
    if (k->kb.set == 1 || (k->ram[0] & CTR_XLATE)) {
        /* Translation turns set 2 into set 1, so set 1 is what the guest reads. */
        q_push(&k->kbd_q, code);
    } else if (code == 0xe0 || code == 0xe1) {
        q_push(&k->kbd_q, code);
    } else {
        uint8_t s2 = set1_to_set2[code & 0x7f];
        if (!s2) return;
        if (code & 0x80) q_push(&k->kbd_q, 0xf0);
        q_push(&k->kbd_q, s2);
    }
    kbd_refill(k);
}

/* ---- PS/2 mouse ---- */

static void ms_defaults(I8042 *k)
{
    k->ms.rate = 100;
    k->ms.resolution = 2;
    k->ms.scale21 = false;
    k->ms.remote = false;
}

static void ms_send_packet(I8042 *k, int dx, int dy, int dz)
{
    uint8_t b0 = 0x08 | (k->ms.buttons & 7);
    if (dx < -256 || dx > 255) b0 |= 0x40;
    if (dy < -256 || dy > 255) b0 |= 0x80;
    dx = dx < -256 ? -256 : dx > 255 ? 255 : dx;
    dy = dy < -256 ? -256 : dy > 255 ? 255 : dy;
    if (dx < 0) b0 |= 0x10;
    if (dy < 0) b0 |= 0x20;
    ms_send(k, b0);
    ms_send(k, (uint8_t)dx);
    ms_send(k, (uint8_t)dy);
    if (k->ms.id == 3) ms_send(k, (uint8_t)(dz < -8 ? -8 : dz > 7 ? 7 : dz));
}

static void ms_write(I8042 *k, uint8_t val)
{
    if (k->ms.wrap && val != 0xec && val != 0xff) {
        ms_send(k, val);
        return;
    }
    uint8_t expect = k->ms.expect;
    k->ms.expect = 0;
    if (expect) {
        if (expect == 0xf3) {
            k->ms.rate = val;
            /* The IntelliMouse knock: sample rates 200, 100, 80 switch on the wheel. */
            k->ms.rate_hist[0] = k->ms.rate_hist[1];
            k->ms.rate_hist[1] = k->ms.rate_hist[2];
            k->ms.rate_hist[2] = val;
            if (k->ms.rate_hist[0] == 200 && k->ms.rate_hist[1] == 100 && val == 80) k->ms.id = 3;
        } else {
            k->ms.resolution = val & 3;
        }
        ms_send(k, KBD_ACK);
        return;
    }
    switch (val) {
    case 0xe6:
        k->ms.scale21 = false;
        ms_send(k, KBD_ACK);
        break;
    case 0xe7:
        k->ms.scale21 = true;
        ms_send(k, KBD_ACK);
        break;
    case 0xe8:
    case 0xf3:
        k->ms.expect = val;
        ms_send(k, KBD_ACK);
        break;
    case 0xe9:
        ms_send(k, KBD_ACK);
        ms_send(k, (uint8_t)(k->ms.remote << 6 | k->ms.enabled << 5 | k->ms.scale21 << 4 |
                             (k->ms.buttons & 1) << 2 | (k->ms.buttons & 4) >> 1 |
                             (k->ms.buttons & 2) >> 1));
        ms_send(k, k->ms.resolution);
        ms_send(k, k->ms.rate);
        break;
    case 0xea:
        k->ms.remote = false;
        ms_send(k, KBD_ACK);
        break;
    case 0xeb:
        ms_send(k, KBD_ACK);
        ms_send_packet(k, 0, 0, 0);
        break;
    case 0xec:
        k->ms.wrap = false;
        ms_send(k, KBD_ACK);
        break;
    case 0xee:
        k->ms.wrap = true;
        ms_send(k, KBD_ACK);
        break;
    case 0xf0:
        k->ms.remote = true;
        ms_send(k, KBD_ACK);
        break;
    case 0xf2:
        ms_send(k, KBD_ACK);
        ms_send(k, k->ms.id);
        break;
    case 0xf4:
        k->ms.enabled = true;
        ms_send(k, KBD_ACK);
        break;
    case 0xf5:
        k->ms.enabled = false;
        ms_send(k, KBD_ACK);
        break;
    case 0xf6:
        ms_defaults(k);
        ms_send(k, KBD_ACK);
        break;
    case 0xfe: ms_send(k, k->ms.last); break;
    case 0xff:
        q_clear(&k->aux_q);
        ms_defaults(k);
        k->ms.enabled = false;
        k->ms.wrap = false;
        k->ms.id = 0;
        ms_send(k, KBD_ACK);
        ms_send(k, KBD_BAT_OK);
        ms_send(k, 0x00);
        break;
    default: ms_send(k, KBD_RESEND); break;
    }
}

void kbd_put_mouse(I8042 *kbd, int dx, int dy, int dz, unsigned buttons)
{
    I8042 *k = kbd;
    k->ms.buttons = buttons;
    if (!k->ms.enabled || k->ms.remote || k->ms.wrap) return;
    if (k->aux_q.count > QUEUE_SIZE - 4) return;
    ms_send_packet(k, dx, dy, dz);
}

/* ---- controller ---- */

static void kbd_command(I8042 *k, uint8_t cmd)
{
    if (cmd >= 0x20 && cmd <= 0x3f) {
        ctrl_reply(k, k->ram[cmd & 0x1f]);
        return;
    }
    if ((cmd >= 0x60 && cmd <= 0x7f) || (cmd >= 0xd1 && cmd <= 0xd4)) {
        k->pending_cmd = cmd;
        return;
    }
    if (cmd >= 0xf0) {
        /* Pulse output-port bits whose mask bit is 0; only bit 0 (reset) is wired. */
        if (!(cmd & 1) && k->request_reset) k->request_reset(k->opaque);
        return;
    }
    switch (cmd) {
    case 0xa4: ctrl_reply(k, 0xf1); break; /* no password installed */
    case 0xa7: k->ram[0] |= CTR_AUX_DISABLE; break;
    case 0xa8:
        k->ram[0] &= ~CTR_AUX_DISABLE;
        kbd_refill(k);
        break;
    case 0xa9: ctrl_reply(k, 0x00); break; /* aux interface test passed */
    case 0xaa: ctrl_reply(k, 0x55); break; /* controller self-test passed */
    case 0xab: ctrl_reply(k, 0x00); break; /* keyboard interface test passed */
    case 0xad: k->ram[0] |= CTR_KBD_DISABLE; break;
    case 0xae:
        k->ram[0] &= ~CTR_KBD_DISABLE;
        kbd_refill(k);
        break;
    case 0xc0: ctrl_reply(k, 0x80); break; /* input port: keyboard not inhibited */
    case 0xd0: ctrl_reply(k, kbd_read_outport(k)); break;
    case 0xdd: kbd_write_outport(k, k->outport & ~OUT_A20); break;
    case 0xdf: kbd_write_outport(k, k->outport | OUT_A20); break;
    case 0xe0: ctrl_reply(k, 0x00); break; /* test inputs */
    default: LOG_ONCE(LOG_UNIMP, "i8042: unknown controller command 0x%02x", cmd); break;
    }
}

static void kbd_write_data(I8042 *k, uint8_t val)
{
    uint8_t cmd = k->pending_cmd;
    k->pending_cmd = 0;
    if (cmd >= 0x60 && cmd <= 0x7f) {
        k->ram[cmd & 0x1f] = val;
        kbd_refill(k); /* interrupt enables or interface clocks may have changed */
        return;
    }
    switch (cmd) {
    case 0xd1: kbd_write_outport(k, val); break;
    case 0xd2: ctrl_put(k, val, SRC_KBD); break;
    case 0xd3: ctrl_put(k, val, SRC_AUX); break;
    case 0xd4: ms_write(k, val); break;
    default:
        /* Sending to the keyboard re-enables its interface, as real controllers do. */
        k->ram[0] &= ~CTR_KBD_DISABLE;
        kb_write(k, val);
        break;
    }
}

static uint8_t kbd_status(const I8042 *k)
{
    uint8_t s = STAT_UNLOCKED;
    if (k->obf) s |= STAT_OBF | (k->obuf_src == SRC_AUX ? STAT_AUX_OBF : 0);
    if (k->ram[0] & CTR_SYS) s |= STAT_SYS;
    if (k->last_was_cmd) s |= STAT_CMD;
    return s;
}

static uint32_t kbd_data_read(void *opaque, uint64_t off, unsigned size)
{
    I8042 *k = opaque;
    uint8_t v = k->obuf; /* an empty buffer reads its stale contents */
    if (k->obf) {
        k->obf = false;
        kbd_refill(k);
    }
    return v;
}

static void kbd_data_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    I8042 *k = opaque;
    k->last_was_cmd = false;
    kbd_write_data(k, val);
}

static uint32_t kbd_cmd_read(void *opaque, uint64_t off, unsigned size)
{
    return kbd_status(opaque);
}

static void kbd_cmd_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    I8042 *k = opaque;
    k->last_was_cmd = true;
    k->pending_cmd = 0;
    kbd_command(k, val);
}

static const MemOps kbd_data_ops = {kbd_data_read, kbd_data_write, 1, 1};
static const MemOps kbd_cmd_ops = {kbd_cmd_read, kbd_cmd_write, 1, 1};

static void kbd_reset(Device *dev)
{
    I8042 *k = (I8042 *)dev;
    memset(k->ram, 0, sizeof k->ram);
    /* The command byte a BIOS leaves behind: keyboard interrupt on, translation, POST done. */
    k->ram[0] = CTR_KBD_INT | CTR_SYS | CTR_XLATE;
    k->outport = 0xc0 | OUT_A20 | OUT_RESET;
    k->last_was_cmd = false;
    k->pending_cmd = 0;
    k->obf = false;
    q_clear(&k->ctrl_q);
    q_clear(&k->ctrl_src_q);
    q_clear(&k->kbd_q);
    q_clear(&k->aux_q);
    k->kb.scanning = true;
    k->kb.expect = 0;
    kb_defaults(k);
    ms_defaults(k);
    k->ms.enabled = k->ms.wrap = false;
    k->ms.expect = k->ms.id = 0;
    kbd_update_irq(k);
}

static void kbd_describe(Device *dev, FILE *out)
{
    I8042 *k = (I8042 *)dev;
    fprintf(out,
            "status=%02x ctr=%02x outport=%02x kbd: set=%d scan=%d queued=%d; aux: %s queued=%d\n",
            kbd_status(k), k->ram[0], kbd_read_outport(k), k->kb.set, k->kb.scanning,
            k->kbd_q.count, k->ms.enabled ? "on" : "off", k->aux_q.count);
}

I8042 *kbd_new(AddressSpace *io, IrqLine irq1, IrqLine irq12,
               void (*set_a20)(void *opaque, bool on), void (*request_reset)(void *opaque),
               void *opaque)
{
    I8042 *k = XNEW(I8042);
    k->dev.name = "i8042";
    k->dev.reset = kbd_reset;
    k->dev.describe = kbd_describe;
    k->irq1 = irq1;
    k->irq12 = irq12;
    k->set_a20 = set_a20;
    k->request_reset = request_reset;
    k->opaque = opaque;
    k->io = io;
    k->mr_data = as_add_mmio(io, "i8042-data", 0x60, 1, &kbd_data_ops, k);
    k->mr_cmd = as_add_mmio(io, "i8042-cmd", 0x64, 1, &kbd_cmd_ops, k);
    kbd_reset(&k->dev);
    return k;
}

void kbd_free(I8042 *kbd)
{
    if (!kbd) return;
    as_remove(kbd->io, kbd->mr_data);
    as_remove(kbd->io, kbd->mr_cmd);
    free(kbd);
}

Device *kbd_device(I8042 *kbd)
{
    return &kbd->dev;
}
