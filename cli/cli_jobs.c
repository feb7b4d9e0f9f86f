/*
 * cli_jobs.c — the job-level and number-level commands of redial-cli:
 * `enqueue`, `optout`, `dnd import`, `agents set`, `job show`, `ping`.
 *
 * Design. `enqueue` loads the campaign once, then judges every number with
 * rd_enqueue_prepare() — the checks and first due time of ingest and the
 * control API — and stores the accepted ones with pipelined
 * rd_store_enqueue() requests. `dnd import` streams its file line by line
 * (no size limit), reports each bad line as FILE:LINE, and adds the good
 * numbers in batches of DND_BATCH with a bounded window. `job show` prints
 * the attempt history in the callee's local time: the zone the policy uses
 * for the job (rd_policy_zone), so the times shown are the ones the calling
 * window was checked against.
 *
 * Exit codes as in cli_session.h: partial success (some numbers or lines
 * refused, the rest done) is 1 so a script notices.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"
#include "store/enqueue.h"
#include "store/view.h"
#include "proto/policy.h"
#include "proto/text.h"

#define DND_BATCH 500
#define DND_WINDOW 8

/* ---- enqueue ------------------------------------------------------------------------ */

static const char *const ENQUEUE_HELP =
    "Usage: redial-cli enqueue CAMPAIGN NUMBER... [options]\n"
    "       redial-cli enqueue CAMPAIGN --file FILE.csv [options]   (FILE '-' = stdin)\n"
    "\n"
    "Adds one job per NUMBER to CAMPAIGN, with the same checks and first due time\n"
    "as the inbox: E.164 numbers only ('+' and 8-15 digits), DND and opt-out\n"
    "numbers are recorded as final, a number with a live job in the campaign (or\n"
    "an id seen before) is a no-op. There is no limit on the count: numbers are\n"
    "sent in pipelined batches and reported as they are stored.\n"
    "\n"
    "--file reads CSV: the number first, then the job's custom fields. With a\n"
    "header line (its first cell is not a number, e.g. \"number,invoice,amount\")\n"
    "the other columns are named by it, a column named \"id\" being the job's\n"
    "idempotency key; without one, each further cell is KEY=VALUE. Blank lines and\n"
    "lines starting with '#' are skipped; cells may be double-quoted.\n"
    "\n"
    "  --file FILE        CSV of numbers and fields ('-' = stdin)\n"
    "  --id ID            idempotency key (one NUMBER only; <= 128 bytes)\n"
    "  --var K=V          custom field passed to the provider (repeatable; every job)\n"
    "  --not-before T     earliest call: ISO-8601 (2026-11-28T10:00+05:30) or unix ms\n"
    "  --tz ZONE          callee's IANA time zone (window checked in it)\n"
    "  --json             one JSON array, an object per number:\n"
    "                     {to, id, result, due_ms, due} (due: ISO 8601 with offset)\n"
    "\n"
    "Examples:\n"
    "  redial-cli enqueue Payment_Reminders +919876543210 --id inv-42 --var invoice=42\n"
    "  redial-cli enqueue Payment_Reminders --file debtors.csv\n"
    "\n"
    "Results: created, duplicate (no-op), dnd / opted-out (recorded final, never\n"
    "dialed); refused: invalid, conflict (live job under another id), canceled.\n"
    "Exit 1 when any number was refused (the others are enqueued).\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t ENQUEUE_FLAGS[] = {{"id", true, false},         {"var", true, true},
                                              {"not-before", true, false}, {"tz", true, false},
                                              {"file", true, false},       {"json", false, false}};

/* Jobs stored per pipelined chunk; results are printed chunk by chunk. */
#define ENQ_CHUNK 1024

typedef struct {
    size_t left;
} enq_batch_t;

typedef struct {
    enq_batch_t *batch;
    const char *to;
    const char *id; /* NULL = none */
    rd_job_var_t vars[RD_JOB_MAX_VARS];
    size_t n_vars;
    char *row; /* owned storage of a file row's cells (NULL for argv) */
    int status;
    rd_enq_result_t result;
    char gid[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2];
    char err[200]; /* refused before the store */
    int64_t due_ms;
    bool sent;
} enq_one_t;

/* What one enqueue run shares across its chunks. */
typedef struct {
    rd_cli_session_t *s;
    rd_campaign_t *c;
    const char *tz;
    int64_t not_before;
    const rd_job_var_t *vars; /* --var, applied to every job */
    size_t n_vars;
    bool json, refused;
    size_t printed; /* JSON items printed so far */
    enq_one_t *ones;
    size_t n;
} enq_run_t;

static void enq_cb(rd_store_t *s, int status, rd_enq_result_t result, const char *id, void *arg) {
    (void)s;
    enq_one_t *o = arg;
    o->status = status;
    o->result = result;
    if (!status && id) snprintf(o->gid, sizeof o->gid, "%s", id);
    o->batch->left--;
}

static void enq_print(enq_run_t *r, enq_one_t *o) {
    const rd_campaign_t *c = r->c;
    char shown[40], due[64] = "";
    rd_text_printable(shown, sizeof shown, o->to);
    const char *res = o->sent ? rd_enqueue_result_name(o->result) : "invalid";
    bool bad = !o->sent || rd_enqueue_result_refused(o->result);
    r->refused |= bad;
    const rd_tz_t *z = NULL;
    if (o->sent && o->result == RD_ENQ_CREATED) {
        z = rd_policy_zone(c, r->tz, o->to);
        if (!z) z = rd_tz_get(c->timezone);
    }
    if (r->json) {
        json_t *x = json_object();
        json_object_set_new(x, "to", json_string(shown));
        if (o->sent) json_object_set_new(x, "id", json_string(o->gid));
        json_object_set_new(x, "result", json_string(res));
        if (!o->sent) json_object_set_new(x, "reason", json_string(o->err));
        if (z) {
            rd_view_iso(due, sizeof due, z, o->due_ms);
            json_object_set_new(x, "due_ms", json_integer(o->due_ms));
            json_object_set_new(x, "due", json_string(due));
        }
        char *t = json_dumps(x, JSON_COMPACT);
        printf("%s\n  %s", r->printed++ ? "," : "[", t ? t : "{}");
        free(t);
        json_decref(x);
    } else if (!o->sent) {
        rd_cli_err("enqueue", "\"%s\" refused as invalid: %s", shown, o->err);
    } else if (bad) {
        rd_cli_err("enqueue", "\"%s\" refused: %s", shown,
                   o->result == RD_ENQ_CONFLICT
                       ? "conflict (a live job for this number exists under another id)"
                   : o->result == RD_ENQ_CANCELED ? "the campaign is canceled"
                                                  : "the campaign no longer exists");
    } else if (z) {
        rd_cli_fmt_local(due, sizeof due, z, o->due_ms);
        printf("%s created %s, first call due %s\n", shown, o->gid, due);
    } else if (o->result == RD_ENQ_DUPLICATE) {
        printf("%s duplicate %s (no-op: already enqueued)\n", shown, o->gid);
    } else {
        printf("%s %s %s (recorded final, never dialed)\n", shown, res, o->gid);
    }
}

/* Stores and prints the r->n jobs gathered in r->ones, then empties the chunk.
 * Returns 0 or a store status (Redis unreachable...). */
static int enq_flush(enq_run_t *r) {
    enq_batch_t batch = {0};
    int64_t now = rd_cli_now(r->s);
    int status = 0;
    for (size_t i = 0; i < r->n && !status; i++) {
        enq_one_t *o = &r->ones[i];
        o->batch = &batch;
        if (o->err[0]) continue;
        rd_job_var_t all[RD_JOB_MAX_VARS];
        size_t na = 0;
        for (size_t k = 0; k < r->n_vars && na < RD_JOB_MAX_VARS; k++) all[na++] = r->vars[k];
        for (size_t k = 0; k < o->n_vars; k++) {
            if (na >= RD_JOB_MAX_VARS) {
                snprintf(o->err, sizeof o->err, "vars: at most %d custom fields", RD_JOB_MAX_VARS);
                goto next;
            }
            all[na++] = o->vars[k];
        }
        rd_store_enqueue_t e;
        if (rd_enqueue_prepare(r->c, o->to, o->id, r->tz, all, na, r->not_before, now, &e, o->err,
                               sizeof o->err))
            goto next;
        o->due_ms = e.due_ms;
        int rc = rd_store_enqueue(r->s->store, &e, now, enq_cb, o);
        if (rc) {
            status = rc;
            break;
        }
        o->sent = true;
        batch.left++;
        /* Bounded window: let replies drain before the pipeline grows large. */
        status = rd_cli_drain(r->s, &batch.left, 255);
    next:;
    }
    int drained = rd_cli_drain(r->s, &batch.left, 0);
    if (!status) status = drained;
    for (size_t i = 0; i < r->n && !status; i++)
        if (r->ones[i].sent && r->ones[i].status) status = r->ones[i].status;
    for (size_t i = 0; i < r->n; i++) {
        if (!status) enq_print(r, &r->ones[i]);
        rd_free(r->ones[i].row);
    }
    memset(r->ones, 0, r->n * sizeof *r->ones);
    r->n = 0;
    return status;
}

/*
 * Splits one CSV line in place into cells (double quotes, "" inside them).
 * Returns the cell count, or -1 when a quote is not closed.
 */
static int csv_split(char *line, char **cells, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return n;
        char *out = p, *start = p;
        if (*p == '"') {
            p++;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') {
                    *out++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *out++ = *p++;
                }
            }
            while (*p && *p != ',') p++;
        } else {
            while (*p && *p != ',') *out++ = *p++;
        }
        bool more = *p == ',';
        *out = '\0';
        cells[n++] = start;
        if (!more) return n;
        p++;
    }
}

static char *trim(char *p) {
    while (*p == ' ' || *p == '\t') p++;
    char *e = p + strlen(p);
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
    *e = '\0';
    return p;
}

/* Reads the CSV file into chunks of jobs. Returns 0, a store status (< 0), or
 * an exit code (> 0) after printing the problem. */
static int enq_file(enq_run_t *r, const char *path) {
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        rd_cli_err("enqueue", "%s: cannot open (%s)", path, strerror(errno));
        return RD_CLI_REFUSED;
    }
    char *line = NULL, *header = NULL;
    char *names[RD_JOB_MAX_VARS + 2];
    int n_names = 0;
    size_t cap = 0, lineno = 0;
    int ret = 0;
    bool seen_row = false;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            rd_cli_err("enqueue", "%s:%zu: NUL byte in line", path, lineno);
            r->refused = true;
            continue;
        }
        char *t = trim(line);
        if (!*t || *t == '#') continue;
        char *row = rd_strdup(t), *cells[RD_JOB_MAX_VARS + 2];
        int nc = csv_split(row, cells, (int)RD_ARRAY_LEN(cells));
        for (int i = 0; i < nc; i++) cells[i] = trim(cells[i]);
        bool first = !seen_row;
        seen_row = true;
        if (first && nc > 0 && *cells[0] && *cells[0] != '+' &&
            !(*cells[0] >= '0' && *cells[0] <= '9')) {
            header = row;
            n_names = nc;
            for (int i = 0; i < nc; i++) names[i] = cells[i];
            continue;
        }
        enq_one_t *o = &r->ones[r->n];
        memset(o, 0, sizeof *o);
        o->row = row;
        o->to = nc > 0 ? cells[0] : "";
        if (nc < 0) {
            snprintf(o->err, sizeof o->err, "line %zu: unclosed double quote", lineno);
            o->to = "";
        }
        for (int i = 1; i < nc; i++) {
            const char *k = NULL, *v = cells[i];
            if (n_names) {
                if (i >= n_names) {
                    snprintf(o->err, sizeof o->err, "line %zu: more cells than the header", lineno);
                    break;
                }
                k = names[i];
                if (!strcmp(k, "id")) {
                    o->id = *v ? v : NULL;
                    continue;
                }
                if (!*v) continue;
            } else {
                char *eq = strchr(cells[i], '=');
                if (!eq || eq == cells[i]) {
                    snprintf(o->err, sizeof o->err, "line %zu: \"%.40s\" is not KEY=VALUE", lineno,
                             cells[i]);
                    break;
                }
                *eq = '\0';
                k = cells[i];
                v = eq + 1;
            }
            if (o->n_vars >= RD_JOB_MAX_VARS) {
                snprintf(o->err, sizeof o->err, "line %zu: at most %d custom fields", lineno,
                         RD_JOB_MAX_VARS);
                break;
            }
            o->vars[o->n_vars].key = (char *)k;
            o->vars[o->n_vars++].val = (char *)v;
        }
        if (++r->n == ENQ_CHUNK && (ret = enq_flush(r))) break;
    }
    if (!ret && ferror(f)) {
        rd_cli_err("enqueue", "%s: read error (%s)", path, strerror(errno));
        r->refused = true;
    }
    if (!ret && r->n) ret = enq_flush(r);
    free(line);
    rd_free(header);
    if (f != stdin) fclose(f);
    return ret;
}

int rd_cli_enqueue(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    rd_job_var_t vars[RD_JOB_MAX_VARS];
    char *varbuf[RD_JOB_MAX_VARS] = {0};
    size_t n_vars = 0;
    rd_campaign_t c;
    bool have_c = false, open = false;
    rd_cli_session_t s;
    enq_run_t r = {0};
    int ex = rd_cli_args_parse(a, "enqueue", ENQUEUE_FLAGS, RD_ARRAY_LEN(ENQUEUE_FLAGS),
                               ENQUEUE_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    const char *file = rd_cli_flag_get(a, "file");
    if (a->n_pos < 1 || (a->n_pos < 2 && !file) || (file && a->n_pos != 1)) {
        rd_cli_err("enqueue", "needs a CAMPAIGN and either NUMBERs or --file FILE (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    const char *id = rd_cli_flag_get(a, "id"), *tz = rd_cli_flag_get(a, "tz");
    const char *nb = rd_cli_flag_get(a, "not-before");
    int64_t not_before = 0;
    if (id && (file || a->n_pos != 2)) {
        rd_cli_err("enqueue", "--id: an idempotency key names one job; give one NUMBER");
        ex = RD_CLI_USAGE;
        goto out;
    }
    if (nb && (rd_parse_time(nb, &not_before) || not_before < 0)) {
        rd_cli_err("enqueue", "--not-before: \"%s\" is neither ISO-8601 nor unix ms", nb);
        ex = RD_CLI_USAGE;
        goto out;
    }
    for (size_t i = 0; i < a->n_flags; i++) {
        if (strcmp(a->fname[i], "var")) continue;
        const char *eq = strchr(a->fval[i], '=');
        if (!eq || eq == a->fval[i]) {
            rd_cli_err("enqueue", "--var: \"%s\" is not KEY=VALUE", a->fval[i]);
            ex = RD_CLI_USAGE;
            goto out;
        }
        if (n_vars >= RD_JOB_MAX_VARS) {
            rd_cli_err("enqueue", "--var: at most %d custom fields", RD_JOB_MAX_VARS);
            ex = RD_CLI_USAGE;
            goto out;
        }
        varbuf[n_vars] = rd_strdup(a->fval[i]);
        varbuf[n_vars][eq - a->fval[i]] = '\0';
        vars[n_vars].key = varbuf[n_vars];
        vars[n_vars].val = varbuf[n_vars] + (eq - a->fval[i]) + 1;
        n_vars++;
    }
    if ((ex = rd_cli_open(&s, &a->g, "enqueue"))) goto out;
    open = true;
    if ((ex = rd_cli_load_campaign(&s, a->pos[0], &c, NULL))) goto out;
    have_c = true;
    r.s = &s;
    r.c = &c;
    r.tz = tz;
    r.not_before = not_before;
    r.vars = vars;
    r.n_vars = n_vars;
    r.json = rd_cli_flag_has(a, "json");
    r.ones = rd_calloc(ENQ_CHUNK, sizeof *r.ones);
    int status = 0;
    if (file) {
        status = enq_file(&r, file);
        if (status > 0) {
            ex = status;
            goto out;
        }
    } else {
        for (size_t i = 1; i < a->n_pos && !status; i++) {
            enq_one_t *o = &r.ones[r.n++];
            o->to = a->pos[i];
            o->id = id;
            if (r.n == ENQ_CHUNK) status = enq_flush(&r);
        }
        if (!status && r.n) status = enq_flush(&r);
    }
    if (r.json) printf("%s]\n", r.printed ? "\n" : "[");
    if (status) {
        char what[128];
        snprintf(what, sizeof what, "enqueue into \"%s\"", c.name);
        ex = rd_cli_fail(&s, status, what);
        goto out;
    }
    ex = r.refused ? RD_CLI_REFUSED : RD_CLI_OK;
out:
    if (r.ones)
        for (size_t i = 0; i < r.n; i++) rd_free(r.ones[i].row);
    rd_free(r.ones);
    if (have_c) rd_campaign_deinit(&c);
    if (open) rd_cli_close(&s);
    for (size_t i = 0; i < n_vars; i++) rd_free(varbuf[i]);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- optout ----------------------------------------------------------------------------- */

static const char *const OPTOUT_HELP =
    "Usage: redial-cli optout NUMBER... [--json]\n"
    "       redial-cli optout check NUMBER... [--json]    is it opted out?\n"
    "       redial-cli optout remove NUMBER... [--json]   undo an opt-out (jobs already\n"
    "                                                     finished stay finished)\n"
    "\n"
    "Opts each NUMBER out forever: every pending job of it, in every campaign, is\n"
    "finished as opted-out at once; a live call of it ends as opted-out; it is never\n"
    "dialed again (checked at enqueue and at dial time).\n"
    "\n"
    "Example:\n"
    "  redial-cli optout +919876543210\n"
    "\n"
    "  --json             a JSON array: {number, result, finished_jobs} per NUMBER\n"
    "\n"
    "Exit 1 when a NUMBER is not E.164 (the others are opted out).\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t JSON_FLAG[] = {{"json", false, false}};

int rd_cli_optout(int argc, char **argv) {
    if (argc > 1 && (!strcmp(argv[1], "check") || !strcmp(argv[1], "remove")))
        return rd_cli_numbers_ops(argc, argv, false, OPTOUT_HELP);
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "optout", JSON_FLAG, 1, OPTOUT_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos < 1) {
        rd_cli_err("optout", "needs at least one NUMBER (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "optout"))) goto out;
    bool refused = false, json = rd_cli_flag_has(a, "json");
    json_t *arr = json_array();
    for (size_t i = 0; i < a->n_pos && !ex; i++) {
        const char *num = a->pos[i];
        char shown[40];
        rd_text_printable(shown, sizeof shown, num);
        if (!rd_e164_valid(num, strlen(num))) {
            rd_cli_err("optout", "\"%s\" is not an E.164 number ('+' and 8-15 digits)", shown);
            refused = true;
            json_array_append_new(arr,
                                  json_pack("{s:s,s:s}", "number", shown, "result", "invalid"));
            continue;
        }
        rd_cli_count_t r = {0};
        int rc = rd_store_optout(s.store, num, rd_cli_now(&s), rd_cli_count_cb, &r);
        if (!rc) rc = rd_cli_wait(&s, &r.done);
        if (!rc) rc = r.status;
        if (rc) {
            ex = rd_cli_fail(&s, rc, "optout");
            break;
        }
        if (json)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:I}", "number", shown, "result",
                                                 "opted-out", "finished_jobs", (json_int_t)r.n));
        else
            printf("%s opted out: %lld pending job%s finished as opted-out\n", shown,
                   (long long)r.n, r.n == 1 ? "" : "s");
    }
    if (json && !ex)
        rd_cli_print_json(arr);
    else
        json_decref(arr);
    if (!ex && refused) ex = RD_CLI_REFUSED;
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- dnd import ---------------------------------------------------------------------- */

static const char *const DND_HELP =
    "Usage: redial-cli dnd import FILE [--json]\n"
    "       redial-cli dnd check NUMBER... [--json]    is it on the DND set?\n"
    "       redial-cli dnd remove NUMBER... [--json]   take numbers off the DND set (jobs\n"
    "                                                  already finished stay finished)\n"
    "       redial-cli dnd list [--limit N] [--json]   the DND set's numbers\n"
    "\n"
    "Adds the numbers of FILE ('-' = stdin) to the DND set: one E.164 number per\n"
    "line; blank lines and '#' comments (whole line or after the number) are\n"
    "skipped. DND numbers are never dialed (checked at enqueue and at dial time).\n"
    "Each bad line is reported as FILE:LINE; the good ones are imported anyway.\n"
    "\n"
    "Example:\n"
    "  redial-cli dnd import ndnc-2026-11.txt\n"
    "\n"
    "  --json             {file, imported, added, bad_lines} instead of the summary\n"
    "\n"
    "Exit 1 when some lines were refused.\n" RD_CLI_EXIT_HELP;

typedef struct {
    size_t inflight;
    int status;
    int64_t added;
} dnd_t;

typedef struct {
    dnd_t *d;
    char **nums;
    size_t n;
} dnd_batch_t;

static void dnd_cb(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    dnd_batch_t *b = arg;
    if (status && !b->d->status) b->d->status = status;
    if (!status) b->d->added += n;
    b->d->inflight--;
    for (size_t i = 0; i < b->n; i++) rd_free(b->nums[i]);
    rd_free(b->nums);
    rd_free(b);
}

static int dnd_flush(rd_cli_session_t *s, dnd_t *d, char **nums, size_t n) {
    if (n == 0) return 0;
    dnd_batch_t *b = rd_malloc(sizeof *b);
    b->d = d;
    b->nums = rd_malloc(n * sizeof *nums);
    memcpy(b->nums, nums, n * sizeof *nums);
    b->n = n;
    int rc = rd_store_dnd_add(s->store, (const char *const *)b->nums, n, dnd_cb, b);
    if (rc) {
        b->d->inflight++;
        dnd_cb(s->store, rc, 0, b);
        return rc;
    }
    d->inflight++;
    while (d->inflight >= DND_WINDOW && !d->status)
        if (uv_run(&s->loop, UV_RUN_ONCE) == 0 && d->inflight) d->status = RD_ETIMEOUT;
    return d->status;
}

int rd_cli_dnd(int argc, char **argv) {
    if (argc > 1 &&
        (!strcmp(argv[1], "check") || !strcmp(argv[1], "remove") || !strcmp(argv[1], "list")))
        return rd_cli_numbers_ops(argc, argv, true, DND_HELP);
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    FILE *f = NULL;
    char *line = NULL;
    char *batch[DND_BATCH];
    size_t nb = 0;
    int ex = rd_cli_args_parse(a, "dnd import", JSON_FLAG, 1, DND_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 2 || strcmp(a->pos[0], "import")) {
        rd_cli_err("dnd", "usage: dnd import FILE | check | remove | list (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    const char *path = a->pos[1];
    f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        rd_cli_err("dnd import", "%s: cannot open (%s)", path, strerror(errno));
        ex = RD_CLI_REFUSED;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "dnd import"))) goto out;
    dnd_t d = {0};
    size_t cap = 0, lineno = 0, good = 0, bad = 0;
    ssize_t len;
    while (!d.status && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char *p = line, *hash = memchr(line, '#', (size_t)len);
        if (hash) *hash = '\0';
        while (*p == ' ' || *p == '\t') p++;
        char *e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r')) e--;
        *e = '\0';
        if (!*p) continue;
        if (!rd_e164_valid(p, (size_t)(e - p)) || memchr(line, '\0', (size_t)(e - line)) != NULL) {
            char shown[40];
            rd_text_printable(shown, sizeof shown, p);
            fprintf(stderr, "%s:%zu: \"%s\" is not an E.164 number ('+' and 8-15 digits)\n", path,
                    lineno, shown);
            bad++;
            continue;
        }
        batch[nb++] = rd_strdup(p);
        good++;
        if (nb == DND_BATCH) {
            dnd_flush(&s, &d, batch, nb);
            nb = 0;
        }
    }
    if (!d.status && ferror(f)) {
        rd_cli_err("dnd import", "%s: read error (%s)", path, strerror(errno));
        ex = RD_CLI_REFUSED;
    }
    if (!d.status && nb)
        dnd_flush(&s, &d, batch, nb);
    else
        for (size_t i = 0; i < nb; i++) rd_free(batch[i]);
    nb = 0;
    int drained = rd_cli_drain(&s, &d.inflight, 0);
    if (drained && !d.status) d.status = drained;
    if (d.status) {
        ex = rd_cli_fail(&s, d.status, "dnd import");
    } else if (!ex) {
        if (rd_cli_flag_has(a, "json"))
            rd_cli_print_json(json_pack("{s:s,s:I,s:I,s:I}", "file", path, "imported",
                                        (json_int_t)good, "added", (json_int_t)d.added, "bad_lines",
                                        (json_int_t)bad));
        else
            printf("%s: %zu number%s imported (%lld new to the DND set), %zu bad line%s\n", path,
                   good, good == 1 ? "" : "s", (long long)d.added, bad, bad == 1 ? "" : "s");
        ex = bad ? RD_CLI_REFUSED : RD_CLI_OK;
    }
    rd_cli_close(&s);
out:
    for (size_t i = 0; i < nb; i++) rd_free(batch[i]);
    free(line);
    if (f && f != stdin) fclose(f);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- agents set -------------------------------------------------------------------------- */

static const char *const AGENTS_HELP =
    "Usage: redial-cli agents set POOL N [--json]\n"
    "       redial-cli agents list [--json]   every pool with its capacity and live calls\n"
    "\n"
    "Sets agent pool POOL's capacity to N agents: campaigns with limits.agent_pool =\n"
    "POOL hold one slot per live call, across every engine. Lowering N below the live\n"
    "calls lets them finish and admits no new call until under N.\n"
    "\n"
    "Example:\n"
    "  redial-cli agents set collections 25\n"
    "\n" RD_CLI_EXIT_HELP;

int rd_cli_agents(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "agents set", JSON_FLAG, 1, AGENTS_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos >= 1 && !strcmp(a->pos[0], "list")) {
        a->cmd = "agents list";
        ex = rd_cli_agents_list(a);
        goto out;
    }
    if (a->n_pos != 3 || strcmp(a->pos[0], "set")) {
        rd_cli_err("agents", "usage: agents set POOL N | agents list (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    const char *pool = a->pos[1];
    char *end;
    errno = 0;
    long long cap = strtoll(a->pos[2], &end, 10);
    if (!rd_cli_name_valid(pool)) {
        rd_cli_err("agents set", "pool name: 1-64 characters of A-Z a-z 0-9 _ . -");
        ex = RD_CLI_USAGE;
        goto out;
    }
    if (!*a->pos[2] || *end || errno || cap < 0 || cap > 1000000) {
        rd_cli_err("agents set", "N: \"%s\" is not an agent count in 0..1000000", a->pos[2]);
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "agents set"))) goto out;
    rd_cli_done_t d = {0};
    int rc = rd_store_pool_set(s.store, pool, cap, rd_cli_done_cb, &d);
    if (!rc) rc = rd_cli_wait(&s, &d.done);
    if (!rc) rc = d.status;
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "agent pool \"%s\"", pool);
        ex = rd_cli_fail(&s, rc, what);
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:s,s:I}", "pool", pool, "capacity", (json_int_t)cap));
    } else {
        printf("agent pool %s: capacity %lld\n", pool, cap);
    }
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- job show -------------------------------------------------------------------------- */

static const rd_cli_flag_t JOB_FLAGS[] = {{"json", false, false}};

typedef struct {
    bool done;
    int status;
    rd_store_job_t *job;
} job_res_t;

static void job_cb(rd_store_t *s, int status, const rd_store_job_t *job, void *arg) {
    (void)s;
    job_res_t *r = arg;
    r->status = status;
    if (!status && job) r->job = rd_store_job_dup(job);
    r->done = true;
}

static const char *job_state_name(rd_job_state_t st) {
    switch (st) {
    case RD_JOB_PENDING:
        return "pending";
    case RD_JOB_CLAIMED:
        return "claimed";
    case RD_JOB_PLACED:
        return "calling";
    case RD_JOB_FINAL:
        return "final";
    }
    return "?";
}

int rd_cli_job(int argc, char **argv) {
    if (argc > 1 &&
        (!strcmp(argv[1], "list") || !strcmp(argv[1], "cancel") || !strcmp(argv[1], "retry-now")))
        return rd_cli_job_ops(argc, argv);
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    job_res_t r = {0};
    rd_campaign_t c;
    bool have_c = false, open = false;
    rd_cli_session_t s;
    int ex = rd_cli_args_parse(a, "job show", JOB_FLAGS, RD_ARRAY_LEN(JOB_FLAGS), rd_cli_job_help(),
                               argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 2 || strcmp(a->pos[0], "show")) {
        rd_cli_err("job", "usage: job show ID | list | cancel | retry-now (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    const char *id = a->pos[1];
    char shown[RD_JOB_ID_MAX + 8];
    rd_text_printable(shown, sizeof shown, id);
    if (!*id || strlen(id) > RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX) {
        rd_cli_err("job show", "job \"%s\" not found", shown);
        ex = RD_CLI_REFUSED;
        goto out;
    }
    if ((ex = rd_cli_open(&s, &a->g, "job show"))) goto out;
    open = true;
    int rc = rd_store_job_show(s.store, id, job_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (!rc && !r.job) rc = RD_ENOMEM;
    if (rc) {
        char what[RD_JOB_ID_MAX + 16];
        snprintf(what, sizeof what, "job \"%s\"", shown);
        ex = rd_cli_fail(&s, rc, what);
        goto out;
    }
    const rd_store_job_t *j = r.job;
    /* The campaign gives the zone; if it is gone, show UTC only. */
    const rd_tz_t *tz = NULL;
    if (rd_cli_load_campaign(&s, j->campaign, &c, NULL) == 0) {
        have_c = true;
        tz = rd_policy_zone(&c, j->tz[0] ? j->tz : NULL, j->to);
    }
    if (!tz) tz = rd_tz_get("UTC");
    char t1[64], t2[40];
    if (rd_cli_flag_has(a, "json")) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(j->id));
        json_object_set_new(o, "campaign", json_string(j->campaign));
        json_object_set_new(o, "to", json_string(j->to));
        json_object_set_new(o, "state", json_string(job_state_name(j->state)));
        json_object_set_new(o, "disposition",
                            j->state == RD_JOB_FINAL
                                ? json_string(rd_disposition_name(j->disposition))
                                : json_null());
        json_object_set_new(o, "tz", json_string(rd_tz_name(tz)));
        json_object_set_new(o, "attempts", json_integer((json_int_t)j->n_hist));
        json_t *h = json_array();
        for (size_t i = 0; i < j->n_hist; i++) {
            json_t *x = json_object();
            rd_view_iso(t1, sizeof t1, tz, j->hist[i].start_ms);
            rd_cli_fmt_utc(t2, sizeof t2, j->hist[i].start_ms);
            json_object_set_new(x, "attempt", json_integer((json_int_t)i + 1));
            json_object_set_new(x, "outcome", json_string(rd_outcome_name(j->hist[i].outcome)));
            json_object_set_new(x, "started_ms", json_integer(j->hist[i].start_ms));
            json_object_set_new(x, "started_local", json_string(t1));
            json_object_set_new(x, "started", json_string(t2));
            json_array_append_new(h, x);
        }
        json_object_set_new(o, "history", h);
        if (j->state == RD_JOB_PENDING) {
            rd_view_iso(t1, sizeof t1, tz, j->due_ms);
            json_object_set_new(o, "due_ms", json_integer(j->due_ms));
            json_object_set_new(o, "due_local", json_string(t1));
        } else if (j->state != RD_JOB_FINAL) {
            json_object_set_new(o, "live_attempt", json_integer(j->attempt));
            json_object_set_new(o, "call_id", json_string(j->call_id));
        }
        if (j->n_vars) {
            json_t *v = json_object();
            for (size_t i = 0; i < j->n_vars; i++)
                json_object_set_new(v, j->vars[i].key, json_string(j->vars[i].val));
            json_object_set_new(o, "vars", v);
        }
        rd_cli_print_json(o);
    } else {
        printf("job       %s\ncampaign  %s\nto        %s\nzone      %s\n", j->id, j->campaign,
               j->to, rd_tz_name(tz));
        if (j->state == RD_JOB_FINAL)
            printf("state     final: %s after %zu attempt%s\n", rd_disposition_name(j->disposition),
                   j->n_hist, j->n_hist == 1 ? "" : "s");
        else if (j->state == RD_JOB_PENDING) {
            rd_cli_fmt_local(t1, sizeof t1, tz, j->due_ms);
            printf("state     pending: next attempt (%zu) due %s\n", j->n_hist + 1, t1);
        } else {
            printf("state     %s: attempt %d live%s%s\n", job_state_name(j->state), j->attempt,
                   j->call_id[0] ? ", call " : "", j->call_id);
        }
        if (j->n_hist)
            printf("\n%-8s %-27s %-25s %s\n", "ATTEMPT", "STARTED (LOCAL)", "STARTED (UTC)",
                   "OUTCOME");
        for (size_t i = 0; i < j->n_hist; i++) {
            rd_cli_fmt_local(t1, sizeof t1, tz, j->hist[i].start_ms);
            rd_cli_fmt_utc(t2, sizeof t2, j->hist[i].start_ms);
            printf("%-8zu %-27s %-25s %s\n", i + 1, t1, t2, rd_outcome_name(j->hist[i].outcome));
        }
    }
    ex = RD_CLI_OK;
out:
    if (have_c) rd_campaign_deinit(&c);
    rd_store_job_free(r.job);
    if (open) rd_cli_close(&s);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- ping ------------------------------------------------------------------------------ */

static const char *const PING_HELP =
    "Usage: redial-cli ping [--json]\n"
    "\n"
    "Exits 0 when Redis answers a read (connection and authentication work)\n"
    "within --timeout, 3 otherwise. Used by the Docker healthcheck.\n"
    "\n" RD_CLI_EXIT_HELP;

int rd_cli_ping(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "ping", JSON_FLAG, 1, PING_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos) {
        rd_cli_err("ping", "takes no arguments");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "ping"))) goto out;
    /* A real round trip through the store (a DND lookup of a number that is
     * never dialed): connected, authenticated, scripts usable. */
    rd_cli_count_t r = {0};
    int rc = rd_store_dnd_check(s.store, "+10000000000", rd_cli_count_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, "ping");
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:b,s:s}", "ok", 1, "redis", s.where));
    } else {
        printf("PONG %s\n", s.where);
    }
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
