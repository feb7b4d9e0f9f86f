/*
 * callback.c — provider status parsing, attempt keys, Twilio signatures
 * (see callback.h for the vocabulary tables).
 *
 * Design: each wire format (form body, JSON object) is reduced to a
 * "field source" — a function that looks a field up by name and returns it
 * as text, whatever its JSON type (exotel sends numbers as strings or as
 * numbers, depending on the endpoint). One routine per provider then reads
 * the same named fields from either source, so the form and JSON variants
 * of a callback cannot drift apart.
 *
 * Invariants: a successful parse leaves call_id non-empty and made of
 * [A-Za-z0-9._-] (it becomes part of Redis keys and of the poll URL), the
 * attempt key empty or valid, status lower-case, outcome IN_PROGRESS when
 * not terminal. On failure *out is zeroed except `provider`.
 */
#include "proto/callback.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/clock.h"
#include "proto/form.h"
#include "proto/rd.h"

static const char *const prov_names[RD_PROV__COUNT] = {"exotel", "twilio"};

int rd_prov_parse(const char *name, size_t len, rd_prov_t *out) {
    for (int i = 0; i < RD_PROV__COUNT; i++) {
        if (strlen(prov_names[i]) == len && memcmp(prov_names[i], name, len) == 0) {
            *out = (rd_prov_t)i;
            return 0;
        }
    }
    return RD_EINVAL;
}

const char *rd_prov_name(rd_prov_t p) { return (unsigned)p < RD_PROV__COUNT ? prov_names[p] : "?"; }

/* ------------------------------------------------------------------ */
/* Status words                                                        */

typedef struct {
    const char *word;
    bool terminal;
    rd_outcome_t outcome;
} status_row_t;

static const status_row_t exotel_rows[] = {
    {"completed", true, RD_OUT_COMPLETED},  {"busy", true, RD_OUT_BUSY},
    {"no-answer", true, RD_OUT_NO_ANSWER},  {"failed", true, RD_OUT_FAILED},
    {"canceled", true, RD_OUT_CANCELED},    {"queued", false, RD_OUT_IN_PROGRESS},
    {"ringing", false, RD_OUT_IN_PROGRESS}, {"in-progress", false, RD_OUT_IN_PROGRESS},
};
static const status_row_t twilio_rows[] = {
    {"completed", true, RD_OUT_COMPLETED},      {"busy", true, RD_OUT_BUSY},
    {"no-answer", true, RD_OUT_NO_ANSWER},      {"failed", true, RD_OUT_FAILED},
    {"canceled", true, RD_OUT_CANCELED},        {"queued", false, RD_OUT_IN_PROGRESS},
    {"initiated", false, RD_OUT_IN_PROGRESS},   {"ringing", false, RD_OUT_IN_PROGRESS},
    {"in-progress", false, RD_OUT_IN_PROGRESS},
};

int rd_prov_status_map(rd_prov_t p, const char *status, bool *terminal, rd_outcome_t *outcome) {
    const status_row_t *rows = p == RD_PROV_TWILIO ? twilio_rows : exotel_rows;
    size_t n = p == RD_PROV_TWILIO ? RD_ARRAY_LEN(twilio_rows) : RD_ARRAY_LEN(exotel_rows);
    if ((unsigned)p >= RD_PROV__COUNT || !status) return RD_EPARSE;
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(rows[i].word, status) == 0) {
            *terminal = rows[i].terminal;
            *outcome = rows[i].outcome;
            return 0;
        }
    }
    return RD_EPARSE;
}

rd_answered_by_t rd_prov_answered_by_map(rd_prov_t p, const char *w) {
    if (!w) return RD_ANSWERED_UNKNOWN;
    if (strcasecmp(w, "human") == 0) return RD_ANSWERED_HUMAN;
    if (p == RD_PROV_EXOTEL) {
        return strcasecmp(w, "machine") == 0 ? RD_ANSWERED_MACHINE : RD_ANSWERED_UNKNOWN;
    }
    if (strncasecmp(w, "machine_", 8) == 0 || strcasecmp(w, "machine") == 0 ||
        strcasecmp(w, "fax") == 0)
        return RD_ANSWERED_MACHINE;
    return RD_ANSWERED_UNKNOWN;
}

/* Machine on any leg wins, then human (callback.h). */
static rd_answered_by_t merge_answered(rd_answered_by_t a, rd_answered_by_t b) {
    if (a == RD_ANSWERED_MACHINE || b == RD_ANSWERED_MACHINE) return RD_ANSWERED_MACHINE;
    if (a == RD_ANSWERED_HUMAN || b == RD_ANSWERED_HUMAN) return RD_ANSWERED_HUMAN;
    return RD_ANSWERED_UNKNOWN;
}

/* ------------------------------------------------------------------ */
/* Attempt keys and secrets                                            */

static bool name_char(unsigned char c) { return isalnum(c) || c == '_' || c == '.' || c == '-'; }

int rd_attempt_key_parse(const char *key, size_t len, char *campaign, size_t cap, uint64_t *token) {
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--) {
        if (key[i - 1] == ':') {
            colon = key + i - 1;
            break;
        }
    }
    if (!colon) return RD_EPARSE;
    size_t nlen = (size_t)(colon - key), tlen = len - nlen - 1;
    if (nlen < 1 || nlen > 64 || tlen < 1 || tlen > 20) return RD_EPARSE;
    for (size_t i = 0; i < nlen; i++)
        if (!name_char((unsigned char)key[i])) return RD_EPARSE;
    if (colon[1] == '0') return RD_EPARSE;
    uint64_t t = 0;
    for (size_t i = 0; i < tlen; i++) {
        unsigned char c = (unsigned char)colon[1 + i];
        if (c < '0' || c > '9') return RD_EPARSE;
        unsigned d = c - '0';
        if (t > (UINT64_MAX - d) / 10) return RD_EPARSE;
        t = t * 10 + d;
    }
    if (campaign) {
        if (cap <= nlen) return RD_EPARSE;
        memcpy(campaign, key, nlen);
        campaign[nlen] = '\0';
    }
    if (token) *token = t;
    return 0;
}

int rd_attempt_key_format(char *buf, size_t cap, const char *campaign, uint64_t token) {
    size_t n = strlen(campaign);
    if (n < 1 || n > 64) return RD_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (!name_char((unsigned char)campaign[i])) return RD_EINVAL;
    if (token == 0) return RD_EINVAL;
    return rd_fmt(buf, cap, "%s:%llu", campaign, (unsigned long long)token);
}

bool rd_secret_equal(const char *got, size_t got_len, const char *secret, size_t secret_len) {
    volatile unsigned char diff = (unsigned char)(got_len != secret_len);
    for (size_t i = 0; i < secret_len; i++) {
        unsigned char g = i < got_len ? (unsigned char)got[i] : 0;
        diff |= (unsigned char)(g ^ (unsigned char)secret[i]);
    }
    return diff == 0 && secret_len > 0;
}

/* ------------------------------------------------------------------ */
/* Time                                                                 */

/* Exotel "YYYY-MM-DD HH:MM:SS", India time unless an offset is written. */
static int exotel_time(const char *s, int64_t *out) {
    if (!s || !*s) return RD_EPARSE;
    int64_t t;
    if (rd_parse_iso8601(s, &t) != 0) return RD_EPARSE;
    bool has_zone = false;
    size_t n = strlen(s);
    for (size_t i = 11; i < n; i++)
        if (s[i] == 'Z' || s[i] == 'z' || s[i] == '+' || s[i] == '-') has_zone = true;
    *out = has_zone ? t : t - 19800000; /* +05:30 */
    return 0;
}

/* RFC 2822 "[Day, ]DD Mon YYYY HH:MM:SS +hhmm|GMT|UTC", or ISO-8601. */
static int rfc2822_time(const char *s, int64_t *out) {
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (!s || !*s) return RD_EPARSE;
    if (rd_parse_iso8601(s, out) == 0) return 0;
    const char *p = s;
    const char *comma = strchr(p, ',');
    if (comma) p = comma + 1;
    int d, y, hh, mm, ss, used = 0;
    char mon[4], zone[8];
    if (sscanf(p, " %2d %3s %4d %2d:%2d:%2d %7s%n", &d, mon, &y, &hh, &mm, &ss, zone, &used) != 7)
        return RD_EPARSE;
    if (p[used] != '\0') return RD_EPARSE;
    const char *mp = strlen(mon) == 3 ? strstr(months, mon) : NULL;
    if (!mp || (mp - months) % 3 != 0) return RD_EPARSE;
    int m = (int)((mp - months) / 3 + 1);
    if (d < 1 || d > 31 || y < 1970 || y > 9999 || hh > 23 || mm > 59 || ss > 60 || hh < 0 ||
        mm < 0 || ss < 0)
        return RD_EPARSE;
    int off_min;
    if (strcmp(zone, "GMT") == 0 || strcmp(zone, "UTC") == 0 || strcmp(zone, "Z") == 0) {
        off_min = 0;
    } else if ((zone[0] == '+' || zone[0] == '-') && strlen(zone) == 5 &&
               isdigit((unsigned char)zone[1]) && isdigit((unsigned char)zone[2]) &&
               isdigit((unsigned char)zone[3]) && isdigit((unsigned char)zone[4])) {
        off_min =
            ((zone[1] - '0') * 10 + (zone[2] - '0')) * 60 + (zone[3] - '0') * 10 + (zone[4] - '0');
        if (zone[0] == '-') off_min = -off_min;
    } else {
        return RD_EPARSE;
    }
    int64_t days = rd_days_from_civil(y, m, d);
    *out = ((days * 86400 + hh * 3600 + mm * 60 + ss) - (int64_t)off_min * 60) * 1000;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Field sources                                                        */

/* One member of a JSON object read by the fast path (see fj_* below). */
typedef struct fj_member {
    const char *key;
    size_t klen;
    char *val; /* string: NUL-terminated in the caller's copy; int: the token */
    size_t vlen;
    char type; /* 's' string, 'i' integer, 'o' anything else */
} fj_member_t;

#define FJ_MAX_MEMBERS 64
#define FJ_MAX_LEGS 16

typedef struct src {
    const rd_form_t *form; /* one of form / json / flat */
    json_t *json;
    const fj_member_t *flat;
    size_t n_flat;
    const char *legs[FJ_MAX_LEGS]; /* flat: Legs[i].AnsweredBy strings (NULL: not a string) */
    size_t n_legs;
    const char *leg0_status; /* flat: Legs[0].Status when a string, else NULL */
    char tmp[32];            /* text of a JSON number */
} src_t;

/* Flat source: the last member named key (JSON objects keep the last duplicate). */
static const char *flat_get(src_t *s, const char *key) {
    size_t kl = strlen(key);
    for (size_t i = s->n_flat; i > 0; i--) {
        const fj_member_t *m = &s->flat[i - 1];
        if (m->klen != kl || memcmp(m->key, key, kl) != 0) continue;
        if (m->type == 's') return m->val;
        if (m->type == 'i') {
            snprintf(s->tmp, sizeof s->tmp, "%lld", strtoll(m->val, NULL, 10));
            return s->tmp;
        }
        return NULL;
    }
    return NULL;
}

/* Field as text, or NULL when absent, null or of a non-scalar type. */
static const char *src_get(src_t *s, const char *key) {
    if (s->form) return rd_form_get(s->form, key);
    if (s->flat) return flat_get(s, key);
    json_t *v = json_object_get(s->json, key);
    if (!v) return NULL;
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(s->tmp, sizeof s->tmp, "%lld", (long long)json_integer_value(v));
        return s->tmp;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!(d > -1e15 && d < 1e15)) return NULL;
        snprintf(s->tmp, sizeof s->tmp, "%lld", (long long)d);
        return s->tmp;
    }
    return NULL;
}

static bool call_id_char(unsigned char c) { return isalnum(c) || c == '_' || c == '.' || c == '-'; }

static int set_call_id(rd_call_status_t *o, const char *v) {
    if (!v) return RD_EPARSE;
    size_t n = strlen(v);
    if (n < 1 || n > RD_CALL_ID_MAX) return RD_EPARSE;
    for (size_t i = 0; i < n; i++)
        if (!call_id_char((unsigned char)v[i])) return RD_EPARSE;
    memcpy(o->call_id, v, n + 1);
    return 0;
}

static int set_attempt_key(rd_call_status_t *o, const char *v, size_t n) {
    if (!v || n == 0) return 0;
    if (n > RD_ATTEMPT_KEY_MAX || memchr(v, '\0', n)) return RD_EPARSE;
    if (rd_attempt_key_parse(v, n, NULL, 0, NULL) != 0) return RD_EPARSE;
    memcpy(o->attempt_key, v, n);
    o->attempt_key[n] = '\0';
    return 0;
}

static int set_status(rd_call_status_t *o, const char *v) {
    if (!v) return RD_EPARSE;
    size_t n = strlen(v);
    if (n < 1 || n > RD_CB_STATUS_MAX) return RD_EPARSE;
    if (rd_prov_status_map(o->provider, v, &o->terminal, &o->outcome) != 0) return RD_EPARSE;
    for (size_t i = 0; i <= n; i++) o->status[i] = (char)tolower((unsigned char)v[i]);
    return 0;
}

/* Non-negative decimal seconds ("7", "7.0"); -1 when absent or unreadable. */
static int32_t parse_secs(const char *v) {
    if (!v || !*v) return -1;
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || !(d >= 0 && d < 1e9)) return -1;
    return (int32_t)d;
}

/* Exotel: Legs answered-by, from a form or a JSON Legs array. */
static rd_answered_by_t exotel_legs(src_t *s) {
    rd_answered_by_t a = RD_ANSWERED_UNKNOWN;
    static const char suffix[] = "][AnsweredBy]";
    if (s->form) {
        for (size_t i = 0; i < s->form->n; i++) {
            const rd_form_pair_t *p = &s->form->pairs[i];
            size_t sl = sizeof suffix - 1;
            if (p->klen > 5 + sl && memcmp(p->key, "Legs[", 5) == 0 &&
                memcmp(p->key + p->klen - sl, suffix, sl) == 0)
                a = merge_answered(a, rd_prov_answered_by_map(RD_PROV_EXOTEL, p->val));
        }
        return a;
    }
    if (s->flat) {
        for (size_t i = 0; i < s->n_legs; i++)
            if (s->legs[i])
                a = merge_answered(a, rd_prov_answered_by_map(RD_PROV_EXOTEL, s->legs[i]));
        return a;
    }
    json_t *legs = json_object_get(s->json, "Legs");
    size_t i;
    json_t *leg;
    if (json_is_array(legs)) {
        json_array_foreach(legs, i, leg) {
            json_t *ab = json_is_object(leg) ? json_object_get(leg, "AnsweredBy") : NULL;
            if (json_is_string(ab))
                a = merge_answered(a,
                                   rd_prov_answered_by_map(RD_PROV_EXOTEL, json_string_value(ab)));
        }
    }
    return a;
}

static int read_exotel(src_t *s, rd_call_status_t *o) {
    const char *sid = src_get(s, "CallSid");
    if (!sid) sid = src_get(s, "Sid");
    if (set_call_id(o, sid) != 0) return RD_EPARSE;
    if (set_status(o, src_get(s, "Status")) != 0) return RD_EPARSE;
    if (!o->attempt_key[0]) {
        const char *cf = src_get(s, "CustomField");
        if (cf && set_attempt_key(o, cf, strlen(cf)) != 0) return RD_EPARSE;
    }
    o->answered_by = merge_answered(
        rd_prov_answered_by_map(RD_PROV_EXOTEL, src_get(s, "AnsweredBy")), exotel_legs(s));
    int64_t t;
    if (exotel_time(src_get(s, "StartTime"), &t) == 0) o->start_ms = t;
    if (exotel_time(src_get(s, "EndTime"), &t) == 0) o->end_ms = t;
    if (!o->end_ms && o->terminal && exotel_time(src_get(s, "DateUpdated"), &t) == 0) o->end_ms = t;
    o->duration_s = parse_secs(src_get(s, "Duration"));
    if (o->duration_s < 0) o->duration_s = parse_secs(src_get(s, "ConversationDuration"));
    return 0;
}

static int read_twilio(src_t *s, rd_call_status_t *o) {
    bool form = s->form != NULL;
    /* A <Dial><Number> leg's callback names its parent: the call we placed. */
    const char *parent = src_get(s, form ? "ParentCallSid" : "parent_call_sid");
    o->customer_leg = parent && parent[0];
    if (set_call_id(o, o->customer_leg ? parent : src_get(s, form ? "CallSid" : "sid")) != 0)
        return RD_EPARSE;
    if (set_status(o, src_get(s, form ? "CallStatus" : "status")) != 0) return RD_EPARSE;
    /* Without a parent the call is the one we placed: in agent mode the agent's leg. */
    if (!o->customer_leg && o->terminal) o->first_leg = o->outcome;
    o->answered_by =
        rd_prov_answered_by_map(RD_PROV_TWILIO, src_get(s, form ? "AnsweredBy" : "answered_by"));
    o->duration_s = parse_secs(src_get(s, form ? "CallDuration" : "duration"));
    int64_t t;
    if (form) {
        if (o->terminal && rfc2822_time(src_get(s, "Timestamp"), &t) == 0) {
            o->end_ms = t;
            if (o->duration_s >= 0) o->start_ms = t - (int64_t)o->duration_s * 1000;
        }
    } else {
        if (rfc2822_time(src_get(s, "start_time"), &t) == 0) o->start_ms = t;
        if (rfc2822_time(src_get(s, "end_time"), &t) == 0) o->end_ms = t;
    }
    return 0;
}

static void reset(rd_call_status_t *o, rd_prov_t p) {
    memset(o, 0, sizeof *o);
    o->provider = p;
    o->outcome = RD_OUT_IN_PROGRESS;
    o->duration_s = -1;
    o->first_leg = RD_OUT_IN_PROGRESS;
}

/* The media type of a Content-Type value (before ';' / space) is `type`. */
static bool media_is(const char *ct, const char *type) {
    size_t n = strlen(type);
    return strncasecmp(ct, type, n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

typedef enum { BODY_FORM, BODY_MULTIPART, BODY_JSON } body_kind_t;

/*
 * What a callback body is, from its Content-Type: exotel sends
 * multipart/form-data by default, x-www-form-urlencoded or JSON when asked
 * (StatusCallbackContentType); twilio always sends urlencoded. Without a
 * Content-Type a body starting with '{' is JSON (exotel) and anything else
 * a urlencoded form. Anything else is RD_EMEDIATYPE (a 415).
 */
static int body_kind(rd_prov_t p, const char *ct, const char *body, size_t len, body_kind_t *k) {
    if (!ct) {
        *k = BODY_FORM;
        if (p == RD_PROV_EXOTEL) {
            for (size_t i = 0; i < len; i++) {
                if (body[i] == ' ' || body[i] == '\t' || body[i] == '\r' || body[i] == '\n')
                    continue;
                if (body[i] == '{') *k = BODY_JSON;
                break;
            }
        }
        return 0;
    }
    while (*ct == ' ' || *ct == '\t') ct++;
    if (media_is(ct, "application/x-www-form-urlencoded")) {
        *k = BODY_FORM;
        return 0;
    }
    if (p == RD_PROV_EXOTEL && media_is(ct, "multipart/form-data")) {
        *k = BODY_MULTIPART;
        return 0;
    }
    if (p == RD_PROV_EXOTEL && media_is(ct, "application/json")) {
        *k = BODY_JSON;
        return 0;
    }
    return RD_EMEDIATYPE;
}

/* Exotel's first leg outcome (callback.h), from Legs[0][Status] or
   "Legs":[{"Status":..},..]; IN_PROGRESS when absent or not terminal. */
static rd_outcome_t first_leg(src_t *s) {
    const char *v = NULL;
    if (s->form) {
        v = rd_form_get(s->form, "Legs[0][Status]");
    } else if (s->flat) {
        v = s->leg0_status;
    } else if (s->json) {
        json_t *legs = json_object_get(s->json, "Legs");
        json_t *l0 = json_is_array(legs) ? json_array_get(legs, 0) : NULL;
        json_t *st = json_is_object(l0) ? json_object_get(l0, "Status") : NULL;
        v = json_is_string(st) ? json_string_value(st) : NULL;
    }
    bool terminal;
    rd_outcome_t o;
    if (!v || rd_prov_status_map(RD_PROV_EXOTEL, v, &terminal, &o) != 0 || !terminal)
        return RD_OUT_IN_PROGRESS;
    return o;
}

static int read_src(rd_prov_t p, src_t *s, rd_call_status_t *o) {
    return p == RD_PROV_TWILIO ? read_twilio(s, o) : read_exotel(s, o);
}

/* Loads a JSON object; exotel's {"Call":{...}} wrapper is unwrapped. */
static json_t *load_object(const char *body, size_t len, json_t **root, size_t flags) {
    *root = json_loadb(body, len, flags, NULL);
    if (!json_is_object(*root)) return NULL;
    json_t *call = json_object_get(*root, "Call");
    if (call) return json_is_object(call) ? call : NULL;
    return *root;
}

/* ------------------------------------------------------------------ */
/* Fast path for call resources                                          */

/*
 * The dial response and the poll answer are parsed for every call, and a
 * provider's call resource is a flat object of ~20 plain ASCII members:
 * building a jansson tree for it is the largest cost of a dial after the
 * network. This scanner validates the whole document and records the
 * members of the call object in place, without allocating. It handles
 * only the easy case and "bails" on anything else — a backslash, a control
 * or non-ASCII byte in a string, a number with a fraction or an exponent or
 * more than 18 digits, nesting deeper than 32, more than 64 members — and
 * the caller then runs the jansson path. Hence the invariant, checked by
 * tests/fuzz/fuzz_callback.c: when the fast path succeeds, its result is
 * the jansson path's result. Duplicate members: the last one counts, as in
 * jansson without JSON_REJECT_DUPLICATES (call resources come from the
 * provider we called; callbacks, which anyone can post, keep rejecting
 * duplicates).
 */
typedef struct fj {
    char *p, *end; /* a private, writable copy of the body */
    int depth;
    bool nodup; /* bail on a duplicate member name in any object (callbacks) */
} fj_t;

static void fj_ws(fj_t *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

/* A plain string: *s..*s+*n, p past the closing quote. */
static bool fj_str(fj_t *j, char **s, size_t *n) {
    if (j->p >= j->end || *j->p != '"') return false;
    char *b = ++j->p;
    while (j->p < j->end) {
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            *s = b;
            *n = (size_t)(j->p - b);
            j->p++;
            return true;
        }
        if (c == '\\' || c < 0x20 || c >= 0x80) return false;
        j->p++;
    }
    return false;
}

/* An integer -?(0|[1-9][0-9]{0,17}); anything fancier bails. */
static bool fj_int(fj_t *j) {
    char *b = j->p;
    if (j->p < j->end && *j->p == '-') j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9') return false;
    if (*j->p == '0') {
        j->p++;
    } else {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9') j->p++;
    }
    if (j->p - b - (*b == '-') > 18) return false;
    if (j->p < j->end &&
        (*j->p == '.' || *j->p == 'e' || *j->p == 'E' || (*j->p >= '0' && *j->p <= '9')))
        return false;
    return true;
}

static bool fj_lit(fj_t *j, const char *w, size_t n) {
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, w, n) != 0) return false;
    j->p += n;
    return true;
}

typedef bool (*fj_member_fn)(fj_t *j, char *key, size_t klen, void *ctx);

static bool fj_value(fj_t *j);

/* '{' members '}', calling fn for each member with p at its value. */
static bool fj_object(fj_t *j, fj_member_fn fn, void *ctx) {
    if (j->p >= j->end || *j->p != '{' || ++j->depth > 32) return false;
    j->p++;
    fj_ws(j);
    if (j->p < j->end && *j->p == '}') {
        j->p++;
        j->depth--;
        return true;
    }
    char *seen[FJ_MAX_MEMBERS];
    size_t seen_len[FJ_MAX_MEMBERS], n_seen = 0;
    for (;;) {
        char *k;
        size_t kl;
        fj_ws(j);
        if (!fj_str(j, &k, &kl)) return false;
        if (j->nodup) {
            /* jansson's JSON_REJECT_DUPLICATES, at every level: bail, jansson refuses. */
            if (n_seen == FJ_MAX_MEMBERS) return false;
            for (size_t i = 0; i < n_seen; i++)
                if (seen_len[i] == kl && memcmp(seen[i], k, kl) == 0) return false;
            seen[n_seen] = k;
            seen_len[n_seen++] = kl;
        }
        fj_ws(j);
        if (j->p >= j->end || *j->p != ':') return false;
        j->p++;
        fj_ws(j);
        if (!(fn ? fn(j, k, kl, ctx) : fj_value(j))) return false;
        fj_ws(j);
        if (j->p >= j->end) return false;
        if (*j->p == '}') break;
        if (*j->p != ',') return false;
        j->p++;
    }
    j->p++;
    j->depth--;
    return true;
}

static bool fj_array(fj_t *j, bool (*elem)(fj_t *j, void *ctx), void *ctx) {
    if (j->p >= j->end || *j->p != '[' || ++j->depth > 32) return false;
    j->p++;
    fj_ws(j);
    if (j->p < j->end && *j->p == ']') {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        fj_ws(j);
        if (!(elem ? elem(j, ctx) : fj_value(j))) return false;
        fj_ws(j);
        if (j->p >= j->end) return false;
        if (*j->p == ']') break;
        if (*j->p != ',') return false;
        j->p++;
    }
    j->p++;
    j->depth--;
    return true;
}

static bool fj_value(fj_t *j) {
    if (j->p >= j->end) return false;
    char *s;
    size_t n;
    switch (*j->p) {
    case '{':
        return fj_object(j, NULL, NULL);
    case '[':
        return fj_array(j, NULL, NULL);
    case '"':
        return fj_str(j, &s, &n);
    case 't':
        return fj_lit(j, "true", 4);
    case 'f':
        return fj_lit(j, "false", 5);
    case 'n':
        return fj_lit(j, "null", 4);
    default:
        return fj_int(j);
    }
}

/* Pass 1: the root; remembers where the last "Call" member's value starts. */
static bool fj_root_member(fj_t *j, char *key, size_t klen, void *ctx) {
    if (klen == 4 && memcmp(key, "Call", 4) == 0) *(char **)ctx = j->p;
    return fj_value(j);
}

typedef struct fj_call {
    fj_member_t m[FJ_MAX_MEMBERS];
    size_t n;
    char *ends[FJ_MAX_MEMBERS + FJ_MAX_LEGS + 4]; /* closing quotes to turn into NULs */
    size_t n_ends;
    bool exotel;
    char *legs[FJ_MAX_LEGS];
    size_t n_legs;
    char *leg_ab;      /* current leg: last AnsweredBy value if a string */
    bool leg_has;      /* current leg has an AnsweredBy member */
    size_t leg_idx;    /* elements of the current Legs array so far */
    bool in_leg0;      /* parsing Legs[0] */
    char *leg0_status; /* Legs[0].Status (last one) when a string */
} fj_call_t;

static bool fj_leg_member(fj_t *j, char *key, size_t klen, void *ctx) {
    fj_call_t *c = ctx;
    if (c->in_leg0 && klen == 6 && memcmp(key, "Status", 6) == 0) {
        c->leg0_status = NULL;
        if (j->p < j->end && *j->p == '"') {
            char *s;
            size_t n;
            if (c->n_ends >= RD_ARRAY_LEN(c->ends) || !fj_str(j, &s, &n)) return false;
            c->leg0_status = s;
            c->ends[c->n_ends++] = s + n;
            return true;
        }
        return fj_value(j);
    }
    if (klen == 10 && memcmp(key, "AnsweredBy", 10) == 0) {
        if (c->n_ends >= RD_ARRAY_LEN(c->ends)) return false;
        c->leg_has = true;
        c->leg_ab = NULL;
        if (j->p < j->end && *j->p == '"') {
            char *s;
            size_t n;
            if (!fj_str(j, &s, &n)) return false;
            c->leg_ab = s;
            c->ends[c->n_ends++] = s + n;
            return true;
        }
    }
    return fj_value(j);
}

static bool fj_leg(fj_t *j, void *ctx) {
    fj_call_t *c = ctx;
    bool first = c->leg_idx++ == 0;
    if (first) c->leg0_status = NULL;
    if (j->p >= j->end || *j->p != '{') return fj_value(j);
    c->leg_has = false;
    c->leg_ab = NULL;
    /* Bound the NUL list: every leg may add one. */
    if (c->n_legs >= FJ_MAX_LEGS) return false;
    c->in_leg0 = first;
    bool ok = fj_object(j, fj_leg_member, c);
    c->in_leg0 = false;
    if (!ok) return false;
    if (c->leg_has) c->legs[c->n_legs++] = c->leg_ab;
    return true;
}

static bool fj_call_member(fj_t *j, char *key, size_t klen, void *ctx) {
    fj_call_t *c = ctx;
    if (c->n >= FJ_MAX_MEMBERS || c->n_ends >= RD_ARRAY_LEN(c->ends)) return false;
    if (c->exotel && klen == 4 && memcmp(key, "Legs", 4) == 0) {
        c->n_legs = 0; /* the last "Legs" member counts */
        c->leg_idx = 0;
        c->leg0_status = NULL;
        if (j->p < j->end && *j->p == '[') return fj_array(j, fj_leg, c);
        return fj_value(j);
    }
    fj_member_t *m = &c->m[c->n];
    m->key = key;
    m->klen = klen;
    m->val = j->p;
    if (*j->p == '"') {
        char *s;
        size_t n;
        if (!fj_str(j, &s, &n)) return false;
        m->type = 's';
        m->val = s;
        m->vlen = n;
        c->ends[c->n_ends++] = s + n;
    } else if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')) {
        if (!fj_int(j)) return false;
        m->type = 'i';
        m->vlen = (size_t)(j->p - m->val);
    } else {
        if (!fj_value(j)) return false;
        m->type = 'o';
    }
    c->n++;
    return true;
}

/*
 * Fills *s from buf[0..len) (a writable copy of the body). Returns false to
 * bail (the jansson path decides). On success, *c holds the members that
 * s points into.
 */
static bool fj_parse(rd_prov_t p, char *buf, size_t len, bool nodup, fj_call_t *c, src_t *s) {
    fj_t j = {.p = buf, .end = buf + len, .nodup = nodup};
    char *call = NULL;
    fj_ws(&j);
    if (!fj_object(&j, p == RD_PROV_EXOTEL ? fj_root_member : NULL, &call)) return false;
    fj_ws(&j);
    if (j.p != j.end) return false;
    fj_t k = {.p = p == RD_PROV_EXOTEL && call ? call : buf, .end = buf + len};
    fj_ws(&k);
    memset(c, 0, offsetof(fj_call_t, ends));
    c->n_ends = 0;
    c->n_legs = 0;
    c->leg_idx = 0;
    c->in_leg0 = false;
    c->leg0_status = NULL;
    c->exotel = p == RD_PROV_EXOTEL;
    if (!fj_object(&k, fj_call_member, c)) return false;
    for (size_t i = 0; i < c->n_ends; i++) *c->ends[i] = '\0';
    s->flat = c->m;
    s->n_flat = c->n;
    for (size_t i = 0; i < c->n_legs; i++) s->legs[i] = c->legs[i];
    s->n_legs = c->n_legs;
    s->leg0_status = c->leg0_status;
    return true;
}

int rd_call_json_parse(rd_prov_t p, const char *body, size_t len, rd_call_status_t *out) {
    reset(out, p);
    if ((unsigned)p >= RD_PROV__COUNT) return RD_EINVAL;
    src_t s = {0};
    char buf[8192];
    fj_call_t c;
    if (len <= sizeof buf) {
        memcpy(buf, body, len);
        if (fj_parse(p, buf, len, false, &c, &s)) {
            int rc = read_src(p, &s, out);
            if (rc != 0) reset(out, p);
            return rc;
        }
    }
    return rd_call_json_parse_slow(p, body, len, out);
}

int rd_call_json_parse_slow(rd_prov_t p, const char *body, size_t len, rd_call_status_t *out) {
    reset(out, p);
    if ((unsigned)p >= RD_PROV__COUNT) return RD_EINVAL;
    json_t *root = NULL;
    src_t s = {0};
    int rc = RD_EPARSE;
    s.json = p == RD_PROV_EXOTEL
                 ? load_object(body, len, &root, 0)
                 : (root = json_loadb(body, len, 0, NULL), json_is_object(root) ? root : NULL);
    if (s.json) rc = read_src(p, &s, out);
    json_decref(root);
    if (rc != 0) reset(out, p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Status callbacks                                                     */

/*
 * The first "a" of a query without escapes ('%', '+'), read in place: what
 * rd_form_parse + rd_form_getn would give, without the allocation. Returns 1
 * (found: *v, *vlen), 0 (absent) or -1 (escapes or too many pairs: decode
 * it properly).
 */
static int query_attempt_raw(const char *q, size_t qlen, const char **v, size_t *vlen) {
    if (memchr(q, '%', qlen) || memchr(q, '+', qlen)) return -1;
    size_t pairs = 0;
    int found = 0;
    for (size_t i = 0; i < qlen;) {
        const char *amp = memchr(q + i, '&', qlen - i);
        size_t j = amp ? (size_t)(amp - q) : qlen;
        if (j > i) {
            if (++pairs > RD_FORM_MAX_PAIRS) return -1;
            const char *eq = memchr(q + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (q + i)) : j - i;
            if (!found && kl == 1 && q[i] == 'a') {
                *v = eq ? eq + 1 : q + j;
                *vlen = eq ? (size_t)((q + j) - (eq + 1)) : 0;
                found = 1;
            }
        }
        i = j + 1;
    }
    return found;
}

/* fast: the allocation-free readers first (they bail to the general ones). */
static int callback_parse(rd_prov_t p, const char *content_type, const char *body, size_t len,
                          const char *query, size_t qlen, rd_call_status_t *out, bool fast) {
    reset(out, p);
    if ((unsigned)p >= RD_PROV__COUNT) return RD_EINVAL;
    int rc = RD_EPARSE;
    rd_form_t q, f;
    rd_form_init(&q);
    rd_form_init(&f);
    json_t *root = NULL;
    src_t s = {0};
    char jbuf[8192];
    fj_call_t fc;

    if (query && qlen) {
        const char *a = NULL;
        size_t alen = 0;
        int raw = fast ? query_attempt_raw(query, qlen, &a, &alen) : -1;
        if (raw < 0) {
            rc = rd_form_parse(&q, query, qlen);
            if (rc != 0) goto fail;
            a = rd_form_getn(&q, "a", &alen);
        }
        rc = RD_EPARSE;
        if (a && set_attempt_key(out, a, alen) != 0) goto fail;
    }
    body_kind_t kind;
    if ((rc = body_kind(p, content_type, body, len, &kind)) != 0) goto fail;
    if (kind == BODY_JSON) {
        rc = RD_EPARSE;
        if (fast && len <= sizeof jbuf) {
            memcpy(jbuf, body, len);
            if (!fj_parse(p, jbuf, len, true, &fc, &s)) memset(&s, 0, sizeof s);
        }
        if (!s.flat) {
            s.json = load_object(body, len, &root, JSON_REJECT_DUPLICATES);
            if (!s.json) goto fail;
        }
    } else {
        rc = kind == BODY_MULTIPART ? rd_form_parse_multipart(&f, content_type, body, len)
                                    : rd_form_parse(&f, body, len);
        if (rc != 0) goto fail;
        s.form = &f;
    }
    rc = read_src(p, &s, out);
    if (rc != 0) goto fail;
    if (p == RD_PROV_EXOTEL) out->first_leg = first_leg(&s);
    json_decref(root);
    rd_form_deinit(&f);
    rd_form_deinit(&q);
    return 0;
fail:
    json_decref(root);
    rd_form_deinit(&f);
    rd_form_deinit(&q);
    reset(out, p);
    return rc == RD_ELIMIT ? RD_EPARSE : rc;
}

int rd_callback_parse(rd_prov_t p, const char *content_type, const char *body, size_t len,
                      const char *query, size_t qlen, rd_call_status_t *out) {
    return callback_parse(p, content_type, body, len, query, qlen, out, true);
}

int rd_callback_parse_slow(rd_prov_t p, const char *content_type, const char *body, size_t len,
                           const char *query, size_t qlen, rd_call_status_t *out) {
    return callback_parse(p, content_type, body, len, query, qlen, out, false);
}

/* ------------------------------------------------------------------ */
/* Twilio signature                                                     */

static int pair_cmp(const void *a, const void *b) {
    const rd_form_pair_t *x = a, *y = b;
    size_t n = RD_MIN(x->klen, y->klen);
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->klen != y->klen) return x->klen < y->klen ? -1 : 1;
    n = RD_MIN(x->vlen, y->vlen);
    c = memcmp(x->val, y->val, n);
    if (c) return c;
    return x->vlen < y->vlen ? -1 : x->vlen > y->vlen ? 1 : 0;
}

int rd_twilio_signature(const char *auth_token, const char *url, size_t url_len,
                        const char *form_body, size_t body_len, char out[RD_TWILIO_SIG_LEN + 1]) {
    rd_form_t f;
    rd_form_init(&f);
    int rc = 0;
    EVP_MAC *mac = NULL;
    EVP_MAC_CTX *h = NULL;
    if (form_body && body_len) {
        rc = rd_form_parse(&f, form_body, body_len);
        if (rc != 0) return rc;
        if (f.n > 1) qsort(f.pairs, f.n, sizeof *f.pairs, pair_cmp); /* "&" has no pairs */
    }
    rc = RD_EIO;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (!mac) goto done;
    h = EVP_MAC_CTX_new(mac);
    if (!h) goto done;
    char digest[] = "SHA1";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    if (!EVP_MAC_init(h, (const unsigned char *)auth_token, strlen(auth_token), params)) goto done;
    if (!EVP_MAC_update(h, (const unsigned char *)url, url_len)) goto done;
    for (size_t i = 0; i < f.n; i++) {
        /* A repeated key=value pair counts once (as the official twilio
           libraries validate: tests/conformance). */
        if (i > 0 && pair_cmp(&f.pairs[i - 1], &f.pairs[i]) == 0) continue;
        if (!EVP_MAC_update(h, (const unsigned char *)f.pairs[i].key, f.pairs[i].klen) ||
            !EVP_MAC_update(h, (const unsigned char *)f.pairs[i].val, f.pairs[i].vlen))
            goto done;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    size_t mdlen = 0;
    if (!EVP_MAC_final(h, md, &mdlen, sizeof md) || mdlen != 20) goto done;
    if (EVP_EncodeBlock((unsigned char *)out, md, 20) != RD_TWILIO_SIG_LEN) goto done;
    out[RD_TWILIO_SIG_LEN] = '\0';
    rc = 0;
done:
    EVP_MAC_CTX_free(h);
    EVP_MAC_free(mac);
    rd_form_deinit(&f);
    return rc;
}

bool rd_twilio_signature_ok(const char *auth_token, const char *url, size_t url_len,
                            const char *form_body, size_t body_len, const char *sig,
                            size_t sig_len) {
    char want[RD_TWILIO_SIG_LEN + 1];
    if (rd_twilio_signature(auth_token, url, url_len, form_body, body_len, want) != 0) return false;
    return rd_secret_equal(sig, sig_len, want, RD_TWILIO_SIG_LEN);
}
