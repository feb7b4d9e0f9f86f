/*
 * store.c — the C side of the Redis core (engine/store.h): argument building
 * for the Lua scripts of engine/lua/ and decoding of their replies.
 *
 * Design. All state and every transition live in Redis (docs/REDIS.md); this
 * file holds none of it. Each public call packs its arguments (numbers as
 * decimal strings, blobs binary-safe), runs one script through one rd_redis
 * connection (EVALSHA, pipelined with everything else in flight), and decodes
 * the reply into the caller's types in the callback. The scripts are loaded
 * as lib.lua + <script>.lua, so helpers are shared without a second round
 * trip.
 *
 * Job records come back as the msgpack arrays stored in Redis and are decoded
 * here with msgpack-c (one msgpack_unpacked per record, released before the
 * callback returns). Claim and recover results are decoded into an array of
 * rd_store_job_t that lives until the user callback returns.
 *
 * Errors: a reply of an unexpected shape is RD_EPROTO (never an assertion:
 * the bytes come from Redis); an error reply is RD_EREDIS.
 *
 * Threads: the loop thread of the store, like rd_redis.
 */
#include "engine/store.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/redis.h"
#include "proto/callback.h"
#include "proto/rd.h"
#include "rd_lua.h"

enum {
    SC_ENQUEUE,
    SC_CLAIM,
    SC_PLACED,
    SC_RELEASE,
    SC_LOOKUP,
    SC_SETTLE,
    SC_RECOVER,
    SC_CAMPAIGN_CREATE,
    SC_CAMPAIGN_STATE,
    SC_CAMPAIGN_GET,
    SC_OPTOUT,
    SC_POOL_SET,
    SC_STATS,
    SC__COUNT
};

struct rd_store {
    uv_loop_t *loop;
    rd_redis_t *r;
    char prefix[128];
    char k_seq[160];
    size_t prefix_len, k_seq_len;
    rd_store_opts_t opts;
    char bucket[128];
    int sc[SC__COUNT];
    void (*close_cb)(void *);
    void *close_arg;
};

/* ---- argument building ---------------------------------------------------- */

#define ARGS_MAX 24

typedef struct args {
    int n;
    const char *v[ARGS_MAX];
    size_t l[ARGS_MAX];
    char num[ARGS_MAX][24]; /* storage for numbers */
} args_t;

static void args_init(args_t *a, rd_store_t *s) {
    a->n = 0;
    a->v[a->n] = s->k_seq;
    a->l[a->n++] = s->k_seq_len;
    a->v[a->n] = s->prefix;
    a->l[a->n++] = s->prefix_len;
}

static void arg_str(args_t *a, const char *p, size_t len) {
    rd_assert(a->n < ARGS_MAX);
    a->v[a->n] = p ? p : "";
    a->l[a->n++] = p ? len : 0;
}

static void arg_cstr(args_t *a, const char *p) {
    arg_str(a, p, p ? strlen(p) : 0);
}

static void arg_i64(args_t *a, int64_t v) {
    rd_assert(a->n < ARGS_MAX);
    int len = snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", (long long)v);
    a->v[a->n] = a->num[a->n];
    a->l[a->n++] = (size_t)len;
}

static void arg_dbl(args_t *a, double v) {
    rd_assert(a->n < ARGS_MAX);
    int len = snprintf(a->num[a->n], sizeof(a->num[0]), "%.6f", v);
    a->v[a->n] = a->num[a->n];
    a->l[a->n++] = (size_t)len;
}

/* One in-flight operation: the user's callback and whatever the decoder needs. */
typedef struct op {
    rd_store_t *s;
    void (*cb)(void);
    void *arg;
    int64_t i1, i2;
    char str[RD_CAMPAIGN_NAME_MAX + 1];
} op_t;

static op_t *op_new(rd_store_t *s, void (*cb)(void), void *arg) {
    op_t *o = rd_calloc(1, sizeof(*o));
    o->s = s;
    o->cb = cb;
    o->arg = arg;
    return o;
}

static int run(rd_store_t *s, int script, args_t *a, rd_redis_cb done, op_t *o) {
    int rc = rd_redis_script(s->r, s->sc[script], 1, a->n, a->v, a->l, 0, done, o);
    if (rc < 0)
        rd_free(o);
    return rc;
}

/* ---- reply helpers --------------------------------------------------------- */

static int64_t rint_(const redisReply *r) {
    if (!r)
        return 0;
    if (r->type == REDIS_REPLY_INTEGER)
        return r->integer;
    if (r->type == REDIS_REPLY_STRING)
        return strtoll(r->str, NULL, 10);
    return 0;
}

static bool is_arr(const redisReply *r, size_t min) {
    return r && r->type == REDIS_REPLY_ARRAY && r->elements >= min;
}

static bool is_str(const redisReply *r) {
    return r && r->type == REDIS_REPLY_STRING;
}

static void copy_str(char *dst, size_t cap, const char *src, size_t len) {
    if (len >= cap)
        len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* ---- msgpack decoding --------------------------------------------------------- */

static bool mp_i64(const msgpack_object *o, int64_t *out) {
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)
            return false;
        *out = (int64_t)o->via.u64;
        return true;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        *out = o->via.i64;
        return true;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        *out = (int64_t)o->via.f64;
        return true;
    default:
        return false;
    }
}

static bool mp_str(const msgpack_object *o, const char **p, size_t *len) {
    if (o->type == MSGPACK_OBJECT_STR) {
        *p = o->via.str.ptr;
        *len = o->via.str.size;
        return true;
    }
    if (o->type == MSGPACK_OBJECT_BIN) {
        *p = o->via.bin.ptr;
        *len = o->via.bin.size;
        return true;
    }
    return false;
}

static void vars_free(rd_job_var_t *v, size_t n) {
    for (size_t i = 0; i < n; i++) {
        rd_free(v[i].key);
        rd_free(v[i].val);
    }
    rd_free(v);
}

/* Decodes the vars blob (msgpack map str->str) into an owned array. */
static int vars_decode(const char *buf, size_t len, rd_job_var_t **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if (len == 0)
        return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = RD_EPROTO;
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_MAP)
        goto done;
    size_t n = u.data.via.map.size;
    rd_job_var_t *v = rd_calloc(n ? n : 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        const char *k, *val;
        size_t kl, vl;
        if (!mp_str(&u.data.via.map.ptr[i].key, &k, &kl) ||
            !mp_str(&u.data.via.map.ptr[i].val, &val, &vl)) {
            vars_free(v, i);
            goto done;
        }
        v[i].key = rd_strndup(k, kl);
        v[i].val = rd_strndup(val, vl);
    }
    *out = v;
    *n_out = n;
    rc = 0;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* Number record {lock, t1, t2, ...} -> job->num_attempts_ms. */
static int numrec_decode(const char *buf, size_t len, rd_store_job_t *j) {
    j->n_num_attempts = 0;
    if (len == 0)
        return 0;
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = RD_EPROTO;
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size < 1)
        goto done;
    for (size_t i = 1; i < u.data.via.array.size; i++) {
        int64_t t;
        if (!mp_i64(&u.data.via.array.ptr[i], &t))
            goto done;
        if (j->n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
            j->num_attempts_ms[j->n_num_attempts++] = t;
    }
    rc = 0;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/*
 * Job record {st, seq, id, tok, due, hist, tz, nb, vars, disp, cid, polls}
 * (docs/REDIS.md) -> *j. campaign and to must already be set.
 */
static int record_decode(const char *buf, size_t len, rd_store_job_t *j) {
    msgpack_unpacked u;
    msgpack_unpacked_init(&u);
    size_t off = 0;
    int rc = RD_EPROTO;
    if (msgpack_unpack_next(&u, buf, len, &off) != MSGPACK_UNPACK_SUCCESS ||
        u.data.type != MSGPACK_OBJECT_ARRAY || u.data.via.array.size < 12)
        goto done;
    const msgpack_object *f = u.data.via.array.ptr;
    int64_t st, seq, tok, t5, nb, disp, polls;
    const char *p;
    size_t pl;
    if (!mp_i64(&f[0], &st) || st < 0 || st > 3 || !mp_i64(&f[1], &seq) ||
        !mp_i64(&f[3], &tok) || !mp_i64(&f[4], &t5) || !mp_i64(&f[7], &nb) ||
        !mp_i64(&f[9], &disp) || !mp_i64(&f[11], &polls))
        goto done;
    j->state = (rd_job_state_t)st;
    j->token = (uint64_t)tok;
    j->not_before_ms = nb;
    j->polls = (int)polls;
    j->disposition = RD_DISP_FAILED;
    if (disp >= 0 && disp < RD_DISP__COUNT)
        j->disposition = (rd_disposition_t)disp;
    j->due_ms = st == RD_JOB_PENDING ? t5 : 0;
    j->lease_start_ms = st == RD_JOB_CLAIMED || st == RD_JOB_PLACED ? t5 : 0;
    if (!mp_str(&f[2], &p, &pl))
        goto done;
    if (pl)
        copy_str(j->id, sizeof(j->id), p, pl);
    else
        snprintf(j->id, sizeof(j->id), "%s/%s/%lld", j->campaign, j->to, (long long)seq);
    if (f[5].type != MSGPACK_OBJECT_ARRAY)
        goto done;
    j->n_hist = 0;
    for (size_t i = 0; i + 1 < f[5].via.array.size; i += 2) {
        int64_t ts, oc;
        if (!mp_i64(&f[5].via.array.ptr[i], &ts) || !mp_i64(&f[5].via.array.ptr[i + 1], &oc) ||
            oc < 0 || oc >= RD_OUT__COUNT)
            goto done;
        if (j->n_hist < RD_STORE_MAX_HIST) {
            j->hist[j->n_hist].start_ms = ts;
            j->hist[j->n_hist].outcome = (rd_outcome_t)oc;
            j->n_hist++;
        }
    }
    j->attempt = (int)j->n_hist + 1;
    if (!mp_str(&f[6], &p, &pl))
        goto done;
    copy_str(j->tz, sizeof(j->tz), p, pl);
    if (!mp_str(&f[10], &p, &pl))
        goto done;
    copy_str(j->call_id, sizeof(j->call_id), p, pl);
    if (!mp_str(&f[8], &p, &pl))
        goto done;
    if (vars_decode(p, pl, &j->vars, &j->n_vars) < 0)
        goto done;
    rc = 0;
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* campaign, number, record, numrec replies -> *j (zeroed first). */
static int job_from_replies(rd_store_job_t *j, const redisReply *camp, const redisReply *num,
                            const redisReply *rec, const redisReply *nrec) {
    memset(j, 0, sizeof(*j));
    if (!is_str(camp) || !is_str(num) || !is_str(rec))
        return RD_EPROTO;
    copy_str(j->campaign, sizeof(j->campaign), camp->str, camp->len);
    copy_str(j->to, sizeof(j->to), num->str, num->len);
    int rc = record_decode(rec->str, rec->len, j);
    if (rc < 0)
        return rc;
    if (is_str(nrec) && numrec_decode(nrec->str, nrec->len, j) < 0) {
        vars_free(j->vars, j->n_vars);
        j->vars = NULL;
        j->n_vars = 0;
        return RD_EPROTO;
    }
    return 0;
}

static void job_clear(rd_store_job_t *j) {
    vars_free(j->vars, j->n_vars);
    j->vars = NULL;
    j->n_vars = 0;
}

rd_store_job_t *rd_store_job_dup(const rd_store_job_t *j) {
    rd_store_job_t *c = rd_try_malloc(sizeof(*c));
    if (!c)
        return NULL;
    *c = *j;
    c->vars = NULL;
    if (j->n_vars) {
        c->vars = rd_calloc(j->n_vars, sizeof(*c->vars));
        for (size_t i = 0; i < j->n_vars; i++) {
            c->vars[i].key = rd_strdup(j->vars[i].key);
            c->vars[i].val = rd_strdup(j->vars[i].val);
        }
    }
    return c;
}

void rd_store_job_free(rd_store_job_t *j) {
    if (!j)
        return;
    vars_free(j->vars, j->n_vars);
    rd_free(j);
}

/* ---- lifetime ------------------------------------------------------------------ */

void rd_store_opts_init(rd_store_opts_t *o) {
    memset(o, 0, sizeof(*o));
    o->cmd_timeout_ms = 5000;
    o->connect_timeout_ms = 2000;
    o->reconnect_max_ms = 2000;
    o->events_maxlen = 1000000;
    o->retention_ms = 7LL * 86400000;
}

static int add_script(rd_store_t *s, const char *src, size_t len) {
    size_t total = rd_lua_lib_len + 1 + len;
    char *buf = rd_malloc(total + 1);
    memcpy(buf, rd_lua_lib, rd_lua_lib_len);
    buf[rd_lua_lib_len] = '\n';
    memcpy(buf + rd_lua_lib_len + 1, src, len);
    buf[total] = 0;
    int h = rd_redis_script_add(s->r, buf, total);
    rd_free(buf);
    return h;
}

static bool prefix_ok(const char *p) {
    size_t n = strlen(p);
    if (n == 0 || n >= 120)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
            return false;
    return true;
}

int rd_store_create(uv_loop_t *loop, const rd_store_opts_t *opts, rd_store_t **out) {
    *out = NULL;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    if (opts->url && rd_redis_parse_url(opts->url, &ro.addr) < 0)
        return RD_EINVAL;
    if (opts->password) {
        if (strlen(opts->password) >= sizeof(ro.addr.password))
            return RD_EINVAL;
        strcpy(ro.addr.password, opts->password);
    }
    const char *prefix = opts->prefix ? opts->prefix : RD_STORE_DEFAULT_PREFIX;
    if (!prefix_ok(prefix))
        return RD_EINVAL;
    if (opts->bucket && (strlen(opts->bucket) >= 128 || opts->bucket_rate <= 0))
        return RD_EINVAL;
    if (opts->cmd_timeout_ms)
        ro.cmd_timeout_ms = opts->cmd_timeout_ms;
    if (opts->connect_timeout_ms)
        ro.connect_timeout_ms = opts->connect_timeout_ms;
    if (opts->reconnect_max_ms)
        ro.reconnect_max_ms = opts->reconnect_max_ms;
    rd_store_t *s = rd_calloc(1, sizeof(*s));
    s->loop = loop;
    s->opts = *opts;
    s->opts.url = NULL;
    s->opts.password = NULL;
    s->opts.prefix = NULL;
    s->opts.bucket = NULL;
    if (s->opts.events_maxlen <= 0)
        s->opts.events_maxlen = 1000000;
    if (s->opts.retention_ms <= 0)
        s->opts.retention_ms = 7LL * 86400000;
    if (opts->bucket) {
        strcpy(s->bucket, opts->bucket);
        if (s->opts.bucket_burst < 1)
            s->opts.bucket_burst = 1;
    }
    strcpy(s->prefix, prefix);
    s->prefix_len = strlen(prefix);
    snprintf(s->k_seq, sizeof(s->k_seq), "%s:seq", prefix);
    s->k_seq_len = strlen(s->k_seq);
    int rc = rd_redis_create(loop, &ro, &s->r);
    if (rc < 0) {
        rd_free(s);
        return rc;
    }
    static const struct {
        int id;
        const char *src;
        const size_t *len;
    } scripts[] = {
        {SC_ENQUEUE, rd_lua_enqueue, &rd_lua_enqueue_len},
        {SC_CLAIM, rd_lua_claim, &rd_lua_claim_len},
        {SC_PLACED, rd_lua_placed, &rd_lua_placed_len},
        {SC_RELEASE, rd_lua_release, &rd_lua_release_len},
        {SC_LOOKUP, rd_lua_lookup, &rd_lua_lookup_len},
        {SC_SETTLE, rd_lua_settle, &rd_lua_settle_len},
        {SC_RECOVER, rd_lua_recover, &rd_lua_recover_len},
        {SC_CAMPAIGN_CREATE, rd_lua_campaign_create, &rd_lua_campaign_create_len},
        {SC_CAMPAIGN_STATE, rd_lua_campaign_state, &rd_lua_campaign_state_len},
        {SC_CAMPAIGN_GET, rd_lua_campaign_get, &rd_lua_campaign_get_len},
        {SC_OPTOUT, rd_lua_optout, &rd_lua_optout_len},
        {SC_POOL_SET, rd_lua_pool_set, &rd_lua_pool_set_len},
        {SC_STATS, rd_lua_stats, &rd_lua_stats_len},
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(scripts); i++)
        s->sc[scripts[i].id] = add_script(s, scripts[i].src, *scripts[i].len);
    *out = s;
    return 0;
}

static void on_redis_closed(void *arg) {
    rd_store_t *s = arg;
    void (*cb)(void *) = s->close_cb;
    void *carg = s->close_arg;
    rd_free(s);
    if (cb)
        cb(carg);
}

void rd_store_close(rd_store_t *s, void (*cb)(void *arg), void *arg) {
    s->close_cb = cb;
    s->close_arg = arg;
    rd_redis_close(s->r, on_redis_closed, s);
}

const char *rd_store_prefix(const rd_store_t *s) {
    return s->prefix;
}

bool rd_store_connected(const rd_store_t *s) {
    return rd_redis_connected(s->r);
}

uint64_t rd_store_commands_sent(const rd_store_t *s) {
    return rd_redis_commands_sent(s->r);
}

/* ---- generic completions ---------------------------------------------------------- */

/* Replies 1 = ok, 0 = stale (placed, release). */
static void done_fenced(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0)
        rc = reply->type != REDIS_REPLY_INTEGER ? RD_EPROTO : reply->integer == 1 ? 0 : RD_ESTALE;
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

static void done_ok(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

static void done_count(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    int64_t n = 0;
    if (rc == 0) {
        if (reply->type == REDIS_REPLY_INTEGER)
            n = reply->integer + o->i1;
        else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
                 reply->element[0]->type == REDIS_REPLY_INTEGER &&
                 reply->element[1]->type == REDIS_REPLY_INTEGER)
            n = (reply->element[0]->integer ? 1 : 0) + (reply->element[1]->integer ? 1 : 0);
        else
            rc = RD_EPROTO;
    }
    ((rd_store_count_cb)o->cb)(o->s, rc, n, o->arg);
    rd_free(o);
}

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

int rd_store_campaign_create(rd_store_t *s, const rd_campaign_t *c, int64_t now_ms,
                             rd_store_cb cb, void *arg) {
    if (!c->name || !c->name[0] || strlen(c->name) > RD_CAMPAIGN_NAME_MAX)
        return RD_EINVAL;
    char *json = rd_campaign_to_json(c);
    if (!json)
        return RD_ENOMEM;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, c->name);
    arg_cstr(&a, json);
    arg_i64(&a, c->concurrency);
    arg_cstr(&a, c->agent_pool ? c->agent_pool : "");
    arg_i64(&a, c->calls_per_minute);
    arg_i64(&a, now_ms);
    int rc = run(s, SC_CAMPAIGN_CREATE, &a, done_create, op_new(s, (void (*)(void))cb, arg));
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
        else if (reply->elements < 7 || !is_str(reply->element[0]))
            rc = RD_EPROTO;
    }
    if (rc == 0) {
        snprintf(c.name, sizeof(c.name), "%s", o->str);
        c.json = reply->element[0]->str;
        c.json_len = reply->element[0]->len;
        int64_t st = rint_(reply->element[1]);
        c.state = st == 1 ? RD_CAMP_PAUSED : st == 2 ? RD_CAMP_CANCELED : RD_CAMP_ACTIVE;
        c.created_ms = rint_(reply->element[2]);
        c.live = rint_(reply->element[3]);
        c.enqueued = rint_(reply->element[4]);
        c.finished = rint_(reply->element[5]);
        c.pending = rint_(reply->element[6]);
    }
    ((rd_store_campaign_cb)o->cb)(o->s, rc, rc == 0 ? &c : NULL, o->arg);
    rd_free(o);
}

int rd_store_campaign_get(rd_store_t *s, const char *name, rd_store_campaign_cb cb, void *arg) {
    if (!name || strlen(name) > RD_CAMPAIGN_NAME_MAX)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, name);
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    snprintf(o->str, sizeof(o->str), "%s", name);
    return run(s, SC_CAMPAIGN_GET, &a, done_campaign_get, o);
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
    if (rc == 0 && reply->type != REDIS_REPLY_ARRAY)
        rc = RD_EPROTO;
    if (rc == 0 && reply->elements) {
        names = rd_calloc(reply->elements, sizeof(char *));
        for (size_t i = 0; i < reply->elements; i++)
            if (is_str(reply->element[i]))
                names[n++] = reply->element[i]->str;
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
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(s->r, 2, argv, lens, 0, done_list, o);
    if (rc < 0)
        rd_free(o);
    return rc;
}

/* Cancel loops in batches: o->i1 = state, o->i2 = now, o->str = name. */
static void state_step(op_t *o);

static void done_state(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0 && !(is_arr(reply, 2) && reply->element[0]->type == REDIS_REPLY_INTEGER))
        rc = RD_EPROTO;
    if (rc == 0) {
        int64_t st = reply->element[0]->integer;
        if (st == -1)
            rc = RD_ENOTFOUND;
        else if (st == -2)
            rc = RD_EINVAL;
        else if (rint_(reply->element[1]) > 0) {
            state_step(o);
            return;
        }
    }
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

static void state_step(op_t *o) {
    args_t a;
    args_init(&a, o->s);
    arg_cstr(&a, o->str);
    arg_i64(&a, o->i1);
    arg_i64(&a, o->i2);
    arg_i64(&a, 500);
    arg_i64(&a, o->s->opts.events_maxlen);
    int rc = rd_redis_script(o->s->r, o->s->sc[SC_CAMPAIGN_STATE], 1, a.n, a.v, a.l, 0,
                             done_state, o);
    if (rc < 0) {
        ((rd_store_cb)o->cb)(o->s, rc, o->arg);
        rd_free(o);
    }
}

int rd_store_campaign_set_state(rd_store_t *s, const char *name, rd_camp_state_t st,
                                int64_t now_ms, rd_store_cb cb, void *arg) {
    if (!name || strlen(name) > RD_CAMPAIGN_NAME_MAX || (int)st < 0 || st > RD_CAMP_CANCELED)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, name);
    arg_i64(&a, st);
    arg_i64(&a, now_ms);
    arg_i64(&a, 500);
    arg_i64(&a, s->opts.events_maxlen);
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    snprintf(o->str, sizeof(o->str), "%s", name);
    o->i1 = st;
    o->i2 = now_ms;
    return run(s, SC_CAMPAIGN_STATE, &a, done_state, o);
}

/* ---- enqueue ----------------------------------------------------------------------------- */

static void done_enqueue(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    int64_t code = 0;
    const char *id = "";
    char idbuf[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2];
    if (rc == 0 && !(is_arr(reply, 2) && is_str(reply->element[1])))
        rc = RD_EPROTO;
    if (rc == 0) {
        code = rint_(reply->element[0]);
        if (code < RD_ENQ_CREATED || code > RD_ENQ_CONFLICT)
            rc = RD_EPROTO;
        copy_str(idbuf, sizeof(idbuf), reply->element[1]->str, reply->element[1]->len);
        id = idbuf;
    }
    ((rd_store_enqueue_cb)o->cb)(o->s, rc, (rd_enq_result_t)code, id, o->arg);
    rd_free(o);
}

static int vars_encode(const rd_job_var_t *v, size_t n, msgpack_sbuffer *sb) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, n) < 0)
        return RD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(v[i].key), vl = strlen(v[i].val);
        if (msgpack_pack_str(&pk, kl) < 0 || msgpack_pack_str_body(&pk, v[i].key, kl) < 0 ||
            msgpack_pack_str(&pk, vl) < 0 || msgpack_pack_str_body(&pk, v[i].val, vl) < 0)
            return RD_ENOMEM;
    }
    return 0;
}

int rd_store_enqueue(rd_store_t *s, const rd_store_enqueue_t *e, int64_t now_ms,
                     rd_store_enqueue_cb cb, void *arg) {
    if (!e->campaign || !e->to || strlen(e->campaign) > RD_CAMPAIGN_NAME_MAX ||
        !rd_e164_valid(e->to, strlen(e->to)) || (e->id && strlen(e->id) > RD_JOB_ID_MAX) ||
        (e->tz && strlen(e->tz) > RD_TZ_NAME_MAX))
        return RD_EINVAL;
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    if (e->n_vars && vars_encode(e->vars, e->n_vars, &sb) < 0) {
        msgpack_sbuffer_destroy(&sb);
        return RD_ENOMEM;
    }
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, e->campaign);
    arg_cstr(&a, e->to);
    arg_cstr(&a, e->id ? e->id : "");
    arg_str(&a, sb.data, sb.size);
    arg_cstr(&a, e->tz ? e->tz : "");
    arg_i64(&a, e->not_before_ms);
    arg_i64(&a, e->due_ms);
    arg_i64(&a, now_ms);
    arg_i64(&a, s->opts.events_maxlen);
    int rc = run(s, SC_ENQUEUE, &a, done_enqueue, op_new(s, (void (*)(void))cb, arg));
    msgpack_sbuffer_destroy(&sb);
    return rc;
}

/* ---- claim / placed / release --------------------------------------------------------- */

/* Decodes groups of 5 (campaign, number, token, record, numrec) from
 * reply->element[first..] into an array; *n_out = decoded count. */
static int decode_jobs(const redisReply *reply, size_t first, rd_store_job_t **out,
                       size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if ((reply->elements - first) % 5)
        return RD_EPROTO;
    size_t n = (reply->elements - first) / 5;
    if (!n)
        return 0;
    rd_store_job_t *jobs = rd_try_malloc(n * sizeof(*jobs));
    if (!jobs)
        return RD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        redisReply **e = reply->element + first + 5 * i;
        int rc = job_from_replies(&jobs[i], e[0], e[1], e[3], e[4]);
        if (rc == 0 &&
            (e[2]->type != REDIS_REPLY_INTEGER || (uint64_t)e[2]->integer != jobs[i].token)) {
            job_clear(&jobs[i]);
            rc = RD_EPROTO;
        }
        if (rc < 0) {
            for (size_t k = 0; k < i; k++)
                job_clear(&jobs[k]);
            rd_free(jobs);
            return rc;
        }
    }
    *out = jobs;
    *n_out = n;
    return 0;
}

static void free_jobs(rd_store_job_t *jobs, size_t n) {
    for (size_t i = 0; i < n; i++)
        job_clear(&jobs[i]);
    rd_free(jobs);
}

static void done_claim(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_claim_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !is_arr(reply, 5))
        rc = RD_EPROTO;
    if (rc == 0)
        rc = decode_jobs(reply, 5, &res.jobs, &res.n);
    if (rc == 0) {
        res.finished = (size_t)rint_(reply->element[1]);
        res.deferred = (size_t)rint_(reply->element[2]);
        res.next_due_ms = rint_(reply->element[3]);
        res.bucket_wait_ms = rint_(reply->element[4]);
        for (size_t i = 0; i < res.n; i++)
            res.jobs[i].deadline_ms = o->i1 + o->i2;
        if ((size_t)rint_(reply->element[0]) != res.n)
            rc = RD_EPROTO;
    }
    ((rd_store_claim_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    free_jobs(res.jobs, res.n);
    rd_free(o);
}

int rd_store_claim(rd_store_t *s, const rd_store_claim_req_t *req, rd_store_claim_cb cb,
                   void *arg) {
    if (req->max_jobs < 1 || req->max_jobs > 1000 || req->lease_ms <= 0)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_i64(&a, req->now_ms);
    arg_i64(&a, req->max_jobs);
    arg_i64(&a, req->lease_ms);
    arg_i64(&a, req->lock_retry_ms > 0 ? req->lock_retry_ms : 30000);
    arg_cstr(&a, s->bucket);
    arg_dbl(&a, s->opts.bucket_rate);
    arg_dbl(&a, s->opts.bucket_burst);
    arg_i64(&a, 64);
    arg_i64(&a, s->opts.events_maxlen);
    arg_cstr(&a, req->engine ? req->engine : "");
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    o->i1 = req->now_ms;
    o->i2 = req->lease_ms;
    return run(s, SC_CLAIM, &a, done_claim, o);
}

int rd_store_placed(rd_store_t *s, const char *campaign, uint64_t token, const char *call_id,
                    int64_t deadline_ms, rd_store_cb cb, void *arg) {
    if (!campaign || !call_id || !call_id[0] || strlen(call_id) > RD_STORE_CALL_ID_MAX || !token)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, campaign);
    arg_i64(&a, (int64_t)token);
    arg_cstr(&a, call_id);
    arg_i64(&a, deadline_ms);
    return run(s, SC_PLACED, &a, done_fenced, op_new(s, (void (*)(void))cb, arg));
}

int rd_store_release(rd_store_t *s, const char *campaign, uint64_t token, int64_t due_ms,
                     int64_t now_ms, rd_store_cb cb, void *arg) {
    if (!campaign || !token)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, campaign);
    arg_i64(&a, (int64_t)token);
    arg_i64(&a, due_ms);
    arg_i64(&a, now_ms);
    arg_i64(&a, s->opts.events_maxlen);
    return run(s, SC_RELEASE, &a, done_fenced, op_new(s, (void (*)(void))cb, arg));
}

/* ---- lookup / settle ----------------------------------------------------------------------- */

static void done_lookup(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_job_t j;
    bool have = false;
    if (rc == 0 && !is_arr(reply, 1))
        rc = RD_EPROTO;
    if (rc == 0) {
        int64_t st = rint_(reply->element[0]);
        if (st == 0)
            rc = RD_ESTALE;
        else if (st < 0)
            rc = RD_ENOTFOUND;
        else if (reply->elements < 6)
            rc = RD_EPROTO;
        else {
            rc = job_from_replies(&j, reply->element[1], reply->element[2], reply->element[3],
                                  reply->element[4]);
            if (rc == 0) {
                have = true;
                j.deadline_ms = rint_(reply->element[5]);
            }
        }
    }
    ((rd_store_job_cb)o->cb)(o->s, rc, have ? &j : NULL, o->arg);
    if (have)
        job_clear(&j);
    rd_free(o);
}

static int lookup(rd_store_t *s, const char *mode, const char *key, rd_store_job_cb cb,
                  void *arg) {
    if (!key || !key[0] || strlen(key) > 512)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, mode);
    arg_cstr(&a, key);
    return run(s, SC_LOOKUP, &a, done_lookup, op_new(s, (void (*)(void))cb, arg));
}

int rd_store_lookup_attempt(rd_store_t *s, const char *attempt_key, rd_store_job_cb cb,
                            void *arg) {
    if (!attempt_key || rd_attempt_key_parse(attempt_key, strlen(attempt_key), NULL, 0, NULL) < 0)
        return RD_EINVAL;
    return lookup(s, "a", attempt_key, cb, arg);
}

int rd_store_lookup_call(rd_store_t *s, const char *call_id, rd_store_job_cb cb, void *arg) {
    return lookup(s, "c", call_id, cb, arg);
}

int rd_store_job_show(rd_store_t *s, const char *id, rd_store_job_cb cb, void *arg) {
    return lookup(s, "i", id, cb, arg);
}

static void done_settle(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_settle_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !is_arr(reply, 1))
        rc = RD_EPROTO;
    if (rc == 0) {
        if (rint_(reply->element[0]) != 1)
            rc = RD_ESTALE;
        else if (reply->elements < 4)
            rc = RD_EPROTO;
        else {
            res.final = rint_(reply->element[1]) == 1;
            int64_t d = rint_(reply->element[2]);
            res.disposition = RD_DISP_FAILED;
            if (d >= 0 && d < RD_DISP__COUNT)
                res.disposition = (rd_disposition_t)d;
            res.attempt = (int)rint_(reply->element[3]);
        }
    }
    ((rd_store_settle_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    rd_free(o);
}

int rd_store_settle(rd_store_t *s, const rd_store_settle_t *st, rd_store_settle_cb cb,
                    void *arg) {
    if (!st->campaign || !st->token || (int)st->outcome < 0 || st->outcome >= RD_OUT__COUNT ||
        (st->decision.final &&
         ((int)st->decision.disposition < 0 || st->decision.disposition >= RD_DISP__COUNT)) ||
        st->hour_of_week >= 168 || (st->call_id && strlen(st->call_id) > RD_STORE_CALL_ID_MAX))
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, st->campaign);
    arg_i64(&a, (int64_t)st->token);
    arg_i64(&a, st->outcome);
    arg_cstr(&a, st->call_id ? st->call_id : "");
    arg_i64(&a, st->ended_ms);
    arg_i64(&a, st->now_ms);
    arg_i64(&a, st->decision.final ? 1 : 0);
    arg_i64(&a, st->decision.final ? (int64_t)st->decision.disposition : -1);
    arg_i64(&a, st->decision.final ? 0 : st->decision.due_ms);
    arg_i64(&a, st->hour_of_week < 0 ? -1 : st->hour_of_week);
    arg_i64(&a, st->answered ? 1 : 0);
    arg_i64(&a, s->opts.events_maxlen);
    return run(s, SC_SETTLE, &a, done_settle, op_new(s, (void (*)(void))cb, arg));
}

/* ---- recovery --------------------------------------------------------------------------------- */

static void done_recover(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_recover_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !is_arr(reply, 3))
        rc = RD_EPROTO;
    if (rc == 0)
        rc = decode_jobs(reply, 3, &res.poll, &res.n_poll);
    if (rc == 0) {
        res.requeued = (size_t)rint_(reply->element[0]);
        res.trimmed = (size_t)rint_(reply->element[1]);
        res.next_deadline_ms = rint_(reply->element[2]);
        for (size_t i = 0; i < res.n_poll; i++)
            res.poll[i].deadline_ms = o->i1 + o->i2;
    }
    ((rd_store_recover_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    free_jobs(res.poll, res.n_poll);
    rd_free(o);
}

int rd_store_recover(rd_store_t *s, int64_t now_ms, int max, int64_t poll_lease_ms,
                     rd_store_recover_cb cb, void *arg) {
    if (max < 1 || max > 1000 || poll_lease_ms <= 0)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_i64(&a, now_ms);
    arg_i64(&a, max);
    arg_i64(&a, poll_lease_ms);
    arg_i64(&a, s->opts.events_maxlen);
    arg_i64(&a, s->opts.retention_ms);
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    o->i1 = now_ms;
    o->i2 = poll_lease_ms;
    return run(s, SC_RECOVER, &a, done_recover, o);
}

/* ---- opt-out, DND, pools ------------------------------------------------------------------------ */

int rd_store_optout(rd_store_t *s, const char *number, int64_t now_ms, rd_store_count_cb cb,
                    void *arg) {
    if (!number || !rd_e164_valid(number, strlen(number)))
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, number);
    arg_i64(&a, now_ms);
    arg_i64(&a, s->opts.events_maxlen);
    return run(s, SC_OPTOUT, &a, done_count, op_new(s, (void (*)(void))cb, arg));
}

/* DND import: SADD in chunks; the op counts replies still due in o->i2. */
static void done_dnd_chunk(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0 && reply->type != REDIS_REPLY_INTEGER)
        rc = RD_EPROTO;
    if (rc == 0)
        o->i1 += reply->integer;
    else if (!o->str[0])
        o->str[0] = (char)-rc; /* first error, kept as a positive byte */
    if (--o->i2 > 0)
        return;
    int err = o->str[0] ? -(int)(unsigned char)o->str[0] : 0;
    ((rd_store_count_cb)o->cb)(o->s, err, o->i1, o->arg);
    rd_free(o);
}

int rd_store_dnd_add(rd_store_t *s, const char *const *numbers, size_t count,
                     rd_store_count_cb cb, void *arg) {
    for (size_t i = 0; i < count; i++)
        if (!numbers[i] || strlen(numbers[i]) > RD_E164_MAX)
            return RD_EINVAL;
    enum { CHUNK = 1000 };
    char key[200];
    int kl = snprintf(key, sizeof(key), "%s:dnd", s->prefix);
    size_t chunks = count ? (count + CHUNK - 1) / CHUNK : 1;
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    o->i2 = (int64_t)chunks;
    const char *argv[CHUNK + 2];
    size_t lens[CHUNK + 2];
    argv[0] = count ? "SADD" : "EXISTS";
    lens[0] = strlen(argv[0]);
    argv[1] = key;
    lens[1] = (size_t)kl;
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * CHUNK, hi = RD_MIN(count, lo + CHUNK);
        for (size_t i = lo; i < hi; i++) {
            argv[2 + i - lo] = numbers[i];
            lens[2 + i - lo] = strlen(numbers[i]);
        }
        int rc = rd_redis_command(s->r, (int)(2 + hi - lo), argv, lens, 0, done_dnd_chunk, o);
        if (rc < 0) {
            if (c == 0) {
                rd_free(o);
                return rc;
            }
            o->i2 -= (int64_t)(chunks - c); /* those will never answer */
            if (!o->str[0])
                o->str[0] = (char)-rc;
            break;
        }
    }
    return 0;
}

int rd_store_dnd_check(rd_store_t *s, const char *number, rd_store_count_cb cb, void *arg) {
    if (!number || strlen(number) > RD_E164_MAX)
        return RD_EINVAL;
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
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(s->r, 6, argv, lens, 0, done_count, o);
    if (rc < 0)
        rd_free(o);
    return rc;
}

int rd_store_pool_set(rd_store_t *s, const char *pool, int64_t capacity, rd_store_cb cb,
                      void *arg) {
    if (!pool || !pool[0] || strlen(pool) > 64 || capacity < 0)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, pool);
    arg_i64(&a, capacity);
    return run(s, SC_POOL_SET, &a, done_ok, op_new(s, (void (*)(void))cb, arg));
}

/* ---- stats ------------------------------------------------------------------------------------------ */

/* Applies one "field value" pair of a stats hash. prior: the all-campaign hash. */
static void stats_field(rd_store_stats_t *st, const char *f, uint64_t v, bool prior) {
    char *e;
    long a, b;
    if (f[0] == 'h' && (f[1] == 'a' || f[1] == 'k')) {
        a = strtol(f + 2, &e, 10);
        if (*e || a < 0 || a >= 168)
            return;
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
    if (prior)
        return;
    if (f[0] == 'a') {
        a = strtol(f + 1, &e, 10);
        if (*e != ':' || a < 1 || a > RD_STATS_MAX_ATTEMPTS)
            return;
        b = strtol(e + 1, &e, 10);
        if (*e || b < 0 || b >= RD_OUT__COUNT)
            return;
        st->by_attempt[a][b] += v;
        st->counts.attempts[a] += v;
        st->counts.outcomes[b] += v;
        st->smart.campaign_attempts += v;
    } else if (f[0] == 'k') {
        a = strtol(f + 1, &e, 10);
        if (!*e && a >= 1 && a <= RD_STATS_MAX_ATTEMPTS)
            st->counts.connected[a] += v;
    } else if (f[0] == 'f') {
        a = strtol(f + 1, &e, 10);
        if (!*e && a >= 0 && a < RD_DISP__COUNT)
            st->counts.finals[a] += v;
    }
}

static void stats_hash(rd_store_stats_t *st, const redisReply *h, bool prior) {
    if (!h || h->type != REDIS_REPLY_ARRAY)
        return;
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (is_str(h->element[i]))
            stats_field(st, h->element[i]->str, (uint64_t)rint_(h->element[i + 1]), prior);
}

static void done_stats(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_stats_t *st = NULL;
    if (rc == 0 && reply->type != REDIS_REPLY_ARRAY)
        rc = RD_EPROTO;
    if (rc == 0 && reply->elements == 0)
        rc = RD_ENOTFOUND;
    if (rc == 0 && reply->elements < 5)
        rc = RD_EPROTO;
    if (rc == 0) {
        st = rd_calloc(1, sizeof(*st));
        st->counts.jobs = (uint64_t)rint_(reply->element[0]);
        st->live = (uint64_t)rint_(reply->element[1]);
        st->pending = (uint64_t)rint_(reply->element[2]);
        stats_hash(st, reply->element[3], false);
        stats_hash(st, reply->element[4], true);
    }
    ((rd_store_stats_cb)o->cb)(o->s, rc, st, o->arg);
    rd_free(st);
    rd_free(o);
}

int rd_store_stats(rd_store_t *s, const char *campaign, rd_store_stats_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX)
        return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, campaign);
    return run(s, SC_STATS, &a, done_stats, op_new(s, (void (*)(void))cb, arg));
}
