/*
 * callbacks.c — provider status callbacks, status polls and direct settles,
 * all funnelled into one fenced settle (contract in callbacks.h).
 *
 * Design: every entry point builds an `op` holding a parsed status
 * (rd_call_status_t) and where the answer goes (an HTTP request, a poll, a
 * done callback), then runs the same asynchronous chain on the loop:
 *
 *   lookup (attempt key, else call id) -> campaign (cache, else load)
 *     -> rd_policy_next -> rd_store_settle -> finish(op, result)
 *
 * The store's job record is only valid inside its callback, so when the
 * campaign must be loaded first (engine/ccache.h) the job is copied
 * (rd_store_job_dup); with a cached campaign (the usual case) nothing is
 * copied.
 *
 * Security order for a callback: provider name, then the secret token
 * (constant time), then twilio's signature, and only then the body is
 * parsed: a forged request costs a compare and an HMAC, and never reaches
 * Redis.
 *
 * Fencing: settle carries the lease token of the attempt key the provider
 * echoed back (or of the lease found by call id). A second callback for the
 * same attempt, a late one after recovery polled, or one for an attempt the
 * engine already retried, finds a different (or no) current token: the
 * store reports RD_ESTALE and the answer is 200 "duplicate". A callback
 * whose call id differs from the call id recorded for the lease is treated
 * the same way (it is about another call).
 */
#include "engine/callbacks.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "proto/campaign.h"
#include "proto/rd.h"
#include "proto/tz.h"

typedef enum { OP_HTTP, OP_POLL, OP_DIRECT } op_kind_t;

typedef enum { R_SETTLED, R_DUPLICATE, R_IGNORED, R_NOTFOUND, R_ERROR } result_t;

typedef struct op {
    rd_callbacks_t *cb;
    op_kind_t kind;
    rd_http_req_t *req;                  /* OP_HTTP */
    rd_call_status_t st;                 /* what we learned */
    void (*done)(void *arg, int status); /* OP_DIRECT */
    void *done_arg;
    rd_store_job_t *job; /* owned copy while the campaign loads */
    int err;             /* store status behind R_ERROR / R_NOTFOUND */
    /* Set when this attempt is the job's sms_fallback.after_attempts-th
       unanswered one: the SMS goes out if (and only if) our settle wins. */
    const rd_campaign_t *sms_campaign;
    char sms_to[RD_E164_MAX + 1];
    char sms_job[sizeof(((rd_store_job_t *)0)->id)];
    struct op *next_free;
} op_t;

struct rd_callbacks {
    rd_callbacks_cfg_t cfg;
    char *secret, *public_url, *twilio_token;
    size_t secret_len;
    rd_ccache_t *campaigns;
    bool own_campaigns;
    op_t *free_ops;
    rd_callbacks_stats_t stats;
};

void rd_callbacks_cfg_init(rd_callbacks_cfg_t *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < RD_PROV__COUNT; i++) c->poll_account[i] = -1;
    c->default_provider = RD_PROV_EXOTEL;
    c->max_polls = 10;
}

int rd_callbacks_create(const rd_callbacks_cfg_t *cfg, rd_callbacks_t **out) {
    *out = NULL;
    if (!cfg->store || !cfg->clock || !cfg->secret || !cfg->secret[0]) return RD_EINVAL;
    rd_callbacks_t *cb = rd_calloc(1, sizeof *cb);
    cb->cfg = *cfg;
    cb->secret = rd_strdup(cfg->secret);
    cb->secret_len = strlen(cb->secret);
    cb->public_url = rd_strdup(cfg->public_url ? cfg->public_url : "");
    size_t n = strlen(cb->public_url);
    while (n > 0 && cb->public_url[n - 1] == '/') cb->public_url[--n] = '\0';
    cb->twilio_token = cfg->twilio_token ? rd_strdup(cfg->twilio_token) : NULL;
    if (cb->cfg.max_polls <= 0) cb->cfg.max_polls = 10;
    cb->cfg.secret = cb->cfg.public_url = cb->cfg.twilio_token = NULL; /* use the copies */
    cb->campaigns = cfg->campaigns;
    if (!cb->campaigns) {
        cb->campaigns = rd_ccache_create(cfg->store);
        cb->own_campaigns = true;
    }
    *out = cb;
    return 0;
}

void rd_callbacks_destroy(rd_callbacks_t *cb) {
    if (!cb) return;
    if (cb->own_campaigns) rd_ccache_destroy(cb->campaigns);
    while (cb->free_ops) {
        op_t *o = cb->free_ops;
        cb->free_ops = o->next_free;
        rd_free(o);
    }
    rd_free(cb->secret);
    rd_free(cb->public_url);
    rd_free(cb->twilio_token);
    rd_free(cb);
}

void rd_callbacks_stats(const rd_callbacks_t *cb, rd_callbacks_stats_t *out) { *out = cb->stats; }

/* ------------------------------------------------------------------ */
/* ops                                                                  */

static op_t *op_new(rd_callbacks_t *cb, op_kind_t kind) {
    op_t *o = cb->free_ops;
    if (o)
        cb->free_ops = o->next_free;
    else
        o = rd_malloc(sizeof *o);
    memset(o, 0, sizeof *o);
    o->cb = cb;
    o->kind = kind;
    return o;
}

static void op_free(op_t *o) {
    rd_callbacks_t *cb = o->cb;
    rd_store_job_free(o->job);
    o->job = NULL;
    o->next_free = cb->free_ops;
    cb->free_ops = o;
}

static void finish(op_t *o, result_t r) {
    rd_callbacks_t *cb = o->cb;
    bool poll = o->kind == OP_POLL;
    switch (r) {
    case R_SETTLED:
        cb->stats.settled++;
        if (poll) cb->stats.poll_settled++;
        break;
    case R_DUPLICATE:
        cb->stats.duplicates++;
        break;
    case R_IGNORED:
        cb->stats.ignored++;
        break;
    case R_NOTFOUND:
        cb->stats.not_found++;
        break;
    case R_ERROR:
        cb->stats.errors++;
        break;
    }
    if (r == R_ERROR)
        rd_log(RD_LOG_WARN, "callback.settle_failed", "call", o->st.call_id, "attempt",
               o->st.attempt_key, "error", rd_err_name(o->err), NULL);
    else if (r == R_SETTLED)
        rd_log(RD_LOG_DEBUG, "callback.settled", "call", o->st.call_id, "attempt",
               o->st.attempt_key, "outcome", rd_outcome_name(o->st.outcome), "via",
               poll                 ? "poll"
               : o->kind == OP_HTTP ? "callback"
                                    : "engine",
               NULL);
    switch (o->kind) {
    case OP_HTTP:
        switch (r) {
        case R_SETTLED:
            rd_http_respond_json(o->req, 200, "{\"result\":\"settled\"}");
            break;
        case R_DUPLICATE:
            rd_http_respond_json(o->req, 200, "{\"result\":\"duplicate\"}");
            break;
        case R_IGNORED:
            rd_http_respond_json(o->req, 200, "{\"result\":\"ignored\"}");
            break;
        case R_NOTFOUND:
            rd_http_respond_error(o->req, 404, "no such attempt");
            break;
        case R_ERROR:
            rd_http_respond_error(o->req, 503, "store unavailable, retry");
            break;
        }
        break;
    case OP_DIRECT:
        if (o->done) {
            int st = r == R_SETTLED     ? 0
                     : r == R_DUPLICATE ? RD_ESTALE
                     : r == R_NOTFOUND  ? RD_ENOTFOUND
                                        : (o->err ? o->err : RD_EIO);
            o->done(o->done_arg, st);
        }
        break;
    case OP_POLL:
        break;
    }
    op_free(o);
}

/* ------------------------------------------------------------------ */
/* policy + settle                                                      */

static void on_settled(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    op_t *o = arg;
    rd_callbacks_t *cb = o->cb;
    /* The settle is fenced: exactly one settle of this attempt reaches here
       with status 0, across all engines, so the SMS goes out at most once. */
    if (status == 0 && o->sms_campaign && cb->cfg.sms_fallback &&
        (!r->final || r->disposition == RD_DISP_UNREACHABLE))
        cb->cfg.sms_fallback(cb->cfg.hook_ctx, o->sms_campaign, o->sms_to, o->sms_job);
    if (status != 0 && status != RD_ESTALE) o->err = status;
    if (status == 0 && cb->cfg.settled) cb->cfg.settled(cb->cfg.hook_ctx);
    finish(o, status == 0 ? R_SETTLED : status == RD_ESTALE ? R_DUPLICATE : R_ERROR);
}

/* An attempt nobody answered: busy, no-answer, or answered by a machine
   when the campaign counts machines as busy / no-answer. */
static bool unanswered(const rd_campaign_t *c, rd_outcome_t o, bool machine) {
    if (o == RD_OUT_COMPLETED && machine) o = c->machine_as;
    return o == RD_OUT_BUSY || o == RD_OUT_NO_ANSWER;
}

/* Does the attempt hist[n-1] make the job reach sms_fallback.after_attempts
   unanswered attempts? An earlier `completed` in a live job's history was
   answered by a machine (a person would have finished the job). */
static bool sms_due(const rd_campaign_t *c, const rd_attempt_t *hist, size_t n,
                    rd_answered_by_t last_by) {
    if (c->sms_after_attempts <= 0 ||
        !unanswered(c, hist[n - 1].outcome, last_by == RD_ANSWERED_MACHINE))
        return false;
    int k = 0;
    for (size_t i = 0; i < n; i++) k += unanswered(c, hist[i].outcome, true);
    return k == c->sms_after_attempts;
}

static void decide_and_settle(op_t *o, const rd_store_job_t *job, const rd_campaign_t *c) {
    rd_callbacks_t *cb = o->cb;
    int64_t now = rd_clock_now(cb->cfg.clock);
    rd_attempt_t hist[RD_STORE_MAX_HIST + 1];
    size_t n = job->n_hist < RD_STORE_MAX_HIST ? job->n_hist : RD_STORE_MAX_HIST;
    memcpy(hist, job->hist, n * sizeof *hist);
    hist[n].start_ms = job->lease_start_ms;
    hist[n].outcome = o->st.outcome;
    n++;

    rd_policy_ctx_t ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.c = c;
    ctx.tz = rd_policy_zone(c, job->tz[0] ? job->tz : NULL, job->to);
    ctx.num_attempts_ms = job->num_attempts_ms;
    ctx.n_num_attempts = job->n_num_attempts;
    ctx.jitter_seed = rd_policy_seed(job->campaign, job->to, (int)n + 1);
    if (c->strategy == RD_STRAT_SMART && cb->cfg.smart_stats)
        ctx.smart = cb->cfg.smart_stats(cb->cfg.hook_ctx, job->campaign);
    rd_decision_t d;
    rd_policy_next(&ctx, hist, n, o->st.answered_by, now, &d);
    if (sms_due(c, hist, n, o->st.answered_by)) {
        o->sms_campaign = c;
        snprintf(o->sms_to, sizeof o->sms_to, "%s", job->to);
        snprintf(o->sms_job, sizeof o->sms_job, "%s", job->id);
    }

    rd_store_settle_t st;
    memset(&st, 0, sizeof st);
    st.campaign = job->campaign;
    st.token = job->token;
    st.outcome = o->st.outcome;
    st.answered_by = o->st.answered_by;
    st.call_id = o->st.call_id[0] ? o->st.call_id : NULL;
    /* The provider's end time only when it is plausible policy time (the
       simulator shares our clock; a real provider under --time-scale 1 too). */
    st.ended_ms = o->st.end_ms >= job->lease_start_ms && o->st.end_ms <= now ? o->st.end_ms : now;
    st.now_ms = now;
    st.decision = d;
    st.hour_of_week = -1;
    if (ctx.tz) {
        rd_localtime_t lt;
        rd_tz_local(ctx.tz, job->lease_start_ms, &lt);
        st.hour_of_week = lt.wday * 24 + lt.hour;
    }
    st.answered = (o->st.outcome == RD_OUT_COMPLETED || o->st.outcome == RD_OUT_IN_PROGRESS) &&
                  o->st.answered_by != RD_ANSWERED_MACHINE;
    /* The looked-up job: the store builds the record and events here, not in Redis. */
    st.job = job;
    int rc = rd_store_settle(cb->cfg.store, &st, on_settled, o);
    if (rc != 0) {
        o->err = rc;
        finish(o, R_ERROR);
    }
}

static void on_campaign(int status, const rd_campaign_t *c, void *arg) {
    op_t *o = arg;
    if (status != 0 || !c) {
        o->err = status ? status : RD_ENOTFOUND;
        finish(o, R_ERROR);
        return;
    }
    decide_and_settle(o, o->job, c);
}

static void after_lookup(op_t *o, const rd_store_job_t *job) {
    bool live = job->state == RD_JOB_CLAIMED || job->state == RD_JOB_PLACED;
    /* A different recorded call id: the status is about another call of this job. */
    bool other_call =
        job->call_id[0] && o->st.call_id[0] && strcmp(job->call_id, o->st.call_id) != 0;
    if (!live || other_call) {
        finish(o, R_DUPLICATE);
        return;
    }
    const rd_campaign_t *c = rd_ccache_peek(o->cb->campaigns, job->campaign);
    if (c) {
        decide_and_settle(o, job, c);
        return;
    }
    o->job = rd_store_job_dup(job);
    if (!o->job) {
        o->err = RD_ENOMEM;
        finish(o, R_ERROR);
        return;
    }
    rd_ccache_get(o->cb->campaigns, job->campaign, on_campaign, o);
}

static void on_lookup(rd_store_t *s, int status, const rd_store_job_t *job, void *arg) {
    op_t *o = arg;
    if (status == RD_ESTALE || status == RD_ENOTFOUND) {
        finish(o, status == RD_ESTALE ? R_DUPLICATE : R_NOTFOUND);
        return;
    }
    if (status != 0) {
        o->err = status;
        finish(o, R_ERROR);
        return;
    }
    after_lookup(o, job);
}

/* Runs the chain for o->st (terminal, or forced). */
static void settle_status(op_t *o) {
    rd_callbacks_t *cb = o->cb;
    int rc = o->st.attempt_key[0]
                 ? rd_store_lookup_attempt(cb->cfg.store, o->st.attempt_key, on_lookup, o)
                 : rd_store_lookup_call(cb->cfg.store, o->st.call_id, on_lookup, o);
    if (rc != 0) {
        o->err = rc;
        finish(o, R_ERROR);
    }
}

/* ------------------------------------------------------------------ */
/* HTTP route                                                           */

static void forged(rd_callbacks_t *cb, rd_http_req_t *req, const char *why, const char *prov) {
    cb->stats.forged++;
    rd_log(RD_LOG_WARN, "callback.forged", "provider", prov, "why", why, NULL);
    rd_http_respond_error(req, 403, "forbidden");
}

bool rd_callbacks_route(rd_callbacks_t *cb, rd_http_req_t *req) {
    static const char prefix[] = "/callbacks/";
    size_t pl = sizeof prefix - 1;
    if (req->path_len < pl || memcmp(req->path, prefix, pl) != 0) return false;
    cb->stats.received++;
    const char *p = req->path + pl, *end = req->path + req->path_len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    rd_prov_t prov;
    if (!slash || rd_prov_parse(p, (size_t)(slash - p), &prov) != 0) {
        cb->stats.bad++;
        rd_http_respond_error(req, 404, "unknown callback provider");
        return true;
    }
    const char *tok = slash + 1;
    size_t tlen = (size_t)(end - tok);
    if (strcmp(req->method, "POST") != 0) {
        cb->stats.bad++;
        static const char body[] = "{\"error\":\"method not allowed\"}";
        rd_http_respond(req, 405, "application/json", "Allow: POST\r\n", body, sizeof body - 1);
        return true;
    }
    if (!rd_secret_equal(tok, tlen, cb->secret, cb->secret_len)) {
        forged(cb, req, "token", rd_prov_name(prov));
        return true;
    }
    if (prov == RD_PROV_TWILIO) {
        const char *sig = rd_http_header(req, "X-Twilio-Signature");
        char url[2048];
        if (!cb->twilio_token || !sig ||
            rd_fmt(url, sizeof url, "%s%s", cb->public_url, req->url) != 0 ||
            !rd_twilio_signature_ok(cb->twilio_token, url, strlen(url), req->body, req->body_len,
                                    sig, strlen(sig))) {
            forged(cb, req, "signature", "twilio");
            return true;
        }
    }
    op_t *o = op_new(cb, OP_HTTP);
    o->req = req;
    int rc = rd_callback_parse(prov, rd_http_header(req, "Content-Type"), req->body, req->body_len,
                               req->query, req->query_len, &o->st);
    if (rc != 0) {
        cb->stats.bad++;
        op_free(o);
        rd_http_respond_error(req, 400, "malformed status callback");
        return true;
    }
    if (!o->st.terminal) {
        finish(o, R_IGNORED);
        return true;
    }
    settle_status(o);
    return true;
}

/* ------------------------------------------------------------------ */
/* poller                                                               */

static void on_poll_done(rd_work_t *w, void *user) {
    op_t *o = user;
    rd_callbacks_t *cb = o->cb;
    rd_res_kind_t k = w->res.kind;
    int polls = (int)w->tag;
    char reason[sizeof w->res.reason];
    memcpy(reason, w->res.reason, sizeof reason);
    if (k == RD_RES_STATUS) {
        char key[RD_ATTEMPT_KEY_MAX + 1];
        memcpy(key, o->st.attempt_key, sizeof key);
        o->st = w->res.call;
        memcpy(o->st.attempt_key, key, sizeof key); /* ours, not whatever came back */
    }
    rd_pool_work_put(cb->cfg.pool, w);
    switch (k) {
    case RD_RES_STATUS:
        if (o->st.terminal) {
            settle_status(o);
            return;
        }
        if (polls >= cb->cfg.max_polls) {
            /* Give up waiting: settle as what it looks like. */
            o->st.outcome =
                strcmp(o->st.status, "in-progress") == 0 ? RD_OUT_IN_PROGRESS : RD_OUT_NO_ANSWER;
            settle_status(o);
            return;
        }
        cb->stats.poll_live++;
        finish(o, R_IGNORED);
        return;
    case RD_RES_NOTFOUND:
        o->st.outcome = RD_OUT_FAILED;
        o->st.terminal = true;
        settle_status(o);
        return;
    default:
        cb->stats.poll_transient++;
        rd_log(RD_LOG_INFO, "callback.poll_transient", "call", o->st.call_id, "reason", reason,
               NULL);
        finish(o, R_IGNORED);
        return;
    }
}

int rd_callbacks_poll(rd_callbacks_t *cb, const rd_store_job_t *job) {
    if (!cb->cfg.pool || !job->call_id[0] || job->token == 0) return RD_EINVAL;
    const rd_campaign_t *c = rd_ccache_peek(cb->campaigns, job->campaign);
    rd_prov_t prov = cb->cfg.default_provider;
    if (c && c->provider) rd_prov_parse(c->provider, strlen(c->provider), &prov);
    int account = cb->cfg.poll_account[prov];
    if (account < 0) return RD_EINVAL;
    size_t idlen = strlen(job->call_id);
    if (idlen > RD_CALL_ID_MAX) return RD_EINVAL;

    op_t *o = op_new(cb, OP_POLL);
    if (rd_attempt_key_format(o->st.attempt_key, sizeof o->st.attempt_key, job->campaign,
                              job->token) != 0) {
        op_free(o);
        return RD_EINVAL;
    }
    memcpy(o->st.call_id, job->call_id, idlen + 1);
    o->st.provider = prov;
    rd_work_t *w = rd_pool_work_get(cb->cfg.pool);
    w->kind = RD_WORK_POLL;
    w->account = (uint32_t)account;
    snprintf(w->campaign, sizeof w->campaign, "%s", job->campaign);
    memcpy(w->call_id, job->call_id, idlen + 1);
    w->tag = (uint64_t)(job->polls > 0 ? job->polls : 1);
    w->user = o;
    w->done = on_poll_done;
    int rc = rd_pool_submit(cb->cfg.pool, w);
    if (rc != 0) {
        rd_pool_work_put(cb->cfg.pool, w);
        op_free(o);
        return rc;
    }
    cb->stats.polls++;
    return 0;
}

int rd_callbacks_settle(rd_callbacks_t *cb, const char *attempt_key, rd_outcome_t outcome,
                        rd_answered_by_t answered_by, void (*done)(void *arg, int status),
                        void *arg) {
    size_t n = strlen(attempt_key);
    if (rd_attempt_key_parse(attempt_key, n, NULL, 0, NULL) != 0 || n > RD_ATTEMPT_KEY_MAX ||
        (unsigned)outcome >= RD_OUT__COUNT)
        return RD_EINVAL;
    op_t *o = op_new(cb, OP_DIRECT);
    memcpy(o->st.attempt_key, attempt_key, n + 1);
    o->st.outcome = outcome;
    o->st.terminal = true;
    o->st.answered_by = answered_by;
    o->done = done;
    o->done_arg = arg;
    settle_status(o);
    return 0;
}
