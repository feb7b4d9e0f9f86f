/*
 * httpd_int.h — the transport seam of common/httpd.c, for the connection
 * fuzzer (tests/fuzz/fuzz_conn.c) and nothing else.
 *
 * A connection does its I/O through a table of five operations. The server
 * uses a uv_tcp_t table for the sockets it accepts; the fuzzer plugs in a
 * fake that decides, step by step, what a read returns, how much a write
 * takes, when a queued write completes and when a close finishes, so the
 * connection logic (parsing, ordering, backpressure, EOF, timeouts) runs
 * exactly as in production without sockets. The rules a transport keeps are
 * libuv's: a write's completion and a close's completion are reported later,
 * never from inside the call that started them, and every queued write is
 * completed (or cancelled, status < 0) before the close completes.
 *
 * Threads: the server's loop thread (or the fuzzer's only thread).
 */
#ifndef RD_HTTPD_INT_H
#define RD_HTTPD_INT_H

#include "common/httpd.h"

typedef struct rd_httpd__conn rd_httpd__conn_t;
typedef struct rd_httpd__wreq rd_httpd__wreq_t;

typedef struct rd_httpd__io {
    /* Start delivering input through rd_httpd__conn_input. 0 or < 0 (the connection closes). */
    int (*read_start)(rd_httpd__conn_t *c);
    void (*read_stop)(rd_httpd__conn_t *c);
    /* Takes what it can now: bytes taken (0.. total), UV_EAGAIN, or another error (closes). */
    int (*try_write)(rd_httpd__conn_t *c, const uv_buf_t *bufs, unsigned n);
    /* Queues buf (it lives in w); later rd_httpd__write_done(w, status). 0 or < 0. */
    int (*write)(rd_httpd__conn_t *c, rd_httpd__wreq_t *w, const uv_buf_t *buf);
    /* Closes; later rd_httpd__conn_closed(c). Called once. */
    void (*close)(rd_httpd__conn_t *c);
} rd_httpd__io_t;

/*
 * Opens a connection from `peer` (borrowed; NULL = unknown, one shared
 * bucket) on transport `io` (static lifetime) with `io_data` for it. Returns
 * NULL when a cap refuses it (counted in the stats; nothing to close). The
 * caller sets its transport up, then calls rd_httpd__conn_start.
 */
rd_httpd__conn_t *rd_httpd__conn_open(rd_httpd_t *s, const rd_httpd__io_t *io, void *io_data,
                                      const struct sockaddr *peer);
void rd_httpd__conn_start(rd_httpd__conn_t *c);
void *rd_httpd__conn_io_data(const rd_httpd__conn_t *c);
/* Input from the transport: nread > 0 bytes at data, UV_EOF, or another error. */
void rd_httpd__conn_input(rd_httpd__conn_t *c, ssize_t nread, const char *data);
/* A queued write finished (status 0) or failed/was cancelled (< 0). Frees w. */
void rd_httpd__write_done(rd_httpd__wreq_t *w, int status);
/* The transport finished closing. c may be freed before this returns. */
void rd_httpd__conn_closed(rd_httpd__conn_t *c);
/* The connection a queued write belongs to. */
rd_httpd__conn_t *rd_httpd__wreq_conn(const rd_httpd__wreq_t *w);
/* Replaces the loop clock (ms) used for every deadline; NULL restores uv_now. */
void rd_httpd__set_clock(rd_httpd_t *s, uint64_t (*now)(void *data), void *data);
/* Runs the timeout sweep once, as the sweep timer does. */
void rd_httpd__sweep(rd_httpd_t *s);

/* ---- shared by the server's own files (httpd*.c), not by the fuzzer ---- */

#define RD_HTTP_DEF_MAX_HEADER 16384
#define RD_HTTP_DEF_MAX_BODY (1024 * 1024)
#define RD_HTTP_DEF_MAX_HEADERS 64
#define RD_HTTPD_RBUF 65536
#define RD_HTTPD_POOL_MAX 256
#define RD_HTTPD_MAX_CONNS 16384

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

/* httpd.c */
void rd_httpd__addr_release(rd_httpd_t *s, const uint8_t *key);
void rd_httpd__srv_maybe_finish(rd_httpd_t *s);

/* httpd_parse.c */
void rd_httpd__limits_fill(rd_http_limits_t *l, const rd_http_limits_t *in);
void rd_httpd__parser_reset(rd_http_parser_t *p);

/* httpd_conn.c */
uint64_t rd_httpd__srv_now(const rd_httpd_t *s);
void rd_httpd__conn_close(conn_t *c);
void rd_httpd__conn_flow(conn_t *c);
void rd_httpd__conn_error(conn_t *c, int status);

#endif
