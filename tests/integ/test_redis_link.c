/*
 * The Redis link (common/redis.h) against a real redis-server with a
 * password: AUTH and SELECT replies are checked (a missing or wrong password
 * or a bad database is a link error with Redis's own words, the link is not
 * "connected", and nothing is reported as a timeout); a refused connection
 * is reported at once; drops and reconnects are logged; unix:// sockets;
 * redial-cli exits 3 with the Redis error text and never prints the
 * password (one redaction, the parser's last '@').
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/redis.h"
#include "proto/rd.h"
#include "tests/lib/proc.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"

#define PASSWORD "p@ss@w0rd-Zq9"

typedef struct {
    rd_test_redis_t redis;
    uv_loop_t loop;
    char log[300];
    rd_test_server_t srv; /* t_engine_health's engine (killed by teardown) */
} fx_t;

static int setup(void **state) {
    fx_t *f = calloc(1, sizeof *f);
    if (rd_test_redis_start_own(&f->redis) != 0) return -1;
    redisContext *c = rd_test_redis_sync(&f->redis);
    if (!c) return -1;
    redisReply *r = redisCommand(c, "CONFIG SET requirepass %s", PASSWORD);
    freeReplyObject(r);
    redisFree(c);
    uv_loop_init(&f->loop);
    snprintf(f->log, sizeof f->log, "%s/test.log", f->redis.dir);
    rd_log_setup(f->log, RD_LOG_DEBUG);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    rd_test_server_kill(&f->srv);
    rd_log_setup("-", RD_LOG_INFO);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    unlink(f->log);
    rd_test_redis_stop(&f->redis);
    free(f);
    return 0;
}

typedef struct {
    bool done;
    int status;
    char str[128];
} res_t;

static void on_reply(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    res_t *res = arg;
    res->done = true;
    res->status = rd_redis_reply_status(status, reply);
    if (reply && reply->str) snprintf(res->str, sizeof res->str, "%s", reply->str);
}

static void on_closed(void *arg) { *(bool *)arg = true; }

/* Connects with `url`, sends PING, runs until its answer (or 3 s): the result. */
static res_t ping(fx_t *f, const char *url, bool fail_fast, char *why, size_t whylen,
                  double *took_ms) {
    rd_redis_opts_t o;
    rd_redis_opts_init(&o);
    assert_int_equal(rd_redis_parse_url(url, &o.addr), 0);
    o.cmd_timeout_ms = 3000;
    o.fail_fast = fail_fast;
    rd_redis_t *r;
    assert_int_equal(rd_redis_create(&f->loop, &o, &r), 0);
    res_t res = {0};
    uint64_t t0 = uv_hrtime();
    assert_int_equal(rd_redis_command(r, 1, (const char *const[]){"PING"}, (const size_t[]){4}, 0,
                                      on_reply, &res),
                     0);
    while (!res.done) uv_run(&f->loop, UV_RUN_ONCE);
    *took_ms = (double)(uv_hrtime() - t0) / 1e6;
    const char *e = rd_redis_link_error(r, NULL);
    snprintf(why, whylen, "%s", e ? e : "");
    if (res.status == 0) assert_true(rd_redis_connected(r));
    bool closed = false;
    rd_redis_close(r, on_closed, &closed);
    while (!closed) uv_run(&f->loop, UV_RUN_ONCE);
    return res;
}

static void t_auth_select_checked(void **state) {
    fx_t *f = *state;
    char url[300], why[256];
    double ms;
    /* No password: PING refused with NOAUTH, at once, and said so. */
    snprintf(url, sizeof url, "redis://127.0.0.1:%d/0", f->redis.port);
    res_t r = ping(f, url, false, why, sizeof why, &ms);
    assert_int_equal(r.status, RD_EAUTH);
    assert_non_null(strstr(why, "NOAUTH"));
    assert_true(ms < 1000);
    /* Wrong password. */
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", f->redis.port);
    r = ping(f, url, false, why, sizeof why, &ms);
    assert_int_equal(r.status, RD_EAUTH);
    assert_non_null(strstr(why, "AUTH refused"));
    assert_null(strstr(why, "wrong"));
    /* Right password, a database that does not exist. */
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/99999", f->redis.port);
    r = ping(f, url, false, why, sizeof why, &ms);
    assert_int_equal(r.status, RD_EAUTH);
    assert_non_null(strstr(why, "SELECT refused"));
    /* Right password and database: PONG (the password holds '@': the last one ends it). */
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/1", f->redis.port);
    r = ping(f, url, false, why, sizeof why, &ms);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.str, "PONG");
    /* The unix socket. */
    snprintf(url, sizeof url, "unix://:" PASSWORD "@%s/redis.sock?db=2", f->redis.dir);
    r = ping(f, url, false, why, sizeof why, &ms);
    assert_int_equal(r.status, 0);
    /* A port nobody listens on, fail-fast: "connection refused" now, not a timeout. */
    r = ping(f, "redis://127.0.0.1:1/0", true, why, sizeof why, &ms);
    assert_int_equal(r.status, RD_EIO);
    if (!strstr(why, "refused")) fail_msg("why: '%s'", why);
    assert_true(ms < 1000);
    /* The blocking probe used at start-up says the same. */
    rd_redis_addr_t a;
    char err[300];
    snprintf(url, sizeof url, "redis://:wrong@127.0.0.1:%d/0", f->redis.port);
    rd_redis_parse_url(url, &a);
    assert_int_equal(rd_redis_probe(&a, 1000, err, sizeof err), RD_EAUTH);
    assert_non_null(strstr(err, "refused AUTH"));
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/99999", f->redis.port);
    rd_redis_parse_url(url, &a);
    assert_int_equal(rd_redis_probe(&a, 1000, err, sizeof err), RD_EAUTH);
    assert_non_null(strstr(err, "SELECT"));
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/3", f->redis.port);
    rd_redis_parse_url(url, &a);
    assert_int_equal(rd_redis_probe(&a, 1000, err, sizeof err), 0);
    rd_redis_parse_url("redis://127.0.0.1:1/0", &a);
    assert_int_equal(rd_redis_probe(&a, 1000, err, sizeof err), RD_EIO);
    /* Nothing logged holds the password. */
    char *log = rd_test_slurp(f->log);
    assert_non_null(log);
    assert_null(strstr(log, "w0rd"));
    assert_non_null(strstr(log, "redis.unavailable"));
    free(log);
}

static void t_drop_logged(void **state) {
    fx_t *f = *state;
    char url[300];
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/0", f->redis.port);
    rd_redis_opts_t o;
    rd_redis_opts_init(&o);
    assert_int_equal(rd_redis_parse_url(url, &o.addr), 0);
    rd_redis_t *r;
    assert_int_equal(rd_redis_create(&f->loop, &o, &r), 0);
    res_t res = {0};
    rd_redis_command(r, 1, (const char *const[]){"PING"}, (const size_t[]){4}, 0, on_reply, &res);
    while (!res.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(res.status, 0);
    /* Redis drops every client: logged, then the reconnect is logged. */
    redisContext *c = rd_test_redis_sync(&f->redis);
    redisReply *x = redisCommand(c, "AUTH %s", PASSWORD);
    freeReplyObject(x);
    x = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");
    freeReplyObject(x);
    redisFree(c);
    uint64_t end = uv_now(&f->loop) + 3000;
    uint64_t connects = rd_redis_connects(r);
    while (rd_redis_connects(r) == connects && uv_now(&f->loop) < end) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        rd_test_sleep_ms(5);
    }
    res = (res_t){0};
    rd_redis_command(r, 1, (const char *const[]){"PING"}, (const size_t[]){4}, 0, on_reply, &res);
    while (!res.done) uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(res.status, 0);
    bool closed = false;
    rd_redis_close(r, on_closed, &closed);
    while (!closed) uv_run(&f->loop, UV_RUN_ONCE);
    char *log = rd_test_slurp(f->log);
    assert_non_null(strstr(log, "redis.dropped"));
    assert_non_null(strstr(log, "redis.reconnected"));
    free(log);
}

static void t_cli_auth(void **state) {
    fx_t *f = *state;
    char url[300];
    /* Wrong password: exit 3 with Redis's words; the password itself never printed. */
    snprintf(url, sizeof url, "redis://:hunter@2secret@127.0.0.1:%d/0", f->redis.port);
    char *out = NULL, *err = NULL;
    int rc = rd_test_run_io((const char *const[]){"redial-cli", "campaign", "list", "--redis", url,
                                                  "--timeout", "2000", NULL},
                            NULL, &out, &err);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "AUTH refused"));
    assert_null(strstr(err, "hunter"));
    assert_null(strstr(err, "2secret"));
    free(out);
    free(err);
    /* Refused at once, with the reason. */
    rc = rd_test_run_io((const char *const[]){"redial-cli", "campaign", "list", "--redis",
                                              "redis://:x@y@127.0.0.1:1/0", "--timeout", "5000",
                                              NULL},
                        NULL, &out, &err);
    assert_int_equal(rc, 3);
    assert_non_null(strstr(err, "refused"));
    assert_null(strstr(err, "x@y"));
    free(out);
    free(err);
}

/* redial-server refuses to start when Redis refuses it, in Redis's words, no secret shown. */
static void t_engine_refused(void **state) {
    fx_t *f = *state;
    setenv("REDIAL_CALLBACK_SECRET", "s", 1);
    const char *creds[2][2] = {{"", "NOAUTH"}, {":hunter@2secret@", "refused AUTH: WRONGPASS"}};
    for (int i = 0; i < 2; i++) {
        char url[200];
        snprintf(url, sizeof url, "redis://%s127.0.0.1:%d/0", creds[i][0], f->redis.port);
        char *out = NULL, *err = NULL;
        int rc = rd_test_run_io((const char *const[]){"redial-server", "--redis", url, "--listen",
                                                      "127.0.0.1:0", "--admin-listen",
                                                      "127.0.0.1:0", NULL},
                                NULL, &out, &err);
        assert_int_equal(rc, 1);
        /* The start-up error itself (not only a log line) says why. */
        const char *line = strstr(err, "redial-server: --redis redis://");
        if (!line || !strstr(line, creds[i][1])) fail_msg("stderr: %s", err);
        assert_null(strstr(err, "hunter"));
        assert_null(strstr(err, "2secret"));
        free(out);
        free(err);
    }
    /* A URL that does not parse: the message shows it redacted (issue 10, finding 5). */
    char *out = NULL, *err = NULL;
    int rc = rd_test_run_io((const char *const[]){"redial-server", "--redis",
                                                  "redis://:hunter@2secret@127.0.0.1:99999/0",
                                                  "--listen", "127.0.0.1:0", "--admin-listen",
                                                  "127.0.0.1:0", NULL},
                            NULL, &out, &err);
    assert_int_equal(rc, 1);
    if (!strstr(err, "--redis: cannot use 'redis://***@127.0.0.1:99999/0'"))
        fail_msg("stderr: %s", err);
    assert_null(strstr(err, "hunter"));
    assert_null(strstr(err, "2secret"));
    free(out);
    free(err);
    unsetenv("REDIAL_CALLBACK_SECRET");
}

/* At run time a refused AUTH turns /healthz 503 with the reason and redial_redis_up 0. */
static void t_engine_health(void **state) {
    fx_t *f = *state;
    char url[200];
    snprintf(url, sizeof url, "redis://:" PASSWORD "@127.0.0.1:%d/0", f->redis.port);
    rd_test_server_t *sp = &f->srv, s;
    rd_test_server_opts_t o = {
        .redis_url = url, .prefix = f->redis.prefix, .provider_url = "http://127.0.0.1:9"};
    assert_int_equal(rd_test_server_start(sp, &o), 0);
    s = *sp;
    /* The password changes under the engine, and its connections are dropped. */
    redisContext *c = rd_test_redis_sync(&f->redis);
    redisReply *x = redisCommand(c, "AUTH %s", PASSWORD);
    freeReplyObject(x);
    x = redisCommand(c, "CONFIG SET requirepass other-password");
    freeReplyObject(x);
    x = redisCommand(c, "CLIENT KILL TYPE normal SKIPME yes");
    freeReplyObject(x);
    redisFree(c);
    char hz[160], *resp = NULL;
    snprintf(hz, sizeof hz, "%s/healthz", s.base);
    long st = 0;
    for (int i = 0; i < 100; i++) {
        free(resp);
        resp = NULL;
        st = rd_test_http("GET", hz, NULL, NULL, NULL, &resp);
        if (st == 503 && resp && strstr(resp, "AUTH refused")) break;
        rd_test_sleep_ms(50);
    }
    if (st != 503 || !strstr(resp, "AUTH refused")) fail_msg("healthz %ld %s", st, resp);
    assert_null(strstr(resp, "w0rd"));
    free(resp);
    resp = NULL;
    snprintf(hz, sizeof hz, "%s/metrics", s.base);
    rd_test_http("GET", hz, NULL, NULL, NULL, &resp);
    assert_non_null(resp);
    assert_non_null(strstr(resp, "redial_redis_up 0"));
    free(resp);
    rd_test_server_kill(sp);
    /* Let teardown stop Redis: restore the password it knows. */
    c = rd_test_redis_sync(&f->redis);
    x = redisCommand(c, "AUTH other-password");
    freeReplyObject(x);
    x = redisCommand(c, "CONFIG SET requirepass %s", PASSWORD);
    freeReplyObject(x);
    redisFree(c);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_auth_select_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(t_drop_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(t_cli_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(t_engine_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(t_engine_health, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
