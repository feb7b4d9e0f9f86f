/*
 * policy.c — the retry policy of SPEC section 4 (see policy.h).
 *
 * Two layers:
 *
 *   when: strategy -> candidate instant. After an attempt that started at P
 *     (the previous attempt) the strategy proposes a candidate: fixed P +
 *     interval; increasing P + the n-th interval (list form, last repeated;
 *     or interval * multiplier^(n-1) capped); time_of_day the next listed
 *     local time >= P + min_gap (preferring, on P's own day, a slot in
 *     another part of the day); smart the best local hour in the horizon
 *     (falling back to increasing). A failed outcome instead waits
 *     failed_retry_seconds from now. Nothing is ever proposed before now.
 *
 *   where: place(t) -> the earliest allowed instant >= t. It walks local
 *     days in the callee's zone (ctx->tz): a day whose weekday is not
 *     allowed, whose window has ended, or whose daily cap is used up is
 *     skipped to the next local midnight; before the window it moves to the
 *     window start; inside the window it then checks the rolling 7-day cap
 *     and, when full, moves to the instant the oldest counted attempt
 *     leaves the 7-day window. Each step only moves forward, so the walk
 *     ends (and is bounded by MAX_STEPS as a guard).
 *
 * Window of local date D: [from_local(D, daily_start), from_local(D,
 * daily_end)) — "24:00" is the next day's 00:00. Instants come from
 * rd_tz_from_local, so a window edge inside a DST gap starts at the first
 * instant after the gap, and one inside a fold at the earlier reading.
 *
 * Caps: the number's attempt starts (all campaigns) are in
 * ctx->num_attempts_ms. Daily: attempts in the local day [00:00, next
 * 00:00) must be < max_per_day for one more to start. Rolling: attempts in
 * (t - 7 days, t] must be < max_per_7_days (an attempt at a stops counting
 * at exactly a + 7 days). Both are "one more is allowed" tests, so a due
 * time returned here, once dialed, never exceeds a cap.
 *
 * Jitter: only when place() moved a time to a window start (and for smart
 * slots, which are hour starts), a deterministic offset in whole seconds
 * in [0, min(jitter_seconds, window length)) from splitmix64(jitter_seed),
 * so it never crosses the window end and a decision can be replayed.
 */
#include "proto/policy.h"

#include <math.h>
#include <string.h>

#include "proto/hash.h"
#include "proto/rd.h"

#define MIN_MS 60000LL
#define DAY_MS 86400000LL
#define WEEK_MS (7 * DAY_MS)
#define SMART_PRIOR_STRENGTH 20.0

/* ---- local-day helpers ------------------------------------------------------ */

typedef struct day {
    int y, m, d, wday;
} day_t;

static day_t day_of(const rd_tz_t *tz, int64_t t) {
    rd_localtime_t lt;
    rd_tz_local(tz, t, &lt);
    return (day_t){lt.year, lt.month, lt.day, lt.wday};
}

static bool same_day(const day_t *a, const day_t *b) {
    return a->y == b->y && a->m == b->m && a->d == b->d;
}

/* UTC instant of minute-of-day `min` (0..1440) on local day D + plus days. */
static int64_t at_min(const rd_tz_t *tz, const day_t *D, int plus, int min) {
    return rd_tz_from_local(tz, D->y, D->m, D->d + plus + min / 1440, (min % 1440) / 60, min % 60);
}

/*
 * The first instant after t at which the local clock reads that wall time
 * (or, in a gap, the first instant after it). at_min gives the earlier
 * reading of a fold; when t is already past it (t is in the fold's second
 * pass) the later reading is the one ahead. Always > t.
 */
static int64_t wall_after(const rd_tz_t *tz, int64_t t, const day_t *D, int plus, int min) {
    int64_t u = at_min(tz, D, plus, min);
    if (u > t) return u;
    rd_localtime_t lu, lt;
    rd_tz_local(tz, u, &lu);
    rd_tz_local(tz, t, &lt);
    int64_t u2 = u + (int64_t)(lu.utc_offset_s - lt.utc_offset_s) * 1000;
    return u2 > t ? u2 : t + 1000;
}

/* ---- caps ------------------------------------------------------------------- */

static int count_in(const rd_policy_ctx_t *ctx, int64_t lo, int64_t hi) { /* [lo, hi) */
    int n = 0;
    for (size_t i = 0; i < ctx->n_num_attempts; i++)
        n += ctx->num_attempts_ms[i] >= lo && ctx->num_attempts_ms[i] < hi;
    return n;
}

/* Attempts whose start reads local date D (the callee's day). */
static int count_day(const rd_policy_ctx_t *ctx, const day_t *D) {
    int n = 0;
    for (size_t i = 0; i < ctx->n_num_attempts; i++) {
        day_t a = day_of(ctx->tz, ctx->num_attempts_ms[i]);
        n += same_day(&a, D);
    }
    return n;
}

/*
 * Rolling cap at t: 0 when one more attempt may start at t, else the instant
 * at which enough counted attempts have left (t - 7d, t] to allow one.
 */
static int64_t week_cap_clear(const rd_policy_ctx_t *ctx, int64_t t) {
    int64_t lo = t - WEEK_MS + 1, hi = t + 1;
    int n = count_in(ctx, lo, hi), k = n - ctx->c->max_per_7_days + 1;
    if (k <= 0) return 0;
    /* Once the k-th oldest counted start a leaves, at a + 7 days, n - k < max remain. */
    for (size_t i = 0; i < ctx->n_num_attempts; i++) {
        int64_t a = ctx->num_attempts_ms[i];
        if (a < lo || a >= hi) continue;
        int below = count_in(ctx, lo, a), upto = count_in(ctx, lo, a + 1);
        if (below < k && k <= upto) return a + WEEK_MS;
    }
    rd_assert(!"k-th counted attempt exists");
    return 0;
}

/* ---- placement -------------------------------------------------------------- */

/*
 * Earliest allowed instant >= t. Membership is decided on the local clock
 * reading of t (weekday, minute of day, local date for the daily cap), so a
 * fold's second pass or a window swallowed by a gap are judged as a person
 * reading a wall clock would. *window_start: the last move was to a window
 * start (jitter may be added). *why (may be NULL): what moved t first
 * (RD_POLICY_OK when t itself is allowed).
 */
static int64_t place_why(const rd_policy_ctx_t *ctx, int64_t t, bool *window_start,
                         rd_policy_why_t *why) {
    const rd_campaign_t *c = ctx->c;
    bool to_start = false;
    rd_policy_why_t first = RD_POLICY_OK;
#define RD__FIRST(w) (first = first ? first : (w))
    /* Each step passes a day or a counted attempt: this bound is never reached. */
    size_t max_steps = 16 * (ctx->n_num_attempts + 8) + 64;
    for (size_t step = 0; step < max_steps; step++) {
        rd_localtime_t lt;
        rd_tz_local(ctx->tz, t, &lt);
        day_t D = {lt.year, lt.month, lt.day, lt.wday};
        int mod = lt.hour * 60 + lt.minute;
        bool closed = !(c->days_mask & (1u << D.wday)) || mod >= c->daily_end_min;
        if (closed || count_day(ctx, &D) >= c->max_per_day) {
            RD__FIRST(closed || mod < c->daily_start_min ? RD_POLICY_WINDOW : RD_POLICY_CAP);
            t = wall_after(ctx->tz, t, &D, 1, 0);
            to_start = false;
            continue;
        }
        if (mod < c->daily_start_min) {
            RD__FIRST(RD_POLICY_WINDOW);
            t = wall_after(ctx->tz, t, &D, 0, c->daily_start_min);
            to_start = true;
            continue;
        }
        int64_t clear = week_cap_clear(ctx, t);
        if (clear) {
            RD__FIRST(RD_POLICY_CAP);
            t = clear;
            to_start = false;
            continue;
        }
        if (window_start) *window_start = to_start;
        if (why) *why = first;
        return t;
    }
#undef RD__FIRST
    rd_assert(!"placement did not converge");
    return t;
}

static int64_t place(const rd_policy_ctx_t *ctx, int64_t t, bool *window_start) {
    return place_why(ctx, t, window_start, NULL);
}

static uint64_t splitmix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/*
 * Deterministic jitter after an allowed instant s: whole seconds in
 * [0, jitter_seconds), kept only if the jittered instant is itself allowed
 * (same window, same caps); otherwise the window's own length bounds it.
 */
static int64_t add_jitter(const rd_policy_ctx_t *ctx, int64_t s) {
    rd_localtime_t lt;
    rd_tz_local(ctx->tz, s, &lt);
    int64_t left_s = (int64_t)(ctx->c->daily_end_min - lt.hour * 60 - lt.minute) * 60 - lt.second;
    int64_t range_s = RD_MIN((int64_t)ctx->c->jitter_seconds, left_s);
    if (range_s <= 0) return s;
    int64_t j = s + (int64_t)(splitmix64(ctx->jitter_seed) % (uint64_t)range_s) * 1000;
    return place(ctx, j, NULL) == j ? j : s;
}

/* place() plus jitter when it landed on a window start. */
static int64_t place_jittered(const rd_policy_ctx_t *ctx, int64_t t) {
    bool ws = false;
    int64_t p = place(ctx, t, &ws);
    return ws ? add_jitter(ctx, p) : p;
}

int64_t rd_policy_place(const rd_policy_ctx_t *ctx, int64_t t) { return place(ctx, t, NULL); }

bool rd_policy_allowed(const rd_policy_ctx_t *ctx, int64_t t) { return place(ctx, t, NULL) == t; }

rd_policy_why_t rd_policy_check(const rd_policy_ctx_t *ctx, int64_t t, int64_t *next) {
    rd_policy_why_t why;
    int64_t p = place_why(ctx, t, NULL, &why);
    if (next) *next = p;
    return why;
}

const rd_tz_t *rd_policy_zone(const rd_campaign_t *c, const char *job_tz, const char *e164) {
    const char *names[] = {
        job_tz && *job_tz ? job_tz : NULL,
        c->callee_local_time && e164 ? rd_tz_for_number(e164) : NULL,
        c->timezone,
        "UTC",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const rd_tz_t *z = NULL;
        if (!names[i]) continue;
        int rc = rd_tz_lookup(names[i], &z);
        if (rc == 0 && z) return z;
        if (rc == RD_ETRANSIENT) return NULL; /* not a verdict: never another zone */
    }
    return NULL;
}

/* ---- strategies --------------------------------------------------------------- */

/* Minutes to wait before retry number r (1 = the first retry), increasing. */
static int64_t increasing_minutes(const rd_campaign_t *c, size_t r) {
    if (c->n_intervals > 0) return c->intervals_minutes[RD_MIN(r, (size_t)c->n_intervals) - 1];
    double m = c->interval_minutes * pow(c->multiplier, (double)(r - 1));
    return (int64_t)RD_MIN(m, (double)c->max_interval_minutes);
}

static int part_of_day(int min) { return min < 12 * 60 ? 0 : min < 17 * 60 ? 1 : 2; }

/*
 * time_of_day: the next listed local time at or after base (= previous
 * attempt + min_gap, or now). On the previous attempt's own day a slot in a
 * different part of the day wins over an earlier one in the same part.
 * Slots that are not allowed (window, weekday, caps) are passed over; the
 * first allowed one is returned with no jitter. 0 if none in 14 days.
 */
static int64_t time_of_day_next(const rd_policy_ctx_t *ctx, int64_t prev, int64_t base) {
    const rd_campaign_t *c = ctx->c;
    rd_localtime_t lp;
    rd_tz_local(ctx->tz, prev, &lp);
    int prev_part = part_of_day(lp.hour * 60 + lp.minute);
    day_t D = day_of(ctx->tz, base), P = {lp.year, lp.month, lp.day, lp.wday};
    for (int plus = 0; plus < 14; plus++) {
        int64_t same_part = 0;
        for (int i = 0; i < c->n_times; i++) {
            int64_t s = at_min(ctx->tz, &D, plus, c->times_min[i]);
            if (s < base || !rd_policy_allowed(ctx, s)) continue;
            bool prev_day = plus == 0 && same_day(&D, &P);
            if (!prev_day || part_of_day(c->times_min[i]) != prev_part) return s;
            if (!same_part) same_part = s;
        }
        if (same_part) return same_part;
    }
    return 0;
}

/* Beta-smoothed answer rate of hour-of-week h (docs/POLICY.md, section 2). */
static double smart_score(const rd_smart_stats_t *st, int h) {
    double p = (st->prior_answered[h] + 1.0) / (st->prior_attempted[h] + 2.0);
    double a = SMART_PRIOR_STRENGTH * p, b = SMART_PRIOR_STRENGTH * (1 - p);
    return (st->answered[h] + a) / (st->attempted[h] + a + b);
}

/*
 * smart: among allowed instants in [base, prev + horizon] — the first one
 * (base placed) and every later allowed local hour start — the one whose
 * hour-of-week scores best; ties to the earliest. 0 when nothing fits.
 */
static int64_t smart_next(const rd_policy_ctx_t *ctx, int64_t prev, int64_t base) {
    int64_t end = prev + (int64_t)ctx->c->horizon_hours * 3600000LL;
    int64_t best_t = 0, t = place(ctx, base, NULL);
    double best = -1;
    while (t <= end) {
        rd_localtime_t lt;
        rd_tz_local(ctx->tz, t, &lt);
        double s = smart_score(ctx->smart, lt.wday * 24 + lt.hour);
        if (s > best) best = s, best_t = t;
        /* Next local hour start after t, then placed. */
        int64_t next = rd_tz_from_local(ctx->tz, lt.year, lt.month, lt.day, lt.hour + 1, 0);
        if (next <= t) next = t + 3600000LL;
        t = place(ctx, next, NULL);
    }
    return best_t;
}

/* ---- decisions ---------------------------------------------------------------- */

static void finish(rd_decision_t *out, rd_disposition_t d, const char *why) {
    out->final = true;
    out->disposition = d;
    out->due_ms = 0;
    out->why = why;
}

static void retry_at(rd_decision_t *out, int64_t due, const char *why) {
    out->final = false;
    out->disposition = RD_DISP_CONNECTED; /* unused when !final */
    out->due_ms = due;
    out->why = why;
}

void rd_policy_first(const rd_policy_ctx_t *ctx, int64_t now_ms, int64_t not_before_ms,
                     rd_decision_t *out) {
    retry_at(out, place_jittered(ctx, RD_MAX(now_ms, not_before_ms)), "first attempt");
}

void rd_policy_next(const rd_policy_ctx_t *ctx, const rd_attempt_t *hist, size_t n,
                    rd_answered_by_t answered_by, int64_t now_ms, rd_decision_t *out) {
    const rd_campaign_t *c = ctx->c;
    if (n == 0) {
        rd_policy_first(ctx, now_ms, 0, out);
        return;
    }
    rd_outcome_t o = hist[n - 1].outcome;
    int64_t prev = hist[n - 1].start_ms, base = RD_MAX(prev, now_ms);
    if (o == RD_OUT_COMPLETED && answered_by == RD_ANSWERED_MACHINE) o = c->machine_as;
    switch (o) {
    case RD_OUT_COMPLETED:
    case RD_OUT_IN_PROGRESS:
        finish(out, RD_DISP_CONNECTED, "answered");
        return;
    case RD_OUT_CANCELED:
        finish(out, RD_DISP_CANCELED, "canceled");
        return;
    case RD_OUT_INVALID_NUMBER:
        finish(out, RD_DISP_INVALID, "invalid number");
        return;
    case RD_OUT_DND:
        finish(out, RD_DISP_DND, "number is on the DND registry");
        return;
    case RD_OUT_BUSY:
    case RD_OUT_NO_ANSWER:
    case RD_OUT_FAILED:
        break;
    default:
        finish(out, RD_DISP_FAILED, "unknown outcome");
        return;
    }
    rd_disposition_t exhausted = o == RD_OUT_FAILED ? RD_DISP_FAILED : RD_DISP_UNREACHABLE;
    if (!(c->retry_on & (1u << o))) {
        finish(out, exhausted, "outcome not in retry_on");
        return;
    }
    if (n >= (size_t)c->max_attempts) {
        finish(out, exhausted, "attempts exhausted");
        return;
    }
    if (o == RD_OUT_FAILED) {
        int failures = 0;
        for (size_t i = 0; i < n; i++) failures += hist[i].outcome == RD_OUT_FAILED;
        if (failures > c->failed_max_retries) {
            finish(out, RD_DISP_FAILED, "failed retries exhausted");
            return;
        }
        retry_at(out, place_jittered(ctx, base + c->failed_retry_seconds * 1000LL),
                 "retry after failure");
        return;
    }
    rd_strategy_t s = c->strategy;
    if (s == RD_STRAT_SMART &&
        (!ctx->smart || ctx->smart->campaign_attempts < (uint64_t)c->min_samples))
        s = RD_STRAT_INCREASING;
    int64_t gap_base = RD_MAX(prev + c->min_gap_minutes * MIN_MS, now_ms), t = 0;
    switch (s) {
    case RD_STRAT_TIME_OF_DAY:
        if ((t = time_of_day_next(ctx, prev, gap_base)) != 0) {
            retry_at(out, t, "time of day");
            return;
        }
        t = gap_base;
        break;
    case RD_STRAT_SMART:
        if ((t = smart_next(ctx, prev, gap_base)) != 0) {
            retry_at(out, add_jitter(ctx, t), "smart: best answer-rate hour");
            return;
        }
        t = gap_base;
        break;
    case RD_STRAT_INCREASING:
        t = RD_MAX(prev + increasing_minutes(c, n) * MIN_MS, base);
        break;
    case RD_STRAT_FIXED:
    default:
        t = RD_MAX(prev + c->interval_minutes * MIN_MS, base);
        break;
    }
    retry_at(out, place_jittered(ctx, t), "retry interval");
}

uint64_t rd_policy_seed(const char *campaign, const char *to, int attempt) {
    uint32_t a = (uint32_t)attempt;
    unsigned char le[4] = {(unsigned char)a, (unsigned char)(a >> 8), (unsigned char)(a >> 16),
                           (unsigned char)(a >> 24)};
    uint64_t h = rd_hash_str(RD_HASH_FNV_BASIS, campaign ? campaign : "");
    h = rd_hash_bytes(h, "", 1);
    h = rd_hash_bytes(rd_hash_str(h, to ? to : ""), "", 1);
    return rd_hash_bytes(h, le, sizeof le);
}

size_t rd_policy_plan(const rd_policy_ctx_t *ctx, const char *to, int64_t start_ms,
                      const rd_outcome_t *outcomes, size_t n_outcomes, rd_attempt_t *steps,
                      size_t max_steps, rd_decision_t *out) {
    rd_policy_ctx_t own = *ctx;
    int64_t *starts = rd_calloc(max_steps + 1, sizeof *starts);
    own.num_attempts_ms = starts;
    own.n_num_attempts = 0;
    size_t n = 0;
    own.jitter_seed = rd_policy_seed(ctx->c->name, to, 1);
    rd_policy_first(&own, start_ms, 0, out);
    while (!out->final && n < n_outcomes && n < max_steps) {
        steps[n] = (rd_attempt_t){out->due_ms, outcomes[n]};
        starts[own.n_num_attempts++] = out->due_ms;
        n++;
        own.jitter_seed = rd_policy_seed(ctx->c->name, to, (int)n + 1);
        rd_policy_next(&own, steps, n, RD_ANSWERED_HUMAN, steps[n - 1].start_ms, out);
    }
    rd_free(starts);
    return n;
}
