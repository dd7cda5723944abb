/* Intel 8259A programmable interrupt controller pair as wired in the PC/AT: master at 0x20,
 * slave at 0xa0 cascaded on master IR2, plus the PIIX edge/level control registers (ELCR). */
#ifndef HW_INTC_I8259_H
#define HW_INTC_I8259_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

typedef struct Pic Pic;

/* Registers ports 0x20-0x21, 0xa0-0xa1 and 0x4d0-0x4d1 in io. cpu_intr follows the master's
 * INT output (level). */
Pic *pic_new(AddressSpace *io, IrqLine cpu_intr);
void pic_free(Pic *pic);
Device *pic_device(Pic *pic);

/* Input line for ISA IRQ n (0..15), level semantics: the PIC does the edge detection. IRQ 2 is
 * the cascade input; a device wired to it is ORed with the slave's output. */
IrqLine pic_irq(Pic *pic, int n);

/* Interrupt acknowledge cycle (the CPU calls this when it accepts INTR): returns the vector and
 * moves the request to in-service. Without a pending request this returns the spurious vector
 * of IR7 (master) or IR15 (slave), as the hardware does. */
int pic_intack(Pic *pic);

/* True while the master's INT output is asserted. */
bool pic_pending(const Pic *pic);

#endif
