/*
 * bulk.h — enqueuing a campaign's list of numbers (campaign creation by the
 * control API and by `redial-cli campaign create`).
 *
 * Each number is checked and given its first due time by
 * rd_enqueue_prepare() and stored by rd_store_enqueue(), one small script
 * call per number with at most `max_inflight` outstanding: a million numbers
 * never become one huge script call (which would block Redis for every
 * engine) nor a million queued requests (memory). Numbers that fail the
 * checks are not dropped silently: each is reported with its index and the
 * reason (the first RD_BULK_MAX_BAD kept in detail, all counted).
 *
 * Threads: the loop thread of the store. Lifetime: `numbers` and `c` are
 * borrowed until the callback runs; the result is valid until it returns.
 */
#ifndef RD_BULK_H
#define RD_BULK_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "store/store.h"
#include "proto/campaign.h"

#define RD_BULK_MAX_BAD 1000

typedef struct rd_bulk_bad {
    size_t index;     /* position in the numbers list */
    char number[40];  /* as given (unprintable bytes replaced by '?') */
    char reason[200]; /* "to: ... is not an E.164 number", "conflict", ... */
} rd_bulk_bad_t;

typedef struct rd_bulk_res {
    int status;                            /* 0, or the first store failure (rest not sent) */
    size_t total;                          /* numbers given */
    size_t sent;                           /* numbers that reached the store */
    size_t by_result[RD_ENQ_CONFLICT + 1]; /* store results (rd_enq_result_t) */
    size_t invalid;                        /* refused before the store (E.164, ...) */
    const rd_bulk_bad_t *bad;              /* invalid and refused numbers, in index order */
    size_t n_bad;                          /* entries in bad (<= RD_BULK_MAX_BAD) */
    size_t n_refused;                      /* invalid + store refusals (may exceed n_bad) */
} rd_bulk_res_t;

typedef void (*rd_bulk_cb)(const rd_bulk_res_t *res, void *arg);

/*
 * Starts enqueuing numbers[0..n) into campaign c (already stored) at policy
 * time now_ms; `loop` is the store's loop; cb runs once, on the loop, after the last reply (never from
 * inside this call). max_inflight 0 = 128. Returns 0 (cb will run).
 */
int rd_bulk_enqueue(uv_loop_t *loop, rd_store_t *s, const rd_campaign_t *c, char *const *numbers,
                    size_t n, int64_t now_ms, unsigned max_inflight, rd_bulk_cb cb, void *arg);

/*
 * The summary as JSON (caller owns the reference): numbers, enqueued,
 * duplicates, dnd, opted_out, refused (count) and invalid: [{index, number,
 * reason}] — the shape of the control API's 201 body and of
 * `redial-cli campaign create --json`.
 */
struct json_t;
struct json_t *rd_bulk_res_to_json(const rd_bulk_res_t *r);

#endif
