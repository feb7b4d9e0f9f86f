/* Unit tests: proto/stats.c on the seed's diminishing-returns table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "proto/rd.h"
#include "proto/stats.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* 1000 numbers, cumulative 40/60/70/73/74% over five attempts (the seed's table). */
static void seed_counts(rd_stats_counts_t *c) {
    memset(c, 0, sizeof *c);
    c->jobs = 1000;
    const uint64_t conn[] = {0, 400, 200, 100, 30, 10};
    uint64_t left = 1000;
    for (int n = 1; n <= 5; n++) {
        c->attempts[n] = left;
        c->connected[n] = conn[n];
        left -= conn[n];
    }
    c->finals[RD_DISP_CONNECTED] = 740;
    c->finals[RD_DISP_UNREACHABLE] = 260;
}

static void t_seed_table(void **state) {
    (void)state;
    rd_stats_counts_t c;
    seed_counts(&c);
    rd_stats_t s;
    rd_stats_compute(&c, &s);
    assert_int_equal(s.dialed, 1000);
    assert_int_equal(s.finished, 1000);
    assert_int_equal(s.pending, 0);
    NEAR(s.first_rate, 0.40);
    NEAR(s.cumulative[2], 0.60);
    NEAR(s.cumulative[3], 0.70);
    NEAR(s.cumulative[4], 0.73);
    NEAR(s.cumulative[5], 0.74);
    NEAR(s.incremental[2], 0.20);
    NEAR(s.incremental[3], 0.10);
    NEAR(s.incremental[5], 0.01);
    NEAR(s.retry_rate[1], 200.0 / 600.0);
    NEAR(s.total_rate, 0.74);
    NEAR(s.unreachable_rate, 0.26);
    NEAR(s.avg_attempts_to_connect, (400 + 400 + 300 + 120 + 50) / 740.0);
    NEAR(s.retry_roi, 340.0 / (600 + 400 + 300 + 270));
    assert_int_equal(s.max_attempt, 5);
    assert_true(s.recommend_fewer);
    assert_non_null(strstr(s.recommendation, "attempt 5 adds only 1.0%"));
    assert_non_null(strstr(s.recommendation, "max_attempts = 4"));
}

static void t_empty_is_nan(void **state) {
    (void)state;
    rd_stats_counts_t c;
    memset(&c, 0, sizeof c);
    rd_stats_t s;
    rd_stats_compute(&c, &s);
    assert_true(isnan(s.first_rate));
    assert_true(isnan(s.total_rate));
    assert_true(isnan(s.unreachable_rate));
    assert_false(s.recommend_fewer);
}

static void t_no_recommendation_when_worth_it(void **state) {
    (void)state;
    rd_stats_counts_t c;
    seed_counts(&c);
    for (int n = 4; n <= 5; n++) c.attempts[n] = c.connected[n] = 0;
    rd_stats_t s;
    rd_stats_compute(&c, &s);
    assert_int_equal(s.max_attempt, 3);
    assert_false(s.recommend_fewer);
    assert_string_equal(s.recommendation, "");
}

static void t_render(void **state) {
    (void)state;
    rd_stats_counts_t c;
    seed_counts(&c);
    rd_stats_t s;
    rd_stats_compute(&c, &s);
    char *txt = rd_stats_to_text("Payment_Reminders", &s);
    assert_non_null(strstr(txt, "Campaign Payment_Reminders: 1000 dialed"));
    assert_non_null(strstr(txt, "First-attempt connection rate         40.0%  > 40%    MISSED"));
    assert_non_null(strstr(txt, "2nd      60.0%                      +20.0%"));
    assert_non_null(strstr(txt, "5th      74.0%                      +1.0%  (diminishing)"));
    assert_non_null(strstr(txt, "Recommendation: attempt 5 adds only 1.0%"));
    rd_free(txt);
    json_t *j = rd_stats_to_json("Payment_Reminders", &s);
    assert_int_equal(json_array_size(json_object_get(j, "by_attempt")), 5);
    json_t *row = json_array_get(json_object_get(j, "by_attempt"), 3);
    assert_true(fabs(json_real_value(json_object_get(row, "cumulative_connection_rate")) - 0.73) <
                1e-9);
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(j, "by_attempt"), 0), "incremental_gain")));
    json_decref(j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_seed_table),
        cmocka_unit_test(t_empty_is_nan),
        cmocka_unit_test(t_no_recommendation_when_worth_it),
        cmocka_unit_test(t_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
