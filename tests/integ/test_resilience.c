/*
 * Resilience of redial-server, through the real pieces (our own
 * redis-server, redial-sim, redial-server processes):
 *   - Redis killed and restarted on the same port: /healthz answers 503
 *     while Redis is gone and 200 once the engine has reconnected, the
 *     engine never exits, and a campaign created after the restart (the
 *     restarted Redis is empty) gets dialed; /metrics answers meanwhile;
 *   - health tells the truth (issue 12, item 3): with Redis stopped
 *     (SIGSTOP: no reset, no answer — the traffic connection would notice
 *     only at its 5 s command timeout) /healthz answers 503 and
 *     redial_redis_up reads 0 within a second, and both recover after
 *     SIGCONT;
 *   - SIGHUP reopens the log file: after the file is renamed away, a
 *     SIGHUP makes a new file appear at the configured path, and new lines
 *     go there while the renamed file stops growing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

typedef struct {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    rd_test_server_t server;
    char epoch[32];
} env_t;

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* debug: every dial logs a line (the SIGHUP test watches lines appear). */
static const char *const ENGINE_ARGS[] = {"--provider-rate", "100000/1", "--log-level", "debug",
                                          NULL};

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start_own(&e->redis) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    /* One shared clock at 10:00 policy time, inside the default window. */
    rd_test_sim_opts_t so = {.model = "uniform:completed=1",
                             .seed = 3,
                             .time_origin = "2026-12-01T10:00:00+05:30",
                             .time_epoch = e->epoch};
    if (rd_test_sim_start(&e->sim, &so) != 0) return -1;
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = e->sim.base,
        .time_origin = "2026-12-01T10:00:00+05:30",
        .time_epoch = e->epoch,
        .engine_id = "resilience",
        .extra_args = ENGINE_ARGS,
    };
    if (rd_test_server_start(&e->server, &o) != 0) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    rd_test_server_kill(&e->server);
    unlink(e->server.log_path);
    rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

static long healthz(const env_t *e) {
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", e->server.base);
    return rd_test_http("GET", url, NULL, NULL, NULL, NULL);
}

/* Polls /healthz until it answers `want` (<= timeout_ms). */
static bool wait_health(const env_t *e, long want, int timeout_ms) {
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        if (healthz(e) == want) return true;
        sleep_ms(50);
    }
    return false;
}

static bool alive(env_t *e) { return waitpid(e->server.pid, NULL, WNOHANG) == 0; }

static long create_campaign(const env_t *e, const char *name) {
    char url[256], body[512];
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Campaigns", e->server.base, RD_TEST_PROVIDER_SID);
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"caller_id\":\"08030000000\",\"call_flow_id\":\"1\","
             "\"numbers\":[\"+919800000001\",\"+919800000002\"]}",
             name);
    return rd_test_http("POST", url, NULL, body, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, NULL);
}

static long long sim_calls(const env_t *e, const char *campaign) {
    char *report = rd_test_sim_report(&e->sim), path[128];
    snprintf(path, sizeof path, "campaigns.%s.calls", campaign);
    long long n = report ? rd_test_report_int(report, path) : -1;
    free(report);
    return n;
}

static void t_redis_restart(void **state) {
    env_t *e = *state;
    assert_int_equal(create_campaign(e, "Before"), 201);
    for (int i = 0; i < 200 && sim_calls(e, "Before") < 2; i++) sleep_ms(50);
    assert_int_equal(sim_calls(e, "Before"), 2);

    assert_int_equal(rd_test_redis_kill(&e->redis), 0);
    assert_true(wait_health(e, 503, 10000));
    /* Down for a while: the engine keeps retrying and keeps serving, and
       /metrics still answers (engine series, Redis down). */
    sleep_ms(1500);
    assert_true(alive(e));
    assert_int_equal(healthz(e), 503);
    char url[128], *scrape = NULL;
    snprintf(url, sizeof url, "%s/metrics", e->server.base);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &scrape), 200);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* At once, not after the store's command timeout (5 s). */
    assert_true(t1.tv_sec - t0.tv_sec < 2);
    assert_non_null(strstr(scrape, "\nredial_redis_up 0\n"));
    assert_non_null(strstr(scrape, "redial_claims_total"));
    free(scrape);

    assert_int_equal(rd_test_redis_restart(&e->redis), 0);
    assert_true(wait_health(e, 200, 15000));
    assert_true(alive(e));

    /* The restarted Redis is empty: a new campaign is created and dialed. */
    long st = -1;
    for (int i = 0; i < 100 && st != 201; i++) {
        st = create_campaign(e, "After");
        if (st != 201) sleep_ms(100);
    }
    assert_int_equal(st, 201);
    for (int i = 0; i < 300 && sim_calls(e, "After") < 2; i++) sleep_ms(50);
    assert_int_equal(sim_calls(e, "After"), 2);
    assert_true(alive(e));
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
}

static long long ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static bool metrics_redis_up(const env_t *e, int want) {
    char url[128], *scrape = NULL, line[64];
    snprintf(url, sizeof url, "%s/metrics", e->server.base);
    snprintf(line, sizeof line, "\nredial_redis_up %d\n", want);
    bool ok = rd_test_http("GET", url, NULL, NULL, NULL, &scrape) == 200 && strstr(scrape, line);
    free(scrape);
    return ok;
}

static void t_health_under_sigstop(void **state) {
    env_t *e = *state;
    assert_int_equal(create_campaign(e, "Probe"), 201);
    for (int i = 0; i < 200 && sim_calls(e, "Probe") < 2; i++) sleep_ms(50);
    assert_int_equal(healthz(e), 200);
    for (int round = 0; round < 3; round++) {
        assert_int_equal(kill(e->redis.pid, SIGSTOP), 0);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (healthz(e) != 503 && ms_since(&t0) < 6000) sleep_ms(20);
        long long took = ms_since(&t0);
        bool gauge = metrics_redis_up(e, 0);
        fprintf(stderr, "round %d: /healthz 503 after %lld ms (redis_up 0: %d)\n", round, took,
                gauge);
        assert_int_equal(kill(e->redis.pid, SIGCONT), 0);
        assert_true(took <= 1000);
        assert_true(gauge);
        assert_true(wait_health(e, 200, 5000));
        assert_true(metrics_redis_up(e, 1));
        /* Let a few commands flow on the traffic connection between rounds. */
        sleep_ms(300);
    }
    assert_true(alive(e));
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
}

static long long file_size(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long long)sb.st_size : -1;
}

static void t_sighup_reopens_log(void **state) {
    env_t *e = *state;
    char moved[300];
    snprintf(moved, sizeof moved, "%s.1", e->server.log_path);
    assert_true(file_size(e->server.log_path) > 0);
    assert_int_equal(rename(e->server.log_path, moved), 0);
    assert_int_equal(file_size(e->server.log_path), -1);

    assert_int_equal(kill(e->server.pid, SIGHUP), 0);
    long long n = -1;
    for (int i = 0; i < 100 && n <= 0; i++) {
        sleep_ms(50);
        n = file_size(e->server.log_path);
    }
    assert_true(n > 0);
    long long old_size = file_size(moved);

    /* New events go to the new file, not to the renamed one. */
    assert_int_equal(create_campaign(e, "AfterHup"), 201);
    for (int i = 0; i < 100 && file_size(e->server.log_path) == n; i++) sleep_ms(50);
    assert_true(file_size(e->server.log_path) > n);
    assert_int_equal(file_size(moved), old_size);
    FILE *f = fopen(e->server.log_path, "r");
    assert_non_null(f);
    char line[4096];
    bool reopened = false;
    while (fgets(line, sizeof line, f))
        if (strstr(line, "log.reopened")) reopened = true;
    fclose(f);
    assert_true(reopened);
    unlink(moved);
    assert_int_equal(rd_test_server_stop(&e->server, SIGTERM, 15000), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_sighup_reopens_log, setup, teardown),
        cmocka_unit_test_setup_teardown(t_redis_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(t_health_under_sigstop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
