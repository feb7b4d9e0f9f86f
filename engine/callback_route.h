/*
 * callback_route.h — the `POST /callbacks/{provider}/{token}` route: a
 * provider's status callback, authenticated and parsed, handed to settle
 * (engine/settle.h, which looks the attempt up: the provider echoes the
 * attempt key back in `a=` / CustomField, else the call id).
 *
 * The HTTP reply is sent only after the settle is durable (or known to be a
 * no-op); a Redis failure answers 503 so the provider retries.
 *
 * HTTP answers:
 *   200 {"result":"settled"|"duplicate"|"ignored"}  settled now / already
 *        settled or superseded / a non-terminal event (twilio ringing, ...)
 *   400 malformed body, unknown status, bad attempt key
 *   403 wrong secret token, missing or wrong attempt MAC (`a=` and `h=` of
 *        the URL, proto/cbauth.h), bad or missing X-Twilio-Signature
 *        (nothing read further, nothing changed)
 *   404 unknown provider in the path, or no such attempt
 *   405 not a POST
 *   503 Redis unavailable: retry later (nothing changed, or the settle did
 *        not happen: the store's settle is atomic)
 *
 * Threads: loop thread only. Secrets are copied and never logged.
 */
#ifndef RD_CALLBACK_ROUTE_H
#define RD_CALLBACK_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/httpd.h"
#include "engine/settle.h"

typedef struct rd_callback_route rd_callback_route_t;

typedef struct rd_callback_route_cfg {
    rd_settle_t *settle;      /* required, borrowed */
    const char *secret;       /* required: the {token} path segment (copied) */
    const char *public_url;   /* base URL the provider was given ("http://host:port"),
                                   needed for the twilio signature (copied) */
    const char *twilio_token; /* twilio auth token; NULL = twilio callbacks refused (403) */
} rd_callback_route_cfg_t;

typedef struct rd_callback_route_stats {
    uint64_t received, forged, bad, ignored;
} rd_callback_route_stats_t;

/* Returns 0, or RD_EINVAL (missing settle/secret). */
int rd_callback_route_create(const rd_callback_route_cfg_t *cfg, rd_callback_route_t **out);
/* Frees the route after the httpd is closed (no request is then pending). */
void rd_callback_route_destroy(rd_callback_route_t *r);

/*
 * When req's path is /callbacks/..., takes the request (it will be
 * answered, possibly later) and returns true; otherwise returns false and
 * leaves req alone. Call it first from the httpd handler.
 */
bool rd_callback_route(rd_callback_route_t *r, rd_http_req_t *req);

void rd_callback_route_stats(const rd_callback_route_t *r, rd_callback_route_stats_t *out);

#endif
