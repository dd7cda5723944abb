/* Call loop: 5 instructions per iteration (call, inc, ret, dec, jnz). */
#include "common.inc"
bench_body:
    movl $LOOPS, %ecx
1:  call 2f
    decl %ecx
    jnz 1b
    ret
2:  incl %eax
    ret
