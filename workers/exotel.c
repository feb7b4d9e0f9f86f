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
 *   sms   POST {base}/v1/Accounts/{sid}/Sms/send.json  From, To, Body, DltEntityId,
 *         DltTemplateId[, StatusCallback] (RD_EINVAL without the DLT ids)
 *         -> 200 {"SMSMessage":{"Sid":..,"Status":..}}
 *
 * A flow id that is not already an http(s) URL becomes
 * "http://my.exotel.com/{sid}/exoml/start_voice/{flow}" (Exotel's flow URL),
 * or flow_base + flow when the account configures a base.
 *
 * Errors are {"RestException":{"Status":..,"Code":..,"Message":..}},
 * classified by ex_rules below (rd_provider_classify_json).
 */
#include "proto/rd.h"
#include "workers/provider.h"

static int ex_dial(const rd_account_cfg_t *a, const rd_dial_t *d, rd_http_call_t *out) {
    int rc;
    rd_provider_begin(out, true);
    if (!d->to[0] || !d->caller_id[0]) return RD_EINVAL;
    if ((rc = rd_provider_url(out, a, "/v1/Accounts/%s/Calls/connect.json", a->sid)) != 0)
        return rc;
    if (d->mode == RD_MODE_AGENT) {
        if (!d->agent[0]) return RD_EINVAL;
        if ((rc = rd_provider_add(out, "From", d->agent)) != 0) return rc;
        if ((rc = rd_provider_add(out, "To", d->to)) != 0) return rc;
    } else {
        if (!d->flow[0]) return RD_EINVAL;
        char dflt[RD_DIAL_FLOW_MAX + 256], url[RD_DIAL_FLOW_MAX + 256];
        const char *base = a->flow_base;
        if (!base) {
            if ((rc = rd_fmt(dflt, sizeof dflt, "http://my.exotel.com/%s/exoml/start_voice/",
                             a->sid)) != 0)
                return rc;
            base = dflt;
        }
        if ((rc = rd_provider_flow_url(url, sizeof url, d->flow, base)) != 0) return rc;
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
    if (d->ring_timeout_s > 0 && (rc = rd_provider_add_int(out, "TimeOut", d->ring_timeout_s)) != 0)
        return rc;
    return 0;
}

static int ex_poll(const rd_account_cfg_t *a, const char *call_id, rd_http_call_t *out) {
    return rd_provider_poll_call(out, a, "/v1/Accounts", call_id);
}

static int ex_sms(const rd_account_cfg_t *a, const rd_sms_t *s, rd_http_call_t *out) {
    int rc;
    /* India's DLT rules: an SMS without its registered entity and template
       is dropped by the operators, so it is not sent at all. */
    if (!s->dlt_entity_id[0] || !s->dlt_template_id[0]) return RD_EINVAL;
    if ((rc = rd_provider_sms(out, a, s, "/v1/Accounts", "Sms/send.json")) != 0) return rc;
    if ((rc = rd_provider_add(out, "DltEntityId", s->dlt_entity_id)) != 0) return rc;
    return rd_provider_add(out, "DltTemplateId", s->dlt_template_id);
}

/*
 * Exotel's v1 errors carry an HTTP status and a message but no documented
 * per-cause code (https://developer.exotel.com/docs/references/error-codes,
 * https://developer.exotel.com/api/http-status-codes), so rows match the
 * status and the message's words; docs/PROVIDERS.md has the table with its
 * sources. Order matters: DND before "invalid number", the caller id before
 * either (a message about the CallerId names a number too).
 */
static const rd_provider_rule_t ex_rules[] = {
    {0, 4, "dnd|ndnc|do not disturb|do-not-call", NULL, RD_ERRC_DND, "dnd"},
    {0, 4, "callerid|caller id|caller_id|exophone|virtual number", NULL, RD_ERRC_ACCOUNT,
     "caller_id"},
    {0, 4, "url|flow|applet", NULL, RD_ERRC_ACCOUNT, "call_flow_id"},
    {0, 4, "dlt|template|entity", NULL, RD_ERRC_ACCOUNT, "sms_fallback dlt"},
    {0, 400, "invalid|not a valid", "number", RD_ERRC_INVALID, "invalid number"},
    {0, 401, NULL, NULL, RD_ERRC_ACCOUNT, "credentials"},
    {0, 402, NULL, NULL, RD_ERRC_ACCOUNT, "account plan or balance"},
    {0, 403, NULL, NULL, RD_ERRC_ACCOUNT, "account"},
    {0, 404, NULL, NULL, RD_ERRC_ACCOUNT, "account"},
};

static void ex_classify(rd_work_kind_t kind, int st, const char *body, size_t len,
                        rd_work_result_t *out) {
    rd_provider_classify_json(RD_PROV_EXOTEL, kind, st, body, len, "RestException", "Code",
                              "Message", ex_rules, RD_ARRAY_LEN(ex_rules), out);
}

const rd_provider_ops_t rd_exotel_ops = {
    .kind = RD_PROV_EXOTEL,
    .rate_calls = 200,
    .rate_seconds = 60,
    .dial = ex_dial,
    .poll = ex_poll,
    .sms = ex_sms,
    .classify = ex_classify,
};
