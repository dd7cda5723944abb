/* Differential CPU tests: embeds the generated case file (DIFF_CASES, a quoted path). */
        .section .rodata
        .balign 16
        .globl  diff_blob
        .globl  diff_blob_end
diff_blob:
        .incbin DIFF_CASES
diff_blob_end:
        .section .note.GNU-stack, "", @progbits
