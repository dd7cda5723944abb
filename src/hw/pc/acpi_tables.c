/* ACPI tables for firmware-less boots (ACPI Specification 6.5, 5.2): RSDP (revision 0, found
 * by the 0xe0000-0xfffff scan), RSDT, a revision 3 FADT with the reset register, FACS, and a
 * DSDT whose only object is \_S5. No MADT: the guest uses the 8259 PICs. */
#include <string.h>

#include "hw/pc/acpi.h"

#define FACS_ADDR (ACPI_TABLES_ADDR + 0x000)
#define DSDT_ADDR (ACPI_TABLES_ADDR + 0x040)
#define FADT_ADDR (ACPI_TABLES_ADDR + 0x080)
#define RSDT_ADDR (ACPI_TABLES_ADDR + 0x180)

#define HDR_SIZE  36
#define FADT_SIZE 244 /* revision 3 (ACPI 2.0) layout: up to X_GPE1_BLK */

/* FADT fixed feature flags (table 5.10). */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON    (1u << 5) /* no fixed sleep button */
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags: legacy ISA devices and an 8042 are present. */
#define BOOT_ARCH_LEGACY_DEVICES 0x1
#define BOOT_ARCH_8042           0x2

#define GAS_SYSTEM_IO      1
#define CMOS_CENTURY_INDEX 0x32

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)v);
    put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint8_t acpi_checksum(const uint8_t *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum += p[i];
    return (uint8_t)-sum;
}

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memset(t, 0, HDR_SIZE);
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "KESTRL", 6);
    memcpy(t + 16, "KESTREL ", 8);
    put32(t + 24, 1); /* OEM revision */
    memcpy(t + 28, "KSTL", 4);
    put32(t + 32, 1); /* creator revision */
}

static void table_finish(uint8_t *t)
{
    t[9] = 0;
    t[9] = acpi_checksum(t, get32(t + 4));
}

/* Generic Address Structure (5.2.3.2). */
static void put_gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
    p[0] = space;
    p[1] = bits;
    p[2] = 0;
    p[3] = access;
    put64(p + 4, addr);
}

static void build_facs(uint8_t *t)
{
    memset(t, 0, 64);
    memcpy(t, "FACS", 4);
    put32(t + 4, 64);
    t[32] = 1; /* version */
}

/* DefinitionBlock with Name (_S5, Package (4) {S5, S5, 0, 0}) in hand-assembled AML. */
static uint32_t build_dsdt(uint8_t *t)
{
    /* clang-format off */
    static const uint8_t aml[] = {
        0x08,                  /* NameOp */
        '_', 'S', '5', '_',    /* NameSeg */
        0x12,                  /* PackageOp */
        0x08,                  /* PkgLength: this byte, NumElements and the elements */
        0x04,                  /* NumElements */
        0x0a, ACPI_S5_SLP_TYP, /* BytePrefix: SLP_TYPa */
        0x0a, ACPI_S5_SLP_TYP, /* BytePrefix: SLP_TYPb */
        0x00, 0x00,            /* ZeroOp, ZeroOp: reserved */
    };
    /* clang-format on */
    uint32_t len = HDR_SIZE + sizeof aml;
    /* Revision 1: 32-bit integers, as a 32-bit guest expects. */
    table_header(t, "DSDT", len, 1);
    memcpy(t + HDR_SIZE, aml, sizeof aml);
    table_finish(t);
    return len;
}

static void build_fadt(uint8_t *t)
{
    memset(t, 0, FADT_SIZE);
    table_header(t, "FACP", FADT_SIZE, 3);
    put32(t + 36, FACS_ADDR);
    put32(t + 40, DSDT_ADDR);
    put16(t + 46, ACPI_SCI_IRQ);
    put32(t + 48, 0); /* SMI_CMD: none, the machine is always in ACPI mode */
    put32(t + 56, ACPI_PM1_EVT);
    put32(t + 64, ACPI_PM1_CNT);
    put32(t + 76, ACPI_PM_TMR);
    t[88] = 4;                   /* PM1_EVT_LEN */
    t[89] = 2;                   /* PM1_CNT_LEN */
    t[91] = 4;                   /* PM_TMR_LEN */
    put16(t + 96, 0x0fff);       /* P_LVL2_LAT > 100: no C2 */
    put16(t + 98, 0x0fff);       /* P_LVL3_LAT > 1000: no C3 */
    t[108] = CMOS_CENTURY_INDEX; /* CENTURY */
    put16(t + 109, BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042);
    put32(t + 112,
          FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON | FADT_RESET_REG_SUP);
    put_gas(t + 116, GAS_SYSTEM_IO, 8, 1, ACPI_RESET_PORT);
    t[128] = ACPI_RESET_VALUE;
    /* The X_ fields stay zero: the 32-bit fields above are authoritative for a 32-bit machine,
     * and OSes fall back to them when the 64-bit ones are absent. */
    table_finish(t);
}

static void build_rsdt(uint8_t *t)
{
    table_header(t, "RSDT", HDR_SIZE + 4, 1);
    put32(t + HDR_SIZE, FADT_ADDR);
    table_finish(t);
}

static void build_rsdp(uint8_t *p)
{
    memset(p, 0, 20);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "KESTRL", 6);
    p[15] = 0; /* revision 0: ACPI 1.0 RSDP, RSDT only */
    put32(p + 16, RSDT_ADDR);
    p[8] = acpi_checksum(p, 20);
}

void acpi_build_tables(uint8_t *ram)
{
    memset(ram + ACPI_TABLES_ADDR, 0, ACPI_TABLES_SIZE);
    build_facs(ram + FACS_ADDR);
    build_dsdt(ram + DSDT_ADDR);
    build_fadt(ram + FADT_ADDR);
    build_rsdt(ram + RSDT_ADDR);
    build_rsdp(ram + ACPI_RSDP_ADDR);
}
