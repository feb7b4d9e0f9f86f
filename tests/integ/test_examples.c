/*
 * The examples for other services (examples/python, examples/node) against
 * the real engine: enqueue hands numbers to redial through the inbox stream
 * and reports each one's fate (accepted, or dead-lettered with the reason),
 * redial-server dials them through redial-sim, and consume_events reads the
 * attempt and final events through a consumer group, stopping exactly at its
 * count. Python: Debian's python3-redis and python3-msgpack
 * (scripts/deps.sh); Node: `npm install` in examples/node (scripts/test.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

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

/* One language's examples. */
typedef struct {
    const char *name;
    bool python;
} lang_t;

static const lang_t PYTHON = {"python", true}, NODE = {"node", false};

static void enqueue_cmd(const lang_t *l, char *buf, size_t len, const rd_test_redis_t *r,
                        const char *campaign, const char *numbers) {
    if (l->python)
        snprintf(buf, len,
                 "cd '%s' && timeout 60 " PY " examples/python/enqueue.py %s %s --redis '%s' "
                 "--prefix '%s' --var order=42",
                 RD_SOURCE_DIR, campaign, numbers, r->url, r->prefix);
    else
        snprintf(buf, len,
                 "cd '%s/examples/node' && REDIAL_REDIS_URL='%s' REDIAL_PREFIX='%s' timeout 60 "
                 "node enqueue.mjs %s %s",
                 RD_SOURCE_DIR, r->url, r->prefix, campaign, numbers);
}

static void consume_cmd(const lang_t *l, char *buf, size_t len, const rd_test_redis_t *r, int n) {
    if (l->python)
        snprintf(buf, len,
                 "cd '%s' && timeout 60 " PY " examples/python/consume_events.py --redis '%s' "
                 "--prefix '%s' --group test --count %d",
                 RD_SOURCE_DIR, r->url, r->prefix, n);
    else
        snprintf(buf, len,
                 "cd '%s/examples/node' && REDIAL_REDIS_URL='%s' REDIAL_PREFIX='%s' timeout 60 "
                 "node consume_events.mjs test %d",
                 RD_SOURCE_DIR, r->url, r->prefix, n);
}

static void run_examples(const lang_t *l) {
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

    /* The producer reports the fate of each entry: accepted by the engine. */
    char cmd[1024], *out = NULL;
    enqueue_cmd(l, cmd, sizeof cmd, &r, "Examples", "+919800000001 +919800000002 +919800000003");
    int rc = sh(cmd, &out);
    if (rc != 0 || count(out, " sent (inbox entry ") != 3 || count(out, " accepted") != 3)
        fail_msg("%s enqueue: exit %d\n%s", l->name, rc, out);
    free(out);
    /* ... or dead-lettered, with the engine's reason, and exit 1. */
    enqueue_cmd(l, cmd, sizeof cmd, &r, "No_Such_Campaign", "+919800000004");
    rc = sh(cmd, &out);
    if (rc != 1 || count(out, "dead-lettered: ") != 1 || !strstr(out, "No_Such_Campaign"))
        fail_msg("%s enqueue (dead letter): exit %d\n%s", l->name, rc, out);
    free(out);

    /* 3 numbers that answer: one attempt and one final event each (6). The
     * consumer stops exactly at --count: 2, then the 4 others. */
    /* Every event is in the stream first, so that a consumer reading more
     * than its count would be seen doing it. */
    redisContext *rc6 = rd_test_redis_sync(&r);
    assert_non_null(rc6);
    long long xl = 0;
    for (int i = 0; i < 300 && xl < 6; i++) {
        redisReply *x = redisCommand(rc6, "XLEN %s:events", r.prefix);
        xl = x && x->type == REDIS_REPLY_INTEGER ? x->integer : 0;
        freeReplyObject(x);
        if (xl < 6) usleep(100 * 1000);
    }
    redisFree(rc6);
    assert_int_equal(xl, 6);
    consume_cmd(l, cmd, sizeof cmd, &r, 2);
    assert_int_equal(sh(cmd, &out), 0);
    int first = count(out, "attempt ") + count(out, "final   ");
    if (first != 2) fail_msg("%s consume --count 2 processed %d events:\n%s", l->name, first, out);
    char *all = out;
    consume_cmd(l, cmd, sizeof cmd, &r, 4);
    assert_int_equal(sh(cmd, &out), 0);
    size_t la = strlen(all);
    all = realloc(all, la + strlen(out) + 1);
    strcpy(all + la, out);
    free(out);
    assert_int_equal(count(all, "attempt "), 3);
    assert_int_equal(count(all, ": completed"), 3);
    assert_int_equal(count(all, ": connected after 1 attempts"), 3);
    free(all);

    assert_int_equal(rd_test_server_stop(&s, SIGTERM, 15000), 0);
    char *report = NULL;
    rd_test_sim_stop(&sim, &report);
    assert_non_null(report);
    assert_int_equal(rd_test_report_int(report, "violations_total"), 0);
    free(report);
    rd_test_redis_stop(&r);
}

static void t_python_examples(void **state) {
    (void)state;
    if (access(PY, X_OK) != 0 || sh(PY " -c 'import redis, msgpack'", NULL) != 0) {
        fprintf(stderr, "python3-redis / python3-msgpack missing: run scripts/deps.sh\n");
        fail();
    }
    run_examples(&PYTHON);
}

static void t_node_examples(void **state) {
    (void)state;
    char probe[512];
    snprintf(probe, sizeof probe,
             "cd '%s/examples/node' && node -e \"import('redis').then(() => "
             "import('@msgpack/msgpack'))\" 2>/dev/null",
             RD_SOURCE_DIR);
    if (sh(probe, NULL) != 0) {
        fprintf(stderr, "node or examples/node/node_modules missing: scripts/test.sh runs "
                        "`npm install` in examples/node\n");
        fail();
    }
    run_examples(&NODE);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_python_examples),
        cmocka_unit_test(t_node_examples),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
