/* ACPI tables for firmware-less boots (ACPI Specification 6.5, 5.2): RSDP (revision 0, found
 * by the 0xe0000-0xfffff scan), RSDT, a revision 3 FADT with the reset register, FACS, and a
 * DSDT with \_S5 and the PCI host bridge (its resources and interrupt routing, chapter 6 and
 * 19 for the AML encoding). No MADT: the guest uses the 8259 PICs. */
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#include "hw/pc/acpi.h"

#define FACS_ADDR (ACPI_TABLES_ADDR + 0x000)
#define FADT_ADDR (ACPI_TABLES_ADDR + 0x040)
#define RSDT_ADDR (ACPI_TABLES_ADDR + 0x140)
#define DSDT_ADDR (ACPI_TABLES_ADDR + 0x200)
#define DSDT_MAX  0x2000

/* PCI resources the host bridge decodes for devices: below the first 64 KiB port range's
 * config ports, and memory between RAM's maximum top and the high ROM. */
#define PCI_HOLE_START 0xe0000000u
#define PCI_HOLE_END   0xfebfffffu

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

/* ---- AML assembly ---- */

typedef struct Aml {
    uint8_t buf[DSDT_MAX];
    size_t n;
} Aml;

static void aml_byte(Aml *a, uint8_t b)
{
    if (a->n < sizeof a->buf) a->buf[a->n++] = b;
}

static void aml_bytes(Aml *a, const void *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        aml_byte(a, ((const uint8_t *)p)[i]);
}

/* PkgLength (20.2.4): covers itself and body_len bytes. */
static void aml_pkglen(Aml *a, size_t body_len)
{
    size_t n = body_len + 1 <= 0x3f ? 1 : body_len + 2 <= 0xfff ? 2 : body_len + 3 <= 0xfffff ? 3 : 4;
    size_t total = body_len + n;
    if (n == 1) {
        aml_byte(a, (uint8_t)total);
        return;
    }
    aml_byte(a, (uint8_t)(((n - 1) << 6) | (total & 0xf)));
    for (size_t i = 1; i < n; i++)
        aml_byte(a, (uint8_t)(total >> (4 + 8 * (i - 1))));
}

/* opcode(s), PkgLength, then body. */
static void aml_wrap(Aml *a, const uint8_t *op, size_t oplen, const Aml *body)
{
    aml_bytes(a, op, oplen);
    aml_pkglen(a, body->n);
    aml_bytes(a, body->buf, body->n);
}

static void aml_int(Aml *a, uint32_t v)
{
    if (v == 0) {
        aml_byte(a, 0x00); /* ZeroOp */
    } else if (v == 1) {
        aml_byte(a, 0x01); /* OneOp */
    } else if (v <= 0xff) {
        aml_byte(a, 0x0a);
        aml_byte(a, (uint8_t)v);
    } else if (v <= 0xffff) {
        aml_byte(a, 0x0b);
        aml_byte(a, (uint8_t)v);
        aml_byte(a, (uint8_t)(v >> 8));
    } else {
        aml_byte(a, 0x0c);
        for (int i = 0; i < 4; i++)
            aml_byte(a, (uint8_t)(v >> (8 * i)));
    }
}

static void aml_name(Aml *a, const char seg[4])
{
    aml_byte(a, 0x08); /* NameOp */
    aml_bytes(a, seg, 4);
}

/* Word address space descriptor (6.4.3.5.3): bus number or I/O range. */
static void res_word(Aml *a, uint8_t type, uint16_t min, uint16_t max)
{
    uint8_t d[16] = {0x88, 0x0d, 0x00, type, 0x0c /* min and max fixed */, type == 1 ? 0x03 : 0};
    put16(d + 8, min);
    put16(d + 10, max);
    put16(d + 14, (uint16_t)(max - min + 1));
    aml_bytes(a, d, sizeof d);
}

/* DWord memory range descriptor (6.4.3.5.2), read-write, not cacheable. */
static void res_dword_mem(Aml *a, uint32_t min, uint32_t max)
{
    uint8_t d[26] = {0x87, 0x17, 0x00, 0x00, 0x0c, 0x01};
    put32(d + 10, min);
    put32(d + 14, max);
    put32(d + 22, max - min + 1);
    aml_bytes(a, d, sizeof d);
}

/* The PCI host bridge: bus 0, config ports, the I/O and memory it forwards, and _PRT routing
 * each slot's INTA-D to the PIIX's PIRQ lines as piix_assign_irqs programs them:
 * PIRQ = (slot - 1 + pin) mod 4, PIRQA-D on IRQ 10, 10, 11, 11. */
/* Scratch buffers for assembling the DSDT (nested objects are built inside out). */
typedef struct DsdtScratch {
    Aml aml, sb, dev, s5, named, scope, res, buf, prt, e;
} DsdtScratch;

static void build_pci0(DsdtScratch *w)
{
    Aml *dev = &w->dev;
    aml_name(dev, "_HID");
    aml_int(dev, 0x030ad041); /* EisaId ("PNP0A03") */
    aml_name(dev, "_ADR");
    aml_int(dev, 0);
    aml_name(dev, "_UID");
    aml_int(dev, 0);

    Aml *res = &w->res, *buf = &w->buf, *prt = &w->prt, *e = &w->e;
    res->n = 0;
    res_word(res, 2, 0x00, 0xff);                           /* bus numbers */
    static const uint8_t cfg_io[8] = {0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08};
    aml_bytes(res, cfg_io, sizeof cfg_io);                  /* 0xcf8-0xcff */
    res_word(res, 1, 0x0000, 0x0cf7);
    res_word(res, 1, 0x0d00, 0xffff);
    res_dword_mem(res, 0x000a0000, 0x000bffff);             /* VGA */
    res_dword_mem(res, PCI_HOLE_START, PCI_HOLE_END);
    aml_byte(res, 0x79);                                    /* end tag */
    aml_byte(res, 0x00);
    buf->n = 0;
    aml_int(buf, (uint32_t)res->n);
    aml_bytes(buf, res->buf, res->n);
    aml_name(dev, "_CRS");
    static const uint8_t buffer_op = 0x11;
    aml_wrap(dev, &buffer_op, 1, buf);

    static const uint8_t pirq_irq[4] = {10, 10, 11, 11};
    static const uint8_t package_op = 0x12;
    prt->n = 0;
    aml_byte(prt, 31 * 4); /* NumElements */
    for (int slot = 1; slot < 32; slot++) {
        for (int pin = 0; pin < 4; pin++) {
            e->n = 0;
            aml_byte(e, 4);
            aml_int(e, (uint32_t)slot << 16 | 0xffff); /* any function of the slot */
            aml_int(e, (uint32_t)pin);
            aml_int(e, 0);                           /* source: a global interrupt */
            aml_int(e, pirq_irq[(slot - 1 + pin) & 3]);
            aml_wrap(prt, &package_op, 1, e);
        }
    }
    aml_name(dev, "_PRT");
    aml_wrap(dev, &package_op, 1, prt);
}

static uint32_t build_dsdt(uint8_t *t)
{
    DsdtScratch *w = xzalloc(sizeof *w);
    static const uint8_t package_op = 0x12, scope_op = 0x10;
    static const uint8_t device_op[2] = {0x5b, 0x82}; /* ExtOpPrefix, DeviceOp */
    /* Name (_S5, Package (4) {S5, S5, 0, 0}) */
    aml_byte(&w->s5, 4);
    aml_int(&w->s5, ACPI_S5_SLP_TYP);
    aml_int(&w->s5, ACPI_S5_SLP_TYP);
    aml_int(&w->s5, 0);
    aml_int(&w->s5, 0);
    aml_name(&w->aml, "_S5_");
    aml_wrap(&w->aml, &package_op, 1, &w->s5);
    /* Scope (\_SB) { Device (PCI0) { ... } } */
    build_pci0(w);
    aml_bytes(&w->named, "PCI0", 4);
    aml_bytes(&w->named, w->dev.buf, w->dev.n);
    aml_wrap(&w->sb, device_op, 2, &w->named);
    aml_bytes(&w->scope, "\\_SB_", 5);
    aml_bytes(&w->scope, w->sb.buf, w->sb.n);
    aml_wrap(&w->aml, &scope_op, 1, &w->scope);

    uint32_t len = HDR_SIZE + (uint32_t)w->aml.n;
    /* Revision 1: 32-bit integers, as a 32-bit guest expects. */
    table_header(t, "DSDT", len, 1);
    memcpy(t + HDR_SIZE, w->aml.buf, w->aml.n);
    table_finish(t);
    free(w);
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
