/* Unit tests: common/opts.c (flags + env twins + secrets) and common/log.c (logfmt). */
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
#include "common/opts.h"

typedef struct {
    char *redis;
    int workers;
    double scale;
    int verbose;
    char *token;
} cfg_t;

static const rd_opt_t OPTS[] = {
    {"redis", "T_REDIS", "redis://127.0.0.1:6379/0", RD_OPT_STR, offsetof(cfg_t, redis), "url"},
    {"workers", "T_WORKERS", "2", RD_OPT_INT, offsetof(cfg_t, workers), "threads"},
    {"time-scale", "T_SCALE", "1", RD_OPT_DOUBLE, offsetof(cfg_t, scale), "scale"},
    {"verbose", NULL, "false", RD_OPT_BOOL, offsetof(cfg_t, verbose), "chatty"},
    {NULL, "T_TOKEN", NULL, RD_OPT_SECRET, offsetof(cfg_t, token), "secret"},
};

static int parse(cfg_t *c, int argc, char **argv, char *err) {
    memset(c, 0, sizeof *c);
    return rd_opts_parse(OPTS, 5, c, argc, argv, NULL, "usage: t", err, 256);
}

static void t_precedence(void **state) {
    (void)state;
    char err[256];
    cfg_t c;
    unsetenv("T_WORKERS");
    char *a0[] = {"t"};
    assert_int_equal(parse(&c, 1, a0, err), 0);
    assert_string_equal(c.redis, "redis://127.0.0.1:6379/0");
    assert_int_equal(c.workers, 2);
    assert_null(c.token);
    rd_opts_free(OPTS, 5, &c);

    setenv("T_WORKERS", "4", 1);
    assert_int_equal(parse(&c, 1, a0, err), 0);
    assert_int_equal(c.workers, 4);
    rd_opts_free(OPTS, 5, &c);

    char *a1[] = {"t", "--workers", "8", "--time-scale=60", "--verbose"};
    assert_int_equal(parse(&c, 5, a1, err), 0);
    assert_int_equal(c.workers, 8);
    assert_true(c.scale == 60.0);
    assert_int_equal(c.verbose, 1);
    rd_opts_free(OPTS, 5, &c);
    unsetenv("T_WORKERS");
}

static void t_errors(void **state) {
    (void)state;
    char err[256];
    cfg_t c;
    char *a1[] = {"t", "--workers", "many"};
    assert_int_equal(parse(&c, 3, a1, err), RD_EINVAL);
    assert_non_null(strstr(err, "--workers"));
    rd_opts_free(OPTS, 5, &c);
    char *a2[] = {"t", "--nope"};
    assert_int_equal(parse(&c, 2, a2, err), RD_EINVAL);
    assert_non_null(strstr(err, "--nope: unknown option"));
    rd_opts_free(OPTS, 5, &c);
    char *a3[] = {"t", "--workers"};
    assert_int_equal(parse(&c, 2, a3, err), RD_EINVAL);
    assert_non_null(strstr(err, "needs a value"));
    rd_opts_free(OPTS, 5, &c);
    char *a4[] = {"t", "stray"};
    assert_int_equal(parse(&c, 2, a4, err), RD_EINVAL);
    rd_opts_free(OPTS, 5, &c);
}

static void t_secret_file(void **state) {
    (void)state;
    char path[] = "/tmp/rd_secret_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "s3cr3t\n", 7), 7);
    close(fd);
    setenv("T_TOKEN_FILE", path, 1);
    char err[256];
    cfg_t c;
    char *a0[] = {"t"};
    assert_int_equal(parse(&c, 1, a0, err), 0);
    assert_string_equal(c.token, "s3cr3t");
    rd_opts_free(OPTS, 5, &c);
    setenv("T_TOKEN", "fromenv", 1);
    assert_int_equal(parse(&c, 1, a0, err), 0);
    assert_string_equal(c.token, "fromenv");
    rd_opts_free(OPTS, 5, &c);
    unsetenv("T_TOKEN");
    unsetenv("T_TOKEN_FILE");
    unlink(path);
}

static void t_log_lines(void **state) {
    (void)state;
    char path[] = "/tmp/rd_log_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(rd_log_setup(path, RD_LOG_INFO), 0);
    rd_log(RD_LOG_DEBUG, "hidden", "k", "v", NULL);
    rd_log(RD_LOG_INFO, "dial.placed", "job", "J 1", "api_token", "hunter2", "sid", "abc", NULL);
    rd_logf(RD_LOG_WARN, "redis.down", "retry in %d ms", 250);
    /* Untrusted values cannot end the line, fake a field or send terminal escapes. */
    rd_log(RD_LOG_INFO, "callback.forged", "to", "+91\r\nlevel=error x=\"1\"\x1b[2J\tok", "id",
           "a\x7f", NULL);
    char buf[4096] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_true(n > 0);
    assert_null(strstr(buf, "hidden"));
    assert_null(strstr(buf, "hunter2"));
    assert_non_null(
        strstr(buf, "level=info event=dial.placed job=\"J 1\" api_token=[redacted] sid=abc\n"));
    assert_non_null(strstr(buf, "level=warn event=redis.down msg=\"retry in 250 ms\"\n"));
    assert_non_null(strstr(buf, "event=callback.forged "
                                "to=\"+91\\x0d\\nlevel=error x=\\\"1\\\"\\x1b[2J\\tok\" "
                                "id=\"a\\x7f\"\n"));
    assert_null(strstr(buf, "\nlevel=error"));
    assert_int_equal(rd_log_setup("-", RD_LOG_INFO), 0);
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_precedence),
        cmocka_unit_test(t_errors),
        cmocka_unit_test(t_secret_file),
        cmocka_unit_test(t_log_lines),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
