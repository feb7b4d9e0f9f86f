/*
 * `redial-cli plan`, run as the built binary (REDIAL_BIN_DIR) on real files:
 * the exact timeline lines of the seed's examples, dates on other days, the
 * JSON form, DST, and the usage / bad-file errors with their exit codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/rd_cli_plan_XXXXXX";

/* Runs `redial-cli ARGS` (stdout and stderr together); returns the exit code. */
static int run(const char *args, char *out, size_t len) {
    const char *bin = getenv("REDIAL_BIN_DIR");
    assert_non_null(bin);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/redial-cli' %s 2>&1", getenv("REDIAL_SOURCE_DIR"),
             bin, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A campaign file in the temp dir: the seed body with extra retry/schedule/limits keys
   (limits NULL: no "limits" object at all, every limit at its default). */
static const char *campaign(const char *name, const char *retry, const char *schedule,
                            const char *limits) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s.json", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "{\"name\":\"%s\",\"caller_id\":\"<exophone>\",\"call_flow_id\":\"<flow_id>\","
            "\"numbers\":[\"+919876543210\"],\"retry\":{%s},"
            "\"schedule\":{\"daily_start\":\"09:00\",\"daily_end\":\"21:00\"%s}%s%s%s}",
            name, retry, schedule, limits ? ",\"limits\":{" : "", limits ? limits : "",
            limits ? "}" : "");
    fclose(f);
    return path;
}

static void expect(const char *args, int code, const char *want) {
    char out[8192];
    int rc = run(args, out, sizeof out);
    if (rc != code || strcmp(out, want) != 0)
        fail_msg("redial-cli %s\nexit %d (want %d), output:\n%s\nwant:\n%s", args, rc, code, out,
                 want);
}

static void t_seed_fixed_demo(void **state) {
    (void)state;
    expect("plan examples/payment_reminders.json --start \"2026-12-01 10:00\" "
           "--outcomes no-answer,busy,completed",
           0,
           "Attempt 1: 10:00 AM → No answer\n"
           "Attempt 2: 11:00 AM → Busy\n"
           "Attempt 3: 12:00 PM → Connected\n"
           "→ Connected on attempt 3\n");
}

static void t_seed_increasing_and_time_of_day(void **state) {
    (void)state;
    char args[1024];
    snprintf(args, sizeof args,
             "plan %s --start \"2026-12-01 10:00\" "
             "--outcomes no-answer,no-answer,no-answer,completed",
             campaign("inc", "\"max_attempts\":4,\"strategy\":\"increasing\"", "", NULL));
    expect(args, 0,
           "Attempt 1: 10:00 AM → No answer\n"
           "Attempt 2: 10:30 AM → No answer\n"
           "Attempt 3: 11:30 AM → No answer\n"
           "Attempt 4: 1:30 PM → Connected\n"
           "→ Connected on attempt 4\n");
    snprintf(args, sizeof args,
             "plan %s --start \"2026-12-01 10:00\" --outcomes no-answer,busy,completed",
             campaign("tod", "\"strategy\":\"time_of_day\"", "", ""));
    expect(args, 0,
           "Attempt 1: 10:00 AM → No answer\n"
           "Attempt 2: 2:00 PM → Busy\n"
           "Attempt 3: 5:00 PM → Connected\n"
           "→ Connected on attempt 3\n");
}

static void t_other_days_and_endings(void **state) {
    (void)state;
    char args[1024];
    const char *f = campaign("late", "\"max_attempts\":3", ",\"jitter_seconds\":0", "");
    snprintf(args, sizeof args,
             "plan %s --start \"2026-12-01 19:30\" --outcomes no-answer,busy,busy", f);
    expect(args, 0,
           "Attempt 1: 7:30 PM → No answer\n"
           "Attempt 2: 8:30 PM → Busy\n"
           "Attempt 3: Wed 2 Dec, 9:00 AM → Busy\n"
           "→ Unreachable after 3 attempts\n");
    snprintf(args, sizeof args, "plan %s --start \"2026-12-31 20:30\" --outcomes busy,failed", f);
    expect(args, 0,
           "Attempt 1: 8:30 PM → Busy\n"
           "Attempt 2: Fri 1 Jan 2027, 9:00 AM → Failed\n"
           "→ Attempt 3 would be at Fri 1 Jan 2027, 9:01 AM (no outcome given for it)\n");
    snprintf(args, sizeof args, "plan %s --start \"2026-12-01 10:00\" --outcomes dnd", f);
    expect(args, 0, "Attempt 1: 10:00 AM → DND\n→ DND on attempt 1\n");
    /* Default jitter: a moved time shows its seconds, within 2 minutes of 09:00. */
    char out[4096];
    snprintf(args, sizeof args,
             "plan examples/payment_reminders.json --start \"2026-12-01 06:00\" --outcomes busy");
    assert_int_equal(run(args, out, sizeof out), 0);
    assert_true(strncmp(out, "Attempt 1: 9:0", 14) == 0 && strstr(out, " AM → Busy\n"));
}

static void t_new_york_dst(void **state) {
    (void)state;
    char args[1024];
    const char *f = campaign("ny", "\"max_attempts\":3",
                             ",\"jitter_seconds\":0,\"timezone\":\"America/New_York\"", "");
    snprintf(args, sizeof args,
             "plan %s --start \"2026-03-07 20:30\" --outcomes busy,no-answer,completed", f);
    expect(args, 0,
           "Attempt 1: 8:30 PM → Busy\n"
           "Attempt 2: Sun 8 Mar, 9:00 AM → No answer\n"
           "Attempt 3: Sun 8 Mar, 10:00 AM → Connected\n"
           "→ Connected on attempt 3\n");
    /* The callee's zone from --tz: the same plan in Kolkata's campaign, New York time. */
    snprintf(args, sizeof args,
             "plan examples/payment_reminders.json --tz America/New_York "
             "--start \"2026-10-31 20:30\" --outcomes busy --json");
    char out[4096];
    assert_int_equal(run(args, out, sizeof out), 0);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "zone")), "America/New_York");
    json_t *a0 = json_array_get(json_object_get(j, "attempts"), 0);
    assert_string_equal(json_string_value(json_object_get(a0, "at")), "2026-10-31T20:30:00-04:00");
    assert_false(json_is_true(json_object_get(j, "final")));
    /* Sunday 09:00 EST (+ jitter under 2 minutes): after the fall-back change. */
    int64_t next = json_integer_value(json_object_get(j, "next_at_ms"));
    assert_true(next >= 1793541600000LL && next < 1793541600000LL + 120000);
    assert_int_equal(
        strncmp(json_string_value(json_object_get(j, "next_at")), "2026-11-01T09:0", 15), 0);
    json_decref(j);
}

static void t_errors_and_help(void **state) {
    (void)state;
    char out[8192], args[1024];
    assert_int_equal(run("plan --help", out, sizeof out), 0);
    assert_non_null(strstr(out, "Usage: redial-cli plan FILE.json --start"));
    assert_int_equal(run("--help", out, sizeof out), 0);
    assert_non_null(strstr(out, "plan FILE.json"));
    assert_int_equal(run("", out, sizeof out), 2);
    assert_int_equal(run("frobnicate", out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    assert_int_equal(run("plan examples/payment_reminders.json --start \"2026-12-01 10:00\" "
                         "--outcomes busy,hungup",
                         out, sizeof out),
                     2);
    assert_non_null(strstr(out, "unknown outcome 'hungup'"));
    assert_int_equal(run("plan examples/payment_reminders.json --start tomorrow --outcomes busy",
                         out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--start"));
    assert_int_equal(run("plan examples/payment_reminders.json --start \"2026-02-29 10:00\" "
                         "--outcomes busy",
                         out, sizeof out),
                     2);
    assert_int_equal(run("plan examples/payment_reminders.json --outcomes busy", out, sizeof out),
                     2);
    assert_int_equal(run("plan examples/payment_reminders.json --start \"2026-12-01 10:00\" "
                         "--outcomes busy --tz Mars/Olympus",
                         out, sizeof out),
                     2);
    snprintf(args, sizeof args, "plan %s --start \"2026-12-01 10:00\" --outcomes busy",
             campaign("bad", "\"max_attempts\":0", "", ""));
    assert_int_equal(run(args, out, sizeof out), 1);
    assert_non_null(strstr(out, "retry.max_attempts: must be an integer in 1..20"));
    assert_int_equal(
        run("plan /nonexistent.json --start \"2026-12-01 10:00\" --outcomes busy", out, sizeof out),
        1);
}

static int setup(void **state) {
    (void)state;
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_seed_fixed_demo),
        cmocka_unit_test(t_seed_increasing_and_time_of_day),
        cmocka_unit_test(t_other_days_and_endings),
        cmocka_unit_test(t_new_york_dst),
        cmocka_unit_test(t_errors_and_help),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
