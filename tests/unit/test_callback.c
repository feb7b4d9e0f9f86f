/* Unit tests: provider callback / call JSON parsing, attempt keys, Twilio signatures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/callback.h"
#include "proto/rd.h"

typedef struct {
    const char *word;
    bool terminal;
    rd_outcome_t outcome;
} row_t;

static const row_t exotel_rows[] = {
    {"completed", true, RD_OUT_COMPLETED},  {"busy", true, RD_OUT_BUSY},
    {"no-answer", true, RD_OUT_NO_ANSWER},  {"failed", true, RD_OUT_FAILED},
    {"canceled", true, RD_OUT_CANCELED},    {"queued", false, RD_OUT_IN_PROGRESS},
    {"ringing", false, RD_OUT_IN_PROGRESS}, {"in-progress", false, RD_OUT_IN_PROGRESS},
};
static const row_t twilio_rows[] = {
    {"completed", true, RD_OUT_COMPLETED},      {"busy", true, RD_OUT_BUSY},
    {"no-answer", true, RD_OUT_NO_ANSWER},      {"failed", true, RD_OUT_FAILED},
    {"canceled", true, RD_OUT_CANCELED},        {"queued", false, RD_OUT_IN_PROGRESS},
    {"initiated", false, RD_OUT_IN_PROGRESS},   {"ringing", false, RD_OUT_IN_PROGRESS},
    {"in-progress", false, RD_OUT_IN_PROGRESS},
};

static int cb(rd_prov_t p, const char *ct, const char *body, const char *q, rd_call_status_t *o) {
    return rd_callback_parse(p, ct, body, strlen(body), q, q ? strlen(q) : 0, o);
}

/* Every exotel status, in all three wire shapes: form callback, JSON callback, call details. */
static void t_exotel_statuses(void **state) {
    (void)state;
    for (size_t i = 0; i < RD_ARRAY_LEN(exotel_rows); i++) {
        const row_t *r = &exotel_rows[i];
        char body[512];
        rd_call_status_t o;
        snprintf(body, sizeof body,
                 "CallSid=b6cfaf5f0a3c4d1e&Status=%s&CustomField=Pay_1%%3A17&"
                 "DateUpdated=2026-11-28+15%%3A30%%3A10",
                 r->word);
        assert_int_equal(cb(RD_PROV_EXOTEL, "application/x-www-form-urlencoded", body, NULL, &o),
                         0);
        assert_string_equal(o.call_id, "b6cfaf5f0a3c4d1e");
        assert_string_equal(o.attempt_key, "Pay_1:17");
        assert_string_equal(o.status, r->word);
        assert_int_equal(o.terminal, r->terminal);
        assert_int_equal(o.outcome, r->outcome);
        /* DateUpdated is India time: 15:30:10 +05:30 == 10:00:10Z. */
        assert_int_equal(o.end_ms, r->terminal ? 1795860010000LL : 0);

        snprintf(body, sizeof body,
                 "{\"CallSid\":\"b6cf\",\"EventType\":\"terminal\",\"Status\":\"%s\","
                 "\"CustomField\":\"Pay_1:18\",\"ConversationDuration\":\"12\"}",
                 r->word);
        assert_int_equal(cb(RD_PROV_EXOTEL, "application/json", body, NULL, &o), 0);
        assert_int_equal(o.outcome, r->outcome);
        assert_int_equal(o.terminal, r->terminal);
        assert_string_equal(o.attempt_key, "Pay_1:18");
        assert_int_equal(o.duration_s, 12);

        snprintf(body, sizeof body,
                 "{\"Call\":{\"Sid\":\"b6cf\",\"Status\":\"%s\",\"Duration\":7,"
                 "\"StartTime\":\"2026-11-28 15:30:00\",\"EndTime\":\"2026-11-28 15:30:07\"}}",
                 r->word);
        assert_int_equal(rd_call_json_parse(RD_PROV_EXOTEL, body, strlen(body), &o), 0);
        assert_int_equal(o.outcome, r->outcome);
        assert_int_equal(o.terminal, r->terminal);
        assert_int_equal(o.duration_s, 7);
        assert_int_equal(o.start_ms, 1795860000000LL);
        assert_int_equal(o.end_ms, 1795860007000LL);
        assert_string_equal(o.attempt_key, "");
    }
}

static void t_twilio_statuses(void **state) {
    (void)state;
    for (size_t i = 0; i < RD_ARRAY_LEN(twilio_rows); i++) {
        const row_t *r = &twilio_rows[i];
        char body[512];
        rd_call_status_t o;
        snprintf(body, sizeof body,
                 "AccountSid=AC1&CallSid=CA0123456789abcdef&CallStatus=%s&CallDuration=30&"
                 "Timestamp=Sat%%2C+28+Nov+2026+10%%3A00%%3A30+%%2B0000&SequenceNumber=3",
                 r->word);
        assert_int_equal(cb(RD_PROV_TWILIO, NULL, body, "a=Sales%3A99", &o), 0);
        assert_string_equal(o.call_id, "CA0123456789abcdef");
        assert_string_equal(o.attempt_key, "Sales:99");
        assert_int_equal(o.terminal, r->terminal);
        assert_int_equal(o.outcome, r->outcome);
        assert_int_equal(o.duration_s, 30);
        if (r->terminal) {
            assert_int_equal(o.end_ms, 1795860030000LL);
            assert_int_equal(o.start_ms, 1795860000000LL);
        }

        snprintf(body, sizeof body,
                 "{\"sid\":\"CA01\",\"status\":\"%s\",\"answered_by\":null,\"duration\":\"5\","
                 "\"start_time\":\"Sat, 28 Nov 2026 10:00:00 +0000\",\"end_time\":null}",
                 r->word);
        assert_int_equal(rd_call_json_parse(RD_PROV_TWILIO, body, strlen(body), &o), 0);
        assert_int_equal(o.outcome, r->outcome);
        assert_int_equal(o.terminal, r->terminal);
        assert_int_equal(o.start_ms, 1795860000000LL);
        assert_int_equal(o.end_ms, 0);
        assert_int_equal(o.duration_s, 5);
        assert_int_equal(o.answered_by, RD_ANSWERED_UNKNOWN);
    }
}

static void t_answered_by(void **state) {
    (void)state;
    static const struct {
        const char *w;
        rd_answered_by_t a;
    } ex[] = {{"Human", RD_ANSWERED_HUMAN},
              {"Machine", RD_ANSWERED_MACHINE},
              {"NotSure", RD_ANSWERED_UNKNOWN},
              {"NA", RD_ANSWERED_UNKNOWN}},
      tw[] = {{"human", RD_ANSWERED_HUMAN},
              {"machine_start", RD_ANSWERED_MACHINE},
              {"machine_end_beep", RD_ANSWERED_MACHINE},
              {"machine_end_silence", RD_ANSWERED_MACHINE},
              {"machine_end_other", RD_ANSWERED_MACHINE},
              {"fax", RD_ANSWERED_MACHINE},
              {"unknown", RD_ANSWERED_UNKNOWN}};
    rd_call_status_t o;
    char body[512];
    for (size_t i = 0; i < RD_ARRAY_LEN(ex); i++) {
        snprintf(body, sizeof body,
                 "CallSid=x1&Status=completed&Legs%%5B0%%5D%%5BAnsweredBy%%5D=%s", ex[i].w);
        assert_int_equal(cb(RD_PROV_EXOTEL, NULL, body, NULL, &o), 0);
        assert_int_equal(o.answered_by, ex[i].a);
        snprintf(body, sizeof body,
                 "{\"CallSid\":\"x1\",\"Status\":\"completed\",\"Legs\":[{\"AnsweredBy\":\"%s\"}]}",
                 ex[i].w);
        assert_int_equal(cb(RD_PROV_EXOTEL, NULL, body, NULL, &o), 0);
        assert_int_equal(o.answered_by, ex[i].a);
    }
    for (size_t i = 0; i < RD_ARRAY_LEN(tw); i++) {
        snprintf(body, sizeof body, "CallSid=CA1&CallStatus=completed&AnsweredBy=%s", tw[i].w);
        assert_int_equal(cb(RD_PROV_TWILIO, NULL, body, NULL, &o), 0);
        assert_int_equal(o.answered_by, tw[i].a);
    }
    /* Agent mode: agent leg human, customer leg machine -> machine. */
    assert_int_equal(cb(RD_PROV_EXOTEL, NULL,
                        "CallSid=x&Status=completed&Legs[0][AnsweredBy]=Human&"
                        "Legs[1][AnsweredBy]=Machine",
                        NULL, &o),
                     0);
    assert_int_equal(o.answered_by, RD_ANSWERED_MACHINE);
    assert_int_equal(cb(RD_PROV_EXOTEL, NULL,
                        "CallSid=x&Status=completed&Legs[0][AnsweredBy]=NA&"
                        "Legs[1][AnsweredBy]=Human",
                        NULL, &o),
                     0);
    assert_int_equal(o.answered_by, RD_ANSWERED_HUMAN);
}

static void t_exotel_connect_response(void **state) {
    (void)state;
    const char *body =
        "{\"Call\":{\"Sid\":\"3d8c1b5f0c\",\"ParentCallSid\":null,\"DateCreated\":"
        "\"2026-11-28 15:30:00\",\"AccountSid\":\"acme\",\"To\":\"+919876543210\","
        "\"From\":\"+919876543211\",\"Status\":\"in-progress\",\"StartTime\":"
        "\"2026-11-28 15:30:00\",\"EndTime\":null,\"Duration\":null,\"Price\":null}}";
    rd_call_status_t o;
    assert_int_equal(rd_call_json_parse(RD_PROV_EXOTEL, body, strlen(body), &o), 0);
    assert_string_equal(o.call_id, "3d8c1b5f0c");
    assert_false(o.terminal);
    assert_int_equal(o.outcome, RD_OUT_IN_PROGRESS);
    assert_int_equal(o.start_ms, 1795860000000LL);
    assert_int_equal(o.duration_s, -1);
    /* Numbers as strings, status capitalised, explicit offset honoured. */
    body = "{\"Call\":{\"Sid\":12345,\"Status\":\"Completed\",\"Duration\":\"9\","
           "\"StartTime\":\"2026-11-28T10:00:00Z\"}}";
    assert_int_equal(rd_call_json_parse(RD_PROV_EXOTEL, body, strlen(body), &o), 0);
    assert_string_equal(o.call_id, "12345");
    assert_string_equal(o.status, "completed");
    assert_int_equal(o.outcome, RD_OUT_COMPLETED);
    assert_int_equal(o.duration_s, 9);
    assert_int_equal(o.start_ms, 1795860000000LL);
}

static void t_bad_input(void **state) {
    (void)state;
    rd_call_status_t o;
    static const char *const bad_exotel[] = {
        "Status=completed",                                                 /* no call id */
        "CallSid=x&Status=answered",                                        /* unknown status */
        "CallSid=x",                                                        /* no status */
        "CallSid=a/b&Status=busy",                                          /* unsafe call id */
        "CallSid=x&Status=busy&CustomField=nocolon",                        /* bad attempt key */
        "CallSid=x&Status=busy&CustomField=a:0",                            /* token 0 */
        "CallSid=x&Status=busy&CustomField=a:99999999999999999999",         /* > uint64 */
        "CallSid=%zz&Status=busy",                                          /* bad escape */
        "{\"CallSid\":\"x\"",                                               /* truncated JSON */
        "{\"CallSid\":\"x\",\"Status\":\"busy\",\"Status\":\"completed\"}", /* dup key */
        "{\"CallSid\":[1],\"Status\":\"busy\"}",
        "{\"Call\":5}",
        "[]",
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(bad_exotel); i++) {
        assert_int_equal(cb(RD_PROV_EXOTEL, NULL, bad_exotel[i], NULL, &o), RD_EPARSE);
        assert_string_equal(o.call_id, "");
    }
    char longid[200];
    memset(longid, 'a', sizeof longid);
    memcpy(longid, "CallSid=", 8);
    snprintf(longid + 8 + 70, sizeof longid - 78, "&Status=busy");
    assert_int_equal(cb(RD_PROV_EXOTEL, NULL, longid, NULL, &o), RD_EPARSE);
    /* Bad `a=` in the query. */
    assert_int_equal(cb(RD_PROV_TWILIO, NULL, "CallSid=CA1&CallStatus=busy", "a=x", &o), RD_EPARSE);
    assert_int_equal(cb(RD_PROV_TWILIO, NULL, "CallSid=CA1&CallStatus=busy", "a=%", &o), RD_EPARSE);
    /* Twilio JSON bodies are not callbacks. */
    assert_int_equal(cb(RD_PROV_TWILIO, NULL, "{\"sid\":\"CA1\",\"status\":\"busy\"}", NULL, &o),
                     RD_EPARSE);
    assert_int_equal(rd_call_json_parse(RD_PROV_TWILIO, "{}", 2, &o), RD_EPARSE);
    assert_int_equal(rd_call_json_parse(RD_PROV_TWILIO, "nope", 4, &o), RD_EPARSE);
}

static void t_query_key_wins(void **state) {
    (void)state;
    rd_call_status_t o;
    assert_int_equal(
        cb(RD_PROV_EXOTEL, NULL, "CallSid=x&Status=busy&CustomField=A:1", "a=B%3A2&other=1", &o),
        0);
    assert_string_equal(o.attempt_key, "B:2");
}

static void t_attempt_key(void **state) {
    (void)state;
    char name[65], buf[RD_ATTEMPT_KEY_MAX + 1];
    uint64_t tok;
    assert_int_equal(rd_attempt_key_parse("Pay.me-1:42", 11, name, sizeof name, &tok), 0);
    assert_string_equal(name, "Pay.me-1");
    assert_int_equal(tok, 42);
    assert_int_equal(rd_attempt_key_parse("a:b:7", 5, name, sizeof name, &tok), RD_EPARSE);
    assert_int_equal(rd_attempt_key_parse(":7", 2, name, sizeof name, &tok), RD_EPARSE);
    assert_int_equal(rd_attempt_key_parse("a:", 2, name, sizeof name, &tok), RD_EPARSE);
    assert_int_equal(rd_attempt_key_parse("a:07", 4, name, sizeof name, &tok), RD_EPARSE);
    assert_int_equal(rd_attempt_key_parse("a:18446744073709551615", 22, name, sizeof name, &tok),
                     0);
    assert_true(tok == UINT64_MAX);
    assert_int_equal(rd_attempt_key_parse("a:18446744073709551616", 22, name, sizeof name, &tok),
                     RD_EPARSE);
    assert_int_equal(rd_attempt_key_format(buf, sizeof buf, "Pay_1", 17), 0);
    assert_string_equal(buf, "Pay_1:17");
    assert_int_equal(rd_attempt_key_format(buf, sizeof buf, "bad name", 17), RD_EINVAL);
    assert_int_equal(rd_attempt_key_format(buf, 4, "Pay_1", 17), RD_ERANGE);
}

static void t_secret_equal(void **state) {
    (void)state;
    assert_true(rd_secret_equal("s3cret", 6, "s3cret", 6));
    assert_false(rd_secret_equal("s3cres", 6, "s3cret", 6));
    assert_false(rd_secret_equal("s3cre", 5, "s3cret", 6));
    assert_false(rd_secret_equal("s3cretX", 7, "s3cret", 6));
    assert_false(rd_secret_equal("", 0, "", 0)); /* an empty secret never matches */
}

static void t_twilio_signature(void **state) {
    (void)state;
    /* Twilio's documented example (auth token 12345). */
    const char *url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const char *body = "To=%2B18005551212&From=%2B14158675310&Digits=1234&Caller=%2B14158675310&"
                       "CallSid=CA1234567890ABCDE";
    char sig[RD_TWILIO_SIG_LEN + 1];
    assert_int_equal(rd_twilio_signature("12345", url, strlen(url), body, strlen(body), sig), 0);
    assert_string_equal(sig, "GvWf1cFY/Q7PnoempGyD5oXAezc=");
    assert_true(
        rd_twilio_signature_ok("12345", url, strlen(url), body, strlen(body), sig, strlen(sig)));
    assert_false(
        rd_twilio_signature_ok("12346", url, strlen(url), body, strlen(body), sig, strlen(sig)));
    /* Any change to URL or body breaks it. */
    assert_false(rd_twilio_signature_ok("12345", url, strlen(url) - 1, body, strlen(body), sig,
                                        strlen(sig)));
    assert_false(rd_twilio_signature_ok("12345", url, strlen(url), body, strlen(body) - 1, sig,
                                        strlen(sig)));
    assert_false(rd_twilio_signature_ok("12345", url, strlen(url), body, strlen(body), sig, 27));
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), "a=%", 3, sig), RD_EPARSE);
    /* A repeated identical pair counts once (twilio-node's validateRequest). */
    char once[RD_TWILIO_SIG_LEN + 1], twice[RD_TWILIO_SIG_LEN + 1];
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), "d=1&x=2", 7, once), 0);
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), "d=1&x=2&d=1", 11, twice), 0);
    assert_string_equal(once, twice);
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), "d=1&x=2&d=2", 11, twice), 0);
    assert_string_not_equal(once, twice);
    /* A body with no pairs ("&") signs as the URL alone (UBSan: no qsort of NULL). */
    char sig2[RD_TWILIO_SIG_LEN + 1];
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), "&", 1, sig), 0);
    assert_int_equal(rd_twilio_signature("k", url, strlen(url), NULL, 0, sig2), 0);
    assert_string_equal(sig, sig2);
}

/* The allocation-free scanner and the jansson path agree, including where
   the scanner bails (escapes, reals) and on duplicates (last one counts). */
static void t_fast_equals_slow(void **state) {
    (void)state;
    static const struct {
        rd_prov_t p;
        const char *doc;
        int rc;
        rd_outcome_t outcome;
        rd_answered_by_t ab;
    } docs[] = {
        {RD_PROV_EXOTEL,
         "{\"Call\":{\"Sid\":\"b3f2\",\"Status\":\"completed\",\"Duration\":60,"
         "\"Legs\":[{\"Id\":1,\"AnsweredBy\":\"Human\"},{\"AnsweredBy\":\"Machine\","
         "\"AnsweredBy\":5}],\"EndTime\":null}}",
         0, RD_OUT_COMPLETED, RD_ANSWERED_HUMAN},
        {RD_PROV_EXOTEL, "{\"Call\":{\"Sid\":\"a\\u0041\",\"Status\":\"busy\",\"Duration\":7.0}}",
         0, RD_OUT_BUSY, 0}, /* unicode escapes and reals bail to jansson: "aA", 7 */
        {RD_PROV_EXOTEL, "{\"Call\":{\"Sid\":\"x\",\"Status\":\"busy\",\"Status\":\"failed\"}}", 0,
         RD_OUT_FAILED, 0},
        {RD_PROV_EXOTEL, "{\"Call\":{\"Sid\":\"x\",\"Status\":\"busy\"}} x", RD_EPARSE, 0, 0},
        {RD_PROV_EXOTEL, "{\"Call\":null}", RD_EPARSE, 0, 0},
        {RD_PROV_EXOTEL, "{\"Sid\":\"x\",\"Status\":\"no-answer\"}", 0, RD_OUT_NO_ANSWER, 0},
        {RD_PROV_TWILIO,
         "{\"sid\":\"CA1\",\"status\":\"completed\",\"answered_by\":\"machine_start\","
         "\"duration\":\"-0\",\"subresource_uris\":{\"a\":[1,{\"b\":true}]},\"price\":-0}",
         0, RD_OUT_COMPLETED, RD_ANSWERED_MACHINE},
        {RD_PROV_TWILIO, "{\"sid\":\"CA1\",\"status\":\"busy\",\"n\":01}", RD_EPARSE, 0, 0},
        {RD_PROV_TWILIO, "{\"sid\":\"CA1\",\"status\":\"busy\",\"n\":123456789012345678901}",
         RD_EPARSE, 0, 0},
    };
    for (size_t i = 0; i < RD_ARRAY_LEN(docs); i++) {
        rd_call_status_t a, b;
        size_t n = strlen(docs[i].doc);
        int ra = rd_call_json_parse(docs[i].p, docs[i].doc, n, &a);
        int rb = rd_call_json_parse_slow(docs[i].p, docs[i].doc, n, &b);
        if (ra != docs[i].rc) fail_msg("doc %zu: rc %d want %d", i, ra, docs[i].rc);
        assert_int_equal(ra, rb);
        assert_memory_equal(&a, &b, sizeof a);
        if (ra == 0) {
            assert_int_equal(a.outcome, docs[i].outcome);
            assert_int_equal(a.answered_by, docs[i].ab);
        }
    }
}

/* issue 9: exotel's default content type is multipart/form-data; every
   accepted type gives the same status; anything else is RD_EMEDIATYPE. */
static void t_exotel_content_types(void **state) {
    (void)state;
    rd_call_status_t o;
    const char *mp = "--xYzZY\r\n"
                     "Content-Disposition: form-data; name=\"CallSid\"\r\n\r\n"
                     "b6cfaf5f0a3c4d1e\r\n"
                     "--xYzZY\r\n"
                     "Content-Disposition: form-data; name=\"Status\"\r\n\r\n"
                     "no-answer\r\n"
                     "--xYzZY\r\n"
                     "Content-Disposition: form-data; name=\"CustomField\"\r\n"
                     "Content-Type: text/plain\r\n\r\n"
                     "Pay_1:17\r\n"
                     "--xYzZY\r\n"
                     "Content-Disposition: form-data; name=\"Legs[0][AnsweredBy]\"\r\n\r\n"
                     "Machine\r\n"
                     "--xYzZY\r\n"
                     "Content-Disposition: form-data; name=\"RecordingUrl\"\r\n\r\n"
                     "\r\n"
                     "--xYzZY--\r\n";
    assert_int_equal(cb(RD_PROV_EXOTEL, "multipart/form-data; boundary=xYzZY", mp, NULL, &o), 0);
    assert_string_equal(o.call_id, "b6cfaf5f0a3c4d1e");
    assert_string_equal(o.attempt_key, "Pay_1:17");
    assert_int_equal(o.outcome, RD_OUT_NO_ANSWER);
    assert_int_equal(o.answered_by, RD_ANSWERED_MACHINE);
    assert_int_equal(
        cb(RD_PROV_EXOTEL, "Multipart/Form-Data; charset=utf-8; boundary=\"xYzZY\"", mp, NULL, &o),
        0);
    assert_int_equal(o.outcome, RD_OUT_NO_ANSWER);
    assert_int_equal(cb(RD_PROV_EXOTEL, "application/x-www-form-urlencoded; charset=utf-8",
                        "CallSid=b6cf&Status=busy", NULL, &o),
                     0);
    assert_int_equal(o.outcome, RD_OUT_BUSY);
    assert_int_equal(cb(RD_PROV_EXOTEL, "application/json; charset=utf-8",
                        "{\"CallSid\":\"b6cf\",\"Status\":\"failed\"}", NULL, &o),
                     0);
    assert_int_equal(o.outcome, RD_OUT_FAILED);
    /* A cut multipart body, a missing boundary, a nameless part. */
    char cut[600];
    snprintf(cut, sizeof cut, "%.*s", (int)(strlen(mp) - 12), mp);
    assert_int_equal(cb(RD_PROV_EXOTEL, "multipart/form-data; boundary=xYzZY", cut, NULL, &o),
                     RD_EPARSE);
    assert_int_equal(cb(RD_PROV_EXOTEL, "multipart/form-data", mp, NULL, &o), RD_EPARSE);
    assert_int_equal(cb(RD_PROV_EXOTEL, "multipart/form-data; boundary=b",
                        "--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n--b--", NULL, &o),
                     RD_EPARSE);
    /* Anything else: unsupported, for both providers. */
    static const char *const others[] = {"text/plain", "application/xml", "multipart/mixed; b=1",
                                         "application/jsonp"};
    for (size_t i = 0; i < RD_ARRAY_LEN(others); i++)
        assert_int_equal(cb(RD_PROV_EXOTEL, others[i], "CallSid=b6cf&Status=busy", NULL, &o),
                         RD_EMEDIATYPE);
    assert_int_equal(cb(RD_PROV_TWILIO, "application/json",
                        "{\"CallSid\":\"CA1\",\"CallStatus\":\"busy\"}", NULL, &o),
                     RD_EMEDIATYPE);
    assert_int_equal(cb(RD_PROV_TWILIO, "application/x-www-form-urlencoded",
                        "CallSid=CA1&CallStatus=busy", NULL, &o),
                     0);
}

static void t_prov_names(void **state) {
    (void)state;
    rd_prov_t p;
    assert_int_equal(rd_prov_parse("twilio", 6, &p), 0);
    assert_int_equal(p, RD_PROV_TWILIO);
    assert_int_equal(rd_prov_parse("exotel", 6, &p), 0);
    assert_int_equal(p, RD_PROV_EXOTEL);
    assert_int_equal(rd_prov_parse("exote", 5, &p), RD_EINVAL);
    assert_string_equal(rd_prov_name(RD_PROV_TWILIO), "twilio");
    assert_string_equal(rd_prov_name((rd_prov_t)9), "?");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_exotel_statuses),  cmocka_unit_test(t_twilio_statuses),
        cmocka_unit_test(t_answered_by),      cmocka_unit_test(t_exotel_connect_response),
        cmocka_unit_test(t_bad_input),        cmocka_unit_test(t_query_key_wins),
        cmocka_unit_test(t_attempt_key),      cmocka_unit_test(t_secret_equal),
        cmocka_unit_test(t_twilio_signature), cmocka_unit_test(t_prov_names),
        cmocka_unit_test(t_fast_equals_slow), cmocka_unit_test(t_exotel_content_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
