/*
 * httpd_parse.c — layer 1 of the HTTP server (see httpd.c): rd_http_parser,
 * http-parser plus our limits, pieces in one reused arena; and the request
 * helpers (header lookup, base64, basic auth).
 */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/httpd_int.h"

#include "proto/rd.h"

/* ------------------------------------------------------------------ */
/* Parsing layer                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    size_t name_off, name_len, val_off, val_len;
} rd_hoff_t;

struct rd_http_parser {
    http_parser hp;
    rd_http_limits_t lim;
    char *arena;
    size_t alen, acap;
    rd_hoff_t *hoff;
    rd_http_header_t *hdrs;
    unsigned nh, hcap;
    int last; /* 0 url, 1 field, 2 value */
    size_t url_off, url_len;
    size_t body_off, body_len;
    size_t header_bytes;
    bool busy, in_body, dead;
    bool expect_continue; /* headers asked "Expect: 100-continue", body not yet read */
    int err_status;
    rd_http_req_t req;
};

static int arena_reserve(rd_http_parser_t *p, size_t more) {
    if (p->alen + more + 1 <= p->acap) return 0;
    size_t cap = p->acap ? p->acap : 1024;
    while (cap < p->alen + more + 1) cap *= 2;
    char *n = rd_try_malloc(cap);
    if (!n) return RD_ENOMEM;
    if (p->alen) memcpy(n, p->arena, p->alen);
    rd_free(p->arena);
    p->arena = n;
    p->acap = cap;
    return 0;
}

static int arena_put(rd_http_parser_t *p, const char *s, size_t n) {
    if (arena_reserve(p, n) != 0) return -1;
    memcpy(p->arena + p->alen, s, n);
    p->alen += n;
    return 0;
}

static int fail(rd_http_parser_t *p, int status) {
    if (!p->err_status) p->err_status = status;
    return -1;
}

static int on_message_begin(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    p->alen = 0;
    p->nh = 0;
    p->last = 0;
    p->url_off = 0;
    p->url_len = 0;
    p->body_off = 0;
    p->body_len = 0;
    p->header_bytes = 0;
    p->busy = true;
    p->in_body = false;
    p->expect_continue = false;
    return 0;
}

static int count_header(rd_http_parser_t *p, size_t n) {
    p->header_bytes += n;
    if (p->header_bytes > p->lim.max_header_bytes) return fail(p, 431);
    return 0;
}

static int on_url(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (count_header(p, n) != 0) return -1;
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->url_len += n;
    return 0;
}

/* Terminates the piece in progress before a new one starts. */
static int close_piece(rd_http_parser_t *p) {
    if (arena_put(p, "", 1) != 0) return fail(p, 503);
    return 0;
}

static int on_header_field(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    /* http-parser (lenient) lets "Content-Length : 5" through; RFC 9112 5.1 says reject. */
    if (memchr(at, ' ', n) || memchr(at, '\t', n)) return fail(p, 400);
    /* 4 = ": " and CRLF, counted once per field so framing cannot matter. */
    if (count_header(p, p->last != 1 ? n + 4 : n) != 0) return -1;
    if (p->last != 1) {
        if (close_piece(p) != 0) return -1;
        if (p->nh >= p->lim.max_headers) return fail(p, 431);
        if (p->nh == p->hcap) {
            unsigned cap = p->hcap ? p->hcap * 2 : 16;
            if (cap > p->lim.max_headers) cap = p->lim.max_headers;
            rd_hoff_t *h = rd_try_malloc(cap * sizeof *h);
            rd_http_header_t *hh = rd_try_malloc(cap * sizeof *hh);
            if (!h || !hh) {
                rd_free(h);
                rd_free(hh);
                return fail(p, 503);
            }
            if (p->nh) memcpy(h, p->hoff, p->nh * sizeof *h);
            rd_free(p->hoff);
            rd_free(p->hdrs);
            p->hoff = h;
            p->hdrs = hh;
            p->hcap = cap;
        }
        rd_hoff_t *h = &p->hoff[p->nh++];
        h->name_off = p->alen;
        h->name_len = 0;
        h->val_off = 0;
        h->val_len = 0;
        p->last = 1;
    }
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->hoff[p->nh - 1].name_len += n;
    return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (count_header(p, n) != 0) return -1;
    rd_hoff_t *h = &p->hoff[p->nh - 1];
    if (p->last != 2) {
        if (close_piece(p) != 0) return -1;
        h->val_off = p->alen;
        p->last = 2;
    }
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    h->val_len += n;
    return 0;
}

static int on_headers_complete(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    if (p->nh > 0 && p->last == 1) {
        /* A field with no value callback: empty value. */
        if (close_piece(p) != 0) return -1;
        p->hoff[p->nh - 1].val_off = p->alen;
    }
    if (close_piece(p) != 0) return -1;
    if (hp->upgrade) return fail(p, 501);
    if (hp->content_length != ULLONG_MAX && hp->content_length > p->lim.max_body_bytes)
        return fail(p, 413);
    p->in_body = true;
    for (unsigned i = 0; i < p->nh; i++) {
        const rd_hoff_t *h = &p->hoff[i];
        if (h->name_len == 6 && strncasecmp(p->arena + h->name_off, "Expect", 6) == 0 &&
            h->val_len == 12 && strncasecmp(p->arena + h->val_off, "100-continue", 12) == 0 &&
            hp->content_length != ULLONG_MAX && hp->content_length > 0)
            p->expect_continue = true;
    }
    p->body_off = p->alen;
    return 0;
}

static int on_body(http_parser *hp, const char *at, size_t n) {
    rd_http_parser_t *p = hp->data;
    if (p->body_len + n > p->lim.max_body_bytes) return fail(p, 413);
    if (arena_put(p, at, n) != 0) return fail(p, 503);
    p->body_len += n;
    return 0;
}

static int on_message_complete(http_parser *hp) {
    rd_http_parser_t *p = hp->data;
    if (!p->in_body) return fail(p, 400);
    if (close_piece(p) != 0) return -1;
    p->expect_continue = false;
    /* Path and query: a second copy of the target split at '?'. */
    const char *url = p->arena + p->url_off;
    size_t ulen = p->url_len;
    const char *ps = url, *end = url + ulen;
    if (ulen > 0 && url[0] != '/') {
        /* absolute-form "http://host/path?q": skip scheme and authority. */
        const char *s = memchr(url, ':', ulen);
        if (s && s + 2 < end && s[1] == '/' && s[2] == '/') {
            const char *slash = memchr(s + 3, '/', (size_t)(end - (s + 3)));
            const char *q = memchr(s + 3, '?', (size_t)(end - (s + 3)));
            if (!slash || (q && q < slash)) slash = q;
            ps = slash ? slash : end;
        }
    }
    const char *qm = memchr(ps, '?', (size_t)(end - ps));
    size_t plen = qm ? (size_t)(qm - ps) : (size_t)(end - ps);
    size_t qlen = qm ? (size_t)(end - qm - 1) : 0;
    size_t ps_off = (size_t)(ps - p->arena);
    if (arena_reserve(p, plen + qlen + 2) != 0) return fail(p, 503);
    /* arena may have moved: recompute from offsets */
    size_t path_off = p->alen;
    memcpy(p->arena + p->alen, p->arena + ps_off, plen);
    p->alen += plen;
    p->arena[p->alen++] = '\0';
    size_t query_off = p->alen;
    if (qlen) memcpy(p->arena + p->alen, p->arena + ps_off + plen + 1, qlen);
    p->alen += qlen;
    p->arena[p->alen++] = '\0';

    for (unsigned i = 0; i < p->nh; i++) {
        p->hdrs[i].name = p->arena + p->hoff[i].name_off;
        p->hdrs[i].name_len = p->hoff[i].name_len;
        p->hdrs[i].value = p->arena + p->hoff[i].val_off;
        p->hdrs[i].value_len = p->hoff[i].val_len;
    }
    rd_http_req_t *r = &p->req;
    memset(r, 0, sizeof *r);
    r->method_id = hp->method;
    r->method = http_method_str((enum http_method)hp->method);
    r->url = p->arena + p->url_off;
    r->path = p->arena + path_off;
    r->path_len = plen;
    r->query = p->arena + query_off;
    r->query_len = qlen;
    r->headers = p->hdrs;
    r->n_headers = p->nh;
    r->body = p->arena + p->body_off;
    r->body_len = p->body_len;
    r->http_major = hp->http_major;
    r->http_minor = hp->http_minor;
    r->keep_alive = http_should_keep_alive(hp) != 0;
    p->busy = false;
    http_parser_pause(hp, 1);
    return 0;
}

static const http_parser_settings rd__settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

void rd_httpd__limits_fill(rd_http_limits_t *l, const rd_http_limits_t *in) {
    l->max_header_bytes =
        in && in->max_header_bytes ? in->max_header_bytes : RD_HTTP_DEF_MAX_HEADER;
    l->max_body_bytes = in && in->max_body_bytes ? in->max_body_bytes : RD_HTTP_DEF_MAX_BODY;
    l->max_headers = in && in->max_headers ? in->max_headers : RD_HTTP_DEF_MAX_HEADERS;
}

rd_http_parser_t *rd_http_parser_create(const rd_http_limits_t *limits) {
    rd_http_parser_t *p = rd_calloc(1, sizeof *p);
    rd_httpd__limits_fill(&p->lim, limits);
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    return p;
}

void rd_http_parser_destroy(rd_http_parser_t *p) {
    if (!p) return;
    rd_free(p->arena);
    rd_free(p->hoff);
    rd_free(p->hdrs);
    rd_free(p);
}

void rd_httpd__parser_reset(rd_http_parser_t *p) {
    http_parser_init(&p->hp, HTTP_REQUEST);
    p->hp.data = p;
    p->busy = p->in_body = p->dead = false;
    p->err_status = 0;
}

bool rd_http_parser_busy(const rd_http_parser_t *p) { return p->busy; }

bool rd_http_parser_take_continue(rd_http_parser_t *p) {
    bool c = p->expect_continue && p->in_body && !p->dead;
    p->expect_continue = false;
    return c;
}

long rd_http_parser_feed(rd_http_parser_t *p, const char *data, size_t len, rd_http_req_t **req,
                         int *status) {
    *req = NULL;
    *status = 0;
    if (p->dead) {
        *status = p->err_status ? p->err_status : 400;
        return -1;
    }
    if (len == 0) return 0;
    size_t n = http_parser_execute(&p->hp, &rd__settings, data, len);
    enum http_errno e = HTTP_PARSER_ERRNO(&p->hp);
    if (e == HPE_PAUSED) {
        http_parser_pause(&p->hp, 0);
        *req = &p->req;
        return (long)n;
    }
    if (e != HPE_OK || n != len) {
        p->dead = true;
        if (!p->err_status) p->err_status = e == HPE_HEADER_OVERFLOW ? 431 : 400;
        *status = p->err_status;
        return -1;
    }
    return (long)n;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

const char *rd_http_header(const rd_http_req_t *req, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < req->n_headers; i++) {
        if (req->headers[i].name_len == n && strncasecmp(req->headers[i].name, name, n) == 0)
            return req->headers[i].value;
    }
    return NULL;
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t rd_http_b64_encode(char *dst, size_t cap, const void *src, size_t len) {
    const unsigned char *s = src;
    size_t need = (len + 2) / 3 * 4;
    if (need + 1 > cap) return need;
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)s[i] << 16;
        if (i + 1 < len) v |= (unsigned)s[i + 1] << 8;
        if (i + 2 < len) v |= s[i + 2];
        dst[o++] = b64chars[(v >> 18) & 63];
        dst[o++] = b64chars[(v >> 12) & 63];
        dst[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
        dst[o++] = i + 2 < len ? b64chars[v & 63] : '=';
    }
    dst[o] = '\0';
    return o;
}

static int b64val(int ch) {
    if (ch >= 'A' && ch <= 'Z') return ch - 'A';
    if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9') return ch - '0' + 52;
    if (ch == '+') return 62;
    if (ch == '/') return 63;
    return -1;
}

long rd_http_b64_decode(void *dst, size_t cap, const char *src, size_t len) {
    unsigned char *d = dst;
    while (len > 0 && src[len - 1] == '=') len--;
    if (len % 4 == 1) return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val((unsigned char)src[i]);
        if (v < 0) return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            d[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return (long)o;
}

int rd_http_basic_auth(const rd_http_req_t *req, char *buf, size_t buflen, const char **user,
                       const char **pass) {
    const char *h = rd_http_header(req, "Authorization");
    if (!h) return RD_EAUTH;
    while (*h == ' ') h++;
    if (strncasecmp(h, "Basic ", 6) != 0) return RD_EAUTH;
    h += 6;
    while (*h == ' ') h++;
    size_t len = strlen(h);
    while (len > 0 && (h[len - 1] == ' ' || h[len - 1] == '\t')) len--;
    if (buflen < 2) return RD_ERANGE;
    if ((len + 3) / 4 * 3 >= buflen + 2) return RD_ERANGE;
    long n = rd_http_b64_decode(buf, buflen - 1, h, len);
    if (n < 0) return RD_EAUTH;
    buf[n] = '\0';
    if (memchr(buf, '\0', (size_t)n)) return RD_EAUTH;
    char *colon = strchr(buf, ':');
    if (!colon) return RD_EAUTH;
    *colon = '\0';
    *user = buf;
    *pass = colon + 1;
    return 0;
}
