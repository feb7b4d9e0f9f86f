/*
 * api.c — the control API (contract in api.h; requests in docs/API.md).
 *
 * Design:
 * - Route on the raw path (campaign names are [A-Za-z0-9_.-]: a segment with
 *   any other byte is a 404, nothing to percent-decode), then basic auth,
 *   then the method. One heap `op_t` per request rides its store callbacks;
 *   the httpd keeps the request alive until answered.
 * - Campaign creation = what `redial-cli campaign create` does:
 *   rd_campaign_parse (refused whole, field named), rd_store_campaign_create,
 *   rd_bulk_enqueue (bounded window of small script calls; each refused
 *   number comes back in the 201 body). POST /v1/calls: the inbox's decoder
 *   (rd_job_msg_decode_json) and rd_enqueue_prepare, as ingest.
 * - Credentials copied, compared with rd_secret_equal, user and password
 *   both always compared; none configured = every route answers 503.
 * - Nothing from the request is trusted: bodies within the httpd's limit
 *   (413), every field type checked, echoed names made printable.
 */
#include "engine/api.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/bulk.h"
#include "store/deadletter.h"
#include "store/enqueue.h"
#include "store/ops.h"
#include "store/view.h"
#include "proto/callback.h"
#include "proto/campaign.h"
#include "proto/form.h"
#include "proto/job.h"
#include "proto/rd.h"
#include "proto/stats.h"
#include "proto/text.h"

struct rd_api {
    rd_api_cfg_t cfg;
    char *key, *token, *provider;
};

enum {
    R_CREATE,
    R_LIST,
    R_CAMPAIGN,
    R_STATS,
    R_CALLS,
    R_OPTOUT,
    R_DL_LIST,
    R_DL_ONE,
    R_DL_REPLAY,
    R_POOLS
};

typedef struct op {
    rd_api_t *api;
    rd_http_req_t *req;
    int route;
    char name[RD_CAMPAIGN_NAME_MAX + 1];
    rd_camp_state_t st;
    int64_t now;
    rd_campaign_t camp;
    bool have_camp;
    const rd_campaign_t *c; /* camp, or the cache's (borrowed) */
    rd_job_msg_t msg;
    bool have_msg;
    int64_t due_ms;
    char dl[RD_DEADLETTER_ID_MAX]; /* dead-letter entry id */
} op_t;

void rd_api_cfg_init(rd_api_cfg_t *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->enqueue_window = 128;
    rd_campaign_defaults_init(&cfg->campaign_defaults);
}

int rd_api_create(const rd_api_cfg_t *cfg, rd_api_t **out) {
    if (!cfg->loop || !cfg->store || !cfg->clock) return RD_EINVAL;
    rd_api_t *api = rd_calloc(1, sizeof *api);
    api->cfg = *cfg;
    if (!api->cfg.enqueue_window) api->cfg.enqueue_window = 128;
    if (cfg->api_key && *cfg->api_key && cfg->api_token && *cfg->api_token) {
        api->key = rd_strdup(cfg->api_key);
        api->token = rd_strdup(cfg->api_token);
    }
    if (cfg->default_provider && *cfg->default_provider)
        api->provider = rd_strdup(cfg->default_provider);
    api->cfg.api_key = api->cfg.api_token = api->cfg.default_provider = NULL;
    *out = api;
    return 0;
}

void rd_api_destroy(rd_api_t *api) {
    if (!api) return;
    rd_free(api->key);
    rd_free(api->token);
    rd_free(api->provider);
    rd_free(api);
}

/* ---- responses ------------------------------------------------------------------- */

/* Once a request has an op, every path ends in op_reply, op_fail or
 * fail_store: each answers and frees the op, so no path answers twice or
 * leaks it. */

static void respond_verr(rd_http_req_t *req, int status, const char *fmt, va_list ap)
    RD_PRINTF(3, 0);
static void respond_verr(rd_http_req_t *req, int status, const char *fmt, va_list ap) {
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    rd_http_respond_error(req, status, msg);
}

static void respond_err(rd_http_req_t *req, int status, const char *fmt, ...) RD_PRINTF(3, 4);
static void respond_err(rd_http_req_t *req, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    respond_verr(req, status, fmt, ap);
    va_end(ap);
}

static void op_free(op_t *op) {
    if (op->have_camp) rd_campaign_deinit(&op->camp);
    if (op->have_msg) rd_job_msg_deinit(&op->msg);
    rd_free(op);
}

/* Answers status with the JSON value v (reference taken) and extra headers
 * (NULL or "Name: value\r\n" lines). Frees op. */
static void op_reply(op_t *op, int status, json_t *v, const char *headers) {
    char *s = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(v);
    if (s)
        rd_http_respond(op->req, status, "application/json", headers, s, strlen(s));
    else
        rd_http_respond_error(op->req, 500, "out of memory");
    free(s);
    op_free(op);
}

/* Answers status with a formatted error message. Frees op. */
static void op_fail(op_t *op, int status, const char *fmt, ...) RD_PRINTF(3, 4);
static void op_fail(op_t *op, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    respond_verr(op->req, status, fmt, ap);
    va_end(ap);
    op_free(op);
}

/* 503 for a resource problem of ours (descriptors, memory): never a 4xx verdict. Frees op. */
static void fail_busy(op_t *op) {
    rd_http_respond(op->req, 503, "application/json", "Retry-After: 1\r\n",
                    "{\"error\":\"server busy, try again\"}", 35);
    op_free(op);
}

/* Answers a failed store operation: 503 when Redis is unreachable (the
 * client may retry), 500 otherwise. Frees op. */
static void fail_store(op_t *op, int status) {
    rd_count(op->api->cfg.ctr, RD_M_REDIS_ERRORS, 1);
    if (status == RD_ETIMEOUT || status == RD_ECLOSED || status == RD_EIO) {
        rd_http_respond(op->req, 503, "application/json", "Retry-After: 1\r\n",
                        "{\"error\":\"redis unavailable, try again\"}", 40);
        op_free(op);
    } else if (status == RD_ETRANSIENT) {
        fail_busy(op);
    } else {
        op_fail(op, 500, "store error: %s", rd_strerror(status));
    }
}

/* Answers a failed lookup of the op's campaign: 404 when it does not exist,
 * else as fail_store. Returns false (and keeps op) when status is 0. */
static bool campaign_failed(op_t *op, int status) {
    if (status == RD_ENOTFOUND)
        op_fail(op, 404, "no campaign named \"%s\"", op->name);
    else if (status)
        fail_store(op, status);
    return status != 0;
}

/* ---- body helpers ------------------------------------------------------------------ */

/* A JSON object body, or NULL after answering 400. */
static json_t *body_object(rd_http_req_t *req) {
    json_error_t e;
    json_t *j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!j) {
        respond_err(req, 400, "body: not valid JSON (%s at line %d column %d)", e.text, e.line,
                    e.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        respond_err(req, 400, "body: must be a JSON object");
        return NULL;
    }
    return j;
}

/* The only keys allowed in a small body; 400 names the first unknown one. */
static bool only_keys(rd_http_req_t *req, json_t *o, const char *allowed) {
    const char *k;
    json_t *v;
    json_object_foreach(o, k, v) {
        (void)v;
        if (strcmp(k, allowed) != 0) {
            char q[80];
            rd_text_printable(q, sizeof q, k);
            respond_err(req, 400, "%s: unknown field (expected \"%s\")", q, allowed);
            return false;
        }
    }
    return true;
}

/* A small JSON object body whose only key may be `allowed`, or NULL after
 * answering 400 and freeing op. The caller owns the object. */
static json_t *small_body(op_t *op, const char *allowed) {
    json_t *b = body_object(op->req);
    if (b && !only_keys(op->req, b, allowed)) {
        json_decref(b);
        b = NULL;
    }
    if (!b) op_free(op);
    return b;
}

/* ---- POST /v1/Accounts/{account}/Campaigns ------------------------------------------- */

static void create_bulk_cb(const rd_bulk_res_t *res, void *arg) {
    op_t *op = arg;
    json_t *o = rd_bulk_res_to_json(res);
    json_object_set_new(o, "id", json_string(op->name));
    if (res->status) {
        rd_count(op->api->cfg.ctr, RD_M_REDIS_ERRORS, 1);
        char msg[200];
        snprintf(msg, sizeof msg,
                 "campaign created, but enqueuing its numbers stopped after %zu of %zu (%s): "
                 "enqueue the rest with POST /v1/calls (duplicates are no-ops)",
                 res->sent, res->total, rd_strerror(res->status));
        json_object_set_new(o, "error", json_string(msg));
        op_reply(op, 503, o, "Retry-After: 1\r\n");
    } else {
        char loc[128];
        snprintf(loc, sizeof loc, "Location: /v1/campaigns/%s\r\n", op->name);
        json_object_set_new(o, "state", json_string("active"));
        op_reply(op, 201, o, loc);
    }
}

static void create_cb(rd_store_t *s, int status, void *arg) {
    op_t *op = arg;
    if (status == RD_EEXISTS) {
        op_fail(op, 409, "campaign \"%s\" already exists", op->name);
        return;
    }
    if (status) {
        fail_store(op, status);
        return;
    }
    rd_bulk_enqueue(op->api->cfg.loop, s, &op->camp, op->camp.numbers, op->camp.n_numbers, op->now,
                    op->api->cfg.enqueue_window, create_bulk_cb, op);
}

static void route_create(op_t *op) {
    rd_api_t *api = op->api;
    rd_http_req_t *req = op->req;
    char err[512];
    int rc = rd_campaign_parse_with(req->body, req->body_len, &api->cfg.campaign_defaults,
                                    &op->camp, err, sizeof err);
    if (rc == RD_ETRANSIENT) {
        fail_busy(op);
        return;
    }
    if (rc) {
        op_fail(op, 400, "%s", err);
        return;
    }
    op->have_camp = true;
    rd_prov_t p;
    if (op->camp.provider && rd_prov_parse(op->camp.provider, strlen(op->camp.provider), &p)) {
        char q[80];
        rd_text_printable(q, sizeof q, op->camp.provider);
        op_fail(op, 400, "provider: unknown provider \"%s\" (exotel, twilio)", q);
        return;
    }
    if (!op->camp.provider && api->provider) op->camp.provider = rd_strdup(api->provider);
    /* Rules that depend on the provider really used (the engine default
       pinned above): an exotel SMS fallback needs its DLT ids. */
    if (rd_campaign_check_provider(&op->camp, op->camp.provider, err, sizeof err) != 0) {
        op_fail(op, 400, "%s", err);
        return;
    }
    snprintf(op->name, sizeof op->name, "%s", op->camp.name);
    op->now = rd_clock_now(api->cfg.clock);
    rc = rd_store_campaign_create(api->cfg.store, &op->camp, op->now, create_cb, op);
    if (rc) fail_store(op, rc);
}

/* ---- GET /v1/campaigns ------------------------------------------------------------ */

static void list_cb(rd_store_t *s, int status, char *const *names, size_t n, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status) {
        fail_store(op, status);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(names[i]));
    json_t *o = json_object();
    json_object_set_new(o, "campaigns", a);
    op_reply(op, 200, o, NULL);
}

/* ---- /v1/campaigns/{id} ------------------------------------------------------------- */

static void show_cb(rd_store_t *s, int status, const rd_store_campaign_t *c, void *arg) {
    (void)s;
    op_t *op = arg;
    if (campaign_failed(op, status)) return;
    char *cfg = rd_strndup(c->json, c->json_len);
    op_reply(op, 200, rd_view_campaign(c, cfg), NULL);
    rd_free(cfg);
}

static void state_cb(rd_store_t *s, int status, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status == RD_EINVAL) {
        op_fail(op, 409, "campaign \"%s\" is canceled: it cannot be %s", op->name,
                op->st == RD_CAMP_PAUSED ? "paused" : "resumed");
        return;
    }
    if (campaign_failed(op, status)) return;
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(op->name));
    json_object_set_new(o, "state", json_string(rd_view_state_name(op->st)));
    op_reply(op, 200, o, NULL);
}

static void route_patch(op_t *op) {
    json_t *b = small_body(op, "state");
    if (!b) return;
    const char *st = json_string_value(json_object_get(b, "state"));
    if (!st || rd_view_state_parse(st, &op->st) || op->st == RD_CAMP_CANCELED) {
        json_decref(b);
        op_fail(op, 400, "state: must be \"paused\" or \"active\" (DELETE cancels)");
        return;
    }
    json_decref(b);
    int rc = rd_store_campaign_set_state(op->api->cfg.store, op->name, op->st,
                                         rd_clock_now(op->api->cfg.clock), state_cb, op);
    if (rc) fail_store(op, rc);
}

static void stats_cb(rd_store_t *s, int status, const rd_store_stats_t *st, void *arg) {
    (void)s;
    op_t *op = arg;
    if (campaign_failed(op, status)) return;
    rd_stats_t m;
    rd_stats_compute(&st->counts, &m);
    json_t *o = rd_stats_to_json(op->name, &m);
    json_object_set_new(o, "live", json_integer((json_int_t)st->live));
    /* The hour-of-week counters the smart strategy learns from (0 = Sunday 00h,
     * the callee's local time): the console's heatmap and hourly chart. */
    json_t *att = json_array(), *ans = json_array();
    for (int h = 0; h < 168; h++) {
        json_array_append_new(att, json_integer(st->smart.attempted[h]));
        json_array_append_new(ans, json_integer(st->smart.answered[h]));
    }
    json_object_set_new(o, "hour_of_week",
                        json_pack("{s:o,s:o}", "attempted", att, "answered", ans));
    op_reply(op, 200, o, NULL);
}

/* ---- POST /v1/calls ------------------------------------------------------------------- */

static void call_enq_cb(rd_store_t *s, int status, rd_enq_result_t r, const char *id, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status) {
        fail_store(op, status);
        return;
    }
    char to[40];
    rd_text_printable(to, sizeof to, op->msg.to);
    switch (r) {
    case RD_ENQ_NO_CAMPAIGN:
        campaign_failed(op, RD_ENOTFOUND);
        return;
    case RD_ENQ_CANCELED:
        op_fail(op, 409, "campaign \"%s\" is canceled", op->name);
        return;
    case RD_ENQ_CONFLICT:
        op_fail(op, 409, "to: %s already has a live job in \"%s\" under another id", to, op->name);
        return;
    default:
        break;
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(id ? id : ""));
    json_object_set_new(o, "campaign", json_string(op->name));
    json_object_set_new(o, "to", json_string(to));
    json_object_set_new(o, "result", json_string(rd_enqueue_result_name(r)));
    if (r == RD_ENQ_CREATED) {
        char t[40];
        rd_view_iso_utc(t, sizeof t, op->due_ms);
        json_object_set_new(o, "due_ms", json_integer(op->due_ms));
        json_object_set_new(o, "due", json_string(t));
    }
    op_reply(op, r == RD_ENQ_CREATED ? 201 : 200, o, NULL);
}

static void call_with_campaign(op_t *op, const rd_campaign_t *c) {
    op->c = c;
    rd_store_enqueue_t e;
    char err[256];
    int64_t now = rd_clock_now(op->api->cfg.clock);
    int prc = rd_enqueue_prepare_msg(c, &op->msg, now, &e, err, sizeof err);
    if (prc == RD_ETRANSIENT) {
        fail_busy(op);
        return;
    }
    if (prc) {
        op_fail(op, 400, "%s", err);
        return;
    }
    op->due_ms = e.due_ms;
    int rc = rd_store_enqueue(op->api->cfg.store, &e, now, call_enq_cb, op);
    if (rc) fail_store(op, rc);
}

static void call_cache_cb(int status, const rd_campaign_t *c, void *arg) {
    op_t *op = arg;
    if (status == RD_EPARSE || status == RD_EINVAL)
        op_fail(op, 500, "campaign \"%s\": stored configuration does not parse", op->name);
    else if (!campaign_failed(op, status))
        call_with_campaign(op, c);
}

static void call_get_cb(rd_store_t *s, int status, const rd_store_campaign_t *c, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status) {
        call_cache_cb(status, NULL, op);
        return;
    }
    char err[256];
    int prc = rd_campaign_parse(c->json, c->json_len, &op->camp, err, sizeof err);
    if (prc) {
        call_cache_cb(prc == RD_ETRANSIENT ? prc : RD_EPARSE, NULL, op);
        return;
    }
    op->have_camp = true;
    call_with_campaign(op, &op->camp);
}

static void route_calls(op_t *op) {
    json_t *b = body_object(op->req);
    if (!b) {
        op_free(op);
        return;
    }
    /* The inbox map requires "v"; over HTTP it defaults to 1. */
    if (!json_object_get(b, "v")) json_object_set_new(b, "v", json_integer(1));
    char *txt = json_dumps(b, JSON_COMPACT);
    json_decref(b);
    char err[256];
    int rc = txt ? rd_job_msg_decode_json(txt, strlen(txt), &op->msg, err, sizeof err) : RD_ENOMEM;
    free(txt);
    if (rc == RD_ETRANSIENT || rc == RD_ENOMEM) {
        fail_busy(op);
        return;
    }
    if (rc) {
        op_fail(op, 400, "%s", err);
        return;
    }
    op->have_msg = true;
    snprintf(op->name, sizeof op->name, "%s", op->msg.campaign);
    if (op->api->cfg.ccache) {
        rd_ccache_get(op->api->cfg.ccache, op->name, call_cache_cb, op);
        return;
    }
    rc = rd_store_campaign_get(op->api->cfg.store, op->name, call_get_cb, op);
    if (rc) fail_store(op, rc);
}

/* ---- POST /v1/optout ---------------------------------------------------------------- */

static void optout_cb(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status) {
        fail_store(op, status);
        return;
    }
    json_t *o = json_object();
    json_object_set_new(o, "number", json_string(op->msg.to));
    json_object_set_new(o, "opted_out", json_true());
    json_object_set_new(o, "jobs_finished", json_integer(n));
    op_reply(op, 200, o, NULL);
}

static void route_optout(op_t *op) {
    json_t *b = small_body(op, "number");
    if (!b) return;
    const char *num = json_string_value(json_object_get(b, "number"));
    if (!num || !rd_e164_valid(num, json_string_length(json_object_get(b, "number")))) {
        char q[40];
        rd_text_printable(q, sizeof q, num ? num : "");
        op_fail(op, 400, "number: %s%s%s", num ? "\"" : "", num ? q : "is required",
                num ? "\" is not an E.164 number ('+' and 8-15 digits)" : "");
        json_decref(b);
        return;
    }
    snprintf(op->msg.to, sizeof op->msg.to, "%s", num);
    json_decref(b);
    int rc = rd_store_optout(op->api->cfg.store, op->msg.to, rd_clock_now(op->api->cfg.clock),
                             optout_cb, op);
    if (rc) fail_store(op, rc);
}

/* ---- /v1/deadletter ------------------------------------------------------------------- */

static void dl_list_cb(rd_store_t *s, int status, const rd_deadletter_t *e, size_t n, int64_t depth,
                       void *arg) {
    (void)s;
    op_t *op = arg;
    if (status == RD_ENOTFOUND) {
        op_fail(op, 404, "no dead letter %s", op->dl);
        return;
    }
    if (status) {
        fail_store(op, status);
        return;
    }
    if (op->route == R_DL_ONE) {
        op_reply(op, 200, rd_deadletter_to_json(&e[0]), NULL);
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(arr, rd_deadletter_to_json(&e[i]));
    op_reply(op, 200, json_pack("{s:I,s:o}", "depth", (json_int_t)depth, "entries", arr), NULL);
}

static void dl_replay_cb(rd_store_t *s, int status, const char *inbox_id, const char *refusal,
                         void *arg) {
    (void)s;
    op_t *op = arg;
    if (status == RD_ENOTFOUND) {
        op_fail(op, 404, "no dead letter %s", op->dl);
    } else if (status == RD_EINVAL) {
        /* Still invalid: 422 with the inbox's reason; the entry stays. */
        op_reply(op, 422,
                 json_pack("{s:s,s:s,s:s}", "id", op->dl, "result", "invalid", "error", refusal),
                 NULL);
    } else if (status) {
        fail_store(op, status);
    } else {
        op_reply(
            op, 200,
            json_pack("{s:s,s:s,s:s}", "id", op->dl, "result", "replayed", "inbox_id", inbox_id),
            NULL);
    }
}

static void dl_purge_cb(rd_store_t *s, int status, int64_t n, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status)
        fail_store(op, status);
    else if (n == 0)
        op_fail(op, 404, "no dead letter %s", op->dl);
    else
        op_reply(op, 200, json_pack("{s:s,s:I}", "id", op->dl, "purged", (json_int_t)n), NULL);
}

static void route_dl_list(op_t *op) {
    rd_form_t f;
    long long limit = 50;
    const char *before = NULL;
    rd_form_init(&f);
    bool parsed = rd_form_parse(&f, op->req->query, op->req->query_len) == 0;
    if (!parsed) {
        op_fail(op, 400, "query: malformed");
        return;
    }
    const char *l = rd_form_get(&f, "limit");
    before = rd_form_get(&f, "before");
    char *end = NULL;
    if (l) limit = strtoll(l, &end, 10);
    if (l && (!*l || *end || limit < 1 || limit > RD_DEADLETTER_LIST_MAX)) {
        rd_form_deinit(&f);
        op_fail(op, 400, "limit: 1..%d", RD_DEADLETTER_LIST_MAX);
        return;
    }
    if (before && *before && !rd_deadletter_id_valid(before)) {
        rd_form_deinit(&f);
        op_fail(op, 400, "before: an entry id such as 1764756000000-0");
        return;
    }
    snprintf(op->dl, sizeof op->dl, "%s", before ? before : "");
    rd_form_deinit(&f);
    int rc = rd_deadletter_list(op->api->cfg.store, op->dl, (size_t)limit, dl_list_cb, op);
    if (rc) fail_store(op, rc);
}

/* ---- GET /v1/pools ---------------------------------------------------------------------- */

static void pools_cb(rd_store_t *s, int status, const rd_ops_pool_t *p, size_t n, void *arg) {
    (void)s;
    op_t *op = arg;
    if (status) {
        fail_store(op, status);
        return;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a,
                              json_pack("{s:s,s:I,s:I}", "pool", p[i].name, "capacity",
                                        (json_int_t)p[i].capacity, "live", (json_int_t)p[i].live));
    op_reply(op, 200, json_pack("{s:o}", "pools", a), NULL);
}

/* ---- routing ------------------------------------------------------------------------ */

/* Splits the path into at most 6 segments; false when there are more. */
static size_t split(const char *path, size_t len, const char *seg[6], size_t seglen[6]) {
    size_t n = 0, i = 0;
    if (len && path[0] == '/') i = 1;
    if (len > 1 && path[len - 1] == '/') len--; /* one trailing slash is tolerated */
    while (i <= len && n < 7) {
        size_t j = i;
        while (j < len && path[j] != '/') j++;
        if (n == 6) return 7;
        seg[n] = path + i;
        seglen[n++] = j - i;
        i = j + 1;
    }
    return n;
}

static bool seg_is(const char *s, size_t n, const char *lit) {
    return strlen(lit) == n && !memcmp(s, lit, n);
}

static bool seg_name(const char *s, size_t n) { return rd_campaign_name_valid(s, n); }

static bool authorized(rd_api_t *api, rd_http_req_t *req) {
    if (!api->key) {
        rd_http_respond_error(req, 503,
                              "control API disabled: the engine has no "
                              "REDIAL_API_KEY / REDIAL_API_TOKEN");
        return false;
    }
    char buf[1024];
    const char *u = NULL, *p = NULL;
    bool ok = rd_http_basic_auth(req, buf, sizeof buf, &u, &p) == 0;
    if (!ok) u = p = "";
    bool a = rd_secret_equal(u, strlen(u), api->key, strlen(api->key));
    bool b = rd_secret_equal(p, strlen(p), api->token, strlen(api->token));
    if (ok && a && b) return true;
    static const char body[] = "{\"error\":\"authentication required: HTTP basic auth with the "
                               "engine's API key and token\"}";
    rd_http_respond(req, 401, "application/json", "WWW-Authenticate: Basic realm=\"redial\"\r\n",
                    body, sizeof body - 1);
    return false;
}

static bool method_ok(rd_http_req_t *req, const char *allow) {
    /* allow is "GET, PATCH, DELETE" style; match whole words. */
    size_t ml = strlen(req->method);
    for (const char *p = allow; (p = strstr(p, req->method)); p += ml)
        if ((p == allow || p[-1] == ' ') && (p[ml] == ',' || p[ml] == '\0')) return true;
    char hdr[96];
    snprintf(hdr, sizeof hdr, "Allow: %s\r\n", allow);
    char body[160];
    snprintf(body, sizeof body, "{\"error\":\"method %s not allowed here (allowed: %s)\"}",
             req->method, allow);
    rd_http_respond(req, 405, "application/json", hdr, body, strlen(body));
    return false;
}

bool rd_api_handle(rd_api_t *api, rd_http_req_t *req) {
    if (req->path_len < 4 || memcmp(req->path, "/v1/", 4) != 0) return false;
    const char *seg[6];
    size_t sl[6];
    size_t n = split(req->path, req->path_len, seg, sl);
    int route = -1;
    const char *allow = NULL;
    const char *name = NULL, *dl_id = NULL;
    size_t name_len = 0, dl_len = 0;
    if (n == 4 && seg_is(seg[1], sl[1], "Accounts") && sl[2] > 0 &&
        (seg_is(seg[3], sl[3], "Campaigns") || seg_is(seg[3], sl[3], "Campaigns.json"))) {
        route = R_CREATE;
        allow = "POST";
    } else if (n == 2 && seg_is(seg[1], sl[1], "campaigns")) {
        route = R_LIST;
        allow = "GET";
    } else if ((n == 3 || n == 4) && seg_is(seg[1], sl[1], "campaigns")) {
        name = seg[2];
        name_len = sl[2];
        if (n == 3) {
            route = R_CAMPAIGN;
            allow = "GET, PATCH, DELETE";
        } else if (seg_is(seg[3], sl[3], "stats")) {
            route = R_STATS;
            allow = "GET";
        }
    } else if (n == 2 && seg_is(seg[1], sl[1], "calls")) {
        route = R_CALLS;
        allow = "POST";
    } else if (n == 2 && seg_is(seg[1], sl[1], "optout")) {
        route = R_OPTOUT;
        allow = "POST";
    } else if (n == 2 && seg_is(seg[1], sl[1], "pools")) {
        route = R_POOLS;
        allow = "GET";
    } else if (n == 2 && seg_is(seg[1], sl[1], "deadletter")) {
        route = R_DL_LIST;
        allow = "GET";
    } else if ((n == 3 || (n == 4 && seg_is(seg[3], sl[3], "replay"))) &&
               seg_is(seg[1], sl[1], "deadletter")) {
        route = n == 3 ? R_DL_ONE : R_DL_REPLAY;
        allow = n == 3 ? "GET, DELETE" : "POST";
        dl_id = seg[2];
        dl_len = sl[2];
    }
    if (route < 0) {
        rd_http_respond_error(req, 404, "no such API route (see docs/API.md)");
        return true;
    }
    if (!authorized(api, req) || !method_ok(req, allow)) return true;
    if (name && !seg_name(name, name_len)) {
        char q[80], raw[RD_CAMPAIGN_NAME_MAX + 8];
        snprintf(raw, sizeof raw, "%.*s", (int)RD_MIN(name_len, sizeof raw - 1), name);
        rd_text_printable(q, sizeof q, raw);
        respond_err(req, 404, "no campaign named \"%s\"", q);
        return true;
    }
    if (dl_id) {
        char raw[RD_DEADLETTER_ID_MAX];
        snprintf(raw, sizeof raw, "%.*s", (int)RD_MIN(dl_len, sizeof raw - 1), dl_id);
        if (dl_len >= sizeof raw || !rd_deadletter_id_valid(raw)) {
            char q[80];
            rd_text_printable(q, sizeof q, raw);
            respond_err(req, 404, "no dead letter %s (ids look like 1764756000000-0)", q);
            return true;
        }
    }
    op_t *op = rd_calloc(1, sizeof *op);
    op->api = api;
    op->req = req;
    op->route = route;
    if (dl_id) snprintf(op->dl, sizeof op->dl, "%.*s", (int)dl_len, dl_id);
    rd_job_msg_init(&op->msg);
    if (name) memcpy(op->name, name, name_len);
    rd_store_t *s = api->cfg.store;
    int rc = 0;
    switch (route) {
    case R_CREATE:
        route_create(op);
        return true;
    case R_CALLS:
        route_calls(op);
        return true;
    case R_OPTOUT:
        route_optout(op);
        return true;
    case R_LIST:
        rc = rd_store_campaign_list(s, list_cb, op);
        break;
    case R_DL_LIST:
        route_dl_list(op);
        return true;
    case R_POOLS:
        rc = rd_ops_pool_list(s, pools_cb, op);
        break;
    case R_DL_ONE:
        if (req->method_id == HTTP_GET) {
            rc = rd_deadletter_get(s, op->dl, dl_list_cb, op);
        } else {
            const char *ids[1] = {op->dl};
            rc = rd_deadletter_purge(s, ids, 1, dl_purge_cb, op);
        }
        break;
    case R_DL_REPLAY:
        rc = rd_deadletter_replay(s, op->dl, rd_clock_now(api->cfg.clock), dl_replay_cb, op);
        break;
    case R_STATS:
        rc = rd_store_stats(s, op->name, stats_cb, op);
        break;
    case R_CAMPAIGN:
        if (req->method_id == HTTP_GET) {
            rc = rd_store_campaign_get(s, op->name, show_cb, op);
        } else if (req->method_id == HTTP_PATCH) {
            route_patch(op);
            return true;
        } else {
            op->st = RD_CAMP_CANCELED;
            rc = rd_store_campaign_set_state(s, op->name, RD_CAMP_CANCELED,
                                             rd_clock_now(api->cfg.clock), state_cb, op);
        }
        break;
    }
    if (rc) fail_store(op, rc);
    return true;
}
