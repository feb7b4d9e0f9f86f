/*
 * The public edge of redial-server under attack, end to end (issue 10):
 *
 *   - a pipelined flood that never reads its replies: the server stops
 *     reading that connection, stays under 64 MB RSS, and a fresh client's
 *     /healthz is answered within a second;
 *   - 1,100 idle connections under a 1024-descriptor limit, from several
 *     127.0.0.x source addresses (several clients): the connection cap keeps
 *     descriptors for Redis and zone files, so a valid inbox job is stored,
 *     not dead-lettered.
 *
 * Bounded to seconds, on loopback, with a real redis-server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "proto/callback.h"
#include "proto/cbauth.h"
#include "proto/rd.h"
#include "tests/lib/fixtures.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"
#include "tests/lib/sim_harness.h"

typedef struct {
    rd_test_redis_t redis;
    rd_test_server_t srv;
    rd_test_sim_t sim;
    bool sim_started;
} env_t;

static int setup(void **state) {
    env_t *e = calloc(1, sizeof *e);
    if (rd_test_redis_start(&e->redis) != 0) return -1;
    *state = e;
    return 0;
}

static int teardown(void **state) {
    env_t *e = *state;
    rd_test_server_kill(&e->srv);
    if (e->sim_started) rd_test_sim_stop(&e->sim, NULL);
    rd_test_redis_stop(&e->redis);
    free(e);
    return 0;
}

static void start(env_t *e, unsigned nofile) {
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = "http://127.0.0.1:9", /* nothing is dialled here */
        .nofile = nofile,
    };
    assert_int_equal(rd_test_server_start(&e->srv, &o), 0);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to port from source address `from` (NULL = any); -1 when refused. */
static int tcp_from(int port, const char *from) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    if (from) {
        struct sockaddr_in f = {.sin_family = AF_INET};
        inet_pton(AF_INET, from, &f.sin_addr);
        if (bind(fd, (struct sockaddr *)&f, sizeof f) != 0) goto fail;
    }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) goto fail;
    return fd;
fail:
    close(fd);
    return -1;
}

/* Resident set of a process, in KiB (-1 when unreadable). */
static long rss_kib(pid_t pid) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
    fclose(f);
    return kib;
}

/* /healthz answered 200, and how long it took (seconds). */
static double healthz_s(const env_t *e) {
    char url[128];
    snprintf(url, sizeof url, "%s/healthz", e->srv.base);
    double t0 = now_s();
    rd_test_http_req_t rq = {.method = "GET", .url = url, .timeout_ms = 3000};
    rd_test_http_resp_t rs;
    long st = rd_test_http_do(&rq, &rs);
    rd_test_http_resp_free(&rs);
    assert_int_equal(st, 200);
    return now_s() - t0;
}

/* Creates campaign `name` (the seed's body under another name). */
static void create_campaign(const env_t *e, const char *name) {
    char body[2048];
    const char *seed = RD_TEST_SEED_BODY;
    const char *at = strstr(seed, "Payment_Reminders");
    snprintf(body, sizeof body, "%.*s%s%s", (int)(at - seed), seed, name,
             at + strlen("Payment_Reminders"));
    assert_int_equal(rd_test_create_campaign(&e->srv, body), 201);
}

static void t_unread_flood(void **state) {
    env_t *e = *state;
    start(e, 0);
    /* Replies of a useful size: the list of 20 campaigns. */
    for (int i = 0; i < 20; i++) {
        char name[64];
        snprintf(name, sizeof name, "Flood_Campaign_Number_%02d", i);
        create_campaign(e, name);
    }
    int fd = tcp_from(e->srv.port, NULL);
    assert_true(fd >= 0);
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct timeval tv = {.tv_usec = 100000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    /* "test-key:test-token" */
    static const char one[] = "GET /v1/campaigns HTTP/1.1\r\nHost: x\r\n"
                              "Authorization: Basic dGVzdC1rZXk6dGVzdC10b2tlbg==\r\n\r\n";
    enum { PER = 512 };
    char *chunk = malloc(PER * (sizeof one - 1));
    for (size_t i = 0; i < PER; i++) memcpy(chunk + i * (sizeof one - 1), one, sizeof one - 1);
    long base = rss_kib(e->srv.pid);
    size_t sent = 0;
    int stalls = 0; /* sends that timed out: the server stopped reading */
    double t0 = now_s();
    long peak = base;
    /* Up to 60 MB or 6 s: a server that keeps reading keeps queueing replies. */
    while (sent < (60u << 20) && now_s() - t0 < 6) {
        ssize_t w = send(fd, chunk, PER * (sizeof one - 1), MSG_NOSIGNAL);
        long r = rss_kib(e->srv.pid);
        if (r > peak) peak = r;
        if (w <= 0) {
            stalls++;
            continue;
        }
        sent += (size_t)w;
    }
    free(chunk);
    double h = healthz_s(e);
    long after = rss_kib(e->srv.pid);
    if (after > peak) peak = after;
    fprintf(stderr,
            "flood: %zu bytes accepted by the socket (%d stalls), RSS %ld -> %ld KiB (peak), "
            "healthz %.3f s\n",
            sent, stalls, base, peak, h);
    assert_true(h < 1.0);
#ifndef RD_SANITIZED
    /* Sanitizer runtimes keep freed memory in quarantine: the bound is for real builds. */
    assert_true(peak < 64 * 1024);
#endif
    close(fd);
    assert_int_equal(rd_test_server_stop(&e->srv, SIGTERM, 10000), 0);
}

static void t_descriptors(void **state) {
    env_t *e = *state;
    /* This process needs more than 1,100 descriptors itself. */
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max < 1400) skip();
    if (rl.rlim_cur < 1400) {
        rl.rlim_cur = 1400;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    start(e, 1024);
    create_campaign(e, "Payment_Reminders");
    /* 1,100 idle connections from eleven "clients". */
    enum { N = 1100 };
    int *fds = malloc(N * sizeof *fds);
    for (int i = 0; i < N; i++) {
        char from[32];
        snprintf(from, sizeof from, "127.0.0.%d", 2 + i / 100);
        fds[i] = tcp_from(e->srv.cb_port, from);
    }
    rd_test_sleep_ms(300); /* the server accepts (or refuses) them all */
    /* A valid job whose zone file the engine has not opened yet. */
    redisContext *rc = rd_test_redis_sync(&e->redis);
    assert_non_null(rc);
    const char *job = "{\"v\":1,\"campaign\":\"Payment_Reminders\",\"to\":\"+919876500123\","
                      "\"id\":\"edge-1\",\"tz\":\"Europe/Paris\"}";
    redisReply *r = redisCommand(rc, "XADD %s:inbox * j %s", e->redis.prefix, job);
    assert_non_null(r);
    freeReplyObject(r);
    long long inbox = -1, dead = -1;
    for (int i = 0; i < 100; i++) {
        inbox = rd_test_redis_int(rc, e->redis.prefix, "XLEN %s", "inbox", NULL);
        dead = rd_test_redis_int(rc, e->redis.prefix, "XLEN %s", "deadletter", NULL);
        if (inbox == 0 || dead > 0) break;
        rd_test_sleep_ms(100);
    }
    if (dead > 0) {
        r = redisCommand(rc, "XRANGE %s:deadletter - +", e->redis.prefix);
        for (size_t i = 0; r && i < r->elements; i++) {
            redisReply *fv = r->element[i]->element[1];
            for (size_t k = 0; k + 1 < fv->elements; k += 2)
                fprintf(stderr, "dead letter %s=%s\n", fv->element[k]->str,
                        fv->element[k + 1]->str);
        }
        freeReplyObject(r);
    }
    assert_int_equal(dead, 0);
    assert_int_equal(inbox, 0);
    /* Processed (deleted from the inbox), not dead-lettered, nothing left pending: stored. */
    r = redisCommand(rc, "XPENDING %s:inbox redial", e->redis.prefix);
    assert_true(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->integer == 0);
    freeReplyObject(r);
    redisFree(rc);
    int open_ = 0;
    for (int i = 0; i < N; i++)
        if (fds[i] >= 0) {
            open_++;
            close(fds[i]);
        }
    free(fds);
    fprintf(stderr, "descriptors: %d of %d connected; the job was stored\n", open_, N);
    assert_int_equal(rd_test_server_stop(&e->srv, SIGTERM, 10000), 0);
}

/* ---- per-attempt callback authentication ------------------------------------------ */

/* An engine of `provider` and a sim that never sends callbacks: calls stay live. */
static void start_live(env_t *e, const char *provider) {
    static const char *const sim_args[] = {"--cb-loss", "1", NULL};
    rd_test_sim_opts_t so = {.model = "uniform:completed=1", .extra_args = sim_args};
    assert_int_equal(rd_test_sim_start(&e->sim, &so), 0);
    e->sim_started = true;
    static const char *const args[] = {"--provider-rate", "1000/1", NULL};
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider = provider,
        .provider_url = e->sim.base,
        .extra_args = args,
        .no_provider_key = strcmp(provider, "twilio") == 0,
    };
    assert_int_equal(rd_test_server_start(&e->srv, &o), 0);
    create_campaign(e, "Auth");
    assert_int_equal(rd_test_api(&e->srv, "POST", "/v1/calls",
                                 "{\"campaign\":\"Auth\",\"to\":\"+919876500200\"}", NULL),
                     201);
}

/* The live call's sid and the StatusCallback URL the engine gave the provider. */
static void live_call(env_t *e, char *sid, size_t sidlen, char *cb, size_t cblen) {
    char url[200], *resp = NULL;
    snprintf(url, sizeof url, "%s/sim/numbers/%%2B919876500200", e->sim.base);
    json_t *j = NULL;
    for (int i = 0; i < 100; i++) {
        free(resp);
        resp = NULL;
        if (rd_test_http("GET", url, NULL, NULL, NULL, &resp) == 200 &&
            (j = json_loads(resp, 0, NULL)) && json_array_size(json_object_get(j, "calls")) > 0)
            break;
        json_decref(j);
        j = NULL;
        rd_test_sleep_ms(100);
    }
    free(resp);
    assert_non_null(j);
    json_t *c = json_array_get(json_object_get(j, "calls"), 0);
    snprintf(sid, sidlen, "%s", json_string_value(json_object_get(c, "sid")));
    json_decref(j);
    snprintf(url, sizeof url, "%s/sim/calls/%s", e->sim.base, sid);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &resp), 200);
    j = json_loads(resp, 0, NULL);
    free(resp);
    snprintf(cb, cblen, "%s", json_string_value(json_object_get(j, "status_callback")));
    json_decref(j);
    assert_non_null(strstr(cb, "&h="));
}

/* POSTs a form body to url with optional extra header lines: the status. */
static long post_form(const char *url, const char *body, const char *header) {
    const char *hs[2] = {header, NULL};
    rd_test_http_req_t rq = {.method = "POST",
                             .url = url,
                             .content_type = "application/x-www-form-urlencoded",
                             .body = body,
                             .headers = header ? hs : NULL};
    rd_test_http_resp_t rs;
    long st = rd_test_http_do(&rq, &rs);
    rd_test_http_resp_free(&rs);
    return st;
}

/* Replaces the first `from` in s by `to` (into out). */
static void swap_str(char *out, size_t cap, const char *s, const char *from, const char *to) {
    const char *at = strstr(s, from);
    assert_non_null(at);
    snprintf(out, cap, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
}

/* Issue 10, finding 3: a Twilio call reported on the exotel route, without a signature. */
static void t_twilio_signature_bypass(void **state) {
    env_t *e = *state;
    start_live(e, "twilio");
    char sid[64], cb[512], url[600], body[256];
    live_call(e, sid, sizeof sid, cb, sizeof cb);
    /* The twilio URL (from the provider's logs) replayed on the exotel route. */
    swap_str(url, sizeof url, cb, "/callbacks/twilio/", "/callbacks/exotel/");
    snprintf(body, sizeof body, "CallSid=%s&Status=busy", sid);
    assert_int_equal(post_form(url, body, NULL), 403);
    /* Even with an exotel MAC for the attempt (which needs the secret): not its provider. */
    const char *a = strstr(cb, "?a=") + 3;
    const char *h = strstr(cb, "&h=");
    char key[128], mac[RD_CBAUTH_LEN + 1];
    snprintf(key, sizeof key, "%.*s", (int)(h - a), a);
    for (char *p = strstr(key, "%3A"); p; p = strstr(key, "%3A")) {
        *p = ':';
        memmove(p + 1, p + 3, strlen(p + 3) + 1);
    }
    assert_int_equal(rd_cbauth_sign(RD_TEST_CALLBACK_SECRET, strlen(RD_TEST_CALLBACK_SECRET),
                                    RD_PROV_EXOTEL, key, strlen(key), mac),
                     0);
    char forged[600];
    snprintf(forged, sizeof forged, "%.*s&h=%s", (int)(strstr(url, "&h=") - url), url, mac);
    assert_int_equal(post_form(forged, body, NULL), 403);
    /* The twilio route without a signature. */
    snprintf(body, sizeof body, "CallSid=%s&CallStatus=busy", sid);
    assert_int_equal(post_form(cb, body, NULL), 403);
    assert_int_equal(rd_test_campaign_finished(&e->srv, "Auth"), 0);
    /* The genuine callback (signed as Twilio signs it) settles. */
    char sig[RD_TWILIO_SIG_LEN + 1], hdr[80];
    snprintf(body, sizeof body, "CallSid=%s&CallStatus=completed&CallDuration=5", sid);
    assert_int_equal(
        rd_twilio_signature(RD_TEST_PROVIDER_TOKEN, cb, strlen(cb), body, strlen(body), sig), 0);
    snprintf(hdr, sizeof hdr, "X-Twilio-Signature: %s", sig);
    assert_int_equal(post_form(cb, body, hdr), 200);
    assert_int_equal(rd_test_wait_finished(&e->srv, "Auth", 1, 10), 0);
}

/* Issue 10, finding 4: the path secret and a guessable attempt key do not settle a call. */
static void t_forged_attempt(void **state) {
    env_t *e = *state;
    start_live(e, "exotel");
    char sid[64], cb[512], url[600], body[256];
    live_call(e, sid, sizeof sid, cb, sizeof cb);
    snprintf(body, sizeof body, "CallSid=%s&Status=completed", sid);
    /* Only the path secret and the key (the URL without h=). */
    snprintf(url, sizeof url, "%.*s", (int)(strstr(cb, "&h=") - cb), cb);
    assert_int_equal(post_form(url, body, NULL), 403);
    /* A wrong MAC. */
    snprintf(url + strlen(url), sizeof url - strlen(url), "&h=%032d", 0);
    assert_int_equal(post_form(url, body, NULL), 403);
    assert_int_equal(rd_test_campaign_finished(&e->srv, "Auth"), 0);
    /* The URL as given to the provider settles. */
    assert_int_equal(post_form(cb, body, NULL), 200);
    assert_int_equal(rd_test_wait_finished(&e->srv, "Auth", 1, 10), 0);
}

/* The admin listener serves /metrics only with the bearer token; the public one no API. */
static void t_listeners(void **state) {
    env_t *e = *state;
    rd_test_server_opts_t o = {
        .redis_url = e->redis.url,
        .prefix = e->redis.prefix,
        .provider_url = "http://127.0.0.1:9",
        .metrics_token = "m3trics-token",
    };
    assert_int_equal(rd_test_server_start(&e->srv, &o), 0);
    char url[160];
    snprintf(url, sizeof url, "%s/metrics", e->srv.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, NULL), 401);
    const char *bad[] = {"Authorization: Bearer m3trics-tokeN", NULL};
    const char *good[] = {"Authorization: Bearer m3trics-token", NULL};
    rd_test_http_req_t rq = {.method = "GET", .url = url, .headers = bad};
    rd_test_http_resp_t rs;
    assert_int_equal(rd_test_http_do(&rq, &rs), 401);
    rd_test_http_resp_free(&rs);
    rq.headers = good;
    assert_int_equal(rd_test_http_do(&rq, &rs), 200);
    assert_non_null(strstr(rs.body, "redial_redis_up 1"));
    rd_test_http_resp_free(&rs);
    /* The public listener: callbacks only. */
    const char *paths[] = {"/healthz", "/metrics", "/v1/campaigns"};
    for (size_t i = 0; i < RD_ARRAY_LEN(paths); i++) {
        snprintf(url, sizeof url, "%s%s", e->srv.cb_base, paths[i]);
        assert_int_equal(
            rd_test_http("GET", url, NULL, NULL, RD_TEST_API_KEY ":" RD_TEST_API_TOKEN, NULL), 404);
    }
    assert_int_equal(rd_test_server_stop(&e->srv, SIGTERM, 10000), 0);
}

/* A negative --max-body would disable the limit: refused at start. */
static void t_max_body_refused(void **state) {
    (void)state;
    setenv("REDIAL_CALLBACK_SECRET", "s", 1);
    char *out = NULL, *err = NULL;
    int rc = rd_test_run_io((const char *const[]){"redial-server", "--max-body", "-1", "--listen",
                                                  "127.0.0.1:0", "--admin-listen", "127.0.0.1:0",
                                                  "--redis", "redis://127.0.0.1:1/0", NULL},
                            NULL, &out, &err);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(err, "--max-body"));
    free(out);
    free(err);
    unsetenv("REDIAL_CALLBACK_SECRET");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_unread_flood, setup, teardown),
        cmocka_unit_test_setup_teardown(t_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(t_twilio_signature_bypass, setup, teardown),
        cmocka_unit_test_setup_teardown(t_forged_attempt, setup, teardown),
        cmocka_unit_test_setup_teardown(t_listeners, setup, teardown),
        cmocka_unit_test(t_max_body_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
