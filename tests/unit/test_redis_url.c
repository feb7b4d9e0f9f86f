/*
 * Unit tests of the Redis URL handling in common/redis.h: the parser and the
 * one redaction agree on where credentials end (the LAST '@'), unix:// URLs,
 * and no secret survives redaction, whatever the string.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/redis.h"
#include "proto/rd.h"

static void t_parse(void **state) {
    (void)state;
    rd_redis_addr_t a;
    assert_int_equal(rd_redis_parse_url("redis://:p@ss/w0rd@10.0.0.1:6380/3", &a), 0);
    assert_string_equal(a.password, "p@ss/w0rd");
    assert_string_equal(a.host, "10.0.0.1");
    assert_int_equal(a.port, 6380);
    assert_int_equal(a.db, 3);
    assert_int_equal(rd_redis_parse_url("redis://alice:s3cret@h/0", &a), 0);
    assert_string_equal(a.user, "alice");
    assert_string_equal(a.password, "s3cret");
    assert_int_equal(rd_redis_parse_url("unix:///run/redis/redis.sock", &a), 0);
    assert_string_equal(a.path, "/run/redis/redis.sock");
    assert_string_equal(a.host, "");
    assert_int_equal(a.db, 0);
    assert_int_equal(rd_redis_parse_url("unix://:pw@x@/tmp/r.sock?db=2", &a), 0);
    assert_string_equal(a.password, "pw@x");
    assert_string_equal(a.path, "/tmp/r.sock");
    assert_int_equal(a.db, 2);
    assert_int_equal(rd_redis_parse_url("unix://relative.sock", &a), RD_EINVAL);
    assert_int_equal(rd_redis_parse_url("unix:///tmp/r.sock?db=x", &a), RD_EINVAL);
    assert_int_equal(rd_redis_parse_url("rediss://h:6380", &a), RD_EINVAL); /* no TLS */
    assert_int_equal(rd_redis_parse_url("redis://h/1x", &a), RD_EINVAL);
    char w[128];
    rd_redis_parse_url("unix:///tmp/r.sock?db=2", &a);
    rd_redis_addr_where(&a, w, sizeof w);
    assert_string_equal(w, "unix:/tmp/r.sock?db=2");
}

static void t_redact(void **state) {
    (void)state;
    char out[256];
    rd_redis_url_redact("redis://:p@ss@10.0.0.1:6380/3", out, sizeof out);
    assert_string_equal(out, "redis://***@10.0.0.1:6380/3");
    rd_redis_url_redact("redis://10.0.0.1:6380/3", out, sizeof out);
    assert_string_equal(out, "redis://10.0.0.1:6380/3");
    rd_redis_url_redact("unix://:pw@/tmp/r.sock", out, sizeof out);
    assert_string_equal(out, "unix://***@/tmp/r.sock");
    rd_redis_url_redact(NULL, out, sizeof out);
    assert_string_equal(out, "");
    /* Strings that do not parse are still printed without their secret. */
#define S "Zq9SECRETzq9"
    const char *forms[] = {
        "redis://:" S "@h:1/0", "redis://u:" S "@h",
        ":" S "@h:6379",        "redis://:" S "@@h/0",
        "redis://:a@" S "@h/0", "rediss://:" S "@h:6380",
        ":x://" S "@h",         "redis://:" S "://x@h/0",
        "bogus:" S "@",         "redis://:" S "@h:99999/0",
        "redis://:" S "@/0",    "unix://:" S "@relative",
    };
#undef S
    for (size_t i = 0; i < RD_ARRAY_LEN(forms); i++) {
        const char *url = forms[i];
        rd_redis_url_redact(url, out, sizeof out);
        if (strstr(out, "SECRET")) fail_msg("redaction of %s leaked: %s", url, out);
        /* The parser never reads a password past the '@' the redaction hid. */
        rd_redis_addr_t a;
        if (rd_redis_parse_url(url, &a) == 0) {
            assert_null(strstr(a.host, "SECRET"));
            assert_null(strstr(a.path, "SECRET"));
        }
    }
    /* Truncation keeps the string terminated. */
    rd_redis_url_redact("redis://:pw@host", out, 5);
    assert_int_equal(strlen(out), 4);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_parse),
        cmocka_unit_test(t_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
