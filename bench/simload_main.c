/*
 * simload_main.c — redial-simload: a load generator for redial-sim alone
 * (no engine, no workers), to measure how many call requests per second
 * the simulator sustains on loopback.
 *
 * One libuv loop, C keep-alive connections, each with up to D requests in
 * flight (HTTP/1.1 pipelining, which engine/httpd answers in order).
 * Requests are exotel Connect-to-Flow POSTs with basic auth, each to a
 * different number (so the referee sees no overlap), formatted into one
 * buffer per connection. Responses are framed by Content-Length only.
 * Prints requests/s, status counts and latency percentiles (from the
 * write of a request to the end of its response).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "common/httpd.h"
#include "common/opts.h"
#include "proto/rd.h"

typedef struct {
    char *host;
    int port, conns, depth, seconds, callbacks;
    char *sid, *key, *token, *prefix;
} opts_t;

#define O(f) offsetof(opts_t, f)
static const rd_opt_t opts[] = {
    {"host", NULL, "127.0.0.1", RD_OPT_STR, O(host), "redial-sim address"},
    {"port", NULL, "8090", RD_OPT_INT, O(port), "redial-sim port"},
    {"conns", NULL, "16", RD_OPT_INT, O(conns), "keep-alive connections"},
    {"depth", NULL, "8", RD_OPT_INT, O(depth), "requests in flight per connection (pipelined)"},
    {"seconds", NULL, "5", RD_OPT_INT, O(seconds), "duration"},
    {"sid", NULL, "sim", RD_OPT_STR, O(sid), "exotel account sid"},
    {"key", NULL, "simkey", RD_OPT_STR, O(key), "exotel API key"},
    {"token", NULL, "simtoken", RD_OPT_STR, O(token), "exotel API token"},
    {"prefix", NULL, "+9170", RD_OPT_STR, O(prefix), "number prefix (a counter follows)"},
    {"callbacks", NULL, "false", RD_OPT_BOOL, O(callbacks),
     "ask for status callbacks to a receiver in this process and count them (run the sim with "
     "short calls)"},
};
#undef O

#define LAT_BUCKETS 4096 /* 0.1 ms buckets up to ~410 ms */

typedef struct conn conn_t;

typedef struct {
    uv_loop_t *loop;
    opts_t *o;
    char auth[256];
    uint64_t next_number;
    uint64_t sent, done, status[6], errors;
    uint64_t lat[LAT_BUCKETS];
    uint64_t t_start, t_end;
    bool stopping;
    uv_timer_t stop;
    conn_t *conns;
    int open;
    rd_httpd_t *rx; /* callback receiver */
    int rx_port;
    uint64_t rx_count, rx_seen, rx_last_ns, idle_ticks;
    uv_timer_t drain;
} load_t;

struct conn {
    uv_tcp_t tcp;
    uv_connect_t creq;
    load_t *L;
    char rbuf[65536];
    size_t rlen;
    uint64_t sent_at[64];
    unsigned head, inflight;
    char wbuf[64 * 512];
};

static void on_closed(uv_handle_t *h) {
    load_t *L = ((conn_t *)h->data)->L;
    L->open--;
}

static void conn_close(conn_t *c) {
    if (!uv_is_closing((uv_handle_t *)&c->tcp)) uv_close((uv_handle_t *)&c->tcp, on_closed);
}

static void on_write(uv_write_t *w, int status) {
    conn_t *c = w->data;
    free(w);
    if (status < 0) {
        c->L->errors++;
        conn_close(c);
    }
}

/* Tops the connection up to `depth` requests in flight, in one write. */
static void fill(conn_t *c) {
    load_t *L = c->L;
    if (L->stopping || uv_is_closing((uv_handle_t *)&c->tcp)) return;
    size_t len = 0;
    uint64_t now = uv_hrtime();
    while (c->inflight < (unsigned)L->o->depth) {
        char body[256];
        unsigned long long num = (unsigned long long)L->next_number++;
        int bl = snprintf(body, sizeof body,
                          "From=%%2B%s%08llu&CallerId=08047000000&Url=http%%3A%%2F%%2Fx%%2Fflow",
                          L->o->prefix + 1, num);
        if (L->rx)
            bl +=
                snprintf(body + bl, sizeof body - (size_t)bl,
                         "&CustomField=load%%3A%llu&StatusCallback=http%%3A%%2F%%2F127.0.0.1%%3A%d"
                         "%%2Fcb%%3Fa%%3Dload%%3A%llu",
                         num + 1, L->rx_port, num + 1);
        len += (size_t)snprintf(c->wbuf + len, sizeof c->wbuf - len,
                                "POST /v1/Accounts/%s/Calls/connect.json HTTP/1.1\r\nHost: sim\r\n"
                                "Authorization: Basic %s\r\n"
                                "Content-Type: application/x-www-form-urlencoded\r\n"
                                "Content-Length: %d\r\n\r\n%s",
                                L->o->sid, L->auth, bl, body);
        c->sent_at[(c->head + c->inflight) % 64] = now;
        c->inflight++;
        L->sent++;
    }
    if (!len) return;
    uv_write_t *w = malloc(sizeof *w + len);
    memcpy((char *)(w + 1), c->wbuf, len);
    uv_buf_t b = uv_buf_init((char *)(w + 1), (unsigned)len);
    w->data = c;
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        free(w);
        conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
    conn_t *c = h->data;
    buf->base = c->rbuf + c->rlen;
    buf->len = sizeof c->rbuf - c->rlen;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    conn_t *c = s->data;
    load_t *L = c->L;
    if (n < 0) {
        if (!L->stopping) L->errors++;
        conn_close(c);
        return;
    }
    c->rlen += (size_t)n;
    uint64_t now = uv_hrtime();
    for (;;) {
        char *end = memmem(c->rbuf, c->rlen, "\r\n\r\n", 4);
        if (!end) break;
        size_t hl = (size_t)(end - c->rbuf) + 4;
        char *cl = memmem(c->rbuf, hl, "Content-Length: ", 16);
        size_t bl = cl ? strtoul(cl + 16, NULL, 10) : 0;
        if (c->rlen < hl + bl) break;
        int st = atoi(c->rbuf + 9);
        L->status[st >= 100 && st < 600 ? st / 100 : 0]++;
        uint64_t us = (now - c->sent_at[c->head % 64]) / 100000; /* 0.1 ms */
        L->lat[us < LAT_BUCKETS ? us : LAT_BUCKETS - 1]++;
        c->head++;
        c->inflight--;
        L->done++;
        memmove(c->rbuf, c->rbuf + hl + bl, c->rlen - hl - bl);
        c->rlen -= hl + bl;
    }
    if (c->rlen == sizeof c->rbuf) {
        L->errors++;
        conn_close(c);
        return;
    }
    fill(c);
}

static void on_connect(uv_connect_t *r, int status) {
    conn_t *c = r->data;
    if (status < 0) {
        fprintf(stderr, "redial-simload: connect: %s\n", uv_strerror(status));
        c->L->errors++;
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    fill(c);
}

static void rx_handler(rd_http_req_t *req, void *data) {
    load_t *L = data;
    L->rx_count++;
    L->rx_last_ns = uv_hrtime();
    rd_http_respond(req, 200, "text/plain", NULL, "ok", 2);
}

/* After the load: wait for every callback, or until none came for 2 s; then close. */
static void on_drain(uv_timer_t *t) {
    load_t *L = t->data;
    L->idle_ticks = L->rx_count == L->rx_seen ? L->idle_ticks + 1 : 0;
    L->rx_seen = L->rx_count;
    if (L->rx_count < L->status[2] && L->idle_ticks < 8) return;
    uv_close((uv_handle_t *)t, NULL);
    rd_httpd_close(L->rx, NULL, NULL);
}

static void on_stop(uv_timer_t *t) {
    load_t *L = t->data;
    L->stopping = true;
    L->t_end = uv_hrtime();
    for (int i = 0; i < L->o->conns; i++) conn_close(&L->conns[i]);
    uv_close((uv_handle_t *)t, NULL);
    if (L->rx) {
        uv_timer_init(L->loop, &L->drain);
        L->drain.data = L;
        uv_timer_start(&L->drain, on_drain, 250, 250);
    }
}

static double pct(const load_t *L, double p) {
    uint64_t total = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) total += L->lat[i];
    uint64_t want = (uint64_t)(p * (double)total), acc = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        acc += L->lat[i];
        if (acc > want) return i / 10.0;
    }
    return (LAT_BUCKETS - 1) / 10.0;
}

int main(int argc, char **argv) {
    opts_t o = {0};
    char err[256];
    int rc = rd_opts_parse(
        opts, RD_ARRAY_LEN(opts), &o, argc, argv, NULL,
        "usage: redial-simload [flags]  (load on redial-sim alone; see docs/SIM.md)\n", err,
        sizeof err);
    if (rc != 0) {
        if (rc != 1) fprintf(stderr, "redial-simload: %s\n", err);
        rd_opts_free(opts, RD_ARRAY_LEN(opts), &o);
        return rc == 1 ? 0 : 2;
    }
    if (o.conns < 1 || o.depth < 1 || o.depth > 64 || o.seconds < 1) {
        fprintf(stderr, "redial-simload: need conns >= 1, 1 <= depth <= 64, seconds >= 1\n");
        rd_opts_free(opts, RD_ARRAY_LEN(opts), &o);
        return 2;
    }
    load_t *L = calloc(1, sizeof *L);
    uv_loop_t loop;
    uv_loop_init(&loop);
    L->loop = &loop;
    L->o = &o;
    char up[256];
    int ul = snprintf(up, sizeof up, "%s:%s", o.key, o.token);
    rd_http_b64_encode(L->auth, sizeof L->auth, up, (size_t)ul);
    L->conns = calloc((size_t)o.conns, sizeof *L->conns);
    if (o.callbacks) {
        rd_httpd_config_t rc2 = {.host = "127.0.0.1", .handler = rx_handler, .data = L};
        if (rd_httpd_create(&loop, &rc2, &L->rx, err, sizeof err) != 0) {
            fprintf(stderr, "redial-simload: receiver: %s\n", err);
            return 1;
        }
        L->rx_port = rd_httpd_port(L->rx);
    }
    struct sockaddr_in addr;
    uv_ip4_addr(o.host, o.port, &addr);
    for (int i = 0; i < o.conns; i++) {
        conn_t *c = &L->conns[i];
        c->L = L;
        uv_tcp_init(&loop, &c->tcp);
        c->tcp.data = c;
        c->creq.data = c;
        L->open++;
        uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&addr, on_connect);
    }
    uv_timer_init(&loop, &L->stop);
    L->stop.data = L;
    uv_timer_start(&L->stop, on_stop, (uint64_t)o.seconds * 1000, 0);
    L->t_start = uv_hrtime();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    double secs = (double)o.seconds;
    printf("redial-simload: %d conns x depth %d for %.2f s\n", o.conns, o.depth, secs);
    if (L->rx)
        printf("  callbacks received %llu (%.0f/s over %.2f s until the last one)\n",
               (unsigned long long)L->rx_count,
               (double)L->rx_count / ((double)(L->rx_last_ns - L->t_start) / 1e9),
               (double)(L->rx_last_ns - L->t_start) / 1e9);
    printf("  responses %llu (%.0f/s)  2xx %llu  4xx %llu  5xx %llu  errors %llu\n",
           (unsigned long long)L->done, (double)L->done / secs, (unsigned long long)L->status[2],
           (unsigned long long)L->status[4], (unsigned long long)L->status[5],
           (unsigned long long)L->errors);
    printf("  latency ms p50 %.1f  p99 %.1f  max-bucket %.1f\n", pct(L, 0.5), pct(L, 0.99),
           pct(L, 0.99999));
    int status = L->done > 0 && L->status[4] + L->status[5] + L->errors == 0 ? 0 : 1;
    free(L->conns);
    free(L);
    rd_opts_free(opts, RD_ARRAY_LEN(opts), &o);
    return status;
}
