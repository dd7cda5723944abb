/* Multiboot v1 loader (Multiboot Specification 0.6.96): header search in the first 8 KiB, ELF32
 * PT_LOAD segments or the a.out kludge (flags bit 16), modules, and the information structure
 * with memory sizes, memory map, command line and boot loader name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "util/alloc.h"

#define MB_MAGIC          0x1badb002u
#define MB_BOOT_MAGIC     0x2badb002u
#define MB_SEARCH         8192
#define MB_PAGE_ALIGN     (1u << 0)
#define MB_MEMORY_INFO    (1u << 1)
#define MB_VIDEO_MODE     (1u << 2)
#define MB_AOUT_KLUDGE    (1u << 16)
#define MB_KNOWN_REQUIRED (MB_PAGE_ALIGN | MB_MEMORY_INFO | MB_VIDEO_MODE)

/* Information structure flags. */
#define MBI_MEMORY      (1u << 0)
#define MBI_CMDLINE     (1u << 2)
#define MBI_MODS        (1u << 3)
#define MBI_MMAP        (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MBI_SIZE        0x74 /* up to and including the framebuffer fields */

#define MB_LOADER_NAME "kestrel"
#define MB_MAX_SEGS    64

#define PAGE_UP(x) (((x) + 0xfffull) & ~0xfffull)

/* ELF32 (System V ABI, Intel386 supplement). */
#define EI_CLASS    4
#define EI_DATA     5
#define ELFCLASS32  1
#define ELFDATA2LSB 1
#define EM_386      3
#define PT_LOAD     1

/* Offset of a valid multiboot header in the first 8 KiB, or -1. */
static long find_header(const uint8_t *data, size_t size)
{
    size_t limit = size < MB_SEARCH ? size : MB_SEARCH;
    for (size_t off = 0; off + 12 <= limit; off += 4) {
        uint32_t magic = boot_get32(data + off), flags = boot_get32(data + off + 4);
        if (magic == MB_MAGIC && (uint32_t)(magic + flags + boot_get32(data + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

static bool add_segment(BootImage *img, uint32_t paddr, uint32_t off, uint32_t filesz,
                        uint32_t memsz, char *err, size_t errlen)
{
    const char *path = img->kernel.path;
    if (img->nsegs >= MB_MAX_SEGS) {
        snprintf(err, errlen, "kernel '%s': more than %d loadable segments", path, MB_MAX_SEGS);
        return false;
    }
    if ((uint64_t)off + filesz > img->kernel.size) {
        snprintf(err, errlen,
                 "kernel '%s' is truncated (segment at 0x%x needs file bytes up to %llu, "
                 "file has %zu)",
                 path, paddr, (unsigned long long)off + filesz, img->kernel.size);
        return false;
    }
    if (!boot_range_is_ram(&img->map, paddr, memsz)) {
        snprintf(err, errlen, "kernel '%s': segment 0x%x-0x%llx is not in RAM (%llu MiB)", path,
                 paddr, (unsigned long long)paddr + memsz - 1,
                 (unsigned long long)(img->map.ram_size >> 20));
        return false;
    }
    /* The loader's own data (GDT, information structure) lives in low memory. */
    if ((paddr < BOOT_GDT_ADDR + BOOT_GDT_LIMIT + 1 && paddr + memsz > BOOT_GDT_ADDR) ||
        (paddr < MB_INFO_END && paddr + memsz > MB_INFO_ADDR)) {
        snprintf(err, errlen,
                 "kernel '%s': segment at 0x%x overlaps the boot information area "
                 "(0x%x-0x%x)",
                 path, paddr, MB_INFO_ADDR, MB_INFO_END - 1);
        return false;
    }
    img->segs = xrealloc(img->segs, sizeof *img->segs * (size_t)(img->nsegs + 1));
    img->segs[img->nsegs++] = (BootSegment){paddr, off, filesz, memsz};
    return true;
}

static bool load_elf(BootImage *img, char *err, size_t errlen)
{
    const uint8_t *d = img->kernel.data;
    size_t size = img->kernel.size;
    const char *path = img->kernel.path;
    if (size < 52 || d[EI_CLASS] != ELFCLASS32 || d[EI_DATA] != ELFDATA2LSB ||
        boot_get16(d + 18) != EM_386) {
        snprintf(err, errlen,
                 "kernel '%s': multiboot header without the a.out kludge, but not a "
                 "32-bit little-endian i386 ELF file",
                 path);
        return false;
    }
    uint32_t entry = boot_get32(d + 24), phoff = boot_get32(d + 28);
    unsigned phentsize = boot_get16(d + 42), phnum = boot_get16(d + 44);
    if (phentsize < 32 || (uint64_t)phoff + (uint64_t)phentsize * phnum > size) {
        snprintf(err, errlen, "kernel '%s' is truncated or corrupt (bad ELF program headers)",
                 path);
        return false;
    }
    bool entry_translated = false;
    for (unsigned i = 0; i < phnum; i++) {
        const uint8_t *ph = d + phoff + (size_t)i * phentsize;
        if (boot_get32(ph) != PT_LOAD) continue;
        uint32_t off = boot_get32(ph + 4), vaddr = boot_get32(ph + 8), paddr = boot_get32(ph + 12);
        uint32_t filesz = boot_get32(ph + 16), memsz = boot_get32(ph + 20);
        if (memsz == 0) continue;
        if (filesz > memsz) {
            snprintf(err, errlen, "kernel '%s' is corrupt (ELF segment file size > memory size)",
                     path);
            return false;
        }
        if (!add_segment(img, paddr, off, filesz, memsz, err, errlen)) return false;
        /* Kernels linked at a virtual address load at p_paddr; their entry point is virtual,
         * and the CPU starts without paging, so translate it as GRUB and QEMU do. */
        if (!entry_translated && vaddr != paddr && entry >= vaddr && entry - vaddr < memsz) {
            entry = paddr + (entry - vaddr);
            entry_translated = true;
        }
    }
    if (img->nsegs == 0) {
        snprintf(err, errlen, "kernel '%s' has no loadable ELF segments", path);
        return false;
    }
    img->entry = entry;
    return true;
}

static bool load_aout(BootImage *img, long hoff, char *err, size_t errlen)
{
    const uint8_t *h = img->kernel.data + hoff;
    const char *path = img->kernel.path;
    if ((size_t)hoff + 32 > img->kernel.size) {
        snprintf(err, errlen, "kernel '%s' is truncated (multiboot header)", path);
        return false;
    }
    uint32_t header_addr = boot_get32(h + 12), load_addr = boot_get32(h + 16);
    uint32_t load_end = boot_get32(h + 20), bss_end = boot_get32(h + 24);
    img->entry = boot_get32(h + 28);
    if (header_addr < load_addr || header_addr - load_addr > (uint32_t)hoff) {
        snprintf(err, errlen,
                 "kernel '%s': bad multiboot header (header_addr 0x%x, load_addr 0x%x)", path,
                 header_addr, load_addr);
        return false;
    }
    uint32_t file_off = (uint32_t)hoff - (header_addr - load_addr);
    uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : img->kernel.size - file_off;
    if (load_end && load_end < load_addr) {
        snprintf(err, errlen, "kernel '%s': bad multiboot header (load_end_addr < load_addr)",
                 path);
        return false;
    }
    uint64_t memsz = filesz;
    if (bss_end) {
        if (bss_end < load_addr + filesz) {
            snprintf(err, errlen, "kernel '%s': bad multiboot header (bss_end_addr < load end)",
                     path);
            return false;
        }
        memsz = bss_end - load_addr;
    }
    if (memsz == 0 || memsz > UINT32_MAX) {
        snprintf(err, errlen, "kernel '%s': bad multiboot header (empty or huge image)", path);
        return false;
    }
    return add_segment(img, load_addr, file_off, (uint32_t)filesz, (uint32_t)memsz, err, errlen);
}

/* Split the -initrd list: modules separated by ',', ",," standing for a literal comma; each is
 * "path [arguments]" and the whole text is the module's string. */
static bool read_modules(BootImage *img, const char *list, char *err, size_t errlen)
{
    size_t n = strlen(list);
    char *buf = xmalloc(n + 1);
    const char *p = list;
    while (*p) {
        size_t len = 0;
        for (; *p; p++) {
            if (*p == ',' && p[1] == ',') {
                buf[len++] = ',';
                p++;
            } else if (*p == ',') {
                break;
            } else {
                buf[len++] = *p;
            }
        }
        buf[len] = '\0';
        if (*p == ',') p++;
        if (len == 0) continue;
        char *string = xstrdup(buf);
        char *space = strchr(buf, ' ');
        if (space) *space = '\0';
        img->mods = xrealloc(img->mods, sizeof *img->mods * (size_t)(img->nmods + 1));
        BootBlob *m = &img->mods[img->nmods];
        if (!boot_read_file(m, "module", buf, err, errlen)) {
            free(string);
            free(buf);
            return false;
        }
        m->string = string;
        img->nmods++;
    }
    free(buf);
    return true;
}

/* Bytes of the information area: structure, memory map, strings and module list. */
static uint64_t info_size(const BootImage *img)
{
    uint64_t n = MBI_SIZE + 24ull * (uint64_t)img->map.ne820 + strlen(img->cmdline) + 1 +
                 sizeof MB_LOADER_NAME + 16ull * (uint64_t)img->nmods;
    for (int i = 0; i < img->nmods; i++)
        n += strlen(img->mods[i].string) + 1;
    return n + 64; /* alignment padding */
}

int multiboot_prepare(BootImage *img, const char *append, const char *initrd, char *err,
                      size_t errlen)
{
    long hoff = find_header(img->kernel.data, img->kernel.size);
    if (hoff < 0) return 0;
    const char *path = img->kernel.path;
    img->kind = BOOT_MULTIBOOT;
    uint32_t flags = boot_get32(img->kernel.data + hoff + 4);
    if (flags & 0xffffu & ~MB_KNOWN_REQUIRED) {
        snprintf(err, errlen, "kernel '%s' requires unsupported multiboot features (flags 0x%x)",
                 path, flags);
        return 1;
    }
    /* Video mode requests (bit 2) are a preference; without graphics there is nothing to set,
     * and the information structure simply lacks the framebuffer fields (QEMU does the same). */
    if (!((flags & MB_AOUT_KLUDGE) ? load_aout(img, hoff, err, errlen)
                                   : load_elf(img, err, errlen)))
        return 1;

    /* QEMU passes "kernel-path arguments": argv[0] first, which test kernels rely on. */
    size_t clen = strlen(path) + 1 + (append ? strlen(append) : 0) + 1;
    img->cmdline = xmalloc(clen);
    snprintf(img->cmdline, clen, "%s%s%s", path, append && *append ? " " : "",
             append ? append : "");

    if (initrd && !read_modules(img, initrd, err, errlen)) return 1;
    uint64_t next = HIGH_RAM_START;
    for (int i = 0; i < img->nsegs; i++) {
        uint64_t end = (uint64_t)img->segs[i].paddr + img->segs[i].memsz;
        if (end > next) next = end;
    }
    for (int i = 0; i < img->nmods; i++) {
        BootBlob *m = &img->mods[i];
        next = PAGE_UP(next);
        if (!boot_range_is_ram(&img->map, next, m->size ? m->size : 1)) {
            snprintf(err, errlen,
                     "module '%s' (%zu bytes) does not fit in RAM after the kernel "
                     "(%llu MiB)",
                     m->path, m->size, (unsigned long long)(img->map.ram_size >> 20));
            return 1;
        }
        m->addr = (uint32_t)next;
        next += m->size;
    }
    if (MB_INFO_ADDR + info_size(img) > MB_INFO_END) {
        snprintf(err, errlen, "kernel '%s': command line and module strings are too long", path);
        return 1;
    }
    return 1;
}

/* Bump allocator in the information area. */
typedef struct InfoArea {
    uint8_t *ram;
    uint32_t next;
} InfoArea;

static uint32_t info_alloc(InfoArea *a, size_t size, uint32_t align)
{
    a->next = (a->next + align - 1) & ~(align - 1);
    uint32_t addr = a->next;
    a->next += (uint32_t)size;
    memset(a->ram + addr, 0, size);
    return addr;
}

static uint32_t info_string(InfoArea *a, const char *s)
{
    size_t n = strlen(s) + 1;
    uint32_t addr = info_alloc(a, n, 1);
    memcpy(a->ram + addr, s, n);
    return addr;
}

void multiboot_load(const BootImage *img, uint8_t *ram, BootEntry *entry)
{
    for (int i = 0; i < img->nsegs; i++) {
        const BootSegment *s = &img->segs[i];
        memcpy(ram + s->paddr, img->kernel.data + s->file_off, s->filesz);
        memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
    }
    for (int i = 0; i < img->nmods; i++)
        memcpy(ram + img->mods[i].addr, img->mods[i].data, img->mods[i].size);

    InfoArea a = {ram, MB_INFO_ADDR};
    uint32_t mbi = info_alloc(&a, MBI_SIZE, 8);
    uint8_t *p = ram + mbi;
    uint32_t flags = MBI_MEMORY | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;

    /* mem_lower/mem_upper: KiB of RAM from 0 and from 1 MiB up to the first hole. */
    boot_put32(p + 4, LOW_RAM_END / 1024);
    uint64_t upper = (img->map.ram_size - HIGH_RAM_START) / 1024;
    boot_put32(p + 8, (uint32_t)upper);

    boot_put32(p + 16, info_string(&a, img->cmdline));

    uint32_t mmap = info_alloc(&a, 24u * (uint32_t)img->map.ne820, 4);
    for (int i = 0; i < img->map.ne820; i++) {
        uint8_t *e = ram + mmap + 24 * i;
        boot_put32(e, 20); /* size of the entry, not counting this field */
        boot_put64(e + 4, img->map.e820[i].addr);
        boot_put64(e + 12, img->map.e820[i].size);
        boot_put32(e + 20, img->map.e820[i].type);
    }
    boot_put32(p + 44, 24u * (uint32_t)img->map.ne820);
    boot_put32(p + 48, mmap);

    if (img->nmods) {
        flags |= MBI_MODS;
        uint32_t list = info_alloc(&a, 16u * (uint32_t)img->nmods, 4);
        for (int i = 0; i < img->nmods; i++) {
            uint8_t *m = ram + list + 16 * i;
            boot_put32(m, img->mods[i].addr);
            boot_put32(m + 4, img->mods[i].addr + (uint32_t)img->mods[i].size);
            boot_put32(m + 8, info_string(&a, img->mods[i].string));
            boot_put32(m + 12, 0);
        }
        boot_put32(p + 20, (uint32_t)img->nmods);
        boot_put32(p + 24, list);
    }
    boot_put32(p + 64, info_string(&a, MB_LOADER_NAME));
    boot_put32(p, flags);

    boot_write_gdt(ram, entry);
    entry->eip = img->entry;
    entry->eax = MB_BOOT_MAGIC;
    entry->ebx = mbi;
}
