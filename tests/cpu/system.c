/* system: CPUID, TSC, MSRs, control and debug registers, descriptor-table registers and the
 * other system instructions (SDM vol. 2 CPUID/RDMSR/WRMSR/LGDT/LLDT/LTR/SMSW/LMSW/CLTS pages,
 * vol. 3A 2.5 control registers, 17.2 debug registers), plus the multiboot hand-off. */
#include "kt.h"

static void multiboot_tests(void)
{
    kt_eq(kt_mb_magic, 0x2badb002, "multiboot_magic");
    kt_ok(kt_mb_info && (kt_mb_info->flags & 1), "multiboot_mem_info_present");
    if (kt_mb_info && (kt_mb_info->flags & 1)) {
        /* -m 64: conventional memory up to 640 KiB, extended memory close to 63 MiB (the
         * firmware may keep a little at the top, e.g. for ACPI tables). */
        uint32_t lo = kt_mb_info->mem_lower, hi = kt_mb_info->mem_upper;
        kt_ok(lo >= 512 && lo <= 640, "multiboot_mem_lower_kb");
        kt_ok(hi >= 60 * 1024 && hi <= 63 * 1024, "multiboot_mem_upper_kb");
        kt_printf("# multiboot mem_lower %u KiB, mem_upper %u KiB\n", lo, hi);
    }
    /* The loader hands over with paging off, protected mode on, interrupts off. */
    kt_ok((read_cr0() & (CR0_PE | CR0_PG)) == CR0_PE, "boot_cr0_pe_no_pg");
}

static void cpuid_tests(void)
{
    struct kt_cpuid r = cpuid(0, 0);
    kt_ok(r.a >= 1, "cpuid0_max_leaf_ge_1");
    char vendor[13];
    memcpy(vendor, &r.b, 4);
    memcpy(vendor + 4, &r.d, 4);
    memcpy(vendor + 8, &r.c, 4);
    vendor[12] = 0;
    int printable = 1;
    for (int i = 0; i < 12; i++)
        printable &= vendor[i] >= 0x20 && vendor[i] < 0x7f;
    kt_ok(printable, "cpuid0_vendor_printable");
    kt_printf("# cpuid vendor '%s' max leaf %u\n", vendor, r.a);

    r = cpuid(1, 0);
    uint32_t family = (r.a >> 8) & 0xf;
    if (family == 0xf) family += (r.a >> 20) & 0xff;
    kt_eq(family, 6, "cpuid1_family_6");
    static const struct {
        int bit;
        const char *name;
    } feats[] = {{0, "fpu"}, {3, "pse"},  {4, "tsc"},  {5, "msr"},
                 {8, "cx8"}, {11, "sep"}, {13, "pge"}, {15, "cmov"}};
    for (unsigned i = 0; i < sizeof(feats) / sizeof(feats[0]); i++)
        kt_ok((r.d >> feats[i].bit) & 1, "cpuid1_feature_%s", feats[i].name);
    kt_printf("# cpuid 1: eax %08x ebx %08x ecx %08x edx %08x\n", r.a, r.b, r.c, r.d);
    /* CPUID is serializing and deterministic: same leaf, same answer. */
    struct kt_cpuid again = cpuid(1, 0);
    kt_ok(again.a == r.a && again.d == r.d && again.c == r.c, "cpuid1_stable");
    /* CPUID writes all four registers even for leaf 0 (EBX/ECX/EDX hold the vendor). */
    uint32_t a = 0, b = 0x11111111, c = 0x22222222, d = 0x33333333;
    __asm__ volatile("cpuid" : "+a"(a), "+b"(b), "+c"(c), "+d"(d));
    kt_ok(b == r.b || b != 0x11111111, "cpuid0_writes_ebx");
}

static void tsc_tests(void)
{
    uint64_t t0 = rdtsc();
    volatile uint32_t spin = 0;
    for (int i = 0; i < 1000; i++)
        spin += i;
    uint64_t t1 = rdtsc();
    uint64_t t2 = rdtsc();
    kt_ok(t1 > t0 && t2 >= t1, "rdtsc_monotonic");
    unsigned bad = 0;
    uint64_t prev = rdtsc();
    for (int i = 0; i < 200; i++) {
        uint64_t now = rdtsc();
        if (now < prev) bad++;
        prev = now;
    }
    kt_eq(bad, 0, "rdtsc_never_backwards");
    /* WRMSR(IA32_TIME_STAMP_COUNTER) sets the counter; it keeps counting from there. */
    wrmsr(MSR_TSC, 0x100000000ull);
    uint64_t t3 = rdtsc();
    kt_ok(t3 >= 0x100000000ull && t3 < 0x100000000ull + (1ull << 31), "wrmsr_tsc_sets_counter");
    kt_printf("# tsc before 0x%llx after wrmsr 0x%llx\n", (unsigned long long)t2,
              (unsigned long long)t3);
    uint64_t m = rdmsr(MSR_TSC);
    kt_ok(m >= t3, "rdmsr_tsc_matches_rdtsc");
    /* CR4.TSD only restricts CPL > 0; at CPL 0 RDTSC still works. */
    write_cr4(read_cr4() | CR4_TSD);
    kt_fault_reset();
    uint32_t lo, hi;
    __asm__ volatile(KT_TRY "rdtsc" KT_END : "=a"(lo), "=d"(hi) : : "memory");
    write_cr4(read_cr4() & ~CR4_TSD);
    kt_no_fault("rdtsc_tsd_cpl0_ok");
}

static uint64_t rdmsr_fault(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "rdmsr" KT_END : "+a"(lo), "+d"(hi) : "c"(msr) : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static void msr_tests(void)
{
    wrmsr(MSR_SYSENTER_CS, 0x1234);
    kt_eq(rdmsr(MSR_SYSENTER_CS) & 0xffff, 0x1234, "msr_sysenter_cs");
    wrmsr(MSR_SYSENTER_ESP, 0x89abcdef);
    kt_eq((uint32_t)rdmsr(MSR_SYSENTER_ESP), 0x89abcdef, "msr_sysenter_esp");
    wrmsr(MSR_SYSENTER_EIP, 0x00c0ffee);
    kt_eq((uint32_t)rdmsr(MSR_SYSENTER_EIP), 0x00c0ffee, "msr_sysenter_eip");
    wrmsr(MSR_SYSENTER_CS, 0);

    rdmsr_fault(0x00001234);
    kt_eq_fault(13, 0, kt_site, "rdmsr_unknown_gp");
    rdmsr_fault(0xc0001234);
    kt_eq_fault(13, 0, kt_site, "rdmsr_unknown_high_gp");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "wrmsr" KT_END : : "c"(0x00001234), "a"(0), "d"(0) : "memory");
    kt_eq_fault(13, 0, kt_site, "wrmsr_unknown_gp");
    rdmsr_fault(MSR_SYSENTER_CS);
    kt_no_fault("rdmsr_known_no_fault");
}

static void cr_tests(void)
{
    uint32_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_TS);
    kt_ok(read_cr0() & CR0_TS, "cr0_ts_set");
    __asm__ volatile("clts");
    kt_ok(!(read_cr0() & CR0_TS), "clts_clears_ts");
    write_cr0(cr0 | CR0_MP | CR0_NE | CR0_WP | CR0_AM);
    kt_eq(read_cr0() & (CR0_MP | CR0_NE | CR0_WP | CR0_AM), CR0_MP | CR0_NE | CR0_WP | CR0_AM,
          "cr0_mp_ne_wp_am_roundtrip");
    write_cr0((cr0 | CR0_EM) & ~CR0_ET);
    kt_ok((read_cr0() & CR0_EM) && (read_cr0() & CR0_ET), "cr0_em_set_et_hardwired");
    write_cr0(cr0);
    kt_eq(read_cr0(), cr0 | CR0_ET, "cr0_restored");
    /* NW without CD, and PG without PE, are invalid combinations: #GP(0), CR0 unchanged. */
    /* Each bad write is followed by a restoring one, so a CPU that wrongly accepts it keeps
     * running (paging is on with an identity map so that PG=1/PE=0 stays survivable). */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%cr0\n\tmov %1, %%cr0" KT_END
                     :
                     : "r"((cr0 | CR0_NW) & ~CR0_CD), "r"(cr0)
                     : "memory");
    kt_eq_fault(13, 0, kt_site, "cr0_nw_without_cd_gp");
    kt_paging_init(PTE_P | PTE_W, 1);
    kt_paging_enable();
    uint32_t pg = read_cr0();
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%cr0\n\tmov %1, %%cr0" KT_END
                     :
                     : "r"(pg & ~CR0_PE), "r"(pg)
                     : "memory");
    kt_eq_fault(13, 0, kt_site, "cr0_pg_without_pe_gp");
    kt_paging_disable();
    kt_eq(read_cr0(), cr0, "cr0_unchanged_after_gp");
    write_cr0(cr0 | CR0_CD | CR0_NW);
    kt_eq(read_cr0() & (CR0_CD | CR0_NW), CR0_CD | CR0_NW, "cr0_cd_nw_roundtrip");
    write_cr0(cr0);

    write_cr2(0xdeadbeef);
    kt_eq(read_cr2(), 0xdeadbeef, "cr2_roundtrip");
    uint32_t cr3 = read_cr3();
    write_cr3(0x00345000 | 0x18);
    kt_eq(read_cr3(), 0x00345018, "cr3_roundtrip_pwt_pcd");
    write_cr3(cr3);

    uint32_t cr4 = read_cr4();
    struct kt_cpuid f = cpuid(1, 0);
    uint32_t want = CR4_PSE | CR4_PGE | CR4_DE | CR4_TSD;
    if (f.d & (1u << 24)) want |= CR4_OSFXSR;
    write_cr4(cr4 | want);
    kt_eq(read_cr4() & want, want, "cr4_roundtrip");
    write_cr4(cr4);
    kt_eq(read_cr4(), cr4, "cr4_restored");
    /* Reserved CR4 bits: see cr4check.c (kept apart because QEMU hangs on them). */

    /* SMSW/LMSW: the machine status word is CR0[15:0]; LMSW loads only PE/MP/EM/TS and
     * cannot clear PE. */
    uint16_t msw;
    __asm__ volatile("smsw %0" : "=m"(msw));
    kt_eq(msw, cr0 & 0xffff, "smsw_mem16");
    uint32_t r32;
    __asm__ volatile("smsw %0" : "=r"(r32));
    kt_eq(r32 & 0xffff, cr0 & 0xffff, "smsw_reg_low16");
    __asm__ volatile("lmsw %w0" : : "r"((cr0 & 0xfff0) | CR0_TS | CR0_MP) : "memory");
    kt_eq(read_cr0(), cr0 | CR0_TS | CR0_MP, "lmsw_sets_ts_mp");
    __asm__ volatile("lmsw %w0" : : "r"(0xfff0) : "memory");
    kt_eq(read_cr0() & 0xffff000f, (cr0 & 0xffff0000) | CR0_PE, "lmsw_cannot_clear_pe");
    write_cr0(cr0);
}

static uint32_t read_dr(int n)
{
    uint32_t v = 0;
    switch (n) {
    case 0: __asm__ volatile("mov %%dr0, %0" : "=r"(v)); break;
    case 1: __asm__ volatile("mov %%dr1, %0" : "=r"(v)); break;
    case 2: __asm__ volatile("mov %%dr2, %0" : "=r"(v)); break;
    case 3: __asm__ volatile("mov %%dr3, %0" : "=r"(v)); break;
    case 6: __asm__ volatile("mov %%dr6, %0" : "=r"(v)); break;
    case 7: __asm__ volatile("mov %%dr7, %0" : "=r"(v)); break;
    }
    return v;
}

static void dr_tests(void)
{
    __asm__ volatile("mov %0, %%dr0" : : "r"(0x11111110u));
    __asm__ volatile("mov %0, %%dr1" : : "r"(0x22222220u));
    __asm__ volatile("mov %0, %%dr2" : : "r"(0x33333330u));
    __asm__ volatile("mov %0, %%dr3" : : "r"(0x44444440u));
    kt_ok(read_dr(0) == 0x11111110 && read_dr(1) == 0x22222220 && read_dr(2) == 0x33333330 &&
              read_dr(3) == 0x44444440,
          "dr0_3_stored");
    /* DR6 and DR7 have fixed bits: DR6[31:16] and [11:4] read as 1, DR7 bit 10 reads as 1. */
    __asm__ volatile("mov %0, %%dr6" : : "r"(0u));
    kt_eq(read_dr(6) & 0xffff0ff0, 0xffff0ff0, "dr6_reserved_ones");
    __asm__ volatile("mov %0, %%dr7" : : "r"(0x300u));
    kt_eq(read_dr(7), 0x700, "dr7_le_ge_and_bit10");
    __asm__ volatile("mov %0, %%dr7" : : "r"(0u));
    kt_eq(read_dr(7), 0x400, "dr7_cleared");
    /* With CR4.DE=0, DR4/DR5 alias DR6/DR7; with CR4.DE=1 they are #UD. */
    uint32_t v;
    __asm__ volatile("mov %%dr5, %0" : "=r"(v));
    kt_eq(v, 0x400, "dr5_aliases_dr7");
    write_cr4(read_cr4() | CR4_DE);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %%dr4, %0" KT_END : "=r"(v) : : "memory");
    write_cr4(read_cr4() & ~CR4_DE);
    kt_eq_fault(6, 0, kt_site, "dr4_with_de_ud");
}

struct __attribute__((packed)) pdesc {
    uint16_t limit;
    uint32_t base;
};

static void table_tests(void)
{
    struct pdesc g, i, n;
    __asm__ volatile("sgdt %0" : "=m"(g));
    kt_ok(g.base == (uint32_t)kt_gdt && g.limit == sizeof(uint64_t) * KT_GDT_ENTRIES - 1, "sgdt");
    __asm__ volatile("sidt %0" : "=m"(i));
    kt_ok(i.base == (uint32_t)kt_idt && i.limit == 256 * 8 - 1, "sidt");

    /* LGDT a copy, SGDT sees it, then back. */
    static uint64_t copy[KT_GDT_ENTRIES] __attribute__((aligned(8)));
    memcpy(copy, kt_gdt, sizeof(copy));
    struct pdesc c = {0x7f, (uint32_t)copy};
    __asm__ volatile("lgdt %0" : : "m"(c) : "memory");
    __asm__ volatile("sgdt %0" : "=m"(n));
    uint16_t ds;
    __asm__ volatile("mov %1, %%ds\n\tmov %%ds, %0" : "=r"(ds) : "r"(KT_DS) : "memory");
    kt_load_gdt();
    kt_ok(n.base == (uint32_t)copy && n.limit == 0x7f && ds == KT_DS, "lgdt_sgdt_roundtrip");
    struct pdesc ic = {0x3ff, 0x12345678};
    __asm__ volatile("lidt %0\n\tsidt %1" : : "m"(ic), "m"(n) : "memory");
    kt_load_idt();
    kt_ok(n.base == 0x12345678 && n.limit == 0x3ff, "lidt_sidt_roundtrip");
    /* With a 16-bit operand size LGDT keeps only 24 bits of the base. */
    struct pdesc c16 = {0x7f, 0xff000000 | (uint32_t)copy};
    __asm__ volatile("data16 lgdt %0\n\tsgdt %1" : : "m"(c16), "m"(n) : "memory");
    kt_load_gdt();
    kt_ok(n.base == ((uint32_t)copy & 0x00ffffff), "lgdt_o16_24bit_base");

    /* An LDT with one data descriptor (base 0x600000); DS loads through TI=1. */
    static uint64_t ldt[4] __attribute__((aligned(8)));
    ldt[1] = kt_seg_desc(0x600000, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    const int ldt_idx = KT_GDT_SPARE;
    kt_gdt[ldt_idx] = kt_seg_desc((uint32_t)ldt, sizeof(ldt) - 1, 0x82, 0);
    *(volatile uint32_t *)0x600040 = 0x1d71d7;
    uint32_t v = 0;
    uint16_t sel = 0;
    __asm__ volatile("lldt %w2\n\tsldt %1\n\tmov %3, %%fs\n\tmovl %%fs:0x40, %0\n\tmov %4, %%fs"
                     : "=&r"(v), "=&r"(sel)
                     : "r"(ldt_idx << 3), "r"(0x0c), "r"(KT_DS)
                     : "memory");
    kt_eq(sel, ldt_idx << 3, "lldt_sldt");
    kt_eq(v, 0x1d71d7, "ldt_selector_uses_ldt");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%fs" KT_END "mov %1, %%fs"
                     :
                     : "r"(0x1c), "r"(KT_DS)
                     : "memory"); /* index 3: beyond LDT limit 31 */
    kt_eq_fault(13, 0x1c, kt_site, "ldt_selector_beyond_limit_gp");
    __asm__ volatile("lldt %w0\n\tsldt %1" : : "r"(0), "m"(sel) : "memory");
    kt_eq(sel, 0, "lldt_null");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "lldt %w0" KT_END : : "r"(KT_DS) : "memory");
    kt_eq_fault(13, KT_DS, kt_site, "lldt_not_ldt_gp");

    /* TR: STR gives the selector; LTR needs an available TSS and marks it busy. */
    __asm__ volatile("str %0" : "=r"(sel));
    kt_eq(sel, KT_TSS, "str");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ltr %w0" KT_END : : "r"(KT_TSS) : "memory");
    kt_eq_fault(13, KT_TSS, kt_site, "ltr_busy_gp");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ltr %w0" KT_END : : "r"(KT_DS) : "memory");
    kt_eq_fault(13, KT_DS, kt_site, "ltr_data_segment_gp");
    __asm__ volatile("ltr %w1\n\tstr %0" : "=r"(sel) : "r"(KT_TSS2) : "memory");
    kt_ok(sel == KT_TSS2 && ((kt_gdt[KT_TSS2 >> 3] >> 40) & 0xf) == 0xb, "ltr_marks_busy");
    kt_gdt[KT_TSS >> 3] &= ~(2ull << 40);
    __asm__ volatile("ltr %w0" : : "r"(KT_TSS) : "memory");
    kt_gdt[KT_TSS2 >> 3] &= ~(2ull << 40);
    __asm__ volatile("str %0" : "=r"(sel));
    kt_eq(sel, KT_TSS, "ltr_back");
}

static void misc_tests(void)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "invd\n\twbinvd\n\tinvlpg 0x100000" KT_END : : : "memory");
    kt_no_fault("invd_wbinvd_invlpg");
    /* Caches off and on again around a memory access. */
    uint32_t cr0 = read_cr0();
    write_cr0(cr0 | CR0_CD);
    volatile uint32_t x = 5;
    x += 1;
    write_cr0(cr0);
    kt_eq(x, 6, "cache_disable_memory_works");
    kt_skip("hlt_with_if0", "would stop the CPU for good");
}

void test_main(void)
{
    multiboot_tests();
    cpuid_tests();
    tsc_tests();
    msr_tests();
    cr_tests();
    dr_tests();
    table_tests();
    misc_tests();
}
