/* hello: smoke test of the kt runtime (output, checks, exceptions, ring 3). */
#include "kt.h"

static uint32_t user_fn(uint32_t x)
{
    return x * 3 + read_cs();
}

void test_main(void)
{
    kt_eq(1, 1, "one");
    kt_fault_reset();
    uint32_t a = 1, d = 0, c = 0;
    __asm__ volatile(KT_TRY "divl %2" KT_END : "+a"(a), "+d"(d) : "r"(c) : "memory");
    kt_eq_fault(0, 0, kt_site, "de");
    kt_eq(kt_user_call(user_fn, 5), 15 + 0x1b, "user");
    kt_eq(kt_user_call_sysenter(user_fn, 6), 18 + 0x1b, "user_se");
}
