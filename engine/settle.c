/*
 * settle.c — outcome -> policy -> fenced settle (contract in settle.h).
 *
 * Design:
 * - One chain, one `op` per settle (pooled): [lookup] -> campaign -> policy
 *   -> rd_store_settle -> finish. rd_settle_job enters after the lookup with
 *   the caller's job; rd_settle_find enters before it.
 * - The job is borrowed; only when the campaign is not cached (a load must
 *   run first) is it copied (rd_store_job_dup).
 * - The held job goes to rd_store_settle as st.job: the store prepares the
 *   new record on the engine side and Redis only compares-and-sets, falling
 *   back to the full settle when anything changed since the job was read.
 *   So a held job that went stale is still settled right, or fenced.
 * - The SMS decision (rd_sms_due) is made with the policy; the SMS itself
 *   goes out only once this settle won the fence.
 * - The engine's own live attempts (engine/attempts.h) are held here, from
 *   claim to settle: a callback routed back to the engine that dialed (its
 *   own callback URL) settles with the held job and asks Redis nothing
 *   first; another engine, or this one after a restart, looks it up.
 */
#include "engine/settle.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "engine/attempts.h"
#include "engine/sms.h"
#include "proto/campaign.h"
#include "proto/rd.h"
#include "proto/tz.h"

typedef struct op {
    rd_settle_t *s;
    rd_call_status_t st; /* what we learned */
    const char *via;     /* static string */
    rd_settle_done_fn done;
    void *arg;
    uint64_t start_ns;   /* uv_hrtime() at op_new */
    rd_store_job_t *job; /* owned copy while the campaign loads */
    uint64_t token;      /* the lease settled (0 until the job is known) */
    /* Set when this attempt is the job's sms_fallback.after_attempts-th
       unanswered one: the SMS goes out if (and only if) our settle wins. */
    const rd_campaign_t *sms_campaign;
    char sms_to[RD_E164_MAX + 1];
    char sms_job[sizeof(((rd_store_job_t *)0)->id)];
    struct op *next_free;
    bool check_provider; /* a provider callback: its provider must be the attempt's */
} op_t;

struct rd_settle {
    rd_settle_cfg_t cfg;
    rd_ccache_t *campaigns;
    bool own_campaigns;
    op_t *free_ops;
    rd_settle_stats_t stats;
    rd_hist_t settle_hist; /* settle started -> applied (status 0) */
    rd_attempts_t *held;
};

/* Held attempts at most: campaign concurrency live at once, summed (each ~2 KiB). */
#define HELD_MAX 16384

int rd_settle_create(const rd_settle_cfg_t *cfg, rd_settle_t **out) {
    *out = NULL;
    if (!cfg->store || !cfg->clock) return RD_EINVAL;
    rd_settle_t *s = rd_calloc(1, sizeof *s);
    s->cfg = *cfg;
    s->campaigns = cfg->campaigns;
    if (!s->campaigns) {
        s->campaigns = rd_ccache_create(cfg->store);
        s->own_campaigns = true;
    }
    rd_attempts_create(HELD_MAX, &s->held);
    *out = s;
    return 0;
}

void rd_settle_destroy(rd_settle_t *s) {
    if (!s) return;
    if (s->own_campaigns) rd_ccache_destroy(s->campaigns);
    rd_attempts_destroy(s->held);
    while (s->free_ops) {
        op_t *o = s->free_ops;
        s->free_ops = o->next_free;
        rd_free(o);
    }
    rd_free(s);
}

rd_ccache_t *rd_settle_campaigns(rd_settle_t *s) { return s->campaigns; }

void rd_settle_stats(const rd_settle_t *s, rd_settle_stats_t *out) { *out = s->stats; }

const rd_hist_t *rd_settle_hist(const rd_settle_t *s) { return &s->settle_hist; }

/* ---- ops ------------------------------------------------------------------ */

static op_t *op_new(rd_settle_t *s, const rd_call_status_t *st, const char *via,
                    rd_settle_done_fn done, void *arg) {
    op_t *o = s->free_ops;
    if (o)
        s->free_ops = o->next_free;
    else
        o = rd_malloc(sizeof *o);
    memset(o, 0, sizeof *o);
    o->s = s;
    o->st = *st;
    o->via = via ? via : "engine";
    o->done = done;
    o->arg = arg;
    o->start_ns = uv_hrtime();
    return o;
}

/* Counts, logs, answers the caller, recycles the op. */
static void finish(op_t *o, int status) {
    rd_settle_t *s = o->s;
    if (status == 0) {
        s->stats.settled++;
        rd_hist_observe(&s->settle_hist, uv_hrtime() - o->start_ns);
        rd_log(RD_LOG_DEBUG, "callback.settled", "call", o->st.call_id, "attempt",
               o->st.attempt_key, "outcome", rd_outcome_name(o->st.outcome), "via", o->via, NULL);
    } else if (status == RD_ESTALE) {
        s->stats.duplicates++;
    } else if (status == RD_ENOTFOUND) {
        s->stats.not_found++;
    } else {
        s->stats.errors++;
        rd_log(RD_LOG_WARN, "callback.settle_failed", "call", o->st.call_id, "attempt",
               o->st.attempt_key, "error", rd_err_name(status), NULL);
    }
    /* Settled, fenced or gone: this engine's copy is of no further use. */
    if (o->token && (status == 0 || status == RD_ESTALE || status == RD_ENOTFOUND))
        rd_attempts_drop(s->held, o->token);
    rd_settle_done_fn done = o->done;
    void *arg = o->arg;
    rd_store_job_free(o->job);
    o->job = NULL;
    o->next_free = s->free_ops;
    s->free_ops = o;
    if (done) done(arg, status);
}

/* ---- policy + settle ---------------------------------------------------------- */

static void on_settled(rd_store_t *store, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)store;
    op_t *o = arg;
    rd_settle_t *s = o->s;
    /* The settle is fenced: exactly one settle of this attempt reaches here
       with status 0, across all engines, so the SMS goes out at most once. */
    if (status == 0 && o->sms_campaign && s->cfg.sms_fallback &&
        (!r->final || r->disposition == RD_DISP_UNREACHABLE))
        s->cfg.sms_fallback(s->cfg.hook_ctx, o->sms_campaign, o->sms_to, o->sms_job);
    if (status == 0 && s->cfg.settled) s->cfg.settled(s->cfg.hook_ctx);
    finish(o, status);
}

/* The settle request for the decision d taken at `now`. */
static void settle_req(const op_t *o, const rd_store_job_t *job, const rd_policy_ctx_t *ctx,
                       const rd_decision_t *d, int64_t now, rd_store_settle_t *st) {
    memset(st, 0, sizeof *st);
    st->campaign = job->campaign;
    st->token = job->token;
    st->outcome = o->st.outcome;
    st->answered_by = o->st.answered_by;
    st->call_id = o->st.call_id[0] ? o->st.call_id : NULL;
    /* The provider's end time only when it is plausible policy time (the
       simulator shares our clock; a real provider under --time-scale 1 too). */
    st->ended_ms = o->st.end_ms >= job->lease_start_ms && o->st.end_ms <= now ? o->st.end_ms : now;
    st->now_ms = now;
    st->decision = *d;
    st->hour_of_week = -1;
    if (ctx->tz) {
        rd_localtime_t lt;
        rd_tz_local(ctx->tz, job->lease_start_ms, &lt);
        st->hour_of_week = lt.wday * 24 + lt.hour;
    }
    st->answered = (o->st.outcome == RD_OUT_COMPLETED || o->st.outcome == RD_OUT_IN_PROGRESS) &&
                   o->st.answered_by != RD_ANSWERED_MACHINE;
    /* The held job: the store builds the record and events here, not in Redis. */
    st->job = job;
}

/* Wall ms before a job whose agent did not answer is dialed again. */
#define AGENT_RETRY_WALL_MS 5000

static void on_agent_released(rd_store_t *store, int status, void *arg) {
    (void)store;
    finish(arg, status);
}

/* Agent mode rings the agent first (exotel Connect Two Numbers: Legs[0];
   twilio: the call we place, whose TwiML dials the customer): when that
   leg did not answer, the customer was never rung — not their attempt. */
static bool agent_unanswered(const rd_campaign_t *c, const rd_call_status_t *st) {
    return c->mode == RD_MODE_AGENT && !st->customer_leg &&
           (st->first_leg == RD_OUT_BUSY || st->first_leg == RD_OUT_NO_ANSWER ||
            st->first_leg == RD_OUT_FAILED || st->first_leg == RD_OUT_CANCELED);
}

/* Twilio agent mode: the agent's leg ended after talking; the customer's
   outcome is its own leg's callback (a poll has no such leg: it settles). */
static bool agent_leg_only(const op_t *o, const rd_campaign_t *c) {
    return c->mode == RD_MODE_AGENT && o->check_provider && o->st.provider == RD_PROV_TWILIO &&
           !o->st.customer_leg;
}

static void decide_and_settle(op_t *o, const rd_store_job_t *job, const rd_campaign_t *c) {
    rd_settle_t *s = o->s;
    if (o->check_provider) {
        /* The provider the attempt was placed with is its campaign's. */
        rd_prov_t want = s->cfg.default_provider;
        if (c->provider && rd_prov_parse(c->provider, strlen(c->provider), &want) != 0)
            want = RD_PROV__COUNT;
        if (want != o->st.provider) {
            rd_log(RD_LOG_WARN, "callback.forged", "provider", rd_prov_name(o->st.provider), "why",
                   "not the provider of the attempt", NULL);
            finish(o, RD_EAUTH);
            return;
        }
    }
    int64_t now = rd_clock_now(s->cfg.clock);
    if (!agent_unanswered(c, &o->st) && agent_leg_only(o, c)) {
        finish(o, RD_ESTALE);
        return;
    }
    if (agent_unanswered(c, &o->st)) {
        /* Requeued shortly, not charged (no history, no caps, no event). */
        const char *agent = rd_agent_hold_agent(c, job);
        rd_log(RD_LOG_INFO, "attempt.agent_unanswered", "campaign", job->campaign, "job", job->id,
               "agent_leg", rd_outcome_name(o->st.first_leg), "agent", agent, NULL);
        if (s->cfg.agent_hold)
            rd_agent_hold_mark(s->cfg.agent_hold, agent,
                               now + rd_clock_policy_ms(s->cfg.clock, RD_AGENT_HOLD_WALL_MS));
        int rc = rd_store_release(s->cfg.store, job->campaign, job->token,
                                  now + rd_clock_policy_ms(s->cfg.clock, AGENT_RETRY_WALL_MS), now,
                                  on_agent_released, o);
        if (rc != 0) finish(o, rc);
        return;
    }
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
    if (!ctx.tz) { /* zone unreadable now: settle later (503 / next poll), never on another clock */
        finish(o, RD_ETRANSIENT);
        return;
    }
    ctx.num_attempts_ms = job->num_attempts_ms;
    ctx.n_num_attempts = job->n_num_attempts;
    ctx.jitter_seed = rd_policy_seed(job->campaign, job->to, (int)n + 1);
    if (c->strategy == RD_STRAT_SMART && s->cfg.smart_stats)
        ctx.smart = s->cfg.smart_stats(s->cfg.hook_ctx, job->campaign);
    rd_decision_t d;
    rd_policy_next(&ctx, hist, n, o->st.answered_by, now, &d);
    if (rd_sms_due(c, hist, n, o->st.answered_by)) {
        o->sms_campaign = c;
        snprintf(o->sms_to, sizeof o->sms_to, "%s", job->to);
        snprintf(o->sms_job, sizeof o->sms_job, "%s", job->id);
    }
    rd_store_settle_t st;
    settle_req(o, job, &ctx, &d, now, &st);
    int rc = rd_store_settle(s->cfg.store, &st, on_settled, o);
    if (rc != 0) finish(o, rc);
}

static void on_campaign(int status, const rd_campaign_t *c, void *arg) {
    op_t *o = arg;
    if (status != 0 || !c) {
        /* A store error, not "no such attempt": the caller should retry. */
        finish(o, status && status != RD_ENOTFOUND ? status : RD_EIO);
        return;
    }
    decide_and_settle(o, o->job, c);
}

/* Step 2 onwards with the job in hand. */
static void settle_held(op_t *o, const rd_store_job_t *job) {
    o->token = job->token;
    bool live = job->state == RD_JOB_CLAIMED || job->state == RD_JOB_PLACED;
    /* A different recorded call id: the status is about another call of this job. */
    bool other_call =
        job->call_id[0] && o->st.call_id[0] && strcmp(job->call_id, o->st.call_id) != 0;
    if (!live || other_call) {
        finish(o, RD_ESTALE);
        return;
    }
    const rd_campaign_t *c = rd_ccache_peek(o->s->campaigns, job->campaign);
    if (c) {
        decide_and_settle(o, job, c);
        return;
    }
    o->job = rd_store_job_dup(job);
    if (!o->job) {
        finish(o, RD_ENOMEM);
        return;
    }
    rd_ccache_get(o->s->campaigns, job->campaign, on_campaign, o);
}

void rd_settle_job(rd_settle_t *s, const rd_store_job_t *job, const rd_call_status_t *st,
                   const char *via, rd_settle_done_fn done, void *arg) {
    settle_held(op_new(s, st, via, done, arg), job);
}

static void on_lookup(rd_store_t *store, int status, const rd_store_job_t *job, void *arg) {
    (void)store;
    op_t *o = arg;
    if (status != 0) {
        finish(o, status);
        return;
    }
    settle_held(o, job);
}

int rd_settle_find(rd_settle_t *s, const rd_call_status_t *st, const char *via,
                   rd_settle_done_fn done, void *arg) {
    size_t kl = strnlen(st->attempt_key, sizeof st->attempt_key);
    if (kl ? rd_attempt_key_parse(st->attempt_key, kl, NULL, 0, NULL) != 0 : !st->call_id[0])
        return RD_EINVAL;
    op_t *o = op_new(s, st, via, done, arg);
    o->check_provider = true;
    if (kl) {
        char campaign[RD_CAMPAIGN_NAME_MAX + 1];
        uint64_t tok;
        const rd_store_job_t *h =
            rd_attempt_key_parse(st->attempt_key, kl, campaign, sizeof campaign, &tok) == 0
                ? rd_attempts_get(s->held, campaign, tok)
                : NULL;
        if (h) {
            s->stats.held++;
            settle_held(o, h);
            return 0;
        }
    }
    s->stats.lookups++;
    int rc = kl ? rd_store_lookup_attempt(s->cfg.store, o->st.attempt_key, on_lookup, o)
                : rd_store_lookup_call(s->cfg.store, o->st.call_id, on_lookup, o);
    if (rc != 0) finish(o, rc);
    return 0;
}

/* ---- held attempts ------------------------------------------------------------ */

void rd_settle_hold(rd_settle_t *s, const rd_store_job_t *job) { rd_attempts_put(s->held, job); }

void rd_settle_placed(rd_settle_t *s, uint64_t token, const char *call_id, int64_t deadline_ms) {
    rd_attempts_placed(s->held, token, call_id, deadline_ms);
}

void rd_settle_forget(rd_settle_t *s, uint64_t token) { rd_attempts_drop(s->held, token); }

const rd_store_job_t *rd_settle_held(rd_settle_t *s, const char *campaign, uint64_t token) {
    return rd_attempts_get(s->held, campaign, token);
}
