/* Intel 8254 programmable interval timer at 0x40-0x43 (1.193182 MHz, three channels) and the
 * PC/AT system control port B at 0x61 (channel 2 gate, speaker enable, refresh toggle, OUT2). */
#ifndef HW_TIMER_I8254_H
#define HW_TIMER_I8254_H

#include <stdbool.h>

#include "core/clock.h"
#include "core/device.h"
#include "core/irq.h"
#include "core/memory.h"

#define PIT_FREQ_HZ 1193182

typedef struct I8254 I8254;

/* Registers ports 0x40-0x43 and 0x61 in io. irq0 follows channel 0's OUT pin (level; the PIC
 * sees its rising edges). The channels start unprogrammed, not counting, with OUT high. */
I8254 *pit_new(AddressSpace *io, Clock *clock, IrqLine irq0);
void pit_free(I8254 *pit);
Device *pit_device(I8254 *pit);

/* GATE input of a channel (channels 0 and 1 are tied high on the PC; channel 2's gate is port
 * 0x61 bit 0) and the current OUT level, e.g. for a speaker front end. */
void pit_set_gate(I8254 *pit, int channel, bool level);
bool pit_get_out(I8254 *pit, int channel);

#endif
