/*
 * server.c — redial-server's loop thread: wiring, start, stop, signals.
 *
 * The stages live in their own files (docs/DESIGN.md, "The life of a
 * job"): ingest.c, dispatch.c, settle.c, callback_route.c, recovery.c,
 * sms.c, metrics.c; their shared state is server_int.h. This file builds
 * them from the configuration, runs the two HTTP listeners — the public one
 * (--listen: provider callbacks only, as the internet may reach it) and the
 * admin one (--admin-listen: control API, /healthz, /metrics, /metrics/cluster,
 * the console; keep it
 * private, docs/security.md) — and runs the stop:
 *
 * Stop. Stop claiming and ingesting, drop held SMS, let the pool drain (dials
 * in flight get their provider call id), wait for every counted operation
 * (srv->ops), then close the timers, signals, listener and store, in that
 * order, so no callback ever runs against a freed server.
 */
#include "engine/server.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/log.h"
#include "common/redis.h"
#include "engine/console.h"
#include "engine/metrics_cluster.h"
#include "engine/dispatch.h"
#include "engine/server_int.h"
#include "engine/sms.h"
#include "proto/rd.h"
#include "workers/provider.h"

/* ---- HTTP -------------------------------------------------------------------- */

/* 200 when Redis is up and we are not stopping; else 503 with the link's reason. */
static void serve_healthz(rd_server_t *srv, rd_http_req_t *req) {
    bool up = rd_store_connected(srv->store), clock = rd_server__clock_ok(srv);
    bool ok = up && clock && !srv->stopping;
    const char *why = up ? NULL : rd_store_link_error(srv->store, NULL);
    json_t *j = json_pack("{s:s, s:b, s:b, s:b}", "status", ok ? "ok" : "unavailable", "redis", up,
                          "clock", clock, "stopping", srv->stopping);
    if (j && !up) json_object_set_new(j, "reason", json_string(why ? why : "connecting"));
    if (j && up && !clock && srv->clockwatch)
        json_object_set_new(j, "reason", json_string(rd_clockwatch_why(srv->clockwatch)));
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    rd_http_respond_json(req, ok ? 200 : 503, body ? body : "{}");
    free(body);
}

bool rd_server__clock_ok(const rd_server_t *srv) {
    rd_clockwatch_state_t st =
        srv->clockwatch ? rd_clockwatch_state(srv->clockwatch) : RD_CLOCKWATCH_OK;
    return st != RD_CLOCKWATCH_SKEWED && st != RD_CLOCKWATCH_MISMATCH;
}

static const char metrics_401[] = "{\"error\":\"bearer token required\"}";

/* /metrics holds campaign names and business figures: a bearer token when configured. */
static bool metrics_authorized(const rd_server_t *srv, const rd_http_req_t *req) {
    const char *tok = srv->cfg->metrics_token;
    if (!tok || !*tok) return true;
    const char *h = rd_http_header(req, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) return false;
    h += 7;
    return rd_secret_equal(h, strlen(h), tok, strlen(tok));
}

/* The public listener: provider callbacks and nothing else. */
static void on_public_http(rd_http_req_t *req, void *data) {
    rd_server_t *srv = data;
    rd_count(srv->ctr, RD_M_HTTP_REQUESTS, 1);
    if (rd_callback_route(srv->route, req)) return;
    rd_http_respond_error(req, 404, "no such route");
}

/* The admin listener: control API, /healthz, /metrics, /metrics/cluster, the console. */
static void on_admin_http(rd_http_req_t *req, void *data) {
    rd_server_t *srv = data;
    rd_count(srv->ctr, RD_M_HTTP_REQUESTS, 1);
    if (rd_api_handle(srv->api, req)) return;
    if (rd_console_handle(req)) return;
    bool cluster = strcmp(req->path, "/metrics/cluster") == 0;
    if (strcmp(req->path, "/healthz") == 0) {
        serve_healthz(srv, req);
    } else if (strcmp(req->path, "/metrics") == 0 || cluster) {
        if (!metrics_authorized(srv, req))
            rd_http_respond(req, 401, "application/json", "WWW-Authenticate: Bearer\r\n",
                            metrics_401, sizeof metrics_401 - 1);
        else if (cluster)
            rd_metrics_cluster_serve(srv->store, &srv->clock, 0, req);
        else
            rd_metrics_serve(srv, req);
    } else {
        rd_http_respond_error(req, 404, "no such route");
    }
}

/* ---- signals and stop ----------------------------------------------------- */

static void on_closed_handle(uv_handle_t *h) { (void)h; }

static void on_store_closed(void *arg) {
    rd_server_t *srv = arg;
    rd_log(RD_LOG_INFO, "server.stopped", "engine", srv->engine_id, NULL);
}

static void on_httpd_closed(void *arg) {
    rd_server_t *srv = arg;
    if (--srv->httpd_open > 0) return;
    if (srv->clockwatch) rd_clockwatch_close(srv->clockwatch, NULL, NULL);
    /* Kept placed writes are logged (journal.lost): the crash window. */
    if (srv->journal) rd_journal_close(srv->journal, NULL, NULL);
    rd_store_close(srv->store, on_store_closed, srv);
}

void rd_server__maybe_stopped(rd_server_t *srv) {
    if (!srv->stopping || srv->closing || !srv->pool_closed || srv->ops > 0) return;
    if (srv->ingest && !srv->ingest_closed) return;
    srv->closing = true;
    uv_close((uv_handle_t *)&srv->claim_timer, on_closed_handle);
    uv_close((uv_handle_t *)&srv->recover_timer, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_term, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_int, on_closed_handle);
    uv_close((uv_handle_t *)&srv->sig_hup, on_closed_handle);
    srv->httpd_open = srv->admin_httpd ? 2 : 1;
    if (srv->admin_httpd) rd_httpd_close(srv->admin_httpd, on_httpd_closed, srv);
    rd_httpd_close(srv->httpd, on_httpd_closed, srv);
}

static void on_pool_closed(void *arg) {
    rd_server_t *srv = arg;
    srv->pool_closed = true;
    rd_server__maybe_stopped(srv);
}

static void on_ingest_closed(void *arg) {
    rd_server_t *srv = arg;
    srv->ingest_closed = true;
    rd_server__maybe_stopped(srv);
}

void rd_server_stop(rd_server_t *srv) {
    if (srv->stopping) return;
    srv->stopping = true;
    char n[16];
    snprintf(n, sizeof n, "%d", srv->inflight);
    rd_log(RD_LOG_INFO, "server.stopping", "engine", srv->engine_id, "inflight", n, NULL);
    uv_timer_stop(&srv->claim_timer);
    uv_timer_stop(&srv->recover_timer);
    if (srv->ingest) rd_ingest_close(srv->ingest, on_ingest_closed, srv);
    rd_sms_tick(srv, true);
    rd_pool_close(srv->pool, on_pool_closed, srv);
}

static void on_signal(uv_signal_t *h, int signum) {
    rd_server_t *srv = h->data;
    if (signum == SIGHUP) {
        rd_log_reopen();
        rd_log(RD_LOG_INFO, "log.reopened", NULL);
        return;
    }
    rd_server_stop(srv);
}

/* ---- start ---------------------------------------------------------------- */

static int parse_listen(const char *s, char *host, size_t hostlen, int *port) {
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s) return RD_EINVAL;
    size_t hl = (size_t)(colon - s);
    if (hl >= hostlen) return RD_EINVAL;
    memcpy(host, s, hl);
    host[hl] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 0 || p > 65535) return RD_EINVAL;
    *port = (int)p;
    return 0;
}

/* The checks that need no resource; fills engine_id, host and port. */
static int check_config(rd_server_t *srv, char *host, size_t hostlen, int *port, char *err,
                        size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    int rc =
        rd_clock_init(&srv->clock, cfg->time_scale, cfg->time_origin, cfg->time_epoch, err, errlen);
    if (rc != 0) return rc;
    if (rd_prov_parse(cfg->provider, strlen(cfg->provider), &srv->provider) != 0) {
        snprintf(err, errlen, "--provider: '%s' is not exotel or twilio", cfg->provider);
        return RD_EINVAL;
    }
    if (!cfg->callback_secret || !*cfg->callback_secret) {
        snprintf(err, errlen,
                 "REDIAL_CALLBACK_SECRET (or _FILE) is required: it authenticates "
                 "provider callbacks");
        return RD_EINVAL;
    }
    if (cfg->workers < 0 || cfg->workers > 64 || cfg->inflight < 1 || cfg->batch < 1 ||
        cfg->batch > 1000 || cfg->batch_wait_ms < 0 || cfg->batch_wait_ms > 1000) {
        snprintf(err, errlen,
                 "--workers 0..64, --inflight >= 1, --batch 1..1000, --batch-wait-ms 0..1000");
        return RD_EINVAL;
    }
    if (parse_listen(cfg->listen, host, hostlen, port) != 0) {
        snprintf(err, errlen, "--listen: '%s' is not HOST:PORT", cfg->listen);
        return RD_EINVAL;
    }
    if (parse_listen(cfg->admin_listen, srv->admin_host, sizeof srv->admin_host,
                     &srv->admin_port) != 0) {
        snprintf(err, errlen, "--admin-listen: '%s' is not HOST:PORT", cfg->admin_listen);
        return RD_EINVAL;
    }
    if (strcmp(cfg->listen, cfg->admin_listen) == 0 && *port != 0) {
        snprintf(err, errlen, "--listen and --admin-listen must differ (public vs private)");
        return RD_EINVAL;
    }
    if ((rc = rd_server_http_check(cfg, err, errlen)) != 0) return rc;
    if (cfg->engine_id && *cfg->engine_id) {
        snprintf(srv->engine_id, sizeof srv->engine_id, "%s", cfg->engine_id);
    } else {
        char hn[64] = "host";
        gethostname(hn, sizeof hn - 1);
        snprintf(srv->engine_id, sizeof srv->engine_id, "%s-%d", hn, (int)getpid());
    }
    if (cfg->public_url && *cfg->public_url)
        snprintf(srv->public_url, sizeof srv->public_url, "%s", cfg->public_url);
    else
        snprintf(srv->public_url, sizeof srv->public_url, "http://%s", cfg->listen);
    size_t pl = strlen(srv->public_url);
    if (pl && srv->public_url[pl - 1] == '/') srv->public_url[pl - 1] = '\0';
    if (strlen(srv->public_url) + strlen(cfg->callback_secret) + 32 + RD_ATTEMPT_KEY_MAX >=
        RD_DIAL_URL_MAX) {
        snprintf(err, errlen, "--public-url and REDIAL_CALLBACK_SECRET together are too long");
        return RD_EINVAL;
    }
    return 0;
}

static void on_clock_change(void *data, rd_clockwatch_state_t st) {
    rd_server_t *srv = data;
    char skew[24];
    snprintf(skew, sizeof skew, "%lld", (long long)rd_clockwatch_skew_ms(srv->clockwatch));
    if (st == RD_CLOCKWATCH_SKEWED || st == RD_CLOCKWATCH_MISMATCH) {
        rd_log(RD_LOG_ERROR, "clock.refused", "engine", srv->engine_id, "skew_ms", skew, "error",
               rd_clockwatch_why(srv->clockwatch), NULL);
    } else if (st == RD_CLOCKWATCH_OK) {
        rd_log(RD_LOG_INFO, "clock.ok", "engine", srv->engine_id, "skew_ms", skew, NULL);
        rd_dispatch_kick(srv, 0);
    }
}

/* Clock discipline: a blocking check refuses the start (skewed, or time
   settings other than the deployment's); then a periodic one stops claims
   while it fails. Redis unreachable at start: the periodic check decides. */
static int make_clockwatch(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_redis_addr_t addr;
    rd_redis_parse_url("redis://127.0.0.1:6379/0", &addr);
    if (rd_redis_addr_config(cfg->redis_url, cfg->redis_password, &addr) != 0) return 0;
    rd_clockwatch_cfg_t cw = {
        .addr = &addr,
        .prefix = rd_store_prefix(srv->store),
        .engine_id = srv->engine_id,
        .clock = &srv->clock,
        .on_change = on_clock_change,
        .data = srv,
    };
    char why[320];
    int rc = rd_clockwatch_check_sync(&cw, why, sizeof why);
    if (rc == RD_ERANGE || rc == RD_EEXISTS) {
        snprintf(err, errlen, "clock: %s", why);
        return rc;
    }
    if (rc != 0) rd_log(RD_LOG_WARN, "clock.unchecked", "error", why, NULL);
    rc = rd_clockwatch_create(srv->loop, &cw, &srv->clockwatch);
    if (rc != 0) snprintf(err, errlen, "clock watch: %s", rd_strerror(rc));
    return rc;
}

/* The store (with the provider's rate bucket), campaign cache, stats cache. */
static int make_store(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_store_opts_t so;
    rd_store_opts_init(&so);
    so.url = cfg->redis_url;
    so.password = cfg->redis_password;
    so.prefix = cfg->prefix;
    so.batch_wait_ms = (uint32_t)cfg->batch_wait_ms;
    char bucket[160];
    snprintf(bucket, sizeof bucket, "%s:%s", rd_prov_name(srv->provider),
             cfg->provider_sid && *cfg->provider_sid ? cfg->provider_sid : "default");
    so.bucket = bucket;
    if (rd_provider_rate(srv->provider, cfg->provider_rate, &so.bucket_rate, &so.bucket_burst) !=
        0) {
        snprintf(err, errlen, "--provider-rate: '%s' is not N/SECONDS", cfg->provider_rate);
        return RD_EINVAL;
    }
    char shown[512];
    rd_redis_url_redact(cfg->redis_url, shown, sizeof shown);
    rd_redis_addr_t addr;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    addr = ro.addr;
    if (rd_redis_addr_config(cfg->redis_url, cfg->redis_password, &addr) != 0) {
        snprintf(err, errlen, "--redis: cannot use '%s' (%s)", shown, rd_strerror(RD_EINVAL));
        return RD_EINVAL;
    }
    /* A wrong or missing password or a bad database is a configuration error: refuse to
     * start, in Redis's words. Redis merely down is not: the link retries. */
    char why[400];
    int rc = rd_redis_probe(&addr, 2000, why, sizeof why);
    if (rc == RD_EAUTH) {
        snprintf(err, errlen, "--redis %s: %s", shown, why);
        return rc;
    }
    if (rc != 0) rd_log(RD_LOG_WARN, "redis.unavailable_at_start", "error", why, NULL);
    rc = rd_store_create(srv->loop, &so, &srv->store);
    if (rc != 0) {
        snprintf(err, errlen, "--redis: cannot use '%s' (%s)", shown, rd_strerror(rc));
        return rc;
    }
    srv->campaigns = rd_ccache_create(srv->store);
    srv->cstats = rd_cstats_create(srv->loop, srv->store);
    srv->agent_hold = rd_agent_hold_create();
    srv->pauser = rd_pauser_create(srv->store, srv->ctr, RD_PAUSER_REJECTED_RUN);
    if ((rc = rd_journal_create(srv->loop, srv->store, 0, 0, &srv->journal)) != 0) {
        snprintf(err, errlen, "journal: %s", rd_strerror(rc));
        return rc;
    }
    return make_clockwatch(srv, err, errlen);
}

static int make_pool(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_account_cfg_t acct;
    rd_account_cfg_init(&acct);
    acct.kind = srv->provider;
    acct.base_url = cfg->provider_url;
    acct.sid = cfg->provider_sid;
    acct.key = cfg->provider_key;
    acct.token = cfg->provider_token;
    unsigned workers = cfg->workers > 0 ? (unsigned)cfg->workers : rd_pool_default_workers();
    rd_pool_cfg_t pc = {
        .workers = workers,
        .max_inflight = (unsigned)cfg->inflight,
        .accounts = &acct,
        .n_accounts = 1,
        .on_result = rd_dispatch_on_result,
        .data = srv,
    };
    srv->max_inflight = (int)workers * cfg->inflight;
    int rc = rd_pool_create(srv->loop, &pc, &srv->pool);
    if (rc != 0)
        snprintf(err, errlen, "worker pool: %s (check --provider-url and REDIAL_PROVIDER_*)",
                 rd_strerror(rc));
    return rc;
}

/* Settle, and the two stages that feed it from outside: callbacks and polls. */
static int make_settle(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_settle_cfg_t sc = {
        .store = srv->store,
        .campaigns = srv->campaigns,
        .clock = &srv->clock,
        .smart_stats = rd_dispatch_smart_stats,
        .sms_fallback = rd_sms_fallback,
        .settled = rd_dispatch_on_settled,
        .hook_ctx = srv,
        .agent_hold = srv->agent_hold,
        .default_provider = srv->provider,
    };
    rd_callback_route_cfg_t rc_cfg = {
        .secret = cfg->callback_secret,
        .public_url = srv->public_url,
        /* Twilio signs callbacks with the account's auth token, which is not
           the REST secret when REDIAL_PROVIDER_KEY is an API key. */
        .twilio_token = srv->provider != RD_PROV_TWILIO ? NULL
                        : cfg->twilio_auth_token        ? cfg->twilio_auth_token
                                                        : cfg->provider_token,
    };
    rd_recovery_cfg_t pc;
    rd_recovery_cfg_init(&pc);
    pc.pool = srv->pool;
    pc.poll_account[srv->provider] = 0;
    pc.default_provider = srv->provider;
    int rc = rd_settle_create(&sc, &srv->settle);
    rc_cfg.settle = pc.settle = srv->settle;
    if (rc == 0) rc = rd_callback_route_create(&rc_cfg, &srv->route);
    if (rc == 0) rc = rd_recovery_create(&pc, &srv->recovery);
    if (rc != 0) snprintf(err, errlen, "settle: %s", rd_strerror(rc));
    return rc;
}

static int make_api(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_api_cfg_t ac;
    rd_api_cfg_init(&ac);
    ac.loop = srv->loop;
    ac.store = srv->store;
    ac.clock = &srv->clock;
    ac.ccache = srv->campaigns;
    ac.api_key = cfg->api_key;
    ac.api_token = cfg->api_token;
    ac.default_provider = cfg->provider;
    int rc = rd_server_campaign_defaults(cfg, &ac.campaign_defaults, err, errlen);
    if (rc != 0) return rc;
    ac.ctr = srv->ctr;
    rc = rd_api_create(&ac, &srv->api);
    if (rc != 0) snprintf(err, errlen, "control API: %s", rd_strerror(rc));
    return rc;
}

static int make_ingest(rd_server_t *srv, char *err, size_t errlen) {
    const rd_server_config_t *cfg = srv->cfg;
    rd_ingest_opts_t io;
    rd_ingest_opts_init(&io);
    io.url = cfg->redis_url;
    io.password = cfg->redis_password;
    io.prefix = cfg->prefix;
    io.consumer = srv->engine_id;
    io.clock = &srv->clock;
    io.store = srv->store;
    io.campaigns = srv->campaigns;
    io.on_job = rd_dispatch_on_ingested;
    io.on_job_arg = srv;
    int rc = rd_ingest_create(srv->loop, &io, &srv->ingest);
    if (rc != 0) snprintf(err, errlen, "ingest: %s", rd_strerror(rc));
    return rc;
}

/* Timers of the dispatch and recovery stages, and the signals. */
static void start_loops(rd_server_t *srv) {
    rd_dispatch_start(srv);
    rd_recovery_start(srv);
    uv_signal_init(srv->loop, &srv->sig_term);
    uv_signal_init(srv->loop, &srv->sig_int);
    uv_signal_init(srv->loop, &srv->sig_hup);
    srv->sig_term.data = srv->sig_int.data = srv->sig_hup.data = srv;
    uv_signal_start(&srv->sig_term, on_signal, SIGTERM);
    uv_signal_start(&srv->sig_int, on_signal, SIGINT);
    uv_signal_start(&srv->sig_hup, on_signal, SIGHUP);
}

int rd_server_start(uv_loop_t *loop, const rd_server_config_t *cfg, rd_server_t **out, char *err,
                    size_t errlen) {
    int rc;
    rd_server_t *srv = rd_calloc(1, sizeof *srv);
    srv->loop = loop;
    srv->cfg = cfg;
    srv->ctr = rd_metrics_register(&srv->metrics);
    srv->mirror = rd_metrics_register(&srv->metrics);
    char host[256];
    int port;
    if ((rc = check_config(srv, host, sizeof host, &port, err, errlen)) != 0 ||
        (rc = make_store(srv, err, errlen)) != 0 || (rc = make_pool(srv, err, errlen)) != 0 ||
        (rc = make_settle(srv, err, errlen)) != 0 || (rc = make_api(srv, err, errlen)) != 0 ||
        (rc = make_ingest(srv, err, errlen)) != 0)
        goto fail;
    /* Descriptors kept for everything but the public listener: Redis and log files (64),
     * curl (one per dial in flight), the admin listener's connections. */
    unsigned reserve = 64 + (unsigned)srv->max_inflight + RD_SERVER_ADMIN_CONNS;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        reserve += (unsigned)(rl.rlim_cur / 16);
    rd_httpd_config_t hc = {
        .host = host,
        .port = port,
        .limits = {.max_body_bytes = (size_t)cfg->max_body},
        .fd_reserve = reserve,
        .max_conns_per_addr = (unsigned)cfg->max_conns_per_addr,
        .handler = on_public_http,
        .data = srv,
    };
    if ((rc = rd_httpd_create(loop, &hc, &srv->httpd, err, errlen)) != 0) goto fail;
    rd_httpd_config_t ac = {
        .host = srv->admin_host,
        .port = srv->admin_port,
        .limits = {.max_body_bytes = (size_t)cfg->max_body},
        .max_conns = RD_SERVER_ADMIN_CONNS,
        .max_conns_per_addr = RD_SERVER_ADMIN_CONNS,
        .handler = on_admin_http,
        .data = srv,
    };
    if ((rc = rd_httpd_create(loop, &ac, &srv->admin_httpd, err, errlen)) != 0) {
        srv->admin_httpd = NULL;
        goto fail;
    }
    start_loops(srv);

    char portbuf[16], aport[16], caps[32];
    rd_httpd_stats_t hs;
    rd_httpd_stats(srv->httpd, &hs);
    snprintf(portbuf, sizeof portbuf, "%d", rd_httpd_port(srv->httpd));
    snprintf(aport, sizeof aport, "%d", rd_httpd_port(srv->admin_httpd));
    snprintf(caps, sizeof caps, "%u/%u", hs.max_conns, hs.max_conns_per_addr);
    rd_log(RD_LOG_INFO, "server.started", "engine", srv->engine_id, "listen", host, "port", portbuf,
           "admin", srv->admin_host, "admin_port", aport, "max_conns", caps, "provider",
           rd_prov_name(srv->provider), "prefix", rd_store_prefix(srv->store), NULL);
    *out = srv;
    return 0;

fail:
    /* Start-up failures end the process; handles already made are closed by
       the caller's loop teardown (uv_walk). */
    *out = srv;
    return rc ? rc : RD_EINVAL;
}

int rd_server_port(const rd_server_t *srv) { return rd_httpd_port(srv->httpd); }

int rd_server_admin_port(const rd_server_t *srv) { return rd_httpd_port(srv->admin_httpd); }

void rd_server_destroy(rd_server_t *srv) {
    if (!srv) return;
    rd_callback_route_destroy(srv->route);
    rd_recovery_destroy(srv->recovery);
    rd_settle_destroy(srv->settle);
    rd_agent_hold_destroy(srv->agent_hold);
    rd_api_destroy(srv->api);
    rd_ccache_destroy(srv->campaigns);
    rd_cstats_destroy(srv->cstats);
    rd_pauser_destroy(srv->pauser);
    rd_free(srv);
}
