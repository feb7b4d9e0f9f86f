/*
 * sim_dial.c — the provider API requests that place or look up calls and
 * send SMS: call record creation, the shared dial path (faults, rate limit,
 * DLT/caller-id checks), exotel Connect and twilio Calls.json decoding
 * (incl. TwiML <Dial><Number>), call details, exotel and twilio SMS.
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- call creation ---- */

/* Returns the call index. */
static uint32_t call_create(rd_sim_t *s, const dial_t *d, uint8_t outcome, bool machine,
                            uint8_t agent_outcome, uint64_t queue_wall_ms) {
    if (s->ncalls == s->capcalls) {
        s->capcalls = s->capcalls ? s->capcalls * 2 : 4096;
        s->calls = rd_realloc(s->calls, s->capcalls * sizeof *s->calls);
    }
    uint32_t idx = (uint32_t)s->ncalls++;
    call_t *c = &s->calls[idx];
    memset(c, 0, sizeof *c);
    c->prov = (uint8_t)d->prov;
    c->want = d->want;
    c->cb_fmt = d->cb_fmt;
    c->amd = d->amd;
    c->agent = d->agent;
    c->agent_outcome = d->agent ? agent_outcome : RD_OUT_COMPLETED;
    c->number = rd_arena_strndup(&s->arena, d->number, strlen(d->number));
    c->from = d->from ? rd_arena_strndup(&s->arena, d->from, strlen(d->from)) : "";
    c->to = d->to ? rd_arena_strndup(&s->arena, d->to, strlen(d->to)) : c->number;
    c->key = d->key ? rd_arena_strndup(&s->arena, d->key, strlen(d->key)) : "";
    c->caller_id =
        d->caller_id ? rd_arena_strndup(&s->arena, d->caller_id, strlen(d->caller_id)) : "";
    c->cb_url = d->cb_url && d->cb_url[0]
                    ? rd_arena_strndup(&s->arena, d->cb_url, strlen(d->cb_url))
                    : NULL;
    /* The customer leg reports only when the agent answered and it was rung. */
    if (d->leg_url && d->leg_url[0] && c->agent_outcome == RD_OUT_COMPLETED) {
        c->leg_url = rd_arena_strndup(&s->arena, d->leg_url, strlen(d->leg_url));
        c->want |= 1u << CB_CUSTOMER;
    }
    c->reordered = c->cb_url && rd_sim__rng_u(&s->rng) < s->cfg.cb_reorder;
    if (c->reordered) s->st.cb_reordered++;
    int64_t now = rd_sim__now_policy(s);
    c->created_ms = now;
    /* Twilio queues a call above the account's calls-per-second: it starts
       ringing when its turn comes. */
    int64_t qp = rd_clock_policy_ms(&s->cfg.clock, (int64_t)queue_wall_ms);
    now += qp;
    double end_s, ans_s = 0;
    if (c->agent_outcome != RD_OUT_COMPLETED) /* the agent never answered: no customer leg */
        outcome = c->agent_outcome;
    switch (outcome) {
    case RD_OUT_COMPLETED: {
        ans_s = rd_sim__rng_range(&s->rng, s->cfg.ring_min_s, s->cfg.ring_max_s);
        if (d->ring_timeout_s > 0 && ans_s > d->ring_timeout_s) ans_s = d->ring_timeout_s * 0.9;
        double talk = rd_sim__rng_range(&s->rng, s->cfg.talk_min_s, s->cfg.talk_max_s);
        if (d->time_limit_s > 0 && talk > d->time_limit_s) talk = d->time_limit_s;
        end_s = ans_s + talk;
        c->answered_by =
            machine || rd_sim__rng_u(&s->rng) < s->cfg.machine_rate ? AB_MACHINE : AB_HUMAN;
        break;
    }
    case RD_OUT_BUSY:
        end_s = s->cfg.busy_s;
        break;
    case RD_OUT_NO_ANSWER:
        end_s = d->ring_timeout_s > 0 ? d->ring_timeout_s : s->cfg.no_answer_s;
        break;
    default:
        end_s = s->cfg.failed_s;
        break;
    }
    c->outcome = outcome;
    int64_t ans_ms = (int64_t)(ans_s * 1000), end_ms = (int64_t)(end_s * 1000);
    if (end_ms < 1) end_ms = 1;
    c->answer_ms = outcome == RD_OUT_COMPLETED ? now + ans_ms : 0;
    c->end_ms = now + end_ms;
    uint32_t nth;
    unsigned flags;
    c->ref_id = rd_referee_call_start(s->ref, c->number, c->key, now, &nth, &flags);
    uint64_t wall = uv_now(s->loop) + queue_wall_ms;
    if (outcome == RD_OUT_COMPLETED)
        rd_sim__heap_push(s, wall + rd_clock_wall_ms(&s->cfg.clock, ans_ms), idx, EV_ANSWER, 0, 0);
    rd_sim__heap_push(s, wall + rd_clock_wall_ms(&s->cfg.clock, end_ms), idx, EV_END, 0, 0);
    rd_sim__cb_schedule(s, idx, CB_INITIATED, wall);
    rd_sim__cb_schedule(s, idx, CB_RINGING, wall);
    return idx;
}

/* ---- handlers ---- */

/* Common rd_sim__dial path after decoding. Returns after answering req. */
void rd_sim__dial(rd_sim_t *s, rd_http_req_t *req, dial_t *d) {
    int so = rd_sim__script_next(s, d->number);
    double u = rd_sim__rng_u(&s->rng);
    if (so == SO_5XX || (so < 0 && u < s->cfg.fault_5xx)) {
        s->st.f5xx++;
        int st = u < s->cfg.fault_5xx / 2 ? 500 : 503;
        rd_sim__reply_error(s, req, d->prov, st, st == 500 ? 20500 : 20503,
                            "simulated provider failure", NULL);
        return;
    }
    u -= s->cfg.fault_5xx;
    if (so == SO_TIMEOUT || (so < 0 && u >= 0 && u < s->cfg.fault_timeout)) {
        s->st.ftimeout++;
        rd_sim__hold(s, req);
        return;
    }
    u -= s->cfg.fault_timeout;
    char ra[48];
    if (so == SO_429 || (so < 0 && u >= 0 && u < s->cfg.fault_429)) {
        s->st.f429++;
        snprintf(ra, sizeof ra, "Retry-After: %d\r\n", s->cfg.retry_after_s);
        rd_sim__reply_error(s, req, d->prov, 429, 20429, "too many requests", ra);
        return;
    }
    /* Configuration errors come before any dialing: a caller id that is not
       one of the account's numbers. */
    if (s->cfg.caller_ids[0] && !rd_sim__list_has(s->cfg.caller_ids, d->caller_id)) {
        s->st.bad_caller_id++;
        char m[160];
        if (d->prov == PROV_TWILIO)
            snprintf(m, sizeof m,
                     "The From phone number %.40s is not a valid phone number, shortcode, or "
                     "alphanumeric sender ID.",
                     d->caller_id);
        else
            snprintf(m, sizeof m, "CallerId %.40s is not an ExoPhone of this account",
                     d->caller_id);
        rd_sim__reply_error(s, req, d->prov, 400, 21212, m, NULL);
        return;
    }
    uint64_t queue_ms = 0;
    if (d->prov == PROV_TWILIO) {
        queue_ms = rd_sim__bucket_queue(s, &s->twi_bucket, s->cfg.twilio_rate_per_s);
        if (queue_ms) s->st.queued++;
    } else {
        int wait = rd_sim__bucket_take(s, &s->exo_bucket, s->cfg.exotel_rate_per_min / 60.0,
                                       s->cfg.exotel_rate_per_min);
        if (wait) {
            s->st.rate_limited++;
            snprintf(ra, sizeof ra, "Retry-After: %d\r\n", wait);
            rd_sim__reply_error(s, req, d->prov, 429, 20429, "account rate limit exceeded", ra);
            return;
        }
    }
    uint8_t outcome, agent_outcome = RD_OUT_COMPLETED;
    bool machine = false;
    if (so == SO_AGENT_BUSY || so == SO_AGENT_NOANSWER) {
        agent_outcome = so == SO_AGENT_BUSY ? RD_OUT_BUSY : RD_OUT_NO_ANSWER;
        outcome = agent_outcome;
    } else if (so == SO_MACHINE) {
        outcome = RD_OUT_COMPLETED;
        machine = true;
    } else if (so >= 0) {
        outcome = (uint8_t)so;
    } else {
        /* The seed model's attempt number: calls this number had so far. */
        outcome = rd_sim__model_outcome(s, rd_referee_number_calls(s->ref, d->number));
    }
    if (!rd_sim__e164(d->number)) outcome = RD_OUT_INVALID_NUMBER;
    if (outcome == RD_OUT_INVALID_NUMBER) {
        /* The provider refuses the request; the referee still saw a rd_sim__dial. */
        s->st.invalid++;
        uint32_t nth;
        unsigned fl;
        int64_t now = rd_sim__now_policy(s);
        uint32_t id = rd_referee_call_start(s->ref, d->number, d->key, now, &nth, &fl);
        rd_referee_call_end(s->ref, id, RD_OUT_INVALID_NUMBER, false, now);
        char m[96];
        snprintf(m, sizeof m, "The 'To' number %.40s is not a valid phone number.", d->number);
        rd_sim__reply_error(s, req, d->prov, 400, 21211, m, NULL);
        return;
    }
    s->st.dials[d->prov]++;
    uint32_t idx = call_create(s, d, outcome, machine, agent_outcome, queue_ms);
    s->out.len = 0;
    rd_sim__call_json(s, idx, &s->out, true);
    if (s->cfg.answer_delay_ms > 0)
        rd_sim__delay_reply(s, req, d->prov == PROV_TWILIO ? 201 : 200);
    else
        rd_sim__reply_json(s, req, d->prov == PROV_TWILIO ? 201 : 200, NULL);
}

static uint8_t parse_events(const char *v, uint8_t want) {
    if (!v) return want;
    if (strstr(v, "initiated")) want |= 1u << CB_INITIATED;
    if (strstr(v, "ringing")) want |= 1u << CB_RINGING;
    if (strstr(v, "answered")) want |= 1u << CB_ANSWERED;
    return want;
}

/* The attempt key from the StatusCallback URL's a= parameter (NULL when absent). */
static const char *key_from_url(const char *url, char *buf, size_t cap) {
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q) return NULL;
    const char *res = NULL;
    rd_form_t qf;
    rd_form_init(&qf);
    if (rd_form_parse(&qf, q + 1, strlen(q + 1)) == 0) {
        const char *a = rd_form_get(&qf, "a");
        if (a && strlen(a) < cap) {
            snprintf(buf, cap, "%s", a);
            res = buf;
        }
    }
    rd_form_deinit(&qf);
    return res;
}

void rd_sim__exotel_connect(rd_sim_t *s, rd_http_req_t *req) {
    long n = rd_sim__decode_form(s, req->body, req->body_len);
    if (n < 0) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_EXOTEL, 400, 0, "malformed form body", NULL);
        return;
    }
    dial_t d = {.prov = PROV_EXOTEL};
    d.from = rd_sim__fget(s, n, "From");
    d.to = rd_sim__fget(s, n, "To");
    d.caller_id = rd_sim__fget(s, n, "CallerId");
    d.key = rd_sim__fget(s, n, "CustomField");
    d.cb_url = rd_sim__fget(s, n, "StatusCallback");
    const char *ct = rd_sim__fget(s, n, "StatusCallbackContentType");
    d.agent = !rd_sim__fget(s, n, "Url");
    if (d.agent && ct && !strncasecmp(ct, "application/json", 16))
        d.cb_fmt = CBF_JSON;
    else if (d.agent && ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        d.cb_fmt = CBF_FORM;
    else
        d.cb_fmt = CBF_MULTIPART;
    const char *to = rd_sim__fget(s, n, "TimeOut"), *tl = rd_sim__fget(s, n, "TimeLimit");
    d.ring_timeout_s = to ? atof(to) : 0;
    d.time_limit_s = tl ? atof(tl) : 0;
    d.want = 1u << CB_TERMINAL;
    for (long i = 0; i < n; i++)
        if (!strncmp(s->pairs[i].key, "StatusCallbackEvents", 20))
            d.want = parse_events(s->pairs[i].val, d.want);
    /* Connect to flow: From is the customer; two numbers: From agent, To customer. */
    d.number = d.to && d.to[0] ? d.to : d.from;
    if (!d.from || !d.from[0] || !d.caller_id || !d.caller_id[0] ||
        (!rd_sim__fget(s, n, "Url") && !(d.to && d.to[0]))) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_EXOTEL, 400, 0,
                            "From, CallerId and To or Url are required", NULL);
        return;
    }
    char keybuf[RD_ATTEMPT_KEY_MAX + 32];
    if (!d.key || !d.key[0]) d.key = key_from_url(d.cb_url, keybuf, sizeof keybuf);
    if (d.key && strlen(d.key) > 128) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_EXOTEL, 400, 0, "CustomField longer than 128 characters",
                            NULL);
        return;
    }
    rd_sim__dial(s, req, &d);
}

/* XML text `v`[0..n) unescaped (&amp; &lt; &gt; &quot; &apos;) into out. */
static int xml_text(const char *v, size_t n, char *out, size_t cap) {
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = v[i];
        size_t step = 1;
        if (ch == '&') {
            size_t k = 0;
            for (; k < RD_ARRAY_LEN(ent); k++) {
                size_t el = strlen(ent[k][0]);
                if (i + el <= n && !memcmp(v + i, ent[k][0], el)) {
                    ch = ent[k][1][0];
                    step = el;
                    break;
                }
            }
            if (k == RD_ARRAY_LEN(ent)) return -1;
        }
        if (o + 1 >= cap) return -1;
        out[o++] = ch;
        i += step;
    }
    out[o] = '\0';
    return 0;
}

/* The customer of an agent-mode TwiML: the first <Number>'s text and its
   statusCallback attribute ("" when absent). -1 when there is none. */
static int twiml_number(const char *tw, char *num, size_t ncap, char *url, size_t ucap) {
    const char *open = strstr(tw, "<Number");
    const char *gt = open ? strchr(open, '>') : NULL;
    const char *close = gt ? strstr(gt, "</Number>") : NULL;
    if (!close) return -1;
    url[0] = '\0';
    const char *a = strstr(open, " statusCallback=\"");
    if (a && a < gt) {
        a += strlen(" statusCallback=\"");
        const char *q = memchr(a, '"', (size_t)(gt - a));
        if (!q || xml_text(a, (size_t)(q - a), url, ucap) != 0) return -1;
    }
    return xml_text(gt + 1, (size_t)(close - gt - 1), num, ncap);
}

void rd_sim__twilio_create(rd_sim_t *s, rd_http_req_t *req) {
    long n = rd_sim__decode_form(s, req->body, req->body_len);
    if (n < 0) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_TWILIO, 400, 21200, "malformed form body", NULL);
        return;
    }
    dial_t d = {.prov = PROV_TWILIO};
    d.from = rd_sim__fget(s, n, "From");
    d.to = rd_sim__fget(s, n, "To");
    d.caller_id = d.from;
    d.cb_url = rd_sim__fget(s, n, "StatusCallback");
    const char *to = rd_sim__fget(s, n, "Timeout"), *tl = rd_sim__fget(s, n, "TimeLimit");
    d.ring_timeout_s = to ? atof(to) : 0;
    d.time_limit_s = tl ? atof(tl) : 0;
    d.amd = rd_sim__fget(s, n, "MachineDetection") != NULL;
    d.want = 1u << CB_TERMINAL;
    for (long i = 0; i < n; i++)
        if (!strcmp(s->pairs[i].key, "StatusCallbackEvent"))
            d.want = parse_events(s->pairs[i].val, d.want);
    bool no_to = !d.to || !d.to[0], no_from = !d.from || !d.from[0];
    if (no_to || no_from || !(rd_sim__fget(s, n, "Url") || rd_sim__fget(s, n, "Twiml"))) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_TWILIO, 400,
                            no_to     ? 21201
                            : no_from ? 21213
                                      : 21205,
                            no_to     ? "No 'To' number is specified"
                            : no_from ? "A 'From' phone number is required."
                                      : "Url is required",
                            NULL);
        return;
    }
    d.number = d.to;
    char keybuf[RD_ATTEMPT_KEY_MAX + 32];
    d.key = key_from_url(d.cb_url, keybuf, sizeof keybuf);
    /* Agent mode: To is the agent; the TwiML <Dial>s the customer. */
    char num[64], leg_url[1024];
    const char *tw = rd_sim__fget(s, n, "Twiml");
    if (!rd_sim__fget(s, n, "Url") && tw) {
        if (twiml_number(tw, num, sizeof num, leg_url, sizeof leg_url) != 0) {
            s->st.bad++;
            rd_sim__reply_error(s, req, PROV_TWILIO, 400, 21205, "Twiml has no <Dial><Number>",
                                NULL);
            return;
        }
        d.agent = true;
        d.number = num;
        d.leg_url = leg_url[0] ? leg_url : NULL;
        if (d.leg_url) d.want |= 1u << CB_CUSTOMER;
    }
    rd_sim__dial(s, req, &d);
}

void rd_sim__details(rd_sim_t *s, rd_http_req_t *req, int prov, const char *sid, size_t len) {
    uint32_t idx;
    s->st.polls++;
    if (!rd_sim__parse_sid(s, sid, len, &idx) || s->calls[idx].prov != prov) {
        s->st.not_found++;
        rd_sim__reply_error(s, req, prov, 404, 20404, "The requested resource was not found", NULL);
        return;
    }
    s->out.len = 0;
    rd_sim__call_json(s, idx, &s->out, false);
    rd_sim__reply_json(s, req, 200, NULL);
}

void rd_sim__exotel_sms(rd_sim_t *s, rd_http_req_t *req) {
    long n = rd_sim__decode_form(s, req->body, req->body_len);
    const char *to = n >= 0 ? rd_sim__fget(s, n, "To") : NULL;
    const char *body = n >= 0 ? rd_sim__fget(s, n, "Body") : NULL;
    if (!to || !body || !rd_sim__e164(to)) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_EXOTEL, 400, 0, "To (E.164) and Body are required", NULL);
        return;
    }
    const char *ent = rd_sim__fget(s, n, "DltEntityId"), *tpl = rd_sim__fget(s, n, "DltTemplateId");
    if (!ent || !ent[0] || !tpl || !tpl[0]) {
        s->st.dlt_refused++;
        rd_sim__reply_error(s, req, PROV_EXOTEL, 400, 0,
                            "DltEntityId and DltTemplateId are required for SMS to Indian numbers",
                            NULL);
        return;
    }
    s->st.sms++;
    char date[64];
    rd_sim__fmt_exotel_time(date, sizeof date, rd_sim__now_policy(s));
    s->out.len = 0;
    rd_sim__sb_printf(&s->out, "{\"SMSMessage\":{\"Sid\":\"sms%016llx%013llu\",\"AccountSid\":",
                      (unsigned long long)s->instance, (unsigned long long)s->st.sms);
    rd_sim__sb_jstr(&s->out, s->cfg.exotel_sid);
    SB_LIT(&s->out, ",\"To\":");
    rd_sim__sb_jstr(&s->out, to);
    rd_sim__sb_printf(&s->out, ",\"Status\":\"queued\",\"DateCreated\":\"%s\",\"Body\":", date);
    rd_sim__sb_jstr(&s->out, body);
    SB_LIT(&s->out, "}}");
    rd_sim__reply_json(s, req, 200, NULL);
}

/* Twilio Messages.json: From, To, Body -> 201 message resource. */
void rd_sim__twilio_sms(rd_sim_t *s, rd_http_req_t *req) {
    long n = rd_sim__decode_form(s, req->body, req->body_len);
    const char *to = n >= 0 ? rd_sim__fget(s, n, "To") : NULL,
               *from = n >= 0 ? rd_sim__fget(s, n, "From") : NULL;
    const char *body = n >= 0 ? rd_sim__fget(s, n, "Body") : NULL;
    if (!to || !rd_sim__e164(to)) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_TWILIO, 400, 21211,
                            "The 'To' number is not a valid phone number.", NULL);
        return;
    }
    if (!from || !from[0]) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_TWILIO, 400, 21603, "A 'From' phone number is required.",
                            NULL);
        return;
    }
    if (!body || !body[0]) {
        s->st.bad++;
        rd_sim__reply_error(s, req, PROV_TWILIO, 400, 21602, "Message body is required.", NULL);
        return;
    }
    s->st.sms++;
    char date[64];
    rd_sim__fmt_rfc2822(date, sizeof date, rd_sim__now_policy(s));
    s->out.len = 0;
    rd_sim__sb_printf(&s->out, "{\"sid\":\"SM%016llx%016llx\",\"account_sid\":",
                      (unsigned long long)s->instance, (unsigned long long)s->st.sms);
    rd_sim__sb_jstr(&s->out, s->cfg.twilio_sid);
    SB_LIT(&s->out, ",\"to\":");
    rd_sim__sb_jstr(&s->out, to);
    SB_LIT(&s->out, ",\"from\":");
    rd_sim__sb_jstr(&s->out, from);
    SB_LIT(&s->out, ",\"body\":");
    rd_sim__sb_jstr(&s->out, body);
    rd_sim__sb_printf(&s->out,
                      ",\"status\":\"queued\",\"direction\":\"outbound-api\",\"api_version\":"
                      "\"2010-04-01\",\"date_created\":\"%s\",\"error_code\":null}",
                      date);
    rd_sim__reply_json(s, req, 201, NULL);
}
