/* string: MOVS/CMPS/SCAS/LODS/STOS with REP/REPE/REPNE, DF, ECX=0, 16-bit addressing and
 * segment overrides (SDM vol. 2 MOVS, CMPS, SCAS, LODS, STOS, REP/REPE/REPNE pages). */
#include "kt.h"

struct sregs {
    uint32_t esi, edi, ecx, eax, flags;
};

/* Runs one string instruction with the given registers and EFLAGS (DF included), returns the
 * registers and EFLAGS after it, and leaves DF clear for the C code. */
#define STR(fn, insn)                                                                              \
    static struct sregs fn(struct sregs r)                                                         \
    {                                                                                              \
        __asm__ volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]\n\tcld"               \
                         : "+S"(r.esi), "+D"(r.edi), "+c"(r.ecx), "+a"(r.eax), [f] "+r"(r.flags)   \
                         :                                                                         \
                         : "memory", "cc");                                                        \
        return r;                                                                                  \
    }

STR(movsb, "movsb")
STR(movsw, "movsw")
STR(movsd, "movsl")
STR(rep_movsb, "rep movsb")
STR(rep_movsw, "rep movsw")
STR(rep_movsd, "rep movsl")
STR(stosb, "stosb")
STR(stosw, "stosw")
STR(stosd, "stosl")
STR(rep_stosb, "rep stosb")
STR(rep_stosw, "rep stosw")
STR(rep_stosd, "rep stosl")
STR(lodsb, "lodsb")
STR(lodsw, "lodsw")
STR(lodsd, "lodsl")
STR(rep_lodsb, "rep lodsb")
STR(cmpsb, "cmpsb")
STR(cmpsw, "cmpsw")
STR(cmpsd, "cmpsl")
STR(repe_cmpsb, "repe cmpsb")
STR(repe_cmpsd, "repe cmpsl")
STR(repne_cmpsb, "repne cmpsb")
STR(scasb, "scasb")
STR(scasw, "scasw")
STR(scasd, "scasl")
STR(repne_scasb, "repne scasb")
STR(repne_scasw, "repne scasw")
STR(repe_scasd, "repe scasl")
STR(a16_movsb, "addr16 movsb")
STR(a16_rep_movsb, "addr16 rep movsb")
STR(a16_stosw, "addr16 stosw")
STR(a16_lodsb, "addr16 lodsb")
STR(a16_repne_scasb, "addr16 repne scasb")
STR(fs_movsb, "movsb %%fs:(%%esi), %%es:(%%edi)")
STR(fs_lodsd, "lodsl %%fs:(%%esi), %%eax")
STR(fs_cmpsb, "cmpsb %%es:(%%edi), %%fs:(%%esi)")
STR(fs_stosb, ".byte 0x64\n\tstosb") /* an override on STOS is ignored: ES stays */
STR(o16_rep_stos, "rep stosw")

static uint8_t src[256], dst[256];
#define S(off) ((uint32_t)src + (uint32_t)(off))
#define D(off) ((uint32_t)dst + (uint32_t)(off))
#define UP     0x2u
#define DOWN   (0x2u | FL_DF)

static void fill(void)
{
    for (int i = 0; i < 256; i++) {
        src[i] = (uint8_t)(i + 1);
        dst[i] = 0xee;
    }
}

static int regs_are(struct sregs r, uint32_t esi, uint32_t edi, uint32_t ecx, uint32_t eax)
{
    return r.esi == esi && r.edi == edi && r.ecx == ecx && r.eax == eax;
}

static void check_regs(const char *name, struct sregs r, uint32_t esi, uint32_t edi, uint32_t ecx,
                       uint32_t eax)
{
    if (regs_are(r, esi, edi, ecx, eax))
        kt_ok(1, "%s", name);
    else
        kt_fail(name, "expected esi=%x edi=%x ecx=%x eax=%x got %x %x %x %x", esi, edi, ecx, eax,
                r.esi, r.edi, r.ecx, r.eax);
}

static void movs_tests(void)
{
    struct sregs r;
    fill();
    r = movsb((struct sregs){S(10), D(20), 7, 0, UP});
    check_regs("movsb_up", r, S(11), D(21), 7, 0);
    kt_ok(dst[20] == 11 && dst[21] == 0xee && dst[19] == 0xee, "movsb_up_data");
    r = movsw((struct sregs){S(10), D(20), 7, 0, DOWN});
    check_regs("movsw_down", r, S(8), D(18), 7, 0);
    kt_ok(dst[20] == 11 && dst[21] == 12, "movsw_down_data");
    fill();
    r = movsd((struct sregs){S(4), D(8), 0, 0, UP});
    check_regs("movsd_up", r, S(8), D(12), 0, 0);
    kt_ok(dst[8] == 5 && dst[11] == 8 && dst[12] == 0xee, "movsd_up_data");

    fill();
    r = rep_movsb((struct sregs){S(0), D(0), 5, 0x1234, UP});
    check_regs("rep_movsb", r, S(5), D(5), 0, 0x1234);
    kt_ok(dst[0] == 1 && dst[4] == 5 && dst[5] == 0xee, "rep_movsb_data");
    fill();
    r = rep_movsd((struct sregs){S(8), D(108), 3, 0, DOWN});
    check_regs("rep_movsd_down", r, S(8 - 12), D(108 - 12), 0, 0);
    kt_ok(dst[100] == 1 && dst[111] == 12 && dst[99] == 0xee && dst[112] == 0xee,
          "rep_movsd_down_data");
    fill();
    r = rep_movsw((struct sregs){S(0), D(0), 0, 0, UP | FL_CF | FL_ZF});
    check_regs("rep_movsw_ecx0", r, S(0), D(0), 0, 0);
    kt_ok(dst[0] == 0xee, "rep_movsw_ecx0_no_write");
    kt_eq_flags(r.flags, FL_CF | FL_ZF, FL_ARITH, "rep_movsw_ecx0_flags");
    /* Overlap: element-by-element semantics replicate the first byte forward. */
    fill();
    r = rep_movsb((struct sregs){S(0), S(1), 8, 0, UP});
    kt_ok(src[0] == 1 && src[1] == 1 && src[8] == 1 && src[9] == 10, "rep_movsb_overlap_forward");
    fill();
    r = rep_movsb((struct sregs){S(9), S(8), 8, 0, DOWN});
    kt_ok(src[9] == 10 && src[1] == 10 && src[8] == 10 && src[0] == 1 && src[10] == 11,
          "rep_movsb_overlap_backward");
}

static void stos_lods_tests(void)
{
    struct sregs r;
    fill();
    r = stosb((struct sregs){0, D(3), 9, 0xaabbcc11, UP});
    check_regs("stosb", r, 0, D(4), 9, 0xaabbcc11);
    kt_ok(dst[3] == 0x11 && dst[4] == 0xee, "stosb_data");
    r = stosw((struct sregs){0, D(10), 0, 0x2233, DOWN});
    check_regs("stosw_down", r, 0, D(8), 0, 0x2233);
    kt_ok(dst[10] == 0x33 && dst[11] == 0x22, "stosw_down_data");
    r = stosd((struct sregs){0, D(20), 0, 0x44556677, UP});
    kt_ok(r.edi == D(24) && dst[20] == 0x77 && dst[23] == 0x44, "stosd");
    fill();
    r = rep_stosd((struct sregs){0, D(32), 4, 0x01020304, UP});
    kt_ok(r.edi == D(48) && r.ecx == 0 && dst[32] == 4 && dst[47] == 1 && dst[48] == 0xee,
          "rep_stosd");
    fill();
    r = rep_stosb((struct sregs){0, D(40), 10, 0x5a, DOWN});
    kt_ok(r.edi == D(30) && r.ecx == 0 && dst[40] == 0x5a && dst[31] == 0x5a && dst[30] == 0xee &&
              dst[41] == 0xee,
          "rep_stosb_down");
    fill();
    r = rep_stosw((struct sregs){0, D(0), 0, 0xffff, UP});
    kt_ok(r.edi == D(0) && dst[0] == 0xee, "rep_stosw_ecx0");
    fill();
    r = o16_rep_stos((struct sregs){0, D(0), 3, 0xbeef, UP});
    kt_ok(r.edi == D(6) && dst[5] == 0xbe && dst[6] == 0xee, "rep_stosw_data");

    fill();
    r = lodsb((struct sregs){S(5), 0, 0, 0x12345678, UP});
    check_regs("lodsb_keeps_upper", r, S(6), 0, 0, 0x12345606);
    r = lodsw((struct sregs){S(5), 0, 0, 0x12345678, DOWN});
    check_regs("lodsw_down", r, S(3), 0, 0, 0x12340706);
    r = lodsd((struct sregs){S(0), 0, 0, 0, UP});
    check_regs("lodsd", r, S(4), 0, 0, 0x04030201);
    r = rep_lodsb((struct sregs){S(0), 0, 4, 0, UP});
    check_regs("rep_lodsb_last", r, S(4), 0, 0, 4);
}

static void cmps_scas_tests(void)
{
    struct sregs r;
    fill();
    memcpy(dst, src, 32);
    /* CMPS computes [ESI] - [EDI]. */
    dst[3] = 0x80;
    r = cmpsb((struct sregs){S(3), D(3), 0, 0, UP});
    kt_eq_flags(r.flags, FL_CF | FL_OF | FL_SF | FL_PF, FL_ARITH, "cmpsb_flags_src_minus_dst");
    check_regs("cmpsb_regs", r, S(4), D(4), 0, 0);
    r = cmpsw((struct sregs){S(8), D(8), 0, 0, DOWN});
    kt_eq_flags(r.flags, FL_ZF | FL_PF, FL_ARITH, "cmpsw_equal");
    check_regs("cmpsw_down_regs", r, S(6), D(6), 0, 0);
    r = cmpsd((struct sregs){S(12), D(4), 0, 0, UP});
    kt_eq_flags(r.flags, 0, FL_ARITH & ~FL_AF & ~FL_PF, "cmpsd_greater");

    r = repe_cmpsb((struct sregs){S(0), D(0), 10, 0, UP});
    check_regs("repe_cmpsb_stops_after_mismatch", r, S(4), D(4), 6, 0);
    kt_eq_flags(r.flags, 0, FL_ZF, "repe_cmpsb_zf0");
    r = repe_cmpsd((struct sregs){S(16), D(16), 4, 0, UP});
    check_regs("repe_cmpsd_all_equal", r, S(32), D(32), 0, 0);
    kt_eq_flags(r.flags, FL_ZF, FL_ZF, "repe_cmpsd_zf1");
    dst[4] = 4;
    r = repne_cmpsb((struct sregs){S(0), D(1), 10, 0, UP});
    check_regs("repne_cmpsb_stops_on_equal", r, S(4), D(5), 6, 0);
    r = repe_cmpsb((struct sregs){S(0), D(0), 0, 0, UP | FL_CF | FL_SF});
    check_regs("repe_cmpsb_ecx0", r, S(0), D(0), 0, 0);
    kt_eq_flags(r.flags, FL_CF | FL_SF, FL_ARITH, "repe_cmpsb_ecx0_flags_unchanged");

    fill();
    r = scasb((struct sregs){0, S(0), 0, 0x01, UP});
    kt_eq_flags(r.flags, FL_ZF | FL_PF, FL_ARITH, "scasb_equal");
    kt_eq(r.edi, S(1), "scasb_edi");
    r = scasb((struct sregs){0, S(0), 0, 0x00, UP});
    kt_eq_flags(r.flags, FL_CF | FL_SF | FL_AF | FL_PF, FL_ARITH, "scasb_al_minus_mem");
    r = scasw((struct sregs){0, S(2), 0, 0x0403, DOWN});
    kt_ok((r.flags & FL_ZF) && r.edi == S(0), "scasw_down");
    r = scasd((struct sregs){0, S(0), 0, 0x04030201, UP});
    kt_ok((r.flags & FL_ZF) && r.edi == S(4), "scasd");
    r = repne_scasb((struct sregs){0, S(0), 100, 0x20, UP});
    check_regs("repne_scasb_finds", r, 0, S(32), 68, 0x20);
    kt_eq_flags(r.flags, FL_ZF, FL_ZF, "repne_scasb_zf");
    src[100] = 0;
    r = repne_scasw((struct sregs){0, S(0), 8, 0xabcd, UP});
    check_regs("repne_scasw_not_found", r, 0, S(16), 0, 0xabcd);
    kt_eq_flags(r.flags, 0, FL_ZF, "repne_scasw_not_found_zf0");
    memset(src, 0x77, 16);
    r = repe_scasd((struct sregs){0, S(0), 8, 0x77777777, UP});
    check_regs("repe_scasd_stops", r, 0, S(20), 3, 0x77777777);
    r = repne_scasb((struct sregs){0, S(0), 0, 0x77, UP | FL_OF});
    check_regs("repne_scasb_ecx0", r, 0, S(0), 0, 0x77);
    kt_eq_flags(r.flags, FL_OF, FL_ARITH, "repne_scasb_ecx0_flags");
}

/* A data segment based at 4 MiB (GDT spare slot) for the 16-bit-address and override tests. */
#define SCRATCH     0x400000u
#define SEL_SCRATCH (KT_GDT_SPARE << 3)

/* Runs fn with DS and ES (and FS) loaded with the scratch segment. */
#define WITH_SEGS(load, call)                                                                      \
    do {                                                                                           \
        __asm__ volatile(load ::"r"(SEL_SCRATCH) : "memory");                                      \
        call;                                                                                      \
        __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs" ::"r"(KT_DS) : "memory");  \
    } while (0)

static struct sregs a16_run(struct sregs (*fn)(struct sregs), struct sregs in)
{
    struct sregs out;
    /* Locals live on the stack (SS, untouched), so only DS/ES change under the call. */
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" ::"r"(SEL_SCRATCH) : "memory");
    out = fn(in);
    __asm__ volatile("mov %0, %%ds\n\tmov %0, %%es" ::"r"(KT_DS) : "memory");
    return out;
}

static void a16_tests(void)
{
    volatile uint8_t *sc = (volatile uint8_t *)SCRATCH;
    for (int i = 0; i < 16; i++) {
        sc[i] = (uint8_t)(0x40 + i);
        sc[0xfff0 + i] = (uint8_t)(0x80 + i);
        sc[0x10000 + i] = 0xcc;
        sc[0x8000 + i] = 0;
    }
    struct sregs r;
    r = a16_run(a16_movsb, (struct sregs){0x1234ffff, 0x56788000, 0, 0, UP});
    check_regs("a16_movsb_si_di_wrap", r, 0x12340000, 0x56788001, 0, 0);
    kt_eq(sc[0x8000], 0x8f, "a16_movsb_data");
    r = a16_run(a16_rep_movsb, (struct sregs){0xfffe, 0x8004, 0xabcd0003, 0, UP});
    check_regs("a16_rep_movsb_uses_cx", r, 0x0001, 0x8007, 0xabcd0000, 0);
    kt_ok(sc[0x8004] == 0x8e && sc[0x8005] == 0x8f && sc[0x8006] == 0x40,
          "a16_rep_movsb_wrapped_data");
    r = a16_run(a16_movsb, (struct sregs){0x0000, 0x0000, 0, 0, DOWN});
    check_regs("a16_movsb_down_wrap", r, 0xffff, 0xffff, 0, 0);
    r = a16_run(a16_stosw, (struct sregs){0, 0x7777fffe, 0, 0x1122, UP});
    kt_ok(r.edi == 0x77770000 && sc[0xfffe] == 0x22 && sc[0xffff] == 0x11, "a16_stosw_wrap");
    r = a16_run(a16_lodsb, (struct sregs){0x9999ffff, 0, 0, 0xaaaaaaaa, UP});
    check_regs("a16_lodsb", r, 0x99990000, 0, 0, 0xaaaaaa11);
    r = a16_run(a16_repne_scasb, (struct sregs){0, 0xfffc, 0x10008, 0x41, UP});
    check_regs("a16_repne_scasb_wraps_cx_count", r, 0, 0x0002, 0x10002, 0x41);

    /* Segment override on the source operand: FS-based source, destination stays ES. */
    for (int i = 0; i < 8; i++)
        sc[0x20 + i] = (uint8_t)(0xa0 + i);
    fill();
    WITH_SEGS("mov %0, %%fs", r = fs_movsb((struct sregs){0x20, D(0), 0, 0, UP}));
    kt_ok(dst[0] == 0xa0 && r.esi == 0x21 && r.edi == D(1), "movsb_fs_source");
    WITH_SEGS("mov %0, %%fs", r = fs_lodsd((struct sregs){0x24, 0, 0, 0, UP}));
    kt_eq(r.eax, 0xa7a6a5a4, "lodsd_fs_source");
    dst[0] = 0xa0;
    WITH_SEGS("mov %0, %%fs", r = fs_cmpsb((struct sregs){0x20, D(0), 0, 0, UP}));
    kt_eq_flags(r.flags, FL_ZF, FL_ZF, "cmpsb_fs_source");
    fill();
    sc[0x30] = 0x00;
    WITH_SEGS("mov %0, %%fs", r = fs_stosb((struct sregs){0, D(0x30), 0, 0x5e, UP}));
    kt_ok(dst[0x30] == 0x5e && sc[0x30] == 0x00, "stosb_ignores_fs_override");
}

/* A REP MOVS that page-faults part-way leaves ECX/ESI/EDI at the faulting element, with EIP at
 * the instruction, so that it can be restarted (SDM vol. 2 REP: "interrupted... registers
 * reflect the iteration"). */
static void rep_fault_test(void)
{
    kt_paging_init(PTE_P | PTE_W, 0);
    const uint32_t va = 0x40000000;
    kt_map(va, SCRATCH, PTE_P | PTE_W);
    kt_map(va + 0x1000, SCRATCH + 0x1000, 0); /* not present */
    kt_paging_enable();
    uint32_t esi = (uint32_t)src, edi = va + 0xff0, ecx = 64;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "rep movsb" KT_END : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
    kt_eq_fault(14, 0x2, kt_site, "rep_movsb_pf_mid");
    kt_eq(kt_last.cr2, va + 0x1000, "rep_movsb_pf_cr2");
    check_regs("rep_movsb_pf_progress", (struct sregs){esi, edi, ecx, 0, 0}, (uint32_t)src + 16,
               va + 0x1000, 48, 0);
    /* Make the page present and restart: the copy completes. */
    kt_map(va + 0x1000, SCRATCH + 0x1000, PTE_P | PTE_W);
    invlpg(va + 0x1000);
    kt_fault_reset();
    __asm__ volatile(KT_TRY "rep movsb" KT_END : "+S"(esi), "+D"(edi), "+c"(ecx) : : "memory");
    kt_no_fault("rep_movsb_restart");
    kt_ok(ecx == 0 && edi == va + 0x1030 && memcmp((void *)(SCRATCH + 0xff0), src, 64) == 0,
          "rep_movsb_restart_done");
    kt_paging_disable();
}

void test_main(void)
{
    kt_gdt[KT_GDT_SPARE] = kt_seg_desc(SCRATCH, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    if ((uint32_t)_end >= SCRATCH)
        kt_fail("layout", "image end 0x%x overlaps scratch", (uint32_t)_end);
    movs_tests();
    stos_lods_tests();
    cmps_scas_tests();
    a16_tests();
    rep_fault_test();
}
