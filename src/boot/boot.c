/* Direct kernel boot: file reading, format detection (multiboot first, then bzImage, the order
 * QEMU uses) and the pieces both protocols share (flat GDT, memory map checks). */
#include "boot/boot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

bool boot_read_file(BootBlob *b, const char *what, const char *path, char *err, size_t errlen)
{
    memset(b, 0, sizeof *b);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(errno));
        return false;
    }
    size_t cap = 1 << 20, len = 0;
    uint8_t *buf = xmalloc(cap);
    for (;;) {
        if (len == cap) {
            /* Guest RAM is below 4 GiB: nothing bigger can ever be loaded. */
            if (cap >= (size_t)1 << 32) {
                snprintf(err, errlen, "%s '%s' is larger than 4 GiB", what, path);
                goto fail;
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) break;
    }
    if (ferror(f)) {
        snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
        goto fail;
    }
    fclose(f);
    b->path = xstrdup(path);
    b->data = buf;
    b->size = len;
    return true;
fail:
    free(buf);
    fclose(f);
    return false;
}

void boot_write_gdt(uint8_t *ram, BootEntry *entry)
{
    /* Null, unused, then 4 GiB flat code (execute/read) and data (read/write) at 0x10 and 0x18:
     * the selectors the Linux 32-bit protocol names; multiboot only needs them to be flat. */
    static const uint64_t gdt[4] = {0, 0, 0x00cf9a000000ffffull, 0x00cf92000000ffffull};
    for (int i = 0; i < 4; i++)
        boot_put64(ram + BOOT_GDT_ADDR + 8 * i, gdt[i]);
    entry->gdt_base = BOOT_GDT_ADDR;
    entry->gdt_limit = BOOT_GDT_LIMIT;
    entry->cs = BOOT_CS;
    entry->ds = BOOT_DS;
}

bool boot_range_is_ram(const BootMemMap *map, uint64_t addr, uint64_t size)
{
    if (size == 0) return true;
    uint64_t end = addr + size;
    if (end < addr || end > map->ram_size) return false;
    for (int i = 0; i < map->ne820; i++) {
        const E820Entry *e = &map->e820[i];
        if (e->type == E820_RAM && addr >= e->addr && end <= e->addr + e->size) return true;
    }
    return false;
}

bool boot_open(BootImage *img, const char *kernel, const char *initrd, const char *append,
               const BootMemMap *map, char *err, size_t errlen)
{
    memset(img, 0, sizeof *img);
    img->map = *map;
    err[0] = '\0';
    if (!boot_read_file(&img->kernel, "kernel", kernel, err, errlen)) return false;
    int r = multiboot_prepare(img, append, initrd, err, errlen);
    if (r == 0 && !err[0]) r = linux_prepare(img, append, initrd, err, errlen);
    if (r == 0 && !err[0])
        snprintf(err, errlen, "kernel '%s' is neither a multiboot kernel nor a Linux bzImage",
                 kernel);
    if (err[0]) {
        boot_close(img);
        return false;
    }
    return true;
}

void boot_load(const BootImage *img, uint8_t *ram, BootEntry *entry)
{
    memset(entry, 0, sizeof *entry);
    if (img->kind == BOOT_MULTIBOOT)
        multiboot_load(img, ram, entry);
    else
        linux_load(img, ram, entry);
}

void boot_close(BootImage *img)
{
    free(img->kernel.path);
    free(img->kernel.data);
    for (int i = 0; i < img->nmods; i++) {
        free(img->mods[i].path);
        free(img->mods[i].string);
        free(img->mods[i].data);
    }
    free(img->mods);
    free(img->cmdline);
    free(img->segs);
    memset(img, 0, sizeof *img);
}
