/*
 * view.h — how a stored campaign looks to an operator, as JSON: the one
 * rendering `redial-cli campaign show/list --json` and the control API's
 * GET /v1/campaigns/{id} share, so scripts can switch between them.
 *
 *   {"name", "state": "active"|"paused"|"canceled", "created_ms", "created"
 *    (ISO 8601, +00:00), "enqueued", "pending", "live", "finished",
 *    "config": {normalised campaign JSON}}   (config only when given)
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_VIEW_H
#define RD_VIEW_H

#include "store/store.h"

struct json_t;

/* "active" / "paused" / "canceled" ("?" out of range). Static. */
const char *rd_view_state_name(rd_camp_state_t st);
/* Parses "active" / "paused" / "canceled". Returns 0 or RD_EINVAL. */
int rd_view_state_parse(const char *s, rd_camp_state_t *out);

/* The object above; c->json is ignored; config (normalised JSON text) may be NULL.
 * Caller owns the reference. */
struct json_t *rd_view_campaign(const rd_store_campaign_t *c, const char *config);

/*
 * The one time format of every JSON output (CLI --json, control API,
 * metrics labels): ISO 8601 with a numeric offset, milliseconds included,
 * "2026-11-28T15:34:42.864+05:30", of unix ms t in zone tz (NULL = UTC,
 * "+00:00"). buf of at least 32 bytes.
 */
struct rd_tz;
void rd_view_iso(char *buf, size_t len, const struct rd_tz *tz, int64_t t_ms);
/* rd_view_iso in UTC: "2026-11-28T10:04:42.864+00:00". */
void rd_view_iso_utc(char *buf, size_t len, int64_t t_ms);

#endif
