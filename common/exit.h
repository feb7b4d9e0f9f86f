/*
 * exit.h — the one exit-code table of every redial binary (redial-server,
 * redial-cli, redial-sim, redial-bench, redial-dialbench, redial-simload,
 * redial-storebench), and the version they print for --version.
 *
 *   0  ok: done, or --help / --version printed
 *   1  failed: refused, not found, violations counted, could not start
 *   2  usage: unknown flag, missing or malformed argument
 *   3  Redis unreachable: connection refused, no reply within the timeout
 *
 * docs/CLI.md ("Exit codes") repeats this table for operators; help texts
 * end with RD_EXIT_HELP.
 *
 * Thread safety: constants only.
 */
#ifndef RD_EXIT_H
#define RD_EXIT_H

enum { RD_EXIT_OK = 0, RD_EXIT_FAILED = 1, RD_EXIT_USAGE = 2, RD_EXIT_UNREACHABLE = 3 };

/* The table as one help paragraph (ends with a newline). */
#define RD_EXIT_HELP                                                    \
    "Exit codes: 0 ok; 1 failed (refused, not found); 2 usage error;\n" \
    "            3 Redis unreachable (no reply within the timeout).\n"

/* Version of the build (CMake's project version), for --version and build info. */
#ifndef RD_VERSION
#define RD_VERSION "0.0.0-unknown"
#endif

#endif
