/*
 * config.c — the option table of redial-server (see config.h).
 */
#include "engine/config.h"

#include <stdio.h>

#include "proto/rd.h"

#define O(f) offsetof(rd_server_config_t, f)
#define TEXT(x) TEXT_(x)
#define TEXT_(x) #x

const rd_opt_t rd_server_opts[] = {
    {"redis", "REDIAL_REDIS_URL", "redis://127.0.0.1:6379/0", RD_OPT_STR, O(redis_url),
     "Redis URL (redis://[:password@]host:port/db)"},
    {NULL, "REDIAL_REDIS_PASSWORD", NULL, RD_OPT_SECRET, O(redis_password), "Redis password"},
    {"prefix", "REDIAL_PREFIX", "{redial}", RD_OPT_STR, O(prefix),
     "key prefix (a hash tag keeps every key in one cluster slot)"},
    {"listen", "REDIAL_LISTEN", "127.0.0.1:8080", RD_OPT_STR, O(listen),
     "public listener: provider status callbacks only (docs/security.md)"},
    {"admin-listen", "REDIAL_ADMIN_LISTEN", "127.0.0.1:8081", RD_OPT_STR, O(admin_listen),
     "admin listener: control API, /metrics, /healthz (keep it private)"},
    {NULL, "REDIAL_METRICS_TOKEN", NULL, RD_OPT_SECRET, O(metrics_token),
     "bearer token /metrics requires (none = open on the admin listener)"},
    {"max-conns-per-addr", "REDIAL_MAX_CONNS_PER_ADDR", "0", RD_OPT_INT, O(max_conns_per_addr),
     "connections per client address (IPv6: per /64); 0 = the connection cap / 8"},
    {"public-url", "REDIAL_PUBLIC_URL", "", RD_OPT_STR, O(public_url),
     "base URL the provider calls back (default http://<listen>)"},
    {"workers", "REDIAL_WORKERS", "0", RD_OPT_INT, O(workers),
     "worker threads (libcurl multi each); 0 = one per online core, 1..8"},
    {"inflight", "REDIAL_INFLIGHT", "256", RD_OPT_INT, O(inflight),
     "dial requests in flight per worker"},
    {"batch", "REDIAL_BATCH", "64", RD_OPT_INT, O(batch), "jobs claimed per Redis script call"},
    {"batch-wait-ms", "REDIAL_BATCH_WAIT_MS", "2", RD_OPT_INT, O(batch_wait_ms),
     "wall ms a settle/placed/lookup/enqueue batch waits for more items (0: none)"},
    {"provider", "REDIAL_PROVIDER", "exotel", RD_OPT_STR, O(provider),
     "default provider adapter: exotel | twilio"},
    {"provider-url", "REDIAL_PROVIDER_URL", "https://api.exotel.com", RD_OPT_STR, O(provider_url),
     "provider API base URL"},
    {"provider-sid", "REDIAL_PROVIDER_SID", "", RD_OPT_STR, O(provider_sid),
     "provider account sid"},
    {NULL, "REDIAL_PROVIDER_KEY", NULL, RD_OPT_SECRET, O(provider_key), "provider API key"},
    {NULL, "REDIAL_PROVIDER_TOKEN", NULL, RD_OPT_SECRET, O(provider_token),
     "provider API token (twilio: auth token or API key secret)"},
    {NULL, "REDIAL_TWILIO_AUTH_TOKEN", NULL, RD_OPT_SECRET, O(twilio_auth_token),
     "twilio account auth token that signs callbacks (default: REDIAL_PROVIDER_TOKEN; set it "
     "when REDIAL_PROVIDER_KEY is an API key)"},
    {"provider-rate", "REDIAL_PROVIDER_RATE", "", RD_OPT_STR, O(provider_rate),
     "account dial rate N/SECONDS (default exotel 200/60, twilio 1/1)"},
    {NULL, "REDIAL_API_KEY", NULL, RD_OPT_SECRET, O(api_key), "control API basic-auth user"},
    {NULL, "REDIAL_API_TOKEN", NULL, RD_OPT_SECRET, O(api_token),
     "control API basic-auth password"},
    {NULL, "REDIAL_CALLBACK_SECRET", NULL, RD_OPT_SECRET, O(callback_secret),
     "secret path token of /callbacks/{provider}/{token}"},
    {"time-scale", "REDIAL_TIME_SCALE", "1", RD_OPT_STR, O(time_scale),
     "policy seconds per wall second (same value in every process)"},
    {"time-origin", "REDIAL_TIME_ORIGIN", "", RD_OPT_STR, O(time_origin),
     "policy time at the epoch, ISO-8601 (default: the epoch itself)"},
    {"time-epoch", "REDIAL_TIME_EPOCH", "", RD_OPT_STR, O(time_epoch),
     "wall-clock anchor, unix ms (default: start-up)"},
    {"max-per-day", "REDIAL_MAX_PER_DAY", TEXT(RD_CAMPAIGN_MAX_PER_DAY_DEFAULT), RD_OPT_INT,
     O(max_per_day), "per-number cap per callee-local day of new campaigns without one"},
    {"max-per-7-days", "REDIAL_MAX_PER_7_DAYS", TEXT(RD_CAMPAIGN_MAX_PER_7_DAYS_DEFAULT),
     RD_OPT_INT, O(max_per_7_days),
     "per-number cap per rolling 7 days of new campaigns without one"},
    {"max-body", "REDIAL_MAX_BODY", "1048576", RD_OPT_INT, O(max_body),
     "HTTP request body limit, bytes (1..1073741824)"},
    {"shutdown-grace", "REDIAL_SHUTDOWN_GRACE_MS", "10000", RD_OPT_INT, O(shutdown_grace_ms),
     "on SIGTERM, wait this long for in-flight dials"},
    {"engine-id", "REDIAL_ENGINE_ID", "", RD_OPT_STR, O(engine_id),
     "this engine's name in Redis (default host-pid)"},
    {"log", "REDIAL_LOG", "-", RD_OPT_STR, O(log_file), "log file ('-' = stderr)"},
    {"log-level", "REDIAL_LOG_LEVEL", "info", RD_OPT_STR, O(log_level), "debug|info|warn|error"},
};
const size_t rd_server_opts_len = sizeof rd_server_opts / sizeof rd_server_opts[0];

int rd_server_campaign_defaults(const rd_server_config_t *cfg, rd_campaign_defaults_t *out,
                                char *err, size_t errlen) {
    rd_campaign_defaults_init(out);
    char why[160];
    out->max_per_day = cfg->max_per_day;
    if (rd_campaign_defaults_check(out, why, sizeof why)) {
        snprintf(err, errlen, "--max-per-day (REDIAL_MAX_PER_DAY): %s", why);
        return RD_EINVAL;
    }
    out->max_per_7_days = cfg->max_per_7_days;
    if (rd_campaign_defaults_check(out, why, sizeof why)) {
        snprintf(err, errlen, "--max-per-7-days (REDIAL_MAX_PER_7_DAYS): %s", why);
        return RD_EINVAL;
    }
    return 0;
}

int rd_server_http_check(const rd_server_config_t *cfg, char *err, size_t errlen) {
    /* A negative value cast to size_t would disable the limit. */
    if (cfg->max_body < 1 || cfg->max_body > (1 << 30)) {
        snprintf(err, errlen, "--max-body (REDIAL_MAX_BODY): %d is not in 1..1073741824",
                 cfg->max_body);
        return RD_EINVAL;
    }
    if (cfg->max_conns_per_addr < 0) {
        snprintf(err, errlen, "--max-conns-per-addr (REDIAL_MAX_CONNS_PER_ADDR): %d is negative",
                 cfg->max_conns_per_addr);
        return RD_EINVAL;
    }
    return 0;
}
