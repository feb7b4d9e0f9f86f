/*
 * httpd_conn.c — layers 2 and 3 of the HTTP server (see httpd.c): a
 * connection's lifetime, input and parsing in order, dispatch of held
 * requests, the reply path (try_write, queued writes, backpressure) and the
 * rd_http_respond* entry points.
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

static void conn_parse(conn_t *c, const char *data, size_t len, bool from_in);
static void conn_resume(conn_t *c);

uint64_t rd_httpd__srv_now(const rd_httpd_t *s) {
    return s->clock ? s->clock(s->clock_data) : uv_now(s->loop);
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
    rd_httpd__srv_maybe_finish(s);
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
    rd_httpd__addr_release(s, c->akey);
    if (!c->held) conn_free(c);
}

void rd_httpd__conn_close(conn_t *c) {
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
void rd_httpd__conn_flow(conn_t *c) {
    bool want = !c->closing && !c->close_after_write && !c->eof && !c->wblocked &&
                !(c->held && c->in_len > readahead_cap(c->srv));
    if (want && !c->reading) {
        if (c->io->read_start(c) != 0) {
            rd_httpd__conn_close(c);
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
        rd_httpd__conn_close(c);
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
    c->wprog = rd_httpd__srv_now(c->srv);
    rd_free(wr);
    if (status < 0) {
        rd_httpd__conn_close(c);
        return;
    }
    if (c->close_after_write) {
        if (c->writes == 0) rd_httpd__conn_close(c);
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
        rd_httpd__conn_close(c);
        return;
    }
    if (done >= total) return;
    size_t rest = total - done;
    wreq_t *wr = rd_try_malloc(sizeof *wr + rest);
    if (!wr) {
        rd_httpd__conn_close(c);
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
    if (c->writes == 0) c->wprog = rd_httpd__srv_now(c->srv);
    if (c->io->write(c, wr, &ub) != 0) {
        rd_free(wr);
        rd_httpd__conn_close(c);
        return;
    }
    c->writes++;
    c->queued += rest;
    c->srv->st.queued_bytes += rest;
    if (c->srv->st.queued_bytes > c->srv->st.queued_peak)
        c->srv->st.queued_peak = c->srv->st.queued_bytes;
    queued_update(c);
    if (c->wblocked) rd_httpd__conn_flow(c);
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
        rd_httpd__conn_flow(c);
        if (c->writes == 0) rd_httpd__conn_close(c);
    }
}

void rd_httpd__conn_error(conn_t *c, int status) {
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
            rd_httpd__conn_error(c, st);
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
    if (rd_http_parser_busy(c->p) && c->req_start == 0) c->req_start = rd_httpd__srv_now(c->srv);
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
                rd_httpd__conn_close(c);
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
    rd_httpd__conn_flow(c);
    conn_check_eof(c);
}

void rd_httpd__conn_input(conn_t *c, ssize_t nread, const char *data) {
    if (nread == UV_EOF) {
        /* A half-close: the client may still read the replies to what it sent. */
        c->eof = true;
        rd_httpd__conn_flow(c);
        if (!c->held && !c->wblocked) c->in_off = c->in_len = 0; /* a partial request */
        conn_check_eof(c);
        return;
    }
    if (nread < 0) {
        rd_httpd__conn_close(c);
        return;
    }
    if (nread == 0 || c->closing || c->close_after_write || c->eof) return;
    c->last_active = rd_httpd__srv_now(c->srv);
    size_t n = (size_t)nread;
    if (c->in_len == 0 && !c->held && !c->wblocked) {
        conn_parse(c, data, n, false);
        rd_httpd__conn_flow(c);
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
            rd_httpd__conn_close(c);
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
    rd_httpd__conn_flow(c);
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
    c->last_active = rd_httpd__srv_now(s);
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
