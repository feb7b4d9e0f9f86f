/*
 * job.h — the enqueue message (SPEC section 5, "Enqueue from other
 * services") and E.164 validation.
 *
 * Producers XADD `<prefix>:inbox * m <msgpack map>` (or `j <json object>`).
 * Map keys: v (int, 1), campaign (str), to (str), id (str <= 128 bytes,
 * optional), vars (map str->str, optional), not_before (int unix ms,
 * optional), tz (str IANA, optional).
 *
 * The decoders never trust input: every length is bounded, every type is
 * checked, unknown keys are refused, and the error names the key. They never
 * crash or leak, whatever the bytes (fuzzed: tests/fuzz/fuzz_job.c).
 *
 * Thread safety: pure.
 */
#ifndef RD_JOB_H
#define RD_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RD_JOB_ID_MAX 128
#define RD_E164_MAX 16 /* '+' and up to 15 digits */
#define RD_CAMPAIGN_NAME_MAX 64
#define RD_TZ_NAME_MAX 64
#define RD_JOB_MAX_VARS 32
#define RD_JOB_VAR_MAX 256 /* bytes per key and per value */

typedef struct rd_job_var {
    char *key;
    char *val;
} rd_job_var_t;

typedef struct rd_job_msg {
    int v;
    char campaign[RD_CAMPAIGN_NAME_MAX + 1];
    char to[RD_E164_MAX + 1];
    char id[RD_JOB_ID_MAX + 1]; /* "" when absent */
    rd_job_var_t *vars;         /* owned */
    size_t n_vars;
    int64_t not_before_ms;       /* 0 when absent */
    char tz[RD_TZ_NAME_MAX + 1]; /* "" when absent */
} rd_job_msg_t;

void rd_job_msg_init(rd_job_msg_t *m);
void rd_job_msg_deinit(rd_job_msg_t *m);

/*
 * Decode from msgpack / JSON bytes. Returns 0, or RD_EPARSE (not a map, bad
 * bytes) / RD_EINVAL (a key is missing, of the wrong type, too long) with
 * "<key>: <reason>" in err. `to` is checked for E.164 syntax here (a bad
 * number is RD_EINVAL with key "to"), the campaign's existence is not.
 */
int rd_job_msg_decode(const void *buf, size_t len, rd_job_msg_t *out, char *err, size_t errlen);
int rd_job_msg_decode_json(const char *buf, size_t len, rd_job_msg_t *out, char *err,
                           size_t errlen);

/* Encode as the msgpack map above (keys absent when empty). Caller frees *out with rd_free. */
int rd_job_msg_encode(const rd_job_msg_t *m, char **out, size_t *outlen);

/* Field-by-field equality (vars in order). */
bool rd_job_msg_equal(const rd_job_msg_t *a, const rd_job_msg_t *b);

/* '+' then 8..15 digits, first digit not 0. */
bool rd_e164_valid(const char *s, size_t len);

#endif
