/* Unit tests: x-www-form-urlencoded decoding and encoding (proto/form.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/form.h"
#include "proto/rd.h"

static void t_decode(void **state) {
    (void)state;
    rd_form_t f;
    rd_form_init(&f);
    const char *s = "CallSid=abc&Status=no-answer&Legs%5B0%5D%5BAnsweredBy%5D=Not+Sure&&flag&e=";
    assert_int_equal(rd_form_parse(&f, s, strlen(s)), 0);
    assert_int_equal(f.n, 5);
    assert_string_equal(rd_form_get(&f, "CallSid"), "abc");
    assert_string_equal(rd_form_get(&f, "Status"), "no-answer");
    assert_string_equal(rd_form_get(&f, "Legs[0][AnsweredBy]"), "Not Sure");
    assert_string_equal(rd_form_get(&f, "flag"), "");
    assert_string_equal(rd_form_get(&f, "e"), "");
    assert_null(rd_form_get(&f, "status"));
    rd_form_deinit(&f);
    assert_int_equal(f.n, 0);
}

static void t_decode_edge(void **state) {
    (void)state;
    rd_form_t f;
    rd_form_init(&f);
    assert_int_equal(rd_form_parse(&f, "", 0), 0);
    assert_int_equal(f.n, 0);
    assert_int_equal(rd_form_parse(&f, "a=%2", 4), RD_EPARSE);
    assert_int_equal(f.n, 0);
    assert_int_equal(rd_form_parse(&f, "a=%zz", 5), RD_EPARSE);
    assert_int_equal(rd_form_parse(&f, "a%=1", 4), RD_EPARSE);
    /* Embedded NUL keeps its length; duplicates: first wins for get. */
    assert_int_equal(rd_form_parse(&f, "k=x%00y&k=2", 11), 0);
    size_t vl;
    const char *v = rd_form_getn(&f, "k", &vl);
    assert_int_equal(vl, 3);
    assert_memory_equal(v, "x\0y", 3);
    assert_int_equal(f.n, 2);
    /* Too many pairs. */
    char big[RD_FORM_MAX_PAIRS * 4 + 8];
    size_t o = 0;
    for (int i = 0; i <= RD_FORM_MAX_PAIRS; i++) {
        memcpy(big + o, "a=1&", 4);
        o += 4;
    }
    assert_int_equal(rd_form_parse(&f, big, o), RD_ELIMIT);
    assert_int_equal(f.n, 0);
    rd_form_deinit(&f);
}

static void t_encode(void **state) {
    (void)state;
    char buf[128];
    size_t len = 0;
    assert_int_equal(rd_form_add(buf, sizeof buf, &len, "From", "+919876543210"), 0);
    assert_int_equal(rd_form_add(buf, sizeof buf, &len, "StatusCallbackEvents[0]", "terminal"), 0);
    assert_int_equal(rd_form_add(buf, sizeof buf, &len, "CustomField", "Pay_1:42 x"), 0);
    assert_string_equal(buf, "From=%2B919876543210&StatusCallbackEvents%5B0%5D=terminal&"
                             "CustomField=Pay_1%3A42+x");
    assert_int_equal(len, strlen(buf));
    /* Round trip. */
    rd_form_t f;
    rd_form_init(&f);
    assert_int_equal(rd_form_parse(&f, buf, len), 0);
    assert_string_equal(rd_form_get(&f, "From"), "+919876543210");
    assert_string_equal(rd_form_get(&f, "CustomField"), "Pay_1:42 x");
    assert_string_equal(rd_form_get(&f, "StatusCallbackEvents[0]"), "terminal");
    rd_form_deinit(&f);
    /* Overflow leaves the buffer as it was. */
    char small[16];
    len = 0;
    assert_int_equal(rd_form_add(small, sizeof small, &len, "To", "+9198"), 0);
    assert_int_equal(rd_form_add(small, sizeof small, &len, "From", "+9199999"), RD_ERANGE);
    assert_string_equal(small, "To=%2B9198");
    assert_int_equal(len, strlen("To=%2B9198"));
    len = 0;
    assert_int_equal(rd_form_escape(small, sizeof small, &len, "a b/c", 5), 0);
    assert_string_equal(small, "a+b%2Fc");
}

/* multipart/form-data: the same pairs as the urlencoded form; bounded. */
static void t_multipart(void **state) {
    (void)state;
    rd_form_t f;
    rd_form_init(&f);
    const char *ct = "multipart/form-data; boundary=----b0";
    const char *body = "preamble\r\n------b0\r\n"
                       "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
                       "1 & 2 = 3\r\nline two\r\n"
                       "------b0\n"
                       "content-disposition: form-data; filename=\"x.txt\"; name=b\n\n"
                       "--not the boundary\n"
                       "------b0--\r\n";
    assert_int_equal(rd_form_parse_multipart(&f, ct, body, strlen(body)), 0);
    assert_int_equal(f.n, 2);
    assert_string_equal(rd_form_get(&f, "a"), "1 & 2 = 3\r\nline two");
    assert_string_equal(rd_form_get(&f, "b"), "--not the boundary");
    rd_form_deinit(&f);
    /* More parts than RD_FORM_MAX_PAIRS is refused before decoding. */
    size_t cap = (RD_FORM_MAX_PAIRS + 2) * 64;
    char *big = rd_malloc(cap);
    size_t n = 0;
    for (int i = 0; i < RD_FORM_MAX_PAIRS + 1; i++)
        n += (size_t)snprintf(big + n, cap - n,
                              "--b\r\nContent-Disposition: form-data; name=k\r\n\r\nv\r\n");
    n += (size_t)snprintf(big + n, cap - n, "--b--");
    assert_int_equal(rd_form_parse_multipart(&f, "multipart/form-data; boundary=b", big, n),
                     RD_ELIMIT);
    rd_free(big);
    /* No closing delimiter, bad boundary parameter. */
    const char *cut = "--b\r\nContent-Disposition: form-data; name=k\r\n\r\nv";
    assert_int_equal(
        rd_form_parse_multipart(&f, "multipart/form-data; boundary=b", cut, strlen(cut)),
        RD_EPARSE);
    assert_int_equal(rd_form_parse_multipart(&f, "multipart/form-data; boundary=\"b", "--b--", 5),
                     RD_EPARSE);
    assert_int_equal(f.n, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_decode),
        cmocka_unit_test(t_decode_edge),
        cmocka_unit_test(t_encode),
        cmocka_unit_test(t_multipart),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
