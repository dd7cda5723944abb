/* MC146818A RTC (Motorola datasheet: registers A-D, update cycle, alarm, periodic and update-
 * ended interrupts, BCD/binary and 12/24-hour formats). Time and flags are derived lazily from
 * the virtual clock via the 32.768 kHz divider-chain phase; a Timer runs only for enabled
 * interrupts. */
#include "hw/timer/mc146818.h"

#include <stdbool.h>
#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

#define RTC_HZ       32768
#define UIP_TICKS    8 /* UIP rises 244 us (8 ticks of 32.768 kHz) before each update */
#define SECS_PER_DAY 86400

enum {
    REG_A_UIP = 0x80,
    REG_B_SET = 0x80,
    REG_B_PIE = 0x40,
    REG_B_AIE = 0x20,
    REG_B_UIE = 0x10,
    REG_B_SQWE = 0x08,
    REG_B_DM = 0x04,
    REG_B_24H = 0x02,
    REG_C_IRQF = 0x80,
    REG_C_PF = 0x40,
    REG_C_AF = 0x20,
    REG_C_UF = 0x10,
};

struct Rtc {
    Device dev;
    uint8_t cmos[128];
    uint8_t index;
    Clock *clock;
    IrqLine irq;
    int irq_level;
    int64_t origin_ns;   /* virtual time at which the divider chain was at tick 0 */
    int64_t base_secs;   /* RTC time during divider ticks [0, RTC_HZ) */
    int64_t frozen_secs; /* RTC time while the divider is held in reset */
    int64_t last_t;      /* divider tick up to which flags have been accumulated */
    Timer timer;
    AddressSpace *io;
    MemRegion *mr;
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t ns_to_t32(int64_t ns)
{
    int64_t s = floor_div(ns, NS_PER_SEC);
    return s * RTC_HZ + (ns - s * NS_PER_SEC) * RTC_HZ / NS_PER_SEC;
}

static int64_t t32_to_ns(int64_t t)
{
    int64_t s = floor_div(t, RTC_HZ);
    return s * NS_PER_SEC + ((t - s * RTC_HZ) * NS_PER_SEC + RTC_HZ - 1) / RTC_HZ;
}

/* Days since 1970-01-01 for a proleptic Gregorian date (era-based civil calendar arithmetic). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool rtc_running(const Rtc *r)
{
    return (r->cmos[RTC_REG_A] >> 4 & 7) == 2;
}
static bool rtc_set_mode(const Rtc *r)
{
    return r->cmos[RTC_REG_B] & REG_B_SET;
}

static int64_t rtc_tick(const Rtc *r)
{
    return ns_to_t32(clock_ns(r->clock) - r->origin_ns);
}

static int64_t rtc_secs_at(const Rtc *r, int64_t t)
{
    return rtc_running(r) ? r->base_secs + floor_div(t, RTC_HZ) : r->frozen_secs;
}

/* Periodic interrupt period in divider ticks for rate-select bits, 0 when off. */
static int64_t rtc_period(const Rtc *r)
{
    int rs = r->cmos[RTC_REG_A] & 15;
    if (rs == 0) return 0;
    if (rs <= 2) return 64 << rs; /* 256 Hz and 128 Hz taps */
    return 1 << (rs - 1);
}

static uint8_t to_bcd(int v)
{
    return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static uint8_t rtc_encode(const Rtc *r, int v)
{
    return r->cmos[RTC_REG_B] & REG_B_DM ? (uint8_t)v : to_bcd(v);
}

static int rtc_decode(const Rtc *r, uint8_t v)
{
    return r->cmos[RTC_REG_B] & REG_B_DM ? v : (v >> 4) * 10 + (v & 15);
}

static uint8_t rtc_encode_hour(const Rtc *r, int h)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H) return rtc_encode(r, h);
    int h12 = h % 12 ? h % 12 : 12;
    return rtc_encode(r, h12) | (h >= 12 ? 0x80 : 0);
}

static int rtc_decode_hour(const Rtc *r, uint8_t v)
{
    if (r->cmos[RTC_REG_B] & REG_B_24H) return rtc_decode(r, v);
    return rtc_decode(r, v & 0x7f) % 12 + (v & 0x80 ? 12 : 0);
}

static int rtc_century(const Rtc *r)
{
    int c = rtc_decode(r, r->cmos[CMOS_CENTURY]);
    return c >= 19 && c <= 99 ? c : 20;
}

/* Time register image (indices 0-9) for the given time in the current data mode. */
static uint8_t rtc_time_reg(const Rtc *r, int64_t secs, int index)
{
    int64_t days = floor_div(secs, SECS_PER_DAY), tod = secs - days * SECS_PER_DAY;
    int64_t y;
    int m, d;
    switch (index) {
    case 0: return rtc_encode(r, tod % 60);
    case 2: return rtc_encode(r, tod / 60 % 60);
    case 4: return rtc_encode_hour(r, (int)(tod / 3600));
    case 6: return rtc_encode(r, (int)((days % 7 + 11) % 7) + 1); /* 1970-01-01 was a Thursday */
    default: civil_from_days(days, &y, &m, &d); break;
    }
    switch (index) {
    case 7: return rtc_encode(r, d);
    case 8: return rtc_encode(r, m);
    default: return rtc_encode(r, (int)(((y % 100) + 100) % 100));
    }
}

/* Seconds value of the time registers in cmos[] (as written by the guest). Out-of-range fields
 * simply carry into the next unit. */
static int64_t rtc_time_from_regs(const Rtc *r)
{
    int m = rtc_decode(r, r->cmos[8]), d = rtc_decode(r, r->cmos[7]);
    if (m < 1 || m > 12) m = 1;
    if (d < 1) d = 1;
    int64_t y = rtc_century(r) * 100 + rtc_decode(r, r->cmos[9]) % 100;
    return days_from_civil(y, m, 1) * SECS_PER_DAY + (int64_t)(d - 1) * SECS_PER_DAY +
           rtc_decode_hour(r, r->cmos[4]) * 3600 + rtc_decode(r, r->cmos[2]) * 60 +
           rtc_decode(r, r->cmos[0]);
}

/* Alarm field value or -1 for "don't care" (both top bits set), -2 if it can never match. */
static int rtc_alarm_field(const Rtc *r, int index, int limit)
{
    uint8_t v = r->cmos[index];
    if ((v & 0xc0) == 0xc0) return -1;
    int x = index == 5 ? rtc_decode_hour(r, v) : rtc_decode(r, v);
    return x >= 0 && x < limit ? x : -2;
}

/* First second after `from` whose time of day matches the alarm, or INT64_MAX. */
static int64_t rtc_next_alarm(const Rtc *r, int64_t from)
{
    int as = rtc_alarm_field(r, 1, 60), am = rtc_alarm_field(r, 3, 60);
    int ah = rtc_alarm_field(r, 5, 24);
    if (as == -2 || am == -2 || ah == -2) return INT64_MAX;
    for (int64_t s = from + 1; s <= from + SECS_PER_DAY + 1;) {
        int64_t tod = s - floor_div(s, SECS_PER_DAY) * SECS_PER_DAY;
        int h = (int)(tod / 3600), m = (int)(tod / 60 % 60), sec = (int)(tod % 60);
        if (ah >= 0 && h != ah) {
            s += 3600 - tod % 3600;
        } else if (am >= 0 && m != am) {
            s += 60 - sec;
        } else if (as >= 0 && sec != as) {
            s += (as - sec + 60) % 60;
        } else {
            return s;
        }
    }
    return INT64_MAX;
}

/* Accumulate the flags for everything that happened in divider ticks (last_t, t]. */
static void rtc_accumulate(Rtc *r, int64_t t)
{
    if (rtc_running(r) && t > r->last_t) {
        int64_t p = rtc_period(r);
        if (p && floor_div(t, p) > floor_div(r->last_t, p)) r->cmos[RTC_REG_C] |= REG_C_PF;
        if (!rtc_set_mode(r)) {
            int64_t s0 = rtc_secs_at(r, r->last_t), s1 = rtc_secs_at(r, t);
            if (s1 > s0) {
                r->cmos[RTC_REG_C] |= REG_C_UF;
                if (rtc_next_alarm(r, s0) <= s1) r->cmos[RTC_REG_C] |= REG_C_AF;
            }
        }
    }
    r->last_t = t;
}

static void rtc_update_irq(Rtc *r)
{
    uint8_t c = r->cmos[RTC_REG_C] & 0x70;
    if (c & r->cmos[RTC_REG_B] & 0x70) c |= REG_C_IRQF;
    r->cmos[RTC_REG_C] = c;
    int level = (c & REG_C_IRQF) != 0;
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Bring flags up to date, drive IRQ 8 and arm the timer for the next enabled event. Once IRQF
 * is set the line cannot change until register C is read, so no timer is needed then. */
static void rtc_sync(Rtc *r)
{
    int64_t t = rtc_tick(r);
    rtc_accumulate(r, t);
    rtc_update_irq(r);
    int64_t next = INT64_MAX;
    uint8_t b = r->cmos[RTC_REG_B];
    if (!r->irq_level && rtc_running(r)) {
        int64_t p = rtc_period(r);
        if ((b & REG_B_PIE) && p) next = (floor_div(t, p) + 1) * p;
        if (!(b & REG_B_SET)) {
            int64_t sec_t = (floor_div(t, RTC_HZ) + 1) * RTC_HZ;
            if ((b & REG_B_UIE) && sec_t < next) next = sec_t;
            if (b & REG_B_AIE) {
                int64_t s = rtc_next_alarm(r, rtc_secs_at(r, t));
                if (s != INT64_MAX) {
                    int64_t at = (s - r->base_secs) * RTC_HZ;
                    if (at < next) next = at;
                }
            }
        }
    }
    if (next == INT64_MAX)
        timer_del(&r->timer);
    else
        timer_mod(&r->timer, r->origin_ns + t32_to_ns(next));
}

static void rtc_timer_cb(void *opaque)
{
    rtc_sync(opaque);
}

/* Re-phase the time so that it reads `secs` now, keeping the divider phase. */
static void rtc_store_time(Rtc *r, int64_t secs)
{
    if (rtc_running(r))
        r->base_secs = secs - floor_div(rtc_tick(r), RTC_HZ);
    else
        r->frozen_secs = secs;
}

static void rtc_write_reg_a(Rtc *r, uint8_t val)
{
    bool was_running = rtc_running(r);
    int64_t t = rtc_tick(r);
    int64_t secs = rtc_secs_at(r, t);
    r->cmos[RTC_REG_A] = val & 0x7f;
    bool running = rtc_running(r);
    if (was_running && !running) {
        r->frozen_secs = secs;
    } else if (!was_running && running) {
        /* Leaving divider reset: the first update comes 500 ms later. */
        r->origin_ns = clock_ns(r->clock) - NS_PER_SEC / 2;
        r->base_secs = r->frozen_secs;
        r->last_t = rtc_tick(r);
    }
}

static void rtc_write_reg_b(Rtc *r, uint8_t val)
{
    uint8_t old = r->cmos[RTC_REG_B];
    if ((val & REG_B_SET) && !(old & REG_B_SET)) {
        /* Freeze the current time into the registers for the guest to modify. */
        int64_t secs = rtc_secs_at(r, rtc_tick(r));
        for (int i = 0; i <= 9; i += (i < 6 ? 2 : 1))
            r->cmos[i] = rtc_time_reg(r, secs, i);
        val &= ~REG_B_UIE; /* setting SET clears UIE */
    }
    /* Leaving SET: take the registers in the format they were written in, even if this same
     * write also changes DM or 24/12. */
    if (!(val & REG_B_SET) && (old & REG_B_SET)) rtc_store_time(r, rtc_time_from_regs(r));
    r->cmos[RTC_REG_B] = val;
}

static uint32_t rtc_io_read(void *opaque, uint64_t off, unsigned size)
{
    Rtc *r = opaque;
    if (off == 0) return 0xff; /* the index register is write-only */
    int i = r->index;
    rtc_sync(r);
    switch (i) {
    case 0:
    case 2:
    case 4:
    case 6:
    case 7:
    case 8:
    case 9:
        if (rtc_set_mode(r)) return r->cmos[i];
        return rtc_time_reg(r, rtc_secs_at(r, rtc_tick(r)), i);
    case RTC_REG_A: {
        int64_t t = rtc_tick(r);
        bool uip = rtc_running(r) && !rtc_set_mode(r) &&
                   t - floor_div(t, RTC_HZ) * RTC_HZ >= RTC_HZ - UIP_TICKS;
        return r->cmos[RTC_REG_A] | (uip ? REG_A_UIP : 0);
    }
    case RTC_REG_C: {
        uint8_t v = r->cmos[RTC_REG_C];
        r->cmos[RTC_REG_C] = 0;
        rtc_sync(r);
        return v;
    }
    case RTC_REG_D: return 0x80; /* valid RAM and time: the battery is always good */
    default: return r->cmos[i];
    }
}

static void rtc_io_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Rtc *r = opaque;
    if (off == 0) {
        r->index = val & 0x7f; /* bit 7 gates NMI on the PC; we do not model NMI masking */
        return;
    }
    int i = r->index;
    rtc_sync(r); /* account for events up to now under the old settings */
    switch (i) {
    case 0:
    case 2:
    case 4:
    case 6:
    case 7:
    case 8:
    case 9:
        if (rtc_set_mode(r)) {
            r->cmos[i] = val;
        } else {
            /* Writing one field while the clock runs: the others keep counting. */
            int64_t secs = rtc_secs_at(r, rtc_tick(r));
            for (int k = 0; k <= 9; k += (k < 6 ? 2 : 1))
                r->cmos[k] = rtc_time_reg(r, secs, k);
            r->cmos[i] = val;
            rtc_store_time(r, rtc_time_from_regs(r));
        }
        break;
    case RTC_REG_A: rtc_write_reg_a(r, val); break;
    case RTC_REG_B: rtc_write_reg_b(r, val); break;
    case RTC_REG_C:
    case RTC_REG_D: break; /* read-only */
    default: r->cmos[i] = val; break;
    }
    r->last_t = rtc_tick(r);
    rtc_sync(r);
}

static const MemOps rtc_ops = {rtc_io_read, rtc_io_write, 1, 1};

void rtc_set_cmos(Rtc *rtc, int index, uint8_t value)
{
    if (index >= 0x0e && index < 128) rtc->cmos[index] = value;
}

uint8_t rtc_get_cmos(Rtc *rtc, int index)
{
    return index >= 0x0e && index < 128 ? rtc->cmos[index] : 0xff;
}

void rtc_set_time(Rtc *rtc, int64_t seconds)
{
    rtc_sync(rtc);
    rtc_store_time(rtc, seconds);
    rtc->last_t = rtc_tick(rtc);
    rtc_sync(rtc);
}

int64_t rtc_get_time(Rtc *rtc)
{
    if (rtc_set_mode(rtc)) return rtc_time_from_regs(rtc);
    return rtc_secs_at(rtc, rtc_tick(rtc));
}

static void rtc_reset(Device *dev)
{
    Rtc *r = (Rtc *)dev;
    rtc_sync(r);
    /* Reset clears the interrupt enables and flags; time, formats and NVRAM survive. */
    r->cmos[RTC_REG_B] &= ~(REG_B_PIE | REG_B_AIE | REG_B_UIE | REG_B_SQWE);
    r->cmos[RTC_REG_C] = 0;
    r->index = 0;
    rtc_sync(r);
}

static void rtc_describe(Device *dev, FILE *out)
{
    Rtc *r = (Rtc *)dev;
    int64_t secs = rtc_get_time(r);
    int64_t days = floor_div(secs, SECS_PER_DAY), tod = secs - days * SECS_PER_DAY, y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    fprintf(out, "%04lld-%02d-%02d %02d:%02d:%02d A=%02x B=%02x C=%02x irq=%d\n", (long long)y, m,
            d, (int)(tod / 3600), (int)(tod / 60 % 60), (int)(tod % 60), r->cmos[RTC_REG_A],
            r->cmos[RTC_REG_B], r->cmos[RTC_REG_C], r->irq_level);
}

Rtc *rtc_new(AddressSpace *io, Clock *clock, IrqLine irq8, int64_t offset_sec)
{
    Rtc *r = XNEW(Rtc);
    r->dev.name = "mc146818";
    r->dev.reset = rtc_reset;
    r->dev.describe = rtc_describe;
    r->clock = clock;
    r->irq = irq8;
    r->io = io;
    timer_init(&r->timer, clock, rtc_timer_cb, r);
    /* Power-on state as a BIOS leaves it: 32.768 kHz time base, 1024 Hz periodic rate,
     * 24-hour BCD mode. */
    r->cmos[RTC_REG_A] = 0x26;
    r->cmos[RTC_REG_B] = REG_B_24H;
    r->cmos[RTC_REG_D] = 0x80;
    int64_t host = host_realtime_ns();
    int64_t now = clock_ns(clock);
    /* Align the divider phase with the host's second boundary. */
    r->origin_ns = now - (host % NS_PER_SEC);
    r->base_secs = host / NS_PER_SEC + offset_sec;
    r->last_t = rtc_tick(r);
    int64_t y;
    int m, d;
    civil_from_days(floor_div(rtc_get_time(r), SECS_PER_DAY), &y, &m, &d);
    r->cmos[CMOS_CENTURY] = to_bcd((int)(y / 100));
    r->mr = as_add_mmio(io, "rtc", 0x70, 2, &rtc_ops, r);
    rtc_sync(r);
    return r;
}

void rtc_free(Rtc *rtc)
{
    if (!rtc) return;
    timer_del(&rtc->timer);
    as_remove(rtc->io, rtc->mr);
    free(rtc);
}

Device *rtc_device(Rtc *rtc)
{
    return &rtc->dev;
}
