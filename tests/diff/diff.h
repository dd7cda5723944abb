/* Differential CPU tests: the case-file format, the fixed memory layout shared by the native and
 * the guest runner, and the buffer-fill PRNG that the runner and the comparator both need. */
#ifndef TESTS_DIFF_DIFF_H
#define TESTS_DIFF_DIFF_H

/*
 * Both runners place everything a case can see at the same linear addresses, so pointer values
 * in registers (buffer addresses, ESP) and fault EIPs are identical on both sides. The area sits
 * at 32 MiB: free in a 32-bit Linux process and inside the guest's 64 MiB of RAM, above the
 * kernel image that is loaded at 1 MiB.
 */
#define DIFF_CTL         0x02000000 /* DiffCtl: state in/out, saved host ESP */
#define DIFF_DATA        0x02001000 /* the data window a case may read and write */
#define DIFF_STACK_TOP   0x02003000 /* ESP while a case runs (the page below is scratch stack) */
#define DIFF_CODE        0x02010000 /* case i's code lives at DIFF_CODE + i * DIFF_CODE_STRIDE */
#define DIFF_AREA_END    0x02400000
#define DIFF_CODE_STRIDE 64
#define DIFF_MAX_CASES   ((DIFF_AREA_END - DIFF_CODE) / DIFF_CODE_STRIDE)

/* The window is what gets compared; instructions only address its middle DIFF_BUF_SIZE bytes,
 * the guard bytes on either side catch stray writes. */
#define DIFF_WIN_SIZE 384
#define DIFF_BUF_OFF  64
#define DIFF_BUF_SIZE 256
#define DIFF_BUF      (DIFF_DATA + DIFF_BUF_OFF)

/* DiffCtl field offsets, for the assembly side. */
#define CTL_IN          0x00 /* 8 GPRs in EAX ECX EDX EBX ESP EBP ESI EDI order */
#define CTL_IN_EFLAGS   0x20
#define CTL_OUT         0x24
#define CTL_OUT_EFLAGS  0x44
#define CTL_VECTOR      0x48
#define CTL_FAULT_EIP   0x4c
#define CTL_CODE_PTR    0x50
#define CTL_CAPTURE_PTR 0x54
#define CTL_HOST_ESP    0x58
#define CTL_IN_CASE     0x5c

/* Every case's code is followed by "jmp [capture_ptr]". */
#define DIFF_EPILOGUE_LEN 6
#define DIFF_CODE_MAX     (DIFF_CODE_STRIDE - DIFF_EPILOGUE_LEN - 2)
#define DIFF_NO_VECTOR    0xff

#ifndef __ASSEMBLER__
#include <stdint.h>

/* EFLAGS bits the comparison looks at. */
#define FL_CF    0x0001u
#define FL_PF    0x0004u
#define FL_AF    0x0010u
#define FL_ZF    0x0040u
#define FL_SF    0x0080u
#define FL_DF    0x0400u
#define FL_OF    0x0800u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)
#define FL_CMP   (FL_ARITH | FL_DF)

/* DiffCase.undef: in the low bits the flags the SDM leaves undefined at the end of the case;
 * shifted up, those undefined at any instruction boundary (a case that faults stops early);
 * and DIFF_UNDEF_RESULT when a register or memory result (or a flag that fed a later
 * instruction) is undefined. */
#define DIFF_UNDEF_ANY_SHIFT 16
#define DIFF_UNDEF_RESULT    0x80000000u
/* In the low half, not a flag: the case holds an instruction whose undefined flags differ
 * between AMD generations (BSF/BSR), so it is compared masked even on an AMD host. */
#define DIFF_UNDEF_MODEL 0x8000u
/* Also not a flag: the case holds FCOMI, FUCOMI or their popping forms, which clear C1 per the
 * SDM (and on Intel) but leave it unchanged on AMD; C1 in the final FNSTSW AX is then compared
 * only on other hosts (no status word reaches memory after such an instruction). */
#define DIFF_UNDEF_X87_C1 0x4000u

enum {
    GRP_ALU,
    GRP_SHIFT,
    GRP_MULDIV,
    GRP_BCD,
    GRP_STRING,
    GRP_BITOPS,
    GRP_MISC,
    GRP_MIXED,
    GRP_X87,
    GRP_COUNT
};

static const char *const diff_group_names[GRP_COUNT] = {
    "alu", "shift", "muldiv", "bcd", "string", "bitops", "misc", "mixed", "x87",
};

/* Patches overwrite bytes of the seeded buffer so the generator can choose memory operands
 * (divisors, compare values, bit-test words). Offsets are window offsets. */
typedef struct DiffPatch {
    uint16_t off;
    uint16_t len; /* 0 = unused, else 1, 2 or 4 */
    uint32_t val;
} DiffPatch;

#define DIFF_PATCHES 2

typedef struct DiffCase {
    uint32_t regs[8]; /* EAX ECX EDX EBX ESP EBP ESI EDI; ESP is ignored (the harness owns it) */
    uint32_t eflags;
    uint32_t buf_seed;
    uint32_t undef;
    DiffPatch patch[DIFF_PATCHES];
    uint8_t group;
    uint8_t ninsn;
    uint8_t code_len;
    uint8_t reserved;
    uint8_t code[DIFF_CODE_MAX];
} DiffCase;

#define DIFF_MAGIC 0x4649444bu /* "KDIF" */

typedef struct DiffHeader {
    uint32_t magic;
    uint32_t count;
    uint32_t case_size;
    uint32_t seed;
} DiffHeader;

typedef struct DiffCtl {
    uint32_t in[8];
    uint32_t in_eflags;
    uint32_t out[8];
    uint32_t out_eflags;
    uint32_t vector;
    uint32_t fault_eip;
    uint32_t code_ptr;
    uint32_t capture_ptr;
    uint32_t host_esp;
    uint32_t in_case;
} DiffCtl;

_Static_assert(sizeof(DiffCase) == 120, "DiffCase layout is part of the file format");
_Static_assert(__builtin_offsetof(DiffCtl, in_eflags) == CTL_IN_EFLAGS, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, out) == CTL_OUT, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, out_eflags) == CTL_OUT_EFLAGS, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, vector) == CTL_VECTOR, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, fault_eip) == CTL_FAULT_EIP, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, code_ptr) == CTL_CODE_PTR, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, capture_ptr) == CTL_CAPTURE_PTR, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, host_esp) == CTL_HOST_ESP, "ctl layout");
_Static_assert(__builtin_offsetof(DiffCtl, in_case) == CTL_IN_CASE, "ctl layout");

static inline uint32_t diff_xorshift(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/*
 * Fills the window from a seed. The low two seed bits pick a style: low-entropy styles make
 * equal runs likely, which repe/repne cmps and scas need to iterate more than once.
 */
static inline void diff_fill_window(uint8_t *win, uint32_t seed, const DiffPatch *patch)
{
    static const uint8_t edge[8] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x0f, 0x99, 0xf0};
    uint32_t s = seed | 1;
    unsigned style = seed & 3;
    uint8_t fill = (uint8_t)(seed >> 8);
    for (unsigned i = 0; i < DIFF_WIN_SIZE; i++) {
        uint32_t r = diff_xorshift(&s);
        uint8_t b;
        switch (style) {
        case 0: b = (r & 0x300) == 0 ? edge[r & 7] : (uint8_t)(r >> 16); break;
        case 1: b = (r & 0xf00) == 0 ? (uint8_t)(r >> 16) : ((r & 1) ? 0xff : 0x00); break;
        case 2: b = (r & 0xf00) == 0 ? (uint8_t)(r >> 16) : fill; break;
        default: b = (uint8_t)(r >> 16); break;
        }
        win[i] = b;
    }
    for (unsigned p = 0; p < DIFF_PATCHES; p++)
        for (unsigned i = 0; i < patch[p].len; i++)
            win[patch[p].off + i] = (uint8_t)(patch[p].val >> (8 * i));
}
#endif

#endif
