/*
 * The placed journal (engine/journal.h, issue 12 item 1) against a real
 * redis-server with AOF: a placed write issued while Redis is down is kept
 * and lands once Redis is back (the lease then carries the call id, so
 * recovery polls it instead of requeueing the job as "never placed"); a
 * kept write whose lease was released meanwhile ends stale, never placing
 * somebody else's lease; entries still kept at close are counted lost.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/journal.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

#define T0 1764561600000LL /* 2026-12-01 04:00 UTC */
#define MINUTE 60000LL

typedef struct {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s;
    rd_journal_t *j;
    uv_timer_t guard;
    bool timed_out;
} fx_t;

static int setup(void **state) {
    fx_t *f = rd_calloc(1, sizeof *f);
    if (rd_test_redis_start_aof(&f->redis) != 0) return -1;
    uv_loop_init(&f->loop);
    uv_timer_init(&f->loop, &f->guard);
    f->guard.data = f;
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    assert_int_equal(rd_journal_create(&f->loop, f->s, 0, 50, &f->j), 0);
    *state = f;
    return 0;
}

static void on_closed(void *arg) { *(bool *)arg = true; }

static int teardown(void **state) {
    fx_t *f = *state;
    if (f->j) {
        bool done = false;
        rd_journal_close(f->j, on_closed, &done);
        while (!done) uv_run(&f->loop, UV_RUN_ONCE);
    }
    ts_close(f->s, &f->loop);
    uv_close((uv_handle_t *)&f->guard, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

static void on_guard(uv_timer_t *t) { ((fx_t *)t->data)->timed_out = true; }

/* Runs the loop until pred(f) holds (<= 10 s). */
static void run_until(fx_t *f, bool (*pred)(fx_t *)) {
    f->timed_out = false;
    uv_timer_start(&f->guard, on_guard, 10000, 0);
    while (!pred(f) && !f->timed_out) uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->guard);
    assert_false(f->timed_out);
}

static bool kept_one(fx_t *f) {
    rd_journal_stats_t st;
    rd_journal_stats(f->j, &st);
    return st.pending >= 1;
}
static bool drained(fx_t *f) {
    rd_journal_stats_t st;
    rd_journal_stats(f->j, &st);
    return st.pending == 0 && st.replayed + st.stale + st.dropped >= st.kept;
}

static uint64_t claim_one(fx_t *f, const char *camp, const char *to) {
    char json[256];
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\",\"numbers\":[]}",
             camp);
    assert_int_equal(ts_campaign(f->s, &f->loop, json, T0), 0);
    rd_enq_result_t r;
    assert_int_equal(ts_enqueue(f->s, &f->loop, camp, to, NULL, T0, T0, &r), 0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    uint64_t tok = j.v[0]->token;
    ts_jobs_free(&j);
    return tok;
}

/* A job of campaign camp claimed, then Redis killed right after the
   provider accepted its dial as call_id: the journal keeps the write. */
static uint64_t placed_while_down(fx_t *f, const char *camp, const char *to, const char *call_id) {
    uint64_t tok = claim_one(f, camp, to);
    assert_int_equal(rd_test_redis_kill(&f->redis), 0);
    assert_int_equal(rd_journal_placed(f->j, camp, tok, call_id, T0 + 10 * MINUTE), 0);
    run_until(f, kept_one);
    return tok;
}

static void t_placed_survives_an_outage(void **state) {
    fx_t *f = *state;
    uint64_t tok = placed_while_down(f, "A", "+919876543210", "CALL-1");
    /* Down a while longer: it stays kept (retries wait for the probe). */
    f->timed_out = false;
    uv_timer_start(&f->guard, on_guard, 1500, 0);
    while (!f->timed_out) uv_run(&f->loop, UV_RUN_ONCE);
    assert_true(kept_one(f));
    assert_int_equal(rd_test_redis_restart(&f->redis), 0);
    run_until(f, drained);
    rd_journal_stats_t st;
    rd_journal_stats(f->j, &st);
    assert_int_equal(st.placed, 1);
    assert_int_equal(st.kept, 1);
    assert_int_equal(st.replayed, 1);
    assert_int_equal(st.dropped, 0);
    /* The lease carries the call id: a callback or a poll finds it. */
    rd_store_job_t *lk = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'c', "CALL-1", &lk), 0);
    assert_int_equal(lk->token, tok);
    assert_int_equal(lk->state, RD_JOB_PLACED);
    rd_store_job_free(lk);
}

static void t_replay_is_fenced(void **state) {
    fx_t *f = *state;
    uint64_t tok = placed_while_down(f, "B", "+919876543211", "CALL-2");
    assert_int_equal(rd_test_redis_restart(&f->redis), 0);
    /* The lease was released before the replay (say, by its own engine's
       shutdown): the replay must not resurrect it. */
    assert_int_equal(ts_release(f->s, &f->loop, "B", tok, T0, T0), 0);
    run_until(f, drained);
    rd_journal_stats_t st;
    rd_journal_stats(f->j, &st);
    assert_int_equal(st.stale, 1);
    assert_int_equal(st.replayed, 0);
    rd_store_job_t *lk = NULL;
    assert_int_not_equal(ts_lookup(f->s, &f->loop, 'c', "CALL-2", &lk), 0);
    rd_store_job_free(lk);
}

static void t_close_counts_lost(void **state) {
    fx_t *f = *state;
    placed_while_down(f, "C", "+919876543212", "CALL-3");
    bool done = false;
    rd_journal_close(f->j, on_closed, &done);
    while (!done) uv_run(&f->loop, UV_RUN_ONCE);
    f->j = NULL;
    /* The crash window, as documented: what was kept at close is lost. */
    assert_int_equal(rd_test_redis_restart(&f->redis), 0);
    rd_store_job_t *lk = NULL;
    int rc = RD_ETIMEOUT;
    for (int i = 0; i < 50 && (rc == RD_ETIMEOUT || rc == RD_ECLOSED); i++)
        rc = ts_lookup(f->s, &f->loop, 'c', "CALL-3", &lk);
    assert_int_not_equal(rc, 0);
    rd_store_job_free(lk);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_placed_survives_an_outage, setup, teardown),
        cmocka_unit_test_setup_teardown(t_replay_is_fenced, setup, teardown),
        cmocka_unit_test_setup_teardown(t_close_counts_lost, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
