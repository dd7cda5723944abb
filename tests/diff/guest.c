/* Differential CPU tests, guest side: a ring-0 multiboot kernel that runs the embedded cases,
 * prints results on the 0xe9 debug console and leaves through isa-debug-exit (port 0xf4). */
#include <stddef.h>
#include <stdint.h>

#include "diff.h"
#include "runner.h"

extern const uint8_t diff_blob[], diff_blob_end[];
extern const uint32_t guest_exc_stubs[32];

/* The compiler may emit calls to these even in freestanding code. */
void *memcpy(void *d, const void *s, size_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memset(void *d, int c, size_t n)
{
    uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static void out_debugcon(const char *s, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        outb(0xe9, (uint8_t)s[i]);
}

static void guest_exit(uint32_t code)
{
    outl(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

struct ExcFrame {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, error, eip, cs, eflags;
};

int guest_exception(struct ExcFrame *f)
{
    /* Same privilege level: the CPU pushed no SS:ESP, so the interrupted ESP is just above the
     * EIP/CS/EFLAGS triple. */
    uint32_t esp = (uint32_t)(uintptr_t)&f->eip + 12;
    uint32_t regs[8] = {f->eax, f->ecx, f->edx, f->ebx, esp, f->ebp, f->esi, f->edi};
    if (diff_fault(f->vector, f->eip, f->eflags, regs)) return 1;
    static const char msg[] = "ERROR guest harness faulted, vector ";
    out_debugcon(msg, sizeof(msg) - 1);
    char v[3] = {"0123456789abcdef"[(f->vector >> 4) & 15], "0123456789abcdef"[f->vector & 15],
                 '\n'};
    out_debugcon(v, 3);
    guest_exit(2);
    return 0;
}

static uint64_t idt[32];

static void setup_idt(void)
{
    for (int v = 0; v < 32; v++) {
        uint32_t h = guest_exc_stubs[v];
        /* 32-bit interrupt gate, DPL 0, present, selector 0x08. */
        idt[v] =
            (h & 0xffff) | (0x08u << 16) | ((uint64_t)0x8e00 << 32) | ((uint64_t)(h >> 16) << 48);
    }
    struct __attribute__((packed)) {
        uint16_t limit;
        uint32_t base;
    } desc = {sizeof(idt) - 1, (uint32_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" : : "m"(desc));
}

void guest_main(void)
{
    setup_idt();
    int r = diff_run(diff_blob, (uint32_t)(diff_blob_end - diff_blob), out_debugcon);
    guest_exit(r ? 1 : 0);
}
