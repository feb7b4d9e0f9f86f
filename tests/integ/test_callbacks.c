/*
 * Integration tests of the settle stage and what feeds it (engine/settle.h,
 * engine/callback_route.h, engine/recovery.h's poller): real redis-server
 * (store), real HTTP (common/httpd + libcurl clients), real provider
 * simulator (redial-sim in-process on the test loop) for the poller.
 *
 *   - exotel callbacks: forged token -> 403 and nothing changes; bad body ->
 *     400; a terminal callback settles once; its duplicate and a late,
 *     reordered one settle nothing;
 *   - twilio callbacks: non-terminal events acknowledged and ignored; a bad
 *     or missing X-Twilio-Signature -> 403 and nothing changes; a signed
 *     terminal callback settles (answered by a human -> connected);
 *   - settle of a refused dial with the claimed job (invalid number ->
 *     invalid), in one Redis command: no second lookup;
 *   - a lost callback is recovered by polling the simulator and settled
 *     with the recovered job, in one Redis command: no second lookup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "engine/callback_route.h"
#include "engine/recovery.h"
#include "engine/settle.h"
#include "common/httpd.h"
#include "store/store.h"
#include "proto/callback.h"
#include "proto/cbauth.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"
#include "tests/lib/store_sync.h"
#include "workers/pool.h"

#define T0 1795860000000LL /* 2026-11-28 10:00 UTC */
#define MINUTE 60000LL
#define SECRET "cb-s3cret"
#define TWTOKEN "tw-auth-token"

typedef struct fx {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s;
    rd_clock_t clock;
    rd_httpd_t *srv;
    rd_settle_t *settle;
    rd_callback_route_t *route;
    rd_recovery_t *rec; /* sim tests */
    char base[64];
    bool srv_closed;
    /* sim tests */
    bool with_sim;
    rd_test_sim_t sim;
    rd_pool_t *pool;
    bool pool_closed;
} fx_t;

static void handler(rd_http_req_t *req, void *data) {
    fx_t *f = data;
    if (!rd_callback_route(f->route, req)) rd_http_respond_error(req, 404, "no route");
}

static void on_pool_result(rd_work_t *w, void *data) {
    /* Every item here carries its own done callback. */
    (void)data;
    rd_free(w);
}

/* Provider for the sim tests; the sim gets `sim_args` and `script`. */
static rd_prov_t sim_prov;
/* The provider the test campaign places with (settle's default), non-sim tests. */
static rd_prov_t fx_prov;
static const char *const *sim_args;
static const char *sim_script;

static int setup_common(void **state, bool with_sim) {
    fx_t *f = rd_calloc(1, sizeof *f);
    if (rd_test_redis_start(&f->redis) < 0) return -1;
    f->with_sim = with_sim;
    uv_loop_init(&f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    rd_clock_init_manual(&f->clock, T0);
    rd_httpd_config_t hc = {.host = "127.0.0.1", .handler = handler, .data = f};
    char err[128];
    if (rd_httpd_create(&f->loop, &hc, &f->srv, err, sizeof err) != 0) return -1;
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", rd_httpd_port(f->srv));
    rd_settle_cfg_t sc = {
        .store = f->s, .clock = &f->clock, .default_provider = with_sim ? sim_prov : fx_prov};
    if (rd_settle_create(&sc, &f->settle) != 0) return -1;
    rd_callback_route_cfg_t cc = {
        .settle = f->settle, .secret = SECRET, .public_url = f->base, .twilio_token = TWTOKEN};
    if (with_sim) {
        rd_test_sim_opts_t so = {.model = "uniform:busy=1",
                                 .script_json = sim_script,
                                 .time_scale = "1000",
                                 .extra_args = sim_args};
        if (rd_test_sim_start(&f->sim, &so) != 0) return -1;
        rd_account_cfg_t acc;
        rd_account_cfg_init(&acc);
        acc.kind = sim_prov;
        acc.base_url = f->sim.base;
        acc.sid = RD_TEST_PROVIDER_SID;
        acc.key = sim_prov == RD_PROV_EXOTEL ? RD_TEST_PROVIDER_KEY : NULL;
        acc.token = RD_TEST_PROVIDER_TOKEN;
        rd_pool_cfg_t pc = {.workers = 2,
                            .max_inflight = 8,
                            .accounts = &acc,
                            .n_accounts = 1,
                            .on_result = on_pool_result,
                            .data = f};
        if (rd_pool_create(&f->loop, &pc, &f->pool) != 0) return -1;
        rd_recovery_cfg_t rc;
        rd_recovery_cfg_init(&rc);
        rc.settle = f->settle;
        rc.pool = f->pool;
        rc.poll_account[sim_prov] = 0;
        rc.default_provider = sim_prov;
        if (rd_recovery_create(&rc, &f->rec) != 0) return -1;
        cc.twilio_token = RD_TEST_PROVIDER_TOKEN; /* the sim signs with its auth token */
    }
    if (rd_callback_route_create(&cc, &f->route) != 0) return -1;
    char json[512];
    snprintf(json, sizeof json,
             "{\"name\":\"cbt\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\",\"numbers\":[],"
             "\"retry\":{\"max_attempts\":3,\"interval_minutes\":60},"
             "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\","
             "\"timezone\":\"UTC\",\"jitter_seconds\":0}}");
    if (ts_campaign(f->s, &f->loop, json, T0) != 0) return -1;
    *state = f;
    return 0;
}

static int setup(void **state) {
    fx_prov = RD_PROV_EXOTEL;
    return setup_common(state, false);
}
static int setup_twilio(void **state) {
    fx_prov = RD_PROV_TWILIO;
    return setup_common(state, false);
}
static int setup_sim(void **state) { return setup_common(state, true); }

static void on_srv_closed(void *arg) { ((fx_t *)arg)->srv_closed = true; }
static void on_pool_closed(void *arg) { ((fx_t *)arg)->pool_closed = true; }

static int teardown(void **state) {
    fx_t *f = *state;
    if (f->pool) {
        rd_pool_close(f->pool, on_pool_closed, f);
        while (!f->pool_closed) uv_run(&f->loop, UV_RUN_ONCE);
    }
    if (f->with_sim) {
        char *report = NULL;
        rd_test_sim_stop(&f->sim, &report);
        assert_non_null(report);
        assert_int_equal(rd_test_report_int(report, "violations_total"), 0);
        free(report);
    }
    rd_httpd_close(f->srv, on_srv_closed, f);
    while (!f->srv_closed) uv_run(&f->loop, UV_RUN_ONCE);
    ts_close(f->s, &f->loop);
    rd_callback_route_destroy(f->route);
    rd_recovery_destroy(f->rec);
    rd_settle_destroy(f->settle);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

/* The counters of the three modules under test, as one. */
typedef struct stats {
    uint64_t received, forged, bad, ignored; /* callback route */
    uint64_t settled, duplicates, lookups;   /* settle */
    uint64_t polls, poll_settled;            /* poller */
} stats_t;

static void stats(const fx_t *f, stats_t *out) {
    rd_callback_route_stats_t r;
    rd_settle_stats_t s;
    rd_recovery_stats_t p = {0};
    rd_callback_route_stats(f->route, &r);
    rd_settle_stats(f->settle, &s);
    if (f->rec) rd_recovery_stats(f->rec, &p);
    *out = (stats_t){r.received,   r.forged,  r.bad,   r.ignored,     s.settled,
                     s.duplicates, s.lookups, p.polls, p.poll_settled};
}

/* ---- a blocking HTTP client run in the uv threadpool while the loop serves ---- */

typedef struct post {
    uv_work_t work;
    const char *url, *ctype, *body, *sig;
    long status;
    char resp[512];
    bool done;
} post_t;

static void do_post(uv_work_t *w) {
    post_t *r = w->data;
    char sig[256];
    const char *headers[] = {sig, NULL};
    if (r->sig) snprintf(sig, sizeof sig, "X-Twilio-Signature: %s", r->sig);
    rd_test_http_req_t rq = {.method = "POST",
                             .url = r->url,
                             .content_type = r->ctype,
                             .body = r->body,
                             .headers = r->sig ? headers : NULL,
                             .timeout_ms = 5000};
    rd_test_http_resp_t rs;
    long st = rd_test_http_do(&rq, &rs);
    r->status = st < 0 ? 0 : st;
    snprintf(r->resp, sizeof r->resp, "%s", rs.body ? rs.body : "");
    rd_test_http_resp_free(&rs);
}

static void after_post(uv_work_t *w, int status) { ((post_t *)w->data)->done = true; }

/* POSTs to base + path; returns the HTTP status (0 on transport failure). */
static long post(fx_t *f, const char *path, const char *ctype, const char *body, const char *sig,
                 char *resp, size_t resp_cap) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    post_t r = {.url = url, .ctype = ctype, .body = body, .sig = sig};
    r.work.data = &r;
    uv_queue_work(&f->loop, &r.work, do_post, after_post);
    while (!r.done) uv_run(&f->loop, UV_RUN_ONCE);
    if (resp) {
        size_t n = strnlen(r.resp, sizeof r.resp);
        if (n >= resp_cap) n = resp_cap - 1;
        memcpy(resp, r.resp, n);
        resp[n] = '\0';
    }
    return r.status;
}

/* The callback path the engine gives the provider for attempt cbt:<tok>: key and MAC. */
static void cb_path(char *out, size_t cap, rd_prov_t p, uint64_t tok) {
    char key[RD_ATTEMPT_KEY_MAX + 1], mac[RD_CBAUTH_LEN + 1];
    assert_int_equal(rd_attempt_key_format(key, sizeof key, "cbt", tok), 0);
    assert_int_equal(rd_cbauth_sign(SECRET, strlen(SECRET), p, key, strlen(key), mac), 0);
    snprintf(out, cap, "/callbacks/%s/" SECRET "?a=cbt%%3A%llu&h=%s", rd_prov_name(p),
             (unsigned long long)tok, mac);
}

/* ---- job helpers ---- */

static uint64_t claim_place(fx_t *f, const char *call_id, int64_t now) {
    ts_jobs_t j = {0};
    assert_int_equal(ts_claim(f->s, &f->loop, now, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    uint64_t tok = j.v[0]->token;
    ts_jobs_free(&j);
    assert_int_equal(ts_placed(f->s, &f->loop, "cbt", tok, call_id, now + 20 * MINUTE), 0);
    return tok;
}

static rd_store_job_t *show(fx_t *f, const char *id) {
    rd_store_job_t *j = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', id, &j), 0);
    assert_non_null(j);
    return j;
}

static void t_exotel(void **state) {
    fx_t *f = *state;
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "cbt", "+919876543210", "j1", T0, T0, &er), 0);
    uint64_t tok = claim_place(f, "EXO1", T0);
    char body[512], resp[512];
    snprintf(body, sizeof body,
             "{\"CallSid\":\"EXO1\",\"EventType\":\"terminal\",\"Status\":\"busy\","
             "\"CustomField\":\"cbt:%llu\",\"DateUpdated\":\"2026-11-28 15:30:20\"}",
             (unsigned long long)tok);

    char path[200];
    cb_path(path, sizeof path, RD_PROV_EXOTEL, tok);
    /* Forged token, or the secret without the attempt's MAC: 403, nothing changes. */
    assert_int_equal(
        post(f, "/callbacks/exotel/wrong-secret", "application/json", body, NULL, NULL, 0), 403);
    assert_int_equal(post(f, "/callbacks/exotel/", "application/json", body, NULL, NULL, 0), 403);
    assert_int_equal(post(f, "/callbacks/exotel/" SECRET, "application/json", body, NULL, NULL, 0),
                     403);
    rd_store_job_t *j = show(f, "j1");
    assert_int_equal(j->state, RD_JOB_PLACED);
    assert_int_equal(j->n_hist, 0);
    rd_store_job_free(j);
    /* Unknown provider, bad body. */
    assert_int_equal(post(f, "/callbacks/plivo/" SECRET, "application/json", body, NULL, NULL, 0),
                     404);
    assert_int_equal(post(f, path, "application/json", "{\"CallSid\":", NULL, NULL, 0), 400);

    /* The real one settles. */
    rd_clock_set(&f->clock, T0 + 30000);
    assert_int_equal(post(f, path, "application/json", body, NULL, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "settled"));
    j = show(f, "j1");
    assert_int_equal(j->state, RD_JOB_PENDING);
    assert_int_equal(j->n_hist, 1);
    assert_int_equal(j->hist[0].outcome, RD_OUT_BUSY);
    assert_int_equal(j->due_ms, T0 + 60 * MINUTE); /* fixed: 60 min after the attempt start */
    rd_store_job_free(j);

    /* Duplicate, then a late one with another status (form-encoded this time). */
    assert_int_equal(post(f, path, "application/json", body, NULL, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "duplicate"));
    snprintf(body, sizeof body, "CallSid=EXO1&Status=completed&CustomField=cbt%%3A%llu",
             (unsigned long long)tok);
    assert_int_equal(
        post(f, path, "application/x-www-form-urlencoded", body, NULL, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "duplicate"));
    j = show(f, "j1");
    assert_int_equal(j->n_hist, 1);
    assert_int_equal(j->hist[0].outcome, RD_OUT_BUSY);
    assert_int_equal(j->state, RD_JOB_PENDING);
    rd_store_job_free(j);

    stats_t st;
    stats(f, &st);
    assert_int_equal(st.settled, 1);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.forged, 3);
}

static void sign(const char *path_query, const char *body, char *sig, const char *base,
                 const char *token) {
    char url[512];
    snprintf(url, sizeof url, "%s%s", base, path_query);
    assert_int_equal(rd_twilio_signature(token, url, strlen(url), body, strlen(body), sig), 0);
}

static void t_twilio(void **state) {
    fx_t *f = *state;
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "cbt", "+14155550100", "j2", T0, T0, &er), 0);
    uint64_t tok = claim_place(f, "CA0001", T0);
    char path[200], body[512], sig[RD_TWILIO_SIG_LEN + 1], resp[256];
    cb_path(path, sizeof path, RD_PROV_TWILIO, tok);

    /* A non-terminal event: acknowledged, ignored. */
    snprintf(body, sizeof body, "CallSid=CA0001&CallStatus=ringing&AccountSid=AC1");
    sign(path, body, sig, f->base, TWTOKEN);
    assert_int_equal(
        post(f, path, "application/x-www-form-urlencoded", body, sig, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "ignored"));

    /* Terminal, but forged: wrong token, no signature, signature over another body. */
    snprintf(body, sizeof body,
             "CallSid=CA0001&CallStatus=completed&AnsweredBy=human&CallDuration=42&AccountSid=AC1");
    sign(path, body, sig, f->base, "not-the-token");
    assert_int_equal(post(f, path, "application/x-www-form-urlencoded", body, sig, NULL, 0), 403);
    assert_int_equal(post(f, path, "application/x-www-form-urlencoded", body, NULL, NULL, 0), 403);
    sign(path, "CallSid=CA0001&CallStatus=busy", sig, f->base, TWTOKEN);
    assert_int_equal(post(f, path, "application/x-www-form-urlencoded", body, sig, NULL, 0), 403);
    rd_store_job_t *j = show(f, "j2");
    assert_int_equal(j->state, RD_JOB_PLACED);
    assert_int_equal(j->n_hist, 0);
    rd_store_job_free(j);

    /* Signed: settles; a human answered -> connected. */
    sign(path, body, sig, f->base, TWTOKEN);
    rd_clock_set(&f->clock, T0 + 60000);
    assert_int_equal(
        post(f, path, "application/x-www-form-urlencoded", body, sig, resp, sizeof resp), 200);
    assert_non_null(strstr(resp, "settled"));
    j = show(f, "j2");
    assert_int_equal(j->state, RD_JOB_FINAL);
    assert_int_equal(j->disposition, RD_DISP_CONNECTED);
    rd_store_job_free(j);
    /* An out-of-order "in-progress" after the end changes nothing. */
    snprintf(body, sizeof body, "CallSid=CA0001&CallStatus=in-progress");
    sign(path, body, sig, f->base, TWTOKEN);
    assert_int_equal(post(f, path, "application/x-www-form-urlencoded", body, sig, NULL, 0), 200);
    j = show(f, "j2");
    assert_int_equal(j->state, RD_JOB_FINAL);
    rd_store_job_free(j);
}

typedef struct direct {
    bool done;
    int status;
} direct_t;

static void on_direct(void *arg, int status) {
    direct_t *d = arg;
    d->done = true;
    d->status = status;
}

static rd_call_status_t refused(const char *key, rd_outcome_t outcome) {
    rd_call_status_t st;
    memset(&st, 0, sizeof st);
    snprintf(st.attempt_key, sizeof st.attempt_key, "%s", key);
    st.outcome = outcome;
    st.terminal = true;
    st.answered_by = RD_ANSWERED_UNKNOWN;
    return st;
}

static void on_loaded(int status, const rd_campaign_t *c, void *arg) {
    (void)c;
    *(int *)arg = status;
}

/* Loads the test campaign into settle's cache, as the engine has it by the
   time it settles (so a test can count settle's own Redis commands). */
static void cache_campaign(fx_t *f) {
    int loaded = 1;
    rd_ccache_get(rd_settle_campaigns(f->settle), "cbt", on_loaded, &loaded);
    while (loaded > 0) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(loaded, 0);
}

/* A dial the provider refused, settled as the dispatcher does: with the job
   the claim returned, so the settle is the only Redis command. */
static void t_direct_settle(void **state) {
    fx_t *f = *state;
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "cbt", "+919800000009", "j3", T0, T0, &er), 0);
    ts_jobs_t js = {0};
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &js), 0);
    assert_int_equal(js.n, 1);
    char key[RD_ATTEMPT_KEY_MAX + 1];
    assert_int_equal(rd_attempt_key_format(key, sizeof key, "cbt", js.v[0]->token), 0);
    /* The campaign cached, as it is after the claim in the engine. */
    cache_campaign(f);
    direct_t d = {0};
    rd_call_status_t st = refused(key, RD_OUT_INVALID_NUMBER);
    uint64_t sent = rd_store_commands_sent(f->s);
    rd_settle_job(f->settle, js.v[0], &st, "engine", on_direct, &d);
    while (!d.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(d.status, 0);
    assert_int_equal(rd_store_commands_sent(f->s) - sent, 1); /* the settle, no lookup */
    stats_t s;
    stats(f, &s);
    assert_int_equal(s.lookups, 0);
    rd_store_job_t *j = show(f, "j3");
    assert_int_equal(j->state, RD_JOB_FINAL);
    assert_int_equal(j->disposition, RD_DISP_INVALID);
    rd_store_job_free(j);
    /* Twice with the same (now stale) job: fenced. */
    d.done = false;
    st = refused(key, RD_OUT_BUSY);
    rd_settle_job(f->settle, js.v[0], &st, "engine", on_direct, &d);
    while (!d.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(d.status, RD_ESTALE);
    /* And found by key (a callback's path): stale too. */
    d.done = false;
    assert_int_equal(rd_settle_find(f->settle, &st, "callback", on_direct, &d), 0);
    while (!d.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(d.status, RD_ESTALE);
    ts_jobs_free(&js);
    st = refused("nocolon", RD_OUT_BUSY);
    assert_int_equal(rd_settle_find(f->settle, &st, "callback", on_direct, &d), RD_EINVAL);
}

/* ---- with the simulator: dial through the pool, callbacks from the sim ---- */

typedef struct dialed {
    bool done;
    rd_work_result_t res;
} dialed_t;

static void on_dialed(rd_work_t *w, void *user) {
    dialed_t *d = user;
    d->res = w->res;
    d->done = true;
    rd_free(w); /* items of this test are not pooled (see on_pool_result) */
}

/* Claims the one due job, dials it through the pool with the engine's
   callback URL, records it placed. Returns the token; call id in cid. */
static uint64_t dial_one(fx_t *f, int64_t now, char *cid, size_t cap) {
    ts_jobs_t j = {0};
    assert_int_equal(ts_claim(f->s, &f->loop, now, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    uint64_t tok = j.v[0]->token;
    rd_work_t *w = rd_calloc(1, sizeof *w);
    dialed_t d = {0};
    w->kind = RD_WORK_DIAL;
    snprintf(w->campaign, sizeof w->campaign, "cbt");
    w->dial.mode = RD_MODE_FLOW;
    snprintf(w->dial.to, sizeof w->dial.to, "%s", j.v[0]->to);
    snprintf(w->dial.caller_id, sizeof w->dial.caller_id, "0800");
    snprintf(w->dial.flow, sizeof w->dial.flow, "1");
    assert_int_equal(
        rd_attempt_key_format(w->dial.attempt_key, sizeof w->dial.attempt_key, "cbt", tok), 0);
    char path[200];
    cb_path(path, sizeof path, sim_prov, tok);
    snprintf(w->dial.status_callback, sizeof w->dial.status_callback, "%s%s", f->base, path);
    w->dial.ring_timeout_s = 30;
    w->dial.time_limit_s = 60;
    w->dial.machine_detection = true;
    w->user = &d;
    w->done = on_dialed;
    ts_jobs_free(&j);
    assert_int_equal(rd_pool_submit(f->pool, w), 0);
    while (!d.done) uv_run(&f->loop, UV_RUN_ONCE);
    if (d.res.kind != RD_RES_PLACED)
        fail_msg("dial: %s (%s)", rd_res_kind_name(d.res.kind), d.res.reason);
    snprintf(cid, cap, "%s", d.res.call.call_id);
    assert_int_equal(ts_placed(f->s, &f->loop, "cbt", tok, cid, now + 2 * MINUTE), 0);
    return tok;
}

/* Runs the loop for about ms wall milliseconds (the sim works meanwhile). */
static void spin_ms(fx_t *f, int ms) {
    uint64_t end = uv_now(&f->loop) + (uint64_t)ms;
    while (uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        uv_sleep(2);
        uv_update_time(&f->loop);
    }
}

static const char *const lossy_args[] = {"--cb-loss",  "1", "--ring-min", "1",
                                         "--ring-max", "2", NULL};

/* The sim loses every callback: the expired lease is handed to the poller,
   which asks the sim and settles from its answer. */
static void t_lost_callback_polled(void **state) {
    fx_t *f = *state;
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "cbt", "+919811111111", "jl", T0, T0, &er), 0);
    char cid[RD_CALL_ID_MAX + 1];
    uint64_t tok = dial_one(f, T0, cid, sizeof cid);
    spin_ms(f, 300); /* the call ends (busy after 3 policy s = 3 wall ms); its callback is lost */
    stats_t st;
    stats(f, &st);
    assert_int_equal(st.received, 0);
    rd_store_job_t *j = show(f, "jl");
    assert_int_equal(j->state, RD_JOB_PLACED);
    rd_store_job_free(j);

    /* Past the deadline: recovery hands the call over for polling. */
    int64_t now = T0 + 3 * MINUTE;
    rd_clock_set(&f->clock, now);
    ts_jobs_t r = {0};
    assert_int_equal(ts_recover(f->s, &f->loop, now, 10, MINUTE, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0]->token, tok);
    assert_string_equal(r.v[0]->call_id, cid);
    cache_campaign(f);
    uint64_t sent = rd_store_commands_sent(f->s);
    assert_int_equal(rd_recovery_poll(f->rec, r.v[0]), 0);
    ts_jobs_free(&r);
    for (int i = 0; i < 2000; i++) {
        stats(f, &st);
        if (st.poll_settled == 1) break;
        uv_run(&f->loop, UV_RUN_ONCE);
    }
    assert_int_equal(st.poll_settled, 1);
    /* Settled with the recovered job: the settle was the only Redis command. */
    assert_int_equal(rd_store_commands_sent(f->s) - sent, 1);
    assert_int_equal(st.lookups, 0);
    j = show(f, "jl");
    assert_int_equal(j->state, RD_JOB_PENDING);
    assert_int_equal(j->n_hist, 1);
    assert_int_equal(j->hist[0].outcome, RD_OUT_BUSY);
    rd_store_job_free(j);
}

static const char *const dup_args[] = {
    "--cb-dup",   "1", "--cb-reorder", "1", "--cb-reorder-ms", "100", "--ring-min", "1",
    "--ring-max", "2", "--talk-min",   "1", "--talk-max",      "2",   NULL};

/* Every callback twice and out of order (twilio, signed): each attempt
   settles exactly once, whatever arrives after. */
static void t_dup_reordered_settle_once(void **state) {
    fx_t *f = *state;
    static const char *const nums[] = {"+919822222221", "+919822222222", "+919822222223"};
    static const char *const ids[] = {"jd1", "jd2", "jd3"};
    rd_enq_result_t er;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ts_enqueue(f->s, &f->loop, "cbt", nums[i], ids[i], T0, T0, &er), 0);
        char cid[RD_CALL_ID_MAX + 1];
        dial_one(f, T0, cid, sizeof cid);
    }
    rd_clock_set(&f->clock, T0 + MINUTE);
    stats_t st;
    /* Each call has a terminal callback sent twice, plus reordered events. */
    for (int i = 0; i < 3000; i++) {
        stats(f, &st);
        if (st.settled == 3 && st.duplicates >= 3) break;
        spin_ms(f, 2);
    }
    spin_ms(f, 300); /* stragglers (reordered, late) */
    stats(f, &st);
    assert_int_equal(st.settled, 3);
    assert_true(st.duplicates >= 3);
    assert_int_equal(st.forged, 0);
    assert_int_equal(st.bad, 0);
    const rd_outcome_t want[] = {RD_OUT_BUSY, RD_OUT_NO_ANSWER, RD_OUT_COMPLETED};
    for (int i = 0; i < 3; i++) {
        rd_store_job_t *j = show(f, ids[i]);
        assert_int_equal(j->n_hist, 1);
        assert_int_equal(j->hist[0].outcome, want[i]);
        assert_int_equal(j->state, i == 2 ? RD_JOB_FINAL : RD_JOB_PENDING);
        rd_store_job_free(j);
    }
}

static int setup_lossy(void **state) {
    sim_prov = RD_PROV_EXOTEL;
    sim_args = lossy_args;
    sim_script = "{\"+919811111111\":[\"busy\"]}";
    return setup_sim(state);
}

static int setup_dup(void **state) {
    sim_prov = RD_PROV_TWILIO;
    sim_args = dup_args;
    sim_script = "{\"+919822222221\":[\"busy\"],\"+919822222222\":[\"no-answer\"],"
                 "\"+919822222223\":[\"completed\"]}";
    return setup_sim(state);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_exotel, setup, teardown),
        cmocka_unit_test_setup_teardown(t_twilio, setup_twilio, teardown),
        cmocka_unit_test_setup_teardown(t_direct_settle, setup, teardown),
        cmocka_unit_test_setup_teardown(t_lost_callback_polled, setup_lossy, teardown),
        cmocka_unit_test_setup_teardown(t_dup_reordered_settle_once, setup_dup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
