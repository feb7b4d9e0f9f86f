/*
 * log.h — structured logs: one logfmt line per event on stderr or a file.
 *
 *   ts=2026-11-28T10:00:00.123Z level=info event=dial.placed job=J1 attempt=2 sid=abc
 *
 * Values are quoted when they contain spaces, quotes or '='. Secrets never
 * reach this module: callers pass ids and counts, never credentials, and the
 * values of keys named like a secret (token, password, secret, key, auth) are
 * replaced by "[redacted]" as a last line of defence.
 *
 * The log file (if any) is reopened by rd_log_reopen() (SIGHUP, for logrotate).
 * Thread safety: rd_log_* may be called from any thread; each line is written
 * with one write(2), so lines never interleave.
 */
#ifndef RD_LOG_H
#define RD_LOG_H

#include "proto/rd.h"

typedef enum { RD_LOG_DEBUG = 0, RD_LOG_INFO, RD_LOG_WARN, RD_LOG_ERROR } rd_log_level_t;

/* Configure before threads start. path NULL or "-" = stderr. Returns 0 or RD_EIO. */
int rd_log_setup(const char *path, rd_log_level_t min_level);
/* Reopen the log file (after rotation). Safe from the loop thread at any time. */
int rd_log_reopen(void);
/* Parse "debug|info|warn|error". */
int rd_log_level_parse(const char *s, rd_log_level_t *out);
bool rd_log_enabled(rd_log_level_t level);

/*
 * Logs an event with key/value pairs given as a NULL-terminated list of
 * (const char *key, const char *value) pairs, e.g.
 *   rd_log(RD_LOG_INFO, "dial.placed", "job", id, "sid", sid, NULL);
 */
void rd_log(rd_log_level_t level, const char *event, ...) __attribute__((sentinel));
/* Same with one printf-formatted field "msg". */
void rd_logf(rd_log_level_t level, const char *event, const char *fmt, ...) RD_PRINTF(3, 4);

#endif
