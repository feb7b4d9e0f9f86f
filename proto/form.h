/*
 * form.h — application/x-www-form-urlencoded: decode a body or query string
 * into key/value pairs, and append escaped pairs to a caller buffer.
 *
 * Decoding is what provider callbacks (exotel's default content type,
 * every twilio callback) and the `?a=<attempt key>` query need; encoding is
 * what the provider adapters use to build request bodies without
 * allocating. Both sides follow the WHATWG rules: '+' is a space, %XX is a
 * byte, pairs are split on '&', a pair without '=' has an empty value,
 * empty pairs ("a=1&&b=2") are skipped. A '%' not followed by two hex digits
 * is malformed (RD_EPARSE): a provider never sends one, so it is better
 * refused than guessed.
 *
 * Ownership: rd_form_parse() makes one allocation that holds every decoded
 * string (NUL-terminated, so values may be used as C strings; a value with
 * an embedded %00 is still reported with its full length). Keys and values
 * point into it and live until rd_form_deinit().
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_FORM_H
#define RD_FORM_H

#include <stddef.h>

#define RD_FORM_MAX_PAIRS 256 /* more is refused with RD_ELIMIT */

typedef struct rd_form_pair {
    const char *key;
    size_t klen;
    const char *val;
    size_t vlen;
} rd_form_pair_t;

typedef struct rd_form {
    rd_form_pair_t *pairs; /* in input order; duplicates kept */
    size_t n;
    char *buf_; /* private: the one allocation */
} rd_form_t;

/* An empty form (rd_form_deinit is then a no-op). */
void rd_form_init(rd_form_t *f);
/*
 * Decodes len bytes of s (no NUL needed). Returns 0; RD_EPARSE for a bad
 * escape; RD_ELIMIT past RD_FORM_MAX_PAIRS; RD_ENOMEM. On failure *f is
 * empty. *f must be initialised (or deinit'ed) before the call.
 */
int rd_form_parse(rd_form_t *f, const char *s, size_t len);
void rd_form_deinit(rd_form_t *f);
/*
 * Decodes a multipart/form-data body (RFC 7578) into the same pairs: each
 * part's Content-Disposition name and its bytes as they are (no transfer
 * decoding; a file part is just its bytes). content_type is the full header
 * value, whose boundary parameter is required. Returns 0; RD_EPARSE (no or
 * bad boundary, a part without a name, a body without its closing
 * delimiter); RD_ELIMIT past RD_FORM_MAX_PAIRS parts; RD_ENOMEM.
 */
int rd_form_parse_multipart(rd_form_t *f, const char *content_type, const char *s, size_t len);

/* First value of key (exact, case-sensitive), NULL if absent. Borrowed. */
const char *rd_form_get(const rd_form_t *f, const char *key);
/* Same with the value's length (values may hold NUL bytes). */
const char *rd_form_getn(const rd_form_t *f, const char *key, size_t *vlen);

/*
 * Percent-decodes len bytes of s into out (which needs len + 1 bytes; the
 * result is never longer), '+' becoming a space. Writes the length to
 * *outlen and a NUL after it. Returns 0 or RD_EPARSE.
 */
int rd_form_unescape(const char *s, size_t len, char *out, size_t *outlen);

/*
 * Appends "key=value" (preceded by '&' when *len > 0) to buf, escaping both
 * (unreserved bytes A-Z a-z 0-9 - . _ ~ are kept, space is '+', everything
 * else %XX). Keeps buf NUL-terminated. Returns 0, or RD_ERANGE when cap is
 * too small (buf is then left as it was).
 */
int rd_form_add(char *buf, size_t cap, size_t *len, const char *key, const char *val);
/* Escapes s alone (query-parameter values, path parts). Same contract. */
int rd_form_escape(char *buf, size_t cap, size_t *len, const char *s, size_t slen);

#endif
