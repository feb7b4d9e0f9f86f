/*
 * text.c — the printable copy of untrusted text (see text.h). Byte by byte,
 * no locale: the rule must be the same in every process.
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
