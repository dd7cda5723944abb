/* Guest RAM allocation (see ram.h). */
#include "host/ram.h"

#include <stdint.h>
#include <sys/mman.h>

#define HUGE_ALIGN ((size_t)2 << 20)

void *host_ram_alloc(size_t size)
{
    if (!size) return NULL;
    size_t len = size + HUGE_ALIGN;
    uint8_t *raw = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return NULL;
    uint8_t *p = (uint8_t *)(((uintptr_t)raw + HUGE_ALIGN - 1) & ~(uintptr_t)(HUGE_ALIGN - 1));
    /* Give back the slack before and after the aligned range. */
    if (p > raw) munmap(raw, (size_t)(p - raw));
    size_t tail = (size_t)(raw + len - (p + size));
    if (tail) munmap(p + size, tail);
#ifdef MADV_HUGEPAGE
    madvise(p, size, MADV_HUGEPAGE); /* a hint: without it the memory is simply not huge */
#endif
    return p;
}

void host_ram_free(void *p, size_t size)
{
    if (p) munmap(p, size);
}
