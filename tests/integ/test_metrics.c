/*
 * The engine's metrics endpoints against a real engine and Redis: each
 * engine's /metrics (its own counters) and the deployment's
 * /metrics/cluster pass `promtool check metrics`; 250 campaigns plus a live
 * one, created through the API, are all in the cluster scrape with the live
 * one's backlog series; every series the shipped alert rules and Grafana
 * dashboard (monitoring/) use is exported by one of the two endpoints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <regex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"

#define AUTH RD_TEST_API_KEY ":" RD_TEST_API_TOKEN

static struct {
    rd_test_redis_t r;
    rd_test_server_t s;
    bool redis, server;
} G;

static int teardown(void **state) {
    (void)state;
    if (G.server) rd_test_server_stop(&G.s, SIGTERM, 15000);
    if (G.redis) rd_test_redis_stop(&G.r);
    return 0;
}

static void promtool(const char *what, const char *text) {
    if (access("/usr/bin/promtool", X_OK) != 0) fail_msg("promtool missing: run scripts/deps.sh");
    char path[] = "/tmp/rdmet.XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    char cmd[256], out[4096] = "";
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    unlink(path);
    if (st != 0) fail_msg("promtool check metrics on %s:\n%s", what, out);
}

/* Every redial_* name in file appears as a family in one of the scrapes. */
static void names_exported(const char *file, const char *a, const char *b) {
    char *text = rd_test_slurp(file);
    if (!text) fail_msg("cannot read %s", file);
    regex_t re;
    assert_int_equal(regcomp(&re, "redial_[a-z_]+", REG_EXTENDED), 0);
    regmatch_t m;
    for (const char *p = text; regexec(&re, p, 1, &m, 0) == 0; p += m.rm_eo) {
        char name[128], family[160];
        int len = (int)(m.rm_eo - m.rm_so);
        snprintf(name, sizeof name, "%.*s", len, p + m.rm_so);
        if (!strncmp(name, "redial_cluster", 14) && strlen(name) == 14) continue; /* job name */
        snprintf(family, sizeof family, "# TYPE %s ", name);
        if (!strstr(a, family) && !strstr(b, family))
            fail_msg("%s uses %s, which no endpoint exports", file, name);
    }
    regfree(&re);
    free(text);
}

static void t_metrics_endpoints(void **state) {
    (void)state;
    assert_int_equal(rd_test_redis_start(&G.r), 0);
    G.redis = true;
    rd_test_server_opts_t o = {
        .redis_url = G.r.url, .prefix = G.r.prefix, .provider_url = "http://127.0.0.1:9"};
    assert_int_equal(rd_test_server_start(&G.s, &o), 0);
    G.server = true;
    char url[256], body[512], *resp = NULL;
    snprintf(url, sizeof url, "%s/v1/Accounts/x/Campaigns", G.s.base);
    for (int i = 0; i < 250; i++) {
        snprintf(body, sizeof body,
                 "{\"name\":\"c%03d\",\"caller_id\":\"1\",\"call_flow_id\":\"1\",\"numbers\":[]}",
                 i);
        assert_int_equal(rd_test_http("POST", url, NULL, body, AUTH, &resp), 201);
        free(resp);
    }
    /* The live one: numbers due far ahead (nothing is dialed), named last. */
    assert_int_equal(
        rd_test_http("POST", url, NULL,
                     "{\"name\":\"zz_live\",\"caller_id\":\"1\",\"call_flow_id\":\"1\","
                     "\"numbers\":[],\"limits\":{\"concurrency\":9}}",
                     AUTH, &resp),
        201);
    free(resp);
    snprintf(url, sizeof url, "%s/v1/calls", G.s.base);
    for (int i = 0; i < 4; i++) {
        snprintf(
            body, sizeof body,
            "{\"campaign\":\"zz_live\",\"to\":\"+91980000020%d\",\"not_before\":1924992000000}", i);
        assert_int_equal(rd_test_http("POST", url, NULL, body, AUTH, &resp), 201);
        free(resp);
    }
    char *engine = NULL, *cluster = NULL;
    snprintf(url, sizeof url, "%s/metrics", G.s.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &engine), 200);
    snprintf(url, sizeof url, "%s/metrics/cluster", G.s.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &cluster), 200);
    assert_non_null(strstr(cluster, "redial_cluster_campaigns 251\n"));
    assert_non_null(strstr(cluster, "redial_campaign_pending_jobs{campaign=\"zz_live\"} 4\n"));
    assert_non_null(strstr(cluster, "redial_campaign_due_now_jobs{campaign=\"zz_live\"} 0\n"));
    assert_non_null(
        strstr(cluster, "redial_campaign_concurrency_limit_calls{campaign=\"zz_live\"} 9\n"));
    assert_non_null(strstr(cluster, "redial_campaign_pending_jobs{campaign=\"c000\"} 0\n"));
    assert_non_null(strstr(cluster, "redial_campaign_pending_jobs{campaign=\"c249\"} 0\n"));
    assert_non_null(strstr(engine, "# TYPE redial_claims_total counter\n"));
    assert_non_null(strstr(engine, "# TYPE redial_provider_breaker_rejects_total counter\n"));
    promtool("/metrics", engine);
    promtool("/metrics/cluster", cluster);
    char file[512];
    snprintf(file, sizeof file, "%s/monitoring/alerts.yml", RD_SOURCE_DIR);
    names_exported(file, engine, cluster);
    snprintf(file, sizeof file, "%s/monitoring/grafana-redial.json", RD_SOURCE_DIR);
    names_exported(file, engine, cluster);
    free(engine);
    free(cluster);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test_teardown(t_metrics_endpoints, teardown)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
