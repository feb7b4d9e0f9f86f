/*
 * log.c — logfmt lines (see log.h).
 *
 * Each line is built in a stack buffer (truncated at 4 KiB with "..." rather
 * than allocated) and written with a single write(2) on an fd that is
 * swapped atomically on reopen, so concurrent writers never interleave and
 * never block one another on a lock.
 */
#include "common/log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "proto/text.h"

static _Atomic int log_fd = 2;
static rd_log_level_t log_min = RD_LOG_INFO;
static char log_path[1024];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int rd_log_level_parse(const char *s, rd_log_level_t *out) {
    for (int i = 0; i < (int)RD_ARRAY_LEN(level_names); i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (rd_log_level_t)i;
            return 0;
        }
    }
    return RD_EINVAL;
}

int rd_log_setup(const char *path, rd_log_level_t min_level) {
    log_min = min_level;
    if (!path || !*path || strcmp(path, "-") == 0) {
        log_path[0] = '\0';
        return 0;
    }
    if (rd_fmt(log_path, sizeof log_path, "%s", path) != 0) return RD_EINVAL;
    return rd_log_reopen();
}

int rd_log_reopen(void) {
    if (!log_path[0]) return 0;
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return RD_EIO;
    int old = atomic_exchange(&log_fd, fd);
    if (old > 2) close(old);
    return 0;
}

bool rd_log_enabled(rd_log_level_t level) { return level >= log_min; }

static bool is_secret_key(const char *k) {
    static const char *const words[] = {"token", "password", "secret", "auth", "key"};
    for (size_t i = 0; i < RD_ARRAY_LEN(words); i++)
        if (strcasestr(k, words[i])) return true;
    return false;
}

typedef struct {
    char buf[4096];
    size_t len;
} line_t;

static void put(line_t *l, const char *s, size_t n) {
    size_t room = sizeof l->buf - 5 - l->len; /* keep space for "...\n" */
    if (n > room) n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* A value is written bare unless it is empty or holds a space, '"', '=',
   '\\' or a control byte (proto/text.h); quoted, '"' and '\\' are
   backslashed, \n and \t spelled so, and any other control byte written as
   \xNN, so no value can start a new line or move the terminal's cursor. */
static void put_value(line_t *l, const char *v) {
    if (!v) v = "";
    bool quote = *v == '\0';
    for (const char *p = v; *p && !quote; p++)
        quote = *p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
                rd_text_is_control((unsigned char)*p);
    if (!quote) {
        put(l, v, strlen(v));
        return;
    }
    put(l, "\"", 1);
    for (const char *p = v; *p; p++) {
        unsigned char ch = (unsigned char)*p;
        char esc[5];
        if (ch == '"' || ch == '\\') {
            put(l, "\\", 1);
            put(l, p, 1);
        } else if (ch == '\n') {
            put(l, "\\n", 2);
        } else if (ch == '\t') {
            put(l, "\\t", 2);
        } else if (rd_text_is_control(ch)) {
            snprintf(esc, sizeof esc, "\\x%02x", ch);
            put(l, esc, 4);
        } else {
            put(l, p, 1);
        }
    }
    put(l, "\"", 1);
}

static void begin(line_t *l, rd_log_level_t level, const char *event) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char head[64];
    size_t n = strftime(head, sizeof head, "ts=%Y-%m-%dT%H:%M:%S", &tm);
    l->len = 0;
    put(l, head, n);
    n = (size_t)snprintf(head, sizeof head, ".%03ldZ level=%s event=", ts.tv_nsec / 1000000,
                         level_names[level]);
    put(l, head, n);
    put_value(l, event);
}

static void field(line_t *l, const char *k, const char *v) {
    put(l, " ", 1);
    put(l, k, strlen(k));
    put(l, "=", 1);
    put_value(l, is_secret_key(k) && v && *v ? "[redacted]" : v);
}

static void finish(line_t *l) {
    if (l->len >= sizeof l->buf - 5) { /* truncated: the 5 spare bytes hold "...\n" */
        memcpy(l->buf + l->len, "...", 3);
        l->len += 3;
    }
    l->buf[l->len++] = '\n';
    ssize_t w = write(atomic_load(&log_fd), l->buf, l->len);
    (void)w;
}

void rd_log(rd_log_level_t level, const char *event, ...) {
    if (!rd_log_enabled(level)) return;
    line_t l;
    begin(&l, level, event);
    va_list ap;
    va_start(ap, event);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) field(&l, k, va_arg(ap, const char *));
    va_end(ap);
    finish(&l);
}

void rd_logf(rd_log_level_t level, const char *event, const char *fmt, ...) {
    if (!rd_log_enabled(level)) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    line_t l;
    begin(&l, level, event);
    field(&l, "msg", msg);
    finish(&l);
}
