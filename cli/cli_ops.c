/*
 * cli_ops.c — the operator subcommands that act on problems (issue 11):
 * `job list|cancel|retry-now`, `dnd check|remove|list`, `optout
 * check|remove`, `agents list`. The older subcommands of the same commands
 * (`job show`, `dnd import`, `optout NUMBER...`, `agents set`) stay in
 * cli_jobs.c, whose entry points hand these over (cli.h).
 *
 * Design. Each is a few store/ops.h requests on a short-lived session
 * (cli_session.h). A command that changes jobs first resolves what it
 * would hit — ids through `job show`'s lookup, filters through the
 * paginated job list — and, when that is more than one job, does nothing
 * without --yes (exit 1, saying how many); then it acts job by job and
 * prints what it did with the counts. A job with a call in progress is
 * never touched: the call ends and settles as usual, and the command says
 * so.
 *
 * Output: human text, or one JSON document with --json; exit codes as in
 * common/exit.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"
#include "proto/outcome.h"
#include "proto/text.h"
#include "store/enqueue.h"
#include "store/ops.h"
#include "store/view.h"

/* ---- shared ------------------------------------------------------------------------ */

typedef struct {
    bool done;
    int status;
    rd_ops_result_t r;
} result_t;

static void result_cb(rd_store_t *s, int status, rd_ops_result_t r, void *arg) {
    (void)s;
    result_t *x = arg;
    x->status = status;
    x->r = r;
    x->done = true;
}

/* One job as the list returns it, owned. */
typedef struct {
    char campaign[RD_CAMPAIGN_NAME_MAX + 1];
    char number[RD_E164_MAX + 1];
    char id[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2];
    char state[16];
    int attempts, disposition;
    int64_t due_ms, finished_ms;
} job_t;

typedef struct {
    bool done;
    int status;
    job_t *jobs;
    size_t n, cap, limit;
    char next[32];
} jobs_t;

static void jobs_cb(rd_store_t *s, int status, const rd_ops_job_t *jobs, size_t n, const char *next,
                    void *arg) {
    (void)s;
    jobs_t *r = arg;
    r->status = status;
    snprintf(r->next, sizeof r->next, "%s", next ? next : "0");
    for (size_t i = 0; !status && i < n && r->n < r->limit; i++) {
        if (r->n == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 64;
            r->jobs = rd_realloc(r->jobs, r->cap * sizeof *r->jobs);
        }
        job_t *j = &r->jobs[r->n++];
        snprintf(j->campaign, sizeof j->campaign, "%s", jobs[i].campaign);
        snprintf(j->number, sizeof j->number, "%s", jobs[i].number);
        snprintf(j->id, sizeof j->id, "%s", jobs[i].id);
        snprintf(j->state, sizeof j->state, "%s", jobs[i].state);
        j->attempts = jobs[i].attempts;
        j->disposition = jobs[i].disposition;
        j->due_ms = jobs[i].due_ms;
        j->finished_ms = jobs[i].finished_ms;
    }
    r->done = true;
}

/* Collects up to r->limit jobs matching f from cursor on. Returns 0 or a store status. */
static int collect(rd_cli_session_t *s, const rd_ops_job_filter_t *f, const char *cursor,
                   jobs_t *r) {
    snprintf(r->next, sizeof r->next, "%s", cursor);
    do {
        char cur[32];
        snprintf(cur, sizeof cur, "%s", r->next);
        size_t want = r->limit - r->n;
        r->done = false;
        int rc = rd_ops_job_list(s->store, f, cur, want > 1000 ? 1000 : want, jobs_cb, r);
        if (!rc) rc = rd_cli_wait(s, &r->done);
        if (!rc) rc = r->status;
        if (rc) return rc;
    } while (strcmp(r->next, "0") && r->n < r->limit && !(f->number && *f->number));
    return 0;
}

static json_t *job_json(const job_t *j) {
    json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:i}", "id", j->id, "campaign", j->campaign, "to",
                          j->number, "state", j->state, "attempts", j->attempts);
    char t[48];
    if (j->due_ms) {
        rd_view_iso_utc(t, sizeof t, j->due_ms);
        json_object_set_new(o, "due_ms", json_integer(j->due_ms));
        json_object_set_new(o, "due", json_string(t));
    }
    if (!strcmp(j->state, "final")) {
        json_object_set_new(o, "disposition",
                            j->disposition >= 0 && j->disposition < RD_DISP__COUNT
                                ? json_string(rd_disposition_name((rd_disposition_t)j->disposition))
                                : json_null());
        rd_view_iso_utc(t, sizeof t, j->finished_ms);
        json_object_set_new(o, "finished_ms", json_integer(j->finished_ms));
        json_object_set_new(o, "finished", json_string(t));
    }
    return o;
}

static int parse_limit(const char *cmd, const char *v, size_t def, size_t *out) {
    *out = def;
    if (!v) return 0;
    char *end;
    long long n = strtoll(v, &end, 10);
    if (!*v || *end || n < 1 || n > 1000000) {
        rd_cli_err(cmd, "--limit: \"%s\" is not a count in 1..1000000", v);
        return RD_CLI_USAGE;
    }
    *out = (size_t)n;
    return 0;
}

/* ---- job list ---------------------------------------------------------------------- */

static int job_list(rd_cli_args_t *a) {
    const char *st = rd_cli_flag_get(a, "state"), *cur = rd_cli_flag_get(a, "cursor");
    size_t limit;
    int ex = parse_limit(a->cmd, rd_cli_flag_get(a, "limit"), 100, &limit);
    if (ex) return ex;
    if (a->n_pos != 1) {
        rd_cli_err(a->cmd, "takes filters as options, not arguments (see --help)");
        return RD_CLI_USAGE;
    }
    if (!rd_ops_job_state_valid(st)) {
        rd_cli_err(a->cmd, "--state: pending, claimed, calling, live or final");
        return RD_CLI_USAGE;
    }
    if (cur && (!*cur || strspn(cur, "0123456789") != strlen(cur) || strlen(cur) > 24)) {
        rd_cli_err(a->cmd, "--cursor: the \"next\" value of a previous --json list");
        return RD_CLI_USAGE;
    }
    rd_ops_job_filter_t f = {rd_cli_flag_get(a, "campaign"), st, rd_cli_flag_get(a, "number")};
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, a->cmd))) return ex;
    jobs_t r = {0};
    r.limit = limit;
    int rc = collect(&s, &f, cur ? cur : "0", &r);
    if (rc) {
        ex = rd_cli_fail(&s, rc, "job list");
    } else if (rd_cli_flag_has(a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < r.n; i++) json_array_append_new(arr, job_json(&r.jobs[i]));
        rd_cli_print_json(
            json_pack("{s:o,s:I,s:s}", "jobs", arr, "count", (json_int_t)r.n, "next", r.next));
    } else {
        printf("%-40s %-24s %-16s %-8s %8s  %s\n", "ID", "CAMPAIGN", "NUMBER", "STATE", "ATTEMPTS",
               "DUE / DISPOSITION");
        for (size_t i = 0; i < r.n; i++) {
            const job_t *j = &r.jobs[i];
            char t[48] = "";
            if (j->due_ms)
                rd_cli_fmt_utc(t, sizeof t, j->due_ms);
            else if (!strcmp(j->state, "final") && j->disposition >= 0 &&
                     j->disposition < RD_DISP__COUNT)
                snprintf(t, sizeof t, "%s", rd_disposition_name((rd_disposition_t)j->disposition));
            printf("%-40s %-24s %-16s %-8s %8d  %s\n", j->id, j->campaign, j->number, j->state,
                   j->attempts, t);
        }
        printf("%zu job%s%s%s\n", r.n, r.n == 1 ? "" : "s",
               strcmp(r.next, "0") ? "; more: --cursor " : "", strcmp(r.next, "0") ? r.next : "");
    }
    rd_free(r.jobs);
    rd_cli_close(&s);
    return ex;
}

/* ---- job cancel / retry-now -------------------------------------------------------------- */

typedef struct {
    bool done;
    int status;
    rd_store_job_t *job;
} show_t;

static void show_cb(rd_store_t *s, int status, const rd_store_job_t *job, void *arg) {
    (void)s;
    show_t *r = arg;
    r->status = status;
    if (!status && job) r->job = rd_store_job_dup(job);
    r->done = true;
}

/* The jobs a cancel / retry-now names: ids, or filters. Returns 0 or an exit code. */
static int resolve(rd_cli_session_t *s, rd_cli_args_t *a, jobs_t *r, bool *by_filter) {
    rd_ops_job_filter_t f = {rd_cli_flag_get(a, "campaign"), "pending",
                             rd_cli_flag_get(a, "number")};
    *by_filter = a->n_pos == 1;
    if (*by_filter) {
        if (!f.campaign && !f.number) {
            rd_cli_err(a->cmd, "needs job IDs, or --campaign / --number (see --help)");
            return RD_CLI_USAGE;
        }
        r->limit = 10000000;
        int rc = collect(s, &f, "0", r);
        return rc ? rd_cli_fail(s, rc, a->cmd) : 0;
    }
    r->limit = a->n_pos - 1;
    for (size_t i = 1; i < a->n_pos; i++) {
        const char *id = a->pos[i];
        char shown[RD_JOB_ID_MAX + 8], what[RD_JOB_ID_MAX + 16];
        rd_text_printable(shown, sizeof shown, id);
        snprintf(what, sizeof what, "job \"%s\"", shown);
        if (!*id || strlen(id) > RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX) {
            rd_cli_err(a->cmd, "%s not found", what);
            return RD_CLI_REFUSED;
        }
        show_t x = {0};
        int rc = rd_store_job_show(s->store, id, show_cb, &x);
        if (!rc) rc = rd_cli_wait(s, &x.done);
        if (!rc) rc = x.status;
        if (!rc && !x.job) rc = RD_ENOMEM;
        if (rc) return rd_cli_fail(s, rc, what);
        jobs_cb(s->store, 0,
                &(rd_ops_job_t){x.job->campaign, x.job->to, x.job->id,
                                x.job->state == RD_JOB_FINAL     ? "final"
                                : x.job->state == RD_JOB_PENDING ? "pending"
                                                                 : "calling",
                                (int)x.job->n_hist, (int)x.job->disposition, 0, 0},
                1, "0", r);
        rd_store_job_free(x.job);
    }
    return 0;
}

static int job_act(rd_cli_args_t *a, bool cancel) {
    if (rd_cli_flag_get(a, "state") || rd_cli_flag_get(a, "cursor") ||
        rd_cli_flag_get(a, "limit")) {
        rd_cli_err(a->cmd, "acts on pending jobs: --campaign and --number only");
        return RD_CLI_USAGE;
    }
    if (a->n_pos > 1 && (rd_cli_flag_get(a, "campaign") || rd_cli_flag_get(a, "number"))) {
        rd_cli_err(a->cmd, "give job IDs or filters, not both");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    jobs_t r = {0};
    bool by_filter;
    size_t done = 0, live = 0, final = 0;
    json_t *arr = json_array();
    if ((ex = resolve(&s, a, &r, &by_filter))) goto out;
    const char *verb = cancel ? "cancel" : "make due now";
    if (r.n > 1 && !rd_cli_flag_has(a, "yes")) {
        rd_cli_err(a->cmd, "would %s %zu jobs; nothing done: run again with --yes", verb, r.n);
        ex = RD_CLI_REFUSED;
        goto out;
    }
    int64_t now = rd_cli_now(&s);
    for (size_t i = 0; i < r.n; i++) {
        const job_t *j = &r.jobs[i];
        result_t x = {0};
        int rc = cancel ? rd_ops_job_cancel(s.store, j->campaign, j->number, now, result_cb, &x)
                        : rd_ops_job_retry_now(s.store, j->campaign, j->number, now, result_cb, &x);
        if (!rc) rc = rd_cli_wait(&s, &x.done);
        if (!rc) rc = x.status;
        if (rc == RD_ENOTFOUND) x.r = RD_OPS_FINAL, rc = 0; /* campaign gone */
        if (rc) {
            ex = rd_cli_fail(&s, rc, a->cmd);
            goto out;
        }
        const char *res = x.r == RD_OPS_DONE        ? (cancel ? "canceled" : "due-now")
                          : x.r == RD_OPS_LIVE_CALL ? "live-call"
                                                    : "final";
        done += x.r == RD_OPS_DONE;
        live += x.r == RD_OPS_LIVE_CALL;
        final += x.r == RD_OPS_FINAL;
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s}", "id", j->id, "campaign",
                                             j->campaign, "to", j->number, "result", res));
        if (!rd_cli_flag_has(a, "json")) {
            if (x.r == RD_OPS_DONE)
                printf("%s %s\n", j->id,
                       cancel ? "canceled (final: canceled)" : "due now (window and caps apply)");
            else if (x.r == RD_OPS_LIVE_CALL)
                printf("%s not touched: a call is in progress (it ends and settles as usual)\n",
                       j->id);
            else
                printf("%s not touched: already finished\n", j->id);
        }
    }
    if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:o,s:I,s:I,s:I}", "jobs", arr,
                                    cancel ? "canceled" : "due_now", (json_int_t)done, "live_calls",
                                    (json_int_t)live, "finished_already", (json_int_t) final));
        arr = NULL;
    } else {
        printf("%zu job%s %s, %zu with a call in progress, %zu already finished\n", done,
               done == 1 ? "" : "s", cancel ? "canceled" : "made due now", live, final);
    }
    /* Named jobs that could not be acted on are a refusal (exit 1); a filter
     * acts on what it matched. */
    ex = !by_filter && done < r.n ? RD_CLI_REFUSED : RD_CLI_OK;
out:
    json_decref(arr);
    rd_free(r.jobs);
    rd_cli_close(&s);
    return ex;
}

static const char *const JOB_HELP =
    "Usage: redial-cli job SUBCOMMAND ...\n"
    "\n"
    "  job show ID [--json]       a job's state and attempt history in local time\n"
    "  job list [--campaign C] [--state S] [--number N] [--limit K] [--cursor X] [--json]\n"
    "                             jobs matching the filters (S: pending, claimed, calling,\n"
    "                             live, final); 100 by default; --json gives \"next\", the\n"
    "                             --cursor of the following page (\"0\" = no more)\n"
    "  job cancel ID... | --campaign C [--number N]  [--yes] [--json]\n"
    "                             finish pending jobs as canceled (final event)\n"
    "  job retry-now ID... | --campaign C [--number N]  [--yes] [--json]\n"
    "                             make pending jobs due now (the calling window and the\n"
    "                             per-number caps still apply when they are claimed)\n"
    "\n"
    "An ID is the producer's id or the generated CAMPAIGN/NUMBER/SEQ. cancel and\n"
    "retry-now print what they did to each job and the counts; when more than one job\n"
    "would be hit they do nothing without --yes (exit 1). A job whose call is in\n"
    "progress is never touched: the call ends and settles as usual. Finished jobs are\n"
    "kept for the store's retention (7 days by default).\n"
    "\n"
    "Examples:\n"
    "  redial-cli job show inv-42\n"
    "  redial-cli job list --campaign Payment_Reminders --state pending --limit 20\n"
    "  redial-cli job cancel inv-42\n"
    "  redial-cli job retry-now --campaign Payment_Reminders --yes\n"
    "\n"
    "Exit 1 when a named job was not found or could not be acted on.\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t JOB_FLAGS[] = {{"json", false, false}, {"campaign", true, false},
                                          {"state", true, false}, {"number", true, false},
                                          {"limit", true, false}, {"cursor", true, false},
                                          {"yes", false, false}};

const char *rd_cli_job_help(void) { return JOB_HELP; }

int rd_cli_job_ops(int argc, char **argv) {
    const char *sub = argv[1];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "job %s", sub);
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex =
        rd_cli_args_parse(a, cmd, JOB_FLAGS, RD_ARRAY_LEN(JOB_FLAGS), JOB_HELP, argc - 1, argv + 1);
    if (!ex && !a->help) {
        if (!strcmp(sub, "list"))
            ex = job_list(a);
        else if (!strcmp(sub, "cancel"))
            ex = job_act(a, true);
        else
            ex = job_act(a, false);
    }
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- dnd / optout check, remove, list --------------------------------------------------- */

static int numbers_check(rd_cli_args_t *a, rd_ops_set_t set) {
    const char *what = set == RD_OPS_DND ? "on the DND set" : "opted out";
    if (a->n_pos < 2) {
        rd_cli_err(a->cmd, "needs at least one NUMBER (see --help)");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    json_t *arr = json_array();
    bool json = rd_cli_flag_has(a, "json");
    for (size_t i = 1; i < a->n_pos && !ex; i++) {
        char shown[40];
        rd_text_printable(shown, sizeof shown, a->pos[i]);
        rd_cli_count_t r = {0};
        int rc = rd_ops_number_check(s.store, set, a->pos[i], rd_cli_count_cb, &r);
        if (!rc) rc = rd_cli_wait(&s, &r.done);
        if (!rc) rc = r.status;
        if (rc == RD_EINVAL) {
            rd_cli_err(a->cmd, "\"%s\" is not a phone number", shown);
            ex = RD_CLI_REFUSED;
            break;
        }
        if (rc) {
            ex = rd_cli_fail(&s, rc, a->cmd);
            break;
        }
        json_array_append_new(arr, json_pack("{s:s,s:b}", "number", shown,
                                             set == RD_OPS_DND ? "dnd" : "opted_out", r.n > 0));
        if (!json) printf("%s %s%s\n", shown, r.n ? "" : "not ", what);
    }
    if (!ex && json) {
        rd_cli_print_json(arr);
        arr = NULL;
    }
    json_decref(arr);
    rd_cli_close(&s);
    return ex;
}

static int numbers_remove(rd_cli_args_t *a, rd_ops_set_t set) {
    const char *name = set == RD_OPS_DND ? "DND set" : "opt-out set";
    if (a->n_pos < 2) {
        rd_cli_err(a->cmd, "needs at least one NUMBER (see --help)");
        return RD_CLI_USAGE;
    }
    if (a->n_pos > 4001) {
        rd_cli_err(a->cmd, "at most 4000 numbers per command");
        return RD_CLI_USAGE;
    }
    for (size_t i = 1; i < a->n_pos; i++)
        if (strlen(a->pos[i]) > RD_E164_MAX) {
            char shown[40];
            rd_text_printable(shown, sizeof shown, a->pos[i]);
            rd_cli_err(a->cmd, "\"%s\" is not a phone number", shown);
            return RD_CLI_REFUSED;
        }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    rd_cli_count_t r = {0};
    int rc = rd_ops_number_remove(s.store, set, (const char *const *)a->pos + 1, a->n_pos - 1,
                                  rd_cli_count_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, a->cmd);
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:I,s:I}", "given", (json_int_t)(a->n_pos - 1), "removed",
                                    (json_int_t)r.n));
    } else {
        printf("removed %lld of %zu number%s from the %s (the others were not on it); jobs "
               "already finished stay finished\n",
               (long long)r.n, a->n_pos - 1, a->n_pos == 2 ? "" : "s", name);
    }
    rd_cli_close(&s);
    return ex;
}

typedef struct {
    bool done;
    int status;
    char next[32];
    json_t *arr;
    size_t n, limit;
    bool json;
} scan_t;

static void scan_cb(rd_store_t *s, int status, char *const *items, size_t n, const char *next,
                    void *arg) {
    (void)s;
    scan_t *r = arg;
    r->status = status;
    snprintf(r->next, sizeof r->next, "%s", next);
    for (size_t i = 0; !status && i < n && r->n < r->limit; i++, r->n++) {
        if (r->json)
            json_array_append_new(r->arr, json_string(items[i]));
        else
            printf("%s\n", items[i]);
    }
    r->done = true;
}

static int numbers_list(rd_cli_args_t *a, rd_ops_set_t set) {
    size_t limit;
    int ex = parse_limit(a->cmd, rd_cli_flag_get(a, "limit"), 1000000, &limit);
    if (ex) return ex;
    if (a->n_pos != 1) {
        rd_cli_err(a->cmd, "takes no arguments (see --help)");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, a->cmd))) return ex;
    scan_t r = {.arr = json_array(), .limit = limit, .json = rd_cli_flag_has(a, "json")};
    snprintf(r.next, sizeof r.next, "0");
    int rc = 0;
    do {
        char cur[32];
        snprintf(cur, sizeof cur, "%s", r.next);
        r.done = false;
        rc = rd_ops_set_scan(s.store, set, cur, scan_cb, &r);
        if (!rc) rc = rd_cli_wait(&s, &r.done);
        if (!rc) rc = r.status;
    } while (!rc && strcmp(r.next, "0") && r.n < r.limit);
    if (rc) {
        ex = rd_cli_fail(&s, rc, a->cmd);
    } else if (r.json) {
        rd_cli_print_json(json_pack("{s:O,s:I}", "numbers", r.arr, "count", (json_int_t)r.n));
    } else {
        fprintf(stderr, "%zu number%s\n", r.n, r.n == 1 ? "" : "s");
    }
    json_decref(r.arr);
    rd_cli_close(&s);
    return ex;
}

static const rd_cli_flag_t NUM_FLAGS[] = {{"json", false, false}, {"limit", true, false}};

int rd_cli_numbers_ops(int argc, char **argv, bool dnd, const char *help) {
    const char *sub = argv[1];
    char cmd[32];
    snprintf(cmd, sizeof cmd, "%s %s", dnd ? "dnd" : "optout", sub);
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    rd_ops_set_t set = dnd ? RD_OPS_DND : RD_OPS_OPTOUT;
    int ex =
        rd_cli_args_parse(a, cmd, NUM_FLAGS, RD_ARRAY_LEN(NUM_FLAGS), help, argc - 1, argv + 1);
    if (!ex && !a->help) {
        if (!strcmp(sub, "check"))
            ex = numbers_check(a, set);
        else if (!strcmp(sub, "remove"))
            ex = numbers_remove(a, set);
        else
            ex = numbers_list(a, set);
    }
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- agents list ------------------------------------------------------------------------- */

typedef struct {
    bool done;
    int status;
    json_t *arr;
} pools_t;

static void pools_cb(rd_store_t *s, int status, const rd_ops_pool_t *p, size_t n, void *arg) {
    (void)s;
    pools_t *r = arg;
    r->status = status;
    for (size_t i = 0; !status && i < n; i++)
        json_array_append_new(r->arr,
                              json_pack("{s:s,s:I,s:I}", "pool", p[i].name, "capacity",
                                        (json_int_t)p[i].capacity, "live", (json_int_t)p[i].live));
    r->done = true;
}

int rd_cli_agents_list(rd_cli_args_t *a) {
    if (a->n_pos != 1) {
        rd_cli_err(a->cmd, "takes no arguments (see --help)");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    pools_t r = {.arr = json_array()};
    int rc = rd_ops_pool_list(s.store, pools_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, a->cmd);
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_incref(r.arr));
    } else {
        printf("%-32s %9s %6s\n", "POOL", "CAPACITY", "LIVE");
        size_t i;
        json_t *p;
        json_array_foreach(r.arr, i, p)
            printf("%-32s %9lld %6lld\n", json_string_value(json_object_get(p, "pool")),
                   (long long)json_integer_value(json_object_get(p, "capacity")),
                   (long long)json_integer_value(json_object_get(p, "live")));
    }
    json_decref(r.arr);
    rd_cli_close(&s);
    return ex;
}
