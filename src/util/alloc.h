/* Allocation wrappers: out of host memory is not recoverable, so these abort with a message. */
#ifndef UTIL_ALLOC_H
#define UTIL_ALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xzalloc(size_t n);
/* Zeroed, aligned to align (a power of two); released with free(). */
void *xzalloc_aligned(size_t align, size_t n);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#define XNEW(type) ((type *)xzalloc(sizeof(type)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
