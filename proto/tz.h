/*
 * tz.h — IANA time zones from the system's zoneinfo (TZif v1/v2/v3 files
 * under $TZDIR or /usr/share/zoneinfo), DST-correct, with the POSIX TZ
 * footer rule for instants past the last transition.
 *
 * Zones are loaded once and cached for the life of the process
 * (rd_tz_get); a loaded zone is immutable, so it may be shared by every
 * thread. No libc TZ state (setenv/tzset/localtime) is ever touched.
 *
 * Thread safety: rd_tz_get is safe from any thread (internal lock around the
 * cache); the rest is pure.
 */
#ifndef RD_TZ_H
#define RD_TZ_H

#include <stdbool.h>
#include <stdint.h>

typedef struct rd_tz rd_tz_t;

typedef struct rd_localtime {
    int year, month, day; /* month 1..12, day 1..31 */
    int hour, minute, second;
    int wday;         /* 0 = Sunday */
    int utc_offset_s; /* local = utc + offset */
} rd_localtime_t;

/*
 * Whether name is a plausible IANA zone name: 1..64 bytes of [A-Za-z0-9_+-./],
 * not absolute, no empty, "." or ".." component. rd_tz_get refuses anything
 * else, so a name can never reach outside the zoneinfo directory.
 */
bool rd_tz_name_valid(const char *name);

/*
 * Cached zone by IANA name ("UTC" always works): 0 and *out; RD_ENOTFOUND when
 * the name is not valid or the system has no such zone (a verdict on the
 * name); RD_ETRANSIENT when the zone file could not be read for a resource
 * reason (EMFILE, ENOMEM, EIO, EACCES, ...): not a verdict, retry later.
 */
int rd_tz_lookup(const char *name, const rd_tz_t **out);
/* rd_tz_lookup for callers that treat both failures alike: NULL on either. */
const rd_tz_t *rd_tz_get(const char *name);
/* The zone's name as given to rd_tz_get. */
const char *rd_tz_name(const rd_tz_t *tz);

/* Local calendar time of a UTC instant. */
void rd_tz_local(const rd_tz_t *tz, int64_t utc_ms, rd_localtime_t *out);
/*
 * UTC instant of a local wall time (seconds 0). day, hour and minute may run
 * past their ranges and are carried (day 32 of a 31-day month is the 1st of
 * the next, hour 24 is the next day's 00). A time that does not exist
 * (spring-forward gap) maps to the first instant after the gap; an ambiguous
 * one (fall-back fold) to the earlier instant.
 */
int64_t rd_tz_from_local(const rd_tz_t *tz, int year, int month, int day, int hour, int minute);

/* Days in a month of the proleptic Gregorian calendar (month 1..12). */
int rd_days_in_month(int year, int month);

/*
 * The callee's zone derived from an E.164 number: the country calling code,
 * and for +1 the NANP area code. Returns a static IANA name, or NULL when
 * the number's country is not in the table (the caller then uses the
 * campaign zone).
 */
const char *rd_tz_for_number(const char *e164);

#endif
