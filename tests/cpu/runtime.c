/* runtime: self-test of the kt library the other tests stand on (output formatting, fault
 * recovery, handler hooks, ring-3 round trips, paging helpers). Uses few, common instructions,
 * so it is the first test to get passing on a new CPU model. */
#include "kt.h"

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void format_tests(void)
{
    char buf[64];
    kt_snprintf(buf, sizeof(buf), "%d %u %x %08x", -42, 42u, 0xbeefu, 0x12u);
    kt_ok(streq(buf, "-42 42 beef 00000012"), "printf_ints");
    kt_snprintf(buf, sizeof(buf), "%s|%5s|%-3s|%c", "ab", "cd", "e", 'Z');
    kt_ok(streq(buf, "ab|   cd|e  |Z"), "printf_strings");
    kt_snprintf(buf, sizeof(buf), "%llx %lld", 0x123456789abcdefull, -5000000000ll);
    kt_ok(streq(buf, "123456789abcdef -5000000000"), "printf_64bit");
    int n = kt_snprintf(buf, 4, "abcdef");
    kt_ok(n == 6 && streq(buf, "abc"), "snprintf_truncates");
}

static uint32_t hook_seen;
static void hook(struct kt_frame *f)
{
    hook_seen = f->vector;
    f->eax = 0x1234;
}

static void faulting(void *arg)
{
    __asm__ volatile("ud2");
}
static void not_faulting(void *arg) {}

static uint32_t user_cpl(uint32_t x)
{
    return (read_cs() & 3) << 16 | x;
}
static uint32_t user_ud(uint32_t x)
{
    __asm__ volatile("ud2");
    return 0;
}
static void user_ud_call(void *arg)
{
    kt_user_call(user_ud, 0);
}

static void fault_tests(void)
{
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ud2" KT_END ::: "memory");
    kt_eq_fault(6, 0, kt_site, "fixup_records_ud");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "nop" KT_END ::: "memory");
    kt_no_fault("fixup_no_fault");
    kt_eq(kt_catch(faulting, NULL), 6, "catch_returns_vector");
    kt_eq((uint32_t)kt_catch(not_faulting, NULL), 0xffffffff, "catch_without_fault");
    kt_set_handler(0x70, hook);
    uint32_t a = 0;
    __asm__ volatile("int $0x70" : "+a"(a) : : "memory");
    kt_set_handler(0x70, NULL);
    kt_ok(a == 0x1234 && hook_seen == 0x70, "handler_hook_edits_frame");
}

static void ring3_tests(void)
{
    kt_eq(kt_user_call(user_cpl, 7), 3u << 16 | 7, "user_call_runs_at_cpl3");
    kt_eq(kt_user_call_sysenter(user_cpl, 8), 3u << 16 | 8, "user_call_sysenter_cpl3");
    kt_eq(kt_user_ret_frame.cs & 0xffff, KT_UCS, "user_return_frame_cs");
    kt_eq(read_cs(), KT_CS, "back_at_cpl0");
    kt_eq(kt_catch(user_ud_call, NULL), 6, "catch_fault_in_ring3");
    kt_eq(read_ss(), KT_DS, "catch_restores_ss");
    kt_eq(kt_user_call(user_cpl, 9), 3u << 16 | 9, "user_call_after_catch");
}

static void paging_tests(void)
{
    kt_paging_init(PTE_P | PTE_W, 0);
    kt_paging_enable();
    uint32_t *p = kt_alloc_page();
    p[1] = 0xfeed;
    kt_map(0x50000000, (uint32_t)p, PTE_P | PTE_W);
    kt_eq(*(volatile uint32_t *)0x50000004, 0xfeed, "map_and_read");
    kt_ok(kt_pte(0x50000000) && (*kt_pte(0x50000000) & ~0xfffu) == (uint32_t)p, "pte_lookup");
    kt_paging_disable();
}

void test_main(void)
{
    kt_eq(kt_mb_magic, 0x2badb002, "multiboot_magic");
    format_tests();
    fault_tests();
    ring3_tests();
    paging_tests();
}
