/* virtio-rng: buffers come back full of random bytes (direct, scattered and indirect), with
 * the used length telling how many. */
#include "test.h"

#include "hw/virtio/virtio_rng.h"
#include "virtio_guest.h"

enum { SLOT = 7, BAR = 0xfd000000u };

static bool rig(VGuest *g, VDev *d)
{
    vg_init(g);
    char err[128];
    if (!virtio_rng_new(g->bus, SLOT, &g->mem, err, sizeof err)) return false;
    if (!vd_probe(d, g, SLOT, BAR) || !vd_init(d, ~0ull) || !vd_setup_queue(d, 0, 0)) return false;
    vd_driver_ok(d);
    return true;
}

static int nonzero(const uint8_t *p, size_t n)
{
    int c = 0;
    for (size_t i = 0; i < n; i++)
        c += p[i] != 0;
    return c;
}

TEST(returns_random_data)
{
    VGuest g;
    VDev d;
    CHECK(rig(&g, &d));
    CHECK_EQ(d.device_len, 0);
    uint64_t a = vg_alloc(&g, 256, 8), b = vg_alloc(&g, 256, 8);
    VBuf ba = {a, 256, true}, bb = {b, 256, true};
    vq_add(&d, &d.q[0], &ba, 1, false);
    vq_add(&d, &d.q[0], &bb, 1, false);
    vd_kick(&d, &d.q[0]);
    uint32_t len = 0;
    CHECK(vq_get_used(&d, &d.q[0], NULL, &len));
    CHECK_EQ(len, 256);
    CHECK(vq_get_used(&d, &d.q[0], NULL, &len));
    CHECK_EQ(len, 256);
    /* 256 random bytes: essentially never more than a handful of zeros, never equal. */
    CHECK(nonzero(vg_ptr(&g, a), 256) > 200);
    CHECK(memcmp(vg_ptr(&g, a), vg_ptr(&g, b), 256) != 0);
    CHECK_EQ(vd_irq(&d), 1);
    CHECK_EQ(vd_isr(&d), VIRTIO_ISR_QUEUE);
    vg_free(&g);
}

TEST(scattered_and_indirect)
{
    VGuest g;
    VDev d;
    CHECK(rig(&g, &d));
    uint64_t a = vg_alloc(&g, 4096, 8);
    VBuf bufs[3] = {{a, 10, true}, {a + 100, 1000, true}, {a + 2000, 64, true}};
    for (int indirect = 0; indirect < 2; indirect++) {
        memset(vg_ptr(&g, a), 0, 4096);
        vq_add(&d, &d.q[0], bufs, 3, indirect);
        vd_kick(&d, &d.q[0]);
        uint32_t len = 0;
        CHECK(vq_get_used(&d, &d.q[0], NULL, &len));
        CHECK_EQ(len, 1074);
        CHECK(nonzero(vg_ptr(&g, a + 100), 1000) > 900);
        CHECK_EQ(nonzero(vg_ptr(&g, a + 10), 90), 0); /* gaps untouched */
    }
    /* A buffer the device may only read gets nothing written and length 0. */
    VBuf ro = {a, 64, false};
    vq_add(&d, &d.q[0], &ro, 1, false);
    vd_kick(&d, &d.q[0]);
    uint32_t len = 99;
    CHECK(vq_get_used(&d, &d.q[0], NULL, &len));
    CHECK_EQ(len, 0);
    vg_free(&g);
}
