/*
 * redis.h — one asynchronous Redis connection on a libuv loop (hiredis 0.14
 * async + its libuv adapter), made safe for a long-running engine:
 *
 *   - a per-command timeout (hiredis 0.14 has none): a command without a reply
 *     in time means the connection is dead — every command in flight on it
 *     fails with RD_ETIMEOUT, the connection is dropped and rebuilt;
 *   - a handshake on every connection (AUTH, SELECT, PING) whose replies are
 *     checked: nothing else is sent until it succeeds, and a refusal (wrong
 *     or missing password, bad database) is kept as the link error
 *     (rd_redis_link_error) and logged, as are drops and reconnects;
 *   - reconnection with capped, jittered exponential backoff; commands issued
 *     while disconnected wait in a queue (within their timeout) and are sent,
 *     pipelined, once the connection is back; a Redis restart never crashes;
 *   - Lua scripts registered once and run with EVALSHA, falling back to EVAL
 *     (which also caches the script) on NOSCRIPT, e.g. after a restart;
 *   - binary-safe arguments (redisAsyncCommandArgv with explicit lengths).
 *
 * A command sent on a connection that then dies is NOT retried: it may have
 * run. Its callback gets RD_ECLOSED or RD_ETIMEOUT and the caller decides
 * (the store's scripts are idempotent or fenced, see docs/REDIS.md).
 *
 * Threads: everything on the loop thread that created the connection.
 */
#ifndef RD_REDIS_H
#define RD_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hiredis/hiredis.h>
#include <uv.h>

typedef struct rd_redis rd_redis_t;

typedef struct rd_redis_addr {
    char host[256]; /* "" for a unix socket */
    char path[256]; /* unix socket path, "" for TCP */
    int port;
    int db;
    char user[128];     /* "" = none */
    char password[256]; /* "" = none */
} rd_redis_addr_t;

/*
 * Parses redis://[[user]:password@]host[:port][/db] (port 6379, db 0 by
 * default; "redis://" may be omitted) or unix://[[user]:password@]/path[?db=N].
 * Credentials end at the LAST '@' (a password may contain '@'), exactly as
 * rd_redis_url_redact hides them. Returns 0 or RD_EINVAL.
 */
int rd_redis_parse_url(const char *url, rd_redis_addr_t *out);
/*
 * The one redaction of a Redis URL for any output (errors, logs, CLI): the
 * scheme, then "***@" for everything up to the last '@', then the rest; a
 * string with no '@' is copied as is. Any string (also one that does not
 * parse) is safe to print after this. dst is always NUL-terminated.
 */
void rd_redis_url_redact(const char *url, char *dst, size_t len);
/* Where addr points, without credentials ("host:port/db" or "unix:/path?db=N"). */
void rd_redis_addr_where(const rd_redis_addr_t *addr, char *dst, size_t len);
/*
 * A blocking check of addr (start-up only, not on a running loop): connect
 * within timeout_ms, AUTH, SELECT, PING. Returns 0; RD_EAUTH when Redis
 * refused us (wrong or missing password, unknown user, bad database: a
 * configuration error, the message says which); RD_EIO when it cannot be
 * reached (connection refused, timeout). err gets one line with Redis's own
 * error text and no secret.
 */
int rd_redis_probe(const rd_redis_addr_t *addr, uint32_t timeout_ms, char *err, size_t errlen);
/*
 * The address of a configured connection: `url` (NULL = keep *out's, the
 * default) with `password` (NULL = the URL's) overriding the URL's password.
 * Returns 0 or RD_EINVAL.
 */
int rd_redis_addr_config(const char *url, const char *password, rd_redis_addr_t *out);

typedef struct rd_redis_opts {
    rd_redis_addr_t addr;
    uint32_t cmd_timeout_ms;     /* default per-command timeout [5000] */
    uint32_t connect_timeout_ms; /* [2000] */
    uint32_t reconnect_min_ms;   /* [50] */
    uint32_t reconnect_max_ms;   /* [2000] */
    /* A failed connect or handshake fails every queued command at once (RD_EIO, RD_EAUTH)
     * instead of keeping it for the next connection within its timeout: for one-shot
     * clients (redial-cli). */
    bool fail_fast;
} rd_redis_opts_t;

void rd_redis_opts_init(rd_redis_opts_t *o);

/*
 * A reply (or failure). status 0: reply is non-NULL and may be an error reply
 * (REDIS_REPLY_ERROR); status < 0 (RD_ETIMEOUT, RD_ECLOSED): reply is NULL.
 * The reply is valid only inside the callback.
 */
typedef void (*rd_redis_cb)(rd_redis_t *r, int status, redisReply *reply, void *arg);

/* Creates the connection and starts connecting. opts borrowed. Loop thread. */
int rd_redis_create(uv_loop_t *loop, const rd_redis_opts_t *opts, rd_redis_t **out);

/*
 * Fails every queued and in-flight command with RD_ECLOSED (their callbacks
 * run inside this call), disconnects, closes the timers and frees the
 * connection; `cb` (may be NULL) runs from the loop once all handles are
 * closed. No command may be issued after this call.
 */
void rd_redis_close(rd_redis_t *r, void (*cb)(void *arg), void *arg);

/*
 * Sends a command. The arguments are copied. timeout_ms 0 = the default
 * (blocking commands pass their block time plus a margin). Returns 0 (the
 * callback will run exactly once, never from inside this call... except
 * when the connection is closed by rd_redis_close) or RD_ECLOSED.
 */
int rd_redis_command(rd_redis_t *r, int argc, const char *const *argv, const size_t *argvlen,
                     uint32_t timeout_ms, rd_redis_cb cb, void *arg);

/*
 * Registers a Lua script (source copied; SHA1 computed here). Returns its
 * handle (>= 0) or a negative error. Do it before issuing commands.
 */
int rd_redis_script_add(rd_redis_t *r, const char *src, size_t len);

/*
 * EVALSHA script `handle` with numkeys keys followed by args (argv holds the
 * keys then the args), EVAL on NOSCRIPT. Same contract as rd_redis_command.
 */
int rd_redis_script(rd_redis_t *r, int handle, int numkeys, int argc, const char *const *argv,
                    const size_t *argvlen, uint32_t timeout_ms, rd_redis_cb cb, void *arg);

/* True while connected and authenticated (commands go straight out). */
bool rd_redis_connected(const rd_redis_t *r);
/*
 * Why the link is not up, for /healthz and errors: NULL while connected or
 * before the first attempt ended, else one line (the connect error or
 * Redis's reply to AUTH/SELECT/PING, never a secret). *code (may be NULL)
 * gets RD_EIO (unreachable) or RD_EAUTH (refused us). Valid until the next
 * loop iteration.
 */
const char *rd_redis_link_error(const rd_redis_t *r, int *code);
/* Commands written since creation (EVAL fallbacks included). */
uint64_t rd_redis_commands_sent(const rd_redis_t *r);
/* Successful connections so far (1 after the first connect; tests use it). */
uint64_t rd_redis_connects(const rd_redis_t *r);

/* Maps a reply to a status: 0 for a non-error reply, RD_EREDIS for an error
 * reply, `status` when already negative. */
int rd_redis_reply_status(int status, const redisReply *reply);

#endif
