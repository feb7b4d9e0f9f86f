/*
 * sim_harness.c — spawning redial-sim for tests (see sim_harness.h).
 * Process plumbing (argv, health polling, reaping) is tests/lib/proc.c.
 */
#include "tests/lib/sim_harness.h"

#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/server_harness.h"

static void rm_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

int rd_test_sim_start(rd_test_sim_t *s, const rd_test_sim_opts_t *o) {
    static const rd_test_sim_opts_t none = {0};
    if (!o) o = &none;
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/redial-test-sim-XXXXXX");
    if (!mkdtemp(s->dir)) {
        perror("sim harness: mkdtemp");
        return -1;
    }
    char bin[512], port_file[300], report[300], script[300], seed[32];
    snprintf(bin, sizeof bin, "%s/redial-sim", rd_test_bin_dir());
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(report, sizeof report, "%s/report.json", s->dir);
    snprintf(script, sizeof script, "%s/script.json", s->dir);
    snprintf(s->log_path, sizeof s->log_path, "%s/sim.log", s->dir);
    snprintf(seed, sizeof seed, "%d", o->seed ? o->seed : 1);
    rd_test_argv_t av = {.n = 0};
    rd_test_argv_add(&av, bin);
    rd_test_argv_opt(&av, "--listen", "127.0.0.1:0");
    rd_test_argv_opt(&av, "--port-file", port_file);
    rd_test_argv_opt(&av, "--report", report);
    rd_test_argv_opt(&av, "--seed", seed);
    rd_test_argv_opt(&av, "--model", o->model ? o->model : "seed");
    if (o->script_json) {
        FILE *f = fopen(script, "w");
        if (!f) return -1;
        fputs(o->script_json, f);
        fclose(f);
        rd_test_argv_opt(&av, "--script", script);
    }
    rd_test_argv_opt(&av, "--time-scale", o->time_scale);
    rd_test_argv_opt(&av, "--time-origin", o->time_origin);
    rd_test_argv_opt(&av, "--time-epoch", o->time_epoch);
    if (!o->rate_limits) {
        rd_test_argv_opt(&av, "--exotel-rate-per-min", "0");
        rd_test_argv_opt(&av, "--twilio-rate-per-s", "0");
    }
    rd_test_argv_opt(&av, "--exotel-sid", RD_TEST_PROVIDER_SID);
    rd_test_argv_opt(&av, "--exotel-key", RD_TEST_PROVIDER_KEY);
    rd_test_argv_opt(&av, "--twilio-sid", RD_TEST_PROVIDER_SID);
    rd_test_argv_addv(&av, o->extra_args);

    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        int fd = open(s->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setenv("REDIAL_SIM_EXOTEL_TOKEN", RD_TEST_PROVIDER_TOKEN, 1);
        setenv("REDIAL_SIM_TWILIO_TOKEN", RD_TEST_PROVIDER_TOKEN, 0); /* a test may set its own */
        execv(bin, (char *const *)av.v);
        _exit(127);
    }
    s->pid = pid;
    /* The sim writes its port (tmp + rename) once it listens; then /healthz must answer. */
    int rc = -2, waited = 0;
    char *port = NULL;
    for (; waited < 10000 && !port; waited += 10) {
        if ((port = rd_test_slurp(port_file)) != NULL) break;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            rc = -1;
            break;
        }
        rd_test_sleep_ms(10);
    }
    if (port) {
        s->port = atoi(port);
        free(port);
        snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
        char url[128];
        snprintf(url, sizeof url, "%s/healthz", s->base);
        rc = rd_test_wait_healthy(pid, url, 10000 - waited, 10);
    }
    if (rc == 0) return 0;
    if (rc == -1) {
        fprintf(stderr, "sim harness: redial-sim exited early; log %s\n", s->log_path);
        char *log = rd_test_slurp(s->log_path);
        if (log) fprintf(stderr, "%s", log);
        free(log);
        s->pid = 0;
        return -1;
    }
    fprintf(stderr, "sim harness: redial-sim did not come up; log %s\n", s->log_path);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    s->pid = 0;
    return -1;
}

int rd_test_sim_stop(rd_test_sim_t *s, char **report) {
    if (report) *report = NULL;
    if (s->pid <= 0) return -1;
    int rc = rd_test_stop_pid(s->pid, SIGTERM, 10000);
    s->pid = 0;
    char path[300];
    snprintf(path, sizeof path, "%s/report.json", s->dir);
    if (report) *report = rd_test_slurp(path);
    if (rc == 0)
        rm_dir(s->dir);
    else
        fprintf(stderr, "sim harness: redial-sim exit %d; log kept in %s\n", rc, s->log_path);
    return rc;
}

char *rd_test_sim_report(const rd_test_sim_t *s) {
    char url[128];
    snprintf(url, sizeof url, "%s/sim/report", s->base);
    char *r = NULL;
    if (rd_test_http("GET", url, NULL, NULL, NULL, &r) != 200) {
        free(r);
        return NULL;
    }
    return r;
}

long rd_test_sim_post(const rd_test_sim_t *s, const char *what, const char *json) {
    char url[160];
    snprintf(url, sizeof url, "%s/sim/%s", s->base, what);
    char *r = NULL;
    long st = rd_test_http("POST", url, "application/json", json, NULL, &r);
    free(r);
    return st;
}

long long rd_test_report_int(const char *report, const char *path) {
    if (!report) return -1;
    json_t *root = json_loads(report, 0, NULL);
    json_t *cur = root;
    char part[128];
    const char *p = path;
    while (cur && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof part) {
            cur = NULL;
            break;
        }
        memcpy(part, p, n);
        part[n] = '\0';
        cur = json_object_get(cur, part);
        p = dot ? dot + 1 : p + n;
    }
    long long v = json_is_integer(cur) ? (long long)json_integer_value(cur) : -1;
    json_decref(root);
    return v;
}

long long rd_test_sim_violations(const rd_test_sim_t *s) {
    char *report = rd_test_sim_report(s);
    long long v = report ? rd_test_report_int(report, "violations_total") : -1;
    if (v != 0) fprintf(stderr, "referee: %s\n", report ? report : "(no report)");
    free(report);
    return v;
}

long rd_test_sim_calls_to(const rd_test_sim_t *s, const char *number, long long *created,
                          size_t max) {
    char url[256], *resp = NULL;
    snprintf(url, sizeof url, "%s/sim/numbers/%%2B%s", s->base,
             number[0] == '+' ? number + 1 : number);
    long st = rd_test_http("GET", url, NULL, NULL, NULL, &resp);
    json_t *j = st == 200 && resp ? json_loads(resp, 0, NULL) : NULL;
    free(resp);
    if (!j) return -1;
    json_t *calls = json_object_get(j, "calls");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(calls) && n < max; i++)
        created[n++] = json_integer_value(json_object_get(json_array_get(calls, i), "created_ms"));
    json_decref(j);
    return (long)n;
}
