/*
 * provider.c — what every adapter shares: account defaults, URL and form
 * building into caller buffers, the poll and SMS requests (the providers
 * differ there only in their paths), the flow URL rule, the classification
 * of answers and error bodies, and the backoff formula (contracts in
 * provider.h). An adapter keeps only what is really its own: the dial form
 * and where its error body keeps the code and message.
 *
 * Classification is deliberately conservative about attempts: only an
 * answer that names this number (invalid, DND) or a per-call 4xx becomes a
 * customer attempt; anything that smells of the provider or of our account
 * (5xx, 429, 401/402/403, 404 on a dial, redirects) is TRANSIENT, because
 * burning a customer's attempt budget on our outage is the one mistake the
 * spec forbids outright.
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
    static const char *const names[] = {"placed",   "refused",   "status",  "sent",
                                        "notfound", "transient", "canceled"};
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

void rd_provider_classify_json(rd_prov_t prov, rd_work_kind_t kind, int st, const char *body,
                               size_t len, const char *wrap, const char *code_key,
                               const char *msg_key, rd_work_result_t *out) {
    out->http_status = st;
    if (st >= 200 && st < 300) {
        if (kind == RD_WORK_SMS) {
            out->kind = RD_RES_SENT;
        } else if (rd_call_json_parse(prov, body, len, &out->call) != 0) {
            out->kind = RD_RES_TRANSIENT;
            rd_fmt(out->reason, sizeof out->reason, "http %d: unreadable call resource", st);
            return;
        } else {
            out->kind = kind == RD_WORK_DIAL ? RD_RES_PLACED : RD_RES_STATUS;
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
    rd_provider_classify_error(kind, st, code, msg[0] ? msg : NULL, out);
}

/* Case-insensitive substring (ASCII). */
static bool has(const char *hay, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return false;
}

static void refused(rd_work_result_t *out, rd_outcome_t o, int status, const char *why) {
    out->kind = RD_RES_REFUSED;
    out->outcome = o;
    snprintf(out->reason, sizeof out->reason, "http %d: %s", status, why);
}

static void transient(rd_work_result_t *out, int status, const char *why) {
    out->kind = RD_RES_TRANSIENT;
    snprintf(out->reason, sizeof out->reason, "http %d: %s", status, why);
}

void rd_provider_classify_error(rd_work_kind_t kind, int st, int code, const char *msg,
                                rd_work_result_t *out) {
    out->http_status = st;
    out->provider_code = code;
    if (kind == RD_WORK_POLL) {
        if (st == 404) {
            out->kind = RD_RES_NOTFOUND;
            snprintf(out->reason, sizeof out->reason, "http 404: unknown call");
        } else {
            transient(out, st, "poll failed");
        }
        return;
    }
    /* A per-number answer first, whatever the status (some providers say
       DND with a 403). */
    switch (code) {
    case 21211:
    case 21214:
    case 21217:
    case 13223:
    case 13224:
        refused(out, RD_OUT_INVALID_NUMBER, st, "invalid number");
        return;
    case 21610:
    case 13225:
        refused(out, RD_OUT_DND, st, "blocked number");
        return;
    default:
        break;
    }
    if (st >= 400 && st < 500 && st != 429 && msg) {
        if (has(msg, "dnd") || has(msg, "ndnc") || has(msg, "do not disturb") ||
            has(msg, "do-not-call")) {
            refused(out, RD_OUT_DND, st, "dnd");
            return;
        }
        if ((has(msg, "invalid") || has(msg, "not a valid")) && has(msg, "number")) {
            refused(out, RD_OUT_INVALID_NUMBER, st, "invalid number");
            return;
        }
    }
    if (st == 429)
        transient(out, st, "rate limited");
    else if (st >= 500)
        transient(out, st, "provider error");
    else if (st == 401 || st == 402 || st == 403)
        transient(out, st, "account refused");
    else if (st == 404)
        transient(out, st, "account or endpoint not found");
    else if (st == 408)
        transient(out, st, "request timeout");
    else if (st >= 400 && st < 500)
        refused(out, RD_OUT_FAILED, st, "call refused");
    else
        transient(out, st, "unexpected status");
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
