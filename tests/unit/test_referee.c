/*
 * Unit tests of bench/referee: every rule on a hand-made call sequence with
 * explicit policy times, campaign JSON parsing, and the report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "sim/referee.h"
#include "proto/clock.h"
#include "proto/rd.h"

/* 2026-11-30 (a Monday) 10:00 India time. */
static int64_t t0(void) {
    int64_t t;
    rd_assert(rd_parse_iso8601("2026-11-30T10:00:00+05:30", &t) == 0);
    return t;
}

static rd_ref_campaign_t camp(const char *json) {
    rd_ref_campaign_t c;
    char err[256];
    int rc = rd_referee_campaign_from_json(json, strlen(json), &c, err, sizeof err);
    if (rc != 0) fail_msg("campaign %s: %s", json, err);
    return c;
}

static unsigned start(rd_referee_t *r, const char *num, const char *key, int64_t at, uint32_t *id) {
    uint32_t nth;
    unsigned fl = 0;
    *id = rd_referee_call_start(r, num, key, at, &nth, &fl);
    return fl;
}

#define BIT(v) (1u << RD_REF_V_##v)

static void t_rules(void **state) {
    (void)state;
    rd_referee_t *r = rd_referee_create();
    int64_t t = t0();
    rd_ref_campaign_t c =
        camp("{\"name\":\"A\",\"concurrency\":1,\"max_attempts\":2,\"max_per_day\":2,"
             "\"daily_start\":\"09:00\",\"daily_end\":\"21:00\",\"days\":[\"mon\",\"tue\"],"
             "\"agent_pool\":\"p\",\"agent_capacity\":1}");
    rd_referee_set_campaign(r, &c);
    uint32_t id1, id2, id3;
    assert_int_equal(start(r, "+919800000001", "A:1", t, &id1), 0);
    /* second live call: concurrency, agent capacity */
    assert_int_equal(start(r, "+919800000002", "A:2", t + 1000, &id2),
                     BIT(CONCURRENCY) | BIT(AGENT_CAPACITY));
    rd_referee_call_end(r, id2, RD_OUT_BUSY, false, t + 2000);
    /* same number while live: overlap (concurrency too, A:1 still live) */
    assert_int_equal(start(r, "+919800000001", "A:3", t + 3000, &id3),
                     BIT(OVERLAP) | BIT(CONCURRENCY) | BIT(AGENT_CAPACITY));
    rd_referee_call_end(r, id3, RD_OUT_NO_ANSWER, false, t + 4000);
    rd_referee_call_end(r, id1, RD_OUT_COMPLETED, true, t + 5000);
    /* A person answered: dialing again breaks after_connect, budget (3 > 2) and the day cap (3 > 2) */
    assert_int_equal(start(r, "+919800000001", "A:4", t + 6000, &id1),
                     BIT(AFTER_CONNECT) | BIT(BUDGET) | BIT(PER_NUMBER_DAY));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 7000);
    /* duplicate key */
    assert_int_equal(start(r, "+919800000003", "A:4", t + 8000, &id1), BIT(DUPLICATE_KEY));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 8500);
    /* outside the window (22:00) and on a Wednesday */
    assert_int_equal(start(r, "+919800000004", "A:5", t + 12 * 3600000LL, &id1),
                     BIT(OUTSIDE_WINDOW));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 12 * 3600000LL + 1);
    assert_int_equal(start(r, "+919800000005", "A:6", t + 48 * 3600000LL, &id1),
                     BIT(OUTSIDE_WINDOW));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 48 * 3600000LL + 1);
    /* a new local day resets the day count; a machine answer does not count as connected */
    assert_int_equal(start(r, "+919800000007", "A:7", t + 24 * 3600000LL, &id1), 0);
    rd_referee_call_end(r, id1, RD_OUT_COMPLETED, false, t + 24 * 3600000LL + 1);
    assert_int_equal(start(r, "+919800000007", "A:8", t + 24 * 3600000LL + 2, &id1), 0);
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 24 * 3600000LL + 3);
    /* DND and opt-out (only calls after the opt-out count) */
    rd_referee_add_dnd(r, "+919800000008");
    assert_int_equal(start(r, "+919800000008", "A:9", t + 25 * 3600000LL, &id1), BIT(DND));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 25 * 3600000LL + 1);
    rd_referee_add_optout(r, "+919800000009", t + 26 * 3600000LL);
    assert_int_equal(start(r, "+919800000009", "A:10", t + 25 * 3600000LL + 2, &id1), 0);
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 25 * 3600000LL + 3);
    assert_int_equal(start(r, "+919800000009", "A:11", t + 26 * 3600000LL, &id1), BIT(OPTOUT));
    rd_referee_call_end(r, id1, RD_OUT_BUSY, false, t + 26 * 3600000LL + 1);

    assert_int_equal(rd_referee_violation_count(r, RD_REF_V_CONCURRENCY), 2);
    assert_int_equal(rd_referee_violation_count(r, RD_REF_V_OUTSIDE_WINDOW), 2);
    assert_int_equal(rd_referee_violations_total(r), 13);
    assert_int_equal(rd_referee_calls_total(r), 12);
    assert_int_equal(rd_referee_number_calls(r, "+919800000001"), 3);
    assert_int_equal(rd_referee_number_calls(r, "+919999999999"), 0);

    char *rep = rd_referee_report(r, t + 27 * 3600000LL, "{\"extra\":{\"x\":1}}");
    json_t *j = json_loads(rep, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "violations_total")), 13);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "extra"), "x")), 1);
    json_t *a = json_object_get(json_object_get(j, "campaigns"), "A");
    assert_int_equal(json_integer_value(json_object_get(a, "max_live")), 2);
    assert_int_equal(json_integer_value(json_object_get(a, "max_attempts_seen")), 3);
    json_t *pool = json_object_get(json_object_get(j, "agent_pools"), "p");
    assert_int_equal(json_integer_value(json_object_get(pool, "max_live")), 2);
    assert_int_equal(json_integer_value(json_object_get(pool, "capacity")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "examples")), 13);
    json_t *hist = json_object_get(json_object_get(j, "calls_per_number_day"), "hist");
    assert_int_equal(json_integer_value(json_object_get(hist, "3")), 1);
    json_decref(j);
    rd_free(rep);
    rd_referee_destroy(r);
}

static void t_callee_zone(void **state) {
    (void)state;
    rd_referee_t *r = rd_referee_create();
    rd_ref_campaign_t c = camp("{\"name\":\"B\",\"daily_start\":\"09:00\",\"daily_end\":\"21:00\","
                               "\"timezone\":\"Asia/Kolkata\",\"callee_local_time\":true}");
    rd_referee_set_campaign(r, &c);
    uint32_t id;
    /* 10:00 India = 23:30 the day before in New York */
    assert_int_equal(start(r, "+919800000001", "B:1", t0(), &id), 0);
    assert_int_equal(start(r, "+12125550100", "B:2", t0(), &id), BIT(OUTSIDE_WINDOW));
    /* unknown campaign and no key: counted, never checked beyond per-number rules */
    assert_int_equal(start(r, "+447700900000", "", t0(), &id), 0);
    assert_int_equal(start(r, "+447700900000", "zz:1", t0(), &id), BIT(OVERLAP));
    rd_referee_destroy(r);
}

static void t_campaign_json(void **state) {
    (void)state;
    rd_ref_campaign_t c;
    char err[256];
    const char *bad[] = {"[]",
                         "{}",
                         "{\"name\":\"\"}",
                         "{\"name\":\"a\",\"concurrency\":-1}",
                         "{\"name\":\"a\",\"daily_start\":\"9\"}",
                         "{\"name\":\"a\",\"timezone\":\"Mars/X\"}",
                         "{\"name\":\"a\",\"days\":[\"funday\"]}",
                         "{\"name\":\"a\",\"what\":1}",
                         "{\"name\":\"a\",\"daily_start\":\"21:00\",\"daily_end\":\"09:00\"}"};
    for (size_t i = 0; i < RD_ARRAY_LEN(bad); i++)
        assert_int_equal(rd_referee_campaign_from_json(bad[i], strlen(bad[i]), &c, err, sizeof err),
                         RD_EPARSE);
    /* the spec's campaign body: its defaults apply */
    const char *spec =
        "{\"name\":\"S\",\"caller_id\":\"0800\",\"call_flow_id\":\"9\",\"numbers\":[],"
        "\"retry\":{\"max_attempts\":4},\"schedule\":{\"daily_start\":\"10:00\","
        "\"daily_end\":\"18:00\"}}";
    assert_int_equal(rd_referee_campaign_from_json(spec, strlen(spec), &c, err, sizeof err), 0);
    assert_string_equal(c.name, "S");
    assert_int_equal(c.max_attempts, 4);
    assert_int_equal(c.concurrency, 10);
    assert_int_equal(c.max_per_day, 4);
    assert_int_equal(c.daily_start_min, 600);
    assert_int_equal(c.daily_end_min, 1080);
    assert_string_equal(c.timezone, "Asia/Kolkata");
}

/* issue 9: DND / opt-out marks before any call (was a SIGSEGV) and on the
   65th, 129th... distinct number (was lost when the table grew). */
static void t_marks_survive_growth(void **state) {
    (void)state;
    rd_referee_t *r = rd_referee_create();
    rd_referee_add_dnd(r, "+919800000000");
    rd_referee_add_optout(r, "+919800000001", 0);
    char num[32];
    for (int i = 2; i < 300; i++) {
        snprintf(num, sizeof num, "+9198%08d", i);
        if (i % 2)
            rd_referee_add_dnd(r, num);
        else
            rd_referee_add_optout(r, num, 0);
    }
    int64_t t = t0();
    uint32_t id;
    for (int i = 0; i < 300; i++) {
        snprintf(num, sizeof num, "+9198%08d", i);
        char key[32];
        snprintf(key, sizeof key, "A:%d", i + 1);
        unsigned fl = start(r, num, key, t + i, &id);
        rd_referee_call_end(r, id, RD_OUT_BUSY, false, t + i);
        if (i == 0 || (i > 1 && i % 2))
            assert_true(fl & BIT(DND));
        else
            assert_true(fl & BIT(OPTOUT));
    }
    assert_int_equal(rd_referee_violation_count(r, RD_REF_V_DND), 150);
    assert_int_equal(rd_referee_violation_count(r, RD_REF_V_OPTOUT), 150);
    rd_referee_destroy(r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_rules),
        cmocka_unit_test(t_callee_zone),
        cmocka_unit_test(t_campaign_json),
        cmocka_unit_test(t_marks_survive_growth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
