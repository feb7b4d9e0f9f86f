/*
 * Integration tests of redial-sim over real HTTP: the binary is started with
 * tests/lib/sim_harness, dialed with libcurl from the test, and status
 * callbacks are received by a small engine/httpd server on its own loop
 * thread. Checks: outcome models and scripts, call details, callbacks
 * (exotel form and JSON, twilio with an independently computed
 * X-Twilio-Signature), loss / duplication / reordering / retries, injected
 * faults and account rate limits, and the referee flagging each kind of
 * violation (and none when nothing is broken).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/httpd.h"
#include "proto/callback.h"
#include "proto/form.h"
#include "proto/rd.h"
#include "tests/lib/httpd_thread.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

/* ---------------- HTTP client (one keep-alive handle) ---------------- */

typedef struct {
    char *body;
    size_t len;
    int retry_after;
} resp_t;

static size_t on_data(char *p, size_t sz, size_t n, void *arg) {
    resp_t *r = arg;
    r->body = realloc(r->body, r->len + sz * n + 1);
    memcpy(r->body + r->len, p, sz * n);
    r->len += sz * n;
    r->body[r->len] = '\0';
    return sz * n;
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg) {
    resp_t *r = arg;
    if (sz * n > 12 && strncasecmp(p, "Retry-After:", 12) == 0) r->retry_after = atoi(p + 12);
    return sz * n;
}

static CURL *curl;

/* Returns the status (-1: no answer within timeout_ms). r->body owned by caller. */
static long http(const char *method, const char *url, const char *userpwd, const char *form,
                 long timeout_ms, resp_t *r) {
    memset(r, 0, sizeof *r);
    r->retry_after = -1;
    if (!curl) curl = curl_easy_init();
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (form) curl_easy_setopt(curl, CURLOPT_POSTFIELDS, form);
    if (userpwd) curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    long st = -1;
    if (curl_easy_perform(curl) == CURLE_OK) curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

#define EXO_AUTH RD_TEST_PROVIDER_KEY ":" RD_TEST_PROVIDER_TOKEN
#define TWI_AUTH RD_TEST_PROVIDER_SID ":" RD_TEST_PROVIDER_TOKEN

/* exotel Connect to Flow; sid_out (may be NULL) receives the call sid. */
static long exo_dial(const rd_test_sim_t *s, const char *number, const char *key,
                     const char *cb_url, const char *extra, char *sid_out, long timeout_ms,
                     int *retry_after) {
    char url[256], form[2048];
    size_t len = 0;
    form[0] = '\0';
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/connect.json", s->base,
             RD_TEST_PROVIDER_SID);
    rd_form_add(form, sizeof form, &len, "From", number);
    rd_form_add(form, sizeof form, &len, "CallerId", "08047000000");
    rd_form_add(form, sizeof form, &len, "Url", "http://my.exotel.com/exoml/start/1234");
    if (key) rd_form_add(form, sizeof form, &len, "CustomField", key);
    if (cb_url) {
        rd_form_add(form, sizeof form, &len, "StatusCallback", cb_url);
        rd_form_add(form, sizeof form, &len, "StatusCallbackEvents[0]", "terminal");
    }
    if (extra) snprintf(form + len, sizeof form - len, "&%s", extra);
    resp_t r;
    long st = http("POST", url, EXO_AUTH, form, timeout_ms ? timeout_ms : 5000, &r);
    if (retry_after) *retry_after = r.retry_after;
    if (sid_out) {
        sid_out[0] = '\0';
        json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
        json_t *sid = json_object_get(json_object_get(j, "Call"), "Sid");
        if (json_is_string(sid)) snprintf(sid_out, 64, "%s", json_string_value(sid));
        json_decref(j);
    }
    free(r.body);
    return st;
}

static json_t *sim_call(const rd_test_sim_t *s, const char *sid) {
    char url[256];
    snprintf(url, sizeof url, "%s/sim/calls/%s", s->base, sid);
    resp_t r;
    long st = http("GET", url, NULL, NULL, 5000, &r);
    json_t *j = st == 200 ? json_loads(r.body, 0, NULL) : NULL;
    free(r.body);
    return j;
}

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static char *call_outcome(const rd_test_sim_t *s, const char *sid) {
    json_t *j = sim_call(s, sid);
    char *o = strdup(jstr(j, "outcome"));
    json_decref(j);
    return o;
}

/* ---------------- callback receiver (engine/httpd on a thread) ---------------- */

typedef struct {
    char target[512];
    char ctype[64];
    char sig[64];
    char *body;
    size_t body_len;
} got_t;

typedef struct {
    rd_test_httpd_t h;
    pthread_mutex_t mu;
    got_t got[1024];
    int n;
    int fail_first; /* answer 500 to this many requests first */
    int seen;
} recv_t;

static void recv_handler(rd_http_req_t *req, void *data) {
    recv_t *r = data;
    pthread_mutex_lock(&r->mu);
    int fail = r->seen++ < r->fail_first;
    if (!fail && r->n < (int)RD_ARRAY_LEN(r->got)) {
        got_t *g = &r->got[r->n++];
        snprintf(g->target, sizeof g->target, "%s", req->url);
        const char *ct = rd_http_header(req, "Content-Type");
        snprintf(g->ctype, sizeof g->ctype, "%s", ct ? ct : "");
        const char *sig = rd_http_header(req, "X-Twilio-Signature");
        snprintf(g->sig, sizeof g->sig, "%s", sig ? sig : "");
        g->body = malloc(req->body_len + 1);
        memcpy(g->body, req->body, req->body_len + 1);
        g->body_len = req->body_len;
    }
    pthread_mutex_unlock(&r->mu);
    rd_http_respond(req, fail ? 500 : 200, "text/plain", NULL, "ok", 2);
}

static recv_t *recv_start(int fail_first) {
    recv_t *r = calloc(1, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->fail_first = fail_first;
    rd_httpd_config_t cfg = {.host = "127.0.0.1", .handler = recv_handler, .data = r};
    rd_test_httpd_start(&r->h, &cfg);
    return r;
}

static int recv_count(recv_t *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static bool recv_wait(recv_t *r, int n, int ms) {
    for (int i = 0; i < ms / 5; i++) {
        if (recv_count(r) >= n) return true;
        rd_test_sleep_ms(5);
    }
    return recv_count(r) >= n;
}

static void recv_stop(recv_t *r) {
    rd_test_httpd_stop(&r->h);
    for (int i = 0; i < r->n; i++) free(r->got[i].body);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static void cb_url(const recv_t *r, const char *prov, const char *key, char *out, size_t cap) {
    snprintf(out, cap, "http://127.0.0.1:%d/callbacks/%s/secret?a=%s", r->h.port, prov, key);
}

static long long report_int(const rd_test_sim_t *s, const char *path) {
    char *rep = rd_test_sim_report(s);
    long long v = rd_test_report_int(rep, path);
    free(rep);
    return v;
}

static void stop_sim(rd_test_sim_t *s) {
    char *rep = NULL;
    assert_int_equal(rd_test_sim_stop(s, &rep), 0);
    assert_non_null(rep);
    free(rep);
}

/* ---------------- outcome models ---------------- */

static void t_uniform_model(void **state) {
    (void)state;
    rd_test_sim_t s;
    const char *extra[] = {"--ring-min",
                           "0.1",
                           "--ring-max",
                           "0.2",
                           "--talk-min",
                           "0.1",
                           "--talk-max",
                           "0.2",
                           "--busy-after",
                           "0.1",
                           "--no-answer-after",
                           "0.1",
                           "--failed-after",
                           "0.1",
                           NULL};
    rd_test_sim_opts_t o = {
        .model = "uniform:busy=0.3,no-answer=0.3,failed=0.2", .seed = 7, .extra_args = extra};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    enum { N = 400 };
    static char sids[N][64];
    for (int i = 0; i < N; i++) {
        char num[32];
        snprintf(num, sizeof num, "+9190000%05d", i);
        assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, sids[i], 0, NULL), 200);
        assert_int_equal(strlen(sids[i]), 32);
    }
    rd_test_sleep_ms(600); /* every call has ended (<= 0.4 policy s after its dial) */
    int busy = 0, na = 0, failed = 0, done = 0;
    for (int i = 0; i < N; i++) {
        char *o2 = call_outcome(&s, sids[i]);
        busy += !strcmp(o2, "busy");
        na += !strcmp(o2, "no-answer");
        failed += !strcmp(o2, "failed");
        done += !strcmp(o2, "completed");
        free(o2);
    }
    assert_int_equal(busy + na + failed + done, N);
    /* 4.5 standard deviations of a binomial at n=400 */
    assert_in_range(busy, 120 - 42, 120 + 42);
    assert_in_range(na, 120 - 42, 120 + 42);
    assert_in_range(failed, 80 - 36, 80 + 36);
    assert_in_range(done, 80 - 36, 80 + 36);
    /* call details (the poll endpoint) agree with the outcome once ended */
    for (int i = 0; i < 20; i++) {
        char url[256];
        snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/%.64s.json", s.base,
                 RD_TEST_PROVIDER_SID, sids[i]);
        resp_t r;
        assert_int_equal(http("GET", url, EXO_AUTH, NULL, 5000, &r), 200);
        rd_call_status_t cs;
        assert_int_equal(rd_call_json_parse(RD_PROV_EXOTEL, r.body, r.len, &cs), 0);
        assert_true(cs.terminal);
        char *o2 = call_outcome(&s, sids[i]);
        assert_string_equal(rd_outcome_name(cs.outcome), o2);
        assert_string_equal(cs.call_id, sids[i]);
        free(o2);
        free(r.body);
    }
    /* unknown sid, bad auth */
    char url[256];
    resp_t r;
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/%032d.json", s.base, RD_TEST_PROVIDER_SID,
             7);
    assert_int_equal(http("GET", url, EXO_AUTH, NULL, 5000, &r), 404);
    free(r.body);
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/connect.json", s.base, RD_TEST_PROVIDER_SID);
    assert_int_equal(
        http("POST", url, "testkey:wrong", "From=%2B919000000001&CallerId=1&Url=x", 5000, &r), 401);
    free(r.body);
    assert_int_equal(report_int(&s, "sim.auth_failures"), 1);
    assert_int_equal(report_int(&s, "calls_total"), N);
    assert_int_equal(report_int(&s, "violations_total"), 0);
    stop_sim(&s);

    /* invalid numbers are refused with 400 */
    rd_test_sim_opts_t o2 = {.model = "uniform:invalid=1"};
    assert_int_equal(rd_test_sim_start(&s, &o2), 0);
    assert_int_equal(exo_dial(&s, "+919000000001", NULL, NULL, NULL, NULL, 0, NULL), 400);
    assert_int_equal(exo_dial(&s, "12345", NULL, NULL, NULL, NULL, 0, NULL), 400);
    assert_int_equal(report_int(&s, "outcomes.invalid-number"), 2);
    stop_sim(&s);
}

static void t_seed_model(void **state) {
    (void)state;
    rd_test_sim_t s;
    const char *extra[] = {"--ring-min", "0",          "--ring-max", "0", "--talk-min",
                           "0",          "--talk-max", "0",          NULL};
    rd_test_sim_opts_t o = {.model = "seed", .seed = 11, .extra_args = extra};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    enum { N = 1500 };
    int connected_by[6] = {0};
    for (int i = 0; i < N; i++) {
        char num[32];
        snprintf(num, sizeof num, "+9191000%05d", i);
        for (int k = 1; k <= 5; k++) {
            char sid[64];
            assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, sid, 0, NULL), 200);
            char *oc = call_outcome(&s, sid);
            bool ok = !strcmp(oc, "completed");
            assert_true(ok || !strcmp(oc, "busy") || !strcmp(oc, "no-answer"));
            free(oc);
            if (ok) {
                connected_by[k]++;
                break;
            }
        }
    }
    static const double cum[] = {0.40, 0.60, 0.70, 0.73, 0.74};
    int c = 0;
    for (int k = 1; k <= 5; k++) {
        c += connected_by[k];
        double rate = (double)c / N;
        assert_true(rate > cum[k - 1] - 0.05 && rate < cum[k - 1] + 0.05);
    }
    stop_sim(&s);
}

static void t_script(void **state) {
    (void)state;
    rd_test_sim_t s;
    const char *script = "{\"+919811111111\": [\"busy\", \"no-answer\", \"completed\", \"failed\","
                         " \"5xx\", \"429\", \"timeout\", \"invalid\", \"machine\"]}";
    rd_test_sim_opts_t o = {.model = "uniform:busy=1", .script_json = script};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    const char *num = "+919811111111";
    const char *want[] = {"busy", "no-answer", "completed", "failed"};
    char sid[64];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, sid, 0, NULL), 200);
        char *oc = call_outcome(&s, sid);
        assert_string_equal(oc, want[i]);
        free(oc);
    }
    long st = exo_dial(&s, num, NULL, NULL, NULL, NULL, 0, NULL);
    assert_true(st == 500 || st == 503);
    int ra = -1;
    assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, NULL, 0, &ra), 429);
    assert_int_equal(ra, 1);
    assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, NULL, 200, NULL), -1); /* never answered */
    assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, NULL, 0, NULL), 400);
    assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, sid, 0, NULL), 200);
    json_t *j = sim_call(&s, sid);
    assert_string_equal(jstr(j, "outcome"), "completed");
    assert_string_equal(jstr(j, "answered_by"), "machine");
    json_decref(j);
    /* past the script: the model (busy) */
    assert_int_equal(exo_dial(&s, num, NULL, NULL, NULL, sid, 0, NULL), 200);
    char *oc = call_outcome(&s, sid);
    assert_string_equal(oc, "busy");
    free(oc);
    /* every call to the number, in order (invalid-number refusals make no call) */
    char url[256];
    resp_t r;
    snprintf(url, sizeof url, "%s/sim/numbers/%%2B919811111111", s.base);
    assert_int_equal(http("GET", url, NULL, NULL, 5000, &r), 200);
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "count")), 6);
    json_t *calls = json_object_get(j, "calls");
    const char *seq[] = {"busy", "no-answer", "completed", "failed", "completed", "busy"};
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(jstr(json_array_get(calls, i), "outcome"), seq[i]);
    json_decref(j);
    free(r.body);
    /* scripts can be posted at run time */
    assert_int_equal(rd_test_sim_post(&s, "script", "{\"+919811111112\": [\"no-answer\"]}"), 200);
    assert_int_equal(rd_test_sim_post(&s, "script", "{\"+919811111112\": [\"maybe\"]}"), 400);
    assert_int_equal(exo_dial(&s, "+919811111112", NULL, NULL, NULL, sid, 0, NULL), 200);
    oc = call_outcome(&s, sid);
    assert_string_equal(oc, "no-answer");
    free(oc);
    assert_int_equal(report_int(&s, "sim.faults.5xx"), 1);
    assert_int_equal(report_int(&s, "sim.faults.429"), 1);
    assert_int_equal(report_int(&s, "sim.faults.timeout"), 1);
    stop_sim(&s);
}

/* ---------------- callbacks ---------------- */

static const char *fast_calls[] = {"--ring-min",   "0.01", "--ring-max", "0.02",
                                   "--talk-min",   "0.01", "--talk-max", "0.02",
                                   "--busy-after", "0.01", NULL};

static void t_callbacks_exotel(void **state) {
    (void)state;
    recv_t *rv = recv_start(0);
    rd_test_sim_t s;
    rd_test_sim_opts_t o = {.model = "uniform:completed=1", .extra_args = fast_calls};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    enum { N = 20 };
    char sids[N][64];
    for (int i = 0; i < N; i++) {
        char num[32], key[32], url[256];
        snprintf(num, sizeof num, "+9192000%05d", i);
        snprintf(key, sizeof key, "exo_c.1:%d", 100 + i);
        cb_url(rv, "exotel", key, url, sizeof url);
        /* Connect to Flow does not document StatusCallbackContentType: the
           default (multipart/form-data) comes whatever was asked. */
        assert_int_equal(exo_dial(&s, num, key, url,
                                  i == 0 ? "StatusCallbackContentType=application%2Fjson" : NULL,
                                  sids[i], 0, NULL),
                         200);
    }
    assert_true(recv_wait(rv, N, 5000));
    rd_test_sleep_ms(50);
    assert_int_equal(recv_count(rv), N);
    int json_seen = 0;
    for (int i = 0; i < N; i++) {
        got_t *g = &rv->got[i];
        const char *q = strchr(g->target, '?');
        assert_non_null(q);
        rd_call_status_t cs;
        assert_int_equal(rd_callback_parse(RD_PROV_EXOTEL, g->ctype, g->body, g->body_len, q + 1,
                                           strlen(q + 1), &cs),
                         0);
        assert_true(cs.terminal);
        assert_int_equal(cs.outcome, RD_OUT_COMPLETED);
        assert_int_equal(cs.answered_by, RD_ANSWERED_HUMAN);
        int k = -1;
        for (int j = 0; j < N; j++)
            if (!strcmp(sids[j], cs.call_id)) k = j;
        assert_true(k >= 0);
        char key[32];
        snprintf(key, sizeof key, "exo_c.1:%d", 100 + k);
        assert_string_equal(cs.attempt_key, key);
        if (strstr(g->ctype, "json")) {
            json_seen++;
        } else {
            assert_true(strncmp(g->ctype, "multipart/form-data; boundary=", 30) == 0);
            rd_form_t f;
            rd_form_init(&f);
            assert_int_equal(rd_form_parse_multipart(&f, g->ctype, g->body, g->body_len), 0);
            assert_string_equal(rd_form_get(&f, "CustomField"), key);
            assert_string_equal(rd_form_get(&f, "Status"), "completed");
            assert_string_equal(rd_form_get(&f, "Legs[0][AnsweredBy]"), "Human");
            assert_int_equal(strlen(rd_form_get(&f, "DateUpdated")), 19);
            rd_form_deinit(&f);
        }
    }
    assert_int_equal(json_seen, 0);
    assert_int_equal(report_int(&s, "sim.callbacks.delivered"), N);
    stop_sim(&s);
    recv_stop(rv);
}

/* Exotel Connect Two Numbers: From (the agent) is leg 1, To (the customer)
   leg 2; StatusCallbackContentType is honoured; an agent who does not
   answer ends the call with one leg (the customer was never rung). */
static void t_exotel_agent_legs(void **state) {
    (void)state;
    recv_t *rv = recv_start(0);
    rd_test_sim_t s;
    rd_test_sim_opts_t o = {.model = "uniform:completed=1",
                            .extra_args = fast_calls,
                            .script_json = "{\"+919300000002\":[\"agent-no-answer\"]}"};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    char url[256], form[1024], cb[256];
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/connect.json", s.base, RD_TEST_PROVIDER_SID);
    for (int i = 1; i <= 2; i++) {
        size_t len = 0;
        char to[32], key[32];
        snprintf(to, sizeof to, "+91930000000%d", i);
        snprintf(key, sizeof key, "ag:%d", i);
        cb_url(rv, "exotel", key, cb, sizeof cb);
        form[0] = '\0';
        rd_form_add(form, sizeof form, &len, "From", "+919800000099");
        rd_form_add(form, sizeof form, &len, "To", to);
        rd_form_add(form, sizeof form, &len, "CallerId", "08047000000");
        rd_form_add(form, sizeof form, &len, "StatusCallback", cb);
        rd_form_add(form, sizeof form, &len, "TimeOut", "0.05");
        rd_form_add(form, sizeof form, &len, "StatusCallbackContentType",
                    i == 1 ? "application/json" : "multipart/form-data");
        resp_t r;
        assert_int_equal(http("POST", url, EXO_AUTH, form, 5000, &r), 200);
        free(r.body);
    }
    assert_true(recv_wait(rv, 2, 5000));
    for (int i = 0; i < 2; i++) {
        got_t *g = &rv->got[i];
        if (strstr(g->ctype, "json")) {
            json_t *j = json_loads(g->body, 0, NULL);
            json_t *legs = json_object_get(j, "Legs");
            assert_int_equal(json_array_size(legs), 2);
            assert_string_equal(jstr(json_array_get(legs, 0), "AnsweredBy"), "Human");
            assert_string_equal(jstr(json_array_get(legs, 1), "Status"), "completed");
            assert_string_equal(jstr(j, "Status"), "completed");
            json_decref(j);
        } else {
            rd_form_t f;
            rd_form_init(&f);
            assert_int_equal(rd_form_parse_multipart(&f, g->ctype, g->body, g->body_len), 0);
            assert_string_equal(rd_form_get(&f, "Status"), "no-answer");
            assert_string_equal(rd_form_get(&f, "Legs[0][Status]"), "no-answer");
            assert_null(rd_form_get(&f, "Legs[1][Status]"));
            rd_form_deinit(&f);
        }
    }
    stop_sim(&s);
    recv_stop(rv);
}

/* Errors carry the provider's documented code for their cause; a caller id
   the account does not own is refused; Twilio's Messages.json; Exotel's
   DLT check; a fresh Twilio call has no answered_by; /sim/dnd and
   /sim/optout before any call (was a SIGSEGV). */
static void t_provider_errors(void **state) {
    (void)state;
    rd_test_sim_t s;
    const char *args[] = {"--caller-ids", "08047000000,+14155550000", NULL};
    rd_test_sim_opts_t o = {.model = "uniform:busy=1", .extra_args = args};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    assert_int_equal(rd_test_sim_post(&s, "dnd", "[\"+919100000001\"]"), 200);
    assert_int_equal(rd_test_sim_post(&s, "optout", "[\"+919100000002\"]"), 200);
    char url[256], form[1024];
    size_t len = 0;
    resp_t r;
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s/Calls.json", s.base, RD_TEST_PROVIDER_SID);
    form[0] = '\0';
    rd_form_add(form, sizeof form, &len, "To", "+14155551234");
    rd_form_add(form, sizeof form, &len, "From", "+14155559999");
    rd_form_add(form, sizeof form, &len, "Url", "http://demo.twilio.com/docs/voice.xml");
    assert_int_equal(http("POST", url, TWI_AUTH, form, 5000, &r), 400);
    json_t *j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 21212);
    json_decref(j);
    free(r.body);
    len = 0;
    form[0] = '\0';
    rd_form_add(form, sizeof form, &len, "To", "12");
    rd_form_add(form, sizeof form, &len, "From", "+14155550000");
    rd_form_add(form, sizeof form, &len, "Url", "http://demo.twilio.com/docs/voice.xml");
    assert_int_equal(http("POST", url, TWI_AUTH, form, 5000, &r), 400);
    j = json_loads(r.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "code")), 21211);
    json_decref(j);
    free(r.body);
    len = 0;
    form[0] = '\0';
    rd_form_add(form, sizeof form, &len, "To", "+14155551234");
    rd_form_add(form, sizeof form, &len, "From", "+14155550000");
    rd_form_add(form, sizeof form, &len, "Url", "http://demo.twilio.com/docs/voice.xml");
    rd_form_add(form, sizeof form, &len, "MachineDetection", "Enable");
    assert_int_equal(http("POST", url, TWI_AUTH, form, 5000, &r), 201);
    j = json_loads(r.body, 0, NULL);
    assert_true(json_is_null(json_object_get(j, "answered_by")));
    json_decref(j);
    free(r.body);
    /* exotel: caller id, then DLT */
    assert_int_equal(exo_dial(&s, "+919100000003", NULL, NULL, NULL, NULL, 0, NULL), 200);
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Calls/connect.json", s.base, RD_TEST_PROVIDER_SID);
    len = 0;
    form[0] = '\0';
    rd_form_add(form, sizeof form, &len, "From", "+919100000004");
    rd_form_add(form, sizeof form, &len, "CallerId", "08099999999");
    rd_form_add(form, sizeof form, &len, "Url", "http://my.exotel.com/exoml/start/1");
    assert_int_equal(http("POST", url, EXO_AUTH, form, 5000, &r), 400);
    assert_non_null(strstr(r.body, "CallerId"));
    free(r.body);
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Sms/send.json", s.base, RD_TEST_PROVIDER_SID);
    assert_int_equal(
        http("POST", url, EXO_AUTH, "From=08047000000&To=%2B919100000005&Body=hi", 5000, &r), 400);
    assert_non_null(strstr(r.body, "Dlt"));
    free(r.body);
    assert_int_equal(http("POST", url, EXO_AUTH,
                          "From=08047000000&To=%2B919100000005&Body=hi&DltEntityId=1&"
                          "DltTemplateId=2",
                          5000, &r),
                     200);
    free(r.body);
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s/Messages.json", s.base,
             RD_TEST_PROVIDER_SID);
    assert_int_equal(
        http("POST", url, TWI_AUTH, "From=%2B14155550000&To=%2B14155551234&Body=hi", 5000, &r),
        201);
    j = json_loads(r.body, 0, NULL);
    assert_string_equal(jstr(j, "status"), "queued");
    assert_true(strncmp(jstr(j, "sid"), "SM", 2) == 0);
    json_decref(j);
    free(r.body);
    assert_int_equal(report_int(&s, "sim.faults.bad_caller_id"), 2);
    assert_int_equal(report_int(&s, "sim.faults.dlt_refused"), 1);
    stop_sim(&s);
}

/* X-Twilio-Signature computed here without proto/callback.c. */
typedef struct {
    char *k, *v;
} kv_t;

static int kv_cmp(const void *a, const void *b) {
    const kv_t *x = a, *y = b;
    int c = strcmp(x->k, y->k);
    return c ? c : strcmp(x->v, y->v);
}

static void twilio_sig(const char *token, const char *url, const char *body, char *out) {
    rd_form_t f;
    rd_form_init(&f);
    assert_int_equal(rd_form_parse(&f, body, strlen(body)), 0);
    kv_t *kv = calloc(f.n, sizeof *kv);
    size_t total = strlen(url) + 1;
    for (size_t i = 0; i < f.n; i++) {
        kv[i].k = strdup(f.pairs[i].key);
        kv[i].v = strdup(f.pairs[i].val);
        total += strlen(kv[i].k) + strlen(kv[i].v);
    }
    qsort(kv, f.n, sizeof *kv, kv_cmp);
    char *data = malloc(total);
    strcpy(data, url);
    for (size_t i = 0; i < f.n; i++) {
        strcat(data, kv[i].k);
        strcat(data, kv[i].v);
        free(kv[i].k);
        free(kv[i].v);
    }
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mlen = 0;
    HMAC(EVP_sha1(), token, (int)strlen(token), (unsigned char *)data, strlen(data), mac, &mlen);
    EVP_EncodeBlock((unsigned char *)out, mac, (int)mlen);
    free(data);
    free(kv);
    rd_form_deinit(&f);
}

static long twi_dial(const rd_test_sim_t *s, const char *to, const char *cb, char *sid_out) {
    char url[256], form[2048];
    size_t len = 0;
    form[0] = '\0';
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s/Calls.json", s->base,
             RD_TEST_PROVIDER_SID);
    rd_form_add(form, sizeof form, &len, "To", to);
    rd_form_add(form, sizeof form, &len, "From", "+14155550000");
    rd_form_add(form, sizeof form, &len, "Url", "http://demo.twilio.com/docs/voice.xml");
    rd_form_add(form, sizeof form, &len, "StatusCallback", cb);
    const char *evs[] = {"initiated", "ringing", "answered", "completed"};
    for (int i = 0; i < 4; i++) rd_form_add(form, sizeof form, &len, "StatusCallbackEvent", evs[i]);
    rd_form_add(form, sizeof form, &len, "MachineDetection", "Enable");
    resp_t r;
    long st = http("POST", url, TWI_AUTH, form, 5000, &r);
    json_t *j = r.body ? json_loads(r.body, 0, NULL) : NULL;
    snprintf(sid_out, 64, "%s", jstr(j, "sid"));
    if (st == 201) assert_string_equal(jstr(j, "status"), "queued");
    json_decref(j);
    free(r.body);
    return st;
}

static int status_index(recv_t *rv, int from, int to, const char *sid, const char *status) {
    for (int i = from; i < to; i++) {
        rd_form_t f;
        rd_form_init(&f);
        assert_int_equal(rd_form_parse(&f, rv->got[i].body, rv->got[i].body_len), 0);
        bool hit = !strcmp(rd_form_get(&f, "CallSid"), sid) &&
                   !strcmp(rd_form_get(&f, "CallStatus"), status);
        rd_form_deinit(&f);
        if (hit) return i;
    }
    return -1;
}

static void t_callbacks_twilio(void **state) {
    (void)state;
    recv_t *rv = recv_start(0);
    rd_test_sim_t s;
    /* 1: in order, signed */
    rd_test_sim_opts_t o = {.model = "uniform:completed=1", .extra_args = fast_calls};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    char cb[256], sid[64];
    cb_url(rv, "twilio", "twi_c:1", cb, sizeof cb);
    assert_int_equal(twi_dial(&s, "+14155551234", cb, sid), 201);
    assert_int_equal(strlen(sid), 34);
    assert_true(recv_wait(rv, 4, 5000));
    for (int i = 0; i < 4; i++) {
        got_t *g = &rv->got[i];
        char want[64];
        twilio_sig(RD_TEST_PROVIDER_TOKEN, cb, g->body, want);
        assert_string_equal(g->sig, want);
        /* and proto's verifier agrees */
        assert_true(rd_twilio_signature_ok(RD_TEST_PROVIDER_TOKEN, cb, strlen(cb), g->body,
                                           g->body_len, g->sig, strlen(g->sig)));
        /* a forged body does not verify */
        char wrong[64];
        twilio_sig("other-token", cb, g->body, wrong);
        assert_string_not_equal(g->sig, wrong);
    }
    int ti = status_index(rv, 0, 4, sid, "completed");
    assert_true(ti >= 0);
    assert_true(status_index(rv, 0, 4, sid, "initiated") >= 0);
    assert_true(status_index(rv, 0, 4, sid, "ringing") >= 0);
    int ai = status_index(rv, 0, 4, sid, "in-progress");
    assert_true(ai >= 0 && ai < ti);
    rd_call_status_t cs;
    const char *q = strchr(rv->got[ti].target, '?');
    assert_int_equal(rd_callback_parse(RD_PROV_TWILIO, NULL, rv->got[ti].body, rv->got[ti].body_len,
                                       q + 1, strlen(q + 1), &cs),
                     0);
    assert_int_equal(cs.outcome, RD_OUT_COMPLETED);
    assert_int_equal(cs.answered_by, RD_ANSWERED_HUMAN);
    assert_string_equal(cs.attempt_key, "twi_c:1");
    /* details endpoint, twilio shape */
    char url[256];
    resp_t r;
    snprintf(url, sizeof url, "%s/2010-04-01/Accounts/%s/Calls/%s.json", s.base,
             RD_TEST_PROVIDER_SID, sid);
    assert_int_equal(http("GET", url, TWI_AUTH, NULL, 5000, &r), 200);
    assert_int_equal(rd_call_json_parse(RD_PROV_TWILIO, r.body, r.len, &cs), 0);
    assert_int_equal(cs.outcome, RD_OUT_COMPLETED);
    free(r.body);
    stop_sim(&s);

    /* 2: reordered: the terminal callback arrives before the earlier events */
    const char *re[] = {"--ring-min", "0.01", "--ring-max",   "0.02", "--talk-min",      "0.01",
                        "--talk-max", "0.02", "--cb-reorder", "1",    "--cb-reorder-ms", "30",
                        NULL};
    rd_test_sim_opts_t o2 = {.model = "uniform:completed=1", .extra_args = re};
    assert_int_equal(rd_test_sim_start(&s, &o2), 0);
    int base = recv_count(rv);
    cb_url(rv, "twilio", "twi_c:2", cb, sizeof cb);
    assert_int_equal(twi_dial(&s, "+14155551235", cb, sid), 201);
    assert_true(recv_wait(rv, base + 4, 5000));
    ti = status_index(rv, base, base + 4, sid, "completed");
    int ii = status_index(rv, base, base + 4, sid, "initiated");
    ai = status_index(rv, base, base + 4, sid, "in-progress");
    assert_true(ti >= 0 && ii > ti && ai > ti);
    assert_int_equal(report_int(&s, "sim.callbacks.reordered_calls"), 1);
    stop_sim(&s);
    recv_stop(rv);
}

static void t_loss_dup_retry(void **state) {
    (void)state;
    rd_test_sim_t s;
    char url[256];
    /* loss 0.5 */
    recv_t *rv = recv_start(0);
    const char *loss[] = {"--ring-min", "0.01",      "--ring-max", "0.02", "--busy-after",
                          "0.01",       "--cb-loss", "0.5",        NULL};
    rd_test_sim_opts_t o = {.model = "uniform:busy=1", .extra_args = loss, .seed = 3};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    enum { N = 200 };
    for (int i = 0; i < N; i++) {
        char num[32], key[32];
        snprintf(num, sizeof num, "+9193000%05d", i);
        snprintf(key, sizeof key, "loss:%d", i + 1);
        cb_url(rv, "exotel", key, url, sizeof url);
        assert_int_equal(exo_dial(&s, num, key, url, NULL, NULL, 0, NULL), 200);
    }
    for (int i = 0; i < 400; i++) {
        if (report_int(&s, "sim.callbacks.delivered") + report_int(&s, "sim.callbacks.lost") >= N)
            break;
        rd_test_sleep_ms(10);
    }
    long long lost = report_int(&s, "sim.callbacks.lost");
    assert_int_equal(report_int(&s, "sim.callbacks.delivered"), N - lost);
    assert_in_range(lost, 100 - 32, 100 + 32);
    rd_test_sleep_ms(30);
    assert_int_equal(recv_count(rv), N - lost);
    stop_sim(&s);
    recv_stop(rv);

    /* duplication 1: every callback twice */
    rv = recv_start(0);
    const char *dup[] = {"--busy-after", "0.01", "--cb-dup", "1", NULL};
    rd_test_sim_opts_t o2 = {.model = "uniform:busy=1", .extra_args = dup};
    assert_int_equal(rd_test_sim_start(&s, &o2), 0);
    char sids[10][64];
    for (int i = 0; i < 10; i++) {
        char num[32], key[32];
        snprintf(num, sizeof num, "+9193100%05d", i);
        snprintf(key, sizeof key, "dup:%d", i + 1);
        cb_url(rv, "exotel", key, url, sizeof url);
        assert_int_equal(exo_dial(&s, num, key, url, NULL, sids[i], 0, NULL), 200);
    }
    assert_true(recv_wait(rv, 20, 5000));
    rd_test_sleep_ms(100);
    assert_int_equal(recv_count(rv), 20);
    for (int i = 0; i < 10; i++) {
        int hits = 0;
        for (int j = 0; j < 20; j++) hits += strstr(rv->got[j].body, sids[i]) != NULL;
        assert_int_equal(hits, 2);
    }
    assert_int_equal(report_int(&s, "sim.callbacks.duplicated"), 10);
    stop_sim(&s);
    recv_stop(rv);

    /* retries: the receiver fails twice, the third delivery succeeds */
    rv = recv_start(2);
    const char *retry[] = {"--busy-after", "0.01", "--cb-retries", "2", "--cb-retry-ms",
                           "20",           NULL};
    rd_test_sim_opts_t o3 = {.model = "uniform:busy=1", .extra_args = retry};
    assert_int_equal(rd_test_sim_start(&s, &o3), 0);
    cb_url(rv, "exotel", "retry:1", url, sizeof url);
    assert_int_equal(exo_dial(&s, "+919320000001", "retry:1", url, NULL, NULL, 0, NULL), 200);
    assert_true(recv_wait(rv, 1, 5000));
    assert_int_equal(report_int(&s, "sim.callbacks.retried"), 2);
    assert_int_equal(report_int(&s, "sim.callbacks.delivered"), 1);
    assert_int_equal(report_int(&s, "sim.callbacks.failed"), 0);
    stop_sim(&s);
    recv_stop(rv);

    /* ... and gives up after the retries */
    rv = recv_start(3);
    assert_int_equal(rd_test_sim_start(&s, &o3), 0);
    cb_url(rv, "exotel", "retry:2", url, sizeof url);
    assert_int_equal(exo_dial(&s, "+919320000002", "retry:2", url, NULL, NULL, 0, NULL), 200);
    for (int i = 0; i < 300 && report_int(&s, "sim.callbacks.failed") < 1; i++)
        rd_test_sleep_ms(10);
    assert_int_equal(report_int(&s, "sim.callbacks.failed"), 1);
    assert_int_equal(recv_count(rv), 0);
    stop_sim(&s);
    recv_stop(rv);
}

/* ---------------- faults and rate limits ---------------- */

static void t_faults(void **state) {
    (void)state;
    rd_test_sim_t s;
    const char *f[] = {"--fault-5xx", "0.2",           "--fault-429", "0.2", "--fault-timeout",
                       "0.05",        "--retry-after", "2",           NULL};
    rd_test_sim_opts_t o = {.model = "uniform:busy=1", .extra_args = f, .seed = 5};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    enum { N = 400 };
    int ok = 0, e5 = 0, e429 = 0, to = 0;
    for (int i = 0; i < N; i++) {
        char num[32];
        snprintf(num, sizeof num, "+9194000%05d", i);
        int ra = -1;
        long st = exo_dial(&s, num, NULL, NULL, NULL, NULL, 100, &ra);
        if (st == 200)
            ok++;
        else if (st == 500 || st == 503)
            e5++;
        else if (st == 429) {
            e429++;
            assert_int_equal(ra, 2);
        } else if (st == -1)
            to++;
        else
            fail_msg("unexpected status %ld", st);
    }
    assert_in_range(e5, 80 - 36, 80 + 36);
    assert_in_range(e429, 80 - 36, 80 + 36);
    assert_in_range(to, 20 - 20, 20 + 20);
    assert_int_equal(ok + e5 + e429 + to, N);
    /* faults make no calls */
    assert_int_equal(report_int(&s, "calls_total"), ok);
    stop_sim(&s);

    /* account rate limits: exotel 60/min (burst 60), twilio 1/s */
    const char *rl[] = {"--exotel-rate-per-min", "60", "--twilio-rate-per-s", "1", NULL};
    rd_test_sim_opts_t o2 = {.model = "uniform:busy=1", .rate_limits = true, .extra_args = rl};
    assert_int_equal(rd_test_sim_start(&s, &o2), 0);
    ok = 0;
    int limited = 0;
    for (int i = 0; i < 70; i++) {
        char num[32];
        snprintf(num, sizeof num, "+9195000%05d", i);
        int ra = -1;
        long st = exo_dial(&s, num, NULL, NULL, NULL, NULL, 0, &ra);
        if (st == 200)
            ok++;
        else {
            assert_int_equal(st, 429);
            assert_true(ra >= 1);
            limited++;
        }
    }
    assert_in_range(ok, 60, 61);
    assert_int_equal(ok + limited, 70);
    /* Twilio queues above its calls-per-second instead of refusing. */
    char sid[64], cb[] = "http://127.0.0.1:9/x?a=t:1";
    assert_int_equal(twi_dial(&s, "+14155550001", cb, sid), 201);
    assert_int_equal(twi_dial(&s, "+14155550002", cb, sid), 201);
    assert_int_equal(twi_dial(&s, "+14155550003", cb, sid), 201);
    assert_int_equal(report_int(&s, "sim.faults.rate_limited"), limited);
    assert_int_equal(report_int(&s, "sim.faults.queued"), 2);
    stop_sim(&s);
}

/* ---------------- referee ---------------- */

static void t_referee(void **state) {
    (void)state;
    rd_test_sim_t s;
    /* Monday 2026-11-30 10:00 in India; calls stay live for 100 s unless scripted busy. */
    const char *extra[] = {"--ring-min", "100", "--ring-max", "100", "--busy-after", "0.01", NULL};
    const char *script = "{\"+919600000001\": [\"busy\", \"busy\", \"busy\"],"
                         " \"+919600000002\": [\"busy\", \"busy\"]}";
    rd_test_sim_opts_t o = {.model = "uniform:completed=1",
                            .time_origin = "2026-11-30T10:00:00+05:30",
                            .script_json = script,
                            .extra_args = extra};
    assert_int_equal(rd_test_sim_start(&s, &o), 0);
    const char *win = "\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"";
    char body[512];
#define CAMP(fmt, ...)                                                  \
    do {                                                                \
        snprintf(body, sizeof body, fmt, __VA_ARGS__);                  \
        assert_int_equal(rd_test_sim_post(&s, "campaigns", body), 201); \
    } while (0)
    CAMP("{\"name\":\"clean\",\"concurrency\":10,\"max_attempts\":3,\"max_per_day\":3,%s,"
         "\"timezone\":\"Asia/Kolkata\"}",
         win);
    CAMP("{\"name\":\"conc\",\"concurrency\":1,%s}", win);
    CAMP("{\"name\":\"ovl\",%s}", win);
    CAMP("{\"name\":\"budget\",\"max_attempts\":2,%s}", win);
    CAMP("{\"name\":\"perday\",\"max_per_day\":1,%s}", win);
    CAMP("{\"name\":\"ny\",%s,\"timezone\":\"America/New_York\"}", win);
    CAMP("{\"name\":\"callee\",%s,\"timezone\":\"Asia/Kolkata\",\"callee_local_time\":true}", win);
    assert_int_equal(
        rd_test_sim_post(&s, "campaigns", "{\"name\":\"bad\",\"daily_start\":\"25:00\"}"), 400);
    assert_int_equal(rd_test_sim_post(&s, "campaigns", "{\"concurrency\":1}"), 400);
    /* the spec's campaign body is accepted too */
    assert_int_equal(
        rd_test_sim_post(&s, "campaigns",
                         "{\"name\":\"spec\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\","
                         "\"numbers\":[],\"retry\":{\"max_attempts\":2}}"),
        201);

    /* nothing broken: zero violations */
    assert_int_equal(exo_dial(&s, "+919500000001", "clean:1", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000002", "clean:2", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000003", "callee:3", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000004", "spec:4", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations_total"), 0);
    assert_int_equal(report_int(&s, "campaigns.clean.max_live"), 2);

    /* each kind, provoked once */
    assert_int_equal(exo_dial(&s, "+919500000011", "conc:11", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000012", "conc:12", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.concurrency"), 1);
    assert_int_equal(report_int(&s, "campaigns.conc.max_live"), 2);

    assert_int_equal(exo_dial(&s, "+919500000021", "ovl:21", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000021", "ovl:22", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.overlap"), 1);

    for (int i = 0; i < 3; i++) {
        char key[32];
        snprintf(key, sizeof key, "budget:%d", 31 + i);
        assert_int_equal(exo_dial(&s, "+919600000001", key, NULL, NULL, NULL, 0, NULL), 200);
        rd_test_sleep_ms(30); /* the busy call ends: no overlap */
    }
    assert_int_equal(report_int(&s, "violations.budget"), 1);
    assert_int_equal(report_int(&s, "campaigns.budget.max_attempts_seen"), 3);

    for (int i = 0; i < 2; i++) {
        char key[32];
        snprintf(key, sizeof key, "perday:%d", 41 + i);
        assert_int_equal(exo_dial(&s, "+919600000002", key, NULL, NULL, NULL, 0, NULL), 200);
        rd_test_sleep_ms(30);
    }
    assert_int_equal(report_int(&s, "violations.per_number_day"), 1);

    assert_int_equal(exo_dial(&s, "+919500000051", "ny:51", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.outside_window"), 1);
    /* callee's zone: a New York number at 23:30 New York time */
    assert_int_equal(exo_dial(&s, "+12125550100", "callee:52", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.outside_window"), 2);

    assert_int_equal(rd_test_sim_post(&s, "dnd", "{\"numbers\":[\"+919500000061\"]}"), 200);
    assert_int_equal(rd_test_sim_post(&s, "optout", "[\"+919500000062\"]"), 200);
    assert_int_equal(exo_dial(&s, "+919500000061", "clean:61", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000062", "clean:62", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.dnd"), 1);
    assert_int_equal(report_int(&s, "violations.optout"), 1);

    assert_int_equal(exo_dial(&s, "+919500000071", "clean:70", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(exo_dial(&s, "+919500000072", "clean:70", NULL, NULL, NULL, 0, NULL), 200);
    assert_int_equal(report_int(&s, "violations.duplicate_key"), 1);

    /* the report at exit says the same */
    char *rep = NULL;
    assert_int_equal(rd_test_sim_stop(&s, &rep), 0);
    assert_int_equal(rd_test_report_int(rep, "violations_total"), 9);
    assert_int_equal(rd_test_report_int(rep, "violations.concurrency"), 1);
    assert_int_equal(rd_test_report_int(rep, "violations.outside_window"), 2);
    assert_int_equal(rd_test_report_int(rep, "campaigns.callee.violations.outside_window"), 1);
    json_t *j = json_loads(rep, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "examples")), 9);
    json_decref(j);
    free(rep);
}

static void t_help(void **state) {
    (void)state;
    char *argv[] = {"redial-sim", "--help", NULL};
    char *out = NULL;
    assert_int_equal(rd_test_run(argv, &out), 0);
    assert_non_null(out);
    const char *knobs[] = {"--model",
                           "--script",
                           "--seed",
                           "--time-scale",
                           "--ring-min",
                           "--talk-max",
                           "--cb-loss",
                           "--cb-dup",
                           "--cb-reorder",
                           "--cb-delay-max-ms",
                           "--fault-5xx",
                           "--fault-timeout",
                           "--fault-429",
                           "--exotel-rate-per-min",
                           "--twilio-rate-per-s",
                           "REDIAL_SIM_EXOTEL_TOKEN",
                           "--report"};
    for (size_t i = 0; i < RD_ARRAY_LEN(knobs); i++) assert_non_null(strstr(out, knobs[i]));
    free(out);
    char *bad[] = {"redial-sim", "--model", "uniform:busy=2", NULL};
    assert_int_equal(rd_test_run(bad, NULL), 2);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_help),
        cmocka_unit_test(t_uniform_model),
        cmocka_unit_test(t_seed_model),
        cmocka_unit_test(t_script),
        cmocka_unit_test(t_callbacks_exotel),
        cmocka_unit_test(t_exotel_agent_legs),
        cmocka_unit_test(t_provider_errors),
        cmocka_unit_test(t_callbacks_twilio),
        cmocka_unit_test(t_loss_dup_retry),
        cmocka_unit_test(t_faults),
        cmocka_unit_test(t_referee),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    if (curl) curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc;
}
