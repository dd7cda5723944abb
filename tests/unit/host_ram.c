/* Guest RAM allocation: zeroed, 2 MiB aligned, and advised for transparent huge pages. */
#include "test.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/ram.h"

/* Whether this process's mapping that contains p is advised for huge pages ("hg" among its
 * VmFlags in /proc/self/smaps): what the host does with the advice depends on its memory. */
static bool advised_huge(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f) return false;
    char line[512];
    bool inside = false, hg = false;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
            inside = (uintptr_t)p >= lo && (uintptr_t)p < hi;
        } else if (inside && !strncmp(line, "VmFlags:", 8)) {
            hg = strstr(line, " hg") != NULL;
            break;
        }
    }
    fclose(f);
    return hg;
}

TEST(aligned_zeroed_and_huge)
{
    size_t size = 64u << 20;
    uint8_t *p = host_ram_alloc(size);
    CHECK(p != NULL);
    CHECK_EQ((uintptr_t)p % (2u << 20), 0);
    bool zero = true;
    for (size_t i = 0; i < size; i += 4096) zero &= p[i] == 0 && p[i + 4095] == 0;
    CHECK(zero);
    memset(p, 0x5a, size);
    CHECK_EQ(p[size - 1], 0x5a);
    if (access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK) == 0)
        CHECK(advised_huge(p));
    else
        printf("# no transparent huge pages on this host: only alignment and zeroing checked\n");
    host_ram_free(p, size);
}
