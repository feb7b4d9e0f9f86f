/*
 * Clock discipline (engine/clockwatch.h, issue 12 item 2) against a real
 * redis-server: engines on the same settings agree; a wall clock skewed
 * against Redis TIME beyond the limit is SKEWED (and OK again once fixed);
 * a different time scale, or the same scale with another epoch, on the same
 * prefix is MISMATCH; another prefix is another deployment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clockwatch.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"

typedef struct {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_redis_addr_t addr;
    uv_timer_t guard;
    bool timed_out;
} env_t;

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    if (rd_redis_parse_url(e->redis.url, &e->addr) != 0) return -1;
    uv_loop_init(&e->loop);
    uv_timer_init(&e->loop, &e->guard);
    e->guard.data = e;
    *state = e;
    return 0;
}

static void on_closed(uv_handle_t *h) { (void)h; }

static int teardown(void **state) {
    env_t *e = *state;
    uv_close((uv_handle_t *)&e->guard, on_closed);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

static void on_guard(uv_timer_t *t) { ((env_t *)t->data)->timed_out = true; }

/* Runs the loop until w has completed `n` more checks. */
static void wait_checks(env_t *e, rd_clockwatch_t *w, uint64_t n) {
    uint64_t want = rd_clockwatch_checks(w) + n;
    e->timed_out = false;
    uv_timer_start(&e->guard, on_guard, 5000, 0);
    while (rd_clockwatch_checks(w) < want && !e->timed_out) uv_run(&e->loop, UV_RUN_ONCE);
    uv_timer_stop(&e->guard);
    assert_false(e->timed_out);
}

typedef struct {
    int64_t offset_ms;
} fake_wall_t;

static int64_t fake_wall(void *ctx) { return rd_wall_ms() + ((fake_wall_t *)ctx)->offset_ms; }

static int changes;
static void on_change(void *data, rd_clockwatch_state_t st) {
    (void)data;
    (void)st;
    changes++;
}

static rd_clockwatch_t *watch(env_t *e, const rd_clock_t *c, const char *id, fake_wall_t *fw,
                              const char *prefix) {
    rd_clockwatch_cfg_t cfg = {.addr = &e->addr,
                               .prefix = prefix ? prefix : e->redis.prefix,
                               .engine_id = id,
                               .clock = c,
                               .max_skew_ms = 2000,
                               .period_ms = 50,
                               .wall_ms = fw ? fake_wall : NULL,
                               .wall_ctx = fw,
                               .on_change = on_change};
    rd_clockwatch_t *w;
    assert_int_equal(rd_clockwatch_create(&e->loop, &cfg, &w), 0);
    return w;
}

static void close_all(env_t *e, rd_clockwatch_t **w, int n) {
    for (int i = 0; i < n; i++) rd_clockwatch_close(w[i], NULL, NULL);
    for (int i = 0; i < 10; i++) uv_run(&e->loop, UV_RUN_NOWAIT);
}

static void t_same_settings_agree_skew_detected(void **state) {
    env_t *e = *state;
    rd_clock_t c;
    char err[128];
    assert_int_equal(
        rd_clock_init(&c, "60", "2026-12-01T09:00:00+05:30", "1764556800000", err, sizeof err), 0);
    fake_wall_t fw = {0};
    rd_clockwatch_t *w[2] = {watch(e, &c, "a", NULL, NULL), watch(e, &c, "b", &fw, NULL)};
    changes = 0;
    wait_checks(e, w[0], 2);
    wait_checks(e, w[1], 2);
    assert_int_equal(rd_clockwatch_state(w[0]), RD_CLOCKWATCH_OK);
    assert_int_equal(rd_clockwatch_state(w[1]), RD_CLOCKWATCH_OK);
    assert_true(llabs(rd_clockwatch_skew_ms(w[0])) < 500);
    assert_string_equal(rd_clockwatch_why(w[0]), "");
    assert_int_equal(changes, 2);

    /* b's host clock jumps 10 s ahead: skewed, with the reason. */
    fw.offset_ms = 10000;
    wait_checks(e, w[1], 2);
    assert_int_equal(rd_clockwatch_state(w[1]), RD_CLOCKWATCH_SKEWED);
    assert_true(rd_clockwatch_skew_ms(w[1]) > 9000);
    assert_non_null(strstr(rd_clockwatch_why(w[1]), "skew"));
    assert_int_equal(rd_clockwatch_state(w[0]), RD_CLOCKWATCH_OK);
    /* Just inside the limit is fine; fixed, it is OK again. */
    fw.offset_ms = 1500;
    wait_checks(e, w[1], 2);
    assert_int_equal(rd_clockwatch_state(w[1]), RD_CLOCKWATCH_OK);
    fw.offset_ms = -3000;
    wait_checks(e, w[1], 2);
    assert_int_equal(rd_clockwatch_state(w[1]), RD_CLOCKWATCH_SKEWED);
    assert_int_equal(changes, 5);
    close_all(e, w, 2);
}

static void t_other_settings_refused(void **state) {
    env_t *e = *state;
    rd_clock_t base, epoch90, scale1;
    char err[128];
    assert_int_equal(
        rd_clock_init(&base, "60", "2026-12-01T09:00:00+05:30", "1764556800000", err, sizeof err),
        0);
    /* The same origin anchored 90 s later: 90 wall s = 90 policy min apart. */
    assert_int_equal(rd_clock_init(&epoch90, "60", "2026-12-01T09:00:00+05:30", "1764556890000",
                                   err, sizeof err),
                     0);
    assert_int_equal(
        rd_clock_init(&scale1, "1", "2026-12-01T09:00:00+05:30", "1764556800000", err, sizeof err),
        0);
    rd_clockwatch_t *w[4] = {watch(e, &base, "first", NULL, NULL)};
    wait_checks(e, w[0], 1);
    assert_int_equal(rd_clockwatch_state(w[0]), RD_CLOCKWATCH_OK);
    w[1] = watch(e, &epoch90, "late-epoch", NULL, NULL);
    w[2] = watch(e, &scale1, "other-scale", NULL, NULL);
    wait_checks(e, w[1], 2);
    wait_checks(e, w[2], 2);
    assert_int_equal(rd_clockwatch_state(w[1]), RD_CLOCKWATCH_MISMATCH);
    assert_int_equal(rd_clockwatch_state(w[2]), RD_CLOCKWATCH_MISMATCH);
    assert_non_null(strstr(rd_clockwatch_why(w[1]), "first"));
    assert_non_null(strstr(rd_clockwatch_why(w[2]), "--time-scale"));
    /* The blocking check at an engine's start says the same. */
    char why[320];
    rd_clockwatch_cfg_t sc = {.addr = &e->addr,
                              .prefix = e->redis.prefix,
                              .engine_id = "starting",
                              .clock = &epoch90,
                              .max_skew_ms = 2000};
    assert_int_equal(rd_clockwatch_check_sync(&sc, why, sizeof why), RD_EEXISTS);
    assert_non_null(strstr(why, "--time-epoch"));
    sc.clock = &base;
    assert_int_equal(rd_clockwatch_check_sync(&sc, why, sizeof why), 0);
    fake_wall_t ahead = {.offset_ms = 90000};
    sc.wall_ms = fake_wall;
    sc.wall_ctx = &ahead;
    assert_int_equal(rd_clockwatch_check_sync(&sc, why, sizeof why), RD_ERANGE);
    assert_non_null(strstr(why, "skew"));
    /* The first one keeps the deployment's record alive and stays OK. */
    wait_checks(e, w[0], 2);
    assert_int_equal(rd_clockwatch_state(w[0]), RD_CLOCKWATCH_OK);
    /* Another prefix is another deployment. */
    char other[96];
    snprintf(other, sizeof other, "%sother", e->redis.prefix);
    w[3] = watch(e, &scale1, "elsewhere", NULL, other);
    wait_checks(e, w[3], 2);
    assert_int_equal(rd_clockwatch_state(w[3]), RD_CLOCKWATCH_OK);
    close_all(e, w, 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_same_settings_agree_skew_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(t_other_settings_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
