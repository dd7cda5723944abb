/* smc: self-modifying code. On P6 and later a store to an instruction that is already
 * prefetched or decoded is detected and the modified instruction executes (SDM vol. 3A 8.1.3
 * "Handling Self- and Cross-Modifying Code"; vol. 3B 11.6 "Self-Modifying Code"). */
#include "kt.h"

/* Writable, executable code buffer; its second page lets an instruction straddle a page. */
static uint8_t buf[3 * 4096] __attribute__((aligned(4096)));

static void put_ret_imm(uint8_t *p, uint32_t imm)
{
    p[0] = 0xb8; /* mov $imm, %eax */
    memcpy(p + 1, &imm, 4);
    p[5] = 0xc3; /* ret */
}

static uint32_t call_at(uint8_t *p)
{
    return ((uint32_t(*)(void))p)();
}

static void same_block_tests(void)
{
    uint32_t r;
    /* The store hits the very next instruction's immediate. */
    __asm__ volatile("movb $2, 1f+1\n1:\tmovl $1, %%eax\n\t" : "=a"(r) : : "memory");
    kt_eq(r, 2, "smc_next_instruction");
    /* Restore for a second run through the same (now translated) code. */
    __asm__ volatile("movl $0, %%eax\n\tmovb $3, 1f+1\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
                     "nop\n\tnop\n\tnop\n\tnop\n\tnop\n1:\tmovl $1, %%eax"
                     : "=a"(r)
                     :
                     : "memory");
    kt_eq(r, 3, "smc_later_in_block");
    /* Read-modify-write on code. */
    __asm__ volatile("lock incb 1f+1\n1:\tmovl $0x10, %%eax" : "=a"(r) : : "memory");
    kt_eq(r, 0x11, "smc_lock_inc_immediate");
    /* Replace a whole instruction: mov $5, %eax (5 bytes) becomes inc %eax + 4 nops. */
    __asm__ volatile("movl $0x90909040, 1f\n\tmovb $0x90, 1f+4\n\txorl %%eax, %%eax\n"
                     "1:\tmovl $5, %%eax"
                     : "=a"(r)
                     :
                     : "memory");
    kt_eq(r, 1, "smc_replace_opcode");
    /* A string store rewrites the following instructions. */
    static const uint8_t patch[5] = {0xb8, 0x77, 0x00, 0x00, 0x00}; /* mov $0x77, %eax */
    __asm__ volatile("movl $5, %%ecx\n\tmovl $1f, %%edi\n\trep movsb\n1:\tmovl $1, %%eax"
                     : "=a"(r)
                     : "S"(patch)
                     : "ecx", "edi", "memory");
    kt_eq(r, 0x77, "smc_rep_movsb_over_next");
}

static void buffer_tests(void)
{
    uint8_t *f = buf + 64;
    put_ret_imm(f, 1);
    kt_eq(call_at(f), 1, "smc_buffer_first");
    unsigned bad = 0;
    for (uint32_t i = 2; i < 50; i++) {
        f[1] = (uint8_t)i;
        if (call_at(f) != i) bad++;
    }
    kt_eq(bad, 0, "smc_buffer_rewrite_each_call");
    /* Rewrite a function that has already run, replacing its body entirely. */
    static const uint8_t add_fn[] = {0x8b, 0x44, 0x24, 0x04, /* mov 4(%esp), %eax */
                                     0x83, 0xc0, 0x05,       /* add $5, %eax */
                                     0xc3};
    memcpy(f, add_fn, sizeof(add_fn));
    kt_eq(((uint32_t(*)(uint32_t))f)(10), 15, "smc_function_replaced");
    f[6] = 0x07;
    kt_eq(((uint32_t(*)(uint32_t))f)(10), 17, "smc_function_patched");

    /* An instruction straddling a 4 KiB boundary; only the second page is written. */
    uint8_t *s = buf + 4096 - 2;
    put_ret_imm(s, 0x11223344);
    kt_eq(call_at(s), 0x11223344, "smc_straddle_first");
    buf[4096 + 1] = 0x55; /* imm byte 2 -> 0x11553344 */
    kt_eq(call_at(s), 0x11553344, "smc_straddle_second_page_write");
    buf[4096 - 1] = 0x66; /* imm byte 0, first page */
    kt_eq(call_at(s), 0x11553366, "smc_straddle_first_page_write");

    /* A write through a segment with a different base reaches the same code bytes. */
    kt_gdt[KT_GDT_SPARE] = kt_seg_desc(0x1000, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    uint8_t *g = buf + 8192;
    put_ret_imm(g, 7);
    kt_eq(call_at(g), 7, "smc_segment_alias_first");
    __asm__ volatile("mov %0, %%fs\n\tmovb $8, %%fs:(%1)\n\tmov %2, %%fs"
                     :
                     : "r"(KT_GDT_SPARE << 3), "r"((uint32_t)g + 1 - 0x1000), "r"(KT_DS)
                     : "memory");
    kt_eq(call_at(g), 8, "smc_segment_alias_write");
}

/* A loop whose body patches its own ADD immediate on every iteration. */
static void loop_test(void)
{
    uint32_t sum = 0;
    __asm__ volatile("movl $1, %%ecx\n"
                     "2:\tmovb %%cl, 1f+2\n"
                     "1:\taddl $0, %0\n\t"
                     "incl %%ecx\n\tcmpl $11, %%ecx\n\tjne 2b"
                     : "+r"(sum)
                     :
                     : "ecx", "memory", "cc");
    kt_eq(sum, 55, "smc_loop_patches_itself");
    /* Patch a branch: a taken jump turned into two NOPs. */
    uint32_t r;
    __asm__ volatile("movw $0x9090, 1f\n\tmovl $1, %%eax\n"
                     "1:\tjmp 2f\n\tmovl $2, %%eax\n2:"
                     : "=a"(r)
                     :
                     : "memory");
    kt_eq(r, 2, "smc_branch_removed");
}

/* Code modified, then reached again from a different path (a call into the middle). */
uint32_t smc_shared_tail(void);
uint32_t smc_tail_call(void);
__asm__(".text\nsmc_tail_call:\n\tcall smc_shared_tail\n\tret\n"
        "smc_shared_tail:\n\tmovl $0x100, %eax\n\tret\n");

static void tail_test(void)
{
    kt_eq(smc_tail_call(), 0x100, "smc_tail_first");
    *((volatile uint8_t *)(uintptr_t)smc_shared_tail + 2) = 0x02;
    kt_eq(smc_tail_call(), 0x200, "smc_tail_after_patch");
    kt_eq(smc_shared_tail(), 0x200, "smc_tail_direct");
}

void test_main(void)
{
    same_block_tests();
    buffer_tests();
    loop_test();
    tail_test();
}
