/*
 * cbsend.h — HTTP POSTs from a libuv loop: the simulator's status-callback
 * sender.
 *
 * Many transfers in flight, connections kept alive and reused per receiving
 * host:port (at most max_host_conns each; more requests wait in order),
 * nothing blocks the loop (but the first resolution of a host name). http://
 * goes through a small HTTP/1.1 client of its own, https:// through libcurl's
 * multi interface. Response bodies are discarded; nothing is printed. Each
 * transfer reports its HTTP status (0 on a transport error or timeout) to a
 * completion callback on the loop thread.
 *
 * Thread safety: everything on the loop's thread. curl_global_init() must
 * have been called by the program before rd_cbsend_create().
 */
#ifndef RD_CBSEND_H
#define RD_CBSEND_H

#include <stddef.h>

#include <uv.h>

typedef struct rd_cbsend rd_cbsend_t;

/*
 * Completion: status is the HTTP status, 0 on a transport error / timeout,
 * -1 when the sender was closed first. err is a borrowed message ("" when
 * none), valid during the call.
 */
typedef void (*rd_cbsend_done_fn)(void *ctx, int status, const char *err);

typedef struct rd_cbsend_config {
    long timeout_ms;     /* per transfer [5000] */
    long max_host_conns; /* [64] */
} rd_cbsend_config_t;

/* cfg may be NULL (defaults). Returns the sender (owned; rd_cbsend_close). */
rd_cbsend_t *rd_cbsend_create(uv_loop_t *loop, const rd_cbsend_config_t *cfg);
/*
 * Starts a POST of body[0..len) (copied) to url with the given Content-Type
 * and an optional extra header line without CRLF ("X-Twilio-Signature: x",
 * may be NULL). done(ctx, ...) is called exactly once, later, on the loop.
 * Returns 0 or RD_EINVAL (curl refused the request: done is not called).
 */
int rd_cbsend_post(rd_cbsend_t *s, const char *url, const char *content_type,
                   const char *extra_header, const char *body, size_t len, rd_cbsend_done_fn done,
                   void *ctx);
/* Transfers started and not yet completed. */
size_t rd_cbsend_inflight(const rd_cbsend_t *s);
/*
 * Aborts every transfer (their done gets -1, synchronously), releases curl
 * and the uv handles; cb(data) runs on the loop when all is freed.
 */
void rd_cbsend_close(rd_cbsend_t *s, void (*cb)(void *data), void *data);

#endif
