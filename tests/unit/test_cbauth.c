/*
 * Unit tests of proto/cbauth.h: the attempt MAC binds the secret, the
 * provider and the attempt key, and nothing else passes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "proto/cbauth.h"
#include "proto/rd.h"

#define SEC "callback-secret"

static void t_mac(void **state) {
    (void)state;
    char h[RD_CBAUTH_LEN + 1], h2[RD_CBAUTH_LEN + 1];
    const char *key = "Pay:42";
    assert_int_equal(rd_cbauth_sign(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), h), 0);
    assert_int_equal(strlen(h), RD_CBAUTH_LEN);
    assert_true(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), h, strlen(h)));
    /* Another provider, key, token or secret: refused. */
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_EXOTEL, key, strlen(key), h, strlen(h)));
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, "Pay:43", 6, h, strlen(h)));
    assert_false(rd_cbauth_ok("other", 5, RD_PROV_TWILIO, key, strlen(key), h, strlen(h)));
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), h, 31));
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), NULL, 0));
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), "", 0));
    h2[0] = h[0] == '0' ? '1' : '0';
    memcpy(h2 + 1, h + 1, RD_CBAUTH_LEN);
    assert_false(rd_cbauth_ok(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), h2, strlen(h2)));
    /* Deterministic, and different per provider. */
    assert_int_equal(rd_cbauth_sign(SEC, strlen(SEC), RD_PROV_TWILIO, key, strlen(key), h2), 0);
    assert_string_equal(h, h2);
    assert_int_equal(rd_cbauth_sign(SEC, strlen(SEC), RD_PROV_EXOTEL, key, strlen(key), h2), 0);
    assert_string_not_equal(h, h2);
    /* No secret, no MAC. */
    assert_int_equal(rd_cbauth_sign("", 0, RD_PROV_TWILIO, key, strlen(key), h2), RD_EINVAL);
    assert_false(rd_cbauth_ok("", 0, RD_PROV_TWILIO, key, strlen(key), h2, 0));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_mac)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
