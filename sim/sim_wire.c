/*
 * sim_wire.c — the providers' wire formats out of the simulator: exotel and
 * twilio time and call-id formatting, status words, error replies, the call
 * resource (JSON), and the status callbacks (bodies built per provider and
 * content type, delivery with retries, scheduling of each event).
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- formatting of times and ids ---- */

void rd_sim__fmt_exotel_time(char *buf, size_t len, int64_t ms) {
    /* exotel: "YYYY-MM-DD HH:MM:SS" in India time, no offset. */
    time_t t = (time_t)(ms / 1000) + 19800;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

void rd_sim__fmt_rfc2822(char *buf, size_t len, int64_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void rd_sim__fmt_sid(const rd_sim_t *s, const call_t *c, uint32_t idx, char *buf, size_t len) {
    snprintf(buf, len, "%s%016llx%016llx", c->prov == PROV_TWILIO ? "CA" : "",
             (unsigned long long)s->instance, (unsigned long long)idx);
}

/* Call index from a sid; false when it is not one of ours. */
bool rd_sim__parse_sid(const rd_sim_t *s, const char *sid, size_t len, uint32_t *idx) {
    if (len == 34 && sid[0] == 'C' && sid[1] == 'A') {
        sid += 2;
        len -= 2;
    }
    if (len != 32) return false;
    char a[17], b[17];
    memcpy(a, sid, 16);
    a[16] = '\0';
    memcpy(b, sid + 16, 16);
    b[16] = '\0';
    for (int i = 0; i < 32; i++) {
        char ch = sid[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
    }
    if (strtoull(a, NULL, 16) != s->instance) return false;
    unsigned long long i = strtoull(b, NULL, 16);
    if (i >= s->ncalls) return false;
    *idx = (uint32_t)i;
    return true;
}

const char *rd_sim__status_word(const call_t *c) {
    if (c->state == ST_RINGING) return "ringing";
    if (c->state == ST_ANSWERED) return "in-progress";
    switch (c->outcome) {
    case RD_OUT_COMPLETED:
        return "completed";
    case RD_OUT_BUSY:
        return "busy";
    case RD_OUT_NO_ANSWER:
        return "no-answer";
    default:
        return "failed";
    }
}

/* The status of the call redial placed: in twilio agent mode the agent's
   leg, which has talked once the agent answered, whatever the customer did. */
static const char *placed_word(const call_t *c) {
    if (c->prov == PROV_TWILIO && c->agent && c->agent_outcome == RD_OUT_COMPLETED)
        return c->state == ST_ENDED ? "completed" : "in-progress";
    return rd_sim__status_word(c);
}

static const char *answered_word(const call_t *c) {
    if (c->prov == PROV_TWILIO) {
        if (c->answered_by == AB_HUMAN) return "human";
        if (c->answered_by == AB_MACHINE) return "machine_start";
        return "unknown";
    }
    if (c->answered_by == AB_HUMAN) return "Human";
    if (c->answered_by == AB_MACHINE) return "Machine";
    return "NA";
}

static int64_t duration_s(const call_t *c) {
    if (c->state != ST_ENDED || c->outcome != RD_OUT_COMPLETED) return 0;
    return (c->end_ms - c->answer_ms) / 1000;
}

/* ---- responses ---- */

void rd_sim__reply_json(rd_sim_t *s, rd_http_req_t *req, int status, const char *extra) {
    rd_http_respond(req, status, "application/json", extra, s->out.p, s->out.len);
}

/*
 * An error answer in the provider's shape. twilio_code is the documented
 * Twilio error code of the cause (21211 invalid 'To', 21212 invalid caller
 * id, 21201 / 21213 / 21205 missing To / From / Url, 20003 authentication,
 * 20404 not found, 20429 too many requests, 20500 / 20503 server errors);
 * exotel's v1 errors carry only the status and a message.
 */
void rd_sim__reply_error(rd_sim_t *s, rd_http_req_t *req, int prov, int status, int twilio_code,
                         const char *msg, const char *extra) {
    s->out.len = 0;
    if (prov == PROV_TWILIO) {
        rd_sim__sb_printf(&s->out, "{\"code\":%d,\"message\":", twilio_code);
        rd_sim__sb_jstr(&s->out, msg);
        rd_sim__sb_printf(&s->out,
                          ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\",\"status\":%d}",
                          twilio_code, status);
    } else {
        rd_sim__sb_printf(&s->out, "{\"RestException\":{\"Status\":%d,\"Message\":", status);
        rd_sim__sb_jstr(&s->out, msg);
        SB_LIT(&s->out, "}}");
    }
    rd_sim__reply_json(s, req, status, extra);
}

/* Exotel leg list. Flow mode: one leg, the customer. Agent mode: leg 1
   the agent (called first), leg 2 the customer — absent when the agent
   did not answer (the customer was never called). dur "-1" leaves
   OnCallDuration out. */
static void legs_json(const call_t *c, sb_t *b, const char *dur) {
    bool ended = c->state == ST_ENDED;
    const char *ab = ended ? answered_word(c) : "NA";
    SB_LIT(b, "[");
    if (c->agent) {
        const char *ast =
            c->agent_outcome != RD_OUT_COMPLETED
                ? (ended ? (c->agent_outcome == RD_OUT_BUSY ? "busy" : "no-answer") : "ringing")
                : (ended ? "completed" : "in-progress");
        rd_sim__sb_printf(b, "{\"Id\":1,\"Status\":\"%s\",\"AnsweredBy\":\"%s\"}", ast,
                          c->agent_outcome == RD_OUT_COMPLETED ? "Human" : "NA");
        if (c->agent_outcome != RD_OUT_COMPLETED) {
            SB_LIT(b, "]");
            return;
        }
        SB_LIT(b, ",");
    }
    rd_sim__sb_printf(b, "{\"Id\":%d,\"Status\":\"%s\"", c->agent ? 2 : 1, rd_sim__status_word(c));
    if (strcmp(dur, "-1") != 0) rd_sim__sb_printf(b, ",\"OnCallDuration\":%s", dur);
    rd_sim__sb_printf(b, ",\"AnsweredBy\":\"%s\"}]", ab);
}

/* Exotel leg list as form fields (Legs[i][...]). */
static void legs_form(const call_t *c, sb_t *b, const char *status, const char *dur,
                      const char *ab) {
    int i = 0;
    char k[40];
    if (c->agent) {
        bool ok = c->agent_outcome == RD_OUT_COMPLETED;
        rd_sim__sb_form(b, "Legs[0][Status]",
                        ok                                ? "completed"
                        : c->agent_outcome == RD_OUT_BUSY ? "busy"
                                                          : "no-answer");
        rd_sim__sb_form(b, "Legs[0][OnCallDuration]", ok ? dur : "0");
        rd_sim__sb_form(b, "Legs[0][AnsweredBy]", ok ? "Human" : "NA");
        if (!ok) return;
        i = 1;
    }
    snprintf(k, sizeof k, "Legs[%d][Status]", i);
    rd_sim__sb_form(b, k, status);
    snprintf(k, sizeof k, "Legs[%d][OnCallDuration]", i);
    rd_sim__sb_form(b, k, dur);
    snprintf(k, sizeof k, "Legs[%d][AnsweredBy]", i);
    rd_sim__sb_form(b, k, ab);
}

/* Call resource JSON in the provider's shape (response and rd_sim__details alike). */
void rd_sim__call_json(rd_sim_t *s, uint32_t idx, sb_t *b, bool fresh) {
    call_t *c = &s->calls[idx];
    char sid[40], created[64], updated[64], start[64], end[64];
    rd_sim__fmt_sid(s, c, idx, sid, sizeof sid);
    int64_t upd = c->state == ST_ENDED      ? c->end_ms
                  : c->state == ST_ANSWERED ? c->answer_ms
                                            : c->created_ms;
    if (c->prov == PROV_TWILIO) {
        rd_sim__fmt_rfc2822(created, sizeof created, c->created_ms);
        rd_sim__fmt_rfc2822(updated, sizeof updated, upd);
        rd_sim__fmt_rfc2822(start, sizeof start, c->answer_ms ? c->answer_ms : c->created_ms);
        rd_sim__fmt_rfc2822(end, sizeof end, c->end_ms);
        rd_sim__sb_printf(b, "{\"sid\":\"%s\",\"account_sid\":", sid);
        rd_sim__sb_jstr(b, s->cfg.twilio_sid);
        SB_LIT(b, ",\"to\":");
        rd_sim__sb_jstr(b, c->to);
        SB_LIT(b, ",\"from\":");
        rd_sim__sb_jstr(b, c->from);
        rd_sim__sb_printf(
            b,
            ",\"status\":\"%s\",\"direction\":\"outbound-api\",\"api_version\":\"2010-04-01\","
            "\"date_created\":\"%s\",\"date_updated\":\"%s\",\"start_time\":",
            fresh ? "queued" : placed_word(c), created, updated);
        if (c->state == ST_RINGING)
            SB_LIT(b, "null");
        else
            rd_sim__sb_printf(b, "\"%s\"", start);
        SB_LIT(b, ",\"end_time\":");
        if (c->state == ST_ENDED)
            rd_sim__sb_printf(b, "\"%s\",\"duration\":\"%lld\"", end, (long long)duration_s(c));
        else
            SB_LIT(b, "null,\"duration\":null");
        SB_LIT(b, ",\"answered_by\":");
        if (!fresh && c->amd && c->state != ST_RINGING && c->answered_by != AB_NONE)
            rd_sim__sb_printf(b, "\"%s\"", answered_word(c));
        else
            SB_LIT(b, "null");
        rd_sim__sb_printf(b, ",\"uri\":\"/2010-04-01/Accounts/%s/Calls/%s.json\"}",
                          s->cfg.twilio_sid, sid);
        return;
    }
    rd_sim__fmt_exotel_time(created, sizeof created, c->created_ms);
    rd_sim__fmt_exotel_time(updated, sizeof updated, upd);
    rd_sim__fmt_exotel_time(start, sizeof start, c->created_ms);
    rd_sim__fmt_exotel_time(end, sizeof end, c->end_ms);
    rd_sim__sb_printf(b,
                      "{\"Call\":{\"Sid\":\"%s\",\"ParentCallSid\":null,\"DateCreated\":\"%s\","
                      "\"DateUpdated\":\"%s\",\"AccountSid\":",
                      sid, created, updated);
    rd_sim__sb_jstr(b, s->cfg.exotel_sid);
    SB_LIT(b, ",\"To\":");
    rd_sim__sb_jstr(b, c->to);
    SB_LIT(b, ",\"From\":");
    rd_sim__sb_jstr(b, c->from);
    SB_LIT(b, ",\"PhoneNumberSid\":");
    rd_sim__sb_jstr(b, c->caller_id);
    rd_sim__sb_printf(b, ",\"Status\":\"%s\",\"StartTime\":\"%s\",\"EndTime\":",
                      fresh ? "queued" : rd_sim__status_word(c), start);
    if (c->state == ST_ENDED)
        rd_sim__sb_printf(b, "\"%s\",\"Duration\":\"%lld\"", end, (long long)duration_s(c));
    else
        SB_LIT(b, "null,\"Duration\":null");
    SB_LIT(b, ",\"Price\":null,\"Direction\":\"outbound-api\",\"AnsweredBy\":");
    if (c->state == ST_ENDED)
        rd_sim__sb_printf(b, "\"%s\"", answered_word(c));
    else
        SB_LIT(b, "null");
    SB_LIT(b, ",\"CustomField\":");
    rd_sim__sb_jstr(b, c->key);
    SB_LIT(b, ",\"Legs\":");
    legs_json(c, b, "-1");
    rd_sim__sb_printf(b, ",\"Uri\":\"/v1/Accounts/%s/Calls/%s.json\"}}", s->cfg.exotel_sid, sid);
}

/* ---- callbacks ---- */

static void build_callback(rd_sim_t *s, uint32_t idx, uint8_t ev, sb_t *b, bool *json) {
    call_t *c = &s->calls[idx];
    char sid[40], t[64];
    rd_sim__fmt_sid(s, c, idx, sid, sizeof sid);
    b->len = 0;
    if (b->p) b->p[0] = '\0';
    *json = false;
    bool leg = ev == CB_CUSTOMER;
    const char *status = ev == CB_INITIATED  ? "initiated"
                         : ev == CB_RINGING  ? "ringing"
                         : ev == CB_ANSWERED ? "in-progress"
                         : ev == CB_CUSTOMER ? rd_sim__status_word(c)
                                             : placed_word(c);
    if (ev == CB_CUSTOMER) ev = CB_TERMINAL;
    int64_t at = ev == CB_TERMINAL ? c->end_ms : ev == CB_ANSWERED ? c->answer_ms : c->created_ms;
    char dur[24];
    snprintf(dur, sizeof dur, "%lld", (long long)(ev == CB_TERMINAL ? duration_s(c) : 0));
    if (c->prov == PROV_TWILIO) {
        char seq[16];
        snprintf(seq, sizeof seq, "%u", (unsigned)c->seq++);
        rd_sim__fmt_rfc2822(t, sizeof t, at);
        rd_sim__sb_form(b, "AccountSid", s->cfg.twilio_sid);
        rd_sim__sb_form(b, "ApiVersion", "2010-04-01");
        if (leg) {
            /* The customer leg: a call of its own, child of ours. */
            char child[40];
            snprintf(child, sizeof child, "%s", sid);
            child[2] = child[2] == 'f' ? 'e' : 'f';
            rd_sim__sb_form(b, "CallSid", child);
            rd_sim__sb_form(b, "ParentCallSid", sid);
        } else {
            rd_sim__sb_form(b, "CallSid", sid);
        }
        const char *to = leg ? c->number : c->to;
        rd_sim__sb_form(b, "CallStatus", status);
        rd_sim__sb_form(b, "Called", to);
        rd_sim__sb_form(b, "Caller", c->from);
        rd_sim__sb_form(b, "Direction", leg ? "outbound-rd_sim__dial" : "outbound-api");
        rd_sim__sb_form(b, "From", c->from);
        rd_sim__sb_form(b, "To", to);
        rd_sim__sb_form(b, "SequenceNumber", seq);
        rd_sim__sb_form(b, "Timestamp", t);
        rd_sim__sb_form(b, "CallbackSource", "call-progress-events");
        if (ev == CB_TERMINAL) rd_sim__sb_form(b, "CallDuration", dur);
        if (c->amd && (ev == CB_TERMINAL || ev == CB_ANSWERED) && c->answered_by != AB_NONE &&
            (leg || !c->agent))
            rd_sim__sb_form(b, "AnsweredBy", answered_word(c));
        return;
    }
    char start[64], end[64];
    rd_sim__fmt_exotel_time(t, sizeof t, at);
    rd_sim__fmt_exotel_time(start, sizeof start, c->created_ms);
    rd_sim__fmt_exotel_time(end, sizeof end, c->end_ms);
    const char *ab = ev == CB_TERMINAL ? answered_word(c) : "NA";
    if (c->cb_fmt == CBF_JSON) {
        *json = true;
        rd_sim__sb_printf(
            b,
            "{\"CallSid\":\"%s\",\"EventType\":\"%s\",\"Status\":\"%s\",\"DateUpdated\":\"%s\","
            "\"CustomField\":",
            sid, ev == CB_TERMINAL ? "terminal" : "answered", status, t);
        rd_sim__sb_jstr(b, c->key);
        rd_sim__sb_printf(b, ",\"StartTime\":\"%s\",\"EndTime\":", start);
        if (ev == CB_TERMINAL)
            rd_sim__sb_printf(b, "\"%s\"", end);
        else
            SB_LIT(b, "null");
        rd_sim__sb_printf(
            b, ",\"ConversationDuration\":%s,\"Direction\":\"outbound-api\",\"From\":", dur);
        rd_sim__sb_jstr(b, c->from);
        SB_LIT(b, ",\"To\":");
        rd_sim__sb_jstr(b, c->to);
        SB_LIT(b, ",\"Legs\":");
        if (ev == CB_TERMINAL) {
            legs_json(c, b, dur);
        } else {
            rd_sim__sb_printf(b, "[{\"Id\":1,\"Status\":\"%s\",\"AnsweredBy\":\"%s\"}]", status,
                              ab);
        }
        SB_LIT(b, "}");
        return;
    }
    rd_sim__sb_form(b, "CallSid", sid);
    rd_sim__sb_form(b, "EventType", ev == CB_TERMINAL ? "terminal" : "answered");
    rd_sim__sb_form(b, "Status", status);
    rd_sim__sb_form(b, "DateUpdated", t);
    rd_sim__sb_form(b, "CustomField", c->key);
    rd_sim__sb_form(b, "RecordingUrl", "");
    rd_sim__sb_form(b, "StartTime", start);
    rd_sim__sb_form(b, "EndTime", ev == CB_TERMINAL ? end : "");
    rd_sim__sb_form(b, "ConversationDuration", dur);
    rd_sim__sb_form(b, "Direction", "outbound-api");
    rd_sim__sb_form(b, "From", c->from);
    rd_sim__sb_form(b, "To", c->to);
    if (ev == CB_TERMINAL) {
        legs_form(c, b, status, dur, ab);
    } else {
        rd_sim__sb_form(b, "Legs[0][Status]", status);
        rd_sim__sb_form(b, "Legs[0][OnCallDuration]", dur);
        rd_sim__sb_form(b, "Legs[0][AnsweredBy]", ab);
    }
}

/* Re-encodes the urlencoded form in `in` as multipart/form-data into `out`
   (exotel's default callback body). */
static void to_multipart(const sb_t *in, sb_t *out) {
    rd_form_t f;
    rd_form_init(&f);
    out->len = 0;
    if (rd_form_parse(&f, in->p, in->len) != 0) return;
    for (size_t i = 0; i < f.n; i++) {
        rd_sim__sb_printf(out, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n",
                          SIM_BOUNDARY, f.pairs[i].key);
        rd_sim__sb_reserve(out, f.pairs[i].vlen + 2);
        memcpy(out->p + out->len, f.pairs[i].val, f.pairs[i].vlen);
        out->len += f.pairs[i].vlen;
        SB_LIT(out, "\r\n");
    }
    rd_sim__sb_printf(out, "--%s--\r\n", SIM_BOUNDARY);
    rd_form_deinit(&f);
}

static void on_cb_done(void *ctx, int status, const char *err) {
    cbx_t *x = ctx;
    rd_sim_t *s = x->sim;
    call_t *c = &s->calls[x->call];
    uint32_t idx = x->call;
    uint8_t ev = x->ev, tries = x->tries;
    x->next = s->cbx_free;
    s->cbx_free = x;
    if (status >= 200 && status < 300) {
        c->cb_delivered++;
        s->st.cb_delivered++;
        return;
    }
    if (status >= 0 && !s->closing && (int)tries < s->cfg.cb_retries) {
        s->st.cb_retried++;
        rd_sim__heap_push(s, uv_now(s->loop) + (uint64_t)s->cfg.cb_retry_ms, idx, EV_CB, ev,
                          (uint8_t)(tries + 1));
        return;
    }
    c->cb_failed++;
    s->st.cb_failed++;
    if (s->cfg.log_requests && status >= 0)
        fprintf(stderr, "redial-sim: callback for call %u gave up: HTTP %d %s\n", idx, status, err);
}

void rd_sim__cb_deliver(rd_sim_t *s, uint32_t idx, uint8_t ev, uint8_t tries) {
    call_t *c = &s->calls[idx];
    bool json;
    build_callback(s, idx, ev, &s->body, &json);
    const char *url = ev == CB_CUSTOMER ? c->leg_url : c->cb_url;
    char sig_hdr[64];
    const char *extra = NULL;
    if (c->prov == PROV_TWILIO) {
        char sig[RD_TWILIO_SIG_LEN + 1];
        if (rd_twilio_signature(s->cfg.twilio_token, url, strlen(url), s->body.p, s->body.len,
                                sig) == 0) {
            snprintf(sig_hdr, sizeof sig_hdr, "X-Twilio-Signature: %s", sig);
            extra = sig_hdr;
        }
    }
    cbx_t *x = s->cbx_free;
    if (x)
        s->cbx_free = x->next;
    else
        x = rd_malloc(sizeof *x);
    x->sim = s;
    x->call = idx;
    x->ev = ev;
    x->tries = tries;
    c->cb_sent++;
    s->st.cb_sent++;
    const sb_t *body = &s->body;
    const char *ctype = json ? "application/json" : "application/x-www-form-urlencoded";
    if (c->prov == PROV_EXOTEL && c->cb_fmt == CBF_MULTIPART) {
        to_multipart(&s->body, &s->mp);
        body = &s->mp;
        ctype = "multipart/form-data; boundary=" SIM_BOUNDARY;
    }
    if (rd_cbsend_post(s->cb, url, ctype, extra, body->p, body->len, on_cb_done, x) != 0) {
        x->next = s->cbx_free;
        s->cbx_free = x;
        c->cb_failed++;
        s->st.cb_failed++;
    }
}

/* Decides loss / delay / duplication of one callback event happening now. */
void rd_sim__cb_schedule(rd_sim_t *s, uint32_t idx, uint8_t ev, uint64_t base) {
    call_t *c = &s->calls[idx];
    if (!(ev == CB_CUSTOMER ? c->leg_url : c->cb_url) || !(c->want & (1u << ev))) return;
    c->cb_scheduled++;
    s->st.cb_scheduled++;
    if (rd_sim__rng_u(&s->rng) < s->cfg.cb_loss) {
        c->cb_lost++;
        s->st.cb_lost++;
        return;
    }
    uint64_t d =
        (uint64_t)rd_sim__rng_range(&s->rng, s->cfg.cb_delay_min_ms, s->cfg.cb_delay_max_ms);
    if (c->reordered) {
        /* Non-terminal events arrive after the terminal one; the terminal one late. */
        uint64_t call_left =
            c->state == ST_ENDED
                ? 0
                : rd_clock_wall_ms(&s->cfg.clock, c->end_ms - rd_sim__now_policy(s));
        if (ev != CB_TERMINAL && ev != CB_CUSTOMER)
            d += call_left + (uint64_t)s->cfg.cb_delay_max_ms + 1 +
                 (uint64_t)rd_sim__rng_range(&s->rng, 0, s->cfg.cb_reorder_ms);
        else
            d += (uint64_t)rd_sim__rng_range(&s->rng, 0, s->cfg.cb_reorder_ms);
    }
    rd_sim__heap_push(s, base + d, idx, EV_CB, ev, 0);
    if (rd_sim__rng_u(&s->rng) < s->cfg.cb_dup) {
        c->cb_dup++;
        s->st.cb_dup++;
        uint64_t d2 = (uint64_t)rd_sim__rng_range(&s->rng, s->cfg.cb_delay_min_ms,
                                                  s->cfg.cb_delay_max_ms + 50);
        rd_sim__heap_push(s, base + d + d2, idx, EV_CB, ev, 0);
    }
}
