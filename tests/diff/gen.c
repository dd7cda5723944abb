/* Differential CPU tests: generates the case file. Deterministic (fixed seed): every group first
 * sweeps its instruction forms one instruction per case, then adds random sequences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

#define SEED 0x6b657374u

typedef struct Gen {
    uint64_t rng;
    DiffCase *c;
    uint8_t win[DIFF_WIN_SIZE]; /* the seeded window, so memory operands can be read back */
    int npatch;
    uint32_t reserved;  /* 32-bit registers no instruction may write */
    int preg, xreg;     /* base and index register for memory operands, -1 if none */
    unsigned poff;      /* window offset preg points at */
    uint32_t xval;      /* value of xreg */
    int first;          /* the next instruction is the first, so initial registers still hold */
    uint32_t undef;     /* flags the SDM leaves undefined so far */
    uint32_t undef_any; /* flags undefined at any instruction boundary (for faulting cases) */
    int model;          /* holds an instruction whose undefined flags vary by AMD generation */
    int tainted;
} Gen;

typedef struct Opnd {
    int mem;
    int reg;
    unsigned off; /* window offset of a memory operand */
} Opnd;

/* ---- randomness ---- */

static uint32_t rnd32(Gen *g)
{
    uint64_t z = (g->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return (uint32_t)((z ^ (z >> 31)) >> 16);
}

static uint32_t rnd(Gen *g, uint32_t n)
{
    return rnd32(g) % n;
}

static int chance(Gen *g, unsigned pct)
{
    return rnd(g, 100) < pct;
}

static const uint32_t edges[] = {
    0,          1,          2,          0x7f,       0x80,       0x81,       0xff,
    0x100,      0x7fff,     0x8000,     0x8001,     0xffff,     0x10000,    0x7fffffff,
    0x80000000, 0x80000001, 0xffffffff, 0xfffffffe, 0xffff8000, 0xffffff80, 0x0000ff00,
};
static const uint8_t edges8[] = {0, 1, 2, 0x7f, 0x80, 0x81, 0xff, 0xfe, 0x0f, 0x10, 0x99, 0x09};

/* Register values biased toward the edges where flags change, in all three widths. */
static uint32_t edge_val(Gen *g)
{
    uint32_t r = rnd32(g);
    switch (rnd(g, 10)) {
    case 0:
    case 1:
    case 2: return edges[rnd(g, sizeof(edges) / sizeof(edges[0]))];
    case 3: return (r & 0xffffff00) | edges8[rnd(g, sizeof(edges8))];
    case 4: return (r & 0xffff0000) | (edges[rnd(g, sizeof(edges) / sizeof(edges[0]))] & 0xffff);
    case 5: return rnd(g, 41);
    default: return r;
    }
}

static uint32_t mask_of(int size)
{
    return size == 32 ? 0xffffffffu : (1u << size) - 1;
}

/* ---- code emission ---- */

static int room(Gen *g, int n)
{
    return g->c->code_len + n <= DIFF_CODE_MAX;
}

static void emit8(Gen *g, uint32_t b)
{
    if (g->c->code_len >= DIFF_CODE_MAX) {
        fprintf(stderr, "gen: case too long\n");
        exit(1);
    }
    g->c->code[g->c->code_len++] = (uint8_t)b;
}

static void emit_imm(Gen *g, int size, uint32_t v)
{
    for (int i = 0; i < size / 8; i++)
        emit8(g, v >> (8 * i));
}

static void opsize(Gen *g, int size)
{
    if (size == 16) emit8(g, 0x66);
}

static void lock_maybe(Gen *g)
{
    if (chance(g, 12)) emit8(g, 0xf0);
}

/* Segment overrides other than FS/GS: all flat on both sides, and they exercise prefix decode.
 * CS is left out because memory destinations must stay writable. */
static void seg_maybe(Gen *g)
{
    static const uint8_t segs[] = {0x26, 0x36, 0x3e};
    if (chance(g, 6)) emit8(g, segs[rnd(g, 3)]);
}

/* Flag bookkeeping for hosts whose undefined flags we do not model (see compare.c). */
static void fl(Gen *g, uint32_t reads, uint32_t writes, uint32_t undef)
{
    if (g->undef & reads) g->tainted = 1;
    g->undef = (g->undef & ~writes & ~undef) | undef;
    g->undef_any |= g->undef;
}

static void done(Gen *g)
{
    g->c->ninsn++;
    g->first = 0;
}

/* ---- operands ---- */

static int writable(Gen *g, int reg, int size)
{
    int full = size == 8 ? (reg & 3) : reg;
    return !(g->reserved & (1u << full));
}

static int pick_wreg(Gen *g, int size)
{
    for (;;) {
        int r = (int)rnd(g, 8);
        if (writable(g, r, size)) return r;
    }
}

static int pick_rreg(Gen *g, int size)
{
    for (;;) {
        int r = (int)rnd(g, 8);
        if (size == 8 || r != ESP) return r;
    }
}

static unsigned pick_off(Gen *g, int size)
{
    return DIFF_BUF_OFF + rnd(g, DIFF_BUF_SIZE - size / 8 + 1);
}

static Opnd opnd(Gen *g, int size, int mem, int write)
{
    Opnd o = {mem, 0, 0};
    if (mem)
        o.off = pick_off(g, size);
    else
        o.reg = write ? pick_wreg(g, size) : pick_rreg(g, size);
    return o;
}

static int fits8(int v)
{
    return v >= -128 && v <= 127;
}

static void emit_disp32_abs(Gen *g, unsigned off, uint32_t minus)
{
    emit_imm(g, 32, DIFF_DATA + off - minus);
}

/* Emits ModRM (+SIB, displacement) for the memory byte at window offset off, picking one of
 * several addressing forms that reach it through the case's base/index registers. */
static void emit_mem(Gen *g, int regf, unsigned off)
{
    regf &= 7;
    for (;;) {
        int p = g->preg, x = g->xreg;
        int pd = (int)off - (int)g->poff;
        switch (rnd(g, 8)) {
        case 0: /* [disp32] */
            emit8(g, (regf << 3) | 5);
            emit_disp32_abs(g, off, 0);
            return;
        case 1: /* [base] */
            if (p < 0 || pd != 0 || p == EBP) break;
            emit8(g, (regf << 3) | p);
            return;
        case 2: /* [base + disp8] */
            if (p < 0 || !fits8(pd)) break;
            emit8(g, 0x40 | (regf << 3) | p);
            emit8(g, (uint32_t)pd);
            return;
        case 3: /* [base + disp32] */
            if (p < 0) break;
            emit8(g, 0x80 | (regf << 3) | p);
            emit_imm(g, 32, (uint32_t)pd);
            return;
        case 4: { /* [base + index*scale + disp8] */
            if (p < 0 || x < 0) break;
            int ss = (int)rnd(g, 4);
            int d = pd - (int)(g->xval << ss);
            if (!fits8(d)) break;
            emit8(g, 0x44 | (regf << 3));
            emit8(g, (ss << 6) | (x << 3) | p);
            emit8(g, (uint32_t)d);
            return;
        }
        case 5: { /* [index*scale + disp32], no base */
            if (x < 0) break;
            int ss = (int)rnd(g, 4);
            emit8(g, 0x04 | (regf << 3));
            emit8(g, (ss << 6) | (x << 3) | 5);
            emit_disp32_abs(g, off, g->xval << ss);
            return;
        }
        case 6: /* [base + disp8] through a SIB byte without index */
            if (p < 0 || !fits8(pd)) break;
            emit8(g, 0x44 | (regf << 3));
            emit8(g, (4 << 3) | p);
            emit8(g, (uint32_t)pd);
            return;
        case 7: { /* [base + index*scale] */
            if (p < 0 || x < 0 || p == EBP) break;
            int ss = (int)rnd(g, 4);
            if (pd != (int)(g->xval << ss)) break;
            emit8(g, 0x04 | (regf << 3));
            emit8(g, (ss << 6) | (x << 3) | p);
            return;
        }
        }
    }
}

static void emit_modrm(Gen *g, int regf, Opnd o)
{
    if (o.mem)
        emit_mem(g, regf, o.off);
    else
        emit8(g, 0xc0 | ((regf & 7) << 3) | (o.reg & 7));
}

static void patch_mem(Gen *g, unsigned off, int size, uint32_t v)
{
    if (g->npatch >= DIFF_PATCHES) return;
    DiffPatch *p = &g->c->patch[g->npatch++];
    p->off = (uint16_t)off;
    p->len = (uint16_t)(size / 8);
    p->val = v & mask_of(size);
    for (int i = 0; i < size / 8; i++)
        g->win[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t read_mem(Gen *g, unsigned off, int size)
{
    uint32_t v = 0;
    for (int i = 0; i < size / 8; i++)
        v |= (uint32_t)g->win[off + i] << (8 * i);
    return v;
}

/* Gives a register a chosen value: directly in the initial state for the first instruction,
 * otherwise through a mov emitted in front of the instruction. Returns 0 if not possible. */
static int set_reg(Gen *g, int reg, int size, uint32_t v)
{
    if (!writable(g, reg, size) || (size != 8 && reg == ESP)) return 0;
    v &= mask_of(size);
    if (g->first) {
        uint32_t *r = &g->c->regs[size == 8 ? (reg & 3) : reg];
        int shift = size == 8 && reg >= 4 ? 8 : 0;
        *r = (*r & ~(mask_of(size) << shift)) | (v << shift);
        return 1;
    }
    if (size == 8) {
        emit8(g, 0xb0 + reg);
    } else {
        opsize(g, size);
        emit8(g, 0xb8 + reg);
    }
    emit_imm(g, size, v);
    return 1;
}

static int get_reg(Gen *g, int reg, int size, uint32_t *v)
{
    if (!g->first) return 0;
    uint32_t r = g->c->regs[size == 8 ? (reg & 3) : reg];
    *v = (size == 8 && reg >= 4 ? r >> 8 : r) & mask_of(size);
    return 1;
}

static void set_opnd(Gen *g, Opnd o, int size, uint32_t v)
{
    if (o.mem)
        patch_mem(g, o.off, size, v);
    else
        set_reg(g, o.reg, size, v);
}

static int get_opnd(Gen *g, Opnd o, int size, uint32_t *v)
{
    if (o.mem) {
        *v = read_mem(g, o.off, size);
        return 1;
    }
    return get_reg(g, o.reg, size, v);
}

static int size_of(unsigned i)
{
    static const int sizes[3] = {8, 16, 32};
    return sizes[i % 3];
}

static uint32_t imm_val(Gen *g, int size)
{
    return edge_val(g) & mask_of(size);
}

static int sel_or_rand(Gen *g, int sel, int n)
{
    return sel >= 0 ? sel % n : (int)rnd(g, (uint32_t)n);
}

/* ---- ALU: add or adc sbb and sub xor cmp, test, inc dec, neg not ---- */

#define ALU_BIN_VARIANTS    (8 * 9 * 3)
#define ALU_TEST_VARIANTS   (5 * 3)
#define ALU_INCDEC_VARIANTS 16
#define ALU_NEGNOT_VARIANTS 12
#define ALU_VARIANTS                                                                               \
    (ALU_BIN_VARIANTS + ALU_TEST_VARIANTS + ALU_INCDEC_VARIANTS + ALU_NEGNOT_VARIANTS)

static void alu_flags(Gen *g, int op)
{
    if (op == 1 || op == 4 || op == 6) /* or and xor: AF undefined */
        fl(g, 0, FL_ARITH & ~FL_AF, FL_AF);
    else
        fl(g, op == 2 || op == 3 ? FL_CF : 0, FL_ARITH, 0);
}

static void gen_alu_bin(Gen *g, int sel)
{
    int op = sel / 27, enc = (sel / 3) % 9, size = size_of((unsigned)sel);
    int w = size != 8, wr = op != 7;
    Opnd a, b;
    switch (enc) {
    case 0: /* r/m, r (register) */
    case 1: /* r/m, r (memory) */
        a = opnd(g, size, enc == 1, wr);
        b = opnd(g, size, 0, 0);
        if (enc == 1 && wr) lock_maybe(g);
        if (enc == 1) seg_maybe(g);
        opsize(g, size);
        emit8(g, (op << 3) | w);
        emit_modrm(g, b.reg, a);
        break;
    case 2: /* r, r/m (register) */
    case 3: /* r, r/m (memory) */
        a = opnd(g, size, 0, wr);
        b = opnd(g, size, enc == 3, 0);
        if (enc == 3) seg_maybe(g);
        opsize(g, size);
        emit8(g, (op << 3) | 2 | w);
        emit_modrm(g, a.reg, b);
        break;
    case 4: /* AL/AX/EAX, imm */
        opsize(g, size);
        emit8(g, (op << 3) | 4 | w);
        emit_imm(g, size, imm_val(g, size));
        break;
    case 5: /* r/m, imm */
    case 6:
        a = opnd(g, size, enc == 6, wr);
        if (enc == 6 && wr) lock_maybe(g);
        opsize(g, size);
        emit8(g, 0x80 | w);
        emit_modrm(g, op, a);
        emit_imm(g, size, imm_val(g, size));
        break;
    default: /* r/m, imm8: 0x83 sign-extends; 0x82 is the 8-bit alias of 0x80 */
        a = opnd(g, size, enc == 8, wr);
        if (enc == 8 && wr) lock_maybe(g);
        opsize(g, size);
        emit8(g, size == 8 ? 0x82 : 0x83);
        emit_modrm(g, op, a);
        emit8(g, edges8[rnd(g, sizeof(edges8))] ^ (chance(g, 30) ? rnd32(g) : 0));
        break;
    }
    alu_flags(g, op);
}

static void gen_alu(Gen *g, int sel)
{
    sel = sel_or_rand(g, sel, ALU_VARIANTS);
    if (sel < ALU_BIN_VARIANTS) {
        gen_alu_bin(g, sel);
        done(g);
        return;
    }
    sel -= ALU_BIN_VARIANTS;
    if (sel < ALU_TEST_VARIANTS) {
        int enc = sel / 3, size = size_of((unsigned)sel), w = size != 8;
        Opnd a = opnd(g, size, enc == 1 || enc == 4, 0);
        Opnd b = opnd(g, size, 0, 0);
        opsize(g, size);
        if (enc <= 1) {
            emit8(g, 0x84 | w);
            emit_modrm(g, b.reg, a);
        } else if (enc == 2) {
            emit8(g, 0xa8 | w);
            emit_imm(g, size, imm_val(g, size));
        } else {
            emit8(g, 0xf6 | w);
            emit_modrm(g, 0, a);
            emit_imm(g, size, imm_val(g, size));
        }
        alu_flags(g, 4);
        done(g);
        return;
    }
    sel -= ALU_TEST_VARIANTS;
    if (sel < ALU_INCDEC_VARIANTS) {
        int op = sel / 8, form = sel % 8;
        if (form < 2) { /* 40+r / 48+r */
            int size = form ? 32 : 16;
            int r = pick_wreg(g, size);
            opsize(g, size);
            emit8(g, 0x40 + op * 8 + r);
        } else {
            int size = size_of((unsigned)form - 2);
            Opnd a = opnd(g, size, form >= 5, 1);
            if (a.mem) lock_maybe(g);
            opsize(g, size);
            emit8(g, 0xfe | (size != 8));
            emit_modrm(g, op, a);
        }
        fl(g, 0, FL_ARITH & ~FL_CF, 0);
        done(g);
        return;
    }
    sel -= ALU_INCDEC_VARIANTS;
    int op = sel / 6, size = size_of((unsigned)sel);
    Opnd a = opnd(g, size, (sel / 3) % 2, 1);
    if (a.mem) lock_maybe(g);
    opsize(g, size);
    emit8(g, 0xf6 | (size != 8));
    emit_modrm(g, 2 + op, a); /* /2 not, /3 neg */
    fl(g, 0, op ? FL_ARITH : 0, 0);
    done(g);
}

/* ---- shifts and rotates ---- */

#define SHIFT_VARIANTS (8 * 3 * 3 * 2)
#define SHXD_VARIANTS  (2 * 2 * 2 * 2)

static int shift_count(Gen *g)
{
    static const uint8_t special[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 255};
    switch (rnd(g, 7)) {
    case 0: return (int)rnd(g, 256);
    case 1: return special[rnd(g, sizeof(special))];
    default: return (int)rnd(g, 41);
    }
}

/* form: 0 = by 1 (D0/D1), 1 = imm8 (C0/C1), 2 = CL (D2/D3). op is the ModRM reg field. */
static void shift_flags(Gen *g, int op, int size, int count)
{
    int c = count & 31;
    if (op == 2 || op == 3) { /* rcl rcr */
        if (c == 0)
            fl(g, FL_CF, 0, 0);
        else
            fl(g, FL_CF, FL_CF | (c == 1 ? FL_OF : 0), c == 1 ? 0 : FL_OF);
        return;
    }
    if (c == 0) {
        fl(g, 0, 0, 0);
        return;
    }
    if (op <= 1) { /* rol ror */
        fl(g, 0, FL_CF | (c == 1 ? FL_OF : 0), c == 1 ? 0 : FL_OF);
        return;
    }
    uint32_t un = FL_AF | (c > 1 ? FL_OF : 0);
    if (op != 7 && c >= size) un |= FL_CF;
    fl(g, 0, (FL_ARITH | FL_CF) & ~un, un);
}

static void gen_shift_one(Gen *g, int sel, int count)
{
    int op = sel / 18, size = size_of((unsigned)sel / 6), form = (sel / 2) % 3;
    Opnd a = opnd(g, size, sel % 2, 1);
    if (count < 0) count = form == 0 ? 1 : shift_count(g);
    if (form == 0) count = 1;
    if (form == 2 && !set_reg(g, ECX, 8, (uint32_t)count)) return;
    opsize(g, size);
    emit8(g, (form == 0 ? 0xd0 : form == 1 ? 0xc0 : 0xd2) | (size != 8));
    emit_modrm(g, op, a);
    if (form == 1) emit8(g, (uint32_t)count);
    shift_flags(g, op, size, count);
    done(g);
}

static void gen_shxd(Gen *g, int sel, int count)
{
    int right = sel / 8, size = (sel / 4) % 2 ? 32 : 16, cl = (sel / 2) % 2;
    Opnd a = opnd(g, size, sel % 2, 1);
    int src = pick_rreg(g, size);
    if (count < 0) count = shift_count(g);
    if (cl && !set_reg(g, ECX, 8, (uint32_t)count)) return;
    opsize(g, size);
    emit8(g, 0x0f);
    emit8(g, (right ? 0xac : 0xa4) | cl);
    emit_modrm(g, src, a);
    if (!cl) emit8(g, (uint32_t)count);
    int c = count & 31;
    if (c > size) {
        fl(g, 0, 0, FL_ARITH);
        g->tainted = 1;
    } else if (c) {
        uint32_t un = FL_AF | (c > 1 ? FL_OF : 0);
        fl(g, 0, FL_ARITH & ~un, un);
    }
    done(g);
}

static void gen_shift(Gen *g, int sel)
{
    sel = sel_or_rand(g, sel, SHIFT_VARIANTS + SHXD_VARIANTS);
    if (sel < SHIFT_VARIANTS)
        gen_shift_one(g, sel, -1);
    else
        gen_shxd(g, sel - SHIFT_VARIANTS, -1);
}

/* ---- multiply and divide ---- */

#define MULDIV_VARIANTS (24 + 4 + 4 + 4)

static int64_t sext(uint64_t v, int bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

/* Picks dividend and divisor for DIV/IDIV: a zero divisor, a valid division, or edge values
 * (mostly quotient overflows). */
static void div_operands(Gen *g, int is_signed, int size, uint64_t *dividend, uint32_t *divisor)
{
    uint32_t m = mask_of(size);
    unsigned k = rnd(g, 100);
    if (k < 12) {
        *divisor = 0;
        *dividend = ((uint64_t)edge_val(g) << 32 | edge_val(g));
        return;
    }
    if (k < 22 && is_signed) { /* the most negative dividend over -1, and its neighbours */
        *divisor = chance(g, 70) ? m : 1;
        *dividend =
            (uint64_t)(-((int64_t)1 << (size - 1)) - (int64_t)rnd(g, 2)) + (chance(g, 50) ? 0 : 1);
        return;
    }
    if (k < 70) {
        uint32_t d = edge_val(g) & m;
        if (d == 0) d = 1 + rnd(g, 7);
        if (!is_signed) {
            uint64_t q = edge_val(g) & m;
            uint64_t r = rnd32(g) % d;
            *dividend = q * d + r;
        } else {
            int64_t sd = sext(d, size);
            int64_t q = sext(edge_val(g) & m, size);
            int64_t ad = sd < 0 ? -sd : sd;
            int64_t r = (int64_t)(rnd32(g) % (uint64_t)ad);
            int64_t prod = q * sd;
            *dividend = (uint64_t)(prod < 0 || (prod == 0 && chance(g, 50)) ? prod - r : prod + r);
        }
        *divisor = d;
        return;
    }
    *divisor = edge_val(g) & m;
    *dividend = (uint64_t)edge_val(g) << 32 | edge_val(g);
}

static void gen_muldiv(Gen *g, int sel)
{
    sel = sel_or_rand(g, sel, MULDIV_VARIANTS);
    if (sel < 24) {
        int op = 4 + sel / 6, size = size_of((unsigned)sel / 2);
        Opnd a = opnd(g, size, sel % 2, 0);
        if (op >= 6 && g->first) {
            uint64_t dividend;
            uint32_t divisor;
            div_operands(g, op == 7, size, &dividend, &divisor);
            if (size == 8) {
                set_reg(g, EAX, 16, (uint32_t)dividend);
            } else {
                set_reg(g, EAX, size, (uint32_t)dividend);
                set_reg(g, EDX, size, (uint32_t)(dividend >> size));
            }
            set_opnd(g, a, size, divisor);
        }
        if (a.mem) seg_maybe(g);
        opsize(g, size);
        emit8(g, 0xf6 | (size != 8));
        emit_modrm(g, op, a);
        if (op >= 6)
            fl(g, 0, 0, FL_ARITH);
        else
            fl(g, 0, FL_CF | FL_OF, FL_SF | FL_ZF | FL_AF | FL_PF);
        done(g);
        return;
    }
    sel -= 24;
    int form = sel / 4, size = (sel / 2) % 2 ? 32 : 16;
    Opnd b = opnd(g, size, sel % 2, 0);
    int dst = pick_wreg(g, size);
    opsize(g, size);
    if (form == 0) {
        emit8(g, 0x0f);
        emit8(g, 0xaf);
        emit_modrm(g, dst, b);
    } else if (form == 1) {
        emit8(g, 0x6b);
        emit_modrm(g, dst, b);
        emit8(g, edges8[rnd(g, sizeof(edges8))] ^ (chance(g, 30) ? rnd32(g) : 0));
    } else {
        emit8(g, 0x69);
        emit_modrm(g, dst, b);
        emit_imm(g, size, imm_val(g, size));
    }
    fl(g, 0, FL_CF | FL_OF, FL_SF | FL_ZF | FL_AF | FL_PF);
    done(g);
}

/* ---- BCD ---- */

#define BCD_VARIANTS 9

static void gen_bcd(Gen *g, int sel)
{
    static const uint8_t ops[4] = {0x27, 0x2f, 0x37, 0x3f}; /* daa das aaa aas */
    sel = sel_or_rand(g, sel, BCD_VARIANTS);
    if (g->first) set_reg(g, EAX, 16, rnd32(g));
    if (sel < 4) {
        emit8(g, ops[sel]);
        if (sel < 2)
            fl(g, FL_AF | FL_CF, FL_ARITH & ~FL_OF, FL_OF);
        else
            fl(g, FL_AF, FL_AF | FL_CF, FL_OF | FL_SF | FL_ZF | FL_PF);
    } else {
        int aad = sel == 5 || sel == 7;
        uint32_t imm = sel <= 5 ? 10 : sel == 8 ? 0 : rnd(g, 4) ? rnd(g, 256) : edges8[rnd(g, 12)];
        emit8(g, aad ? 0xd5 : 0xd4);
        emit8(g, imm);
        fl(g, 0, FL_SF | FL_ZF | FL_PF, FL_OF | FL_AF | FL_CF);
    }
    done(g);
}

/* What BCD code typically follows: 8-bit arithmetic on AL that leaves AF and CF meaningful. */
static void gen_bcd_prep(Gen *g)
{
    static const uint8_t ops[4] = {0, 2, 3, 5}; /* add adc sbb sub */
    int op = ops[rnd(g, 4)];
    if (chance(g, 50)) {
        emit8(g, (op << 3) | 4);
        emit8(g, rnd(g, 3) ? rnd(g, 0x9a) : rnd32(g));
    } else {
        emit8(g, (op << 3) | 2);
        emit8(g, 0xc0 | pick_rreg(g, 8));
    }
    alu_flags(g, op);
    done(g);
}

/* ---- string instructions ---- */

#define STRING_VARIANTS (5 * 3 * 3)

static void gen_string(Gen *g, int sel)
{
    static const uint8_t ops[5] = {0xa4, 0xa6, 0xae, 0xac, 0xaa}; /* movs cmps scas lods stos */
    sel = sel_or_rand(g, sel, STRING_VARIANTS);
    int op = sel / 9, size = size_of((unsigned)sel / 3), rep = sel % 3;
    if (rep && !set_reg(g, ECX, 32, chance(g, 10) ? 0 : 1 + rnd(g, 8))) return;
    if (op == 2 && g->first) { /* make scas matches likely */
        uint32_t fill = (g->c->buf_seed >> 8) & 0xff;
        uint32_t v = chance(g, 50) ? fill * 0x01010101u : chance(g, 50) ? 0 : 0xffffffff;
        set_reg(g, EAX, 32, v);
    }
    if ((op == 0 || op == 1 || op == 3) && chance(g, 12))
        emit8(g, rnd(g, 2) ? 0x26 : 0x36); /* source segment override */
    if (rep) emit8(g, rep == 1 ? 0xf3 : 0xf2);
    opsize(g, size);
    emit8(g, ops[op] | (size != 8));
    if (op == 1 || op == 2)
        fl(g, FL_DF, FL_ARITH, 0);
    else
        fl(g, FL_DF, 0, 0);
    done(g);
}

/* ---- bit operations ---- */

#define BITOPS_VARIANTS (16 + 16 + 8 + 2)

static void gen_bitops(Gen *g, int sel)
{
    sel = sel_or_rand(g, sel, BITOPS_VARIANTS);
    if (sel < 16) { /* bt bts btr btc r/m, r */
        int op = sel / 4, size = (sel / 2) % 2 ? 32 : 16, mem = sel % 2;
        int wr = op != 0;
        Opnd a = {mem, 0, 0};
        int b;
        if (mem) {
            /* The bit offset addresses memory beyond the operand: keep it inside the window. */
            a.off = DIFF_BUF_OFF + 72 + rnd(g, 100);
            b = pick_wreg(g, 32);
            int bits = (int)rnd(g, 1024) - 512;
            uint32_t v =
                size == 16 ? (rnd32(g) & 0xffff0000) | ((uint32_t)bits & 0xffff) : (uint32_t)bits;
            set_reg(g, b, 32, v);
            if (wr) lock_maybe(g);
        } else {
            a.reg = wr ? pick_wreg(g, size) : pick_rreg(g, size);
            b = pick_rreg(g, size);
        }
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xa3 | (op << 3));
        emit_modrm(g, b, a);
        fl(g, 0, FL_CF, FL_OF | FL_SF | FL_AF | FL_PF);
    } else if (sel < 32) { /* bt bts btr btc r/m, imm8 */
        sel -= 16;
        int op = sel / 4, size = (sel / 2) % 2 ? 32 : 16;
        Opnd a = opnd(g, size, sel % 2, op != 0);
        if (a.mem && op) lock_maybe(g);
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xba);
        emit_modrm(g, 4 + op, a);
        emit8(g, chance(g, 60) ? rnd(g, 41) : rnd(g, 256));
        fl(g, 0, FL_CF, FL_OF | FL_SF | FL_AF | FL_PF);
    } else if (sel < 40) { /* bsf bsr */
        sel -= 32;
        int rev = sel / 4, size = (sel / 2) % 2 ? 32 : 16;
        Opnd b = opnd(g, size, sel % 2, 0);
        int dst = pick_wreg(g, size);
        int zero = chance(g, 30);
        if (g->first || b.mem) {
            uint32_t v = zero ? 0 : edge_val(g);
            if (!zero && (v & mask_of(size)) == 0) v = 1u << rnd(g, (uint32_t)size);
            set_opnd(g, b, size, v);
            uint32_t got;
            if (!get_opnd(g, b, size, &got) || got == 0) g->tainted = 1;
        } else {
            g->tainted = 1;
        }
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xbc | rev);
        emit_modrm(g, dst, b);
        fl(g, 0, FL_ZF, FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
        g->model = 1;
    } else { /* bswap; with 0x66 the result is undefined */
        int size = sel == 40 ? 32 : 16;
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xc8 + pick_wreg(g, 32));
        if (size == 16) g->tainted = 1;
        fl(g, 0, 0, 0);
    }
    done(g);
}

/* ---- miscellaneous: exchange, conditionals, extension, lea, mov, flag ops, traps ---- */

/* Flags each condition code (0x0..0xf) reads. */
static uint32_t cc_reads(int cc)
{
    static const uint32_t r[8] = {FL_OF, FL_CF, FL_ZF,         FL_CF | FL_ZF,
                                  FL_SF, FL_PF, FL_SF | FL_OF, FL_SF | FL_OF | FL_ZF};
    return r[(cc >> 1) & 7];
}

#define MISC_VARIANTS (6 + 6 + 32 + 64 + 16 + 4 + 4 + 8 + 7 + 27 + 1 + 4 + 3)

/* lea with an arbitrary addressing form: nothing is accessed, so any registers will do. */
static void gen_lea(Gen *g, int size, int addr16)
{
    int dst = pick_wreg(g, size);
    if (addr16) emit8(g, 0x67);
    opsize(g, size);
    emit8(g, 0x8d);
    int mod = (int)rnd(g, 3), rm = (int)rnd(g, 8);
    emit8(g, (mod << 6) | (dst << 3) | rm);
    if (!addr16 && rm == 4) emit8(g, rnd(g, 256));
    int disp = mod == 1 ? 8 : mod == 2 ? (addr16 ? 16 : 32) : 0;
    if (mod == 0 && ((addr16 && rm == 6) || (!addr16 && rm == 5))) disp = addr16 ? 16 : 32;
    if (mod == 0 && !addr16 && rm == 4 && (g->c->code[g->c->code_len - 1] & 7) == 5) disp = 32;
    emit_imm(g, disp, rnd(g, 2) ? edge_val(g) : rnd32(g));
    fl(g, 0, 0, 0);
}

static void gen_misc(Gen *g, int sel)
{
    sel = sel_or_rand(g, sel, MISC_VARIANTS);
    if (sel < 6) { /* xadd */
        int size = size_of((unsigned)sel / 2);
        Opnd a = opnd(g, size, sel % 2, 1);
        int b = pick_wreg(g, size);
        if (a.mem) lock_maybe(g);
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xc0 | (size != 8));
        emit_modrm(g, b, a);
        fl(g, 0, FL_ARITH, 0);
        done(g);
        return;
    }
    sel -= 6;
    if (sel < 6) { /* cmpxchg, half of them with the accumulator equal to the destination */
        int size = size_of((unsigned)sel / 2);
        Opnd a = opnd(g, size, sel % 2, 1);
        int b = pick_rreg(g, size);
        uint32_t v;
        if (chance(g, 50) && get_opnd(g, a, size, &v)) set_reg(g, EAX, size, v);
        if (a.mem) lock_maybe(g);
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0xb0 | (size != 8));
        emit_modrm(g, b, a);
        fl(g, 0, FL_ARITH, 0);
        done(g);
        return;
    }
    sel -= 6;
    if (sel < 32) { /* setcc */
        int cc = sel / 2;
        Opnd a = opnd(g, 8, sel % 2, 1);
        emit8(g, 0x0f);
        emit8(g, 0x90 | cc);
        emit_modrm(g, 0, a);
        fl(g, cc_reads(cc), 0, 0);
        done(g);
        return;
    }
    sel -= 32;
    if (sel < 64) { /* cmovcc */
        int cc = sel / 4, size = (sel / 2) % 2 ? 32 : 16;
        Opnd b = opnd(g, size, sel % 2, 0);
        int dst = pick_wreg(g, size);
        if (b.mem) seg_maybe(g);
        opsize(g, size);
        emit8(g, 0x0f);
        emit8(g, 0x40 | cc);
        emit_modrm(g, dst, b);
        fl(g, cc_reads(cc), 0, 0);
        done(g);
        return;
    }
    sel -= 64;
    if (sel < 16) { /* movzx movsx: B6/BE to 16 and 32, B7/BF to 32 and (with 0x66) to 16 */
        int form = sel / 2;
        int op = 0xb6 | ((form & 1) << 3) | ((form >> 2) & 1);
        int dsize = (form >> 1) & 1 ? 32 : 16, ssize = (op & 1) ? 16 : 8;
        Opnd b = opnd(g, ssize, sel % 2, 0);
        int dst = pick_wreg(g, dsize);
        opsize(g, dsize);
        emit8(g, 0x0f);
        emit8(g, op);
        emit_modrm(g, dst, b);
        fl(g, 0, 0, 0);
        done(g);
        return;
    }
    sel -= 16;
    if (sel < 4) { /* cbw cwde cwd cdq */
        opsize(g, sel % 2 ? 32 : 16);
        emit8(g, 0x98 + sel / 2);
        fl(g, 0, 0, 0);
        done(g);
        return;
    }
    sel -= 4;
    if (sel < 4) {
        gen_lea(g, sel % 2 ? 32 : 16, sel / 2);
        done(g);
        return;
    }
    sel -= 4;
    if (sel < 8) { /* xchg */
        if (sel < 6) {
            int size = size_of((unsigned)sel / 2);
            Opnd a = opnd(g, size, sel % 2, 1);
            int b = pick_wreg(g, size);
            opsize(g, size);
            emit8(g, 0x86 | (size != 8));
            emit_modrm(g, b, a);
        } else {
            int size = sel == 6 ? 16 : 32;
            opsize(g, size);
            emit8(g, 0x90 + pick_wreg(g, size));
        }
        fl(g, 0, 0, 0);
        done(g);
        return;
    }
    sel -= 8;
    if (sel < 7) { /* lahf sahf cmc clc stc cld std */
        static const uint8_t ops[7] = {0x9f, 0x9e, 0xf5, 0xf8, 0xf9, 0xfc, 0xfd};
        emit8(g, ops[sel]);
        if (sel == 0)
            fl(g, FL_ARITH & ~FL_OF, 0, 0);
        else if (sel == 1)
            fl(g, 0, FL_ARITH & ~FL_OF, 0);
        else if (sel == 2)
            fl(g, FL_CF, FL_CF, 0);
        else if (sel <= 4)
            fl(g, 0, FL_CF, 0);
        else
            fl(g, 0, 0, 0);
        done(g);
        return;
    }
    sel -= 7;
    if (sel < 27) { /* mov in all its forms */
        int size = size_of((unsigned)sel), form = sel / 3, w = size != 8;
        if (form < 2) { /* 88/89 r/m, r */
            Opnd a = opnd(g, size, form, 1);
            if (a.mem) seg_maybe(g);
            opsize(g, size);
            emit8(g, 0x88 | w);
            emit_modrm(g, pick_rreg(g, size), a);
        } else if (form < 4) { /* 8A/8B r, r/m */
            Opnd b = opnd(g, size, form - 2, 0);
            opsize(g, size);
            emit8(g, 0x8a | w);
            emit_modrm(g, pick_wreg(g, size), b);
        } else if (form < 6) { /* C6/C7 r/m, imm */
            Opnd a = opnd(g, size, form - 4, 1);
            opsize(g, size);
            emit8(g, 0xc6 | w);
            emit_modrm(g, 0, a);
            emit_imm(g, size, imm_val(g, size));
        } else if (form == 6) { /* B0+r / B8+r */
            int r = pick_wreg(g, size);
            opsize(g, size);
            emit8(g, (size == 8 ? 0xb0 : 0xb8) + r);
            emit_imm(g, size, imm_val(g, size));
        } else { /* A0-A3 moffs */
            opsize(g, size);
            emit8(g, 0xa0 | (form == 8 ? 2 : 0) | w);
            emit_disp32_abs(g, pick_off(g, size), 0);
        }
        fl(g, 0, 0, 0);
        done(g);
        return;
    }
    sel -= 27;
    if (sel < 1) { /* into: #OF (a trap) when OF is set */
        emit8(g, 0xce);
        fl(g, FL_OF, 0, 0);
        done(g);
        return;
    }
    sel -= 1;
    if (sel < 4) { /* #UD: ud2, lock on a register operand, lock on bt, lea with a register */
        static const uint8_t ud[4][4] = {
            {2, 0x0f, 0x0b}, {3, 0xf0, 0x01, 0xc8}, {3, 0xf0, 0x0f, 0xba}, {2, 0x8d, 0xc0}};
        for (int i = 1; i <= ud[sel][0]; i++)
            emit8(g, ud[sel][i]);
        if (sel == 2) { /* lock bt dword [abs], imm8 */
            emit8(g, 0x25);
            emit_disp32_abs(g, pick_off(g, 32), 0);
            emit8(g, rnd(g, 32));
        }
        done(g);
        return;
    }
    sel -= 4;
    if (sel == 0) {
        emit8(g, 0x90);
    } else if (sel == 1) {
        emit8(g, 0xf3);
        emit8(g, 0x90);
    } else { /* 0F 1F /0: a hinted nop whose memory operand is never accessed */
        emit8(g, 0x0f);
        emit8(g, 0x1f);
        int rm = (int)rnd(g, 8);
        emit8(g, 0x80 | (rm == 4 ? 0 : rm));
        emit_imm(g, 32, rnd32(g));
    }
    done(g);
}

/* ---- x87 ---- */

/* Sequences of the basic x87 instructions on values loaded from the buffer (random bytes, or
 * special values patched in): arithmetic, compares (C0-C3 and EFLAGS), loads, stores,
 * rounding-control and precision-control changes, stack overflow and underflow. Exceptions stay
 * masked. The case ends with FNSTSW AX and the top of the stack stored to the buffer, so the
 * comparison covers results, condition codes, flags and TOP. EBX points at the buffer; memory
 * operands are [ebx + d8]. */

static const uint32_t x87_f32[] = {
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000,
    0x7fa00000, 0x00000001, 0x807fffff, 0x00800000, 0x7f7fffff, 0x40490fdb, 0x4b000001,
    0x3effffff, 0x5f000000,
};
static const uint32_t x87_f64_hi[] = {
    0x00000000, 0x80000000, 0x3ff00000, 0x7ff00000, 0xfff80000, 0x7ff40000,
    0x00000001, 0x000fffff, 0x43300000, 0x41dfffff, 0xc3e00000, 0x3fe00000,
};

static int x87_depth;  /* registers pushed so far, as far as the generator can tell */
static int x87_cw_set; /* the FLDCW value is patched in */

static void x87_modrm_mem(Gen *g, int esc, int regf, unsigned d8)
{
    emit8(g, (uint32_t)esc);
    emit8(g, 0x40 | (uint32_t)regf << 3 | EBX);
    emit8(g, d8);
}

/* Buffer layout: operands in [0, X87_OPND_END), the FLDCW value at X87_CW (patched once per case,
 * so no other patch overlaps it), and the final stores at 0x70 and 0x7a. */
#define X87_OPND_END 0x60
#define X87_CW       0x6a

/* A memory operand of size bytes at a random buffer offset, sometimes holding a special value. */
static unsigned x87_operand(Gen *g, int size, int is_float)
{
    unsigned d8 = rnd(g, X87_OPND_END) & ~1u;
    if (is_float && size == 4 && chance(g, 50))
        patch_mem(g, DIFF_BUF_OFF + d8, 32, x87_f32[rnd(g, sizeof x87_f32 / 4)]);
    else if (is_float && size == 8 && chance(g, 50)) {
        patch_mem(g, DIFF_BUF_OFF + d8, 32, chance(g, 50) ? 0 : rnd32(g));
        patch_mem(g, DIFF_BUF_OFF + d8 + 4, 32, x87_f64_hi[rnd(g, sizeof x87_f64_hi / 4)]);
    } else if (is_float && size == 10 && chance(g, 60)) /* a sign and exponent near 1.0 */
        patch_mem(g, DIFF_BUF_OFF + d8 + 8, 16, 0x3ff0 + rnd(g, 32) + (chance(g, 30) ? 0x8000 : 0));
    return d8;
}

static void x87_push(void) { x87_depth += x87_depth < 8; }
static void x87_pop(int n) { x87_depth = x87_depth > n ? x87_depth - n : 0; }

/* A register index, usually of a register in use. */
static unsigned x87_sti(Gen *g)
{
    if (x87_depth > 0 && chance(g, 90)) return rnd(g, (uint32_t)x87_depth);
    return rnd(g, 8);
}

#define X87_VARIANTS 16

static void gen_x87(Gen *g, int sel)
{
    if (sel < 0) {
        /* Loads while the stack is shallow, fewer pushes when it is deep. */
        if (x87_depth == 0 && chance(g, 85))
            sel = 0;
        else if (x87_depth >= 6 && chance(g, 60))
            sel = 6 + (int)rnd(g, 3);
        else
            sel = (int)rnd(g, X87_VARIANTS);
    }
    static const int arith_ops[6] = {0, 1, 4, 5, 6, 7}; /* add mul sub subr div divr */
    switch (sel) {
    case 0: { /* loads */
        int k = (int)rnd(g, 8);
        if (k == 0) x87_modrm_mem(g, 0xd9, 0, x87_operand(g, 4, 1));      /* fld m32 */
        else if (k == 1) x87_modrm_mem(g, 0xdd, 0, x87_operand(g, 8, 1)); /* fld m64 */
        else if (k == 2) x87_modrm_mem(g, 0xdb, 5, x87_operand(g, 10, 1)); /* fld m80 */
        else if (k == 3) x87_modrm_mem(g, 0xdf, 0, x87_operand(g, 2, 0)); /* fild m16 */
        else if (k == 4) x87_modrm_mem(g, 0xdb, 0, x87_operand(g, 4, 0)); /* fild m32 */
        else if (k == 5) x87_modrm_mem(g, 0xdf, 5, x87_operand(g, 8, 0)); /* fild m64 */
        else if (k == 6) emit8(g, 0xd9), emit8(g, 0xe8 + rnd(g, 7)); /* fld1 ... fldz */
        else emit8(g, 0xd9), emit8(g, 0xc0 + x87_sti(g));             /* fld st(i) */
        x87_push();
        break;
    }
    case 1: /* fop st0, st(i) (D8: also fcom, fcomp) */
    case 2: { /* fop st(i), st0 */
        int op = sel == 1 ? (int)rnd(g, 8) : arith_ops[rnd(g, 6)];
        emit8(g, sel == 1 ? 0xd8 : 0xdc);
        emit8(g, 0xc0 | (uint32_t)op << 3 | x87_sti(g));
        if (op == 3) x87_pop(1);
        break;
    }
    case 3: /* fop m32 / m64 / m16int / m32int */
    case 4: {
        static const int esc[4] = {0xd8, 0xdc, 0xde, 0xda};
        static const int size[4] = {4, 8, 2, 4};
        int k = (int)rnd(g, 4), op = (int)rnd(g, 8);
        x87_modrm_mem(g, esc[k], op, x87_operand(g, size[k], k < 2));
        if (op == 3) x87_pop(1);
        break;
    }
    case 5: { /* one-operand and stack-neutral register instructions */
        static const uint8_t ops[11] = {0xe0, 0xe1, 0xe4, 0xfa, 0xfc, 0xc8,
                                        0xc8, 0xd0, 0xf6, 0xf7, 0xe5};
        uint8_t b = ops[rnd(g, 11)];
        emit8(g, 0xd9); /* fchs fabs ftst fsqrt frndint fxch fnop fdecstp fincstp fxam */
        emit8(g, b == 0xc8 ? 0xc8 + x87_sti(g) : b);
        break;
    }
    case 6: { /* popping arithmetic, fcompp, fucompp */
        int k = (int)rnd(g, 8);
        if (k == 6) emit8(g, 0xde), emit8(g, 0xd9), x87_pop(2);
        else if (k == 7) emit8(g, 0xda), emit8(g, 0xe9), x87_pop(2);
        else emit8(g, 0xde), emit8(g, 0xc0 | (uint32_t)arith_ops[k] << 3 | x87_sti(g)), x87_pop(1);
        break;
    }
    case 7: { /* stores to registers and memory */
        int k = (int)rnd(g, 12);
        unsigned d8 = rnd(g, X87_OPND_END);
        if (k == 0) emit8(g, 0xdd), emit8(g, 0xd0 + x87_sti(g));             /* fst st(i) */
        else if (k == 1) emit8(g, 0xdd), emit8(g, 0xd8 + x87_sti(g)), x87_pop(1); /* fstp st(i) */
        else if (k == 2) x87_modrm_mem(g, 0xd9, 2, d8);                    /* fst m32 */
        else if (k == 3) x87_modrm_mem(g, 0xd9, 3, d8), x87_pop(1);       /* fstp m32 */
        else if (k == 4) x87_modrm_mem(g, 0xdd, 2, d8);                    /* fst m64 */
        else if (k == 5) x87_modrm_mem(g, 0xdd, 3, d8), x87_pop(1);       /* fstp m64 */
        else if (k == 6) x87_modrm_mem(g, 0xdb, 7, d8), x87_pop(1);       /* fstp m80 */
        else if (k == 7) x87_modrm_mem(g, 0xdf, 2, d8);                    /* fist m16 */
        else if (k == 8) x87_modrm_mem(g, 0xdf, 3, d8), x87_pop(1);       /* fistp m16 */
        else if (k == 9) x87_modrm_mem(g, 0xdb, 2, d8);                    /* fist m32 */
        else if (k == 10) x87_modrm_mem(g, 0xdb, 3, d8), x87_pop(1);      /* fistp m32 */
        else x87_modrm_mem(g, 0xdf, 7, d8), x87_pop(1);                     /* fistp m64 */
        break;
    }
    case 8: /* fcomi, fucomi, fcomip, fucomip (EFLAGS) and fucom, fucomp */
    case 9: {
        static const uint8_t esc[6] = {0xdb, 0xdb, 0xdf, 0xdf, 0xdd, 0xdd};
        static const uint8_t base[6] = {0xf0, 0xe8, 0xf0, 0xe8, 0xe0, 0xe8};
        int k = (int)rnd(g, 6);
        emit8(g, esc[k]);
        emit8(g, base[k] + x87_sti(g));
        if (k < 4) g->undef |= DIFF_UNDEF_X87_C1;
        if (k == 2 || k == 3 || k == 5) x87_pop(1);
        break;
    }
    case 10: /* FLDCW: random precision and rounding control and reserved bits, all masked */
        if (!x87_cw_set) {
            if (g->npatch == DIFF_PATCHES) g->npatch--; /* the case's last patch gives way */
            patch_mem(g, DIFF_BUF_OFF + X87_CW, 16, 0x3f | (rnd32(g) & 0xffc0));
            x87_cw_set = 1;
        }
        x87_modrm_mem(g, 0xd9, 5, X87_CW);
        break;
    case 11: /* FNSTCW, FNSTSW m16, FNSTSW AX */
        if (chance(g, 33)) emit8(g, 0xdf), emit8(g, 0xe0);
        else /* FNSTCW, or FNSTSW m16 unless C1 is model-specific by now */
            x87_modrm_mem(g, chance(g, 50) || (g->undef & DIFF_UNDEF_X87_C1) ? 0xd9 : 0xdd, 7,
                          rnd(g, X87_OPND_END));
        break;
    case 12: { /* fdecstp, fincstp, ffree */
        int k = (int)rnd(g, 3);
        emit8(g, k == 2 ? 0xdd : 0xd9);
        emit8(g, k == 0 ? 0xf6 : k == 1 ? 0xf7 : 0xc0 + x87_sti(g));
        break;
    }
    default: /* more of the common arithmetic */
        if (chance(g, 50)) {
            emit8(g, 0xd8);
            emit8(g, 0xc0 | (uint32_t)arith_ops[rnd(g, 6)] << 3 | x87_sti(g));
        } else {
            x87_modrm_mem(g, 0xdc, arith_ops[rnd(g, 6)], x87_operand(g, 8, 1));
        }
        break;
    }
    done(g);
}

/* ---- cases ---- */

typedef void (*GenFn)(Gen *g, int sel);

static DiffCase *cases;
static unsigned ncases, cap;

static void case_begin(Gen *g, int group, int use_ptrs)
{
    if (ncases == cap) {
        cap = cap ? cap * 2 : 4096;
        cases = realloc(cases, cap * sizeof(*cases));
        if (!cases) {
            perror("gen");
            exit(1);
        }
    }
    DiffCase *c = &cases[ncases++];
    memset(c, 0, sizeof(*c));
    g->c = c;
    c->group = (uint8_t)group;
    for (int i = 0; i < 8; i++)
        c->regs[i] = edge_val(g);
    c->regs[ESP] = 0;
    c->eflags = 2 | (rnd32(g) & FL_CMP);
    c->buf_seed = rnd32(g);
    diff_fill_window(g->win, c->buf_seed, c->patch);
    g->npatch = 0;
    g->reserved = 1u << ESP;
    g->preg = g->xreg = -1;
    g->first = 1;
    g->undef = 0;
    g->undef_any = 0;
    g->model = 0;
    g->tainted = 0;
    if (use_ptrs && chance(g, 70)) {
        static const int cand[4] = {EBX, EBP, ESI, EDI};
        int pi = (int)rnd(g, 4);
        g->preg = cand[pi];
        g->poff = DIFF_BUF_OFF + 0x40 + rnd(g, 0x81);
        c->regs[g->preg] = DIFF_DATA + g->poff;
        g->reserved |= 1u << g->preg;
        if (chance(g, 75)) {
            g->xreg = cand[(pi + 1 + rnd(g, 3)) % 4];
            g->xval = rnd(g, 16);
            c->regs[g->xreg] = g->xval;
            g->reserved |= 1u << g->xreg;
        }
    }
}

static void case_end(Gen *g)
{
    g->c->undef = g->undef | g->undef_any << DIFF_UNDEF_ANY_SHIFT |
                  (g->tainted ? DIFF_UNDEF_RESULT : 0) | (g->model ? DIFF_UNDEF_MODEL : 0);
    if (g->c->code_len == 0) /* a generator gave up: keep the case well formed */
        emit8(g, 0x90);
}

static void string_regs(Gen *g)
{
    g->c->regs[ESI] = DIFF_BUF + 96 + rnd(g, 65);
    g->c->regs[EDI] = DIFF_BUF + 96 + rnd(g, 65);
    g->c->regs[ECX] = rnd(g, 9);
}

/* One instruction per case, every variant of the group reps times. */
static void sweep(Gen *g, int group, GenFn fn, int variants, int reps)
{
    for (int r = 0; r < reps; r++) {
        for (int v = 0; v < variants; v++) {
            case_begin(g, group, group != GRP_STRING);
            if (group == GRP_STRING) string_regs(g);
            fn(g, v);
            case_end(g);
        }
    }
}

/* Random sequences of 2..maxn instructions. */
static void sequences(Gen *g, int group, GenFn fn, int n, int maxn)
{
    for (int i = 0; i < n; i++) {
        case_begin(g, group, group != GRP_STRING);
        if (group == GRP_STRING) string_regs(g);
        int k = 2 + (int)rnd(g, (uint32_t)maxn - 1);
        for (int j = 0; j < k && room(g, 24); j++) {
            if (group == GRP_STRING && chance(g, 15)) {
                emit8(g, rnd(g, 2) ? 0xfc : 0xfd); /* flip DF between string instructions */
                done(g);
            } else {
                fn(g, -1);
            }
        }
        case_end(g);
    }
}

static void gen_bcd_seq(Gen *g, int sel)
{
    if (sel < 0 && chance(g, 45))
        gen_bcd_prep(g);
    else
        gen_bcd(g, sel);
}

static void gen_any(Gen *g, int sel)
{
    static const GenFn fns[6] = {gen_alu, gen_shift, gen_muldiv, gen_bcd_seq, gen_bitops, gen_misc};
    static const int weight[6] = {30, 25, 10, 8, 12, 15};
    int r = (int)rnd(g, 100), i = 0;
    while (r >= weight[i])
        r -= weight[i++];
    fns[i](g, sel);
}

static void generate(Gen *g)
{
    sweep(g, GRP_ALU, gen_alu, ALU_VARIANTS, 12);
    sequences(g, GRP_ALU, gen_alu, 1500, 4);

    /* Every count 0..40 for every shift/rotate in every size and count form. */
    for (int sel = 0; sel < SHIFT_VARIANTS; sel++) {
        int form = (sel / 2) % 3;
        for (int count = 0; count <= (form ? 40 : 0); count++) {
            case_begin(g, GRP_SHIFT, 1);
            gen_shift_one(g, sel, form ? count : 1);
            case_end(g);
        }
    }
    for (int sel = 0; sel < SHXD_VARIANTS; sel++) {
        for (int count = 0; count <= 40; count++) {
            case_begin(g, GRP_SHIFT, 1);
            gen_shxd(g, sel, count);
            case_end(g);
        }
    }
    sweep(g, GRP_SHIFT, gen_shift, SHIFT_VARIANTS + SHXD_VARIANTS, 3);
    sequences(g, GRP_SHIFT, gen_shift, 800, 4);

    sweep(g, GRP_MULDIV, gen_muldiv, MULDIV_VARIANTS, 50);
    sequences(g, GRP_MULDIV, gen_muldiv, 400, 3);

    sweep(g, GRP_BCD, gen_bcd, BCD_VARIANTS, 150);
    sequences(g, GRP_BCD, gen_bcd_seq, 500, 4);

    sweep(g, GRP_STRING, gen_string, STRING_VARIANTS, 36);
    sequences(g, GRP_STRING, gen_string, 500, 3);

    sweep(g, GRP_BITOPS, gen_bitops, BITOPS_VARIANTS, 40);
    sequences(g, GRP_BITOPS, gen_bitops, 400, 4);

    sweep(g, GRP_MISC, gen_misc, MISC_VARIANTS, 12);
    sequences(g, GRP_MISC, gen_misc, 500, 4);

    sequences(g, GRP_MIXED, gen_any, 1200, 5);

    for (int i = 0; i < 3000; i++) {
        case_begin(g, GRP_X87, 0);
        g->c->regs[EBX] = DIFF_BUF;
        g->reserved |= 1u << EBX;
        x87_depth = 0;
        x87_cw_set = 0;
        int k = 1 + (int)rnd(g, 9);
        for (int j = 0; j < k && room(g, 3 + 8); j++)
            gen_x87(g, i < 2 * X87_VARIANTS ? (j == 0 ? 0 : i % X87_VARIANTS) : -1);
        /* fnstsw ax; fstp tbyte [ebx + 0x70]; fstp tbyte [ebx + 0x7a] */
        emit8(g, 0xdf), emit8(g, 0xe0), done(g);
        x87_modrm_mem(g, 0xdb, 7, 0x70), done(g);
        x87_modrm_mem(g, 0xdb, 7, 0x7a), done(g);
        case_end(g);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT.bin\n", argv[0]);
        return 2;
    }
    Gen g = {.rng = SEED};
    generate(&g);
    if (ncases > DIFF_MAX_CASES) {
        fprintf(stderr, "gen: %u cases exceed the code area\n", ncases);
        return 1;
    }
    DiffHeader h = {DIFF_MAGIC, ncases, sizeof(DiffCase), SEED};
    FILE *f = fopen(argv[1], "wb");
    if (!f || fwrite(&h, sizeof(h), 1, f) != 1 ||
        fwrite(cases, sizeof(*cases), ncases, f) != ncases || fclose(f) != 0) {
        perror(argv[1]);
        return 1;
    }
    return 0;
}
