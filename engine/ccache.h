/*
 * ccache.h — the engine's cache of parsed campaigns.
 *
 * A campaign's configuration never changes after creation (only its state
 * does, and the state is enforced inside Redis by the claim script), so a
 * campaign parsed once from its normalised JSON stays valid for the life of
 * the engine: entries are never invalidated. Loads of the same name are
 * coalesced: concurrent callers wait for one Redis round trip.
 *
 * Threads: loop thread only (it rides on the store).
 */
#ifndef RD_CCACHE_H
#define RD_CCACHE_H

#include "store/store.h"
#include "proto/campaign.h"

typedef struct rd_ccache rd_ccache_t;

/* status 0 and c (borrowed; valid for the cache's lifetime), or a negative rd_err_t. */
typedef void (*rd_ccache_cb)(int status, const rd_campaign_t *c, void *arg);

rd_ccache_t *rd_ccache_create(rd_store_t *store);
/* Frees every entry. Call after the store is closed (its pending loads have
 * then completed with RD_ECLOSED). */
void rd_ccache_destroy(rd_ccache_t *cc);
/* Entries held (loaded or loading): failed loads are not kept. */
size_t rd_ccache_size(const rd_ccache_t *cc);
/* The campaign if already loaded, else NULL (no I/O). */
const rd_campaign_t *rd_ccache_peek(rd_ccache_t *cc, const char *name);
/*
 * Loads (or finds) a campaign; cb runs exactly once: at once (inside this
 * call) when the campaign is cached, else when Redis answers. RD_ENOTFOUND
 * when it does not exist; RD_EPARSE/RD_EINVAL when its stored JSON no longer
 * parses (a newer engine wrote it).
 */
void rd_ccache_get(rd_ccache_t *cc, const char *name, rd_ccache_cb cb, void *arg);

#endif
