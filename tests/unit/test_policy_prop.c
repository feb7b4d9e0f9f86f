/*
 * Property test of the retry policy: thousands of random campaigns, number
 * histories, outcome sequences and clocks (DST zones, odd windows, sparse
 * weekdays, tight caps). For every decision:
 *   - a due time is never before now nor before the previous attempt;
 *   - it is inside the daily window, on an allowed weekday (checked from the
 *     local calendar, independently of the policy's own window arithmetic),
 *     and rd_policy_allowed() agrees;
 *   - no retry is granted past max_attempts, nor a failure retried more than
 *     failed_max_retries times;
 *   - dialing at each returned time never exceeds the per-number daily cap
 *     (callee's local day) or the rolling 7-day cap.
 * The PRNG seed is REDIAL_PROP_SEED (default fixed) and is printed on failure.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/campaign.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"

#define TRIALS 20000
#define DAY_MS 86400000LL

static uint64_t rng;
static uint64_t seed0;
static int trial;

static uint64_t next_u64(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}
static int64_t rnd(int64_t lo, int64_t hi) { /* [lo, hi] */
    return lo + (int64_t)(next_u64() % (uint64_t)(hi - lo + 1));
}

#define PROP(cond, ...)                                                          \
    do {                                                                         \
        if (!(cond)) {                                                           \
            char m_[512];                                                        \
            snprintf(m_, sizeof m_, __VA_ARGS__);                                \
            fail_msg("property failed (REDIAL_PROP_SEED=%llu trial %d): %s: %s", \
                     (unsigned long long)seed0, trial, #cond, m_);               \
        }                                                                        \
    } while (0)

static const char *const zones[] = {
    "Asia/Kolkata", "America/New_York", "Europe/London",     "Australia/Lord_Howe",
    "America/Nuuk", "Pacific/Chatham",  "America/Sao_Paulo", "UTC"};

static void random_campaign(rd_campaign_t *c) {
    rd_campaign_init(c);
    c->timezone = rd_strdup(zones[rnd(0, RD_ARRAY_LEN(zones) - 1)]);
    c->max_attempts = (int)rnd(1, 10);
    c->retry_on = (unsigned)(rnd(0, 3) ? 7 : rnd(0, 7)) << RD_OUT_BUSY;
    c->strategy = (rd_strategy_t)rnd(0, 3);
    c->interval_minutes = (int)rnd(1, 3000);
    c->n_intervals = (int)rnd(0, 4);
    for (int i = 0; i < c->n_intervals; i++) c->intervals_minutes[i] = (int)rnd(1, 3000);
    c->multiplier = 1.0 + (double)rnd(0, 40) / 10.0;
    c->max_interval_minutes = (int)rnd(1, 10080);
    c->n_times = 0;
    for (int m = (int)rnd(0, 600); m < 1440 && c->n_times < 6; m += (int)rnd(1, 600))
        c->times_min[c->n_times++] = m;
    if (c->n_times == 0) c->times_min[c->n_times++] = 600;
    c->min_gap_minutes = (int)rnd(0, 1440);
    c->horizon_hours = (int)rnd(1, 336);
    c->min_samples = (int)rnd(0, 400);
    c->failed_max_retries = (int)rnd(0, 3);
    c->failed_retry_seconds = (int)rnd(0, 86400);
    c->machine_as = rnd(0, 1) ? RD_OUT_NO_ANSWER : RD_OUT_COMPLETED;
    c->daily_start_min = (int)rnd(0, 1439);
    c->daily_end_min = (int)rnd(c->daily_start_min + 1, 1440);
    if (rnd(0, 1)) c->daily_start_min = 540, c->daily_end_min = 1260;
    c->days_mask = (uint8_t)rnd(1, 127);
    c->jitter_seconds = (int)rnd(0, 1) ? 120 : (int)rnd(0, 3600);
    c->max_per_day = (int)rnd(1, 5);
    c->max_per_7_days = (int)rnd(1, 12);
}

static int64_t random_clock(const rd_tz_t *tz) {
    /* Near the 2026/2027 DST changes half the time, else anywhere 2025..2045. */
    static const int dst_days[][2] = {{3, 8}, {11, 1}, {3, 29}, {10, 25}, {4, 5}, {10, 4}};
    if (rnd(0, 1)) {
        const int *d = dst_days[rnd(0, RD_ARRAY_LEN(dst_days) - 1)];
        return rd_tz_from_local(tz, (int)rnd(2026, 2027), d[0], d[1], 0, 0) +
               rnd(-2 * DAY_MS, 2 * DAY_MS);
    }
    return 1735689600000LL + rnd(0, 20LL * 365 * DAY_MS);
}

static void check_placed(const rd_policy_ctx_t *ctx, int64_t due) {
    const rd_campaign_t *c = ctx->c;
    rd_localtime_t lt;
    rd_tz_local(ctx->tz, due, &lt);
    int mod = lt.hour * 60 + lt.minute;
    PROP(c->days_mask & (1u << lt.wday), "weekday %d mask %#x", lt.wday, c->days_mask);
    PROP(mod >= c->daily_start_min && mod < c->daily_end_min,
         "%s %04d-%02d-%02d %02d:%02d:%02d "
         "outside [%d, %d)",
         rd_tz_name(ctx->tz), lt.year, lt.month, lt.day, lt.hour, lt.minute, lt.second,
         c->daily_start_min, c->daily_end_min);
    PROP(rd_policy_allowed(ctx, due), "due %lld not allowed", (long long)due);
}

/* Dialing at t (already appended to the number's attempts) respects both caps;
 * the day is the callee's local calendar date. */
static void check_caps(const rd_policy_ctx_t *ctx, int64_t t) {
    rd_localtime_t lt, la;
    rd_tz_local(ctx->tz, t, &lt);
    int day = 0, week = 0;
    for (size_t i = 0; i < ctx->n_num_attempts; i++) {
        int64_t a = ctx->num_attempts_ms[i];
        rd_tz_local(ctx->tz, a, &la);
        day += la.year == lt.year && la.month == lt.month && la.day == lt.day;
        week += a > t - 7 * DAY_MS && a <= t;
    }
    PROP(day <= ctx->c->max_per_day, "%d attempts in the local day, cap %d", day,
         ctx->c->max_per_day);
    PROP(week <= ctx->c->max_per_7_days, "%d attempts in 7 days, cap %d", week,
         ctx->c->max_per_7_days);
}

static void t_properties(void **state) {
    (void)state;
    const char *env = getenv("REDIAL_PROP_SEED");
    seed0 = env ? strtoull(env, NULL, 10) : 20261128ULL;
    rng = seed0 * 2654435761ULL + 1;
    static rd_smart_stats_t st;
    int decisions = 0, retries = 0;
    for (trial = 0; trial < TRIALS; trial++) {
        rd_campaign_t c;
        random_campaign(&c);
        int64_t nums[64];
        rd_attempt_t hist[16];
        rd_policy_ctx_t ctx = {.c = &c, .num_attempts_ms = nums, .jitter_seed = next_u64()};
        ctx.tz = rd_policy_zone(&c, NULL, NULL);
        PROP(ctx.tz != NULL, "zone %s", c.timezone);
        if (rnd(0, 1)) {
            for (int h = 0; h < 168; h++) {
                st.attempted[h] = (uint32_t)rnd(0, 100);
                st.answered[h] = (uint32_t)rnd(0, st.attempted[h]);
                st.prior_attempted[h] = (uint32_t)rnd(0, 1000);
                st.prior_answered[h] = (uint32_t)rnd(0, st.prior_attempted[h]);
            }
            st.campaign_attempts = (uint64_t)rnd(0, 1000);
            ctx.smart = &st;
        }
        int64_t now = random_clock(ctx.tz);
        /* Past attempts on this number by other campaigns (may be dense). */
        size_t past = (size_t)rnd(0, 10);
        for (size_t i = 0; i < past; i++) nums[ctx.n_num_attempts++] = now - rnd(1, 9 * DAY_MS);
        rd_decision_t d;
        rd_policy_first(&ctx, now, rnd(0, 1) ? 0 : now + rnd(-DAY_MS, 3 * DAY_MS), &d);
        size_t n = 0;
        int failures = 0;
        while (!d.final) {
            decisions++;
            PROP(d.due_ms >= now, "due %lld before now %lld", (long long)d.due_ms, (long long)now);
            PROP(n == 0 || d.due_ms >= hist[n - 1].start_ms, "before previous attempt");
            PROP(n < (size_t)c.max_attempts, "attempt %zu beyond budget %d", n + 1, c.max_attempts);
            PROP(failures <= c.failed_max_retries, "failure retried %d times", failures);
            check_placed(&ctx, d.due_ms);
            /* Dial at the due time. */
            hist[n].start_ms = d.due_ms;
            hist[n].outcome = (rd_outcome_t)rnd(0, RD_OUT__COUNT - 1);
            if (rnd(0, 5)) hist[n].outcome = (rd_outcome_t)rnd(RD_OUT_BUSY, RD_OUT_FAILED);
            failures += hist[n].outcome == RD_OUT_FAILED;
            nums[ctx.n_num_attempts++] = d.due_ms;
            check_caps(&ctx, d.due_ms);
            n++;
            /* Outcome known up to 3 h later, or (skewed engine clocks) up to 1 min "before". */
            now = d.due_ms + rnd(-60000, 3 * 3600000LL);
            ctx.jitter_seed = next_u64();
            rd_policy_next(&ctx, hist, n, (rd_answered_by_t)rnd(0, 2), now, &d);
            retries += !d.final;
        }
        PROP(n <= (size_t)c.max_attempts, "%zu attempts", n);
        rd_campaign_deinit(&c);
    }
    printf("policy properties: %d trials, %d decisions, %d retries (seed %llu)\n", TRIALS,
           decisions, retries, (unsigned long long)seed0);
    assert_true(retries > TRIALS); /* the generator really exercises retries */
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_properties)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
