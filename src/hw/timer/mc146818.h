/* Motorola MC146818A real-time clock and CMOS RAM at ports 0x70 (index) / 0x71 (data), as in
 * the PC/AT: 14 clock registers plus 114 bytes of NVRAM, interrupt on IRQ 8. */
#ifndef HW_TIMER_MC146818_H
#define HW_TIMER_MC146818_H

#include <stdint.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

/* CMOS layout used by PC BIOSes and Linux (index into the 128-byte RAM). */
enum {
    RTC_REG_A = 0x0a,
    RTC_REG_B = 0x0b,
    RTC_REG_C = 0x0c,
    RTC_REG_D = 0x0d,
    CMOS_BASE_MEM_LO = 0x15, /* base memory in KiB (640) */
    CMOS_BASE_MEM_HI = 0x16,
    CMOS_EXT_MEM_LO = 0x17, /* memory above 1 MiB in KiB, up to 63 MiB */
    CMOS_EXT_MEM_HI = 0x18,
    CMOS_EXT_MEM2_LO = 0x30, /* same, second copy */
    CMOS_EXT_MEM2_HI = 0x31,
    CMOS_CENTURY = 0x32,
    CMOS_MEM_16M_LO = 0x34, /* memory above 16 MiB in 64 KiB units */
    CMOS_MEM_16M_HI = 0x35,
    CMOS_HIGH_MEM_LO = 0x5b, /* memory above 4 GiB in 64 KiB units (3 bytes) */
    CMOS_HIGH_MEM_MID = 0x5c,
    CMOS_HIGH_MEM_HI = 0x5d,
};

typedef struct Rtc Rtc;

/* Registers ports 0x70-0x71. The clock starts at the host's wall-clock time plus offset_sec
 * (seconds, may be negative) and then advances with the virtual clock. The century byte 0x32
 * is initialised from that time. */
Rtc *rtc_new(AddressSpace *io, Clock *clock, IrqLine irq8, int64_t offset_sec);
void rtc_free(Rtc *rtc);
Device *rtc_device(Rtc *rtc);

/* Board access to the NVRAM bytes 0x0e-0x7f (memory sizes, century, boot order...). Other
 * indices are ignored (writes) or read as 0xff. */
void rtc_set_cmos(Rtc *rtc, int index, uint8_t value);
uint8_t rtc_get_cmos(Rtc *rtc, int index);

/* Set the current RTC time (seconds since 1970-01-01 00:00:00 in the RTC's own time zone),
 * e.g. for reproducible runs in deterministic mode. */
void rtc_set_time(Rtc *rtc, int64_t seconds);
int64_t rtc_get_time(Rtc *rtc);

#endif
