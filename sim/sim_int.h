/*
 * sim_int.h — internals shared by the simulator's files (sim*.c): the
 * simulator state, call records, heap events, and the rd_sim__ helpers each
 * file offers the others. Not part of the sim.h API.
 */
#ifndef RD_SIM_INT_H
#define RD_SIM_INT_H

#include "sim/sim.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim/cbsend.h"
#include "sim/referee.h"
#include "sim/strmap.h"
#include "common/httpd.h"
#include "proto/callback.h"
#include "proto/form.h"
#include "proto/outcome.h"
#include "proto/rd.h"
#include "proto/text.h"

typedef struct {
    char *p;
    size_t len, cap;
} sb_t;

typedef struct {
    int prov;
    const char *number, *from, *to, *key, *cb_url, *caller_id;
    const char *leg_url; /* twilio agent mode: the customer <Number>'s statusCallback */
    double ring_timeout_s, time_limit_s;
    uint8_t want, cb_fmt;
    bool amd, agent;
} dial_t;

#define SB_LIT(b, lit) rd_sim__sb_put((b), lit, sizeof(lit) - 1)

/* xoshiro256** seeded through splitmix64. */
typedef struct {
    uint64_t s[4];
} rng_t;

/* ---- simulator state ---- */

enum { PROV_EXOTEL = 0, PROV_TWILIO = 1 };
enum { ST_RINGING = 0, ST_ANSWERED = 1, ST_ENDED = 2 };
enum { AB_NONE = 0, AB_HUMAN = 1, AB_MACHINE = 2 };
/* callback event kinds (bit per kind in call.want) */
enum { CB_INITIATED = 0, CB_RINGING = 1, CB_ANSWERED = 2, CB_TERMINAL = 3, CB_CUSTOMER = 4 };
/* CB_CUSTOMER: twilio agent mode, the customer <Number> leg's terminal
   callback (ParentCallSid = the agent's call) to that leg's statusCallback. */
/* heap event kinds */
enum { EV_ANSWER = 0, EV_END = 1, EV_CB = 2 };

/* Scripted outcomes beyond rd_outcome_t: faults and machine answers. */
enum { SO_MACHINE = 100, SO_5XX, SO_TIMEOUT, SO_429, SO_AGENT_BUSY, SO_AGENT_NOANSWER };
/* exotel callback bodies: multipart/form-data unless the request asked for
   another StatusCallbackContentType (documented for Connect Two Numbers
   only, so a flow call always gets the default). */
enum { CBF_MULTIPART = 0, CBF_FORM = 1, CBF_JSON = 2 };
#define SIM_BOUNDARY "----redial-sim-7f3a9c"

typedef struct {
    uint32_t ref_id;
    uint8_t prov, outcome, state, answered_by;
    uint8_t want;   /* callback events requested */
    uint8_t cb_fmt; /* exotel: CBF_* */
    /* agent mode. exotel Connect Two Numbers: leg 1 the agent (From), leg 2
       the customer; twilio: the call is the agent's (To), its TwiML <Dial>s
       the customer (number) as a <Number> with its own statusCallback. */
    bool agent;
    uint8_t agent_outcome; /* agent leg: RD_OUT_COMPLETED (answered), BUSY or NO_ANSWER */
    bool reordered;
    bool amd;                              /* twilio MachineDetection requested */
    uint16_t seq;                          /* twilio SequenceNumber */
    int64_t created_ms, answer_ms, end_ms; /* policy time */
    const char *number, *from, *to, *key, *cb_url, *caller_id;
    const char *leg_url; /* twilio agent mode: the customer <Number>'s statusCallback */
    uint32_t cb_scheduled, cb_sent, cb_delivered, cb_failed, cb_lost, cb_dup;
} call_t;

typedef struct {
    uint64_t due; /* loop ms */
    uint32_t call;
    uint8_t kind, ev, tries, pad;
} hev_t;

typedef struct {
    double tokens;
    uint64_t last_ms;
} bucket_t;

typedef struct {
    uint8_t *outs;
    uint32_t n, next;
} script_t;

/* A callback in flight (pooled). */
typedef struct cbx {
    struct cbx *next;
    struct rd_sim *sim;
    uint32_t call;
    uint8_t ev, tries;
} cbx_t;

struct rd_sim {
    uv_loop_t *loop;
    rd_sim_config_t cfg;
    char *strs[8]; /* owned credential / list copies */
    rd_httpd_t *http;
    rd_cbsend_t *cb;
    rd_referee_t *ref;
    rng_t rng;
    uint64_t instance;
    rd_arena_t arena;
    call_t *calls;
    size_t ncalls, capcalls;
    hev_t *heap;
    size_t nheap, capheap;
    uv_timer_t timer;
    uv_timer_t sweep;
    bucket_t exo_bucket, twi_bucket;
    rd_strmap_t script_map;
    script_t *scripts;
    size_t nscripts, capscripts;
    rd_http_req_t **held;
    size_t nheld, capheld;
    struct delayed *delayed; /* accepted call requests answered later (answer_delay_ms) */
    size_t ndelayed, capdelayed;
    uv_timer_t delay_timer;
    uint64_t outage_until; /* wall (uv_now): provider API answers 503 until then */
    cbx_t *cbx_free;
    sb_t out, body, scratch, url, mp;
    rd_form_pair_t *pairs;
    size_t cap_pairs;
    int open; /* handles/objects still to close */
    bool timers_init;
    bool closing;
    void (*close_cb)(void *);
    void *close_data;
    struct {
        uint64_t requests, dials[2], sms, polls, auth_fail, bad, not_found;
        uint64_t f5xx, ftimeout, f429, rate_limited, invalid, queued, bad_caller_id, dlt_refused;
        uint64_t outage, delayed;
        uint64_t cb_scheduled, cb_sent, cb_delivered, cb_failed, cb_lost, cb_dup, cb_reordered,
            cb_retried;
        uint64_t dnd_posted, optout_posted, campaigns_posted;
    } st;
};

/* sim.c */
int64_t rd_sim__now_policy(const rd_sim_t *s);
void rd_sim__heap_push(rd_sim_t *s, uint64_t due, uint32_t call, uint8_t kind, uint8_t ev,
                       uint8_t tries);
long rd_sim__decode_form(rd_sim_t *s, const char *body, size_t len);
const char *rd_sim__fget(const rd_sim_t *s, long n, const char *key);
int rd_sim__bucket_take(rd_sim_t *s, bucket_t *b, double per_s, double burst);
uint64_t rd_sim__bucket_queue(rd_sim_t *s, bucket_t *b, double per_s);
bool rd_sim__list_has(const char *list, const char *item);
void rd_sim__hold(rd_sim_t *s, rd_http_req_t *req);
void rd_sim__delay_reply(rd_sim_t *s, rd_http_req_t *req, int status);

/* sim_util.c */
void rd_sim__sb_reserve(sb_t *b, size_t more);
void rd_sim__sb_printf(sb_t *b, const char *fmt, ...) RD_PRINTF(2, 3);
void rd_sim__sb_jstr(sb_t *b, const char *s);
void rd_sim__sb_form(sb_t *b, const char *k, const char *v);
void rd_sim__rng_seed(rng_t *r, uint64_t seed);
uint64_t rd_sim__rng_next(rng_t *r);
double rd_sim__rng_u(rng_t *r);
double rd_sim__rng_range(rng_t *r, double lo, double hi);
bool rd_sim__e164(const char *s);
void rd_sim__sb_put(sb_t *b, const char *s, size_t n);

/* sim_model.c */
int rd_sim__script_load(rd_sim_t *s, const char *json, size_t len, char *err, size_t errlen);
int rd_sim__script_next(rd_sim_t *s, const char *number);
uint8_t rd_sim__model_outcome(rd_sim_t *s, uint32_t nth);
int rd_sim__faults_set(rd_sim_t *s, const char *body, size_t len, char *err, size_t errlen);

/* sim_wire.c */
void rd_sim__fmt_exotel_time(char *buf, size_t len, int64_t ms);
void rd_sim__fmt_rfc2822(char *buf, size_t len, int64_t ms);
void rd_sim__fmt_sid(const rd_sim_t *s, const call_t *c, uint32_t idx, char *buf, size_t len);
bool rd_sim__parse_sid(const rd_sim_t *s, const char *sid, size_t len, uint32_t *idx);
const char *rd_sim__status_word(const call_t *c);
void rd_sim__reply_json(rd_sim_t *s, rd_http_req_t *req, int status, const char *extra);
void rd_sim__reply_error(rd_sim_t *s, rd_http_req_t *req, int prov, int status, int twilio_code,
                         const char *msg, const char *extra);
void rd_sim__call_json(rd_sim_t *s, uint32_t idx, sb_t *b, bool fresh);
void rd_sim__cb_deliver(rd_sim_t *s, uint32_t idx, uint8_t ev, uint8_t tries);
void rd_sim__cb_schedule(rd_sim_t *s, uint32_t idx, uint8_t ev, uint64_t base);

/* sim_dial.c */
void rd_sim__dial(rd_sim_t *s, rd_http_req_t *req, dial_t *d);
void rd_sim__exotel_connect(rd_sim_t *s, rd_http_req_t *req);
void rd_sim__twilio_create(rd_sim_t *s, rd_http_req_t *req);
void rd_sim__details(rd_sim_t *s, rd_http_req_t *req, int prov, const char *sid, size_t len);
void rd_sim__exotel_sms(rd_sim_t *s, rd_http_req_t *req);
void rd_sim__twilio_sms(rd_sim_t *s, rd_http_req_t *req);

/* sim_control.c */
void rd_sim__sim_control(rd_sim_t *s, rd_http_req_t *req);

#endif
