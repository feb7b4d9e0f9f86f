/*
 * proc.c — child processes for tests (see proc.h).
 *
 * Everything blocks the calling thread: tests are sequential, and a harness
 * that polls with short sleeps is simpler to reason about than one with its
 * own event loop. Children are always reaped (waitpid), so no test leaves a
 * zombie or a stray process behind when it stops one.
 */
#include "tests/lib/proc.h"

#include "bench/benchrun.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

const char *rd_test_bin_dir(void) {
    const char *d = getenv("REDIAL_BIN_DIR");
    return d && *d ? d : RD_BINARY_DIR;
}

void rd_test_sleep_ms(int ms) { rd_bench_sleep_ms(ms); }

int rd_test_free_port(void) { return rd_bench_free_port(); }

char *rd_test_slurp(const char *path) { return rd_bench_slurp(path); }

/* ---- argv ------------------------------------------------------------------ */

void rd_test_argv_add(rd_test_argv_t *a, const char *word) {
    if (a->n < RD_TEST_ARGV_MAX) a->v[a->n++] = word;
    a->v[a->n] = NULL;
}

void rd_test_argv_opt(rd_test_argv_t *a, const char *flag, const char *value) {
    if (!value) return;
    rd_test_argv_add(a, flag);
    rd_test_argv_add(a, value);
}

void rd_test_argv_addv(rd_test_argv_t *a, const char *const *words) {
    for (size_t i = 0; words && words[i]; i++) rd_test_argv_add(a, words[i]);
}

/* ---- HTTP and output capture -------------------------------------------------- */

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

long rd_test_http_do(const rd_test_http_req_t *rq, rd_test_http_resp_t *rs) {
    grow_t body = {calloc(1, 1), 0}, hdr = {calloc(1, 1), 0};
    long status = -1;
    CURL *c = curl_easy_init();
    if (c) {
        struct curl_slist *h = NULL;
        char ct[128];
        if (rq->body || rq->content_type) {
            snprintf(ct, sizeof ct, "Content-Type: %s",
                     rq->content_type ? rq->content_type : "application/json");
            h = curl_slist_append(h, ct);
        }
        for (size_t i = 0; rq->headers && rq->headers[i]; i++)
            h = curl_slist_append(h, rq->headers[i]);
        if (rq->body) curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        curl_easy_setopt(c, CURLOPT_URL, rq->url);
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : 10000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        if (rq->userpwd) curl_easy_setopt(c, CURLOPT_USERPWD, rq->userpwd);
        if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(h);
        curl_easy_cleanup(c);
    }
    *rs = (rd_test_http_resp_t){status, body.buf, body.len, hdr.buf};
    return status;
}

void rd_test_http_resp_free(rd_test_http_resp_t *rs) {
    free(rs->body);
    free(rs->headers);
    *rs = (rd_test_http_resp_t){-1, NULL, 0, NULL};
}

long rd_test_http(const char *method, const char *url, const char *content_type, const char *body,
                  const char *userpwd, char **resp) {
    rd_test_http_req_t rq = {.method = method,
                             .url = url,
                             .content_type = body ? content_type : NULL,
                             .body = body,
                             .userpwd = userpwd};
    rd_test_http_resp_t rs;
    long status = rd_test_http_do(&rq, &rs);
    if (resp) {
        *resp = rs.body;
        rs.body = NULL;
    }
    rd_test_http_resp_free(&rs);
    return status;
}

/* Reads what fd has; false at end of file (or error). */
static bool drain(int fd, grow_t *g) {
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    on_body(buf, 1, (size_t)n, g);
    return true;
}

int rd_test_run_io(const char *const argv[], const char *input, char **out, char **err) {
    if (out) *out = NULL;
    if (err) *err = NULL;
    char bin[512];
    snprintf(bin, sizeof bin, "%s/%s", rd_test_bin_dir(), argv[0]);
    int po[2], pe[2], pi[2];
    if (pipe(po) || pipe(pe) || pipe(pi)) return -1;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pi[0], 0);
        dup2(po[1], 1);
        if (err) dup2(pe[1], 2);
        for (int i = 0; i < 2; i++) {
            close(pi[i]);
            close(po[i]);
            close(pe[i]);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    close(pi[0]);
    close(po[1]);
    close(pe[1]);
    /* stdin is fed while stdout/stderr are read: a child that answers as it
     * reads cannot fill its output pipe while we block writing its input. */
    size_t left = input ? strlen(input) : 0;
    fcntl(pi[1], F_SETFL, fcntl(pi[1], F_GETFL) | O_NONBLOCK);
    signal(SIGPIPE, SIG_IGN);
    if (!left) {
        close(pi[1]);
        pi[1] = -1;
    }
    grow_t g[2] = {{calloc(1, 1), 0}, {calloc(1, 1), 0}};
    struct pollfd fds[3] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}, {pi[1], POLLOUT, 0}};
    for (int open_fds = 2; open_fds && poll(fds, 3, 30000) > 0;) {
        if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(fds[2].fd, input, left);
            if (w > 0) {
                input += w;
                left -= (size_t)w;
            }
            if (w < 0 || !left) {
                close(fds[2].fd);
                fds[2].fd = -1;
            }
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
            if (!drain(fds[i].fd, &g[i])) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
            }
        }
    }
    if (fds[2].fd >= 0) close(fds[2].fd);
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0) close(fds[i].fd);
    int st, code = -1;
    if (waitpid(pid, &st, 0) == pid && WIFEXITED(st)) code = WEXITSTATUS(st);
    if (out)
        *out = g[0].buf;
    else
        free(g[0].buf);
    if (err)
        *err = g[1].buf;
    else
        free(g[1].buf);
    return code;
}

int rd_test_run(char *const argv[], char **out) {
    return rd_test_run_io((const char *const *)argv, NULL, out, NULL);
}

/* ---- waiting for a child ----------------------------------------------------- */

int rd_test_wait_healthy(pid_t pid, const char *url, int timeout_ms, int interval_ms) {
    for (int waited = 0; waited < timeout_ms; waited += interval_ms) {
        if (waitpid(pid, NULL, WNOHANG) == pid) return -1;
        if (rd_test_http("GET", url, NULL, NULL, NULL, NULL) == 200) return 0;
        rd_test_sleep_ms(interval_ms);
    }
    return -2;
}

int rd_test_stop_pid(pid_t pid, int sig, int timeout_ms) {
    kill(pid, sig);
    int st = 0;
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) break;
        if (r < 0) return -1;
        if (waited >= timeout_ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            break;
        }
        rd_test_sleep_ms(10);
    }
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

void rd_test_fds_exhaust(rd_test_fds_t *h) {
    int base = open("/dev/null", O_RDONLY);
    h->n = 0;
    h->fd = NULL;
    if (base < 0) return;
    int cap = 0;
    for (;;) {
        int fd = dup(base);
        if (fd < 0) break;
        if (h->n == cap) {
            cap = cap ? cap * 2 : 256;
            h->fd = realloc(h->fd, (size_t)cap * sizeof *h->fd);
        }
        h->fd[h->n++] = fd;
    }
    /* The last slot too: base stays open until release. */
    if (h->n == cap) h->fd = realloc(h->fd, (size_t)(cap + 1) * sizeof *h->fd);
    h->fd[h->n++] = base;
}

void rd_test_fds_release(rd_test_fds_t *h) {
    for (int i = 0; i < h->n; i++) close(h->fd[i]);
    free(h->fd);
    h->fd = NULL;
    h->n = 0;
}
