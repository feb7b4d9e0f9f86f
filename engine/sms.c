/*
 * sms.c — SMS fallback: the decision and the send / hold / retry
 * (contract in sms.h).
 *
 * Design: one list of held work items (srv->sms_held), each with the wall
 * time (uv_now) it may go out: after a transient failure's backoff, or when
 * the callee's calling window opens (a late settle, e.g. from a poll, can
 * come after it closed). The recovery tick walks the list.
 */
#include "engine/sms.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "engine/server_int.h"
#include "proto/rd.h"

#define SMS_MAX_TRIES 6 /* sends of one fallback SMS (transient failures) */

typedef struct rd_sms_hold {
    rd_work_t *w;
    uint64_t at; /* wall (uv_now) when to send */
    struct rd_sms_hold *next;
} hold_t;

/* An attempt nobody answered: busy, no-answer, or answered by a machine
   when the campaign counts machines as busy / no-answer. */
static bool unanswered(const rd_campaign_t *c, rd_outcome_t o, bool machine) {
    if (o == RD_OUT_COMPLETED && machine) o = c->machine_as;
    return o == RD_OUT_BUSY || o == RD_OUT_NO_ANSWER;
}

/* An earlier `completed` in a live job's history was answered by a machine
   (a person would have finished the job). */
bool rd_sms_due(const rd_campaign_t *c, const rd_attempt_t *hist, size_t n,
                rd_answered_by_t last_by) {
    if (c->sms_after_attempts <= 0 ||
        !unanswered(c, hist[n - 1].outcome, last_by == RD_ANSWERED_MACHINE))
        return false;
    int k = 0;
    for (size_t i = 0; i < n; i++) k += unanswered(c, hist[i].outcome, true);
    return k == c->sms_after_attempts;
}

static void hold(rd_server_t *srv, rd_work_t *w, uint64_t wall_delay_ms) {
    hold_t *h = rd_malloc(sizeof *h);
    *h = (hold_t){w, uv_now(srv->loop) + wall_delay_ms, srv->sms_held};
    srv->sms_held = h;
}

static void on_sms_done(rd_work_t *w, void *user) {
    rd_server_t *srv = user;
    if (w->res.kind == RD_RES_SENT) {
        rd_count(srv->ctr, RD_M_SMS_SENT, 1);
        rd_log(RD_LOG_INFO, "sms.sent", "campaign", w->campaign, "to", w->sms.to, NULL);
    } else if (w->res.kind == RD_RES_TRANSIENT && !srv->stopping &&
               w->transient_retries + 1 < SMS_MAX_TRIES) {
        w->transient_retries++;
        hold(srv, w, (uint64_t)w->res.retry_after_ms);
        return;
    } else {
        rd_count(srv->ctr, RD_M_SMS_FAILED, 1);
        rd_log(RD_LOG_WARN, "sms.failed", "campaign", w->campaign, "to", w->sms.to, "result",
               rd_res_kind_name(w->res.kind), "reason", w->res.reason, NULL);
    }
    rd_pool_work_put(srv->pool, w);
}

static void sms_failed(rd_server_t *srv, rd_work_t *w, const char *reason) {
    rd_count(srv->ctr, RD_M_SMS_FAILED, 1);
    rd_log(RD_LOG_WARN, "sms.failed", "campaign", w->campaign, "to", w->sms.to, "reason", reason,
           NULL);
    rd_pool_work_put(srv->pool, w);
}

static void sms_submit(rd_server_t *srv, rd_work_t *w) {
    if (rd_pool_submit(srv->pool, w) != 0) sms_failed(srv, w, "pool closed");
}

void rd_sms_tick(rd_server_t *srv, bool drop_all) {
    uint64_t now = uv_now(srv->loop);
    hold_t **pp = &srv->sms_held;
    while (*pp) {
        hold_t *h = *pp;
        if (!drop_all && h->at > now) {
            pp = &h->next;
            continue;
        }
        *pp = h->next;
        rd_work_t *w = h->w;
        rd_free(h);
        if (drop_all)
            sms_failed(srv, w, "engine stopping during a retry backoff");
        else
            sms_submit(srv, w);
    }
}

void rd_sms_fallback(void *ctx, const rd_campaign_t *c, const char *to, const char *job_id) {
    rd_server_t *srv = ctx;
    if (srv->stopping) return;
    rd_work_t *w = rd_pool_work_get(srv->pool);
    w->kind = RD_WORK_SMS;
    w->account = 0;
    snprintf(w->campaign, sizeof w->campaign, "%s", c->name);
    snprintf(w->sms.to, sizeof w->sms.to, "%s", to);
    snprintf(w->sms.from, sizeof w->sms.from, "%s", c->caller_id);
    snprintf(w->sms.body, sizeof w->sms.body, "%s", c->sms_body);
    snprintf(w->sms.dlt_entity_id, sizeof w->sms.dlt_entity_id, "%s",
             c->sms_dlt_entity_id ? c->sms_dlt_entity_id : "");
    snprintf(w->sms.dlt_template_id, sizeof w->sms.dlt_template_id, "%s",
             c->sms_dlt_template_id ? c->sms_dlt_template_id : "");
    w->sms.status_callback[0] = '\0';
    w->done = on_sms_done;
    w->user = srv;
    /* Hold it to the callee's calling window. */
    rd_policy_ctx_t window = {.c = c, .tz = rd_policy_zone(c, NULL, to)};
    int64_t now = rd_clock_now(&srv->clock);
    if (!window.tz) { /* the window cannot be checked now: no SMS rather than one at night */
        sms_failed(srv, w, "the callee's time zone is unreadable now");
        return;
    }
    if (!rd_policy_allowed(&window, now)) {
        int64_t at = rd_policy_place(&window, now);
        char when[32];
        snprintf(when, sizeof when, "%lld", (long long)at);
        rd_log(RD_LOG_INFO, "sms.held", "campaign", c->name, "job", job_id, "to", to, "until_ms",
               when, NULL);
        hold(srv, w, rd_clock_wall_delay(&srv->clock, at));
        return;
    }
    rd_log(RD_LOG_INFO, "sms.fallback", "campaign", c->name, "job", job_id, "to", to, NULL);
    sms_submit(srv, w);
}
