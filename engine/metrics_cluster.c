/*
 * metrics_cluster.c — GET /metrics/cluster (contract in metrics_cluster.h).
 *
 * Design. One rd_figures_collect() per scrape (pipelined script calls of
 * 100 campaigns, no cap on their number), then one exposition: the
 * figures' families, then the seed's rates of the same campaigns computed
 * from the same counters with rd_stats_compute() — the one computation the
 * stats API and the CLI use. The httpd keeps the request alive until it is
 * answered, so the store callback may answer it even if the client left.
 */
#include "engine/metrics_cluster.h"

#include <string.h>

#include "engine/metrics.h"
#include "proto/rd.h"
#include "proto/sbuf.h"
#include "store/figures.h"

static void on_figures(rd_store_t *s, int status, const rd_figures_t *f, void *arg) {
    (void)s;
    rd_http_req_t *req = arg;
    if (status) {
        rd_http_respond(req, 503, "application/json", "Retry-After: 5\r\n",
                        "{\"error\":\"redis unavailable: no deployment figures\"}", 51);
        return;
    }
    rd_sbuf_t b;
    rd_sbuf_init(&b, 16384 + f->n_campaigns * 4096);
    rd_figures_render(f, &b);
    rd_metrics_campaign_t *c = rd_calloc(f->n_campaigns ? f->n_campaigns : 1, sizeof *c);
    for (size_t i = 0; i < f->n_campaigns; i++) {
        c[i].name = f->campaigns[i].name;
        rd_stats_compute(&f->campaigns[i].st.counts, &c[i].s);
        c[i].live = (uint64_t)f->campaigns[i].live;
    }
    rd_metrics_render_campaigns(c, f->n_campaigns, &b);
    rd_free(c);
    rd_http_respond(req, 200, "text/plain; version=0.0.4", NULL, b.buf, b.len);
    rd_free(b.buf);
}

void rd_metrics_cluster_serve(rd_store_t *store, const rd_clock_t *clock, int64_t retention_ms,
                              rd_http_req_t *req) {
    /* Without Redis, answer at once (a queued command would wait for the timeout). */
    if (!rd_store_connected(store) ||
        rd_figures_collect(store, rd_clock_now(clock), retention_ms, on_figures, req) != 0)
        on_figures(store, RD_ECLOSED, NULL, req);
}
