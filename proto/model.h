/*
 * model.h — redial's data model, defined once for C and Lua.
 *
 * Every value that the engine and the Redis scripts (store/lua) must agree
 * on is listed here as an X-macro: attempt outcomes, job dispositions, job
 * states, campaign states, enqueue results, the fields of a job inside the
 * number record, and the per-item fields of a settle. C gets its enums from
 * these lists (proto/outcome.h, store/store.h); the Lua side gets the same
 * names as constants generated at build time (cmake/gen_lua_model.c writes
 * them in front of store/lua/lib.lua), so neither language spells a value
 * or a field position as a bare number. The stored values are what Redis
 * holds: append only, never renumber.
 *
 * Layout of the number record P:n[number] (msgpack; docs/REDIS.md):
 *   {attempts, job, job, ...}: RD_NREC_ATTS is the array of the number's
 *   attempt starts (ms); the jobs follow from RD_NREC_JOB1, each an array
 *   whose positions are RD_JOB_FIELDS (C 0-based RD_JF_*, Lua 1-based
 *   J_*). Trailing fields that hold their default are left out.
 *
 * Pure: no I/O, no includes above proto/.
 */
#ifndef RD_MODEL_H
#define RD_MODEL_H

/* Attempt outcomes: X(NAME, value, wire name, timeline title). */
#define RD_OUTCOME_MAP(X)                                    \
    X(COMPLETED, 0, "completed", "Connected")                \
    X(IN_PROGRESS, 1, "in-progress", "Connected")            \
    X(BUSY, 2, "busy", "Busy")                               \
    X(NO_ANSWER, 3, "no-answer", "No answer")                \
    X(FAILED, 4, "failed", "Failed")                         \
    X(CANCELED, 5, "canceled", "Canceled")                   \
    X(INVALID_NUMBER, 6, "invalid-number", "Invalid number") \
    X(DND, 7, "dnd", "DND")

/* Job dispositions: X(NAME, value, wire name). */
#define RD_DISPOSITION_MAP(X)        \
    X(CONNECTED, 0, "connected")     \
    X(UNREACHABLE, 1, "unreachable") \
    X(FAILED, 2, "failed")           \
    X(INVALID, 3, "invalid")         \
    X(DND, 4, "dnd")                 \
    X(OPTED_OUT, 5, "opted-out")     \
    X(CANCELED, 6, "canceled")

/* Job states: X(NAME, value). The record stores PENDING (live: pending, or
 * claimed/placed under a lease, which lives outside the record) or FINAL. */
#define RD_JOB_STATE_MAP(X) \
    X(PENDING, 0)           \
    X(CLAIMED, 1)           \
    X(PLACED, 2)            \
    X(FINAL, 3)

/* Campaign states, as stored in P:c:<name> field `st`: X(NAME, value). */
#define RD_CAMP_STATE_MAP(X) \
    X(ACTIVE, 0)             \
    X(PAUSED, 1)             \
    X(CANCELED, 2)

/* Enqueue results (enqueue.lua's code): X(NAME, value). */
#define RD_ENQ_RESULT_MAP(X) \
    X(CREATED, 0)            \
    X(DUPLICATE, 1)          \
    X(FINAL_DND, 2)          \
    X(FINAL_OPTOUT, 3)       \
    X(NO_CAMPAIGN, 4)        \
    X(CANCELED, 5)           \
    X(CONFLICT, 6)

/*
 * The fields of one job in the number record, in stored order:
 * X(NAME, kind, default). kind: INT (integer), STR (string, binary-safe),
 * HIST (array {start ms, outcome, start ms, outcome, ...}; default empty).
 *   CID  campaign id (P:cid)          ST   RD_JOB_PENDING or RD_JOB_FINAL
 *   SEQ  per-campaign sequence        ID   producer id ("" = generated)
 *   HIST finished attempts            T    finish time ms (0 while live)
 *   DISP disposition (-1 while live)  TZ   IANA zone ("" none)
 *   VARS template vars (msgpack map)  NB   not-before ms (0 none)
 */
#define RD_JOB_FIELDS(X) \
    X(CID, INT, 0)       \
    X(ST, INT, 0)        \
    X(SEQ, INT, 0)       \
    X(ID, STR, 0)        \
    X(HIST, HIST, 0)     \
    X(T, INT, 0)         \
    X(DISP, INT, -1)     \
    X(TZ, STR, 0)        \
    X(VARS, STR, 0)      \
    X(NB, INT, 0)

/* Fields always written (a record job has at least these). */
#define RD_JOB_FIELDS_REQUIRED 5

/* C positions (0-based) of the job fields: RD_JF_CID, ..., RD_JF__COUNT. */
typedef enum {
#define RD_X_(name, kind, def) RD_JF_##name,
    RD_JOB_FIELDS(RD_X_)
#undef RD_X_
        RD_JF__COUNT
} rd_job_field_t;

/* The number record: attempts first, then the jobs (C positions). */
enum { RD_NREC_ATTS = 0, RD_NREC_JOB1 = 1 };

/* A number's attempt starts are kept for 8 days, the newest 128 at most. */
#define RD_NREC_KEEP_MS (8LL * 86400000)
#define RD_NREC_KEEP_MAX 128

/*
 * One settle item as the engine sends it to settle.lua: RD_SF__COUNT
 * arguments per item, in this order; each script reads them by name
 * (S_<NAME> offsets, generated), store_job.c packs them by RD_SF_<NAME>.
 * X(NAME, kind): INT (decimal) or STR (binary-safe). The prepared-settle
 * fields (NUM .. FIN) are all "" when the engine did not prepare the settle
 * (store_record.c).
 *   CAMPAIGN, TOKEN     the lease being settled
 *   OUTCOME             rd_outcome_t of the attempt
 *   CALL_ID             provider call id ("" = as recorded on the lease)
 *   ENDED               when the attempt ended (ms)
 *   FINAL, DISP, DUE    the decision: final (0/1), its disposition (-1 when
 *                       not final), the next due ms (0 when final)
 *   HOW                 local hour of week of the attempt (-1 = not counted)
 *   ANSWERED            the attempt reached a person (0/1)
 *   ANSWERED_BY         who the provider says answered: human | machine |
 *                       unknown (rd_answered_by_name), for the event
 *   NUM, START, CALL    the lease's number and start, and the call id of
 *                       the prepared `attempt` event
 *   ATTEMPT             the attempt number
 *   XOLD, XNEW          the record as read and the record to write
 *   EV, FIN             the packed `attempt` and `final` events ("" none)
 */
#define RD_SETTLE_FIELDS(X) \
    X(CAMPAIGN, STR)        \
    X(TOKEN, INT)           \
    X(OUTCOME, INT)         \
    X(CALL_ID, STR)         \
    X(ENDED, INT)           \
    X(FINAL, INT)           \
    X(DISP, INT)            \
    X(DUE, INT)             \
    X(HOW, INT)             \
    X(ANSWERED, INT)        \
    X(ANSWERED_BY, STR)     \
    X(NUM, STR)             \
    X(START, INT)           \
    X(CALL, STR)            \
    X(ATTEMPT, INT)         \
    X(XOLD, STR)            \
    X(XNEW, STR)            \
    X(EV, STR)              \
    X(FIN, STR)

/* Positions of the settle fields within an item: RD_SF_CAMPAIGN, ..., RD_SF__COUNT. */
typedef enum {
#define RD_X_(name, kind) RD_SF_##name,
    RD_SETTLE_FIELDS(RD_X_)
#undef RD_X_
        RD_SF__COUNT
} rd_settle_field_t;

#endif
