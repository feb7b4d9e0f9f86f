/*
 * sbuf.c — growable text buffer (see sbuf.h).
 *
 * rd_sbuf_printf formats straight into the free space and only on
 * truncation grows (to twice the capacity plus what was asked) and formats
 * again, so the common case is one vsnprintf and no copy.
 */
#include "proto/sbuf.h"

#include <stdarg.h>
#include <stdio.h>

void rd_sbuf_init(rd_sbuf_t *b, size_t cap) {
    b->cap = cap ? cap : 64;
    b->buf = rd_malloc(b->cap);
    b->buf[0] = '\0';
    b->len = 0;
}

void rd_sbuf_printf(rd_sbuf_t *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->buf + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 64);
        b->buf = rd_realloc(b->buf, b->cap);
    }
}

void rd_sbuf_label(rd_sbuf_t *b, const char *v) {
    for (; *v; v++) {
        if (*v == '\\' || *v == '"')
            rd_sbuf_printf(b, "\\%c", *v);
        else if (*v == '\n')
            rd_sbuf_printf(b, "\\n");
        else
            rd_sbuf_printf(b, "%c", *v);
    }
}
