/*
 * metrics.c — per-thread counter blocks summed on read, and the Prometheus
 * text of the engine counters and of the campaigns' seed metrics (see
 * metrics.h). Rendering only: the campaign figures are gathered by the
 * caller (engine/server.c, from Redis through engine/cstats.h).
 */
#include "engine/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"

static const char *const m_names[] = {
#define RD__M_NAME(id, name, help) name,
    RD_METRICS_MAP(RD__M_NAME)
#undef RD__M_NAME
};
static const char *const m_help[] = {
#define RD__M_HELP(id, name, help) help,
    RD_METRICS_MAP(RD__M_HELP)
#undef RD__M_HELP
};

rd_counters_t *rd_metrics_register(rd_metrics_t *m) {
    if (m->n_blocks >= RD_METRICS_MAX_BLOCKS) return NULL;
    return &m->blocks[m->n_blocks++];
}

uint64_t rd_metrics_sum(const rd_metrics_t *m, rd_metric_t id) {
    uint64_t s = 0;
    for (int i = 0; i < m->n_blocks; i++)
        s += atomic_load_explicit(&m->blocks[i].v[id], memory_order_relaxed);
    return s;
}

void rd_metrics_render(const rd_metrics_t *m, rd_sbuf_t *out) {
    for (int id = 0; id < RD_M__COUNT; id++) {
        const char *kind = strstr(m_names[id], "_total") ? "counter" : "untyped";
        rd_sbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", m_names[id], m_help[id],
                       m_names[id], kind, m_names[id],
                       (unsigned long long)rd_metrics_sum(m, (rd_metric_t)id));
    }
}

/* ---- campaign series ------------------------------------------------------ */

/* Ever-growing figures (names ending in _total) are counters, the others gauges. */
static void family(rd_sbuf_t *o, const char *name, const char *help) {
    rd_sbuf_printf(o, "# HELP redial_campaign_%s %s\n# TYPE redial_campaign_%s %s\n", name, help,
                   name, strstr(name, "_total") ? "counter" : "gauge");
}

/* The shortest of %.15g / %.17g that reads back as exactly v. */
static void sample(rd_sbuf_t *o, const char *name, const char *camp, const char *label, int lv,
                   double v) {
    char val[40];
    if (isnan(v)) {
        snprintf(val, sizeof val, "NaN");
    } else {
        snprintf(val, sizeof val, "%.15g", v);
        if (strtod(val, NULL) != v) snprintf(val, sizeof val, "%.17g", v);
    }
    if (label)
        rd_sbuf_printf(o, "redial_campaign_%s{campaign=\"%s\",%s=\"%d\"} %s\n", name, camp, label,
                       lv, val);
    else
        rd_sbuf_printf(o, "redial_campaign_%s{campaign=\"%s\"} %s\n", name, camp, val);
}

/* Scalar figures: name, help, offset of the double or uint64_t in rd_stats_t. */
#define RATE(field, name, help) \
    { name, help, offsetof(rd_stats_t, field), true }
#define COUNT(field, name, help) \
    { name, help, offsetof(rd_stats_t, field), false }
static const struct {
    const char *name, *help;
    size_t off;
    bool real;
} SCALARS[] = {
    /* Pending, live, finished and attempts by outcome come with the backlog
     * figures (store/figures.c): not repeated here. */
    COUNT(dialed, "jobs_dialed_total", "Jobs with at least one attempt"),
    COUNT(connected, "jobs_connected_total", "Jobs connected"),
    RATE(first_rate, "first_attempt_connection_rate",
         "Jobs connected on attempt 1 / jobs dialed (target > 0.40)"),
    RATE(total_rate, "total_connection_rate", "Jobs connected / jobs dialed (target > 0.70)"),
    RATE(avg_attempts_to_connect, "average_attempts_to_connect",
         "Mean attempt number of connected jobs (target < 2)"),
    RATE(unreachable_rate, "unreachable_rate",
         "Jobs finished unreachable / jobs finished (target < 0.20)"),
    RATE(retry_roi, "retry_roi", "Connections won by retries per retry call (target > 0.10)"),
};

void rd_metrics_render_campaigns(const rd_metrics_campaign_t *c, size_t n, rd_sbuf_t *o) {
    for (size_t f = 0; f < RD_ARRAY_LEN(SCALARS); f++) {
        family(o, SCALARS[f].name, SCALARS[f].help);
        for (size_t i = 0; i < n; i++) {
            const char *p = (const char *)&c[i].s + SCALARS[f].off;
            double v = SCALARS[f].real ? *(const double *)p : (double)*(const uint64_t *)p;
            sample(o, SCALARS[f].name, c[i].name, NULL, 0, v);
        }
    }
    family(o, "retry_connection_rate",
           "Connected on attempt retry+1 / attempts numbered retry+1 (target > 0.30)");
    for (size_t i = 0; i < n; i++)
        for (int k = 1; k < c[i].s.max_attempt && k < RD_STATS_MAX_ATTEMPTS; k++)
            sample(o, "retry_connection_rate", c[i].name, "retry", k, c[i].s.retry_rate[k]);
    family(o, "cumulative_connection_rate",
           "Jobs connected by attempt N (cumulative) / jobs dialed");
    for (size_t i = 0; i < n; i++)
        for (int a = 1; a <= c[i].s.max_attempt; a++)
            sample(o, "cumulative_connection_rate", c[i].name, "attempt", a, c[i].s.cumulative[a]);
    family(o, "incremental_gain",
           "Cumulative connection rate gained by attempt N (diminishing returns below 0.05)");
    for (size_t i = 0; i < n; i++)
        for (int a = 2; a <= c[i].s.max_attempt; a++)
            sample(o, "incremental_gain", c[i].name, "attempt", a, c[i].s.incremental[a]);
    family(o, "recommend_fewer_attempts",
           "1 when the last attempt used adds < 5 points (see `redial-cli stats`)");
    for (size_t i = 0; i < n; i++)
        sample(o, "recommend_fewer_attempts", c[i].name, NULL, 0, c[i].s.recommend_fewer);
    rd_sbuf_printf(o,
                   "# HELP redial_campaign_target The seed's target for a campaign metric\n"
                   "# TYPE redial_campaign_target gauge\n"
                   "redial_campaign_target{metric=\"first_attempt_connection_rate\"} %g\n"
                   "redial_campaign_target{metric=\"retry_connection_rate\"} %g\n"
                   "redial_campaign_target{metric=\"total_connection_rate\"} %g\n"
                   "redial_campaign_target{metric=\"average_attempts_to_connect\"} %g\n"
                   "redial_campaign_target{metric=\"unreachable_rate\"} %g\n"
                   "redial_campaign_target{metric=\"retry_roi\"} %g\n"
                   "redial_campaign_target{metric=\"incremental_gain_per_retry\"} %g\n",
                   RD_STATS_TARGET_FIRST, RD_STATS_TARGET_RETRY, RD_STATS_TARGET_TOTAL,
                   RD_STATS_TARGET_AVG, RD_STATS_TARGET_UNREACHABLE, RD_STATS_TARGET_INCREMENT,
                   RD_STATS_TARGET_INCREMENT);
}
