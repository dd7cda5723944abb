/* CPUID backdoor: host time and opcode histogram for guests (DESIGN.md section 7). */
#ifndef DEBUG_BACKDOOR_H
#define DEBUG_BACKDOOR_H

#include <stdbool.h>

#include "cpu/x86/cpu.h"
#include "ir/ir.h"

/* Handles CPUID when it is a backdoor request (EAX = "QEMU" and CF set); returns false to let
 * the normal CPUID leaf run. */
bool x86_backdoor(CPUX86State *env);
/* Counts one executed instruction of mnemonic a while the histogram runs. */
extern const IrHelper hlp_hist_count;

#endif
