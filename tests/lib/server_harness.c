/*
 * server_harness.c — spawning redial-server for tests (see server_harness.h).
 */
#include "tests/lib/server_harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

static const char *bin_dir(void) {
    const char *d = getenv("REDIAL_BIN_DIR");
    return d && *d ? d : RD_BINARY_DIR;
}

int rd_test_free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

typedef struct {
    char *buf;
    size_t len;
} grow_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg) {
    grow_t *g = arg;
    size_t add = size * n;
    g->buf = realloc(g->buf, g->len + add + 1);
    memcpy(g->buf + g->len, p, add);
    g->len += add;
    g->buf[g->len] = '\0';
    return add;
}

long rd_test_http(const char *method, const char *url, const char *content_type,
                  const char *body, const char *userpwd, char **resp) {
    CURL *c = curl_easy_init();
    if (!c) return -1;
    grow_t g = {calloc(1, 1), 0};
    struct curl_slist *h = NULL;
    char ct[128];
    if (body) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type ? content_type : "application/json");
        h = curl_slist_append(h, ct);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &g);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (userpwd) curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    long status = -1;
    if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    if (resp)
        *resp = g.buf;
    else
        free(g.buf);
    return status;
}

int rd_test_server_start(rd_test_server_t *s, const rd_test_server_opts_t *o) {
    memset(s, 0, sizeof *s);
    s->port = rd_test_free_port();
    if (s->port <= 0) return -1;
    snprintf(s->base, sizeof s->base, "http://127.0.0.1:%d", s->port);
    snprintf(s->log_path, sizeof s->log_path, "/tmp/redial-test-server-%d-%d.log", (int)getpid(),
             s->port);
    char bin[512], listen[64], workers[16];
    snprintf(bin, sizeof bin, "%s/redial-server", bin_dir());
    snprintf(listen, sizeof listen, "127.0.0.1:%d", s->port);
    snprintf(workers, sizeof workers, "%d", o->workers > 0 ? o->workers : 2);
    const char *argv[64];
    int n = 0;
    argv[n++] = bin;
    argv[n++] = "--redis";
    argv[n++] = o->redis_url;
    argv[n++] = "--prefix";
    argv[n++] = o->prefix;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--provider";
    argv[n++] = o->provider ? o->provider : "exotel";
    argv[n++] = "--provider-url";
    argv[n++] = o->provider_url;
    argv[n++] = "--provider-sid";
    argv[n++] = RD_TEST_PROVIDER_SID;
    argv[n++] = "--workers";
    argv[n++] = workers;
    argv[n++] = "--log";
    argv[n++] = s->log_path;
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
    if (o->engine_id) {
        argv[n++] = "--engine-id";
        argv[n++] = o->engine_id;
    }
    for (int i = 0; o->extra_args && o->extra_args[i] && n < 62; i++) argv[n++] = o->extra_args[i];
    argv[n] = NULL;

    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setenv("REDIAL_API_KEY", RD_TEST_API_KEY, 1);
        setenv("REDIAL_API_TOKEN", RD_TEST_API_TOKEN, 1);
        setenv("REDIAL_CALLBACK_SECRET", RD_TEST_CALLBACK_SECRET, 1);
        setenv("REDIAL_PROVIDER_KEY", RD_TEST_PROVIDER_KEY, 1);
        setenv("REDIAL_PROVIDER_TOKEN", RD_TEST_PROVIDER_TOKEN, 1);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    s->pid = pid;
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", s->base);
    for (int i = 0; i < 200; i++) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            s->pid = 0;
            fprintf(stderr, "redial-server exited at start; log %s\n", s->log_path);
            return -1;
        }
        if (rd_test_http("GET", url, NULL, NULL, NULL, NULL) == 200) return 0;
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    fprintf(stderr, "redial-server did not become healthy; log %s\n", s->log_path);
    rd_test_server_kill(s);
    return -1;
}

int rd_test_server_stop(rd_test_server_t *s, int sig, int timeout_ms) {
    if (s->pid <= 0) return -1;
    kill(s->pid, sig);
    int st = 0;
    for (int waited = 0;; waited += 20) {
        pid_t r = waitpid(s->pid, &st, WNOHANG);
        if (r == s->pid) break;
        if (r < 0) return -1;
        if (waited >= timeout_ms) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &st, 0);
            break;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    s->pid = 0;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) unlink(s->log_path); /* kept when it went wrong */
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

void rd_test_server_kill(rd_test_server_t *s) {
    if (s->pid <= 0) return;
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

int rd_test_run(char *const argv[], char **out) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return -1;
    char bin[512];
    snprintf(bin, sizeof bin, "%s/%s", bin_dir(), argv[0]);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pipefd[1], 1);
        close(pipefd[0]);
        close(pipefd[1]);
        execv(bin, argv);
        _exit(127);
    }
    close(pipefd[1]);
    grow_t g = {calloc(1, 1), 0};
    char buf[4096];
    ssize_t r;
    while ((r = read(pipefd[0], buf, sizeof buf)) > 0) on_body(buf, 1, (size_t)r, &g);
    close(pipefd[0]);
    int st;
    waitpid(pid, &st, 0);
    if (out)
        *out = g.buf;
    else
        free(g.buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
