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

/* A number's attempt starts (array of ms) -> job->num_attempts_ms. */
static int atts_obj(const msgpack_object *o, rd_store_job_t *j) {
    j->n_num_attempts = 0;
    /* cmsgpack packs an empty Lua table as an empty map. */
    if (o->type == MSGPACK_OBJECT_MAP && o->via.map.size == 0) return 0;
    if (o->type != MSGPACK_OBJECT_ARRAY) return RD_EPROTO;
    for (size_t i = 0; i < o->via.array.size; i++) {
        int64_t t;
        if (!rd_store__mp_i64(&o->via.array.ptr[i], &t)) return RD_EPROTO;
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
    if (!rd_store__mp_i64(&f[1], &st) || !rd_store__mp_i64(&f[2], &seq) ||
        (nf > 6 && !rd_store__mp_i64(&f[6], &disp)) || (nf > 9 && !rd_store__mp_i64(&f[9], &nb)))
        return RD_EPROTO;
    j->state = st == 3 ? RD_JOB_FINAL : RD_JOB_PENDING;
    j->not_before_ms = nb;
    j->disposition = RD_DISP_FAILED;
    if (disp >= 0 && disp < RD_DISP__COUNT) j->disposition = (rd_disposition_t)disp;
    if (!rd_store__mp_str(&f[3], &p, &pl)) return RD_EPROTO;
    if (pl)
        rd_store__copy_str(j->id, sizeof(j->id), p, pl);
    else
        snprintf(j->id, sizeof(j->id), "%s/%s/%lld", j->campaign, j->to, (long long)seq);
    j->n_hist = 0;
    const msgpack_object *h = &f[4];
    bool empty = h->type == MSGPACK_OBJECT_MAP && h->via.map.size == 0;
    if (h->type != MSGPACK_OBJECT_ARRAY && !empty) return RD_EPROTO;
    for (size_t i = 0; !empty && i + 1 < h->via.array.size; i += 2) {
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
    j->attempt = (int)j->n_hist + 1;
    j->tz[0] = 0;
    if (nf > 7) {
        if (!rd_store__mp_str(&f[7], &p, &pl)) return RD_EPROTO;
        rd_store__copy_str(j->tz, sizeof(j->tz), p, pl);
    }
    if (nf > 8) {
        if (!rd_store__mp_str(&f[8], &p, &pl)) return RD_EPROTO;
        if (vars_decode(p, pl, &j->vars, &j->n_vars) < 0) return RD_EPROTO;
    }
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
        u.data.via.array.size < 1)
        goto done;
    const msgpack_object *a = u.data.via.array.ptr;
    rc = RD_ENOTFOUND;
    for (size_t i = 1; i < u.data.via.array.size; i++) {
        const msgpack_object *jo = &a[i];
        int64_t c, st, sq;
        if (jo->type != MSGPACK_OBJECT_ARRAY || jo->via.array.size < 5 ||
            !rd_store__mp_i64(&jo->via.array.ptr[0], &c) ||
            !rd_store__mp_i64(&jo->via.array.ptr[1], &st) ||
            !rd_store__mp_i64(&jo->via.array.ptr[2], &sq) || c != cid ||
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
    if (str) return rd_store__mp_str(o, &p, &l) && l == 0;
    return rd_store__mp_i64(o, &v) && v == def;
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

bool rd_store__settle_prep(const rd_store_settle_t *st, settle_prep_t *sp) {
    const rd_store_job_t *job = st->job;
    if (!job || !job->nrec || job->token != st->token || strcmp(job->campaign, st->campaign) ||
        (job->state != RD_JOB_CLAIMED && job->state != RD_JOB_PLACED))
        return false;
    const char *call = st->call_id && st->call_id[0] ? st->call_id : job->call_id;
    rd_store__copy_str(sp->call, sizeof(sp->call), call, strlen(call));
    msgpack_unpacked u;
    bool ok = false;
    int64_t *atts = NULL;
    if (!rd_store__mp_one(&u, job->nrec, job->nrec_len) || u.data.type != MSGPACK_OBJECT_ARRAY ||
        u.data.via.array.size < 2)
        goto done;
    const msgpack_object *a = u.data.via.array.ptr;
    size_t na = u.data.via.array.size, k = 0;
    for (size_t i = 1; i < na && !k; i++) {
        const msgpack_object *jo = &a[i];
        int64_t c, jst;
        if (jo->type == MSGPACK_OBJECT_ARRAY && jo->via.array.size >= 5 &&
            rd_store__mp_i64(&jo->via.array.ptr[0], &c) &&
            rd_store__mp_i64(&jo->via.array.ptr[1], &jst) && c == job->cid && jst != 3)
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
    if (!rd_store__mp_str(&f[3], &idp, &idl) || !rd_store__mp_i64(&f[2], &seq)) goto done;
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
        if (i < nat && !rd_store__mp_i64(&ao->via.array.ptr[i], &t)) goto done;
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
