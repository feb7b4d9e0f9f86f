/*
 * End to end through the real pieces: redis-server, redial-sim over HTTP and
 * redial-server processes, time-scaled (one policy hour = one wall second).
 *
 * 1,000 numbers with scripted outcomes (five patterns, below) must end with
 * exactly the expected dispositions and attempt counts, with an `attempt`
 * event for every call the simulator saw and a `final` event per number, and
 * zero referee violations — with one engine, with two engines sharing the
 * Redis, and with an engine stopped by SIGTERM in the middle of the load
 * (nothing lost, nothing dialed twice). The seed's exact campaign body sent
 * with curl-style basic auth creates the campaign and its numbers get called.
 * Each test gets its own Redis prefix, simulator and clock epoch, so each
 * starts at 10:00 policy time on 2026-12-01 (a Tuesday) in Asia/Kolkata.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

#define N_NUMBERS 1000
#define N_PATTERNS 5

typedef struct {
    const char *outcomes;
    const char *disposition;
    int attempts;
} pattern_t;

/* max_attempts 3, failed retried once (failed_max_retries 1). */
static const pattern_t PATTERNS[N_PATTERNS] = {
    {"[\"completed\"]", "connected", 1},
    {"[\"busy\",\"completed\"]", "connected", 2},
    {"[\"no-answer\",\"busy\",\"no-answer\"]", "unreachable", 3},
    {"[\"failed\",\"failed\"]", "failed", 2},
    {"[\"busy\",\"no-answer\",\"completed\"]", "connected", 3},
};

typedef struct {
    rd_test_redis_t redis;
    rd_test_sim_t sim;
    char epoch[32];
    rd_test_server_t servers[4]; /* killed at teardown if a test failed midway */
    int n_servers;
} env_t;

static void number_of(int i, char *buf, size_t len) { snprintf(buf, len, "+9198%08d", i); }

static char *script_json(void) {
    size_t cap = 64 * N_NUMBERS, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "{");
    for (int i = 0; i < N_NUMBERS; i++) {
        char num[24];
        number_of(i, num, sizeof num);
        len += (size_t)snprintf(s + len, cap - len, "%s\"%s\":%s", i ? "," : "", num,
                                PATTERNS[i % N_PATTERNS].outcomes);
    }
    snprintf(s + len, cap - len, "}");
    return s;
}

static char *campaign_json(const char *name, int n) {
    json_t *c =
        json_pack("{s:s, s:s, s:s, s:{s:i, s:i, s:[s,s,s]}, s:{s:s, s:s}, s:{s:i}}", "name", name,
                  "caller_id", "08030000000", "call_flow_id", "1234", "retry", "max_attempts", 3,
                  "interval_minutes", 60, "retry_on", "busy", "no-answer", "failed", "schedule",
                  "daily_start", "09:00", "daily_end", "21:00", "limits", "concurrency", 100);
    json_t *nums = json_array();
    for (int i = 0; i < n; i++) {
        char num[24];
        number_of(i, num, sizeof num);
        json_array_append_new(nums, json_string(num));
    }
    json_object_set_new(c, "numbers", nums);
    char *s = json_dumps(c, JSON_COMPACT);
    json_decref(c);
    return s;
}

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(e->epoch, sizeof e->epoch, "%lld", (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
    char *script = script_json();
    rd_test_sim_opts_t so = {
        .model = "uniform:completed=1",
        .script_json = script,
        .seed = 7,
        .time_scale = "3600",
        .time_origin = "2026-12-01T10:00:00+05:30",
        .time_epoch = e->epoch,
    };
    int rc = rd_test_sim_start(&e->sim, &so);
    free(script);
    if (rc != 0) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    for (int i = 0; i < e->n_servers; i++) rd_test_server_kill(&e->servers[i]);
    rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

/* The simulator stands in for one account without a rate limit (the harness
 * lifts the sim's), so the engine's provider bucket is lifted too. */
static const char *const ENGINE_ARGS[] = {"--provider-rate", "100000/1", NULL};

static rd_test_server_t *start_engine(env_t *e, const char *id) {
    assert_true(e->n_servers < 4);
    rd_test_server_t *s = &e->servers[e->n_servers++];
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = e->sim.base,
        .time_scale = "3600",
        .time_origin = "2026-12-01T10:00:00+05:30",
        .time_epoch = e->epoch,
        .engine_id = id,
        .extra_args = ENGINE_ARGS,
    };
    assert_int_equal(rd_test_server_start(s, &o), 0);
    return s;
}

static void tell_referee(env_t *e, const char *name) {
    char body[512];
    snprintf(body, sizeof body,
             "{\"name\":\"%s\",\"concurrency\":100,\"max_attempts\":3,\"max_per_day\":3,"
             "\"daily_start\":\"09:00\",\"daily_end\":\"21:00\",\"timezone\":\"Asia/Kolkata\"}",
             name);
    long st = rd_test_sim_post(&e->sim, "campaigns", body);
    assert_true(st == 200 || st == 201);
}

static void create_campaign(const rd_test_server_t *s, const char *name, int n) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Campaigns", s->base, RD_TEST_PROVIDER_SID);
    char *body = campaign_json(name, n);
    long st = rd_test_http("POST", url, NULL, body, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, &resp);
    if (st != 201) fprintf(stderr, "create %s: %ld %s\n", name, st, resp ? resp : "");
    assert_int_equal(st, 201);
    free(body);
    free(resp);
}

/* Per-number tallies from the events stream. */
typedef struct {
    int attempt_events;
    int max_attempt;
    int finals;
    char disposition[24];
    int final_attempts;
} tally_t;

static const char *mp_str(const msgpack_object_map *m, const char *key, char *buf, size_t len) {
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0 && v->type == MSGPACK_OBJECT_STR) {
            snprintf(buf, len, "%.*s", (int)v->via.str.size, v->via.str.ptr);
            return buf;
        }
    }
    buf[0] = '\0';
    return buf;
}

static long long mp_int(const msgpack_object_map *m, const char *key) {
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key, *v = &m->ptr[i].val;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0 &&
            v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
            return (long long)v->via.u64;
    }
    return -1;
}

static void read_events(env_t *e, const char *campaign, tally_t *t) {
    redisContext *rc = rd_test_redis_sync(&e->redis);
    assert_non_null(rc);
    char stream[128], last[64] = "-";
    snprintf(stream, sizeof stream, "%s:events", e->redis.prefix);
    for (;;) {
        redisReply *r = redisCommand(rc, "XRANGE %s %s + COUNT 1000", stream, last);
        assert_non_null(r);
        assert_int_equal(r->type, REDIS_REPLY_ARRAY);
        size_t n = r->elements;
        for (size_t i = 0; i < n; i++) {
            redisReply *entry = r->element[i], *fields = entry->element[1];
            snprintf(last, sizeof last, "(%s", entry->element[0]->str);
            for (size_t f = 0; f + 1 < fields->elements; f += 2) {
                if (strcmp(fields->element[f]->str, "m") != 0) continue;
                msgpack_unpacked u;
                msgpack_unpacked_init(&u);
                assert_int_equal(msgpack_unpack_next(&u, fields->element[f + 1]->str,
                                                     fields->element[f + 1]->len, NULL),
                                 MSGPACK_UNPACK_SUCCESS);
                assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
                const msgpack_object_map *m = &u.data.via.map;
                char type[16], camp[80], to[24];
                mp_str(m, "type", type, sizeof type);
                mp_str(m, "campaign", camp, sizeof camp);
                mp_str(m, "to", to, sizeof to);
                if (strcmp(camp, campaign) == 0) {
                    int idx = atoi(to + 5); /* "+9198" + 8 digits */
                    assert_true(idx >= 0 && idx < N_NUMBERS);
                    tally_t *x = &t[idx];
                    if (strcmp(type, "attempt") == 0) {
                        x->attempt_events++;
                        int a = (int)mp_int(m, "attempt");
                        if (a > x->max_attempt) x->max_attempt = a;
                    } else if (strcmp(type, "final") == 0) {
                        x->finals++;
                        mp_str(m, "disposition", x->disposition, sizeof x->disposition);
                        x->final_attempts = (int)mp_int(m, "attempts");
                    }
                }
                msgpack_unpacked_destroy(&u);
            }
        }
        freeReplyObject(r);
        if (n < 1000) break;
    }
    redisFree(rc);
}

static void check_outcomes(env_t *e, const char *campaign, int n) {
    tally_t *t = calloc(N_NUMBERS, sizeof *t);
    read_events(e, campaign, t);
    int bad = 0;
    for (int i = 0; i < n; i++) {
        const pattern_t *p = &PATTERNS[i % N_PATTERNS];
        if (t[i].finals != 1 || strcmp(t[i].disposition, p->disposition) != 0 ||
            t[i].final_attempts != p->attempts || t[i].attempt_events != p->attempts ||
            t[i].max_attempt != p->attempts) {
            if (bad++ < 10)
                fprintf(stderr,
                        "number %d: finals=%d disposition=%s (want %s) attempts=%d events=%d "
                        "(want %d)\n",
                        i, t[i].finals, t[i].disposition, p->disposition, t[i].final_attempts,
                        t[i].attempt_events, p->attempts);
        }
    }
    free(t);
    assert_int_equal(bad, 0);

    assert_int_equal(rd_test_sim_violations(&e->sim), 0);
}

static void t_one_engine(void **state) {
    env_t *e = *state;
    rd_test_server_t *s = start_engine(e, "e2e-a");
    tell_referee(e, "E2E_one");
    create_campaign(s, "E2E_one", N_NUMBERS);
    assert_int_equal(rd_test_wait_finished(s, "E2E_one", N_NUMBERS, 60), 0);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
    check_outcomes(e, "E2E_one", N_NUMBERS);
}

static void t_two_engines_and_sigterm(void **state) {
    env_t *e = *state;
    rd_test_server_t *a = start_engine(e, "e2e-b1"), *b = start_engine(e, "e2e-b2");
    tell_referee(e, "E2E_two");
    create_campaign(a, "E2E_two", N_NUMBERS);
    /* Let both engines take load, then stop one mid-run: its in-flight dials
       keep their call ids, unstarted claims go back to due, and the other
       engine (callbacks may reach either) finishes everything. */
    while (rd_test_campaign_finished(b, "E2E_two") < N_NUMBERS / 4) {
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(rd_test_server_stop(a, SIGTERM, 15000), 0);
    assert_int_equal(rd_test_wait_finished(b, "E2E_two", N_NUMBERS, 90), 0);
    assert_int_equal(rd_test_server_stop(b, SIGTERM, 15000), 0);
    check_outcomes(e, "E2E_two", N_NUMBERS);
}

/* The seed's body, byte for byte, sent like the seed's curl. */
static void t_seed_body(void **state) {
    env_t *e = *state;
    rd_test_server_t *s = start_engine(e, "e2e-seed");
    static const char seed[] =
        "{\n\"name\": \"Payment_Reminders\",\n\"caller_id\": \"<exophone>\",\n"
        "\"call_flow_id\": \"<flow_id>\",\n\"numbers\": [\"+919876543210\", \"+919876543211\"],\n"
        "\"retry\": {\n\"max_attempts\": 3,\n\"interval_minutes\": 60,\n"
        "\"retry_on\": [\"busy\", \"no-answer\", \"failed\"]\n},\n\"schedule\": {\n"
        "\"daily_start\": \"09:00\",\n\"daily_end\": \"21:00\"\n}\n}";
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/v1/Accounts/%s/Campaigns", s->base, RD_TEST_PROVIDER_SID);
    long st = rd_test_http("POST", url, NULL, seed, "wrong:creds", NULL);
    assert_int_equal(st, 401);
    st = rd_test_http("POST", url, NULL, seed, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, &resp);
    assert_int_equal(st, 201);
    free(resp);
    assert_int_equal(rd_test_wait_finished(s, "Payment_Reminders", 2, 30), 0);
    char *report = rd_test_sim_report(&e->sim);
    assert_non_null(report);
    assert_true(rd_test_report_int(report, "campaigns.Payment_Reminders.calls") >= 2);
    free(report);
    assert_int_equal(rd_test_server_stop(s, SIGTERM, 15000), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_seed_body, setup, teardown),
        cmocka_unit_test_setup_teardown(t_one_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(t_two_engines_and_sigterm, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
