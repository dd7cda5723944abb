/* kt core: GDT/IDT/TSS set-up, exception dispatch and recovery, check reporting and exit
 * (SDM vol. 3A 3.4.5 segment descriptors, 6.10-6.14 IDT and exception handling, 7.2 TSS). */
#include "kt.h"

uint64_t kt_gdt[KT_GDT_ENTRIES] __attribute__((aligned(8)));
uint64_t kt_idt[256] __attribute__((aligned(8)));
struct kt_tss kt_tss __attribute__((aligned(128)));
struct kt_tss kt_tss2 __attribute__((aligned(128)));
extern const uint32_t kt_isr_table[256];

volatile struct kt_fault kt_last;
volatile uint32_t kt_fixup, kt_site, kt_fixup_cs;
static kt_handler_fn handlers[256];

struct catch_frame {
    kt_jmp_buf jb;
    struct catch_frame *prev;
};
static struct catch_frame *catch_top;

uint32_t kt_user_eflags = 0x2;
uint32_t kt_user_esp;
struct kt_frame kt_user_ret_frame;
void kt_user_return(uint32_t value) __attribute__((noreturn));

uint32_t kt_mb_magic;
struct kt_mbi *kt_mb_info;
unsigned kt_checks, kt_failures;

uint64_t kt_seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
    uint64_t d = limit & 0xffff;
    d |= (uint64_t)(base & 0xffffff) << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)((limit >> 16) & 0xf) << 48;
    d |= (uint64_t)(flags & 0xf) << 52;
    d |= (uint64_t)(base >> 24) << 56;
    return d;
}

uint64_t kt_gate_desc(uint16_t sel, uint32_t offset, uint8_t access)
{
    uint64_t d = offset & 0xffff;
    d |= (uint64_t)sel << 16;
    d |= (uint64_t)access << 40;
    d |= (uint64_t)(offset >> 16) << 48;
    return d;
}

void kt_set_gate(int vec, uint8_t access)
{
    kt_idt[vec] = kt_gate_desc(KT_CS, kt_isr_table[vec], access);
}

void kt_reset_gate(int vec)
{
    kt_set_gate(vec, vec == KT_VEC_USER_RET ? KT_GATE_INT | KT_GATE_DPL3 : KT_GATE_INT);
}

struct __attribute__((packed)) pseudo_desc {
    uint16_t limit;
    uint32_t base;
};

void kt_load_gdt(void)
{
    struct pseudo_desc p = {sizeof(kt_gdt) - 1, (uint32_t)kt_gdt};
    __asm__ volatile("lgdt %0" ::"m"(p) : "memory");
}

void kt_load_idt(void)
{
    struct pseudo_desc p = {sizeof(kt_idt) - 1, (uint32_t)kt_idt};
    __asm__ volatile("lidt %0" ::"m"(p) : "memory");
}

static void init_descriptors(void)
{
    kt_gdt[0] = 0;
    kt_gdt[1] = kt_seg_desc(0, 0xfffff, KT_ACC_CODE0, KT_FL_32);
    kt_gdt[2] = kt_seg_desc(0, 0xfffff, KT_ACC_DATA0, KT_FL_32);
    kt_gdt[3] = kt_seg_desc(0, 0xfffff, KT_ACC_CODE3, KT_FL_32);
    kt_gdt[4] = kt_seg_desc(0, 0xfffff, KT_ACC_DATA3, KT_FL_32);
    kt_gdt[5] = kt_seg_desc((uint32_t)&kt_tss, sizeof(kt_tss) - 1, KT_ACC_TSS, 0);
    kt_gdt[6] = kt_seg_desc((uint32_t)&kt_tss2, sizeof(kt_tss2) - 1, KT_ACC_TSS, 0);
    kt_gdt[7] = kt_seg_desc(0, 0xffff, KT_ACC_CODE0, KT_FL_16);
    kt_gdt[8] = kt_seg_desc(0, 0xffff, KT_ACC_DATA0, KT_FL_16);
    kt_load_gdt();
    /* Reload every segment register so no cached descriptor from the loader survives. */
    __asm__ volatile("ljmp $0x08, $1f\n1:\n\t"
                     "mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs\n\tmov %0, %%gs\n\t"
                     "mov %0, %%ss" ::"r"(KT_DS)
                     : "memory");

    /* ESP0 is a separate stack: ring-0 code that entered ring 3 keeps its frames intact. The
     * I/O map base lies beyond the TSS limit, so there is no I/O permission bitmap. */
    memset(&kt_tss, 0, sizeof(kt_tss));
    kt_tss.esp0 = (uint32_t)kt_trap_stack_top;
    kt_tss.ss0 = KT_DS;
    kt_tss.iomap = sizeof(kt_tss);
    __asm__ volatile("ltr %w0" ::"r"(KT_TSS));
    __asm__ volatile("lldt %w0" ::"r"(0));

    for (int v = 0; v < 256; v++)
        kt_reset_gate(v);
    kt_load_idt();
}

void kt_fault_reset(void)
{
    kt_last.vector = KT_ANY;
    kt_last.error = KT_ANY;
    kt_last.eip = KT_ANY;
    kt_last.cs = 0;
    kt_last.eflags = 0;
    kt_last.cr2 = 0;
    kt_last.count = 0;
}

void kt_set_handler(int vec, kt_handler_fn fn)
{
    handlers[vec] = fn;
}

int kt_catch(void (*fn)(void *), void *arg)
{
    struct catch_frame cf;
    uint32_t saved_esp = kt_user_esp;
    cf.prev = catch_top;
    catch_top = &cf;
    int r = kt_setjmp(cf.jb);
    if (r == 0) {
        fn(arg);
        catch_top = cf.prev;
        return -1;
    }
    /* Unwound from a handler: the catch frame is still valid because its stack is below us. */
    catch_top = cf.prev;
    kt_user_esp = saved_esp;
    return r - 1;
}

static void unexpected(struct kt_frame *f)
{
    kt_printf("FAIL cpu.%s.unexpected: exception %u error 0x%x at %04x:%08x eflags 0x%x cr2 0x%x\n",
              kt_test_name, f->vector, f->error, f->cs & 0xffff, f->eip, f->eflags, read_cr2());
    kt_failures++;
    kt_done();
}

void kt_dispatch(struct kt_frame *f)
{
    uint32_t v = f->vector;
    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (v == KT_VEC_USER_RET && (f->cs & 3) == 3) {
        kt_user_ret_frame = *f;
        kt_user_return(f->eax);
    }
    kt_last.vector = v;
    kt_last.error = f->error;
    kt_last.eip = f->eip;
    kt_last.cs = f->cs & 0xffff;
    kt_last.eflags = f->eflags;
    kt_last.cr2 = v == 14 ? read_cr2() : 0;
    kt_last.count++;
    if (kt_fixup) {
        f->eip = kt_fixup;
        if (kt_fixup_cs) f->cs = kt_fixup_cs;
        f->eflags &= ~FL_TF; /* a bracket that single-steps ends at its first exception */
        kt_fixup = 0;
        kt_fixup_cs = 0;
        return;
    }
    if (catch_top) kt_longjmp(catch_top->jb, (int)v + 1);
    unexpected(f);
}

/* ---- reporting ---- */

void kt_putc(char c)
{
    outb(0xe9, (uint8_t)c);
}

void kt_puts(const char *s)
{
    while (*s)
        kt_putc(*s++);
}

void kt_printf(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    kt_puts(buf);
}

static void report(int ok, const char *name, const char *details)
{
    kt_checks++;
    if (ok) {
        kt_printf("PASS cpu.%s.%s\n", kt_test_name, name);
    } else {
        kt_failures++;
        kt_printf("FAIL cpu.%s.%s: %s\n", kt_test_name, name, details);
    }
}

int kt_ok(int cond, const char *fmt, ...)
{
    char name[160];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    report(cond, name, "condition false");
    return cond;
}

int kt_eq(uint64_t got, uint64_t exp, const char *fmt, ...)
{
    char name[160], details[96];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    if ((got >> 32) || (exp >> 32))
        kt_snprintf(details, sizeof(details), "expected 0x%llx got 0x%llx", (unsigned long long)exp,
                    (unsigned long long)got);
    else
        kt_snprintf(details, sizeof(details), "expected 0x%x got 0x%x", (uint32_t)exp,
                    (uint32_t)got);
    report(got == exp, name, details);
    return got == exp;
}

static int flag_names(char *buf, size_t size, uint32_t fl)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{FL_CF, "CF"}, {FL_PF, "PF"}, {FL_AF, "AF"}, {FL_ZF, "ZF"},
                 {FL_SF, "SF"}, {FL_TF, "TF"}, {FL_IF, "IF"}, {FL_DF, "DF"},
                 {FL_OF, "OF"}, {FL_NT, "NT"}, {FL_RF, "RF"}, {FL_AC, "AC"}};
    int n = 0;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (fl & names[i].bit)
            n += kt_snprintf(buf + n, size - n, "%s%s", n ? " " : "", names[i].name);
    if (n == 0) n = kt_snprintf(buf, size, "-");
    return n;
}

int kt_eq_flags(uint32_t got, uint32_t exp, uint32_t mask, const char *fmt, ...)
{
    char name[160], details[128], g[48], e[48];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    flag_names(e, sizeof(e), exp & mask);
    flag_names(g, sizeof(g), got & mask);
    kt_snprintf(details, sizeof(details), "flags (mask 0x%x) expected 0x%x [%s] got 0x%x [%s]",
                mask, exp & mask, e, got & mask, g);
    int ok = ((got ^ exp) & mask) == 0;
    report(ok, name, details);
    return ok;
}

int kt_eq_fault(uint32_t vector, uint32_t error, uint32_t eip, const char *fmt, ...)
{
    char name[160], details[160];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    int ok = kt_last.count == 1 && (vector == KT_ANY || kt_last.vector == vector) &&
             (error == KT_ANY || kt_last.error == error) && (eip == KT_ANY || kt_last.eip == eip);
    if (kt_last.count == 0)
        kt_snprintf(details, sizeof(details),
                    "expected vector %d error 0x%x eip 0x%x, got no fault", (int)vector, error,
                    eip);
    else
        kt_snprintf(details, sizeof(details),
                    "expected vector %d error 0x%x eip 0x%x, got %u fault(s), last vector %u "
                    "error 0x%x eip 0x%x",
                    (int)vector, error, eip, kt_last.count, kt_last.vector, kt_last.error,
                    kt_last.eip);
    report(ok, name, details);
    return ok;
}

int kt_no_fault(const char *fmt, ...)
{
    char name[160], details[96];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(name, sizeof(name), fmt, ap);
    va_end(ap);
    kt_snprintf(details, sizeof(details), "unexpected exception %u error 0x%x at 0x%x",
                kt_last.vector, kt_last.error, kt_last.eip);
    report(kt_last.count == 0, name, details);
    return kt_last.count == 0;
}

void kt_fail(const char *name, const char *fmt, ...)
{
    char details[160];
    va_list ap;
    va_start(ap, fmt);
    kt_vsnprintf(details, sizeof(details), fmt, ap);
    va_end(ap);
    report(0, name, details);
}

void kt_skip(const char *name, const char *why)
{
    kt_printf("SKIP cpu.%s.%s: %s\n", kt_test_name, name, why);
}

void exit_code(uint32_t v)
{
    outl(0xf4, v);
    /* Only reached without an isa-debug-exit device: stop here. */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void kt_done(void)
{
    kt_printf("# cpu.%s: %u checks, %u failed\n", kt_test_name, kt_checks, kt_failures);
    exit_code(kt_failures ? 1 : 0);
}

void kt_start(uint32_t magic, struct kt_mbi *mbi)
{
    kt_mb_magic = magic;
    kt_mb_info = mbi;
    kt_user_esp = (uint32_t)kt_user_stack_top;
    /* Mask both 8259s: the tests never want device interrupts, even when they set IF. */
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
    init_descriptors();
    kt_fault_reset();
    test_main();
    kt_done();
}

/* ---- freestanding string functions (gcc may emit calls to these) ---- */

void *memset(void *d, int c, size_t n)
{
    uint8_t *p = d;
    while (n--)
        *p++ = (uint8_t)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    uint8_t *p = d;
    const uint8_t *q = s;
    if (p < q) {
        while (n--)
            *p++ = *q++;
    } else {
        while (n--)
            p[n] = q[n];
    }
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const uint8_t *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q) return *p - *q;
    return 0;
}
