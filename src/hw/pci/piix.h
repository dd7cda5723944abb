/* Intel 82371SB PIIX3 PCI-to-ISA bridge, function 0 at 01.0: PCI interrupt routing (PIRQA-D to
 * ISA IRQs) and the reset control register at 0xcf9. */
#ifndef HW_PCI_PIIX_H
#define HW_PCI_PIIX_H

#include <stdint.h>

#include "core/irq.h"
#include "core/memory.h"
#include "hw/pci/pci.h"

typedef struct Piix Piix;

/* Adds 8086:7000 at 01.0 on bus and becomes its INTx router: device INTx pin P in slot S goes
 * to PIRQ (S - 1 + P - 1) mod 4 (the swizzle SeaBIOS and QEMU's ACPI tables assume), and
 * PIRQ n to ISA IRQ (PIRQRC[n] & 15) unless bit 7 disables it. isa_irq[0..15] are the PIC
 * inputs (level; a PIRQ is high while any device routed to it asserts INTx). request_reset
 * (may be NULL) is called for a CPU reset through 0xcf9. io is where the ELCR lives (for
 * piix_assign_irqs). Freed with the bus. */
Piix *piix_new(PciBus *bus, AddressSpace *io, const IrqLine isa_irq[16],
               void (*request_reset)(void *opaque), void *opaque);

/* What PC firmware does before an OS runs, for firmware-less boots: route PIRQA-D to irqs[0..3]
 * (NULL: 10, 10, 11, 11), mark those IRQs level-triggered in the ELCR, and write every
 * interrupt-using device's interrupt line register. Call after the machine reset. */
void piix_assign_irqs(Piix *piix, const uint8_t irqs[4]);

#endif
