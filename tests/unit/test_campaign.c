/* Unit tests: campaign configuration (proto/campaign.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/campaign.h"
#include "proto/rd.h"
#include "tests/lib/fixtures.h"

/* The request body of the seed's curl example, byte for byte. */
static const char SEED_BODY[] = RD_TEST_SEED_BODY;

/* The same body as SPEC section 3 lays it out. */
static const char SPEC_BODY[] = RD_TEST_SPEC_BODY;

static int parse(const char *json, rd_campaign_t *c, char *err, size_t errlen) {
    return rd_campaign_parse(json, strlen(json), c, err, errlen);
}

static void roundtrip(const rd_campaign_t *c) {
    char *j = rd_campaign_to_json(c), err[256];
    rd_campaign_t d;
    int rc = parse(j, &d, err, sizeof err);
    if (rc) fail_msg("to_json output refused: %s\n%s", err, j);
    assert_true(rd_campaign_equal(c, &d));
    char *j2 = rd_campaign_to_json(&d);
    assert_string_equal(j, j2);
    rd_free(j);
    rd_free(j2);
    rd_campaign_deinit(&d);
}

static void check_seed_defaults(const rd_campaign_t *c) {
    assert_string_equal(c->name, "Payment_Reminders");
    assert_string_equal(c->caller_id, "<exophone>");
    assert_string_equal(c->call_flow_id, "<flow_id>");
    assert_int_equal(c->n_numbers, 2);
    assert_string_equal(c->numbers[1], "+919876543211");
    assert_int_equal(c->max_attempts, 3);
    assert_int_equal(c->machine_detection, RD_AMD_OFF); /* issue 9: AMD off by default */
    assert_int_equal(c->interval_minutes, 60);
    assert_int_equal(c->retry_on,
                     (1u << RD_OUT_BUSY) | (1u << RD_OUT_NO_ANSWER) | (1u << RD_OUT_FAILED));
    assert_int_equal(c->strategy, RD_STRAT_FIXED);
    assert_int_equal(c->daily_start_min, 540);
    assert_int_equal(c->daily_end_min, 1260);
    /* Defaults of every extension. */
    assert_string_equal(c->timezone, "Asia/Kolkata");
    assert_false(c->callee_local_time);
    assert_int_equal(c->days_mask, 0x7f);
    assert_int_equal(c->jitter_seconds, 120);
    assert_int_equal(c->n_intervals, 3);
    assert_int_equal(c->intervals_minutes[0], 30);
    assert_int_equal(c->intervals_minutes[1], 60);
    assert_int_equal(c->intervals_minutes[2], 120);
    assert_int_equal(c->n_times, 3);
    assert_int_equal(c->times_min[0], 600);
    assert_int_equal(c->times_min[1], 840);
    assert_int_equal(c->times_min[2], 1020);
    assert_int_equal(c->min_gap_minutes, 30);
    assert_int_equal(c->horizon_hours, 48);
    assert_int_equal(c->min_samples, 200);
    assert_int_equal(c->failed_max_retries, 1);
    assert_int_equal(c->failed_retry_seconds, 60);
    assert_int_equal(c->machine_as, RD_OUT_NO_ANSWER);
    assert_int_equal(c->concurrency, 10);
    assert_null(c->agent_pool);
    assert_int_equal(c->max_per_day, 4);
    assert_int_equal(c->max_per_7_days, 7);
    assert_int_equal(c->calls_per_minute, 0);
    assert_int_equal(c->purpose, RD_PURPOSE_NONE);
    assert_int_equal(c->mode, RD_MODE_FLOW);
    assert_int_equal(c->sms_after_attempts, 0);
    assert_null(c->provider);
}

static void t_seed_body(void **state) {
    (void)state;
    rd_campaign_t c;
    char err[256];
    assert_int_equal(parse(SEED_BODY, &c, err, sizeof err), 0);
    check_seed_defaults(&c);
    roundtrip(&c);
    rd_campaign_deinit(&c);
    assert_int_equal(parse(SPEC_BODY, &c, err, sizeof err), 0);
    check_seed_defaults(&c);
    rd_campaign_deinit(&c);
}

static void t_example_file(void **state) {
    (void)state;
    const char *src = getenv("REDIAL_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/examples/payment_reminders.json", src);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    /* The example is the seed body (plus the file's final newline). */
    assert_int_equal(n, strlen(SEED_BODY) + 1);
    assert_memory_equal(buf, SEED_BODY, n - 1);
}

static void t_every_extension(void **state) {
    (void)state;
    const char *j =
        "{\"name\":\"ext.1\",\"caller_id\":\"0801\",\"mode\":\"agent\",\"purpose\":\"sales\","
        "\"provider\":\"twilio\",\"numbers\":[],"
        "\"retry\":{\"max_retries\":4,\"retry_on\":[\"no-answer\"],\"strategy\":\"increasing\","
        "\"interval_minutes\":15,\"multiplier\":1.5,\"max_interval_minutes\":90,"
        "\"times\":[\"17:30\",\"09:15\"],\"min_gap_minutes\":45,\"horizon_hours\":24,"
        "\"min_samples\":50,\"failed_max_retries\":2,\"failed_retry_seconds\":300,"
        "\"machine_as\":\"completed\",\"machine_detection\":\"detect_message_end\"},"
        "\"schedule\":{\"daily_start\":\"08:30\",\"daily_end\":\"24:00\","
        "\"timezone\":\"America/New_York\",\"callee_local_time\":true,"
        "\"days\":[\"Mon\",\"tuesday\",\"fri\"],\"jitter_seconds\":0},"
        "\"limits\":{\"concurrency\":5,\"agent_pool\":\"collections\","
        "\"max_attempts_per_number_per_day\":2,\"max_attempts_per_number_per_7_days\":6,"
        "\"calls_per_minute\":30},"
        "\"call\":{\"ring_timeout_seconds\":20,\"time_limit_seconds\":300,"
        "\"callback_grace_seconds\":30},"
        "\"sms_fallback\":{\"after_attempts\":2,\"body\":\"Please call us back\","
        "\"dlt_entity_id\":\"1101\",\"dlt_template_id\":\"1107\"}}";
    rd_campaign_t c;
    char err[256];
    int rc = parse(j, &c, err, sizeof err);
    if (rc) fail_msg("%s", err);
    assert_null(c.call_flow_id);
    assert_int_equal(c.mode, RD_MODE_AGENT);
    assert_int_equal(c.purpose, RD_PURPOSE_SALES);
    assert_string_equal(c.provider, "twilio");
    assert_int_equal(c.max_attempts, 5); /* max_retries wins over the purpose preset */
    assert_int_equal(c.retry_on, 1u << RD_OUT_NO_ANSWER);
    assert_int_equal(c.strategy, RD_STRAT_INCREASING);
    assert_int_equal(c.n_intervals, 0);
    assert_true(c.multiplier == 1.5);
    assert_int_equal(c.max_interval_minutes, 90);
    assert_int_equal(c.n_times, 2);
    assert_int_equal(c.times_min[0], 9 * 60 + 15); /* sorted */
    assert_int_equal(c.times_min[1], 17 * 60 + 30);
    assert_int_equal(c.min_gap_minutes, 45);
    assert_int_equal(c.horizon_hours, 24);
    assert_int_equal(c.min_samples, 50);
    assert_int_equal(c.failed_max_retries, 2);
    assert_int_equal(c.failed_retry_seconds, 300);
    assert_int_equal(c.machine_as, RD_OUT_COMPLETED);
    assert_int_equal(c.daily_start_min, 510);
    assert_int_equal(c.daily_end_min, 1440);
    assert_string_equal(c.timezone, "America/New_York");
    assert_true(c.callee_local_time);
    assert_int_equal(c.days_mask, (1 << 1) | (1 << 2) | (1 << 5));
    assert_int_equal(c.jitter_seconds, 0);
    assert_int_equal(c.concurrency, 5);
    assert_string_equal(c.agent_pool, "collections");
    assert_int_equal(c.max_per_day, 2);
    assert_int_equal(c.max_per_7_days, 6);
    assert_int_equal(c.calls_per_minute, 30);
    assert_int_equal(c.ring_timeout_seconds, 20);
    assert_int_equal(c.time_limit_seconds, 300);
    assert_int_equal(c.callback_grace_seconds, 30);
    assert_int_equal(c.sms_after_attempts, 2);
    assert_string_equal(c.sms_body, "Please call us back");
    assert_string_equal(c.sms_dlt_entity_id, "1101");
    assert_string_equal(c.sms_dlt_template_id, "1107");
    assert_int_equal(c.machine_detection, RD_AMD_DETECT_MESSAGE_END);
    roundtrip(&c);
    rd_campaign_deinit(&c);
}

static void t_purposes_and_attempts(void **state) {
    (void)state;
    static const struct {
        const char *purpose;
        int attempts;
    } presets[] = {{"payment_reminder", 4},
                   {"delivery_confirmation", 3},
                   {"sales", 3},
                   {"appointment_reminder", 2},
                   {"emergency", 6},
                   {"none", 3}};
    char j[256], err[256];
    rd_campaign_t c;
    for (size_t i = 0; i < RD_ARRAY_LEN(presets); i++) {
        snprintf(j, sizeof j,
                 "{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"purpose\":\"%s\"}",
                 presets[i].purpose);
        assert_int_equal(parse(j, &c, err, sizeof err), 0);
        assert_int_equal(c.max_attempts, presets[i].attempts);
        assert_string_equal(rd_purpose_name(c.purpose), presets[i].purpose);
        roundtrip(&c);
        rd_campaign_deinit(&c);
    }
    /* An explicit max_attempts beats the preset. */
    assert_int_equal(parse("{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\","
                           "\"purpose\":\"emergency\",\"retry\":{\"max_attempts\":2}}",
                           &c, err, sizeof err),
                     0);
    assert_int_equal(c.max_attempts, 2);
    rd_campaign_deinit(&c);
    /* max_retries alone; both given and consistent. */
    assert_int_equal(parse("{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\","
                           "\"retry\":{\"max_retries\":2}}",
                           &c, err, sizeof err),
                     0);
    assert_int_equal(c.max_attempts, 3);
    rd_campaign_deinit(&c);
    assert_int_equal(parse("{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\","
                           "\"retry\":{\"max_retries\":0,\"max_attempts\":1}}",
                           &c, err, sizeof err),
                     0);
    assert_int_equal(c.max_attempts, 1);
    rd_campaign_deinit(&c);
    assert_int_equal(rd_purpose_default_attempts(RD_PURPOSE_NONE), 0);
}

static void t_increasing_forms(void **state) {
    (void)state;
    rd_campaign_t c;
    char err[256];
    assert_int_equal(parse("{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\","
                           "\"retry\":{\"strategy\":\"increasing\","
                           "\"intervals_minutes\":[10,20]}}",
                           &c, err, sizeof err),
                     0);
    assert_int_equal(c.n_intervals, 2);
    assert_int_equal(c.intervals_minutes[1], 20);
    roundtrip(&c);
    rd_campaign_deinit(&c);
    assert_int_equal(parse("{\"name\":\"p\",\"caller_id\":\"1\",\"call_flow_id\":\"f\","
                           "\"retry\":{\"strategy\":\"increasing\",\"multiplier\":2}}",
                           &c, err, sizeof err),
                     0);
    assert_int_equal(c.n_intervals, 0);
    assert_true(c.multiplier == 2.0);
    roundtrip(&c);
    rd_campaign_deinit(&c);
}

/* Each bad input and the field its error must name (the message starts with it). */
static const struct {
    const char *json;
    int rc;
    const char *field;
} bad[] = {
    {"", RD_EPARSE, "body"},
    {"[1,2]", RD_EINVAL, "body"},
    {"{\"name\":\"a\",\"name\":\"b\",\"caller_id\":\"1\",\"call_flow_id\":\"f\"}", RD_EPARSE,
     "body"},
    {"{\"caller_id\":\"1\",\"call_flow_id\":\"f\"}", RD_EINVAL, "name"},
    {"{\"name\":\"has space\",\"caller_id\":\"1\",\"call_flow_id\":\"f\"}", RD_EINVAL, "name"},
    {"{\"name\":\"a\",\"call_flow_id\":\"f\"}", RD_EINVAL, "caller_id"},
    {"{\"name\":\"a\",\"caller_id\":\"1\"}", RD_EINVAL, "call_flow_id"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"colour\":1}", RD_EINVAL,
     "colour"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"numbers\":[1]}", RD_EINVAL,
     "numbers[0]"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"max_attempts\":0}}",
     RD_EINVAL, "retry.max_attempts"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"max_attempts\":3,"
     "\"max_retries\":3}}",
     RD_EINVAL, "retry.max_retries"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"interval_minutes\":"
     "\"60\"}}",
     RD_EINVAL, "retry.interval_minutes"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"retry_on\":["
     "\"busy\",\"completed\"]}}",
     RD_EINVAL, "retry.retry_on[1]"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"strategy\":"
     "\"random\"}}",
     RD_EINVAL, "retry.strategy"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"intervals_minutes\":"
     "[30,0]}}",
     RD_EINVAL, "retry.intervals_minutes[1]"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"intervals_minutes\":"
     "[30],\"multiplier\":2}}",
     RD_EINVAL, "retry.multiplier"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"times\":[\"10:00\","
     "\"25:00\"]}}",
     RD_EINVAL, "retry.times[1]"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"times\":[\"10:00\","
     "\"10:00\"]}}",
     RD_EINVAL, "retry.times"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"machine_as\":"
     "\"dnd\"}}",
     RD_EINVAL, "retry.machine_as"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"maxattempts\":3}}",
     RD_EINVAL, "retry.maxattempts"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{\"multiplier\":0.5}}",
     RD_EINVAL, "retry.multiplier"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{\"daily_start\":"
     "\"9:00\"}}",
     RD_EINVAL, "schedule.daily_start"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{\"daily_start\":"
     "\"21:00\",\"daily_end\":\"09:00\"}}",
     RD_EINVAL, "schedule.daily_end"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{\"timezone\":"
     "\"../../etc/passwd\"}}",
     RD_EINVAL, "schedule.timezone"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{\"days\":["
     "\"mon\",\"funday\"]}}",
     RD_EINVAL, "schedule.days[1]"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{\"days\":[]}}",
     RD_EINVAL, "schedule.days"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{"
     "\"callee_local_time\":1}}",
     RD_EINVAL, "schedule.callee_local_time"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"schedule\":{"
     "\"jitter_seconds\":-1}}",
     RD_EINVAL, "schedule.jitter_seconds"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"limits\":{\"concurrency\":0}}",
     RD_EINVAL, "limits.concurrency"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"limits\":{"
     "\"max_attempts_per_number_per_day\":1.5}}",
     RD_EINVAL, "limits.max_attempts_per_number_per_day"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"mode\":\"agent\"}", RD_EINVAL, "limits.agent_pool"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"mode\":\"robot\"}", RD_EINVAL,
     "mode"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"purpose\":\"fun\"}", RD_EINVAL,
     "purpose"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"sms_fallback\":{"
     "\"after_attempts\":2}}",
     RD_EINVAL, "sms_fallback.body"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"sms_fallback\":{"
     "\"after_attempts\":9,\"body\":\"x\"}}",
     RD_EINVAL, "sms_fallback.after_attempts"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":[]}", RD_EINVAL,
     "retry"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"call\":{"
     "\"ring_timeout_seconds\":1}}",
     RD_EINVAL, "call.ring_timeout_seconds"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"provider\":\"ex otel\"}",
     RD_EINVAL, "provider"},
    /* issue 9: exotel SMS needs its DLT ids; AMD is one of three words */
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"provider\":\"exotel\","
     "\"sms_fallback\":{\"after_attempts\":1,\"body\":\"x\",\"dlt_template_id\":\"7\"}}",
     RD_EINVAL, "sms_fallback.dlt_entity_id"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"provider\":\"exotel\","
     "\"sms_fallback\":{\"after_attempts\":1,\"body\":\"x\",\"dlt_entity_id\":\"7\"}}",
     RD_EINVAL, "sms_fallback.dlt_template_id"},
    {"{\"name\":\"a\",\"caller_id\":\"1\",\"call_flow_id\":\"f\",\"retry\":{"
     "\"machine_detection\":\"on\"}}",
     RD_EINVAL, "retry.machine_detection"},
    /* Path segments every client normalises away: such a campaign could not be addressed. */
    {"{\"name\":\".\",\"caller_id\":\"1\",\"call_flow_id\":\"f\"}", RD_EINVAL, "name"},
    {"{\"name\":\"..\",\"caller_id\":\"1\",\"call_flow_id\":\"f\"}", RD_EINVAL, "name"},
};

static void t_bad_inputs(void **state) {
    (void)state;
    assert_true(rd_campaign_name_valid("...", 3)); /* only the two path segments */
    assert_true(rd_campaign_name_valid(".a", 2));
    assert_false(rd_campaign_name_valid("..", 2));
    assert_false(rd_campaign_name_valid("a/b", 3));
    assert_true(RD_ARRAY_LEN(bad) >= 15);
    for (size_t i = 0; i < RD_ARRAY_LEN(bad); i++) {
        rd_campaign_t c;
        char err[256] = "";
        int rc = parse(bad[i].json, &c, err, sizeof err);
        size_t fl = strlen(bad[i].field);
        if (rc != bad[i].rc || strncmp(err, bad[i].field, fl) != 0 || err[fl] != ':')
            fail_msg("bad[%zu] %s: rc %d err '%s', want %d '%s: ...'", i, bad[i].json, rc, err,
                     bad[i].rc, bad[i].field);
        /* Refused whole: nothing is left allocated or set. */
        assert_null(c.name);
        assert_null(c.numbers);
    }
}

static void t_not_nul_terminated(void **state) {
    (void)state;
    char buf[sizeof SEED_BODY + 8];
    memcpy(buf, SEED_BODY, strlen(SEED_BODY));
    memset(buf + strlen(SEED_BODY), 'x', 8); /* garbage after len */
    rd_campaign_t c;
    char err[256];
    assert_int_equal(rd_campaign_parse(buf, strlen(SEED_BODY), &c, err, sizeof err), 0);
    rd_campaign_deinit(&c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_seed_body),          cmocka_unit_test(t_example_file),
        cmocka_unit_test(t_every_extension),    cmocka_unit_test(t_purposes_and_attempts),
        cmocka_unit_test(t_increasing_forms),   cmocka_unit_test(t_bad_inputs),
        cmocka_unit_test(t_not_nul_terminated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
