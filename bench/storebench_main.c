/*
 * redial-storebench — micro-benchmark of the Redis core (store/store.h):
 * enqueues/s, claim+settle cycles/s with batching and pipelining, and Redis
 * bytes per pending job, against a running Redis.
 *
 *   redial-storebench [--redis URL] [--jobs N] [--campaigns C] [--batch B]
 *                     [--inflight D] [--ids] [--split] [--plain]
 *
 * Phases (one loop, one connection, everything pipelined):
 *   1. enqueue N jobs over C campaigns (D requests in flight);
 *      memory: used_memory delta / N = bytes per pending job, fresh;
 *   2. cycle: claim batches of B (D claims in flight); every claimed job is
 *      settled at once as `busy` with a retry an hour later, so each job
 *      ends pending again with one attempt in its history and a number
 *      record: claim+settle cycles/s;
 *      memory again = bytes per pending job with history (the events
 *      stream, a capped log for consumers, is reported apart);
 *   3. the keys of the run are deleted.
 * A unique key prefix per run keeps it away from anything else in the Redis.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "common/opts.h"
#include "common/redis.h"
#include "store/store.h"
#include "proto/clock.h"
#include "proto/rd.h"

typedef struct bench {
    uv_loop_t loop;
    rd_store_t *s;
    rd_clock_t clk;
    int jobs, campaigns, batch, inflight;
    bool ids, split, plain;
    rd_store_job_t **held; /* --split: claimed jobs kept for the settle phase */
    size_t n_held;
    char prefix[64];
    int enq_sent, enq_done, errors;
    int claims_inflight, settles_inflight;
    int64_t claimed, settled;
    bool claim_done;
    int64_t now;
} bench_t;

static redisContext *sync_ctx(const char *url) {
    rd_redis_addr_t a;
    if (rd_redis_parse_url(url, &a) < 0) return NULL;
    redisContext *c = redisConnect(a.host, a.port);
    if (!c || c->err) return NULL;
    if (a.password[0]) {
        redisReply *r = redisCommand(c, "AUTH %s", a.password);
        freeReplyObject(r);
    }
    if (a.db) {
        redisReply *r = redisCommand(c, "SELECT %d", a.db);
        freeReplyObject(r);
    }
    return c;
}

static long long used_memory(redisContext *c) {
    redisReply *r = redisCommand(c, "INFO memory");
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "used_memory:");
        if (p) v = atoll(p + 12);
    }
    freeReplyObject(r);
    return v;
}

/* Redis main-thread CPU seconds (user + sys). */
static double redis_cpu(redisContext *c) {
    redisReply *r = redisCommand(c, "INFO cpu");
    double v = 0;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, "used_cpu_user:");
        const char *q = strstr(r->str, "used_cpu_sys:");
        if (p && q) v = atof(p + 14) + atof(q + 13);
    }
    freeReplyObject(r);
    return v;
}

static long long key_bytes(redisContext *c, const char *key) {
    redisReply *r = redisCommand(c, "MEMORY USAGE %s SAMPLES 0", key);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return v;
}

static void del_prefix(redisContext *c, const char *prefix) {
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s* COUNT 1000", cursor, prefix);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *d = redisCommand(c, "DEL %s", r->element[1]->element[i]->str);
            freeReplyObject(d);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
}

/* ---- phase 1: enqueue ------------------------------------------------------------------ */

static void enq_next(bench_t *b);

static void on_enq(rd_store_t *s, int status, rd_enq_result_t res, const char *id, void *arg) {
    (void)s;
    (void)id;
    bench_t *b = arg;
    b->enq_done++;
    if (status < 0 || res != RD_ENQ_CREATED) b->errors++;
    enq_next(b);
}

static void enq_next(bench_t *b) {
    while (b->enq_sent < b->jobs && b->enq_sent - b->enq_done < b->inflight) {
        int i = b->enq_sent++;
        char camp[32], to[20], id[32];
        snprintf(camp, sizeof(camp), "c%d", i % b->campaigns);
        snprintf(to, sizeof(to), "+9170%08d", i);
        snprintf(id, sizeof(id), "order-%08d", i);
        rd_store_enqueue_t e = {
            .campaign = camp, .to = to, .id = b->ids ? id : NULL, .due_ms = b->now};
        if (rd_store_enqueue(b->s, &e, b->now, on_enq, b) < 0) {
            b->errors++;
            b->enq_done++;
        }
    }
}

/* ---- phase 2: claim + settle ------------------------------------------------------------- */

static void claim_next(bench_t *b);

static void on_settle(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)s;
    (void)r;
    bench_t *b = arg;
    b->settles_inflight--;
    if (status < 0) b->errors++;
    b->settled++;
    claim_next(b);
}

static void on_claim(rd_store_t *s, int status, const rd_store_claim_res_t *r, void *arg) {
    bench_t *b = arg;
    b->claims_inflight--;
    if (status < 0) {
        b->errors++;
        b->claim_done = true;
        return;
    }
    if (r->n == 0) b->claim_done = true;
    if (b->split) {
        for (size_t i = 0; i < r->n; i++) b->held[b->n_held++] = rd_store_job_dup(&r->jobs[i]);
        b->claimed += (int64_t)r->n;
        claim_next(b);
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        rd_store_settle_t st = {.campaign = r->jobs[i].campaign,
                                .token = r->jobs[i].token,
                                .outcome = RD_OUT_BUSY,
                                .ended_ms = b->now,
                                .now_ms = b->now,
                                .hour_of_week = 10,
                                .job = b->plain ? NULL : &r->jobs[i]};
        st.decision.due_ms = b->now + 3600000;
        b->settles_inflight++;
        if (rd_store_settle(s, &st, on_settle, b) < 0) {
            b->settles_inflight--;
            b->errors++;
        }
        b->claimed++;
    }
    claim_next(b);
}

static void claim_next(bench_t *b) {
    /* Keep D claims in flight, and no more than D batches of settles behind. */
    while (!b->claim_done && b->claims_inflight < b->inflight &&
           b->settles_inflight < b->inflight * b->batch) {
        rd_store_claim_req_t req = {.now_ms = b->now,
                                    .max_jobs = b->batch,
                                    .lease_ms = 60000,
                                    .lock_retry_ms = 30000,
                                    .engine = "bench"};
        b->claims_inflight++;
        if (rd_store_claim(b->s, &req, on_claim, b) < 0) {
            b->claims_inflight--;
            b->errors++;
            b->claim_done = true;
        }
    }
}

static void on_created(rd_store_t *s, int status, void *arg) {
    (void)s;
    *(int *)arg = status < 0 ? -1 : 1;
}

static double secs(uint64_t t0) { return (double)(uv_hrtime() - t0) / 1e9; }

static void usage(void) {
    printf("usage: redial-storebench [--redis URL] [--jobs N] [--campaigns C] [--batch B]\n"
           "                         [--inflight D] [--ids] [--split] [--plain]\n"
           "  --redis URL      Redis to measure [redis://127.0.0.1:6379/0]\n"
           "  --jobs N         pending jobs [200000]\n"
           "  --campaigns C    campaigns they are spread over [10]\n"
           "  --batch B        jobs per claim call [256]\n"
           "  --inflight D     requests in flight (pipelining depth) [8 claims; 8*B enqueues]\n"
           "  --ids            give every job a producer id (adds the id index)\n"
           "  --split          claim everything first, then settle everything, and report\n"
           "                   the Redis CPU of each half\n"
           "  --plain          settle without the claimed job (Redis rebuilds the record and\n"
           "                   the events itself: the settle of a caller without the job)\n"
           "  --version        print the version\n");
}

int main(int argc, char **argv) {
    bench_t b;
    memset(&b, 0, sizeof(b));
    const char *url = "redis://127.0.0.1:6379/0";
    b.jobs = 200000;
    b.campaigns = 10;
    b.batch = 256;
    b.inflight = 8;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage();
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            rd_opts_version(stdout, argv[0]);
            return 0;
        } else if (strcmp(a, "--ids") == 0) {
            b.ids = true;
        } else if (strcmp(a, "--split") == 0) {
            b.split = true;
        } else if (strcmp(a, "--plain") == 0) {
            b.plain = true;
        } else if (v && strcmp(a, "--redis") == 0) {
            url = v, i++;
        } else if (v && strcmp(a, "--jobs") == 0) {
            b.jobs = atoi(v), i++;
        } else if (v && strcmp(a, "--campaigns") == 0) {
            b.campaigns = atoi(v), i++;
        } else if (v && strcmp(a, "--batch") == 0) {
            b.batch = atoi(v), i++;
        } else if (v && strcmp(a, "--inflight") == 0) {
            b.inflight = atoi(v), i++;
        } else {
            usage();
            return 2;
        }
    }
    if (b.jobs < 1 || b.campaigns < 1 || b.batch < 1 || b.batch > 1000 || b.inflight < 1) {
        usage();
        return 2;
    }
    redisContext *c = sync_ctx(url);
    if (!c) {
        fprintf(stderr, "storebench: cannot connect to %s\n", url);
        return 3; /* Redis unreachable (common/exit.h) */
    }
    snprintf(b.prefix, sizeof(b.prefix), "{sb%d}", (int)getpid());
    uv_loop_init(&b.loop);
    rd_clock_init_wall(&b.clk);
    b.now = rd_clock_now(&b.clk);
    rd_store_opts_t o;
    rd_store_opts_init(&o);
    o.url = url;
    o.prefix = b.prefix;
    o.cmd_timeout_ms = 30000;
    if (rd_store_create(&b.loop, &o, &b.s) < 0) {
        fprintf(stderr, "storebench: bad URL %s\n", url);
        return 1;
    }
    /* Campaigns: unlimited for the bench's purpose (concurrency = all jobs). */
    for (int i = 0; i < b.campaigns; i++) {
        rd_campaign_t camp;
        rd_campaign_init(&camp);
        char name[32];
        snprintf(name, sizeof(name), "c%d", i);
        camp.name = rd_strdup(name);
        camp.caller_id = rd_strdup("0800");
        camp.call_flow_id = rd_strdup("1");
        camp.concurrency = b.jobs;
        int done = 0;
        if (rd_store_campaign_create(b.s, &camp, b.now, on_created, &done) < 0) done = -1;
        while (!done) uv_run(&b.loop, UV_RUN_ONCE);
        rd_campaign_deinit(&camp);
        if (done < 0) {
            fprintf(stderr, "storebench: cannot create campaign %s\n", name);
            return 1;
        }
    }
    long long m0 = used_memory(c);
    double cpu0 = redis_cpu(c);
    uint64_t t0 = uv_hrtime();
    int keep = b.inflight;
    b.inflight = b.inflight * b.batch;
    enq_next(&b);
    while (b.enq_done < b.jobs) uv_run(&b.loop, UV_RUN_ONCE);
    b.inflight = keep;
    double t_enq = secs(t0);
    char k[128];
    snprintf(k, sizeof(k), "%s:events", b.prefix);
    long long m1 = used_memory(c), ev1 = key_bytes(c, k);
    double cpu1 = redis_cpu(c);
    uint64_t cmd0 = rd_store_commands_sent(b.s);
    t0 = uv_hrtime();
    if (b.split) b.held = rd_malloc((size_t)b.jobs * sizeof(*b.held));
    claim_next(&b);
    while (!b.claim_done || b.claims_inflight || b.settles_inflight) uv_run(&b.loop, UV_RUN_ONCE);
    double cpu_claim = redis_cpu(c) - cpu1;
    if (b.split) {
        for (size_t i = 0; i < b.n_held; i++) {
            rd_store_job_t *j = b.held[i];
            rd_store_settle_t st = {.campaign = j->campaign,
                                    .token = j->token,
                                    .outcome = RD_OUT_BUSY,
                                    .ended_ms = b.now,
                                    .now_ms = b.now,
                                    .hour_of_week = 10,
                                    .job = b.plain ? NULL : j};
            st.decision.due_ms = b.now + 3600000;
            b.settles_inflight++;
            if (rd_store_settle(b.s, &st, on_settle, &b) < 0) {
                b.settles_inflight--;
                b.errors++;
            }
            if (b.settles_inflight >= b.inflight * b.batch)
                while (b.settles_inflight > 0) uv_run(&b.loop, UV_RUN_ONCE);
        }
        while (b.settles_inflight) uv_run(&b.loop, UV_RUN_ONCE);
        for (size_t i = 0; i < b.n_held; i++) rd_store_job_free(b.held[i]);
        rd_free(b.held);
    }
    double t_cyc = secs(t0);
    uint64_t cmds = rd_store_commands_sent(b.s) - cmd0;
    long long m2 = used_memory(c), ev2 = key_bytes(c, k);
    double cpu2 = redis_cpu(c);

    printf("storebench: redis %s, %d jobs over %d campaigns, batch %d, %d in flight, %s, %s\n", url,
           b.jobs, b.campaigns, b.batch, keep, b.ids ? "producer ids" : "generated ids",
           b.plain ? "plain settle" : "settle with the job");
    printf("enqueue          %9.0f jobs/s   (%.2f s; Redis CPU %.1f us/job)\n", b.jobs / t_enq,
           t_enq, (cpu1 - cpu0) * 1e6 / b.jobs);
    printf("claim+settle     %9.0f cycles/s (%.2f s, %" PRId64 " cycles, %.3f Redis calls/cycle)\n",
           (double)b.settled / t_cyc, t_cyc, b.settled, (double)cmds / (double)b.settled);
    printf("  prepared       %9.1f %% of settles stored the engine-built record and events\n",
           100.0 * (double)rd_store_settles_prepared(b.s) / (double)(b.settled ? b.settled : 1));
    printf("  Redis CPU      %9.1f us/cycle = %.0f cycles per Redis CPU second\n",
           (cpu2 - cpu1) * 1e6 / (double)b.settled, (double)b.settled / (cpu2 - cpu1));
    if (b.split)
        printf("  of which       %9.1f us claim, %.1f us settle\n",
               cpu_claim * 1e6 / (double)b.settled,
               (cpu2 - cpu1 - cpu_claim) * 1e6 / (double)b.settled);
    printf("bytes/pending    %9.1f fresh (no history)\n", (double)(m1 - m0 - ev1) / b.jobs);
    printf("bytes/pending    %9.1f with 1 attempt in history and a number record\n",
           (double)(m2 - m0 - ev2) / b.jobs);
    printf("events stream    %9.1f bytes/event (capped log, not counted above)\n",
           (double)ev2 / (double)(b.settled ? b.settled : 1));
    {
        /* Where the bytes with history are, by key (MEMORY USAGE estimates). */
        char kn[128];
        long long due = 0;
        for (int i = 0; i < b.campaigns; i++) {
            snprintf(kn, sizeof(kn), "%s:c:c%d:due", b.prefix, i);
            due += key_bytes(c, kn);
        }
        snprintf(kn, sizeof(kn), "%s:n", b.prefix);
        long long nb = key_bytes(c, kn);
        printf("  by key         %9.1f number records (%s:n), %.1f due sets, per job\n",
               (double)nb / b.jobs, b.prefix, (double)due / b.jobs);
    }
    printf("errors           %9d\n", b.errors);

    rd_store_close(b.s, NULL, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    int lc = uv_loop_close(&b.loop);
    del_prefix(c, b.prefix);
    redisFree(c);
    return b.errors || lc ? 1 : 0;
}
