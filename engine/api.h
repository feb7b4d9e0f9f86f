/*
 * api.h — the control API on the engine's HTTP listener (SPEC section 5,
 * "HTTP"), for other services and operators:
 *
 *   POST   /v1/Accounts/{account}/Campaigns   create a campaign (the seed's
 *                                             body) and enqueue its numbers
 *   GET    /v1/campaigns                      campaign names
 *   GET    /v1/campaigns/{id}                 show
 *   PATCH  /v1/campaigns/{id}                 {"state":"paused"|"active"}
 *   DELETE /v1/campaigns/{id}                 cancel (final)
 *   GET    /v1/campaigns/{id}/stats           the seed's metrics (proto/stats.h)
 *   POST   /v1/calls                          enqueue one job (inbox map as JSON)
 *   POST   /v1/optout                         {"number": "+91..."}
 *
 * Every route needs HTTP basic auth with the engine's api key (user) and
 * token (password), compared in constant time; without configured
 * credentials the API answers 503 (disabled), never "open". Errors are JSON
 * {"error": "..."} with 400 (bad JSON or field, named), 401 (+
 * WWW-Authenticate), 404, 405 (+ Allow), 409 (exists / conflict /
 * canceled), 503 (Redis unavailable); the httpd answers 413 and 431 itself.
 * docs/API.md has every request and response.
 *
 * Requests are answered asynchronously when their store operations
 * complete; the engine's own clock (policy time) stamps every operation.
 *
 * Threads and lifetime: the loop thread of the store. rd_api_destroy() only
 * after the store was closed (every pending request has then been answered
 * with 503 through its failed store callback).
 */
#ifndef RD_API_H
#define RD_API_H

#include <stdbool.h>

#include <uv.h>

#include "engine/ccache.h"
#include "common/httpd.h"
#include "engine/metrics.h"
#include "store/store.h"
#include "proto/clock.h"

typedef struct rd_api rd_api_t;

typedef struct rd_api_cfg {
    uv_loop_t *loop;              /* the store's loop (required) */
    rd_store_t *store;            /* required, borrowed */
    const rd_clock_t *clock;      /* required, borrowed */
    rd_ccache_t *ccache;          /* campaign cache (POST /v1/calls); NULL = load each time */
    const char *api_key;          /* basic-auth user; NULL/"" with token = API disabled */
    const char *api_token;        /* basic-auth password (copied) */
    const char *default_provider; /* pinned into new campaigns without "provider"; NULL = leave */
    rd_counters_t *ctr;           /* REDIS_ERRORS counted here; NULL = none */
    unsigned enqueue_window;      /* numbers in flight while creating a campaign [128] */
    rd_campaign_defaults_t campaign_defaults; /* caps for new campaigns without them [4, 7] */
} rd_api_cfg_t;

/* Defaults (everything NULL, window 128, built-in campaign defaults). */
void rd_api_cfg_init(rd_api_cfg_t *cfg);

/* Creates the API (copies the credentials). RD_EINVAL without loop/store/clock. */
int rd_api_create(const rd_api_cfg_t *cfg, rd_api_t **out);

/*
 * Handles `req` if its path is under /v1/ (answering it now or later) and
 * returns true; returns false (req untouched) for any other path.
 */
bool rd_api_handle(rd_api_t *api, rd_http_req_t *req);

/* Frees the API (see lifetime above). NULL ok. */
void rd_api_destroy(rd_api_t *api);

#endif
