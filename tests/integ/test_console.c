/*
 * The web console (engine/console.h) in a real browser: a real engine
 * (redial-server) dialing through redial-sim, one campaign run to its end
 * and one live (its numbers due in the future), a dead letter; then
 * tests/integ/console_check.py drives headless Chromium through
 * chromedriver's WebDriver API: it signs in with the API credentials,
 * compares the figures shown with the API's, clicks Pause and sees the
 * campaign paused on the page and in the API, and takes a screenshot
 * (build dir; docs/console.png is this screenshot, refreshed with
 * RD_CONSOLE_SCREENSHOT=docs/console.png). Also: the page is served with
 * its security headers and no external reference. Needs Debian's chromium
 * and chromium-driver (scripts/deps.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define AUTH RD_TEST_API_KEY ":" RD_TEST_API_TOKEN

/* What the test started, stopped by the teardown even when an assertion fails. */
static struct {
    rd_test_redis_t r;
    rd_test_sim_t sim;
    rd_test_server_t s;
    bool redis, sim_up, server;
} G;

static int teardown(void **state) {
    (void)state;
    if (G.server) rd_test_server_stop(&G.s, SIGTERM, 15000);
    if (G.sim_up) {
        char *report = NULL;
        rd_test_sim_stop(&G.sim, &report);
        free(report);
    }
    if (G.redis) rd_test_redis_stop(&G.r);
    return 0;
}

static void t_console(void **state) {
    (void)state;
    if (access("/usr/bin/chromium", X_OK) != 0 || access("/usr/bin/chromedriver", X_OK) != 0)
        fail_msg("chromium / chromium-driver missing: run scripts/deps.sh");
    rd_test_redis_t r;
    assert_int_equal(rd_test_redis_start(&r), 0);
    G.r = r;
    G.redis = true;
    rd_test_sim_t sim;
    rd_test_sim_opts_t so = {.model = "uniform:completed=0.5,no-answer=0.5", .time_scale = "600"};
    assert_int_equal(rd_test_sim_start(&sim, &so), 0);
    G.sim = sim;
    G.sim_up = true;
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%lld", (long long)time(NULL) * 1000);
    static const char *const args[] = {"--provider-rate", "1000/1", NULL};
    rd_test_server_opts_t o = {.redis_url = r.url,
                               .prefix = r.prefix,
                               .provider_url = sim.base,
                               .time_scale = "600",
                               .time_origin = "2026-12-01T10:00:00+05:30",
                               .time_epoch = epoch,
                               .extra_args = args};
    rd_test_server_t s;
    assert_int_equal(rd_test_server_start(&s, &o), 0);
    G.s = s;
    G.server = true;

    /* The page: served with its policy, nothing external referenced. */
    char url[256], *body = NULL;
    snprintf(url, sizeof url, "%s/ui", s.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &body), 200);
    assert_non_null(strstr(body, "<title>redial console</title>"));
    assert_null(strstr(body, "http://"));
    assert_null(strstr(body, "https://"));
    free(body);

    /* A campaign run to its end (retries: 10 policy minutes apart), and a live one. */
    snprintf(url, sizeof url, "%s/v1/Accounts/x/Campaigns", s.base);
    long st =
        rd_test_http("POST", url, NULL,
                     "{\"name\":\"Done\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\",\"numbers\":"
                     "[\"+919800000001\",\"+919800000002\",\"+919800000003\",\"+919800000004\","
                     "\"+919800000005\",\"+919800000006\"],\"retry\":{\"max_attempts\":3,"
                     "\"interval_minutes\":10},\"schedule\":{\"daily_start\":\"00:00\",\"daily_"
                     "end\":\"23:59\"}}",
                     AUTH, &body);
    assert_int_equal(st, 201);
    free(body);
    assert_int_equal(rd_test_wait_finished(&s, "Done", 6, 60), 0);
    st = rd_test_http("POST", url, NULL,
                      "{\"name\":\"Live\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\","
                      "\"numbers\":[]}",
                      AUTH, &body);
    assert_int_equal(st, 201);
    free(body);
    snprintf(url, sizeof url, "%s/v1/calls", s.base);
    for (int i = 0; i < 3; i++) {
        char call[256];
        snprintf(call, sizeof call,
                 "{\"campaign\":\"Live\",\"to\":\"+91980000010%d\",\"not_before\":"
                 "1924992000000}",
                 i);
        assert_int_equal(rd_test_http("POST", url, NULL, call, AUTH, &body), 201);
        free(body);
    }
    redisContext *c = rd_test_redis_sync(&r);
    assert_non_null(c);
    redisReply *x = redisCommand(c, "XADD %s:deadletter * j %s reason %s entry 1-1", r.prefix,
                                 "{\"v\":1,\"campaign\":\"Ghost\",\"to\":\"+919800000009\"}",
                                 "campaign: \"Ghost\" does not exist");
    freeReplyObject(x);
    redisFree(c);

    const char *shot = getenv("RD_CONSOLE_SCREENSHOT");
    char shotpath[512], cmd[2048];
    if (shot && *shot)
        snprintf(shotpath, sizeof shotpath, "%s/%s", RD_SOURCE_DIR, shot);
    else
        snprintf(shotpath, sizeof shotpath, "%s/console.png", RD_BINARY_DIR);
    snprintf(cmd, sizeof cmd,
             "timeout 240 python3 '%s/tests/integ/console_check.py' '%s' '%s' '%s' Done Live "
             "'%s' 2>&1",
             RD_SOURCE_DIR, s.base, RD_TEST_API_KEY, RD_TEST_API_TOKEN, shotpath);
    FILE *p = popen(cmd, "r");
    char out[8192] = "";
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int rc = pclose(p);
    if (rc != 0 || !strstr(out, "console: OK")) fail_msg("%s", out);
    assert_int_equal(access(shotpath, R_OK), 0);

    G.server = false;
    assert_int_equal(rd_test_server_stop(&s, SIGTERM, 15000), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(t_console, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
