/* Differential CPU tests, native side: a 32-bit Linux program that runs the embedded cases on
 * the host CPU. CPU exceptions arrive as signals; the handler reports the trap number. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "diff.h"
#include "runner.h"

extern const uint8_t diff_blob[], diff_blob_end[];

static void out_stdout(const char *s, unsigned n)
{
    fwrite(s, 1, n, stdout);
}

static void on_fault(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    (void)si;
    ucontext_t *uc = ctx;
    greg_t *gr = uc->uc_mcontext.gregs;
    uint32_t regs[8] = {gr[REG_EAX],  gr[REG_ECX], gr[REG_EDX], gr[REG_EBX],
                        gr[REG_UESP], gr[REG_EBP], gr[REG_ESI], gr[REG_EDI]};
    if (!diff_fault((uint32_t)gr[REG_TRAPNO], (uint32_t)gr[REG_EIP], (uint32_t)gr[REG_EFL], regs)) {
        static const char msg[] = "ERROR native harness faulted\n";
        ssize_t r = write(2, msg, sizeof(msg) - 1);
        (void)r;
        _exit(2);
    }
    gr[REG_EIP] = (greg_t)(uintptr_t)diff_leave;
    /* Clear TF and DF so the harness resumes with the ABI's flag state. */
    gr[REG_EFL] &= ~(greg_t)(0x100 | FL_DF);
}

int main(void)
{
    void *want = (void *)DIFF_CTL;
    void *got = mmap(want, DIFF_AREA_END - DIFF_CTL, PROT_READ | PROT_WRITE | PROT_EXEC,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (got != want) {
        fprintf(stderr, "diff-native: cannot map %p\n", want);
        return 2;
    }
    static uint8_t altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    int sigs[] = {SIGFPE, SIGILL, SIGSEGV, SIGBUS, SIGTRAP};
    for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
    int r = diff_run(diff_blob, (uint32_t)(diff_blob_end - diff_blob), out_stdout);
    fflush(stdout);
    return r;
}
