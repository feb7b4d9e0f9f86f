/*
 * Integration tests of the inbox consumer (engine/ingest.h) against a real
 * redis-server: a stream of valid entries with 1% malformed ones (every
 * malformed entry lands in the dead-letter stream with its original bytes
 * and a reason; every valid one becomes exactly one job), idempotent
 * redelivery, and the takeover of entries left pending by a dead consumer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/ccache.h"
#include "engine/ingest.h"
#include "store/store.h"
#include "proto/job.h"
#include "proto/rd.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

typedef struct fx {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s;
    rd_ccache_t *cc;
    rd_clock_t clk;
    redisContext *sync;
} fx_t;

static int setup(void **state) {
    fx_t *f = rd_calloc(1, sizeof(*f));
    if (rd_test_redis_start(&f->redis) < 0) return -1;
    uv_loop_init(&f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    f->cc = rd_ccache_create(f->s);
    rd_clock_init_wall(&f->clk);
    f->sync = rd_test_redis_sync(&f->redis);
    /* A campaign whose window is the whole day, so first due = now. */
    const char *json = "{\"name\":\"Pay\",\"caller_id\":\"1\",\"call_flow_id\":\"1\","
                       "\"schedule\":{\"daily_start\":\"00:00\",\"daily_end\":\"23:59\","
                       "\"timezone\":\"UTC\",\"jitter_seconds\":0}}";
    if (ts_campaign(f->s, &f->loop, json, rd_clock_now(&f->clk)) != 0) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    ts_close(f->s, &f->loop);
    rd_ccache_destroy(f->cc);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    redisFree(f->sync);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

static rd_ingest_t *ingest(fx_t *f, const char *consumer, uint32_t idle_ms) {
    rd_ingest_opts_t o;
    rd_ingest_opts_init(&o);
    o.url = f->redis.url;
    o.prefix = f->redis.prefix;
    o.consumer = consumer;
    o.block_ms = 100;
    o.claim_idle_ms = idle_ms;
    o.clock = &f->clk;
    o.store = f->s;
    o.campaigns = f->cc;
    rd_ingest_t *in = NULL;
    assert_int_equal(rd_ingest_create(&f->loop, &o, &in), 0);
    return in;
}

static void on_closed(void *arg) { *(bool *)arg = true; }

static void ingest_close(fx_t *f, rd_ingest_t *in) {
    bool done = false;
    rd_ingest_close(in, on_closed, &done);
    while (!done) uv_run(&f->loop, UV_RUN_ONCE);
}

/* Runs the loop until the ingest has read n entries (or 20 s pass). */
static void run_until_read(fx_t *f, rd_ingest_t *in, uint64_t n) {
    rd_ingest_counters_t c;
    uint64_t end = uv_now(&f->loop) + 20000;
    do {
        uv_run(&f->loop, UV_RUN_ONCE);
        rd_ingest_counters(in, &c);
    } while (c.read < n && uv_now(&f->loop) < end);
    /* Let the last batch's acks land. */
    uint64_t settle = uv_now(&f->loop) + 300;
    while (uv_now(&f->loop) < settle) uv_run(&f->loop, UV_RUN_ONCE);
}

static void xadd(fx_t *f, const char *field, const void *buf, size_t len) {
    redisReply *r =
        redisCommand(f->sync, "XADD %s:inbox * %s %b", f->redis.prefix, field, buf, len);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    freeReplyObject(r);
}

static void xadd_job(fx_t *f, const char *camp, const char *to, const char *id) {
    rd_job_msg_t m;
    rd_job_msg_init(&m);
    m.v = 1;
    snprintf(m.campaign, sizeof(m.campaign), "%s", camp);
    snprintf(m.to, sizeof(m.to), "%s", to);
    snprintf(m.id, sizeof(m.id), "%s", id ? id : "");
    char *buf;
    size_t len;
    assert_int_equal(rd_job_msg_encode(&m, &buf, &len), 0);
    xadd(f, "m", buf, len);
    rd_free(buf);
    rd_job_msg_deinit(&m);
}

static long long xlen(fx_t *f, const char *stream) {
    redisReply *r = redisCommand(f->sync, "XLEN %s:%s", f->redis.prefix, stream);
    long long n = r->integer;
    freeReplyObject(r);
    return n;
}

static long long pending(fx_t *f) {
    redisReply *r = redisCommand(f->sync, "XPENDING %s:inbox redial", f->redis.prefix);
    long long n = r && r->type == REDIS_REPLY_ARRAY ? r->element[0]->integer : -1;
    freeReplyObject(r);
    return n;
}

/* The malformed entries: field, bytes, and a word the reason must contain. */
/* len 0: strlen (the empty entry has no bytes either way). */
typedef struct bad {
    const char *field;
    const char *bytes;
    size_t len;
    const char *why;
} bad_t;

static const bad_t BAD[] = {
    {"m", "\xc1\xff\x00garbage", 10, ""},
    {"m", "\x93\x01\x02\x03", 4, ""}, /* array, not a map */
    {"m", "", 0, ""},                 /* empty */
    {"j", "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"12345\"}", 0, "to"},
    {"j", "{\"v\":1,\"campaign\":\"Nope\",\"to\":\"+919876500000\"}", 0, "campaign"},
    {"j", "[1,2,3]", 0, ""},
    {"j", "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"+919876500001\",\"x\":1}", 0, "x"},
    {"x", "whatever", 0, "field"},
    {"j", "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"+919876500002\",\"tz\":\"Mars/Base\"}", 0, "tz"},
    {"m", "\xde\xad\xbe\xef", 4, ""},
};

static size_t bad_len(const bad_t *b) { return b->len ? b->len : strlen(b->bytes); }

static void t_one_percent_malformed(void **state) {
    fx_t *f = *state;
    /* 990 valid (30 of them duplicates by id), 10 malformed, interleaved. */
    char num[20], id[32];
    int bad = 0;
    for (int i = 0; i < 990; i++) {
        snprintf(num, sizeof(num), "+9198000%05d", i);
        snprintf(id, sizeof(id), "id-%d", i < 960 ? i : i - 960);
        if (i >= 960) /* duplicate id: same job again */
            snprintf(num, sizeof(num), "+9198000%05d", i - 960);
        xadd_job(f, "Pay", num, id);
        if (i % 99 == 50 && bad < 10) {
            xadd(f, BAD[bad].field, BAD[bad].bytes, bad_len(&BAD[bad]));
            bad++;
        }
    }
    assert_int_equal(bad, 10);
    /* One valid JSON entry too. */
    const char *j = "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"+919999999999\",\"id\":\"json-1\","
                    "\"vars\":{\"a\":\"b\"}}";
    xadd(f, "j", j, strlen(j));
    rd_ingest_t *in = ingest(f, "c1", 30000);
    run_until_read(f, in, 1001);
    rd_ingest_counters_t c;
    rd_ingest_counters(in, &c);
    assert_int_equal(c.read, 1001);
    assert_int_equal(c.created, 961);
    assert_int_equal(c.duplicates, 30);
    assert_int_equal(c.deadlettered, 10);
    assert_int_equal(c.errors, 0);
    ingest_close(f, in);
    assert_int_equal(pending(f), 0);
    assert_int_equal(xlen(f, "inbox"), 0); /* processed entries are deleted */
    assert_int_equal(xlen(f, "deadletter"), 10);
    /* Each dead letter: the original field with the original bytes, a reason, the entry id. */
    redisReply *r = redisCommand(f->sync, "XRANGE %s:deadletter - +", f->redis.prefix);
    assert_int_equal(r->elements, 10);
    int seen[RD_ARRAY_LEN(BAD)] = {0};
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fv = r->element[i]->element[1];
        assert_int_equal(fv->elements, 6);
        /* Entries finish concurrently: find which one this is by its bytes. */
        const bad_t *b = NULL;
        for (size_t k = 0; k < RD_ARRAY_LEN(BAD); k++)
            if (strcmp(fv->element[0]->str, BAD[k].field) == 0 &&
                fv->element[1]->len == bad_len(&BAD[k]) &&
                memcmp(fv->element[1]->str, BAD[k].bytes, bad_len(&BAD[k])) == 0)
                b = &BAD[k];
        assert_non_null(b);
        seen[b - BAD]++;
        assert_string_equal(fv->element[2]->str, "reason");
        assert_true(fv->element[3]->len > 0);
        assert_non_null(strstr(fv->element[3]->str, b->why));
        assert_string_equal(fv->element[4]->str, "entry");
    }
    freeReplyObject(r);
    for (size_t k = 0; k < RD_ARRAY_LEN(BAD); k++) assert_int_equal(seen[k], 1);
    rd_store_campaign_t camp;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "Pay", &camp), 0);
    assert_int_equal(camp.enqueued, 961);
    assert_int_equal(camp.pending, 961);
    /* The JSON job kept its vars. */
    rd_store_job_t *job = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "json-1", &job), 0);
    assert_int_equal(job->state, RD_JOB_PENDING);
    assert_int_equal(job->n_vars, 1);
    assert_string_equal(job->vars[0].key, "a");
    assert_string_equal(job->vars[0].val, "b");
    rd_store_job_free(job);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "id-7", &job), 0);
    assert_string_equal(job->to, "+919800000007");
    rd_store_job_free(job);
    ts_jobs_t cl;
    assert_int_equal(ts_claim(f->s, &f->loop, rd_clock_now(&f->clk) + 1000, 1000, 60000, &cl), 0);
    assert_int_equal(cl.n, 10); /* default concurrency */
    ts_jobs_free(&cl);
}

/* A consumer read entries and died before acking: another takes them over. */
static void t_takeover(void **state) {
    fx_t *f = *state;
    char num[20];
    for (int i = 0; i < 50; i++) {
        snprintf(num, sizeof(num), "+9197000%05d", i);
        xadd_job(f, "Pay", num, NULL);
    }
    redisReply *r =
        redisCommand(f->sync, "XGROUP CREATE %s:inbox redial 0 MKSTREAM", f->redis.prefix);
    freeReplyObject(r);
    r = redisCommand(f->sync, "XREADGROUP GROUP redial dead COUNT 30 STREAMS %s:inbox >",
                     f->redis.prefix);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    freeReplyObject(r);
    assert_int_equal(pending(f), 30);
    rd_ingest_t *in = ingest(f, "c2", 200);
    run_until_read(f, in, 20); /* the 20 never delivered */
    uint64_t end = uv_now(&f->loop) + 5000;
    rd_ingest_counters_t c;
    do {
        uv_run(&f->loop, UV_RUN_ONCE);
        rd_ingest_counters(in, &c);
    } while (c.created < 50 && uv_now(&f->loop) < end);
    assert_int_equal(c.created, 50);
    /* The same messages again (a producer retrying): no-ops. */
    ingest_close(f, in);
    assert_int_equal(pending(f), 0);
    for (int i = 0; i < 50; i++) {
        snprintf(num, sizeof(num), "+9197000%05d", i);
        xadd_job(f, "Pay", num, NULL);
    }
    in = ingest(f, "c3", 30000);
    run_until_read(f, in, 50);
    rd_ingest_counters(in, &c);
    assert_int_equal(c.created, 0);
    assert_int_equal(c.duplicates, 50);
    ingest_close(f, in);
    rd_store_campaign_t camp;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "Pay", &camp), 0);
    assert_int_equal(camp.enqueued, 50);
}

/* Bytes that are not UTF-8 text in a producer's field: dead-lettered, the reason names it. */
static void t_not_text(void **state) {
    fx_t *f = *state;
    xadd_job(f, "Pay", "+919876522222", "bad\xff");
    const char *j = "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"+919876522223\","
                    "\"vars\":{\"name\":\"a\\u001bb\"}}";
    xadd(f, "j", j, strlen(j));
    rd_ingest_t *in = ingest(f, "c5", 30000);
    run_until_read(f, in, 2);
    rd_ingest_counters_t c;
    rd_ingest_counters(in, &c);
    assert_int_equal(c.deadlettered, 2);
    assert_int_equal(c.created, 0);
    ingest_close(f, in);
    redisReply *r = redisCommand(f->sync, "XRANGE %s:deadletter - +", f->redis.prefix);
    assert_int_equal(r->elements, 2);
    char reasons[512] = "";
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fv = r->element[i]->element[1];
        for (size_t k = 0; k + 1 < fv->elements; k += 2)
            if (strcmp(fv->element[k]->str, "reason") == 0) {
                strncat(reasons, fv->element[k + 1]->str, sizeof reasons - strlen(reasons) - 2);
                strcat(reasons, "|");
            }
    }
    freeReplyObject(r);
    if (!strstr(reasons, "id: not UTF-8 text") || !strstr(reasons, "vars.\"name\": not UTF-8"))
        fail_msg("reasons: %s", reasons);
}

/*
 * A valid entry read while the process is out of descriptors (its zone file
 * cannot be opened) is neither dead-lettered nor lost: it stays pending and
 * is stored once descriptors are back (XAUTOCLAIM redelivery).
 */
static void t_emfile_retried(void **state) {
    fx_t *f = *state;
    const char *j = "{\"v\":1,\"campaign\":\"Pay\",\"to\":\"+919876511111\","
                    "\"tz\":\"Pacific/Chatham\"}";
    rd_ingest_t *in = ingest(f, "c4", 200);
    /* Let the ingest connect and create its group: nothing after needs a new descriptor. */
    for (int i = 0; i < 50; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        usleep(2000);
    }
    rd_test_fds_t fds;
    rd_test_fds_exhaust(&fds);
    xadd(f, "j", j, strlen(j));
    rd_ingest_counters_t c;
    uint64_t end = uv_now(&f->loop) + 5000;
    do {
        uv_run(&f->loop, UV_RUN_ONCE);
        rd_ingest_counters(in, &c);
    } while (c.read < 1 && uv_now(&f->loop) < end);
    uint64_t settle = uv_now(&f->loop) + 100;
    while (uv_now(&f->loop) < settle) uv_run(&f->loop, UV_RUN_ONCE);
    rd_test_fds_release(&fds);
    rd_ingest_counters(in, &c);
    assert_int_equal(c.read, 1);
    assert_int_equal(c.deadlettered, 0);
    assert_int_equal(c.created, 0);
    end = uv_now(&f->loop) + 5000;
    do {
        uv_run(&f->loop, UV_RUN_ONCE);
        rd_ingest_counters(in, &c);
    } while (c.created < 1 && uv_now(&f->loop) < end);
    assert_int_equal(c.created, 1);
    assert_int_equal(c.deadlettered, 0);
    ingest_close(f, in);
    assert_int_equal(xlen(f, "deadletter"), 0);
    assert_int_equal(pending(f), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_one_percent_malformed, setup, teardown),
        cmocka_unit_test_setup_teardown(t_takeover, setup, teardown),
        cmocka_unit_test_setup_teardown(t_emfile_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(t_not_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
