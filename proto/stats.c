/*
 * stats.c — the seed's metrics from raw counters (see stats.h).
 */
#include "proto/stats.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

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

/* ---- rendering ---------------------------------------------------------- */

#include <jansson.h>
#include <stdarg.h>

#include "proto/rd.h"

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf_t;

static void sb_printf(sbuf_t *b, const char *fmt, ...) RD_PRINTF(2, 3);
static void sb_printf(sbuf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 64);
        b->buf = rd_realloc(b->buf, b->cap);
    }
}

static const char *pct(char *buf, size_t len, double v) {
    if (isnan(v)) return "n/a";
    snprintf(buf, len, "%.1f%%", v * 100.0);
    return buf;
}

static const char *verdict(double v, double target, bool below_is_good) {
    if (isnan(v)) return "no data";
    return (below_is_good ? v < target : v > target) ? "ok" : "MISSED";
}

static const char *ordinal(int n) {
    static const char *const o[] = {"0th", "1st", "2nd", "3rd"};
    return n < 4 ? o[n] : NULL;
}

char *rd_stats_to_text(const char *campaign, const rd_stats_t *s) {
    sbuf_t b = {rd_malloc(1024), 0, 1024};
    char v[32];
    sb_printf(&b, "Campaign %s: %llu dialed, %llu finished, %llu pending, %llu attempts\n\n",
              campaign, (unsigned long long)s->dialed, (unsigned long long)s->finished,
              (unsigned long long)s->pending, (unsigned long long)s->attempts_total);
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "Metric", "Value", "Target", "");
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "First-attempt connection rate",
              pct(v, sizeof v, s->first_rate), "> 40%",
              verdict(s->first_rate, RD_STATS_TARGET_FIRST, false));
    for (int k = 1; k < s->max_attempt && k < RD_STATS_MAX_ATTEMPTS; k++) {
        char name[48];
        snprintf(name, sizeof name, "Retry connection rate (retry %d)", k);
        sb_printf(&b, "%-34s %8s  %-8s %s\n", name, pct(v, sizeof v, s->retry_rate[k]), "> 30%",
                  verdict(s->retry_rate[k], RD_STATS_TARGET_RETRY, false));
    }
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "Total connection rate", pct(v, sizeof v, s->total_rate),
              "> 70%", verdict(s->total_rate, RD_STATS_TARGET_TOTAL, false));
    if (isnan(s->avg_attempts_to_connect))
        snprintf(v, sizeof v, "n/a");
    else
        snprintf(v, sizeof v, "%.2f", s->avg_attempts_to_connect);
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "Average attempts to connect", v, "< 2",
              verdict(s->avg_attempts_to_connect, RD_STATS_TARGET_AVG, true));
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "Unreachable rate", pct(v, sizeof v, s->unreachable_rate),
              "< 20%", verdict(s->unreachable_rate, RD_STATS_TARGET_UNREACHABLE, true));
    sb_printf(&b, "%-34s %8s  %-8s %s\n", "Retry ROI (connections per retry)",
              pct(v, sizeof v, s->retry_roi), "> 10%",
              verdict(s->retry_roi, RD_STATS_TARGET_INCREMENT, false));

    sb_printf(&b, "\n%-8s %-26s %s\n", "Attempt", "Connection rate (cumul.)", "Incremental gain");
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
        sb_printf(&b, "%-8s %-26s %s\n", att, pct(v, sizeof v, s->cumulative[n]), inc);
    }
    if (s->recommendation[0]) sb_printf(&b, "\nRecommendation: %s\n", s->recommendation);
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
        json_object_set_new(row, "incremental_gain", n == 1 ? json_null() : num_or_null(s->incremental[n]));
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
