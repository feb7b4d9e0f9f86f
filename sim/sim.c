/*
 * sim.c — the provider simulator (see sim.h and docs/SIM.md).
 *
 * Request path (the hot one is a call request): route on the path, check
 * basic auth, decode the form body into a reused scratch buffer (no
 * per-request allocation), draw injected faults, apply the account rate
 * limit, then create the call: one fixed-size record appended to an array
 * (its strings in an append-only arena), a referee entry, and one or two
 * events in the simulator's own timer heap. The reply is formatted into a
 * reused buffer. Nothing is logged unless --log-requests.
 *
 * Call ids encode the call's index ("<16 hex instance><16 hex index>",
 * twilio prefixes "CA"), so a call-details poll finds its record without a
 * hash table, and ids from another simulator instance are not found.
 *
 * Time: outcomes play out in policy time (ring, talk, busy, failure) and
 * are converted to wall delays with the shared clock; callback delivery
 * delays, retries and rate limits are wall time (they model the network
 * and the provider's servers, which do not speed up with --time-scale).
 *
 * Events: one binary min-heap of (due wall ms, call, kind) and one uv
 * timer armed at the earliest due time; no uv handle per call.
 *
 * Callbacks: every status callback is decided when its event fires —
 * lost (never sent), or sent after a random delay, possibly twice
 * (duplicated), and for reordered calls the non-terminal events are held
 * back until after the terminal one. A delivery that fails (transport error
 * or non-2xx) is retried cb_retries times, then given up — like exotel.
 *
 * Requests that draw the "timeout" fault are held unanswered until the
 * client goes away (a sweep answers them into the void) or the simulator
 * closes.
 */
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

/* ---- small utilities ---- */

typedef struct {
    char *p;
    size_t len, cap;
} sb_t;

static void sb_reserve(sb_t *b, size_t more) {
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + more + 1) cap *= 2;
    b->p = rd_realloc(b->p, cap);
    b->cap = cap;
}

static void sb_put(sb_t *b, const char *s, size_t n) {
    sb_reserve(b, n);
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_printf(sb_t *b, const char *fmt, ...) RD_PRINTF(2, 3);
static void sb_printf(sb_t *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (!b->p || (size_t)n + 1 > b->cap - b->len) {
        sb_reserve(b, (size_t)n);
        va_start(ap, fmt);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
    }
    b->len += (size_t)n;
}

#define SB_LIT(b, lit) sb_put((b), lit, sizeof(lit) - 1)

/* JSON string literal (with quotes), or null when s is NULL. */
static void sb_jstr(sb_t *b, const char *s) {
    if (!s) {
        SB_LIT(b, "null");
        return;
    }
    SB_LIT(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') {
            char e[2] = {'\\', (char)*c};
            sb_put(b, e, 2);
        } else if (rd_text_is_control(*c)) { /* proto/text.h: DEL too */
            sb_printf(b, "\\u%04x", *c);
        } else {
            sb_put(b, (const char *)c, 1);
        }
    }
    SB_LIT(b, "\"");
}

/* Appends key=value to a form body in b (escaped). */
static void sb_form(sb_t *b, const char *k, const char *v) {
    for (;;) {
        size_t len = b->len;
        if (b->cap && rd_form_add(b->p, b->cap, &len, k, v ? v : "") == 0) {
            b->len = len;
            return;
        }
        sb_reserve(b, (strlen(k) + strlen(v ? v : "")) * 3 + 2);
    }
}

/* xoshiro256** seeded through splitmix64. */
typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng_t *r) {
    uint64_t *s = r->s;
    uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return res;
}

/* Uniform in [0, 1). */
static double rng_u(rng_t *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

static double rng_range(rng_t *r, double lo, double hi) {
    return hi > lo ? lo + (hi - lo) * rng_u(r) : lo;
}

static bool e164(const char *s) {
    if (!s || s[0] != '+') return false;
    size_t n = 0;
    for (const char *p = s + 1; *p; p++, n++)
        if (*p < '0' || *p > '9') return false;
    return n >= 8 && n <= 15;
}

/* ---- model ---- */

int rd_sim_model_parse(const char *spec, rd_sim_model_t *m, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (!spec || !strcmp(spec, "seed")) {
        m->seed = true;
        return 0;
    }
    if (strncmp(spec, "uniform:", 8) != 0) {
        snprintf(err, errlen, "--model: expected seed or uniform:busy=P,no-answer=P,...");
        return RD_EINVAL;
    }
    bool have_completed = false;
    double sum = 0;
    const char *p = spec + 8;
    while (*p) {
        const char *eq = strchr(p, '=');
        if (!eq) {
            snprintf(err, errlen, "--model: '%s' lacks '='", p);
            return RD_EINVAL;
        }
        char *end;
        double v = strtod(eq + 1, &end);
        if (end == eq + 1 || (*end && *end != ',') || !(v >= 0 && v <= 1)) {
            snprintf(err, errlen, "--model: bad probability after '%.*s'", (int)(eq - p), p);
            return RD_EINVAL;
        }
        size_t kl = (size_t)(eq - p);
        double *slot = NULL;
        if (kl == 4 && !strncmp(p, "busy", 4))
            slot = &m->busy;
        else if (kl == 9 && !strncmp(p, "no-answer", 9))
            slot = &m->no_answer;
        else if (kl == 6 && !strncmp(p, "failed", 6))
            slot = &m->failed;
        else if ((kl == 7 && !strncmp(p, "invalid", 7)) ||
                 (kl == 14 && !strncmp(p, "invalid-number", 14)))
            slot = &m->invalid;
        else if (kl == 9 && !strncmp(p, "completed", 9)) {
            slot = &m->completed;
            have_completed = true;
        }
        if (!slot) {
            snprintf(err, errlen, "--model: unknown outcome '%.*s'", (int)kl, p);
            return RD_EINVAL;
        }
        *slot = v;
        sum += v;
        p = *end ? end + 1 : end;
    }
    if (!have_completed) {
        if (sum > 1 + 1e-9) {
            snprintf(err, errlen, "--model: probabilities sum to %.4f > 1", sum);
            return RD_EINVAL;
        }
        m->completed = 1 - sum > 0 ? 1 - sum : 0;
    } else if (fabs(sum - 1) > 1e-6) {
        snprintf(err, errlen, "--model: probabilities sum to %.4f, not 1", sum);
        return RD_EINVAL;
    }
    return 0;
}

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

static int64_t now_policy(const rd_sim_t *s) { return rd_clock_now(&s->cfg.clock); }

/* ---- heap ---- */

static void on_timer(uv_timer_t *t);

static void arm(rd_sim_t *s) {
    if (s->closing) return;
    if (!s->nheap) {
        uv_timer_stop(&s->timer);
        return;
    }
    uint64_t now = uv_now(s->loop);
    uint64_t due = s->heap[0].due;
    uv_timer_start(&s->timer, on_timer, due > now ? due - now : 0, 0);
}

static void heap_push(rd_sim_t *s, uint64_t due, uint32_t call, uint8_t kind, uint8_t ev,
                      uint8_t tries) {
    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 1024;
        s->heap = rd_realloc(s->heap, s->capheap * sizeof *s->heap);
    }
    size_t i = s->nheap++;
    hev_t e = {.due = due, .call = call, .kind = kind, .ev = ev, .tries = tries};
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (s->heap[p].due <= due) break;
        s->heap[i] = s->heap[p];
        i = p;
    }
    s->heap[i] = e;
    if (i == 0) arm(s);
}

static hev_t heap_pop(rd_sim_t *s) {
    hev_t top = s->heap[0];
    hev_t last = s->heap[--s->nheap];
    size_t i = 0, n = s->nheap;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        uint64_t md = last.due;
        if (l < n && s->heap[l].due < md) {
            m = l;
            md = s->heap[l].due;
        }
        if (r < n && s->heap[r].due < md) m = r;
        if (m == i) break;
        s->heap[i] = s->heap[m];
        i = m;
    }
    if (n) s->heap[i] = last;
    return top;
}

/* ---- formatting of times and ids ---- */

static void fmt_exotel_time(char *buf, size_t len, int64_t ms) {
    /* exotel: "YYYY-MM-DD HH:MM:SS" in India time, no offset. */
    time_t t = (time_t)(ms / 1000) + 19800;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static void fmt_rfc2822(char *buf, size_t len, int64_t ms) {
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    static const char *wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *mo[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                               "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
             mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void fmt_sid(const rd_sim_t *s, const call_t *c, uint32_t idx, char *buf, size_t len) {
    snprintf(buf, len, "%s%016llx%016llx", c->prov == PROV_TWILIO ? "CA" : "",
             (unsigned long long)s->instance, (unsigned long long)idx);
}

/* Call index from a sid; false when it is not one of ours. */
static bool parse_sid(const rd_sim_t *s, const char *sid, size_t len, uint32_t *idx) {
    if (len == 34 && sid[0] == 'C' && sid[1] == 'A') {
        sid += 2;
        len -= 2;
    }
    if (len != 32) return false;
    char a[17], b[17];
    memcpy(a, sid, 16);
    a[16] = '\0';
    memcpy(b, sid + 16, 16);
    b[16] = '\0';
    for (int i = 0; i < 32; i++) {
        char ch = sid[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f'))) return false;
    }
    if (strtoull(a, NULL, 16) != s->instance) return false;
    unsigned long long i = strtoull(b, NULL, 16);
    if (i >= s->ncalls) return false;
    *idx = (uint32_t)i;
    return true;
}

static const char *status_word(const call_t *c) {
    if (c->state == ST_RINGING) return "ringing";
    if (c->state == ST_ANSWERED) return "in-progress";
    switch (c->outcome) {
    case RD_OUT_COMPLETED:
        return "completed";
    case RD_OUT_BUSY:
        return "busy";
    case RD_OUT_NO_ANSWER:
        return "no-answer";
    default:
        return "failed";
    }
}

/* The status of the call redial placed: in twilio agent mode the agent's
   leg, which has talked once the agent answered, whatever the customer did. */
static const char *placed_word(const call_t *c) {
    if (c->prov == PROV_TWILIO && c->agent && c->agent_outcome == RD_OUT_COMPLETED)
        return c->state == ST_ENDED ? "completed" : "in-progress";
    return status_word(c);
}

static const char *answered_word(const call_t *c) {
    if (c->prov == PROV_TWILIO) {
        if (c->answered_by == AB_HUMAN) return "human";
        if (c->answered_by == AB_MACHINE) return "machine_start";
        return "unknown";
    }
    if (c->answered_by == AB_HUMAN) return "Human";
    if (c->answered_by == AB_MACHINE) return "Machine";
    return "NA";
}

static int64_t duration_s(const call_t *c) {
    if (c->state != ST_ENDED || c->outcome != RD_OUT_COMPLETED) return 0;
    return (c->end_ms - c->answer_ms) / 1000;
}

/* ---- responses ---- */

static void reply_json(rd_sim_t *s, rd_http_req_t *req, int status, const char *extra) {
    rd_http_respond(req, status, "application/json", extra, s->out.p, s->out.len);
}

/*
 * An error answer in the provider's shape. twilio_code is the documented
 * Twilio error code of the cause (21211 invalid 'To', 21212 invalid caller
 * id, 21201 / 21213 / 21205 missing To / From / Url, 20003 authentication,
 * 20404 not found, 20429 too many requests, 20500 / 20503 server errors);
 * exotel's v1 errors carry only the status and a message.
 */
static void reply_error(rd_sim_t *s, rd_http_req_t *req, int prov, int status, int twilio_code,
                        const char *msg, const char *extra) {
    s->out.len = 0;
    if (prov == PROV_TWILIO) {
        sb_printf(&s->out, "{\"code\":%d,\"message\":", twilio_code);
        sb_jstr(&s->out, msg);
        sb_printf(&s->out,
                  ",\"more_info\":\"https://www.twilio.com/docs/errors/%d\",\"status\":%d}",
                  twilio_code, status);
    } else {
        sb_printf(&s->out, "{\"RestException\":{\"Status\":%d,\"Message\":", status);
        sb_jstr(&s->out, msg);
        SB_LIT(&s->out, "}}");
    }
    reply_json(s, req, status, extra);
}

/* Exotel leg list. Flow mode: one leg, the customer. Agent mode: leg 1
   the agent (called first), leg 2 the customer — absent when the agent
   did not answer (the customer was never called). dur "-1" leaves
   OnCallDuration out. */
static void legs_json(const call_t *c, sb_t *b, const char *dur) {
    bool ended = c->state == ST_ENDED;
    const char *ab = ended ? answered_word(c) : "NA";
    SB_LIT(b, "[");
    if (c->agent) {
        const char *ast =
            c->agent_outcome != RD_OUT_COMPLETED
                ? (ended ? (c->agent_outcome == RD_OUT_BUSY ? "busy" : "no-answer") : "ringing")
                : (ended ? "completed" : "in-progress");
        sb_printf(b, "{\"Id\":1,\"Status\":\"%s\",\"AnsweredBy\":\"%s\"}", ast,
                  c->agent_outcome == RD_OUT_COMPLETED ? "Human" : "NA");
        if (c->agent_outcome != RD_OUT_COMPLETED) {
            SB_LIT(b, "]");
            return;
        }
        SB_LIT(b, ",");
    }
    sb_printf(b, "{\"Id\":%d,\"Status\":\"%s\"", c->agent ? 2 : 1, status_word(c));
    if (strcmp(dur, "-1") != 0) sb_printf(b, ",\"OnCallDuration\":%s", dur);
    sb_printf(b, ",\"AnsweredBy\":\"%s\"}]", ab);
}

/* Exotel leg list as form fields (Legs[i][...]). */
static void legs_form(const call_t *c, sb_t *b, const char *status, const char *dur,
                      const char *ab) {
    int i = 0;
    char k[40];
    if (c->agent) {
        bool ok = c->agent_outcome == RD_OUT_COMPLETED;
        sb_form(b, "Legs[0][Status]",
                ok                                ? "completed"
                : c->agent_outcome == RD_OUT_BUSY ? "busy"
                                                  : "no-answer");
        sb_form(b, "Legs[0][OnCallDuration]", ok ? dur : "0");
        sb_form(b, "Legs[0][AnsweredBy]", ok ? "Human" : "NA");
        if (!ok) return;
        i = 1;
    }
    snprintf(k, sizeof k, "Legs[%d][Status]", i);
    sb_form(b, k, status);
    snprintf(k, sizeof k, "Legs[%d][OnCallDuration]", i);
    sb_form(b, k, dur);
    snprintf(k, sizeof k, "Legs[%d][AnsweredBy]", i);
    sb_form(b, k, ab);
}

/* Call resource JSON in the provider's shape (response and details alike). */
static void call_json(rd_sim_t *s, uint32_t idx, sb_t *b, bool fresh) {
    call_t *c = &s->calls[idx];
    char sid[40], created[64], updated[64], start[64], end[64];
    fmt_sid(s, c, idx, sid, sizeof sid);
    int64_t upd = c->state == ST_ENDED      ? c->end_ms
                  : c->state == ST_ANSWERED ? c->answer_ms
                                            : c->created_ms;
    if (c->prov == PROV_TWILIO) {
        fmt_rfc2822(created, sizeof created, c->created_ms);
        fmt_rfc2822(updated, sizeof updated, upd);
        fmt_rfc2822(start, sizeof start, c->answer_ms ? c->answer_ms : c->created_ms);
        fmt_rfc2822(end, sizeof end, c->end_ms);
        sb_printf(b, "{\"sid\":\"%s\",\"account_sid\":", sid);
        sb_jstr(b, s->cfg.twilio_sid);
        SB_LIT(b, ",\"to\":");
        sb_jstr(b, c->to);
        SB_LIT(b, ",\"from\":");
        sb_jstr(b, c->from);
        sb_printf(
            b,
            ",\"status\":\"%s\",\"direction\":\"outbound-api\",\"api_version\":\"2010-04-01\","
            "\"date_created\":\"%s\",\"date_updated\":\"%s\",\"start_time\":",
            fresh ? "queued" : placed_word(c), created, updated);
        if (c->state == ST_RINGING)
            SB_LIT(b, "null");
        else
            sb_printf(b, "\"%s\"", start);
        SB_LIT(b, ",\"end_time\":");
        if (c->state == ST_ENDED)
            sb_printf(b, "\"%s\",\"duration\":\"%lld\"", end, (long long)duration_s(c));
        else
            SB_LIT(b, "null,\"duration\":null");
        SB_LIT(b, ",\"answered_by\":");
        if (!fresh && c->amd && c->state != ST_RINGING && c->answered_by != AB_NONE)
            sb_printf(b, "\"%s\"", answered_word(c));
        else
            SB_LIT(b, "null");
        sb_printf(b, ",\"uri\":\"/2010-04-01/Accounts/%s/Calls/%s.json\"}", s->cfg.twilio_sid, sid);
        return;
    }
    fmt_exotel_time(created, sizeof created, c->created_ms);
    fmt_exotel_time(updated, sizeof updated, upd);
    fmt_exotel_time(start, sizeof start, c->created_ms);
    fmt_exotel_time(end, sizeof end, c->end_ms);
    sb_printf(b,
              "{\"Call\":{\"Sid\":\"%s\",\"ParentCallSid\":null,\"DateCreated\":\"%s\","
              "\"DateUpdated\":\"%s\",\"AccountSid\":",
              sid, created, updated);
    sb_jstr(b, s->cfg.exotel_sid);
    SB_LIT(b, ",\"To\":");
    sb_jstr(b, c->to);
    SB_LIT(b, ",\"From\":");
    sb_jstr(b, c->from);
    SB_LIT(b, ",\"PhoneNumberSid\":");
    sb_jstr(b, c->caller_id);
    sb_printf(b, ",\"Status\":\"%s\",\"StartTime\":\"%s\",\"EndTime\":",
              fresh ? "queued" : status_word(c), start);
    if (c->state == ST_ENDED)
        sb_printf(b, "\"%s\",\"Duration\":\"%lld\"", end, (long long)duration_s(c));
    else
        SB_LIT(b, "null,\"Duration\":null");
    SB_LIT(b, ",\"Price\":null,\"Direction\":\"outbound-api\",\"AnsweredBy\":");
    if (c->state == ST_ENDED)
        sb_printf(b, "\"%s\"", answered_word(c));
    else
        SB_LIT(b, "null");
    SB_LIT(b, ",\"CustomField\":");
    sb_jstr(b, c->key);
    SB_LIT(b, ",\"Legs\":");
    legs_json(c, b, "-1");
    sb_printf(b, ",\"Uri\":\"/v1/Accounts/%s/Calls/%s.json\"}}", s->cfg.exotel_sid, sid);
}

/* ---- callbacks ---- */

static void cb_schedule(rd_sim_t *s, uint32_t idx, uint8_t ev, uint64_t base_wall);

static void build_callback(rd_sim_t *s, uint32_t idx, uint8_t ev, sb_t *b, bool *json) {
    call_t *c = &s->calls[idx];
    char sid[40], t[64];
    fmt_sid(s, c, idx, sid, sizeof sid);
    b->len = 0;
    if (b->p) b->p[0] = '\0';
    *json = false;
    bool leg = ev == CB_CUSTOMER;
    const char *status = ev == CB_INITIATED  ? "initiated"
                         : ev == CB_RINGING  ? "ringing"
                         : ev == CB_ANSWERED ? "in-progress"
                         : ev == CB_CUSTOMER ? status_word(c)
                                             : placed_word(c);
    if (ev == CB_CUSTOMER) ev = CB_TERMINAL;
    int64_t at = ev == CB_TERMINAL ? c->end_ms : ev == CB_ANSWERED ? c->answer_ms : c->created_ms;
    char dur[24];
    snprintf(dur, sizeof dur, "%lld", (long long)(ev == CB_TERMINAL ? duration_s(c) : 0));
    if (c->prov == PROV_TWILIO) {
        char seq[16];
        snprintf(seq, sizeof seq, "%u", (unsigned)c->seq++);
        fmt_rfc2822(t, sizeof t, at);
        sb_form(b, "AccountSid", s->cfg.twilio_sid);
        sb_form(b, "ApiVersion", "2010-04-01");
        if (leg) {
            /* The customer leg: a call of its own, child of ours. */
            char child[40];
            snprintf(child, sizeof child, "%s", sid);
            child[2] = child[2] == 'f' ? 'e' : 'f';
            sb_form(b, "CallSid", child);
            sb_form(b, "ParentCallSid", sid);
        } else {
            sb_form(b, "CallSid", sid);
        }
        const char *to = leg ? c->number : c->to;
        sb_form(b, "CallStatus", status);
        sb_form(b, "Called", to);
        sb_form(b, "Caller", c->from);
        sb_form(b, "Direction", leg ? "outbound-dial" : "outbound-api");
        sb_form(b, "From", c->from);
        sb_form(b, "To", to);
        sb_form(b, "SequenceNumber", seq);
        sb_form(b, "Timestamp", t);
        sb_form(b, "CallbackSource", "call-progress-events");
        if (ev == CB_TERMINAL) sb_form(b, "CallDuration", dur);
        if (c->amd && (ev == CB_TERMINAL || ev == CB_ANSWERED) && c->answered_by != AB_NONE &&
            (leg || !c->agent))
            sb_form(b, "AnsweredBy", answered_word(c));
        return;
    }
    char start[64], end[64];
    fmt_exotel_time(t, sizeof t, at);
    fmt_exotel_time(start, sizeof start, c->created_ms);
    fmt_exotel_time(end, sizeof end, c->end_ms);
    const char *ab = ev == CB_TERMINAL ? answered_word(c) : "NA";
    if (c->cb_fmt == CBF_JSON) {
        *json = true;
        sb_printf(
            b,
            "{\"CallSid\":\"%s\",\"EventType\":\"%s\",\"Status\":\"%s\",\"DateUpdated\":\"%s\","
            "\"CustomField\":",
            sid, ev == CB_TERMINAL ? "terminal" : "answered", status, t);
        sb_jstr(b, c->key);
        sb_printf(b, ",\"StartTime\":\"%s\",\"EndTime\":", start);
        if (ev == CB_TERMINAL)
            sb_printf(b, "\"%s\"", end);
        else
            SB_LIT(b, "null");
        sb_printf(b, ",\"ConversationDuration\":%s,\"Direction\":\"outbound-api\",\"From\":", dur);
        sb_jstr(b, c->from);
        SB_LIT(b, ",\"To\":");
        sb_jstr(b, c->to);
        SB_LIT(b, ",\"Legs\":");
        if (ev == CB_TERMINAL) {
            legs_json(c, b, dur);
        } else {
            sb_printf(b, "[{\"Id\":1,\"Status\":\"%s\",\"AnsweredBy\":\"%s\"}]", status, ab);
        }
        SB_LIT(b, "}");
        return;
    }
    sb_form(b, "CallSid", sid);
    sb_form(b, "EventType", ev == CB_TERMINAL ? "terminal" : "answered");
    sb_form(b, "Status", status);
    sb_form(b, "DateUpdated", t);
    sb_form(b, "CustomField", c->key);
    sb_form(b, "RecordingUrl", "");
    sb_form(b, "StartTime", start);
    sb_form(b, "EndTime", ev == CB_TERMINAL ? end : "");
    sb_form(b, "ConversationDuration", dur);
    sb_form(b, "Direction", "outbound-api");
    sb_form(b, "From", c->from);
    sb_form(b, "To", c->to);
    if (ev == CB_TERMINAL) {
        legs_form(c, b, status, dur, ab);
    } else {
        sb_form(b, "Legs[0][Status]", status);
        sb_form(b, "Legs[0][OnCallDuration]", dur);
        sb_form(b, "Legs[0][AnsweredBy]", ab);
    }
}

/* Re-encodes the urlencoded form in `in` as multipart/form-data into `out`
   (exotel's default callback body). */
static void to_multipart(const sb_t *in, sb_t *out) {
    rd_form_t f;
    rd_form_init(&f);
    out->len = 0;
    if (rd_form_parse(&f, in->p, in->len) != 0) return;
    for (size_t i = 0; i < f.n; i++) {
        sb_printf(out, "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n", SIM_BOUNDARY,
                  f.pairs[i].key);
        sb_reserve(out, f.pairs[i].vlen + 2);
        memcpy(out->p + out->len, f.pairs[i].val, f.pairs[i].vlen);
        out->len += f.pairs[i].vlen;
        SB_LIT(out, "\r\n");
    }
    sb_printf(out, "--%s--\r\n", SIM_BOUNDARY);
    rd_form_deinit(&f);
}

static void on_cb_done(void *ctx, int status, const char *err) {
    cbx_t *x = ctx;
    rd_sim_t *s = x->sim;
    call_t *c = &s->calls[x->call];
    uint32_t idx = x->call;
    uint8_t ev = x->ev, tries = x->tries;
    x->next = s->cbx_free;
    s->cbx_free = x;
    if (status >= 200 && status < 300) {
        c->cb_delivered++;
        s->st.cb_delivered++;
        return;
    }
    if (status >= 0 && !s->closing && (int)tries < s->cfg.cb_retries) {
        s->st.cb_retried++;
        heap_push(s, uv_now(s->loop) + (uint64_t)s->cfg.cb_retry_ms, idx, EV_CB, ev,
                  (uint8_t)(tries + 1));
        return;
    }
    c->cb_failed++;
    s->st.cb_failed++;
    if (s->cfg.log_requests && status >= 0)
        fprintf(stderr, "redial-sim: callback for call %u gave up: HTTP %d %s\n", idx, status, err);
}

static void cb_deliver(rd_sim_t *s, uint32_t idx, uint8_t ev, uint8_t tries) {
    call_t *c = &s->calls[idx];
    bool json;
    build_callback(s, idx, ev, &s->body, &json);
    const char *url = ev == CB_CUSTOMER ? c->leg_url : c->cb_url;
    char sig_hdr[64];
    const char *extra = NULL;
    if (c->prov == PROV_TWILIO) {
        char sig[RD_TWILIO_SIG_LEN + 1];
        if (rd_twilio_signature(s->cfg.twilio_token, url, strlen(url), s->body.p, s->body.len,
                                sig) == 0) {
            snprintf(sig_hdr, sizeof sig_hdr, "X-Twilio-Signature: %s", sig);
            extra = sig_hdr;
        }
    }
    cbx_t *x = s->cbx_free;
    if (x)
        s->cbx_free = x->next;
    else
        x = rd_malloc(sizeof *x);
    x->sim = s;
    x->call = idx;
    x->ev = ev;
    x->tries = tries;
    c->cb_sent++;
    s->st.cb_sent++;
    const sb_t *body = &s->body;
    const char *ctype = json ? "application/json" : "application/x-www-form-urlencoded";
    if (c->prov == PROV_EXOTEL && c->cb_fmt == CBF_MULTIPART) {
        to_multipart(&s->body, &s->mp);
        body = &s->mp;
        ctype = "multipart/form-data; boundary=" SIM_BOUNDARY;
    }
    if (rd_cbsend_post(s->cb, url, ctype, extra, body->p, body->len, on_cb_done, x) != 0) {
        x->next = s->cbx_free;
        s->cbx_free = x;
        c->cb_failed++;
        s->st.cb_failed++;
    }
}

/* Decides loss / delay / duplication of one callback event happening now. */
static void cb_schedule(rd_sim_t *s, uint32_t idx, uint8_t ev, uint64_t base) {
    call_t *c = &s->calls[idx];
    if (!(ev == CB_CUSTOMER ? c->leg_url : c->cb_url) || !(c->want & (1u << ev))) return;
    c->cb_scheduled++;
    s->st.cb_scheduled++;
    if (rng_u(&s->rng) < s->cfg.cb_loss) {
        c->cb_lost++;
        s->st.cb_lost++;
        return;
    }
    uint64_t d = (uint64_t)rng_range(&s->rng, s->cfg.cb_delay_min_ms, s->cfg.cb_delay_max_ms);
    if (c->reordered) {
        /* Non-terminal events arrive after the terminal one; the terminal one late. */
        uint64_t call_left =
            c->state == ST_ENDED ? 0 : rd_clock_wall_ms(&s->cfg.clock, c->end_ms - now_policy(s));
        if (ev != CB_TERMINAL && ev != CB_CUSTOMER)
            d += call_left + (uint64_t)s->cfg.cb_delay_max_ms + 1 +
                 (uint64_t)rng_range(&s->rng, 0, s->cfg.cb_reorder_ms);
        else
            d += (uint64_t)rng_range(&s->rng, 0, s->cfg.cb_reorder_ms);
    }
    heap_push(s, base + d, idx, EV_CB, ev, 0);
    if (rng_u(&s->rng) < s->cfg.cb_dup) {
        c->cb_dup++;
        s->st.cb_dup++;
        uint64_t d2 =
            (uint64_t)rng_range(&s->rng, s->cfg.cb_delay_min_ms, s->cfg.cb_delay_max_ms + 50);
        heap_push(s, base + d + d2, idx, EV_CB, ev, 0);
    }
}

/* ---- events ---- */

static void on_timer(uv_timer_t *t) {
    rd_sim_t *s = t->data;
    uint64_t now = uv_now(s->loop);
    while (s->nheap && s->heap[0].due <= now && !s->closing) {
        hev_t e = heap_pop(s);
        call_t *c = &s->calls[e.call];
        switch (e.kind) {
        case EV_ANSWER:
            c->state = ST_ANSWERED;
            cb_schedule(s, e.call, CB_ANSWERED, now);
            break;
        case EV_END:
            c->state = ST_ENDED;
            rd_referee_call_end(s->ref, c->ref_id, (rd_outcome_t)c->outcome,
                                c->outcome == RD_OUT_COMPLETED && c->answered_by != AB_MACHINE,
                                c->end_ms);
            cb_schedule(s, e.call, CB_CUSTOMER, now);
            cb_schedule(s, e.call, CB_TERMINAL, now);
            break;
        case EV_CB:
            cb_deliver(s, e.call, e.ev, e.tries);
            break;
        }
    }
    arm(s);
}

/* ---- request decoding ---- */

/* Decodes a form body into s->pairs (strings in s->scratch). Returns count or -1. */
static long decode_form(rd_sim_t *s, const char *body, size_t len) {
    s->scratch.len = 0;
    sb_reserve(&s->scratch, len * 2 + 2);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && body[j] != '&') j++;
        if (j > i) {
            if (n == s->cap_pairs) {
                s->cap_pairs = s->cap_pairs ? s->cap_pairs * 2 : 32;
                if (s->cap_pairs > RD_FORM_MAX_PAIRS) return -1;
                s->pairs = rd_realloc(s->pairs, s->cap_pairs * sizeof *s->pairs);
            }
            const char *eq = memchr(body + i, '=', j - i);
            size_t kl = eq ? (size_t)(eq - (body + i)) : j - i;
            rd_form_pair_t *p = &s->pairs[n];
            char *k = s->scratch.p + s->scratch.len;
            if (rd_form_unescape(body + i, kl, k, &p->klen) != 0) return -1;
            s->scratch.len += p->klen + 1;
            char *v = s->scratch.p + s->scratch.len;
            p->vlen = 0;
            v[0] = '\0';
            if (eq && rd_form_unescape(eq + 1, (size_t)(body + j - eq - 1), v, &p->vlen) != 0)
                return -1;
            s->scratch.len += p->vlen + 1;
            p->key = k;
            p->val = v;
            n++;
        }
        i = j + 1;
    }
    return (long)n;
}

static const char *fget(const rd_sim_t *s, long n, const char *key) {
    for (long i = 0; i < n; i++)
        if (!strcmp(s->pairs[i].key, key)) return s->pairs[i].val;
    return NULL;
}

static bool check_auth(rd_sim_t *s, rd_http_req_t *req, const char *user, const char *pass) {
    char buf[512];
    const char *u, *p;
    if (rd_http_basic_auth(req, buf, sizeof buf, &u, &p) != 0) return false;
    bool ok = rd_secret_equal(u, strlen(u), user, strlen(user));
    ok &= rd_secret_equal(p, strlen(p), pass, strlen(pass));
    return ok;
}

/* Token bucket over wall time; returns seconds to wait, 0 when admitted. */
static int bucket_take(rd_sim_t *s, bucket_t *b, double per_s, double burst) {
    if (per_s <= 0) return 0;
    uint64_t now = uv_now(s->loop);
    if (b->last_ms == 0) {
        b->tokens = burst;
        b->last_ms = now;
    }
    b->tokens += (double)(now - b->last_ms) / 1000.0 * per_s;
    if (b->tokens > burst) b->tokens = burst;
    b->last_ms = now;
    if (b->tokens >= 1) {
        b->tokens -= 1;
        return 0;
    }
    int wait = (int)ceil((1 - b->tokens) / per_s);
    return wait < 1 ? 1 : wait;
}

/* Twilio's queue: every request is admitted; one above the rate waits
   (returned, wall ms) until its token would have been there. */
static uint64_t bucket_queue(rd_sim_t *s, bucket_t *b, double per_s) {
    if (per_s <= 0) return 0;
    uint64_t now = uv_now(s->loop);
    if (b->last_ms == 0) {
        b->tokens = per_s;
        b->last_ms = now;
    }
    b->tokens += (double)(now - b->last_ms) / 1000.0 * per_s;
    if (b->tokens > per_s) b->tokens = per_s;
    b->last_ms = now;
    b->tokens -= 1;
    return b->tokens >= 0 ? 0 : (uint64_t)ceil(-b->tokens / per_s * 1000.0);
}

/* `item` is one of the comma-separated entries of list. */
static bool list_has(const char *list, const char *item) {
    size_t n = item ? strlen(item) : 0;
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && n && memcmp(p, item, n) == 0) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static void hold(rd_sim_t *s, rd_http_req_t *req) {
    if (s->nheld == s->capheld) {
        s->capheld = s->capheld ? s->capheld * 2 : 64;
        s->held = rd_realloc(s->held, s->capheld * sizeof *s->held);
    }
    s->held[s->nheld++] = req;
}

/* An accepted call request whose answer is held back (--answer-delay-ms,
   POST /sim/faults): the call runs at the provider meanwhile, so a client
   that gives up or loses its state has placed a call it has no id of. */
typedef struct delayed {
    rd_http_req_t *req;
    uint64_t due; /* uv_now */
    int status;
    char *body;
    size_t len;
} delayed_t;

static void delayed_answer(delayed_t *d) {
    rd_http_respond(d->req, d->status, "application/json", NULL, d->body, d->len);
    rd_free(d->body);
}

static void on_delay_timer(uv_timer_t *t) {
    rd_sim_t *s = t->data;
    uint64_t now = uv_now(s->loop);
    size_t o = 0;
    for (size_t i = 0; i < s->ndelayed; i++) {
        if (s->delayed[i].due <= now || rd_http_req_gone(s->delayed[i].req))
            delayed_answer(&s->delayed[i]);
        else
            s->delayed[o++] = s->delayed[i];
    }
    s->ndelayed = o;
    if (!o) uv_timer_stop(t);
}

/* Answers req with s->out after answer_delay_ms. */
static void delay_reply(rd_sim_t *s, rd_http_req_t *req, int status) {
    if (s->ndelayed == s->capdelayed) {
        s->capdelayed = s->capdelayed ? s->capdelayed * 2 : 64;
        s->delayed = rd_realloc(s->delayed, s->capdelayed * sizeof *s->delayed);
    }
    delayed_t *d = &s->delayed[s->ndelayed++];
    d->req = req;
    d->due = uv_now(s->loop) + (uint64_t)s->cfg.answer_delay_ms;
    d->status = status;
    d->len = s->out.len;
    d->body = rd_malloc(d->len ? d->len : 1);
    memcpy(d->body, s->out.p, d->len);
    s->st.delayed++;
    if (!uv_is_active((uv_handle_t *)&s->delay_timer))
        uv_timer_start(&s->delay_timer, on_delay_timer, 10, 10);
}

static void on_sweep(uv_timer_t *t) {
    rd_sim_t *s = t->data;
    size_t o = 0;
    for (size_t i = 0; i < s->nheld; i++) {
        if (rd_http_req_gone(s->held[i]))
            rd_http_respond(s->held[i], 504, NULL, NULL, NULL, 0);
        else
            s->held[o++] = s->held[i];
    }
    s->nheld = o;
}

/* ---- scripts ---- */

static int script_word(const char *w, uint8_t *out) {
    rd_outcome_t o;
    if (!strcmp(w, "invalid"))
        *out = RD_OUT_INVALID_NUMBER;
    else if (!strcmp(w, "machine"))
        *out = SO_MACHINE;
    else if (!strcmp(w, "5xx"))
        *out = SO_5XX;
    else if (!strcmp(w, "timeout"))
        *out = SO_TIMEOUT;
    else if (!strcmp(w, "429"))
        *out = SO_429;
    else if (!strcmp(w, "agent-busy"))
        *out = SO_AGENT_BUSY;
    else if (!strcmp(w, "agent-no-answer"))
        *out = SO_AGENT_NOANSWER;
    else if (rd_outcome_parse(w, &o) == 0 &&
             (o == RD_OUT_COMPLETED || o == RD_OUT_BUSY || o == RD_OUT_NO_ANSWER ||
              o == RD_OUT_FAILED || o == RD_OUT_INVALID_NUMBER))
        *out = (uint8_t)o;
    else
        return -1;
    return 0;
}

/* Loads {"+91..": ["busy", ...], ...}; replaces scripts of the numbers given. */
static int script_load(rd_sim_t *s, const char *json, size_t len, char *err, size_t errlen) {
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (!json_is_object(root)) {
        snprintf(err, errlen, "script: not a JSON object (%s)", root ? "wrong type" : je.text);
        json_decref(root);
        return RD_EINVAL;
    }
    const char *num;
    json_t *arr;
    json_object_foreach(root, num, arr) {
        if (!json_is_array(arr)) {
            snprintf(err, errlen, "script: %.32s: not an array", num);
            json_decref(root);
            return RD_EINVAL;
        }
        size_t i;
        json_t *w;
        json_array_foreach(arr, i, w) {
            uint8_t o;
            if (!json_is_string(w) || script_word(json_string_value(w), &o) != 0) {
                snprintf(err, errlen, "script: %.32s[%zu]: unknown outcome", num, i);
                json_decref(root);
                return RD_EINVAL;
            }
        }
    }
    json_object_foreach(root, num, arr) {
        uint32_t idx;
        if (rd_strmap_put(&s->script_map, num, strlen(num), (uint32_t)s->nscripts, &idx, NULL)) {
            if (s->nscripts == s->capscripts) {
                s->capscripts = s->capscripts ? s->capscripts * 2 : 16;
                s->scripts = rd_realloc(s->scripts, s->capscripts * sizeof *s->scripts);
            }
            memset(&s->scripts[s->nscripts++], 0, sizeof(script_t));
        }
        script_t *sc = &s->scripts[idx];
        rd_free(sc->outs);
        sc->n = (uint32_t)json_array_size(arr);
        sc->next = 0;
        sc->outs = rd_malloc(sc->n ? sc->n : 1);
        for (uint32_t i = 0; i < sc->n; i++)
            script_word(json_string_value(json_array_get(arr, i)), &sc->outs[i]);
    }
    json_decref(root);
    return 0;
}

/* Next scripted outcome for number, or -1 when it has none left. */
static int script_next(rd_sim_t *s, const char *number) {
    uint32_t idx;
    if (!s->nscripts || !rd_strmap_get(&s->script_map, number, strlen(number), &idx)) return -1;
    script_t *sc = &s->scripts[idx];
    if (sc->next >= sc->n) return -1;
    return sc->outs[sc->next++];
}

/* Conditional P(connect) on the k-th call (0-based) for cumulative 40/60/70/73/74%. */
static double seed_connect_p(uint32_t k) {
    static const double cum[] = {0.40, 0.60, 0.70, 0.73, 0.74};
    if (k >= 5) k = 4;
    double prev = k ? cum[k - 1] : 0;
    return (cum[k] - prev) / (1 - prev);
}

static uint8_t model_outcome(rd_sim_t *s, uint32_t nth) {
    const rd_sim_model_t *m = &s->cfg.model;
    double u = rng_u(&s->rng);
    if (m->seed) {
        if (u < seed_connect_p(nth)) return RD_OUT_COMPLETED;
        return rng_u(&s->rng) < s->cfg.seed_busy_share ? RD_OUT_BUSY : RD_OUT_NO_ANSWER;
    }
    if ((u -= m->busy) < 0) return RD_OUT_BUSY;
    if ((u -= m->no_answer) < 0) return RD_OUT_NO_ANSWER;
    if ((u -= m->failed) < 0) return RD_OUT_FAILED;
    if ((u -= m->invalid) < 0) return RD_OUT_INVALID_NUMBER;
    return RD_OUT_COMPLETED;
}

/* ---- call creation ---- */

typedef struct {
    int prov;
    const char *number, *from, *to, *key, *cb_url, *caller_id;
    const char *leg_url; /* twilio agent mode: the customer <Number>'s statusCallback */
    double ring_timeout_s, time_limit_s;
    uint8_t want, cb_fmt;
    bool amd, agent;
} dial_t;

/* Returns the call index. */
static uint32_t call_create(rd_sim_t *s, const dial_t *d, uint8_t outcome, bool machine,
                            uint8_t agent_outcome, uint64_t queue_wall_ms) {
    if (s->ncalls == s->capcalls) {
        s->capcalls = s->capcalls ? s->capcalls * 2 : 4096;
        s->calls = rd_realloc(s->calls, s->capcalls * sizeof *s->calls);
    }
    uint32_t idx = (uint32_t)s->ncalls++;
    call_t *c = &s->calls[idx];
    memset(c, 0, sizeof *c);
    c->prov = (uint8_t)d->prov;
    c->want = d->want;
    c->cb_fmt = d->cb_fmt;
    c->amd = d->amd;
    c->agent = d->agent;
    c->agent_outcome = d->agent ? agent_outcome : RD_OUT_COMPLETED;
    c->number = rd_arena_strndup(&s->arena, d->number, strlen(d->number));
    c->from = d->from ? rd_arena_strndup(&s->arena, d->from, strlen(d->from)) : "";
    c->to = d->to ? rd_arena_strndup(&s->arena, d->to, strlen(d->to)) : c->number;
    c->key = d->key ? rd_arena_strndup(&s->arena, d->key, strlen(d->key)) : "";
    c->caller_id =
        d->caller_id ? rd_arena_strndup(&s->arena, d->caller_id, strlen(d->caller_id)) : "";
    c->cb_url = d->cb_url && d->cb_url[0]
                    ? rd_arena_strndup(&s->arena, d->cb_url, strlen(d->cb_url))
                    : NULL;
    /* The customer leg reports only when the agent answered and it was rung. */
    if (d->leg_url && d->leg_url[0] && c->agent_outcome == RD_OUT_COMPLETED) {
        c->leg_url = rd_arena_strndup(&s->arena, d->leg_url, strlen(d->leg_url));
        c->want |= 1u << CB_CUSTOMER;
    }
    c->reordered = c->cb_url && rng_u(&s->rng) < s->cfg.cb_reorder;
    if (c->reordered) s->st.cb_reordered++;
    int64_t now = now_policy(s);
    c->created_ms = now;
    /* Twilio queues a call above the account's calls-per-second: it starts
       ringing when its turn comes. */
    int64_t qp = rd_clock_policy_ms(&s->cfg.clock, (int64_t)queue_wall_ms);
    now += qp;
    double end_s, ans_s = 0;
    if (c->agent_outcome != RD_OUT_COMPLETED) /* the agent never answered: no customer leg */
        outcome = c->agent_outcome;
    switch (outcome) {
    case RD_OUT_COMPLETED: {
        ans_s = rng_range(&s->rng, s->cfg.ring_min_s, s->cfg.ring_max_s);
        if (d->ring_timeout_s > 0 && ans_s > d->ring_timeout_s) ans_s = d->ring_timeout_s * 0.9;
        double talk = rng_range(&s->rng, s->cfg.talk_min_s, s->cfg.talk_max_s);
        if (d->time_limit_s > 0 && talk > d->time_limit_s) talk = d->time_limit_s;
        end_s = ans_s + talk;
        c->answered_by = machine || rng_u(&s->rng) < s->cfg.machine_rate ? AB_MACHINE : AB_HUMAN;
        break;
    }
    case RD_OUT_BUSY:
        end_s = s->cfg.busy_s;
        break;
    case RD_OUT_NO_ANSWER:
        end_s = d->ring_timeout_s > 0 ? d->ring_timeout_s : s->cfg.no_answer_s;
        break;
    default:
        end_s = s->cfg.failed_s;
        break;
    }
    c->outcome = outcome;
    int64_t ans_ms = (int64_t)(ans_s * 1000), end_ms = (int64_t)(end_s * 1000);
    if (end_ms < 1) end_ms = 1;
    c->answer_ms = outcome == RD_OUT_COMPLETED ? now + ans_ms : 0;
    c->end_ms = now + end_ms;
    uint32_t nth;
    unsigned flags;
    c->ref_id = rd_referee_call_start(s->ref, c->number, c->key, now, &nth, &flags);
    uint64_t wall = uv_now(s->loop) + queue_wall_ms;
    if (outcome == RD_OUT_COMPLETED)
        heap_push(s, wall + rd_clock_wall_ms(&s->cfg.clock, ans_ms), idx, EV_ANSWER, 0, 0);
    heap_push(s, wall + rd_clock_wall_ms(&s->cfg.clock, end_ms), idx, EV_END, 0, 0);
    cb_schedule(s, idx, CB_INITIATED, wall);
    cb_schedule(s, idx, CB_RINGING, wall);
    return idx;
}

/* ---- handlers ---- */

/* Common dial path after decoding. Returns after answering req. */
static void dial(rd_sim_t *s, rd_http_req_t *req, dial_t *d) {
    int so = script_next(s, d->number);
    double u = rng_u(&s->rng);
    if (so == SO_5XX || (so < 0 && u < s->cfg.fault_5xx)) {
        s->st.f5xx++;
        int st = u < s->cfg.fault_5xx / 2 ? 500 : 503;
        reply_error(s, req, d->prov, st, st == 500 ? 20500 : 20503, "simulated provider failure",
                    NULL);
        return;
    }
    u -= s->cfg.fault_5xx;
    if (so == SO_TIMEOUT || (so < 0 && u >= 0 && u < s->cfg.fault_timeout)) {
        s->st.ftimeout++;
        hold(s, req);
        return;
    }
    u -= s->cfg.fault_timeout;
    char ra[48];
    if (so == SO_429 || (so < 0 && u >= 0 && u < s->cfg.fault_429)) {
        s->st.f429++;
        snprintf(ra, sizeof ra, "Retry-After: %d\r\n", s->cfg.retry_after_s);
        reply_error(s, req, d->prov, 429, 20429, "too many requests", ra);
        return;
    }
    /* Configuration errors come before any dialing: a caller id that is not
       one of the account's numbers. */
    if (s->cfg.caller_ids[0] && !list_has(s->cfg.caller_ids, d->caller_id)) {
        s->st.bad_caller_id++;
        char m[160];
        if (d->prov == PROV_TWILIO)
            snprintf(m, sizeof m,
                     "The From phone number %.40s is not a valid phone number, shortcode, or "
                     "alphanumeric sender ID.",
                     d->caller_id);
        else
            snprintf(m, sizeof m, "CallerId %.40s is not an ExoPhone of this account",
                     d->caller_id);
        reply_error(s, req, d->prov, 400, 21212, m, NULL);
        return;
    }
    uint64_t queue_ms = 0;
    if (d->prov == PROV_TWILIO) {
        queue_ms = bucket_queue(s, &s->twi_bucket, s->cfg.twilio_rate_per_s);
        if (queue_ms) s->st.queued++;
    } else {
        int wait = bucket_take(s, &s->exo_bucket, s->cfg.exotel_rate_per_min / 60.0,
                               s->cfg.exotel_rate_per_min);
        if (wait) {
            s->st.rate_limited++;
            snprintf(ra, sizeof ra, "Retry-After: %d\r\n", wait);
            reply_error(s, req, d->prov, 429, 20429, "account rate limit exceeded", ra);
            return;
        }
    }
    uint8_t outcome, agent_outcome = RD_OUT_COMPLETED;
    bool machine = false;
    if (so == SO_AGENT_BUSY || so == SO_AGENT_NOANSWER) {
        agent_outcome = so == SO_AGENT_BUSY ? RD_OUT_BUSY : RD_OUT_NO_ANSWER;
        outcome = agent_outcome;
    } else if (so == SO_MACHINE) {
        outcome = RD_OUT_COMPLETED;
        machine = true;
    } else if (so >= 0) {
        outcome = (uint8_t)so;
    } else {
        /* The seed model's attempt number: calls this number had so far. */
        outcome = model_outcome(s, rd_referee_number_calls(s->ref, d->number));
    }
    if (!e164(d->number)) outcome = RD_OUT_INVALID_NUMBER;
    if (outcome == RD_OUT_INVALID_NUMBER) {
        /* The provider refuses the request; the referee still saw a dial. */
        s->st.invalid++;
        uint32_t nth;
        unsigned fl;
        int64_t now = now_policy(s);
        uint32_t id = rd_referee_call_start(s->ref, d->number, d->key, now, &nth, &fl);
        rd_referee_call_end(s->ref, id, RD_OUT_INVALID_NUMBER, false, now);
        char m[96];
        snprintf(m, sizeof m, "The 'To' number %.40s is not a valid phone number.", d->number);
        reply_error(s, req, d->prov, 400, 21211, m, NULL);
        return;
    }
    s->st.dials[d->prov]++;
    uint32_t idx = call_create(s, d, outcome, machine, agent_outcome, queue_ms);
    s->out.len = 0;
    call_json(s, idx, &s->out, true);
    if (s->cfg.answer_delay_ms > 0)
        delay_reply(s, req, d->prov == PROV_TWILIO ? 201 : 200);
    else
        reply_json(s, req, d->prov == PROV_TWILIO ? 201 : 200, NULL);
}

static uint8_t parse_events(const char *v, uint8_t want) {
    if (!v) return want;
    if (strstr(v, "initiated")) want |= 1u << CB_INITIATED;
    if (strstr(v, "ringing")) want |= 1u << CB_RINGING;
    if (strstr(v, "answered")) want |= 1u << CB_ANSWERED;
    return want;
}

/* The attempt key from the StatusCallback URL's a= parameter (NULL when absent). */
static const char *key_from_url(const char *url, char *buf, size_t cap) {
    const char *q = url ? strchr(url, '?') : NULL;
    if (!q) return NULL;
    const char *res = NULL;
    rd_form_t qf;
    rd_form_init(&qf);
    if (rd_form_parse(&qf, q + 1, strlen(q + 1)) == 0) {
        const char *a = rd_form_get(&qf, "a");
        if (a && strlen(a) < cap) {
            snprintf(buf, cap, "%s", a);
            res = buf;
        }
    }
    rd_form_deinit(&qf);
    return res;
}

static void exotel_connect(rd_sim_t *s, rd_http_req_t *req) {
    long n = decode_form(s, req->body, req->body_len);
    if (n < 0) {
        s->st.bad++;
        reply_error(s, req, PROV_EXOTEL, 400, 0, "malformed form body", NULL);
        return;
    }
    dial_t d = {.prov = PROV_EXOTEL};
    d.from = fget(s, n, "From");
    d.to = fget(s, n, "To");
    d.caller_id = fget(s, n, "CallerId");
    d.key = fget(s, n, "CustomField");
    d.cb_url = fget(s, n, "StatusCallback");
    const char *ct = fget(s, n, "StatusCallbackContentType");
    d.agent = !fget(s, n, "Url");
    if (d.agent && ct && !strncasecmp(ct, "application/json", 16))
        d.cb_fmt = CBF_JSON;
    else if (d.agent && ct && !strncasecmp(ct, "application/x-www-form-urlencoded", 33))
        d.cb_fmt = CBF_FORM;
    else
        d.cb_fmt = CBF_MULTIPART;
    const char *to = fget(s, n, "TimeOut"), *tl = fget(s, n, "TimeLimit");
    d.ring_timeout_s = to ? atof(to) : 0;
    d.time_limit_s = tl ? atof(tl) : 0;
    d.want = 1u << CB_TERMINAL;
    for (long i = 0; i < n; i++)
        if (!strncmp(s->pairs[i].key, "StatusCallbackEvents", 20))
            d.want = parse_events(s->pairs[i].val, d.want);
    /* Connect to flow: From is the customer; two numbers: From agent, To customer. */
    d.number = d.to && d.to[0] ? d.to : d.from;
    if (!d.from || !d.from[0] || !d.caller_id || !d.caller_id[0] ||
        (!fget(s, n, "Url") && !(d.to && d.to[0]))) {
        s->st.bad++;
        reply_error(s, req, PROV_EXOTEL, 400, 0, "From, CallerId and To or Url are required", NULL);
        return;
    }
    char keybuf[RD_ATTEMPT_KEY_MAX + 32];
    if (!d.key || !d.key[0]) d.key = key_from_url(d.cb_url, keybuf, sizeof keybuf);
    if (d.key && strlen(d.key) > 128) {
        s->st.bad++;
        reply_error(s, req, PROV_EXOTEL, 400, 0, "CustomField longer than 128 characters", NULL);
        return;
    }
    dial(s, req, &d);
}

/* XML text `v`[0..n) unescaped (&amp; &lt; &gt; &quot; &apos;) into out. */
static int xml_text(const char *v, size_t n, char *out, size_t cap) {
    static const char *const ent[][2] = {
        {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        char ch = v[i];
        size_t step = 1;
        if (ch == '&') {
            size_t k = 0;
            for (; k < RD_ARRAY_LEN(ent); k++) {
                size_t el = strlen(ent[k][0]);
                if (i + el <= n && !memcmp(v + i, ent[k][0], el)) {
                    ch = ent[k][1][0];
                    step = el;
                    break;
                }
            }
            if (k == RD_ARRAY_LEN(ent)) return -1;
        }
        if (o + 1 >= cap) return -1;
        out[o++] = ch;
        i += step;
    }
    out[o] = '\0';
    return 0;
}

/* The customer of an agent-mode TwiML: the first <Number>'s text and its
   statusCallback attribute ("" when absent). -1 when there is none. */
static int twiml_number(const char *tw, char *num, size_t ncap, char *url, size_t ucap) {
    const char *open = strstr(tw, "<Number");
    const char *gt = open ? strchr(open, '>') : NULL;
    const char *close = gt ? strstr(gt, "</Number>") : NULL;
    if (!close) return -1;
    url[0] = '\0';
    const char *a = strstr(open, " statusCallback=\"");
    if (a && a < gt) {
        a += strlen(" statusCallback=\"");
        const char *q = memchr(a, '"', (size_t)(gt - a));
        if (!q || xml_text(a, (size_t)(q - a), url, ucap) != 0) return -1;
    }
    return xml_text(gt + 1, (size_t)(close - gt - 1), num, ncap);
}

static void twilio_create(rd_sim_t *s, rd_http_req_t *req) {
    long n = decode_form(s, req->body, req->body_len);
    if (n < 0) {
        s->st.bad++;
        reply_error(s, req, PROV_TWILIO, 400, 21200, "malformed form body", NULL);
        return;
    }
    dial_t d = {.prov = PROV_TWILIO};
    d.from = fget(s, n, "From");
    d.to = fget(s, n, "To");
    d.caller_id = d.from;
    d.cb_url = fget(s, n, "StatusCallback");
    const char *to = fget(s, n, "Timeout"), *tl = fget(s, n, "TimeLimit");
    d.ring_timeout_s = to ? atof(to) : 0;
    d.time_limit_s = tl ? atof(tl) : 0;
    d.amd = fget(s, n, "MachineDetection") != NULL;
    d.want = 1u << CB_TERMINAL;
    for (long i = 0; i < n; i++)
        if (!strcmp(s->pairs[i].key, "StatusCallbackEvent"))
            d.want = parse_events(s->pairs[i].val, d.want);
    bool no_to = !d.to || !d.to[0], no_from = !d.from || !d.from[0];
    if (no_to || no_from || !(fget(s, n, "Url") || fget(s, n, "Twiml"))) {
        s->st.bad++;
        reply_error(s, req, PROV_TWILIO, 400,
                    no_to     ? 21201
                    : no_from ? 21213
                              : 21205,
                    no_to     ? "No 'To' number is specified"
                    : no_from ? "A 'From' phone number is required."
                              : "Url is required",
                    NULL);
        return;
    }
    d.number = d.to;
    char keybuf[RD_ATTEMPT_KEY_MAX + 32];
    d.key = key_from_url(d.cb_url, keybuf, sizeof keybuf);
    /* Agent mode: To is the agent; the TwiML <Dial>s the customer. */
    char num[64], leg_url[1024];
    const char *tw = fget(s, n, "Twiml");
    if (!fget(s, n, "Url") && tw) {
        if (twiml_number(tw, num, sizeof num, leg_url, sizeof leg_url) != 0) {
            s->st.bad++;
            reply_error(s, req, PROV_TWILIO, 400, 21205, "Twiml has no <Dial><Number>", NULL);
            return;
        }
        d.agent = true;
        d.number = num;
        d.leg_url = leg_url[0] ? leg_url : NULL;
        if (d.leg_url) d.want |= 1u << CB_CUSTOMER;
    }
    dial(s, req, &d);
}

static void details(rd_sim_t *s, rd_http_req_t *req, int prov, const char *sid, size_t len) {
    uint32_t idx;
    s->st.polls++;
    if (!parse_sid(s, sid, len, &idx) || s->calls[idx].prov != prov) {
        s->st.not_found++;
        reply_error(s, req, prov, 404, 20404, "The requested resource was not found", NULL);
        return;
    }
    s->out.len = 0;
    call_json(s, idx, &s->out, false);
    reply_json(s, req, 200, NULL);
}

static void exotel_sms(rd_sim_t *s, rd_http_req_t *req) {
    long n = decode_form(s, req->body, req->body_len);
    const char *to = n >= 0 ? fget(s, n, "To") : NULL;
    const char *body = n >= 0 ? fget(s, n, "Body") : NULL;
    if (!to || !body || !e164(to)) {
        s->st.bad++;
        reply_error(s, req, PROV_EXOTEL, 400, 0, "To (E.164) and Body are required", NULL);
        return;
    }
    const char *ent = fget(s, n, "DltEntityId"), *tpl = fget(s, n, "DltTemplateId");
    if (!ent || !ent[0] || !tpl || !tpl[0]) {
        s->st.dlt_refused++;
        reply_error(s, req, PROV_EXOTEL, 400, 0,
                    "DltEntityId and DltTemplateId are required for SMS to Indian numbers", NULL);
        return;
    }
    s->st.sms++;
    char date[64];
    fmt_exotel_time(date, sizeof date, now_policy(s));
    s->out.len = 0;
    sb_printf(&s->out, "{\"SMSMessage\":{\"Sid\":\"sms%016llx%013llu\",\"AccountSid\":",
              (unsigned long long)s->instance, (unsigned long long)s->st.sms);
    sb_jstr(&s->out, s->cfg.exotel_sid);
    SB_LIT(&s->out, ",\"To\":");
    sb_jstr(&s->out, to);
    sb_printf(&s->out, ",\"Status\":\"queued\",\"DateCreated\":\"%s\",\"Body\":", date);
    sb_jstr(&s->out, body);
    SB_LIT(&s->out, "}}");
    reply_json(s, req, 200, NULL);
}

/* Twilio Messages.json: From, To, Body -> 201 message resource. */
static void twilio_sms(rd_sim_t *s, rd_http_req_t *req) {
    long n = decode_form(s, req->body, req->body_len);
    const char *to = n >= 0 ? fget(s, n, "To") : NULL, *from = n >= 0 ? fget(s, n, "From") : NULL;
    const char *body = n >= 0 ? fget(s, n, "Body") : NULL;
    if (!to || !e164(to)) {
        s->st.bad++;
        reply_error(s, req, PROV_TWILIO, 400, 21211, "The 'To' number is not a valid phone number.",
                    NULL);
        return;
    }
    if (!from || !from[0]) {
        s->st.bad++;
        reply_error(s, req, PROV_TWILIO, 400, 21603, "A 'From' phone number is required.", NULL);
        return;
    }
    if (!body || !body[0]) {
        s->st.bad++;
        reply_error(s, req, PROV_TWILIO, 400, 21602, "Message body is required.", NULL);
        return;
    }
    s->st.sms++;
    char date[64];
    fmt_rfc2822(date, sizeof date, now_policy(s));
    s->out.len = 0;
    sb_printf(&s->out,
              "{\"sid\":\"SM%016llx%016llx\",\"account_sid\":", (unsigned long long)s->instance,
              (unsigned long long)s->st.sms);
    sb_jstr(&s->out, s->cfg.twilio_sid);
    SB_LIT(&s->out, ",\"to\":");
    sb_jstr(&s->out, to);
    SB_LIT(&s->out, ",\"from\":");
    sb_jstr(&s->out, from);
    SB_LIT(&s->out, ",\"body\":");
    sb_jstr(&s->out, body);
    sb_printf(&s->out,
              ",\"status\":\"queued\",\"direction\":\"outbound-api\",\"api_version\":"
              "\"2010-04-01\",\"date_created\":\"%s\",\"error_code\":null}",
              date);
    reply_json(s, req, 201, NULL);
}

/* ---- /sim/ control endpoints ---- */

static void sim_call(rd_sim_t *s, rd_http_req_t *req, const char *sid, size_t len) {
    uint32_t idx;
    if (!parse_sid(s, sid, len, &idx)) {
        rd_http_respond_error(req, 404, "call not found");
        return;
    }
    call_t *c = &s->calls[idx];
    char sidb[40];
    fmt_sid(s, c, idx, sidb, sizeof sidb);
    sb_t *b = &s->out;
    b->len = 0;
    sb_printf(b, "{\"sid\":\"%s\",\"provider\":\"%s\",\"number\":", sidb,
              c->prov == PROV_TWILIO ? "twilio" : "exotel");
    sb_jstr(b, c->number);
    SB_LIT(b, ",\"from\":");
    sb_jstr(b, c->from);
    SB_LIT(b, ",\"to\":");
    sb_jstr(b, c->to);
    SB_LIT(b, ",\"attempt_key\":");
    sb_jstr(b, c->key);
    SB_LIT(b, ",\"status_callback\":");
    sb_jstr(b, c->cb_url);
    sb_printf(b,
              ",\"outcome\":\"%s\",\"status\":\"%s\",\"state\":\"%s\",\"answered_by\":\"%s\","
              "\"created_ms\":%lld,\"answer_ms\":%lld,\"end_ms\":%lld,\"reordered\":%s,"
              "\"callbacks\":{\"scheduled\":%u,\"sent\":%u,\"delivered\":%u,\"failed\":%u,"
              "\"lost\":%u,\"duplicated\":%u}}",
              rd_outcome_name((rd_outcome_t)c->outcome), status_word(c),
              c->state == ST_ENDED      ? "ended"
              : c->state == ST_ANSWERED ? "answered"
                                        : "ringing",
              c->answered_by == AB_HUMAN     ? "human"
              : c->answered_by == AB_MACHINE ? "machine"
                                             : "none",
              (long long)c->created_ms, (long long)c->answer_ms, (long long)c->end_ms,
              c->reordered ? "true" : "false", c->cb_scheduled, c->cb_sent, c->cb_delivered,
              c->cb_failed, c->cb_lost, c->cb_dup);
    reply_json(s, req, 200, NULL);
}

/* Every call to one number, oldest first (a scan: for tests and debugging). */
static void sim_number(rd_sim_t *s, rd_http_req_t *req, const char *enc, size_t len) {
    char num[64];
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < sizeof num; i++) {
        if (enc[i] == '%' && i + 2 < len && !strncasecmp(enc + i, "%2B", 3)) {
            num[o++] = '+';
            i += 2;
        } else {
            num[o++] = enc[i];
        }
    }
    num[o] = '\0';
    sb_t *b = &s->out;
    b->len = 0;
    SB_LIT(b, "{\"number\":");
    sb_jstr(b, num);
    SB_LIT(b, ",\"calls\":[");
    size_t n = 0;
    for (size_t i = 0; i < s->ncalls; i++) {
        const call_t *c = &s->calls[i];
        if (strcmp(c->number, num) != 0) continue;
        char sid[40];
        fmt_sid(s, c, (uint32_t)i, sid, sizeof sid);
        sb_printf(b, "%s{\"sid\":\"%s\",\"attempt_key\":", n++ ? "," : "", sid);
        sb_jstr(b, c->key);
        sb_printf(b, ",\"outcome\":\"%s\",\"state\":\"%s\",\"created_ms\":%lld,\"end_ms\":%lld}",
                  rd_outcome_name((rd_outcome_t)c->outcome),
                  c->state == ST_ENDED      ? "ended"
                  : c->state == ST_ANSWERED ? "answered"
                                            : "ringing",
                  (long long)c->created_ms, (long long)c->end_ms);
    }
    sb_printf(b, "],\"count\":%zu}", n);
    reply_json(s, req, 200, NULL);
}

/* Body: {"numbers":[...]} or [...]. Calls fn per number. Returns count or -1. */
static long each_number(rd_sim_t *s, rd_http_req_t *req, bool optout) {
    json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
    json_t *arr = json_is_array(root) ? root : json_object_get(root, "numbers");
    if (!json_is_array(arr)) {
        json_decref(root);
        return -1;
    }
    size_t i;
    json_t *v;
    long n = 0;
    int64_t now = now_policy(s);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v)) continue;
        if (optout)
            rd_referee_add_optout(s->ref, json_string_value(v), now);
        else
            rd_referee_add_dnd(s->ref, json_string_value(v));
        n++;
    }
    json_decref(root);
    return n;
}

static char *sim_extra(rd_sim_t *s) {
    sb_t b = {0};
    sb_printf(&b,
              "{\"sim\":{\"requests\":%llu,\"dials\":{\"exotel\":%llu,\"twilio\":%llu},"
              "\"invalid_numbers\":%llu,\"sms\":%llu,\"polls\":%llu,\"auth_failures\":%llu,"
              "\"bad_requests\":%llu,\"not_found\":%llu,"
              "\"faults\":{\"5xx\":%llu,\"timeout\":%llu,\"429\":%llu,\"rate_limited\":%llu,"
              "\"queued\":%llu,\"bad_caller_id\":%llu,\"dlt_refused\":%llu,"
              "\"outage\":%llu,\"delayed_answers\":%llu},"
              "\"callbacks\":{\"scheduled\":%llu,\"sent\":%llu,\"delivered\":%llu,\"failed\":%llu,"
              "\"lost\":%llu,\"duplicated\":%llu,\"reordered_calls\":%llu,\"retried\":%llu,"
              "\"inflight\":%zu},\"held_requests\":%zu,\"events_pending\":%zu}}",
              (unsigned long long)s->st.requests, (unsigned long long)s->st.dials[0],
              (unsigned long long)s->st.dials[1], (unsigned long long)s->st.invalid,
              (unsigned long long)s->st.sms, (unsigned long long)s->st.polls,
              (unsigned long long)s->st.auth_fail, (unsigned long long)s->st.bad,
              (unsigned long long)s->st.not_found, (unsigned long long)s->st.f5xx,
              (unsigned long long)s->st.ftimeout, (unsigned long long)s->st.f429,
              (unsigned long long)s->st.rate_limited, (unsigned long long)s->st.queued,
              (unsigned long long)s->st.bad_caller_id, (unsigned long long)s->st.dlt_refused,
              (unsigned long long)s->st.outage, (unsigned long long)s->st.delayed,
              (unsigned long long)s->st.cb_scheduled, (unsigned long long)s->st.cb_sent,
              (unsigned long long)s->st.cb_delivered, (unsigned long long)s->st.cb_failed,
              (unsigned long long)s->st.cb_lost, (unsigned long long)s->st.cb_dup,
              (unsigned long long)s->st.cb_reordered, (unsigned long long)s->st.cb_retried,
              s->cb ? rd_cbsend_inflight(s->cb) : (size_t)0, s->nheld, s->nheap);
    return b.p;
}

char *rd_sim_report(rd_sim_t *s) {
    char *extra = sim_extra(s);
    char *r = rd_referee_report(s->ref, now_policy(s), extra);
    rd_free(extra);
    return r;
}

uint64_t rd_sim_violations(const rd_sim_t *s) { return rd_referee_violations_total(s->ref); }

/*
 * POST /sim/faults: changes the fault knobs at run time; any subset of
 * {"5xx","timeout","429","cb_loss","cb_dup","cb_reorder": fractions,
 *  "cb_delay_min_ms","cb_delay_max_ms","answer_delay_ms": wall ms,
 *  "outage_ms": wall ms from now during which every provider API request
 *  (calls, polls, SMS) is answered 503; 0 ends an outage}.
 * Checked as a whole before anything changes.
 */
static int faults_set(rd_sim_t *s, const char *body, size_t len, char *err, size_t errlen) {
    json_t *root = json_loadb(body, len, 0, NULL);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "expected a JSON object");
        return RD_EINVAL;
    }
    rd_sim_config_t c = s->cfg;
    static const struct {
        const char *name;
        size_t off;
    } rates[] = {{"5xx", offsetof(rd_sim_config_t, fault_5xx)},
                 {"timeout", offsetof(rd_sim_config_t, fault_timeout)},
                 {"429", offsetof(rd_sim_config_t, fault_429)},
                 {"cb_loss", offsetof(rd_sim_config_t, cb_loss)},
                 {"cb_dup", offsetof(rd_sim_config_t, cb_dup)},
                 {"cb_reorder", offsetof(rd_sim_config_t, cb_reorder)}},
      ms[] = {{"cb_delay_min_ms", offsetof(rd_sim_config_t, cb_delay_min_ms)},
              {"cb_delay_max_ms", offsetof(rd_sim_config_t, cb_delay_max_ms)},
              {"answer_delay_ms", offsetof(rd_sim_config_t, answer_delay_ms)}};
    int rc = RD_EINVAL;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        bool known = !strcmp(key, "outage_ms");
        for (size_t i = 0; i < RD_ARRAY_LEN(rates); i++) {
            if (strcmp(key, rates[i].name) != 0) continue;
            known = true;
            double x = json_number_value(v);
            if (!json_is_number(v) || x < 0 || x > 1) {
                snprintf(err, errlen, "%s: expected a fraction in [0, 1]", key);
                goto out;
            }
            *(double *)((char *)&c + rates[i].off) = x;
        }
        for (size_t i = 0; i < RD_ARRAY_LEN(ms); i++) {
            if (strcmp(key, ms[i].name) != 0) continue;
            known = true;
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 3600000) {
                snprintf(err, errlen, "%s: expected wall ms in [0, 3600000]", key);
                goto out;
            }
            *(int *)((char *)&c + ms[i].off) = (int)json_integer_value(v);
        }
        if (!known) {
            snprintf(err, errlen, "unknown fault '%s'", key);
            goto out;
        }
    }
    json_t *outage = json_object_get(root, "outage_ms");
    if (outage && (!json_is_integer(outage) || json_integer_value(outage) < 0 ||
                   json_integer_value(outage) > 3600000)) {
        snprintf(err, errlen, "outage_ms: expected wall ms in [0, 3600000]");
        goto out;
    }
    if (c.fault_5xx + c.fault_timeout + c.fault_429 > 1) {
        snprintf(err, errlen, "fault rates sum to more than 1");
        goto out;
    }
    if (c.cb_delay_max_ms < c.cb_delay_min_ms) c.cb_delay_max_ms = c.cb_delay_min_ms;
    s->cfg = c;
    if (outage) s->outage_until = uv_now(s->loop) + (uint64_t)json_integer_value(outage);
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static void sim_control(rd_sim_t *s, rd_http_req_t *req) {
    const char *p = req->path + 5; /* after "/sim/" */
    bool post = req->method_id == HTTP_POST, get = req->method_id == HTTP_GET;
    char err[256];
    if (get && !strcmp(p, "report")) {
        char *r = rd_sim_report(s);
        rd_http_respond_json(req, 200, r);
        rd_free(r);
    } else if (post && !strcmp(p, "campaigns")) {
        rd_ref_campaign_t c;
        if (rd_referee_campaign_from_json(req->body, req->body_len, &c, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_referee_set_campaign(s->ref, &c);
        s->st.campaigns_posted++;
        rd_http_respond_json(req, 201, "{\"ok\":true}");
    } else if (post && (!strcmp(p, "dnd") || !strcmp(p, "optout"))) {
        long n = each_number(s, req, p[0] == 'o');
        if (n < 0) {
            rd_http_respond_error(req, 400, "expected {\"numbers\":[...]} or [...]");
            return;
        }
        char out[64];
        snprintf(out, sizeof out, "{\"ok\":true,\"added\":%ld}", n);
        rd_http_respond_json(req, 200, out);
    } else if (post && !strcmp(p, "agents")) {
        json_t *root = json_loadb(req->body, req->body_len, 0, NULL);
        json_t *pool = json_object_get(root, "pool"), *cap = json_object_get(root, "capacity");
        if (!json_is_string(pool) || !json_is_integer(cap) || json_integer_value(cap) < 0 ||
            json_string_length(pool) > RD_REF_NAME_MAX) {
            json_decref(root);
            rd_http_respond_error(req, 400, "expected {\"pool\":NAME,\"capacity\":N}");
            return;
        }
        /* A pool's capacity rides on a hidden campaign entry that owns no calls. */
        rd_ref_campaign_t c = {0};
        snprintf(c.name, sizeof c.name, "%s", "");
        snprintf(c.agent_pool, sizeof c.agent_pool, "%s", json_string_value(pool));
        c.agent_capacity = (int)json_integer_value(cap);
        json_decref(root);
        rd_referee_set_campaign(s->ref, &c);
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (post && !strcmp(p, "script")) {
        if (script_load(s, req->body, req->body_len, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (post && !strcmp(p, "faults")) {
        if (faults_set(s, req->body, req->body_len, err, sizeof err) != 0) {
            rd_http_respond_error(req, 400, err);
            return;
        }
        rd_http_respond_json(req, 200, "{\"ok\":true}");
    } else if (get && !strncmp(p, "calls/", 6)) {
        sim_call(s, req, p + 6, strlen(p + 6));
    } else if (get && !strncmp(p, "numbers/", 8)) {
        sim_number(s, req, p + 8, strlen(p + 8));
    } else {
        s->st.not_found++;
        rd_http_respond_error(req, 404, "no such endpoint");
    }
}

/* Matches "/<prefix>/Accounts/<sid>/<rest>"; returns rest or NULL and sets sid, sidlen. */
static const char *account_path(const char *path, const char *prefix, const char **sid,
                                size_t *sidlen) {
    size_t pl = strlen(prefix);
    if (strncmp(path, prefix, pl) != 0 || strncmp(path + pl, "/Accounts/", 10) != 0) return NULL;
    const char *a = path + pl + 10;
    const char *slash = strchr(a, '/');
    if (!slash || slash == a) return NULL;
    *sid = a;
    *sidlen = (size_t)(slash - a);
    return slash + 1;
}

static void handler(rd_http_req_t *req, void *data) {
    rd_sim_t *s = data;
    s->st.requests++;
    if (s->cfg.log_requests) fprintf(stderr, "redial-sim: %s %s\n", req->method, req->url);
    if (s->closing) {
        rd_http_respond_error(req, 503, "shutting down");
        return;
    }
    const char *sid, *rest;
    size_t sidlen;
    bool post = req->method_id == HTTP_POST, get = req->method_id == HTTP_GET;
    bool exo = account_path(req->path, "/v1", &sid, &sidlen) != NULL;
    if ((exo || account_path(req->path, "/2010-04-01", &sid, &sidlen)) &&
        s->outage_until > uv_now(s->loop)) {
        s->st.outage++;
        reply_error(s, req, exo ? PROV_EXOTEL : PROV_TWILIO, 503, 20503,
                    "simulated provider outage", NULL);
        return;
    }
    if ((rest = account_path(req->path, "/v1", &sid, &sidlen)) != NULL) {
        if (sidlen != strlen(s->cfg.exotel_sid) || strncmp(sid, s->cfg.exotel_sid, sidlen) != 0 ||
            !check_auth(s, req, s->cfg.exotel_key, s->cfg.exotel_token)) {
            s->st.auth_fail++;
            reply_error(s, req, PROV_EXOTEL, 401, 0, "authentication failed",
                        "WWW-Authenticate: Basic realm=\"exotel\"\r\n");
            return;
        }
        size_t rl = strlen(rest);
        if (post && !strcmp(rest, "Calls/connect.json"))
            exotel_connect(s, req);
        else if (post && !strcmp(rest, "Sms/send.json"))
            exotel_sms(s, req);
        else if (get && !strncmp(rest, "Calls/", 6) && rl > 11 && !strcmp(rest + rl - 5, ".json"))
            details(s, req, PROV_EXOTEL, rest + 6, rl - 11);
        else {
            s->st.not_found++;
            reply_error(s, req, PROV_EXOTEL, 404, 0, "no such resource", NULL);
        }
        return;
    }
    if ((rest = account_path(req->path, "/2010-04-01", &sid, &sidlen)) != NULL) {
        if (sidlen != strlen(s->cfg.twilio_sid) || strncmp(sid, s->cfg.twilio_sid, sidlen) != 0 ||
            !(check_auth(s, req, s->cfg.twilio_sid, s->cfg.twilio_token) ||
              (s->cfg.twilio_api_key[0] &&
               check_auth(s, req, s->cfg.twilio_api_key, s->cfg.twilio_api_secret)))) {
            s->st.auth_fail++;
            reply_error(s, req, PROV_TWILIO, 401, 20003, "Authenticate",
                        "WWW-Authenticate: Basic realm=\"twilio\"\r\n");
            return;
        }
        size_t rl = strlen(rest);
        if (post && !strcmp(rest, "Calls.json"))
            twilio_create(s, req);
        else if (post && !strcmp(rest, "Messages.json"))
            twilio_sms(s, req);
        else if (get && !strncmp(rest, "Calls/", 6) && rl > 11 && !strcmp(rest + rl - 5, ".json"))
            details(s, req, PROV_TWILIO, rest + 6, rl - 11);
        else {
            s->st.not_found++;
            reply_error(s, req, PROV_TWILIO, 404, 20404, "The requested resource was not found",
                        NULL);
        }
        return;
    }
    if (!strncmp(req->path, "/sim/", 5)) {
        sim_control(s, req);
        return;
    }
    if (get && !strcmp(req->path, "/healthz")) {
        rd_http_respond(req, 200, "text/plain", NULL, "ok\n", 3);
        return;
    }
    s->st.not_found++;
    rd_http_respond_error(req, 404, "no such endpoint");
}

/* ---- lifecycle ---- */

void rd_sim_config_defaults(rd_sim_config_t *c) {
    memset(c, 0, sizeof *c);
    c->host = "127.0.0.1";
    c->model.seed = true;
    c->seed = 1;
    rd_clock_init_wall(&c->clock);
    c->ring_min_s = 3;
    c->ring_max_s = 20;
    c->talk_min_s = 20;
    c->talk_max_s = 120;
    c->busy_s = 3;
    c->failed_s = 1;
    c->no_answer_s = 30;
    c->seed_busy_share = 0.45;
    c->cb_reorder_ms = 1000;
    c->cb_retries = 2;
    c->cb_retry_ms = 1000;
    c->cb_timeout_ms = 5000;
    c->cb_conns = 64;
    c->retry_after_s = 1;
    c->exotel_rate_per_min = 200;
    c->twilio_rate_per_s = 1;
    c->exotel_sid = "sim";
    c->exotel_key = "simkey";
    c->exotel_token = "simtoken";
    c->twilio_sid = "ACsim";
    c->twilio_token = "simtoken";
}

static int check_rate(const char *name, double v, char *err, size_t errlen) {
    if (v >= 0 && v <= 1) return 0;
    snprintf(err, errlen, "%s: %g is not a fraction in [0,1]", name, v);
    return RD_EINVAL;
}

int rd_sim_create(uv_loop_t *loop, const rd_sim_config_t *cfg, rd_sim_t **out, char *err,
                  size_t errlen) {
    if (check_rate("cb-loss", cfg->cb_loss, err, errlen) ||
        check_rate("cb-dup", cfg->cb_dup, err, errlen) ||
        check_rate("cb-reorder", cfg->cb_reorder, err, errlen) ||
        check_rate("machine-rate", cfg->machine_rate, err, errlen) ||
        check_rate("seed-busy-share", cfg->seed_busy_share, err, errlen) ||
        check_rate("fault-5xx", cfg->fault_5xx, err, errlen) ||
        check_rate("fault-timeout", cfg->fault_timeout, err, errlen) ||
        check_rate("fault-429", cfg->fault_429, err, errlen))
        return RD_EINVAL;
    if (cfg->fault_5xx + cfg->fault_timeout + cfg->fault_429 > 1) {
        snprintf(err, errlen, "fault rates sum to more than 1");
        return RD_EINVAL;
    }
    if (cfg->ring_min_s < 0 || cfg->ring_max_s < cfg->ring_min_s || cfg->talk_min_s < 0 ||
        cfg->talk_max_s < cfg->talk_min_s || cfg->busy_s < 0 || cfg->failed_s < 0 ||
        cfg->no_answer_s < 0 || cfg->cb_delay_min_ms < 0 ||
        cfg->cb_delay_max_ms < cfg->cb_delay_min_ms || cfg->cb_retries < 0 ||
        cfg->cb_retries > 250 || cfg->cb_retry_ms < 0 || cfg->cb_reorder_ms < 0) {
        snprintf(err, errlen, "timing: every duration must be >= 0 and each max >= its min");
        return RD_EINVAL;
    }
    rd_sim_t *s = rd_calloc(1, sizeof *s);
    s->loop = loop;
    s->cfg = *cfg;
    const char **creds[8] = {&s->cfg.exotel_sid,        &s->cfg.exotel_key,
                             &s->cfg.exotel_token,      &s->cfg.twilio_sid,
                             &s->cfg.twilio_token,      &s->cfg.twilio_api_key,
                             &s->cfg.twilio_api_secret, &s->cfg.caller_ids};
    for (int i = 0; i < 8; i++) {
        s->strs[i] = rd_strdup(*creds[i] ? *creds[i] : "");
        *creds[i] = s->strs[i];
    }
    s->cfg.host = NULL;
    s->cfg.script_json = NULL;
    rng_seed(&s->rng, cfg->seed);
    s->instance = rng_next(&s->rng);
    rd_arena_init(&s->arena);
    rd_strmap_init(&s->script_map);
    s->ref = rd_referee_create();
    if (cfg->script_json &&
        script_load(s, cfg->script_json, strlen(cfg->script_json), err, errlen) != 0) {
        rd_sim_close(s, NULL, NULL);
        return RD_EINVAL;
    }
    rd_httpd_config_t hc = {
        .host = cfg->host ? cfg->host : "127.0.0.1",
        .port = cfg->port,
        .limits = {.max_body_bytes = 1 << 20},
        .idle_timeout_ms = 120000,
        .handler = handler,
        .data = s,
    };
    int rc = rd_httpd_create(loop, &hc, &s->http, err, errlen);
    if (rc != 0) {
        s->http = NULL;
        rd_sim_close(s, NULL, NULL);
        return rc;
    }
    rd_cbsend_config_t cc = {.timeout_ms = cfg->cb_timeout_ms,
                             .max_host_conns = cfg->cb_conns > 0 ? cfg->cb_conns : 64};
    s->cb = rd_cbsend_create(loop, &cc);
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    uv_timer_init(loop, &s->sweep);
    s->sweep.data = s;
    uv_timer_init(loop, &s->delay_timer);
    s->delay_timer.data = s;
    s->timers_init = true;
    uv_timer_start(&s->sweep, on_sweep, 500, 500);
    uv_unref((uv_handle_t *)&s->sweep);
    *out = s;
    return 0;
}

int rd_sim_port(const rd_sim_t *s) { return rd_httpd_port(s->http); }

static void sim_free(rd_sim_t *s) {
    void (*cb)(void *) = s->close_cb;
    void *data = s->close_data;
    rd_referee_destroy(s->ref);
    rd_arena_deinit(&s->arena);
    for (size_t i = 0; i < s->nscripts; i++) rd_free(s->scripts[i].outs);
    rd_free(s->scripts);
    rd_strmap_deinit(&s->script_map);
    rd_free(s->calls);
    rd_free(s->heap);
    rd_free(s->held);
    rd_free(s->delayed);
    while (s->cbx_free) {
        cbx_t *x = s->cbx_free;
        s->cbx_free = x->next;
        rd_free(x);
    }
    rd_free(s->out.p);
    rd_free(s->body.p);
    rd_free(s->scratch.p);
    rd_free(s->mp.p);
    rd_free(s->url.p);
    rd_free(s->pairs);
    for (int i = 0; i < 8; i++) rd_free(s->strs[i]);
    rd_free(s);
    if (cb) cb(data);
}

static void one_closed(void *data) {
    rd_sim_t *s = data;
    if (--s->open == 0) sim_free(s);
}

static void on_uv_closed(uv_handle_t *h) { one_closed(h->data); }

void rd_sim_close(rd_sim_t *s, void (*cb)(void *), void *data) {
    rd_assert(!s->closing);
    s->closing = true;
    s->close_cb = cb;
    s->close_data = data;
    s->open = 1; /* released at the end of this function */
    for (size_t i = 0; i < s->nheld; i++) rd_http_respond_error(s->held[i], 503, "shutting down");
    s->nheld = 0;
    for (size_t i = 0; i < s->ndelayed; i++) delayed_answer(&s->delayed[i]);
    s->ndelayed = 0;
    if (s->cb) {
        s->open++;
        rd_cbsend_close(s->cb, one_closed, s);
        s->cb = NULL;
    }
    if (s->http) {
        s->open++;
        rd_httpd_close(s->http, one_closed, s);
        s->http = NULL;
    }
    if (s->timers_init) {
        s->open += 3;
        uv_close((uv_handle_t *)&s->timer, on_uv_closed);
        uv_close((uv_handle_t *)&s->sweep, on_uv_closed);
        uv_close((uv_handle_t *)&s->delay_timer, on_uv_closed);
    }
    one_closed(s);
}
