/* Translation blocks: keyed by guest physical PC plus the mode bits that change translation,
 * kept in an arena with a hash table, a virtual-PC jump cache, per-physical-page lists for
 * self-modifying-code invalidation, and direct-jump chaining links. */
#ifndef EXEC_TB_H
#define EXEC_TB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ir/ir.h"

#define TB_MAX_INSNS 256
#define TB_NOCACHE 0x1 /* single instruction, not entered in any table (SMC restart) */

typedef struct TranslationBlock TranslationBlock;

struct TranslationBlock {
    uint32_t pc;         /* EIP of the first instruction */
    uint32_t cs_base;
    uint32_t flags;      /* hflags */
    uint32_t phys_pc;    /* physical address of the first byte */
    uint32_t phys_page2; /* physical page of the bytes on the next page, or UINT32_MAX */
    uint16_t size;       /* guest code bytes */
    uint16_t icount;     /* guest instructions */
    uint8_t cflags;
    bool invalid;
    uint8_t xpage_slots; /* bit n: exit slot n leaves for another page (IR_GOTO_TB_XPAGE) */

    /* Back-end output. */
    const void *code;
    uint32_t code_handle; /* code as the back end's inline lookup finds it (JmpEntry.code) */
    uint32_t *insn_pos;  /* back-end position where each guest instruction starts */
    uint16_t *insn_off;  /* guest byte offset of each instruction */
    uint8_t *insn_aux;   /* front-end state to restore on a fault in that instruction */
    const IrHelper **helpers;

    /* Chaining: jmp_dest[n] is where exit slot n goes when set; the blocks that jump here
     * are on a list threaded through their jmp_next[] (tagged pointer: block | slot). */
    TranslationBlock *jmp_dest[2];
    uintptr_t jmp_next[2];
    uintptr_t jmp_first;

    TranslationBlock *hash_next;
    uintptr_t page_next[2]; /* page lists, tagged with the page slot (0 or 1) */
};

#define JMP_CACHE_BITS 14
#define JMP_CACHE_SIZE (1u << JMP_CACHE_BITS)

/* What an inline lookup compares, per jump cache entry, and where it then goes: a hit reads
 * this one 16-byte entry rather than the block. An empty entry has flags JMP_ENTRY_NONE, which
 * no hflags value equals. */
typedef struct JmpEntry {
    uint32_t pc, flags, cs_base;
    uint32_t code; /* the block's code_handle */
} JmpEntry;
#define JMP_ENTRY_NONE 0xffffffffu

typedef struct PageDesc {
    uintptr_t first_tb; /* tagged pointer: block | page slot */
} PageDesc;

/* Hooks of a back end whose code lives outside the arena (the x86-64 code buffer): the direct
 * jumps it patched for chaining, and its storage, must follow the cache's links and lifetime. */
typedef struct TbBackendHooks {
    /* Exit slot `slot` of `from` now continues in `to`, or leaves the chain when to is NULL. */
    void (*set_jump)(void *opaque, TranslationBlock *from, int slot, TranslationBlock *to);
    void (*flush)(void *opaque); /* every block was dropped: reuse all code space */
    void (*free)(void *opaque);  /* the cache is being freed */
} TbBackendHooks;

typedef struct TbCache {
    uint8_t *arena;
    size_t arena_size, arena_used;
    TranslationBlock **hash;
    unsigned hash_bits;
    PageDesc *l1[1024]; /* two-level table over 4 GiB of physical pages */
    TranslationBlock *jmp_cache[JMP_CACHE_SIZE];
    _Alignas(64) JmpEntry jmp_entry[JMP_CACHE_SIZE]; /* the same, for back ends' inline lookups */
    /* Per jmp_cache entry: the block lies in one page whose translation is global, so the entry
     * survives CR3 writes as the TLB entry does. */
    uint8_t jmp_global[JMP_CACHE_SIZE];
    /* Indexes of the entries made for non-global blocks since the last clear (CR3 writes clear
     * those); past JMP_CACHE_SIZE of them, the whole cache is scanned instead. */
    uint16_t jmp_local[JMP_CACHE_SIZE];
    unsigned njmp_local;
    bool jmp_nonflat; /* an entry was made with a nonzero CS base (EIP pages are not linear) */
    uint64_t ntranslated, nflushes, ninvalidated;
    uint64_t nfind; /* blocks the run loop looked up (not counting chained and inline lookups) */
    uint64_t nfind_cached; /* inline lookups that missed the jump cache and found the block */
    /* Called when a page gets its first block, so TLB write entries for it take the slow path. */
    void (*page_became_code)(void *opaque, uint32_t phys_page);
    void *opaque;
    const TbBackendHooks *backend_hooks; /* NULL for back ends that keep code in the arena */
    void *backend_opaque;
} TbCache;

TbCache *tb_cache_new(size_t arena_size);
void tb_cache_free(TbCache *c);

/* Arena allocation (8-byte aligned); NULL when full: the caller flushes and retries. */
void *tb_arena_alloc(TbCache *c, size_t size);
/* Drop every block (arena full, or a global change). */
void tb_flush(TbCache *c);

/* The jump cache is split in groups of 2^JMP_GROUP_BITS entries; the group comes from the page
 * number, so that forgetting one page (INVLPG) clears one group rather than the whole cache. */
#define JMP_GROUP_BITS 7
#define JMP_GROUP_MASK ((JMP_CACHE_SIZE - 1) & ~((1u << JMP_GROUP_BITS) - 1))
static inline unsigned tb_jmp_cache_hash(uint32_t pc)
{
    uint32_t t = pc >> (12 - JMP_GROUP_BITS); /* page number at the group's bits */
    return (t & JMP_GROUP_MASK) | ((t ^ pc) & ((1u << JMP_GROUP_BITS) - 1));
}
void tb_jmp_cache_clear(TbCache *c);
/* After CR3 writes: keeps the entries of blocks in global pages. */
void tb_jmp_cache_clear_nonglobal(TbCache *c);
/* After the translation of the page at linear address lin changed: the entries that may hold
 * blocks in it (or starting in the page before and reaching into it). */
void tb_jmp_cache_clear_page(TbCache *c, uint32_t lin);
/* Remembers tb (entered at EIP pc, CS base cs_base) as the block for pc; global as above. */
static inline void tb_jmp_cache_set(TbCache *c, uint32_t pc, uint32_t cs_base,
                                    TranslationBlock *tb, bool global)
{
    unsigned h = tb_jmp_cache_hash(pc);
    c->jmp_cache[h] = tb;
    c->jmp_entry[h] = (JmpEntry){pc, tb->flags, cs_base, tb->code_handle};
    c->jmp_global[h] = global;
    if (!global && c->njmp_local <= JMP_CACHE_SIZE) {
        if (c->njmp_local < JMP_CACHE_SIZE) c->jmp_local[c->njmp_local] = (uint16_t)h;
        c->njmp_local++;
    }
    if (cs_base) c->jmp_nonflat = true;
}

TranslationBlock *tb_hash_lookup(TbCache *c, uint32_t phys_pc, uint32_t pc, uint32_t cs_base,
                                 uint32_t flags);
/* Enter a finished block into the hash table and its page lists. */
void tb_insert(TbCache *c, TranslationBlock *tb);
void tb_invalidate(TbCache *c, TranslationBlock *tb);
/* Invalidate every block with code bytes in [start, start + len). Returns true if one of them
 * was `current`. */
bool tb_invalidate_phys_range(TbCache *c, uint32_t start, uint32_t len,
                              const TranslationBlock *current);
bool tb_page_has_code(TbCache *c, uint32_t phys);

/* Patch exit slot `slot` of `from` to continue directly in `to`. */
void tb_chain(TbCache *c, TranslationBlock *from, int slot, TranslationBlock *to);

#endif
