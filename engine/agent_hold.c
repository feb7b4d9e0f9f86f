/*
 * agent_hold.c — agents held back after a miss (agent_hold.h).
 *
 * Design: a flat array scanned linearly. Holds are rare (a miss) and short,
 * so the table holds few live entries; expired ones are reused first, then
 * the one that ends first. No allocation after create.
 */
#include "engine/agent_hold.h"

#include <stdio.h>
#include <string.h>

#include "proto/rd.h"

typedef struct {
    char agent[RD_AGENT_NUMBER_MAX + 1];
    int64_t until_ms;
} hold_t;

struct rd_agent_hold {
    hold_t e[RD_AGENT_HOLD_MAX];
};

rd_agent_hold_t *rd_agent_hold_create(void) { return rd_calloc(1, sizeof(rd_agent_hold_t)); }

void rd_agent_hold_destroy(rd_agent_hold_t *h) { rd_free(h); }

const char *rd_agent_hold_agent(const rd_campaign_t *c, const rd_store_job_t *j) {
    for (size_t i = 0; i < j->n_vars; i++)
        if (strcmp(j->vars[i].key, "agent") == 0 && j->vars[i].val[0]) return j->vars[i].val;
    return c->caller_id ? c->caller_id : "";
}

void rd_agent_hold_mark(rd_agent_hold_t *h, const char *agent, int64_t until_ms) {
    if (!agent[0] || strlen(agent) > RD_AGENT_NUMBER_MAX) return;
    hold_t *slot = NULL;
    for (size_t i = 0; i < RD_AGENT_HOLD_MAX; i++) {
        hold_t *e = &h->e[i];
        if (e->agent[0] && strcmp(e->agent, agent) == 0) {
            if (until_ms > e->until_ms) e->until_ms = until_ms;
            return;
        }
        if (!slot || e->until_ms < slot->until_ms) slot = e;
    }
    snprintf(slot->agent, sizeof slot->agent, "%s", agent);
    slot->until_ms = until_ms;
}

int64_t rd_agent_hold_until(const rd_agent_hold_t *h, const char *agent, int64_t now_ms) {
    for (size_t i = 0; i < RD_AGENT_HOLD_MAX; i++) {
        const hold_t *e = &h->e[i];
        if (e->agent[0] && strcmp(e->agent, agent) == 0)
            return e->until_ms > now_ms ? e->until_ms : 0;
    }
    return 0;
}
