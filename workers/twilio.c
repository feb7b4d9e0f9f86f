/*
 * twilio.c — the Twilio adapter (SPEC section 5, "Providers").
 *
 *   dial  POST {base}/2010-04-01/Accounts/{sid}/Calls.json  (form, basic auth sid:token)
 *         flow mode: To=customer, From=caller_id, Url=<TwiML URL>;
 *         agent mode (Twilio has no "connect two numbers"): To=agent, and
 *         Twiml=<Response><Dial timeout=..><Number statusCallback=..
 *         statusCallbackEvent=.. [machineDetection=..]>customer</Number>
 *         </Dial></Response>, so the agent is rung first and each leg
 *         reports its own status to the same attempt URL (the customer
 *         leg's callbacks carry ParentCallSid = our call);
 *         StatusCallback, StatusCallbackMethod=POST,
 *         StatusCallbackEvent repeated (initiated, ringing, answered,
 *         completed — non-terminal ones are acknowledged and ignored by the
 *         engine), Timeout, TimeLimit, MachineDetection=Enable |
 *         DetectMessageEnd per the campaign's retry.machine_detection (not
 *         sent when off: AMD costs money and delays the callee's hello).
 *         -> 201 call resource {"sid":..,"status":"queued",...}
 *   poll  GET  {base}/2010-04-01/Accounts/{sid}/Calls/{CallSid}.json
 *   sms   POST {base}/2010-04-01/Accounts/{sid}/Messages.json  From, To, Body[, StatusCallback]
 *
 * A flow id that is not already an http(s) URL becomes flow_base + flow
 * ["https://handler.twilio.com/twiml/" — a TwiML Bin].
 * Errors are {"code":..,"message":..,"status":..}, classified by code
 * (tw_rules below).
 */
#include <string.h>

#include "proto/rd.h"
#include "workers/provider.h"

/* Appends `v` to `b` escaped for a double-quoted XML attribute or text. */
static int xml_append(char *b, size_t cap, size_t *len, const char *v) {
    for (; *v; v++) {
        const char *e = *v == '&'   ? "&amp;"
                        : *v == '<' ? "&lt;"
                        : *v == '>' ? "&gt;"
                        : *v == '"' ? "&quot;"
                                    : NULL;
        size_t n = e ? strlen(e) : 1;
        if (*len + n >= cap) return RD_ERANGE;
        memcpy(b + *len, e ? e : v, n);
        *len += n;
    }
    b[*len] = '\0';
    return 0;
}

static const char *amd_word(rd_amd_t m) {
    return m == RD_AMD_DETECT_MESSAGE_END ? "DetectMessageEnd" : "Enable";
}

/* Agent mode: the agent's call dials the customer as a <Number> that
   reports its own status (docs/PROVIDERS.md, "Agent mode"). */
static int agent_twiml(const rd_dial_t *d, char *tw, size_t cap) {
    size_t n = 0;
    int rc = rd_fmt(tw, cap, "<Response><Dial");
    if (rc == 0 && d->ring_timeout_s > 0)
        rc = rd_fmt(tw + strlen(tw), cap - strlen(tw), " timeout=\"%d\"", d->ring_timeout_s);
    if (rc == 0 && d->time_limit_s > 0)
        rc = rd_fmt(tw + strlen(tw), cap - strlen(tw), " timeLimit=\"%d\"", d->time_limit_s);
    if (rc == 0) rc = rd_fmt(tw + strlen(tw), cap - strlen(tw), "><Number");
    if (rc == 0 && d->status_callback[0]) {
        rc = rd_fmt(tw + strlen(tw), cap - strlen(tw),
                    " statusCallbackEvent=\"initiated ringing answered completed\""
                    " statusCallbackMethod=\"POST\" statusCallback=\"");
        n = strlen(tw);
        if (rc == 0) rc = xml_append(tw, cap, &n, d->status_callback);
        if (rc == 0) rc = rd_fmt(tw + n, cap - n, "\"");
    }
    if (rc == 0 && d->machine_detection != RD_AMD_OFF)
        rc = rd_fmt(tw + strlen(tw), cap - strlen(tw), " machineDetection=\"%s\"",
                    amd_word(d->machine_detection));
    if (rc == 0) {
        n = strlen(tw);
        rc = rd_fmt(tw + n, cap - n, ">");
        n = strlen(tw);
    }
    if (rc == 0) rc = xml_append(tw, cap, &n, d->to);
    if (rc == 0) rc = rd_fmt(tw + n, cap - n, "</Number></Dial></Response>");
    return rc;
}

static int tw_dial(const rd_account_cfg_t *a, const rd_dial_t *d, rd_http_call_t *out) {
    int rc;
    rd_provider_begin(out, true);
    if (!d->to[0] || !d->caller_id[0]) return RD_EINVAL;
    if ((rc = rd_provider_url(out, a, "/2010-04-01/Accounts/%s/Calls.json", a->sid)) != 0)
        return rc;
    bool agent = d->mode == RD_MODE_AGENT;
    if (agent && !d->agent[0]) return RD_EINVAL;
    if ((rc = rd_provider_add(out, "To", agent ? d->agent : d->to)) != 0) return rc;
    if ((rc = rd_provider_add(out, "From", d->caller_id)) != 0) return rc;
    if (agent) {
        char twiml[RD_DIAL_URL_MAX * 5 + 512];
        if ((rc = agent_twiml(d, twiml, sizeof twiml)) != 0) return rc;
        if ((rc = rd_provider_add(out, "Twiml", twiml)) != 0) return rc;
    } else {
        if (!d->flow[0]) return RD_EINVAL;
        char url[RD_DIAL_FLOW_MAX + 256];
        if ((rc = rd_provider_flow_url(url, sizeof url, d->flow,
                                       a->flow_base ? a->flow_base
                                                    : "https://handler.twilio.com/twiml/")) != 0)
            return rc;
        if ((rc = rd_provider_add(out, "Url", url)) != 0) return rc;
    }
    if (d->status_callback[0]) {
        static const char *const events[] = {"initiated", "ringing", "answered", "completed"};
        if ((rc = rd_provider_add(out, "StatusCallback", d->status_callback)) != 0) return rc;
        if ((rc = rd_provider_add(out, "StatusCallbackMethod", "POST")) != 0) return rc;
        for (size_t i = 0; i < RD_ARRAY_LEN(events); i++)
            if ((rc = rd_provider_add(out, "StatusCallbackEvent", events[i])) != 0) return rc;
    }
    if (d->ring_timeout_s > 0 && (rc = rd_provider_add_int(out, "Timeout", d->ring_timeout_s)) != 0)
        return rc;
    if (d->time_limit_s > 0 && (rc = rd_provider_add_int(out, "TimeLimit", d->time_limit_s)) != 0)
        return rc;
    /* Agent mode: detection is on the customer's <Number>, not the agent. */
    if (!agent && d->machine_detection != RD_AMD_OFF &&
        (rc = rd_provider_add(out, "MachineDetection", amd_word(d->machine_detection))) != 0)
        return rc;
    return 0;
}

static int tw_poll(const rd_account_cfg_t *a, const char *call_id, rd_http_call_t *out) {
    return rd_provider_poll_call(out, a, "/2010-04-01/Accounts", call_id);
}

static int tw_sms(const rd_account_cfg_t *a, const rd_sms_t *s, rd_http_call_t *out) {
    return rd_provider_sms(out, a, s, "/2010-04-01/Accounts", "Messages.json");
}

/*
 * Twilio's documented error codes (https://www.twilio.com/docs/api/errors/<code>;
 * the same table with each source is in docs/PROVIDERS.md). Only errors the
 * docs describe as being about the callee are charged; everything about our
 * From number, URLs, permissions or credentials pauses the campaign.
 */
static const rd_provider_rule_t tw_rules[] = {
    /* the callee */
    {21211, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* invalid 'To' number */
    {21214, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* 'To' cannot be reached */
    {21217, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* number not valid */
    {13223, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* Dial: invalid format */
    {13224, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* Dial: invalid number */
    {21614, 0, NULL, NULL, RD_ERRC_INVALID, "invalid number"}, /* SMS: 'To' not mobile */
    {21610, 0, NULL, NULL, RD_ERRC_DND, "blocked number"},     /* recipient unsubscribed */
    {13225, 0, NULL, NULL, RD_ERRC_DND, "blocked number"},     /* Dial: forbidden number */
    /* our account or configuration */
    {21212, 0, NULL, NULL, RD_ERRC_ACCOUNT, "caller_id"},       /* invalid caller id */
    {21210, 0, NULL, NULL, RD_ERRC_ACCOUNT, "caller_id"},       /* From not verified */
    {21213, 0, NULL, NULL, RD_ERRC_ACCOUNT, "caller_id"},       /* From required */
    {21606, 0, NULL, NULL, RD_ERRC_ACCOUNT, "caller_id"},       /* From not SMS-capable */
    {21215, 0, NULL, NULL, RD_ERRC_ACCOUNT, "geo permissions"}, /* geo permission */
    {21205, 0, NULL, NULL, RD_ERRC_ACCOUNT, "call_flow_id"},    /* invalid Url */
    {11100, 0, NULL, NULL, RD_ERRC_ACCOUNT, "call_flow_id"},    /* invalid URL format */
    {21502, 0, NULL, NULL, RD_ERRC_ACCOUNT, "status callback"}, /* invalid callback url */
    {21219, 0, NULL, NULL, RD_ERRC_ACCOUNT, "trial account"},   /* 'To' not verified (trial) */
    {21608, 0, NULL, NULL, RD_ERRC_ACCOUNT, "trial account"},   /* SMS 'To' not verified */
    {20003, 0, NULL, NULL, RD_ERRC_ACCOUNT, "credentials"},     /* authenticate */
    {10001, 0, NULL, NULL, RD_ERRC_ACCOUNT, "account"},         /* account not active */
    {20404, 0, NULL, NULL, RD_ERRC_ACCOUNT, "account"},         /* unknown account */
    /* try again */
    {20429, 0, NULL, NULL, RD_ERRC_TRANSIENT, "rate limited"},
    {20500, 0, NULL, NULL, RD_ERRC_TRANSIENT, "provider error"},
    {20503, 0, NULL, NULL, RD_ERRC_TRANSIENT, "provider error"},
    /* no (known) code: by HTTP status */
    {0, 401, NULL, NULL, RD_ERRC_ACCOUNT, "credentials"},
    {0, 403, NULL, NULL, RD_ERRC_ACCOUNT, "account"},
    {0, 404, NULL, NULL, RD_ERRC_ACCOUNT, "account"},
};

static void tw_classify(rd_work_kind_t kind, int st, const char *body, size_t len,
                        rd_work_result_t *out) {
    rd_provider_classify_json(RD_PROV_TWILIO, kind, st, body, len, NULL, "code", "message",
                              tw_rules, RD_ARRAY_LEN(tw_rules), out);
}

const rd_provider_ops_t rd_twilio_ops = {
    .kind = RD_PROV_TWILIO,
    .rate_calls = 1,
    .rate_seconds = 1,
    .dial = tw_dial,
    .poll = tw_poll,
    .sms = tw_sms,
    .classify = tw_classify,
};
