/*
 * store_job.c — a job's transitions through the store: enqueue, claim,
 * placed, release, lookup, settle and lease recovery. Each call packs the
 * arguments of its script (store/lua/<name>.lua, contract at its top) and
 * decodes the reply with store_record.c; the per-item ones are batched
 * (store.c).
 *
 * Threads: the store's loop thread.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"
#include "store/store_int.h"
#include "proto/callback.h"

static void enqueue_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    int64_t code = 0;
    char id[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2] = "";
    if (rc == 0) {
        code = rd_store__rint_(v[0]);
        if (code < RD_ENQ_CREATED || code > RD_ENQ_CONFLICT || !rd_store__is_str(v[1]))
            rc = RD_EPROTO;
        else
            rd_store__copy_str(id, sizeof(id), v[1]->str, v[1]->len);
    }
    ((rd_store_enqueue_cb)it->cb)(s, rc, (rd_enq_result_t)code, id, it->arg);
}

int rd_store_enqueue(rd_store_t *s, const rd_store_enqueue_t *e, int64_t now_ms,
                     rd_store_enqueue_cb cb, void *arg) {
    if (!e->campaign || !e->to || strlen(e->campaign) > RD_CAMPAIGN_NAME_MAX ||
        !rd_e164_valid(e->to, strlen(e->to)) || (e->id && strlen(e->id) > RD_JOB_ID_MAX) ||
        (e->tz && strlen(e->tz) > RD_TZ_NAME_MAX))
        return RD_EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (e->n_vars && rd_store__vars_encode(e->vars, e->n_vars, &sb) < 0) {
        msgpack_sbuffer_destroy(&sb);
        return RD_ENOMEM;
    }
    bq_t *q = rd_store__bq_begin(s, BQ_ENQUEUE, enqueue_done, (void (*)(void))cb, arg, now_ms);
    rd_store__bq_str(q, e->campaign);
    rd_store__bq_str(q, e->to);
    rd_store__bq_str(q, e->id ? e->id : "");
    rd_store__bq_bin(q, sb.data, sb.size);
    rd_store__bq_str(q, e->tz ? e->tz : "");
    rd_store__bq_i64(q, e->not_before_ms);
    rd_store__bq_i64(q, e->due_ms);
    msgpack_sbuffer_destroy(&sb);
    rd_store__bq_commit(s, BQ_ENQUEUE);
    return 0;
}
static void done_claim(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_claim_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !rd_store__is_arr(reply, 6)) rc = RD_EPROTO;
    if (rc == 0) rc = rd_store__decode_jobs(reply, 6, 5, o->i1, &res.jobs, &res.n);
    if (rc == 0) {
        res.finished = (size_t)rd_store__rint_(reply->element[1]);
        res.deferred = (size_t)rd_store__rint_(reply->element[2]);
        res.next_due_ms = rd_store__rint_(reply->element[3]);
        res.bucket_wait_ms = rd_store__rint_(reply->element[4]);
        res.pinned_elsewhere = (size_t)rd_store__rint_(reply->element[5]);
        for (size_t i = 0; i < res.n; i++) res.jobs[i].deadline_ms = o->i1 + o->i2;
        if ((size_t)rd_store__rint_(reply->element[0]) != res.n) rc = RD_EPROTO;
    }
    ((rd_store_claim_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    rd_store__free_jobs(res.jobs, res.n);
    rd_free(o);
}

int rd_store_claim(rd_store_t *s, const rd_store_claim_req_t *req, rd_store_claim_cb cb,
                   void *arg) {
    if (req->max_jobs < 1 || req->max_jobs > 1000 || req->lease_ms <= 0) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_i64(&a, req->now_ms);
    rd_store__arg_i64(&a, req->max_jobs);
    rd_store__arg_i64(&a, req->lease_ms);
    rd_store__arg_i64(&a, req->lock_retry_ms > 0 ? req->lock_retry_ms : 30000);
    rd_store__arg_cstr(&a, s->bucket);
    rd_store__arg_dbl(&a, s->opts.bucket_rate);
    rd_store__arg_dbl(&a, s->opts.bucket_burst);
    rd_store__arg_i64(&a, 64);
    rd_store__arg_i64(&a, s->opts.events_maxlen);
    rd_store__arg_cstr(&a, req->engine ? req->engine : "");
    rd_store__arg_cstr(&a, req->provider ? req->provider : "");
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    o->i1 = req->now_ms;
    o->i2 = req->lease_ms;
    return rd_store__run(s, SC_CLAIM, &a, done_claim, o);
}

static void fenced_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    if (rc == 0 && rd_store__rint_(v[0]) != 1) rc = RD_ESTALE;
    ((rd_store_cb)it->cb)(s, rc, it->arg);
}

int rd_store_placed(rd_store_t *s, const char *campaign, uint64_t token, const char *call_id,
                    int64_t deadline_ms, rd_store_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !call_id ||
        strlen(call_id) > RD_STORE_CALL_ID_MAX || !token || token > INT64_MAX)
        return RD_EINVAL;
    bq_t *q = rd_store__bq_begin(s, BQ_PLACED, fenced_done, (void (*)(void))cb, arg, 0);
    rd_store__bq_str(q, campaign);
    rd_store__bq_i64(q, (int64_t)token);
    rd_store__bq_str(q, call_id);
    rd_store__bq_i64(q, deadline_ms);
    rd_store__bq_commit(s, BQ_PLACED);
    return 0;
}

int rd_store_release(rd_store_t *s, const char *campaign, uint64_t token, int64_t due_ms,
                     int64_t now_ms, rd_store_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !token || token > INT64_MAX)
        return RD_EINVAL;
    bq_t *q = rd_store__bq_begin(s, BQ_RELEASE, fenced_done, (void (*)(void))cb, arg, now_ms);
    rd_store__bq_str(q, campaign);
    rd_store__bq_i64(q, (int64_t)token);
    rd_store__bq_i64(q, due_ms);
    rd_store__bq_commit(s, BQ_RELEASE);
    return 0;
}

/* ---- lookup / settle ----------------------------------------------------------------------- */

static void lookup_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **e) {
    rd_store_job_t j;
    bool have = false;
    if (rc == 0) {
        int64_t st = rd_store__rint_(e[0]);
        if (st == 0) {
            rc = RD_ESTALE;
        } else if (st < 0) {
            rc = RD_ENOTFOUND;
        } else {
            rc = rd_store__job_names(&j, e[1], e[2]);
            if (rc == 0)
                rc =
                    rd_store__job_from_nrec(&j, e[5], rd_store__rint_(e[3]), rd_store__rint_(e[4]));
            if (rc == 0) {
                uint64_t tok = (uint64_t)rd_store__rint_(e[6]);
                if (tok)
                    rd_store__job_lease(&j, tok, rd_store__rint_(e[7]), rd_store__rint_(e[8]) == 1,
                                        e[10], rd_store__rint_(e[9]), true);
                j.deadline_ms = rd_store__rint_(e[11]);
                j.due_ms = j.state == RD_JOB_PENDING ? rd_store__rint_(e[12]) : 0;
                have = true;
            } else {
                rd_store__job_clear(&j);
            }
        }
    }
    ((rd_store_job_cb)it->cb)(s, rc, have ? &j : NULL, it->arg);
    if (have) rd_store__job_clear(&j);
}

int rd_store__lookup(rd_store_t *s, const char *mode, const char *key, rd_store_job_cb cb,
                     void *arg) {
    if (!key || !key[0] || strlen(key) > 512) return RD_EINVAL;
    bq_t *q = rd_store__bq_begin(s, BQ_LOOKUP, lookup_done, (void (*)(void))cb, arg, 0);
    rd_store__bq_str(q, mode);
    rd_store__bq_str(q, key);
    rd_store__bq_commit(s, BQ_LOOKUP);
    return 0;
}

int rd_store_lookup_attempt(rd_store_t *s, const char *attempt_key, rd_store_job_cb cb, void *arg) {
    if (!attempt_key || rd_attempt_key_parse(attempt_key, strlen(attempt_key), NULL, 0, NULL) < 0)
        return RD_EINVAL;
    return rd_store__lookup(s, "a", attempt_key, cb, arg);
}

int rd_store_lookup_call(rd_store_t *s, const char *call_id, rd_store_job_cb cb, void *arg) {
    return rd_store__lookup(s, "c", call_id, cb, arg);
}

static void settle_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    rd_store_settle_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0) {
        int64_t how = rd_store__rint_(v[0]);
        if (how != 1 && how != 2) {
            rc = RD_ESTALE;
        } else {
            if (how == 2) s->settles_prepared++;
            res.final = rd_store__rint_(v[1]) == 1;
            int64_t d = rd_store__rint_(v[2]);
            res.disposition = RD_DISP_FAILED;
            if (d >= 0 && d < RD_DISP__COUNT) res.disposition = (rd_disposition_t)d;
            res.attempt = (int)rd_store__rint_(v[3]);
        }
    }
    ((rd_store_settle_cb)it->cb)(s, rc, rc == 0 ? &res : NULL, it->arg);
}

/* One settle item's arguments, indexed by rd_settle_field_t. */
typedef struct settle_args {
    const char *v[RD_SF__COUNT];
    size_t l[RD_SF__COUNT];
    char num[RD_SF__COUNT][24];
} settle_args_t;

static void sa_str(settle_args_t *a, int f, const char *p, size_t len) {
    a->v[f] = p;
    a->l[f] = len;
}

static void sa_i64(settle_args_t *a, int f, int64_t v) {
    int n = snprintf(a->num[f], sizeof(a->num[f]), "%lld", (long long)v);
    sa_str(a, f, a->num[f], (size_t)n);
}

int rd_store_settle(rd_store_t *s, const rd_store_settle_t *st, rd_store_settle_cb cb, void *arg) {
    if (!st->campaign || strlen(st->campaign) > RD_CAMPAIGN_NAME_MAX || !st->token ||
        st->token > INT64_MAX || (int)st->outcome < 0 || st->outcome >= RD_OUT__COUNT ||
        (st->decision.final &&
         ((int)st->decision.disposition < 0 || st->decision.disposition >= RD_DISP__COUNT)) ||
        st->hour_of_week >= 168 || (st->call_id && strlen(st->call_id) > RD_STORE_CALL_ID_MAX))
        return RD_EINVAL;
    /* The item's arguments by name (proto/model.h RD_SETTLE_FIELDS), sent in
     * the list's order; the prepared fields stay "" unless settle_prep
     * built them. */
    settle_args_t a = {0};
    sa_str(&a, RD_SF_CAMPAIGN, st->campaign, strlen(st->campaign));
    sa_i64(&a, RD_SF_TOKEN, (int64_t)st->token);
    sa_i64(&a, RD_SF_OUTCOME, st->outcome);
    if (st->call_id) sa_str(&a, RD_SF_CALL_ID, st->call_id, strlen(st->call_id));
    sa_i64(&a, RD_SF_ENDED, st->ended_ms);
    sa_i64(&a, RD_SF_FINAL, st->decision.final ? 1 : 0);
    sa_i64(&a, RD_SF_DISP, st->decision.final ? (int64_t)st->decision.disposition : -1);
    sa_i64(&a, RD_SF_DUE, st->decision.final ? 0 : st->decision.due_ms);
    sa_i64(&a, RD_SF_HOW, st->hour_of_week < 0 ? -1 : st->hour_of_week);
    sa_i64(&a, RD_SF_ANSWERED, st->answered ? 1 : 0);
    const char *ab = rd_answered_by_name(st->answered_by);
    sa_str(&a, RD_SF_ANSWERED_BY, ab, strlen(ab));
    settle_prep_t *sp = s->prepp;
    if (rd_store__settle_prep(st, sp)) {
        sa_str(&a, RD_SF_NUM, st->job->to, strlen(st->job->to));
        sa_i64(&a, RD_SF_START, st->job->lease_start_ms);
        sa_str(&a, RD_SF_CALL, sp->call, strlen(sp->call));
        sa_i64(&a, RD_SF_ATTEMPT, sp->attempt);
        sa_str(&a, RD_SF_XOLD, st->job->nrec, st->job->nrec_len);
        sa_str(&a, RD_SF_XNEW, sp->rec.data, sp->rec.size);
        sa_str(&a, RD_SF_EV, sp->ev.data, sp->ev.size);
        sa_str(&a, RD_SF_FIN, sp->fin.data, sp->fin.size);
    }
    bq_t *q = rd_store__bq_begin(s, BQ_SETTLE, settle_done, (void (*)(void))cb, arg, st->now_ms);
    for (int i = 0; i < RD_SF__COUNT; i++) rd_store__bq_bin(q, a.v[i] ? a.v[i] : "", a.l[i]);
    rd_store__bq_commit(s, BQ_SETTLE);
    return 0;
}

/* ---- recovery --------------------------------------------------------------------------------- */

static void done_recover(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_recover_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !rd_store__is_arr(reply, 3)) rc = RD_EPROTO;
    if (rc == 0) rc = rd_store__decode_jobs(reply, 3, 8, 0, &res.poll, &res.n_poll);
    if (rc == 0) {
        res.requeued = (size_t)rd_store__rint_(reply->element[0]);
        res.trimmed = (size_t)rd_store__rint_(reply->element[1]);
        res.next_deadline_ms = rd_store__rint_(reply->element[2]);
        for (size_t i = 0; i < res.n_poll; i++) res.poll[i].deadline_ms = o->i1 + o->i2;
    }
    ((rd_store_recover_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    rd_store__free_jobs(res.poll, res.n_poll);
    rd_free(o);
}

int rd_store_recover(rd_store_t *s, int64_t now_ms, int max, int64_t poll_lease_ms,
                     rd_store_recover_cb cb, void *arg) {
    if (max < 1 || max > 1000 || poll_lease_ms <= 0) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_i64(&a, now_ms);
    rd_store__arg_i64(&a, max);
    rd_store__arg_i64(&a, poll_lease_ms);
    rd_store__arg_i64(&a, s->opts.events_maxlen);
    rd_store__arg_i64(&a, s->opts.retention_ms);
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    o->i1 = now_ms;
    o->i2 = poll_lease_ms;
    return rd_store__run(s, SC_RECOVER, &a, done_recover, o);
}
