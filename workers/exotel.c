/*
 * exotel.c — the Exotel adapter (SPEC section 5, "Providers").
 *
 *   dial  POST {base}/v1/Accounts/{sid}/Calls/connect.json   (form, basic auth)
 *         flow mode  (Connect to Flow):        From=customer, Url=<flow URL>
 *         agent mode (Connect Two Numbers):    From=agent, To=customer
 *         both: CallerId, StatusCallback, StatusCallbackEvents[0]=terminal,
 *               StatusCallbackContentType=application/json, CustomField=<attempt
 *               key>, TimeLimit, TimeOut
 *         -> 200 {"Call":{"Sid":..,"Status":..}}
 *   poll  GET  {base}/v1/Accounts/{sid}/Calls/{CallSid}.json -> same shape
 *   sms   POST {base}/v1/Accounts/{sid}/Sms/send.json  From, To, Body[, StatusCallback]
 *         -> 200 {"SMSMessage":{"Sid":..,"Status":..}}
 *
 * A flow id that is not already an http(s) URL becomes
 * "http://my.exotel.com/{sid}/exoml/start_voice/{flow}" (Exotel's flow URL),
 * or flow_base + flow when the account configures a base.
 *
 * Errors are {"RestException":{"Status":..,"Code":..,"Message":..}}; the
 * shared rules of provider.c classify them.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "proto/form.h"
#include "proto/rd.h"
#include "workers/provider.h"

static bool is_url(const char *s) {
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static int ex_dial(const rd_account_cfg_t *a, const rd_dial_t *d, rd_http_call_t *out) {
    int rc;
    out->post = true;
    out->body_len = 0;
    out->body[0] = '\0';
    if (!d->to[0] || !d->caller_id[0]) return RD_EINVAL;
    if ((rc = rd_provider_url(out, a, "/v1/Accounts/%s/Calls/connect.json", a->sid)) != 0)
        return rc;
    if (d->mode == RD_MODE_AGENT) {
        if (!d->agent[0]) return RD_EINVAL;
        if ((rc = rd_provider_add(out, "From", d->agent)) != 0) return rc;
        if ((rc = rd_provider_add(out, "To", d->to)) != 0) return rc;
    } else {
        if (!d->flow[0]) return RD_EINVAL;
        char url[RD_DIAL_FLOW_MAX + 256];
        if (is_url(d->flow))
            rc = rd_fmt(url, sizeof url, "%s", d->flow);
        else if (a->flow_base)
            rc = rd_fmt(url, sizeof url, "%s%s", a->flow_base, d->flow);
        else
            rc = rd_fmt(url, sizeof url, "http://my.exotel.com/%s/exoml/start_voice/%s", a->sid,
                        d->flow);
        if (rc != 0) return rc;
        if ((rc = rd_provider_add(out, "From", d->to)) != 0) return rc;
        if ((rc = rd_provider_add(out, "Url", url)) != 0) return rc;
    }
    if ((rc = rd_provider_add(out, "CallerId", d->caller_id)) != 0) return rc;
    if (d->status_callback[0]) {
        if ((rc = rd_provider_add(out, "StatusCallback", d->status_callback)) != 0) return rc;
        if ((rc = rd_provider_add(out, "StatusCallbackEvents[0]", "terminal")) != 0) return rc;
        if ((rc = rd_provider_add(out, "StatusCallbackContentType", "application/json")) != 0)
            return rc;
    }
    if (d->attempt_key[0] && (rc = rd_provider_add(out, "CustomField", d->attempt_key)) != 0)
        return rc;
    if (d->time_limit_s > 0 && (rc = rd_provider_add_int(out, "TimeLimit", d->time_limit_s)) != 0)
        return rc;
    if (d->ring_timeout_s > 0 &&
        (rc = rd_provider_add_int(out, "TimeOut", d->ring_timeout_s)) != 0)
        return rc;
    return 0;
}

static int ex_poll(const rd_account_cfg_t *a, const char *call_id, rd_http_call_t *out) {
    out->post = false;
    out->body_len = 0;
    out->body[0] = '\0';
    char esc[3 * RD_CALL_ID_MAX + 1];
    size_t el = 0;
    size_t n = strlen(call_id);
    if (n == 0 || n > RD_CALL_ID_MAX) return RD_EINVAL;
    if (rd_form_escape(esc, sizeof esc, &el, call_id, n) != 0) return RD_ERANGE;
    return rd_provider_url(out, a, "/v1/Accounts/%s/Calls/%s.json", a->sid, esc);
}

static int ex_sms(const rd_account_cfg_t *a, const rd_sms_t *s, rd_http_call_t *out) {
    int rc;
    out->post = true;
    out->body_len = 0;
    out->body[0] = '\0';
    if (!s->to[0] || !s->from[0] || !s->body[0]) return RD_EINVAL;
    if ((rc = rd_provider_url(out, a, "/v1/Accounts/%s/Sms/send.json", a->sid)) != 0) return rc;
    if ((rc = rd_provider_add(out, "From", s->from)) != 0) return rc;
    if ((rc = rd_provider_add(out, "To", s->to)) != 0) return rc;
    if ((rc = rd_provider_add(out, "Body", s->body)) != 0) return rc;
    if (s->status_callback[0] &&
        (rc = rd_provider_add(out, "StatusCallback", s->status_callback)) != 0)
        return rc;
    return 0;
}

/* {"RestException":{"Status":..,"Code":..,"Message":..}}; code/msg may stay empty. */
static void ex_error(const char *body, size_t len, int *code, char *msg, size_t cap) {
    *code = 0;
    msg[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *ex = json_is_object(root) ? json_object_get(root, "RestException") : NULL;
    if (json_is_object(ex)) {
        json_t *c = json_object_get(ex, "Code");
        if (json_is_integer(c)) *code = (int)json_integer_value(c);
        if (json_is_string(c)) *code = atoi(json_string_value(c));
        json_t *m = json_object_get(ex, "Message");
        if (json_is_string(m)) rd_fmt(msg, cap, "%s", json_string_value(m));
    }
    json_decref(root);
}

static void ex_classify(rd_work_kind_t kind, int st, const char *body, size_t len,
                        rd_work_result_t *out) {
    out->http_status = st;
    if (st >= 200 && st < 300) {
        if (kind == RD_WORK_SMS) {
            out->kind = RD_RES_SENT;
            rd_fmt(out->reason, sizeof out->reason, "http %d", st);
            return;
        }
        if (rd_call_json_parse(RD_PROV_EXOTEL, body, len, &out->call) != 0) {
            out->kind = RD_RES_TRANSIENT;
            rd_fmt(out->reason, sizeof out->reason, "http %d: unreadable call resource", st);
            return;
        }
        out->kind = kind == RD_WORK_DIAL ? RD_RES_PLACED : RD_RES_STATUS;
        rd_fmt(out->reason, sizeof out->reason, "http %d", st);
        return;
    }
    int code;
    char msg[256];
    ex_error(body, len, &code, msg, sizeof msg);
    rd_provider_classify_error(kind, st, code, msg[0] ? msg : NULL, out);
}

const rd_provider_ops_t rd_exotel_ops = {
    .kind = RD_PROV_EXOTEL,
    .dial = ex_dial,
    .poll = ex_poll,
    .sms = ex_sms,
    .classify = ex_classify,
};
