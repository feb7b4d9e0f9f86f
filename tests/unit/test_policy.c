/* Unit tests: the retry policy (proto/policy.c), on the seed's examples and rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/campaign.h"
#include "proto/hash.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"

#define MIN 60000LL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static const char SEED[] =
    "{\"name\":\"Payment_Reminders\",\"caller_id\":\"<exophone>\",\"call_flow_id\":\"<flow_id>\","
    "\"numbers\":[\"+919876543210\",\"+919876543211\"],"
    "\"retry\":{\"max_attempts\":3,\"interval_minutes\":60,\"retry_on\":[\"busy\",\"no-answer\","
    "\"failed\"]},\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"}}";

typedef struct fixture {
    rd_campaign_t c;
    rd_policy_ctx_t ctx;
    int64_t attempts[64];
} fixture_t;

static fixture_t F;

static void setup_seed(const char *json) {
    char err[256];
    rd_campaign_deinit(&F.c);
    if (rd_campaign_parse(json, strlen(json), &F.c, err, sizeof err)) fail_msg("%s", err);
    memset(&F.ctx, 0, sizeof F.ctx);
    F.ctx.c = &F.c;
    F.ctx.tz = rd_policy_zone(&F.c, NULL, "+919876543210");
    F.ctx.num_attempts_ms = F.attempts;
    F.ctx.jitter_seed = 42;
}

static int teardown(void **state) {
    (void)state;
    rd_campaign_deinit(&F.c);
    return 0;
}

/* Local wall time in the fixture's zone -> unix ms. */
static int64_t L(int y, int mo, int d, int h, int mi) {
    return rd_tz_from_local(F.ctx.tz, y, mo, d, h, mi);
}

static void fmt(int64_t t, char *buf, size_t n) {
    rd_localtime_t lt;
    rd_tz_local(F.ctx.tz, t, &lt);
    snprintf(buf, n, "%04d-%02d-%02d %02d:%02d:%02d%+d", lt.year, lt.month, lt.day, lt.hour,
             lt.minute, lt.second, lt.utc_offset_s / 60);
}

static void expect_time(int64_t got, int64_t want) {
    if (got != want) {
        char a[64], b[64];
        fmt(got, a, sizeof a);
        fmt(want, b, sizeof b);
        fail_msg("due %s, want %s", a, b);
    }
}

/* Runs a plan from local start; checks each attempt time; returns the final decision. */
static rd_decision_t plan(int64_t start, const rd_outcome_t *outs, size_t n, const int64_t *want,
                          size_t n_want) {
    rd_attempt_t steps[32];
    rd_decision_t d;
    size_t got = rd_policy_plan(&F.ctx, "+919876543210", start, outs, n, steps, 32, &d);
    assert_int_equal(got, n_want);
    for (size_t i = 0; i < got; i++) expect_time(steps[i].start_ms, want[i]);
    return d;
}

/* ---- the seed's three worked examples ------------------------------------------ */

static void t_seed_fixed(void **state) {
    (void)state;
    setup_seed(SEED);
    rd_outcome_t o[] = {RD_OUT_NO_ANSWER, RD_OUT_BUSY, RD_OUT_COMPLETED};
    int64_t want[] = {L(2026, 12, 1, 10, 0), L(2026, 12, 1, 11, 0), L(2026, 12, 1, 12, 0)};
    rd_decision_t d = plan(want[0], o, 3, want, 3);
    assert_true(d.final);
    assert_int_equal(d.disposition, RD_DISP_CONNECTED);
}

static void t_seed_increasing(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.strategy = RD_STRAT_INCREASING;
    F.c.max_attempts = 4;
    F.c.max_per_day = 5; /* the seed's 4 calls in one day exceed the default cap of 3 */
    rd_outcome_t o[] = {RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_COMPLETED};
    int64_t want[] = {L(2026, 12, 1, 10, 0), L(2026, 12, 1, 10, 30), L(2026, 12, 1, 11, 30),
                      L(2026, 12, 1, 13, 30)};
    rd_decision_t d = plan(want[0], o, 4, want, 4);
    assert_true(d.final && d.disposition == RD_DISP_CONNECTED);
    /* Multiplier form: 20, 40, 80 capped at 60. */
    F.c.n_intervals = 0;
    F.c.interval_minutes = 20;
    F.c.multiplier = 2;
    F.c.max_interval_minutes = 60;
    F.c.max_attempts = 5;
    rd_outcome_t o2[] = {RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY};
    int64_t w2[] = {L(2026, 12, 1, 10, 0), L(2026, 12, 1, 10, 20), L(2026, 12, 1, 11, 0),
                    L(2026, 12, 1, 12, 0), L(2026, 12, 1, 13, 0)};
    d = plan(w2[0], o2, 5, w2, 5);
    assert_true(d.final && d.disposition == RD_DISP_UNREACHABLE);
}

static void t_seed_time_of_day(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.strategy = RD_STRAT_TIME_OF_DAY;
    rd_outcome_t o[] = {RD_OUT_NO_ANSWER, RD_OUT_BUSY, RD_OUT_COMPLETED};
    int64_t want[] = {L(2026, 12, 1, 10, 0), L(2026, 12, 1, 14, 0), L(2026, 12, 1, 17, 0)};
    rd_decision_t d = plan(want[0], o, 3, want, 3);
    assert_true(d.final && d.disposition == RD_DISP_CONNECTED);
}

/* "Vary the time of day": a later slot in another part of the day wins. */
static void t_time_of_day_parts(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.strategy = RD_STRAT_TIME_OF_DAY;
    F.c.times_min[0] = 10 * 60, F.c.times_min[1] = 11 * 60, F.c.times_min[2] = 15 * 60;
    rd_attempt_t h[] = {{L(2026, 12, 1, 10, 0), RD_OUT_NO_ANSWER}};
    rd_decision_t d;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 15, 0)); /* not 11:00, also morning */
    /* Only morning slots left after a morning attempt: the same part is taken. */
    F.c.times_min[2] = 11 * 60 + 30;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 11, 0));
    /* min_gap: an attempt at 16:45 cannot take 17:00 -> next day's first slot. */
    F.c.times_min[0] = 10 * 60, F.c.times_min[1] = 14 * 60, F.c.times_min[2] = 17 * 60;
    h[0].start_ms = L(2026, 12, 1, 16, 45);
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 2, 10, 0));
}

/* ---- every row of the seed's retry-trigger table --------------------------------- */

static void t_trigger_table(void **state) {
    (void)state;
    setup_seed(SEED);
    static const struct {
        rd_outcome_t o;
        rd_answered_by_t by;
        bool retry;
        rd_disposition_t disp;
        int64_t delay; /* retry: due - attempt start */
    } rows[] = {
        {RD_OUT_BUSY, RD_ANSWERED_UNKNOWN, true, 0, HOUR},
        {RD_OUT_NO_ANSWER, RD_ANSWERED_UNKNOWN, true, 0, HOUR},
        {RD_OUT_FAILED, RD_ANSWERED_UNKNOWN, true, 0, 60000},
        {RD_OUT_COMPLETED, RD_ANSWERED_HUMAN, false, RD_DISP_CONNECTED, 0},
        {RD_OUT_COMPLETED, RD_ANSWERED_UNKNOWN, false, RD_DISP_CONNECTED, 0},
        {RD_OUT_IN_PROGRESS, RD_ANSWERED_UNKNOWN, false, RD_DISP_CONNECTED, 0},
        {RD_OUT_COMPLETED, RD_ANSWERED_MACHINE, true, 0, HOUR}, /* machine_as no-answer */
        {RD_OUT_CANCELED, RD_ANSWERED_UNKNOWN, false, RD_DISP_CANCELED, 0},
        {RD_OUT_INVALID_NUMBER, RD_ANSWERED_UNKNOWN, false, RD_DISP_INVALID, 0},
        {RD_OUT_DND, RD_ANSWERED_UNKNOWN, false, RD_DISP_DND, 0},
    };
    int64_t t0 = L(2026, 12, 1, 10, 0);
    for (size_t i = 0; i < RD_ARRAY_LEN(rows); i++) {
        rd_attempt_t h[] = {{t0, rows[i].o}};
        rd_decision_t d;
        rd_policy_next(&F.ctx, h, 1, rows[i].by, t0, &d);
        if (d.final == rows[i].retry) fail_msg("row %zu: final=%d", i, d.final);
        if (rows[i].retry)
            expect_time(d.due_ms, t0 + rows[i].delay);
        else
            assert_int_equal(d.disposition, rows[i].disp);
    }
    /* machine_as: completed makes a machine answer a connection. */
    F.c.machine_as = RD_OUT_COMPLETED;
    rd_attempt_t h[] = {{t0, RD_OUT_COMPLETED}};
    rd_decision_t d;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_MACHINE, t0, &d);
    assert_true(d.final && d.disposition == RD_DISP_CONNECTED);
    /* An outcome not in retry_on ends the job. */
    F.c.retry_on = 1u << RD_OUT_BUSY;
    h[0].outcome = RD_OUT_NO_ANSWER;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, t0, &d);
    assert_true(d.final && d.disposition == RD_DISP_UNREACHABLE);
}

/* Attempts exhausted -> unreachable, or failed when the last outcome failed. */
static void t_exhausted(void **state) {
    (void)state;
    setup_seed(SEED);
    rd_outcome_t o[] = {RD_OUT_NO_ANSWER, RD_OUT_BUSY, RD_OUT_NO_ANSWER, RD_OUT_COMPLETED};
    int64_t want[] = {L(2026, 12, 1, 10, 0), L(2026, 12, 1, 11, 0), L(2026, 12, 1, 12, 0)};
    rd_decision_t d = plan(want[0], o, 4, want, 3);
    assert_true(d.final && d.disposition == RD_DISP_UNREACHABLE);
    rd_outcome_t o2[] = {RD_OUT_NO_ANSWER, RD_OUT_BUSY, RD_OUT_FAILED};
    d = plan(want[0], o2, 3, want, 3);
    assert_true(d.final && d.disposition == RD_DISP_FAILED);
}

static void t_failed_once(void **state) {
    (void)state;
    setup_seed(SEED);
    rd_outcome_t o[] = {RD_OUT_FAILED, RD_OUT_FAILED, RD_OUT_COMPLETED};
    int64_t t0 = L(2026, 12, 1, 10, 0), want[] = {t0, t0 + 60000};
    rd_decision_t d = plan(t0, o, 3, want, 2);
    assert_true(d.final && d.disposition == RD_DISP_FAILED);
    /* A failure after other outcomes still gets its one retry. */
    rd_outcome_t o2[] = {RD_OUT_BUSY, RD_OUT_FAILED, RD_OUT_COMPLETED};
    int64_t w2[] = {t0, t0 + HOUR, t0 + HOUR + 60000};
    d = plan(t0, o2, 3, w2, 3);
    assert_true(d.final && d.disposition == RD_DISP_CONNECTED);
    /* failed_max_retries 2: the second failure is retried too. */
    F.c.failed_max_retries = 2;
    int64_t w3[] = {t0, t0 + 60000, t0 + 120000};
    d = plan(t0, o, 3, w3, 3);
    assert_true(d.final && d.disposition == RD_DISP_CONNECTED);
    /* failed_max_retries 0: never. */
    F.c.failed_max_retries = 0;
    d = plan(t0, o, 3, w3, 1);
    assert_true(d.final && d.disposition == RD_DISP_FAILED);
}

static void t_max_retries_and_purposes(void **state) {
    (void)state;
    char json[1024];
    rd_outcome_t na[8] = {RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER,
                          RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER, RD_OUT_NO_ANSWER};
    static const struct {
        const char *extra;
        size_t attempts;
    } cases[] = {
        {"\"retry\":{\"max_retries\":1}", 2},
        {"\"retry\":{\"max_retries\":4,\"max_attempts\":5}", 5},
        {"\"retry\":{\"max_attempts\":1}", 1},
        {"\"purpose\":\"payment_reminder\"", 4},
        {"\"purpose\":\"delivery_confirmation\"", 3},
        {"\"purpose\":\"sales\"", 3},
        {"\"purpose\":\"appointment_reminder\"", 2},
        {"\"purpose\":\"emergency\",\"limits\":{\"max_attempts_per_number_per_day\":6}", 6},
        {"\"purpose\":\"emergency\",\"retry\":{\"max_retries\":0}", 1},
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(cases); i++) {
        snprintf(json, sizeof json,
                 "{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",%s}", cases[i].extra);
        setup_seed(json);
        rd_attempt_t steps[16];
        rd_decision_t d;
        size_t n =
            rd_policy_plan(&F.ctx, "+919876543210", L(2026, 12, 1, 10, 0), na, 8, steps, 16, &d);
        if (n != cases[i].attempts) fail_msg("%s: %zu attempts", cases[i].extra, n);
        assert_true(d.final && d.disposition == RD_DISP_UNREACHABLE);
    }
}

/* ---- window, weekdays, jitter ----------------------------------------------------- */

static void t_window_jitter(void **state) {
    (void)state;
    setup_seed(SEED);
    rd_attempt_t h[] = {{L(2026, 12, 1, 20, 30), RD_OUT_BUSY}};
    int64_t start = L(2026, 12, 2, 9, 0);
    bool seen_nonzero = false;
    for (uint64_t seed = 0; seed < 200; seed++) {
        F.ctx.jitter_seed = seed;
        rd_decision_t d, d2;
        rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
        rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d2);
        assert_false(d.final);
        assert_int_equal(d.due_ms, d2.due_ms); /* deterministic */
        assert_true(d.due_ms >= start && d.due_ms < start + 120000);
        assert_int_equal(d.due_ms % 1000, 0);
        seen_nonzero |= d.due_ms != start;
    }
    assert_true(seen_nonzero);
    /* No jitter for a time already inside the window. */
    h[0].start_ms = L(2026, 12, 1, 10, 0);
    rd_decision_t d;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 11, 0));
    /* Jitter never crosses the window end: a 1-minute window. */
    F.c.daily_start_min = 9 * 60, F.c.daily_end_min = 9 * 60 + 1;
    for (uint64_t seed = 0; seed < 100; seed++) {
        F.ctx.jitter_seed = seed;
        rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
        assert_true(d.due_ms >= L(2026, 12, 2, 9, 0) && d.due_ms < L(2026, 12, 2, 9, 1));
    }
    /* Before the window: the first attempt waits for the window. */
    F.c.daily_start_min = 540, F.c.daily_end_min = 1260;
    F.c.jitter_seconds = 0;
    rd_policy_first(&F.ctx, L(2026, 12, 1, 6, 15), 0, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 9, 0));
    rd_policy_first(&F.ctx, L(2026, 12, 1, 6, 15), L(2026, 12, 3, 12, 0), &d); /* not_before */
    expect_time(d.due_ms, L(2026, 12, 3, 12, 0));
    assert_true(rd_policy_allowed(&F.ctx, L(2026, 12, 1, 20, 59)));
    assert_false(rd_policy_allowed(&F.ctx, L(2026, 12, 1, 21, 0)));
    assert_false(rd_policy_allowed(&F.ctx, L(2026, 12, 1, 8, 59)));
}

static void t_weekend_excluded(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.days_mask = 0x3e; /* mon..fri */
    F.c.jitter_seconds = 0;
    /* Friday 2026-12-04 20:30 busy -> 21:30 is past the window -> Monday 09:00. */
    rd_attempt_t h[] = {{L(2026, 12, 4, 20, 30), RD_OUT_BUSY}};
    rd_decision_t d;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 7, 9, 0));
    /* Enqueued on Saturday noon: Monday. */
    rd_policy_first(&F.ctx, L(2026, 12, 5, 12, 0), 0, &d);
    expect_time(d.due_ms, L(2026, 12, 7, 9, 0));
    assert_false(rd_policy_allowed(&F.ctx, L(2026, 12, 6, 12, 0)));
    /* time_of_day skips to the first allowed slot: Monday 10:00, not the window start. */
    F.c.strategy = RD_STRAT_TIME_OF_DAY;
    h[0].start_ms = L(2026, 12, 4, 17, 0);
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 7, 10, 0));
}

/* ---- DST, America/New_York 2026 --------------------------------------------------- */

static void t_new_york_dst(void **state) {
    (void)state;
    setup_seed(SEED);
    rd_free(F.c.timezone);
    F.c.timezone = rd_strdup("America/New_York");
    F.ctx.tz = rd_policy_zone(&F.c, NULL, NULL);
    F.c.jitter_seconds = 0;
    rd_decision_t d;
    /* Saturday 20:30 EST -> Sunday 2026-03-08 09:00 EDT = 13:00Z. */
    rd_attempt_t h[] = {{L(2026, 3, 7, 20, 30), RD_OUT_BUSY}};
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    assert_int_equal(d.due_ms, 1772974800000LL);
    /* Intervals are elapsed time: 24 h after Saturday 12:00 EST is Sunday 13:00 EDT. */
    F.c.interval_minutes = 1440;
    h[0].start_ms = L(2026, 3, 7, 12, 0);
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 3, 8, 13, 0));
    /* Fall back: Saturday 20:30 EDT -> Sunday 2026-11-01 09:00 EST = 14:00Z. */
    F.c.interval_minutes = 60;
    h[0].start_ms = L(2026, 10, 31, 20, 30);
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    assert_int_equal(d.due_ms, 1793541600000LL);
    /* A window opening inside the spring gap opens at the first instant after it. */
    F.c.daily_start_min = 2 * 60 + 30;
    rd_policy_first(&F.ctx, L(2026, 3, 8, 0, 30), 0, &d);
    assert_int_equal(d.due_ms, 1772953200000LL); /* 03:00 EDT */
    /* ... and inside the fold at the earlier 01:30 (EDT). */
    F.c.daily_start_min = 90;
    rd_policy_first(&F.ctx, L(2026, 11, 1, 0, 30), 0, &d);
    assert_int_equal(d.due_ms, 1793511000000LL);
    /* The 21:00 window end on both change days is local 21:00. */
    F.c.daily_start_min = 540;
    assert_true(rd_policy_allowed(&F.ctx, 1773018000000LL - 1000)); /* 03-08 20:59:59 EDT */
    assert_false(rd_policy_allowed(&F.ctx, 1773018000000LL));       /* 03-08 21:00 EDT */
    assert_false(rd_policy_allowed(&F.ctx, 1793584800000LL));       /* 11-01 21:00 EST */
}

/* ---- caps -------------------------------------------------------------------------- */

static void t_daily_cap(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.max_attempts = 6;
    /* The default cap is 4 (the seed's "3-4 attempts per number per day"):
       10:00, 11:00, 12:00, 13:00 use it; the fifth goes to tomorrow 09:00 + jitter. */
    assert_int_equal(F.c.max_per_day, 4);
    rd_outcome_t o[] = {RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY, RD_OUT_BUSY};
    rd_attempt_t steps[8];
    rd_decision_t d;
    size_t n = rd_policy_plan(&F.ctx, "+919876543210", L(2026, 12, 1, 10, 0), o, 5, steps, 8, &d);
    assert_int_equal(n, 5);
    expect_time(steps[3].start_ms, L(2026, 12, 1, 13, 0));
    assert_true(steps[4].start_ms >= L(2026, 12, 2, 9, 0) &&
                steps[4].start_ms < L(2026, 12, 2, 9, 2));
    /* Other campaigns' attempts count too: 4 today already -> tomorrow. */
    F.c.jitter_seconds = 0;
    F.attempts[0] = L(2026, 12, 1, 9, 5);
    F.attempts[1] = L(2026, 12, 1, 9, 30);
    F.attempts[2] = L(2026, 12, 1, 9, 45);
    F.attempts[3] = L(2026, 12, 1, 9, 50);
    F.ctx.n_num_attempts = 4;
    rd_policy_first(&F.ctx, L(2026, 12, 1, 10, 0), 0, &d);
    expect_time(d.due_ms, L(2026, 12, 2, 9, 0));
    /* The day is the callee's local day: yesterday 23:59 IST does not count. */
    F.attempts[0] = L(2026, 11, 30, 23, 59);
    rd_policy_first(&F.ctx, L(2026, 12, 1, 10, 0), 0, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 10, 0));
}

static void t_week_cap(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.jitter_seconds = 0;
    /* Mon, Tue 10/11/12 and Wed 10:00: 7 in 7 days. */
    int k = 0;
    for (int d = 0; d < 2; d++)
        for (int h = 10; h <= 12; h++) F.attempts[k++] = L(2026, 11, 30 + d, h, 0);
    F.attempts[k++] = L(2026, 12, 2, 10, 0);
    F.ctx.n_num_attempts = (size_t)k;
    rd_decision_t d;
    rd_policy_first(&F.ctx, L(2026, 12, 2, 11, 0), 0, &d);
    /* Free again when Monday 10:00 leaves the window: next Monday 10:00. */
    expect_time(d.due_ms, L(2026, 12, 7, 10, 0));
    assert_false(rd_policy_allowed(&F.ctx, L(2026, 12, 7, 9, 59)));
    assert_true(rd_policy_allowed(&F.ctx, L(2026, 12, 7, 10, 0)));
    /* Cap 8: allowed at once. */
    F.c.max_per_7_days = 8;
    rd_policy_first(&F.ctx, L(2026, 12, 2, 11, 0), 0, &d);
    expect_time(d.due_ms, L(2026, 12, 2, 11, 0));
}

static void t_zone_choice(void **state) {
    (void)state;
    setup_seed(SEED);
    assert_string_equal(rd_tz_name(rd_policy_zone(&F.c, NULL, "+14155550123")), "Asia/Kolkata");
    assert_string_equal(rd_tz_name(rd_policy_zone(&F.c, "Europe/Paris", "+14155550123")),
                        "Europe/Paris");
    F.c.callee_local_time = true;
    assert_string_equal(rd_tz_name(rd_policy_zone(&F.c, NULL, "+14155550123")),
                        "America/Los_Angeles");
    assert_string_equal(rd_tz_name(rd_policy_zone(&F.c, NULL, "+80012345678")), "Asia/Kolkata");
}

/* smart: with data, the best hour wins; without, it is increasing. */
static void t_smart(void **state) {
    (void)state;
    setup_seed(SEED);
    F.c.strategy = RD_STRAT_SMART;
    F.c.min_samples = 100;
    static rd_smart_stats_t st;
    memset(&st, 0, sizeof st);
    rd_attempt_t h[] = {{L(2026, 12, 1, 10, 0), RD_OUT_NO_ANSWER}};
    rd_decision_t d;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d); /* NULL stats */
    expect_time(d.due_ms, L(2026, 12, 1, 10, 30));
    F.ctx.smart = &st;
    st.campaign_attempts = 99; /* below min_samples */
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    expect_time(d.due_ms, L(2026, 12, 1, 10, 30));
    st.campaign_attempts = 1000;
    for (int i = 0; i < 168; i++) st.attempted[i] = 50, st.answered[i] = 10;
    int best = 3 * 24 + 16; /* Wednesday 16:00 local */
    st.answered[best] = 40;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    assert_true(d.due_ms >= L(2026, 12, 2, 16, 0) && d.due_ms < L(2026, 12, 2, 16, 2));
    /* All equal: ties go to the earliest slot (10:30, min_gap after 10:00). */
    st.answered[best] = 10;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    assert_true(d.due_ms >= L(2026, 12, 1, 10, 30) && d.due_ms < L(2026, 12, 1, 10, 32));
    /* The prior decides where this campaign has no data. */
    for (int i = 0; i < 168; i++) st.attempted[i] = st.answered[i] = 0;
    st.prior_attempted[2 * 24 + 18] = 1000, st.prior_answered[2 * 24 + 18] = 900;
    rd_policy_next(&F.ctx, h, 1, RD_ANSWERED_UNKNOWN, h[0].start_ms, &d);
    assert_true(d.due_ms >= L(2026, 12, 1, 18, 0) && d.due_ms < L(2026, 12, 1, 18, 2));
}

/* ---- the one hash and the one jitter seed ------------------------------------------- */

static void t_hash_and_seed(void **state) {
    (void)state;
    /* Published FNV-1a 64 vectors: the basis is the hash of nothing. */
    assert_true(rd_hash_str(RD_HASH_FNV_BASIS, "") == 0xcbf29ce484222325ULL);
    assert_true(rd_hash_str(RD_HASH_FNV_BASIS, "a") == 0xaf63dc4c8601ec8cULL);
    assert_true(rd_hash_str(RD_HASH_FNV_BASIS, "foobar") == 0x85944171f73967e8ULL);
    assert_true(rd_hash_bytes(RD_HASH_FNV_BASIS, "foobar", 6) == 0x85944171f73967e8ULL);
    /* The seed: the documented byte string, hashed once. */
    const unsigned char want_bytes[] = {'c', 0, '+', '9', '1', 0, 2, 0, 0, 0};
    assert_true(rd_policy_seed("c", "+91", 2) ==
                rd_hash_bytes(RD_HASH_FNV_BASIS, want_bytes, sizeof want_bytes));
    /* Different attempts, numbers and campaigns get different seeds; no field
       can slide into the next ("ab"+"c" is not "a"+"bc"). */
    assert_true(rd_policy_seed("c", "+91", 1) != rd_policy_seed("c", "+91", 2));
    assert_true(rd_policy_seed("ab", "c", 1) != rd_policy_seed("a", "bc", 1));
    /* rd_policy_plan places attempt k with the seed of attempt k. */
    setup_seed(SEED);
    rd_outcome_t o[] = {RD_OUT_BUSY};
    rd_attempt_t steps[2];
    rd_decision_t d, want;
    rd_policy_plan(&F.ctx, "+919876543210", L(2026, 12, 1, 20, 30), o, 1, steps, 2, &d);
    rd_policy_ctx_t ctx = F.ctx;
    ctx.jitter_seed = rd_policy_seed(F.c.name, "+919876543210", 2);
    rd_policy_next(&ctx, steps, 1, RD_ANSWERED_HUMAN, steps[0].start_ms, &want);
    assert_int_equal(d.due_ms, want.due_ms);
    assert_true(d.due_ms >= L(2026, 12, 2, 9, 0) && d.due_ms < L(2026, 12, 2, 9, 2));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(t_hash_and_seed, teardown),
        cmocka_unit_test_teardown(t_seed_fixed, teardown),
        cmocka_unit_test_teardown(t_seed_increasing, teardown),
        cmocka_unit_test_teardown(t_seed_time_of_day, teardown),
        cmocka_unit_test_teardown(t_time_of_day_parts, teardown),
        cmocka_unit_test_teardown(t_trigger_table, teardown),
        cmocka_unit_test_teardown(t_exhausted, teardown),
        cmocka_unit_test_teardown(t_failed_once, teardown),
        cmocka_unit_test_teardown(t_max_retries_and_purposes, teardown),
        cmocka_unit_test_teardown(t_window_jitter, teardown),
        cmocka_unit_test_teardown(t_weekend_excluded, teardown),
        cmocka_unit_test_teardown(t_new_york_dst, teardown),
        cmocka_unit_test_teardown(t_daily_cap, teardown),
        cmocka_unit_test_teardown(t_week_cap, teardown),
        cmocka_unit_test_teardown(t_zone_choice, teardown),
        cmocka_unit_test_teardown(t_smart, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
