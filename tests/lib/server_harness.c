/*
 * server_harness.c — spawning redial-server for tests (see server_harness.h).
 * Process plumbing (argv, health polling, reaping) is tests/lib/proc.c.
 */
#include "tests/lib/server_harness.h"

#include <jansson.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int rd_test_server_start(rd_test_server_t *s, const rd_test_server_opts_t *o) {
    memset(s, 0, sizeof *s);
    s->port = rd_test_free_port();
    s->cb_port = rd_test_free_port();
    if (s->port <= 0 || s->cb_port <= 0 || s->port == s->cb_port) return -1;
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    snprintf(s->cb_base, sizeof s->cb_base, "http://127.0.0.1:%d", s->cb_port);
    snprintf(s->log_path, sizeof s->log_path, "/tmp/redial-test-server-%d-%d.log", (int)getpid(),
             s->port);
    char bin[512], listen[64], admin[64], workers[16];
    snprintf(bin, sizeof bin, "%s/redial-server", rd_test_bin_dir());
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->cb_port);
    snprintf(admin, sizeof admin, "127.0.0.1:%d", s->port);
    snprintf(workers, sizeof workers, "%d", o->workers > 0 ? o->workers : 2);
    rd_test_argv_t av = {.n = 0};
    rd_test_argv_add(&av, bin);
    rd_test_argv_opt(&av, "--redis", o->redis_url);
    rd_test_argv_opt(&av, "--prefix", o->prefix);
    rd_test_argv_opt(&av, "--listen", listen);
    rd_test_argv_opt(&av, "--admin-listen", admin);
    rd_test_argv_opt(&av, "--provider", o->provider ? o->provider : "exotel");
    rd_test_argv_opt(&av, "--provider-url", o->provider_url);
    rd_test_argv_opt(&av, "--provider-sid", RD_TEST_PROVIDER_SID);
    rd_test_argv_opt(&av, "--workers", workers);
    rd_test_argv_opt(&av, "--log", s->log_path);
    rd_test_argv_opt(&av, "--time-scale", o->time_scale);
    rd_test_argv_opt(&av, "--time-origin", o->time_origin);
    rd_test_argv_opt(&av, "--time-epoch", o->time_epoch);
    rd_test_argv_opt(&av, "--engine-id", o->engine_id);
    rd_test_argv_addv(&av, o->extra_args);

    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setenv("REDIAL_API_KEY", RD_TEST_API_KEY, 1);
        setenv("REDIAL_API_TOKEN", RD_TEST_API_TOKEN, 1);
        setenv("REDIAL_CALLBACK_SECRET", RD_TEST_CALLBACK_SECRET, 1);
        if (!o->no_provider_key) setenv("REDIAL_PROVIDER_KEY", RD_TEST_PROVIDER_KEY, 1);
        if (o->metrics_token) setenv("REDIAL_METRICS_TOKEN", o->metrics_token, 1);
        setenv("REDIAL_PROVIDER_TOKEN", RD_TEST_PROVIDER_TOKEN, 1);
        if (o->nofile) {
            struct rlimit rl = {.rlim_cur = o->nofile, .rlim_max = o->nofile};
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0) _exit(126);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        execv(bin, (char *const *)av.v);
        _exit(127);
    }
    s->pid = pid;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", s->base);
    int rc = rd_test_wait_healthy(pid, url, 10000, 50);
    if (rc == 0) return 0;
    if (rc == -1) {
        s->pid = 0;
        fprintf(stderr, "redial-server exited at start; log %s\n", s->log_path);
        return -1;
    }
    fprintf(stderr, "redial-server did not become healthy; log %s\n", s->log_path);
    rd_test_server_kill(s);
    return -1;
}

int rd_test_server_stop(rd_test_server_t *s, int sig, int timeout_ms) {
    if (s->pid <= 0) return -1;
    int rc = rd_test_stop_pid(s->pid, sig, timeout_ms);
    if (rc < 0) return -1;
    s->pid = 0;
    if (rc == 0) unlink(s->log_path); /* kept when it went wrong */
    return rc;
}

void rd_test_server_kill(rd_test_server_t *s) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

long rd_test_api(const rd_test_server_t *s, const char *method, const char *path, const char *body,
                 char **resp) {
    char url[256];
    snprintf(url, sizeof url, "%s%s", s->base, path);
    return rd_test_http(method, url, NULL, body, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, resp);
}

long rd_test_create_campaign(const rd_test_server_t *s, const char *body) {
    char *resp = NULL;
    long st =
        rd_test_api(s, "POST", "/v1/Accounts/" RD_TEST_PROVIDER_SID "/Campaigns", body, &resp);
    if (st != 201) fprintf(stderr, "create campaign: %ld %s\n", st, resp ? resp : "");
    free(resp);
    return st;
}

long long rd_test_campaign_finished(const rd_test_server_t *s, const char *name) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/v1/campaigns/%s/stats", s->base, name);
    long long f = -1;
    if (rd_test_http("GET", url, NULL, NULL, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, &resp) == 200) {
        json_t *j = json_loads(resp, 0, NULL);
        if (j) f = json_integer_value(json_object_get(j, "finished"));
        json_decref(j);
    }
    free(resp);
    return f;
}

int rd_test_wait_finished(const rd_test_server_t *s, const char *name, long long n, int timeout_s) {
    long long f = -1;
    for (int i = 0; i < timeout_s * 10; i++) {
        if ((f = rd_test_campaign_finished(s, name)) == n) return 0;
        rd_test_sleep_ms(100);
    }
    fprintf(stderr, "campaign %s: %lld of %lld finished after %d s\n", name, f, n, timeout_s);
    return -1;
}
