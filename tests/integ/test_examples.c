/*
 * The Python examples for other services (examples/python) against the real
 * engine: enqueue.py hands numbers to redial through the inbox stream,
 * redial-server dials them through redial-sim, and consume_events.py reads
 * the attempt and final events through a consumer group. Uses Debian's
 * python3 with python3-redis and python3-msgpack (scripts/deps.sh).
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define PY "/usr/bin/python3"

/* Runs a command line through sh with a timeout, capturing stdout. */
static int sh(const char *cmd, char **out) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) {
        len += n;
        if (cap - len < 1024) buf = realloc(buf, cap *= 2);
    }
    buf[len] = '\0';
    int st = pclose(p);
    if (out)
        *out = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int count(const char *hay, const char *needle) {
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static void t_python_examples(void **state) {
    (void)state;
    if (access(PY, X_OK) != 0 || sh(PY " -c 'import redis, msgpack'", NULL) != 0) {
        fprintf(stderr, "python3-redis / python3-msgpack missing: run scripts/deps.sh\n");
        fail();
    }
    rd_test_redis_t r;
    assert_int_equal(rd_test_redis_start(&r), 0);
    rd_test_sim_t sim;
    rd_test_sim_opts_t so = {.model = "uniform:completed=1", .time_scale = "60"};
    assert_int_equal(rd_test_sim_start(&sim, &so), 0);
    /* Policy time: a Tuesday 10:00 in Asia/Kolkata, one policy minute per wall second. */
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%lld", (long long)time(NULL) * 1000);
    static const char *const args[] = {"--provider-rate", "1000/1", NULL};
    rd_test_server_opts_t o = {
        .redis_url = r.url,
        .prefix = r.prefix,
        .provider_url = sim.base,
        .time_scale = "60",
        .time_origin = "2026-12-01T10:00:00+05:30",
        .time_epoch = epoch,
        .extra_args = args,
    };
    rd_test_server_t s;
    assert_int_equal(rd_test_server_start(&s, &o), 0);

    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/v1/Accounts/x/Campaigns", s.base);
    long st = rd_test_http("POST", url, NULL,
                           "{\"name\":\"Examples\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\","
                           "\"numbers\":[]}",
                           RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, &resp);
    assert_int_equal(st, 201);
    free(resp);

    char cmd[1024], *out = NULL;
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 30 " PY " examples/python/enqueue.py Examples "
             "+919800000001 +919800000002 +919800000003 --redis '%s' --prefix '%s' "
             "--var order=42",
             RD_SOURCE_DIR, r.url, r.prefix);
    assert_int_equal(sh(cmd, &out), 0);
    assert_int_equal(count(out, ": job "), 3);
    free(out);

    /* 3 numbers that answer: one attempt and one final event each. */
    snprintf(cmd, sizeof cmd,
             "cd '%s' && timeout 60 " PY " examples/python/consume_events.py --redis '%s' "
             "--prefix '%s' --group test --count 6",
             RD_SOURCE_DIR, r.url, r.prefix);
    assert_int_equal(sh(cmd, &out), 0);
    assert_int_equal(count(out, "attempt "), 3);
    assert_int_equal(count(out, ": completed"), 3);
    assert_int_equal(count(out, ": connected after 1 attempts"), 3);
    free(out);

    assert_int_equal(rd_test_server_stop(&s, SIGTERM, 15000), 0);
    char *report = NULL;
    rd_test_sim_stop(&sim, &report);
    assert_non_null(report);
    assert_int_equal(rd_test_report_int(report, "violations_total"), 0);
    free(report);
    rd_test_redis_stop(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_python_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
