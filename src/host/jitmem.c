/* Executable memory for the JIT (see jitmem.h): Linux memfd double mapping, or mprotect
 * toggling of a single anonymous mapping. */
#include "host/jitmem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/log.h"

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

static bool init_dual(JitMem *m)
{
#ifdef __linux__
    int fd = memfd_create("kestrel-jit", MFD_CLOEXEC);
    if (fd < 0) return false;
    bool ok = false;
    if (ftruncate(fd, (off_t)m->size) == 0) {
        void *rw = mmap(NULL, m->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        void *rx = mmap(NULL, m->size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
        if (rw != MAP_FAILED && rx != MAP_FAILED) {
            m->rw = rw;
            m->rx = rx;
            ok = true;
        } else {
            if (rw != MAP_FAILED) munmap(rw, m->size);
            if (rx != MAP_FAILED) munmap(rx, m->size);
        }
    }
    close(fd); /* the mappings keep the memory alive */
    return ok;
#else
    (void)m;
    return false;
#endif
}

static bool init_mprotect(JitMem *m)
{
    void *p = mmap(NULL, m->size, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return false;
    m->rw = m->rx = p;
    return true;
}

bool jitmem_init(JitMem *m, size_t size, JitMemMode mode)
{
    memset(m, 0, sizeof *m);
    size_t ps = page_size();
    m->size = (size + ps - 1) / ps * ps;
    m->mode = mode;
    if (mode == JITMEM_DUAL && init_dual(m)) return true;
    m->mode = JITMEM_MPROTECT;
    return init_mprotect(m);
}

void jitmem_free(JitMem *m)
{
    if (!m->rx) return;
    munmap(m->rx, m->size);
    if (m->rw != m->rx) munmap(m->rw, m->size);
    m->rx = m->rw = NULL;
}

static void protect(JitMem *m, size_t off, size_t len, int prot)
{
    size_t ps = page_size();
    size_t start = off / ps * ps, end = (off + len + ps - 1) / ps * ps;
    if (end > m->size) end = m->size;
    if (mprotect(m->rx + start, end - start, prot) != 0) {
        log_error("internal error: mprotect of JIT code failed");
        abort();
    }
    m->nprotect++;
}

void jitmem_write_begin(JitMem *m, size_t off, size_t len)
{
    if (m->mode == JITMEM_MPROTECT && len) protect(m, off, len, PROT_READ | PROT_WRITE);
}

void jitmem_write_end(JitMem *m, size_t off, size_t len)
{
    if (m->mode == JITMEM_MPROTECT && len) protect(m, off, len, PROT_READ | PROT_EXEC);
}
