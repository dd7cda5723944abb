/* Logging and run-time trace categories. */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint32_t log_mask;
static FILE *log_file;

static const struct {
    const char *name;
    uint32_t bit;
    const char *help;
} categories[] = {
    {"cpu", LOG_CPU, "exceptions, interrupts, mode switches"},
    {"tb", LOG_TB, "translation blocks created and invalidated"},
    {"ir", LOG_IR, "IR of each translated block"},
    {"mmu", LOG_MMU, "page walks and TLB flushes"},
    {"io", LOG_IO, "accesses to unassigned ports and memory"},
    {"dev", LOG_DEV, "device state changes"},
    {"unimp", LOG_UNIMP, "guest used an unimplemented feature"},
    {"guest", LOG_GUEST, "guest errors"},
    {"int", LOG_INT, "every interrupt and exception delivered"},
    {"exec", LOG_EXEC, "every executed block"},
    {"prof", LOG_PROF, "sample guest code, print the hottest addresses at exit"},
    {"perfmap", LOG_PERFMAP, "write /tmp/perf-PID.map naming generated code for perf"},
    {"out_asm", LOG_OUT_ASM, "host code of each block as hex (objdump -b binary -m i386:x86-64)"},
};

bool log_parse_mask(const char *list)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        bool found = false;
        for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++) {
            if (!strcmp(tok, categories[i].name) || !strcmp(tok, "all")) {
                log_mask |= categories[i].bit;
                found = true;
            }
        }
        if (!found) return false;
    }
    return true;
}

void log_list_categories(void)
{
    for (size_t i = 0; i < sizeof categories / sizeof categories[0]; i++)
        printf("%-8s %s\n", categories[i].name, categories[i].help);
}

void log_set_file(const char *path)
{
    FILE *f = fopen(path, "w");
    if (f) {
        setvbuf(f, NULL, _IOLBF, 0);
        log_file = f;
    }
}

void log_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log_file ? log_file : stderr, fmt, ap);
    va_end(ap);
    fputc('\n', log_file ? log_file : stderr);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    fputs("kestrel: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
