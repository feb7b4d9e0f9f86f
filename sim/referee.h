/*
 * referee.h — the simulator's referee: it sees every call the engine places
 * and counts every rule the engine breaks (SPEC sections 3, 4 and 5).
 *
 * Pure bookkeeping: no I/O, no clock of its own (every call carries the
 * policy time it happened at), so it is unit-testable and deterministic.
 * What it checks, per call start (see docs/SIM.md for the report):
 *
 *   concurrency     live calls of the campaign > limits.concurrency
 *   agent_capacity  live calls of an agent pool > the pool's capacity
 *   per_number_day  calls to a number in one local day (all campaigns) >
 *                   the calling campaign's max_per_day
 *   outside_window  local start time outside [daily_start, daily_end) or on a
 *                   weekday not in `days` (zone: the campaign's, or the
 *                   callee's from rd_tz_for_number when callee_local_time)
 *   overlap         a call to a number that already has a live call
 *   dnd / optout    a call to a DND number, or to a number after its opt-out
 *   budget          calls for (campaign, number) > max_attempts
 *   duplicate_key   two calls carrying the same attempt key (double dial)
 *   after_connect   a call for (campaign, number) after a call of that
 *                   campaign to it was answered by a person
 *
 * A limit of 0 (or an unknown campaign) is not checked. The campaign of a
 * call is the attempt key up to its last ':'.
 *
 * Thread safety: none; one owner thread.
 */
#ifndef RD_REFEREE_H
#define RD_REFEREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/outcome.h"

typedef struct rd_referee rd_referee_t;

#define RD_REF_NAME_MAX 64

/* A campaign's limits as the bench/tests tell them (POST /sim/campaigns). */
typedef struct rd_ref_campaign {
    char name[RD_REF_NAME_MAX + 1];
    int concurrency;     /* 0 = unchecked */
    int max_attempts;    /* per (campaign, number); 0 = unchecked */
    int max_per_day;     /* per number per local day, all campaigns; 0 = unchecked */
    int daily_start_min; /* window [start, end) in minutes; end 0 = unchecked */
    int daily_end_min;
    unsigned days_mask; /* bit per weekday, 0 = Sunday; 0 = all days */
    char timezone[64];  /* IANA ["Asia/Kolkata"] */
    bool callee_local_time;
    char agent_pool[RD_REF_NAME_MAX + 1]; /* "" = none */
    int agent_capacity;                   /* the pool's capacity; 0 = unchecked */
} rd_ref_campaign_t;

/* Violation kinds, in report order. */
#define RD_REF_VIOLATIONS(X)            \
    X(CONCURRENCY, "concurrency")       \
    X(AGENT_CAPACITY, "agent_capacity") \
    X(PER_NUMBER_DAY, "per_number_day") \
    X(OUTSIDE_WINDOW, "outside_window") \
    X(OVERLAP, "overlap")               \
    X(DND, "dnd")                       \
    X(OPTOUT, "optout")                 \
    X(BUDGET, "budget")                 \
    X(DUPLICATE_KEY, "duplicate_key")   \
    X(AFTER_CONNECT, "after_connect")

typedef enum {
#define RD__REF_ENUM(e, s) RD_REF_V_##e,
    RD_REF_VIOLATIONS(RD__REF_ENUM)
#undef RD__REF_ENUM
        RD_REF_V__COUNT
} rd_ref_violation_t;

rd_referee_t *rd_referee_create(void);
void rd_referee_destroy(rd_referee_t *r);

/* Adds or replaces a campaign's limits (calls already seen keep their counts). */
void rd_referee_set_campaign(rd_referee_t *r, const rd_ref_campaign_t *c);
/*
 * Parses the JSON of POST /sim/campaigns into *out: name (required),
 * concurrency, max_attempts, max_per_day, daily_start / daily_end ("HH:MM"),
 * days (["mon",..] or [0..6]), timezone, callee_local_time, agent_pool,
 * agent_capacity. Accepts the campaign body of SPEC section 3 too (retry.*,
 * schedule.*, limits.*). Returns 0 or RD_EPARSE with err filled.
 */
int rd_referee_campaign_from_json(const char *json, size_t len, rd_ref_campaign_t *out, char *err,
                                  size_t errlen);
void rd_referee_add_dnd(rd_referee_t *r, const char *number);
/* Calls to `number` placed at or after policy time at_ms are violations. */
void rd_referee_add_optout(rd_referee_t *r, const char *number, int64_t at_ms);

/*
 * A call starts at policy time now_ms. attempt_key may be NULL or "" (the
 * campaign is then ""). Returns the call's referee id (for _call_end) and,
 * in *nth_call, how many calls this number had before, all campaigns
 * (0 for the first). `flags` (may be NULL) receives a bit per violation this
 * call caused (1u << rd_ref_violation_t).
 */
uint32_t rd_referee_call_start(rd_referee_t *r, const char *number, const char *attempt_key,
                               int64_t now_ms, uint32_t *nth_call, unsigned *flags);
/* The call ended. answered_human: completed and answered by a person (or unknown). */
void rd_referee_call_end(rd_referee_t *r, uint32_t id, rd_outcome_t outcome, bool answered_human,
                         int64_t now_ms);

/* Calls seen so far to number (all campaigns). */
uint32_t rd_referee_number_calls(const rd_referee_t *r, const char *number);

uint64_t rd_referee_violation_count(const rd_referee_t *r, rd_ref_violation_t v);
uint64_t rd_referee_violations_total(const rd_referee_t *r);
uint64_t rd_referee_calls_total(const rd_referee_t *r);

/*
 * The report as JSON (see docs/SIM.md), with `extra` (a JSON object text,
 * may be NULL) merged in at top level. Returns an rd_malloc'ed string the
 * caller frees.
 */
char *rd_referee_report(const rd_referee_t *r, int64_t now_ms, const char *extra);

#endif
