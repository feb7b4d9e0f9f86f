/*
 * cli_health.c — `redial-cli health`: asks a running engine whether it is
 * healthy (GET /healthz answers 200 only while the engine is connected to
 * Redis and not stopping). The container image's HEALTHCHECK runs it, so
 * the check is the engine's own view, not only "Redis answers".
 *
 * Design. Without --url it asks the engine of this host at the addresses
 * its own environment names: REDIAL_ADMIN_LISTEN (the private listener that
 * serves /healthz when the engine has one), then REDIAL_LISTEN, then
 * 127.0.0.1:8080; healthy when one answers 200. A wildcard host (0.0.0.0,
 * [::]) is asked on loopback. One libcurl easy request per address with a
 * short timeout; nothing of the answer but the status is trusted.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"

static const char *const HELP =
    "Usage: redial-cli health [--url URL] [--json]\n"
    "\n"
    "Exits 0 when a running redial-server answers GET /healthz with 200 (it is\n"
    "connected to Redis and not stopping), 1 otherwise. Without --url it asks the\n"
    "engine of this host: http://$REDIAL_ADMIN_LISTEN/healthz, then\n"
    "http://$REDIAL_LISTEN/healthz, then http://127.0.0.1:8080/healthz (a wildcard\n"
    "host is asked on 127.0.0.1). The container image's HEALTHCHECK runs it.\n"
    "\n"
    "  --url URL          the engine's health URL\n"
    "  --json             {healthy, url, status}\n"
    "\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t FLAGS[] = {{"url", true, false}, {"json", false, false}};

static size_t discard(char *p, size_t size, size_t n, void *arg) {
    (void)p;
    (void)arg;
    return size * n;
}

/* HTTP status of GET url (0 when nothing answered). */
static long probe(const char *url, int timeout_ms) {
    CURL *c = curl_easy_init();
    if (!c) return 0;
    long st = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
    curl_easy_cleanup(c);
    return st;
}

/* http://HOST:PORT/healthz of a listen address, wildcards on loopback. */
static void from_listen(char *buf, size_t len, const char *listen) {
    const char *colon = strrchr(listen, ':');
    const char *port = colon ? colon + 1 : "8080";
    size_t hl = colon ? (size_t)(colon - listen) : strlen(listen);
    if (hl == 0 || (hl == 7 && !strncmp(listen, "0.0.0.0", 7)) ||
        (hl == 4 && !strncmp(listen, "[::]", 4)))
        snprintf(buf, len, "http://127.0.0.1:%s/healthz", port);
    else
        snprintf(buf, len, "http://%.*s:%s/healthz", (int)hl, listen, port);
}

int rd_cli_health(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    int ex = rd_cli_args_parse(a, "health", FLAGS, RD_ARRAY_LEN(FLAGS), HELP, argc - 1, argv + 1);
    if (ex || a->help) goto out;
    if (a->n_pos) {
        rd_cli_err("health", "takes no arguments (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    char urls[3][300];
    size_t n = 0;
    const char *u = rd_cli_flag_get(a, "url");
    if (u) {
        snprintf(urls[n++], sizeof urls[0], "%s", u);
    } else {
        const char *adm = getenv("REDIAL_ADMIN_LISTEN"), *lis = getenv("REDIAL_LISTEN");
        if (adm && *adm) from_listen(urls[n++], sizeof urls[0], adm);
        if (lis && *lis) from_listen(urls[n++], sizeof urls[0], lis);
        if (!n) snprintf(urls[n++], sizeof urls[0], "http://127.0.0.1:8080/healthz");
    }
    int timeout = a->g.timeout_ms > 0 ? a->g.timeout_ms : 3000;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    long st = 0;
    size_t i = 0;
    for (; i < n; i++)
        if ((st = probe(urls[i], timeout)) == 200) break;
    curl_global_cleanup();
    const char *url = urls[i < n ? i : n - 1];
    bool ok = st == 200;
    if (rd_cli_flag_has(a, "json"))
        rd_cli_print_json(
            json_pack("{s:b,s:s,s:I}", "healthy", ok, "url", url, "status", (json_int_t)st));
    else if (ok)
        printf("healthy: %s\n", url);
    else if (st)
        rd_cli_err("health", "engine not healthy: %s answered HTTP %ld", url, st);
    else
        rd_cli_err("health", "engine not healthy: nothing answers at %s", url);
    ex = ok ? RD_CLI_OK : RD_CLI_REFUSED;
out:
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
