/*
 * httpd.h — a small HTTP/1.1 server on one libuv loop (http-parser 2.9).
 *
 * Shared by the engine's listener (provider callbacks, control API,
 * metrics) and by redial-sim. One server lives on one loop and every call
 * below except the pure helpers must be made on that loop's thread.
 *
 * Model: each connection parses one request at a time. When a request is
 * complete the handler is called with an rd_http_req_t; the handler answers
 * it with rd_http_respond*() either at once or later, from any callback on
 * the same loop (asynchronous reply: the engine answers a status callback
 * only after its settle is durable in Redis). While a request is unanswered
 * the connection reads ahead (bounded) but does not parse: pipelined
 * requests are answered strictly in order.
 *
 * Request lifetime: the rd_http_req_t and every pointer in it stay valid
 * until it is answered, even if the client disconnects meanwhile (the reply
 * is then discarded; rd_http_req_gone() tells). Every request handed to the
 * handler must be answered exactly once. The server's close callback runs
 * only after every such request was answered and every handle closed.
 *
 * Limits: request line + headers over max_header_bytes (or more than
 * max_headers fields) -> 431; a body over max_body_bytes -> 413 (announced
 * by Content-Length, or counted while chunked); malformed -> 400 (also a
 * header name with whitespace before the colon, "Content-Length : 5", which
 * a proxy in front may frame differently); each is answered with a JSON
 * error and the connection closed. A request that does not complete within
 * request_timeout_ms of its first byte, a connection idle (no request in
 * progress) for idle_timeout_ms, or one whose queued replies make no
 * progress for write_timeout_ms, is closed. While more than
 * max_queued_bytes of replies wait for a client, its connection is neither
 * read nor parsed (backpressure). Connections are capped in total (from
 * the descriptor limit) and per client address; over a cap they are closed
 * at accept. EOF from a client is a half-close: the requests it sent in
 * full are still answered, then the connection closes. A HEAD request's
 * reply has the headers (Content-Length of the body) and no body. The
 * server ignores SIGPIPE unless the program set a disposition of its own.
 * "Expect: 100-continue" is answered with an interim 100 once the headers
 * are accepted (or with the 413 when the announced body is too large).
 *
 * The socket-free parsing layer (rd_http_parser_*) is public so that the
 * fuzzer and unit tests drive exactly the code the connections run.
 */
#ifndef RD_HTTPD_H
#define RD_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <uv.h>

typedef struct rd_httpd rd_httpd_t;
typedef struct rd_http_req rd_http_req_t;

/* One request header. name/value are NUL-terminated, as received (not folded). */
typedef struct rd_http_header {
    const char *name;
    const char *value;
    size_t name_len;
    size_t value_len;
} rd_http_header_t;

/* Limits of the parsing layer (0 = default). */
typedef struct rd_http_limits {
    size_t max_header_bytes; /* request line + headers [16384] */
    size_t max_body_bytes;   /* [1048576] */
    unsigned max_headers;    /* [64] */
} rd_http_limits_t;

/*
 * A parsed request. Public fields are read-only for the handler and valid
 * until the request is answered (or, for the parsing layer, until the next
 * rd_http_parser_next()). Strings are NUL-terminated views into one
 * per-connection arena (no per-request allocation once it has grown).
 */
struct rd_http_req {
    const char *method; /* "GET", "POST", ... (static) */
    unsigned method_id; /* enum http_method */
    const char *url;    /* request target as received */
    const char *path;   /* target up to '?' (absolute-form: from the path), not decoded */
    const char *query;  /* after '?', "" when none, not decoded */
    size_t path_len, query_len;
    const rd_http_header_t *headers;
    size_t n_headers;
    const char *body; /* "" when none; NUL-terminated (may contain NULs) */
    size_t body_len;
    unsigned short http_major, http_minor;
    bool keep_alive; /* the client allows another request after this one */
    void *user;      /* free for the handler */
    /* private: the connection that owns this request */
    struct rd_httpd__conn *rd__conn;
};

/*
 * Handler: called on the loop thread with a complete request. `req` is
 * borrowed and must be answered exactly once with rd_http_respond*(), now
 * or later on the same loop.
 */
typedef void (*rd_httpd_handler_fn)(rd_http_req_t *req, void *data);

typedef struct rd_httpd_config {
    const char *host; /* listen address ["127.0.0.1"] */
    int port;         /* 0 = any free port (see rd_httpd_port) */
    int backlog;      /* [1024] */
    rd_http_limits_t limits;
    /* Connections beyond a cap are closed at accept. The cap is max_conns [16384] but never
     * more than the descriptor limit (soft RLIMIT_NOFILE at create) less fd_reserve
     * [64 + limit/8], kept for Redis, curl, logs and zone files. */
    unsigned max_conns;
    unsigned fd_reserve;
    unsigned max_conns_per_addr; /* per IPv4 address or IPv6 /64 [max(16, cap/8)] */
    unsigned idle_timeout_ms;    /* [30000] */
    unsigned request_timeout_ms; /* [30000] */
    /* Queued replies the client does not take (also a close-after-write connection):
     * closed after this long without write progress [30000]. */
    unsigned write_timeout_ms;
    /* Backpressure: while more reply bytes than this are queued on a connection, it is
     * neither read nor parsed; both resume below half of it [262144]. */
    size_t max_queued_bytes;
    rd_httpd_handler_fn handler; /* required */
    void *data;                  /* passed to the handler */
} rd_httpd_config_t;

/* Counters (loop thread reads). */
typedef struct rd_httpd_stats {
    uint64_t accepted, requests, bad_requests, too_large, timeouts;
    uint64_t closed_at_accept; /* over the connection cap */
    uint64_t closed_per_addr;  /* over the per-address cap */
    uint64_t accept_backoffs;  /* accept paused: out of descriptors or kernel memory */
    unsigned live_conns, held_requests;
    unsigned max_conns, max_conns_per_addr; /* the caps in force */
    size_t queued_bytes, queued_peak;       /* reply bytes waiting for clients, now and at most */
} rd_httpd_stats_t;

/*
 * Binds, listens and starts accepting on `loop`. `cfg` is copied (host too).
 * *out is owned by the caller and released with rd_httpd_close(). Returns 0,
 * RD_EINVAL (bad address / no handler) or RD_EIO (bind/listen failed; the
 * libuv message goes to errbuf when given). On failure the handles already
 * made are closed asynchronously: run the loop before uv_loop_close().
 */
int rd_httpd_create(uv_loop_t *loop, const rd_httpd_config_t *cfg, rd_httpd_t **out, char *errbuf,
                    size_t errlen);
/* The bound port (useful with port 0). */
int rd_httpd_port(const rd_httpd_t *srv);
void rd_httpd_stats(const rd_httpd_t *srv, rd_httpd_stats_t *out);
/*
 * Stops accepting, closes every connection and frees the server. `cb` (may
 * be NULL) runs on the loop once everything is released — after the last
 * held request has been answered. Call once.
 */
void rd_httpd_close(rd_httpd_t *srv, void (*cb)(void *data), void *data);

/* ---- answering (loop thread) ---- */

/*
 * Answers `req` and releases it (req is invalid afterwards). `content_type`
 * may be NULL (no Content-Type). `extra_headers` is NULL or complete header
 * lines, each ending in "\r\n" ("Retry-After: 1\r\n"). Body is copied as
 * needed. Connection: close is added when the connection will close. If the
 * client is gone the reply is dropped. Returns 0 (also when dropped).
 */
int rd_http_respond(rd_http_req_t *req, int status, const char *content_type,
                    const char *extra_headers, const void *body, size_t body_len);
/* application/json body (a NUL-terminated string). */
int rd_http_respond_json(rd_http_req_t *req, int status, const char *json);
/* {"error": msg} with msg JSON-escaped. */
int rd_http_respond_error(rd_http_req_t *req, int status, const char *msg);
/* True when the client disconnected; the reply will be dropped. */
bool rd_http_req_gone(const rd_http_req_t *req);
/* The server that produced the request. */
rd_httpd_t *rd_http_req_server(const rd_http_req_t *req);

/* ---- request helpers (pure; any thread) ---- */

/* First value of a header, name compared case-insensitively; NULL when absent. */
const char *rd_http_header(const rd_http_req_t *req, const char *name);
/* Reason phrase for a status ("OK", "Not Found", ...; "Unknown" otherwise). */
const char *rd_http_status_text(int status);

/*
 * Form bodies and query strings: decode with proto/form.h (rd_form_parse on
 * req->body / req->query); secrets compare with rd_secret_equal
 * (proto/callback.h).
 */

/* Standard base64 with padding. Return length written; decode -1 on bad input or overflow. */
size_t rd_http_b64_encode(char *dst, size_t cap, const void *src, size_t len);
long rd_http_b64_decode(void *dst, size_t cap, const char *src, size_t len);

/*
 * HTTP basic auth of a request: decodes "Authorization: Basic ..." into buf
 * and points *user / *pass into it. Returns 0, RD_EAUTH (absent or
 * malformed) or RD_ERANGE (buf too small).
 */
int rd_http_basic_auth(const rd_http_req_t *req, char *buf, size_t buflen, const char **user,
                       const char **pass);
/* ---- socket-free parsing layer (fuzzer, tests, and the connections) ---- */

typedef struct rd_http_parser rd_http_parser_t;

/* Allocates a parser with the given limits (NULL = defaults). Any thread, one owner. */
rd_http_parser_t *rd_http_parser_create(const rd_http_limits_t *limits);
void rd_http_parser_destroy(rd_http_parser_t *p);
/*
 * Feeds bytes. Parsing stops after one complete request: then *req points
 * at it (valid until the next call) and the return value counts the bytes
 * consumed; feed the rest afterwards. When no request completed, *req is
 * NULL and all bytes were consumed (buffered state). On error returns a
 * negative value and *status holds the HTTP status to answer (400, 413,
 * 431, 501); the parser is then dead.
 */
long rd_http_parser_feed(rd_http_parser_t *p, const char *data, size_t len, rd_http_req_t **req,
                         int *status);
/* True when a request has begun but not completed. */
bool rd_http_parser_busy(const rd_http_parser_t *p);
/*
 * True once after the headers of a request that sent "Expect: 100-continue"
 * with a body were accepted (within limits): the caller answers
 * "HTTP/1.1 100 Continue" so the client sends the body.
 */
bool rd_http_parser_take_continue(rd_http_parser_t *p);

#endif
