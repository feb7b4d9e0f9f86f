/*
 * text.c — the printable copy of untrusted text and the producer-text
 * check (see text.h). Byte by byte, no locale: the rule must be the same in
 * every process.
 */
#include "proto/text.h"

#include <string.h>

bool rd_text_is_control(unsigned char ch) { return ch < 0x20 || ch == 0x7f; }

void rd_text_printable_n(char *dst, size_t dstlen, const char *s, size_t len) {
    size_t o = 0;
    bool cut = len > dstlen - 1;
    size_t keep = cut ? dstlen - 4 : len;
    for (size_t i = 0; i < keep; i++) {
        unsigned char ch = (unsigned char)s[i];
        bool ok = ch < 0x80 && !rd_text_is_control(ch) && ch != '"' && ch != '\\';
        dst[o++] = ok ? (char)ch : '?';
    }
    if (cut) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = '\0';
}

void rd_text_printable(char *dst, size_t dstlen, const char *s) {
    rd_text_printable_n(dst, dstlen, s, strlen(s));
}

void rd_text_quoted(char *dst, size_t dstlen, const char *s, size_t len) {
    dst[0] = '"';
    rd_text_printable_n(dst + 1, dstlen - 2, s, len);
    size_t n = strlen(dst);
    dst[n] = '"';
    dst[n + 1] = '\0';
}

/*
 * The producer-text check: a strict UTF-8 decoder (Unicode table 3-7: the
 * second byte's range depends on the first, which rules out overlong forms,
 * surrogates U+D800..DFFF and code points past U+10FFFF) that also refuses
 * the control characters (rd_text_is_control, and C1 U+0080..009F). One
 * pass, no allocation.
 */
bool rd_text_valid(const char *str, size_t len, size_t *bad_at) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c < 0x80) {
            if (rd_text_is_control((unsigned char)c)) goto bad;
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 2;
            /* C1 controls U+0080..009F are C2 80..C2 9F */
            if (c == 0xc2) lo = 0xa0;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 3;
            if (c == 0xe0) lo = 0xa0;
            if (c == 0xed) hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 4;
            if (c == 0xf0) lo = 0x90;
            if (c == 0xf4) hi = 0x8f;
        } else {
            goto bad;
        }
        if (len - i < n || s[i + 1] < lo || s[i + 1] > hi) goto bad;
        for (size_t k = 2; k < n; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xbf) goto bad;
        i += n;
    }
    return true;
bad:
    if (bad_at) *bad_at = i;
    return false;
}
