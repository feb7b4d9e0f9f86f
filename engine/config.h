/*
 * config.h — redial-server's configuration: one struct built from flags and
 * environment (common/opts.h) before any thread starts, then read-only.
 * `redial-server --help` prints every option with its env twin and default.
 */
#ifndef RD_CONFIG_H
#define RD_CONFIG_H

#include <stddef.h>

#include "common/opts.h"
#include "proto/campaign.h"

typedef struct rd_server_config {
    char *redis_url;         /* --redis, REDIAL_REDIS_URL */
    char *redis_password;    /* REDIAL_REDIS_PASSWORD(_FILE): overrides one in the URL */
    char *prefix;            /* --prefix, REDIAL_PREFIX */
    char *listen;            /* --listen HOST:PORT: the public (callback) listener */
    char *admin_listen;      /* --admin-listen HOST:PORT: API, /metrics, /healthz */
    char *metrics_token;     /* REDIAL_METRICS_TOKEN (secret): bearer token of /metrics */
    int max_conns_per_addr;  /* --max-conns-per-addr (0 = default) */
    char *public_url;        /* --public-url: base the provider calls back */
    int workers;             /* --workers */
    int inflight;            /* --inflight: dials in flight per worker */
    int batch;               /* --batch: claims per script call */
    int batch_wait_ms;       /* --batch-wait-ms: store batches wait for more items */
    char *provider;          /* --provider exotel|twilio */
    char *provider_url;      /* --provider-url */
    char *provider_sid;      /* REDIAL_PROVIDER_SID */
    char *provider_key;      /* REDIAL_PROVIDER_KEY (secret) */
    char *provider_token;    /* REDIAL_PROVIDER_TOKEN (secret) */
    char *twilio_auth_token; /* REDIAL_TWILIO_AUTH_TOKEN (secret): verifies X-Twilio-Signature;
                                NULL = provider_token */
    char *provider_rate;     /* --provider-rate N/SECONDS; "" = provider default */
    char *api_key;           /* REDIAL_API_KEY (secret) */
    char *api_token;         /* REDIAL_API_TOKEN (secret) */
    char *callback_secret;   /* REDIAL_CALLBACK_SECRET (secret) */
    char *time_scale;        /* --time-scale */
    char *time_origin;       /* --time-origin */
    char *time_epoch;        /* --time-epoch */
    int max_per_day;         /* --max-per-day: engine default for campaigns */
    int max_per_7_days;      /* --max-per-7-days */
    int max_body;            /* --max-body bytes for HTTP requests */
    int shutdown_grace_ms;   /* --shutdown-grace: bound for in-flight dials on SIGTERM */
    char *engine_id;         /* --engine-id: consumer name; default host-pid */
    char *log_file;          /* --log */
    char *log_level;         /* --log-level */
} rd_server_config_t;

extern const rd_opt_t rd_server_opts[];
extern const size_t rd_server_opts_len;

/*
 * The campaign defaults the options promise (--max-per-day, --max-per-7-days),
 * applied by the control API to campaigns created without those limits.
 * 0, or RD_EINVAL with "--flag: reason" in err when a value is out of the
 * range the campaign key accepts.
 */
int rd_server_campaign_defaults(const rd_server_config_t *cfg, rd_campaign_defaults_t *out,
                                char *err, size_t errlen);

/*
 * The HTTP limits the options promise: --max-body 1..1 GiB (a negative value
 * would disable the limit), --max-conns-per-addr >= 0. 0 or RD_EINVAL with
 * "--flag: reason" in err.
 */
int rd_server_http_check(const rd_server_config_t *cfg, char *err, size_t errlen);

#define RD_SERVER_USAGE                                                                  \
    "usage: redial-server [options]\n\n"                                                 \
    "The redial engine: ingests jobs from <prefix>:inbox and the HTTP API, dials due\n"  \
    "jobs through the provider, settles outcomes from status callbacks and polls, and\n" \
    "reschedules retries by the campaign's policy. Run any number of them against one\n" \
    "Redis. SIGTERM drains and exits 0; SIGHUP reopens the log file."

#endif
