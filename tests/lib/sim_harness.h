/*
 * sim_harness.h — redial-sim processes for tests: spawn the built binary
 * (REDIAL_BIN_DIR) on a free loopback port (the sim binds port 0 and writes
 * the port to a file, so there is no race for the port), wait until
 * /healthz answers, talk to its /sim/ endpoints, and stop it with SIGTERM,
 * collecting the referee's report it writes at exit.
 *
 * The simulator gets the credentials of server_harness.h
 * (RD_TEST_PROVIDER_SID / _KEY / _TOKEN) for both exotel and twilio, so a
 * test server started with rd_test_server_start() authenticates against it.
 * Account rate limits are off unless `rate_limits` is set.
 *
 * Threads: the test's main thread.
 */
#ifndef RD_SIM_HARNESS_H
#define RD_SIM_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct rd_test_sim {
    pid_t pid;
    int port;
    char base[64];      /* http://127.0.0.1:<port> */
    char dir[256];      /* temp dir: port file, script, report, log */
    char log_path[300]; /* its stderr (kept when the test fails) */
} rd_test_sim_t;

typedef struct rd_test_sim_opts {
    const char *model;       /* NULL = seed */
    const char *script_json; /* written to a file and passed as --script; NULL = none */
    int seed;                /* 0 = 1 */
    const char *time_scale, *time_origin, *time_epoch; /* NULL = sim defaults */
    bool rate_limits;              /* keep the provider account limits (default: off) */
    const char *const *extra_args; /* more flags, NULL-terminated, or NULL */
} rd_test_sim_opts_t;

/* Starts redial-sim and waits (<= 10 s) for /healthz. Returns 0 or -1 (message on stderr). */
int rd_test_sim_start(rd_test_sim_t *s, const rd_test_sim_opts_t *o);
/*
 * SIGTERM, waits up to 10 s (then SIGKILL), reads the report it wrote into
 * *report (owned, free(); may be NULL), removes the temp dir. Returns the
 * exit code, 128+signal when killed, -1 on error.
 */
int rd_test_sim_stop(rd_test_sim_t *s, char **report);
/* GET /sim/report (owned string, free()); NULL when no answer. */
char *rd_test_sim_report(const rd_test_sim_t *s);
/* POST a JSON body to a /sim/ path ("campaigns", "dnd", "optout", "agents", "script"). Returns the status. */
long rd_test_sim_post(const rd_test_sim_t *s, const char *what, const char *json);
/*
 * Reads an integer at a dotted path of a report ("violations_total",
 * "violations.overlap", "campaigns.C1.max_live", "sim.callbacks.delivered").
 * Returns -1 when absent or not an integer.
 */
long long rd_test_report_int(const char *report_json, const char *path);

/* Policy start times (created_ms) of the calls the sim saw to number, in
 * order, into created[0..return) (at most max); -1 when it did not answer. */
long rd_test_sim_calls_to(const rd_test_sim_t *s, const char *number, long long *created,
                          size_t max);
/* violations_total of the referee's live report (-1 when unreadable); the
 * report is printed on stderr when it is not 0, for the post-mortem. */
long long rd_test_sim_violations(const rd_test_sim_t *s);

#endif
