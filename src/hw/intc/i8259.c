/* Intel 8259A PIC pair (8259A datasheet: ICW1-4, OCW1-3, priority resolution, cascade) with
 * the PIIX3 ELCR registers at 0x4d0/0x4d1 (PIIX3 datasheet 2.5.x) selecting level mode per IRQ. */
#include "hw/intc/i8259.h"

#include <stdlib.h>

#include "util/alloc.h"
#include "util/log.h"

typedef struct PicChip {
    uint8_t irr, isr, imr;
    uint8_t input;     /* current level of each IR line */
    uint8_t elcr;      /* level-triggered lines (from the ELCR) */
    uint8_t elcr_mask; /* ELCR bits that exist */
    uint8_t base;      /* vector base from ICW2 */
    uint8_t prio_add;  /* IR number with the highest priority (rotation) */
    uint8_t icw3;
    uint8_t init_step; /* 0: operational, 1..3: expecting ICW2..ICW4 */
    bool icw4_needed, single, ltim;
    bool auto_eoi, rotate_on_aeoi, sfnm;
    bool read_isr, poll, special_mask;
    bool is_master;
} PicChip;

struct Pic {
    Device dev;
    PicChip chip[2];
    IrqLine cpu_intr;
    int intr_level;
    bool ext_irq2;  /* a device wired to IRQ 2 itself, ORed with the cascade */
    bool slave_out; /* the slave's INT output, i.e. the master's IR2 input */
    AddressSpace *io;
    MemRegion *mr[3];
};

/* Priority rank (0 = highest) of the best request in mask under the current rotation, or 8. */
static int chip_priority(const PicChip *c, uint8_t mask)
{
    if (!mask) return 8;
    for (int p = 0; p < 8; p++)
        if (mask & (1u << ((p + c->prio_add) & 7))) return p;
    return 8;
}

static bool chip_is_level(const PicChip *c, int n)
{
    return c->ltim || (c->elcr >> n & 1);
}

/* The IR line this chip would present to the CPU now, or -1. */
static int chip_get_irq(const PicChip *c)
{
    uint8_t req = c->irr & ~c->imr;
    int prio = chip_priority(c, req);
    if (prio == 8) return -1;
    if (c->special_mask) {
        /* Special mask mode: masked in-service levels no longer block; a level in service only
         * blocks itself, so any other unmasked request wins on priority alone. */
        req &= ~c->isr;
        prio = chip_priority(c, req);
        return prio == 8 ? -1 : (prio + c->prio_add) & 7;
    }
    uint8_t in_service = c->isr;
    /* Special fully nested mode: the master lets further requests from a slave through while
     * that slave's cascade input is in service, so the slave can nest its own priorities. */
    if (c->is_master && c->sfnm) in_service &= ~c->icw3;
    int cur = chip_priority(c, in_service);
    return prio < cur ? (prio + c->prio_add) & 7 : -1;
}

static void pic_update(Pic *pic);

static void chip_set_input(PicChip *c, int n, int level)
{
    uint8_t bit = 1u << n;
    if (chip_is_level(c, n)) {
        if (level)
            c->irr |= bit;
        else
            c->irr &= ~bit;
    } else if (level && !(c->input & bit)) {
        /* Edge mode latches the rising edge; IRR stays set until acknowledged even if the
         * line falls (a request that vanishes before INTA then reads as spurious IR7). */
        c->irr |= bit;
    }
    if (level)
        c->input |= bit;
    else
        c->input &= ~bit;
}

static void pic_update(Pic *pic)
{
    PicChip *m = &pic->chip[0], *s = &pic->chip[1];
    bool out = chip_get_irq(s) >= 0;
    if (out != pic->slave_out) {
        pic->slave_out = out;
        chip_set_input(m, 2, out || pic->ext_irq2);
    }
    int level = chip_get_irq(m) >= 0;
    if (level != pic->intr_level) {
        pic->intr_level = level;
        irq_set(&pic->cpu_intr, level);
    }
}

static void pic_set_irq(void *opaque, int n, int level)
{
    Pic *pic = opaque;
    if (n < 0 || n > 15) return;
    if (n == 2) {
        pic->ext_irq2 = level != 0;
        chip_set_input(&pic->chip[0], 2, pic->ext_irq2 || pic->slave_out);
    } else {
        chip_set_input(&pic->chip[n >> 3], n & 7, level != 0);
    }
    pic_update(pic);
}

IrqLine pic_irq(Pic *pic, int n)
{
    return (IrqLine){pic_set_irq, pic, n};
}

/* First INTA pulse for line n: move it from request to in-service. */
static void chip_ack(PicChip *c, int n)
{
    uint8_t bit = 1u << n;
    if (c->auto_eoi) {
        if (c->rotate_on_aeoi) c->prio_add = (n + 1) & 7;
    } else {
        c->isr |= bit;
    }
    /* A level-triggered request stays in IRR while its line is high; an edge is consumed. */
    if (!chip_is_level(c, n)) c->irr &= ~bit;
}

int pic_intack(Pic *pic)
{
    PicChip *m = &pic->chip[0], *s = &pic->chip[1];
    int vector;
    int irq = chip_get_irq(m);
    if (irq < 0) {
        /* The request went away between INT and INTA: the 8259A answers with IR7's vector
         * without setting any in-service bit. */
        vector = m->base + 7;
    } else {
        chip_ack(m, irq);
        if ((m->icw3 >> irq & 1) && !m->single) {
            int sirq = chip_get_irq(s);
            if (sirq >= 0) {
                chip_ack(s, sirq);
                vector = s->base + sirq;
            } else {
                vector = s->base + 7;
            }
        } else {
            vector = m->base + irq;
        }
    }
    pic_update(pic);
    LOG(LOG_INT, "pic: intack -> vector 0x%02x", vector);
    return vector;
}

bool pic_pending(const Pic *pic)
{
    return pic->intr_level != 0;
}

/* Poll command: the read is treated as an interrupt acknowledge and returns 0x80 | level. */
static uint8_t chip_poll(Pic *pic, PicChip *c)
{
    c->poll = false;
    int irq = chip_get_irq(c);
    if (irq < 0) return 0;
    chip_ack(c, irq);
    pic_update(pic);
    return 0x80 | irq;
}

static void chip_eoi(PicChip *c, uint8_t cmd)
{
    int op = cmd >> 5, level = cmd & 7;
    switch (op) {
    case 0: c->rotate_on_aeoi = false; break;
    case 4: c->rotate_on_aeoi = true; break;
    case 1:   /* non-specific EOI */
    case 5: { /* rotate on non-specific EOI */
        int prio = chip_priority(c, c->isr);
        if (prio == 8) break;
        int n = (prio + c->prio_add) & 7;
        c->isr &= ~(1u << n);
        if (op == 5) c->prio_add = (n + 1) & 7;
        break;
    }
    case 3: c->isr &= ~(1u << level); break;
    case 7:
        c->isr &= ~(1u << level);
        c->prio_add = (level + 1) & 7;
        break;
    case 6: c->prio_add = (level + 1) & 7; break;
    default: break; /* 2: no operation */
    }
}

static void chip_icw1(PicChip *c, uint8_t val)
{
    /* ICW1 resets the edge sense circuit (a line already high must go low first), clears the
     * mask, restores fixed priority and IRR status reads, and clears special mask mode. */
    c->icw4_needed = val & 1;
    c->single = val & 2;
    c->ltim = val & 8;
    if (val & 4) LOG_ONCE(LOG_UNIMP, "pic: ICW1 call address interval 4 (MCS-80 mode) ignored");
    c->imr = 0;
    c->isr = 0;
    c->irr = 0;
    for (int n = 0; n < 8; n++)
        if (chip_is_level(c, n) && (c->input >> n & 1)) c->irr |= 1u << n;
    c->prio_add = 0;
    c->special_mask = false;
    c->read_isr = false;
    c->poll = false;
    c->auto_eoi = c->rotate_on_aeoi = c->sfnm = false;
    c->init_step = 1;
}

static void chip_write(Pic *pic, PicChip *c, unsigned a0, uint8_t val)
{
    if (a0 == 0) {
        if (val & 0x10) {
            chip_icw1(c, val);
        } else if (val & 0x08) {
            /* OCW3 */
            if (val & 0x02) c->read_isr = val & 0x01;
            if (val & 0x04) c->poll = true;
            if (val & 0x40) c->special_mask = val & 0x20;
        } else {
            chip_eoi(c, val);
        }
    } else {
        switch (c->init_step) {
        case 1:
            c->base = val & 0xf8;
            c->init_step = c->single ? (c->icw4_needed ? 3 : 0) : 2;
            break;
        case 2:
            c->icw3 = val;
            c->init_step = c->icw4_needed ? 3 : 0;
            break;
        case 3:
            if (!(val & 1)) LOG_ONCE(LOG_UNIMP, "pic: ICW4 MCS-80/85 mode ignored");
            c->auto_eoi = val & 2;
            c->sfnm = val & 0x10;
            c->init_step = 0;
            break;
        default: c->imr = val; break;
        }
    }
    pic_update(pic);
}

static uint8_t chip_read(Pic *pic, PicChip *c, unsigned a0)
{
    if (c->poll) return chip_poll(pic, c);
    if (a0) return c->imr;
    return c->read_isr ? c->isr : c->irr;
}

static uint32_t pic_io_read(void *opaque, uint64_t off, unsigned size)
{
    Pic *pic = opaque;
    return chip_read(pic, &pic->chip[0], off & 1);
}

static void pic_io_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Pic *pic = opaque;
    chip_write(pic, &pic->chip[0], off & 1, val);
}

static uint32_t pic_io_read_slave(void *opaque, uint64_t off, unsigned size)
{
    Pic *pic = opaque;
    return chip_read(pic, &pic->chip[1], off & 1);
}

static void pic_io_write_slave(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Pic *pic = opaque;
    chip_write(pic, &pic->chip[1], off & 1, val);
}

static uint32_t elcr_read(void *opaque, uint64_t off, unsigned size)
{
    Pic *pic = opaque;
    return pic->chip[off & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t off, uint32_t val, unsigned size)
{
    Pic *pic = opaque;
    PicChip *c = &pic->chip[off & 1];
    c->elcr = val & c->elcr_mask;
    /* Re-evaluate requests under the new trigger mode: level lines mirror their input. */
    for (int n = 0; n < 8; n++) {
        if (chip_is_level(c, n)) {
            if (c->input >> n & 1)
                c->irr |= 1u << n;
            else
                c->irr &= ~(1u << n);
        }
    }
    pic_update(pic);
}

static const MemOps pic_master_ops = {pic_io_read, pic_io_write, 1, 1};
static const MemOps pic_slave_ops = {pic_io_read_slave, pic_io_write_slave, 1, 1};
static const MemOps elcr_ops = {elcr_read, elcr_write, 1, 1};

static void pic_reset(Device *dev)
{
    Pic *pic = (Pic *)dev;
    for (int i = 0; i < 2; i++) {
        PicChip *c = &pic->chip[i];
        uint8_t input = c->input;
        *c = (PicChip){.is_master = i == 0, .input = input};
        /* IRQ 0, 1, 2 (master) and 8, 13 (slave) are always edge-triggered in the PIIX. */
        c->elcr_mask = i == 0 ? 0xf8 : 0xde;
    }
    pic->chip[0].icw3 = 0x04;
    pic->chip[1].icw3 = 0x02;
    pic->slave_out = false;
    chip_set_input(&pic->chip[0], 2, pic->ext_irq2);
    pic_update(pic);
}

static void pic_describe(Device *dev, FILE *out)
{
    Pic *pic = (Pic *)dev;
    for (int i = 0; i < 2; i++) {
        PicChip *c = &pic->chip[i];
        fprintf(out, "%s%s: base=0x%02x irr=%02x imr=%02x isr=%02x elcr=%02x%s", i ? "; " : "",
                i ? "slave" : "master", c->base, c->irr, c->imr, c->isr, c->elcr,
                c->auto_eoi ? " aeoi" : "");
    }
    fprintf(out, "; intr=%d\n", pic->intr_level);
}

Pic *pic_new(AddressSpace *io, IrqLine cpu_intr)
{
    Pic *pic = XNEW(Pic);
    pic->dev.name = "i8259";
    pic->dev.reset = pic_reset;
    pic->dev.describe = pic_describe;
    pic->cpu_intr = cpu_intr;
    pic->io = io;
    pic->mr[0] = as_add_mmio(io, "pic-master", 0x20, 2, &pic_master_ops, pic);
    pic->mr[1] = as_add_mmio(io, "pic-slave", 0xa0, 2, &pic_slave_ops, pic);
    pic->mr[2] = as_add_mmio(io, "elcr", 0x4d0, 2, &elcr_ops, pic);
    pic_reset(&pic->dev);
    return pic;
}

void pic_free(Pic *pic)
{
    if (!pic) return;
    for (int i = 0; i < 3; i++)
        as_remove(pic->io, pic->mr[i]);
    free(pic);
}

Device *pic_device(Pic *pic)
{
    return &pic->dev;
}
