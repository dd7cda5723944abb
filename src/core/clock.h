/* The virtual clock and its timers. Guest time runs either from the host's monotonic clock or,
 * in deterministic mode (-icount), from the number of guest instructions executed.
 * Timers sit on a binary heap; the run loop asks for the next deadline and runs due timers. */
#ifndef CORE_CLOCK_H
#define CORE_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

#define NS_PER_SEC 1000000000LL

typedef struct Timer Timer;

typedef struct Clock {
    bool icount;           /* deterministic mode */
    int icount_shift;      /* guest ns per instruction = 1 << shift */
    int64_t host_offset;   /* virtual = host monotonic - host_offset (host mode) */
    int64_t paused_at;     /* -1 while running */
    /* Deterministic mode: instructions executed so far, read through this callback. */
    uint64_t (*insn_count)(void *opaque);
    void *insn_opaque;
    Timer **heap;
    int nheap, capheap;
} Clock;

struct Timer {
    int64_t deadline; /* virtual ns; valid while heap_index >= 0 */
    int heap_index;
    void (*cb)(void *opaque);
    void *opaque;
    Clock *clock;
};

void clock_init(Clock *c, bool icount, int icount_shift);
/* Current virtual time in nanoseconds. */
int64_t clock_ns(Clock *c);
void clock_pause(Clock *c);
void clock_resume(Clock *c);

void timer_init(Timer *t, Clock *c, void (*cb)(void *opaque), void *opaque);
/* (Re)arm the timer to fire once at the given virtual time. */
void timer_mod(Timer *t, int64_t deadline_ns);
void timer_del(Timer *t);
static inline bool timer_pending(const Timer *t) { return t->heap_index >= 0; }

/* Earliest deadline, or INT64_MAX when no timer is armed. */
int64_t clock_next_deadline(Clock *c);
/* Run every timer whose deadline is <= now. Returns true if any ran. */
bool clock_run_timers(Clock *c);

/* Host monotonic nanoseconds and wall-clock time. */
int64_t host_monotonic_ns(void);
int64_t host_realtime_ns(void);

#endif
