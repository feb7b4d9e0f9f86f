/*
 * sim_harness.c — spawning redial-sim for tests (see sim_harness.h).
 */
#include "tests/lib/sim_harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/lib/server_harness.h"

static const char *bin_dir(void) {
    const char *d = getenv("REDIAL_BIN_DIR");
    return d && *d ? d : RD_BINARY_DIR;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = n > 0 ? fread(b, 1, (size_t)n, f) : 0;
    b[got] = '\0';
    fclose(f);
    return b;
}

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
    snprintf(bin, sizeof bin, "%s/redial-sim", bin_dir());
    snprintf(port_file, sizeof port_file, "%s/port", s->dir);
    snprintf(report, sizeof report, "%s/report.json", s->dir);
    snprintf(script, sizeof script, "%s/script.json", s->dir);
    snprintf(s->log_path, sizeof s->log_path, "%s/sim.log", s->dir);
    snprintf(seed, sizeof seed, "%d", o->seed ? o->seed : 1);
    const char *argv[96];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--port-file";
    argv[n++] = port_file;
    argv[n++] = "--report";
    argv[n++] = report;
    argv[n++] = "--seed";
    argv[n++] = seed;
    argv[n++] = "--model";
    argv[n++] = o->model ? o->model : "seed";
    if (o->script_json) {
        FILE *f = fopen(script, "w");
        if (!f) return -1;
        fputs(o->script_json, f);
        fclose(f);
        argv[n++] = "--script";
        argv[n++] = script;
    }
    if (o->time_scale) {
        argv[n++] = "--time-scale";
        argv[n++] = o->time_scale;
    }
    if (o->time_origin) {
        argv[n++] = "--time-origin";
        argv[n++] = o->time_origin;
    }
    if (o->time_epoch) {
        argv[n++] = "--time-epoch";
        argv[n++] = o->time_epoch;
    }
    if (!o->rate_limits) {
        argv[n++] = "--exotel-rate-per-min";
        argv[n++] = "0";
        argv[n++] = "--twilio-rate-per-s";
        argv[n++] = "0";
    }
    argv[n++] = "--exotel-sid";
    argv[n++] = RD_TEST_PROVIDER_SID;
    argv[n++] = "--exotel-key";
    argv[n++] = RD_TEST_PROVIDER_KEY;
    argv[n++] = "--twilio-sid";
    argv[n++] = RD_TEST_PROVIDER_SID;
    for (int i = 0; o->extra_args && o->extra_args[i] && n < 94; i++) argv[n++] = o->extra_args[i];
    argv[n] = NULL;

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
        setenv("REDIAL_SIM_TWILIO_TOKEN", RD_TEST_PROVIDER_TOKEN, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    for (int i = 0; i < 1000; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "sim harness: redial-sim exited early (status %d); log %s\n", st, s->log_path);
            char *log = slurp(s->log_path);
            if (log) fprintf(stderr, "%s", log);
            free(log);
            s->pid = 0;
            return -1;
        }
        char *p = slurp(port_file);
        if (p) {
            s->port = atoi(p);
            free(p);
            snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
            char url[128];
            snprintf(url, sizeof url, "%s/healthz", s->base);
            if (rd_test_http("GET", url, NULL, NULL, NULL, NULL) == 200) return 0;
        }
        sleep_ms(10);
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
    kill(s->pid, SIGTERM);
    int st = 0, rc = -1;
    bool done = false;
    for (int i = 0; i < 1000 && !done; i++) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) done = true;
        else sleep_ms(10);
    }
    if (!done) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &st, 0);
    }
    if (WIFEXITED(st)) rc = WEXITSTATUS(st);
    else if (WIFSIGNALED(st)) rc = 128 + WTERMSIG(st);
    s->pid = 0;
    char path[300];
    snprintf(path, sizeof path, "%s/report.json", s->dir);
    if (report) *report = slurp(path);
    if (rc == 0) rm_dir(s->dir);
    else fprintf(stderr, "sim harness: redial-sim exit %d; log kept in %s\n", rc, s->log_path);
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
