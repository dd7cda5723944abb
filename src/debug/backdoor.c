/* The CPUID backdoor guests use to talk to the emulator (DESIGN.md section 7): host time and
 * an opcode histogram. A guest sets CF before CPUID with EAX = "QEMU"; kestrel clears CF when
 * it handled the request, and any other input behaves as the normal CPUID leaf. */
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "cpu/x86/decode.h"
#include "cpu/x86/helpers.h"
#include "debug/backdoor.h"
#include "exec/tb.h"
#include "util/alloc.h"

#define TAG_QEMU 0x554d4551u
#define TAG_TIME 0x656d6974u
#define TAG_HIST 0x74736968u
#define TAG_STAR 0x72617473u
#define TAG_STOP 0x706f7473u
#define TAG_FETC 0x63746566u

/* Histogram buffer: X86_MNEM_COUNT 64-bit counters, then the NUL-terminated names. */
static void hist_build_buffer(CPUX86State *env)
{
    size_t names = 0;
    for (unsigned m = 0; m < X86_MNEM_COUNT; m++) names += strlen(x86_mnem_name(m)) + 1;
    size_t size = 8 * X86_MNEM_COUNT + names;
    free(env->hist_buf);
    env->hist_buf = xzalloc(size);
    env->hist_buf_size = (uint32_t)size;
    uint8_t *p = env->hist_buf;
    for (unsigned m = 0; m < X86_MNEM_COUNT; m++) {
        uint64_t v = env->hist ? env->hist[m] : 0;
        for (int i = 0; i < 8; i++) p[8 * m + i] = (uint8_t)(v >> (8 * i));
    }
    char *names_at = (char *)p + 8 * X86_MNEM_COUNT;
    for (unsigned m = 0; m < X86_MNEM_COUNT; m++) {
        size_t n = strlen(x86_mnem_name(m)) + 1;
        memcpy(names_at, x86_mnem_name(m), n);
        names_at += n;
    }
}

static void hist_set_enabled(CPUX86State *env, bool on)
{
    env->hist_enabled = on;
    /* Counting code is compiled into blocks: retranslate everything. */
    tb_flush(env->tbs);
    x86_update_hflags(env);
    x86_cpu_exit(env);
}

bool x86_backdoor(CPUX86State *env)
{
    uint32_t *r = env->regs;
    if (r[R_EAX] != TAG_QEMU || !(x86_cc_eflags(env) & CF_MASK)) return false;
    if (r[R_EDX] == TAG_TIME) {
        struct timeval tv;
        uint64_t t = (uint64_t)host_monotonic_ns();
        bool ok = gettimeofday(&tv, NULL) == 0;
        r[R_EAX] = (uint32_t)t;
        r[R_EDX] = (uint32_t)(t >> 32);
        r[R_ECX] = ok ? (uint32_t)tv.tv_sec : 0;
        r[R_EBX] = ok ? (uint32_t)tv.tv_usec : 0;
    } else if (r[R_EDX] == TAG_HIST && r[R_ECX] == TAG_STAR) {
        if (!env->hist) env->hist = xzalloc(sizeof(uint64_t) * X86_MNEM_COUNT);
        memset(env->hist, 0, sizeof(uint64_t) * X86_MNEM_COUNT);
        hist_set_enabled(env, true);
    } else if (r[R_EDX] == TAG_HIST && r[R_ECX] == TAG_STOP) {
        if (env->hist_enabled) hist_set_enabled(env, false);
        hist_build_buffer(env);
        r[R_EBX] = X86_MNEM_COUNT;
        r[R_ECX] = env->hist_buf_size;
    } else if (r[R_EDX] == TAG_HIST && r[R_ECX] == TAG_FETC) {
        uint32_t idx = r[R_EBX], w[4] = {0, 0, 0, 0};
        for (int i = 0; i < 16; i++) {
            uint32_t k = idx + i;
            uint8_t b = env->hist_buf && k < env->hist_buf_size ? env->hist_buf[k] : 0;
            w[i / 4] |= (uint32_t)b << (8 * (i % 4));
        }
        r[R_EAX] = w[0], r[R_EBX] = w[1], r[R_ECX] = w[2], r[R_EDX] = w[3];
    } else {
        return false;
    }
    uint32_t f = x86_cc_eflags(env) & ~CF_MASK;
    env->cc_src = f;
    env->cc_op = CC_OP_EFLAGS;
    return true;
}

static uint32_t hlp_hist_count_fn(void *opaque, uint32_t mnem, uint32_t b, uint32_t c)
{
    CPUX86State *env = opaque;
    if (env->hist && mnem < X86_MNEM_COUNT) env->hist[mnem]++;
    return 0;
}

const IrHelper hlp_hist_count = {hlp_hist_count_fn, "hist_count",
                                 IRH_NO_READ_G | IRH_NO_WRITE_G | IRH_NO_FAULT};
