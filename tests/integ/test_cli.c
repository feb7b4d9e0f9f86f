/*
 * Integration tests of redial-cli: the built binary (REDIAL_BIN_DIR) run as
 * a child process against a real redis-server, each test with its own key
 * prefix. Every command's output, exit code and effect in Redis is checked;
 * Redis state is read back with a plain hiredis connection (the layout of
 * docs/REDIS.md), never through the code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "proto/clock.h"
#include "proto/tz.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

static const char SEED[] = RD_TEST_SPEC_BODY "\n";

typedef struct {
    rd_test_redis_t r;
    redisContext *c;
    char dir[128];
} fx_t;

typedef struct {
    int code;
    char *out, *err;
} run_t;

static void run_free(run_t *r) {
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

/*
 * Runs redial-cli with `args` (NULL-terminated) plus, when fx is given,
 * "--redis URL --prefix P" appended; stdin from `input` (NULL = empty).
 */
static run_t run_cli_v(fx_t *fx, const char *input, const char *const *args) {
    run_t r = {-1, NULL, NULL};
    const char *argv[64];
    int n = 0;
    argv[n++] = "redial-cli";
    for (int i = 0; args[i]; i++) argv[n++] = args[i];
    if (fx) {
        argv[n++] = "--redis";
        argv[n++] = fx->r.url;
        argv[n++] = "--prefix";
        argv[n++] = fx->r.prefix;
    }
    argv[n] = NULL;
    r.code = rd_test_run_io(argv, input, &r.out, &r.err);
    if (!r.out) r.out = calloc(1, 1);
    if (!r.err) r.err = calloc(1, 1);
    return r;
}

#define RUN(fx, input, ...) run_cli_v((fx), (input), (const char *const[]){__VA_ARGS__, NULL})

static void expect(const run_t *r, int code, const char *in_out, const char *in_err) {
    if (r->code != code || (in_out && !strstr(r->out, in_out)) ||
        (in_err && !strstr(r->err, in_err)))
        fail_msg("exit %d (want %d)\nstdout: %s\nstderr: %s\nwanted out~%s err~%s", r->code, code,
                 r->out, r->err, in_out ? in_out : "", in_err ? in_err : "");
}

static json_t *parse_json(const run_t *r) {
    json_error_t e;
    json_t *j = json_loads(r->out, 0, &e);
    if (!j) fail_msg("not JSON (%s): %s\nstderr: %s", e.text, r->out, r->err);
    return j;
}

static long long redis_int(fx_t *fx, const char *fmt, const char *a, const char *b) {
    return rd_test_redis_int(fx->c, fx->r.prefix, fmt, a, b);
}

static void write_file(fx_t *fx, const char *name, const char *body, char *path, size_t len) {
    snprintf(path, len, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(body, f);
    fclose(f);
}

static int setup(void **state) {
    fx_t *fx = calloc(1, sizeof *fx);
    if (rd_test_redis_start(&fx->r)) return -1;
    fx->c = rd_test_redis_sync(&fx->r);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rdcli.XXXXXX");
    if (!fx->c || !mkdtemp(fx->dir)) return -1;
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fx_t *fx = *state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", fx->dir);
    redisFree(fx->c);
    rd_test_redis_stop(&fx->r);
    free(fx);
    return 0;
}

/* ---- tests -------------------------------------------------------------------------- */

static void t_help_and_usage(void **state) {
    (void)state;
    run_t r = RUN(NULL, NULL, "--help");
    expect(&r, 0, "campaign", NULL);
    assert_non_null(strstr(r.out, "report"));
    assert_non_null(strstr(r.out, "ping"));
    run_free(&r);
    static const char *const cmds[][2] = {{"campaign", NULL}, {"enqueue", NULL}, {"optout", NULL},
                                          {"dnd", "import"},  {"agents", "set"}, {"job", "show"},
                                          {"stats", NULL},    {"report", NULL},  {"ping", NULL}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        r = cmds[i][1] ? RUN(NULL, NULL, cmds[i][0], cmds[i][1], "--help")
                       : RUN(NULL, NULL, cmds[i][0], "--help");
        expect(&r, 0, "Exit codes", NULL);
        assert_non_null(strstr(r.out, "REDIAL_REDIS_URL"));
        assert_non_null(strstr(r.out, "Usage: redial-cli"));
        run_free(&r);
    }
    r = RUN(NULL, NULL, "stats", "X", "--frobnicate");
    expect(&r, 2, NULL, "--frobnicate: unknown option");
    run_free(&r);
    r = RUN(NULL, NULL, "enqueue", "X");
    expect(&r, 2, NULL, "needs a CAMPAIGN and either NUMBERs or --file");
    run_free(&r);
    r = RUN(NULL, NULL, "campaign", "explode", "X");
    expect(&r, 2, NULL, "unknown subcommand");
    run_free(&r);
    r = RUN(NULL, NULL, "agents", "set", "pool", "-3");
    expect(&r, 2, NULL, "not an agent count");
    run_free(&r);
    r = RUN(NULL, NULL, "stats", "X", "--timeout", "soon");
    expect(&r, 2, NULL, "not an integer");
    run_free(&r);
}

static void t_campaign_lifecycle(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "seed.json", SEED, path, sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 0, "created campaign Payment_Reminders: 2 numbers, 2 enqueued", NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 2);

    r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 1, NULL, "campaign \"Payment_Reminders\" already exists");
    run_free(&r);

    /* From stdin, JSON output. */
    char *other = strdup(SEED);
    memcpy(strstr(other, "Payment_Reminders"), "Other_Campaign_ab", 17);
    r = RUN(fx, other, "campaign", "create", "-", "--json", "--provider", "twilio");
    expect(&r, 0, NULL, NULL);
    json_t *j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "id")), "Other_Campaign_ab");
    assert_int_equal(json_integer_value(json_object_get(j, "enqueued")), 2);
    json_decref(j);
    run_free(&r);
    free(other);

    r = RUN(fx, NULL, "campaign", "list");
    expect(&r, 0, "Payment_Reminders", NULL);
    assert_non_null(strstr(r.out, "Other_Campaign_ab"));
    assert_non_null(strstr(r.out, "active"));
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "list", "--json");
    j = parse_json(&r);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "name")),
                        "Payment_Reminders");
    json_decref(j);
    run_free(&r);

    r = RUN(fx, NULL, "campaign", "show", "Payment_Reminders", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "active");
    assert_int_equal(json_integer_value(json_object_get(j, "pending")), 2);
    json_t *cfg = json_object_get(j, "config");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(cfg, "retry"), "max_attempts")), 3);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(cfg, "schedule"), "timezone")),
        "Asia/Kolkata");
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "show", "Payment_Reminders");
    expect(&r, 0, "state     active", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "show", "Other_Campaign_ab", "--json");
    j = parse_json(&r);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(j, "config"), "provider")), "twilio");
    json_decref(j);
    run_free(&r);

    r = RUN(fx, NULL, "campaign", "pause", "Payment_Reminders");
    expect(&r, 0, "paused", NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:Payment_Reminders", "st"), 1);
    r = RUN(fx, NULL, "campaign", "resume", "Payment_Reminders");
    expect(&r, 0, "resumed", NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:Payment_Reminders", "st"), 0);
    /* Two pending jobs: cancel wants --yes, and then says how many it finished. */
    r = RUN(fx, NULL, "campaign", "cancel", "Payment_Reminders");
    expect(&r, 1, NULL, "would finish 2 pending jobs");
    run_free(&r);
    assert_int_equal(redis_int(fx, "HGET %s %s", "c:Payment_Reminders", "st"), 0);
    r = RUN(fx, NULL, "campaign", "cancel", "Payment_Reminders", "--yes");
    expect(&r, 0, "2 pending jobs finished as canceled", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "show", "Payment_Reminders", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "canceled");
    assert_int_equal(json_integer_value(json_object_get(j, "pending")), 0);
    assert_int_equal(json_integer_value(json_object_get(j, "finished")), 2);
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "resume", "Payment_Reminders");
    expect(&r, 1, NULL, "is canceled");
    run_free(&r);

    r = RUN(fx, NULL, "campaign", "show", "Nope");
    expect(&r, 1, NULL, "campaign \"Nope\" not found");
    run_free(&r);
    r = RUN(fx, NULL, "campaign", "pause", "Nope");
    expect(&r, 1, NULL, "not found");
    run_free(&r);
}

static void t_campaign_invalid(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "bad.json",
               "{\"name\":\"Bad\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"retry\":{\"interval_minutes\":-5}}",
               path, sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 1, NULL, "retry.interval_minutes");
    assert_non_null(strstr(r.err, "nothing created"));
    run_free(&r);
    assert_int_equal(redis_int(fx, "EXISTS %s", "c:Bad", NULL), 0);

    write_file(fx, "prov.json", "{\"name\":\"Prov\",\"caller_id\":\"x\",\"call_flow_id\":\"f\"}",
               path, sizeof path);
    r = RUN(fx, NULL, "campaign", "create", path, "--provider", "acme");
    expect(&r, 1, NULL, "provider: unknown provider \"acme\"");
    run_free(&r);
    assert_int_equal(redis_int(fx, "EXISTS %s", "c:Prov", NULL), 0);

    r = RUN(fx, NULL, "campaign", "create", "/nonexistent/file.json");
    expect(&r, 1, NULL, "cannot open");
    run_free(&r);

    /* Some numbers invalid: created, the good one enqueued, the bad ones listed. */
    write_file(fx, "mixed.json",
               "{\"name\":\"Mixed\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"numbers\":[\"+919876543210\",\"12345\",\"+91abc\"]}",
               path, sizeof path);
    r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 1, "1 enqueued", "numbers[1] \"12345\" refused");
    assert_non_null(strstr(r.err, "numbers[2] \"+91abc\" refused"));
    assert_non_null(strstr(r.out, "2 refused"));
    run_free(&r);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Mixed:due", NULL), 1);
}

static void t_enqueue(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "c.json",
               "{\"name\":\"Enq\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"}}",
               path, sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 0, "0 numbers", NULL);
    run_free(&r);

    int64_t before = rd_wall_ms();
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543210", "--id", "inv-1", "--var", "invoice=42",
            "--var", "amount=1 200", "--json");
    expect(&r, 0, NULL, NULL);
    json_t *j = parse_json(&r);
    json_t *o = json_array_get(j, 0);
    assert_string_equal(json_string_value(json_object_get(o, "result")), "created");
    assert_string_equal(json_string_value(json_object_get(o, "id")), "inv-1");
    /* First due time: not before now, inside the 09:00-21:00 Asia/Kolkata window. */
    int64_t due = json_integer_value(json_object_get(o, "due_ms"));
    assert_true(due >= before - 1000);
    rd_localtime_t lt;
    rd_tz_local(rd_tz_get("Asia/Kolkata"), due, &lt);
    assert_true(lt.hour >= 9 && lt.hour < 21);
    json_decref(j);
    run_free(&r);

    /* Same id again: a no-op. */
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543210", "--id", "inv-1");
    expect(&r, 0, "duplicate inv-1", NULL);
    run_free(&r);
    /* Same number, no id, live job: a no-op too. */
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543210");
    expect(&r, 0, "duplicate", NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Enq:due", NULL), 1);

    /* Invalid numbers refused (exit 1), valid ones in the same call still enqueued. */
    r = RUN(fx, NULL, "enqueue", "Enq", "12345", "+919876543299");
    expect(&r, 1, "+919876543299 created", "\"12345\" refused as invalid");
    assert_non_null(strstr(r.err, "E.164"));
    run_free(&r);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Enq:due", NULL), 2);

    /* The job with its vars and schedule. */
    r = RUN(fx, NULL, "job", "show", "inv-1", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "pending");
    assert_string_equal(json_string_value(json_object_get(j, "campaign")), "Enq");
    assert_string_equal(json_string_value(json_object_get(j, "tz")), "Asia/Kolkata");
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "vars"), "amount")),
                        "1 200");
    assert_int_equal(json_integer_value(json_object_get(j, "due_ms")), due);
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "job", "show", "inv-1");
    expect(&r, 0, "pending: next attempt (1) due", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "job", "show", "no-such-job");
    expect(&r, 1, NULL, "job \"no-such-job\" not found");
    run_free(&r);

    /* not_before and a callee zone move the first due time. */
    r = RUN(fx, NULL, "enqueue", "Enq", "+14155550100", "--tz", "America/New_York", "--not-before",
            "2031-03-04T05:00:00Z", "--json");
    j = parse_json(&r);
    o = json_array_get(j, 0);
    due = json_integer_value(json_object_get(o, "due_ms"));
    int64_t nb;
    assert_int_equal(rd_parse_iso8601("2031-03-04T05:00:00Z", &nb), 0);
    /* 05:00Z is 00:00 in New York: moved to the 09:00 local window start (+ jitter < 120 s). */
    assert_true(due >= nb + 9 * 3600000LL && due < nb + 9 * 3600000LL + 120000);
    json_decref(j);
    run_free(&r);

    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543212", "--tz", "Mars/Olympus");
    expect(&r, 1, NULL, "not a known IANA time zone");
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543212", "--not-before", "tomorrowish");
    expect(&r, 2, NULL, "--not-before");
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543212", "+919876543213", "--id", "x");
    expect(&r, 2, NULL, "give one NUMBER");
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Ghost", "+919876543212");
    expect(&r, 1, NULL, "campaign \"Ghost\" not found");
    run_free(&r);
    /* Another id for a number with a live job: conflict, refused. */
    r = RUN(fx, NULL, "enqueue", "Enq", "+919876543210", "--id", "inv-2");
    expect(&r, 1, NULL, "conflict");
    run_free(&r);
}

static void t_optout_and_dnd(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "c.json",
               "{\"name\":\"Opt\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"numbers\":[\"+919800000001\",\"+919800000002\"]}",
               path, sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 0, "2 enqueued", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Opt", "+919800000003", "--id", "j3");
    expect(&r, 0, "created j3", NULL);
    run_free(&r);

    r = RUN(fx, NULL, "optout", "+919800000003");
    expect(&r, 0, "1 pending job finished as opted-out", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "job", "show", "j3", "--json");
    json_t *j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "final");
    assert_string_equal(json_string_value(json_object_get(j, "disposition")), "opted-out");
    json_decref(j);
    run_free(&r);
    assert_int_equal(redis_int(fx, "ZCARD %s", "c:Opt:due", NULL), 2);
    /* Never again: a new enqueue is recorded final, not scheduled. */
    r = RUN(fx, NULL, "enqueue", "Opt", "+919800000003", "--id", "j3b", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "result")),
                        "opted-out");
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "optout", "not-a-number");
    expect(&r, 1, NULL, "not an E.164 number");
    run_free(&r);

    write_file(fx, "dnd.txt",
               "# national DND registry extract\n"
               "+919800000001\n"
               "\n"
               "9800000009   # no plus sign\n"
               "  +919800000004  # trailing comment\n"
               "+91 98\n",
               path, sizeof path);
    r = RUN(fx, NULL, "dnd", "import", path);
    expect(&r, 1, "2 numbers imported (2 new to the DND set), 2 bad lines", ":4: \"9800000009\"");
    assert_non_null(strstr(r.err, ":6: \"+91 98\""));
    run_free(&r);
    assert_int_equal(redis_int(fx, "SISMEMBER %s %s", "dnd", "+919800000001"), 1);
    assert_int_equal(redis_int(fx, "SISMEMBER %s %s", "dnd", "+919800000004"), 1);
    assert_int_equal(redis_int(fx, "SCARD %s", "dnd", NULL), 2);
    /* From stdin, all good: exit 0. */
    r = RUN(fx, "+919800000005\n+919800000004\n", "dnd", "import", "-");
    expect(&r, 0, "2 numbers imported (1 new to the DND set), 0 bad lines", NULL);
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Opt", "+919800000005", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "result")), "dnd");
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "dnd", "import", "/nonexistent");
    expect(&r, 1, NULL, "cannot open");
    run_free(&r);
}

static void t_agents(void **state) {
    fx_t *fx = *state;
    run_t r = RUN(fx, NULL, "agents", "set", "collections", "25");
    expect(&r, 0, "capacity 25", NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "HGET %s %s", "pool:collections", "cap"), 25);
    r = RUN(fx, NULL, "agents", "set", "collections", "3");
    expect(&r, 0, NULL, NULL);
    run_free(&r);
    assert_int_equal(redis_int(fx, "HGET %s %s", "pool:collections", "cap"), 3);
    r = RUN(fx, NULL, "agents", "set", "bad pool", "3");
    expect(&r, 2, NULL, "pool name");
    run_free(&r);
}

/* The seed's diminishing-returns table as raw counters of campaign `name`. */
static void seed_counters(fx_t *fx, const char *name) {
    static const int conn[] = {0, 400, 200, 100, 30, 10};
    char key[200];
    snprintf(key, sizeof key, "%s:c:%s", fx->r.prefix, name);
    freeReplyObject(redisCommand(fx->c, "HSET %s enq 1000", key));
    snprintf(key, sizeof key, "%s:c:%s:st", fx->r.prefix, name);
    int left = 1000;
    for (int n = 1; n <= 5; n++) {
        char f[32];
        snprintf(f, sizeof f, "a%d:0", n);
        freeReplyObject(redisCommand(fx->c, "HSET %s %s %d", key, f, conn[n]));
        snprintf(f, sizeof f, "a%d:3", n);
        freeReplyObject(redisCommand(fx->c, "HSET %s %s %d", key, f, left - conn[n]));
        snprintf(f, sizeof f, "k%d", n);
        freeReplyObject(redisCommand(fx->c, "HSET %s %s %d", key, f, conn[n]));
        left -= conn[n];
    }
    freeReplyObject(redisCommand(fx->c, "HSET %s f0 740 f1 260", key));
}

static void t_stats_and_report(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "c.json", "{\"name\":\"Seed\",\"caller_id\":\"x\",\"call_flow_id\":\"f\"}", path,
               sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 0, NULL, NULL);
    run_free(&r);

    /* No attempts yet: n/a, not "ok". */
    r = RUN(fx, NULL, "stats", "Seed");
    expect(&r, 0, "First-attempt connection rate", NULL);
    assert_non_null(strstr(r.out, "n/a"));
    run_free(&r);

    seed_counters(fx, "Seed");
    r = RUN(fx, NULL, "stats", "Seed");
    expect(&r, 0, "40.0%", NULL);
    assert_non_null(strstr(r.out, "74.0%"));
    assert_non_null(strstr(r.out, "Recommendation"));
    run_free(&r);
    r = RUN(fx, NULL, "stats", "Seed", "--json");
    json_t *j = parse_json(&r);
    assert_true(json_real_value(json_object_get(j, "first_attempt_connection_rate")) > 0.399);
    assert_true(json_real_value(json_object_get(j, "total_connection_rate")) > 0.739);
    assert_int_equal(json_array_size(json_object_get(j, "by_attempt")), 5);
    assert_true(json_is_string(json_object_get(j, "recommendation")));
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "stats", "Ghost");
    expect(&r, 1, NULL, "not found");
    run_free(&r);

    char out[300];
    snprintf(out, sizeof out, "%s/report.html", fx->dir);
    r = RUN(fx, NULL, "report", "Seed", "--out", out);
    expect(&r, 0, "wrote", NULL);
    run_free(&r);
    FILE *f = fopen(out, "r");
    assert_non_null(f);
    static char html[1 << 20];
    size_t n = fread(html, 1, sizeof html - 1, f);
    fclose(f);
    html[n] = '\0';
    assert_true(strncmp(html, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(html, "</html>"));
    assert_non_null(strstr(html, "<svg"));
    assert_non_null(strstr(html, "<polyline class=\"curve\""));
    assert_non_null(strstr(html, "First-attempt connection rate"));
    assert_non_null(strstr(html, "40.0%"));
    assert_non_null(strstr(html, "74.0%"));
    assert_non_null(strstr(html, "+1.0% (diminishing)"));
    assert_non_null(strstr(html, "consider max_attempts = 4"));
    assert_non_null(
        strstr(html, "<td class=\"missed\">missed</td>")); /* total 74% > 70% ok, avg... */
    assert_non_null(strstr(html, "<td class=\"ok\">ok</td>"));
    /* Self-contained: no external asset of any kind. */
    assert_null(strstr(html, "src="));
    assert_null(strstr(html, "href="));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "url("));
    assert_null(strstr(html, "@import"));
    /* Balanced tables. */
    int open = 0, close = 0;
    for (const char *p = html; (p = strstr(p, "<table")); p++) open++;
    for (const char *p = html; (p = strstr(p, "</table>")); p++) close++;
    assert_int_equal(open, 4);
    assert_int_equal(close, 4);

    r = RUN(fx, NULL, "report", "Seed");
    expect(&r, 2, NULL, "--out");
    run_free(&r);
    r = RUN(fx, NULL, "report", "Seed", "--out", "/nonexistent/dir/r.html");
    expect(&r, 1, NULL, "cannot write");
    run_free(&r);
}

static void t_ping_and_unreachable(void **state) {
    fx_t *fx = *state;
    run_t r = RUN(fx, NULL, "ping");
    expect(&r, 0, "PONG", NULL);
    run_free(&r);

    /* Environment twins instead of flags. */
    setenv("REDIAL_REDIS_URL", fx->r.url, 1);
    setenv("REDIAL_PREFIX", fx->r.prefix, 1);
    r = RUN(NULL, NULL, "campaign", "list", "--json");
    expect(&r, 0, "[]", NULL);
    run_free(&r);
    unsetenv("REDIAL_REDIS_URL");
    unsetenv("REDIAL_PREFIX");

    /* A port nobody listens on: exit 3, and the password never printed. */
    char url[128];
    snprintf(url, sizeof url, "redis://:hunter2secret@127.0.0.1:1/0");
    r = RUN(NULL, NULL, "ping", "--redis", url, "--timeout", "400");
    expect(&r, 3, NULL, "cannot reach Redis at redis://***@127.0.0.1:1/0");
    assert_null(strstr(r.err, "hunter2secret"));
    run_free(&r);
    r = RUN(NULL, NULL, "campaign", "list", "--redis", "redis://127.0.0.1:1/0", "--timeout", "300");
    expect(&r, 3, NULL, "cannot reach Redis");
    run_free(&r);
    r = RUN(NULL, NULL, "stats", "X", "--redis", "redis://127.0.0.1:1/0", "--timeout", "300");
    expect(&r, 3, NULL, "cannot reach Redis");
    run_free(&r);
}

/* A job with two real attempts (claimed and settled through the store, as an
 * engine would): `job show` lists them with callee-local and UTC times. */
static void t_job_history(void **state) {
    fx_t *fx = *state;
    char path[256];
    write_file(fx, "c.json",
               "{\"name\":\"Hist\",\"caller_id\":\"x\",\"call_flow_id\":\"f\","
               "\"schedule\":{\"timezone\":\"Asia/Kolkata\"}}",
               path, sizeof path);
    run_t r = RUN(fx, NULL, "campaign", "create", path);
    expect(&r, 0, NULL, NULL);
    run_free(&r);
    r = RUN(fx, NULL, "enqueue", "Hist", "+14155550123", "--id", "h1", "--json");
    json_t *j = parse_json(&r);
    int64_t due = json_integer_value(json_object_get(json_array_get(j, 0), "due_ms"));
    json_decref(j);
    run_free(&r);

    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, fx->r.url, fx->r.prefix, NULL, 0, 0);
    ts_jobs_t got = {0};
    int64_t t1 = due + 1000;
    assert_int_equal(ts_claim(s, &loop, t1, 10, 60000, &got), 0);
    assert_int_equal(got.n, 1);
    uint64_t tok = got.v[0]->token;
    ts_jobs_free(&got);
    int64_t t2 = t1 + 3600000;
    assert_int_equal(
        ts_settle(s, &loop, "Hist", tok, RD_OUT_NO_ANSWER, false, 0, t2, t1 + 30000, NULL), 0);
    memset(&got, 0, sizeof got);
    assert_int_equal(ts_claim(s, &loop, t2, 10, 60000, &got), 0);
    assert_int_equal(got.n, 1);
    tok = got.v[0]->token;
    ts_jobs_free(&got);
    assert_int_equal(ts_settle(s, &loop, "Hist", tok, RD_OUT_COMPLETED, true, RD_DISP_CONNECTED, 0,
                               t2 + 60000, NULL),
                     0);
    ts_close(s, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);

    r = RUN(fx, NULL, "job", "show", "h1", "--json");
    j = parse_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "state")), "final");
    assert_string_equal(json_string_value(json_object_get(j, "disposition")), "connected");
    json_t *h = json_object_get(j, "history");
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "outcome")),
                        "no-answer");
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 1), "outcome")),
                        "completed");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(h, 0), "started_ms")), t1);
    /* Asia/Kolkata has no DST: local = UTC + 05:30. */
    rd_localtime_t lt;
    rd_tz_local(rd_tz_get("Asia/Kolkata"), t1, &lt);
    char want[64], wiso[64];
    snprintf(want, sizeof want, "%04d-%02d-%02d %02d:%02d:%02d +05:30", lt.year, lt.month, lt.day,
             lt.hour, lt.minute, lt.second);
    /* JSON: ISO 8601 with the offset (one format for every JSON time). */
    snprintf(wiso, sizeof wiso, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+05:30", lt.year, lt.month,
             lt.day, lt.hour, lt.minute, lt.second, (int)(t1 % 1000));
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "started_local")),
                        wiso);
    json_decref(j);
    run_free(&r);
    r = RUN(fx, NULL, "job", "show", "h1");
    expect(&r, 0, "final: connected after 2 attempts", NULL);
    assert_non_null(strstr(r.out, want));
    assert_non_null(strstr(r.out, "no-answer"));
    run_free(&r);
}

int main(void) {
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_help_and_usage),
        cmocka_unit_test_setup_teardown(t_campaign_lifecycle, setup, teardown),
        cmocka_unit_test_setup_teardown(t_campaign_invalid, setup, teardown),
        cmocka_unit_test_setup_teardown(t_enqueue, setup, teardown),
        cmocka_unit_test_setup_teardown(t_optout_and_dnd, setup, teardown),
        cmocka_unit_test_setup_teardown(t_agents, setup, teardown),
        cmocka_unit_test_setup_teardown(t_job_history, setup, teardown),
        cmocka_unit_test_setup_teardown(t_stats_and_report, setup, teardown),
        cmocka_unit_test_setup_teardown(t_ping_and_unreachable, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
