/* The PC board: i440FX/PIIX3-style machine with 8259 PICs, 8254 PIT, MC146818 RTC, 16550A
 * UARTs, i8042, VGA text, ACPI PM and QEMU's debug devices, booted directly into a kernel
 * (no BIOS), and the run loop that drives the CPU, timers and host I/O. */
#ifndef HW_PC_PC_H
#define HW_PC_PC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "boot/boot.h"

#define PC_RAM_MIN         (8ull << 20)
#define PC_RAM_MAX         (3584ull << 20) /* below the PCI hole at 0xe0000000 */
#define PC_MAX_SERIAL      2
#define PC_HIROM_BASE      0xffff0000u
#define PC_HIROM_SIZE      0x10000u
#define PC_BIOS_AREA       0xc0000u /* option ROM and BIOS area, RAM here (holds ACPI tables) */
#define PC_SLICE_INSNS     200000   /* most instructions in one run-loop slice */
#define PC_SLICE_MIN_INSNS 100      /* host-time mode: fewest, however close the next timer */
#define PC_SLICE_MS        2        /* host-time mode: longest slice in host milliseconds */

typedef struct PcConfig {
    uint64_t ram_size;
    const char *kernel;
    const char *initrd; /* may be NULL */
    const char *append; /* may be NULL */
    /* Character back-end specs (chardev.h syntax) for COM1 and COM2; NULL or "none": no port
     * (COM2 then exists with nothing attached). */
    const char *serial[PC_MAX_SERIAL];
    const char *debugcon; /* NULL: no 0xe9 console */
    bool debug_exit;
    uint16_t debug_exit_base, debug_exit_size;
    bool no_reboot;
    bool icount;
    int icount_shift;
    bool jit;
    /* Virtio devices and their back ends from -drive/-netdev/-nic/-device; may be NULL. The
     * machine realises them on its PCI bus; the caller keeps ownership. */
    struct VirtioOpts *virtio;
} PcConfig;

typedef struct Machine Machine;

/* Builds and resets the machine. Everything the user gave is checked (kernel and initrd files,
 * memory size, back ends) before any file is created; on failure returns NULL with a one-line
 * message in err. */
Machine *pc_new(const PcConfig *cfg, char *err, size_t errlen);

/* Runs until the guest powers off, resets under -no-reboot, or the user quits (Ctrl-A X);
 * returns the process exit status. isa-debug-exit ends the process from inside. */
int pc_run(Machine *m);

void pc_free(Machine *m);

/* The memory map the board presents to the guest (e820 types, ascending). The boot loaders are
 * a leaf module the board calls at every reset, so the board uses their map type. */
void pc_memory_map(uint64_t ram_size, BootMemMap *map);

#endif
