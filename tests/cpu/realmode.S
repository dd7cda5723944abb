/* realmode: leave protected mode, run 16-bit real-address-mode code and come back (SDM vol. 3A
 * 9.9.2 "Switching Back to Real-Address Mode", 9.9.1 entering protected mode, 20.1 real-address
 * mode operation incl. 20.1.4 interrupt and exception handling through the IVT). The blob is
 * copied to RM_BASE and runs with CS = DS = SS = RM_BASE >> 4, so it only uses offsets from
 * rm_blob; rm_res receives the results. */

#define RM_BASE 0x7000
#define RM_SEG  (RM_BASE >> 4)
#define OFF(x)  ((x) - rm_blob)

    .text
    .code32
/* void rm_run(void): from 32-bit protected mode at CPL 0 with paging off. */
    .globl rm_run
rm_run:
    pushal
    mov %esp, rm_saved_esp
    ljmp $0x38, $(RM_BASE + OFF(rm_entry16))

/* Back in protected mode from the blob's far jump. */
rm_back32:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %fs
    mov %eax, %gs
    mov %eax, %ss
    mov rm_saved_esp, %esp
    call kt_load_idt
    popal
    ret

    .section .bss
    .align 4
rm_saved_esp:
    .long 0

    .section .rodata
    .globl rm_blob, rm_blob_end, rm_res_off, rm_int60_off, rm_int60b_off, rm_de_off
    .globl rm_after_int_off, rm_div_off
rm_res_off:
    .long OFF(rm_res)
rm_int60_off:
    .long OFF(rm_int60)
rm_int60b_off:
    .long OFF(rm_int60b)
rm_de_off:
    .long OFF(rm_de)
rm_after_int_off:
    .long OFF(rm_after_int)
rm_div_off:
    .long OFF(rm_div)

    .p2align 4
    .code16
rm_blob:
/* 16-bit protected mode, CS = KT_CS16 (base 0, limit 64 KiB). */
rm_entry16:
    mov $0x40, %ax              /* KT_DS16: 64 KiB limit, byte granular, writable */
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    lidt RM_BASE + OFF(rm_ivt_desc)
    mov %cr0, %eax
    and $~1, %eax
    mov %eax, %cr0
    ljmp $RM_SEG, $OFF(rm_real)

rm_real:
    mov $RM_SEG, %ax
    mov %ax, %ds
    mov %ax, %ss
    mov $0x2000, %sp
    xor %ax, %ax
    mov %ax, %es

    /* [0] segment arithmetic: 1234:5678 and 179b:0008 are the same linear byte (0x179b8). */
    mov $0x1234, %ax
    mov %ax, %es
    movw $0xbeef, %es:0x5678
    mov $0x179b, %ax
    mov %ax, %fs
    mov %fs:0x0008, %ax
    mov %ax, OFF(rm_res) + 0

    /* [1..3] INT 60h through the IVT: pushes FLAGS, CS, IP; the handler returns AX. */
    stc
    int $0x60
rm_after_int:
    mov %ax, OFF(rm_res) + 2
    setc %al
    mov %al, OFF(rm_res) + 30

    /* [4..5] divide error through IVT[0]: the pushed IP is the DIV itself (a fault). */
    mov $1, %ax
    mov $0, %bl
rm_div:
    div %bl
    movw $1, OFF(rm_res) + 10   /* reached: the handler skipped the DIV */

    /* [6] far call and far return within real mode. */
    lcall $RM_SEG, $OFF(rm_far)
    mov %ax, OFF(rm_res) + 12

    /* [7] FFFF:0010 is linear 0x100000 (A20 on): the first multiboot magic byte. */
    mov $0xffff, %ax
    mov %ax, %es
    movzbw %es:0x0010, %ax
    mov %ax, OFF(rm_res) + 14

    /* [8] LIDT moves the real-mode IVT too. */
    lidt OFF(rm_ivt2_desc)
    int $0x60
    mov %ax, OFF(rm_res) + 16
    lidt OFF(rm_ivt_desc)

    /* [9] PUSH SP pushes the value before the decrement. */
    mov %sp, %bx
    push %sp
    pop %ax
    sub %bx, %ax
    mov %ax, OFF(rm_res) + 18

    /* [10] 32-bit operands in real mode (66 prefix). */
    movl $0x12345678, %eax
    shrl $16, %eax
    mov %ax, OFF(rm_res) + 20

    /* [11] CR0.PE reads as 0. */
    mov %cr0, %eax
    and $1, %ax
    mov %ax, OFF(rm_res) + 22

    /* [12] LOOP counts with CX. */
    mov $5, %cx
    xor %ax, %ax
1:  add $3, %ax
    loop 1b
    mov %ax, OFF(rm_res) + 24

    /* [13] SP wraps within the 64 KiB stack segment: a push at SP = 0 leaves SP = FFFE. */
    mov %sp, %bx
    mov $0, %sp
    push $0x5a5a
    mov %sp, %ax
    mov %bx, %sp
    mov %ax, OFF(rm_res) + 26

    /* [14] the segment register value is what was loaded (not a selector). */
    mov %ds, %ax
    mov %ax, OFF(rm_res) + 28

    /* Back to protected mode. */
    cli
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $rm_back32

rm_int60:
    push %bp
    mov %sp, %bp
    mov 2(%bp), %ax             /* pushed IP */
    mov %ax, OFF(rm_res) + 4
    mov 4(%bp), %ax             /* pushed CS */
    mov %ax, OFF(rm_res) + 6
    mov 6(%bp), %ax             /* pushed FLAGS */
    mov %ax, OFF(rm_res) + 8
    mov $0x6060, %ax
    pop %bp
    iret

rm_int60b:
    mov $0x8080, %ax
    iret

rm_de:
    push %bp
    mov %sp, %bp
    mov 2(%bp), %ax
    mov %ax, OFF(rm_res) + 32   /* IP of the faulting DIV */
    addw $2, 2(%bp)             /* skip "div %bl" */
    pop %bp
    iret

rm_far:
    mov $0xfa4, %ax
    lret

    .p2align 2
rm_ivt_desc:
    .word 0x3ff
    .long 0
rm_ivt2_desc:
    .word 0x3ff
    .long 0x8000
    .p2align 2
rm_res:
    .fill 20, 2, 0xffff
rm_blob_end:
    .code32
