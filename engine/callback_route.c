/*
 * callback_route.c — auth + parse -> settle (contract in callback_route.h).
 *
 * Security order: provider name, then the secret token (constant time),
 * then the attempt MAC of the URL (`a=` key, `h=` MAC of provider and key
 * under the callback secret, proto/cbauth.h; constant time), then twilio's
 * signature, and only then the body is parsed: a forged request costs a
 * compare and two HMACs, and never reaches Redis. The path secret is in
 * every callback URL, so alone it settles nothing; the MAC binds the
 * provider the attempt was placed with, so a Twilio attempt cannot be
 * reported on the exotel route (which has no signature to check), and the
 * key the settle uses is the one the MAC covers (never a body's
 * CustomField or a bare call id).
 *
 * Fencing is settle's: a second callback for the same attempt, a late one
 * after recovery polled, or one about another call of the job, is answered
 * 200 "duplicate".
 */
#include "engine/callback_route.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "proto/callback.h"
#include "proto/cbauth.h"
#include "proto/form.h"
#include "proto/rd.h"
#include "proto/text.h"

struct rd_callback_route {
    rd_settle_t *settle;
    char *secret, *public_url, *twilio_token;
    size_t secret_len;
    rd_callback_route_stats_t stats;
};

int rd_callback_route_create(const rd_callback_route_cfg_t *cfg, rd_callback_route_t **out) {
    *out = NULL;
    if (!cfg->settle || !cfg->secret || !cfg->secret[0]) return RD_EINVAL;
    rd_callback_route_t *r = rd_calloc(1, sizeof *r);
    r->settle = cfg->settle;
    r->secret = rd_strdup(cfg->secret);
    r->secret_len = strlen(r->secret);
    r->public_url = rd_strdup(cfg->public_url ? cfg->public_url : "");
    size_t n = strlen(r->public_url);
    while (n > 0 && r->public_url[n - 1] == '/') r->public_url[--n] = '\0';
    r->twilio_token = cfg->twilio_token ? rd_strdup(cfg->twilio_token) : NULL;
    *out = r;
    return 0;
}

void rd_callback_route_destroy(rd_callback_route_t *r) {
    if (!r) return;
    rd_free(r->secret);
    rd_free(r->public_url);
    rd_free(r->twilio_token);
    rd_free(r);
}

void rd_callback_route_stats(const rd_callback_route_t *r, rd_callback_route_stats_t *out) {
    *out = r->stats;
}

/* The settle's result as the provider sees it. */
static void on_settled(void *arg, int status) {
    rd_http_req_t *req = arg;
    if (status == 0)
        rd_http_respond_json(req, 200, "{\"result\":\"settled\"}");
    else if (status == RD_ESTALE)
        rd_http_respond_json(req, 200, "{\"result\":\"duplicate\"}");
    else if (status == RD_ENOTFOUND)
        rd_http_respond_error(req, 404, "no such attempt");
    else if (status == RD_EAUTH)
        rd_http_respond_error(req, 403, "forbidden"); /* not the attempt's provider */
    else
        rd_http_respond_error(req, 503, "store unavailable, retry");
}

static void forged(rd_callback_route_t *r, rd_http_req_t *req, const char *why, const char *prov) {
    r->stats.forged++;
    rd_log(RD_LOG_WARN, "callback.forged", "provider", prov, "why", why, NULL);
    rd_http_respond_error(req, 403, "forbidden");
}

/* The attempt key (a=) and its MAC (h=) of the URL, checked; the key is copied to key. */
static bool attempt_mac_ok(rd_callback_route_t *r, rd_http_req_t *req, rd_prov_t prov, char *key,
                           size_t keycap) {
    rd_form_t q;
    rd_form_init(&q);
    bool ok = false;
    if (rd_form_parse(&q, req->query, req->query_len) == 0) {
        const char *a = rd_form_get(&q, "a"), *h = rd_form_get(&q, "h");
        if (a && h && strlen(a) < keycap &&
            rd_cbauth_ok(r->secret, r->secret_len, prov, a, strlen(a), h, strlen(h))) {
            snprintf(key, keycap, "%s", a);
            ok = true;
        }
    }
    rd_form_deinit(&q);
    return ok;
}

/* Token, attempt MAC (and for twilio the signature) of an already routed request. */
static bool authentic(rd_callback_route_t *r, rd_http_req_t *req, rd_prov_t prov, const char *tok,
                      size_t tlen, char *key, size_t keycap) {
    if (!rd_secret_equal(tok, tlen, r->secret, r->secret_len)) {
        forged(r, req, "token", rd_prov_name(prov));
        return false;
    }
    if (!attempt_mac_ok(r, req, prov, key, keycap)) {
        forged(r, req, "attempt mac", rd_prov_name(prov));
        return false;
    }
    if (prov != RD_PROV_TWILIO) return true;
    const char *sig = rd_http_header(req, "X-Twilio-Signature");
    char url[2048];
    if (!r->twilio_token || !sig || rd_fmt(url, sizeof url, "%s%s", r->public_url, req->url) != 0 ||
        !rd_twilio_signature_ok(r->twilio_token, url, strlen(url), req->body, req->body_len, sig,
                                strlen(sig))) {
        forged(r, req, "signature", "twilio");
        return false;
    }
    return true;
}

bool rd_callback_route(rd_callback_route_t *r, rd_http_req_t *req) {
    static const char prefix[] = "/callbacks/";
    size_t pl = sizeof prefix - 1;
    if (req->path_len < pl || memcmp(req->path, prefix, pl) != 0) return false;
    r->stats.received++;
    const char *p = req->path + pl, *end = req->path + req->path_len;
    const char *slash = memchr(p, '/', (size_t)(end - p));
    rd_prov_t prov;
    if (!slash || rd_prov_parse(p, (size_t)(slash - p), &prov) != 0) {
        r->stats.bad++;
        rd_http_respond_error(req, 404, "unknown callback provider");
        return true;
    }
    if (strcmp(req->method, "POST") != 0) {
        r->stats.bad++;
        static const char body[] = "{\"error\":\"method not allowed\"}";
        rd_http_respond(req, 405, "application/json", "Allow: POST\r\n", body, sizeof body - 1);
        return true;
    }
    char key[RD_ATTEMPT_KEY_MAX + 1];
    if (!authentic(r, req, prov, slash + 1, (size_t)(end - slash - 1), key, sizeof key))
        return true;
    rd_call_status_t st;
    memset(&st, 0, sizeof st);
    const char *ctype = rd_http_header(req, "Content-Type");
    int prc =
        rd_callback_parse(prov, ctype, req->body, req->body_len, req->query, req->query_len, &st);
    if (prc == RD_EMEDIATYPE) {
        char shown[64];
        rd_text_printable(shown, sizeof shown, ctype ? ctype : "");
        r->stats.bad++;
        rd_log(RD_LOG_WARN, "callback.unsupported", "provider", rd_prov_name(prov), "content_type",
               shown, NULL);
        rd_http_respond_error(req, 415, "unsupported status callback content type");
        return true;
    }
    if (prc != 0) {
        r->stats.bad++;
        rd_http_respond_error(req, 400, "malformed status callback");
        return true;
    }
    /* The attempt the MAC covers, whatever else the body says. */
    snprintf(st.attempt_key, sizeof st.attempt_key, "%s", key);
    if (!st.terminal) {
        r->stats.ignored++;
        rd_http_respond_json(req, 200, "{\"result\":\"ignored\"}");
        return true;
    }
    if (rd_settle_find(r->settle, &st, "callback", on_settled, req) != 0) {
        r->stats.bad++; /* parsed, yet neither a valid attempt key nor a call id */
        rd_http_respond_error(req, 400, "malformed status callback");
    }
    return true;
}
