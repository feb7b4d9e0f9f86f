/*
 * strmap.h — string -> uint32 map for the simulator's bookkeeping (numbers,
 * campaigns, attempt keys, agent pools), plus the append-only string arena
 * that holds its keys.
 *
 * Open addressing with linear probing over (hash, key, value) slots; keys
 * are copied into the arena, whose blocks never move, so a key pointer
 * returned by the map stays valid for the map's life. Nothing is ever
 * removed: the referee keeps the whole history of a run.
 *
 * Thread safety: none; one owner thread.
 */
#ifndef RD_STRMAP_H
#define RD_STRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Append-only arena of bytes in 64 KiB blocks (bigger strings get their own block). */
typedef struct rd_arena {
    struct rd_arena_blk *head;
    size_t used_total;
} rd_arena_t;

void rd_arena_init(rd_arena_t *a);
void rd_arena_deinit(rd_arena_t *a);
/* Copies s[0..len) plus a NUL; the copy lives until rd_arena_deinit. */
const char *rd_arena_strndup(rd_arena_t *a, const char *s, size_t len);

typedef struct rd_strmap_slot {
    uint64_t hash; /* 0 = empty */
    const char *key;
    uint32_t klen;
    uint32_t val;
} rd_strmap_slot_t;

typedef struct rd_strmap {
    rd_strmap_slot_t *slots;
    size_t cap, n;
    rd_arena_t keys;
} rd_strmap_t;

void rd_strmap_init(rd_strmap_t *m);
void rd_strmap_deinit(rd_strmap_t *m);
/* Value for key, or false when absent. */
bool rd_strmap_get(const rd_strmap_t *m, const char *key, size_t klen, uint32_t *val);
/*
 * Finds key or inserts it with value `val`. Returns true when inserted.
 * *slot_val (may be NULL) receives the stored value either way; *stored_key
 * (may be NULL) the arena copy of the key.
 */
bool rd_strmap_put(rd_strmap_t *m, const char *key, size_t klen, uint32_t val, uint32_t *slot_val,
                   const char **stored_key);

#endif
