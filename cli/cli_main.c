/*
 * cli_main.c — redial-cli: the command table and the dispatcher.
 *
 * Nothing but dispatch lives here (see cli.h for the contract of a
 * command): `redial-cli COMMAND ARGS...` runs the COMMAND's entry point with
 * argv[0] = COMMAND; `redial-cli --help` lists the commands; an unknown
 * command or a missing one is a usage error (exit 2).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "common/exit.h"
#include "common/opts.h"
#include "proto/rd.h"

/* One row per command, in the order --help shows them. */
static const rd_cli_cmd_t commands[] = {
    {"plan", "FILE.json --start \"YYYY-MM-DD HH:MM\" --outcomes a,b,...",
     "dry run of a campaign's retry policy: when each attempt would happen", rd_cli_plan},
    {"campaign", "create FILE.json | list | show NAME | pause | resume | cancel | archive NAME",
     "create and operate campaigns (Redis)", rd_cli_campaign},
    {"enqueue", "CAMPAIGN NUMBER... [--id ID] [--var K=V] [--not-before T] [--tz ZONE]",
     "add jobs to a campaign, checked like the inbox", rd_cli_enqueue},
    {"optout", "NUMBER... | check NUMBER... | remove NUMBER...",
     "opt numbers out forever (pending jobs finish as opted-out), check, undo", rd_cli_optout},
    {"dnd", "import FILE | check NUMBER... | remove NUMBER... | list",
     "the DND set: import a file, check, remove, list", rd_cli_dnd},
    {"agents", "set POOL N | list", "agent pools: set a capacity, list them", rd_cli_agents},
    {"job",
     "show ID | list [--campaign C] [--state S] [--number N] | cancel ID... | retry-now ID...",
     "a job's history; find, cancel or retry jobs", rd_cli_job},
    {"deadletter", "list | show ID | replay ID... | purge ID...|--all",
     "refused inbox entries: inspect, re-validate and replay, purge", rd_cli_deadletter},
    {"stats", "CAMPAIGN [--json]", "the seed's retry metrics of a campaign", rd_cli_stats},
    {"report", "CAMPAIGN --out FILE.html", "self-contained HTML report of a campaign",
     rd_cli_report},
    {"ping", "", "exit 0 when Redis answers (healthchecks)", rd_cli_ping},
    {"health", "[--url URL]", "exit 0 when the engine answers /healthz (image HEALTHCHECK)",
     rd_cli_health},
};

static void usage(FILE *out) {
    fprintf(out, "redial-cli — command-line client of redial, the outbound auto-retry dialer.\n\n"
                 "Usage: redial-cli COMMAND [ARGS...]\n"
                 "       redial-cli COMMAND --help   (the command's own options)\n"
                 "       redial-cli --version\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < RD_ARRAY_LEN(commands); i++)
        fprintf(out, "  %s %s\n      %s\n", commands[i].name, commands[i].args,
                commands[i].summary);
    fprintf(out, "\nCommands that use Redis take, anywhere after the command name:\n"
                 "  --redis URL (REDIAL_REDIS_URL)  --prefix P (REDIAL_PREFIX)  --timeout MS\n"
                 "  --time-scale X --time-origin T --time-epoch MS (the deployment's clock)\n"
                 "\nEvery command takes --json (one JSON document on stdout).\n"
                 "\n" RD_EXIT_HELP "More: docs/CLI.md.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return RD_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--version") == 0) {
        rd_opts_version(stdout, argv[0]);
        return RD_EXIT_OK;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t i = 0; i < RD_ARRAY_LEN(commands); i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "redial-cli: unknown command '%s' (see redial-cli --help)\n", argv[1]);
    return RD_EXIT_USAGE;
}
