/*
 * pool.h — the worker pool: N threads, each with its own uv loop driving a
 * libcurl multi handle, that place provider HTTP requests (dial, poll, SMS)
 * for the engine loop and hand the classified results back to it.
 *
 * Hand-off (STYLE.md rule 12): the engine thread takes a work item from the
 * pool's free list (rd_pool_work_get), fills the request, and submits it;
 * the item travels by intrusive link through a worker's MPSC inbox
 * (a doorbell — eventfd + uv_poll, see pool.c for why not uv_async_t —
 * rung on empty -> non-empty only, whole batch drained
 * outside the lock), comes back the same way on the engine loop, and is
 * given to the result callback, which owns it and returns it with
 * rd_pool_work_put (or resubmits it). In steady state a dial allocates
 * nothing in the pool: items, curl handles and request/response buffers are
 * all reused.
 *
 * Fairness: submissions are spread round-robin over the workers; inside a
 * worker, queued items wait in one FIFO per campaign and the free request
 * slots are given to campaigns in round-robin, so one huge campaign cannot
 * starve a small one.
 *
 * Transient failures (connect error, timeout, 5xx, 429, account refusals;
 * see provider.h) come back as RD_RES_TRANSIENT with retry_after_ms =
 * max(Retry-After, capped exponential backoff with jitter whose exponent is
 * the larger of w->transient_retries and the account's consecutive
 * transient failures - 1); they are not attempts. Each account has a circuit
 * breaker shared by all workers, driven by the failure rate over a 10 s
 * window: once the window holds at least breaker_failures transient
 * failures and they are at least half of its requests (or after
 * 2 x breaker_failures consecutive transient failures), it opens for
 * breaker_open_ms, during which requests of that account fail fast
 * (TRANSIENT, breaker_open) without being sent; then one probe at a time is
 * sent (half-open): success closes it (and clears the window), failure
 * re-opens it. A provider failing 15% of requests keeps its breaker closed.
 * A 429 with Retry-After pauses the account for that long the same way (a
 * 429 is not counted as a failure). rd_pool_account_wait() tells the
 * dispatcher not to claim jobs it could not send.
 *
 * Threads: every rd_pool_* function is called on the engine loop thread
 * (the loop given to rd_pool_create); the result callback runs there too.
 * Credentials are copied at create and never logged.
 */
#ifndef RD_POOL_H
#define RD_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "proto/callback.h"
#include "proto/hist.h"
#include "proto/job.h"
#include "workers/provider.h"

typedef struct rd_pool rd_pool_t;

/*
 * A unit of work. Request fields are written by the engine before submit
 * and not touched after; result fields are written by the pool before the
 * result callback. Embeddable, hot-path struct: fields named rd__* are
 * private.
 */
typedef struct rd_work {
    /* request */
    rd_work_kind_t kind;
    uint32_t account;                        /* index into rd_pool_cfg_t.accounts */
    char campaign[RD_CAMPAIGN_NAME_MAX + 1]; /* fairness key ("" is a campaign too) */
    uint32_t transient_retries;              /* consecutive transient failures before this
                                                 try: the backoff exponent */
    rd_dial_t dial;                          /* RD_WORK_DIAL */
    char call_id[RD_CALL_ID_MAX + 1];        /* RD_WORK_POLL */
    rd_sms_t sms;                            /* RD_WORK_SMS */
    void *user;                              /* the caller's, untouched */
    /* When set, the result goes to done(w, user) instead of the pool's
       on_result (engine loop thread; same ownership rules). Lets several
       engine modules share one pool. */
    void (*done)(struct rd_work *w, void *user);
    uint64_t tag; /* the caller's, untouched */
    /* result */
    rd_work_result_t res;
    uint64_t submit_ns, done_ns; /* uv_hrtime() at submit / at completion */
    /* private */
    struct rd_work *rd__next;
    struct rd_pool__camp *rd__camp;
} rd_work_t;

/* Result callback (engine loop thread). `w` is owned by the callee from now on. */
typedef void (*rd_pool_result_fn)(rd_work_t *w, void *data);

typedef struct rd_pool_cfg {
    unsigned workers;                 /* threads [0 = rd_pool_default_workers()] */
    unsigned max_inflight;            /* concurrent HTTP requests per worker [128] */
    unsigned max_conns;               /* connections per worker per host [= max_inflight] */
    const rd_account_cfg_t *accounts; /* copied (strings too) */
    size_t n_accounts;
    rd_pool_result_fn on_result; /* required */
    void *data;
} rd_pool_cfg_t;

/* Provider errors by answer class (rd_pool_stats_t.errors). */
typedef enum {
    RD_POOL_ERR_NONE = 0, /* no HTTP answer: connect error, timeout, reset */
    RD_POOL_ERR_429 = 1,
    RD_POOL_ERR_4XX = 2, /* other 4xx */
    RD_POOL_ERR_5XX = 3,
    RD_POOL_ERR_OTHER = 4, /* 1xx, 3xx */
    RD_POOL_ERR__N
} rd_pool_err_t;

/*
 * The worker-thread count for this machine: one per online core, at least 1,
 * at most 8. Measured on 2 cores (W1, bench/RESULTS.md): 1 worker cost the
 * engine ~10% more CPU per attempt than 2 (each loop pass of a lone worker
 * carries fewer transfers, so its wake-ups and hand-offs are spread thinner).
 */
unsigned rd_pool_default_workers(void);

typedef struct rd_pool_stats {
    uint64_t submitted, completed, http_requests, placed, refused, status, sent, notfound,
        transient, breaker_rejects, canceled;
    uint64_t account, rejected, placed_unknown; /* ACCOUNT, REJECTED, PLACED_UNKNOWN results */
    uint64_t queued;                 /* submitted, not yet started (approximate while running) */
    uint64_t inflight;               /* HTTP requests in flight now */
    uint64_t errors[RD_POOL_ERR__N]; /* non-2xx answers and no answers, by class */
    rd_hist_t dial_hist;             /* dial request durations (handed to curl -> done) */
} rd_pool_stats_t;

/*
 * Starts the workers (threads, loops, curl multis) and registers a doorbell
 * on `loop` for results. Initialises libcurl once per process with the rd
 * allocator (curl_global_init_mem). Returns 0, RD_EINVAL (no accounts, no
 * callback, an account without base_url/sid/token) or RD_EIO (thread or
 * curl start failure).
 */
int rd_pool_create(uv_loop_t *loop, const rd_pool_cfg_t *cfg, rd_pool_t **out);

/* A cleared work item (allocated only when the free list is empty). */
rd_work_t *rd_pool_work_get(rd_pool_t *p);
/* Returns an item to the free list. */
void rd_pool_work_put(rd_pool_t *p, rd_work_t *w);

/*
 * Queues w. Returns 0 (the result callback will run exactly once for it,
 * never from inside this call), RD_EINVAL (bad account index or kind) or
 * RD_ECLOSED (the pool is closing); on error the caller keeps w.
 */
int rd_pool_submit(rd_pool_t *p, rd_work_t *w);

/*
 * Closes the pool: items not yet started complete as RD_RES_CANCELED,
 * requests in flight are allowed to finish (each bounded by its timeout),
 * results are delivered, the threads exit (each closes every handle and
 * checks uv_loop_close() == 0), then the doorbell handle is closed, the pool
 * freed and cb(arg) called on the loop. Call once.
 */
void rd_pool_close(rd_pool_t *p, void (*cb)(void *arg), void *arg);

/*
 * How long requests of `account` will be refused unsent (breaker open or 429
 * pause), in wall ms; 0 when they may go. *half_open (may be NULL) is set
 * when the breaker's open period is over and only a probe may go (claim one
 * job, not a batch). An out-of-range account reads 0. Engine loop thread
 * (reads the workers' atomics).
 */
int64_t rd_pool_account_wait(const rd_pool_t *p, uint32_t account, bool *half_open);

/* An account's circuit breaker (half-open: the open period is over, a probe may go). */
typedef enum {
    RD_POOL_BREAKER_CLOSED = 0,
    RD_POOL_BREAKER_OPEN = 1,
    RD_POOL_BREAKER_HALF_OPEN = 2
} rd_pool_breaker_t;

/* The breaker state of `account` now (out of range: closed). Engine loop thread. */
rd_pool_breaker_t rd_pool_breaker_state(const rd_pool_t *p, uint32_t account);

/* The number of accounts, and an account's sid ("" when out of range; borrowed). */
uint32_t rd_pool_n_accounts(const rd_pool_t *p);
const char *rd_pool_account_sid(const rd_pool_t *p, uint32_t account);

/* Counters summed over the workers. */
void rd_pool_stats(const rd_pool_t *p, rd_pool_stats_t *out);

#endif
