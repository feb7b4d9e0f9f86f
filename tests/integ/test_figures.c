/*
 * The deployment-wide figures (store/figures.h) against a real Redis: 250
 * campaigns (more than the old 200 cap) and the live one's series are all
 * there; every series family of the exposition is present with its type;
 * finished campaigns leave after the retention and come back with work;
 * `campaign archive` retires a finished campaign at once and refuses a
 * live one; the output passes `promtool check metrics` (Debian's
 * prometheus package, installed by scripts/deps.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "store/figures.h"
#include "store/ops.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

#define T0 1796299200000LL /* 2026-12-03T12:00:00Z */

typedef struct fx {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s;
} fx_t;

typedef struct {
    bool done;
    int status;
    char *text;
    size_t n_campaigns, retired;
} got_t;

static void figures_cb(rd_store_t *s, int status, const rd_figures_t *f, void *arg) {
    (void)s;
    got_t *g = arg;
    g->status = status;
    if (!status) {
        rd_sbuf_t b = {0};
        rd_figures_render(f, &b);
        g->text = b.buf;
        g->n_campaigns = f->n_campaigns;
        g->retired = f->retired;
    }
    g->done = true;
}

static got_t collect(fx_t *f, int64_t now, int64_t retention) {
    got_t g = {0};
    assert_int_equal(rd_figures_collect(f->s, now, retention, figures_cb, &g), 0);
    while (!g.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(g.status, 0);
    return g;
}

static void campaign(fx_t *f, const char *name, int conc) {
    char json[256];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"caller_id\":\"1\",\"call_flow_id\":\"1\",\"numbers\":[],"
             "\"limits\":{\"concurrency\":%d}}",
             name, conc);
    assert_int_equal(ts_campaign(f->s, &f->loop, json, T0), 0);
}

/* The value of one series line "name{labels} value", or -1 when absent. */
static double series(const char *text, const char *line_prefix) {
    size_t n = strlen(line_prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (!strncmp(p, line_prefix, n) && p[n] == ' ') return strtod(p + n + 1, NULL);
    return -1;
}

static void promtool(const char *text) {
    if (access("/usr/bin/promtool", X_OK) != 0) fail_msg("promtool missing: run scripts/deps.sh");
    char path[] = "/tmp/rdfig.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs(text, fp);
    fclose(fp);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    char out[4096] = "";
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int st = pclose(p);
    unlink(path);
    if (st != 0) fail_msg("promtool check metrics failed:\n%s", out);
}

static void t_250_campaigns(void **state) {
    fx_t *f = *state;
    char name[32];
    for (int i = 0; i < 250; i++) {
        snprintf(name, sizeof name, "idle_%03d", i);
        campaign(f, name, 5);
    }
    campaign(f, "zz_live", 7);
    rd_enq_result_t r;
    const char *nums[] = {"+919800000001", "+919800000002", "+919800000003"};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ts_enqueue(f->s, &f->loop, "zz_live", nums[i], NULL,
                                    i < 2 ? T0 - 60000 * (i + 1) : T0 + 3600000, T0, &r),
                         0);
        assert_int_equal(r, RD_ENQ_CREATED);
    }
    assert_int_equal(ts_pool(f->s, &f->loop, "collections", 4), 0);

    got_t g = collect(f, T0, 10000);
    assert_int_equal(g.n_campaigns, 251);
    /* The live one, sorted last: every series of it. */
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"zz_live\"}") == 3);
    assert_true(series(g.text, "redial_campaign_due_now_jobs{campaign=\"zz_live\"}") == 2);
    assert_true(series(g.text, "redial_campaign_oldest_overdue_seconds{campaign=\"zz_live\"}") ==
                120);
    assert_true(series(g.text, "redial_campaign_live_calls{campaign=\"zz_live\"}") == 0);
    assert_true(series(g.text, "redial_campaign_concurrency_limit_calls{campaign=\"zz_live\"}") ==
                7);
    assert_true(series(g.text, "redial_campaign_jobs_enqueued_total{campaign=\"zz_live\"}") == 3);
    assert_true(series(g.text, "redial_campaign_state{campaign=\"zz_live\",state=\"active\"}") ==
                1);
    assert_true(series(g.text, "redial_campaign_attempts_total{campaign=\"zz_live\","
                               "outcome=\"busy\"}") == 0);
    assert_true(series(g.text, "redial_campaign_dispositions_total{campaign=\"zz_live\","
                               "disposition=\"connected\"}") == 0);
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"idle_000\"}") == 0);
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"idle_249\"}") == 0);
    assert_true(series(g.text, "redial_agent_pool_capacity_calls{pool=\"collections\"}") == 4);
    assert_true(series(g.text, "redial_deadletter_entries") == 0);
    assert_true(series(g.text, "redial_inbox_lag_entries") == 0);
    assert_true(strstr(g.text, "# TYPE redial_campaign_jobs_enqueued_total counter\n") != NULL);
    assert_true(strstr(g.text, "# TYPE redial_campaign_pending_jobs gauge\n") != NULL);
    promtool(g.text);
    free(g.text);

    /* The streams: two dead letters, an inbox entry no engine took yet, an
     * events consumer group that read nothing of two events. */
    redisContext *rc = rd_test_redis_sync(&f->redis);
    assert_non_null(rc);
    for (int i = 0; i < 2; i++)
        freeReplyObject(
            redisCommand(rc, "XADD %s:deadletter * j {} reason bad entry 1-1", f->redis.prefix));
    freeReplyObject(redisCommand(rc, "XADD %s:inbox * j {}", f->redis.prefix));
    freeReplyObject(redisCommand(rc, "XGROUP CREATE %s:inbox redial 0", f->redis.prefix));
    freeReplyObject(redisCommand(rc, "XADD %s:events * m x", f->redis.prefix));
    freeReplyObject(redisCommand(rc, "XADD %s:events * m y", f->redis.prefix));
    freeReplyObject(redisCommand(rc, "XGROUP CREATE %s:events billing 0", f->redis.prefix));
    redisFree(rc);
    g = collect(f, T0, 10000);
    assert_true(series(g.text, "redial_deadletter_entries") == 2);
    assert_true(series(g.text, "redial_inbox_entries") == 1);
    assert_true(series(g.text, "redial_inbox_lag_entries") == 1);
    assert_true(series(g.text, "redial_inbox_pending_entries") == 0);
    assert_true(series(g.text, "redial_events_entries") == 2);
    assert_true(series(g.text, "redial_events_consumer_lag_entries{group=\"billing\"}") == 2);
    assert_true(series(g.text, "redial_events_consumer_pending_entries{group=\"billing\"}") == 0);
    promtool(g.text);
    free(g.text);

    /* Past the retention the 250 idle ones leave; the live one stays. */
    g = collect(f, T0 + 20000, 10000);
    assert_int_equal(g.n_campaigns, 1);
    assert_int_equal(g.retired, 250);
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"zz_live\"}") == 3);
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"idle_000\"}") == -1);
    free(g.text);
    /* Work again: it comes back. */
    assert_int_equal(ts_enqueue(f->s, &f->loop, "idle_007", nums[0], NULL, T0, T0, &r), 0);
    g = collect(f, T0 + 21000, 10000);
    assert_int_equal(g.n_campaigns, 2);
    assert_true(series(g.text, "redial_campaign_pending_jobs{campaign=\"idle_007\"}") == 1);
    free(g.text);
}

typedef struct {
    bool done;
    int status;
    int64_t pending;
} arch_t;

static void arch_cb(rd_store_t *s, int status, int64_t pending, int64_t live, void *arg) {
    (void)s;
    (void)live;
    arch_t *a = arg;
    a->status = status;
    a->pending = pending;
    a->done = true;
}

static int archive(fx_t *f, const char *name, int64_t *pending) {
    arch_t a = {0};
    assert_int_equal(rd_ops_campaign_archive(f->s, name, T0, arch_cb, &a), 0);
    while (!a.done) uv_run(&f->loop, UV_RUN_ONCE);
    if (pending) *pending = a.pending;
    return a.status;
}

static void t_archive(void **state) {
    fx_t *f = *state;
    campaign(f, "daily", 5);
    rd_enq_result_t r;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "daily", "+919800000001", NULL, T0, T0, &r), 0);
    int64_t pending = 0;
    assert_int_equal(archive(f, "daily", &pending), RD_EINVAL);
    assert_int_equal(pending, 1);
    assert_int_equal(archive(f, "nope", NULL), RD_ENOTFOUND);
    assert_int_equal(ts_state(f->s, &f->loop, "daily", RD_CAMP_CANCELED, T0), 0);
    assert_int_equal(archive(f, "daily", NULL), 0);
    got_t g = collect(f, T0, 0);
    assert_int_equal(g.n_campaigns, 0);
    assert_null(strstr(g.text, "campaign=\"daily\""));
    free(g.text);
    rd_store_campaign_t c;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "daily", &c), RD_ENOTFOUND);
    /* The name is free again, with fresh counters. */
    campaign(f, "daily", 5);
    g = collect(f, T0, 0);
    assert_true(series(g.text, "redial_campaign_jobs_finished_total{campaign=\"daily\"}") == 0);
    free(g.text);
}

/* The shipped alert rules parse and fire on the situations they are for
 * (monitoring/alerts_test.yml); the dashboard is JSON with panels. */
static void t_alert_rules(void **state) {
    (void)state;
    if (access("/usr/bin/promtool", X_OK) != 0) fail_msg("promtool missing: run scripts/deps.sh");
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd '%s/monitoring' && promtool check rules alerts.yml >/dev/null && "
             "promtool test rules alerts_test.yml >/dev/null",
             RD_SOURCE_DIR);
    if (system(cmd) != 0) fail_msg("promtool check/test rules failed: run `%s`", cmd);
    snprintf(cmd, sizeof cmd, "%s/monitoring/grafana-redial.json", RD_SOURCE_DIR);
    json_error_t e;
    json_t *d = json_load_file(cmd, 0, &e);
    if (!d) fail_msg("%s: %s", cmd, e.text);
    assert_true(json_array_size(json_object_get(d, "panels")) >= 10);
    json_decref(d);
}

static int setup(void **state) {
    fx_t *f = rd_calloc(1, sizeof(*f));
    if (rd_test_redis_start(&f->redis) < 0) return -1;
    uv_loop_init(&f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    if (f->s) ts_close(f->s, &f->loop);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_250_campaigns, setup, teardown),
        cmocka_unit_test_setup_teardown(t_archive, setup, teardown),
        cmocka_unit_test(t_alert_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
