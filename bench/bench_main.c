/*
 * redial-bench — the end-to-end load harness of SPEC section 7.
 *
 * It starts (or, with --redis, uses) a Redis, starts redial-sim with the
 * seed's answer model (40% connect on attempt 1, cumulative 60/70/73/74%;
 * account rate limits off) and K redial-server processes, all on loopback
 * and all on one clock (--time-scale, --time-origin, and an epoch taken at
 * start). It creates C campaigns through the control API of engine 1 and
 * tells the referee their limits, then enqueues N jobs through the main
 * entry (XADD msgpack to <prefix>:inbox, pipelined), and follows the
 * <prefix>:events stream until every job has its `final` event.
 *
 * Figures, and how each is measured:
 *  - attempts/s: attempt events / drain time; peak: the busiest wall second
 *    of attempt starts.
 *  - drain time: from the first XADD to the Redis timestamp (stream id) of
 *    the last `final` event.
 *  - due->dial lag, from outside: attempt 1 is due when it was enqueued (the
 *    bench's clock reading just before its XADD); attempt k > 1 of the fixed
 *    strategy is due at started_ms(k-1) + interval. Lag = started_ms(k) - due
 *    in policy ms, divided by the time scale to give wall ms. A retry whose
 *    due would fall at or after the window end is moved by the policy and
 *    gives no sample (counted as `moved`). started_ms is the engine's claim
 *    time of the attempt (the lease start recorded by the claim script), so
 *    lag covers ingest (attempt 1), the wait in the due set and the claim;
 *    not the HTTP dial that follows.
 *  - Redis commands per attempt: INFO stats total_commands_processed delta
 *    over the run (Redis counts the commands a Lua script calls, too) minus
 *    the bench's own reads, / attempts. The XADDs of the enqueue are kept in
 *    (they are the producer's share of the work).
 *  - engine CPU: utime + stime (/proc/<pid>/stat) of every engine, summed,
 *    per 1,000 attempts; the same for the sim, Redis (INFO cpu) and the
 *    bench itself, so the split of the machine is visible.
 *  - engine RSS: VmHWM of each engine at the end.
 *  - Redis bytes per pending job: a separate phase after the run: M jobs with
 *    not_before 30 policy days ahead into one more campaign, used_memory
 *    delta / M once all are stored (also given without the inbox stream's
 *    growth: the engine acks inbox entries but never deletes them), then the
 *    campaign is canceled.
 *  - violations: the referee's report (GET /sim/report); any non-zero count
 *    makes the exit status 1.
 *
 * Bounded: --timeout stops the run (exit 1). Every process started here is
 * stopped before exit, on SIGINT/SIGTERM too, and dies with the bench even
 * if the bench is SIGKILLed (PR_SET_PDEATHSIG). Exit codes are those of every
 * binary (common/exit.h): 0 ok; 1 violations, incomplete, timeout, interrupted
 * or a setup failure; 2 usage (unknown flag, value out of range); 3 its Redis
 * could not be started or reached.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <msgpack.h>

#include <openssl/evp.h>

#include "bench/benchrun.h"
#include "common/exit.h"
#include "common/opts.h"
#include "proto/clock.h"
#include "proto/job.h"
#include "proto/rd.h"
#include "rd_lua.h"

#define MAX_ENGINES 16
#define SID "bench"
#define KEY "benchkey"
#define TOKEN "benchtoken"
#define API_USER "bench"
#define API_PASS "benchpass"
#define MEM_CAMPAIGN "benchmem"

typedef struct cfg {
    char *redis, *redis_server, *prefix, *bin_dir, *json, *origin, *engine_args, *sim_args,
        *workdir;
    int engines, workers, campaigns, jobs, concurrency, max_attempts, interval_min;
    int window_hours, seed, mem_jobs, enqueue_rate, keep, quiet, profile, w1;
    double time_scale, timeout;
} cfg_t;

#define O(f) offsetof(cfg_t, f)
static const rd_opt_t OPTS[] = {
    {"redis", "REDIAL_BENCH_REDIS", "", RD_OPT_STR, O(redis),
     "use this Redis (URL) instead of starting a redis-server; keys under --prefix are deleted "
     "at the end"},
    {"redis-server", NULL, "redis-server", RD_OPT_STR, O(redis_server),
     "redis-server binary to start when --redis is not given"},
    {"prefix", NULL, "", RD_OPT_STR, O(prefix), "key prefix (default {redialbench<pid>})"},
    {"bin-dir", NULL, "", RD_OPT_STR, O(bin_dir),
     "where redial-server and redial-sim are (default: next to this binary)"},
    {"engines", NULL, "1", RD_OPT_INT, O(engines), "K: redial-server processes"},
    {"workers", NULL, "0", RD_OPT_INT, O(workers),
     "worker threads per engine (0: not given, the engine's default)"},
    {"engine-args", NULL, "", RD_OPT_STR, O(engine_args),
     "extra redial-server flags, space separated"},
    {"sim-args", NULL, "", RD_OPT_STR, O(sim_args), "extra redial-sim flags, space separated"},
    {"campaigns", NULL, "4", RD_OPT_INT, O(campaigns), "C: campaigns (jobs spread round-robin)"},
    {"jobs", NULL, "10000", RD_OPT_INT, O(jobs), "N: jobs (distinct numbers)"},
    {"concurrency", NULL, "100", RD_OPT_INT, O(concurrency), "limits.concurrency per campaign"},
    {"max-attempts", NULL, "4", RD_OPT_INT, O(max_attempts),
     "retry.max_attempts (also the per-number daily cap, so no retry moves a day)"},
    {"interval-min", NULL, "60", RD_OPT_INT, O(interval_min),
     "retry.interval_minutes (fixed strategy), policy minutes"},
    {"window-hours", NULL, "12", RD_OPT_INT, O(window_hours),
     "calling window length from 09:00 Asia/Kolkata (1..14)"},
    {"time-scale", NULL, "1200", RD_OPT_DOUBLE, O(time_scale),
     "policy seconds per wall second, for every process"},
    {"time-origin", NULL, "2026-12-01T09:00:00+05:30", RD_OPT_STR, O(origin),
     "policy time at start (ISO-8601); the window opens at its 09:00 local"},
    {"seed", NULL, "1", RD_OPT_INT, O(seed), "simulator random seed"},
    {"enqueue-rate", NULL, "0", RD_OPT_INT, O(enqueue_rate),
     "jobs per wall second (0: all at once, pipelined)"},
    {"mem-jobs", NULL, "10000", RD_OPT_INT, O(mem_jobs),
     "M: jobs of the memory phase (0: skip it)"},
    {"timeout", NULL, "300", RD_OPT_DOUBLE, O(timeout), "wall seconds before giving up (exit 1)"},
    {"json", NULL, "", RD_OPT_STR, O(json),
     "also write the figures as JSON to this file ('-': stdout)"},
    {"workdir", NULL, "", RD_OPT_STR, O(workdir),
     "directory for logs and reports (default: a temp dir, removed unless the run fails)"},
    {"keep", NULL, "0", RD_OPT_BOOL, O(keep), "keep the work dir (logs, referee report)"},
    {"quiet", NULL, "0", RD_OPT_BOOL, O(quiet), "no progress lines on stderr"},
    {"w1", NULL, "0", RD_OPT_BOOL, O(w1),
     "workload W1 of issue 13, exactly: 50,000 jobs, 10 campaigns x concurrency 100, up to 3 "
     "attempts, 100 ms fixed retry (scale 600, interval 1 policy min), window 14 h; overrides "
     "those flags"},
    {"profile-scripts", NULL, "0", RD_OPT_BOOL, O(profile),
     "Redis time per script: SLOWLOG with threshold 0 during the run, drained by the bench "
     "(adds Redis work: use for the split, not for the headline figures)"},
};
#define N_OPTS (sizeof OPTS / sizeof OPTS[0])

static const char USAGE[] =
    "usage: redial-bench [options]\n\n"
    "End-to-end load harness: starts (or uses) Redis, redial-sim (seed answer model) and K\n"
    "redial-server engines on one clock, creates C campaigns, enqueues N jobs into\n"
    "<prefix>:inbox, runs until every job is final, and prints attempts/s, due->dial lag,\n"
    "drain time, Redis commands per attempt, CPU per 1k attempts, engine RSS, Redis bytes\n"
    "per pending job and the referee's violation counts (any violation: exit 1).\n"
    "Loopback only; every process it starts is stopped at exit (also on SIGINT).";

static volatile sig_atomic_t g_stop;
static void on_signal(int sig) { g_stop = sig; }

typedef struct bench {
    cfg_t cfg;
    rd_clock_t clock;
    int64_t epoch_ms;
    char workdir[400];
    bool own_workdir;
    char prefix[96];
    char redis_host[128];
    int redis_port;
    char redis_url[256];
    rd_bench_proc_t redis, sim, eng[MAX_ENGINES];
    int eng_port[MAX_ENGINES];
    char sim_base[64];
    redisContext *rc;
    long long own_cmds; /* commands the bench sent during the measured window */
    char **extra_engine, **extra_sim;
} bench_t;

/* ---- small helpers ------------------------------------------------------- */

static void logp(const bench_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logp(const bench_t *b, const char *fmt, ...) {
    if (b->cfg.quiet) return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Splits a space-separated string into a NULL-terminated owned vector. */
static char **split_args(const char *s) {
    size_t cap = 8, n = 0;
    char **v = calloc(cap, sizeof *v);
    const char *p = s ? s : "";
    while (*p) {
        while (*p == ' ') p++;
        if (!*p) break;
        const char *e = p;
        while (*e && *e != ' ') e++;
        if (n + 2 > cap) {
            cap *= 2;
            v = realloc(v, cap * sizeof *v);
        }
        v[n++] = strndup(p, (size_t)(e - p));
        p = e;
    }
    v[n] = NULL;
    return v;
}

static void free_args(char **v) {
    for (size_t i = 0; v && v[i]; i++) free(v[i]);
    free(v);
}

static redisReply *cmd(bench_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(b->rc, fmt, ap);
    va_end(ap);
    b->own_cmds++;
    return r;
}

/* A numeric field of an INFO section ("used_memory", "total_commands_processed"). */
static double info_num(bench_t *b, const char *section, const char *field) {
    redisReply *r = cmd(b, "INFO %s", section);
    double v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        char key[96];
        snprintf(key, sizeof key, "\n%s:", field);
        const char *p = strstr(r->str, key);
        if (p) v = strtod(p + strlen(key), NULL);
    }
    if (r) freeReplyObject(r);
    return v;
}

static double redis_cpu_s(bench_t *b) {
    return info_num(b, "cpu", "used_cpu_user") + info_num(b, "cpu", "used_cpu_sys");
}

/* INFO commandstats as a jansson object cmd -> [calls, usec] (owned). */
static json_t *commandstats(bench_t *b) {
    json_t *o = json_object();
    redisReply *r = cmd(b, "INFO commandstats");
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = r->str;
        while ((p = strstr(p, "cmdstat_")) != NULL) {
            p += 8;
            const char *colon = strchr(p, ':');
            const char *calls = colon ? strstr(colon, "calls=") : NULL;
            const char *usec = calls ? strstr(calls, "usec=") : NULL;
            if (!colon || !calls || !usec) break;
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(colon - p), p);
            json_object_set_new(o, name,
                                json_pack("[I, I]", (json_int_t)strtoll(calls + 6, NULL, 10),
                                          (json_int_t)strtoll(usec + 5, NULL, 10)));
            p = usec;
        }
    }
    if (r) freeReplyObject(r);
    return o;
}

static int64_t engines_cpu_ms(const bench_t *b) {
    int64_t t = 0;
    for (int i = 0; i < b->cfg.engines; i++) {
        int64_t c = b->eng[i].pid > 0 ? rd_bench_cpu_ms(b->eng[i].pid) : -1;
        if (c > 0) t += c;
    }
    return t;
}

/* ---- Redis time per script (--profile-scripts) ------------------------------ */

/*
 * The engine sends its scripts as EVALSHA of lib.lua + "\n" + <script>.lua
 * (store/store.c); the same SHA1s computed here name the slowlog entries.
 * The slowlog only logs client commands, so a script's duration includes the
 * commands it calls. Entries logged between a SLOWLOG GET and the RESET that
 * follows are lost: the profile is a sample (its call counts say how big).
 */
typedef struct prof_entry {
    char name[40];
    char sha[41];
    long long calls;
    long long usec;
} prof_entry_t;

#define PROF_MAX 48
typedef struct prof {
    prof_entry_t e[PROF_MAX];
    int n;
} prof_t;

static void sha1_hex(const char *a, size_t alen, const char *b2, size_t blen, char out[41]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), NULL);
    EVP_DigestUpdate(ctx, a, alen);
    EVP_DigestUpdate(ctx, "\n", 1);
    EVP_DigestUpdate(ctx, b2, blen);
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

static void prof_init(prof_t *p) {
    memset(p, 0, sizeof *p);
    static const struct {
        const char *name;
        const char *src;
        const size_t *len;
    } sc[] = {
        {"enqueue.lua", rd_lua_enqueue, &rd_lua_enqueue_len},
        {"claim.lua", rd_lua_claim, &rd_lua_claim_len},
        {"placed.lua", rd_lua_placed, &rd_lua_placed_len},
        {"release.lua", rd_lua_release, &rd_lua_release_len},
        {"lookup.lua", rd_lua_lookup, &rd_lua_lookup_len},
        {"settle.lua", rd_lua_settle, &rd_lua_settle_len},
        {"recover.lua", rd_lua_recover, &rd_lua_recover_len},
        {"campaign_create.lua", rd_lua_campaign_create, &rd_lua_campaign_create_len},
        {"campaign_state.lua", rd_lua_campaign_state, &rd_lua_campaign_state_len},
        {"campaign_get.lua", rd_lua_campaign_get, &rd_lua_campaign_get_len},
        {"optout.lua", rd_lua_optout, &rd_lua_optout_len},
        {"pool_set.lua", rd_lua_pool_set, &rd_lua_pool_set_len},
        {"stats.lua", rd_lua_stats, &rd_lua_stats_len},
        {"dnd_add.lua", rd_lua_dnd_add, &rd_lua_dnd_add_len},
    };
    for (size_t i = 0; i < sizeof sc / sizeof sc[0]; i++) {
        prof_entry_t *e = &p->e[p->n++];
        snprintf(e->name, sizeof e->name, "%s", sc[i].name);
        sha1_hex(rd_lua_lib, rd_lua_lib_len, sc[i].src, *sc[i].len, e->sha);
    }
}

static prof_entry_t *prof_get(prof_t *p, const char *cmdname, size_t len, const char *sha,
                              size_t shalen) {
    for (int i = 0; i < p->n; i++) {
        if (sha && shalen == 40 && !memcmp(p->e[i].sha, sha, 40)) return &p->e[i];
        if (!sha && cmdname && strlen(p->e[i].name) == len &&
            !strncasecmp(p->e[i].name, cmdname, len))
            return &p->e[i];
    }
    if (p->n == PROF_MAX) return NULL;
    prof_entry_t *e = &p->e[p->n++];
    if (sha)
        snprintf(e->name, sizeof e->name, "evalsha %.8s", sha);
    else
        snprintf(e->name, sizeof e->name, "%.*s", (int)(len < 39 ? len : 39),
                 cmdname ? cmdname : "?");
    for (char *c = e->name; *c; c++)
        if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
    return e;
}

static void prof_drain(bench_t *b, prof_t *p) {
    redisReply *r = cmd(b, "SLOWLOG GET -1");
    redisReply *z = cmd(b, "SLOWLOG RESET");
    if (z) freeReplyObject(z);
    if (!r) return;
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 4) continue;
        redisReply *args = e->element[3];
        if (args->type != REDIS_REPLY_ARRAY || args->elements < 1) continue;
        const char *c0 = args->element[0]->str;
        size_t l0 = args->element[0]->len;
        prof_entry_t *pe;
        if (l0 == 7 && !strncasecmp(c0, "evalsha", 7) && args->elements >= 2)
            pe = prof_get(p, NULL, 0, args->element[1]->str, args->element[1]->len);
        else
            pe = prof_get(p, c0, l0, NULL, 0);
        if (!pe) continue;
        pe->calls++;
        pe->usec += e->element[2]->integer;
    }
    freeReplyObject(r);
}

/* ---- start / stop -------------------------------------------------------- */

static int redis_connect(bench_t *b) {
    struct timeval tv = {5, 0};
    for (int i = 0; i < 200 && !g_stop; i++) {
        b->rc = redisConnectWithTimeout(b->redis_host, b->redis_port, tv);
        if (b->rc && !b->rc->err) {
            redisReply *r = redisCommand(b->rc, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            if (ok) return 0;
        }
        if (b->rc) redisFree(b->rc);
        b->rc = NULL;
        if (b->redis.pid && !rd_bench_alive(&b->redis, NULL)) break;
        rd_bench_sleep_ms(25);
    }
    return -1;
}

static int parse_redis_url(bench_t *b, const char *url) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strchr(p, '@');
    if (at) p = at + 1;
    size_t hl = strcspn(p, ":/");
    if (hl == 0 || hl >= sizeof b->redis_host) return -1;
    memcpy(b->redis_host, p, hl);
    b->redis_host[hl] = '\0';
    b->redis_port = p[hl] == ':' ? atoi(p + hl + 1) : 6379;
    snprintf(b->redis_url, sizeof b->redis_url, "%s", url);
    return 0;
}

static int start_redis(bench_t *b) {
    if (b->cfg.redis[0]) {
        if (parse_redis_url(b, b->cfg.redis) != 0) {
            fprintf(stderr, "bench: --redis: cannot parse '%s'\n", b->cfg.redis);
            return -1;
        }
        if (strcmp(b->redis_host, "127.0.0.1") && strcmp(b->redis_host, "localhost") &&
            strcmp(b->redis_host, "::1")) {
            fprintf(stderr, "bench: --redis must be a loopback address\n");
            return -1;
        }
        return redis_connect(b);
    }
    for (int attempt = 0; attempt < 5; attempt++) {
        int port = rd_bench_free_port();
        char ports[16];
        snprintf(ports, sizeof ports, "%d", port);
        snprintf(b->redis.name, sizeof b->redis.name, "redis");
        snprintf(b->redis.log, sizeof b->redis.log, "%s/redis.log", b->workdir);
        char *argv[] = {b->cfg.redis_server,
                        "--bind",
                        "127.0.0.1",
                        "--port",
                        ports,
                        "--dir",
                        b->workdir,
                        "--save",
                        "",
                        "--appendonly",
                        "no",
                        "--daemonize",
                        "no",
                        "--maxmemory-policy",
                        "noeviction",
                        NULL};
        if (rd_bench_spawn(&b->redis, argv, NULL) != 0) return -1;
        snprintf(b->redis_host, sizeof b->redis_host, "127.0.0.1");
        b->redis_port = port;
        snprintf(b->redis_url, sizeof b->redis_url, "redis://127.0.0.1:%d/0", port);
        if (redis_connect(b) == 0) return 0;
        rd_bench_stop(&b->redis, SIGKILL, 1000);
    }
    fprintf(stderr, "bench: redis-server did not start (log %s)\n", b->redis.log);
    return -1;
}

static bool wait_healthy(bench_t *b, rd_bench_proc_t *p, const char *base) {
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", base);
    for (int i = 0; i < 500 && !g_stop; i++) {
        if (!rd_bench_alive(p, NULL)) {
            fprintf(stderr, "bench: %s exited at start (log %s)\n", p->name, p->log);
            return false;
        }
        if (rd_bench_http("GET", url, NULL, NULL, 1000, NULL) == 200) return true;
        rd_bench_sleep_ms(20);
    }
    fprintf(stderr, "bench: %s did not become healthy (log %s)\n", p->name, p->log);
    (void)b;
    return false;
}

/* Appends the flags that put a child on the bench's clock; returns the new count. */
static int add_clock(const char **argv, int n, const char *scale, const char *origin,
                     const char *epoch) {
    const char *v[] = {"--time-scale", scale, "--time-origin", origin, "--time-epoch", epoch};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) argv[n++] = v[i];
    return n;
}

static char g_env_sim[3][96];
static char g_env_eng[6][96];

static int start_sim(bench_t *b) {
    char port_file[600], report[600], seed[16], scale[32], epoch[32];
    snprintf(port_file, sizeof port_file, "%s/sim.port", b->workdir);
    snprintf(report, sizeof report, "%s/sim-report.json", b->workdir);
    snprintf(seed, sizeof seed, "%d", b->cfg.seed);
    snprintf(scale, sizeof scale, "%.17g", b->cfg.time_scale);
    snprintf(epoch, sizeof epoch, "%lld", (long long)b->epoch_ms);
    char bin[600];
    snprintf(bin, sizeof bin, "%s/redial-sim", b->cfg.bin_dir);
    const char *argv[80];
    int n = 0;
    const char *fixed[] = {bin,
                           "--listen",
                           "127.0.0.1:0",
                           "--port-file",
                           port_file,
                           "--report",
                           report,
                           "--model",
                           "seed",
                           "--seed",
                           seed,
                           "--exotel-rate-per-min",
                           "0",
                           "--twilio-rate-per-s",
                           "0",
                           "--exotel-sid",
                           SID,
                           "--exotel-key",
                           KEY};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) argv[n++] = fixed[i];
    n = add_clock(argv, n, scale, b->cfg.origin, epoch);
    for (int i = 0; b->extra_sim[i] && n < 78; i++) argv[n++] = b->extra_sim[i];
    argv[n] = NULL;
    snprintf(g_env_sim[0], sizeof g_env_sim[0], "REDIAL_SIM_EXOTEL_TOKEN=%s", TOKEN);
    snprintf(g_env_sim[1], sizeof g_env_sim[1], "REDIAL_SIM_TWILIO_TOKEN=%s", TOKEN);
    char *env[] = {g_env_sim[0], g_env_sim[1], NULL};
    snprintf(b->sim.name, sizeof b->sim.name, "redial-sim");
    snprintf(b->sim.log, sizeof b->sim.log, "%s/sim.log", b->workdir);
    unlink(port_file);
    if (rd_bench_spawn(&b->sim, (char *const *)argv, env) != 0) return -1;
    for (int i = 0; i < 500 && !g_stop; i++) {
        char *p = rd_bench_slurp(port_file);
        int port = p ? atoi(p) : 0;
        free(p);
        if (port > 0) {
            snprintf(b->sim_base, sizeof b->sim_base, "http://127.0.0.1:%d", port);
            return wait_healthy(b, &b->sim, b->sim_base) ? 0 : -1;
        }
        if (!rd_bench_alive(&b->sim, NULL)) break;
        rd_bench_sleep_ms(20);
    }
    fprintf(stderr, "bench: redial-sim did not start (log %s)\n", b->sim.log);
    return -1;
}

static int start_engine(bench_t *b, int i) {
    char bin[600], listen[64], admin[64], id[32], workers[16], scale[32], epoch[32];
    snprintf(bin, sizeof bin, "%s/redial-server", b->cfg.bin_dir);
    /* eng_port is the admin listener (API, /healthz); callbacks get their own port. */
    b->eng_port[i] = rd_bench_free_port();
    int cb_port = rd_bench_free_port();
    snprintf(listen, sizeof listen, "127.0.0.1:%d", cb_port);
    snprintf(admin, sizeof admin, "127.0.0.1:%d", b->eng_port[i]);
    snprintf(id, sizeof id, "bench-e%d", i + 1);
    snprintf(workers, sizeof workers, "%d", b->cfg.workers);
    snprintf(scale, sizeof scale, "%.17g", b->cfg.time_scale);
    snprintf(epoch, sizeof epoch, "%lld", (long long)b->epoch_ms);
    const char *argv[80];
    int n = 0;
    const char *fixed[] = {
        bin,    "--redis",         b->redis_url, "--prefix",       b->prefix,   "--listen",
        listen, "--provider",      "exotel",     "--provider-url", b->sim_base, "--provider-sid",
        SID,    "--provider-rate", "1000000/1",  "--engine-id",    id,          "--log-level",
        "warn", "--admin-listen",  admin};
    for (size_t k = 0; k < sizeof fixed / sizeof fixed[0]; k++) argv[n++] = fixed[k];
    n = add_clock(argv, n, scale, b->cfg.origin, epoch);
    if (b->cfg.workers > 0) {
        argv[n++] = "--workers";
        argv[n++] = workers;
    }
    for (int k = 0; b->extra_engine[k] && n < 78; k++) argv[n++] = b->extra_engine[k];
    argv[n] = NULL;
    snprintf(g_env_eng[0], sizeof g_env_eng[0], "REDIAL_PROVIDER_KEY=%s", KEY);
    snprintf(g_env_eng[1], sizeof g_env_eng[1], "REDIAL_PROVIDER_TOKEN=%s", TOKEN);
    snprintf(g_env_eng[2], sizeof g_env_eng[2], "REDIAL_API_KEY=%s", API_USER);
    snprintf(g_env_eng[3], sizeof g_env_eng[3], "REDIAL_API_TOKEN=%s", API_PASS);
    snprintf(g_env_eng[4], sizeof g_env_eng[4], "REDIAL_CALLBACK_SECRET=benchcallbacksecret");
    char *env[] = {g_env_eng[0], g_env_eng[1], g_env_eng[2], g_env_eng[3], g_env_eng[4], NULL};
    rd_bench_proc_t *p = &b->eng[i];
    snprintf(p->name, sizeof p->name, "engine%d", i + 1);
    snprintf(p->log, sizeof p->log, "%s/engine%d.log", b->workdir, i + 1);
    if (rd_bench_spawn(p, (char *const *)argv, env) != 0) return -1;
    char base[64];
    snprintf(base, sizeof base, "http://127.0.0.1:%d", b->eng_port[i]);
    return wait_healthy(b, p, base) ? 0 : -1;
}

static void delete_prefix(bench_t *b) {
    char match[128], cursor[32] = "0";
    snprintf(match, sizeof match, "%s*", b->prefix);
    do {
        redisReply *r = redisCommand(b->rc, "SCAN %s MATCH %s COUNT 1000", cursor, match);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r) freeReplyObject(r);
            return;
        }
        snprintf(cursor, sizeof cursor, "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *d = redisCommand(b->rc, "UNLINK %b", r->element[1]->element[i]->str,
                                         r->element[1]->element[i]->len);
            if (d) freeReplyObject(d);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
}

/* Stops everything started: engines first (SIGTERM drains), the sim (writes its report), Redis. */
static void stop_all(bench_t *b) {
    for (int i = 0; i < MAX_ENGINES; i++)
        if (b->eng[i].pid > 0) kill(b->eng[i].pid, SIGTERM);
    for (int i = 0; i < MAX_ENGINES; i++) rd_bench_stop(&b->eng[i], SIGTERM, 15000);
    rd_bench_stop(&b->sim, SIGTERM, 10000);
    if (b->rc && !b->redis.pid && b->cfg.redis[0] && !b->cfg.keep) delete_prefix(b);
    if (b->rc) redisFree(b->rc);
    b->rc = NULL;
    rd_bench_stop(&b->redis, SIGKILL, 2000);
}

static void rm_workdir(const bench_t *b) {
    const char *names[] = {"redis.log", "sim.log", "sim.port", "sim-report.json", NULL};
    char p[700];
    for (int i = 0; names[i]; i++) {
        snprintf(p, sizeof p, "%s/%s", b->workdir, names[i]);
        unlink(p);
    }
    for (int i = 0; i < MAX_ENGINES; i++) {
        snprintf(p, sizeof p, "%s/engine%d.log", b->workdir, i + 1);
        unlink(p);
    }
    rmdir(b->workdir);
}

/* ---- campaigns and enqueue ---------------------------------------------- */

static void campaign_name(int c, char *buf, size_t len) { snprintf(buf, len, "bench_%d", c); }

static int create_campaign(bench_t *b, const char *name) {
    char end[16];
    snprintf(end, sizeof end, "%02d:00", 9 + b->cfg.window_hours);
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:[], s:{s:i, s:i, s:s}, s:{s:s, s:s, s:s, s:i}, s:{s:i, s:i, s:i}}",
        "name", name, "caller_id", "08030000000", "call_flow_id", "1234", "numbers", "retry",
        "max_attempts", b->cfg.max_attempts, "interval_minutes", b->cfg.interval_min, "strategy",
        "fixed", "schedule", "daily_start", "09:00", "daily_end", end, "timezone", "Asia/Kolkata",
        "jitter_seconds", 0, "limits", "concurrency", b->cfg.concurrency,
        "max_attempts_per_number_per_day", b->cfg.max_attempts,
        "max_attempts_per_number_per_7_days", b->cfg.max_attempts > 7 ? b->cfg.max_attempts : 7);
    char *body = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    char url[160], *resp = NULL;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/Accounts/%s/Campaigns", b->eng_port[0], SID);
    long st = rd_bench_http("POST", url, body, API_USER ":" API_PASS, 10000, &resp);
    if (st != 201)
        fprintf(stderr, "bench: create campaign %s: HTTP %ld %s\n", name, st, resp ? resp : "");
    free(resp);
    free(body);
    if (st != 201) return -1;
    char ref[512];
    snprintf(ref, sizeof ref,
             "{\"name\":\"%s\",\"concurrency\":%d,\"max_attempts\":%d,\"max_per_day\":%d,"
             "\"daily_start\":\"09:00\",\"daily_end\":\"%s\",\"timezone\":\"Asia/Kolkata\"}",
             name, b->cfg.concurrency, b->cfg.max_attempts, b->cfg.max_attempts, end);
    snprintf(url, sizeof url, "%s/sim/campaigns", b->sim_base);
    st = rd_bench_http("POST", url, ref, NULL, 10000, NULL);
    if (st != 200 && st != 201) {
        fprintf(stderr, "bench: referee refused campaign %s: HTTP %ld\n", name, st);
        return -1;
    }
    return 0;
}

/*
 * XADDs jobs [from, to) with numbers <pfx><index>, campaign chosen by
 * campaign_of (NULL: the one named), pipelined in chunks. enq_ms, when
 * given, gets each job's policy enqueue time. Returns 0 or -1.
 */
static int enqueue(bench_t *b, int from, int to, const char *num_prefix, const char *fixed_campaign,
                   int64_t not_before, int64_t *enq_ms, int rate) {
    char key[128];
    snprintf(key, sizeof key, "%s:inbox", b->prefix);
    const int chunk = rate > 0 && rate < 1000 ? (rate / 10 > 0 ? rate / 10 : 1) : 1000;
    int64_t t0 = rd_bench_mono_ms();
    for (int i = from; i < to && !g_stop;) {
        int end = i + chunk < to ? i + chunk : to;
        int64_t now = rd_clock_now(&b->clock);
        for (int k = i; k < end; k++) {
            rd_job_msg_t m;
            rd_job_msg_init(&m);
            m.v = 1;
            if (fixed_campaign)
                snprintf(m.campaign, sizeof m.campaign, "%s", fixed_campaign);
            else
                campaign_name(k % b->cfg.campaigns, m.campaign, sizeof m.campaign);
            snprintf(m.to, sizeof m.to, "%s%08d", num_prefix, k);
            m.not_before_ms = not_before;
            char *buf = NULL;
            size_t len = 0;
            int rc = rd_job_msg_encode(&m, &buf, &len);
            rd_job_msg_deinit(&m);
            if (rc != 0) return -1;
            const char *argv[5] = {"XADD", key, "*", "m", buf};
            size_t lens[5] = {4, strlen(key), 1, 1, len};
            redisAppendCommandArgv(b->rc, 5, argv, lens);
            rd_free(buf);
            if (enq_ms) enq_ms[k] = now;
        }
        for (int k = i; k < end; k++) {
            redisReply *r = NULL;
            if (redisGetReply(b->rc, (void **)&r) != REDIS_OK || !r ||
                r->type == REDIS_REPLY_ERROR) {
                fprintf(stderr, "bench: XADD failed: %s\n", r ? r->str : b->rc->errstr);
                if (r) freeReplyObject(r);
                return -1;
            }
            freeReplyObject(r);
        }
        i = end;
        if (rate > 0) {
            int64_t should = t0 + (int64_t)((double)(i - from) * 1000.0 / rate);
            int64_t now_w = rd_bench_mono_ms();
            if (should > now_w) rd_bench_sleep_ms((int)(should - now_w));
        }
    }
    return g_stop ? -1 : 0;
}

/* ---- events --------------------------------------------------------------- */

typedef struct tally {
    long long attempts, finals, mem_events, other;
    long long outcomes[8];      /* by outcome name index */
    long long disp[8];          /* by disposition index */
    long long connected_at[16]; /* connected jobs by attempt count */
    int64_t last_final_wall_ms; /* Redis time of the last final (stream id) */
    double *lag1, *lagr;        /* lag samples (policy ms): attempt 1, retries */
    size_t n1, nr, cap1, capr;
    double *settle; /* call end -> attempt event in Redis, wall ms */
    size_t ns, caps;
    long long *per_sec; /* attempt starts by wall second since enqueue start */
    size_t n_sec;
    int64_t enq_wall_ms;
    int64_t last_first_wall_ms; /* wall time of the latest attempt-1 start */
} tally_t;

static const char *const OUTCOMES[] = {"completed", "in-progress", "busy",           "no-answer",
                                       "failed",    "canceled",    "invalid-number", "dnd"};
static const char *const DISPS[] = {"connected", "unreachable", "failed",   "invalid",
                                    "dnd",       "opted-out",   "canceled", "?"};

static bool mp_is(const msgpack_object *o, const char *s) {
    size_t n = strlen(s);
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == n && !memcmp(o->via.str.ptr, s, n);
}

static int64_t mp_int(const msgpack_object *o) {
    if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER) return (int64_t)o->via.u64;
    if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) return o->via.i64;
    if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        return (int64_t)o->via.f64;
    return INT64_MIN;
}

static int name_index(const msgpack_object *o, const char *const *names, int n) {
    for (int i = 0; i < n; i++)
        if (mp_is(o, names[i])) return i;
    return -1;
}

static void push(double **v, size_t *n, size_t *cap, double x) {
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 1024;
        double *nv = realloc(*v, nc * sizeof *nv);
        if (!nv) return;
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
}

/* One events entry (the msgpack of field m). */
static void on_event(bench_t *b, rd_bench_lag_t *lag, tally_t *t, const char *id, const char *buf,
                     size_t len) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    if (msgpack_unpack_next(&u, buf, len, NULL) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP) {
        t->other++;
        msgpack_unpacked_destroy(&u);
        return;
    }
    const msgpack_object *type = NULL, *campaign = NULL, *to = NULL, *attempt = NULL,
                         *started = NULL, *outcome = NULL, *disp = NULL, *attempts = NULL,
                         *ended = NULL;
    for (uint32_t i = 0; i < u.data.via.map.size; i++) {
        const msgpack_object *k = &u.data.via.map.ptr[i].key, *v = &u.data.via.map.ptr[i].val;
        if (mp_is(k, "type"))
            type = v;
        else if (mp_is(k, "campaign"))
            campaign = v;
        else if (mp_is(k, "to"))
            to = v;
        else if (mp_is(k, "attempt"))
            attempt = v;
        else if (mp_is(k, "started_ms"))
            started = v;
        else if (mp_is(k, "ended_ms"))
            ended = v;
        else if (mp_is(k, "outcome"))
            outcome = v;
        else if (mp_is(k, "disposition"))
            disp = v;
        else if (mp_is(k, "attempts"))
            attempts = v;
    }
    if (!type || !campaign || !to || to->type != MSGPACK_OBJECT_STR || to->via.str.size < 6) {
        t->other++;
    } else if (mp_is(campaign, MEM_CAMPAIGN)) {
        t->mem_events++;
    } else {
        /* "+9190" + index */
        char num[32];
        snprintf(num, sizeof num, "%.*s", (int)to->via.str.size, to->via.str.ptr);
        size_t idx = strncmp(num, "+9190", 5) == 0 ? (size_t)strtoull(num + 5, NULL, 10) : SIZE_MAX;
        if (mp_is(type, "attempt") && attempt && started) {
            t->attempts++;
            int64_t st = mp_int(started);
            int an = (int)mp_int(attempt);
            double l = rd_bench_lag_attempt(lag, idx, an, st);
            if (l > -1e299)
                push(an == 1 ? &t->lag1 : &t->lagr, an == 1 ? &t->n1 : &t->nr,
                     an == 1 ? &t->cap1 : &t->capr, l);
            int oi = outcome ? name_index(outcome, OUTCOMES, 8) : -1;
            if (oi >= 0) t->outcomes[oi]++;
            int64_t wall =
                b->epoch_ms + (int64_t)((double)(st - b->clock.origin_ms) / b->cfg.time_scale);
            int64_t sec = (wall - t->enq_wall_ms) / 1000;
            if (sec >= 0 && (size_t)sec < t->n_sec) t->per_sec[sec]++;
            if (an == 1 && wall > t->last_first_wall_ms) t->last_first_wall_ms = wall;
            /* The callback path: the call's end (the provider's EndTime, whole policy
             * seconds) to the settle's XADD (the event's stream id, Redis wall ms). */
            if (ended) {
                int64_t en = mp_int(ended);
                int64_t end_wall =
                    b->epoch_ms + (int64_t)((double)(en - b->clock.origin_ms) / b->cfg.time_scale);
                push(&t->settle, &t->ns, &t->caps, (double)(strtoll(id, NULL, 10) - end_wall));
            }
        } else if (mp_is(type, "final")) {
            if (rd_bench_lag_final(lag, idx)) {
                t->finals++;
                int di = disp ? name_index(disp, DISPS, 7) : -1;
                t->disp[di >= 0 ? di : 7]++;
                int64_t na = attempts ? mp_int(attempts) : 0;
                if (di == 0 && na >= 0 && na < 16) t->connected_at[na]++;
                t->last_final_wall_ms = strtoll(id, NULL, 10);
            }
        } else {
            t->other++;
        }
    }
    msgpack_unpacked_destroy(&u);
}

/* One XREAD of up to 5000 events after *last (blocking up to block_ms). Returns entries read or -1. */
static long read_events(bench_t *b, rd_bench_lag_t *lag, tally_t *t, char *last, size_t lastlen,
                        int block_ms) {
    char key[128];
    snprintf(key, sizeof key, "%s:events", b->prefix);
    redisReply *r = cmd(b, "XREAD COUNT 5000 BLOCK %d STREAMS %s %s", block_ms, key, last);
    if (!r) return -1;
    long n = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
        redisReply *entries = r->element[0]->element[1];
        for (size_t i = 0; i < entries->elements; i++) {
            redisReply *e = entries->element[i];
            if (e->elements != 2) continue;
            snprintf(last, lastlen, "%s", e->element[0]->str);
            redisReply *f = e->element[1];
            for (size_t k = 0; k + 1 < f->elements; k += 2)
                if (f->element[k]->len == 1 && f->element[k]->str[0] == 'm')
                    on_event(b, lag, t, e->element[0]->str, f->element[k + 1]->str,
                             f->element[k + 1]->len);
            n++;
        }
    } else if (r->type == REDIS_REPLY_ERROR) {
        fprintf(stderr, "bench: XREAD: %s\n", r->str);
        n = -1;
    }
    freeReplyObject(r);
    return n;
}

/* ---- memory phase ---------------------------------------------------------- */

typedef struct memres {
    bool done;
    long long jobs;
    double used_delta, inbox_delta, bytes_per_job, bytes_per_job_no_inbox;
    bool canceled;
} memres_t;

static long long hget_ll(bench_t *b, const char *key, const char *field) {
    redisReply *r = cmd(b, "HGET %s %s", key, field);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING)
        v = strtoll(r->str, NULL, 10);
    else if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    if (r) freeReplyObject(r);
    return v;
}

static long long memory_usage(bench_t *b, const char *key) {
    redisReply *r = cmd(b, "MEMORY USAGE %s SAMPLES 0", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    if (r) freeReplyObject(r);
    return v;
}

static void memory_phase(bench_t *b, memres_t *m, int64_t deadline) {
    memset(m, 0, sizeof *m);
    int M = b->cfg.mem_jobs;
    if (M <= 0) return;
    if (create_campaign(b, MEM_CAMPAIGN) != 0) return;
    char ckey[160], inbox[160];
    snprintf(ckey, sizeof ckey, "%s:c:%s", b->prefix, MEM_CAMPAIGN);
    snprintf(inbox, sizeof inbox, "%s:inbox", b->prefix);
    rd_bench_sleep_ms(200); /* let the engines go idle */
    double used0 = info_num(b, "memory", "used_memory");
    long long inbox0 = memory_usage(b, inbox);
    int64_t nb = rd_clock_now(&b->clock) + 30LL * 86400 * 1000;
    if (enqueue(b, 0, M, "+9180", MEM_CAMPAIGN, nb, NULL, 0) != 0) return;
    while (hget_ll(b, ckey, "enq") < M) {
        if (g_stop || rd_bench_mono_ms() > deadline) return;
        rd_bench_sleep_ms(50);
    }
    rd_bench_sleep_ms(200);
    double used1 = info_num(b, "memory", "used_memory");
    long long inbox1 = memory_usage(b, inbox);
    m->done = true;
    m->jobs = M;
    m->used_delta = used1 - used0;
    m->inbox_delta = (double)(inbox1 - inbox0);
    m->bytes_per_job = m->used_delta / M;
    m->bytes_per_job_no_inbox = (m->used_delta - m->inbox_delta) / M;
    char url[160];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/campaigns/%s", b->eng_port[0], MEM_CAMPAIGN);
    long st = rd_bench_http("DELETE", url, NULL, API_USER ":" API_PASS, 30000, NULL);
    if (st >= 200 && st < 300) {
        while (hget_ll(b, ckey, "fin") < M && !g_stop && rd_bench_mono_ms() < deadline)
            rd_bench_sleep_ms(50);
        m->canceled = hget_ll(b, ckey, "fin") >= M;
    }
}

/* ---- report ------------------------------------------------------------------ */

int main(int argc, char **argv) {
    bench_t B;
    memset(&B, 0, sizeof B);
    bench_t *b = &B;
    char err[256];
    int early_code = RD_EXIT_FAILED;
    int rc = rd_opts_parse(OPTS, N_OPTS, &b->cfg, argc, argv, NULL, USAGE, err, sizeof err);
    if (rc != 0) {
        if (rc != 1) fprintf(stderr, "redial-bench: %s\n", err);
        rd_opts_free(OPTS, N_OPTS, &b->cfg);
        return rc == 1 ? RD_EXIT_OK : RD_EXIT_USAGE;
    }
    cfg_t *c = &b->cfg;
    if (c->w1) {
        /* W1: the shape the BullMQ comparison of issue 13 was measured with. A policy
         * minute is 100 wall ms at scale 600: the 100 ms fixed retry. Scale 600 (not
         * 1200) and the longest window (14 policy hours = 84 wall s) so that even a slow
         * run ends inside the calling window: past its end retries move to the next
         * day and the drain time measures the night. */
        c->jobs = 50000;
        c->campaigns = 10;
        c->concurrency = 100;
        c->max_attempts = 3;
        c->time_scale = 600;
        c->interval_min = 1;
        c->window_hours = 14;
    }
    if (c->engines < 1 || c->engines > MAX_ENGINES || c->campaigns < 1 || c->campaigns > 1000 ||
        c->jobs < 1 || c->jobs > 99999999 || c->mem_jobs < 0 || c->mem_jobs > 99999999 ||
        c->max_attempts < 1 || c->max_attempts > 15 || c->interval_min < 1 || c->window_hours < 1 ||
        c->window_hours > 14 || c->time_scale <= 0 || c->timeout <= 0 || c->workers < 0 ||
        c->concurrency < 1) {
        fprintf(
            stderr,
            "redial-bench: out of range: engines 1..%d, campaigns 1..1000, jobs 1..99999999, "
            "max-attempts 1..15, window-hours 1..14, positive scale/timeout/workers/concurrency\n",
            MAX_ENGINES);
        early_code = RD_EXIT_USAGE;
        goto early;
    }
    if (!c->bin_dir[0]) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "redial-bench: cannot find my own path; give --bin-dir\n");
            goto early;
        }
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) *slash = '\0';
        rd_free(c->bin_dir);
        c->bin_dir = rd_strdup(self);
    }
    if (c->prefix[0])
        snprintf(b->prefix, sizeof b->prefix, "%s", c->prefix);
    else
        snprintf(b->prefix, sizeof b->prefix, "{redialbench%d}", (int)getpid());
    b->extra_engine = split_args(c->engine_args);
    b->extra_sim = split_args(c->sim_args);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (c->workdir[0]) {
        snprintf(b->workdir, sizeof b->workdir, "%s", c->workdir);
        mkdir(b->workdir, 0755);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(b->workdir, sizeof b->workdir, "%s/redial-bench.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(b->workdir)) {
            perror("redial-bench: mkdtemp");
            goto early;
        }
        b->own_workdir = true;
    }

    b->epoch_ms = rd_wall_ms();
    char epoch[32], scale[32];
    snprintf(epoch, sizeof epoch, "%lld", (long long)b->epoch_ms);
    snprintf(scale, sizeof scale, "%.17g", c->time_scale);
    if (rd_clock_init(&b->clock, scale, c->origin, epoch, err, sizeof err) != 0) {
        fprintf(stderr, "redial-bench: clock: %s\n", err);
        goto early;
    }
    /* The window opens at 09:00 local on the origin's day; the origin is meant to be that instant. */
    int64_t window_end = b->clock.origin_ms + (int64_t)c->window_hours * 3600000;

    int exit_code = 0;
    int64_t t_start = rd_bench_mono_ms();
    int64_t deadline = t_start + (int64_t)(c->timeout * 1000);
    rd_bench_lag_t lag;
    memset(&lag, 0, sizeof lag);
    tally_t t;
    memset(&t, 0, sizeof t);
    memres_t mem;
    memset(&mem, 0, sizeof mem);
    char *report = NULL;
    json_t *cs0 = NULL, *cs1 = NULL;
    prof_t prof;
    prof_init(&prof);

    char loadavg[64] = "";
    {
        FILE *f = fopen("/proc/loadavg", "r");
        if (f) {
            if (!fgets(loadavg, sizeof loadavg, f)) loadavg[0] = '\0';
            fclose(f);
            loadavg[strcspn(loadavg, "\n")] = '\0';
        }
    }

    if (start_redis(b) != 0) {
        exit_code = RD_EXIT_UNREACHABLE;
        goto done;
    }
    if (start_sim(b) != 0) {
        exit_code = RD_EXIT_FAILED;
        goto done;
    }
    for (int i = 0; i < c->engines; i++)
        if (start_engine(b, i) != 0) {
            exit_code = RD_EXIT_FAILED;
            goto done;
        }
    for (int i = 0; i < c->campaigns; i++) {
        char name[32];
        campaign_name(i, name, sizeof name);
        if (create_campaign(b, name) != 0) {
            exit_code = RD_EXIT_FAILED;
            goto done;
        }
    }
    logp(b, "redis %s prefix %s, sim %s, %d engine(s), %d campaign(s); enqueuing %d jobs",
         b->redis_url, b->prefix, b->sim_base, c->engines, c->campaigns, c->jobs);

    if (rd_bench_lag_init(&lag, (size_t)c->jobs, (int64_t)c->interval_min * 60000, window_end) !=
        0) {
        exit_code = RD_EXIT_FAILED;
        goto done;
    }
    t.n_sec = (size_t)c->timeout + 2;
    t.per_sec = calloc(t.n_sec, sizeof *t.per_sec);

    /* Baselines. */
    char last[64] = "0-0";
    {
        /* Skip events that exist already (none in a fresh prefix). */
        redisReply *r = cmd(b, "XREVRANGE %s:events + - COUNT 1", b->prefix);
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1)
            snprintf(last, sizeof last, "%s", r->element[0]->element[0]->str);
        if (r) freeReplyObject(r);
    }
    if (c->profile) {
        redisReply *r1 = cmd(b, "CONFIG SET slowlog-log-slower-than 0");
        redisReply *r2 = cmd(b, "CONFIG SET slowlog-max-len 1000000");
        redisReply *r3 = cmd(b, "SLOWLOG RESET");
        if (r1) freeReplyObject(r1);
        if (r2) freeReplyObject(r2);
        if (r3) freeReplyObject(r3);
    }
    double cmds0 = info_num(b, "stats", "total_commands_processed");
    b->own_cmds = 0; /* the bench's own commands from here on are not the system's work */
    cs0 = commandstats(b);
    double rcpu0 = redis_cpu_s(b);
    int64_t ecpu0 = engines_cpu_ms(b), scpu0 = rd_bench_cpu_ms(b->sim.pid);
    int64_t ecpu_each0[MAX_ENGINES];
    for (int i = 0; i < c->engines; i++) ecpu_each0[i] = rd_bench_cpu_ms(b->eng[i].pid);
    int64_t bcpu0 = rd_bench_self_cpu_ms();
    int64_t enq_wall = rd_wall_ms();
    int64_t enq_mono = rd_bench_mono_ms(), enq_done_mono = enq_mono;
    t.enq_wall_ms = enq_wall;

    /* The bench's own reads are not the system's work: count them apart. */
    if (enqueue(b, 0, c->jobs, "+9190", NULL, 0, lag.enq_ms, c->enqueue_rate) != 0) {
        exit_code = RD_EXIT_FAILED;
        goto measure;
    }
    enq_done_mono = rd_bench_mono_ms();
    logp(b, "enqueued %d jobs in %lld ms", c->jobs, (long long)(enq_done_mono - enq_mono));

    int64_t next_progress = rd_bench_mono_ms() + 2000;
    while (t.finals < c->jobs) {
        if (g_stop) {
            exit_code = RD_EXIT_FAILED;
            break;
        }
        if (rd_bench_mono_ms() > deadline) {
            fprintf(stderr, "bench: timeout after %.0f s: %lld of %d jobs final\n", c->timeout,
                    t.finals, c->jobs);
            exit_code = RD_EXIT_FAILED;
            break;
        }
        if (read_events(b, &lag, &t, last, sizeof last, 200) < 0) {
            exit_code = RD_EXIT_FAILED;
            break;
        }
        if (c->profile) prof_drain(b, &prof);
        bool dead = !rd_bench_alive(&b->sim, NULL);
        for (int i = 0; i < c->engines; i++) dead = dead || !rd_bench_alive(&b->eng[i], NULL);
        if (dead) {
            fprintf(stderr, "bench: a child process died (logs in %s)\n", b->workdir);
            exit_code = RD_EXIT_FAILED;
            break;
        }
        if (rd_bench_mono_ms() >= next_progress) {
            logp(b, "%5.1f s: %lld attempts, %lld/%d final",
                 (rd_bench_mono_ms() - enq_mono) / 1000.0, t.attempts, t.finals, c->jobs);
            next_progress += 2000;
        }
    }

measure:;
    /* The bench's own commands (reads, INFO) since the first INFO; the XADDs of the
     * enqueue are not counted in own_cmds: they are the producer's share of the work. */
    long long own_reads = b->own_cmds;
    double cmds1 = info_num(b, "stats", "total_commands_processed");
    cs1 = commandstats(b);
    double rcpu1 = redis_cpu_s(b);
    int64_t ecpu1 = engines_cpu_ms(b), scpu1 = rd_bench_cpu_ms(b->sim.pid);
    int64_t ecpu_each1[MAX_ENGINES];
    for (int i = 0; i < c->engines; i++) ecpu_each1[i] = rd_bench_cpu_ms(b->eng[i].pid);
    int64_t bcpu1 = rd_bench_self_cpu_ms();
    if (c->profile) {
        prof_drain(b, &prof);
        redisReply *r1 = cmd(b, "CONFIG SET slowlog-log-slower-than 10000");
        redisReply *r2 = cmd(b, "CONFIG SET slowlog-max-len 128");
        if (r1) freeReplyObject(r1);
        if (r2) freeReplyObject(r2);
    }
    int64_t hwm[MAX_ENGINES];
    for (int i = 0; i < c->engines; i++) hwm[i] = rd_bench_hwm_kb(b->eng[i].pid);

    if (exit_code == 0) {
        logp(b, "memory phase: %d jobs due in 30 policy days", c->mem_jobs);
        memory_phase(b, &mem, deadline);
    }

    {
        char url[128];
        snprintf(url, sizeof url, "%s/sim/report", b->sim_base);
        if (b->sim.pid > 0 && rd_bench_http("GET", url, NULL, NULL, 30000, &report) != 200) {
            free(report);
            report = NULL;
        }
    }

    /* ---- figures ---- */
    {
        double drain_ms = t.last_final_wall_ms > 0 ? (double)(t.last_final_wall_ms - enq_wall) : 0;
        double attempts = (double)t.attempts;
        long long peak = 0;
        for (size_t i = 0; i < t.n_sec; i++)
            if (t.per_sec[i] > peak) peak = t.per_sec[i];
        /* Burst rate: while first attempts were still waiting (the dispatcher always had
         * due work), every attempt started per wall second up to the last first attempt. */
        double burst = 0, burst_s = 0;
        if (t.last_first_wall_ms > enq_wall) {
            int64_t s1 = (t.last_first_wall_ms - enq_wall) / 1000;
            long long sum = 0;
            for (int64_t i = 0; i < s1 && (size_t)i < t.n_sec; i++) sum += t.per_sec[i];
            burst_s = (double)(t.last_first_wall_ms - enq_wall) / 1000.0;
            burst = s1 > 0 ? (double)sum / (double)s1 : (double)c->jobs / burst_s;
        }
        double p50 = rd_bench_percentile(lag.lags, lag.n_lags, 50) / c->time_scale;
        double p99 = rd_bench_percentile(lag.lags, lag.n_lags, 99) / c->time_scale;
        double pmax = rd_bench_percentile(lag.lags, lag.n_lags, 100) / c->time_scale;
        double p50_1 = rd_bench_percentile(t.lag1, t.n1, 50) / c->time_scale;
        double p99_1 = rd_bench_percentile(t.lag1, t.n1, 99) / c->time_scale;
        double max_1 = rd_bench_percentile(t.lag1, t.n1, 100) / c->time_scale;
        double s50 = rd_bench_percentile(t.settle, t.ns, 50);
        double s99 = rd_bench_percentile(t.settle, t.ns, 99);
        double smax = rd_bench_percentile(t.settle, t.ns, 100);
        double p50_r = rd_bench_percentile(t.lagr, t.nr, 50) / c->time_scale;
        double p99_r = rd_bench_percentile(t.lagr, t.nr, 99) / c->time_scale;
        double max_r = rd_bench_percentile(t.lagr, t.nr, 100) / c->time_scale;
        /* Redis counts the INFO that read cmds0 after answering it: one more. */
        double cmds = cmds1 - cmds0 - 1 - (double)own_reads;
        double ecpu_s = (double)(ecpu1 - ecpu0) / 1000.0;
        double scpu_s = (double)(scpu1 - scpu0) / 1000.0;
        double rcpu_s = rcpu1 - rcpu0;
        double bcpu_s = (double)(bcpu1 - bcpu0) / 1000.0;
        int64_t hwm_max = 0;
        for (int i = 0; i < c->engines; i++)
            if (hwm[i] > hwm_max) hwm_max = hwm[i];

        json_t *viol = NULL, *rep = report ? json_loads(report, 0, NULL) : NULL;
        long long vtotal = -1, calls_total = -1;
        if (rep) {
            viol = json_object_get(rep, "violations");
            json_t *vt = json_object_get(rep, "violations_total");
            vtotal = json_is_integer(vt) ? json_integer_value(vt) : -1;
            json_t *ct = json_object_get(rep, "calls_total");
            calls_total = json_is_integer(ct) ? json_integer_value(ct) : -1;
        }

        json_t *o = json_object();
        json_t *conds = json_pack(
            "{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:s, s:s, s:i, s:i, s:s}", "jobs",
            c->jobs, "campaigns", c->campaigns, "engines", c->engines, "workers", c->workers,
            "concurrency", c->concurrency, "max_attempts", c->max_attempts, "interval_min",
            c->interval_min, "window_hours", c->window_hours, "time_scale", c->time_scale,
            "time_origin", c->origin, "redis", b->redis_url, "seed", c->seed, "enqueue_rate",
            c->enqueue_rate, "loadavg_at_start", loadavg);
        json_object_set_new(o, "conditions", conds);
        json_object_set_new(o, "completed", json_boolean(t.finals == c->jobs));
        json_object_set_new(o, "jobs_final", json_integer(t.finals));
        json_object_set_new(o, "attempts", json_integer(t.attempts));
        json_object_set_new(o, "enqueue_ms", json_integer(enq_done_mono - enq_mono));
        json_object_set_new(o, "drain_s", json_real(drain_ms / 1000.0));
        json_object_set_new(o, "attempts_per_s",
                            json_real(drain_ms > 0 ? attempts * 1000.0 / drain_ms : 0));
        json_object_set_new(o, "peak_attempts_per_s", json_integer(peak));
        json_object_set_new(o, "burst_attempts_per_s", json_real(burst));
        json_object_set_new(o, "first_attempts_done_s", json_real(burst_s));
        json_t *jl = json_pack(
            "{s:f, s:f, s:f, s:I, s:I, s:I, s:I, s:{s:f, s:f, s:f, s:I}, s:{s:f, s:f, s:f, s:I}}",
            "p50_ms", p50, "p99_ms", p99, "max_ms", pmax, "samples", (json_int_t)lag.n_lags,
            "moved", (json_int_t)lag.moved, "out_of_order", (json_int_t)lag.out_of_order,
            "duplicate_finals", (json_int_t)lag.dup_final, "attempt1", "p50_ms", p50_1, "p99_ms",
            p99_1, "max_ms", max_1, "samples", (json_int_t)t.n1, "retries", "p50_ms", p50_r,
            "p99_ms", p99_r, "max_ms", max_r, "samples", (json_int_t)t.nr);
        json_object_set_new(o, "lag", jl);
        json_object_set_new(o, "end_to_settle",
                            json_pack("{s:f, s:f, s:f, s:I}", "p50_ms", s50, "p99_ms", s99,
                                      "max_ms", smax, "samples", (json_int_t)t.ns));
        json_object_set_new(o, "redis_commands", json_integer((json_int_t)cmds));
        json_object_set_new(o, "redis_commands_per_attempt",
                            json_real(attempts > 0 ? cmds / attempts : 0));
        json_t *cpu = json_pack(
            "{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "engines_s", ecpu_s, "engine_s_per_1k_attempts",
            attempts > 0 ? ecpu_s * 1000 / attempts : 0, "redis_s", rcpu_s,
            "redis_s_per_1k_attempts", attempts > 0 ? rcpu_s * 1000 / attempts : 0, "sim_s", scpu_s,
            "sim_s_per_1k_attempts", attempts > 0 ? scpu_s * 1000 / attempts : 0, "bench_s",
            bcpu_s);
        json_object_set_new(o, "cpu", cpu);
        json_t *rss = json_array();
        for (int i = 0; i < c->engines; i++) json_array_append_new(rss, json_integer(hwm[i]));
        json_object_set_new(o, "engine_rss_kb", rss);
        json_object_set_new(o, "engine_rss_max_kb", json_integer(hwm_max));
        if (mem.done) {
            json_object_set_new(o, "memory",
                                json_pack("{s:I, s:f, s:f, s:f, s:f, s:b}", "jobs",
                                          (json_int_t)mem.jobs, "used_memory_delta", mem.used_delta,
                                          "inbox_delta", mem.inbox_delta, "bytes_per_pending_job",
                                          mem.bytes_per_job, "bytes_per_pending_job_without_inbox",
                                          mem.bytes_per_job_no_inbox, "canceled", mem.canceled));
        }
        json_t *outc = json_object(), *disp = json_object(), *cum = json_array();
        for (int i = 0; i < 8; i++)
            if (t.outcomes[i]) json_object_set_new(outc, OUTCOMES[i], json_integer(t.outcomes[i]));
        for (int i = 0; i < 8; i++)
            if (t.disp[i]) json_object_set_new(disp, DISPS[i], json_integer(t.disp[i]));
        long long acc = 0;
        for (int k = 1; k <= c->max_attempts && k < 16; k++) {
            acc += t.connected_at[k];
            json_array_append_new(cum, json_real(c->jobs ? 100.0 * (double)acc / c->jobs : 0));
        }
        json_object_set_new(o, "outcomes", outc);
        json_object_set_new(o, "dispositions", disp);
        json_object_set_new(o, "connected_cumulative_pct", cum);
        json_t *cmdd = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(cs1, k, v) {
            json_t *bv = json_object_get(cs0, k);
            json_int_t d = json_integer_value(json_array_get(v, 0)) -
                           json_integer_value(json_array_get(bv, 0));
            json_int_t du = json_integer_value(json_array_get(v, 1)) -
                            json_integer_value(json_array_get(bv, 1));
            if (d > 0)
                json_object_set_new(cmdd, k, json_pack("{s:I, s:I}", "calls", d, "usec", du));
        }
        json_object_set_new(o, "redis_commandstats", cmdd);
        /* Script calls and every command Redis executed (commandstats counts the
         * commands a script calls, too), less the bench's own reads. */
        double script_calls = 0, cs_cmds = 0;
        json_object_foreach(cmdd, k, v) {
            double n = (double)json_integer_value(json_object_get(v, "calls"));
            cs_cmds += n;
            if (!strcmp(k, "evalsha") || !strcmp(k, "eval") || !strcmp(k, "fcall") ||
                !strcmp(k, "fcall_ro") || !strcmp(k, "evalsha_ro") || !strcmp(k, "eval_ro"))
                script_calls += n;
        }
        cs_cmds -= (double)own_reads;
        double us_att = attempts > 0 ? 1e6 / attempts : 0;
        json_t *per = json_object();
        json_t *each = json_array();
        for (int i = 0; i < c->engines; i++)
            json_array_append_new(
                each, json_real((double)(ecpu_each1[i] - ecpu_each0[i]) / 1000.0 * us_att));
        json_object_set_new(per, "engines_us", each);
        json_object_set_new(per, "engine_us", json_real(ecpu_s * us_att));
        json_object_set_new(per, "redis_us", json_real(rcpu_s * us_att));
        json_object_set_new(per, "sim_us", json_real(scpu_s * us_att));
        json_object_set_new(per, "engine_plus_redis_us", json_real((ecpu_s + rcpu_s) * us_att));
        json_object_set_new(per, "total_us", json_real((ecpu_s + rcpu_s + scpu_s) * us_att));
        json_object_set_new(per, "script_calls",
                            json_real(attempts > 0 ? script_calls / attempts : 0));
        json_object_set_new(per, "redis_commands",
                            json_real(attempts > 0 ? cs_cmds / attempts : 0));
        json_object_set_new(o, "per_attempt", per);
        if (c->profile) {
            json_t *pj = json_object();
            for (int i = 0; i < prof.n; i++)
                if (prof.e[i].calls)
                    json_object_set_new(pj, prof.e[i].name,
                                        json_pack("{s:I, s:I}", "calls",
                                                  (json_int_t)prof.e[i].calls, "usec",
                                                  (json_int_t)prof.e[i].usec));
            json_object_set_new(o, "redis_profile", pj);
        }
        json_object_set_new(o, "referee_calls", json_integer(calls_total));
        json_object_set_new(o, "violations", viol ? json_incref(viol) : json_null());
        json_object_set_new(o, "violations_total", json_integer(vtotal));
        json_object_set_new(o, "workdir", json_string(b->workdir));

        /* Human-readable. */
        printf("redial-bench: %d jobs, %d campaigns, %d engine(s) x %d workers, scale %g, "
               "max_attempts %d, interval %d min, concurrency %d/campaign\n",
               c->jobs, c->campaigns, c->engines, c->workers, c->time_scale, c->max_attempts,
               c->interval_min, c->concurrency);
        printf("  completed            %s (%lld/%d final, %lld attempts, referee saw %lld calls)\n",
               t.finals == c->jobs ? "yes" : "NO", t.finals, c->jobs, t.attempts, calls_total);
        printf("  enqueue              %lld ms (%d XADDs, pipelined)\n",
               (long long)(enq_done_mono - enq_mono), c->jobs);
        printf("  drain time           %.2f s\n", drain_ms / 1000.0);
        printf("  attempts/s           %.0f over the drain; %.0f while first attempts were queued "
               "(%.1f s); peak second %lld\n",
               drain_ms > 0 ? attempts * 1000.0 / drain_ms : 0, burst, burst_s, peak);
        printf("  due->dial lag (wall) p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu samples, %zu "
               "retries moved by the window)\n",
               p50, p99, pmax, lag.n_lags, lag.moved);
        printf(
            "    attempt 1          p50 %.1f ms, p99 %.1f ms, max %.1f ms (from enqueue: ingest + "
            "backlog)\n",
            p50_1, p99_1, max_1);
        printf("    retries            p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", p50_r, p99_r,
               max_r);
        printf("  call end->settled    p50 %.1f ms, p99 %.1f ms, max %.1f ms (callback delivery + "
               "engine lookup + settle; +-1 ms)\n",
               s50, s99, smax);
        printf(
            "  redis commands       %.1f per attempt (%.0f total, Lua-internal calls included)\n",
            attempts > 0 ? cmds / attempts : 0, cmds);
        printf("  CPU per 1k attempts  engines %.3f s, redis %.3f s, sim %.3f s (totals: %.2f / "
               "%.2f / %.2f s; bench %.2f s)\n",
               attempts > 0 ? ecpu_s * 1000 / attempts : 0,
               attempts > 0 ? rcpu_s * 1000 / attempts : 0,
               attempts > 0 ? scpu_s * 1000 / attempts : 0, ecpu_s, rcpu_s, scpu_s, bcpu_s);
        printf("  CPU us per attempt   engine");
        for (int i = 0; i < c->engines; i++)
            printf("%s%.1f", i ? " + " : " ",
                   (double)(ecpu_each1[i] - ecpu_each0[i]) / 1000.0 * us_att);
        printf(", redis-server %.1f, redial-sim %.1f; engine+redis %.1f, all %.1f\n",
               rcpu_s * us_att, scpu_s * us_att, (ecpu_s + rcpu_s) * us_att,
               (ecpu_s + rcpu_s + scpu_s) * us_att);
        printf("  per attempt          %.2f script calls, %.1f Redis commands (commandstats, "
               "Lua-internal included)\n",
               attempts > 0 ? script_calls / attempts : 0, attempts > 0 ? cs_cmds / attempts : 0);
        printf("  engine RSS (VmHWM)   ");
        for (int i = 0; i < c->engines; i++) printf("%s%.1f MiB", i ? ", " : "", hwm[i] / 1024.0);
        printf("\n");
        if (mem.done)
            printf("  redis bytes/pending  %.0f per job (%.0f without the inbox stream's growth; "
                   "%lld jobs, cancel %s)\n",
                   mem.bytes_per_job, mem.bytes_per_job_no_inbox, mem.jobs,
                   mem.canceled ? "ok" : "incomplete");
        printf("  connected cumulative");
        acc = 0;
        for (int kk = 1; kk <= c->max_attempts && kk < 16; kk++) {
            acc += t.connected_at[kk];
            printf(" %.1f%%", c->jobs ? 100.0 * (double)acc / c->jobs : 0);
        }
        printf(" (seed model: 40/60/70/73/74)\n");
        if (c->profile) {
            printf("  redis time by client command (slowlog sample; us per attempt = total / "
                   "attempts)\n");
            for (int i = 0; i < prof.n; i++)
                if (prof.e[i].calls)
                    printf("    %-22s %8lld calls %9.1f ms %7.1f us/call %6.1f us/attempt\n",
                           prof.e[i].name, prof.e[i].calls, prof.e[i].usec / 1000.0,
                           (double)prof.e[i].usec / (double)prof.e[i].calls,
                           attempts > 0 ? (double)prof.e[i].usec / attempts : 0);
        }
        printf("  violations           %lld", vtotal);
        if (viol) {
            json_object_foreach(viol, k, v) {
                if (json_integer_value(v)) printf(" %s=%lld", k, (long long)json_integer_value(v));
            }
        }
        printf("\n");
        fflush(stdout);

        if (c->json[0]) {
            if (!strcmp(c->json, "-")) {
                json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
                fputc('\n', stdout);
            } else if (json_dump_file(o, c->json, JSON_INDENT(2) | JSON_SORT_KEYS) != 0) {
                fprintf(stderr, "bench: cannot write %s\n", c->json);
                if (!exit_code) exit_code = RD_EXIT_FAILED;
            }
        }
        json_decref(o);
        json_decref(rep);
        if (!exit_code && (vtotal != 0 || t.finals != c->jobs || lag.dup_final)) exit_code = 1;
    }

done:
    stop_all(b);
    if (exit_code == 0 && b->own_workdir && !c->keep)
        rm_workdir(b);
    else if (exit_code != 0 || c->keep)
        fprintf(stderr, "bench: logs and the referee report are in %s\n", b->workdir);
    free(report);
    json_decref(cs0);
    json_decref(cs1);
    free(t.per_sec);
    free(t.lag1);
    free(t.lagr);
    free(t.settle);
    rd_bench_lag_deinit(&lag);
    free_args(b->extra_engine);
    free_args(b->extra_sim);
    rd_opts_free(OPTS, N_OPTS, &b->cfg);
    return exit_code;
early:
    free_args(b->extra_engine);
    free_args(b->extra_sim);
    rd_opts_free(OPTS, N_OPTS, &b->cfg);
    return early_code;
}
