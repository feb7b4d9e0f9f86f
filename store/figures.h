/*
 * figures.h — the deployment-wide figures for monitoring: every live
 * campaign's backlog, live calls against its limit and counters, the agent
 * pools, the dead-letter depth and the inbox / events stream lag, read from
 * Redis and rendered as Prometheus text. They are the same whichever engine
 * reads them, so the engines export them once, on GET /metrics/cluster
 * (docs/METRICS.md), apart from each engine's own /metrics.
 *
 * Every campaign in P:campaigns is included (no cap), read in pipelined
 * script calls of 100 campaigns. A campaign with no pending job and no live
 * call for longer than the retention leaves the figures (it stays in
 * `campaign list` until `campaign archive`).
 *
 * Threads: the loop thread of the store. The result passed to the callback
 * is valid until it returns.
 */
#ifndef RD_FIGURES_H
#define RD_FIGURES_H

#include <stddef.h>
#include <stdint.h>

#include "proto/sbuf.h"
#include "store/ops.h"
#include "store/store.h"

#define RD_FIGURES_RETENTION_MS (24LL * 3600 * 1000) /* default: a day idle */

typedef struct rd_figures_campaign {
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    rd_camp_state_t state;
    int64_t concurrency, live, pending;
    int64_t due_now;       /* pending jobs whose due time has passed */
    int64_t oldest_due_ms; /* due time of the earliest pending job (0 none) */
    int64_t enqueued, finished;
    char pool[RD_CAMPAIGN_NAME_MAX + 1]; /* "" none */
    rd_store_stats_t st;                 /* counters (counts, by_attempt) */
} rd_figures_campaign_t;

typedef struct rd_figures_group {
    char name[128];
    int64_t pending, lag; /* lag -1 when Redis cannot tell */
} rd_figures_group_t;

typedef struct rd_figures {
    int64_t now_ms;                   /* policy time they were read at */
    rd_figures_campaign_t *campaigns; /* sorted by name, retired ones left out */
    size_t n_campaigns;
    size_t retired; /* idle past the retention: left out */
    rd_ops_pool_t *pools;
    size_t n_pools;
    int64_t deadletter_entries, inbox_entries, events_entries;
    rd_figures_group_t inbox_group;   /* the engines' group "redial" (pending, lag) */
    rd_figures_group_t *event_groups; /* consumers of P:events */
    size_t n_event_groups;
} rd_figures_t;

typedef void (*rd_figures_cb)(rd_store_t *s, int status, const rd_figures_t *f, void *arg);

/* Reads the figures at policy time now_ms; retention_ms <= 0 = the default. */
int rd_figures_collect(rd_store_t *s, int64_t now_ms, int64_t retention_ms, rd_figures_cb cb,
                       void *arg);

/* Appends the Prometheus text exposition of f (HELP, TYPE, units in names). */
void rd_figures_render(const rd_figures_t *f, rd_sbuf_t *out);

#endif
