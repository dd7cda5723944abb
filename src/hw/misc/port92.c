/* System control port A at 0x92 (IBM PS/2 Hardware Interface Technical Reference; Intel PIIX3
 * datasheet "Port 92h": bit 0 fast reset, bit 1 fast A20) and the 0x80 POST code port. */
#include "hw/misc/port92.h"

#include <stdlib.h>

#include "util/alloc.h"

struct Port92 {
    Device dev;
    uint8_t value;
    void (*set_a20)(void *opaque, bool on);
    void (*request_reset)(void *opaque);
    void *opaque;
    AddressSpace *io;
    MemRegion *mr;
};

static uint32_t port92_read(void *opaque, uint64_t off, unsigned size)
{
    Port92 *p = opaque;
    return p->value;
}

static void port92_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Port92 *p = opaque;
    uint8_t old = p->value;
    /* Bits 2-7 (security lock, activity lights) are kept for read-back only. */
    p->value = val & 0xff;
    if (((old ^ val) & 2) && p->set_a20) p->set_a20(p->opaque, val & 2);
    if ((val & 1) && !(old & 1) && p->request_reset) p->request_reset(p->opaque);
}

static const MemOps port92_ops = {port92_read, port92_write, 1, 1};

static void port92_reset(Device *dev)
{
    Port92 *p = (Port92 *)dev;
    p->value = 0;
}

static void port92_describe(Device *dev, FILE *out)
{
    Port92 *p = (Port92 *)dev;
    fprintf(out, "value=%02x a20=%d\n", p->value, (p->value >> 1) & 1);
}

Port92 *port92_new(AddressSpace *io, void (*set_a20)(void *opaque, bool on),
                   void (*request_reset)(void *opaque), void *opaque)
{
    Port92 *p = XNEW(Port92);
    p->dev.name = "port92";
    p->dev.reset = port92_reset;
    p->dev.describe = port92_describe;
    p->set_a20 = set_a20;
    p->request_reset = request_reset;
    p->opaque = opaque;
    p->io = io;
    p->mr = as_add_mmio(io, "port92", 0x92, 1, &port92_ops, p);
    return p;
}

void port92_free(Port92 *p)
{
    if (!p) return;
    as_remove(p->io, p->mr);
    free(p);
}

Device *port92_device(Port92 *p)
{
    return &p->dev;
}

struct PostPort {
    Device dev;
    uint8_t last;
    AddressSpace *io;
    MemRegion *mr;
};

static uint32_t post_read(void *opaque, uint64_t off, unsigned size)
{
    return ((PostPort *)opaque)->last;
}

static void post_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    ((PostPort *)opaque)->last = val;
}

static const MemOps post_ops = {post_read, post_write, 1, 1};

static void post_describe(Device *dev, FILE *out)
{
    fprintf(out, "last POST code %02x\n", ((PostPort *)dev)->last);
}

PostPort *post_port_new(AddressSpace *io)
{
    PostPort *p = XNEW(PostPort);
    p->dev.name = "post";
    p->dev.describe = post_describe;
    p->io = io;
    p->mr = as_add_mmio(io, "post", 0x80, 1, &post_ops, p);
    return p;
}

void post_port_free(PostPort *p)
{
    if (!p) return;
    as_remove(p->io, p->mr);
    free(p);
}

Device *post_port_device(PostPort *p)
{
    return &p->dev;
}
uint8_t post_port_last(const PostPort *p)
{
    return p->last;
}
