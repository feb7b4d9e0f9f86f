/*
 * conformance_check — replays outside references through redial's pure
 * parsers and adapters (scripts/test.sh, conformance stage; tests/conformance/).
 *
 *   conformance_check sig FILE.tsv
 *       Lines "token \t url \t form body \t signature" computed by the
 *       official twilio npm package (twilio_oracle.js): redial's signer
 *       (rd_twilio_signature, which redial-sim signs callbacks with) must
 *       produce the same signature and its verifier (rd_twilio_signature_ok)
 *       must accept it — and refuse it under another token.
 *   conformance_check fixtures DIR
 *       Every DIR/<provider>/NAME.json: a request or response taken from the
 *       provider's documentation (each file names its page in "source"),
 *       replayed through the adapter (dial/sms request building, answer
 *       classification) or the callback parser, and compared with "expect".
 *
 * Exit 0 when everything agrees, 1 otherwise (each disagreement on stderr).
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/callback.h"
#include "proto/form.h"
#include "proto/rd.h"
#include "workers/provider.h"

static int failures;

#define CHECK(cond, ...)                                 \
    do {                                                 \
        if (!(cond)) {                                   \
            fprintf(stderr, "conformance: %s: ", where); \
            fprintf(stderr, __VA_ARGS__);                \
            fputc('\n', stderr);                         \
            failures++;                                  \
        }                                                \
    } while (0)

static int check_sigs(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "conformance: cannot read %s\n", path);
        return 1;
    }
    char line[16384];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        while (l && (line[l - 1] == '\n' || line[l - 1] == '\r')) line[--l] = '\0';
        if (!l) continue;
        char *tok = line, *url = strchr(tok, '\t');
        char *body = url ? strchr(++url, '\t') : NULL;
        char *sig = body ? strchr(++body, '\t') : NULL;
        if (!sig) {
            fprintf(stderr, "conformance: %s: malformed line %d\n", path, n + 1);
            failures++;
            continue;
        }
        url[-1] = body[-1] = '\0';
        *sig++ = '\0';
        const char *where = url;
        char mine[RD_TWILIO_SIG_LEN + 1] = "";
        int rc = rd_twilio_signature(tok, url, strlen(url), body, strlen(body), mine);
        CHECK(rc == 0 && strcmp(mine, sig) == 0, "signer gave %s (rc %d), twilio-node %s [%s]",
              mine, rc, sig, body);
        CHECK(rd_twilio_signature_ok(tok, url, strlen(url), body, strlen(body), sig, strlen(sig)),
              "verifier refused twilio-node's signature");
        CHECK(!rd_twilio_signature_ok("another-token", url, strlen(url), body, strlen(body), sig,
                                      strlen(sig)),
              "verifier accepted a signature under another token");
        n++;
    }
    fclose(f);
    printf("conformance: %d twilio-node signatures: redial signer and verifier agree\n", n);
    return n > 0 ? 0 : 1;
}

static const char *jstr(json_t *o, const char *k, const char *dflt) {
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The fixture's body: "body" as text, or "body_json" serialised. Owned. */
static char *fixture_body(json_t *fx) {
    json_t *bj = json_object_get(fx, "body_json");
    if (bj) return json_dumps(bj, JSON_COMPACT | JSON_PRESERVE_ORDER);
    return strdup(jstr(fx, "body", ""));
}

static rd_outcome_t outcome_of(const char *s) {
    rd_outcome_t o = RD_OUT_IN_PROGRESS;
    if (s) rd_outcome_parse(s, &o);
    return o;
}

static const char *answered_name(rd_answered_by_t a) {
    return a == RD_ANSWERED_HUMAN ? "human" : a == RD_ANSWERED_MACHINE ? "machine" : "unknown";
}

/* Common call-status expectations. */
static void expect_call(const char *where, const rd_call_status_t *cs, json_t *ex) {
    const char *v;
    if ((v = jstr(ex, "call_id", NULL)))
        CHECK(strcmp(cs->call_id, v) == 0, "call id %s, want %s", cs->call_id, v);
    if ((v = jstr(ex, "status", NULL)))
        CHECK(strcmp(cs->status, v) == 0, "status %s, want %s", cs->status, v);
    if ((v = jstr(ex, "outcome", NULL)))
        CHECK(cs->outcome == outcome_of(v), "outcome %s, want %s", rd_outcome_name(cs->outcome), v);
    if ((v = jstr(ex, "answered_by", NULL)))
        CHECK(strcmp(answered_name(cs->answered_by), v) == 0, "answered_by %s, want %s",
              answered_name(cs->answered_by), v);
    if ((v = jstr(ex, "attempt_key", NULL)))
        CHECK(strcmp(cs->attempt_key, v) == 0, "attempt key %s, want %s", cs->attempt_key, v);
    json_t *t = json_object_get(ex, "terminal");
    if (json_is_boolean(t)) CHECK(cs->terminal == json_is_true(t), "terminal %d", cs->terminal);
    json_t *d = json_object_get(ex, "duration_s");
    if (json_is_integer(d))
        CHECK(cs->duration_s == json_integer_value(d), "duration %d", (int)cs->duration_s);
}

static void replay_answer(const char *where, rd_prov_t p, json_t *fx, rd_work_kind_t kind) {
    char *body = fixture_body(fx);
    json_t *ex = json_object_get(fx, "expect");
    rd_work_result_t r;
    memset(&r, 0, sizeof r);
    rd_provider_ops(p)->classify(kind, (int)json_integer_value(json_object_get(fx, "http_status")),
                                 body, strlen(body), &r);
    const char *want = jstr(ex, "result", "?");
    CHECK(strcmp(rd_res_kind_name(r.kind), want) == 0, "result %s, want %s (%s)",
          rd_res_kind_name(r.kind), want, r.reason);
    const char *v;
    if ((v = jstr(ex, "refused_as", NULL)))
        CHECK(r.kind == RD_RES_REFUSED && r.outcome == outcome_of(v), "refused as %s, want %s",
              rd_outcome_name(r.outcome), v);
    if ((v = jstr(ex, "reason_contains", NULL)))
        CHECK(strstr(r.reason, v) != NULL, "reason \"%s\" lacks \"%s\"", r.reason, v);
    if (r.kind == RD_RES_PLACED || r.kind == RD_RES_STATUS) expect_call(where, &r.call, ex);
    free(body);
}

static void replay_callback(const char *where, rd_prov_t p, json_t *fx) {
    char *body = fixture_body(fx);
    const char *ct = jstr(fx, "content_type", NULL), *q = jstr(fx, "query", NULL);
    json_t *ex = json_object_get(fx, "expect");
    rd_call_status_t cs;
    int rc = rd_callback_parse(p, ct, body, strlen(body), q, q ? strlen(q) : 0, &cs);
    const char *err = jstr(ex, "error", NULL);
    if (err)
        CHECK(rc != 0 && strcmp(rd_err_name(rc), err) == 0, "parse gave %s, want %s",
              rc ? rd_err_name(rc) : "ok", err);
    else
        CHECK(rc == 0, "parse failed: %s", rd_strerror(rc));
    if (rc == 0) expect_call(where, &cs, ex);
    free(body);
}

/* A request the adapter builds must use the documented path and names. */
static void replay_request(const char *where, rd_prov_t p, json_t *fx, bool sms) {
    rd_account_cfg_t a;
    rd_account_cfg_init(&a);
    a.kind = p;
    a.base_url = "https://api.example.invalid";
    a.sid = jstr(fx, "account_sid", "acct");
    json_t *in = json_object_get(fx, "input"), *ex = json_object_get(fx, "expect");
    char url[1024], body[8192];
    rd_http_call_t call = {
        .url = url, .url_cap = sizeof url, .body = body, .body_cap = sizeof body};
    int rc;
    if (sms) {
        rd_sms_t s;
        memset(&s, 0, sizeof s);
        snprintf(s.to, sizeof s.to, "%s", jstr(in, "to", ""));
        snprintf(s.from, sizeof s.from, "%s", jstr(in, "from", ""));
        snprintf(s.body, sizeof s.body, "%s", jstr(in, "body", ""));
        snprintf(s.dlt_entity_id, sizeof s.dlt_entity_id, "%s", jstr(in, "dlt_entity_id", ""));
        snprintf(s.dlt_template_id, sizeof s.dlt_template_id, "%s",
                 jstr(in, "dlt_template_id", ""));
        rc = rd_provider_ops(p)->sms(&a, &s, &call);
    } else {
        rd_dial_t d;
        memset(&d, 0, sizeof d);
        d.mode = strcmp(jstr(in, "mode", "flow"), "agent") == 0 ? RD_MODE_AGENT : RD_MODE_FLOW;
        snprintf(d.to, sizeof d.to, "%s", jstr(in, "to", ""));
        snprintf(d.agent, sizeof d.agent, "%s", jstr(in, "agent", ""));
        snprintf(d.caller_id, sizeof d.caller_id, "%s", jstr(in, "caller_id", ""));
        snprintf(d.flow, sizeof d.flow, "%s", jstr(in, "flow", ""));
        snprintf(d.status_callback, sizeof d.status_callback, "%s",
                 jstr(in, "status_callback", ""));
        snprintf(d.attempt_key, sizeof d.attempt_key, "%s", jstr(in, "attempt_key", ""));
        d.ring_timeout_s = (int)json_integer_value(json_object_get(in, "ring_timeout_s"));
        d.time_limit_s = (int)json_integer_value(json_object_get(in, "time_limit_s"));
        const char *amd = jstr(in, "machine_detection", "off");
        d.machine_detection = !strcmp(amd, "enable")               ? RD_AMD_ENABLE
                              : !strcmp(amd, "detect_message_end") ? RD_AMD_DETECT_MESSAGE_END
                                                                   : RD_AMD_OFF;
        rc = rd_provider_ops(p)->dial(&a, &d, &call);
    }
    CHECK(rc == 0, "adapter refused the request: %s", rd_strerror(rc));
    if (rc != 0) return;
    const char *path = jstr(ex, "path", "");
    CHECK(strcmp(url + strlen(a.base_url), path) == 0, "path %s, want %s", url + strlen(a.base_url),
          path);
    CHECK(call.post == !strcmp(jstr(ex, "method", "POST"), "POST"), "method");
    rd_form_t f;
    rd_form_init(&f);
    CHECK(rd_form_parse(&f, body, call.body_len) == 0, "body is not a form");
    /* Every parameter we send is one the provider documents. */
    json_t *allowed = json_object_get(ex, "documented_params");
    for (size_t i = 0; i < f.n && json_is_array(allowed); i++) {
        bool ok = false;
        size_t k;
        json_t *v;
        json_array_foreach(allowed, k, v) {
            if (json_is_string(v) && !strcmp(json_string_value(v), f.pairs[i].key)) ok = true;
        }
        CHECK(ok, "parameter %s is not in the documented list", f.pairs[i].key);
    }
    /* And the values that matter. */
    const char *key;
    json_t *val;
    json_object_foreach(json_object_get(ex, "values"), key, val) {
        const char *got = rd_form_get(&f, key);
        if (json_is_null(val))
            CHECK(got == NULL, "%s sent (%s), want absent", key, got);
        else
            CHECK(got && json_is_string(val) && !strcmp(got, json_string_value(val)),
                  "%s = %s, want %s", key, got ? got : "(absent)", json_string_value(val));
    }
    rd_form_deinit(&f);
}

static int replay_file(const char *path) {
    json_error_t je;
    json_t *fx = json_load_file(path, 0, &je);
    const char *where = path;
    if (!json_is_object(fx)) {
        fprintf(stderr, "conformance: %s: %s\n", path, je.text);
        failures++;
        return 0;
    }
    CHECK(strncmp(jstr(fx, "source", ""), "https://", 8) == 0, "no \"source\" page");
    rd_prov_t p;
    const char *pn = jstr(fx, "provider", "");
    if (rd_prov_parse(pn, strlen(pn), &p) != 0) {
        CHECK(0, "unknown provider %s", pn);
        json_decref(fx);
        return 0;
    }
    const char *kind = jstr(fx, "kind", "");
    if (!strcmp(kind, "dial_response"))
        replay_answer(where, p, fx, RD_WORK_DIAL);
    else if (!strcmp(kind, "poll_response"))
        replay_answer(where, p, fx, RD_WORK_POLL);
    else if (!strcmp(kind, "sms_response"))
        replay_answer(where, p, fx, RD_WORK_SMS);
    else if (!strcmp(kind, "callback"))
        replay_callback(where, p, fx);
    else if (!strcmp(kind, "dial_request"))
        replay_request(where, p, fx, false);
    else if (!strcmp(kind, "sms_request"))
        replay_request(where, p, fx, true);
    else
        CHECK(0, "unknown kind %s", kind);
    json_decref(fx);
    return 1;
}

static int replay_dir(const char *dir) {
    int n = 0;
    static const char *const provs[] = {"exotel", "twilio"};
    for (size_t i = 0; i < 2; i++) {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", dir, provs[i]);
        DIR *d = opendir(sub);
        if (!d) {
            fprintf(stderr, "conformance: no fixtures in %s\n", sub);
            failures++;
            continue;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t l = strlen(e->d_name);
            if (l < 6 || strcmp(e->d_name + l - 5, ".json") != 0) continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
            n += replay_file(path);
        }
        closedir(d);
    }
    printf("conformance: %d documentation fixtures replayed, %d disagreements\n", n, failures);
    return n > 0 ? 0 : 1;
}

int main(int argc, char **argv) {
    int rc = 2;
    if (argc == 3 && !strcmp(argv[1], "sig"))
        rc = check_sigs(argv[2]);
    else if (argc == 3 && !strcmp(argv[1], "fixtures"))
        rc = replay_dir(argv[2]);
    else
        fprintf(stderr, "usage: conformance_check sig FILE.tsv | fixtures DIR\n");
    return rc ? rc : failures ? 1 : 0;
}
