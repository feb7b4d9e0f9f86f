/*
 * enqueue.h — admitting one job into a campaign: the checks and the first
 * due time that every entry point shares (inbox ingest, the control API's
 * POST /v1/calls and campaign creation, `redial-cli enqueue` and
 * `campaign create`), so a number is judged the same whichever way it came.
 *
 * rd_enqueue_prepare() is pure (no I/O, no clock): it checks what can be
 * checked without Redis (E.164, id length, time zone, vars) and asks the
 * policy for the first due time (rd_policy_first in the callee's zone,
 * rd_policy_zone). What needs Redis (campaign exists and is not canceled,
 * DND, opt-out, dedupe) is decided atomically by rd_store_enqueue().
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_ENQUEUE_H
#define RD_ENQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "proto/campaign.h"
#include "proto/job.h"

/*
 * Validates a job for campaign `c` and fills `out` (pointers borrowed from
 * the arguments, so they must outlive the rd_store_enqueue call) with the
 * first due time at policy time now_ms. `id`, `tz` may be NULL or "".
 * Returns 0, or RD_EINVAL with "<field>: <reason>" in err (fields named as
 * in the inbox map: to, id, tz, vars, not_before).
 */
int rd_enqueue_prepare(const rd_campaign_t *c, const char *to, const char *id, const char *tz,
                       const rd_job_var_t *vars, size_t n_vars, int64_t not_before_ms,
                       int64_t now_ms, rd_store_enqueue_t *out, char *err, size_t errlen);

/* Same for a decoded inbox message (m must outlive the store call). */
int rd_enqueue_prepare_msg(const rd_campaign_t *c, const rd_job_msg_t *m, int64_t now_ms,
                           rd_store_enqueue_t *out, char *err, size_t errlen);

/* Stable lower-case name of a store enqueue result: "created", "duplicate",
 * "dnd", "opted-out", "no-campaign", "canceled", "conflict". Static. */
const char *rd_enqueue_result_name(rd_enq_result_t r);
/* True when the result means the job was not accepted (refused). */
bool rd_enqueue_result_refused(rd_enq_result_t r);

#endif
