/* The translation-block cache's hash table: lookups by (physical PC, PC, CS base, flags). */
#include "test.h"

#include <string.h>

#include "exec/tb.h"

static TranslationBlock *new_tb(TbCache *c, uint32_t phys_pc, uint32_t pc, uint32_t flags)
{
    TranslationBlock *tb = tb_arena_alloc(c, sizeof *tb);
    memset(tb, 0, sizeof *tb);
    tb->phys_pc = phys_pc;
    tb->pc = pc;
    tb->flags = flags;
    tb->size = 4;
    tb->phys_page2 = UINT32_MAX;
    tb_insert(c, tb);
    return tb;
}

static unsigned longest_chain(const TbCache *c)
{
    unsigned max = 0;
    for (unsigned i = 0; i < 1u << c->hash_bits; i++) {
        unsigned n = 0;
        for (const TranslationBlock *t = c->hash[i]; t; t = t->hash_next) n++;
        if (n > max) max = n;
    }
    return max;
}

/* One physical page mapped at many addresses (the vDSO in every process): its translations are
 * found again and do not all share one hash chain. */
TEST(one_page_at_many_addresses)
{
    TbCache *c = tb_cache_new(1u << 20);
    TranslationBlock *tbs[64];
    for (uint32_t i = 0; i < 64; i++)
        tbs[i] = new_tb(c, 0x123400, 0xb7f00400 - i * 0x21000, 0x40);
    for (uint32_t i = 0; i < 64; i++)
        CHECK(tb_hash_lookup(c, 0x123400, 0xb7f00400 - i * 0x21000, 0, 0x40) == tbs[i]);
    CHECK(tb_hash_lookup(c, 0x123400, 0xb7f00400 + 0x1000, 0, 0x40) == NULL);
    CHECK(tb_hash_lookup(c, 0x123400, 0xb7f00400, 0, 0x41) == NULL);
    CHECK(longest_chain(c) <= 4);
    tb_invalidate(c, tbs[5]);
    CHECK(tb_hash_lookup(c, 0x123400, 0xb7f00400 - 5 * 0x21000, 0, 0x40) == NULL);
    CHECK(tb_hash_lookup(c, 0x123400, 0xb7f00400 - 6 * 0x21000, 0, 0x40) == tbs[6]);
    tb_cache_free(c);
}
