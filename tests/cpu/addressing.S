/* addressing: generated LEAs covering every 32-bit ModRM/SIB form and every 16-bit ModRM form
 * (SDM vol. 2A 2.1.5, tables 2-1, 2-2 and 2-3). Each entry records its encoding fields and
 * the effective address LEA produced; addressing.c computes the expected values. */

#define DISP8  0x85       /* -123: checks sign extension */
#define DISP32 0x87654321
#define DISP16 0x8765

/* Register values during the LEAs (kept in sync with addressing.c). */
#define V_EAX 0x00000011
#define V_ECX 0x00002200
#define V_EDX 0x00330000
#define V_EBX 0x4400f123
#define V_ESP 0x05500000
#define V_EBP 0x00068004
#define V_ESI 0x00000770
#define V_EDI 0x08809008

    .section .data.addr_table, "aw"
    .align 4
    .globl addr32_table
addr32_table:

    .text
    /* One table entry: {fields, result}; fields = mod | rm<<4 | sib<<8 | scale<<12 |
     * index<<16 | base<<20 | a16<<24. The LEA writes EAX, which is reloaded afterwards. */
    .macro entry fields
    .pushsection .data.addr_table, "aw"
    .long \fields
1:  .long 0xdeadbeef
    .popsection
    mov %eax, 1b
    mov $V_EAX, %eax
    .endm

    .macro disp mod, rm16 = 0, base = 0, a16 = 0
    .if \a16
    .if \mod == 1
    .byte DISP8
    .elseif \mod == 2 || (\mod == 0 && \rm16 == 6)
    .word DISP16
    .endif
    .else
    .if \mod == 1
    .byte DISP8
    .elseif \mod == 2 || (\mod == 0 && \base == 5)
    .long DISP32
    .endif
    .endif
    .endm

    .macro plain mod, rm
    .byte 0x8d, (\mod << 6) | \rm
    disp \mod, 0, \rm
    entry (\mod | (\rm << 4))
    .endm

    .macro sib mod, base, index, scale
    .byte 0x8d, (\mod << 6) | 4, (\scale << 6) | (\index << 3) | \base
    disp \mod, 0, \base
    entry (\mod | (4 << 4) | (1 << 8) | (\scale << 12) | (\index << 16) | (\base << 20))
    .endm

    .macro mod16 mod, rm
    .byte 0x67, 0x8d, (\mod << 6) | \rm
    disp \mod, \rm, 0, 1
    entry (\mod | (\rm << 4) | (1 << 24))
    .endm

/* void addr_run_leas(void): runs every form; clobbers nothing the caller can see. */
    .globl addr_run_leas
addr_run_leas:
    pushal
    mov %esp, addr_saved_esp
    mov $V_EAX, %eax
    mov $V_ECX, %ecx
    mov $V_EDX, %edx
    mov $V_EBX, %ebx
    mov $V_ESP, %esp
    mov $V_EBP, %ebp
    mov $V_ESI, %esi
    mov $V_EDI, %edi

    .irp mod, 0, 1, 2
    .irp rm, 0, 1, 2, 3, 5, 6, 7
    plain \mod, \rm
    .endr
    .irp base, 0, 1, 2, 3, 4, 5, 6, 7
    .irp index, 0, 1, 2, 3, 4, 5, 6, 7
    .irp scale, 0, 1, 2, 3
    sib \mod, \base, \index, \scale
    .endr
    .endr
    .endr
    .irp rm, 0, 1, 2, 3, 4, 5, 6, 7
    mod16 \mod, \rm
    .endr
    .endr

    mov addr_saved_esp, %esp
    popal
    ret

    .section .data.addr_table, "aw"
    .globl addr32_table_end
addr32_table_end:

    .section .bss
    .align 4
addr_saved_esp:
    .long 0
