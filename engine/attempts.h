/*
 * attempts.h — the engine's own live attempts, kept from claim to settle so
 * that a status callback for an attempt this engine dialed settles without
 * looking the job up in Redis.
 *
 * The claim reply already holds everything a settle needs (the job, its
 * number record, the lease start); the dial adds the provider call id. This
 * table keeps a copy per lease token, bounded: when full, the oldest entry
 * is dropped. It is a cache, never the truth: a miss (another engine dialed
 * it, this engine restarted, the entry was evicted) falls back to the Redis
 * lookup, and a stale hit is harmless because the settle is fenced by the
 * lease token and its prepared record is a compare-and-set (store.h,
 * rd_store_settle_t.job): a lease recovered or superseded meanwhile answers
 * RD_ESTALE, a number record changed meanwhile makes Redis do the settle.
 *
 * What rd_attempts_get returns is the job as rd_store_lookup_attempt would:
 * state PLACED (with call id and deadline) once rd_attempts_placed ran,
 * else CLAIMED, and the claim's own attempt among the number's attempts.
 * Job vars are not kept (the settle path does not read them).
 *
 * Memory: entries are allocated as the table fills and then recycled (no
 * allocation per attempt in the steady state); each holds one
 * rd_store_job_t and a copy of the number record.
 *
 * Thread safety: none; the engine's loop thread.
 */
#ifndef RD_ATTEMPTS_H
#define RD_ATTEMPTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

typedef struct rd_attempts rd_attempts_t;

/* A table of at most max entries (>= 1). Returns 0 or RD_EINVAL. */
int rd_attempts_create(size_t max, rd_attempts_t **out);
/* Frees the table and every entry (NULL ok). */
void rd_attempts_destroy(rd_attempts_t *a);
/*
 * Remembers a job as the claim returned it (copied; job->token != 0). A job
 * without a number record (nrec) is not kept. An entry with the same token
 * is replaced. Returns 0, or RD_EINVAL (not kept).
 */
int rd_attempts_put(rd_attempts_t *a, const rd_store_job_t *job);
/* The provider accepted the call of `token`: its call id and lease deadline. */
void rd_attempts_placed(rd_attempts_t *a, uint64_t token, const char *call_id, int64_t deadline_ms);
/*
 * The job of lease `token` in `campaign`, or NULL. Borrowed: valid until the
 * next put/drop/destroy.
 */
const rd_store_job_t *rd_attempts_get(const rd_attempts_t *a, const char *campaign, uint64_t token);
/* Forgets `token` (absent: nothing). */
void rd_attempts_drop(rd_attempts_t *a, uint64_t token);
/* Entries held. */
size_t rd_attempts_count(const rd_attempts_t *a);

#endif
