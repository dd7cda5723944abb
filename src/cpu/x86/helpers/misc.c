/* System-instruction helpers: CPUID, TSC and MSRs, control and debug registers, port I/O with
 * the IOPL and TSS bitmap checks, EFLAGS writes (POPF/CLI/STI), HLT, descriptor-table registers
 * (SDM vol. 2 instruction pages; vol. 3 chapters 2, 16, 18 and appendix B). */
#include <string.h>

#include "cpu/x86/helpers.h"
#include "exec/softmmu_slow.h"
#include "exec/tb.h"
#include "debug/backdoor.h"
#include "util/log.h"


/* Features advertised in CPUID.1:EDX: exactly what is implemented. */
#define CPUID_FPU (1u << 0)
#define CPUID_DE (1u << 2)
#define CPUID_PSE (1u << 3)
#define CPUID_TSC (1u << 4)
#define CPUID_MSR (1u << 5)
#define CPUID_CX8 (1u << 8)
#define CPUID_SEP (1u << 11)
#define CPUID_MTRR (1u << 12)
#define CPUID_PGE (1u << 13)
#define CPUID_CMOV (1u << 15)
#define CPUID_FXSR (1u << 24)
#define X86_FEATURES                                                                               \
    (CPUID_FPU | CPUID_DE | CPUID_PSE | CPUID_TSC | CPUID_MSR | CPUID_CX8 | CPUID_SEP |           \
     CPUID_MTRR | CPUID_PGE | CPUID_CMOV | CPUID_FXSR)

static const char brand[48] = "kestrel virtual CPU (i686)";

static uint32_t str4(const char *s) { return s[0] | s[1] << 8 | s[2] << 16 | (uint32_t)s[3] << 24; }

static uint32_t hlp_cpuid_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (x86_backdoor(env)) return 0;
    uint32_t leaf = env->regs[R_EAX];
    uint32_t eax = 0, ebx = 0, ecx = 0, edx = 0;
    switch (leaf) {
    case 0:
        eax = 2;
        ebx = str4("Genu"), edx = str4("ineI"), ecx = str4("ntel");
        break;
    case 1:
        eax = 0x0633; /* family 6, model 3, stepping 3 */
        edx = X86_FEATURES;
        break;
    case 2:
        eax = 0x00000001; /* one iteration, no cache descriptors */
        break;
    case 0x80000000: eax = 0x80000004; break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        const char *p = brand + (leaf - 0x80000002) * 16;
        eax = str4(p), ebx = str4(p + 4), ecx = str4(p + 8), edx = str4(p + 12);
        break;
    }
    default:
        if (leaf > 2 && leaf < 0x80000000) {
            /* Intel CPUs answer out-of-range basic leaves with the highest basic leaf. */
            eax = 0x00000001;
        }
        break;
    }
    env->regs[R_EAX] = eax;
    env->regs[R_EBX] = ebx;
    env->regs[R_ECX] = ecx;
    env->regs[R_EDX] = edx;
    return 0;
}

static uint64_t tsc_now(CPUX86State *env)
{
    return (uint64_t)clock_ns(env->clock) + env->tsc_offset;
}

static uint32_t hlp_rdtsc_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if ((env->cr[4] & CR4_TSD) && x86_cpl(env) != 0) x86_raise_exception_err(env, EXCP_GP, 0);
    uint64_t t = tsc_now(env);
    env->regs[R_EAX] = (uint32_t)t;
    env->regs[R_EDX] = (uint32_t)(t >> 32);
    return 0;
}

static uint64_t *mtrr_reg(CPUX86State *env, uint32_t msr)
{
    if (msr >= 0x200 && msr < 0x210)
        return (msr & 1) ? &env->mtrr.var_mask[(msr - 0x200) / 2] : &env->mtrr.var_base[(msr - 0x200) / 2];
    switch (msr) {
    case 0x250: return &env->mtrr.fixed[0];
    case 0x258: return &env->mtrr.fixed[1];
    case 0x259: return &env->mtrr.fixed[2];
    case 0x2ff: return &env->mtrr.def_type;
    }
    if (msr >= 0x268 && msr <= 0x26f) return &env->mtrr.fixed[3 + msr - 0x268];
    return NULL;
}

static uint32_t hlp_rdmsr_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (x86_cpl(env) != 0) x86_raise_exception_err(env, EXCP_GP, 0);
    uint32_t msr = env->regs[R_ECX];
    uint64_t v;
    uint64_t *m;
    switch (msr) {
    case 0x10: v = tsc_now(env); break;
    case 0x17: v = 0; break;      /* platform id */
    case 0x1b: v = env->apic_base; break;
    case 0x2a: v = 0; break;      /* power-on configuration */
    case 0x8b: v = 0; break;      /* microcode signature */
    case 0xfe: v = 0x508; break;  /* MTRRcap: 8 variable ranges, fixed ranges, WC */
    case 0x174: v = env->sysenter_cs; break;
    case 0x175: v = env->sysenter_esp; break;
    case 0x176: v = env->sysenter_eip; break;
    case 0x179: v = 0; break;     /* MCG_CAP: no banks */
    case 0x1a0: v = env->misc_enable; break;
    default:
        m = mtrr_reg(env, msr);
        if (!m) {
            LOG(LOG_GUEST, "guest: rdmsr of unknown MSR 0x%x", msr);
            x86_raise_exception_err(env, EXCP_GP, 0);
        }
        v = *m;
    }
    env->regs[R_EAX] = (uint32_t)v;
    env->regs[R_EDX] = (uint32_t)(v >> 32);
    return 0;
}

static uint32_t hlp_wrmsr_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (x86_cpl(env) != 0) x86_raise_exception_err(env, EXCP_GP, 0);
    uint32_t msr = env->regs[R_ECX];
    uint64_t v = env->regs[R_EAX] | (uint64_t)env->regs[R_EDX] << 32;
    uint64_t *m;
    switch (msr) {
    case 0x10: env->tsc_offset = v - (uint64_t)clock_ns(env->clock); break;
    case 0x1b: env->apic_base = v & 0xfffff900u; break;
    case 0x8b: break;
    case 0x174: env->sysenter_cs = (uint32_t)v; break;
    case 0x175: env->sysenter_esp = (uint32_t)v; break;
    case 0x176: env->sysenter_eip = (uint32_t)v; break;
    case 0x1a0: env->misc_enable = v; break;
    default:
        m = mtrr_reg(env, msr);
        if (!m) {
            LOG(LOG_GUEST, "guest: wrmsr of unknown MSR 0x%x", msr);
            x86_raise_exception_err(env, EXCP_GP, 0);
        }
        *m = v;
    }
    return 0;
}

static uint32_t hlp_rdpmc_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    /* No performance counters are advertised. */
    x86_raise_exception_err(opaque, EXCP_GP, 0);
}

static void check_cpl0(CPUX86State *env)
{
    if (x86_cpl(env) != 0) x86_raise_exception_err(env, EXCP_GP, 0);
}

static uint32_t hlp_read_cr_fn(void *opaque, uint32_t n, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    return env->cr[n];
}

void x86_write_cr(CPUX86State *env, int n, uint32_t v)
{
    switch (n) {
    case 0: {
        if ((v & CR0_PG) && !(v & CR0_PE)) x86_raise_exception_err(env, EXCP_GP, 0);
        if ((v & CR0_NW) && !(v & CR0_CD)) x86_raise_exception_err(env, EXCP_GP, 0);
        uint32_t old = env->cr[0];
        env->cr[0] = v | CR0_ET;
        if ((old ^ v) & (CR0_PG | CR0_WP | CR0_PE)) softmmu_flush(env);
        if ((old ^ v) & CR0_PE) {
            if (!(v & CR0_PE)) x86_set_cpl(env, 0);
            x86_refresh_segments(env);
        }
        x86_update_hflags(env);
        break;
    }
    case 2: env->cr[2] = v; break;
    case 3:
        env->cr[3] = v;
        if (env->cr[0] & CR0_PG) softmmu_flush_nonglobal(env);
        break;
    case 4: {
        uint32_t allowed = CR4_TSD | CR4_DE | CR4_PSE | CR4_PGE | CR4_PCE | CR4_OSFXSR |
                           CR4_OSXMMEXCPT;
        if (v & ~allowed) x86_raise_exception_err(env, EXCP_GP, 0);
        uint32_t old = env->cr[4];
        env->cr[4] = v;
        if ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE)) softmmu_flush(env);
        x86_update_hflags(env);
        break;
    }
    default: x86_raise_exception(env, EXCP_UD);
    }
}

static uint32_t hlp_write_cr_fn(void *opaque, uint32_t n, uint32_t v, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    x86_write_cr(env, n, v);
    return 0;
}

static uint32_t bp_len(uint32_t dr7, int i)
{
    static const uint32_t lens[4] = {1, 2, 8, 4};
    return lens[(dr7 >> (18 + 4 * i)) & 3];
}

unsigned x86_watch_hits(const CPUX86State *env, uint32_t addr, unsigned size, bool write)
{
    unsigned hits = 0;
    unsigned m = x86_dr7_bps(env, 3) | (write ? x86_dr7_bps(env, 1) : 0);
    for (int i = 0; i < 4; i++) {
        if (!(m & (1u << i))) continue;
        uint32_t len = bp_len(env->dr[7], i), start = env->dr[i] & ~(len - 1);
        if (addr < start + len && start < addr + size) hits |= 1u << i;
    }
    return hits;
}

bool x86_page_watched(const CPUX86State *env, uint32_t page, bool write)
{
    if (!(env->dr[7] & 0xff)) return false; /* no breakpoint enabled */
    unsigned m = x86_dr7_bps(env, 3) | (write ? x86_dr7_bps(env, 1) : 0);
    for (int i = 0; i < 4; i++)
        if ((m & (1u << i)) && (env->dr[i] & PAGE_MASK) == page) return true;
    return false;
}

/* Instruction breakpoint check at linear address lin (fault before the instruction). */
static uint32_t hlp_insn_bp_fn(void *opaque, uint32_t lin, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    unsigned m = x86_dr7_exec_bps(env), hits = 0;
    for (int i = 0; i < 4; i++)
        if ((m & (1u << i)) && env->dr[i] == lin) hits |= 1u << i;
    if (hits && !(env->eflags & RF_MASK)) {
        env->dr[6] = (env->dr[6] & ~0xfu) | hits;
        x86_raise_exception(env, EXCP_DB);
    }
    return 0;
}

static uint32_t hlp_clear_rf_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    ((CPUX86State *)opaque)->eflags &= ~RF_MASK;
    return 0;
}

static int dr_index(CPUX86State *env, int n)
{
    if (n == 4 || n == 5) {
        if (env->cr[4] & CR4_DE) x86_raise_exception(env, EXCP_UD);
        return n + 2;
    }
    return n;
}

static uint32_t hlp_read_dr_fn(void *opaque, uint32_t n, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    return env->dr[dr_index(env, n)];
}

static uint32_t hlp_write_dr_fn(void *opaque, uint32_t n, uint32_t v, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    int i = dr_index(env, n);
    if (i == 6) v = (v & 0x0000e00fu) | 0xffff0ff0u;
    if (i == 7) v = (v & 0xffff2bffu) | 0x400;
    uint32_t old = env->dr[i];
    env->dr[i] = v;
    /* Breakpoints are compiled into blocks and TLB entries: start afresh when they change
     * (kernels rewrite the registers with the values they hold, e.g. Linux at boot). */
    if ((i < 4 || i == 7) && v != old) {
        softmmu_flush(env);
        tb_flush(env->tbs);
        x86_update_hflags(env);
        x86_cpu_exit(env);
    }
    return 0;
}

/* I/O permission: CPL <= IOPL, else the TSS bitmap decides (SDM vol. 1, 19.5). */
static void check_io(CPUX86State *env, uint32_t port, unsigned size)
{
    if (!(env->cr[0] & CR0_PE)) return;
    int iopl = (env->eflags & IOPL_MASK) >> IOPL_SHIFT;
    if (!(env->eflags & VM_MASK) && x86_cpl(env) <= iopl) return;
    SegCache *tr = &env->segs[R_TR];
    if (!(tr->flags & DESC_P_MASK) || ((tr->flags >> 8) & 15) != 11 || tr->limit < 0x67)
        x86_raise_exception_err(env, EXCP_GP, 0);
    uint32_t base = x86_lduw(env, tr->base + 0x66, MMU_KSYS);
    uint32_t off = base + (port >> 3);
    if (off + 1 > tr->limit) x86_raise_exception_err(env, EXCP_GP, 0);
    uint32_t bits = x86_lduw(env, tr->base + off, MMU_KSYS);
    if ((bits >> (port & 7)) & ((1u << size) - 1)) x86_raise_exception_err(env, EXCP_GP, 0);
}

static uint32_t hlp_in_fn(void *opaque, uint32_t port, uint32_t size, uint32_t c)
{
    CPUX86State *env = opaque;
    port &= 0xffff;
    check_io(env, port, size);
    return as_read(env->io, port, size);
}

static uint32_t hlp_out_fn(void *opaque, uint32_t port, uint32_t size, uint32_t v)
{
    CPUX86State *env = opaque;
    port &= 0xffff;
    check_io(env, port, size);
    as_write(env->io, port, v, size);
    return 0;
}

static uint32_t hlp_check_io_fn(void *opaque, uint32_t port, uint32_t size, uint32_t c)
{
    check_io(opaque, port & 0xffff, size);
    return 0;
}

/* PUSHF: returns the value to push; #GP in v86 mode with IOPL < 3. */
static uint32_t hlp_pushf_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if ((env->eflags & VM_MASK) && ((env->eflags & IOPL_MASK) >> IOPL_SHIFT) < 3)
        x86_raise_exception_err(env, EXCP_GP, 0);
    return x86_get_eflags(env) & ~(VM_MASK | RF_MASK);
}

/* POPF with the privilege rules on IOPL and IF (SDM vol. 2, POPF). */
static uint32_t hlp_popf_fn(void *opaque, uint32_t value, uint32_t size, uint32_t c)
{
    CPUX86State *env = opaque;
    int cpl = x86_cpl(env), iopl = (env->eflags & IOPL_MASK) >> IOPL_SHIFT;
    uint32_t mask = CC_MASK | DF_MASK | TF_MASK | NT_MASK | AC_MASK | ID_MASK;
    if (env->eflags & VM_MASK) {
        if (iopl < 3) x86_raise_exception_err(env, EXCP_GP, 0);
        mask |= IF_MASK;
    } else {
        if (cpl == 0) mask |= IOPL_MASK;
        if (cpl <= iopl) mask |= IF_MASK;
    }
    if (size == 2) mask &= 0xffff;
    x86_set_eflags_only(env, value, mask);
    return 0;
}

static uint32_t hlp_cli_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (env->cr[0] & CR0_PE) {
        int iopl = (env->eflags & IOPL_MASK) >> IOPL_SHIFT;
        int cpl = (env->eflags & VM_MASK) ? 3 : x86_cpl(env);
        if (cpl > iopl) x86_raise_exception_err(env, EXCP_GP, 0);
    }
    env->eflags &= ~IF_MASK;
    return 0;
}

static uint32_t hlp_sti_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (env->cr[0] & CR0_PE) {
        int iopl = (env->eflags & IOPL_MASK) >> IOPL_SHIFT;
        int cpl = (env->eflags & VM_MASK) ? 3 : x86_cpl(env);
        if (cpl > iopl) x86_raise_exception_err(env, EXCP_GP, 0);
    }
    if (!(env->eflags & IF_MASK)) {
        env->inhibit_irq = true; /* a pending interrupt is taken after the next instruction */
        x86_note_if_set(env);
    }
    env->eflags |= IF_MASK;
    return 0;
}

static uint32_t hlp_hlt_fn(void *opaque, uint32_t next_eip, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    env->halted = true;
    env->eip = next_eip;
    x86_cpu_exit(env);
    /* HLT is the instruction after an STI or MOV SS: their interrupt shadow ends with it
     * (STI; HLT waits for an interrupt that may come right away). */
    env->inhibit_irq = false;
    return 0;
}

static uint32_t hlp_raise_fn(void *opaque, uint32_t vector, uint32_t err, uint32_t c)
{
    x86_raise_exception_err(opaque, vector, err);
}

static uint32_t hlp_raise_int_fn(void *opaque, uint32_t vector, uint32_t next_eip, uint32_t sw)
{
    CPUX86State *env = opaque;
    if (sw && (env->eflags & VM_MASK) && ((env->eflags & IOPL_MASK) >> IOPL_SHIFT) < 3)
        x86_raise_exception_err(env, EXCP_GP, 0);
    x86_raise_interrupt(env, vector, next_eip, sw);
}

static uint32_t hlp_into_fn(void *opaque, uint32_t next_eip, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (x86_cc_eflags(env) & OF_MASK) x86_raise_interrupt(env, EXCP_OF, next_eip, true);
    return 0;
}

/* Descriptor-table registers: a = linear address, b = operand size. */
static uint32_t hlp_lgdt_fn(void *opaque, uint32_t lin, uint32_t size, uint32_t which)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    int mmu = x86_mmu_idx(env);
    uint32_t limit = x86_lduw(env, lin, mmu);
    uint32_t base = x86_ldl(env, lin + 2, mmu);
    if (size == 2) base &= 0xffffff;
    if (which)
        env->idt = (DescTable){base, limit};
    else
        env->gdt = (DescTable){base, limit};
    return 0;
}

static uint32_t hlp_sgdt_fn(void *opaque, uint32_t lin, uint32_t size, uint32_t which)
{
    CPUX86State *env = opaque;
    int mmu = x86_mmu_idx(env);
    DescTable *t = which ? &env->idt : &env->gdt;
    softmmu_probe(env, lin, 6, ACC_WRITE, mmu);
    x86_stw(env, lin, t->limit, mmu);
    x86_stl(env, lin + 2, t->base, mmu);
    return 0;
}

static uint32_t hlp_smsw_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    return ((CPUX86State *)opaque)->cr[0];
}

static uint32_t hlp_lmsw_fn(void *opaque, uint32_t v, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    /* LMSW can set PE but not clear it; it only touches PE, MP, EM, TS. */
    uint32_t cr0 = (env->cr[0] & ~0xeu) | (v & 0xfu);
    if (env->cr[0] & CR0_PE) cr0 |= CR0_PE;
    x86_write_cr(env, 0, cr0);
    return 0;
}

static uint32_t hlp_clts_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    env->cr[0] &= ~CR0_TS;
    x86_update_hflags(env);
    return 0;
}

static uint32_t hlp_invlpg_fn(void *opaque, uint32_t lin, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    check_cpl0(env);
    softmmu_flush_page(env, lin);
    return 0;
}

static uint32_t hlp_priv_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    check_cpl0(opaque);
    return 0;
}

static uint32_t hlp_single_step_fn(void *opaque, uint32_t next_eip, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    env->dr[6] |= 0x4000; /* BS */
    x86_raise_interrupt(env, EXCP_DB, next_eip, false);
}

static uint32_t hlp_cc_eflags_fn(void *opaque, uint32_t cc_op, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    return x86_cc_compute(cc_op, env->cc_dst, env->cc_src, env->cc_src2);
}

static uint32_t hlp_cc_cf_fn(void *opaque, uint32_t cc_op, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    return x86_cc_compute_cf(cc_op, env->cc_dst, env->cc_src, env->cc_src2);
}

static uint32_t hlp_get_eflags_fn(void *opaque, uint32_t a, uint32_t b, uint32_t c)
{
    return x86_get_eflags(opaque);
}

/* SAHF/CMC-style updates: writes the arithmetic flags in mask from value. */
static uint32_t hlp_set_ccflags_fn(void *opaque, uint32_t value, uint32_t mask, uint32_t c)
{
    CPUX86State *env = opaque;
    uint32_t f = x86_cc_eflags(env);
    env->cc_src = (f & ~mask) | (value & mask);
    env->cc_op = CC_OP_EFLAGS;
    return 0;
}

const IrHelper hlp_cpuid = {hlp_cpuid_fn, "cpuid", IRH_NO_FAULT};
const IrHelper hlp_rdtsc = {hlp_rdtsc_fn, "rdtsc", 0};
const IrHelper hlp_rdmsr = {hlp_rdmsr_fn, "rdmsr", 0};
const IrHelper hlp_wrmsr = {hlp_wrmsr_fn, "wrmsr", 0};
const IrHelper hlp_rdpmc = {hlp_rdpmc_fn, "rdpmc", 0};
const IrHelper hlp_read_cr = {hlp_read_cr_fn, "read_cr", IRH_NO_WRITE_G};
const IrHelper hlp_write_cr = {hlp_write_cr_fn, "write_cr", 0};
const IrHelper hlp_read_dr = {hlp_read_dr_fn, "read_dr", IRH_NO_WRITE_G};
const IrHelper hlp_write_dr = {hlp_write_dr_fn, "write_dr", 0};
const IrHelper hlp_in = {hlp_in_fn, "in", 0};
const IrHelper hlp_out = {hlp_out_fn, "out", 0};
const IrHelper hlp_check_io = {hlp_check_io_fn, "check_io", IRH_NO_WRITE_G};
const IrHelper hlp_pushf = {hlp_pushf_fn, "pushf", IRH_NO_WRITE_G};
const IrHelper hlp_popf = {hlp_popf_fn, "popf", 0};
const IrHelper hlp_cli = {hlp_cli_fn, "cli", 0};
const IrHelper hlp_sti = {hlp_sti_fn, "sti", 0};
const IrHelper hlp_hlt = {hlp_hlt_fn, "hlt", 0};
const IrHelper hlp_raise = {hlp_raise_fn, "raise", 0};
const IrHelper hlp_raise_int = {hlp_raise_int_fn, "raise_int", 0};
const IrHelper hlp_into = {hlp_into_fn, "into", 0};
const IrHelper hlp_lgdt = {hlp_lgdt_fn, "lgdt", IRH_NO_WRITE_G};
const IrHelper hlp_sgdt = {hlp_sgdt_fn, "sgdt", IRH_NO_WRITE_G};
const IrHelper hlp_lmsw = {hlp_lmsw_fn, "lmsw", 0};
const IrHelper hlp_smsw = {hlp_smsw_fn, "smsw", IRH_NO_READ_G | IRH_QUERY};
const IrHelper hlp_clts = {hlp_clts_fn, "clts", 0};
const IrHelper hlp_invlpg = {hlp_invlpg_fn, "invlpg", IRH_NO_WRITE_G};
const IrHelper hlp_priv = {hlp_priv_fn, "check_cpl0", IRH_NO_WRITE_G};
const IrHelper hlp_single_step = {hlp_single_step_fn, "single_step", 0};
const IrHelper hlp_cc_eflags = {hlp_cc_eflags_fn, "cc_eflags", IRH_QUERY};
const IrHelper hlp_insn_bp = {hlp_insn_bp_fn, "insn_bp", IRH_NO_WRITE_G};
const IrHelper hlp_clear_rf = {hlp_clear_rf_fn, "clear_rf", IRH_NO_FAULT};
const IrHelper hlp_cc_cf = {hlp_cc_cf_fn, "cc_cf", IRH_QUERY};
const IrHelper hlp_get_eflags = {hlp_get_eflags_fn, "get_eflags", IRH_QUERY};
const IrHelper hlp_set_ccflags = {hlp_set_ccflags_fn, "set_ccflags", IRH_NO_FAULT};
