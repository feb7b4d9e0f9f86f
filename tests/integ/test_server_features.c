/*
 * redial-server features end to end, through the real pieces (redis-server,
 * redial-sim over HTTP, redial-server processes), time-scaled so one policy
 * hour is one wall second, from 10:00 on Tuesday 2026-12-01, Asia/Kolkata:
 *
 *   - `smart`: a campaign whose Redis counters say Tuesday 18h answers best
 *     (and that has min_samples attempts) retries a busy number at 18:00;
 *     a campaign under min_samples falls back to `increasing` (30 min);
 *   - SMS fallback: after two unanswered attempts of a live job exactly one
 *     SMS per job reaches the simulator, with two engines and every status
 *     callback delivered twice; jobs that connect earlier get none;
 *   - /metrics: after a small campaign the campaign series carry the same
 *     figures as `redial-cli stats --json`, and every callback settled with
 *     the attempt the dialing engine held (no lookup);
 *   - settle without a second lookup: a dial the provider refuses and a
 *     placed call whose callbacks are all lost (settled from status polls of
 *     recovered leases) settle with the job the engine already holds
 *     (redial_settle_lookups_total stays 0).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define ORIGIN "2026-12-01T10:00:00+05:30"
#define ORIGIN_MS 1796099400000LL /* the same instant, unix ms */
#define HOUR_MS 3600000LL

typedef struct {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    bool sim_started;
    char epoch[32];
    const char *origin; /* policy time at the epoch [ORIGIN] */
    const char *scale;  /* ["3600": a policy hour per wall second] */
    rd_test_server_t servers[2];
    int n_servers;
} env_t;

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    e->origin = ORIGIN;
    e->scale = "3600";
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    for (int i = 0; i < e->n_servers; i++) rd_test_server_kill(&e->servers[i]);
    if (e->sim_started) rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

static void start_sim(env_t *e, const char *script, const char *const *extra) {
    rd_test_sim_opts_t so = {
        .model = "uniform:completed=1",
        .script_json = script,
        .seed = 11,
        .time_scale = e->scale,
        .time_origin = e->origin,
        .time_epoch = e->epoch,
        .extra_args = extra,
    };
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    e->sim_started = true;
}

static const char *const ENGINE_ARGS[] = {"--provider-rate", "100000/1", "--log-level", "debug",
                                          NULL};

static rd_test_server_t *start_engine(env_t *e, const char *id) {
    assert_true(e->n_servers < 2);
    rd_test_server_t *s = &e->servers[e->n_servers++];
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = e->sim.base,
        .time_scale = e->scale,
        .time_origin = e->origin,
        .time_epoch = e->epoch,
        .engine_id = id,
        .extra_args = ENGINE_ARGS,
    };
    assert_int_equal(rd_test_server_start(s, &o), 0);
    return s;
}

static void create_campaign(const rd_test_server_t *s, const char *body) {
    assert_int_equal(rd_test_create_campaign(s, body), 201);
}

static void enqueue(const rd_test_server_t *s, const char *campaign, const char *to) {
    char body[256];
    snprintf(body, sizeof body, "{\"campaign\":\"%s\",\"to\":\"%s\"}", campaign, to);
    assert_int_equal(rd_test_api(s, "POST", "/v1/calls", body, NULL), 201);
}

/* ---- smart ------------------------------------------------------------------ */

#define FAVOURED_HOW (2 * 24 + 18) /* Tuesday 18h, local hour of week */

/* Counters as the settle script keeps them (docs/REDIS.md, "Stats"): every
   hour tried 1000 times; Tuesday 18h answered 90%, the rest 10%. */
static void seed_answer_rates(env_t *e, const char *campaign, long long attempts) {
    redisContext *rc = rd_test_redis_sync(&e->redis);
    assert_non_null(rc);
    char key[160];
    snprintf(key, sizeof key, "%s:c:%s:st", e->redis.prefix, campaign);
    for (int h = 0; h < 168; h++) {
        redisReply *r =
            redisCommand(rc, "HSET %s ha%d 1000 hk%d %d", key, h, h, h == FAVOURED_HOW ? 900 : 100);
        assert_non_null(r);
        freeReplyObject(r);
    }
    redisReply *r = redisCommand(rc, "HSET %s a1:2 %lld", key, attempts); /* attempts numbered 1 */
    assert_non_null(r);
    freeReplyObject(r);
    redisFree(rc);
}

static void smart_campaign(const rd_test_server_t *s, const char *name) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
             "\"numbers\":[],\"retry\":{\"max_attempts\":3,\"strategy\":\"smart\","
             "\"min_samples\":200,\"horizon_hours\":48,\"min_gap_minutes\":30},"
             "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"}}",
             name);
    create_campaign(s, body);
}

static void t_smart(void **state) {
    env_t *e = *state;
    start_sim(
        e,
        "{\"+919811000001\":[\"busy\",\"completed\"],\"+919811000002\":[\"busy\",\"completed\"],"
        "\"+919822000001\":[\"busy\",\"completed\"],\"+919822000002\":[\"busy\",\"completed\"]}",
        NULL);
    rd_test_server_t *s = start_engine(e, "smart");
    smart_campaign(s, "Smart");
    smart_campaign(s, "Young");
    seed_answer_rates(e, "Smart", 5000);
    seed_answer_rates(e, "Young", 150); /* same shape, under min_samples */
    enqueue(s, "Smart", "+919811000001");
    enqueue(s, "Smart", "+919811000002");
    enqueue(s, "Young", "+919822000001");
    enqueue(s, "Young", "+919822000002");
    assert_int_equal(rd_test_wait_finished(s, "Young", 2, 20), 0);
    assert_int_equal(rd_test_wait_finished(s, "Smart", 2, 30), 0);

    static const char *const smart_nums[] = {"+919811000001", "+919811000002"};
    static const char *const young_nums[] = {"+919822000001", "+919822000002"};
    for (int i = 0; i < 2; i++) {
        long long t[4];
        assert_int_equal(rd_test_sim_calls_to(&e->sim, smart_nums[i], t, 4), 2);
        assert_true(t[0] - ORIGIN_MS < HOUR_MS / 2); /* attempt 1 at once */
        /* The retry lands in the favoured hour: 18:00 plus jitter (< 120 s). */
        long long at = t[1] - ORIGIN_MS;
        if (at < 8 * HOUR_MS || at >= 8 * HOUR_MS + 5 * 60000)
            fprintf(stderr, "smart retry at +%lld ms\n", at);
        assert_true(at >= 8 * HOUR_MS && at < 8 * HOUR_MS + 5 * 60000);

        assert_int_equal(rd_test_sim_calls_to(&e->sim, young_nums[i], t, 4), 2);
        /* increasing [30, 60, 120]: the first retry 30 minutes after the
           claim. The sim sees each call a little after its claim: a few
           policy seconds normally, but at scale 3600 a policy minute is
           17 wall ms, and under TSan the claim -> dial path has taken
           longer (a gap of 28.7 min seen), so the bound below 30 is loose. */
        long long gap = t[1] - t[0];
        if (gap < 27 * 60000 || gap >= 35 * 60000) fprintf(stderr, "young gap %lld ms\n", gap);
        assert_true(gap >= 27 * 60000 && gap < 35 * 60000);
    }
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

/* ---- SMS fallback ------------------------------------------------------------- */

#define SMS_GROUP 5

static void t_sms_fallback(void **state) {
    env_t *e = *state;
    /* Four patterns, SMS_GROUP numbers each; max_attempts 4, SMS after 2
       unanswered attempts:
         0: busy, no-answer, completed       -> SMS after attempt 2
         1: busy, completed                  -> none
         2: no-answer, busy, no-answer, busy -> one SMS (after attempt 2 only)
         3: failed, busy, completed          -> none (failed is not unanswered) */
    static const char *const patterns[] = {
        "[\"busy\",\"no-answer\",\"completed\"]",
        "[\"busy\",\"completed\"]",
        "[\"no-answer\",\"busy\",\"no-answer\",\"busy\"]",
        "[\"failed\",\"busy\",\"completed\"]",
    };
    char script[4096], numbers[2048];
    size_t sl = 0, nl = 0;
    sl += (size_t)snprintf(script + sl, sizeof script - sl, "{");
    for (int i = 0; i < 4 * SMS_GROUP; i++) {
        sl += (size_t)snprintf(script + sl, sizeof script - sl, "%s\"+9198330000%02d\":%s",
                               i ? "," : "", i, patterns[i % 4]);
        nl += (size_t)snprintf(numbers + nl, sizeof numbers - nl, "%s\"+9198330000%02d\"",
                               i ? "," : "", i);
    }
    snprintf(script + sl, sizeof script - sl, "}");
    static const char *const sim_args[] = {"--cb-dup", "1", NULL};
    start_sim(e, script, sim_args);
    rd_test_server_t *a = start_engine(e, "sms-a");
    start_engine(e, "sms-b");
    char body[4096];
    snprintf(body, sizeof body,
             "{\"name\":\"Sms\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
             "\"numbers\":[%s],\"retry\":{\"max_attempts\":4,\"interval_minutes\":30},"
             "\"sms_fallback\":{\"after_attempts\":2,\"body\":\"We tried to reach you: "
             "please call us back.\",\"dlt_entity_id\":\"1101\",\"dlt_template_id\":\"1107\"}}",
             numbers);
    create_campaign(a, body);
    assert_int_equal(rd_test_wait_finished(a, "Sms", 4 * SMS_GROUP, 60), 0);
    /* The SMS is sent right after the settle: give the last ones a moment. */
    long long sms = -1;
    for (int i = 0; i < 50; i++) {
        char *report = rd_test_sim_report(&e->sim);
        assert_non_null(report);
        sms = rd_test_report_int(report, "sim.sms");
        long long dups = rd_test_report_int(report, "sim.callbacks.duplicated");
        assert_true(dups > 0);
        free(report);
        if (sms >= 2 * SMS_GROUP) break;
        rd_test_sleep_ms(100);
    }
    rd_test_sleep_ms(500); /* nothing more may come */
    char *report = rd_test_sim_report(&e->sim);
    sms = rd_test_report_int(report, "sim.sms");
    free(report);
    if (sms != 2 * SMS_GROUP) {
        for (int i = 0; i < 4 * SMS_GROUP; i++) { /* what each number saw */
            char url[256], *resp = NULL;
            snprintf(url, sizeof url, "%s/sim/numbers/%%2B9198330000%02d", e->sim.base, i);
            rd_test_http("GET", url, NULL, NULL, NULL, &resp);
            fprintf(stderr, "%s\n", resp ? resp : "?");
            free(resp);
        }
    }
    assert_int_equal(sms, 2 * SMS_GROUP);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    for (int i = 0; i < e->n_servers; i++)
        assert_int_equal(rd_test_server_stop(&e->servers[i], SIGTERM, 15000), 0);
}

/* An SMS whose deciding attempt ends after the calling window closed waits
 * for the window to open: dialed before 21:00 IST (a policy minute per wall
 * second, from 20:58), a 3-minute ring ends it past 21:00. */
static void t_sms_held_to_window(void **state) {
    env_t *e = *state;
    e->origin = "2026-12-01T20:58:00+05:30";
    e->scale = "60";
    start_sim(e, "{\"+919833200000\":[\"no-answer\"]}", NULL);
    rd_test_server_t *s = start_engine(e, "sms-late");
    create_campaign(s, "{\"name\":\"Late\",\"caller_id\":\"08030000000\",\"call_flow_id\":"
                       "\"1\",\"numbers\":[\"+919833200000\"],\"retry\":{\"max_attempts\":1},"
                       "\"call\":{\"ring_timeout_seconds\":180},"
                       "\"sms_fallback\":{\"after_attempts\":1,\"body\":\"Please call back.\","
                       "\"dlt_entity_id\":\"1101\",\"dlt_template_id\":\"1107\"}}");
    assert_int_equal(rd_test_wait_finished(s, "Late", 1, 30), 0);
    rd_test_sleep_ms(1000); /* an SMS sent at the settle would have reached the sim by now */
    char *report = rd_test_sim_report(&e->sim);
    assert_non_null(report);
    assert_int_equal(rd_test_report_int(report, "calls_total"), 1);
    assert_int_equal(rd_test_report_int(report, "sim.sms"), 0);
    free(report);
    char *log = rd_test_slurp(s->log_path);
    assert_non_null(log);
    const char *held = strstr(log, "event=sms.held campaign=Late");
    if (!held) fprintf(stderr, "%s\n", log);
    assert_non_null(held);
    /* until_ms: the next day's 09:00 IST window start, plus at most the jitter */
    long long until = atoll(strstr(held, "until_ms=") + 9);
    assert_true(until >= ORIGIN_MS + 23 * HOUR_MS && until <= ORIGIN_MS + 23 * HOUR_MS + 120000);
    free(log);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

/* ---- /metrics ------------------------------------------------------------------ */

/* The value of one series line `name{labels} value` of a scrape; NAN when absent
   (and when the series says NaN). */
static double series(const char *scrape, const char *name_and_labels, bool *found) {
    size_t n = strlen(name_and_labels);
    *found = false;
    for (const char *p = scrape; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name_and_labels, n) == 0 && p[n] == ' ') {
            *found = true;
            return strtod(p + n + 1, NULL);
        }
    }
    return NAN;
}

static void expect(const char *scrape, const char *campaign, const char *metric,
                   const char *extra_label, json_t *want) {
    char key[256];
    if (extra_label)
        snprintf(key, sizeof key, "redial_campaign_%s{campaign=\"%s\",%s}", metric, campaign,
                 extra_label);
    else
        snprintf(key, sizeof key, "redial_campaign_%s{campaign=\"%s\"}", metric, campaign);
    bool found;
    double got = series(scrape, key, &found);
    if (!found) fprintf(stderr, "missing series %s\n", key);
    assert_true(found);
    if (json_is_null(want)) {
        assert_true(isnan(got));
        return;
    }
    assert_true(json_is_number(want));
    /* The CLI prints reals with 6 significant digits. */
    double w = json_number_value(want);
    bool same = fabs(got - w) <= 1e-6 * fmax(1.0, fabs(w));
    if (!same) fprintf(stderr, "%s: %.17g, stats --json says %.17g\n", key, got, w);
    assert_true(same);
}

/* GET /metrics of engine s (caller frees). */
/* path: "/metrics" (the engine's own series) or "/metrics/cluster" (the deployment's). */
static char *get_metrics_at(const rd_test_server_t *s, const char *path) {
    char url[128], *scrape = NULL;
    snprintf(url, sizeof url, "%s%s", s->base, path);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &scrape), 200);
    return scrape;
}

static char *get_metrics(const rd_test_server_t *s) { return get_metrics_at(s, "/metrics"); }

static void t_metrics(void **state) {
    env_t *e = *state;
    start_sim(e,
              "{\"+919844000000\":[\"completed\"],\"+919844000001\":[\"busy\",\"completed\"],"
              "\"+919844000002\":[\"busy\",\"no-answer\",\"busy\"],"
              "\"+919844000003\":[\"no-answer\",\"busy\",\"completed\"],"
              "\"+919844000004\":[\"completed\"],\"+919844000005\":[\"busy\",\"completed\"]}",
              NULL);
    rd_test_server_t *s = start_engine(e, "metrics");
    create_campaign(s, "{\"name\":\"Prom\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[\"+919844000000\",\"+919844000001\",\"+919844000002\","
                       "\"+919844000003\",\"+919844000004\",\"+919844000005\"],"
                       "\"retry\":{\"max_attempts\":3,\"interval_minutes\":30}}");
    create_campaign(s, "{\"name\":\"Idle\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[]}");
    assert_int_equal(rd_test_wait_finished(s, "Prom", 6, 30), 0);

    char *out = NULL;
    char *argv[] = {"redial-cli", "stats",    "Prom",          "--json", "--redis",
                    e->redis.url, "--prefix", e->redis.prefix, NULL};
    assert_int_equal(rd_test_run(argv, &out), 0);
    json_t *want = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(want);

    /* The campaign figures are the deployment's: /metrics/cluster. */
    char *scrape = get_metrics_at(s, "/metrics/cluster");
    assert_non_null(strstr(scrape, "# TYPE redial_campaign_first_attempt_connection_rate gauge"));
    assert_non_null(strstr(scrape, "# TYPE redial_campaign_jobs_dialed_total counter"));

    expect(scrape, "Prom", "jobs_dialed_total", NULL, json_object_get(want, "dialed"));
    expect(scrape, "Prom", "jobs_finished_total", NULL, json_object_get(want, "finished"));
    expect(scrape, "Prom", "jobs_connected_total", NULL, json_object_get(want, "connected"));
    expect(scrape, "Prom", "pending_jobs", NULL, json_object_get(want, "pending"));
    double attempts = 0;
    static const char *const outs[] = {"completed", "busy", "no-answer"};
    for (size_t i = 0; i < 3; i++) {
        char key[160];
        bool f;
        snprintf(key, sizeof key,
                 "redial_campaign_attempts_total{campaign=\"Prom\",outcome=\"%s\"}", outs[i]);
        attempts += series(scrape, key, &f);
        assert_true(f);
    }
    assert_true(attempts == json_number_value(json_object_get(want, "attempts")));
    static const char *const rates[] = {"first_attempt_connection_rate", "total_connection_rate",
                                        "average_attempts_to_connect", "unreachable_rate",
                                        "retry_roi"};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        expect(scrape, "Prom", rates[i], NULL, json_object_get(want, rates[i]));
    json_t *retry = json_object_get(want, "retry_connection_rate");
    assert_int_equal(json_array_size(retry), 2);
    for (size_t k = 0; k < json_array_size(retry); k++) {
        char label[32];
        snprintf(label, sizeof label, "retry=\"%zu\"", k + 1);
        expect(scrape, "Prom", "retry_connection_rate", label, json_array_get(retry, k));
    }
    json_t *by = json_object_get(want, "by_attempt");
    assert_int_equal(json_array_size(by), 3);
    for (size_t k = 0; k < json_array_size(by); k++) {
        json_t *row = json_array_get(by, k);
        char label[32];
        snprintf(label, sizeof label, "attempt=\"%zu\"", k + 1);
        expect(scrape, "Prom", "cumulative_connection_rate", label,
               json_object_get(row, "cumulative_connection_rate"));
        if (k > 0)
            expect(scrape, "Prom", "incremental_gain", label,
                   json_object_get(row, "incremental_gain"));
    }
    /* A campaign without data: counts 0, rates NaN (null in the JSON). */
    json_t *zero = json_integer(0);
    expect(scrape, "Idle", "jobs_dialed_total", NULL, zero);
    json_decref(zero);
    expect(scrape, "Idle", "first_attempt_connection_rate", NULL, json_null());
    bool found;
    /* The engine's own /metrics: its series, no campaign figures. */
    free(scrape);
    scrape = get_metrics(s);
    assert_true(series(scrape, "redial_redis_up", &found) == 1 && found);
    assert_non_null(strstr(scrape, "redial_build_info{version=\""));
    /* Engine series fed by the callbacks module: one engine settled every attempt. */
    assert_true(series(scrape, "redial_settles_total", &found) ==
                    json_number_value(json_object_get(want, "attempts")) &&
                found);
    assert_true(series(scrape, "redial_callbacks_total", &found) >= 1 && found);
    /* The latency histograms saw every settle and every dial request. */
    assert_true(series(scrape, "redial_settle_duration_seconds_count", &found) ==
                    series(scrape, "redial_settles_total", &found) &&
                found);
    assert_true(series(scrape, "redial_settle_duration_seconds_bucket{le=\"+Inf\"}", &found) ==
                    series(scrape, "redial_settles_total", &found) &&
                found);
    assert_true(series(scrape, "redial_provider_dial_duration_seconds_count", &found) >=
                    json_number_value(json_object_get(want, "attempts")) &&
                found);
    assert_true(series(scrape, "redial_redis_script_duration_seconds_count", &found) > 0 && found);
    /* Every callback came back to the engine that dialed: settled with the attempt it
       held, none looked up in Redis. */
    double held = series(scrape, "redial_settle_held_total", &found);
    assert_true(held >= 1 && found);
    double lookups = series(scrape, "redial_settle_lookups_total", &found);
    if (lookups != 0) fprintf(stderr, "settle lookups: %g (held %g)\n", lookups, held);
    assert_true(lookups == 0 && found);
    json_decref(want);
    free(scrape);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

/* A claimed job whose number already had today's attempt elsewhere is sent
 * back undialed by the dial-time check, and counted. */
static void t_deferred_counted(void **state) {
    env_t *e = *state;
    start_sim(e, "{\"+919846000000\":[\"completed\",\"completed\"]}", NULL);
    rd_test_server_t *s = start_engine(e, "deferred");
    for (int i = 0; i < 2; i++) {
        char body[512];
        snprintf(body, sizeof body,
                 "{\"name\":\"Cap%c\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                 "\"numbers\":[\"+919846000000\"],"
                 "\"limits\":{\"max_attempts_per_number_per_day\":1}}",
                 'A' + i);
        create_campaign(s, body);
    }
    double deferred = 0;
    bool found = false;
    for (int i = 0; i < 100 && deferred < 1; i++) {
        char *scrape = get_metrics(s);
        deferred = series(scrape, "redial_dials_deferred_total{reason=\"cap\"}", &found);
        free(scrape);
        if (deferred < 1) usleep(100 * 1000);
    }
    assert_true(found);
    if (deferred < 1) fail_msg("no dial deferred by the per-number daily cap");
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

static const char *const LOSE_CALLBACKS[] = {"--cb-loss", "1", NULL};

static void t_settle_without_lookup(void **state) {
    env_t *e = *state;
    start_sim(e, "{\"+919845000000\":[\"invalid\"],\"+919845000001\":[\"busy\",\"completed\"]}",
              LOSE_CALLBACKS);
    rd_test_server_t *s = start_engine(e, "held");
    create_campaign(s, "{\"name\":\"Held\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[\"+919845000000\",\"+919845000001\"],"
                       "\"call\":{\"callback_grace_seconds\":5},"
                       "\"retry\":{\"max_attempts\":3,\"interval_minutes\":30}}");
    assert_int_equal(rd_test_wait_finished(s, "Held", 2, 60), 0);
    char *scrape = get_metrics(s);
    bool found;
    /* One refused dial, two polled calls: three settles, none looked up. */
    assert_true(series(scrape, "redial_dials_refused_total", &found) == 1 && found);
    assert_true(series(scrape, "redial_status_polls_total", &found) >= 2 && found);
    assert_true(series(scrape, "redial_settles_total", &found) == 3 && found);
    assert_true(series(scrape, "redial_callbacks_total", &found) == 0 && found);
    double lookups = series(scrape, "redial_settle_lookups_total", &found);
    if (lookups != 0) fprintf(stderr, "settle lookups: %g\n", lookups);
    assert_true(lookups == 0 && found);
    free(scrape);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_metrics, setup, teardown),
        cmocka_unit_test_setup_teardown(t_settle_without_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(t_deferred_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(t_smart, setup, teardown),
        cmocka_unit_test_setup_teardown(t_sms_fallback, setup, teardown),
        cmocka_unit_test_setup_teardown(t_sms_held_to_window, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
