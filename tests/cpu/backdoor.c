/* backdoor: kestrel's CPUID backdoor (DESIGN.md section 7): with CF set and EAX = "QEMU",
 * EDX = "time" returns the host clock and clears CF; "hist" starts, stops and fetches an opcode
 * histogram; other inputs behave as ordinary CPUID. kestrel-only (not run under QEMU). */
#include "kt.h"

#define QEMU 0x554d4551u
#define TIME 0x656d6974u
#define HIST 0x74736968u
#define STAR 0x72617473u
#define STOP 0x706f7473u
#define FETC 0x63746566u

struct regs {
    uint32_t a, b, c, d, cf;
};

static struct regs backdoor(uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
    struct regs r;
    uint8_t cf;
    __asm__ volatile("stc\n\tcpuid\n\tsetc %4"
                     : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d), "=m"(cf)
                     : "0"(a), "1"(b), "2"(c), "3"(d)
                     : "cc");
    r.cf = cf;
    return r;
}

static uint8_t hist_buf[8192];

void test_main(void)
{
    struct regs t1 = backdoor(QEMU, 0, 0, TIME);
    struct regs t2 = backdoor(QEMU, 0, 0, TIME);
    kt_eq(t1.cf, 0, "time_clears_cf");
    kt_ok(t1.c > 1600000000u, "time_seconds_plausible");
    kt_ok(t1.b < 1000000u, "time_microseconds_in_range");
    uint64_t n1 = t1.a | (uint64_t)t1.d << 32, n2 = t2.a | (uint64_t)t2.d << 32;
    kt_ok(n2 > n1, "time_counter_advances");

    /* Without CF the same inputs are an ordinary (out-of-range) CPUID leaf. */
    struct regs plain;
    __asm__ volatile("clc\n\tcpuid" : "=a"(plain.a), "=b"(plain.b), "=c"(plain.c), "=d"(plain.d)
                     : "0"(QEMU), "1"(0), "2"(0), "3"(TIME) : "cc");
    kt_ok(plain.d != t2.d || plain.c != t2.c, "no_cf_is_plain_cpuid");
    /* An unknown request leaves CF set. */
    kt_eq(backdoor(QEMU, 0, 0, 0x12345678).cf, 1, "unknown_request_keeps_cf");

    /* Histogram: count 1000 NOPs and 500 XCHGs between start and stop. */
    kt_eq(backdoor(QEMU, 0xffffffffu, STAR, HIST).cf, 0, "hist_start");
    for (int i = 0; i < 100; i++)
        __asm__ volatile("nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                         "xchg %%ebx, %%ebx\n\txchg %%ebx, %%ebx\n\txchg %%ebx, %%ebx\n\t"
                         "xchg %%ebx, %%ebx\n\txchg %%ebx, %%ebx" ::: "ebx");
    struct regs st = backdoor(QEMU, 0, STOP, HIST);
    kt_eq(st.cf, 0, "hist_stop");
    kt_ok(st.b > 50 && st.c > st.b * 8 && st.c <= sizeof hist_buf, "hist_sizes");
    for (uint32_t i = 0; i < st.c && i < sizeof hist_buf; i += 16) {
        struct regs f = backdoor(QEMU, i, FETC, HIST);
        uint32_t w[4] = {f.a, f.b, f.c, f.d};
        for (int k = 0; k < 16 && i + k < sizeof hist_buf; k++) hist_buf[i + k] = w[k / 4] >> (8 * (k % 4));
    }
    /* Find the counters by name. */
    const char *names = (const char *)hist_buf + 8 * st.b;
    uint64_t nops = 0, xchgs = 0;
    for (uint32_t m = 0; m < st.b; m++) {
        uint64_t v = 0;
        for (int k = 0; k < 8; k++) v |= (uint64_t)hist_buf[8 * m + k] << (8 * k);
        const char *n = names;
        int len = 0;
        while (n[len]) len++;
        if (len == 3 && n[0] == 'n' && n[1] == 'o' && n[2] == 'p') nops = v;
        if (len == 4 && n[0] == 'x' && n[1] == 'c' && n[2] == 'h' && n[3] == 'g') xchgs = v;
        names += len + 1;
    }
    kt_ok(nops >= 1000 && nops < 1100, "hist_counts_nops");
    kt_ok(xchgs >= 500 && xchgs < 600, "hist_counts_xchg");
}
