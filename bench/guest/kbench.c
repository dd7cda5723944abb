/* kbench: the guest benchmark suite. Timing, the command line, and the processor and memory
 * benchmarks; the I/O benchmarks and blended are in io.c. See bench/README.md.
 *
 * usage: kbench [--scale F] [--only NAME,...] [--disk PATH] [--net ADDR:PORT | --no-net WHY]
 *               [--busybox PATH]
 *        kbench --list | --serve PORT
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "kbench.h"

struct options opt = {.scale = 1.0, .busybox = "/bin/busybox"};
volatile uint32_t sink;

#define NOINLINE __attribute__((noinline))

long scaled(long base)
{
    double n = base * opt.scale;
    return n < 1 ? 1 : (long)n;
}

void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    fflush(stdout);
    va_end(ap);
}

/* ---- clocks ------------------------------------------------------------------------------ */

/* kestrel's CPUID backdoor (DESIGN.md section 7): CF set, EAX = "QEMU", EDX = "time". The
 * emulator clears CF and returns its host nanosecond counter in EDX:EAX; a CPU, or an emulator
 * without the backdoor, leaves CF set (CPUID does not touch the flags). */
static NOINLINE int backdoor_time(uint64_t *ns)
{
    uint32_t a = 0x554d4551u, b = 0, c = 0, d = 0x656d6974u;
    uint8_t cf;
    __asm__ volatile("stc\n\tcpuid\n\tsetc %4" : "+a"(a), "+b"(b), "+c"(c), "+d"(d), "=m"(cf)
                     :
                     : "cc", "memory");
    if (cf) return 0;
    *ns = (uint64_t)d << 32 | a;
    return 1;
}

static int use_backdoor;

uint64_t guest_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

uint64_t now_ns(void)
{
    uint64_t t;
    if (use_backdoor && backdoor_time(&t)) return t;
    return guest_ns();
}

static void pick_clock(void)
{
    uint64_t t1, t2;
    use_backdoor = backdoor_time(&t1) && backdoor_time(&t2) && t2 >= t1;
    note("clock %s", use_backdoor ? "backdoor (host time through CPUID)" : "monotonic (CLOCK_MONOTONIC)");
}

/* ---- calibration ---------------------------------------------------------------------------- */

static long cal_ms(void)
{
    long ms = (long)(200 * opt.scale);
    return ms < 50 ? 50 : ms;
}

/* Spins for a fixed span of guest time; the result shows how guest time relates to the
 * timing clock (both are the same clock natively and on emulators without the backdoor). */
static const char *b_calibrate_busy(uint64_t *ns)
{
    uint64_t span = (uint64_t)cal_ms() * 1000000u;
    uint64_t t0 = now_ns(), g0 = guest_ns();
    uint32_t spins = 0;
    while (guest_ns() - g0 < span) spins++;
    *ns = now_ns() - t0;
    sink = spins;
    return 0;
}

/* Sleeps a fixed span of guest time in 10 ms pieces: timer and wake-up latency. */
static const char *b_calibrate_idle(uint64_t *ns)
{
    long n = cal_ms() / 10;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        struct timespec ts = {0, 10000000};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
    }
    *ns = now_ns() - t0;
    return 0;
}

/* ---- arithmetic --------------------------------------------------------------------------- */

static NOINLINE int is_prime(uint32_t n)
{
    if (n < 2) return 0;
    for (uint32_t d = 2; d * d <= n; d++)
        if (n % d == 0) return 0;
    return 1;
}

static const char *b_arithmetic_int(uint64_t *ns)
{
    uint32_t lo = 1000000, hi = lo + (uint32_t)scaled(520000), count = 0;
    uint64_t t0 = now_ns();
    for (uint32_t n = lo; n < hi; n++) count += is_prime(n);
    *ns = now_ns() - t0;
    sink = count;
    return 0;
}

/* x87 (the suite is built with -mfpmath=387 -mno-sse): a Mandelbrot grid (multiply, add,
 * compare) and a series with a division per term. */
static NOINLINE double mandel(int w, int h, int maxit)
{
    double total = 0;
    for (int y = 0; y < h; y++) {
        double ci = -1.2 + 2.4 * y / h;
        for (int x = 0; x < w; x++) {
            double cr = -2.1 + 2.8 * x / w, zr = 0, zi = 0;
            int it = 0;
            while (it < maxit && zr * zr + zi * zi < 4.0) {
                double t = zr * zr - zi * zi + cr;
                zi = 2 * zr * zi + ci;
                zr = t;
                it++;
            }
            total += it;
        }
    }
    return total;
}

static NOINLINE double series(long n)
{
    double s = 0, sign = 1;
    for (long k = 0; k < n; k++, sign = -sign) s += sign / (2.0 * k + 1.0);
    return 4 * s;
}

static const char *b_arithmetic_float(uint64_t *ns)
{
    int side = 16;
    long cells = scaled(560000);
    while ((long)side * side < cells) side++;
    uint64_t t0 = now_ns();
    double r = mandel(side, side, 64) + series(scaled(17000000));
    *ns = now_ns() - t0;
    sink = (uint32_t)r;
    return 0;
}

/* ---- control flow ------------------------------------------------------------------------- */

static NOINLINE uint32_t fib(uint32_t n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static volatile uint32_t fib_depth = 22; /* read every time: the call cannot be hoisted */

static const char *b_flow_call(uint64_t *ns)
{
    long reps = scaled(1800);
    uint32_t s = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < reps; i++) s += fib(fib_depth);
    *ns = now_ns() - t0;
    sink = s;
    return 0;
}

/* Branches on pseudo-random bits: written in assembly so the compiler cannot turn them into
 * conditional moves. */
static const char *b_flow_conditional(uint64_t *ns)
{
    long n = scaled(14000000);
    uint32_t x = 12345, a = 0, b = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        __asm__ volatile("testl %2, %2\n\t"
                         "js 1f\n\t"
                         "addl %2, %0\n\t"
                         "jmp 2f\n"
                         "1:\txorl %2, %1\n"
                         "2:\n\t"
                         "testl $0x10000, %2\n\t"
                         "jz 3f\n\t"
                         "incl %0\n"
                         "3:"
                         : "+r"(a), "+r"(b)
                         : "r"(x)
                         : "cc");
    }
    *ns = now_ns() - t0;
    sink = a ^ b;
    return 0;
}

static volatile long exceptions;

/* The division below is "divl %ecx" (F7 F1): the handler steps over it. */
static void on_sigfpe(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    const unsigned char *ip = (const unsigned char *)uc->uc_mcontext.gregs[REG_EIP];
    if (ip[0] != 0xf7 || ip[1] != 0xf1) {
        signal(SIGFPE, SIG_DFL);
        return;
    }
    uc->uc_mcontext.gregs[REG_EIP] += 2;
    exceptions++;
}

static const char *b_flow_exception(uint64_t *ns)
{
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_sigfpe;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGFPE, &sa, &old);
    long n = scaled(11000);
    exceptions = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++)
        __asm__ volatile("xorl %%edx, %%edx\n\tmovl $1, %%eax\n\tdivl %%ecx" : : "c"(0)
                         : "eax", "edx", "cc", "memory");
    *ns = now_ns() - t0;
    sigaction(SIGFPE, &old, 0);
    if (exceptions != n) return "division by zero did not raise SIGFPE every time";
    return 0;
}

/* A dense switch on pseudo-random values: an indirect jump through a table. */
static NOINLINE uint32_t dispatch(long n, uint32_t x)
{
    uint32_t acc = 1;
    for (long i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        switch ((x >> 20) & 15) {
        case 0: acc += x; break;
        case 1: acc ^= x >> 3; break;
        case 2: acc = acc * 3 + 1; break;
        case 3: acc -= x << 2; break;
        case 4: acc = (acc << 5) | (acc >> 27); break;
        case 5: acc += 0x9e3779b9u; break;
        case 6: acc ^= acc >> 7; break;
        case 7: acc = ~acc; break;
        case 8: acc += i; break;
        case 9: acc ^= 0x5bd1e995u; break;
        case 10: acc = acc * 7 - x; break;
        case 11: acc |= x & 0x0f0f; break;
        case 12: acc &= x | 0xff00ff00u; break;
        case 13: acc -= 77; break;
        case 14: acc = (acc >> 3) + x; break;
        default: acc += acc >> 1; break;
        }
    }
    return acc;
}

static const char *b_flow_jumptable(uint64_t *ns)
{
    uint64_t t0 = now_ns();
    sink = dispatch(scaled(11000000), 42 + sink);
    *ns = now_ns() - t0;
    return 0;
}

static const char *b_flow_syscall(uint64_t *ns)
{
    long n = scaled(500000);
    uint32_t s = 0;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) s += syscall(SYS_getppid);
    *ns = now_ns() - t0;
    sink = s;
    return 0;
}

static const char *b_flow_taskswitch(uint64_t *ns)
{
    long n = scaled(1000);
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        pid_t pid = fork();
        if (pid < 0) return "fork failed";
        if (pid == 0) _exit(0);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
        }
    }
    *ns = now_ns() - t0;
    return 0;
}

/* ---- memory ------------------------------------------------------------------------------- */

#define MEM_WORDS (4L << 20) /* 16 MiB: well past the caches */
static uint32_t *mem;

static const char *mem_init(void)
{
    if (mem) return 0;
    mem = malloc(MEM_WORDS * 4);
    if (!mem) return "cannot allocate 16 MiB";
    for (long i = 0; i < MEM_WORDS; i++) mem[i] = (uint32_t)i;
    return 0;
}

static const char *b_memory_load_sequential(uint64_t *ns)
{
    const char *err = mem_init();
    if (err) return err;
    long words = scaled(192L << 20);
    uint32_t s = 0;
    uint64_t t0 = now_ns();
    for (long done = 0; done < words; done += MEM_WORDS) {
        long n = words - done < MEM_WORDS ? words - done : MEM_WORDS;
        const volatile uint32_t *p = mem;
        for (long i = 0; i < n; i++) s += p[i];
    }
    *ns = now_ns() - t0;
    sink = s;
    return 0;
}

static const char *b_memory_store_sequential(uint64_t *ns)
{
    const char *err = mem_init();
    if (err) return err;
    long words = scaled(192L << 20);
    uint64_t t0 = now_ns();
    for (long done = 0; done < words; done += MEM_WORDS) {
        long n = words - done < MEM_WORDS ? words - done : MEM_WORDS;
        volatile uint32_t *p = mem;
        for (long i = 0; i < n; i++) p[i] = (uint32_t)i;
    }
    *ns = now_ns() - t0;
    return 0;
}

static const char *b_memory_load_random(uint64_t *ns)
{
    const char *err = mem_init();
    if (err) return err;
    long n = scaled(11000000);
    uint32_t x = 7, s = 0;
    const volatile uint32_t *p = mem;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        s += p[x >> 10];
    }
    *ns = now_ns() - t0;
    sink = s;
    return 0;
}

static const char *b_memory_store_random(uint64_t *ns)
{
    const char *err = mem_init();
    if (err) return err;
    long n = scaled(22000000);
    uint32_t x = 11;
    volatile uint32_t *p = mem;
    uint64_t t0 = now_ns();
    for (long i = 0; i < n; i++) {
        x = x * 1664525u + 1013904223u;
        p[x >> 10] = x;
    }
    *ns = now_ns() - t0;
    return 0;
}

/* ---- driver ------------------------------------------------------------------------------- */

static const struct bench {
    const char *name;
    bench_fn *fn;
} benches[] = {
    {"calibrate_busy", b_calibrate_busy},
    {"calibrate_idle", b_calibrate_idle},
    {"arithmetic_int", b_arithmetic_int},
    {"arithmetic_float", b_arithmetic_float},
    {"flow_call", b_flow_call},
    {"flow_conditional", b_flow_conditional},
    {"flow_exception", b_flow_exception},
    {"flow_jumptable", b_flow_jumptable},
    {"flow_syscall", b_flow_syscall},
    {"flow_taskswitch", b_flow_taskswitch},
    /* Writes first: they fill the disk area the reads then read back. */
    {"io_disk_write_sequential", b_disk_write_sequential},
    {"io_disk_write_random", b_disk_write_random},
    {"io_disk_read_sequential", b_disk_read_sequential},
    {"io_disk_read_random", b_disk_read_random},
    {"io_display", b_display},
    {"io_network_latency", b_net_latency},
    {"io_network_throughput", b_net_throughput},
    {"memory_load_random", b_memory_load_random},
    {"memory_load_sequential", b_memory_load_sequential},
    {"memory_store_random", b_memory_store_random},
    {"memory_store_sequential", b_memory_store_sequential},
    {"blended", b_blended},
};

static int selected(const char *name)
{
    if (!opt.only) return 1;
    size_t n = strlen(name);
    for (const char *p = opt.only; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

static void usage(void)
{
    fputs("usage: kbench [--scale F] [--only NAME,...] [--disk PATH] [--net HOST:PORT] "
          "[--no-net WHY] [--busybox PATH]\n       kbench --list | --serve PORT\n",
          stderr);
    exit(2);
}

/* One processor: a guest has one, and pipelines (blended) would otherwise run in parallel
 * natively only. */
static void pin_cpu(void)
{
    int cpu = sched_getcpu();
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu < 0 ? 0 : cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) == 0) note("pinned to cpu %d", cpu < 0 ? 0 : cpu);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < sizeof benches / sizeof *benches; k++) puts(benches[k].name);
            return 0;
        }
        if (i + 1 >= argc) usage();
        const char *v = argv[++i];
        if (!strcmp(a, "--scale")) {
            opt.scale = atof(v);
            if (!(opt.scale > 0)) usage();
        } else if (!strcmp(a, "--only"))
            opt.only = v;
        else if (!strcmp(a, "--disk"))
            opt.disk = v;
        else if (!strcmp(a, "--net"))
            opt.net = v;
        else if (!strcmp(a, "--no-net"))
            opt.no_net = v;
        else if (!strcmp(a, "--busybox"))
            opt.busybox = v;
        else if (!strcmp(a, "--serve"))
            return serve(atoi(v));
        else
            usage();
    }
    setvbuf(stdout, 0, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    note("kbench start");
    pick_clock();
    note("scale %g", opt.scale);
    pin_cpu();
    for (size_t k = 0; k < sizeof benches / sizeof *benches; k++) {
        const struct bench *b = &benches[k];
        if (!selected(b->name)) continue;
        uint64_t ns = 0;
        const char *skip = b->fn(&ns);
        if (skip)
            printf("%s skipped: %s\n", b->name, skip);
        else
            printf("%s %.3f\n", b->name, ns / 1e6);
        fflush(stdout);
    }
    disk_cleanup();
    note("kbench done");
    return 0;
}
