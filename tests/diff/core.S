/* Differential CPU tests: enters a case with the register state from DiffCtl and captures the
 * state it ends with. Shared by the native (Linux, ring 3) and the guest (ring 0) runner. */
#include "diff.h"

        .text
        .code32

/* void diff_enter(void): runs the case whose code DiffCtl.code_ptr points at. */
        .globl  diff_enter
        .type   diff_enter, @function
diff_enter:
        push    %ebp
        push    %ebx
        push    %esi
        push    %edi
        mov     %esp, DIFF_CTL + CTL_HOST_ESP
        movl    $1, DIFF_CTL + CTL_IN_CASE
        mov     $DIFF_STACK_TOP, %esp
        fninit                          /* x87 cases start from the initial FPU state */
        pushl   DIFF_CTL + CTL_IN_EFLAGS
        popfl
        mov     DIFF_CTL + CTL_IN + 0, %eax
        mov     DIFF_CTL + CTL_IN + 4, %ecx
        mov     DIFF_CTL + CTL_IN + 8, %edx
        mov     DIFF_CTL + CTL_IN + 12, %ebx
        mov     DIFF_CTL + CTL_IN + 20, %ebp
        mov     DIFF_CTL + CTL_IN + 24, %esi
        mov     DIFF_CTL + CTL_IN + 28, %edi
        jmp     *DIFF_CTL + CTL_CODE_PTR
        .size   diff_enter, . - diff_enter

/* Each case's code ends with "jmp *capture_ptr", which points here. */
        .globl  diff_capture
        .type   diff_capture, @function
diff_capture:
        mov     %eax, DIFF_CTL + CTL_OUT + 0
        mov     %ecx, DIFF_CTL + CTL_OUT + 4
        mov     %edx, DIFF_CTL + CTL_OUT + 8
        mov     %ebx, DIFF_CTL + CTL_OUT + 12
        mov     %esp, DIFF_CTL + CTL_OUT + 16
        mov     %ebp, DIFF_CTL + CTL_OUT + 20
        mov     %esi, DIFF_CTL + CTL_OUT + 24
        mov     %edi, DIFF_CTL + CTL_OUT + 28
        pushfl
        popl    DIFF_CTL + CTL_OUT_EFLAGS
        /* fall through */

/* Returns from diff_enter; fault handlers resume here once they have filled DiffCtl. */
        .globl  diff_leave
diff_leave:
        cld
        movl    $0, DIFF_CTL + CTL_IN_CASE
        mov     DIFF_CTL + CTL_HOST_ESP, %esp
        pop     %edi
        pop     %esi
        pop     %ebx
        pop     %ebp
        ret
        .size   diff_capture, . - diff_capture

        .section .note.GNU-stack, "", @progbits
