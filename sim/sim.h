/*
 * sim.h — redial-sim: a telephony provider simulator and referee on one
 * libuv loop (SPEC section 5, "Providers" and "Binaries"; docs/SIM.md).
 *
 * It speaks the exotel and twilio wire formats (call requests, call
 * details, SMS, status callbacks), decides every call's outcome from a
 * seeded model or a per-number script, plays ring and talk time on the
 * shared policy clock, delivers status callbacks with configurable loss,
 * duplication, reordering and delay, injects provider faults, and referees
 * every call through sim/referee.h.
 *
 * Thread safety: one loop thread; every function here on that thread.
 */
#ifndef RD_SIM_H
#define RD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "proto/clock.h"

typedef struct rd_sim rd_sim_t;

/* Outcome model: probabilities of each outcome (sum 1), or the seed's. */
typedef struct rd_sim_model {
    bool seed; /* the seed's answer model (cumulative 40/60/70/73/74%) */
    double busy, no_answer, failed, invalid, completed;
} rd_sim_model_t;

/*
 * Parses "seed" or "uniform:busy=P,no-answer=P,failed=P,invalid=P,completed=P"
 * (any subset; when completed is omitted it takes the rest, else the given
 * values must sum to 1). Returns 0 or RD_EINVAL with err filled.
 */
int rd_sim_model_parse(const char *spec, rd_sim_model_t *out, char *err, size_t errlen);

typedef struct rd_sim_config {
    const char *host; /* ["127.0.0.1"] */
    int port;         /* 0 = any free port */
    rd_sim_model_t model;
    const char *script_json; /* --script file contents, or NULL */
    uint64_t seed;
    rd_clock_t clock; /* policy clock shared with the engines */

    /* call timing, policy seconds */
    double ring_min_s, ring_max_s; /* until a person answers [3, 20] */
    double talk_min_s, talk_max_s; /* answered call length [20, 120] (capped by TimeLimit) */
    double busy_s;                 /* until the busy signal [3] */
    double failed_s;               /* until failure [1] */
    double no_answer_s;            /* ring length when the request gives no TimeOut [30] */
    double machine_rate;           /* answered calls that a machine answers [0] */
    double seed_busy_share;        /* seed model: busy share of unanswered calls [0.45] */

    /* callbacks (delays in wall milliseconds) */
    double cb_loss, cb_dup, cb_reorder;
    int cb_delay_min_ms, cb_delay_max_ms;
    int cb_reorder_ms; /* extra delay window of a reordered callback [1000] */
    int cb_retries;    /* retries after a failed delivery [2] */
    int cb_retry_ms;   /* [1000] */
    int cb_timeout_ms; /* [5000] */
    int cb_conns;      /* connections per callback host (host:port) [64] */

    /* provider faults (fractions of call requests) */
    double fault_5xx, fault_timeout, fault_429;
    int retry_after_s;       /* Retry-After of a 429 [1] */
    int answer_delay_ms;     /* wall ms an accepted call request waits for its answer; the
                                call itself runs from the request on [0] */
    int exotel_rate_per_min; /* account limit, 0 = none [200] */
    int twilio_rate_per_s;   /* account limit, 0 = none [1] */

    /* credentials (copied) */
    const char *exotel_sid, *exotel_key, *exotel_token;
    const char *twilio_sid, *twilio_token; /* the auth token signs every twilio callback */
    const char *twilio_api_key,
        *twilio_api_secret; /* also accepted for twilio REST auth ("" = none) */
    const char *caller_ids; /* comma-separated numbers a dial may use as caller id / From;
                               NULL or "" = any. Others: twilio 400 21212, exotel 400 */

    bool log_requests; /* one stderr line per request */
} rd_sim_config_t;

/* Fills every default (model: seed). Strings point at static defaults. */
void rd_sim_config_defaults(rd_sim_config_t *cfg);

/*
 * Starts the simulator on `loop` (listening at once). Returns 0, RD_EINVAL
 * (bad config / script, message in err) or RD_EIO (listen failed).
 */
int rd_sim_create(uv_loop_t *loop, const rd_sim_config_t *cfg, rd_sim_t **out, char *err,
                  size_t errlen);
int rd_sim_port(const rd_sim_t *sim);
/* The referee's report plus the simulator's counters (JSON, rd_free it). */
char *rd_sim_report(rd_sim_t *sim);
/* Referee violations so far (sum). */
uint64_t rd_sim_violations(const rd_sim_t *sim);
/*
 * Answers held requests, aborts callbacks in flight, closes the server;
 * cb(data) runs on the loop once everything is freed.
 */
void rd_sim_close(rd_sim_t *sim, void (*cb)(void *data), void *data);

#endif
