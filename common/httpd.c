/*
 * httpd.c — HTTP/1.1 server on a libuv loop (see httpd.h for the contract).
 *
 * Layers, bottom up:
 *
 *  1. rd_http_parser: http-parser 2.9 plus our limits. Every piece of the
 *     request (URL, header names and values, body) is appended to one arena
 *     owned by the parser, NUL-terminated, and recorded as offsets; pointers
 *     are fixed up only when the message completes (the arena may move while
 *     it grows). The parser pauses itself in on_message_complete, so one
 *     feed returns at most one request and the bytes after it stay with the
 *     caller. The arena is reused across requests: after warm-up a
 *     keep-alive connection parses without allocating.
 *
 *  2. Connections: one uv_tcp_t each, reached through a five-operation
 *     transport table (httpd_int.h) so the fuzzer can drive the same logic
 *     without sockets. Reads land in one server-wide buffer (alloc_cb always
 *     hands out the same 64 KiB: libuv calls alloc/read/read_cb back to
 *     back, so sharing is safe on one loop) and are parsed straight from it;
 *     only bytes left unparsed are copied into the connection's own buffer.
 *     While a request is held (handed to the handler, not answered) nothing
 *     more is parsed, so pipelined requests are answered in order; read-ahead
 *     is bounded by the limits, beyond which reading stops until the answer.
 *     EOF is a half-close: what was received in full is still answered, then
 *     the connection closes (a partial request is dropped).
 *
 *  3. Replies are written with try_write (header + body as two buffers);
 *     only what the kernel did not take is copied into a queued write.
 *     Backpressure: while a connection's queued bytes exceed
 *     max_queued_bytes it is neither read nor parsed (a pipelining client
 *     that never reads cannot make us queue without bound); both resume once
 *     the queue drains below half. Memory per connection is thus bounded by
 *     the read-ahead, the parser's limits and max_queued_bytes + one reply.
 *
 *  4. Accepting: our own non-blocking listening socket under a uv_poll_t,
 *     accept4() in batches of 64. The connection cap comes from the
 *     descriptor limit less a reserve (Redis, curl, logs, zone files must
 *     never starve), and a per-address cap (IPv4 address or IPv6 /64, in an
 *     open-addressing table with a random seed) keeps one client from taking
 *     all of it; over either cap the connection is closed at once. EMFILE,
 *     ENFILE, ENOBUFS or ENOMEM from accept pause polling the listener (50 ms
 *     doubling to 1 s) instead of spinning on a socket we cannot accept from.
 *
 * Lifetimes (libuv rules: free only in close callbacks): a connection is
 * freed when its handle has closed AND it holds no request. A client that
 * disconnects while its request is held leaves the connection as a husk
 * until the application answers (the reply is then dropped). The server is
 * freed when its three handles have closed and no connection is left, and
 * only then is the close callback called.
 *
 * Timeouts: one sweep timer per server (not one per connection) closes idle
 * keep-alive connections, requests that do not complete in time
 * (slow-loris, answered 408), and connections whose queued replies make no
 * progress for write_timeout_ms (also those closing after a write: a client
 * that never reads cannot pin a reply in memory).
 *
 * Files: httpd.c holds accepting (per-address and descriptor caps, accept
 * backoff), the TCP transport, timeouts and the server's lifetime;
 * httpd_parse.c layer 1; httpd_conn.c layers 2 and 3; httpd_int.h what
 * they share.
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/httpd_int.h"

#include "proto/rd.h"

/* ---- per-address counts ---- */

static void addr_key(const struct sockaddr *sa, uint8_t key[RD_HTTPD_AKEY]) {
    memset(key, 0, RD_HTTPD_AKEY);
    if (sa && sa->sa_family == AF_INET) {
        key[0] = 4;
        memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a)) {
            key[0] = 4;
            memcpy(key + 1, a->s6_addr + 12, 4);
        } else {
            /* One holder of a /64 can use all of it: count the prefix. */
            key[0] = 6;
            memcpy(key + 1, a->s6_addr, 8);
        }
    } else {
        key[0] = 1;
    }
}

static size_t addr_hash(const rd_httpd_t *s, const uint8_t *key) {
    uint64_t h = s->aseed;
    for (size_t i = 0; i < RD_HTTPD_AKEY; i++) h = (h ^ key[i]) * 0x100000001b3ULL;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return (size_t)h;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t addr_find(const rd_httpd_t *s, const uint8_t *key) {
    size_t i = addr_hash(s, key) & s->amask;
    while (s->atab[i].key[0] && memcmp(s->atab[i].key, key, RD_HTTPD_AKEY) != 0)
        i = (i + 1) & s->amask;
    return i;
}

void rd_httpd__addr_release(rd_httpd_t *s, const uint8_t *key) {
    size_t i = addr_find(s, key);
    if (!s->atab[i].key[0] || --s->atab[i].n > 0) return;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    size_t j = i;
    for (;;) {
        s->atab[i].key[0] = 0;
        for (;;) {
            j = (j + 1) & s->amask;
            if (!s->atab[j].key[0]) return;
            size_t k = addr_hash(s, s->atab[j].key) & s->amask;
            bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!stays) break;
        }
        s->atab[i] = s->atab[j];
        i = j;
    }
}

/* ---- the TCP transport ---- */

static void tcp_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    (void)hint;
    conn_t *c = h->data;
    buf->base = c->srv->rbuf;
    buf->len = RD_HTTPD_RBUF;
}

static void tcp_on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf) {
    rd_httpd__conn_input(st->data, nread, buf->base);
}

static int tcp_read_start(conn_t *c) {
    return uv_read_start((uv_stream_t *)&c->tcp, tcp_on_alloc, tcp_on_read);
}

static void tcp_read_stop(conn_t *c) { uv_read_stop((uv_stream_t *)&c->tcp); }

static int tcp_try_write(conn_t *c, const uv_buf_t *bufs, unsigned n) {
    return uv_try_write((uv_stream_t *)&c->tcp, bufs, n);
}

static void tcp_on_write(uv_write_t *w, int status) { rd_httpd__write_done((wreq_t *)w, status); }

static int tcp_write(conn_t *c, wreq_t *w, const uv_buf_t *buf) {
    return uv_write(&w->w, (uv_stream_t *)&c->tcp, buf, 1, tcp_on_write);
}

static void tcp_on_closed(uv_handle_t *h) { rd_httpd__conn_closed(h->data); }

static void tcp_close(conn_t *c) { uv_close((uv_handle_t *)&c->tcp, tcp_on_closed); }

static const rd_httpd__io_t tcp_io = {
    .read_start = tcp_read_start,
    .read_stop = tcp_read_stop,
    .try_write = tcp_try_write,
    .write = tcp_write,
    .close = tcp_close,
};

/* ---- accepting ---- */

conn_t *rd_httpd__conn_open(rd_httpd_t *s, const rd_httpd__io_t *io, void *io_data,
                            const struct sockaddr *peer) {
    if (s->closing) return NULL;
    if (s->nconns >= s->cfg.max_conns) {
        s->st.closed_at_accept++;
        return NULL;
    }
    uint8_t key[RD_HTTPD_AKEY];
    addr_key(peer, key);
    size_t slot = addr_find(s, key);
    if (s->atab[slot].key[0] && s->atab[slot].n >= s->cfg.max_conns_per_addr) {
        s->st.closed_per_addr++;
        return NULL;
    }
    if (!s->atab[slot].key[0]) {
        memcpy(s->atab[slot].key, key, RD_HTTPD_AKEY);
        s->atab[slot].n = 0;
    }
    s->atab[slot].n++;
    conn_t *c;
    if (s->pool) {
        c = s->pool;
        s->pool = c->next;
        s->npool--;
        rd_http_parser_t *p = c->p;
        char *in = c->in;
        size_t in_cap = c->in_cap;
        memset(c, 0, sizeof *c);
        c->p = p;
        c->in = in;
        c->in_cap = in_cap;
        rd_httpd__parser_reset(p);
    } else {
        c = rd_calloc(1, sizeof *c);
        c->p = rd_http_parser_create(&s->cfg.limits);
    }
    c->srv = s;
    c->io = io;
    c->io_data = io_data;
    memcpy(c->akey, key, RD_HTTPD_AKEY);
    s->nconns++;
    s->st.live_conns = s->nconns;
    s->st.accepted++;
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    c->last_active = rd_httpd__srv_now(s);
    return c;
}

void rd_httpd__conn_start(conn_t *c) { rd_httpd__conn_flow(c); }

static void on_listen_ready(uv_poll_t *h, int status, int events);

static void on_backoff_end(uv_timer_t *t) {
    rd_httpd_t *s = t->data;
    if (!s->closing) uv_poll_start(&s->lpoll, UV_READABLE, on_listen_ready);
}

/*
 * Out of descriptors (or kernel memory): stop polling the listener for a
 * while instead of spinning on a readable socket that cannot be accepted;
 * 50 ms doubling to 1 s, reset by the next successful accept.
 */
static void accept_backoff(rd_httpd_t *s) {
    s->st.accept_backoffs++;
    s->backoff_ms = s->backoff_ms ? RD_MIN(s->backoff_ms * 2, 1000u) : 50u;
    uv_poll_stop(&s->lpoll);
    uv_timer_start(&s->backoff, on_backoff_end, s->backoff_ms, 0);
}

static void on_listen_ready(uv_poll_t *h, int status, int events) {
    (void)events;
    rd_httpd_t *s = h->data;
    if (status < 0 || s->closing) return;
    /* A bounded batch per wake-up keeps the loop fair to open connections. */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
        socklen_t plen = sizeof peer;
        int fd = accept4(s->lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                accept_backoff(s);
            return;
        }
        s->backoff_ms = 0;
        conn_t *c = rd_httpd__conn_open(s, &tcp_io, NULL, (struct sockaddr *)&peer);
        if (!c) {
            close(fd); /* over a cap: the client sees the connection closed at once */
            continue;
        }
        uv_tcp_init(s->loop, &c->tcp);
        c->tcp.data = c;
        if (uv_tcp_open(&c->tcp, fd) != 0) {
            close(fd);
            rd_httpd__conn_close(c);
            continue;
        }
        uv_tcp_nodelay(&c->tcp, 1);
        rd_httpd__conn_start(c);
    }
}

/* ---- timeouts ---- */

void rd_httpd__sweep(rd_httpd_t *s) {
    uint64_t now = rd_httpd__srv_now(s);
    conn_t *next;
    for (conn_t *c = s->conns; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        /* Replies the client does not take: close, whatever else is going on. */
        if (c->writes && now - c->wprog > s->cfg.write_timeout_ms) {
            s->st.timeouts++;
            rd_httpd__conn_close(c);
            continue;
        }
        if (c->held || c->close_after_write || c->wblocked) continue;
        if (c->req_start && now - c->req_start > s->cfg.request_timeout_ms) {
            s->st.timeouts++;
            rd_httpd__conn_error(c, 408);
        } else if (!c->req_start && c->in_len == 0 &&
                   now - c->last_active > s->cfg.idle_timeout_ms) {
            rd_httpd__conn_close(c);
        }
    }
}

static void on_sweep(uv_timer_t *t) { rd_httpd__sweep(t->data); }

void rd_httpd__set_clock(rd_httpd_t *s, uint64_t (*now)(void *data), void *data) {
    s->clock = now;
    s->clock_data = data;
}

/*
 * The connection cap the descriptor limit allows: the soft RLIMIT_NOFILE
 * less `reserve` (0 = 64 + limit/8) for Redis, curl, log and zone files.
 */
static unsigned fd_conn_cap(unsigned reserve) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return RD_HTTPD_MAX_CONNS;
    rlim_t soft = rl.rlim_cur;
    rlim_t keep = reserve ? reserve : 64 + soft / 8;
    if (soft < keep + 16) return 16;
    return (unsigned)RD_MIN(soft - keep, (rlim_t)RD_HTTPD_MAX_CONNS);
}

static int listen_socket(rd_httpd_t *s, const struct sockaddr *sa, char *errbuf, size_t errlen) {
    int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) goto fail;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    socklen_t len =
        sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, sa, len) != 0 || listen(fd, s->cfg.backlog) != 0) goto fail;
    struct sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &blen);
    s->port = bound.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&bound)->sin6_port)
                                          : ntohs(((struct sockaddr_in *)&bound)->sin_port);
    return fd;
fail:
    if (errbuf)
        snprintf(errbuf, errlen, "listen on %s:%d: %s", s->host, s->cfg.port, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

static void srv_free(rd_httpd_t *s) {
    rd_free(s->atab);
    rd_free(s->rbuf);
    rd_free(s->obuf);
    rd_free(s->host);
    rd_free(s);
}

int rd_httpd_create(uv_loop_t *loop, const rd_httpd_config_t *cfg, rd_httpd_t **out, char *errbuf,
                    size_t errlen) {
    if (errbuf && errlen) errbuf[0] = '\0';
    if (!cfg || !cfg->handler) return RD_EINVAL;
    /* A reply written to a client that already closed raises SIGPIPE, whose default action
     * ends the process: any client could stop the server. Ignore it unless the program chose
     * a disposition of its own (libuv then sees EPIPE and the connection closes). */
    struct sigaction sa;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) signal(SIGPIPE, SIG_IGN);
    rd_httpd_t *s = rd_calloc(1, sizeof *s);
    s->loop = loop;
    s->cfg = *cfg;
    s->host = rd_strdup(cfg->host ? cfg->host : "127.0.0.1");
    s->cfg.host = s->host;
    s->lfd = -1;
    rd_httpd__limits_fill(&s->cfg.limits, &cfg->limits);
    if (!s->cfg.backlog) s->cfg.backlog = 1024;
    unsigned fdcap = fd_conn_cap(cfg->fd_reserve);
    s->cfg.max_conns = RD_MIN(cfg->max_conns ? cfg->max_conns : RD_HTTPD_MAX_CONNS, fdcap);
    if (!s->cfg.max_conns_per_addr) s->cfg.max_conns_per_addr = RD_MAX(16u, s->cfg.max_conns / 8);
    if (!s->cfg.idle_timeout_ms) s->cfg.idle_timeout_ms = 30000;
    if (!s->cfg.request_timeout_ms) s->cfg.request_timeout_ms = 30000;
    if (!s->cfg.write_timeout_ms) s->cfg.write_timeout_ms = 30000;
    if (!s->cfg.max_queued_bytes) s->cfg.max_queued_bytes = 256 * 1024;
    s->st.max_conns = s->cfg.max_conns;
    s->st.max_conns_per_addr = s->cfg.max_conns_per_addr;
    size_t slots = 64;
    while (slots < 2 * (size_t)s->cfg.max_conns) slots *= 2;
    s->atab = rd_calloc(slots, sizeof *s->atab);
    s->amask = slots - 1;
    s->aseed = uv_hrtime() ^ (uint64_t)(uintptr_t)s ^ 0xcbf29ce484222325ULL;
    s->rbuf = rd_malloc(RD_HTTPD_RBUF);

    struct sockaddr_storage ss;
    int r;
    if (strchr(s->host, ':'))
        r = uv_ip6_addr(s->host, cfg->port, (struct sockaddr_in6 *)&ss);
    else
        r = uv_ip4_addr(s->host, cfg->port, (struct sockaddr_in *)&ss);
    if (r != 0) {
        if (errbuf) snprintf(errbuf, errlen, "bad listen address %s: %s", s->host, uv_strerror(r));
        srv_free(s);
        return RD_EINVAL;
    }
    s->lfd = listen_socket(s, (struct sockaddr *)&ss, errbuf, errlen);
    if (s->lfd < 0) {
        srv_free(s);
        return RD_EIO;
    }
    uv_poll_init_socket(loop, &s->lpoll, s->lfd);
    s->lpoll.data = s;
    uv_timer_init(loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_init(loop, &s->backoff);
    s->backoff.data = s;
    uv_unref((uv_handle_t *)&s->backoff);
    s->open_handles = 3;
    uv_poll_start(&s->lpoll, UV_READABLE, on_listen_ready);
    unsigned every =
        RD_MIN(RD_MIN(s->cfg.idle_timeout_ms, s->cfg.request_timeout_ms), s->cfg.write_timeout_ms) /
        4;
    if (every < 10) every = 10;
    if (every > 1000) every = 1000;
    uv_timer_start(&s->sweep, on_sweep, every, every);
    uv_unref((uv_handle_t *)&s->sweep);
    *out = s;
    return 0;
}

int rd_httpd_port(const rd_httpd_t *s) { return s->port; }

void rd_httpd_stats(const rd_httpd_t *s, rd_httpd_stats_t *out) { *out = s->st; }

void rd_httpd__srv_maybe_finish(rd_httpd_t *s) {
    if (!s->closing || s->open_handles || s->nconns) return;
    while (s->pool) {
        conn_t *c = s->pool;
        s->pool = c->next;
        rd_http_parser_destroy(c->p);
        rd_free(c->in);
        rd_free(c);
    }
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    srv_free(s);
    if (cb) cb(data);
}

static void on_srv_handle_closed(uv_handle_t *h) {
    rd_httpd_t *s = h->data;
    if (h == (uv_handle_t *)&s->lpoll) {
        close(s->lfd);
        s->lfd = -1;
    }
    s->open_handles--;
    rd_httpd__srv_maybe_finish(s);
}

void rd_httpd_close(rd_httpd_t *s, void (*cb)(void *data), void *data) {
    rd_assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_close((uv_handle_t *)&s->lpoll, on_srv_handle_closed);
    uv_close((uv_handle_t *)&s->sweep, on_srv_handle_closed);
    uv_close((uv_handle_t *)&s->backoff, on_srv_handle_closed);
    for (conn_t *c = s->conns; c; c = c->next) rd_httpd__conn_close(c);
}
