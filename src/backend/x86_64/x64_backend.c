/* x86-64 back end: the per-cache code buffer (W^X through host/jitmem), the shared stubs every
 * block jumps to (entry from C, exit to C, jump-cache lookup, soft-MMU slow paths, exception
 * raise), chaining by patching direct jumps, and the mapping of fault tokens to instructions. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/x86_64/x64_jit.h"

#ifdef BACKEND_HAVE_X86_64

#include "cpu/x86/fpu.h"
#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "util/alloc.h"
#include "util/log.h"

size_t jit_code_size = 64u << 20;
JitMemMode jit_mem_mode = JITMEM_DUAL;

const int8_t jit_pinned[JIT_NPINNED] = {X_RBX, X_R12, X_R13, X_R14, X_R15, X_R8, X_R9, X_R10};
const int8_t jit_tempregs[JIT_NTEMPREGS] = {X_RDX, X_RSI, X_RDI, X_R11};

static const int8_t callee_saved[] = {X_RBP, X_RBX, X_R12, X_R13, X_R14, X_R15};

static X64Mem envm(int32_t disp)
{
    return x64_mem(JIT_ENV, disp);
}

static void store_pinned(X64Buf *b, int from, int to)
{
    for (int i = from; i < to; i++)
        x64_mov_mr(b, 4, envm(4 * i), jit_pinned[i]);
}

static void load_pinned(X64Buf *b, int from, int to)
{
    for (int i = from; i < to; i++)
        x64_mov_rm(b, false, jit_pinned[i], envm(4 * i));
}

/* Pushes n registers; pop_regs takes them back in reverse order. */
static void push_regs(X64Buf *b, const int8_t *r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x64_push(b, r[i]);
}

static void pop_regs(X64Buf *b, const int8_t *r, size_t n)
{
    while (n--)
        x64_pop(b, r[n]);
}

static void call_abs(X64Buf *b, const void *fn)
{
    x64_mov_ri64(b, X_RAX, (uintptr_t)fn);
    x64_call_r(b, X_RAX);
}

/* Memory access slow path: guest registers to env (a fault must see them), temporaries kept,
 * the C call with a 16-byte aligned stack, the caller-saved guest registers reloaded. */
static size_t build_mem_stub(X64Buf *b, bool store, unsigned size, unsigned mmu)
{
    size_t at = b->pos;
    store_pinned(b, 0, JIT_NPINNED);
    push_regs(b, jit_tempregs, JIT_NTEMPREGS);
    x64_alu_ri(b, true, ALU_SUB, X_RSP, 8);
    x64_mov_rr(b, true, X_RDI, JIT_ENV);
    x64_mov_rr(b, false, X_RSI, X_RAX);
    if (store) {
        x64_mov_rr(b, false, X_RDX, X_RCX);
        x64_mov_ri32(b, X_RCX, size);
        x64_mov_ri32(b, X_R8, mmu);
        call_abs(b, (const void *)softmmu_st);
    } else {
        x64_mov_ri32(b, X_RDX, size);
        x64_mov_ri32(b, X_RCX, mmu);
        call_abs(b, (const void *)softmmu_ld);
    }
    x64_alu_ri(b, true, ALU_ADD, X_RSP, 8);
    pop_regs(b, jit_tempregs, JIT_NTEMPREGS);
    load_pinned(b, JIT_NCALLEE_PINNED, JIT_NPINNED);
    x64_ret(b);
    return at;
}

static void build_stubs(JitState *j)
{
    X64Buf buf = {j->mem.rw, 0, j->mem.size - X64_SLACK}, *b = &buf;

    /* enter(env, body): save the C callee-saved registers, keep the stack 16-byte aligned at
     * calls from generated code, load the guest registers. */
    size_t enter = b->pos;
    push_regs(b, callee_saved, ARRAY_SIZE(callee_saved));
    x64_alu_ri(b, true, ALU_SUB, X_RSP, 8);
    x64_mov_rr(b, true, JIT_ENV, X_RDI);
    load_pinned(b, 0, JIT_NPINNED);
    x64_jmp_r(b, X_RSI);

    /* exit: RAX = block, RDX = slot, returned as a JitRet. */
    x64_align(b, 16, 0);
    j->exit_stub = b->pos;
    store_pinned(b, 0, JIT_NPINNED);
    x64_alu_ri(b, true, ALU_ADD, X_RSP, 8);
    pop_regs(b, callee_saved, ARRAY_SIZE(callee_saved));
    x64_ret(b);

    /* lookup, called with RSI = the block leaving: the interpreter's exit_lookup. Returns in
     * RAX where to jump: the successor's chain entry (whose budget check also catches exit
     * requests) or the exit. The caller jumps itself, so each exit has its own branch history. */
    x64_align(b, 16, 0);
    j->lookup_stub = b->pos;
    x64_mov_rm(b, false, X_RAX, envm(ENV_OFF(eip)));
    /* RCX = tb_jmp_cache_hash(EAX), using RDX. */
    x64_mov_rr(b, false, X_RCX, X_RAX);
    x64_shift_ri(b, false, SH_SHR, X_RCX, 12 - JMP_GROUP_BITS);
    x64_mov_rr(b, false, X_RDX, X_RCX);
    x64_alu_ri(b, false, ALU_AND, X_RDX, JMP_GROUP_MASK);
    x64_alu_rr(b, false, ALU_XOR, X_RCX, X_RAX);
    x64_alu_ri(b, false, ALU_AND, X_RCX, (1u << JMP_GROUP_BITS) - 1);
    x64_alu_rr(b, false, ALU_OR, X_RCX, X_RDX);
    /* RDX = &jmp_entry[RCX]: pc, flags, CS base, then the block's code offset in the buffer. */
    x64_shift_ri(b, false, SH_SHL, X_RCX, 4);
    x64_mov_ri64(b, X_RDX, (uintptr_t)j->cache->jmp_entry);
    x64_alu_rr(b, true, ALU_ADD, X_RDX, X_RCX);
    size_t miss[3];
    x64_alu_rm(b, false, ALU_CMP, X_RAX, x64_mem(X_RDX, (int32_t)offsetof(JmpEntry, pc)));
    miss[0] = x64_jcc8(b, CC_NE);
    x64_mov_rm(b, false, X_RAX, envm(ENV_OFF(hflags)));
    x64_alu_rm(b, false, ALU_CMP, X_RAX, x64_mem(X_RDX, (int32_t)offsetof(JmpEntry, flags)));
    miss[1] = x64_jcc8(b, CC_NE);
    x64_mov_rm(b, false, X_RAX, envm(ENV_OFF(seg_base[R_CS])));
    x64_alu_rm(b, false, ALU_CMP, X_RAX, x64_mem(X_RDX, (int32_t)offsetof(JmpEntry, cs_base)));
    miss[2] = x64_jcc8(b, CC_NE);
    x64_mov_rm(b, false, X_RAX, x64_mem(X_RDX, (int32_t)offsetof(JmpEntry, code)));
    x64_mov_ri64(b, X_RCX, (uintptr_t)j->mem.rx);
    x64_alu_rr(b, true, ALU_ADD, X_RAX, X_RCX);
    x64_ret(b);
    for (int k = 0; k < 3; k++)
        x64_patch_rel8(b, miss[k], b->pos);
    /* Missed: the block may be translated already (the entry was cleared by a CR3 write, or
     * taken by another block). Ask C without leaving the chain; the caller-saved guest
     * registers and RSI are kept (five pushes: the C call sees a 16-byte aligned stack). */
    static const int8_t lookup_kept[] = {X_R8, X_R9, X_R10, X_RSI, X_R11};
    push_regs(b, lookup_kept, ARRAY_SIZE(lookup_kept));
    x64_mov_rr(b, true, X_RDI, JIT_ENV);
    call_abs(b, (const void *)x86_tb_find_cached);
    pop_regs(b, lookup_kept, ARRAY_SIZE(lookup_kept));
    x64_test_rr(b, true, X_RAX, X_RAX);
    size_t none = x64_jcc8(b, CC_E);
    x64_mov_rm(b, true, X_RAX,
               x64_mem(X_RAX, (int32_t) __builtin_offsetof(TranslationBlock, code)));
    x64_ret(b);
    x64_patch_rel8(b, none, b->pos);
    size_t fail = x64_lea_rip(b, X_RAX);
    x64_ret(b);
    x64_patch_rel32(b, fail, b->pos);
    x64_mov_rr(b, true, X_RAX, X_RSI);
    x64_mov_ri64(b, X_RDX, (uint64_t)-1);
    x64_patch_rel32(b, x64_jmp32(b), j->exit_stub);

    /* raise: ESI = vector; cur_tb/cur_pos already set. Does not return. */
    x64_align(b, 16, 0);
    j->raise_stub = b->pos;
    store_pinned(b, 0, JIT_NPINNED);
    x64_mov_rr(b, true, X_RDI, JIT_ENV);
    x64_mov_ri32(b, X_RDX, 0);
    call_abs(b, (const void *)x86_raise_exception_err);

    /* Lazy flags: pure functions of EAX and env->cc_*, so no guest register goes to env; the
     * seven caller-saved value registers are kept (with the return address: 16-byte aligned). */
    static const int8_t kept[] = {X_RDX, X_RSI, X_RDI, X_R8, X_R9, X_R10, X_R11};
    for (int k = 0; k < 2; k++) {
        x64_align(b, 16, 0);
        j->cc_stub[k] = b->pos;
        push_regs(b, kept, ARRAY_SIZE(kept));
        x64_mov_rr(b, false, X_RDI, X_RAX);
        x64_mov_rm(b, false, X_RSI, envm(ENV_OFF(cc_dst)));
        x64_mov_rm(b, false, X_RDX, envm(ENV_OFF(cc_src)));
        x64_mov_rm(b, false, X_RCX, envm(ENV_OFF(cc_src2)));
        call_abs(b, k ? (const void *)x86_cc_compute_cf : (const void *)x86_cc_compute);
        pop_regs(b, kept, ARRAY_SIZE(kept));
        x64_ret(b);
    }
    /* The x87 state to the host FPU: like the lazy-flags stubs, no guest register goes to env
     * (the function looks only at env->fpu). */
    x64_align(b, 16, 0);
    j->x87_stub = b->pos;
    push_regs(b, kept, ARRAY_SIZE(kept));
    x64_mov_rr(b, true, X_RDI, JIT_ENV);
    call_abs(b, (const void *)x86_fpu_acquire);
    pop_regs(b, kept, ARRAY_SIZE(kept));
    x64_ret(b);
    /* Dynamic lazy-flags op: bounds check, then a jump table of the routines jit_emit_cc makes
     * for each constant op (returning to the caller of the dispatcher). */
    for (int k = 0; k < 2; k++) {
        uint32_t need = k ? CF_MASK : CC_MASK;
        size_t routine[CC_OP_COUNT];
        for (int op = 0; op < CC_OP_COUNT; op++) {
            x64_align(b, 16, 0);
            routine[op] = b->pos;
            size_t to_c = jit_emit_cc(b, (unsigned)op, need);
            x64_ret(b);
            if (to_c) {
                x64_patch_rel32(b, to_c, b->pos);
                x64_mov_ri32(b, X_RAX, (uint32_t)op);
                x64_patch_rel32(b, x64_jmp32(b), j->cc_stub[k]);
            }
        }
        x64_align(b, 8, 0);
        j->cc_table[k] = b->pos;
        for (int op = 0; op < CC_OP_COUNT; op++)
            x64_u64(b, (uint64_t)(uintptr_t)(j->mem.rx + routine[op]));
    }

    for (unsigned m = 0; m < NB_MMU_MODES; m++) {
        for (int s = 0; s < JIT_NSIZES; s++) {
            x64_align(b, 16, 0);
            j->ld_stub[m][s] = build_mem_stub(b, false, 1u << s, m);
            x64_align(b, 16, 0);
            j->st_stub[m][s] = build_mem_stub(b, true, 1u << s, m);
        }
    }
    x64_align(b, 64, 0);
    j->code_start = j->pos = b->pos;
    jit_perfmap_add(j, enter, j->exit_stub - enter, "jit_enter");
    jit_perfmap_add(j, j->exit_stub, j->lookup_stub - j->exit_stub, "jit_exit");
    jit_perfmap_add(j, j->lookup_stub, j->raise_stub - j->lookup_stub, "jit_lookup");
    jit_perfmap_add(j, j->raise_stub, j->code_start - j->raise_stub, "jit_slow_paths");
    union {
        const void *p;
        JitEnterFn fn;
    } u = {.p = j->mem.rx + enter};
    j->enter = u.fn;
}

void jit_perfmap_add(JitState *j, size_t start, size_t size, const char *name)
{
    if (!j->perfmap) return;
    fprintf(j->perfmap, "%" PRIxPTR " %zx %s\n", (uintptr_t)(j->mem.rx + start), size, name);
    fflush(j->perfmap);
}

/* ---- TbCache hooks ---- */

static void jit_set_jump(void *opaque, TranslationBlock *from, int slot, TranslationBlock *to)
{
    JitState *j = opaque;
    const JitTbHeader *h = (const JitTbHeader *)from->code - 1;
    uint32_t site = h->jmp_site[slot];
    if (!site) return;
    size_t off = (size_t)((const uint8_t *)from->code - j->mem.rx) + site;
    size_t target = to ? (size_t)((const uint8_t *)to->code - j->mem.rx) : off + 4;
    if (h->xpage >> slot & 1) {
        /* The check of the successor's page, then the jump to it (see gen_goto_xpage). */
        jitmem_write_begin(&j->mem, off, JIT_XPAGE_EXIT);
        if (to) {
            uint32_t phys = to->phys_pc & PAGE_MASK;
            int32_t rel_to = (int32_t)((int64_t)target - (int64_t)(off + JIT_XPAGE_TARGET + 4));
            memcpy(j->mem.rw + off + JIT_XPAGE_PHYS, &phys, 4);
            memcpy(j->mem.rw + off + JIT_XPAGE_TARGET, &rel_to, 4);
        }
        int32_t rel = to ? 0 : JIT_XPAGE_EXIT - 4;
        __atomic_store_n((int32_t *)(j->mem.rw + off), rel, __ATOMIC_RELEASE);
        jitmem_write_end(&j->mem, off, JIT_XPAGE_EXIT);
        return;
    }
    int32_t rel = (int32_t)((int64_t)target - (int64_t)(off + 4));
    jitmem_write_begin(&j->mem, off, 4);
    __atomic_store_n((int32_t *)(j->mem.rw + off), rel, __ATOMIC_RELEASE);
    jitmem_write_end(&j->mem, off, 4);
}

static void jit_flush(void *opaque)
{
    JitState *j = opaque;
    j->pos = j->code_start;
}

static void jit_free(void *opaque)
{
    JitState *j = opaque;
    LOG(LOG_TB, "jit: %" PRIu64 " blocks, %" PRIu64 " bytes of code", j->nblocks, j->ncode_bytes);
    jitmem_free(&j->mem);
    if (j->perfmap) fclose(j->perfmap);
    free(j);
}

static const TbBackendHooks jit_hooks = {
    .set_jump = jit_set_jump,
    .flush = jit_flush,
    .free = jit_free,
};

/* ---- Backend ---- */

static bool x64_attach(TbCache *c)
{
    JitState *j = XNEW(JitState);
    if (!jitmem_init(&j->mem, jit_code_size, jit_mem_mode)) {
        free(j);
        return false;
    }
    j->cache = c;
    j->bmi2 = __builtin_cpu_supports("bmi2");
    if (LOG_ON(LOG_PERFMAP)) {
        char path[64];
        snprintf(path, sizeof path, "/tmp/perf-%d.map", (int)getpid());
        j->perfmap = fopen(path, "a");
    }
    jitmem_write_begin(&j->mem, 0, j->mem.size);
    build_stubs(j);
    jitmem_write_end(&j->mem, 0, j->mem.size);
    c->backend_hooks = &jit_hooks;
    c->backend_opaque = j;
    return true;
}

static bool x64_gen(TbCache *c, TranslationBlock *tb, const IrBlock *ir)
{
    return jit_gen_block(c->backend_opaque, tb, ir);
}

static TranslationBlock *x64_exec(CPUX86State *env, TranslationBlock *tb, int *exit_slot)
{
    JitState *j = env->tbs->backend_opaque;
    JitRet r = j->enter(env, (const uint8_t *)tb->code + JIT_BODY_OFFSET);
    *exit_slot = (int)r.slot;
    return r.tb;
}

/* env->cur_pos holds 1 + the index of the guest instruction that made the call. */
static int x64_fault_insn(const TranslationBlock *tb, const void *pos)
{
    intptr_t k = (intptr_t)pos - 1;
    if (k >= tb->icount) k = tb->icount - 1;
    return k < 0 ? 0 : (int)k;
}

const Backend backend_x86_64 = {
    .name = "x86_64",
    .gen = x64_gen,
    .exec = x64_exec,
    .fault_insn = x64_fault_insn,
    .attach = x64_attach,
};

#else
typedef int x64_backend_unused; /* ISO C wants a declaration in every translation unit */
#endif
