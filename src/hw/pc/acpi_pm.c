/* ACPI fixed-hardware PM registers (ACPI Specification 6.5, 4.8.3): PM1 status/enable with
 * write-1-to-clear status bits, PM1 control (SCI_EN, SLP_TYP/SLP_EN for S5 power-off) and the
 * 24-bit PM timer counting at 3.579545 MHz from the virtual clock, with its overflow SCI. */
#include <stdlib.h>

#include "hw/pc/acpi.h"
#include "util/alloc.h"
#include "util/log.h"

#define PM1_TMR_EN       (1u << 0)
#define PM1_STS_W1C      0x8f31u /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE, WAK */
#define PM1_EN_MASK      0x0721u /* TMR, GBL, PWRBTN, SLPBTN, RTC */
#define PM1_CNT_WRITABLE 0x1c06u /* BM_RLD, GBL_RLS (self-clearing), SLP_TYP */
#define PM1_GBL_RLS      (1u << 2)
#define PM_TIMER_BITS    24

struct AcpiPm {
    Device dev;
    AddressSpace *io;
    MemRegion *mr;
    Clock *clock;
    Timer overflow;
    IrqLine sci;
    int sci_level;
    uint16_t sts, en, cnt;
    void (*poweroff)(void *opaque);
    void *opaque;
};

/* Timer ticks since virtual time 0, split to avoid overflowing 64 bits. */
static uint64_t ns_to_ticks(int64_t ns)
{
    uint64_t sec = (uint64_t)ns / NS_PER_SEC, rem = (uint64_t)ns % NS_PER_SEC;
    return sec * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

/* First virtual nanosecond at which the tick count reaches ticks. */
static int64_t ticks_to_ns(uint64_t ticks)
{
    uint64_t sec = ticks / ACPI_PM_TIMER_HZ, rem = ticks % ACPI_PM_TIMER_HZ;
    return (int64_t)(sec * NS_PER_SEC +
                     (rem * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) / ACPI_PM_TIMER_HZ);
}

uint32_t acpi_pm_timer_read(AcpiPm *pm)
{
    return (uint32_t)(ns_to_ticks(clock_ns(pm->clock)) & ((1u << PM_TIMER_BITS) - 1));
}

static void pm_update_sci(AcpiPm *pm)
{
    int level = (pm->cnt & ACPI_PM1_SCI_EN) && (pm->sts & pm->en & PM1_EN_MASK);
    if (level != pm->sci_level) {
        pm->sci_level = level;
        irq_set(&pm->sci, level);
    }
}

/* TMR_STS is set whenever bit 23 of the counter changes; a timer is armed only while the guest
 * enabled the overflow interrupt, so an idle guest is not woken every 2.3 s for nothing. */
static void pm_arm_overflow(AcpiPm *pm)
{
    if (!(pm->en & PM1_TMR_EN)) {
        timer_del(&pm->overflow);
        return;
    }
    uint64_t now = ns_to_ticks(clock_ns(pm->clock));
    uint64_t half = 1ull << (PM_TIMER_BITS - 1);
    uint64_t next = (now | (half - 1)) + 1;
    timer_mod(&pm->overflow, ticks_to_ns(next));
}

static void pm_overflow(void *opaque)
{
    AcpiPm *pm = opaque;
    pm->sts |= ACPI_PM1_TMR_STS;
    pm_update_sci(pm);
    pm_arm_overflow(pm);
}

static uint8_t pm_read_byte(AcpiPm *pm, unsigned off, uint32_t timer)
{
    switch (off) {
    case 0: return (uint8_t)pm->sts;
    case 1: return (uint8_t)(pm->sts >> 8);
    case 2: return (uint8_t)pm->en;
    case 3: return (uint8_t)(pm->en >> 8);
    case 4: return (uint8_t)pm->cnt;
    case 5: return (uint8_t)(pm->cnt >> 8);
    case 8: return (uint8_t)timer;
    case 9: return (uint8_t)(timer >> 8);
    case 10: return (uint8_t)(timer >> 16);
    default: return 0;
    }
}

static uint32_t pm_read(void *opaque, uint64_t off, unsigned size)
{
    AcpiPm *pm = opaque;
    uint32_t timer = off + size > 8 ? acpi_pm_timer_read(pm) : 0;
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint32_t)pm_read_byte(pm, (unsigned)off + i, timer) << (8 * i);
    return v;
}

static void pm_write_cnt_high(AcpiPm *pm, uint8_t b)
{
    uint16_t v = (uint16_t)(b << 8);
    pm->cnt = (uint16_t)((pm->cnt & 0x00ff) | (v & PM1_CNT_WRITABLE & 0xff00));
    if (!(v & ACPI_PM1_SLP_EN)) return;
    unsigned typ = (v >> ACPI_PM1_SLP_TYP_SHIFT) & 7;
    if (typ == ACPI_S5_SLP_TYP) {
        LOG(LOG_DEV, "acpi: S5, powering off");
        if (pm->poweroff) pm->poweroff(pm->opaque);
    } else {
        LOG_ONCE(LOG_UNIMP, "acpi: sleep state with SLP_TYP %u is not implemented", typ);
    }
}

static void pm_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    AcpiPm *pm = opaque;
    for (unsigned i = 0; i < size; i++) {
        uint8_t b = (uint8_t)(val >> (8 * i));
        switch (off + i) {
        case 0: pm->sts &= (uint16_t) ~(b & PM1_STS_W1C & 0xff); break;
        case 1: pm->sts &= (uint16_t) ~((b << 8) & PM1_STS_W1C); break;
        case 2:
            pm->en = (uint16_t)((pm->en & 0xff00) | (b & PM1_EN_MASK & 0xff));
            pm_arm_overflow(pm);
            break;
        case 3: pm->en = (uint16_t)((pm->en & 0x00ff) | ((b << 8) & PM1_EN_MASK)); break;
        case 4:
            /* SCI_EN stays set (no legacy mode to return to); GBL_RLS has no global lock to
             * release here and reads back as 0. */
            pm->cnt = (uint16_t)((pm->cnt & 0xff00) | ACPI_PM1_SCI_EN |
                                 (b & PM1_CNT_WRITABLE & 0xff & ~PM1_GBL_RLS));
            break;
        case 5: pm_write_cnt_high(pm, b); break;
        default: break; /* the timer is read-only */
        }
    }
    pm_update_sci(pm);
}

static const MemOps pm_ops = {pm_read, pm_write, 1, 4};

static void pm_reset(Device *dev)
{
    AcpiPm *pm = (AcpiPm *)dev;
    pm->sts = 0;
    pm->en = 0;
    pm->cnt = ACPI_PM1_SCI_EN;
    timer_del(&pm->overflow);
    pm_update_sci(pm);
}

static void pm_describe(Device *dev, FILE *out)
{
    AcpiPm *pm = (AcpiPm *)dev;
    fprintf(out, "pm1_sts=%04x pm1_en=%04x pm1_cnt=%04x tmr=%06x sci=%d\n", pm->sts, pm->en,
            pm->cnt, acpi_pm_timer_read(pm), pm->sci_level);
}

AcpiPm *acpi_pm_new(AddressSpace *io, Clock *clock, IrqLine sci, void (*poweroff)(void *opaque),
                    void *opaque)
{
    AcpiPm *pm = XNEW(AcpiPm);
    pm->dev.name = "acpi-pm";
    pm->dev.reset = pm_reset;
    pm->dev.describe = pm_describe;
    pm->io = io;
    pm->clock = clock;
    pm->sci = sci;
    pm->poweroff = poweroff;
    pm->opaque = opaque;
    timer_init(&pm->overflow, clock, pm_overflow, pm);
    pm->cnt = ACPI_PM1_SCI_EN;
    pm->mr = as_add_mmio(io, "acpi-pm", ACPI_PM_BASE, ACPI_PM_SIZE, &pm_ops, pm);
    return pm;
}

void acpi_pm_free(AcpiPm *pm)
{
    if (!pm) return;
    timer_del(&pm->overflow);
    as_remove(pm->io, pm->mr);
    free(pm);
}

Device *acpi_pm_device(AcpiPm *pm)
{
    return &pm->dev;
}
