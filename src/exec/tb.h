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

    /* Back-end output. */
    const void *code;
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

#define JMP_CACHE_BITS 12
#define JMP_CACHE_SIZE (1u << JMP_CACHE_BITS)

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
    uint64_t ntranslated, nflushes, ninvalidated;
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

static inline unsigned tb_jmp_cache_hash(uint32_t pc)
{
    return (pc ^ (pc >> JMP_CACHE_BITS)) & (JMP_CACHE_SIZE - 1);
}
void tb_jmp_cache_clear(TbCache *c);

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
