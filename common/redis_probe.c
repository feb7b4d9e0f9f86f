/*
 * redis_probe.c — the Redis liveness probe (contract in redis_probe.h).
 *
 * Why a connection of its own: the traffic connection learns that Redis is
 * gone only when a command misses its 5 s timeout (SIGSTOP, a dead host, a
 * network partition: nothing resets the socket), and a PING sent on it would
 * wait behind every pipelined command. The probe's connection carries one
 * PING at a time with a deadline well under a second (rd_redis fails it with
 * RD_ETIMEOUT, drops that connection and reconnects with a backoff capped at
 * the interval), so the state flips within interval + deadline of an outage
 * and back within about one interval of the recovery.
 *
 * State: `up` is written only by the PING callback; `inflight` keeps to one
 * PING at a time (a tick while one is out does nothing, so a slow Redis is
 * never sent a growing queue of PINGs). Close: the timer is closed and the
 * connection closed (which fails the outstanding PING with RD_ECLOSED, the
 * callback ignores it), the struct is freed when both are gone.
 */
#include "common/redis_probe.h"

#include <string.h>

#include "proto/rd.h"

struct rd_redis_probe {
    uv_loop_t *loop;
    rd_redis_t *r;
    uv_timer_t tick;
    uint32_t interval_ms, deadline_ms;
    bool up, inflight, closing;
    uint64_t pongs;
    int open; /* handles still to close: timer + connection */
    void (*close_cb)(void *);
    void *close_arg;
};

static void on_pong(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    rd_redis_probe_t *p = arg;
    p->inflight = false;
    if (p->closing) return;
    p->up = status == 0 && reply && reply->type == REDIS_REPLY_STATUS && reply->str &&
            strcmp(reply->str, "PONG") == 0;
    if (p->up) p->pongs++;
}

static void on_tick(uv_timer_t *t) {
    rd_redis_probe_t *p = t->data;
    if (p->inflight || p->closing) return;
    static const char *const argv[] = {"PING"};
    static const size_t lens[] = {4};
    if (rd_redis_command(p->r, 1, argv, lens, p->deadline_ms, on_pong, p) == 0)
        p->inflight = true;
    else
        p->up = false;
}

int rd_redis_probe_create(uv_loop_t *loop, const rd_redis_addr_t *addr, uint32_t interval_ms,
                          uint32_t deadline_ms, rd_redis_probe_t **out) {
    *out = NULL;
    if (interval_ms == 0 || deadline_ms == 0) return RD_EINVAL;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    ro.addr = *addr;
    ro.cmd_timeout_ms = deadline_ms;
    ro.connect_timeout_ms = deadline_ms;
    ro.reconnect_max_ms = interval_ms;
    rd_redis_probe_t *p = rd_calloc(1, sizeof *p);
    p->loop = loop;
    p->interval_ms = interval_ms;
    p->deadline_ms = deadline_ms;
    int rc = rd_redis_create(loop, &ro, &p->r);
    if (rc < 0) {
        rd_free(p);
        return rc;
    }
    uv_timer_init(loop, &p->tick);
    p->tick.data = p;
    p->open = 2;
    /* The first PING goes out at once: it waits for the connection. */
    uv_timer_start(&p->tick, on_tick, 0, interval_ms);
    *out = p;
    return 0;
}

bool rd_redis_probe_up(const rd_redis_probe_t *p) { return p->up; }

uint64_t rd_redis_probe_pongs(const rd_redis_probe_t *p) { return p->pongs; }

static void probe_closed_one(rd_redis_probe_t *p) {
    if (--p->open > 0) return;
    void (*cb)(void *) = p->close_cb;
    void *arg = p->close_arg;
    rd_free(p);
    if (cb) cb(arg);
}

static void on_tick_closed(uv_handle_t *h) { probe_closed_one(h->data); }
static void on_conn_closed(void *arg) { probe_closed_one(arg); }

void rd_redis_probe_close(rd_redis_probe_t *p, void (*cb)(void *arg), void *arg) {
    if (p->closing) return;
    p->closing = true;
    p->up = false;
    p->close_cb = cb;
    p->close_arg = arg;
    uv_timer_stop(&p->tick);
    uv_close((uv_handle_t *)&p->tick, on_tick_closed);
    rd_redis_close(p->r, on_conn_closed, p);
}
