/*
 * enqueue.c — the checks and first due time shared by every way a job
 * enters redial (see enqueue.h).
 *
 * Design. Everything here is a pure function of its arguments so the three
 * entry points (ingest, control API, CLI) cannot drift apart. The order of
 * checks follows the inbox map's keys so that the first problem reported is
 * the one a producer would look at first. The jitter seed is
 * rd_policy_seed() of campaign, number and attempt 1, as everywhere:
 * replaying an enqueue gives the same due time whichever way it came (and
 * `redial-cli plan` prints it), and numbers enqueued in the same
 * millisecond are spread over the window start rather than stacked on it.
 */
#include "store/enqueue.h"

#include <stdio.h>
#include <string.h>

#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"
#include "proto/text.h"

int rd_enqueue_prepare(const rd_campaign_t *c, const char *to, const char *id, const char *tz,
                       const rd_job_var_t *vars, size_t n_vars, int64_t not_before_ms,
                       int64_t now_ms, rd_store_enqueue_t *out, char *err, size_t errlen) {
    char q[80];
    memset(out, 0, sizeof *out);
    if (!to || !rd_e164_valid(to, strlen(to))) {
        rd_text_printable(q, sizeof q, to ? to : "");
        snprintf(err, errlen, "to: \"%s\" is not an E.164 number ('+' and 8-15 digits)", q);
        return RD_EINVAL;
    }
    if (id && strlen(id) > RD_JOB_ID_MAX) {
        snprintf(err, errlen, "id: longer than %d bytes", RD_JOB_ID_MAX);
        return RD_EINVAL;
    }
    if (id && !rd_text_valid(id, strlen(id), NULL)) {
        snprintf(err, errlen, "id: not UTF-8 text (invalid or control bytes)");
        return RD_EINVAL;
    }
    const rd_tz_t *z;
    int zr = tz && *tz ? rd_tz_lookup(tz, &z) : 0;
    if (zr == RD_ETRANSIENT) {
        snprintf(err, errlen, "tz: zone file unreadable now, try again");
        return RD_ETRANSIENT;
    }
    if (zr != 0) {
        rd_text_printable(q, sizeof q, tz);
        snprintf(err, errlen, "tz: \"%s\" is not a known IANA time zone", q);
        return RD_EINVAL;
    }
    if (n_vars > RD_JOB_MAX_VARS) {
        snprintf(err, errlen, "vars: more than %d entries", RD_JOB_MAX_VARS);
        return RD_EINVAL;
    }
    for (size_t i = 0; i < n_vars; i++) {
        size_t kl = strlen(vars[i].key), vl = strlen(vars[i].val);
        if (!rd_text_valid(vars[i].key, kl, NULL) || !rd_text_valid(vars[i].val, vl, NULL)) {
            rd_text_printable(q, sizeof q, vars[i].key);
            snprintf(err, errlen,
                     "vars.%s: keys and values must be UTF-8 text without control "
                     "characters",
                     q);
            return RD_EINVAL;
        }
        if (kl == 0 || kl > RD_JOB_VAR_MAX || vl > RD_JOB_VAR_MAX) {
            rd_text_printable(q, sizeof q, vars[i].key);
            snprintf(err, errlen, "vars.%s: keys must be 1-%d bytes and values at most %d", q,
                     RD_JOB_VAR_MAX, RD_JOB_VAR_MAX);
            return RD_EINVAL;
        }
    }
    if (not_before_ms < 0) {
        snprintf(err, errlen, "not_before: must be unix milliseconds >= 0");
        return RD_EINVAL;
    }

    rd_policy_ctx_t ctx = {0};
    ctx.c = c;
    ctx.tz = rd_policy_zone(c, tz, to);
    if (!ctx.tz) {
        snprintf(err, errlen, "tz: the callee's zone file is unreadable now (retry)");
        return RD_ETRANSIENT;
    }
    ctx.jitter_seed = rd_policy_seed(c->name, to, 1);
    rd_decision_t d;
    rd_policy_first(&ctx, now_ms, not_before_ms, &d);
    if (d.final) {
        snprintf(err, errlen, "to: no allowed calling time (%s)", d.why ? d.why : "policy");
        return RD_EINVAL;
    }
    out->campaign = c->name;
    out->to = to;
    out->id = id && *id ? id : NULL;
    out->vars = vars;
    out->n_vars = n_vars;
    out->tz = tz && *tz ? tz : NULL;
    out->not_before_ms = not_before_ms;
    out->due_ms = d.due_ms;
    return 0;
}

int rd_enqueue_prepare_msg(const rd_campaign_t *c, const rd_job_msg_t *m, int64_t now_ms,
                           rd_store_enqueue_t *out, char *err, size_t errlen) {
    return rd_enqueue_prepare(c, m->to, m->id, m->tz, m->vars, m->n_vars, m->not_before_ms, now_ms,
                              out, err, errlen);
}

const char *rd_enqueue_result_name(rd_enq_result_t r) {
    switch (r) {
    case RD_ENQ_CREATED:
        return "created";
    case RD_ENQ_DUPLICATE:
        return "duplicate";
    case RD_ENQ_FINAL_DND:
        return "dnd";
    case RD_ENQ_FINAL_OPTOUT:
        return "opted-out";
    case RD_ENQ_NO_CAMPAIGN:
        return "no-campaign";
    case RD_ENQ_CANCELED:
        return "canceled";
    case RD_ENQ_CONFLICT:
        return "conflict";
    }
    return "?";
}

bool rd_enqueue_result_refused(rd_enq_result_t r) {
    return r == RD_ENQ_NO_CAMPAIGN || r == RD_ENQ_CANCELED || r == RD_ENQ_CONFLICT;
}
