/*
 * store_sync.h — blocking wrappers over store/store.h for tests and tools:
 * each issues one operation and runs the loop until its callback ran.
 * Results that the store hands out as borrowed are copied (owned by the
 * caller). One thread, one loop; the loop must have nothing else to do that
 * would block (uv_run(UV_RUN_ONCE) is used until done).
 */
#ifndef RD_STORE_SYNC_H
#define RD_STORE_SYNC_H

#include <uv.h>

#include "store/store.h"

typedef struct ts_jobs {
    rd_store_job_t **v; /* owned copies (rd_store_job_free), the array rd_free */
    size_t n;
    size_t finished, deferred;
    int64_t next_due_ms, bucket_wait_ms;
    size_t requeued; /* recover */
    size_t pinned;   /* claim: due campaigns pinned to another provider */
} ts_jobs_t;

void ts_jobs_free(ts_jobs_t *j);

/* Creates a store on loop for url/prefix (bucket: NULL none). Aborts on failure. */
rd_store_t *ts_store(uv_loop_t *loop, const char *url, const char *prefix, const char *bucket,
                     double rate, double burst);
/* Closes the store and runs the loop until it is gone. */
void ts_close(rd_store_t *s, uv_loop_t *loop);

/* Parses and creates a campaign from JSON. Returns the store status. */
int ts_campaign(rd_store_t *s, uv_loop_t *loop, const char *json, int64_t now);
int ts_enqueue(rd_store_t *s, uv_loop_t *loop, const char *camp, const char *to, const char *id,
               int64_t due, int64_t now, rd_enq_result_t *res);
int ts_claim(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t lease_ms,
             ts_jobs_t *out);
/* ts_claim as an engine serving `provider` (NULL = any). */
int ts_claim_for(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t lease_ms,
                 const char *provider, ts_jobs_t *out);
int ts_placed(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, const char *cid,
              int64_t deadline);
int ts_release(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, int64_t due,
               int64_t now);
/* final: disposition d; else due. res may be NULL. */
int ts_settle(rd_store_t *s, uv_loop_t *loop, const char *camp, uint64_t tok, rd_outcome_t o,
              bool final, rd_disposition_t d, int64_t due, int64_t now, rd_store_settle_res_t *res);
/* ts_settle given the job (rd_store_settle_t.job): campaign and token are the job's. */
int ts_settle_job(rd_store_t *s, uv_loop_t *loop, const rd_store_job_t *job, rd_outcome_t o,
                  bool final, rd_disposition_t d, int64_t due, int64_t now,
                  rd_store_settle_res_t *res);
/* lookup: mode 'a' attempt key, 'c' call id, 'i' public id; *out owned copy or NULL. */
int ts_lookup(rd_store_t *s, uv_loop_t *loop, char mode, const char *key, rd_store_job_t **out);
int ts_recover(rd_store_t *s, uv_loop_t *loop, int64_t now, int max, int64_t poll_ms,
               ts_jobs_t *out);
int ts_state(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_camp_state_t st, int64_t now);
int ts_optout(rd_store_t *s, uv_loop_t *loop, const char *num, int64_t now, int64_t *n);
int ts_dnd(rd_store_t *s, uv_loop_t *loop, const char *num);
int ts_pool(rd_store_t *s, uv_loop_t *loop, const char *pool, int64_t cap);
int ts_stats(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_store_stats_t *out);
int ts_campaign_get(rd_store_t *s, uv_loop_t *loop, const char *camp, rd_store_campaign_t *out);

#endif
