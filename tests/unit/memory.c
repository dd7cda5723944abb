/* Address space: flat view, priorities, MMIO size splitting, unassigned reads. */
#include "test.h"

#include "core/memory.h"

static uint32_t last_off, last_size, last_val;
static uint32_t dev_read(void *o, uint64_t off, unsigned size)
{
    last_off = off, last_size = size;
    return 0x11223344u >> (8 * (off & 3));
}
static void dev_write(void *o, uint64_t off, uint32_t v, unsigned size)
{
    last_off = off, last_size = size, last_val = v;
}
static const MemOps ops4 = {dev_read, dev_write, 4, 4};
static const MemOps ops1 = {dev_read, dev_write, 1, 1};

TEST(ram_and_unassigned)
{
    AddressSpace as;
    uint8_t ram[4096] = {0};
    as_init(&as, "mem", 1ull << 32);
    as_add_ram(&as, "ram", 0x1000, sizeof ram, ram);
    as_write(&as, 0x1ffe, 0xa1b2c3d4, 4); /* straddles the end: last two bytes dropped */
    CHECK_EQ(ram[4094], 0xd4);
    CHECK_EQ(ram[4095], 0xc3);
    CHECK_EQ(as_read(&as, 0x1ffe, 4), 0xffffc3d4);
    CHECK_EQ(as_read(&as, 0x5000, 2), 0xffff);
    CHECK(as_ram_ptr(&as, 0x1000, 4096, true) == ram);
    CHECK(as_ram_ptr(&as, 0x1001, 4096, true) == NULL);
    CHECK(as_ram_ptr(&as, 0xffffffffffffff00ull, 0x200, false) == NULL);
    as_destroy(&as);
}

TEST(priority_and_move)
{
    AddressSpace as;
    uint8_t ram[0x4000] = {0};
    as_init(&as, "mem", 1ull << 32);
    as_add_ram(&as, "ram", 0, sizeof ram, ram);
    MemRegion *dev = as_add_mmio(&as, "dev", 0x1000, 0x100, &ops4, NULL);
    as_set_priority(&as, dev, 1);
    uint32_t gen = as.generation;
    CHECK_EQ(as_read(&as, 0x1000, 4), 0x11223344);
    CHECK_EQ(as_read(&as, 0x1100, 1), 0);
    as_move(&as, dev, 0x3000);
    CHECK(as.generation != gen);
    CHECK_EQ(as_read(&as, 0x1000, 4), 0);
    CHECK_EQ(as_read(&as, 0x3000, 4), 0x11223344);
    as_destroy(&as);
}

TEST(mmio_size_adaptation)
{
    AddressSpace as;
    as_init(&as, "io", 0x10000);
    as_add_mmio(&as, "four", 0x100, 8, &ops4, NULL);
    as_add_mmio(&as, "one", 0x200, 8, &ops1, NULL);
    /* Narrow read from a 4-byte-only device: widened and shifted. */
    CHECK_EQ(as_read(&as, 0x102, 1), 0x22);
    CHECK_EQ(last_size, 4);
    /* Wide read from a byte device: split into bytes, little-endian. */
    CHECK_EQ(as_read(&as, 0x200, 2), 0x3344 & 0xff44);
    as_write(&as, 0x201, 0xabcd, 2);
    CHECK_EQ(last_off, 2);
    CHECK_EQ(last_val, 0xab);
    as_destroy(&as);
}
