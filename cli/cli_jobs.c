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
#include "proto/policy.h"
#include "proto/text.h"

#define DND_BATCH 500
#define DND_WINDOW 8

/* ---- enqueue ------------------------------------------------------------------------ */

static const char *const ENQUEUE_HELP =
    "Usage: redial-cli enqueue CAMPAIGN NUMBER... [options]\n"
    "\n"
    "Adds one job per NUMBER to CAMPAIGN, with the same checks and first due time\n"
    "as the inbox: E.164 numbers only ('+' and 8-15 digits), DND and opt-out\n"
    "numbers are recorded as final, a number with a live job in the campaign (or\n"
    "an id seen before) is a no-op.\n"
    "\n"
    "  --id ID            idempotency key (one NUMBER only; <= 128 bytes)\n"
    "  --var K=V          custom field passed to the provider (repeatable)\n"
    "  --not-before T     earliest call: ISO-8601 (2026-11-28T10:00+05:30) or unix ms\n"
    "  --tz ZONE          callee's IANA time zone (window checked in it)\n"
    "  --json             one JSON object per number: {to, id, result, due_ms, due}\n"
    "\n"
    "Example:\n"
    "  redial-cli enqueue Payment_Reminders +919876543210 --id inv-42 --var invoice=42\n"
    "\n"
    "Results: created, duplicate (no-op), dnd / opted-out (recorded final, never\n"
    "dialed); refused: invalid, conflict (live job under another id), canceled.\n"
    "Exit 1 when any number was refused (the others are enqueued).\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t ENQUEUE_FLAGS[] = {{"id", true, false},
                                              {"var", true, true},
                                              {"not-before", true, false},
                                              {"tz", true, false},
                                              {"json", false, false}};

typedef struct {
    size_t left;
} enq_batch_t;

typedef struct {
    enq_batch_t *batch;
    const char *to;
    int status;
    rd_enq_result_t result;
    char id[RD_STORE_GEN_ID_MAX + RD_JOB_ID_MAX + 2];
    char err[200]; /* refused before the store */
    int64_t due_ms;
    bool sent;
} enq_one_t;

static void enq_cb(rd_store_t *s, int status, rd_enq_result_t result, const char *id, void *arg) {
    (void)s;
    enq_one_t *o = arg;
    o->status = status;
    o->result = result;
    if (!status && id) snprintf(o->id, sizeof o->id, "%s", id);
    o->batch->left--;
}

int rd_cli_enqueue(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    rd_job_var_t vars[RD_JOB_MAX_VARS];
    char *varbuf[RD_JOB_MAX_VARS] = {0};
    size_t n_vars = 0;
    enq_one_t *ones = NULL;
    rd_campaign_t c;
    bool have_c = false, open = false;
    rd_cli_session_t s;
    int ex = rd_cli_args_parse(a, "enqueue", ENQUEUE_FLAGS, RD_ARRAY_LEN(ENQUEUE_FLAGS),
                               ENQUEUE_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos < 2) {
        rd_cli_err("enqueue", "needs a CAMPAIGN and at least one NUMBER (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    const char *id = rd_cli_flag_get(a, "id"), *tz = rd_cli_flag_get(a, "tz");
    const char *nb = rd_cli_flag_get(a, "not-before");
    int64_t not_before = 0;
    if (id && a->n_pos != 2) {
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
    size_t n = a->n_pos - 1;
    ones = rd_calloc(n, sizeof *ones);
    enq_batch_t batch = {0};
    int64_t now = rd_cli_now(&s);
    int status = 0;
    for (size_t i = 0; i < n && !status; i++) {
        enq_one_t *o = &ones[i];
        o->batch = &batch;
        o->to = a->pos[i + 1];
        rd_store_enqueue_t e;
        if (rd_enqueue_prepare(&c, o->to, id, tz, vars, n_vars, not_before, now, &e, o->err,
                               sizeof o->err))
            continue;
        o->due_ms = e.due_ms;
        int rc = rd_store_enqueue(s.store, &e, now, enq_cb, o);
        if (rc) {
            status = rc;
            break;
        }
        o->sent = true;
        batch.left++;
        /* Bounded window: let replies drain before the pipeline grows large. */
        status = rd_cli_drain(&s, &batch.left, 255);
    }
    if (!status) status = rd_cli_drain(&s, &batch.left, 0);
    for (size_t i = 0; i < n && !status; i++)
        if (ones[i].sent && ones[i].status) status = ones[i].status;
    if (status) {
        char what[128];
        snprintf(what, sizeof what, "enqueue into \"%s\"", c.name);
        ex = rd_cli_fail(&s, status, what);
        goto out;
    }
    const rd_tz_t *ctz = rd_tz_get(c.timezone);
    bool json = rd_cli_flag_has(a, "json"), refused = false;
    json_t *arr = json ? json_array() : NULL;
    for (size_t i = 0; i < n; i++) {
        enq_one_t *o = &ones[i];
        char shown[40], due[64] = "";
        rd_text_printable(shown, sizeof shown, o->to);
        const char *res = o->sent ? rd_enqueue_result_name(o->result) : "invalid";
        bool bad = !o->sent || rd_enqueue_result_refused(o->result);
        refused |= bad;
        if (o->sent && o->result == RD_ENQ_CREATED) {
            const rd_tz_t *z = rd_policy_zone(&c, tz, o->to);
            rd_cli_fmt_local(due, sizeof due, z ? z : ctz, o->due_ms);
        }
        if (json) {
            json_t *x = json_object();
            json_object_set_new(x, "to", json_string(shown));
            if (o->sent) json_object_set_new(x, "id", json_string(o->id));
            json_object_set_new(x, "result", json_string(res));
            if (!o->sent) json_object_set_new(x, "reason", json_string(o->err));
            if (o->sent && o->result == RD_ENQ_CREATED) {
                json_object_set_new(x, "due_ms", json_integer(o->due_ms));
                json_object_set_new(x, "due", json_string(due));
            }
            json_array_append_new(arr, x);
        } else if (!o->sent) {
            rd_cli_err("enqueue", "\"%s\" refused as invalid: %s", shown, o->err);
        } else if (bad) {
            rd_cli_err("enqueue", "\"%s\" refused: %s", shown,
                       o->result == RD_ENQ_CONFLICT
                           ? "conflict (a live job for this number exists under another id)"
                       : o->result == RD_ENQ_CANCELED ? "the campaign is canceled"
                                                      : "the campaign no longer exists");
        } else if (o->result == RD_ENQ_CREATED) {
            printf("%s created %s, first call due %s\n", shown, o->id, due);
        } else if (o->result == RD_ENQ_DUPLICATE) {
            printf("%s duplicate %s (no-op: already enqueued)\n", shown, o->id);
        } else {
            printf("%s %s %s (recorded final, never dialed)\n", shown, res, o->id);
        }
    }
    if (json) rd_cli_print_json(arr);
    ex = refused ? RD_CLI_REFUSED : RD_CLI_OK;
out:
    if (have_c) rd_campaign_deinit(&c);
    if (open) rd_cli_close(&s);
    for (size_t i = 0; i < n_vars; i++) rd_free(varbuf[i]);
    rd_free(ones);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- optout ----------------------------------------------------------------------------- */

static const char *const OPTOUT_HELP =
    "Usage: redial-cli optout NUMBER...\n"
    "\n"
    "Opts each NUMBER out forever: every pending job of it, in every campaign, is\n"
    "finished as opted-out at once; a live call of it ends as opted-out; it is never\n"
    "dialed again (checked at enqueue and at dial time).\n"
    "\n"
    "Example:\n"
    "  redial-cli optout +919876543210\n"
    "\n"
    "Exit 1 when a NUMBER is not E.164 (the others are opted out).\n" RD_CLI_EXIT_HELP;

typedef struct {
    bool done;
    int status;
    int64_t n;
} count_t;

static void count_cb(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    count_t *c = arg;
    c->status = status;
    c->n = n;
    c->done = true;
}

int rd_cli_optout(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "optout", NULL, 0, OPTOUT_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos < 1) {
        rd_cli_err("optout", "needs at least one NUMBER (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "optout"))) goto out;
    bool refused = false;
    for (size_t i = 0; i < a->n_pos && !ex; i++) {
        const char *num = a->pos[i];
        char shown[40];
        rd_text_printable(shown, sizeof shown, num);
        if (!rd_e164_valid(num, strlen(num))) {
            rd_cli_err("optout", "\"%s\" is not an E.164 number ('+' and 8-15 digits)", shown);
            refused = true;
            continue;
        }
        count_t r = {0};
        int rc = rd_store_optout(s.store, num, rd_cli_now(&s), count_cb, &r);
        if (!rc) rc = rd_cli_wait(&s, &r.done);
        if (!rc) rc = r.status;
        if (rc) {
            ex = rd_cli_fail(&s, rc, "optout");
            break;
        }
        printf("%s opted out: %lld pending job%s finished as opted-out\n", shown, (long long)r.n,
               r.n == 1 ? "" : "s");
    }
    if (!ex && refused) ex = RD_CLI_REFUSED;
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- dnd import ---------------------------------------------------------------------- */

static const char *const DND_HELP =
    "Usage: redial-cli dnd import FILE\n"
    "\n"
    "Adds the numbers of FILE ('-' = stdin) to the DND set: one E.164 number per\n"
    "line; blank lines and '#' comments (whole line or after the number) are\n"
    "skipped. DND numbers are never dialed (checked at enqueue and at dial time).\n"
    "Each bad line is reported as FILE:LINE; the good ones are imported anyway.\n"
    "\n"
    "Example:\n"
    "  redial-cli dnd import ndnc-2026-11.txt\n"
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
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    FILE *f = NULL;
    char *line = NULL;
    char *batch[DND_BATCH];
    size_t nb = 0;
    int ex = rd_cli_args_parse(a, "dnd import", NULL, 0, DND_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 2 || strcmp(a->pos[0], "import")) {
        rd_cli_err("dnd", "usage: dnd import FILE (see --help)");
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
        printf("%s: %zu number%s imported (%lld new to the DND set), %zu bad line%s\n", path, good,
               good == 1 ? "" : "s", (long long)d.added, bad, bad == 1 ? "" : "s");
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
    "Usage: redial-cli agents set POOL N\n"
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
    int ex = rd_cli_args_parse(a, "agents set", NULL, 0, AGENTS_HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 3 || strcmp(a->pos[0], "set")) {
        rd_cli_err("agents", "usage: agents set POOL N (see --help)");
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

static const char *const JOB_HELP =
    "Usage: redial-cli job show ID [--json]\n"
    "\n"
    "A job by its id (the producer's id, or the generated CAMPAIGN/NUMBER/SEQ):\n"
    "state, disposition, and every attempt with its outcome, in the callee's local\n"
    "time (the zone the calling window is checked in) and UTC. Finished jobs are\n"
    "kept for the store's retention (7 days by default).\n"
    "\n"
    "Example:\n"
    "  redial-cli job show inv-42\n"
    "\n" RD_CLI_EXIT_HELP;

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
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    job_res_t r = {0};
    rd_campaign_t c;
    bool have_c = false, open = false;
    rd_cli_session_t s;
    int ex = rd_cli_args_parse(a, "job show", JOB_FLAGS, RD_ARRAY_LEN(JOB_FLAGS), JOB_HELP,
                               argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 2 || strcmp(a->pos[0], "show")) {
        rd_cli_err("job", "usage: job show ID (see --help)");
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
            rd_cli_fmt_local(t1, sizeof t1, tz, j->hist[i].start_ms);
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
            rd_cli_fmt_local(t1, sizeof t1, tz, j->due_ms);
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
    "Usage: redial-cli ping\n"
    "\n"
    "Exits 0 when Redis answers a read (connection and authentication work)\n"
    "within --timeout, 3 otherwise. Used by the Docker healthcheck.\n"
    "\n" RD_CLI_EXIT_HELP;

int rd_cli_ping(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "ping", NULL, 0, PING_HELP, argc - 1, argv + 1);
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
    count_t r = {0};
    int rc = rd_store_dnd_check(s.store, "+10000000000", count_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, "ping");
    } else {
        printf("PONG %s\n", s.where);
    }
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
