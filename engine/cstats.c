/*
 * cstats.c — campaign stats cache (see cstats.h).
 *
 * Entries live in a name-keyed table (engine/namemap.h). An entry holds the last figures loaded (`have`), when they were loaded and
 * when the last load failed (wall ms, uv_now), whether a load is in flight,
 * and the readers waiting for it. A load answers every waiter in arrival
 * order; peek never waits.
 */
#include "engine/cstats.h"

#include <string.h>

#include "engine/namemap.h"
#include "proto/rd.h"

#define RETRY_MS 1000 /* wall: no new load this soon after a failed one */

typedef struct waiter {
    rd_cstats_cb cb;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct entry {
    rd_namemap_node_t node; /* first: the table's view of the entry */
    rd_cstats_t *cs;
    bool have, loading;
    uint64_t loaded_at, failed_at;
    rd_store_stats_t st;
    waiter_t *waiters, **tail;
} entry_t;

struct rd_cstats {
    uv_loop_t *loop;
    rd_store_t *store;
    rd_namemap_t map;
};

rd_cstats_t *rd_cstats_create(uv_loop_t *loop, rd_store_t *store) {
    rd_cstats_t *cs = rd_calloc(1, sizeof *cs);
    cs->loop = loop;
    cs->store = store;
    rd_namemap_init(&cs->map);
    return cs;
}

static void free_entry(rd_namemap_node_t *node) { rd_free(node); }

void rd_cstats_destroy(rd_cstats_t *cs) {
    if (!cs) return;
    rd_namemap_deinit(&cs->map, free_entry);
    rd_free(cs);
}

static entry_t *entry_of(rd_cstats_t *cs, const char *name) {
    entry_t *e = (entry_t *)rd_namemap_find(&cs->map, name);
    if (e) return e;
    e = rd_calloc(1, sizeof *e);
    e->cs = cs;
    e->tail = &e->waiters;
    rd_namemap_insert(&cs->map, &e->node, name);
    return e;
}

static bool fresh(const entry_t *e, uint64_t now, uint64_t max_age_ms) {
    return e->have && now - e->loaded_at < max_age_ms;
}

static void on_loaded(rd_store_t *s, int status, const rd_store_stats_t *st, void *arg) {
    (void)s;
    entry_t *e = arg;
    uint64_t now = uv_now(e->cs->loop);
    e->loading = false;
    if (status == 0) {
        e->st = *st;
        e->have = true;
        e->loaded_at = now;
    } else {
        e->failed_at = now ? now : 1;
    }
    waiter_t *w = e->waiters;
    e->waiters = NULL;
    e->tail = &e->waiters;
    while (w) {
        waiter_t *next = w->next;
        if (e->have)
            w->cb(0, &e->st, w->arg);
        else
            w->cb(status, NULL, w->arg);
        rd_free(w);
        w = next;
    }
}

/* Starts a load unless one is in flight or the last one failed just now.
   Returns false when no load is (or will be) in flight. */
static bool load(entry_t *e, uint64_t now) {
    if (e->loading) return true;
    if (e->failed_at && now - e->failed_at < RETRY_MS) return false;
    e->loading = true;
    e->failed_at = 0;
    int rc = rd_store_stats(e->cs->store, e->node.name, on_loaded, e);
    if (rc != 0) {
        e->loading = false;
        e->failed_at = now ? now : 1;
        return false;
    }
    return true;
}

const rd_store_stats_t *rd_cstats_peek(rd_cstats_t *cs, const char *campaign, uint64_t max_age_ms) {
    entry_t *e = entry_of(cs, campaign);
    uint64_t now = uv_now(cs->loop);
    if (!fresh(e, now, max_age_ms)) load(e, now);
    return e->have ? &e->st : NULL;
}

void rd_cstats_get(rd_cstats_t *cs, const char *campaign, uint64_t max_age_ms, rd_cstats_cb cb,
                   void *arg) {
    entry_t *e = entry_of(cs, campaign);
    uint64_t now = uv_now(cs->loop);
    if (fresh(e, now, max_age_ms) || !load(e, now)) {
        if (e->have)
            cb(0, &e->st, arg);
        else
            cb(RD_EIO, NULL, arg);
        return;
    }
    waiter_t *w = rd_malloc(sizeof *w);
    *w = (waiter_t){cb, arg, NULL};
    *e->tail = w;
    e->tail = &w->next;
}
