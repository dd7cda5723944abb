/* addressing: effective addresses of every 32- and 16-bit ModRM/SIB form (via the generated
 * LEAs in addressing.S), default segments (SS for EBP/ESP bases, BP in 16-bit forms),
 * segment overrides with nonzero bases, and operand/address-size prefixes (SDM vol. 2A 2.1.5,
 * vol. 1 3.7.4 "Specifying a Segment Selector", vol. 3A 3.4). */
#include "kt.h"

extern uint32_t addr32_table[], addr32_table_end[];
void addr_run_leas(void);

static const uint32_t vals[8] = {0x00000011, 0x00002200, 0x00330000, 0x4400f123,
                                 0x05500000, 0x00068004, 0x00000770, 0x08809008};
#define DISP8  ((uint32_t)(int32_t)(int8_t)0x85)
#define DISP32 0x87654321u
#define DISP16 0x8765u
enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

static uint32_t expect(uint32_t f)
{
    uint32_t mod = f & 3, rm = (f >> 4) & 7, sib = (f >> 8) & 1, scale = (f >> 12) & 3;
    uint32_t index = (f >> 16) & 7, base = (f >> 20) & 7, a16 = (f >> 24) & 1;
    uint32_t disp = mod == 1 ? DISP8 : 0;
    if (a16) {
        static const int b[8] = {EBX, EBX, EBP, EBP, -1, -1, EBP, EBX};
        static const int x[8] = {ESI, EDI, ESI, EDI, ESI, EDI, -1, -1};
        uint32_t ea = 0;
        if (mod == 2 || (mod == 0 && rm == 6)) disp = DISP16;
        if (mod == 1) disp = DISP8;
        if (!(mod == 0 && rm == 6)) {
            if (b[rm] >= 0) ea += vals[b[rm]] & 0xffff;
            if (x[rm] >= 0) ea += vals[x[rm]] & 0xffff;
        }
        return (ea + disp) & 0xffff;
    }
    if (mod == 2) disp = DISP32;
    if (!sib) {
        if (mod == 0 && rm == 5) return DISP32;
        return vals[rm] + disp;
    }
    uint32_t ea = 0;
    if (mod == 0 && base == 5)
        disp = DISP32; /* no base register */
    else
        ea = vals[base];
    if (index != 4) /* ESP as index means "no index"; the scale is ignored */
        ea += vals[index] << scale;
    return ea + disp;
}

/* One check per ModRM row: (mod, rm) for plain 32-bit forms, (mod, base) for SIB forms (all
 * index/scale combinations inside), (mod, rm) for 16-bit forms. */
static void lea_forms(void)
{
    static const char *reg32[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    static const char *rm16[8] = {"bx_si", "bx_di", "bp_si", "bp_di", "si", "di", "bp", "bx"};
    uint32_t bad[3][3][8] = {{{0}}}, seen[3][3][8] = {{{0}}}, total = 0;
    uint32_t first_f[3][3][8], first_got[3][3][8];
    addr_run_leas();
    for (uint32_t *p = addr32_table; p < addr32_table_end; p += 2) {
        uint32_t f = p[0], got = p[1], exp = expect(f);
        uint32_t mod = f & 3, kind = (f >> 24) ? 2 : (f & 0x100) ? 1 : 0;
        uint32_t key = kind == 1 ? (f >> 20) & 7 : (f >> 4) & 7;
        total++;
        seen[kind][mod][key]++;
        if (got != exp && !bad[kind][mod][key]++) {
            first_f[kind][mod][key] = f;
            first_got[kind][mod][key] = got;
        }
    }
    kt_eq(total, 3 * (7 + 256 + 8), "lea_form_count");
    for (int kind = 0; kind < 3; kind++)
        for (int mod = 0; mod < 3; mod++)
            for (int key = 0; key < 8; key++) {
                if (!seen[kind][mod][key]) continue;
                char name[48];
                if (kind == 0)
                    kt_snprintf(name, sizeof(name), "lea32_mod%d_%s", mod,
                                mod == 0 && key == 5 ? "disp32" : reg32[key]);
                else if (kind == 1)
                    kt_snprintf(name, sizeof(name), "lea32_mod%d_sib_base_%s", mod,
                                mod == 0 && key == 5 ? "none" : reg32[key]);
                else
                    kt_snprintf(name, sizeof(name), "lea16_mod%d_%s", mod,
                                mod == 0 && key == 6 ? "disp16" : rm16[key]);
                if (bad[kind][mod][key])
                    kt_fail(name, "%u of %u forms wrong, first fields 0x%x expected 0x%x got 0x%x",
                            bad[kind][mod][key], seen[kind][mod][key], first_f[kind][mod][key],
                            expect(first_f[kind][mod][key]), first_got[kind][mod][key]);
                else
                    kt_ok(1, "%s", name);
            }
}

/* ---- loads through segments: which segment (base) does each form use? ---- */

#define SEL_SSX  ((KT_GDT_SPARE + 0) << 3) /* data, base 0x500000: used as SS */
#define SEL_DSX  ((KT_GDT_SPARE + 1) << 3) /* data, base 0x700000: DS/ES/FS/GS */
#define BASE_SSX 0x500000u
#define BASE_DSX 0x700000u
#define TAG      0x5a5a5a5au

/* Inputs and outputs of SEGRUN: registers and segment selectors are loaded from these, the
 * instruction under test leaves its result in EAX. */
uint32_t addr_in[8];
uint32_t addr_seg[5]; /* ds es fs gs ss */
uint32_t addr_out, addr_save_esp, addr_save_ebp;

/* Segment registers are loaded last (DS last of all) and EAX comes through a CS-relative
 * read, since DS may no longer be flat; the epilogue goes back to flat selectors first. */
#define SEGRUN(insn)                                                                               \
    __asm__ volatile(                                                                              \
        "movl %%esp, addr_save_esp\n\tmovl %%ebp, addr_save_ebp\n\t"                               \
        "movl addr_seg+16, %%eax\n\tmovl %%eax, %%ss\n\t"                                          \
        "movl addr_seg+4, %%eax\n\tmovl %%eax, %%es\n\t"                                           \
        "movl addr_seg+8, %%eax\n\tmovl %%eax, %%fs\n\t"                                           \
        "movl addr_seg+12, %%eax\n\tmovl %%eax, %%gs\n\t"                                          \
        "movl addr_in+4, %%ecx\n\tmovl addr_in+8, %%edx\n\tmovl addr_in+12, %%ebx\n\t"             \
        "movl addr_in+16, %%esp\n\tmovl addr_in+20, %%ebp\n\t"                                     \
        "movl addr_in+24, %%esi\n\tmovl addr_in+28, %%edi\n\t"                                     \
        "movl addr_seg, %%eax\n\tmovl %%eax, %%ds\n\t"                                             \
        "movl %%cs:addr_in, %%eax\n\t" insn "\n\t"                                                 \
        "movl $0x10, %%ecx\n\tmovl %%ecx, %%ds\n\tmovl %%eax, addr_out\n\t"                        \
        "movl %%ecx, %%es\n\tmovl %%ecx, %%fs\n\tmovl %%ecx, %%gs\n\t"                             \
        "movl %%ecx, %%ss\n\tmovl addr_save_esp, %%esp\n\t"                                        \
        "movl addr_save_ebp, %%ebp"                                                                \
        :                                                                                          \
        :                                                                                          \
        : "eax", "ecx", "edx", "ebx", "esi", "edi", "memory", "cc")

static void tag_region(uint32_t lin, uint32_t len)
{
    for (uint32_t a = lin; a < lin + len; a += 4)
        *(volatile uint32_t *)a = a ^ TAG;
}

static void set_regs(uint32_t eax, uint32_t ebx, uint32_t esp, uint32_t ebp, uint32_t esi,
                     uint32_t edi)
{
    addr_in[0] = eax;
    addr_in[1] = 0;
    addr_in[2] = 0;
    addr_in[3] = ebx;
    addr_in[4] = esp;
    addr_in[5] = ebp;
    addr_in[6] = esi;
    addr_in[7] = edi;
}

static void segs(uint32_t ds, uint32_t es, uint32_t fs, uint32_t gs, uint32_t ss)
{
    addr_seg[0] = ds;
    addr_seg[1] = es;
    addr_seg[2] = fs;
    addr_seg[3] = gs;
    addr_seg[4] = ss;
}

/* The value read tells the linear address it came from. */
static void check_lin(const char *name, uint32_t lin)
{
    kt_eq(addr_out ^ TAG, lin, "%s", name);
}

static void segment_forms(void)
{
    kt_gdt[KT_GDT_SPARE + 0] = kt_seg_desc(BASE_SSX, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    kt_gdt[KT_GDT_SPARE + 1] = kt_seg_desc(BASE_DSX, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    tag_region(0x600000, 0x200);
    tag_region(BASE_SSX + 0x600000, 0x200);
    tag_region(BASE_DSX + 0x600000, 0x200);
    tag_region(BASE_SSX, 0x200);
    tag_region(BASE_DSX, 0x200);
    tag_region(BASE_SSX + 0xff00, 0x100);
    tag_region(BASE_DSX + 0xff00, 0x100);

    /* DS flat, SS based: EBP/ESP bases go through SS. */
    segs(KT_DS, KT_DS, KT_DS, KT_DS, SEL_SSX);
    set_regs(0x20, 0x600000, 0x600040, 0x600000, 0x600000, 0x600000);
    SEGRUN("movl 8(%%ebp), %%eax");
    check_lin("ebp_disp8_uses_ss", BASE_SSX + 0x600008);
    SEGRUN("movl (%%esp), %%eax");
    check_lin("esp_base_uses_ss", BASE_SSX + 0x600040);
    SEGRUN("movl 0x10(%%esp), %%eax");
    check_lin("esp_disp8_uses_ss", BASE_SSX + 0x600050);
    SEGRUN("movl 0x20(%%esp,%%eax,2), %%eax");
    check_lin("esp_base_sib_uses_ss", BASE_SSX + 0x6000a0);
    SEGRUN("movl 4(%%ebp,%%eax,1), %%eax");
    check_lin("ebp_base_sib_uses_ss", BASE_SSX + 0x600024);
    SEGRUN("movl (%%eax,%%ebp,1), %%eax");
    check_lin("ebp_index_uses_ds", 0x600020);
    SEGRUN("movl (%%ebx), %%eax");
    check_lin("ebx_base_uses_ds", 0x600000);
    SEGRUN("movl 0x600100(,%%eax,4), %%eax");
    check_lin("no_base_sib_uses_ds", 0x600180);
    SEGRUN(".byte 0x8b, 0x04, 0x2d\n\t.long 0x100"); /* mov eax,[ebp*1+disp32]: no base */
    check_lin("no_base_sib_ebp_index_uses_ds", 0x600100);
    SEGRUN("movl %%ds:12(%%ebp), %%eax");
    check_lin("ds_override_on_ebp", 0x60000c);
    SEGRUN("movl 0x600004, %%eax");
    check_lin("disp32_uses_ds", 0x600004);
    set_regs(0x20, 0x600000, 0x600040, 0x10, 0x600000, 0x600000);
    SEGRUN("movl 0x600000(%%ebp), %%eax");
    check_lin("ebp_disp32_uses_ss", BASE_SSX + 0x600010);
    /* Stores and the stack itself use the SS base too. */
    set_regs(0x11223344, 0x600000, 0x600080, 0x600000, 0x600000, 0x600000);
    SEGRUN("movl %%eax, 0x30(%%ebp)\n\tpushl %%eax\n\tmovl $0, %%eax");
    kt_ok(*(volatile uint32_t *)(BASE_SSX + 0x600030) == 0x11223344 &&
              *(volatile uint32_t *)(BASE_SSX + 0x60007c) == 0x11223344 &&
              *(volatile uint32_t *)(0x600030) == (0x600030 ^ TAG),
          "stores_and_push_use_ss_base");
    tag_region(BASE_SSX + 0x600000, 0x200);

    /* Overrides onto a segment with base 0x700000. */
    segs(KT_DS, SEL_DSX, SEL_DSX, SEL_DSX, KT_DS);
    set_regs(0x20, 0x600000, 0x600040, 0x600000, 0x600000, 0x600008);
    SEGRUN("movl %%fs:0x600010, %%eax");
    check_lin("fs_override_disp32", BASE_DSX + 0x600010);
    SEGRUN("movl %%es:(%%ebx), %%eax");
    check_lin("es_override", BASE_DSX + 0x600000);
    SEGRUN("movl %%gs:4(%%esp), %%eax");
    check_lin("gs_override_on_esp", BASE_DSX + 0x600044);
    SEGRUN("movl %%fs:(%%ebx,%%eax,2), %%eax");
    check_lin("fs_override_sib", BASE_DSX + 0x600040);
    SEGRUN("movl (%%edi), %%eax");
    check_lin("no_override_uses_ds", 0x600008);
    SEGRUN("movl %%ss:(%%ebx), %%eax");
    check_lin("ss_override", 0x600000);
    /* Two overrides: the last one wins (SDM 2.1.1 group 2: "more than one... unpredictable" is
     * for other groups; gas emits one, so use a single explicit prefix pair test). */
    SEGRUN(".byte 0x64\n\tmovl (%%ebx), %%eax");
    check_lin("fs_prefix_byte", BASE_DSX + 0x600000);
    /* CS override reads the (readable) code segment. */
    uint32_t code_word;
    __asm__ volatile("movl %%cs:1f, %0\n\tjmp 2f\n1:\n\t.long 0xc0dec0de\n2:" : "=r"(code_word));
    kt_eq(code_word, 0xc0dec0de, "cs_override_read");

    /* DS based: all implicit DS accesses move with it. */
    segs(SEL_DSX, KT_DS, KT_DS, KT_DS, KT_DS);
    set_regs(0x20, 0x600000, 0x600040, 0x600000, 0x600010, 0x600000);
    SEGRUN("movl (%%esi), %%eax");
    check_lin("ds_base_applies", BASE_DSX + 0x600010);
    SEGRUN("movl 0x600010, %%eax");
    check_lin("ds_base_applies_disp32", BASE_DSX + 0x600010);
    SEGRUN("movl (%%ebp), %%eax");
    check_lin("ds_base_not_for_ebp", 0x600000);

    /* 16-bit addressing: BP forms default to SS, the rest to DS; offsets wrap at 64 KiB. */
    segs(SEL_DSX, KT_DS, KT_DS, KT_DS, SEL_SSX);
    set_regs(0x20, 0xffff0010, 0x600040, 0x12340020, 0x0008, 0x0004);
    SEGRUN("addr16 movl (%%bp), %%eax");
    check_lin("a16_bp_disp0_uses_ss", BASE_SSX + 0x20);
    SEGRUN("addr16 movl (%%bp,%%si), %%eax");
    check_lin("a16_bp_si_uses_ss", BASE_SSX + 0x28);
    SEGRUN("addr16 movl 4(%%bp,%%di), %%eax");
    check_lin("a16_bp_di_disp8_uses_ss", BASE_SSX + 0x28);
    SEGRUN("addr16 movl (%%bx,%%si), %%eax");
    check_lin("a16_bx_si_uses_ds", BASE_DSX + 0x18);
    SEGRUN("addr16 movl 0x100(%%bx,%%di), %%eax");
    check_lin("a16_bx_di_disp16_uses_ds", BASE_DSX + 0x114);
    SEGRUN("addr16 movl 0x30, %%eax");
    check_lin("a16_disp16_uses_ds", BASE_DSX + 0x30);
    SEGRUN("addr16 movl (%%si), %%eax");
    check_lin("a16_si_uses_ds", BASE_DSX + 0x8);
    SEGRUN("addr16 movl -0x20(%%bx), %%eax");
    check_lin("a16_bx_wraps_below_zero", BASE_DSX + 0xfff0);
    SEGRUN("addr16 movl %%ds:(%%bp), %%eax");
    check_lin("a16_ds_override_on_bp", BASE_DSX + 0x20);

    /* Operand-size and address-size prefixes together: 66 67 c7 07 iw = mov word [bx], imm16. */
    segs(SEL_DSX, KT_DS, KT_DS, KT_DS, KT_DS);
    set_regs(0, 0xabcd0100, 0x600040, 0, 0, 0);
    SEGRUN(".byte 0x66, 0x67, 0xc7, 0x07, 0x34, 0x12\n\tmovl 0x100, %%eax");
    kt_eq(addr_out, 0x1234 | (((BASE_DSX + 0x100) ^ TAG) & 0xffff0000), "o16_a16_mov_imm16");
}

static void size_prefixes(void)
{
    uint32_t r = 0xaaaaaaaa;
    /* 66 b8 iw: the immediate shrinks to 16 bits, so the next instruction starts 4 bytes in. */
    __asm__ volatile(".byte 0x66, 0xb8, 0x34, 0x12\n\t" : "+a"(r));
    kt_eq(r, 0xaaaa1234, "o16_mov_imm_length");
    r = 0x0000ffff;
    __asm__ volatile(".byte 0x66, 0x05, 0x01, 0x00" : "+a"(r) : : "cc");
    kt_eq(r, 0x00000000, "o16_add_ax_imm16");
    r = 0x12345678;
    uint32_t s = 0x9abcdef0;
    __asm__ volatile(".byte 0x66\n\tmovl %1, %0" : "+r"(r) : "r"(s)); /* mov r16, r16 */
    kt_eq(r, 0x1234def0, "o16_mov_reg");
    /* 0x67 on an instruction with no memory operand changes nothing. */
    r = 1;
    __asm__ volatile(".byte 0x67\n\tincl %0" : "+r"(r) : : "cc");
    kt_eq(r, 2, "a16_prefix_no_memory_operand");
    /* Redundant repeated 66 prefixes act as one. */
    r = 0xffffffff;
    __asm__ volatile(".byte 0x66, 0x66, 0xb8, 0x00, 0x00" : "+a"(r));
    kt_eq(r, 0xffff0000, "o16_twice");
    /* 32-bit disp with a negative value wraps the 32-bit EA. */
    volatile uint32_t m = 0x77;
    uint32_t base = (uint32_t)&m + 0x10;
    __asm__ volatile("movl -0x10(%1), %0" : "=r"(r) : "r"(base));
    kt_eq(r, 0x77, "disp8_negative");
    base = (uint32_t)&m + 0x80000000u;
    __asm__ volatile("movl 0x80000000(%1), %0" : "=r"(r) : "r"(base));
    kt_eq(r, 0x77, "ea_wraps_mod_2_32");
}

void test_main(void)
{
    lea_forms();
    segment_forms();
    size_prefixes();
}
