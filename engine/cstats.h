/*
 * cstats.h — the engine's cache of campaign stats (rd_store_stats results).
 *
 * Two readers share it: the `smart` retry strategy, which needs a
 * campaign's answer rates per hour of week at every decision but is content
 * with figures up to a minute old, and the campaign series of GET /metrics,
 * which wants figures a few seconds old. Each reader states the age it
 * accepts (wall ms); an older or missing entry is reloaded with one
 * rd_store_stats call, coalesced across readers (one load per campaign in
 * flight at a time). A failed load keeps the previous figures and is not
 * retried for RETRY_MS, so a Redis outage does not turn every settle into a
 * failing command.
 *
 * Entries are kept for the engine's lifetime (one per campaign ever asked
 * about, about 5 KiB each): campaigns are never deleted, only canceled.
 *
 * Threads: loop thread only (it rides on the store).
 */
#ifndef RD_CSTATS_H
#define RD_CSTATS_H

#include <stdint.h>

#include <uv.h>

#include "store/store.h"

typedef struct rd_cstats rd_cstats_t;

/* status 0 and st (borrowed, valid until the callback returns), or a
   negative rd_err_t and NULL (RD_ENOTFOUND: no such campaign). */
typedef void (*rd_cstats_cb)(int status, const rd_store_stats_t *st, void *arg);

/* loop gives the wall time (uv_now); store is borrowed. */
rd_cstats_t *rd_cstats_create(uv_loop_t *loop, rd_store_t *store);
/* Frees every entry. Call after the store is closed (pending loads have
   then completed with RD_ECLOSED). */
void rd_cstats_destroy(rd_cstats_t *cs);

/*
 * The cached stats of `campaign` whatever their age (NULL when none yet),
 * and, when they are older than max_age_ms or missing, starts a reload in
 * the background. Never waits. The pointer stays valid for the cache's
 * lifetime; its contents change when a reload lands.
 */
const rd_store_stats_t *rd_cstats_peek(rd_cstats_t *cs, const char *campaign, uint64_t max_age_ms);

/*
 * Stats no older than max_age_ms: cb runs at once (inside this call) when
 * the cache has them, else when the reload answers. When the reload fails,
 * cb gets the previous figures if any (status 0), else the error.
 */
void rd_cstats_get(rd_cstats_t *cs, const char *campaign, uint64_t max_age_ms, rd_cstats_cb cb,
                   void *arg);

#endif
