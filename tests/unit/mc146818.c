/* MC146818 RTC: BCD/binary and 12/24 h time, SET procedure, periodic rate, update-ended and
 * alarm interrupts, UIP timing, register C clearing, NVRAM. */
#include "test.h"

#include "core/clock.h"
#include "core/memory.h"
#include "hw/timer/mc146818.h"

typedef struct {
    AddressSpace io;
    Clock clock;
    uint64_t insns;
    Rtc *rtc;
    int level, rises;
} Rig;

static uint64_t rig_insns(void *o)
{
    return ((Rig *)o)->insns;
}

static void irq8_set(void *o, int n, int level)
{
    Rig *r = o;
    if (level && !r->level) r->rises++;
    r->level = level;
}

static void out8(Rig *r, uint16_t port, uint8_t v)
{
    as_write(&r->io, port, v, 1);
}
static uint8_t in8(Rig *r, uint16_t port)
{
    return as_read(&r->io, port, 1);
}
static uint8_t cmos_read(Rig *r, uint8_t i)
{
    out8(r, 0x70, i);
    return in8(r, 0x71);
}
static void cmos_write(Rig *r, uint8_t i, uint8_t v)
{
    out8(r, 0x70, i);
    out8(r, 0x71, v);
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

/* Set 2024-02-29 23:59:58 (BCD, 24 h) the way a guest does, with the divider held in reset
 * so the first update comes exactly 500 ms after it is released at t0. */
static void rig_init(Rig *r)
{
    memset(r, 0, sizeof *r);
    as_init(&r->io, "io", 0x10000);
    clock_init(&r->clock, true, 0);
    r->clock.insn_count = rig_insns;
    r->clock.insn_opaque = r;
    r->insns = 1000;
    r->rtc = rtc_new(&r->io, &r->clock, (IrqLine){irq8_set, r, 8}, 0);
    cmos_write(r, 0x0a, 0x70); /* divider reset */
    cmos_write(r, 0x0b, 0x82); /* SET, 24 h, BCD */
    cmos_write(r, 0x00, 0x58);
    cmos_write(r, 0x02, 0x59);
    cmos_write(r, 0x04, 0x23);
    cmos_write(r, 0x07, 0x29);
    cmos_write(r, 0x08, 0x02);
    cmos_write(r, 0x09, 0x24);
    cmos_write(r, 0x32, 0x20);
    cmos_write(r, 0x0b, 0x02);
    cmos_write(r, 0x0a, 0x26); /* run, 1024 Hz periodic rate */
}

static void rig_free(Rig *r)
{
    rtc_free(r->rtc);
    as_destroy(&r->io);
    free(r->clock.heap);
}

#define T0 1000
#define MS 1000000LL

TEST(bcd_time_and_rollover)
{
    Rig r;
    rig_init(&r);
    CHECK_EQ(rtc_get_time(r.rtc), 1709251198);
    CHECK_EQ(cmos_read(&r, 0x00), 0x58);
    CHECK_EQ(cmos_read(&r, 0x04), 0x23);
    CHECK_EQ(cmos_read(&r, 0x06), 0x05); /* Thursday */
    run_to(&r, T0 + 499 * MS);
    CHECK_EQ(cmos_read(&r, 0x00), 0x58);
    run_to(&r, T0 + 500 * MS + 1);
    CHECK_EQ(cmos_read(&r, 0x00), 0x59);
    run_to(&r, T0 + 1501 * MS);
    CHECK_EQ(cmos_read(&r, 0x00), 0x00);
    CHECK_EQ(cmos_read(&r, 0x02), 0x00);
    CHECK_EQ(cmos_read(&r, 0x04), 0x00);
    CHECK_EQ(cmos_read(&r, 0x07), 0x01); /* leap day rolls into March */
    CHECK_EQ(cmos_read(&r, 0x08), 0x03);
    CHECK_EQ(cmos_read(&r, 0x09), 0x24);
    CHECK_EQ(cmos_read(&r, 0x06), 0x06);
    CHECK_EQ(cmos_read(&r, 0x0d), 0x80);
    rig_free(&r);
}

TEST(binary_and_12_hour)
{
    Rig r;
    rig_init(&r);
    cmos_write(&r, 0x0b, 0x04); /* binary, 12 h */
    CHECK_EQ(cmos_read(&r, 0x00), 58);
    CHECK_EQ(cmos_read(&r, 0x04), 0x80 | 11); /* 11 PM */
    CHECK_EQ(cmos_read(&r, 0x09), 24);
    run_to(&r, T0 + 1501 * MS);
    CHECK_EQ(cmos_read(&r, 0x04), 12); /* 12 AM */
    /* Set 1 PM in binary 12-hour mode through the SET procedure. */
    cmos_write(&r, 0x0b, 0x84);
    cmos_write(&r, 0x04, 0x81);
    cmos_write(&r, 0x0b, 0x06); /* back to 24 h, binary */
    CHECK_EQ(cmos_read(&r, 0x04), 13);
    rig_free(&r);
}

TEST(set_bit_freezes_time)
{
    Rig r;
    rig_init(&r);
    cmos_write(&r, 0x0b, 0x82);
    run_to(&r, T0 + 5000 * MS);
    CHECK_EQ(cmos_read(&r, 0x00), 0x58);
    CHECK(!(cmos_read(&r, 0x0a) & 0x80)); /* no update in progress while SET */
    cmos_write(&r, 0x00, 0x10);
    cmos_write(&r, 0x0b, 0x02);
    CHECK_EQ(cmos_read(&r, 0x00), 0x10);
    rig_free(&r);
}

TEST(uip_timing)
{
    Rig r;
    rig_init(&r);
    /* Updates at T0 + 500 ms + k s; UIP is high for the 244 us before each. */
    run_to(&r, T0 + 500 * MS - 300000);
    CHECK(!(cmos_read(&r, 0x0a) & 0x80));
    run_to(&r, T0 + 500 * MS - 200000);
    CHECK(cmos_read(&r, 0x0a) & 0x80);
    CHECK_EQ(cmos_read(&r, 0x0a) & 0x7f, 0x26);
    run_to(&r, T0 + 500 * MS + 1000);
    CHECK(!(cmos_read(&r, 0x0a) & 0x80));
    rig_free(&r);
}

TEST(periodic_rate)
{
    Rig r;
    rig_init(&r);
    cmos_read(&r, 0x0c);
    cmos_write(&r, 0x0b, 0x42); /* PIE */
    int handled = 0;
    int64_t end = T0 + NS_PER_SEC;
    while ((int64_t)r.insns < end) {
        int64_t next = clock_next_deadline(&r.clock);
        if (next > end) break;
        r.insns = next;
        clock_run_timers(&r.clock);
        if (r.level) {
            uint8_t c = cmos_read(&r, 0x0c);
            CHECK_EQ(c & 0xc0, 0xc0);
            CHECK_EQ(r.level, 0);
            handled++;
        }
    }
    CHECK_EQ(handled, 1024);
    /* Rate 15 is 2 Hz. */
    cmos_write(&r, 0x0a, 0x2f);
    cmos_read(&r, 0x0c);
    int before = r.rises;
    for (int i = 0; i < 4; i++) {
        run_to(&r, (int64_t)r.insns + 500 * MS);
        cmos_read(&r, 0x0c);
    }
    CHECK_EQ(r.rises - before, 4);
    /* PF is set even with PIE clear, but no interrupt is raised. */
    cmos_write(&r, 0x0b, 0x02);
    cmos_write(&r, 0x0a, 0x26);
    cmos_read(&r, 0x0c);
    run_to(&r, (int64_t)r.insns + 2 * MS);
    CHECK_EQ(r.level, 0);
    CHECK_EQ(cmos_read(&r, 0x0c), 0x40 | 0x00);
    rig_free(&r);
}

TEST(update_interrupt)
{
    Rig r;
    rig_init(&r);
    cmos_read(&r, 0x0c);
    cmos_write(&r, 0x0b, 0x12); /* UIE */
    run_to(&r, T0 + 500 * MS - 1);
    CHECK_EQ(r.level, 0);
    run_to(&r, T0 + 500 * MS);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(cmos_read(&r, 0x00), 0x59);
    CHECK_EQ(cmos_read(&r, 0x0c), 0x80 | 0x40 | 0x10); /* IRQF, PF (not enabled), UF */
    CHECK_EQ(r.level, 0);
    CHECK_EQ(cmos_read(&r, 0x0c), 0x00); /* read clears */
    run_to(&r, T0 + 3500 * MS);
    CHECK_EQ(r.rises, 2); /* not cleared in between: a single assertion covers later ones */
    rig_free(&r);
}

TEST(alarm_interrupt)
{
    Rig r;
    rig_init(&r);
    /* Alarm at 00:00:02 on the next day: 4 s after 23:59:58. */
    cmos_write(&r, 0x01, 0x02);
    cmos_write(&r, 0x03, 0x00);
    cmos_write(&r, 0x05, 0x00);
    cmos_read(&r, 0x0c);
    cmos_write(&r, 0x0b, 0x22); /* AIE */
    run_to(&r, T0 + 3500 * MS - 1);
    CHECK_EQ(r.level, 0);
    run_to(&r, T0 + 3500 * MS);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(cmos_read(&r, 0x0c) & 0xb0, 0xb0);
    /* Don't-care hours and minutes: fires every minute at second 2. */
    cmos_write(&r, 0x03, 0xff);
    cmos_write(&r, 0x05, 0xc0);
    run_to(&r, T0 + 62500 * MS);
    CHECK_EQ(r.level, 0);
    run_to(&r, T0 + 63500 * MS);
    CHECK_EQ(r.level, 1);
    CHECK_EQ(r.rises, 2);
    /* An impossible alarm never fires (and costs nothing). */
    cmos_read(&r, 0x0c);
    cmos_write(&r, 0x01, 0x75);
    run_to(&r, T0 + 200000 * MS);
    CHECK_EQ(r.level, 0);
    rig_free(&r);
}

TEST(nvram_and_index)
{
    Rig r;
    rig_init(&r);
    cmos_write(&r, 0x40, 0xab);
    CHECK_EQ(cmos_read(&r, 0x40), 0xab);
    CHECK_EQ(cmos_read(&r, 0x80 | 0x40), 0xab); /* bit 7 is the NMI mask, not an index bit */
    rtc_set_cmos(r.rtc, 0x15, 0x80);
    rtc_set_cmos(r.rtc, 0x16, 0x02);
    CHECK_EQ(cmos_read(&r, 0x15), 0x80);
    CHECK_EQ(cmos_read(&r, 0x16), 0x02);
    CHECK_EQ(rtc_get_cmos(r.rtc, 0x32), 0x20);
    cmos_write(&r, 0x0c, 0xff); /* read-only */
    cmos_write(&r, 0x0d, 0x00);
    CHECK_EQ(cmos_read(&r, 0x0d), 0x80);
    CHECK_EQ(in8(&r, 0x70), 0xff);
    rig_free(&r);
}

TEST(host_time_start)
{
    AddressSpace io;
    Clock clock;
    as_init(&io, "io", 0x10000);
    clock_init(&clock, false, 0);
    Rtc *rtc = rtc_new(&io, &clock, (IrqLine){0}, 3600);
    int64_t host = host_realtime_ns() / NS_PER_SEC + 3600;
    int64_t t = rtc_get_time(rtc);
    CHECK(t >= host - 2 && t <= host + 2);
    rtc_free(rtc);
    as_destroy(&io);
    free(clock.heap);
}
