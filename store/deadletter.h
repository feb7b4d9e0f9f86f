/*
 * deadletter.h — the dead-letter stream (P:deadletter, docs/REDIS.md) as
 * something an operator can act on: list, show, replay, purge. Used by
 * `redial-cli deadletter` and the control API's /v1/deadletter routes, so
 * both show the same entries the same way (rd_deadletter_to_json).
 *
 * A dead letter is an inbox entry the ingest refused: every original field
 * with its bytes, plus `reason` and `entry` (the inbox entry id). Replay
 * re-validates it exactly as the ingest would (the inbox decoder, the
 * campaign's existence and state, rd_enqueue_prepare_msg's checks) and only
 * then moves it back to the inbox as a new entry, atomically (the dead
 * letter is deleted in the same script); one that is still invalid stays
 * where it is and the reason comes back.
 *
 * Threads: the loop thread of the store. Results passed to callbacks are
 * valid until the callback returns.
 */
#ifndef RD_DEADLETTER_H
#define RD_DEADLETTER_H

#include <stddef.h>
#include <stdint.h>

#include "proto/job.h"
#include "store/store.h"

struct json_t;

#define RD_DEADLETTER_ID_MAX 48 /* "<ms>-<seq>" stream ids */
#define RD_DEADLETTER_LIST_MAX 1000

typedef struct rd_deadletter {
    char id[RD_DEADLETTER_ID_MAX]; /* the dead letter's stream id */
    int64_t at_ms;                 /* when it was dead-lettered (wall ms, from the id) */
    const char *reason;            /* why ("" none) */
    const char *entry;             /* the refused inbox entry's id ("" none) */
    char kind;                     /* 'm' msgpack, 'j' JSON, 0 neither field present */
    const char *body;              /* the m / j value (not NUL-terminated for 'm') */
    size_t body_len;
} rd_deadletter_t;

/* True for a stream id "<digits>-<digits>" (what every route and command accepts). */
bool rd_deadletter_id_valid(const char *id);

typedef void (*rd_deadletter_list_cb)(rd_store_t *s, int status, const rd_deadletter_t *e, size_t n,
                                      int64_t depth, void *arg);
/*
 * The newest dead letters first: up to count (1..RD_DEADLETTER_LIST_MAX)
 * entries older than `before` (an id; NULL or "" = from the newest), and the
 * stream's depth (XLEN). Returns 0 or RD_EINVAL (bad id or count).
 */
int rd_deadletter_list(rd_store_t *s, const char *before, size_t count, rd_deadletter_list_cb cb,
                       void *arg);
/* One entry by id: n = 1, or status RD_ENOTFOUND. */
int rd_deadletter_get(rd_store_t *s, const char *id, rd_deadletter_list_cb cb, void *arg);

/*
 * Replay result: status 0 and inbox_id (the new inbox entry); RD_EINVAL and
 * refusal (the entry is still invalid: the inbox's reason, it stays dead);
 * RD_ENOTFOUND (no such dead letter); else a store failure.
 */
typedef void (*rd_deadletter_replay_cb)(rd_store_t *s, int status, const char *inbox_id,
                                        const char *refusal, void *arg);
/* Re-validates dead letter `id` at policy time now_ms, then replays it (above). */
int rd_deadletter_replay(rd_store_t *s, const char *id, int64_t now_ms, rd_deadletter_replay_cb cb,
                         void *arg);

/* Deletes the given entries (XDEL); n = how many existed. RD_EINVAL for a bad id. */
int rd_deadletter_purge(rd_store_t *s, const char *const *ids, size_t count, rd_store_count_cb cb,
                        void *arg);
/* Deletes every dead letter; n = how many there were. */
int rd_deadletter_purge_all(rd_store_t *s, rd_store_count_cb cb, void *arg);

/*
 * Decodes the entry's message as the ingest does (rd_job_msg_decode /
 * _decode_json). Returns 0 (out owned by the caller: rd_job_msg_deinit) or
 * RD_EINVAL with the reason in err.
 */
int rd_deadletter_decode(const rd_deadletter_t *e, rd_job_msg_t *out, char *err, size_t errlen);

/*
 * {"id", "at" (ISO 8601, +00:00), "at_ms", "reason", "entry", "format":
 * "msgpack"|"json"|null, "message": the decoded job (campaign, to, id, vars,
 * tz, not_before_ms) or null, "raw": the JSON text as received (JSON entries
 * only, printable)}. Caller owns the reference.
 */
struct json_t *rd_deadletter_to_json(const rd_deadletter_t *e);

#endif
