/*
 * provider.h — the one small interface every telephony provider adapter
 * implements, and the request/result types the worker pool carries.
 *
 * An adapter is pure: it turns a request (dial, poll, SMS) into an HTTP call
 * (method, URL, form body) and turns the HTTP answer (status, Retry-After,
 * body) into a result. The transport (libcurl, threads, breaker, backoff)
 * is workers/pool.c; adapters never do I/O, so they are unit-tested without
 * a network and every adapter gets the same transport behaviour.
 *
 * Result classes (SPEC section 4):
 *   PLACED     the provider accepted the call: res.call holds its id (and the
 *              status it reported, usually queued / in-progress; "" when the
 *              reply named the call but no status redial knows).
 *   PLACED_UNKNOWN  a 2xx dial reply redial cannot read (unknown/null/missing
 *              Status and no call id, XML, a cut body): the provider may have
 *              placed the call, so it is an attempt in flight with an
 *              unknown call id — settled by the callback (which carries the
 *              attempt key) or as failed after the grace; NEVER redialed.
 *   REFUSED    the provider refused this number (an error about the callee):
 *              res.outcome is RD_OUT_INVALID_NUMBER or RD_OUT_DND.
 *   ACCOUNT    the provider refused our account or configuration (caller
 *              id, flow URL, geo permissions, credentials, unknown account,
 *              balance): not an attempt; res.reason is the operator-facing
 *              pause reason ("provider rejected caller_id: 21212 ...").
 *   REJECTED   a 4xx redial has no row for: not an attempt, not charged;
 *              the engine retries later and pauses the campaign after a run
 *              of them (res.reason says what came back).
 *   STATUS     a poll answered: res.call holds the call's status.
 *   SENT       an SMS was accepted.
 *   NOTFOUND   a poll for a call id the provider does not know (404).
 *   TRANSIENT  the request never reached the customer: connection error,
 *              timeout, HTTP 5xx, 429, 408/409, a provider's "try again"
 *              code, or an unreadable 2xx poll body. NOT an attempt: the
 *              caller retries after res.retry_after_ms.
 *   CANCELED   the pool was closing; the request was never sent.
 *
 * Error bodies understood:
 *   exotel  {"RestException":{"Status":400,"Code":N,"Message":"..."}}
 *   twilio  {"code":N,"message":"...","status":400}
 * Each adapter owns one table of rd_provider_rule_t rows (twilio.c,
 * exotel.c; mirrored with sources in docs/PROVIDERS.md), matched in order
 * by documented error code, HTTP status and, for exotel, whose v1 errors
 * carry no stable per-cause code, by message words. The first row that
 * matches decides; a 4xx no row matches is REJECTED.
 *
 * Thread safety: adapters are pure and stateless; any thread.
 */
#ifndef RD_PROVIDER_H
#define RD_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/callback.h"
#include "proto/campaign.h"
#include "proto/job.h"
#include "proto/outcome.h"
#include "proto/rd.h"

/* ---- configuration: one provider account ---- */

typedef struct rd_account_cfg {
    rd_prov_t kind;
    const char *base_url; /* scheme://host[:port] (no trailing '/'), e.g. https://api.exotel.com */
    const char *sid;      /* account sid (URL path; twilio's basic-auth user) */
    const char *key;      /* exotel api key (basic-auth user); NULL = sid */
    const char *token;    /* basic-auth password / twilio auth token: never logged */
    const char *
        flow_base; /* exotel: prefix of a flow URL ["http://my.exotel.com/<sid>/exoml/start_voice/"];
                              twilio: prefix of a TwiML URL ["https://handler.twilio.com/twiml/"] */
    /* transport */
    uint32_t connect_timeout_ms; /* [3000] */
    uint32_t timeout_ms;         /* whole request [10000] */
    /* transient backoff: min(cap, base * 2^n) with full jitter in [d/2, d] */
    uint32_t backoff_base_ms; /* [1000] */
    uint32_t backoff_cap_ms;  /* [60000] */
    /* circuit breaker (workers/pool.h): once a 10 s window holds at least
       `breaker_failures` transient failures making at least half of its
       requests, the account is open for breaker_open_ms (requests fail fast
       as TRANSIENT), then one probe at a time is let through (half-open). */
    uint32_t breaker_failures; /* [5] */
    uint32_t breaker_open_ms;  /* [10000] */
} rd_account_cfg_t;

/* Fills the defaults above (kind exotel, strings NULL). */
void rd_account_cfg_init(rd_account_cfg_t *a);

/* ---- requests ---- */

typedef enum { RD_WORK_DIAL = 0, RD_WORK_POLL = 1, RD_WORK_SMS = 2 } rd_work_kind_t;

#define RD_DIAL_NUMBER_MAX 32
#define RD_DIAL_FLOW_MAX 256
#define RD_DIAL_URL_MAX 512
#define RD_SMS_BODY_MAX 1024

typedef struct rd_dial {
    rd_mode_t mode;                         /* flow: customer -> flow; agent: agent then customer */
    char to[RD_E164_MAX + 1];               /* the customer */
    char agent[RD_DIAL_NUMBER_MAX + 1];     /* agent mode: the agent's number */
    char caller_id[RD_DIAL_NUMBER_MAX + 1]; /* campaign caller_id (exophone / twilio From) */
    char flow[RD_DIAL_FLOW_MAX + 1];        /* call_flow_id, or a full http(s) URL */
    char status_callback[RD_DIAL_URL_MAX + 1]; /* <public-url>/callbacks/<prov>/<secret>?a=<key> */
    char attempt_key[RD_ATTEMPT_KEY_MAX + 1];  /* exotel CustomField */
    int ring_timeout_s;                        /* exotel TimeOut / twilio Timeout */
    int time_limit_s;                          /* exotel TimeLimit / twilio TimeLimit */
    rd_amd_t machine_detection;                /* twilio MachineDetection (off: not sent) */
} rd_dial_t;

typedef struct rd_sms {
    char to[RD_E164_MAX + 1];
    char from[RD_DIAL_NUMBER_MAX + 1];
    char body[RD_SMS_BODY_MAX + 1];
    char status_callback[RD_DIAL_URL_MAX + 1]; /* "" = none */
    char dlt_entity_id[RD_DLT_ID_MAX + 1];     /* exotel DltEntityId ("" = not sent) */
    char dlt_template_id[RD_DLT_ID_MAX + 1];   /* exotel DltTemplateId ("" = not sent) */
} rd_sms_t;

/* ---- results ---- */

typedef enum {
    RD_RES_PLACED = 0,
    RD_RES_REFUSED = 1,
    RD_RES_STATUS = 2,
    RD_RES_SENT = 3,
    RD_RES_NOTFOUND = 4,
    RD_RES_TRANSIENT = 5,
    RD_RES_CANCELED = 6,
    RD_RES_ACCOUNT = 7,
    RD_RES_REJECTED = 8,
    RD_RES_PLACED_UNKNOWN = 9
} rd_res_kind_t;

/* Static name of a result kind ("placed", "transient", ...). */
const char *rd_res_kind_name(rd_res_kind_t k);

typedef struct rd_work_result {
    rd_res_kind_t kind;
    rd_call_status_t call;  /* PLACED, STATUS */
    rd_outcome_t outcome;   /* REFUSED */
    int64_t retry_after_ms; /* TRANSIENT: wall ms to wait before retrying */
    int http_status;        /* 0 when no HTTP answer */
    int provider_code;      /* provider's error code, 0 when none */
    bool breaker_open;      /* TRANSIENT without sending: the account's breaker was open */
    char reason[160];       /* short text for logs ("http 503", "timeout", ...); for
                               ACCOUNT the pause reason */
} rd_work_result_t;

/* ---- the adapter interface ---- */

/* An HTTP call an adapter asks the transport to make. Caller-owned buffers. */
typedef struct rd_http_call {
    bool post; /* POST form body, else GET */
    char *url;
    size_t url_cap;
    char *body; /* form body (POST) */
    size_t body_cap;
    size_t body_len;
} rd_http_call_t;

typedef struct rd_provider_ops {
    rd_prov_t kind;
    /* The account's default dial rate: rate_calls per rate_seconds (exotel
       200/60, its documented per-account limit; twilio 1/1, one call per
       second). redial-server --provider-rate overrides it. */
    double rate_calls, rate_seconds;
    /* Build the call; RD_ERANGE when a buffer is too small, RD_EINVAL for a
       request the provider cannot express. */
    int (*dial)(const rd_account_cfg_t *a, const rd_dial_t *d, rd_http_call_t *out);
    int (*poll)(const rd_account_cfg_t *a, const char *call_id, rd_http_call_t *out);
    int (*sms)(const rd_account_cfg_t *a, const rd_sms_t *s, rd_http_call_t *out);
    /* Classify an HTTP answer (http_status >= 100) of a `kind` request. The
       transport handles connection errors and Retry-After itself. */
    void (*classify)(rd_work_kind_t kind, int http_status, const char *body, size_t len,
                     rd_work_result_t *out);
} rd_provider_ops_t;

/* The adapter for a provider; NULL when out of range. Static, any thread. */
const rd_provider_ops_t *rd_provider_ops(rd_prov_t kind);

/*
 * The provider-account token bucket of `kind`: *rate tokens per second and
 * *burst capacity (>= 1), from spec "N/SECONDS" (N > 0, SECONDS > 0), or
 * from the adapter's default rate when spec is NULL or "". RD_EINVAL when
 * spec does not parse or kind is out of range.
 */
int rd_provider_rate(rd_prov_t kind, const char *spec, double *rate, double *burst);

/* Adapters (workers/exotel.c, workers/twilio.c). */
extern const rd_provider_ops_t rd_exotel_ops;
extern const rd_provider_ops_t rd_twilio_ops;

/* ---- shared helpers for adapters (workers/provider.c) ---- */

/* Starts a request in out: method (POST when post, else GET) and an empty body. */
void rd_provider_begin(rd_http_call_t *out, bool post);
/* Joins base_url + formatted path into out->url. RD_ERANGE when too long. */
int rd_provider_url(rd_http_call_t *out, const rd_account_cfg_t *a, const char *fmt, ...)
    RD_PRINTF(3, 4);
/* Appends one form pair to out->body. */
int rd_provider_add(rd_http_call_t *out, const char *key, const char *val);
int rd_provider_add_int(rd_http_call_t *out, const char *key, long v);
/*
 * The poll request both providers share: GET
 * {base}{accounts}/{sid}/Calls/{call_id, percent-escaped}.json, where
 * accounts is the provider's path to its accounts ("/v1/Accounts").
 * RD_EINVAL for an empty or over-long call id, RD_ERANGE when too long.
 */
int rd_provider_poll_call(rd_http_call_t *out, const rd_account_cfg_t *a, const char *accounts,
                          const char *call_id);
/*
 * The SMS request both providers share: POST
 * {base}{accounts}/{sid}/{resource} with From, To, Body and, when set,
 * StatusCallback. RD_EINVAL when to, from or body is empty; RD_ERANGE when
 * a buffer is too small.
 */
int rd_provider_sms(rd_http_call_t *out, const rd_account_cfg_t *a, const rd_sms_t *s,
                    const char *accounts, const char *resource);
/*
 * The URL a dial's flow stands for: the flow itself when it is already an
 * http(s) URL, else base + flow. RD_ERANGE when it does not fit in buf.
 */
int rd_provider_flow_url(char *buf, size_t cap, const char *flow, const char *base);
/*
 * One row of a provider's error table. A row matches an error answer when
 * every set field matches: code (0 = any), HTTP status (0 = any, 400..499
 * written as 4 = any 4xx), `words` and `also` ('|'-separated alternatives,
 * matched case-insensitively in the message; NULL = no condition). `what`
 * names the setting at fault for ACCOUNT rows ("caller_id") and the cause
 * otherwise; it goes into res.reason.
 */
typedef enum {
    RD_ERRC_INVALID = 0, /* the callee's number: REFUSED invalid-number */
    RD_ERRC_DND,         /* the callee refuses / is blocked: REFUSED dnd */
    RD_ERRC_ACCOUNT,     /* our account or configuration: ACCOUNT */
    RD_ERRC_TRANSIENT,   /* try again later: TRANSIENT */
    RD_ERRC_UNKNOWN      /* explicitly unclassified: REJECTED */
} rd_err_class_t;

typedef struct rd_provider_rule {
    int code;
    int status;
    const char *words, *also;
    rd_err_class_t cls;
    const char *what;
} rd_provider_rule_t;

/*
 * Classifies an answer of an adapter whose errors are JSON objects: a 2xx
 * is SENT (sms) or the call resource parsed for `prov` (PLACED for a dial —
 * PLACED_UNKNOWN when unreadable —, STATUS for a poll, TRANSIENT when
 * unreadable); anything else goes through rd_provider_classify_error with
 * the code and message read from body[wrap][code_key] / [msg_key] (wrap
 * NULL: the top-level object; the code may be a number or a numeric string)
 * and the adapter's table. body is borrowed.
 */
void rd_provider_classify_json(rd_prov_t prov, rd_work_kind_t kind, int http_status,
                               const char *body, size_t len, const char *wrap, const char *code_key,
                               const char *msg_key, const rd_provider_rule_t *rules, size_t n_rules,
                               rd_work_result_t *out);
/*
 * Shared classification of an error answer: polls (404 NOTFOUND, anything
 * else TRANSIENT), then the first matching row of `rules`, then 5xx / 429 /
 * 408 / 409 / 3xx TRANSIENT and any other 4xx REJECTED. `code` and `msg` are
 * the provider's error code and message (0 / NULL when absent).
 */
void rd_provider_classify_error(rd_work_kind_t kind, int http_status, int code, const char *msg,
                                const rd_provider_rule_t *rules, size_t n_rules,
                                rd_work_result_t *out);
/* Capped exponential backoff with jitter for the n-th consecutive transient
   failure (n >= 0); rnd is any 32 random bits. */
int64_t rd_provider_backoff_ms(const rd_account_cfg_t *a, uint32_t n, uint32_t rnd);

#endif
