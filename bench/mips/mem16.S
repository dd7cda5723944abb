/* The memory loop of mem.S with its two accesses 16 MiB apart instead of in one page: a load
 * from a buffer at 16 MiB and a store to the one at 32 MiB. A soft-MMU TLB indexed by the page
 * number alone (up to 4096 entries) maps both pages to one entry, so each access evicts the
 * other's translation; kestrel's index hash keeps them apart. Needs -m 64. */
#include "common.inc"
bench_body:
    movl $LOOPS, %ecx
    movl $0x1000000, %esi
1:  movl %ecx, %edx
    andl $0xffc, %edx
    movl (%esi,%edx), %eax
    addl %eax, 0x1000000(%esi,%edx)
    decl %ecx
    jnz 1b
    ret
