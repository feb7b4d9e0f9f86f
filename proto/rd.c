/*
 * rd.c — error table, allocator wrapper and assertion (see rd.h).
 */
#include "proto/rd.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const rd__err_msgs[] = {
#define RD__ERR_MSG(name, msg) msg,
    RD_ERR_MAP(RD__ERR_MSG)
#undef RD__ERR_MSG
};
static const char *const rd__err_names[] = {
#define RD__ERR_NAME(name, msg) "RD_E" #name,
    RD_ERR_MAP(RD__ERR_NAME)
#undef RD__ERR_NAME
};

const char *rd_strerror(int err) {
    if (err == 0) return "ok";
    int i = err - RD__ERR_FIRST - 1;
    if (i < 0 || i >= (int)RD_ARRAY_LEN(rd__err_msgs)) return "unknown error";
    return rd__err_msgs[i];
}

const char *rd_err_name(int err) {
    if (err == 0) return "RD_OK";
    int i = err - RD__ERR_FIRST - 1;
    if (i < 0 || i >= (int)RD_ARRAY_LEN(rd__err_names)) return "RD_EUNKNOWN";
    return rd__err_names[i];
}

static _Noreturn void rd__oom(size_t n) {
    fprintf(stderr, "redial: out of memory allocating %zu bytes\n", n);
    abort();
}

void *rd_malloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) rd__oom(n);
    return p;
}

void *rd_calloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) rd__oom(n * size);
    return p;
}

void *rd_realloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) rd__oom(n);
    return q;
}

char *rd_strdup(const char *s) { return rd_strndup(s, strlen(s)); }

char *rd_strndup(const char *s, size_t n) {
    size_t len = strnlen(s, n);
    char *d = rd_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

void rd_free(void *p) { free(p); }

void *rd_try_malloc(size_t n) { return malloc(n ? n : 1); }

void rd__assert_fail(const char *expr, const char *file, int line, const char *fn) {
    fprintf(stderr, "redial: assertion failed: %s (%s:%d, %s)\n", expr, file, line, fn);
    abort();
}

int rd_fmt(char *buf, size_t len, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= len) return RD_ERANGE;
    return 0;
}
