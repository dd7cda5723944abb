/* CPU engine end to end without a board: small machine-code snippets run in flat protected
 * mode until HLT, then registers, flags and memory are checked. */
#include "test.h"

#include "backend/backend.h"
#include "cpu/x86/cpu.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"

/* tests/unit/jit_cpu_exec.c runs the same tests with the x86-64 back end. */
#ifndef RIG_JIT
#define RIG_JIT false
#endif

typedef struct Rig {
    AddressSpace mem, io;
    Clock clock;
    uint8_t *ram;
    CPUX86State *env;
} Rig;

#define RAM_SIZE (4u << 20)

static uint64_t rig_icount(void *opaque) { return x86_cpu_icount(opaque); }

static void rig_init(Rig *r)
{
    as_init(&r->mem, "mem", 1ull << 32);
    as_init(&r->io, "io", 0x10000);
    r->ram = calloc(1, RAM_SIZE);
    as_add_ram(&r->mem, "ram", 0, RAM_SIZE, r->ram);
    clock_init(&r->clock, true, 0);
    r->env = x86_cpu_new(&r->mem, &r->io, &r->clock, RIG_JIT);
    r->clock.insn_count = rig_icount;
    r->clock.insn_opaque = r->env;
    x86_cpu_setup_flat32(r->env, 0x1000, 0x08, 0x10, 0, 0);
    r->env->regs[R_ESP] = 0x80000;
}

static void rig_free(Rig *r)
{
    x86_cpu_free(r->env);
    as_destroy(&r->mem);
    as_destroy(&r->io);
    free(r->ram);
}

static size_t hex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = v;
        s += 2;
    }
    return n;
}

/* One time slice of n instructions, as the board runs it; returns instructions retired. */
static uint64_t run_slice(CPUX86State *env, int32_t n)
{
    x86_cpu_start_slice(env, n);
    x86_cpu_exec(env);
    return x86_cpu_end_slice(env);
}

/* Runs until HLT (or 1000 slices of `slice` instructions); returns instructions retired. */
static uint64_t run_slices(Rig *r, const char *code, int32_t slice)
{
    hex(code, r->ram + 0x1000);
    CPUX86State *env = r->env;
    for (int i = 0; i < 1000 && !env->halted; i++)
        run_slice(env, slice);
    return env->icount;
}

static uint64_t run(Rig *r, const char *code)
{
    return run_slices(r, code, 1000000);
}

/* Paging on with the page directory at pd and global pages enabled (CR4.PGE). */
static void rig_paging(Rig *r, uint32_t pd)
{
    r->env->cr[3] = pd;
    r->env->cr[4] |= 0x80;
    r->env->cr[0] |= 0x80000000u;
    softmmu_flush(r->env);
}

/* Address space `as` (0, 1, ...): a page directory at 0x300000 + 0x2000 * as whose first table
 * maps the low 4 MiB identically (present, writable, user); returns that table for the test to
 * change. rig_paging(r, 0x300000 + 0x2000 * as) switches to it. */
static uint32_t *rig_space(Rig *r, int as)
{
    uint32_t *pd = (uint32_t *)(r->ram + 0x300000 + 0x2000 * as);
    uint32_t *pt = (uint32_t *)(r->ram + 0x301000 + 0x2000 * as);
    pd[0] = (0x301000 + 0x2000 * as) | 7;
    for (uint32_t i = 0; i < 1024; i++) pt[i] = i << 12 | 7;
    return pt;
}

/* IDT at 0x5000 with vector -> handler (32-bit interrupt gate, selector 0x08), and a GDT at
 * 0x6000 with flat code at 0x08 and data at 0x10 for the handler. */
static void rig_gate(Rig *r, int vector, uint32_t handler)
{
    uint8_t *g = r->ram + 0x5000 + 8 * vector;
    g[0] = handler & 0xff, g[1] = handler >> 8 & 0xff, g[2] = 0x08, g[3] = 0;
    g[4] = 0, g[5] = 0x8e, g[6] = handler >> 16 & 0xff, g[7] = handler >> 24;
    r->env->idt.base = 0x5000;
    r->env->idt.limit = 0x7ff;
    static const uint8_t gdt[24] = {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9a, 0xcf, 0,
                                    0xff, 0xff, 0, 0, 0, 0x92, 0xcf, 0};
    memcpy(r->ram + 0x6000, gdt, sizeof gdt);
    r->env->gdt.base = 0x6000;
    r->env->gdt.limit = 23;
}

TEST(mov_add_hlt)
{
    Rig r;
    rig_init(&r);
    /* mov eax, 5; mov ebx, 7; add eax, ebx; hlt */
    run(&r, "b805000000 bb07000000 01d8 f4");
    CHECK(r.env->halted);
    CHECK_EQ(r.env->regs[R_EAX], 12);
    CHECK_EQ(r.env->eip, 0x1000 + 13);
    rig_free(&r);
}

TEST(loop_sum)
{
    Rig r;
    rig_init(&r);
    /* xor eax,eax; mov ecx,100; l: add eax,ecx; dec ecx; jnz l; hlt */
    run(&r, "31c0 b964000000 01c8 49 75fb f4");
    CHECK_EQ(r.env->regs[R_EAX], 5050);
    CHECK_EQ(r.env->regs[R_ECX], 0);
    rig_free(&r);
}

TEST(memory_and_stack)
{
    Rig r;
    rig_init(&r);
    /* mov dword [0x2000], 0x11223344; push dword [0x2000]; pop ebx; mov al,[0x2001]; hlt */
    run(&r, "c70500200000 44332211 ff3500200000 5b a001200000 f4");
    CHECK_EQ(r.env->regs[R_EBX], 0x11223344);
    CHECK_EQ(r.env->regs[R_EAX] & 0xff, 0x33);
    CHECK_EQ(r.env->regs[R_ESP], 0x80000);
    rig_free(&r);
}

TEST(flags_and_jcc)
{
    Rig r;
    rig_init(&r);
    /* mov eax,1; cmp eax,2; jb +5 ; mov ebx,1 ; (skipped) ... ; setb cl; pushf; pop edx; hlt */
    run(&r, "b801000000 83f802 7205 bb01000000 0f92c1 9c 5a f4");
    CHECK_EQ(r.env->regs[R_EBX], 0);
    CHECK_EQ(r.env->regs[R_ECX] & 0xff, 1);
    CHECK_EQ(r.env->regs[R_EDX] & CC_MASK, CF_MASK | SF_MASK | PF_MASK | AF_MASK);
    rig_free(&r);
}

TEST(call_ret_and_rep_movs)
{
    Rig r;
    rig_init(&r);
    memset(r.ram + 0x3000, 0xab, 64);
    /* call f; hlt; f: mov esi,0x3000; mov edi,0x4000; mov ecx,16; cld; rep movsd; ret */
    run(&r, "e801000000 f4 be00300000 bf00400000 b910000000 fc f3a5 c3");
    CHECK(r.env->halted);
    CHECK_EQ(r.env->eip, 0x1006);
    CHECK_EQ(r.env->regs[R_ECX], 0);
    CHECK_EQ(r.ram[0x4000 + 63], 0xab);
    CHECK_EQ(r.ram[0x4000 + 64], 0);
    rig_free(&r);
}

TEST(divide_error_fault)
{
    Rig r;
    rig_init(&r);
    rig_gate(&r, 0, 0x1100); /* #DE -> 0x1100 */
    hex("8b0424 f4", r.ram + 0x1100); /* handler: mov eax,[esp]; hlt */
    /* mov ebx, 0x77; xor ecx,ecx; mov eax,1; cdq; div ecx; hlt */
    run(&r, "bb77000000 31c9 b801000000 99 f7f1 f4");
    CHECK_EQ(r.env->regs[R_EAX], 0x1000 + 13); /* pushed EIP = the DIV */
    CHECK_EQ(r.env->regs[R_EBX], 0x77);
    CHECK_EQ(r.env->regs[R_ESP], 0x80000 - 12);
    rig_free(&r);
}

TEST(self_modifying_code)
{
    Rig r;
    rig_init(&r);
    /* mov byte [0x1010], 0x42 (patches the imm of the next mov) ; ... at 0x100c:
     * 0x1000: c6 05 10 10 00 00 42    mov byte [0x1010], 0x42
     * 0x1007: 90 90 90 90 90           nops
     * 0x100c: b8 00 00 00 00 ... wait: imm at 0x100d. */
    run(&r, "c6050d10000042 9090909090 b800000000 f4");
    CHECK_EQ(r.env->regs[R_EAX], 0x42);
    rig_free(&r);
}

TEST(icount_deterministic)
{
    Rig a, b2;
    rig_init(&a);
    rig_init(&b2);
    uint64_t n1 = run(&a, "31c0 b964000000 01c8 49 75fb f4");
    uint64_t n2 = run(&b2, "31c0 b964000000 01c8 49 75fb f4");
    CHECK_EQ(n1, n2);
    CHECK_EQ(n1, 2 + 3 * 100 + 1);
    rig_free(&a);
    rig_free(&b2);
}

/* The TLB flushes visit only the entries filled since the previous flush: after fills that
 * collide, evict and go through the victim table, no entry may survive a flush, and accesses
 * afterwards see memory (not a stale translation). */
TEST(tlb_flush_covers_every_fill)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    for (uint32_t i = 0; i < RAM_SIZE / 4096; i++) {
        uint32_t a = i * 4096;
        r.ram[a] = (uint8_t)i;
        CHECK_EQ(softmmu_ld(env, a, 1, 0), (uint8_t)i);
        softmmu_st(env, a + 4, i, 4, 1);
        /* Beyond RAM: filled as unassigned (all-ones reads). */
        CHECK_EQ(softmmu_ld(env, 0x40000000u + a * 5, 4, 0), 0xffffffffu);
    }
    softmmu_flush(env);
    int live = 0;
    for (int m = 0; m < NB_MMU_MODES; m++) {
        for (unsigned i = 0; i < TLB_SIZE; i++)
            live += env->tlb[m][i].tag_r != TLB_INVALID_TAG ||
                    env->tlb[m][i].tag_w != TLB_INVALID_TAG;
        for (unsigned i = 0; i < TLB_VICTIM; i++)
            live += env->victim[m][i].tag_r != TLB_INVALID_TAG;
    }
    CHECK_EQ(live, 0);
    /* A CR3-style flush after new fills of the other table. */
    for (uint32_t i = 0; i < RAM_SIZE / 4096; i += 3)
        CHECK_EQ(softmmu_ld(env, i * 4096, 1, 1), (uint8_t)i);
    softmmu_flush_nonglobal(env);
    live = 0;
    for (unsigned i = 0; i < TLB_SIZE; i++) live += env->tlb[1][i].tag_r != TLB_INVALID_TAG;
    CHECK_EQ(live, 0);
    CHECK_EQ(softmmu_ld(env, 3 * 4096 + 4, 4, 1), 3);
    rig_free(&r);
}

/* Returns find their successor in the jump cache without going back to the run loop (the
 * JIT's inline lookup must hash as the C side does). */
TEST(returns_stay_in_generated_code)
{
    Rig r;
    rig_init(&r);
    /* mov ecx, 10000; 1: call f; dec ecx; jnz 1b; hlt; f: ret */
    run(&r, "b910270000 e804000000 49 75f8 f4 c3");
    CHECK_EQ(r.env->regs[R_ECX], 0);
    CHECK(r.env->tbs->nfind < 100);
    rig_free(&r);
}

/* INVLPG forgets the jump cache entries of its page and of the page before (a block starting
 * there may reach into it); CR3 writes forget the entries of blocks in non-global pages. */
TEST(jump_cache_page_and_global_clears)
{
    Rig r;
    rig_init(&r);
    TbCache *c = r.env->tbs;
    static TranslationBlock blocks[5]; /* only their addresses are used */
    const uint32_t pcs[5] = {0x40001000, 0x40000ff0, 0x40002000, 0xc0005000, 0xc0002004};
    const bool global[5] = {false, false, false, true, false};
    for (int i = 0; i < 5; i++) tb_jmp_cache_set(c, pcs[i], 0, &blocks[i], global[i]);
    for (int i = 0; i < 5; i++) CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[i])] == &blocks[i]);
    tb_jmp_cache_clear_page(c, 0x40001234);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[0])] == NULL);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[1])] == NULL);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[2])] == &blocks[2]);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[3])] == &blocks[3]);
    tb_jmp_cache_clear_nonglobal(c);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[2])] == NULL);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[3])] == &blocks[3]);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[4])] == NULL);
    /* With a nonzero CS base, entries are keyed by EIP: a page clear forgets everything. */
    tb_jmp_cache_set(c, 0x1000, 0x10000, &blocks[0], false);
    tb_jmp_cache_clear_page(c, 0x80000000);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(pcs[3])] == NULL);
    CHECK(c->jmp_cache[tb_jmp_cache_hash(0x1000)] == NULL);
    rig_free(&r);
}

/* Global pages (CR4.PGE): their entries survive a CR3-style flush, the others do not, and a
 * full flush empties everything, whichever list an entry is on. */
TEST(tlb_global_entries)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    /* Page tables at 3 MiB; the pages below are touched, those from 2 MiB on are global. */
    uint32_t *pt = rig_space(&r, 0);
    for (uint32_t i = 512; i < 1024; i++) pt[i] |= 0x100; /* G */
    rig_paging(&r, 0x300000);
    for (uint32_t i = 0; i < 768; i += 2) {
        r.ram[i << 12] = (uint8_t)(i >> 1);
        CHECK_EQ(softmmu_ld(env, i << 12, 1, 0), (uint8_t)(i >> 1));
    }
    softmmu_flush_nonglobal(env);
    int local = 0, global = 0;
    for (unsigned i = 0; i < TLB_SIZE; i++) {
        const TlbEntry *e = &env->tlb[0][i];
        if (e->tag_r == TLB_INVALID_TAG) continue;
        if (e->vaddr < 0x200000) local++;
        else global++;
    }
    CHECK_EQ(local, 0);
    CHECK_EQ(global, 128);
    for (uint32_t i = 0; i < 768; i += 4) CHECK_EQ(softmmu_ld(env, i << 12, 1, 0), (uint8_t)(i >> 1));
    softmmu_flush(env);
    int live = 0;
    for (unsigned i = 0; i < TLB_SIZE; i++) live += env->tlb[0][i].tag_r != TLB_INVALID_TAG;
    CHECK_EQ(live, 0);
    rig_free(&r);
}

/* Loads and stores that hit the TLB stay on the fast path, at any alignment (the generated
 * index computation must agree with tlb_index() for every address bit). */
TEST(tlb_hits_stay_inline)
{
    Rig r;
    rig_init(&r);
    /* mov ecx, 1000; mov ebx, 0x20001; 1: mov [ebx], cl; mov al, [ebx+2]; add ebx, 0x22;
     * dec ecx; jnz 1b; hlt */
    run(&r, "b9e8030000 bb01000200 880b 8a4302 83c322 49 75f5 f4");
    CHECK_EQ(r.env->regs[R_ECX], 0);
    CHECK_EQ(r.ram[0x20001 + 999 * 0x22], 1);
    CHECK(r.env->nslow_mem < 100);
    rig_free(&r);
}

/* REP MOVS/STOS take whole page runs at once; the results must be the per-element ones: a
 * copy onto itself one byte ahead replicates the first byte, and an element straddling a page
 * boundary is still stored whole. */
TEST(rep_movs_stos_runs)
{
    Rig r;
    rig_init(&r);
    for (int k = 0; k < 6000; k++) r.ram[0x20000 + k] = (uint8_t)(k * 7 + 1);
    /* mov esi, 0x20000; mov edi, 0x20001; mov ecx, 5000; rep movsb;
     * mov edi, 0x30ffe; mov eax, 0x12345678; mov ecx, 3000; rep stosd; hlt */
    run(&r, "be00000200 bf01000200 b988130000 f3a4 bffe0f0300 b878563412 b9b80b0000 f3ab f4");
    CPUX86State *env = r.env;
    int bad = 0;
    for (int k = 0; k <= 5000; k++) bad += r.ram[0x20000 + k] != 1;
    bad += r.ram[0x20000 + 5001] != (uint8_t)(5001 * 7 + 1);
    CHECK_EQ(bad, 0);
    CHECK_EQ(env->regs[R_ESI], 0x20000 + 5000);
    for (int i = 0; i < 3000; i++) {
        uint32_t v;
        memcpy(&v, r.ram + 0x30ffe + 4 * i, 4);
        bad += v != 0x12345678;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(env->regs[R_EDI], 0x30ffe + 12000);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK(env->nslow_mem < 100); /* the runs did not go element by element through C */
    rig_free(&r);
}

/* x87 arithmetic with memory operands, FCOMIP, FLDCW and FISTP: the results of the guest's
 * instructions, and with the x86-64 back end they run on the host FPU (only FNINIT, which it
 * does not take, goes through C). */
TEST(x87_runs_on_host_fpu)
{
    Rig r;
    rig_init(&r);
    const double half = 0.5, x = 2.75;
    const uint16_t cw = 0x0f7f; /* round toward zero, exceptions masked */
    memcpy(r.ram + 0x20008, &half, 8);
    memcpy(r.ram + 0x20020, &x, 8);
    memcpy(r.ram + 0x20018, &cw, 2);
    /* fninit; mov dword [0x20000], 0; mov ecx, 1000; mov ebx, 0; fldz;
     * 1: inc dword [0x20000]; fild dword [0x20000]; fmul qword [0x20008]; faddp st1;
     *    dec ecx; jnz 1b;
     * fld1; fcomip st1; setb bl; fstp qword [0x20010]; fldcw [0x20018];
     * fld qword [0x20020]; fistp dword [0x20028]; fnstsw ax; hlt */
    run(&r, "dbe3 c7050000020000000000 b9e8030000 bb00000000 d9ee"
            " ff0500000200 db0500000200 dc0d08000200 dec1 49 75e9"
            " d9e8 dff1 0f92c3 dd1d10000200 d92d18000200"
            " dd0520000200 db1d28000200 dfe0 f4");
    CPUX86State *env = r.env;
    double sum;
    int32_t trunc;
    memcpy(&sum, r.ram + 0x20010, 8);
    memcpy(&trunc, r.ram + 0x20028, 4);
    CHECK(sum == 250250.0);
    CHECK_EQ(env->regs[R_EBX], 1);   /* 1 < sum: CF */
    CHECK_EQ(trunc, 2);              /* toward zero */
    CHECK_EQ(env->regs[R_EAX] & 0xffff, 0x0020); /* PE from FISTP, TOP 0 */
    CHECK_EQ(env->fpu.fcw, 0x0f7f);
    CHECK_EQ(env->fpu.tag_empty, 0xff);
    CHECK_EQ(env->fpu.fip, 0x1000 + 72); /* FISTP, the last non-control instruction */
    CHECK_EQ(env->fpu.fdp, 0x20028);
#ifdef BACKEND_HAVE_X86_64
    if (RIG_JIT) CHECK(env->nfpu_c <= 2);
#endif
    rig_free(&r);
}


/* FCOMI clears C1 and leaves C0, C2, C3 as they were, also where the host's own FCOMI keeps
 * C1 (AMD): FXAM of -1 leaves C1 = 1 and C2 = 1 right before it. */
TEST(x87_fcomi_clears_c1)
{
    Rig r;
    rig_init(&r);
    /* fninit; fld1; fld1; fchs; fxam; fcomip st1; fnstsw ax; hlt */
    run(&r, "dbe3 d9e8 d9e8 d9e0 d9e5 dff1 dfe0 f4");
    CHECK_EQ(r.env->regs[R_EAX] & 0xffff, 0x3c00); /* TOP 7, C2 from FXAM, C1 0 */
    CHECK_EQ(x86_get_eflags(r.env) & (CF_MASK | ZF_MASK | PF_MASK), CF_MASK); /* -1 < 1 */
    rig_free(&r);
}

/* Calls and returns: a recursion 600000 calls deep in one slice, and a callee that changes its
 * return address. */
TEST(calls_deep_and_returns_elsewhere)
{
    Rig r;
    rig_init(&r);
    r.env->regs[R_ESP] = 0x3ff000;
    /* mov ecx, 600000; xor ebx, ebx; call f; hlt; f: dec ecx; jz 1f; call f; 1: inc ebx; ret
     * (in one slice) */
    run_slices(&r, "b9c0270900 31db e801000000 f4 49 7405 e8f8ffffff 43 c3", 10000000);
    CHECK_EQ(r.env->regs[R_EBX], 600000);
    CHECK_EQ(r.env->regs[R_ECX], 0);
    CHECK_EQ(r.env->regs[R_ESP], 0x3ff000);
    rig_free(&r);

    rig_init(&r);
    /* mov ecx, 3; xor ebx, ebx; 1: call g; add ebx, 1; dec ecx; jnz 1b; hlt;
     * g: cmp ecx, 1; jne 2f; add dword [esp], 3; 2: ret   (the last call skips the add) */
    run(&r, "b903000000 31db e807000000 83c301 49 75f5 f4 83f901 7504 83042403 c3");
    CHECK_EQ(r.env->regs[R_EBX], 2);
    CHECK_EQ(r.env->regs[R_ECX], 0);
    rig_free(&r);
}

/* Returns after CR3 writes: the callee (in a global page) writes CR3 and returns; the fourth
 * time it switches to a space where the caller's page holds other code after the call, and
 * that code must run (blocks and jump-cache entries of the old space must not be used). */
TEST(return_after_cr3_switch)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    /* Two address spaces over identity page tables; linear page 0x1000 is physical 0x1000 in
     * the first and 0x5000 in the second; page 0x2000 is global. */
    for (int as = 0; as < 2; as++) {
        uint32_t *pt = rig_space(&r, as);
        pt[1] = (as ? 0x5000 : 0x1000) | 7;
        pt[2] |= 0x100; /* G */
    }
    /* 1000: mov ecx, 4; xor ebx, ebx; 1007: cmp ecx, 1; sete al; movzx eax, al; shl eax, 13;
     * lea esi, [eax + 0x300000]; call 2000; 101e: add ebx, 1 (100 in the second space);
     * dec ecx; jnz 1007; hlt.   2000: mov cr3, esi; ret */
    const char *code = "b904000000 31db 83f901 0f94c0 0fb6c0 c1e00d 8db000003000 e8e20f0000"
                       " 83c301 49 75e3 f4";
    size_t n = hex(code, r.ram + 0x5000);
    CHECK_EQ(n, 0x25);
    r.ram[0x5000 + 0x20] = 100;
    hex("0f22de c3", r.ram + 0x2000);
    rig_paging(&r, 0x300000);
    run(&r, code);
    CHECK_EQ(env->regs[R_EBX], 103);
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->cr[3], 0x302000);
    rig_free(&r);
}

/* After a CR3 write the jump cache has lost the entries of non-global pages, but the blocks
 * are still translated: the inline lookup finds them through the page tables and the hash
 * table itself instead of leaving for the run loop. */
TEST(lookups_after_cr3_write_stay_in_generated_code)
{
    Rig r;
    rig_init(&r);
    rig_space(&r, 0);
    /* 1000: mov ecx, 20000; 1: call 2000; dec ecx; jnz 1b; hlt.
     * 2000: mov eax, cr3; mov cr3, eax; ret */
    hex("0f20d8 0f22d8 c3", r.ram + 0x2000);
    rig_paging(&r, 0x300000);
    run(&r, "b9204e0000 e8f60f0000 49 75f8 f4");
    CHECK_EQ(r.env->regs[R_ECX], 0);
    CHECK(r.env->tbs->nfind < 100);
    CHECK(r.env->tbs->nfind_cached >= 20000);
    rig_free(&r);
}

/* The inline lookup never faults itself: a return into a page that the new address space does
 * not map reaches the run loop, which raises #PF at the return address. */
TEST(lookup_into_unmapped_page_faults)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    /* Two identity-mapped spaces; page 0x1000 is missing in the second; page 0x2000 global. */
    for (int as = 0; as < 2; as++) {
        uint32_t *pt = rig_space(&r, as);
        pt[2] |= 0x100;
        if (as) pt[1] = 0;
    }
    rig_gate(&r, 14, 0x3000); /* #PF -> 0x3000 */
    /* 3000: mov eax, cr2; mov edx, [esp] (error code); mov ebx, [esp+4] (EIP); hlt */
    hex("0f20d0 8b1424 8b5c2404 f4", r.ram + 0x3000);
    /* 2000: mov cr3, esi; ret.  1000: mov ecx, 100; 1: xor esi, esi; cmp ecx, 1; jne 2f;
     * mov esi, 0x2000; 2: add esi, 0x300000; call 2000; dec ecx; jnz 1b; hlt */
    hex("0f22de c3", r.ram + 0x2000);
    rig_paging(&r, 0x300000);
    run(&r, "b964000000 31f6 83f901 7505 be00200000 81c600003000 e8e40f0000 49 75e6 f4");
    CHECK_EQ(env->cr[3], 0x302000);
    CHECK_EQ(env->regs[R_ECX], 1);
    CHECK_EQ(env->regs[R_EAX], 0x101c);
    CHECK_EQ(env->regs[R_EBX], 0x101c);
    CHECK_EQ(env->regs[R_EDX], 0);
    rig_free(&r);
}

/* Stack accesses next to the previous one reuse its TLB entry after one compare (x86-64 back
 * end); here the stack straddles two virtual pages whose physical pages are apart, so every
 * access that reuses the wrong page's entry would hit the wrong memory. Accesses in the other
 * page find their own entry without the C slow path; only the load that straddles both pages
 * needs it. */
TEST(stack_across_noncontiguous_pages)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    uint32_t *pt = rig_space(&r, 0);
    pt[7] = 0x9000 | 7; /* linear 0x7000 -> physical 0x9000 */
    pt[8] = 0xb000 | 7; /* linear 0x8000 -> physical 0xb000 */
    env->regs[R_EAX] = 0x11111111, env->regs[R_EBX] = 0x22222222, env->regs[R_ESI] = 0x33333333;
    rig_paging(&r, 0x300000);
    uint32_t top = 0x8004;
    memcpy(r.ram + 0x5000, &top, 4);
    /* mov ecx, 1000; 1: mov esp, [0x5000] (0x8004); push eax; push ebx; push esi; pop edi;
     * mov edx, [esp+2] (0x7ffe..0x8001); pop ebp; pop eax; dec ecx; jnz 1b; hlt */
    run(&r, "b9e8030000 8b2500500000 50 53 56 5f 8b542402 5d 58 49 75ed f4");
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->regs[R_EDI], 0x33333333);
    CHECK_EQ(env->regs[R_EDX], 0x11112222);
    CHECK_EQ(env->regs[R_EBP], 0x22222222);
    CHECK_EQ(env->regs[R_EAX], 0x11111111);
    CHECK_EQ(env->regs[R_ESP], 0x8004);
    uint32_t w[3];
    memcpy(&w[0], r.ram + 0xb000, 4);
    memcpy(&w[1], r.ram + 0x9ffc, 4);
    memcpy(&w[2], r.ram + 0x9ff8, 4);
    CHECK_EQ(w[0], 0x11111111);
    CHECK_EQ(w[1], 0x22222222);
    CHECK_EQ(w[2], 0x33333333);
    CHECK_EQ(r.ram[0x7ffc] | r.ram[0x8000], 0);
    /* The straddling load: once per iteration, plus its four bytes one by one. */
    if (RIG_JIT) CHECK(env->nslow_mem <= 5 * 1000 + 10);
    rig_free(&r);
}

/* A direct jump to another page may be chained (x86-64 back end) behind a check that the
 * target page is still in the TLB and maps to the physical page the successor came from. Here
 * the chained jump runs 999 times, then the page is remapped under it (CR3 write) and its TLB
 * entry filled again by a data read: the same jump must reach the new code. */
TEST(cross_page_chain_follows_remapping)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    /* Two identity-mapped spaces; linear page 0x2000 is physical 0x6000 in the second. */
    rig_space(&r, 0);
    rig_space(&r, 1)[2] = 0x6000 | 7;
    /* 2000: add ebx, 1 (100 in the second space); jmp 1020 */
    hex("83c301 e918f0ffff", r.ram + 0x2000);
    hex("83c364 e918f0ffff", r.ram + 0x6000);
    rig_paging(&r, 0x300000);
    /* 1000: mov ecx, 1000; xor ebx, ebx; 1007: cmp ecx, 1; jne 101b; mov esi, 0x302000;
     * mov cr3, esi; mov eax, [0x2000]; jmp 101b; 101b: jmp 2000; 1020: dec ecx; jnz 1007; hlt */
    run(&r, "b9e8030000 31db 83f901 750f be00203000 0f22de a100200000 eb00 e9e00f0000 49 75e4 f4");
    CHECK_EQ(env->regs[R_ECX], 0);
    CHECK_EQ(env->regs[R_EBX], 999 + 100);
    CHECK_EQ(env->regs[R_EAX], 0xe964c383); /* read through the new mapping */
    CHECK(env->tbs->nfind < 50);
    rig_free(&r);
}

static int rig_intack(void *opaque)
{
    x86_cpu_set_irq(opaque, 0, 0);
    return 0x20;
}

/* STI with no interrupt pending goes on without leaving the chain of blocks; its one-instruction
 * interrupt shadow must still end, here with the HLT after it: each interrupt raised while
 * halted wakes the CPU and is taken. */
TEST(sti_hlt_then_interrupt)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    rig_gate(&r, 0x20, 0x3000);
    env->intack = rig_intack;
    env->intack_opaque = env;
    hex("41 cf", r.ram + 0x3000); /* inc ecx; iret */
    run(&r, "fb f4 fa ebfb");     /* 1000: sti; hlt; cli; jmp 1000 */
    /* The second time round, the blocks of STI and HLT are translated and found without the
     * run loop. */
    for (uint32_t n = 1; n <= 3; n++) {
        CHECK(env->halted);
        CHECK_EQ(env->eip, 0x1002);
        x86_cpu_set_irq(env, 0, 1);
        run_slice(env, 100000);
        CHECK_EQ(env->regs[R_ECX], n);
    }
    rig_free(&r);
}

/* A port whose writes ask the CPU to leave translated code, as an interrupt controller does. */
typedef struct ExitPort {
    CPUX86State *env;
    int writes;
    uint64_t icount_at[4];
} ExitPort;

static uint32_t exit_port_read(void *opaque, uint64_t offset, unsigned size) { return 0; }

static void exit_port_write(void *opaque, uint64_t offset, uint32_t value, unsigned size)
{
    ExitPort *p = opaque;
    x86_cpu_exit(p->env);
    if (p->writes < 4) p->icount_at[p->writes] = x86_cpu_icount(p->env);
    p->writes++;
}

static const MemOps exit_port_ops = {exit_port_read, exit_port_write, 1, 4};

/* An exit requested from inside a block (it lowers the budget that the chain entries check)
 * is taken at the next block boundary, and the instruction count stays exact throughout:
 * while the request is pending, when the slice ends with it pending, and after it. */
TEST(exit_requests_keep_the_count)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    ExitPort port = {env, 0, {0}};
    as_add_mmio(&r.io, "exit", 0x80, 1, &exit_port_ops, &port);
    /* 1000: mov ecx, 50; 1: out 0x80, al; inc eax; dec ecx; jnz 1b; hlt */
    uint64_t n = run(&r, "b932000000 e680 40 49 75fa f4");
    CHECK_EQ(port.writes, 50);
    CHECK_EQ(env->regs[R_EAX], 50);
    CHECK_EQ(n, 1 + 4 * 50 + 1);
    /* The first OUT is the second instruction, the next ones four apart; an OUT ends its block
     * and is counted in it. */
    CHECK_EQ(port.icount_at[0], 2);
    CHECK_EQ(port.icount_at[1], 6);
    CHECK_EQ(port.icount_at[3], 14);
    /* A request made between slices: the next slice starts by taking it, with its whole
     * budget. */
    env->halted = false;
    env->eip = 0x1000;
    x86_cpu_exit(env);
    x86_cpu_start_slice(env, 3);
    CHECK_EQ(x86_budget_left(env), 3);
    x86_cpu_exec(env);
    uint64_t done = x86_cpu_end_slice(env);
    /* Whole blocks run: the first one, mov/out/inc/dec/jnz, or fewer if OUT ends it. */
    CHECK(done >= 3 && done <= 5);
    CHECK_EQ(port.writes, 51);
    CHECK(!env->exit_request);
    CHECK_EQ(env->icount, n + done);
    rig_free(&r);
}

/* Debug-register writes start translation afresh only when they change a breakpoint: kernels
 * rewrite DR7 and DR0-DR3 with the values they hold (Linux at boot), and some on every task
 * switch. */
TEST(debug_register_rewrite_keeps_translations)
{
    Rig r;
    rig_init(&r);
    CPUX86State *env = r.env;
    /* mov eax, 0x400; mov dr7, eax; xor eax, eax; mov dr0, eax; hlt */
    run(&r, "b800040000 0f23f8 31c0 0f23c0 f4");
    CHECK_EQ(env->dr[7], 0x400);
    uint64_t flushes = env->tbs->nflushes;
    /* The same again from another address, then a change: DR0 = 0x5000 (flushes). */
    hex("b800040000 0f23f8 31c0 0f23c0 b800500000 0f23c0 f4", r.ram + 0x2000);
    env->halted = false;
    env->eip = 0x2000;
    run_slice(env, 1000);
    CHECK(env->halted);
    CHECK_EQ(env->dr[0], 0x5000);
    CHECK_EQ(env->tbs->nflushes, flushes + 1);
    rig_free(&r);
}
