/* Allocation wrappers that never return NULL. */
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *check(void *p, size_t n)
{
    if (!p && n) {
        fprintf(stderr, "kestrel: out of memory allocating %zu bytes\n", n);
        abort();
    }
    return p;
}

void *xmalloc(size_t n) { return check(malloc(n), n); }
void *xzalloc(size_t n) { return check(calloc(1, n ? n : 1), n); }
void *xzalloc_aligned(size_t align, size_t n)
{
    size_t size = (n + align - 1) & ~(align - 1); /* aligned_alloc wants a multiple */
    void *p = check(aligned_alloc(align, size ? size : align), n);
    memset(p, 0, size);
    return p;
}
void *xrealloc(void *p, size_t n) { return check(realloc(p, n), n); }
char *xstrdup(const char *s) { return check(strdup(s), strlen(s) + 1); }
