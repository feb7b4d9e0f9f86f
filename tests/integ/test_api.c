/*
 * Integration tests of the control API (engine/api.h): a real httpd and API
 * on a libuv loop (its own thread) with a real Redis behind the store,
 * driven over loopback HTTP with libcurl from the test thread. Effects are
 * read back from Redis with plain hiredis (docs/REDIS.md layout).
 *
 * Three listeners share the loop: the API with credentials, the API with
 * none (disabled), and the API over a store whose Redis does not exist.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <hiredis/hiredis.h>
#include <jansson.h>

#include "engine/api.h"
#include "common/httpd.h"
#include "store/store.h"
#include "proto/clock.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"

#define KEY "api-key"
#define TOKEN "api-t0ken"
#define AUTH KEY ":" TOKEN
#define MAX_BODY 262144

/* The seed's exact curl body. */
static const char SEED[] = RD_TEST_SEED_BODY;

typedef struct {
    rd_api_t *api;
} srv_data_t;

typedef struct {
    rd_test_redis_t r;
    redisContext *c;
    uv_loop_t loop;
    uv_async_t stop;
    pthread_t th;
    rd_clock_t clock;
    rd_store_t *store, *dead_store;
    rd_api_t *api, *api_off, *api_dead;
    rd_httpd_t *h, *h_off, *h_dead;
    srv_data_t d, d_off, d_dead;
    int port, port_off, port_dead;
} fx_t;

static void on_req(rd_http_req_t *req, void *data) {
    srv_data_t *d = data;
    if (!rd_api_handle(d->api, req)) rd_http_respond_error(req, 404, "not an API path");
}

static void on_stop(uv_async_t *a) {
    fx_t *fx = a->data;
    rd_httpd_close(fx->h, NULL, NULL);
    rd_httpd_close(fx->h_off, NULL, NULL);
    rd_httpd_close(fx->h_dead, NULL, NULL);
    rd_store_close(fx->store, NULL, NULL);
    rd_store_close(fx->dead_store, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void *loop_main(void *arg) {
    fx_t *fx = arg;
    uv_run(&fx->loop, UV_RUN_DEFAULT);
    return NULL;
}

static rd_httpd_t *listen_api(fx_t *fx, srv_data_t *d, rd_api_t *api, int *port) {
    d->api = api;
    rd_httpd_config_t hc = {0};
    hc.host = "127.0.0.1";
    hc.limits.max_body_bytes = MAX_BODY;
    hc.handler = on_req;
    hc.data = d;
    rd_httpd_t *h = NULL;
    char err[128];
    assert_int_equal(rd_httpd_create(&fx->loop, &hc, &h, err, sizeof err), 0);
    *port = rd_httpd_port(h);
    return h;
}

static rd_api_t *make_api(fx_t *fx, rd_store_t *s, const char *key, const char *token) {
    rd_api_cfg_t ac;
    rd_api_cfg_init(&ac);
    ac.loop = &fx->loop;
    ac.store = s;
    ac.clock = &fx->clock;
    ac.api_key = key;
    ac.api_token = token;
    ac.default_provider = "exotel";
    ac.enqueue_window = 64;
    rd_api_t *api = NULL;
    assert_int_equal(rd_api_create(&ac, &api), 0);
    return api;
}

static int setup(void **state) {
    fx_t *fx = calloc(1, sizeof *fx);
    if (rd_test_redis_start(&fx->r)) return -1;
    fx->c = rd_test_redis_sync(&fx->r);
    uv_loop_init(&fx->loop);
    rd_clock_init_wall(&fx->clock);
    rd_store_opts_t o;
    rd_store_opts_init(&o);
    o.url = fx->r.url;
    o.prefix = fx->r.prefix;
    if (rd_store_create(&fx->loop, &o, &fx->store)) return -1;
    o.url = "redis://127.0.0.1:1/0";
    o.cmd_timeout_ms = 300;
    o.connect_timeout_ms = 200;
    if (rd_store_create(&fx->loop, &o, &fx->dead_store)) return -1;
    fx->api = make_api(fx, fx->store, KEY, TOKEN);
    fx->api_off = make_api(fx, fx->store, NULL, NULL);
    fx->api_dead = make_api(fx, fx->dead_store, KEY, TOKEN);
    fx->h = listen_api(fx, &fx->d, fx->api, &fx->port);
    fx->h_off = listen_api(fx, &fx->d_off, fx->api_off, &fx->port_off);
    fx->h_dead = listen_api(fx, &fx->d_dead, fx->api_dead, &fx->port_dead);
    uv_async_init(&fx->loop, &fx->stop, on_stop);
    fx->stop.data = fx;
    pthread_create(&fx->th, NULL, loop_main, fx);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fx_t *fx = *state;
    uv_async_send(&fx->stop);
    pthread_join(fx->th, NULL);
    int rc = uv_loop_close(&fx->loop);
    rd_api_destroy(fx->api);
    rd_api_destroy(fx->api_off);
    rd_api_destroy(fx->api_dead);
    redisFree(fx->c);
    rd_test_redis_stop(&fx->r);
    free(fx);
    return rc == 0 ? 0 : -1;
}

/* ---- HTTP client ------------------------------------------------------------------ */

typedef struct {
    long status;
    char *body, *hdr; /* owned by the last rd_test_http_resp_t */
    json_t *json;
} resp_t;

/* One request; the answer stays valid until the next call. */
static resp_t *req(int port, const char *method, const char *path, const char *body,
                   const char *userpwd) {
    static resp_t r;
    static rd_test_http_resp_t last;
    json_decref(r.json);
    rd_test_http_resp_free(&last);
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    rd_test_http_req_t rq = {.method = method,
                             .url = url,
                             .content_type = "application/json",
                             .body = body,
                             .userpwd = userpwd,
                             .timeout_ms = 30000};
    rd_test_http_do(&rq, &last);
    r = (resp_t){last.status, last.body, last.headers, json_loads(last.body, 0, NULL)};
    return &r;
}

#define API(fx, m, p, b) req((fx)->port, (m), (p), (b), AUTH)

/* in_body is looked for in the raw body and in the decoded "error" string. */
static void expect(const resp_t *r, long status, const char *in_body) {
    const char *e = json_string_value(json_object_get(r->json, "error"));
    if (r->status != status || (in_body && !strstr(r->body, in_body) && !(e && strstr(e, in_body))))
        fail_msg("HTTP %ld (want %ld): %s\nheaders: %s\nwanted body~%s", r->status, status, r->body,
                 r->hdr, in_body ? in_body : "");
    if (!json_is_object(r->json)) fail_msg("body is not a JSON object: %s", r->body);
}

static const char *jstr(const resp_t *r, const char *k) {
    return json_string_value(json_object_get(r->json, k));
}
static long long jint(const resp_t *r, const char *k) {
    return json_integer_value(json_object_get(r->json, k));
}

static long long redis_int(fx_t *fx, const char *fmt, const char *a, const char *b) {
    return rd_test_redis_int(fx->c, fx->r.prefix, fmt, a, b);
}

static void create(fx_t *fx, const char *name, const char *numbers) {
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"caller_id\":\"x\",\"call_flow_id\":\"f\",\"numbers\":[%s]}", name,
             numbers);
    expect(API(fx, "POST", "/v1/Accounts/acc/Campaigns", body), 201, NULL);
}

/* ---- tests ------------------------------------------------------------------------- */

static void t_seed_create(void **state) {
    fx_t *fx = *state;
    resp_t *r = API(fx, "POST", "/v1/Accounts/AC1234/Campaigns", SEED);
    expect(r, 201, NULL);
    assert_string_equal(jstr(r, "id"), "Payment_Reminders");
    assert_int_equal(jint(r, "enqueued"), 2);
    assert_int_equal(jint(r, "refused"), 0);
    assert_non_null(strstr(r->hdr, "Location: /v1/campaigns/Payment_Reminders"));
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 2);
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:Payment_Reminders", "st"), 0);

    r = API(fx, "GET", "/v1/campaigns/Payment_Reminders", NULL);
    expect(r, 200, NULL);
    assert_string_equal(jstr(r, "state"), "active");
    assert_int_equal(jint(r, "pending"), 2);
    json_t *cfg = json_object_get(r->json, "config");
    assert_string_equal(json_string_value(json_object_get(cfg, "provider")), "exotel");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(cfg, "retry"), "max_attempts")), 3);

    /* Same body again: 409, nothing changes. */
    r = API(fx, "POST", "/v1/Accounts/AC1234/Campaigns", SEED);
    expect(r, 409, "already exists");
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 2);

    r = API(fx, "GET", "/v1/campaigns", NULL);
    expect(r, 200, "Payment_Reminders");
    /* exotel's style with .json and a trailing slash tolerated */
    expect(API(fx, "POST", "/v1/Accounts/AC1234/Campaigns.json/",
               "{\"name\":\"J\",\"caller_id\":\"x\",\"call_flow_id\":\"f\"}"),
           201, "\"id\":\"J\"");
}

static void t_numbers_reported_and_batched(void **state) {
    fx_t *fx = *state;
    /* 3000 numbers, 3 of them invalid, one duplicated. */
    size_t cap = 3100 * 20 + 256;
    char *body = malloc(cap);
    size_t n = (size_t)snprintf(body, cap,
                                "{\"name\":\"Big\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
                                "\"numbers\":[");
    for (int i = 0; i < 3000; i++) {
        if (i == 7)
            n += (size_t)snprintf(body + n, cap - n, "\"12345\",");
        else if (i == 100)
            n += (size_t)snprintf(body + n, cap - n, "\"+91 98000\",");
        else if (i == 2999)
            n += (size_t)snprintf(body + n, cap - n, "\"+0919800000001\"");
        else if (i == 500)
            n += (size_t)snprintf(body + n, cap - n, "\"+919800000001\",");
        else
            n += (size_t)snprintf(body + n, cap - n, "\"+9198%08d\",", i);
    }
    snprintf(body + n, cap - n, "]}");
    resp_t *r = API(fx, "POST", "/v1/Accounts/a/Campaigns", body);
    free(body);
    expect(r, 201, NULL);
    assert_int_equal(jint(r, "numbers"), 3000);
    assert_int_equal(jint(r, "enqueued"), 2996);
    assert_int_equal(jint(r, "duplicates"), 1);
    assert_int_equal(jint(r, "refused"), 3);
    json_t *inv = json_object_get(r->json, "invalid");
    assert_int_equal(json_array_size(inv), 3);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(inv, 0), "index")), 7);
    assert_string_equal(json_string_value(json_object_get(json_array_get(inv, 1), "number")),
                        "+91 98000");
    assert_non_null(
        strstr(json_string_value(json_object_get(json_array_get(inv, 2), "reason")), "E.164"));
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Big:due", NULL), 2996);
}

static void t_auth(void **state) {
    fx_t *fx = *state;
    resp_t *r = req(fx->port, "POST", "/v1/Accounts/a/Campaigns", SEED, NULL);
    expect(r, 401, "authentication required");
    assert_non_null(strstr(r->hdr, "WWW-Authenticate: Basic realm=\"redial\""));
    expect(req(fx->port, "POST", "/v1/Accounts/a/Campaigns", SEED, KEY ":wrong"), 401, NULL);
    expect(req(fx->port, "GET", "/v1/campaigns", NULL, "nobody:" TOKEN), 401, NULL);
    expect(req(fx->port, "GET", "/v1/campaigns", NULL, KEY ":" TOKEN "x"), 401, NULL);
    expect(req(fx->port, "DELETE", "/v1/campaigns/X", NULL, ":"), 401, NULL);
    assert_int_equal(redis_int(fx, "EXISTS %s", "c:Payment_Reminders", NULL), 0);
    /* Without configured credentials the API is disabled, not open. */
    r = req(fx->port_off, "GET", "/v1/campaigns", NULL, AUTH);
    expect(r, 503, "control API disabled");
    r = req(fx->port_off, "GET", "/v1/campaigns", NULL, NULL);
    expect(r, 503, "disabled");
}

static void t_bad_input(void **state) {
    fx_t *fx = *state;
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns", "{\"name\": \"X\", "), 400,
           "not valid JSON");
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns",
               "{\"name\":\"X\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"retry\":{\"max_attempts\":0}}"),
           400, "retry.max_attempts");
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns", "{\"caller_id\":\"x\"}"), 400, "name");
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns",
               "{\"name\":\"X\",\"caller_id\":\"x\",\"call_flow_id\":\"f\",\"provider\":\"acme\"}"),
           400, "provider: unknown provider");
    /* issue 9: the engine's default provider is exotel: its SMS needs DLT ids */
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns",
               "{\"name\":\"X\",\"caller_id\":\"x\",\"call_flow_id\":\"f\",\"sms_fallback\":{"
               "\"after_attempts\":1,\"body\":\"b\",\"dlt_entity_id\":\"1\"}}"),
           400, "sms_fallback.dlt_template_id");
    assert_int_equal(redis_int(fx, "EXISTS %s", "c:X", NULL), 0);
    static const char *const junk[] = {"",       "null", "[]",       "\"s\"",        "1e999999",
                                       "{\"a\"", "{}",   "\x01\x02", "{\"name\":{}}"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
        expect(API(fx, "POST", "/v1/Accounts/a/Campaigns", junk[i]), 400, NULL);
        expect(API(fx, "POST", "/v1/calls", junk[i]), 400, NULL);
        expect(API(fx, "POST", "/v1/optout", junk[i]), 400, NULL);
        expect(API(fx, "PATCH", "/v1/campaigns/X", junk[i]), 400, NULL);
    }
    /* Deep nesting. */
    char *deep = malloc(40001);
    memset(deep, '[', 20000);
    memset(deep + 20000, ']', 20000);
    deep[40000] = '\0';
    expect(API(fx, "POST", "/v1/calls", deep), 400, NULL);
    free(deep);
    /* Over the body limit: the httpd's 413, with a JSON error. */
    char *big = malloc(MAX_BODY + 100);
    memset(big, ' ', MAX_BODY + 99);
    big[0] = '{';
    big[MAX_BODY + 98] = '}';
    big[MAX_BODY + 99] = '\0';
    expect(API(fx, "POST", "/v1/Accounts/a/Campaigns", big), 413, NULL);
    free(big);
    /* The listener still serves. */
    expect(API(fx, "GET", "/v1/campaigns", NULL), 200, NULL);
}

static void t_routes_404_405(void **state) {
    fx_t *fx = *state;
    expect(API(fx, "GET", "/v1/campaigns/Nope", NULL), 404, "no campaign named \"Nope\"");
    expect(API(fx, "GET", "/v1/campaigns/Nope/stats", NULL), 404, "Nope");
    expect(API(fx, "DELETE", "/v1/campaigns/Nope", NULL), 404, NULL);
    expect(API(fx, "PATCH", "/v1/campaigns/Nope", "{\"state\":\"paused\"}"), 404, NULL);
    expect(API(fx, "GET", "/v1/campaigns/bad%20name", NULL), 404, NULL);
    expect(API(fx, "GET", "/v1/whatever", NULL), 404, "no such API route");
    expect(API(fx, "GET", "/v1/campaigns/a/b/c/d/e/f", NULL), 404, NULL);
    resp_t *r = API(fx, "PUT", "/v1/campaigns/X", "{}");
    expect(r, 405, "not allowed");
    assert_non_null(strstr(r->hdr, "Allow: GET, PATCH, DELETE"));
    r = API(fx, "GET", "/v1/calls", NULL);
    expect(r, 405, NULL);
    assert_non_null(strstr(r->hdr, "Allow: POST"));
    expect(API(fx, "GET", "/v1/Accounts/a/Campaigns", NULL), 405, NULL);
    expect(API(fx, "POST", "/v1/campaigns/X/stats", "{}"), 405, NULL);
    expect(API(fx, "DELETE", "/v1/optout", NULL), 405, NULL);
    /* Not an API path: left to the engine's other routes. */
    r = API(fx, "GET", "/healthz", NULL);
    expect(r, 404, "not an API path");
}

static void t_pause_resume_cancel(void **state) {
    fx_t *fx = *state;
    create(fx, "PR", "\"+919800000001\",\"+919800000002\"");
    resp_t *r = API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":\"paused\"}");
    expect(r, 200, NULL);
    assert_string_equal(jstr(r, "state"), "paused");
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:PR", "st"), 1);
    expect(API(fx, "GET", "/v1/campaigns/PR", NULL), 200, "\"state\":\"paused\"");
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":\"active\"}"), 200, "active");
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:PR", "st"), 0);
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":\"asleep\"}"), 400, "state: must be");
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":\"canceled\"}"), 400, "DELETE");
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"mood\":1}"), 400, "mood: unknown field");
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":3}"), 400, "state");
    r = API(fx, "DELETE", "/v1/campaigns/PR", NULL);
    expect(r, 200, "\"state\":\"canceled\"");
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:PR:due", NULL), 0);
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:PR", "st"), 2);
    r = API(fx, "GET", "/v1/campaigns/PR", NULL);
    expect(r, 200, NULL);
    assert_int_equal(jint(r, "finished"), 2);
    expect(API(fx, "PATCH", "/v1/campaigns/PR", "{\"state\":\"active\"}"), 409, "canceled");
    expect(API(fx, "POST", "/v1/calls", "{\"campaign\":\"PR\",\"to\":\"+919800000009\"}"), 409,
           "canceled");
}

static void t_calls_and_optout(void **state) {
    fx_t *fx = *state;
    create(fx, "C2", "");
    const char *call = "{\"v\":1,\"campaign\":\"C2\",\"to\":\"+919800000001\",\"id\":\"call-1\","
                       "\"vars\":{\"invoice\":\"42\"}}";
    resp_t *r = API(fx, "POST", "/v1/calls", call);
    expect(r, 201, NULL);
    assert_string_equal(jstr(r, "result"), "created");
    assert_string_equal(jstr(r, "id"), "call-1");
    assert_true(jint(r, "due_ms") > 0);
    r = API(fx, "POST", "/v1/calls", call);
    expect(r, 200, "\"result\":\"duplicate\"");
    /* "v" may be omitted; no id: generated. */
    r = API(fx, "POST", "/v1/calls", "{\"campaign\":\"C2\",\"to\":\"+919800000002\"}");
    expect(r, 201, "C2/+919800000002/");
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:C2:due", NULL), 2);
    expect(API(fx, "POST", "/v1/calls", "{\"campaign\":\"C2\",\"to\":\"98000\"}"), 400, "to");
    expect(API(fx, "POST", "/v1/calls", "{\"campaign\":\"Ghost\",\"to\":\"+919800000002\"}"), 404,
           "Ghost");
    expect(API(fx, "POST", "/v1/calls", "{\"to\":\"+919800000002\"}"), 400, "campaign");
    expect(API(fx, "POST", "/v1/calls", "{\"campaign\":\"C2\",\"to\":\"+919800000003\",\"x\":1}"),
           400, "x");
    expect(API(fx, "POST", "/v1/calls",
               "{\"campaign\":\"C2\",\"to\":\"+919800000003\",\"tz\":\"Nowhere/City\"}"),
           400, "tz");
    expect(API(fx, "POST", "/v1/calls",
               "{\"campaign\":\"C2\",\"to\":\"+919800000001\",\"id\":\"call-other\"}"),
           409, "another id");

    r = API(fx, "POST", "/v1/optout", "{\"number\":\"+919800000001\"}");
    expect(r, 200, "\"opted_out\":true");
    assert_int_equal(jint(r, "jobs_finished"), 1);
    assert_int_equal(redis_int(fx, "SISMEMBER %s %s", "optout", "+919800000001"), 1);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:C2:due", NULL), 1);
    r = API(fx, "POST", "/v1/calls",
            "{\"campaign\":\"C2\",\"to\":\"+919800000001\",\"id\":\"c9\"}");
    expect(r, 200, "\"result\":\"opted-out\"");
    expect(API(fx, "POST", "/v1/optout", "{\"number\":\"12\"}"), 400, "E.164");
    expect(API(fx, "POST", "/v1/optout", "{}"), 400, "number: is required");
    expect(API(fx, "POST", "/v1/optout", "{\"number\":\"+919800000001\",\"why\":\"x\"}"), 400,
           "why");
}

static void t_stats(void **state) {
    fx_t *fx = *state;
    create(fx, "St", "\"+919800000001\"");
    resp_t *r = API(fx, "GET", "/v1/campaigns/St/stats", NULL);
    expect(r, 200, NULL);
    assert_string_equal(jstr(r, "campaign"), "St");
    assert_true(json_is_null(json_object_get(r->json, "first_attempt_connection_rate")));
    assert_int_equal(jint(r, "pending"), 1);
    char key[200];
    snprintf(key, sizeof key, "%s:c:St:st", fx->r.prefix);
    freeReplyObject(redisCommand(fx->c, "HSET %s a1:0 4 a1:2 6 k1 4 a2:0 3 a2:3 3 k2 3", key));
    r = API(fx, "GET", "/v1/campaigns/St/stats", NULL);
    expect(r, 200, NULL);
    double first = json_real_value(json_object_get(r->json, "first_attempt_connection_rate"));
    assert_true(first > 0.399 && first < 0.401);
    assert_true(json_is_object(json_object_get(r->json, "targets")));
    assert_int_equal(json_array_size(json_object_get(r->json, "by_attempt")), 2);
}

/* Adds a dead letter as the ingest writes it; returns its id (static buffer). */
static const char *add_dead(fx_t *fx, const char *json, const char *reason) {
    static char id[64];
    char k[128];
    snprintf(k, sizeof k, "%s:deadletter", fx->r.prefix);
    redisReply *x = redisCommand(fx->c, "XADD %s * j %s reason %s entry 1-1", k, json, reason);
    assert_non_null(x);
    assert_int_equal(x->type, REDIS_REPLY_STRING);
    snprintf(id, sizeof id, "%s", x->str);
    freeReplyObject(x);
    return id;
}

static void t_deadletter(void **state) {
    fx_t *fx = *state;
    create(fx, "DL", "");
    char good[64], bad[64], path[160];
    snprintf(bad, sizeof bad, "%s",
             add_dead(fx, "{\"v\":1,\"campaign\":\"Ghost\",\"to\":\"+919800000001\"}",
                      "campaign: \"Ghost\" does not exist"));
    snprintf(good, sizeof good, "%s",
             add_dead(fx, "{\"v\":1,\"campaign\":\"DL\",\"to\":\"+919800000002\"}",
                      "campaign: \"DL\" does not exist"));
    resp_t *r = API(fx, "GET", "/v1/deadletter", NULL);
    expect(r, 200, NULL);
    assert_int_equal(jint(r, "depth"), 2);
    json_t *e0 = json_array_get(json_object_get(r->json, "entries"), 0);
    assert_string_equal(json_string_value(json_object_get(e0, "id")), good); /* newest first */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(e0, "message"), "campaign")), "DL");
    r = API(fx, "GET", "/v1/deadletter?limit=1", NULL);
    expect(r, 200, NULL);
    assert_int_equal(json_array_size(json_object_get(r->json, "entries")), 1);
    expect(API(fx, "GET", "/v1/deadletter?limit=0", NULL), 400, "limit");
    snprintf(path, sizeof path, "/v1/deadletter/%s", bad);
    r = API(fx, "GET", path, NULL);
    expect(r, 200, "Ghost");
    assert_string_equal(jstr(r, "format"), "json");
    expect(API(fx, "GET", "/v1/deadletter/nope", NULL), 404, "no dead letter");
    expect(API(fx, "GET", "/v1/deadletter/1-1", NULL), 404, "no dead letter");
    expect(req(fx->port, "GET", "/v1/deadletter", NULL, "x:y"), 401, NULL);
    /* Replay re-validates: still invalid stays (422), valid moves to the inbox. */
    snprintf(path, sizeof path, "/v1/deadletter/%s/replay", bad);
    r = API(fx, "POST", path, NULL);
    expect(r, 422, "Ghost");
    assert_int_equal(redis_int(fx, "XLEN %s", "deadletter", NULL), 2);
    snprintf(path, sizeof path, "/v1/deadletter/%s/replay", good);
    r = API(fx, "POST", path, NULL);
    expect(r, 200, "\"result\":\"replayed\"");
    assert_int_equal(redis_int(fx, "XLEN %s", "deadletter", NULL), 1);
    assert_int_equal(redis_int(fx, "XLEN %s", "inbox", NULL), 1);
    char k[128];
    snprintf(k, sizeof k, "%s:inbox", fx->r.prefix);
    redisReply *x = redisCommand(fx->c, "XRANGE %s - +", k);
    assert_int_equal(x->elements, 1);
    /* The original field only: no reason / entry carried back. */
    assert_int_equal(x->element[0]->element[1]->elements, 2);
    assert_string_equal(x->element[0]->element[1]->element[0]->str, "j");
    freeReplyObject(x);
    expect(API(fx, "POST", path, NULL), 404, "no dead letter");
    expect(API(fx, "GET", path, NULL), 405, NULL);
    snprintf(path, sizeof path, "/v1/deadletter/%s", bad);
    r = API(fx, "DELETE", path, NULL);
    expect(r, 200, "\"purged\":1");
    assert_int_equal(redis_int(fx, "XLEN %s", "deadletter", NULL), 0);
    expect(API(fx, "DELETE", path, NULL), 404, NULL);
}

static void t_redis_down(void **state) {
    fx_t *fx = *state;
    resp_t *r = req(fx->port_dead, "GET", "/v1/campaigns", NULL, AUTH);
    expect(r, 503, "redis unavailable");
    assert_non_null(strstr(r->hdr, "Retry-After"));
    expect(req(fx->port_dead, "POST", "/v1/Accounts/a/Campaigns", SEED, AUTH), 503, NULL);
    expect(req(fx->port_dead, "POST", "/v1/calls", "{\"campaign\":\"C\",\"to\":\"+919800000001\"}",
               AUTH),
           503, NULL);
}

int main(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_seed_create, setup, teardown),
        cmocka_unit_test_setup_teardown(t_numbers_reported_and_batched, setup, teardown),
        cmocka_unit_test_setup_teardown(t_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(t_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(t_routes_404_405, setup, teardown),
        cmocka_unit_test_setup_teardown(t_pause_resume_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(t_calls_and_optout, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stats, setup, teardown),
        cmocka_unit_test_setup_teardown(t_deadletter, setup, teardown),
        cmocka_unit_test_setup_teardown(t_redis_down, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
