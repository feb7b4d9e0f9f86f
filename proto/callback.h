/*
 * callback.h — what a provider tells us about a call, in one struct:
 * status callbacks, call-detail (poll) responses and the response to a
 * call request, for every provider wire format (SPEC section 5,
 * "Providers"). Also the attempt key, Twilio's request signature and a
 * constant-time compare for callback secrets.
 *
 * Pure: no I/O, no clock. Every byte parsed here comes from the network, so
 * every length is bounded and nothing is asserted about the input; a
 * parser either fills the struct completely or returns an error
 * (fuzzed: tests/fuzz/fuzz_callback.c).
 *
 * Status vocabulary -> outcome (proto/outcome.h):
 *
 *   provider  status                              terminal  outcome
 *   exotel    completed                            yes       COMPLETED
 *             busy | no-answer | failed            yes       BUSY | NO_ANSWER | FAILED
 *             canceled                             yes       CANCELED
 *             queued | ringing | in-progress       no        IN_PROGRESS
 *   twilio    completed                            yes       COMPLETED
 *             busy | no-answer | failed | canceled yes       as named
 *             queued | initiated | ringing |
 *             in-progress                          no        IN_PROGRESS
 *
 * Status names are matched case-insensitively ("Completed" has been seen
 * in the wild); anything else is RD_EPARSE (a 400 for a callback).
 *
 * AnsweredBy -> rd_answered_by_t: exotel Human -> HUMAN, Machine ->
 * MACHINE, NotSure / NA / absent -> UNKNOWN; twilio human -> HUMAN,
 * machine_start | machine_end_* | fax -> MACHINE, unknown / absent ->
 * UNKNOWN. Exotel reports it per leg (Legs[i][AnsweredBy] in forms,
 * "Legs":[{"AnsweredBy":..}] in JSON): a machine on any leg wins (in agent
 * mode the agent leg is a person, the customer leg is the one that may be a
 * machine), then a human on any leg.
 *
 * Times: exotel sends "YYYY-MM-DD HH:MM:SS" in India time (+05:30) without
 * an offset; an explicit offset or 'Z' is honoured if present. Twilio sends
 * RFC 2822 ("Tue, 10 Aug 2010 08:02:17 +0000"); ISO-8601 is accepted too.
 * A twilio form callback has no start time: it is derived as Timestamp
 * minus CallDuration when both are present.
 *
 * Thread safety: pure; any thread.
 */
#ifndef RD_CALLBACK_H
#define RD_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/outcome.h"

typedef enum { RD_PROV_EXOTEL = 0, RD_PROV_TWILIO = 1, RD_PROV__COUNT } rd_prov_t;

/* "exotel" / "twilio" (exact). Returns 0 or RD_EINVAL. */
int rd_prov_parse(const char *name, size_t len, rd_prov_t *out);
/* Static name; "?" when out of range. */
const char *rd_prov_name(rd_prov_t p);

#define RD_CALL_ID_MAX 64     /* provider call ids: exotel 32 hex, twilio "CA" + 32 hex */
#define RD_ATTEMPT_KEY_MAX 96 /* "<campaign (<=64)>:<lease token (<=20 digits)>" */
#define RD_CB_STATUS_MAX 23

typedef struct rd_call_status {
    rd_prov_t provider;
    char call_id[RD_CALL_ID_MAX + 1];         /* never empty after a successful parse */
    char attempt_key[RD_ATTEMPT_KEY_MAX + 1]; /* "" when absent; else a valid key */
    char status[RD_CB_STATUS_MAX + 1];        /* provider's word, lower-cased */
    bool terminal;
    rd_outcome_t outcome; /* IN_PROGRESS when !terminal */
    rd_answered_by_t answered_by;
    int64_t start_ms, end_ms; /* unix ms, 0 when unknown */
    int32_t duration_s;       /* call duration, -1 when unknown */
    /* exotel status callbacks: the outcome of the first leg (Legs[0] — in
       Connect Two Numbers the agent's, called first; in flow mode the
       customer's), IN_PROGRESS when not reported. Not read from call
       resources (polls). twilio: the outcome of the call we placed (in
       agent mode the agent's leg) when terminal and not customer_leg. */
    rd_outcome_t first_leg;
    /* twilio: a <Dial><Number> leg's callback (ParentCallSid set; call_id
       is then the parent's, the call we placed) — in agent mode the
       customer's leg, whose status is the customer's outcome. */
    bool customer_leg;
} rd_call_status_t;

/*
 * A status callback: the POST body and the raw query string of the
 * callback URL (may be NULL/0), whose `a` parameter carries the attempt
 * key. Bodies by content_type: exotel multipart/form-data (its default),
 * application/x-www-form-urlencoded or application/json; twilio
 * urlencoded. content_type may be NULL (then an exotel body starting with
 * '{' is JSON, anything else a urlencoded form). The attempt key comes
 * from `a=` first, then exotel's CustomField.
 * Returns 0; RD_EMEDIATYPE (any other content type: a 415); RD_EPARSE
 * (malformed body, unknown status, missing call id, malformed attempt
 * key, oversized field); RD_ENOMEM.
 */
int rd_callback_parse(rd_prov_t p, const char *content_type, const char *body, size_t len,
                      const char *query, size_t qlen, rd_call_status_t *out);
/*
 * The same without the allocation-free readers (rd_callback_parse reads the
 * attempt key of an escape-free query in place and scans a JSON body of up
 * to 8 KiB without jansson, bailing to these general readers on anything
 * unusual, duplicates included); the two always agree (fuzzed). For tests
 * and the fuzzer.
 */
int rd_callback_parse_slow(rd_prov_t p, const char *content_type, const char *body, size_t len,
                           const char *query, size_t qlen, rd_call_status_t *out);

/*
 * A call resource in JSON: exotel `{"Call":{"Sid":..,"Status":..,...}}`
 * (Connect response and call details alike), twilio's call object
 * (`{"sid":..,"status":..,"answered_by":..,"start_time":..}`, Calls.json
 * response and GET Calls/{sid}.json alike). Same returns as above.
 */
int rd_call_json_parse(rd_prov_t p, const char *body, size_t len, rd_call_status_t *out);
/*
 * The same through jansson only. rd_call_json_parse tries an allocation-free
 * scanner first and falls back to this on anything unusual; the two always
 * agree (fuzzed). For tests and the fuzzer.
 */
int rd_call_json_parse_slow(rd_prov_t p, const char *body, size_t len, rd_call_status_t *out);

/* ---- attempt keys: "<campaign>:<lease token>" (TEAM conventions) ---- */

/*
 * Validates and splits a key: campaign [A-Za-z0-9_.-]{1,64}, then ':', then
 * a decimal token 1..20 digits without leading zero that fits uint64.
 * campaign (may be NULL) receives the NUL-terminated name (cap >= 65).
 * Returns 0 or RD_EPARSE.
 */
int rd_attempt_key_parse(const char *key, size_t len, char *campaign, size_t cap, uint64_t *token);
/* Writes "<campaign>:<token>" into buf. Returns 0, RD_EINVAL (bad name) or RD_ERANGE. */
int rd_attempt_key_format(char *buf, size_t cap, const char *campaign, uint64_t token);

/* ---- secrets and signatures ---- */

/*
 * Compares a received value with a secret in time that depends only on the
 * secret's length (never on where the bytes differ). true when equal.
 */
bool rd_secret_equal(const char *got, size_t got_len, const char *secret, size_t secret_len);

#define RD_TWILIO_SIG_LEN 28 /* base64 of a 20-byte SHA-1 MAC */

/*
 * X-Twilio-Signature: base64(HMAC-SHA1(auth_token, url + k1 + v1 + k2 + v2
 * ...)) with the POST parameters sorted by key (bytewise; equal keys by
 * value; an identical key=value pair repeated counts once, as in Twilio's
 * own validators). url is the full URL the provider was given, query
 * included.
 * form_body is the raw x-www-form-urlencoded body (may be NULL/0).
 * Writes RD_TWILIO_SIG_LEN chars + NUL to out. Returns 0, RD_EPARSE (body
 * not a valid form), RD_ELIMIT, RD_ENOMEM or RD_EIO (OpenSSL failure).
 */
int rd_twilio_signature(const char *auth_token, const char *url, size_t url_len,
                        const char *form_body, size_t body_len, char out[RD_TWILIO_SIG_LEN + 1]);
/* Computes the signature and compares it with `sig` in constant time. */
bool rd_twilio_signature_ok(const char *auth_token, const char *url, size_t url_len,
                            const char *form_body, size_t body_len, const char *sig,
                            size_t sig_len);

/* Outcome of a provider status word (see the table above). Returns 0 or RD_EPARSE. */
int rd_prov_status_map(rd_prov_t p, const char *status, bool *terminal, rd_outcome_t *outcome);
/* AnsweredBy word -> enum (unknown words -> UNKNOWN). */
rd_answered_by_t rd_prov_answered_by_map(rd_prov_t p, const char *word);

#endif
