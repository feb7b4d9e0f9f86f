/*
 * cli_plan.c — `redial-cli plan`: a dry run of a campaign's retry policy.
 *
 *   redial-cli plan FILE.json --start "2026-12-01 10:00" --outcomes no-answer,busy,completed
 *
 * prints, in the shape of the seed's examples, when each attempt would
 * happen and how the job ends:
 *
 *   Attempt 1: 10:00 AM → No answer
 *   Attempt 2: 11:00 AM → Busy
 *   Attempt 3: 12:00 PM → Connected
 *   → Connected on attempt 3
 *
 * It runs the real policy (rd_policy_plan): the same placement, caps and
 * jitter the engine uses, with the job's own attempts as the number's only
 * history and each outcome known the moment its attempt starts. --start is
 * local time in the zone the window is checked in (--tz, else the number's
 * zone with callee_local_time, else the campaign's). An attempt on another
 * day than attempt 1 shows its date; seconds show when jitter made them
 * non-zero. --json prints the same as one JSON object.
 *
 * No Redis, no network: this is the project's main-job command until the
 * engine runs (scripts/demo.sh).
 */
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"
#include "proto/campaign.h"
#include "proto/job.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"

#define MAX_OUTCOMES 64
#define MAX_FILE (4 << 20)

static const char USAGE[] =
    "Usage: redial-cli plan FILE.json --start \"YYYY-MM-DD HH:MM\" --outcomes a,b,...\n"
    "                       [--tz ZONE] [--number E164] [--json]\n\n"
    "Dry run of the campaign's retry policy: when each attempt would happen for one\n"
    "number whose successive calls end with the given outcomes, and how the job ends.\n\n"
    "  FILE.json          campaign body (SPEC section 3), e.g. examples/payment_reminders.json\n"
    "  --start T          local time of the first attempt, \"YYYY-MM-DD HH:MM\" (it is moved\n"
    "                     into the calling window like any due time)\n"
    "  --outcomes LIST    comma-separated outcomes of attempts 1, 2, ...: completed,\n"
    "                     in-progress, busy, no-answer, failed, canceled, invalid-number, dnd\n"
    "  --tz ZONE          IANA zone of the callee (default: the number's zone with\n"
    "                     schedule.callee_local_time, else schedule.timezone)\n"
    "  --number E164      the callee's number (default: the campaign's first number)\n"
    "  --json             one JSON object instead of the timeline\n"
    "  --help             this text\n\n"
    "Exit codes: 0 ok (planned); 1 failed (bad campaign file); 2 usage error.\n";

typedef struct plan_args {
    const char *file, *start, *outcomes, *tz, *number;
    bool json;
} plan_args_t;

static int usage_error(const char *fmt, ...) RD_PRINTF(1, 2);
static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "redial-cli plan: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see redial-cli plan --help)\n");
    va_end(ap);
    return 2;
}

/* 0 ok, 1 --help printed, 2 usage error (printed). */
static int parse_args(int argc, char **argv, plan_args_t *a) {
    static const struct {
        const char *flag;
        size_t off;
    } valued[] = {{"--start", offsetof(plan_args_t, start)},
                  {"--outcomes", offsetof(plan_args_t, outcomes)},
                  {"--tz", offsetof(plan_args_t, tz)},
                  {"--number", offsetof(plan_args_t, number)}};
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(USAGE, stdout);
            return 1;
        }
        if (strcmp(arg, "--json") == 0) {
            a->json = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            if (a->file) return usage_error("unexpected argument '%s'", arg);
            a->file = arg;
            continue;
        }
        size_t k = 0, n = RD_ARRAY_LEN(valued);
        for (; k < n; k++) {
            size_t fl = strlen(valued[k].flag);
            if (strncmp(arg, valued[k].flag, fl) != 0 || (arg[fl] != '\0' && arg[fl] != '='))
                continue;
            const char *v = arg[fl] == '=' ? arg + fl + 1 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v) return usage_error("%s needs a value", valued[k].flag);
            *(const char **)((char *)a + valued[k].off) = v;
            break;
        }
        if (k == n) return usage_error("unknown option '%s'", arg);
    }
    if (!a->file) return usage_error("%s", "missing FILE.json");
    if (!a->start) return usage_error("%s", "missing --start \"YYYY-MM-DD HH:MM\"");
    if (!a->outcomes) return usage_error("%s", "missing --outcomes");
    return 0;
}

static int parse_outcomes(const char *list, rd_outcome_t *out, size_t *n) {
    char buf[1024];
    if (rd_fmt(buf, sizeof buf, "%s", list)) return usage_error("%s", "--outcomes is too long");
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_OUTCOMES) return usage_error("%s", "more than 64 outcomes");
        if (rd_outcome_parse(tok, &out[*n]) != 0)
            return usage_error("unknown outcome '%s' (completed, in-progress, busy, no-answer, "
                               "failed, canceled, invalid-number, dnd)",
                               tok);
        (*n)++;
    }
    if (*n == 0) return usage_error("%s", "--outcomes is empty");
    return 0;
}

/* "10:00 AM", "9:00:46 AM", or with the date: "Wed 2 Dec, 9:00 AM" (+ year if not y0's). */
static void fmt_when(const rd_tz_t *tz, int64_t t, const rd_localtime_t *first, char *buf,
                     size_t len) {
    static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    rd_localtime_t lt;
    rd_tz_local(tz, t, &lt);
    char date[32] = "", secs[8] = "", year[8] = "";
    if (lt.year != first->year) snprintf(year, sizeof year, " %d", lt.year % 10000);
    if (lt.year != first->year || lt.month != first->month || lt.day != first->day)
        snprintf(date, sizeof date, "%s %d %s%s, ", wd[lt.wday], lt.day, mon[lt.month - 1], year);
    if (lt.second) snprintf(secs, sizeof secs, ":%02d", lt.second);
    int h12 = lt.hour % 12 ? lt.hour % 12 : 12;
    snprintf(buf, len, "%s%d:%02d%s %s", date, h12, lt.minute, secs, lt.hour < 12 ? "AM" : "PM");
}

/* ISO-8601 local time with offset: 2026-12-01T10:00:00+05:30. */
static void fmt_iso(const rd_tz_t *tz, int64_t t, char *buf, size_t len) {
    rd_localtime_t lt;
    rd_tz_local(tz, t, &lt);
    int off = lt.utc_offset_s < 0 ? -lt.utc_offset_s : lt.utc_offset_s;
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", lt.year % 10000, lt.month,
             lt.day, lt.hour, lt.minute, lt.second, lt.utc_offset_s < 0 ? '-' : '+', off / 3600,
             off / 60 % 60);
}

static void ending(const rd_decision_t *d, size_t n, const char *next, char *buf, size_t len) {
    const char *s = n == 1 ? "" : "s";
    if (!d->final) {
        snprintf(buf, len, "→ Attempt %zu would be at %s (no outcome given for it)", n + 1, next);
        return;
    }
    switch (d->disposition) {
    case RD_DISP_CONNECTED:
        snprintf(buf, len, "→ Connected on attempt %zu", n);
        break;
    case RD_DISP_UNREACHABLE:
        snprintf(buf, len, "→ Unreachable after %zu attempt%s", n, s);
        break;
    case RD_DISP_FAILED:
        snprintf(buf, len, "→ Failed after %zu attempt%s", n, s);
        break;
    case RD_DISP_INVALID:
        snprintf(buf, len, "→ Invalid number on attempt %zu", n);
        break;
    case RD_DISP_DND:
        snprintf(buf, len, "→ DND on attempt %zu", n);
        break;
    default:
        snprintf(buf, len, "→ %s after %zu attempt%s", rd_disposition_name(d->disposition), n, s);
    }
}

static void print_json(const rd_campaign_t *c, const rd_tz_t *tz, const char *number,
                       const rd_attempt_t *steps, size_t n, const rd_decision_t *d) {
    char iso[40];
    json_t *o = json_object(), *arr = json_array();
    json_object_set_new(o, "campaign", json_string(c->name));
    json_object_set_new(o, "zone", json_string(rd_tz_name(tz)));
    if (number) json_object_set_new(o, "number", json_string(number));
    for (size_t i = 0; i < n; i++) {
        fmt_iso(tz, steps[i].start_ms, iso, sizeof iso);
        json_array_append_new(arr, json_pack("{s:I, s:s, s:I, s:s}", "attempt", (json_int_t)i + 1,
                                             "at", iso, "at_ms", (json_int_t)steps[i].start_ms,
                                             "outcome", rd_outcome_name(steps[i].outcome)));
    }
    json_object_set_new(o, "attempts", arr);
    json_object_set_new(o, "final", json_boolean(d->final));
    if (d->final) {
        json_object_set_new(o, "disposition", json_string(rd_disposition_name(d->disposition)));
    } else {
        fmt_iso(tz, d->due_ms, iso, sizeof iso);
        json_object_set_new(o, "next_at", json_string(iso));
        json_object_set_new(o, "next_at_ms", json_integer(d->due_ms));
    }
    json_object_set_new(o, "why", json_string(d->why));
    json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(o);
}

int rd_cli_plan(int argc, char **argv) {
    plan_args_t a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 1 ? 0 : rc;
    rd_outcome_t outs[MAX_OUTCOMES];
    size_t n_outs = 0;
    if ((rc = parse_outcomes(a.outcomes, outs, &n_outs))) return rc;
    if (a.tz && !rd_tz_get(a.tz)) return usage_error("--tz: unknown time zone '%s'", a.tz);
    if (a.number && !rd_e164_valid(a.number, strlen(a.number)))
        return usage_error("--number: '%s' is not E.164 ('+' and 8..15 digits)", a.number);
    int y, mo, d, h, mi, used = 0;
    if (sscanf(a.start, "%4d-%2d-%2d%*1[ T]%2d:%2d%n", &y, &mo, &d, &h, &mi, &used) != 5 ||
        a.start[used] != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > rd_days_in_month(y, mo) || h > 23 || mi > 59)
        return usage_error("--start: '%s' is not \"YYYY-MM-DD HH:MM\"", a.start);

    size_t len;
    char *body, err[256];
    if (rd_cli_read_file(a.file, MAX_FILE, &body, &len, err, sizeof err) != 0) {
        fprintf(stderr, "redial-cli plan: %s\n", err);
        return 1;
    }
    rd_campaign_t c;
    rc = rd_campaign_parse(body, len, &c, err, sizeof err);
    rd_free(body);
    if (rc) {
        fprintf(stderr, "redial-cli plan: %s: %s\n", a.file, err);
        return 1;
    }
    const char *number = a.number ? a.number : (c.n_numbers ? c.numbers[0] : NULL);
    rd_policy_ctx_t ctx = {.c = &c, .tz = rd_policy_zone(&c, a.tz, number)};
    int64_t start = rd_tz_from_local(ctx.tz, y, mo, d, h, mi);
    rd_attempt_t steps[MAX_OUTCOMES];
    rd_decision_t dec;
    size_t n = rd_policy_plan(&ctx, number, start, outs, n_outs, steps, MAX_OUTCOMES, &dec);

    if (a.json) {
        print_json(&c, ctx.tz, number, steps, n, &dec);
    } else {
        rd_localtime_t first;
        rd_tz_local(ctx.tz, n ? steps[0].start_ms : dec.due_ms, &first);
        char when[64], line[160];
        for (size_t i = 0; i < n; i++) {
            fmt_when(ctx.tz, steps[i].start_ms, &first, when, sizeof when);
            printf("Attempt %zu: %s → %s\n", i + 1, when, rd_outcome_title(steps[i].outcome));
        }
        fmt_when(ctx.tz, dec.due_ms, &first, when, sizeof when);
        ending(&dec, n, when, line, sizeof line);
        printf("%s\n", line);
    }
    rd_campaign_deinit(&c);
    return 0;
}
