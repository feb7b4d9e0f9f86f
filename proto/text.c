/*
 * text.c — the producer-text check (contract in text.h).
 *
 * A strict UTF-8 decoder (RFC 3629 table 3-7 of Unicode: the second byte's
 * range depends on the first, which rules out overlong forms, surrogates
 * U+D800..DFFF and code points past U+10FFFF) that also refuses the control
 * characters U+0000..001F, U+007F and U+0080..009F. One pass, no
 * allocation.
 */
#include "proto/text.h"

#include <stdint.h>

bool rd_text_valid(const char *str, size_t len, size_t *bad_at) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* range of the second byte */
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) goto bad;
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
