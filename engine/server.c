/*
 * server.c — redial-server's loop thread: wiring and the dispatcher.
 *
 * Dispatcher. One claim script call at a time per engine, for at most
 * min(batch, free dial slots) jobs. After a claim:
 *   - a full batch means more may be due: claim again at once;
 *   - otherwise sleep until the earliest due job the store reported
 *     (next_due_ms, converted to wall time by the clock) or the provider
 *     bucket's wait, capped at IDLE_POLL_MS so jobs enqueued through another
 *     engine are seen promptly; a dial result that frees a slot wakes the
 *     dispatcher at once.
 * Each claimed job is checked again at dial time against the calling window
 * and the per-number caps (rd_policy_allowed, with the number's attempt
 * starts the claim returned; the claim holds the number's live lock, so the
 * check cannot race another engine). A job that fails it goes back to due at
 * rd_policy_place() — not an attempt. The rest become worker-pool dials.
 *
 * Dial results: placed -> rd_store_placed (deadline = ring timeout + time
 * limit + callback grace, policy time); refused (invalid number, DND) -> a
 * real attempt outcome, settled through the callbacks module; transient or
 * canceled -> rd_store_release with the pool's retry delay: not an attempt.
 *
 * Recovery. Every RECOVER_MS (and whenever the store reports a nearer
 * deadline) rd_store_recover() returns expired leases: never-dialed claims
 * are requeued inside the script, placed calls come back for a status poll
 * (rd_callbacks_poll).
 *
 * Campaign figures. One stats cache (engine/cstats.h) serves the `smart`
 * strategy — the callbacks module's smart_stats hook and the dispatcher, which
 * asks first and so loads a campaign's answer rates before its first retry
 * decision; figures at most a minute old — and GET /metrics, which renders
 * the seed's metrics of up to METRICS_MAX_CAMPAIGNS campaigns from figures at
 * most METRICS_MAX_AGE_MS old, answering once they are gathered.
 *
 * SMS fallback. The callbacks module calls sms_fallback() once its fenced
 * settle of the deciding attempt succeeded; the SMS goes through the pool,
 * and a transient failure is resent from the recovery tick after the pool's
 * backoff (in memory only: at most once, never twice).
 *
 * Lifetime. Every asynchronous operation started here is counted in
 * srv->ops; the stop sequence waits for the pool to drain and for ops to
 * reach zero before closing the listener and the store, so no callback ever
 * runs against a freed server.
 */
#include "engine/server.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api.h"
#include "engine/callbacks.h"
#include "engine/ccache.h"
#include "engine/cstats.h"
#include "common/httpd.h"
#include "engine/ingest.h"
#include "common/log.h"
#include "engine/metrics.h"
#include "store/store.h"
#include "proto/callback.h"
#include "proto/clock.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "workers/pool.h"

#define IDLE_POLL_MS 100 /* wall: longest sleep of an idle dispatcher */
#define CLAIM_LEASE_WALL_MS 60000
#define POLL_LEASE_WALL_MS 30000
#define RECOVER_MS 500 /* wall */
#define LOCK_RETRY_WALL_MS 2000
#define ERROR_BACKOFF_MS 250      /* wall, after a failed claim */
#define SMART_MAX_AGE_MS 60000    /* wall: answer rates for `smart` refreshed at most this often */
#define METRICS_MAX_AGE_MS 5000   /* wall: campaign figures on /metrics at most this old */
#define METRICS_MAX_CAMPAIGNS 200 /* campaigns per scrape (first by name) */
#define SMS_MAX_TRIES 6           /* sends of one fallback SMS (transient failures) */

struct rd_server {
    uv_loop_t *loop;
    const rd_server_config_t *cfg;
    rd_clock_t clock;
    char engine_id[128];
    char public_url[512];
    rd_prov_t provider;

    rd_store_t *store;
    rd_ccache_t *campaigns;
    rd_cstats_t *cstats;
    rd_pool_t *pool;
    rd_callbacks_t *callbacks;
    rd_api_t *api;
    rd_ingest_t *ingest;
    rd_httpd_t *httpd;
    rd_metrics_t metrics;
    rd_counters_t *ctr;
    rd_counters_t *mirror; /* other modules' counters, copied in at each scrape */

    struct sms_retry *sms_retry; /* SMS waiting out a transient failure */
    uv_timer_t claim_timer, recover_timer;
    uv_signal_t sig_term, sig_int, sig_hup;
    int inflight, max_inflight;
    bool claim_busy, recover_busy;
    int64_t ops;   /* store/ccache operations in flight */
    bool stopping; /* no new claims */
    bool pool_closed, ingest_closed;
    bool closing; /* listener + store closing */
};

static void claim_kick(rd_server_t *srv, uint64_t wall_delay_ms);
static void maybe_finish_stop(rd_server_t *srv);

/* ---- dial results ------------------------------------------------------- */

static void on_store_done(rd_store_t *s, int status, void *arg) {
    (void)s;
    rd_server_t *srv = arg;
    srv->ops--;
    if (status != 0 && status != RD_ESTALE) rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
    maybe_finish_stop(srv);
}

static void on_refused_settled(void *arg, int status) {
    rd_server_t *srv = arg;
    srv->ops--;
    if (status != 0 && status != RD_ESTALE)
        rd_log(RD_LOG_WARN, "settle.failed", "error", rd_strerror(status), NULL);
    maybe_finish_stop(srv);
}

static void release_claim(rd_server_t *srv, const char *campaign, uint64_t token, int64_t due) {
    int64_t now = rd_clock_now(&srv->clock);
    srv->ops++;
    int rc = rd_store_release(srv->store, campaign, token, due < now ? now : due, now,
                              on_store_done, srv);
    if (rc != 0) on_store_done(srv->store, rc, srv);
}

static void on_dial_done(rd_work_t *w, void *user) {
    rd_server_t *srv = user;
    srv->inflight--;
    const rd_campaign_t *c = rd_ccache_peek(srv->campaigns, w->campaign);
    uint64_t token = w->tag;
    int64_t now = rd_clock_now(&srv->clock);
    char tok[24];
    snprintf(tok, sizeof tok, "%llu", (unsigned long long)token);

    switch (w->res.kind) {
    case RD_RES_PLACED: {
        rd_count(srv->ctr, RD_M_DIAL_PLACED, 1);
        /* The call itself lasts at most ring + limit (policy seconds: the
           provider plays the call on the policy clock); the grace models
           network and provider delay, so it is wall time. */
        int64_t call_s = c ? (int64_t)c->ring_timeout_seconds + c->time_limit_seconds : 3600;
        int64_t grace_s = c ? c->callback_grace_seconds : 60;
        srv->ops++;
        int rc =
            rd_store_placed(srv->store, w->campaign, token, w->res.call.call_id,
                            now + call_s * 1000 + rd_clock_policy_ms(&srv->clock, grace_s * 1000),
                            on_store_done, srv);
        if (rc != 0) on_store_done(srv->store, rc, srv);
        if (rd_log_enabled(RD_LOG_DEBUG))
            rd_log(RD_LOG_DEBUG, "dial.placed", "campaign", w->campaign, "token", tok, "sid",
                   w->res.call.call_id, NULL);
        break;
    }
    case RD_RES_REFUSED:
        rd_count(srv->ctr, RD_M_DIAL_REFUSED, 1);
        rd_log(RD_LOG_INFO, "dial.refused", "campaign", w->campaign, "to", w->dial.to, "outcome",
               rd_outcome_name(w->res.outcome), "reason", w->res.reason, NULL);
        srv->ops++;
        if (rd_callbacks_settle(srv->callbacks, w->dial.attempt_key, w->res.outcome,
                                RD_ANSWERED_UNKNOWN, on_refused_settled, srv) != 0)
            on_refused_settled(srv, RD_EINVAL);
        break;
    default: { /* transient, canceled, or an unexpected kind: not an attempt */
        rd_count(srv->ctr, RD_M_DIAL_TRANSIENT, 1);
        int64_t delay = srv->stopping ? 0 : rd_clock_policy_ms(&srv->clock, w->res.retry_after_ms);
        rd_log(RD_LOG_INFO, "dial.transient", "campaign", w->campaign, "to", w->dial.to, "reason",
               w->res.reason, NULL);
        release_claim(srv, w->campaign, token, now + delay);
        break;
    }
    }
    rd_pool_work_put(srv->pool, w);
    if (!srv->stopping) claim_kick(srv, 0);
    maybe_finish_stop(srv);
}

/* ---- smart strategy data ---------------------------------------------------- */

/* The callbacks module's smart_stats hook, and the dispatcher's: the
   campaign's cached answer rates (a reload starts in the background when
   they are a minute old; NULL until the first load: the policy then falls
   back to `increasing`). */
static const rd_smart_stats_t *smart_stats(void *ctx, const char *campaign) {
    rd_server_t *srv = ctx;
    const rd_store_stats_t *st = rd_cstats_peek(srv->cstats, campaign, SMART_MAX_AGE_MS);
    return st ? &st->smart : NULL;
}

/* ---- SMS fallback -------------------------------------------------------------- */

/*
 * The callbacks module decides when (after the fenced settle of the attempt
 * that reached sms_fallback.after_attempts unanswered attempts); this sends
 * it through the pool as campaign caller id -> customer. A transient failure
 * (not sent) is tried again after the pool's backoff, SMS_MAX_TRIES sends in
 * all, from the recovery tick; the retries are not durable (an engine that
 * stops drops them: at most one SMS, never two). An SMS that falls outside
 * the callee's calling window waits in the same list until the window
 * opens (same durability).
 */
typedef struct sms_retry {
    rd_work_t *w;
    uint64_t at; /* wall (uv_now) when to send again */
    struct sms_retry *next;
} sms_retry_t;

static void on_sms_done(rd_work_t *w, void *user) {
    rd_server_t *srv = user;
    if (w->res.kind == RD_RES_SENT) {
        rd_count(srv->ctr, RD_M_SMS_SENT, 1);
        rd_log(RD_LOG_INFO, "sms.sent", "campaign", w->campaign, "to", w->sms.to, NULL);
    } else if (w->res.kind == RD_RES_TRANSIENT && !srv->stopping &&
               w->transient_retries + 1 < SMS_MAX_TRIES) {
        w->transient_retries++;
        sms_retry_t *r = rd_malloc(sizeof *r);
        *r = (sms_retry_t){w, uv_now(srv->loop) + (uint64_t)w->res.retry_after_ms, srv->sms_retry};
        srv->sms_retry = r;
        return;
    } else {
        rd_count(srv->ctr, RD_M_SMS_FAILED, 1);
        rd_log(RD_LOG_WARN, "sms.failed", "campaign", w->campaign, "to", w->sms.to, "result",
               rd_res_kind_name(w->res.kind), "reason", w->res.reason, NULL);
    }
    rd_pool_work_put(srv->pool, w);
}

static void sms_submit(rd_server_t *srv, rd_work_t *w) {
    if (rd_pool_submit(srv->pool, w) != 0) {
        rd_count(srv->ctr, RD_M_SMS_FAILED, 1);
        rd_log(RD_LOG_WARN, "sms.failed", "campaign", w->campaign, "to", w->sms.to, "reason",
               "pool closed", NULL);
        rd_pool_work_put(srv->pool, w);
    }
}

/* Resends the SMS whose backoff is over; drop_all (stopping) drops the rest. */
static void sms_retry_due(rd_server_t *srv, bool drop_all) {
    uint64_t now = uv_now(srv->loop);
    sms_retry_t **pp = &srv->sms_retry;
    while (*pp) {
        sms_retry_t *r = *pp;
        if (!drop_all && r->at > now) {
            pp = &r->next;
            continue;
        }
        *pp = r->next;
        rd_work_t *w = r->w;
        rd_free(r);
        if (drop_all) {
            rd_count(srv->ctr, RD_M_SMS_FAILED, 1);
            rd_log(RD_LOG_WARN, "sms.failed", "campaign", w->campaign, "to", w->sms.to, "reason",
                   "engine stopping during a retry backoff", NULL);
            rd_pool_work_put(srv->pool, w);
        } else {
            sms_submit(srv, w);
        }
    }
}

/* The callbacks module's sms_fallback hook. */
static void sms_fallback(void *ctx, const rd_campaign_t *c, const char *to, const char *job_id) {
    rd_server_t *srv = ctx;
    if (srv->stopping) return;
    rd_work_t *w = rd_pool_work_get(srv->pool);
    w->kind = RD_WORK_SMS;
    w->account = 0;
    snprintf(w->campaign, sizeof w->campaign, "%s", c->name);
    snprintf(w->sms.to, sizeof w->sms.to, "%s", to);
    snprintf(w->sms.from, sizeof w->sms.from, "%s", c->caller_id);
    snprintf(w->sms.body, sizeof w->sms.body, "%s", c->sms_body);
    w->sms.status_callback[0] = '\0';
    w->done = on_sms_done;
    w->user = srv;
    /* Hold it to the callee's calling window (a late settle, e.g. from a poll,
       can come after the window closed): it waits in the retry list. */
    rd_policy_ctx_t window = {.c = c, .tz = rd_policy_zone(c, NULL, to)};
    int64_t now = rd_clock_now(&srv->clock);
    if (!rd_policy_allowed(&window, now)) {
        int64_t at = rd_policy_place(&window, now);
        char when[32];
        snprintf(when, sizeof when, "%lld", (long long)at);
        rd_log(RD_LOG_INFO, "sms.held", "campaign", c->name, "job", job_id, "to", to, "until_ms",
               when, NULL);
        sms_retry_t *r = rd_malloc(sizeof *r);
        *r = (sms_retry_t){w, uv_now(srv->loop) + rd_clock_wall_delay(&srv->clock, at),
                           srv->sms_retry};
        srv->sms_retry = r;
        return;
    }
    rd_log(RD_LOG_INFO, "sms.fallback", "campaign", c->name, "job", job_id, "to", to, NULL);
    sms_submit(srv, w);
}

/* ---- dispatch ------------------------------------------------------------ */

static int status_callback_url(rd_server_t *srv, char *buf, size_t len, const char *key) {
    return rd_fmt(buf, len, "%s/callbacks/%s/%s?a=%s", srv->public_url, rd_prov_name(srv->provider),
                  srv->cfg->callback_secret, key);
}

static void dispatch(rd_server_t *srv, const rd_campaign_t *c, const rd_store_job_t *j) {
    int64_t now = rd_clock_now(&srv->clock);
    rd_policy_ctx_t ctx = {
        .c = c,
        .tz = rd_policy_zone(c, j->tz, j->to),
        .num_attempts_ms = j->num_attempts_ms,
        .n_num_attempts = j->n_num_attempts,
        .jitter_seed = rd_policy_seed(j->campaign, j->to, j->attempt),
    };
    /* Also loads a smart campaign's figures before its first retry decision. */
    if (c->strategy == RD_STRAT_SMART) ctx.smart = smart_stats(srv, j->campaign);
    if (!rd_policy_allowed(&ctx, now)) {
        int64_t due = rd_policy_place(&ctx, now);
        rd_log(RD_LOG_INFO, "dial.deferred", "campaign", j->campaign, "job", j->id, "why",
               "outside window or over a per-number cap at dial time", NULL);
        release_claim(srv, j->campaign, j->token, due);
        return;
    }
    rd_work_t *w = rd_pool_work_get(srv->pool);
    w->kind = RD_WORK_DIAL;
    w->account = 0;
    snprintf(w->campaign, sizeof w->campaign, "%s", j->campaign);
    w->tag = j->token;
    w->done = on_dial_done;
    w->user = srv;
    rd_dial_t *d = &w->dial;
    d->mode = c->mode;
    snprintf(d->to, sizeof d->to, "%s", j->to);
    snprintf(d->caller_id, sizeof d->caller_id, "%s", c->caller_id);
    snprintf(d->flow, sizeof d->flow, "%s", c->call_flow_id ? c->call_flow_id : "");
    d->agent[0] = '\0';
    for (size_t i = 0; i < j->n_vars; i++)
        if (strcmp(j->vars[i].key, "agent") == 0)
            snprintf(d->agent, sizeof d->agent, "%s", j->vars[i].val);
    if (c->mode == RD_MODE_AGENT && !d->agent[0])
        snprintf(d->agent, sizeof d->agent, "%s", c->caller_id);
    if (rd_attempt_key_format(d->attempt_key, sizeof d->attempt_key, j->campaign, j->token) != 0 ||
        status_callback_url(srv, d->status_callback, sizeof d->status_callback, d->attempt_key) !=
            0) {
        /* Checked at start-up (public URL and secret lengths): cannot happen. */
        rd_assert(!"status callback URL too long");
    }
    d->ring_timeout_s = c->ring_timeout_seconds;
    d->time_limit_s = c->time_limit_seconds;
    d->machine_detection = true;
    if (rd_pool_submit(srv->pool, w) != 0) {
        rd_pool_work_put(srv->pool, w);
        release_claim(srv, j->campaign, j->token, now);
        return;
    }
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
        dispatch(srv, c, p->job);
    } else {
        if (status != 0)
            rd_log(RD_LOG_ERROR, "campaign.load_failed", "campaign", p->job->campaign, "error",
                   rd_strerror(status), NULL);
        release_claim(srv, p->job->campaign, p->job->token,
                      rd_clock_now(&srv->clock) + rd_clock_policy_ms(&srv->clock, 5000));
    }
    rd_store_job_free(p->job);
    rd_free(p);
    maybe_finish_stop(srv);
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
        if (!srv->stopping) claim_kick(srv, ERROR_BACKOFF_MS);
        maybe_finish_stop(srv);
        return;
    }
    rd_count(srv->ctr, RD_M_CLAIMED, r->n);
    for (size_t i = 0; i < r->n; i++) {
        const rd_store_job_t *j = &r->jobs[i];
        const rd_campaign_t *c = rd_ccache_peek(srv->campaigns, j->campaign);
        if (c && !srv->stopping) {
            dispatch(srv, c, j);
            continue;
        }
        parked_t *p = rd_malloc(sizeof *p);
        p->srv = srv;
        p->job = rd_store_job_dup(j);
        if (!p->job) {
            rd_free(p);
            release_claim(srv, j->campaign, j->token, rd_clock_now(&srv->clock));
            continue;
        }
        srv->ops++;
        rd_ccache_get(srv->campaigns, j->campaign, on_campaign_for_dispatch, p);
    }
    if (!srv->stopping) {
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
        claim_kick(srv, delay);
    }
    maybe_finish_stop(srv);
}

static void on_claim_timer(uv_timer_t *t) {
    rd_server_t *srv = t->data;
    if (srv->claim_busy || srv->stopping) return;
    int room = srv->max_inflight - srv->inflight;
    if (room <= 0) return; /* a dial result kicks us */
    rd_store_claim_req_t req = {
        .now_ms = rd_clock_now(&srv->clock),
        .max_jobs = RD_MIN(room, srv->cfg->batch),
        .lease_ms = rd_clock_policy_ms(&srv->clock, CLAIM_LEASE_WALL_MS),
        .lock_retry_ms = rd_clock_policy_ms(&srv->clock, LOCK_RETRY_WALL_MS),
        .engine = srv->engine_id,
    };
    srv->claim_busy = true;
    srv->ops++;
    int rc = rd_store_claim(srv->store, &req, on_claimed, srv);
    if (rc != 0) on_claimed(srv->store, rc, NULL, srv);
}

static void claim_kick(rd_server_t *srv, uint64_t wall_delay_ms) {
    if (srv->stopping || srv->claim_busy) return;
    if (uv_is_active((uv_handle_t *)&srv->claim_timer) &&
        uv_timer_get_due_in(&srv->claim_timer) <= wall_delay_ms)
        return;
    uv_timer_start(&srv->claim_timer, on_claim_timer, wall_delay_ms, 0);
}

/* ---- recovery -------------------------------------------------------------- */

static void on_recovered(rd_store_t *s, int status, const rd_store_recover_res_t *r, void *arg) {
    (void)s;
    rd_server_t *srv = arg;
    srv->recover_busy = false;
    srv->ops--;
    if (status == 0) {
        if (r->requeued) {
            char n[24];
            snprintf(n, sizeof n, "%zu", r->requeued);
            rd_log(RD_LOG_INFO, "lease.requeued", "count", n, NULL);
            claim_kick(srv, 0);
        }
        for (size_t i = 0; i < r->n_poll && !srv->stopping; i++) {
            rd_count(srv->ctr, RD_M_POLLS, 1);
            if (rd_callbacks_poll(srv->callbacks, &r->poll[i]) != 0)
                rd_log(RD_LOG_WARN, "poll.skipped", "campaign", r->poll[i].campaign, "job",
                       r->poll[i].id, NULL);
        }
    } else {
        rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
    }
    maybe_finish_stop(srv);
}

static void on_recover_timer(uv_timer_t *t) {
    rd_server_t *srv = t->data;
    if (srv->stopping) return;
    sms_retry_due(srv, false);
    if (srv->recover_busy) return;
    srv->recover_busy = true;
    srv->ops++;
    int rc =
        rd_store_recover(srv->store, rd_clock_now(&srv->clock), 200,
                         rd_clock_policy_ms(&srv->clock, POLL_LEASE_WALL_MS), on_recovered, srv);
    if (rc != 0) on_recovered(srv->store, rc, NULL, srv);
}

/* ---- HTTP -------------------------------------------------------------------- */

/*
 * GET /metrics: the engine's counters, then the seed's metrics of up to
 * METRICS_MAX_CAMPAIGNS campaigns (first by name; redial_campaigns_omitted
 * counts the rest) from the stats cache, gathered asynchronously: one
 * SMEMBERS, then one stats script per campaign whose figures are older than
 * METRICS_MAX_AGE_MS. Without Redis the campaign series are left out.
 */
typedef struct scrape scrape_t;
typedef struct scrape_slot {
    scrape_t *sc;
    size_t i;
} scrape_slot_t;

struct scrape {
    rd_server_t *srv;
    rd_http_req_t *req;
    rd_metrics_campaign_t *camps; /* [n]; name NULL when not loaded */
    char **names;                 /* [n], owned */
    scrape_slot_t *slots;         /* [n]: the callback argument per campaign */
    size_t n, omitted, waiting;
};

/* The callbacks module and ingest keep their own counters: copy them into
   the mirror block so the exposition shows them under their metric names. */
static void mirror_counters(rd_server_t *srv) {
    rd_callbacks_stats_t cs;
    rd_callbacks_stats(srv->callbacks, &cs);
    _Atomic uint64_t *v = srv->mirror->v;
    atomic_store_explicit(&v[RD_M_SETTLED], cs.settled, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_SETTLE_STALE], cs.duplicates, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_CALLBACKS], cs.received, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_CALLBACKS_REJECTED], cs.forged + cs.bad, memory_order_relaxed);
    if (srv->ingest && !srv->ingest_closed) { /* freed once closed: keep the last figure */
        rd_ingest_counters_t ic;
        rd_ingest_counters(srv->ingest, &ic);
        atomic_store_explicit(&v[RD_M_DEADLETTERED], ic.deadlettered, memory_order_relaxed);
    }
}

static void scrape_finish(scrape_t *sc) {
    rd_server_t *srv = sc->srv;
    mirror_counters(srv);
    rd_sbuf_t b;
    rd_sbuf_init(&b, 8192 + sc->n * 2048);
    rd_metrics_render(&srv->metrics, &b);
    /* Keep the loaded ones, in name order. */
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->camps[i].name) sc->camps[k++] = sc->camps[i];
    if (k) rd_metrics_render_campaigns(sc->camps, k, &b);
    rd_sbuf_printf(&b,
                   "# HELP redial_campaigns_omitted Campaigns left out of this scrape "
                   "(over the per-scrape bound)\n"
                   "# TYPE redial_campaigns_omitted gauge\nredial_campaigns_omitted %zu\n"
                   "# HELP redial_dials_inflight Dial requests in flight in this engine\n"
                   "# TYPE redial_dials_inflight gauge\nredial_dials_inflight %d\n"
                   "# HELP redial_redis_up Whether this engine is connected to Redis\n"
                   "# TYPE redial_redis_up gauge\nredial_redis_up %d\n"
                   "# HELP redial_redis_commands_total Redis commands sent by this engine\n"
                   "# TYPE redial_redis_commands_total counter\n"
                   "redial_redis_commands_total %llu\n",
                   sc->omitted, srv->inflight, rd_store_connected(srv->store) ? 1 : 0,
                   (unsigned long long)rd_store_commands_sent(srv->store));
    rd_http_respond(sc->req, 200, "text/plain; version=0.0.4", NULL, b.buf, b.len);
    rd_free(b.buf);
    for (size_t i = 0; i < sc->n; i++) rd_free(sc->names[i]);
    rd_free(sc->names);
    rd_free(sc->camps);
    rd_free(sc->slots);
    rd_free(sc);
}

static void on_scrape_stats(int status, const rd_store_stats_t *st, void *arg) {
    scrape_slot_t *slot = arg;
    scrape_t *sc = slot->sc;
    if (status == 0) {
        rd_metrics_campaign_t *c = &sc->camps[slot->i];
        c->name = sc->names[slot->i];
        rd_stats_compute(&st->counts, &c->s);
        c->live = st->live;
    }
    if (--sc->waiting == 0) scrape_finish(sc);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_scrape_list(rd_store_t *s, int status, char *const *names, size_t n, void *arg) {
    (void)s;
    scrape_t *sc = arg;
    if (status != 0) n = 0;
    char **sorted = rd_calloc(n ? n : 1, sizeof *sorted);
    for (size_t i = 0; i < n; i++) sorted[i] = names[i];
    qsort(sorted, n, sizeof *sorted, cmp_str);
    sc->n = RD_MIN(n, (size_t)METRICS_MAX_CAMPAIGNS);
    sc->omitted = n - sc->n;
    sc->names = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->names);
    sc->camps = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->camps);
    sc->slots = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->slots);
    for (size_t i = 0; i < sc->n; i++) sc->names[i] = rd_strdup(sorted[i]);
    rd_free(sorted);
    sc->waiting = sc->n + 1; /* + 1: answers may come inside rd_cstats_get */
    for (size_t i = 0; i < sc->n; i++) {
        sc->slots[i] = (scrape_slot_t){sc, i};
        rd_cstats_get(sc->srv->cstats, sc->names[i], METRICS_MAX_AGE_MS, on_scrape_stats,
                      &sc->slots[i]);
    }
    if (--sc->waiting == 0) scrape_finish(sc);
}

static void serve_metrics(rd_server_t *srv, rd_http_req_t *req) {
    scrape_t *sc = rd_calloc(1, sizeof *sc);
    sc->srv = srv;
    sc->req = req;
    /* Without Redis, answer at once (a queued command would wait for the
       command timeout). */
    if (!rd_store_connected(srv->store) ||
        rd_store_campaign_list(srv->store, on_scrape_list, sc) != 0)
        on_scrape_list(srv->store, RD_ECLOSED, NULL, 0, sc);
}

static void on_http(rd_http_req_t *req, void *data) {
    rd_server_t *srv = data;
    rd_count(srv->ctr, RD_M_HTTP_REQUESTS, 1);
    if (rd_callbacks_route(srv->callbacks, req)) return;
    if (rd_api_handle(srv->api, req)) return;
    if (strcmp(req->path, "/healthz") == 0) {
        bool up = rd_store_connected(srv->store);
        char body[160];
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"redis\":%s,\"stopping\":%s}",
                 up && !srv->stopping ? "ok" : "unavailable", up ? "true" : "false",
                 srv->stopping ? "true" : "false");
        rd_http_respond_json(req, up && !srv->stopping ? 200 : 503, body);
        return;
    }
    if (strcmp(req->path, "/metrics") == 0) {
        serve_metrics(srv, req);
        return;
    }
    rd_http_respond_error(req, 404, "no such route");
}

/* ---- signals and stop ----------------------------------------------------- */

static void on_closed_handle(uv_handle_t *h) { (void)h; }

static void on_store_closed(void *arg) {
    rd_server_t *srv = arg;
    rd_log(RD_LOG_INFO, "server.stopped", "engine", srv->engine_id, NULL);
}

static void on_httpd_closed(void *arg) {
    rd_server_t *srv = arg;
    rd_store_close(srv->store, on_store_closed, srv);
}

static void maybe_finish_stop(rd_server_t *srv) {
    if (!srv->stopping || srv->closing || !srv->pool_closed || srv->ops > 0) return;
    if (srv->ingest && !srv->ingest_closed) return;
    srv->closing = true;
    uv_close((uv_handle_t *)&srv->claim_timer, on_closed_handle);
    uv_close((uv_handle_t *)&srv->recover_timer, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_term, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_int, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_hup, on_closed_handle);
    rd_httpd_close(srv->httpd, on_httpd_closed, srv);
}

static void on_pool_closed(void *arg) {
    rd_server_t *srv = arg;
    srv->pool_closed = true;
    maybe_finish_stop(srv);
}

static void on_ingest_closed(void *arg) {
    rd_server_t *srv = arg;
    srv->ingest_closed = true;
    maybe_finish_stop(srv);
}

/* Doorbell: a settle freed the attempt's campaign / agent / number slots.
 * Without it a dispatcher whose campaigns were all at their concurrency
 * would reuse the slot only at its next idle poll (IDLE_POLL_MS). */
static void on_settled_slot(void *arg) {
    rd_server_t *srv = arg;
    if (!srv->stopping) claim_kick(srv, 0);
}

/* Doorbell: a job created by this engine's ingest that is due soon. */
static void on_ingested(void *arg, const char *campaign, int64_t due_ms) {
    (void)campaign;
    rd_server_t *srv = arg;
    rd_count(srv->ctr, RD_M_INGESTED, 1);
    claim_kick(srv, rd_clock_wall_delay(&srv->clock, due_ms));
}

void rd_server_stop(rd_server_t *srv) {
    if (srv->stopping) return;
    srv->stopping = true;
    char n[16];
    snprintf(n, sizeof n, "%d", srv->inflight);
    rd_log(RD_LOG_INFO, "server.stopping", "engine", srv->engine_id, "inflight", n, NULL);
    uv_timer_stop(&srv->claim_timer);
    uv_timer_stop(&srv->recover_timer);
    if (srv->ingest) rd_ingest_close(srv->ingest, on_ingest_closed, srv);
    sms_retry_due(srv, true);
    rd_pool_close(srv->pool, on_pool_closed, srv);
}

static void on_signal(uv_signal_t *h, int signum) {
    rd_server_t *srv = h->data;
    if (signum == SIGHUP) {
        rd_log_reopen();
        rd_log(RD_LOG_INFO, "log.reopened", NULL);
        return;
    }
    rd_server_stop(srv);
}

/* ---- start ---------------------------------------------------------------- */

static int parse_listen(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return RD_EINVAL;
    size_t hl = (size_t)(colon - s);
    if (hl >= hostlen) return RD_EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) return RD_EINVAL;
    *port = (int)p;
    return 0;
}

int rd_server_start(uv_loop_t *loop, const rd_server_config_t *cfg, rd_server_t **out, char *err,
                    size_t errlen) {
    int rc;
    rd_server_t *srv = rd_calloc(1, sizeof *srv);
    srv->loop = loop;
    srv->cfg = cfg;
    srv->ctr = rd_metrics_register(&srv->metrics);
    srv->mirror = rd_metrics_register(&srv->metrics);

    if ((rc = rd_clock_init(&srv->clock, cfg->time_scale, cfg->time_origin, cfg->time_epoch, err,
                            errlen)) != 0)
        goto fail;
    if (rd_prov_parse(cfg->provider, strlen(cfg->provider), &srv->provider) != 0) {
        snprintf(err, errlen, "--provider: '%s' is not exotel or twilio", cfg->provider);
        rc = RD_EINVAL;
        goto fail;
    }
    if (!cfg->callback_secret || !*cfg->callback_secret) {
        snprintf(err, errlen,
                 "REDIAL_CALLBACK_SECRET (or _FILE) is required: it authenticates "
                 "provider callbacks");
        rc = RD_EINVAL;
        goto fail;
    }
    if (cfg->workers < 1 || cfg->workers > 64 || cfg->inflight < 1 || cfg->batch < 1 ||
        cfg->batch > 1000) {
        snprintf(err, errlen, "--workers 1..64, --inflight >= 1, --batch 1..1000");
        rc = RD_EINVAL;
        goto fail;
    }
    char host[256];
    int port;
    if (parse_listen(cfg->listen, host, sizeof host, &port) != 0) {
        snprintf(err, errlen, "--listen: '%s' is not HOST:PORT", cfg->listen);
        rc = RD_EINVAL;
        goto fail;
    }
    if (cfg->engine_id && *cfg->engine_id) {
        snprintf(srv->engine_id, sizeof srv->engine_id, "%s", cfg->engine_id);
    } else {
        char hn[64] = "host";
        gethostname(hn, sizeof hn - 1);
        snprintf(srv->engine_id, sizeof srv->engine_id, "%s-%d", hn, (int)getpid());
    }

    rd_store_opts_t so;
    rd_store_opts_init(&so);
    so.url = cfg->redis_url;
    so.password = cfg->redis_password;
    so.prefix = cfg->prefix;
    char bucket[160];
    snprintf(bucket, sizeof bucket, "%s:%s", rd_prov_name(srv->provider),
             cfg->provider_sid && *cfg->provider_sid ? cfg->provider_sid : "default");
    so.bucket = bucket;
    if (rd_provider_rate(srv->provider, cfg->provider_rate, &so.bucket_rate, &so.bucket_burst) !=
        0) {
        snprintf(err, errlen, "--provider-rate: '%s' is not N/SECONDS", cfg->provider_rate);
        rc = RD_EINVAL;
        goto fail;
    }
    if ((rc = rd_store_create(loop, &so, &srv->store)) != 0) {
        snprintf(err, errlen, "--redis: cannot use '%s' (%s)", cfg->redis_url, rd_strerror(rc));
        goto fail;
    }
    srv->campaigns = rd_ccache_create(srv->store);
    srv->cstats = rd_cstats_create(loop, srv->store);

    rd_account_cfg_t acct;
    rd_account_cfg_init(&acct);
    acct.kind = srv->provider;
    acct.base_url = cfg->provider_url;
    acct.sid = cfg->provider_sid;
    acct.key = cfg->provider_key;
    acct.token = cfg->provider_token;
    rd_pool_cfg_t pc = {
        .workers = (unsigned)cfg->workers,
        .max_inflight = (unsigned)cfg->inflight,
        .accounts = &acct,
        .n_accounts = 1,
        .on_result = on_dial_done,
        .data = srv,
    };
    srv->max_inflight = cfg->workers * cfg->inflight;
    if ((rc = rd_pool_create(loop, &pc, &srv->pool)) != 0) {
        snprintf(err, errlen, "worker pool: %s (check --provider-url and REDIAL_PROVIDER_*)",
                 rd_strerror(rc));
        goto fail;
    }

    if (cfg->public_url && *cfg->public_url)
        snprintf(srv->public_url, sizeof srv->public_url, "%s", cfg->public_url);
    else
        snprintf(srv->public_url, sizeof srv->public_url, "http://%s", cfg->listen);
    size_t pl = strlen(srv->public_url);
    if (pl && srv->public_url[pl - 1] == '/') srv->public_url[pl - 1] = '\0';
    if (strlen(srv->public_url) + strlen(cfg->callback_secret) + 32 + RD_ATTEMPT_KEY_MAX >=
        RD_DIAL_URL_MAX) {
        snprintf(err, errlen, "--public-url and REDIAL_CALLBACK_SECRET together are too long");
        rc = RD_EINVAL;
        goto fail;
    }

    rd_callbacks_cfg_t cc;
    rd_callbacks_cfg_init(&cc);
    cc.store = srv->store;
    cc.campaigns = srv->campaigns;
    cc.clock = &srv->clock;
    cc.secret = cfg->callback_secret;
    cc.public_url = srv->public_url;
    cc.twilio_token = srv->provider == RD_PROV_TWILIO ? cfg->provider_token : NULL;
    cc.pool = srv->pool;
    cc.poll_account[srv->provider] = 0;
    cc.default_provider = srv->provider;
    cc.smart_stats = smart_stats;
    cc.sms_fallback = sms_fallback;
    cc.settled = on_settled_slot;
    cc.hook_ctx = srv;
    if ((rc = rd_callbacks_create(&cc, &srv->callbacks)) != 0) {
        snprintf(err, errlen, "callbacks: %s", rd_strerror(rc));
        goto fail;
    }

    rd_api_cfg_t ac;
    rd_api_cfg_init(&ac);
    ac.loop = loop;
    ac.store = srv->store;
    ac.clock = &srv->clock;
    ac.ccache = srv->campaigns;
    ac.api_key = cfg->api_key;
    ac.api_token = cfg->api_token;
    ac.default_provider = cfg->provider;
    if ((rc = rd_server_campaign_defaults(cfg, &ac.campaign_defaults, err, errlen)) != 0) goto fail;
    ac.ctr = srv->ctr;
    if ((rc = rd_api_create(&ac, &srv->api)) != 0) {
        snprintf(err, errlen, "control API: %s", rd_strerror(rc));
        goto fail;
    }

    rd_ingest_opts_t io;
    rd_ingest_opts_init(&io);
    io.url = cfg->redis_url;
    io.password = cfg->redis_password;
    io.prefix = cfg->prefix;
    io.consumer = srv->engine_id;
    io.clock = &srv->clock;
    io.store = srv->store;
    io.campaigns = srv->campaigns;
    io.on_job = on_ingested;
    io.on_job_arg = srv;
    if ((rc = rd_ingest_create(loop, &io, &srv->ingest)) != 0) {
        snprintf(err, errlen, "ingest: %s", rd_strerror(rc));
        goto fail;
    }

    rd_httpd_config_t hc = {
        .host = host,
        .port = port,
        .limits = {.max_body_bytes = (size_t)cfg->max_body},
        .handler = on_http,
        .data = srv,
    };
    if ((rc = rd_httpd_create(loop, &hc, &srv->httpd, err, errlen)) != 0) goto fail;

    uv_timer_init(loop, &srv->claim_timer);
    uv_timer_init(loop, &srv->recover_timer);
    srv->claim_timer.data = srv->recover_timer.data = srv;
    uv_timer_start(&srv->claim_timer, on_claim_timer, 0, 0);
    uv_timer_start(&srv->recover_timer, on_recover_timer, RECOVER_MS, RECOVER_MS);
    uv_signal_init(loop, &srv->sig_term);
    uv_signal_init(loop, &srv->sig_int);
    uv_signal_init(loop, &srv->sig_hup);
    srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
    uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, on_signal, SIGINT);
    uv_signal_start(&srv->sig_hup, on_signal, SIGHUP);

    char portbuf[16];
    snprintf(portbuf, sizeof portbuf, "%d", rd_httpd_port(srv->httpd));
    rd_log(RD_LOG_INFO, "server.started", "engine", srv->engine_id, "listen", host, "port", portbuf,
           "provider", rd_prov_name(srv->provider), "prefix", rd_store_prefix(srv->store), NULL);
    *out = srv;
    return 0;

fail:
    /* Start-up failures end the process; handles already made are closed by
       the caller's loop teardown (uv_walk). */
    *out = srv;
    return rc ? rc : RD_EINVAL;
}

int rd_server_port(const rd_server_t *srv) { return rd_httpd_port(srv->httpd); }

void rd_server_destroy(rd_server_t *srv) {
    if (!srv) return;
    if (srv->callbacks) rd_callbacks_destroy(srv->callbacks);
    rd_api_destroy(srv->api);
    rd_ccache_destroy(srv->campaigns);
    rd_cstats_destroy(srv->cstats);
    rd_free(srv);
}
