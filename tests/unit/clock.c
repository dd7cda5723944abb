/* Timer heap ordering and deterministic clock. */
#include "test.h"

#include "core/clock.h"

static uint64_t fake_insns;
static uint64_t insn_count(void *o) { return fake_insns; }
static int order[8], norder;
static void fire(void *o) { order[norder++] = (int)(intptr_t)o; }

TEST(timer_order)
{
    Clock c;
    Timer t[4];
    clock_init(&c, true, 0);
    c.insn_count = insn_count;
    for (int i = 0; i < 4; i++) timer_init(&t[i], &c, fire, (void *)(intptr_t)i);
    timer_mod(&t[0], 300);
    timer_mod(&t[1], 100);
    timer_mod(&t[2], 200);
    timer_mod(&t[3], 50);
    timer_del(&t[3]);
    CHECK_EQ(clock_next_deadline(&c), 100);
    fake_insns = 250;
    norder = 0;
    CHECK(clock_run_timers(&c));
    CHECK_EQ(norder, 2);
    CHECK_EQ(order[0], 1);
    CHECK_EQ(order[1], 2);
    CHECK(timer_pending(&t[0]));
    CHECK(!timer_pending(&t[1]));
    fake_insns = 1000;
    clock_run_timers(&c);
    CHECK_EQ(norder, 3);
    CHECK_EQ(clock_next_deadline(&c), INT64_MAX);
    free(c.heap);
}
