/*
 * The policy end to end, through the real pieces (redis-server, redial-sim
 * over HTTP, redial-server and redial-cli processes), time-scaled so four
 * policy hours pass per wall second, Asia/Kolkata:
 *
 *   - plan = engine: one job's due times, read from the engine's due set
 *     after each step, equal to the second the times `redial-cli plan`
 *     prints for the same campaign, number and outcomes (every retry lands
 *     on a window start, so each due time carries the jitter of its seed);
 *   - engine defaults: `--max-per-day 1` makes a campaign created without
 *     `limits` dial a number at most once per callee-local day (the sim's
 *     calls and its referee say so); `--max-per-7-days 2` holds the third
 *     attempt for a week; both are stored in the campaign, a campaign that
 *     names its limits keeps them, and an out-of-range value stops the
 *     engine with a message;
 *   - `redial-cli campaign create` applies the same environment twins.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proto/tz.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define ORIGIN "2026-12-01T08:00:00+05:30"
#define DAY_MS 86400000LL
#define SCORE_EPOCH_MS 1577836800000LL /* docs/REDIS.md, "Due scores" */

typedef struct {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    bool sim_started;
    char epoch[32];
    rd_test_server_t server;
    bool server_started;
    char dir[64];
} env_t;

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    snprintf(e->dir, sizeof e->dir, "/tmp/rd_policy_e2e_XXXXXX");
    if (!mkdtemp(e->dir)) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    if (e->server_started) rd_test_server_kill(&e->server);
    if (e->sim_started) rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", e->dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", e->dir);
    free(e);
    return 0;
}

static void start_sim(env_t *e, const char *script) {
    rd_test_sim_opts_t so = {
        .model = "uniform:completed=1",
        .script_json = script,
        .seed = 5,
        .time_scale = "14400",
        .time_origin = ORIGIN,
        .time_epoch = e->epoch,
    };
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    e->sim_started = true;
}

static void start_engine(env_t *e, const char *const *extra) {
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = e->sim.base,
        .time_scale = "14400",
        .time_origin = ORIGIN,
        .time_epoch = e->epoch,
        .engine_id = "policy-e2e",
        .extra_args = extra,
    };
    assert_int_equal(rd_test_server_start(&e->server, &o), 0);
    e->server_started = true;
}

static void create_campaign(const env_t *e, const char *body) {
    assert_int_equal(rd_test_create_campaign(&e->server, body), 201);
}

/* limits.<key> of a campaign as GET /v1/campaigns/{name} shows its stored configuration. */
static long long stored_limit(const env_t *e, const char *name, const char *key) {
    char path[160], *resp = NULL;
    snprintf(path, sizeof path, "/v1/campaigns/%s", name);
    assert_int_equal(rd_test_api(&e->server, "GET", path, NULL, &resp), 200);
    json_t *j = json_loads(resp, 0, NULL);
    free(resp);
    assert_non_null(j);
    json_t *v = json_object_get(json_object_get(json_object_get(j, "config"), "limits"), key);
    long long n = json_is_integer(v) ? json_integer_value(v) : -1;
    json_decref(j);
    return n;
}

/* Due time of the number's pending job in a campaign (unix ms), 0 when not pending. */
static int64_t due_of(redisContext *rc, const env_t *e, const char *campaign, const char *to) {
    redisReply *r = redisCommand(rc, "ZSCORE %s:c:%s:due %s", e->redis.prefix, campaign, to);
    assert_non_null(r);
    int64_t due = 0;
    if (r->type == REDIS_REPLY_STRING)
        due = (int64_t)(strtod(r->str, NULL) / 4096) + SCORE_EPOCH_MS;
    freeReplyObject(r);
    return due;
}

/*
 * Watches the due set until the campaign has `jobs` finished jobs: every
 * distinct due time of `to`, in order, into due[0..return).
 */
static size_t watch_due(const env_t *e, const char *campaign, const char *to, long long jobs,
                        int64_t *due, size_t max, int timeout_s) {
    redisContext *rc = rd_test_redis_sync(&e->redis);
    assert_non_null(rc);
    size_t n = 0;
    for (int i = 0; i < timeout_s * 200; i++) {
        int64_t d = due_of(rc, e, campaign, to);
        if (d && (n == 0 || due[n - 1] != d) && n < max) due[n++] = d;
        if (i % 20 == 0 && rd_test_campaign_finished(&e->server, campaign) == jobs) break;
        rd_test_sleep_ms(5);
    }
    redisFree(rc);
    assert_int_equal(rd_test_campaign_finished(&e->server, campaign), jobs);
    return n;
}

static int64_t ist(int d, int h, int mi) {
    return rd_tz_from_local(rd_tz_get("Asia/Kolkata"), 2026, 12, d, h, mi);
}

/* ---- plan = engine ----------------------------------------------------------------- */

#define REPLAY_TO "+919833300001"
#define REPLAY                                                                                 \
    "{\"name\":\"Replay\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","               \
    "\"numbers\":[\"" REPLAY_TO "\"],\"retry\":{\"max_attempts\":3,\"interval_minutes\":240}," \
    "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"12:00\"}}"

static void t_plan_equals_engine(void **state) {
    env_t *e = *state;
    start_sim(e, "{\"" REPLAY_TO "\":[\"no-answer\",\"no-answer\",\"no-answer\"]}");
    start_engine(e, NULL);
    /* Created at 08:00 IST (before the window): each attempt's due time is a
       window start (09:00, then 09:0x + 4 h is past 12:00: the next 09:00)
       plus the jitter of its seed. */
    create_campaign(e, REPLAY);
    int64_t due[16];
    size_t n = watch_due(e, "Replay", REPLAY_TO, 1, due, 16, 60);

    char path[128];
    snprintf(path, sizeof path, "%s/replay.json", e->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(REPLAY, f);
    fclose(f);
    char *out = NULL;
    const char *argv[] = {"redial-cli",
                          "plan",
                          path,
                          "--start",
                          "2026-12-01 08:00",
                          "--outcomes",
                          "no-answer,no-answer,no-answer",
                          "--json",
                          NULL};
    assert_int_equal(rd_test_run_io(argv, NULL, &out, NULL), 0);
    json_t *plan = json_loads(out, 0, NULL);
    free(out);
    assert_non_null(plan);
    json_t *at = json_object_get(plan, "attempts");
    assert_int_equal(json_array_size(at), 3);
    /* Each planned time is the engine's due time of that attempt. A dial the
       engine had to put back (a transient provider error under load) adds a
       later due time of the same attempt, so the plan is matched in order
       against what was seen rather than position by position. */
    bool jittered = false;
    size_t k = 0;
    for (size_t i = 0; i < 3; i++) {
        int64_t want = json_integer_value(json_object_get(json_array_get(at, i), "at_ms"));
        while (k < n && due[k] != want) k++;
        if (k == n) {
            for (size_t j = 0; j < n; j++)
                fprintf(stderr, "engine due %zu: %lld\n", j, (long long)due[j]);
            fail_msg("attempt %zu: plan says %lld, the engine never had it due then", i + 1,
                     (long long)want);
        }
        assert_true(want >= ist(1 + (int)i, 9, 0) && want < ist(1 + (int)i, 9, 2));
        jittered |= want != ist(1 + (int)i, 9, 0);
        k++;
    }
    assert_true(jittered); /* the times carry the seeds' jitter, not bare window starts */
    json_decref(plan);
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

/* ---- engine defaults for campaigns ----------------------------------------------- */

#define DAILY_TO "+919833300002"

static void t_engine_max_per_day(void **state) {
    env_t *e = *state;
    start_sim(e, "{\"" DAILY_TO "\":[\"no-answer\",\"no-answer\",\"no-answer\"]}");
    static const char *const extra[] = {"--max-per-day", "1", "--max-per-7-days", "5", NULL};
    start_engine(e, extra);
    /* The referee checks every call against one call per callee-local day. */
    long st = rd_test_sim_post(&e->sim, "campaigns",
                               "{\"name\":\"Daily\",\"max_attempts\":3,\"max_per_day\":1,"
                               "\"daily_start\":\"09:00\",\"daily_end\":\"21:00\","
                               "\"timezone\":\"Asia/Kolkata\"}");
    assert_true(st == 200 || st == 201);
    create_campaign(e, "{\"name\":\"Daily\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[\"" DAILY_TO "\"],\"retry\":{\"max_attempts\":3,"
                       "\"interval_minutes\":60}}");
    /* A campaign that names its caps keeps them. */
    create_campaign(e, "{\"name\":\"Own\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[],\"limits\":{\"max_attempts_per_number_per_day\":2,"
                       "\"max_attempts_per_number_per_7_days\":9}}");
    assert_int_equal(stored_limit(e, "Daily", "max_attempts_per_number_per_day"), 1);
    assert_int_equal(stored_limit(e, "Daily", "max_attempts_per_number_per_7_days"), 5);
    assert_int_equal(stored_limit(e, "Own", "max_attempts_per_number_per_day"), 2);
    assert_int_equal(stored_limit(e, "Own", "max_attempts_per_number_per_7_days"), 9);

    assert_int_equal(rd_test_wait_finished(&e->server, "Daily", 1, 60), 0);
    long long created[8];
    long n = rd_test_sim_calls_to(&e->sim, DAILY_TO, created, 8);
    assert_int_equal(n, 3);
    /* 09:00 + jitter on day 1, then once on each following local day */
    const rd_tz_t *tz = rd_tz_get("Asia/Kolkata");
    for (long i = 0; i < n; i++) {
        rd_localtime_t lt;
        rd_tz_local(tz, created[i], &lt);
        assert_int_equal(lt.day, 1 + (int)i);
    }
    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

#define WEEK_TO "+919833300003"

static void t_engine_max_per_7_days(void **state) {
    env_t *e = *state;
    start_sim(e, "{\"" WEEK_TO "\":[\"no-answer\",\"no-answer\",\"no-answer\"]}");
    static const char *const extra[] = {"--max-per-7-days", "2", NULL};
    start_engine(e, extra);
    create_campaign(e, "{\"name\":\"Week\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
                       "\"numbers\":[\"" WEEK_TO "\"],\"retry\":{\"max_attempts\":3,"
                       "\"interval_minutes\":60},\"schedule\":{\"daily_start\":\"08:00\"}}");
    assert_int_equal(stored_limit(e, "Week", "max_attempts_per_number_per_day"), 4);
    assert_int_equal(stored_limit(e, "Week", "max_attempts_per_number_per_7_days"), 2);
    /* Two attempts (08:00, 09:00 on day 1); the third waits until the first
       leaves the rolling week: day 8 at the first attempt's start (its claim,
       a moment before the sim saw the call). */
    redisContext *rc = rd_test_redis_sync(&e->redis);
    assert_non_null(rc);
    int64_t due = 0;
    for (int i = 0; i < 3000 && due < ist(2, 0, 0); i++) {
        due = due_of(rc, e, "Week", WEEK_TO);
        rd_test_sleep_ms(5);
    }
    redisFree(rc);
    long long created[8];
    assert_int_equal(rd_test_sim_calls_to(&e->sim, WEEK_TO, created, 8), 2);
    assert_true(due > created[0] + 7 * DAY_MS - 3600000 && due <= created[0] + 7 * DAY_MS);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
    e->server_started = false;
}

static void t_engine_default_out_of_range(void **state) {
    env_t *e = *state;
    char *out = NULL, *err = NULL;
    const char *argv[] = {"redial-server", "--redis",       e->redis.url, "--listen",
                          "127.0.0.1:0",   "--max-per-day", "0",          NULL};
    assert_int_equal(rd_test_run_io(argv, NULL, &out, &err), 2); /* usage */
    if (!strstr(err, "--max-per-day")) fprintf(stderr, "%s\n", err);
    assert_non_null(strstr(err, "--max-per-day (REDIAL_MAX_PER_DAY): "
                                "max_attempts_per_number_per_day: must be an integer in 1..100"));
    free(out);
    free(err);
}

/* ---- the CLI's campaign create ----------------------------------------------------- */

static void t_cli_create_env_defaults(void **state) {
    env_t *e = *state;
    char path[128];
    snprintf(path, sizeof path, "%s/cli.json", e->dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"name\":\"Cli\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\",\"numbers\":[]}",
          f);
    fclose(f);
    setenv("REDIAL_MAX_PER_DAY", "2", 1);
    setenv("REDIAL_MAX_PER_7_DAYS", "6", 1);
    char *out = NULL;
    const char *create[] = {"redial-cli", "campaign", "create",        path, "--redis",
                            e->redis.url, "--prefix", e->redis.prefix, NULL};
    assert_int_equal(rd_test_run_io(create, NULL, &out, NULL), 0);
    free(out);
    const char *show[] = {"redial-cli", "campaign",   "show",     "Cli",           "--json",
                          "--redis",    e->redis.url, "--prefix", e->redis.prefix, NULL};
    assert_int_equal(rd_test_run_io(show, NULL, &out, NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    if (!j) fprintf(stderr, "%s\n", out);
    free(out);
    assert_non_null(j);
    json_t *l = json_object_get(json_object_get(j, "config"), "limits");
    assert_int_equal(json_integer_value(json_object_get(l, "max_attempts_per_number_per_day")), 2);
    assert_int_equal(json_integer_value(json_object_get(l, "max_attempts_per_number_per_7_days")),
                     6);
    json_decref(j);
    /* Out of range: a usage error, nothing created. */
    setenv("REDIAL_MAX_PER_DAY", "101", 1);
    char *err = NULL;
    assert_int_equal(rd_test_run_io(create, NULL, &out, &err), 2);
    assert_non_null(strstr(err, "REDIAL_MAX_PER_DAY"));
    free(out);
    free(err);
    unsetenv("REDIAL_MAX_PER_DAY");
    unsetenv("REDIAL_MAX_PER_7_DAYS");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_plan_equals_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(t_engine_max_per_day, setup, teardown),
        cmocka_unit_test_setup_teardown(t_engine_max_per_7_days, setup, teardown),
        cmocka_unit_test_setup_teardown(t_engine_default_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cli_create_env_defaults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
