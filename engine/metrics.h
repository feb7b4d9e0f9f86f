/*
 * metrics.h — the engine's own counters and the Prometheus text exposition.
 *
 * Counters are per thread (STYLE rule 10): each thread that counts owns one
 * rd_counters_t block registered at start-up, increments it without atomics
 * contention (relaxed atomic adds on its own cache line), and /metrics sums
 * the blocks on read. Campaign metrics (the seed's table) are not counted
 * here: they come from Redis (proto/stats.h) so every engine reports the
 * same campaign figures.
 *
 * Thread safety: rd_metrics_register before threads start; rd_count from the
 * owning thread; rd_metrics_render from the loop thread.
 */
#ifndef RD_METRICS_H
#define RD_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "common/httpd.h"
#include "engine/server.h"
#include "proto/sbuf.h"
#include "proto/stats.h"

#define RD_METRICS_MAP(X)                                                                         \
    X(CLAIMED, "redial_claims_total", "Jobs claimed for dialing by this engine")                  \
    X(DIAL_PLACED, "redial_dials_placed_total", "Dial requests accepted by the provider")         \
    X(DIAL_REFUSED, "redial_dials_refused_total", "Dial requests refused with a final outcome")   \
    X(DIAL_TRANSIENT, "redial_dials_transient_total",                                             \
      "Dial requests that never reached the customer (5xx, 429, timeout); not attempts")          \
    X(DIAL_ACCOUNT, "redial_dials_account_refused_total",                                         \
      "Dial requests the provider refused for our account or configuration; not attempts")        \
    X(DIAL_REJECTED, "redial_dials_rejected_total",                                               \
      "Dial requests refused with an unclassified 4xx; not attempts")                             \
    X(DIAL_PLACED_UNKNOWN, "redial_dials_placed_unknown_total",                                   \
      "Dial replies (2xx) redial could not read: placed, call id unknown")                        \
    X(PROVIDER_PAUSES, "redial_campaign_provider_pauses_total",                                   \
      "Campaign pauses requested because the provider refused the account or configuration")      \
    X(DIAL_DEFERRED_WINDOW, "redial_dials_deferred_total{reason=\"window\"}",                     \
      "Claimed jobs sent back undialed (reason: window = outside the calling window, cap = a "    \
      "per-number cap used up, zone = the callee's time zone unreadable now)")                    \
    X(DIAL_DEFERRED_CAP, "redial_dials_deferred_total{reason=\"cap\"}", "")                       \
    X(DIAL_DEFERRED_ZONE, "redial_dials_deferred_total{reason=\"zone\"}", "")                     \
    X(SETTLED, "redial_settles_total", "Attempt outcomes applied")                                \
    X(SETTLE_STALE, "redial_settles_stale_total", "Late or duplicate settles refused by fencing") \
    X(SETTLE_LOOKUPS, "redial_settle_lookups_total",                                              \
      "Settles that looked their attempt up in Redis first (provider callbacks)")                 \
    X(SETTLE_HELD, "redial_settle_held_total",                                                    \
      "Callbacks settled with the attempt this engine dialed and holds (no lookup)")              \
    X(CALLBACKS, "redial_callbacks_total", "Provider status callbacks received")                  \
    X(CALLBACKS_REJECTED, "redial_callbacks_rejected_total", "Callbacks refused (auth, body)")    \
    X(POLLS, "redial_status_polls_total", "Provider status polls for lost callbacks")             \
    X(INGESTED, "redial_ingested_total", "Inbox entries stored as jobs")                          \
    X(DEADLETTERED, "redial_deadlettered_total",                                                  \
      "Inbox entries refused to the dead-letter stream")                                          \
    X(REDIS_ERRORS, "redial_redis_errors_total", "Redis command failures and timeouts")           \
    X(CLAIMS_HELD, "redial_claims_held_total",                                                    \
      "Claim rounds skipped: the account's breaker open or paused, or the clock not trusted")     \
    X(PINNED_ELSEWHERE, "redial_claim_pinned_elsewhere_total",                                    \
      "Due campaigns left unclaimed: pinned to a provider this engine does not serve")            \
    X(HTTP_REQUESTS, "redial_http_requests_total", "HTTP requests served")                        \
    X(SMS_SENT, "redial_sms_sent_total", "Fallback SMS accepted by the provider")                 \
    X(SMS_FAILED, "redial_sms_failed_total",                                                      \
      "Fallback SMS given up (refused, or transient failures exhausted)")

typedef enum {
#define RD__M_ENUM(id, name, help) RD_M_##id,
    RD_METRICS_MAP(RD__M_ENUM)
#undef RD__M_ENUM
        RD_M__COUNT
} rd_metric_t;

typedef struct rd_counters {
    _Atomic uint64_t v[RD_M__COUNT];
} __attribute__((aligned(64))) rd_counters_t;

#define RD_METRICS_MAX_BLOCKS 64

typedef struct rd_metrics {
    rd_counters_t blocks[RD_METRICS_MAX_BLOCKS];
    int n_blocks;
} rd_metrics_t;

/* A fresh counter block for one thread (NULL when all are taken). */
rd_counters_t *rd_metrics_register(rd_metrics_t *m);

static inline void rd_count(rd_counters_t *c, rd_metric_t id, uint64_t n) {
    if (c) atomic_fetch_add_explicit(&c->v[id], n, memory_order_relaxed);
}

/* Sum of one counter over all blocks. */
uint64_t rd_metrics_sum(const rd_metrics_t *m, rd_metric_t id);

/*
 * Appends the Prometheus text exposition of every counter (with HELP/TYPE).
 * A name may carry labels ("x_total{reason=\"a\"}"): consecutive entries of
 * one family share the first one's HELP/TYPE.
 */
void rd_metrics_render(const rd_metrics_t *m, rd_sbuf_t *out);

/* One campaign's figures for the exposition (names borrowed). */
typedef struct rd_metrics_campaign {
    const char *name;
    rd_stats_t s;
    uint64_t live; /* leases held now */
} rd_metrics_campaign_t;

/*
 * Appends the seed's metrics (proto/stats.h) of campaigns c[0..n) as
 * Prometheus gauges labelled campaign="<name>" (names are
 * [A-Za-z0-9_.-], no escaping needed), plus the seed's targets as
 * redial_campaign_target{metric=...}. A rate without data is NaN, as
 * `stats --json` shows null.
 */
void rd_metrics_render_campaigns(const rd_metrics_campaign_t *c, size_t n, rd_sbuf_t *out);

/*
 * Answers GET /metrics for the engine srv: its counters (and those of
 * settle, the callback route and ingest), then the seed's metrics of up to
 * 200 campaigns (first by name; redial_campaigns_omitted counts the rest)
 * from figures at most 5 s old, the dials in flight, Redis up and commands
 * sent. Without Redis the campaign series are left out. The answer may
 * come later (loop thread).
 */
void rd_metrics_serve(rd_server_t *srv, rd_http_req_t *req);

#endif
