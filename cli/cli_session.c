/*
 * cli_session.c — the plumbing shared by the Redis-backed CLI commands (see
 * cli_session.h).
 *
 * Design. The CLI is a short-lived program, so it uses the engine's own
 * asynchronous store (the same scripts and key layout as redial-server, no
 * second Redis client to keep in step) on a private loop, and waits for each
 * result with uv_run(UV_RUN_ONCE) until the request's callback flagged it
 * done. A Redis that is down is not an error the store reports at once: its
 * requests wait for a connection and fail with RD_ETIMEOUT after the command
 * timeout, which we shorten to the CLI's --timeout (default 3 s) and report
 * as exit code 3.
 *
 * Messages never contain the Redis password: the URL shown is rebuilt
 * without its userinfo part.
 */
#include "cli/cli_session.h"

#include "common/redis.h"
#include "proto/campaign.h"
#include "store/view.h"

#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ---- flags --------------------------------------------------------------------- */

#define G(f) offsetof(rd_cli_global_t, f)
const rd_opt_t rd_cli_global_opts[] = {
    {"redis", "REDIAL_REDIS_URL", "redis://127.0.0.1:6379/0", RD_OPT_STR, G(redis_url),
     "Redis URL redis://[:password@]host[:port][/db]"},
    {NULL, "REDIAL_REDIS_PASSWORD", NULL, RD_OPT_SECRET, G(redis_password),
     "Redis password (overrides one in the URL)"},
    {"prefix", "REDIAL_PREFIX", "{redial}", RD_OPT_STR, G(prefix), "Redis key prefix"},
    {"time-scale", "REDIAL_TIME_SCALE", NULL, RD_OPT_STR, G(time_scale),
     "policy ms per wall ms (same value as the engines) [1]"},
    {"time-origin", "REDIAL_TIME_ORIGIN", NULL, RD_OPT_STR, G(time_origin),
     "policy time at --time-epoch (ISO-8601 or unix ms)"},
    {"time-epoch", "REDIAL_TIME_EPOCH", NULL, RD_OPT_STR, G(time_epoch),
     "wall-clock anchor of the scaled clock (unix ms)"},
    {"timeout", "REDIAL_CLI_TIMEOUT_MS", "3000", RD_OPT_INT, G(timeout_ms),
     "ms to wait for Redis before giving up (exit 3)"},
};
#undef G
const size_t rd_cli_global_opts_len = RD_ARRAY_LEN(rd_cli_global_opts);

static const rd_opt_t *global_opt(const char *name, size_t nl) {
    for (size_t k = 0; k < rd_cli_global_opts_len; k++) {
        const rd_opt_t *o = &rd_cli_global_opts[k];
        if (o->name && strlen(o->name) == nl && !strncmp(o->name, name, nl)) return o;
    }
    return NULL;
}

int rd_cli_args_parse(rd_cli_args_t *a, const char *cmd, const rd_cli_flag_t *spec, size_t n,
                      const char *help, int argc, char **argv) {
    memset(a, 0, sizeof *a);
    a->cmd = cmd;
    size_t cap = (size_t)(argc > 0 ? argc : 0) + 1;
    a->pos = rd_calloc(cap, sizeof *a->pos);
    a->fname = rd_calloc(cap, sizeof *a->fname);
    a->fval = rd_calloc(cap, sizeof *a->fval);
    /* Global flags are collected into their own argv for rd_opts_parse,
     * which applies the environment twins and the defaults. */
    char **gargv = rd_calloc((size_t)argc * 2 + 2, sizeof *gargv);
    int gargc = 0, ex = 0;
    gargv[gargc++] = (char *)"redial-cli";
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (!flags_done && !strcmp(w, "--")) {
            flags_done = true;
            continue;
        }
        if (!flags_done && (!strcmp(w, "--help") || !strcmp(w, "-h"))) {
            a->help = true;
            continue;
        }
        if (flags_done || strncmp(w, "--", 2) != 0 || w[2] == '\0') {
            a->pos[a->n_pos++] = w;
            continue;
        }
        const char *name = w + 2, *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (global_opt(name, nl)) {
            gargv[gargc++] = (char *)w;
            if (!eq && i + 1 < argc) gargv[gargc++] = argv[++i];
            continue;
        }
        const rd_cli_flag_t *f = NULL;
        for (size_t k = 0; k < n; k++)
            if (strlen(spec[k].name) == nl && !strncmp(spec[k].name, name, nl)) f = &spec[k];
        if (!f) {
            rd_cli_err(cmd, "--%.*s: unknown option (see redial-cli %s --help)", (int)nl, name,
                       cmd);
            ex = RD_CLI_USAGE;
            goto out;
        }
        const char *v = "";
        if (f->value) {
            if (eq) {
                v = eq + 1;
            } else if (i + 1 < argc) {
                v = argv[++i];
            } else {
                rd_cli_err(cmd, "--%s: needs a value", f->name);
                ex = RD_CLI_USAGE;
                goto out;
            }
        } else if (eq) {
            rd_cli_err(cmd, "--%s: takes no value", f->name);
            ex = RD_CLI_USAGE;
            goto out;
        }
        if (!f->repeat && rd_cli_flag_get(a, f->name)) {
            rd_cli_err(cmd, "--%s: given twice", f->name);
            ex = RD_CLI_USAGE;
            goto out;
        }
        a->fname[a->n_flags] = f->name;
        a->fval[a->n_flags++] = v;
    }
    if (a->help) {
        rd_opts_usage(stdout, rd_cli_global_opts, rd_cli_global_opts_len, help);
        goto out;
    }
    char err[256];
    int rc = rd_opts_parse(rd_cli_global_opts, rd_cli_global_opts_len, &a->g, gargc, gargv, NULL,
                           help, err, sizeof err);
    if (rc) {
        rd_cli_err(cmd, "%s", err);
        ex = RD_CLI_USAGE;
    }
out:
    rd_free(gargv);
    return ex;
}

void rd_cli_args_free(rd_cli_args_t *a) {
    if (!a) return;
    rd_opts_free(rd_cli_global_opts, rd_cli_global_opts_len, &a->g);
    rd_free(a->pos);
    rd_free(a->fname);
    rd_free(a->fval);
    a->pos = a->fname = a->fval = NULL;
}

const char *rd_cli_flag_get(const rd_cli_args_t *a, const char *name) {
    const char *v = NULL;
    for (size_t i = 0; i < a->n_flags; i++)
        if (!strcmp(a->fname[i], name)) v = a->fval[i];
    return v;
}

bool rd_cli_flag_has(const rd_cli_args_t *a, const char *name) {
    return rd_cli_flag_get(a, name) != NULL;
}

/* ---- messages -------------------------------------------------------------------- */

void rd_cli_err(const char *cmd, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "redial-cli%s%s: %s\n", cmd ? " " : "", cmd ? cmd : "", msg);
}

int rd_cli_fail(const rd_cli_session_t *s, int status, const char *what) {
    int code = 0;
    const char *why = s->store ? rd_store_link_error(s->store, &code) : NULL;
    switch (status) {
    case RD_EAUTH:
        /* Redis refused us (password, user, database): its own words, exit 3. */
        rd_cli_err(s->cmd, "Redis at %s refused the connection: %s", s->where,
                   why ? why : rd_strerror(status));
        return RD_CLI_UNREACHABLE;
    case RD_ETIMEOUT:
    case RD_ECLOSED:
    case RD_EIO:
        if (why)
            rd_cli_err(s->cmd, "cannot reach Redis at %s (%s)", s->where, why);
        else
            rd_cli_err(s->cmd, "cannot reach Redis at %s (%s within %d ms)", s->where,
                       status == RD_ETIMEOUT ? "no reply" : rd_strerror(status), s->timeout_ms);
        return RD_CLI_UNREACHABLE;
    case RD_ENOTFOUND:
        rd_cli_err(s->cmd, "%s not found", what);
        return RD_CLI_REFUSED;
    case RD_EEXISTS:
        rd_cli_err(s->cmd, "%s already exists", what);
        return RD_CLI_REFUSED;
    case RD_EREDIS:
        rd_cli_err(s->cmd,
                   "%s: Redis replied with an error (is it Redis 7 with scripting, "
                   "and not read-only or out of memory?)",
                   what);
        return RD_CLI_REFUSED;
    default:
        rd_cli_err(s->cmd, "%s: %s", what, rd_strerror(status));
        return RD_CLI_REFUSED;
    }
}

/* ---- session ----------------------------------------------------------------------- */

int rd_cli_open(rd_cli_session_t *s, const rd_cli_global_t *g, const char *cmd) {
    memset(s, 0, sizeof *s);
    s->cmd = cmd;
    s->timeout_ms = g->timeout_ms > 0 ? g->timeout_ms : 3000;
    const char *url = g->redis_url && *g->redis_url ? g->redis_url : "redis://127.0.0.1:6379/0";
    rd_redis_url_redact(url, s->where, sizeof s->where);
    char err[256];
    if (rd_clock_init_env(&s->clock, g->time_scale, g->time_origin, g->time_epoch, err,
                          sizeof err)) {
        rd_cli_err(cmd, "clock: %s", err);
        return RD_CLI_USAGE;
    }
    if (uv_loop_init(&s->loop)) {
        rd_cli_err(cmd, "cannot create an event loop");
        return RD_CLI_REFUSED;
    }
    rd_store_opts_t o;
    rd_store_opts_init(&o);
    o.url = url;
    o.password = g->redis_password && *g->redis_password ? g->redis_password : NULL;
    o.prefix = g->prefix && *g->prefix ? g->prefix : NULL;
    o.cmd_timeout_ms = (uint32_t)s->timeout_ms;
    o.connect_timeout_ms = (uint32_t)RD_MIN(s->timeout_ms, 2000);
    o.reconnect_max_ms = 200;
    o.fail_fast = true; /* "connection refused" is said at once, not after --timeout */
    int rc = rd_store_create(&s->loop, &o, &s->store);
    if (rc) {
        rd_cli_err(cmd, "bad Redis URL or prefix (%s, prefix %s): %s", s->where,
                   o.prefix ? o.prefix : RD_STORE_DEFAULT_PREFIX, rd_strerror(rc));
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
        return RD_CLI_USAGE;
    }
    return 0;
}

static void closed_cb(void *arg) { *(bool *)arg = true; }

static void close_walk(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

void rd_cli_close(rd_cli_session_t *s) {
    if (s->store) {
        bool done = false;
        rd_store_close(s->store, closed_cb, &done);
        s->store = NULL;
        rd_cli_wait(s, &done);
    }
    uv_run(&s->loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&s->loop) == UV_EBUSY) {
        /* Nothing of ours should be left; close whatever is, so the process
         * exits cleanly rather than leaking a loop. */
        uv_walk(&s->loop, close_walk, NULL);
        uv_run(&s->loop, UV_RUN_DEFAULT);
        uv_loop_close(&s->loop);
    }
}

int rd_cli_wait(rd_cli_session_t *s, const bool *done) {
    while (!*done)
        if (uv_run(&s->loop, UV_RUN_ONCE) == 0 && !*done) return RD_ETIMEOUT;
    return 0;
}

void rd_cli_done_cb(rd_store_t *s, int status, void *arg) {
    (void)s;
    rd_cli_done_t *d = arg;
    d->status = status;
    d->done = true;
}

void rd_cli_count_cb(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    rd_cli_count_t *c = arg;
    c->status = status;
    c->n = n;
    c->done = true;
}

int rd_cli_drain(rd_cli_session_t *s, const size_t *left, size_t max) {
    while (*left > max)
        if (uv_run(&s->loop, UV_RUN_ONCE) == 0 && *left > max) return RD_ETIMEOUT;
    return 0;
}

int64_t rd_cli_now(const rd_cli_session_t *s) { return rd_clock_now(&s->clock); }

/* ---- campaigns --------------------------------------------------------------------- */

typedef struct {
    bool done;
    int status;
    rd_store_campaign_t info;
    char *json;
} camp_res_t;

static void camp_cb(rd_store_t *st, int status, const rd_store_campaign_t *c, void *arg) {
    (void)st;
    camp_res_t *r = arg;
    r->status = status;
    if (!status && c) {
        r->info = *c;
        r->json = rd_strndup(c->json, c->json_len);
        r->info.json = NULL;
    }
    r->done = true;
}

int rd_cli_load_campaign(rd_cli_session_t *s, const char *name, rd_campaign_t *c,
                         rd_store_campaign_t *info) {
    char what[128];
    int ex = rd_cli_campaign_what(s->cmd, name, what, sizeof what);
    if (ex) return ex;
    camp_res_t r = {0};
    int rc = rd_store_campaign_get(s->store, name, camp_cb, &r);
    if (!rc) rc = rd_cli_wait(s, &r.done);
    if (!rc) rc = r.status;
    if (rc) {
        rd_free(r.json);
        return rd_cli_fail(s, rc, what);
    }
    char err[256];
    rc = rd_campaign_parse(r.json, strlen(r.json), c, err, sizeof err);
    rd_free(r.json);
    if (rc) {
        rd_cli_err(s->cmd, "%s: stored configuration does not parse (%s)", what, err);
        return RD_CLI_REFUSED;
    }
    if (info) *info = r.info;
    return 0;
}

/* ---- output ------------------------------------------------------------------------- */

void rd_cli_print_json(json_t *v) {
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(v);
}

int rd_cli_read_file(const char *path, size_t max, char **out, size_t *len, char *err,
                     size_t errlen) {
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) {
        snprintf(err, errlen, "%s: cannot open (%s)", path, strerror(errno));
        return RD_EIO;
    }
    size_t cap = 4096, n = 0;
    char *buf = rd_malloc(cap);
    int rc = 0;
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
                rc = RD_ELIMIT;
                break;
            }
            cap *= 2;
            buf = rd_realloc(buf, cap);
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error (%s)", path, strerror(errno));
                rc = RD_EIO;
            }
            break;
        }
    }
    if (!rc && n > max) {
        snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
        rc = RD_ELIMIT;
    }
    if (f != stdin) fclose(f);
    if (rc) {
        rd_free(buf);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

void rd_cli_fmt_local(char *buf, size_t len, const rd_tz_t *tz, int64_t t_ms) {
    rd_localtime_t lt;
    rd_tz_local(tz, t_ms, &lt);
    int off = lt.utc_offset_s, a = off < 0 ? -off : off;
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d %c%02d:%02d", lt.year, lt.month, lt.day,
             lt.hour, lt.minute, lt.second, off < 0 ? '-' : '+', a / 3600, a / 60 % 60);
}

void rd_cli_fmt_utc(char *buf, size_t len, int64_t t_ms) { rd_view_iso_utc(buf, len, t_ms); }

bool rd_cli_name_valid(const char *s) {
    size_t n = strlen(s);
    if (n == 0 || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '.' || ch == '-'))
            return false;
    }
    return true;
}

int rd_cli_campaign_what(const char *cmd, const char *name, char *what, size_t len) {
    snprintf(what, len, "campaign \"%s\"", name);
    if (rd_campaign_name_valid(name, strlen(name))) return 0;
    rd_cli_err(cmd, "%s: a campaign name is 1-64 characters of A-Z a-z 0-9 _ . -, not . or ..",
               what);
    return RD_CLI_REFUSED;
}
