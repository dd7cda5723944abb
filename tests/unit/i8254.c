/* 8254 PIT: modes 0/2/3/4 counts and IRQ timing, access modes, latch, read-back, BCD, gate,
 * and channel 0 driving a real 8259A. */
#include "test.h"

#include "core/clock.h"
#include "core/memory.h"
#include "hw/intc/i8259.h"
#include "hw/timer/i8254.h"

typedef struct {
    AddressSpace io;
    Clock clock;
    uint64_t insns; /* icount shift 0: one instruction is one virtual ns */
    I8254 *pit;
    int level, rises;
    int64_t rise_ns[64];
} Rig;

static uint64_t rig_insns(void *o)
{
    return ((Rig *)o)->insns;
}

static void irq0_set(void *o, int n, int level)
{
    Rig *r = o;
    if (level && !r->level && r->rises < 64) r->rise_ns[r->rises++] = (int64_t)r->insns;
    if (level && !r->level && r->rises >= 64) r->rises++;
    r->level = level;
}

static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->io, "io", 0x10000);
    clock_init(&r->clock, true, 0);
    r->clock.insn_count = rig_insns;
    r->clock.insn_opaque = r;
    r->pit = pit_new(&r->io, &r->clock, (IrqLine){irq0_set, r, 0});
    r->rises = 0;
}

static void rig_free(Rig *r)
{
    pit_free(r->pit);
    as_destroy(&r->io);
    free(r->clock.heap);
}

/* Run virtual time forward like the run loop: stop at each timer deadline and fire it. */
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

static void out8(Rig *r, uint16_t port, uint8_t v)
{
    as_write(&r->io, port, v, 1);
}
static uint8_t in8(Rig *r, uint16_t port)
{
    return as_read(&r->io, port, 1);
}

static int64_t tick_ns(int64_t t) /* first ns at which tick t has happened */
{
    return t / PIT_FREQ_HZ * NS_PER_SEC +
           (t % PIT_FREQ_HZ * NS_PER_SEC + PIT_FREQ_HZ - 1) / PIT_FREQ_HZ;
}

static uint16_t read16(Rig *r, int ch)
{
    uint8_t lo = in8(r, 0x40 + ch);
    return lo | in8(r, 0x40 + ch) << 8;
}

TEST(mode2_periodic_no_drift)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x34); /* ch0, lo/hi, mode 2 */
    out8(&r, 0x40, 1193 & 0xff);
    out8(&r, 0x40, 1193 >> 8);
    CHECK_EQ(r.level, 1);
    run_to(&r, 10 * 1000000 + 500000);
    CHECK_EQ(r.rises, 10);
    for (int k = 1; k <= 10; k++)
        CHECK_EQ(r.rise_ns[k - 1], tick_ns(k * 1193));
    /* A long run: the 1000th edge lands exactly on its tick, not on accumulated rounding. */
    run_to(&r, tick_ns(1000 * 1193) - 1);
    int before = r.rises;
    run_to(&r, tick_ns(1000 * 1193));
    CHECK_EQ(r.rises, before + 1);
    rig_free(&r);
}

TEST(mode2_counter_values_and_reload)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x34);
    out8(&r, 0x40, 100);
    out8(&r, 0x40, 0);
    run_to(&r, tick_ns(30));
    CHECK_EQ(read16(&r, 0), 70);
    run_to(&r, tick_ns(99));
    CHECK_EQ(read16(&r, 0), 1);
    CHECK_EQ(r.level, 0); /* OUT low for the clock at count 1 */
    run_to(&r, tick_ns(100));
    CHECK_EQ(read16(&r, 0), 100);
    CHECK_EQ(r.level, 1);
    /* A new count takes effect at the end of the current period. */
    run_to(&r, tick_ns(150));
    out8(&r, 0x40, 10);
    out8(&r, 0x40, 0);
    run_to(&r, tick_ns(160));
    CHECK_EQ(read16(&r, 0), 40);
    int before = r.rises;
    run_to(&r, tick_ns(200));
    CHECK_EQ(r.rises, before + 1);
    CHECK_EQ(read16(&r, 0), 10);
    run_to(&r, tick_ns(230));
    CHECK_EQ(r.rises, before + 4);
    rig_free(&r);
}

TEST(mode0_terminal_count)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x30); /* mode 0 */
    out8(&r, 0x40, 0x00);
    CHECK_EQ(r.level, 0); /* first byte written: OUT low */
    out8(&r, 0x40, 0x10); /* 0x1000 */
    run_to(&r, tick_ns(0x800));
    CHECK_EQ(read16(&r, 0), 0x800);
    CHECK_EQ(r.level, 0);
    CHECK_EQ(r.rises, 0);
    run_to(&r, tick_ns(0x1000) - 1);
    CHECK_EQ(r.level, 0);
    run_to(&r, tick_ns(0x1000));
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.rises, 1);
    CHECK_EQ(r.rise_ns[0], tick_ns(0x1000));
    /* The counter wraps and keeps counting; OUT stays high, no more interrupts. */
    run_to(&r, tick_ns(0x1000 + 5));
    CHECK_EQ(read16(&r, 0), 0xfffb);
    run_to(&r, tick_ns(0x30000));
    CHECK_EQ(r.rises, 1);
    rig_free(&r);
}

TEST(mode4_strobe)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x38); /* Linux's one-shot clockevent mode */
    out8(&r, 0x40, 50);
    out8(&r, 0x40, 0);
    CHECK_EQ(r.level, 1);
    run_to(&r, tick_ns(50));
    CHECK_EQ(r.level, 0);
    run_to(&r, tick_ns(51));
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.rises, 1);
    CHECK_EQ(r.rise_ns[0], tick_ns(51));
    run_to(&r, tick_ns(200000));
    CHECK_EQ(r.rises, 1);
    rig_free(&r);
}

TEST(mode3_square_wave_channel2)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x61, 0x01); /* gate 2 on, speaker off */
    out8(&r, 0x43, 0xb6); /* ch2, lo/hi, mode 3 */
    out8(&r, 0x42, 100);
    out8(&r, 0x42, 0);
    CHECK(in8(&r, 0x61) & 0x20);
    run_to(&r, tick_ns(49));
    CHECK(in8(&r, 0x61) & 0x20);
    CHECK_EQ(read16(&r, 2), 2);
    run_to(&r, tick_ns(50));
    CHECK(!(in8(&r, 0x61) & 0x20));
    CHECK_EQ(read16(&r, 2), 100);
    run_to(&r, tick_ns(100));
    CHECK(in8(&r, 0x61) & 0x20);
    /* Gate low: OUT forced high and the count holds. */
    run_to(&r, tick_ns(160));
    out8(&r, 0x61, 0x00);
    CHECK(in8(&r, 0x61) & 0x20);
    CHECK_EQ(in8(&r, 0x61) & 0x0f, 0);
    rig_free(&r);
}

TEST(channel2_gate_mode0_calibration)
{
    Rig r;
    rig_init(&r);
    /* What Linux's PIT TSC calibration does: gate high, mode 0, count 0xffff, poll MSB. */
    out8(&r, 0x61, 0x00);
    out8(&r, 0x43, 0xb0);
    out8(&r, 0x42, 0xff);
    out8(&r, 0x42, 0xff);
    run_to(&r, tick_ns(1000));
    CHECK_EQ(read16(&r, 2), 0xffff); /* gate low: not counting */
    out8(&r, 0x61, 0x01);
    run_to(&r, tick_ns(1000 + 0x100));
    CHECK_EQ(read16(&r, 2), 0xfeff);
    out8(&r, 0x61, 0x00); /* pause */
    run_to(&r, tick_ns(5000));
    CHECK_EQ(read16(&r, 2), 0xfeff);
    out8(&r, 0x61, 0x01);
    run_to(&r, tick_ns(5000 + 0xfeff));
    CHECK(in8(&r, 0x61) & 0x20); /* terminal count reached */
    rig_free(&r);
}

TEST(access_modes_and_latch)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x54); /* ch1, lobyte only, mode 2 */
    out8(&r, 0x41, 200);
    run_to(&r, tick_ns(50));
    CHECK_EQ(in8(&r, 0x41), 150);
    CHECK_EQ(in8(&r, 0x41), 150);
    out8(&r, 0x43, 0x64); /* ch1, hibyte only, mode 2: count 0x0300 */
    out8(&r, 0x41, 0x03);
    run_to(&r, tick_ns(50 + 0x100));
    CHECK_EQ(in8(&r, 0x41), 0x02);
    /* Counter latch on ch0 in lo/hi mode: the value freezes until both bytes are read. */
    out8(&r, 0x43, 0x34);
    out8(&r, 0x40, 0x00);
    out8(&r, 0x40, 0x10);
    run_to(&r, tick_ns(50 + 0x100 + 0x10));
    out8(&r, 0x43, 0x00);
    run_to(&r, tick_ns(50 + 0x100 + 0x50));
    out8(&r, 0x43, 0x00); /* a second latch is ignored */
    CHECK_EQ(read16(&r, 0), 0x0ff0);
    CHECK_EQ(read16(&r, 0), 0x0fb0); /* live again */
    rig_free(&r);
}

TEST(read_back)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x34);
    /* Status right after the control word: OUT high (mode 2), null count, rw=3, mode 2. */
    out8(&r, 0x43, 0xe2); /* read-back status only, ch0 */
    CHECK_EQ(in8(&r, 0x40), 0xc0 | 0x30 | 0x04);
    out8(&r, 0x40, 0x00);
    out8(&r, 0x40, 0x20);
    run_to(&r, tick_ns(0x100));
    /* Count and status together: status first, then the count. */
    out8(&r, 0x43, 0xc2);
    run_to(&r, tick_ns(0x180));
    CHECK_EQ(in8(&r, 0x40), 0x80 | 0x30 | 0x04); /* count loaded: null count clear */
    CHECK_EQ(read16(&r, 0), 0x1f00);
    /* Mode 0 status shows OUT low. */
    out8(&r, 0x43, 0x70); /* ch1 mode 0 */
    out8(&r, 0x41, 0x00);
    out8(&r, 0x41, 0x10);
    run_to(&r, tick_ns(0x190));
    out8(&r, 0x43, 0xe4);
    CHECK_EQ(in8(&r, 0x41), 0x30);
    rig_free(&r);
}

TEST(bcd_counting)
{
    Rig r;
    rig_init(&r);
    out8(&r, 0x43, 0x31); /* ch0 mode 0 BCD */
    out8(&r, 0x40, 0x00);
    out8(&r, 0x40, 0x10); /* 1000 decimal */
    run_to(&r, tick_ns(5));
    CHECK_EQ(read16(&r, 0), 0x0995);
    run_to(&r, tick_ns(1000));
    CHECK_EQ(r.level, 1);
    run_to(&r, tick_ns(1001));
    CHECK_EQ(read16(&r, 0), 0x9999); /* BCD wraps at 10000 */
    rig_free(&r);
}

TEST(refresh_toggle_and_guest_garbage)
{
    Rig r;
    rig_init(&r);
    uint8_t a = in8(&r, 0x61) & 0x10;
    run_to(&r, 15085);
    uint8_t b = in8(&r, 0x61) & 0x10;
    CHECK(a != b);
    /* Nonsense from the guest must not crash: mode 2 count 1, mode 3 count 1, read of 0x43. */
    out8(&r, 0x43, 0x34);
    out8(&r, 0x40, 1);
    out8(&r, 0x40, 0);
    run_to(&r, 100000);
    out8(&r, 0x43, 0x36);
    out8(&r, 0x40, 1);
    out8(&r, 0x40, 0);
    run_to(&r, 200000);
    CHECK_EQ(in8(&r, 0x43), 0xff);
    rig_free(&r);
}

/* PIT channel 0 through a real 8259A: a 1 kHz mode-2 tick delivers one interrupt per period
 * when the handler acknowledges and EOIs, like Linux's timer interrupt. */
static void intr_cb(void *o, int n, int level)
{
    *(int *)o = level;
}

TEST(pit_drives_pic)
{
    AddressSpace io;
    Clock clock;
    Rig r; /* only for the instruction counter */
    memset(&r, 0, sizeof r);
    as_init(&io, "io", 0x10000);
    clock_init(&clock, true, 0);
    clock.insn_count = rig_insns;
    clock.insn_opaque = &r;
    int intr = 0;
    Pic *pic = pic_new(&io, (IrqLine){intr_cb, &intr, 0});
    I8254 *pit = pit_new(&io, &clock, pic_irq(pic, 0));
    static const uint8_t init[][2] = {{0x20, 0x11}, {0x21, 0x20}, {0x21, 0x04}, {0x21, 0x01},
                                      {0xa0, 0x11}, {0xa1, 0x28}, {0xa1, 0x02}, {0xa1, 0x01},
                                      {0x21, 0xfe}, {0xa1, 0xff}};
    for (size_t i = 0; i < sizeof init / sizeof init[0]; i++)
        as_write(&io, init[i][0], init[i][1], 1);
    as_write(&io, 0x43, 0x34, 1);
    as_write(&io, 0x40, 1193 & 0xff, 1);
    as_write(&io, 0x40, 1193 >> 8, 1);
    int handled = 0;
    int64_t end = 100 * 1000000LL;
    while ((int64_t)r.insns < end) {
        int64_t next = clock_next_deadline(&clock);
        r.insns = next < end ? next : end;
        clock_run_timers(&clock);
        if (intr) {
            CHECK_EQ(pic_intack(pic), 0x20);
            as_write(&io, 0x20, 0x20, 1);
            handled++;
        }
    }
    CHECK_EQ(handled, 100);
    pit_free(pit);
    pic_free(pic);
    as_destroy(&io);
    free(clock.heap);
}
