/*
 * One data model for C and Lua (proto/model.h), checked through a real
 * redis-server: a number record written from C is read through the Lua
 * definitions (lib.lua with its generated constants, as the store loads
 * it), and one written by Lua through those definitions is read back by C,
 * every job field by name on both sides. The Lua text of each check is
 * generated here from the same X-macros, so a field or value that one side
 * places or numbers differently fails by name. The enums' values and wire
 * names are compared the same way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <msgpack.h>
#include <stdio.h>
#include <string.h>

#include "proto/model.h"
#include "proto/outcome.h"
#include "proto/rd.h"
#include "proto/sbuf.h"
#include "rd_lua.h"
#include "store/store.h"
#include "store/store_int.h"
#include "tests/lib/redis_harness.h"

#define NUM "+919800000001"
#define ATT1 1795860000000LL
#define ATT2 (ATT1 + 60000)
#define HIST_START (ATT1 + 1000)
#define HIST_OUT RD_OUT_BUSY

/* The value each job field carries in both directions: distinct per field,
 * valid where the decoder checks (DISP a disposition, VARS a vars map). */
static int64_t int_value(int x) { return x == RD_JF_DISP ? RD_DISP_OPTED_OUT : 1000 + x * 11; }
static void str_value(int x, char *buf, size_t cap) { snprintf(buf, cap, "s%d", x); }

enum { KIND_INT, KIND_STR, KIND_HIST };
static const struct {
    const char *name;
    int kind;
} FIELD[RD_JF__COUNT] = {
#define X(name, kind, def) [RD_JF_##name] = {#name, KIND_##kind},
    RD_JOB_FIELDS(X)
#undef X
};

/* Runs lib.lua + body with KEYS[1] = P:seq, ARGV[1] = P, ARGV[2] = NUM. */
static redisReply *run_lua(redisContext *c, const char *prefix, const char *body) {
    rd_sbuf_t sb;
    rd_sbuf_init(&sb, 4096);
    rd_sbuf_printf(&sb, "%.*s\n%s", (int)rd_lua_lib_len, rd_lua_lib, body);
    char key[128];
    snprintf(key, sizeof(key), "%s:seq", prefix);
    redisReply *r = redisCommand(c, "EVAL %b 1 %s %s %s", sb.buf, sb.len, key, prefix, NUM);
    rd_free(sb.buf);
    assert_non_null(r);
    if (r->type == REDIS_REPLY_ERROR) fail_msg("lua: %s", r->str);
    return r;
}

static void pack_vars(msgpack_packer *pk) {
    msgpack_pack_map(pk, 1);
    msgpack_pack_str(pk, 1);
    msgpack_pack_str_body(pk, "k", 1);
    msgpack_pack_str(pk, 1);
    msgpack_pack_str_body(pk, "v", 1);
}

/* C -> Lua: C packs {attempts, job} by RD_JF_* positions; Lua returns, for
 * each field in model order, j[J_<NAME>] (HIST: its start and outcome). */
static void t_c_to_lua(void **state) {
    (void)state;
    rd_test_redis_t redis;
    assert_int_equal(rd_test_redis_start(&redis), 0);
    redisContext *c = rd_test_redis_sync(&redis);
    assert_non_null(c);

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_array(&pk, RD_NREC_JOB1 + 1);
    for (int e = 0; e <= RD_NREC_JOB1; e++) {
        if (e == RD_NREC_ATTS) {
            msgpack_pack_array(&pk, 2);
            msgpack_pack_int64(&pk, ATT1);
            msgpack_pack_int64(&pk, ATT2);
            continue;
        }
        msgpack_pack_array(&pk, RD_JF__COUNT);
        for (int x = 0; x < RD_JF__COUNT; x++) {
            char s[16];
            if (x == RD_JF_VARS) {
                msgpack_sbuffer vs;
                msgpack_sbuffer_init(&vs);
                msgpack_packer vp;
                msgpack_packer_init(&vp, &vs, msgpack_sbuffer_write);
                pack_vars(&vp);
                msgpack_pack_str(&pk, vs.size);
                msgpack_pack_str_body(&pk, vs.data, vs.size);
                msgpack_sbuffer_destroy(&vs);
            } else if (FIELD[x].kind == KIND_HIST) {
                msgpack_pack_array(&pk, 2);
                msgpack_pack_int64(&pk, HIST_START);
                msgpack_pack_int64(&pk, HIST_OUT);
            } else if (FIELD[x].kind == KIND_STR) {
                str_value(x, s, sizeof(s));
                msgpack_pack_str(&pk, strlen(s));
                msgpack_pack_str_body(&pk, s, strlen(s));
            } else {
                msgpack_pack_int64(&pk, int_value(x));
            }
        }
    }
    redisReply *r = redisCommand(c, "HSET %s:n %s %b", redis.prefix, NUM, sb.data, sb.size);
    assert_non_null(r);
    freeReplyObject(r);
    msgpack_sbuffer_destroy(&sb);

    rd_sbuf_t lua;
    rd_sbuf_init(&lua, 1024);
    rd_sbuf_printf(&lua, "local nr = nrec_get(ARGV[2])\nlocal j = nr[NR_JOB1]\n"
                         "local vars = cmsgpack.unpack(j[J_VARS])\n"
                         "return {#nr[NR_ATTS], nr[NR_ATTS][1], nr[NR_ATTS][2]");
#define X(name, kind, def)                                              \
    if (RD_JF_##name == RD_JF_HIST)                                     \
        rd_sbuf_printf(&lua, ", j[J_" #name "][1], j[J_" #name "][2]"); \
    else if (RD_JF_##name == RD_JF_VARS)                                \
        rd_sbuf_printf(&lua, ", vars.k");                               \
    else                                                                \
        rd_sbuf_printf(&lua, ", j[J_" #name "]");
    RD_JOB_FIELDS(X)
#undef X
    rd_sbuf_printf(&lua, "}\n");
    r = run_lua(c, redis.prefix, lua.buf);
    rd_free(lua.buf);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 3 + RD_JF__COUNT + 1);
    assert_int_equal(r->element[0]->integer, 2);
    assert_int_equal(r->element[1]->integer, ATT1);
    assert_int_equal(r->element[2]->integer, ATT2);
    size_t e = 3;
    for (int x = 0; x < RD_JF__COUNT; x++) {
        redisReply *v = r->element[e++];
        char s[16];
        if (FIELD[x].kind == KIND_HIST) {
            if (v->integer != HIST_START || r->element[e]->integer != HIST_OUT)
                fail_msg("Lua J_%s: {%lld, %lld}", FIELD[x].name, v->integer,
                         r->element[e]->integer);
            e++;
        } else if (x == RD_JF_VARS) {
            if (v->type != REDIS_REPLY_STRING || strcmp(v->str, "v"))
                fail_msg("Lua J_%s: vars.k is not \"v\"", FIELD[x].name);
        } else if (FIELD[x].kind == KIND_STR) {
            str_value(x, s, sizeof(s));
            if (v->type != REDIS_REPLY_STRING || strcmp(v->str, s))
                fail_msg("Lua J_%s: want \"%s\", got %s", FIELD[x].name, s,
                         v->type == REDIS_REPLY_STRING ? v->str : "(not a string)");
        } else if (v->type != REDIS_REPLY_INTEGER || v->integer != int_value(x)) {
            fail_msg("Lua J_%s: want %lld, got %lld", FIELD[x].name, (long long)int_value(x),
                     v->integer);
        }
    }
    freeReplyObject(r);
    redisFree(c);
    rd_test_redis_stop(&redis);
}

/* Lua -> C: Lua builds the job by J_<NAME> and stores it with nrec_put; C
 * reads the raw record by RD_JF_* and through the store's decoder. */
static void t_lua_to_c(void **state) {
    (void)state;
    rd_test_redis_t redis;
    assert_int_equal(rd_test_redis_start(&redis), 0);
    redisContext *c = rd_test_redis_sync(&redis);
    assert_non_null(c);

    rd_sbuf_t lua;
    rd_sbuf_init(&lua, 1024);
    rd_sbuf_printf(&lua, "local j = {}\n");
#define X(name, kind, def)                                                           \
    if (RD_JF_##name == RD_JF_HIST)                                                  \
        rd_sbuf_printf(&lua, "j[J_" #name "] = {%lld, %d}\n", HIST_START, HIST_OUT); \
    else if (RD_JF_##name == RD_JF_VARS)                                             \
        rd_sbuf_printf(&lua, "j[J_" #name "] = cmsgpack.pack({k = 'v'})\n");         \
    else if (KIND_##kind == KIND_STR)                                                \
        rd_sbuf_printf(&lua, "j[J_" #name "] = 's%d'\n", RD_JF_##name);              \
    else                                                                             \
        rd_sbuf_printf(&lua, "j[J_" #name "] = %lld\n", (long long)int_value(RD_JF_##name));
    RD_JOB_FIELDS(X)
#undef X
    rd_sbuf_printf(&lua,
                   "local nr = {[NR_ATTS] = {%lld, %lld}, [NR_JOB1] = j}\n"
                   "nrec_put(ARGV[2], nr, %lld)\nreturn 1\n",
                   ATT1, ATT2, ATT2);
    redisReply *r = run_lua(c, redis.prefix, lua.buf);
    rd_free(lua.buf);
    freeReplyObject(r);

    r = redisCommand(c, "HGET %s:n %s", redis.prefix, NUM);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    msgpack_unpacked u;
    assert_true(rd_store__mp_one(&u, r->str, r->len));
    assert_int_equal(u.data.type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(u.data.via.array.size, RD_NREC_JOB1 + 1);
    const msgpack_object *atts = &u.data.via.array.ptr[RD_NREC_ATTS];
    assert_int_equal(atts->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(atts->via.array.size, 2);
    int64_t v;
    assert_true(rd_store__mp_i64(&atts->via.array.ptr[0], &v));
    assert_int_equal(v, ATT1);
    const msgpack_object *jo = &u.data.via.array.ptr[RD_NREC_JOB1];
    assert_int_equal(jo->type, MSGPACK_OBJECT_ARRAY);
    assert_int_equal(jo->via.array.size, RD_JF__COUNT);
    for (int x = 0; x < RD_JF__COUNT; x++) {
        const msgpack_object *f = &jo->via.array.ptr[x];
        const char *p;
        size_t l;
        char s[16];
        if (FIELD[x].kind == KIND_HIST) {
            int64_t a = 0, b = 0;
            if (f->type != MSGPACK_OBJECT_ARRAY || f->via.array.size != 2 ||
                !rd_store__mp_i64(&f->via.array.ptr[0], &a) ||
                !rd_store__mp_i64(&f->via.array.ptr[1], &b) || a != HIST_START || b != HIST_OUT)
                fail_msg("C RD_JF_%s: not {%lld, %d}", FIELD[x].name, HIST_START, HIST_OUT);
        } else if (x == RD_JF_VARS) {
            if (!rd_store__mp_str(f, &p, &l) || l != 5 || memcmp(p, "\x81\xa1k\xa1v", 5))
                fail_msg("C RD_JF_%s: not the vars map {k = 'v'}", FIELD[x].name);
        } else if (FIELD[x].kind == KIND_STR) {
            str_value(x, s, sizeof(s));
            if (!rd_store__mp_str(f, &p, &l) || l != strlen(s) || memcmp(p, s, l))
                fail_msg("C RD_JF_%s: want \"%s\"", FIELD[x].name, s);
        } else if (!rd_store__mp_i64(f, &v) || v != int_value(x)) {
            fail_msg("C RD_JF_%s: want %lld, got %lld", FIELD[x].name, (long long)int_value(x),
                     (long long)v);
        }
    }
    msgpack_unpacked_destroy(&u);

    /* The store's decoder reads the same record into rd_store_job_t. */
    rd_store_job_t j;
    memset(&j, 0, sizeof(j));
    strcpy(j.campaign, "C");
    strcpy(j.to, NUM);
    assert_int_equal(rd_store__job_from_nrec(&j, r, int_value(RD_JF_CID), -RD_NREC_JOB1), 0);
    char s[16];
    str_value(RD_JF_ID, s, sizeof(s));
    assert_string_equal(j.id, s);
    str_value(RD_JF_TZ, s, sizeof(s));
    assert_string_equal(j.tz, s);
    assert_int_equal(j.not_before_ms, int_value(RD_JF_NB));
    assert_int_equal(j.disposition, int_value(RD_JF_DISP));
    assert_int_equal(j.n_hist, 1);
    assert_int_equal(j.hist[0].start_ms, HIST_START);
    assert_int_equal(j.hist[0].outcome, HIST_OUT);
    assert_int_equal(j.n_num_attempts, 2);
    assert_int_equal(j.num_attempts_ms[1], ATT2);
    assert_int_equal(j.n_vars, 1);
    assert_string_equal(j.vars[0].key, "k");
    assert_string_equal(j.vars[0].val, "v");
    rd_store__job_clear(&j);
    freeReplyObject(r);
    redisFree(c);
    rd_test_redis_stop(&redis);
}

/* Every enum value and wire name the scripts use is C's. */
static void t_enums(void **state) {
    (void)state;
    rd_test_redis_t redis;
    assert_int_equal(rd_test_redis_start(&redis), 0);
    redisContext *c = rd_test_redis_sync(&redis);
    assert_non_null(c);
    rd_sbuf_t lua;
    rd_sbuf_init(&lua, 1024);
    rd_sbuf_printf(&lua, "return {0");
#define X(name, v, wire, title) rd_sbuf_printf(&lua, ", OUT." #name ", OUT_NAME[%d]", v);
    RD_OUTCOME_MAP(X)
#undef X
#define X(name, v, wire) rd_sbuf_printf(&lua, ", DISP." #name ", DISP_NAME[%d]", v);
    RD_DISPOSITION_MAP(X)
#undef X
#define X(name, v) rd_sbuf_printf(&lua, ", JST." #name);
    RD_JOB_STATE_MAP(X)
#undef X
#define X(name, v) rd_sbuf_printf(&lua, ", CST." #name);
    RD_CAMP_STATE_MAP(X)
#undef X
#define X(name, v) rd_sbuf_printf(&lua, ", ENQ." #name);
    RD_ENQ_RESULT_MAP(X)
#undef X
#define X(name, kind) rd_sbuf_printf(&lua, ", S_" #name);
    RD_SETTLE_FIELDS(X)
#undef X
    rd_sbuf_printf(&lua, ", S_COUNT}\n");
    redisReply *r = run_lua(c, redis.prefix, lua.buf);
    rd_free(lua.buf);
    size_t e = 1;
#define EXPECT_INT(what, want)                                                            \
    do {                                                                                  \
        redisReply *g = r->element[e++];                                                  \
        if (g->type != REDIS_REPLY_INTEGER || g->integer != (want))                       \
            fail_msg("Lua %s: want %lld, got %lld", what, (long long)(want), g->integer); \
    } while (0)
#define EXPECT_STR(what, want)                                     \
    do {                                                           \
        redisReply *g = r->element[e++];                           \
        if (g->type != REDIS_REPLY_STRING || strcmp(g->str, want)) \
            fail_msg("Lua %s: want \"%s\"", what, want);           \
    } while (0)
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
#define X(name, v, wire, title)              \
    EXPECT_INT("OUT." #name, RD_OUT_##name); \
    EXPECT_STR("OUT_NAME." #name, rd_outcome_name(v));
    RD_OUTCOME_MAP(X)
#undef X
#define X(name, v, wire)                       \
    EXPECT_INT("DISP." #name, RD_DISP_##name); \
    EXPECT_STR("DISP_NAME." #name, rd_disposition_name(v));
    RD_DISPOSITION_MAP(X)
#undef X
#define X(name, v) EXPECT_INT("JST." #name, RD_JOB_##name);
    RD_JOB_STATE_MAP(X)
#undef X
#define X(name, v) EXPECT_INT("CST." #name, RD_CAMP_##name);
    RD_CAMP_STATE_MAP(X)
#undef X
#define X(name, v) EXPECT_INT("ENQ." #name, RD_ENQ_##name);
    RD_ENQ_RESULT_MAP(X)
#undef X
#define X(name, kind) EXPECT_INT("S_" #name, RD_SF_##name);
    RD_SETTLE_FIELDS(X)
#undef X
    EXPECT_INT("S_COUNT", RD_SF__COUNT);
    assert_int_equal(e, r->elements);
    freeReplyObject(r);
    redisFree(c);
    rd_test_redis_stop(&redis);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_c_to_lua),
        cmocka_unit_test(t_lua_to_c),
        cmocka_unit_test(t_enums),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
