/* National Semiconductor PC16550D UART (the "16550A" of PC serial ports: COM1 at 0x3f8/IRQ 4,
 * COM2 at 0x2f8/IRQ 3) connected to a character back end. */
#ifndef HW_CHAR_UART16550_H
#define HW_CHAR_UART16550_H

#include <stdint.h>

#include "chardev/chardev.h"
#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

typedef struct Uart Uart;

/* Registers 8 ports at base in io. Output goes to chr immediately; input is taken from chr as
 * the receive FIFO has room. chr may be NULL (a port with nothing attached). The IRQ line is
 * gated by MCR OUT2 as on PC boards. */
Uart *uart_new(AddressSpace *io, uint16_t base, IrqLine irq, Chardev *chr, Clock *clock);
void uart_free(Uart *uart);
Device *uart_device(Uart *uart);

#endif
