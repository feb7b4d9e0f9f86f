/*
 * agent_hold.h — stage "agent hold-back": after an agent in agent mode did
 * not answer (busy, no-answer, failed, canceled: settle.c), no job for that
 * agent is dialed for RD_AGENT_HOLD_WALL_MS; the dial-time check releases
 * such a job to due at the end of the hold (not an attempt).
 *
 * Per engine, in memory: another engine may still ring a held agent (the
 * hold is a courtesy to the agent, not a contract). A bounded table
 * (RD_AGENT_HOLD_MAX agents held at once; a full table drops the hold that
 * ends first). Time from the injectable clock (policy ms).
 *
 * Threads: loop thread only.
 */
#ifndef RD_AGENT_HOLD_H
#define RD_AGENT_HOLD_H

#include <stdint.h>

#include "proto/campaign.h"
#include "store/store.h"

#define RD_AGENT_HOLD_WALL_MS 20000 /* wall ms an agent who missed is held back */
#define RD_AGENT_HOLD_MAX 256
#define RD_AGENT_NUMBER_MAX 32

typedef struct rd_agent_hold rd_agent_hold_t;

/* A new empty table (never NULL: aborts on ENOMEM like rd_malloc). */
rd_agent_hold_t *rd_agent_hold_create(void);
void rd_agent_hold_destroy(rd_agent_hold_t *h);

/* The agent job j of agent-mode campaign c rings: its `agent` variable,
   else the campaign's caller id. Borrowed from c or j. */
const char *rd_agent_hold_agent(const rd_campaign_t *c, const rd_store_job_t *j);

/* Holds `agent` until until_ms (policy ms; an earlier end never shortens a hold). */
void rd_agent_hold_mark(rd_agent_hold_t *h, const char *agent, int64_t until_ms);

/* When `agent`'s hold ends (policy ms), or 0 when it is not held at now_ms. */
int64_t rd_agent_hold_until(const rd_agent_hold_t *h, const char *agent, int64_t now_ms);

#endif
