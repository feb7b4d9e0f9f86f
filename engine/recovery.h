/*
 * recovery.h — stage "recovery": leases whose deadline passed.
 *
 * Every RECOVER_MS (wall) the engine asks rd_store_recover for expired
 * leases. A claim that was never dialed goes back to due inside the script
 * (not an attempt). A placed call whose callback never came is handed to
 * the status poller below, which GETs the call through the pool's adapter
 * and settles from the answer with the recovered job (engine/settle.h:
 * rd_settle_job, no second lookup).
 *
 * Poller rules. A call still live is left alone: recovery already pushed
 * its lease out by the poll lease, so it comes back later. After max_polls
 * fruitless polls the call is settled as what it looks like: in-progress ->
 * IN_PROGRESS (connected), queued/ringing -> NO_ANSWER. A provider that does
 * not know the call id (404) settles FAILED. A transient poll failure
 * changes nothing.
 *
 * Threads: loop thread only.
 */
#ifndef RD_RECOVERY_H
#define RD_RECOVERY_H

#include <stdint.h>

#include "engine/server.h"
#include "engine/settle.h"
#include "workers/pool.h"

typedef struct rd_recovery rd_recovery_t;

typedef struct rd_recovery_cfg {
    rd_settle_t *settle; /* required, borrowed */
    rd_pool_t *pool;     /* required, borrowed: the polls go through it */
    /* Pool account index per provider for polls; -1 = none. */
    int poll_account[RD_PROV__COUNT];
    rd_prov_t default_provider; /* for campaigns without `provider` */
    int max_polls;              /* [10] */
} rd_recovery_cfg_t;

typedef struct rd_recovery_stats {
    uint64_t polls, poll_settled, poll_live, poll_transient;
} rd_recovery_stats_t;

/* Defaults (poll accounts -1, max_polls 10, exotel default). */
void rd_recovery_cfg_init(rd_recovery_cfg_t *c);
/* Returns 0, or RD_EINVAL (missing settle or pool). */
int rd_recovery_create(const rd_recovery_cfg_t *cfg, rd_recovery_t **out);
/* Frees the poller after the pool is closed (no poll is then pending) and
   after rd_store_close's callback. */
void rd_recovery_destroy(rd_recovery_t *r);

/*
 * Polls the provider for a placed job handed over by rd_store_recover and
 * settles from the answer. `job` is borrowed (copied here). Returns 0 or
 * RD_EINVAL (no account for the provider / the job has no call id) or the
 * pool's error.
 */
int rd_recovery_poll(rd_recovery_t *r, const rd_store_job_t *job);

void rd_recovery_stats(const rd_recovery_t *r, rd_recovery_stats_t *out);

/* The engine's recovery loop: starts srv's recover timer (engine/server.c
   stops it). */
void rd_recovery_start(rd_server_t *srv);

#endif
