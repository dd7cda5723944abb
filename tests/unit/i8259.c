/* 8259A pair: init sequence, priorities, EOI kinds, cascade, edge/level, poll, spurious. */
#include "test.h"

#include "core/memory.h"
#include "hw/intc/i8259.h"

typedef struct {
    AddressSpace io;
    Pic *pic;
    int intr;
} Rig;

static void intr_set(void *o, int n, int level)
{
    ((Rig *)o)->intr = level;
}

static void out8(Rig *r, uint16_t port, uint8_t v)
{
    as_write(&r->io, port, v, 1);
}
static uint8_t in8(Rig *r, uint16_t port)
{
    return as_read(&r->io, port, 1);
}

/* The BIOS/Linux initialisation: ICW1 edge+ICW4, vectors 0x20/0x28, cascade on IR2, 8086. */
static void rig_init(Rig *r, uint8_t icw4)
{
    as_init(&r->io, "io", 0x10000);
    r->intr = 0;
    r->pic = pic_new(&r->io, (IrqLine){intr_set, r, 0});
    out8(r, 0x20, 0x11);
    out8(r, 0x21, 0x20);
    out8(r, 0x21, 0x04);
    out8(r, 0x21, icw4);
    out8(r, 0xa0, 0x11);
    out8(r, 0xa1, 0x28);
    out8(r, 0xa1, 0x02);
    out8(r, 0xa1, icw4);
    out8(r, 0x21, 0x00);
    out8(r, 0xa1, 0x00);
}

static void rig_free(Rig *r)
{
    pic_free(r->pic);
    as_destroy(&r->io);
}

static void set(Rig *r, int n, int level)
{
    IrqLine l = pic_irq(r->pic, n);
    irq_set(&l, level);
}

TEST(init_and_simple_irq)
{
    Rig r;
    rig_init(&r, 0x01);
    CHECK_EQ(r.intr, 0);
    CHECK_EQ(in8(&r, 0x21), 0);
    set(&r, 1, 1);
    CHECK_EQ(r.intr, 1);
    CHECK_EQ(in8(&r, 0x20), 0x02); /* IRR */
    CHECK_EQ(pic_intack(r.pic), 0x21);
    CHECK_EQ(r.intr, 0);
    out8(&r, 0x20, 0x0b); /* OCW3: read ISR */
    CHECK_EQ(in8(&r, 0x20), 0x02);
    out8(&r, 0x20, 0x20); /* non-specific EOI */
    CHECK_EQ(in8(&r, 0x20), 0x00);
    out8(&r, 0x20, 0x0a); /* back to IRR: the edge was consumed */
    CHECK_EQ(in8(&r, 0x20), 0x00);
    /* Holding the line high does not retrigger an edge input. */
    set(&r, 1, 1);
    CHECK_EQ(r.intr, 0);
    set(&r, 1, 0);
    set(&r, 1, 1);
    CHECK_EQ(r.intr, 1);
    rig_free(&r);
}

TEST(priority_and_nesting)
{
    Rig r;
    rig_init(&r, 0x01);
    set(&r, 5, 1);
    set(&r, 3, 1);
    CHECK_EQ(pic_intack(r.pic), 0x23); /* IR3 beats IR5 */
    CHECK_EQ(r.intr, 0);               /* IR5 is lower than in-service IR3 */
    set(&r, 0, 1);
    CHECK_EQ(r.intr, 1); /* IR0 is higher: nests */
    CHECK_EQ(pic_intack(r.pic), 0x20);
    out8(&r, 0x20, 0x0b);
    CHECK_EQ(in8(&r, 0x20), 0x09);
    out8(&r, 0x20, 0x20); /* non-specific EOI clears the highest (IR0) */
    CHECK_EQ(in8(&r, 0x20), 0x08);
    CHECK_EQ(r.intr, 0);
    out8(&r, 0x20, 0x63); /* specific EOI IR3 */
    CHECK_EQ(r.intr, 1);
    CHECK_EQ(pic_intack(r.pic), 0x25);
    /* Masking. */
    out8(&r, 0x20, 0x65);
    out8(&r, 0x21, 0x40);
    set(&r, 6, 1);
    CHECK_EQ(r.intr, 0);
    out8(&r, 0x21, 0x00);
    CHECK_EQ(r.intr, 1);
    rig_free(&r);
}

TEST(rotation)
{
    Rig r;
    rig_init(&r, 0x01);
    out8(&r, 0x20, 0xc4); /* set priority: IR4 lowest, so IR5 highest */
    set(&r, 1, 1);
    set(&r, 6, 1);
    CHECK_EQ(pic_intack(r.pic), 0x26); /* order 5 6 7 0 1 2 3 4 */
    out8(&r, 0x20, 0xa0);              /* rotate on non-specific EOI: IR6 becomes lowest */
    set(&r, 6, 0);
    set(&r, 6, 1);
    CHECK_EQ(pic_intack(r.pic), 0x21); /* order 7 0 1 ... 6 */
    out8(&r, 0x20, 0x20);
    CHECK_EQ(pic_intack(r.pic), 0x26);
    out8(&r, 0x20, 0x20);
    set(&r, 6, 0);
    /* Automatic rotation with AEOI: equal-priority devices take turns. */
    out8(&r, 0x20, 0x11);
    out8(&r, 0x21, 0x20);
    out8(&r, 0x21, 0x04);
    out8(&r, 0x21, 0x03); /* AEOI */
    out8(&r, 0x21, 0x00);
    out8(&r, 0x20, 0x80); /* rotate in AEOI mode */
    set(&r, 1, 0);
    set(&r, 3, 0);
    set(&r, 1, 1);
    set(&r, 3, 1);
    CHECK_EQ(pic_intack(r.pic), 0x21);
    out8(&r, 0x20, 0x0b);
    CHECK_EQ(in8(&r, 0x20), 0); /* AEOI: nothing in service */
    set(&r, 1, 0);
    set(&r, 1, 1);
    CHECK_EQ(pic_intack(r.pic), 0x23); /* IR1 is now lowest priority */
    CHECK_EQ(pic_intack(r.pic), 0x21);
    rig_free(&r);
}

TEST(cascade)
{
    Rig r;
    rig_init(&r, 0x01);
    set(&r, 12, 1);
    CHECK_EQ(r.intr, 1);
    CHECK_EQ(pic_intack(r.pic), 0x2c);
    out8(&r, 0x20, 0x0b);
    out8(&r, 0xa0, 0x0b);
    CHECK_EQ(in8(&r, 0x20), 0x04); /* cascade IR2 in service on the master */
    CHECK_EQ(in8(&r, 0xa0), 0x10);
    /* Higher slave request (IRQ 8) cannot nest while master IR2 is in service (fully nested
     * mode without SFNM). */
    set(&r, 8, 1);
    CHECK_EQ(r.intr, 0);
    out8(&r, 0xa0, 0x20);
    out8(&r, 0x20, 0x20);
    CHECK_EQ(r.intr, 1);
    CHECK_EQ(pic_intack(r.pic), 0x28);
    out8(&r, 0xa0, 0x20);
    out8(&r, 0x20, 0x20);
    /* Slave mask hides the request from the master too. */
    out8(&r, 0xa1, 0x01);
    set(&r, 8, 0);
    set(&r, 8, 1);
    CHECK_EQ(r.intr, 0);
    rig_free(&r);
}

TEST(sfnm_nesting)
{
    Rig r;
    rig_init(&r, 0x11); /* special fully nested mode */
    set(&r, 12, 1);
    CHECK_EQ(pic_intack(r.pic), 0x2c);
    set(&r, 8, 1);
    CHECK_EQ(r.intr, 1); /* the slave's higher-priority IRQ 8 gets through */
    CHECK_EQ(pic_intack(r.pic), 0x28);
    rig_free(&r);
}

TEST(level_triggered_elcr)
{
    Rig r;
    rig_init(&r, 0x01);
    out8(&r, 0x4d1, 0xff);
    CHECK_EQ(in8(&r, 0x4d1), 0xde); /* IRQ 8 and 13 stay edge */
    out8(&r, 0x4d0, 0xff);
    CHECK_EQ(in8(&r, 0x4d0), 0xf8);
    set(&r, 11, 1);
    CHECK_EQ(pic_intack(r.pic), 0x2b);
    out8(&r, 0xa0, 0x20);
    out8(&r, 0x20, 0x20);
    /* Still asserted: level mode requests again after EOI. */
    CHECK_EQ(r.intr, 1);
    CHECK_EQ(pic_intack(r.pic), 0x2b);
    set(&r, 11, 0);
    out8(&r, 0xa0, 0x20);
    out8(&r, 0x20, 0x20);
    CHECK_EQ(r.intr, 0);
    /* Level request withdrawn before the acknowledge: spurious IRQ 15 (IRQ 2 on master). */
    set(&r, 11, 1);
    CHECK_EQ(r.intr, 1);
    set(&r, 11, 0);
    CHECK_EQ(r.intr, 1); /* the master latched the cascade edge */
    CHECK_EQ(pic_intack(r.pic), 0x2f);
    out8(&r, 0xa0, 0x0b);
    CHECK_EQ(in8(&r, 0xa0), 0);
    out8(&r, 0x20, 0x20); /* the master's IR2 is in service and needs its EOI */
    CHECK_EQ(r.intr, 0);
    rig_free(&r);
}

TEST(spurious)
{
    Rig r;
    rig_init(&r, 0x01);
    /* No request at all: IR7 vector, nothing in service. */
    CHECK_EQ(pic_intack(r.pic), 0x27);
    out8(&r, 0x20, 0x0b);
    CHECK_EQ(in8(&r, 0x20), 0);
    /* Slave request masked after the master latched the cascade edge: spurious IRQ 15. */
    set(&r, 10, 1);
    CHECK_EQ(r.intr, 1);
    out8(&r, 0xa1, 0x04);
    CHECK_EQ(pic_intack(r.pic), 0x2f);
    out8(&r, 0xa0, 0x0b);
    CHECK_EQ(in8(&r, 0xa0), 0); /* spurious sets no slave ISR bit */
    rig_free(&r);
}

TEST(poll_mode)
{
    Rig r;
    rig_init(&r, 0x01);
    out8(&r, 0x20, 0x0c); /* OCW3 poll */
    CHECK_EQ(in8(&r, 0x20), 0x00);
    set(&r, 4, 1);
    out8(&r, 0x20, 0x0c);
    CHECK_EQ(in8(&r, 0x20), 0x84);
    out8(&r, 0x20, 0x0b);
    CHECK_EQ(in8(&r, 0x20), 0x10); /* the poll read acknowledged IR4 */
    CHECK_EQ(r.intr, 0);
    out8(&r, 0x20, 0x64);
    rig_free(&r);
}

TEST(special_mask_mode)
{
    Rig r;
    rig_init(&r, 0x01);
    set(&r, 3, 1);
    CHECK_EQ(pic_intack(r.pic), 0x23);
    set(&r, 5, 1);
    CHECK_EQ(r.intr, 0);
    out8(&r, 0x21, 0x08); /* mask the in-service level */
    out8(&r, 0x20, 0x68); /* enter special mask mode */
    CHECK_EQ(r.intr, 1);  /* lower priority IR5 now allowed */
    CHECK_EQ(pic_intack(r.pic), 0x25);
    out8(&r, 0x20, 0x48); /* leave special mask mode */
    rig_free(&r);
}

TEST(reinit_resets_edge_sense)
{
    Rig r;
    rig_init(&r, 0x01);
    set(&r, 0, 1);
    CHECK_EQ(r.intr, 1);
    /* ICW1 clears IRR and the mask; a line that is still high must fall and rise again. */
    out8(&r, 0x20, 0x11);
    out8(&r, 0x21, 0x08);
    out8(&r, 0x21, 0x04);
    out8(&r, 0x21, 0x01);
    CHECK_EQ(r.intr, 0);
    CHECK_EQ(in8(&r, 0x20), 0);
    set(&r, 0, 1);
    CHECK_EQ(r.intr, 0);
    set(&r, 0, 0);
    set(&r, 0, 1);
    CHECK_EQ(pic_intack(r.pic), 0x08);
    rig_free(&r);
}
