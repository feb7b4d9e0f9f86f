/*
 * redis.c — an asynchronous Redis connection that survives Redis.
 *
 * Design. hiredis 0.14 does the protocol and the libuv adapter the I/O; this
 * file adds what a daemon needs around them:
 *
 *   Requests. Every command is a req_t holding a copy of its arguments, kept
 *   in one list in issue order. A req is QUEUED (waiting for a connection),
 *   SENT (handed to hiredis, which holds it as privdata until it calls back)
 *   or DONE (the user callback ran). A SENT req is freed only by hiredis's
 *   callback (with a reply, or with NULL when the context is freed), so a req
 *   failed early by a timeout is never freed under hiredis's feet.
 *
 *   Timeouts. One uv timer is armed at the earliest deadline of the list and
 *   stopped when the list empties (so a short-lived loop can exit). When it
 *   fires, expired QUEUED reqs fail with RD_ETIMEOUT, and an expired SENT req
 *   declares the connection dead: the context is freed, which fails every
 *   SENT req (RD_ETIMEOUT), and a reconnect is scheduled. Redis answers in
 *   order, so one stuck reply means everything behind it is stuck too.
 *
 *   Connection. CONNECTING -> CONNECTED (AUTH and SELECT are written first,
 *   then every queued req, pipelined) -> dropped (read error, timeout, our
 *   own free) -> backoff timer -> CONNECTING. The backoff doubles from
 *   reconnect_min_ms to reconnect_max_ms with +-50% jitter so that many
 *   engines do not reconnect in step. A connect that does not complete in
 *   connect_timeout_ms is dropped the same way.
 *
 *   hiredis facts relied on (0.14.1): a failed connect calls the connect
 *   callback with REDIS_ERR and then frees the context itself, without a
 *   disconnect callback; a context that was connected calls the disconnect
 *   callback after failing every pending callback with a NULL reply; freeing
 *   a context from inside one of its callbacks is deferred until it returns.
 *   The libuv adapter is our own (below): hiredis 0.14's ignores poll errors,
 *   so a refused connect looked like a connect timeout.
 *
 *   Scripts. Registered once with their SHA1; sent as EVALSHA; a NOSCRIPT
 *   error reply (fresh or restarted Redis) resends the same req as EVAL on
 *   the same connection, which also caches the script.
 *
 * Invariants: r->ac is NULL or the one live context; state CONNECTED iff
 * r->ac is connected; every req in the list is QUEUED or SENT.
 */
#include "common/redis.h"

#include <hiredis/async.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "proto/rd.h"

enum { ST_DISCONNECTED = 0, ST_CONNECTING, ST_HANDSHAKE, ST_CONNECTED };
enum { HS_AUTH = 1, HS_SELECT, HS_PING };
enum { REQ_QUEUED = 0, REQ_SENT, REQ_DONE };

typedef struct req {
    struct req *prev, *next;
    rd_redis_t *r;
    rd_redis_cb cb;
    void *arg;
    uint64_t deadline;
    int state;
    int script; /* handle, or -1 */
    int argc;
    const char **argv;
    size_t *argvlen;
} req_t;

typedef struct script {
    char *src;
    size_t len;
    char sha[41];
} script_t;

struct rd_redis {
    uv_loop_t *loop;
    rd_redis_opts_t opts;
    redisAsyncContext *ac;
    int state;
    int drop_err;
    bool closing;
    uv_timer_t timeout_timer;
    uv_timer_t conn_timer; /* connect timeout while CONNECTING, backoff while DISCONNECTED */
    int handles_open;
    void (*close_cb)(void *);
    void *close_arg;
    req_t *head, *tail;
    script_t *scripts;
    int n_scripts;
    uint32_t backoff_ms;
    uint64_t rng;
    uint64_t sent;
    uint64_t connects;
    char where[300];  /* host:port/db or unix:path, for messages */
    char errstr[256]; /* why the link is down ("" = no error yet / connected) */
    char logged[256]; /* the last error logged (one line per distinct error) */
    int link_err;     /* RD_EIO, RD_EAUTH, or 0 */
    bool was_up;      /* a connection completed its handshake before */
};

static void conn_start(rd_redis_t *r);
static void send_req(rd_redis_t *r, req_t *q);

/* ---- helpers -------------------------------------------------------------- */

/* Where the credentials of a URL end: its LAST '@' (parser and redaction agree). */
static const char *url_cred_end(const char *rest) { return strrchr(rest, '@'); }

static int parse_db(const char *s, const char *end, int *db) {
    char *e;
    long v = strtol(s, &e, 10);
    if (e != end || e == s || v < 0 || v > 100000) return RD_EINVAL;
    *db = (int)v;
    return 0;
}

int rd_redis_parse_url(const char *url, rd_redis_addr_t *out) {
    memset(out, 0, sizeof(*out));
    out->port = 6379;
    if (!url || !*url) return RD_EINVAL;
    const char *p = url;
    bool unix_sock = false;
    if (strncmp(p, "redis://", 8) == 0)
        p += 8;
    else if (strncmp(p, "unix://", 7) == 0) {
        p += 7;
        unix_sock = true;
    } else if (strstr(p, "://"))
        return RD_EINVAL; /* rediss:// (TLS) included: hiredis 0.14 has no TLS */
    const char *at = url_cred_end(p);
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        if (!colon) return RD_EINVAL;
        size_t ul = (size_t)(colon - p), pl = (size_t)(at - colon - 1);
        if (ul >= sizeof(out->user) || pl >= sizeof(out->password)) return RD_EINVAL;
        memcpy(out->user, p, ul);
        memcpy(out->password, colon + 1, pl);
        p = at + 1;
    }
    if (unix_sock) {
        const char *q = strchr(p, '?');
        size_t pl = q ? (size_t)(q - p) : strlen(p);
        if (pl < 2 || p[0] != '/' || pl >= sizeof(out->path)) return RD_EINVAL;
        memcpy(out->path, p, pl);
        out->port = 0;
        if (q && (strncmp(q, "?db=", 4) != 0 || parse_db(q + 4, q + strlen(q), &out->db) != 0))
            return RD_EINVAL;
        return 0;
    }
    const char *slash = strchr(p, '/');
    const char *hend = slash ? slash : p + strlen(p);
    const char *colon = memchr(p, ':', (size_t)(hend - p));
    const char *hostend = colon ? colon : hend;
    size_t hl = (size_t)(hostend - p);
    if (hl == 0 || hl >= sizeof(out->host)) return RD_EINVAL;
    memcpy(out->host, p, hl);
    if (colon) {
        char *e;
        long port = strtol(colon + 1, &e, 10);
        if (e != hend || port < 1 || port > 65535) return RD_EINVAL;
        out->port = (int)port;
    }
    if (slash && slash[1] && parse_db(slash + 1, slash + strlen(slash), &out->db) != 0)
        return RD_EINVAL;
    return 0;
}

void rd_redis_url_redact(const char *url, char *dst, size_t len) {
    if (!len) return;
    if (!url) url = "";
    /* A scheme is a word of letters before "://"; anything else (a "://" inside a
     * password) is not one and is hidden with the rest. */
    size_t keep = 0;
    while (url[keep] >= 'a' && url[keep] <= 'z') keep++;
    if (keep == 0 || strncmp(url + keep, "://", 3) != 0)
        keep = 0;
    else
        keep += 3;
    const char *at = url_cred_end(url + keep);
    if (!at) {
        snprintf(dst, len, "%s", url);
        return;
    }
    snprintf(dst, len, "%.*s***@%s", (int)keep, url, at + 1);
}

void rd_redis_addr_where(const rd_redis_addr_t *a, char *dst, size_t len) {
    if (a->path[0])
        snprintf(dst, len, "unix:%s?db=%d", a->path, a->db);
    else
        snprintf(dst, len, "%s:%d/%d", a->host, a->port, a->db);
}

int rd_redis_addr_config(const char *url, const char *password, rd_redis_addr_t *out) {
    if (url && rd_redis_parse_url(url, out) < 0) return RD_EINVAL;
    if (password) {
        if (strlen(password) >= sizeof(out->password)) return RD_EINVAL;
        strcpy(out->password, password);
    }
    return 0;
}

void rd_redis_opts_init(rd_redis_opts_t *o) {
    memset(o, 0, sizeof(*o));
    rd_redis_parse_url("redis://127.0.0.1:6379/0", &o->addr);
    o->cmd_timeout_ms = 5000;
    o->connect_timeout_ms = 2000;
    o->reconnect_min_ms = 50;
    o->reconnect_max_ms = 2000;
}

int rd_redis_reply_status(int status, const redisReply *reply) {
    if (status < 0) return status;
    if (!reply) return RD_EPROTO;
    return reply->type == REDIS_REPLY_ERROR ? RD_EREDIS : 0;
}

static uint64_t rng_next(rd_redis_t *r) {
    uint64_t x = r->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->rng = x;
    return x;
}

/* ---- request list ----------------------------------------------------------- */

static void list_append(rd_redis_t *r, req_t *q) {
    q->next = NULL;
    q->prev = r->tail;
    if (r->tail)
        r->tail->next = q;
    else
        r->head = q;
    r->tail = q;
}

static void list_unlink(rd_redis_t *r, req_t *q) {
    if (q->prev)
        q->prev->next = q->next;
    else
        r->head = q->next;
    if (q->next)
        q->next->prev = q->prev;
    else
        r->tail = q->prev;
    q->prev = q->next = NULL;
    if (!r->head && !r->closing) uv_timer_stop(&r->timeout_timer);
}

static void req_free(req_t *q) { rd_free(q); }

static req_t *req_new(rd_redis_t *r, int argc, const char *const *argv, const size_t *argvlen) {
    size_t total = sizeof(req_t) + (size_t)argc * (sizeof(char *) + sizeof(size_t));
    for (int i = 0; i < argc; i++) total += argvlen[i] + 1;
    req_t *q = rd_try_malloc(total);
    if (!q) return NULL;
    memset(q, 0, sizeof(*q));
    q->r = r;
    q->script = -1;
    q->argc = argc;
    q->argv = (const char **)(q + 1);
    q->argvlen = (size_t *)(q->argv + argc);
    char *p = (char *)(q->argvlen + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], argvlen[i]);
        p[argvlen[i]] = 0;
        q->argv[i] = p;
        q->argvlen[i] = argvlen[i];
        p += argvlen[i] + 1;
    }
    return q;
}

/* Runs the user callback once and takes the req out of the list. The caller
 * frees it (hiredis's reply callback for SENT reqs, the timeout/close path
 * for QUEUED ones). */
static void req_complete(req_t *q, int status, redisReply *reply) {
    rd_redis_t *r = q->r;
    list_unlink(r, q);
    q->state = REQ_DONE;
    rd_redis_cb cb = q->cb;
    q->cb = NULL;
    if (cb) cb(r, status, reply, q->arg);
}

static void on_timeout(uv_timer_t *t);

/* Arms the timeout timer at the earliest deadline in the list. */
static void arm_timeout(rd_redis_t *r) {
    if (r->closing || !r->head) return;
    uint64_t min = UINT64_MAX;
    for (req_t *q = r->head; q; q = q->next)
        if (q->deadline < min) min = q->deadline;
    uint64_t now = uv_now(r->loop);
    uv_timer_start(&r->timeout_timer, on_timeout, min > now ? min - now : 1, 0);
}

/* ---- the libuv adapter ------------------------------------------------------ */

/*
 * Our own hiredis <-> libuv adapter instead of hiredis 0.14's, which drops
 * every poll callback with an error status: a refused connect (EPOLLERR on
 * the socket) then went unnoticed until the connect timeout. Here an error
 * status hands the socket to hiredis, whose connect check or read finds the
 * error and reports it at once. As in hiredis's adapter, the cleanup hook
 * clears the context pointer and the handle is freed in its close callback.
 */
typedef struct adapter {
    uv_poll_t poll;
    redisAsyncContext *ac;
    int events;
} adapter_t;

static void ad_on_poll(uv_poll_t *h, int status, int events) {
    adapter_t *p = h->data;
    if (status != 0) events = p->events; /* let hiredis see the socket's error */
    if (p->ac && (events & UV_WRITABLE)) redisAsyncHandleWrite(p->ac);
    if (p->ac && (events & UV_READABLE)) redisAsyncHandleRead(p->ac);
}

static void ad_set(adapter_t *p, int events) {
    p->events = events;
    if (events)
        uv_poll_start(&p->poll, events, ad_on_poll);
    else
        uv_poll_stop(&p->poll);
}

static void ad_add_read(void *d) { ad_set(d, ((adapter_t *)d)->events | UV_READABLE); }
static void ad_del_read(void *d) { ad_set(d, ((adapter_t *)d)->events & ~UV_READABLE); }
static void ad_add_write(void *d) { ad_set(d, ((adapter_t *)d)->events | UV_WRITABLE); }
static void ad_del_write(void *d) { ad_set(d, ((adapter_t *)d)->events & ~UV_WRITABLE); }
static void ad_on_closed(uv_handle_t *h) { rd_free(h->data); }

static void ad_cleanup(void *d) {
    adapter_t *p = d;
    p->ac = NULL;
    uv_close((uv_handle_t *)&p->poll, ad_on_closed);
}

static int ad_attach(redisAsyncContext *ac, uv_loop_t *loop) {
    adapter_t *p = rd_calloc(1, sizeof *p);
    if (uv_poll_init(loop, &p->poll, ac->c.fd) != 0) {
        rd_free(p);
        return REDIS_ERR;
    }
    p->poll.data = p;
    p->ac = ac;
    ac->ev.data = p;
    ac->ev.addRead = ad_add_read;
    ac->ev.delRead = ad_del_read;
    ac->ev.addWrite = ad_add_write;
    ac->ev.delWrite = ad_del_write;
    ac->ev.cleanup = ad_cleanup;
    return REDIS_OK;
}

/* ---- connection ---------------------------------------------------------- */

static void schedule_reconnect(rd_redis_t *r);

/* Fails every QUEUED req with err now (fail_fast clients; a handshake refusal). */
static void fail_queued(rd_redis_t *r, int err) {
    for (req_t *q = r->head, *next; q; q = next) {
        next = q->next;
        if (q->state != REQ_QUEUED) continue;
        req_complete(q, err, NULL);
        req_free(q);
    }
}

/*
 * Records why the link is down and logs it once per distinct reason (a
 * Redis that stays down does not fill the log at every backoff).
 */
static void link_down(rd_redis_t *r, int code, const char *what, const char *detail) {
    r->link_err = code;
    snprintf(r->errstr, sizeof r->errstr, "%s: %s", what,
             detail && *detail ? detail : "unknown error");
    if (strcmp(r->logged, r->errstr) != 0) {
        snprintf(r->logged, sizeof r->logged, "%s", r->errstr);
        rd_log(code == RD_EAUTH ? RD_LOG_ERROR : RD_LOG_WARN,
               r->was_up ? "redis.dropped" : "redis.unavailable", "redis", r->where, "error",
               r->errstr, NULL);
    }
    if (code == RD_EAUTH || r->opts.fail_fast) fail_queued(r, code);
}

static void on_conn_timer(uv_timer_t *t) {
    rd_redis_t *r = t->data;
    if (r->closing) return;
    if (r->state == ST_CONNECTING) {
        /* Connect timed out: drop the half-open context (no callbacks are
         * pending on it: nothing is sent before the connect completes). */
        redisAsyncContext *ac = r->ac;
        r->ac = NULL;
        r->state = ST_DISCONNECTED;
        if (ac) redisAsyncFree(ac);
        link_down(r, RD_EIO, "connect", "no answer within the connect timeout");
        schedule_reconnect(r);
    } else if (r->state == ST_DISCONNECTED) {
        conn_start(r);
    }
}

static void schedule_reconnect(rd_redis_t *r) {
    if (r->closing) return;
    r->state = ST_DISCONNECTED;
    uint32_t b = r->backoff_ms ? r->backoff_ms : r->opts.reconnect_min_ms;
    uint64_t jitter = b / 2 ? rng_next(r) % b : 0; /* b/2 .. 3b/2 */
    uint64_t delay = b / 2 + jitter;
    uint64_t next = (uint64_t)b * 2;
    r->backoff_ms = (uint32_t)(next > r->opts.reconnect_max_ms ? r->opts.reconnect_max_ms : next);
    uv_timer_start(&r->conn_timer, on_conn_timer, delay ? delay : 1, 0);
}

/* A sent req got its answer (or NULL: the context is going away). */
static void on_reply(redisAsyncContext *ac, void *replyp, void *privdata) {
    req_t *q = privdata;
    redisReply *reply = replyp;
    rd_redis_t *r = q->r;
    if (q->state == REQ_DONE) { /* failed earlier (close): just release */
        req_free(q);
        return;
    }
    if (!reply) {
        req_complete(q, r->drop_err ? r->drop_err : RD_ECLOSED, NULL);
        req_free(q);
        return;
    }
    if (q->script >= 0 && reply->type == REDIS_REPLY_ERROR &&
        strncmp(reply->str, "NOSCRIPT", 8) == 0 && q->argvlen[0] == 7 && !r->closing &&
        ac == r->ac) {
        /* Redis lost its script cache: resend as EVAL with the source. */
        script_t *sc = &r->scripts[q->script];
        q->argv[0] = "EVAL";
        q->argvlen[0] = 4;
        q->argv[1] = sc->src;
        q->argvlen[1] = sc->len;
        if (redisAsyncCommandArgv(ac, on_reply, q, q->argc, q->argv, q->argvlen) == REDIS_OK) {
            r->sent++;
            return;
        }
    }
    req_complete(q, 0, reply);
    req_free(q);
}

static void send_req(rd_redis_t *r, req_t *q) {
    if (redisAsyncCommandArgv(r->ac, on_reply, q, q->argc, q->argv, q->argvlen) == REDIS_OK) {
        q->state = REQ_SENT;
        r->sent++;
    }
}

static int issue(rd_redis_t *r, req_t *q, uint32_t timeout_ms, rd_redis_cb cb, void *arg) {
    q->cb = cb;
    q->arg = arg;
    q->deadline = uv_now(r->loop) + (timeout_ms ? timeout_ms : r->opts.cmd_timeout_ms);
    list_append(r, q);
    if (r->state == ST_CONNECTED) send_req(r, q);
    if (!uv_is_active((uv_handle_t *)&r->timeout_timer)) arm_timeout(r);
    return 0;
}

static void conn_drop(rd_redis_t *r, int err);

/* A handshake reply: an error is a refusal (configuration), the PING's OK opens the link. */
static void on_handshake(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    int step = (int)(intptr_t)arg;
    if (status < 0 || r->state != ST_HANDSHAKE) return; /* dropped: that path reports */
    if (reply->type == REDIS_REPLY_ERROR) {
        const char *what = step == HS_AUTH ? "AUTH" : step == HS_SELECT ? "SELECT" : "PING";
        char label[32];
        snprintf(label, sizeof label, "%s refused", what);
        link_down(r, RD_EAUTH, label, reply->str);
        conn_drop(r, RD_EAUTH);
        return;
    }
    if (step != HS_PING) return;
    r->state = ST_CONNECTED;
    r->link_err = 0;
    r->errstr[0] = '\0';
    if (r->logged[0] || r->was_up)
        rd_log(RD_LOG_INFO, r->was_up ? "redis.reconnected" : "redis.connected", "redis", r->where,
               NULL);
    r->logged[0] = '\0';
    r->was_up = true;
    for (req_t *q = r->head; q; q = q->next)
        if (q->state == REQ_QUEUED) send_req(r, q);
    arm_timeout(r);
}

static void handshake_send(rd_redis_t *r, int step, int argc, const char *const *argv,
                           const size_t *lens) {
    req_t *q = req_new(r, argc, argv, lens);
    if (!q) return; /* the PING's absence times the connection out: retried */
    q->cb = on_handshake;
    q->arg = (void *)(intptr_t)step;
    q->deadline = uv_now(r->loop) + r->opts.cmd_timeout_ms;
    list_append(r, q);
    send_req(r, q);
}

static void on_connect(const redisAsyncContext *cac, int status) {
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    rd_redis_t *r = ac->data;
    if (ac != r->ac) return;
    if (status != REDIS_OK) {
        r->ac = NULL; /* hiredis frees it after this callback */
        r->state = ST_DISCONNECTED;
        link_down(r, RD_EIO, "connect", ac->errstr);
        schedule_reconnect(r);
        return;
    }
    uv_timer_stop(&r->conn_timer);
    r->state = ST_HANDSHAKE;
    r->drop_err = RD_ECLOSED;
    r->backoff_ms = 0;
    r->connects++;
    /* AUTH, SELECT and PING go first; everything queued waits for the PING's reply (a
     * PING also tells a Redis that wants a password from one that does not: NOAUTH). */
    const rd_redis_addr_t *a = &r->opts.addr;
    if (a->password[0]) {
        if (a->user[0])
            handshake_send(r, HS_AUTH, 3, (const char *const[]){"AUTH", a->user, a->password},
                           (const size_t[]){4, strlen(a->user), strlen(a->password)});
        else
            handshake_send(r, HS_AUTH, 2, (const char *const[]){"AUTH", a->password},
                           (const size_t[]){4, strlen(a->password)});
    }
    if (a->db) {
        char db[16];
        int n = snprintf(db, sizeof(db), "%d", a->db);
        handshake_send(r, HS_SELECT, 2, (const char *const[]){"SELECT", db},
                       (const size_t[]){6, (size_t)n});
    }
    handshake_send(r, HS_PING, 1, (const char *const[]){"PING"}, (const size_t[]){4});
    arm_timeout(r);
}

static void on_disconnect(const redisAsyncContext *cac, int status) {
    redisAsyncContext *ac = (redisAsyncContext *)cac;
    rd_redis_t *r = ac->data;
    if (ac != r->ac) return; /* we dropped it ourselves */
    r->ac = NULL;
    r->state = ST_DISCONNECTED;
    link_down(r, RD_EIO, "connection lost",
              status == REDIS_OK ? "closed by the server" : ac->errstr);
    schedule_reconnect(r);
}

static void conn_start(rd_redis_t *r) {
    if (r->closing) return;
    const rd_redis_addr_t *a = &r->opts.addr;
    redisAsyncContext *ac =
        a->path[0] ? redisAsyncConnectUnix(a->path) : redisAsyncConnect(a->host, a->port);
    if (!ac) {
        link_down(r, RD_EIO, "connect", "out of memory");
        schedule_reconnect(r);
        return;
    }
    if (ac->err) {
        /* Refused at once (ECONNREFUSED, ENOENT for a socket path): said now, not after a
         * timeout. */
        link_down(r, RD_EIO, "connect", ac->errstr);
        redisAsyncFree(ac);
        schedule_reconnect(r);
        return;
    }
    ac->data = r;
    if (ad_attach(ac, r->loop) != REDIS_OK) {
        link_down(r, RD_EIO, "connect", "cannot watch the socket");
        redisAsyncFree(ac);
        schedule_reconnect(r);
        return;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    r->ac = ac;
    r->state = ST_CONNECTING;
    uv_timer_start(&r->conn_timer, on_conn_timer, r->opts.connect_timeout_ms, 0);
}

/* Declares the connection dead: every SENT req fails with err (through
 * hiredis's NULL-reply callbacks), then a reconnect is scheduled. */
static void conn_drop(rd_redis_t *r, int err) {
    redisAsyncContext *ac = r->ac;
    if (!ac) return;
    r->ac = NULL;
    r->state = ST_DISCONNECTED;
    r->drop_err = err;
    redisAsyncFree(ac);
    r->drop_err = RD_ECLOSED;
    schedule_reconnect(r);
}

static void on_timeout(uv_timer_t *t) {
    rd_redis_t *r = t->data;
    if (r->closing) return;
    uint64_t now = uv_now(r->loop);
    bool dead = false;
    req_t *expired = NULL, **tail = &expired;
    for (req_t *q = r->head, *next; q; q = next) {
        next = q->next;
        if (q->deadline > now) continue;
        if (q->state == REQ_SENT) {
            dead = true;
        } else if (q->state == REQ_QUEUED) {
            list_unlink(r, q);
            q->state = REQ_DONE;
            *tail = q;
            tail = &q->next;
        }
    }
    if (dead) {
        link_down(r, RD_EIO, "timeout", "no reply within the command timeout");
        conn_drop(r, RD_ETIMEOUT);
    }
    while (expired) {
        req_t *q = expired;
        expired = q->next;
        rd_redis_cb cb = q->cb;
        q->cb = NULL;
        if (cb) cb(r, RD_ETIMEOUT, NULL, q->arg);
        req_free(q);
    }
    arm_timeout(r);
}

/* ---- public ---------------------------------------------------------------- */

int rd_redis_create(uv_loop_t *loop, const rd_redis_opts_t *opts, rd_redis_t **out) {
    *out = NULL;
    if (!opts->addr.path[0] && (!opts->addr.host[0] || opts->addr.port <= 0)) return RD_EINVAL;
    rd_redis_t *r = rd_calloc(1, sizeof(*r));
    r->loop = loop;
    r->opts = *opts;
    rd_redis_addr_where(&opts->addr, r->where, sizeof r->where);
    if (!r->opts.cmd_timeout_ms) r->opts.cmd_timeout_ms = 5000;
    if (!r->opts.connect_timeout_ms) r->opts.connect_timeout_ms = 2000;
    if (!r->opts.reconnect_min_ms) r->opts.reconnect_min_ms = 50;
    if (r->opts.reconnect_max_ms < r->opts.reconnect_min_ms)
        r->opts.reconnect_max_ms = r->opts.reconnect_min_ms;
    r->drop_err = RD_ECLOSED;
    r->rng = (uv_hrtime() ^ (uint64_t)(uintptr_t)r) | 1;
    uv_timer_init(loop, &r->timeout_timer);
    uv_timer_init(loop, &r->conn_timer);
    r->timeout_timer.data = r;
    r->conn_timer.data = r;
    r->handles_open = 2;
    conn_start(r);
    *out = r;
    return 0;
}

static void on_handle_closed(uv_handle_t *h) {
    rd_redis_t *r = h->data;
    if (--r->handles_open > 0) return;
    for (int i = 0; i < r->n_scripts; i++) rd_free(r->scripts[i].src);
    rd_free(r->scripts);
    void (*cb)(void *) = r->close_cb;
    void *arg = r->close_arg;
    rd_free(r);
    if (cb) cb(arg);
}

void rd_redis_close(rd_redis_t *r, void (*cb)(void *arg), void *arg) {
    if (r->closing) return;
    r->close_cb = cb;
    r->close_arg = arg;
    /* Queued reqs first (nobody else holds them), then the context, whose
     * free fails the sent ones through on_reply. */
    for (req_t *q = r->head, *next; q; q = next) {
        next = q->next;
        if (q->state != REQ_QUEUED) continue;
        req_complete(q, RD_ECLOSED, NULL);
        req_free(q);
    }
    r->closing = true;
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    r->drop_err = RD_ECLOSED;
    if (ac) redisAsyncFree(ac);
    /* Anything left (an in-callback free is deferred by hiredis) is failed
     * now and released by hiredis's callback later. */
    for (req_t *q = r->head, *next; q; q = next) {
        next = q->next;
        req_complete(q, RD_ECLOSED, NULL);
    }
    uv_timer_stop(&r->timeout_timer);
    uv_timer_stop(&r->conn_timer);
    uv_close((uv_handle_t *)&r->timeout_timer, on_handle_closed);
    uv_close((uv_handle_t *)&r->conn_timer, on_handle_closed);
}

int rd_redis_command(rd_redis_t *r, int argc, const char *const *argv, const size_t *argvlen,
                     uint32_t timeout_ms, rd_redis_cb cb, void *arg) {
    if (r->closing) return RD_ECLOSED;
    if (argc < 1) return RD_EINVAL;
    req_t *q = req_new(r, argc, argv, argvlen);
    if (!q) return RD_ENOMEM;
    return issue(r, q, timeout_ms, cb, arg);
}

int rd_redis_script_add(rd_redis_t *r, const char *src, size_t len) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!EVP_Digest(src, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20) return RD_EINVAL;
    r->scripts = rd_realloc(r->scripts, sizeof(script_t) * (size_t)(r->n_scripts + 1));
    script_t *sc = &r->scripts[r->n_scripts];
    sc->src = rd_malloc(len + 1);
    memcpy(sc->src, src, len);
    sc->src[len] = 0;
    sc->len = len;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 20; i++) {
        sc->sha[2 * i] = hex[md[i] >> 4];
        sc->sha[2 * i + 1] = hex[md[i] & 15];
    }
    sc->sha[40] = 0;
    return r->n_scripts++;
}

int rd_redis_script(rd_redis_t *r, int handle, int numkeys, int argc, const char *const *argv,
                    const size_t *argvlen, uint32_t timeout_ms, rd_redis_cb cb, void *arg) {
    if (r->closing) return RD_ECLOSED;
    if (handle < 0 || handle >= r->n_scripts || numkeys < 0 || numkeys > argc || argc > 4096)
        return RD_EINVAL;
    const char *av[4096 + 3];
    size_t al[4096 + 3];
    char nk[16];
    int nkl = snprintf(nk, sizeof(nk), "%d", numkeys);
    av[0] = "EVALSHA";
    al[0] = 7;
    av[1] = r->scripts[handle].sha;
    al[1] = 40;
    av[2] = nk;
    al[2] = (size_t)nkl;
    for (int i = 0; i < argc; i++) {
        av[3 + i] = argv[i];
        al[3 + i] = argvlen[i];
    }
    req_t *q = req_new(r, argc + 3, av, al);
    if (!q) return RD_ENOMEM;
    q->script = handle;
    return issue(r, q, timeout_ms, cb, arg);
}

bool rd_redis_connected(const rd_redis_t *r) { return r->state == ST_CONNECTED; }

const char *rd_redis_link_error(const rd_redis_t *r, int *code) {
    if (code) *code = r->link_err;
    return r->state == ST_CONNECTED || !r->errstr[0] ? NULL : r->errstr;
}

int rd_redis_probe(const rd_redis_addr_t *a, uint32_t timeout_ms, char *err, size_t errlen) {
    char where[300];
    rd_redis_addr_where(a, where, sizeof where);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    redisContext *c = a->path[0] ? redisConnectUnixWithTimeout(a->path, tv)
                                 : redisConnectWithTimeout(a->host, a->port, tv);
    if (!c || c->err) {
        snprintf(err, errlen, "Redis at %s: connect: %s", where, c ? c->errstr : "out of memory");
        redisFree(c);
        return RD_EIO;
    }
    redisSetTimeout(c, tv);
    int rc = 0;
    const char *what[3] = {"AUTH", "SELECT", "PING"};
    for (int step = 0; step < 3 && rc == 0; step++) {
        redisReply *rep = NULL;
        if (step == 0 && a->password[0])
            rep = a->user[0] ? redisCommand(c, "AUTH %s %s", a->user, a->password)
                             : redisCommand(c, "AUTH %s", a->password);
        else if (step == 1 && a->db)
            rep = redisCommand(c, "SELECT %d", a->db);
        else if (step == 2)
            rep = redisCommand(c, "PING");
        else
            continue;
        if (!rep) {
            snprintf(err, errlen, "Redis at %s: %s: %s", where, what[step],
                     c->errstr[0] ? c->errstr : "no reply");
            rc = RD_EIO;
        } else if (rep->type == REDIS_REPLY_ERROR) {
            snprintf(err, errlen, "Redis at %s refused %s: %s", where, what[step], rep->str);
            rc = RD_EAUTH;
        }
        freeReplyObject(rep);
    }
    redisFree(c);
    return rc;
}

uint64_t rd_redis_commands_sent(const rd_redis_t *r) { return r->sent; }

uint64_t rd_redis_connects(const rd_redis_t *r) { return r->connects; }
