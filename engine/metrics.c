/*
 * metrics.c — stage "metrics": per-thread counter blocks summed on read,
 * their Prometheus text, the campaigns' seed metrics, and the GET /metrics
 * scrape that gathers those figures (contract in metrics.h).
 *
 * Design: the scrape is asynchronous — one campaign list, then one stats
 * read per campaign through the stats cache (engine/cstats.h) for figures
 * older than METRICS_MAX_AGE_MS — and answers when the last one is in.
 */
#include "engine/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/exit.h"
#include "engine/server_int.h"
#include "proto/rd.h"

#define METRICS_MAX_AGE_MS 5000   /* wall: campaign figures on /metrics at most this old */
#define METRICS_MAX_CAMPAIGNS 200 /* campaigns per scrape (first by name) */

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
        int flen = (int)strcspn(m_names[id], "{");
        if (id == 0 || (int)strcspn(m_names[id - 1], "{") != flen ||
            strncmp(m_names[id - 1], m_names[id], (size_t)flen) != 0)
            rd_sbuf_printf(out, "# HELP %.*s %s\n# TYPE %.*s %s\n", flen, m_names[id], m_help[id],
                           flen, m_names[id], kind);
        rd_sbuf_printf(out, "%s %llu\n", m_names[id],
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
     * figures (store/figures.c, /metrics/cluster): not repeated here. */
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

/* ---- GET /metrics ------------------------------------------------------------ */

/*
 * GET /metrics: the engine's counters, then the seed's metrics of up to
 * METRICS_MAX_CAMPAIGNS campaigns (first by name; redial_campaigns_omitted
 * counts the rest) from the stats cache, gathered asynchronously: one
 * SMEMBERS, then one stats script per campaign whose figures are older than
 * METRICS_MAX_AGE_MS. Without Redis the campaign series are left out.
 */
typedef struct scrape scrape_t;
typedef struct scrape_slot {
    scrape_t *sc;
    size_t i;
} scrape_slot_t;

struct scrape {
    rd_server_t *srv;
    rd_http_req_t *req;
    rd_metrics_campaign_t *camps; /* [n]; name NULL when not loaded */
    char **names;                 /* [n], owned */
    char **reasons;               /* [n], owned: the provider pause reason, NULL = none */
    scrape_slot_t *slots;         /* [n]: the callback argument per campaign */
    size_t n, omitted, waiting;
};

/* Settle, the callback route and ingest keep their own counters: copy them
   into the mirror block so the exposition shows them under their names. */
static void mirror_counters(rd_server_t *srv) {
    rd_settle_stats_t ss;
    rd_callback_route_stats_t rs;
    rd_settle_stats(srv->settle, &ss);
    rd_callback_route_stats(srv->route, &rs);
    _Atomic uint64_t *v = srv->mirror->v;
    atomic_store_explicit(&v[RD_M_SETTLED], ss.settled, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_SETTLE_STALE], ss.duplicates, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_SETTLE_LOOKUPS], ss.lookups, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_SETTLE_HELD], ss.held, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_CALLBACKS], rs.received, memory_order_relaxed);
    atomic_store_explicit(&v[RD_M_CALLBACKS_REJECTED], rs.forged + rs.bad, memory_order_relaxed);
    if (srv->ingest && !srv->ingest_closed) { /* freed once closed: keep the last figure */
        rd_ingest_counters_t ic;
        rd_ingest_counters(srv->ingest, &ic);
        atomic_store_explicit(&v[RD_M_DEADLETTERED], ic.deadlettered, memory_order_relaxed);
    }
}

/* The provider side of the pool: errors by answer class, each account's
   breaker (a state set: one series per state, 1 for the current one), the
   dial request latency. */
static void render_provider(rd_pool_t *pool, const rd_pool_stats_t *ps, rd_sbuf_t *b) {
    static const char *const err_label[RD_POOL_ERR__N] = {"none", "429", "4xx", "5xx", "other"};
    rd_sbuf_printf(b, "# HELP redial_provider_errors_total Provider requests answered non-2xx "
                      "(status: 429, 4xx, 5xx, other) or not answered (status none: connect "
                      "error, timeout)\n# TYPE redial_provider_errors_total counter\n");
    for (int e = 0; e < RD_POOL_ERR__N; e++)
        rd_sbuf_printf(b, "redial_provider_errors_total{status=\"%s\"} %llu\n", err_label[e],
                       (unsigned long long)ps->errors[e]);
    static const char *const st_label[] = {"closed", "open", "half_open"};
    rd_sbuf_printf(b, "# HELP redial_provider_breaker_state Each provider account's circuit "
                      "breaker: 1 for its current state (open: requests refused unsent)\n"
                      "# TYPE redial_provider_breaker_state gauge\n");
    for (uint32_t a = 0; a < rd_pool_n_accounts(pool); a++) {
        rd_pool_breaker_t st = rd_pool_breaker_state(pool, a);
        for (int k = 0; k < 3; k++) {
            rd_sbuf_printf(b, "redial_provider_breaker_state{account=\"%u\",sid=\"", a);
            rd_sbuf_label(b, rd_pool_account_sid(pool, a));
            rd_sbuf_printf(b, "\",state=\"%s\"} %d\n", st_label[k], (int)st == k ? 1 : 0);
        }
    }
    rd_hist_render(b, "redial_provider_dial_duration_seconds",
                   "Dial requests to the provider, handed to the transport until answered or "
                   "failed (worker side)",
                   &ps->dial_hist);
}

/* Campaigns the engine paused because the provider refused the account or
   configuration, with the reason as a label (escaped per the exposition
   format: backslash, quote, newline). */
static void render_pauses(const scrape_t *sc, rd_sbuf_t *b) {
    rd_sbuf_printf(b, "# HELP redial_campaign_paused_by_provider Campaigns paused because the "
                      "provider refused the account or configuration (label: the reason)\n"
                      "# TYPE redial_campaign_paused_by_provider gauge\n");
    for (size_t i = 0; i < sc->n; i++) {
        const char *r = sc->reasons[i];
        if (!r) continue;
        rd_sbuf_printf(b, "redial_campaign_paused_by_provider{campaign=\"%s\",reason=\"",
                       sc->names[i]);
        rd_sbuf_label(b, r);
        rd_sbuf_printf(b, "\"} 1\n");
    }
}

static void scrape_finish(scrape_t *sc) {
    rd_server_t *srv = sc->srv;
    mirror_counters(srv);
    rd_sbuf_t b;
    rd_sbuf_init(&b, 8192 + sc->n * 2048);
    rd_metrics_render(&srv->metrics, &b);
    /* Keep the loaded ones, in name order. */
    size_t k = 0;
    for (size_t i = 0; i < sc->n; i++)
        if (sc->camps[i].name) sc->camps[k++] = sc->camps[i];
    if (k) rd_metrics_render_campaigns(sc->camps, k, &b);
    render_pauses(sc, &b);
    rd_pool_stats_t ps;
    rd_pool_stats(srv->pool, &ps);
    rd_sbuf_printf(&b,
                   "# HELP redial_build_info The engine's version\n"
                   "# TYPE redial_build_info gauge\nredial_build_info{version=\"%s\"} 1\n"
                   "# HELP redial_provider_requests_total Provider HTTP requests of this engine\n"
                   "# TYPE redial_provider_requests_total counter\n"
                   "redial_provider_requests_total %llu\n"
                   "# HELP redial_provider_transient_errors_total Provider requests that failed "
                   "transiently (5xx, 429, timeout)\n"
                   "# TYPE redial_provider_transient_errors_total counter\n"
                   "redial_provider_transient_errors_total %llu\n"
                   "# HELP redial_provider_breaker_rejects_total Requests failed fast while the "
                   "account's circuit breaker was open\n"
                   "# TYPE redial_provider_breaker_rejects_total counter\n"
                   "redial_provider_breaker_rejects_total %llu\n"
                   "# HELP redial_provider_queued_requests Provider requests waiting for a worker\n"
                   "# TYPE redial_provider_queued_requests gauge\n"
                   "redial_provider_queued_requests %llu\n",
                   RD_VERSION, (unsigned long long)ps.http_requests,
                   (unsigned long long)ps.transient, (unsigned long long)ps.breaker_rejects,
                   (unsigned long long)ps.queued);
    render_provider(srv->pool, &ps, &b);
    rd_sbuf_printf(&b,
                   "# HELP redial_campaigns_omitted Campaigns left out of this scrape "
                   "(over the per-scrape bound)\n"
                   "# TYPE redial_campaigns_omitted gauge\nredial_campaigns_omitted %zu\n"
                   "# HELP redial_dials_inflight Dial requests in flight in this engine\n"
                   "# TYPE redial_dials_inflight gauge\nredial_dials_inflight %d\n"
                   "# HELP redial_redis_up Whether this engine is connected to Redis\n"
                   "# TYPE redial_redis_up gauge\nredial_redis_up %d\n"
                   "# HELP redial_redis_commands_total Redis commands sent by this engine\n"
                   "# TYPE redial_redis_commands_total counter\n"
                   "redial_redis_commands_total %llu\n",
                   sc->omitted, srv->inflight, rd_store_connected(srv->store) ? 1 : 0,
                   (unsigned long long)rd_store_commands_sent(srv->store));
    double brate = 0, bburst = 0;
    const char *bucket = rd_store_bucket(srv->store, &brate, &bburst);
    if (bucket) {
        rd_sbuf_printf(&b, "# HELP redial_provider_bucket_rate_calls_per_second The provider "
                           "account's token bucket: claims allowed per second (all engines)\n"
                           "# TYPE redial_provider_bucket_rate_calls_per_second gauge\n"
                           "redial_provider_bucket_rate_calls_per_second{bucket=\"");
        rd_sbuf_label(&b, bucket);
        rd_sbuf_printf(&b,
                       "\"} %g\n# HELP redial_provider_bucket_capacity_calls The provider "
                       "account's token bucket: burst capacity\n"
                       "# TYPE redial_provider_bucket_capacity_calls gauge\n"
                       "redial_provider_bucket_capacity_calls{bucket=\"",
                       brate);
        rd_sbuf_label(&b, bucket);
        rd_sbuf_printf(&b, "\"} %g\n", bburst);
    }
    rd_hist_render(&b, "redial_settle_duration_seconds",
                   "Settles applied: a callback or poll answer handed to settle until Redis "
                   "applied the outcome (settle side)",
                   rd_settle_hist(srv->settle));
    rd_hist_render(&b, "redial_redis_script_duration_seconds",
                   "Redis script calls of this engine, sent until answered (store side)",
                   rd_store_script_hist(srv->store));
    rd_journal_stats_t js = {0};
    if (srv->journal) rd_journal_stats(srv->journal, &js);
    rd_sbuf_printf(
        &b,
        "# HELP redial_clock_ok Whether this engine's clock agrees with the "
        "deployment's (Redis TIME within the skew limit, same time settings)\n"
        "# TYPE redial_clock_ok gauge\nredial_clock_ok %d\n"
        "# HELP redial_clock_skew_seconds This engine's clock minus Redis TIME, last check\n"
        "# TYPE redial_clock_skew_seconds gauge\nredial_clock_skew_seconds %.3f\n"
        "# HELP redial_journal_pending Placed writes kept until Redis takes them\n"
        "# TYPE redial_journal_pending gauge\nredial_journal_pending %zu\n"
        "# HELP redial_journal_replayed_total Kept placed writes applied after an "
        "outage\n"
        "# TYPE redial_journal_replayed_total counter\nredial_journal_replayed_total "
        "%llu\n"
        "# HELP redial_journal_lost_total Placed writes given up (journal full, "
        "stopped, or refused)\n"
        "# TYPE redial_journal_lost_total counter\nredial_journal_lost_total %llu\n",
        rd_server__clock_ok(srv) ? 1 : 0,
        srv->clockwatch ? (double)rd_clockwatch_skew_ms(srv->clockwatch) / 1000.0 : 0.0, js.pending,
        (unsigned long long)js.replayed, (unsigned long long)js.dropped);
    rd_http_respond(sc->req, 200, "text/plain; version=0.0.4", NULL, b.buf, b.len);
    rd_free(b.buf);
    for (size_t i = 0; i < sc->n; i++) rd_free(sc->names[i]);
    for (size_t i = 0; i < sc->n; i++) rd_free(sc->reasons[i]);
    rd_free(sc->reasons);
    rd_free(sc->names);
    rd_free(sc->camps);
    rd_free(sc->slots);
    rd_free(sc);
}

static void on_scrape_stats(int status, const rd_store_stats_t *st, void *arg) {
    scrape_slot_t *slot = arg;
    scrape_t *sc = slot->sc;
    if (status == 0) {
        rd_metrics_campaign_t *c = &sc->camps[slot->i];
        c->name = sc->names[slot->i];
        rd_stats_compute(&st->counts, &c->s);
        c->live = st->live;
    }
    if (--sc->waiting == 0) scrape_finish(sc);
}

static void on_scrape_campaign(rd_store_t *s, int status, const rd_store_campaign_t *c, void *arg) {
    (void)s;
    scrape_slot_t *slot = arg;
    scrape_t *sc = slot->sc;
    if (status == 0 && c->state == RD_CAMP_PAUSED && c->pause_reason[0])
        sc->reasons[slot->i] = rd_strdup(c->pause_reason);
    if (--sc->waiting == 0) scrape_finish(sc);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_scrape_list(rd_store_t *s, int status, char *const *names, size_t n, void *arg) {
    (void)s;
    scrape_t *sc = arg;
    if (status != 0) n = 0;
    char **sorted = rd_calloc(n ? n : 1, sizeof *sorted);
    for (size_t i = 0; i < n; i++) sorted[i] = names[i];
    qsort(sorted, n, sizeof *sorted, cmp_str);
    sc->n = RD_MIN(n, (size_t)METRICS_MAX_CAMPAIGNS);
    sc->omitted = n - sc->n;
    sc->names = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->names);
    sc->camps = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->camps);
    sc->slots = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->slots);
    sc->reasons = rd_calloc(sc->n ? sc->n : 1, sizeof *sc->reasons);
    for (size_t i = 0; i < sc->n; i++) sc->names[i] = rd_strdup(sorted[i]);
    rd_free(sorted);
    sc->waiting = 2 * sc->n + 1; /* + 1: answers may come inside rd_cstats_get */
    for (size_t i = 0; i < sc->n; i++) {
        sc->slots[i] = (scrape_slot_t){sc, i};
        rd_cstats_get(sc->srv->cstats, sc->names[i], METRICS_MAX_AGE_MS, on_scrape_stats,
                      &sc->slots[i]);
        /* State and pause reason (not cached: a pause must show at once). */
        if (rd_store_campaign_get(sc->srv->store, sc->names[i], on_scrape_campaign,
                                  &sc->slots[i]) != 0)
            --sc->waiting;
    }
    if (--sc->waiting == 0) scrape_finish(sc);
}

void rd_metrics_serve(rd_server_t *srv, rd_http_req_t *req) {
    scrape_t *sc = rd_calloc(1, sizeof *sc);
    sc->srv = srv;
    sc->req = req;
    /* Without Redis, answer at once (a queued command would wait for the
       command timeout). */
    if (!rd_store_connected(srv->store) ||
        rd_store_campaign_list(srv->store, on_scrape_list, sc) != 0)
        on_scrape_list(srv->store, RD_ECLOSED, NULL, 0, sc);
}
