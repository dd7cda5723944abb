/* Sampling profiler of guest code: a host interval timer samples the translation block being
 * executed; the report lists the hottest guest addresses (enabled with -d prof). */
#ifndef DEBUG_PROFILER_H
#define DEBUG_PROFILER_H

#include "cpu/x86/cpu.h"

void profiler_start(CPUX86State *env);
void profiler_report(void);

#endif
