/*
 * The CLI conventions of every redial binary, as one table (issue 11,
 * "CLI conventions"): each binary answers --version, -h and --help with
 * exit 0 and a usage error with exit 2; every redial-cli command's --help
 * exits 0 and documents --json and the exit codes; every command's --json
 * prints one JSON document; refusals exit 1, usage errors 2, and every
 * Redis-backed command exits 3 when Redis is unreachable. Also: enqueue
 * from stdin/CSV past the old 4,096 cap, `report --out -` on stdout, and
 * ISO 8601 with an offset in JSON times.
 *
 * The binaries are the built ones (REDIAL_BIN_DIR), run against a real
 * redis-server with a private key prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "tests/lib/fixtures.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"

static const char SEED[] = RD_TEST_SPEC_BODY "\n";

typedef struct {
    rd_test_redis_t r;
    redisContext *c;
    char dir[128];
    char seed[256];   /* campaign file */
    char dndf[256];   /* DND list file */
    char dead[64];    /* an unreachable Redis URL */
    char report[256]; /* report path */
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

/* Expands @SEED @DND @REPORT in a word. */
static const char *expand(const fx_t *fx, const char *w) {
    if (!strcmp(w, "@SEED")) return fx->seed;
    if (!strcmp(w, "@DND")) return fx->dndf;
    if (!strcmp(w, "@REPORT")) return fx->report;
    return w;
}

/*
 * Runs binary `bin` with words (NULL-terminated); redis: 0 none, 1 the
 * test's Redis, 2 an unreachable one.
 */
static run_t run_v(const fx_t *fx, const char *bin, int redis, const char *input,
                   const char *const *words) {
    run_t r = {-1, NULL, NULL};
    const char *argv[64];
    int n = 0;
    argv[n++] = bin; /* rd_test_run_io runs it from REDIAL_BIN_DIR */
    for (int i = 0; words[i] && n < 56; i++) argv[n++] = expand(fx, words[i]);
    if (redis) {
        argv[n++] = "--redis";
        argv[n++] = redis == 1 ? fx->r.url : fx->dead;
        argv[n++] = "--prefix";
        argv[n++] = fx->r.prefix;
        if (redis == 2) {
            argv[n++] = "--timeout";
            argv[n++] = "300";
        }
    }
    argv[n] = NULL;
    r.code = rd_test_run_io(argv, input, &r.out, &r.err);
    if (!r.out) r.out = calloc(1, 1);
    if (!r.err) r.err = calloc(1, 1);
    return r;
}

static void show_fail(const char *what, const char *const *words, const run_t *r, int want) {
    char line[512] = "";
    for (int i = 0; words[i]; i++) {
        strncat(line, words[i], sizeof line - strlen(line) - 2);
        strncat(line, " ", sizeof line - strlen(line) - 1);
    }
    fail_msg("%s: redial-cli %s-> exit %d (want %d)\nstdout: %.2000s\nstderr: %.2000s", what, line,
             r->code, want, r->out, r->err);
}

/* ---- every binary ------------------------------------------------------------------- */

static const char *const BINARIES[] = {"redial-server",    "redial-cli",       "redial-sim",
                                       "redial-bench",     "redial-dialbench", "redial-simload",
                                       "redial-storebench"};

static void t_binaries(void **state) {
    fx_t *fx = *state;
    regex_t ver;
    assert_int_equal(regcomp(&ver, "^redial-[a-z]+ [0-9]+\\.[0-9]+\\.[0-9]+\n$", REG_EXTENDED), 0);
    for (size_t i = 0; i < sizeof BINARIES / sizeof *BINARIES; i++) {
        const char *b = BINARIES[i];
        run_t r = run_v(fx, b, 0, NULL, (const char *const[]){"--version", NULL});
        if (r.code != 0 || regexec(&ver, r.out, 0, NULL, 0) || !strstr(r.out, b))
            fail_msg("%s --version: exit %d, stdout '%s'", b, r.code, r.out);
        run_free(&r);
        const char *helps[] = {"-h", "--help"};
        for (int h = 0; h < 2; h++) {
            r = run_v(fx, b, 0, NULL, (const char *const[]){helps[h], NULL});
            if (r.code != 0 || !strcasestr(r.out, "usage"))
                fail_msg("%s %s: exit %d, stdout '%.300s' stderr '%.300s'", b, helps[h], r.code,
                         r.out, r.err);
            run_free(&r);
        }
        r = run_v(fx, b, 0, NULL, (const char *const[]){"--no-such-flag", NULL});
        if (r.code != 2) fail_msg("%s --no-such-flag: exit %d, want 2", b, r.code);
        run_free(&r);
    }
    regfree(&ver);
}

/* ---- redial-cli, command by command ---------------------------------------------------- */

/* The help of every command (and the top level) documents --json and the exit codes. */
static const char *const HELPS[][3] = {
    {"--help"},           {"plan", "--help"},   {"campaign", "--help"}, {"enqueue", "--help"},
    {"optout", "--help"}, {"dnd", "--help"},    {"agents", "--help"},   {"job", "--help"},
    {"stats", "--help"},  {"report", "--help"}, {"ping", "--help"},
};

static void t_help(void **state) {
    fx_t *fx = *state;
    for (size_t i = 0; i < sizeof HELPS / sizeof *HELPS; i++) {
        const char *const *w = HELPS[i];
        run_t r = run_v(fx, "redial-cli", 0, NULL, w);
        if (r.code != 0 || !strstr(r.out, "--json") || !strstr(r.out, "Exit codes: 0 ok"))
            show_fail("help", w, &r, 0);
        run_free(&r);
    }
}

typedef struct {
    const char *words[12];
    int code;       /* expected exit code with the test's Redis */
    bool json;      /* stdout is one JSON document */
    bool redis;     /* talks to Redis: also run against an unreachable one (exit 3) */
    const char *in; /* stdin (NULL = empty) */
} row_t;

/* In order: later rows see the effects of earlier ones. */
static const row_t ROWS[] = {
    {{"campaign", "create", "@SEED", "--json"}, 0, true, true, NULL},
    {{"campaign", "create", "@SEED"}, 1, false, true, NULL},
    {{"campaign", "list", "--json"}, 0, true, true, NULL},
    {{"campaign", "show", "Payment_Reminders", "--json"}, 0, true, true, NULL},
    {{"campaign", "show", "No_Such"}, 1, false, true, NULL},
    {{"campaign", "show"}, 2, false, false, NULL},
    {{"campaign", "pause", "Payment_Reminders", "--json"}, 0, true, true, NULL},
    {{"campaign", "resume", "Payment_Reminders", "--json"}, 0, true, true, NULL},
    {{"campaign", "frobnicate"}, 2, false, false, NULL},
    {{"enqueue", "Payment_Reminders", "+919800000001", "--id", "tbl-1", "--json"},
     0,
     true,
     true,
     NULL},
    {{"enqueue", "Payment_Reminders", "12345", "--json"}, 1, true, true, NULL},
    {{"enqueue", "Payment_Reminders", "--file", "-", "--json"},
     0,
     true,
     true,
     "number,invoice\n+919800000002,7\n"},
    {{"enqueue", "Payment_Reminders"}, 2, false, false, NULL},
    {{"job", "show", "tbl-1", "--json"}, 0, true, true, NULL},
    {{"job", "show", "no-such-job"}, 1, false, true, NULL},
    {{"job", "frob"}, 2, false, false, NULL},
    {{"job", "list", "--json"}, 0, true, true, NULL},
    {{"job", "list", "--campaign", "Payment_Reminders", "--state", "pending", "--json"},
     0,
     true,
     true,
     NULL},
    {{"job", "list", "--state", "sleeping"}, 2, false, false, NULL},
    {{"job", "cancel", "--campaign", "Payment_Reminders"}, 1, false, true, NULL},
    {{"job", "retry-now", "tbl-1", "--json"}, 0, true, true, NULL},
    {{"job", "cancel", "tbl-1", "--json"}, 0, true, true, NULL},
    {{"job", "cancel", "no-such-job"}, 1, false, true, NULL},
    {{"dnd", "check", "+919800000009", "--json"}, 0, true, true, NULL},
    {{"dnd", "list", "--json"}, 0, true, true, NULL},
    {{"dnd", "remove", "+919800000777", "--json"}, 0, true, true, NULL},
    {{"optout", "check", "+919800000003", "--json"}, 0, true, true, NULL},
    {{"optout", "remove", "+919800000777", "--json"}, 0, true, true, NULL},
    {{"agents", "list", "--json"}, 0, true, true, NULL},
    {{"deadletter", "list", "--json"}, 0, true, true, NULL},
    {{"deadletter", "show", "1-1"}, 1, false, true, NULL},
    {{"deadletter", "replay", "1-1", "--json"}, 1, true, true, NULL},
    {{"deadletter", "purge", "1-1", "--json"}, 1, true, true, NULL},
    {{"deadletter", "purge"}, 2, false, false, NULL},
    {{"deadletter"}, 2, false, false, NULL},
    {{"optout", "+919800000003", "--json"}, 0, true, true, NULL},
    {{"optout", "nonsense"}, 1, false, false, NULL},
    {{"dnd", "import", "@DND", "--json"}, 0, true, true, NULL},
    {{"dnd", "import"}, 2, false, false, NULL},
    {{"agents", "set", "collections", "3", "--json"}, 0, true, true, NULL},
    {{"agents", "set", "collections", "-1"}, 2, false, false, NULL},
    {{"stats", "Payment_Reminders", "--json"}, 0, true, true, NULL},
    {{"stats", "No_Such"}, 1, false, true, NULL},
    {{"report", "Payment_Reminders", "--out", "@REPORT", "--json"}, 0, true, true, NULL},
    {{"report", "Payment_Reminders"}, 2, false, false, NULL},
    {{"ping", "--json"}, 0, true, true, NULL},
    {{"ping", "extra"}, 2, false, false, NULL},
    {{"plan", "@SEED", "--start", "2026-12-01 10:00", "--outcomes", "busy,completed", "--json"},
     0,
     true,
     false,
     NULL},
    {{"campaign", "cancel", "Payment_Reminders"}, 1, false, true, NULL},
    {{"campaign", "cancel", "Payment_Reminders", "--yes", "--json"}, 0, true, true, NULL},
    {{"campaign", "archive", "No_Such"}, 1, false, true, NULL},
    {{"campaign", "archive", "Payment_Reminders", "--json"}, 0, true, true, NULL},
    {{"campaign", "show", "Payment_Reminders"}, 1, false, true, NULL},
    {{"no-such-command"}, 2, false, false, NULL},
    {{"health", "--url", "http://127.0.0.1:1/healthz", "--json"}, 1, true, false, NULL},
    {{"health", "extra"}, 2, false, false, NULL},
};

/* Every string that looks like a time in a JSON document is ISO 8601 with an offset. */
static void check_times(const json_t *j, const regex_t *iso, const char *const *w) {
    const char *k;
    json_t *v;
    size_t i;
    if (json_is_object(j)) {
        json_object_foreach((json_t *)j, k, v) {
            if (json_is_string(v) && strlen(json_string_value(v)) >= 19 &&
                json_string_value(v)[4] == '-' && json_string_value(v)[10] == 'T' &&
                regexec(iso, json_string_value(v), 0, NULL, 0))
                fail_msg("%s %s: time \"%s\" is not ISO 8601 with an offset", w[0], k,
                         json_string_value(v));
            check_times(v, iso, w);
        }
    } else if (json_is_array(j)) {
        json_array_foreach(j, i, v) check_times(v, iso, w);
    }
}

static void t_table(void **state) {
    fx_t *fx = *state;
    regex_t iso;
    assert_int_equal(
        regcomp(&iso,
                "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]{3})?)?"
                "[+-][0-9]{2}:[0-9]{2}$",
                REG_EXTENDED),
        0);
    for (size_t i = 0; i < sizeof ROWS / sizeof *ROWS; i++) {
        const row_t *row = &ROWS[i];
        run_t r = run_v(fx, "redial-cli", row->redis ? 1 : 0, row->in, row->words);
        if (r.code != row->code) show_fail("exit code", row->words, &r, row->code);
        if (row->json) {
            json_error_t e;
            json_t *j = json_loads(r.out, 0, &e);
            if (!j) show_fail("not one JSON document", row->words, &r, row->code);
            check_times(j, &iso, row->words);
            json_decref(j);
        }
        run_free(&r);
        if (row->redis) {
            r = run_v(fx, "redial-cli", 2, row->in, row->words);
            if (r.code != 3 || !strstr(r.err, "cannot reach Redis"))
                show_fail("unreachable Redis", row->words, &r, 3);
            run_free(&r);
        }
    }
    regfree(&iso);
}

/* ---- enqueue without a cap, report to stdout ---------------------------------------------- */

static void t_enqueue_stdin_and_report_stdout(void **state) {
    fx_t *fx = *state;
    run_t r = run_v(fx, "redial-cli", 1, NULL,
                    (const char *const[]){"campaign", "create", "@SEED", NULL});
    assert_true(r.code == 0 || r.code == 1);
    run_free(&r);
    r = run_v(fx, "redial-cli", 1, NULL,
              (const char *const[]){"campaign", "resume", "Payment_Reminders", NULL});
    run_free(&r);
    /* 5,000 numbers (more than the old 4,096 cap) from stdin, no header: KEY=VALUE cells. */
    enum { N = 5000 };
    char *csv = malloc(N * 48 + 64), *p = csv;
    p += sprintf(p, "# generated\n");
    for (int i = 0; i < N; i++) p += sprintf(p, "+9170%08d,batch=b%d\n", i, i % 7);
    r = run_v(fx, "redial-cli", 1, csv,
              (const char *const[]){"enqueue", "Payment_Reminders", "--file", "-", "--json", NULL});
    free(csv);
    json_error_t e;
    json_t *j = json_loads(r.out, 0, &e);
    if (r.code != 0 || !j) fail_msg("enqueue --file -: exit %d, %.500s", r.code, r.err);
    assert_int_equal(json_array_size(j), N);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, N - 1), "result")),
                        "created");
    json_decref(j);
    run_free(&r);
    char key[160];
    snprintf(key, sizeof key, "%s:c:Payment_Reminders:due", fx->r.prefix);
    redisReply *rep = redisCommand(fx->c, "ZCARD %s", key);
    assert_non_null(rep);
    assert_true(rep->integer >= N);
    freeReplyObject(rep);

    /* A header names the fields; a bad line is refused (exit 1), the others stored. */
    r = run_v(fx, "redial-cli", 1, "number,id,invoice\n+919700000001,csv-1,42\nnot-a-number,,1\n",
              (const char *const[]){"enqueue", "Payment_Reminders", "--file", "-", NULL});
    if (r.code != 1 || !strstr(r.out, "+919700000001 created csv-1") ||
        !strstr(r.err, "refused as invalid"))
        fail_msg("csv with header: exit %d\n%s\n%s", r.code, r.out, r.err);
    run_free(&r);
    r = run_v(fx, "redial-cli", 1, NULL,
              (const char *const[]){"job", "show", "csv-1", "--json", NULL});
    j = json_loads(r.out, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_object_get(j, "vars"), "invoice")),
                        "42");
    json_decref(j);
    run_free(&r);

    /* --out - : the HTML on stdout, no file named "-". */
    r = run_v(fx, "redial-cli", 1, NULL,
              (const char *const[]){"report", "Payment_Reminders", "--out", "-", NULL});
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out, "<!DOCTYPE html>"));
    assert_int_equal(access("-", F_OK), -1);
    run_free(&r);
}

/* ---- acting on problems: jobs, numbers, pools, dead letters ------------------------------- */

static run_t cli(const fx_t *fx, const char *in, const char *const *w) {
    return run_v(fx, "redial-cli", 1, in, w);
}
#define CLI(fx, in, ...) cli((fx), (in), (const char *const[]){__VA_ARGS__, NULL})

static long long rdint(const fx_t *fx, const char *fmt, const char *k, const char *a) {
    return rd_test_redis_int(fx->c, fx->r.prefix, fmt, k, a);
}

static void want(run_t *r, int code, const char *out, const char *err) {
    if (r->code != code || (out && !strstr(r->out, out)) || (err && !strstr(r->err, err)))
        fail_msg("exit %d (want %d)\nstdout: %s\nstderr: %s\nwanted out~%s err~%s", r->code, code,
                 r->out, r->err, out ? out : "", err ? err : "");
    run_free(r);
}

static void t_act_on_problems(void **state) {
    fx_t *fx = *state;
    run_t r = CLI(fx, NULL, "campaign", "create", "@SEED");
    want(&r, 0, NULL, NULL);
    r = CLI(fx, NULL, "enqueue", "Payment_Reminders", "+919800000101", "--id", "later",
            "--not-before", "2031-01-01T10:00:00+05:30");
    want(&r, 0, "created later", NULL);
    /* job list: the seed's two numbers and the later one, filters. */
    r = CLI(fx, NULL, "job", "list", "--campaign", "Payment_Reminders", "--state", "pending",
            "--json");
    json_t *j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "jobs")), 3);
    json_decref(j);
    run_free(&r);
    r = CLI(fx, NULL, "job", "list", "--number", "+919800000101");
    want(&r, 0, "later", NULL);
    /* retry-now: the far-future job becomes due now. */
    long long before = rdint(fx, "ZSCORE %s %s", "c:Payment_Reminders:due", "+919800000101");
    r = CLI(fx, NULL, "job", "retry-now", "later");
    want(&r, 0, "1 job made due now", NULL);
    long long after = rdint(fx, "ZSCORE %s %s", "c:Payment_Reminders:due", "+919800000101");
    assert_true(after < before);
    assert_true(after / 4096 + 1577836800000LL < 1924992000000LL); /* before 2031 */
    /* cancel: more than one job needs --yes; nothing happens without it. */
    r = CLI(fx, NULL, "job", "cancel", "--campaign", "Payment_Reminders");
    want(&r, 1, NULL, "would cancel 3 jobs; nothing done");
    assert_int_equal(rdint(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 3);
    r = CLI(fx, NULL, "job", "cancel", "later");
    want(&r, 0, "1 job canceled", NULL);
    assert_int_equal(rdint(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 2);
    assert_int_equal(rdint(fx, "HGET %s %s", "c:Payment_Reminders:st", "f6"), 1);
    r = CLI(fx, NULL, "job", "show", "later");
    want(&r, 0, "final: canceled", NULL);
    r = CLI(fx, NULL, "job", "cancel", "later");
    want(&r, 1, "already finished", NULL);
    r = CLI(fx, NULL, "job", "cancel", "--campaign", "Payment_Reminders", "--yes", "--json");
    j = json_loads(r.out, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "canceled")), 2);
    json_decref(j);
    run_free(&r);
    assert_int_equal(rdint(fx, "ZCARD %s", "c:Payment_Reminders:due", NULL), 0);

    /* DND / opt-out: check, remove; the dial-time union follows. */
    r = CLI(fx, NULL, "dnd", "import", "@DND");
    want(&r, 0, NULL, NULL);
    r = CLI(fx, NULL, "optout", "+919800000009");
    want(&r, 0, NULL, NULL);
    r = CLI(fx, NULL, "dnd", "check", "+919800000009", "+919800000008");
    want(&r, 0, "+919800000008 not on the DND set", NULL);
    r = CLI(fx, NULL, "dnd", "list");
    want(&r, 0, "+919800000009", NULL);
    r = CLI(fx, NULL, "dnd", "remove", "+919800000009");
    want(&r, 0, "removed 1 of 1", NULL);
    assert_int_equal(rdint(fx, "SISMEMBER %s %s", "dnd", "+919800000009"), 0);
    assert_int_equal(rdint(fx, "SISMEMBER %s %s", "nodial", "+919800000009"), 1); /* opted out */
    r = CLI(fx, NULL, "optout", "check", "+919800000009");
    want(&r, 0, "+919800000009 opted out", NULL);
    r = CLI(fx, NULL, "optout", "remove", "+919800000009");
    want(&r, 0, "removed 1 of 1", NULL);
    assert_int_equal(rdint(fx, "SISMEMBER %s %s", "nodial", "+919800000009"), 0);

    /* agents list */
    r = CLI(fx, NULL, "agents", "set", "collections", "7");
    want(&r, 0, NULL, NULL);
    r = CLI(fx, NULL, "agents", "list");
    want(&r, 0, "collections", NULL);

    /* Dead letters: list, show, replay (re-validated), purge. */
    char k[128], ids[2][64];
    snprintf(k, sizeof k, "%s:deadletter", fx->r.prefix);
    const char *bodies[2] = {"{\"v\":1,\"campaign\":\"Ghost\",\"to\":\"+919800000201\"}",
                             "{\"v\":1,\"campaign\":\"Other\",\"to\":\"+919800000202\"}"};
    for (int i = 0; i < 2; i++) {
        redisReply *x = redisCommand(fx->c, "XADD %s * j %s reason %s entry 9-9", k, bodies[i],
                                     "campaign does not exist");
        snprintf(ids[i], sizeof ids[i], "%s", x->str);
        freeReplyObject(x);
    }
    r = CLI(fx, NULL, "deadletter", "list");
    want(&r, 0, "2 shown of 2 dead letters", NULL);
    r = CLI(fx, NULL, "deadletter", "show", ids[0]);
    want(&r, 0, "Ghost", NULL);
    r = CLI(fx, NULL, "deadletter", "replay", "--all");
    want(&r, 1, NULL, "would replay 2 dead letters; nothing done");
    /* The campaign of the second now exists: it replays, the first stays. */
    char other[512];
    snprintf(other, sizeof other, "%s/other.json", fx->dir);
    FILE *f = fopen(other, "w");
    fputs("{\"name\":\"Other\",\"caller_id\":\"1\",\"call_flow_id\":\"1\",\"numbers\":[]}", f);
    fclose(f);
    r = CLI(fx, NULL, "campaign", "create", other);
    want(&r, 0, NULL, NULL);
    r = CLI(fx, NULL, "deadletter", "replay", "--all", "--yes");
    want(&r, 1, "1 replayed, 1 still invalid (kept)", NULL);
    assert_int_equal(rdint(fx, "XLEN %s", "deadletter", NULL), 1);
    assert_int_equal(rdint(fx, "XLEN %s", "inbox", NULL), 1);
    r = CLI(fx, NULL, "deadletter", "purge", ids[0], "--json");
    want(&r, 0, "\"purged\": 1", NULL);
    assert_int_equal(rdint(fx, "XLEN %s", "deadletter", NULL), 0);
}

static int setup(void **state) {
    fx_t *fx = calloc(1, sizeof *fx);
    if (rd_test_redis_start(&fx->r)) return -1;
    fx->c = rd_test_redis_sync(&fx->r);
    snprintf(fx->dir, sizeof fx->dir, "/tmp/rdclitbl.XXXXXX");
    if (!fx->c || !mkdtemp(fx->dir)) return -1;
    snprintf(fx->seed, sizeof fx->seed, "%s/seed.json", fx->dir);
    snprintf(fx->dndf, sizeof fx->dndf, "%s/dnd.txt", fx->dir);
    snprintf(fx->report, sizeof fx->report, "%s/report.html", fx->dir);
    snprintf(fx->dead, sizeof fx->dead, "redis://127.0.0.1:%d/0", rd_test_free_port());
    FILE *f = fopen(fx->seed, "w");
    if (!f) return -1;
    fputs(SEED, f);
    fclose(f);
    f = fopen(fx->dndf, "w");
    if (!f) return -1;
    fputs("+919800000009\n", f);
    fclose(f);
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_binaries, setup, teardown),
        cmocka_unit_test_setup_teardown(t_help, setup, teardown),
        cmocka_unit_test_setup_teardown(t_table, setup, teardown),
        cmocka_unit_test_setup_teardown(t_enqueue_stdin_and_report_stdout, setup, teardown),
        cmocka_unit_test_setup_teardown(t_act_on_problems, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
