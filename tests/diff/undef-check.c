/* Checks the rules in tests/diff/UNDEFINED-FLAGS.md against the host CPU: each model below is
 * the full result (registers and CF PF AF ZF SF OF) of one instruction class, and the program runs
 * the real instruction on exhaustive or random inputs and counts disagreements. AMD hosts only. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "diff.h"

enum { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };

typedef struct St {
    uint32_t r[8];
    uint32_t fl;
    int de; /* the instruction raised #DE */
} St;

/* ---- running one instruction natively ---- */

static St cpu;
static uint8_t *jit;
static sigjmp_buf fault_jmp;

static void on_fpe(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    greg_t *g = ((ucontext_t *)ctx)->uc_mcontext.gregs;
    cpu.r[EAX] = g[REG_EAX];
    cpu.r[ECX] = g[REG_ECX];
    cpu.r[EDX] = g[REG_EDX];
    cpu.r[EBX] = g[REG_EBX];
    cpu.r[EBP] = g[REG_EBP];
    cpu.r[ESI] = g[REG_ESI];
    cpu.r[EDI] = g[REG_EDI];
    cpu.fl = g[REG_EFL];
    cpu.de = 1;
    siglongjmp(fault_jmp, 1);
}

static int jit_len;

static void jit_byte(uint32_t b)
{
    jit[jit_len++] = (uint8_t)b;
}

static void jit_addr(const void *p)
{
    uint32_t a = (uint32_t)(uintptr_t)p;
    memcpy(jit + jit_len, &a, 4);
    jit_len += 4;
}

/* Builds: pushad; load flags and registers from cpu; <insn>; store them back; popad; ret. */
static void jit_build(const uint8_t *insn, int len)
{
    static const int regs[7] = {EAX, ECX, EDX, EBX, EBP, ESI, EDI};
    jit_len = 0;
    jit_byte(0x60);
    jit_byte(0xff); /* push [cpu.fl]; popfd */
    jit_byte(0x35);
    jit_addr(&cpu.fl);
    jit_byte(0x9d);
    for (int i = 0; i < 7; i++) {
        jit_byte(0x8b);
        jit_byte(0x05 | regs[i] << 3);
        jit_addr(&cpu.r[regs[i]]);
    }
    memcpy(jit + jit_len, insn, (size_t)len);
    jit_len += len;
    for (int i = 0; i < 7; i++) {
        jit_byte(0x89);
        jit_byte(0x05 | regs[i] << 3);
        jit_addr(&cpu.r[regs[i]]);
    }
    jit_byte(0x9c); /* pushfd; pop [cpu.fl] */
    jit_byte(0x8f);
    jit_byte(0x05);
    jit_addr(&cpu.fl);
    jit_byte(0xfc);
    jit_byte(0x61);
    jit_byte(0xc3);
}

static void jit_run(St *s)
{
    cpu = *s;
    cpu.de = 0;
    if (!sigsetjmp(fault_jmp, 0))
        ((void (*)(void))jit)();
    else
        __asm__ volatile("cld");
    cpu.fl &= FL_ARITH | FL_DF;
    *s = cpu;
}

/* ---- inputs ---- */

static uint32_t rng = 0x2545f491;

static uint32_t rnd32(void)
{
    return diff_xorshift(&rng);
}

static uint32_t edge_val(void)
{
    static const uint32_t e[] = {0,      1,      2,      0x7f,       0x80,       0xff,
                                 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff};
    switch (rnd32() % 6) {
    case 0: return e[rnd32() % 12];
    case 1: return (rnd32() & 0xffffff00) | (e[rnd32() % 12] & 0xff);
    case 2: return rnd32() & 0xff;
    default: return rnd32();
    }
}

static void random_state(St *s)
{
    for (int i = 0; i < 8; i++)
        s->r[i] = edge_val();
    s->r[ESP] = 0;
    s->fl = rnd32() & FL_ARITH;
    s->de = 0;
}

/* ---- helpers for the models ---- */

static uint32_t mask(int size)
{
    return size == 32 ? 0xffffffffu : (1u << size) - 1;
}

static uint32_t msb(uint32_t v, int size)
{
    return (v >> (size - 1)) & 1;
}

static uint32_t szp(uint32_t r, int size)
{
    uint32_t f = 0;
    r &= mask(size);
    if (r == 0) f |= FL_ZF;
    if (msb(r, size)) f |= FL_SF;
    if (!__builtin_parity(r & 0xff)) f |= FL_PF;
    return f;
}

static uint32_t flag(int cond, uint32_t bit)
{
    return cond ? bit : 0;
}

static uint32_t get(const St *s, int reg, int size)
{
    if (size == 8 && reg >= 4) return (s->r[reg - 4] >> 8) & 0xff;
    return s->r[reg] & mask(size);
}

static void put(St *s, int reg, int size, uint32_t v)
{
    if (size == 8 && reg >= 4)
        s->r[reg - 4] = (s->r[reg - 4] & ~0xff00u) | (v & 0xff) << 8;
    else
        s->r[reg] = (s->r[reg] & ~mask(size)) | (v & mask(size));
}

static uint32_t set_arith(uint32_t fl, uint32_t which, uint32_t val)
{
    return (fl & ~which) | (val & which);
}

/* ---- the test loop ---- */

typedef void (*Model)(St *s, const void *arg);

static int failures, classes;
static unsigned long total_runs;

typedef struct Check {
    const char *name;
    unsigned runs, bad;
    int quiet; /* count disagreements without printing them */
} Check;

static void check_one(Check *c, const St *in, Model model, const void *arg)
{
    St want = *in, got = *in;
    model(&want, arg);
    jit_run(&got);
    c->runs++;
    want.fl &= FL_ARITH | FL_DF;
    if (!memcmp(want.r, got.r, sizeof(want.r)) && want.fl == got.fl && want.de == got.de) return;
    if (c->bad++ < 3 && !c->quiet) {
        printf("# %s: in", c->name);
        for (int i = 0; i < 8; i++)
            printf(" %08x", in->r[i]);
        printf(" fl=%03x\n#   want", in->fl);
        for (int i = 0; i < 8; i++)
            printf(" %08x", want.r[i]);
        printf(" fl=%03x de=%d\n#   got ", want.fl, want.de);
        for (int i = 0; i < 8; i++)
            printf(" %08x", got.r[i]);
        printf(" fl=%03x de=%d\n", got.fl, got.de);
    }
}

static void report(Check *c)
{
    if (c->bad) {
        printf("# FAIL %s: %u of %u inputs disagree with the documented rule\n", c->name, c->bad,
               c->runs);
        failures++;
    } else {
        printf("# ok %s: %u inputs\n", c->name, c->runs);
    }
    classes++;
    total_runs += c->runs;
}

/* ---- logic: AF = 0 ---- */

typedef struct Op {
    int op, size;
    uint32_t imm;
} Op;

static void m_logic(St *s, const void *arg)
{
    const Op *o = arg;
    uint32_t a = get(s, EBX, o->size), b = get(s, EDX, o->size), r;
    switch (o->op) {
    case 1: r = a | b; break;
    case 4: r = a & b; break;
    case 6: r = a ^ b; break;
    default: r = a & b; break; /* test */
    }
    if (o->op != 8) put(s, EBX, o->size, r);
    s->fl = set_arith(s->fl, FL_ARITH, szp(r, o->size)); /* CF = OF = AF = 0 */
}

/* ---- MUL/IMUL: SF ZF AF PF unchanged ---- */

static int64_t sx(uint32_t v, int size)
{
    return (int64_t)(int32_t)(v << (32 - size)) >> (32 - size);
}

/* op: 4 mul, 5 imul (one operand, source EBX), 6 imul r, r/m (EDX = EDX * EBX), 7 imul r, r/m,
 * imm (EDX = EBX * imm). */
static void m_mul(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size;
    uint32_t m = mask(n), src = get(s, EBX, n);
    int over;
    if (o->op == 4 || o->op == 5) {
        uint64_t a = get(s, EAX, n);
        int64_t sp = sx((uint32_t)a, n) * sx(src, n);
        uint64_t p = o->op == 4 ? a * src : (uint64_t)sp;
        uint32_t lo = (uint32_t)p & m, hi = (uint32_t)(p >> n) & m;
        if (n == 8) {
            put(s, EAX, 16, (uint32_t)p);
        } else {
            put(s, EAX, n, lo);
            put(s, EDX, n, hi);
        }
        over = o->op == 4 ? hi != 0 : sp != sx(lo, n);
    } else {
        int64_t a = o->op == 6 ? sx(get(s, EDX, n), n) : sx(o->imm, n);
        int64_t p = a * sx(src, n);
        put(s, EDX, n, (uint32_t)p);
        over = p != sx((uint32_t)p & m, n);
    }
    s->fl = set_arith(s->fl, FL_CF | FL_OF, over ? FL_CF | FL_OF : 0);
}

/* ---- DIV/IDIV: CF OF unchanged, SF = ZF = PF = 0, AF = 1; #DE changes nothing ---- */

static void m_div(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size;
    uint32_t m = mask(n), d = get(s, EBX, n);
    uint64_t lo = get(s, EAX, n == 8 ? 16 : n), hi = n == 8 ? 0 : get(s, EDX, n);
    uint64_t dividend = n == 8 ? lo : hi << n | lo;
    uint64_t q, r;
    if (d == 0) {
        s->de = 1;
        return;
    }
    if (o->op == 6) {
        q = dividend / d;
        r = dividend % d;
        if (q > m) {
            s->de = 1;
            return;
        }
    } else {
        int64_t sd = n == 32 ? (int64_t)dividend : sx((uint32_t)dividend, 2 * n);
        int64_t sv = sx(d, n);
        if (n == 32 && sd == INT64_MIN && sv == -1) {
            s->de = 1;
            return;
        }
        int64_t sq = sd / sv, sr = sd % sv;
        if (sq > (int64_t)(m >> 1) || sq < -(int64_t)(m >> 1) - 1) {
            s->de = 1;
            return;
        }
        q = (uint64_t)sq;
        r = (uint64_t)sr;
    }
    if (n == 8) {
        put(s, EAX, 8, (uint32_t)q);
        put(s, 4 /* AH */, 8, (uint32_t)r);
    } else {
        put(s, EAX, n, (uint32_t)q);
        put(s, EDX, n, (uint32_t)r);
    }
    s->fl = set_arith(s->fl, FL_SF | FL_ZF | FL_PF | FL_AF, FL_AF);
}

/* ---- shifts and rotates, count in CL, operand EBX ---- */

static void m_shift(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size;
    uint32_t m = mask(n), x = get(s, EBX, n), c = get(s, ECX, 8) & 31, r, cf, of;
    uint32_t cfin = s->fl & FL_CF;
    if (c == 0) return;
    switch (o->op) {
    case 0: /* rol */
    case 1: /* ror */ {
        uint32_t k = c % (uint32_t)n;
        if (o->op == 0) {
            r = k ? ((x << k) | (x >> (n - k))) & m : x;
            cf = r & 1;
            of = msb(r, n) ^ cf;
        } else {
            r = k ? ((x >> k) | (x << (n - k))) & m : x;
            cf = msb(r, n);
            of = msb(r, n) ^ ((r >> (n - 2)) & 1);
        }
        put(s, EBX, n, r);
        s->fl = set_arith(s->fl, FL_CF | FL_OF, flag(cf, FL_CF) | flag(of, FL_OF));
        return;
    }
    case 2: /* rcl */
    case 3: /* rcr */ {
        /* An (n+1)-bit rotate of CF:x. */
        uint32_t k = n == 32 ? c : c % (uint32_t)(n + 1);
        uint64_t w = (uint64_t)cfin << n | x, wm = ((uint64_t)1 << (n + 1)) - 1;
        if (k) {
            if (o->op == 2)
                w = ((w << k) | (w >> (n + 1 - k))) & wm;
            else
                w = ((w >> k) | (w << (n + 1 - k))) & wm;
        }
        r = (uint32_t)w & m;
        cf = (uint32_t)(w >> n) & 1;
        of = o->op == 2 ? msb(r, n) ^ cf : msb(r, n) ^ ((r >> (n - 2)) & 1);
        put(s, EBX, n, r);
        s->fl = set_arith(s->fl, FL_CF | FL_OF, flag(cf, FL_CF) | flag(of, FL_OF));
        return;
    }
    case 4: /* shl */
    case 6: /* sal, the /6 alias */
        r = c < (uint32_t)n ? (x << c) & m : 0;
        cf = c <= (uint32_t)n ? (x >> (n - c)) & 1 : 0;
        of = msb(r, n) ^ cf;
        break;
    case 5: /* shr */
        r = c < (uint32_t)n ? x >> c : 0;
        cf = c <= (uint32_t)n ? (x >> (c - 1)) & 1 : 0;
        of = c == 1 ? msb(x, n) : 0;
        break;
    default: { /* sar */
        int64_t v = sx(x, n);
        r = (uint32_t)(v >> (c < (uint32_t)n ? c : (uint32_t)n - 1)) & m;
        cf = c < (uint32_t)n ? (uint32_t)(v >> (c - 1)) & 1 : msb(x, n);
        if (c >= (uint32_t)n) r = msb(x, n) ? m : 0;
        of = 0;
        break;
    }
    }
    put(s, EBX, n, r);
    s->fl = set_arith(s->fl, FL_ARITH, szp(r, n) | flag(cf, FL_CF) | flag(of, FL_OF) | FL_AF);
}

/* SHLD/SHRD EBX, EDX, CL. */
static void m_shxd(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size, right = o->op;
    uint32_t m = mask(n), x = get(s, EBX, n), y = get(s, EDX, n), c = get(s, ECX, 8) & 31;
    uint32_t r, cf, of;
    if (c == 0) return;
    if (c <= (uint32_t)n) {
        if (!right) {
            r = ((uint64_t)x << c | (uint64_t)y >> (n - c)) & m;
            cf = (x >> (n - c)) & 1;
            of = c == 16 && n == 16 ? cf : msb(r, n) ^ cf;
        } else {
            r = ((uint64_t)x >> c | (uint64_t)y << (n - c)) & m;
            cf = (x >> (c - 1)) & 1;
            of = msb(r, n) ^ ((r >> (n - 2)) & 1);
        }
    } else { /* 16-bit with a count of 17..31: the source rotated by count - 16 */
        uint32_t k = c - 16;
        if (!right) {
            r = ((y << k) | (y >> (16 - k))) & m;
            of = 0;
        } else {
            r = ((y >> k) | (y << (16 - k))) & m;
            of = msb(r, n) ^ ((r >> (n - 2)) & 1);
        }
        cf = 0;
    }
    put(s, EBX, n, r);
    s->fl = set_arith(s->fl, FL_ARITH, szp(r, n) | flag(cf, FL_CF) | flag(of, FL_OF) | FL_AF);
}

/* ---- BT family (EBX, EDX or imm): only CF changes ---- */

static void m_bt(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size;
    uint32_t x = get(s, EBX, n);
    uint32_t bit = (o->imm == 0x100 ? get(s, EDX, n) : o->imm) & (uint32_t)(n - 1);
    uint32_t cf = (x >> bit) & 1;
    switch (o->op) {
    case 5: x |= 1u << bit; break;
    case 6: x &= ~(1u << bit); break;
    case 7: x ^= 1u << bit; break;
    }
    put(s, EBX, n, x);
    s->fl = set_arith(s->fl, FL_CF, flag(cf, FL_CF));
}

/* ---- BSF/BSR EBX, EDX: ZF only; zero source leaves the destination alone ---- */

static void m_bsx(St *s, const void *arg)
{
    const Op *o = arg;
    int n = o->size;
    uint32_t src = get(s, EDX, n);
    if (src == 0) {
        s->fl |= FL_ZF;
        return;
    }
    put(s, EBX, n, o->op ? 31 - (uint32_t)__builtin_clz(src) : (uint32_t)__builtin_ctz(src));
    s->fl &= ~FL_ZF;
}

/* The same on AMD processors that clear CF, OF, SF and AF and set PF from the bit index (from 0
 * for a zero source) instead of leaving them unchanged (seen on a later EPYC than the one the
 * rules were first measured on): the one instruction class whose undefined flags differ between
 * AMD generations, so the differential tests compare BSF/BSR with those flags masked. */
static void m_bsx_cleared(St *s, const void *arg)
{
    const Op *o = arg;
    uint32_t src = get(s, EDX, o->size);
    m_bsx(s, arg);
    uint32_t r = src ? get(s, EBX, o->size) : 0;
    s->fl &= ~(FL_CF | FL_OF | FL_SF | FL_AF | FL_PF);
    if (!__builtin_parity(r & 0xff)) s->fl |= FL_PF;
}

/* Runs n random inputs against two models of a class whose undefined flags depend on the AMD
 * generation: passes when the host follows either one on every input. */
static void run_random_either(const char *name, const uint8_t *insn, int len, Model first,
                              Model second, const Op *op, unsigned n)
{
    Check a = {name, 0, 0, 1}, b = {name, 0, 0, 1};
    jit_build(insn, len);
    for (unsigned i = 0; i < n; i++) {
        St s;
        random_state(&s);
        check_one(&a, &s, first, op);
        check_one(&b, &s, second, op);
    }
    if (a.bad && !b.bad) {
        printf("# ok %s: %u inputs (this host clears the undefined flags and sets PF from the "
               "index)\n",
               name, b.runs);
        classes++;
        total_runs += b.runs;
        return;
    }
    if (a.bad) { /* neither: show how the documented rule fails */
        a.quiet = 0;
        a.bad = a.runs = 0;
        for (unsigned i = 0; i < n; i++) {
            St s;
            random_state(&s);
            check_one(&a, &s, first, op);
        }
    }
    report(&a);
}

/* ---- BCD ---- */

static void m_bcd(St *s, const void *arg)
{
    const Op *o = arg;
    uint32_t ax = get(s, EAX, 16), al = ax & 0xff, ah = ax >> 8;
    uint32_t cf = s->fl & FL_CF, af = s->fl & FL_AF, fl;
    switch (o->op) {
    case 0x27:   /* daa */
    case 0x2f: { /* das */
        int sub = o->op == 0x2f;
        uint32_t r = al, ncf = 0, naf = 0;
        if ((al & 0xf) > 9 || af) {
            ncf = sub ? r < 6 : r + 6 > 0xff;
            r = (sub ? r - 6 : r + 6) & 0xff;
            naf = 1;
        }
        if (al > 0x99 || cf) {
            r = (sub ? r - 0x60 : r + 0x60) & 0xff;
            ncf = 1;
        }
        if (cf) ncf = 1;
        uint32_t of = sub ? (al & 0x80) && !(r & 0x80) : !(al & 0x80) && (r & 0x80);
        put(s, EAX, 8, r);
        fl = szp(r, 8) | flag(ncf, FL_CF) | flag(naf, FL_AF) | flag(of, FL_OF);
        break;
    }
    case 0x37:   /* aaa */
    case 0x3f: { /* aas: a 16-bit add/sub of 0x106 (or 0) sets SF ZF PF OF */
        int adj = (al & 0xf) > 9 || af, sub = o->op == 0x3f;
        uint32_t k = adj ? 0x106 : 0;
        uint32_t r = (sub ? ax - k : ax + k) & 0xffff;
        uint32_t of = sub ? ((ax ^ k) & (ax ^ r) & 0x8000) : ((ax ^ r) & (k ^ r) & 0x8000);
        put(s, EAX, 16, r & 0xff0f);
        fl = flag(r == 0, FL_ZF) | flag(r & 0x8000, FL_SF) |
             flag(!__builtin_parity(r & 0xff), FL_PF) | flag(of, FL_OF) | flag(adj, FL_CF | FL_AF);
        break;
    }
    case 0xd4: /* aam */
        if (o->imm == 0) {
            s->de = 1;
            return;
        }
        put(s, EAX, 16, (al / o->imm) << 8 | (al % o->imm));
        fl = szp(al % o->imm, 8);
        break;
    default: { /* aad: the flags of the 8-bit add AL + AH * imm */
        uint32_t b = (ah * o->imm) & 0xff, r = (al + b) & 0xff;
        put(s, EAX, 16, r);
        fl = szp(r, 8) | flag(al + b > 0xff, FL_CF) | flag((al & 0xf) + (b & 0xf) > 0xf, FL_AF) |
             flag((al ^ r) & (b ^ r) & 0x80, FL_OF);
        break;
    }
    }
    s->fl = set_arith(s->fl, FL_ARITH, fl);
}

/* ---- BSWAP with a 16-bit operand: the low word becomes 0 ---- */

static void m_bswap16(St *s, const void *arg)
{
    (void)arg;
    put(s, EBX, 16, 0);
}

/* ---- driver ---- */

static void run_random(const char *name, const uint8_t *insn, int len, Model model, const Op *op,
                       unsigned n, void (*tweak)(St *))
{
    Check c = {name, 0, 0, 0};
    jit_build(insn, len);
    for (unsigned i = 0; i < n; i++) {
        St s;
        random_state(&s);
        if (tweak) tweak(&s);
        check_one(&c, &s, model, op);
    }
    report(&c);
}

static void small_count(St *s)
{
    s->r[ECX] = (s->r[ECX] & ~0xffu) | (rnd32() % 64);
}

/* Valid divisions most of the time: a high half below the divisor. */
static void div_input(St *s)
{
    if (rnd32() % 4) s->r[EDX] = rnd32() % 4 ? s->r[EBX] / 2 : 0;
    if (rnd32() % 4 == 0)
        s->r[EAX] = (s->r[EAX] & 0xffff0000) | ((s->r[EBX] & 0xff) >> 1) << 8 | (s->r[EAX] & 0xff);
}

static const int sizes[3] = {8, 16, 32};

static int mk(uint8_t *b, int size, int op0, int op1)
{
    int n = 0;
    if (size == 16) b[n++] = 0x66;
    b[n++] = (uint8_t)op0;
    if (op1 >= 0) b[n++] = (uint8_t)op1;
    return n;
}

int main(void)
{
    char vendor[13] = {0};
    uint32_t a, b, c, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0));
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    if (strcmp(vendor, "AuthenticAMD")) {
        printf("SKIP diff.undef: host vendor %s, the documented rules are AMD's\n", vendor);
        return 0;
    }
    jit = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (jit == MAP_FAILED) {
        printf("SKIP diff.undef: no executable memory\n");
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);

    uint8_t insn[8];
    char name[64];
    static const char *const logic_names[9] = {"", "or", "", "", "and", "", "xor", "", "test"};
    for (int si = 0; si < 3; si++) {
        int n = sizes[si], w = n != 8;
        for (int op = 1; op <= 8; op++) {
            if (!logic_names[op][0]) continue;
            Op o = {op, n, 0};
            int len = mk(insn, n, op == 8 ? 0x84 | w : (op << 3) | w, 0xd3); /* op ebx, edx */
            snprintf(name, sizeof(name), "%s%d", logic_names[op], n);
            run_random(name, insn, len, m_logic, &o, 20000, NULL);
        }
    }

    for (int si = 0; si < 3; si++) {
        int n = sizes[si], w = n != 8;
        for (int op = 4; op <= 5; op++) {
            Op o = {op, n, 0};
            int len = mk(insn, n, 0xf6 | w, 0xc3 | op << 3);
            snprintf(name, sizeof(name), "%s%d", op == 4 ? "mul" : "imul", n);
            run_random(name, insn, len, m_mul, &o, 50000, NULL);
        }
        for (int op = 6; op <= 7; op++) {
            Op o = {op, n, 0};
            int len = mk(insn, n, 0xf6 | w, 0xc3 | op << 3);
            snprintf(name, sizeof(name), "%s%d", op == 6 ? "div" : "idiv", n);
            run_random(name, insn, len, m_div, &o, 100000, div_input);
        }
        if (n == 8) continue;
        Op o2 = {6, n, 0};
        int len = mk(insn, n, 0x0f, 0xaf);
        insn[len++] = 0xd3; /* imul edx, ebx */
        snprintf(name, sizeof(name), "imul%d_rm", n);
        run_random(name, insn, len, m_mul, &o2, 50000, NULL);
        Op o3 = {7, n, n == 16 ? 0x8123u : 0x80001234u};
        len = mk(insn, n, 0x69, 0xd3); /* imul edx, ebx, imm */
        for (int i = 0; i < n / 8; i++)
            insn[len++] = (uint8_t)(o3.imm >> (8 * i));
        snprintf(name, sizeof(name), "imul%d_imm", n);
        run_random(name, insn, len, m_mul, &o3, 50000, NULL);
    }

    static const char *const shift_names[8] = {"rol", "ror", "rcl", "rcr",
                                               "shl", "shr", "sal", "sar"};
    for (int op = 0; op < 8; op++) {
        for (int si = 0; si < 3; si++) {
            int n = sizes[si];
            Op o = {op, n, 0};
            int len = mk(insn, n, 0xd2 | (n != 8), 0xc3 | op << 3); /* op ebx, cl */
            snprintf(name, sizeof(name), "%s%d", shift_names[op], n);
            if (n == 8) { /* exhaustive: every value, count 0..63 and CF in */
                Check c8 = {name, 0, 0, 0};
                jit_build(insn, len);
                for (uint32_t x = 0; x < 256; x++) {
                    for (uint32_t cnt = 0; cnt < 64; cnt++) {
                        St s;
                        random_state(&s);
                        s.r[EBX] = (s.r[EBX] & ~0xffu) | x;
                        s.r[ECX] = (s.r[ECX] & ~0xffu) | cnt;
                        check_one(&c8, &s, m_shift, &o);
                        s.fl ^= FL_CF | FL_OF | FL_AF;
                        check_one(&c8, &s, m_shift, &o);
                    }
                }
                report(&c8);
            } else {
                run_random(name, insn, len, m_shift, &o, 60000, small_count);
            }
        }
    }
    for (int right = 0; right < 2; right++) {
        for (int n = 16; n <= 32; n += 16) {
            Op o = {right, n, 0};
            int len = mk(insn, n, 0x0f, right ? 0xad : 0xa5);
            insn[len++] = 0xd3; /* shxd ebx, edx, cl */
            snprintf(name, sizeof(name), "%s%d", right ? "shrd" : "shld", n);
            run_random(name, insn, len, m_shxd, &o, 100000, small_count);
        }
    }

    static const char *const bt_names[4] = {"bt", "bts", "btr", "btc"};
    for (int op = 4; op < 8; op++) {
        for (int n = 16; n <= 32; n += 16) {
            Op o = {op, n, 0x100};
            int len = mk(insn, n, 0x0f, 0xa3 | (op - 4) << 3);
            insn[len++] = 0xd3;
            snprintf(name, sizeof(name), "%s%d", bt_names[op - 4], n);
            run_random(name, insn, len, m_bt, &o, 20000, NULL);
            o.imm = 0x2b;
            len = mk(insn, n, 0x0f, 0xba);
            insn[len++] = (uint8_t)(0xc3 | op << 3);
            insn[len++] = 0x2b;
            snprintf(name, sizeof(name), "%s%d_imm", bt_names[op - 4], n);
            run_random(name, insn, len, m_bt, &o, 20000, NULL);
        }
    }
    for (int op = 0; op < 2; op++) {
        for (int n = 16; n <= 32; n += 16) {
            Op o = {op, n, 0};
            int len = mk(insn, n, 0x0f, op ? 0xbd : 0xbc);
            insn[len++] = 0xda; /* bsf ebx, edx */
            snprintf(name, sizeof(name), "%s%d", op ? "bsr" : "bsf", n);
            run_random_either(name, insn, len, m_bsx, m_bsx_cleared, &o, 40000);
        }
    }

    /* BCD: every AX for daa das aaa aas, with all four AF/CF inputs. */
    static const uint8_t bcd_ops[4] = {0x27, 0x2f, 0x37, 0x3f};
    static const char *const bcd_names[4] = {"daa", "das", "aaa", "aas"};
    for (int i = 0; i < 4; i++) {
        Op o = {bcd_ops[i], 8, 0};
        Check cb = {bcd_names[i], 0, 0, 0};
        jit_build(&bcd_ops[i], 1);
        for (uint32_t ax = 0; ax < 0x10000; ax++) {
            St s;
            random_state(&s);
            s.r[EAX] = (s.r[EAX] & 0xffff0000) | ax;
            for (uint32_t f = 0; f < 4; f++) {
                s.fl = (s.fl & ~(FL_AF | FL_CF)) | flag(f & 1, FL_CF) | flag(f & 2, FL_AF);
                check_one(&cb, &s, m_bcd, &o);
            }
        }
        report(&cb);
    }
    /* AAM/AAD: every immediate (0 included), every AL, a spread of AH. */
    for (int aad = 0; aad < 2; aad++) {
        Check cb = {aad ? "aad" : "aam", 0, 0, 0};
        for (uint32_t imm = 0; imm < 256; imm++) {
            Op o = {aad ? 0xd5 : 0xd4, 8, imm};
            uint8_t code[2] = {(uint8_t)o.op, (uint8_t)imm};
            jit_build(code, 2);
            for (uint32_t al = 0; al < 256; al++) {
                St s;
                random_state(&s);
                s.r[EAX] = (s.r[EAX] & 0xffff0000) | (rnd32() & 0xff00) | al;
                check_one(&cb, &s, m_bcd, &o);
            }
        }
        report(&cb);
    }

    static const uint8_t bswap16[3] = {0x66, 0x0f, 0xcb};
    run_random("bswap16", bswap16, 3, m_bswap16, NULL, 20000, NULL);
    if (failures)
        printf("FAIL diff.undef: %d of %d instruction classes disagree with UNDEFINED-FLAGS.md\n",
               failures, classes);
    else
        printf("PASS diff.undef: %d instruction classes, %lu inputs match UNDEFINED-FLAGS.md\n",
               classes, total_runs);
    return failures ? 1 : 0;
}
