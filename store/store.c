/*
 * store.c — the C side of the Redis core (store/store.h): argument building
 * for the Lua scripts of store/lua/ and decoding of their replies.
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
 * Settle given its job (settle_prep): Redis has one thread for every engine,
 * so the part of a settle that is pure data — decoding the number record,
 * appending the attempt, encoding it back, packing the events — is done here
 * from the record bytes the job was read with, and settle.lua only checks
 * (the lease fence, then a compare-and-set of the whole record) and stores.
 * Anything unexpected leaves the item unprepared and Redis does it all.
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

#include "common/redis.h"
#include "common/redis_probe.h"
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
    SC_DND_ADD,
    SC__COUNT
};

/* Buffers of the engine-side settle (settle_prep), reused across settles. */
typedef struct settle_prep {
    msgpack_sbuffer rec, ev, fin;
    int attempt;
    char call[RD_STORE_CALL_ID_MAX + 1];
} settle_prep_t;

struct rd_store {
    uv_loop_t *loop;
    rd_redis_t *r;
    rd_redis_probe_t *probe; /* NULL = none */
    char prefix[128];
    char k_seq[160];
    size_t prefix_len, k_seq_len;
    rd_store_opts_t opts;
    char bucket[128];
    int sc[SC__COUNT];
    void (*close_cb)(void *);
    void *close_arg;
    /* Per-item operations issued in one loop iteration go out as one script
     * call per kind (see "batching" below). */
    struct bq *bq[5]; /* BQ_* */
    settle_prep_t *prepp;
    uint64_t settles_prepared; /* settles applied from the engine's record */
    uv_prepare_t flush;
    int open_handles;
};

enum { BQ_ENQUEUE, BQ_PLACED, BQ_RELEASE, BQ_SETTLE, BQ_LOOKUP, BQ__COUNT };

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

static void arg_cstr(args_t *a, const char *p) { arg_str(a, p, p ? strlen(p) : 0); }

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
    if (rc < 0) rd_free(o);
    return rc;
}

/* ---- reply helpers --------------------------------------------------------- */

static int64_t rint_(const redisReply *r) {
    if (!r) return 0;
    if (r->type == REDIS_REPLY_INTEGER) return r->integer;
    if (r->type == REDIS_REPLY_STRING) return strtoll(r->str, NULL, 10);
    return 0;
}

static bool is_arr(const redisReply *r, size_t min) {
    return r && r->type == REDIS_REPLY_ARRAY && r->elements >= min;
}

static bool is_str(const redisReply *r) { return r && r->type == REDIS_REPLY_STRING; }

static void copy_str(char *dst, size_t cap, const char *src, size_t len) {
    if (len >= cap) len = cap - 1;
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* ---- msgpack decoding --------------------------------------------------------- */

static bool mp_i64(const msgpack_object *o, int64_t *out) {
    switch (o->type) {
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX) return false;
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
    if (len == 0) return 0;
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

/* A number's attempt starts (array of ms) -> job->num_attempts_ms. */
static int atts_obj(const msgpack_object *o, rd_store_job_t *j) {
    j->n_num_attempts = 0;
    /* cmsgpack packs an empty Lua table as an empty map. */
    if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size == 0) return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY) return RD_EPROTO;
    for (size_t i = 0; i < o->via.array.size; i++) {
        int64_t t;
        if (!mp_i64(&o->via.array.ptr[i], &t)) return RD_EPROTO;
        if (j->n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
            j->num_attempts_ms[j->n_num_attempts++] = t;
    }
    return 0;
}

/*
 * Job {cid, st, seq, id, hist, t, disp, tz, vars, nb} (docs/REDIS.md;
 * trailing fields may be absent = defaults) -> *j. campaign and to must
 * already be set. The state is PENDING or FINAL: a lease on the job is
 * applied by the caller.
 */
static int job_obj(const msgpack_object *o, rd_store_job_t *j) {
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 5) return RD_EPROTO;
    const msgpack_object *f = o->via.array.ptr;
    size_t nf = o->via.array.size;
    int64_t st, seq, disp = -1, nb = 0;
    const char *p;
    size_t pl;
    if (!mp_i64(&f[1], &st) || !mp_i64(&f[2], &seq) || (nf > 6 && !mp_i64(&f[6], &disp)) ||
        (nf > 9 && !mp_i64(&f[9], &nb)))
        return RD_EPROTO;
    j->state = st == 3 ? RD_JOB_FINAL : RD_JOB_PENDING;
    j->not_before_ms = nb;
    j->disposition = RD_DISP_FAILED;
    if (disp >= 0 && disp < RD_DISP__COUNT) j->disposition = (rd_disposition_t)disp;
    if (!mp_str(&f[3], &p, &pl)) return RD_EPROTO;
    if (pl)
        copy_str(j->id, sizeof(j->id), p, pl);
    else
        snprintf(j->id, sizeof(j->id), "%s/%s/%lld", j->campaign, j->to, (long long)seq);
    j->n_hist = 0;
    const msgpack_object *h = &f[4];
    bool empty = h->type == MSGPACK_OBJECT_MAP && h->via.map.size == 0;
    if (h->type != MSGPACK_OBJECT_ARRAY && !empty) return RD_EPROTO;
    for (size_t i = 0; !empty && i + 1 < h->via.array.size; i += 2) {
        int64_t ts, oc;
        if (!mp_i64(&h->via.array.ptr[i], &ts) || !mp_i64(&h->via.array.ptr[i + 1], &oc) ||
            oc < 0 || oc >= RD_OUT__COUNT)
            return RD_EPROTO;
        if (j->n_hist < RD_STORE_MAX_HIST) {
            j->hist[j->n_hist].start_ms = ts;
            j->hist[j->n_hist].outcome = (rd_outcome_t)oc;
            j->n_hist++;
        }
    }
    j->attempt = (int)j->n_hist + 1;
    j->tz[0] = 0;
    if (nf > 7) {
        if (!mp_str(&f[7], &p, &pl)) return RD_EPROTO;
        copy_str(j->tz, sizeof(j->tz), p, pl);
    }
    if (nf > 8) {
        if (!mp_str(&f[8], &p, &pl)) return RD_EPROTO;
        if (vars_decode(p, pl, &j->vars, &j->n_vars) < 0) return RD_EPROTO;
    }
    return 0;
}

/* Decodes one msgpack value from buf into u (caller destroys u). */
static bool mp_one(msgpack_unpacked *u, const char *buf, size_t len) {
    size_t off = 0;
    msgpack_unpacked_init(u);
    return msgpack_unpack_next(u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS;
}

/*
 * From a number record {atts, job, ...}: a job of campaign id `cid` (the
 * live one when sel is 0; the (-sel)-th job of the record when sel < 0)
 * and the number's attempts. RD_ENOTFOUND when the record holds no such job.
 */
static int job_from_nrec(rd_store_job_t *j, const redisReply *nrec, int64_t cid, int64_t seq) {
    if (!is_str(nrec)) return RD_EPROTO;
    msgpack_unpacked u;
    int rc = RD_EPROTO;
    if (!mp_one(&u, nrec->str, nrec->len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size < 1)
        goto done;
    const msgpack_object *a = u.data.via.array.ptr;
    rc = RD_ENOTFOUND;
    for (size_t i = 1; i < u.data.via.array.size; i++) {
        const msgpack_object *jo = &a[i];
        int64_t c, st, sq;
        if (jo->type != MSGPACK_OBJECT_ARRAY || jo->via.array.size < 5 ||
            !mp_i64(&jo->via.array.ptr[0], &c) || !mp_i64(&jo->via.array.ptr[1], &st) ||
            !mp_i64(&jo->via.array.ptr[2], &sq) || c != cid ||
            (seq < 0   ? i != (size_t)-seq
             : seq > 0 ? sq != seq
                       : st == 3))
            continue;
        rc = job_obj(jo, j);
        if (rc == 0) rc = atts_obj(&a[0], j);
        j->nrec = nrec->str;
        j->nrec_len = nrec->len;
        j->nrec_owned = false;
        j->cid = cid;
        break;
    }
done:
    msgpack_unpacked_destroy(&u);
    return rc;
}

/* A lease over the job: claimed or placed, token, start, call id, polls.
 * with_attempt: the live attempt counts among the number's attempts. */
static void job_lease(rd_store_job_t *j, uint64_t tok, int64_t start, bool placed,
                      const redisReply *call, int64_t polls, bool with_attempt) {
    j->token = tok;
    j->state = placed ? RD_JOB_PLACED : RD_JOB_CLAIMED;
    j->lease_start_ms = start;
    j->polls = (int)polls;
    j->call_id[0] = 0;
    if (is_str(call)) copy_str(j->call_id, sizeof(j->call_id), call->str, call->len);
    if (with_attempt && j->n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
        j->num_attempts_ms[j->n_num_attempts++] = start;
}

/* campaign and number replies -> *j (zeroed first). */
static int job_names(rd_store_job_t *j, const redisReply *camp, const redisReply *num) {
    memset(j, 0, sizeof(*j));
    if (!is_str(camp) || !is_str(num)) return RD_EPROTO;
    copy_str(j->campaign, sizeof(j->campaign), camp->str, camp->len);
    copy_str(j->to, sizeof(j->to), num->str, num->len);
    return 0;
}

static void job_clear(rd_store_job_t *j) {
    vars_free(j->vars, j->n_vars);
    j->vars = NULL;
    j->n_vars = 0;
}

rd_store_job_t *rd_store_job_dup(const rd_store_job_t *j) {
    rd_store_job_t *c = rd_try_malloc(sizeof(*c));
    if (!c) return NULL;
    *c = *j;
    c->vars = NULL;
    c->nrec = NULL;
    c->nrec_len = 0;
    c->nrec_owned = false;
    if (j->nrec) {
        char *p = rd_try_malloc(j->nrec_len ? j->nrec_len : 1);
        if (p) {
            memcpy(p, j->nrec, j->nrec_len);
            c->nrec = p;
            c->nrec_len = j->nrec_len;
            c->nrec_owned = true;
        }
    }
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
    if (!j) return;
    vars_free(j->vars, j->n_vars);
    if (j->nrec_owned) rd_free((char *)j->nrec);
    rd_free(j);
}

/* ---- batching ------------------------------------------------------------------
 *
 * enqueue, placed, release, settle and lookup are per-item calls, but a script call
 * costs far more than the work of one item, so items issued during one loop
 * iteration are queued per kind and sent as one script call (the scripts take
 * `count` items and answer a fixed number of values per item) when the loop
 * is about to poll (uv_prepare), or as soon as a batch is full. Callbacks
 * still run once per item, in issue order, never from inside the issuing
 * call. A batch is atomic in Redis; items do not depend on each other's
 * success.
 */

typedef struct bq_item bq_item_t;
typedef void (*bq_done_fn)(rd_store_t *s, const bq_item_t *it, int rc, redisReply **vals);

struct bq_item {
    bq_done_fn done;
    void (*cb)(void);
    void *arg;
};

typedef struct bq {
    int script, per_item, nvals, max_items;
    bq_item_t *items;
    size_t n, cap;
    char *buf; /* argument bytes, back to back */
    size_t blen, bcap;
    size_t *off, *len; /* per argument */
    size_t na, acap;
    int64_t now; /* the latest `now` of the queued items */
} bq_t;

static const struct {
    int script, per_item, nvals, max_items;
} BQ_KIND[BQ__COUNT] = {
    [BQ_ENQUEUE] = {SC_ENQUEUE, 7, 2, 200}, [BQ_PLACED] = {SC_PLACED, 4, 1, 500},
    [BQ_RELEASE] = {SC_RELEASE, 3, 1, 500}, [BQ_SETTLE] = {SC_SETTLE, 18, 4, 200},
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

static bq_t *bq_begin(rd_store_t *s, int kind, bq_done_fn done, void (*cb)(void), void *arg,
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

static void bq_bin(bq_t *q, const void *p, size_t len) {
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

static void bq_str(bq_t *q, const char *p) { bq_bin(q, p, strlen(p)); }

static void bq_i64(bq_t *q, int64_t v) {
    char b[24];
    int n = snprintf(b, sizeof(b), "%lld", (long long)v);
    bq_bin(q, b, (size_t)n);
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

static void on_flush(uv_prepare_t *h) {
    rd_store_t *s = h->data;
    uv_prepare_stop(h);
    for (int k = 0; k < BQ__COUNT; k++) bq_flush(s, k);
}

/* After an item's arguments are in: send when full, else at the end of the loop iteration. */
static void bq_commit(rd_store_t *s, int kind) {
    if (s->bq[kind]->n >= (size_t)s->bq[kind]->max_items)
        bq_flush(s, kind);
    else if (!uv_is_active((uv_handle_t *)&s->flush))
        uv_prepare_start(&s->flush, on_flush);
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
    s->open_handles = s->probe ? 3 : 2;
    /* Queued items never left: they fail like everything in flight. */
    for (int k = 0; k < BQ__COUNT; k++) {
        bq_t *q = s->bq[k];
        s->bq[k] = bq_new(k);
        bq_fail_all(s, q, RD_ECLOSED);
        bq_free(q);
    }
    uv_close((uv_handle_t *)&s->flush, on_flush_closed);
    if (s->probe) rd_redis_probe_close(s->probe, on_redis_closed, s);
    rd_redis_close(s->r, on_redis_closed, s);
}

const char *rd_store_prefix(const rd_store_t *s) { return s->prefix; }

bool rd_store_connected(const rd_store_t *s) {
    return rd_redis_connected(s->r) && (!s->probe || rd_redis_probe_up(s->probe));
}

uint64_t rd_store_commands_sent(const rd_store_t *s) { return rd_redis_commands_sent(s->r); }

uint64_t rd_store_settles_prepared(const rd_store_t *s) { return s->settles_prepared; }

/* ---- generic completions ---------------------------------------------------------- */

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

int rd_store_campaign_create(rd_store_t *s, const rd_campaign_t *c, int64_t now_ms, rd_store_cb cb,
                             void *arg) {
    if (!c->name || !c->name[0] || strlen(c->name) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    char *json = rd_campaign_to_json(c);
    if (!json) return RD_ENOMEM;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, c->name);
    arg_cstr(&a, json);
    arg_i64(&a, c->concurrency);
    arg_cstr(&a, c->agent_pool ? c->agent_pool : "");
    arg_i64(&a, c->calls_per_minute);
    arg_i64(&a, now_ms);
    arg_cstr(&a, c->provider ? c->provider : "");
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
    if (!name || strlen(name) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
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
    if (rc == 0 && reply->type != REDIS_REPLY_ARRAY) rc = RD_EPROTO;
    if (rc == 0 && reply->elements) {
        names = rd_calloc(reply->elements, sizeof(char *));
        for (size_t i = 0; i < reply->elements; i++)
            if (is_str(reply->element[i])) names[n++] = reply->element[i]->str;
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
    if (rc < 0) rd_free(o);
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
    int rc =
        rd_redis_script(o->s->r, o->s->sc[SC_CAMPAIGN_STATE], 1, a.n, a.v, a.l, 0, done_state, o);
    if (rc < 0) {
        ((rd_store_cb)o->cb)(o->s, rc, o->arg);
        rd_free(o);
    }
}

int rd_store_campaign_set_state(rd_store_t *s, const char *name, rd_camp_state_t st, int64_t now_ms,
                                rd_store_cb cb, void *arg) {
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

static int vars_encode(const rd_job_var_t *v, size_t n, msgpack_sbuffer *sb) {
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    if (msgpack_pack_map(&pk, n) < 0) return RD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t kl = strlen(v[i].key), vl = strlen(v[i].val);
        if (msgpack_pack_str(&pk, kl) < 0 || msgpack_pack_str_body(&pk, v[i].key, kl) < 0 ||
            msgpack_pack_str(&pk, vl) < 0 || msgpack_pack_str_body(&pk, v[i].val, vl) < 0)
            return RD_ENOMEM;
    }
    return 0;
}

static void enqueue_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    int64_t code = 0;
    char id[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2] = "";
    if (rc == 0) {
        code = rint_(v[0]);
        if (code < RD_ENQ_CREATED || code > RD_ENQ_CONFLICT || !is_str(v[1]))
            rc = RD_EPROTO;
        else
            copy_str(id, sizeof(id), v[1]->str, v[1]->len);
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
    if (e->n_vars && vars_encode(e->vars, e->n_vars, &sb) < 0) {
        msgpack_sbuffer_destroy(&sb);
        return RD_ENOMEM;
    }
    bq_t *q = bq_begin(s, BQ_ENQUEUE, enqueue_done, (void (*)(void))cb, arg, now_ms);
    bq_str(q, e->campaign);
    bq_str(q, e->to);
    bq_str(q, e->id ? e->id : "");
    bq_bin(q, sb.data, sb.size);
    bq_str(q, e->tz ? e->tz : "");
    bq_i64(q, e->not_before_ms);
    bq_i64(q, e->due_ms);
    msgpack_sbuffer_destroy(&sb);
    bq_commit(s, BQ_ENQUEUE);
    return 0;
}

/* ---- claim / placed / release --------------------------------------------------------- */

/*
 * Decodes the per-job groups of a claim (campaign, number, token, cid,
 * record: group 5, lease start = now) or a recover (..., lease start, call
 * id, polls: group 8, placed) from reply->element[first..].
 */
static int decode_jobs(const redisReply *reply, size_t first, size_t group, int64_t now,
                       rd_store_job_t **out, size_t *n_out) {
    *out = NULL;
    *n_out = 0;
    if ((reply->elements - first) % group) return RD_EPROTO;
    size_t n = (reply->elements - first) / group;
    if (!n) return 0;
    rd_store_job_t *jobs = rd_try_malloc(n * sizeof(*jobs));
    if (!jobs) return RD_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        redisReply **e = reply->element + first + group * i;
        int rc = job_names(&jobs[i], e[0], e[1]);
        if (rc == 0 && (e[2]->type != REDIS_REPLY_INTEGER || e[3]->type != REDIS_REPLY_INTEGER))
            rc = RD_EPROTO;
        if (rc == 0) rc = job_from_nrec(&jobs[i], e[4], e[3]->integer, 0);
        if (rc == 0 && group == 8)
            job_lease(&jobs[i], (uint64_t)e[2]->integer, rint_(e[5]), true, e[6], rint_(e[7]),
                      true);
        else if (rc == 0)
            job_lease(&jobs[i], (uint64_t)e[2]->integer, now, false, NULL, 0, false);
        if (rc < 0) {
            job_clear(&jobs[i]);
            for (size_t k = 0; k < i; k++) job_clear(&jobs[k]);
            rd_free(jobs);
            return rc == RD_ENOTFOUND ? RD_EPROTO : rc;
        }
    }
    *out = jobs;
    *n_out = n;
    return 0;
}

static void free_jobs(rd_store_job_t *jobs, size_t n) {
    for (size_t i = 0; i < n; i++) job_clear(&jobs[i]);
    rd_free(jobs);
}

static void done_claim(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_claim_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !is_arr(reply, 6)) rc = RD_EPROTO;
    if (rc == 0) rc = decode_jobs(reply, 6, 5, o->i1, &res.jobs, &res.n);
    if (rc == 0) {
        res.finished = (size_t)rint_(reply->element[1]);
        res.deferred = (size_t)rint_(reply->element[2]);
        res.next_due_ms = rint_(reply->element[3]);
        res.bucket_wait_ms = rint_(reply->element[4]);
        res.pinned_elsewhere = (size_t)rint_(reply->element[5]);
        for (size_t i = 0; i < res.n; i++) res.jobs[i].deadline_ms = o->i1 + o->i2;
        if ((size_t)rint_(reply->element[0]) != res.n) rc = RD_EPROTO;
    }
    ((rd_store_claim_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    free_jobs(res.jobs, res.n);
    rd_free(o);
}

int rd_store_claim(rd_store_t *s, const rd_store_claim_req_t *req, rd_store_claim_cb cb,
                   void *arg) {
    if (req->max_jobs < 1 || req->max_jobs > 1000 || req->lease_ms <= 0) return RD_EINVAL;
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
    arg_cstr(&a, req->provider ? req->provider : "");
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    o->i1 = req->now_ms;
    o->i2 = req->lease_ms;
    return run(s, SC_CLAIM, &a, done_claim, o);
}

static void fenced_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    if (rc == 0 && rint_(v[0]) != 1) rc = RD_ESTALE;
    ((rd_store_cb)it->cb)(s, rc, it->arg);
}

int rd_store_placed(rd_store_t *s, const char *campaign, uint64_t token, const char *call_id,
                    int64_t deadline_ms, rd_store_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !call_id || !call_id[0] ||
        strlen(call_id) > RD_STORE_CALL_ID_MAX || !token || token > INT64_MAX)
        return RD_EINVAL;
    bq_t *q = bq_begin(s, BQ_PLACED, fenced_done, (void (*)(void))cb, arg, 0);
    bq_str(q, campaign);
    bq_i64(q, (int64_t)token);
    bq_str(q, call_id);
    bq_i64(q, deadline_ms);
    bq_commit(s, BQ_PLACED);
    return 0;
}

int rd_store_release(rd_store_t *s, const char *campaign, uint64_t token, int64_t due_ms,
                     int64_t now_ms, rd_store_cb cb, void *arg) {
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !token || token > INT64_MAX)
        return RD_EINVAL;
    bq_t *q = bq_begin(s, BQ_RELEASE, fenced_done, (void (*)(void))cb, arg, now_ms);
    bq_str(q, campaign);
    bq_i64(q, (int64_t)token);
    bq_i64(q, due_ms);
    bq_commit(s, BQ_RELEASE);
    return 0;
}

/* ---- lookup / settle ----------------------------------------------------------------------- */

static void lookup_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **e) {
    rd_store_job_t j;
    bool have = false;
    if (rc == 0) {
        int64_t st = rint_(e[0]);
        if (st == 0) {
            rc = RD_ESTALE;
        } else if (st < 0) {
            rc = RD_ENOTFOUND;
        } else {
            rc = job_names(&j, e[1], e[2]);
            if (rc == 0) rc = job_from_nrec(&j, e[5], rint_(e[3]), rint_(e[4]));
            if (rc == 0) {
                uint64_t tok = (uint64_t)rint_(e[6]);
                if (tok)
                    job_lease(&j, tok, rint_(e[7]), rint_(e[8]) == 1, e[10], rint_(e[9]), true);
                j.deadline_ms = rint_(e[11]);
                j.due_ms = j.state == RD_JOB_PENDING ? rint_(e[12]) : 0;
                have = true;
            } else {
                job_clear(&j);
            }
        }
    }
    ((rd_store_job_cb)it->cb)(s, rc, have ? &j : NULL, it->arg);
    if (have) job_clear(&j);
}

static int lookup(rd_store_t *s, const char *mode, const char *key, rd_store_job_cb cb, void *arg) {
    if (!key || !key[0] || strlen(key) > 512) return RD_EINVAL;
    bq_t *q = bq_begin(s, BQ_LOOKUP, lookup_done, (void (*)(void))cb, arg, 0);
    bq_str(q, mode);
    bq_str(q, key);
    bq_commit(s, BQ_LOOKUP);
    return 0;
}

int rd_store_lookup_attempt(rd_store_t *s, const char *attempt_key, rd_store_job_cb cb, void *arg) {
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

/*
 * Engine-side half of a settle given its job (rd_store_settle_t.job). From
 * the number record the job was read with, builds what settle.lua would
 * write: the record with {start, outcome} appended to the job's history (and
 * st 3, t now, disp when final), the start appended to the number's attempts
 * (pruned like nrec_put: older than 8 days dropped, the newest 128 kept), and
 * the `attempt` (and `final`) event maps. settle.lua stores them only when
 * the record in Redis is still byte-for-byte the one read, and the lease's
 * number, start and call id are those used here; otherwise it does the
 * settle itself. Everything is built from the raw record (not the decoded
 * job, whose arrays are capped). Returns false when the job does not allow
 * it (no record, another token, an unexpected shape): the plain settle.
 */
#define NUM_KEEP_MS (8LL * 86400000)

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool mp_is_default(const msgpack_object *o, bool str, int64_t def) {
    const char *p;
    size_t l;
    int64_t v;
    if (str) return mp_str(o, &p, &l) && l == 0;
    return mp_i64(o, &v) && v == def;
}

static void pk_cstr(msgpack_packer *pk, const char *str) {
    size_t l = strlen(str);
    msgpack_pack_str(pk, l);
    msgpack_pack_str_body(pk, str, l);
}

static void pk_kv_str(msgpack_packer *pk, const char *k, const char *v, size_t vl) {
    pk_cstr(pk, k);
    msgpack_pack_str(pk, vl);
    msgpack_pack_str_body(pk, v, vl);
}

static void pk_kv_i64(msgpack_packer *pk, const char *k, int64_t v) {
    pk_cstr(pk, k);
    msgpack_pack_int64(pk, v);
}

static bool settle_prep(const rd_store_settle_t *st, settle_prep_t *sp) {
    const rd_store_job_t *job = st->job;
    if (!job || !job->nrec || job->token != st->token || strcmp(job->campaign, st->campaign) ||
        (job->state != RD_JOB_CLAIMED && job->state != RD_JOB_PLACED))
        return false;
    const char *call = st->call_id && st->call_id[0] ? st->call_id : job->call_id;
    copy_str(sp->call, sizeof(sp->call), call, strlen(call));
    msgpack_unpacked u;
    bool ok = false;
    int64_t *atts = NULL;
    if (!mp_one(&u, job->nrec, job->nrec_len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size < 2)
        goto done;
    const msgpack_object *a = u.data.via.array.ptr;
    size_t na = u.data.via.array.size, k = 0;
    for (size_t i = 1; i < na && !k; i++) {
        const msgpack_object *jo = &a[i];
        int64_t c, jst;
        if (jo->type == MSGPACK_OBJECT_ARRAY && jo->via.array.size >= 5 &&
            mp_i64(&jo->via.array.ptr[0], &c) && mp_i64(&jo->via.array.ptr[1], &jst) &&
            c == job->cid && jst != 3)
            k = i;
    }
    if (!k) goto done;
    const msgpack_object *f = a[k].via.array.ptr;
    size_t nf = a[k].via.array.size;
    /* Fields beyond the documented 10 would be kept by the script: not ours to drop. */
    if (nf > 10) goto done;
    const msgpack_object *h = &f[4], *ao = &a[0];
    size_t nh = 0, nat = 0;
    if (h->type == MSGPACK_OBJECT_ARRAY)
        nh = h->via.array.size;
    else if (!(h->type == MSGPACK_OBJECT_MAP && h->via.map.size == 0))
        goto done;
    if (ao->type == MSGPACK_OBJECT_ARRAY)
        nat = ao->via.array.size;
    else if (!(ao->type == MSGPACK_OBJECT_MAP && ao->via.map.size == 0))
        goto done;
    if (nh % 2) goto done;
    /* The public id, as pub_id() in lib.lua: the producer's, else
     * "<campaign>/<number>/<seq>" (Lua prints seq with %.14g: exact below 1e14). */
    const char *idp;
    size_t idl;
    int64_t seq;
    char gen[RD_STORE_GEN_ID_MAX + 32];
    if (!mp_str(&f[3], &idp, &idl) || !mp_i64(&f[2], &seq)) goto done;
    if (idl == 0) {
        if (seq < 0 || seq >= 100000000000000LL) goto done;
        idl =
            (size_t)snprintf(gen, sizeof(gen), "%s/%s/%lld", st->campaign, job->to, (long long)seq);
        idp = gen;
    }
    /* The number's attempts: + this start, pruned. */
    atts = rd_try_malloc((nat + 1) * sizeof(*atts));
    if (!atts) goto done;
    int64_t lim = st->now_ms - NUM_KEEP_MS;
    size_t n = 0;
    for (size_t i = 0; i <= nat; i++) {
        int64_t t = job->lease_start_ms;
        if (i < nat && !mp_i64(&ao->via.array.ptr[i], &t)) goto done;
        if (t >= lim) atts[n++] = t;
    }
    size_t first = 0;
    if (n > RD_STORE_MAX_NUM_ATTEMPTS) {
        qsort(atts, n, sizeof(*atts), cmp_i64);
        first = n - RD_STORE_MAX_NUM_ATTEMPTS;
    }
    bool final = st->decision.final;
    int64_t disp = final ? (int64_t)st->decision.disposition : -1;
    sp->attempt = (int)(nh / 2 + 1);

    msgpack_packer pk;
    msgpack_sbuffer_clear(&sp->rec);
    msgpack_packer_init(&pk, &sp->rec, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, na);
    msgpack_pack_array(&pk, n - first);
    for (size_t i = first; i < n; i++) msgpack_pack_int64(&pk, atts[i]);
    for (size_t i = 1; i < na; i++) {
        if (i != k) {
            msgpack_pack_object(&pk, a[i]);
            continue;
        }
        /* Trailing fields holding their default are left out (job_trim). */
        static const bool is_str[10] = {[7] = true, [8] = true};
        static const int64_t def[10] = {[6] = -1};
        size_t last = 5;
        for (size_t x = 10; x > 5; x--) {
            bool dflt;
            if (final && (x == 6 || x == 7))
                dflt = false; /* t = now (> 0), disp >= 0 */
            else
                dflt = x > nf || mp_is_default(&f[x - 1], is_str[x - 1], def[x - 1]);
            if (!dflt) {
                last = x;
                break;
            }
        }
        msgpack_pack_array(&pk, last);
        msgpack_pack_object(&pk, f[0]);
        if (final)
            msgpack_pack_int64(&pk, 3);
        else
            msgpack_pack_object(&pk, f[1]);
        msgpack_pack_object(&pk, f[2]);
        msgpack_pack_object(&pk, f[3]);
        msgpack_pack_array(&pk, nh + 2);
        for (size_t x = 0; x < nh; x++) msgpack_pack_object(&pk, h->via.array.ptr[x]);
        msgpack_pack_int64(&pk, job->lease_start_ms);
        msgpack_pack_int64(&pk, st->outcome);
        for (size_t x = 6; x <= last; x++) {
            if (final && x == 6)
                msgpack_pack_int64(&pk, st->now_ms);
            else if (final && x == 7)
                msgpack_pack_int64(&pk, disp);
            else if (x <= nf)
                msgpack_pack_object(&pk, f[x - 1]);
            else if (is_str[x - 1])
                msgpack_pack_str(&pk, 0);
            else
                msgpack_pack_int64(&pk, def[x - 1]);
        }
    }

    msgpack_sbuffer_clear(&sp->ev);
    msgpack_packer_init(&pk, &sp->ev, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 9);
    pk_kv_str(&pk, "type", "attempt", 7);
    pk_kv_str(&pk, "id", idp, idl);
    pk_kv_str(&pk, "campaign", st->campaign, strlen(st->campaign));
    pk_kv_str(&pk, "to", job->to, strlen(job->to));
    pk_kv_i64(&pk, "attempt", sp->attempt);
    const char *oname = rd_outcome_name(st->outcome);
    pk_kv_str(&pk, "outcome", oname, strlen(oname));
    pk_kv_str(&pk, "call_id", sp->call, strlen(sp->call));
    pk_kv_i64(&pk, "started_ms", job->lease_start_ms);
    pk_kv_i64(&pk, "ended_ms", st->ended_ms);

    msgpack_sbuffer_clear(&sp->fin);
    if (final) {
        msgpack_packer_init(&pk, &sp->fin, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 6);
        pk_kv_str(&pk, "type", "final", 5);
        pk_kv_str(&pk, "id", idp, idl);
        pk_kv_str(&pk, "campaign", st->campaign, strlen(st->campaign));
        pk_kv_str(&pk, "to", job->to, strlen(job->to));
        const char *dname = rd_disposition_name((rd_disposition_t)disp);
        pk_kv_str(&pk, "disposition", dname, strlen(dname));
        pk_kv_i64(&pk, "attempts", sp->attempt);
    }
    ok = true;
done:
    rd_free(atts);
    msgpack_unpacked_destroy(&u);
    return ok;
}

static void settle_done(rd_store_t *s, const bq_item_t *it, int rc, redisReply **v) {
    rd_store_settle_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0) {
        int64_t how = rint_(v[0]);
        if (how != 1 && how != 2) {
            rc = RD_ESTALE;
        } else {
            if (how == 2) s->settles_prepared++;
            res.final = rint_(v[1]) == 1;
            int64_t d = rint_(v[2]);
            res.disposition = RD_DISP_FAILED;
            if (d >= 0 && d < RD_DISP__COUNT) res.disposition = (rd_disposition_t)d;
            res.attempt = (int)rint_(v[3]);
        }
    }
    ((rd_store_settle_cb)it->cb)(s, rc, rc == 0 ? &res : NULL, it->arg);
}

int rd_store_settle(rd_store_t *s, const rd_store_settle_t *st, rd_store_settle_cb cb, void *arg) {
    if (!st->campaign || strlen(st->campaign) > RD_CAMPAIGN_NAME_MAX || !st->token ||
        st->token > INT64_MAX || (int)st->outcome < 0 || st->outcome >= RD_OUT__COUNT ||
        (st->decision.final &&
         ((int)st->decision.disposition < 0 || st->decision.disposition >= RD_DISP__COUNT)) ||
        st->hour_of_week >= 168 || (st->call_id && strlen(st->call_id) > RD_STORE_CALL_ID_MAX))
        return RD_EINVAL;
    bq_t *q = bq_begin(s, BQ_SETTLE, settle_done, (void (*)(void))cb, arg, st->now_ms);
    bq_str(q, st->campaign);
    bq_i64(q, (int64_t)st->token);
    bq_i64(q, st->outcome);
    bq_str(q, st->call_id ? st->call_id : "");
    bq_i64(q, st->ended_ms);
    bq_i64(q, st->decision.final ? 1 : 0);
    bq_i64(q, st->decision.final ? (int64_t)st->decision.disposition : -1);
    bq_i64(q, st->decision.final ? 0 : st->decision.due_ms);
    bq_i64(q, st->hour_of_week < 0 ? -1 : st->hour_of_week);
    bq_i64(q, st->answered ? 1 : 0);
    settle_prep_t *sp = s->prepp;
    if (settle_prep(st, sp)) {
        bq_str(q, st->job->to);
        bq_i64(q, st->job->lease_start_ms);
        bq_str(q, sp->call);
        bq_i64(q, sp->attempt);
        bq_bin(q, st->job->nrec, st->job->nrec_len);
        bq_bin(q, sp->rec.data, sp->rec.size);
        bq_bin(q, sp->ev.data, sp->ev.size);
        bq_bin(q, sp->fin.data, sp->fin.size);
    } else {
        for (int i = 0; i < 8; i++) bq_bin(q, "", 0);
    }
    bq_commit(s, BQ_SETTLE);
    return 0;
}

/* ---- recovery --------------------------------------------------------------------------------- */

static void done_recover(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    op_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    rd_store_recover_res_t res;
    memset(&res, 0, sizeof(res));
    if (rc == 0 && !is_arr(reply, 3)) rc = RD_EPROTO;
    if (rc == 0) rc = decode_jobs(reply, 3, 8, 0, &res.poll, &res.n_poll);
    if (rc == 0) {
        res.requeued = (size_t)rint_(reply->element[0]);
        res.trimmed = (size_t)rint_(reply->element[1]);
        res.next_deadline_ms = rint_(reply->element[2]);
        for (size_t i = 0; i < res.n_poll; i++) res.poll[i].deadline_ms = o->i1 + o->i2;
    }
    ((rd_store_recover_cb)o->cb)(o->s, rc, rc == 0 ? &res : NULL, o->arg);
    free_jobs(res.poll, res.n_poll);
    rd_free(o);
}

int rd_store_recover(rd_store_t *s, int64_t now_ms, int max, int64_t poll_lease_ms,
                     rd_store_recover_cb cb, void *arg) {
    if (max < 1 || max > 1000 || poll_lease_ms <= 0) return RD_EINVAL;
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
    if (!number || !rd_e164_valid(number, strlen(number))) return RD_EINVAL;
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
    if (rc == 0 && reply->type != REDIS_REPLY_INTEGER) rc = RD_EPROTO;
    if (rc == 0)
        o->i1 += reply->integer;
    else if (!o->str[0])
        o->str[0] = (char)-rc; /* first error, kept as a positive byte */
    if (--o->i2 > 0) return;
    int err = o->str[0] ? -(int)(unsigned char)o->str[0] : 0;
    ((rd_store_count_cb)o->cb)(o->s, err, o->i1, o->arg);
    rd_free(o);
}

int rd_store_dnd_add(rd_store_t *s, const char *const *numbers, size_t count, rd_store_count_cb cb,
                     void *arg) {
    for (size_t i = 0; i < count; i++)
        if (!numbers[i] || strlen(numbers[i]) > RD_E164_MAX) return RD_EINVAL;
    enum { CHUNK = 1000 };
    size_t chunks = count ? (count + CHUNK - 1) / CHUNK : 1;
    op_t *o = op_new(s, (void (*)(void))cb, arg);
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
            if (!o->str[0]) o->str[0] = (char)-rc;
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
    op_t *o = op_new(s, (void (*)(void))cb, arg);
    int rc = rd_redis_command(s->r, 6, argv, lens, 0, done_count, o);
    if (rc < 0) rd_free(o);
    return rc;
}

int rd_store_pool_set(rd_store_t *s, const char *pool, int64_t capacity, rd_store_cb cb,
                      void *arg) {
    if (!pool || !pool[0] || strlen(pool) > 64 || capacity < 0) return RD_EINVAL;
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

static void stats_hash(rd_store_stats_t *st, const redisReply *h, bool prior) {
    if (!h || h->type != REDIS_REPLY_ARRAY) return;
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (is_str(h->element[i]))
            stats_field(st, h->element[i]->str, (uint64_t)rint_(h->element[i + 1]), prior);
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
    if (!campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX) return RD_EINVAL;
    args_t a;
    args_init(&a, s);
    arg_cstr(&a, campaign);
    return run(s, SC_STATS, &a, done_stats, op_new(s, (void (*)(void))cb, arg));
}
