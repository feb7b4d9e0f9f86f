/*
 * cbsend.c — libcurl multi on a libuv loop (see cbsend.h).
 *
 * The classic socket-action integration: curl tells us, per socket, which
 * events it wants (socket callback) and when it next needs a timeout call
 * (timer callback); we keep one uv_poll_t per socket and one uv_timer_t,
 * and feed readiness back with curl_multi_socket_action(), then collect
 * finished transfers with curl_multi_info_read().
 *
 * Transfers are pooled: a finished transfer's easy handle, header buffer and
 * body buffer are kept (curl_easy_reset) for the next POST, so a steady
 * stream of callbacks allocates nothing per request but curl's header list.
 * Connections live in the multi handle's cache and are reused per host.
 *
 * Lifetimes: a poll context is freed in its close callback (libuv rule);
 * the sender is freed once its timer and every poll handle have closed.
 */
#include "sim/cbsend.h"

#include <curl/curl.h>
#include <string.h>

#include "proto/rd.h"

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
    CURLM *multi;
    uv_timer_t timer;
    rd_cbsend_config_t cfg;
    xfer_t *free_list;
    xfer_t *active;
    size_t inflight;
    unsigned open_handles; /* timer + polls */
    bool closing;
    void (*close_cb)(void *);
    void *close_data;
};

static void maybe_free(rd_cbsend_t *s) {
    if (!s->closing || s->open_handles) return;
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    rd_free(s);
    if (cb) cb(data);
}

static void on_handle_closed(uv_handle_t *h) {
    rd_cbsend_t *s;
    if (h->type == UV_POLL) {
        pollctx_t *pc = h->data;
        s = pc->s;
        rd_free(pc);
    } else {
        s = h->data;
    }
    s->open_handles--;
    maybe_free(s);
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
    rd_cbsend_t *s = userp;
    if (s->closing) return 0;
    if (timeout_ms < 0)
        uv_timer_stop(&s->timer);
    else
        uv_timer_start(&s->timer, on_timeout, timeout_ms == 0 ? 0 : (uint64_t)timeout_ms, 0);
    return 0;
}

rd_cbsend_t *rd_cbsend_create(uv_loop_t *loop, const rd_cbsend_config_t *cfg) {
    rd_cbsend_t *s = rd_calloc(1, sizeof *s);
    s->loop = loop;
    s->cfg.timeout_ms = cfg && cfg->timeout_ms > 0 ? cfg->timeout_ms : 5000;
    s->cfg.max_host_conns = cfg && cfg->max_host_conns > 0 ? cfg->max_host_conns : 64;
    s->multi = curl_multi_init();
    rd_assert(s->multi);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_HOST_CONNECTIONS, s->cfg.max_host_conns);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, s->cfg.max_host_conns * 4);
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_NOTHING);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    s->open_handles = 1;
    return s;
}

int rd_cbsend_post(rd_cbsend_t *s, const char *url, const char *content_type,
                   const char *extra_header, const char *body, size_t len, rd_cbsend_done_fn done,
                   void *ctx) {
    if (s->closing) return RD_EINVAL;
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

size_t rd_cbsend_inflight(const rd_cbsend_t *s) { return s->inflight; }

void rd_cbsend_close(rd_cbsend_t *s, void (*cb)(void *data), void *data) {
    rd_assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    /* Abort what is in flight: every easy handle still attached. */
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
