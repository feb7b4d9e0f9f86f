/*
 * redial-faults — the fault suite (issue 12, item 7): real faults at load,
 * through the real pieces, with the invariants checked after each.
 *
 * One environment for the whole run: our own redis-server with AOF
 * (appendfsync always, so a SIGKILLed Redis restarts with every
 * acknowledged write), one redial-sim (provider and referee) and several
 * redial-server processes sharing them, on one time-scaled policy clock
 * (scale 60: a retry interval of one minute is one wall second; the claim
 * lease stays 60 wall seconds). Then one round per scenario: a fresh
 * campaign of --numbers numbers (max 3 attempts, 1 minute apart, calling
 * window all day) is created, the scenario injects its faults while the
 * campaign runs, the faults are lifted, and the runner waits until every
 * job is final. The invariants, checked after every round:
 *
 *   final      every job of the round's campaign is final (stats: finished
 *              == numbers, nothing live), within --round-timeout;
 *   recorded   every call the simulator saw (GET /sim/numbers/{n}) has
 *              exactly one `attempt` event with its call id in <P>:events,
 *              and every number has as many attempt events as calls and
 *              exactly one `final` event — nothing unrecorded, nothing
 *              recorded twice;
 *   budget     no number got more calls than max_attempts;
 *   referee    the simulator's referee counts 0 violations (concurrency,
 *              window, overlap, budget, duplicate key, after-connect, ...);
 *   deadletter every entry of <P>:deadletter is one of the malformed inbox
 *              entries this runner wrote on purpose (one per round), with
 *              a reason: a fault is never a verdict on the input.
 *
 * Scenarios (--scenarios a,b,...; --list prints them): provider faults,
 * callback faults, engine SIGKILLs, Redis restart (AOF), Redis SIGSTOP
 * beyond the command timeout, Redis at maxmemory, a provider outage, a
 * 20 s Redis outage with dials in flight, an engine whose clock is skewed
 * beyond the limit. --soak SECONDS (or RD_FAULTS_SOAK) repeats the
 * scenarios in turn until that much time has passed. The summary lists the
 * faults injected and the invariants checked; the exit status is 0 only
 * when every invariant held in every round.
 */
#include <errno.h>
#include <jansson.h>
#include <msgpack.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define MAX_ENGINES 6
#define MAX_ATTEMPTS 3
#define TIME_SCALE "60"
#define TIME_ORIGIN "2026-12-01T09:00:00+05:30"

typedef struct env env_t;

typedef struct scenario {
    const char *name;
    const char *what; /* printed */
    void (*inject)(env_t *e);
} scenario_t;

typedef struct counts {
    long engine_kills, redis_restarts, redis_stops, maxmem_windows, provider_outages, redis_outages,
        skewed_engines, skew_refused, bad_inputs;
} counts_t;

struct env {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    rd_test_server_t eng[MAX_ENGINES];
    int n_engines, workers;
    char epoch[32];
    char ids[MAX_ENGINES][32];
    int numbers, round, round_timeout_s;
    uint64_t rng;
    counts_t c;
    /* invariants checked (sums over rounds); violations: the referee's total so far */
    long rounds, jobs_final, calls_checked, events_checked, failures, round_failures;
    long unrecorded, twice; /* calls the provider made that the events have 0 / 2+ times */
    long long violations;
    bool keep_logs;
};

static void sleep_ms(int ms) { rd_test_sleep_ms(ms); }

static double mono_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint32_t rnd(env_t *e, uint32_t n) {
    e->rng ^= e->rng << 13;
    e->rng ^= e->rng >> 7;
    e->rng ^= e->rng << 17;
    return (uint32_t)(e->rng % n);
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("faults: ");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
}

/* ---- processes ---------------------------------------------------------- */

static const char *const ENGINE_ARGS[] = {"--provider-rate", "100000/1", NULL};

static int engine_start_skewed(env_t *e, rd_test_server_t *s, const char *id, long long skew_ms) {
    char epoch[32];
    snprintf(epoch, sizeof epoch, "%lld", atoll(e->epoch) - skew_ms);
    char workers[8];
    snprintf(workers, sizeof workers, "%d", e->workers);
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = e->sim.base,
        .time_scale = TIME_SCALE,
        .time_origin = TIME_ORIGIN,
        .time_epoch = epoch,
        .engine_id = id,
        .workers = e->workers,
        .extra_args = ENGINE_ARGS,
    };
    return rd_test_server_start(s, &o);
}

static int engine_start(env_t *e, int i) {
    return engine_start_skewed(e, &e->eng[i], e->ids[i], 0);
}

static void engine_kill(env_t *e, int i) {
    rd_test_server_kill(&e->eng[i]);
    if (!e->keep_logs) unlink(e->eng[i].log_path);
}

/* Any engine answering /v1 (NULL when none). */
static rd_test_server_t *live_engine(env_t *e) {
    for (int k = 0; k < e->n_engines; k++) {
        int i = (e->round + k) % e->n_engines;
        if (e->eng[i].pid > 0 && waitpid(e->eng[i].pid, NULL, WNOHANG) == 0) return &e->eng[i];
    }
    return NULL;
}

static void sim_faults(env_t *e, const char *json) {
    long st = rd_test_sim_post(&e->sim, "faults", json);
    if (st != 200) say("POST /sim/faults %s: %ld", json, st);
}

static redisReply *cmd(env_t *e, const char *fmt, ...) {
    redisContext *c = rd_test_redis_sync(&e->redis);
    if (!c) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

static int failf(env_t *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- scenarios ---------------------------------------------------------- */

static void inj_provider(env_t *e) {
    sim_faults(e, "{\"5xx\":0.10,\"timeout\":0.05,\"429\":0.05}");
    sleep_ms(8000);
    sim_faults(e, "{\"5xx\":0,\"timeout\":0,\"429\":0}");
}

static void inj_callbacks(env_t *e) {
    sim_faults(e, "{\"cb_loss\":0.10,\"cb_dup\":0.15,\"cb_reorder\":0.25,"
                  "\"cb_delay_min_ms\":0,\"cb_delay_max_ms\":2500}");
    sleep_ms(8000);
    sim_faults(e, "{\"cb_loss\":0,\"cb_dup\":0,\"cb_reorder\":0,\"cb_delay_min_ms\":0,"
                  "\"cb_delay_max_ms\":0}");
}

static void inj_engine_kill(env_t *e) {
    for (int k = 0; k < 5; k++) {
        sleep_ms(2000 + (int)rnd(e, 1500));
        int i = (int)rnd(e, (uint32_t)e->n_engines);
        engine_kill(e, i);
        e->c.engine_kills++;
        if (engine_start(e, i) != 0) say("engine %s did not come back", e->ids[i]);
    }
}

static void inj_redis_restart(env_t *e) {
    sleep_ms(2500);
    rd_test_redis_kill(&e->redis);
    e->c.redis_restarts++;
    sleep_ms(1000);
    if (rd_test_redis_restart(&e->redis) != 0) say("redis did not restart");
}

static void inj_redis_sigstop(env_t *e) {
    sleep_ms(2500);
    kill(e->redis.pid, SIGSTOP);
    e->c.redis_stops++;
    sleep_ms(7000); /* beyond the 5 s command timeout */
    kill(e->redis.pid, SIGCONT);
}

static void inj_maxmemory(env_t *e) {
    sleep_ms(2000);
    redisReply *r = cmd(e, "INFO memory");
    long long used = 0;
    const char *u = r && r->type == REDIS_REPLY_STRING ? strstr(r->str, "used_memory:") : NULL;
    if (u) used = atoll(u + 12);
    if (r) freeReplyObject(r);
    r = cmd(e, "CONFIG SET maxmemory %lld", used + 32 * 1024);
    if (r) freeReplyObject(r);
    e->c.maxmem_windows++;
    sleep_ms(8000);
    r = cmd(e, "CONFIG SET maxmemory 0");
    if (r) freeReplyObject(r);
}

/* A counter summed over the live engines' /metrics (-1 when none answers). */
static long long engines_metric(env_t *e, const char *name) {
    long long sum = -1;
    char line[128];
    snprintf(line, sizeof line, "\n%s ", name);
    for (int i = 0; i < e->n_engines; i++) {
        char url[128], *body = NULL;
        snprintf(url, sizeof url, "%s/metrics", e->eng[i].base);
        if (e->eng[i].pid > 0 && rd_test_http("GET", url, NULL, NULL, NULL, &body) == 200) {
            const char *p = strstr(body, line);
            if (p) sum = (sum < 0 ? 0 : sum) + atoll(p + strlen(line));
        }
        free(body);
    }
    return sum;
}

static void inj_provider_outage(env_t *e) {
    long long held0 = engines_metric(e, "redial_claims_held_total");
    sleep_ms(2000);
    sim_faults(e, "{\"outage_ms\":12000}");
    e->c.provider_outages++;
    sleep_ms(12000);
    /* While the breaker is open the dispatchers hold their claims instead
       of claiming and releasing (issue 12, item 4). */
    long long held = engines_metric(e, "redial_claims_held_total");
    if (held < 0 || held <= held0)
        failf(e, "no claim round was held while the provider was down (claims held %lld -> %lld)",
              held0, held);
    else
        say("claim rounds held while the breaker was open: %lld", held - held0);
}

static void inj_redis_outage(env_t *e) {
    /* The provider is slow to answer (1.5 s), so dials are in flight when
       Redis goes, and their calls exist before the engine knows their ids. */
    sim_faults(e, "{\"answer_delay_ms\":1500}");
    sleep_ms(3000);
    rd_test_redis_kill(&e->redis);
    e->c.redis_outages++;
    sleep_ms(20000);
    if (rd_test_redis_restart(&e->redis) != 0) say("redis did not restart");
    sim_faults(e, "{\"answer_delay_ms\":0}");
}

/* An engine whose clock is 90 s ahead of everyone's (beyond the claim
   lease): it must refuse to start (or stop claiming) instead of dialing. */
static void inj_clock_skew(env_t *e) {
    sleep_ms(1000);
    rd_test_server_t s;
    e->c.skewed_engines++;
    if (engine_start_skewed(e, &s, "skewed", 90000) != 0) {
        e->c.skew_refused++;
        say("skewed engine refused to start (good)");
        return;
    }
    failf(e, "an engine with its clock 90 s off the deployment's started and may claim");
    sleep_ms(8000);
    rd_test_server_kill(&s);
    if (!e->keep_logs) unlink(s.log_path);
}

static const scenario_t SCENARIOS[] = {
    {"provider", "provider 5xx 10%, timeouts 5%, 429 5% for 8 s", inj_provider},
    {"callbacks", "callbacks lost 10%, duplicated 15%, reordered 25%, late 0-2.5 s for 8 s",
     inj_callbacks},
    {"engine-kill", "SIGKILL a random engine every 2-3.5 s (5 times), restarted", inj_engine_kill},
    {"redis-restart", "Redis SIGKILLed, down 1 s, restarted from its AOF", inj_redis_restart},
    {"redis-sigstop", "Redis SIGSTOPped 7 s (beyond the 5 s command timeout)", inj_redis_sigstop},
    {"maxmemory", "Redis at maxmemory (writes refused OOM) for 8 s", inj_maxmemory},
    {"provider-outage", "provider outage: every API request 503 for 12 s", inj_provider_outage},
    {"redis-outage", "Redis down 20 s with dials in flight (provider answers in 1.5 s)",
     inj_redis_outage},
    {"clock-skew", "an extra engine with its clock 90 s ahead", inj_clock_skew},
};
#define N_SCENARIOS (sizeof SCENARIOS / sizeof SCENARIOS[0])

/* The suite's default (scripts/test.sh, CI): every scenario. */
static const char DEFAULT_SCENARIOS[] =
    "provider,callbacks,engine-kill,redis-restart,redis-sigstop,"
    "maxmemory,provider-outage,redis-outage,clock-skew";

/* ---- a round ------------------------------------------------------------ */

static void number_of(const env_t *e, int i, char *buf, size_t len) {
    snprintf(buf, len, "+9197%03d%05d", e->round % 1000, i);
}

static bool create_campaign(env_t *e, const char *name) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"concurrency\":40,\"max_attempts\":%d,\"max_per_day\":3,"
             "\"daily_start\":\"00:00\",\"daily_end\":\"23:59\",\"timezone\":\"Asia/Kolkata\"}",
             name, MAX_ATTEMPTS);
    if (rd_test_sim_post(&e->sim, "campaigns", body) != 201) return false;
    /* Calls of at most 30 + 60 policy s (1.5 s wall) and a 5 s callback
       grace: a call whose callbacks are all lost is polled ~7 s after it. */
    json_t *c = json_pack(
        "{s:s, s:s, s:s, s:{s:i, s:i, s:[s,s,s]}, s:{s:s, s:s}, s:{s:i}, s:{s:i, s:i, s:i}}",
        "name", name, "caller_id", "08030000000", "call_flow_id", "1", "retry", "max_attempts",
        MAX_ATTEMPTS, "interval_minutes", 1, "retry_on", "busy", "no-answer", "failed", "schedule",
        "daily_start", "00:00", "daily_end", "23:59", "limits", "concurrency", 40, "call",
        "ring_timeout_seconds", 30, "time_limit_seconds", 60, "callback_grace_seconds", 5);
    json_t *nums = json_array();
    for (int i = 0; i < e->numbers; i++) {
        char num[24];
        number_of(e, i, num, sizeof num);
        json_array_append_new(nums, json_string(num));
    }
    json_object_set_new(c, "numbers", nums);
    char *js = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    long st = -1;
    for (int k = 0; k < 50 && st != 201; k++) {
        rd_test_server_t *s = live_engine(e);
        char url[256];
        if (s) {
            snprintf(url, sizeof url, "%s/v1/Accounts/%s/Campaigns", s->base, RD_TEST_PROVIDER_SID);
            st = rd_test_http("POST", url, NULL, js, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, NULL);
        }
        if (st != 201) sleep_ms(200);
    }
    free(js);
    return st == 201;
}

/* A malformed producer entry: it must be dead-lettered (bad input), once. */
static void bad_input(env_t *e) {
    char body[96];
    snprintf(body, sizeof body, "{\"campaign\":\"x\",broken faults_round_%d", e->round);
    redisReply *r = cmd(e, "XADD %s:inbox * j %s", e->redis.prefix, body);
    if (r) freeReplyObject(r);
    e->c.bad_inputs++;
}

static const msgpack_object *mp_get(const msgpack_object *m, const char *key) {
    if (m->type != MSGPACK_OBJECT_MAP) return NULL;
    size_t kl = strlen(key);
    for (uint32_t i = 0; i < m->via.map.size; i++) {
        const msgpack_object *k = &m->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == kl &&
            memcmp(k->via.str.ptr, key, kl) == 0)
            return &m->via.map.ptr[i].val;
    }
    return NULL;
}

static bool mp_is(const msgpack_object *v, const char *s) {
    return v && v->type == MSGPACK_OBJECT_STR && v->via.str.size == strlen(s) &&
           memcmp(v->via.str.ptr, s, v->via.str.size) == 0;
}

typedef struct number_events {
    int attempts, finals;
    json_t *call_ids; /* call id -> count of attempt events */
} number_events_t;

/* Reads every event of campaign `name` into per-number tallies. */
static bool read_events(env_t *e, const char *name, number_events_t *t) {
    char last[64] = "-";
    for (;;) {
        redisReply *r = cmd(e, "XRANGE %s:events %s + COUNT 2000", e->redis.prefix, last);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            if (r) freeReplyObject(r);
            return false;
        }
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *en = r->element[i], *f = en->element[1];
            snprintf(last, sizeof last, "(%s", en->element[0]->str);
            for (size_t k = 0; k + 1 < f->elements; k += 2) {
                if (strcmp(f->element[k]->str, "m") != 0) continue;
                msgpack_unpacked u;
                msgpack_unpacked_init(&u);
                if (msgpack_unpack_next(&u, f->element[k + 1]->str, f->element[k + 1]->len, NULL) ==
                        MSGPACK_UNPACK_SUCCESS &&
                    mp_is(mp_get(&u.data, "campaign"), name)) {
                    const msgpack_object *to = mp_get(&u.data, "to"),
                                         *type = mp_get(&u.data, "type");
                    char tb[16] = "";
                    if (to && to->type == MSGPACK_OBJECT_STR && to->via.str.size == 13)
                        snprintf(tb, sizeof tb, "%.*s", 5, to->via.str.ptr + 8);
                    int idx = tb[0] ? atoi(tb) : -1;
                    if (idx >= 0 && idx < e->numbers) {
                        if (mp_is(type, "attempt")) {
                            t[idx].attempts++;
                            const msgpack_object *cid = mp_get(&u.data, "call_id");
                            char id[160] = "";
                            if (cid && cid->type == MSGPACK_OBJECT_STR)
                                snprintf(id, sizeof id, "%.*s", (int)cid->via.str.size,
                                         cid->via.str.ptr);
                            json_t *c = json_object_get(t[idx].call_ids, id);
                            json_object_set_new(t[idx].call_ids, id,
                                                json_integer(c ? json_integer_value(c) + 1 : 1));
                        } else if (mp_is(type, "final")) {
                            t[idx].finals++;
                        }
                    }
                }
                msgpack_unpacked_destroy(&u);
            }
        }
        freeReplyObject(r);
        if (n < 2000) return true;
    }
}

/* Counts a failed invariant; prints the first few of a round in full. */
static int failf(env_t *e, const char *fmt, ...) {
    e->failures++;
    if (e->round_failures++ >= 12) return 1;
    va_list ap;
    va_start(ap, fmt);
    printf("faults: FAIL round %d: ", e->round);
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    return 1;
}

/* Every call the sim saw for the round's numbers, recorded exactly once. */
static int check_recorded(env_t *e, const char *name) {
    number_events_t *t = calloc((size_t)e->numbers, sizeof *t);
    for (int i = 0; i < e->numbers; i++) t[i].call_ids = json_object();
    int bad = 0;
    if (!read_events(e, name, t)) bad += failf(e, "cannot read %s:events", e->redis.prefix);
    for (int i = 0; i < e->numbers; i++) {
        char num[24], url[160], *resp = NULL;
        number_of(e, i, num, sizeof num);
        snprintf(url, sizeof url, "%s/sim/numbers/%%2B%s", e->sim.base, num + 1);
        if (rd_test_http("GET", url, NULL, NULL, NULL, &resp) != 200) {
            bad += failf(e, "sim does not answer for %s", num);
            free(resp);
            continue;
        }
        json_t *j = json_loads(resp, 0, NULL), *calls = json_object_get(j, "calls");
        free(resp);
        size_t n = json_array_size(calls);
        if ((long)n > MAX_ATTEMPTS) bad += failf(e, "%s: %zu calls > budget %d", num, n, 3);
        if ((size_t)t[i].attempts != n)
            bad +=
                failf(e, "%s: %zu calls at the provider, %d attempt events", num, n, t[i].attempts);
        if (t[i].finals != 1) bad += failf(e, "%s: %d final events", num, t[i].finals);
        for (size_t k = 0; k < n; k++) {
            const char *sid = json_string_value(json_object_get(json_array_get(calls, k), "sid"));
            json_t *c = sid ? json_object_get(t[i].call_ids, sid) : NULL;
            if (!c) e->unrecorded++;
            if (c && json_integer_value(c) > 1) e->twice++;
            if (!c || json_integer_value(c) != 1)
                bad += failf(e, "%s: call %s recorded %lld times", num, sid ? sid : "?",
                             c ? (long long)json_integer_value(c) : 0LL);
        }
        e->calls_checked += (long)n;
        e->events_checked += t[i].attempts + t[i].finals;
        json_decref(j);
    }
    for (int i = 0; i < e->numbers; i++) json_decref(t[i].call_ids);
    free(t);
    return bad;
}

/* Every dead letter is one this runner wrote on purpose, with a reason. */
static int check_deadletter(env_t *e) {
    redisReply *r = cmd(e, "XRANGE %s:deadletter - +", e->redis.prefix);
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        if (r) freeReplyObject(r);
        return failf(e, "cannot read the dead-letter stream");
    }
    int bad = 0;
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *f = r->element[i]->element[1];
        bool ours = false, reason = false;
        for (size_t k = 0; k + 1 < f->elements; k += 2) {
            if (!strcmp(f->element[k]->str, "j") && strstr(f->element[k + 1]->str, "faults_round_"))
                ours = true;
            if (!strcmp(f->element[k]->str, "reason") && f->element[k + 1]->len > 0) reason = true;
        }
        if (!ours || !reason)
            bad += failf(e, "dead letter %s is not bad input of ours (or has no reason)",
                         r->element[i]->element[0]->str);
    }
    if ((long)r->elements != e->c.bad_inputs)
        bad += failf(e, "%zu dead letters for %ld malformed entries", r->elements, e->c.bad_inputs);
    freeReplyObject(r);
    return bad;
}

static int run_round(env_t *e, const scenario_t *sc) {
    e->round++;
    e->round_failures = 0;
    long unrecorded0 = e->unrecorded, twice0 = e->twice;
    char name[64];
    snprintf(name, sizeof name, "F%03d_%s", e->round, sc->name);
    for (char *p = name; *p; p++)
        if (*p == '-') *p = '_';
    double t0 = mono_s();
    say("round %d: %s — %s (%d numbers)", e->round, sc->name, sc->what, e->numbers);
    if (!create_campaign(e, name)) return failf(e, "campaign %s not created", name);
    bad_input(e);
    sc->inject(e);
    double t_inj = mono_s();
    /* Every job final: finished == numbers. */
    long long f = -1;
    while (mono_s() - t0 < e->round_timeout_s) {
        rd_test_server_t *s = live_engine(e);
        if (s && (f = rd_test_campaign_finished(s, name)) == e->numbers) break;
        sleep_ms(200);
    }
    int bad = 0;
    if (f != e->numbers)
        bad += failf(e, "%lld of %d jobs final after %d s", f, e->numbers, e->round_timeout_s);
    else
        e->jobs_final += e->numbers;
    sleep_ms(300); /* the last callbacks' duplicates and late deliveries land */
    bad += check_recorded(e, name);
    /* The referee's count is cumulative: this round's are the growth. */
    long long v = rd_test_sim_violations(&e->sim);
    if (v < 0 || v != e->violations)
        bad += failf(e, "referee counts %lld new violations", v < 0 ? v : v - e->violations);
    if (v > 0) e->violations = v;
    bad += check_deadletter(e);
    for (int i = 0; i < e->n_engines; i++)
        if (e->eng[i].pid > 0 && waitpid(e->eng[i].pid, NULL, WNOHANG) != 0) {
            bad += failf(e, "engine %s exited", e->ids[i]);
            e->eng[i].pid = 0;
            engine_start(e, i);
        }
    e->rounds++;
    if (e->round_failures > 12)
        say("round %d: ... %ld failures in all", e->round, e->round_failures);
    say("round %d: %s %s in %.1f s (faults %.1f s, drain %.1f s; calls unrecorded %ld, recorded "
        "twice %ld)",
        e->round, sc->name, e->round_failures ? "FAILED" : "ok", mono_s() - t0, t_inj - t0,
        mono_s() - t_inj, e->unrecorded - unrecorded0, e->twice - twice0);
    return bad;
}

/* ---- main --------------------------------------------------------------- */

static void usage(void) {
    printf("usage: redial-faults [--scenarios a,b,..] [--soak SECONDS] [--engines N] "
           "[--numbers N] [--seed N] [--keep-logs] [--list]\n"
           "env: RD_FAULTS_SCENARIOS, RD_FAULTS_SOAK (seconds). Default scenarios: %s\n",
           DEFAULT_SCENARIOS);
}

static const scenario_t *find_scenario(const char *name, size_t len) {
    for (size_t i = 0; i < N_SCENARIOS; i++)
        if (strlen(SCENARIOS[i].name) == len && !strncmp(SCENARIOS[i].name, name, len))
            return &SCENARIOS[i];
    return NULL;
}

int main(int argc, char **argv) {
    env_t *e = calloc(1, sizeof *e);
    const char *list = getenv("RD_FAULTS_SCENARIOS");
    if (!list || !*list) list = DEFAULT_SCENARIOS;
    double soak = getenv("RD_FAULTS_SOAK") ? atof(getenv("RD_FAULTS_SOAK")) : 0;
    e->n_engines = 3;
    e->numbers = 100;
    e->workers = 1;
    e->round_timeout_s = 150;
    e->rng = 88172645463325252ULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--scenarios") && v)
            list = argv[++i];
        else if (!strcmp(a, "--soak") && v)
            soak = atof(argv[++i]);
        else if (!strcmp(a, "--engines") && v)
            e->n_engines = atoi(argv[++i]);
        else if (!strcmp(a, "--numbers") && v)
            e->numbers = atoi(argv[++i]);
        else if (!strcmp(a, "--seed") && v)
            e->rng ^= (uint64_t)atoll(argv[++i]) * 0x9E3779B97F4A7C15ULL;
        else if (!strcmp(a, "--keep-logs"))
            e->keep_logs = true;
        else if (!strcmp(a, "--list")) {
            for (size_t k = 0; k < N_SCENARIOS; k++)
                printf("%-16s %s\n", SCENARIOS[k].name, SCENARIOS[k].what);
            return 0;
        } else {
            usage();
            return 2;
        }
    }
    if (e->n_engines < 1 || e->n_engines > MAX_ENGINES || e->numbers < 1 || e->numbers > 99999) {
        usage();
        return 2;
    }
    const scenario_t *plan[64];
    size_t n_plan = 0;
    for (const char *p = list; *p && n_plan < 64;) {
        size_t len = strcspn(p, ",");
        const scenario_t *sc = find_scenario(p, len);
        if (!sc) {
            fprintf(stderr, "redial-faults: unknown scenario '%.*s' (--list)\n", (int)len, p);
            return 2;
        }
        plan[n_plan++] = sc;
        p += len + (p[len] == ',');
    }

    signal(SIGPIPE, SIG_IGN);
    if (rd_test_redis_start_aof(&e->redis) != 0) {
        fprintf(stderr, "redial-faults: redis-server with AOF did not start\n");
        return 1;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    static const char *const SIM_ARGS[] = {"--ring-max", "15", "--talk-max", "60", NULL};
    rd_test_sim_opts_t so = {.model = "uniform:busy=0.3,no-answer=0.2,failed=0.1,completed=0.4",
                             .seed = 12,
                             .time_scale = TIME_SCALE,
                             .time_origin = TIME_ORIGIN,
                             .time_epoch = e->epoch,
                             .extra_args = SIM_ARGS};
    int rc = 1;
    if (rd_test_sim_start(&e->sim, &so) != 0) {
        fprintf(stderr, "redial-faults: redial-sim did not start\n");
        goto out;
    }
    for (int i = 0; i < e->n_engines; i++) {
        snprintf(e->ids[i], sizeof e->ids[i], "faults-%d", i);
        if (engine_start(e, i) != 0) {
            fprintf(stderr, "redial-faults: engine %d did not start\n", i);
            goto out;
        }
    }
    say("redis %s (AOF, appendfsync always), sim %s, %d engines x %d workers, time scale %s",
        e->redis.url, e->sim.base, e->n_engines, e->workers, TIME_SCALE);
    double start = mono_s();
    size_t k = 0;
    do {
        run_round(e, plan[k % n_plan]);
        k++;
    } while (k < n_plan || (soak > 0 && mono_s() - start < soak));

    char *report = rd_test_sim_report(&e->sim);
    say("---- summary: %ld rounds in %.0f s, %ld failures ----", e->rounds, mono_s() - start,
        e->failures);
    say("faults injected: engine SIGKILLs %ld, Redis SIGKILL+AOF restarts %ld, Redis SIGSTOPs "
        "(7 s) %ld, maxmemory windows %ld, provider outages (12 s) %ld, Redis outages (20 s) "
        "%ld, skewed engines %ld (refused %ld), malformed inbox entries %ld",
        e->c.engine_kills, e->c.redis_restarts, e->c.redis_stops, e->c.maxmem_windows,
        e->c.provider_outages, e->c.redis_outages, e->c.skewed_engines, e->c.skew_refused,
        e->c.bad_inputs);
    say("sim faults: 5xx %lld, timeouts %lld, 429 %lld, outage 503s %lld, delayed answers %lld; "
        "callbacks lost %lld, duplicated %lld, reordered calls %lld, failed deliveries %lld",
        rd_test_report_int(report, "sim.faults.5xx"),
        rd_test_report_int(report, "sim.faults.timeout"),
        rd_test_report_int(report, "sim.faults.429"),
        rd_test_report_int(report, "sim.faults.outage"),
        rd_test_report_int(report, "sim.faults.delayed_answers"),
        rd_test_report_int(report, "sim.callbacks.lost"),
        rd_test_report_int(report, "sim.callbacks.duplicated"),
        rd_test_report_int(report, "sim.callbacks.reordered_calls"),
        rd_test_report_int(report, "sim.callbacks.failed"));
    say("invariants checked: jobs final %ld, provider calls checked %ld (unrecorded %ld, "
        "recorded twice %ld), events checked %ld, calls within budget (<= %d per number), "
        "referee violations %lld, dead letters only bad input",
        e->jobs_final, e->calls_checked, e->unrecorded, e->twice, e->events_checked, MAX_ATTEMPTS,
        rd_test_report_int(report, "violations_total"));
    free(report);
    rc = e->failures ? 1 : 0;
    say("%s", rc ? "FAILED" : "PASSED");
out:
    for (int i = 0; i < e->n_engines; i++)
        if (e->eng[i].pid > 0) {
            if (rc == 0)
                rd_test_server_stop(&e->eng[i], SIGTERM, 15000);
            else
                rd_test_server_kill(&e->eng[i]);
        }
    if (e->sim.pid > 0) rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return rc;
}
