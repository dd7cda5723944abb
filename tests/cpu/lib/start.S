/* kt entry: multiboot v1 header and entry, the 256 interrupt stubs, setjmp/longjmp and the
 * ring-3 trampolines (Multiboot Specification 0.6.96 section 3; SDM vol. 3A 6.12, 5.8.7). */

#define MB_MAGIC 0x1badb002
#define MB_FLAGS 0x00000003 /* page-align modules, want memory info */

    .section .multiboot, "a"
    .align 4
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)

    .section .bss
    .align 16
kt_stack:
    .skip 65536
kt_stack_top:
    .globl kt_trap_stack_top
    .skip 16384
kt_trap_stack_top:
    .globl kt_user_stack_top
    .skip 16384
kt_user_stack_top:

    .text
    .globl _start
_start:
    cli
    cld
    mov $kt_stack_top, %esp
    push $0 /* no caller frame for debuggers */
    push %ebx
    push %eax
    call kt_start
1:  hlt
    jmp 1b

/* Vectors that push an error code (SDM vol. 3A table 6-1). */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    /* One stub per vector; each appends its address to kt_isr_table. */
    .macro stub vec
    .text
    .align 8
1:
    .if HAS_ERR(\vec)
    push $\vec
    .else
    push $0
    push $\vec
    .endif
    jmp kt_isr_common
    .pushsection .rodata.kt_isr_table, "a"
    .long 1b
    .popsection
    .endm

    .pushsection .rodata.kt_isr_table, "a"
    .globl kt_isr_table
kt_isr_table:
    .popsection

    .altmacro
    .set vec, 0
    .rept 256
    stub %vec
    .set vec, vec + 1
    .endr
    .noaltmacro

    /* Saves the rest of struct kt_frame and calls kt_dispatch(frame); the handler may rewrite
     * the frame, which is what IRET then resumes. */
    .text
kt_isr_common:
    pusha
    push %ds
    push %es
    push %fs
    push %gs
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    cld
    mov %esp, %eax
    push %eax
    call kt_dispatch
    add $4, %esp
    pop %gs
    pop %fs
    pop %es
    pop %ds
    popa
    add $8, %esp
    iret

/* int kt_setjmp(kt_jmp_buf jb): saves ebx esi edi ebp esp eip eflags. */
    .globl kt_setjmp
kt_setjmp:
    mov 4(%esp), %eax
    mov %ebx, 0(%eax)
    mov %esi, 4(%eax)
    mov %edi, 8(%eax)
    mov %ebp, 12(%eax)
    lea 4(%esp), %ecx
    mov %ecx, 16(%eax)
    mov (%esp), %ecx
    mov %ecx, 20(%eax)
    pushf
    pop %ecx
    mov %ecx, 24(%eax)
    xor %eax, %eax
    ret

/* void kt_longjmp(kt_jmp_buf jb, int val): usable from an exception handler at CPL 0, so it
 * also reloads the flat ring-0 data segments and SS. */
    .globl kt_longjmp
kt_longjmp:
    mov 4(%esp), %edx
    mov 8(%esp), %eax
    mov $0x10, %ecx
    mov %ecx, %ds
    mov %ecx, %es
    mov %ecx, %fs
    mov %ecx, %gs
    mov %ecx, %ss
    mov 16(%edx), %esp
    mov 0(%edx), %ebx
    mov 4(%edx), %esi
    mov 8(%edx), %edi
    mov 12(%edx), %ebp
    push 24(%edx)
    popf
    jmp *20(%edx)

/* uint32_t kt_user_call(fn, arg): IRET to ring 3 at kt_user_tramp with fn and arg on the user
 * stack; the trampoline calls fn(arg) and comes back with INT $0xfe, whose handler calls
 * kt_user_return(eax). */
    .globl kt_user_call
kt_user_call:
    push %ebp
    push %ebx
    push %esi
    push %edi
    pushf
    mov %esp, kt_user_ksp
    mov 24(%esp), %eax
    mov 28(%esp), %edx
    mov kt_user_esp, %ecx
    sub $8, %ecx
    mov %eax, 0(%ecx)
    mov %edx, 4(%ecx)
    push $0x23
    push %ecx
    push kt_user_eflags
    push $0x1b
    push $kt_user_tramp
    mov $0x23, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    iret

kt_user_tramp:
    pop %eax
    call *%eax
    int $0xfe
    ud2

/* uint32_t kt_user_call_sysenter(fn, arg): SYSEXIT to ring 3 (CS = SYSENTER_CS + 16, SS =
 * SYSENTER_CS + 24, EIP = EDX, ESP = ECX); the trampoline comes back with SYSENTER. */
    .globl kt_user_call_sysenter
kt_user_call_sysenter:
    push %ebp
    push %ebx
    push %esi
    push %edi
    pushf
    mov %esp, kt_user_ksp
    mov $0x174, %ecx /* SYSENTER_CS */
    mov $0x08, %eax
    xor %edx, %edx
    wrmsr
    mov $0x175, %ecx /* SYSENTER_ESP */
    mov $kt_trap_stack_top, %eax
    wrmsr
    mov $0x176, %ecx /* SYSENTER_EIP */
    mov $kt_sysenter_entry, %eax
    wrmsr
    mov 24(%esp), %eax
    mov 28(%esp), %edx
    mov kt_user_esp, %ecx
    sub $8, %ecx
    mov %eax, 0(%ecx)
    mov %edx, 4(%ecx)
    mov $0x23, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov $kt_user_tramp_se, %edx
    sysexit

kt_user_tramp_se:
    pop %eax
    call *%eax
    sysenter
    ud2

kt_sysenter_entry:
    push %eax
    call kt_user_return

/* void kt_user_return(uint32_t value): back on the kernel stack saved by kt_user_call. */
    .globl kt_user_return
kt_user_return:
    mov 4(%esp), %eax
    mov $0x10, %ecx
    mov %ecx, %ds
    mov %ecx, %es
    mov %ecx, %fs
    mov %ecx, %gs
    mov %ecx, %ss
    mov kt_user_ksp, %esp
    popf
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret

    .section .bss
    .align 4
kt_user_ksp:
    .long 0
