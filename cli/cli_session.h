/*
 * cli_session.h — what the Redis-backed `redial-cli` commands share: their
 * command-line flags, a short-lived store on a private loop with blocking
 * waits, the mapping of failures to exit codes, and output helpers.
 *
 * Exit codes (documented in --help and docs/CLI.md):
 *   0  done
 *   1  refused or not found (unknown campaign or job, campaign exists,
 *      invalid number, canceled campaign, some input lines refused)
 *   2  usage (unknown flag, missing or malformed argument)
 *   3  Redis unreachable (connection refused, no reply within --timeout)
 *
 * A session is the store API of store/store.h used synchronously: every
 * rd_store_* request is issued with a callback that fills a result and sets
 * a flag, and rd_cli_wait() runs the session's loop until that flag is set.
 *
 * Threads: the CLI is single-threaded; everything here runs on main.
 */
#ifndef RD_CLI_SESSION_H
#define RD_CLI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <uv.h>

#include "common/exit.h"
#include "common/opts.h"
#include "store/store.h"
#include "proto/campaign.h"
#include "proto/clock.h"
#include "proto/tz.h"
#include "proto/rd.h"

/* The exit codes are those of every binary (common/exit.h). */
enum {
    RD_CLI_OK = RD_EXIT_OK,
    RD_CLI_REFUSED = RD_EXIT_FAILED,
    RD_CLI_USAGE = RD_EXIT_USAGE,
    RD_CLI_UNREACHABLE = RD_EXIT_UNREACHABLE
};

/*
 * Global flags of every Redis command (strings owned, NULL when unset),
 * accepted anywhere on the command's line, each with an environment twin
 * (common/opts.h: flag > environment > default).
 */
typedef struct rd_cli_global {
    char *redis_url;      /* --redis, REDIAL_REDIS_URL */
    char *redis_password; /* REDIAL_REDIS_PASSWORD / _FILE (secret) */
    char *prefix;         /* --prefix, REDIAL_PREFIX */
    char *time_scale;     /* --time-scale, REDIAL_TIME_SCALE */
    char *time_origin;    /* --time-origin, REDIAL_TIME_ORIGIN */
    char *time_epoch;     /* --time-epoch, REDIAL_TIME_EPOCH */
    int timeout_ms;       /* --timeout, REDIAL_CLI_TIMEOUT_MS: per Redis command */
} rd_cli_global_t;

extern const rd_opt_t rd_cli_global_opts[];
extern const size_t rd_cli_global_opts_len;

/* ---- per-command flags ---------------------------------------------------- */

typedef struct rd_cli_flag {
    const char *name; /* without dashes */
    bool value;       /* takes a value */
    bool repeat;      /* may be given more than once (values kept in order) */
} rd_cli_flag_t;

/* A command line split into positionals and flags (pointers into argv; the
 * arrays are owned, sized for the whole command line: no count limit). */
typedef struct rd_cli_args {
    const char *cmd;   /* e.g. "campaign create", for messages */
    rd_cli_global_t g; /* global flags + environment (owned strings) */
    const char **pos;
    size_t n_pos;
    const char **fname; /* flag names (spec's static strings) */
    const char **fval;  /* values ("" for boolean flags) */
    size_t n_flags;
    bool help;
} rd_cli_args_t;

/*
 * Splits argv[0..argc) (the words after the command name) against `spec`
 * and the global flags. Flags may appear anywhere ("--name V" or
 * "--name=V"), "--" ends them. "--help"/"-h" prints `help` and the global
 * options to stdout and sets a->help (the command then returns 0).
 * Returns 0 or RD_CLI_USAGE after printing "redial-cli <cmd>: <problem>" to
 * stderr. Release with rd_cli_args_free() in every case.
 */
int rd_cli_args_parse(rd_cli_args_t *a, const char *cmd, const rd_cli_flag_t *spec, size_t n,
                      const char *help, int argc, char **argv);
void rd_cli_args_free(rd_cli_args_t *a);
/* Last value of a flag, NULL when absent. */
const char *rd_cli_flag_get(const rd_cli_args_t *a, const char *name);
bool rd_cli_flag_has(const rd_cli_args_t *a, const char *name);

/* ---- session ----------------------------------------------------------------- */

typedef struct rd_cli_session {
    uv_loop_t loop;
    rd_store_t *store;
    rd_clock_t clock;
    char where[192]; /* Redis URL with any password removed (messages) */
    const char *cmd; /* command name for messages (borrowed) */
    int timeout_ms;
} rd_cli_session_t;

/*
 * Builds the clock and opens the store (connection is asynchronous: the
 * first request waits for it). Returns 0 or an exit code after printing the
 * problem (a bad clock flag or URL is RD_CLI_USAGE).
 */
int rd_cli_open(rd_cli_session_t *s, const rd_cli_global_t *g, const char *cmd);
/* Closes the store, drains and closes the loop. */
void rd_cli_close(rd_cli_session_t *s);
/* Runs the loop until *done (set by a store callback). Returns 0, or RD_ETIMEOUT if the
 * loop ran out of work first (a store bug). */
int rd_cli_wait(rd_cli_session_t *s, const bool *done);
/* For pipelined requests: runs the loop until *left (requests in flight, decremented by
 * their callbacks) is at most max. Returns 0, or RD_ETIMEOUT as rd_cli_wait. */
int rd_cli_drain(rd_cli_session_t *s, const size_t *left, size_t max);
/*
 * The result of a store request that answers with a status only (an
 * rd_store_cb): pass rd_cli_done_cb with a caller-owned rd_cli_done_t as
 * arg, then rd_cli_wait(s, &d.done) and read d.status.
 */
typedef struct rd_cli_done {
    bool done;
    int status;
} rd_cli_done_t;
void rd_cli_done_cb(rd_store_t *s, int status, void *arg);
/* The same for requests that answer a count (an rd_store_count_cb). */
typedef struct rd_cli_count {
    bool done;
    int status;
    int64_t n;
} rd_cli_count_t;
void rd_cli_count_cb(rd_store_t *s, int status, int64_t n, void *arg);

/* Policy time now (the deployment's clock flags). */
int64_t rd_cli_now(const rd_cli_session_t *s);

/*
 * Maps a store failure to an exit code and prints one line naming it:
 * RD_ETIMEOUT/RD_ECLOSED/RD_EIO -> 3 "cannot reach Redis at <url>",
 * RD_ENOTFOUND/RD_EEXISTS/RD_EINVAL/... -> 1 with `what` ("campaign \"x\"").
 */
int rd_cli_fail(const rd_cli_session_t *s, int status, const char *what);

/* "redial-cli <cmd>: <message>" on stderr. */
void rd_cli_err(const char *cmd, const char *fmt, ...) RD_PRINTF(2, 3);

/*
 * Loads and parses a campaign. Returns 0 with *c owned by the caller
 * (rd_campaign_deinit) and, if info is not NULL, the store's record (json
 * set to NULL: it is not kept); else an exit code after printing why.
 */
int rd_cli_load_campaign(rd_cli_session_t *s, const char *name, rd_campaign_t *c,
                         rd_store_campaign_t *info);

/* Prints a JSON value (indented, newline) to stdout and decrefs it. */
void rd_cli_print_json(json_t *v);

/*
 * Reads a whole file ("-" = stdin) up to max bytes into an owned NUL-
 * terminated buffer. Returns 0 or RD_EIO / RD_ELIMIT with err filled.
 */
int rd_cli_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                     size_t errlen);

/* "YYYY-MM-DD HH:MM:SS <abbrev-free offset>" of t in zone tz (e.g. "+05:30"). */
void rd_cli_fmt_local(char *buf, size_t len, const rd_tz_t *tz, int64_t t_ms);
/* "YYYY-MM-DDTHH:MM:SS.mmmZ". */
void rd_cli_fmt_utc(char *buf, size_t len, int64_t t_ms);

/* A name of [A-Za-z0-9_.-]{1,64} (campaigns, agent pools). */
bool rd_cli_name_valid(const char *s);
/*
 * Fills what with `campaign "<name>"` (for messages) and checks the name.
 * Returns 0, or RD_CLI_REFUSED after printing why the name is invalid.
 */
int rd_cli_campaign_what(const char *cmd, const char *name, char *what, size_t len);

/* The exit-code paragraph every help text ends with. */
#define RD_CLI_EXIT_HELP \
    RD_EXIT_HELP "\nThe options below may be given anywhere after the command.\n"

#endif
