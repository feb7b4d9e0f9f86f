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
 * multipart/form-data (exotel's default callback content type) is decoded
 * into the same pairs: one pass counts the boundary delimiters (the pair
 * bound, before allocating), the second copies each part's name and bytes
 * (both are substrings of the body, so len + 2 * parts bytes suffice). A
 * part without a form-data name or a body without its closing delimiter
 * (a cut body) is RD_EPARSE.
 *
 * Encoding appends into a caller buffer and rolls back on overflow, so the
 * adapters can build a request body in a fixed per-request buffer.
 */
#include "proto/form.h"

#include <stdalign.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

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

/* The one allocation of a parse: n pairs (aligned) then len + 2n text bytes. */
static char *alloc_pairs(size_t n, size_t len, rd_form_pair_t **pairs, char **text) {
    size_t arr = n * sizeof(rd_form_pair_t);
    arr = (arr + alignof(max_align_t) - 1) & ~(alignof(max_align_t) - 1);
    char *mem = rd_try_malloc(arr + len + 2 * n);
    if (!mem) return NULL;
    *pairs = (rd_form_pair_t *)(void *)mem;
    *text = mem + arr;
    return mem;
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

    rd_form_pair_t *pairs;
    char *text;
    char *mem = alloc_pairs(n, len, &pairs, &text);
    if (!mem) return RD_ENOMEM;
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

/* ---- multipart/form-data (RFC 7578) ---- */

/* The boundary parameter of a multipart Content-Type: 1..70 bytes, quoted
   or a token (RFC 2046 section 5.1.1). */
static int mp_boundary(const char *ct, const char **b, size_t *blen) {
    for (const char *p = ct; *p; p++) {
        if (strncasecmp(p, "boundary=", 9) != 0 || (p > ct && p[-1] != ';' && p[-1] != ' '))
            continue;
        p += 9;
        const char *e;
        if (*p == '"') {
            e = strchr(++p, '"');
            if (!e) return RD_EPARSE;
        } else {
            e = p;
            while (*e && *e != ';' && *e != ' ' && *e != '\t') e++;
        }
        if (e == p || e - p > 70) return RD_EPARSE;
        *b = p;
        *blen = (size_t)(e - p);
        return 0;
    }
    return RD_EPARSE;
}

/* The value of parameter `name` in a Content-Disposition line [h, end). */
static bool mp_name(const char *h, const char *end, const char **v, size_t *vlen) {
    const char *p = h;
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *pe = semi ? semi : end;
        while (p < pe && (*p == ' ' || *p == '\t')) p++;
        if (pe - p > 5 && strncasecmp(p, "name=", 5) == 0) {
            p += 5;
            if (*p == '"') {
                const char *q = memchr(p + 1, '"', (size_t)(pe - p - 1));
                if (!q) return false;
                *v = p + 1;
                *vlen = (size_t)(q - p - 1);
            } else {
                const char *q = pe;
                while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) q--;
                *v = p;
                *vlen = (size_t)(q - p);
            }
            return true;
        }
        p = pe + 1;
    }
    return false;
}

/* Past one line ending (CRLF, or a bare LF some senders use); NULL if none. */
static const char *mp_eol(const char *p, const char *end) {
    if (p < end && *p == '\r') p++;
    return p < end && *p == '\n' ? p + 1 : NULL;
}

int rd_form_parse_multipart(rd_form_t *f, const char *content_type, const char *s, size_t len) {
    rd_form_deinit(f);
    const char *b;
    size_t blen;
    if (!content_type || mp_boundary(content_type, &b, &blen) != 0) return RD_EPARSE;
    char delim[76] = "--";
    memcpy(delim + 2, b, blen);
    size_t dl = blen + 2;
    const char *end = s + len;
    /* Pass 1: count delimiters (bounds the pair array before allocating). */
    size_t n = 0;
    for (const char *p = s; (p = memmem(p, (size_t)(end - p), delim, dl)) != NULL; p += dl)
        if (++n > RD_FORM_MAX_PAIRS + 1) return RD_ELIMIT;
    if (n == 0) return RD_EPARSE;
    rd_form_pair_t *pairs;
    char *text;
    char *mem = alloc_pairs(n, len, &pairs, &text);
    if (!mem) return RD_ENOMEM;
    size_t t = 0, k = 0;

    /* The first delimiter opens the body (a preamble before it is ignored). */
    const char *p = memmem(s, len, delim, dl);
    if (p != s && (p[-1] != '\n')) goto bad;
    p += dl;
    for (;;) {
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') break; /* close delimiter */
        while (p < end && (*p == ' ' || *p == '\t')) p++;      /* transport padding */
        if (!(p = mp_eol(p, end))) goto bad;
        /* Part headers up to an empty line. */
        const char *name = NULL;
        size_t nlen = 0;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) goto bad;
            const char *le = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
            if (le == p) {
                p = nl + 1;
                break;
            }
            if (le - p > 20 && strncasecmp(p, "content-disposition:", 20) == 0) {
                const char *h = p + 20;
                while (h < le && (*h == ' ' || *h == '\t')) h++;
                if (le - h < 9 || strncasecmp(h, "form-data", 9) != 0) goto bad;
                if (!mp_name(h + 9, le, &name, &nlen)) goto bad;
            }
            p = nl + 1;
        }
        if (!name || k >= n) goto bad;
        /* The value runs to the line ending before the next delimiter. */
        const char *q = p;
        const char *d;
        for (;;) {
            d = memmem(q, (size_t)(end - q), delim, dl);
            if (!d) goto bad; /* cut body: no closing delimiter */
            if (d > p && d[-1] == '\n') break;
            q = d + 1;
        }
        const char *ve = d - 1;
        if (ve > p && ve[-1] == '\r') ve--;
        rd_form_pair_t *pp = &pairs[k++];
        pp->key = text + t;
        memcpy(text + t, name, nlen);
        text[t + nlen] = '\0';
        pp->klen = nlen;
        t += nlen + 1;
        pp->val = text + t;
        pp->vlen = (size_t)(ve - p);
        memcpy(text + t, p, pp->vlen);
        text[t + pp->vlen] = '\0';
        t += pp->vlen + 1;
        p = d + dl;
    }
    rd_assert(t <= len + 2 * n);
    if (k == 0) {
        rd_free(mem);
        return 0;
    }
    f->pairs = pairs;
    f->n = k;
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
