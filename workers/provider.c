/*
 * provider.c — what every adapter shares: account defaults, URL and form
 * building into caller buffers, the poll and SMS requests (the providers
 * differ there only in their paths), the flow URL rule, the classification
 * of answers and error bodies, and the backoff formula (contracts in
 * provider.h). An adapter keeps only what is really its own: the dial form
 * and where its error body keeps the code and message.
 *
 * Classification is deliberately conservative about attempts: only an
 * answer a provider documents as being about this number (invalid, DND)
 * becomes a customer attempt. An error about our own account or settings
 * (caller id, flow URL, credentials, geo permissions) is ACCOUNT — one
 * wrong caller_id must pause a campaign, never close its whole list — and
 * a 4xx nobody has classified is REJECTED: not charged, retried later, a
 * run of them pauses the campaign. Anything that smells of the provider
 * (5xx, 429, redirects) is TRANSIENT. The tables live in the adapters.
 */
#include "workers/provider.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "proto/form.h"
#include "proto/rd.h"

void rd_account_cfg_init(rd_account_cfg_t *a) {
    memset(a, 0, sizeof *a);
    a->kind = RD_PROV_EXOTEL;
    a->connect_timeout_ms = 3000;
    a->timeout_ms = 10000;
    a->backoff_base_ms = 1000;
    a->backoff_cap_ms = 60000;
    a->breaker_failures = 5;
    a->breaker_open_ms = 10000;
}

const char *rd_res_kind_name(rd_res_kind_t k) {
    static const char *const names[] = {"placed",   "refused",       "status",   "sent",
                                        "notfound", "transient",     "canceled", "account",
                                        "rejected", "placed-unknown"};
    return (unsigned)k < RD_ARRAY_LEN(names) ? names[k] : "?";
}

int rd_provider_rate(rd_prov_t kind, const char *spec, double *rate, double *burst) {
    const rd_provider_ops_t *ops = rd_provider_ops(kind);
    if (!ops) return RD_EINVAL;
    double n = ops->rate_calls, secs = ops->rate_seconds;
    if (spec && *spec) {
        char *end;
        n = strtod(spec, &end);
        if (*end != '/' || !(n > 0)) return RD_EINVAL;
        secs = strtod(end + 1, &end);
        if (*end || !(secs > 0)) return RD_EINVAL;
    }
    *rate = n / secs;
    *burst = n < 1 ? 1 : n;
    return 0;
}

const rd_provider_ops_t *rd_provider_ops(rd_prov_t kind) {
    switch (kind) {
    case RD_PROV_EXOTEL:
        return &rd_exotel_ops;
    case RD_PROV_TWILIO:
        return &rd_twilio_ops;
    default:
        return NULL;
    }
}

void rd_provider_begin(rd_http_call_t *out, bool post) {
    out->post = post;
    out->body_len = 0;
    out->body[0] = '\0';
}

int rd_provider_url(rd_http_call_t *out, const rd_account_cfg_t *a, const char *fmt, ...) {
    size_t bl = strlen(a->base_url);
    while (bl > 0 && a->base_url[bl - 1] == '/') bl--;
    if (bl + 1 >= out->url_cap) return RD_ERANGE;
    memcpy(out->url, a->base_url, bl);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out->url + bl, out->url_cap - bl, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= out->url_cap - bl) return RD_ERANGE;
    return 0;
}

int rd_provider_add(rd_http_call_t *out, const char *key, const char *val) {
    return rd_form_add(out->body, out->body_cap, &out->body_len, key, val);
}

int rd_provider_add_int(rd_http_call_t *out, const char *key, long v) {
    char num[24];
    snprintf(num, sizeof num, "%ld", v);
    return rd_provider_add(out, key, num);
}

int rd_provider_poll_call(rd_http_call_t *out, const rd_account_cfg_t *a, const char *accounts,
                          const char *call_id) {
    rd_provider_begin(out, false);
    char esc[3 * RD_CALL_ID_MAX + 1];
    size_t el = 0, n = strlen(call_id);
    if (n == 0 || n > RD_CALL_ID_MAX) return RD_EINVAL;
    if (rd_form_escape(esc, sizeof esc, &el, call_id, n) != 0) return RD_ERANGE;
    return rd_provider_url(out, a, "%s/%s/Calls/%s.json", accounts, a->sid, esc);
}

int rd_provider_sms(rd_http_call_t *out, const rd_account_cfg_t *a, const rd_sms_t *s,
                    const char *accounts, const char *resource) {
    int rc;
    rd_provider_begin(out, true);
    if (!s->to[0] || !s->from[0] || !s->body[0]) return RD_EINVAL;
    if ((rc = rd_provider_url(out, a, "%s/%s/%s", accounts, a->sid, resource)) != 0) return rc;
    if ((rc = rd_provider_add(out, "From", s->from)) != 0) return rc;
    if ((rc = rd_provider_add(out, "To", s->to)) != 0) return rc;
    if ((rc = rd_provider_add(out, "Body", s->body)) != 0) return rc;
    if (s->status_callback[0] &&
        (rc = rd_provider_add(out, "StatusCallback", s->status_callback)) != 0)
        return rc;
    return 0;
}

int rd_provider_flow_url(char *buf, size_t cap, const char *flow, const char *base) {
    if (strncmp(flow, "http://", 7) == 0 || strncmp(flow, "https://", 8) == 0)
        return rd_fmt(buf, cap, "%s", flow);
    return rd_fmt(buf, cap, "%s%s", base, flow);
}

/* The call id alone from a 2xx dial reply whose status redial cannot read
   (unknown, null or missing): the call exists, so it is PLACED without a
   status rather than PLACED_UNKNOWN. */
static bool sid_only(rd_prov_t prov, const char *body, size_t len, rd_call_status_t *call) {
    bool ok = false;
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *obj = root;
    if (prov == RD_PROV_EXOTEL && json_is_object(root) && json_object_get(root, "Call"))
        obj = json_object_get(root, "Call");
    json_t *sid =
        json_is_object(obj) ? json_object_get(obj, prov == RD_PROV_TWILIO ? "sid" : "Sid") : NULL;
    const char *v = json_is_string(sid) ? json_string_value(sid) : NULL;
    size_t n = v ? strlen(v) : 0;
    if (n >= 1 && n <= RD_CALL_ID_MAX) {
        ok = true;
        for (size_t i = 0; i < n; i++) {
            char c = v[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '-'))
                ok = false;
        }
    }
    if (ok) {
        memset(call, 0, sizeof *call);
        call->provider = prov;
        memcpy(call->call_id, v, n + 1);
        call->outcome = RD_OUT_IN_PROGRESS;
        call->duration_s = -1;
    }
    json_decref(root);
    return ok;
}

void rd_provider_classify_json(rd_prov_t prov, rd_work_kind_t kind, int st, const char *body,
                               size_t len, const char *wrap, const char *code_key,
                               const char *msg_key, const rd_provider_rule_t *rules, size_t n_rules,
                               rd_work_result_t *out) {
    out->http_status = st;
    if (st >= 200 && st < 300) {
        if (kind == RD_WORK_SMS) {
            out->kind = RD_RES_SENT;
        } else if (rd_call_json_parse(prov, body, len, &out->call) == 0) {
            out->kind = kind == RD_WORK_DIAL ? RD_RES_PLACED : RD_RES_STATUS;
        } else if (kind == RD_WORK_DIAL && sid_only(prov, body, len, &out->call)) {
            out->kind = RD_RES_PLACED;
            rd_fmt(out->reason, sizeof out->reason, "http %d: call %s, status unreadable", st,
                   out->call.call_id);
            return;
        } else if (kind == RD_WORK_DIAL) {
            memset(&out->call, 0, sizeof out->call);
            out->kind = RD_RES_PLACED_UNKNOWN;
            rd_fmt(out->reason, sizeof out->reason, "http %d: unreadable dial reply", st);
            return;
        } else {
            out->kind = RD_RES_TRANSIENT;
            rd_fmt(out->reason, sizeof out->reason, "http %d: unreadable call resource", st);
            return;
        }
        rd_fmt(out->reason, sizeof out->reason, "http %d", st);
        return;
    }
    int code = 0;
    char msg[256] = "";
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *err = wrap && json_is_object(root) ? json_object_get(root, wrap) : root;
    if (json_is_object(err)) {
        json_t *c = json_object_get(err, code_key);
        if (json_is_integer(c)) code = (int)json_integer_value(c);
        if (json_is_string(c)) code = atoi(json_string_value(c));
        json_t *m = json_object_get(err, msg_key);
        if (json_is_string(m)) rd_fmt(msg, sizeof msg, "%s", json_string_value(m));
    }
    json_decref(root);
    rd_provider_classify_error(kind, st, code, msg[0] ? msg : NULL, rules, n_rules, out);
}

/* Case-insensitive substring (ASCII). */
static bool has(const char *hay, const char *needle, size_t n) {
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

/* One of the '|'-separated alternatives of `words` occurs in msg. */
static bool has_any(const char *msg, const char *words) {
    if (!msg) return false;
    for (const char *w = words; *w;) {
        const char *bar = strchr(w, '|');
        size_t n = bar ? (size_t)(bar - w) : strlen(w);
        if (n && has(msg, w, n)) return true;
        if (!bar) break;
        w = bar + 1;
    }
    return false;
}

static bool rule_matches(const rd_provider_rule_t *r, int st, int code, const char *msg) {
    if (r->code && r->code != code) return false;
    if (r->status == 4 && !(st >= 400 && st < 500)) return false;
    if (r->status > 4 && r->status != st) return false;
    if (r->words && !has_any(msg, r->words)) return false;
    if (r->also && !has_any(msg, r->also)) return false;
    return true;
}

/* "<cause>: <code> <message>" / "<cause>: http <status> <message>" (no
   control bytes: the reason reaches logs and the API). */
static void set_reason(rd_work_result_t *out, const char *lead, int st, int code, const char *msg) {
    char num[24];
    if (code)
        snprintf(num, sizeof num, "%d", code);
    else
        snprintf(num, sizeof num, "http %d", st);
    snprintf(out->reason, sizeof out->reason, "%s: %s%s%s", lead, num, msg ? " " : "",
             msg ? msg : "");
    for (char *p = out->reason; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = ' ';
}

void rd_provider_classify_error(rd_work_kind_t kind, int st, int code, const char *msg,
                                const rd_provider_rule_t *rules, size_t n_rules,
                                rd_work_result_t *out) {
    out->http_status = st;
    out->provider_code = code;
    if (kind == RD_WORK_POLL) {
        out->kind = st == 404 ? RD_RES_NOTFOUND : RD_RES_TRANSIENT;
        set_reason(out, st == 404 ? "unknown call" : "poll failed", st, code, msg);
        return;
    }
    char lead[64];
    for (size_t i = 0; i < n_rules; i++) {
        const rd_provider_rule_t *r = &rules[i];
        if (!rule_matches(r, st, code, msg)) continue;
        switch (r->cls) {
        case RD_ERRC_INVALID:
        case RD_ERRC_DND:
            out->kind = RD_RES_REFUSED;
            out->outcome = r->cls == RD_ERRC_DND ? RD_OUT_DND : RD_OUT_INVALID_NUMBER;
            set_reason(out, r->what, st, code, msg);
            return;
        case RD_ERRC_ACCOUNT:
            out->kind = RD_RES_ACCOUNT;
            snprintf(lead, sizeof lead, "provider rejected %s", r->what);
            set_reason(out, lead, st, code, msg);
            return;
        case RD_ERRC_TRANSIENT:
            out->kind = RD_RES_TRANSIENT;
            set_reason(out, r->what, st, code, msg);
            return;
        case RD_ERRC_UNKNOWN:
            out->kind = RD_RES_REJECTED;
            set_reason(out, r->what, st, code, msg);
            return;
        }
    }
    if (st >= 500 || st == 429 || st == 408 || st == 409 || st < 400) {
        out->kind = RD_RES_TRANSIENT;
        set_reason(out,
                   st == 429   ? "rate limited"
                   : st >= 500 ? "provider error"
                   : st < 400  ? "unexpected status"
                               : "try again",
                   st, code, msg);
        return;
    }
    out->kind = RD_RES_REJECTED;
    set_reason(out, "unclassified provider error", st, code, msg);
}

int64_t rd_provider_backoff_ms(const rd_account_cfg_t *a, uint32_t n, uint32_t rnd) {
    uint64_t base = a->backoff_base_ms ? a->backoff_base_ms : 1, cap = a->backoff_cap_ms;
    if (cap < base) cap = base;
    uint64_t d = base;
    for (uint32_t i = 0; i < n && d < cap; i++) d *= 2;
    if (d > cap) d = cap;
    /* "Equal jitter": [d/2, d], so the delay still grows but herds split. */
    uint64_t half = d / 2;
    return (int64_t)(half + (half ? rnd % (half + 1) : 0));
}
