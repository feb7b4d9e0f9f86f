/*
 * benchrun.c — child processes, /proc readings, loopback HTTP and the lag
 * accounting of redial-bench (contract in benchrun.h).
 *
 * Children are plain fork + exec with PR_SET_PDEATHSIG(SIGKILL), so the
 * bench owns them for their whole life: a bench that exits normally stops
 * them with a signal and waits; one that is killed takes them down with it.
 * CPU figures are utime + stime from /proc/<pid>/stat (clock ticks, converted
 * with sysconf(_SC_CLK_TCK)), read while the child is alive: that is the CPU
 * the child spent, threads included, whatever the wall clock did.
 */
#include "bench/benchrun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* ---- processes ----------------------------------------------------------- */

int rd_bench_spawn(rd_bench_proc_t *p, char *const argv[], char *const env[]) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127); /* the bench died before prctl */
        /* Own process group: a ^C on the terminal reaches the bench only,
         * which then stops the children in order (sim last, for its report). */
        setpgid(0, 0);
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0) dup2(in, 0);
        if (p->log[0]) {
            int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
        }
        for (int i = 0; env && env[i]; i++) putenv(env[i]);
        if (strchr(argv[0], '/'))
            execv(argv[0], argv);
        else
            execvp(argv[0], argv);
        fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    p->pid = pid;
    return 0;
}

bool rd_bench_alive(rd_bench_proc_t *p, int *status) {
    if (p->pid <= 0) return false;
    int st;
    pid_t r = waitpid(p->pid, &st, WNOHANG);
    if (r == 0) return true;
    if (r == p->pid && status) *status = st;
    p->pid = 0;
    return false;
}

int rd_bench_stop(rd_bench_proc_t *p, int sig, int timeout_ms) {
    if (p->pid <= 0) return -1;
    kill(p->pid, sig);
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid) break;
        if (r < 0) {
            p->pid = 0;
            return -1;
        }
        if (waited >= timeout_ms) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            break;
        }
        rd_bench_sleep_ms(10);
    }
    p->pid = 0;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

int64_t rd_bench_cpu_ms(pid_t pid) {
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* comm may hold spaces and parentheses: fields restart after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    p++;
    unsigned long long ut = 0, st = 0;
    /* After ')': state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime(14) stime(15) */
    if (sscanf(p, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    if (hz <= 0) hz = 100;
    return (int64_t)((ut + st) * 1000ULL / (unsigned long long)hz);
}

int64_t rd_bench_hwm_kb(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int64_t kb = -1;
    while (fgets(line, sizeof line, f)) {
        long long v;
        if (sscanf(line, "VmHWM: %lld kB", &v) == 1) {
            kb = v;
            break;
        }
    }
    fclose(f);
    return kb;
}

int64_t rd_bench_self_cpu_ms(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (int64_t)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
           (int64_t)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

int rd_bench_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

char *rd_bench_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = n > 0 ? fread(s, 1, (size_t)n, f) : 0;
    s[got] = '\0';
    fclose(f);
    return s;
}

int64_t rd_bench_mono_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rd_bench_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- HTTP ---------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len;
} grow_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    grow_t *g = arg;
    size_t add = size * n;
    char *nb = realloc(g->buf, g->len + add + 1);
    if (!nb) return 0;
    g->buf = nb;
    memcpy(g->buf + g->len, p, add);
    g->len += add;
    g->buf[g->len] = '\0';
    return add;
}

long rd_bench_http(const char *method, const char *url, const char *body, const char *userpwd,
                   long timeout_ms, char **resp) {
    if (resp) *resp = NULL;
    CURL *c = curl_easy_init();
    if (!c) return -1;
    grow_t g = {calloc(1, 1), 0};
    struct curl_slist *h = NULL;
    if (body) {
        h = curl_slist_append(h, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    if (userpwd) curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (resp)
        *resp = g.buf;
    else
        free(g.buf);
    return status;
}

/* ---- lag ----------------------------------------------------------------- */

int rd_bench_lag_init(rd_bench_lag_t *l, size_t n, int64_t interval_ms, int64_t window_end_ms) {
    memset(l, 0, sizeof *l);
    l->n = n;
    l->interval_ms = interval_ms;
    l->window_end_ms = window_end_ms;
    l->enq_ms = calloc(n ? n : 1, sizeof *l->enq_ms);
    l->last_start = calloc(n ? n : 1, sizeof *l->last_start);
    l->attempts = calloc(n ? n : 1, sizeof *l->attempts);
    l->final = calloc(n ? n : 1, sizeof *l->final);
    l->cap_lags = n ? 2 * n : 16;
    l->lags = malloc(l->cap_lags * sizeof *l->lags);
    if (!l->enq_ms || !l->last_start || !l->attempts || !l->final || !l->lags) {
        rd_bench_lag_deinit(l);
        return -1;
    }
    return 0;
}

void rd_bench_lag_deinit(rd_bench_lag_t *l) {
    free(l->enq_ms);
    free(l->last_start);
    free(l->attempts);
    free(l->final);
    free(l->lags);
    memset(l, 0, sizeof *l);
}

static void add_lag(rd_bench_lag_t *l, double v) {
    if (l->n_lags == l->cap_lags) {
        size_t cap = l->cap_lags * 2;
        double *nl = realloc(l->lags, cap * sizeof *nl);
        if (!nl) return; /* sample dropped; the count of samples shows it */
        l->lags = nl;
        l->cap_lags = cap;
    }
    l->lags[l->n_lags++] = v;
}

double rd_bench_lag_attempt(rd_bench_lag_t *l, size_t i, int attempt, int64_t started_ms) {
    const double none = -1e300;
    if (i >= l->n) {
        l->unknown++;
        return none;
    }
    double lag = none;
    if (attempt != l->attempts[i] + 1) {
        l->out_of_order++;
    } else if (attempt == 1) {
        if (l->enq_ms[i] > 0) lag = (double)(started_ms - l->enq_ms[i]);
    } else {
        int64_t due = l->last_start[i] + l->interval_ms;
        if (due >= l->window_end_ms)
            l->moved++;
        else
            lag = (double)(started_ms - due);
    }
    if (attempt > l->attempts[i]) {
        l->attempts[i] = attempt;
        l->last_start[i] = started_ms;
    }
    if (lag != none) add_lag(l, lag);
    return lag;
}

bool rd_bench_lag_final(rd_bench_lag_t *l, size_t i) {
    if (i >= l->n) {
        l->unknown++;
        return false;
    }
    if (l->final[i]) {
        l->dup_final++;
        return false;
    }
    l->final[i] = true;
    return true;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double rd_bench_percentile(double *v, size_t n, double p) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, cmp_double);
    if (p <= 0) return v[0];
    if (p >= 100) return v[n - 1];
    size_t rank = (size_t)((p / 100.0) * (double)n + 0.999999999);
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return v[rank - 1];
}
