/*
 * clock.c — policy time from wall time (see clock.h).
 *
 * Conversion keeps doubles away from absolute times: only the elapsed wall
 * span is scaled, so millisecond timestamps stay exact at any origin.
 */
#include "proto/clock.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/rd.h"

int64_t rd_wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rd_clock_init_wall(rd_clock_t *c) {
    memset(c, 0, sizeof *c);
    c->scale = 1.0;
}

void rd_clock_init_manual(rd_clock_t *c, int64_t now_ms) {
    rd_clock_init_wall(c);
    c->manual = true;
    c->manual_ms = now_ms;
}

/* ---- calendar (Howard Hinnant's algorithms, proleptic Gregorian) ---------- */

int64_t rd_days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void rd_civil_from_days(int64_t z, int *y, int *m, int *d) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Two ASCII digits at p (p[0] is read first: a NUL there stops it). */
static bool dig2(const char *p, int *v) {
    if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9') return false;
    *v = (p[0] - '0') * 10 + (p[1] - '0');
    return true;
}

/*
 * The canonical spelling (what providers send: "2026-12-01 09:00:00",
 * "2026-12-01T09:00:00+05:30") is read digit by digit; anything else goes
 * through the sscanf reading, which accepts the same canonical strings with
 * the same result, so both agree.
 */
int rd_parse_iso8601(const char *s, int64_t *out_ms) {
    int y, mo, d, h, mi, sec = 0, n = 0, yh, yl;
    if (dig2(s, &yh) && dig2(s + 2, &yl) && s[4] == '-' && dig2(s + 5, &mo) && s[7] == '-' &&
        dig2(s + 8, &d) && (s[10] == 'T' || s[10] == ' ') && dig2(s + 11, &h) && s[13] == ':' &&
        dig2(s + 14, &mi)) {
        y = yh * 100 + yl;
        n = 16;
    } else if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d%n", &y, &mo, &d, &h, &mi, &n) != 5) {
        return RD_EPARSE;
    }
    const char *p = s + n;
    int ms = 0;
    if (*p == ':') {
        int k = 0;
        if (dig2(p + 1, &sec))
            k = 3;
        else if (sscanf(p, ":%2d%n", &sec, &k) != 1)
            return RD_EPARSE;
        p += k;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (*p >= '0' && *p <= '9') {
                if (digits < 3) ms = ms * 10 + (*p - '0');
                digits++;
                p++;
            }
            if (digits == 0) return RD_EPARSE;
            for (; digits < 3; digits++) ms *= 10;
        }
    }
    int off_min = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om, k = 0;
        if (dig2(p + 1, &oh) && p[3] == ':' && dig2(p + 4, &om))
            k = 5;
        else if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2)
            return RD_EPARSE;
        off_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 1 + k;
    }
    if (*p != '\0') return RD_EPARSE;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return RD_EPARSE;
    int64_t days = rd_days_from_civil(y, mo, d);
    *out_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - (int64_t)off_min * 60) * 1000 + ms;
    return 0;
}

int rd_parse_time(const char *s, int64_t *out_ms) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*s && *end == '\0' && errno == 0) {
        *out_ms = v;
        return 0;
    }
    return rd_parse_iso8601(s, out_ms);
}

int rd_clock_init(rd_clock_t *c, const char *scale, const char *origin, const char *epoch_ms,
                  char *errbuf, size_t errlen) {
    rd_clock_init_wall(c);
    if (scale && *scale) {
        char *end;
        double v = strtod(scale, &end);
        if (*end != '\0' || !(v > 0) || !isfinite(v) || v > 1e6) {
            snprintf(errbuf, errlen, "time scale: '%s' is not a number in (0, 1e6]", scale);
            return RD_EINVAL;
        }
        c->scale = v;
    }
    if (epoch_ms && *epoch_ms) {
        char *end;
        long long v = strtoll(epoch_ms, &end, 10);
        if (*end != '\0' || v < 0) {
            snprintf(errbuf, errlen, "time epoch: '%s' is not unix milliseconds", epoch_ms);
            return RD_EINVAL;
        }
        c->epoch_ms = v;
    } else if ((origin && *origin) || c->scale != 1.0) {
        c->epoch_ms = rd_wall_ms();
    }
    c->origin_ms = c->epoch_ms;
    if (origin && *origin) {
        if (rd_parse_time(origin, &c->origin_ms) != 0) {
            snprintf(errbuf, errlen, "time origin: '%s' is not ISO-8601 or unix ms", origin);
            return RD_EINVAL;
        }
    }
    return 0;
}

int rd_clock_init_env(rd_clock_t *c, const char *scale, const char *origin, const char *epoch_ms,
                      char *errbuf, size_t errlen) {
    if (!scale) scale = getenv("REDIAL_TIME_SCALE");
    if (!origin) origin = getenv("REDIAL_TIME_ORIGIN");
    if (!epoch_ms) epoch_ms = getenv("REDIAL_TIME_EPOCH");
    return rd_clock_init(c, scale, origin, epoch_ms, errbuf, errlen);
}

int64_t rd_clock_now(const rd_clock_t *c) {
    if (c->manual) return c->manual_ms;
    int64_t wall = rd_wall_ms() - c->epoch_ms;
    if (c->scale == 1.0) return c->origin_ms + wall;
    return c->origin_ms + (int64_t)llround((double)wall * c->scale);
}

void rd_clock_set(rd_clock_t *c, int64_t now_ms) {
    rd_assert(c->manual);
    c->manual_ms = now_ms;
}

void rd_clock_advance(rd_clock_t *c, int64_t delta_ms) {
    rd_assert(c->manual);
    c->manual_ms += delta_ms;
}

uint64_t rd_clock_wall_ms(const rd_clock_t *c, int64_t policy_ms) {
    if (policy_ms <= 0) return 0;
    if (c->scale == 1.0) return (uint64_t)policy_ms;
    return (uint64_t)ceil((double)policy_ms / c->scale);
}

int64_t rd_clock_policy_ms(const rd_clock_t *c, int64_t wall_ms) {
    if (c->scale == 1.0) return wall_ms;
    return (int64_t)llround((double)wall_ms * c->scale);
}

uint64_t rd_clock_wall_delay(const rd_clock_t *c, int64_t at_ms) {
    return rd_clock_wall_ms(c, at_ms - rd_clock_now(c));
}
