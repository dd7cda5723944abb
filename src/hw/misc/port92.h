/* PS/2 "system control port A" at 0x92 (fast A20 gate and fast CPU reset) and the POST
 * diagnostic port 0x80. */
#ifndef HW_MISC_PORT92_H
#define HW_MISC_PORT92_H

#include <stdbool.h>
#include <stdint.h>

#include "core/device.h"
#include "core/memory.h"

typedef struct Port92 Port92;

/* set_a20 is called when bit 1 changes; request_reset when bit 0 goes from 0 to 1. Either may
 * be NULL. The board ORs this A20 with the keyboard controller's. Starts with A20 off. */
Port92 *port92_new(AddressSpace *io, void (*set_a20)(void *opaque, bool on),
                   void (*request_reset)(void *opaque), void *opaque);
void port92_free(Port92 *p);
Device *port92_device(Port92 *p);

typedef struct PostPort PostPort;

/* Port 0x80: writes (BIOS POST codes, Linux's I/O delay) are recorded and otherwise ignored;
 * reads return the last code. */
PostPort *post_port_new(AddressSpace *io);
void post_port_free(PostPort *p);
Device *post_port_device(PostPort *p);
uint8_t post_port_last(const PostPort *p);

#endif
