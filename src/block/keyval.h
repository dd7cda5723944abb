/* QEMU-style option strings ("type,key=value,flag,key=a,,b"): parsing into key/value pairs with
 * ",," as an escaped comma, and lookups that remember which keys were consumed. */
#ifndef BLOCK_KEYVAL_H
#define BLOCK_KEYVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct KvPair {
    char *key, *value;
    bool used;
} KvPair;

typedef struct KvList {
    KvPair *v;
    int n;
} KvList;

/* Parse s. If implied_key is not NULL, a first element without '=' is its value (the "socket"
 * of "-netdev socket,..."); any other element without '=' is a flag meaning key=on. Later
 * duplicates override earlier ones. Returns false with a one-line message in err. */
bool kv_parse(KvList *l, const char *s, const char *implied_key, char *err, size_t errlen);
void kv_free(KvList *l);

/* The value of key (marking it used), or NULL. */
const char *kv_get(KvList *l, const char *key);
/* on/off/yes/no/true/false; *out is left alone when the key is absent. */
bool kv_get_bool(KvList *l, const char *key, bool *out, char *err, size_t errlen);
/* Unsigned integer, decimal or 0x hex; *out is left alone when the key is absent. */
bool kv_get_u64(KvList *l, const char *key, uint64_t *out, char *err, size_t errlen);
/* The first key no lookup asked for (to report "unknown option"), or NULL. */
const char *kv_unused(const KvList *l);

#endif
