/*
 * sbuf.h — a growable text buffer for renderers that build one document
 * from many printf-style pieces (the stats text table, the HTML report).
 *
 * The struct is embeddable; buf and len may be read (buf is always
 * NUL-terminated after rd_sbuf_init), cap is private. Growth goes through
 * rd_realloc, which aborts on exhaustion: what is written here is our own
 * rendering, bounded by our own tables, not sized by input.
 *
 * Thread safety: one buffer, one thread at a time.
 */
#ifndef RD_SBUF_H
#define RD_SBUF_H

#include <stddef.h>

#include "proto/rd.h"

typedef struct rd_sbuf {
    char *buf;  /* owned until taken by the caller (rd_free) */
    size_t len; /* bytes before the terminating NUL */
    size_t cap; /* private */
} rd_sbuf_t;

/* An empty buffer with room for cap bytes (> 0); release b->buf with rd_free. */
void rd_sbuf_init(rd_sbuf_t *b, size_t cap);
/* Appends printf-formatted text, growing the buffer as needed. */
void rd_sbuf_printf(rd_sbuf_t *b, const char *fmt, ...) RD_PRINTF(2, 3);
/* Appends v (NUL-terminated, borrowed) escaped as a Prometheus label value:
 * backslash, double quote and newline escaped, every other byte as is. */
void rd_sbuf_label(rd_sbuf_t *b, const char *v);

#endif
