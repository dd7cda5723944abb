/* Memory loop: 6 instructions per iteration, two loads and one store to a 4 KiB buffer. */
#include "common.inc"
bench_body:
    movl $LOOPS, %ecx
    movl $0x300000, %esi
1:  movl %ecx, %edx
    andl $0xffc, %edx
    movl (%esi,%edx), %eax
    addl %eax, 4(%esi,%edx)
    decl %ecx
    jnz 1b
    ret
