/* Logging and run-time trace categories (no compile-time debug switches). */
#ifndef UTIL_LOG_H
#define UTIL_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum {
    LOG_CPU = 1u << 0,    /* exceptions, interrupts, mode switches */
    LOG_TB = 1u << 1,     /* translation blocks */
    LOG_IR = 1u << 2,     /* IR dumps of each translated block */
    LOG_MMU = 1u << 3,    /* page walks, TLB flushes */
    LOG_IO = 1u << 4,     /* port and MMIO accesses to unassigned addresses */
    LOG_DEV = 1u << 5,    /* device state changes */
    LOG_UNIMP = 1u << 6,  /* guest used something not implemented */
    LOG_GUEST = 1u << 7,  /* guest errors: bad descriptors, invalid accesses */
    LOG_INT = 1u << 8,    /* every interrupt delivered */
    LOG_EXEC = 1u << 9,   /* every executed block (very verbose) */
    LOG_PROF = 1u << 10,  /* sample guest code and print the hottest addresses at exit */
    LOG_PERFMAP = 1u << 11, /* /tmp/perf-PID.map naming generated code for Linux perf */
    LOG_OUT_ASM = 1u << 12, /* host code of each translated block, as hex bytes */
};

extern uint32_t log_mask;

/* Parse a comma-separated category list ("cpu,tb,unimp"); returns false on an unknown name. */
bool log_parse_mask(const char *list);
void log_list_categories(void);
void log_set_file(const char *path);

void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One-line error to stderr, prefixed with "kestrel: ". */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define LOG_ON(cat) (log_mask & (cat))
#define LOG(cat, ...)                                                                              \
    do {                                                                                           \
        if (LOG_ON(cat)) log_msg(__VA_ARGS__);                                                     \
    } while (0)

/* Logs a guest-triggered condition once per call site (always printed for LOG_UNIMP). */
#define LOG_ONCE(cat, ...)                                                                         \
    do {                                                                                           \
        static bool logged_;                                                                       \
        if (!logged_ && (LOG_ON(cat) || (cat) == LOG_UNIMP)) {                                     \
            logged_ = true;                                                                        \
            log_msg(__VA_ARGS__);                                                                  \
        }                                                                                          \
    } while (0)

#endif
