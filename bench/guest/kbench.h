/* kbench: the guest benchmark suite (bench/README.md). One static i386 program, run natively
 * and inside guests; each benchmark prints "name milliseconds" or "name skipped: reason". */
#ifndef KBENCH_H
#define KBENCH_H

#include <stdint.h>

struct options {
    double scale;        /* multiplies every iteration count */
    const char *only;    /* comma-separated benchmark names, or NULL for all */
    const char *disk;    /* block device or file for the io_disk_* benchmarks */
    const char *net;     /* HOST:PORT of a kbench --serve peer, or NULL */
    const char *no_net;  /* why there is no peer (--no-net REASON), or NULL */
    const char *busybox; /* busybox binary for blended */
};

extern struct options opt;
extern volatile uint32_t sink; /* results go here so the compiler keeps the work */

/* Scaled iteration count, at least 1. */
long scaled(long base);
/* The timing clock in nanoseconds: the host clock through kestrel's CPUID backdoor when the
 * emulator answers it, else the guest's CLOCK_MONOTONIC. */
uint64_t now_ns(void);
/* The guest's own CLOCK_MONOTONIC, whatever the timing clock is. */
uint64_t guest_ns(void);
/* Prints a '#' note line (flushed). */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A benchmark returns 0 and stores its time (ns) in *ns, or returns a skip reason. */
typedef const char *bench_fn(uint64_t *ns);

bench_fn b_disk_write_sequential, b_disk_write_random, b_disk_read_sequential,
    b_disk_read_random, b_display, b_net_latency, b_net_throughput, b_blended;
void disk_cleanup(void);

/* kbench --serve PORT: the peer of the io_network_* benchmarks. Never returns. */
int serve(int port);

#endif
