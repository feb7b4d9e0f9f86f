/*
 * pool.c — worker threads driving libcurl multi handles from libuv loops
 * (contract in pool.h).
 *
 * Threads and ownership:
 *   - The engine thread owns the pool struct, the work free list and the
 *     result doorbell. It writes each worker's inbox under that worker's
 *     mutex and reads the result queue under the pool's result mutex.
 *   - Each worker thread owns its uv loop, its curl multi, every easy handle
 *     (one per request slot), every uv_poll (one per curl socket), its
 *     curl timer, its campaign table and round-robin ring. Nothing of a
 *     worker is touched by another thread except the inbox (mutex) and the
 *     atomic counters.
 *   - Breakers are per account, shared by all workers, made of atomics.
 *
 * Queues: MPSC, intrusive (rd_work.rd__next), LIFO push under a mutex; the
 * consumer swaps the whole list out under the lock, reverses it (FIFO) and
 * processes it unlocked. The producer rings the consumer's doorbell only
 * when it made the list non-empty; since the consumer always empties the
 * list, no item can be stranded. Rings coalesce, so nothing counts
 * wake-ups. The doorbell is an eventfd + uv_poll rather than uv_async_t,
 * for the reason given at bell_t below (STYLE rule 12's hand-off, minus
 * libuv 1.44's receiver spin).
 * A worker collects the results of one loop callback locally and hands them
 * over as one batch at its end (one lock, at most one wake-up per batch).
 *
 * curl <-> libuv (the multi_socket API): curl tells us which sockets to
 * watch (socket callback -> uv_poll start/stop/close) and when to call it
 * back (timer callback -> uv_timer); uv tells curl what became ready
 * (curl_multi_socket_action). Completed transfers are read with
 * curl_multi_info_read after every action. A socket's uv_poll lives as long
 * as the socket, not as long as a transfer: when a transfer ends curl says
 * CURL_POLL_REMOVE but keeps the connection in its cache, so the poll is
 * only *parked* (kept registered with epoll for readability, found again
 * by fd in the worker's fd map when the next transfer reuses the
 * connection); it is closed when curl closes the socket
 * (CURLOPT_CLOSESOCKETFUNCTION, before the close(2), so libuv's epoll set
 * never holds a stale fd). A reused keep-alive connection so costs no
 * epoll_ctl and no allocation; a parked socket that turns readable (the peer
 * closed it) stops being watched and curl finds it dead on reuse.
 * Easy handles are created once per
 * slot with the options that never change and only the per-request options
 * are set on reuse, so keep-alive connections in the multi's cache are
 * reused across requests. HTTP/1.1, no pipelining, no signals, no
 * "Expect: 100-continue".
 *
 * Shutdown: the engine sets `stopping` and wakes every worker. A worker then
 * cancels what is queued (results CANCELED), lets in-flight requests finish,
 * cleans up the multi (which closes cached connections), closes its uv
 * handles, runs its loop dry, asserts uv_loop_close() == 0, sets `exited`
 * and wakes the engine, which joins the threads (they have returned by
 * then), closes its async handle and frees everything in the close callback.
 */
#include "workers/pool.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "proto/hash.h"
#include "proto/rd.h"

#define RD_POOL_URL_MAX 1024
#define RD_POOL_BODY_MAX 4096
#define RD_POOL_RESP_MAX 16384
#define RD_POOL_CAMP_BUCKETS 256

/* ------------------------------------------------------------------ */
/* curl global init with the rd allocator                               */

/* rd.h's try-variant for malloc; realloc/calloc/strdup go to the same
   process allocator (jemalloc in normal builds) and may fail as curl
   expects, unlike rd_realloc which aborts. */
static void *cm_malloc(size_t n) { return rd_try_malloc(n); }
static void cm_free(void *p) { rd_free(p); }
static void *cm_realloc(void *p, size_t n) { return realloc(p, n ? n : 1); }
static void *cm_calloc(size_t n, size_t s) { return calloc(n ? n : 1, s ? s : 1); }
static char *cm_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = rd_try_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static void curl_init_once(void) {
    curl_init_rc = curl_global_init_mem(CURL_GLOBAL_DEFAULT, cm_malloc, cm_free, cm_realloc,
                                        cm_strdup, cm_calloc);
}

/* ------------------------------------------------------------------ */
/* Types                                                                */

/*
 * A doorbell: an eventfd watched by a uv_poll on the owner's loop; any
 * thread rings it with one write(2). It does the job of uv_async_t without
 * libuv 1.44's receiver-side busy-wait: uv_async_send marks the handle
 * "busy" before its eventfd write and "done" after, and the receiving loop
 * spins (997 x pause, then sched_yield, repeatedly) while a sender is
 * between the two. The receiver is woken by that very write, so it always
 * spins for the rest of the sender's syscall, and much longer when the
 * sender is preempted — measured at 40% of the engine thread with 2 workers
 * and the simulator on 2 cores. Coalescing is the same: rings before the
 * read are one wake-up; the callback always drains the whole queue.
 */
typedef struct bell {
    uv_poll_t poll;
    int fd;
    void (*cb)(void *data);
    void *data;
} bell_t;

static void on_bell(uv_poll_t *h, int status, int events) {
    bell_t *b = h->data;
    uint64_t v;
    while (read(b->fd, &v, sizeof v) < 0 && errno == EINTR) {
    }
    b->cb(b->data);
}

static int bell_init(uv_loop_t *loop, bell_t *b, void (*cb)(void *), void *data) {
    b->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (b->fd < 0) return RD_EIO;
    b->cb = cb;
    b->data = data;
    if (uv_poll_init(loop, &b->poll, b->fd) != 0) {
        close(b->fd);
        b->fd = -1;
        return RD_EIO;
    }
    b->poll.data = b;
    uv_poll_start(&b->poll, UV_READABLE, on_bell);
    return 0;
}

/* Any thread. The counter cannot overflow in practice (2^64 - 2 rings). */
static void bell_ring(bell_t *b) {
    uint64_t one = 1;
    while (write(b->fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
}

/* Owner's loop thread; the fd may be closed once uv_close is called. */
static void bell_close(bell_t *b, uv_close_cb cb) {
    uv_poll_stop(&b->poll);
    uv_close((uv_handle_t *)&b->poll, cb);
    close(b->fd);
    b->fd = -1;
}

/*
 * The breaker's window: BRK_BUCKETS one-second buckets of (requests,
 * transient failures), keyed by the monotonic second they count. A bucket
 * is reset by the first writer of a new second (CAS on its second); a
 * writer racing the reset may land its count in the old second, which the
 * reader then ignores: the rate is approximate by a request or two, never
 * stuck.
 */
#define BRK_BUCKETS 10  /* the window: 10 s */
#define BRK_RATE_PCT 50 /* open at >= 50% transient failures over the window */
typedef struct brk_bucket {
    _Atomic int64_t sec;
    _Atomic uint32_t req, fail;
} brk_bucket_t;

typedef struct breaker {
    _Atomic uint32_t fails;       /* consecutive transient failures (backoff exponent) */
    _Atomic int64_t open_until;   /* monotonic ms; 0 = closed */
    _Atomic int probing;          /* a half-open probe is in flight */
    _Atomic int64_t paused_until; /* 429 Retry-After pause, monotonic ms */
    brk_bucket_t win[BRK_BUCKETS];
} breaker_t;

typedef struct rd_pool__camp {
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    struct rd_pool__camp *hnext;         /* hash chain */
    struct rd_pool__camp *rnext, *rprev; /* ring, when in_ring */
    bool in_ring;
    rd_work_t *head, *tail; /* FIFO of queued items */
} camp_t;

typedef struct worker worker_t;

typedef struct slot {
    CURL *easy;
    worker_t *wk;
    rd_work_t *w;
    bool probe;        /* this request is its account's half-open probe */
    uint64_t start_ns; /* uv_hrtime() when the request was handed to curl */
    struct slot *next_free;
    size_t resp_len;
    bool resp_truncated;
    char url[RD_POOL_URL_MAX];
    char body[RD_POOL_BODY_MAX];
    char resp[RD_POOL_RESP_MAX];
} slot_t;

typedef struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    worker_t *wk;
    struct sock *next, *prev; /* worker's live list */
    int events;               /* UV_READABLE | UV_WRITABLE being watched */
    bool parked;              /* curl said CURL_POLL_REMOVE; the connection is cached */
    bool closing;
} sock_t;

typedef struct counters {
    _Atomic uint64_t account, rejected, placed_unknown;
    _Atomic uint64_t completed, http_requests, placed, refused, status, sent, notfound, transient,
        breaker_rejects, canceled, inflight, started;
    _Atomic uint64_t errors[RD_POOL_ERR__N]; /* non-2xx answers and no answers, by class */
    rd_hist_t dial_hist;                     /* dial request durations */
} counters_t;

struct worker {
    rd_pool_t *pool;
    unsigned idx;
    uv_thread_t thread;
    bool mu_inited, loop_inited;
    uv_loop_t loop;
    bell_t wake;
    uv_timer_t timer;
    CURLM *multi;
    struct curl_slist *hdrs;
    /* inbox (engine -> worker) */
    uv_mutex_t mu;
    rd_work_t *inbox;
    bool stop; /* under mu */
    /* worker-thread state */
    bool stopping;
    camp_t *buckets[RD_POOL_CAMP_BUCKETS];
    camp_t *ring; /* next campaign to serve */
    slot_t *free_slots;
    unsigned n_slots, inflight;
    unsigned n_camps;
    sock_t *socks;
    sock_t **fdmap; /* fd -> its sock (parked or active), NULL when none */
    size_t fdcap;
    rd_work_t *out, *out_last; /* results of this loop iteration, newest first */
    uint64_t rng;
    counters_t c;
    _Atomic int exited;
};

struct rd_pool {
    uv_loop_t *loop;
    bell_t results_bell;
    rd_pool_result_fn on_result;
    void *data;
    unsigned n_workers, max_inflight, max_conns, next_worker;
    worker_t *workers;
    rd_account_cfg_t *accounts;
    size_t n_accounts;
    char **strings; /* copied account strings */
    size_t n_strings;
    breaker_t *breakers;
    /* results (workers -> engine) */
    uv_mutex_t rmu;
    rd_work_t *results;
    /* engine-thread state */
    rd_work_t *free_work;
    _Atomic uint64_t submitted;
    bool closing, closed_async;
    void (*close_cb)(void *);
    void *close_arg;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

static int64_t mono_ms(void) { return (int64_t)(uv_hrtime() / 1000000u); }

static uint32_t rng_next(worker_t *wk) {
    /* xorshift64*: per-worker, no shared state. */
    uint64_t x = wk->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    wk->rng = x;
    return (uint32_t)((x * 0x2545F4914F6CDD1DULL) >> 32);
}

static rd_work_t *reverse(rd_work_t *l) {
    rd_work_t *r = NULL;
    while (l) {
        rd_work_t *n = l->rd__next;
        l->rd__next = r;
        r = l;
        l = n;
    }
    return r;
}

#define INC(wk, f) atomic_fetch_add_explicit(&(wk)->c.f, 1, memory_order_relaxed)

/* ------------------------------------------------------------------ */
/* Results back to the engine                                           */

static void post_result(worker_t *wk, rd_work_t *w) {
    w->done_ns = uv_hrtime();
    INC(wk, completed);
    switch (w->res.kind) {
    case RD_RES_PLACED:
        INC(wk, placed);
        break;
    case RD_RES_REFUSED:
        INC(wk, refused);
        break;
    case RD_RES_STATUS:
        INC(wk, status);
        break;
    case RD_RES_SENT:
        INC(wk, sent);
        break;
    case RD_RES_NOTFOUND:
        INC(wk, notfound);
        break;
    case RD_RES_TRANSIENT:
        INC(wk, transient);
        break;
    case RD_RES_CANCELED:
        INC(wk, canceled);
        break;
    case RD_RES_ACCOUNT:
        INC(wk, account);
        break;
    case RD_RES_REJECTED:
        INC(wk, rejected);
        break;
    case RD_RES_PLACED_UNKNOWN:
        INC(wk, placed_unknown);
        break;
    }
    /* Batched: flush_results() hands the whole batch over at the end of
       this loop callback (one lock, at most one wake-up). */
    w->rd__next = wk->out;
    if (!wk->out) wk->out_last = w;
    wk->out = w;
}

static void flush_results(worker_t *wk) {
    if (!wk->out) return;
    rd_pool_t *p = wk->pool;
    uv_mutex_lock(&p->rmu);
    bool was_empty = p->results == NULL;
    wk->out_last->rd__next = p->results;
    p->results = wk->out;
    uv_mutex_unlock(&p->rmu);
    wk->out = wk->out_last = NULL;
    if (was_empty) bell_ring(&p->results_bell);
}

/*
 * Backoff exponent: the job's own consecutive transient failures, or the
 * account's when larger — so that during an outage the delays grow even
 * for a caller that does not count per job.
 */
static void finish_transient(worker_t *wk, rd_work_t *w, int64_t hint_ms) {
    const rd_account_cfg_t *a = &wk->pool->accounts[w->account];
    uint32_t fails = atomic_load(&wk->pool->breakers[w->account].fails);
    uint32_t n = RD_MAX(w->transient_retries, fails > 0 ? fails - 1 : 0);
    int64_t b = rd_provider_backoff_ms(a, n, rng_next(wk));
    w->res.kind = RD_RES_TRANSIENT;
    w->res.retry_after_ms = RD_MAX(b, hint_ms);
    post_result(wk, w);
}

/* ------------------------------------------------------------------ */
/* Circuit breaker                                                      */

/* May a request of this account be sent now? *probe is set for the half-open
   probe; otherwise *wait_ms says how long the account stays closed to us. */
static bool breaker_admit(breaker_t *b, int64_t now, bool *probe, int64_t *wait_ms) {
    *probe = false;
    int64_t paused = atomic_load(&b->paused_until);
    if (paused > now) {
        *wait_ms = paused - now;
        return false;
    }
    int64_t open = atomic_load(&b->open_until);
    if (open == 0) return true;
    if (open > now) {
        *wait_ms = open - now;
        return false;
    }
    int expected = 0;
    if (atomic_compare_exchange_strong(&b->probing, &expected, 1)) {
        *probe = true;
        return true;
    }
    *wait_ms = 0; /* a probe is out: come back after backoff */
    return false;
}

static void window_add(breaker_t *b, int64_t now, bool failed) {
    int64_t sec = now / 1000;
    brk_bucket_t *k = &b->win[sec % BRK_BUCKETS];
    int64_t cur = atomic_load(&k->sec);
    if (cur != sec && atomic_compare_exchange_strong(&k->sec, &cur, sec)) {
        atomic_store(&k->req, 0);
        atomic_store(&k->fail, 0);
    }
    atomic_fetch_add(&k->req, 1);
    if (failed) atomic_fetch_add(&k->fail, 1);
}

/* Requests and failures of the last BRK_BUCKETS seconds. */
static void window_sum(breaker_t *b, int64_t now, uint32_t *req, uint32_t *fail) {
    int64_t sec = now / 1000;
    *req = *fail = 0;
    for (int i = 0; i < BRK_BUCKETS; i++) {
        int64_t ks = atomic_load(&b->win[i].sec);
        if (ks <= sec - BRK_BUCKETS || ks > sec) continue;
        *req += atomic_load(&b->win[i].req);
        *fail += atomic_load(&b->win[i].fail);
    }
}

static void window_clear(breaker_t *b) {
    for (int i = 0; i < BRK_BUCKETS; i++) atomic_store(&b->win[i].sec, 0);
}

static void breaker_success(breaker_t *b, bool probe, int64_t now) {
    atomic_store(&b->fails, 0);
    if (probe || atomic_load(&b->open_until) != 0) {
        /* Closed by a probe that got through: the failures that opened it are
           history, or they would reopen it at the next failure. */
        window_clear(b);
        atomic_store(&b->open_until, 0);
        atomic_store(&b->probing, 0);
    }
    window_add(b, now, false);
}

/*
 * Opens on a failure rate, not on a run: at least breaker_failures failures
 * in the window AND at least BRK_RATE_PCT% of its requests failed — or a
 * run of 2 x breaker_failures consecutive failures, so that a provider
 * going down hard after healthy traffic (whose successes still fill the
 * window) opens it within a few requests. One failing 15% of requests
 * never opens it: a run of 5 failures happens there every few thousand
 * requests (and opened the old run-triggered breaker, costing that account
 * every request for breaker_open_ms); a run of 10, about once in 10^8.
 */
static void breaker_failure(breaker_t *b, const rd_account_cfg_t *a, bool probe, int64_t now) {
    uint32_t run = atomic_fetch_add(&b->fails, 1) + 1;
    window_add(b, now, true);
    if (probe) {
        atomic_store(&b->open_until, now + (int64_t)a->breaker_open_ms);
        atomic_store(&b->probing, 0);
        return;
    }
    if (a->breaker_failures == 0) return;
    uint32_t req, fail;
    window_sum(b, now, &req, &fail);
    if ((fail >= a->breaker_failures && (uint64_t)fail * 100 >= (uint64_t)req * BRK_RATE_PCT) ||
        run >= 2 * a->breaker_failures) {
        int64_t zero = 0;
        /* Open once; a later failure of a request sent before the opening
           does not extend it. */
        atomic_compare_exchange_strong(&b->open_until, &zero, now + (int64_t)a->breaker_open_ms);
    }
}

/* ------------------------------------------------------------------ */
/* curl <-> uv                                                          */

static void check_done(worker_t *wk);

static void on_poll(uv_poll_t *h, int status, int events) {
    sock_t *s = h->data;
    worker_t *wk = s->wk;
    if (s->parked) {
        /* An idle cached connection became readable: the peer closed it (or sent
           what nobody asked for). Stop watching; curl sees it dead on reuse. */
        uv_poll_stop(&s->poll);
        s->events = 0;
        return;
    }
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(wk->multi, s->fd, flags, &running);
    check_done(wk);
}

static void on_sock_closed(uv_handle_t *h) { rd_free(h->data); }

static void sock_close(sock_t *s) {
    worker_t *wk = s->wk;
    if (s->closing) return;
    s->closing = true;
    if (s->prev)
        s->prev->next = s->next;
    else
        wk->socks = s->next;
    if (s->next) s->next->prev = s->prev;
    if ((size_t)s->fd < wk->fdcap && wk->fdmap[s->fd] == s) wk->fdmap[s->fd] = NULL;
    uv_poll_stop(&s->poll);
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

/* curl closes a socket: drop its poll first (epoll forgets the fd), then close it. */
static int on_closesocket(void *clientp, curl_socket_t fd) {
    worker_t *wk = clientp;
    if (fd >= 0 && (size_t)fd < wk->fdcap && wk->fdmap[fd]) sock_close(wk->fdmap[fd]);
    return close(fd);
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    worker_t *wk = userp;
    sock_t *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            curl_multi_assign(wk->multi, fd, NULL);
            /* Park: keep the registration for the next transfer on this connection. */
            s->parked = true;
            if (s->events != UV_READABLE) {
                uv_poll_start(&s->poll, UV_READABLE, on_poll);
                s->events = UV_READABLE;
            }
        }
        return 0;
    }
    if (!s && fd >= 0 && (size_t)fd < wk->fdcap && wk->fdmap[fd]) {
        s = wk->fdmap[fd];
        s->parked = false;
        curl_multi_assign(wk->multi, fd, s);
    }
    if (!s) {
        if (fd < 0) return -1;
        if ((size_t)fd >= wk->fdcap) {
            size_t nc = wk->fdcap ? wk->fdcap : 64;
            while (nc <= (size_t)fd) nc *= 2;
            sock_t **nm = rd_try_malloc(nc * sizeof *nm);
            if (!nm) return -1;
            memset(nm, 0, nc * sizeof *nm);
            if (wk->fdcap) memcpy(nm, wk->fdmap, wk->fdcap * sizeof *nm);
            rd_free(wk->fdmap);
            wk->fdmap = nm;
            wk->fdcap = nc;
        }
        s = rd_try_malloc(sizeof *s);
        if (!s) return -1;
        memset(s, 0, sizeof *s);
        s->fd = fd;
        s->wk = wk;
        if (uv_poll_init_socket(&wk->loop, &s->poll, fd) != 0) {
            rd_free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = wk->socks;
        if (wk->socks) wk->socks->prev = s;
        wk->socks = s;
        wk->fdmap[fd] = s;
        curl_multi_assign(wk->multi, fd, s);
    }
    int ev = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= UV_WRITABLE;
    /* curl re-announces sockets on every transfer; restarting an unchanged
       watch would cost an epoll_ctl each time. */
    if (ev != s->events) {
        uv_poll_start(&s->poll, ev, on_poll);
        s->events = ev;
    }
    return 0;
}

static void on_timer(uv_timer_t *t) {
    worker_t *wk = t->data;
    int running;
    curl_multi_socket_action(wk->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(wk);
}

static int on_curl_timer(CURLM *m, long timeout_ms, void *userp) {
    worker_t *wk = userp;
    if (timeout_ms < 0) {
        uv_timer_stop(&wk->timer);
    } else {
        /* 0 means "call soon": never call socket_action from inside here. */
        uv_timer_start(&wk->timer, on_timer, (uint64_t)(timeout_ms ? timeout_ms : 1), 0);
    }
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    slot_t *sl = userdata;
    size_t n = size * nmemb;
    size_t room = RD_POOL_RESP_MAX - 1 - sl->resp_len;
    if (n > room) {
        sl->resp_truncated = true;
        n = room;
    }
    memcpy(sl->resp + sl->resp_len, ptr, n);
    sl->resp_len += n;
    return size * nmemb; /* keep reading: a truncated body is judged unreadable later */
}

/* ------------------------------------------------------------------ */
/* Slots and requests                                                   */

static slot_t *slot_get(worker_t *wk) {
    if (wk->free_slots) {
        slot_t *s = wk->free_slots;
        wk->free_slots = s->next_free;
        return s;
    }
    if (wk->n_slots >= wk->pool->max_inflight) return NULL;
    slot_t *s = rd_try_malloc(sizeof *s);
    if (!s) return NULL;
    memset(s, 0, offsetof(slot_t, url));
    s->easy = curl_easy_init();
    if (!s->easy) {
        rd_free(s);
        return NULL;
    }
    s->wk = wk;
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_PRIVATE, s);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, wk->hdrs);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "redial/1");
    curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, on_closesocket);
    curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, wk);
    wk->n_slots++;
    return s;
}

static void slot_put(worker_t *wk, slot_t *s) {
    s->w = NULL;
    s->next_free = wk->free_slots;
    wk->free_slots = s;
}

/* Starts w on a free slot; false when no slot is free (w untouched). */
static bool start(worker_t *wk, rd_work_t *w) {
    rd_pool_t *p = wk->pool;
    const rd_account_cfg_t *a = &p->accounts[w->account];
    breaker_t *b = &p->breakers[w->account];
    memset(&w->res, 0, sizeof w->res);

    bool probe;
    int64_t wait_ms;
    if (!breaker_admit(b, mono_ms(), &probe, &wait_ms)) {
        INC(wk, breaker_rejects);
        w->res.breaker_open = true;
        rd_fmt(w->res.reason, sizeof w->res.reason, "account %s circuit open",
               rd_prov_name(a->kind));
        finish_transient(wk, w, wait_ms);
        return true;
    }
    slot_t *s = slot_get(wk);
    if (!s) {
        if (probe) atomic_store(&b->probing, 0);
        return false;
    }
    const rd_provider_ops_t *ops = rd_provider_ops(a->kind);
    rd_http_call_t call = {
        .url = s->url, .url_cap = sizeof s->url, .body = s->body, .body_cap = sizeof s->body};
    s->url[0] = s->body[0] = '\0';
    int rc;
    switch (w->kind) {
    case RD_WORK_DIAL:
        rc = ops->dial(a, &w->dial, &call);
        break;
    case RD_WORK_POLL:
        rc = ops->poll(a, w->call_id, &call);
        break;
    default:
        rc = ops->sms(a, &w->sms, &call);
        break;
    }
    if (rc != 0) {
        /* The job's data cannot form a request: a per-call refusal, so that
           the job ends (failed) instead of looping. */
        if (probe) atomic_store(&b->probing, 0);
        slot_put(wk, s);
        w->res.kind = w->kind == RD_WORK_POLL ? RD_RES_NOTFOUND : RD_RES_REFUSED;
        w->res.outcome = RD_OUT_FAILED;
        rd_fmt(w->res.reason, sizeof w->res.reason, "request not expressible: %s", rd_strerror(rc));
        post_result(wk, w);
        return true;
    }
    s->w = w;
    s->probe = probe;
    s->resp_len = 0;
    s->resp_truncated = false;
    CURL *e = s->easy;
    curl_easy_setopt(e, CURLOPT_URL, s->url);
    if (call.post) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)call.body_len);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(e, CURLOPT_USERNAME, a->key ? a->key : a->sid);
    curl_easy_setopt(e, CURLOPT_PASSWORD, a->token);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)a->connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
    if (curl_multi_add_handle(wk->multi, e) != CURLM_OK) {
        if (probe) atomic_store(&b->probing, 0);
        slot_put(wk, s);
        rd_fmt(w->res.reason, sizeof w->res.reason, "curl_multi_add_handle failed");
        finish_transient(wk, w, 0);
        return true;
    }
    wk->inflight++;
    INC(wk, inflight);
    INC(wk, http_requests);
    s->start_ns = uv_hrtime();
    return true;
}

static void complete(worker_t *wk, slot_t *s, CURLcode cc) {
    rd_pool_t *p = wk->pool;
    rd_work_t *w = s->w;
    const rd_account_cfg_t *a = &p->accounts[w->account];
    breaker_t *b = &p->breakers[w->account];
    int64_t now = mono_ms();
    int64_t hint = 0;

    if (w->kind == RD_WORK_DIAL) rd_hist_observe(&wk->c.dial_hist, uv_hrtime() - s->start_ns);
    if (cc != CURLE_OK) {
        INC(wk, errors[RD_POOL_ERR_NONE]);
        w->res.kind = RD_RES_TRANSIENT;
        rd_fmt(w->res.reason, sizeof w->res.reason, "%s", curl_easy_strerror(cc));
    } else {
        long code = 0;
        curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
        if (code < 200 || code >= 300)
            INC(wk, errors[code == 429   ? RD_POOL_ERR_429
                           : code >= 500 ? RD_POOL_ERR_5XX
                           : code >= 400 ? RD_POOL_ERR_4XX
                                         : RD_POOL_ERR_OTHER]);
        s->resp[s->resp_len] = '\0';
        rd_provider_ops(a->kind)->classify(w->kind, (int)code, s->resp,
                                           s->resp_truncated ? 0 : s->resp_len, &w->res);
        if (w->res.kind == RD_RES_TRANSIENT) {
            curl_off_t ra = 0;
            if (curl_easy_getinfo(s->easy, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0) {
                if (ra > 86400) ra = 86400;
                hint = (int64_t)ra * 1000;
            }
            if (code == 429 && hint > 0) {
                int64_t until = now + hint, cur = atomic_load(&b->paused_until);
                while (cur < until &&
                       !atomic_compare_exchange_weak(&b->paused_until, &cur, until)) {
                }
            }
        }
    }
    /* A 429 is flow control, not ill health: it paused the account above
       and counts neither way (a probe answered 429 is not a success). */
    bool throttled = w->res.kind == RD_RES_TRANSIENT && w->res.http_status == 429;
    if (throttled)
        atomic_store(&b->probing, 0);
    else if (w->res.kind == RD_RES_TRANSIENT)
        breaker_failure(b, a, s->probe, now);
    else
        breaker_success(b, s->probe, now);

    curl_multi_remove_handle(wk->multi, s->easy);
    wk->inflight--;
    atomic_fetch_sub_explicit(&wk->c.inflight, 1, memory_order_relaxed);
    slot_put(wk, s);
    if (w->res.kind == RD_RES_TRANSIENT) {
        finish_transient(wk, w, hint);
    } else {
        /* An unclassified refusal is retried later like a transient one,
           but it is the provider answering, not failing: no breaker. */
        if (w->res.kind == RD_RES_REJECTED)
            w->res.retry_after_ms = rd_provider_backoff_ms(a, w->transient_retries, rng_next(wk));
        post_result(wk, w);
    }
}

/* ------------------------------------------------------------------ */
/* Campaign fairness                                                    */

static camp_t *camp_find(worker_t *wk, const char *name) {
    uint32_t b = rd_hash_str(RD_HASH_FNV_BASIS, name) % RD_POOL_CAMP_BUCKETS;
    for (camp_t *c = wk->buckets[b]; c; c = c->hnext)
        if (strcmp(c->name, name) == 0) return c;
    camp_t *c = rd_malloc(sizeof *c);
    memset(c, 0, sizeof *c);
    memcpy(c->name, name, strnlen(name, RD_CAMPAIGN_NAME_MAX));
    c->hnext = wk->buckets[b];
    wk->buckets[b] = c;
    wk->n_camps++;
    return c;
}

/*
 * Campaign entries are kept when their queue empties (a campaign's next dial
 * then allocates nothing); past RD_POOL_CAMP_KEEP entries an idle one is
 * freed, so a worker that has seen many campaigns does not grow for ever.
 */
#define RD_POOL_CAMP_KEEP 4096

static void camp_idle(worker_t *wk, camp_t *c) {
    if (wk->n_camps <= RD_POOL_CAMP_KEEP || c->in_ring || c->head) return;
    camp_t **pp = &wk->buckets[rd_hash_str(RD_HASH_FNV_BASIS, c->name) % RD_POOL_CAMP_BUCKETS];
    while (*pp && *pp != c) pp = &(*pp)->hnext;
    rd_assert(*pp == c);
    *pp = c->hnext;
    wk->n_camps--;
    rd_free(c);
}

static void ring_add(worker_t *wk, camp_t *c) {
    if (c->in_ring) return;
    c->in_ring = true;
    if (!wk->ring) {
        c->rnext = c->rprev = c;
        wk->ring = c;
    } else {
        /* Insert just before the cursor: served last in this round. */
        camp_t *r = wk->ring;
        c->rnext = r;
        c->rprev = r->rprev;
        r->rprev->rnext = c;
        r->rprev = c;
    }
}

static void ring_remove(worker_t *wk, camp_t *c) {
    if (!c->in_ring) return;
    c->in_ring = false;
    if (c->rnext == c) {
        wk->ring = NULL;
    } else {
        c->rprev->rnext = c->rnext;
        c->rnext->rprev = c->rprev;
        if (wk->ring == c) wk->ring = c->rnext;
    }
    c->rnext = c->rprev = NULL;
}

static void enqueue(worker_t *wk, rd_work_t *w) {
    camp_t *c = camp_find(wk, w->campaign);
    w->rd__next = NULL;
    w->rd__camp = c;
    if (c->tail)
        c->tail->rd__next = w;
    else
        c->head = w;
    c->tail = w;
    ring_add(wk, c);
}

/* Gives free slots to campaigns in round-robin. */
static void pump(worker_t *wk) {
    while (wk->ring) {
        camp_t *c = wk->ring;
        rd_work_t *w = c->head;
        /* Unlink before start(): a fail-fast start posts w at once, reusing
           its link for the result queue. */
        c->head = w->rd__next;
        w->rd__next = NULL;
        w->rd__camp = NULL;
        if (!start(wk, w)) { /* no free slot: put it back, wait for a completion */
            w->rd__next = c->head;
            w->rd__camp = c;
            c->head = w;
            return;
        }
        if (!c->head) c->tail = NULL;
        wk->ring = c->rnext;
        if (!c->head) {
            ring_remove(wk, c);
            camp_idle(wk, c);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Worker thread                                                        */

static void on_handle_closed(uv_handle_t *h) { (void)h; }

static void worker_shutdown(worker_t *wk) {
    /* Every easy handle is out of the multi (inflight == 0). */
    curl_multi_cleanup(wk->multi);
    wk->multi = NULL;
    while (wk->socks) sock_close(wk->socks);
    uv_close((uv_handle_t *)&wk->timer, on_handle_closed);
    bell_close(&wk->wake, on_handle_closed);
}

static void cancel_queued(worker_t *wk) {
    while (wk->ring) {
        camp_t *c = wk->ring;
        while (c->head) {
            rd_work_t *w = c->head;
            c->head = w->rd__next;
            memset(&w->res, 0, sizeof w->res);
            w->res.kind = RD_RES_CANCELED;
            rd_fmt(w->res.reason, sizeof w->res.reason, "pool closing");
            post_result(wk, w);
        }
        c->tail = NULL;
        ring_remove(wk, c);
    }
}

static void check_done(worker_t *wk) {
    CURLMsg *m;
    int left;
    while (wk->multi && (m = curl_multi_info_read(wk->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        slot_t *s = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
        CURLcode cc = m->data.result;
        complete(wk, s, cc); /* m is invalid after remove_handle */
    }
    if (!wk->stopping) pump(wk);
    flush_results(wk);
    if (wk->stopping && wk->inflight == 0 && wk->multi) worker_shutdown(wk);
}

static void on_wake(void *data) {
    worker_t *wk = data;
    if (!wk->multi) return;
    uv_mutex_lock(&wk->mu);
    rd_work_t *l = wk->inbox;
    wk->inbox = NULL;
    bool stop = wk->stop;
    uv_mutex_unlock(&wk->mu);
    for (l = reverse(l); l;) {
        rd_work_t *n = l->rd__next;
        enqueue(wk, l);
        l = n;
    }
    if (stop && !wk->stopping) {
        wk->stopping = true;
        cancel_queued(wk);
    }
    check_done(wk);
}

static void worker_main(void *arg) {
    worker_t *wk = arg;
    uv_run(&wk->loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&wk->loop);
    rd_assert(rc == 0);
    while (wk->free_slots) {
        slot_t *s = wk->free_slots;
        wk->free_slots = s->next_free;
        curl_easy_cleanup(s->easy);
        rd_free(s);
    }
    for (unsigned i = 0; i < RD_POOL_CAMP_BUCKETS; i++) {
        while (wk->buckets[i]) {
            camp_t *c = wk->buckets[i];
            wk->buckets[i] = c->hnext;
            rd_free(c);
        }
    }
    curl_slist_free_all(wk->hdrs);
    wk->hdrs = NULL;
    rd_free(wk->fdmap);
    wk->fdmap = NULL;
    wk->fdcap = 0;
    atomic_store(&wk->exited, 1);
    bell_ring(&wk->pool->results_bell);
}

/* Loop, handles and multi of one worker, made on the engine thread before
   the thread starts (so failures are reported by rd_pool_create). */
static int worker_init(rd_pool_t *p, worker_t *wk, unsigned idx) {
    wk->pool = p;
    wk->idx = idx;
    wk->rng = (uv_hrtime() ^ ((uint64_t)idx * 0x9E3779B97F4A7C15ULL)) | 1;
    if (uv_mutex_init(&wk->mu) != 0) return RD_EIO;
    wk->mu_inited = true;
    if (uv_loop_init(&wk->loop) != 0) return RD_EIO;
    wk->loop_inited = true;
    if (bell_init(&wk->loop, &wk->wake, on_wake, wk) != 0) {
        uv_loop_close(&wk->loop);
        wk->loop_inited = false;
        return RD_EIO;
    }
    uv_timer_init(&wk->loop, &wk->timer);
    wk->timer.data = wk;
    wk->hdrs = curl_slist_append(NULL, "Expect:");
    if (wk->hdrs) wk->hdrs = curl_slist_append(wk->hdrs, "Accept: application/json");
    wk->multi = curl_multi_init();
    if (!wk->hdrs || !wk->multi) return RD_EIO;
    CURLM *m = wk->multi;
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, wk);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, wk);
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, (long)p->max_conns);
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)p->max_conns);
    return 0;
}

/* Undoes worker_init (possibly partial) for a worker whose thread never ran. */
static void worker_deinit_unstarted(worker_t *wk) {
    if (wk->multi) curl_multi_cleanup(wk->multi);
    wk->multi = NULL;
    curl_slist_free_all(wk->hdrs);
    wk->hdrs = NULL;
    if (wk->loop_inited) {
        bell_close(&wk->wake, NULL);
        uv_close((uv_handle_t *)&wk->timer, NULL);
        uv_run(&wk->loop, UV_RUN_DEFAULT);
        int rc = uv_loop_close(&wk->loop);
        rd_assert(rc == 0);
        wk->loop_inited = false;
    }
    if (wk->mu_inited) uv_mutex_destroy(&wk->mu);
    wk->mu_inited = false;
}

/* ------------------------------------------------------------------ */
/* Engine side                                                          */

unsigned rd_pool_default_workers(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return (unsigned)(n < 1 ? 1 : n > 8 ? 8 : n);
}

static void pool_free(rd_pool_t *p) {
    for (unsigned i = 0; i < p->n_workers; i++)
        if (p->workers[i].mu_inited) uv_mutex_destroy(&p->workers[i].mu);
    while (p->free_work) {
        rd_work_t *w = p->free_work;
        p->free_work = w->rd__next;
        rd_free(w);
    }
    for (size_t i = 0; i < p->n_strings; i++) rd_free(p->strings[i]);
    rd_free(p->strings);
    rd_free(p->accounts);
    rd_free(p->breakers);
    rd_free(p->workers);
    uv_mutex_destroy(&p->rmu);
    rd_free(p);
}

static void on_async_closed(uv_handle_t *h) {
    rd_pool_t *p = ((bell_t *)h->data)->data;
    void (*cb)(void *) = p->close_cb;
    void *arg = p->close_arg;
    pool_free(p);
    if (cb) cb(arg);
}

static void deliver(rd_pool_t *p) {
    uv_mutex_lock(&p->rmu);
    rd_work_t *l = p->results;
    p->results = NULL;
    uv_mutex_unlock(&p->rmu);
    for (l = reverse(l); l;) {
        rd_work_t *n = l->rd__next;
        l->rd__next = NULL;
        if (l->done)
            l->done(l, l->user);
        else
            p->on_result(l, p->data);
        l = n;
    }
}

static void on_results(void *data) {
    rd_pool_t *p = data;
    deliver(p);
    if (!p->closing || p->closed_async) return;
    for (unsigned i = 0; i < p->n_workers; i++)
        if (!atomic_load(&p->workers[i].exited)) return;
    for (unsigned i = 0; i < p->n_workers; i++) uv_thread_join(&p->workers[i].thread);
    deliver(p); /* anything posted after the last wake-up */
    p->closed_async = true;
    bell_close(&p->results_bell, on_async_closed);
}

static char *keep(rd_pool_t *p, const char *s) {
    if (!s) return NULL;
    char *d = rd_strdup(s);
    p->strings[p->n_strings++] = d;
    return d;
}

static void on_async_closed_early(uv_handle_t *h) { pool_free(((bell_t *)h->data)->data); }

int rd_pool_create(uv_loop_t *loop, const rd_pool_cfg_t *cfg, rd_pool_t **out) {
    *out = NULL;
    if (!cfg->on_result || !cfg->accounts || cfg->n_accounts == 0) return RD_EINVAL;
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        const rd_account_cfg_t *a = &cfg->accounts[i];
        if (!a->base_url || !a->sid || !a->token || !rd_provider_ops(a->kind)) return RD_EINVAL;
    }
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK) return RD_EIO;

    rd_pool_t *p = rd_calloc(1, sizeof *p);
    p->loop = loop;
    p->on_result = cfg->on_result;
    p->data = cfg->data;
    p->n_workers = cfg->workers ? cfg->workers : rd_pool_default_workers();
    p->max_inflight = cfg->max_inflight ? cfg->max_inflight : 128;
    p->max_conns = cfg->max_conns ? cfg->max_conns : p->max_inflight;
    p->n_accounts = cfg->n_accounts;
    p->accounts = rd_calloc(cfg->n_accounts, sizeof *p->accounts);
    p->strings = rd_calloc(cfg->n_accounts * 5, sizeof *p->strings);
    for (size_t i = 0; i < cfg->n_accounts; i++) {
        rd_account_cfg_t *a = &p->accounts[i];
        *a = cfg->accounts[i];
        a->base_url = keep(p, a->base_url);
        a->sid = keep(p, a->sid);
        a->key = keep(p, a->key);
        a->token = keep(p, a->token);
        a->flow_base = keep(p, a->flow_base);
    }
    p->breakers = rd_calloc(cfg->n_accounts, sizeof *p->breakers);
    p->workers = rd_calloc(p->n_workers, sizeof *p->workers);
    if (uv_mutex_init(&p->rmu) != 0) rd_assert(!"uv_mutex_init");

    int rc = 0;
    for (unsigned i = 0; i < p->n_workers && rc == 0; i++) rc = worker_init(p, &p->workers[i], i);
    if (rc != 0) {
        for (unsigned i = 0; i < p->n_workers; i++) worker_deinit_unstarted(&p->workers[i]);
        pool_free(p);
        return rc;
    }
    if (bell_init(loop, &p->results_bell, on_results, p) != 0) {
        for (unsigned i = 0; i < p->n_workers; i++) worker_deinit_unstarted(&p->workers[i]);
        pool_free(p);
        return RD_EIO;
    }
    unsigned started = 0;
    for (; started < p->n_workers; started++) {
        worker_t *wk = &p->workers[started];
        if (uv_thread_create(&wk->thread, worker_main, wk) != 0) break;
    }
    if (started < p->n_workers) {
        /* Tear down the workers that never ran; stop the ones that run
           through the normal close (the loop finishes the job). */
        for (unsigned i = started; i < p->n_workers; i++) worker_deinit_unstarted(&p->workers[i]);
        p->n_workers = started;
        if (started == 0) {
            p->closing = p->closed_async = true;
            bell_close(&p->results_bell, on_async_closed_early);
        } else {
            rd_pool_close(p, NULL, NULL);
        }
        return RD_EIO;
    }
    *out = p;
    return 0;
}

rd_work_t *rd_pool_work_get(rd_pool_t *p) {
    rd_work_t *w = p->free_work;
    if (w)
        p->free_work = w->rd__next;
    else
        w = rd_malloc(sizeof *w);
    /* Clear the header fields and the strings' first bytes; the rest is
       overwritten by the caller or the pool. */
    w->kind = RD_WORK_DIAL;
    w->account = 0;
    w->campaign[0] = '\0';
    w->transient_retries = 0;
    memset(&w->dial, 0, sizeof w->dial);
    w->call_id[0] = '\0';
    w->sms.to[0] = w->sms.from[0] = w->sms.body[0] = w->sms.status_callback[0] = '\0';
    w->user = NULL;
    w->done = NULL;
    w->tag = 0;
    memset(&w->res, 0, sizeof w->res);
    w->submit_ns = w->done_ns = 0;
    w->rd__next = NULL;
    w->rd__camp = NULL;
    return w;
}

void rd_pool_work_put(rd_pool_t *p, rd_work_t *w) {
    w->rd__next = p->free_work;
    p->free_work = w;
}

int rd_pool_submit(rd_pool_t *p, rd_work_t *w) {
    if (p->closing) return RD_ECLOSED;
    if (w->account >= p->n_accounts || (unsigned)w->kind > RD_WORK_SMS) return RD_EINVAL;
    w->campaign[RD_CAMPAIGN_NAME_MAX] = '\0';
    w->submit_ns = uv_hrtime();
    worker_t *wk = &p->workers[p->next_worker++ % p->n_workers];
    uv_mutex_lock(&wk->mu);
    bool was_empty = wk->inbox == NULL;
    w->rd__next = wk->inbox;
    wk->inbox = w;
    uv_mutex_unlock(&wk->mu);
    atomic_fetch_add_explicit(&p->submitted, 1, memory_order_relaxed);
    if (was_empty) bell_ring(&wk->wake);
    return 0;
}

void rd_pool_close(rd_pool_t *p, void (*cb)(void *), void *arg) {
    rd_assert(!p->closing);
    p->closing = true;
    p->close_cb = cb;
    p->close_arg = arg;
    for (unsigned i = 0; i < p->n_workers; i++) {
        worker_t *wk = &p->workers[i];
        uv_mutex_lock(&wk->mu);
        wk->stop = true;
        uv_mutex_unlock(&wk->mu);
        bell_ring(&wk->wake);
    }
}

int64_t rd_pool_account_wait(const rd_pool_t *p, uint32_t account, bool *half_open) {
    if (half_open) *half_open = false;
    if (account >= p->n_accounts) return 0;
    breaker_t *b = &p->breakers[account];
    int64_t now = mono_ms(), wait = 0;
    int64_t paused = atomic_load(&b->paused_until), open = atomic_load(&b->open_until);
    if (paused > now) wait = paused - now;
    if (open > now) wait = RD_MAX(wait, open - now);
    if (wait == 0 && open != 0 && half_open) *half_open = true;
    return wait;
}

rd_pool_breaker_t rd_pool_breaker_state(const rd_pool_t *p, uint32_t account) {
    if (account >= p->n_accounts) return RD_POOL_BREAKER_CLOSED;
    const breaker_t *b = &p->breakers[account];
    int64_t open = atomic_load((_Atomic int64_t *)&b->open_until);
    if (open == 0) return RD_POOL_BREAKER_CLOSED;
    return open > mono_ms() ? RD_POOL_BREAKER_OPEN : RD_POOL_BREAKER_HALF_OPEN;
}

const char *rd_pool_account_sid(const rd_pool_t *p, uint32_t account) {
    return account < p->n_accounts && p->accounts[account].sid ? p->accounts[account].sid : "";
}

uint32_t rd_pool_n_accounts(const rd_pool_t *p) { return (uint32_t)p->n_accounts; }

void rd_pool_stats(const rd_pool_t *p, rd_pool_stats_t *out) {
    memset(out, 0, sizeof *out);
    out->submitted = atomic_load_explicit(&((rd_pool_t *)p)->submitted, memory_order_relaxed);
    for (unsigned i = 0; i < p->n_workers; i++) {
        counters_t *c = &p->workers[i].c;
#define SUM(f) out->f += atomic_load_explicit(&c->f, memory_order_relaxed)
        SUM(completed);
        SUM(http_requests);
        SUM(placed);
        SUM(refused);
        SUM(account);
        SUM(rejected);
        SUM(placed_unknown);
        SUM(status);
        SUM(sent);
        SUM(notfound);
        SUM(transient);
        SUM(breaker_rejects);
        SUM(canceled);
        SUM(inflight);
        for (int e = 0; e < RD_POOL_ERR__N; e++) SUM(errors[e]);
#undef SUM
        rd_hist_add(&out->dial_hist, &c->dial_hist);
    }
    out->queued = out->submitted > out->completed + out->inflight
                      ? out->submitted - out->completed - out->inflight
                      : 0;
}
