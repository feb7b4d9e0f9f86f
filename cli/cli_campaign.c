/*
 * cli_campaign.c — `redial-cli campaign create|list|show|pause|resume|cancel`.
 *
 * Design. Each subcommand is one or two store requests on a short-lived
 * session (cli_session.h). `create` takes exactly the control API's body
 * (SPEC section 3) from a file, refuses an invalid configuration whole with
 * the parser's "<field>: <reason>", stores the normalised campaign and then
 * enqueues its numbers with rd_bulk_enqueue() — the same checks, first due
 * time and bounded window as POST /v1/Accounts/{account}/Campaigns, so the
 * two ways of creating a campaign cannot disagree. JSON views come from
 * store/view.h (shared with the control API). `list` fetches every
 * campaign's record with pipelined requests (one round trip, not N).
 *
 * Output: human text on stdout by default, one JSON document with --json;
 * problems go to stderr as one line each; exit codes as in cli_session.h.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/opts.h"
#include "store/bulk.h"
#include "cli/cli.h"
#include "cli/cli_session.h"
#include "store/enqueue.h"
#include "store/ops.h"
#include "store/view.h"
#include "proto/callback.h"
#include "proto/text.h"

#define CAMPAIGN_FILE_MAX (64u << 20)

static const char *const HELP =
    "Usage: redial-cli campaign SUBCOMMAND ...\n"
    "\n"
    "  campaign create FILE.json [--json] [--provider NAME]\n"
    "                                       create a campaign from the Campaigns API body\n"
    "                                       (FILE '-' = stdin) and enqueue its numbers;\n"
    "                                       without \"provider\" in the body it is pinned to\n"
    "                                       --provider, else $REDIAL_PROVIDER (as the API\n"
    "                                       pins the engine's default), else left to the\n"
    "                                       engine that dials; without the per-number\n"
    "                                       caps in \"limits\" they come from\n"
    "                                       $REDIAL_MAX_PER_DAY / $REDIAL_MAX_PER_7_DAYS\n"
    "                                       (the engine's own twins), else 4 and 7\n"
    "  campaign list [--json]               every campaign with state and job counts\n"
    "  campaign show NAME [--json]          state, counts and normalised configuration\n"
    "  campaign pause NAME [--json]         stop claiming its jobs (they stay due)\n"
    "  campaign resume NAME [--json]        claim its jobs again\n"
    "  campaign cancel NAME [--yes] [--json]\n"
    "                                       finish every pending job as canceled (final);\n"
    "                                       says how many; --yes is needed when more than\n"
    "                                       one job would be hit\n"
    "  campaign archive NAME [--json]       retire a finished campaign (no pending job, no\n"
    "                                       live call): it leaves the list, the API and the\n"
    "                                       metrics, and its name is free again\n"
    "\n"
    "Examples:\n"
    "  redial-cli campaign create examples/payment_reminders.json\n"
    "  redial-cli campaign show Payment_Reminders --json\n"
    "\n"
    "create exits 1 when the configuration is invalid (nothing is stored), when the\n"
    "campaign exists, or when some numbers were refused (the others are enqueued;\n"
    "each refused number is listed on stderr with its index and reason).\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t FLAGS[] = {
    {"json", false, false}, {"provider", true, false}, {"yes", false, false}};

/* ---- create ------------------------------------------------------------------------ */

/* The environment twins of redial-server --max-per-day / --max-per-7-days:
   `campaign create` applies the defaults an engine with the same environment would. */
static const rd_opt_t DEFAULTS_ENV[] = {
    {NULL, "REDIAL_MAX_PER_DAY", NULL, RD_OPT_INT, offsetof(rd_campaign_defaults_t, max_per_day),
     "per-number daily cap of campaigns without one"},
    {NULL, "REDIAL_MAX_PER_7_DAYS", NULL, RD_OPT_INT,
     offsetof(rd_campaign_defaults_t, max_per_7_days), "per-number 7-day cap"},
};

static int env_defaults(rd_campaign_defaults_t *d, char *err, size_t errlen) {
    rd_campaign_defaults_init(d);
    char *argv[] = {"redial-cli", NULL};
    int rc =
        rd_opts_parse(DEFAULTS_ENV, RD_ARRAY_LEN(DEFAULTS_ENV), d, 1, argv, NULL, "", err, errlen);
    char why[160];
    if (rc == 0 && (rc = rd_campaign_defaults_check(d, why, sizeof why)) != 0)
        snprintf(err, errlen, "REDIAL_MAX_PER_DAY / REDIAL_MAX_PER_7_DAYS: %s", why);
    return rc;
}

typedef struct {
    bool done;
    rd_bulk_res_t res;
    json_t *json;
} bulk_wait_t;

static void bulk_cb(const rd_bulk_res_t *res, void *arg) {
    bulk_wait_t *w = arg;
    w->res = *res;
    w->res.bad = NULL;
    w->json = rd_bulk_res_to_json(res);
    for (size_t i = 0; i < res->n_bad; i++)
        fprintf(stderr, "redial-cli campaign create: numbers[%zu] \"%s\" refused: %s\n",
                res->bad[i].index, res->bad[i].number, res->bad[i].reason);
    if (res->n_refused > res->n_bad)
        fprintf(stderr, "redial-cli campaign create: ... and %zu more refused numbers\n",
                res->n_refused - res->n_bad);
    w->done = true;
}

static int cmd_create(const rd_cli_global_t *g, const rd_cli_args_t *a) {
    if (a->n_pos != 2) {
        rd_cli_err(a->cmd, "needs exactly one FILE.json (see --help)");
        return RD_CLI_USAGE;
    }
    const char *path = a->pos[1];
    char err[512];
    char *body;
    size_t len;
    if (rd_cli_read_file(path, CAMPAIGN_FILE_MAX, &body, &len, err, sizeof err)) {
        rd_cli_err(a->cmd, "%s", err);
        return RD_CLI_REFUSED;
    }
    rd_campaign_defaults_t defs;
    if (env_defaults(&defs, err, sizeof err)) {
        rd_free(body);
        rd_cli_err(a->cmd, "%s", err);
        return RD_CLI_USAGE;
    }
    rd_campaign_t c;
    int rc = rd_campaign_parse_with(body, len, &defs, &c, err, sizeof err);
    rd_free(body);
    if (rc) {
        rd_cli_err(a->cmd, "%s: invalid campaign, nothing created: %s", path, err);
        return RD_CLI_REFUSED;
    }
    const char *prov = rd_cli_flag_get(a, "provider");
    if (!prov) prov = getenv("REDIAL_PROVIDER");
    if (!c.provider && prov && *prov) c.provider = rd_strdup(prov);
    rd_prov_t pid;
    if (c.provider && rd_prov_parse(c.provider, strlen(c.provider), &pid)) {
        char q[80];
        rd_text_printable(q, sizeof q, c.provider);
        rd_cli_err(a->cmd,
                   "%s: invalid campaign, nothing created: provider: unknown provider "
                   "\"%s\" (exotel, twilio)",
                   path, q);
        rd_campaign_deinit(&c);
        return RD_CLI_REFUSED;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) {
        rd_campaign_deinit(&c);
        return ex;
    }
    int64_t now = rd_cli_now(&s);
    rd_cli_done_t d = {0};
    rc = rd_store_campaign_create(s.store, &c, now, rd_cli_done_cb, &d);
    if (!rc) rc = rd_cli_wait(&s, &d.done);
    if (!rc) rc = d.status;
    if (rc) {
        char what[128];
        snprintf(what, sizeof what, "campaign \"%s\"", c.name);
        ex = rd_cli_fail(&s, rc, what);
        goto out;
    }
    bulk_wait_t w = {0};
    rd_bulk_enqueue(&s.loop, s.store, &c, c.numbers, c.n_numbers, now, 256, bulk_cb, &w);
    rd_cli_wait(&s, &w.done);
    if (w.res.status) {
        char what[160];
        snprintf(what, sizeof what, "campaign \"%s\" created, but enqueuing its numbers", c.name);
        ex = rd_cli_fail(&s, w.res.status, what);
        json_decref(w.json);
        goto out;
    }
    if (rd_cli_flag_has(a, "json")) {
        json_object_set_new(w.json, "id", json_string(c.name));
        rd_cli_print_json(w.json);
    } else {
        printf("created campaign %s: %zu numbers, %zu enqueued, %zu duplicates, %zu dnd, "
               "%zu opted out, %zu refused\n",
               c.name, w.res.total, w.res.by_result[RD_ENQ_CREATED],
               w.res.by_result[RD_ENQ_DUPLICATE], w.res.by_result[RD_ENQ_FINAL_DND],
               w.res.by_result[RD_ENQ_FINAL_OPTOUT], w.res.n_refused);
        json_decref(w.json);
    }
    ex = w.res.n_refused ? RD_CLI_REFUSED : RD_CLI_OK;
out:
    rd_cli_close(&s);
    rd_campaign_deinit(&c);
    return ex;
}

/* ---- list / show --------------------------------------------------------------------- */

typedef struct {
    bool done;
    int status;
    char **names;
    size_t n;
} names_t;

static void names_cb(rd_store_t *s, int status, char *const *names, size_t n, void *arg) {
    (void)s;
    names_t *r = arg;
    r->status = status;
    if (!status) {
        r->names = rd_calloc(n ? n : 1, sizeof *r->names);
        for (size_t i = 0; i < n; i++) r->names[i] = rd_strdup(names[i]);
        r->n = n;
    }
    r->done = true;
}

typedef struct {
    int status;
    rd_store_campaign_t info; /* json NULL: the list shows counts only */
    size_t *left;
} one_t;

static void one_cb(rd_store_t *s, int status, const rd_store_campaign_t *c, void *arg) {
    (void)s;
    one_t *o = arg;
    o->status = status;
    if (!status) {
        o->info = *c;
        o->info.json = NULL;
    }
    (*o->left)--;
}

static int cmd_list(const rd_cli_global_t *g, const rd_cli_args_t *a) {
    if (a->n_pos != 1) {
        rd_cli_err(a->cmd, "takes no arguments (see --help)");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    names_t r = {0};
    int rc = rd_store_campaign_list(s.store, names_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, "listing campaigns");
        rd_cli_close(&s);
        return ex;
    }
    one_t *all = rd_calloc(r.n ? r.n : 1, sizeof *all);
    size_t left = 0;
    for (size_t i = 0; i < r.n; i++) {
        all[i].left = &left;
        if (rd_store_campaign_get(s.store, r.names[i], one_cb, &all[i]) == 0)
            left++;
        else
            all[i].status = RD_EINVAL;
    }
    rc = rd_cli_drain(&s, &left, 0);
    for (size_t i = 0; i < r.n && !rc; i++)
        if (all[i].status && all[i].status != RD_ENOTFOUND) rc = all[i].status;
    if (rc) {
        ex = rd_cli_fail(&s, rc, "listing campaigns");
    } else if (rd_cli_flag_has(a, "json")) {
        json_t *arr = json_array();
        for (size_t i = 0; i < r.n; i++)
            if (!all[i].status) json_array_append_new(arr, rd_view_campaign(&all[i].info, NULL));
        rd_cli_print_json(arr);
    } else {
        printf("%-32s %-9s %9s %6s %9s %9s\n", "NAME", "STATE", "PENDING", "LIVE", "FINISHED",
               "ENQUEUED");
        for (size_t i = 0; i < r.n; i++) {
            if (all[i].status) continue;
            const rd_store_campaign_t *c = &all[i].info;
            printf("%-32s %-9s %9lld %6lld %9lld %9lld\n", c->name, rd_view_state_name(c->state),
                   (long long)c->pending, (long long)c->live, (long long)c->finished,
                   (long long)c->enqueued);
        }
    }
    for (size_t i = 0; i < r.n; i++) rd_free(r.names[i]);
    rd_free(all);
    rd_free(r.names);
    rd_cli_close(&s);
    return ex;
}

static int cmd_show(const rd_cli_global_t *g, const rd_cli_args_t *a) {
    if (a->n_pos != 2) {
        rd_cli_err(a->cmd, "needs exactly one campaign NAME (see --help)");
        return RD_CLI_USAGE;
    }
    rd_cli_session_t s;
    int ex = rd_cli_open(&s, &a->g, a->cmd);
    if (ex) return ex;
    rd_campaign_t c;
    rd_store_campaign_t info;
    ex = rd_cli_load_campaign(&s, a->pos[1], &c, &info);
    if (ex) {
        rd_cli_close(&s);
        return ex;
    }
    char *config = rd_campaign_to_json(&c);
    if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(rd_view_campaign(&info, config));
    } else {
        char t[64];
        const rd_tz_t *tz = rd_tz_get(c.timezone);
        rd_cli_fmt_local(t, sizeof t, tz ? tz : rd_tz_get("UTC"), info.created_ms);
        printf("campaign  %s\nstate     %s\n", info.name, rd_view_state_name(info.state));
        if (info.pause_reason[0]) printf("reason    %s\n", info.pause_reason);
        printf("created   %s (%s)\n", t, c.timezone);
        printf("jobs      %lld enqueued, %lld pending, %lld live, %lld finished\n",
               (long long)info.enqueued, (long long)info.pending, (long long)info.live,
               (long long)info.finished);
        json_t *cfg = json_loads(config, 0, NULL);
        char *pretty = cfg ? json_dumps(cfg, JSON_INDENT(2)) : NULL;
        printf("config    %s\n", pretty ? pretty : config);
        free(pretty);
        json_decref(cfg);
    }
    rd_free(config);
    rd_campaign_deinit(&c);
    rd_cli_close(&s);
    return RD_CLI_OK;
}

/* ---- pause / resume / cancel ------------------------------------------------------------ */

static int cmd_state(const rd_cli_global_t *g, const rd_cli_args_t *a, rd_camp_state_t st) {
    if (a->n_pos != 2) {
        rd_cli_err(a->cmd, "needs exactly one campaign NAME (see --help)");
        return RD_CLI_USAGE;
    }
    const char *name = a->pos[1];
    char what[128];
    int ex = rd_cli_campaign_what(a->cmd, name, what, sizeof what);
    if (ex) return ex;
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, a->cmd))) return ex;
    /* The counts before, so that cancel can say (and confirm) what it hits. */
    rd_campaign_t c;
    rd_store_campaign_t before, after;
    if ((ex = rd_cli_load_campaign(&s, name, &c, &before))) goto out;
    rd_campaign_deinit(&c);
    if (st == RD_CAMP_CANCELED && before.state != RD_CAMP_CANCELED && before.pending > 1 &&
        !rd_cli_flag_has(a, "yes")) {
        rd_cli_err(a->cmd,
                   "%s: would finish %lld pending jobs as canceled (and %lld live calls end "
                   "canceled); nothing done: run again with --yes",
                   what, (long long)before.pending, (long long)before.live);
        ex = RD_CLI_REFUSED;
        goto out;
    }
    rd_cli_done_t d = {0};
    int rc = rd_store_campaign_set_state(s.store, name, st, rd_cli_now(&s), rd_cli_done_cb, &d);
    if (!rc) rc = rd_cli_wait(&s, &d.done);
    if (!rc) rc = d.status;
    if (rc == RD_EINVAL) {
        rd_cli_err(a->cmd, "%s is canceled: a canceled campaign cannot be %s", what,
                   st == RD_CAMP_PAUSED ? "paused" : "resumed");
        ex = RD_CLI_REFUSED;
        goto out;
    } else if (rc) {
        ex = rd_cli_fail(&s, rc, what);
        goto out;
    }
    after = before;
    if (st == RD_CAMP_CANCELED) {
        if ((ex = rd_cli_load_campaign(&s, name, &c, &after))) goto out;
        rd_campaign_deinit(&c);
    }
    long long canceled = st == RD_CAMP_CANCELED ? (long long)(after.finished - before.finished) : 0;
    if (canceled < 0) canceled = 0;
    if (rd_cli_flag_has(a, "json")) {
        json_t *o = json_pack("{s:s,s:s,s:s}", "campaign", name, "was",
                              rd_view_state_name(before.state), "state", rd_view_state_name(st));
        if (st == RD_CAMP_CANCELED) {
            json_object_set_new(o, "canceled_jobs", json_integer(canceled));
            json_object_set_new(o, "live_calls", json_integer(after.live));
        }
        rd_cli_print_json(o);
    } else if (st == RD_CAMP_CANCELED) {
        printf("campaign %s canceled: %lld pending job%s finished as canceled; %lld live call%s "
               "will end as canceled\n",
               name, canceled, canceled == 1 ? "" : "s", (long long)after.live,
               after.live == 1 ? "" : "s");
    } else {
        printf("campaign %s %s (was %s; %lld pending, %lld live)\n", name,
               st == RD_CAMP_ACTIVE ? "resumed (active)" : "paused",
               rd_view_state_name(before.state), (long long)before.pending, (long long)before.live);
    }
out:
    rd_cli_close(&s);
    return ex;
}

/* ---- archive ------------------------------------------------------------------------------ */

typedef struct {
    bool done;
    int status;
    int64_t pending, live;
} archive_t;

static void archive_cb(rd_store_t *s, int status, int64_t pending, int64_t live, void *arg) {
    (void)s;
    archive_t *r = arg;
    r->status = status;
    r->pending = pending;
    r->live = live;
    r->done = true;
}

static int cmd_archive(const rd_cli_args_t *a) {
    if (a->n_pos != 2) {
        rd_cli_err(a->cmd, "needs exactly one campaign NAME (see --help)");
        return RD_CLI_USAGE;
    }
    const char *name = a->pos[1];
    char what[128];
    int ex = rd_cli_campaign_what(a->cmd, name, what, sizeof what);
    if (ex) return ex;
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, a->cmd))) return ex;
    archive_t r = {0};
    int rc = rd_ops_campaign_archive(s.store, name, rd_cli_now(&s), archive_cb, &r);
    if (!rc) rc = rd_cli_wait(&s, &r.done);
    if (!rc) rc = r.status;
    if (rc == RD_EINVAL) {
        rd_cli_err(a->cmd,
                   "%s is not finished (%lld pending, %lld live): cancel it first "
                   "(campaign cancel --yes) and let its calls end",
                   what, (long long)r.pending, (long long)r.live);
        ex = RD_CLI_REFUSED;
    } else if (rc) {
        ex = rd_cli_fail(&s, rc, what);
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:s,s:s}", "campaign", name, "state", "archived"));
    } else {
        printf("campaign %s archived: out of the list, the API and the metrics; its finished "
               "jobs stay until the retention\n",
               name);
    }
    rd_cli_close(&s);
    return ex;
}

int rd_cli_campaign(int argc, char **argv) {
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "campaign%s%s", sub ? " " : "", sub ? sub : "");
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, cmd, FLAGS, RD_ARRAY_LEN(FLAGS), HELP, argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (!sub) {
        rd_cli_err("campaign",
                   "needs a subcommand: create, list, show, pause, resume, cancel, archive");
        ex = RD_CLI_USAGE;
    } else if (!strcmp(sub, "create")) {
        ex = cmd_create(&a->g, a);
    } else if (!strcmp(sub, "list")) {
        ex = cmd_list(&a->g, a);
    } else if (!strcmp(sub, "show")) {
        ex = cmd_show(&a->g, a);
    } else if (!strcmp(sub, "pause")) {
        ex = cmd_state(&a->g, a, RD_CAMP_PAUSED);
    } else if (!strcmp(sub, "resume")) {
        ex = cmd_state(&a->g, a, RD_CAMP_ACTIVE);
    } else if (!strcmp(sub, "cancel")) {
        ex = cmd_state(&a->g, a, RD_CAMP_CANCELED);
    } else if (!strcmp(sub, "archive")) {
        ex = cmd_archive(a);
    } else {
        rd_cli_err("campaign",
                   "%s: unknown subcommand (create, list, show, pause, resume, "
                   "cancel, archive)",
                   sub);
        ex = RD_CLI_USAGE;
    }
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
