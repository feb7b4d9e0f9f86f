/* Unit tests: the enqueue message codec and E.164 (proto/job.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <msgpack.h>
#include <string.h>

#include "proto/job.h"
#include "proto/text.h"
#include "proto/rd.h"

static void t_e164(void **state) {
    (void)state;
    static const char *good[] = {"+919876543210", "+14155550123", "+44207946000", "+12345678",
                                 "+123456789012345"};
    static const char *badn[] = {"919876543210",    "+0919876543", "+1234567", "+1234567890123456",
                                 "+91 98765 43210", "+",           "",         "+9198765432a"};
    for (size_t i = 0; i < RD_ARRAY_LEN(good); i++)
        assert_true(rd_e164_valid(good[i], strlen(good[i])));
    for (size_t i = 0; i < RD_ARRAY_LEN(badn); i++)
        assert_false(rd_e164_valid(badn[i], strlen(badn[i])));
}

static void sample(rd_job_msg_t *m) {
    rd_job_msg_init(m);
    m->v = 1;
    strcpy(m->campaign, "Payment_Reminders");
    strcpy(m->to, "+919876543210");
    strcpy(m->id, "order-42");
    m->not_before_ms = 1795860000000LL;
    strcpy(m->tz, "Asia/Kolkata");
    m->vars = rd_calloc(2, sizeof *m->vars);
    m->vars[0].key = rd_strdup("amount");
    m->vars[0].val = rd_strdup("1200");
    m->vars[1].key = rd_strdup("empty");
    m->vars[1].val = rd_strdup("");
    m->n_vars = 2;
}

static void assert_msg_equal(const rd_job_msg_t *a, const rd_job_msg_t *b) {
    assert_string_equal(a->to, b->to); /* a readable first difference */
    assert_true(rd_job_msg_equal(a, b));
}

static void t_roundtrip(void **state) {
    (void)state;
    rd_job_msg_t m, d;
    char *buf, err[128];
    size_t len;
    sample(&m);
    assert_int_equal(rd_job_msg_encode(&m, &buf, &len), 0);
    assert_int_equal(rd_job_msg_decode(buf, len, &d, err, sizeof err), 0);
    assert_msg_equal(&m, &d);
    rd_job_msg_deinit(&d);
    /* Every strict prefix is refused, never read past. */
    for (size_t n = 0; n < len; n++) {
        char *cut = rd_malloc(n);
        memcpy(cut, buf, n);
        assert_int_equal(rd_job_msg_decode(cut, n, &d, err, sizeof err), RD_EPARSE);
        rd_free(cut);
    }
    rd_free(buf);
    /* Minimal message: optional keys absent. */
    rd_job_msg_deinit(&m);
    rd_job_msg_init(&m);
    m.v = 1;
    strcpy(m.campaign, "c");
    strcpy(m.to, "+14155550123");
    assert_int_equal(rd_job_msg_encode(&m, &buf, &len), 0);
    assert_int_equal(rd_job_msg_decode(buf, len, &d, err, sizeof err), 0);
    assert_msg_equal(&m, &d);
    assert_null(d.vars);
    rd_free(buf);
    rd_job_msg_deinit(&d);
}

static void t_json(void **state) {
    (void)state;
    rd_job_msg_t m, d;
    char err[128];
    const char *j = "{\"v\":1,\"campaign\":\"Payment_Reminders\",\"to\":\"+919876543210\","
                    "\"id\":\"order-42\",\"vars\":{\"amount\":\"1200\",\"empty\":\"\"},"
                    "\"not_before\":1795860000000,\"tz\":\"Asia/Kolkata\"}";
    sample(&m);
    assert_int_equal(rd_job_msg_decode_json(j, strlen(j), &d, err, sizeof err), 0);
    assert_msg_equal(&m, &d);
    rd_job_msg_deinit(&d);
    rd_job_msg_deinit(&m);
}

/* JSON inputs refused, with the key their error must name. */
static const struct {
    const char *json;
    int rc;
    const char *key;
} bad_json[] = {
    {"nope", RD_EPARSE, "message"},
    {"[]", RD_EPARSE, "message"},
    {"{\"campaign\":\"c\",\"to\":\"+14155550123\"}", RD_EINVAL, "v"},
    {"{\"v\":2,\"campaign\":\"c\",\"to\":\"+14155550123\"}", RD_EINVAL, "v"},
    {"{\"v\":1,\"to\":\"+14155550123\"}", RD_EINVAL, "campaign"},
    {"{\"v\":1,\"campaign\":\"a b\",\"to\":\"+14155550123\"}", RD_EINVAL, "campaign"},
    {"{\"v\":1,\"campaign\":\"c\"}", RD_EINVAL, "to"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"14155550123\"}", RD_EINVAL, "to"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":12345678}", RD_EINVAL, "to"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"id\":\"\"}", RD_EINVAL, "id"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"not_before\":-5}", RD_EINVAL,
     "not_before"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"not_before\":1.5}", RD_EINVAL,
     "not_before"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"tz\":\"/etc/passwd\"}", RD_EINVAL,
     "tz"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"vars\":[]}", RD_EINVAL, "vars"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"vars\":{\"a\":1}}", RD_EINVAL,
     "vars[0]"},
    {"{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"extra\":1}", RD_EINVAL, "\"extra\""},
};

static void t_bad_json(void **state) {
    (void)state;
    for (size_t i = 0; i < RD_ARRAY_LEN(bad_json); i++) {
        rd_job_msg_t d;
        char err[128] = "";
        int rc =
            rd_job_msg_decode_json(bad_json[i].json, strlen(bad_json[i].json), &d, err, sizeof err);
        size_t kl = strlen(bad_json[i].key);
        if (rc != bad_json[i].rc || strncmp(err, bad_json[i].key, kl) != 0 || err[kl] != ':')
            fail_msg("bad_json[%zu]: rc %d err '%s'", i, rc, err);
        assert_null(d.vars);
    }
}

/* Hand-built msgpack that the encoder would never produce. */
static void t_bad_msgpack(void **state) {
    (void)state;
    rd_job_msg_t d;
    char err[128];
#define B(s) s, sizeof(s) - 1
    static const struct {
        const char *bytes;
        size_t len;
        int rc;
        const char *key;
    } cases[] = {
        {B("\xdd\xff\xff\xff\xff"), RD_EPARSE, "message"},  /* array of 2^32-1 */
        {B("\xdf\x0f\xff\xff\xff"), RD_EPARSE, "message"},  /* huge map */
        {B("\xdb\xff\xff\xff\xff"), RD_EPARSE, "message"},  /* huge str */
        {B("\xc1"), RD_EPARSE, "message"},                  /* never used byte */
        {B("\x90"), RD_EPARSE, "message"},                  /* array, not map */
        {B("\x80\x00"), RD_EPARSE, "message"},              /* trailing byte */
        {B("\x81\xa1v\x02"), RD_EINVAL, "v"},               /* v = 2 */
        {B("\x82\xa1v\x01\xa1v\x01"), RD_EINVAL, "v"},      /* duplicate key */
        {B("\x81\x01\x01"), RD_EINVAL, "(key)"},            /* int key */
        {B("\x81\xa1v\x01"), RD_EINVAL, "campaign"},        /* missing */
        {B("\x81\xa2to\xc4\x01x"), RD_EINVAL, "to"},        /* bin, not str */
        {B("\x81\xa2tz\xa3\x61\x00\x62"), RD_EINVAL, "tz"}, /* NUL inside */
        {B("\x81\xaanot_before\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), RD_EINVAL, "not_before"},
        {B("\x81\xa4vars\x81\xa1k\xc0"), RD_EINVAL, "vars[0]"},          /* nil value */
        {B("\x81\xa4vars\x82\xa1k\xa0\xa1k\xa0"), RD_EINVAL, "vars[1]"}, /* duplicate */
        /* Not UTF-8 text: refused naming the field. */
        {B("\x81\xa2id\xa2\xff\xfe"), RD_EINVAL, "id"}, /* not UTF-8 */
        {B("\x81\xa8"
           "campaign\xa2.."),
         RD_EINVAL, "campaign"},                            /* a path segment */
        {B("\x81\xa2id\xa3\x61\xc0\xaf"), RD_EINVAL, "id"}, /* overlong '/' */
        {B("\x81\xa8"
           "campaign\xa2\x63\xff"),
         RD_EINVAL, "campaign"},
        {B("\x81\xa2to\xa2+\x80"), RD_EINVAL, "to"},
        {B("\x81\xa4vars\x81\xa1k\xa3\xed\xa0\x80"), RD_EINVAL, "vars.\"k\""}, /* surrogate */
        {B("\x81\xa4vars\x81\xa1k\xa2\xc2\x85"), RD_EINVAL, "vars.\"k\""},     /* C1 NEL */
        {B("\x81\xa4vars\x81\xa1k\xa2\x61\x1b"), RD_EINVAL, "vars.\"k\""},     /* ESC */
        {B("\x81\xa4vars\x81\xa2k\x01\xa0"), RD_EINVAL, "vars[0] key"},
        {B("\x81\xa4vars\x81\xa2k\xf5\xa0"), RD_EINVAL, "vars[0] key"}, /* > U+10FFFF */
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(cases); i++) {
        err[0] = '\0';
        int rc = rd_job_msg_decode(cases[i].bytes, cases[i].len, &d, err, sizeof err);
        size_t kl = strlen(cases[i].key);
        if (rc != cases[i].rc || strncmp(err, cases[i].key, kl) != 0 || err[kl] != ':')
            fail_msg("cases[%zu]: rc %d err '%s'", i, rc, err);
        assert_null(d.vars);
    }
}

/* Text that is fine: multi-byte UTF-8 in an id and in vars survives; JSON escapes of
 * control characters do not. */
static void t_text_fields(void **state) {
    (void)state;
    rd_job_msg_t d;
    char err[160];
    const char *ok =
        "{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"id\":\"fa\\u00e7ade-1\","
        "\"vars\":{\"name\":\"Jos\\u00e9 \\ud83c\\udf89\",\"\\u00fcber\":\"\\u00a0x\"}}";
    assert_int_equal(rd_job_msg_decode_json(ok, strlen(ok), &d, err, sizeof err), 0);
    assert_string_equal(d.id, "fa\xc3\xa7"
                              "ade-1");
    assert_string_equal(d.vars[0].val, "Jos\xc3\xa9 \xf0\x9f\x8e\x89");
    rd_job_msg_deinit(&d);
    const char *bell = "{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\","
                       "\"vars\":{\"a\":\"x\\u0007y\"}}";
    assert_int_equal(rd_job_msg_decode_json(bell, strlen(bell), &d, err, sizeof err), RD_EINVAL);
    assert_non_null(strstr(err, "vars.\"a\": not UTF-8 text"));
    const char *nl = "{\"v\":1,\"campaign\":\"c\",\"to\":\"+14155550123\",\"id\":\"a\\nb\"}";
    assert_int_equal(rd_job_msg_decode_json(nl, strlen(nl), &d, err, sizeof err), RD_EINVAL);
    assert_memory_equal(err, "id:", 3);
    /* The checker itself. */
    size_t at = 99;
    assert_true(rd_text_valid("", 0, NULL));
    assert_true(rd_text_valid("\xf4\x8f\xbf\xbf", 4, NULL)); /* U+10FFFF */
    assert_false(rd_text_valid("ab\xe2\x82", 4, &at));       /* truncated */
    assert_int_equal(at, 2);
    assert_false(rd_text_valid("\x7f", 1, NULL));
    assert_false(rd_text_valid("\xe0\x80\xaf", 3, NULL)); /* overlong */
}

/* Messages produced by a generic msgpack producer (other key order, int widths). */
static void t_foreign_producer(void **state) {
    (void)state;
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    msgpack_pack_str_with_body(&pk, "to", 2);
    msgpack_pack_str_with_body(&pk, "+919876543210", 13);
    msgpack_pack_str_with_body(&pk, "not_before", 10);
    msgpack_pack_uint64(&pk, 1795860000000ULL);
    msgpack_pack_str_with_body(&pk, "campaign", 8);
    msgpack_pack_str_with_body(&pk, "X", 1);
    msgpack_pack_str_with_body(&pk, "v", 1);
    msgpack_pack_uint64(&pk, 1);
    rd_job_msg_t d;
    char err[128];
    assert_int_equal(rd_job_msg_decode(sb.data, sb.size, &d, err, sizeof err), 0);
    assert_int_equal(d.not_before_ms, 1795860000000LL);
    assert_string_equal(d.campaign, "X");
    rd_job_msg_deinit(&d);
    msgpack_sbuffer_destroy(&sb);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_e164),        cmocka_unit_test(t_roundtrip),
        cmocka_unit_test(t_json),        cmocka_unit_test(t_bad_json),
        cmocka_unit_test(t_bad_msgpack), cmocka_unit_test(t_foreign_producer),
        cmocka_unit_test(t_text_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
