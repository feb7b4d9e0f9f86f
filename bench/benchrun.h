/*
 * benchrun.h — the pieces of redial-bench (bench/bench_main.c) that are not
 * orchestration: child processes (spawn with a parent-death signal, stop,
 * CPU and peak RSS from /proc), a blocking loopback HTTP helper, the
 * due->dial lag accounting over the events stream, and percentiles.
 *
 * Threads: the bench is single-threaded; everything here is for its main
 * thread (the lag tracker is plain data and also unit-tested on its own).
 */
#ifndef RD_BENCHRUN_H
#define RD_BENCHRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- child processes ----------------------------------------------------- */

typedef struct rd_bench_proc {
    pid_t pid;     /* 0 = not running */
    char name[32]; /* "redis", "sim", "engine1", ... for messages */
    char log[512]; /* stdout+stderr of the child ("" = inherited) */
} rd_bench_proc_t;

/*
 * fork + exec argv[0] (a path, or a name looked up in PATH when it has no
 * '/'). env: NULL-terminated "NAME=value" strings added to the child's
 * environment (borrowed). stdin is /dev/null; stdout and stderr go to
 * p->log when set. The child gets SIGKILL when the bench dies (prctl
 * PR_SET_PDEATHSIG), so not even a SIGKILLed bench leaves processes behind.
 * Returns 0 or -1 (errno kept).
 */
int rd_bench_spawn(rd_bench_proc_t *p, char *const argv[], char *const env[]);
/* True while the child runs (reaps it when it exited; *status gets the wait status). */
bool rd_bench_alive(rd_bench_proc_t *p, int *status);
/*
 * Sends sig, waits up to timeout_ms, then SIGKILL. Returns the exit code,
 * 128+signal when killed, -1 when it was not running. Idempotent.
 */
int rd_bench_stop(rd_bench_proc_t *p, int sig, int timeout_ms);

/* utime + stime of a live process in ms (/proc/<pid>/stat); -1 on error. */
int64_t rd_bench_cpu_ms(pid_t pid);
/* Peak resident set (VmHWM, /proc/<pid>/status) in kB; -1 on error. */
int64_t rd_bench_hwm_kb(pid_t pid);
/* CPU of this process (getrusage), ms. */
int64_t rd_bench_self_cpu_ms(void);

/* A free TCP port on 127.0.0.1 (bound then released); -1 on error. */
int rd_bench_free_port(void);
/* A whole file as an owned NUL-terminated string (free()), NULL if unreadable. */
char *rd_bench_slurp(const char *path);
/* Monotonic ms. */
int64_t rd_bench_mono_ms(void);
void rd_bench_sleep_ms(int ms);

/*
 * Blocking HTTP to a loopback URL (libcurl easy), timeout_ms total. body NULL
 * for GET/DELETE (JSON content type otherwise); userpwd "user:pass" or NULL.
 * *resp (may be NULL) gets the owned NUL-terminated body (free()).
 * Returns the HTTP status or -1.
 */
long rd_bench_http(const char *method, const char *url, const char *body, const char *userpwd,
                   long timeout_ms, char **resp);

/* ---- lag ------------------------------------------------------------------ */

/*
 * Due->dial lag, measured from outside (the events stream), per job i in
 * [0, n): attempt 1 is due at its enqueue time; attempt k > 1 of the fixed
 * strategy is due at started(k-1) + interval unless that instant is at or
 * past the window end (then the policy moves it: no sample, counted in
 * `moved`). Lags are policy ms; the caller divides by the time scale.
 * A job's attempt events arrive in order (attempt k+1 is only claimed after
 * attempt k settled, and settle XADDs the event in the same script).
 */
typedef struct rd_bench_lag {
    size_t n;
    int64_t interval_ms;   /* policy */
    int64_t window_end_ms; /* policy; INT64_MAX = none */
    int64_t *enq_ms;       /* per job: enqueue time, policy ms (0 = unknown) */
    int64_t *last_start;   /* per job: started_ms of its latest attempt */
    int *attempts;         /* per job: attempt events seen */
    bool *final;           /* per job: final event seen */
    double *lags;          /* samples, policy ms */
    size_t n_lags, cap_lags;
    size_t moved, out_of_order, unknown, dup_final;
} rd_bench_lag_t;

int rd_bench_lag_init(rd_bench_lag_t *l, size_t n, int64_t interval_ms, int64_t window_end_ms);
void rd_bench_lag_deinit(rd_bench_lag_t *l);
/* An attempt event of job i. Returns the lag sample added (policy ms) or -1e300 when none. */
double rd_bench_lag_attempt(rd_bench_lag_t *l, size_t i, int attempt, int64_t started_ms);
/* A final event of job i; returns true the first time. */
bool rd_bench_lag_final(rd_bench_lag_t *l, size_t i);

/* Nearest-rank percentile (p in [0,100]) of v[0..n) after sorting v in place; 0 when n = 0. */
double rd_bench_percentile(double *v, size_t n, double p);

#endif
