/* Virtqueue core against a fake guest memory map: descriptor chains, indirect tables, used
 * ring updates, interrupt suppression (NO_INTERRUPT and event index), avail_event, buffers
 * crossing RAM regions, and malicious descriptors (loops, bad indexes, addresses outside RAM,
 * wrapping lengths, misordered or nested chains) that must be refused without touching host
 * memory outside RAM (run under ASan). */
#include "test.h"

#include "core/memory.h"
#include "hw/virtio/virtio.h"
#include "util/alloc.h"

enum {
    RAM_SIZE = 1 << 20,
    RAM2_BASE = RAM_SIZE, /* a second RAM region right after the first */
    RAM2_SIZE = 0x10000,
    MMIO_BASE = 0x200000,
    QN = 16, /* queue size */
    DESC = 0x1000,
    AVAIL = 0x2000,
    USED = 0x3000,
};

typedef struct Rig {
    AddressSpace as;
    uint8_t *ram, *ram2;
    VirtioDevice vdev;
    int irq, kicks, mmio_hits;
    bool dma;
    uint16_t avail_idx;
} Rig;

static void rig_set_irq(void *o, bool level)
{
    ((Rig *)o)->irq = level;
}
static bool rig_dma(void *o)
{
    return ((Rig *)o)->dma;
}
static const VirtioTransportOps rig_transport = {rig_set_irq, rig_dma};

static uint32_t mmio_read(void *o, uint64_t off, unsigned size)
{
    ((Rig *)o)->mmio_hits++;
    return 0;
}
static void mmio_write(void *o, uint64_t off, uint32_t v, unsigned size)
{
    ((Rig *)o)->mmio_hits++;
}
static const MemOps mmio_ops = {mmio_read, mmio_write, 1, 4};

static void handler(VirtioDevice *vdev, Virtqueue *vq)
{
    ((Rig *)vdev->transport_opaque)->kicks++;
}

static const VirtioDeviceOps dummy_ops = {0};

static void rig_init(Rig *r, uint64_t features)
{
    memset(r, 0, sizeof *r);
    as_init(&r->as, "mem", 1ull << 32);
    r->ram = xzalloc(RAM_SIZE);
    r->ram2 = xzalloc(RAM2_SIZE);
    as_add_ram(&r->as, "ram", 0, RAM_SIZE, r->ram);
    as_add_ram(&r->as, "ram2", RAM2_BASE, RAM2_SIZE, r->ram2);
    as_add_mmio(&r->as, "mmio", MMIO_BASE, 0x1000, &mmio_ops, r);
    r->dma = true;
    virtio_init(&r->vdev, "test", 99, &dummy_ops, &r->as, 0, NULL, 0);
    r->vdev.transport = &rig_transport;
    r->vdev.transport_opaque = r;
    virtio_add_queue(&r->vdev, QN, handler);
    virtio_set_status(&r->vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    features |= VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
    virtio_set_driver_features(&r->vdev, 0, (uint32_t)features);
    virtio_set_driver_features(&r->vdev, 1, (uint32_t)(features >> 32));
    virtio_set_status(&r->vdev,
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    Virtqueue *vq = &r->vdev.vq[0];
    vq->desc_addr = DESC;
    vq->avail_addr = AVAIL;
    vq->used_addr = USED;
    virtio_queue_enable(&r->vdev, 0);
    virtio_set_status(&r->vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void rig_free(Rig *r)
{
    virtio_cleanup(&r->vdev);
    as_destroy(&r->as);
    free(r->ram);
    free(r->ram2);
}

static void desc(Rig *r, uint64_t table, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    uint8_t *p = r->ram + table + 16 * i;
    virtio_stq(p, addr);
    virtio_stl(p + 8, len);
    virtio_stw(p + 12, flags);
    virtio_stw(p + 14, next);
}

static void publish(Rig *r, uint16_t head)
{
    virtio_stw(r->ram + AVAIL + 4 + 2 * (r->avail_idx % QN), head);
    r->avail_idx++;
    virtio_stw(r->ram + AVAIL + 2, r->avail_idx);
}

static uint16_t used_idx(Rig *r)
{
    return virtio_ldw(r->ram + USED + 2);
}

static bool broken(Rig *r)
{
    return r->vdev.broken && (r->vdev.status & VIRTIO_STATUS_DEVICE_NEEDS_RESET) &&
           (r->vdev.isr & VIRTIO_ISR_CONFIG) && r->irq;
}

TEST(chain_and_used_ring)
{
    Rig r;
    rig_init(&r, 0);
    Virtqueue *vq = &r.vdev.vq[0];
    desc(&r, DESC, 3, 0x10000, 16, VIRTQ_DESC_F_NEXT, 7);
    desc(&r, DESC, 7, 0x11000, 100, VIRTQ_DESC_F_NEXT, 0);
    desc(&r, DESC, 0, 0x12000, 50, VIRTQ_DESC_F_WRITE, 0);
    CHECK(!vq_has_avail(vq));
    CHECK(vq_pop(vq) == NULL);
    publish(&r, 3);
    CHECK(vq_has_avail(vq));
    VirtqElem *e = vq_pop(vq);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->head, 3);
        CHECK_EQ(e->out_num, 2);
        CHECK_EQ(e->in_num, 1);
        CHECK_EQ(e->out_len, 116);
        CHECK_EQ(e->in_len, 50);
        CHECK(e->out[0].iov_base == r.ram + 0x10000);
        CHECK(e->out[1].iov_base == r.ram + 0x11000);
        CHECK(e->in[0].iov_base == r.ram + 0x12000);
        vq_push(vq, e, 50);
        free(e);
    }
    CHECK_EQ(used_idx(&r), 1);
    CHECK_EQ(virtio_ldl(r.ram + USED + 4), 3);
    CHECK_EQ(virtio_ldl(r.ram + USED + 8), 50);
    /* A used length beyond the writable size is clamped. */
    publish(&r, 0);
    e = vq_pop(vq);
    CHECK(e != NULL);
    if (e) {
        vq_push(vq, e, 1000);
        free(e);
    }
    CHECK_EQ(virtio_ldl(r.ram + USED + 16), 50);
    CHECK(!r.vdev.broken);
    rig_free(&r);
}

TEST(indirect_table)
{
    Rig r;
    rig_init(&r, VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC));
    Virtqueue *vq = &r.vdev.vq[0];
    uint64_t table = 0x5000;
    desc(&r, table, 0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 2);
    desc(&r, table, 2, 0x11000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    desc(&r, table, 1, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
    /* The WRITE flag on the indirect descriptor itself is ignored. */
    desc(&r, DESC, 5, table, 3 * 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
    publish(&r, 5);
    VirtqElem *e = vq_pop(vq);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->head, 5);
        CHECK_EQ(e->out_num, 1);
        CHECK_EQ(e->in_num, 2);
        CHECK_EQ(e->in_len, 513);
        CHECK(e->in[1].iov_base == r.ram + 0x12000);
        vq_push(vq, e, 513);
        free(e);
    }
    CHECK_EQ(virtio_ldl(r.ram + USED + 4), 5);
    CHECK(!r.vdev.broken);
    rig_free(&r);
}

TEST(buffer_across_ram_regions)
{
    Rig r;
    rig_init(&r, 0);
    Virtqueue *vq = &r.vdev.vq[0];
    /* 0x100 bytes at the end of the first RAM region plus 0x100 at the start of the next. */
    desc(&r, DESC, 0, RAM_SIZE - 0x100, 0x200, VIRTQ_DESC_F_WRITE, 0);
    publish(&r, 0);
    VirtqElem *e = vq_pop(vq);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->in_num, 2);
        CHECK(e->in[0].iov_base == r.ram + RAM_SIZE - 0x100);
        CHECK_EQ(e->in[0].iov_len, 0x100);
        CHECK(e->in[1].iov_base == r.ram2);
        CHECK_EQ(e->in[1].iov_len, 0x100);
        free(e);
    }
    rig_free(&r);
}

TEST(zero_length_descriptors_are_skipped)
{
    Rig r;
    rig_init(&r, 0);
    desc(&r, DESC, 0, 0xfffffff0u, 0, VIRTQ_DESC_F_NEXT, 1); /* address never used */
    desc(&r, DESC, 1, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(&r, 0);
    VirtqElem *e = vq_pop(&r.vdev.vq[0]);
    CHECK(e != NULL);
    if (e) {
        CHECK_EQ(e->out_num, 0);
        CHECK_EQ(e->in_num, 1);
        free(e);
    }
    rig_free(&r);
}

TEST(no_interrupt_flag)
{
    Rig r;
    rig_init(&r, 0);
    Virtqueue *vq = &r.vdev.vq[0];
    desc(&r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
    virtio_stw(r.ram + AVAIL, VIRTQ_AVAIL_F_NO_INTERRUPT);
    publish(&r, 0);
    VirtqElem *e = vq_pop(vq);
    vq_push(vq, e, 0);
    free(e);
    vq_notify(vq);
    CHECK_EQ(r.irq, 0);
    virtio_stw(r.ram + AVAIL, 0);
    publish(&r, 0);
    e = vq_pop(vq);
    vq_push(vq, e, 0);
    free(e);
    vq_notify(vq);
    CHECK_EQ(r.irq, 1);
    CHECK_EQ(virtio_isr_read_clear(&r.vdev), VIRTIO_ISR_QUEUE);
    CHECK_EQ(r.irq, 0);
    CHECK_EQ(virtio_isr_read_clear(&r.vdev), 0);
    /* Device-side notification suppression without event index: the used ring flag. */
    vq_set_notification(vq, false);
    CHECK_EQ(virtio_ldw(r.ram + USED) & VIRTQ_USED_F_NO_NOTIFY, VIRTQ_USED_F_NO_NOTIFY);
    vq_set_notification(vq, true);
    CHECK_EQ(virtio_ldw(r.ram + USED) & VIRTQ_USED_F_NO_NOTIFY, 0);
    rig_free(&r);
}

TEST(event_index)
{
    Rig r;
    rig_init(&r, VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX));
    Virtqueue *vq = &r.vdev.vq[0];
    for (int i = 0; i < QN; i++)
        desc(&r, DESC, (unsigned)i, 0x10000 + 0x100 * (unsigned)i, 8, VIRTQ_DESC_F_WRITE, 0);
    uint8_t *used_event = r.ram + AVAIL + 4 + 2 * QN;
    uint8_t *avail_event = r.ram + USED + 4 + 8 * QN;
    /* The driver wants an interrupt once used entry 2 (the third) is published. */
    virtio_stw(used_event, 2);
    int irqs = 0;
    for (int i = 0; i < 5; i++) {
        publish(&r, (uint16_t)i);
        VirtqElem *e = vq_pop(vq);
        CHECK(e != NULL);
        /* After each pop the device asks to be notified for the next entry. */
        CHECK_EQ(virtio_ldw(avail_event), i + 1);
        vq_push(vq, e, 8);
        free(e);
        vq_notify(vq);
        if (r.irq) {
            irqs++;
            CHECK(i == 0 || i == 2); /* the first always, then only when crossing 2 */
            virtio_isr_read_clear(&r.vdev);
        }
    }
    CHECK_EQ(irqs, 2);
    /* Several entries published at once cross the event: one interrupt. */
    virtio_stw(used_event, 6);
    for (int i = 5; i < 8; i++)
        publish(&r, (uint16_t)i);
    for (int i = 5; i < 8; i++) {
        VirtqElem *e = vq_pop(vq);
        vq_fill(vq, e, 8, (unsigned)(i - 5));
        free(e);
    }
    vq_flush(vq, 3);
    vq_notify(vq);
    CHECK_EQ(r.irq, 1);
    virtio_isr_read_clear(&r.vdev);
    vq_notify(vq); /* nothing new */
    CHECK_EQ(r.irq, 0);
    /* Unpopping moves avail_event back so the driver notifies for the returned entries. */
    publish(&r, 8);
    VirtqElem *e = vq_pop(vq);
    CHECK_EQ(virtio_ldw(avail_event), 9);
    vq_unpop(vq, 1);
    free(e);
    CHECK_EQ(virtio_ldw(avail_event), 8);
    e = vq_pop(vq);
    CHECK(e != NULL && e->head == 8);
    free(e);
    rig_free(&r);
}

TEST(wraparound_of_16bit_indexes)
{
    Rig r;
    rig_init(&r, VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX));
    Virtqueue *vq = &r.vdev.vq[0];
    desc(&r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
    for (int i = 0; i < 70000; i++) {
        publish(&r, 0);
        VirtqElem *e = vq_pop(vq);
        if (!e) {
            CHECK(e != NULL);
            break;
        }
        vq_push(vq, e, 8);
        free(e);
    }
    CHECK_EQ(used_idx(&r), 70000 & 0xffff);
    CHECK(!r.vdev.broken);
    rig_free(&r);
}

TEST(dma_disabled_and_not_ready)
{
    Rig r;
    rig_init(&r, 0);
    Virtqueue *vq = &r.vdev.vq[0];
    desc(&r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(&r, 0);
    CHECK_EQ(r.kicks, 1); /* DRIVER_OK runs the handlers of enabled queues once */
    r.dma = false;
    CHECK(vq_pop(vq) == NULL);
    virtio_queue_notify(&r.vdev, 0);
    CHECK_EQ(r.kicks, 1);
    r.dma = true;
    virtio_queue_notify(&r.vdev, 0);
    CHECK_EQ(r.kicks, 2);
    virtio_queue_notify(&r.vdev, 5); /* no such queue */
    CHECK_EQ(r.kicks, 2);
    virtio_set_status(&r.vdev, 0);
    CHECK(vq_pop(vq) == NULL);
    CHECK_EQ(r.vdev.status, 0);
    rig_free(&r);
}

TEST(features_ok_refused)
{
    Rig r;
    rig_init(&r, 0);
    virtio_set_status(&r.vdev, 0);
    virtio_set_status(&r.vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    /* Without VERSION_1 (a legacy driver). */
    virtio_set_driver_features(&r.vdev, 0, 0);
    virtio_set_driver_features(&r.vdev, 1, 0);
    virtio_set_status(&r.vdev,
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(r.vdev.status & VIRTIO_STATUS_FEATURES_OK, 0);
    /* With a feature the device does not offer. */
    virtio_set_driver_features(&r.vdev, 0, 1u << 7);
    virtio_set_driver_features(&r.vdev, 1, 1);
    virtio_set_status(&r.vdev,
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK_EQ(r.vdev.status & VIRTIO_STATUS_FEATURES_OK, 0);
    virtio_set_driver_features(&r.vdev, 0, 0);
    virtio_set_status(&r.vdev,
                      VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    CHECK(r.vdev.status & VIRTIO_STATUS_FEATURES_OK);
    /* Features are frozen after FEATURES_OK. */
    virtio_set_driver_features(&r.vdev, 0, 1u << VIRTIO_F_RING_EVENT_IDX);
    CHECK(!virtio_has_feature(&r.vdev, VIRTIO_F_RING_EVENT_IDX));
    rig_free(&r);
}

/* ---- malicious descriptors: each one breaks the device (DEVICE_NEEDS_RESET plus a
 * configuration interrupt), never crashes, and a reset recovers. ---- */

typedef void (*Setup)(Rig *r);

static void check_rejected(Setup setup, uint64_t features, const char *what)
{
    Rig r;
    rig_init(&r, features);
    setup(&r);
    VirtqElem *e = vq_pop(&r.vdev.vq[0]);
    if (e) printf("# %s: accepted\n", what);
    CHECK(e == NULL);
    free(e);
    if (!broken(&r)) printf("# %s: device not marked broken\n", what);
    CHECK(broken(&r));
    CHECK_EQ(r.mmio_hits, 0);
    CHECK_EQ(used_idx(&r), 0);
    /* Further pops do nothing until the driver resets the device. */
    CHECK(vq_pop(&r.vdev.vq[0]) == NULL);
    virtio_set_status(&r.vdev, 0);
    CHECK(!r.vdev.broken);
    CHECK_EQ(r.vdev.status, 0);
    CHECK_EQ(r.irq, 0);
    rig_free(&r);
}

static void s_loop(Rig *r)
{
    desc(r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_NEXT, 1);
    desc(r, DESC, 1, 0x10000, 8, VIRTQ_DESC_F_NEXT, 0);
    publish(r, 0);
}
static void s_self_loop(Rig *r)
{
    desc(r, DESC, 4, 0x10000, 8, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 4);
    publish(r, 4);
}
static void s_next_out_of_range(Rig *r)
{
    desc(r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_NEXT, QN);
    publish(r, 0);
}
static void s_head_out_of_range(Rig *r)
{
    publish(r, 0xffff);
}
static void s_avail_idx_jump(Rig *r)
{
    desc(r, DESC, 0, 0x10000, 8, 0, 0);
    publish(r, 0);
    virtio_stw(r->ram + AVAIL + 2, QN + 1);
}
static void s_addr_unassigned(Rig *r)
{
    desc(r, DESC, 0, 0x80000000u, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(r, 0);
}
static void s_addr_mmio(Rig *r)
{
    desc(r, DESC, 0, MMIO_BASE, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(r, 0);
}
static void s_addr_above_4g(Rig *r)
{
    desc(r, DESC, 0, 0x100000000ull, 8, 0, 0);
    publish(r, 0);
}
static void s_addr_wraps(Rig *r)
{
    desc(r, DESC, 0, 0xfffffffffffffff0ull, 0x100, 0, 0);
    publish(r, 0);
}
static void s_len_past_ram_end(Rig *r)
{
    desc(r, DESC, 0, RAM2_BASE + RAM2_SIZE - 0x10, 0x20, VIRTQ_DESC_F_WRITE, 0);
    publish(r, 0);
}
static void s_huge_len(Rig *r)
{
    desc(r, DESC, 0, 0x10000, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
    publish(r, 0);
}
static void s_read_after_write(Rig *r)
{
    desc(r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    desc(r, DESC, 1, 0x11000, 8, 0, 0);
    publish(r, 0);
}
static void s_indirect_out_of_ram(Rig *r)
{
    desc(r, DESC, 0, MMIO_BASE, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_bad_len(Rig *r)
{
    desc(r, DESC, 0, 0x5000, 24, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_zero_len(Rig *r)
{
    desc(r, DESC, 0, 0x5000, 0, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_huge(Rig *r)
{
    desc(r, DESC, 0, 0x0, 0xfffffff0u, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_with_next(Rig *r)
{
    desc(r, 0x5000, 0, 0x10000, 8, 0, 0);
    desc(r, DESC, 0, 0x5000, 16, VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
    desc(r, DESC, 1, 0x10000, 8, 0, 0);
    publish(r, 0);
}
static void s_indirect_nested(Rig *r)
{
    desc(r, 0x5000, 0, 0x6000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    desc(r, 0x6000, 0, 0x10000, 8, 0, 0);
    desc(r, DESC, 0, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_mid_chain(Rig *r)
{
    desc(r, 0x5000, 0, 0x10000, 8, 0, 0);
    desc(r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_NEXT, 1);
    desc(r, DESC, 1, 0x5000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_loop(Rig *r)
{
    for (unsigned i = 0; i < 4; i++)
        desc(r, 0x5000, i, 0x10000, 8, VIRTQ_DESC_F_NEXT, (uint16_t)((i + 1) % 4));
    desc(r, DESC, 0, 0x5000, 64, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_indirect_next_out_of_table(Rig *r)
{
    desc(r, 0x5000, 0, 0x10000, 8, VIRTQ_DESC_F_NEXT, 2); /* table has 2 entries */
    desc(r, DESC, 0, 0x5000, 32, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}
static void s_total_over_4g(Rig *r)
{
    /* 4097 readable descriptors of 1 MiB each, all valid RAM, add up to more than 4 GiB. */
    enum { N = 4097, TABLE = 0x40000 };
    for (unsigned i = 0; i < N; i++)
        desc(r, TABLE, i, 0, RAM_SIZE, (uint16_t)(i + 1 < N ? VIRTQ_DESC_F_NEXT : 0),
             (uint16_t)(i + 1));
    desc(r, DESC, 0, TABLE, 16 * N, VIRTQ_DESC_F_INDIRECT, 0);
    publish(r, 0);
}

TEST(malicious_descriptors)
{
    static const struct {
        Setup fn;
        const char *name;
        uint64_t features;
    } cases[] = {
        {s_loop, "loop", 0},
        {s_self_loop, "self loop", 0},
        {s_next_out_of_range, "next out of range", 0},
        {s_head_out_of_range, "head out of range", 0},
        {s_avail_idx_jump, "avail idx jump", 0},
        {s_addr_unassigned, "unassigned address", 0},
        {s_addr_mmio, "MMIO address", 0},
        {s_addr_above_4g, "address above 4 GiB", 0},
        {s_addr_wraps, "wrapping address", 0},
        {s_len_past_ram_end, "length past RAM end", 0},
        {s_huge_len, "huge length", 0},
        {s_read_after_write, "readable after writable", 0},
        {s_indirect_out_of_ram, "indirect table outside RAM", 1},
        {s_indirect_bad_len, "indirect length not a multiple of 16", 1},
        {s_indirect_zero_len, "indirect length 0", 1},
        {s_indirect_huge, "indirect table too big", 1},
        {s_indirect_with_next, "indirect with NEXT", 1},
        {s_indirect_nested, "nested indirect", 1},
        {s_indirect_mid_chain, "indirect inside a chain", 1},
        {s_indirect_loop, "loop in an indirect table", 1},
        {s_indirect_next_out_of_table, "next outside the indirect table", 1},
        {s_total_over_4g, "total length over 4 GiB", 1},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        check_rejected(cases[i].fn,
                       cases[i].features ? VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) : 0,
                       cases[i].name);
}

TEST(bad_ring_placement)
{
    static const struct {
        uint64_t desc, avail, used;
        uint16_t num;
    } cases[] = {
        {DESC + 8, AVAIL, USED, QN},                  /* misaligned descriptor table */
        {DESC, AVAIL + 1, USED, QN},                  /* misaligned avail ring */
        {DESC, AVAIL, USED + 2, QN},                  /* misaligned used ring */
        {MMIO_BASE, AVAIL, USED, QN},                 /* not RAM */
        {DESC, AVAIL, 0x80000000u, QN},               /* unassigned */
        {DESC, AVAIL, RAM2_BASE + RAM2_SIZE - 8, QN}, /* runs off the end of RAM */
        {DESC, AVAIL, USED, 12},                      /* not a power of two */
        {DESC, AVAIL, USED, 0},                       /* empty */
        {DESC, AVAIL, USED, 2 * QN},                  /* bigger than the maximum */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        Rig r;
        rig_init(&r, 0);
        virtio_set_status(&r.vdev, 0);
        Virtqueue *vq = &r.vdev.vq[0];
        vq->desc_addr = cases[i].desc;
        vq->avail_addr = cases[i].avail;
        vq->used_addr = cases[i].used;
        vq->num = cases[i].num;
        virtio_queue_enable(&r.vdev, 0);
        if (vq->enabled) printf("# ring case %zu accepted\n", i);
        CHECK(!vq->enabled);
        CHECK(r.vdev.broken);
        CHECK(vq_pop(vq) == NULL);
        rig_free(&r);
    }
}

TEST(memory_map_change_remaps_rings)
{
    Rig r;
    rig_init(&r, 0);
    Virtqueue *vq = &r.vdev.vq[0];
    desc(&r, DESC, 0, 0x10000, 8, VIRTQ_DESC_F_WRITE, 0);
    publish(&r, 0);
    /* Any map change (here an unrelated region) makes the device re-check its rings. */
    MemRegion *mr = as_add_mmio(&r.as, "other", 0x300000, 0x1000, &mmio_ops, &r);
    VirtqElem *e = vq_pop(vq);
    CHECK(e != NULL);
    free(e);
    /* Rings covered by a higher-priority MMIO region are no longer RAM: refused. */
    as_move(&r.as, mr, USED);
    as_set_priority(&r.as, mr, 10);
    publish(&r, 0);
    CHECK(vq_pop(vq) == NULL);
    CHECK(r.vdev.broken);
    CHECK_EQ(r.mmio_hits, 0);
    rig_free(&r);
}

/* Garbage rings (random descriptors, indexes and indirect tables, some valid by chance):
 * whatever the device pops must lie inside guest RAM, and nothing may crash or hang. */
TEST(random_rings)
{
    Rig r;
    rig_init(&r,
             VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC) | VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX));
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int popped = 0, resets = 0;
    for (int round = 0; round < 3000; round++) {
        for (unsigned i = 0; i < QN; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t addr = (seed >> 20) % (RAM_SIZE + 2 * RAM2_SIZE);
            if ((seed & 0xf) == 0) addr = MMIO_BASE + (seed >> 8) % 0x1000;
            uint32_t len = (uint32_t)((seed >> 40) % 0x3000);
            if ((seed & 0x30) == 0) len = (uint32_t)(len & ~15u) + 16;
            uint16_t flags = (uint16_t)((seed >> 12) & 7);
            uint16_t next = (uint16_t)((seed >> 52) % (QN + 2));
            desc(&r, DESC, i, addr, len, flags, next);
            /* Some indirect tables to land in. */
            desc(&r, 0x5000, i, addr ^ 0x40, len / 2, (uint16_t)(flags & 3), next);
        }
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        publish(&r, (uint16_t)((seed >> 33) % (QN + 1)));
        if ((seed & 0x3f) == 0) virtio_stw(r.ram + AVAIL + 2, (uint16_t)(seed >> 16));
        VirtqElem *e;
        while ((e = vq_pop(&r.vdev.vq[0]))) {
            for (int i = 0; i < e->out_num + e->in_num; i++) {
                uint8_t *b = e->iov[i].iov_base;
                bool in_ram = (b >= r.ram && b + e->iov[i].iov_len <= r.ram + RAM_SIZE) ||
                              (b >= r.ram2 && b + e->iov[i].iov_len <= r.ram2 + RAM2_SIZE);
                CHECK(in_ram);
                if (i >= e->out_num) memset(b, 0xa5, e->iov[i].iov_len);
            }
            vq_push(&r.vdev.vq[0], e, (uint32_t)e->in_len);
            vq_notify(&r.vdev.vq[0]);
            free(e);
            popped++;
        }
        if (r.vdev.broken) {
            /* The driver resets and sets up again. */
            resets++;
            Virtqueue *vq = &r.vdev.vq[0];
            virtio_set_status(&r.vdev, 0);
            virtio_set_driver_features(&r.vdev, 0, 3u << 28);
            virtio_set_driver_features(&r.vdev, 1, 1);
            virtio_set_status(&r.vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                           VIRTIO_STATUS_FEATURES_OK);
            vq->desc_addr = DESC;
            vq->avail_addr = AVAIL;
            vq->used_addr = USED;
            virtio_queue_enable(&r.vdev, 0);
            virtio_set_status(&r.vdev, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                           VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
            memset(r.ram + AVAIL, 0, 0x2000);
            r.avail_idx = 0;
        }
    }
    CHECK_EQ(r.mmio_hits, 0);
    CHECK(popped > 100);
    CHECK(resets > 100);
    rig_free(&r);
}
