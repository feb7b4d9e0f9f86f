/*
 * Fencing inside one batched script call: two settles of the same lease
 * issued in one loop iteration (a provider callback delivered twice at
 * once, both looked up before either settled) travel in one settle script
 * call. Exactly one may apply; the other must report RD_ESTALE and change
 * nothing (one attempt in the history and the stats, one `attempt` event).
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

static void t_duplicate_settle_in_one_batch(void **state) {
    (void)state;
    rd_test_redis_t redis;
    assert_int_equal(rd_test_redis_start(&redis), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, redis.url, redis.prefix, NULL, 0, 0);
    assert_int_equal(ts_campaign(s, &loop,
                                 "{\"name\":\"B\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\","
                                 "\"numbers\":[]}",
                                 T0),
                     0);
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

    ts_close(s, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
    rd_test_redis_stop(&redis);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_duplicate_settle_in_one_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
