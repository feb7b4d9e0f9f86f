/*
 * clockwatch.h — clock discipline for an engine (issue 12, item 2): is this
 * engine's clock the deployment's?
 *
 * Two checks, at start and every period, on a Redis connection of its own:
 *   skew     the engine's wall clock against Redis TIME (one clock every
 *            engine can read), corrected for the round trip: |skew| above
 *            max_skew_ms means the leases and intervals this engine writes
 *            disagree with the other engines' by that much;
 *   mapping  the engine's wall -> policy mapping (scale, origin, epoch as
 *            one scale and one offset, proto/clock.h) against the one the
 *            deployment recorded in Redis (store/lua/clock.lua): engines with
 *            a different time scale, origin or epoch on one Redis disagree
 *            on "now" by a constant and must not run together.
 * The state is OK only once both passed; SKEWED / MISMATCH say which failed
 * (rd_clockwatch_why() has the operator's sentence). The engine refuses to
 * start on a failed first check and stops claiming while it fails later.
 * A Redis that does not answer leaves the state as it was (the probe and the
 * store handle outages).
 *
 * Threads: the loop thread that created it.
 */
#ifndef RD_CLOCKWATCH_H
#define RD_CLOCKWATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "common/redis.h"
#include "proto/clock.h"

typedef struct rd_clockwatch rd_clockwatch_t;

typedef enum {
    RD_CLOCKWATCH_UNKNOWN = 0, /* no check completed yet */
    RD_CLOCKWATCH_OK,
    RD_CLOCKWATCH_SKEWED,   /* wall clock vs Redis TIME beyond max_skew_ms */
    RD_CLOCKWATCH_MISMATCH, /* scale/origin/epoch differ from the deployment's */
} rd_clockwatch_state_t;

typedef struct rd_clockwatch_cfg {
    const rd_redis_addr_t *addr; /* borrowed during create */
    const char *prefix;          /* key prefix (copied) */
    const char *engine_id;       /* recorded with the mapping (copied) */
    const rd_clock_t *clock;     /* borrowed: must outlive the watch */
    int64_t max_skew_ms;         /* wall ms [2000] */
    uint32_t period_ms;          /* between checks [5000] */
    /* Wall clock to check (unix ms); NULL = rd_wall_ms. Tests inject skew. */
    int64_t (*wall_ms)(void *ctx);
    void *wall_ctx;
    /* Called on the loop after every completed check whose state differs
       from the previous one (may be NULL). */
    void (*on_change)(void *data, rd_clockwatch_state_t st);
    void *data;
} rd_clockwatch_cfg_t;

/*
 * The same two checks once, blocking (a hiredis connection of its own with
 * a 2 s timeout), for the engine's start: 0 when both pass, RD_ERANGE
 * (skewed) or RD_EEXISTS (time settings differ) with err filled with the
 * operator's sentence, RD_EIO when Redis cannot be asked (the caller starts
 * anyway: the periodic check will tell). Main thread, before the loop runs.
 */
int rd_clockwatch_check_sync(const rd_clockwatch_cfg_t *cfg, char *err, size_t errlen);

/* Starts watching (first check at once). Returns 0 and *out, or a negative rd_err_t. */
int rd_clockwatch_create(uv_loop_t *loop, const rd_clockwatch_cfg_t *cfg, rd_clockwatch_t **out);
rd_clockwatch_state_t rd_clockwatch_state(const rd_clockwatch_t *w);
/* The last measured skew, engine minus Redis, wall ms (0 before the first). */
int64_t rd_clockwatch_skew_ms(const rd_clockwatch_t *w);
/* Checks completed (tests wait on it). */
uint64_t rd_clockwatch_checks(const rd_clockwatch_t *w);
/* A sentence for the log and /healthz about the last failed check ("" when OK). Borrowed. */
const char *rd_clockwatch_why(const rd_clockwatch_t *w);
/* Stops and frees; cb(arg) (may be NULL) once every handle is closed. */
void rd_clockwatch_close(rd_clockwatch_t *w, void (*cb)(void *arg), void *arg);

#endif
