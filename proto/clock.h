/*
 * clock.h — the one clock every time decision in redial reads.
 *
 * Policy time = origin + (wall - epoch) * scale, in unix milliseconds
 * (SPEC section 5, "The clock"). With scale 1 and no origin it is the wall
 * clock. Every process of one deployment (engines, CLI, sim, bench) must be
 * given the same three values so that they agree on "now".
 *
 * A clock can also be "manual" (tests): it returns whatever was last set with
 * rd_clock_set() and never moves by itself.
 *
 * Durations: a policy duration d (ms) lasts d / scale wall milliseconds;
 * rd_clock_wall_delay() converts, so timers armed for a due time fire at the
 * right wall moment under any scale.
 *
 * Thread safety: a clock is configured before threads start and then only
 * read (rd_clock_now is safe from any thread). A manual clock is for
 * single-threaded tests, or guarded by the test.
 */
#ifndef RD_CLOCK_H
#define RD_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rd_clock {
    int64_t origin_ms; /* policy time at wall == epoch_ms */
    int64_t epoch_ms;  /* wall-clock anchor, unix ms */
    double scale;      /* policy ms per wall ms; > 0 */
    bool manual;       /* tests: now is manual_ms */
    int64_t manual_ms;
} rd_clock_t;

/* The wall clock (scale 1, origin = epoch = 0). */
void rd_clock_init_wall(rd_clock_t *c);
/* A manual clock starting at now_ms. */
void rd_clock_init_manual(rd_clock_t *c, int64_t now_ms);
/*
 * Builds a clock from the three spec values. Any of the strings may be NULL
 * (absent): no origin means origin = epoch; no epoch means "now" at the call
 * (single-process use; pass an epoch to share one clock between processes).
 * origin is ISO-8601 "YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]" (or "YYYY-MM-DD HH:MM")
 * or unix ms digits. Returns 0 or RD_EINVAL with errbuf filled.
 */
int rd_clock_init(rd_clock_t *c, const char *scale, const char *origin, const char *epoch_ms,
                  char *errbuf, size_t errlen);
/* Same, reading REDIAL_TIME_SCALE / REDIAL_TIME_ORIGIN / REDIAL_TIME_EPOCH for NULLs. */
int rd_clock_init_env(rd_clock_t *c, const char *scale, const char *origin, const char *epoch_ms,
                      char *errbuf, size_t errlen);

/* Policy time now, unix ms. */
int64_t rd_clock_now(const rd_clock_t *c);
/* Manual clocks only: set / advance policy time. */
void rd_clock_set(rd_clock_t *c, int64_t now_ms);
void rd_clock_advance(rd_clock_t *c, int64_t delta_ms);
/* Wall milliseconds until policy time `at` (0 if past), for uv timers. */
uint64_t rd_clock_wall_delay(const rd_clock_t *c, int64_t at_ms);
/* Wall milliseconds a policy duration lasts (rounded up, >= 0). */
uint64_t rd_clock_wall_ms(const rd_clock_t *c, int64_t policy_ms);
/* Policy milliseconds a wall duration lasts. */
int64_t rd_clock_policy_ms(const rd_clock_t *c, int64_t wall_ms);

/* Wall clock, unix ms (CLOCK_REALTIME). */
int64_t rd_wall_ms(void);

/*
 * Parses "YYYY-MM-DDTHH:MM[:SS][.fff][Z|+HH:MM|-HH:MM]" (a space may replace
 * the T). Without an offset the time is UTC. Returns 0 or RD_EPARSE.
 */
int rd_parse_iso8601(const char *s, int64_t *out_ms);
/*
 * Parses a time given on a command line or in configuration: unix
 * milliseconds (decimal digits, optionally signed) or rd_parse_iso8601's
 * form. Returns 0 or RD_EPARSE.
 */
int rd_parse_time(const char *s, int64_t *out_ms);

/*
 * The proleptic Gregorian calendar (H. Hinnant's algorithms), exact for any
 * year an int holds. rd_days_from_civil gives the days since 1970-01-01 of
 * y-m-d (m 1..12; d may run past the month's end and is carried);
 * rd_civil_from_days is its inverse. Pure; any thread.
 */
int64_t rd_days_from_civil(int64_t y, int m, int d);
void rd_civil_from_days(int64_t days, int *y, int *m, int *d);

#endif
