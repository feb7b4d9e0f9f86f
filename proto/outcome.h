/*
 * outcome.h — the vocabulary of SPEC section 1: how one attempt ended
 * (outcome) and how a job ended (disposition).
 *
 * The wire names are exactly the spec's strings ("no-answer", "in-progress",
 * "invalid-number", "opted-out"); the enums are stable small integers and
 * are what Redis stores. Both are defined once in proto/model.h, which also
 * gives the Lua scripts their names (OUT, DISP). Never renumber.
 */
#ifndef RD_OUTCOME_H
#define RD_OUTCOME_H

#include <stdbool.h>

#include "proto/model.h"

/* Values and names: proto/model.h (RD_OUTCOME_MAP, RD_DISPOSITION_MAP). */
typedef enum {
#define RD_X_(name, v, wire, title) RD_OUT_##name = v,
    RD_OUTCOME_MAP(RD_X_)
#undef RD_X_
        RD_OUT__COUNT
} rd_outcome_t;

typedef enum {
#define RD_X_(name, v, wire) RD_DISP_##name = v,
    RD_DISPOSITION_MAP(RD_X_)
#undef RD_X_
        RD_DISP__COUNT
} rd_disposition_t;

/* Who answered a completed call (provider's AnsweredBy). */
typedef enum {
    RD_ANSWERED_UNKNOWN = 0, /* not reported / NotSure / NA */
    RD_ANSWERED_HUMAN = 1,
    RD_ANSWERED_MACHINE = 2
} rd_answered_by_t;

/* "human", "machine", "unknown" (the `answered_by` of attempt events); "?"
   out of range. Static. */
const char *rd_answered_by_name(rd_answered_by_t a);

/* Spec names; "?" for out-of-range values. Static strings. */
const char *rd_outcome_name(rd_outcome_t o);
const char *rd_disposition_name(rd_disposition_t d);
/* Parse a spec name (exact, case-sensitive). Return 0 or RD_EPARSE. */
int rd_outcome_parse(const char *s, rd_outcome_t *out);
int rd_disposition_parse(const char *s, rd_disposition_t *out);
/* Seed-style display name for timelines: "No answer", "Busy", "Connected". */
const char *rd_outcome_title(rd_outcome_t o);

#endif
