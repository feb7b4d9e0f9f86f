/*
 * Integration tests of the Redis core (store/store.h + store/lua/) against
 * a real redis-server: the life of a job, fencing, dedupe, DND/opt-out,
 * limits without head-of-line blocking, per-number lock, leases and
 * recovery, pause/cancel, pools, the provider bucket, settles given their
 * job (engine-built record and events) against plain ones, and survival of
 * a Redis restart and of a stalled Redis (timeouts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "store/store.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

#define T0 1795860000000LL /* 2026-11-28 10:00 UTC */
#define MINUTE 60000LL

typedef struct fx {
    rd_test_redis_t redis;
    uv_loop_t loop;
    rd_store_t *s;
} fx_t;

static int setup(void **state) {
    fx_t *f = rd_calloc(1, sizeof(*f));
    if (rd_test_redis_start(&f->redis) < 0) return -1;
    uv_loop_init(&f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    *state = f;
    return 0;
}

static int setup_own(void **state) {
    fx_t *f = rd_calloc(1, sizeof(*f));
    if (rd_test_redis_start_own(&f->redis) < 0) return -1;
    uv_loop_init(&f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    if (f->s) ts_close(f->s, &f->loop);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

static void campaign(fx_t *f, const char *name, int conc, const char *extra) {
    char json[1024];
    snprintf(json, sizeof(json),
             "{\"name\":\"%s\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\",\"numbers\":[],"
             "\"limits\":{\"concurrency\":%d%s}}",
             name, conc, extra ? extra : "");
    assert_int_equal(ts_campaign(f->s, &f->loop, json, T0), 0);
}

static void enqueue_ok(fx_t *f, const char *camp, const char *to, const char *id, int64_t due) {
    rd_enq_result_t r;
    assert_int_equal(ts_enqueue(f->s, &f->loop, camp, to, id, due, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_CREATED);
}

/* Number of entries in a stream of the prefix. */
static long long xlen(fx_t *f, const char *stream) {
    redisContext *c = rd_test_redis_sync(&f->redis);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "XLEN %s:%s", f->redis.prefix, stream);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

static void t_life_of_a_job(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    enqueue_ok(f, "A", "+919876543210", "job-1", T0);
    ts_jobs_t j;
    /* Not due yet a millisecond earlier. */
    assert_int_equal(ts_claim(f->s, &f->loop, T0 - 1, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 0);
    ts_jobs_free(&j);
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    rd_store_job_t *job = j.v[0];
    assert_string_equal(job->campaign, "A");
    assert_string_equal(job->to, "+919876543210");
    assert_string_equal(job->id, "job-1");
    assert_int_equal(job->attempt, 1);
    assert_int_equal(job->state, RD_JOB_CLAIMED);
    assert_int_equal(job->n_num_attempts, 0); /* reservation not included */
    uint64_t tok = job->token;
    assert_true(tok > 0);
    /* A second claim finds nothing: the job is leased. */
    ts_jobs_t j2;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 1000, 10, MINUTE, &j2), 0);
    assert_int_equal(j2.n, 0);
    ts_jobs_free(&j2);

    assert_int_equal(ts_placed(f->s, &f->loop, "A", tok, "CA1", T0 + 10 * MINUTE), 0);
    char akey[100];
    snprintf(akey, sizeof(akey), "A:%llu", (unsigned long long)tok);
    rd_store_job_t *lk = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'a', akey, &lk), 0);
    assert_int_equal(lk->state, RD_JOB_PLACED);
    assert_string_equal(lk->call_id, "CA1");
    assert_int_equal(lk->n_num_attempts, 1); /* this attempt counts now */
    assert_int_equal(lk->num_attempts_ms[0], T0);
    assert_int_equal(lk->deadline_ms, T0 + 10 * MINUTE);
    rd_store_job_free(lk);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'c', "CA1", &lk), 0);
    assert_int_equal(lk->token, tok);
    rd_store_job_free(lk);

    /* Busy: retry in 60 minutes. */
    rd_store_settle_res_t sr;
    assert_int_equal(ts_settle(f->s, &f->loop, "A", tok, RD_OUT_BUSY, false, 0, T0 + 60 * MINUTE,
                               T0 + MINUTE, &sr),
                     0);
    assert_false(sr.final);
    assert_int_equal(sr.attempt, 1);
    /* Duplicate and late settles / placed change nothing. */
    assert_int_equal(ts_settle(f->s, &f->loop, "A", tok, RD_OUT_COMPLETED, true, RD_DISP_CONNECTED,
                               0, T0 + MINUTE, NULL),
                     RD_ESTALE);
    assert_int_equal(ts_placed(f->s, &f->loop, "A", tok, "CA2", T0 + 10 * MINUTE), RD_ESTALE);
    assert_int_equal(ts_release(f->s, &f->loop, "A", tok, T0, T0), RD_ESTALE);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'a', akey, &lk), RD_ESTALE);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'c', "CA1", &lk), RD_ENOTFOUND);

    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 59 * MINUTE, 10, MINUTE, &j2), 0);
    assert_int_equal(j2.n, 0);
    assert_int_equal(j2.next_due_ms, T0 + 60 * MINUTE);
    ts_jobs_free(&j2);
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 60 * MINUTE, 10, MINUTE, &j2), 0);
    assert_int_equal(j2.n, 1);
    assert_int_equal(j2.v[0]->attempt, 2);
    assert_int_equal(j2.v[0]->n_hist, 1);
    assert_int_equal(j2.v[0]->hist[0].outcome, RD_OUT_BUSY);
    assert_int_equal(j2.v[0]->hist[0].start_ms, T0);
    assert_int_equal(j2.v[0]->n_num_attempts, 1);
    uint64_t tok2 = j2.v[0]->token;
    assert_true(tok2 != tok);
    ts_jobs_free(&j2);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", tok2, RD_OUT_COMPLETED, true, RD_DISP_CONNECTED,
                               0, T0 + 61 * MINUTE, &sr),
                     0);
    assert_true(sr.final);
    assert_int_equal(sr.disposition, RD_DISP_CONNECTED);
    assert_int_equal(sr.attempt, 2);
    /* Connected: never dialed again. */
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 999 * MINUTE, 10, MINUTE, &j2), 0);
    assert_int_equal(j2.n, 0);
    ts_jobs_free(&j2);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "job-1", &lk), 0);
    assert_int_equal(lk->state, RD_JOB_FINAL);
    assert_int_equal(lk->disposition, RD_DISP_CONNECTED);
    assert_int_equal(lk->n_hist, 2);
    rd_store_job_free(lk);
    /* 2 attempt events + 1 final. */
    assert_int_equal(xlen(f, "events"), 3);
    rd_store_stats_t st;
    assert_int_equal(ts_stats(f->s, &f->loop, "A", &st), 0);
    assert_int_equal(st.counts.jobs, 1);
    assert_int_equal(st.counts.attempts[1], 1);
    assert_int_equal(st.counts.attempts[2], 1);
    assert_int_equal(st.by_attempt[1][RD_OUT_BUSY], 1);
    assert_int_equal(st.counts.connected[2], 1);
    assert_int_equal(st.counts.finals[RD_DISP_CONNECTED], 1);
    assert_int_equal(st.smart.attempted[10], 2);
    assert_int_equal(st.smart.answered[10], 1);
    assert_int_equal(st.live, 0);
    assert_int_equal(st.pending, 0);
    ts_jobs_free(&j);
}

static void t_dedupe(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    rd_enq_result_t r;
    enqueue_ok(f, "A", "+919876543210", "x1", T0);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", "x1", T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_DUPLICATE);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_DUPLICATE);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", "x2", T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_CONFLICT);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "B", "+919876543210", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_NO_CAMPAIGN);
    /* After the job ends, the number may be enqueued again; the old id stays a no-op. */
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", j.v[0]->token, RD_OUT_INVALID_NUMBER, true,
                               RD_DISP_INVALID, 0, T0, NULL),
                     0);
    ts_jobs_free(&j);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", "x1", T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_DUPLICATE);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_CREATED);
    /* The finished job is still shown by its id next to the new live one. */
    rd_store_job_t *job = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "x1", &job), 0);
    assert_int_equal(job->state, RD_JOB_FINAL);
    assert_int_equal(job->disposition, RD_DISP_INVALID);
    assert_string_equal(job->id, "x1");
    rd_store_job_free(job);
    rd_store_campaign_t c;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "A", &c), 0);
    assert_int_equal(c.enqueued, 2);
    assert_int_equal(c.pending, 1);
    assert_int_equal(c.finished, 1);
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "nope", &c), RD_ENOTFOUND);
    assert_int_equal(ts_campaign(f->s, &f->loop,
                                 "{\"name\":\"A\",\"caller_id\":\"1\",\"call_flow_id\":\"1\"}", T0),
                     RD_EEXISTS);
}

static void t_dnd_optout(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    campaign(f, "B", 5, NULL);
    rd_enq_result_t r;
    assert_int_equal(ts_dnd(f->s, &f->loop, "+911111111111"), 0);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+911111111111", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_FINAL_DND);
    /* DND added after enqueue: caught at dial time. */
    enqueue_ok(f, "A", "+912222222222", NULL, T0);
    assert_int_equal(ts_dnd(f->s, &f->loop, "+912222222222"), 0);
    /* Opt-out: pending jobs in both campaigns end at once; a live one at settle. */
    enqueue_ok(f, "A", "+913333333333", NULL, T0 + MINUTE);
    enqueue_ok(f, "B", "+913333333333", NULL, T0 + MINUTE);
    enqueue_ok(f, "B", "+914444444444", NULL, T0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    assert_int_equal(j.finished, 1);
    assert_string_equal(j.v[0]->to, "+914444444444");
    int64_t n;
    assert_int_equal(ts_optout(f->s, &f->loop, "+913333333333", T0, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ts_optout(f->s, &f->loop, "+914444444444", T0, &n), 0);
    assert_int_equal(n, 0);
    rd_store_settle_res_t sr;
    assert_int_equal(ts_settle(f->s, &f->loop, "B", j.v[0]->token, RD_OUT_BUSY, false, 0,
                               T0 + 60 * MINUTE, T0, &sr),
                     0);
    assert_true(sr.final);
    assert_int_equal(sr.disposition, RD_DISP_OPTED_OUT);
    ts_jobs_free(&j);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+913333333333", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_FINAL_OPTOUT);
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 99 * MINUTE, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 0);
    ts_jobs_free(&j);
    rd_store_stats_t st;
    assert_int_equal(ts_stats(f->s, &f->loop, "A", &st), 0);
    assert_int_equal(st.counts.finals[RD_DISP_DND], 2);
    assert_int_equal(st.counts.finals[RD_DISP_OPTED_OUT], 2);
}

/* Campaign A saturated (concurrency 2, many due) must not delay B. */
static void t_no_head_of_line(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 2, NULL);
    campaign(f, "B", 3, NULL);
    char num[20];
    for (int i = 0; i < 50; i++) {
        snprintf(num, sizeof(num), "+9190000%05d", i);
        enqueue_ok(f, "A", num, NULL, T0 - 10 * MINUTE); /* A is due earlier */
    }
    for (int i = 0; i < 3; i++) {
        snprintf(num, sizeof(num), "+9180000%05d", i);
        enqueue_ok(f, "B", num, NULL, T0);
    }
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 4, MINUTE, &j), 0);
    int a = 0, b = 0;
    for (size_t i = 0; i < j.n; i++)
        if (strcmp(j.v[i]->campaign, "A") == 0)
            a++;
        else
            b++;
    assert_int_equal(a, 2);
    assert_int_equal(b, 2);
    ts_jobs_free(&j);
    /* Later calls: A stays parked at 2 live, B gets its last job. */
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 100, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    assert_string_equal(j.v[0]->campaign, "B");
    ts_jobs_free(&j);
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 100, MINUTE, &j), 0);
    assert_int_equal(j.n, 0);
    ts_jobs_free(&j);
}

static void t_number_lock_and_release(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    campaign(f, "B", 5, NULL);
    enqueue_ok(f, "A", "+919876543210", NULL, T0);
    enqueue_ok(f, "B", "+919876543210", NULL, T0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    assert_int_equal(j.deferred, 1);
    /* Release: not an attempt, reservation undone, due again after the delay. */
    const char *camp = j.v[0]->campaign;
    assert_int_equal(ts_release(f->s, &f->loop, camp, j.v[0]->token, T0 + 5 * MINUTE, T0), 0);
    char other[2] = {camp[0] == 'A' ? 'B' : 'A', 0};
    ts_jobs_t k;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 20000, 10, MINUTE, &k), 0);
    assert_int_equal(k.n, 0); /* the other was pushed back by the lock retry (30 s) */
    ts_jobs_free(&k);
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 30000, 10, MINUTE, &k), 0);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.v[0]->campaign, other);
    assert_int_equal(k.v[0]->n_num_attempts, 0); /* the release left no attempt */
    assert_int_equal(k.v[0]->attempt, 1);
    ts_jobs_t l;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 5 * MINUTE, 10, MINUTE, &l), 0);
    assert_int_equal(l.n, 0); /* the released one is due, but the number is live */
    assert_int_equal(l.deferred, 1);
    ts_jobs_free(&l);
    ts_jobs_free(&k);
    ts_jobs_free(&j);
}

/* Provider pin at dial time (issue 12, item 5): an engine claims only the
   jobs of campaigns whose provider it serves; the other campaign stays
   ready for its own engines and is not this engine's next due time (no
   claim loop). */
static void t_provider_pin(void **state) {
    fx_t *f = *state;
    assert_int_equal(ts_campaign(f->s, &f->loop,
                                 "{\"name\":\"Tw\",\"caller_id\":\"0800\",\"call_flow_id\":\"1\","
                                 "\"numbers\":[],\"provider\":\"twilio\"}",
                                 T0),
                     0);
    campaign(f, "Any", 5, NULL);
    enqueue_ok(f, "Tw", "+919876543210", NULL, T0);
    enqueue_ok(f, "Any", "+919876543211", NULL, T0 + MINUTE);
    ts_jobs_t j;
    assert_int_equal(ts_claim_for(f->s, &f->loop, T0 + 1000, 10, MINUTE, "exotel", &j), 0);
    assert_int_equal(j.n, 0);
    assert_int_equal(j.pinned, 1);
    assert_int_equal(j.next_due_ms, T0 + MINUTE); /* the unpinned one, not Tw's (due now) */
    ts_jobs_free(&j);
    assert_int_equal(ts_claim_for(f->s, &f->loop, T0 + MINUTE, 10, MINUTE, "exotel", &j), 0);
    assert_int_equal(j.n, 1);
    assert_string_equal(j.v[0]->campaign, "Any");
    ts_jobs_free(&j);
    assert_int_equal(ts_claim_for(f->s, &f->loop, T0 + MINUTE, 10, MINUTE, "twilio", &j), 0);
    assert_int_equal(j.n, 1);
    assert_string_equal(j.v[0]->campaign, "Tw");
    assert_int_equal(j.pinned, 0);
    ts_jobs_free(&j);
}

static void t_recovery(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 2, NULL);
    enqueue_ok(f, "A", "+919876543210", NULL, T0);
    enqueue_ok(f, "A", "+919876543211", NULL, T0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, 30000, &j), 0);
    assert_int_equal(j.n, 2);
    /* One is placed (deadline T0 + 5 min), the other never dialed (T0 + 30 s). */
    assert_int_equal(ts_placed(f->s, &f->loop, "A", j.v[0]->token, "CA9", T0 + 5 * MINUTE), 0);
    ts_jobs_t r;
    assert_int_equal(ts_recover(f->s, &f->loop, T0 + 29000, 100, MINUTE, &r), 0);
    assert_int_equal(r.requeued + r.n, 0);
    assert_int_equal(r.next_due_ms, T0 + 30000);
    ts_jobs_free(&r);
    assert_int_equal(ts_recover(f->s, &f->loop, T0 + 30000, 100, MINUTE, &r), 0);
    assert_int_equal(r.requeued, 1);
    assert_int_equal(r.n, 0);
    ts_jobs_free(&r);
    /* The never-dialed one is due again with attempt 1 and a free slot. */
    ts_jobs_t k;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 30000, 10, 30000, &k), 0);
    assert_int_equal(k.n, 1);
    assert_string_equal(k.v[0]->to, j.v[1]->to);
    assert_int_equal(k.v[0]->attempt, 1);
    assert_int_equal(ts_release(f->s, &f->loop, "A", j.v[1]->token, T0, T0), RD_ESTALE);
    assert_int_equal(ts_release(f->s, &f->loop, "A", k.v[0]->token, T0 + 99 * MINUTE, T0), 0);
    ts_jobs_free(&k);
    /* The placed one goes to status polling, token unchanged, polled again later. */
    assert_int_equal(ts_recover(f->s, &f->loop, T0 + 5 * MINUTE, 100, MINUTE, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0]->token, j.v[0]->token);
    assert_string_equal(r.v[0]->call_id, "CA9");
    assert_int_equal(r.v[0]->polls, 1);
    ts_jobs_free(&r);
    assert_int_equal(ts_recover(f->s, &f->loop, T0 + 5 * MINUTE + 1, 100, MINUTE, &r), 0);
    assert_int_equal(r.n, 0);
    ts_jobs_free(&r);
    assert_int_equal(ts_recover(f->s, &f->loop, T0 + 6 * MINUTE, 100, MINUTE, &r), 0);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.v[0]->polls, 2);
    ts_jobs_free(&r);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", j.v[0]->token, RD_OUT_NO_ANSWER, true,
                               RD_DISP_UNREACHABLE, 0, T0 + 6 * MINUTE, NULL),
                     0);
    ts_jobs_free(&j);
    rd_store_campaign_t c;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "A", &c), 0);
    assert_int_equal(c.live, 0);
}

static void t_pause_cancel(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    char num[20];
    for (int i = 0; i < 1200; i++) {
        snprintf(num, sizeof(num), "+9190000%05d", i);
        enqueue_ok(f, "A", num, NULL, T0);
    }
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 1, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    assert_int_equal(ts_state(f->s, &f->loop, "A", RD_CAMP_PAUSED, T0), 0);
    ts_jobs_t k;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &k), 0);
    assert_int_equal(k.n, 0);
    ts_jobs_free(&k);
    assert_int_equal(ts_state(f->s, &f->loop, "A", RD_CAMP_ACTIVE, T0), 0);
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 2, MINUTE, &k), 0);
    assert_int_equal(k.n, 2);
    ts_jobs_free(&k);
    assert_int_equal(ts_state(f->s, &f->loop, "A", RD_CAMP_CANCELED, T0), 0);
    assert_int_equal(ts_state(f->s, &f->loop, "A", RD_CAMP_ACTIVE, T0), RD_EINVAL);
    assert_int_equal(ts_state(f->s, &f->loop, "nope", RD_CAMP_PAUSED, T0), RD_ENOTFOUND);
    rd_store_campaign_t c;
    assert_int_equal(ts_campaign_get(f->s, &f->loop, "A", &c), 0);
    assert_int_equal(c.state, RD_CAMP_CANCELED);
    assert_int_equal(c.pending, 0);
    assert_int_equal(c.finished, 1197);
    /* The live call ends canceled instead of retrying. */
    rd_store_settle_res_t sr;
    assert_int_equal(
        ts_settle(f->s, &f->loop, "A", j.v[0]->token, RD_OUT_BUSY, false, 0, T0 + MINUTE, T0, &sr),
        0);
    assert_true(sr.final);
    assert_int_equal(sr.disposition, RD_DISP_CANCELED);
    ts_jobs_free(&j);
    rd_enq_result_t r;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919999999999", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_CANCELED);
}

static void t_pool(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 10, ",\"agent_pool\":\"sales\"");
    campaign(f, "B", 10, ",\"agent_pool\":\"sales\"");
    campaign(f, "C", 10, NULL);
    char num[20];
    for (int i = 0; i < 5; i++) {
        snprintf(num, sizeof(num), "+9170000%05d", i);
        enqueue_ok(f, "A", num, NULL, T0);
        snprintf(num, sizeof(num), "+9160000%05d", i);
        enqueue_ok(f, "B", num, NULL, T0);
        snprintf(num, sizeof(num), "+9150000%05d", i);
        enqueue_ok(f, "C", num, NULL, T0 + 1);
    }
    assert_int_equal(ts_pool(f->s, &f->loop, "sales", 3), 0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 1, 100, MINUTE, &j), 0);
    int pooled = 0, c = 0;
    for (size_t i = 0; i < j.n; i++)
        if (strcmp(j.v[i]->campaign, "C") == 0)
            c++;
        else
            pooled++;
    assert_int_equal(pooled, 3);
    assert_int_equal(c, 5);
    ts_jobs_t k;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 1, 100, MINUTE, &k), 0);
    assert_int_equal(k.n, 0);
    ts_jobs_free(&k);
    /* One pooled call ends: exactly one more pooled claim. */
    for (size_t i = 0; i < j.n; i++)
        if (strcmp(j.v[i]->campaign, "C") != 0) {
            assert_int_equal(ts_settle(f->s, &f->loop, j.v[i]->campaign, j.v[i]->token,
                                       RD_OUT_COMPLETED, true, RD_DISP_CONNECTED, 0, T0, NULL),
                             0);
            break;
        }
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 1, 100, MINUTE, &k), 0);
    assert_int_equal(k.n, 1);
    ts_jobs_free(&k);
    /* Raising the capacity admits more at once. */
    assert_int_equal(ts_pool(f->s, &f->loop, "sales", 5), 0);
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 1, 100, MINUTE, &k), 0);
    assert_int_equal(k.n, 2);
    ts_jobs_free(&k);
    ts_jobs_free(&j);
}

static void t_rate_limits(void **state) {
    fx_t *f = *state;
    ts_close(f->s, &f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, "exotel:acct", 1.0, 2.0);
    campaign(f, "A", 100, NULL);
    campaign(f, "B", 100, ",\"calls_per_minute\":60");
    char num[20];
    for (int i = 0; i < 10; i++) {
        snprintf(num, sizeof(num), "+9170000%05d", i);
        enqueue_ok(f, "A", num, NULL, T0);
    }
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 100, MINUTE, &j), 0);
    assert_int_equal(j.n, 2); /* provider bucket burst */
    assert_true(j.bucket_wait_ms > 0 && j.bucket_wait_ms <= 1000);
    ts_jobs_free(&j);
    /* Campaign rate: 60/min = 1 per policy second, burst 1. */
    ts_close(f->s, &f->loop);
    f->s = ts_store(&f->loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    for (int i = 0; i < 5; i++) {
        snprintf(num, sizeof(num), "+9160000%05d", i);
        enqueue_ok(f, "B", num, NULL, T0);
    }
    int got = 0;
    for (int64_t t = T0; t < T0 + 3000; t += 250) {
        assert_int_equal(ts_claim(f->s, &f->loop, t, 100, MINUTE, &j), 0);
        for (size_t i = 0; i < j.n; i++) got += strcmp(j.v[i]->campaign, "B") == 0;
        ts_jobs_free(&j);
    }
    assert_int_equal(got, 3); /* at T0, T0+1 s, T0+2 s */
}

/* Redis restarts (script cache and data gone): the store reconnects and works. */
static void t_redis_restart(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    assert_int_equal(rd_test_redis_kill(&f->redis), 0);
    rd_enq_result_t r;
    int rc = ts_enqueue(f->s, &f->loop, "A", "+919876543210", NULL, T0, T0, &r);
    assert_true(rc == RD_ECLOSED || rc == RD_ETIMEOUT);
    assert_int_equal(rd_test_redis_restart(&f->redis), 0);
    /* Queued while disconnected, sent once the connection is back. */
    rc = ts_campaign(f->s, &f->loop, "{\"name\":\"A\",\"caller_id\":\"1\",\"call_flow_id\":\"1\"}",
                     T0);
    assert_int_equal(rc, 0);
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", NULL, T0, T0, &r), 0);
    assert_int_equal(r, RD_ENQ_CREATED);
}

/* A stalled Redis (SIGSTOP): commands time out, then everything recovers. */
static void t_redis_stall(void **state) {
    fx_t *f = *state;
    ts_close(f->s, &f->loop);
    rd_store_opts_t o;
    rd_store_opts_init(&o);
    o.url = f->redis.url;
    o.prefix = f->redis.prefix;
    o.cmd_timeout_ms = 300;
    assert_int_equal(rd_store_create(&f->loop, &o, &f->s), 0);
    campaign(f, "A", 5, NULL);
    kill(f->redis.pid, SIGSTOP);
    uint64_t t = uv_hrtime();
    rd_enq_result_t r;
    assert_int_equal(ts_enqueue(f->s, &f->loop, "A", "+919876543210", NULL, T0, T0, &r),
                     RD_ETIMEOUT);
    assert_true((uv_hrtime() - t) / 1000000 < 2000);
    kill(f->redis.pid, SIGCONT);
    int rc = RD_ETIMEOUT;
    for (int i = 0; i < 50 && rc != 0; i++)
        rc = ts_enqueue(f->s, &f->loop, "A", "+919876543211", NULL, T0, T0, &r);
    assert_int_equal(rc, 0);
}

typedef struct twice {
    int ok, stale, other, done;
} twice_t;

static void on_twice(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)s;
    (void)r;
    twice_t *t = arg;
    if (status == 0)
        t->ok++;
    else if (status == RD_ESTALE)
        t->stale++;
    else
        t->other++;
    t->done++;
}

/* The same attempt settled twice in one loop iteration (one batch): once. */
static void t_duplicate_in_batch(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 5, NULL);
    enqueue_ok(f, "A", "+919876543210", NULL, T0);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 1);
    twice_t t = {0};
    rd_store_settle_t st = {.campaign = "A",
                            .token = j.v[0]->token,
                            .outcome = RD_OUT_BUSY,
                            .ended_ms = T0,
                            .now_ms = T0,
                            .hour_of_week = -1};
    st.decision.due_ms = T0 + MINUTE;
    assert_int_equal(rd_store_settle(f->s, &st, on_twice, &t), 0);
    assert_int_equal(rd_store_settle(f->s, &st, on_twice, &t), 0);
    st.outcome = RD_OUT_COMPLETED;
    st.decision.final = true;
    st.decision.disposition = RD_DISP_CONNECTED;
    assert_int_equal(rd_store_settle(f->s, &st, on_twice, &t), 0);
    assert_int_equal(t.done, 0); /* never from inside the call */
    while (t.done < 3) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(t.ok, 1);
    assert_int_equal(t.stale, 2);
    assert_int_equal(t.other, 0);
    ts_jobs_free(&j);
    assert_int_equal(xlen(f, "events"), 1);
    rd_store_stats_t sts;
    assert_int_equal(ts_stats(f->s, &f->loop, "A", &sts), 0);
    assert_int_equal(sts.counts.attempts[1], 1);
    assert_int_equal(sts.pending, 1);
    assert_int_equal(sts.live, 0);
}

/* ---- settle given the job: the same record and events as a plain settle ---- */

/* Replaces every occurrence of `from` by `to` (same length) in s. */
static void subst(char *s, const char *from, const char *to) {
    size_t n = strlen(from);
    assert_int_equal(strlen(to), n);
    for (char *p = strstr(s, from); p; p = strstr(p + n, from)) memcpy(p, to, n);
}

/* The number record of num, as text; returns its size in bytes. */
static size_t rec_text(fx_t *f, const char *num, char *out, size_t cap) {
    redisContext *c = rd_test_redis_sync(&f->redis);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "HGET %s:n %s", f->redis.prefix, num);
    assert_true(r && r->type == REDIS_REPLY_STRING);
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    assert_int_equal(msgpack_unpack_next(&u, r->str, r->len, &off), MSGPACK_UNPACK_SUCCESS);
    assert_int_equal(off, r->len);
    assert_true(msgpack_object_print_buffer(out, cap, u.data) > 0);
    msgpack_unpacked_destroy(&u);
    size_t len = r->len;
    freeReplyObject(r);
    redisFree(c);
    return len;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every event of the stream as "k=v;" text, keys sorted (the scripts' and
 * the engine's key orders differ; consumers read maps by key). */
static size_t events_text(fx_t *f, char (*ev)[512], size_t max) {
    redisContext *c = rd_test_redis_sync(&f->redis);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "XRANGE %s:events - +", f->redis.prefix);
    assert_true(r && r->type == REDIS_REPLY_ARRAY && r->elements <= max);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fv = r->element[i]->element[1];
        assert_int_equal(fv->elements, 2);
        assert_string_equal(fv->element[0]->str, "m");
        msgpack_unpacked u;
        msgpack_unpacked_init(&u);
        size_t off = 0;
        assert_int_equal(msgpack_unpack_next(&u, fv->element[1]->str, fv->element[1]->len, &off),
                         MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(off, fv->element[1]->len);
        assert_int_equal(u.data.type, MSGPACK_OBJECT_MAP);
        char kv[16][128];
        char *p[16];
        size_t n = u.data.via.map.size;
        assert_true(n <= 16);
        for (size_t k = 0; k < n; k++) {
            msgpack_object_kv *e = &u.data.via.map.ptr[k];
            assert_int_equal(e->key.type, MSGPACK_OBJECT_STR);
            int w = snprintf(kv[k], sizeof(kv[k]), "%.*s=", (int)e->key.via.str.size,
                             e->key.via.str.ptr);
            assert_true(msgpack_object_print_buffer(kv[k] + w, sizeof(kv[k]) - (size_t)w, e->val) >
                        0);
            p[k] = kv[k];
        }
        qsort(p, n, sizeof(p[0]), cmp_cstr);
        ev[i][0] = 0;
        for (size_t k = 0; k < n; k++) {
            strcat(ev[i], p[k]);
            strcat(ev[i], ";");
        }
        msgpack_unpacked_destroy(&u);
    }
    size_t n = r->elements;
    freeReplyObject(r);
    redisFree(c);
    return n;
}

#define N1 "+911111111111"
#define N2 "+922222222222"

/* N1 (id p1) settled plainly, N2 (id p2) given its job: the records and the
 * events must be the same but for the number and the id. The stream holds
 * `first` earlier events, then `per` of N1's and `per` of N2's. */
static void twins_equal(fx_t *f, size_t first, size_t per) {
    char r1[2048], r2[2048];
    /* The same bytes too (ids of equal length): no memory cost. */
    assert_int_equal(rec_text(f, N1, r1, sizeof(r1)), rec_text(f, N2, r2, sizeof(r2)));
    subst(r2, "\"p2\"", "\"p1\"");
    assert_string_equal(r1, r2);
    static char ev[16][512];
    assert_int_equal(events_text(f, ev, 16), first + 2 * per);
    for (size_t i = first; i < first + per; i++) {
        assert_non_null(strstr(ev[i], N1));
        subst(ev[i + per], N2, N1);
        subst(ev[i + per], "\"p2\"", "\"p1\"");
        subst(ev[i + per], "CA-2", "CA-1");
        assert_string_equal(ev[i], ev[i + per]);
    }
    /* Attempt events say who answered (issue 9), in both paths alike. */
    size_t with_ab = 0;
    for (size_t i = first; i < first + 2 * per; i++)
        if (strstr(ev[i], "answered_by=\"")) with_ab++;
    assert_true(with_ab >= 2 && with_ab % 2 == 0);
}

/* Claims both twins; [0] = N1, [1] = N2 (owned). */
static void claim_twins(fx_t *f, int64_t now, rd_store_job_t *out[2]) {
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, now, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 2);
    int a = strcmp(j.v[0]->to, N1) == 0 ? 0 : 1;
    out[0] = j.v[a];
    out[1] = j.v[1 - a];
    assert_string_equal(out[0]->to, N1);
    assert_string_equal(out[1]->to, N2);
    rd_free(j.v);
}

static void t_settle_with_job(void **state) {
    fx_t *f = *state;
    campaign(f, "A", 10, NULL);
    campaign(f, "B", 10, NULL);
    enqueue_ok(f, "A", N1, "p1", T0);
    enqueue_ok(f, "A", N2, "p2", T0);
    uint64_t prep0 = rd_store_settles_prepared(f->s);
    rd_store_settle_res_t r1, r2;
    rd_store_job_t *t[2];

    /* 1: busy, retry. */
    claim_twins(f, T0, t);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", t[0]->token, RD_OUT_BUSY, false, 0,
                               T0 + 60 * MINUTE, T0 + MINUTE, &r1),
                     0);
    assert_int_equal(ts_settle_job(f->s, &f->loop, t[1], RD_OUT_BUSY, false, 0, T0 + 60 * MINUTE,
                                   T0 + MINUTE, &r2),
                     0);
    assert_int_equal(rd_store_settles_prepared(f->s), prep0 + 1);
    assert_memory_equal(&r1, &r2, sizeof(r1));
    twins_equal(f, 0, 1);
    /* A second settle with the job is stale and changes nothing. */
    assert_int_equal(ts_settle_job(f->s, &f->loop, t[1], RD_OUT_COMPLETED, true, RD_DISP_CONNECTED,
                                   0, T0 + MINUTE, NULL),
                     RD_ESTALE);
    twins_equal(f, 0, 1);
    rd_store_job_free(t[0]);
    rd_store_job_free(t[1]);

    /* 2: placed, the job as a status callback looks it up, no-answer, retry. */
    claim_twins(f, T0 + 60 * MINUTE, t);
    assert_int_equal(ts_placed(f->s, &f->loop, "A", t[0]->token, "CA-1", T0 + 90 * MINUTE), 0);
    assert_int_equal(ts_placed(f->s, &f->loop, "A", t[1]->token, "CA-2", T0 + 90 * MINUTE), 0);
    rd_store_job_t *lk = NULL;
    assert_int_equal(ts_lookup(f->s, &f->loop, 'c', "CA-2", &lk), 0);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", t[0]->token, RD_OUT_NO_ANSWER, false, 0,
                               T0 + 120 * MINUTE, T0 + 61 * MINUTE, &r1),
                     0);
    assert_int_equal(ts_settle_job(f->s, &f->loop, lk, RD_OUT_NO_ANSWER, false, 0,
                                   T0 + 120 * MINUTE, T0 + 61 * MINUTE, &r2),
                     0);
    assert_int_equal(rd_store_settles_prepared(f->s), prep0 + 2);
    assert_memory_equal(&r1, &r2, sizeof(r1));
    assert_int_equal(r2.attempt, 2);
    twins_equal(f, 2, 1);
    rd_store_job_free(lk);
    rd_store_job_free(t[0]);
    rd_store_job_free(t[1]);

    /* 3: connected, final. */
    claim_twins(f, T0 + 120 * MINUTE, t);
    assert_int_equal(ts_settle(f->s, &f->loop, "A", t[0]->token, RD_OUT_COMPLETED, true,
                               RD_DISP_CONNECTED, 0, T0 + 121 * MINUTE, &r1),
                     0);
    assert_int_equal(ts_settle_job(f->s, &f->loop, t[1], RD_OUT_COMPLETED, true, RD_DISP_CONNECTED,
                                   0, T0 + 121 * MINUTE, &r2),
                     0);
    assert_int_equal(rd_store_settles_prepared(f->s), prep0 + 3);
    assert_memory_equal(&r1, &r2, sizeof(r1));
    assert_true(r2.final);
    twins_equal(f, 4, 2); /* attempt + final each */
    rd_store_stats_t st;
    assert_int_equal(ts_stats(f->s, &f->loop, "A", &st), 0);
    assert_int_equal(st.counts.connected[3], 2);
    assert_int_equal(st.counts.finals[RD_DISP_CONNECTED], 2);
    assert_int_equal(st.by_attempt[2][RD_OUT_NO_ANSWER], 2);
    assert_int_equal(st.live, 0);
    rd_store_job_free(t[0]);
    rd_store_job_free(t[1]);

    /* The record changed since the job was read (another campaign's job for
     * the number), an opt-out turns the retry final, a job under another
     * token: Redis settles by itself, correctly. */
    enqueue_ok(f, "A", "+933333333333", "p3", T0 + 200 * MINUTE);
    enqueue_ok(f, "A", "+944444444444", "p4", T0 + 200 * MINUTE);
    ts_jobs_t j;
    assert_int_equal(ts_claim(f->s, &f->loop, T0 + 200 * MINUTE, 10, MINUTE, &j), 0);
    assert_int_equal(j.n, 2);
    rd_store_job_t *j3 = strcmp(j.v[0]->to, "+933333333333") == 0 ? j.v[0] : j.v[1];
    rd_store_job_t *j4 = j3 == j.v[0] ? j.v[1] : j.v[0];
    enqueue_ok(f, "B", "+933333333333", "q3", T0 + 900 * MINUTE);
    int64_t n_opt = 0;
    assert_int_equal(ts_optout(f->s, &f->loop, "+944444444444", T0 + 200 * MINUTE, &n_opt), 0);
    rd_store_job_t other = *j4;
    other.token = j3->token;
    assert_int_equal(ts_settle_job(f->s, &f->loop, j3, RD_OUT_BUSY, false, 0, T0 + 260 * MINUTE,
                                   T0 + 201 * MINUTE, &r1),
                     0);
    assert_false(r1.final);
    assert_int_equal(ts_settle_job(f->s, &f->loop, &other, RD_OUT_BUSY, false, 0, T0 + 260 * MINUTE,
                                   T0 + 201 * MINUTE, NULL),
                     RD_ESTALE);
    assert_int_equal(ts_settle_job(f->s, &f->loop, j4, RD_OUT_BUSY, false, 0, T0 + 260 * MINUTE,
                                   T0 + 201 * MINUTE, &r2),
                     0);
    assert_true(r2.final);
    assert_int_equal(r2.disposition, RD_DISP_OPTED_OUT);
    assert_int_equal(rd_store_settles_prepared(f->s), prep0 + 3);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "p3", &lk), 0);
    assert_int_equal(lk->state, RD_JOB_PENDING);
    assert_int_equal(lk->n_hist, 1);
    assert_int_equal(lk->n_num_attempts, 1);
    assert_int_equal(lk->due_ms, T0 + 260 * MINUTE);
    rd_store_job_free(lk);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "q3", &lk), 0);
    assert_int_equal(lk->state, RD_JOB_PENDING);
    rd_store_job_free(lk);
    assert_int_equal(ts_lookup(f->s, &f->loop, 'i', "p4", &lk), 0);
    assert_int_equal(lk->state, RD_JOB_FINAL);
    assert_int_equal(lk->disposition, RD_DISP_OPTED_OUT);
    assert_int_equal(lk->n_hist, 1);
    rd_store_job_free(lk);
    ts_jobs_free(&j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_life_of_a_job, setup, teardown),
        cmocka_unit_test_setup_teardown(t_dedupe, setup, teardown),
        cmocka_unit_test_setup_teardown(t_dnd_optout, setup, teardown),
        cmocka_unit_test_setup_teardown(t_no_head_of_line, setup, teardown),
        cmocka_unit_test_setup_teardown(t_number_lock_and_release, setup, teardown),
        cmocka_unit_test_setup_teardown(t_recovery, setup, teardown),
        cmocka_unit_test_setup_teardown(t_provider_pin, setup, teardown),
        cmocka_unit_test_setup_teardown(t_pause_cancel, setup, teardown),
        cmocka_unit_test_setup_teardown(t_pool, setup, teardown),
        cmocka_unit_test_setup_teardown(t_rate_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(t_duplicate_in_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(t_settle_with_job, setup, teardown),
        cmocka_unit_test_setup_teardown(t_redis_restart, setup_own, teardown),
        cmocka_unit_test_setup_teardown(t_redis_stall, setup_own, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
