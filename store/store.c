/*
 * store.c — the core of the Redis store (store/store.h): lifetime, the
 * script runner and batching. The record codec is store_record.c, the job
 * transitions store_job.c, campaigns / lists / stats store_admin.c; what
 * they share is store_int.h.
 *
 * Design. All state and every transition live in Redis (docs/REDIS.md); the
 * store holds none of it. Each public call packs its arguments (numbers as
 * decimal strings, blobs binary-safe), runs one script through one rd_redis
 * connection (EVALSHA, pipelined with everything else in flight), and decodes
 * the reply into the caller's types in the callback. The scripts are loaded
 * as lib.lua + <script>.lua, so helpers are shared without a second round
 * trip.
 *
 * Errors: a reply of an unexpected shape is RD_EPROTO (never an assertion:
 * the bytes come from Redis); an error reply is RD_EREDIS.
 *
 * Threads: the loop thread of the store, like rd_redis.
 */
#include "store/store.h"

#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"
#include "store/store_int.h"
#include "rd_lua.h"

/* ---- argument building ---------------------------------------------------- */

void rd_store__args_init(args_t *a, rd_store_t *s) {
    a->n = 0;
    a->v[a->n] = s->k_seq;
    a->l[a->n++] = s->k_seq_len;
    a->v[a->n] = s->prefix;
    a->l[a->n++] = s->prefix_len;
}

void rd_store__arg_str(args_t *a, const char *p, size_t len) {
    rd_assert(a->n < ARGS_MAX);
    a->v[a->n] = p ? p : "";
    a->l[a->n++] = p ? len : 0;
}

void rd_store__arg_cstr(args_t *a, const char *p) { rd_store__arg_str(a, p, p ? strlen(p) : 0); }

void rd_store__arg_i64(args_t *a, int64_t v) {
    rd_assert(a->n < ARGS_MAX);
    int len = snprintf(a->num[a->n], sizeof(a->num[0]), "%lld", (long long)v);
    a->v[a->n] = a->num[a->n];
    a->l[a->n++] = (size_t)len;
}

void rd_store__arg_dbl(args_t *a, double v) {
    rd_assert(a->n < ARGS_MAX);
    int len = snprintf(a->num[a->n], sizeof(a->num[0]), "%.6f", v);
    a->v[a->n] = a->num[a->n];
    a->l[a->n++] = (size_t)len;
}

/* One in-flight operation: the user's callback and whatever the decoder needs. */

op_t *rd_store__op_new(rd_store_t *s, void (*cb)(void), void *arg) {
    op_t *o = rd_calloc(1, sizeof(*o));
    o->s = s;
    o->cb = cb;
    o->arg = arg;
    return o;
}

int rd_store__run(rd_store_t *s, int script, args_t *a, rd_redis_cb done, op_t *o) {
    int rc = rd_redis_script(s->r, s->sc[script], 1, a->n, a->v, a->l, 0, done, o);
    if (rc < 0) rd_free(o);
    return rc;
}

/* ---- reply helpers --------------------------------------------------------- */

int64_t rd_store__rint_(const redisReply *r) {
    if (!r) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) return strtoll(r->str, NULL, 10);
    return 0;
}

bool rd_store__is_arr(const redisReply *r, size_t min) {
    return r && r->type == REDIS_REPLY_ARRAY && r->elements >= min;
}

bool rd_store__is_str(const redisReply *r) { return r && r->type == REDIS_REPLY_STRING; }

void rd_store__copy_str(char *dst, size_t cap, const char *src, size_t len) {
    if (len >= cap) len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}
/* ---- batching ------------------------------------------------------------------
 *
 * enqueue, placed, release, settle and lookup are per-item calls, but a script call
 * costs far more than the work of one item, so items issued during one loop
 * iteration are queued per kind and sent as one script call (the scripts take
 * `count` items and answer a fixed number of values per item) when the loop
 * is about to poll (uv_prepare), or as soon as a batch is full. With
 * batch_wait_ms > 0 they wait up to that long (one timer, armed by the first
 * item queued while nothing was: the oldest item's deadline) so that the
 * items of several iterations share a call: under load a settle or placed
 * batch holds a few items per iteration, and each call pays its script's
 * prologue and its once-per-call writes (counters, ready-set updates) again.
 * Callbacks
 * still run once per item, in issue order, never from inside the issuing
 * call. A batch is atomic in Redis; items do not depend on each other's
 * success.
 */

static const struct {
    int script, per_item, nvals, max_items;
} BQ_KIND[BQ__COUNT] = {
    [BQ_ENQUEUE] = {SC_ENQUEUE, 7, 2, 200}, [BQ_PLACED] = {SC_PLACED, 4, 1, 500},
    [BQ_RELEASE] = {SC_RELEASE, 3, 1, 500}, [BQ_SETTLE] = {SC_SETTLE, RD_SF__COUNT, 4, 200},
    [BQ_LOOKUP] = {SC_LOOKUP, 2, 13, 500},
};

static bq_t *bq_new(int kind) {
    bq_t *q = rd_calloc(1, sizeof(*q));
    q->script = BQ_KIND[kind].script;
    q->per_item = BQ_KIND[kind].per_item;
    q->nvals = BQ_KIND[kind].nvals;
    q->max_items = BQ_KIND[kind].max_items;
    return q;
}

static void bq_free(bq_t *q) {
    if (!q) return;
    rd_free(q->items);
    rd_free(q->buf);
    rd_free(q->off);
    rd_free(q->len);
    rd_free(q);
}

bq_t *rd_store__bq_begin(rd_store_t *s, int kind, bq_done_fn done, void (*cb)(void), void *arg,
                         int64_t now) {
    bq_t *q = s->bq[kind];
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 16;
        q->items = rd_realloc(q->items, q->cap * sizeof(*q->items));
    }
    q->items[q->n++] = (bq_item_t){done, cb, arg};
    if (now > q->now) q->now = now;
    return q;
}

void rd_store__bq_bin(bq_t *q, const void *p, size_t len) {
    if (q->na == q->acap) {
        q->acap = q->acap ? q->acap * 2 : 64;
        q->off = rd_realloc(q->off, q->acap * sizeof(size_t));
        q->len = rd_realloc(q->len, q->acap * sizeof(size_t));
    }
    if (q->blen + len > q->bcap) {
        q->bcap = RD_MAX(q->bcap * 2, q->blen + len + 256);
        q->buf = rd_realloc(q->buf, q->bcap);
    }
    if (len) memcpy(q->buf + q->blen, p, len);
    q->off[q->na] = q->blen;
    q->len[q->na++] = len;
    q->blen += len;
}

void rd_store__bq_str(bq_t *q, const char *p) { rd_store__bq_bin(q, p, strlen(p)); }

void rd_store__bq_i64(bq_t *q, int64_t v) {
    char b[24];
    int n = snprintf(b, sizeof(b), "%lld", (long long)v);
    rd_store__bq_bin(q, b, (size_t)n);
}

typedef struct bq_flight {
    rd_store_t *s;
    bq_t *q;
} bq_flight_t;

static void bq_fail_all(rd_store_t *s, bq_t *q, int rc) {
    for (size_t i = 0; i < q->n; i++) q->items[i].done(s, &q->items[i], rc, NULL);
}

static void done_batch(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    bq_flight_t *f = arg;
    bq_t *q = f->q;
    int rc = rd_redis_reply_status(status, reply);
    if (rc == 0 &&
        !(reply->type == REDIS_REPLY_ARRAY && reply->elements == q->n * (size_t)q->nvals))
        rc = RD_EPROTO;
    for (size_t i = 0; i < q->n; i++)
        q->items[i].done(f->s, &q->items[i], rc,
                         rc == 0 ? reply->element + i * (size_t)q->nvals : NULL);
    bq_free(q);
    rd_free(f);
}

/* Sends everything queued of one kind as one script call. */
static void bq_flush(rd_store_t *s, int kind) {
    bq_t *q = s->bq[kind];
    if (q->n == 0) return;
    s->bq[kind] = bq_new(kind);
    size_t argc = 5 + q->na;
    const char **argv = rd_malloc(argc * sizeof(char *));
    size_t *lens = rd_malloc(argc * sizeof(size_t));
    char hdr[3][24];
    argv[0] = s->k_seq;
    lens[0] = s->k_seq_len;
    argv[1] = s->prefix;
    lens[1] = s->prefix_len;
    lens[2] = (size_t)snprintf(hdr[0], sizeof(hdr[0]), "%lld", (long long)q->now);
    argv[2] = hdr[0];
    lens[3] = (size_t)snprintf(hdr[1], sizeof(hdr[1]), "%lld", (long long)s->opts.events_maxlen);
    argv[3] = hdr[1];
    lens[4] = (size_t)snprintf(hdr[2], sizeof(hdr[2]), "%zu", q->n);
    argv[4] = hdr[2];
    for (size_t i = 0; i < q->na; i++) {
        argv[5 + i] = q->buf + q->off[i];
        lens[5 + i] = q->len[i];
    }
    bq_flight_t *f = rd_malloc(sizeof(*f));
    f->s = s;
    f->q = q;
    int rc = rd_redis_script(s->r, s->sc[q->script], 1, (int)argc, argv, lens, 0, done_batch, f);
    rd_free(argv);
    rd_free(lens);
    if (rc < 0) {
        /* Closed under us: fail them here (never from the issuing call). */
        bq_fail_all(s, q, rc);
        bq_free(q);
        rd_free(f);
    }
}

static void flush_all(rd_store_t *s) {
    for (int k = 0; k < BQ__COUNT; k++) bq_flush(s, k);
}

static void on_flush(uv_prepare_t *h) {
    rd_store_t *s = h->data;
    uv_prepare_stop(h);
    flush_all(s);
}

static void on_wait(uv_timer_t *t) { flush_all(t->data); }

/* After an item's arguments are in: send when full, else at the end of the loop
 * iteration, or batch_wait_ms after the oldest queued item. */
void rd_store__bq_commit(rd_store_t *s, int kind) {
    if (s->bq[kind]->n >= (size_t)s->bq[kind]->max_items)
        bq_flush(s, kind);
    else if (s->opts.batch_wait_ms == 0) {
        if (!uv_is_active((uv_handle_t *)&s->flush)) uv_prepare_start(&s->flush, on_flush);
    } else if (!uv_is_active((uv_handle_t *)&s->wait)) {
        uv_timer_start(&s->wait, on_wait, s->opts.batch_wait_ms, 0);
    }
}
/* ---- lifetime ------------------------------------------------------------------ */

void rd_store_opts_init(rd_store_opts_t *o) {
    memset(o, 0, sizeof(*o));
    o->cmd_timeout_ms = 5000;
    o->connect_timeout_ms = 2000;
    o->reconnect_max_ms = 2000;
    o->probe_ms = 250;
    o->probe_deadline_ms = 500;
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
    if (n == 0 || n >= 120) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f) return false;
    return true;
}

int rd_store_create(uv_loop_t *loop, const rd_store_opts_t *opts, rd_store_t **out) {
    *out = NULL;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    if (rd_redis_addr_config(opts->url, opts->password, &ro.addr) != 0) return RD_EINVAL;
    const char *prefix = opts->prefix ? opts->prefix : RD_STORE_DEFAULT_PREFIX;
    if (!prefix_ok(prefix)) return RD_EINVAL;
    if (opts->bucket && (strlen(opts->bucket) >= 128 || opts->bucket_rate <= 0)) return RD_EINVAL;
    if (opts->cmd_timeout_ms) ro.cmd_timeout_ms = opts->cmd_timeout_ms;
    if (opts->connect_timeout_ms) ro.connect_timeout_ms = opts->connect_timeout_ms;
    if (opts->reconnect_max_ms) ro.reconnect_max_ms = opts->reconnect_max_ms;
    ro.fail_fast = opts->fail_fast;
    rd_store_t *s = rd_calloc(1, sizeof(*s));
    s->loop = loop;
    s->opts = *opts;
    s->opts.url = NULL;
    s->opts.password = NULL;
    s->opts.prefix = NULL;
    s->opts.bucket = NULL;
    if (s->opts.events_maxlen <= 0) s->opts.events_maxlen = 1000000;
    if (s->opts.retention_ms <= 0) s->opts.retention_ms = 7LL * 86400000;
    if (opts->bucket) {
        strcpy(s->bucket, opts->bucket);
        if (s->opts.bucket_burst < 1) s->opts.bucket_burst = 1;
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
    if (opts->probe_ms &&
        rd_redis_probe_create(loop, &ro.addr, opts->probe_ms,
                              opts->probe_deadline_ms ? opts->probe_deadline_ms : 500,
                              &s->probe) != 0)
        s->probe = NULL; /* no probe: rd_store_connected() falls back to the connection */
    uv_prepare_init(loop, &s->flush);
    s->flush.data = s;
    uv_timer_init(loop, &s->wait);
    s->wait.data = s;
    for (int k = 0; k < BQ__COUNT; k++) s->bq[k] = bq_new(k);
    s->prepp = rd_calloc(1, sizeof(*s->prepp));
    msgpack_sbuffer_init(&s->prepp->rec);
    msgpack_sbuffer_init(&s->prepp->ev);
    msgpack_sbuffer_init(&s->prepp->fin);
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
        {SC_DND_ADD, rd_lua_dnd_add, &rd_lua_dnd_add_len},
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(scripts); i++)
        s->sc[scripts[i].id] = add_script(s, scripts[i].src, *scripts[i].len);
    *out = s;
    return 0;
}

static void store_closed_one(rd_store_t *s) {
    if (--s->open_handles > 0) return;
    for (int k = 0; k < BQ__COUNT; k++) bq_free(s->bq[k]);
    msgpack_sbuffer_destroy(&s->prepp->rec);
    msgpack_sbuffer_destroy(&s->prepp->ev);
    msgpack_sbuffer_destroy(&s->prepp->fin);
    rd_free(s->prepp);
    void (*cb)(void *) = s->close_cb;
    void *carg = s->close_arg;
    rd_free(s);
    if (cb) cb(carg);
}

static void on_redis_closed(void *arg) { store_closed_one(arg); }

static void on_flush_closed(uv_handle_t *h) { store_closed_one(h->data); }

void rd_store_close(rd_store_t *s, void (*cb)(void *arg), void *arg) {
    s->close_cb = cb;
    s->close_arg = arg;
    s->open_handles = s->probe ? 4 : 3;
    /* Queued items never left: they fail like everything in flight. */
    for (int k = 0; k < BQ__COUNT; k++) {
        bq_t *q = s->bq[k];
        s->bq[k] = bq_new(k);
        bq_fail_all(s, q, RD_ECLOSED);
        bq_free(q);
    }
    uv_close((uv_handle_t *)&s->flush, on_flush_closed);
    uv_close((uv_handle_t *)&s->wait, on_flush_closed);
    if (s->probe) rd_redis_probe_close(s->probe, on_redis_closed, s);
    rd_redis_close(s->r, on_redis_closed, s);
}

const char *rd_store_prefix(const rd_store_t *s) { return s->prefix; }

rd_redis_t *rd_store_redis(rd_store_t *s) { return s->r; }

int rd_store_ext_script(rd_store_t *s, const char *src, size_t len) {
    for (int i = 0; i < s->n_ext; i++)
        if (s->ext[i].src == src) return s->ext[i].h;
    if (s->n_ext == (int)RD_ARRAY_LEN(s->ext)) return RD_ELIMIT;
    int h = add_script(s, src, len);
    if (h < 0) return h;
    s->ext[s->n_ext].src = src;
    s->ext[s->n_ext++].h = h;
    return h;
}

bool rd_store_connected(const rd_store_t *s) {
    return rd_redis_connected(s->r) && (!s->probe || rd_redis_probe_up(s->probe));
}

const char *rd_store_link_error(const rd_store_t *s, int *code) {
    return rd_redis_link_error(s->r, code);
}

uint64_t rd_store_commands_sent(const rd_store_t *s) { return rd_redis_commands_sent(s->r); }

const char *rd_store_bucket(const rd_store_t *s, double *rate, double *burst) {
    *rate = s->opts.bucket_rate;
    *burst = s->opts.bucket_burst;
    return s->bucket[0] ? s->bucket : NULL;
}

const rd_hist_t *rd_store_script_hist(const rd_store_t *s) { return rd_redis_script_hist(s->r); }

uint64_t rd_store_settles_prepared(const rd_store_t *s) { return s->settles_prepared; }

/* ---- generic completions ---------------------------------------------------------- */

void rd_store__done_ok(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    ((rd_store_cb)o->cb)(o->s, rc, o->arg);
    rd_free(o);
}

void rd_store__done_count(rd_redis_t *r, int status, redisReply *reply, void *arg) {
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
