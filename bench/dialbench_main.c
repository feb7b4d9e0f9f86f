/*
 * redial-dialbench — worker-pool benchmark: dial requests per second
 * through workers/pool.c (libcurl multi on libuv threads) against a
 * provider simulator on loopback.
 *
 * It starts `redial-sim` as a child process (or uses --url), keeps a window
 * of dial requests outstanding (enough that every worker always has queued
 * work), resubmits each completed item at once, and reports requests/s over
 * the measured part of the run plus submit->result latency percentiles and
 * the result classes. No status callback URL is sent, so the simulator
 * places calls but sends no callbacks; faults are off unless --sim-args
 * turns them on. This is a benchmark, not a test: it asserts nothing.
 *
 * Note: on a small machine the simulator and the benchmark share the cores;
 * the figure measures the pool and the simulator together.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "common/opts.h"
#include "proto/rd.h"
#include "workers/pool.h"

typedef struct cfg {
    char *url;
    char *sim;
    char *sim_args;
    char *provider;
    char *sid, *key, *token;
    int workers, inflight, conns, campaigns;
    int requests, warmup;
    double seconds;
    int json;
} cfg_t;

static const rd_opt_t opts[] = {
    {"url", "REDIAL_DIALBENCH_URL", NULL, RD_OPT_STR, offsetof(cfg_t, url),
     "provider base URL; when absent a redial-sim child is started"},
    {"sim", NULL, NULL, RD_OPT_STR, offsetof(cfg_t, sim),
     "redial-sim binary [next to this binary]"},
    {"sim-args", NULL, "", RD_OPT_STR, offsetof(cfg_t, sim_args),
     "extra arguments for redial-sim (space separated; the bench already passes "
     "--listen, --report /dev/null, no account rate limits and --time-scale 1000 so "
     "simulated calls end in milliseconds)"},
    {"provider", NULL, "exotel", RD_OPT_STR, offsetof(cfg_t, provider), "exotel | twilio"},
    {"sid", NULL, NULL, RD_OPT_STR, offsetof(cfg_t, sid),
     "account sid [redial-sim's: sim (exotel), ACsim (twilio)]"},
    {"key", NULL, "simkey", RD_OPT_STR, offsetof(cfg_t, key), "api key (exotel basic-auth user)"},
    {"token", "REDIAL_DIALBENCH_TOKEN", "simtoken", RD_OPT_STR, offsetof(cfg_t, token),
     "api token (basic-auth password)"},
    {"workers", NULL, "2", RD_OPT_INT, offsetof(cfg_t, workers), "worker threads"},
    {"inflight", NULL, "32", RD_OPT_INT, offsetof(cfg_t, inflight),
     "concurrent requests per worker"},
    {"conns", NULL, "0", RD_OPT_INT, offsetof(cfg_t, conns),
     "connections per worker (0 = inflight)"},
    {"campaigns", NULL, "8", RD_OPT_INT, offsetof(cfg_t, campaigns), "campaigns (fairness keys)"},
    {"requests", NULL, "200000", RD_OPT_INT, offsetof(cfg_t, requests), "measured requests"},
    {"warmup", NULL, "5000", RD_OPT_INT, offsetof(cfg_t, warmup), "unmeasured requests first"},
    {"seconds", NULL, "30", RD_OPT_DOUBLE, offsetof(cfg_t, seconds),
     "stop measuring after this long even if requests remain"},
    {"json", NULL, "0", RD_OPT_BOOL, offsetof(cfg_t, json), "print one JSON object"},
};

#define NBUCKETS 100000 /* latency histogram: 10 us buckets up to 1 s, last = overflow */

typedef struct bench {
    cfg_t cfg;
    uv_loop_t *loop;
    rd_pool_t *pool;
    uint32_t account;
    uint64_t submitted, completed, measured;
    uint64_t kinds[RD_RES_CANCELED + 1];
    uint64_t hist[NBUCKETS];
    uint64_t t_start, t_end;
    bool stopping, pool_closed;
    uint64_t seq;
} bench_t;

static void fill(bench_t *b, rd_work_t *w) {
    w->kind = RD_WORK_DIAL;
    w->account = 0;
    uint64_t n = b->seq++;
    snprintf(w->campaign, sizeof w->campaign, "bench%llu",
             (unsigned long long)(n % (uint64_t)b->cfg.campaigns));
    w->dial.mode = RD_MODE_FLOW;
    /* Distinct numbers, so the simulator's referee sees no overlapping calls. */
    snprintf(w->dial.to, sizeof w->dial.to, "+9190%010llu",
             (unsigned long long)(n % 10000000000ULL));
    snprintf(w->dial.caller_id, sizeof w->dial.caller_id, "08030000000");
    snprintf(w->dial.flow, sizeof w->dial.flow, "1");
    snprintf(w->dial.attempt_key, sizeof w->dial.attempt_key, "%s:%llu", w->campaign,
             (unsigned long long)(n + 1));
    w->dial.status_callback[0] = '\0';
    w->dial.ring_timeout_s = 30;
    w->dial.time_limit_s = 60;
}

static void submit_one(bench_t *b, rd_work_t *w) {
    fill(b, w);
    if (rd_pool_submit(b->pool, w) != 0) {
        rd_pool_work_put(b->pool, w);
        return;
    }
    b->submitted++;
}

static void on_pool_closed(void *arg) { ((bench_t *)arg)->pool_closed = true; }

static void on_result(rd_work_t *w, void *data) {
    bench_t *b = data;
    b->completed++;
    uint64_t total = (uint64_t)b->cfg.warmup + (uint64_t)b->cfg.requests;
    if (b->completed == (uint64_t)b->cfg.warmup + 1 || (b->cfg.warmup == 0 && b->completed == 1))
        b->t_start = uv_hrtime();
    if (b->completed > (uint64_t)b->cfg.warmup && !b->stopping) {
        b->measured++;
        b->kinds[w->res.kind]++;
        uint64_t us = (w->done_ns - w->submit_ns) / 1000;
        b->hist[us / 10 < NBUCKETS - 1 ? us / 10 : NBUCKETS - 1]++;
        double el = (double)(uv_hrtime() - b->t_start) / 1e9;
        if (b->measured >= (uint64_t)b->cfg.requests || el >= b->cfg.seconds) {
            b->t_end = uv_hrtime();
            b->stopping = true;
            rd_pool_work_put(b->pool, w);
            rd_pool_close(b->pool, on_pool_closed, b);
            return;
        }
    }
    if (!b->stopping && b->submitted < total)
        submit_one(b, w);
    else
        rd_pool_work_put(b->pool, w);
}

static double pct(const bench_t *b, double p) {
    uint64_t want = (uint64_t)((double)b->measured * p), acc = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        acc += b->hist[i];
        if (acc > want) return (double)(i + 1) * 0.01; /* ms, bucket upper bound */
    }
    return (double)NBUCKETS * 0.01;
}

/* ---- the simulator child ---- */

static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    socklen_t l = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &l);
    close(fd);
    return ntohs(sa.sin_port);
}

static bool port_open(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

static void on_child_exit(uv_process_t *p, int64_t status, int sig) {
    uv_close((uv_handle_t *)p, NULL);
}

static int start_sim(bench_t *b, uv_process_t *proc, char *url, size_t cap, const char *argv0) {
    char path[1024];
    if (b->cfg.sim) {
        snprintf(path, sizeof path, "%s", b->cfg.sim);
    } else {
        const char *slash = strrchr(argv0, '/');
        snprintf(path, sizeof path, "%.*sredial-sim", slash ? (int)(slash - argv0 + 1) : 0, argv0);
    }
    int port = free_port();
    if (port < 0) return RD_EIO;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    char *args[64];
    int n = 0;
    char *extra = rd_strdup(b->cfg.sim_args ? b->cfg.sim_args : "");
    args[n++] = path;
    args[n++] = "--listen";
    args[n++] = listen;
    args[n++] = "--report";
    args[n++] = "/dev/null";
    args[n++] = "--exotel-rate-per-min";
    args[n++] = "0";
    args[n++] = "--twilio-rate-per-s";
    args[n++] = "0";
    args[n++] = "--time-scale";
    args[n++] = "1000";
    for (char *save = NULL, *t = strtok_r(extra, " ", &save); t && n < 62;
         t = strtok_r(NULL, " ", &save))
        args[n++] = t;
    args[n] = NULL;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_INHERIT_FD, .data.fd = 2}};
    uv_process_options_t po = {
        .file = path, .args = args, .exit_cb = on_child_exit, .stdio_count = 3, .stdio = stdio};
    int rc = uv_spawn(b->loop, proc, &po);
    rd_free(extra);
    if (rc != 0) {
        fprintf(stderr, "dialbench: cannot start %s: %s\n", path, uv_strerror(rc));
        return RD_EIO;
    }
    for (int i = 0; i < 500 && !port_open(port); i++) uv_sleep(10);
    if (!port_open(port)) {
        fprintf(stderr, "dialbench: %s did not listen on %s\n", path, listen);
        uv_process_kill(proc, SIGKILL);
        return RD_EIO;
    }
    snprintf(url, cap, "http://%s", listen);
    return 0;
}

int main(int argc, char **argv) {
    bench_t *b = rd_calloc(1, sizeof *b);
    char err[256];
    int rc = rd_opts_parse(opts, RD_ARRAY_LEN(opts), &b->cfg, argc, argv, NULL,
                           "usage: redial-dialbench [options]: dial requests/s of the worker pool",
                           err, sizeof err);
    if (rc != 0) {
        if (rc != 1) fprintf(stderr, "redial-dialbench: %s\n", err);
        rd_opts_free(opts, RD_ARRAY_LEN(opts), &b->cfg);
        rd_free(b);
        return rc == 1 ? 0 : 2;
    }
    if (b->cfg.workers < 1 || b->cfg.inflight < 1 || b->cfg.campaigns < 1 || b->cfg.requests < 1 ||
        b->cfg.warmup < 0) {
        fprintf(stderr, "redial-dialbench: workers, inflight, campaigns, requests must be >= 1\n");
        return 2;
    }
    rd_prov_t prov;
    if (rd_prov_parse(b->cfg.provider, strlen(b->cfg.provider), &prov) != 0) {
        fprintf(stderr, "redial-dialbench: --provider: exotel or twilio\n");
        return 2;
    }
    uv_loop_t loop;
    uv_loop_init(&loop);
    b->loop = &loop;
    uv_process_t proc;
    bool child = false;
    char url[256];
    if (b->cfg.url) {
        snprintf(url, sizeof url, "%s", b->cfg.url);
    } else {
        if (start_sim(b, &proc, url, sizeof url, argv[0]) != 0) return 1;
        child = true;
    }

    rd_account_cfg_t acc;
    rd_account_cfg_init(&acc);
    acc.kind = prov;
    acc.base_url = url;
    acc.sid = b->cfg.sid ? b->cfg.sid : prov == RD_PROV_TWILIO ? "ACsim" : "sim";
    acc.key = prov == RD_PROV_EXOTEL ? b->cfg.key : NULL;
    acc.token = b->cfg.token;
    acc.breaker_failures = 0; /* measure, do not protect */
    rd_pool_cfg_t pc = {.workers = (unsigned)b->cfg.workers,
                        .max_inflight = (unsigned)b->cfg.inflight,
                        .max_conns = (unsigned)b->cfg.conns,
                        .accounts = &acc,
                        .n_accounts = 1,
                        .on_result = on_result,
                        .data = b};
    if ((rc = rd_pool_create(&loop, &pc, &b->pool)) != 0) {
        fprintf(stderr, "redial-dialbench: pool: %s\n", rd_strerror(rc));
        return 1;
    }
    uint64_t window = (uint64_t)b->cfg.workers * (uint64_t)b->cfg.inflight * 2;
    uint64_t total = (uint64_t)b->cfg.warmup + (uint64_t)b->cfg.requests;
    for (uint64_t i = 0; i < window && i < total; i++) submit_one(b, rd_pool_work_get(b->pool));
    uv_rusage_t ru0, ru1;
    uv_getrusage(&ru0);
    while (!b->pool_closed) uv_run(&loop, UV_RUN_ONCE);
    uv_getrusage(&ru1);
    double sim_cpu = -1;
    if (child) {
        uv_process_kill(&proc, SIGTERM);
        uv_run(&loop, UV_RUN_DEFAULT); /* until the exit callback reaped it */
        struct rusage rc_ru;
        if (getrusage(RUSAGE_CHILDREN, &rc_ru) == 0)
            sim_cpu = (double)rc_ru.ru_utime.tv_sec + (double)rc_ru.ru_stime.tv_sec +
                      ((double)rc_ru.ru_utime.tv_usec + (double)rc_ru.ru_stime.tv_usec) / 1e6;
    }
    uv_loop_close(&loop);

    double secs = (double)(b->t_end - b->t_start) / 1e9;
    double rps = secs > 0 ? (double)b->measured / secs : 0;
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 ((double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) +
                  (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) /
                     1e6;
    if (b->cfg.json) {
        printf("{\"provider\":\"%s\",\"workers\":%d,\"inflight\":%d,\"requests\":%llu,"
               "\"seconds\":%.3f,\"requests_per_s\":%.0f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,"
               "\"p999_ms\":%.2f,\"placed\":%llu,\"transient\":%llu,\"refused\":%llu,"
               "\"bench_cpu_s\":%.2f,\"sim_cpu_s\":%.2f}\n",
               b->cfg.provider, b->cfg.workers, b->cfg.inflight, (unsigned long long)b->measured,
               secs, rps, pct(b, 0.5), pct(b, 0.99), pct(b, 0.999),
               (unsigned long long)b->kinds[RD_RES_PLACED],
               (unsigned long long)b->kinds[RD_RES_TRANSIENT],
               (unsigned long long)b->kinds[RD_RES_REFUSED], cpu, sim_cpu);
    } else {
        printf("provider        %s (%s)\n", b->cfg.provider, url);
        printf("workers         %d x %d in flight\n", b->cfg.workers, b->cfg.inflight);
        printf("measured        %llu requests in %.3f s\n", (unsigned long long)b->measured, secs);
        printf("dial requests/s %.0f\n", rps);
        printf("latency ms      p50 %.2f  p99 %.2f  p99.9 %.2f (submit -> result)\n", pct(b, 0.5),
               pct(b, 0.99), pct(b, 0.999));
        printf("results         placed %llu  transient %llu  refused %llu  other %llu\n",
               (unsigned long long)b->kinds[RD_RES_PLACED],
               (unsigned long long)b->kinds[RD_RES_TRANSIENT],
               (unsigned long long)b->kinds[RD_RES_REFUSED],
               (unsigned long long)(b->measured - b->kinds[RD_RES_PLACED] -
                                    b->kinds[RD_RES_TRANSIENT] - b->kinds[RD_RES_REFUSED]));
        printf("bench cpu       %.2f s (all threads of this process, whole run)\n", cpu);
        if (sim_cpu >= 0)
            printf("sim cpu         %.2f s (the redial-sim child, whole run)\n", sim_cpu);
    }
    rd_opts_free(opts, RD_ARRAY_LEN(opts), &b->cfg);
    rd_free(b);
    return 0;
}
