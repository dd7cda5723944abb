/* Minimal unit-test harness: TEST(name) { CHECK(...); } in any number of files' worth of
 * functions; main() is provided and prints one PASS/FAIL line per test (see tests/run). */
#ifndef TESTS_UNIT_TEST_H
#define TESTS_UNIT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct TestCase {
    const char *name;
    void (*fn)(void);
} TestCase;

static TestCase test_cases_[512];
static int test_count_;
static int test_failed_;
static const char *test_prog_;

#define TEST(name)                                                                                 \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void test_register_##name(void)                            \
    {                                                                                              \
        test_cases_[test_count_++] = (TestCase){#name, test_##name};                               \
    }                                                                                              \
    static void test_##name(void)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            if (!test_failed_) printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);  \
            test_failed_++;                                                                        \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                                           \
        if (a_ != b_) {                                                                            \
            if (!test_failed_)                                                                     \
                printf("# %s:%d: %s == 0x%" PRIx64 ", expected %s == 0x%" PRIx64 "\n", __FILE__,  \
                       __LINE__, #a, a_, #b, b_);                                                  \
            test_failed_++;                                                                        \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    test_prog_ = slash ? slash + 1 : argv[0];
    int failures = 0;
    for (int i = 0; i < test_count_; i++) {
        if (argc > 1 && strcmp(argv[1], test_cases_[i].name)) continue;
        test_failed_ = 0;
        test_cases_[i].fn();
        printf("%s unit.%s.%s\n", test_failed_ ? "FAIL" : "PASS", test_prog_, test_cases_[i].name);
        failures += test_failed_ != 0;
    }
    return failures != 0;
}

#endif
