/*
 * ccache.c — campaign cache (see ccache.h).
 *
 * A chained hash table keyed by name, grown at load factor 1. An entry is
 * either loaded (campaign parsed) or loading (a list of waiters); a failed
 * load leaves it unloaded, so the next get tries Redis again.
 */
#include "engine/ccache.h"

#include <string.h>

#include "engine/log.h"
#include "proto/rd.h"

typedef struct waiter {
    rd_ccache_cb cb;
    void *arg;
    struct waiter *next;
} waiter_t;

typedef struct entry {
    struct rd_ccache *cc;
    char *name;
    bool loaded;
    rd_campaign_t c;
    waiter_t *waiters;
    struct entry *next;
} entry_t;

struct rd_ccache {
    rd_store_t *store;
    entry_t **buckets;
    size_t n_buckets, n_entries;
};

static uint64_t fnv1a(const char *s) {
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ULL;
    return h;
}

static entry_t *find(rd_ccache_t *cc, const char *name) {
    for (entry_t *e = cc->buckets[fnv1a(name) % cc->n_buckets]; e; e = e->next)
        if (strcmp(e->name, name) == 0) return e;
    return NULL;
}

static void grow(rd_ccache_t *cc) {
    size_t nb = cc->n_buckets * 2;
    entry_t **b = rd_calloc(nb, sizeof *b);
    for (size_t i = 0; i < cc->n_buckets; i++) {
        for (entry_t *e = cc->buckets[i], *next; e; e = next) {
            next = e->next;
            size_t k = fnv1a(e->name) % nb;
            e->next = b[k];
            b[k] = e;
        }
    }
    rd_free(cc->buckets);
    cc->buckets = b;
    cc->n_buckets = nb;
}

rd_ccache_t *rd_ccache_create(rd_store_t *store) {
    rd_ccache_t *cc = rd_calloc(1, sizeof *cc);
    cc->store = store;
    cc->n_buckets = 64;
    cc->buckets = rd_calloc(cc->n_buckets, sizeof *cc->buckets);
    return cc;
}

/* Drops an entry that failed to load: unknown names (the inbox can carry any)
 * must not accumulate. */
static void forget(rd_ccache_t *cc, entry_t *e) {
    for (entry_t **pp = &cc->buckets[fnv1a(e->name) % cc->n_buckets]; *pp; pp = &(*pp)->next) {
        if (*pp == e) {
            *pp = e->next;
            cc->n_entries--;
            rd_free(e->name);
            rd_free(e);
            return;
        }
    }
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
            rd_log(RD_LOG_ERROR, "campaign.unreadable", "campaign", e->name, "error", err, NULL);
    }
    waiter_t *w = e->waiters;
    e->waiters = NULL;
    while (w) {
        waiter_t *next = w->next;
        w->cb(status, status == 0 ? &e->c : NULL, w->arg);
        rd_free(w);
        w = next;
    }
    /* A waiter may have asked again (a new load is then in flight). */
    if (!e->loaded && !e->waiters) forget(e->cc, e);
}

size_t rd_ccache_size(const rd_ccache_t *cc) { return cc->n_entries; }

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
        if (cc->n_entries >= cc->n_buckets) grow(cc);
        e = rd_calloc(1, sizeof *e);
        e->cc = cc;
        e->name = rd_strdup(name);
        size_t k = fnv1a(name) % cc->n_buckets;
        e->next = cc->buckets[k];
        cc->buckets[k] = e;
        cc->n_entries++;
    }
    waiter_t *w = rd_malloc(sizeof *w);
    *w = (waiter_t){cb, arg, e->waiters};
    bool start = e->waiters == NULL;
    e->waiters = w;
    if (start) {
        int rc = rd_store_campaign_get(cc->store, name, on_loaded, e);
        if (rc != 0) on_loaded(cc->store, rc, NULL, e);
    }
}

void rd_ccache_destroy(rd_ccache_t *cc) {
    if (!cc) return;
    for (size_t i = 0; i < cc->n_buckets; i++) {
        for (entry_t *e = cc->buckets[i], *next; e; e = next) {
            next = e->next;
            if (e->loaded) rd_campaign_deinit(&e->c);
            rd_free(e->name);
            rd_free(e);
        }
    }
    rd_free(cc->buckets);
    rd_free(cc);
}
