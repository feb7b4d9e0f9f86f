/*
 * deadletter.c — list, show, replay and purge of the dead-letter stream
 * (contract in deadletter.h).
 *
 * Design. Reads are plain stream commands on the store's own Redis link
 * (XLEN and XREVRANGE pipelined: one round trip); entries are decoded from
 * the reply in place and handed to the callback without copies. Replay is a
 * chain of store requests carried by one heap op: XRANGE the entry, decode
 * its message with the inbox's own decoder, load the campaign
 * (rd_store_campaign_get) and judge the job with rd_enqueue_prepare_msg —
 * the checks of the ingest — then run deadletter_replay.lua, which XADDs
 * the original fields to the inbox and deletes the dead letter atomically.
 * The ingest then takes it like any new entry, so a replayed job goes
 * through exactly one admission path. A dead letter that still fails comes
 * back with the reason and stays.
 *
 * Nothing from Redis is trusted: a reply of an unexpected shape is
 * RD_EPROTO. Ids are checked (digits '-' digits) before they reach Redis,
 * so "-" / "+" / "0" range specials cannot widen a purge.
 */
#include "store/deadletter.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/redis.h"
#include "proto/campaign.h"
#include "proto/rd.h"
#include "rd_lua.h"
#include "store/store_int.h"
#include "store/enqueue.h"
#include "store/view.h"

bool rd_deadletter_id_valid(const char *id) {
    if (!id) return false;
    size_t n = strlen(id), dash = 0, digits = 0;
    if (n == 0 || n >= RD_DEADLETTER_ID_MAX) return false;
    for (size_t i = 0; i < n; i++) {
        if (id[i] == '-') {
            if (dash++ || !digits) return false;
            digits = 0;
        } else if (id[i] >= '0' && id[i] <= '9') {
            digits++;
        } else {
            return false;
        }
    }
    return dash == 1 && digits > 0;
}

/* ---- decoding entries --------------------------------------------------------------- */

static bool field_is(const redisReply *f, const char *name) {
    size_t n = strlen(name);
    return f->len == n && !memcmp(f->str, name, n);
}

/* One [id, [field, value, ...]] element. Returns 0 or RD_EPROTO. */
static int entry_decode(const redisReply *it, rd_deadletter_t *e) {
    memset(e, 0, sizeof *e);
    e->reason = e->entry = "";
    if (!it || it->type != REDIS_REPLY_ARRAY || it->elements != 2 ||
        !rd_store__is_str(it->element[0]) || it->element[0]->len >= sizeof e->id)
        return RD_EPROTO;
    memcpy(e->id, it->element[0]->str, it->element[0]->len);
    e->id[it->element[0]->len] = '\0';
    e->at_ms = strtoll(e->id, NULL, 10);
    const redisReply *f = it->element[1];
    if (!f || f->type != REDIS_REPLY_ARRAY || f->elements % 2) return RD_EPROTO;
    for (size_t i = 0; i + 1 < f->elements; i += 2) {
        const redisReply *k = f->element[i], *v = f->element[i + 1];
        if (!rd_store__is_str(k) || !rd_store__is_str(v)) return RD_EPROTO;
        /* Reply strings are NUL-terminated by hiredis. */
        if (field_is(k, "reason")) {
            e->reason = v->str;
        } else if (field_is(k, "entry")) {
            e->entry = v->str;
        } else if (!e->kind && (field_is(k, "m") || field_is(k, "j"))) {
            e->kind = k->str[0];
            e->body = v->str;
            e->body_len = v->len;
        }
    }
    return 0;
}

typedef struct sop {
    rd_store_t *s;
    rd_deadletter_list_cb list_cb;
    rd_deadletter_replay_cb replay_cb;
    rd_store_count_cb count_cb;
    void *arg;
    int64_t depth, now;
    bool single; /* get: RD_ENOTFOUND when empty */
    int orphan;  /* the range request could not be sent: XLEN's reply finishes, with it */
    char id[RD_DEADLETTER_ID_MAX];
    rd_job_msg_t msg;
    bool have_msg;
} sop_t;

static sop_t *sop_new(rd_store_t *s, void *arg) {
    sop_t *o = rd_calloc(1, sizeof *o);
    o->s = s;
    o->arg = arg;
    return o;
}

static void sop_free(sop_t *o) {
    if (o->have_msg) rd_job_msg_deinit(&o->msg);
    rd_free(o);
}

static void on_len(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    if (rd_redis_reply_status(status, reply) == 0 && reply->type == REDIS_REPLY_INTEGER)
        o->depth = reply->integer;
    if (o->orphan) {
        o->list_cb(o->s, o->orphan, NULL, 0, 0, o->arg);
        sop_free(o);
    }
}

static void on_range(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type != REDIS_REPLY_ARRAY) rc = RD_EPROTO;
    size_t n = rc ? 0 : reply->elements;
    rd_deadletter_t *es = rd_calloc(n ? n : 1, sizeof *es);
    for (size_t i = 0; i < n && !rc; i++) rc = entry_decode(reply->element[i], &es[i]);
    if (!rc && o->single && n == 0) rc = RD_ENOTFOUND;
    o->list_cb(o->s, rc, rc ? NULL : es, rc ? 0 : n, o->depth, o->arg);
    rd_free(es);
    sop_free(o);
}

static int cmd(rd_store_t *s, int argc, const char **argv, rd_redis_cb cb, void *arg) {
    size_t lens[8];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    return rd_redis_command(rd_store_redis(s), argc, argv, lens, 0, cb, arg);
}

static void key(rd_store_t *s, char *buf, size_t len) {
    snprintf(buf, len, "%s:deadletter", rd_store_prefix(s));
}

int rd_deadletter_list(rd_store_t *s, const char *before, size_t count, rd_deadletter_list_cb cb,
                       void *arg) {
    if (count < 1 || count > RD_DEADLETTER_LIST_MAX) return RD_EINVAL;
    if (before && *before && !rd_deadletter_id_valid(before)) return RD_EINVAL;
    char k[160], hi[RD_DEADLETTER_ID_MAX + 2], cnt[24];
    key(s, k, sizeof k);
    if (before && *before)
        snprintf(hi, sizeof hi, "(%s", before);
    else
        snprintf(hi, sizeof hi, "+");
    snprintf(cnt, sizeof cnt, "%zu", count);
    sop_t *o = sop_new(s, arg);
    o->list_cb = cb;
    const char *xl[] = {"XLEN", k};
    int rc = cmd(s, 2, xl, on_len, o);
    if (rc) {
        sop_free(o);
        return rc;
    }
    const char *xr[] = {"XREVRANGE", k, hi, "-", "COUNT", cnt};
    int rc2 = cmd(s, 6, xr, on_range, o);
    if (rc2) o->orphan = rc2; /* answered by on_len */
    return 0;
}

int rd_deadletter_get(rd_store_t *s, const char *id, rd_deadletter_list_cb cb, void *arg) {
    if (!rd_deadletter_id_valid(id)) return RD_EINVAL;
    char k[160];
    key(s, k, sizeof k);
    sop_t *o = sop_new(s, arg);
    o->list_cb = cb;
    o->single = true;
    const char *xl[] = {"XLEN", k};
    int rc = cmd(s, 2, xl, on_len, o);
    if (rc) {
        sop_free(o);
        return rc;
    }
    const char *xr[] = {"XRANGE", k, id, id};
    int rc2 = cmd(s, 4, xr, on_range, o);
    if (rc2) o->orphan = rc2; /* answered by on_len */
    return 0;
}

/* ---- replay ------------------------------------------------------------------------ */

static void replay_done(sop_t *o, int status, const char *inbox_id, const char *refusal) {
    o->replay_cb(o->s, status, inbox_id, refusal, o->arg);
    sop_free(o);
}

static void on_replayed(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (rc) {
        replay_done(o, rc, NULL, NULL);
    } else if (reply->type == REDIS_REPLY_NIL || reply->type == REDIS_REPLY_INTEGER) {
        replay_done(o, RD_ENOTFOUND, NULL, NULL); /* Lua false: purged meanwhile */
    } else if (rd_store__is_str(reply)) {
        replay_done(o, 0, reply->str, NULL);
    } else {
        replay_done(o, RD_EPROTO, NULL, NULL);
    }
}

static void on_campaign(rd_store_t *s, int status, const rd_store_campaign_t *info, void *arg) {
    sop_t *o = arg;
    char err[300] = "";
    if (status == RD_ENOTFOUND) {
        snprintf(err, sizeof err, "campaign: \"%s\" does not exist", o->msg.campaign);
        replay_done(o, RD_EINVAL, NULL, err);
        return;
    }
    if (status) {
        replay_done(o, status, NULL, NULL);
        return;
    }
    if (info->state == RD_CAMP_CANCELED) {
        snprintf(err, sizeof err, "campaign: \"%s\" is canceled", o->msg.campaign);
        replay_done(o, RD_EINVAL, NULL, err);
        return;
    }
    rd_campaign_t c;
    if (rd_campaign_parse(info->json, info->json_len, &c, err, sizeof err)) {
        replay_done(o, RD_EPROTO, NULL, NULL); /* the store holds what it validated */
        return;
    }
    rd_store_enqueue_t e;
    int rc = rd_enqueue_prepare_msg(&c, &o->msg, o->now, &e, err, sizeof err);
    rd_campaign_deinit(&c);
    if (rc) {
        replay_done(o, RD_EINVAL, NULL, err);
        return;
    }
    int h = rd_store_ext_script(s, rd_lua_deadletter_replay, rd_lua_deadletter_replay_len);
    char seq[160];
    snprintf(seq, sizeof seq, "%s:seq", rd_store_prefix(s));
    const char *argv[] = {seq, rd_store_prefix(s), o->id};
    size_t lens[] = {strlen(seq), strlen(argv[1]), strlen(o->id)};
    rc = h < 0 ? h : rd_redis_script(rd_store_redis(s), h, 1, 3, argv, lens, 0, on_replayed, o);
    if (rc) replay_done(o, rc, NULL, NULL);
}

static void on_replay_entry(rd_store_t *s, int status, const rd_deadletter_t *e, size_t n,
                            int64_t depth, void *arg) {
    (void)depth;
    (void)n;
    sop_t *o = arg;
    if (status) {
        replay_done(o, status, NULL, NULL);
        return;
    }
    char err[300];
    if (rd_deadletter_decode(e, &o->msg, err, sizeof err)) {
        replay_done(o, RD_EINVAL, NULL, err);
        return;
    }
    o->have_msg = true;
    int rc = rd_store_campaign_get(s, o->msg.campaign, on_campaign, o);
    if (rc) replay_done(o, rc, NULL, NULL);
}

int rd_deadletter_replay(rd_store_t *s, const char *id, int64_t now_ms, rd_deadletter_replay_cb cb,
                         void *arg) {
    if (!rd_deadletter_id_valid(id)) return RD_EINVAL;
    sop_t *o = sop_new(s, arg);
    o->replay_cb = cb;
    o->now = now_ms;
    snprintf(o->id, sizeof o->id, "%s", id);
    int rc = rd_deadletter_get(s, id, on_replay_entry, o);
    if (rc) sop_free(o);
    return rc;
}

/* ---- purge ---------------------------------------------------------------------------- */

static void on_count(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    sop_t *o = arg;
    int rc = rd_redis_reply_status(status, reply);
    if (!rc && reply->type != REDIS_REPLY_INTEGER) rc = RD_EPROTO;
    o->count_cb(o->s, rc, rc ? 0 : reply->integer, o->arg);
    sop_free(o);
}

int rd_deadletter_purge(rd_store_t *s, const char *const *ids, size_t count, rd_store_count_cb cb,
                        void *arg) {
    if (count < 1 || count > 4000) return RD_EINVAL;
    for (size_t i = 0; i < count; i++)
        if (!rd_deadletter_id_valid(ids[i])) return RD_EINVAL;
    char k[160];
    key(s, k, sizeof k);
    const char **argv = rd_calloc(count + 2, sizeof *argv);
    size_t *lens = rd_calloc(count + 2, sizeof *lens);
    argv[0] = "XDEL";
    argv[1] = k;
    for (size_t i = 0; i < count; i++) argv[i + 2] = ids[i];
    for (size_t i = 0; i < count + 2; i++) lens[i] = strlen(argv[i]);
    sop_t *o = sop_new(s, arg);
    o->count_cb = cb;
    int rc = rd_redis_command(rd_store_redis(s), (int)count + 2, argv, lens, 0, on_count, o);
    rd_free(argv);
    rd_free(lens);
    if (rc) sop_free(o);
    return rc;
}

int rd_deadletter_purge_all(rd_store_t *s, rd_store_count_cb cb, void *arg) {
    char k[160];
    key(s, k, sizeof k);
    sop_t *o = sop_new(s, arg);
    o->count_cb = cb;
    /* XTRIM MAXLEN 0 (exact) deletes every entry and answers how many. */
    const char *argv[] = {"XTRIM", k, "MAXLEN", "0"};
    int rc = cmd(s, 4, argv, on_count, o);
    if (rc) sop_free(o);
    return rc;
}

/* ---- views ------------------------------------------------------------------------------ */

int rd_deadletter_decode(const rd_deadletter_t *e, rd_job_msg_t *out, char *err, size_t errlen) {
    rd_job_msg_init(out);
    int rc;
    if (e->kind == 'm')
        rc = rd_job_msg_decode(e->body, e->body_len, out, err, errlen);
    else if (e->kind == 'j')
        rc = rd_job_msg_decode_json(e->body, e->body_len, out, err, errlen);
    else {
        snprintf(err, errlen, "entry: no field 'm' (msgpack) or 'j' (JSON)");
        rc = RD_EINVAL;
    }
    if (rc) {
        rd_job_msg_deinit(out);
        return RD_EINVAL;
    }
    return 0;
}

/* A printable copy of at most max bytes ('?' for control and non-UTF-8-safe bytes). */
static json_t *printable(const char *p, size_t len, size_t max) {
    size_t n = len < max ? len : max;
    char *b = rd_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        b[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    b[n] = '\0';
    json_t *v = json_string(b);
    rd_free(b);
    return v;
}

json_t *rd_deadletter_to_json(const rd_deadletter_t *e) {
    json_t *o = json_object();
    char t[48];
    rd_view_iso_utc(t, sizeof t, e->at_ms);
    json_object_set_new(o, "id", json_string(e->id));
    json_object_set_new(o, "at", json_string(t));
    json_object_set_new(o, "at_ms", json_integer(e->at_ms));
    json_object_set_new(o, "reason", printable(e->reason, strlen(e->reason), 400));
    json_object_set_new(o, "entry", printable(e->entry, strlen(e->entry), 64));
    json_object_set_new(o, "format",
                        e->kind == 'm'   ? json_string("msgpack")
                        : e->kind == 'j' ? json_string("json")
                                         : json_null());
    rd_job_msg_t m;
    char err[300];
    if (rd_deadletter_decode(e, &m, err, sizeof err) == 0) {
        json_t *msg = json_pack("{s:s,s:s}", "campaign", m.campaign, "to", m.to);
        if (m.id[0]) json_object_set_new(msg, "id", json_string(m.id));
        if (m.tz[0]) json_object_set_new(msg, "tz", json_string(m.tz));
        if (m.not_before_ms)
            json_object_set_new(msg, "not_before_ms", json_integer(m.not_before_ms));
        if (m.n_vars) {
            json_t *v = json_object();
            for (size_t i = 0; i < m.n_vars; i++)
                json_object_set_new(v, m.vars[i].key, json_string(m.vars[i].val));
            json_object_set_new(msg, "vars", v);
        }
        json_object_set_new(o, "message", msg);
        rd_job_msg_deinit(&m);
    } else {
        json_object_set_new(o, "message", json_null());
    }
    if (e->kind == 'j') json_object_set_new(o, "raw", printable(e->body, e->body_len, 2000));
    return o;
}
