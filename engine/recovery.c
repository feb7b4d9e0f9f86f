/*
 * recovery.c — expired leases -> requeue or status poll -> settle
 * (contract in recovery.h).
 *
 * Design:
 * - The recover timer runs rd_store_recover at most once at a time; it also
 *   gives the SMS stage its tick (held SMS whose time came, engine/sms.h).
 * - A poll keeps its own copy of the recovered job for the minutes the
 *   provider may take to answer, and settles with it (rd_settle_job): the
 *   store's compare-and-set makes a copy that went stale meanwhile safe
 *   (settled from Redis's record, or fenced as a duplicate).
 */
#include "engine/recovery.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "engine/dispatch.h"
#include "engine/server_int.h"
#include "engine/sms.h"
#include "proto/rd.h"

#define RECOVER_MS 500 /* wall */
#define POLL_LEASE_WALL_MS 30000
#define RECOVER_MAX 200 /* leases per recover call */

struct rd_recovery {
    rd_recovery_cfg_t cfg;
    rd_recovery_stats_t stats;
};

typedef struct poll_op {
    rd_recovery_t *r;
    rd_store_job_t *job; /* owned */
    rd_call_status_t st;
} poll_op_t;

void rd_recovery_cfg_init(rd_recovery_cfg_t *c) {
    memset(c, 0, sizeof *c);
    for (int i = 0; i < RD_PROV__COUNT; i++) c->poll_account[i] = -1;
    c->default_provider = RD_PROV_EXOTEL;
    c->max_polls = 10;
}

int rd_recovery_create(const rd_recovery_cfg_t *cfg, rd_recovery_t **out) {
    *out = NULL;
    if (!cfg->settle || !cfg->pool) return RD_EINVAL;
    rd_recovery_t *r = rd_calloc(1, sizeof *r);
    r->cfg = *cfg;
    if (r->cfg.max_polls <= 0) r->cfg.max_polls = 10;
    *out = r;
    return 0;
}

void rd_recovery_destroy(rd_recovery_t *r) { rd_free(r); }

void rd_recovery_stats(const rd_recovery_t *r, rd_recovery_stats_t *out) { *out = r->stats; }

/* ---- the status poller ------------------------------------------------------- */

static void poll_op_free(poll_op_t *o) {
    rd_store_job_free(o->job);
    rd_free(o);
}

static void on_poll_settled(void *arg, int status) {
    poll_op_t *o = arg;
    if (status == 0) o->r->stats.poll_settled++;
    poll_op_free(o);
}

static void on_poll_done(rd_work_t *w, void *user) {
    poll_op_t *o = user;
    rd_recovery_t *r = o->r;
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
    rd_pool_work_put(r->cfg.pool, w);
    if (k == RD_RES_STATUS && !o->st.terminal && polls < r->cfg.max_polls) {
        r->stats.poll_live++;
        poll_op_free(o);
        return;
    }
    if (k == RD_RES_STATUS && !o->st.terminal) /* give up waiting: settle as what it looks like */
        o->st.outcome =
            strcmp(o->st.status, "in-progress") == 0 ? RD_OUT_IN_PROGRESS : RD_OUT_NO_ANSWER;
    if (k == RD_RES_NOTFOUND) {
        o->st.outcome = RD_OUT_FAILED;
        o->st.terminal = true;
    }
    if (k != RD_RES_STATUS && k != RD_RES_NOTFOUND) {
        r->stats.poll_transient++;
        rd_log(RD_LOG_INFO, "callback.poll_transient", "call", o->st.call_id, "reason", reason,
               NULL);
        poll_op_free(o);
        return;
    }
    rd_settle_job(r->cfg.settle, o->job, &o->st, "poll", on_poll_settled, o);
}

/* An op holding a copy of the recovered job and its attempt key; NULL on failure. */
static poll_op_t *poll_op_new(rd_recovery_t *r, const rd_store_job_t *job) {
    poll_op_t *o = rd_calloc(1, sizeof *o);
    o->r = r;
    if (rd_attempt_key_format(o->st.attempt_key, sizeof o->st.attempt_key, job->campaign,
                              job->token) != 0 ||
        !(o->job = rd_store_job_dup(job))) {
        poll_op_free(o);
        return NULL;
    }
    return o;
}

int rd_recovery_poll(rd_recovery_t *r, const rd_store_job_t *job) {
    if (job->token == 0) return RD_EINVAL;
    if (!job->call_id[0]) {
        /* Placed with an unknown call id (a dial reply we could not read)
           and no callback within the grace: nothing to poll; `failed`. */
        poll_op_t *o = poll_op_new(r, job);
        if (!o) return RD_EINVAL;
        o->st.provider = r->cfg.default_provider;
        o->st.outcome = RD_OUT_FAILED;
        o->st.terminal = true;
        o->st.duration_s = -1;
        rd_log(RD_LOG_INFO, "lease.unknown_call_failed", "campaign", job->campaign, "job", job->id,
               NULL);
        rd_settle_job(r->cfg.settle, o->job, &o->st, "grace", on_poll_settled, o);
        return 0;
    }
    const rd_campaign_t *c = rd_ccache_peek(rd_settle_campaigns(r->cfg.settle), job->campaign);
    rd_prov_t prov = r->cfg.default_provider;
    if (c && c->provider) rd_prov_parse(c->provider, strlen(c->provider), &prov);
    int account = r->cfg.poll_account[prov];
    size_t idlen = strlen(job->call_id);
    if (account < 0 || idlen > RD_CALL_ID_MAX) return RD_EINVAL;

    poll_op_t *o = poll_op_new(r, job);
    if (!o) return RD_EINVAL;
    memcpy(o->st.call_id, job->call_id, idlen + 1);
    o->st.provider = prov;
    rd_work_t *w = rd_pool_work_get(r->cfg.pool);
    w->kind = RD_WORK_POLL;
    w->account = (uint32_t)account;
    snprintf(w->campaign, sizeof w->campaign, "%s", job->campaign);
    memcpy(w->call_id, job->call_id, idlen + 1);
    w->tag = (uint64_t)(job->polls > 0 ? job->polls : 1);
    w->user = o;
    w->done = on_poll_done;
    int rc = rd_pool_submit(r->cfg.pool, w);
    if (rc != 0) {
        rd_pool_work_put(r->cfg.pool, w);
        poll_op_free(o);
        return rc;
    }
    r->stats.polls++;
    return 0;
}

/* ---- the recovery loop ---------------------------------------------------------- */

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
            rd_dispatch_kick(srv, 0);
        }
        for (size_t i = 0; i < r->n_poll && !srv->stopping; i++) {
            rd_count(srv->ctr, RD_M_POLLS, 1);
            if (rd_recovery_poll(srv->recovery, &r->poll[i]) != 0)
                rd_log(RD_LOG_WARN, "poll.skipped", "campaign", r->poll[i].campaign, "job",
                       r->poll[i].id, NULL);
        }
    } else {
        rd_count(srv->ctr, RD_M_REDIS_ERRORS, 1);
    }
    rd_server__maybe_stopped(srv);
}

static void on_recover_timer(uv_timer_t *t) {
    rd_server_t *srv = t->data;
    if (srv->stopping) return;
    rd_sms_tick(srv, false);
    if (srv->recover_busy) return;
    srv->recover_busy = true;
    srv->ops++;
    int rc =
        rd_store_recover(srv->store, rd_clock_now(&srv->clock), RECOVER_MAX,
                         rd_clock_policy_ms(&srv->clock, POLL_LEASE_WALL_MS), on_recovered, srv);
    if (rc != 0) on_recovered(srv->store, rc, NULL, srv);
}

void rd_recovery_start(rd_server_t *srv) {
    uv_timer_init(srv->loop, &srv->recover_timer);
    srv->recover_timer.data = srv;
    uv_timer_start(&srv->recover_timer, on_recover_timer, RECOVER_MS, RECOVER_MS);
}
