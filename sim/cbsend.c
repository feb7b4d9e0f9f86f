/*
 * cbsend.c — status-callback POSTs from a libuv loop (see cbsend.h).
 *
 * Two transports behind one API:
 *
 *  - http:// (what a load test uses): a small HTTP/1.1 client of our own on
 *    uv_tcp_t. Per origin (host:port as written in the URL) a pool of
 *    persistent connections, at most max_host_conns, one request in flight
 *    on each (no pipelining: a receiver may answer slowly and in order).
 *    A request is built once into one contiguous buffer (request line,
 *    headers, body) and written with one uv_try_write (uv_write for the
 *    rest); the response is read into the connection's fixed buffer and
 *    parsed by http-parser (status, Content-Length / chunked / until close,
 *    keep-alive), its body discarded. Idle connections sit on a stack per
 *    origin, waiting requests in a FIFO per origin: taking or returning a
 *    connection is O(1), nothing walks a list per request. Request records
 *    and their buffers are pooled, so a steady stream of callbacks allocates
 *    nothing. A request sent on a reused connection that the peer had closed
 *    (EOF or reset before any response byte: the usual keep-alive race) is
 *    sent once more on a fresh connection. Timeouts: one sweep timer, every
 *    SWEEP_MS while anything is in flight, fails requests past their
 *    deadline (waiting or on the wire; the connection of the latter is
 *    closed). Host names are resolved once per origin (numeric addresses
 *    without a lookup; otherwise getaddrinfo, which blocks the loop once per
 *    origin); a failed resolution fails that request and is retried by the
 *    next one.
 *  - anything else (https://): libcurl multi driven by curl_multi_socket_action
 *    on uv_poll_t + one uv_timer_t, easy handles pooled, response bodies
 *    discarded.
 *
 * Nothing is printed per callback: the completion reports the status and a
 * short error, the caller decides what to log.
 *
 * Lifetimes: handles are freed in their close callbacks (libuv rule); the
 * sender is freed once every handle it opened has closed.
 */
#include "sim/cbsend.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <http_parser.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"

#define SWEEP_MS 100
#define RBUF 4096

typedef struct origin origin_t;
typedef struct conn conn_t;

/* One POST over the native transport. */
typedef struct req {
    struct req *next; /* origin FIFO or free list */
    origin_t *o;
    char *buf;
    size_t len, cap;
    rd_cbsend_done_fn done;
    void *ctx;
    uint64_t deadline;
    bool resent;
} req_t;

struct conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t wr;
    origin_t *o;
    rd_cbsend_t *s;
    conn_t *next_idle;
    conn_t *prev_all, *next_all;
    req_t *req;
    http_parser parser;
    bool connected, reused, got_bytes, complete, closing, writing;
    char rbuf[RBUF];
};

struct origin {
    origin_t *next;
    char authority[264]; /* host[:port] as in the URL: the Host header */
    char host[256];
    int port;
    struct sockaddr_storage addr;
    bool resolved;
    conn_t *idle;
    unsigned nconns;
    req_t *qhead, *qtail;
};

/* libcurl transfer (non-http schemes). */
typedef struct xfer {
    struct xfer *next, *prev; /* free list (next) or active list (both) */
    CURL *easy;
    struct curl_slist *hdrs;
    char *body;
    size_t cap;
    rd_cbsend_done_fn done;
    void *ctx;
    char err[CURL_ERROR_SIZE];
} xfer_t;

typedef struct {
    uv_poll_t poll;
    curl_socket_t fd;
    rd_cbsend_t *s;
} pollctx_t;

struct rd_cbsend {
    uv_loop_t *loop;
    rd_cbsend_config_t cfg;
    size_t inflight;
    unsigned open_handles; /* timers + tcp + polls */
    bool closing;
    void (*close_cb)(void *);
    void *close_data;
    /* native */
    origin_t *origins;
    conn_t *conns; /* every open connection */
    req_t *req_free;
    size_t native_inflight;
    uv_timer_t sweep;
    bool sweeping;
    http_parser_settings ps;
    /* libcurl */
    CURLM *multi;
    uv_timer_t timer;
    xfer_t *free_list;
    xfer_t *active;
};

static void maybe_free(rd_cbsend_t *s) {
    if (!s->closing || s->open_handles) return;
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    while (s->origins) {
        origin_t *o = s->origins;
        s->origins = o->next;
        rd_free(o);
    }
    while (s->req_free) {
        req_t *r = s->req_free;
        s->req_free = r->next;
        rd_free(r->buf);
        rd_free(r);
    }
    rd_free(s);
    if (cb) cb(data);
}

static void on_handle_closed(uv_handle_t *h) {
    rd_cbsend_t *s;
    if (h->type == UV_POLL) {
        pollctx_t *pc = h->data;
        s = pc->s;
        rd_free(pc);
    } else if (h->type == UV_TCP) {
        conn_t *c = h->data;
        s = c->s;
        rd_free(c);
    } else {
        s = h->data;
    }
    s->open_handles--;
    maybe_free(s);
}

/* ---- native HTTP/1.1 transport ------------------------------------------ */

static void req_finish(rd_cbsend_t *s, req_t *r, int status, const char *err) {
    rd_cbsend_done_fn done = r->done;
    void *ctx = r->ctx;
    r->done = NULL;
    r->ctx = NULL;
    r->o = NULL;
    r->next = s->req_free;
    s->req_free = r;
    s->inflight--;
    s->native_inflight--;
    done(ctx, status, err);
}

static void conn_close(conn_t *c) {
    if (c->closing) return;
    c->closing = true;
    rd_cbsend_t *s = c->s;
    origin_t *o = c->o;
    /* Off the idle stack (rare: an idle connection closed by its peer). */
    for (conn_t **pp = &o->idle; *pp; pp = &(*pp)->next_idle)
        if (*pp == c) {
            *pp = c->next_idle;
            break;
        }
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else
        s->conns = c->next_all;
    if (c->next_all) c->next_all->prev_all = c->prev_all;
    o->nconns--;
    uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void dispatch(rd_cbsend_t *s, origin_t *o);

static void on_alloc(uv_handle_t *h, size_t sz, uv_buf_t *buf) {
    (void)sz;
    conn_t *c = h->data;
    *buf = uv_buf_init(c->rbuf, sizeof c->rbuf);
}

static int on_msg_complete(http_parser *p) {
    conn_t *c = p->data;
    c->complete = true;
    http_parser_pause(p, 1); /* one response per request: nothing after it is ours */
    return 0;
}

/* The response is complete: hand the connection back (or close it) and report. */
static void conn_done(conn_t *c, bool keep) {
    rd_cbsend_t *s = c->s;
    origin_t *o = c->o;
    req_t *r = c->req;
    int status = (int)c->parser.status_code;
    c->req = NULL;
    if (keep && !s->closing) {
        c->reused = true;
        c->next_idle = o->idle;
        o->idle = c;
    } else {
        conn_close(c);
    }
    req_finish(s, r, status, "");
    dispatch(s, o);
}

/* A transport failure on c; its request is resent once if the peer had closed a reused
 * connection before answering, else failed. */
static void conn_fail(conn_t *c, const char *err) {
    rd_cbsend_t *s = c->s;
    origin_t *o = c->o;
    req_t *r = c->req;
    c->req = NULL;
    bool stale = r && c->reused && !c->got_bytes && !r->resent;
    conn_close(c);
    if (r && stale) {
        r->resent = true;
        r->next = o->qhead;
        o->qhead = r;
        if (!o->qtail) o->qtail = r;
    } else if (r) {
        req_finish(s, r, 0, err);
    }
    dispatch(s, o);
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
    conn_t *c = st->data;
    if (c->closing) return;
    if (n == 0) return;
    if (n < 0) {
        if (c->req && c->got_bytes && n == UV_EOF) {
            /* A response delimited by the close of the connection. */
            http_parser_execute(&c->parser, &c->s->ps, NULL, 0);
            if (c->complete) {
                conn_done(c, false);
                return;
            }
        }
        conn_fail(c, n == UV_EOF ? "connection closed before the response" : uv_strerror((int)n));
        return;
    }
    if (!c->req) { /* bytes nobody asked for */
        conn_close(c);
        return;
    }
    c->got_bytes = true;
    size_t used = http_parser_execute(&c->parser, &c->s->ps, buf->base, (size_t)n);
    if (c->complete) {
        bool keep = http_should_keep_alive(&c->parser) && used == (size_t)n;
        conn_done(c, keep);
        return;
    }
    if (c->parser.http_errno != HPE_OK) conn_fail(c, "malformed HTTP response");
}

static void on_write(uv_write_t *w, int status) {
    conn_t *c = w->data;
    c->writing = false;
    if (c->closing) return;
    if (status < 0 && c->req) conn_fail(c, uv_strerror(status));
}

/* Sends c->req: as much as the socket takes now, the rest through uv_write. */
static void conn_send(conn_t *c) {
    req_t *r = c->req;
    http_parser_init(&c->parser, HTTP_RESPONSE);
    c->parser.data = c;
    c->got_bytes = c->complete = false;
    uv_buf_t b = uv_buf_init(r->buf, (unsigned)r->len);
    int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == (int)r->len) return;
    if (n < 0 && n != UV_EAGAIN) {
        conn_fail(c, uv_strerror(n));
        return;
    }
    if (n > 0) b = uv_buf_init(r->buf + n, (unsigned)(r->len - (size_t)n));
    c->wr.data = c;
    c->writing = true;
    int rc = uv_write(&c->wr, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    if (rc != 0) {
        c->writing = false;
        conn_fail(c, uv_strerror(rc));
    }
}

static void on_connect(uv_connect_t *cr, int status) {
    conn_t *c = cr->data;
    if (c->closing) return;
    if (status < 0) {
        conn_fail(c, uv_strerror(status));
        return;
    }
    c->connected = true;
    uv_tcp_nodelay(&c->tcp, 1);
    int rc = uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    if (rc != 0) {
        conn_fail(c, uv_strerror(rc));
        return;
    }
    if (c->req) conn_send(c);
}

static int origin_resolve(origin_t *o) {
    if (o->resolved) return 0;
    memset(&o->addr, 0, sizeof o->addr);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&o->addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&o->addr;
    if (inet_pton(AF_INET, o->host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)o->port);
    } else if (inet_pton(AF_INET6, o->host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)o->port);
    } else {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        if (getaddrinfo(o->host, NULL, &hints, &res) != 0 || !res) return -1;
        memcpy(&o->addr, res->ai_addr, res->ai_addrlen);
        if (res->ai_family == AF_INET)
            a4->sin_port = htons((uint16_t)o->port);
        else
            a6->sin6_port = htons((uint16_t)o->port);
        freeaddrinfo(res);
    }
    o->resolved = true;
    return 0;
}

/* A new connection to o (counted in o->nconns), connecting; NULL on failure. */
static conn_t *conn_open(rd_cbsend_t *s, origin_t *o) {
    conn_t *c = rd_calloc(1, sizeof *c);
    c->s = s;
    c->o = o;
    if (uv_tcp_init(s->loop, &c->tcp) != 0) {
        rd_free(c);
        return NULL;
    }
    c->tcp.data = c;
    s->open_handles++;
    o->nconns++;
    c->next_all = s->conns;
    if (s->conns) s->conns->prev_all = c;
    s->conns = c;
    c->connect.data = c;
    if (uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr *)&o->addr, on_connect) != 0) {
        conn_close(c);
        return NULL;
    }
    return c;
}

/* Starts waiting requests of o on idle connections, or on new ones within the limit. */
static void dispatch(rd_cbsend_t *s, origin_t *o) {
    while (o->qhead && !s->closing) {
        conn_t *c = o->idle;
        if (c) {
            o->idle = c->next_idle;
            c->next_idle = NULL;
        } else if (o->nconns < (unsigned)s->cfg.max_host_conns) {
            if (origin_resolve(o) != 0) {
                req_t *r = o->qhead;
                o->qhead = r->next;
                if (!o->qhead) o->qtail = NULL;
                req_finish(s, r, 0, "cannot resolve host");
                continue;
            }
            c = conn_open(s, o);
            if (!c) {
                req_t *r = o->qhead;
                o->qhead = r->next;
                if (!o->qhead) o->qtail = NULL;
                req_finish(s, r, 0, "cannot open a connection");
                continue;
            }
        } else {
            return;
        }
        req_t *r = o->qhead;
        o->qhead = r->next;
        if (!o->qhead) o->qtail = NULL;
        r->next = NULL;
        c->req = r;
        if (c->connected) conn_send(c);
    }
}

static void on_sweep(uv_timer_t *t) {
    rd_cbsend_t *s = t->data;
    uint64_t now = uv_now(s->loop);
    for (conn_t *c = s->conns, *n; c; c = n) {
        n = c->next_all;
        if (c->req && c->req->deadline <= now) {
            req_t *r = c->req;
            c->req = NULL;
            origin_t *o = c->o;
            conn_close(c);
            req_finish(s, r, 0, "timeout");
            dispatch(s, o);
            n = s->conns; /* the list may have changed: restart (deadlines only fire once) */
        }
    }
    for (origin_t *o = s->origins; o; o = o->next)
        while (o->qhead && o->qhead->deadline <= now) {
            req_t *r = o->qhead;
            o->qhead = r->next;
            if (!o->qhead) o->qtail = NULL;
            req_finish(s, r, 0, "timeout");
        }
    if (s->native_inflight == 0 && s->sweeping) {
        uv_timer_stop(&s->sweep);
        s->sweeping = false;
    }
}

/* Splits http://authority/path. Returns 0 and sets *path, or -1. */
static int parse_http_url(const char *url, char *authority, size_t alen, char *host, size_t hlen,
                          int *port, const char **path) {
    if (strncmp(url, "http://", 7) != 0) return -1;
    const char *a = url + 7;
    size_t al = strcspn(a, "/?#");
    if (al == 0 || al >= alen) return -1;
    memcpy(authority, a, al);
    authority[al] = '\0';
    if (a[al] != '/' && a[al] != '\0') return -1;
    *path = a[al] == '/' ? a + al : "/";
    if (strchr(authority, '@')) return -1; /* no userinfo */
    const char *hs = authority, *he, *colon;
    if (*hs == '[') {
        he = strchr(hs, ']');
        if (!he) return -1;
        hs++;
        colon = he[1] == ':' ? he + 1 : NULL;
        if (he[1] && !colon) return -1;
    } else {
        colon = strchr(hs, ':');
        he = colon ? colon : hs + al;
    }
    size_t hl = (size_t)(he - hs);
    if (hl == 0 || hl >= hlen) return -1;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    *port = 80;
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || p < 1 || p > 65535) return -1;
        *port = (int)p;
    }
    return 0;
}

static origin_t *origin_get(rd_cbsend_t *s, const char *authority, const char *host, int port) {
    origin_t **pp = &s->origins;
    for (origin_t *o = s->origins; o; pp = &o->next, o = o->next)
        if (!strcmp(o->authority, authority)) {
            if (o != s->origins) { /* most recently used first */
                *pp = o->next;
                o->next = s->origins;
                s->origins = o;
            }
            return o;
        }
    origin_t *o = rd_calloc(1, sizeof *o);
    snprintf(o->authority, sizeof o->authority, "%s", authority);
    snprintf(o->host, sizeof o->host, "%s", host);
    o->port = port;
    o->next = s->origins;
    s->origins = o;
    return o;
}

static bool has_crlf(const char *v) { return v && v[strcspn(v, "\r\n")] != '\0'; }

static void put(req_t *r, const char *p, size_t n) {
    memcpy(r->buf + r->len, p, n);
    r->len += n;
}
#define PUTS(r, lit) put((r), (lit), sizeof(lit) - 1)

static int native_post(rd_cbsend_t *s, const char *url, const char *content_type,
                       const char *extra_header, const char *body, size_t len,
                       rd_cbsend_done_fn done, void *ctx) {
    char authority[264], host[256];
    int port;
    const char *path;
    if (parse_http_url(url, authority, sizeof authority, host, sizeof host, &port, &path) != 0)
        return RD_EINVAL;
    const char *ct = content_type ? content_type : "application/x-www-form-urlencoded";
    if (has_crlf(ct) || has_crlf(extra_header) || has_crlf(path) || strchr(path, ' '))
        return RD_EINVAL;
    origin_t *o = origin_get(s, authority, host, port);
    req_t *r = s->req_free;
    if (r)
        s->req_free = r->next;
    else
        r = rd_calloc(1, sizeof *r);
    size_t pl = strcspn(path, "#"), ctl = strlen(ct), el = extra_header ? strlen(extra_header) : 0;
    size_t need = 64 + pl + strlen(authority) + ctl + el + 24 + len;
    if (need > r->cap) {
        rd_free(r->buf);
        r->cap = need > 1024 ? need : 1024;
        r->buf = rd_malloc(r->cap);
    }
    r->len = 0;
    PUTS(r, "POST ");
    put(r, path, pl);
    PUTS(r, " HTTP/1.1\r\nHost: ");
    put(r, authority, strlen(authority));
    PUTS(r, "\r\nUser-Agent: redial-sim\r\nContent-Type: ");
    put(r, ct, ctl);
    if (el) {
        PUTS(r, "\r\n");
        put(r, extra_header, el);
    }
    PUTS(r, "\r\nContent-Length: ");
    char num[24];
    size_t nl = 0, v = len;
    do {
        num[sizeof num - 1 - nl++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(r, num + sizeof num - nl, nl);
    PUTS(r, "\r\n\r\n");
    put(r, body, len);
    r->o = o;
    r->done = done;
    r->ctx = ctx;
    r->resent = false;
    r->next = NULL;
    r->deadline = uv_now(s->loop) + (uint64_t)s->cfg.timeout_ms;
    if (o->qtail)
        o->qtail->next = r;
    else
        o->qhead = r;
    o->qtail = r;
    s->inflight++;
    s->native_inflight++;
    if (!s->sweeping) {
        uv_timer_start(&s->sweep, on_sweep, SWEEP_MS, SWEEP_MS);
        s->sweeping = true;
    }
    dispatch(s, o);
    return 0;
}

/* ---- libcurl transport (non-http schemes) -------------------------------- */

static size_t discard(char *p, size_t sz, size_t n, void *u) {
    (void)p;
    (void)u;
    return sz * n;
}

static void unlink_active(rd_cbsend_t *s, xfer_t *x) {
    if (x->prev)
        x->prev->next = x->next;
    else
        s->active = x->next;
    if (x->next) x->next->prev = x->prev;
    x->prev = x->next = NULL;
}

static void xfer_release(rd_cbsend_t *s, xfer_t *x) {
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    x->done = NULL;
    x->ctx = NULL;
    x->next = s->free_list;
    s->free_list = x;
}

static void check_done(rd_cbsend_t *s) {
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(s->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE) continue;
        CURL *e = m->easy_handle;
        CURLcode res = m->data.result;
        xfer_t *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        long code = 0;
        if (res == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
        curl_multi_remove_handle(s->multi, e);
        unlink_active(s, x);
        s->inflight--;
        rd_cbsend_done_fn done = x->done;
        void *ctx = x->ctx;
        char err[CURL_ERROR_SIZE];
        snprintf(err, sizeof err, "%s",
                 res == CURLE_OK ? "" : (x->err[0] ? x->err : curl_easy_strerror(res)));
        xfer_release(s, x);
        done(ctx, (int)code, err);
    }
}

static void on_poll(uv_poll_t *p, int status, int events) {
    pollctx_t *pc = p->data;
    rd_cbsend_t *s = pc->s;
    int flags = 0;
    if (status < 0) flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    int running;
    curl_multi_socket_action(s->multi, pc->fd, flags, &running);
    check_done(s);
}

static void on_timeout(uv_timer_t *t) {
    rd_cbsend_t *s = t->data;
    int running;
    curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(s);
}

static int socket_cb(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    (void)e;
    rd_cbsend_t *s = userp;
    pollctx_t *pc = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (pc) {
            uv_poll_stop(&pc->poll);
            uv_close((uv_handle_t *)&pc->poll, on_handle_closed);
            curl_multi_assign(s->multi, fd, NULL);
        }
        return 0;
    }
    if (!pc) {
        pc = rd_calloc(1, sizeof *pc);
        pc->fd = fd;
        pc->s = s;
        if (uv_poll_init_socket(s->loop, &pc->poll, fd) != 0) {
            rd_free(pc);
            return -1;
        }
        pc->poll.data = pc;
        s->open_handles++;
        curl_multi_assign(s->multi, fd, pc);
    }
    int ev = 0;
    if (what & CURL_POLL_IN) ev |= UV_READABLE;
    if (what & CURL_POLL_OUT) ev |= UV_WRITABLE;
    uv_poll_start(&pc->poll, ev, on_poll);
    return 0;
}

static int timer_cb(CURLM *m, long timeout_ms, void *userp) {
    (void)m;
    rd_cbsend_t *s = userp;
    if (s->closing) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&s->timer);
    else
        uv_timer_start(&s->timer, on_timeout, timeout_ms == 0 ? 0 : (uint64_t)timeout_ms, 0);
    return 0;
}

static void curl_start(rd_cbsend_t *s) {
    s->multi = curl_multi_init();
    rd_assert(s->multi);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, s->cfg.max_host_conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, s->cfg.max_host_conns * 4);
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    uv_timer_init(s->loop, &s->timer);
    s->timer.data = s;
    s->open_handles++;
}

static int curl_post(rd_cbsend_t *s, const char *url, const char *content_type,
                     const char *extra_header, const char *body, size_t len, rd_cbsend_done_fn done,
                     void *ctx) {
    if (!s->multi) curl_start(s);
    xfer_t *x = s->free_list;
    if (x) {
        s->free_list = x->next;
        curl_easy_reset(x->easy);
    } else {
        x = rd_calloc(1, sizeof *x);
        x->easy = curl_easy_init();
        rd_assert(x->easy);
    }
    if (len + 1 > x->cap) {
        rd_free(x->body);
        x->cap = len + 1 > 512 ? len + 1 : 512;
        x->body = rd_malloc(x->cap);
    }
    memcpy(x->body, body, len);
    x->body[len] = '\0';
    x->done = done;
    x->ctx = ctx;
    x->err[0] = '\0';
    char ct[256];
    snprintf(ct, sizeof ct, "Content-Type: %s",
             content_type ? content_type : "application/x-www-form-urlencoded");
    x->hdrs = curl_slist_append(NULL, ct);
    x->hdrs = curl_slist_append(x->hdrs, "Expect:");
    if (extra_header) x->hdrs = curl_slist_append(x->hdrs, extra_header);
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)len);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->err);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, s->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, s->cfg.timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
        xfer_release(s, x);
        return RD_EINVAL;
    }
    x->prev = NULL;
    x->next = s->active;
    if (s->active) s->active->prev = x;
    s->active = x;
    s->inflight++;
    return 0;
}

static void curl_stop(rd_cbsend_t *s) {
    if (!s->multi) return;
    while (s->active) {
        xfer_t *x = s->active;
        curl_multi_remove_handle(s->multi, x->easy);
        unlink_active(s, x);
        s->inflight--;
        rd_cbsend_done_fn done = x->done;
        void *ctx = x->ctx;
        xfer_release(s, x);
        done(ctx, -1, "closed");
    }
    curl_multi_cleanup(s->multi);
    s->multi = NULL;
    while (s->free_list) {
        xfer_t *x = s->free_list;
        s->free_list = x->next;
        curl_easy_cleanup(x->easy);
        rd_free(x->body);
        rd_free(x);
    }
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, on_handle_closed);
}

/* ---- API ------------------------------------------------------------------ */

rd_cbsend_t *rd_cbsend_create(uv_loop_t *loop, const rd_cbsend_config_t *cfg) {
    rd_cbsend_t *s = rd_calloc(1, sizeof *s);
    s->loop = loop;
    s->cfg.timeout_ms = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    s->cfg.max_host_conns = cfg && cfg->max_host_conns > 0 ? cfg->max_host_conns : 64;
    s->ps.on_message_complete = on_msg_complete;
    uv_timer_init(loop, &s->sweep);
    s->sweep.data = s;
    s->open_handles = 1;
    return s;
}

int rd_cbsend_post(rd_cbsend_t *s, const char *url, const char *content_type,
                   const char *extra_header, const char *body, size_t len, rd_cbsend_done_fn done,
                   void *ctx) {
    if (s->closing) return RD_EINVAL;
    if (!strncmp(url, "http://", 7))
        return native_post(s, url, content_type, extra_header, body, len, done, ctx);
    return curl_post(s, url, content_type, extra_header, body, len, done, ctx);
}

size_t rd_cbsend_inflight(const rd_cbsend_t *s) { return s->inflight; }

void rd_cbsend_close(rd_cbsend_t *s, void (*cb)(void *data), void *data) {
    rd_assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    /* Abort what is in flight: on connections, then waiting. */
    while (s->conns) {
        conn_t *c = s->conns;
        req_t *r = c->req;
        c->req = NULL;
        conn_close(c);
        if (r) req_finish(s, r, -1, "closed");
    }
    for (origin_t *o = s->origins; o; o = o->next) {
        o->idle = NULL;
        while (o->qhead) {
            req_t *r = o->qhead;
            o->qhead = r->next;
            req_finish(s, r, -1, "closed");
        }
        o->qtail = NULL;
    }
    curl_stop(s);
    uv_timer_stop(&s->sweep);
    uv_close((uv_handle_t *)&s->sweep, on_handle_closed);
}
