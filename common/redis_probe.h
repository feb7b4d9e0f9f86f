/*
 * redis_probe.h — is Redis answering right now? A PING every interval on a
 * connection of its own (common/redis.h), each with a short deadline, so the
 * answer does not wait for the command timeout of the traffic connection
 * (5 s) nor queue behind its pipeline. /healthz and redial_redis_up read it
 * through rd_store_connected().
 *
 * Up means: the last PING was answered PONG within its deadline. A killed
 * Redis (connection reset), a stopped one (SIGSTOP: no answer) and one still
 * loading its AOF (LOADING error reply) all read as down within
 * interval + deadline.
 *
 * Threads: the loop thread that created it.
 */
#ifndef RD_REDIS_PROBE_H
#define RD_REDIS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "common/redis.h"

typedef struct rd_redis_probe rd_redis_probe_t;

/*
 * Starts probing addr (borrowed; AUTH/SELECT as for any connection) every
 * interval_ms with a deadline_ms per PING. Returns 0 and *out, or a negative
 * rd_err_t.
 */
int rd_redis_probe_create(uv_loop_t *loop, const rd_redis_addr_t *addr, uint32_t interval_ms,
                          uint32_t deadline_ms, rd_redis_probe_t **out);

/* Whether the last PING was answered within its deadline (false before the first). */
bool rd_redis_probe_up(const rd_redis_probe_t *p);

/* PINGs answered so far (tests use it). */
uint64_t rd_redis_probe_pongs(const rd_redis_probe_t *p);

/* Stops probing and frees the probe; cb(arg) (may be NULL) runs from the loop
 * once every handle is closed. */
void rd_redis_probe_close(rd_redis_probe_t *p, void (*cb)(void *arg), void *arg);

#endif
