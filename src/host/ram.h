/* Guest RAM: zeroed anonymous memory aligned to 2 MiB and marked for transparent huge pages
 * where the host offers them, so that guest memory accesses spread over it miss the host TLB
 * less often. */
#ifndef HOST_RAM_H
#define HOST_RAM_H

#include <stddef.h>

/* NULL if the host has not that much memory to give. */
void *host_ram_alloc(size_t size);
void host_ram_free(void *p, size_t size);

#endif
