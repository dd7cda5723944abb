/* isa-debug-exit and the 0xe9 debug console, with QEMU's guest-visible behaviour
 * (hw/misc/debugexit.c and hw/char/debugcon.c semantics: exit status, read-back value). */
#include "hw/misc/isa_debug.h"

#include <stdlib.h>

#include "util/alloc.h"

#define DEBUGCON_READBACK 0xe9

struct IsaDebugExit {
    AddressSpace *io;
    MemRegion *mr;
    void (*exit_fn)(void *opaque, int status);
    void *opaque;
};

static uint32_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    IsaDebugExit *d = opaque;
    /* The status is truncated to 8 bits by the host OS, as with QEMU. */
    d->exit_fn(d->opaque, (int)((val << 1) | 1));
}

static const MemOps debug_exit_ops = {debug_exit_read, debug_exit_write, 1, 4};

IsaDebugExit *isa_debug_exit_new(AddressSpace *io, uint16_t iobase, uint16_t iosize,
                                 void (*exit_fn)(void *opaque, int status), void *opaque)
{
    IsaDebugExit *d = XNEW(IsaDebugExit);
    d->io = io;
    d->exit_fn = exit_fn;
    d->opaque = opaque;
    d->mr = as_add_mmio(io, "isa-debug-exit", iobase, iosize, &debug_exit_ops, d);
    return d;
}

void isa_debug_exit_free(IsaDebugExit *d)
{
    if (!d) return;
    as_remove(d->io, d->mr);
    free(d);
}

struct DebugCon {
    AddressSpace *io;
    MemRegion *mr;
    Chardev *chr;
};

static uint32_t debugcon_read(void *opaque, uint64_t off, unsigned size)
{
    return DEBUGCON_READBACK;
}

static void debugcon_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    DebugCon *d = opaque;
    uint8_t c = (uint8_t)val;
    chr_write(d->chr, &c, 1);
}

static const MemOps debugcon_ops = {debugcon_read, debugcon_write, 1, 1};

DebugCon *debugcon_new(AddressSpace *io, uint16_t iobase, Chardev *chr)
{
    DebugCon *d = XNEW(DebugCon);
    d->io = io;
    d->chr = chr;
    d->mr = as_add_mmio(io, "debugcon", iobase, 1, &debugcon_ops, d);
    return d;
}

void debugcon_free(DebugCon *d)
{
    if (!d) return;
    as_remove(d->io, d->mr);
    free(d);
}
