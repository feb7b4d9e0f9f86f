/*
 * text.h — the one sanitiser for untrusted text that redial echoes back
 * (error messages, API and CLI output, logs): what counts as a control
 * byte, and the printable copy every message uses.
 *
 * Untrusted text is anything a producer, a provider or an HTTP client
 * chose: numbers, ids, time zones, keys, provider names. Echoed raw it could
 * forge the "<field>: <reason>" shape of an error, break a JSON or logfmt
 * line, or put terminal escapes in an operator's log. The printable copy
 * keeps printable ASCII but '"' and '\' (so "+91..." stays readable) and
 * replaces every other byte by '?'. The logfmt writer (common/log.c) and
 * the campaign text checks (proto/campaign.c) use the same control-byte
 * test.
 *
 * It also says what redial accepts as text from producers (rd_text_valid):
 * valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF)
 * with no control character (C0, DEL, C1). Other bytes would be stored,
 * dialled and sent on in events, where consumers (JSON decoders,
 * terminals, logs) break on them; a producer's field that is not text is
 * refused naming the field (proto/job.c, store/enqueue.c).
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_TEXT_H
#define RD_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* A C0 control byte or DEL (0x00-0x1f, 0x7f). */
bool rd_text_is_control(unsigned char ch);

/*
 * True when s[0..len) is producer text as above. When false and bad_at is
 * not NULL, *bad_at is the offset of the first byte that is not.
 */
bool rd_text_valid(const char *s, size_t len, size_t *bad_at);

/*
 * Copies len bytes of untrusted s for a message: printable ASCII kept but
 * '"' and '\', anything else (control bytes, non-ASCII) replaced by '?',
 * truncated with "..." to fit. Always NUL-terminates (dstlen >= 4).
 */
void rd_text_printable_n(char *dst, size_t dstlen, const char *s, size_t len);

/* rd_text_printable_n of the NUL-terminated s. */
void rd_text_printable(char *dst, size_t dstlen, const char *s);

/* The printable copy inside double quotes (dstlen >= 6), for a field name
 * taken from the input ("\"bad?key\": unknown key"). */
void rd_text_quoted(char *dst, size_t dstlen, const char *s, size_t len);

#endif
