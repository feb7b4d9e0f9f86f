/*
 * Smoke test of redial-bench: the built harness runs a small load end to end
 * (its own redis-server, redial-sim with the seed model, one redial-server;
 * 500 jobs over 2 campaigns) and its --json figures must say: every job
 * final, zero referee violations, at least one attempt per job, as many
 * attempts as the referee saw calls, ordered lag percentiles, non-negative
 * costs, and a memory phase that measured something plausible. A second
 * case checks that a bad flag is refused with the setup exit status and
 * that --help exits 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/server_harness.h"

static double num(json_t *o, const char *path) {
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    json_t *cur = o;
    for (char *save = NULL, *p = strtok_r(buf, ".", &save); p && cur;
         p = strtok_r(NULL, ".", &save))
        cur = json_object_get(cur, p);
    if (!json_is_number(cur)) {
        fprintf(stderr, "missing number %s\n", path);
        fail();
    }
    return json_number_value(cur);
}

static void test_smoke(void **state) {
    (void)state;
    char json_path[] = "/tmp/redial-test-bench-XXXXXX";
    int fd = mkstemp(json_path);
    assert_true(fd >= 0);
    close(fd);
    char *argv[] = {"redial-bench", "--jobs",  "500",        "--campaigns", "2",
                    "--engines",    "1",       "--mem-jobs", "500",         "--timeout",
                    "120",          "--quiet", "--json",     json_path,     NULL};
    char *out = NULL;
    int rc = rd_test_run(argv, &out);
    fprintf(stderr, "%s", out ? out : "");
    free(out);
    assert_int_equal(rc, 0);

    json_error_t err;
    json_t *o = json_load_file(json_path, 0, &err);
    unlink(json_path);
    assert_non_null(o);
    assert_true(json_is_true(json_object_get(o, "completed")));
    assert_int_equal((long long)num(o, "jobs_final"), 500);
    assert_int_equal((long long)num(o, "violations_total"), 0);
    json_t *v = json_object_get(o, "violations");
    assert_true(json_is_object(v) && json_object_size(v) > 0);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) assert_int_equal(json_integer_value(x), 0);

    double attempts = num(o, "attempts");
    assert_true(attempts >= 500);
    /* max_attempts 4 by default: no job may have more. */
    assert_true(attempts <= 4 * 500);
    assert_int_equal((long long)attempts, (long long)num(o, "referee_calls"));
    assert_int_equal((long long)(num(o, "lag.samples") + num(o, "lag.moved")), (long long)attempts);
    assert_int_equal((long long)num(o, "lag.duplicate_finals"), 0);
    assert_int_equal((long long)num(o, "lag.out_of_order"), 0);
    double p50 = num(o, "lag.p50_ms"), p99 = num(o, "lag.p99_ms"), mx = num(o, "lag.max_ms");
    assert_true(p50 <= p99);
    assert_true(p99 <= mx);
    assert_true(mx < 120000);
    assert_true(num(o, "lag.retries.p50_ms") >= -1); /* clock reads are whole wall ms */

    double s50 = num(o, "end_to_settle.p50_ms"), s99 = num(o, "end_to_settle.p99_ms");
    assert_true(s50 >= -2 && s50 <= s99 && s99 <= num(o, "end_to_settle.max_ms"));
    assert_int_equal((long long)num(o, "end_to_settle.samples"), (long long)attempts);
    assert_true(num(o, "drain_s") > 0);
    assert_true(num(o, "attempts_per_s") > 0);
    assert_true(num(o, "peak_attempts_per_s") >= num(o, "attempts_per_s") * 0.5);
    assert_true(num(o, "redis_commands_per_attempt") > 1);
    assert_true(num(o, "cpu.engines_s") > 0);
    assert_true(num(o, "cpu.engine_s_per_1k_attempts") > 0);
    assert_true(num(o, "engine_rss_max_kb") > 1024);
    /* A pending job costs Redis some hundreds of bytes, not nothing and not kilobytes. */
    double bpj = num(o, "memory.bytes_per_pending_job");
    assert_true(bpj > 50 && bpj < 4096);
    assert_true(json_is_true(json_object_get(json_object_get(o, "memory"), "canceled")));
    /* The seed model: about 40% connect on the first attempt (500 jobs: wide bounds). */
    double first =
        json_number_value(json_array_get(json_object_get(o, "connected_cumulative_pct"), 0));
    assert_true(first > 25 && first < 55);
    json_decref(o);
}

static void test_flags(void **state) {
    (void)state;
    char *bad[] = {"redial-bench", "--jobs", "0", NULL};
    assert_int_equal(rd_test_run(bad, NULL), 2);
    char *unknown[] = {"redial-bench", "--no-such-flag", NULL};
    assert_int_equal(rd_test_run(unknown, NULL), 2);
    char *help[] = {"redial-bench", "--help", NULL};
    char *out = NULL;
    assert_int_equal(rd_test_run(help, &out), 0);
    assert_non_null(strstr(out, "--engines"));
    assert_non_null(strstr(out, "--timeout"));
    free(out);
}

/*
 * A small single-campaign, single-attempt run with `extra` flags appended
 * (NULL-terminated); asserts exit 0 and returns the --json report (decref).
 */
static json_t *small_run(const char *const *extra) {
    const char *argv[32] = {
        "redial-bench", "--campaigns", "1",       "--max-attempts", "1", "--mem-jobs", "0",
        "--timeout",    "120",         "--quiet", "--json",         "-"};
    int n = 12;
    for (int i = 0; extra[i] && n < 31; i++) argv[n++] = extra[i];
    argv[n] = NULL;
    char *out = NULL;
    assert_int_equal(rd_test_run((char *const *)argv, &out), 0);
    const char *j = strchr(out, '{');
    assert_non_null(j);
    json_t *o = json_loads(j, 0, NULL);
    free(out);
    assert_non_null(o);
    return o;
}

/* The simulator's callback connection cap (--cb-conns) passed through
 * --sim-args: with 2 connections every callback still arrives, one after the
 * other, and a cap out of range is refused. */
static void test_sim_cb_conns(void **state) {
    (void)state;
    const char *extra[] = {"--jobs", "100", "--sim-args", "--cb-conns 2", NULL};
    json_t *o = small_run(extra);
    assert_int_equal((long long)num(o, "jobs_final"), 100);
    assert_int_equal((long long)num(o, "attempts"), 100);
    assert_int_equal((long long)num(o, "violations_total"), 0);
    json_decref(o);
    char *bad[] = {"redial-sim", "--cb-conns", "0", NULL};
    assert_int_equal(rd_test_run(bad, NULL), 2);
}

/*
 * A settle wakes the dispatcher (engine/dispatch.c rd_dispatch_on_settled): with one
 * campaign of concurrency 2 and calls that end at once (busy after 1 policy
 * ms), 60 single-attempt jobs are 30 rounds of 2. Each round must start as
 * soon as the previous settles; before the doorbell each waited for the
 * dispatcher's 100 ms idle poll (drain ~2.7 s; with it ~0.1 s).
 */
static void test_slot_reuse(void **state) {
    (void)state;
    const char *extra[] = {"--jobs", "60",         "--concurrency",
                           "2",      "--sim-args", "--model uniform:busy=1 --busy-after 0.001",
                           NULL};
    json_t *o = small_run(extra);
    assert_int_equal((long long)num(o, "jobs_final"), 60);
    assert_int_equal((long long)num(o, "violations_total"), 0);
    double drain = num(o, "drain_s");
    if (drain >= 1.2) fprintf(stderr, "drain %.2f s: slots wait for the idle poll\n", drain);
    assert_true(drain < 1.2);
    json_decref(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_slot_reuse),
        cmocka_unit_test(test_sim_cb_conns),
        cmocka_unit_test(test_smoke),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
