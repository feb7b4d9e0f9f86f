/*
 * End to end over real HTTP: the worker pool and both provider adapters
 * against redial-sim, and the sim's status callbacks parsed by
 * proto/callback on an engine/httpd listener. Labelled "threads" too.
 *
 * For each provider, a script gives every number one outcome; the test
 * dials them all and checks:
 *   - the dial result: placed for calls, refused(invalid-number) for an
 *     invalid number, transient (no attempt) for 5xx, timeout and 429, with
 *     the 429's Retry-After honoured;
 *   - the terminal callback of every placed call maps to the right outcome
 *     (busy, no-answer, failed, completed by a human, completed by a
 *     machine), twilio callbacks carry a valid X-Twilio-Signature and
 *     non-terminal events are recognised as such;
 *   - a status poll of every placed call returns the same outcome;
 *   - (exotel) an SMS is accepted;
 *   - the referee counted a call for every placed or refused dial and none
 *     for the transient cases (which reached only the fault injector).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "proto/callback.h"
#include "proto/rd.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"
#include "workers/pool.h"

enum { N_NUM = 9, A_MAIN = 0, A_5XX, A_TIMEOUT, A_429, A_N };

typedef struct expect {
    const char *number, *word;
    int account;
    rd_res_kind_t dial;
    rd_outcome_t outcome; /* callback / poll outcome, or refusal */
    rd_answered_by_t answered;
} expect_t;

static const expect_t cases[N_NUM] = {
    {"+919000000001", "busy", A_MAIN, RD_RES_PLACED, RD_OUT_BUSY, RD_ANSWERED_UNKNOWN},
    {"+919000000002", "no-answer", A_MAIN, RD_RES_PLACED, RD_OUT_NO_ANSWER, RD_ANSWERED_UNKNOWN},
    {"+919000000003", "failed", A_MAIN, RD_RES_PLACED, RD_OUT_FAILED, RD_ANSWERED_UNKNOWN},
    {"+919000000004", "completed", A_MAIN, RD_RES_PLACED, RD_OUT_COMPLETED, RD_ANSWERED_HUMAN},
    {"+919000000005", "machine", A_MAIN, RD_RES_PLACED, RD_OUT_COMPLETED, RD_ANSWERED_MACHINE},
    {"+919000000006", "invalid", A_MAIN, RD_RES_REFUSED, RD_OUT_INVALID_NUMBER, 0},
    {"+919000000007", "5xx", A_5XX, RD_RES_TRANSIENT, 0, 0},
    {"+919000000008", "timeout", A_TIMEOUT, RD_RES_TRANSIENT, 0, 0},
    {"+919000000009", "429", A_429, RD_RES_TRANSIENT, 0, 0},
};

typedef struct cbrec {
    int terminal, nonterminal;
    rd_call_status_t last;
} cbrec_t;

typedef struct fx {
    uv_loop_t loop;
    rd_test_sim_t sim;
    rd_httpd_t *srv;
    rd_pool_t *pool;
    rd_prov_t prov;
    char base[64];
    cbrec_t cb[N_NUM];
    int bad_sigs, bad_bodies;
    rd_work_result_t dial[N_NUM], poll[N_NUM], sms;
    int n_results;
    bool closed_pool, closed_srv;
} fx_t;

static int case_of_key(const char *key) {
    /* keys are "sim:<i+1>" */
    const char *c = strrchr(key, ':');
    int i = c ? atoi(c + 1) - 1 : -1;
    return i >= 0 && i < N_NUM ? i : -1;
}

static void handler(rd_http_req_t *req, void *data) {
    fx_t *f = data;
    if (f->prov == RD_PROV_TWILIO) {
        char url[512];
        snprintf(url, sizeof url, "%s%s", f->base, req->url);
        const char *sig = rd_http_header(req, "X-Twilio-Signature");
        if (!sig || !rd_twilio_signature_ok(RD_TEST_PROVIDER_TOKEN, url, strlen(url), req->body,
                                            req->body_len, sig, strlen(sig))) {
            f->bad_sigs++;
            rd_http_respond_error(req, 403, "signature");
            return;
        }
    }
    rd_call_status_t st;
    if (rd_callback_parse(f->prov, rd_http_header(req, "Content-Type"), req->body, req->body_len,
                          req->query, req->query_len, &st) != 0) {
        f->bad_bodies++;
        rd_http_respond_error(req, 400, "bad");
        return;
    }
    int i = case_of_key(st.attempt_key);
    if (i >= 0) {
        if (st.terminal) {
            f->cb[i].terminal++;
            f->cb[i].last = st;
        } else {
            f->cb[i].nonterminal++;
        }
    }
    rd_http_respond_json(req, 200, "{}");
}

static void on_result(rd_work_t *w, void *data) {
    fx_t *f = data;
    int i = (int)w->tag;
    if (w->kind == RD_WORK_POLL)
        f->poll[i] = w->res;
    else if (w->kind == RD_WORK_SMS)
        f->sms = w->res;
    else
        f->dial[i] = w->res;
    f->n_results++;
    rd_pool_work_put(f->pool, w);
}

static void run_until(fx_t *f, bool (*done)(fx_t *), int timeout_ms) {
    uint64_t end = uv_now(&f->loop) + (uint64_t)timeout_ms;
    while (!done(f) && uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        uv_sleep(1);
        uv_update_time(&f->loop);
    }
    if (!done(f)) fail_msg("timed out");
}

static int want_results;
static bool results_in(fx_t *f) { return f->n_results >= want_results; }
static bool callbacks_in(fx_t *f) {
    for (int i = 0; i < N_NUM; i++)
        if (cases[i].dial == RD_RES_PLACED && f->cb[i].terminal == 0) return false;
    return true;
}

static void on_pool_closed(void *a) { ((fx_t *)a)->closed_pool = true; }
static void on_srv_closed(void *a) { ((fx_t *)a)->closed_srv = true; }

static void run_provider(rd_prov_t prov) {
    fx_t *f = rd_calloc(1, sizeof *f);
    f->prov = prov;
    char script[1024];
    size_t o = 0;
    o += (size_t)snprintf(script + o, sizeof script - o, "{");
    for (int i = 0; i < N_NUM; i++)
        o += (size_t)snprintf(script + o, sizeof script - o, "%s\"%s\":[\"%s\"]", i ? "," : "",
                              cases[i].number, cases[i].word);
    snprintf(script + o, sizeof script - o, "}");
    /* Calls last a few policy seconds: at scale 1000 a few wall ms. */
    const char *extra[] = {"--ring-min", "1",          "--ring-max", "2", "--talk-min",
                           "1",          "--talk-max", "2",          NULL};
    rd_test_sim_opts_t so = {.model = "uniform:busy=1",
                             .script_json = script,
                             .time_scale = "1000",
                             .extra_args = extra};
    assert_int_equal(rd_test_sim_start(&f->sim, &so), 0);

    assert_int_equal(uv_loop_init(&f->loop), 0);
    rd_httpd_config_t hc = {.host = "127.0.0.1", .handler = handler, .data = f};
    char err[128];
    assert_int_equal(rd_httpd_create(&f->loop, &hc, &f->srv, err, sizeof err), 0);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", rd_httpd_port(f->srv));

    rd_account_cfg_t acc[A_N];
    for (int i = 0; i < A_N; i++) {
        rd_account_cfg_init(&acc[i]);
        acc[i].kind = prov;
        acc[i].base_url = f->sim.base;
        acc[i].sid = RD_TEST_PROVIDER_SID;
        acc[i].key = prov == RD_PROV_EXOTEL ? RD_TEST_PROVIDER_KEY : NULL;
        acc[i].token = RD_TEST_PROVIDER_TOKEN;
        /* Only the timeout case gets a short timeout: a loaded CI machine
           must not turn a slow answer into a transient failure. */
        acc[i].timeout_ms = i == A_TIMEOUT ? 400 : 10000;
        acc[i].backoff_base_ms = 50;
        acc[i].backoff_cap_ms = 200;
    }
    rd_pool_cfg_t pc = {.workers = 2,
                        .max_inflight = 8,
                        .accounts = acc,
                        .n_accounts = A_N,
                        .on_result = on_result,
                        .data = f};
    assert_int_equal(rd_pool_create(&f->loop, &pc, &f->pool), 0);

    for (int i = 0; i < N_NUM; i++) {
        rd_work_t *w = rd_pool_work_get(f->pool);
        w->kind = RD_WORK_DIAL;
        w->account = (uint32_t)cases[i].account;
        w->tag = (uint64_t)i;
        snprintf(w->campaign, sizeof w->campaign, "sim");
        w->dial.mode = RD_MODE_FLOW;
        snprintf(w->dial.to, sizeof w->dial.to, "%s", cases[i].number);
        snprintf(w->dial.caller_id, sizeof w->dial.caller_id, "08030000000");
        snprintf(w->dial.flow, sizeof w->dial.flow, "1");
        snprintf(w->dial.attempt_key, sizeof w->dial.attempt_key, "sim:%d", i + 1);
        snprintf(w->dial.status_callback, sizeof w->dial.status_callback,
                 "%s/callbacks/%s/secret?a=sim%%3A%d", f->base, rd_prov_name(prov), i + 1);
        w->dial.ring_timeout_s = 30;
        w->dial.time_limit_s = 60;
        w->dial.machine_detection = true; /* twilio reports AnsweredBy only then */
        assert_int_equal(rd_pool_submit(f->pool, w), 0);
    }
    want_results = N_NUM;
    run_until(f, results_in, 10000);

    for (int i = 0; i < N_NUM; i++) {
        const rd_work_result_t *r = &f->dial[i];
        if (r->kind != cases[i].dial)
            fail_msg("%s %s: dial result %s (%s), want %s", rd_prov_name(prov), cases[i].word,
                     rd_res_kind_name(r->kind), r->reason, rd_res_kind_name(cases[i].dial));
        if (r->kind == RD_RES_PLACED) assert_true(r->call.call_id[0] != '\0');
        if (r->kind == RD_RES_REFUSED) assert_int_equal(r->outcome, cases[i].outcome);
    }
    assert_true(f->dial[6].http_status >= 500);  /* 5xx */
    assert_int_equal(f->dial[7].http_status, 0); /* timeout: no answer at all */
    assert_int_equal(f->dial[8].http_status, 429);
    assert_true(f->dial[8].retry_after_ms >= 1000); /* the sim's Retry-After: 1 */

    /* Callbacks: one terminal per placed call, with the right outcome. */
    run_until(f, callbacks_in, 15000);
    assert_int_equal(f->bad_sigs, 0);
    assert_int_equal(f->bad_bodies, 0);
    for (int i = 0; i < N_NUM; i++) {
        if (cases[i].dial != RD_RES_PLACED) {
            assert_int_equal(f->cb[i].terminal, 0);
            continue;
        }
        const rd_call_status_t *st = &f->cb[i].last;
        if (st->outcome != cases[i].outcome || st->answered_by != cases[i].answered)
            fail_msg("%s %s: callback outcome %s answered_by %d", rd_prov_name(prov), cases[i].word,
                     rd_outcome_name(st->outcome), (int)st->answered_by);
        assert_string_equal(st->call_id, f->dial[i].call.call_id);
    }
    if (prov == RD_PROV_TWILIO) {
        int nonterminal = 0;
        for (int i = 0; i < N_NUM; i++) nonterminal += f->cb[i].nonterminal;
        assert_true(nonterminal > 0); /* initiated / ringing / answered events */
    }

    /* Polls agree with the callbacks. */
    int polls = 0;
    for (int i = 0; i < N_NUM; i++) {
        if (cases[i].dial != RD_RES_PLACED) continue;
        rd_work_t *w = rd_pool_work_get(f->pool);
        w->kind = RD_WORK_POLL;
        w->account = A_MAIN;
        w->tag = (uint64_t)i;
        snprintf(w->campaign, sizeof w->campaign, "sim");
        snprintf(w->call_id, sizeof w->call_id, "%s", f->dial[i].call.call_id);
        assert_int_equal(rd_pool_submit(f->pool, w), 0);
        polls++;
    }
    /* Exotel: an SMS (the sim speaks exotel's Sms/send.json). */
    if (prov == RD_PROV_EXOTEL) {
        rd_work_t *w = rd_pool_work_get(f->pool);
        w->kind = RD_WORK_SMS;
        w->account = A_MAIN;
        w->tag = 0;
        snprintf(w->campaign, sizeof w->campaign, "sim");
        snprintf(w->sms.to, sizeof w->sms.to, "%s", cases[0].number);
        snprintf(w->sms.from, sizeof w->sms.from, "EXOTEL");
        snprintf(w->sms.body, sizeof w->sms.body, "We tried to reach you. Please call us back.");
        snprintf(w->sms.dlt_entity_id, sizeof w->sms.dlt_entity_id, "1101");
        snprintf(w->sms.dlt_template_id, sizeof w->sms.dlt_template_id, "1107");
        assert_int_equal(rd_pool_submit(f->pool, w), 0);
        polls++;
    }
    want_results = N_NUM + polls;
    run_until(f, results_in, 10000);
    if (prov == RD_PROV_EXOTEL) assert_int_equal(f->sms.kind, RD_RES_SENT);
    for (int i = 0; i < N_NUM; i++) {
        if (cases[i].dial != RD_RES_PLACED) continue;
        const rd_work_result_t *r = &f->poll[i];
        assert_int_equal(r->kind, RD_RES_STATUS);
        assert_true(r->call.terminal);
        if (r->call.outcome != cases[i].outcome)
            fail_msg("%s %s: poll outcome %s", rd_prov_name(prov), cases[i].word,
                     rd_outcome_name(r->call.outcome));
    }

    rd_pool_close(f->pool, on_pool_closed, f);
    while (!f->closed_pool) uv_run(&f->loop, UV_RUN_ONCE);
    rd_httpd_close(f->srv, on_srv_closed, f);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_true(f->closed_srv);
    assert_int_equal(uv_loop_close(&f->loop), 0);

    /* The referee: the transient requests made no call. */
    char *report = NULL;
    rd_test_sim_stop(&f->sim, &report);
    assert_non_null(report);
    assert_int_equal(rd_test_report_int(report, "violations_total"), 0);
    /* 5 calls placed + 1 refused as invalid; the faults made none. */
    assert_int_equal(rd_test_report_int(report, "calls_total"), 6);
    assert_int_equal(rd_test_report_int(report, "sim.faults.5xx"), 1);
    assert_int_equal(rd_test_report_int(report, "sim.faults.timeout"), 1);
    assert_int_equal(rd_test_report_int(report, "sim.faults.429"), 1);
    if (prov == RD_PROV_EXOTEL) assert_int_equal(rd_test_report_int(report, "sim.sms"), 1);
    free(report);
    rd_free(f);
}

static void t_exotel(void **state) { run_provider(RD_PROV_EXOTEL); }
static void t_twilio(void **state) { run_provider(RD_PROV_TWILIO); }

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_exotel),
        cmocka_unit_test(t_twilio),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
