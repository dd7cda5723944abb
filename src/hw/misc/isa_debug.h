/* QEMU's debug devices for test kernels: isa-debug-exit (a write of V ends the emulator with
 * status (V << 1) | 1) and the Bochs/QEMU 0xe9 debug console (port writes go to a chardev). */
#ifndef HW_MISC_ISA_DEBUG_H
#define HW_MISC_ISA_DEBUG_H

#include <stdint.h>

#include "chardev/chardev.h"
#include "core/memory.h"

typedef struct IsaDebugExit IsaDebugExit;

/* Registers iosize ports at iobase. Any write of value V calls exit_fn(opaque, (V << 1) | 1);
 * the board decides how the process ends. Reads return 0. */
IsaDebugExit *isa_debug_exit_new(AddressSpace *io, uint16_t iobase, uint16_t iosize,
                                 void (*exit_fn)(void *opaque, int status), void *opaque);
void isa_debug_exit_free(IsaDebugExit *d);

typedef struct DebugCon DebugCon;

/* One port at iobase (0xe9): byte writes go to chr (which may be NULL: output dropped), reads
 * return the read-back value 0xe9 so guests can detect the port. */
DebugCon *debugcon_new(AddressSpace *io, uint16_t iobase, Chardev *chr);
void debugcon_free(DebugCon *d);

#endif
