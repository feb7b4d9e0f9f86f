/*
 * strmap.c — string map and arena (see strmap.h).
 *
 * The table keeps a load factor under 1/2 and stores the full 64-bit
 * FNV-1a hash per slot (0 is remapped to 1), so most probes compare one
 * integer and a collision costs one memcmp.
 */
#include "sim/strmap.h"

#include <string.h>

#include "proto/hash.h"
#include "proto/rd.h"

#define RD_ARENA_BLK 65536

struct rd_arena_blk {
    struct rd_arena_blk *next;
    size_t used, cap;
    char data[];
};

void rd_arena_init(rd_arena_t *a) { memset(a, 0, sizeof *a); }

void rd_arena_deinit(rd_arena_t *a) {
    struct rd_arena_blk *b = a->head;
    while (b) {
        struct rd_arena_blk *n = b->next;
        rd_free(b);
        b = n;
    }
    memset(a, 0, sizeof *a);
}

const char *rd_arena_strndup(rd_arena_t *a, const char *s, size_t len) {
    struct rd_arena_blk *b = a->head;
    if (!b || b->cap - b->used < len + 1) {
        size_t cap = len + 1 > RD_ARENA_BLK / 4 ? len + 1 : RD_ARENA_BLK;
        b = rd_malloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        if (cap == RD_ARENA_BLK || !a->head) {
            b->next = a->head;
            a->head = b;
        } else {
            /* A big string's own block goes behind the current one. */
            b->next = a->head->next;
            a->head->next = b;
        }
    }
    char *d = b->data + b->used;
    memcpy(d, s, len);
    d[len] = '\0';
    b->used += len + 1;
    a->used_total += len + 1;
    return d;
}

static uint64_t hash(const char *s, size_t n) {
    uint64_t h = rd_hash_bytes(RD_HASH_FNV_BASIS, s, n);
    return h ? h : 1;
}

void rd_strmap_init(rd_strmap_t *m) {
    memset(m, 0, sizeof *m);
    rd_arena_init(&m->keys);
}

void rd_strmap_deinit(rd_strmap_t *m) {
    rd_free(m->slots);
    rd_arena_deinit(&m->keys);
    memset(m, 0, sizeof *m);
}

static rd_strmap_slot_t *find(const rd_strmap_t *m, uint64_t h, const char *key, size_t klen) {
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        rd_strmap_slot_t *s = &m->slots[i];
        if (s->hash == 0) return s;
        if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0) return s;
    }
}

bool rd_strmap_get(const rd_strmap_t *m, const char *key, size_t klen, uint32_t *val) {
    if (m->n == 0) return false;
    rd_strmap_slot_t *s = find(m, hash(key, klen), key, klen);
    if (s->hash == 0) return false;
    *val = s->val;
    return true;
}

static void grow(rd_strmap_t *m) {
    size_t ncap = m->cap ? m->cap * 2 : 64;
    rd_strmap_slot_t *old = m->slots;
    size_t ocap = m->cap;
    m->slots = rd_calloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].hash) continue;
        *find(m, old[i].hash, old[i].key, old[i].klen) = old[i];
    }
    rd_free(old);
}

bool rd_strmap_put(rd_strmap_t *m, const char *key, size_t klen, uint32_t val, uint32_t *slot_val,
                   const char **stored_key) {
    if ((m->n + 1) * 2 > m->cap) grow(m);
    uint64_t h = hash(key, klen);
    rd_strmap_slot_t *s = find(m, h, key, klen);
    bool inserted = false;
    if (s->hash == 0) {
        s->hash = h;
        s->key = rd_arena_strndup(&m->keys, key, klen);
        s->klen = (uint32_t)klen;
        s->val = val;
        m->n++;
        inserted = true;
    }
    if (slot_val) *slot_val = s->val;
    if (stored_key) *stored_key = s->key;
    return inserted;
}
