/*
 * Fuzz target: the connection layer of common/httpd.c driven through a fake
 * transport (common/httpd_int.h) — the exact code the sockets run, without
 * sockets. The input is a program of one-byte operations on up to four
 * connections: deliver bytes, EOF, a reset, set how much a write may take
 * now (0 = the kernel buffer is full: a write stall), complete or fail the
 * oldest queued write, advance the clock and run the timeout sweep, answer
 * a held request, finish a close the server asked for, open a connection.
 *
 * Properties checked on every input (rd_assert aborts):
 *  - the transport contract: no read is delivered while the server has
 *    stopped reading (backpressure, EOF, close), no write or read change
 *    after the server closed, one close per connection;
 *  - bounded memory: the bytes queued on a connection never exceed
 *    max_queued_bytes plus one reply (and the 100-continue);
 *  - replies are well framed: every connection's output is a sequence of
 *    "HTTP/1.1 NNN" responses with a Content-Length (bodies absent only for
 *    HEAD), never more responses than requests handed to the handler;
 *  - every request handed to the handler is answered exactly once (the
 *    server asserts it), and closing the server completes (its callback
 *    runs; LeakSanitizer finds what it would leak).
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "common/httpd_int.h"
#include "proto/rd.h"

#define NCONN 4
#define NWQ 256
#define NHELD 64
#define OUTCAP 65536
#define MAXQ 4096
#define MAXREPLY 3200 /* headers + the largest body the handler sends */

typedef struct fconn {
    rd_httpd__conn_t *c;
    bool open, reading, close_asked;
    size_t cap;                /* bytes a try_write may take now; 0 = EAGAIN */
    rd_httpd__wreq_t *wq[NWQ]; /* queued writes, oldest first */
    size_t wlen[NWQ], nwq, queued;
    char out[OUTCAP]; /* what reached the "client", first OUTCAP bytes */
    size_t nout;
    bool head[NWQ]; /* per request handed to the handler, in order: was it HEAD */
    size_t nreq;
} fconn_t;

typedef struct fz {
    rd_httpd_t *srv;
    uint64_t now;
    fconn_t conns[NCONN];
    rd_http_req_t *held[NHELD];
    size_t nheld;
    unsigned dispatched;
    bool closed;
} fz_t;

static uv_loop_t loop;
static bool loop_ready;

static fconn_t *fc_of(rd_httpd__conn_t *c) { return rd_httpd__conn_io_data(c); }

static void out_add(fconn_t *f, const void *p, size_t n) {
    size_t k = RD_MIN(n, OUTCAP - f->nout);
    memcpy(f->out + f->nout, p, k);
    f->nout += k;
}

static int f_read_start(rd_httpd__conn_t *c) {
    fconn_t *f = fc_of(c);
    rd_assert(!f->close_asked);
    f->reading = true;
    return 0;
}

static void f_read_stop(rd_httpd__conn_t *c) { fc_of(c)->reading = false; }

static int f_try_write(rd_httpd__conn_t *c, const uv_buf_t *b, unsigned n) {
    fconn_t *f = fc_of(c);
    rd_assert(!f->close_asked && f->nwq == 0);
    if (f->cap == 0) return UV_EAGAIN;
    size_t took = 0;
    for (unsigned i = 0; i < n && took < f->cap; i++) {
        size_t k = RD_MIN(b[i].len, f->cap - took);
        out_add(f, b[i].base, k);
        took += k;
    }
    return (int)took;
}

static int f_write(rd_httpd__conn_t *c, rd_httpd__wreq_t *w, const uv_buf_t *b) {
    fconn_t *f = fc_of(c);
    rd_assert(!f->close_asked);
    if (f->nwq == NWQ) return UV_ENOBUFS;
    f->wq[f->nwq] = w;
    f->wlen[f->nwq++] = b->len;
    f->queued += b->len;
    rd_assert(f->queued <= MAXQ + MAXREPLY + 64);
    /* The data lives in w until completion: record it now, in order. */
    out_add(f, b->base, b->len);
    return 0;
}

static void f_close(rd_httpd__conn_t *c) {
    fconn_t *f = fc_of(c);
    rd_assert(!f->close_asked);
    f->close_asked = true;
    f->reading = false;
}

static const rd_httpd__io_t fake_io = {
    .read_start = f_read_start,
    .read_stop = f_read_stop,
    .try_write = f_try_write,
    .write = f_write,
    .close = f_close,
};

static void wq_done(fconn_t *f, int status) {
    rd_httpd__wreq_t *w = f->wq[0];
    f->queued -= f->wlen[0];
    memmove(f->wq, f->wq + 1, (f->nwq - 1) * sizeof *f->wq);
    memmove(f->wlen, f->wlen + 1, (f->nwq - 1) * sizeof *f->wlen);
    f->nwq--;
    rd_httpd__write_done(w, status);
}

/* libuv's order: queued writes are cancelled, then the close completes. */
static void finish_close(fconn_t *f) {
    while (f->nwq) wq_done(f, UV_ECANCELED);
    f->open = false;
    rd_httpd__conn_closed(f->c);
}

static uint64_t fz_clock(void *data) { return ((fz_t *)data)->now; }

static void handler(rd_http_req_t *req, void *data) {
    fz_t *z = data;
    z->dispatched++;
    fconn_t *f = rd_httpd__conn_io_data(req->rd__conn);
    if (f->nreq < NWQ) f->head[f->nreq++] = req->method_id == HTTP_HEAD;
    if (req->path_len > 1 && req->path[1] == 'a' && z->nheld < NHELD) {
        z->held[z->nheld++] = req; /* answered later by an operation */
        return;
    }
    static char body[3000];
    size_t n = (req->path_len * 37 + req->body_len) % sizeof body;
    memset(body, 'x', n);
    if (req->path_len > 1 && req->path[1] == 'e')
        rd_http_respond_error(req, 404, req->path);
    else
        rd_http_respond(req, 200, "text/plain", "X-F: 1\r\n", body, n);
}

static void answer_held(fz_t *z, uint8_t how) {
    if (!z->nheld) return;
    rd_http_req_t *r = z->held[0];
    memmove(z->held, z->held + 1, (z->nheld - 1) * sizeof *z->held);
    z->nheld--;
    static char body[3000];
    size_t n = (size_t)how * 11 % sizeof body;
    memset(body, 'y', n);
    rd_http_respond(r, how & 1 ? 503 : 200, NULL, NULL, body, n);
}

static void on_srv_closed(void *data) { ((fz_t *)data)->closed = true; }

/*
 * Each output must be a run of well-framed responses: replies to the
 * handled requests in order (no body after a HEAD), interim 100s, and at
 * most one error reply of the server's own at the end.
 */
static void check_output(const fconn_t *f) {
    size_t off = 0, next = 0;
    unsigned own = 0;
    while (off < f->nout) {
        const char *p = f->out + off;
        size_t left = f->nout - off;
        if (left < 12 || f->nout == OUTCAP) return; /* cut by the capture limit */
        rd_assert(memcmp(p, "HTTP/1.1 ", 9) == 0);
        const char *end = memmem(p, left, "\r\n\r\n", 4);
        rd_assert(end != NULL);
        size_t hl = (size_t)(end - p) + 4;
        if (memcmp(p + 9, "100 ", 4) == 0) {
            off += hl;
            continue;
        }
        const char *cl = memmem(p, hl, "Content-Length: ", 16);
        rd_assert(cl != NULL);
        size_t blen = strtoul(cl + 16, NULL, 10);
        if (next < f->nreq) {
            if (f->head[next]) blen = 0;
            next++;
        } else {
            rd_assert(++own == 1); /* 400/408/413/431/503 then close */
        }
        rd_assert(off + hl + blen <= f->nout);
        off += hl + blen;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!loop_ready) {
        uv_loop_init(&loop);
        loop_ready = true;
    }
    fz_t *z = calloc(1, sizeof *z);
    rd_httpd_config_t cfg = {
        .host = "127.0.0.1",
        .limits = {.max_header_bytes = 1024, .max_body_bytes = 2048, .max_headers = 12},
        .max_conns = 3,
        .max_conns_per_addr = 3,
        .idle_timeout_ms = 500,
        .request_timeout_ms = 800,
        .write_timeout_ms = 1200,
        .max_queued_bytes = MAXQ,
        .handler = handler,
        .data = z,
    };
    char err[128];
    if (rd_httpd_create(&loop, &cfg, &z->srv, err, sizeof err) != 0) abort();
    rd_httpd__set_clock(z->srv, fz_clock, z);
    size_t i = 0;
#define ARG() (i < size ? data[i++] : 0)
    while (i < size) {
        uint8_t op = data[i++];
        fconn_t *f = &z->conns[(op >> 4) % NCONN];
        switch (op % 10) {
        case 0: { /* bytes from the client: a length, then that many bytes */
            size_t n = ARG();
            n = RD_MIN(n, size - i);
            if (f->open && f->reading && n)
                rd_httpd__conn_input(f->c, (ssize_t)n, (const char *)data + i);
            i += n;
            break;
        }
        case 1:
            if (f->open && f->reading) rd_httpd__conn_input(f->c, UV_EOF, NULL);
            break;
        case 2:
            if (f->open && f->reading) rd_httpd__conn_input(f->c, UV_ECONNRESET, NULL);
            break;
        case 3:
            f->cap = (size_t)ARG() * 16;
            break;
        case 4:
            if (f->open && f->nwq) wq_done(f, 0);
            break;
        case 5:
            if (f->open && f->nwq) wq_done(f, UV_EPIPE);
            break;
        case 6:
            z->now += (uint64_t)ARG() * 10;
            rd_httpd__sweep(z->srv);
            break;
        case 7:
            answer_held(z, ARG());
            break;
        case 8:
            if (f->open && f->close_asked) {
                check_output(f);
                finish_close(f);
            }
            break;
        case 9: {
            uint8_t who = ARG();
            if (f->open) break;
            memset(f, 0, sizeof *f);
            f->cap = 1 << 20;
            struct sockaddr_in a = {.sin_family = AF_INET};
            a.sin_addr.s_addr = htonl(0x7f000001u + (who & 1));
            f->c = rd_httpd__conn_open(z->srv, &fake_io, f, (struct sockaddr *)&a);
            if (f->c) {
                f->open = true;
                rd_httpd__conn_start(f->c);
            }
            break;
        }
        }
    }
#undef ARG
    /* Answer what is held, close the server, complete every close it asked for. */
    while (z->nheld) answer_held(z, 0);
    rd_httpd_close(z->srv, on_srv_closed, z);
    for (int k = 0; k < NCONN; k++) {
        fconn_t *f = &z->conns[k];
        if (!f->open) continue;
        rd_assert(f->close_asked);
        check_output(f);
        finish_close(f);
    }
    for (int spins = 0; !z->closed && spins < 1000; spins++) uv_run(&loop, UV_RUN_NOWAIT);
    rd_assert(z->closed);
    free(z);
    return 0;
}
