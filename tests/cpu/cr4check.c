/* cr4check: MOV to CR4 setting a reserved bit (or VMXE without VMX) is #GP(0) and leaves CR4
 * alone (SDM vol. 3A 2.5 "Control Registers", vol. 2 MOV—Move to/from Control Registers).
 * A separate file because QEMU 7.2 TCG hangs here instead of raising #GP. */
#include "kt.h"

void test_main(void)
{
    uint32_t cr4 = read_cr4();
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%cr4" KT_END : : "r"(cr4 | (1u << 15)) : "memory");
    kt_eq_fault(13, 0, kt_site, "cr4_reserved_bit15_gp");
    kt_eq(read_cr4(), cr4, "cr4_unchanged_after_gp");
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%cr4" KT_END : : "r"(cr4 | (1u << 31)) : "memory");
    kt_eq_fault(13, 0, kt_site, "cr4_reserved_bit31_gp");
    if (!(cpuid(1, 0).c & (1u << 5))) {
        kt_fault_reset();
        __asm__ volatile(KT_TRY "mov %0, %%cr4" KT_END : : "r"(cr4 | (1u << 13)) : "memory");
        kt_eq_fault(13, 0, kt_site, "cr4_vmxe_without_vmx_gp");
    }
    /* CR4.PAE with paging off is legal on a CPU with PAE; without CPUID.1:EDX.PAE the bit is
     * reserved and setting it faults like any other reserved bit. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "mov %0, %%cr4\n\tmov %1, %%cr4" KT_END
                     :
                     : "r"(cr4 | CR4_PAE), "r"(cr4)
                     : "memory");
    if (cpuid(1, 0).d & (1u << 6)) {
        kt_no_fault("cr4_pae_with_paging_off_ok");
    } else {
        kt_eq_fault(13, 0, kt_site, "cr4_pae_without_pae_gp");
        kt_eq(read_cr4(), cr4, "cr4_unchanged_after_pae_gp");
    }
}
