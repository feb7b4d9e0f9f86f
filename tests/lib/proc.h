/*
 * proc.h — child processes for tests, and talking to them: where the built
 * binaries are, free loopback ports, an argv builder, a blocking HTTP
 * client, waiting for a child to answer /healthz or to exit, and reading a
 * small file. server_harness.c and sim_harness.c are built on these, so
 * every harness spawns, polls and reaps the same way.
 *
 * Threads: the test's main thread.
 */
#ifndef RD_TEST_PROC_H
#define RD_TEST_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* The directory of the built binaries: REDIAL_BIN_DIR, else the build's (static). */
const char *rd_test_bin_dir(void);
/* Sleeps ms milliseconds. */
void rd_test_sleep_ms(int ms);
/* A free TCP port on 127.0.0.1 (bound then released), -1 on failure. */
int rd_test_free_port(void);
/* A whole file as an owned NUL-terminated string (free()), NULL when unreadable. */
char *rd_test_slurp(const char *path);

/* An argv being built: words are borrowed, v is NULL-terminated after every add. */
#define RD_TEST_ARGV_MAX 96
typedef struct rd_test_argv {
    const char *v[RD_TEST_ARGV_MAX + 1];
    int n;
} rd_test_argv_t;

/* Appends one word (words past RD_TEST_ARGV_MAX are dropped). */
void rd_test_argv_add(rd_test_argv_t *a, const char *word);
/* Appends "flag value" when value is not NULL. */
void rd_test_argv_opt(rd_test_argv_t *a, const char *flag, const char *value);
/* Appends every word of a NULL-terminated list (NULL = none). */
void rd_test_argv_addv(rd_test_argv_t *a, const char *const *words);

/* A blocking HTTP request (rd_test_http_do); every pointer is borrowed. */
typedef struct rd_test_http_req {
    const char *method; /* "GET", "POST", ... */
    const char *url;
    const char *content_type;   /* sent when set; NULL = application/json with a body */
    const char *body;           /* NUL-terminated, or NULL for none */
    const char *userpwd;        /* basic auth "user:pass", or NULL */
    const char *const *headers; /* more "Name: value" lines, NULL-terminated, or NULL */
    long timeout_ms;            /* 0 = 10000 */
} rd_test_http_req_t;

/* Its answer: body and headers owned (rd_test_http_resp_free), NUL-terminated. */
typedef struct rd_test_http_resp {
    long status; /* -1 when no answer */
    char *body;
    size_t len;
    char *headers; /* the raw header block */
} rd_test_http_resp_t;

/* Sends rq and fills *rs (always, even on failure). Returns rs->status.
 * Any thread (it uses its own curl handle). */
long rd_test_http_do(const rd_test_http_req_t *rq, rd_test_http_resp_t *rs);
void rd_test_http_resp_free(rd_test_http_resp_t *rs);

/*
 * The short form: body may be NULL (GET/DELETE); content_type NULL =
 * application/json when a body is given; userpwd "user:pass" or NULL.
 * *resp (may be NULL) receives an owned NUL-terminated body (free()).
 * Returns the HTTP status, or -1 when no answer.
 */
long rd_test_http(const char *method, const char *url, const char *content_type, const char *body,
                  const char *userpwd, char **resp);

/*
 * Runs argv (argv[0] the name of a binary in rd_test_bin_dir(); borrowed)
 * with `input` (NULL = nothing) on its stdin, and waits for it. *out and
 * *err receive its stdout and stderr (owned, NUL-terminated, free()); with
 * err NULL its stderr is the test's. Gives up reading after 30 s of silence.
 * Returns the exit code, or -1 when it did not exit normally.
 */
int rd_test_run_io(const char *const argv[], const char *input, char **out, char **err);
/* rd_test_run_io without input or stderr capture; out may be NULL. */
int rd_test_run(char *const argv[], char **out);

/*
 * Polls url every interval_ms until it answers 200 (returns 0), the child
 * pid exits (-1; it is reaped), or timeout_ms passes (-2; it keeps running).
 */
int rd_test_wait_healthy(pid_t pid, const char *url, int timeout_ms, int interval_ms);

/*
 * Sends sig to the child pid, waits up to timeout_ms for it to exit, then
 * SIGKILLs it; the child is reaped in every case. Returns its exit code
 * (0..255), 128+signal when killed by a signal, -1 when pid is not a child.
 */
int rd_test_stop_pid(pid_t pid, int sig, int timeout_ms);

/*
 * Uses up this process's descriptors (dup of stdin-like /dev/null until
 * EMFILE) so the next open() fails with EMFILE; returns a handle for
 * rd_test_fds_release, which closes them all.
 */
typedef struct rd_test_fds {
    int *fd;
    int n;
} rd_test_fds_t;
void rd_test_fds_exhaust(rd_test_fds_t *h);
void rd_test_fds_release(rd_test_fds_t *h);

#endif
