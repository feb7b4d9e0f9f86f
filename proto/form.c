/*
 * form.c — x-www-form-urlencoded decoding and encoding (see form.h).
 *
 * Decoding makes two passes over the input: the first counts the pairs (so
 * a hostile body with a million '&' is refused before any allocation), the
 * second decodes every key and value into one buffer of len + 2 * pairs
 * bytes (decoded text is never longer than its source; each string gets a
 * NUL). The pair array lives at the start of that same allocation, aligned,
 * so a parse costs exactly one malloc and one free.
 *
 * Encoding appends into a caller buffer and rolls back on overflow, so the
 * adapters can build a request body in a fixed per-request buffer.
 */
#include "proto/form.h"

#include <stdalign.h>
#include <string.h>

#include "proto/rd.h"

void rd_form_init(rd_form_t *f) { memset(f, 0, sizeof *f); }

void rd_form_deinit(rd_form_t *f) {
    rd_free(f->buf_);
    memset(f, 0, sizeof *f);
}

static int hexval(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int rd_form_unescape(const char *s, size_t len, char *out, size_t *outlen) {
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '+') {
            out[o++] = ' ';
        } else if (c == '%') {
            if (i + 2 >= len) return RD_EPARSE;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0) return RD_EPARSE;
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = (char)c;
        }
    }
    out[o] = '\0';
    *outlen = o;
    return 0;
}

int rd_form_parse(rd_form_t *f, const char *s, size_t len) {
    rd_form_deinit(f);
    /* Pass 1: count non-empty pairs. */
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        if (j > i) n++;
        i = j + 1;
    }
    if (n > RD_FORM_MAX_PAIRS) return RD_ELIMIT;
    if (n == 0) return 0;

    size_t arr = n * sizeof(rd_form_pair_t);
    arr = (arr + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    char *mem = rd_try_malloc(arr + len + 2 * n);
    if (!mem) return RD_ENOMEM;
    rd_form_pair_t *pairs = (rd_form_pair_t *)(void *)mem;
    char *text = mem + arr;
    size_t t = 0, k = 0;

    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != '&') j++;
        if (j > i) {
            const char *eq = memchr(s + i, '=', j - i);
            size_t klen_raw = eq ? (size_t)(eq - (s + i)) : j - i;
            const char *vraw = eq ? eq + 1 : s + j;
            size_t vlen_raw = eq ? (size_t)((s + j) - vraw) : 0;
            rd_form_pair_t *p = &pairs[k++];
            p->key = text + t;
            if (rd_form_unescape(s + i, klen_raw, text + t, &p->klen) != 0) goto bad;
            t += p->klen + 1;
            p->val = text + t;
            if (rd_form_unescape(vraw, vlen_raw, text + t, &p->vlen) != 0) goto bad;
            t += p->vlen + 1;
        }
        i = j + 1;
    }
    rd_assert(k == n && t <= len + 2 * n);
    f->pairs = pairs;
    f->n = n;
    f->buf_ = mem;
    return 0;
bad:
    rd_free(mem);
    return RD_EPARSE;
}

const char *rd_form_getn(const rd_form_t *f, const char *key, size_t *vlen) {
    size_t kl = strlen(key);
    for (size_t i = 0; i < f->n; i++) {
        if (f->pairs[i].klen == kl && memcmp(f->pairs[i].key, key, kl) == 0) {
            if (vlen) *vlen = f->pairs[i].vlen;
            return f->pairs[i].val;
        }
    }
    return NULL;
}

const char *rd_form_get(const rd_form_t *f, const char *key) { return rd_form_getn(f, key, NULL); }

static bool unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

/* Appends escaped s at buf[*o]; leaves one byte for the NUL. false on overflow. */
static bool esc(char *buf, size_t cap, size_t *o, const char *s, size_t slen) {
    static const char hex[] = "0123456789ABCDEF";
    size_t p = *o;
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || c == ' ') {
            if (p + 1 >= cap) return false;
            buf[p++] = c == ' ' ? '+' : (char)c;
        } else {
            if (p + 3 >= cap) return false;
            buf[p++] = '%';
            buf[p++] = hex[c >> 4];
            buf[p++] = hex[c & 15];
        }
    }
    *o = p;
    return true;
}

int rd_form_escape(char *buf, size_t cap, size_t *len, const char *s, size_t slen) {
    size_t o = *len;
    if (o >= cap || !esc(buf, cap, &o, s, slen)) {
        if (*len < cap) buf[*len] = '\0';
        return RD_ERANGE;
    }
    buf[o] = '\0';
    *len = o;
    return 0;
}

int rd_form_add(char *buf, size_t cap, size_t *len, const char *key, const char *val) {
    size_t o = *len;
    if (o >= cap) return RD_ERANGE;
    if (o > 0) {
        if (o + 1 >= cap) goto full;
        buf[o++] = '&';
    }
    if (!esc(buf, cap, &o, key, strlen(key))) goto full;
    if (o + 1 >= cap) goto full;
    buf[o++] = '=';
    if (!esc(buf, cap, &o, val, strlen(val))) goto full;
    buf[o] = '\0';
    *len = o;
    return 0;
full:
    buf[*len] = '\0';
    return RD_ERANGE;
}
