/* Direct kernel boot without firmware (what QEMU's -kernel/-initrd/-append do): reads the files,
 * recognises multiboot v1 (Multiboot Specification 0.6.96) and Linux bzImage (Linux x86 boot
 * protocol 2.02+, 32-bit entry), and places them in guest RAM with the entry state they expect. */
#ifndef BOOT_BOOT_H
#define BOOT_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BIOS E820 / multiboot memory map types. */
enum { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3, E820_NVS = 4 };

typedef struct E820Entry {
    uint64_t addr, size;
    uint32_t type;
} E820Entry;

#define BOOT_E820_MAX 8

/* Guest memory as the board lays it out. RAM backs [0, 640K) and [1M, ram_size); the loaders
 * write guest address a at ram[a], so the board keeps one host buffer of ram_size bytes. */
typedef struct BootMemMap {
    uint64_t ram_size;
    E820Entry e820[BOOT_E820_MAX];
    int ne820;
} BootMemMap;

/* Fixed places in low memory that the loaders use (below the EBDA, above the BIOS data area). */
#define BOOT_GDT_ADDR      0x00500u /* flat GDT: 0x10 code, 0x18 data */
#define BOOT_GDT_LIMIT     0x1fu
#define BOOT_CS            0x10u
#define BOOT_DS            0x18u
#define MB_INFO_ADDR       0x09000u /* multiboot info, memory map, strings, module list */
#define MB_INFO_END        0x9f000u
#define LINUX_ZERO_PAGE    0x10000u /* struct boot_params */
#define LINUX_CMDLINE_ADDR 0x20000u
#define LINUX_KERNEL_ADDR  0x100000u
#define LOW_RAM_END        0xa0000u
#define HIGH_RAM_START     0x100000u

/* Register state at the kernel's entry: protected mode, flat segments, paging and interrupts
 * off; the registers not listed here are zero. */
typedef struct BootEntry {
    uint32_t eip;
    uint32_t eax, ebx, esi;
    uint32_t gdt_base;
    uint16_t gdt_limit;
    uint16_t cs, ds;
} BootEntry;

/* A file to place in guest memory (kernel, initrd, multiboot module). */
typedef struct BootBlob {
    char *path;
    char *string; /* multiboot module string (path and arguments) */
    uint8_t *data;
    size_t size;
    uint32_t addr; /* where it goes */
} BootBlob;

typedef struct BootSegment {
    uint32_t paddr, file_off, filesz, memsz;
} BootSegment;

typedef enum { BOOT_MULTIBOOT = 1, BOOT_LINUX } BootKind;

typedef struct BootImage {
    BootKind kind;
    BootMemMap map;
    BootBlob kernel;
    BootBlob *mods; /* multiboot modules, or the one Linux initrd */
    int nmods;
    char *cmdline; /* as the kernel receives it */
    uint32_t entry;
    /* multiboot: what to copy where */
    BootSegment *segs;
    int nsegs;
    /* Linux */
    uint16_t version;
    uint32_t setup_size; /* bytes of real-mode setup in front of the protected-mode kernel */
    uint32_t cmdline_max;
} BootImage;

/* Reads the kernel (and the comma-separated initrd list: multiboot modules "path args", ",,"
 * for a literal comma; a Linux initrd is one path), recognises the format and checks that
 * everything fits in the memory described by map. On failure returns false with a one-line
 * message naming the file in err; nothing is left allocated. */
bool boot_open(BootImage *img, const char *kernel, const char *initrd, const char *append,
               const BootMemMap *map, char *err, size_t errlen);

/* Writes the kernel, modules and boot information into ram (ram_size bytes as in map) and
 * fills the entry state. Deterministic: called again at every machine reset. */
void boot_load(const BootImage *img, uint8_t *ram, BootEntry *entry);

void boot_close(BootImage *img);

/* ---- for the format modules (multiboot.c, linux.c) ---- */

/* 1: is this format (prepared or err set on a malformed image: check err[0]); 0: not it. */
int multiboot_prepare(BootImage *img, const char *append, const char *initrd, char *err,
                      size_t errlen);
void multiboot_load(const BootImage *img, uint8_t *ram, BootEntry *entry);
int linux_prepare(BootImage *img, const char *append, const char *initrd, char *err, size_t errlen);
void linux_load(const BootImage *img, uint8_t *ram, BootEntry *entry);

/* Read a whole file; false with a message naming what (e.g. "initrd") on error. */
bool boot_read_file(BootBlob *b, const char *what, const char *path, char *err, size_t errlen);
/* The flat GDT at BOOT_GDT_ADDR and the matching entry fields. */
void boot_write_gdt(uint8_t *ram, BootEntry *entry);
/* Little-endian field access. */
static inline uint16_t boot_get16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t boot_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void boot_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void boot_put32(uint8_t *p, uint32_t v)
{
    boot_put16(p, (uint16_t)v);
    boot_put16(p + 2, (uint16_t)(v >> 16));
}
static inline void boot_put64(uint8_t *p, uint64_t v)
{
    boot_put32(p, (uint32_t)v);
    boot_put32(p + 4, (uint32_t)(v >> 32));
}
/* True if [addr, addr+size) lies in usable RAM of the map (and ram_size). */
bool boot_range_is_ram(const BootMemMap *map, uint64_t addr, uint64_t size);

#endif
