/*
 * pauser.c — pauses a campaign its provider refuses (see pauser.h).
 *
 * State is one small entry per campaign that ever had a refusal: its run of
 * unclassified 4xx answers and whether a pause request is in flight (a
 * burst of in-flight dials that all come back 21212 makes one store call,
 * not hundreds). Entries live in a flat array searched linearly: an engine
 * serves tens of campaigns, and only refused results look here.
 *
 * A pause request outlives nothing: its completion only clears the
 * in-flight flag of an entry found again by name (the entry array may have
 * moved), and the pauser is destroyed after the store is closed, which
 * completes every request first.
 */
#include "engine/pauser.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "proto/rd.h"

typedef struct entry {
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    int run;       /* consecutive REJECTED */
    bool inflight; /* a pause request is on its way */
} entry_t;

struct rd_pauser {
    rd_store_t *store;
    rd_counters_t *ctr;
    int rejected_run;
    entry_t *e;
    size_t n, cap;
};

/* One pause request in flight. */
typedef struct req {
    rd_pauser_t *p;
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    char reason[RD_PAUSE_REASON_MAX + 1];
} req_t;

rd_pauser_t *rd_pauser_create(rd_store_t *store, rd_counters_t *ctr, int rejected_run) {
    rd_pauser_t *p = rd_calloc(1, sizeof *p);
    p->store = store;
    p->ctr = ctr;
    p->rejected_run = rejected_run > 0 ? rejected_run : RD_PAUSER_REJECTED_RUN;
    return p;
}

void rd_pauser_destroy(rd_pauser_t *p) {
    if (!p) return;
    rd_free(p->e);
    rd_free(p);
}

static entry_t *find(const rd_pauser_t *p, const char *name) {
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->e[i].name, name) == 0) return &p->e[i];
    return NULL;
}

static entry_t *get(rd_pauser_t *p, const char *name) {
    entry_t *e = find(p, name);
    if (e) return e;
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->e = rd_realloc(p->e, p->cap * sizeof *p->e);
    }
    e = &p->e[p->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->name, sizeof e->name, "%s", name);
    return e;
}

static void on_paused(rd_store_t *s, int status, void *arg) {
    (void)s;
    req_t *r = arg;
    entry_t *e = status == RD_ECLOSED ? NULL : find(r->p, r->name);
    if (e) e->inflight = false;
    if (status == 0)
        rd_log(RD_LOG_WARN, "campaign.paused", "campaign", r->name, "reason", r->reason, NULL);
    else if (status != RD_ECLOSED)
        rd_log(RD_LOG_WARN, "campaign.pause_failed", "campaign", r->name, "error",
               rd_strerror(status), "reason", r->reason, NULL);
    rd_free(r);
}

static void pause_now(rd_pauser_t *p, entry_t *e, const char *reason, int64_t now_ms) {
    if (e->inflight) return;
    req_t *r = rd_malloc(sizeof *r);
    r->p = p;
    snprintf(r->name, sizeof r->name, "%s", e->name);
    snprintf(r->reason, sizeof r->reason, "%s", reason);
    e->inflight = true;
    rd_count(p->ctr, RD_M_PROVIDER_PAUSES, 1);
    int rc = rd_store_campaign_pause(p->store, r->name, r->reason, now_ms, on_paused, r);
    if (rc != 0) on_paused(p->store, rc, r);
}

void rd_pauser_note(rd_pauser_t *p, const char *campaign, rd_res_kind_t kind, const char *reason,
                    int64_t now_ms) {
    entry_t *e;
    switch (kind) {
    case RD_RES_ACCOUNT:
        e = get(p, campaign);
        e->run = 0;
        pause_now(p, e, reason && reason[0] ? reason : "provider rejected the account", now_ms);
        break;
    case RD_RES_REJECTED: {
        e = get(p, campaign);
        if (++e->run < p->rejected_run) break;
        char why[RD_PAUSE_REASON_MAX + 1];
        snprintf(why, sizeof why, "provider rejected %d dials in a row: %s", e->run,
                 reason ? reason : "");
        e->run = 0;
        pause_now(p, e, why, now_ms);
        break;
    }
    case RD_RES_PLACED:
    case RD_RES_PLACED_UNKNOWN:
    case RD_RES_REFUSED:
        if ((e = find(p, campaign)) != NULL) e->run = 0;
        break;
    default: /* transient, canceled: the provider said nothing about us */
        break;
    }
}

int rd_pauser_run(const rd_pauser_t *p, const char *campaign) {
    const entry_t *e = find(p, campaign);
    return e ? e->run : 0;
}
