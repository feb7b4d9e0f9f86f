/*
 * sim_control.c — the /sim/ control endpoints: per-call and per-number
 * inspection, DND/opt-out/campaign posting, the JSON report (referee totals
 * plus simulator counters) and the POST /sim/... dispatcher.
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- /sim/ control endpoints ---- */

static void sim_call(rd_sim_t *s, rd_http_req_t *req, const char *sid, size_t len) {
    uint32_t idx;
    if (!rd_sim__parse_sid(s, sid, len, &idx)) {
        rd_http_respond_error(req, 404, "call not found");
        return;
    }
    call_t *c = &s->calls[idx];
    char sidb[40];
    rd_sim__fmt_sid(s, c, idx, sidb, sizeof sidb);
    sb_t *b = &s->out;
    b->len = 0;
    rd_sim__sb_printf(b, "{\"sid\":\"%s\",\"provider\":\"%s\",\"number\":", sidb,
                      c->prov == PROV_TWILIO ? "twilio" : "exotel");
    rd_sim__sb_jstr(b, c->number);
    SB_LIT(b, ",\"from\":");
    rd_sim__sb_jstr(b, c->from);
    SB_LIT(b, ",\"to\":");
    rd_sim__sb_jstr(b, c->to);
    SB_LIT(b, ",\"attempt_key\":");
    rd_sim__sb_jstr(b, c->key);
    SB_LIT(b, ",\"status_callback\":");
    rd_sim__sb_jstr(b, c->cb_url);
    rd_sim__sb_printf(
        b,
        ",\"outcome\":\"%s\",\"status\":\"%s\",\"state\":\"%s\",\"answered_by\":\"%s\","
        "\"created_ms\":%lld,\"answer_ms\":%lld,\"end_ms\":%lld,\"reordered\":%s,"
        "\"callbacks\":{\"scheduled\":%u,\"sent\":%u,\"delivered\":%u,\"failed\":%u,"
        "\"lost\":%u,\"duplicated\":%u}}",
        rd_outcome_name((rd_outcome_t)c->outcome), rd_sim__status_word(c),
        c->state == ST_ENDED      ? "ended"
        : c->state == ST_ANSWERED ? "answered"
                                  : "ringing",
        c->answered_by == AB_HUMAN     ? "human"
        : c->answered_by == AB_MACHINE ? "machine"
                                       : "none",
        (long long)c->created_ms, (long long)c->answer_ms, (long long)c->end_ms,
        c->reordered ? "true" : "false", c->cb_scheduled, c->cb_sent, c->cb_delivered, c->cb_failed,
        c->cb_lost, c->cb_dup);
    rd_sim__reply_json(s, req, 200, NULL);
}

/* Every call to one number, oldest first (a scan: for tests and debugging). */
static void sim_number(rd_sim_t *s, rd_http_req_t *req, const char *enc, size_t len) {
    char num[64];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < sizeof num; i++) {
        if (enc[i] == '%' && i + 2 < len && !strncasecmp(enc + i, "%2B", 3)) {
            num[o++] = '+';
            i += 2;
        } else {
            num[o++] = enc[i];
        }
    }
    num[o] = '\0';
    sb_t *b = &s->out;
    b->len = 0;
    SB_LIT(b, "{\"number\":");
    rd_sim__sb_jstr(b, num);
    SB_LIT(b, ",\"calls\":[");
    size_t n = 0;
    for (size_t i = 0; i < s->ncalls; i++) {
        const call_t *c = &s->calls[i];
        if (strcmp(c->number, num) != 0) continue;
        char sid[40];
        rd_sim__fmt_sid(s, c, (uint32_t)i, sid, sizeof sid);
        rd_sim__sb_printf(b, "%s{\"sid\":\"%s\",\"attempt_key\":", n++ ? "," : "", sid);
        rd_sim__sb_jstr(b, c->key);
        rd_sim__sb_printf(
            b, ",\"outcome\":\"%s\",\"state\":\"%s\",\"created_ms\":%lld,\"end_ms\":%lld}",
            rd_outcome_name((rd_outcome_t)c->outcome),
            c->state == ST_ENDED      ? "ended"
            : c->state == ST_ANSWERED ? "answered"
                                      : "ringing",
            (long long)c->created_ms, (long long)c->end_ms);
    }
    rd_sim__sb_printf(b, "],\"count\":%zu}", n);
    rd_sim__reply_json(s, req, 200, NULL);
}

/* Body: {"numbers":[...]} or [...]. Calls fn per number. Returns count or -1. */
static long each_number(rd_sim_t *s, rd_http_req_t *req, bool optout) {
    json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *arr = json_is_array(root) ? root : json_object_get(root, "numbers");
    if (!json_is_array(arr)) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *v;
    long n = 0;
    int64_t now = rd_sim__now_policy(s);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) continue;
        if (optout)
            rd_referee_add_optout(s->ref, json_string_value(v), now);
        else
            rd_referee_add_dnd(s->ref, json_string_value(v));
        n++;
    }
    json_decref(root);
    return n;
}

static char *sim_extra(rd_sim_t *s) {
    sb_t b = {0};
    rd_sim__sb_printf(
        &b,
        "{\"sim\":{\"requests\":%llu,\"dials\":{\"exotel\":%llu,\"twilio\":%llu},"
        "\"invalid_numbers\":%llu,\"sms\":%llu,\"polls\":%llu,\"auth_failures\":%llu,"
        "\"bad_requests\":%llu,\"not_found\":%llu,"
        "\"faults\":{\"5xx\":%llu,\"timeout\":%llu,\"429\":%llu,\"rate_limited\":%llu,"
        "\"queued\":%llu,\"bad_caller_id\":%llu,\"dlt_refused\":%llu,"
        "\"outage\":%llu,\"delayed_answers\":%llu},"
        "\"callbacks\":{\"scheduled\":%llu,\"sent\":%llu,\"delivered\":%llu,\"failed\":%llu,"
        "\"lost\":%llu,\"duplicated\":%llu,\"reordered_calls\":%llu,\"retried\":%llu,"
        "\"inflight\":%zu},\"held_requests\":%zu,\"events_pending\":%zu}}",
        (unsigned long long)s->st.requests, (unsigned long long)s->st.dials[0],
        (unsigned long long)s->st.dials[1], (unsigned long long)s->st.invalid,
        (unsigned long long)s->st.sms, (unsigned long long)s->st.polls,
        (unsigned long long)s->st.auth_fail, (unsigned long long)s->st.bad,
        (unsigned long long)s->st.not_found, (unsigned long long)s->st.f5xx,
        (unsigned long long)s->st.ftimeout, (unsigned long long)s->st.f429,
        (unsigned long long)s->st.rate_limited, (unsigned long long)s->st.queued,
        (unsigned long long)s->st.bad_caller_id, (unsigned long long)s->st.dlt_refused,
        (unsigned long long)s->st.outage, (unsigned long long)s->st.delayed,
        (unsigned long long)s->st.cb_scheduled, (unsigned long long)s->st.cb_sent,
        (unsigned long long)s->st.cb_delivered, (unsigned long long)s->st.cb_failed,
        (unsigned long long)s->st.cb_lost, (unsigned long long)s->st.cb_dup,
        (unsigned long long)s->st.cb_reordered, (unsigned long long)s->st.cb_retried,
        s->cb ? rd_cbsend_inflight(s->cb) : (size_t)0, s->nheld, s->nheap);
    return b.p;
}

char *rd_sim_report(rd_sim_t *s) {
    char *extra = sim_extra(s);
    char *r = rd_referee_report(s->ref, rd_sim__now_policy(s), extra);
    rd_free(extra);
    return r;
}

uint64_t rd_sim_violations(const rd_sim_t *s) { return rd_referee_violations_total(s->ref); }

/*
 * POST /sim/faults: changes the fault knobs at run time; any subset of
 * {"5xx","timeout","429","cb_loss","cb_dup","cb_reorder": fractions,
 *  "cb_delay_min_ms","cb_delay_max_ms","answer_delay_ms": wall ms,
 *  "outage_ms": wall ms from now during which every provider API request
 *  (calls, polls, SMS) is answered 503; 0 ends an outage}.
 * Checked as a whole before anything changes.
 */
void rd_sim__sim_control(rd_sim_t *s, rd_http_req_t *req) {
    const char *p = req->path + 5; /* after "/sim/" */
    bool post = req->method_id == HTTP_POST, get = req->method_id == HTTP_GET;
    char err[256];
    if (get && !strcmp(p, "report")) {
        char *r = rd_sim_report(s);
        rd_http_respond_json(req, 200, r);
        rd_free(r);
    } else if (post && !strcmp(p, "campaigns")) {
        rd_ref_campaign_t c;
        if (rd_referee_campaign_from_json(req->body, req->body_len, &c, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_referee_set_campaign(s->ref, &c);
        s->st.campaigns_posted++;
        rd_http_respond_json(req, 201, "{\"ok\":true}");
    } else if (post && (!strcmp(p, "dnd") || !strcmp(p, "optout"))) {
        long n = each_number(s, req, p[0] == 'o');
        if (n < 0) {
            rd_http_respond_error(req, 400, "expected {\"numbers\":[...]} or [...]");
            return;
        }
        char out[64];
        snprintf(out, sizeof out, "{\"ok\":true,\"added\":%ld}", n);
        rd_http_respond_json(req, 200, out);
    } else if (post && !strcmp(p, "agents")) {
        json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
        json_t *pool = json_object_get(root, "pool"), *cap = json_object_get(root, "capacity");
        if (!json_is_string(pool) || !json_is_integer(cap) || json_integer_value(cap) < 0 ||
            json_string_length(pool) > RD_REF_NAME_MAX) {
            json_decref(root);
            rd_http_respond_error(req, 400, "expected {\"pool\":NAME,\"capacity\":N}");
            return;
        }
        /* A pool's capacity rides on a hidden campaign entry that owns no calls. */
        rd_ref_campaign_t c = {0};
        snprintf(c.name, sizeof c.name, "%s", "");
        snprintf(c.agent_pool, sizeof c.agent_pool, "%s", json_string_value(pool));
        c.agent_capacity = (int)json_integer_value(cap);
        json_decref(root);
        rd_referee_set_campaign(s->ref, &c);
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (post && !strcmp(p, "script")) {
        if (rd_sim__script_load(s, req->body, req->body_len, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (post && !strcmp(p, "faults")) {
        if (rd_sim__faults_set(s, req->body, req->body_len, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (get && !strncmp(p, "calls/", 6)) {
        sim_call(s, req, p + 6, strlen(p + 6));
    } else if (get && !strncmp(p, "numbers/", 8)) {
        sim_number(s, req, p + 8, strlen(p + 8));
    } else {
        s->st.not_found++;
        rd_http_respond_error(req, 404, "no such endpoint");
    }
}

/* Matches "/<prefix>/Accounts/<sid>/<rest>"; returns rest or NULL and sets sid, sidlen. */
