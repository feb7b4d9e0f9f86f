/*
 * metrics_cluster.h — GET /metrics/cluster: the deployment-wide figures
 * (store/figures.h: every live campaign's backlog, live calls against its
 * limit, counters by outcome and disposition, agent pools, dead letters,
 * inbox and events lag) and the seed's per-campaign rates
 * (rd_metrics_render_campaigns), exported once for the whole deployment:
 * every engine answers it with the same figures, so Prometheus scrapes it
 * from one target (docs/METRICS.md), while each engine's own /metrics
 * carries only that engine's counters. Answers 503 while Redis is
 * unreachable (a scrape failure: `up == 0`).
 *
 * Thread safety: the loop thread of the store and the httpd.
 */
#ifndef RD_METRICS_CLUSTER_H
#define RD_METRICS_CLUSTER_H

#include <stdint.h>

#include "common/httpd.h"
#include "proto/clock.h"
#include "store/store.h"

/* Answers req (GET /metrics/cluster). retention_ms <= 0 = the figures' default (a day). */
void rd_metrics_cluster_serve(rd_store_t *store, const rd_clock_t *clock, int64_t retention_ms,
                              rd_http_req_t *req);

#endif
