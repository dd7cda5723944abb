/* Differential CPU tests: the case loop shared by the native and the guest runner. The platform
 * maps the fixed area, routes CPU exceptions to diff_fault() and supplies an output function. */
#ifndef TESTS_DIFF_RUNNER_H
#define TESTS_DIFF_RUNNER_H

#include <stdint.h>

typedef void (*DiffOut)(const char *s, unsigned n);

/* Runs every case in the blob (a case file: DiffHeader + DiffCase[]); returns 0 on success. */
int diff_run(const uint8_t *blob, uint32_t len, DiffOut out);

/* Called by the platform's exception handler with the state at the faulting instruction;
 * returns nonzero when the fault happened inside a case (resume at diff_leave), zero when the
 * harness itself faulted. */
int diff_fault(uint32_t vector, uint32_t eip, uint32_t eflags, const uint32_t regs[8]);

void diff_enter(void);
void diff_capture(void);
void diff_leave(void);

#endif
