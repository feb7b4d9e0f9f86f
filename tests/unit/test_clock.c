/* Unit tests: error table (proto/rd.c) and the clock (proto/clock.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "proto/clock.h"
#include "proto/rd.h"

static void t_errors(void **state) {
    (void)state;
    assert_string_equal(rd_strerror(0), "ok");
    assert_string_equal(rd_strerror(RD_EPARSE), "malformed input");
    assert_string_equal(rd_err_name(RD_ESTALE), "RD_ESTALE");
    assert_string_equal(rd_strerror(12345), "unknown error");
    assert_true(RD_ENOMEM < 0 && RD_ETRANSIENT < 0);
}

static void t_iso8601(void **state) {
    (void)state;
    int64_t t;
    assert_int_equal(rd_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(rd_parse_iso8601("2026-11-28 10:00", &t), 0);
    assert_int_equal(t, 1795860000000LL);
    assert_int_equal(rd_parse_iso8601("2026-11-28T15:30:00+05:30", &t), 0);
    assert_int_equal(t, 1795860000000LL);
    assert_int_equal(rd_parse_iso8601("2026-11-28T10:00:00.250Z", &t), 0);
    assert_int_equal(t, 1795860000250LL);
    assert_int_equal(rd_parse_iso8601("2026-13-28T10:00", &t), RD_EPARSE);
    assert_int_equal(rd_parse_iso8601("yesterday", &t), RD_EPARSE);
    assert_int_equal(rd_parse_iso8601("2026-11-28T10:00junk", &t), RD_EPARSE);
}

static void t_scaled(void **state) {
    (void)state;
    rd_clock_t c;
    char err[128];
    assert_int_equal(rd_clock_init(&c, "60", "2026-11-28T10:00:00Z", "1000", err, sizeof err), 0);
    assert_int_equal(c.origin_ms, 1795860000000LL);
    assert_int_equal(c.epoch_ms, 1000);
    /* One policy hour lasts one wall minute at scale 60. */
    assert_int_equal(rd_clock_wall_ms(&c, 3600000), 60000);
    assert_int_equal(rd_clock_policy_ms(&c, 60000), 3600000);
    assert_true(rd_clock_now(&c) > c.origin_ms);
    assert_int_equal(rd_clock_init(&c, "0", NULL, NULL, err, sizeof err), RD_EINVAL);
    assert_non_null(strstr(err, "time scale"));
    assert_int_equal(rd_clock_init(&c, NULL, "noon", NULL, err, sizeof err), RD_EINVAL);
}

static void t_wall_default_and_manual(void **state) {
    (void)state;
    rd_clock_t c;
    char err[128];
    assert_int_equal(rd_clock_init(&c, NULL, NULL, NULL, err, sizeof err), 0);
    int64_t d = rd_clock_now(&c) - rd_wall_ms();
    assert_true(d >= -5 && d <= 5);
    rd_clock_init_manual(&c, 42);
    assert_int_equal(rd_clock_now(&c), 42);
    rd_clock_advance(&c, 1000);
    assert_int_equal(rd_clock_now(&c), 1042);
    assert_int_equal(rd_clock_wall_delay(&c, 2042), 1000);
    assert_int_equal(rd_clock_wall_delay(&c, 0), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_errors),
        cmocka_unit_test(t_iso8601),
        cmocka_unit_test(t_scaled),
        cmocka_unit_test(t_wall_default_and_manual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
