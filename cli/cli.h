/*
 * cli.h — the commands of redial-cli (SPEC section 5, "Binaries").
 *
 * cli/cli_main.c only dispatches: it looks argv[1] up in its command
 * table and calls the entry point with argv shifted so that argv[0] is the
 * command name. Each command lives in its own file, cli/cli_<name>.c,
 * parses its own arguments (and `--help`), and returns the process exit
 * code: 0 success, 1 failure (the message is on stderr), 2 usage error,
 * 3 Redis unreachable (commands that talk to Redis; cli/cli_session.h
 * holds what they share: global --redis/--prefix/clock flags with their
 * environment twins, the short-lived store session, output helpers).
 *
 * To add a command: write cli/cli_<name>.c with
 *     int rd_cli_<name>(int argc, char **argv);
 * declare it below, and add one row to the table in cli/cli_main.c.
 *
 * Thread safety: entry points run on the main thread, before any other.
 */
#ifndef RD_CLI_H
#define RD_CLI_H

#include <stdbool.h>

typedef struct rd_cli_cmd {
    const char *name;    /* argv[1] that selects it */
    const char *args;    /* synopsis of its arguments, for the top-level --help */
    const char *summary; /* one line */
    int (*run)(int argc, char **argv);
} rd_cli_cmd_t;

/* plan FILE.json --start T --outcomes a,b,... : dry run of the retry policy (cli_plan.c). */
int rd_cli_plan(int argc, char **argv);

/* Redis-backed commands (cli_campaign.c, cli_jobs.c, cli_stats.c). */
/* campaign create FILE.json | list | show NAME | pause NAME | resume NAME | cancel NAME */
int rd_cli_campaign(int argc, char **argv);
/* enqueue CAMPAIGN NUMBER... [--id ID] [--var K=V]... [--not-before T] [--tz ZONE] [--json] */
int rd_cli_enqueue(int argc, char **argv);
/* optout NUMBER... | optout check|remove NUMBER... */
int rd_cli_optout(int argc, char **argv);
/* dnd import FILE | dnd check|remove NUMBER... | dnd list */
int rd_cli_dnd(int argc, char **argv);
/* agents set POOL N | agents list */
int rd_cli_agents(int argc, char **argv);
/* job show ID | job list | job cancel | job retry-now */
int rd_cli_job(int argc, char **argv);
/* deadletter list | show ID | replay ID... | purge ID... (cli_deadletter.c) */
int rd_cli_deadletter(int argc, char **argv);

/*
 * Subcommands in cli_ops.c that the entry points above hand over (argv[1] is
 * the subcommand): job list|cancel|retry-now; dnd / optout check|remove|list
 * (help = the command's help text); agents list on already parsed args.
 */
struct rd_cli_args;
int rd_cli_job_ops(int argc, char **argv);
const char *rd_cli_job_help(void);
int rd_cli_numbers_ops(int argc, char **argv, bool dnd, const char *help);
int rd_cli_agents_list(struct rd_cli_args *a);
/* stats CAMPAIGN [--json] */
int rd_cli_stats(int argc, char **argv);
/* report CAMPAIGN --out FILE.html */
int rd_cli_report(int argc, char **argv);
/* ping: exit 0 when Redis answers */
int rd_cli_ping(int argc, char **argv);
/* health [--url URL]: exit 0 when a running engine answers /healthz with 200 (cli_health.c) */
int rd_cli_health(int argc, char **argv);

#endif
