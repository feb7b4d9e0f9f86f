/*
 * sim_main.c — redial-sim: the provider simulator and referee as a program
 * (sim/sim.h; docs/SIM.md describes the wire formats, knobs and report).
 *
 * Runs one libuv loop until SIGINT or SIGTERM, then writes the referee's
 * report (stdout, or --report FILE) and exits 0 — or 1 with
 * --fail-on-violation when the referee counted any violation.
 */
#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"
#include "common/exit.h"
#include "common/opts.h"
#include "proto/rd.h"

typedef struct {
    char *listen, *model, *script, *report, *port_file;
    char *time_scale, *time_origin, *time_epoch;
    int seed;
    double ring_min, ring_max, talk_min, talk_max, busy_after, failed_after, no_answer_after;
    double machine_rate, seed_busy_share;
    double cb_loss, cb_dup, cb_reorder;
    int cb_delay_min_ms, cb_delay_max_ms, cb_reorder_ms, cb_retries, cb_retry_ms, cb_timeout_ms;
    int cb_conns;
    double fault_5xx, fault_timeout, fault_429;
    int retry_after, exotel_rate, twilio_rate, answer_delay_ms;
    char *exotel_sid, *exotel_key, *exotel_token, *twilio_sid, *twilio_token;
    char *twilio_api_key, *twilio_api_secret, *caller_ids;
    int log_requests, fail_on_violation;
} opts_t;

#define O(f) offsetof(opts_t, f)
static const rd_opt_t opts[] = {
    {"listen", "REDIAL_SIM_LISTEN", "127.0.0.1:8090", RD_OPT_STR, O(listen),
     "HOST:PORT to serve (port 0: any free port)"},
    {"port-file", "REDIAL_SIM_PORT_FILE", NULL, RD_OPT_STR, O(port_file),
     "write the bound port to this file once listening"},
    {"model", "REDIAL_SIM_MODEL", "seed", RD_OPT_STR, O(model),
     "outcome model: seed | uniform:busy=P,no-answer=P,failed=P,invalid=P,completed=P"},
    {"script", "REDIAL_SIM_SCRIPT", NULL, RD_OPT_STR, O(script),
     "JSON file {\"+91..\": [\"busy\",\"completed\"]}: outcome per successive call (also machine, "
     "5xx, timeout, 429)"},
    {"seed", "REDIAL_SIM_SEED", "1", RD_OPT_INT, O(seed),
     "random seed (same seed + same request order = same outcomes)"},
    {"time-scale", "REDIAL_TIME_SCALE", "1", RD_OPT_STR, O(time_scale), "policy ms per wall ms"},
    {"time-origin", "REDIAL_TIME_ORIGIN", NULL, RD_OPT_STR, O(time_origin),
     "policy time at the epoch (ISO-8601 or unix ms)"},
    {"time-epoch", "REDIAL_TIME_EPOCH", NULL, RD_OPT_STR, O(time_epoch),
     "wall-clock anchor, unix ms (default: start)"},
    {"ring-min", "REDIAL_SIM_RING_MIN", "3", RD_OPT_DOUBLE, O(ring_min),
     "policy seconds of ringing before an answer, minimum"},
    {"ring-max", "REDIAL_SIM_RING_MAX", "20", RD_OPT_DOUBLE, O(ring_max),
     "... maximum (uniform in between)"},
    {"talk-min", "REDIAL_SIM_TALK_MIN", "20", RD_OPT_DOUBLE, O(talk_min),
     "policy seconds of an answered call, minimum (capped by TimeLimit)"},
    {"talk-max", "REDIAL_SIM_TALK_MAX", "120", RD_OPT_DOUBLE, O(talk_max), "... maximum"},
    {"busy-after", "REDIAL_SIM_BUSY_AFTER", "3", RD_OPT_DOUBLE, O(busy_after),
     "policy seconds until a busy call ends"},
    {"failed-after", "REDIAL_SIM_FAILED_AFTER", "1", RD_OPT_DOUBLE, O(failed_after),
     "policy seconds until a failed call ends"},
    {"no-answer-after", "REDIAL_SIM_NO_ANSWER_AFTER", "30", RD_OPT_DOUBLE, O(no_answer_after),
     "ring seconds of an unanswered call when the request has no TimeOut/Timeout"},
    {"machine-rate", "REDIAL_SIM_MACHINE_RATE", "0", RD_OPT_DOUBLE, O(machine_rate),
     "fraction of answered calls answered by a machine"},
    {"seed-busy-share", "REDIAL_SIM_SEED_BUSY_SHARE", "0.45", RD_OPT_DOUBLE, O(seed_busy_share),
     "seed model: fraction of unanswered calls that are busy (rest no-answer)"},
    {"cb-loss", "REDIAL_SIM_CB_LOSS", "0", RD_OPT_DOUBLE, O(cb_loss),
     "fraction of status callbacks never sent"},
    {"cb-dup", "REDIAL_SIM_CB_DUP", "0", RD_OPT_DOUBLE, O(cb_dup),
     "fraction of status callbacks sent twice"},
    {"cb-reorder", "REDIAL_SIM_CB_REORDER", "0", RD_OPT_DOUBLE, O(cb_reorder),
     "fraction of calls whose callbacks arrive out of order (non-terminal after terminal, terminal "
     "late)"},
    {"cb-delay-min-ms", "REDIAL_SIM_CB_DELAY_MIN_MS", "0", RD_OPT_INT, O(cb_delay_min_ms),
     "wall ms between an event and its callback, minimum"},
    {"cb-delay-max-ms", "REDIAL_SIM_CB_DELAY_MAX_MS", "0", RD_OPT_INT, O(cb_delay_max_ms),
     "... maximum (uniform in between)"},
    {"cb-reorder-ms", "REDIAL_SIM_CB_REORDER_MS", "1000", RD_OPT_INT, O(cb_reorder_ms),
     "extra wall-ms window of a reordered callback"},
    {"cb-retries", "REDIAL_SIM_CB_RETRIES", "2", RD_OPT_INT, O(cb_retries),
     "redeliveries after a failed callback (error or non-2xx), then give up"},
    {"cb-retry-ms", "REDIAL_SIM_CB_RETRY_MS", "1000", RD_OPT_INT, O(cb_retry_ms),
     "wall ms between deliveries"},
    {"cb-timeout-ms", "REDIAL_SIM_CB_TIMEOUT_MS", "5000", RD_OPT_INT, O(cb_timeout_ms),
     "wall ms before a callback delivery counts as failed"},
    {"cb-conns", "REDIAL_SIM_CB_CONNS", "64", RD_OPT_INT, O(cb_conns),
     "connections callbacks use per receiving host:port (1..10000); a callback waits for a free "
     "one"},
    {"fault-5xx", "REDIAL_SIM_FAULT_5XX", "0", RD_OPT_DOUBLE, O(fault_5xx),
     "fraction of call requests answered 500/503 (no call made)"},
    {"fault-timeout", "REDIAL_SIM_FAULT_TIMEOUT", "0", RD_OPT_DOUBLE, O(fault_timeout),
     "fraction of call requests never answered (no call made)"},
    {"fault-429", "REDIAL_SIM_FAULT_429", "0", RD_OPT_DOUBLE, O(fault_429),
     "fraction of call requests answered 429 with Retry-After"},
    {"retry-after", "REDIAL_SIM_RETRY_AFTER", "1", RD_OPT_INT, O(retry_after),
     "Retry-After seconds of an injected 429"},
    {"answer-delay-ms", "REDIAL_SIM_ANSWER_DELAY_MS", "0", RD_OPT_INT, O(answer_delay_ms),
     "wall ms an accepted call request waits for its answer (the call runs meanwhile)"},
    {"exotel-rate-per-min", "REDIAL_SIM_EXOTEL_RATE", "200", RD_OPT_INT, O(exotel_rate),
     "exotel account limit, call requests per wall minute (burst the same); 0 = none; over it: "
     "429"},
    {"twilio-rate-per-s", "REDIAL_SIM_TWILIO_RATE", "1", RD_OPT_INT, O(twilio_rate),
     "twilio account limit, call requests per wall second; 0 = none"},
    {"exotel-sid", "REDIAL_SIM_EXOTEL_SID", "sim", RD_OPT_STR, O(exotel_sid),
     "exotel account sid (the {sid} of /v1/Accounts/{sid}/...)"},
    {"exotel-key", "REDIAL_SIM_EXOTEL_KEY", "simkey", RD_OPT_STR, O(exotel_key),
     "exotel API key (basic-auth user)"},
    {NULL, "REDIAL_SIM_EXOTEL_TOKEN", "simtoken", RD_OPT_SECRET, O(exotel_token),
     "exotel API token (basic-auth password)"},
    {"twilio-sid", "REDIAL_SIM_TWILIO_SID", "ACsim", RD_OPT_STR, O(twilio_sid),
     "twilio account sid (basic-auth user)"},
    {NULL, "REDIAL_SIM_TWILIO_TOKEN", "simtoken", RD_OPT_SECRET, O(twilio_token),
     "twilio auth token (basic-auth password, X-Twilio-Signature key)"},
    {"twilio-api-key", "REDIAL_SIM_TWILIO_API_KEY", "", RD_OPT_STR, O(twilio_api_key),
     "twilio API key sid also accepted as basic-auth user (callbacks still signed with the auth "
     "token)"},
    {NULL, "REDIAL_SIM_TWILIO_API_SECRET", NULL, RD_OPT_SECRET, O(twilio_api_secret),
     "secret of --twilio-api-key"},
    {"caller-ids", "REDIAL_SIM_CALLER_IDS", "", RD_OPT_STR, O(caller_ids),
     "comma-separated caller ids the account owns ('' = any); a dial from another gets twilio "
     "21212 / exotel 400"},
    {"report", "REDIAL_SIM_REPORT", "-", RD_OPT_STR, O(report),
     "where the report goes at exit ('-' = stdout)"},
    {"log-requests", "REDIAL_SIM_LOG_REQUESTS", "false", RD_OPT_BOOL, O(log_requests),
     "one stderr line per request (slow)"},
    {"fail-on-violation", "REDIAL_SIM_FAIL_ON_VIOLATION", "false", RD_OPT_BOOL,
     O(fail_on_violation), "exit 1 when the referee counted a violation"},
};
#undef O

static const char usage[] =
    "usage: redial-sim [flags]\n"
    "Provider simulator (exotel, twilio wire formats) and referee; see docs/SIM.md.\n"
    "Endpoints: POST /v1/Accounts/{sid}/Calls/connect.json, GET .../Calls/{CallSid}.json,\n"
    "POST /v1/Accounts/{sid}/Sms/send.json, POST /2010-04-01/Accounts/{sid}/Calls.json,\n"
    "GET /2010-04-01/Accounts/{sid}/Calls/{CallSid}.json, GET /sim/report, POST /sim/campaigns,\n"
    "POST /sim/dnd, POST /sim/optout, POST /sim/agents, POST /sim/script, POST /sim/faults,\n"
    "GET /sim/calls/{sid},\n"
    "GET /sim/numbers/{number}, GET /healthz. SIGINT/SIGTERM: write the report and exit.\n";

typedef struct {
    rd_sim_t *sim;
    uv_signal_t sigint, sigterm;
    char *report;
    uint64_t violations;
    bool stopping;
} app_t;

static void on_sim_closed(void *data) {
    app_t *a = data;
    uv_close((uv_handle_t *)&a->sigint, NULL);
    uv_close((uv_handle_t *)&a->sigterm, NULL);
}

static void on_signal(uv_signal_t *h, int sig) {
    app_t *a = h->data;
    if (a->stopping) return;
    a->stopping = true;
    a->report = rd_sim_report(a->sim);
    a->violations = rd_sim_violations(a->sim);
    rd_sim_close(a->sim, on_sim_closed, a);
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, len = 0;
    char *buf = rd_malloc(cap);
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) buf = rd_realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[len] = '\0';
    return buf;
}

int main(int argc, char **argv) {
    opts_t o = {0};
    char err[512];
    int rc = rd_opts_parse(opts, RD_ARRAY_LEN(opts), &o, argc, argv, NULL, usage, err, sizeof err);
    if (rc != 0) {
        if (rc != 1) fprintf(stderr, "redial-sim: %s\n", err);
        rd_opts_free(opts, RD_ARRAY_LEN(opts), &o);
        return rc == 1 ? 0 : 2;
    }
    int status = 2;
    char *script = NULL;
    rd_sim_config_t cfg;
    rd_sim_config_defaults(&cfg);
    char host[256];
    const char *colon = strrchr(o.listen, ':');
    if (!colon || (size_t)(colon - o.listen) >= sizeof host) {
        fprintf(stderr, "redial-sim: --listen: expected HOST:PORT\n");
        goto done;
    }
    memcpy(host, o.listen, (size_t)(colon - o.listen));
    host[colon - o.listen] = '\0';
    cfg.host = host;
    cfg.port = atoi(colon + 1);
    if (rd_sim_model_parse(o.model, &cfg.model, err, sizeof err) != 0) {
        fprintf(stderr, "redial-sim: %s\n", err);
        goto done;
    }
    if (o.script) {
        script = read_file(o.script);
        if (!script) {
            fprintf(stderr, "redial-sim: --script: cannot read %s\n", o.script);
            goto done;
        }
        cfg.script_json = script;
    }
    if (rd_clock_init(&cfg.clock, o.time_scale, o.time_origin, o.time_epoch, err, sizeof err) !=
        0) {
        fprintf(stderr, "redial-sim: %s\n", err);
        goto done;
    }
    cfg.seed = (uint64_t)(unsigned)o.seed;
    cfg.ring_min_s = o.ring_min;
    cfg.ring_max_s = o.ring_max;
    cfg.talk_min_s = o.talk_min;
    cfg.talk_max_s = o.talk_max;
    cfg.busy_s = o.busy_after;
    cfg.failed_s = o.failed_after;
    cfg.no_answer_s = o.no_answer_after;
    cfg.machine_rate = o.machine_rate;
    cfg.seed_busy_share = o.seed_busy_share;
    cfg.cb_loss = o.cb_loss;
    cfg.cb_dup = o.cb_dup;
    cfg.cb_reorder = o.cb_reorder;
    cfg.cb_delay_min_ms = o.cb_delay_min_ms;
    cfg.cb_delay_max_ms = o.cb_delay_max_ms;
    cfg.cb_reorder_ms = o.cb_reorder_ms;
    cfg.cb_retries = o.cb_retries;
    cfg.cb_retry_ms = o.cb_retry_ms;
    cfg.cb_timeout_ms = o.cb_timeout_ms;
    if (o.cb_conns < 1 || o.cb_conns > 10000) {
        fprintf(stderr, "redial-sim: --cb-conns: must be 1..10000\n");
        goto done;
    }
    cfg.cb_conns = o.cb_conns;
    cfg.fault_5xx = o.fault_5xx;
    cfg.fault_timeout = o.fault_timeout;
    cfg.fault_429 = o.fault_429;
    cfg.answer_delay_ms = o.answer_delay_ms;
    cfg.retry_after_s = o.retry_after;
    cfg.exotel_rate_per_min = o.exotel_rate;
    cfg.twilio_rate_per_s = o.twilio_rate;
    cfg.exotel_sid = o.exotel_sid;
    cfg.exotel_key = o.exotel_key;
    cfg.exotel_token = o.exotel_token;
    cfg.twilio_sid = o.twilio_sid;
    cfg.twilio_token = o.twilio_token;
    cfg.twilio_api_key = o.twilio_api_key;
    cfg.twilio_api_secret = o.twilio_api_secret;
    cfg.caller_ids = o.caller_ids;
    cfg.log_requests = o.log_requests;

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    uv_loop_t loop;
    uv_loop_init(&loop);
    app_t app = {0};
    if (rd_sim_create(&loop, &cfg, &app.sim, err, sizeof err) != 0) {
        fprintf(stderr, "redial-sim: %s\n", err);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        curl_global_cleanup();
        goto done;
    }
    uv_signal_init(&loop, &app.sigint);
    uv_signal_init(&loop, &app.sigterm);
    app.sigint.data = app.sigterm.data = &app;
    uv_signal_start(&app.sigint, on_signal, SIGINT);
    uv_signal_start(&app.sigterm, on_signal, SIGTERM);
    int port = rd_sim_port(app.sim);
    fprintf(stderr, "redial-sim: listening on %s:%d\n", host, port);
    if (o.port_file) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.tmp", o.port_file);
        FILE *f = fopen(tmp, "w");
        if (f) {
            fprintf(f, "%d\n", port);
            fclose(f);
            rename(tmp, o.port_file);
        }
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    curl_global_cleanup();
    status = 0;
    if (app.report) {
        FILE *out = strcmp(o.report, "-") ? fopen(o.report, "w") : stdout;
        if (!out) {
            fprintf(stderr, "redial-sim: --report: cannot write %s\n", o.report);
            status = 1;
        } else {
            fputs(app.report, out);
            fputc('\n', out);
            if (out != stdout)
                fclose(out);
            else
                fflush(out);
        }
        if (o.fail_on_violation && app.violations > 0) status = RD_EXIT_FAILED;
        rd_free(app.report);
    }
done:
    rd_free(script);
    rd_opts_free(opts, RD_ARRAY_LEN(opts), &o);
    return status;
}
