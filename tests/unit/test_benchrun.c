/*
 * Unit tests of bench/benchrun.c: the due->dial lag accounting that
 * redial-bench applies to the events stream (attempt 1 from the enqueue
 * time, retry k from started(k-1) + interval, retries due past the window
 * end excluded, out-of-order and unknown events counted apart), the
 * nearest-rank percentile, and the /proc readers on this very process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench/benchrun.h"

#define NONE (-1e299)

static void test_lag(void **state) {
    (void)state;
    rd_bench_lag_t l;
    /* interval 60 policy minutes, window ends at 100,000,000 ms. */
    assert_int_equal(rd_bench_lag_init(&l, 3, 3600000, 100000000), 0);
    l.enq_ms[0] = 1000;
    l.enq_ms[1] = 2000;
    /* Attempt 1 of job 0 started 250 ms after its enqueue. */
    assert_true(rd_bench_lag_attempt(&l, 0, 1, 1250) == 250);
    /* Attempt 2 due at 1250 + 3,600,000; started 40 ms later. */
    assert_true(rd_bench_lag_attempt(&l, 0, 2, 3601290) == 40);
    /* Attempt 3 started early would be negative: kept as it is (a bug to see). */
    assert_true(rd_bench_lag_attempt(&l, 0, 3, 7201280) == -10);
    /* A repeated attempt number is out of order: no sample. */
    assert_true(rd_bench_lag_attempt(&l, 0, 3, 7201290) < NONE);
    assert_int_equal(l.out_of_order, 1);
    /* Job 1: retry due at/after the window end is moved by the policy: no sample. */
    assert_true(rd_bench_lag_attempt(&l, 1, 1, 97000000) == 97000000 - 2000);
    assert_true(rd_bench_lag_attempt(&l, 1, 2, 140000000) < NONE);
    assert_int_equal(l.moved, 1);
    /* Unknown job index. */
    assert_true(rd_bench_lag_attempt(&l, 7, 1, 5) < NONE);
    assert_int_equal(l.unknown, 1);
    /* Job 2 has no enqueue time: attempt 1 gives no sample, retries still do. */
    assert_true(rd_bench_lag_attempt(&l, 2, 1, 5000) < NONE);
    assert_true(rd_bench_lag_attempt(&l, 2, 2, 3605000) == 0);
    assert_int_equal(l.n_lags, 5);
    assert_true(rd_bench_lag_final(&l, 0));
    assert_false(rd_bench_lag_final(&l, 0));
    assert_int_equal(l.dup_final, 1);
    assert_false(rd_bench_lag_final(&l, 9));
    rd_bench_lag_deinit(&l);
}

static void test_lag_grows(void **state) {
    (void)state;
    rd_bench_lag_t l;
    assert_int_equal(rd_bench_lag_init(&l, 1, 1000, INT64_MAX), 0);
    l.enq_ms[0] = 1;
    rd_bench_lag_attempt(&l, 0, 1, 1);
    for (int k = 2; k <= 100; k++) rd_bench_lag_attempt(&l, 0, k, (int64_t)(k - 1) * 1000 + 1);
    assert_int_equal(l.n_lags, 100);
    for (size_t i = 0; i < l.n_lags; i++) assert_true(l.lags[i] == 0);
    rd_bench_lag_deinit(&l);
}

static void test_percentile(void **state) {
    (void)state;
    double v[] = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assert_true(rd_bench_percentile(v, 10, 50) == 5);
    assert_true(rd_bench_percentile(v, 10, 99) == 10);
    assert_true(rd_bench_percentile(v, 10, 100) == 10);
    assert_true(rd_bench_percentile(v, 10, 0) == 1);
    assert_true(rd_bench_percentile(v, 10, 10) == 1);
    assert_true(rd_bench_percentile(v, 10, 11) == 2);
    assert_true(rd_bench_percentile(v, 0, 50) == 0);
    double one[] = {42};
    assert_true(rd_bench_percentile(one, 1, 1) == 42);
}

static void test_proc(void **state) {
    (void)state;
    volatile double x = 0;
    int64_t t0 = rd_bench_mono_ms();
    while (rd_bench_mono_ms() - t0 < 60) x += 1; /* burn a little CPU */
    assert_true(rd_bench_cpu_ms(getpid()) >= 0);
    assert_true(rd_bench_self_cpu_ms() > 0);
    assert_true(rd_bench_hwm_kb(getpid()) > 100);
    assert_true(rd_bench_cpu_ms(-5) < 0);
    assert_true(rd_bench_free_port() > 0);

    rd_bench_proc_t p = {0};
    char *argv[] = {"sleep", "30", NULL};
    assert_int_equal(rd_bench_spawn(&p, argv, NULL), 0);
    assert_true(rd_bench_alive(&p, NULL));
    assert_int_equal(rd_bench_stop(&p, SIGTERM, 2000), 128 + SIGTERM);
    assert_false(rd_bench_alive(&p, NULL));
    assert_int_equal(rd_bench_stop(&p, SIGTERM, 10), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lag),
        cmocka_unit_test(test_lag_grows),
        cmocka_unit_test(test_percentile),
        cmocka_unit_test(test_proc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
