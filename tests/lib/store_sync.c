/*
 * store_sync.c — blocking wrappers over the async store, for tests and
 * tools (see the header). Each wrapper keeps its result in a stack "waiter"
 * and spins the loop with UV_RUN_ONCE until the callback marked it done.
 */
#include "tests/lib/store_sync.h"

#include "proto/rd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct waiter {
    bool done;
    int rc;
    int64_t n;
    rd_enq_result_t enq;
    rd_store_settle_res_t settle;
    rd_store_job_t *job;
    ts_jobs_t *jobs;
    rd_store_stats_t *stats;
    rd_store_campaign_t *camp;
} waiter_t;

static void spin(uv_loop_t *loop, waiter_t *w, int rc) {
    if (rc < 0) {
        w->rc = rc;
        return;
    }
    while (!w->done) uv_run(loop, UV_RUN_ONCE);
}

void ts_jobs_free(ts_jobs_t *j) {
    for (size_t i = 0; i < j->n; i++) rd_store_job_free(j->v[i]);
    rd_free(j->v);
    memset(j, 0, sizeof(*j));
}

rd_store_t *ts_store(uv_loop_t *loop, const char *url, const char *prefix, const char *bucket,
                     double rate, double burst) {
    rd_store_opts_t o;
    rd_store_opts_init(&o);
    o.url = url;
    o.prefix = prefix;
    o.bucket = bucket;
    o.bucket_rate = rate;
    o.bucket_burst = burst;
    o.cmd_timeout_ms = 3000;
    rd_store_t *s = NULL;
    if (rd_store_create(loop, &o, &s) < 0) {
        fprintf(stderr, "ts_store: cannot create store for %s\n", url);
        abort();
    }
    return s;
}

static void on_closed(void *arg) { *(bool *)arg = true; }

void ts_close(rd_store_t *s, uv_loop_t *loop) {
    bool done = false;
    rd_store_close(s, on_closed, &done);
    while (!done) uv_run(loop, UV_RUN_ONCE);
    uv_run(loop, UV_RUN_NOWAIT);
}

static void cb_plain(rd_store_t *s, int status, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    w->done = true;
}

int ts_campaign(rd_store_t *s, uv_loop_t *loop, const char *json, int64_t now) {
    rd_campaign_t c;
    char err[256];
    if (rd_campaign_parse(json, strlen(json), &c, err, sizeof(err)) < 0) {
        fprintf(stderr, "ts_campaign: %s\n", err);
        return RD_EINVAL;
    }
    waiter_t w = {0};
    spin(loop, &w, rd_store_campaign_create(s, &c, now, cb_plain, &w));
    rd_campaign_deinit(&c);
    return w.rc;
}

static void cb_enq(rd_store_t *s, int status, rd_enq_result_t r, const char *id, void *arg) {
    (void)s;
    (void)id;
    waiter_t *w = arg;
    w->rc = status;
    w->enq = r;
    w->done = true;
}

int ts_enqueue(rd_store_t *s, uv_loop_t *loop, const char *camp, const char *to, const char *id,
               int64_t due, int64_t now, rd_enq_result_t *res) {
    rd_store_enqueue_t e = {.campaign = camp, .to = to, .id = id, .due_ms = due};
    waiter_t w = {0};
    spin(loop, &w, rd_store_enqueue(s, &e, now, cb_enq, &w));
    if (res) *res = w.enq;
    return w.rc;
}

static void copy_jobs(ts_jobs_t *out, const rd_store_job_t *jobs, size_t n) {
    out->v = rd_calloc(n ? n : 1, sizeof(*out->v));
    for (size_t i = 0; i < n; i++) out->v[i] = rd_store_job_dup(&jobs[i]);
    out->n = n;
}

static void cb_claim(rd_store_t *s, int status, const rd_store_claim_res_t *r, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (status == 0) {
        copy_jobs(w->jobs, r->jobs, r->n);
        w->jobs->finished = r->finished;
        w->jobs->deferred = r->deferred;
        w->jobs->next_due_ms = r->next_due_ms;
        w->jobs->bucket_wait_ms = r->bucket_wait_ms;
        w->jobs->pinned = r->pinned_elsewhere;
    }
    w->done = true;
}

int ts_claim(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t lease_ms,
             ts_jobs_t *out) {
    return ts_claim_for(s, loop, now, max, lease_ms, NULL, out);
}

int ts_claim_for(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t lease_ms,
                 const char *provider, ts_jobs_t *out) {
    memset(out, 0, sizeof(*out));
    rd_store_claim_req_t req = {.now_ms = now,
                                .max_jobs = max,
                                .lease_ms = lease_ms,
                                .lock_retry_ms = 30000,
                                .engine = "test",
                                .provider = provider};
    waiter_t w = {.jobs = out};
    spin(loop, &w, rd_store_claim(s, &req, cb_claim, &w));
    return w.rc;
}

int ts_placed(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, const char *cid,
              int64_t deadline) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_placed(s, camp, tok, cid, deadline, cb_plain, &w));
    return w.rc;
}

int ts_release(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, int64_t due,
               int64_t now) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_release(s, camp, tok, due, now, cb_plain, &w));
    return w.rc;
}

static void cb_settle(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (r) w->settle = *r;
    w->done = true;
}

int ts_settle(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, rd_outcome_t o,
              bool final, rd_disposition_t d, int64_t due, int64_t now,
              rd_store_settle_res_t *res) {
    rd_store_settle_t st = {.campaign = camp,
                            .token = tok,
                            .outcome = o,
                            .ended_ms = now,
                            .now_ms = now,
                            .hour_of_week = 10,
                            .answered = o == RD_OUT_COMPLETED};
    st.decision.final = final;
    st.decision.disposition = d;
    st.decision.due_ms = due;
    waiter_t w = {0};
    spin(loop, &w, rd_store_settle(s, &st, cb_settle, &w));
    if (res) *res = w.settle;
    return w.rc;
}

int ts_settle_job(rd_store_t *s, uv_loop_t *loop, const rd_store_job_t *job, rd_outcome_t o,
                  bool final, rd_disposition_t d, int64_t due, int64_t now,
                  rd_store_settle_res_t *res) {
    rd_store_settle_t st = {.campaign = job->campaign,
                            .token = job->token,
                            .outcome = o,
                            .ended_ms = now,
                            .now_ms = now,
                            .hour_of_week = 10,
                            .answered = o == RD_OUT_COMPLETED,
                            .job = job};
    st.decision.final = final;
    st.decision.disposition = d;
    st.decision.due_ms = due;
    waiter_t w = {0};
    spin(loop, &w, rd_store_settle(s, &st, cb_settle, &w));
    if (res) *res = w.settle;
    return w.rc;
}

static void cb_job(rd_store_t *s, int status, const rd_store_job_t *j, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (j) w->job = rd_store_job_dup(j);
    w->done = true;
}

int ts_lookup(rd_store_t *s, uv_loop_t *loop, char mode, const char *key, rd_store_job_t **out) {
    waiter_t w = {0};
    int rc = mode == 'a'   ? rd_store_lookup_attempt(s, key, cb_job, &w)
             : mode == 'c' ? rd_store_lookup_call(s, key, cb_job, &w)
                           : rd_store_job_show(s, key, cb_job, &w);
    spin(loop, &w, rc);
    *out = w.job;
    return w.rc;
}

static void cb_recover(rd_store_t *s, int status, const rd_store_recover_res_t *r, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (status == 0) {
        copy_jobs(w->jobs, r->poll, r->n_poll);
        w->jobs->requeued = r->requeued;
        w->jobs->next_due_ms = r->next_deadline_ms;
    }
    w->done = true;
}

int ts_recover(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t poll_ms,
               ts_jobs_t *out) {
    memset(out, 0, sizeof(*out));
    waiter_t w = {.jobs = out};
    spin(loop, &w, rd_store_recover(s, now, max, poll_ms, cb_recover, &w));
    return w.rc;
}

int ts_state(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_camp_state_t st, int64_t now) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_campaign_set_state(s, camp, st, now, cb_plain, &w));
    return w.rc;
}

static void cb_count(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    w->n = n;
    w->done = true;
}

int ts_optout(rd_store_t *s, uv_loop_t *loop, const char *num, int64_t now, int64_t *n) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_optout(s, num, now, cb_count, &w));
    if (n) *n = w.n;
    return w.rc;
}

int ts_dnd(rd_store_t *s, uv_loop_t *loop, const char *num) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_dnd_add(s, &num, 1, cb_count, &w));
    return w.rc;
}

int ts_pool(rd_store_t *s, uv_loop_t *loop, const char *pool, int64_t cap) {
    waiter_t w = {0};
    spin(loop, &w, rd_store_pool_set(s, pool, cap, cb_plain, &w));
    return w.rc;
}

static void cb_stats(rd_store_t *s, int status, const rd_store_stats_t *st, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (st) *w->stats = *st;
    w->done = true;
}

int ts_stats(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_store_stats_t *out) {
    memset(out, 0, sizeof(*out));
    waiter_t w = {.stats = out};
    spin(loop, &w, rd_store_stats(s, camp, cb_stats, &w));
    return w.rc;
}

static void cb_camp(rd_store_t *s, int status, const rd_store_campaign_t *c, void *arg) {
    (void)s;
    waiter_t *w = arg;
    w->rc = status;
    if (c) {
        *w->camp = *c;
        w->camp->json = NULL; /* borrowed: not kept */
    }
    w->done = true;
}

int ts_campaign_get(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_store_campaign_t *out) {
    memset(out, 0, sizeof(*out));
    waiter_t w = {.camp = out};
    spin(loop, &w, rd_store_campaign_get(s, camp, cb_camp, &w));
    return w.rc;
}
