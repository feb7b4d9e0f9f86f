/*
 * Fuzz target: the HTTP request parsing layer of engine/httpd
 * (rd_http_parser_*), without sockets, plus basic-auth decoding of each request.
 *
 * Properties checked on every input:
 *  - limits hold: body_len <= max_body_bytes, n_headers <= max_headers,
 *    request line + headers within max_header_bytes;
 *  - the URL and every header name are contiguous byte ranges of the input,
 *    the path is a piece of the URL and the query follows it;
 *  - the method is one of http-parser's static names;
 *  - framing does not matter: feeding the input whole and in pieces of
 *    varying size yields the same requests (method, path, body) and the
 *    same success or failure.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/httpd.h"
#include "proto/hash.h"
#include "proto/rd.h"

#define MAXREQ 64

typedef struct {
    unsigned method;
    size_t path_len, body_len, n_headers;
    uint64_t hash;
} seen_t;

static const rd_http_limits_t lim = {
    .max_header_bytes = 2048, .max_body_bytes = 4096, .max_headers = 16};

static void check(const rd_http_req_t *r, const uint8_t *data, size_t size) {
    rd_assert(r->body_len <= lim.max_body_bytes);
    rd_assert(r->n_headers <= lim.max_headers);
    rd_assert(strcmp(r->method, http_method_str((enum http_method)r->method_id)) == 0);
    size_t ulen = strlen(r->url);
    rd_assert(ulen <= lim.max_header_bytes);
    rd_assert(memmem(data, size, r->url, ulen) != NULL);
    rd_assert(strlen(r->path) == r->path_len && strlen(r->query) == r->query_len);
    rd_assert(r->path_len + r->query_len <= ulen);
    rd_assert(memmem(r->url, ulen, r->path, r->path_len) != NULL || r->path_len == 0);
    size_t hb = ulen;
    for (size_t i = 0; i < r->n_headers; i++) {
        const rd_http_header_t *h = &r->headers[i];
        rd_assert(strlen(h->name) == h->name_len);
        rd_assert(h->name_len == 0 || memmem(data, size, h->name, h->name_len) != NULL);
        hb += h->name_len + h->value_len;
        rd_assert(rd_http_header(r, h->name) != NULL);
    }
    rd_assert(hb <= lim.max_header_bytes);
    rd_assert(r->body[r->body_len] == '\0');
    char ab[256];
    const char *u, *pw;
    if (rd_http_basic_auth(r, ab, sizeof ab, &u, &pw) == 0) {
        rd_assert(u == ab && strlen(u) + 1 + strlen(pw) < sizeof ab);
    }
}

/* Parses all of data in pieces chosen by `step` (0 = whole). Returns the final status. */
static int run(const uint8_t *data, size_t size, unsigned step, seen_t *seen, int *nseen) {
    rd_http_parser_t *p = rd_http_parser_create(&lim);
    size_t off = 0;
    int status = 0;
    *nseen = 0;
    unsigned k = 0;
    while (off < size) {
        size_t chunk = size - off;
        if (step) {
            size_t c = 1 + (data[k++ % size] % step);
            if (c < chunk) chunk = c;
        }
        rd_http_req_t *r;
        int st;
        long n = rd_http_parser_feed(p, (const char *)data + off, chunk, &r, &st);
        if (n < 0) {
            status = st;
            break;
        }
        rd_assert((size_t)n <= chunk);
        off += (size_t)n;
        /* an interim 100 is only ever due inside a request */
        if (rd_http_parser_take_continue(p)) rd_assert(!r && rd_http_parser_busy(p));
        if (r) {
            check(r, data, size);
            if (*nseen < MAXREQ) {
                seen_t *s = &seen[(*nseen)++];
                s->method = r->method_id;
                s->path_len = r->path_len;
                s->body_len = r->body_len;
                s->n_headers = r->n_headers;
                s->hash = rd_hash_bytes(rd_hash_bytes(RD_HASH_FNV_BASIS, r->path, r->path_len),
                                        r->body, r->body_len);
            }
            if (!r->keep_alive) break;
        }
    }
    rd_http_parser_destroy(p);
    return status;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0 || size > 65536) return 0;
    static seen_t a[MAXREQ], b[MAXREQ];
    int na, nb;
    int sa = run(data, size, 0, a, &na);
    int sb = run(data, size, 7, b, &nb);
    /* Which error wins (400 vs 431) may depend on framing when a request has
     * both; whether it fails may not. */
    rd_assert((sa == 0) == (sb == 0));
    rd_assert(na == nb);
    for (int i = 0; i < na; i++) {
        rd_assert(a[i].method == b[i].method && a[i].path_len == b[i].path_len);
        rd_assert(a[i].body_len == b[i].body_len && a[i].n_headers == b[i].n_headers);
        rd_assert(a[i].hash == b[i].hash);
    }
    return 0;
}
