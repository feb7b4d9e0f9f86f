/*
 * policy.h — the retry policy (SPEC section 4): pure, no I/O, no clock of
 * its own. Given a campaign, a job's attempt history, the outcome just seen
 * and "now", it answers: retry at time T, or finish with disposition D.
 *
 * Every due time it returns is already placed:
 *   - after the previous attempt's start (and after now),
 *   - inside the daily window [daily_start, daily_end) on an allowed weekday,
 *     in the callee's zone (ctx->tz),
 *   - past the per-number caps (max_per_day in the callee's local day,
 *     max_per_7_days rolling), given the number's attempts across all
 *     campaigns (ctx->num_attempts_ms),
 *   - with jitter in [0, jitter_seconds) added only when the time was moved to
 *     a window start (and to `smart` picks, which are shared hour starts), and
 *     never past the window end.
 * Jitter is deterministic in ctx->jitter_seed, so a decision can be replayed;
 * every caller takes the seed from rd_policy_seed(), so `redial-cli plan`
 * prints the times the engine picks.
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_POLICY_H
#define RD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/campaign.h"
#include "proto/outcome.h"
#include "proto/tz.h"

typedef struct rd_attempt {
    int64_t start_ms;
    rd_outcome_t outcome;
} rd_attempt_t;

/* Answer-rate data for the `smart` strategy, per hour of week (0 = Sunday 00h local). */
typedef struct rd_smart_stats {
    uint32_t attempted[168], answered[168];             /* this campaign */
    uint32_t prior_attempted[168], prior_answered[168]; /* all campaigns */
    uint64_t campaign_attempts;                         /* total, for min_samples */
} rd_smart_stats_t;

typedef struct rd_policy_ctx {
    const rd_campaign_t *c;
    const rd_tz_t *tz;              /* the zone the window is checked in */
    const int64_t *num_attempts_ms; /* this number's attempt starts, all campaigns, any order */
    size_t n_num_attempts;
    uint64_t jitter_seed;          /* rd_policy_seed() of the attempt being placed */
    const rd_smart_stats_t *smart; /* NULL: no data (smart falls back to increasing) */
} rd_policy_ctx_t;

typedef struct rd_decision {
    bool final;
    rd_disposition_t disposition; /* when final */
    int64_t due_ms;               /* when !final */
    const char *why;              /* static explanation, for logs and `plan` */
} rd_decision_t;

/*
 * The jitter seed of attempt `attempt` (1 = the first) of the job for number
 * `to` in campaign `campaign`: FNV-1a (proto/hash.h) of the campaign name, a
 * NUL, the number, a NUL and the attempt number as four little-endian bytes.
 * The one recipe of every caller: ingest and the enqueue checks (attempt 1),
 * settle (attempt n + 1 after n attempts), the dial-time re-check (the
 * claimed attempt) and rd_policy_plan. A campaign holds one live job per
 * number, so the job id is not part of it: `plan` knows campaign and number
 * only, and replays the engine's choice to the second.
 */
uint64_t rd_policy_seed(const char *campaign, const char *to, int attempt);

/* The zone a job's window is checked in: job tz, else (callee_local_time) the
 * number's zone, else the campaign's, else UTC. NULL when the zone it would
 * choose cannot be read now for a resource reason (rd_tz_lookup's
 * RD_ETRANSIENT: out of descriptors or memory): the caller retries later and
 * never falls back to another zone, which would check the calling window on
 * the wrong clock. */
const rd_tz_t *rd_policy_zone(const rd_campaign_t *c, const char *job_tz, const char *e164);

/* First due time of a new job: max(now, not_before) placed (see above). */
void rd_policy_first(const rd_policy_ctx_t *ctx, int64_t now_ms, int64_t not_before_ms,
                     rd_decision_t *out);

/*
 * After an attempt. hist[0..n) is the job's attempts in order, the last one
 * being the attempt that just ended with its outcome. answered_by refines a
 * completed outcome (machine => campaign's machine_as).
 */
void rd_policy_next(const rd_policy_ctx_t *ctx, const rd_attempt_t *hist, size_t n,
                    rd_answered_by_t answered_by, int64_t now_ms, rd_decision_t *out);

/*
 * Dry run of one job (the `plan` command, and tests): attempt 1 at
 * rd_policy_first(start_ms), then each outcome in turn is taken to be known
 * the moment its attempt starts, and rd_policy_next decides. ctx's own
 * num_attempts and jitter_seed are ignored: the caps see only this job's
 * attempts, and attempt k is placed with rd_policy_seed(ctx->c->name, to, k),
 * as the engine places the job for number `to`.
 * Fills steps[0..return) with the attempts made; *out is the last decision:
 * final, or (outcomes or max_steps ran out) the next attempt's due time.
 */
size_t rd_policy_plan(const rd_policy_ctx_t *ctx, const char *to, int64_t start_ms,
                      const rd_outcome_t *outcomes, size_t n_outcomes, rd_attempt_t *steps,
                      size_t max_steps, rd_decision_t *out);

/* Earliest instant >= t at which a dial is allowed (window, days, caps). */
int64_t rd_policy_place(const rd_policy_ctx_t *ctx, int64_t t);

/* May a dial start at exactly t? (The dial-time re-check.) */
bool rd_policy_allowed(const rd_policy_ctx_t *ctx, int64_t t);

/* The dial-time check in one walk: why a dial may not start at exactly t
 * (RD_POLICY_OK iff rd_policy_allowed), the first rule of place() that moves
 * it; *next (may be NULL) = rd_policy_place(ctx, t). */
typedef enum {
    RD_POLICY_OK = 0,     /* allowed */
    RD_POLICY_WINDOW = 1, /* outside the daily window or on a day off */
    RD_POLICY_CAP = 2,    /* a per-number cap (per day or per week) is used up */
} rd_policy_why_t;
rd_policy_why_t rd_policy_check(const rd_policy_ctx_t *ctx, int64_t t, int64_t *next);

#endif
