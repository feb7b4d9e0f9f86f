/*
 * dispatch.h — stage "dispatch": due jobs -> dial-time check -> worker pool
 * -> dial results.
 *
 * One claim script call at a time per engine, for at most
 * min(batch, free dial slots) jobs. After a claim: a full batch means more
 * may be due, so claim again at once; otherwise sleep until the earliest due
 * job (next_due_ms) or the provider bucket's wait, capped at IDLE_POLL_MS so
 * jobs enqueued through another engine are seen promptly. A dial result or
 * a settle that frees a slot wakes the dispatcher at once.
 *
 * Each claimed job is checked again at dial time against the calling window
 * and the per-number caps (rd_policy_allowed; the claim holds the number's
 * live lock, so the check cannot race another engine). A job that fails it
 * goes back to due at rd_policy_place() — not an attempt. The rest become
 * worker-pool dials.
 *
 * Dial results: placed -> rd_store_placed (deadline = ring timeout + time
 * limit + callback grace); refused (invalid number, DND) -> a real attempt,
 * settled with the claimed job (engine/settle.h, no second lookup);
 * transient or canceled -> rd_store_release with the pool's retry delay:
 * not an attempt.
 *
 * Threads: loop thread only.
 */
#ifndef RD_DISPATCH_H
#define RD_DISPATCH_H

#include <stdint.h>

#include "engine/server.h"
#include "proto/policy.h"
#include "workers/pool.h"

/* Starts srv's claim timer (engine/server.c stops it). */
void rd_dispatch_start(rd_server_t *srv);

/* Claims within wall_delay_ms (sooner if already scheduled sooner); a no-op
   while stopping or while a claim is in flight. */
void rd_dispatch_kick(rd_server_t *srv, uint64_t wall_delay_ms);

/* The pool's on_result: every dispatch work item has its own done, so this
   only returns a stray item to the pool. */
void rd_dispatch_on_result(rd_work_t *w, void *srv);

/* Settle's `settled` hook (ctx = the server): an attempt's slots are free. */
void rd_dispatch_on_settled(void *srv);

/* Ingest's on_job hook: a job this engine stored is due at due_ms. */
void rd_dispatch_on_ingested(void *srv, const char *campaign, int64_t due_ms);

/* Settle's smart_stats hook and the dial-time check's: the campaign's cached
   answer rates (reloaded in the background when a minute old; NULL until
   the first load: the policy then falls back to `increasing`). */
const rd_smart_stats_t *rd_dispatch_smart_stats(void *srv, const char *campaign);

#endif
