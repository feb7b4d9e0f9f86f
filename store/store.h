/*
 * store.h — the Redis core of redial: every piece of shared state (campaigns,
 * jobs, due sets, leases, limits, counters) and every atomic transition on it
 * (enqueue, claim, placed, release, settle, recover, opt-out, cancel).
 *
 * The key layout and each Lua script's KEYS/ARGV/return contract are in
 * docs/REDIS.md; this header is the C contract the dispatcher, ingest,
 * callbacks, control API and CLI code against.
 *
 * Model. A job is identified by (campaign, number): a campaign holds at most
 * one live job per number (a second enqueue for a number with a live job in
 * the campaign is a no-op, or a refusal when it carries a different id). Its
 * public id is the producer's `id`, or, when none was given, the generated
 * "<campaign>/<number>/<seq>". Every claim INCRs a lease token; the attempt
 * key sent to the provider is "<campaign>:<token>". A token is the fence:
 * placed/release/settle carrying a token that is not a live lease of the job
 * change nothing and report RD_ESTALE.
 *
 * Who checks what at claim (dial time):
 *   - Lua, atomically across engines: campaign state (paused/canceled jobs are
 *     not claimed), campaign concurrency, agent-pool capacity, campaign
 *     calls_per_minute, the provider-account token bucket, the per-number
 *     live lock (never two live calls to one number, across campaigns), DND
 *     and opt-out (such jobs are finished as `dnd` / `opted-out` right there).
 *   - The engine, holding the number's live lock: the calling window and the
 *     per-number daily / 7-day caps, with rd_policy_allowed() on the number's
 *     attempt starts that the claim returns. Because the live lock makes the
 *     claimer the only one that can add an attempt to that number, the check
 *     is race-free. A job that fails it is handed back with
 *     rd_store_release(due = rd_policy_place(...)): not an attempt.
 *   - The attempt (start = claim time) joins the number's attempt list when
 *     it is settled; until then the live lock keeps every other claim of the
 *     number out, so nothing can be counted twice or missed. A release or
 *     the recovery of a never-dialed claim leaves no attempt behind.
 *
 * Time. Every time given to the store is policy time (proto/clock.h), passed
 * to the scripts as ARGV, never Redis TIME, so `--time-scale` works. The one
 * exception is the provider-account token bucket, a limit of the real
 * provider measured in real seconds: it uses Redis TIME (one clock for all
 * engines). Lease deadlines are policy time: the engine converts wall
 * durations (HTTP timeouts) with rd_clock_policy_ms().
 *
 * Batching. enqueue, placed, release, settle and lookups issued during one loop
 * iteration are sent as one script call per kind (and at once when a batch
 * is full); each still completes through its own callback, in issue order.
 * Kinds queued in the same iteration run in the order enqueue, placed,
 * release, settle, lookup; other operations go out at once. A token settled
 * or released twice in one batch is applied once (the rest: RD_ESTALE).
 *
 * Failures. Every operation completes exactly once through its callback, with
 * 0 or a negative rd_err_t: RD_ETIMEOUT (no reply within the command timeout:
 * the connection is dropped and rebuilt), RD_ECLOSED (store closing or
 * disconnected), RD_EREDIS (Redis replied an error), RD_EPROTO (a reply of an
 * unexpected shape), plus the per-operation codes below. The store reconnects
 * by itself with capped, jittered backoff; it never crashes on a Redis restart.
 *
 * Threads and lifetime. A store belongs to one uv loop and may be used only
 * from that loop's thread. Pointers passed in requests are borrowed for the
 * duration of the call (the store copies what it sends); pointers handed to
 * callbacks are valid until the callback returns unless said otherwise.
 * Callbacks run on the loop thread, never from inside the call that issued
 * the request. A short-lived program (the CLI) uses the same API with its own
 * loop: create, issue, uv_run, rd_store_close, uv_run, uv_loop_close.
 */
#ifndef RD_STORE_H
#define RD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "proto/campaign.h"
#include "proto/hist.h"
#include "proto/job.h"
#include "proto/model.h"
#include "proto/outcome.h"
#include "proto/policy.h"
#include "proto/stats.h"

typedef struct rd_store rd_store_t;

#define RD_STORE_DEFAULT_PREFIX "{redial}"
#define RD_STORE_MAX_HIST 32                       /* attempts kept per job (max_attempts <= 20) */
#define RD_STORE_MAX_NUM_ATTEMPTS RD_NREC_KEEP_MAX /* a number's attempt starts kept */
#define RD_STORE_CALL_ID_MAX 128
#define RD_STORE_GEN_ID_MAX (RD_CAMPAIGN_NAME_MAX + RD_E164_MAX + 24)

/* ---- lifetime ------------------------------------------------------------ */

typedef struct rd_store_opts {
    const char *url;             /* redis://[:password@]host[:port][/db]; NULL = default */
    const char *password;        /* overrides the URL's; NULL = none */
    const char *prefix;          /* key prefix; NULL = RD_STORE_DEFAULT_PREFIX */
    uint32_t cmd_timeout_ms;     /* wall ms per command before the connection is
                                 declared dead [5000] */
    uint32_t connect_timeout_ms; /* [2000] */
    uint32_t reconnect_max_ms;   /* backoff cap [2000] */
    bool fail_fast;              /* a failed connect fails queued requests at once (CLI) */
    /* Liveness probe (common/redis_probe.h): a PING every probe_ms with a
       probe_deadline_ms deadline on a connection of its own drives
       rd_store_connected(); probe_ms 0 = none (connected = the traffic
       connection is up). */
    uint32_t probe_ms;          /* [250] */
    uint32_t probe_deadline_ms; /* [500] */
    int64_t events_maxlen;      /* XADD MAXLEN ~ for <prefix>:events [1000000] */
    int64_t retention_ms;       /* finished job records kept for `job show` [7 days] */
    /* Provider-account token bucket consulted by every claim (real seconds). */
    const char *bucket;  /* bucket name, e.g. "exotel:<account>"; NULL = none */
    double bucket_rate;  /* tokens per second (rd_provider_rate: the adapter's default) */
    double bucket_burst; /* capacity (>= 1) */
    /* Batched per-item calls (enqueue, placed, release, lookup, settle) wait
       up to this many wall ms for more items before going out (a full batch
       goes at once); 0 = at the end of the loop iteration that issued them [0]. */
    uint32_t batch_wait_ms;
} rd_store_opts_t;

/* Defaults for every field (url/prefix NULL = defaults). */
void rd_store_opts_init(rd_store_opts_t *o);

/*
 * Creates a store on `loop` and starts connecting (asynchronously; requests
 * issued before the connection is up are queued and sent once it is, or fail
 * with RD_ETIMEOUT after cmd_timeout_ms). Returns 0 and *out, RD_EINVAL for a
 * bad URL/prefix. opts is borrowed. Loop thread only.
 */
int rd_store_create(uv_loop_t *loop, const rd_store_opts_t *opts, rd_store_t **out);

/*
 * Fails every pending request with RD_ECLOSED, disconnects, closes the timers,
 * and frees the store; `cb` (may be NULL) runs once everything is closed (the
 * loop can then be closed). No request may be issued after this call.
 */
void rd_store_close(rd_store_t *s, void (*cb)(void *arg), void *arg);

/* The key prefix in use (borrowed, lives as long as the store). */
const char *rd_store_prefix(const rd_store_t *s);

/*
 * For the store modules that live in their own files (store/deadletter.c,
 * store/ops.c): the store's Redis link (borrowed, lives as long as the
 * store), and the handle of one of their embedded scripts (gen/rd_lua.h,
 * lib.lua prepended like every store script), registered on first use and
 * identified by its source pointer. Returns the handle (>= 0) or
 * RD_ELIMIT (more than 16 such scripts). Loop thread.
 */
struct rd_redis;
struct rd_redis *rd_store_redis(rd_store_t *s);
int rd_store_ext_script(rd_store_t *s, const char *src, size_t len);
/* True while the traffic connection is established and, with a probe,
 * the last probe PING was answered within its deadline. */
bool rd_store_connected(const rd_store_t *s);
/* Why the store's Redis link is down (rd_redis_link_error), or NULL. */
const char *rd_store_link_error(const rd_store_t *s, int *code);
/* Commands sent since creation (for "Redis commands per attempt"). */
uint64_t rd_store_commands_sent(const rd_store_t *s);

/* The provider-account bucket's name (NULL: none), rate (tokens/s) and capacity. */
const char *rd_store_bucket(const rd_store_t *s, double *rate, double *burst);

/* Redis script round trips of this store (common/redis.h); loop thread. */
const rd_hist_t *rd_store_script_hist(const rd_store_t *s);
/* Settles applied from the record and events the engine prepared
 * (rd_store_settle_t.job) rather than rebuilt by Redis. Loop thread only. */
uint64_t rd_store_settles_prepared(const rd_store_t *s);

/* Generic completion: status 0 or a negative rd_err_t. */
typedef void (*rd_store_cb)(rd_store_t *s, int status, void *arg);

/* ---- jobs as the store returns them ---------------------------------------- */

/* proto/model.h (RD_JOB_STATE_MAP): PENDING in the campaign's due set,
 * CLAIMED leased and not yet dialed, PLACED the provider accepted the call
 * (call id known), FINAL finished with a disposition. */
typedef enum {
#define RD_X_(name, v) RD_JOB_##name = v,
    RD_JOB_STATE_MAP(RD_X_)
#undef RD_X_
} rd_job_state_t;

/*
 * One job, self-contained. In callbacks it is borrowed (valid until the
 * callback returns); rd_store_job_dup() makes an owned copy for hand-off to
 * another thread, freed with rd_store_job_free().
 */
typedef struct rd_store_job {
    char campaign[RD_CAMPAIGN_NAME_MAX + 1];
    char to[RD_E164_MAX + 1];
    char id[RD_JOB_ID_MAX + 1 > RD_STORE_GEN_ID_MAX ? RD_JOB_ID_MAX + 1 : RD_STORE_GEN_ID_MAX];
    char tz[RD_TZ_NAME_MAX + 1]; /* "" = none given */
    rd_job_state_t state;
    rd_disposition_t disposition;           /* when FINAL */
    uint64_t token;                         /* current lease token, 0 when none */
    int attempt;                            /* number of the attempt the lease is for
                                         (n_hist + 1) when CLAIMED/PLACED */
    int64_t lease_start_ms;                 /* claim time = the attempt's start */
    int64_t deadline_ms;                    /* lease deadline (CLAIMED/PLACED) */
    int64_t due_ms;                         /* next due time (PENDING) */
    int64_t not_before_ms;                  /* as enqueued (0 none) */
    char call_id[RD_STORE_CALL_ID_MAX + 1]; /* PLACED: provider call id */
    int polls;                              /* recoveries of this placed lease so far */
    /* Finished attempts of this job, in order (the lease's attempt not included). */
    rd_attempt_t hist[RD_STORE_MAX_HIST];
    size_t n_hist;
    /* Attempt starts of this number over the last 8 days, all campaigns. In a
     * claim result the claim's own attempt is NOT included (it is what the
     * dial-time check asks about); in a lookup or a recovered placed call it
     * IS (it is an attempt). */
    int64_t num_attempts_ms[RD_STORE_MAX_NUM_ATTEMPTS];
    size_t n_num_attempts;
    rd_job_var_t *vars; /* owned by the job (freed with it / by the store) */
    size_t n_vars;
    /* Private to the store: the number record as this job was read with it
     * (msgpack, docs/REDIS.md) and the job's campaign id, so that a settle
     * given this job prepares its writes on the engine side (see
     * rd_store_settle_t.job). In callbacks nrec points into the reply;
     * rd_store_job_dup() copies it (the copy owns it, nrec_owned). A plain
     * struct copy must set nrec to NULL (the settle then does all in Redis). */
    const char *nrec;
    size_t nrec_len;
    bool nrec_owned;
    int64_t cid;
} rd_store_job_t;

/* Deep copy; NULL on allocation failure. Any thread. */
rd_store_job_t *rd_store_job_dup(const rd_store_job_t *j);
/* Frees a copy made by rd_store_job_dup (NULL ok). Any thread. */
void rd_store_job_free(rd_store_job_t *j);
/* Attempt keys are formatted / parsed with proto/callback.h (rd_attempt_key_*). */

/* ---- campaigns --------------------------------------------------------------- */

/* proto/model.h (RD_CAMP_STATE_MAP): ACTIVE, PAUSED, CANCELED. */
typedef enum {
#define RD_X_(name, v) RD_CAMP_##name = v,
    RD_CAMP_STATE_MAP(RD_X_)
#undef RD_X_
} rd_camp_state_t;

#define RD_PAUSE_REASON_MAX 200

typedef struct rd_store_campaign {
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    rd_camp_state_t state;
    char *json; /* normalised JSON (rd_campaign_to_json), borrowed */
    size_t json_len;
    int64_t created_ms;
    int64_t live;                               /* leases held now (claimed + placed) */
    int64_t pending;                            /* jobs in the due set */
    int64_t enqueued;                           /* jobs ever created */
    int64_t finished;                           /* jobs finished */
    char pause_reason[RD_PAUSE_REASON_MAX + 1]; /* why the engine paused it; "" = none */
} rd_store_campaign_t;

/*
 * Stores a new campaign: its normalised JSON plus the fields the scripts
 * need (state, concurrency, agent pool, calls_per_minute). RD_EEXISTS when a
 * campaign of that name exists (in any state). `c` is borrowed.
 */
int rd_store_campaign_create(rd_store_t *s, const rd_campaign_t *c, int64_t now_ms, rd_store_cb cb,
                             void *arg);

typedef void (*rd_store_campaign_cb)(rd_store_t *s, int status, const rd_store_campaign_t *c,
                                     void *arg);
/* Loads one campaign; RD_ENOTFOUND when absent. */
int rd_store_campaign_get(rd_store_t *s, const char *name, rd_store_campaign_cb cb, void *arg);

typedef void (*rd_store_names_cb)(rd_store_t *s, int status, char *const *names, size_t n,
                                  void *arg);
/* Names of every campaign, sorted. */
int rd_store_campaign_list(rd_store_t *s, rd_store_names_cb cb, void *arg);

/*
 * Pause (jobs stay due but are not claimed), resume, or cancel (terminal:
 * every pending job is finished `canceled` with a final event; live calls run
 * to their end and are then finished `canceled`). Cancel works through the
 * due set in bounded batches; the callback runs when all are done.
 * RD_ENOTFOUND when absent; RD_EINVAL to leave the canceled state.
 */
/*
 * The engine's pause: an active campaign becomes paused with `reason`
 * (shown by campaign show and the API until an operator changes the state;
 * truncated to RD_PAUSE_REASON_MAX bytes). A campaign already paused or
 * canceled is left as it is (status 0). RD_ENOTFOUND when absent.
 */
int rd_store_campaign_pause(rd_store_t *s, const char *name, const char *reason, int64_t now_ms,
                            rd_store_cb cb, void *arg);
int rd_store_campaign_set_state(rd_store_t *s, const char *name, rd_camp_state_t st, int64_t now_ms,
                                rd_store_cb cb, void *arg);

/* ---- enqueue ---------------------------------------------------------------- */

typedef struct rd_store_enqueue {
    const char *campaign; /* must exist and not be canceled */
    const char *to;       /* E.164, already validated by the caller */
    const char *id;       /* producer id, NULL or "" = generate */
    const rd_job_var_t *vars;
    size_t n_vars;
    const char *tz;        /* NULL or "" = none */
    int64_t not_before_ms; /* 0 = none */
    int64_t due_ms;        /* first due time, from rd_policy_first() */
} rd_store_enqueue_t;

/*
 * proto/model.h (RD_ENQ_RESULT_MAP):
 *   CREATED       new job, in the due set
 *   DUPLICATE     same id seen before, or a live job for the number in the
 *                 campaign and no id given: no-op
 *   FINAL_DND     number on the DND set: job recorded as final `dnd`
 *   FINAL_OPTOUT  number opted out: job recorded as final `opted-out`
 *   NO_CAMPAIGN   refused: campaign does not exist
 *   CANCELED      refused: campaign canceled
 *   CONFLICT      refused: the number has a live job in the campaign under
 *                 a different id
 */
typedef enum {
#define RD_X_(name, v) RD_ENQ_##name = v,
    RD_ENQ_RESULT_MAP(RD_X_)
#undef RD_X_
} rd_enq_result_t;

/* result is valid when status == 0; id is the job's id (generated or given). */
typedef void (*rd_store_enqueue_cb)(rd_store_t *s, int status, rd_enq_result_t result,
                                    const char *id, void *arg);
/* Atomic dedupe + checks + store + due (one script). */
int rd_store_enqueue(rd_store_t *s, const rd_store_enqueue_t *e, int64_t now_ms,
                     rd_store_enqueue_cb cb, void *arg);

/* ---- claim / placed / release ---------------------------------------------- */

typedef struct rd_store_claim_req {
    int64_t now_ms;        /* policy time */
    int max_jobs;          /* batch size, 1..1000 */
    int64_t lease_ms;      /* deadline of a claim not yet placed (policy ms) */
    int64_t lock_retry_ms; /* a due job whose number is live elsewhere is
                                pushed back by this much (policy ms) [30000] */
    const char *engine;    /* engine id recorded in the lease (logs), borrowed */
    /* The provider this engine dials through ("exotel", "twilio"; NULL or ""
       = any): campaigns pinned to another provider are not claimed. */
    const char *provider;
} rd_store_claim_req_t;

typedef struct rd_store_claim_res {
    rd_store_job_t *jobs; /* claimed, state CLAIMED; the array and jobs are
                                valid until the callback returns */
    size_t n;
    size_t finished; /* jobs finished at claim (DND / opted-out) */
    size_t deferred; /* jobs pushed back because the number was live */
    /* When to call again: policy ms of the earliest due job of a claimable
     * campaign (0: nothing due, wait for a doorbell or a timer of your own). */
    int64_t next_due_ms;
    /* Wall ms until the provider bucket has a token (0 when not limiting). */
    int64_t bucket_wait_ms;
    /* Due campaigns skipped because they are pinned to another provider. */
    size_t pinned_elsewhere;
} rd_store_claim_res_t;

typedef void (*rd_store_claim_cb)(rd_store_t *s, int status, const rd_store_claim_res_t *r,
                                  void *arg);
/*
 * Claims up to max_jobs due jobs in due order across campaigns (one script
 * call, bounded work), taking for each: a campaign slot, an agent-pool slot
 * (if the campaign has a pool), a campaign rate token, a provider-bucket
 * token, the number's live lock and a lease (token, start now, deadline now +
 * lease_ms). A saturated campaign or pool never delays another campaign's due
 * jobs.
 */
int rd_store_claim(rd_store_t *s, const rd_store_claim_req_t *req, rd_store_claim_cb cb, void *arg);

/*
 * The provider accepted the call: records the call id, indexes
 * call id -> attempt key (so a callback reaching any engine finds it; call_id "" =
 * unknown — a dial reply redial could not read: nothing is indexed), and
 * moves the lease deadline to deadline_ms (ring timeout + time limit +
 * callback grace, policy time). RD_ESTALE when the token is not current.
 */
int rd_store_placed(rd_store_t *s, const char *campaign, uint64_t token, const char *call_id,
                    int64_t deadline_ms, rd_store_cb cb, void *arg);

/*
 * The claim never reached the customer (transient provider failure, refused
 * by the dial-time window/cap check, engine shutting down): not an attempt.
 * Releases the slots and the lock (no attempt is recorded), and puts the job
 * back in the due set at due_ms. RD_ESTALE when the token is not current.
 */
int rd_store_release(rd_store_t *s, const char *campaign, uint64_t token, int64_t due_ms,
                     int64_t now_ms, rd_store_cb cb, void *arg);

/* ---- lookup / settle -------------------------------------------------------- */

typedef void (*rd_store_job_cb)(rd_store_t *s, int status, const rd_store_job_t *job, void *arg);
/*
 * The live attempt named by an attempt key "<campaign>:<token>" or by a
 * provider call id: job, its finished attempts, and the number's attempts
 * (this one included), i.e. everything rd_policy_next() needs. RD_ESTALE
 * when the attempt is already settled (or the token was superseded),
 * RD_ENOTFOUND when nothing is known.
 */
int rd_store_lookup_attempt(rd_store_t *s, const char *attempt_key, rd_store_job_cb cb, void *arg);
int rd_store_lookup_call(rd_store_t *s, const char *call_id, rd_store_job_cb cb, void *arg);

typedef struct rd_store_settle {
    const char *campaign;
    uint64_t token;
    rd_outcome_t outcome;
    rd_answered_by_t answered_by;
    const char *call_id; /* NULL = as recorded by rd_store_placed */
    int64_t ended_ms;    /* policy time the call ended */
    int64_t now_ms;
    rd_decision_t decision; /* from rd_policy_next() (why is not stored) */
    int hour_of_week;       /* local hour of week of the attempt start
                                  (0 = Sunday 00h), -1 = do not count */
    bool answered;          /* counts as answered for the smart stats */
    /* Optional (NULL = none): the job as the claim, lookup or recover that
     * yielded `token` returned it (borrowed for the call). With it the engine
     * builds the job's new number record and the `attempt` / `final` events,
     * and Redis only checks that the record, lease start, number and call id
     * are still those the job was read with (compare-and-set) before storing
     * them; when anything differs (the record changed meanwhile, an opt-out,
     * DND or cancel overrides a retry, the job is not the token's), Redis
     * does the whole settle itself as without it. Same results either way. */
    const rd_store_job_t *job;
} rd_store_settle_t;

typedef struct rd_store_settle_res {
    bool final;                   /* the job finished */
    rd_disposition_t disposition; /* when final (may differ from the decision:
                                      an opt-out or a cancel in the meantime wins) */
    int attempt;                  /* the attempt number settled */
} rd_store_settle_res_t;

typedef void (*rd_store_settle_cb)(rd_store_t *s, int status, const rd_store_settle_res_t *r,
                                   void *arg);
/*
 * Applies the outcome once: releases slots and lock, appends the attempt to
 * the job's history, counts stats, XADDs the `attempt` event, then either
 * reschedules at decision.due_ms or finishes with decision.disposition (and
 * XADDs the `final` event). Idempotent: a second or late settle (token not
 * current) is a no-op that reports RD_ESTALE and changes nothing.
 */
int rd_store_settle(rd_store_t *s, const rd_store_settle_t *st, rd_store_settle_cb cb, void *arg);

/* ---- recovery -------------------------------------------------------------- */

typedef struct rd_store_recover_res {
    size_t requeued;      /* never-dialed claims returned to due (not attempts) */
    rd_store_job_t *poll; /* placed calls whose deadline passed: the caller
                                 polls the provider (job.call_id) and settles
                                 with job.token; valid until the callback returns */
    size_t n_poll;
    size_t trimmed;           /* finished job records dropped after retention */
    int64_t next_deadline_ms; /* earliest remaining lease deadline (0 none) */
} rd_store_recover_res_t;

typedef void (*rd_store_recover_cb)(rd_store_t *s, int status, const rd_store_recover_res_t *r,
                                    void *arg);
/*
 * Processes up to `max` expired leases (deadline <= now_ms): a claim that was
 * never placed is released (tokens back, job due now, no attempt); a
 * placed call keeps its token (the provider's callback still carries it) and
 * gets a new deadline now + poll_lease_ms, and is returned for status polling
 * (job.polls counts how often). Any engine may run it; each expired lease is
 * handed to exactly one caller per deadline.
 */
int rd_store_recover(rd_store_t *s, int64_t now_ms, int max, int64_t poll_lease_ms,
                     rd_store_recover_cb cb, void *arg);

/* ---- opt-out, DND, agent pools -------------------------------------------- */

typedef void (*rd_store_count_cb)(rd_store_t *s, int status, int64_t n, void *arg);
/*
 * Blocks the number forever and finishes every pending job of it, in every
 * campaign, as `opted-out` (final events). A live call of it is finished
 * `opted-out` when it settles. n = jobs finished now.
 */
int rd_store_optout(rd_store_t *s, const char *number, int64_t now_ms, rd_store_count_cb cb,
                    void *arg);
/* Adds numbers to the DND set (batched SADD). n = numbers newly added. */
int rd_store_dnd_add(rd_store_t *s, const char *const *numbers, size_t count, rd_store_count_cb cb,
                     void *arg);
/* n = 1 when the number is on the DND set or opted out, else 0. */
int rd_store_dnd_check(rd_store_t *s, const char *number, rd_store_count_cb cb, void *arg);
/*
 * Sets an agent pool's capacity (live calls of campaigns using it). Lowering
 * it below the live count lets live calls finish and admits no new one until
 * under the limit.
 */
int rd_store_pool_set(rd_store_t *s, const char *pool, int64_t capacity, rd_store_cb cb, void *arg);

/* ---- stats and job show ------------------------------------------------------ */

typedef struct rd_store_stats {
    /* The raw counters proto/stats.h computes the seed's metrics from
     * (jobs = enqueued and accepted; attempts[n]; connected[n]; finals[d];
     * outcomes[o]). */
    rd_stats_counts_t counts;
    /* by_attempt[n][o]: attempts numbered n (1..20; index 0 unused) that ended with o */
    uint64_t by_attempt[RD_STATS_MAX_ATTEMPTS + 1][RD_OUT__COUNT];
    uint64_t pending, live;
    rd_smart_stats_t smart; /* hour-of-week answered/attempted, campaign + all campaigns */
} rd_store_stats_t;

typedef void (*rd_store_stats_cb)(rd_store_t *s, int status, const rd_store_stats_t *st, void *arg);
/* Counters of one campaign (RD_ENOTFOUND when absent). */
int rd_store_stats(rd_store_t *s, const char *campaign, rd_store_stats_cb cb, void *arg);
/* Adds a stats hash as Redis returned it (HGETALL: field, value, ...) into st; prior: it is
 * the all-campaign hash P:st (hour-of-week fields only). For store modules (store/figures.c). */
struct redisReply;
void rd_store_stats_hash(rd_store_stats_t *st, const struct redisReply *h, bool prior);

/*
 * A job by its public id (producer id or generated id), live or finished
 * within the retention: state, history, disposition. RD_ENOTFOUND otherwise.
 */
int rd_store_job_show(rd_store_t *s, const char *id, rd_store_job_cb cb, void *arg);

#endif
