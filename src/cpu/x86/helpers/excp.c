/* Raising exceptions from translated code and helpers, and the double/triple fault rules
 * applied when one occurs while another is being delivered (SDM vol. 3, 6.15, table 6-5). */
#include <stdlib.h>

#include "cpu/x86/helpers.h"
#include "util/log.h"


static bool has_error_code(int vector)
{
    switch (vector) {
    case EXCP_DF: case EXCP_TS: case EXCP_NP: case EXCP_SS: case EXCP_GP: case EXCP_PF:
    case EXCP_AC: return true;
    default: return false;
    }
}

static _Noreturn void raise_common(CPUX86State *env, int vector, bool has_error, uint32_t err,
                                   bool is_sw, bool trap, uint32_t next_eip)
{
    x86_restore_state(env);
    env->pending = (X86PendingExc){vector, has_error, is_sw, trap, err, next_eip};
    if (LOG_ON(LOG_INT))
        log_msg("int: exception %d err=%x at %04x:%08x", vector, err, env->segs[R_CS].sel,
                env->eip);
    env->cur_pos = NULL;
    longjmp(env->jmp_env, 1);
}

_Noreturn void x86_raise_exception(CPUX86State *env, int vector)
{
    raise_common(env, vector, has_error_code(vector), 0, false, false, 0);
}

_Noreturn void x86_raise_exception_err(CPUX86State *env, int vector, uint32_t error_code)
{
    raise_common(env, vector, has_error_code(vector), error_code, false, false, 0);
}

_Noreturn void x86_raise_interrupt(CPUX86State *env, int vector, uint32_t next_eip, bool sw)
{
    raise_common(env, vector, false, 0, sw, true, next_eip);
}

static bool contributory(int v)
{
    return v == EXCP_DE || v == EXCP_TS || v == EXCP_NP || v == EXCP_SS || v == EXCP_GP;
}

void x86_deliver_pending_exception(CPUX86State *env)
{
    X86PendingExc e = env->pending;
    env->pending.vector = -1;
    if (e.vector < 0) return;
    int first = env->exc_in_progress;
    if (first >= 0) {
        /* A fault while delivering another exception. */
        if (first == EXCP_DF) {
            LOG(LOG_CPU, "cpu: triple fault at %04x:%08x", env->segs[R_CS].sel, env->eip);
            env->exc_in_progress = -1;
            if (env->shutdown_request) env->shutdown_request(env->machine_opaque, true);
            env->interrupt_request |= INT_REQ_RESET;
            return;
        }
        bool df = (contributory(first) && contributory(e.vector)) ||
                  (first == EXCP_PF && (e.vector == EXCP_PF || contributory(e.vector)));
        if (df) e = (X86PendingExc){EXCP_DF, true, false, false, 0, 0};
    }
    env->exc_in_progress = e.vector;
    x86_do_interrupt(env, e.vector, e.is_sw, e.has_error, e.error_code,
                     e.trap ? e.next_eip : env->eip, false);
    env->exc_in_progress = -1;
}

/* Called before delivery of hardware interrupts so that a fault during their delivery is not
 * mistaken for a nested exception. */
void x86_excp_reset(CPUX86State *env)
{
    env->exc_in_progress = -1;
    env->pending.vector = -1;
}
