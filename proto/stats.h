/*
 * stats.h — the seed's retry-performance metrics (SPEC section 6), computed
 * from a campaign's raw counters. Pure: the counters come from Redis
 * (store/store.h). The metric table (rd_stats_rows) and its text and JSON
 * renderings live here; the CLI's HTML report renders the same rows, so
 * every surface shows the same figures, targets and verdicts.
 *
 * Definitions (denominator "dialed" = jobs that had at least one attempt):
 *   first-attempt connection rate  connected on attempt 1 / dialed        target > 40%
 *   retry connection rate, retry k connected on attempt k+1 / attempts k+1  target > 30%
 *   total connection rate          connected / dialed                      target > 70%
 *   average attempts to connect    mean attempt number of connected jobs   target < 2
 *   unreachable rate               unreachable / finished                  target < 20%
 *   retry ROI                      connections won by retries per 100
 *                                  retry calls (incremental gain of each
 *                                  retry is shown below)                   target: each retry adds > 10 points
 *   cumulative connection rate by attempt n, and its incremental gain over
 *   n-1 ("diminishing returns"); a recommendation is made when the last
 *   attempt used adds < 5 points.
 * Rates are fractions in [0, 1]; a rate with an empty denominator is NaN
 * ("n/a" when rendered) rather than 0, so no target is "met" by no data.
 *
 * Thread safety: pure.
 */
#ifndef RD_STATS_H
#define RD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/outcome.h"

#define RD_STATS_MAX_ATTEMPTS 20

typedef struct rd_stats_counts {
    uint64_t jobs;                                 /* enqueued and accepted */
    uint64_t finals[RD_DISP__COUNT];               /* finished jobs by disposition */
    uint64_t attempts[RD_STATS_MAX_ATTEMPTS + 1];  /* [n] = attempts numbered n */
    uint64_t connected[RD_STATS_MAX_ATTEMPTS + 1]; /* [n] = jobs connected on attempt n */
    uint64_t outcomes[RD_OUT__COUNT];              /* attempts by outcome */
} rd_stats_counts_t;

typedef struct rd_stats {
    uint64_t dialed, finished, pending, connected, attempts_total;
    double first_rate;                             /* target > 0.40 */
    double retry_rate[RD_STATS_MAX_ATTEMPTS + 1];  /* [k] for retry k = attempt k+1 */
    double total_rate;                             /* target > 0.70 */
    double avg_attempts_to_connect;                /* target < 2 */
    double unreachable_rate;                       /* target < 0.20 */
    double retry_roi;                              /* connections per retry call */
    double cumulative[RD_STATS_MAX_ATTEMPTS + 1];  /* [n], n >= 1 */
    double incremental[RD_STATS_MAX_ATTEMPTS + 1]; /* [n] = cumulative[n] - [n-1] */
    int max_attempt;                               /* highest attempt number seen */
    bool recommend_fewer;                          /* last attempt adds < 5 points */
    char recommendation[256];                      /* "" when none */
} rd_stats_t;

#define RD_STATS_TARGET_FIRST 0.40
#define RD_STATS_TARGET_RETRY 0.30
#define RD_STATS_TARGET_TOTAL 0.70
#define RD_STATS_TARGET_AVG 2.0
#define RD_STATS_TARGET_UNREACHABLE 0.20
#define RD_STATS_TARGET_INCREMENT 0.10
#define RD_STATS_DIMINISHING 0.05

/* Computes the metrics of one campaign's counters; *out is overwritten. */
void rd_stats_compute(const rd_stats_counts_t *in, rd_stats_t *out);

/*
 * Whether a rate meets its target: strictly better than the target, and a
 * rate with no data (NaN) is neither met nor missed.
 */
typedef enum { RD_STATS_NODATA = 0, RD_STATS_MET = 1, RD_STATS_MISSED = 2 } rd_stats_verdict_t;

/* One row of the seed's metric table, as every renderer shows it. */
typedef struct rd_stats_row {
    char name[48];      /* "First-attempt connection rate", "Retry connection rate (retry 2)" */
    char value[32];     /* "42.0%", "1.53" or "n/a" */
    const char *target; /* "> 40%" (static) */
    rd_stats_verdict_t verdict;
} rd_stats_row_t;

#define RD_STATS_MAX_ROWS (RD_STATS_MAX_ATTEMPTS + 4)

/*
 * The metric table of s in display order: first-attempt rate, one row per
 * retry used, total rate, average attempts to connect, unreachable rate,
 * retry ROI. rows is caller storage for RD_STATS_MAX_ROWS; returns how many
 * were filled. The text table and the HTML report both render these rows,
 * so a target or a verdict rule lives in one place.
 */
size_t rd_stats_rows(const rd_stats_t *s, rd_stats_row_t *rows);

/* v as a percentage with one decimal ("42.0%") in buf, or the static "n/a" for NaN. */
const char *rd_stats_pct(char *buf, size_t len, double v);

/*
 * The seed's two tables as text (metric / value / target / verdict, then the
 * cumulative connection rate by attempt with incremental gain), headed by the
 * campaign name. Returns an owned NUL-terminated string (rd_free).
 */
char *rd_stats_to_text(const char *campaign, const rd_stats_t *s);
/* The same as a JSON object (jansson json_t *, caller owns one reference); NaN -> null. */
struct json_t;
struct json_t *rd_stats_to_json(const char *campaign, const rd_stats_t *s);

#endif
