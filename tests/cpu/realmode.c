/* realmode: a round trip through real-address mode from protected mode (SDM vol. 3A 9.9.2,
 * chapter 20): segment arithmetic, IVT interrupts and faults, LIDT in real mode, far calls,
 * A20, 32-bit operands, and the return to protected mode. The code lives in realmode.S. */
#include "kt.h"

#define RM_BASE 0x7000u
#define RM_SEG  (RM_BASE >> 4)

extern const uint8_t rm_blob[], rm_blob_end[];
extern const uint32_t rm_res_off, rm_int60_off, rm_int60b_off, rm_de_off, rm_after_int_off,
    rm_div_off;
void rm_run(void);

static void set_ivt(uint32_t base, int vec, uint16_t seg, uint16_t off)
{
    volatile uint16_t *e = (volatile uint16_t *)(base + vec * 4);
    e[0] = off;
    e[1] = seg;
}

void test_main(void)
{
    uint32_t size = (uint32_t)(rm_blob_end - rm_blob);
    kt_ok(size < 0x1000, "blob_fits");
    memcpy((void *)RM_BASE, rm_blob, size);
    set_ivt(0, 0x60, RM_SEG, (uint16_t)rm_int60_off);
    set_ivt(0, 0, RM_SEG, (uint16_t)rm_de_off);
    set_ivt(0x8000, 0x60, RM_SEG, (uint16_t)rm_int60b_off);
    *(volatile uint32_t *)0x179b8 = 0;

    rm_run();

    kt_ok((read_cr0() & CR0_PE) && read_cs() == KT_CS && read_ds() == KT_DS && read_ss() == KT_DS,
          "back_in_protected_mode");
    uint16_t r[20];
    memcpy(r, (const void *)(RM_BASE + rm_res_off), sizeof(r));
    kt_eq(r[0], 0xbeef, "segment_arithmetic_alias");
    kt_eq(*(volatile uint16_t *)0x179b8, 0xbeef, "segment_arithmetic_linear");
    kt_eq(r[1], 0x6060, "int_ivt_handler_ran");
    kt_eq(r[2], rm_after_int_off, "int_pushed_ip_after_int");
    kt_eq(r[3], RM_SEG, "int_pushed_cs");
    kt_ok((r[4] & FL_CF) && (r[4] & 0x2), "int_pushed_flags");
    kt_eq(r[15] & 0xff, 1, "iret_restores_cf");
    kt_eq(r[5], 1, "de_handler_resumed");
    kt_eq(r[16], rm_div_off, "de_pushed_ip_is_div");
    kt_eq(r[6], 0xfa4, "far_call_ret");
    kt_eq(r[7], 0x02, "ffff_0010_is_1mib_a20_on");
    kt_eq(r[8], 0x8080, "lidt_relocates_ivt");
    kt_eq(r[9], 0, "push_sp_old_value");
    kt_eq(r[10], 0x1234, "operand_size_prefix_32bit");
    kt_eq(r[11], 0, "cr0_pe_clear_in_real_mode");
    kt_eq(r[12], 15, "loop_cx");
    kt_eq(r[13], 0xfffe, "sp_wraps");
    kt_eq(r[14], RM_SEG, "ds_holds_segment_value");

    /* Protected mode is fully working again: a fault and a ring-3 round trip. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "ud2" KT_END ::: "memory");
    kt_eq_fault(6, 0, kt_site, "pm_exceptions_after_return");
}
