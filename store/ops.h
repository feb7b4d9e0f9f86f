/*
 * ops.h — operator actions on jobs, numbers and agent pools that the engine
 * itself never needs: list jobs by campaign / state / number, cancel one
 * pending job, make one due now, check and remove DND and opt-out entries,
 * list the DND set and the agent pools. Used by `redial-cli job|dnd|optout|
 * agents` (docs/CLI.md); the key layout is docs/REDIS.md.
 *
 * Threads: the loop thread of the store. Results passed to callbacks are
 * valid until the callback returns.
 */
#ifndef RD_OPS_H
#define RD_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* ---- jobs ---------------------------------------------------------------------- */

typedef struct rd_ops_job {
    const char *campaign, *number, *id;
    const char *state;   /* "pending", "claimed", "calling", "final" */
    int attempts;        /* finished attempts */
    int disposition;     /* rd_disposition_t when final, else -1 */
    int64_t due_ms;      /* pending: next due time (policy ms), else 0 */
    int64_t finished_ms; /* final: when (policy ms), else 0 */
} rd_ops_job_t;

typedef struct rd_ops_job_filter {
    const char *campaign; /* NULL/"" = any */
    const char *state;    /* NULL/"" = any; pending|claimed|calling|live|final */
    const char *number;   /* NULL/"" = any (else one record read: cheap) */
} rd_ops_job_filter_t;

/* True for a state filter the list accepts. */
bool rd_ops_job_state_valid(const char *state);

/*
 * One page of matching jobs: the number records are scanned from `cursor`
 * ("0" = start) for up to `want` matches (1..1000) or 2,000 records,
 * whichever comes first; next = the cursor to continue from ("0" = done).
 */
typedef void (*rd_ops_jobs_cb)(rd_store_t *s, int status, const rd_ops_job_t *jobs, size_t n,
                               const char *next, void *arg);
int rd_ops_job_list(rd_store_t *s, const rd_ops_job_filter_t *f, const char *cursor, size_t want,
                    rd_ops_jobs_cb cb, void *arg);

/*
 * What happened to one job: RD_OPS_DONE (canceled / made due), RD_OPS_FINAL
 * (no live job: nothing to do), RD_OPS_LIVE_CALL (a call is in progress: not
 * touched, it ends and settles as usual). status RD_ENOTFOUND = no campaign.
 */
typedef enum { RD_OPS_FINAL = 0, RD_OPS_DONE = 1, RD_OPS_LIVE_CALL = 2 } rd_ops_result_t;
typedef void (*rd_ops_result_cb)(rd_store_t *s, int status, rd_ops_result_t r, void *arg);

/* Finishes the pending job of `number` in `campaign` as canceled (final event). */
int rd_ops_job_cancel(rd_store_t *s, const char *campaign, const char *number, int64_t now_ms,
                      rd_ops_result_cb cb, void *arg);
/* Makes it due at now_ms (the calling window and caps still apply at claim). */
int rd_ops_job_retry_now(rd_store_t *s, const char *campaign, const char *number, int64_t now_ms,
                         rd_ops_result_cb cb, void *arg);

/* ---- DND and opt-out -------------------------------------------------------------- */

typedef enum { RD_OPS_DND = 0, RD_OPS_OPTOUT = 1 } rd_ops_set_t;

/* n = 1 when `number` is on the set. */
int rd_ops_number_check(rd_store_t *s, rd_ops_set_t set, const char *number, rd_store_count_cb cb,
                        void *arg);
/* Removes numbers from the set (and from the dial-time union unless on the other set);
 * n = how many were on it. Jobs already finished dnd / opted-out stay finished. */
int rd_ops_number_remove(rd_store_t *s, rd_ops_set_t set, const char *const *numbers, size_t count,
                         rd_store_count_cb cb, void *arg);

/* One SSCAN page of the set (cursor "0" = start; next "0" = done). */
typedef void (*rd_ops_names_cb)(rd_store_t *s, int status, char *const *items, size_t n,
                                const char *next, void *arg);
int rd_ops_set_scan(rd_store_t *s, rd_ops_set_t set, const char *cursor, rd_ops_names_cb cb,
                    void *arg);

/* ---- campaigns ------------------------------------------------------------------------ */

typedef void (*rd_ops_archive_cb)(rd_store_t *s, int status, int64_t pending, int64_t live,
                                  void *arg);
/*
 * Archives a finished campaign (no pending job, no live call): its record
 * and stats move to P:archive:<name>:<id>, it leaves the campaign list, the
 * API and the metrics, and its name is free again. status 0; RD_ENOTFOUND;
 * RD_EINVAL with the pending / live counts when it is not finished.
 */
int rd_ops_campaign_archive(rd_store_t *s, const char *campaign, int64_t now_ms,
                            rd_ops_archive_cb cb, void *arg);

/* ---- agent pools --------------------------------------------------------------------- */

typedef struct rd_ops_pool {
    const char *name;
    int64_t capacity, live;
} rd_ops_pool_t;

typedef void (*rd_ops_pools_cb)(rd_store_t *s, int status, const rd_ops_pool_t *pools, size_t n,
                                void *arg);
/* Every agent pool (P:pool:<name>) with its capacity and live slots, sorted by name. */
int rd_ops_pool_list(rd_store_t *s, rd_ops_pools_cb cb, void *arg);

#endif
