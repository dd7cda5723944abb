/* Sampling profiler of guest code (see profiler.h). The signal handler only reads the current
 * block pointer and bumps a counter in a fixed open-addressing table, which is signal-safe. */
#include "debug/profiler.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "exec/tb.h"
#include "util/log.h"

#define PROF_SLOTS 8192

typedef struct ProfSlot {
    uint32_t pc, cs_base;
    uint64_t count;
} ProfSlot;

/* One profiled CPU per process: the signal handler has no other way to find it. */
static CPUX86State *prof_env;
static ProfSlot prof_table[PROF_SLOTS];
static uint64_t prof_total, prof_outside;

static void prof_sample(int sig)
{
    (void)sig;
    TranslationBlock *tb = prof_env ? prof_env->cur_tb : NULL;
    prof_total++;
    if (!tb) {
        prof_outside++;
        return;
    }
    uint32_t pc = tb->pc, h = (pc * 0x9e3779b1u) >> 19;
    for (unsigned i = 0; i < PROF_SLOTS; i++) {
        ProfSlot *s = &prof_table[(h + i) % PROF_SLOTS];
        if (s->count == 0 || (s->pc == pc && s->cs_base == tb->cs_base)) {
            s->pc = pc;
            s->cs_base = tb->cs_base;
            s->count++;
            return;
        }
    }
}

void profiler_start(CPUX86State *env)
{
    prof_env = env;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = prof_sample;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_PROF, &it, NULL);
    atexit(profiler_report);
}

static int by_count(const void *a, const void *b)
{
    const ProfSlot *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

void profiler_report(void)
{
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    if (!prof_total) return;
    ProfSlot *copy = malloc(sizeof prof_table);
    if (!copy) return;
    memcpy(copy, prof_table, sizeof prof_table);
    qsort(copy, PROF_SLOTS, sizeof(ProfSlot), by_count);
    log_msg("prof: %llu samples, %.1f%% outside translated code",
            (unsigned long long)prof_total, 100.0 * prof_outside / prof_total);
    for (int i = 0; i < 30 && copy[i].count; i++)
        log_msg("prof: %6.2f%%  %08x (cs base %08x)", 100.0 * copy[i].count / prof_total,
                copy[i].pc, copy[i].cs_base);
    free(copy);
}
