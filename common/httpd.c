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
 */
#include "common/httpd.h"

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

#define RD_HTTP_DEF_MAX_HEADER 16384
#define RD_HTTP_DEF_MAX_BODY (1024 * 1024)
#define RD_HTTP_DEF_MAX_HEADERS 64
#define RD_HTTPD_RBUF 65536
#define RD_HTTPD_POOL_MAX 256
#define RD_HTTPD_MAX_CONNS 16384

/* ------------------------------------------------------------------ */
/* Parsing layer                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t name_off, name_len, val_off, val_len;
} rd_hoff_t;

struct rd_http_parser {
    http_parser hp;
    rd_http_limits_t lim;
    char *arena;
    size_t alen, acap;
    rd_hoff_t *hoff;
    rd_http_header_t *hdrs;
    unsigned nh, hcap;
    int last; /* 0 url, 1 field, 2 value */
    size_t url_off, url_len;
    size_t body_off, body_len;
    size_t header_bytes;
    bool busy, in_body, dead;
    bool expect_continue; /* headers asked "Expect: 100-continue", body not yet read */
    int err_status;
    rd_http_req_t req;
};

static int arena_reserve(rd_http_parser_t *p, size_t more) {
    if (p->alen + more + 1 <= p->acap) return 0;
    size_t cap = p->acap ? p->acap : 1024;
    while (cap < p->alen + more + 1) cap *= 2;
    char *n = rd_try_malloc(cap);
    if (!n) return RD_ENOMEM;
    if (p->alen) memcpy(n, p->arena, p->alen);
    rd_free(p->arena);
    p->arena = n;
    p->acap = cap;
    return 0;
}

static int arena_put(rd_http_parser_t *p, const char *s, size_t n) {
    if (arena_reserve(p, n) != 0) return -1;
    memcpy(p->arena + p->alen, s, n);
    p->alen += n;
    return 0;
}

static int fail(rd_http_parser_t *p, int status) {
    if (!p->err_status) p->err_status = status;
    return -1;
}

static int on_message_begin(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    p->alen = 0;
    p->nh = 0;
    p->last = 0;
    p->url_off = 0;
    p->url_len = 0;
    p->body_off = 0;
    p->body_len = 0;
    p->header_bytes = 0;
    p->busy = true;
    p->in_body = false;
    p->expect_continue = false;
    return 0;
}

static int count_header(rd_http_parser_t *p, size_t n) {
    p->header_bytes += n;
    if (p->header_bytes > p->lim.max_header_bytes) return fail(p, 431);
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (count_header(p, n) != 0) return -1;
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->url_len += n;
    return 0;
}

/* Terminates the piece in progress before a new one starts. */
static int close_piece(rd_http_parser_t *p) {
    if (arena_put(p, "", 1) != 0) return fail(p, 503);
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    /* http-parser (lenient) lets "Content-Length : 5" through; RFC 9112 5.1 says reject. */
    if (memchr(at, ' ', n) || memchr(at, '\t', n)) return fail(p, 400);
    /* 4 = ": " and CRLF, counted once per field so framing cannot matter. */
    if (count_header(p, p->last != 1 ? n + 4 : n) != 0) return -1;
    if (p->last != 1) {
        if (close_piece(p) != 0) return -1;
        if (p->nh >= p->lim.max_headers) return fail(p, 431);
        if (p->nh == p->hcap) {
            unsigned cap = p->hcap ? p->hcap * 2 : 16;
            if (cap > p->lim.max_headers) cap = p->lim.max_headers;
            rd_hoff_t *h = rd_try_malloc(cap * sizeof *h);
            rd_http_header_t *hh = rd_try_malloc(cap * sizeof *hh);
            if (!h || !hh) {
                rd_free(h);
                rd_free(hh);
                return fail(p, 503);
            }
            if (p->nh) memcpy(h, p->hoff, p->nh * sizeof *h);
            rd_free(p->hoff);
            rd_free(p->hdrs);
            p->hoff = h;
            p->hdrs = hh;
            p->hcap = cap;
        }
        rd_hoff_t *h = &p->hoff[p->nh++];
        h->name_off = p->alen;
        h->name_len = 0;
        h->val_off = 0;
        h->val_len = 0;
        p->last = 1;
    }
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->hoff[p->nh - 1].name_len += n;
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (count_header(p, n) != 0) return -1;
    rd_hoff_t *h = &p->hoff[p->nh - 1];
    if (p->last != 2) {
        if (close_piece(p) != 0) return -1;
        h->val_off = p->alen;
        p->last = 2;
    }
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    h->val_len += n;
    return 0;
}

static int on_headers_complete(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    if (p->nh > 0 && p->last == 1) {
        /* A field with no value callback: empty value. */
        if (close_piece(p) != 0) return -1;
        p->hoff[p->nh - 1].val_off = p->alen;
    }
    if (close_piece(p) != 0) return -1;
    if (hp->upgrade) return fail(p, 501);
    if (hp->content_length != ULLONG_MAX && hp->content_length > p->lim.max_body_bytes)
        return fail(p, 413);
    p->in_body = true;
    for (unsigned i = 0; i < p->nh; i++) {
        const rd_hoff_t *h = &p->hoff[i];
        if (h->name_len == 6 && strncasecmp(p->arena + h->name_off, "Expect", 6) == 0 &&
            h->val_len == 12 && strncasecmp(p->arena + h->val_off, "100-continue", 12) == 0 &&
            hp->content_length != ULLONG_MAX && hp->content_length > 0)
            p->expect_continue = true;
    }
    p->body_off = p->alen;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (p->body_len + n > p->lim.max_body_bytes) return fail(p, 413);
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    if (!p->in_body) return fail(p, 400);
    if (close_piece(p) != 0) return -1;
    p->expect_continue = false;
    /* Path and query: a second copy of the target split at '?'. */
    const char *url = p->arena + p->url_off;
    size_t ulen = p->url_len;
    const char *ps = url, *end = url + ulen;
    if (ulen > 0 && url[0] != '/') {
        /* absolute-form "http://host/path?q": skip scheme and authority. */
        const char *s = memchr(url, ':', ulen);
        if (s && s + 2 < end && s[1] == '/' && s[2] == '/') {
            const char *slash = memchr(s + 3, '/', (size_t)(end - (s + 3)));
            const char *q = memchr(s + 3, '?', (size_t)(end - (s + 3)));
            if (!slash || (q && q < slash)) slash = q;
            ps = slash ? slash : end;
        }
    }
    const char *qm = memchr(ps, '?', (size_t)(end - ps));
    size_t plen = qm ? (size_t)(qm - ps) : (size_t)(end - ps);
    size_t qlen = qm ? (size_t)(end - qm - 1) : 0;
    size_t ps_off = (size_t)(ps - p->arena);
    if (arena_reserve(p, plen + qlen + 2) != 0) return fail(p, 503);
    /* arena may have moved: recompute from offsets */
    size_t path_off = p->alen;
    memcpy(p->arena + p->alen, p->arena + ps_off, plen);
    p->alen += plen;
    p->arena[p->alen++] = '\0';
    size_t query_off = p->alen;
    if (qlen) memcpy(p->arena + p->alen, p->arena + ps_off + plen + 1, qlen);
    p->alen += qlen;
    p->arena[p->alen++] = '\0';

    for (unsigned i = 0; i < p->nh; i++) {
        p->hdrs[i].name = p->arena + p->hoff[i].name_off;
        p->hdrs[i].name_len = p->hoff[i].name_len;
        p->hdrs[i].value = p->arena + p->hoff[i].val_off;
        p->hdrs[i].value_len = p->hoff[i].val_len;
    }
    rd_http_req_t *r = &p->req;
    memset(r, 0, sizeof *r);
    r->method_id = hp->method;
    r->method = http_method_str((enum http_method)hp->method);
    r->url = p->arena + p->url_off;
    r->path = p->arena + path_off;
    r->path_len = plen;
    r->query = p->arena + query_off;
    r->query_len = qlen;
    r->headers = p->hdrs;
    r->n_headers = p->nh;
    r->body = p->arena + p->body_off;
    r->body_len = p->body_len;
    r->http_major = hp->http_major;
    r->http_minor = hp->http_minor;
    r->keep_alive = http_should_keep_alive(hp) != 0;
    p->busy = false;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings rd__settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

static void limits_fill(rd_http_limits_t *l, const rd_http_limits_t *in) {
    l->max_header_bytes =
        in && in->max_header_bytes ? in->max_header_bytes : RD_HTTP_DEF_MAX_HEADER;
    l->max_body_bytes = in && in->max_body_bytes ? in->max_body_bytes : RD_HTTP_DEF_MAX_BODY;
    l->max_headers = in && in->max_headers ? in->max_headers : RD_HTTP_DEF_MAX_HEADERS;
}

rd_http_parser_t *rd_http_parser_create(const rd_http_limits_t *limits) {
    rd_http_parser_t *p = rd_calloc(1, sizeof *p);
    limits_fill(&p->lim, limits);
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    return p;
}

void rd_http_parser_destroy(rd_http_parser_t *p) {
    if (!p) return;
    rd_free(p->arena);
    rd_free(p->hoff);
    rd_free(p->hdrs);
    rd_free(p);
}

static void parser_reset(rd_http_parser_t *p) {
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->busy = p->in_body = p->dead = false;
    p->err_status = 0;
}

bool rd_http_parser_busy(const rd_http_parser_t *p) { return p->busy; }

bool rd_http_parser_take_continue(rd_http_parser_t *p) {
    bool c = p->expect_continue && p->in_body && !p->dead;
    p->expect_continue = false;
    return c;
}

long rd_http_parser_feed(rd_http_parser_t *p, const char *data, size_t len, rd_http_req_t **req,
                         int *status) {
    *req = NULL;
    *status = 0;
    if (p->dead) {
        *status = p->err_status ? p->err_status : 400;
        return -1;
    }
    if (len == 0) return 0;
    size_t n = http_parser_execute(&p->hp, &rd__settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (e == HPE_PAUSED) {
        http_parser_pause(&p->hp, 0);
        *req = &p->req;
        return (long)n;
    }
    if (e != HPE_OK || n != len) {
        p->dead = true;
        if (!p->err_status) p->err_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
        *status = p->err_status;
        return -1;
    }
    return (long)n;
}

/* ------------------------------------------------------------------ */
/* Server and connections                                              */
/* ------------------------------------------------------------------ */

/* Per-address key: family tag (0 = empty slot) + IPv4, or the IPv6 /64. */
#define RD_HTTPD_AKEY 17

struct rd_httpd__conn {
    uv_tcp_t tcp;
    rd_httpd_t *srv;
    const rd_httpd__io_t *io;
    void *io_data;
    rd_http_parser_t *p;
    char *in;
    size_t in_off, in_len, in_cap;
    rd_http_req_t *held;
    uint64_t last_active, req_start, wprog;
    size_t queued; /* reply bytes in queued writes */
    unsigned writes;
    uint8_t akey[RD_HTTPD_AKEY];
    bool closing, handle_closed, dispatching, close_after_write, reading;
    bool eof;      /* the client finished sending: answer what came, then close */
    bool wblocked; /* queued replies over the bound: not reading, not parsing */
    struct rd_httpd__conn *prev, *next;
};
typedef struct rd_httpd__conn conn_t;

struct rd_httpd__wreq {
    uv_write_t w;
    conn_t *c;
    size_t len;
    char data[];
};
typedef struct rd_httpd__wreq wreq_t;

typedef struct {
    uint8_t key[RD_HTTPD_AKEY];
    unsigned n;
} addr_slot_t;

struct rd_httpd {
    uv_loop_t *loop;
    uv_poll_t lpoll;    /* the listening socket */
    uv_timer_t sweep;   /* timeouts */
    uv_timer_t backoff; /* accept paused after EMFILE/ENFILE */
    int lfd;
    unsigned open_handles;
    unsigned backoff_ms;
    rd_httpd_config_t cfg;
    char *host;
    int port;
    char *rbuf;
    char *obuf;
    size_t ocap;
    conn_t *conns; /* live list */
    conn_t *pool;  /* free list (singly linked via next) */
    unsigned npool;
    unsigned nconns;   /* allocated, incl. husks */
    addr_slot_t *atab; /* open addressing, linear probing, no tombstones */
    size_t amask;
    uint64_t aseed;
    uint64_t (*clock)(void *);
    void *clock_data;
    bool closing;
    void (*close_cb)(void *);
    void *close_data;
    rd_httpd_stats_t st;
};

static void conn_parse(conn_t *c, const char *data, size_t len, bool from_in);
static void conn_close(conn_t *c);
static void conn_resume(conn_t *c);
static void srv_maybe_finish(rd_httpd_t *s);

static uint64_t srv_now(const rd_httpd_t *s) {
    return s->clock ? s->clock(s->clock_data) : uv_now(s->loop);
}

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

static void addr_release(rd_httpd_t *s, const uint8_t *key) {
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

/* ---- connection lifetime ---- */

static void conn_free(conn_t *c) {
    rd_httpd_t *s = c->srv;
    s->nconns--;
    s->st.live_conns = s->nconns;
    if (s->npool < RD_HTTPD_POOL_MAX && !s->closing) {
        c->next = s->pool;
        s->pool = c;
        s->npool++;
    } else {
        rd_http_parser_destroy(c->p);
        rd_free(c->in);
        rd_free(c);
    }
    srv_maybe_finish(s);
}

void rd_httpd__conn_closed(conn_t *c) {
    rd_httpd_t *s = c->srv;
    c->handle_closed = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        s->conns = c->next;
    if (c->next) c->next->prev = c->prev;
    c->prev = c->next = NULL;
    addr_release(s, c->akey);
    if (!c->held) conn_free(c);
}

static void conn_close(conn_t *c) {
    if (c->closing) return;
    c->closing = true;
    if (c->reading) c->io->read_stop(c);
    c->reading = false;
    c->io->close(c);
}

static size_t readahead_cap(const rd_httpd_t *s) {
    return s->cfg.limits.max_header_bytes + s->cfg.limits.max_body_bytes;
}

/*
 * Reads exactly while nothing stops it: closing, close-after-write, EOF,
 * queued replies over the bound, or a held request's read-ahead at its cap.
 */
static void conn_flow(conn_t *c) {
    bool want = !c->closing && !c->close_after_write && !c->eof && !c->wblocked &&
                !(c->held && c->in_len > readahead_cap(c->srv));
    if (want && !c->reading) {
        if (c->io->read_start(c) != 0) {
            conn_close(c);
            return;
        }
        c->reading = true;
    } else if (!want && c->reading) {
        c->io->read_stop(c);
        c->reading = false;
    }
}

/*
 * After EOF: once no request is held and nothing buffered can still be
 * answered (a partial request never completes), close when the replies are
 * out.
 */
static void conn_check_eof(conn_t *c) {
    if (!c->eof || c->closing || c->held || c->wblocked) return;
    if (c->writes == 0)
        conn_close(c);
    else
        c->close_after_write = true;
}

static void queued_update(conn_t *c) {
    size_t max = c->srv->cfg.max_queued_bytes;
    if (c->queued > max)
        c->wblocked = true;
    else if (c->queued <= max / 2)
        c->wblocked = false;
}

void rd_httpd__write_done(wreq_t *wr, int status) {
    conn_t *c = wr->c;
    c->queued -= wr->len;
    c->srv->st.queued_bytes -= wr->len;
    c->writes--;
    c->wprog = srv_now(c->srv);
    rd_free(wr);
    if (status < 0) {
        conn_close(c);
        return;
    }
    if (c->close_after_write) {
        if (c->writes == 0) conn_close(c);
        return;
    }
    bool was = c->wblocked;
    queued_update(c);
    if (was && !c->wblocked) conn_resume(c);
}

/* Queues bytes in order; copies only what the transport did not take. */
static void conn_write(conn_t *c, const char *a, size_t alen, const char *b, size_t blen) {
    if (c->closing) return;
    uv_buf_t bufs[2] = {uv_buf_init((char *)a, (unsigned)alen),
                        uv_buf_init((char *)b, (unsigned)blen)};
    size_t total = alen + blen, done = 0;
    /* libuv refuses try_write while writes are queued: order is kept either way. */
    int r = c->writes ? UV_EAGAIN : c->io->try_write(c, bufs, blen ? 2 : 1);
    if (r >= 0)
        done = (size_t)r;
    else if (r != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (done >= total) return;
    size_t rest = total - done;
    wreq_t *wr = rd_try_malloc(sizeof *wr + rest);
    if (!wr) {
        conn_close(c);
        return;
    }
    wr->c = c;
    wr->len = rest;
    if (done < alen) {
        memcpy(wr->data, a + done, alen - done);
        if (blen) memcpy(wr->data + (alen - done), b, blen);
    } else {
        memcpy(wr->data, b + (done - alen), rest);
    }
    uv_buf_t ub = uv_buf_init(wr->data, (unsigned)rest);
    if (c->writes == 0) c->wprog = srv_now(c->srv);
    if (c->io->write(c, wr, &ub) != 0) {
        rd_free(wr);
        conn_close(c);
        return;
    }
    c->writes++;
    c->queued += rest;
    c->srv->st.queued_bytes += rest;
    if (c->srv->st.queued_bytes > c->srv->st.queued_peak)
        c->srv->st.queued_peak = c->srv->st.queued_bytes;
    queued_update(c);
    if (c->wblocked) conn_flow(c);
}

rd_httpd__conn_t *rd_httpd__wreq_conn(const wreq_t *w) { return w->c; }

void *rd_httpd__conn_io_data(const conn_t *c) { return c->io_data; }

const char *rd_http_status_text(int status) {
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 202:
        return "Accepted";
    case 204:
        return "No Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 415:
        return "Unsupported Media Type";
    case 422:
        return "Unprocessable Entity";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

/*
 * Writes one reply. `head`: a HEAD request's reply announces the body's
 * length but carries no body. `close`: the connection closes once written.
 */
static void conn_send(conn_t *c, int status, const char *ctype, const char *extra, const void *body,
                      size_t blen, bool close, bool head) {
    rd_httpd_t *s = c->srv;
    size_t xlen = extra ? strlen(extra) : 0;
    size_t need = 256 + xlen + (ctype ? strlen(ctype) : 0);
    if (need > s->ocap) {
        rd_free(s->obuf);
        s->obuf = rd_malloc(need);
        s->ocap = need;
    }
    int n = snprintf(s->obuf, s->ocap, "HTTP/1.1 %d %s\r\n%s%s%sContent-Length: %zu\r\n%s", status,
                     rd_http_status_text(status), ctype ? "Content-Type: " : "", ctype ? ctype : "",
                     ctype ? "\r\n" : "", blen, close ? "Connection: close\r\n" : "");
    rd_assert(n > 0 && (size_t)n + xlen + 3 <= s->ocap);
    size_t hl = (size_t)n;
    if (xlen) memcpy(s->obuf + hl, extra, xlen);
    hl += xlen;
    memcpy(s->obuf + hl, "\r\n", 2);
    hl += 2;
    conn_write(c, s->obuf, hl, body, head ? 0 : blen);
    if (close && !c->closing) {
        c->close_after_write = true;
        conn_flow(c);
        if (c->writes == 0) conn_close(c);
    }
}

static void conn_error(conn_t *c, int status) {
    char body[128];
    const char *msg = status == 413   ? "request body too large"
                      : status == 431 ? "request header fields too large"
                      : status == 408 ? "request timeout"
                      : status == 501 ? "not implemented"
                      : status == 503 ? "out of memory"
                                      : "bad request";
    int n = snprintf(body, sizeof body, "{\"error\":\"%s\"}", msg);
    if (status == 413 || status == 431)
        c->srv->st.too_large++;
    else
        c->srv->st.bad_requests++;
    conn_send(c, status, "application/json", NULL, body, (size_t)n, true, false);
}

static void conn_dispatch(conn_t *c, rd_http_req_t *req) {
    rd_httpd_t *s = c->srv;
    req->rd__conn = c;
    req->user = NULL;
    c->held = req;
    c->req_start = 0;
    s->st.held_requests++;
    s->st.requests++;
    c->dispatching = true;
    s->cfg.handler(req, s->cfg.data);
    c->dispatching = false;
}

/*
 * Parses what is buffered (from_in: data lies in c->in) until a request is
 * held or the queued replies reach the bound; keeps the rest in c->in.
 */
static void conn_parse(conn_t *c, const char *data, size_t len, bool from_in) {
    while (len > 0 && !c->closing && !c->close_after_write && !c->held && !c->wblocked) {
        rd_http_req_t *req;
        int st;
        long n = rd_http_parser_feed(c->p, data, len, &req, &st);
        if (n < 0) {
            conn_error(c, st);
            len = 0;
            break;
        }
        data += n;
        len -= (size_t)n;
        if (req) conn_dispatch(c, req);
    }
    if (c->closing || c->close_after_write) {
        c->in_off = c->in_len = 0;
        return;
    }
    if (rd_http_parser_busy(c->p) && c->req_start == 0) c->req_start = srv_now(c->srv);
    /* The client waits for this before it sends the body (curl does above 1 KiB). */
    if (rd_http_parser_take_continue(c->p)) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        conn_write(c, cont, sizeof cont - 1, NULL, 0);
    }
    if (from_in) {
        c->in_off = len ? (size_t)(data - c->in) : 0;
        c->in_len = len;
    } else if (len > 0) {
        if (c->in_cap < len) {
            char *n = rd_try_malloc(len);
            if (!n) {
                conn_close(c);
                return;
            }
            rd_free(c->in);
            c->in = n;
            c->in_cap = len;
        }
        memcpy(c->in, data, len);
        c->in_off = 0;
        c->in_len = len;
    }
}

/* Parses what was held back (a request answered, replies drained), then reads on. */
static void conn_resume(conn_t *c) {
    if (c->closing) return;
    if (!c->held && !c->wblocked && c->in_len) conn_parse(c, c->in + c->in_off, c->in_len, true);
    if (c->closing) return;
    conn_flow(c);
    conn_check_eof(c);
}

void rd_httpd__conn_input(conn_t *c, ssize_t nread, const char *data) {
    if (nread == UV_EOF) {
        /* A half-close: the client may still read the replies to what it sent. */
        c->eof = true;
        conn_flow(c);
        if (!c->held && !c->wblocked) c->in_off = c->in_len = 0; /* a partial request */
        conn_check_eof(c);
        return;
    }
    if (nread < 0) {
        conn_close(c);
        return;
    }
    if (nread == 0 || c->closing || c->close_after_write || c->eof) return;
    c->last_active = srv_now(c->srv);
    size_t n = (size_t)nread;
    if (c->in_len == 0 && !c->held && !c->wblocked) {
        conn_parse(c, data, n, false);
        conn_flow(c);
        return;
    }
    /* Append to the leftover. */
    if (c->in_off > 0) {
        memmove(c->in, c->in + c->in_off, c->in_len);
        c->in_off = 0;
    }
    if (c->in_len + n > c->in_cap) {
        size_t cap = c->in_cap ? c->in_cap : 4096;
        while (cap < c->in_len + n) cap *= 2;
        char *nb = rd_try_malloc(cap);
        if (!nb) {
            conn_close(c);
            return;
        }
        if (c->in_len) memcpy(nb, c->in, c->in_len);
        rd_free(c->in);
        c->in = nb;
        c->in_cap = cap;
    }
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    if (!c->held && !c->wblocked) conn_parse(c, c->in, c->in_len, true);
    conn_flow(c);
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
        parser_reset(p);
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
    c->last_active = srv_now(s);
    return c;
}

void rd_httpd__conn_start(conn_t *c) { conn_flow(c); }

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
            conn_close(c);
            continue;
        }
        uv_tcp_nodelay(&c->tcp, 1);
        rd_httpd__conn_start(c);
    }
}

/* ---- timeouts ---- */

void rd_httpd__sweep(rd_httpd_t *s) {
    uint64_t now = srv_now(s);
    conn_t *next;
    for (conn_t *c = s->conns; c; c = next) {
        next = c->next;
        if (c->closing) continue;
        /* Replies the client does not take: close, whatever else is going on. */
        if (c->writes && now - c->wprog > s->cfg.write_timeout_ms) {
            s->st.timeouts++;
            conn_close(c);
            continue;
        }
        if (c->held || c->close_after_write || c->wblocked) continue;
        if (c->req_start && now - c->req_start > s->cfg.request_timeout_ms) {
            s->st.timeouts++;
            conn_error(c, 408);
        } else if (!c->req_start && c->in_len == 0 &&
                   now - c->last_active > s->cfg.idle_timeout_ms) {
            conn_close(c);
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
    limits_fill(&s->cfg.limits, &cfg->limits);
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

static void srv_maybe_finish(rd_httpd_t *s) {
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
    srv_maybe_finish(s);
}

void rd_httpd_close(rd_httpd_t *s, void (*cb)(void *data), void *data) {
    rd_assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    uv_close((uv_handle_t *)&s->lpoll, on_srv_handle_closed);
    uv_close((uv_handle_t *)&s->sweep, on_srv_handle_closed);
    uv_close((uv_handle_t *)&s->backoff, on_srv_handle_closed);
    for (conn_t *c = s->conns; c; c = c->next) conn_close(c);
}

/* ------------------------------------------------------------------ */
/* Answering                                                           */
/* ------------------------------------------------------------------ */

int rd_http_respond(rd_http_req_t *req, int status, const char *content_type,
                    const char *extra_headers, const void *body, size_t body_len) {
    conn_t *c = req->rd__conn;
    rd_assert(c && c->held == req);
    rd_httpd_t *s = c->srv;
    c->held = NULL;
    req->rd__conn = NULL;
    s->st.held_requests--;
    if (c->closing) {
        if (c->handle_closed) conn_free(c);
        return 0;
    }
    bool keep = req->keep_alive && !s->closing;
    conn_send(c, status, content_type, extra_headers, body, body_len, !keep,
              req->method_id == HTTP_HEAD);
    if (!keep) return 0;
    c->last_active = srv_now(s);
    if (!c->dispatching) conn_resume(c);
    return 0;
}

int rd_http_respond_json(rd_http_req_t *req, int status, const char *json) {
    return rd_http_respond(req, status, "application/json", NULL, json, strlen(json));
}

int rd_http_respond_error(rd_http_req_t *req, int status, const char *msg) {
    char small[512];
    size_t need = 16 + strlen(msg) * 6;
    char *b = need <= sizeof small ? small : rd_malloc(need);
    size_t n = 0;
    memcpy(b, "{\"error\":\"", 10);
    n = 10;
    for (const unsigned char *m = (const unsigned char *)msg; *m; m++) {
        if (*m == '"' || *m == '\\') {
            b[n++] = '\\';
            b[n++] = (char)*m;
        } else if (*m < 0x20) {
            n += (size_t)sprintf(b + n, "\\u%04x", *m);
        } else {
            b[n++] = (char)*m;
        }
    }
    memcpy(b + n, "\"}", 2);
    n += 2;
    int r = rd_http_respond(req, status, "application/json", NULL, b, n);
    if (b != small) rd_free(b);
    return r;
}

bool rd_http_req_gone(const rd_http_req_t *req) {
    return req->rd__conn == NULL || req->rd__conn->closing || req->rd__conn->eof;
}

rd_httpd_t *rd_http_req_server(const rd_http_req_t *req) {
    return req->rd__conn ? req->rd__conn->srv : NULL;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

const char *rd_http_header(const rd_http_req_t *req, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].name_len == n && strncasecmp(req->headers[i].name, name, n) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t rd_http_b64_encode(char *dst, size_t cap, const void *src, size_t len) {
    const unsigned char *s = src;
    size_t need = (len + 2) / 3 * 4;
    if (need + 1 > cap) return need;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len) v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len) v |= s[i + 2];
        dst[o++] = b64chars[(v >> 18) & 63];
        dst[o++] = b64chars[(v >> 12) & 63];
        dst[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        dst[o++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    dst[o] = '\0';
    return o;
}

static int b64val(int ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

long rd_http_b64_decode(void *dst, size_t cap, const char *src, size_t len) {
    unsigned char *d = dst;
    while (len > 0 && src[len - 1] == '=') len--;
    if (len % 4 == 1) return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)src[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            d[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

int rd_http_basic_auth(const rd_http_req_t *req, char *buf, size_t buflen, const char **user,
                       const char **pass) {
    const char *h = rd_http_header(req, "Authorization");
    if (!h) return RD_EAUTH;
    while (*h == ' ') h++;
    if (strncasecmp(h, "Basic ", 6) != 0) return RD_EAUTH;
    h += 6;
    while (*h == ' ') h++;
    size_t len = strlen(h);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t')) len--;
    if (buflen < 2) return RD_ERANGE;
    if ((len + 3) / 4 * 3 >= buflen + 2) return RD_ERANGE;
    long n = rd_http_b64_decode(buf, buflen - 1, h, len);
    if (n < 0) return RD_EAUTH;
    buf[n] = '\0';
    if (memchr(buf, '\0', (size_t)n)) return RD_EAUTH;
    char *colon = strchr(buf, ':');
    if (!colon) return RD_EAUTH;
    *colon = '\0';
    *user = buf;
    *pass = colon + 1;
    return 0;
}
