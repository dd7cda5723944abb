/* Fast path of REP MOVS and REP STOS with 32-bit addresses in flat segments, moving forward:
 * the run of elements that stays inside one source page and one destination page whose TLB
 * entries are plain RAM (no code, MMIO or watchpoint) is done at once on host memory. Anything
 * else (a miss, a page boundary inside an element, DF = 1, a zero count) does nothing and
 * leaves the element to the translated per-element loop, which faults and crosses pages
 * exactly. */
#include <string.h>

#include "cpu/x86/helpers.h"
#include "exec/softmmu.h"

/* Host address of lin when its page's TLB entry is a plain RAM hit for the access (a tag with
 * any flag bit fails, as on the translated fast path), or NULL. */
static uint8_t *ram_run(CPUX86State *env, uint32_t lin, unsigned mmu, bool write)
{
    const TlbEntry *e = &env->tlb[mmu][tlb_index(lin)];
    if (!tlb_hit(write ? e->tag_w : e->tag_r, lin, 1)) return NULL;
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* Elements of `size` bytes that fit before addr's page ends. */
static uint32_t page_room(uint32_t addr, unsigned size)
{
    return (PAGE_SIZE - (addr & ~PAGE_MASK)) / size;
}

/* a = element size | mmu << 8, b = 1 for STOS; returns the elements done (ESI, EDI, ECX
 * updated). */
static uint32_t hlp_rep_fast_fn(void *opaque, uint32_t a, uint32_t stos, uint32_t c)
{
    CPUX86State *env = opaque;
    unsigned size = a & 0xff, mmu = a >> 8;
    uint32_t count = env->regs[R_ECX], dst = env->regs[R_EDI];
    if (!count || env->df < 0) return 0;
    uint32_t n = page_room(dst, size);
    if (n > count) n = count;
    if (!n) return 0;
    uint8_t *d = ram_run(env, dst, mmu, true);
    if (!d) return 0;
    if (stos) {
        uint32_t v = env->regs[R_EAX];
        if (size == 1) {
            memset(d, (int)(v & 0xff), n);
        } else {
            for (uint32_t i = 0; i < n; i++)
                for (unsigned k = 0; k < size; k++)
                    d[i * size + k] = (uint8_t)(v >> (8 * k));
        }
    } else {
        uint32_t src = env->regs[R_ESI];
        uint32_t ns = page_room(src, size);
        if (ns < n) n = ns;
        if (!n) return 0;
        const uint8_t *s = ram_run(env, src, mmu, false);
        if (!s) return 0;
        size_t len = (size_t)n * size;
        if (d > s && d < s + len) {
            /* Overlap with the destination ahead: element by element, as the CPU does. */
            for (size_t i = 0; i < len; i += size)
                memmove(d + i, s + i, size);
        } else {
            memmove(d, s, len);
        }
        env->regs[R_ESI] = src + (uint32_t)len;
    }
    env->regs[R_EDI] = dst + n * size;
    env->regs[R_ECX] = count - n;
    return n;
}

const IrHelper hlp_rep_fast = {hlp_rep_fast_fn, "rep_fast", IRH_NO_FAULT};
