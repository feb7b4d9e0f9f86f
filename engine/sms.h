/*
 * sms.h — stage "SMS fallback": after a campaign's sms_fallback.after_attempts
 * unanswered attempts (busy, no-answer, or a machine counted as either) the
 * customer gets one SMS from the campaign's caller id.
 *
 * Decision: rd_sms_due, asked by settle (engine/settle.h) with the policy;
 * the SMS is sent only once that settle won its fence, so across every
 * engine at most once per job.
 * Sending: through the worker pool. An SMS outside the callee's calling
 * window is held until it opens; a transient failure is tried again after
 * the pool's backoff, SMS_MAX_TRIES sends in all. Held SMS live in memory
 * only: an engine that stops drops them (at most one SMS, never two).
 *
 * Threads: loop thread only.
 */
#ifndef RD_SMS_H
#define RD_SMS_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/server.h"
#include "proto/campaign.h"
#include "proto/policy.h"

/*
 * Does attempt hist[n-1] (n >= 1), answered_by last_by, make the job reach
 * c's sms_fallback.after_attempts unanswered attempts? Pure.
 */
bool rd_sms_due(const rd_campaign_t *c, const rd_attempt_t *hist, size_t n,
                rd_answered_by_t last_by);

/* Settle's sms_fallback hook (ctx = the server): sends, or holds, the SMS
   of campaign c to `to` (strings borrowed for the call). */
void rd_sms_fallback(void *ctx, const rd_campaign_t *c, const char *to, const char *job_id);

/* Sends the held SMS whose time came; drop_all (the engine is stopping)
   drops every held one instead. Called from the recovery tick and the stop. */
void rd_sms_tick(rd_server_t *srv, bool drop_all);

#endif
