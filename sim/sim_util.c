/*
 * sim_util.c — small helpers of the simulator: a growable string builder
 * (sb_*: raw, printf, JSON string and form-field appends), the seeded
 * xoshiro256** generator (rng_*) and the E.164 shape check.
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

/* ---- small utilities ---- */

void rd_sim__sb_reserve(sb_t *b, size_t more) {
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) cap *= 2;
    b->p = rd_realloc(b->p, cap);
    b->cap = cap;
}

void rd_sim__sb_put(sb_t *b, const char *s, size_t n) {
    rd_sim__sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void rd_sim__sb_printf(sb_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (!b->p || (size_t)n + 1 > b->cap - b->len) {
        rd_sim__sb_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

/* JSON string literal (with quotes), or null when s is NULL. */
void rd_sim__sb_jstr(sb_t *b, const char *s) {
    if (!s) {
        SB_LIT(b, "null");
        return;
    }
    SB_LIT(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            rd_sim__sb_put(b, e, 2);
        } else if (rd_text_is_control(*c)) { /* proto/text.h: DEL too */
            rd_sim__sb_printf(b, "\\u%04x", *c);
        } else {
            rd_sim__sb_put(b, (const char *)c, 1);
        }
    }
    SB_LIT(b, "\"");
}

/* Appends key=value to a form body in b (escaped). */
void rd_sim__sb_form(sb_t *b, const char *k, const char *v) {
    for (;;) {
        size_t len = b->len;
        if (b->cap && rd_form_add(b->p, b->cap, &len, k, v ? v : "") == 0) {
            b->len = len;
            return;
        }
        rd_sim__sb_reserve(b, (strlen(k) + strlen(v ? v : "")) * 3 + 2);
    }
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rd_sim__rng_seed(rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t rd_sim__rng_next(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, 1). */
double rd_sim__rng_u(rng_t *r) { return (double)(rd_sim__rng_next(r) >> 11) * 0x1.0p-53; }

double rd_sim__rng_range(rng_t *r, double lo, double hi) {
    return hi > lo ? lo + (hi - lo) * rd_sim__rng_u(r) : lo;
}

bool rd_sim__e164(const char *s) {
    if (!s || s[0] != '+') return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9') return false;
    return n >= 8 && n <= 15;
}
