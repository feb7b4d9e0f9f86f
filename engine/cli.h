/*
 * cli.h — the commands of redial-cli (SPEC section 5, "Binaries").
 *
 * engine/cli_main.c only dispatches: it looks argv[1] up in its command
 * table and calls the entry point with argv shifted so that argv[0] is the
 * command name. Each command lives in its own file, engine/cli_<name>.c,
 * parses its own arguments (and `--help`), and returns the process exit
 * code: 0 success, 1 failure (the message is on stderr), 2 usage error.
 *
 * To add a command: write engine/cli_<name>.c with
 *     int rd_cli_<name>(int argc, char **argv);
 * declare it below, and add one row to the table in engine/cli_main.c.
 *
 * Thread safety: entry points run on the main thread, before any other.
 */
#ifndef RD_CLI_H
#define RD_CLI_H

typedef struct rd_cli_cmd {
    const char *name;    /* argv[1] that selects it */
    const char *args;    /* synopsis of its arguments, for the top-level --help */
    const char *summary; /* one line */
    int (*run)(int argc, char **argv);
} rd_cli_cmd_t;

/* plan FILE.json --start T --outcomes a,b,... : dry run of the retry policy (cli_plan.c). */
int rd_cli_plan(int argc, char **argv);

#endif
