/* Executable memory for the JIT under W^X: one memfd mapped twice (a read-write view that code
 * is written through and a read-execute view it runs from), or, where that is unavailable, one
 * mapping switched between RW and RX with mprotect around each write. */
#ifndef HOST_JITMEM_H
#define HOST_JITMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum JitMemMode {
    JITMEM_DUAL,     /* memfd mapped RW and RX: writes need no system call */
    JITMEM_MPROTECT, /* one mapping; jitmem_write_begin/end flip the touched pages */
} JitMemMode;

typedef struct JitMem {
    uint8_t *rx; /* address code runs at */
    uint8_t *rw; /* address code is written at (rx in JITMEM_MPROTECT mode) */
    size_t size;
    JitMemMode mode;
    uint64_t nprotect; /* mprotect calls made (JITMEM_MPROTECT) */
} JitMem;

/* Maps size bytes (rounded up to pages) in the given mode. Returns false on failure. */
bool jitmem_init(JitMem *m, size_t size, JitMemMode mode);
void jitmem_free(JitMem *m);

/* Brackets writes to [off, off + len): makes the range writable and then executable again in
 * JITMEM_MPROTECT mode; nothing to do with a dual mapping (x86 keeps instruction fetch coherent
 * with stores to the same physical page, whatever the virtual address written through). */
void jitmem_write_begin(JitMem *m, size_t off, size_t len);
void jitmem_write_end(JitMem *m, size_t off, size_t len);

#endif
