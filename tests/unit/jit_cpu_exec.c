/* The CPU engine tests of cpu_exec.c with the x86-64 code generator as the back end (on other
 * hosts x86_cpu_new falls back to the interpreter and this repeats cpu_exec). */
#define RIG_JIT true
#include "cpu_exec.c"
