/*
 * outcome.h — the vocabulary of SPEC section 1: how one attempt ended
 * (outcome) and how a job ended (disposition).
 *
 * The wire names are exactly the spec's strings ("no-answer", "in-progress",
 * "invalid-number", "opted-out"); the enums are stable small integers and
 * are what Redis stores (Lua scripts use the same numbers: see
 * store/lua/README.md). Never renumber.
 */
#ifndef RD_OUTCOME_H
#define RD_OUTCOME_H

#include <stdbool.h>

typedef enum {
    RD_OUT_COMPLETED = 0,
    RD_OUT_IN_PROGRESS = 1,
    RD_OUT_BUSY = 2,
    RD_OUT_NO_ANSWER = 3,
    RD_OUT_FAILED = 4,
    RD_OUT_CANCELED = 5,
    RD_OUT_INVALID_NUMBER = 6,
    RD_OUT_DND = 7,
    RD_OUT__COUNT
} rd_outcome_t;

typedef enum {
    RD_DISP_CONNECTED = 0,
    RD_DISP_UNREACHABLE = 1,
    RD_DISP_FAILED = 2,
    RD_DISP_INVALID = 3,
    RD_DISP_DND = 4,
    RD_DISP_OPTED_OUT = 5,
    RD_DISP_CANCELED = 6,
    RD_DISP__COUNT
} rd_disposition_t;

/* Who answered a completed call (provider's AnsweredBy). */
typedef enum {
    RD_ANSWERED_UNKNOWN = 0, /* not reported / NotSure / NA */
    RD_ANSWERED_HUMAN = 1,
    RD_ANSWERED_MACHINE = 2
} rd_answered_by_t;

/* Spec names; "?" for out-of-range values. Static strings. */
const char *rd_outcome_name(rd_outcome_t o);
const char *rd_disposition_name(rd_disposition_t d);
/* Parse a spec name (exact, case-sensitive). Return 0 or RD_EPARSE. */
int rd_outcome_parse(const char *s, rd_outcome_t *out);
int rd_disposition_parse(const char *s, rd_disposition_t *out);
/* Seed-style display name for timelines: "No answer", "Busy", "Connected". */
const char *rd_outcome_title(rd_outcome_t o);

#endif
