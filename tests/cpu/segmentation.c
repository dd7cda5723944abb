/* segmentation: protected-mode segment checks (SDM vol. 3A 5.3 limit checking, 5.4-5.5 type
 * checking, 3.4.5.1 types, 5.8 control transfers and call gates; vol. 2 MOV/POP Sreg, LAR, LSL,
 * VERR/VERW, LDS/LSS; vol. 2A 2.3.11 instruction length) and #UD for invalid encodings. */
#include "kt.h"

enum {
    I_LIM = KT_GDT_SPARE, /* data, base 0x700000, limit 0xfff bytes */
    I_DOWN,               /* expand-down data, limit 0xfff, B=1 */
    I_RO,                 /* read-only data, flat */
    I_XO,                 /* execute-only code, flat */
    I_NP,                 /* not-present data */
    I_SS2M,               /* data, base 0, limit 2 MiB (G=1) */
    I_CODE_SMALL,         /* code, base = small_code, limit 3 */
    I_GATE,               /* call gate to gate_target */
    I_CODE_NP,            /* not-present code */
    I_DOWN3,              /* expand-down data DPL 3, limit 0x7ffff (for a ring-3 stack) */
    I_IGATE,              /* an interrupt gate in the GDT: invalid for LAR */
    I_DOWN16,             /* expand-down data, B=0 (upper bound 0xffff), limit 0xfff */
    I_ACC,                /* data with the accessed bit clear */
    I_GATE_NP,            /* not-present call gate */
    I_G4K,                /* data, limit 0 with G=1: offsets 0..0xfff */
    I_CODE_JMP,           /* code, base = jmp_code, limit 0x10 */
    I_GATE_JMP,           /* call gate to jmp_gate_target */
};
#define SEL(i)   ((uint32_t)(i) << 3)
#define BASE_LIM 0x700000u

/* Targets for far transfers; they run in the flat ring-0 code segment. */
uint32_t seg_ret_eip, seg_ret_cs, seg_jmp_hit;
struct __attribute__((packed)) farptr {
    uint32_t off;
    uint16_t sel;
};
struct farptr seg_back;
extern uint8_t small_code[], small_code_end[], jmp_code[], jmp_code_jmp[];
void gate_target(void), jmp_gate_target(void), far_fn(void);
__asm__(".text\n"
        "gate_target:\n\t"
        "movl (%esp), %eax\n\tmovl %eax, seg_ret_eip\n\t"
        "movl 4(%esp), %eax\n\tmovl %eax, seg_ret_cs\n\t"
        "lret\n"
        "jmp_gate_target:\n\t"
        "movl $1, seg_jmp_hit\n\t"
        "ljmp *seg_back\n"
        "far_fn:\n\t"
        "lret $8\n"
        /* Runs at offset 0 of a segment whose limit is 3: the fifth byte is out of bounds. */
        "small_code:\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\nsmall_code_end:\n\tud2\n"
        /* Offset 0: a short jump to offset 0x20, beyond the 0x10 limit. */
        "jmp_code:\njmp_code_jmp:\n\t.byte 0xeb, 0x1e\n\t.fill 0x30, 1, 0x90\n\tud2\n");

static void setup_gdt(void)
{
    kt_gdt[I_LIM] = kt_seg_desc(BASE_LIM, 0xfff, KT_ACC_DATA0, KT_FL_32B);
    kt_gdt[I_DOWN] = kt_seg_desc(BASE_LIM, 0xfff, 0x96, KT_FL_32B);
    kt_gdt[I_RO] = kt_seg_desc(0, 0xfffff, 0x90, KT_FL_32);
    kt_gdt[I_XO] = kt_seg_desc(0, 0xfffff, 0x98, KT_FL_32);
    kt_gdt[I_NP] = kt_seg_desc(0, 0xfffff, 0x12, KT_FL_32);
    kt_gdt[I_SS2M] = kt_seg_desc(0, 0x1ff, KT_ACC_DATA0, KT_FL_32);
    kt_gdt[I_CODE_SMALL] = kt_seg_desc((uint32_t)small_code, 3, KT_ACC_CODE0, KT_FL_32B);
    kt_gdt[I_GATE] = kt_gate_desc(KT_CS, (uint32_t)gate_target, KT_GATE_CALL);
    kt_gdt[I_CODE_NP] = kt_seg_desc(0, 0xfffff, 0x1a, KT_FL_32);
    kt_gdt[I_DOWN3] = kt_seg_desc(0, 0x7ffff, 0xf6, KT_FL_32B);
    kt_gdt[I_IGATE] = kt_gate_desc(KT_CS, 0x1000, KT_GATE_INT);
    kt_gdt[I_DOWN16] = kt_seg_desc(BASE_LIM, 0xfff, 0x96, KT_FL_16);
    kt_gdt[I_ACC] = kt_seg_desc(0, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    kt_gdt[I_GATE_NP] = kt_gate_desc(KT_CS, (uint32_t)gate_target, KT_GATE_CALL & 0x7f);
    kt_gdt[I_G4K] = kt_seg_desc(BASE_LIM, 0, KT_ACC_DATA0, KT_FL_32);
    kt_gdt[I_CODE_JMP] = kt_seg_desc((uint32_t)jmp_code, 0x10, KT_ACC_CODE0, KT_FL_32B);
    kt_gdt[I_GATE_JMP] = kt_gate_desc(KT_CS, (uint32_t)jmp_gate_target, KT_GATE_CALL);
}

/* Loads FS with sel, runs one access through FS, restores FS; reports the fault. */
#define FS_ACCESS(name, sel, insn, vec, err)                                                       \
    do {                                                                                           \
        uint32_t v = 0;                                                                            \
        kt_fault_reset();                                                                          \
        __asm__ volatile("mov %1, %%fs\n\t" KT_TRY insn KT_END "mov %2, %%fs"                      \
                         : "+a"(v)                                                                 \
                         : "r"(sel), "r"(KT_DS)                                                    \
                         : "memory");                                                              \
        if ((vec) < 0)                                                                             \
            kt_no_fault("%s", name);                                                               \
        else                                                                                       \
            kt_eq_fault(vec, err, kt_site, "%s", name);                                            \
    } while (0)

static void limit_tests(void)
{
    FS_ACCESS("limit_last_dword_ok", SEL(I_LIM), "movl %%fs:0xffc, %%eax", -1, 0);
    FS_ACCESS("limit_dword_straddles_gp", SEL(I_LIM), "movl %%fs:0xffd, %%eax", 13, 0);
    FS_ACCESS("limit_byte_beyond_gp", SEL(I_LIM), "movb %%fs:0x1000, %%al", 13, 0);
    FS_ACCESS("limit_write_beyond_gp", SEL(I_LIM), "movl %%eax, %%fs:0x2000", 13, 0);
    FS_ACCESS("limit_word_at_limit_gp", SEL(I_LIM), "movw %%fs:0xfff, %%ax", 13, 0);
    FS_ACCESS("limit_g4k_last_ok", SEL(I_G4K), "movb %%fs:0xfff, %%al", -1, 0);
    FS_ACCESS("limit_g4k_beyond_gp", SEL(I_G4K), "movb %%fs:0x1000, %%al", 13, 0);
    FS_ACCESS("expand_down_above_limit_ok", SEL(I_DOWN), "movl %%fs:0x1000, %%eax", -1, 0);
    FS_ACCESS("expand_down_at_limit_gp", SEL(I_DOWN), "movl %%fs:0xfff, %%eax", 13, 0);
    FS_ACCESS("expand_down_low_gp", SEL(I_DOWN), "movb %%fs:0x0, %%al", 13, 0);
    FS_ACCESS("expand_down_top_ok", SEL(I_DOWN), "movb %%fs:0xffffffff, %%al", -1, 0);
    FS_ACCESS("expand_down16_ok", SEL(I_DOWN16), "movl %%fs:0xfffc, %%eax", -1, 0);
    FS_ACCESS("expand_down16_above_64k_gp", SEL(I_DOWN16), "movl %%fs:0xfffe, %%eax", 13, 0);
    FS_ACCESS("readonly_read_ok", SEL(I_RO), "movl %%fs:0x100000, %%eax", -1, 0);
    FS_ACCESS("readonly_write_gp", SEL(I_RO), "movl %%eax, %%fs:0x700000", 13, 0);
    FS_ACCESS("readonly_rmw_gp", SEL(I_RO), "incl %%fs:0x700000", 13, 0);
    FS_ACCESS("readable_code_in_fs_read_ok", KT_CS, "movl %%fs:0x100000, %%eax", -1, 0);
    FS_ACCESS("readable_code_in_fs_write_gp", KT_CS, "movl %%eax, %%fs:0x700000", 13, 0);
    FS_ACCESS("null_fs_read_gp", 0, "movl %%fs:0x100000, %%eax", 13, 0);
    FS_ACCESS("null_fs_write_gp", 3, "movl %%eax, %%fs:0x700000", 13, 0);

    /* String instructions are limit-checked too. */
    uint32_t esi = 0xffe, edi = (uint32_t)&seg_ret_eip, ecx = 1;
    kt_fault_reset();
    __asm__ volatile("mov %3, %%fs\n\t" KT_TRY "movsl %%fs:(%%esi), %%es:(%%edi)" KT_END
                     "mov %4, %%fs"
                     : "+S"(esi), "+D"(edi), "+c"(ecx)
                     : "r"(SEL(I_LIM)), "r"(KT_DS)
                     : "memory");
    kt_eq_fault(13, 0, kt_site, "limit_movs_source_gp");
    kt_eq(esi, 0xffe, "limit_movs_esi_unchanged");

    /* Stack segment: implicit SS accesses beyond the limit raise #SS(0). The exception itself
     * is pushed at ESP, well inside the 2 MiB limit. */
    uint32_t v = 0, zero = 0;
    kt_fault_reset();
    __asm__ volatile("mov %2, %%ss\n\t" KT_TRY "movl 0x300000(%1), %0" KT_END "mov %3, %%ss"
                     : "+r"(v)
                     : "b"(zero), "r"(SEL(I_SS2M)), "r"(KT_DS)
                     : "memory");
    kt_no_fault("ss_limit_ds_access_not_checked_against_ss");
    kt_fault_reset();
    /* EBP-based addresses are SS-relative: 0x100000(%ebp) with EBP = 0 is inside the 2 MiB
     * limit. EBP is set explicitly (the compiler may keep anything in it). */
    __asm__ volatile("push %%ebp\n\txorl %%ebp, %%ebp\n\tmov %2, %%ss\n\t" KT_TRY
                     "movl 0x100000(%%ebp), %0" KT_END "mov %3, %%ss\n\tpop %%ebp"
                     : "+a"(v)
                     : "b"(zero), "d"(SEL(I_SS2M)), "c"(KT_DS)
                     : "memory");
    kt_no_fault("ss_limit_ebp_in_range");
    kt_fault_reset();
    __asm__ volatile("push %%ebp\n\txorl %%ebp, %%ebp\n\tmov %2, %%ss\n\t" KT_TRY
                     "movl 0x300000(%%ebp), %0" KT_END "mov %3, %%ss\n\tpop %%ebp"
                     : "+a"(v)
                     : "b"(zero), "d"(SEL(I_SS2M)), "c"(KT_DS)
                     : "memory");
    kt_eq_fault(12, 0, kt_site, "ss_limit_ebp_base_ss_fault");
    kt_fault_reset();
    __asm__ volatile("mov %2, %%ss\n\t" KT_TRY "movl %%ss:0x200000, %0" KT_END "mov %3, %%ss"
                     : "+r"(v)
                     : "b"(zero), "r"(SEL(I_SS2M)), "r"(KT_DS)
                     : "memory");
    kt_eq_fault(12, 0, kt_site, "ss_limit_override_ss_fault");
    kt_fault_reset();
    __asm__ volatile("mov %2, %%ss\n\t" KT_TRY "movl %%ss:0x1ffffc, %0" KT_END "mov %3, %%ss"
                     : "+r"(v)
                     : "b"(zero), "r"(SEL(I_SS2M)), "r"(KT_DS)
                     : "memory");
    kt_no_fault("ss_limit_last_dword_ok");
}

/* Execute-only code: reads through CS fault. Runs in the execute-only segment (flat base). */
static void exec_only_test(void)
{
    uint32_t v;
    kt_fault_reset();
    __asm__ volatile("ljmp %2, $1f\n1:\n\t" KT_TRY "movl %%cs:0x100000, %0" KT_END
                     "ljmp %3, $2f\n2:"
                     : "=r"(v)
                     : "0"(0), "i"(SEL(I_XO)), "i"(KT_CS)
                     : "memory");
    kt_eq_fault(13, 0, kt_site, "exec_only_cs_read_gp");
    kt_eq(kt_last.cs, SEL(I_XO), "exec_only_fault_cs");
    kt_fault_reset();
    __asm__ volatile("ljmp %1, $1f\n1:\n\t" KT_TRY "movl %%ds:0x100000, %0" KT_END
                     "ljmp %2, $2f\n2:"
                     : "=r"(v)
                     : "i"(SEL(I_XO)), "i"(KT_CS)
                     : "memory");
    kt_no_fault("exec_only_runs_and_reads_data");
}

/* Segment register loads (SDM MOV: "If segment selector ... #GP(selector)"). */
#define LOAD_DS(name, sel, vec, err)                                                               \
    do {                                                                                           \
        uint32_t s = sel;                                                                          \
        kt_fault_reset();                                                                          \
        __asm__ volatile(KT_TRY "mov %0, %%ds" KT_END "mov %1, %%ds"                               \
                         :                                                                         \
                         : "r"(s), "r"(KT_DS)                                                      \
                         : "memory");                                                              \
        if ((vec) < 0)                                                                             \
            kt_no_fault("%s", name);                                                               \
        else                                                                                       \
            kt_eq_fault(vec, err, kt_site, "%s", name);                                            \
    } while (0)
#define LOAD_SS(name, sel, vec, err)                                                               \
    do {                                                                                           \
        uint32_t s = sel;                                                                          \
        kt_fault_reset();                                                                          \
        __asm__ volatile(KT_TRY "mov %0, %%ss" KT_END "mov %1, %%ss"                               \
                         :                                                                         \
                         : "r"(s), "r"(KT_DS)                                                      \
                         : "memory");                                                              \
        if ((vec) < 0)                                                                             \
            kt_no_fault("%s", name);                                                               \
        else                                                                                       \
            kt_eq_fault(vec, err, kt_site, "%s", name);                                            \
    } while (0)

static void load_tests(void)
{
    LOAD_DS("ds_null_ok", 0, -1, 0);
    LOAD_DS("ds_null_rpl3_ok", 3, -1, 0);
    LOAD_DS("ds_tss_gp", KT_TSS, 13, KT_TSS);
    LOAD_DS("ds_exec_only_gp", SEL(I_XO), 13, SEL(I_XO));
    LOAD_DS("ds_readable_code_ok", KT_CS, -1, 0);
    LOAD_DS("ds_beyond_gdt_limit_gp", 0x3f8, 13, 0x3f8);
    LOAD_DS("ds_not_present_np", SEL(I_NP), 11, SEL(I_NP));
    LOAD_DS("ds_rpl3_dpl0_gp", KT_DS | 3, 13, KT_DS);
    LOAD_DS("ds_dpl3_at_cpl0_ok", KT_UDS, -1, 0);
    LOAD_DS("ds_ldt_without_ldt_gp", 0x0c, 13, 0x0c);
    LOAD_DS("ds_call_gate_gp", SEL(I_GATE), 13, SEL(I_GATE));
    LOAD_SS("ss_null_gp", 0, 13, 0);
    LOAD_SS("ss_not_present_ss", SEL(I_NP), 12, SEL(I_NP));
    LOAD_SS("ss_readonly_gp", SEL(I_RO), 13, SEL(I_RO));
    LOAD_SS("ss_code_gp", KT_CS, 13, KT_CS);
    LOAD_SS("ss_rpl_ne_cpl_gp", KT_DS | 3, 13, KT_DS);
    LOAD_SS("ss_dpl_ne_cpl_gp", KT_UDS & ~3, 13, KT_UDS & ~3);
    LOAD_SS("ss_expand_down_ok", SEL(I_SS2M), -1, 0);
    /* Loading CS with MOV is #UD (8e /1). */
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0x8e, 0xc8" KT_END : : "a"(KT_CS) : "memory");
    kt_eq_fault(6, 0, kt_site, "mov_cs_ud");

    /* A faulting POP DS leaves ESP and DS alone. */
    uint32_t esp0, esp1;
    kt_fault_reset();
    __asm__ volatile("movl %%esp, %0\n\tpushl %2\n\t" KT_TRY "popl %%ds" KT_END
                     "movl %%esp, %1\n\taddl $4, %%esp"
                     : "=&r"(esp0), "=&r"(esp1)
                     : "r"(SEL(I_XO))
                     : "memory");
    kt_eq_fault(13, SEL(I_XO), kt_site, "pop_ds_bad_gp");
    kt_eq(esp1, esp0 - 4, "pop_ds_fault_esp_unchanged");
    kt_eq(read_ds(), KT_DS, "pop_ds_fault_ds_unchanged");

    /* The accessed bit is set in the descriptor by a load. */
    kt_gdt[I_ACC] &= ~(1ull << 40);
    __asm__ volatile("mov %0, %%fs\n\tmov %1, %%fs" : : "r"(SEL(I_ACC)), "r"(KT_DS) : "memory");
    kt_ok((kt_gdt[I_ACC] >> 40) & 1, "load_sets_accessed_bit");

    /* LDS/LES/LFS/LGS/LSS load a full pointer. */
    struct farptr p = {0x12345678, KT_UDS};
    uint32_t off = 0, fs = 0;
    __asm__ volatile("lfs %2, %0\n\tmov %%fs, %1\n\tmov %3, %%fs"
                     : "=&r"(off), "=&r"(fs)
                     : "m"(p), "r"(KT_DS)
                     : "memory");
    kt_ok(off == 0x12345678 && (fs & 0xffff) == KT_UDS, "lfs");
    __asm__ volatile("lgs %2, %0\n\tmov %%gs, %1\n\tmov %3, %%gs"
                     : "=&r"(off), "=&r"(fs)
                     : "m"(p), "r"(KT_DS)
                     : "memory");
    kt_ok(off == 0x12345678 && (fs & 0xffff) == KT_UDS, "lgs");
    uint32_t ss_esp = 0, ss_sel = 0;
    struct farptr sp = {0, KT_DS};
    __asm__ volatile("movl %%esp, %%ecx\n\tmovl %%ecx, %2\n\tlss %2, %%esp\n\t"
                     "movl %%esp, %0\n\tmov %%ss, %1\n\tmovl %%ecx, %%esp"
                     : "=r"(ss_esp), "=r"(ss_sel), "+m"(sp)
                     :
                     : "ecx", "memory");
    kt_ok(ss_esp == sp.off && (ss_sel & 0xffff) == KT_DS, "lss");
    struct farptr bad = {0x1111, SEL(I_NP)};
    off = 0xabcd;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lds %1, %0" KT_END : "+r"(off) : "m"(bad) : "memory");
    kt_eq_fault(11, SEL(I_NP), kt_site, "lds_not_present_np");
    kt_eq(off, 0xabcd, "lds_fault_dest_unchanged");
    /* LDS with a register source (c5 /r, mod=3) is #UD. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0xc5, 0xc0" KT_END : : : "memory");
    kt_eq_fault(6, 0, kt_site, "lds_reg_ud");
}

static uint32_t user_load_ds(uint32_t sel)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%ds" KT_END "mov %1, %%ds"
                     :
                     : "r"(sel), "r"(KT_UDS)
                     : "memory");
    return kt_last.count ? kt_last.vector << 16 | kt_last.error : 0xffffffff;
}

static uint32_t user_lar(uint32_t sel)
{
    uint32_t r = 0xdead, f;
    __asm__ volatile("larl %2, %0\n\tpushf\n\tpop %1" : "+r"(r), "=r"(f) : "r"(sel) : "cc");
    return (f & FL_ZF) ? r : 0;
}

/* Ring 3 pushes below the limit of an expand-down stack: #SS(0), delivered on the TSS stack. */
static uint32_t user_stack_fault(uint32_t sel)
{
    kt_fault_reset();
    __asm__ volatile("movl %%esp, %%edx\n\tmov %0, %%ss\n\tmovl $0x80008, %%esp\n\t"
                     "pushl $1\n\t" KT_TRY "pushl $2\n\tpushl $3" KT_END
                     "mov %1, %%ss\n\tmovl %%edx, %%esp"
                     :
                     : "r"(sel), "r"(KT_UDS)
                     : "edx", "memory");
    return kt_last.count;
}

static void user_tests(void)
{
    kt_eq(kt_user_call(user_load_ds, KT_DS | 3), 13u << 16 | KT_DS, "ring3_ds_dpl0_gp");
    kt_eq(kt_user_call(user_load_ds, KT_UDS), 0xffffffff, "ring3_ds_dpl3_ok");
    kt_eq(kt_user_call(user_load_ds, KT_CS | 3), 13u << 16 | KT_CS, "ring3_ds_code_dpl0_gp");
    kt_eq(kt_user_call(user_lar, KT_DS), 0, "ring3_lar_dpl0_fails");
    kt_eq(kt_user_call(user_lar, KT_UDS) & 0x00f0ff00, (kt_gdt[KT_UDS >> 3] >> 32) & 0x00f0ff00,
          "ring3_lar_dpl3_ok");
    kt_eq(kt_user_call(user_stack_fault, SEL(I_DOWN3) | 3), 1, "ring3_expand_down_push_fault");
    kt_eq_fault(12, 0, KT_ANY, "ring3_expand_down_push_ss");
}

static uint32_t lar(uint32_t sel, int *zf)
{
    uint32_t r = 0xdeadbeef, f;
    __asm__ volatile("larl %2, %0\n\tpushf\n\tpop %1" : "+r"(r), "=r"(f) : "r"(sel) : "cc");
    *zf = !!(f & FL_ZF);
    return r;
}

static uint32_t lsl(uint32_t sel, int *zf)
{
    uint32_t r = 0xdeadbeef, f;
    __asm__ volatile("lsll %2, %0\n\tpushf\n\tpop %1" : "+r"(r), "=r"(f) : "r"(sel) : "cc");
    *zf = !!(f & FL_ZF);
    return r;
}

static int verr(uint32_t sel)
{
    uint32_t f;
    __asm__ volatile("verr %w1\n\tpushf\n\tpop %0" : "=r"(f) : "r"(sel) : "cc");
    return !!(f & FL_ZF);
}

static int verw(uint32_t sel)
{
    uint32_t f;
    __asm__ volatile("verw %w1\n\tpushf\n\tpop %0" : "=r"(f) : "r"(sel) : "cc");
    return !!(f & FL_ZF);
}

/* LAR returns the descriptor's second dword masked with 00FxFF00H (bits 19:16 undefined). */
static uint32_t lar_expect(uint32_t sel)
{
    return (uint32_t)(kt_gdt[sel >> 3] >> 32) & 0x00f0ff00;
}

static void lar_lsl_tests(void)
{
    int zf;
    uint32_t r;
    r = lar(KT_CS, &zf);
    kt_ok(zf && (r & 0x00f0ff00) == lar_expect(KT_CS) && (r & 0xfe00) == 0x9a00, "lar_code");
    r = lar(KT_DS, &zf);
    kt_ok(zf && (r & 0x00f0ff00) == lar_expect(KT_DS) && (r & 0xfe00) == 0x9200, "lar_data");
    r = lar(KT_TSS, &zf);
    kt_ok(zf && (r & 0x00f0ff00) == 0x00008b00, "lar_busy_tss");
    r = lar(SEL(I_GATE), &zf);
    kt_ok(zf && (r & 0x00f0ff00) == lar_expect(SEL(I_GATE)) && (r & 0xff00) == 0x8c00,
          "lar_call_gate");
    r = lar(SEL(I_IGATE), &zf);
    kt_ok(!zf && r == 0xdeadbeef, "lar_interrupt_gate_invalid");
    r = lar(0, &zf);
    kt_ok(!zf && r == 0xdeadbeef, "lar_null");
    r = lar(0x3f8, &zf);
    kt_ok(!zf, "lar_beyond_limit");
    r = lar(SEL(I_NP), &zf);
    kt_ok(zf && (r & 0x00f0ff00) == 0x00c01200, "lar_not_present_still_ok");
    r = lsl(KT_CS, &zf);
    kt_ok(zf && r == 0xffffffff, "lsl_flat_granular");
    r = lsl(SEL(I_LIM), &zf);
    kt_ok(zf && r == 0xfff, "lsl_byte_granular");
    r = lsl(SEL(I_G4K), &zf);
    kt_ok(zf && r == 0xfff, "lsl_g_limit0");
    r = lsl(KT_TSS, &zf);
    kt_ok(zf && r == sizeof(struct kt_tss) - 1, "lsl_tss");
    r = lsl(SEL(I_GATE), &zf);
    kt_ok(!zf && r == 0xdeadbeef, "lsl_call_gate_invalid");
    r = lsl(KT_DS | 3, &zf);
    kt_ok(!zf, "lsl_rpl3_dpl0_fails");
    kt_ok(verr(KT_CS), "verr_readable_code");
    kt_ok(!verr(SEL(I_XO)), "verr_exec_only");
    kt_ok(verr(SEL(I_RO)), "verr_readonly_data");
    kt_ok(!verr(KT_TSS), "verr_tss");
    kt_ok(!verr(0), "verr_null");
    kt_ok(verw(KT_DS), "verw_data");
    kt_ok(!verw(SEL(I_RO)), "verw_readonly");
    kt_ok(!verw(KT_CS), "verw_code");
    kt_ok(!verw(KT_DS | 3), "verw_rpl3_dpl0");
    kt_ok(verw(KT_UDS), "verw_dpl3_at_cpl0");
}

/* Far transfers: direct, through a call gate, and CS limit checks. */
static void far_tests(void)
{
    uint32_t r = 0, before, after;
    seg_ret_eip = seg_ret_cs = 0;
    __asm__ volatile("lcall %2, $0\n1:\n\tmovl $1b, %0"
                     : "=r"(r)
                     : "0"(0), "i"(SEL(I_GATE))
                     : "eax", "memory");
    kt_ok(seg_ret_eip == r && (seg_ret_cs & 0xffff) == KT_CS, "call_gate_same_ring");
    seg_jmp_hit = 0;
    seg_back.sel = KT_CS;
    __asm__ volatile("movl $1f, seg_back\n\tljmp %0, $0x1234\n1:"
                     :
                     : "i"(SEL(I_GATE_JMP))
                     : "memory");
    kt_eq(seg_jmp_hit, 1, "jmp_through_call_gate");
    __asm__ volatile("movl %%esp, %0\n\tpushl $0x1111\n\tpushl $0x2222\n\tlcall %2, $far_fn\n\t"
                     "movl %%esp, %1"
                     : "=&r"(before), "=r"(after)
                     : "i"(KT_CS)
                     : "memory");
    kt_eq(after, before, "lret_imm_pops_params");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lcall %0, $0" KT_END : : "i"(SEL(I_GATE_NP)) : "eax", "memory");
    kt_eq_fault(11, SEL(I_GATE_NP), kt_site, "call_gate_not_present_np");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(SEL(I_CODE_NP)) : "memory");
    kt_eq_fault(11, SEL(I_CODE_NP), kt_site, "jmp_code_not_present_np");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(KT_DS) : "memory");
    kt_eq_fault(13, KT_DS, kt_site, "jmp_to_data_segment_gp");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(0) : "memory");
    kt_eq_fault(13, 0, kt_site, "jmp_null_gp");
    /* The target offset is checked against the new CS limit before the jump. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ljmp %0, $8" KT_END : : "i"(SEL(I_CODE_SMALL)) : "memory");
    kt_eq_fault(13, 0, kt_site, "far_jmp_beyond_limit_gp");
    /* Running off the end of a 4-byte code segment faults at offset 4. */
    kt_fault_reset();
    kt_fixup_cs = KT_CS;
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(SEL(I_CODE_SMALL)) : "memory");
    kt_eq_fault(13, 0, 4, "fetch_beyond_cs_limit_gp");
    kt_eq(kt_last.cs, SEL(I_CODE_SMALL), "fetch_beyond_cs_limit_cs");
    /* A near JMP whose target is beyond the limit faults at the JMP. */
    kt_fault_reset();
    kt_fixup_cs = KT_CS;
    __asm__ volatile(KT_TRY "ljmp %0, $0" KT_END : : "i"(SEL(I_CODE_JMP)) : "memory");
    kt_eq_fault(13, 0, 0, "near_jmp_beyond_cs_limit_gp");
}

/* Instruction length limit and invalid encodings. */
#define UD(name, bytes)                                                                            \
    do {                                                                                           \
        kt_fault_reset();                                                                          \
        __asm__ volatile(KT_TRY bytes KT_END : : : "memory");                                      \
        kt_eq_fault(6, 0, kt_site, "%s", name);                                                    \
    } while (0)

static void encoding_tests(void)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".fill 14, 1, 0x3e\n\tnop" KT_END : : : "memory");
    kt_no_fault("length_15_ok");
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".fill 15, 1, 0x3e\n\tnop" KT_END : : : "memory");
    kt_eq_fault(13, 0, kt_site, "length_16_gp");
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".fill 11, 1, 0x3e\n\t.byte 0x81, 0xc0\n\t.long 0" KT_END
                     :
                     :
                     : "eax", "memory");
    kt_eq_fault(13, 0, kt_site, "length_17_with_imm_gp");

    UD("ud2", ".byte 0x0f, 0x0b");
    UD("ud1", ".byte 0x0f, 0xb9, 0xc0");
    UD("lock_nop", ".byte 0xf0, 0x90");
    UD("lock_reg_add", ".byte 0xf0, 0x01, 0xc0");
    UD("lock_mov_mem", ".byte 0xf0, 0x89, 0x05\n\t.long alu_dummy");
    UD("lock_cmp_mem", ".byte 0xf0, 0x39, 0x05\n\t.long alu_dummy");
    UD("lea_reg_operand", ".byte 0x8d, 0xc0");
    UD("fe_reg2", ".byte 0xfe, 0xd0");
    UD("ff_reg7", ".byte 0xff, 0xf8");
    UD("0f00_reg6", ".byte 0x0f, 0x00, 0xf0");
    UD("swapgs_outside_64bit", ".byte 0x0f, 0x01, 0xf8");
    UD("mov_cr1", ".byte 0x0f, 0x22, 0xc8");
    UD("mov_cr5", ".byte 0x0f, 0x20, 0xe8");
    UD("rsm_outside_smm", ".byte 0x0f, 0xaa");
    UD("0f_0a_reserved", ".byte 0x0f, 0x0a");
    UD("les_reg", ".byte 0xc4, 0xc0");
    UD("cmpxchg8b_reg", ".byte 0x0f, 0xc7, 0xc1");
    UD("mov_sreg6", ".byte 0x8c, 0xf0");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lock addl $1, alu_dummy" KT_END : : : "memory");
    kt_no_fault("lock_add_mem_ok");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lock xchgl %%eax, alu_dummy" KT_END : : : "eax", "memory");
    kt_no_fault("lock_xchg_mem_ok");
}
uint32_t alu_dummy;

void test_main(void)
{
    setup_gdt();
    limit_tests();
    exec_only_test();
    load_tests();
    user_tests();
    lar_lsl_tests();
    far_tests();
    encoding_tests();
}
