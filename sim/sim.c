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
 *
 * Files: sim.c holds lifetime, routing, the event heap and request
 * decoding; sim_wire.c the providers' reply and callback formats;
 * sim_dial.c the call/SMS API handlers; sim_model.c outcomes, scripts and
 * faults; sim_control.c the /sim/ endpoints; sim_util.c small helpers;
 * sim_int.h what they share.
 */
#include "sim/sim_int.h"

#include <stdlib.h>
#include <string.h>

int64_t rd_sim__now_policy(const rd_sim_t *s) { return rd_clock_now(&s->cfg.clock); }

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

void rd_sim__heap_push(rd_sim_t *s, uint64_t due, uint32_t call, uint8_t kind, uint8_t ev,
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
            rd_sim__cb_schedule(s, e.call, CB_ANSWERED, now);
            break;
        case EV_END:
            c->state = ST_ENDED;
            rd_referee_call_end(s->ref, c->ref_id, (rd_outcome_t)c->outcome,
                                c->outcome == RD_OUT_COMPLETED && c->answered_by != AB_MACHINE,
                                c->end_ms);
            rd_sim__cb_schedule(s, e.call, CB_CUSTOMER, now);
            rd_sim__cb_schedule(s, e.call, CB_TERMINAL, now);
            break;
        case EV_CB:
            rd_sim__cb_deliver(s, e.call, e.ev, e.tries);
            break;
        }
    }
    arm(s);
}

/* ---- request decoding ---- */

/* Decodes a form body into s->pairs (strings in s->scratch). Returns count or -1. */
long rd_sim__decode_form(rd_sim_t *s, const char *body, size_t len) {
    s->scratch.len = 0;
    rd_sim__sb_reserve(&s->scratch, len * 2 + 2);
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

const char *rd_sim__fget(const rd_sim_t *s, long n, const char *key) {
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
int rd_sim__bucket_take(rd_sim_t *s, bucket_t *b, double per_s, double burst) {
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
uint64_t rd_sim__bucket_queue(rd_sim_t *s, bucket_t *b, double per_s) {
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
bool rd_sim__list_has(const char *list, const char *item) {
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

void rd_sim__hold(rd_sim_t *s, rd_http_req_t *req) {
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
void rd_sim__delay_reply(rd_sim_t *s, rd_http_req_t *req, int status) {
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
        rd_sim__reply_error(s, req, exo ? PROV_EXOTEL : PROV_TWILIO, 503, 20503,
                            "simulated provider outage", NULL);
        return;
    }
    if ((rest = account_path(req->path, "/v1", &sid, &sidlen)) != NULL) {
        if (sidlen != strlen(s->cfg.exotel_sid) || strncmp(sid, s->cfg.exotel_sid, sidlen) != 0 ||
            !check_auth(s, req, s->cfg.exotel_key, s->cfg.exotel_token)) {
            s->st.auth_fail++;
            rd_sim__reply_error(s, req, PROV_EXOTEL, 401, 0, "authentication failed",
                                "WWW-Authenticate: Basic realm=\"exotel\"\r\n");
            return;
        }
        size_t rl = strlen(rest);
        if (post && !strcmp(rest, "Calls/connect.json"))
            rd_sim__exotel_connect(s, req);
        else if (post && !strcmp(rest, "Sms/send.json"))
            rd_sim__exotel_sms(s, req);
        else if (get && !strncmp(rest, "Calls/", 6) && rl > 11 && !strcmp(rest + rl - 5, ".json"))
            rd_sim__details(s, req, PROV_EXOTEL, rest + 6, rl - 11);
        else {
            s->st.not_found++;
            rd_sim__reply_error(s, req, PROV_EXOTEL, 404, 0, "no such resource", NULL);
        }
        return;
    }
    if ((rest = account_path(req->path, "/2010-04-01", &sid, &sidlen)) != NULL) {
        if (sidlen != strlen(s->cfg.twilio_sid) || strncmp(sid, s->cfg.twilio_sid, sidlen) != 0 ||
            !(check_auth(s, req, s->cfg.twilio_sid, s->cfg.twilio_token) ||
              (s->cfg.twilio_api_key[0] &&
               check_auth(s, req, s->cfg.twilio_api_key, s->cfg.twilio_api_secret)))) {
            s->st.auth_fail++;
            rd_sim__reply_error(s, req, PROV_TWILIO, 401, 20003, "Authenticate",
                                "WWW-Authenticate: Basic realm=\"twilio\"\r\n");
            return;
        }
        size_t rl = strlen(rest);
        if (post && !strcmp(rest, "Calls.json"))
            rd_sim__twilio_create(s, req);
        else if (post && !strcmp(rest, "Messages.json"))
            rd_sim__twilio_sms(s, req);
        else if (get && !strncmp(rest, "Calls/", 6) && rl > 11 && !strcmp(rest + rl - 5, ".json"))
            rd_sim__details(s, req, PROV_TWILIO, rest + 6, rl - 11);
        else {
            s->st.not_found++;
            rd_sim__reply_error(s, req, PROV_TWILIO, 404, 20404,
                                "The requested resource was not found", NULL);
        }
        return;
    }
    if (!strncmp(req->path, "/sim/", 5)) {
        rd_sim__sim_control(s, req);
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
    rd_sim__rng_seed(&s->rng, cfg->seed);
    s->instance = rd_sim__rng_next(&s->rng);
    rd_arena_init(&s->arena);
    rd_strmap_init(&s->script_map);
    s->ref = rd_referee_create();
    if (cfg->script_json &&
        rd_sim__script_load(s, cfg->script_json, strlen(cfg->script_json), err, errlen) != 0) {
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
