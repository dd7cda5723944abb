/* alu: integer instructions and their EFLAGS results, against the Intel SDM vol. 2 instruction
 * pages (Operation and Flags Affected). Undefined flags are masked out of every comparison. */
#include "kt.h"

#define MASK(bits) ((bits) == 32 ? 0xffffffffu : (1u << (bits)) - 1)
#define SIGN(bits) (1u << ((bits)-1))

/* Reference model. Carries come from 64-bit arithmetic, parity from a bit count, so the
 * expected flags never come from the instruction under test. */
static uint32_t parity(uint32_t r)
{
    int n = 0;
    for (int i = 0; i < 8; i++)
        n += (r >> i) & 1;
    return (n & 1) ? 0 : FL_PF;
}

static uint32_t szp(uint32_t r, int bits)
{
    uint32_t f = parity(r);
    if ((r & MASK(bits)) == 0) f |= FL_ZF;
    if (r & SIGN(bits)) f |= FL_SF;
    return f;
}

enum op { ADD, ADC, SUB, SBB, AND, OR, XOR, CMP, TEST, INC, DEC, NEG, NOT };
enum shop { SHL, SHR, SAR, ROL, ROR, RCL, RCR, SHLD, SHRD };

/* Returns the full 32-bit destination register; *fout gets EFLAGS, *def the defined bits. */
static uint32_t ref_alu(int op, int bits, uint32_t afull, uint32_t b, uint32_t fin, uint32_t *fout,
                        uint32_t *def)
{
    uint32_t m = MASK(bits), sb = SIGN(bits), a = afull & m;
    uint32_t cf = fin & FL_CF ? 1 : 0, f = 0, r = a;
    uint64_t w;
    b &= m;
    *def = FL_ARITH;
    switch (op) {
    case ADD:
    case ADC:
        w = (uint64_t)a + b + (op == ADC ? cf : 0);
        r = (uint32_t)w & m;
        f |= ((w >> bits) & 1) ? FL_CF : 0;
        f |= (~(a ^ b) & (a ^ r) & sb) ? FL_OF : 0;
        f |= ((a ^ b ^ r) & 0x10) ? FL_AF : 0;
        break;
    case SUB:
    case SBB:
    case CMP: {
        uint32_t c = op == SBB ? cf : 0;
        r = (uint32_t)((uint64_t)a - b - c) & m;
        f |= ((uint64_t)a < (uint64_t)b + c) ? FL_CF : 0;
        f |= ((a ^ b) & (a ^ r) & sb) ? FL_OF : 0;
        f |= ((a ^ b ^ r) & 0x10) ? FL_AF : 0;
        break;
    }
    case AND:
    case TEST: r = a & b; break;
    case OR: r = a | b; break;
    case XOR: r = a ^ b; break;
    case INC:
        r = (a + 1) & m;
        f |= (a == sb - 1) ? FL_OF : 0;
        f |= ((a & 0xf) == 0xf) ? FL_AF : 0;
        f |= fin & FL_CF;
        break;
    case DEC:
        r = (a - 1) & m;
        f |= (a == sb) ? FL_OF : 0;
        f |= ((a & 0xf) == 0) ? FL_AF : 0;
        f |= fin & FL_CF;
        break;
    case NEG:
        r = (0 - a) & m;
        f |= a ? FL_CF : 0;
        f |= (a == sb) ? FL_OF : 0;
        f |= (a & 0xf) ? FL_AF : 0;
        break;
    case NOT:
        r = ~a & m;
        *fout = fin;
        return (afull & ~m) | r;
    }
    if (op == AND || op == OR || op == XOR || op == TEST)
        *def = FL_ARITH & ~FL_AF; /* CF = OF = 0, AF undefined */
    *fout = (fin & ~FL_ARITH) | f | szp(r, bits);
    if (op == CMP || op == TEST) r = a;
    return (afull & ~m) | r;
}

static uint32_t ref_shift(int op, uint32_t bits, uint32_t afull, uint32_t src, uint32_t cnt,
                          uint32_t fin, uint32_t *fout, uint32_t *def)
{
    uint32_t m = MASK(bits), sb = SIGN(bits), a = afull & m, r = a;
    uint32_t c = cnt & 31, cf = fin & FL_CF ? 1 : 0, of = 0;
    uint32_t f = fin;
    *def = FL_ARITH;
    *fout = fin;
    if (c == 0) return afull;
    src &= m;
    switch (op) {
    case SHL:
        r = c >= bits ? 0 : (a << c) & m;
        cf = c <= bits ? (a >> (bits - c)) & 1 : 0;
        if (c >= bits) *def &= ~FL_CF; /* "undefined for SHL and SHR where count >= size" */
        of = ((r & sb) ? 1 : 0) ^ cf;
        break;
    case SHR:
        r = c >= bits ? 0 : a >> c;
        cf = c <= bits ? (a >> (c - 1)) & 1 : 0;
        if (c >= bits) *def &= ~FL_CF;
        of = (a & sb) ? 1 : 0;
        break;
    case SAR: {
        uint32_t fill = (a & sb) ? m : 0;
        r = c >= bits ? fill : ((a >> c) | (fill << (bits - c))) & m;
        cf = c >= bits ? (a & sb ? 1 : 0) : (a >> (c - 1)) & 1;
        of = 0;
        break;
    }
    case ROL: {
        uint32_t rc = c % bits;
        r = rc ? ((a << rc) | (a >> (bits - rc))) & m : a;
        cf = r & 1;
        of = ((r & sb) ? 1 : 0) ^ cf;
        break;
    }
    case ROR: {
        uint32_t rc = c % bits;
        r = rc ? ((a >> rc) | (a << (bits - rc))) & m : a;
        cf = (r & sb) ? 1 : 0;
        of = cf ^ ((r >> (bits - 2)) & 1);
        break;
    }
    case RCL: {
        uint32_t tc = bits == 32 ? c : c % (bits + 1);
        for (uint32_t i = 0; i < tc; i++) {
            uint32_t t = (r & sb) ? 1 : 0;
            r = ((r << 1) | cf) & m;
            cf = t;
        }
        of = ((r & sb) ? 1 : 0) ^ cf;
        break;
    }
    case RCR: {
        uint32_t tc = bits == 32 ? c : c % (bits + 1);
        of = ((a & sb) ? 1 : 0) ^ cf;
        for (uint32_t i = 0; i < tc; i++) {
            uint32_t t = r & 1;
            r = (r >> 1) | (cf << (bits - 1));
            cf = t;
        }
        break;
    }
    case SHLD:
        if (c > (uint32_t)bits) {
            *def = 0;
            return afull;
        }
        r = c == (uint32_t)bits ? src : ((a << c) | (src >> (bits - c))) & m;
        cf = (a >> (bits - c)) & 1;
        of = ((r ^ a) & sb) ? 1 : 0;
        break;
    case SHRD:
        if (c > (uint32_t)bits) {
            *def = 0;
            return afull;
        }
        r = c == (uint32_t)bits ? src : ((a >> c) | (src << (bits - c))) & m;
        cf = (a >> (c - 1)) & 1;
        of = ((r ^ a) & sb) ? 1 : 0;
        break;
    }
    f = (f & ~(FL_CF | FL_OF)) | (cf ? FL_CF : 0) | (of ? FL_OF : 0);
    if (op == ROL || op == ROR || op == RCL || op == RCR) {
        /* Rotates touch only CF and OF; OF only defined for a 1-bit rotate. */
    } else {
        f = (f & ~(FL_SF | FL_ZF | FL_PF)) | szp(r, bits);
        *def &= ~FL_AF;
    }
    if (c != 1) *def &= ~FL_OF;
    *fout = f;
    return (afull & ~m) | r;
}

/* ---- instruction wrappers: load EFLAGS, run one instruction, save EFLAGS ---- */

typedef uint32_t (*op_fn)(uint32_t a, uint32_t b, uint32_t *fl);

#define FLAGOP(fn, insn, bcons)                                                                    \
    static uint32_t fn(uint32_t a, uint32_t b, uint32_t *fl)                                       \
    {                                                                                              \
        uint32_t f = *fl;                                                                          \
        __asm__ volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]"                      \
                         : [a] "+q"(a), [f] "+r"(f)                                                \
                         : [b] bcons(b)                                                            \
                         : "cc");                                                                  \
        *fl = f;                                                                                   \
        return a;                                                                                  \
    }

FLAGOP(add8, "addb %b[b], %b[a]", "q")
FLAGOP(add16, "addw %w[b], %w[a]", "q")
FLAGOP(add32, "addl %k[b], %k[a]", "q")
FLAGOP(adc8, "adcb %b[b], %b[a]", "q")
FLAGOP(adc16, "adcw %w[b], %w[a]", "q")
FLAGOP(adc32, "adcl %k[b], %k[a]", "q")
FLAGOP(sub8, "subb %b[b], %b[a]", "q")
FLAGOP(sub16, "subw %w[b], %w[a]", "q")
FLAGOP(sub32, "subl %k[b], %k[a]", "q")
FLAGOP(sbb8, "sbbb %b[b], %b[a]", "q")
FLAGOP(sbb16, "sbbw %w[b], %w[a]", "q")
FLAGOP(sbb32, "sbbl %k[b], %k[a]", "q")
FLAGOP(and8, "andb %b[b], %b[a]", "q")
FLAGOP(and16, "andw %w[b], %w[a]", "q")
FLAGOP(and32, "andl %k[b], %k[a]", "q")
FLAGOP(or8, "orb %b[b], %b[a]", "q")
FLAGOP(or16, "orw %w[b], %w[a]", "q")
FLAGOP(or32, "orl %k[b], %k[a]", "q")
FLAGOP(xor8, "xorb %b[b], %b[a]", "q")
FLAGOP(xor16, "xorw %w[b], %w[a]", "q")
FLAGOP(xor32, "xorl %k[b], %k[a]", "q")
FLAGOP(cmp8, "cmpb %b[b], %b[a]", "q")
FLAGOP(cmp16, "cmpw %w[b], %w[a]", "q")
FLAGOP(cmp32, "cmpl %k[b], %k[a]", "q")
FLAGOP(test8, "testb %b[b], %b[a]", "q")
FLAGOP(test16, "testw %w[b], %w[a]", "q")
FLAGOP(test32, "testl %k[b], %k[a]", "q")
FLAGOP(inc8, "incb %b[a]", "q")
FLAGOP(inc16, "incw %w[a]", "q")
FLAGOP(inc32, "incl %k[a]", "q")
FLAGOP(dec8, "decb %b[a]", "q")
FLAGOP(dec16, "decw %w[a]", "q")
FLAGOP(dec32, "decl %k[a]", "q")
FLAGOP(neg8, "negb %b[a]", "q")
FLAGOP(neg16, "negw %w[a]", "q")
FLAGOP(neg32, "negl %k[a]", "q")
FLAGOP(not8, "notb %b[a]", "q")
FLAGOP(not16, "notw %w[a]", "q")
FLAGOP(not32, "notl %k[a]", "q")
#define FLAGOPA(fn, insn)                                                                          \
    static uint32_t fn(uint32_t a, uint32_t b, uint32_t *fl)                                       \
    {                                                                                              \
        uint32_t f = *fl;                                                                          \
        __asm__ volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]"                      \
                         : "+a"(a), [f] "+r"(f)                                                    \
                         :                                                                         \
                         : "cc");                                                                  \
        *fl = f;                                                                                   \
        return a;                                                                                  \
    }

/* Memory-destination, immediate and accumulator encodings of a few of them. */
FLAGOP(add32_imm8, "addl $-1, %k[a]", "q")        /* 83 /0 ib, sign-extended */
FLAGOP(sub16_imm16, "subw $0x8001, %w[a]", "q")   /* 81 /5 iw */
FLAGOPA(adc8_al_imm, "adcb $0x7f, %%al")          /* 14 ib */
FLAGOPA(cmp32_eax_imm, "cmpl $0x80000000, %%eax") /* 3d id */
FLAGOP(xor8_imm, "xorb $0xff, %b[a]", "q")        /* 80 /6 ib */

static uint32_t mem_add32(uint32_t a, uint32_t b, uint32_t *fl)
{
    volatile uint32_t mem = a;
    uint32_t f = *fl;
    __asm__ volatile("push %[f]\n\tpopf\n\taddl %[b], %[m]\n\tpushf\n\tpop %[f]"
                     : [m] "+m"(mem), [f] "+r"(f)
                     : [b] "r"(b)
                     : "cc");
    *fl = f;
    return mem;
}

static uint32_t mem_sbb8_src(uint32_t a, uint32_t b, uint32_t *fl)
{
    volatile uint8_t mem = (uint8_t)b;
    uint32_t f = *fl;
    __asm__ volatile("push %[f]\n\tpopf\n\tsbbb %[m], %b[a]\n\tpushf\n\tpop %[f]"
                     : [a] "+q"(a), [f] "+r"(f)
                     : [m] "m"(mem)
                     : "cc");
    *fl = f;
    return a;
}

static uint32_t mem_neg16(uint32_t a, uint32_t b, uint32_t *fl)
{
    volatile uint16_t mem = (uint16_t)a;
    uint32_t f = *fl;
    __asm__ volatile("push %[f]\n\tpopf\n\tnegw %[m]\n\tpushf\n\tpop %[f]"
                     : [m] "+m"(mem), [f] "+r"(f)
                     :
                     : "cc");
    *fl = f;
    return (a & 0xffff0000u) | mem;
}

static uint32_t mem_inc8(uint32_t a, uint32_t b, uint32_t *fl)
{
    volatile uint8_t mem = (uint8_t)a;
    uint32_t f = *fl;
    __asm__ volatile("push %[f]\n\tpopf\n\tincb %[m]\n\tpushf\n\tpop %[f]"
                     : [m] "+m"(mem), [f] "+r"(f)
                     :
                     : "cc");
    *fl = f;
    return (a & 0xffffff00u) | mem;
}

/* Shifts and rotates by CL, with the CL register in b. */
FLAGOP(shl8, "shlb %%cl, %b[a]", "c")
FLAGOP(shl16, "shlw %%cl, %w[a]", "c")
FLAGOP(shl32, "shll %%cl, %k[a]", "c")
FLAGOP(shr8, "shrb %%cl, %b[a]", "c")
FLAGOP(shr16, "shrw %%cl, %w[a]", "c")
FLAGOP(shr32, "shrl %%cl, %k[a]", "c")
FLAGOP(sar8, "sarb %%cl, %b[a]", "c")
FLAGOP(sar16, "sarw %%cl, %w[a]", "c")
FLAGOP(sar32, "sarl %%cl, %k[a]", "c")
FLAGOP(rol8, "rolb %%cl, %b[a]", "c")
FLAGOP(rol16, "rolw %%cl, %w[a]", "c")
FLAGOP(rol32, "roll %%cl, %k[a]", "c")
FLAGOP(ror8, "rorb %%cl, %b[a]", "c")
FLAGOP(ror16, "rorw %%cl, %w[a]", "c")
FLAGOP(ror32, "rorl %%cl, %k[a]", "c")
FLAGOP(rcl8, "rclb %%cl, %b[a]", "c")
FLAGOP(rcl16, "rclw %%cl, %w[a]", "c")
FLAGOP(rcl32, "rcll %%cl, %k[a]", "c")
FLAGOP(rcr8, "rcrb %%cl, %b[a]", "c")
FLAGOP(rcr16, "rcrw %%cl, %w[a]", "c")
FLAGOP(rcr32, "rcrl %%cl, %k[a]", "c")
/* The one-bit (D0/D1) and immediate (C0/C1) encodings; b is unused. */
FLAGOP(shl32_1, "shll %k[a]", "c")
FLAGOP(sar8_1, "sarb $1, %b[a]", "c")
FLAGOP(rcr16_1, "rcrw $1, %w[a]", "c")
FLAGOP(rol32_imm, "roll $12, %k[a]", "c")
FLAGOP(shr16_imm, "shrw $36, %w[a]", "c") /* masked to 4 */
FLAGOP(rcl8_imm, "rclb $10, %b[a]", "c")  /* 10 mod 9 = 1 */

struct shd_args {
    uint32_t dst, src, cnt;
};
#define SHDOP(fn, insn)                                                                            \
    static uint32_t fn(uint32_t a, uint32_t src, uint32_t cnt, uint32_t *fl)                       \
    {                                                                                              \
        uint32_t f = *fl;                                                                          \
        __asm__ volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]"                      \
                         : [a] "+r"(a), [f] "+r"(f)                                                \
                         : [s] "r"(src), "c"(cnt)                                                  \
                         : "cc");                                                                  \
        *fl = f;                                                                                   \
        return a;                                                                                  \
    }
SHDOP(shld16, "shldw %%cl, %w[s], %w[a]")
SHDOP(shld32, "shldl %%cl, %k[s], %k[a]")
SHDOP(shrd16, "shrdw %%cl, %w[s], %w[a]")
SHDOP(shrd32, "shrdl %%cl, %k[s], %k[a]")
SHDOP(shld32_imm, "shldl $8, %k[s], %k[a]")
SHDOP(shrd16_imm, "shrdw $4, %w[s], %w[a]")

/* ---- table-driven sweeps over edge values ---- */

struct alu_case {
    const char *name;
    op_fn fn;
    int op, bits;
};

static const struct alu_case alu_ops[] = {
    {"add8", add8, ADD, 8},
    {"add16", add16, ADD, 16},
    {"add32", add32, ADD, 32},
    {"adc8", adc8, ADC, 8},
    {"adc16", adc16, ADC, 16},
    {"adc32", adc32, ADC, 32},
    {"sub8", sub8, SUB, 8},
    {"sub16", sub16, SUB, 16},
    {"sub32", sub32, SUB, 32},
    {"sbb8", sbb8, SBB, 8},
    {"sbb16", sbb16, SBB, 16},
    {"sbb32", sbb32, SBB, 32},
    {"and8", and8, AND, 8},
    {"and16", and16, AND, 16},
    {"and32", and32, AND, 32},
    {"or8", or8, OR, 8},
    {"or16", or16, OR, 16},
    {"or32", or32, OR, 32},
    {"xor8", xor8, XOR, 8},
    {"xor16", xor16, XOR, 16},
    {"xor32", xor32, XOR, 32},
    {"cmp8", cmp8, CMP, 8},
    {"cmp16", cmp16, CMP, 16},
    {"cmp32", cmp32, CMP, 32},
    {"test8", test8, TEST, 8},
    {"test16", test16, TEST, 16},
    {"test32", test32, TEST, 32},
    {"inc8", inc8, INC, 8},
    {"inc16", inc16, INC, 16},
    {"inc32", inc32, INC, 32},
    {"dec8", dec8, DEC, 8},
    {"dec16", dec16, DEC, 16},
    {"dec32", dec32, DEC, 32},
    {"neg8", neg8, NEG, 8},
    {"neg16", neg16, NEG, 16},
    {"neg32", neg32, NEG, 32},
    {"not8", not8, NOT, 8},
    {"not16", not16, NOT, 16},
    {"not32", not32, NOT, 32},
    {"mem_add32", mem_add32, ADD, 32},
    {"mem_sbb8_src", mem_sbb8_src, SBB, 8},
    {"mem_neg16", mem_neg16, NEG, 16},
    {"mem_inc8", mem_inc8, INC, 8},
};

static const uint32_t edge[] = {0,          1,          2,          0x0f,       0x10,
                                0x7f,       0x80,       0xff,       0x7fff,     0x8000,
                                0xffff,     0x7fffffff, 0x80000000, 0xffffffff, 0x12345678,
                                0xfedcba98, 0x55aa55aa, 0x00010000};
#define NEDGE (sizeof(edge) / sizeof(edge[0]))
static const uint32_t fins[] = {0x2, 0x2 | FL_ARITH, 0x2 | FL_CF, 0x2 | FL_AF | FL_ZF};

static void sweep_alu(void)
{
    for (unsigned i = 0; i < sizeof(alu_ops) / sizeof(alu_ops[0]); i++) {
        const struct alu_case *c = &alu_ops[i];
        unsigned bad = 0;
        char first[128] = "";
        for (unsigned x = 0; x < NEDGE; x++)
            for (unsigned y = 0; y < NEDGE; y++)
                for (unsigned k = 0; k < 4; k++) {
                    /* Garbage above the operand size must survive (8/16-bit forms). */
                    uint32_t a = edge[x] ^ (c->bits == 32 ? 0 : 0xa5a50000u);
                    uint32_t b = edge[y] ^ (c->bits == 32 ? 0 : 0x3c3c0000u);
                    uint32_t fg = fins[k], fe, def;
                    uint32_t exp = ref_alu(c->op, c->bits, a, b, fins[k], &fe, &def);
                    uint32_t got = c->fn(a, b, &fg);
                    if (got != exp || ((fg ^ fe) & def)) {
                        if (!bad++)
                            kt_snprintf(first, sizeof(first),
                                        "a=0x%x b=0x%x fl=0x%x: expected 0x%x/0x%x got 0x%x/0x%x",
                                        a, b, fins[k], exp, fe & def, got, fg & def);
                    }
                }
        if (bad)
            kt_fail(c->name, "%u mismatches, first %s", bad, first);
        else
            kt_ok(1, "%s", c->name);
    }
}

struct shift_case {
    const char *name;
    op_fn fn;
    int op, bits;
};

static const struct shift_case shift_ops[] = {
    {"shl8", shl8, SHL, 8}, {"shl16", shl16, SHL, 16}, {"shl32", shl32, SHL, 32},
    {"shr8", shr8, SHR, 8}, {"shr16", shr16, SHR, 16}, {"shr32", shr32, SHR, 32},
    {"sar8", sar8, SAR, 8}, {"sar16", sar16, SAR, 16}, {"sar32", sar32, SAR, 32},
    {"rol8", rol8, ROL, 8}, {"rol16", rol16, ROL, 16}, {"rol32", rol32, ROL, 32},
    {"ror8", ror8, ROR, 8}, {"ror16", ror16, ROR, 16}, {"ror32", ror32, ROR, 32},
    {"rcl8", rcl8, RCL, 8}, {"rcl16", rcl16, RCL, 16}, {"rcl32", rcl32, RCL, 32},
    {"rcr8", rcr8, RCR, 8}, {"rcr16", rcr16, RCR, 16}, {"rcr32", rcr32, RCR, 32},
};
static const uint32_t counts[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 18, 24, 31, 32, 33, 63, 255};

static void sweep_shifts(void)
{
    for (unsigned i = 0; i < sizeof(shift_ops) / sizeof(shift_ops[0]); i++) {
        const struct shift_case *c = &shift_ops[i];
        unsigned bad = 0;
        char first[128] = "";
        for (unsigned x = 0; x < NEDGE; x++)
            for (unsigned n = 0; n < sizeof(counts) / sizeof(counts[0]); n++)
                for (unsigned k = 0; k < 4; k++) {
                    uint32_t a = edge[x] ^ (c->bits == 32 ? 0 : 0x5a5a0000u);
                    uint32_t fg = fins[k], fe, def;
                    uint32_t exp = ref_shift(c->op, c->bits, a, 0, counts[n], fins[k], &fe, &def);
                    uint32_t got = c->fn(a, counts[n], &fg);
                    if (got != exp || ((fg ^ fe) & def)) {
                        if (!bad++)
                            kt_snprintf(first, sizeof(first),
                                        "a=0x%x cl=%u fl=0x%x: expected 0x%x/0x%x got 0x%x/0x%x", a,
                                        counts[n], fins[k], exp, fe & def, got, fg & def);
                    }
                }
        if (bad)
            kt_fail(c->name, "%u mismatches, first %s", bad, first);
        else
            kt_ok(1, "%s", c->name);
    }

    static const struct {
        const char *name;
        uint32_t (*fn)(uint32_t, uint32_t, uint32_t, uint32_t *);
        int op, bits;
    } shd[] = {{"shld16", shld16, SHLD, 16},
               {"shld32", shld32, SHLD, 32},
               {"shrd16", shrd16, SHRD, 16},
               {"shrd32", shrd32, SHRD, 32}};
    for (unsigned i = 0; i < 4; i++) {
        unsigned bad = 0;
        char first[128] = "";
        for (unsigned x = 0; x < NEDGE; x++)
            for (unsigned y = 0; y < NEDGE; y += 3)
                for (unsigned n = 0; n < sizeof(counts) / sizeof(counts[0]); n++)
                    for (unsigned k = 0; k < 2; k++) {
                        uint32_t a = edge[x], s = edge[y], fg = fins[k], fe, def;
                        uint32_t exp =
                            ref_shift(shd[i].op, shd[i].bits, a, s, counts[n], fins[k], &fe, &def);
                        uint32_t got = shd[i].fn(a, s, counts[n], &fg);
                        if (!def) continue; /* count > operand size: result undefined */
                        if (got != exp || ((fg ^ fe) & def)) {
                            if (!bad++)
                                kt_snprintf(first, sizeof(first),
                                            "d=0x%x s=0x%x cl=%u: expected 0x%x/0x%x got 0x%x/0x%x",
                                            a, s, counts[n], exp, fe & def, got, fg & def);
                        }
                    }
        if (bad)
            kt_fail(shd[i].name, "%u mismatches, first %s", bad, first);
        else
            kt_ok(1, "%s", shd[i].name);
    }
}

/* ---- hand-computed vectors (independent of the model above) ---- */

struct lit {
    const char *name;
    op_fn fn;
    uint32_t a, b, fin, res, fout, mask;
};

#define A6    FL_ARITH
#define LOGIC (FL_ARITH & ~FL_AF)
#define CO    (FL_CF | FL_OF)
static const struct lit lits[] = {
    {"add8_7f_01", add8, 0x7f, 0x01, 0x2, 0x80, FL_OF | FL_SF | FL_AF, A6},
    {"add8_ff_01", add8, 0xff, 0x01, 0x2, 0x00, FL_CF | FL_ZF | FL_AF | FL_PF, A6},
    {"add16_8000_8000", add16, 0x8000, 0x8000, 0x2, 0x0, FL_CF | FL_OF | FL_ZF | FL_PF, A6},
    {"add32_7fffffff_1", add32, 0x7fffffff, 1, 0x2, 0x80000000, FL_OF | FL_SF | FL_AF | FL_PF, A6},
    {"add32_keeps_high", add8, 0x123456f0, 0x20, 0x2, 0x12345610, FL_CF, A6},
    {"adc8_ff_0_cf", adc8, 0xff, 0x00, 0x3, 0x00, FL_CF | FL_ZF | FL_AF | FL_PF, A6},
    {"adc32_7fffffff_0_cf", adc32, 0x7fffffff, 0, 0x3, 0x80000000, FL_OF | FL_SF | FL_AF | FL_PF,
     A6},
    {"adc16_ffff_ffff_cf", adc16, 0xffff, 0xffff, 0x3, 0xffff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"sub8_0_1", sub8, 0, 1, 0x2, 0xff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"sub8_80_1", sub8, 0x80, 1, 0x2, 0x7f, FL_OF | FL_AF, A6},
    {"sub32_5_5", sub32, 5, 5, 0x2, 0, FL_ZF | FL_PF, A6},
    {"sub16_7fff_ffff", sub16, 0x7fff, 0xffff, 0x2, 0x8000, FL_CF | FL_OF | FL_SF | FL_PF, A6},
    {"sbb8_0_0_cf", sbb8, 0, 0, 0x3, 0xff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"sbb16_8000_0_cf", sbb16, 0x8000, 0, 0x3, 0x7fff, FL_OF | FL_AF | FL_PF, A6},
    {"sbb32_1_0_cf", sbb32, 1, 0, 0x3, 0, FL_ZF | FL_PF, A6},
    {"cmp32_1_2", cmp32, 1, 2, 0x2, 1, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"cmp8_80_7f", cmp8, 0x80, 0x7f, 0x2, 0x80, FL_OF | FL_AF, A6},
    {"and8_f0_0f", and8, 0xf0, 0x0f, 0x2 | FL_CF | FL_OF, 0, FL_ZF | FL_PF, LOGIC},
    {"or16_8000_1", or16, 0x8000, 1, 0x2 | FL_CF, 0x8001, FL_SF, LOGIC},
    {"xor32_self", xor32, 0xdeadbeef, 0xdeadbeef, 0x2 | FL_OF, 0, FL_ZF | FL_PF, LOGIC},
    {"test8_80_80", test8, 0x80, 0x80, 0x2 | FL_CF, 0x80, FL_SF, LOGIC},
    {"test32_0_ffffffff", test32, 0, 0xffffffff, 0x2, 0, FL_ZF | FL_PF, LOGIC},
    {"inc8_7f_keeps_cf", inc8, 0x7f, 0, 0x3, 0x80, FL_CF | FL_OF | FL_SF | FL_AF, A6},
    {"inc16_ffff", inc16, 0xffff, 0, 0x2, 0, FL_ZF | FL_AF | FL_PF, A6},
    {"dec32_80000000", dec32, 0x80000000, 0, 0x2, 0x7fffffff, FL_OF | FL_AF | FL_PF, A6},
    {"dec8_0_keeps_cf", dec8, 0, 0, 0x3, 0xff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"neg8_80", neg8, 0x80, 0, 0x2, 0x80, FL_CF | FL_OF | FL_SF, A6},
    {"neg32_0", neg32, 0, 0, 0x3, 0, FL_ZF | FL_PF, A6},
    {"neg16_1", neg16, 1, 0, 0x2, 0xffff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"not8_keeps_flags", not8, 0xaa0f, 0, 0x2 | FL_ZF | FL_CF, 0xaaf0, FL_ZF | FL_CF, A6},
    {"add32_imm8_signext", add32_imm8, 1, 0, 0x2, 0, FL_CF | FL_ZF | FL_AF | FL_PF, A6},
    {"sub16_imm16", sub16_imm16, 0x8000, 0, 0x2, 0xffff, FL_CF | FL_SF | FL_AF | FL_PF, A6},
    {"adc8_al_imm", adc8_al_imm, 0x1100, 0, 0x3, 0x1180, FL_OF | FL_SF | FL_AF, A6},
    {"cmp32_eax_imm", cmp32_eax_imm, 0x7fffffff, 0, 0x2, 0x7fffffff, FL_CF | FL_OF | FL_SF | FL_PF,
     A6},
    {"xor8_imm", xor8_imm, 0x55, 0, 0x2, 0xaa, FL_SF | FL_PF, LOGIC},
    {"mem_add32_carry", mem_add32, 0xffffffff, 0xffffffff, 0x2, 0xfffffffe, FL_CF | FL_SF | FL_AF,
     A6},
    {"shl8_81_1", shl8, 0x81, 1, 0x2, 0x02, FL_CF | FL_OF, CO | FL_SF | FL_ZF | FL_PF},
    {"shl32_by_32_is_nop", shl32, 0x80000001, 32, 0x2 | FL_ZF | FL_OF, 0x80000001, FL_ZF | FL_OF,
     A6},
    {"shl32_by_33", shl32, 0x80000001, 33, 0x2, 0x2, FL_CF | FL_OF, CO | FL_SF | FL_ZF | FL_PF},
    {"shl16_by_16", shl16, 0x0001, 16, 0x2, 0, FL_ZF | FL_PF, FL_SF | FL_ZF | FL_PF},
    {"shr32_80000000_31", shr32, 0x80000000, 31, 0x2, 1, 0, FL_CF | FL_SF | FL_ZF | FL_PF},
    {"shr8_1_1", shr8, 0x01, 1, 0x2, 0, FL_CF | FL_ZF | FL_PF, CO | FL_SF | FL_ZF | FL_PF},
    {"shr16_8000_1_of", shr16, 0x8000, 1, 0x2, 0x4000, FL_OF | FL_PF, CO | FL_SF | FL_ZF | FL_PF},
    {"sar32_80000000_31", sar32, 0x80000000, 31, 0x2, 0xffffffff, FL_SF | FL_PF,
     FL_CF | FL_SF | FL_ZF | FL_PF},
    {"sar8_80_9", sar8, 0x80, 9, 0x2, 0xff, FL_CF | FL_SF | FL_PF, FL_CF | FL_SF | FL_ZF | FL_PF},
    {"sar16_ffff_1", sar16, 0xffff, 1, 0x2, 0xffff, FL_CF | FL_SF | FL_PF, A6 & ~FL_AF},
    {"rol8_81_8", rol8, 0x81, 8, 0x2, 0x81, FL_CF, FL_CF},
    {"rol8_81_1", rol8, 0x81, 1, 0x2, 0x03, FL_CF | FL_OF, CO},
    {"rol16_keeps_szap", rol16, 0x8000, 1, 0x2 | FL_ZF | FL_AF, 0x0001,
     FL_CF | FL_OF | FL_ZF | FL_AF, A6},
    {"ror16_1_1", ror16, 0x0001, 1, 0x2, 0x8000, FL_CF | FL_OF, CO},
    {"ror32_by_0_keeps", ror32, 0x12345678, 0, 0x2 | FL_CF | FL_OF, 0x12345678, FL_CF | FL_OF, A6},
    {"ror32_by_36", ror32, 0x12345678, 36, 0x2, 0x81234567, FL_CF, FL_CF},
    {"rcl8_80_9_identity", rcl8, 0x80, 9, 0x2, 0x80, 0, FL_CF},
    {"rcl8_80_1", rcl8, 0x80, 1, 0x2, 0x00, FL_CF | FL_OF, CO},
    {"rcl16_8000_17_cf", rcl16, 0x8000, 17, 0x3, 0x8000, FL_CF, FL_CF},
    {"rcl32_cf_in", rcl32, 0x00000000, 1, 0x3, 0x1, 0, CO},
    {"rcr32_0_1_cf", rcr32, 0x0, 1, 0x3, 0x80000000, FL_OF, CO},
    {"rcr8_01_2", rcr8, 0x01, 2, 0x2, 0x80, 0, FL_CF},
    {"shl32_1_form", shl32_1, 0xc0000000, 0, 0x2, 0x80000000, FL_CF | FL_SF | FL_PF,
     CO | FL_SF | FL_ZF | FL_PF},
    {"sar8_1_form", sar8_1, 0x81, 0, 0x2, 0xc0, FL_CF | FL_SF | FL_PF, CO | FL_SF | FL_ZF | FL_PF},
    {"rcr16_1_form", rcr16_1, 0x8001, 0, 0x2, 0x4000, FL_CF | FL_OF, CO},
    {"rol32_imm", rol32_imm, 0x12345678, 0, 0x2, 0x45678123, FL_CF, FL_CF},
    {"shr16_imm_masked", shr16_imm, 0x1234, 0, 0x2, 0x0123, 0, FL_CF | FL_SF | FL_ZF | FL_PF},
    {"rcl8_imm_mod9", rcl8_imm, 0x40, 0, 0x3, 0x81, 0, FL_CF},
};

static void literal_tests(void)
{
    for (unsigned i = 0; i < sizeof(lits) / sizeof(lits[0]); i++) {
        const struct lit *l = &lits[i];
        uint32_t f = l->fin;
        uint32_t r = l->fn(l->a, l->b, &f);
        uint32_t m = l->mask;
        if (r != l->res || ((f ^ l->fout) & m))
            kt_fail(l->name, "expected 0x%x flags 0x%x got 0x%x flags 0x%x (mask 0x%x)", l->res,
                    l->fout & m, r, f & m, m);
        else
            kt_ok(1, "%s", l->name);
    }
    static const struct {
        const char *name;
        uint32_t (*fn)(uint32_t, uint32_t, uint32_t, uint32_t *);
        uint32_t d, s, c, res, fout, mask;
    } shd[] = {
        {"shld32_8", shld32, 0x12345678, 0x9abcdef0, 8, 0x3456789a, 0, FL_CF | FL_SF | FL_ZF},
        {"shrd32_8", shrd32, 0x12345678, 0x9abcdef0, 8, 0xf0123456, FL_SF, FL_CF | FL_SF | FL_ZF},
        {"shld16_1_of", shld16, 0x4000, 0x8000, 1, 0x8001, FL_OF | FL_SF, CO | FL_SF | FL_ZF},
        {"shrd16_16", shrd16, 0x8000, 0x1234, 16, 0x1234, FL_CF, FL_CF | FL_SF | FL_ZF | FL_PF},
        {"shld32_0_nop", shld32, 0x1, 0x2, 32, 0x1, FL_ZF | FL_CF, A6},
        {"shld32_imm", shld32_imm, 0x00000001, 0xff000000, 0, 0x000001ff, 0, FL_CF | FL_SF | FL_ZF},
        {"shrd16_imm", shrd16_imm, 0xabcd, 0x0005, 0, 0x5abc, FL_CF, FL_CF | FL_SF | FL_ZF},
    };
    for (unsigned i = 0; i < sizeof(shd) / sizeof(shd[0]); i++) {
        uint32_t f = 0x2 | (shd[i].fout & FL_ZF && shd[i].c == 32 ? FL_ZF | FL_CF : 0);
        uint32_t r = shd[i].fn(shd[i].d, shd[i].s, shd[i].c, &f);
        uint32_t m = shd[i].mask;
        if (r != shd[i].res || ((f ^ shd[i].fout) & m))
            kt_fail(shd[i].name, "expected 0x%x flags 0x%x got 0x%x flags 0x%x", shd[i].res,
                    shd[i].fout & m, r, f & m);
        else
            kt_ok(1, "%s", shd[i].name);
    }
}

/* ---- multiply and divide ---- */

struct muldiv {
    uint32_t eax, edx, flags;
};

#define MUL1(fn, insn)                                                                             \
    static struct muldiv fn(uint32_t a, uint32_t d, uint32_t src)                                  \
    {                                                                                              \
        struct muldiv r = {a, d, 0x2};                                                             \
        __asm__ volatile("push %[f]\n\tpopf\n\t" insn "\n\tpushf\n\tpop %[f]"                      \
                         : "+a"(r.eax), "+d"(r.edx), [f] "+r"(r.flags)                             \
                         : [s] "b"(src)                                                            \
                         : "cc");                                                                  \
        return r;                                                                                  \
    }
MUL1(mul8, "mulb %b[s]")
MUL1(mul16, "mulw %w[s]")
MUL1(mul32, "mull %k[s]")
MUL1(imul8, "imulb %b[s]")
MUL1(imul16, "imulw %w[s]")
MUL1(imul32, "imull %k[s]")
MUL1(imul16_2, "imulw %w[s], %%dx")
MUL1(imul32_2, "imull %k[s], %%edx")
MUL1(imul32_3i8, "imull $-2, %k[s], %%edx")
MUL1(imul32_3i32, "imull $0x10000, %k[s], %%edx")
MUL1(imul16_3i8, "imulw $100, %w[s], %%dx")
MUL1(div8, "divb %b[s]")
MUL1(div16, "divw %w[s]")
MUL1(div32, "divl %k[s]")
MUL1(idiv8, "idivb %b[s]")
MUL1(idiv16, "idivw %w[s]")
MUL1(idiv32, "idivl %k[s]")

static void check_md(const char *name, struct muldiv got, uint32_t eax, uint32_t edx, int co)
{
    int ok = got.eax == eax && got.edx == edx;
    if (co >= 0) ok = ok && (got.flags & CO) == (co ? CO : 0);
    if (ok)
        kt_ok(1, "%s", name);
    else
        kt_fail(name, "expected eax=0x%x edx=0x%x cf/of=%d got eax=0x%x edx=0x%x flags=0x%x", eax,
                edx, co, got.eax, got.edx, got.flags);
}

static void mul_tests(void)
{
    check_md("mul8_80_2", mul8(0xaaaa0080, 0x77, 2), 0xaaaa0100, 0x77, 1);
    check_md("mul8_0f_11", mul8(0x0f, 0, 0x11), 0x00ff, 0, 0);
    check_md("mul16_ffff_ffff", mul16(0x1234ffff, 0x56780000, 0xffff), 0x12340001, 0x5678fffe, 1);
    check_md("mul16_100_ff", mul16(0x100, 0xffff, 0xff), 0xff00, 0, 0);
    check_md("mul32_ffffffff_2", mul32(0xffffffff, 7, 2), 0xfffffffe, 1, 1);
    check_md("mul32_10000_ffff", mul32(0x10000, 7, 0xffff), 0xffff0000, 0, 0);
    check_md("imul8_m128_m1", imul8(0x80, 0, 0xff), 0x0080, 0, 1);
    check_md("imul8_m2_3", imul8(0xfe, 0, 3), 0xfffa, 0, 0);
    check_md("imul16_7fff_2", imul16(0x7fff, 0, 2), 0xfffe, 0, 1);
    check_md("imul16_m1_m1", imul16(0xffff, 0x1234, 0xffff), 0x0001, 0, 0);
    check_md("imul32_m1_m1", imul32(0xffffffff, 5, 0xffffffff), 1, 0, 0);
    check_md("imul32_40000000_2", imul32(0x40000000, 0, 2), 0x80000000, 0, 1);
    check_md("imul32_m3_7", imul32((uint32_t)-3, 0, 7), (uint32_t)-21, 0xffffffff, 0);
    check_md("imul16_2op_overflow", imul16_2(0, 0xabcd0100, 0x100), 0, 0xabcd0000, 1);
    check_md("imul16_2op_neg", imul16_2(0, 0xfffd, 7), 0, 0xffeb, 0);
    check_md("imul32_2op_overflow", imul32_2(0, 0x10000, 0x10000), 0, 0, 1);
    check_md("imul32_2op_m3_7", imul32_2(0, (uint32_t)-3, 7), 0, (uint32_t)-21, 0);
    check_md("imul32_3op_imm8", imul32_3i8(0, 0, 5), 0, (uint32_t)-10, 0);
    check_md("imul32_3op_imm8_ovf", imul32_3i8(0, 0, 0xc0000000), 0, 0x80000000, 1);
    check_md("imul32_3op_imm8_min", imul32_3i8(0, 0, 0x40000000), 0, 0x80000000, 0);
    check_md("imul32_3op_imm32", imul32_3i32(0, 0, 0x12345), 0, 0x23450000, 1);
    check_md("imul32_3op_imm32_ok", imul32_3i32(0, 0, 0x7fff), 0, 0x7fff0000, 0);
    check_md("imul16_3op_imm8", imul16_3i8(0, 0x55550000, 400), 0, 0x55559c40, 1);
    check_md("imul16_3op_imm8_ok", imul16_3i8(0, 0x55550000, 0xff9c), 0, 0x5555d8f0, 0);

    check_md("div8", div8(0x0107, 0, 0x10), 0x0710, 0, -1);
    check_md("div16", div16(0x0000, 0x0001, 2), 0x8000, 0, -1);
    check_md("div32", div32(5, 1, 0x10), 0x10000000, 5, -1);
    check_md("div32_max", div32(0xffffffff, 0xfffffffe, 0xffffffff), 0xffffffff, 0xfffffffe, -1);
    check_md("idiv8_m7_2", idiv8(0xfff9, 0, 2), 0xfffd, 0, -1);
    check_md("idiv8_128_m1", idiv8(0x0080, 0, 0xff), 0x0080, 0, -1);
    check_md("idiv16_m7_2", idiv16(0xfff9, 0xffff, 2), 0xfffd, 0xffff, -1);
    check_md("idiv32_100_m7", idiv32(100, 0, (uint32_t)-7), (uint32_t)-14, 2, -1);
    check_md("idiv32_m100_7", idiv32((uint32_t)-100, 0xffffffff, 7), (uint32_t)-14, (uint32_t)-2,
             -1);

    /* Sweep of the 32-bit forms against 64-bit C arithmetic: only CF/OF are defined. */
    unsigned bad = 0;
    for (unsigned x = 0; x < NEDGE; x++)
        for (unsigned y = 0; y < NEDGE; y++) {
            uint64_t p = (uint64_t)edge[x] * edge[y];
            struct muldiv g = mul32(edge[x], 0, edge[y]);
            if (g.eax != (uint32_t)p || g.edx != (uint32_t)(p >> 32) ||
                (g.flags & CO) != ((p >> 32) ? CO : 0))
                bad++;
            int64_t s = (int64_t)(int32_t)edge[x] * (int32_t)edge[y];
            g = imul32(edge[x], 0, edge[y]);
            if (g.eax != (uint32_t)s || g.edx != (uint32_t)((uint64_t)s >> 32) ||
                (g.flags & CO) != (s != (int32_t)s ? CO : 0))
                bad++;
            if (edge[y]) {
                uint64_t n = ((uint64_t)(edge[x] % edge[y]) << 32) | edge[x];
                g = div32((uint32_t)n, (uint32_t)(n >> 32), edge[y]);
                if (g.eax != (uint32_t)(n / edge[y]) || g.edx != (uint32_t)(n % edge[y])) bad++;
            }
        }
    kt_eq(bad, 0, "muldiv32_sweep_mismatches");
}

/* A faulting DIV leaves every register alone and reports the DIV's own address. */
#define DIV_FAULT(name, insn, a0, d0, s0)                                                          \
    do {                                                                                           \
        uint32_t a = a0, d = d0, s = s0;                                                           \
        kt_fault_reset();                                                                          \
        __asm__ volatile(KT_TRY insn KT_END : "+a"(a), "+d"(d) : "b"(s) : "memory", "cc");         \
        kt_eq_fault(0, 0, kt_site, "%s", name);                                                    \
        kt_ok(a == (a0) && d == (d0) && s == (s0), "%s_regs_unchanged", name);                     \
    } while (0)

static void div_faults(void)
{
    DIV_FAULT("de_div8_by_zero", "divb %%bl", 0x1234, 0x5678, 0xff00);
    DIV_FAULT("de_div8_overflow", "divb %%bl", 0x0200, 0, 2);
    DIV_FAULT("de_div16_overflow", "divw %%bx", 0, 0x0002, 2);
    DIV_FAULT("de_div32_by_zero", "divl %%ebx", 1, 2, 0);
    DIV_FAULT("de_div32_overflow", "divl %%ebx", 0, 0x10, 0x10);
    DIV_FAULT("de_idiv8_m128_m1", "idivb %%bl", 0xff80, 0, 0xff);
    DIV_FAULT("de_idiv16_overflow", "idivw %%bx", 0x8000, 0xffff, 0xffff);
    DIV_FAULT("de_idiv32_m2p32_m1", "idivl %%ebx", 0, 0xffffffff, 0xffffffff);
    DIV_FAULT("de_idiv32_min_m1b", "idivl %%ebx", 0x80000000, 0xffffffff, 0xffffffff);
    DIV_FAULT("de_idiv32_pos_overflow", "idivl %%ebx", 0x80000000, 0, 1);
    DIV_FAULT("de_aam_0", ".byte 0xd4, 0x00", 0x1234, 0, 0);

    /* Memory-operand divisor. */
    volatile uint32_t zero = 0;
    uint32_t a = 7, d = 0;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "divl %2" KT_END : "+a"(a), "+d"(d) : "m"(zero) : "memory", "cc");
    kt_eq_fault(0, 0, kt_site, "de_div32_mem");
}

/* ---- BCD adjust instructions ---- */

FLAGOPA(daa_fn, "daa")
FLAGOPA(das_fn, "das")
FLAGOPA(aaa_fn, "aaa")
FLAGOPA(aas_fn, "aas")
FLAGOPA(aam_fn, "aam")
FLAGOPA(aam16_fn, "aam $16")
FLAGOPA(aad_fn, "aad")
FLAGOPA(aad7_fn, "aad $7")

/* SDM pseudo-code of DAA/DAS/AAA/AAS on AX; returns AX, flags in *fo. */
static uint32_t ref_bcd(int which, uint32_t ax, uint32_t fin, uint32_t *fo)
{
    uint32_t al = ax & 0xff, ah = (ax >> 8) & 0xff, cf = fin & FL_CF, af = fin & FL_AF;
    uint32_t old_al = al, old_cf = cf;
    switch (which) {
    case 0: /* DAA */
    case 1: /* DAS */
        cf = 0;
        if ((al & 0xf) > 9 || af) {
            uint32_t t = which == 0 ? al + 6 : al - 6;
            cf = old_cf || (t > 0xff) ? FL_CF : 0;
            al = t & 0xff;
            af = FL_AF;
        } else {
            af = 0;
        }
        if (old_al > 0x99 || old_cf) {
            al = (which == 0 ? al + 0x60 : al - 0x60) & 0xff;
            cf = FL_CF;
        } else if (which == 0) {
            cf = 0;
        }
        *fo = cf | af | szp(al, 8);
        return ah << 8 | al;
    case 2: /* AAA */
    case 3: /* AAS */
        if ((al & 0xf) > 9 || af) {
            ax = which == 2 ? ax + 0x106 : ((ax - 6) & 0xffff) - 0x100;
            *fo = FL_AF | FL_CF;
        } else {
            *fo = 0;
        }
        return ax & 0xff0f;
    }
    return 0;
}

static void bcd_tests(void)
{
    static const char *names[] = {"daa", "das", "aaa", "aas"};
    static op_fn fns[] = {daa_fn, das_fn, aaa_fn, aas_fn};
    for (int w = 0; w < 4; w++) {
        uint32_t mask = w < 2 ? (FL_CF | FL_AF | FL_SF | FL_ZF | FL_PF) : (FL_CF | FL_AF);
        unsigned bad = 0;
        char first[128] = "";
        for (uint32_t al = 0; al < 256; al++)
            for (uint32_t fl = 0; fl < 4; fl++) {
                uint32_t ax = 0x1200 | al;
                uint32_t fin = 0x2 | (fl & 1 ? FL_CF : 0) | (fl & 2 ? FL_AF : 0), fe;
                uint32_t exp = ref_bcd(w, ax, fin, &fe);
                uint32_t f = fin;
                uint32_t got = fns[w](0xabcd0000 | ax, 0, &f);
                if (got != (0xabcd0000 | exp) || ((f ^ fe) & mask))
                    if (!bad++)
                        kt_snprintf(first, sizeof(first),
                                    "ax=0x%x fl=0x%x: expected 0x%x/0x%x got 0x%x/0x%x", ax, fin,
                                    exp, fe & mask, got & 0xffff, f & mask);
            }
        if (bad)
            kt_fail(names[w], "%u mismatches, first %s", bad, first);
        else
            kt_ok(1, "%s_sweep", names[w]);
    }

    static const struct lit bcd[] = {
        {"daa_9a", daa_fn, 0x9a, 0, 0x2, 0x00, FL_CF | FL_AF | FL_ZF | FL_PF, A6 & ~FL_OF},
        {"daa_15_af", daa_fn, 0x15, 0, 0x2 | FL_AF, 0x1b, FL_AF | FL_PF, A6 & ~FL_OF},
        {"daa_00_cf", daa_fn, 0x00, 0, 0x3, 0x60, FL_CF | FL_PF, A6 & ~FL_OF},
        {"daa_fa", daa_fn, 0xfa, 0, 0x2, 0x60, FL_CF | FL_AF | FL_PF, A6 & ~FL_OF},
        {"das_ee", das_fn, 0xee, 0, 0x3 | FL_AF, 0x88, FL_CF | FL_AF | FL_SF | FL_PF, A6 & ~FL_OF},
        {"das_03_af", das_fn, 0x03, 0, 0x2 | FL_AF, 0xfd, FL_CF | FL_AF | FL_SF, A6 & ~FL_OF},
        {"das_50_cf", das_fn, 0x50, 0, 0x3, 0xf0, FL_CF | FL_SF | FL_PF, A6 & ~FL_OF},
        {"aaa_09", aaa_fn, 0x0009, 0, 0x2, 0x0009, 0, FL_CF | FL_AF},
        {"aaa_0f", aaa_fn, 0x000f, 0, 0x2, 0x0105, FL_CF | FL_AF, FL_CF | FL_AF},
        {"aaa_fa_carries_into_ah", aaa_fn, 0x00fa, 0, 0x2, 0x0200, FL_CF | FL_AF, FL_CF | FL_AF},
        {"aaa_05_af", aaa_fn, 0x0105, 0, 0x2 | FL_AF, 0x020b, FL_CF | FL_AF, FL_CF | FL_AF},
        {"aas_03_af_borrows_ah", aas_fn, 0x0203, 0, 0x2 | FL_AF, 0x000d, FL_CF | FL_AF,
         FL_CF | FL_AF},
        {"aas_09", aas_fn, 0x0109, 0, 0x2, 0x0109, 0, FL_CF | FL_AF},
        {"aas_0b", aas_fn, 0x010b, 0, 0x2, 0x0005, FL_CF | FL_AF, FL_CF | FL_AF},
        {"aam_ff", aam_fn, 0x00ff, 0, 0x2, 0x1905, FL_PF, FL_SF | FL_ZF | FL_PF},
        {"aam16_7b", aam16_fn, 0x337b, 0, 0x2, 0x070b, 0, FL_SF | FL_ZF | FL_PF},
        {"aam_0", aam_fn, 0x1200, 0, 0x2, 0x0000, FL_ZF | FL_PF, FL_SF | FL_ZF | FL_PF},
        {"aad_0905", aad_fn, 0x0905, 0, 0x2, 0x005f, FL_PF, FL_SF | FL_ZF | FL_PF},
        {"aad7_0203", aad7_fn, 0x0203, 0, 0x2, 0x0011, FL_PF, FL_SF | FL_ZF | FL_PF},
        {"aad_ffff", aad_fn, 0xffff, 0, 0x2, 0x00f5, FL_SF | FL_PF, FL_SF | FL_ZF | FL_PF},
    };
    for (unsigned i = 0; i < sizeof(bcd) / sizeof(bcd[0]); i++) {
        const struct lit *l = &bcd[i];
        uint32_t f = l->fin;
        uint32_t r = l->fn(l->a, 0, &f) & 0xffff;
        if (r != l->res || ((f ^ l->fout) & l->mask))
            kt_fail(l->name, "expected ax=0x%x flags 0x%x got ax=0x%x flags 0x%x", l->res,
                    l->fout & l->mask, r, f & l->mask);
        else
            kt_ok(1, "%s", l->name);
    }
}

/* ---- bit instructions ---- */

FLAGOP(bt32, "btl %k[b], %k[a]", "r")
FLAGOP(bts32, "btsl %k[b], %k[a]", "r")
FLAGOP(btr32, "btrl %k[b], %k[a]", "r")
FLAGOP(btc32, "btcl %k[b], %k[a]", "r")
FLAGOP(bt16, "btw %w[b], %w[a]", "r")
FLAGOP(btc16, "btcw %w[b], %w[a]", "r")
FLAGOP(bts32_imm, "btsl $35, %k[a]", "r")
FLAGOP(bsf32, "bsfl %k[b], %k[a]", "r")
FLAGOP(bsr32, "bsrl %k[b], %k[a]", "r")
FLAGOP(bsf16, "bsfw %w[b], %w[a]", "r")
FLAGOP(bsr16, "bsrw %w[b], %w[a]", "r")

uint32_t alu_bits[8];

static void bit_tests(void)
{
    static const struct lit bits[] = {
        {"bt32_reg_set", bt32, 0x00000008, 35, 0x2, 0x8, FL_CF, FL_CF | FL_ZF},
        {"bt32_reg_clear", bt32, 0xfffffff7, 3, 0x2 | FL_CF | FL_ZF, 0xfffffff7, FL_ZF,
         FL_CF | FL_ZF},
        {"bts32_reg", bts32, 0x0, 31, 0x2, 0x80000000, 0, FL_CF},
        {"btr32_reg", btr32, 0xffffffff, 64, 0x2, 0xfffffffe, FL_CF, FL_CF},
        {"btc32_reg", btc32, 0x10, 4, 0x2, 0x0, FL_CF, FL_CF},
        {"bt16_reg_mod16", bt16, 0x8000, 31, 0x2, 0x8000, FL_CF, FL_CF},
        {"btc16_reg_keeps_high", btc16, 0xffff0001, 16, 0x2, 0xffff0000, FL_CF, FL_CF},
        {"bts32_imm_mod32", bts32_imm, 0x0, 0, 0x3, 0x8, 0, FL_CF},
        {"bsf32", bsf32, 0xdead, 0x00f00000, 0x2 | FL_ZF, 20, 0, FL_ZF},
        {"bsr32", bsr32, 0xdead, 0x00f00001, 0x2 | FL_ZF, 23, 0, FL_ZF},
        {"bsf32_bit31", bsf32, 0xdead, 0x80000000, 0x2, 31, 0, FL_ZF},
        {"bsr32_bit0", bsr32, 0xdead, 1, 0x2, 0, 0, FL_ZF},
        {"bsf16", bsf16, 0x12340000, 0xff008000, 0x2, 0x1234000f, 0, FL_ZF},
        {"bsr16", bsr16, 0x12340000, 0x00010003, 0x2, 0x12340001, 0, FL_ZF},
    };
    for (unsigned i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        const struct lit *l = &bits[i];
        uint32_t f = l->fin;
        uint32_t r = l->fn(l->a, l->b, &f);
        if (r != l->res || ((f ^ l->fout) & l->mask))
            kt_fail(l->name, "expected 0x%x flags 0x%x got 0x%x flags 0x%x", l->res,
                    l->fout & l->mask, r, f & l->mask);
        else
            kt_ok(1, "%s", l->name);
    }
    /* Zero source: ZF=1, destination undefined (not checked). */
    uint32_t f = 0x2;
    bsf32(0, 0, &f);
    kt_eq_flags(f, FL_ZF, FL_ZF, "bsf32_zero_zf");
    f = 0x2;
    bsr16(0, 0xffff0000, &f);
    kt_eq_flags(f, FL_ZF, FL_ZF, "bsr16_zero_zf");

    /* Memory forms with a register offset address bits outside the addressed dword: the
     * offset is signed and selects dword base + 4 * (offset >> 5) (SDM BT, "bit base"). */
    static const struct {
        const char *name;
        int op; /* 0 bt, 1 bts, 2 btr, 3 btc */
        int32_t off;
        int word, cf, idx;
        uint32_t after;
    } mem[] = {
        {"bts_mem_off100", 1, 100, 1, 0, 7, 0x00000010},
        {"bt_mem_off100_set", 0, 100, 0, 1, 7, 0x00000010},
        {"btr_mem_off100", 2, 100, 0, 1, 7, 0},
        {"bts_mem_off_m1", 1, -1, 0, 0, 3, 0x80000000},
        {"btc_mem_off_m1", 3, -1, 0, 1, 3, 0},
        {"bts_mem_off_m100", 1, -100, 0, 0, 0, 0x10000000},
        {"bt_mem_off_31", 0, 31, 0, 1, 4, 0x80000000},
        {"btsw_mem_off_m1", 1, -1, 1, 0, 3, 0x80000000},
    };
    alu_bits[4] = 0x80000000;
    for (unsigned i = 0; i < sizeof(mem) / sizeof(mem[0]); i++) {
        uint32_t fl = 0x2 | (mem[i].cf ? 0 : FL_CF);
        uint32_t off = (uint32_t)mem[i].off;
        uint32_t *base = &alu_bits[4];
        if (mem[i].word) {
            __asm__ volatile("push %0\n\tpopf\n\tbtsw %w1, (%2)\n\tpushf\n\tpop %0"
                             : "+r"(fl)
                             : "r"(off), "r"(base)
                             : "memory", "cc");
        } else {
            switch (mem[i].op) {
            case 0:
                __asm__ volatile("push %0\n\tpopf\n\tbtl %1, (%2)\n\tpushf\n\tpop %0"
                                 : "+r"(fl)
                                 : "r"(off), "r"(base)
                                 : "memory", "cc");
                break;
            case 1:
                __asm__ volatile("push %0\n\tpopf\n\tbtsl %1, (%2)\n\tpushf\n\tpop %0"
                                 : "+r"(fl)
                                 : "r"(off), "r"(base)
                                 : "memory", "cc");
                break;
            case 2:
                __asm__ volatile("push %0\n\tpopf\n\tbtrl %1, (%2)\n\tpushf\n\tpop %0"
                                 : "+r"(fl)
                                 : "r"(off), "r"(base)
                                 : "memory", "cc");
                break;
            case 3:
                __asm__ volatile("push %0\n\tpopf\n\tbtcl %1, (%2)\n\tpushf\n\tpop %0"
                                 : "+r"(fl)
                                 : "r"(off), "r"(base)
                                 : "memory", "cc");
                break;
            }
        }
        kt_ok((fl & FL_CF ? 1 : 0) == mem[i].cf && alu_bits[mem[i].idx] == mem[i].after, "%s",
              mem[i].name);
    }
    /* Immediate offsets are taken modulo the operand size: no displacement. */
    alu_bits[4] = 0;
    alu_bits[5] = 0;
    __asm__ volatile("btsl $36, %0" : "+m"(alu_bits[4]) : : "cc");
    __asm__ volatile("btsw $20, %0" : "+m"(*(uint16_t *)&alu_bits[5]) : : "cc");
    kt_ok(alu_bits[4] == 0x10 && alu_bits[5] == 0x10 && alu_bits[6] == 0, "bts_mem_imm_masked");
}

/* ---- exchange, compare-and-exchange, byte swap ---- */

static void xchg_tests(void)
{
    uint32_t a = 0x12345678, b = 0x9abcdef0, f = 0x2;
    __asm__ volatile("bswap %0" : "+r"(a));
    kt_eq(a, 0x78563412, "bswap32");

    a = 0x11111111;
    __asm__ volatile("xchgl %0, %1" : "+r"(a), "+r"(b));
    kt_ok(a == 0x9abcdef0 && b == 0x11111111, "xchg32_reg");
    volatile uint32_t m = 0xcafe;
    a = 0xbeef;
    __asm__ volatile("xchgl %0, %1" : "+r"(a), "+m"(m) : : "memory");
    kt_ok(a == 0xcafe && m == 0xbeef, "xchg32_mem");
    a = 0xaaaa1234;
    b = 0xbbbb5678;
    __asm__ volatile("xchgb %b0, %h1" : "+q"(a), "+Q"(b));
    kt_ok(a == 0xaaaa1256 && b == 0xbbbb3478, "xchg8_al_ah");

    /* XADD: dest = dest + src, src = old dest; flags as ADD. */
    a = 0x7fffffff;
    b = 1;
    __asm__ volatile("push %2\n\tpopf\n\txaddl %1, %0\n\tpushf\n\tpop %2"
                     : "+r"(a), "+r"(b), "+r"(f)
                     :
                     : "cc");
    kt_ok(a == 0x80000000 && b == 0x7fffffff, "xadd32_values");
    kt_eq_flags(f, FL_OF | FL_SF | FL_AF | FL_PF, FL_ARITH, "xadd32_flags");
    m = 0xff;
    b = 0x01;
    f = 0x2;
    __asm__ volatile("push %2\n\tpopf\n\txaddb %b1, %0\n\tpushf\n\tpop %2"
                     : "+m"(*(volatile uint8_t *)&m), "+q"(b), "+r"(f)
                     :
                     : "cc", "memory");
    kt_ok(m == 0x00 && b == 0xff, "xadd8_mem_values");
    kt_eq_flags(f, FL_CF | FL_ZF | FL_AF | FL_PF, FL_ARITH, "xadd8_mem_flags");

    /* CMPXCHG: equal -> ZF=1 and dest = src; else ZF=0 and EAX = dest. Flags as CMP EAX,dest. */
    uint32_t eax = 5, d = 5, s = 9;
    f = 0x2;
    __asm__ volatile("push %3\n\tpopf\n\tcmpxchgl %2, %1\n\tpushf\n\tpop %3"
                     : "+a"(eax), "+r"(d), "+r"(s), "+r"(f)
                     :
                     : "cc");
    kt_ok(eax == 5 && d == 9, "cmpxchg32_equal_values");
    kt_eq_flags(f, FL_ZF | FL_PF, FL_ARITH, "cmpxchg32_equal_flags");
    eax = 4;
    d = 5;
    f = 0x2;
    __asm__ volatile("push %3\n\tpopf\n\tcmpxchgl %2, %1\n\tpushf\n\tpop %3"
                     : "+a"(eax), "+r"(d), "+r"(s), "+r"(f)
                     :
                     : "cc");
    kt_ok(eax == 5 && d == 5, "cmpxchg32_differ_values");
    kt_eq_flags(f, FL_CF | FL_SF | FL_AF | FL_PF, FL_ARITH, "cmpxchg32_differ_flags");
    eax = 0xffffff80;
    m = 0x1280;
    s = 0x7f;
    __asm__ volatile("cmpxchgb %b1, %0"
                     : "+m"(*(volatile uint8_t *)&m), "+q"(s), "+a"(eax)
                     :
                     : "cc");
    kt_ok(m == 0x127f && eax == 0xffffff80, "cmpxchg8_mem_equal");
    eax = 0xffff0001;
    m = 0x00020003;
    __asm__ volatile("cmpxchgw %w1, %0"
                     : "+m"(*(volatile uint16_t *)&m), "+r"(s), "+a"(eax)
                     :
                     : "cc");
    kt_ok(m == 0x00020003 && eax == 0xffff0003, "cmpxchg16_mem_differ");

    /* CMPXCHG8B: EDX:EAX vs m64; only ZF changes. */
    volatile uint64_t q = 0x1122334455667788ull;
    uint32_t lo = 0x55667788, hi = 0x11223344, bl = 0xaaaaaaaa, ch = 0xbbbbbbbb;
    f = 0x2 | FL_CF | FL_SF;
    __asm__ volatile("push %4\n\tpopf\n\tcmpxchg8b %5\n\tpushf\n\tpop %4"
                     : "+a"(lo), "+d"(hi), "+b"(bl), "+c"(ch), "+r"(f), "+m"(q)
                     :
                     : "cc", "memory");
    kt_ok(q == 0xbbbbbbbbaaaaaaaaull && lo == 0x55667788 && hi == 0x11223344, "cmpxchg8b_equal");
    kt_eq_flags(f, FL_ZF | FL_CF | FL_SF, FL_ARITH, "cmpxchg8b_equal_flags");
    lo = 0;
    hi = 0;
    f = 0x2 | FL_ZF;
    __asm__ volatile("push %4\n\tpopf\n\tcmpxchg8b %5\n\tpushf\n\tpop %4"
                     : "+a"(lo), "+d"(hi), "+b"(bl), "+c"(ch), "+r"(f), "+m"(q)
                     :
                     : "cc", "memory");
    kt_ok(q == 0xbbbbbbbbaaaaaaaaull && lo == 0xaaaaaaaa && hi == 0xbbbbbbbb, "cmpxchg8b_differ");
    kt_eq_flags(f, 0, FL_ZF, "cmpxchg8b_differ_zf");
    /* A register operand is not encodable: 0f c7 /1 with mod=3 is #UD. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0x0f, 0xc7, 0xc8" KT_END ::: "memory");
    kt_eq_fault(6, 0, kt_site, "cmpxchg8b_reg_ud");
}

/* ---- conditions: SETcc, CMOVcc, Jcc rel8 and rel32 ---- */

#define CC_LIST(X)                                                                                 \
    X(0, "o")                                                                                      \
    X(1, "no") X(2, "b") X(3, "ae") X(4, "e") X(5, "ne") X(6, "be") X(7, "a") X(8, "s") X(9, "ns") \
        X(10, "p") X(11, "np") X(12, "l") X(13, "ge") X(14, "le") X(15, "g")
static const char *cc_names[16] = {"o", "no", "b", "ae", "e", "ne", "be", "a",
                                   "s", "ns", "p", "np", "l", "ge", "le", "g"};

static int cc_eval(int cc, uint32_t f)
{
    int cf = !!(f & FL_CF), zf = !!(f & FL_ZF), sf = !!(f & FL_SF), of = !!(f & FL_OF),
        pf = !!(f & FL_PF), r = 0;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    case 7: r = zf || sf != of; break;
    }
    return (cc & 1) ? !r : r;
}

static uint32_t run_cc(int kind, int cc, uint32_t f)
{
    uint32_t r = 0x55, d = 0x1111, s = 0x2222;
    switch (kind * 16 + cc) {
#define SET(n, c)                                                                                  \
    case n:                                                                                        \
        __asm__ volatile("push %1\n\tpopf\n\tset" c " %b0" : "+q"(r) : "r"(f) : "cc");             \
        break;
#define CMOV(n, c)                                                                                 \
    case 16 + n:                                                                                   \
        __asm__ volatile("push %1\n\tpopf\n\tcmov" c "l %2, %0"                                    \
                         : "+r"(d)                                                                 \
                         : "r"(f), "r"(s)                                                          \
                         : "cc");                                                                  \
        r = d;                                                                                     \
        break;
#define J8(n, c)                                                                                   \
    case 32 + n:                                                                                   \
        r = 1;                                                                                     \
        __asm__ volatile("push %1\n\tpopf\n\tj" c " 1f\n\tmovl $0, %0\n1:"                         \
                         : "+r"(r)                                                                 \
                         : "r"(f)                                                                  \
                         : "cc");                                                                  \
        break;
#define J32(n, c)                                                                                  \
    case 48 + n:                                                                                   \
        r = 1;                                                                                     \
        __asm__ volatile("push %1\n\tpopf\n\tj" c " 1f\n\tmovl $0, %0\n\t.fill 160, 1, 0x90\n1:"   \
                         : "+r"(r)                                                                 \
                         : "r"(f)                                                                  \
                         : "cc");                                                                  \
        break;
        CC_LIST(SET)
        CC_LIST(CMOV)
        CC_LIST(J8)
        CC_LIST(J32)
    }
    if (kind == 0) return r & 0xff;
    if (kind == 1) return r == 0x2222 ? 1 : r == 0x1111 ? 0 : 0xbad;
    return r;
}

static void cc_tests(void)
{
    static const char *kinds[] = {"set", "cmov", "j8_", "j32_"};
    for (int kind = 0; kind < 4; kind++)
        for (int cc = 0; cc < 16; cc++) {
            unsigned bad = 0;
            uint32_t first = 0;
            for (uint32_t combo = 0; combo < 32; combo++) {
                uint32_t f = 0x2 | (combo & 1 ? FL_CF : 0) | (combo & 2 ? FL_PF : 0) |
                             (combo & 4 ? FL_ZF : 0) | (combo & 8 ? FL_SF : 0) |
                             (combo & 16 ? FL_OF : 0);
                if (run_cc(kind, cc, f) != (uint32_t)cc_eval(cc, f) && !bad++) first = f;
            }
            if (bad)
                kt_fail("cc", "%s%s: %u wrong flag combinations, first flags 0x%x", kinds[kind],
                        cc_names[cc], bad, first);
            else
                kt_ok(1, "%s%s", kinds[kind], cc_names[cc]);
        }
    /* CMOV with a false condition still reads its memory operand, but writes nothing. */
    volatile uint32_t m = 0x77;
    uint32_t d = 0xabcdef01;
    __asm__ volatile("xorl %%eax, %%eax\n\tcmovnel %1, %0" : "+r"(d) : "m"(m) : "eax", "cc");
    kt_eq(d, 0xabcdef01, "cmov_false_keeps_dest");

    /* LOOP/LOOPE/LOOPNE/JECXZ: ECX counts down without touching the flags. */
    uint32_t c = 5, n = 0, f = 0;
    __asm__ volatile("1:\n\tincl %1\n\tloop 1b\n\tpushf\n\tpop %2"
                     : "+c"(c), "+r"(n), "=r"(f)
                     :
                     : "cc");
    kt_ok(c == 0 && n == 5, "loop_count");
    c = 10;
    n = 0;
    __asm__ volatile("1:\n\tincl %1\n\tcmpl $3, %1\n\tloopne 1b" : "+c"(c), "+r"(n) : : "cc");
    kt_ok(c == 7 && n == 3, "loopne_stops_on_equal");
    c = 10;
    n = 0;
    __asm__ volatile("1:\n\tincl %1\n\tcmpl $1, %1\n\tloope 1b" : "+c"(c), "+r"(n) : : "cc");
    kt_ok(c == 8 && n == 2, "loope_stops_on_differ");
    c = 0;
    n = 0;
    __asm__ volatile("jecxz 1f\n\tmovl $1, %1\n1:" : "+c"(c), "+r"(n));
    kt_eq(n, 0, "jecxz_taken");
    c = 0x10000;
    __asm__ volatile("jcxz 1f\n\tmovl $1, %1\n1:" : "+c"(c), "+r"(n));
    kt_eq(n, 0, "jcxz_a16_taken");
}

/* ---- moves, extensions, LEA, XLAT ---- */

static void move_tests(void)
{
    uint32_t r, s = 0x12348081;
    __asm__ volatile("movzbl %b1, %0" : "=r"(r) : "q"(s));
    kt_eq(r, 0x81, "movzx_b32");
    __asm__ volatile("movsbl %b1, %0" : "=r"(r) : "q"(s));
    kt_eq(r, 0xffffff81, "movsx_b32");
    __asm__ volatile("movzwl %w1, %0" : "=r"(r) : "r"(s));
    kt_eq(r, 0x8081, "movzx_w32");
    __asm__ volatile("movswl %w1, %0" : "=r"(r) : "r"(s));
    kt_eq(r, 0xffff8081, "movsx_w32");
    r = 0xaaaaaaaa;
    __asm__ volatile("movsbw %b1, %w0" : "+r"(r) : "q"(s));
    kt_eq(r, 0xaaaaff81, "movsx_b16");
    r = 0xaaaaaaaa;
    __asm__ volatile("movzbw %b1, %w0" : "+r"(r) : "q"(s));
    kt_eq(r, 0xaaaa0081, "movzx_b16");
    volatile uint8_t mb = 0x7f;
    __asm__ volatile("movsbl %1, %0" : "=r"(r) : "m"(mb));
    kt_eq(r, 0x7f, "movsx_mem_positive");

    uint32_t a = 0x12345680, d = 0x5555;
    __asm__ volatile("cbtw" : "+a"(a));
    kt_eq(a, 0x1234ff80, "cbw");
    a = 0x12348000;
    __asm__ volatile("cwtl" : "+a"(a));
    kt_eq(a, 0xffff8000, "cwde");
    a = 0x00008000;
    d = 0x12345678;
    __asm__ volatile("cwtd" : "+a"(a), "+d"(d));
    kt_ok(a == 0x8000 && d == 0x1234ffff, "cwd");
    a = 0x7fffffff;
    d = 0x12345678;
    __asm__ volatile("cltd" : "+a"(a), "+d"(d));
    kt_eq(d, 0, "cdq_positive");
    a = 0x80000000;
    __asm__ volatile("cltd" : "+a"(a), "+d"(d));
    kt_eq(d, 0xffffffff, "cdq_negative");

    uint32_t b = 0x1000, i = 3;
    __asm__ volatile("leal 0x10(%1,%2,4), %0" : "=r"(r) : "r"(b), "r"(i));
    kt_eq(r, 0x101c, "lea_sib");
    __asm__ volatile("leal -1(%1,%1,8), %0" : "=r"(r) : "r"(b));
    kt_eq(r, 0x8fff, "lea_scale8_neg_disp");
    r = 0xdddddddd;
    b = 0x1fff0;
    __asm__ volatile("leaw 0x20(%1), %w0" : "+r"(r) : "r"(b));
    kt_eq(r, 0xdddd0010, "lea_opsize16_truncates");
    uint32_t bx = 0xfff0, si = 0x20;
    __asm__ volatile("addr16 leal 0x4(%%bx,%%si), %0" : "=r"(r) : "b"(bx), "S"(si));
    kt_eq(r, 0x14, "lea_addr16_wraps");

    static uint8_t table[256];
    for (int k = 0; k < 256; k++)
        table[k] = (uint8_t)(k ^ 0xa5);
    a = 0x12345633;
    __asm__ volatile("xlat" : "+a"(a) : "b"(table));
    kt_eq(a, 0x12345600 | (0x33 ^ 0xa5), "xlat");
    a = 0xff;
    __asm__ volatile("xlat" : "+a"(a) : "b"(table));
    kt_eq(a, 0xff ^ 0xa5, "xlat_al_unsigned");
}

/* ---- stack: PUSH/POP corner cases, PUSHA/POPA, ENTER/LEAVE ---- */

/* The sequences below switch ESP to this private stack, so they use only registers and
 * absolute addresses, never compiler-chosen (possibly ESP-relative) memory operands. */
uint32_t alu_stack[64];
uint32_t alu_save_esp, alu_save_ebp, alu_out[8];
#define STK_TOP ((uint32_t)&alu_stack[64])

static void stack_tests(void)
{
    uint32_t r, e;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "pushl %%esp\n\tpopl %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_eq(r, STK_TOP, "push_esp_pushes_old_value");

    alu_stack[62] = 0x11111111;
    alu_stack[63] = 0x22222222;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+248, %%esp\n\t"
                     "popl (%%esp)\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_ok(r == STK_TOP - 4 && alu_stack[63] == 0x11111111, "pop_mem_esp_uses_new_esp");

    alu_stack[60] = 0x33333333;
    alu_stack[61] = 0x44444444;
    alu_stack[62] = 0x55555555;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+240, %%esp\n\t"
                     "popl 4(%%esp)\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_ok(r == STK_TOP - 12 && alu_stack[62] == 0x33333333 && alu_stack[61] == 0x44444444,
          "pop_mem_esp_disp");

    alu_stack[63] = 0xabcdef00;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+252, %%esp\n\t"
                     "popl %%esp\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_eq(r, 0xabcdef00, "pop_esp_loads_value");

    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "pushl $-2\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_ok(r == STK_TOP - 4 && alu_stack[63] == 0xfffffffe, "push_imm8_sign_extends");

    alu_stack[63] = 0;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "pushw $0x1234\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_ok(r == STK_TOP - 2 && alu_stack[63] == 0x12340000, "pushw_imm_two_bytes");

    alu_stack[63] = 0xffffffff;
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "pushl %%ds\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r)
                     :
                     : "memory");
    kt_ok(r == STK_TOP - 4 && (alu_stack[63] & 0xffff) == KT_DS, "push_sreg32");
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "pushw %%ss\n\tpopw %%ax\n\tmovl %%esp, %0\n\tmovl alu_save_esp, %%esp"
                     : "=r"(r), "=a"(e)
                     :
                     : "memory");
    kt_ok(r == STK_TOP && (e & 0xffff) == KT_DS, "push_pop_sreg16");

    /* PUSHA order: EAX ECX EDX EBX (original ESP) EBP ESI EDI. */
    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl %%ebp, alu_save_ebp\n\t"
                     "movl $alu_stack+256, %%esp\n\t"
                     "movl $1, %%eax\n\tmovl $2, %%ecx\n\tmovl $3, %%edx\n\tmovl $4, %%ebx\n\t"
                     "movl $5, %%ebp\n\tmovl $6, %%esi\n\tmovl $7, %%edi\n\t"
                     "pushal\n\tmovl %%esp, alu_out\n\t"
                     "movl alu_save_esp, %%esp\n\tmovl alu_save_ebp, %%ebp"
                     :
                     :
                     : "eax", "ecx", "edx", "ebx", "esi", "edi", "memory");
    kt_ok(alu_out[0] == STK_TOP - 32 && alu_stack[63] == 1 && alu_stack[62] == 2 &&
              alu_stack[61] == 3 && alu_stack[60] == 4 && alu_stack[59] == STK_TOP &&
              alu_stack[58] == 5 && alu_stack[57] == 6 && alu_stack[56] == 7,
          "pushad_layout");

    for (int k = 0; k < 8; k++)
        alu_stack[56 + k] = 0x100 + k; /* EDI ESI EBP (ESP) EBX EDX ECX EAX */
    __asm__ volatile(
        "movl %%esp, alu_save_esp\n\tmovl %%ebp, alu_save_ebp\n\t"
        "movl $alu_stack+224, %%esp\n\tpopal\n\t"
        "movl %%eax, alu_out\n\tmovl %%ecx, alu_out+4\n\tmovl %%edx, alu_out+8\n\t"
        "movl %%ebx, alu_out+12\n\tmovl %%esp, alu_out+16\n\t"
        "movl %%ebp, alu_out+20\n\tmovl %%esi, alu_out+24\n\tmovl %%edi, alu_out+28\n\t"
        "movl alu_save_esp, %%esp\n\tmovl alu_save_ebp, %%ebp"
        :
        :
        : "eax", "ecx", "edx", "ebx", "esi", "edi", "memory");
    kt_ok(alu_out[0] == 0x107 && alu_out[1] == 0x106 && alu_out[2] == 0x105 &&
              alu_out[3] == 0x104 && alu_out[4] == STK_TOP && alu_out[5] == 0x102 &&
              alu_out[6] == 0x101 && alu_out[7] == 0x100,
          "popad_skips_esp");

    __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl $alu_stack+256, %%esp\n\t"
                     "movl $0x11112222, %%eax\n\tpushaw\n\tmovl %%esp, alu_out\n\t"
                     "movl alu_save_esp, %%esp"
                     :
                     :
                     : "eax", "memory");
    kt_ok(alu_out[0] == STK_TOP - 16 && (alu_stack[63] >> 16) == 0x2222 &&
              (alu_stack[61] >> 16) == (STK_TOP & 0xffff),
          "pushaw_layout");

    /* ENTER size, level: level 0, 1, and 3 (copies level-1 frame pointers from the old
     * frame, then pushes the new frame pointer); LEAVE undoes it. */
    static const struct {
        const char *name;
        int level;
    } lv[] = {{"enter_level0", 0}, {"enter_level1", 1}, {"enter_level3", 3}};
    uint32_t old_frame[4] = {0xf0f0f0f0, 0xa1a1a1a1, 0xb2b2b2b2, 0xc3c3c3c3};
    uint32_t fake_ebp = (uint32_t)&old_frame[3];
    for (int k = 0; k < 3; k++) {
        memset(alu_stack, 0, sizeof(alu_stack));
        if (lv[k].level == 0)
            __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl %%ebp, alu_save_ebp\n\t"
                             "movl $alu_stack+256, %%esp\n\tmovl %0, %%ebp\n\tenter $16, $0\n\t"
                             "movl %%esp, alu_out\n\tmovl %%ebp, alu_out+4\n\tleave\n\t"
                             "movl %%esp, alu_out+8\n\tmovl %%ebp, alu_out+12\n\t"
                             "movl alu_save_esp, %%esp\n\tmovl alu_save_ebp, %%ebp"
                             :
                             : "r"(fake_ebp)
                             : "memory");
        else if (lv[k].level == 1)
            __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl %%ebp, alu_save_ebp\n\t"
                             "movl $alu_stack+256, %%esp\n\tmovl %0, %%ebp\n\tenter $16, $1\n\t"
                             "movl %%esp, alu_out\n\tmovl %%ebp, alu_out+4\n\tleave\n\t"
                             "movl %%esp, alu_out+8\n\tmovl %%ebp, alu_out+12\n\t"
                             "movl alu_save_esp, %%esp\n\tmovl alu_save_ebp, %%ebp"
                             :
                             : "r"(fake_ebp)
                             : "memory");
        else
            __asm__ volatile("movl %%esp, alu_save_esp\n\tmovl %%ebp, alu_save_ebp\n\t"
                             "movl $alu_stack+256, %%esp\n\tmovl %0, %%ebp\n\tenter $16, $3\n\t"
                             "movl %%esp, alu_out\n\tmovl %%ebp, alu_out+4\n\tleave\n\t"
                             "movl %%esp, alu_out+8\n\tmovl %%ebp, alu_out+12\n\t"
                             "movl alu_save_esp, %%esp\n\tmovl alu_save_ebp, %%ebp"
                             :
                             : "r"(fake_ebp)
                             : "memory");
        int L = lv[k].level;
        uint32_t frame = STK_TOP - 4;
        uint32_t exp_esp = frame - (L ? 4 * L : 0) - 16;
        int ok = alu_out[0] == exp_esp && alu_out[1] == frame && alu_stack[63] == fake_ebp;
        if (L >= 1) ok = ok && alu_stack[63 - L] == frame;
        for (int j = 1; j < L; j++)
            ok = ok && alu_stack[63 - j] == old_frame[3 - j];
        ok = ok && alu_out[2] == STK_TOP && alu_out[3] == fake_ebp;
        if (ok)
            kt_ok(1, "%s", lv[k].name);
        else
            kt_fail(lv[k].name,
                    "esp 0x%x ebp 0x%x (expected 0x%x 0x%x), after leave 0x%x 0x%x, "
                    "stack %x %x %x %x",
                    alu_out[0], alu_out[1], exp_esp, frame, alu_out[2], alu_out[3], alu_stack[63],
                    alu_stack[62], alu_stack[61], alu_stack[60]);
    }
}

/* ---- BOUND ---- */

static void bound_tests(void)
{
    static const int32_t bounds[2] = {-5, 10};
    static const int16_t bounds16[2] = {100, 200};
    uint32_t idx = 10;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundl %0, %1" KT_END : : "r"(idx), "m"(bounds) : "memory");
    kt_no_fault("bound_upper_inclusive");
    idx = (uint32_t)-5;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundl %0, %1" KT_END : : "r"(idx), "m"(bounds) : "memory");
    kt_no_fault("bound_lower_inclusive_signed");
    idx = 11;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundl %0, %1" KT_END : : "r"(idx), "m"(bounds) : "memory");
    kt_eq_fault(5, 0, kt_site, "bound_above_br");
    idx = (uint32_t)-6;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundl %0, %1" KT_END : : "r"(idx), "m"(bounds) : "memory");
    kt_eq_fault(5, 0, kt_site, "bound_below_br");
    idx = 0xffff0096; /* low word 150 is inside [100, 200] */
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundw %w0, %1" KT_END : : "r"(idx), "m"(bounds16) : "memory");
    kt_no_fault("bound16_inside");
    idx = 99;
    kt_fault_reset();
    __asm__ volatile(KT_TRY "boundw %w0, %1" KT_END : : "r"(idx), "m"(bounds16) : "memory");
    kt_eq_fault(5, 0, kt_site, "bound16_below_br");
    /* BOUND with a register second operand (62 /r, mod=3) is #UD. */
    kt_fault_reset();
    __asm__ volatile(KT_TRY ".byte 0x62, 0xc1" KT_END ::: "memory");
    kt_eq_fault(6, 0, kt_site, "bound_reg_ud");
}

/* ---- EFLAGS: PUSHF/POPF, LAHF/SAHF, CLC/STC/CMC/CLD/STD ---- */

static void eflags_tests(void)
{
    uint32_t saved = read_eflags();
    /* At CPL 0 POPF may change every flag except RF (cleared), VM, VIF, VIP (unchanged) and
     * the reserved bits; TF stays clear so nothing traps. */
    write_eflags(0xfffffeffu);
    uint32_t got = read_eflags();
    write_eflags(saved);
    kt_eq(got, 0x00247ed7, "popf_cpl0_all_ones");
    write_eflags(0);
    got = read_eflags();
    write_eflags(saved);
    kt_eq(got, 0x2, "popf_zero_keeps_bit1");
    /* POPFW only loads the low 16 bits. */
    uint32_t hi = FL_AC | FL_ID;
    write_eflags(0x2 | hi);
    __asm__ volatile("pushw $0x08d5\n\tpopfw" ::: "cc");
    got = read_eflags();
    write_eflags(saved);
    kt_eq(got, 0x8d7 | hi, "popfw_low_half_only");
    uint16_t w;
    write_eflags(0x2 | FL_CF | FL_AC);
    __asm__ volatile("pushfw\n\tpopw %0" : "=r"(w));
    write_eflags(saved);
    kt_eq(w, 0x3, "pushfw_low_half");

    uint32_t a = 0xffff0000;
    write_eflags(0x2 | FL_ARITH);
    __asm__ volatile("lahf" : "+a"(a));
    write_eflags(saved);
    kt_eq(a, 0xffffd700, "lahf_all_set");
    a = 0x1234;
    write_eflags(0x2);
    __asm__ volatile("lahf" : "+a"(a));
    write_eflags(saved);
    kt_eq(a, 0x0234, "lahf_clear");
    a = 0xff00;
    write_eflags(0x2 | FL_OF);
    __asm__ volatile("sahf" : : "a"(a) : "cc");
    got = read_eflags();
    write_eflags(saved);
    kt_eq_flags(got, FL_ARITH, FL_ARITH | 0x28, "sahf_all_keeps_of");
    a = 0x2a00;
    write_eflags(0x2 | FL_ARITH);
    __asm__ volatile("sahf" : : "a"(a) : "cc");
    got = read_eflags();
    write_eflags(saved);
    kt_eq_flags(got, FL_OF, FL_ARITH | 0x28, "sahf_none_reserved_ignored");

    uint32_t f1, f2, f3;
    __asm__ volatile(
        "stc\n\tpushf\n\tpop %0\n\tcmc\n\tpushf\n\tpop %1\n\tcmc\n\tclc\n\tpushf\n\tpop %2"
        : "=r"(f1), "=r"(f2), "=r"(f3)
        :
        : "cc");
    kt_ok((f1 & FL_CF) && !(f2 & FL_CF) && !(f3 & FL_CF), "stc_cmc_clc");
    __asm__ volatile("std\n\tpushf\n\tpop %0\n\tcld\n\tpushf\n\tpop %1" : "=r"(f1), "=r"(f2));
    kt_ok((f1 & FL_DF) && !(f2 & FL_DF), "std_cld");
}

void test_main(void)
{
    sweep_alu();
    literal_tests();
    sweep_shifts();
    mul_tests();
    div_faults();
    bcd_tests();
    bit_tests();
    xchg_tests();
    cc_tests();
    move_tests();
    stack_tests();
    bound_tests();
    eflags_tests();
}
