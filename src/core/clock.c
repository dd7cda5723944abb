/* Virtual clock and timer heap (see clock.h). */
#include "core/clock.h"

#include <stdint.h>
#include <time.h>

#include "util/alloc.h"

int64_t host_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

int64_t host_realtime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

void clock_init(Clock *c, bool icount, int icount_shift)
{
    *c = (Clock){.icount = icount, .icount_shift = icount_shift, .paused_at = -1};
    c->host_offset = host_monotonic_ns();
}

int64_t clock_ns(Clock *c)
{
    if (c->icount) return c->insn_count ? (int64_t)(c->insn_count(c->insn_opaque) << c->icount_shift) : 0;
    if (c->paused_at >= 0) return c->paused_at;
    return host_monotonic_ns() - c->host_offset;
}

void clock_pause(Clock *c)
{
    if (!c->icount && c->paused_at < 0) c->paused_at = clock_ns(c);
}

void clock_resume(Clock *c)
{
    if (!c->icount && c->paused_at >= 0) {
        c->host_offset = host_monotonic_ns() - c->paused_at;
        c->paused_at = -1;
    }
}

static void heap_swap(Clock *c, int i, int j)
{
    Timer *t = c->heap[i];
    c->heap[i] = c->heap[j];
    c->heap[j] = t;
    c->heap[i]->heap_index = i;
    c->heap[j]->heap_index = j;
}

static void heap_up(Clock *c, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (c->heap[p]->deadline <= c->heap[i]->deadline) break;
        heap_swap(c, i, p);
        i = p;
    }
}

static void heap_down(Clock *c, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && c->heap[l]->deadline < c->heap[m]->deadline) m = l;
        if (r < c->nheap && c->heap[r]->deadline < c->heap[m]->deadline) m = r;
        if (m == i) break;
        heap_swap(c, i, m);
        i = m;
    }
}

void timer_init(Timer *t, Clock *c, void (*cb)(void *opaque), void *opaque)
{
    *t = (Timer){.heap_index = -1, .cb = cb, .opaque = opaque, .clock = c};
}

void timer_del(Timer *t)
{
    Clock *c = t->clock;
    int i = t->heap_index;
    if (i < 0) return;
    t->heap_index = -1;
    c->nheap--;
    if (i != c->nheap) {
        c->heap[i] = c->heap[c->nheap];
        c->heap[i]->heap_index = i;
        heap_up(c, i);
        heap_down(c, c->heap[i]->heap_index);
    }
}

void timer_mod(Timer *t, int64_t deadline_ns)
{
    Clock *c = t->clock;
    timer_del(t);
    if (c->nheap == c->capheap) {
        c->capheap = c->capheap ? 2 * c->capheap : 16;
        c->heap = xrealloc(c->heap, sizeof(Timer *) * c->capheap);
    }
    t->deadline = deadline_ns;
    t->heap_index = c->nheap;
    c->heap[c->nheap++] = t;
    heap_up(c, t->heap_index);
}

int64_t clock_next_deadline(Clock *c) { return c->nheap ? c->heap[0]->deadline : INT64_MAX; }

bool clock_run_timers(Clock *c)
{
    bool ran = false;
    int64_t now = clock_ns(c);
    while (c->nheap && c->heap[0]->deadline <= now) {
        Timer *t = c->heap[0];
        timer_del(t);
        t->cb(t->opaque);
        ran = true;
    }
    return ran;
}
