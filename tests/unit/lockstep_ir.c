/* Random IR blocks through both back ends: every opcode with register, memory-slot and constant
 * operands, many simultaneously live temporaries (register pressure, spills), forward branches
 * and counted loops, loads and stores hitting the TLB, missing it, crossing pages and reaching
 * unassigned memory, helper calls with each flag combination (and the lazy-flags helpers), and
 * faults from CHKRANGE and helpers. The interpreter and the x86-64 code must leave identical
 * guest state, memory, exit slot and fault position. */
#include "test.h"

#include <setjmp.h>

#include "backend/backend.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"
#include "exec/tb.h"
#include "ir/ir.h"

#define RAM_SIZE (1u << 20)
#define NBLOCKS  3000

/* ---- test helpers ---- */

static uint32_t h_pure_fn(void *env, uint32_t a, uint32_t b, uint32_t c)
{
    return a * 3 + (b ^ (c >> 3));
}

/* Reads and writes guest registers. */
static uint32_t h_rw_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    uint32_t v = env->regs[a & 7];
    env->regs[b & 7] = v + c;
    env->cc_src ^= a;
    return v ^ env->regs[(a >> 3) & 7];
}

static uint32_t h_ro_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    uint32_t s = a;
    for (int i = 0; i < 8; i++)
        s = s * 31 + env->regs[i];
    return s + env->cc_dst;
}

/* Writes a guest register without reading any. */
static uint32_t h_wo_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    env->regs[b & 7] = a;
    return c;
}

static uint32_t h_raise_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    if ((a & 15) == 5) x86_raise_exception_err(opaque, EXCP_GP, 0);
    return a + b + c;
}

static const IrHelper h_pure = {h_pure_fn, "pure", IRH_PURE};
static const IrHelper h_rw = {h_rw_fn, "rw", IRH_NO_FAULT};
static const IrHelper h_ro = {h_ro_fn, "ro", IRH_NO_WRITE_G | IRH_NO_FAULT};
static const IrHelper h_raise = {h_raise_fn, "raise", IRH_NO_WRITE_G};
static const IrHelper h_wo = {h_wo_fn, "wo", IRH_NO_READ_G | IRH_NO_FAULT};

/* ---- two CPUs ---- */

typedef struct Side {
    AddressSpace mem, io;
    Clock clock;
    uint8_t *ram;
    CPUX86State *env;
} Side;

static void side_init(Side *s, bool jit)
{
    as_init(&s->mem, "mem", 1ull << 32);
    as_init(&s->io, "io", 0x10000);
    s->ram = calloc(1, RAM_SIZE);
    as_add_ram(&s->mem, "ram", 0, RAM_SIZE, s->ram);
    clock_init(&s->clock, true, 0);
    s->env = x86_cpu_new(&s->mem, &s->io, &s->clock, jit);
    x86_cpu_setup_flat32(s->env, 0x1000, 0x08, 0x10, 0, 0);
}

static void side_free(Side *s)
{
    x86_cpu_free(s->env);
    as_destroy(&s->mem);
    as_destroy(&s->io);
    free(s->ram);
}

typedef struct Outcome {
    bool faulted;
    int slot;
    const TranslationBlock *last;
} Outcome;

static Outcome side_run(Side *s, TranslationBlock *tb)
{
    CPUX86State *env = s->env;
    Outcome o = {0};
    env->budget = 1000;
    if (setjmp(env->jmp_env) == 0) {
        o.last = env->backend->exec(env, tb, &o.slot);
    } else {
        o.faulted = true;
    }
    env->cur_tb = NULL;
    return o;
}

/* ---- random blocks ---- */

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}
static uint32_t rnd_below(uint32_t n)
{
    return rnd() % n;
}

enum { G_REGS = 0, G_EIP = 8, G_CC_OP, G_CC_DST, G_CC_SRC, G_CC_SRC2, G_COUNT };
static IrGlobalDesc globals[G_COUNT];

static void init_globals(void)
{
    static const char *const names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
    for (int i = 0; i < 8; i++)
        globals[i] = (IrGlobalDesc){names[i], X86_SLOT(regs[i])};
    globals[G_EIP] = (IrGlobalDesc){"eip", X86_SLOT(eip)};
    globals[G_CC_OP] = (IrGlobalDesc){"cc_op", X86_SLOT(cc_op)};
    globals[G_CC_DST] = (IrGlobalDesc){"cc_dst", X86_SLOT(cc_dst)};
    globals[G_CC_SRC] = (IrGlobalDesc){"cc_src", X86_SLOT(cc_src)};
    globals[G_CC_SRC2] = (IrGlobalDesc){"cc_src2", X86_SLOT(cc_src2)};
}

typedef struct Gen {
    IrBlock *b;
    IrVar pool[96]; /* defined temporaries */
    int npool;
    IrVar last_addr; /* address of the previous access, reused for read-modify-write */
} Gen;

static uint32_t interesting(void)
{
    static const uint32_t v[] = {0,          1,          2,          31,         32,
                                 0x7f,       0x80,       0xff,       0x7fff,     0x8000,
                                 0xffff,     0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe,
                                 0x12345678, 0x00000fff, 0x00001000, 0x000ffffd};
    return rnd_below(3) ? v[rnd_below(sizeof v / sizeof v[0])] : rnd();
}

/* A source operand: temporary, global or constant. */
static IrVar src(Gen *g)
{
    uint32_t k = rnd_below(10);
    if (k < 5 && g->npool) return g->pool[rnd_below(g->npool)];
    if (k < 8) return ir_global(g->b, (int)rnd_below(G_COUNT));
    return ir_const(g->b, interesting());
}

static IrVar nonconst_src(Gen *g)
{
    if (g->npool && rnd_below(2)) return g->pool[rnd_below(g->npool)];
    return ir_global(g->b, (int)rnd_below(G_COUNT));
}

/* A destination: a new temporary, an existing one, or a global (not EIP). */
static IrVar dst(Gen *g)
{
    uint32_t k = rnd_below(10);
    if (k < 5 || !g->npool) {
        IrVar t = ir_temp(g->b);
        if (g->npool < (int)(sizeof g->pool / sizeof g->pool[0]))
            g->pool[g->npool++] = t;
        else
            g->pool[rnd_below(g->npool)] = t;
        return t;
    }
    if (k < 8) return g->pool[rnd_below(g->npool)];
    int gl = (int)rnd_below(G_COUNT);
    return ir_global(g->b, gl == G_EIP ? G_CC_SRC2 : gl);
}

/* An address temporary: a mostly in-RAM address near a few hot pages, sometimes page-crossing or
 * beyond RAM (unassigned). */
static IrVar addr(Gen *g)
{
    IrBlock *b = g->b;
    if (g->last_addr && rnd_below(2)) return g->last_addr;
    IrVar t = ir_temp(b);
    g->last_addr = t;
    uint32_t k = rnd_below(16);
    uint32_t base = k < 10 ? 0x20000 + 0x1000 * rnd_below(3) : k < 13 ? 0x40ffe : 0xfee00000u;
    if (rnd_below(3) == 0) {
        ir_movi(b, t, base + rnd_below(4096));
    } else {
        IrVar m = ir_temp(b);
        ir_binopi(b, IR_AND, m, nonconst_src(g), 0xfff);
        ir_binopi(b, IR_ADD, t, m, base);
    }
    return t;
}

static void gen_op(Gen *g)
{
    IrBlock *b = g->b;
    static const IrOpc binops[] = {IR_ADD, IR_SUB, IR_MUL, IR_MULHU, IR_MULHS, IR_MULSO, IR_AND,
                                   IR_OR,  IR_XOR, IR_SHL, IR_SHR,   IR_SAR,   IR_ROL,   IR_ROR};
    static const IrOpc unops[] = {IR_NEG,    IR_NOT,   IR_SEXT8, IR_SEXT16, IR_ZEXT8,
                                  IR_ZEXT16, IR_BSWAP, IR_CTZ,   IR_CLZ,    IR_MOV};
    switch (rnd_below(15)) {
    case 0:
    case 1:
    case 2: {
        IrVar a = src(g), c = src(g);
        ir_binop(b, binops[rnd_below(sizeof binops / sizeof binops[0])], dst(g), a, c);
        break;
    }
    case 3: {
        IrVar a = src(g);
        ir_unop(b, unops[rnd_below(sizeof unops / sizeof unops[0])], dst(g), a);
        break;
    }
    case 4: {
        unsigned pos = rnd_below(32), len = 1 + rnd_below(32 - pos);
        if (rnd_below(2)) {
            IrVar a = src(g);
            ir_extract(b, dst(g), a, pos, len);
        } else {
            IrVar a = src(g), v = src(g);
            if (rnd_below(2)) {
                /* In-place form (partial register writes): d must already be defined. */
                IrVar d = g->npool && rnd_below(2) ? g->pool[rnd_below(g->npool)]
                                                   : ir_global(b, (int)rnd_below(8));
                ir_deposit(b, d, d, v, rnd_below(2) ? 0 : pos,
                           rnd_below(2) ? 8u << rnd_below(2) : len);
            } else {
                ir_deposit(b, dst(g), a, v, pos, len);
            }
        }
        break;
    }
    case 5: {
        IrVar a = src(g), c = src(g);
        ir_setcond(b, (IrCond)rnd_below(IRC_COUNT), dst(g), a, c);
        break;
    }
    case 6: {
        if (!g->npool) break;
        IrVar a = src(g), c = src(g), v = src(g);
        IrVar d = rnd_below(2) ? g->pool[rnd_below(g->npool)] : ir_global(b, (int)rnd_below(8));
        ir_movcond(b, (IrCond)rnd_below(IRC_COUNT), d, a, c, v);
        break;
    }
    case 7:
    case 8: {
        static const unsigned sizes[] = {1, 2, 4};
        unsigned size = sizes[rnd_below(3)];
        IrVar ad = addr(g);
        if (rnd_below(2)) {
            ir_ld(b, dst(g), ad, size, rnd_below(2), 0);
        } else {
            IrVar v = src(g);
            ir_st(b, ad, v, size, 0);
        }
        break;
    }
    case 9: {
        /* Mostly passing range checks, sometimes failing ones. */
        IrVar off = src(g);
        IrVar lo = rnd_below(2) ? ir_const(b, rnd_below(4) ? 0 : interesting()) : src(g);
        IrVar hi = rnd_below(2) ? ir_const(b, rnd_below(4) ? 0xffffffff : interesting()) : src(g);
        ir_chkrange(b, off, lo, hi, 1 << rnd_below(3), EXCP_GP);
        break;
    }
    case 11: {
        /* Rotates and shifts through the flags helper, as the translator emits them. */
        static const unsigned sizes[] = {1, 2, 4};
        unsigned kind = rnd_below(4) ? rnd_below(2) : rnd_below(8);
        IrVar count = rnd_below(4) ? ir_const(b, rnd_below(40)) : src(g);
        IrVar x = src(g);
        if (rnd_below(2)) ir_movi(b, ir_global(b, G_CC_OP), rnd_below(CC_OP_COUNT));
        ir_call(b, &hlp_shift, rnd_below(8) ? dst(g) : 0, x, count,
                ir_const(b, kind | sizes[rnd_below(3)] << 8));
        break;
    }
    case 10: {
        static const IrHelper *const hs[] = {&h_pure,        &h_rw,      &h_ro, &h_raise,
                                             &hlp_cc_eflags, &hlp_cc_cf, &h_wo};
        const IrHelper *h = hs[rnd_below(sizeof hs / sizeof hs[0])];
        IrVar a = src(g), c = src(g), v = src(g);
        if (h == &hlp_cc_eflags || h == &hlp_cc_cf) {
            a = rnd_below(2) ? ir_const(b, rnd_below(CC_OP_COUNT)) : ir_global(b, G_CC_OP);
            c = v = 0;
            if (rnd_below(2)) {
                /* The translator's pattern: flags computed for one test against a mask. */
                static const uint32_t masks[] = {CF_MASK, ZF_MASK, SF_MASK | OF_MASK,
                                                 PF_MASK, AF_MASK, CF_MASK | ZF_MASK,
                                                 0x8d5,   0x200};
                IrVar f = ir_temp(b);
                ir_call(b, h, f, a, 0, 0);
                IrVar m = ir_const(b, masks[rnd_below(sizeof masks / sizeof masks[0])]);
                IrCond cond = rnd_below(2) ? IRC_TSTNE : IRC_TSTEQ;
                if (rnd_below(3))
                    ir_setcond(b, cond, dst(g), f, m);
                else
                    ir_binop(b, IR_AND, dst(g), f, m);
                break;
            }
        }
        ir_call(b, h, rnd_below(4) ? dst(g) : 0, a, c, v);
        break;
    }
    case 12: {
        /* Divisions behind the guards the translator puts in front of them. */
        int skip = ir_new_label(b);
        IrVar a = src(g), c = src(g), d = dst(g);
        ir_mov(b, d, c); /* defined on both paths */
        if (rnd_below(2)) {
            IrVar hi = rnd_below(2) ? ir_const(b, 0) : src(g);
            ir_brcond(b, IRC_GEU, hi, c, skip);
            ir_emit(b, IR_DIVU2, d, a, c, hi);
        } else {
            int ok = ir_new_label(b);
            ir_brcond(b, IRC_EQ, c, ir_const(b, 0), skip);
            ir_brcond(b, IRC_NE, c, ir_const(b, 0xffffffffu), ok);
            ir_brcond(b, IRC_EQ, a, ir_const(b, 0x80000000u), skip);
            ir_label(b, ok);
            ir_binop(b, IR_DIVS, d, a, c);
        }
        ir_label(b, skip);
        break;
    }
    default: {
        IrVar a = src(g);
        ir_mov(b, dst(g), a);
        break;
    }
    }
}

/* A block: instructions of a few ops each, forward branches over some of them, maybe a counted
 * loop, and an exit. Returns the number of guest instructions. */
static int gen_block(IrBlock *b)
{
    ir_block_reset(b);
    Gen g = {.b = b};
    int ninsns = 1 + (int)rnd_below(24);
    int pending_label = -1, label_at = 0, saved_npool = 0;
    int loop_label = -1, loop_end = -1;
    IrVar loop_ctr = 0;
    uint32_t loop_n = 0;
    for (int i = 0; i < ninsns; i++) {
        ir_insn_start(b, (uint32_t)i * 3, rnd_below(CC_OP_COUNT));
        if (pending_label >= 0 && i >= label_at) {
            ir_label(b, pending_label);
            pending_label = -1;
            g.last_addr = 0;
            g.npool = saved_npool; /* temporaries defined on one path only */
        }
        if (loop_label < 0 && pending_label < 0 && rnd_below(8) == 0) {
            loop_ctr = ir_temp(b);
            ir_movi(b, loop_ctr, 0);
            loop_label = ir_new_label(b);
            loop_n = 1 + rnd_below(5);
            ir_label(b, loop_label);
            g.last_addr = 0;
            loop_end = i + (int)rnd_below(3);
        }
        int nops = 1 + (int)rnd_below(6);
        for (int k = 0; k < nops; k++)
            gen_op(&g);
        if (loop_label >= 0 && i >= loop_end) {
            ir_binopi(b, IR_ADD, loop_ctr, loop_ctr, 1);
            ir_brcond(b, IRC_LTU, loop_ctr, ir_const(b, loop_n), loop_label);
            loop_label = -2; /* one loop per block */
        }
        if (pending_label < 0 && loop_label < 0 && rnd_below(4) == 0) {
            pending_label = ir_new_label(b);
            label_at = i + 1 + (int)rnd_below(3);
            saved_npool = g.npool;
            if (rnd_below(2)) {
                ir_brcond(b, (IrCond)rnd_below(IRC_COUNT), src(&g), src(&g), pending_label);
            } else {
                /* dec/jnz-like: an ALU result, a flag store, a test of the result. */
                static const IrOpc alu[] = {IR_ADD, IR_SUB, IR_AND, IR_OR, IR_XOR};
                IrVar x = src(&g), y = src(&g), r = dst(&g);
                ir_binop(b, alu[rnd_below(5)], r, x, y);
                if (rnd_below(2)) ir_mov(b, ir_global(b, G_CC_DST), r);
                ir_brcond(b, (IrCond)rnd_below(IRC_COUNT), r,
                          ir_const(b, rnd_below(2) ? 0 : 0xffffffffu), pending_label);
            }
        }
    }
    if (pending_label >= 0) ir_label(b, pending_label);
    if (loop_label >= 0) {
        ir_binopi(b, IR_ADD, loop_ctr, loop_ctr, 1);
        ir_brcond(b, IRC_LTU, loop_ctr, ir_const(b, loop_n), loop_label);
    }
    ir_movi(b, ir_global(b, G_EIP), 0x1000 + rnd_below(64));
    switch (rnd_below(3)) {
    case 0: ir_goto_tb(b, rnd_below(2)); break;
    case 1: ir_exit_lookup(b); break;
    default: ir_exit(b); break;
    }
    return ninsns;
}

/* ---- comparison ---- */

static bool compare(Side *a, Side *b, Outcome oa, Outcome ob, TranslationBlock *ta,
                    TranslationBlock *tb, int n)
{
    size_t slots = X86_SLOT(tmp) * 4;
    if (oa.faulted != ob.faulted) {
        printf("# block %d: interp %s, jit %s\n", n, oa.faulted ? "faulted" : "exited",
               ob.faulted ? "faulted" : "exited");
        return false;
    }
    if (!oa.faulted && (oa.slot != ob.slot || (oa.last == ta) != (ob.last == tb))) {
        printf("# block %d: exit slot %d vs %d\n", n, oa.slot, ob.slot);
        return false;
    }
    if (memcmp(a->env, b->env, slots)) {
        const uint32_t *sa = (const uint32_t *)a->env, *sb = (const uint32_t *)b->env;
        for (size_t i = 0; i < slots / 4; i++) {
            if (sa[i] != sb[i]) {
                printf("# block %d: slot %zu: interp %08x, jit %08x\n", n, i, sa[i], sb[i]);
                break;
            }
        }
        return false;
    }
    if (a->env->budget != b->env->budget || a->env->pending.vector != b->env->pending.vector) {
        printf("# block %d: budget %d vs %d, pending %d vs %d\n", n, a->env->budget, b->env->budget,
               a->env->pending.vector, b->env->pending.vector);
        return false;
    }
    if (memcmp(a->ram, b->ram, RAM_SIZE)) {
        size_t k = 0;
        while (a->ram[k] == b->ram[k])
            k++;
        printf("# block %d: RAM at %zx: interp %02x, jit %02x\n", n, k, a->ram[k], b->ram[k]);
        return false;
    }
    return true;
}

static void run_blocks(bool optimize, uint64_t seed)
{
    init_globals();
    Side a, b;
    side_init(&a, false);
    side_init(&b, true);
    if (a.env->backend == b.env->backend) {
        printf("# no x86-64 back end on this host\n");
        side_free(&a);
        side_free(&b);
        return;
    }
    IrBlock ir;
    ir_block_init(&ir, globals, G_COUNT);
    rng_state = seed;
    int failures = 0, faults = 0;
    int nblocks = getenv("LOCKSTEP_BLOCKS") ? atoi(getenv("LOCKSTEP_BLOCKS")) : NBLOCKS;
    for (int n = 0; n < nblocks && failures < 3; n++) {
        /* Same random guest state on both sides. */
        for (int i = 0; i < 8; i++)
            a.env->regs[i] = interesting();
        a.env->cc_op = rnd_below(CC_OP_COUNT);
        a.env->cc_dst = interesting();
        a.env->cc_src = interesting();
        a.env->cc_src2 = rnd_below(4) ? rnd_below(2) : interesting();
        for (uint32_t k = 0x20000; k < 0x23000; k += 4) {
            uint32_t v = rnd();
            memcpy(a.ram + k, &v, 4);
        }
        memcpy(b.env, a.env, X86_SLOT(tmp) * 4);
        memcpy(b.ram, a.ram, RAM_SIZE);
        a.env->pending.vector = b.env->pending.vector = -1;

        int ninsns = gen_block(&ir);
        if (optimize) ir_optimize(&ir);
        if (!ir_verify(&ir)) {
            ir_dump(&ir, stdout);
            failures++;
            continue;
        }
        TranslationBlock *t[2];
        Side *s[2] = {&a, &b};
        for (int k = 0; k < 2; k++) {
            TbCache *c = s[k]->env->tbs;
            for (int attempt = 0; attempt < 2; attempt++) {
                t[k] = tb_arena_alloc(c, sizeof(TranslationBlock));
                if (t[k]) {
                    memset(t[k], 0, sizeof *t[k]);
                    t[k]->pc = 0x1000;
                    t[k]->flags = s[k]->env->hflags;
                    t[k]->icount = (uint16_t)ninsns;
                    t[k]->phys_page2 = UINT32_MAX;
                    if (s[k]->env->backend->gen(c, t[k], &ir)) break;
                }
                tb_flush(c); /* arena or code buffer full */
            }
        }
        Outcome oa = side_run(&a, t[0]), ob = side_run(&b, t[1]);
        faults += oa.faulted;
        if (!compare(&a, &b, oa, ob, t[0], t[1], n)) {
            ir_dump(&ir, stdout);
            failures++;
        }
    }
    CHECK_EQ(failures, 0);
    CHECK(faults > 0 && faults < nblocks);
    ir_block_free(&ir);
    side_free(&a);
    side_free(&b);
}

TEST(random_blocks_unoptimised)
{
    run_blocks(false, 0x243f6a8885a308d3ull);
}
TEST(random_blocks_optimised)
{
    run_blocks(true, 0x13198a2e03707344ull);
}
