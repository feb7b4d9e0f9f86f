/*
 * tz.c — IANA time zones read from the system's zoneinfo (see tz.h).
 *
 * Design. A zone is loaded once from its TZif file (RFC 8536) and never
 * changes afterwards, so it can be shared by every thread without locks.
 * We read the 64-bit data block of v2/v3 files (v1 files: the 32-bit one),
 * keep the transition instants, their local-time types and the POSIX TZ
 * footer rule, and answer two questions:
 *
 *   offset_at(t)   the UTC offset in force at UTC second t: before the first
 *                  transition, type 0 (RFC 8536 3.2); from the last
 *                  transition on, the footer rule when there is one (that is
 *                  how 2026 and 2400 both get DST right although the file's
 *                  table stops at 2037); otherwise a binary search.
 *   from_local()   local wall time -> UTC, by trying the offsets in force a
 *                  day before and a day after: one that maps back to itself
 *                  is a real reading; two means a fold (earlier wins); none
 *                  means a gap, and we binary-search the transition instant,
 *                  which is the first instant after the gap.
 *
 * The footer is a POSIX TZ string: std offset [dst [offset] [,start[/time],
 * end[/time]]], names plain or <quoted>, offsets west-positive (we negate),
 * rule dates Jn (1..365, no Feb 29), n (0..365) or Mm.w.d, times that may
 * be negative or exceed 24h (RFC 8536 v3: -167..167 h).
 *
 * Cache: a process-wide singly linked list under a mutex; zones are never
 * freed (there are a few hundred at most). Names are validated first
 * (rd_tz_name_valid), so a name can never escape $TZDIR.
 *
 * rd_tz_for_number() is at the end, over the generated tables in
 * tz_numbers.h.
 */
#include "proto/tz.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/clock.h"
#include "proto/rd.h"

#define TZ_FILE_MAX (1 << 20)
#define MAX_OFFSET (26 * 3600)

typedef struct posix_date {
    char kind;    /* 'J' (1..365 no leap day), 'N' (0..365), 'M' (month.week.day) */
    int a, b, c;  /* J/N: a = day; M: a = month, b = week (5 = last), c = weekday */
    int32_t time; /* seconds after local midnight, may be < 0 or > 86400 */
} posix_date_t;

typedef struct posix_rule {
    bool valid;
    bool has_dst;
    int32_t std_off, dst_off; /* east-positive (negated POSIX) */
    posix_date_t start, end;
} posix_rule_t;

struct rd_tz {
    struct rd_tz *next; /* cache list */
    char name[65];
    int64_t *trans; /* UTC seconds, strictly increasing */
    uint8_t *trans_type;
    size_t n_trans;
    int32_t *type_off;
    size_t n_types;
    posix_rule_t rule;
};

/* ---- calendar ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
    return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

static bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int rd_days_in_month(int year, int month) {
    static const int dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return dm[month - 1] + (month == 2 && is_leap(year));
}

/* ---- POSIX TZ footer ------------------------------------------------------ */

static const char *skip_name(const char *p) {
    if (*p == '<') {
        const char *q = strchr(p, '>');
        return q && q - p >= 4 ? q + 1 : NULL;
    }
    const char *q = p;
    while ((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z')) q++;
    return q - p >= 3 ? q : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; *out in seconds (sign as written). */
static const char *parse_hms(const char *p, int max_h, int32_t *out) {
    int sign = 1;
    if (*p == '+' || *p == '-') sign = *p++ == '-' ? -1 : 1;
    int32_t parts[3] = {0, 0, 0};
    for (int i = 0; i < 3; i++) {
        if (i > 0) {
            if (*p != ':') break;
            p++;
        }
        if (*p < '0' || *p > '9') return NULL;
        int v = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3) v = v * 10 + (*p++ - '0'), digits++;
        if ((i == 0 && v > max_h) || (i > 0 && v > 59)) return NULL;
        parts[i] = v;
    }
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return p;
}

static const char *parse_int(const char *p, int lo, int hi, int *out) {
    if (*p < '0' || *p > '9') return NULL;
    int v = 0;
    while (*p >= '0' && *p <= '9' && v <= hi) v = v * 10 + (*p++ - '0');
    if (v < lo || v > hi) return NULL;
    *out = v;
    return p;
}

static const char *parse_date(const char *p, posix_date_t *d) {
    d->time = 7200; /* default 02:00 */
    if (*p == 'M') {
        d->kind = 'M';
        if (!(p = parse_int(p + 1, 1, 12, &d->a)) || *p++ != '.' ||
            !(p = parse_int(p, 1, 5, &d->b)) || *p++ != '.' || !(p = parse_int(p, 0, 6, &d->c)))
            return NULL;
    } else if (*p == 'J') {
        d->kind = 'J';
        if (!(p = parse_int(p + 1, 1, 365, &d->a))) return NULL;
    } else {
        d->kind = 'N';
        if (!(p = parse_int(p, 0, 365, &d->a))) return NULL;
    }
    if (*p == '/') p = parse_hms(p + 1, 167, &d->time);
    return p;
}

static bool parse_posix(const char *s, posix_rule_t *r) {
    memset(r, 0, sizeof *r);
    int32_t off;
    const char *p = skip_name(s);
    if (!p || !(p = parse_hms(p, 24, &off))) return false;
    r->std_off = -off;
    r->dst_off = r->std_off;
    if (*p) {
        if (!(p = skip_name(p))) return false;
        r->has_dst = true;
        r->dst_off = r->std_off + 3600;
        if (*p && *p != ',') {
            if (!(p = parse_hms(p, 24, &off))) return false;
            r->dst_off = -off;
        }
        if (*p == ',') {
            if (!(p = parse_date(p + 1, &r->start)) || *p++ != ',' || !(p = parse_date(p, &r->end)))
                return false;
        } else { /* POSIX leaves this implementation-defined; US rules, as glibc. */
            r->start = (posix_date_t){'M', 3, 2, 0, 7200};
            r->end = (posix_date_t){'M', 11, 1, 0, 7200};
        }
    }
    if (*p) return false;
    r->valid = true;
    return true;
}

/* Day (since epoch) a rule date falls on in year y. */
static int64_t rule_day(const posix_date_t *d, int64_t y) {
    int64_t jan1 = rd_days_from_civil(y, 1, 1);
    if (d->kind == 'J') return jan1 + d->a - 1 + (is_leap(y) && d->a >= 60);
    if (d->kind == 'N') return jan1 + d->a;
    int64_t first = rd_days_from_civil(y, d->a, 1);
    int wd_first = (int)((first + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
    int64_t day = first + (d->c - wd_first + 7) % 7 + 7 * (d->b - 1);
    while (day - first >= rd_days_in_month((int)y, d->a)) day -= 7;
    return day;
}

static int32_t rule_offset(const posix_rule_t *r, int64_t t) {
    if (!r->has_dst) return r->std_off;
    int y, m, d;
    rd_civil_from_days(floor_div(t + r->std_off, 86400), &y, &m, &d);
    /* Transition instants in UTC: start is read in standard time, end in DST. */
    int64_t start = rule_day(&r->start, y) * 86400 + r->start.time - r->std_off;
    int64_t end = rule_day(&r->end, y) * 86400 + r->end.time - r->dst_off;
    bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
    return dst ? r->dst_off : r->std_off;
}

/* ---- TZif ----------------------------------------------------------------- */

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64s(const uint8_t *p) { return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4)); }

typedef struct tzif_hdr {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_hdr_t;

static bool read_hdr(const uint8_t *p, size_t len, tzif_hdr_t *h) {
    if (len < 44 || memcmp(p, "TZif", 4) != 0) return false;
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    return h->typecnt >= 1 && h->typecnt <= 256 && h->timecnt <= 100000 && h->leapcnt <= 100000 &&
           h->charcnt <= 100000 && h->isutcnt <= 256 && h->isstdcnt <= 256;
}

/* Bytes of a data block with time size ts (4 or 8). */
static size_t block_len(const tzif_hdr_t *h, size_t ts) {
    return h->timecnt * ts + h->timecnt + h->typecnt * 6 + h->charcnt + h->leapcnt * (ts + 4) +
           h->isstdcnt + h->isutcnt;
}

static bool parse_tzif(const uint8_t *p, size_t len, rd_tz_t *z) {
    tzif_hdr_t h;
    size_t ts = 4;
    if (!read_hdr(p, len, &h)) return false;
    if (h.version >= '2') { /* skip the v1 block to the 64-bit one */
        size_t skip = 44 + block_len(&h, 4);
        if (skip > len) return false;
        p += skip;
        len -= skip;
        if (!read_hdr(p, len, &h)) return false;
        ts = 8;
    }
    size_t blen = block_len(&h, ts);
    if (44 + blen > len) return false;
    const uint8_t *d = p + 44, *idx = d + h.timecnt * ts, *types = idx + h.timecnt;
    z->n_trans = h.timecnt;
    z->n_types = h.typecnt;
    z->trans = rd_calloc(RD_MAX(h.timecnt, 1), sizeof *z->trans);
    z->trans_type = rd_calloc(RD_MAX(h.timecnt, 1), 1);
    z->type_off = rd_calloc(h.typecnt, sizeof *z->type_off);
    for (size_t i = 0; i < h.typecnt; i++) {
        int32_t off = (int32_t)be32(types + 6 * i);
        if (off < -MAX_OFFSET || off > MAX_OFFSET) return false;
        z->type_off[i] = off;
    }
    for (size_t i = 0; i < h.timecnt; i++) {
        z->trans[i] = ts == 8 ? be64s(d + 8 * i) : (int32_t)be32(d + 4 * i);
        z->trans_type[i] = idx[i];
        if (idx[i] >= h.typecnt || (i > 0 && z->trans[i] <= z->trans[i - 1])) return false;
    }
    if (ts == 8) { /* footer: "\n<TZ string>\n" */
        const uint8_t *f = p + 44 + blen, *end = p + len;
        if (f < end && *f == '\n') {
            const uint8_t *nl = memchr(f + 1, '\n', (size_t)(end - f - 1));
            if (nl && nl - f - 1 > 0 && nl - f - 1 < 128) {
                char buf[128];
                memcpy(buf, f + 1, (size_t)(nl - f - 1));
                buf[nl - f - 1] = '\0';
                if (!parse_posix(buf, &z->rule)) return false;
            }
        }
    }
    return true;
}

static void tz_free(rd_tz_t *z) {
    if (!z) return;
    rd_free(z->trans);
    rd_free(z->trans_type);
    rd_free(z->type_off);
    rd_free(z);
}

/*
 * Loads a zone. 0 and *out, RD_ENOTFOUND when the system has no such zone
 * (no file, or a file that is not TZif), or RD_ETRANSIENT when the file
 * could not be read for a reason that says nothing about the name (out of
 * descriptors or memory, I/O error, permissions): the caller retries later
 * and must not treat the name as bad.
 */
static int tz_load(const char *name, rd_tz_t **out) {
    const char *dir = getenv("TZDIR");
    char path[1024];
    if (rd_fmt(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name))
        return RD_ENOTFOUND;
    int rc = 0;
    uint8_t *buf = NULL;
    size_t n = 0;
    rd_tz_t *z = rd_try_malloc(sizeof *z);
    if (!z) return RD_ETRANSIENT;
    memset(z, 0, sizeof *z);
    snprintf(z->name, sizeof z->name, "%s", name);
    struct stat sb;
    FILE *f = fopen(path, "rb");
    if (!f) {
        rc = errno == ENOENT || errno == ENOTDIR || errno == ENAMETOOLONG || errno == EISDIR ||
                     errno == ELOOP
                 ? RD_ENOTFOUND
                 : RD_ETRANSIENT;
    } else if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        /* "Asia" is a directory: fopen succeeds and the read fails, but the name is no zone
         * (found by fuzz_job/fuzz_campaign). */
        rc = RD_ENOTFOUND;
        fclose(f);
    } else {
        buf = rd_try_malloc(TZ_FILE_MAX);
        if (buf) n = fread(buf, 1, TZ_FILE_MAX, f);
        if (!buf || ferror(f)) rc = RD_ETRANSIENT;
        fclose(f);
        if (rc == 0 && (n >= TZ_FILE_MAX || !parse_tzif(buf, n, z))) rc = RD_ENOTFOUND;
    }
    rd_free(buf);
    /* "UTC" always works, even without tzdata or descriptors (callers fall back on it). */
    if (rc != 0 && strcmp(name, "UTC") == 0) {
        tz_free(z);
        z = rd_calloc(1, sizeof *z);
        snprintf(z->name, sizeof z->name, "UTC");
        z->type_off = rd_calloc(1, sizeof *z->type_off);
        z->n_types = 1;
        rc = 0;
    }
    if (rc != 0) {
        tz_free(z);
        return rc;
    }
    *out = z;
    return 0;
}

/* ---- public --------------------------------------------------------------- */

bool rd_tz_name_valid(const char *name) {
    size_t len = strlen(name);
    if (len == 0 || len > 64 || name[0] == '/') return false;
    const char *comp = name;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];
        if (ch == '/' || ch == '\0') {
            size_t n = (size_t)(name + i - comp);
            if (n == 0 || (n == 1 && comp[0] == '.') ||
                (n == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            comp = name + i + 1;
            continue;
        }
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '-' || ch == '+' || ch == '.'))
            return false;
    }
    return true;
}

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static rd_tz_t *cache_head; /* guarded by cache_lock; entries immutable once linked */

int rd_tz_lookup(const char *name, const rd_tz_t **out) {
    *out = NULL;
    if (!name || !rd_tz_name_valid(name)) return RD_ENOTFOUND;
    int rc = 0;
    pthread_mutex_lock(&cache_lock);
    rd_tz_t *z = cache_head;
    while (z && strcmp(z->name, name) != 0) z = z->next;
    /* Only successes are cached: a transient failure must be retried. */
    if (!z && (rc = tz_load(name, &z)) == 0) {
        z->next = cache_head;
        cache_head = z;
    }
    pthread_mutex_unlock(&cache_lock);
    *out = z;
    return rc;
}

const rd_tz_t *rd_tz_get(const char *name) {
    const rd_tz_t *z;
    return rd_tz_lookup(name, &z) == 0 ? z : NULL;
}

const char *rd_tz_name(const rd_tz_t *tz) { return tz->name; }

/* UTC offset (seconds, east-positive) in force at UTC second t. */
static int32_t offset_at(const rd_tz_t *z, int64_t t) {
    if (z->n_trans == 0 || t < z->trans[0]) {
        if (z->n_trans == 0 && z->rule.valid) return rule_offset(&z->rule, t);
        return z->type_off[0];
    }
    if (t >= z->trans[z->n_trans - 1] && z->rule.valid) return rule_offset(&z->rule, t);
    size_t lo = 0, hi = z->n_trans; /* last transition <= t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->type_off[z->trans_type[lo]];
}

void rd_tz_local(const rd_tz_t *tz, int64_t utc_ms, rd_localtime_t *out) {
    int64_t t = floor_div(utc_ms, 1000);
    int32_t off = offset_at(tz, t);
    int64_t local = t + off, days = floor_div(local, 86400), sod = local - days * 86400;
    rd_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(sod / 3600);
    out->minute = (int)(sod / 60 % 60);
    out->second = (int)(sod % 60);
    out->wday = (int)(((days + 4) % 7 + 7) % 7);
    out->utc_offset_s = off;
}

int64_t rd_tz_from_local(const rd_tz_t *tz, int year, int month, int day, int hour, int minute) {
    int64_t local = rd_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60;
    int32_t before = offset_at(tz, local - 86400 - MAX_OFFSET);
    int32_t after = offset_at(tz, local + 86400 + MAX_OFFSET);
    int64_t tb = local - before, ta = local - after;
    bool vb = offset_at(tz, tb) == before, va = offset_at(tz, ta) == after;
    if (vb && va) return RD_MIN(tb, ta) * 1000;
    if (vb) return tb * 1000;
    if (va) return ta * 1000;
    /* Gap: the first instant whose offset is no longer `before`. */
    int64_t lo = RD_MIN(tb, ta), hi = RD_MAX(tb, ta);
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (offset_at(tz, mid) == before)
            lo = mid;
        else
            hi = mid;
    }
    return hi * 1000;
}

/* ---- number -> zone ------------------------------------------------------- */

#include "proto/tz_numbers.h"

static int prefix_cmp(const void *key, const void *elem) {
    return strcmp(key, ((const struct tz_prefix *)elem)->prefix);
}

const char *rd_tz_for_number(const char *e164) {
    if (!e164 || e164[0] != '+') return NULL;
    char digits[5];
    size_t n = 0;
    while (n < 4 && e164[1 + n] >= '0' && e164[1 + n] <= '9') digits[n] = e164[1 + n], n++;
    for (; n > 0; n--) { /* longest prefix first: "1212" before "1"; "76" before "7" */
        digits[n] = '\0';
        const struct tz_prefix *p = bsearch(digits, tz_prefixes, RD_ARRAY_LEN(tz_prefixes),
                                            sizeof tz_prefixes[0], prefix_cmp);
        if (p) return p->zone;
    }
    return NULL;
}
