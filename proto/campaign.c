/*
 * campaign.c — the campaign body of SPEC section 3: parse with jansson,
 * validate every field, apply every default, write the normalised form.
 *
 * Design. Parsing is one pass over a jansson tree. Each JSON object is first
 * checked against its list of allowed keys (a typo is refused, never turned
 * into a default), then each field is read by a small typed getter
 * (get_int, get_str, ...) that leaves the default in place when the key is
 * absent and fails with "<path>: <reason>" when it is present but wrong. The
 * `path` is the dotted JSON path ("retry.times[1]"), so every message names
 * the field exactly. Cross-field rules (max_attempts vs max_retries and the
 * purpose default, the increasing forms, daily_start < daily_end, flow mode
 * needs call_flow_id) run after the fields.
 *
 * rd_campaign_to_json() writes every effective value, in the same key names,
 * so parse(to_json(c)) is equal to c (numbers aside): that round trip is the
 * property the fuzz target checks, and it is why engines with different
 * defaults can never disagree about a stored campaign.
 *
 * Invariants after a successful parse: every int is inside its documented
 * range, times_min is sorted and unique, daily_start_min < daily_end_min,
 * n_intervals == 0 exactly in the multiplier form, timezone names a zone
 * that loads.
 */
#include "proto/campaign.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/job.h"
#include "proto/rd.h"
#include "proto/text.h"
#include "proto/tz.h"

#define MAX_NUMBERS 1000000
#define MAX_PER_DAY_HI 100
#define MAX_PER_7_DAYS_HI 700

typedef struct pctx {
    char *err;
    size_t errlen;
} pctx_t;

static const char *const purpose_names[] = {
    "none",  "payment_reminder",     "delivery_confirmation",
    "sales", "appointment_reminder", "emergency",
};
static const int purpose_attempts[] = {0, 4, 3, 3, 2, 6};
static const char *const strategy_names[] = {"fixed", "increasing", "time_of_day", "smart"};
static const char *const mode_names[] = {"flow", "agent"};
static const char *const amd_names[] = {"off", "enable", "detect_message_end"};

const char *rd_amd_name(rd_amd_t a) { return (unsigned)a < 3 ? amd_names[a] : "?"; }
static const char *const day_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
static const char *const day_full[] = {"sunday",   "monday", "tuesday", "wednesday",
                                       "thursday", "friday", "saturday"};

const char *rd_purpose_name(rd_purpose_t p) {
    return (unsigned)p < RD_ARRAY_LEN(purpose_names) ? purpose_names[p] : "?";
}

int rd_purpose_default_attempts(rd_purpose_t p) {
    return (unsigned)p < RD_ARRAY_LEN(purpose_attempts) ? purpose_attempts[p] : 0;
}

void rd_campaign_init(rd_campaign_t *c) {
    memset(c, 0, sizeof *c);
    c->max_attempts = 3;
    c->retry_on = (1u << RD_OUT_BUSY) | (1u << RD_OUT_NO_ANSWER) | (1u << RD_OUT_FAILED);
    c->strategy = RD_STRAT_FIXED;
    c->interval_minutes = 60;
    c->intervals_minutes[0] = 30;
    c->intervals_minutes[1] = 60;
    c->intervals_minutes[2] = 120;
    c->n_intervals = 3;
    c->multiplier = 2.0;
    c->max_interval_minutes = 1440;
    c->times_min[0] = 10 * 60;
    c->times_min[1] = 14 * 60;
    c->times_min[2] = 17 * 60;
    c->n_times = 3;
    c->min_gap_minutes = 30;
    c->horizon_hours = 48;
    c->min_samples = 200;
    c->failed_max_retries = 1;
    c->failed_retry_seconds = 60;
    c->machine_as = RD_OUT_NO_ANSWER;
    c->daily_start_min = 9 * 60;
    c->daily_end_min = 21 * 60;
    c->days_mask = 0x7f;
    c->jitter_seconds = 120;
    c->concurrency = 10;
    rd_campaign_defaults_t d;
    rd_campaign_defaults_init(&d);
    c->max_per_day = d.max_per_day;
    c->max_per_7_days = d.max_per_7_days;
    c->purpose = RD_PURPOSE_NONE;
    c->mode = RD_MODE_FLOW;
    c->ring_timeout_seconds = 30;
    c->time_limit_seconds = 600;
    c->callback_grace_seconds = 60;
}

void rd_campaign_deinit(rd_campaign_t *c) {
    rd_free(c->name);
    rd_free(c->caller_id);
    rd_free(c->call_flow_id);
    for (size_t i = 0; i < c->n_numbers; i++) rd_free(c->numbers[i]);
    rd_free(c->numbers);
    rd_free(c->timezone);
    rd_free(c->agent_pool);
    rd_free(c->sms_body);
    rd_free(c->sms_dlt_entity_id);
    rd_free(c->sms_dlt_template_id);
    rd_free(c->provider);
    rd_campaign_init(c);
}

/* ---- error reporting ---------------------------------------------------- */

static int fail(pctx_t *p, const char *path, const char *key, const char *fmt, ...) RD_PRINTF(4, 5);
static int fail(pctx_t *p, const char *path, const char *key, const char *fmt, ...) {
    char reason[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    snprintf(p->err, p->errlen, "%s%s%s: %s", path, *path && *key ? "." : "", key, reason);
    return RD_EINVAL;
}

/* ---- typed getters: absent keeps the default; 0 ok, RD_EINVAL with err ---- */

static int get_int(pctx_t *p, json_t *obj, const char *path, const char *key, int lo, int hi,
                   int *out, bool *given) {
    json_t *v = json_object_get(obj, key);
    if (given) *given = v != NULL;
    if (!v) return 0;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return fail(p, path, key, "must be an integer in %d..%d", lo, hi);
    *out = (int)json_integer_value(v);
    return 0;
}

static int get_bool(pctx_t *p, json_t *obj, const char *path, const char *key, bool *out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_boolean(v)) return fail(p, path, key, "must be true or false");
    *out = json_is_true(v);
    return 0;
}

/* Printable ASCII or UTF-8 text without control characters, 1..max bytes. */
static bool text_ok(const char *s, size_t len, size_t max) {
    if (len == 0 || len > max) return false;
    for (size_t i = 0; i < len; i++)
        if (rd_text_is_control((unsigned char)s[i])) return false;
    return true;
}

static bool ident_ok(const char *s, size_t len, size_t max) {
    if (len == 0 || len > max) return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
            return false;
    return true;
}

bool rd_campaign_name_valid(const char *s, size_t len) {
    if (!ident_ok(s, len, RD_CAMPAIGN_NAME_MAX)) return false;
    return !(len == 1 && s[0] == '.') && !(len == 2 && s[0] == '.' && s[1] == '.');
}

/* Refuses any key of obj not in allowed (NULL-terminated). */
static int check_keys(pctx_t *p, json_t *obj, const char *path, const char *const *allowed) {
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++) ok |= strcmp(key, *a) == 0;
        if (!ok) {
            char q[48];
            rd_text_quoted(q, sizeof q, key, strlen(key));
            return fail(p, path, ident_ok(key, strlen(key), 40) ? key : q, "unknown key");
        }
    }
    return 0;
}

/* A string key: *out replaced by an owned copy. ident: [A-Za-z0-9_.-] only. */
static int get_str(pctx_t *p, json_t *obj, const char *path, const char *key, size_t max,
                   bool ident, char **out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    if (!json_is_string(v)) return fail(p, path, key, "must be a string");
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (ident ? !ident_ok(s, len, max) : !text_ok(s, len, max))
        return fail(p, path, key,
                    ident ? "must be 1..%zu characters of [A-Za-z0-9_.-]"
                          : "must be 1..%zu bytes without control characters",
                    max);
    rd_free(*out);
    *out = rd_strndup(s, len);
    return 0;
}

/* A string that must be one of names[0..n): *out = its index. */
static int get_enum(pctx_t *p, json_t *obj, const char *path, const char *key,
                    const char *const *names, int n, int *out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    for (int i = 0; json_is_string(v) && i < n; i++) {
        if (strcmp(json_string_value(v), names[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    char list[200] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return fail(p, path, key, "must be one of %s", list);
}

/* An object member (absent: *out = NULL). */
static int get_obj(pctx_t *p, json_t *obj, const char *path, const char *key, json_t **out) {
    *out = json_object_get(obj, key);
    if (*out && !json_is_object(*out)) return fail(p, path, key, "must be an object");
    return 0;
}

/* An array member with n in 1..max elements (absent: *out = NULL). */
static int get_arr(pctx_t *p, json_t *obj, const char *path, const char *key, size_t min,
                   size_t max, json_t **out) {
    *out = json_object_get(obj, key);
    if (!*out) return 0;
    if (!json_is_array(*out) || json_array_size(*out) < min || json_array_size(*out) > max)
        return fail(p, path, key, "must be an array of %zu..%zu elements", min, max);
    return 0;
}

/* "HH:MM" -> minutes after midnight; allow_24 admits "24:00" (a window end). */
static int parse_hhmm(const char *s, bool allow_24) {
    if (strlen(s) != 5 || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        s[2] != ':' || !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
    if (m > 59 || h > 24 || (h == 24 && (!allow_24 || m != 0))) return -1;
    return h * 60 + m;
}

static int get_hhmm(pctx_t *p, json_t *obj, const char *path, const char *key, bool allow_24,
                    int *out) {
    json_t *v = json_object_get(obj, key);
    if (!v) return 0;
    int m = json_is_string(v) ? parse_hhmm(json_string_value(v), allow_24) : -1;
    if (m < 0)
        return fail(p, path, key, "must be a time \"HH:MM\" (00:00..%s)",
                    allow_24 ? "24:00" : "23:59");
    *out = m;
    return 0;
}

static int cmp_int(const void *a, const void *b) {
    return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b);
}

/* ---- sections ------------------------------------------------------------ */

static int parse_retry(pctx_t *p, json_t *r, rd_campaign_t *c) {
    static const char *const keys[] = {"max_attempts",
                                       "max_retries",
                                       "interval_minutes",
                                       "retry_on",
                                       "strategy",
                                       "intervals_minutes",
                                       "multiplier",
                                       "max_interval_minutes",
                                       "times",
                                       "min_gap_minutes",
                                       "horizon_hours",
                                       "min_samples",
                                       "failed_max_retries",
                                       "failed_retry_seconds",
                                       "machine_as",
                                       "machine_detection",
                                       NULL};
    const char *P = "retry";
    int rc, max_retries = 0, strat = c->strategy, amd = (int)c->machine_detection;
    bool has_att = false, has_ret = false, has_iv = false, has_mul = false;
    json_t *a;
    if ((rc = check_keys(p, r, P, keys)) ||
        (rc = get_int(p, r, P, "max_attempts", 1, 20, &c->max_attempts, &has_att)) ||
        (rc = get_int(p, r, P, "max_retries", 0, 19, &max_retries, &has_ret)) ||
        (rc = get_int(p, r, P, "interval_minutes", 1, 10080, &c->interval_minutes, NULL)) ||
        (rc = get_enum(p, r, P, "strategy", strategy_names, 4, &strat)) ||
        (rc = get_enum(p, r, P, "machine_detection", amd_names, 3, &amd)) ||
        (rc = get_int(p, r, P, "max_interval_minutes", 1, 10080, &c->max_interval_minutes, NULL)) ||
        (rc = get_int(p, r, P, "min_gap_minutes", 0, 1440, &c->min_gap_minutes, NULL)) ||
        (rc = get_int(p, r, P, "horizon_hours", 1, 336, &c->horizon_hours, NULL)) ||
        (rc = get_int(p, r, P, "min_samples", 0, 100000000, &c->min_samples, NULL)) ||
        (rc = get_int(p, r, P, "failed_max_retries", 0, 10, &c->failed_max_retries, NULL)) ||
        (rc = get_int(p, r, P, "failed_retry_seconds", 0, 86400, &c->failed_retry_seconds, NULL)))
        return rc;
    c->strategy = (rd_strategy_t)strat;
    if (has_ret && has_att && max_retries + 1 != c->max_attempts)
        return fail(p, P, "max_retries",
                    "%d retries contradicts max_attempts %d (give one, or max_attempts = "
                    "max_retries + 1)",
                    max_retries, c->max_attempts);
    if (has_ret) c->max_attempts = max_retries + 1;

    if ((rc = get_arr(p, r, P, "retry_on", 0, 3, &a))) return rc;
    if (a) {
        c->retry_on = 0;
        for (size_t i = 0; i < json_array_size(a); i++) {
            json_t *v = json_array_get(a, i);
            rd_outcome_t o;
            char key[32];
            snprintf(key, sizeof key, "retry_on[%zu]", i);
            if (!json_is_string(v) || rd_outcome_parse(json_string_value(v), &o) != 0 ||
                (o != RD_OUT_BUSY && o != RD_OUT_NO_ANSWER && o != RD_OUT_FAILED))
                return fail(p, P, key, "must be one of busy, no-answer, failed");
            if (c->retry_on & (1u << o)) return fail(p, P, key, "duplicate outcome");
            c->retry_on |= 1u << o;
        }
    }

    if ((rc = get_arr(p, r, P, "intervals_minutes", 1, RD_CAMPAIGN_MAX_INTERVALS, &a))) return rc;
    has_iv = a != NULL;
    for (size_t i = 0; a && i < json_array_size(a); i++) {
        char key[40];
        snprintf(key, sizeof key, "intervals_minutes[%zu]", i);
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 10080)
            return fail(p, P, key, "must be an integer in 1..10080");
        c->intervals_minutes[i] = (int)json_integer_value(v);
        c->n_intervals = (int)i + 1;
    }
    json_t *mv = json_object_get(r, "multiplier");
    if (mv) {
        has_mul = true;
        if (!json_is_number(mv) || !(json_number_value(mv) >= 1.0) ||
            !(json_number_value(mv) <= 10.0))
            return fail(p, P, "multiplier", "must be a number in 1..10");
        c->multiplier = json_number_value(mv);
    }
    if (has_iv && has_mul)
        return fail(p, P, "multiplier",
                    "give intervals_minutes (list form) or multiplier, not both");
    if (has_mul) {
        memset(c->intervals_minutes, 0, sizeof c->intervals_minutes);
        c->n_intervals = 0;
    }

    if ((rc = get_arr(p, r, P, "times", 1, RD_CAMPAIGN_MAX_TIMES, &a))) return rc;
    for (size_t i = 0; a && i < json_array_size(a); i++) {
        char key[32];
        snprintf(key, sizeof key, "times[%zu]", i);
        json_t *v = json_array_get(a, i);
        int m = json_is_string(v) ? parse_hhmm(json_string_value(v), false) : -1;
        if (m < 0) return fail(p, P, key, "must be a time \"HH:MM\" (00:00..23:59)");
        c->times_min[i] = m;
        c->n_times = (int)i + 1;
    }
    qsort(c->times_min, (size_t)c->n_times, sizeof c->times_min[0], cmp_int);
    for (int i = 1; i < c->n_times; i++)
        if (c->times_min[i] == c->times_min[i - 1])
            return fail(p, P, "times", "lists %02d:%02d twice", c->times_min[i] / 60,
                        c->times_min[i] % 60);

    json_t *ma = json_object_get(r, "machine_as");
    if (ma) {
        rd_outcome_t o;
        if (!json_is_string(ma) || rd_outcome_parse(json_string_value(ma), &o) != 0 ||
            (o != RD_OUT_COMPLETED && o != RD_OUT_NO_ANSWER && o != RD_OUT_BUSY))
            return fail(p, P, "machine_as", "must be one of completed, no-answer, busy");
        c->machine_as = o;
    }
    c->machine_detection = (rd_amd_t)amd;
    return 0;
}

static int parse_schedule(pctx_t *p, json_t *s, rd_campaign_t *c) {
    static const char *const keys[] = {
        "daily_start", "daily_end",      "timezone", "callee_local_time",
        "days",        "jitter_seconds", NULL};
    const char *P = "schedule";
    int rc;
    json_t *a;
    if ((rc = check_keys(p, s, P, keys)) ||
        (rc = get_hhmm(p, s, P, "daily_start", false, &c->daily_start_min)) ||
        (rc = get_hhmm(p, s, P, "daily_end", true, &c->daily_end_min)) ||
        (rc = get_str(p, s, P, "timezone", RD_TZ_NAME_MAX, false, &c->timezone)) ||
        (rc = get_bool(p, s, P, "callee_local_time", &c->callee_local_time)) ||
        (rc = get_int(p, s, P, "jitter_seconds", 0, 3600, &c->jitter_seconds, NULL)) ||
        (rc = get_arr(p, s, P, "days", 1, 7, &a)))
        return rc;
    if (c->daily_start_min >= c->daily_end_min)
        return fail(p, P, "daily_end",
                    "must be later than daily_start (windows do not wrap "
                    "past midnight)");
    const rd_tz_t *z;
    int zr = c->timezone ? rd_tz_lookup(c->timezone, &z) : 0;
    if (zr == RD_ETRANSIENT) { /* not a verdict on the campaign: retry later */
        fail(p, P, "timezone", "zone file of '%s' unreadable now", c->timezone);
        return RD_ETRANSIENT;
    }
    if (zr != 0)
        return fail(p, P, "timezone", "'%s' is not an IANA time zone of this system", c->timezone);
    if (a) {
        c->days_mask = 0;
        for (size_t i = 0; i < json_array_size(a); i++) {
            json_t *v = json_array_get(a, i);
            int d = -1;
            for (int k = 0; json_is_string(v) && k < 7; k++)
                if (strcasecmp(json_string_value(v), day_names[k]) == 0 ||
                    strcasecmp(json_string_value(v), day_full[k]) == 0)
                    d = k;
            char key[32];
            snprintf(key, sizeof key, "days[%zu]", i);
            if (d < 0) return fail(p, P, key, "must be a weekday (mon..sun)");
            if (c->days_mask & (1u << d)) return fail(p, P, key, "duplicate weekday");
            c->days_mask |= (uint8_t)(1u << d);
        }
    }
    return 0;
}

static int parse_limits(pctx_t *p, json_t *l, rd_campaign_t *c) {
    static const char *const keys[] = {"concurrency",
                                       "agent_pool",
                                       "max_attempts_per_number_per_day",
                                       "max_attempts_per_number_per_7_days",
                                       "calls_per_minute",
                                       NULL};
    const char *P = "limits";
    int rc;
    if ((rc = check_keys(p, l, P, keys)) ||
        (rc = get_int(p, l, P, "concurrency", 1, 100000, &c->concurrency, NULL)) ||
        (rc = get_str(p, l, P, "agent_pool", 64, true, &c->agent_pool)) ||
        (rc = get_int(p, l, P, "max_attempts_per_number_per_day", 1, MAX_PER_DAY_HI,
                      &c->max_per_day, NULL)) ||
        (rc = get_int(p, l, P, "max_attempts_per_number_per_7_days", 1, MAX_PER_7_DAYS_HI,
                      &c->max_per_7_days, NULL)) ||
        (rc = get_int(p, l, P, "calls_per_minute", 0, 1000000, &c->calls_per_minute, NULL)))
        return rc;
    return 0;
}

static int parse_call(pctx_t *p, json_t *o, rd_campaign_t *c) {
    static const char *const keys[] = {"ring_timeout_seconds", "time_limit_seconds",
                                       "callback_grace_seconds", NULL};
    const char *P = "call";
    int rc;
    if ((rc = check_keys(p, o, P, keys)) ||
        (rc = get_int(p, o, P, "ring_timeout_seconds", 5, 300, &c->ring_timeout_seconds, NULL)) ||
        (rc = get_int(p, o, P, "time_limit_seconds", 10, 14400, &c->time_limit_seconds, NULL)) ||
        (rc =
             get_int(p, o, P, "callback_grace_seconds", 5, 3600, &c->callback_grace_seconds, NULL)))
        return rc;
    return 0;
}

static int parse_sms(pctx_t *p, json_t *o, rd_campaign_t *c) {
    static const char *const keys[] = {"after_attempts", "body", "dlt_entity_id", "dlt_template_id",
                                       NULL};
    const char *P = "sms_fallback";
    int rc;
    if ((rc = check_keys(p, o, P, keys)) ||
        (rc = get_int(p, o, P, "after_attempts", 1, 20, &c->sms_after_attempts, NULL)) ||
        (rc = get_str(p, o, P, "body", 640, false, &c->sms_body)) ||
        (rc = get_str(p, o, P, "dlt_entity_id", RD_DLT_ID_MAX, false, &c->sms_dlt_entity_id)) ||
        (rc = get_str(p, o, P, "dlt_template_id", RD_DLT_ID_MAX, false, &c->sms_dlt_template_id)))
        return rc;
    if (!c->sms_after_attempts) return fail(p, P, "after_attempts", "is required");
    if (!c->sms_body) return fail(p, P, "body", "is required");
    if (c->sms_after_attempts > c->max_attempts)
        return fail(p, P, "after_attempts", "must be at most retry.max_attempts (%d)",
                    c->max_attempts);
    return 0;
}

static int parse_numbers(pctx_t *p, json_t *a, rd_campaign_t *c) {
    c->numbers = rd_calloc(json_array_size(a), sizeof *c->numbers);
    for (size_t i = 0; i < json_array_size(a); i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_string(v) || !text_ok(json_string_value(v), json_string_length(v), 32)) {
            char key[40];
            snprintf(key, sizeof key, "numbers[%zu]", i);
            return fail(p, "", key, "must be a phone number string of 1..32 bytes");
        }
        c->numbers[c->n_numbers++] = rd_strndup(json_string_value(v), json_string_length(v));
    }
    return 0;
}

static int parse_root(pctx_t *p, json_t *root, rd_campaign_t *c) {
    static const char *const keys[] = {
        "name", "caller_id", "call_flow_id", "numbers",      "retry",    "schedule", "limits",
        "call", "purpose",   "mode",         "sms_fallback", "provider", NULL};
    int rc, purpose = 0, mode = 0;
    json_t *retry, *sched, *limits, *call, *sms, *nums;
    if (!json_is_object(root)) return fail(p, "", "body", "must be a JSON object");
    if ((rc = check_keys(p, root, "", keys)) ||
        (rc = get_str(p, root, "", "name", RD_CAMPAIGN_NAME_MAX, true, &c->name)) ||
        (rc = get_str(p, root, "", "caller_id", 64, false, &c->caller_id)) ||
        (rc = get_str(p, root, "", "call_flow_id", 256, false, &c->call_flow_id)) ||
        (rc = get_enum(p, root, "", "purpose", purpose_names, 6, &purpose)) ||
        (rc = get_enum(p, root, "", "mode", mode_names, 2, &mode)) ||
        (rc = get_str(p, root, "", "provider", 32, true, &c->provider)) ||
        (rc = get_arr(p, root, "", "numbers", 0, MAX_NUMBERS, &nums)) ||
        (rc = get_obj(p, root, "", "retry", &retry)) ||
        (rc = get_obj(p, root, "", "schedule", &sched)) ||
        (rc = get_obj(p, root, "", "limits", &limits)) ||
        (rc = get_obj(p, root, "", "call", &call)) ||
        (rc = get_obj(p, root, "", "sms_fallback", &sms)))
        return rc;
    c->purpose = (rd_purpose_t)purpose;
    c->mode = (rd_mode_t)mode;
    if (c->purpose != RD_PURPOSE_NONE) c->max_attempts = rd_purpose_default_attempts(c->purpose);
    if (!c->name) return fail(p, "", "name", "is required");
    if (!rd_campaign_name_valid(c->name, strlen(c->name)))
        return fail(p, "", "name", "\".\" and \"..\" are not campaign names");
    if (!c->caller_id) return fail(p, "", "caller_id", "is required");
    if (c->mode == RD_MODE_FLOW && !c->call_flow_id)
        return fail(p, "", "call_flow_id", "is required in flow mode");
    if ((retry && (rc = parse_retry(p, retry, c))) ||
        (sched && (rc = parse_schedule(p, sched, c))) ||
        (limits && (rc = parse_limits(p, limits, c))) || (call && (rc = parse_call(p, call, c))) ||
        (sms && (rc = parse_sms(p, sms, c))) || (nums && (rc = parse_numbers(p, nums, c))))
        return rc;
    if (c->mode == RD_MODE_AGENT && !c->agent_pool)
        return fail(p, "limits", "agent_pool", "is required in agent mode");
    if ((rc = rd_campaign_check_provider(c, c->provider, p->err, p->errlen)) != 0) return rc;
    if (!c->timezone) c->timezone = rd_strdup("Asia/Kolkata");
    return 0;
}

int rd_campaign_check_provider(const rd_campaign_t *c, const char *provider, char *err,
                               size_t errlen) {
    if (!provider || strcmp(provider, "exotel") != 0 || c->sms_after_attempts == 0) return 0;
    const char *missing = !c->sms_dlt_entity_id     ? "dlt_entity_id"
                          : !c->sms_dlt_template_id ? "dlt_template_id"
                                                    : NULL;
    if (!missing) return 0;
    if (err && errlen)
        snprintf(err, errlen, "sms_fallback.%s: is required for exotel SMS (India DLT)", missing);
    return RD_EINVAL;
}

void rd_campaign_defaults_init(rd_campaign_defaults_t *d) {
    d->max_per_day = RD_CAMPAIGN_MAX_PER_DAY_DEFAULT;
    d->max_per_7_days = RD_CAMPAIGN_MAX_PER_7_DAYS_DEFAULT;
}

int rd_campaign_defaults_check(const rd_campaign_defaults_t *d, char *err, size_t errlen) {
    if (d->max_per_day < 1 || d->max_per_day > MAX_PER_DAY_HI) {
        snprintf(err, errlen, "max_attempts_per_number_per_day: must be an integer in 1..%d",
                 MAX_PER_DAY_HI);
        return RD_EINVAL;
    }
    if (d->max_per_7_days < 1 || d->max_per_7_days > MAX_PER_7_DAYS_HI) {
        snprintf(err, errlen, "max_attempts_per_number_per_7_days: must be an integer in 1..%d",
                 MAX_PER_7_DAYS_HI);
        return RD_EINVAL;
    }
    return 0;
}

int rd_campaign_parse(const char *json, size_t len, rd_campaign_t *out, char *err, size_t errlen) {
    return rd_campaign_parse_with(json, len, NULL, out, err, errlen);
}

int rd_campaign_parse_with(const char *json, size_t len, const rd_campaign_defaults_t *d,
                           rd_campaign_t *out, char *err, size_t errlen) {
    pctx_t p = {err, errlen};
    json_error_t jerr;
    rd_campaign_init(out);
    if (errlen) err[0] = '\0';
    if (d) {
        if (rd_campaign_defaults_check(d, err, errlen)) return RD_EINVAL;
        out->max_per_day = d->max_per_day;
        out->max_per_7_days = d->max_per_7_days;
    }
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "body: not valid JSON (%s at line %d column %d)", jerr.text,
                 jerr.line, jerr.column);
        return RD_EPARSE;
    }
    int rc = parse_root(&p, root, out);
    json_decref(root);
    if (rc) rd_campaign_deinit(out);
    return rc;
}

/* ---- normalised output --------------------------------------------------- */

static json_t *hhmm_json(int m) {
    char b[8];
    snprintf(b, sizeof b, "%02d:%02d", (m / 60) % 100, m % 60);
    return json_string(b);
}

static void set_str(json_t *o, const char *k, const char *v) {
    if (v) json_object_set_new(o, k, json_string(v));
}

char *rd_campaign_to_json(const rd_campaign_t *c) {
    json_t *root = json_object(), *r = json_object(), *s = json_object(), *l = json_object(),
           *call = json_object(), *a;
    set_str(root, "name", c->name);
    set_str(root, "caller_id", c->caller_id);
    set_str(root, "call_flow_id", c->call_flow_id);
    set_str(root, "purpose", rd_purpose_name(c->purpose));
    set_str(root, "mode", mode_names[c->mode == RD_MODE_AGENT]);
    set_str(root, "provider", c->provider);

    json_object_set_new(r, "max_attempts", json_integer(c->max_attempts));
    a = json_array();
    for (rd_outcome_t o = RD_OUT_BUSY; o <= RD_OUT_FAILED; o++)
        if (c->retry_on & (1u << o)) json_array_append_new(a, json_string(rd_outcome_name(o)));
    json_object_set_new(r, "retry_on", a);
    set_str(r, "strategy", strategy_names[(unsigned)c->strategy < 4 ? c->strategy : 0]);
    json_object_set_new(r, "interval_minutes", json_integer(c->interval_minutes));
    if (c->n_intervals > 0) {
        a = json_array();
        for (int i = 0; i < c->n_intervals; i++)
            json_array_append_new(a, json_integer(c->intervals_minutes[i]));
        json_object_set_new(r, "intervals_minutes", a);
    } else {
        json_object_set_new(r, "multiplier", json_real(c->multiplier));
    }
    json_object_set_new(r, "max_interval_minutes", json_integer(c->max_interval_minutes));
    a = json_array();
    for (int i = 0; i < c->n_times; i++) json_array_append_new(a, hhmm_json(c->times_min[i]));
    json_object_set_new(r, "times", a);
    json_object_set_new(r, "min_gap_minutes", json_integer(c->min_gap_minutes));
    json_object_set_new(r, "horizon_hours", json_integer(c->horizon_hours));
    json_object_set_new(r, "min_samples", json_integer(c->min_samples));
    json_object_set_new(r, "failed_max_retries", json_integer(c->failed_max_retries));
    json_object_set_new(r, "failed_retry_seconds", json_integer(c->failed_retry_seconds));
    set_str(r, "machine_as", rd_outcome_name(c->machine_as));
    set_str(r, "machine_detection", amd_names[c->machine_detection]);
    json_object_set_new(root, "retry", r);

    json_object_set_new(s, "daily_start", hhmm_json(c->daily_start_min));
    json_object_set_new(s, "daily_end", hhmm_json(c->daily_end_min));
    set_str(s, "timezone", c->timezone);
    json_object_set_new(s, "callee_local_time", json_boolean(c->callee_local_time));
    a = json_array();
    for (int d = 0; d < 7; d++)
        if (c->days_mask & (1u << d)) json_array_append_new(a, json_string(day_names[d]));
    json_object_set_new(s, "days", a);
    json_object_set_new(s, "jitter_seconds", json_integer(c->jitter_seconds));
    json_object_set_new(root, "schedule", s);

    json_object_set_new(l, "concurrency", json_integer(c->concurrency));
    set_str(l, "agent_pool", c->agent_pool);
    json_object_set_new(l, "max_attempts_per_number_per_day", json_integer(c->max_per_day));
    json_object_set_new(l, "max_attempts_per_number_per_7_days", json_integer(c->max_per_7_days));
    json_object_set_new(l, "calls_per_minute", json_integer(c->calls_per_minute));
    json_object_set_new(root, "limits", l);

    json_object_set_new(call, "ring_timeout_seconds", json_integer(c->ring_timeout_seconds));
    json_object_set_new(call, "time_limit_seconds", json_integer(c->time_limit_seconds));
    json_object_set_new(call, "callback_grace_seconds", json_integer(c->callback_grace_seconds));
    json_object_set_new(root, "call", call);

    if (c->sms_after_attempts > 0) {
        json_t *sms = json_object();
        json_object_set_new(sms, "after_attempts", json_integer(c->sms_after_attempts));
        set_str(sms, "body", c->sms_body);
        set_str(sms, "dlt_entity_id", c->sms_dlt_entity_id);
        set_str(sms, "dlt_template_id", c->sms_dlt_template_id);
        json_object_set_new(root, "sms_fallback", sms);
    }
    char *dumped = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    json_decref(root);
    rd_assert(dumped != NULL);
    char *out = rd_strdup(dumped);
    free(dumped);
    return out;
}

static bool str_eq(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

bool rd_campaign_equal(const rd_campaign_t *a, const rd_campaign_t *b) {
#define EQ(f) (a->f == b->f)
#define EQA(f, n) (memcmp(a->f, b->f, sizeof a->f[0] * (size_t)(n)) == 0)
    return str_eq(a->name, b->name) && str_eq(a->caller_id, b->caller_id) &&
           str_eq(a->call_flow_id, b->call_flow_id) && EQ(max_attempts) && EQ(retry_on) &&
           EQ(strategy) && EQ(interval_minutes) && EQ(n_intervals) &&
           EQA(intervals_minutes, a->n_intervals) && EQ(multiplier) && EQ(max_interval_minutes) &&
           EQ(n_times) && EQA(times_min, a->n_times) && EQ(min_gap_minutes) && EQ(horizon_hours) &&
           EQ(min_samples) && EQ(failed_max_retries) && EQ(failed_retry_seconds) &&
           EQ(machine_as) && EQ(machine_detection) && EQ(daily_start_min) && EQ(daily_end_min) &&
           str_eq(a->timezone, b->timezone) && EQ(callee_local_time) && EQ(days_mask) &&
           EQ(jitter_seconds) && EQ(concurrency) && str_eq(a->agent_pool, b->agent_pool) &&
           EQ(max_per_day) && EQ(max_per_7_days) && EQ(calls_per_minute) && EQ(purpose) &&
           EQ(mode) && EQ(ring_timeout_seconds) && EQ(time_limit_seconds) &&
           EQ(callback_grace_seconds) && EQ(sms_after_attempts) &&
           str_eq(a->sms_body, b->sms_body) && str_eq(a->sms_dlt_entity_id, b->sms_dlt_entity_id) &&
           str_eq(a->sms_dlt_template_id, b->sms_dlt_template_id) &&
           str_eq(a->provider, b->provider);
#undef EQ
#undef EQA
}
