/* virtio-console with one port: guest output reaches the character back end, input flows to
 * the guest only as far as it has receive buffers (flow control through fe_can_read and
 * accept_input), emergency writes, and buffers queued before DRIVER_OK. */
#include "test.h"

#include "chardev/chardev.h"
#include "hw/virtio/virtio_console.h"
#include "virtio_guest.h"

enum { SLOT = 8, BAR = 0xfd000000u, RXQ = 0, TXQ = 1, F_EMERG_WRITE = 2 };

/* A back end that records output and holds input until the front end can take it. */
typedef struct FakeChr {
    Chardev chr;
    uint8_t out[256];
    size_t out_len;
    uint8_t in[256];
    size_t in_len;
    int accepts;
} FakeChr;

static void fake_write(Chardev *c, const uint8_t *buf, size_t len)
{
    FakeChr *f = (FakeChr *)c;
    memcpy(f->out + f->out_len, buf, len);
    f->out_len += len;
}

static void fake_deliver(FakeChr *f)
{
    while (f->in_len && f->chr.fe_can_read) {
        size_t n = f->chr.fe_can_read(f->chr.fe_opaque);
        if (n == 0) break;
        if (n > f->in_len) n = f->in_len;
        uint8_t tmp[256];
        memcpy(tmp, f->in, n);
        memmove(f->in, f->in + n, f->in_len - n);
        f->in_len -= n;
        f->chr.fe_read(f->chr.fe_opaque, tmp, n);
    }
}

static void fake_accept(Chardev *c)
{
    FakeChr *f = (FakeChr *)c;
    f->accepts++;
    fake_deliver(f);
}

static void type_in(FakeChr *f, const char *s)
{
    memcpy(f->in + f->in_len, s, strlen(s));
    f->in_len += strlen(s);
    fake_deliver(f);
}

static bool rig(VGuest *g, VDev *d, FakeChr *f, bool ready)
{
    memset(f, 0, sizeof *f);
    f->chr.name = "fake";
    f->chr.write = fake_write;
    f->chr.accept_input = fake_accept;
    vg_init(g);
    char err[128];
    if (!virtio_console_new(g->bus, SLOT, &g->mem, &f->chr, err, sizeof err)) return false;
    if (!vd_probe(d, g, SLOT, BAR) || !vd_init(d, ~0ull) || !vd_setup_queue(d, RXQ, 0) ||
        !vd_setup_queue(d, TXQ, 0))
        return false;
    if (ready) vd_driver_ok(d);
    return true;
}

TEST(output)
{
    VGuest g;
    VDev d;
    FakeChr f;
    CHECK(rig(&g, &d, &f, true));
    uint64_t a = vg_alloc(&g, 64, 1);
    memcpy(vg_ptr(&g, a), "hello, world\n", 13);
    VBuf b[2] = {{a, 7, false}, {a + 7, 6, false}};
    vq_add(&d, &d.q[TXQ], b, 2, false);
    vd_kick(&d, &d.q[TXQ]);
    CHECK(vq_get_used(&d, &d.q[TXQ], NULL, NULL));
    CHECK_EQ(f.out_len, 13);
    CHECK(!memcmp(f.out, "hello, world\n", 13));
    /* Configuration: one port; emergency write prints a character. */
    CHECK_EQ(vd_config_read(&d, 4, 4), 1);
    CHECK(d.features >> F_EMERG_WRITE & 1);
    as_write(&g.mem, d.device + 8, '!', 4);
    CHECK_EQ(f.out_len, 14);
    CHECK_EQ(f.out[13], '!');
    vg_free(&g);
}

TEST(input_flow_control)
{
    VGuest g;
    VDev d;
    FakeChr f;
    CHECK(rig(&g, &d, &f, true));
    /* No buffers: input waits in the back end. */
    type_in(&f, "abcdefgh");
    CHECK_EQ(f.in_len, 8);
    uint64_t a = vg_alloc(&g, 3, 1), b = vg_alloc(&g, 64, 1);
    VBuf ba = {a, 3, true}, bb = {b, 64, true};
    vq_add(&d, &d.q[RXQ], &ba, 1, false);
    vq_add(&d, &d.q[RXQ], &bb, 1, false);
    int accepts = f.accepts;
    vd_kick(&d, &d.q[RXQ]);
    CHECK(f.accepts > accepts);
    CHECK_EQ(f.in_len, 0);
    uint32_t len = 0;
    CHECK(vq_get_used(&d, &d.q[RXQ], NULL, &len));
    CHECK_EQ(len, 3);
    CHECK(!memcmp(vg_ptr(&g, a), "abc", 3));
    CHECK(vq_get_used(&d, &d.q[RXQ], NULL, &len));
    CHECK_EQ(len, 5);
    CHECK(!memcmp(vg_ptr(&g, b), "defgh", 5));
    CHECK_EQ(vd_irq(&d), 1);
    /* Out of buffers again. */
    type_in(&f, "more");
    CHECK_EQ(f.in_len, 4);
    vg_free(&g);
}

TEST(buffers_before_driver_ok)
{
    VGuest g;
    VDev d;
    FakeChr f;
    CHECK(rig(&g, &d, &f, false));
    uint64_t a = vg_alloc(&g, 16, 1);
    VBuf ba = {a, 16, true};
    vq_add(&d, &d.q[RXQ], &ba, 1, false);
    vd_kick(&d, &d.q[RXQ]);
    type_in(&f, "early");
    CHECK_EQ(f.in_len, 5); /* nothing moves before DRIVER_OK */
    vd_driver_ok(&d);
    CHECK_EQ(f.in_len, 0);
    uint32_t len = 0;
    CHECK(vq_get_used(&d, &d.q[RXQ], NULL, &len));
    CHECK_EQ(len, 5);
    /* Reset drops a buffer the device was holding. */
    VBuf bb = {a, 16, true};
    vq_add(&d, &d.q[RXQ], &bb, 1, false);
    CHECK(f.chr.fe_can_read(f.chr.fe_opaque) == 16);
    vd_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    CHECK_EQ(f.chr.fe_can_read(f.chr.fe_opaque), 0);
    vg_free(&g);
}

TEST(no_chardev)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_console_new(g.bus, SLOT, &g.mem, NULL, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, SLOT, BAR) && vd_init(&d, ~0ull) && vd_setup_queue(&d, RXQ, 0) &&
          vd_setup_queue(&d, TXQ, 0));
    vd_driver_ok(&d);
    uint64_t a = vg_alloc(&g, 16, 1);
    VBuf b = {a, 16, false};
    vq_add(&d, &d.q[TXQ], &b, 1, false);
    vd_kick(&d, &d.q[TXQ]);
    CHECK(vq_get_used(&d, &d.q[TXQ], NULL, NULL));
    VBuf r = {a, 16, true};
    vq_add(&d, &d.q[RXQ], &r, 1, false);
    vd_kick(&d, &d.q[RXQ]);
    CHECK(!vq_get_used(&d, &d.q[RXQ], NULL, NULL));
    vg_free(&g);
}
