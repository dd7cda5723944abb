/* QEMU-style option strings (QEMU's QemuOpts syntax: comma-separated key=value, ",," escapes a
 * comma, bare flags mean on). */
#include "block/keyval.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

static void kv_set(KvList *l, char *key, char *value)
{
    for (int i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].key, key)) {
            free(l->v[i].value);
            free(key);
            l->v[i].value = value;
            return;
        }
    }
    l->v = xrealloc(l->v, sizeof(KvPair) * (l->n + 1));
    l->v[l->n++] = (KvPair){key, value, false};
}

bool kv_parse(KvList *l, const char *s, const char *implied_key, char *err, size_t errlen)
{
    l->v = NULL;
    l->n = 0;
    size_t len = strlen(s);
    char *buf = xmalloc(len + 1);
    const char *p = s;
    bool first = true;
    while (*p || first) {
        /* One element: copy up to an unescaped comma, turning ",," into ",". */
        size_t n = 0;
        const char *eq = NULL;
        size_t eq_pos = 0;
        while (*p) {
            if (*p == ',') {
                if (p[1] != ',') break;
                p++;
            } else if (*p == '=' && !eq) {
                eq = p;
                eq_pos = n;
            }
            buf[n++] = *p++;
        }
        buf[n] = '\0';
        if (*p == ',') p++;
        if (n == 0) {
            if (!first || *p) {
                snprintf(err, errlen, "empty element in option string '%s'", s);
                goto fail;
            }
            break;
        }
        if (eq) {
            buf[eq_pos] = '\0';
            if (!buf[0]) {
                snprintf(err, errlen, "missing option name before '=' in '%s'", s);
                goto fail;
            }
            kv_set(l, xstrdup(buf), xstrdup(buf + eq_pos + 1));
        } else if (first && implied_key) {
            kv_set(l, xstrdup(implied_key), xstrdup(buf));
        } else {
            kv_set(l, xstrdup(buf), xstrdup("on"));
        }
        first = false;
    }
    free(buf);
    return true;
fail:
    free(buf);
    kv_free(l);
    return false;
}

void kv_free(KvList *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->v[i].key);
        free(l->v[i].value);
    }
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

const char *kv_get(KvList *l, const char *key)
{
    for (int i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].key, key)) {
            l->v[i].used = true;
            return l->v[i].value;
        }
    }
    return NULL;
}

bool kv_get_bool(KvList *l, const char *key, bool *out, char *err, size_t errlen)
{
    const char *v = kv_get(l, key);
    if (!v) return true;
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
    } else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
    } else {
        snprintf(err, errlen, "option '%s' expects on or off, not '%s'", key, v);
        return false;
    }
    return true;
}

bool kv_get_u64(KvList *l, const char *key, uint64_t *out, char *err, size_t errlen)
{
    const char *v = kv_get(l, key);
    if (!v) return true;
    char *end;
    errno = 0;
    unsigned long long x = strtoull(v, &end, 0);
    if (!*v || *end || errno || *v == '-') {
        snprintf(err, errlen, "option '%s' expects a number, not '%s'", key, v);
        return false;
    }
    *out = x;
    return true;
}

const char *kv_unused(const KvList *l)
{
    for (int i = 0; i < l->n; i++)
        if (!l->v[i].used) return l->v[i].key;
    return NULL;
}
