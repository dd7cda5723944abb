/* Unit tests of the direct-boot loaders: multiboot v1 (ELF and a.out kludge, modules, the
 * information structure) and Linux bzImage (zero page, command line, initrd placement), built
 * from synthetic images in temporary files, plus their error reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot/boot.h"
#include "hw/pc/pc.h"
#include "test.h"

#define RAM_SIZE (64u << 20)

static uint8_t *ram;
static char tmpdir[64];

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void remove_tmpdir(void);

/* Write buf to a fresh file in the test directory; returns its path (static storage per name). */
static const char *write_file(const char *name, const void *buf, size_t len)
{
    static char paths[8][128];
    static int next;
    char *path = paths[next++ % 8];
    if (!tmpdir[0]) {
        strcpy(tmpdir, "/tmp/kestrel-boot-XXXXXX");
        if (!mkdtemp(tmpdir)) abort();
        atexit(remove_tmpdir);
    }
    snprintf(path, 128, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (len) fwrite(buf, 1, len, f);
    fclose(f);
    return path;
}

static void remove_tmpdir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "# could not remove %s\n", tmpdir);
}

static void fresh_ram(void)
{
    if (!ram) ram = malloc(RAM_SIZE);
    memset(ram, 0xaa, RAM_SIZE);
}

static bool open_image(BootImage *img, const char *kernel, const char *initrd, const char *append,
                       uint64_t ram_size, char *err)
{
    BootMemMap map;
    pc_memory_map(ram_size, &map);
    return boot_open(img, kernel, initrd, append, &map, err, 256);
}

/* ---- multiboot ---- */

static void mb_header(uint8_t *p, uint32_t flags)
{
    put32(p, 0x1badb002);
    put32(p + 4, flags);
    put32(p + 8, (uint32_t) - (0x1badb002u + flags));
}

/* An ELF32 kernel: text (with the multiboot header) at paddr 0x100000 / vaddr 0xc0100000,
 * data + bss at 0x104000. */
static size_t make_elf(uint8_t *f, uint32_t mb_flags)
{
    memset(f, 0, 0x3000);
    memcpy(f, "\177ELF", 4);
    f[4] = 1; /* ELFCLASS32 */
    f[5] = 1; /* little endian */
    f[6] = 1;
    put16(f + 16, 2); /* ET_EXEC */
    put16(f + 18, 3); /* EM_386 */
    put32(f + 20, 1);
    put32(f + 24, 0xc0100010); /* entry (virtual) */
    put32(f + 28, 52);         /* phoff */
    put16(f + 40, 52);
    put16(f + 42, 32); /* phentsize */
    put16(f + 44, 3);  /* phnum */
    uint8_t *ph = f + 52;
    /* PT_LOAD text: file 0x1000..0x1100 -> 0x100000 */
    put32(ph, 1);
    put32(ph + 4, 0x1000);
    put32(ph + 8, 0xc0100000);
    put32(ph + 12, 0x100000);
    put32(ph + 16, 0x100);
    put32(ph + 20, 0x100);
    /* PT_NOTE, ignored */
    put32(ph + 32, 4);
    /* PT_LOAD data: file 0x2000..0x2010 -> 0x104000, 0x1000 bytes in memory */
    ph += 64;
    put32(ph, 1);
    put32(ph + 4, 0x2000);
    put32(ph + 8, 0xc0104000);
    put32(ph + 12, 0x104000);
    put32(ph + 16, 0x10);
    put32(ph + 20, 0x1000);
    mb_header(f + 0x1000, mb_flags);
    memset(f + 0x1010, 0x90, 0xf0);
    memset(f + 0x2000, 0x55, 0x10);
    return 0x2010;
}

TEST(multiboot_elf_segments_and_entry)
{
    uint8_t f[0x3000];
    size_t n = make_elf(f, 0x3);
    const char *k = write_file("mb.elf", f, n);
    BootImage img;
    char err[256];
    CHECK(open_image(&img, k, NULL, "console=x y", RAM_SIZE, err));
    CHECK_EQ(img.kind, BOOT_MULTIBOOT);
    fresh_ram();
    BootEntry e;
    boot_load(&img, ram, &e);
    CHECK(!memcmp(ram + 0x100000, f + 0x1000, 0x100));
    CHECK_EQ(ram[0x104000], 0x55);
    CHECK_EQ(ram[0x10400f], 0x55);
    CHECK_EQ(ram[0x104010], 0); /* bss zeroed */
    CHECK_EQ(ram[0x104fff], 0);
    CHECK_EQ(ram[0x105000], 0xaa); /* nothing beyond */
    CHECK_EQ(e.eip, 0x100010);     /* virtual entry translated through the segment */
    CHECK_EQ(e.eax, 0x2badb002);
    CHECK_EQ(e.cs, 0x10);
    CHECK_EQ(e.ds, 0x18);
    CHECK_EQ(get64(ram + e.gdt_base + 0x10), 0x00cf9a000000ffffull);
    CHECK_EQ(get64(ram + e.gdt_base + 0x18), 0x00cf92000000ffffull);

    const uint8_t *mbi = ram + e.ebx;
    uint32_t flags = get32(mbi);
    CHECK_EQ(flags & 0x245, 0x245); /* memory, cmdline, mmap, loader name */
    CHECK_EQ(flags & 0x8, 0);       /* no modules */
    CHECK_EQ(get32(mbi + 4), 640);
    CHECK_EQ(get32(mbi + 8), (RAM_SIZE - 0x100000) / 1024);
    char want[256];
    snprintf(want, sizeof want, "%s console=x y", k);
    CHECK(!strcmp((const char *)ram + get32(mbi + 16), want));
    CHECK(!strcmp((const char *)ram + get32(mbi + 64), "kestrel"));

    /* The memory map: usable low and high RAM, the ACPI and BIOS areas, the high ROM. */
    uint32_t len = get32(mbi + 44), addr = get32(mbi + 48);
    BootMemMap map;
    pc_memory_map(RAM_SIZE, &map);
    CHECK_EQ(len, 24u * (uint32_t)map.ne820);
    int ram_entries = 0;
    for (uint32_t off = 0; off < len; off += get32(ram + addr + off) + 4) {
        const uint8_t *me = ram + addr + off;
        CHECK_EQ(get32(me), 20);
        int i = (int)(off / 24);
        CHECK_EQ(get64(me + 4), map.e820[i].addr);
        CHECK_EQ(get64(me + 12), map.e820[i].size);
        CHECK_EQ(get32(me + 20), map.e820[i].type);
        if (get32(me + 20) == 1) ram_entries++;
    }
    CHECK_EQ(ram_entries, 2);
    CHECK_EQ(map.e820[0].addr, 0);
    CHECK_EQ(map.e820[0].size, 0xa0000);
    CHECK_EQ(map.e820[3].addr, 0x100000);
    CHECK_EQ(map.e820[3].size, RAM_SIZE - 0x100000);
    boot_close(&img);
}

TEST(multiboot_modules)
{
    uint8_t f[0x3000];
    size_t n = make_elf(f, 0x1);
    const char *k = write_file("mbm.elf", f, n);
    uint8_t m1[5000], m2[3] = {1, 2, 3};
    memset(m1, 0x11, sizeof m1);
    const char *p1 = write_file("mod1", m1, sizeof m1);
    const char *p2 = write_file("mod,2", m2, sizeof m2);
    char list[512];
    /* "mod,2" needs its comma doubled; arguments follow the path after a space. */
    char p2esc[256];
    size_t j = 0;
    for (const char *s = p2; *s; s++) {
        if (*s == ',') p2esc[j++] = ',';
        p2esc[j++] = *s;
    }
    p2esc[j] = 0;
    snprintf(list, sizeof list, "%s arg1 arg2,%s", p1, p2esc);
    BootImage img;
    char err[256];
    CHECK(open_image(&img, k, list, NULL, RAM_SIZE, err));
    fresh_ram();
    BootEntry e;
    boot_load(&img, ram, &e);
    const uint8_t *mbi = ram + e.ebx;
    CHECK(get32(mbi) & 0x8);
    CHECK_EQ(get32(mbi + 20), 2);
    const uint8_t *mods = ram + get32(mbi + 24);
    uint32_t s1 = get32(mods), e1 = get32(mods + 4), s2 = get32(mods + 16), e2 = get32(mods + 20);
    CHECK_EQ(s1, 0x105000); /* first page after the kernel's bss */
    CHECK_EQ(e1 - s1, sizeof m1);
    CHECK_EQ(s2 & 0xfff, 0);
    CHECK(s2 >= e1);
    CHECK_EQ(e2 - s2, 3);
    CHECK(!memcmp(ram + s1, m1, sizeof m1));
    CHECK(!memcmp(ram + s2, m2, 3));
    char want[256];
    snprintf(want, sizeof want, "%s arg1 arg2", p1);
    CHECK(!strcmp((const char *)ram + get32(mods + 8), want));
    CHECK(!strcmp((const char *)ram + get32(mods + 24), p2));
    /* Without -append the command line is the kernel path alone. */
    CHECK(!strcmp((const char *)ram + get32(mbi + 16), k));
    boot_close(&img);
}

TEST(multiboot_aout_kludge)
{
    uint8_t f[0x200];
    memset(f, 0x90, sizeof f);
    /* 16 bytes of something, then the header at file offset 16 = address 0x200010. */
    mb_header(f + 16, 0x10003);
    put32(f + 28, 0x200010); /* header_addr */
    put32(f + 32, 0x200000); /* load_addr */
    put32(f + 36, 0);        /* load_end_addr: whole file */
    put32(f + 40, 0x203000); /* bss_end_addr */
    put32(f + 44, 0x200100); /* entry */
    const char *k = write_file("aout.bin", f, sizeof f);
    BootImage img;
    char err[256];
    CHECK(open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    fresh_ram();
    BootEntry e;
    boot_load(&img, ram, &e);
    CHECK(!memcmp(ram + 0x200000, f, sizeof f));
    CHECK_EQ(ram[0x200200], 0);
    CHECK_EQ(ram[0x202fff], 0);
    CHECK_EQ(ram[0x203000], 0xaa);
    CHECK_EQ(e.eip, 0x200100);
    boot_close(&img);

    /* load_end_addr limits what is copied; the rest up to bss_end is zero. */
    put32(f + 36, 0x200080);
    k = write_file("aout2.bin", f, sizeof f);
    CHECK(open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    fresh_ram();
    boot_load(&img, ram, &e);
    CHECK_EQ(ram[0x20007f], 0x90);
    CHECK_EQ(ram[0x200080], 0);
    boot_close(&img);
}

TEST(multiboot_errors)
{
    uint8_t f[0x3000];
    BootImage img;
    char err[256];

    size_t n = make_elf(f, 0x3 | 0x8); /* bit 3: a required feature nobody defined */
    const char *k = write_file("mbreq.elf", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "unsupported multiboot") != NULL);
    CHECK(strstr(err, k) != NULL);

    n = make_elf(f, 0x3);
    k = write_file("mbtrunc.elf", f, n - 8); /* data segment cut short */
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "truncated") != NULL);

    n = make_elf(f, 0x3);
    put32(f + 52 + 64 + 12, 0x3fff800); /* data segment past 64 MiB of RAM */
    k = write_file("mbhigh.elf", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "not in RAM") != NULL);
    CHECK(open_image(&img, k, NULL, NULL, 128u << 20, err));
    boot_close(&img);

    n = make_elf(f, 0x3);
    put32(f + 52 + 64 + 12, 0xb8000); /* the VGA hole */
    k = write_file("mbhole.elf", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));

    n = make_elf(f, 0x3);
    k = write_file("mbok.elf", f, n);
    CHECK(!open_image(&img, k, "/nonexistent/module.bin", NULL, RAM_SIZE, err));
    CHECK(strstr(err, "/nonexistent/module.bin") != NULL);

    /* A module bigger than the RAM left. */
    const char *big = write_file("big.bin", "", 0);
    CHECK(truncate(big, 70u << 20) == 0);
    CHECK(!open_image(&img, k, big, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "does not fit") != NULL);
    unlink(big);

    /* The header must start within the first 8 KiB. */
    uint8_t late[0x2100];
    memset(late, 0, sizeof late);
    mb_header(late + 0x2000, 0x10000);
    k = write_file("late.bin", late, sizeof late);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "neither a multiboot kernel nor a Linux bzImage") != NULL);

    CHECK(!open_image(&img, "/nonexistent/kernel", NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "cannot open kernel '/nonexistent/kernel'") != NULL);
}

/* ---- Linux bzImage ---- */

#define BZ_SETUP_SECTS 2
#define BZ_SETUP_SIZE  ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PROT_SIZE   0x3000

static size_t make_bzimage(uint8_t *f, uint16_t version, uint32_t init_size)
{
    memset(f, 0, BZ_SETUP_SIZE + BZ_PROT_SIZE);
    f[0x1f1] = BZ_SETUP_SECTS;
    put32(f + 0x1f4, BZ_PROT_SIZE / 16); /* syssize */
    put16(f + 0x1fe, 0xaa55);
    f[0x200] = 0xeb;
    f[0x201] = 0x6a; /* header ends at 0x26c */
    memcpy(f + 0x202, "HdrS", 4);
    put16(f + 0x206, version);
    f[0x211] = 0x01;              /* LOADED_HIGH */
    put32(f + 0x214, 0x100000);   /* code32_start */
    put32(f + 0x22c, 0x37ffffff); /* initrd_addr_max */
    put32(f + 0x230, 0x1000000);  /* kernel_alignment */
    put32(f + 0x238, 2047);       /* cmdline_size */
    put32(f + 0x258, 0x1000000);  /* pref_address */
    put32(f + 0x260, init_size);
    f[0x26b] = 0x77; /* last header byte: copied */
    f[0x26c] = 0x99; /* setup code: not copied */
    for (int i = 0; i < BZ_PROT_SIZE; i++)
        f[BZ_SETUP_SIZE + i] = (uint8_t)(i * 7 + 1);
    return BZ_SETUP_SIZE + BZ_PROT_SIZE;
}

TEST(linux_bzimage_zero_page)
{
    static uint8_t f[BZ_SETUP_SIZE + BZ_PROT_SIZE];
    size_t n = make_bzimage(f, 0x20f, 0x800000);
    const char *k = write_file("bzImage", f, n);
    uint8_t rd[10000];
    for (size_t i = 0; i < sizeof rd; i++)
        rd[i] = (uint8_t)(i ^ 0x5a);
    const char *r = write_file("initrd.img", rd, sizeof rd);
    BootImage img;
    char err[256];
    CHECK(open_image(&img, k, r, "console=ttyS0 quiet", RAM_SIZE, err));
    CHECK_EQ(img.kind, BOOT_LINUX);
    fresh_ram();
    BootEntry e;
    boot_load(&img, ram, &e);
    CHECK(!memcmp(ram + 0x100000, f + BZ_SETUP_SIZE, BZ_PROT_SIZE));
    CHECK_EQ(e.eip, 0x100000);
    CHECK_EQ(e.esi, 0x10000);
    CHECK_EQ(e.eax, 0);
    CHECK_EQ(e.ebx, 0);
    CHECK_EQ(e.cs, 0x10);
    CHECK_EQ(e.ds, 0x18);

    const uint8_t *bp = ram + e.esi;
    CHECK_EQ(bp[0x1f1], BZ_SETUP_SECTS);
    CHECK_EQ(get32(bp + 0x202), 0x53726448);
    CHECK_EQ(bp[0x26b], 0x77);
    CHECK_EQ(bp[0x26c], 0);
    CHECK_EQ(bp[0x210], 0xff); /* type_of_loader */
    CHECK_EQ(bp[0x211], 0x81); /* LOADED_HIGH | CAN_USE_HEAP */
    CHECK_EQ(get32(bp + 0x214), 0x100000);
    CHECK(!strcmp((const char *)ram + get32(bp + 0x228), "console=ttyS0 quiet"));
    uint32_t rd_addr = get32(bp + 0x218);
    CHECK_EQ(get32(bp + 0x21c), sizeof rd);
    CHECK_EQ(rd_addr & 0xfff, 0);
    CHECK(rd_addr + sizeof rd <= RAM_SIZE);
    CHECK(rd_addr + sizeof rd > RAM_SIZE - 0x1000); /* as high as it goes */
    CHECK(!memcmp(ram + rd_addr, rd, sizeof rd));
    /* screen_info: 80x25 colour VGA text. */
    CHECK_EQ(bp[0x06], 3);
    CHECK_EQ(bp[0x07], 80);
    CHECK_EQ(bp[0x0e], 25);
    CHECK_EQ(bp[0x0f], 1);
    CHECK_EQ(bp[0x10], 16);
    /* e820 */
    BootMemMap map;
    pc_memory_map(RAM_SIZE, &map);
    CHECK_EQ(bp[0x1e8], map.ne820);
    for (int i = 0; i < map.ne820; i++) {
        CHECK_EQ(get64(bp + 0x2d0 + 20 * i), map.e820[i].addr);
        CHECK_EQ(get64(bp + 0x2d8 + 20 * i), map.e820[i].size);
        CHECK_EQ(get32(bp + 0x2e0 + 20 * i), map.e820[i].type);
    }
    CHECK_EQ(get32(bp + 0x1e0), (RAM_SIZE - 0x100000) / 1024);
    boot_close(&img);
}

TEST(linux_initrd_addr_max)
{
    static uint8_t f[BZ_SETUP_SIZE + BZ_PROT_SIZE];
    size_t n = make_bzimage(f, 0x20f, 0x800000);
    put32(f + 0x22c, 0x1ffffff); /* initrd below 32 MiB */
    const char *k = write_file("bzImage2", f, n);
    const char *r = write_file("initrd2.img", "abcdef", 6);
    BootImage img;
    char err[256];
    CHECK(open_image(&img, k, r, NULL, RAM_SIZE, err));
    fresh_ram();
    BootEntry e;
    boot_load(&img, ram, &e);
    const uint8_t *bp = ram + e.esi;
    CHECK_EQ(get32(bp + 0x218), 0x1fff000);
    CHECK(!strcmp((const char *)ram + get32(bp + 0x228), ""));
    boot_close(&img);
}

TEST(linux_errors)
{
    static uint8_t f[BZ_SETUP_SIZE + BZ_PROT_SIZE];
    BootImage img;
    char err[256];

    size_t n = make_bzimage(f, 0x201, 0);
    const char *k = write_file("old", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "too old") != NULL);

    n = make_bzimage(f, 0x20f, 0x800000);
    f[0x211] = 0;
    k = write_file("zimage", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "zImage") != NULL);

    n = make_bzimage(f, 0x20f, 0x800000);
    k = write_file("trunc", f, n - 100);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "truncated") != NULL);

    /* The decompressor needs pref_address + init_size = 16 + 60 MiB. */
    n = make_bzimage(f, 0x20f, 60u << 20);
    k = write_file("huge", f, n);
    CHECK(!open_image(&img, k, NULL, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "needs 76 MiB") != NULL);

    n = make_bzimage(f, 0x20f, 0x800000);
    put32(f + 0x238, 10);
    k = write_file("shortcmd", f, n);
    CHECK(!open_image(&img, k, NULL, "0123456789A", RAM_SIZE, err));
    CHECK(strstr(err, "at most 10 bytes") != NULL);
    CHECK(open_image(&img, k, NULL, "0123456789", RAM_SIZE, err));
    boot_close(&img);

    /* An initrd that only fits where the kernel decompresses. */
    n = make_bzimage(f, 0x20f, 40u << 20);
    k = write_file("bz40", f, n);
    const char *big = write_file("bigrd", "", 0);
    CHECK(truncate(big, 10u << 20) == 0);
    CHECK(!open_image(&img, k, big, NULL, RAM_SIZE, err));
    CHECK(strstr(err, "initrd") != NULL && strstr(err, big) != NULL);
    CHECK(open_image(&img, k, big, NULL, 128u << 20, err));
    boot_close(&img);
    unlink(big);

    CHECK(!open_image(&img, k, "/nonexistent/initrd", NULL, RAM_SIZE, err));
    CHECK(strstr(err, "cannot open initrd '/nonexistent/initrd'") != NULL);
}
