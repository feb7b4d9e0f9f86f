/*
 * ops.c — operator actions on jobs, numbers and agent pools (contract in
 * ops.h).
 *
 * Design. Whatever changes a job runs as one Lua script of store/lua/
 * (job_cancel.lua, job_retry.lua: the same helpers as the engine's scripts,
 * so a canceled job gets its final event, counters and GC entry exactly as
 * a campaign cancel gives them; nodial_remove.lua keeps P:nodial the union
 * of the DND and opt-out sets). Reads are bounded: job_list.lua scans at
 * most 2,000 number records per call and returns a cursor, SSCAN pages the
 * DND set, and the pool list walks the keyspace with SCAN pages of 1,000
 * from here (never one long-running script), then reads every pool's
 * counters in one pipelined round trip.
 *
 * Nothing from Redis is trusted: a reply of an unexpected shape is
 * RD_EPROTO.
 */
#include "store/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis.h"
#include "proto/job.h"
#include "proto/rd.h"
#include "rd_lua.h"
#include "store/store_int.h"

#define JOB_SCAN_BUDGET 2000

typedef struct sop {
    rd_store_t *s;
    void (*cb)(void);
    void *arg;
    /* pool list */
    char match[300];
    size_t plen; /* length of "<prefix>:pool:" */
    char **names;
    size_t n, cap, left;
    rd_ops_pool_t *pools;
    struct pool_req *reqs;
    int status;
} sop_t;

/* One pool's HMGET: which op, which pool. */
typedef struct pool_req {
    sop_t *o;
    size_t i;
} pool_req_t;

static sop_t *sop_new(rd_store_t *s, void (*cb)(void), void *arg) {
    sop_t *o = rd_calloc(1, sizeof *o);
    o->s = s;
    o->cb = cb;
    o->arg = arg;
    return o;
}

static void sop_free(sop_t *o) {
    for (size_t i = 0; i < o->n; i++) rd_free(o->names[i]);
    rd_free(o->names);
    rd_free(o->pools);
    rd_free(o->reqs);
    rd_free(o);
}

/* Runs script src with (P:seq, P, args...). */
static int script(rd_store_t *s, const char *src, size_t srclen, int argc, const char **args,
                  rd_redis_cb done, sop_t *o) {
    int h = rd_store_ext_script(s, src, srclen);
    if (h < 0) return h;
    const char *argv[4100];
    size_t lens[4100];
    char seq[160];
    if (argc > 4096) return RD_EINVAL;
    snprintf(seq, sizeof seq, "%s:seq", rd_store_prefix(s));
    argv[0] = seq;
    argv[1] = rd_store_prefix(s);
    for (int i = 0; i < argc; i++) argv[2 + i] = args[i];
    for (int i = 0; i < argc + 2; i++) lens[i] = strlen(argv[i]);
    return rd_redis_script(rd_store_redis(s), h, 1, argc + 2, argv, lens, 0, done, o);
}

/* ---- jobs --------------------------------------------------------------------------- */

bool rd_ops_job_state_valid(const char *st) {
    static const char *const ok[] = {"pending", "claimed", "calling", "live", "final"};
    if (!st || !*st) return true;
    for (size_t i = 0; i < RD_ARRAY_LEN(ok); i++)
        if (!strcmp(st, ok[i])) return true;
    return false;
}

static void on_jobs(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1 ||
                !rd_store__is_str(reply->element[0])))
        rc = RD_EPROTO;
    size_t n = rc ? 0 : reply->elements - 1;
    rd_ops_job_t *jobs = rd_calloc(n ? n : 1, sizeof *jobs);
    for (size_t i = 0; i < n && !rc; i++) {
        const redisReply *x = reply->element[i + 1];
        if (!x || x->type != REDIS_REPLY_ARRAY || x->elements != 8 ||
            !rd_store__is_str(x->element[0]) || !rd_store__is_str(x->element[1]) ||
            !rd_store__is_str(x->element[2]) || !rd_store__is_str(x->element[3])) {
            rc = RD_EPROTO;
            break;
        }
        jobs[i].campaign = x->element[0]->str;
        jobs[i].number = x->element[1]->str;
        jobs[i].id = x->element[2]->str;
        jobs[i].state = x->element[3]->str;
        jobs[i].attempts = (int)rd_store__rint_(x->element[4]);
        jobs[i].disposition = (int)rd_store__rint_(x->element[5]);
        jobs[i].due_ms = rd_store__rint_(x->element[6]);
        jobs[i].finished_ms = rd_store__rint_(x->element[7]);
    }
    ((rd_ops_jobs_cb)o->cb)(o->s, rc, rc ? NULL : jobs, rc ? 0 : n,
                            rc ? "0" : reply->element[0]->str, o->arg);
    rd_free(jobs);
    sop_free(o);
}

int rd_ops_job_list(rd_store_t *s, const rd_ops_job_filter_t *f, const char *cursor, size_t want,
                    rd_ops_jobs_cb cb, void *arg) {
    if (want < 1 || want > 1000 || !rd_ops_job_state_valid(f->state)) return RD_EINVAL;
    if (!cursor || !*cursor || strlen(cursor) > 24 ||
        strspn(cursor, "0123456789") != strlen(cursor))
        return RD_EINVAL;
    char wants[24], budget[24];
    snprintf(wants, sizeof wants, "%zu", want);
    snprintf(budget, sizeof budget, "%d", JOB_SCAN_BUDGET);
    const char *args[] = {f->campaign ? f->campaign : "",
                          f->state ? f->state : "",
                          f->number ? f->number : "",
                          cursor,
                          wants,
                          budget};
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc = script(s, rd_lua_job_list, rd_lua_job_list_len, 6, args, on_jobs, o);
    if (rc) sop_free(o);
    return rc;
}

static void on_result(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type != REDIS_REPLY_INTEGER) rc = RD_EPROTO;
    int64_t v = rc ? 0 : reply->integer;
    if (!rc && v == -1) rc = RD_ENOTFOUND;
    if (!rc && (v < 0 || v > 2)) rc = RD_EPROTO;
    ((rd_ops_result_cb)o->cb)(o->s, rc, rc ? RD_OPS_FINAL : (rd_ops_result_t)v, o->arg);
    sop_free(o);
}

static int job_op(rd_store_t *s, const char *src, size_t srclen, const char *campaign,
                  const char *number, int64_t now_ms, bool maxlen, rd_ops_result_cb cb, void *arg) {
    if (!campaign || !*campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !number ||
        !rd_e164_valid(number, strlen(number)))
        return RD_EINVAL;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *args[] = {campaign, number, now, "1000000"};
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc = script(s, src, srclen, maxlen ? 4 : 3, args, on_result, o);
    if (rc) sop_free(o);
    return rc;
}

int rd_ops_job_cancel(rd_store_t *s, const char *campaign, const char *number, int64_t now_ms,
                      rd_ops_result_cb cb, void *arg) {
    return job_op(s, rd_lua_job_cancel, rd_lua_job_cancel_len, campaign, number, now_ms, true, cb,
                  arg);
}

int rd_ops_job_retry_now(rd_store_t *s, const char *campaign, const char *number, int64_t now_ms,
                         rd_ops_result_cb cb, void *arg) {
    return job_op(s, rd_lua_job_retry, rd_lua_job_retry_len, campaign, number, now_ms, false, cb,
                  arg);
}

/* ---- DND and opt-out -------------------------------------------------------------------- */

static const char *set_key(rd_store_t *s, rd_ops_set_t set, char *buf, size_t len) {
    snprintf(buf, len, "%s:%s", rd_store_prefix(s), set == RD_OPS_DND ? "dnd" : "optout");
    return buf;
}

static void on_count(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type != REDIS_REPLY_INTEGER) rc = RD_EPROTO;
    ((rd_store_count_cb)o->cb)(o->s, rc, rc ? 0 : reply->integer, o->arg);
    sop_free(o);
}

int rd_ops_number_check(rd_store_t *s, rd_ops_set_t set, const char *number, rd_store_count_cb cb,
                        void *arg) {
    if (!number || strlen(number) > RD_E164_MAX) return RD_EINVAL;
    char k[160];
    const char *argv[] = {"SISMEMBER", set_key(s, set, k, sizeof k), number};
    size_t lens[] = {9, strlen(k), strlen(number)};
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(rd_store_redis(s), 3, argv, lens, 0, on_count, o);
    if (rc) sop_free(o);
    return rc;
}

int rd_ops_number_remove(rd_store_t *s, rd_ops_set_t set, const char *const *numbers, size_t count,
                         rd_store_count_cb cb, void *arg) {
    if (count < 1 || count > 4000) return RD_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!numbers[i] || strlen(numbers[i]) > RD_E164_MAX) return RD_EINVAL;
    const char **args = rd_calloc(count + 1, sizeof *args);
    args[0] = set == RD_OPS_DND ? "dnd" : "optout";
    for (size_t i = 0; i < count; i++) args[i + 1] = numbers[i];
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc = script(s, rd_lua_nodial_remove, rd_lua_nodial_remove_len, (int)count + 1, args,
                    on_count, o);
    rd_free(args);
    if (rc) sop_free(o);
    return rc;
}

/* [cursor, [items...]] of SCAN / SSCAN. */
static int scan_reply(const redisReply *reply, const redisReply **items) {
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2 ||
        !rd_store__is_str(reply->element[0]) || reply->element[1]->type != REDIS_REPLY_ARRAY)
        return RD_EPROTO;
    *items = reply->element[1];
    for (size_t i = 0; i < (*items)->elements; i++)
        if (!rd_store__is_str((*items)->element[i])) return RD_EPROTO;
    return 0;
}

static void on_sscan(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    const redisReply *items = NULL;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc) rc = scan_reply(reply, &items);
    size_t n = rc ? 0 : items->elements;
    char **v = rd_calloc(n ? n : 1, sizeof *v);
    for (size_t i = 0; i < n; i++) v[i] = items->element[i]->str;
    ((rd_ops_names_cb)o->cb)(o->s, rc, v, n, rc ? "0" : reply->element[0]->str, o->arg);
    rd_free(v);
    sop_free(o);
}

int rd_ops_set_scan(rd_store_t *s, rd_ops_set_t set, const char *cursor, rd_ops_names_cb cb,
                    void *arg) {
    if (!cursor || !*cursor || strlen(cursor) > 24 ||
        strspn(cursor, "0123456789") != strlen(cursor))
        return RD_EINVAL;
    char k[160];
    const char *argv[] = {"SSCAN", set_key(s, set, k, sizeof k), cursor, "COUNT", "1000"};
    size_t lens[5];
    for (int i = 0; i < 5; i++) lens[i] = strlen(argv[i]);
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(rd_store_redis(s), 5, argv, lens, 0, on_sscan, o);
    if (rc) sop_free(o);
    return rc;
}

/* ---- campaigns -------------------------------------------------------------------------- */

static void on_archived(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    int64_t pending = 0, live = 0;
    if (!rc && (reply->type != REDIS_REPLY_ARRAY || reply->elements < 1)) rc = RD_EPROTO;
    if (!rc) {
        int64_t code = rd_store__rint_(reply->element[0]);
        if (code == -1) {
            rc = RD_ENOTFOUND;
        } else if (code == -2 && reply->elements == 3) {
            rc = RD_EINVAL;
            pending = rd_store__rint_(reply->element[1]);
            live = rd_store__rint_(reply->element[2]);
        } else if (code != 1) {
            rc = RD_EPROTO;
        }
    }
    ((rd_ops_archive_cb)o->cb)(o->s, rc, pending, live, o->arg);
    sop_free(o);
}

int rd_ops_campaign_archive(rd_store_t *s, const char *campaign, int64_t now_ms,
                            rd_ops_archive_cb cb, void *arg) {
    if (!campaign || !*campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    char now[24];
    snprintf(now, sizeof now, "%lld", (long long)now_ms);
    const char *args[] = {campaign, now};
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    int rc =
        script(s, rd_lua_campaign_archive, rd_lua_campaign_archive_len, 2, args, on_archived, o);
    if (rc) sop_free(o);
    return rc;
}

/* ---- agent pools ------------------------------------------------------------------------- */

static void pools_done(sop_t *o) {
    ((rd_ops_pools_cb)o->cb)(o->s, o->status, o->status ? NULL : o->pools, o->status ? 0 : o->n,
                             o->arg);
    sop_free(o);
}

static int cmp_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void on_pool(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    pool_req_t *q = arg;
    sop_t *o = q->o;
    rd_ops_pool_t *p = &o->pools[q->i];
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2)) rc = RD_EPROTO;
    if (rc && !o->status) o->status = rc;
    if (!rc) {
        p->capacity = rd_store__rint_(reply->element[0]);
        p->live = rd_store__rint_(reply->element[1]);
    }
    if (--o->left == 0) pools_done(o);
}

static void read_pools(sop_t *o) {
    if (o->n == 0) {
        pools_done(o);
        return;
    }
    qsort(o->names, o->n, sizeof *o->names, cmp_name);
    o->pools = rd_calloc(o->n, sizeof *o->pools);
    o->reqs = rd_calloc(o->n, sizeof *o->reqs);
    o->left = o->n;
    char k[300];
    for (size_t i = 0; i < o->n; i++) {
        snprintf(k, sizeof k, "%s:pool:%s", rd_store_prefix(o->s), o->names[i]);
        const char *argv[] = {"HMGET", k, "cap", "live"};
        size_t lens[] = {5, strlen(k), 3, 4};
        o->pools[i].name = o->names[i];
        o->reqs[i].o = o;
        o->reqs[i].i = i;
        if (rd_redis_command(rd_store_redis(o->s), 4, argv, lens, 0, on_pool, &o->reqs[i])) {
            if (!o->status) o->status = RD_ECLOSED;
            if (--o->left == 0) pools_done(o);
        }
    }
}

static void scan_next(sop_t *o, const char *cursor);

static void on_scan(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    const redisReply *items = NULL;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc) rc = scan_reply(reply, &items);
    if (rc) {
        o->status = rc;
        pools_done(o);
        return;
    }
    for (size_t i = 0; i < items->elements; i++) {
        const redisReply *k = items->element[i];
        if (k->len <= o->plen || k->len - o->plen > 64) continue;
        const char *name = k->str + o->plen;
        if (strchr(name, ':')) continue; /* P:pool:<pool>:parked */
        if (o->n == o->cap) {
            o->cap = o->cap ? o->cap * 2 : 16;
            o->names = rd_realloc(o->names, o->cap * sizeof *o->names);
        }
        o->names[o->n++] = rd_strdup(name);
    }
    if (!strcmp(reply->element[0]->str, "0"))
        read_pools(o);
    else
        scan_next(o, reply->element[0]->str);
}

static void scan_next(sop_t *o, const char *cursor) {
    const char *argv[] = {"SCAN", cursor, "MATCH", o->match, "COUNT", "1000"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) lens[i] = strlen(argv[i]);
    if (rd_redis_command(rd_store_redis(o->s), 6, argv, lens, 0, on_scan, o)) {
        o->status = RD_ECLOSED;
        pools_done(o);
    }
}

int rd_ops_pool_list(rd_store_t *s, rd_ops_pools_cb cb, void *arg) {
    sop_t *o = sop_new(s, (void (*)(void))cb, arg);
    /* The glob is the prefix with its glob characters escaped, then ":pool:*". */
    size_t m = 0;
    for (const char *p = rd_store_prefix(s); *p && m + 3 < sizeof o->match - 8; p++) {
        if (strchr("*?[]\\", *p)) o->match[m++] = '\\';
        o->match[m++] = *p;
    }
    memcpy(o->match + m, ":pool:*", 8);
    o->plen = strlen(rd_store_prefix(s)) + 6;
    const char *argv[] = {"SCAN", "0", "MATCH", o->match, "COUNT", "1000"};
    size_t lens[6];
    for (int i = 0; i < 6; i++) lens[i] = strlen(argv[i]);
    int rc = rd_redis_command(rd_store_redis(s), 6, argv, lens, 0, on_scan, o);
    if (rc) sop_free(o);
    return rc;
}
