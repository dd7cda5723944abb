/* Unit tests of the firmware ACPI tables (found the way an OS finds them: RSDP scan, checksums,
 * table links, FADT fields, the \_S5 object) and of the ACPI PM device (PM timer rate, S5
 * power-off, SCI on timer overflow). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/memory.h"
#include "hw/pc/acpi.h"
#include "test.h"

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint8_t sum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* A valid table with this signature at addr: signature and whole-length checksum. */
static const uint8_t *table(const uint8_t *ram, uint32_t addr, const char *sig)
{
    if (addr < 0xe0000 || addr >= 0x100000) return NULL;
    const uint8_t *t = ram + addr;
    if (memcmp(t, sig, 4)) return NULL;
    if (sum(t, get32(t + 4)) != 0) return NULL;
    return t;
}

TEST(tables_found_and_linked)
{
    uint8_t *ram = calloc(1, 0x100000);
    memset(ram + 0xe0000, 0xff, 0x20000); /* stale contents must not matter */
    acpi_build_tables(ram);

    /* The OS's scan: 16-byte boundaries in 0xe0000-0xfffff, signature and 20-byte checksum. */
    const uint8_t *rsdp = NULL;
    for (uint32_t a = 0xe0000; a < 0x100000; a += 16)
        if (!memcmp(ram + a, "RSD PTR ", 8) && sum(ram + a, 20) == 0) {
            rsdp = ram + a;
            break;
        }
    CHECK(rsdp != NULL);
    if (!rsdp) goto out;
    CHECK_EQ(rsdp[15], 0); /* ACPI 1.0 RSDP: RSDT only */

    const uint8_t *rsdt = table(ram, get32(rsdp + 16), "RSDT");
    CHECK(rsdt != NULL);
    if (!rsdt) goto out;
    CHECK_EQ(get32(rsdt + 4), 40); /* one entry */
    const uint8_t *fadt = table(ram, get32(rsdt + 36), "FACP");
    CHECK(fadt != NULL);
    if (!fadt) goto out;
    CHECK_EQ(get32(fadt + 4), 244);
    CHECK_EQ(fadt[8], 3);

    const uint8_t *facs = ram + get32(fadt + 36);
    CHECK(!memcmp(facs, "FACS", 4));
    CHECK_EQ(get32(facs + 4), 64);
    CHECK_EQ(get32(fadt + 36) & 63, 0);

    const uint8_t *dsdt = table(ram, get32(fadt + 40), "DSDT");
    CHECK(dsdt != NULL);
    if (dsdt) {
        /* Name (_S5, Package (4) {S5, S5, 0, 0}) right after the header. */
        const uint8_t *aml = dsdt + 36;
        uint32_t aml_len = get32(dsdt + 4) - 36;
        CHECK_EQ(aml[0], 0x08);
        CHECK(!memcmp(aml + 1, "_S5_", 4));
        CHECK_EQ(aml[5], 0x12);
        CHECK_EQ(aml[6], 6); /* PkgLength: itself, NumElements and four one-byte integers */
        CHECK_EQ(aml[7], 4);
        CHECK_EQ(aml[8], ACPI_S5_SLP_TYP == 0 ? 0x00 : 0x0a);
        /* Then Scope (\_SB) { Device (PCI0) { _HID PNP0A03, _CRS, _PRT } }. */
        CHECK_EQ(aml[12], 0x10);
        const uint8_t *end = aml + aml_len;
        const uint8_t *pci0 = NULL, *hid = NULL, *prt = NULL, *crs = NULL;
        for (const uint8_t *p = aml; p + 4 <= end; p++) {
            if (!pci0 && p >= aml + 2 && p[-2] == 0x82 && !memcmp(p + 1, "PCI0", 4)) pci0 = p;
            if (!hid && !memcmp(p, "_HID", 4)) hid = p;
            if (!crs && !memcmp(p, "_CRS", 4)) crs = p;
            if (!prt && !memcmp(p, "_PRT", 4)) prt = p;
        }
        CHECK(pci0 && hid && crs && prt);
        if (hid) {
            CHECK_EQ(hid[4], 0x0c); /* DWordConst EisaId ("PNP0A03") */
            CHECK_EQ(hid[5] | hid[6] << 8 | hid[7] << 16 | (uint32_t)hid[8] << 24, 0x030ad041);
        }
        if (prt) {
            /* Package with a multi-byte PkgLength, 124 entries (slots 1-31, INTA-D). */
            CHECK_EQ(prt[4], 0x12);
            unsigned follow = prt[5] >> 6;
            CHECK(follow >= 1);
            CHECK_EQ(prt[6 + follow], 124);
            /* First entry: slot 1 INTA on PIRQA = IRQ 10. */
            const uint8_t *e = prt + 7 + follow;
            CHECK_EQ(e[0], 0x12);
            CHECK_EQ(e[2], 4);
            CHECK_EQ(e[3], 0x0c);
            CHECK_EQ(e[4] | e[5] << 8 | e[6] << 16 | (uint32_t)e[7] << 24, 0x0001ffff);
            CHECK_EQ(e[8], 0x00);  /* pin 0 */
            CHECK_EQ(e[9], 0x00);  /* source: GSI */
            CHECK_EQ(e[10], 0x0a);
            CHECK_EQ(e[11], 10);
        }
    }

    CHECK_EQ(get16(fadt + 46), 9);     /* SCI_INT */
    CHECK_EQ(get32(fadt + 48), 0);     /* SMI_CMD: always in ACPI mode */
    CHECK_EQ(get32(fadt + 56), 0x600); /* PM1a_EVT_BLK */
    CHECK_EQ(get32(fadt + 64), 0x604); /* PM1a_CNT_BLK */
    CHECK_EQ(get32(fadt + 76), 0x608); /* PM_TMR_BLK */
    CHECK_EQ(fadt[88], 4);
    CHECK_EQ(fadt[89], 2);
    CHECK_EQ(fadt[91], 4);
    CHECK_EQ(get16(fadt + 109) & 2, 2);         /* 8042 present */
    CHECK(get32(fadt + 112) & (1u << 10));      /* RESET_REG_SUP */
    CHECK_EQ(get32(fadt + 112) & (1u << 8), 0); /* 24-bit timer */
    CHECK_EQ(fadt[116], 1);                     /* reset register in I/O space */
    CHECK_EQ(fadt[117], 8);
    CHECK_EQ(get32(fadt + 120), 0xcf9);
    CHECK_EQ(fadt[128], 6);
out:
    free(ram);
}

/* ---- the PM device, on a deterministic clock ---- */

typedef struct PmFixture {
    AddressSpace io;
    Clock clock;
    uint64_t insns;
    int sci;
    int poweroffs;
    AcpiPm *pm;
} PmFixture;

static uint64_t fake_insns(void *opaque)
{
    return ((PmFixture *)opaque)->insns;
}
static void set_sci(void *opaque, int n, int level)
{
    ((PmFixture *)opaque)->sci = level;
}
static void poweroff(void *opaque)
{
    ((PmFixture *)opaque)->poweroffs++;
}

static PmFixture *pm_fixture(void)
{
    PmFixture *f = calloc(1, sizeof *f);
    as_init(&f->io, "io", 0x10000);
    clock_init(&f->clock, true, 0); /* 1 ns per "instruction" */
    f->clock.insn_count = fake_insns;
    f->clock.insn_opaque = f;
    f->pm = acpi_pm_new(&f->io, &f->clock, (IrqLine){set_sci, f, 9}, poweroff, f);
    return f;
}

static void pm_fixture_free(PmFixture *f)
{
    acpi_pm_free(f->pm);
    free(f->clock.heap);
    as_destroy(&f->io);
    free(f);
}

TEST(pm_timer_rate)
{
    PmFixture *f = pm_fixture();
    CHECK_EQ(as_read(&f->io, 0x608, 4), 0);
    f->insns = 1000000000; /* one second */
    CHECK_EQ(as_read(&f->io, 0x608, 4), 3579545);
    f->insns = 5000000000ull; /* wraps at 24 bits */
    CHECK_EQ(as_read(&f->io, 0x608, 4), (5ull * 3579545) & 0xffffff);
    CHECK_EQ(as_read(&f->io, 0x608, 4) >> 24, 0);
    /* Byte reads see the same counter. */
    uint32_t v = as_read(&f->io, 0x608, 4);
    CHECK_EQ(as_read(&f->io, 0x609, 1), (v >> 8) & 0xff);
    pm_fixture_free(f);
}

TEST(pm_control_and_poweroff)
{
    PmFixture *f = pm_fixture();
    CHECK_EQ(as_read(&f->io, 0x604, 2) & 1, 1); /* SCI_EN */
    /* Linux writes SLP_TYP first, then SLP_TYP | SLP_EN. */
    as_write(&f->io, 0x604, (uint32_t)(5 << 10) | 1, 2); /* some other sleep type, no SLP_EN */
    CHECK_EQ(f->poweroffs, 0);
    CHECK_EQ(as_read(&f->io, 0x604, 2), (5 << 10) | 1);
    as_write(&f->io, 0x604, (uint32_t)(5 << 10) | 0x2000, 2); /* S1-like: not power-off */
    CHECK_EQ(f->poweroffs, 0);
    CHECK_EQ(as_read(&f->io, 0x604, 2) & 0x2000, 0);              /* SLP_EN reads as 0 */
    as_write(&f->io, 0x604, (ACPI_S5_SLP_TYP << 10) | 0x2000, 2); /* QEMU's outw(0x604, 0x2000) */
    CHECK_EQ(f->poweroffs, 1);
    /* The byte holding SLP_TYP/SLP_EN alone does it too. */
    as_write(&f->io, 0x605, (ACPI_S5_SLP_TYP << 2) | 0x20, 1);
    CHECK_EQ(f->poweroffs, 2);
    pm_fixture_free(f);
}

TEST(pm_timer_overflow_sci)
{
    PmFixture *f = pm_fixture();
    as_write(&f->io, 0x602, 1, 2); /* TMR_EN */
    int64_t deadline = clock_next_deadline(&f->clock);
    /* Bit 23 of the counter first changes after 2^23 ticks (~2.34 s). */
    CHECK(deadline > 2340000000ll && deadline < 2344000000ll);
    f->insns = (uint64_t)deadline - 1;
    clock_run_timers(&f->clock);
    CHECK_EQ(f->sci, 0);
    f->insns = (uint64_t)deadline;
    clock_run_timers(&f->clock);
    CHECK_EQ(as_read(&f->io, 0x608, 4), 1u << 23);
    CHECK_EQ(as_read(&f->io, 0x600, 2) & 1, 1); /* TMR_STS */
    CHECK_EQ(f->sci, 1);
    as_write(&f->io, 0x600, 1, 2); /* write 1 to clear */
    CHECK_EQ(as_read(&f->io, 0x600, 2) & 1, 0);
    CHECK_EQ(f->sci, 0);
    /* Re-armed for the next change of bit 23. */
    CHECK(clock_next_deadline(&f->clock) > deadline + 2340000000ll);
    /* Disabling the interrupt disarms the timer. */
    as_write(&f->io, 0x602, 0, 2);
    CHECK_EQ(clock_next_deadline(&f->clock), INT64_MAX);
    pm_fixture_free(f);
}
