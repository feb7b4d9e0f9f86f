/*
 * rd.h — what every redial module shares: error codes, the allocator wrapper
 * and the invariant assertion.
 *
 * Errors: functions return int, 0 for success and a negative rd_err_t on
 * failure (libuv's convention). RD_ERR_MAP is the one list that generates the
 * enum, rd_strerror() and rd_err_name(); add a code by adding a line there.
 *
 * Memory: all allocation goes through rd_malloc & co. In normal builds the
 * process links jemalloc, which replaces malloc; sanitizer builds use libc so
 * ASan sees every allocation. rd_malloc aborts on exhaustion (sizes we chose);
 * rd_try_malloc returns NULL (sizes taken from input must use it).
 *
 * Thread safety: everything here may be called from any thread.
 */
#ifndef RD_H
#define RD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RD_ERR_MAP(X)                 \
    X(NOMEM, "out of memory")         \
    X(INVAL, "invalid argument")      \
    X(PARSE, "malformed input")       \
    X(RANGE, "value out of range")    \
    X(NOTFOUND, "not found")          \
    X(EXISTS, "already exists")       \
    X(IO, "input/output error")       \
    X(REDIS, "redis error")           \
    X(TIMEOUT, "timed out")           \
    X(PROTO, "protocol error")        \
    X(LIMIT, "limit reached")         \
    X(STALE, "stale lease or token")  \
    X(CLOSED, "closed")               \
    X(AGAIN, "try again")             \
    X(AUTH, "not authorised")         \
    X(TRANSIENT, "transient failure") \
    X(MEDIATYPE, "unsupported media type")

typedef enum {
    RD_OK = 0,
#define RD__ERR_ENUM(name, msg) RD_E##name,
    RD__ERR_FIRST = -1000,
    RD_ERR_MAP(RD__ERR_ENUM)
#undef RD__ERR_ENUM
        RD__ERR_END
} rd_err_t;

/* Human text for an error code ("unknown error" for anything else). */
const char *rd_strerror(int err);
/* Symbolic name, e.g. "RD_EPARSE". */
const char *rd_err_name(int err);

/* Allocation. rd_malloc/rd_calloc/rd_realloc/rd_strdup abort on OOM. */
void *rd_malloc(size_t n);
void *rd_calloc(size_t n, size_t size);
void *rd_realloc(void *p, size_t n);
char *rd_strdup(const char *s);
char *rd_strndup(const char *s, size_t n);
void rd_free(void *p);
/* May return NULL: for sizes that come from input. */
void *rd_try_malloc(size_t n);

/* Invariant check for our own logic only: never for bytes from outside. */
#define rd_assert(e) ((e) ? (void)0 : rd__assert_fail(#e, __FILE__, __LINE__, __func__))
_Noreturn void rd__assert_fail(const char *expr, const char *file, int line, const char *fn);

#define RD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define RD_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RD_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RD_MAX(a, b) ((a) > (b) ? (a) : (b))

/* snprintf into a fixed buffer that reports truncation as RD_ERANGE. */
int rd_fmt(char *buf, size_t len, const char *fmt, ...) RD_PRINTF(3, 4);

#endif
