/*
 * Fencing inside one batched script call: two settles of the same lease
 * issued in one loop iteration (a provider callback delivered twice at
 * once, both looked up before either settled) travel in one settle script
 * call. Exactly one may apply; the other must report RD_ESTALE and change
 * nothing (one attempt in the history and the stats, one `attempt` event).
 * Likewise placed (its reads and writes batched: one HMGET, one HSET each
 * of leases and call ids, one ZADD): the same lease twice in one batch ends
 * as the last item says (earlier call ids no longer indexed), and a token
 * that is not current reports RD_ESTALE and indexes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

#define T0 1795860000000LL /* 2026-11-28 10:00 UTC */
#define MINUTE 60000LL

typedef struct {
    int status[2];
    int done;
} settles_t;

static settles_t *g_settles;

static void on_settle(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)s;
    (void)r;
    g_settles->status[(intptr_t)arg] = status;
    g_settles->done++;
}

/* A Redis, a loop and a store with one campaign `name`. */
static rd_store_t *open_store(rd_test_redis_t *redis, uv_loop_t *loop, const char *name) {
    assert_int_equal(rd_test_redis_start(redis), 0);
    uv_loop_init(loop);
    rd_store_t *s = ts_store(loop, redis->url, redis->prefix, NULL, 0, 0);
    char json[160];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\",\"numbers\":[]}",
             name);
    assert_int_equal(ts_campaign(s, loop, json, T0), 0);
    return s;
}

static void close_store(rd_store_t *s, uv_loop_t *loop, rd_test_redis_t *redis) {
    ts_close(s, loop);
    assert_int_equal(uv_loop_close(loop), 0);
    rd_test_redis_stop(redis);
}

static void t_duplicate_settle_in_one_batch(void **state) {
    (void)state;
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s = open_store(&redis, &loop, "B");
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(s, &loop, "B", "+919800000001", NULL, T0, T0, &er), 0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(s, &loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    uint64_t tok = j.v[0]->token;
    ts_jobs_free(&j);

    rd_store_settle_t st;
    memset(&st, 0, sizeof st);
    st.campaign = "B";
    st.token = tok;
    st.outcome = RD_OUT_BUSY;
    st.ended_ms = T0 + MINUTE;
    st.now_ms = T0 + MINUTE;
    st.decision.final = false;
    st.decision.due_ms = T0 + 60 * MINUTE;
    st.hour_of_week = 10;
    settles_t res = {{1, 1}, 0};
    g_settles = &res;
    assert_int_equal(rd_store_settle(s, &st, on_settle, (void *)(intptr_t)0), 0);
    assert_int_equal(rd_store_settle(s, &st, on_settle, (void *)(intptr_t)1), 0);
    while (res.done < 2) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(res.status[0], 0);
    assert_int_equal(res.status[1], RD_ESTALE);

    rd_store_stats_t stats;
    assert_int_equal(ts_stats(s, &loop, "B", &stats), 0);
    assert_int_equal(stats.counts.attempts[1], 1);
    assert_int_equal(stats.counts.attempts[2], 0);
    assert_int_equal(stats.smart.attempted[10], 1);

    close_store(s, &loop, &redis);
}

static int g_placed[4], g_placed_done;

static void on_placed(rd_store_t *s, int status, void *arg) {
    (void)s;
    g_placed[(intptr_t)arg] = status;
    g_placed_done++;
}

static void t_placed_in_one_batch(void **state) {
    (void)state;
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s = open_store(&redis, &loop, "P");
    rd_enq_result_t er;
    assert_int_equal(ts_enqueue(s, &loop, "P", "+919800000001", NULL, T0, T0, &er), 0);
    assert_int_equal(ts_enqueue(s, &loop, "P", "+919800000002", NULL, T0, T0, &er), 0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(s, &loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 2);
    uint64_t ta = j.v[0]->token, tb = j.v[1]->token;
    ts_jobs_free(&j);
    /* An earlier batch placed ta as CA0: the batch below must unindex it. */
    assert_int_equal(ts_placed(s, &loop, "P", ta, "CA0", T0 + 5 * MINUTE), 0);
    g_placed_done = 0;
    assert_int_equal(rd_store_placed(s, "P", ta, "CA1", T0 + 10 * MINUTE, on_placed, (void *)0), 0);
    assert_int_equal(rd_store_placed(s, "P", ta, "CA2", T0 + 20 * MINUTE, on_placed, (void *)1), 0);
    assert_int_equal(rd_store_placed(s, "P", tb, "CB", T0 + 30 * MINUTE, on_placed, (void *)2), 0);
    assert_int_equal(rd_store_placed(s, "P", tb + 1000, "CX", T0, on_placed, (void *)3), 0);
    while (g_placed_done < 4) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g_placed[0], 0);
    assert_int_equal(g_placed[1], 0);
    assert_int_equal(g_placed[2], 0);
    assert_int_equal(g_placed[3], RD_ESTALE);
    rd_store_job_t *lj = NULL;
    assert_int_equal(ts_lookup(s, &loop, 'c', "CA2", &lj), 0);
    assert_int_equal(lj->token, ta);
    assert_int_equal(lj->state, RD_JOB_PLACED);
    assert_string_equal(lj->call_id, "CA2");
    assert_int_equal(lj->deadline_ms, T0 + 20 * MINUTE);
    rd_store_job_free(lj);
    lj = NULL;
    assert_int_equal(ts_lookup(s, &loop, 'c', "CB", &lj), 0);
    assert_int_equal(lj->token, tb);
    assert_int_equal(lj->deadline_ms, T0 + 30 * MINUTE);
    rd_store_job_free(lj);
    lj = NULL;
    assert_int_equal(ts_lookup(s, &loop, 'c', "CA0", &lj), RD_ENOTFOUND);
    assert_int_equal(ts_lookup(s, &loop, 'c', "CA1", &lj), RD_ENOTFOUND);
    assert_int_equal(ts_lookup(s, &loop, 'c', "CX", &lj), RD_ENOTFOUND);
    close_store(s, &loop, &redis);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_duplicate_settle_in_one_batch),
        cmocka_unit_test(t_placed_in_one_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
