/*
 * callbacks.h — turning what a provider tells us into exactly one settle:
 * the `POST /callbacks/{provider}/{token}` endpoint, the status poller for
 * placed calls whose callback never came, and a direct "settle this attempt
 * with this outcome" entry for the dispatcher (a dial the provider refused
 * as invalid / DND is an attempt too).
 *
 * Every path runs the same steps on the engine loop:
 *   1. find the live attempt in Redis by attempt key (`a=` / CustomField),
 *      else by provider call id — any engine can settle any attempt;
 *   2. load the campaign through the engine's campaign cache (engine/ccache.h:
 *      a campaign's configuration never changes after creation);
 *   3. run the pure retry policy (rd_policy_next) on the job's history plus
 *      this attempt, with the number's attempts across campaigns;
 *   4. rd_store_settle, which is fenced by the lease token: a duplicate,
 *      late or reordered callback settles nothing and reports RD_ESTALE.
 * The HTTP reply is sent only after step 4 is durable (or known to be a
 * no-op); a Redis failure answers 503 so the provider retries.
 *
 * HTTP answers:
 *   200 {"result":"settled"|"duplicate"|"ignored"}  settled now / already
 *        settled or superseded / a non-terminal event (twilio ringing, ...)
 *   400 malformed body, unknown status, bad attempt key
 *   403 wrong secret token, bad or missing X-Twilio-Signature (nothing read
 *        further, nothing changed)
 *   404 unknown provider in the path, or no such attempt
 *   405 not a POST
 *   503 Redis unavailable: retry later (nothing changed, or the settle did
 *        not happen: the store's settle is atomic)
 *
 * Poller: the recovery loop hands each placed call whose lease deadline
 * passed (rd_store_recover's `poll` jobs) to rd_callbacks_poll, which GETs
 * the call through the pool's adapter and settles from it. A call still
 * live is left alone: recovery already pushed its lease out by the poll
 * lease, so it comes back later. After max_polls fruitless polls the call
 * is settled as what it looks like: in-progress -> IN_PROGRESS (connected),
 * queued/ringing -> NO_ANSWER. A provider that does not know the call id
 * (404) settles FAILED. A transient poll failure changes nothing.
 *
 * Threads: everything here runs on the engine loop thread that owns the
 * store, the httpd and the pool. Secrets are copied and never logged.
 */
#ifndef RD_CALLBACKS_H
#define RD_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/ccache.h"
#include "common/httpd.h"
#include "store/store.h"
#include "proto/callback.h"
#include "proto/clock.h"
#include "proto/policy.h"
#include "workers/pool.h"

typedef struct rd_callbacks rd_callbacks_t;

typedef struct rd_callbacks_cfg {
    rd_store_t *store;        /* required, borrowed */
    rd_ccache_t *campaigns;   /* the engine's campaign cache, borrowed; NULL = own one */
    const rd_clock_t *clock;  /* required, borrowed: policy time */
    const char *secret;       /* required: the {token} path segment (copied) */
    const char *public_url;   /* base URL the provider was given ("http://host:port"),
                                   needed for the twilio signature (copied) */
    const char *twilio_token; /* twilio auth token; NULL = twilio callbacks refused (403) */
    rd_pool_t *pool;          /* for status polls; NULL = polling disabled */
    /* Pool account index per provider for polls; -1 = none. */
    int poll_account[RD_PROV__COUNT];
    rd_prov_t default_provider; /* for campaigns without `provider` */
    int max_polls;              /* [10] */
    /* Optional: answer-rate data for the `smart` strategy, asked only for
       campaigns whose strategy is smart, at every decision; must not block
       (NULL result or NULL hook: the policy falls back to `increasing`).
       The result is read during the call only. */
    const rd_smart_stats_t *(*smart_stats)(void *ctx, const char *campaign);
    void *hook_ctx; /* ctx of every hook */
    /* Optional: the SMS fallback. Called right after a settle of this module
       succeeded for the attempt that made the job reach its campaign's
       sms_fallback.after_attempts unanswered attempts (busy, no-answer, or a
       machine counted as either), when the job is still live or finished
       `unreachable`. The settle is fenced, so across every engine this runs
       at most once per job. c is the cached campaign (valid for the
       cache's lifetime); to and job_id are valid during the call. */
    void (*sms_fallback)(void *ctx, const rd_campaign_t *c, const char *to, const char *job_id);
    /* Optional: called on the loop thread after each settle of this module
       that applied (the attempt's campaign, agent and number slots are free
       again), so the dispatcher can claim at once instead of at its next
       idle poll. */
    void (*settled)(void *ctx);
} rd_callbacks_cfg_t;

/* Defaults (poll accounts -1, max_polls 10, exotel default). */
void rd_callbacks_cfg_init(rd_callbacks_cfg_t *c);

typedef struct rd_callbacks_stats {
    uint64_t received, forged, bad, ignored, settled, duplicates, not_found, errors;
    uint64_t polls, poll_settled, poll_live, poll_transient;
} rd_callbacks_stats_t;

/* Returns 0, or RD_EINVAL (missing store/clock/secret). */
int rd_callbacks_create(const rd_callbacks_cfg_t *cfg, rd_callbacks_t **out);
/*
 * Frees the module. Call after the httpd and the pool are closed and after
 * rd_store_close's callback (by then every store callback has run, failing
 * pending operations with RD_ECLOSED), and before destroying a borrowed
 * campaign cache.
 */
void rd_callbacks_destroy(rd_callbacks_t *cb);

/*
 * The route: when req's path is /callbacks/..., takes the request (it will
 * be answered, possibly later) and returns true; otherwise returns false
 * and leaves req alone. Call it first from the httpd handler.
 */
bool rd_callbacks_route(rd_callbacks_t *cb, rd_http_req_t *req);

/*
 * The poller: polls the provider for a placed job handed over by
 * rd_store_recover and settles from the answer. `job` is borrowed (copied
 * here). Returns 0 or RD_EINVAL (no pool / no account for the provider /
 * the job has no call id).
 */
int rd_callbacks_poll(rd_callbacks_t *cb, const rd_store_job_t *job);

/*
 * Settles the attempt `attempt_key` with an outcome the engine learned
 * itself (a dial refused as invalid-number / dnd / failed): same lookup,
 * policy and fenced settle. done(arg, status) runs on the loop with 0
 * (settled), RD_ESTALE (already settled), RD_ENOTFOUND or another error.
 * done may be NULL.
 */
int rd_callbacks_settle(rd_callbacks_t *cb, const char *attempt_key, rd_outcome_t outcome,
                        rd_answered_by_t answered_by, void (*done)(void *arg, int status),
                        void *arg);

void rd_callbacks_stats(const rd_callbacks_t *cb, rd_callbacks_stats_t *out);

#endif
