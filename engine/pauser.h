/*
 * pauser.h — the engine's answer to a provider that refuses our account or
 * configuration (issue 9): the campaign is paused with the provider's reason
 * instead of burning its customers' attempts.
 *
 * Fed with every dial result of a campaign (rd_pauser_note):
 *   ACCOUNT   (caller id, flow URL, geo permissions, credentials, unknown
 *             account — workers/provider.h) pauses the campaign at once with
 *             res.reason ("provider rejected caller_id: 21212 ...");
 *   REJECTED  (a 4xx no table classifies) counts a run per campaign; the
 *             `rejected_run`-th in a row pauses it ("provider rejected N
 *             dials in a row: <last reason>");
 *   PLACED, PLACED_UNKNOWN, REFUSED (the provider took or judged the call)
 *             end the run.
 * The pause itself is rd_store_campaign_pause: atomic in Redis, it only
 * changes an active campaign (an operator's pause or cancel is kept) and
 * keeps the reason until an operator changes the state, so every engine and
 * `campaign show`, the API and /metrics see it. The dial results are never
 * attempts: the caller releases each claim for later (not charged).
 *
 * Threads: loop thread only (it rides on the store).
 */
#ifndef RD_PAUSER_H
#define RD_PAUSER_H

#include "engine/metrics.h"
#include "store/store.h"
#include "workers/provider.h"

typedef struct rd_pauser rd_pauser_t;

#define RD_PAUSER_REJECTED_RUN 5 /* default run of unclassified 4xx that pauses */

/* store borrowed (must outlive the pauser); ctr may be NULL. rejected_run >= 1. */
rd_pauser_t *rd_pauser_create(rd_store_t *store, rd_counters_t *ctr, int rejected_run);
/* Frees it; pause requests still in flight complete harmlessly (the store
   must be closed first, which completes them). */
void rd_pauser_destroy(rd_pauser_t *p);
/* One dial result of `campaign` (reason: res.reason). now_ms: policy time. */
void rd_pauser_note(rd_pauser_t *p, const char *campaign, rd_res_kind_t kind, const char *reason,
                    int64_t now_ms);
/* Consecutive REJECTED results of the campaign now (for tests and logs). */
int rd_pauser_run(const rd_pauser_t *p, const char *campaign);

#endif
