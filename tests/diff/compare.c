/* Differential CPU tests: compares the native and the emulated result streams case by case and
 * prints PASS/FAIL per group, with disassembly and state for the first mismatches. */
#include <cpuid.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diff.h"

#define DETAILS_PER_GROUP 3

typedef struct Result {
    int present;
    unsigned vector, end;
    uint32_t regs[8];
    uint32_t eflags;
    char mem[7 * DIFF_WIN_SIZE + 1]; /* " ooo=vv" for every changed window byte */
} Result;

static const char *const reg_names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};

static void *load_file(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)*len + 1);
    if (!buf || fread(buf, 1, (size_t)*len, f) != (size_t)*len) {
        fclose(f);
        free(buf);
        return NULL;
    }
    buf[*len] = 0;
    fclose(f);
    return buf;
}

/* Parses a runner's output; returns the number of results, or -1 if the stream is unusable.
 * *ended tells whether the END line was seen. */
static long parse_results(const char *path, Result *res, uint32_t count, int *ended)
{
    long len;
    char *text = load_file(path, &len);
    *ended = 0;
    if (!text) return -1;
    long n = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!strncmp(line, "END ", 4)) {
            *ended = 1;
            continue;
        }
        unsigned idx;
        Result r = {0};
        int used = 0;
        if (sscanf(line, "%x %x %x %x %x %x %x %x %x %x %x %x%n", &idx, &r.vector, &r.end,
                   &r.regs[0], &r.regs[1], &r.regs[2], &r.regs[3], &r.regs[4], &r.regs[5],
                   &r.regs[6], &r.regs[7], &r.eflags, &used) != 12 ||
            idx >= count)
            continue;
        snprintf(r.mem, sizeof(r.mem), "%s", line + used);
        r.present = 1;
        res[idx] = r;
        n++;
    }
    free(text);
    return n;
}

static int host_is_amd(char vendor[13])
{
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) {
        strcpy(vendor, "unknown");
        return 0;
    }
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    return !strcmp(vendor, "AuthenticAMD");
}

/* FCOMI/FUCOMI(P) clear C1 per the SDM, as kestrel does, but AMD's x87s and newer Intel ones
 * (seen on a Sapphire Rapids-class Xeon) leave it unchanged. Asks the host: C1 set by FXAM of -1,
 * then FCOMI. */
static int host_fcomi_keeps_c1(void)
{
    uint16_t sw;
    __asm__ volatile("fninit\n\tfld1\n\tfchs\n\tfxam\n\tfcomi %%st(0), %%st\n\tfnstsw %0\n\tfninit"
                     : "=m"(sw)
                     :
                     : "cc", "st");
    return sw >> 9 & 1;
}

static void flag_names(uint32_t f, char *out)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {{FL_CF, "CF"}, {FL_PF, "PF"}, {FL_AF, "AF"}, {FL_ZF, "ZF"},
                 {FL_SF, "SF"}, {FL_DF, "DF"}, {FL_OF, "OF"}};
    out[0] = 0;
    for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (f & names[i].bit) {
            if (out[0]) strcat(out, " ");
            strcat(out, names[i].name);
        }
    }
}

/* Disassembles the code bytes with objdump when it is installed. */
static void disassemble(FILE *o, const DiffCase *c)
{
    char path[] = "/tmp/kestrel-diff-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return;
    ssize_t w = write(fd, c->code, c->code_len);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "objdump -D -b binary -mi386 %s 2>/dev/null", path);
    FILE *p = w == c->code_len ? popen(cmd, "r") : NULL;
    int printed = 0;
    if (p) {
        char line[256];
        int in_body = 0;
        while (fgets(line, sizeof(line), p)) {
            if (strstr(line, "<.data>:")) {
                in_body = 1;
                continue;
            }
            if (!in_body || line[0] == '\n') continue;
            line[strcspn(line, "\n")] = 0;
            fprintf(o, "#     %s\n", line);
            printed = 1;
        }
        pclose(p);
    }
    unlink(path);
    if (!printed) {
        fprintf(o, "#     code:");
        for (unsigned i = 0; i < c->code_len; i++)
            fprintf(o, " %02x", c->code[i]);
        fprintf(o, "\n");
    }
}

static void print_result(FILE *o, const char *who, const Result *r)
{
    char fl[64];
    if (!r->present) {
        fprintf(o, "#   %-7s no result\n", who);
        return;
    }
    fprintf(o, "#   %-7s", who);
    if (r->vector != DIFF_NO_VECTOR)
        fprintf(o, " exception %u at +%u", r->vector, r->end);
    else
        fprintf(o, " completed (+%u)", r->end);
    fprintf(o, "\n#          ");
    for (int i = 0; i < 8; i++)
        fprintf(o, " %s=%08x", reg_names[i], r->regs[i]);
    flag_names(r->eflags & FL_CMP, fl);
    fprintf(o, "\n#           eflags=%08x [%s] mem:%s\n", r->eflags, fl,
            r->mem[0] ? r->mem : " unchanged");
}

/* Describes how two results differ; returns nonzero if they do. */
static int differ(const Result *a, const Result *b, uint32_t flag_mask, char *why, size_t n)
{
    why[0] = 0;
    if (!a->present || !b->present) {
        snprintf(why, n, " missing result");
        return 1;
    }
    size_t len = 0;
    if (a->vector != b->vector) len += (size_t)snprintf(why + len, n - len, " vector");
    if (a->end != b->end) len += (size_t)snprintf(why + len, n - len, " eip");
    for (int i = 0; i < 8 && len < n; i++)
        if (a->regs[i] != b->regs[i])
            len += (size_t)snprintf(why + len, n - len, " %s", reg_names[i]);
    uint32_t fd = (a->eflags ^ b->eflags) & flag_mask;
    if (fd && len < n) {
        char fl[64];
        flag_names(fd, fl);
        len += (size_t)snprintf(why + len, n - len, " flags(%s)", fl);
    }
    if (strcmp(a->mem, b->mem) && len < n) len += (size_t)snprintf(why + len, n - len, " memory");
    return len != 0;
}

static void print_case(FILE *o, uint32_t idx, const DiffCase *c, const Result *nat,
                       const Result *emu, const char *label, const char *why)
{
    char fl[64];
    fprintf(o, "# case %u (%s, %u insn):%s\n", idx, diff_group_names[c->group], c->ninsn, why);
    disassemble(o, c);
    fprintf(o, "#   in     ");
    for (int i = 0; i < 8; i++)
        if (i != 4) fprintf(o, " %s=%08x", reg_names[i], c->regs[i]);
    flag_names(c->eflags & FL_CMP, fl);
    fprintf(o, "\n#           eflags=%08x [%s] buffer at %08x, window at %08x seed %08x", c->eflags,
            fl, DIFF_BUF, DIFF_DATA, c->buf_seed);
    for (int p = 0; p < DIFF_PATCHES; p++)
        if (c->patch[p].len)
            fprintf(o, " [%03x..]=%0*x", c->patch[p].off, 2 * c->patch[p].len, c->patch[p].val);
    fprintf(o, "\n");
    /* Show the original bytes wherever either side wrote memory. */
    uint8_t win[DIFF_WIN_SIZE];
    diff_fill_window(win, c->buf_seed, c->patch);
    uint8_t seen[DIFF_WIN_SIZE] = {0};
    int any = 0;
    const Result *both[2] = {nat, emu};
    for (int k = 0; k < 2; k++) {
        for (const char *p = both[k]->mem; *p;) {
            unsigned off, val;
            int used;
            if (sscanf(p, " %x=%x%n", &off, &val, &used) != 2) break;
            p += used;
            if (off >= DIFF_WIN_SIZE || seen[off]) continue;
            seen[off] = 1;
            fprintf(o, "%s %03x=%02x", any ? "" : "#           before:", off, win[off]);
            any = 1;
        }
    }
    if (any) fprintf(o, "\n");
    print_result(o, "native", nat);
    print_result(o, label, emu);
}

/* A tally of mismatch descriptions, so a FAIL line comes with what kinds of differences it has. */
typedef struct Kinds {
    char why[64][96];
    unsigned count[64];
    int n;
    unsigned other;
} Kinds;

static void kinds_add(Kinds *k, const char *why)
{
    for (int i = 0; i < k->n; i++) {
        if (!strcmp(k->why[i], why)) {
            k->count[i]++;
            return;
        }
    }
    if (k->n == 64) {
        k->other++;
        return;
    }
    snprintf(k->why[k->n], sizeof(k->why[0]), "%.95s", why);
    k->count[k->n++] = 1;
}

static void kinds_print(Kinds *k)
{
    printf("# kinds:");
    for (int shown = 0; shown < 8; shown++) {
        int best = -1;
        for (int i = 0; i < k->n; i++)
            if (k->count[i] && (best < 0 || k->count[i] > k->count[best])) best = i;
        if (best < 0) break;
        printf("%s %u x%s", shown ? ";" : "", k->count[best], k->why[best]);
        k->count[best] = 0;
    }
    if (k->other) printf("; %u others", k->other);
    printf("\n");
}

int main(int argc, char **argv)
{
    const char *label = "guest";
    int force_mask = 0;
    long show = -1;
    int argi = 1;
    while (argi < argc && argv[argi][0] == '-') {
        if (!strcmp(argv[argi], "--label") && argi + 1 < argc)
            label = argv[++argi];
        else if (!strcmp(argv[argi], "--mask-undefined"))
            force_mask = 1;
        else if (!strcmp(argv[argi], "--show") && argi + 1 < argc)
            show = strtol(argv[++argi], NULL, 0);
        else
            break;
        argi++;
    }
    if (argc - argi != 3) {
        fprintf(stderr,
                "usage: %s [--label NAME] [--mask-undefined] [--show CASE] CASES NATIVE GUEST\n",
                argv[0]);
        return 2;
    }
    long len;
    uint8_t *blob = load_file(argv[argi], &len);
    const DiffHeader *h = (const DiffHeader *)blob;
    if (!blob || len < (long)sizeof(*h) || h->magic != DIFF_MAGIC ||
        h->case_size != sizeof(DiffCase) ||
        (unsigned long)len < sizeof(*h) + (unsigned long)h->count * sizeof(DiffCase)) {
        printf("FAIL diff: cannot read case file %s\n", argv[argi]);
        return 1;
    }
    uint32_t count = h->count;
    const DiffCase *cases = (const DiffCase *)(blob + sizeof(*h));
    Result *nat = calloc(count, sizeof(Result)), *emu = calloc(count, sizeof(Result));
    int nat_end, emu_end;
    long nn = parse_results(argv[argi + 1], nat, count, &nat_end);
    long ne = parse_results(argv[argi + 2], emu, count, &emu_end);
    if (nn != (long)count || !nat_end) {
        printf("FAIL diff.native: native runner produced %ld of %u results\n", nn < 0 ? 0 : nn,
               count);
        return 1;
    }
    if (show >= 0) { /* just print one case, whether or not it differs */
        if (show >= (long)count) return 2;
        char why[256];
        differ(&nat[show], &emu[show], FL_CMP, why, sizeof(why));
        print_case(stdout, (uint32_t)show, &cases[show], &nat[show], &emu[show], label, why);
        return 0;
    }
    if (ne <= 0) {
        printf("FAIL diff: %s produced no results\n", label);
        return 1;
    }
    if (ne != (long)count || !emu_end) {
        printf("# %s produced %ld of %u results%s\n", label, ne, count,
               emu_end ? "" : " and no END line (crash or timeout?)");
        for (uint32_t i = 0; i < count; i++) {
            if (!emu[i].present) {
                char why[256];
                printf("# the first case without a result:\n");
                differ(&nat[i], &emu[i], FL_CMP, why, sizeof(why));
                print_case(stdout, i, &cases[i], &nat[i], &emu[i], label, why);
                break;
            }
        }
    }

    char vendor[13];
    int amd = host_is_amd(vendor);
    int mask = force_mask || !amd;
    int keeps_c1 = !amd && host_fcomi_keeps_c1();
    unsigned c1_accepted = 0;
    if (mask)
        printf("# host vendor %s: undefined flags are masked per the SDM, and cases with an "
               "undefined result are skipped (tests/diff/UNDEFINED-FLAGS.md describes AMD)\n",
               vendor);
    else
        printf("# host vendor %s: comparing all flags, undefined ones included (except in cases "
               "with BSF/BSR, whose undefined flags vary by AMD generation; C1 after FCOMI is "
               "not compared)\n",
               vendor);

    unsigned total[GRP_COUNT] = {0}, bad[GRP_COUNT] = {0}, skipped[GRP_COUNT] = {0};
    unsigned all_bad = 0, all_run = 0, all_skipped = 0;
    for (int grp = 0; grp < GRP_COUNT; grp++) {
        unsigned shown = 0;
        /* Buffer the details so they print after the group's PASS/FAIL line. */
        char *details = NULL;
        size_t dlen = 0;
        FILE *mem = open_memstream(&details, &dlen);
        static Kinds kinds;
        memset(&kinds, 0, sizeof(kinds));
        for (uint32_t i = 0; i < count; i++) {
            const DiffCase *c = &cases[i];
            if (c->group != grp) continue;
            uint32_t fmask = FL_CMP;
            if (mask || (c->undef & DIFF_UNDEF_MODEL)) {
                if (c->undef & DIFF_UNDEF_RESULT) {
                    skipped[grp]++;
                    continue;
                }
                int faulted = nat[i].present && nat[i].vector != DIFF_NO_VECTOR;
                fmask &= ~(faulted ? c->undef >> DIFF_UNDEF_ANY_SHIFT : c->undef);
            }
            total[grp]++;
            char why[256];
            int c1_kept = 0;
            if (amd && (c->undef & DIFF_UNDEF_X87_C1)) {
                nat[i].regs[0] &= ~0x200u; /* C1 of the status word in AX */
                emu[i].regs[0] &= ~0x200u;
            } else if (keeps_c1 && (c->undef & DIFF_UNDEF_X87_C1) &&
                       (nat[i].regs[0] & ~emu[i].regs[0] & 0x200u)) {
                /* The one difference an FCOMI that keeps C1 makes: when it was the last
                 * instruction to write C1, the host still has the C1 it found, kestrel 0. */
                emu[i].regs[0] |= 0x200u;
                c1_kept = 1;
            }
            if (!differ(&nat[i], &emu[i], fmask, why, sizeof(why))) {
                c1_accepted += c1_kept;
                continue;
            }
            bad[grp]++;
            kinds_add(&kinds, why);
            if (emu[i].present && shown++ < DETAILS_PER_GROUP && mem)
                print_case(mem, i, c, &nat[i], &emu[i], label, why);
        }
        if (mem) fclose(mem);
        all_run += total[grp];
        all_bad += bad[grp];
        all_skipped += skipped[grp];
        if (bad[grp])
            printf("FAIL diff.%s: %u of %u cases differ\n", diff_group_names[grp], bad[grp],
                   total[grp]);
        else
            printf("PASS diff.%s: %u cases\n", diff_group_names[grp], total[grp]);
        if (bad[grp]) kinds_print(&kinds);
        if (details && dlen) fputs(details, stdout);
        free(details);
    }
    if (c1_accepted)
        printf("# host FCOMI/FUCOMI(P) leave C1 unchanged (probed; the SDM and kestrel clear it): "
               "%u cases holding one with the final C1 set natively, clear on %s; accepted\n",
               c1_accepted, label);
    printf("# total: %u cases run natively and on %s, %u differ", all_run, label, all_bad);
    if (all_skipped) printf(", %u skipped (undefined results)", all_skipped);
    printf("\n");
    return all_bad ? 1 : 0;
}
