/*
 * server_harness.h — redial-server processes for end-to-end tests: spawn the
 * built binary (REDIAL_BIN_DIR) on a free loopback port with a given Redis,
 * prefix, provider URL and clock, wait until /healthz answers, stop it with a
 * signal and collect its exit status. The blocking HTTP client and the
 * process helpers it is built on (tests/lib/proc.h) come with this header.
 *
 * Threads: the test's main thread.
 */
#ifndef RD_SERVER_HARNESS_H
#define RD_SERVER_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include "tests/lib/proc.h"

typedef struct rd_test_server {
    pid_t pid;
    int port;           /* the admin listener: control API, /healthz, /metrics */
    char base[64];      /* http://127.0.0.1:<port> (admin) */
    int cb_port;        /* the public listener: provider callbacks */
    char cb_base[64];   /* http://127.0.0.1:<cb_port> */
    char log_path[256]; /* its log file (kept for failing tests) */
} rd_test_server_t;

typedef struct rd_test_server_opts {
    const char *redis_url;
    const char *prefix;
    const char *provider;                              /* "exotel" (default) | "twilio" */
    const char *provider_url;                          /* the simulator's base URL */
    const char *time_scale, *time_origin, *time_epoch; /* NULL = defaults */
    const char *engine_id;                             /* NULL = default */
    int workers;                                       /* 0 = default */
    const char *const *extra_args;                     /* NULL-terminated, or NULL */
    unsigned nofile;           /* RLIMIT_NOFILE (soft and hard) of the process; 0 = inherited */
    bool no_provider_key;      /* twilio with the account sid as basic-auth user (no API key) */
    const char *metrics_token; /* REDIAL_METRICS_TOKEN, or NULL */
} rd_test_server_opts_t;

/* Credentials every test server gets (env), for the API and callbacks. */
#define RD_TEST_API_KEY "test-key"
#define RD_TEST_API_TOKEN "test-token"
#define RD_TEST_CALLBACK_SECRET "test-callback-secret"
#define RD_TEST_PROVIDER_SID "testsid"
#define RD_TEST_PROVIDER_KEY "testkey"
#define RD_TEST_PROVIDER_TOKEN "testtoken"

/* Starts one server and waits (<= 10 s) for /healthz 200. Returns 0 or -1. */
int rd_test_server_start(rd_test_server_t *s, const rd_test_server_opts_t *o);
/* Sends sig, waits up to timeout_ms, then SIGKILLs. Returns the exit code
 * (0..255), 128+signal when killed by a signal, -1 on error. The log file is
 * removed after a clean exit (0) and kept otherwise, for the post-mortem. */
int rd_test_server_stop(rd_test_server_t *s, int sig, int timeout_ms);
/* SIGKILL without waiting for a drain. */
void rd_test_server_kill(rd_test_server_t *s);

/* A control-API request with the test credentials to path ("/v1/..."); *resp
 * (may be NULL) gets the owned body. Returns the HTTP status, -1 when no answer. */
long rd_test_api(const rd_test_server_t *s, const char *method, const char *path, const char *body,
                 char **resp);
/* POST a campaign body to the Campaigns API; returns the status (the answer is
 * printed on stderr when it is not 201). */
long rd_test_create_campaign(const rd_test_server_t *s, const char *body);
/* Jobs finished in a campaign, from GET /v1/campaigns/{name}/stats with the
 * test API credentials; -1 when the server does not answer 200. */
long long rd_test_campaign_finished(const rd_test_server_t *s, const char *name);
/* Polls rd_test_campaign_finished every 100 ms until it is n. Returns 0, or
 * -1 after timeout_s (with the count reached on stderr). */
int rd_test_wait_finished(const rd_test_server_t *s, const char *name, long long n, int timeout_s);

#endif
