/* exceptions: delivery details (SDM vol. 3A 6.13 error codes and the EXT/IDT bits, 6.15
 * exception reference, table 6-5 double-fault conditions, 17.3 debug exceptions, 7.3 task gates
 * for #DF) and the software-interrupt family INT3/INT n/INTO/INT1. */
#include "kt.h"

/* ---- #BP, #OF, INT1, INT n ---- */

static void trap_tests(void)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int3" KT_END ::: "memory");
    kt_eq_fault(3, 0, kt_site + 1, "int3_bp_trap");
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0xcd, 0x03" KT_END ::: "memory"); /* not the 0xcc form */
    kt_eq_fault(3, 0, kt_site + 2, "int_3_bp_trap");
    kt_fault_reset();
    __asm__ volatile("movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\t" KT_TRY "into" KT_END ::
                         : "eax", "memory", "cc");
    kt_eq_fault(4, 0, kt_site + 1, "into_of_set_trap");
    kt_fault_reset();
    __asm__ volatile("xorl %%eax, %%eax\n\t" KT_TRY "into" KT_END ::: "eax", "memory", "cc");
    kt_no_fault("into_of_clear_nothing");
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0xf1" KT_END ::: "memory");
    kt_eq_fault(1, 0, kt_site + 1, "int1_icebp_db_trap");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int $0x55" KT_END ::: "memory");
    kt_eq_fault(0x55, 0, kt_site + 2, "int_n_vector");
    /* INT n pushes no error code even for vectors that normally have one... our stubs assume
     * one for 8/10-14/17, so only check the CPU-side frame via a custom handler on 0x56. */
}

/* ---- error codes with the IDT and EXT bits ---- */

static volatile uint32_t db_count, db_eip, db_dr6;
static void db_handler(struct kt_frame *f)
{
    db_count++;
    db_eip = f->eip;
    __asm__ volatile("mov %%dr6, %0" : "=r"(db_dr6));
    f->eflags &= ~FL_TF;
    f->eflags |= FL_RF; /* lets an instruction breakpoint's instruction run on return */
}

static void error_code_tests(void)
{
    /* Software INT to a not-present gate: #NP(vector<<3 | IDT), EXT=0. */
    kt_idt[0x90] &= ~(1ull << 47);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int $0x90" KT_END ::: "memory");
    kt_eq_fault(11, (0x90 << 3) | 2, kt_site, "int_gate_not_present_np");
    kt_reset_gate(0x90);

    /* A gate whose type is not a gate: #GP(vector<<3 | IDT). */
    kt_idt[0x91] = kt_seg_desc(0, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int $0x91" KT_END ::: "memory");
    kt_eq_fault(13, (0x91 << 3) | 2, kt_site, "int_gate_bad_type_gp");
    kt_reset_gate(0x91);

    /* Vector beyond the IDT limit: #GP(vector<<3 | IDT). */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } small = {0x20 * 8 - 1, (uint32_t)kt_idt};
    kt_fault_reset();
    __asm__ volatile("lidt %0\n\t" KT_TRY "int $0x40" KT_END : : "m"(small) : "memory");
    kt_load_idt();
    kt_eq_fault(13, (0x40 << 3) | 2, kt_site, "int_beyond_idt_limit_gp");

    /* Gate pointing at a not-present code segment: #NP(code selector). */
    const int ci = KT_GDT_SPARE;
    kt_gdt[ci] = kt_seg_desc(0, 0xfffff, 0x1a, KT_FL_32);
    kt_idt[0x92] = kt_gate_desc(ci << 3, 0x1000, KT_GATE_INT);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int $0x92" KT_END ::: "memory");
    kt_eq_fault(11, ci << 3, kt_site, "int_gate_code_not_present_np");
    kt_reset_gate(0x92);

    /* A benign exception (single-step #DB) whose gate is not present: the #NP carries EXT=1. */
    kt_idt[1] &= ~(1ull << 47);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "pushf\n\torl $0x100, (%%esp)\n\tpopf\n\tnop\n\tnop" KT_END
                            "pushf\n\tandl $~0x100, (%%esp)\n\tpopf" ::
                                : "memory", "cc");
    kt_reset_gate(1);
    kt_eq(kt_last.vector, 11, "db_gate_not_present_np");
    kt_eq(kt_last.error, (1 << 3) | 2 | 1, "db_gate_not_present_ext_bit");
    /* The frame's EFLAGS had TF; our fixup IRET could keep stepping: make sure it is off. */
    __asm__ volatile("pushf\n\tandl $~0x100, (%%esp)\n\tpopf" ::: "memory", "cc");
}

/* ---- debug exceptions: single step and hardware breakpoints ---- */

uint32_t bp_data;
void bp_insn(void);

static void debug_tests(void)
{
    kt_set_handler(1, db_handler);
    uint32_t after;
    db_count = 0;
    __asm__ volatile("mov %1, %%dr6\n\tpushf\n\torl $0x100, (%%esp)\n\tpopf\n\tnop\n1:\n\t"
                     "movl $1b, %0"
                     : "=r"(after)
                     : "r"(0)
                     : "memory", "cc");
    kt_eq(db_count, 1, "single_step_one_trap");
    kt_eq(db_eip, after, "single_step_after_next_insn");
    kt_ok(db_dr6 & (1u << 14), "single_step_dr6_bs");

    /* Data write breakpoint on bp_data (RW=01, LEN=11): a trap after the write. */
    db_count = 0;
    __asm__ volatile("mov %0, %%dr0\n\tmov %1, %%dr6\n\tmov %2, %%dr7"
                     :
                     : "r"(&bp_data), "r"(0), "r"(0x000d0001)
                     : "memory");
    volatile uint32_t x = bp_data; /* reads do not trigger a write breakpoint */
    (void)x;
    kt_eq(db_count, 0, "data_bp_read_ignored");
    __asm__ volatile("movl $5, bp_data\n1:\n\tmovl $1b, %0" : "=r"(after) : : "memory");
    kt_eq(db_count, 1, "data_bp_write_traps");
    kt_eq(db_eip, after, "data_bp_trap_eip_after_write");
    kt_ok(db_dr6 & 1, "data_bp_dr6_b0");
    kt_eq(bp_data, 5, "data_bp_write_done");
    /* Read/write breakpoint (RW=11) on a byte inside the dword. */
    db_count = 0;
    __asm__ volatile("mov %0, %%dr1\n\tmov %1, %%dr6\n\tmov %2, %%dr7"
                     :
                     : "r"((uint8_t *)&bp_data + 2), "r"(0), "r"(0x00300004)
                     : "memory");
    x = bp_data;
    kt_eq(db_count, 1, "rw_bp_read_traps");
    kt_ok(db_dr6 & 2, "rw_bp_dr6_b1");
    /* Instruction breakpoint (RW=00, LEN=00): a fault before the instruction; RF set by the
     * handler lets it run on return. */
    db_count = 0;
    __asm__ volatile("mov %0, %%dr2\n\tmov %1, %%dr6\n\tmov %2, %%dr7"
                     :
                     : "r"(bp_insn), "r"(0), "r"(0x00000010)
                     : "memory");
    uint32_t v = 0;
    __asm__ volatile("bp_insn:\n\tmovl $7, %0" : "=r"(v));
    __asm__ volatile("mov %0, %%dr7" : : "r"(0) : "memory");
    kt_eq(db_count, 1, "insn_bp_fault_once");
    kt_eq(db_eip, (uint32_t)bp_insn, "insn_bp_eip_is_insn");
    kt_ok(db_dr6 & 4, "insn_bp_dr6_b2");
    kt_eq(v, 7, "insn_bp_insn_then_runs");
    kt_set_handler(1, NULL);
}

/* ---- #DF: contributory fault while delivering a contributory fault ---- */

static void df_tests(void)
{
    /* #GP's gate is not present: the #NP raised while delivering #GP becomes #DF(0). */
    kt_idt[13] &= ~(1ull << 47);
    kt_fault_reset();
    kt_fixup_cs = KT_CS;
    __asm__ volatile(KT_TRY "mov %0, %%ds" KT_END "mov %1, %%ds"
                     :
                     : "r"(0x3f8), "r"(KT_DS)
                     : "memory");
    kt_reset_gate(13);
    kt_eq(kt_last.vector, 8, "gp_then_np_is_df");
    kt_eq(kt_last.error, 0, "df_error_code_0");

    /* #DE whose gate points at a not-present code segment: contributory + contributory. */
    const int ci = KT_GDT_SPARE;
    kt_gdt[ci] = kt_seg_desc(0, 0xfffff, 0x1a, KT_FL_32);
    kt_idt[0] = kt_gate_desc(ci << 3, 0x1000, KT_GATE_INT);
    kt_fault_reset();
    kt_fixup_cs = KT_CS;
    uint32_t a = 1, d = 0, z = 0;
    __asm__ volatile(KT_TRY "divl %2" KT_END : "+a"(a), "+d"(d) : "r"(z) : "memory");
    kt_reset_gate(0);
    kt_eq(kt_last.vector, 8, "de_then_np_is_df");

    /* Benign then contributory is handled serially: #BP with a not-present gate gives #NP. */
    kt_idt[3] &= ~(1ull << 47);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "int3" KT_END ::: "memory");
    kt_reset_gate(3);
    kt_eq_fault(11, (3 << 3) | 2, kt_site, "bp_then_np_serial");
}

/* ---- #DF through a task gate: #PF while delivering #PF (ring-0 stack unmapped) ---- */

static kt_jmp_buf df_jb;
static volatile uint32_t df_error, df_tr, df_cr2, df_link;
static uint8_t df_stack[2048] __attribute__((aligned(16)));

/* Runs as the #DF task: the old context cannot be resumed, so unwind to df_jb. */
void df_task_main(uint32_t error)
{
    df_error = error;
    uint16_t tr;
    __asm__ volatile("str %0" : "=r"(tr));
    df_tr = tr;
    df_cr2 = read_cr2();
    df_link = kt_tss2.link;
    kt_longjmp(df_jb, 1);
}
void df_task_entry(void);
__asm__(".text\ndf_task_entry:\n\tcall df_task_main\n\tud2\n");

static uint32_t touch(uint32_t va)
{
    return *(volatile uint32_t *)va;
}

static void df_task_tests(void)
{
    kt_paging_init(PTE_P | PTE_W | PTE_U, 0);
    kt_paging_enable();
    memset(&kt_tss2, 0, sizeof(kt_tss2));
    /* The error code is pushed on the new task's stack, then df_task_entry calls with it as
     * the argument (it sits where a return address would be, so leave a slot below). */
    kt_tss2.eip = (uint32_t)df_task_entry;
    kt_tss2.eflags = 0x2;
    kt_tss2.esp = (uint32_t)&df_stack[2048];
    kt_tss2.cs = KT_CS;
    kt_tss2.ss = kt_tss2.ds = kt_tss2.es = kt_tss2.fs = kt_tss2.gs = KT_DS;
    kt_tss2.cr3 = read_cr3();
    kt_tss2.iomap = sizeof(kt_tss2);
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&kt_tss2, sizeof(kt_tss2) - 1, KT_ACC_TSS, 0);
    kt_idt[8] = kt_gate_desc(KT_TSS2, 0, KT_GATE_TASK);

    uint32_t saved_esp0 = kt_tss.esp0;
    kt_tss.esp0 = 0x50000000; /* no page table there */
    df_error = 0xffffffff;
    if (kt_setjmp(df_jb) == 0) {
        kt_user_call(touch, 0x60000000);
        kt_fail("pf_on_pf_stack_df", "user access to an unmapped page returned");
    } else {
        /* Back from the #DF task: give TR back to the main TSS. */
        kt_gdt[KT_TSS >> 3] &= ~(2ull << 40);
        __asm__ volatile("ltr %w0" : : "r"(KT_TSS) : "memory");
        kt_gdt[KT_TSS2 >> 3] &= ~(2ull << 40);
        kt_eq(df_tr, KT_TSS2, "pf_on_pf_stack_df_task_runs");
        kt_eq(df_error, 0, "pf_on_pf_stack_df_error_0");
        kt_eq(df_link, KT_TSS, "df_task_back_link");
        /* CR2 names the ring-0 stack frame (which of its five dwords is up to the CPU). */
        kt_ok(df_cr2 >= 0x50000000 - 20 && df_cr2 < 0x50000000, "df_cr2_is_stack_push");
    }
    kt_tss.esp0 = saved_esp0;
    kt_reset_gate(8);
    kt_paging_disable();
}

/* ---- #TS and #AC ---- */

static uint32_t u_misaligned(uint32_t addr)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "movl (%0), %%eax" KT_END : : "r"(addr) : "eax", "memory");
    return 0;
}

static void misc_tests(void)
{
    /* A TSS descriptor whose limit is below 67H: #TS(selector) on the task switch. */
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&kt_tss2, 0x50, KT_ACC_TSS, 0);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(KT_TSS2) : "memory");
    kt_eq_fault(10, KT_TSS2, kt_site, "task_tss_limit_too_small_ts");
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&kt_tss2, sizeof(kt_tss2) - 1, KT_ACC_TSS, 0);

    /* Alignment check: CR0.AM, EFLAGS.AC, CPL 3, misaligned data access -> #AC(0). */
    static uint32_t buf[4];
    write_cr0(read_cr0() | CR0_AM);
    kt_user_eflags = 0x2 | FL_AC;
    kt_user_call(u_misaligned, (uint32_t)buf + 1);
    kt_eq_fault(17, 0, kt_site, "ac_misaligned_cpl3");
    kt_user_call(u_misaligned, (uint32_t)buf + 4);
    kt_no_fault("ac_aligned_ok");
    kt_user_eflags = 0x2;
    kt_user_call(u_misaligned, (uint32_t)buf + 1);
    kt_no_fault("ac_flag_clear_ok");
    write_cr0(read_cr0() & ~CR0_AM);
    /* At CPL 0 alignment checking never applies. */
    write_eflags(read_eflags() | FL_AC);
    u_misaligned((uint32_t)buf + 1);
    write_eflags(read_eflags() & ~FL_AC);
    kt_no_fault("ac_cpl0_never");
}

void test_main(void)
{
    trap_tests();
    error_code_tests();
    debug_tests();
    df_tests();
    df_task_tests();
    misc_tests();
}
