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

#endif
