/* triple: a fault while delivering #DF shuts the processor down (SDM vol. 3A 6.15 "Interrupt
 * 8—Double Fault Exception", triple fault); with -no-reboot the emulator exits with status 0.
 * expect-exit: 0 */
/* expect-last: # triple: faulting now */
#include "kt.h"

void test_main(void)
{
    kt_ok(1, "before_triple_fault");
    kt_printf("# triple: faulting now\n");
    /* An empty IDT: INT3 is beyond the limit -> #GP, whose vector is beyond the limit too ->
     * #DF, also beyond the limit -> shutdown. */
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } empty = {0, 0};
    __asm__ volatile("lidt %0\n\tint3" : : "m"(empty) : "memory");
    kt_fail("survived", "no shutdown after a triple fault");
    exit_code(1);
}
