/* Unit tests: provider adapters (request building, answer classification) and backoff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "proto/form.h"
#include "proto/rd.h"
#include "workers/provider.h"

typedef struct {
    char url[1024];
    char body[4096];
    rd_http_call_t call;
    rd_form_t form;
} built_t;

static void built_init(built_t *b) {
    memset(b, 0, sizeof *b);
    b->call.url = b->url;
    b->call.url_cap = sizeof b->url;
    b->call.body = b->body;
    b->call.body_cap = sizeof b->body;
    rd_form_init(&b->form);
}

static void built_parse(built_t *b) {
    assert_int_equal(rd_form_parse(&b->form, b->body, b->call.body_len), 0);
}

static rd_account_cfg_t account(rd_prov_t kind) {
    rd_account_cfg_t a;
    rd_account_cfg_init(&a);
    a.kind = kind;
    a.base_url = "http://127.0.0.1:9/";
    a.sid = "acme";
    a.key = "key";
    a.token = "tok";
    return a;
}

static rd_dial_t dial(rd_mode_t mode) {
    rd_dial_t d;
    memset(&d, 0, sizeof d);
    d.mode = mode;
    strcpy(d.to, "+919876543210");
    strcpy(d.agent, "+919800000001");
    strcpy(d.caller_id, "08030000000");
    strcpy(d.flow, "12345");
    strcpy(d.status_callback, "http://e/callbacks/exotel/s3?a=Pay%3A7");
    strcpy(d.attempt_key, "Pay:7");
    d.ring_timeout_s = 30;
    d.time_limit_s = 600;
    return d;
}

static void t_exotel_requests(void **state) {
    (void)state;
    rd_account_cfg_t a = account(RD_PROV_EXOTEL);
    built_t b;
    /* Connect to Flow. */
    built_init(&b);
    rd_dial_t d = dial(RD_MODE_FLOW);
    assert_int_equal(rd_exotel_ops.dial(&a, &d, &b.call), 0);
    assert_true(b.call.post);
    assert_string_equal(b.url, "http://127.0.0.1:9/v1/Accounts/acme/Calls/connect.json");
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "From"), "+919876543210");
    assert_null(rd_form_get(&b.form, "To"));
    assert_string_equal(rd_form_get(&b.form, "Url"),
                        "http://my.exotel.com/acme/exoml/start_voice/12345");
    assert_string_equal(rd_form_get(&b.form, "CallerId"), "08030000000");
    assert_string_equal(rd_form_get(&b.form, "StatusCallback"),
                        "http://e/callbacks/exotel/s3?a=Pay%3A7");
    assert_string_equal(rd_form_get(&b.form, "StatusCallbackEvents[0]"), "terminal");
    assert_string_equal(rd_form_get(&b.form, "StatusCallbackContentType"), "application/json");
    assert_string_equal(rd_form_get(&b.form, "CustomField"), "Pay:7");
    assert_string_equal(rd_form_get(&b.form, "TimeLimit"), "600");
    assert_string_equal(rd_form_get(&b.form, "TimeOut"), "30");
    rd_form_deinit(&b.form);
    /* Connect Two Numbers. */
    built_init(&b);
    d = dial(RD_MODE_AGENT);
    assert_int_equal(rd_exotel_ops.dial(&a, &d, &b.call), 0);
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "From"), "+919800000001");
    assert_string_equal(rd_form_get(&b.form, "To"), "+919876543210");
    assert_null(rd_form_get(&b.form, "Url"));
    rd_form_deinit(&b.form);
    /* A full URL flow is used as is; agent mode without agent is refused. */
    built_init(&b);
    d = dial(RD_MODE_FLOW);
    strcpy(d.flow, "https://flows.example/f/1");
    assert_int_equal(rd_exotel_ops.dial(&a, &d, &b.call), 0);
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "Url"), "https://flows.example/f/1");
    rd_form_deinit(&b.form);
    d = dial(RD_MODE_AGENT);
    d.agent[0] = '\0';
    assert_int_equal(rd_exotel_ops.dial(&a, &d, &b.call), RD_EINVAL);
    /* Poll and SMS. */
    built_init(&b);
    assert_int_equal(rd_exotel_ops.poll(&a, "b6cf12", &b.call), 0);
    assert_false(b.call.post);
    assert_string_equal(b.url, "http://127.0.0.1:9/v1/Accounts/acme/Calls/b6cf12.json");
    built_init(&b);
    rd_sms_t s;
    memset(&s, 0, sizeof s);
    strcpy(s.to, "+919876543210");
    strcpy(s.from, "EXOTEL");
    strcpy(s.body, "Please call us back & soon");
    strcpy(s.dlt_entity_id, "1");
    strcpy(s.dlt_template_id, "2");
    assert_int_equal(rd_exotel_ops.sms(&a, &s, &b.call), 0);
    assert_string_equal(b.url, "http://127.0.0.1:9/v1/Accounts/acme/Sms/send.json");
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "Body"), "Please call us back & soon");
    rd_form_deinit(&b.form);
    /* A body that does not fit. */
    char tiny[16];
    rd_http_call_t c = {
        .url = b.url, .url_cap = sizeof b.url, .body = tiny, .body_cap = sizeof tiny};
    d = dial(RD_MODE_FLOW);
    assert_int_equal(rd_exotel_ops.dial(&a, &d, &c), RD_ERANGE);
}

static void t_twilio_requests(void **state) {
    (void)state;
    rd_account_cfg_t a = account(RD_PROV_TWILIO);
    built_t b;
    built_init(&b);
    rd_dial_t d = dial(RD_MODE_FLOW);
    d.machine_detection = RD_AMD_ENABLE;
    assert_int_equal(rd_twilio_ops.dial(&a, &d, &b.call), 0);
    assert_string_equal(b.url, "http://127.0.0.1:9/2010-04-01/Accounts/acme/Calls.json");
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "To"), "+919876543210");
    assert_string_equal(rd_form_get(&b.form, "From"), "08030000000");
    assert_string_equal(rd_form_get(&b.form, "Url"), "https://handler.twilio.com/twiml/12345");
    assert_string_equal(rd_form_get(&b.form, "Timeout"), "30");
    assert_string_equal(rd_form_get(&b.form, "TimeLimit"), "600");
    assert_string_equal(rd_form_get(&b.form, "MachineDetection"), "Enable");
    assert_string_equal(rd_form_get(&b.form, "StatusCallbackMethod"), "POST");
    size_t events = 0;
    bool completed = false;
    for (size_t i = 0; i < b.form.n; i++) {
        if (strcmp(b.form.pairs[i].key, "StatusCallbackEvent") == 0) {
            events++;
            if (strcmp(b.form.pairs[i].val, "completed") == 0) completed = true;
        }
    }
    assert_int_equal(events, 4);
    assert_true(completed);
    rd_form_deinit(&b.form);
    built_init(&b);
    d = dial(RD_MODE_AGENT);
    strcpy(d.status_callback, "http://e/callbacks/twilio/s3?a=Pay%3A7&h=1");
    assert_int_equal(rd_twilio_ops.dial(&a, &d, &b.call), 0);
    built_parse(&b);
    /* Agent mode: the agent is rung; the customer is a <Number> with its own callback. */
    assert_string_equal(rd_form_get(&b.form, "To"), "+919800000001");
    assert_string_equal(rd_form_get(&b.form, "Twiml"),
                        "<Response><Dial timeout=\"30\" timeLimit=\"600\"><Number "
                        "statusCallbackEvent=\"initiated ringing answered completed\" "
                        "statusCallbackMethod=\"POST\" "
                        "statusCallback=\"http://e/callbacks/twilio/s3?a=Pay%3A7&amp;h=1\">"
                        "+919876543210</Number></Dial></Response>");
    assert_null(rd_form_get(&b.form, "MachineDetection"));
    rd_form_deinit(&b.form);
    strcpy(d.agent, "");
    assert_int_equal(rd_twilio_ops.dial(&a, &d, &b.call), RD_EINVAL);
    built_init(&b);
    assert_int_equal(rd_twilio_ops.poll(&a, "CA0123", &b.call), 0);
    assert_string_equal(b.url, "http://127.0.0.1:9/2010-04-01/Accounts/acme/Calls/CA0123.json");
}

typedef struct {
    int status;
    const char *body;
    rd_work_kind_t kind;
    rd_res_kind_t want;
    rd_outcome_t outcome; /* when REFUSED */
} case_t;

static void run_cases(const rd_provider_ops_t *ops, const case_t *cs, size_t n) {
    for (size_t i = 0; i < n; i++) {
        rd_work_result_t r;
        memset(&r, 0, sizeof r);
        ops->classify(cs[i].kind, cs[i].status, cs[i].body, strlen(cs[i].body), &r);
        if (r.kind != cs[i].want)
            fail_msg("case %zu (http %d %s): got %s want %s", i, cs[i].status, cs[i].body,
                     rd_res_kind_name(r.kind), rd_res_kind_name(cs[i].want));
        if (r.kind == RD_RES_REFUSED) assert_int_equal(r.outcome, cs[i].outcome);
        assert_int_equal(r.http_status, cs[i].status);
        assert_true(r.reason[0] != '\0');
    }
}

static void t_exotel_classify(void **state) {
    (void)state;
    const case_t cs[] = {
        {200, "{\"Call\":{\"Sid\":\"abc\",\"Status\":\"in-progress\"}}", RD_WORK_DIAL,
         RD_RES_PLACED, 0},
        {200, "{\"Call\":{\"Sid\":\"abc\",\"Status\":\"busy\"}}", RD_WORK_POLL, RD_RES_STATUS, 0},
        {200, "not json", RD_WORK_DIAL, RD_RES_PLACED_UNKNOWN, 0},
        {200, "not json", RD_WORK_POLL, RD_RES_TRANSIENT, 0},
        {200, "<TwilioResponse><Call><Sid>abc</Sid></Call></TwilioResponse>", RD_WORK_DIAL,
         RD_RES_PLACED_UNKNOWN, 0},
        {200, "{\"Call\":{\"Sid\":\"abc\",\"Status\":null}}", RD_WORK_DIAL, RD_RES_PLACED, 0},
        {200, "{\"Call\":{\"Sid\":\"abc\",\"Stat", RD_WORK_DIAL, RD_RES_PLACED_UNKNOWN, 0},
        {200, "", RD_WORK_DIAL, RD_RES_PLACED_UNKNOWN, 0},
        {200, "{\"SMSMessage\":{\"Sid\":\"s\"}}", RD_WORK_SMS, RD_RES_SENT, 0},
        {400, "{\"RestException\":{\"Status\":400,\"Message\":\"To is not a valid phone number\"}}",
         RD_WORK_DIAL, RD_RES_REFUSED, RD_OUT_INVALID_NUMBER},
        {403,
         "{\"RestException\":{\"Status\":403,\"Message\":\"Call blocked: number is on DND "
         "(NDNC)\"}}",
         RD_WORK_DIAL, RD_RES_REFUSED, RD_OUT_DND},
        {400, "{\"RestException\":{\"Status\":400,\"Message\":\"Missing parameter\"}}",
         RD_WORK_DIAL, RD_RES_REJECTED, 0},
        {400,
         "{\"RestException\":{\"Status\":400,\"Message\":\"CallerId 0803 is not a valid "
         "number\"}}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {400, "{\"RestException\":{\"Status\":400,\"Message\":\"Invalid Url\"}}", RD_WORK_DIAL,
         RD_RES_ACCOUNT, 0},
        {401, "{\"RestException\":{\"Status\":401,\"Message\":\"Authentication failed\"}}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {402, "", RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {403, "", RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {404, "", RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {409, "", RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
        {404, "", RD_WORK_POLL, RD_RES_NOTFOUND, 0},
        {429, "{\"RestException\":{\"Status\":429,\"Message\":\"Too many requests\"}}",
         RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
        {500, "", RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
        {502, "<html>", RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
        {503, "", RD_WORK_POLL, RD_RES_TRANSIENT, 0},
        {302, "", RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
    };
    run_cases(&rd_exotel_ops, cs, RD_ARRAY_LEN(cs));
}

static void t_twilio_classify(void **state) {
    (void)state;
    const case_t cs[] = {
        {201, "{\"sid\":\"CA1\",\"status\":\"queued\"}", RD_WORK_DIAL, RD_RES_PLACED, 0},
        {200, "{\"sid\":\"CA1\",\"status\":\"completed\",\"answered_by\":\"human\"}", RD_WORK_POLL,
         RD_RES_STATUS, 0},
        {400, "{\"code\":21211,\"message\":\"Invalid 'To' Phone Number\",\"status\":400}",
         RD_WORK_DIAL, RD_RES_REFUSED, RD_OUT_INVALID_NUMBER},
        {400, "{\"code\":21217,\"message\":\"x\",\"status\":400}", RD_WORK_DIAL, RD_RES_REFUSED,
         RD_OUT_INVALID_NUMBER},
        {400, "{\"code\":13225,\"message\":\"blocked\",\"status\":400}", RD_WORK_DIAL,
         RD_RES_REFUSED, RD_OUT_DND},
        {400, "{\"code\":\"21610\",\"message\":\"unsubscribed\",\"status\":400}", RD_WORK_SMS,
         RD_RES_REFUSED, RD_OUT_DND},
        {400, "{\"code\":21201,\"message\":\"No 'To' number\",\"status\":400}", RD_WORK_DIAL,
         RD_RES_REJECTED, 0},
        {400, "{\"code\":21214,\"message\":\"x\",\"status\":400}", RD_WORK_DIAL, RD_RES_REFUSED,
         RD_OUT_INVALID_NUMBER},
        /* issue 9: errors about our own account or settings are never attempts */
        {400,
         "{\"code\":21212,\"message\":\"The From phone number 555 is not a valid phone number, "
         "shortcode, or alphanumeric sender ID.\",\"status\":400}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {400,
         "{\"code\":21210,\"message\":\"The source phone number provided is not yet verified\","
         "\"status\":400}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {400,
         "{\"code\":21215,\"message\":\"Account not authorized to call +91 number\","
         "\"status\":400}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {400, "{\"code\":21205,\"message\":\"Url is not a valid URL\",\"status\":400}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        {400, "{\"code\":22005,\"message\":\"Invalid number\",\"status\":400}", RD_WORK_DIAL,
         RD_RES_REJECTED, 0},
        {404,
         "{\"code\":20404,\"message\":\"The requested resource was not found\",\"status\":404}",
         RD_WORK_DIAL, RD_RES_ACCOUNT, 0},
        /* issue 9: a 2xx dial reply that cannot be read is a placed call */
        {201, "{\"sid\":\"CA1\",\"status\":null}", RD_WORK_DIAL, RD_RES_PLACED, 0},
        {201, "{\"sid\":\"CA1\"}", RD_WORK_DIAL, RD_RES_PLACED, 0},
        {201, "{\"sid\":\"CA1\",\"status\":\"teleported\"}", RD_WORK_DIAL, RD_RES_PLACED, 0},
        {201, "{\"status\":\"queued\"}", RD_WORK_DIAL, RD_RES_PLACED_UNKNOWN, 0},
        {201, "{\"sid\":\"CA1\",\"sta", RD_WORK_DIAL, RD_RES_PLACED_UNKNOWN, 0},
        {201, "<Response><Call><Sid>CA1</Sid></Call></Response>", RD_WORK_DIAL,
         RD_RES_PLACED_UNKNOWN, 0},
        {429, "{\"code\":20429,\"message\":\"Too Many Requests\",\"status\":429}", RD_WORK_DIAL,
         RD_RES_TRANSIENT, 0},
        {503, "", RD_WORK_DIAL, RD_RES_TRANSIENT, 0},
        {401, "{\"code\":20003,\"message\":\"Authenticate\",\"status\":401}", RD_WORK_DIAL,
         RD_RES_ACCOUNT, 0},
        {404, "{\"code\":20404,\"message\":\"not found\",\"status\":404}", RD_WORK_POLL,
         RD_RES_NOTFOUND, 0},
    };
    run_cases(&rd_twilio_ops, cs, RD_ARRAY_LEN(cs));
}

/* The pause reason names the setting, the code and the provider's words. */
static void t_account_reason(void **state) {
    (void)state;
    rd_work_result_t r;
    memset(&r, 0, sizeof r);
    const char *body = "{\"code\":21212,\"message\":\"The From phone number 555 is not a "
                       "valid phone number\",\"status\":400}";
    rd_twilio_ops.classify(RD_WORK_DIAL, 400, body, strlen(body), &r);
    assert_int_equal(r.kind, RD_RES_ACCOUNT);
    assert_int_equal(r.provider_code, 21212);
    assert_string_equal(r.reason,
                        "provider rejected caller_id: 21212 The From phone number 555 is not a "
                        "valid phone number");
    assert_string_equal(rd_res_kind_name(RD_RES_ACCOUNT), "account");
    assert_string_equal(rd_res_kind_name(RD_RES_PLACED_UNKNOWN), "placed-unknown");
    memset(&r, 0, sizeof r);
    body = "{\"RestException\":{\"Status\":401,\"Message\":\"bad\\nkey\"}}";
    rd_exotel_ops.classify(RD_WORK_DIAL, 401, body, strlen(body), &r);
    assert_string_equal(r.reason, "provider rejected credentials: http 401 bad key");
}

/* AMD per campaign: off sends nothing; DLT ids go with every exotel SMS. */
static void t_amd_and_dlt(void **state) {
    (void)state;
    rd_account_cfg_t a = account(RD_PROV_TWILIO);
    built_t b;
    built_init(&b);
    rd_dial_t d = dial(RD_MODE_FLOW);
    d.machine_detection = RD_AMD_OFF;
    assert_int_equal(rd_twilio_ops.dial(&a, &d, &b.call), 0);
    built_parse(&b);
    assert_null(rd_form_get(&b.form, "MachineDetection"));
    rd_form_deinit(&b.form);
    built_init(&b);
    d.machine_detection = RD_AMD_DETECT_MESSAGE_END;
    assert_int_equal(rd_twilio_ops.dial(&a, &d, &b.call), 0);
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "MachineDetection"), "DetectMessageEnd");
    rd_form_deinit(&b.form);

    a = account(RD_PROV_EXOTEL);
    rd_sms_t sms;
    memset(&sms, 0, sizeof sms);
    strcpy(sms.to, "+919876543210");
    strcpy(sms.from, "08030000000");
    strcpy(sms.body, "We missed you");
    built_init(&b);
    assert_int_equal(rd_exotel_ops.sms(&a, &sms, &b.call), RD_EINVAL);
    strcpy(sms.dlt_entity_id, "1101234567890123456");
    strcpy(sms.dlt_template_id, "1107654321098765432");
    built_init(&b);
    assert_int_equal(rd_exotel_ops.sms(&a, &sms, &b.call), 0);
    built_parse(&b);
    assert_string_equal(rd_form_get(&b.form, "DltEntityId"), "1101234567890123456");
    assert_string_equal(rd_form_get(&b.form, "DltTemplateId"), "1107654321098765432");
    rd_form_deinit(&b.form);
}

static void t_backoff(void **state) {
    (void)state;
    rd_account_cfg_t a = account(RD_PROV_EXOTEL);
    a.backoff_base_ms = 100;
    a.backoff_cap_ms = 1000;
    for (uint32_t n = 0; n < 40; n++) {
        uint64_t d = n >= 4 ? 1000 : 100u << n;
        for (uint32_t r = 0; r < 1000; r += 37) {
            int64_t v = rd_provider_backoff_ms(&a, n, r * 2654435761u);
            assert_true(v >= (int64_t)(d / 2) && v <= (int64_t)d);
        }
    }
    /* Jitter actually spreads. */
    assert_true(rd_provider_backoff_ms(&a, 10, 0) != rd_provider_backoff_ms(&a, 10, 499));
}

/* The account rate defaults live with the adapters; --provider-rate overrides them. */
static void t_rate(void **state) {
    (void)state;
    double rate, burst;
    assert_int_equal(rd_provider_rate(RD_PROV_EXOTEL, NULL, &rate, &burst), 0);
    assert_true(rate == 200.0 / 60 && burst == 200);
    assert_int_equal(rd_provider_rate(RD_PROV_TWILIO, "", &rate, &burst), 0);
    assert_true(rate == 1 && burst == 1);
    assert_int_equal(rd_provider_rate(RD_PROV_TWILIO, "10/2", &rate, &burst), 0);
    assert_true(rate == 5 && burst == 10);
    assert_int_equal(rd_provider_rate(RD_PROV_EXOTEL, "0.5/1", &rate, &burst), 0);
    assert_true(rate == 0.5 && burst == 1);
    const char *bad[] = {"x", "10", "10/", "0/1", "1/0", "-1/5", "1/2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rd_provider_rate(RD_PROV_EXOTEL, bad[i], &rate, &burst), RD_EINVAL);
    assert_int_equal(rd_provider_rate(RD_PROV__COUNT, NULL, &rate, &burst), RD_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_exotel_requests), cmocka_unit_test(t_twilio_requests),
        cmocka_unit_test(t_exotel_classify), cmocka_unit_test(t_twilio_classify),
        cmocka_unit_test(t_backoff),         cmocka_unit_test(t_account_reason),
        cmocka_unit_test(t_amd_and_dlt),     cmocka_unit_test(t_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
