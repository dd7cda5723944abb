/* Memory loop: 6 instructions per iteration, two loads and one store to a 4 KiB buffer at
 * MEM_BASE, the store MEM_SECOND bytes above the load (mem16.S sets both). */
#include "common.inc"
#ifndef MEM_BASE
#define MEM_BASE 0x300000
#define MEM_SECOND 4
#endif
bench_body:
    movl $LOOPS, %ecx
    movl $MEM_BASE, %esi
1:  movl %ecx, %edx
    andl $0xffc, %edx
    movl (%esi,%edx), %eax
    addl %eax, MEM_SECOND(%esi,%edx)
    decl %ecx
    jnz 1b
    ret
