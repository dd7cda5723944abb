/* Translation-block cache: arena, hash table, jump cache, page lists and chaining (see tb.h). */
#include "exec/tb.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "util/alloc.h"
#include "util/log.h"

#define TAG_TB(p) ((TranslationBlock *)((p) & ~(uintptr_t)3))
#define TAG_SLOT(p) ((int)((p)&3))
#define MAKE_TAG(tb, n) ((uintptr_t)(tb) | (uintptr_t)(n))

TbCache *tb_cache_new(size_t arena_size)
{
    TbCache *c = xzalloc_aligned(_Alignof(TbCache), sizeof(TbCache));
    c->arena = mmap(NULL, arena_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (c->arena == MAP_FAILED) {
        free(c);
        return NULL;
    }
    c->arena_size = arena_size;
    c->hash_bits = 16;
    c->hash = xzalloc(sizeof(TranslationBlock *) << c->hash_bits);
    memset(c->jmp_entry, 0xff, sizeof c->jmp_entry);
    return c;
}

void tb_cache_free(TbCache *c)
{
    if (!c) return;
    if (c->backend_hooks) c->backend_hooks->free(c->backend_opaque);
    munmap(c->arena, c->arena_size);
    free(c->hash);
    for (int i = 0; i < 1024; i++) free(c->l1[i]);
    free(c);
}

void *tb_arena_alloc(TbCache *c, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (c->arena_used + size > c->arena_size) return NULL;
    void *p = c->arena + c->arena_used;
    c->arena_used += size;
    return p;
}

static void jmp_cache_drop(TbCache *c, unsigned i)
{
    c->jmp_cache[i] = NULL;
    c->jmp_entry[i].flags = JMP_ENTRY_NONE;
}

void tb_jmp_cache_clear(TbCache *c)
{
    memset(c->jmp_cache, 0, sizeof c->jmp_cache);
    memset(c->jmp_entry, 0xff, sizeof c->jmp_entry);
    c->jmp_nonflat = false;
    c->njmp_local = 0;
}

void tb_jmp_cache_clear_nonglobal(TbCache *c)
{
    if (c->njmp_local > JMP_CACHE_SIZE) {
        for (unsigned i = 0; i < JMP_CACHE_SIZE; i++)
            if (!c->jmp_global[i]) jmp_cache_drop(c, i);
    } else {
        for (unsigned k = 0; k < c->njmp_local; k++) {
            unsigned i = c->jmp_local[k];
            if (!c->jmp_global[i]) jmp_cache_drop(c, i);
        }
    }
    c->njmp_local = 0;
}

void tb_jmp_cache_clear_page(TbCache *c, uint32_t lin)
{
    if (c->jmp_nonflat) { /* entries are keyed by EIP, which is not the linear address */
        tb_jmp_cache_clear(c);
        return;
    }
    for (int k = 0; k < 2; k++) {
        unsigned g = tb_jmp_cache_hash((lin & ~0xfffu) - (uint32_t)k * 0x1000u) & JMP_GROUP_MASK;
        memset(&c->jmp_cache[g], 0, sizeof(TranslationBlock *) << JMP_GROUP_BITS);
        memset(&c->jmp_entry[g], 0xff, sizeof(JmpEntry) << JMP_GROUP_BITS);
    }
}

void tb_flush(TbCache *c)
{
    LOG(LOG_TB, "tb: flush (%zu bytes used)", c->arena_used);
    c->arena_used = 0;
    memset(c->hash, 0, sizeof(TranslationBlock *) << c->hash_bits);
    for (int i = 0; i < 1024; i++) {
        if (c->l1[i]) memset(c->l1[i], 0, sizeof(PageDesc) * 1024);
    }
    tb_jmp_cache_clear(c);
    if (c->backend_hooks) c->backend_hooks->flush(c->backend_opaque);
    c->nflushes++;
}

/* Tells a back end with patched jumps that from's exit slot n now leads to `to` (or nowhere). */
static void set_jump(TbCache *c, TranslationBlock *from, int n, TranslationBlock *to)
{
    if (c && c->backend_hooks) c->backend_hooks->set_jump(c->backend_opaque, from, n, to);
}

/* The virtual PC is part of the key: one physical page mapped at many addresses (the vDSO in
 * every process, shared text) would otherwise put all its translations in one chain. */
static unsigned tb_hash(const TbCache *c, uint32_t phys_pc, uint32_t pc, uint32_t flags)
{
    uint32_t h = phys_pc * 0x9e3779b1u ^ flags * 0x85ebca6bu ^ pc * 0xc2b2ae35u;
    return (h ^ (h >> 15)) & ((1u << c->hash_bits) - 1);
}

TranslationBlock *tb_hash_lookup(TbCache *c, uint32_t phys_pc, uint32_t pc, uint32_t cs_base,
                                 uint32_t flags)
{
    for (TranslationBlock *tb = c->hash[tb_hash(c, phys_pc, pc, flags)]; tb; tb = tb->hash_next) {
        if (tb->phys_pc == phys_pc && tb->pc == pc && tb->cs_base == cs_base && tb->flags == flags)
            return tb;
    }
    return NULL;
}

static PageDesc *page_find(TbCache *c, uint32_t phys, bool alloc)
{
    uint32_t page = phys >> 12;
    PageDesc **l2 = &c->l1[page >> 10];
    if (!*l2) {
        if (!alloc) return NULL;
        *l2 = xzalloc(sizeof(PageDesc) * 1024);
    }
    return &(*l2)[page & 1023];
}

bool tb_page_has_code(TbCache *c, uint32_t phys)
{
    PageDesc *pd = page_find(c, phys, false);
    return pd && pd->first_tb;
}

static void page_add(TbCache *c, TranslationBlock *tb, int n, uint32_t phys)
{
    PageDesc *pd = page_find(c, phys, true);
    bool first = !pd->first_tb;
    tb->page_next[n] = pd->first_tb;
    pd->first_tb = MAKE_TAG(tb, n);
    if (first && c->page_became_code) c->page_became_code(c->opaque, phys & ~0xfffu);
}

static void page_remove(TbCache *c, TranslationBlock *tb, int n, uint32_t phys)
{
    PageDesc *pd = page_find(c, phys, false);
    if (!pd) return;
    uintptr_t *pp = &pd->first_tb;
    while (*pp) {
        TranslationBlock *t = TAG_TB(*pp);
        int k = TAG_SLOT(*pp);
        if (t == tb && k == n) {
            *pp = t->page_next[k];
            return;
        }
        pp = &t->page_next[k];
    }
}

void tb_insert(TbCache *c, TranslationBlock *tb)
{
    unsigned h = tb_hash(c, tb->phys_pc, tb->pc, tb->flags);
    tb->hash_next = c->hash[h];
    c->hash[h] = tb;
    page_add(c, tb, 0, tb->phys_pc);
    if (tb->phys_page2 != UINT32_MAX) page_add(c, tb, 1, tb->phys_page2);
    c->ntranslated++;
}

/* Remove `from`'s slot n from the incoming list of its destination. */
static void unlink_outgoing(TbCache *c, TranslationBlock *from, int n)
{
    TranslationBlock *dest = from->jmp_dest[n];
    if (!dest) return;
    set_jump(c, from, n, NULL);
    uintptr_t *pp = &dest->jmp_first;
    while (*pp) {
        TranslationBlock *t = TAG_TB(*pp);
        int k = TAG_SLOT(*pp);
        if (t == from && k == n) {
            *pp = from->jmp_next[n];
            break;
        }
        pp = &t->jmp_next[k];
    }
    from->jmp_dest[n] = NULL;
}

void tb_chain(TbCache *c, TranslationBlock *from, int slot, TranslationBlock *to)
{
    if (from->invalid || to->invalid || from->jmp_dest[slot] == to) return;
    unlink_outgoing(c, from, slot);
    from->jmp_dest[slot] = to;
    from->jmp_next[slot] = to->jmp_first;
    to->jmp_first = MAKE_TAG(from, slot);
    set_jump(c, from, slot, to);
}

void tb_invalidate(TbCache *c, TranslationBlock *tb)
{
    if (tb->invalid) return;
    tb->invalid = true;
    c->ninvalidated++;
    LOG(LOG_TB, "tb: invalidate pc=%08x phys=%08x", tb->pc, tb->phys_pc);
    if (!(tb->cflags & TB_NOCACHE)) {
        TranslationBlock **pp = &c->hash[tb_hash(c, tb->phys_pc, tb->pc, tb->flags)];
        while (*pp && *pp != tb) pp = &(*pp)->hash_next;
        if (*pp) *pp = tb->hash_next;
        page_remove(c, tb, 0, tb->phys_pc);
        if (tb->phys_page2 != UINT32_MAX) page_remove(c, tb, 1, tb->phys_page2);
    }
    unsigned h = tb_jmp_cache_hash(tb->pc);
    if (c->jmp_cache[h] == tb) jmp_cache_drop(c, h);
    /* Blocks jumping here must go back through the lookup. */
    while (tb->jmp_first) {
        TranslationBlock *from = TAG_TB(tb->jmp_first);
        int k = TAG_SLOT(tb->jmp_first);
        tb->jmp_first = from->jmp_next[k];
        from->jmp_dest[k] = NULL;
        set_jump(c, from, k, NULL);
    }
    unlink_outgoing(c, tb, 0);
    unlink_outgoing(c, tb, 1);
}

bool tb_invalidate_phys_range(TbCache *c, uint32_t start, uint32_t len,
                              const TranslationBlock *current)
{
    bool hit_current = false;
    uint32_t end = start + len; /* exclusive; callers never pass ranges wrapping 4 GiB */
    for (uint32_t page = start & ~0xfffu; page < end || page == (start & ~0xfffu); page += 4096) {
        PageDesc *pd = page_find(c, page, false);
        if (pd) {
            uintptr_t p = pd->first_tb;
            while (p) {
                TranslationBlock *tb = TAG_TB(p);
                int k = TAG_SLOT(p);
                p = tb->page_next[k];
                /* Byte range of the block on this page. */
                uint32_t s, e;
                if (k == 0) {
                    s = tb->phys_pc;
                    e = tb->phys_pc + tb->size;
                    if (tb->phys_page2 != UINT32_MAX) e = (tb->phys_pc & ~0xfffu) + 4096;
                } else {
                    s = tb->phys_page2;
                    e = tb->phys_page2 + ((tb->phys_pc + tb->size) & 0xfff);
                }
                if (s < end && start < e) {
                    if (tb == current) hit_current = true;
                    tb_invalidate(c, tb);
                }
            }
        }
        if (page + 4096 == 0) break;
    }
    return hit_current;
}
