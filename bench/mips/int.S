/* Integer loop: 5 instructions per iteration (add, xor, shl, dec, jnz). */
#include "common.inc"
bench_body:
    movl $LOOPS, %ecx
    xorl %eax, %eax
    movl $0x12345, %ebx
1:  addl %ecx, %eax
    xorl %ebx, %eax
    shll $1, %ebx
    decl %ecx
    jnz 1b
    ret
