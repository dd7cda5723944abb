/* x87 loop: 8 instructions per iteration (fld, fmul, faddp, fxch, fmul, fxch, dec, jnz); the
 * stack depth stays constant and no exception is raised. */
#include "common.inc"
bench_body:
    movl $LOOPS, %ecx
    finit
    fld1
    fld1
    fldz
1:  fld %st(1)
    fmul %st(2), %st
    faddp %st, %st(1)
    fxch %st(1)
    fmul %st(0), %st
    fxch %st(1)
    decl %ecx
    jnz 1b
    ret
