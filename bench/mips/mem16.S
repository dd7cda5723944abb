/* The memory loop of mem.S with its two accesses 16 MiB apart instead of in one page: a load
 * from a buffer at 16 MiB and a store to the one at 32 MiB. A soft-MMU TLB indexed by the page
 * number alone (up to 4096 entries) maps both pages to one entry, so each access evicts the
 * other's translation; kestrel's index hash keeps them apart. Needs -m 64. */
#define MEM_BASE 0x1000000
#define MEM_SECOND 0x1000000
#include "mem.S"
