/*
 * cli_deadletter.c — `redial-cli deadletter list|show|replay|purge`: the
 * refused inbox entries (P:deadletter) as something to act on.
 *
 * Design. Everything goes through store/deadletter.h, which the control
 * API's /v1/deadletter routes use too, so both show the same JSON for an
 * entry (rd_deadletter_to_json) and replay re-validates the same way (the
 * inbox's decoder and checks; an entry still invalid stays, with the
 * reason). replay and purge print what they did to each entry and the
 * counts, and do nothing without --yes when more than one entry would be
 * hit (exit 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"
#include "store/deadletter.h"

static const char *const HELP =
    "Usage: redial-cli deadletter SUBCOMMAND ...\n"
    "\n"
    "  deadletter list [--limit N] [--before ID] [--json]\n"
    "                                 newest first (20 by default), with the depth\n"
    "  deadletter show ID [--json]    one entry: reason, original entry, decoded job\n"
    "  deadletter replay ID... | --all [--yes] [--json]\n"
    "                                 re-validate (as the inbox does: message, campaign,\n"
    "                                 number) and move back to the inbox; an entry still\n"
    "                                 invalid stays, with the reason\n"
    "  deadletter purge ID... | --all [--yes] [--json]\n"
    "                                 delete entries for good\n"
    "\n"
    "A dead letter is an inbox entry the engine refused (malformed, unknown campaign,\n"
    "invalid number...): every original field plus `reason` and `entry`. replay and\n"
    "purge say what they did and how many; with more than one entry they do nothing\n"
    "without --yes.\n"
    "\n"
    "Examples:\n"
    "  redial-cli deadletter list\n"
    "  redial-cli deadletter replay 1764756000000-0\n"
    "  redial-cli deadletter purge --all --yes\n"
    "\n"
    "Exit 1 when an entry was not found or is still invalid.\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t FLAGS[] = {{"json", false, false},
                                      {"limit", true, false},
                                      {"before", true, false},
                                      {"all", false, false},
                                      {"yes", false, false}};

typedef struct {
    bool done;
    int status;
    json_t *arr;
    char **ids;
    size_t n;
    int64_t depth;
} list_t;

static void list_cb(rd_store_t *s, int status, const rd_deadletter_t *e, size_t n, int64_t depth,
                    void *arg) {
    (void)s;
    list_t *r = arg;
    r->status = status;
    r->depth = depth;
    for (size_t i = 0; !status && i < n; i++) {
        json_array_append_new(r->arr, rd_deadletter_to_json(&e[i]));
        if (r->ids) r->ids[r->n] = rd_strdup(e[i].id);
        r->n++;
    }
    r->done = true;
}

static void print_entry(const json_t *x, bool full) {
    const json_t *m = json_object_get(x, "message");
    printf("%s  %s  %s\n", json_string_value(json_object_get(x, "id")),
           json_string_value(json_object_get(x, "at")),
           json_string_value(json_object_get(x, "reason")));
    if (!full) return;
    printf("  inbox entry %s, format %s\n", json_string_value(json_object_get(x, "entry")),
           json_is_string(json_object_get(x, "format"))
               ? json_string_value(json_object_get(x, "format"))
               : "none");
    if (json_is_object(m)) {
        char *t = json_dumps(m, JSON_COMPACT);
        printf("  message %s\n", t ? t : "");
        free(t);
    }
    if (json_is_string(json_object_get(x, "raw")))
        printf("  raw %s\n", json_string_value(json_object_get(x, "raw")));
}

static int cmd_list(rd_cli_session_t *s, rd_cli_args_t *a) {
    const char *lim = rd_cli_flag_get(a, "limit"), *before = rd_cli_flag_get(a, "before");
    long long limit = 20;
    if (lim) {
        char *end;
        limit = strtoll(lim, &end, 10);
        if (!*lim || *end || limit < 1 || limit > RD_DEADLETTER_LIST_MAX) {
            rd_cli_err(a->cmd, "--limit: 1..%d", RD_DEADLETTER_LIST_MAX);
            return RD_CLI_USAGE;
        }
    }
    if (before && !rd_deadletter_id_valid(before)) {
        rd_cli_err(a->cmd, "--before: an entry id such as 1764756000000-0");
        return RD_CLI_USAGE;
    }
    list_t r = {.arr = json_array()};
    int rc = rd_deadletter_list(s->store, before, (size_t)limit, list_cb, &r);
    if (!rc) rc = rd_cli_wait(s, &r.done);
    if (!rc) rc = r.status;
    int ex = 0;
    if (rc) {
        ex = rd_cli_fail(s, rc, "dead letters");
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_pack("{s:I,s:O}", "depth", (json_int_t)r.depth, "entries", r.arr));
    } else {
        size_t i;
        json_t *x;
        json_array_foreach(r.arr, i, x) print_entry(x, false);
        printf("%zu shown of %lld dead letter%s\n", r.n, (long long)r.depth,
               r.depth == 1 ? "" : "s");
    }
    json_decref(r.arr);
    return ex;
}

static int cmd_show(rd_cli_session_t *s, rd_cli_args_t *a) {
    if (a->n_pos != 2) {
        rd_cli_err(a->cmd, "needs exactly one entry ID (see --help)");
        return RD_CLI_USAGE;
    }
    const char *id = a->pos[1];
    char what[80];
    snprintf(what, sizeof what, "dead letter \"%.48s\"", id);
    if (!rd_deadletter_id_valid(id)) {
        rd_cli_err(a->cmd, "%s not found (ids look like 1764756000000-0)", what);
        return RD_CLI_REFUSED;
    }
    list_t r = {.arr = json_array()};
    int rc = rd_deadletter_get(s->store, id, list_cb, &r);
    if (!rc) rc = rd_cli_wait(s, &r.done);
    if (!rc) rc = r.status;
    int ex = 0;
    if (rc) {
        ex = rd_cli_fail(s, rc, what);
    } else if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(json_incref(json_array_get(r.arr, 0)));
    } else {
        print_entry(json_array_get(r.arr, 0), true);
    }
    json_decref(r.arr);
    return ex;
}

/* The ids an action hits: the arguments, or every entry with --all. */
static int targets(rd_cli_session_t *s, rd_cli_args_t *a, char ***ids, size_t *n) {
    *ids = NULL;
    *n = 0;
    bool all = rd_cli_flag_has(a, "all");
    if (all == (a->n_pos > 1)) {
        rd_cli_err(a->cmd, "give entry IDs or --all (see --help)");
        return RD_CLI_USAGE;
    }
    if (!all) {
        *ids = rd_calloc(a->n_pos, sizeof **ids);
        for (size_t i = 1; i < a->n_pos; i++) {
            if (!rd_deadletter_id_valid(a->pos[i])) {
                rd_cli_err(a->cmd, "\"%.48s\" is not an entry id (like 1764756000000-0)",
                           a->pos[i]);
                return RD_CLI_USAGE;
            }
            (*ids)[(*n)++] = rd_strdup(a->pos[i]);
        }
        return 0;
    }
    /* --all: page through the stream (newest first). */
    char before[RD_DEADLETTER_ID_MAX] = "";
    for (;;) {
        list_t r = {.arr = json_array()};
        r.ids = rd_calloc(RD_DEADLETTER_LIST_MAX, sizeof *r.ids);
        int rc = rd_deadletter_list(s->store, before, RD_DEADLETTER_LIST_MAX, list_cb, &r);
        if (!rc) rc = rd_cli_wait(s, &r.done);
        if (!rc) rc = r.status;
        json_decref(r.arr);
        if (rc) {
            for (size_t i = 0; i < r.n; i++) rd_free(r.ids[i]);
            rd_free(r.ids);
            return rd_cli_fail(s, rc, "dead letters");
        }
        *ids = rd_realloc(*ids, (*n + r.n + 1) * sizeof **ids);
        memcpy(*ids + *n, r.ids, r.n * sizeof *r.ids);
        *n += r.n;
        if (r.n) snprintf(before, sizeof before, "%s", r.ids[r.n - 1]);
        rd_free(r.ids);
        if (r.n < RD_DEADLETTER_LIST_MAX) return 0;
    }
}

typedef struct {
    bool done;
    int status;
    char inbox[RD_DEADLETTER_ID_MAX];
    char refusal[320];
} replay_t;

static void replay_cb(rd_store_t *s, int status, const char *inbox_id, const char *refusal,
                      void *arg) {
    (void)s;
    replay_t *r = arg;
    r->status = status;
    snprintf(r->inbox, sizeof r->inbox, "%s", inbox_id ? inbox_id : "");
    snprintf(r->refusal, sizeof r->refusal, "%s", refusal ? refusal : "");
    r->done = true;
}

static int cmd_act(rd_cli_session_t *s, rd_cli_args_t *a, bool replay) {
    char **ids;
    size_t n;
    int ex = targets(s, a, &ids, &n);
    bool json = rd_cli_flag_has(a, "json");
    json_t *arr = json_array();
    size_t ok = 0, invalid = 0, missing = 0;
    if (ex) goto out;
    if (n > 1 && !rd_cli_flag_has(a, "yes")) {
        rd_cli_err(a->cmd, "would %s %zu dead letters; nothing done: run again with --yes",
                   replay ? "replay" : "purge", n);
        ex = RD_CLI_REFUSED;
        goto out;
    }
    if (!replay && rd_cli_flag_has(a, "all")) {
        rd_cli_count_t c = {0};
        int rc = rd_deadletter_purge_all(s->store, rd_cli_count_cb, &c);
        if (!rc) rc = rd_cli_wait(s, &c.done);
        if (!rc) rc = c.status;
        if (rc) {
            ex = rd_cli_fail(s, rc, "dead letters");
            goto out;
        }
        ok = (size_t)c.n;
    }
    for (size_t i = 0; !ok && !replay && i < n;) {
        /* purge by id, in XDEL batches */
        size_t k = n - i > 1000 ? 1000 : n - i;
        rd_cli_count_t c = {0};
        int rc =
            rd_deadletter_purge(s->store, (const char *const *)ids + i, k, rd_cli_count_cb, &c);
        if (!rc) rc = rd_cli_wait(s, &c.done);
        if (!rc) rc = c.status;
        if (rc) {
            ex = rd_cli_fail(s, rc, "dead letters");
            goto out;
        }
        missing += k - (size_t)c.n;
        i += k;
        if (i == n) ok = n - missing;
    }
    for (size_t i = 0; replay && i < n; i++) {
        replay_t r = {0};
        int rc = rd_deadletter_replay(s->store, ids[i], rd_cli_now(s), replay_cb, &r);
        if (!rc) rc = rd_cli_wait(s, &r.done);
        if (!rc) rc = r.status;
        json_t *x = json_pack("{s:s}", "id", ids[i]);
        if (rc == 0) {
            ok++;
            json_object_set_new(x, "result", json_string("replayed"));
            json_object_set_new(x, "inbox_id", json_string(r.inbox));
            if (!json) printf("%s replayed: inbox entry %s\n", ids[i], r.inbox);
        } else if (rc == RD_EINVAL) {
            invalid++;
            json_object_set_new(x, "result", json_string("invalid"));
            json_object_set_new(x, "reason", json_string(r.refusal));
            if (!json) printf("%s still invalid, kept: %s\n", ids[i], r.refusal);
        } else if (rc == RD_ENOTFOUND) {
            missing++;
            json_object_set_new(x, "result", json_string("not-found"));
            if (!json) printf("%s not found\n", ids[i]);
        } else {
            json_decref(x);
            ex = rd_cli_fail(s, rc, "replay");
            goto out;
        }
        json_array_append_new(arr, x);
    }
    if (json) {
        json_t *o = json_pack("{s:I,s:I}", replay ? "replayed" : "purged", (json_int_t)ok,
                              "not_found", (json_int_t)missing);
        if (replay) {
            json_object_set_new(o, "invalid", json_integer((json_int_t)invalid));
            json_object_set(o, "entries", arr);
        }
        rd_cli_print_json(o);
    } else if (replay) {
        printf("%zu replayed, %zu still invalid (kept), %zu not found\n", ok, invalid, missing);
    } else {
        printf("%zu dead letter%s purged%s", ok, ok == 1 ? "" : "s", missing ? ", " : "\n");
        if (missing) printf("%zu not found\n", missing);
    }
    ex = invalid || missing ? RD_CLI_REFUSED : RD_CLI_OK;
out:
    json_decref(arr);
    for (size_t i = 0; i < n; i++) rd_free(ids[i]);
    rd_free(ids);
    return ex;
}

int rd_cli_deadletter(int argc, char **argv) {
    const char *sub = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
    char cmd[32];
    snprintf(cmd, sizeof cmd, "deadletter%s%s", sub ? " " : "", sub ? sub : "");
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, cmd, FLAGS, RD_ARRAY_LEN(FLAGS), HELP, argc - 1, argv + 1);
    if (ex || a->help) goto out;
    bool list = sub && !strcmp(sub, "list"), show = sub && !strcmp(sub, "show");
    bool replay = sub && !strcmp(sub, "replay"), purge = sub && !strcmp(sub, "purge");
    if (!list && !show && !replay && !purge) {
        rd_cli_err("deadletter", "needs a subcommand: list, show, replay, purge");
        ex = RD_CLI_USAGE;
        goto out;
    }
    if (list && a->n_pos != 1) {
        rd_cli_err(cmd, "takes no arguments (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, cmd))) goto out;
    ex = list ? cmd_list(&s, a) : show ? cmd_show(&s, a) : cmd_act(&s, a, replay);
    rd_cli_close(&s);
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
