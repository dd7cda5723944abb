/* ACPI for the PC board (ACPI Specification 6.x, sections 4.8 and 5.2): the static tables a
 * firmware would leave (RSDP, RSDT, FADT, FACS, a DSDT with \_S5) and the fixed-hardware PM
 * registers (PM1 event/control blocks, the 3.579545 MHz PM timer, SCI). */
#ifndef HW_PC_ACPI_H
#define HW_PC_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

/* Where things are. The PM block sits at 0x600, where QEMU's PIIX4 PM puts it, so guests that
 * hard-code QEMU's "outw(0x604, 0x2000)" power-off work too. */
#define ACPI_PM_BASE     0x600
#define ACPI_PM1_EVT     (ACPI_PM_BASE + 0) /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define ACPI_PM1_CNT     (ACPI_PM_BASE + 4) /* 2 bytes */
#define ACPI_PM_TMR      (ACPI_PM_BASE + 8) /* 4 bytes, 24 bits significant */
#define ACPI_PM_SIZE     12
#define ACPI_SCI_IRQ     9
#define ACPI_RESET_PORT  0xcf9 /* PIIX reset control */
#define ACPI_RESET_VALUE 0x06  /* hard reset + reset CPU */
#define ACPI_S5_SLP_TYP  0     /* SLP_TYP value of \_S5 (PIIX4 encoding) */
#define ACPI_PM_TIMER_HZ 3579545
#define ACPI_TABLES_ADDR 0xe0000u /* FACS, DSDT, FADT, RSDT */
#define ACPI_TABLES_SIZE 0x10000u
#define ACPI_RSDP_ADDR   0xf0000u

/* PM1 register bits. */
#define ACPI_PM1_TMR_STS       (1u << 0)
#define ACPI_PM1_PWRBTN        (1u << 8)
#define ACPI_PM1_WAK_STS       (1u << 15)
#define ACPI_PM1_SCI_EN        (1u << 0)
#define ACPI_PM1_SLP_TYP_SHIFT 10
#define ACPI_PM1_SLP_EN        (1u << 13)

/* Writes the tables into guest RAM: the RSDP at ACPI_RSDP_ADDR, the rest from
 * ACPI_TABLES_ADDR. ram is the board's RAM buffer (guest address a at ram[a]). */
void acpi_build_tables(uint8_t *ram);

/* Table checksum: the byte that makes the sum of len bytes zero (for tests). */
uint8_t acpi_checksum(const uint8_t *p, size_t len);

typedef struct AcpiPm AcpiPm;

/* Registers the PM block at ACPI_PM_BASE in io. poweroff is called when the guest enters S5
 * (SLP_EN with SLP_TYP = ACPI_S5_SLP_TYP). SCI_EN reads as set: the board has no SMI handler,
 * so the machine is in ACPI mode from the start. */
AcpiPm *acpi_pm_new(AddressSpace *io, Clock *clock, IrqLine sci, void (*poweroff)(void *opaque),
                    void *opaque);
void acpi_pm_free(AcpiPm *pm);
Device *acpi_pm_device(AcpiPm *pm);

/* The PM timer value now (24 bits). */
uint32_t acpi_pm_timer_read(AcpiPm *pm);

#endif
