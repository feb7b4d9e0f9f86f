/*
 * Unit tests: store/enqueue.c (the checks and first due time every entry
 * point shares) and store/view.c (state names). Pure functions, no Redis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "store/enqueue.h"
#include "store/view.h"
#include "proto/clock.h"
#include "proto/rd.h"
#include "proto/tz.h"
#include "proto/text.h"

static const char SEED[] =
    "{\"name\":\"Payment_Reminders\",\"caller_id\":\"<exophone>\",\"call_flow_id\":\"<flow_id>\","
    "\"retry\":{\"max_attempts\":3,\"interval_minutes\":60},"
    "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"}}";

static void load(rd_campaign_t *c, const char *json) {
    char err[256];
    if (rd_campaign_parse(json, strlen(json), c, err, sizeof err)) fail_msg("%s", err);
}

static void t_refusals(void **state) {
    (void)state;
    rd_campaign_t c;
    load(&c, SEED);
    rd_store_enqueue_t e;
    char err[256];
    int64_t now = 1795860000000;
    static const char *const bad_numbers[] = {"",
                                              "12345",
                                              "+12",
                                              "+0919876543210",
                                              "+91 9876543210",
                                              "+9198765432101234",
                                              "9876543210",
                                              "+91987654321a"};
    for (size_t i = 0; i < RD_ARRAY_LEN(bad_numbers); i++) {
        assert_int_equal(rd_enqueue_prepare(&c, bad_numbers[i], NULL, NULL, NULL, 0, 0, now, &e,
                                            err, sizeof err),
                         RD_EINVAL);
        assert_true(strncmp(err, "to: ", 4) == 0);
    }
    char id[200];
    memset(id, 'x', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    assert_int_equal(
        rd_enqueue_prepare(&c, "+919876543210", id, NULL, NULL, 0, 0, now, &e, err, sizeof err),
        RD_EINVAL);
    assert_true(strncmp(err, "id: ", 4) == 0);
    assert_int_equal(rd_enqueue_prepare(&c, "+919876543210", NULL, "Mars/Olympus", NULL, 0, 0, now,
                                        &e, err, sizeof err),
                     RD_EINVAL);
    assert_true(strncmp(err, "tz: ", 4) == 0);
    /* Not UTF-8 text (the CLI's entry point shares these checks). */
    assert_int_equal(rd_enqueue_prepare(&c, "+919876543210",
                                        "a\xff"
                                        "b",
                                        NULL, NULL, 0, 0, now, &e, err, sizeof err),
                     RD_EINVAL);
    assert_true(strncmp(err, "id: ", 4) == 0);
    rd_job_var_t nl = {.key = (char *)"k", .val = (char *)"line\nbreak"};
    assert_int_equal(
        rd_enqueue_prepare(&c, "+919876543210", NULL, NULL, &nl, 1, 0, now, &e, err, sizeof err),
        RD_EINVAL);
    assert_true(strncmp(err, "vars.", 5) == 0);
    assert_int_equal(rd_enqueue_prepare(&c, "+919876543210", NULL, "../../etc/passwd", NULL, 0, 0,
                                        now, &e, err, sizeof err),
                     RD_EINVAL);
    rd_job_var_t v = {(char *)"", (char *)"x"};
    assert_int_equal(
        rd_enqueue_prepare(&c, "+919876543210", NULL, NULL, &v, 1, 0, now, &e, err, sizeof err),
        RD_EINVAL);
    assert_true(strncmp(err, "vars.", 5) == 0);
    assert_int_equal(
        rd_enqueue_prepare(&c, "+919876543210", NULL, NULL, NULL, 0, -5, now, &e, err, sizeof err),
        RD_EINVAL);
    rd_campaign_deinit(&c);
}

/* Property: for any "now" over two weeks, the first due time is not before
 * now, falls inside the 09:00-21:00 Asia/Kolkata window, is at most one
 * night (+ jitter) away, and is the same when asked twice. */
static void t_first_due_in_window(void **state) {
    (void)state;
    rd_campaign_t c;
    load(&c, SEED);
    const rd_tz_t *ist = rd_tz_get("Asia/Kolkata");
    uint64_t x = 88172645463325252ULL;
    int moved = 0;
    for (int i = 0; i < 5000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t now = 1795860000000 + (int64_t)(x % (14ULL * 86400000ULL));
        char num[20];
        snprintf(num, sizeof num, "+9198%08d", i);
        rd_store_enqueue_t e, e2;
        char err[256];
        assert_int_equal(
            rd_enqueue_prepare(&c, num, NULL, NULL, NULL, 0, 0, now, &e, err, sizeof err), 0);
        assert_int_equal(
            rd_enqueue_prepare(&c, num, NULL, NULL, NULL, 0, 0, now, &e2, err, sizeof err), 0);
        assert_int_equal(e.due_ms, e2.due_ms);
        assert_true(e.due_ms >= now);
        assert_true(e.due_ms - now <= 12 * 3600000LL + 120000);
        rd_localtime_t lt;
        rd_tz_local(ist, e.due_ms, &lt);
        assert_true(lt.hour >= 9 && lt.hour < 21);
        if (e.due_ms != now) moved++;
        assert_string_equal(e.campaign, "Payment_Reminders");
        assert_ptr_equal(e.to, num);
        assert_null(e.id);
        assert_null(e.tz);
    }
    assert_true(moved > 1000); /* about half of random instants are outside the window */
    rd_campaign_deinit(&c);
}

/* not_before and the callee's zone decide; the message form agrees. */
static void t_not_before_and_zone(void **state) {
    (void)state;
    rd_campaign_t c;
    load(&c, SEED);
    int64_t nb, now = 1795860000000;
    assert_int_equal(rd_parse_iso8601("2031-03-04T05:00:00Z", &nb), 0);
    rd_store_enqueue_t e;
    char err[256];
    assert_int_equal(rd_enqueue_prepare(&c, "+14155550100", "inv-1", "America/New_York", NULL, 0,
                                        nb, now, &e, err, sizeof err),
                     0);
    /* 05:00Z = 00:00 in New York (EST): moved to 09:00 local + jitter < 120 s. */
    assert_true(e.due_ms >= nb + 9 * 3600000LL && e.due_ms < nb + 9 * 3600000LL + 120000);
    assert_string_equal(e.id, "inv-1");
    assert_string_equal(e.tz, "America/New_York");
    assert_int_equal(e.not_before_ms, nb);

    rd_job_msg_t m;
    rd_job_msg_init(&m);
    snprintf(m.campaign, sizeof m.campaign, "Payment_Reminders");
    snprintf(m.to, sizeof m.to, "+14155550100");
    snprintf(m.id, sizeof m.id, "inv-1");
    snprintf(m.tz, sizeof m.tz, "America/New_York");
    m.not_before_ms = nb;
    rd_store_enqueue_t e2;
    assert_int_equal(rd_enqueue_prepare_msg(&c, &m, now, &e2, err, sizeof err), 0);
    assert_int_equal(e2.due_ms, e.due_ms);
    rd_job_msg_deinit(&m);
    rd_campaign_deinit(&c);
}

static void t_names_and_printable(void **state) {
    (void)state;
    for (int r = RD_ENQ_CREATED; r <= RD_ENQ_CONFLICT; r++)
        assert_string_not_equal(rd_enqueue_result_name((rd_enq_result_t)r), "?");
    assert_false(rd_enqueue_result_refused(RD_ENQ_CREATED));
    assert_false(rd_enqueue_result_refused(RD_ENQ_DUPLICATE));
    assert_false(rd_enqueue_result_refused(RD_ENQ_FINAL_DND));
    assert_true(rd_enqueue_result_refused(RD_ENQ_CONFLICT));
    assert_true(rd_enqueue_result_refused(RD_ENQ_CANCELED));

    char b[12];
    rd_text_printable(b, sizeof b, "+91 98\n\"x\\");
    assert_string_equal(b, "+91 98??x?");
    rd_text_printable(b, sizeof b, "+919876543210999");
    assert_string_equal(b, "+9198765...");
    rd_text_printable(b, sizeof b, "");
    assert_string_equal(b, "");
    rd_text_printable(b, sizeof b, "a\x7f\xc3\xa9\x1b");
    assert_string_equal(b, "a????");         /* DEL, non-ASCII and ESC */
    rd_text_quoted(b, sizeof b, "ab\"c", 4); /* no quote can close the quoted copy */
    assert_string_equal(b, "\"ab?c\"");
    rd_text_quoted(b, sizeof b, "abcdefghijk", 11);
    assert_string_equal(b, "\"abcdef...\""); /* fills b[12] exactly */

    rd_camp_state_t st;
    for (int s = RD_CAMP_ACTIVE; s <= RD_CAMP_CANCELED; s++) {
        assert_int_equal(rd_view_state_parse(rd_view_state_name((rd_camp_state_t)s), &st), 0);
        assert_int_equal(st, s);
    }
    assert_int_equal(rd_view_state_parse("Paused", &st), RD_EINVAL);
    assert_int_equal(rd_view_state_parse(NULL, &st), RD_EINVAL);
    char t[40];
    rd_view_iso_utc(t, sizeof t, 1795860282864);
    assert_string_equal(t, "2026-11-28T10:04:42.864+00:00");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_refusals),
        cmocka_unit_test(t_first_due_in_window),
        cmocka_unit_test(t_not_before_and_zone),
        cmocka_unit_test(t_names_and_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
