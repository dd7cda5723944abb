/* Linux bzImage loader for the 32-bit boot protocol (Documentation/arch/x86/boot.rst, protocol
 * 2.02 and later; zero-page.rst): protected-mode kernel at 1 MiB, boot_params with the copied
 * setup header, e820 map, command line, initrd high in RAM, VGA text screen_info. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "util/alloc.h"

/* Setup header fields (offsets in the image and in boot_params). */
enum {
    HDR_SETUP_SECTS = 0x1f1,
    HDR_SYSSIZE = 0x1f4,
    HDR_VID_MODE = 0x1fa,
    HDR_BOOT_FLAG = 0x1fe,
    HDR_JUMP = 0x200,
    HDR_HEADER = 0x202,
    HDR_VERSION = 0x206,
    HDR_TYPE_OF_LOADER = 0x210,
    HDR_LOADFLAGS = 0x211,
    HDR_CODE32_START = 0x214,
    HDR_RAMDISK_IMAGE = 0x218,
    HDR_RAMDISK_SIZE = 0x21c,
    HDR_HEAP_END_PTR = 0x224,
    HDR_CMD_LINE_PTR = 0x228,
    HDR_INITRD_ADDR_MAX = 0x22c,
    HDR_CMDLINE_SIZE = 0x238,
    HDR_PREF_ADDRESS = 0x258,
    HDR_INIT_SIZE = 0x260,
};

/* boot_params fields outside the setup header. */
enum {
    BP_ORIG_VIDEO_MODE = 0x06,
    BP_ORIG_VIDEO_COLS = 0x07,
    BP_ORIG_VIDEO_EGA_BX = 0x0a,
    BP_ORIG_VIDEO_LINES = 0x0e,
    BP_ORIG_VIDEO_ISVGA = 0x0f,
    BP_ORIG_VIDEO_POINTS = 0x10,
    BP_EXT_MEM_K = 0x02,
    BP_ALT_MEM_K = 0x1e0,
    BP_E820_ENTRIES = 0x1e8,
    BP_E820_TABLE = 0x2d0,
    BP_SIZE = 0x1000,
};

#define LOADED_HIGH    0x01
#define CAN_USE_HEAP   0x80
#define HDRS_MAGIC     0x53726448u /* "HdrS" */
#define LOADER_UNDEF   0xff        /* type_of_loader: a boot loader without an assigned id */
#define SETUP_HEAP_END 0xfe00      /* heap_end_ptr: setup + heap end 0x200 below the command line */

int linux_prepare(BootImage *img, const char *append, const char *initrd, char *err, size_t errlen)
{
    const uint8_t *d = img->kernel.data;
    size_t size = img->kernel.size;
    const char *path = img->kernel.path;
    if (size < 0x264 || boot_get16(d + HDR_BOOT_FLAG) != 0xaa55 ||
        boot_get32(d + HDR_HEADER) != HDRS_MAGIC)
        return 0;
    img->kind = BOOT_LINUX;
    img->version = boot_get16(d + HDR_VERSION);
    if (img->version < 0x202) {
        snprintf(err, errlen, "kernel '%s': Linux boot protocol %u.%02u is too old (need 2.02)",
                 path, img->version >> 8, img->version & 0xff);
        return 1;
    }
    if (!(d[HDR_LOADFLAGS] & LOADED_HIGH)) {
        snprintf(err, errlen, "kernel '%s' is a zImage; only bzImage kernels are supported", path);
        return 1;
    }
    unsigned sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;
    img->setup_size = (sects + 1) * 512;
    uint64_t syssize = (uint64_t)boot_get32(d + HDR_SYSSIZE) * 16;
    if (size <= img->setup_size || size - img->setup_size < syssize) {
        snprintf(err, errlen, "kernel '%s' is truncated (%zu bytes, the header says %llu)", path,
                 size, (unsigned long long)(img->setup_size + syssize));
        return 1;
    }
    img->entry = boot_get32(d + HDR_CODE32_START);

    img->cmdline_max = img->version >= 0x206 ? boot_get32(d + HDR_CMDLINE_SIZE) : 255;
    img->cmdline = xstrdup(append ? append : "");
    size_t clen = strlen(img->cmdline);
    if (clen > img->cmdline_max || clen >= LINUX_KERNEL_ADDR - LINUX_CMDLINE_ADDR) {
        snprintf(err, errlen,
                 "kernel '%s' accepts a command line of at most %u bytes, -append "
                 "has %zu",
                 path, img->cmdline_max, clen);
        return 1;
    }

    /* The protected-mode part runs at 1 MiB; from 2.10 on the header also says how much memory
     * the decompressor needs from the preferred (minimum) load address. */
    uint64_t prot = size - img->setup_size;
    uint64_t kernel_end = LINUX_KERNEL_ADDR + prot;
    if (img->version >= 0x20a) {
        uint64_t pref = boot_get32(d + HDR_PREF_ADDRESS);
        uint64_t init = boot_get32(d + HDR_INIT_SIZE);
        if (pref < LINUX_KERNEL_ADDR) pref = LINUX_KERNEL_ADDR;
        if (pref + init > kernel_end) kernel_end = pref + init;
    }
    if (!boot_range_is_ram(&img->map, LINUX_KERNEL_ADDR, kernel_end - LINUX_KERNEL_ADDR)) {
        snprintf(err, errlen, "kernel '%s' needs %llu MiB of RAM, -m gives %llu MiB", path,
                 (unsigned long long)((kernel_end + (1 << 20) - 1) >> 20),
                 (unsigned long long)(img->map.ram_size >> 20));
        return 1;
    }

    if (initrd && *initrd) {
        img->mods = XNEW(BootBlob);
        if (!boot_read_file(&img->mods[0], "initrd", initrd, err, errlen)) return 1;
        img->nmods = 1;
        BootBlob *rd = &img->mods[0];
        uint64_t max = img->version >= 0x203 ? boot_get32(d + HDR_INITRD_ADDR_MAX) : 0x37ffffff;
        uint64_t limit = max + 1 < img->map.ram_size ? max + 1 : img->map.ram_size;
        /* As high as allowed, page aligned, and clear of the kernel's working memory. */
        uint64_t addr = rd->size <= limit ? (limit - rd->size) & ~0xfffull : 0;
        if (rd->size > limit || addr < kernel_end ||
            !boot_range_is_ram(&img->map, addr, rd->size)) {
            snprintf(err, errlen,
                     "initrd '%s' (%zu bytes) does not fit in RAM above the kernel "
                     "(-m %llu MiB)",
                     initrd, rd->size, (unsigned long long)(img->map.ram_size >> 20));
            return 1;
        }
        rd->addr = (uint32_t)addr;
    }
    return 1;
}

void linux_load(const BootImage *img, uint8_t *ram, BootEntry *entry)
{
    const uint8_t *d = img->kernel.data;
    memcpy(ram + LINUX_KERNEL_ADDR, d + img->setup_size, img->kernel.size - img->setup_size);

    uint8_t *bp = ram + LINUX_ZERO_PAGE;
    memset(bp, 0, BP_SIZE);
    /* The setup header runs from 0x1f1 to the end given by the jump at 0x200. */
    size_t hdr_end = HDR_JUMP + 2 + d[HDR_JUMP + 1];
    if (hdr_end > img->kernel.size) hdr_end = img->kernel.size;
    if (hdr_end > BP_E820_TABLE) hdr_end = BP_E820_TABLE;
    memcpy(bp + HDR_SETUP_SECTS, d + HDR_SETUP_SECTS, hdr_end - HDR_SETUP_SECTS);

    /* An 80x25 colour VGA text console, cursor at the top left (what the BIOS leaves). */
    bp[BP_ORIG_VIDEO_MODE] = 3;
    bp[BP_ORIG_VIDEO_COLS] = 80;
    boot_put16(bp + BP_ORIG_VIDEO_EGA_BX, 0x0003);
    bp[BP_ORIG_VIDEO_LINES] = 25;
    bp[BP_ORIG_VIDEO_ISVGA] = 1;
    boot_put16(bp + BP_ORIG_VIDEO_POINTS, 16);

    uint64_t ext_k = (img->map.ram_size - HIGH_RAM_START) / 1024;
    boot_put16(bp + BP_EXT_MEM_K, ext_k > 0xfc00 ? 0xfc00 : (uint16_t)ext_k);
    boot_put32(bp + BP_ALT_MEM_K, (uint32_t)ext_k);
    bp[BP_E820_ENTRIES] = (uint8_t)img->map.ne820;
    for (int i = 0; i < img->map.ne820; i++) {
        uint8_t *e = bp + BP_E820_TABLE + 20 * i;
        boot_put64(e, img->map.e820[i].addr);
        boot_put64(e + 8, img->map.e820[i].size);
        boot_put32(e + 16, img->map.e820[i].type);
    }

    boot_put16(bp + HDR_VID_MODE, 0xffff); /* "normal" */
    bp[HDR_TYPE_OF_LOADER] = LOADER_UNDEF;
    bp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
    boot_put16(bp + HDR_HEAP_END_PTR, SETUP_HEAP_END);
    size_t clen = strlen(img->cmdline) + 1;
    memcpy(ram + LINUX_CMDLINE_ADDR, img->cmdline, clen);
    boot_put32(bp + HDR_CMD_LINE_PTR, LINUX_CMDLINE_ADDR);
    if (img->nmods) {
        memcpy(ram + img->mods[0].addr, img->mods[0].data, img->mods[0].size);
        boot_put32(bp + HDR_RAMDISK_IMAGE, img->mods[0].addr);
        boot_put32(bp + HDR_RAMDISK_SIZE, (uint32_t)img->mods[0].size);
    }

    boot_write_gdt(ram, entry);
    entry->eip = img->entry;
    entry->esi = LINUX_ZERO_PAGE;
}
