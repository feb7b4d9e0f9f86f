/*
 * redial-server as an operator meets it: --help documents every flag with its
 * environment twin, bad configuration is refused with a message naming the
 * option and exit code 1 or 2, secrets are refused as flags, and a clean
 * SIGTERM on an idle engine exits 0 with a server.stopped log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/lib/redis_harness.h"
#include "tests/lib/server_harness.h"

/* Runs redial-server with args and an environment, capturing stderr+stdout. */
static int run_server(const char *env, const char *args, char **out) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s timeout 20 '%s/redial-server' %s 2>&1", env ? env : "",
             getenv("REDIAL_BIN_DIR") ? getenv("REDIAL_BIN_DIR") : RD_BINARY_DIR, args);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 65536, len = 0, n;
    char *buf = malloc(cap);
    while ((n = fread(buf + len, 1, cap - len - 1, p)) > 0) len += n;
    buf[len] = '\0';
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void t_help(void **state) {
    (void)state;
    char *out;
    assert_int_equal(run_server(NULL, "--help", &out), 0);
    static const char *const want[] = {
        "--redis",
        "REDIAL_REDIS_URL",
        "--prefix",
        "REDIAL_PREFIX",
        "--listen",
        "REDIAL_LISTEN",
        "--public-url",
        "--workers",
        "--provider",
        "--provider-url",
        "REDIAL_PROVIDER_SID",
        "REDIAL_PROVIDER_KEY",
        "REDIAL_PROVIDER_TOKEN",
        "REDIAL_API_KEY",
        "REDIAL_API_TOKEN",
        "REDIAL_CALLBACK_SECRET",
        "--time-scale",
        "--time-origin",
        "--time-epoch",
        "REDIAL_REDIS_PASSWORD",
        "default redis://127.0.0.1:6379/0",
        "default 127.0.0.1:8080",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        if (!strstr(out, want[i])) fprintf(stderr, "--help lacks %s\n", want[i]);
        assert_non_null(strstr(out, want[i]));
    }
    free(out);
}

static void t_bad_config(void **state) {
    (void)state;
    char *out;
    assert_int_equal(run_server(NULL, "--workers many", &out), 2);
    assert_non_null(strstr(out, "--workers"));
    free(out);
    assert_int_equal(run_server(NULL, "--provider-token hunter2", &out), 2);
    assert_non_null(strstr(out, "secrets come from the environment"));
    assert_null(strstr(out, "hunter2"));
    free(out);
    assert_int_equal(run_server("REDIAL_CALLBACK_SECRET= ", "--listen 127.0.0.1:0", &out), 1);
    assert_non_null(strstr(out, "REDIAL_CALLBACK_SECRET"));
    free(out);
    assert_int_equal(
        run_server("REDIAL_CALLBACK_SECRET=x", "--provider nokia --listen 127.0.0.1:0", &out), 1);
    assert_non_null(strstr(out, "--provider"));
    free(out);
    assert_int_equal(run_server("REDIAL_CALLBACK_SECRET=x", "--listen nowhere", &out), 1);
    assert_non_null(strstr(out, "--listen"));
    free(out);
    assert_int_equal(
        run_server("REDIAL_CALLBACK_SECRET=x", "--time-scale -3 --listen 127.0.0.1:0", &out), 1);
    assert_non_null(strstr(out, "time scale"));
    free(out);
}

static void t_sigterm_idle(void **state) {
    (void)state;
    rd_test_redis_t r;
    assert_int_equal(rd_test_redis_start(&r), 0);
    rd_test_server_opts_t o = {
        .redis_url = r.url,
        .prefix = r.prefix,
        .provider_url = "http://127.0.0.1:9",
    };
    rd_test_server_t s;
    assert_int_equal(rd_test_server_start(&s, &o), 0);
    char url[128], *body = NULL;
    snprintf(url, sizeof url, "%s/metrics", s.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, &body), 200);
    assert_non_null(strstr(body, "# TYPE redial_claims_total counter"));
    assert_non_null(strstr(body, "redial_redis_up 1"));
    free(body);
    snprintf(url, sizeof url, "%s/nowhere", s.base);
    assert_int_equal(rd_test_http("GET", url, NULL, NULL, NULL, NULL), 404);
    char log[256];
    snprintf(log, sizeof log, "%s", s.log_path);
    kill(s.pid, SIGTERM);
    int st;
    assert_int_equal(waitpid(s.pid, &st, 0), s.pid);
    s.pid = 0;
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    FILE *f = fopen(log, "r");
    assert_non_null(f);
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "event=server.stopped"));
    assert_null(strstr(buf, RD_TEST_PROVIDER_TOKEN));
    assert_null(strstr(buf, RD_TEST_CALLBACK_SECRET));
    unlink(log);
    rd_test_redis_stop(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_help),
        cmocka_unit_test(t_bad_config),
        cmocka_unit_test(t_sigterm_idle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
