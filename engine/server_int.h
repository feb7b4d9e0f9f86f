/*
 * server_int.h — the engine's shared state, private to the engine's .c files.
 *
 * One struct per engine process, owned by the loop thread. server.c builds
 * and stops it; each stage file (dispatch.c, recovery.c, sms.c, metrics.c)
 * works on its own part of it. Lifetime: every asynchronous operation a
 * stage starts is counted in `ops` (++ when started, -- in its callback,
 * then rd_server__maybe_stopped()), so the stop sequence can wait for ops
 * to reach zero before closing the listener and the store, and no callback
 * ever runs against a freed server.
 */
#ifndef RD_SERVER_INT_H
#define RD_SERVER_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "common/httpd.h"
#include "engine/agent_hold.h"
#include "engine/api.h"
#include "engine/callback_route.h"
#include "engine/clockwatch.h"
#include "engine/journal.h"
#include "engine/ccache.h"
#include "engine/config.h"
#include "engine/cstats.h"
#include "engine/pauser.h"
#include "engine/ingest.h"
#include "engine/metrics.h"
#include "engine/recovery.h"
#include "engine/server.h"
#include "engine/settle.h"
#include "proto/callback.h"
#include "proto/clock.h"
#include "store/store.h"
#include "workers/pool.h"

struct rd_sms_hold; /* engine/sms.c */

/* Connections of the admin listener (operators, Prometheus, producers' API calls). */
#define RD_SERVER_ADMIN_CONNS 256

struct rd_server {
    uv_loop_t *loop;
    const rd_server_config_t *cfg;
    rd_clock_t clock;
    char engine_id[128];
    char public_url[512];
    rd_prov_t provider;

    rd_store_t *store;
    rd_journal_t *journal;       /* placed writes kept across Redis outages */
    rd_clockwatch_t *clockwatch; /* clock discipline: claims stop while it fails */
    int64_t pinned_logged_ms;    /* wall ms of the last "pinned elsewhere" error log */
    rd_ccache_t *campaigns;
    rd_cstats_t *cstats;
    rd_pauser_t *pauser; /* pauses campaigns the provider refuses (pauser.h) */
    rd_pool_t *pool;
    rd_settle_t *settle;
    rd_agent_hold_t *agent_hold; /* agents held back after a miss */
    rd_callback_route_t *route;
    rd_recovery_t *recovery;
    rd_api_t *api;
    rd_ingest_t *ingest;
    rd_httpd_t *httpd;       /* public: provider callbacks only */
    rd_httpd_t *admin_httpd; /* private: control API, /healthz, /metrics */
    char admin_host[256];
    int admin_port;
    int httpd_open; /* listeners still closing at the stop */
    rd_metrics_t metrics;
    rd_counters_t *ctr;
    rd_counters_t *mirror; /* other modules' counters, copied in at each scrape */

    struct rd_sms_hold *sms_held; /* SMS waiting out a backoff or the window (sms.c) */
    uv_timer_t claim_timer, recover_timer;
    uv_signal_t sig_term, sig_int, sig_hup;
    int inflight, max_inflight;
    bool claim_busy, recover_busy;
    int64_t ops;   /* store/ccache operations in flight */
    bool stopping; /* no new claims */
    bool pool_closed, ingest_closed;
    bool closing; /* listener + store closing */
};

/* Goes on with a stop in progress once the pool, ingest and every counted
   operation are done (server.c). Call after each callback that may have
   been the last. */
void rd_server__maybe_stopped(rd_server_t *srv);

/* False while the clock watch says this engine's clock is not the
   deployment's (skewed, or other time settings): no claims, /healthz 503. */
bool rd_server__clock_ok(const rd_server_t *srv);

#endif
