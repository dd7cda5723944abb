/* privilege: ring transitions and protection (SDM vol. 3A 5.8 call gates and RET, 6.12 stack
 * switch on interrupts and the gate DPL check, 5.9 privileged instructions, 18.5 I/O
 * permission bitmap, 7.3 task switching; vol. 2 SYSENTER/SYSEXIT, IRET, INT n). */
#include "kt.h"

/* ---- INT n from ring 3 through a DPL-3 interrupt gate ---- */

#define VEC_U3     0x80 /* DPL 3 gate */
#define VEC_U0     0x81 /* DPL 0 gate */
#define VEC_IRETES 0x82 /* DPL 3 gate whose handler returns with ES = ring-0 data */

uint32_t pv_user_esp, pv_user_eip;
static struct kt_frame int_frame;
static uint32_t int_frame_addr, int_ss, int_eflags;

static void int_handler(struct kt_frame *f)
{
    int_frame = *f;
    int_frame_addr = (uint32_t)&f->eip;
    int_ss = read_ss();
    int_eflags = read_eflags();
    f->eax = 0x600d;
}

static uint32_t user_int(uint32_t arg)
{
    uint32_t r;
    __asm__ volatile("movl %%esp, pv_user_esp\n\tmovl $1f, pv_user_eip\n\tint $0x80\n1:"
                     : "=a"(r)
                     : "0"(arg)
                     : "memory");
    return r;
}

static void int_gate_tests(void)
{
    kt_set_gate(VEC_U3, KT_GATE_INT | KT_GATE_DPL3);
    kt_set_handler(VEC_U3, int_handler);
    kt_user_eflags = 0x2 | FL_CF;
    uint32_t r = kt_user_call(user_int, 1);
    kt_eq(r, 0x600d, "int_dpl3_gate_returns");
    kt_eq(int_frame_addr, (uint32_t)kt_trap_stack_top - 20, "int_frame_at_tss_esp0");
    kt_eq(int_ss, KT_DS, "int_handler_ss_is_ss0");
    kt_eq(int_frame.ss & 0xffff, KT_UDS, "int_frame_ss");
    kt_eq(int_frame.esp, pv_user_esp, "int_frame_esp");
    kt_eq(int_frame.cs & 0xffff, KT_UCS, "int_frame_cs");
    kt_eq(int_frame.eip, pv_user_eip, "int_frame_eip_after_int");
    kt_eq(int_frame.eflags & (FL_CF | FL_IF | FL_IOPL | 0x2), 0x2 | FL_CF, "int_frame_eflags");
    kt_eq(int_frame.ds & 0xffff, KT_UDS, "int_handler_sees_user_ds");
    kt_ok(!(int_eflags & FL_IF), "int_gate_clears_if");

    /* A different ESP0/SS0 in the TSS moves the frame. */
    static uint8_t alt_stack[1024] __attribute__((aligned(16)));
    kt_gdt[KT_GDT_SPARE] = kt_seg_desc(0, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    kt_tss.esp0 = (uint32_t)&alt_stack[1024];
    kt_tss.ss0 = KT_GDT_SPARE << 3;
    kt_user_call(user_int, 2);
    kt_tss.esp0 = (uint32_t)kt_trap_stack_top;
    kt_tss.ss0 = KT_DS;
    kt_eq(int_frame_addr, (uint32_t)&alt_stack[1024] - 20, "int_uses_new_esp0");
    kt_eq(int_ss, KT_GDT_SPARE << 3, "int_uses_new_ss0");
    kt_set_handler(VEC_U3, NULL);
    kt_user_eflags = 0x2;
}

/* ---- faults of INT n and friends from ring 3 ---- */

#define USER_TRY(fn, insn)                                                                         \
    static uint32_t fn(uint32_t arg)                                                               \
    {                                                                                              \
        kt_fault_reset();                                                                          \
        __asm__ volatile(KT_TRY insn KT_END                                                        \
                         :                                                                         \
                         :                                                                         \
                         : "eax", "ecx", "edx", "esi", "edi", "memory", "cc");                     \
        return 0;                                                                                  \
    }

USER_TRY(u_int_dpl0, "int $0x81")
USER_TRY(u_int3, "int3")
USER_TRY(u_int_03, "int $3")
USER_TRY(u_into, "movl $0x7fffffff, %%eax\n\taddl $1, %%eax\n\tinto")
USER_TRY(u_icebp, ".byte 0xf1")
USER_TRY(u_hlt, "hlt")
USER_TRY(u_cli, "cli")
USER_TRY(u_sti, "sti")
USER_TRY(u_mov_from_cr0, "movl %%cr0, %%eax")
USER_TRY(u_mov_to_cr0, "movl $0x11, %%eax\n\tmovl %%eax, %%cr0")
USER_TRY(u_mov_cr3, "movl %%cr3, %%eax")
USER_TRY(u_mov_dr7, "movl %%dr7, %%eax")
USER_TRY(u_lgdt, "lgdt kt_gdt")
USER_TRY(u_lidt, "lidt kt_idt")
USER_TRY(u_lldt, "xorl %%eax, %%eax\n\tlldt %%ax")
USER_TRY(u_ltr, "movl $0x28, %%eax\n\tltr %%ax")
USER_TRY(u_lmsw, "movl $1, %%eax\n\tlmsw %%ax")
USER_TRY(u_clts, "clts")
USER_TRY(u_invd, "invd")
USER_TRY(u_wbinvd, "wbinvd")
USER_TRY(u_invlpg, "invlpg 0x100000")
USER_TRY(u_rdmsr, "movl $0x10, %%ecx\n\trdmsr")
USER_TRY(u_wrmsr, "movl $0x174, %%ecx\n\txorl %%eax, %%eax\n\txorl %%edx, %%edx\n\twrmsr")
USER_TRY(u_in, "inb $0x80, %%al")
USER_TRY(u_out, "outb %%al, $0x80")
USER_TRY(u_in_dx, "movl $0x81, %%edx\n\tinb %%dx, %%al")
USER_TRY(u_in_word, "movl $0x80, %%edx\n\tinw %%dx, %%ax")
USER_TRY(u_outsb, "movl $0x80, %%edx\n\tmovl $kt_tss, %%esi\n\toutsb")
USER_TRY(u_insb, "movl $0x80, %%edx\n\tmovl $pv_user_esp, %%edi\n\tinsb")
USER_TRY(u_rdtsc, "rdtsc")
USER_TRY(u_rdpmc, "xorl %%ecx, %%ecx\n\trdpmc")
USER_TRY(u_sysexit, "sysexit")
USER_TRY(u_sgdt, "sgdt pv_user_esp")
USER_TRY(u_smsw, "smsw %%ax")
USER_TRY(u_str, "str %%ax")

struct user_case {
    const char *name;
    uint32_t (*fn)(uint32_t);
    uint32_t vec, err; /* vec KT_ANY: no fault expected */
    int eip_after;     /* traps report the next instruction */
};

static void run_user_cases(const struct user_case *c, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        kt_user_call(c[i].fn, 0);
        if (c[i].vec == KT_ANY)
            kt_no_fault("%s", c[i].name);
        else if (c[i].eip_after)
            kt_eq_fault(c[i].vec, c[i].err, KT_ANY, "%s", c[i].name);
        else
            kt_eq_fault(c[i].vec, c[i].err, kt_site, "%s", c[i].name);
    }
}

static void user_fault_tests(void)
{
    static const struct user_case cases[] = {
        {"int_dpl0_gate_gp", u_int_dpl0, 13, (VEC_U0 << 3) | 2, 0},
        {"int3_dpl0_gate_gp", u_int3, 13, (3 << 3) | 2, 0},
        {"int_03_dpl0_gate_gp", u_int_03, 13, (3 << 3) | 2, 0},
        {"into_dpl0_gate_gp", u_into, 13, (4 << 3) | 2, 1},
        {"icebp_ignores_gate_dpl", u_icebp, 1, 0, 1},
        {"hlt_gp", u_hlt, 13, 0, 0},
        {"cli_iopl0_gp", u_cli, 13, 0, 0},
        {"sti_iopl0_gp", u_sti, 13, 0, 0},
        {"mov_from_cr0_gp", u_mov_from_cr0, 13, 0, 0},
        {"mov_to_cr0_gp", u_mov_to_cr0, 13, 0, 1},
        {"mov_from_cr3_gp", u_mov_cr3, 13, 0, 0},
        {"mov_from_dr7_gp", u_mov_dr7, 13, 0, 0},
        {"lgdt_gp", u_lgdt, 13, 0, 0},
        {"lidt_gp", u_lidt, 13, 0, 0},
        {"lldt_gp", u_lldt, 13, 0, 1},
        {"ltr_gp", u_ltr, 13, 0, 1},
        {"lmsw_gp", u_lmsw, 13, 0, 1},
        {"clts_gp", u_clts, 13, 0, 0},
        {"invd_gp", u_invd, 13, 0, 0},
        {"wbinvd_gp", u_wbinvd, 13, 0, 0},
        {"invlpg_gp", u_invlpg, 13, 0, 0},
        {"rdmsr_gp", u_rdmsr, 13, 0, 1},
        {"wrmsr_gp", u_wrmsr, 13, 0, 1},
        {"in_imm_iopl0_gp", u_in, 13, 0, 0},
        {"out_imm_iopl0_gp", u_out, 13, 0, 0},
        {"in_dx_iopl0_gp", u_in_dx, 13, 0, 1},
        {"outsb_iopl0_gp", u_outsb, 13, 0, 1},
        {"insb_iopl0_gp", u_insb, 13, 0, 1},
        {"rdpmc_pce0_gp", u_rdpmc, 13, 0, 1},
        {"sysexit_cpl3_gp", u_sysexit, 13, 0, 0},
        {"rdtsc_tsd0_ok", u_rdtsc, KT_ANY, 0, 0},
        {"sgdt_allowed", u_sgdt, KT_ANY, 0, 0},
        {"smsw_allowed", u_smsw, KT_ANY, 0, 0},
        {"str_allowed", u_str, KT_ANY, 0, 0},
    };
    run_user_cases(cases, sizeof(cases) / sizeof(cases[0]));
    kt_user_call(u_icebp, 0);
    kt_eq(kt_last.eip, kt_site + 1, "icebp_is_trap");

    /* CR4.TSD makes RDTSC privileged. */
    write_cr4(read_cr4() | CR4_TSD);
    kt_user_call(u_rdtsc, 0);
    write_cr4(read_cr4() & ~CR4_TSD);
    kt_eq_fault(13, 0, kt_site, "rdtsc_tsd1_gp");

    /* IOPL 3: CLI/STI and port I/O become legal at CPL 3. */
    static const struct user_case iopl3[] = {
        {"cli_iopl3_ok", u_cli, KT_ANY, 0, 0},   {"in_iopl3_ok", u_in, KT_ANY, 0, 0},
        {"out_iopl3_ok", u_out, KT_ANY, 0, 0},   {"in_word_iopl3_ok", u_in_word, KT_ANY, 0, 0},
        {"hlt_iopl3_still_gp", u_hlt, 13, 0, 0},
    };
    kt_user_eflags = 0x2 | FL_IOPL;
    run_user_cases(iopl3, sizeof(iopl3) / sizeof(iopl3[0]));
    kt_user_eflags = 0x2;
    /* A DPL-3 breakpoint gate lets INT3 through as #BP (a trap). */
    kt_set_gate(3, KT_GATE_INT | KT_GATE_DPL3);
    kt_user_call(u_int3, 0);
    kt_reset_gate(3);
    kt_eq_fault(3, 0, kt_site + 1, "int3_dpl3_gate_bp");
}

/* POPF at CPL 3 with IOPL 0 silently keeps IF and IOPL. */
static uint32_t u_popf(uint32_t arg)
{
    uint32_t f;
    __asm__ volatile("pushl %1\n\tpopf\n\tpushf\n\tpopl %0" : "=r"(f) : "r"(arg) : "cc");
    return f;
}

static void popf_tests(void)
{
    uint32_t f = kt_user_call(u_popf, 0x2 | FL_IF | FL_IOPL | FL_CF);
    kt_eq(f & (FL_IF | FL_IOPL | FL_CF), FL_CF, "popf_cpl3_keeps_if_iopl");
    kt_user_eflags = 0x2 | FL_IOPL;
    f = kt_user_call(u_popf, 0x2 | FL_IF);
    kt_eq(f & (FL_IF | FL_IOPL), FL_IF | FL_IOPL, "popf_cpl3_iopl3_if_not_iopl");
    kt_user_eflags = 0x2;
}

/* ---- I/O permission bitmap ---- */

static struct {
    struct kt_tss t;
    uint8_t map[8192 + 1];
} __attribute__((packed, aligned(128))) io_tss;

static void io_bitmap_tests(void)
{
    memset(&io_tss, 0, sizeof(io_tss));
    io_tss.t.esp0 = (uint32_t)kt_trap_stack_top;
    io_tss.t.ss0 = KT_DS;
    io_tss.t.iomap = sizeof(struct kt_tss);
    memset(io_tss.map, 0xff, sizeof(io_tss.map));
    io_tss.map[0x80 / 8] &= ~1; /* port 0x80 allowed, 0x81 not */
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&io_tss, sizeof(io_tss) - 1, KT_ACC_TSS, 0);
    __asm__ volatile("ltr %w0" : : "r"(KT_TSS2) : "memory");
    static const struct user_case cases[] = {
        {"iobitmap_in_allowed_port", u_in, KT_ANY, 0, 0},
        {"iobitmap_out_allowed_port", u_out, KT_ANY, 0, 0},
        {"iobitmap_in_denied_port_gp", u_in_dx, 13, 0, 1},
        {"iobitmap_word_spanning_denied_gp", u_in_word, 13, 0, 1},
    };
    run_user_cases(cases, sizeof(cases) / sizeof(cases[0]));
    kt_gdt[KT_TSS >> 3] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0" : : "r"(KT_TSS) : "memory");
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&kt_tss2, sizeof(kt_tss2) - 1, KT_ACC_TSS, 0);
}

/* ---- trap gate vs interrupt gate ---- */

static uint32_t h_eflags, h_frame_eflags;
static void flags_handler(struct kt_frame *f)
{
    h_eflags = read_eflags();
    h_frame_eflags = f->eflags;
}

static void gate_type_tests(void)
{
    kt_set_handler(0x40, flags_handler);
    uint32_t saved = read_eflags();
    kt_set_gate(0x40, KT_GATE_INT);
    write_eflags(saved | FL_IF);
    __asm__ volatile("int $0x40" ::: "memory");
    uint32_t after = read_eflags();
    write_eflags(saved);
    kt_ok(!(h_eflags & FL_IF) && (h_frame_eflags & FL_IF), "interrupt_gate_clears_if");
    kt_ok(after & FL_IF, "iret_restores_if");
    kt_set_gate(0x40, KT_GATE_TRAP);
    write_eflags(saved | FL_IF);
    __asm__ volatile("int $0x40" ::: "memory");
    write_eflags(saved);
    kt_ok((h_eflags & FL_IF) && (h_frame_eflags & FL_IF), "trap_gate_keeps_if");
    /* Both clear NT (and TF, RF) for the handler; IRET brings NT back, so clear it at once. */
    write_eflags(saved | FL_NT);
    __asm__ volatile("int $0x40\n\tpushf\n\tandl $~0x4000, (%%esp)\n\tpopf" ::: "memory", "cc");
    kt_ok(!(h_eflags & FL_NT) && (h_frame_eflags & FL_NT), "trap_gate_clears_nt");
    kt_reset_gate(0x40);
    kt_set_handler(0x40, NULL);
}

/* ---- far CALL through a call gate to ring 0, RET back ---- */

uint32_t cg_frame[8], cg_ss, cg_esp0;
void cg_target(void);
__asm__(".text\ncg_target:\n\t"
        "movl %esp, %ss:cg_esp0\n\t"
        "mov %ss, %ss:cg_ss\n\t"
        "pushl %eax\n\tpushl %ecx\n\txorl %ecx, %ecx\n"
        "1:\tmovl 8(%esp,%ecx,4), %eax\n\tmovl %eax, %ss:cg_frame(,%ecx,4)\n\t"
        "incl %ecx\n\tcmpl $6, %ecx\n\tjne 1b\n\t"
        "popl %ecx\n\tpopl %eax\n\t"
        "pushl $0x10\n\tpopl %es\n\t" /* a ring-0 selector in ES: RET must null it */
        "lret $8\n");

uint32_t cg_user_esp_before, cg_user_esp_after, cg_user_es;
struct __attribute__((packed)) {
    uint32_t off;
    uint16_t sel;
} cg_ptr;
static uint32_t u_call_gate(uint32_t sel)
{
    cg_ptr.off = 0;
    cg_ptr.sel = (uint16_t)sel;
    __asm__ volatile("movl %%esp, cg_user_esp_before\n\t"
                     "pushl $0x1111\n\tpushl $0x2222\n\t"
                     "lcall *cg_ptr\n\t"
                     "movl %%esp, cg_user_esp_after\n\t"
                     "movl %%es, %%eax\n\tmovl %%eax, cg_user_es\n\t"
                     "movl $0x23, %%eax\n\tmovl %%eax, %%es\n\t"
                     "movl cg_user_esp_before, %%esp"
                     :
                     :
                     : "eax", "memory");
    return 0;
}

static void call_gate_user(void *sel)
{
    kt_user_call(u_call_gate, (uint32_t)sel);
}

static void call_gate_tests(void)
{
    const int gi = KT_GDT_SPARE + 1;
    /* DPL 3 call gate to ring-0 code, copying 2 parameter dwords. */
    kt_gdt[gi] =
        kt_gate_desc(KT_CS, (uint32_t)cg_target, KT_GATE_CALL | KT_GATE_DPL3) | (2ull << 32);
    memset(cg_frame, 0, sizeof(cg_frame));
    kt_user_call(u_call_gate, (gi << 3) | 3);
    kt_eq(cg_ss, KT_DS, "call_gate_ss_from_tss");
    kt_eq(cg_esp0, (uint32_t)kt_trap_stack_top - 24, "call_gate_stack_switch_esp0");
    kt_eq(cg_frame[1] & 0xffff, KT_UCS, "call_gate_pushed_cs");
    kt_ok(cg_frame[2] == 0x2222 && cg_frame[3] == 0x1111, "call_gate_params_copied");
    kt_eq(cg_frame[4], cg_user_esp_before - 8, "call_gate_pushed_user_esp");
    kt_eq(cg_frame[5] & 0xffff, KT_UDS, "call_gate_pushed_user_ss");
    kt_eq(cg_user_esp_after, cg_user_esp_before, "ret_imm_pops_both_stacks");
    kt_eq(cg_user_es & 0xffff, 0, "ret_to_ring3_nulls_ring0_es");
    /* A DPL-0 call gate is out of reach from ring 3: #GP(gate selector). */
    kt_gdt[gi] = kt_gate_desc(KT_CS, (uint32_t)cg_target, KT_GATE_CALL);
    kt_fault_reset();
    int v = kt_catch(call_gate_user, (void *)((gi << 3) | 3));
    kt_eq(v, 13, "call_gate_dpl0_from_ring3_gp");
    kt_eq(kt_last.error, gi << 3, "call_gate_dpl0_error_code");
}

/* ---- SYSENTER / SYSEXIT ---- */

uint32_t se_esp, se_cs, se_ss, se_eflags, se_user_cs, se_user_ss, se_user_esp;
void se_entry(void);
__asm__(".text\nse_entry:\n\t"
        "movl %esp, %ss:se_esp\n\t"
        "mov %cs, %ss:se_cs\n\t"
        "mov %ss, %ss:se_ss\n\t"
        "pushf\n\tpopl %ss:se_eflags\n\t"
        "sysexit\n");

static uint32_t u_sysenter(uint32_t arg)
{
    __asm__ volatile("movl %%esp, %%ecx\n\tmovl $1f, %%edx\n\tsysenter\n1:\n\t"
                     "movl %%cs, %%eax\n\tmovl %%eax, se_user_cs\n\t"
                     "movl %%ss, %%eax\n\tmovl %%eax, se_user_ss\n\tmovl %%esp, se_user_esp"
                     :
                     :
                     : "eax", "ecx", "edx", "memory");
    return 0;
}

static void sysenter_user(void *arg)
{
    kt_user_call(u_sysenter, 0);
}

static void sysenter_tests(void)
{
    kt_eq(kt_user_call_sysenter(u_popf, 0x2 | FL_CF) & FL_CF, FL_CF, "sysexit_sysenter_roundtrip");
    wrmsr(MSR_SYSENTER_CS, KT_CS);
    wrmsr(MSR_SYSENTER_ESP, (uint32_t)kt_trap_stack_top - 64);
    wrmsr(MSR_SYSENTER_EIP, (uint32_t)se_entry);
    kt_user_eflags = 0x2 | FL_CF;
    kt_user_call(u_sysenter, 0);
    kt_user_eflags = 0x2;
    kt_eq(se_esp, (uint32_t)kt_trap_stack_top - 64, "sysenter_esp_from_msr");
    kt_eq(se_cs & 0xffff, KT_CS, "sysenter_cs_from_msr");
    kt_eq(se_ss & 0xffff, KT_CS + 8, "sysenter_ss_is_cs_plus_8");
    kt_eq(se_eflags & (FL_IF | FL_CF), FL_CF, "sysenter_clears_if_keeps_cf");
    kt_eq(se_user_cs & 0xffff, (KT_CS + 16) | 3, "sysexit_cs_is_cs_plus_16_rpl3");
    kt_eq(se_user_ss & 0xffff, (KT_CS + 24) | 3, "sysexit_ss_is_cs_plus_24_rpl3");
    /* SYSENTER with SYSENTER_CS = 0 is #GP(0). */
    wrmsr(MSR_SYSENTER_CS, 0);
    kt_fault_reset();
    kt_eq(kt_catch(sysenter_user, NULL), 13, "sysenter_cs0_gp");
    kt_eq(kt_last.error, 0, "sysenter_cs0_error");
}

/* The IRET back to ring 3 nulls a data segment register that holds a ring-0 segment. */
static void iret_es_handler(struct kt_frame *f)
{
    f->es = KT_DS;
}
uint32_t iret_user_es;
static uint32_t u_iret_es(uint32_t arg)
{
    __asm__ volatile("int $0x82\n\tmovl %%es, %%eax\n\tmovl %%eax, iret_user_es\n\t"
                     "movl $0x23, %%eax\n\tmovl %%eax, %%es"
                     :
                     :
                     : "eax", "memory");
    return 0;
}

static void iret_tests(void)
{
    kt_set_gate(VEC_IRETES, KT_GATE_INT | KT_GATE_DPL3);
    kt_set_handler(VEC_IRETES, iret_es_handler);
    kt_user_call(u_iret_es, 0);
    kt_eq(iret_user_es & 0xffff, 0, "iret_to_ring3_nulls_ring0_es");
    kt_set_handler(VEC_IRETES, NULL);
    kt_reset_gate(VEC_IRETES);
}

/* ---- task switch: CALL to a TSS, IRET back through the back link; task gate ---- */

uint32_t task_str, task_eflags, task_count, task_link;
static uint8_t task_stack[1024] __attribute__((aligned(16)));
void task_entry(void);
__asm__(".text\ntask_entry:\n\t"
        "str %eax\n\tmovl %eax, task_str\n\t"
        "pushf\n\tpopl task_eflags\n\t"
        "movzwl kt_tss2, %eax\n\tmovl %eax, task_link\n\t"
        "incl task_count\n\t"
        "iret\n\t"
        "jmp task_entry\n");

static void setup_task2(void)
{
    memset(&kt_tss2, 0, sizeof(kt_tss2));
    kt_tss2.eip = (uint32_t)task_entry;
    kt_tss2.eflags = 0x2;
    kt_tss2.esp = (uint32_t)&task_stack[1024];
    kt_tss2.cs = KT_CS;
    kt_tss2.ss = kt_tss2.ds = kt_tss2.es = kt_tss2.fs = kt_tss2.gs = KT_DS;
    kt_tss2.cr3 = read_cr3();
    kt_tss2.iomap = sizeof(kt_tss2);
    kt_gdt[KT_TSS2 >> 3] = kt_seg_desc((uint32_t)&kt_tss2, sizeof(kt_tss2) - 1, KT_ACC_TSS, 0);
}

static void task_tests(void)
{
    setup_task2();
    kt_tss.cr3 = read_cr3(); /* static field: loaded, never saved, on the way back */
    uint32_t ebx = 0x12345678, esi = 0x9abcdef0, tr;
    __asm__ volatile("lcall %2, $0"
                     : "+b"(ebx), "+S"(esi)
                     : "i"(KT_TSS2)
                     : "eax", "ecx", "edx", "memory");
    __asm__ volatile("str %0" : "=r"(tr));
    kt_eq(task_count, 1, "task_call_runs_task");
    kt_eq(task_str & 0xffff, KT_TSS2, "task_str_in_new_task");
    kt_ok(task_eflags & FL_NT, "task_call_sets_nt");
    kt_eq(task_link, KT_TSS, "task_back_link");
    kt_eq(tr & 0xffff, KT_TSS, "task_iret_returns");
    kt_ok(ebx == 0x12345678 && esi == 0x9abcdef0, "task_registers_restored");
    kt_ok(!(read_eflags() & FL_NT), "task_return_nt_clear");
    kt_eq((kt_gdt[KT_TSS2 >> 3] >> 40) & 0xf, 0x9, "task_iret_clears_busy");
    kt_eq((kt_gdt[KT_TSS >> 3] >> 40) & 0xf, 0xb, "task_caller_busy");
    kt_eq(kt_tss.eip != 0, 1, "task_state_saved_in_old_tss");
    /* Calling a busy task is #GP(selector). */
    kt_gdt[KT_TSS2 >> 3] |= 2ull << 40;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lcall %0, $0" KT_END : : "i"(KT_TSS2) : "eax", "memory");
    kt_eq_fault(13, KT_TSS2, kt_site, "task_call_busy_gp");
    kt_gdt[KT_TSS2 >> 3] &= ~(2ull << 40);
    /* A task gate in the IDT: INT n switches tasks; the task's IRET comes back. */
    kt_idt[0x85] = kt_gate_desc(KT_TSS2, 0, KT_GATE_TASK);
    __asm__ volatile("int $0x85" : : : "eax", "ecx", "edx", "memory");
    kt_reset_gate(0x85);
    kt_eq(task_count, 2, "task_gate_int_runs_task");
}

void test_main(void)
{
    int_gate_tests();
    user_fault_tests();
    popf_tests();
    io_bitmap_tests();
    gate_type_tests();
    call_gate_tests();
    sysenter_tests();
    iret_tests();
    task_tests();
}
