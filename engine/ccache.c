/*
 * ccache.c — campaign cache (see ccache.h).
 *
 * Entries live in a name-keyed table (engine/namemap.h). An entry is either
 * loaded (campaign parsed) or loading (a FIFO of waiters); a failed load
 * drops the entry, so unknown names (the inbox can carry any) never
 * accumulate and the next get asks Redis again.
 */
#include "engine/ccache.h"

#include <string.h>

#include "common/log.h"
#include "engine/namemap.h"
#include "proto/rd.h"

typedef struct waiter {
    rd_ccache_cb cb;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct entry {
    rd_namemap_node_t node; /* first: the table's view of the entry */
    struct rd_ccache *cc;
    bool loaded;
    rd_campaign_t c;
    waiter_t *waiters, **tail;
} entry_t;

struct rd_ccache {
    rd_store_t *store;
    rd_namemap_t map;
};

rd_ccache_t *rd_ccache_create(rd_store_t *store) {
    rd_ccache_t *cc = rd_calloc(1, sizeof *cc);
    cc->store = store;
    rd_namemap_init(&cc->map);
    return cc;
}

static entry_t *find(rd_ccache_t *cc, const char *name) {
    return (entry_t *)rd_namemap_find(&cc->map, name);
}

static void on_loaded(rd_store_t *s, int status, const rd_store_campaign_t *sc, void *arg) {
    (void)s;
    entry_t *e = arg;
    if (status == 0) {
        char err[256];
        status = rd_campaign_parse(sc->json, sc->json_len, &e->c, err, sizeof err);
        if (status == 0)
            e->loaded = true;
        else
            rd_log(RD_LOG_ERROR, "campaign.unreadable", "campaign", e->node.name, "error", err,
                   NULL);
    }
    waiter_t *w = e->waiters;
    e->waiters = NULL;
    e->tail = &e->waiters;
    while (w) {
        waiter_t *next = w->next;
        w->cb(status, status == 0 ? &e->c : NULL, w->arg);
        rd_free(w);
        w = next;
    }
    /* A waiter may have asked again (a new load is then in flight). */
    if (!e->loaded && !e->waiters) {
        rd_namemap_remove(&e->cc->map, &e->node);
        rd_free(e);
    }
}

size_t rd_ccache_size(const rd_ccache_t *cc) { return cc->map.n; }

const rd_campaign_t *rd_ccache_peek(rd_ccache_t *cc, const char *name) {
    entry_t *e = find(cc, name);
    return e && e->loaded ? &e->c : NULL;
}

void rd_ccache_get(rd_ccache_t *cc, const char *name, rd_ccache_cb cb, void *arg) {
    entry_t *e = find(cc, name);
    if (e && e->loaded) {
        cb(0, &e->c, arg);
        return;
    }
    if (!e) {
        e = rd_calloc(1, sizeof *e);
        e->cc = cc;
        e->tail = &e->waiters;
        rd_namemap_insert(&cc->map, &e->node, name);
    }
    waiter_t *w = rd_malloc(sizeof *w);
    *w = (waiter_t){cb, arg, NULL};
    bool start = e->waiters == NULL;
    *e->tail = w;
    e->tail = &w->next;
    if (start) {
        int rc = rd_store_campaign_get(cc->store, name, on_loaded, e);
        if (rc != 0) on_loaded(cc->store, rc, NULL, e);
    }
}

static void free_entry(rd_namemap_node_t *node) {
    entry_t *e = (entry_t *)node;
    if (e->loaded) rd_campaign_deinit(&e->c);
    rd_free(e);
}

void rd_ccache_destroy(rd_ccache_t *cc) {
    if (!cc) return;
    rd_namemap_deinit(&cc->map, free_entry);
    rd_free(cc);
}
