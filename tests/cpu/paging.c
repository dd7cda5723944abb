/* paging: 32-bit paging with 4 KiB and 4 MiB pages (SDM vol. 3A 4.3 translation, 4.6 access
 * rights incl. CR0.WP, 4.7 page-fault error codes, 4.8 accessed/dirty flags, 4.10 TLBs:
 * INVLPG, CR3 loads and global pages). */
#include "kt.h"

#define VA(n) (0x40000000u + (n)*0x1000u) /* test pages, outside the identity map */
#define PF_P  1u
#define PF_W  2u
#define PF_U  4u

static uint32_t try_read(uint32_t va)
{
    uint32_t v = 0xbadbad;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "movl (%1), %0" KT_END : "+r"(v) : "r"(va) : "memory");
    return v;
}

static void try_write(uint32_t va, uint32_t v)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "movl %1, (%0)" KT_END : : "r"(va), "r"(v) : "memory");
}

static void check_pf(const char *name, uint32_t err, uint32_t cr2)
{
    if (kt_eq_fault(14, err, kt_site, "%s", name)) kt_eq(kt_last.cr2, cr2, "%s_cr2", name);
}

static uint32_t user_read(uint32_t va)
{
    return try_read(va);
}
static uint32_t user_write(uint32_t va)
{
    try_write(va, 0x5555);
    return 0;
}

static uint32_t *page(void)
{
    return kt_alloc_page();
}

static void basic_4k(void)
{
    kt_paging_init(PTE_P | PTE_W | PTE_U, 0);
    kt_paging_enable();
    kt_ok(read_cr0() & CR0_PG, "pg_enabled");
    volatile uint32_t probe = 0x1234;
    kt_eq(probe, 0x1234, "identity_4k_access");

    uint32_t *a = page(), *b = page();
    a[0] = 0xaaaa0000;
    a[0x123 / 4] = 0xaaaa0123;
    b[0] = 0xbbbb0000;
    kt_map(VA(0), (uint32_t)a, PTE_P | PTE_W);
    kt_map(VA(1), (uint32_t)b, PTE_P | PTE_W);
    kt_eq(try_read(VA(0)), 0xaaaa0000, "map_4k_read");
    kt_eq(try_read(VA(1)), 0xbbbb0000, "map_4k_second_page");
    try_write(VA(0) + 8, 0x77);
    kt_eq(a[2], 0x77, "map_4k_write_reaches_phys");

    /* Not present: error code P=0 plus W/U of the access; CR2 = the faulting address. */
    kt_map(VA(2), 0, 0);
    try_read(VA(2) + 0x123);
    check_pf("pf_not_present_read", 0, VA(2) + 0x123);
    try_write(VA(2) + 0x456, 1);
    check_pf("pf_not_present_write", PF_W, VA(2) + 0x456);
    try_read(0x80000000u + 0x10);
    check_pf("pf_pde_not_present", 0, 0x80000010u);
    /* Instruction fetch from a not-present page: reported at the target, error code 0. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "jmp *%0" KT_END : : "r"(VA(2) + 0x10) : "memory");
    kt_eq(kt_last.vector, 14, "pf_fetch_vector");
    kt_ok(kt_last.error == 0 && kt_last.cr2 == VA(2) + 0x10 && kt_last.eip == VA(2) + 0x10,
          "pf_fetch_error_cr2_eip");
    kt_eq(kt_last.eip, VA(2) + 0x10, "pf_fetch_eip");

    /* Read-only page at CPL 0: allowed with CR0.WP=0, #PF(P|W) with WP=1. */
    kt_map(VA(3), (uint32_t)b, PTE_P);
    invlpg(VA(3));
    write_cr0(read_cr0() & ~CR0_WP);
    try_write(VA(3) + 4, 0x1111);
    kt_no_fault("ro_page_cpl0_wp0_write_ok");
    kt_eq(b[1], 0x1111, "ro_page_cpl0_wp0_data");
    write_cr0(read_cr0() | CR0_WP);
    try_write(VA(3) + 4, 0x2222);
    check_pf("ro_page_cpl0_wp1_pf", PF_P | PF_W, VA(3) + 4);
    kt_eq(b[1], 0x1111, "ro_page_wp1_no_write");
    /* A read-only PDE makes the whole 4 MiB region read-only too. */
    kt_map(VA(1024), (uint32_t)b, PTE_P | PTE_W);
    *kt_pde(VA(1024)) &= ~PTE_W;
    invlpg(VA(1024));
    try_write(VA(1024), 3);
    check_pf("ro_pde_cpl0_wp1_pf", PF_P | PF_W, VA(1024));
    write_cr0(read_cr0() & ~CR0_WP);

    /* User accesses: supervisor pages fault with U set; user read-only pages refuse writes. */
    kt_map(VA(4), (uint32_t)a, PTE_P | PTE_W); /* supervisor */
    kt_map(VA(5), (uint32_t)a, PTE_P | PTE_U); /* user, read-only */
    kt_map(VA(6), (uint32_t)a, PTE_P | PTE_W | PTE_U);
    kt_user_call(user_read, VA(4) + 0x10);
    check_pf("user_read_supervisor_pf", PF_P | PF_U, VA(4) + 0x10);
    kt_eq(kt_last.cs, KT_UCS, "user_pf_cs_is_ring3");
    kt_user_call(user_write, VA(4) + 0x14);
    check_pf("user_write_supervisor_pf", PF_P | PF_W | PF_U, VA(4) + 0x14);
    kt_eq(kt_user_call(user_read, VA(5) + 0x120), 0xaaaa0123, "user_read_user_ro_ok");
    kt_user_call(user_write, VA(5) + 0x20);
    check_pf("user_write_user_ro_pf", PF_P | PF_W | PF_U, VA(5) + 0x20);
    kt_user_call(user_write, VA(6) + 0x20);
    kt_no_fault("user_write_user_rw_ok");
    kt_eq(a[8], 0x5555, "user_write_user_rw_data");
    kt_user_call(user_read, VA(7));
    check_pf("user_not_present_pf", PF_U, VA(7));
    /* U/S must be set at both levels for a user access. */
    kt_map(VA(2048), (uint32_t)a, PTE_P | PTE_W | PTE_U);
    *kt_pde(VA(2048)) &= ~PTE_U;
    invlpg(VA(2048));
    kt_user_call(user_read, VA(2048));
    check_pf("user_pde_supervisor_pf", PF_P | PF_U, VA(2048));
    /* Supervisor writes to a user read-only page: allowed with WP=0, fault with WP=1. */
    try_write(VA(5) + 0x30, 9);
    kt_no_fault("cpl0_write_user_ro_wp0_ok");
    write_cr0(read_cr0() | CR0_WP);
    try_write(VA(5) + 0x30, 9);
    check_pf("cpl0_write_user_ro_wp1_pf", PF_P | PF_W, VA(5) + 0x30);
    write_cr0(read_cr0() & ~CR0_WP);
}

static void accessed_dirty(void)
{
    uint32_t *p = page();
    kt_map(VA(10), (uint32_t)p, PTE_P | PTE_W);
    uint32_t *pte = kt_pte(VA(10)), *pde = kt_pde(VA(10));
    *pde &= ~(PTE_A | PTE_D);
    *pte &= ~(PTE_A | PTE_D);
    invlpg(VA(10));
    try_read(VA(10));
    kt_ok((*pde & PTE_A) && (*pte & PTE_A), "read_sets_accessed_pde_pte");
    kt_ok(!(*pte & PTE_D), "read_leaves_dirty_clear");
    try_write(VA(10), 1);
    kt_ok(*pte & PTE_D, "write_sets_dirty");
    /* A write that faults (read-only, WP=1) sets no dirty bit. */
    kt_map(VA(11), (uint32_t)p, PTE_P);
    pte = kt_pte(VA(11));
    invlpg(VA(11));
    write_cr0(read_cr0() | CR0_WP);
    try_write(VA(11), 1);
    write_cr0(read_cr0() & ~CR0_WP);
    kt_ok(kt_last.vector == 14 && !(*pte & PTE_D), "faulting_write_no_dirty");
    /* Dirty is set on the first write even if the TLB already holds the page from a read. */
    kt_map(VA(12), (uint32_t)p, PTE_P | PTE_W);
    pte = kt_pte(VA(12));
    invlpg(VA(12));
    try_read(VA(12));
    kt_ok((*pte & (PTE_A | PTE_D)) == PTE_A, "read_then_clean");
    try_write(VA(12) + 4, 2);
    kt_ok(*pte & PTE_D, "write_after_read_sets_dirty");
    /* A not-present fault sets no accessed bit in the PDE... it is set when the PDE is used. */
    kt_map(VA(13), (uint32_t)p, PTE_W);
    pte = kt_pte(VA(13));
    try_read(VA(13));
    kt_ok(!(*pte & PTE_A), "not_present_pte_no_accessed");
}

static void tlb_tests(void)
{
    uint32_t *a = page(), *b = page();
    a[0] = 0xa0a0a0a0;
    b[0] = 0xb0b0b0b0;
    kt_map(VA(20), (uint32_t)a, PTE_P | PTE_W);
    invlpg(VA(20));
    kt_eq(try_read(VA(20)), 0xa0a0a0a0, "tlb_before");
    *kt_pte(VA(20)) = (uint32_t)b | PTE_P | PTE_W;
    invlpg(VA(20));
    kt_eq(try_read(VA(20)), 0xb0b0b0b0, "invlpg_makes_change_visible");
    /* CR3 reload flushes non-global entries. */
    *kt_pte(VA(20)) = (uint32_t)a | PTE_P | PTE_W;
    write_cr3(read_cr3());
    kt_eq(try_read(VA(20)), 0xa0a0a0a0, "cr3_reload_flushes");
    /* Unmapping with INVLPG: the next access faults. */
    *kt_pte(VA(20)) = 0;
    invlpg(VA(20));
    try_read(VA(20));
    check_pf("invlpg_unmap_faults", 0, VA(20));

    /* Global pages: the SDM lets them survive CR3 loads (not guaranteed either way), INVLPG and
     * clearing CR4.PGE must flush them. */
    write_cr4(read_cr4() | CR4_PGE);
    kt_map(VA(21), (uint32_t)a, PTE_P | PTE_W | PTE_G);
    invlpg(VA(21));
    kt_eq(try_read(VA(21)), 0xa0a0a0a0, "global_page_access");
    *kt_pte(VA(21)) = (uint32_t)b | PTE_P | PTE_W | PTE_G;
    write_cr3(read_cr3());
    uint32_t after_cr3 = try_read(VA(21));
    kt_ok(after_cr3 == 0xa0a0a0a0 || after_cr3 == 0xb0b0b0b0, "global_after_cr3_old_or_new");
    kt_printf("# global entry %s a CR3 load\n",
              after_cr3 == 0xa0a0a0a0 ? "survived" : "did not survive");
    invlpg(VA(21));
    kt_eq(try_read(VA(21)), 0xb0b0b0b0, "invlpg_flushes_global");
    *kt_pte(VA(21)) = (uint32_t)a | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    kt_eq(try_read(VA(21)), 0xa0a0a0a0, "pge_toggle_flushes_global");
    write_cr4(read_cr4() | CR4_PGE);
    *kt_pte(VA(21)) = (uint32_t)b | PTE_P | PTE_W | PTE_G;
    write_cr4(read_cr4() & ~CR4_PGE);
    kt_eq(try_read(VA(21)), 0xb0b0b0b0, "pge_clear_flushes_global");

    /* Aliases: two linear pages on one physical page see each other's writes. */
    kt_map(VA(22), (uint32_t)a, PTE_P | PTE_W);
    kt_map(VA(23), (uint32_t)a, PTE_P | PTE_W);
    invlpg(VA(22));
    invlpg(VA(23));
    try_read(VA(22));
    try_read(VA(23));
    try_write(VA(22) + 0x40, 0x12345678);
    kt_eq(try_read(VA(23) + 0x40), 0x12345678, "alias_write_visible");
    try_write(VA(23) + 0x40, 0x9abcdef0);
    kt_eq(try_read(VA(22) + 0x40), 0x9abcdef0, "alias_write_visible_back");
    kt_eq(a[0x10], 0x9abcdef0, "alias_phys");
}

/* Code run through one mapping while it is rewritten through another. */
static void smc_alias(void)
{
    uint8_t *code = (uint8_t *)page();
    kt_map(VA(30), (uint32_t)code, PTE_P | PTE_W);
    kt_map(VA(31), (uint32_t)code, PTE_P | PTE_W);
    invlpg(VA(30));
    invlpg(VA(31));
    volatile uint8_t *w = (volatile uint8_t *)VA(31);
    static const uint8_t ret1[] = {0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3}; /* mov $1, %eax; ret */
    for (unsigned i = 0; i < sizeof(ret1); i++)
        w[i] = ret1[i];
    uint32_t (*fn)(void) = (uint32_t(*)(void))VA(30);
    kt_eq(fn(), 1, "smc_alias_first_run");
    w[1] = 0x02;
    kt_eq(fn(), 2, "smc_alias_rewritten_via_other_mapping");
    /* Remap the executed page onto different code: INVLPG, then the new code runs. */
    uint8_t *code2 = (uint8_t *)page();
    memcpy(code2, ret1, sizeof(ret1));
    code2[1] = 3;
    *kt_pte(VA(30)) = (uint32_t)code2 | PTE_P | PTE_W;
    invlpg(VA(30));
    kt_eq(fn(), 3, "remapped_code_page");
}

static void big_pages(void)
{
    kt_paging_disable();
    kt_paging_init(PTE_P | PTE_W | PTE_U, 1);
    kt_paging_enable();
    kt_ok(read_cr4() & CR4_PSE, "pse_enabled");
    volatile uint32_t probe = 0x4321;
    kt_eq(probe, 0x4321, "identity_4m_access");
    /* Map 4 MiB at 0x40000000 onto physical 8 MiB (the heap is above the image, far below). */
    const uint32_t phys = 0x00800000;
    *(volatile uint32_t *)(phys + 0x123454) = 0xfeedf00d;
    kt_map_4m(0x40000000, phys, PTE_P | PTE_W);
    invlpg(0x40000000);
    kt_eq(try_read(0x40123454), 0xfeedf00d, "map_4m_offset_within_page");
    uint32_t *pde = kt_pde(0x40000000);
    *pde &= ~(PTE_A | PTE_D);
    invlpg(0x40000000);
    try_read(0x40000010);
    kt_ok((*pde & (PTE_A | PTE_D)) == PTE_A, "4m_read_sets_accessed");
    try_write(0x40200000, 5);
    kt_ok(*pde & PTE_D, "4m_write_sets_dirty");
    kt_eq(*(volatile uint32_t *)(phys + 0x200000), 5, "4m_write_phys");
    kt_map_4m(0x40400000, phys, 0);
    try_read(0x40400004);
    check_pf("4m_not_present_pf", 0, 0x40400004);
    kt_map_4m(0x40800000, phys, PTE_P);
    invlpg(0x40800000);
    kt_user_call(user_read, 0x40800000);
    check_pf("4m_user_supervisor_pf", PF_P | PF_U, 0x40800000);
    write_cr0(read_cr0() | CR0_WP);
    try_write(0x40800100, 1);
    check_pf("4m_ro_wp1_pf", PF_P | PF_W, 0x40800100);
    write_cr0(read_cr0() & ~CR0_WP);
    /* Mixing: a 4 MiB region next to one split into 4 KiB pages. */
    uint32_t *p = page();
    p[0] = 0x4b4b4b4b;
    kt_map(0x40c00000, (uint32_t)p, PTE_P | PTE_W);
    kt_eq(try_read(0x40c00000), 0x4b4b4b4b, "4k_table_next_to_4m");
    kt_paging_disable();
    kt_ok(!(read_cr0() & CR0_PG), "pg_disabled");
}

void test_main(void)
{
    basic_4k();
    accessed_dirty();
    tlb_tests();
    smc_alias();
    big_pages();
}
