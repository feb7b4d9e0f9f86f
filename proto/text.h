/*
 * text.h — what redial accepts as text from producers: valid UTF-8 (no
 * overlong forms, no surrogates, nothing above U+10FFFF) with no control
 * character (C0, DEL, C1). Such bytes would be stored, dialled and sent on
 * in events, where consumers (JSON decoders, terminals, logs) break on
 * them; a producer's field that is not text is refused naming the field.
 *
 * Pure; any thread.
 */
#ifndef RD_TEXT_H
#define RD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s[0..len) is text as above. When false and bad_at is not NULL,
 * *bad_at is the offset of the first byte that is not.
 */
bool rd_text_valid(const char *s, size_t len, size_t *bad_at);

#endif
