/*
 * opts.c — flags with environment twins (see opts.h).
 *
 * Parsing is in three passes over the table — defaults, environment, argv —
 * each overwriting the previous value, so precedence is obvious and a bad
 * value names exactly where it came from.
 */
#include "common/opts.h"
#include "common/exit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"

static char **str_slot(void *cfg, const rd_opt_t *o) { return (char **)((char *)cfg + o->off); }

static int set_value(void *cfg, const rd_opt_t *o, const char *v, const char *from, char *err,
                     size_t errlen) {
    char *end;
    switch (o->type) {
    case RD_OPT_STR:
    case RD_OPT_SECRET: {
        char **slot = str_slot(cfg, o);
        rd_free(*slot);
        *slot = rd_strdup(v);
        return 0;
    }
    case RD_OPT_INT: {
        errno = 0;
        long x = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || errno || x < -2147483647L || x > 2147483647L) {
            snprintf(err, errlen, "%s: '%s' is not an integer", from, v);
            return RD_EINVAL;
        }
        *(int *)((char *)cfg + o->off) = (int)x;
        return 0;
    }
    case RD_OPT_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (*v == '\0' || *end != '\0' || errno) {
            snprintf(err, errlen, "%s: '%s' is not a number", from, v);
            return RD_EINVAL;
        }
        *(double *)((char *)cfg + o->off) = x;
        return 0;
    }
    case RD_OPT_BOOL: {
        bool t = !strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on");
        bool f = !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off");
        if (!t && !f) {
            snprintf(err, errlen, "%s: '%s' is not a boolean", from, v);
            return RD_EINVAL;
        }
        *(int *)((char *)cfg + o->off) = t;
        return 0;
    }
    }
    return RD_EINVAL;
}

static int read_secret_file(const char *path, char **out, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot read secret file '%s'", path);
        return RD_EINVAL;
    }
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n && buf[n - 1] == '\n') buf[--n] = '\0';
    if (n && buf[n - 1] == '\r') buf[--n] = '\0';
    *out = rd_strdup(buf);
    return 0;
}

/* The env-only secret a flag like --provider-token would have named
 * (REDIAL_PROVIDER_TOKEN), so the refusal can say where secrets go. */
static const rd_opt_t *secret_by_flag(const rd_opt_t *opts, size_t n, const char *name, size_t nl) {
    for (size_t k = 0; k < n; k++) {
        const char *env = opts[k].env;
        if (opts[k].type != RD_OPT_SECRET || !env) continue;
        const char *us = strchr(env, '_'); /* skip the REDIAL_ / product part */
        const char *e = us ? us + 1 : env;
        if (strlen(e) != nl) continue;
        size_t i = 0;
        for (; i < nl; i++) {
            char c = e[i] == '_' ? '-' : (char)(e[i] >= 'A' && e[i] <= 'Z' ? e[i] + 32 : e[i]);
            if (c != name[i]) break;
        }
        if (i == nl) return &opts[k];
    }
    return NULL;
}

void rd_opts_usage(FILE *out, const rd_opt_t *opts, size_t n, const char *usage) {
    fprintf(out, "%s\n\nOptions (flag, environment twin, default):\n", usage);
    for (size_t i = 0; i < n; i++) {
        const rd_opt_t *o = &opts[i];
        char flag[64] = "";
        if (o->name)
            snprintf(flag, sizeof flag, "--%s%s", o->name, o->type == RD_OPT_BOOL ? "" : " V");
        fprintf(out, "  %-24s %s\n", o->name ? flag : "(environment only)", o->help);
        if (o->env) {
            if (o->type == RD_OPT_SECRET)
                fprintf(out, "  %-24s   env %s or %s_FILE (secret: never a flag)\n", "", o->env,
                        o->env);
            else
                fprintf(out, "  %-24s   env %s%s%s\n", "", o->env, o->def ? ", default " : "",
                        o->def ? o->def : "");
        } else if (o->def) {
            fprintf(out, "  %-24s   default %s\n", "", o->def);
        }
    }
    fprintf(out, "  %-24s show this help\n", "--help, -h");
    fprintf(out, "  %-24s print the version and exit\n", "--version");
}

void rd_opts_version(FILE *out, const char *argv0) {
    const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
    fprintf(out, "%s %s\n", slash ? slash + 1 : argv0 ? argv0 : "redial", RD_VERSION);
}

int rd_opts_parse(const rd_opt_t *opts, size_t n, void *cfg, int argc, char **argv, int *first_arg,
                  const char *usage, char *err, size_t errlen) {
    int rc;
    for (size_t i = 0; i < n; i++)
        if (opts[i].def && (rc = set_value(cfg, &opts[i], opts[i].def, "default", err, errlen)))
            return rc;
    for (size_t i = 0; i < n; i++) {
        const rd_opt_t *o = &opts[i];
        if (!o->env) continue;
        const char *v = getenv(o->env);
        if (v && (rc = set_value(cfg, o, v, o->env, err, errlen))) return rc;
        if (o->type == RD_OPT_SECRET && !v) {
            char fenv[128];
            snprintf(fenv, sizeof fenv, "%s_FILE", o->env);
            const char *path = getenv(fenv);
            if (path) {
                char **slot = str_slot(cfg, o);
                rd_free(*slot);
                *slot = NULL;
                if ((rc = read_secret_file(path, slot, err, errlen))) return rc;
            }
        }
    }
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            rd_opts_usage(stdout, opts, n, usage);
            return 1;
        }
        if (strcmp(a, "--version") == 0) {
            rd_opts_version(stdout, argv[0]);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0) break;
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const rd_opt_t *o = NULL;
        for (size_t k = 0; k < n; k++)
            if (opts[k].name && strlen(opts[k].name) == nl && !strncmp(opts[k].name, name, nl))
                o = &opts[k];
        if (!o) o = secret_by_flag(opts, n, name, nl);
        if (!o || o->type == RD_OPT_SECRET) {
            if (o)
                snprintf(err, errlen,
                         "%.*s: secrets come from the environment, not flags: set %s or %s_FILE",
                         (int)(nl + 2), a, o->env, o->env);
            else
                snprintf(err, errlen, "%.*s: unknown option (see --help)", (int)(nl + 2), a);
            return RD_EINVAL;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (!v && o->type == RD_OPT_BOOL) v = "true";
        if (!v) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s: needs a value", o->name);
                return RD_EINVAL;
            }
            v = argv[++i];
        }
        char from[80];
        snprintf(from, sizeof from, "--%s", o->name);
        if ((rc = set_value(cfg, o, v, from, err, errlen))) return rc;
    }
    if (first_arg) {
        *first_arg = i;
    } else if (i < argc) {
        snprintf(err, errlen, "%s: unexpected argument (see --help)", argv[i]);
        return RD_EINVAL;
    }
    return 0;
}

void rd_opts_free(const rd_opt_t *opts, size_t n, void *cfg) {
    for (size_t i = 0; i < n; i++) {
        if (opts[i].type != RD_OPT_STR && opts[i].type != RD_OPT_SECRET) continue;
        char **slot = str_slot(cfg, &opts[i]);
        rd_free(*slot);
        *slot = NULL;
    }
}
