/*
 * Fuzz target: provider callback and call-JSON parsing (proto/callback.c)
 * and the form decoder under it (proto/form.c).
 *
 * Input: first byte selects the parser; for callbacks and signatures the
 * rest is "<query or url>\n<body>". Properties checked on every accepted
 * input:
 *   - a status parse is deterministic and leaves a non-empty, bounded call
 *     id of safe characters, an empty or valid attempt key, a lower-case
 *     status that maps back to the same terminal flag and outcome, and
 *     IN_PROGRESS for every non-terminal status;
 *   - a refused input leaves the struct empty;
 *   - rd_call_json_parse (fast scanner, jansson fallback) and
 *     rd_call_json_parse_slow (jansson only) give the same answer, and so do
 *     rd_callback_parse and rd_callback_parse_slow (form and JSON bodies);
 *   - a decoded form re-encodes to a form that decodes to the same pairs;
 *   - a signature is deterministic, 28 base64 chars, and verifies.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/callback.h"
#include "proto/form.h"
#include "proto/rd.h"

static void check_status(const rd_call_status_t *o, int rc) {
    if (rc != 0) {
        rd_assert(o->call_id[0] == '\0' && o->attempt_key[0] == '\0');
        return;
    }
    size_t n = strnlen(o->call_id, sizeof o->call_id);
    rd_assert(n >= 1 && n <= RD_CALL_ID_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)o->call_id[i];
        rd_assert(isalnum(c) || c == '_' || c == '.' || c == '-');
    }
    size_t k = strnlen(o->attempt_key, sizeof o->attempt_key);
    rd_assert(k <= RD_ATTEMPT_KEY_MAX);
    if (k) rd_assert(rd_attempt_key_parse(o->attempt_key, k, NULL, 0, NULL) == 0);
    bool term;
    rd_outcome_t out;
    rd_assert(rd_prov_status_map(o->provider, o->status, &term, &out) == 0);
    rd_assert(term == o->terminal && out == o->outcome);
    for (const char *p = o->status; *p; p++) rd_assert(!isupper((unsigned char)*p));
    rd_assert((unsigned)o->outcome < RD_OUT__COUNT);
    if (!o->terminal) rd_assert(o->outcome == RD_OUT_IN_PROGRESS);
    rd_assert(o->answered_by == RD_ANSWERED_UNKNOWN || o->answered_by == RD_ANSWERED_HUMAN ||
              o->answered_by == RD_ANSWERED_MACHINE);
    rd_assert(o->duration_s >= -1);
}

static void split(const uint8_t *d, size_t n, const char **a, size_t *alen, const char **b,
                  size_t *blen) {
    const uint8_t *nl = memchr(d, '\n', n);
    *a = (const char *)d;
    *alen = nl ? (size_t)(nl - d) : 0;
    *b = nl ? (const char *)nl + 1 : (const char *)d;
    *blen = nl ? n - *alen - 1 : n;
}

static void fuzz_form(const char *s, size_t n) {
    rd_form_t f, g;
    rd_form_init(&f);
    rd_form_init(&g);
    if (rd_form_parse(&f, s, n) != 0) {
        rd_assert(f.n == 0);
        return;
    }
    size_t cap = 3 * n + 16, len = 0;
    char *buf = malloc(cap);
    buf[0] = '\0';
    for (size_t i = 0; i < f.n; i++) {
        if (i) buf[len++] = '&';
        rd_assert(rd_form_escape(buf, cap, &len, f.pairs[i].key, f.pairs[i].klen) == 0);
        buf[len++] = '=';
        rd_assert(rd_form_escape(buf, cap, &len, f.pairs[i].val, f.pairs[i].vlen) == 0);
    }
    rd_assert(rd_form_parse(&g, buf, len) == 0);
    rd_assert(g.n == f.n);
    for (size_t i = 0; i < f.n; i++) {
        rd_assert(g.pairs[i].klen == f.pairs[i].klen && g.pairs[i].vlen == f.pairs[i].vlen);
        rd_assert(memcmp(g.pairs[i].key, f.pairs[i].key, f.pairs[i].klen) == 0);
        rd_assert(memcmp(g.pairs[i].val, f.pairs[i].val, f.pairs[i].vlen) == 0);
        rd_assert(f.pairs[i].key[f.pairs[i].klen] == '\0');
        rd_assert(f.pairs[i].val[f.pairs[i].vlen] == '\0');
    }
    free(buf);
    rd_form_deinit(&g);
    rd_form_deinit(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 || size > 1 << 16) return 0;
    unsigned sel = data[0] % 7;
    const uint8_t *d = data + 1;
    size_t n = size - 1;
    const char *a, *b;
    size_t alen, blen;
    rd_call_status_t o1, o2;
    int r1, r2;
    switch (sel) {
    case 0:
    case 1: {
        rd_prov_t p = sel == 0 ? RD_PROV_EXOTEL : RD_PROV_TWILIO;
        split(d, n, &a, &alen, &b, &blen);
        r1 = rd_callback_parse(p, NULL, b, blen, a, alen, &o1);
        r2 = rd_callback_parse(p, NULL, b, blen, a, alen, &o2);
        rd_assert(r1 == r2 && memcmp(&o1, &o2, sizeof o1) == 0);
        check_status(&o1, r1);
        r2 = rd_callback_parse_slow(p, NULL, b, blen, a, alen, &o2);
        rd_assert(r1 == r2 && memcmp(&o1, &o2, sizeof o1) == 0);
        break;
    }
    case 2:
    case 3: {
        rd_prov_t p = sel == 2 ? RD_PROV_EXOTEL : RD_PROV_TWILIO;
        r1 = rd_call_json_parse(p, (const char *)d, n, &o1);
        r2 = rd_call_json_parse(p, (const char *)d, n, &o2);
        rd_assert(r1 == r2 && memcmp(&o1, &o2, sizeof o1) == 0);
        check_status(&o1, r1);
        /* The allocation-free scanner agrees with jansson. */
        r2 = rd_call_json_parse_slow(p, (const char *)d, n, &o2);
        rd_assert(r1 == r2 && memcmp(&o1, &o2, sizeof o1) == 0);
        break;
    }
    case 4:
        fuzz_form((const char *)d, n);
        break;
    case 6: {
        /* Exotel's default callback body, multipart/form-data (boundary
           "b0"): same properties as the urlencoded and JSON forms. */
        static const char ct[] = "multipart/form-data; boundary=b0";
        r1 = rd_callback_parse(RD_PROV_EXOTEL, ct, (const char *)d, n, NULL, 0, &o1);
        r2 = rd_callback_parse(RD_PROV_EXOTEL, ct, (const char *)d, n, NULL, 0, &o2);
        rd_assert(r1 == r2 && memcmp(&o1, &o2, sizeof o1) == 0);
        check_status(&o1, r1);
        rd_form_t f;
        rd_form_init(&f);
        if (rd_form_parse_multipart(&f, ct, (const char *)d, n) == 0)
            for (size_t i = 0; i < f.n; i++)
                rd_assert(f.pairs[i].klen + f.pairs[i].vlen <= n &&
                          !f.pairs[i].key[f.pairs[i].klen] && !f.pairs[i].val[f.pairs[i].vlen]);
        rd_form_deinit(&f);
        break;
    }
    case 5: {
        split(d, n, &a, &alen, &b, &blen);
        char s1[RD_TWILIO_SIG_LEN + 1], s2[RD_TWILIO_SIG_LEN + 1];
        r1 = rd_twilio_signature("token", a, alen, b, blen, s1);
        r2 = rd_twilio_signature("token", a, alen, b, blen, s2);
        rd_assert(r1 == r2);
        if (r1 == 0) {
            rd_assert(strlen(s1) == RD_TWILIO_SIG_LEN && strcmp(s1, s2) == 0);
            rd_assert(rd_twilio_signature_ok("token", a, alen, b, blen, s1, RD_TWILIO_SIG_LEN));
            rd_assert(!rd_twilio_signature_ok("tokem", a, alen, b, blen, s1, RD_TWILIO_SIG_LEN));
        }
        break;
    }
    }
    return 0;
}
