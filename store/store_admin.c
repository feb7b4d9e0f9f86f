/*
 * store_admin.c — the admin and stats side of the store: campaigns (create,
 * get, list, state), opt-out, DND, agent pools, statistics and `job show`.
 * Called by the HTTP API and redial-cli; none is on the dial path.
 *
 * Threads: the store's loop thread.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"
#include "store/store_int.h"

/* ---- campaigns ---------------------------------------------------------------------- */

/* create: 1 -> 0, 0 -> EXISTS. Reuses done_fenced's shape with another mapping. */
static void done_create(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0)
        rc = reply->type != REDIS_REPLY_INTEGER ? RD_EPROTO : reply->integer == 1 ? 0 : RD_EEXISTS;
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

int rd_store_campaign_create(rd_store_t *s, const rd_campaign_t *c, int64_t now_ms, rd_store_cb cb,
                             void *arg) {
    if (!c->name || !c->name[0] || strlen(c->name) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    char *json = rd_campaign_to_json(c);
    if (!json) return RD_ENOMEM;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, c->name);
    rd_store__arg_cstr(&a, json);
    rd_store__arg_i64(&a, c->concurrency);
    rd_store__arg_cstr(&a, c->agent_pool ? c->agent_pool : "");
    rd_store__arg_i64(&a, c->calls_per_minute);
    rd_store__arg_i64(&a, now_ms);
    rd_store__arg_cstr(&a, c->provider ? c->provider : "");
    int rc = rd_store__run(s, SC_CAMPAIGN_CREATE, &a, done_create,
                           rd_store__op_new(s, (void (*)(void))cb, arg));
    rd_free(json);
    return rc;
}

static void done_campaign_get(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_campaign_t c;
    memset(&c, 0, sizeof(c));
    if (rc == 0) {
        if (reply->type != REDIS_REPLY_ARRAY)
            rc = RD_EPROTO;
        else if (reply->elements == 0)
            rc = RD_ENOTFOUND;
        else if (reply->elements < 8 || !rd_store__is_str(reply->element[0]))
            rc = RD_EPROTO;
    }
    if (rc == 0) {
        snprintf(c.name, sizeof(c.name), "%s", o->str);
        c.json = reply->element[0]->str;
        c.json_len = reply->element[0]->len;
        int64_t st = rd_store__rint_(reply->element[1]);
        c.state = st == RD_CAMP_PAUSED     ? RD_CAMP_PAUSED
                  : st == RD_CAMP_CANCELED ? RD_CAMP_CANCELED
                                           : RD_CAMP_ACTIVE;
        c.created_ms = rd_store__rint_(reply->element[2]);
        c.live = rd_store__rint_(reply->element[3]);
        c.enqueued = rd_store__rint_(reply->element[4]);
        c.finished = rd_store__rint_(reply->element[5]);
        c.pending = rd_store__rint_(reply->element[6]);
        if (rd_store__is_str(reply->element[7]))
            snprintf(c.pause_reason, sizeof c.pause_reason, "%.*s",
                     (int)RD_MIN(reply->element[7]->len, RD_PAUSE_REASON_MAX),
                     reply->element[7]->str);
    }
    ((rd_store_campaign_cb)o->cb)(o->s, rc, rc == 0 ? &c : NULL, o->arg);
    rd_free(o);
}

int rd_store_campaign_get(rd_store_t *s, const char *name, rd_store_campaign_cb cb, void *arg) {
    if (!name || strlen(name) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, name);
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    snprintf(o->str, sizeof(o->str), "%s", name);
    return rd_store__run(s, SC_CAMPAIGN_GET, &a, done_campaign_get, o);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void done_list(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    char **names = NULL;
    size_t n = 0;
    if (rc == 0 && reply->type != REDIS_REPLY_ARRAY) rc = RD_EPROTO;
    if (rc == 0 && reply->elements) {
        names = rd_calloc(reply->elements, sizeof(char *));
        for (size_t i = 0; i < reply->elements; i++)
            if (rd_store__is_str(reply->element[i])) names[n++] = reply->element[i]->str;
        qsort(names, n, sizeof(char *), cmp_str);
    }
    ((rd_store_names_cb)o->cb)(o->s, rc, names, n, o->arg);
    rd_free(names);
    rd_free(o);
}

int rd_store_campaign_list(rd_store_t *s, rd_store_names_cb cb, void *arg) {
    char key[200];
    int n = snprintf(key, sizeof(key), "%s:campaigns", s->prefix);
    const char *argv[2] = {"SMEMBERS", key};
    size_t lens[2] = {8, (size_t)n};
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(s->r, 2, argv, lens, 0, done_list, o);
    if (rc < 0) rd_free(o);
    return rc;
}

/* Cancel loops in batches: o->i1 = state, o->i2 = now, o->str = name. */
static void state_step(op_t *o);

static void done_state(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0 && !(rd_store__is_arr(reply, 2) && reply->element[0]->type == REDIS_REPLY_INTEGER))
        rc = RD_EPROTO;
    if (rc == 0) {
        int64_t st = reply->element[0]->integer;
        if (st == -1)
            rc = RD_ENOTFOUND;
        else if (st == -2)
            rc = RD_EINVAL;
        else if (rd_store__rint_(reply->element[1]) > 0) {
            state_step(o);
            return;
        }
    }
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

static void state_step(op_t *o) {
    args_t a;
    rd_store__args_init(&a, o->s);
    rd_store__arg_cstr(&a, o->str);
    rd_store__arg_i64(&a, o->i1);
    rd_store__arg_i64(&a, o->i2);
    rd_store__arg_i64(&a, 500);
    rd_store__arg_i64(&a, o->s->opts.events_maxlen);
    rd_store__arg_cstr(&a, "");
    int rc =
        rd_redis_script(o->s->r, o->s->sc[SC_CAMPAIGN_STATE], 1, a.n, a.v, a.l, 0, done_state, o);
    if (rc < 0) {
        ((rd_store_cb)o->cb)(o->s, rc, o->arg);
        rd_free(o);
    }
}

/* campaign_state.lua with a pause reason ("" = an operator's change). */
static int state_run(rd_store_t *s, const char *name, rd_camp_state_t st, int64_t now_ms,
                     const char *reason, rd_store_cb cb, void *arg) {
    if (!name || strlen(name) > RD_CAMPAIGN_NAME_MAX || (int)st < 0 || st > RD_CAMP_CANCELED)
        return RD_EINVAL;
    char r[RD_PAUSE_REASON_MAX + 1];
    snprintf(r, sizeof r, "%s", reason);
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, name);
    rd_store__arg_i64(&a, st);
    rd_store__arg_i64(&a, now_ms);
    rd_store__arg_i64(&a, 500);
    rd_store__arg_i64(&a, s->opts.events_maxlen);
    rd_store__arg_cstr(&a, r);
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    snprintf(o->str, sizeof(o->str), "%s", name);
    o->i1 = st;
    o->i2 = now_ms;
    return rd_store__run(s, SC_CAMPAIGN_STATE, &a, done_state, o);
}

int rd_store_campaign_set_state(rd_store_t *s, const char *name, rd_camp_state_t st, int64_t now_ms,
                                rd_store_cb cb, void *arg) {
    return state_run(s, name, st, now_ms, "", cb, arg);
}

int rd_store_campaign_pause(rd_store_t *s, const char *name, const char *reason, int64_t now_ms,
                            rd_store_cb cb, void *arg) {
    if (!reason || !reason[0]) return RD_EINVAL;
    return state_run(s, name, RD_CAMP_PAUSED, now_ms, reason, cb, arg);
}

/* ---- opt-out, DND, pools ------------------------------------------------------------------------ */

int rd_store_optout(rd_store_t *s, const char *number, int64_t now_ms, rd_store_count_cb cb,
                    void *arg) {
    if (!number || !rd_e164_valid(number, strlen(number))) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, number);
    rd_store__arg_i64(&a, now_ms);
    rd_store__arg_i64(&a, s->opts.events_maxlen);
    return rd_store__run(s, SC_OPTOUT, &a, rd_store__done_count,
                         rd_store__op_new(s, (void (*)(void))cb, arg));
}

/* DND import: SADD in chunks; the op counts replies still due in o->i2. */
static void done_dnd_chunk(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0 && reply->type != REDIS_REPLY_INTEGER) rc = RD_EPROTO;
    if (rc == 0)
        o->i1 += reply->integer;
    else if (!o->str[0])
        snprintf(o->str, sizeof o->str, "%d", rc); /* first error (rd_err_t, as text) */
    if (--o->i2 > 0) return;
    int err = o->str[0] ? atoi(o->str) : 0;
    ((rd_store_count_cb)o->cb)(o->s, err, o->i1, o->arg);
    rd_free(o);
}

int rd_store_dnd_add(rd_store_t *s, const char *const *numbers, size_t count, rd_store_count_cb cb,
                     void *arg) {
    for (size_t i = 0; i < count; i++)
        if (!numbers[i] || strlen(numbers[i]) > RD_E164_MAX) return RD_EINVAL;
    enum { CHUNK = 1000 };
    size_t chunks = count ? (count + CHUNK - 1) / CHUNK : 1;
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    o->i2 = (int64_t)chunks;
    const char *argv[CHUNK + 2];
    size_t lens[CHUNK + 2];
    argv[0] = s->k_seq;
    lens[0] = s->k_seq_len;
    argv[1] = s->prefix;
    lens[1] = s->prefix_len;
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, hi = RD_MIN(count, lo + CHUNK);
        for (size_t i = lo; i < hi; i++) {
            argv[2 + i - lo] = numbers[i];
            lens[2 + i - lo] = strlen(numbers[i]);
        }
        int rc = rd_redis_script(s->r, s->sc[SC_DND_ADD], 1, (int)(2 + hi - lo), argv, lens, 0,
                                 done_dnd_chunk, o);
        if (rc < 0) {
            if (c == 0) {
                rd_free(o);
                return rc;
            }
            o->i2 -= (int64_t)(chunks - c); /* those will never answer */
            if (!o->str[0]) snprintf(o->str, sizeof o->str, "%d", rc);
            break;
        }
    }
    return 0;
}

int rd_store_dnd_check(rd_store_t *s, const char *number, rd_store_count_cb cb, void *arg) {
    if (!number || strlen(number) > RD_E164_MAX) return RD_EINVAL;
    /* Both sets in one round trip: a two-line script (not registered: it is
     * rare, and EVAL caches it anyway). */
    static const char lua[] =
        "return {redis.call('SISMEMBER', KEYS[1], ARGV[1]), redis.call('SISMEMBER', KEYS[2], "
        "ARGV[1])}";
    char k1[200], k2[200];
    int l1 = snprintf(k1, sizeof(k1), "%s:dnd", s->prefix);
    int l2 = snprintf(k2, sizeof(k2), "%s:optout", s->prefix);
    const char *argv[6] = {"EVAL", lua, "2", k1, k2, number};
    size_t lens[6] = {4, sizeof(lua) - 1, 1, (size_t)l1, (size_t)l2, strlen(number)};
    op_t *o = rd_store__op_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(s->r, 6, argv, lens, 0, rd_store__done_count, o);
    if (rc < 0) rd_free(o);
    return rc;
}

int rd_store_pool_set(rd_store_t *s, const char *pool, int64_t capacity, rd_store_cb cb,
                      void *arg) {
    if (!pool || !pool[0] || strlen(pool) > 64 || capacity < 0) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, pool);
    rd_store__arg_i64(&a, capacity);
    return rd_store__run(s, SC_POOL_SET, &a, rd_store__done_ok,
                         rd_store__op_new(s, (void (*)(void))cb, arg));
}

/* ---- stats ------------------------------------------------------------------------------------------ */

/* Applies one "field value" pair of a stats hash. prior: the all-campaign hash. */
static void stats_field(rd_store_stats_t *st, const char *f, uint64_t v, bool prior) {
    char *e;
    long a, b;
    if (f[0] == 'h' && (f[1] == 'a' || f[1] == 'k')) {
        a = strtol(f + 2, &e, 10);
        if (*e || a < 0 || a >= 168) return;
        uint32_t v32 = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
        if (prior) {
            if (f[1] == 'a')
                st->smart.prior_attempted[a] = v32;
            else
                st->smart.prior_answered[a] = v32;
        } else {
            if (f[1] == 'a')
                st->smart.attempted[a] = v32;
            else
                st->smart.answered[a] = v32;
        }
        return;
    }
    if (prior) return;
    if (f[0] == 'a') {
        a = strtol(f + 1, &e, 10);
        if (*e != ':' || a < 1 || a > RD_STATS_MAX_ATTEMPTS) return;
        b = strtol(e + 1, &e, 10);
        if (*e || b < 0 || b >= RD_OUT__COUNT) return;
        st->by_attempt[a][b] += v;
        st->counts.attempts[a] += v;
        st->counts.outcomes[b] += v;
        st->smart.campaign_attempts += v;
    } else if (f[0] == 'k') {
        a = strtol(f + 1, &e, 10);
        if (!*e && a >= 1 && a <= RD_STATS_MAX_ATTEMPTS) st->counts.connected[a] += v;
    } else if (f[0] == 'f') {
        a = strtol(f + 1, &e, 10);
        if (!*e && a >= 0 && a < RD_DISP__COUNT) st->counts.finals[a] += v;
    }
}

void rd_store_stats_hash(rd_store_stats_t *st, const redisReply *h, bool prior) {
    if (!h || h->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (rd_store__is_str(h->element[i]))
            stats_field(st, h->element[i]->str, (uint64_t)rd_store__rint_(h->element[i + 1]),
                        prior);
}

static void done_stats(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_stats_t *st = NULL;
    if (rc == 0 && reply->type != REDIS_REPLY_ARRAY) rc = RD_EPROTO;
    if (rc == 0 && reply->elements == 0) rc = RD_ENOTFOUND;
    if (rc == 0 && reply->elements < 5) rc = RD_EPROTO;
    if (rc == 0) {
        st = rd_calloc(1, sizeof(*st));
        st->counts.jobs = (uint64_t)rd_store__rint_(reply->element[0]);
        st->live = (uint64_t)rd_store__rint_(reply->element[1]);
        st->pending = (uint64_t)rd_store__rint_(reply->element[2]);
        rd_store_stats_hash(st, reply->element[3], false);
        rd_store_stats_hash(st, reply->element[4], true);
    }
    ((rd_store_stats_cb)o->cb)(o->s, rc, st, o->arg);
    rd_free(st);
    rd_free(o);
}

int rd_store_stats(rd_store_t *s, const char *campaign, rd_store_stats_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    args_t a;
    rd_store__args_init(&a, s);
    rd_store__arg_cstr(&a, campaign);
    return rd_store__run(s, SC_STATS, &a, done_stats, rd_store__op_new(s, (void (*)(void))cb, arg));
}

/* ---- job show ------------------------------------------------------------------------------------ */

int rd_store_job_show(rd_store_t *s, const char *id, rd_store_job_cb cb, void *arg) {
    return rd_store__lookup(s, "i", id, cb, arg);
}
