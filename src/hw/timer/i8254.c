/* Intel 8254 PIT (8254 datasheet: control word, modes 0-5, counter latch, read-back) and PC/AT
 * port 0x61. Counters are computed lazily from the virtual clock; only channel 0's OUT changes
 * are scheduled on a Timer, at absolute tick numbers so periodic modes never drift. */
#include "hw/timer/i8254.h"

#include <stdint.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

/* DRAM refresh request period on the AT (channel 1 programmed to 18 ticks), visible in port 0x61
 * bit 4; some kernels and BIOSes busy-wait on it for short delays. */
#define REFRESH_PERIOD_NS 15085

typedef struct PitChannel {
    struct I8254 *pit;
    int index;
    uint8_t mode, rw, bcd;
    bool armed; /* a count has been loaded since the last control word */
    bool gate;
    bool frozen;    /* counting suspended by the gate (or waiting for a gate edge) */
    bool triggered; /* modes 1 and 5: a gate edge started the current one-shot */
    uint32_t cr;    /* count register: last count written, 1..65536 (or 10000 in BCD) */
    uint32_t count; /* count the counting element runs with */
    int64_t start;  /* tick at which the counting element held `count` */
    int64_t frozen_d;
    bool pending; /* modes 2/3: cr waits for the end of the current period */
    int64_t pending_at;
    bool start_is_edge; /* the counting period began with OUT rising (a reload) */
    int64_t null_until; /* status NULL COUNT is set while now < null_until */
    uint16_t idle_value;
    /* Write and read byte sequencing for the lobyte/hibyte access mode. */
    bool write_msb_next, read_msb_next;
    uint8_t write_lsb;
    bool count_latched, latch_msb_next;
    uint16_t latched;
    bool status_latched;
    uint8_t status;
    /* Channel 0 only: IRQ output tracking. */
    Timer timer;
    int irq_level;
    int64_t irq_rise_seen;
} PitChannel;

struct I8254 {
    Device dev;
    PitChannel ch[3];
    Clock *clock;
    IrqLine irq0;
    uint8_t port61; /* writable bits 0-3 */
    AddressSpace *io;
    MemRegion *mr, *mr61;
};

static int64_t ns_to_ticks(int64_t ns)
{
    if (ns < 0) ns = 0;
    return ns / NS_PER_SEC * PIT_FREQ_HZ + ns % NS_PER_SEC * PIT_FREQ_HZ / NS_PER_SEC;
}

/* First virtual ns at which the tick count reaches t. */
static int64_t ticks_to_ns(int64_t t)
{
    return t / PIT_FREQ_HZ * NS_PER_SEC +
           (t % PIT_FREQ_HZ * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static int64_t pit_now(I8254 *pit)
{
    return ns_to_ticks(clock_ns(pit->clock));
}

static uint32_t modulus(const PitChannel *ch)
{
    return ch->bcd ? 10000 : 65536;
}

static uint16_t to_bcd(uint32_t v)
{
    return (v % 10) | (v / 10 % 10) << 4 | (v / 100 % 10) << 8 | (v / 1000 % 10) << 12;
}

static uint32_t decode_count(const PitChannel *ch, uint16_t raw)
{
    uint32_t v = raw;
    if (ch->bcd)
        v = (raw & 15) + (raw >> 4 & 15) * 10 + (raw >> 8 & 15) * 100 + (raw >> 12 & 15) * 1000;
    /* Zero is the largest count: 2^16 in binary, 10^4 in BCD. Invalid BCD digits still count
     * down on the chip; clamping them keeps the arithmetic in range. */
    if (v == 0 || v > modulus(ch)) v = modulus(ch);
    return v;
}

static int64_t elapsed(const PitChannel *ch, int64_t now)
{
    return ch->frozen ? ch->frozen_d : now - ch->start;
}

/* Modes 2 and 3 take a new count at the end of the current period. */
static void pit_sync(PitChannel *ch, int64_t now)
{
    if (ch->pending && !ch->frozen && now >= ch->pending_at) {
        ch->start = ch->pending_at;
        ch->count = ch->cr;
        ch->pending = false;
        ch->start_is_edge = true;
    }
}

static bool one_shot_idle(const PitChannel *ch)
{
    return (ch->mode == 1 || ch->mode == 5) && !ch->triggered;
}

static bool pit_out_at(const PitChannel *ch, int64_t now)
{
    if (!ch->armed) return ch->mode != 0;
    if (one_shot_idle(ch)) return true;
    int64_t d = elapsed(ch, now), n = ch->count;
    switch (ch->mode) {
    case 0:
    case 1: return d >= n;
    case 2:
        if (ch->frozen) return true;
        return n < 2 || d % n != n - 1;
    case 3:
        if (ch->frozen) return true;
        return d % n < (n + 1) / 2;
    default: return d != n; /* modes 4, 5: one clock low at terminal count */
    }
}

static uint16_t pit_value_at(const PitChannel *ch, int64_t now)
{
    if (!ch->armed || one_shot_idle(ch)) return ch->idle_value;
    int64_t d = elapsed(ch, now), n = ch->count, m = modulus(ch);
    uint32_t v;
    switch (ch->mode) {
    case 2: v = n - d % n; break;
    case 3: {
        int64_t p = d % n, hi = (n + 1) / 2;
        v = p < hi ? 2 * (hi - p) : 2 * (n / 2 - (p - hi));
        break;
    }
    default: v = ((n - d) % m + m) % m; break;
    }
    v %= m;
    return ch->bcd ? to_bcd(v) : v;
}

/* Tick of the latest rising edge of OUT at or before now, or INT64_MIN. */
static int64_t pit_last_rise(const PitChannel *ch, int64_t now)
{
    if (!ch->armed || one_shot_idle(ch)) return INT64_MIN;
    int64_t d = elapsed(ch, now), n = ch->count;
    switch (ch->mode) {
    case 0:
    case 1: return d >= n ? ch->start + n : INT64_MIN;
    case 2:
    case 3:
        if (n < 2 || d < 0) return INT64_MIN;
        if (d >= n) return ch->start + d / n * n;
        return ch->start_is_edge ? ch->start : INT64_MIN;
    default: return d >= n + 1 ? ch->start + n + 1 : INT64_MIN;
    }
}

/* Tick of the next OUT transition after now, or INT64_MAX. */
static int64_t pit_next_change(const PitChannel *ch, int64_t now)
{
    if (!ch->armed || ch->frozen || one_shot_idle(ch)) return INT64_MAX;
    int64_t d = now - ch->start, n = ch->count;
    int64_t next = INT64_MAX;
    switch (ch->mode) {
    case 0:
    case 1:
        if (d < n) next = ch->start + n;
        break;
    case 2: {
        if (n < 2) break;
        int64_t p = d % n;
        next = p < n - 1 ? now - p + n - 1 : now + 1;
        break;
    }
    case 3: {
        int64_t p = d % n, hi = (n + 1) / 2;
        if (n < 2) break;
        next = p < hi ? now - p + hi : now - p + n;
        break;
    }
    default:
        if (d < n)
            next = ch->start + n;
        else if (d == n)
            next = ch->start + n + 1;
        break;
    }
    /* A pending count changes the waveform at the period boundary. */
    if (ch->pending && ch->pending_at > now && ch->pending_at < next) next = ch->pending_at;
    return next;
}

static void pit_irq_update(PitChannel *ch)
{
    I8254 *pit = ch->pit;
    if (ch->index != 0) return;
    int64_t now = pit_now(pit);
    pit_sync(ch, now);
    int64_t rise = pit_last_rise(ch, now);
    if (rise != INT64_MIN && rise > ch->irq_rise_seen) {
        /* A rising edge happened since we last looked (the timer may run late and miss the
         * low phase): make sure the PIC sees it. */
        if (ch->irq_level) irq_set(&pit->irq0, 0);
        irq_set(&pit->irq0, 1);
        ch->irq_level = 1;
        ch->irq_rise_seen = rise;
    }
    int out = pit_out_at(ch, now);
    if (out != ch->irq_level) {
        ch->irq_level = out;
        irq_set(&pit->irq0, out);
    }
    int64_t next = pit_next_change(ch, now);
    if (next == INT64_MAX)
        timer_del(&ch->timer);
    else
        timer_mod(&ch->timer, ticks_to_ns(next));
}

static void pit_timer_cb(void *opaque)
{
    pit_irq_update(opaque);
}

static void pit_start(PitChannel *ch, uint32_t n, int64_t now)
{
    ch->count = n;
    ch->start = now;
    ch->armed = true;
    ch->pending = false;
    ch->start_is_edge = false;
    ch->frozen = !ch->gate; /* a low gate holds the count until it rises */
    ch->frozen_d = 0;
    ch->null_until = now + 1;
}

static void pit_load(PitChannel *ch, uint16_t raw)
{
    int64_t now = pit_now(ch->pit);
    pit_sync(ch, now);
    uint32_t n = decode_count(ch, raw);
    ch->cr = n;
    switch (ch->mode) {
    case 1:
    case 5:
        /* The count is used from the next gate trigger on. */
        if (!ch->armed) ch->idle_value = raw;
        ch->armed = true;
        ch->null_until = INT64_MAX;
        break;
    case 2:
    case 3:
        if (ch->armed && !ch->frozen) {
            int64_t d = now - ch->start;
            ch->pending = true;
            ch->pending_at = ch->start + (d / ch->count + 1) * ch->count;
            ch->null_until = ch->pending_at;
        } else {
            /* The first count after the control word starts counting at once. */
            pit_start(ch, n, now);
        }
        break;
    default: pit_start(ch, n, now); break;
    }
}

static void pit_set_gate_ch(PitChannel *ch, bool level)
{
    int64_t now = pit_now(ch->pit);
    pit_sync(ch, now);
    bool rising = level && !ch->gate;
    bool falling = !level && ch->gate;
    ch->gate = level;
    if (!ch->armed) return;
    switch (ch->mode) {
    case 0:
    case 4:
        if (falling && !ch->frozen) {
            ch->frozen_d = now - ch->start;
            ch->frozen = true;
        } else if (rising && ch->frozen) {
            ch->start = now - ch->frozen_d;
            ch->frozen = false;
        }
        break;
    case 2:
    case 3:
        if (falling && !ch->frozen) {
            ch->frozen_d = now - ch->start;
            ch->frozen = true;
        } else if (rising) {
            /* A gate rising edge reloads the counter from the count register. */
            ch->count = ch->cr;
            ch->pending = false;
            ch->start = now;
            ch->start_is_edge = false;
            ch->frozen = false;
            ch->null_until = now + 1;
        }
        break;
    default:
        if (rising) {
            ch->count = ch->cr;
            ch->start = now;
            ch->triggered = true;
            ch->null_until = now + 1;
        }
        break;
    }
    pit_irq_update(ch);
}

static uint8_t pit_status(PitChannel *ch, int64_t now)
{
    return (uint8_t)(pit_out_at(ch, now) << 7 | (now < ch->null_until) << 6 | ch->rw << 4 |
                     ch->mode << 1 | ch->bcd);
}

static void pit_latch_count(PitChannel *ch, int64_t now)
{
    if (ch->count_latched) return; /* further latch commands are ignored until it is read */
    ch->latched = pit_value_at(ch, now);
    ch->count_latched = true;
    ch->latch_msb_next = ch->rw == 2;
}

static void pit_control(I8254 *pit, uint8_t val)
{
    int64_t now = pit_now(pit);
    int sc = val >> 6;
    if (sc == 3) {
        /* Read-back: bit 5 low latches counts, bit 4 low latches status, bits 1-3 select. */
        for (int i = 0; i < 3; i++) {
            PitChannel *ch = &pit->ch[i];
            if (!(val >> (i + 1) & 1)) continue;
            pit_sync(ch, now);
            if (!(val & 0x20)) pit_latch_count(ch, now);
            if (!(val & 0x10) && !ch->status_latched) {
                ch->status = pit_status(ch, now);
                ch->status_latched = true;
            }
        }
        return;
    }
    PitChannel *ch = &pit->ch[sc];
    pit_sync(ch, now);
    int rw = val >> 4 & 3;
    if (rw == 0) {
        pit_latch_count(ch, now);
        return;
    }
    ch->idle_value = pit_value_at(ch, now);
    ch->rw = rw;
    ch->mode = val >> 1 & 7;
    if (ch->mode > 5) ch->mode -= 4; /* 6 and 7 are aliases of modes 2 and 3 */
    ch->bcd = val & 1;
    ch->armed = false;
    ch->frozen = false;
    ch->triggered = false;
    ch->pending = false;
    ch->null_until = INT64_MAX;
    ch->write_msb_next = ch->read_msb_next = false;
    ch->count_latched = ch->status_latched = false;
    pit_irq_update(ch);
}

static void pit_write_counter(PitChannel *ch, uint8_t val)
{
    switch (ch->rw) {
    case 1: pit_load(ch, val); break;
    case 2: pit_load(ch, val << 8); break;
    default:
        if (!ch->write_msb_next) {
            ch->write_lsb = val;
            ch->write_msb_next = true;
            if (ch->mode == 0 && ch->armed) {
                /* Mode 0: writing the first byte stops the count and drives OUT low. */
                int64_t now = pit_now(ch->pit);
                ch->idle_value = pit_value_at(ch, now);
                ch->armed = false;
            }
        } else {
            ch->write_msb_next = false;
            pit_load(ch, ch->write_lsb | val << 8);
        }
        break;
    }
    pit_irq_update(ch);
}

static uint8_t pit_read_counter(PitChannel *ch)
{
    if (ch->status_latched) {
        ch->status_latched = false;
        return ch->status;
    }
    if (ch->count_latched) {
        uint8_t b = ch->latch_msb_next ? ch->latched >> 8 : ch->latched & 0xff;
        if (ch->rw == 3 && !ch->latch_msb_next)
            ch->latch_msb_next = true;
        else
            ch->count_latched = false;
        return b;
    }
    int64_t now = pit_now(ch->pit);
    pit_sync(ch, now);
    uint16_t v = pit_value_at(ch, now);
    switch (ch->rw) {
    case 1: return v & 0xff;
    case 2: return v >> 8;
    default: ch->read_msb_next = !ch->read_msb_next; return ch->read_msb_next ? v & 0xff : v >> 8;
    }
}

static uint32_t pit_io_read(void *opaque, uint64_t off, unsigned size)
{
    I8254 *pit = opaque;
    if (off == 3) return 0xff; /* the control register is write-only */
    return pit_read_counter(&pit->ch[off]);
}

static void pit_io_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    I8254 *pit = opaque;
    if (off == 3)
        pit_control(pit, val);
    else
        pit_write_counter(&pit->ch[off], val);
}

static uint32_t port61_read(void *opaque, uint64_t off, unsigned size)
{
    I8254 *pit = opaque;
    int64_t ns = clock_ns(pit->clock);
    PitChannel *ch2 = &pit->ch[2];
    int64_t now = ns_to_ticks(ns);
    pit_sync(ch2, now);
    bool refresh = (ns / REFRESH_PERIOD_NS) & 1;
    return (pit->port61 & 0x0f) | refresh << 4 | pit_out_at(ch2, now) << 5;
}

static void port61_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    I8254 *pit = opaque;
    pit->port61 = val & 0x0f;
    pit_set_gate_ch(&pit->ch[2], val & 1);
}

static const MemOps pit_ops = {pit_io_read, pit_io_write, 1, 1};
static const MemOps port61_ops = {port61_read, port61_write, 1, 1};

void pit_set_gate(I8254 *pit, int channel, bool level)
{
    if (channel >= 0 && channel < 3) pit_set_gate_ch(&pit->ch[channel], level);
}

bool pit_get_out(I8254 *pit, int channel)
{
    if (channel < 0 || channel > 2) return false;
    int64_t now = pit_now(pit);
    pit_sync(&pit->ch[channel], now);
    return pit_out_at(&pit->ch[channel], now);
}

static void pit_reset(Device *dev)
{
    I8254 *pit = (I8254 *)dev;
    pit->port61 = 0;
    for (int i = 0; i < 3; i++) {
        PitChannel *ch = &pit->ch[i];
        timer_del(&ch->timer);
        Timer t = ch->timer;
        int level = ch->irq_level;
        *ch = (PitChannel){.pit = pit, .index = i, .timer = t, .irq_level = level};
        ch->mode = 3;
        ch->rw = 3;
        ch->gate = i != 2;
        ch->null_until = INT64_MAX;
        ch->irq_rise_seen = INT64_MIN;
    }
    pit_irq_update(&pit->ch[0]);
}

static void pit_describe(Device *dev, FILE *out)
{
    I8254 *pit = (I8254 *)dev;
    int64_t now = pit_now(pit);
    for (int i = 0; i < 3; i++) {
        PitChannel *ch = &pit->ch[i];
        pit_sync(ch, now);
        fprintf(out, "%sch%d: mode=%d count=%u value=%u out=%d gate=%d%s", i ? "; " : "", i,
                ch->mode, ch->count, pit_value_at(ch, now), pit_out_at(ch, now), ch->gate,
                ch->armed ? "" : " idle");
    }
    fputc('\n', out);
}

I8254 *pit_new(AddressSpace *io, Clock *clock, IrqLine irq0)
{
    I8254 *pit = XNEW(I8254);
    pit->dev.name = "i8254";
    pit->dev.reset = pit_reset;
    pit->dev.describe = pit_describe;
    pit->clock = clock;
    pit->irq0 = irq0;
    pit->io = io;
    timer_init(&pit->ch[0].timer, clock, pit_timer_cb, &pit->ch[0]);
    pit->ch[0].irq_level = -1; /* unknown: the first update drives the line */
    for (int i = 1; i < 3; i++)
        timer_init(&pit->ch[i].timer, clock, pit_timer_cb, &pit->ch[i]);
    pit->mr = as_add_mmio(io, "pit", 0x40, 4, &pit_ops, pit);
    pit->mr61 = as_add_mmio(io, "port61", 0x61, 1, &port61_ops, pit);
    pit_reset(&pit->dev);
    return pit;
}

void pit_free(I8254 *pit)
{
    if (!pit) return;
    for (int i = 0; i < 3; i++)
        timer_del(&pit->ch[i].timer);
    as_remove(pit->io, pit->mr);
    as_remove(pit->io, pit->mr61);
    free(pit);
}

Device *pit_device(I8254 *pit)
{
    return &pit->dev;
}
