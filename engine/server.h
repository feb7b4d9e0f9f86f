/*
 * server.h — redial-server: one engine process.
 *
 * It wires the pieces on one libuv loop thread (plus the worker threads of
 * the pool): the Redis store, ingest from <prefix>:inbox, the dispatcher
 * (claim due jobs -> dial-time check -> worker pool), the recovery loop
 * (expired leases: never-dialed claims back to due, placed calls to status
 * polling), and the HTTP listener (provider callbacks, control API,
 * /metrics, /healthz).
 *
 * Shutdown (rd_server_stop, SIGTERM): stop claiming and ingesting; let the
 * dials in flight get their provider call id (bounded by the provider
 * request timeout); claims not yet sent go back to due (not attempts);
 * then close the listener and the store; the loop then ends and main
 * exits 0. A second SIGTERM/SIGINT during the drain is ignored: the drain is
 * bounded already.
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef RD_SERVER_H
#define RD_SERVER_H

#include <uv.h>

#include "engine/config.h"

typedef struct rd_server rd_server_t;

/*
 * Builds the engine from a parsed configuration (borrowed for the server's
 * life) and starts it on `loop`. Returns 0, or RD_EINVAL with a message in
 * err (bad URL, clock, provider...), or RD_EIO (cannot listen).
 */
int rd_server_start(uv_loop_t *loop, const rd_server_config_t *cfg, rd_server_t **out, char *err,
                    size_t errlen);

/* Begins the graceful stop described above; the loop ends when it is done. */
void rd_server_stop(rd_server_t *srv);

/* Frees the server after the loop has ended. */
void rd_server_destroy(rd_server_t *srv);

/* The port the public (callback) listener is bound to (for --listen host:0). */
int rd_server_port(const rd_server_t *srv);
/* The port the admin listener (API, /healthz, /metrics) is bound to. */
int rd_server_admin_port(const rd_server_t *srv);

#endif
