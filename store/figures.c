/*
 * figures.c — the deployment-wide figures for monitoring (contract in
 * figures.h; the series are listed in docs/METRICS.md).
 *
 * Design. One collection is a small fan-out carried by one heap op: the
 * campaign names (rd_store_campaign_list), then, pipelined, one figures.lua
 * call per 100 campaigns, XLEN of the dead-letter, inbox and events
 * streams, XINFO GROUPS of the inbox and of the events stream, and the
 * agent pools (rd_ops_pool_list); the callback runs once every reply is in.
 * figures.lua also keeps each campaign's `idle` mark, which is how finished
 * campaigns leave the figures after the retention without a timer.
 *
 * Rendering follows the Prometheus text format: every family has HELP and
 * TYPE, counters end in _total, units are in the names (_seconds, _calls,
 * _jobs, _entries), label values are escaped. Campaign and pool names are
 * [A-Za-z0-9_.-] already; consumer-group names from Redis are escaped.
 */
#include "store/figures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis.h"
#include "proto/outcome.h"
#include "proto/rd.h"
#include "rd_lua.h"
#include "store/store_int.h"

#define BATCH 100

typedef struct sop {
    rd_store_t *s;
    rd_figures_cb cb;
    void *arg;
    int64_t now, retention;
    int left; /* replies still expected */
    int status;
    rd_figures_t f;
    size_t cap;
} sop_t;

static int cmp_campaign(const void *a, const void *b) {
    return strcmp(((const rd_figures_campaign_t *)a)->name,
                  ((const rd_figures_campaign_t *)b)->name);
}

static void finish(sop_t *o) {
    if (--o->left > 0) return;
    if (o->f.n_campaigns)
        qsort(o->f.campaigns, o->f.n_campaigns, sizeof *o->f.campaigns, cmp_campaign);
    o->cb(o->s, o->status, o->status ? NULL : &o->f, o->arg);
    rd_free(o->f.campaigns);
    rd_free(o->f.pools);
    rd_free(o->f.event_groups);
    rd_free(o);
}

static void fail(sop_t *o, int rc) {
    if (rc && !o->status) o->status = rc;
}

static void on_batch(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type != REDIS_REPLY_ARRAY) rc = RD_EPROTO;
    for (size_t i = 0; !rc && i < reply->elements; i++) {
        const redisReply *x = reply->element[i];
        if (!x || x->type != REDIS_REPLY_ARRAY || x->elements != 12 ||
            !rd_store__is_str(x->element[0]) || x->element[0]->len > RD_CAMPAIGN_NAME_MAX) {
            rc = RD_EPROTO;
            break;
        }
        if (!rd_store__rint_(x->element[1])) {
            o->f.retired++;
            continue;
        }
        if (o->f.n_campaigns == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 64;
            o->f.campaigns = rd_realloc(o->f.campaigns, o->cap * sizeof *o->f.campaigns);
        }
        rd_figures_campaign_t *c = &o->f.campaigns[o->f.n_campaigns++];
        memset(c, 0, sizeof *c);
        memcpy(c->name, x->element[0]->str, x->element[0]->len);
        int64_t st = rd_store__rint_(x->element[2]);
        c->state = st == 1 ? RD_CAMP_PAUSED : st == 2 ? RD_CAMP_CANCELED : RD_CAMP_ACTIVE;
        c->concurrency = rd_store__rint_(x->element[3]);
        c->live = rd_store__rint_(x->element[4]);
        c->pending = rd_store__rint_(x->element[5]);
        c->due_now = rd_store__rint_(x->element[6]);
        c->oldest_due_ms = rd_store__rint_(x->element[7]);
        c->enqueued = rd_store__rint_(x->element[8]);
        c->finished = rd_store__rint_(x->element[9]);
        if (rd_store__is_str(x->element[10]) && x->element[10]->len <= RD_CAMPAIGN_NAME_MAX)
            memcpy(c->pool, x->element[10]->str, x->element[10]->len);
        rd_store_stats_hash(&c->st, x->element[11], false);
        c->st.counts.jobs = (uint64_t)c->enqueued;
        c->st.pending = (uint64_t)c->pending;
        c->st.live = (uint64_t)c->live;
    }
    fail(o, rc);
    finish(o);
}

static void on_xlen(rd_redis_t *r, int status, redisReply *reply, void *arg, int64_t *slot) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type == REDIS_REPLY_INTEGER) *slot = reply->integer;
    fail(o, rc);
    finish(o);
}

static void on_dead_len(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    on_xlen(r, status, reply, arg, &((sop_t *)arg)->f.deadletter_entries);
}
static void on_inbox_len(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    on_xlen(r, status, reply, arg, &((sop_t *)arg)->f.inbox_entries);
}
static void on_events_len(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    on_xlen(r, status, reply, arg, &((sop_t *)arg)->f.events_entries);
}

/* One XINFO GROUPS element (a flat field/value array) into g. */
static void group_of(const redisReply *x, rd_figures_group_t *g) {
    memset(g, 0, sizeof *g);
    g->lag = -1;
    for (size_t k = 0; x && x->type == REDIS_REPLY_ARRAY && k + 1 < x->elements; k += 2) {
        const redisReply *f = x->element[k], *v = x->element[k + 1];
        if (!rd_store__is_str(f)) continue;
        if (!strcmp(f->str, "name") && rd_store__is_str(v))
            snprintf(g->name, sizeof g->name, "%s", v->str);
        else if (!strcmp(f->str, "pending"))
            g->pending = rd_store__rint_(v);
        else if (!strcmp(f->str, "lag") && v && v->type == REDIS_REPLY_INTEGER)
            g->lag = v->integer;
    }
}

/* XINFO GROUPS answers an error when the stream does not exist yet: no groups. */
static const redisReply *groups_of(int status, const redisReply *reply) {
    if (status || !reply || reply->type != REDIS_REPLY_ARRAY) return NULL;
    return reply;
}

static void on_inbox_groups(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    const redisReply *g = groups_of(status, reply);
    o->f.inbox_group.lag = -1;
    snprintf(o->f.inbox_group.name, sizeof o->f.inbox_group.name, "redial");
    for (size_t i = 0; g && i < g->elements; i++) {
        rd_figures_group_t x;
        group_of(g->element[i], &x);
        if (!strcmp(x.name, "redial")) o->f.inbox_group = x;
    }
    if (status) fail(o, status);
    finish(o);
}

static void on_event_groups(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    const redisReply *g = groups_of(status, reply);
    size_t n = g ? g->elements : 0;
    o->f.event_groups = rd_calloc(n ? n : 1, sizeof *o->f.event_groups);
    for (size_t i = 0; i < n; i++) group_of(g->element[i], &o->f.event_groups[i]);
    o->f.n_event_groups = n;
    if (status) fail(o, status);
    finish(o);
}

static void on_pools(rd_store_t *s, int status, const rd_ops_pool_t *p, size_t n, void *arg) {
    (void)s;
    sop_t *o = arg;
    /* Names borrowed from the ops result: copy them into one block with the structs. */
    size_t names = 0;
    for (size_t i = 0; !status && i < n; i++) names += strlen(p[i].name) + 1;
    if (!status && n) {
        char *blk = rd_malloc(n * sizeof *o->f.pools + names);
        o->f.pools = (rd_ops_pool_t *)(void *)blk;
        char *q = blk + n * sizeof *o->f.pools;
        for (size_t i = 0; i < n; i++) {
            o->f.pools[i] = p[i];
            size_t l = strlen(p[i].name) + 1;
            memcpy(q, p[i].name, l);
            o->f.pools[i].name = q;
            q += l;
        }
        o->f.n_pools = n;
    }
    fail(o, status);
    finish(o);
}

static int cmd(rd_store_t *s, int argc, const char **argv, rd_redis_cb cb, sop_t *o) {
    size_t lens[8];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    int rc = rd_redis_command(rd_store_redis(s), argc, argv, lens, 0, cb, o);
    if (!rc) o->left++;
    return rc;
}

static void on_names(rd_store_t *s, int status, char *const *names, size_t n, void *arg) {
    sop_t *o = arg;
    if (status) {
        fail(o, status);
        finish(o);
        return;
    }
    int h = rd_store_ext_script(s, rd_lua_figures, rd_lua_figures_len);
    if (h < 0) {
        fail(o, h);
        finish(o);
        return;
    }
    char seq[160], now[24], ret[24];
    snprintf(seq, sizeof seq, "%s:seq", rd_store_prefix(s));
    snprintf(now, sizeof now, "%lld", (long long)o->now);
    snprintf(ret, sizeof ret, "%lld", (long long)o->retention);
    const char *argv[BATCH + 4];
    size_t lens[BATCH + 4];
    argv[0] = seq;
    argv[1] = rd_store_prefix(s);
    argv[2] = now;
    argv[3] = ret;
    for (int i = 0; i < 4; i++) lens[i] = strlen(argv[i]);
    for (size_t b = 0; b < n; b += BATCH) {
        size_t k = n - b < BATCH ? n - b : BATCH;
        for (size_t i = 0; i < k; i++) {
            argv[4 + i] = names[b + i];
            lens[4 + i] = strlen(names[b + i]);
        }
        int rc = rd_redis_script(rd_store_redis(s), h, 1, (int)k + 4, argv, lens, 0, on_batch, o);
        if (rc) {
            fail(o, rc);
            break;
        }
        o->left++;
    }
    char k[160];
    const char *p = rd_store_prefix(s);
    snprintf(k, sizeof k, "%s:deadletter", p);
    const char *a1[] = {"XLEN", k};
    if (cmd(s, 2, a1, on_dead_len, o)) fail(o, RD_ECLOSED);
    snprintf(k, sizeof k, "%s:inbox", p);
    const char *a2[] = {"XLEN", k};
    if (cmd(s, 2, a2, on_inbox_len, o)) fail(o, RD_ECLOSED);
    const char *a3[] = {"XINFO", "GROUPS", k};
    if (cmd(s, 3, a3, on_inbox_groups, o)) fail(o, RD_ECLOSED);
    char e[160];
    snprintf(e, sizeof e, "%s:events", p);
    const char *a4[] = {"XLEN", e};
    if (cmd(s, 2, a4, on_events_len, o)) fail(o, RD_ECLOSED);
    const char *a5[] = {"XINFO", "GROUPS", e};
    if (cmd(s, 3, a5, on_event_groups, o)) fail(o, RD_ECLOSED);
    if (rd_ops_pool_list(s, on_pools, o) == 0)
        o->left++;
    else
        fail(o, RD_ECLOSED);
    finish(o); /* the names step itself */
}

int rd_figures_collect(rd_store_t *s, int64_t now_ms, int64_t retention_ms, rd_figures_cb cb,
                       void *arg) {
    sop_t *o = rd_calloc(1, sizeof *o);
    o->s = s;
    o->cb = cb;
    o->arg = arg;
    o->now = now_ms;
    o->f.now_ms = now_ms;
    o->retention = retention_ms > 0 ? retention_ms : RD_FIGURES_RETENTION_MS;
    o->left = 1;
    int rc = rd_store_campaign_list(s, on_names, o);
    if (rc) rd_free(o);
    return rc;
}

/* ---- rendering ------------------------------------------------------------------------ */

#define sb rd_sbuf_printf

static void family(rd_sbuf_t *b, const char *name, const char *type, const char *help) {
    sb(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef int64_t (*camp_val_fn)(const rd_figures_campaign_t *c);
static int64_t v_pending(const rd_figures_campaign_t *c) { return c->pending; }
static int64_t v_due(const rd_figures_campaign_t *c) { return c->due_now; }
static int64_t v_live(const rd_figures_campaign_t *c) { return c->live; }
static int64_t v_conc(const rd_figures_campaign_t *c) { return c->concurrency; }
static int64_t v_enq(const rd_figures_campaign_t *c) { return c->enqueued; }
static int64_t v_fin(const rd_figures_campaign_t *c) { return c->finished; }
static int64_t v_paused(const rd_figures_campaign_t *c) { return c->state == RD_CAMP_PAUSED; }

static void per_campaign(rd_sbuf_t *b, const rd_figures_t *f, const char *name, const char *type,
                         const char *help, camp_val_fn fn) {
    family(b, name, type, help);
    for (size_t i = 0; i < f->n_campaigns; i++)
        sb(b, "%s{campaign=\"%s\"} %lld\n", name, f->campaigns[i].name,
           (long long)fn(&f->campaigns[i]));
}

void rd_figures_render(const rd_figures_t *f, rd_sbuf_t *b) {
    family(b, "redial_cluster_campaigns", "gauge",
           "Campaigns in the figures (live, or finished within the retention)");
    sb(b, "redial_cluster_campaigns %zu\n", f->n_campaigns);
    family(b, "redial_cluster_campaigns_retired", "gauge",
           "Finished campaigns idle past the retention, left out of the figures");
    sb(b, "redial_cluster_campaigns_retired %zu\n", f->retired);

    family(b, "redial_campaign_state", "gauge",
           "Campaign state: 1 for the campaign's current state label");
    for (size_t i = 0; i < f->n_campaigns; i++) {
        const rd_figures_campaign_t *c = &f->campaigns[i];
        static const char *const names[] = {"active", "paused", "canceled"};
        for (int s = 0; s < 3; s++)
            sb(b, "redial_campaign_state{campaign=\"%s\",state=\"%s\"} %d\n", c->name, names[s],
               (int)c->state == s);
    }
    per_campaign(b, f, "redial_campaign_paused", "gauge", "1 while the campaign is paused",
                 v_paused);
    per_campaign(b, f, "redial_campaign_pending_jobs", "gauge",
                 "Jobs waiting for their next attempt (the due set)", v_pending);
    per_campaign(b, f, "redial_campaign_due_now_jobs", "gauge",
                 "Pending jobs whose due time has passed: the backlog", v_due);
    family(b, "redial_campaign_oldest_overdue_seconds", "gauge",
           "Policy seconds since the earliest pending job became due (0: nothing overdue)");
    for (size_t i = 0; i < f->n_campaigns; i++) {
        const rd_figures_campaign_t *c = &f->campaigns[i];
        double age = c->oldest_due_ms && c->oldest_due_ms < f->now_ms
                         ? (double)(f->now_ms - c->oldest_due_ms) / 1000.0
                         : 0.0;
        sb(b, "redial_campaign_oldest_overdue_seconds{campaign=\"%s\"} %.3f\n", c->name, age);
    }
    per_campaign(b, f, "redial_campaign_live_calls", "gauge",
                 "Calls in progress (leases held), against the campaign's concurrency", v_live);
    per_campaign(b, f, "redial_campaign_concurrency_limit_calls", "gauge",
                 "The campaign's concurrency limit", v_conc);
    per_campaign(b, f, "redial_campaign_jobs_enqueued_total", "counter", "Jobs ever created",
                 v_enq);
    per_campaign(b, f, "redial_campaign_jobs_finished_total", "counter",
                 "Jobs finished (any disposition)", v_fin);

    family(b, "redial_campaign_attempts_total", "counter", "Attempts settled, by outcome");
    for (size_t i = 0; i < f->n_campaigns; i++)
        for (int o = 0; o < RD_OUT__COUNT; o++)
            sb(b, "redial_campaign_attempts_total{campaign=\"%s\",outcome=\"%s\"} %llu\n",
               f->campaigns[i].name, rd_outcome_name((rd_outcome_t)o),
               (unsigned long long)f->campaigns[i].st.counts.outcomes[o]);
    family(b, "redial_campaign_dispositions_total", "counter", "Jobs finished, by disposition");
    for (size_t i = 0; i < f->n_campaigns; i++)
        for (int d = 0; d < RD_DISP__COUNT; d++)
            sb(b, "redial_campaign_dispositions_total{campaign=\"%s\",disposition=\"%s\"} %llu\n",
               f->campaigns[i].name, rd_disposition_name((rd_disposition_t)d),
               (unsigned long long)f->campaigns[i].st.counts.finals[d]);
    family(b, "redial_agent_pool_capacity_calls", "gauge", "Agents of the pool (agents set)");
    for (size_t i = 0; i < f->n_pools; i++) {
        sb(b, "redial_agent_pool_capacity_calls{pool=\"");
        rd_sbuf_label(b, f->pools[i].name);
        sb(b, "\"} %lld\n", (long long)f->pools[i].capacity);
    }
    family(b, "redial_agent_pool_live_calls", "gauge", "Pool slots held by calls in progress");
    for (size_t i = 0; i < f->n_pools; i++) {
        sb(b, "redial_agent_pool_live_calls{pool=\"");
        rd_sbuf_label(b, f->pools[i].name);
        sb(b, "\"} %lld\n", (long long)f->pools[i].live);
    }

    family(b, "redial_deadletter_entries", "gauge",
           "Refused inbox entries waiting in the dead-letter stream");
    sb(b, "redial_deadletter_entries %lld\n", (long long)f->deadletter_entries);
    family(b, "redial_inbox_entries", "gauge", "Entries in the inbox stream");
    sb(b, "redial_inbox_entries %lld\n", (long long)f->inbox_entries);
    family(b, "redial_inbox_pending_entries", "gauge",
           "Inbox entries delivered to an engine and not yet acknowledged");
    sb(b, "redial_inbox_pending_entries %lld\n", (long long)f->inbox_group.pending);
    family(b, "redial_inbox_lag_entries", "gauge",
           "Inbox entries not yet delivered to any engine (the ingest lag)");
    sb(b, "redial_inbox_lag_entries %lld\n",
       (long long)(f->inbox_group.lag >= 0 ? f->inbox_group.lag : f->inbox_entries));
    family(b, "redial_events_entries", "gauge", "Entries in the events stream");
    sb(b, "redial_events_entries %lld\n", (long long)f->events_entries);
    family(b, "redial_events_consumer_lag_entries", "gauge",
           "Events not yet delivered to a consumer group of the events stream");
    for (size_t i = 0; i < f->n_event_groups; i++) {
        sb(b, "redial_events_consumer_lag_entries{group=\"");
        rd_sbuf_label(b, f->event_groups[i].name);
        sb(b, "\"} %lld\n", (long long)(f->event_groups[i].lag >= 0 ? f->event_groups[i].lag : 0));
    }
    family(b, "redial_events_consumer_pending_entries", "gauge",
           "Events delivered to a consumer group and not yet acknowledged");
    for (size_t i = 0; i < f->n_event_groups; i++) {
        sb(b, "redial_events_consumer_pending_entries{group=\"");
        rd_sbuf_label(b, f->event_groups[i].name);
        sb(b, "\"} %lld\n", (long long)f->event_groups[i].pending);
    }
}
