/*
 * dispatch.c — claim timer -> dial-time check -> pool -> dial results
 * (contract in dispatch.h).
 *
 * Design:
 * - A dialed job is held by settle (rd_settle_hold: a recycled copy, the
 *   claim's number attempts plus this one, as a lookup would return them)
 *   from the dial until its settle: a refused dial, and the callback of a
 *   placed one, settle with it, so Redis is asked only for the settle. The
 *   dial itself carries only the server (work user) and the token (tag).
 * - A job whose campaign is not cached yet is parked (copied) while the
 *   campaign loads, then dispatched with that copy.
 * - Every store call is counted in srv->ops (server_int.h).
 */
#include "engine/dispatch.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "engine/server_int.h"
#include "proto/cbauth.h"
#include "proto/rd.h"

#define IDLE_POLL_MS 100 /* wall: longest sleep of an idle dispatcher */
#define CLAIM_LEASE_WALL_MS 60000
#define LOCK_RETRY_WALL_MS 2000
#define ERROR_BACKOFF_MS 250   /* wall, after a failed claim */
#define CLOCK_HOLD_MS 1000     /* wall: next look while the clock is not trusted */
#define SMART_MAX_AGE_MS 60000 /* wall: answer rates for `smart` refreshed at most this often */

const rd_smart_stats_t *rd_dispatch_smart_stats(void *ctx, const char *campaign) {
    rd_server_t *srv = ctx;
    const rd_store_stats_t *st = rd_cstats_peek(srv->cstats, campaign, SMART_MAX_AGE_MS);
    return st ? &st->smart : NULL;
}

/* ---- release / dial results ---------------------------------------------------- */

static void on_store_done(rd_store_t *s, int status, void *arg) {
    (void)s;
    rd_server_t *srv = arg;
    srv->ops--;
    if (status != 0 && status != RD_ESTALE) rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
    rd_server__maybe_stopped(srv);
}

static void release_claim(rd_server_t *srv, const char *campaign, uint64_t token, int64_t due) {
    int64_t now = rd_clock_now(&srv->clock);
    srv->ops++;
    int rc = rd_store_release(srv->store, campaign, token, due < now ? now : due, now,
                              on_store_done, srv);
    if (rc != 0) on_store_done(srv->store, rc, srv);
}

static void on_refused_settled(void *arg, int status) {
    rd_server_t *srv = arg;
    srv->ops--;
    if (status != 0 && status != RD_ESTALE)
        rd_log(RD_LOG_WARN, "settle.failed", "error", rd_strerror(status), NULL);
    rd_server__maybe_stopped(srv);
}

static void dial_placed(rd_server_t *srv, const rd_work_t *w, uint64_t token) {
    const rd_campaign_t *c = rd_ccache_peek(srv->campaigns, w->campaign);
    int64_t now = rd_clock_now(&srv->clock);
    rd_count(srv->ctr, RD_M_DIAL_PLACED, 1);
    /* The call itself lasts at most ring + limit (policy seconds: the
       provider plays the call on the policy clock); the grace models
       network and provider delay, so it is wall time. */
    int64_t call_s = c ? (int64_t)c->ring_timeout_seconds + c->time_limit_seconds : 3600;
    int64_t grace_s = c ? c->callback_grace_seconds : 60;
    int64_t deadline = now + call_s * 1000 + rd_clock_policy_ms(&srv->clock, grace_s * 1000);
    rd_settle_placed(srv->settle, token, w->res.call.call_id, deadline);
    /* Through the journal: a Redis outage must not lose what we now know
       (the call exists), or the lease would expire as "never placed" and
       the number be dialed again (docs/reliability.md). */
    int rc = rd_journal_placed(srv->journal, w->campaign, token, w->res.call.call_id, deadline);
    if (rc != 0) rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
    if (rd_log_enabled(RD_LOG_DEBUG)) {
        char tok[24];
        snprintf(tok, sizeof tok, "%llu", (unsigned long long)token);
        rd_log(RD_LOG_DEBUG, "dial.placed", "campaign", w->campaign, "token", tok, "sid",
               w->res.call.call_id, NULL);
    }
}

/* A refusal with a final outcome is an attempt: settle it with the claimed job. */
static void dial_refused(rd_server_t *srv, const rd_work_t *w, uint64_t token) {
    const rd_store_job_t *job = rd_settle_held(srv->settle, w->campaign, token);
    rd_count(srv->ctr, RD_M_DIAL_REFUSED, 1);
    rd_log(RD_LOG_INFO, "dial.refused", "campaign", w->campaign, "to", w->dial.to, "outcome",
           rd_outcome_name(w->res.outcome), "reason", w->res.reason, NULL);
    rd_call_status_t st;
    memset(&st, 0, sizeof st);
    memcpy(st.attempt_key, w->dial.attempt_key, sizeof st.attempt_key);
    st.outcome = w->res.outcome;
    st.terminal = true;
    st.answered_by = RD_ANSWERED_UNKNOWN;
    srv->ops++;
    if (job)
        rd_settle_job(srv->settle, job, &st, "engine", on_refused_settled, srv);
    else if (rd_settle_find(srv->settle, &st, "engine", on_refused_settled, srv) != 0)
        on_refused_settled(srv, RD_EINVAL);
}

/* Wall ms an account-refused dial's job waits before it may be claimed
   again (the campaign is being paused; if an operator resumes it without
   fixing the cause, the next dial pauses it again). */
#define ACCOUNT_RETRY_WALL_MS 5000

static void on_dial_done(rd_work_t *w, void *user) {
    rd_server_t *srv = user;
    srv->inflight--;
    uint64_t token = w->tag;
    int64_t now = rd_clock_now(&srv->clock);
    rd_pauser_note(srv->pauser, w->campaign, w->res.kind, w->res.reason, now);
    switch (w->res.kind) {
    case RD_RES_PLACED:
        dial_placed(srv, w, token);
        break;
    case RD_RES_PLACED_UNKNOWN:
        /* The provider may have placed the call: never dial again now. The
           callback carries the attempt key; without one, the deadline
           settles it `failed` (the poll has no call id to ask about). */
        rd_count(srv->ctr, RD_M_DIAL_PLACED_UNKNOWN, 1);
        rd_log(RD_LOG_WARN, "dial.placed_unknown", "campaign", w->campaign, "to", w->dial.to,
               "reason", w->res.reason, NULL);
        w->res.call.call_id[0] = '\0';
        dial_placed(srv, w, token);
        break;
    case RD_RES_REFUSED:
        dial_refused(srv, w, token);
        break;
    case RD_RES_ACCOUNT:
    case RD_RES_REJECTED: {
        /* About us, not the callee: never an attempt. The job goes back
           to the due set; ACCOUNT pauses the campaign (pauser.h). */
        bool acct = w->res.kind == RD_RES_ACCOUNT;
        rd_count(srv->ctr, acct ? RD_M_DIAL_ACCOUNT : RD_M_DIAL_REJECTED, 1);
        rd_log(RD_LOG_WARN, acct ? "dial.account_refused" : "dial.rejected", "campaign",
               w->campaign, "to", w->dial.to, "reason", w->res.reason, NULL);
        int64_t wall = acct ? ACCOUNT_RETRY_WALL_MS : w->res.retry_after_ms;
        rd_settle_forget(srv->settle, token);
        release_claim(srv, w->campaign, token,
                      now + (srv->stopping ? 0 : rd_clock_policy_ms(&srv->clock, wall)));
        break;
    }
    default: { /* transient, canceled, or an unexpected kind: not an attempt */
        rd_count(srv->ctr, RD_M_DIAL_TRANSIENT, 1);
        int64_t delay = srv->stopping ? 0 : rd_clock_policy_ms(&srv->clock, w->res.retry_after_ms);
        rd_log(RD_LOG_INFO, "dial.transient", "campaign", w->campaign, "to", w->dial.to, "reason",
               w->res.reason, NULL);
        rd_settle_forget(srv->settle, token);
        release_claim(srv, w->campaign, token, now + delay);
        break;
    }
    }
    rd_pool_work_put(srv->pool, w);
    if (!srv->stopping) rd_dispatch_kick(srv, 0);
    rd_server__maybe_stopped(srv);
}

void rd_dispatch_on_result(rd_work_t *w, void *srv) {
    rd_log(RD_LOG_WARN, "pool.stray_result", "campaign", w->campaign, NULL);
    rd_pool_work_put(((rd_server_t *)srv)->pool, w);
}

/* ---- dispatch ------------------------------------------------------------------- */

/* The URL carries the attempt's MAC (proto/cbauth.h): the path secret alone settles nothing. */
static int status_callback_url(rd_server_t *srv, char *buf, size_t len, const char *key) {
    char mac[RD_CBAUTH_LEN + 1];
    const char *secret = srv->cfg->callback_secret;
    int rc = rd_cbauth_sign(secret, strlen(secret), srv->provider, key, strlen(key), mac);
    if (rc != 0) return rc;
    return rd_fmt(buf, len, "%s/callbacks/%s/%s?a=%s&h=%s", srv->public_url,
                  rd_prov_name(srv->provider), secret, key, mac);
}

/* The dial request for job j of campaign c. */
static void dial_fill(rd_server_t *srv, const rd_campaign_t *c, const rd_store_job_t *j,
                      rd_dial_t *d) {
    d->mode = c->mode;
    snprintf(d->to, sizeof d->to, "%s", j->to);
    snprintf(d->caller_id, sizeof d->caller_id, "%s", c->caller_id);
    snprintf(d->flow, sizeof d->flow, "%s", c->call_flow_id ? c->call_flow_id : "");
    d->agent[0] = '\0';
    if (c->mode == RD_MODE_AGENT)
        snprintf(d->agent, sizeof d->agent, "%s", rd_agent_hold_agent(c, j));
    if (rd_attempt_key_format(d->attempt_key, sizeof d->attempt_key, j->campaign, j->token) != 0 ||
        status_callback_url(srv, d->status_callback, sizeof d->status_callback, d->attempt_key) !=
            0) {
        /* Checked at start-up (public URL and secret lengths): cannot happen. */
        rd_assert(!"status callback URL too long");
    }
    d->ring_timeout_s = c->ring_timeout_seconds;
    d->time_limit_s = c->time_limit_seconds;
    d->machine_detection = c->machine_detection;
}

/* Dials claimed job j (borrowed; `owned` = an owned copy of it, or NULL). */
static void dispatch(rd_server_t *srv, const rd_campaign_t *c, const rd_store_job_t *j,
                     rd_store_job_t *owned) {
    int64_t now = rd_clock_now(&srv->clock);
    rd_policy_ctx_t ctx = {
        .c = c,
        .tz = rd_policy_zone(c, j->tz, j->to),
        .num_attempts_ms = j->num_attempts_ms,
        .n_num_attempts = j->n_num_attempts,
        .jitter_seed = rd_policy_seed(j->campaign, j->to, j->attempt),
    };
    /* Also loads a smart campaign's figures before its first retry decision. */
    if (!ctx.tz) {
        /* The callee's zone is unreadable for now (descriptors, memory): its
           window cannot be checked, so no call; back shortly, not an attempt. */
        rd_count(srv->ctr, RD_M_DIAL_DEFERRED_ZONE, 1);
        rd_log(RD_LOG_WARN, "dial.deferred", "campaign", j->campaign, "job", j->id, "why",
               "time zone unreadable now (resource)", NULL);
        release_claim(srv, j->campaign, j->token, now + rd_clock_policy_ms(&srv->clock, 5000));
        rd_store_job_free(owned);
        return;
    }
    if (c->strategy == RD_STRAT_SMART) ctx.smart = rd_dispatch_smart_stats(srv, j->campaign);
    int64_t due;
    rd_policy_why_t why = rd_policy_check(&ctx, now, &due);
    if (why != RD_POLICY_OK) {
        bool cap = why == RD_POLICY_CAP;
        rd_count(srv->ctr, cap ? RD_M_DIAL_DEFERRED_CAP : RD_M_DIAL_DEFERRED_WINDOW, 1);
        rd_log(RD_LOG_INFO, "dial.deferred", "campaign", j->campaign, "job", j->id, "why",
               cap ? "a per-number cap is used up at dial time"
                   : "outside the calling window "
                     "at dial time",
               NULL);
        release_claim(srv, j->campaign, j->token, due);
        rd_store_job_free(owned);
        return;
    }
    int64_t held = c->mode == RD_MODE_AGENT
                       ? rd_agent_hold_until(srv->agent_hold, rd_agent_hold_agent(c, j), now)
                       : 0;
    if (held) {
        /* The agent missed a call moments ago: not an attempt, later. */
        rd_log(RD_LOG_INFO, "dial.agent_held", "campaign", j->campaign, "job", j->id, "agent",
               rd_agent_hold_agent(c, j), NULL);
        release_claim(srv, j->campaign, j->token, held);
        rd_store_job_free(owned);
        return;
    }
    rd_work_t *w = rd_pool_work_get(srv->pool);
    w->kind = RD_WORK_DIAL;
    w->account = 0;
    snprintf(w->campaign, sizeof w->campaign, "%s", j->campaign);
    w->tag = j->token;
    dial_fill(srv, c, j, &w->dial);
    rd_settle_hold(srv->settle, j);
    w->done = on_dial_done;
    w->user = srv;
    if (rd_pool_submit(srv->pool, w) != 0) {
        rd_pool_work_put(srv->pool, w);
        rd_settle_forget(srv->settle, j->token);
        release_claim(srv, j->campaign, j->token, now);
        rd_store_job_free(owned);
        return;
    }
    rd_store_job_free(owned);
    srv->inflight++;
}

typedef struct parked {
    rd_server_t *srv;
    rd_store_job_t *job;
} parked_t;

static void on_campaign_for_dispatch(int status, const rd_campaign_t *c, void *arg) {
    parked_t *p = arg;
    rd_server_t *srv = p->srv;
    srv->ops--;
    if (status == 0 && !srv->stopping) {
        dispatch(srv, c, p->job, p->job);
    } else {
        if (status != 0)
            rd_log(RD_LOG_ERROR, "campaign.load_failed", "campaign", p->job->campaign, "error",
                   rd_strerror(status), NULL);
        release_claim(srv, p->job->campaign, p->job->token,
                      rd_clock_now(&srv->clock) + rd_clock_policy_ms(&srv->clock, 5000));
        rd_store_job_free(p->job);
    }
    rd_free(p);
    rd_server__maybe_stopped(srv);
}

/* Dispatches claimed job j now, or once its campaign is loaded. */
static void dispatch_or_park(rd_server_t *srv, const rd_store_job_t *j) {
    const rd_campaign_t *c = rd_ccache_peek(srv->campaigns, j->campaign);
    if (c && !srv->stopping) {
        dispatch(srv, c, j, NULL);
        return;
    }
    parked_t *p = rd_malloc(sizeof *p);
    p->srv = srv;
    p->job = rd_store_job_dup(j);
    if (!p->job) {
        rd_free(p);
        release_claim(srv, j->campaign, j->token, rd_clock_now(&srv->clock));
        return;
    }
    srv->ops++;
    rd_ccache_get(srv->campaigns, j->campaign, on_campaign_for_dispatch, p);
}

/* When to claim next after a claim that returned r. */
static uint64_t next_claim_delay(const rd_server_t *srv, const rd_store_claim_res_t *r) {
    uint64_t delay = IDLE_POLL_MS;
    if (r->n > 0 && srv->inflight < srv->max_inflight &&
        r->n + r->finished + r->deferred >= (size_t)srv->cfg->batch) {
        delay = 0;
    } else if (r->next_due_ms) {
        uint64_t d = rd_clock_wall_delay(&srv->clock, r->next_due_ms);
        if (d < delay) delay = d;
    }
    if (r->bucket_wait_ms > 0 && (uint64_t)r->bucket_wait_ms > delay)
        delay = (uint64_t)r->bucket_wait_ms;
    return delay;
}

/* Due campaigns pinned to a provider this engine does not serve: not
   claimed (claim.lua leaves them to their engines). Counted, and said at
   error level at most once a minute: their jobs wait for an engine of
   that provider. */
static void pinned_elsewhere(rd_server_t *srv, size_t n) {
    rd_count(srv->ctr, RD_M_PINNED_ELSEWHERE, n);
    int64_t now = (int64_t)uv_now(srv->loop);
    if (srv->pinned_logged_ms && now - srv->pinned_logged_ms < 60000) return;
    srv->pinned_logged_ms = now;
    char b[24];
    snprintf(b, sizeof b, "%zu", n);
    rd_log(RD_LOG_ERROR, "claim.pinned_elsewhere", "engine", srv->engine_id, "provider",
           rd_prov_name(srv->provider), "campaigns", b, "error",
           "due campaigns are pinned to another provider: their jobs wait for an engine of "
           "that provider",
           NULL);
}

static void on_claimed(rd_store_t *s, int status, const rd_store_claim_res_t *r, void *arg) {
    (void)s;
    rd_server_t *srv = arg;
    srv->claim_busy = false;
    srv->ops--;
    if (status != 0) {
        rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
        if (status != RD_ECLOSED)
            rd_log(RD_LOG_WARN, "claim.failed", "error", rd_strerror(status), NULL);
        if (!srv->stopping) rd_dispatch_kick(srv, ERROR_BACKOFF_MS);
        rd_server__maybe_stopped(srv);
        return;
    }
    rd_count(srv->ctr, RD_M_CLAIMED, r->n);
    if (r->pinned_elsewhere) pinned_elsewhere(srv, r->pinned_elsewhere);
    for (size_t i = 0; i < r->n; i++) dispatch_or_park(srv, &r->jobs[i]);
    if (!srv->stopping) rd_dispatch_kick(srv, next_claim_delay(srv, r));
    rd_server__maybe_stopped(srv);
}

static void on_claim_timer(uv_timer_t *t) {
    rd_server_t *srv = t->data;
    if (srv->claim_busy || srv->stopping) return;
    int room = srv->max_inflight - srv->inflight;
    if (room <= 0) return; /* a dial result kicks us */
    /* Claim nothing this engine could not dial now: not while its clock is
       not the deployment's, not while the account's breaker is open (or a
       429 paused it) — the jobs stay due for the other engines and for
       later, instead of being claimed and released. Half-open: one job,
       the probe. */
    if (!rd_server__clock_ok(srv)) {
        rd_count(srv->ctr, RD_M_CLAIMS_HELD, 1);
        rd_dispatch_kick(srv, CLOCK_HOLD_MS);
        return;
    }
    bool half_open = false;
    int64_t wait = rd_pool_account_wait(srv->pool, 0, &half_open);
    if (wait > 0) {
        rd_count(srv->ctr, RD_M_CLAIMS_HELD, 1);
        rd_dispatch_kick(srv, (uint64_t)wait);
        return;
    }
    rd_store_claim_req_t req = {
        .now_ms = rd_clock_now(&srv->clock),
        .max_jobs = half_open ? 1 : RD_MIN(room, srv->cfg->batch),
        .lease_ms = rd_clock_policy_ms(&srv->clock, CLAIM_LEASE_WALL_MS),
        .lock_retry_ms = rd_clock_policy_ms(&srv->clock, LOCK_RETRY_WALL_MS),
        .engine = srv->engine_id,
        .provider = rd_prov_name(srv->provider),
    };
    srv->claim_busy = true;
    srv->ops++;
    int rc = rd_store_claim(srv->store, &req, on_claimed, srv);
    if (rc != 0) on_claimed(srv->store, rc, NULL, srv);
}

void rd_dispatch_kick(rd_server_t *srv, uint64_t wall_delay_ms) {
    if (srv->stopping || srv->claim_busy) return;
    if (uv_is_active((uv_handle_t *)&srv->claim_timer) &&
        uv_timer_get_due_in(&srv->claim_timer) <= wall_delay_ms)
        return;
    uv_timer_start(&srv->claim_timer, on_claim_timer, wall_delay_ms, 0);
}

void rd_dispatch_start(rd_server_t *srv) {
    uv_timer_init(srv->loop, &srv->claim_timer);
    srv->claim_timer.data = srv;
    uv_timer_start(&srv->claim_timer, on_claim_timer, 0, 0);
}

/* Doorbell: a settle freed the attempt's campaign / agent / number slots.
 * Without it a dispatcher whose campaigns were all at their concurrency
 * would reuse the slot only at its next idle poll (IDLE_POLL_MS). */
void rd_dispatch_on_settled(void *ctx) {
    rd_server_t *srv = ctx;
    if (!srv->stopping) rd_dispatch_kick(srv, 0);
}

/* Doorbell: a job created by this engine's ingest that is due soon. */
void rd_dispatch_on_ingested(void *ctx, const char *campaign, int64_t due_ms) {
    (void)campaign;
    rd_server_t *srv = ctx;
    rd_count(srv->ctr, RD_M_INGESTED, 1);
    rd_dispatch_kick(srv, rd_clock_wall_delay(&srv->clock, due_ms));
}
