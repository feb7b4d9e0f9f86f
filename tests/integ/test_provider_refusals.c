/*
 * Provider refusals end to end (issue 9), through the real pieces
 * (redis-server, redial-sim or an in-process provider stand-in over HTTP,
 * redial-server), one policy hour per wall second:
 *
 *   - a provider that answers 21212 (invalid caller id) to every dial: the
 *     campaign ends `paused` with the reason on the API, /metrics and the
 *     log, no job becomes final, no attempt is used; after an operator
 *     resumes it, the reason is gone and the next refusal pauses it again;
 *   - a 2xx dial reply redial cannot read: one dial per job, settled by the
 *     (multipart) callback carrying the attempt key, or `failed` after the
 *     grace — never a second call;
 *   - a callback in a content type no provider uses: 415;
 *   - a 4xx no table classifies: never charged; five in a row pause;
 *   - Twilio with an API key: callbacks are signed with the account's auth
 *     token (REDIAL_TWILIO_AUTH_TOKEN), and accepted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/agent_hold.h"
#include "proto/form.h"
#include "proto/rd.h"
#include "tests/lib/httpd_thread.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define ORIGIN "2026-12-01T10:00:00+05:30"

typedef struct {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    bool sim_started;
    char epoch[32];
    rd_test_server_t server;
    bool server_started;
} env_t;

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    if (e->server_started) rd_test_server_kill(&e->server);
    if (e->sim_started) rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

static void start_sim(env_t *e, const char *const *extra) {
    rd_test_sim_opts_t so = {.model = "uniform:completed=1",
                             .seed = 3,
                             .time_scale = "3600",
                             .time_origin = ORIGIN,
                             .time_epoch = e->epoch,
                             .extra_args = extra};
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    e->sim_started = true;
}

static const char *const ENGINE_ARGS[] = {"--provider-rate", "100000/1", "--log-level", "debug",
                                          NULL};

static void start_engine(env_t *e, const char *provider, const char *provider_url) {
    rd_test_server_opts_t o = {.redis_url = e->redis.url,
                               .prefix = e->redis.prefix,
                               .provider = provider,
                               .provider_url = provider_url,
                               .time_scale = "3600",
                               .time_origin = ORIGIN,
                               .time_epoch = e->epoch,
                               .extra_args = ENGINE_ARGS};
    assert_int_equal(rd_test_server_start(&e->server, &o), 0);
    e->server_started = true;
}

static long api(const env_t *e, const char *method, const char *path, const char *body,
                char **resp) {
    return rd_test_api(&e->server, method, path, body, resp);
}

static void create_campaign(const env_t *e, const char *body) {
    assert_int_equal(rd_test_create_campaign(&e->server, body), 201);
}

/* GET /v1/campaigns/{name} (owned JSON). */
static json_t *show(const env_t *e, const char *name) {
    char path[128], *resp = NULL;
    snprintf(path, sizeof path, "/v1/campaigns/%s", name);
    assert_int_equal(api(e, "GET", path, NULL, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static long long jint(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    return json_is_integer(v) ? json_integer_value(v) : -1;
}

/* Waits until the campaign's state is `state` (<= timeout_s); its view. */
static json_t *wait_state(const env_t *e, const char *name, const char *state, int timeout_s) {
    for (int i = 0; i < timeout_s * 20; i++) {
        json_t *j = show(e, name);
        if (!strcmp(jstr(j, "state"), state)) return j;
        json_decref(j);
        rd_test_sleep_ms(50);
    }
    fail_msg("campaign %s never became %s", name, state);
    return NULL;
}

static char *metrics(const env_t *e) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/metrics", e->server.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &resp), 200);
    return resp;
}

static long long metric(const char *scrape, const char *name) {
    char key[256];
    snprintf(key, sizeof key, "\n%s ", name);
    const char *p = strstr(scrape, key);
    return p ? atoll(p + strlen(key)) : -1;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *NUMBERS =
    "[\"+14155550101\",\"+14155550102\",\"+14155550103\",\"+14155550104\"]";

/* The provider refuses our caller id on every dial: paused, nothing lost. */
static void t_bad_caller_id_pauses(void **state) {
    env_t *e = *state;
    static const char *const sim_args[] = {"--caller-ids", "+14155559999", "--twilio-api-key",
                                           RD_TEST_PROVIDER_KEY, NULL};
    setenv("REDIAL_SIM_TWILIO_API_SECRET", RD_TEST_PROVIDER_TOKEN, 1);
    start_sim(e, sim_args);
    unsetenv("REDIAL_SIM_TWILIO_API_SECRET");
    start_engine(e, "twilio", e->sim.base);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"BadCid\",\"caller_id\":\"+14155550000\",\"call_flow_id\":\"EH1\","
             "\"numbers\":%s,\"retry\":{\"max_attempts\":3,\"interval_minutes\":30}}",
             NUMBERS);
    create_campaign(e, body);
    json_t *j = wait_state(e, "BadCid", "paused", 20);
    const char *reason = jstr(j, "pause_reason");
    if (!strstr(reason, "provider rejected caller_id: 21212"))
        fail_msg("pause reason: \"%s\"", reason);
    json_decref(j);
    /* Dials in flight come back too: let them settle, then nothing is lost. */
    rd_test_sleep_ms(500);
    j = show(e, "BadCid");
    assert_int_equal(jint(j, "finished"), 0);
    assert_int_equal(jint(j, "pending") + jint(j, "live"), 4);
    assert_string_equal(jstr(j, "state"), "paused");
    json_decref(j);
    char *resp = NULL;
    assert_int_equal(api(e, "GET", "/v1/campaigns/BadCid/stats", NULL, &resp), 200);
    j = json_loads(resp, 0, NULL);
    free(resp);
    assert_int_equal(jint(j, "attempts"), 0);
    json_decref(j);
    /* /metrics and the log say so. */
    char *m = metrics(e);
    assert_non_null(strstr(m, "redial_campaign_paused_by_provider{campaign=\"BadCid\",reason="
                              "\"provider rejected caller_id: 21212"));
    assert_true(metric(m, "redial_dials_account_refused_total") >= 1);
    assert_int_equal(metric(m, "redial_dials_refused_total"), 0);
    free(m);
    char *log = read_file(e->server.log_path);
    assert_non_null(log);
    assert_non_null(strstr(log, "event=campaign.paused campaign=BadCid"));
    free(log);
    /* The referee saw no call at all. */
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);

    /* An operator resumes it without fixing the caller id: reason cleared,
       the next refusal pauses it again. */
    assert_int_equal(api(e, "PATCH", "/v1/campaigns/BadCid", "{\"state\":\"active\"}", NULL), 200);
    j = show(e, "BadCid");
    if (!strcmp(jstr(j, "state"), "active")) assert_string_equal(jstr(j, "pause_reason"), "");
    json_decref(j);
    /* The released jobs are due again 5 wall seconds after the refusal. */
    j = wait_state(e, "BadCid", "paused", 20);
    assert_non_null(strstr(jstr(j, "pause_reason"), "21212"));
    assert_int_equal(jint(j, "finished"), 0);
    json_decref(j);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

/* ---- a provider stand-in whose dial replies cannot be read ---- */

typedef struct {
    rd_test_httpd_t h;
    pthread_mutex_t mu;
    bool unknown_4xx; /* answer 400 with a code no table has */
    int dials;
    char cb[8][512]; /* StatusCallback of each dial */
    char to[8][32];
} standin_t;

static void standin_handler(rd_http_req_t *req, void *data) {
    standin_t *s = data;
    rd_form_t f;
    rd_form_init(&f);
    pthread_mutex_lock(&s->mu);
    if (s->dials < 8 && rd_form_parse(&f, req->body, req->body_len) == 0) {
        const char *cb = rd_form_get(&f, "StatusCallback"), *from = rd_form_get(&f, "From");
        snprintf(s->cb[s->dials], sizeof s->cb[0], "%s", cb ? cb : "");
        snprintf(s->to[s->dials], sizeof s->to[0], "%s", from ? from : "");
    }
    s->dials++;
    pthread_mutex_unlock(&s->mu);
    rd_form_deinit(&f);
    if (s->unknown_4xx) {
        static const char err[] = "{\"code\":22005,\"message\":\"Invalid number\",\"status\":400}";
        rd_http_respond(req, 400, "application/json", NULL, err, sizeof err - 1);
        return;
    }
    /* 200, but XML: the call may well exist. */
    static const char xml[] = "<?xml version=\"1.0\"?><TwilioResponse><Call><Sid>abc</Sid>"
                              "</Call></TwilioResponse>";
    rd_http_respond(req, 200, "application/xml", NULL, xml, sizeof xml - 1);
}

static void t_unreadable_reply_no_second_call(void **state) {
    env_t *e = *state;
    standin_t *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    rd_httpd_config_t hc = {.host = "127.0.0.1", .handler = standin_handler, .data = s};
    rd_test_httpd_start(&s->h, &hc);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s->h.port);
    start_engine(e, "exotel", base);
    create_campaign(e, "{\"name\":\"Unk\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[\"+919800000001\",\"+919800000002\"],"
                       "\"retry\":{\"max_attempts\":1},\"call\":{\"callback_grace_seconds\":5}}");
    for (int i = 0; i < 100; i++) {
        pthread_mutex_lock(&s->mu);
        int n = s->dials;
        pthread_mutex_unlock(&s->mu);
        if (n >= 2) break;
        rd_test_sleep_ms(50);
    }
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->dials, 2);
    char cb[512];
    snprintf(cb, sizeof cb, "%s", s->cb[0]);
    pthread_mutex_unlock(&s->mu);
    /* Exotel's default callback body: multipart/form-data. */
    const char *q = strchr(cb, '?');
    assert_non_null(q);
    char mp[1024];
    snprintf(mp, sizeof mp,
             "--XyZ\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\nabc123\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\ncompleted\r\n"
             "--XyZ\r\nContent-Disposition: form-data; name=\"EventType\"\r\n\r\nterminal\r\n"
             "--XyZ--\r\n");
    char url[768];
    snprintf(url, sizeof url, "%s%s", e->server.cb_base, strstr(cb, "/callbacks/"));
    char *resp = NULL;
    long st = rd_test_http("POST", url, "multipart/form-data; boundary=XyZ", mp, NULL, &resp);
    if (st != 200) fprintf(stderr, "callback: %ld %s\n", st, resp ? resp : "");
    assert_int_equal(st, 200);
    assert_non_null(strstr(resp, "settled"));
    free(resp);
    /* A callback in a type no provider sends: 415. */
    assert_int_equal(rd_test_http("POST", url, "text/plain", "CallSid=x&Status=busy", NULL, NULL),
                     415);
    /* The other job has no callback: `failed` after ring + limit + grace
       (5 s wall), with no second dial meanwhile. */
    assert_int_equal(rd_test_wait_finished(&e->server, "Unk", 2, 30), 0);
    pthread_mutex_lock(&s->mu);
    assert_int_equal(s->dials, 2);
    pthread_mutex_unlock(&s->mu);
    assert_int_equal(api(e, "GET", "/v1/campaigns/Unk/stats", NULL, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_int_equal(jint(j, "attempts"), 2);
    json_decref(j);
    char *m = metrics(e);
    assert_int_equal(metric(m, "redial_dials_placed_unknown_total"), 2);
    free(m);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
    rd_test_httpd_stop(&s->h);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* A 4xx nobody classified is never charged; a run of them pauses. */
static void t_unknown_4xx_run_pauses(void **state) {
    env_t *e = *state;
    standin_t *s = calloc(1, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->unknown_4xx = true;
    rd_httpd_config_t hc = {.host = "127.0.0.1", .handler = standin_handler, .data = s};
    rd_test_httpd_start(&s->h, &hc);
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", s->h.port);
    start_engine(e, "twilio", base);
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"Unk4\",\"caller_id\":\"+14155550000\",\"call_flow_id\":\"EH1\","
             "\"numbers\":%s,\"retry\":{\"max_attempts\":2}}",
             NUMBERS);
    create_campaign(e, body);
    json_t *j = wait_state(e, "Unk4", "paused", 30);
    const char *reason = jstr(j, "pause_reason");
    if (!strstr(reason, "provider rejected 5 dials in a row") || !strstr(reason, "22005"))
        fail_msg("pause reason: \"%s\"", reason);
    json_decref(j);
    rd_test_sleep_ms(300);
    char *resp = NULL;
    assert_int_equal(api(e, "GET", "/v1/campaigns/Unk4/stats", NULL, &resp), 200);
    j = json_loads(resp, 0, NULL);
    free(resp);
    assert_int_equal(jint(j, "attempts"), 0);
    assert_int_equal(jint(j, "finished"), 0);
    json_decref(j);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
    rd_test_httpd_stop(&s->h);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* Twilio with an API key: the REST secret is not what signs callbacks. */
static void t_twilio_api_key(void **state) {
    env_t *e = *state;
    setenv("REDIAL_SIM_TWILIO_TOKEN", "the-account-auth-token", 1);
    setenv("REDIAL_SIM_TWILIO_API_SECRET", RD_TEST_PROVIDER_TOKEN, 1);
    static const char *const sim_args[] = {"--twilio-api-key", RD_TEST_PROVIDER_KEY, NULL};
    start_sim(e, sim_args);
    unsetenv("REDIAL_SIM_TWILIO_TOKEN");
    unsetenv("REDIAL_SIM_TWILIO_API_SECRET");
    setenv("REDIAL_TWILIO_AUTH_TOKEN", "the-account-auth-token", 1);
    start_engine(e, "twilio", e->sim.base);
    unsetenv("REDIAL_TWILIO_AUTH_TOKEN");
    char body[1024];
    snprintf(body, sizeof body,
             "{\"name\":\"Key\",\"caller_id\":\"+14155550000\",\"call_flow_id\":\"EH1\","
             "\"numbers\":%s,\"retry\":{\"max_attempts\":1},\"call\":{\"callback_grace_seconds\":"
             "600}}",
             NUMBERS);
    create_campaign(e, body);
    /* Settled by callbacks (the grace is 10 wall minutes: no poll would). */
    assert_int_equal(rd_test_wait_finished(&e->server, "Key", 4, 20), 0);
    char *m = metrics(e);
    assert_int_equal(metric(m, "redial_callbacks_rejected_total"), 0);
    assert_true(metric(m, "redial_callbacks_total") >= 4);
    free(m);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

/* Exotel agent mode: an agent who does not answer is not the customer's
   attempt (requeued shortly, not charged); `completed` needs both legs. */
static void t_agent_leg_attribution(void **state) {
    env_t *e = *state;
    rd_test_sim_opts_t so = {.model = "uniform:completed=1",
                             .seed = 5,
                             .time_scale = "3600",
                             .time_origin = ORIGIN,
                             .time_epoch = e->epoch,
                             .script_json =
                                 "{\"+919811100001\":[\"agent-no-answer\",\"completed\"],"
                                 "\"+919811100002\":[\"agent-busy\",\"busy\"],"
                                 "\"+919811100003\":[\"no-answer\"]}"};
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    e->sim_started = true;
    start_engine(e, "exotel", e->sim.base);
    const char *const av[] = {"redial-cli", "agents",     "set",      "desk",          "5",
                              "--redis",    e->redis.url, "--prefix", e->redis.prefix, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(rd_test_run_io(av, NULL, &out, &err), 0);
    free(out);
    free(err);
    create_campaign(e, "{\"name\":\"Agents\",\"caller_id\":\"08030000000\",\"mode\":\"agent\","
                       "\"numbers\":[\"+919811100001\",\"+919811100002\",\"+919811100003\"],"
                       "\"retry\":{\"max_attempts\":1},\"limits\":{\"agent_pool\":\"desk\"},"
                       "\"call\":{\"ring_timeout_seconds\":20}}");
    assert_int_equal(rd_test_wait_finished(&e->server, "Agents", 3, 40), 0);
    char *resp = NULL;
    assert_int_equal(api(e, "GET", "/v1/campaigns/Agents/stats", NULL, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    /* One attempt each: the agent's misses were not charged. */
    assert_int_equal(jint(j, "attempts"), 3);
    json_decref(j);
    /* The sim saw two calls to the first two numbers, one to the third. */
    static const char *const nums[] = {"+919811100001", "+919811100002", "+919811100003"};
    static const long want[] = {2, 2, 1};
    long long created[8];
    for (int i = 0; i < 3; i++)
        assert_int_equal(rd_test_sim_calls_to(&e->sim, nums[i], created, 8), want[i]);
    char *log = read_file(e->server.log_path);
    assert_non_null(strstr(log, "event=attempt.agent_unanswered campaign=Agents"));
    assert_non_null(strstr(log, "event=dial.agent_held campaign=Agents"));
    free(log);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

/* Occurrences of `needle` in `hay`. */
static int count_of(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

/* Twilio agent mode: the agent's call is placed first and its TwiML dials
   the customer, whose <Number> leg reports its own status: an agent miss is
   not the customer's attempt; the customer's outcome is its own leg's. */
static void t_twilio_agent_legs(void **state) {
    env_t *e = *state;
    rd_test_sim_opts_t so = {.model = "uniform:completed=1",
                             .seed = 5,
                             .time_scale = "3600",
                             .time_origin = ORIGIN,
                             .time_epoch = e->epoch,
                             .script_json = "{\"+14155550101\":[\"agent-no-answer\",\"completed\"],"
                                            "\"+14155550102\":[\"busy\"],"
                                            "\"+14155550103\":[\"completed\"]}"};
    static const char *const sim_args[] = {"--twilio-api-key", RD_TEST_PROVIDER_KEY, NULL};
    so.extra_args = sim_args;
    setenv("REDIAL_SIM_TWILIO_API_SECRET", RD_TEST_PROVIDER_TOKEN, 1);
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    unsetenv("REDIAL_SIM_TWILIO_API_SECRET");
    e->sim_started = true;
    start_engine(e, "twilio", e->sim.base);
    const char *const av[] = {"redial-cli", "agents",     "set",      "desk",          "5",
                              "--redis",    e->redis.url, "--prefix", e->redis.prefix, NULL};
    char *out = NULL, *err = NULL;
    assert_int_equal(rd_test_run_io(av, NULL, &out, &err), 0);
    free(out);
    free(err);
    create_campaign(e, "{\"name\":\"TwAgents\",\"caller_id\":\"+14155550000\",\"mode\":"
                       "\"agent\",\"numbers\":[\"+14155550101\",\"+14155550102\",\"+14155550103\"],"
                       "\"retry\":{\"max_attempts\":1},\"limits\":{\"agent_pool\":\"desk\"},"
                       "\"call\":{\"ring_timeout_seconds\":20,\"callback_grace_seconds\":600}}");
    assert_int_equal(rd_test_wait_finished(&e->server, "TwAgents", 3, 40), 0);
    char *resp = NULL;
    assert_int_equal(api(e, "GET", "/v1/campaigns/TwAgents/stats", NULL, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    /* One attempt each: the agent's miss was not charged. */
    assert_int_equal(jint(j, "attempts"), 3);
    json_decref(j);
    static const char *const nums[] = {"+14155550101", "+14155550102", "+14155550103"};
    static const long want[] = {2, 1, 1};
    long long created[8];
    for (int i = 0; i < 3; i++)
        assert_int_equal(rd_test_sim_calls_to(&e->sim, nums[i], created, 8), want[i]);
    /* The agent who missed was held back (agent_hold.h) before anyone rang him
       again: the job came back after the hold, not after the 5 s requeue. */
    assert_int_equal(rd_test_sim_calls_to(&e->sim, nums[0], created, 8), 2);
    assert_true(created[1] - created[0] >= (long long)(RD_AGENT_HOLD_WALL_MS - 2000) * 3600);
    char *log = read_file(e->server.log_path);
    assert_non_null(strstr(log, "event=attempt.agent_unanswered campaign=TwAgents"));
    assert_non_null(strstr(log, "event=dial.agent_held campaign=TwAgents"));
    /* Settled by the customer legs' own callbacks: busy is the customer's,
       completed only where both talked (the agent's leg `completed` each time). */
    assert_int_equal(count_of(log, "outcome=busy via=callback"), 1);
    assert_int_equal(count_of(log, "outcome=completed via=callback"), 2);
    free(log);
    char *m = metrics(e);
    assert_int_equal(metric(m, "redial_callbacks_rejected_total"), 0);
    free(m);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_bad_caller_id_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unreadable_reply_no_second_call, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unknown_4xx_run_pauses, setup, teardown),
        cmocka_unit_test_setup_teardown(t_twilio_api_key, setup, teardown),
        cmocka_unit_test_setup_teardown(t_agent_leg_attribution, setup, teardown),
        cmocka_unit_test_setup_teardown(t_twilio_agent_legs, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
