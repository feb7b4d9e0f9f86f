/*
 * settle.h — stage "settle": an attempt's outcome -> retry policy -> one
 * fenced store settle. Every path that learns an outcome ends here: provider
 * callbacks (engine/callback_route.h), status polls of recovered leases
 * (engine/recovery.h) and dials the provider refused (engine/dispatch.h).
 *
 * Steps, all on the engine loop:
 *   1. the job: the caller's (rd_settle_job: a claim or a recover returned
 *      it, so Redis is not asked again) or found by attempt key, else by
 *      provider call id (rd_settle_find: a callback; any engine can settle
 *      any attempt);
 *   2. the campaign from the engine's campaign cache (engine/ccache.h);
 *   3. the pure retry policy (rd_policy_next) on the job's history plus this
 *      attempt, with the number's attempts across campaigns;
 *   4. rd_store_settle, fenced by the lease token: a duplicate, late or
 *      reordered outcome settles nothing and reports RD_ESTALE.
 *
 * Threads: loop thread only (the one that owns the store).
 */
#ifndef RD_SETTLE_H
#define RD_SETTLE_H

#include <stdint.h>

#include "engine/agent_hold.h"
#include "engine/ccache.h"
#include "proto/callback.h"
#include "proto/clock.h"
#include "proto/policy.h"
#include "store/store.h"

typedef struct rd_settle rd_settle_t;

typedef struct rd_settle_cfg {
    rd_store_t *store;       /* required, borrowed */
    rd_ccache_t *campaigns;  /* the engine's campaign cache, borrowed; NULL = own one */
    const rd_clock_t *clock; /* required, borrowed: policy time */
    /* Optional: answer-rate data for the `smart` strategy, asked only for
       campaigns whose strategy is smart, at every decision; must not block
       (NULL result or NULL hook: the policy falls back to `increasing`).
       The result is read during the call only. */
    const rd_smart_stats_t *(*smart_stats)(void *ctx, const char *campaign);
    /* Optional: the SMS fallback (engine/sms.h). Called right after a settle
       succeeded for the attempt that made the job reach its campaign's
       sms_fallback.after_attempts unanswered attempts (rd_sms_due), when the
       job is still live or finished `unreachable`. The settle is fenced, so
       across every engine this runs at most once per job. c is the cached
       campaign (valid for the cache's lifetime); to and job_id are valid
       during the call. */
    void (*sms_fallback)(void *ctx, const rd_campaign_t *c, const char *to, const char *job_id);
    /* Optional: called after each settle that applied (the attempt's
       campaign, agent and number slots are free again), so the dispatcher
       can claim at once instead of at its next idle poll. */
    void (*settled)(void *ctx);
    void *hook_ctx; /* ctx of every hook */
    /* Optional, borrowed: agents who missed are held back here (agent_hold.h). */
    rd_agent_hold_t *agent_hold;
    /* The provider of campaigns that name none: a provider callback
       (rd_settle_find) must come from the provider its campaign places with,
       else it is refused with RD_EAUTH. */
    rd_prov_t default_provider;
} rd_settle_cfg_t;

typedef struct rd_settle_stats {
    uint64_t settled, duplicates, not_found, errors;
    uint64_t lookups; /* settles that had to find their job in Redis first (rd_settle_find) */
    uint64_t held;    /* rd_settle_find calls answered from the held attempts (no lookup) */
} rd_settle_stats_t;

/*
 * Result of one settle: 0 (settled), RD_ESTALE (already settled, superseded,
 * or about another call of the job), RD_ENOTFOUND (no such attempt) or
 * another error (Redis unavailable: nothing changed, retry later).
 */
typedef void (*rd_settle_done_fn)(void *arg, int status);

/* Returns 0, or RD_EINVAL (missing store/clock). */
int rd_settle_create(const rd_settle_cfg_t *cfg, rd_settle_t **out);
/* Frees the module after rd_store_close's callback has run (every pending
   settle has then completed) and before destroying a borrowed campaign cache. */
void rd_settle_destroy(rd_settle_t *s);

/*
 * THE entry point: settles the live attempt of `job` (borrowed for the call;
 * copied only while its campaign loads) with the outcome in `st` (borrowed;
 * st->outcome, answered_by, call_id, end_ms are read). Asks Redis nothing
 * but the settle itself. `via` ("callback", "poll", "engine") names the path
 * in the log. done (may be NULL) runs exactly once, possibly before this
 * returns.
 */
void rd_settle_job(rd_settle_t *s, const rd_store_job_t *job, const rd_call_status_t *st,
                   const char *via, rd_settle_done_fn done, void *arg);

/*
 * For a caller that does not hold the job (a provider callback): the job
 * this engine holds for st->attempt_key (rd_settle_hold: no Redis lookup),
 * else looked up by st->attempt_key, else st->call_id; then rd_settle_job.
 * st->provider must be the provider the job's campaign places with, else
 * done gets RD_EAUTH and nothing changes. Same done contract. Returns 0, or
 * RD_EINVAL (no valid attempt key and no call id; done is then not called).
 */
int rd_settle_find(rd_settle_t *s, const rd_call_status_t *st, const char *via,
                   rd_settle_done_fn done, void *arg);

/*
 * The engine's own live attempts (engine/attempts.h), so that the callback
 * for an attempt this engine dialed settles without a lookup: hold a claimed
 * job (copied; bounded, the oldest is dropped when full), record its call
 * id once placed, forget it when the attempt ended without a settle here
 * (released, recovered). A settle of a held attempt forgets it by itself
 * (unless Redis failed: the provider's retry finds it again).
 */
void rd_settle_hold(rd_settle_t *s, const rd_store_job_t *job);
void rd_settle_placed(rd_settle_t *s, uint64_t token, const char *call_id, int64_t deadline_ms);
void rd_settle_forget(rd_settle_t *s, uint64_t token);
/* The held job of lease `token` in `campaign` (borrowed until the next call here), or NULL. */
const rd_store_job_t *rd_settle_held(rd_settle_t *s, const char *campaign, uint64_t token);

/* The campaign cache settle uses (the caller's, or its own). */
rd_ccache_t *rd_settle_campaigns(rd_settle_t *s);

void rd_settle_stats(const rd_settle_t *s, rd_settle_stats_t *out);

/* Durations of settles applied: the callback or poll answer handed to
   rd_settle_* until Redis applied the outcome (loop thread counts). */
const rd_hist_t *rd_settle_hist(const rd_settle_t *s);

#endif
