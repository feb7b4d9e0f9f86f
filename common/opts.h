/*
 * opts.h — table-driven command-line flags, each with an environment twin.
 *
 * A binary describes its configuration once, as an array of rd_opt_t that
 * point into its config struct; rd_opts_parse fills the struct from, in
 * increasing priority, the default, the environment variable, the flag.
 * --help / -h prints every option with its env twin and default; --version
 * prints the version (both: rd_opts_parse returns 1, the caller exits 0).
 *
 * Secrets (RD_OPT_SECRET) are never flags (argv is visible in ps): they come
 * from the environment variable or from a file named by <ENV>_FILE, with one
 * trailing newline stripped. --help never prints a secret's value.
 *
 * Strings in the filled struct are owned (rd_strdup); free with rd_opts_free.
 * Thread safety: call before threads start.
 */
#ifndef RD_OPTS_H
#define RD_OPTS_H

#include <stddef.h>
#include <stdio.h>

typedef enum { RD_OPT_STR, RD_OPT_INT, RD_OPT_DOUBLE, RD_OPT_BOOL, RD_OPT_SECRET } rd_opt_type_t;

typedef struct rd_opt {
    const char *name; /* flag without dashes ("redis" -> --redis); NULL for env-only */
    const char *env;  /* environment twin, or NULL */
    const char *def;  /* default as text, or NULL (no value) */
    rd_opt_type_t type;
    size_t off; /* offsetof(config, field): char *, int, double or int (bool) */
    const char *help;
} rd_opt_t;

/*
 * Fills cfg. Returns 0, 1 when --help or --version was printed to stdout (caller exits 0),
 * or RD_EINVAL with "--flag: reason" in err (unknown flag, bad number, missing
 * value). Positional arguments are left in argv[*first_arg .. argc) when
 * first_arg is not NULL (else they are an error).
 */
int rd_opts_parse(const rd_opt_t *opts, size_t n, void *cfg, int argc, char **argv, int *first_arg,
                  const char *usage, char *err, size_t errlen);
void rd_opts_usage(FILE *out, const rd_opt_t *opts, size_t n, const char *usage);
/* "<basename of argv0> <RD_VERSION>" and a newline (--version). */
void rd_opts_version(FILE *out, const char *argv0);
/* Frees the strings rd_opts_parse stored in cfg. */
void rd_opts_free(const rd_opt_t *opts, size_t n, void *cfg);

#endif
