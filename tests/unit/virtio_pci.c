/* Virtio PCI transport as a guest driver sees it: identification, the capability list walked
 * through configuration-space reads, the common configuration (features, FEATURES_OK, queue
 * setup, MSI-X vectors absent), ISR read-to-clear driving INTx, the configuration access
 * capability, BAR moves, and resets. */
#include "test.h"

#include "hw/virtio/virtio_console.h"
#include "hw/virtio/virtio_rng.h"
#include "virtio_guest.h"

enum { BAR_A = 0xe0000000u, BAR_B = 0xe1004000u };

TEST(identification)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 3, &g.mem, err, sizeof err) != NULL);
    CHECK(virtio_console_new(g.bus, 4, &g.mem, NULL, err, sizeof err) != NULL);
    /* A taken slot is a one-line error. */
    CHECK(virtio_rng_new(g.bus, 3, &g.mem, err, sizeof err) == NULL);
    CHECK(strstr(err, "slot 3") != NULL);
    int rng = PCI_DEVFN(3, 0), con = PCI_DEVFN(4, 0);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_VENDOR_ID, 2), 0x1af4);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_DEVICE_ID, 2), 0x1044);
    CHECK_EQ(vg_cfg_read(&g, con, PCI_DEVICE_ID, 2), 0x1043);
    CHECK(vg_cfg_read(&g, rng, PCI_REVISION_ID, 1) >= 1);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_SUBSYSTEM_VENDOR_ID, 2), 0x1af4);
    CHECK(vg_cfg_read(&g, rng, PCI_SUBSYSTEM_ID, 2) >= 0x40);
    CHECK_EQ(vg_cfg_read(&g, con, PCI_CLASS_DEVICE, 2), 0x0780);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR 4 is a 32-bit memory BAR of 16 KiB. */
    vg_cfg_write(&g, rng, PCI_BASE_ADDRESS_0 + 16, 0xffffffffu, 4);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_BASE_ADDRESS_0 + 16, 4), 0xffffc000u);
    /* No legacy I/O BAR. */
    vg_cfg_write(&g, rng, PCI_BASE_ADDRESS_0, 0xffffffffu, 4);
    CHECK_EQ(vg_cfg_read(&g, rng, PCI_BASE_ADDRESS_0, 4), 0);
    vg_free(&g);
}

TEST(capability_list)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_console_new(g.bus, 4, &g.mem, NULL, err, sizeof err) != NULL);
    int devfn = PCI_DEVFN(4, 0);
    CHECK(vg_cfg_read(&g, devfn, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    unsigned off = vg_cfg_read(&g, devfn, PCI_CAPABILITY_LIST, 1);
    int seen[6] = {0}, count = 0;
    while (off && count < 16) {
        CHECK(off >= 0x40 && off % 4 == 0);
        CHECK_EQ(vg_cfg_read(&g, devfn, off, 1), PCI_CAP_ID_VNDR);
        unsigned len = vg_cfg_read(&g, devfn, off + 2, 1);
        unsigned type = vg_cfg_read(&g, devfn, off + 3, 1);
        unsigned bar = vg_cfg_read(&g, devfn, off + 4, 1);
        uint32_t o = vg_cfg_read(&g, devfn, off + 8, 4);
        uint32_t l = vg_cfg_read(&g, devfn, off + 12, 4);
        CHECK(type >= 1 && type <= 5);
        if (type >= 1 && type <= 5) seen[type]++;
        switch (type) {
        case VIRTIO_PCI_CAP_COMMON_CFG:
            CHECK_EQ(len, 16);
            CHECK_EQ(bar, 4);
            CHECK(l >= 0x38);
            CHECK(o + l <= VIRTIO_PCI_BAR_SIZE);
            break;
        case VIRTIO_PCI_CAP_NOTIFY_CFG:
            CHECK_EQ(len, 20);
            CHECK_EQ(bar, 4);
            CHECK_EQ(vg_cfg_read(&g, devfn, off + 16, 4), 4); /* notify_off_multiplier */
            CHECK(l >= 2 * 4);                                /* two queues */
            break;
        case VIRTIO_PCI_CAP_ISR_CFG:
            CHECK_EQ(bar, 4);
            CHECK(l >= 1);
            break;
        case VIRTIO_PCI_CAP_DEVICE_CFG:
            CHECK_EQ(bar, 4);
            CHECK_EQ(l, 12); /* struct virtio_console_config */
            break;
        case VIRTIO_PCI_CAP_PCI_CFG: CHECK_EQ(len, 20); break;
        }
        /* Capabilities are read-only except the access window. */
        if (type != VIRTIO_PCI_CAP_PCI_CFG) {
            vg_cfg_write(&g, devfn, off + 8, 0x12345678, 4);
            CHECK_EQ(vg_cfg_read(&g, devfn, off + 8, 4), o);
        }
        off = vg_cfg_read(&g, devfn, off + 1, 1);
        count++;
    }
    CHECK_EQ(count, 5);
    for (int t = 1; t <= 5; t++)
        CHECK_EQ(seen[t], 1);
    /* virtio-rng has no configuration, so no device capability. */
    CHECK(virtio_rng_new(g.bus, 5, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 5, BAR_A));
    CHECK_EQ(d.cap_off[VIRTIO_PCI_CAP_DEVICE_CFG], 0);
    vg_free(&g);
}

TEST(common_config)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_console_new(g.bus, 4, &g.mem, NULL, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 4, BAR_A));
    uint64_t f = vd_device_features(&d);
    CHECK(f >> VIRTIO_F_VERSION_1 & 1);
    CHECK(f >> VIRTIO_F_RING_INDIRECT_DESC & 1);
    CHECK(f >> VIRTIO_F_RING_EVENT_IDX & 1);
    /* Selecting a feature word that does not exist reads 0. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_DF, 4), 0);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_MSIX, 2), 0xffff);
    /* A legacy-only driver (no VERSION_1) is refused. */
    CHECK(!vd_init(&d, f & ~VIRTIO_FEATURE(VIRTIO_F_VERSION_1)));
    CHECK(vd_init(&d, ~0ull));
    CHECK_EQ(d.features, f);
    /* Driver features read back. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_GF, 4), (uint32_t)(f >> 32));
    /* Queues: sizes, an invalid select reads size 0, MSI-X vector writes do not stick. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 2, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 0);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 128);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_NOFF, 2), 1);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_MSIX, 0, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_MSIX, 2), 0xffff);
    CHECK(vd_setup_queue(&d, 0, 64));
    CHECK(vd_setup_queue(&d, 1, 0));
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_DESC, 4), (uint32_t)d.q[0].desc);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_USED, 4), (uint32_t)d.q[0].used);
    /* Queue addresses are frozen while enabled. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_DESC, 0x1230, 4);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_DESC, 4), (uint32_t)d.q[0].desc);
    vd_driver_ok(&d);
    CHECK_EQ(vd_status(&d), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
                                VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    /* Reset: status 0 reads back 0, queues disabled. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_STATUS, 0, 1);
    CHECK_EQ(vd_status(&d), 0);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_SIZE, 2), 128);
    vg_free(&g);
}

TEST(isr_and_intx)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK(vd_init(&d, ~0ull & ~VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)));
    CHECK(vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    uint64_t buf = vg_alloc(&g, 64, 8);
    VBuf b = {buf, 64, true};
    vq_add(&d, &d.q[0], &b, 1, false);
    CHECK_EQ(vd_irq(&d), 0);
    vd_kick(&d, &d.q[0]);
    CHECK(vq_get_used(&d, &d.q[0], NULL, NULL));
    CHECK_EQ(vd_irq(&d), 1);
    CHECK(vg_cfg_read(&g, d.devfn, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT);
    /* INTx disable masks the line but not the status bit. */
    vg_cfg_write(&g, d.devfn, PCI_COMMAND,
                 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
    CHECK_EQ(vd_irq(&d), 0);
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    CHECK_EQ(vd_irq(&d), 1);
    CHECK_EQ(vd_isr(&d), VIRTIO_ISR_QUEUE);
    CHECK_EQ(vd_irq(&d), 0);
    CHECK_EQ(vd_isr(&d), 0);
    /* The ISR is read-only. */
    as_write(&g.mem, d.isr, 0xff, 1);
    CHECK_EQ(vd_isr(&d), 0);
    /* With the driver's NO_INTERRUPT flag there is no interrupt. */
    virtio_stw(vg_ptr(&g, d.q[0].avail), VIRTQ_AVAIL_F_NO_INTERRUPT);
    vq_add(&d, &d.q[0], &b, 1, false);
    vd_kick(&d, &d.q[0]);
    CHECK(vq_get_used(&d, &d.q[0], NULL, NULL));
    CHECK_EQ(vd_irq(&d), 0);
    vg_free(&g);
}

TEST(device_error_raises_config_interrupt)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK(vd_init(&d, ~0ull));
    CHECK(vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    uint8_t gen = (uint8_t)vd_common_read(&d, VIRTIO_PCI_COMMON_CFGGENERATION, 1);
    VBuf b = {0xfff00000u, 64, true}; /* not RAM */
    vq_add(&d, &d.q[0], &b, 1, false);
    vd_kick(&d, &d.q[0]);
    CHECK(!vq_get_used(&d, &d.q[0], NULL, NULL));
    CHECK(vd_status(&d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    CHECK_EQ(vd_irq(&d), 1);
    CHECK_EQ(vd_isr(&d), VIRTIO_ISR_CONFIG);
    CHECK(vd_common_read(&d, VIRTIO_PCI_COMMON_CFGGENERATION, 1) != gen);
    /* The driver resets and starts over. */
    CHECK(vd_init(&d, ~0ull));
    CHECK(vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    CHECK_EQ(vd_status(&d) & VIRTIO_STATUS_DEVICE_NEEDS_RESET, 0);
    VBuf ok = {vg_alloc(&g, 16, 8), 16, true};
    vq_add(&d, &d.q[0], &ok, 1, false);
    vd_kick(&d, &d.q[0]);
    CHECK(vq_get_used(&d, &d.q[0], NULL, NULL));
    vg_free(&g);
}

TEST(bar_moves)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 1);
    /* Decoding off: nothing there. */
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, 0, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    CHECK(vd_init(&d, ~0ull));
    /* Move the BAR while the driver is mid-setup; the device follows. */
    vg_cfg_write(&g, d.devfn, PCI_BASE_ADDRESS_0 + 16, BAR_B, 4);
    CHECK_EQ(as_read(&g.mem, BAR_A + VIRTIO_PCI_COMMON_NUMQ, 2), 0xffff);
    VDev moved = d;
    CHECK(vd_probe(&moved, &g, 6, BAR_B)); /* re-reads the capabilities */
    moved.features = d.features;
    CHECK_EQ(vd_status(&moved) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
    CHECK(vd_setup_queue(&moved, 0, 0));
    vd_driver_ok(&moved);
    VBuf b = {vg_alloc(&g, 32, 8), 32, true};
    vq_add(&moved, &moved.q[0], &b, 1, false);
    vd_kick(&moved, &moved.q[0]);
    uint32_t len = 0;
    CHECK(vq_get_used(&moved, &moved.q[0], NULL, &len));
    CHECK_EQ(len, 32);
    vg_free(&g);
}

TEST(bus_master_off_blocks_dma)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK(vd_init(&d, ~0ull));
    CHECK(vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    uint64_t a = vg_alloc(&g, 32, 8);
    VBuf b = {a, 32, true};
    vq_add(&d, &d.q[0], &b, 1, false);
    vd_kick(&d, &d.q[0]);
    CHECK(!vq_get_used(&d, &d.q[0], NULL, NULL));
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    vd_kick(&d, &d.q[0]);
    CHECK(vq_get_used(&d, &d.q[0], NULL, NULL));
    vg_free(&g);
}

TEST(pci_cfg_access_window)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_console_new(g.bus, 4, &g.mem, NULL, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 4, BAR_A));
    unsigned cap = d.cap_off[VIRTIO_PCI_CAP_PCI_CFG];
    CHECK(cap != 0);
    /* Read num_queues (2 bytes at 0x12 of the common structure) through config space. */
    vg_cfg_write(&g, d.devfn, cap + 4, VIRTIO_PCI_BAR, 1);
    vg_cfg_write(&g, d.devfn, cap + 8, VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_NUMQ, 4);
    vg_cfg_write(&g, d.devfn, cap + 12, 2, 4);
    CHECK_EQ(vg_cfg_read(&g, d.devfn, cap + 16, 4) & 0xffff, 2);
    /* Write the status register through it. */
    vg_cfg_write(&g, d.devfn, cap + 8, VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, 4);
    vg_cfg_write(&g, d.devfn, cap + 12, 1, 4);
    vg_cfg_write(&g, d.devfn, cap + 16, VIRTIO_STATUS_ACKNOWLEDGE, 4);
    CHECK_EQ(vd_status(&d), VIRTIO_STATUS_ACKNOWLEDGE);
    /* Works with the memory BAR disabled too (that is what it is for). */
    vg_cfg_write(&g, d.devfn, PCI_COMMAND, 0, 2);
    CHECK_EQ(vg_cfg_read(&g, d.devfn, cap + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE);
    /* A bogus window (wrong BAR, odd length, misaligned) does nothing. */
    vg_cfg_write(&g, d.devfn, cap + 4, 0, 1);
    vg_cfg_write(&g, d.devfn, cap + 16, 0, 4);
    vg_cfg_write(&g, d.devfn, cap + 4, VIRTIO_PCI_BAR, 1);
    vg_cfg_write(&g, d.devfn, cap + 12, 3, 4);
    vg_cfg_write(&g, d.devfn, cap + 16, 0, 4);
    vg_cfg_write(&g, d.devfn, cap + 12, 2, 4);
    vg_cfg_write(&g, d.devfn, cap + 8, VIRTIO_PCI_COMMON_OFF + 0x13, 4);
    vg_cfg_write(&g, d.devfn, cap + 16, 0, 4);
    vg_cfg_write(&g, d.devfn, cap + 8, 0xffffff00u, 4);
    vg_cfg_write(&g, d.devfn, cap + 16, 0, 4);
    vg_cfg_write(&g, d.devfn, cap + 12, 1, 4);
    vg_cfg_write(&g, d.devfn, cap + 8, VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS, 4);
    CHECK_EQ(vg_cfg_read(&g, d.devfn, cap + 16, 1), VIRTIO_STATUS_ACKNOWLEDGE);
    vg_free(&g);
}

TEST(bus_reset_resets_device)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK(vd_init(&d, ~0ull));
    CHECK(vd_setup_queue(&d, 0, 0));
    vd_driver_ok(&d);
    device_reset_all(&(DeviceList){pci_bus_device(g.bus)});
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    CHECK_EQ(vd_status(&d), 0);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
    vg_free(&g);
}

TEST(odd_sized_accesses)
{
    VGuest g;
    vg_init(&g);
    char err[128];
    CHECK(virtio_rng_new(g.bus, 6, &g.mem, err, sizeof err) != NULL);
    VDev d;
    CHECK(vd_probe(&d, &g, 6, BAR_A));
    /* A 4-byte read spanning num_queues and device_status/config_generation. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE, 1);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_NUMQ, 4), 1 | VIRTIO_STATUS_ACKNOWLEDGE << 16);
    /* Byte writes into a 64-bit queue address. */
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_DESC + 1, 0x12, 1);
    vd_common_write(&d, VIRTIO_PCI_COMMON_Q_DESC + 5, 0x34, 1);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_DESC, 4), 0x1200);
    CHECK_EQ(vd_common_read(&d, VIRTIO_PCI_COMMON_Q_DESC + 4, 4), 0x3400);
    /* Beyond the structure, the device area of a config-less device, the notify area. */
    CHECK_EQ(as_read(&g.mem, d.common + 0x100, 4), 0);
    CHECK_EQ(as_read(&g.mem, BAR_A + VIRTIO_PCI_DEVICE_OFF, 4), 0);
    CHECK_EQ(as_read(&g.mem, d.notify, 2), 0);
    as_write(&g.mem, d.notify + 0x400, 0, 2); /* doorbell of a queue that does not exist */
    as_write(&g.mem, BAR_A + VIRTIO_PCI_DEVICE_OFF, 0x55, 4);
    vg_free(&g);
}
