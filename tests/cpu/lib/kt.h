/* kt: runtime library for the bare-metal i386 CPU tests (multiboot v1 kernels run at 1 MiB).
 * Descriptor and gate layouts follow Intel SDM vol. 3A ch. 3, 5 and 6. */
#ifndef KT_H
#define KT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The makefile passes the test's file name; the library prefixes check names with it. */
#ifdef KT_NAME
__attribute__((weak)) const char kt_test_name[] = KT_NAME;
#endif
extern const char kt_test_name[];

/* Each test defines this; the library calls it after setting up GDT, IDT and TSS. */
void test_main(void);

/* ---- GDT layout (selectors) ---- */
#define KT_CS          0x08 /* flat ring-0 code, 32-bit */
#define KT_DS          0x10 /* flat ring-0 data */
#define KT_UCS         0x1b /* flat ring-3 code (index 3, RPL 3) */
#define KT_UDS         0x23 /* flat ring-3 data (index 4, RPL 3) */
#define KT_TSS         0x28 /* the library's TSS (ESP0 = trap stack) */
#define KT_TSS2        0x30 /* a second TSS tests may use for task switches */
#define KT_CS16        0x38 /* 16-bit ring-0 code, base 0, limit 0xffff */
#define KT_DS16        0x40 /* 16-bit ring-0 data, base 0, limit 0xffff */
#define KT_GDT_SPARE   9    /* first index tests may fill (selector 0x48) */
#define KT_GDT_ENTRIES 32

/* Access byte (descriptor bits 47:40) values used often. */
#define KT_ACC_CODE0 0x9a /* present, DPL 0, code, readable */
#define KT_ACC_DATA0 0x92 /* present, DPL 0, data, writable */
#define KT_ACC_CODE3 0xfa
#define KT_ACC_DATA3 0xf2
#define KT_ACC_TSS   0x89 /* available 32-bit TSS */
#define KT_ACC_TSSB  0x8b /* busy 32-bit TSS */
#define KT_GATE_INT  0x8e /* 32-bit interrupt gate, DPL 0 */
#define KT_GATE_TRAP 0x8f /* 32-bit trap gate, DPL 0 */
#define KT_GATE_CALL 0x8c /* 32-bit call gate, DPL 0 */
#define KT_GATE_TASK 0x85 /* task gate, DPL 0 */
#define KT_GATE_DPL3 0x60 /* OR into a gate/segment access byte for DPL 3 */
/* Flags nibble (bits 55:52): G and D/B. */
#define KT_FL_32  0xc /* 4 KiB granularity, 32-bit */
#define KT_FL_32B 0x4 /* byte granularity, 32-bit */
#define KT_FL_16  0x0

extern uint64_t kt_gdt[KT_GDT_ENTRIES];
extern uint64_t kt_idt[256];

/* limit is the raw 20-bit field; access is bits 47:40, flags bits 55:52. */
uint64_t kt_seg_desc(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
uint64_t kt_gate_desc(uint16_t sel, uint32_t offset, uint8_t access);
/* Points IDT vector vec at the library stub (access 0x8e/0x8f/..., DPL bits included). */
void kt_set_gate(int vec, uint8_t access);
/* Restores vector vec to the default: interrupt gate, DPL 0, library stub. */
void kt_reset_gate(int vec);
/* Reloads GDTR after kt_gdt edits are not needed (the CPU reads descriptors from memory), but
 * a test that loaded another GDT calls this to go back. */
void kt_load_gdt(void);
void kt_load_idt(void);

struct kt_tss {
    uint16_t link, r0;
    uint32_t esp0;
    uint16_t ss0, r1;
    uint32_t esp1;
    uint16_t ss1, r2;
    uint32_t esp2;
    uint16_t ss2, r3;
    uint32_t cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
    uint16_t es, r4, cs, r5, ss, r6, ds, r7, fs, r8, gs, r9, ldt, r10, trap, iomap;
} __attribute__((packed));
extern struct kt_tss kt_tss, kt_tss2;
/* Top of the ring-0 stack used for traps from ring 3 (TSS.ESP0 and SYSENTER_ESP). */
extern uint8_t kt_trap_stack_top[];
extern uint8_t kt_user_stack_top[];

/* ---- exceptions ---- */
/* Stack image built by the vector stubs; handlers may edit it (e.g. eip, eax). The CPU part
 * starts at eip; esp/ss are only there when the interrupt came from ring 3. Vectors that do not
 * push an error code get 0. Software INT n with n in {8, 10-14, 17} confuses the stubs (they
 * expect an error code), so tests avoid those. */
struct kt_frame {
    uint32_t gs, fs, es, ds;
    uint32_t edi, esi, ebp, esp_pusha, ebx, edx, ecx, eax;
    uint32_t vector, error;
    uint32_t eip, cs, eflags;
    uint32_t esp, ss;
};

struct kt_fault {
    uint32_t vector, error, eip, cs, eflags, cr2;
    uint32_t count; /* exceptions recorded since kt_fault_reset() */
};
extern volatile struct kt_fault kt_last;
/* Resume address armed by KT_TRY; one-shot. */
extern volatile uint32_t kt_fixup;
/* Address of the instruction that follows KT_TRY (set by KT_TRY). */
extern volatile uint32_t kt_site;
/* If nonzero when the armed fault happens, the fixup also resumes with this CS (for faults
 * taken in another code segment). Cleared by KT_END and by the fault. */
extern volatile uint32_t kt_fixup_cs;

/* Inline-asm bracket: the instruction(s) after KT_TRY run; if one faults, the exception is
 * recorded in kt_last and execution resumes after KT_END with the registers as they were at the
 * fault. kt_site holds the address of the first instruction after KT_TRY. The bookkeeping goes
 * through SS, which tests keep flat (or at least covering the image), so the bracket survives
 * tests that load odd DS/ES values. Use only in asm with operands (it contains %%). */
#define KT_TRY "movl $9998f, %%ss:kt_fixup\n\tmovl $9997f, %%ss:kt_site\n9997:\n\t"
#define KT_END "\n9998:\n\tmovl $0, %%ss:kt_fixup\n\tmovl $0, %%ss:kt_fixup_cs\n\t"

void kt_fault_reset(void);
typedef void (*kt_handler_fn)(struct kt_frame *f);
/* Installs a handler for vec (NULL restores fault recording). */
void kt_set_handler(int vec, kt_handler_fn fn);

/* Runs fn(arg); if an exception that no fixup or handler claims happens inside (at any CPL),
 * unwinds back here and returns its vector, else returns -1. */
int kt_catch(void (*fn)(void *), void *arg);

typedef uint32_t kt_jmp_buf[7];
__attribute__((returns_twice)) int kt_setjmp(kt_jmp_buf jb);
/* Restores ring-0 flat segments, the stack and EFLAGS saved by kt_setjmp. */
__attribute__((noreturn)) void kt_longjmp(kt_jmp_buf jb, int val);

/* ---- rings ---- */
#define KT_VEC_USER_RET 0xfe /* DPL-3 gate used by ring-3 code to come back */
/* Runs fn(arg) at CPL 3 (entered with IRET, left with INT KT_VEC_USER_RET) on the user stack
 * and returns its result. kt_user_eflags is the EFLAGS image used for ring 3 (default 0x2:
 * IF=0, IOPL=0), kt_user_esp the initial user ESP. */
uint32_t kt_user_call(uint32_t (*fn)(uint32_t), uint32_t arg);
/* Same, but enters with SYSEXIT and returns with SYSENTER (sets the SYSENTER MSRs). */
uint32_t kt_user_call_sysenter(uint32_t (*fn)(uint32_t), uint32_t arg);
extern uint32_t kt_user_eflags, kt_user_esp;
/* The frame of the INT KT_VEC_USER_RET that ended the last kt_user_call. */
extern struct kt_frame kt_user_ret_frame;

/* ---- output and results ---- */
void kt_putc(char c);
void kt_puts(const char *s);
int kt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int kt_snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kt_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Check helpers: the name is a printf format for the part after "cpu.<file>.". Each prints one
 * PASS or FAIL line and returns the outcome. */
int kt_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int kt_eq(uint64_t got, uint64_t exp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Compares got and exp on the EFLAGS bits in mask; details name the flags. */
int kt_eq_flags(uint32_t got, uint32_t exp, uint32_t mask, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks kt_last for exactly one exception with vector, error code and EIP (KT_ANY skips). */
#define KT_ANY 0xffffffffu
int kt_eq_fault(uint32_t vector, uint32_t error, uint32_t eip, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Checks that kt_last recorded no exception. */
int kt_no_fault(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void kt_fail(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void kt_skip(const char *name, const char *why);
extern unsigned kt_checks, kt_failures;

/* Writes v to the isa-debug-exit port: the emulator exits with status (v << 1) | 1. */
__attribute__((noreturn)) void exit_code(uint32_t v);
/* Prints a summary and exits with 0 if every check passed, 1 otherwise. */
__attribute__((noreturn)) void kt_done(void);

/* ---- multiboot ---- */
struct kt_mbi {
    uint32_t flags, mem_lower, mem_upper;
};
extern uint32_t kt_mb_magic;
extern struct kt_mbi *kt_mb_info;

/* ---- memory ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
extern uint8_t _end[];

/* ---- paging (SDM vol. 3A 4.3, 32-bit paging) ---- */
#define PTE_P      0x001u
#define PTE_W      0x002u
#define PTE_U      0x004u
#define PTE_PWT    0x008u
#define PTE_PCD    0x010u
#define PTE_A      0x020u
#define PTE_D      0x040u
#define PTE_PS     0x080u
#define PTE_G      0x100u
#define KT_RAM_MAP (64u << 20) /* the identity map covers the first 64 MiB */

/* Zeroed page from a bump allocator above the image (identity-mapped). */
void *kt_alloc_page(void);
/* Fresh page directory identity-mapping KT_RAM_MAP with 4 KiB pages (or 4 MiB pages when
 * big is set) using flags; loads it into CR3 without enabling paging. */
uint32_t *kt_paging_init(uint32_t flags, int big);
extern uint32_t *kt_pgdir;
void kt_paging_enable(void);  /* sets CR0.PG (and CR4.PSE) */
void kt_paging_disable(void); /* clears CR0.PG */
/* Maps one 4 KiB page in kt_pgdir, allocating a page table when the PDE is empty. */
void kt_map(uint32_t va, uint32_t pa, uint32_t flags);
/* Maps one 4 MiB page (sets PS). */
void kt_map_4m(uint32_t va, uint32_t pa, uint32_t flags);
/* Pointer to the PTE for va (NULL if its PDE is absent or a 4 MiB page). */
uint32_t *kt_pte(uint32_t va);
static inline uint32_t *kt_pde(uint32_t va)
{
    return &kt_pgdir[va >> 22];
}

/* ---- instructions ---- */
static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t read_cr0(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr0, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr2(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr3(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}
static inline uint32_t read_cr4(void)
{
    uint32_t v;
    __asm__ volatile("mov %%cr4, %0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr0" ::"r"(v) : "memory");
}
static inline void write_cr2(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr2" ::"r"(v) : "memory");
}
static inline void write_cr3(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory");
}
static inline void write_cr4(uint32_t v)
{
    __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory");
}
static inline uint32_t read_eflags(void)
{
    uint32_t v;
    __asm__ volatile("pushf; pop %0" : "=r"(v));
    return v;
}
static inline void write_eflags(uint32_t v)
{
    __asm__ volatile("push %0; popf" ::"r"(v) : "cc", "memory");
}
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
struct kt_cpuid {
    uint32_t a, b, c, d;
};
static inline struct kt_cpuid cpuid(uint32_t leaf, uint32_t sub)
{
    struct kt_cpuid r;
    __asm__ volatile("cpuid" : "=a"(r.a), "=b"(r.b), "=c"(r.c), "=d"(r.d) : "a"(leaf), "c"(sub));
    return r;
}
static inline void invlpg(uint32_t va)
{
    __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory");
}
static inline uint16_t read_cs(void)
{
    uint16_t v;
    __asm__ volatile("mov %%cs, %0" : "=r"(v));
    return v;
}
static inline uint16_t read_ss(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ss, %0" : "=r"(v));
    return v;
}
static inline uint16_t read_ds(void)
{
    uint16_t v;
    __asm__ volatile("mov %%ds, %0" : "=r"(v));
    return v;
}

#define MSR_TSC          0x10
#define MSR_SYSENTER_CS  0x174
#define MSR_SYSENTER_ESP 0x175
#define MSR_SYSENTER_EIP 0x176

#define CR0_PE     0x00000001u
#define CR0_MP     0x00000002u
#define CR0_EM     0x00000004u
#define CR0_TS     0x00000008u
#define CR0_ET     0x00000010u
#define CR0_NE     0x00000020u
#define CR0_WP     0x00010000u
#define CR0_AM     0x00040000u
#define CR0_NW     0x20000000u
#define CR0_CD     0x40000000u
#define CR0_PG     0x80000000u
#define CR4_VME    0x001u
#define CR4_PVI    0x002u
#define CR4_TSD    0x004u
#define CR4_DE     0x008u
#define CR4_PSE    0x010u
#define CR4_PAE    0x020u
#define CR4_PGE    0x080u
#define CR4_OSFXSR 0x200u

#define FL_CF    0x0001u
#define FL_PF    0x0004u
#define FL_AF    0x0010u
#define FL_ZF    0x0040u
#define FL_SF    0x0080u
#define FL_TF    0x0100u
#define FL_IF    0x0200u
#define FL_DF    0x0400u
#define FL_OF    0x0800u
#define FL_IOPL  0x3000u
#define FL_NT    0x4000u
#define FL_RF    0x10000u
#define FL_VM    0x20000u
#define FL_AC    0x40000u
#define FL_ID    0x200000u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

#endif
