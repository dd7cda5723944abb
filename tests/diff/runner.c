/* Differential CPU tests: runs each case of a case file and prints one result line per case.
 * Freestanding (no libc) so the very same loop runs natively and inside the emulated guest. */
#include "runner.h"
#include "diff.h"

#define CTL ((volatile DiffCtl *)DIFF_CTL)

static uint8_t initial_window[DIFF_WIN_SIZE];

static char *put_hex(char *p, uint32_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        *p++ = "0123456789abcdef"[(v >> (4 * i)) & 15];
    return p;
}

static void put_str(DiffOut out, const char *s)
{
    unsigned n = 0;
    while (s[n])
        n++;
    out(s, n);
}

int diff_fault(uint32_t vector, uint32_t eip, uint32_t eflags, const uint32_t regs[8])
{
    if (!CTL->in_case) return 0;
    for (int i = 0; i < 8; i++)
        CTL->out[i] = regs[i];
    CTL->out_eflags = eflags;
    CTL->vector = vector;
    CTL->fault_eip = eip;
    CTL->in_case = 0;
    return 1;
}

/* Copies every case's code to its own address up front, so the emulator never sees code being
 * rewritten while the cases run. */
static void place_code(const DiffCase *cases, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        volatile uint8_t *dst = (volatile uint8_t *)(DIFF_CODE + i * DIFF_CODE_STRIDE);
        uint32_t n = cases[i].code_len;
        for (uint32_t j = 0; j < n; j++)
            dst[j] = cases[i].code[j];
        uint32_t slot = DIFF_CTL + CTL_CAPTURE_PTR;
        dst[n++] = 0xff; /* jmp [slot] */
        dst[n++] = 0x25;
        for (int b = 0; b < 4; b++)
            dst[n++] = (uint8_t)(slot >> (8 * b));
        while (n < DIFF_CODE_STRIDE)
            dst[n++] = 0xcc;
    }
}

static void run_case(const DiffCase *c, uint32_t index, DiffOut out)
{
    uint8_t *win = (uint8_t *)DIFF_DATA;
    diff_fill_window(initial_window, c->buf_seed, c->patch);
    for (unsigned i = 0; i < DIFF_WIN_SIZE; i++)
        win[i] = initial_window[i];
    for (int i = 0; i < 8; i++)
        CTL->in[i] = c->regs[i];
    CTL->in[4] = DIFF_STACK_TOP;
    CTL->in_eflags = c->eflags;
    CTL->code_ptr = DIFF_CODE + index * DIFF_CODE_STRIDE;
    CTL->vector = DIFF_NO_VECTOR;
    CTL->fault_eip = 0;
    diff_enter();

    uint32_t end = CTL->vector == DIFF_NO_VECTOR ? c->code_len : CTL->fault_eip - CTL->code_ptr;
    char line[128 + 7 * DIFF_WIN_SIZE];
    char *p = put_hex(line, index, 5);
    *p++ = ' ';
    p = put_hex(p, CTL->vector, 2);
    *p++ = ' ';
    p = put_hex(p, end, 2);
    for (int i = 0; i < 8; i++) {
        *p++ = ' ';
        p = put_hex(p, CTL->out[i], 8);
    }
    *p++ = ' ';
    p = put_hex(p, CTL->out_eflags, 8);
    for (unsigned i = 0; i < DIFF_WIN_SIZE; i++) {
        if (win[i] == initial_window[i]) continue;
        *p++ = ' ';
        p = put_hex(p, i, 3);
        *p++ = '=';
        p = put_hex(p, win[i], 2);
    }
    *p++ = '\n';
    out(line, (unsigned)(p - line));
}

int diff_run(const uint8_t *blob, uint32_t len, DiffOut out)
{
    const DiffHeader *h = (const DiffHeader *)blob;
    if (len < sizeof(*h) || h->magic != DIFF_MAGIC || h->case_size != sizeof(DiffCase) ||
        h->count > DIFF_MAX_CASES || len < sizeof(*h) + h->count * sizeof(DiffCase)) {
        put_str(out, "ERROR bad case file\n");
        return 1;
    }
    const DiffCase *cases = (const DiffCase *)(blob + sizeof(*h));
    for (uint32_t i = 0; i < h->count; i++) {
        if (cases[i].code_len > DIFF_CODE_MAX) {
            put_str(out, "ERROR bad case\n");
            return 1;
        }
    }
    CTL->capture_ptr = (uint32_t)(uintptr_t)diff_capture;
    CTL->in_case = 0;
    place_code(cases, h->count);

    char line[32];
    char *p = put_hex(line, h->count, 5);
    *p++ = '\n';
    put_str(out, "START ");
    out(line, (unsigned)(p - line));
    for (uint32_t i = 0; i < h->count; i++)
        run_case(&cases[i], i, out);
    put_str(out, "END ");
    out(line, (unsigned)(p - line));
    return 0;
}
