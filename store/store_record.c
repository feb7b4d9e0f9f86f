/*
 * store_record.c — the number record's codec (docs/REDIS.md): jobs as
 * stored in Redis (msgpack, written by the Lua scripts) <-> rd_store_job_t,
 * and the engine-side half of a settle.
 *
 * Job records come back as the msgpack arrays stored in Redis and are decoded
 * with msgpack-c (one msgpack_unpacked per record, released before the
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
 * Threads: rd_store_job_dup/free any thread; the rest the store's loop thread.
 */
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"
#include "store/store_int.h"
#include "proto/callback.h"

/* ---- msgpack decoding --------------------------------------------------------- */

bool rd_store__mp_i64(const msgpack_object *o, int64_t *out) {
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

bool rd_store__mp_str(const msgpack_object *o, const char **p, size_t *len) {
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

void rd_store__vars_free(rd_job_var_t *v, size_t n) {
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
        if (!rd_store__mp_str(&u.data.via.map.ptr[i].key, &k, &kl) ||
            !rd_store__mp_str(&u.data.via.map.ptr[i].val, &val, &vl)) {
            rd_store__vars_free(v, i);
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

/* ---- the job fields of proto/model.h ------------------------------------------- */

enum { KIND_INT, KIND_STR, KIND_HIST };

static const struct {
    int kind;
    int64_t def;
} JF[RD_JF__COUNT] = {
#define X(name, kind, def) [RD_JF_##name] = {KIND_##kind, def},
    RD_JOB_FIELDS(X)
#undef X
};

/* Field x of the job array f (nf fields) as an integer: its default when
 * left out (trailing default), false when of another type. */
static bool jf_i64(const msgpack_object *f, size_t nf, int x, int64_t *out) {
    if ((size_t)x >= nf) {
        *out = JF[x].def;
        return true;
    }
    return rd_store__mp_i64(&f[x], out);
}

/* Field x as a string ("" when left out). */
static bool jf_str(const msgpack_object *f, size_t nf, int x, const char **p, size_t *len) {
    if ((size_t)x >= nf) {
        *p = "";
        *len = 0;
        return true;
    }
    return rd_store__mp_str(&f[x], p, len);
}

/* Field x holds its default (so it may be left out when trailing). */
static bool jf_is_default(const msgpack_object *f, size_t nf, int x) {
    const char *p;
    size_t l;
    int64_t v;
    if ((size_t)x >= nf) return true;
    if (JF[x].kind == KIND_STR) return rd_store__mp_str(&f[x], &p, &l) && l == 0;
    if (JF[x].kind == KIND_HIST) return false;
    return rd_store__mp_i64(&f[x], &v) && v == JF[x].def;
}

/* An array value, or cmsgpack's empty table (packed as an empty map): *n
 * elements. False for anything else. */
static bool mp_list(const msgpack_object *o, size_t *n) {
    if (o->type == MSGPACK_OBJECT_ARRAY) {
        *n = o->via.array.size;
        return true;
    }
    *n = 0;
    return o->type == MSGPACK_OBJECT_MAP && o->via.map.size == 0;
}

/* A number's attempt starts (array of ms) -> job->num_attempts_ms. */
static int atts_obj(const msgpack_object *o, rd_store_job_t *j) {
    size_t n;
    j->n_num_attempts = 0;
    if (!mp_list(o, &n)) return RD_EPROTO;
    for (size_t i = 0; i < n; i++) {
        int64_t t;
        if (!rd_store__mp_i64(&o->via.array.ptr[i], &t)) return RD_EPROTO;
        if (j->n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
            j->num_attempts_ms[j->n_num_attempts++] = t;
    }
    return 0;
}

/* The finished attempts {start, outcome, ...} of field HIST -> j->hist. */
static int hist_obj(const msgpack_object *h, rd_store_job_t *j) {
    size_t n;
    j->n_hist = 0;
    if (!mp_list(h, &n)) return RD_EPROTO;
    for (size_t i = 0; i + 1 < n; i += 2) {
        int64_t ts, oc;
        if (!rd_store__mp_i64(&h->via.array.ptr[i], &ts) ||
            !rd_store__mp_i64(&h->via.array.ptr[i + 1], &oc) || oc < 0 || oc >= RD_OUT__COUNT)
            return RD_EPROTO;
        if (j->n_hist < RD_STORE_MAX_HIST) {
            j->hist[j->n_hist].start_ms = ts;
            j->hist[j->n_hist].outcome = (rd_outcome_t)oc;
            j->n_hist++;
        }
    }
    return 0;
}

/*
 * One job of a number record (the fields RD_JOB_FIELDS of proto/model.h;
 * trailing fields may be absent = defaults) -> *j. campaign and to must
 * already be set. The state is PENDING or FINAL: a lease on the job is
 * applied by the caller.
 */
static int job_obj(const msgpack_object *o, rd_store_job_t *j) {
    if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < RD_JOB_FIELDS_REQUIRED)
        return RD_EPROTO;
    const msgpack_object *f = o->via.array.ptr;
    size_t nf = o->via.array.size, idl, tzl, vl;
    int64_t st, seq, disp, nb;
    const char *id, *tz, *vars;
    if (!jf_i64(f, nf, RD_JF_ST, &st) || !jf_i64(f, nf, RD_JF_SEQ, &seq) ||
        !jf_i64(f, nf, RD_JF_DISP, &disp) || !jf_i64(f, nf, RD_JF_NB, &nb) ||
        !jf_str(f, nf, RD_JF_ID, &id, &idl) || !jf_str(f, nf, RD_JF_TZ, &tz, &tzl) ||
        !jf_str(f, nf, RD_JF_VARS, &vars, &vl) || hist_obj(&f[RD_JF_HIST], j) < 0)
        return RD_EPROTO;
    j->state = st == RD_JOB_FINAL ? RD_JOB_FINAL : RD_JOB_PENDING;
    j->not_before_ms = nb;
    j->disposition = RD_DISP_FAILED;
    if (disp >= 0 && disp < RD_DISP__COUNT) j->disposition = (rd_disposition_t)disp;
    if (idl)
        rd_store__copy_str(j->id, sizeof(j->id), id, idl);
    else
        snprintf(j->id, sizeof(j->id), "%s/%s/%lld", j->campaign, j->to, (long long)seq);
    j->attempt = (int)j->n_hist + 1;
    rd_store__copy_str(j->tz, sizeof(j->tz), tz, tzl);
    if (vars_decode(vars, vl, &j->vars, &j->n_vars) < 0) return RD_EPROTO;
    return 0;
}

/* Decodes one msgpack value from buf into u (caller destroys u). */
bool rd_store__mp_one(msgpack_unpacked *u, const char *buf, size_t len) {
    size_t off = 0;
    msgpack_unpacked_init(u);
    return msgpack_unpack_next(u, buf, len, &off) == MSGPACK_UNPACK_SUCCESS;
}

/*
 * From a number record {atts, job, ...}: a job of campaign id `cid` (the
 * live one when sel is 0; the (-sel)-th job of the record when sel < 0)
 * and the number's attempts. RD_ENOTFOUND when the record holds no such job.
 */
int rd_store__job_from_nrec(rd_store_job_t *j, const redisReply *nrec, int64_t cid, int64_t seq) {
    if (!rd_store__is_str(nrec)) return RD_EPROTO;
    msgpack_unpacked u;
    int rc = RD_EPROTO;
    if (!rd_store__mp_one(&u, nrec->str, nrec->len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size <= RD_NREC_ATTS)
        goto done;
    const msgpack_object *a = u.data.via.array.ptr;
    rc = RD_ENOTFOUND;
    for (size_t i = RD_NREC_JOB1; i < u.data.via.array.size; i++) {
        const msgpack_object *jo = &a[i];
        int64_t c, st, sq;
        if (jo->type != MSGPACK_OBJECT_ARRAY || jo->via.array.size < RD_JOB_FIELDS_REQUIRED)
            continue;
        const msgpack_object *f = jo->via.array.ptr;
        if (!rd_store__mp_i64(&f[RD_JF_CID], &c) || !rd_store__mp_i64(&f[RD_JF_ST], &st) ||
            !rd_store__mp_i64(&f[RD_JF_SEQ], &sq) || c != cid ||
            (seq < 0   ? i != (size_t)-seq
             : seq > 0 ? sq != seq
                       : st == RD_JOB_FINAL))
            continue;
        rc = job_obj(jo, j);
        if (rc == 0) rc = atts_obj(&a[RD_NREC_ATTS], j);
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
void rd_store__job_lease(rd_store_job_t *j, uint64_t tok, int64_t start, bool placed,
                         const redisReply *call, int64_t polls, bool with_attempt) {
    j->token = tok;
    j->state = placed ? RD_JOB_PLACED : RD_JOB_CLAIMED;
    j->lease_start_ms = start;
    j->polls = (int)polls;
    j->call_id[0] = 0;
    if (rd_store__is_str(call))
        rd_store__copy_str(j->call_id, sizeof(j->call_id), call->str, call->len);
    if (with_attempt && j->n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
        j->num_attempts_ms[j->n_num_attempts++] = start;
}

/* campaign and number replies -> *j (zeroed first). */
int rd_store__job_names(rd_store_job_t *j, const redisReply *camp, const redisReply *num) {
    memset(j, 0, sizeof(*j));
    if (!rd_store__is_str(camp) || !rd_store__is_str(num)) return RD_EPROTO;
    rd_store__copy_str(j->campaign, sizeof(j->campaign), camp->str, camp->len);
    rd_store__copy_str(j->to, sizeof(j->to), num->str, num->len);
    return 0;
}

void rd_store__job_clear(rd_store_job_t *j) {
    rd_store__vars_free(j->vars, j->n_vars);
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
    rd_store__vars_free(j->vars, j->n_vars);
    if (j->nrec_owned) rd_free((char *)j->nrec);
    rd_free(j);
}
int rd_store__vars_encode(const rd_job_var_t *v, size_t n, msgpack_sbuffer *sb) {
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
/* ---- claim / placed / release --------------------------------------------------------- */

/*
 * Decodes the per-job groups of a claim (campaign, number, token, cid,
 * record: group 5, lease start = now) or a recover (..., lease start, call
 * id, polls: group 8, placed) from reply->element[first..].
 */
int rd_store__decode_jobs(const redisReply *reply, size_t first, size_t group, int64_t now,
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
        int rc = rd_store__job_names(&jobs[i], e[0], e[1]);
        if (rc == 0 && (e[2]->type != REDIS_REPLY_INTEGER || e[3]->type != REDIS_REPLY_INTEGER))
            rc = RD_EPROTO;
        if (rc == 0) rc = rd_store__job_from_nrec(&jobs[i], e[4], e[3]->integer, 0);
        if (rc == 0 && group == 8)
            rd_store__job_lease(&jobs[i], (uint64_t)e[2]->integer, rd_store__rint_(e[5]), true,
                                e[6], rd_store__rint_(e[7]), true);
        else if (rc == 0)
            rd_store__job_lease(&jobs[i], (uint64_t)e[2]->integer, now, false, NULL, 0, false);
        if (rc < 0) {
            rd_store__job_clear(&jobs[i]);
            for (size_t k = 0; k < i; k++) rd_store__job_clear(&jobs[k]);
            rd_free(jobs);
            return rc == RD_ENOTFOUND ? RD_EPROTO : rc;
        }
    }
    *out = jobs;
    *n_out = n;
    return 0;
}

void rd_store__free_jobs(rd_store_job_t *jobs, size_t n) {
    for (size_t i = 0; i < n; i++) rd_store__job_clear(&jobs[i]);
    rd_free(jobs);
}

/*
 * Engine-side half of a settle given its job (rd_store_settle_t.job). From
 * the number record the job was read with, builds what settle.lua would
 * write: the record with {start, outcome} appended to the job's history (and
 * ST final, T now, DISP when final), the start appended to the number's
 * attempts (pruned like nrec_put: older than RD_NREC_KEEP_MS dropped, the
 * newest RD_NREC_KEEP_MAX kept), and the `attempt` (and `final`) event
 * maps. settle.lua stores them only when the record in Redis is still
 * byte-for-byte the one read, and the lease's number, start and call id are
 * those used here; otherwise it does the settle itself. Everything is built
 * from the raw record (not the decoded job, whose arrays are capped).
 * Returns false when the job does not allow it (no record, another token,
 * an unexpected shape): the plain settle.
 */
static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
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

/* What settle_prep works from: the decoded record and the settled job in it. */
typedef struct prep {
    const rd_store_settle_t *st;
    const rd_store_job_t *job;
    const msgpack_object *rec; /* the record's elements */
    size_t nrec, k;            /* elements; position of the live job */
    const msgpack_object *f;   /* the job's fields */
    size_t nf, nh, nat;        /* fields, history values, attempts */
    const char *id;            /* public id */
    size_t idl;
    char gen[RD_STORE_GEN_ID_MAX + 32];
    int64_t *atts; /* the pruned attempts, owned */
    size_t first, n_atts;
} prep_t;

/* Finds the job's live entry and checks the record's shape. */
static bool prep_find(prep_t *p, const msgpack_object *top) {
    if (top->type != MSGPACK_OBJECT_ARRAY || top->via.array.size <= RD_NREC_JOB1) return false;
    p->rec = top->via.array.ptr;
    p->nrec = top->via.array.size;
    for (size_t i = RD_NREC_JOB1; i < p->nrec && !p->k; i++) {
        const msgpack_object *jo = &p->rec[i];
        int64_t c, jst;
        if (jo->type == MSGPACK_OBJECT_ARRAY && jo->via.array.size >= RD_JOB_FIELDS_REQUIRED &&
            rd_store__mp_i64(&jo->via.array.ptr[RD_JF_CID], &c) &&
            rd_store__mp_i64(&jo->via.array.ptr[RD_JF_ST], &jst) && c == p->job->cid &&
            jst != RD_JOB_FINAL)
            p->k = i;
    }
    if (!p->k) return false;
    p->f = p->rec[p->k].via.array.ptr;
    p->nf = p->rec[p->k].via.array.size;
    /* Fields beyond the model would be kept by the script: not ours to drop. */
    if (p->nf > RD_JF__COUNT) return false;
    if (!mp_list(&p->f[RD_JF_HIST], &p->nh) || !mp_list(&p->rec[RD_NREC_ATTS], &p->nat) ||
        p->nh % 2)
        return false;
    /* The public id, as pub_id() in lib.lua: the producer's, else
     * "<campaign>/<number>/<seq>" (Lua prints seq with %.14g: exact below 1e14). */
    int64_t seq;
    if (!rd_store__mp_str(&p->f[RD_JF_ID], &p->id, &p->idl) ||
        !rd_store__mp_i64(&p->f[RD_JF_SEQ], &seq))
        return false;
    if (p->idl == 0) {
        if (seq < 0 || seq >= 100000000000000LL) return false;
        p->idl = (size_t)snprintf(p->gen, sizeof(p->gen), "%s/%s/%lld", p->st->campaign, p->job->to,
                                  (long long)seq);
        p->id = p->gen;
    }
    return true;
}

/* The number's attempts + this start, pruned (nrec_put in lib.lua). */
static bool prep_atts(prep_t *p) {
    p->atts = rd_try_malloc((p->nat + 1) * sizeof(*p->atts));
    if (!p->atts) return false;
    int64_t lim = p->st->now_ms - RD_NREC_KEEP_MS;
    const msgpack_object *ao = &p->rec[RD_NREC_ATTS];
    size_t n = 0;
    for (size_t i = 0; i <= p->nat; i++) {
        int64_t t = p->job->lease_start_ms;
        if (i < p->nat && !rd_store__mp_i64(&ao->via.array.ptr[i], &t)) return false;
        if (t >= lim) p->atts[n++] = t;
    }
    p->first = 0;
    if (n > RD_NREC_KEEP_MAX) {
        qsort(p->atts, n, sizeof(*p->atts), cmp_i64);
        p->first = n - RD_NREC_KEEP_MAX;
    }
    p->n_atts = n;
    return true;
}

/* The settled job's new value of field x (or its old one). */
static void prep_field(const prep_t *p, msgpack_packer *pk, int x) {
    const rd_store_settle_t *st = p->st;
    bool final = st->decision.final;
    if (x == RD_JF_ST && final) {
        msgpack_pack_int64(pk, RD_JOB_FINAL);
    } else if (x == RD_JF_HIST) {
        msgpack_pack_array(pk, p->nh + 2);
        for (size_t i = 0; i < p->nh; i++) msgpack_pack_object(pk, p->f[x].via.array.ptr[i]);
        msgpack_pack_int64(pk, p->job->lease_start_ms);
        msgpack_pack_int64(pk, st->outcome);
    } else if (x == RD_JF_T && final) {
        msgpack_pack_int64(pk, st->now_ms);
    } else if (x == RD_JF_DISP && final) {
        msgpack_pack_int64(pk, (int64_t)st->decision.disposition);
    } else if ((size_t)x < p->nf) {
        msgpack_pack_object(pk, p->f[x]);
    } else if (JF[x].kind == KIND_STR) {
        msgpack_pack_str(pk, 0);
    } else {
        msgpack_pack_int64(pk, JF[x].def);
    }
}

/* The record to write: trailing fields holding their default are left out (job_trim). */
static void prep_record(const prep_t *p, msgpack_sbuffer *sb) {
    msgpack_packer pk;
    bool final = p->st->decision.final;
    msgpack_sbuffer_clear(sb);
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, p->nrec);
    msgpack_pack_array(&pk, p->n_atts - p->first);
    for (size_t i = p->first; i < p->n_atts; i++) msgpack_pack_int64(&pk, p->atts[i]);
    for (size_t i = RD_NREC_JOB1; i < p->nrec; i++) {
        if (i != p->k) {
            msgpack_pack_object(&pk, p->rec[i]);
            continue;
        }
        size_t last = RD_JOB_FIELDS_REQUIRED;
        for (size_t x = RD_JF__COUNT; x > RD_JOB_FIELDS_REQUIRED; x--) {
            /* final: T = now (> 0) and DISP >= 0 are never defaults */
            bool set = final && (x - 1 == RD_JF_T || x - 1 == RD_JF_DISP);
            if (set || !jf_is_default(p->f, p->nf, (int)x - 1)) {
                last = x;
                break;
            }
        }
        msgpack_pack_array(&pk, last);
        for (size_t x = 0; x < last; x++) prep_field(p, &pk, (int)x);
    }
}

/* The `attempt` event and, when final, the `final` event. */
static void prep_events(const prep_t *p, settle_prep_t *sp) {
    const rd_store_settle_t *st = p->st;
    const char *to = p->job->to;
    msgpack_packer pk;
    msgpack_sbuffer_clear(&sp->ev);
    msgpack_packer_init(&pk, &sp->ev, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 10);
    pk_kv_str(&pk, "type", "attempt", 7);
    pk_kv_str(&pk, "id", p->id, p->idl);
    pk_kv_str(&pk, "campaign", st->campaign, strlen(st->campaign));
    pk_kv_str(&pk, "to", to, strlen(to));
    pk_kv_i64(&pk, "attempt", sp->attempt);
    const char *oname = rd_outcome_name(st->outcome);
    pk_kv_str(&pk, "outcome", oname, strlen(oname));
    pk_kv_str(&pk, "call_id", sp->call, strlen(sp->call));
    pk_kv_i64(&pk, "started_ms", p->job->lease_start_ms);
    pk_kv_i64(&pk, "ended_ms", st->ended_ms);
    const char *ab = rd_answered_by_name(st->answered_by);
    pk_kv_str(&pk, "answered_by", ab, strlen(ab));
    msgpack_sbuffer_clear(&sp->fin);
    if (!st->decision.final) return;
    msgpack_packer_init(&pk, &sp->fin, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 6);
    pk_kv_str(&pk, "type", "final", 5);
    pk_kv_str(&pk, "id", p->id, p->idl);
    pk_kv_str(&pk, "campaign", st->campaign, strlen(st->campaign));
    pk_kv_str(&pk, "to", to, strlen(to));
    const char *dname = rd_disposition_name(st->decision.disposition);
    pk_kv_str(&pk, "disposition", dname, strlen(dname));
    pk_kv_i64(&pk, "attempts", sp->attempt);
}

bool rd_store__settle_prep(const rd_store_settle_t *st, settle_prep_t *sp) {
    const rd_store_job_t *job = st->job;
    if (!job || !job->nrec || job->token != st->token || strcmp(job->campaign, st->campaign) ||
        (job->state != RD_JOB_CLAIMED && job->state != RD_JOB_PLACED))
        return false;
    const char *call = st->call_id && st->call_id[0] ? st->call_id : job->call_id;
    rd_store__copy_str(sp->call, sizeof(sp->call), call, strlen(call));
    prep_t p = {.st = st, .job = job};
    msgpack_unpacked u;
    bool ok =
        rd_store__mp_one(&u, job->nrec, job->nrec_len) && prep_find(&p, &u.data) && prep_atts(&p);
    if (ok) {
        sp->attempt = (int)(p.nh / 2 + 1);
        prep_record(&p, &sp->rec);
        prep_events(&p, sp);
    }
    rd_free(p.atts);
    msgpack_unpacked_destroy(&u);
    return ok;
}
