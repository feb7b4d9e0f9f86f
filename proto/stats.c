/*
 * stats.c — the seed's metrics from raw counters (see stats.h), the metric
 * table every surface shows (rd_stats_rows: targets and the verdict rule in
 * one place), and its text and JSON renderings.
 */
#include "proto/stats.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "proto/rd.h"
#include "proto/sbuf.h"

static double ratio(uint64_t num, uint64_t den) { return den ? (double)num / (double)den : NAN; }

void rd_stats_compute(const rd_stats_counts_t *in, rd_stats_t *out) {
    memset(out, 0, sizeof *out);
    out->dialed = in->attempts[1];
    for (int d = 0; d < RD_DISP__COUNT; d++) out->finished += in->finals[d];
    out->pending = in->jobs > out->finished ? in->jobs - out->finished : 0;

    uint64_t conn_weighted = 0, retry_calls = 0, retry_conn = 0;
    for (int n = 1; n <= RD_STATS_MAX_ATTEMPTS; n++) {
        out->attempts_total += in->attempts[n];
        out->connected += in->connected[n];
        conn_weighted += (uint64_t)n * in->connected[n];
        if (in->attempts[n]) out->max_attempt = n;
        if (n >= 2) {
            retry_calls += in->attempts[n];
            retry_conn += in->connected[n];
        }
    }
    out->first_rate = ratio(in->connected[1], out->dialed);
    for (int k = 1; k < RD_STATS_MAX_ATTEMPTS; k++)
        out->retry_rate[k] = ratio(in->connected[k + 1], in->attempts[k + 1]);
    out->total_rate = ratio(out->connected, out->dialed);
    out->avg_attempts_to_connect = ratio(conn_weighted, out->connected);
    out->unreachable_rate = ratio(in->finals[RD_DISP_UNREACHABLE], out->finished);
    out->retry_roi = ratio(retry_conn, retry_calls);

    uint64_t cum = 0;
    out->cumulative[0] = out->dialed ? 0.0 : NAN;
    for (int n = 1; n <= RD_STATS_MAX_ATTEMPTS; n++) {
        cum += in->connected[n];
        out->cumulative[n] = ratio(cum, out->dialed);
        out->incremental[n] = out->cumulative[n] - out->cumulative[n - 1];
    }
    int last = out->max_attempt;
    if (last >= 2 && out->incremental[last] < RD_STATS_DIMINISHING) {
        out->recommend_fewer = true;
        snprintf(out->recommendation, sizeof out->recommendation,
                 "attempt %d adds only %.1f%% connections (< 5%%): consider max_attempts = %d",
                 last, out->incremental[last] * 100.0, last - 1);
    }
}

/* ---- the metric table ---------------------------------------------------- */

const char *rd_stats_pct(char *buf, size_t len, double v) {
    if (isnan(v)) return "n/a";
    snprintf(buf, len, "%.1f%%", v * 100.0);
    return buf;
}

static rd_stats_verdict_t verdict(double v, double target, bool below_is_good) {
    if (isnan(v)) return RD_STATS_NODATA;
    return (below_is_good ? v < target : v > target) ? RD_STATS_MET : RD_STATS_MISSED;
}

static void fill_row(rd_stats_row_t *r, const char *name, double v, double target,
                     bool below_is_good, const char *target_text) {
    snprintf(r->name, sizeof r->name, "%s", name);
    const char *p = rd_stats_pct(r->value, sizeof r->value, v);
    if (p != r->value) snprintf(r->value, sizeof r->value, "%s", p);
    r->target = target_text;
    r->verdict = verdict(v, target, below_is_good);
}

size_t rd_stats_rows(const rd_stats_t *s, rd_stats_row_t *rows) {
    size_t n = 0;
    fill_row(&rows[n++], "First-attempt connection rate", s->first_rate, RD_STATS_TARGET_FIRST,
             false, "> 40%");
    for (int k = 1; k < s->max_attempt && k < RD_STATS_MAX_ATTEMPTS; k++) {
        char name[48];
        snprintf(name, sizeof name, "Retry connection rate (retry %d)", k);
        fill_row(&rows[n++], name, s->retry_rate[k], RD_STATS_TARGET_RETRY, false, "> 30%");
    }
    fill_row(&rows[n++], "Total connection rate", s->total_rate, RD_STATS_TARGET_TOTAL, false,
             "> 70%");
    fill_row(&rows[n], "Average attempts to connect", s->avg_attempts_to_connect,
             RD_STATS_TARGET_AVG, true, "< 2");
    if (!isnan(s->avg_attempts_to_connect)) /* a count, not a rate */
        snprintf(rows[n].value, sizeof rows[n].value, "%.2f", s->avg_attempts_to_connect);
    n++;
    fill_row(&rows[n++], "Unreachable rate", s->unreachable_rate, RD_STATS_TARGET_UNREACHABLE, true,
             "< 20%");
    fill_row(&rows[n++], "Retry ROI (connections per retry)", s->retry_roi,
             RD_STATS_TARGET_INCREMENT, false, "> 10%");
    return n;
}

/* ---- rendering ---------------------------------------------------------- */

static const char *ordinal(int n) {
    static const char *const o[] = {"0th", "1st", "2nd", "3rd"};
    return n < 4 ? o[n] : NULL;
}

char *rd_stats_to_text(const char *campaign, const rd_stats_t *s) {
    static const char *const word[] = {"no data", "ok", "MISSED"};
    rd_sbuf_t b;
    rd_sbuf_init(&b, 1024);
    char v[32];
    rd_sbuf_printf(&b, "Campaign %s: %llu dialed, %llu finished, %llu pending, %llu attempts\n\n",
                   campaign, (unsigned long long)s->dialed, (unsigned long long)s->finished,
                   (unsigned long long)s->pending, (unsigned long long)s->attempts_total);
    rd_sbuf_printf(&b, "%-34s %8s  %-8s %s\n", "Metric", "Value", "Target", "");
    rd_stats_row_t rows[RD_STATS_MAX_ROWS];
    size_t n_rows = rd_stats_rows(s, rows);
    for (size_t i = 0; i < n_rows; i++)
        rd_sbuf_printf(&b, "%-34s %8s  %-8s %s\n", rows[i].name, rows[i].value, rows[i].target,
                       word[rows[i].verdict]);

    rd_sbuf_printf(&b, "\n%-8s %-26s %s\n", "Attempt", "Connection rate (cumul.)",
                   "Incremental gain");
    for (int n = 1; n <= s->max_attempt; n++) {
        char att[16], inc[32];
        const char *o = ordinal(n);
        if (o)
            snprintf(att, sizeof att, "%s", o);
        else
            snprintf(att, sizeof att, "%dth", n);
        if (n == 1)
            snprintf(inc, sizeof inc, "--");
        else
            snprintf(inc, sizeof inc, "%+.1f%%%s", s->incremental[n] * 100.0,
                     s->incremental[n] < RD_STATS_DIMINISHING ? "  (diminishing)" : "");
        rd_sbuf_printf(&b, "%-8s %-26s %s\n", att, rd_stats_pct(v, sizeof v, s->cumulative[n]),
                       inc);
    }
    if (s->recommendation[0]) rd_sbuf_printf(&b, "\nRecommendation: %s\n", s->recommendation);
    return b.buf;
}

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

json_t *rd_stats_to_json(const char *campaign, const rd_stats_t *s) {
    json_t *o = json_object();
    json_object_set_new(o, "campaign", json_string(campaign));
    json_object_set_new(o, "dialed", json_integer((json_int_t)s->dialed));
    json_object_set_new(o, "finished", json_integer((json_int_t)s->finished));
    json_object_set_new(o, "pending", json_integer((json_int_t)s->pending));
    json_object_set_new(o, "connected", json_integer((json_int_t)s->connected));
    json_object_set_new(o, "attempts", json_integer((json_int_t)s->attempts_total));
    json_object_set_new(o, "first_attempt_connection_rate", num_or_null(s->first_rate));
    json_object_set_new(o, "total_connection_rate", num_or_null(s->total_rate));
    json_object_set_new(o, "average_attempts_to_connect", num_or_null(s->avg_attempts_to_connect));
    json_object_set_new(o, "unreachable_rate", num_or_null(s->unreachable_rate));
    json_object_set_new(o, "retry_roi", num_or_null(s->retry_roi));
    json_t *retry = json_array(), *by = json_array();
    for (int k = 1; k < s->max_attempt && k < RD_STATS_MAX_ATTEMPTS; k++)
        json_array_append_new(retry, num_or_null(s->retry_rate[k]));
    for (int n = 1; n <= s->max_attempt; n++) {
        json_t *row = json_object();
        json_object_set_new(row, "attempt", json_integer(n));
        json_object_set_new(row, "cumulative_connection_rate", num_or_null(s->cumulative[n]));
        json_object_set_new(row, "incremental_gain",
                            n == 1 ? json_null() : num_or_null(s->incremental[n]));
        json_array_append_new(by, row);
    }
    json_object_set_new(o, "retry_connection_rate", retry);
    json_object_set_new(o, "by_attempt", by);
    json_t *t = json_object();
    json_object_set_new(t, "first_attempt_connection_rate", json_real(RD_STATS_TARGET_FIRST));
    json_object_set_new(t, "retry_connection_rate", json_real(RD_STATS_TARGET_RETRY));
    json_object_set_new(t, "total_connection_rate", json_real(RD_STATS_TARGET_TOTAL));
    json_object_set_new(t, "average_attempts_to_connect", json_real(RD_STATS_TARGET_AVG));
    json_object_set_new(t, "unreachable_rate", json_real(RD_STATS_TARGET_UNREACHABLE));
    json_object_set_new(t, "incremental_gain_per_retry", json_real(RD_STATS_TARGET_INCREMENT));
    json_object_set_new(o, "targets", t);
    json_object_set_new(o, "recommendation",
                        s->recommendation[0] ? json_string(s->recommendation) : json_null());
    return o;
}
