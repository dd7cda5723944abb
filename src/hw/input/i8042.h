/* Intel 8042 keyboard controller as on PC/AT and PS/2 boards (ports 0x60/0x64), with a PS/2
 * keyboard on the first port and a PS/2 mouse on the auxiliary port. */
#ifndef HW_INPUT_I8042_H
#define HW_INPUT_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

typedef struct I8042 I8042;

/* Registers ports 0x60 and 0x64. irq1 (keyboard) and irq12 (mouse) follow "output buffer full
 * from that source and its interrupt enabled" (level; the PIC sees the edges).
 * set_a20 is called whenever output-port bit 1 (A20 gate) changes; request_reset when the guest
 * pulses or clears output-port bit 0 (command 0xfe, or 0xd1 with bit 0 clear). Either may be
 * NULL. The output port starts with A20 enabled; reset does not call set_a20. */
I8042 *kbd_new(AddressSpace *io, IrqLine irq1, IrqLine irq12,
               void (*set_a20)(void *opaque, bool on), void (*request_reset)(void *opaque),
               void *opaque);
void kbd_free(I8042 *kbd);
Device *kbd_device(I8042 *kbd);

/* A key event from the UI as scan code set 1 bytes (make code, make|0x80 for break, with 0xe0
 * or 0xe1 prefixes as separate calls). Converted to whatever the guest selected. Dropped while
 * the keyboard is not scanning or its buffer is full. */
void kbd_put_scancode(I8042 *kbd, uint8_t code);

/* A mouse movement/button report (PS/2 conventions: dy > 0 is up; buttons bit 0 left, 1 right,
 * 2 middle; dz wheel, used when the guest enabled the IntelliMouse protocol). */
void kbd_put_mouse(I8042 *kbd, int dx, int dy, int dz, unsigned buttons);

#endif
