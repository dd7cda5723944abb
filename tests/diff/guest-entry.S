/* Differential CPU tests, guest side: multiboot v1 entry, a flat ring-0 GDT and exception stubs
 * for vectors 0-31 that hand the faulting state to guest_exception(). */
        .section .multiboot, "a"
        .balign 4
        .long   0x1badb002
        .long   0
        .long   -0x1badb002

        .text
        .code32
        .globl  _start
_start:
        cli
        lgdt    gdt_desc
        ljmp    $0x08, $1f
1:      mov     $0x10, %ax
        mov     %ax, %ds
        mov     %ax, %es
        mov     %ax, %ss
        mov     %ax, %fs
        mov     %ax, %gs
        mov     $stack_top, %esp
        cld
        call    guest_main
2:      hlt
        jmp     2b

/* Vectors that push an error code: 8, 10-14, 17, 21, 29, 30. The others push a dummy 0 so
 * every frame has the same shape. */
        .macro  stub v
        .balign 16
exc_\v:
        .if     (\v == 8) || (\v >= 10 && \v <= 14) || (\v == 17) || (\v == 21) || (\v == 29) || (\v == 30)
        .else
        pushl   $0
        .endif
        pushl   $\v
        jmp     exc_common
        .endm

        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        stub    \v
        .endr

/* Frame after pushal: edi esi ebp esp ebx edx ecx eax, vector, error, eip, cs, eflags. */
exc_common:
        pushal
        push    %esp
        call    guest_exception
        add     $4, %esp
        test    %eax, %eax
        jz      3f
        jmp     diff_leave
3:      hlt
        jmp     3b

        .globl  guest_exc_stubs
        .section .rodata
        .balign 4
guest_exc_stubs:
        .irp    v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        .long   exc_\v
        .endr

        .balign 8
gdt:
        .quad   0
        .quad   0x00cf9a000000ffff /* 0x08: ring-0 code, flat */
        .quad   0x00cf92000000ffff /* 0x10: ring-0 data, flat */
gdt_end:
gdt_desc:
        .word   gdt_end - gdt - 1
        .long   gdt

        .bss
        .balign 16
        .space  65536
stack_top:

        .section .note.GNU-stack, "", @progbits
