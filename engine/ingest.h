/*
 * ingest.h — the inbox consumer (SPEC section 5, "Enqueue from other
 * services"): reads `<prefix>:inbox` as one consumer of the group `redial`,
 * validates every entry, and turns it into a job through the store.
 *
 * For each entry: decode (field `m` msgpack or `j` JSON, proto/job.h), check
 * the campaign exists, E.164, then rd_store_enqueue (dedupe by id / live
 * number, DND and opt-out, atomically) with the first due time from
 * rd_policy_first(). The entry is XACKed only once the job is stored (or the
 * entry dead-lettered); a failure in between leaves it pending, and pending
 * entries idle longer than claim_idle_ms (a dead consumer's) are taken over
 * with XAUTOCLAIM. Processing is idempotent, so redelivery is harmless.
 * Processed entries are deleted from the inbox (XDEL after the XACK): the
 * inbox belongs to redial, and would otherwise grow forever.
 *
 * Refused entries go to `<prefix>:deadletter` with every original field and
 * its bytes, plus `reason` ("<key>: <why>") and `entry` (the inbox id);
 * that stream is capped with MAXLEN ~ 1,000,000.
 * Duplicates (RD_ENQ_DUPLICATE) are acknowledged silently: they are the
 * spec's idempotent no-op. Numbers on the DND set / opted out become final
 * jobs (`dnd` / `opted-out`, with a final event), not dead letters.
 *
 * Threads: the loop thread of the store it is given. It opens its own Redis
 * connection (a blocking XREADGROUP holds it).
 */
#ifndef RD_INGEST_H
#define RD_INGEST_H

#include <stdint.h>

#include <uv.h>

#include "engine/ccache.h"
#include "store/store.h"
#include "proto/clock.h"

typedef struct rd_ingest rd_ingest_t;

typedef struct rd_ingest_opts {
    const char *url;         /* Redis URL (same as the store's) */
    const char *password;    /* NULL = as in the URL */
    const char *prefix;      /* NULL = RD_STORE_DEFAULT_PREFIX */
    const char *consumer;    /* consumer name, unique per engine ("<host>:<pid>") */
    int batch;               /* entries per read [200] */
    uint32_t block_ms;       /* XREADGROUP BLOCK [1000] */
    uint32_t claim_idle_ms;  /* XAUTOCLAIM min idle time [30000] */
    uint32_t cmd_timeout_ms; /* [5000] */
    const rd_clock_t *clock; /* policy time; borrowed, outlives the ingest */
    rd_store_t *store;       /* borrowed, outlives the ingest, same loop */
    rd_ccache_t *campaigns;  /* campaign cache over that store; borrowed, outlives it */
    /* Called (loop thread) after each job created, e.g. to ring the
     * dispatcher's doorbell when due_ms is near. May be NULL. */
    void (*on_job)(void *arg, const char *campaign, int64_t due_ms);
    void *on_job_arg;
} rd_ingest_opts_t;

void rd_ingest_opts_init(rd_ingest_opts_t *o);

/* Creates the consumer (group created if absent, from the stream's start)
 * and starts reading. opts borrowed. Loop thread. */
int rd_ingest_create(uv_loop_t *loop, const rd_ingest_opts_t *opts, rd_ingest_t **out);

/* Stops reading; entries in progress finish (acked, or left pending on a
 * Redis failure), then the connection closes. cb (may be NULL) runs once
 * every handle is closed. */
void rd_ingest_close(rd_ingest_t *in, void (*cb)(void *arg), void *arg);

typedef struct rd_ingest_counters {
    uint64_t read;         /* entries read (new + claimed) */
    uint64_t created;      /* jobs created */
    uint64_t duplicates;   /* idempotent no-ops */
    uint64_t finals;       /* DND / opted-out at enqueue */
    uint64_t deadlettered; /* refused */
    uint64_t errors;       /* Redis failures (entry left pending) */
} rd_ingest_counters_t;

/* Counters since creation (loop thread). */
void rd_ingest_counters(const rd_ingest_t *in, rd_ingest_counters_t *out);

#endif
