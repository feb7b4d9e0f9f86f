/*
 * campaign.h — campaign configuration (SPEC section 3): parse, validate,
 * normalise.
 *
 * rd_campaign_parse() accepts exactly the Campaigns API body of the spec and
 * every extension, fills in every default, and refuses invalid input whole
 * with a message that names the field ("retry.interval_minutes: must be an
 * integer in 1..10080"). Unknown top-level or nested keys are refused too
 * (a typo must not silently become a default).
 *
 * JSON keys (defaults in rd_campaign_init, ranges in campaign.c):
 *   name caller_id call_flow_id numbers[] purpose mode provider
 *   retry {max_attempts | max_retries, retry_on[], strategy, interval_minutes,
 *          intervals_minutes[] | multiplier, max_interval_minutes, times[],
 *          min_gap_minutes, horizon_hours, min_samples, failed_max_retries,
 *          failed_retry_seconds, machine_as, machine_detection}
 *   schedule {daily_start, daily_end, timezone, callee_local_time, days[],
 *             jitter_seconds}
 *   limits {concurrency, agent_pool, max_attempts_per_number_per_day,
 *           max_attempts_per_number_per_7_days, calls_per_minute}
 *   call {ring_timeout_seconds, time_limit_seconds, callback_grace_seconds}
 *   sms_fallback {after_attempts, body, dlt_entity_id, dlt_template_id}
 * (`call` is ours: the spec is silent on ring and call limits.)
 *
 * The struct is plain data owned by the caller (rd_campaign_init/deinit);
 * after a successful parse every field holds its effective value, so no
 * other module ever applies a default.
 *
 * rd_campaign_to_json() writes the normalised form (all fields explicit,
 * `numbers` omitted): that is what Redis stores and what every engine loads,
 * so engines with different defaults cannot disagree about a campaign.
 *
 * Thread safety: pure; a parsed campaign may be read from any thread.
 */
#ifndef RD_CAMPAIGN_H
#define RD_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/outcome.h"

#define RD_CAMPAIGN_MAX_TIMES 24
#define RD_CAMPAIGN_MAX_INTERVALS 32

typedef enum {
    RD_STRAT_FIXED = 0,
    RD_STRAT_INCREASING = 1,
    RD_STRAT_TIME_OF_DAY = 2,
    RD_STRAT_SMART = 3
} rd_strategy_t;

typedef enum {
    RD_PURPOSE_NONE = 0,
    RD_PURPOSE_PAYMENT_REMINDER,      /* 4 attempts */
    RD_PURPOSE_DELIVERY_CONFIRMATION, /* 3 */
    RD_PURPOSE_SALES,                 /* 3 */
    RD_PURPOSE_APPOINTMENT_REMINDER,  /* 2 */
    RD_PURPOSE_EMERGENCY              /* 6 */
} rd_purpose_t;

typedef enum { RD_MODE_FLOW = 0, RD_MODE_AGENT = 1 } rd_mode_t;

/* retry.machine_detection: answering-machine detection asked of the
   provider (twilio MachineDetection); off by default, since AMD costs per
   call and the callee hears silence until detection ends. */
typedef enum { RD_AMD_OFF = 0, RD_AMD_ENABLE = 1, RD_AMD_DETECT_MESSAGE_END = 2 } rd_amd_t;

#define RD_DLT_ID_MAX 32 /* India DLT entity / template ids (19 digits in practice) */

typedef struct rd_campaign {
    /* identity and call target */
    char *name;         /* required, 1..64 chars [A-Za-z0-9_.-] */
    char *caller_id;    /* required */
    char *call_flow_id; /* required in flow mode */
    char **numbers;     /* as given (validated E.164 at enqueue, not here) */
    size_t n_numbers;

    /* retry */
    int max_attempts;  /* total attempts incl. the first, 1..20 */
    unsigned retry_on; /* bit (1u << rd_outcome_t) for busy/no-answer/failed */
    rd_strategy_t strategy;
    int interval_minutes;                             /* fixed; multiplier base for increasing */
    int intervals_minutes[RD_CAMPAIGN_MAX_INTERVALS]; /* increasing, list form */
    int n_intervals;                                  /* 0 => multiplier form */
    double multiplier;                                /* increasing, multiplier form [2] */
    int max_interval_minutes;                         /* cap for the multiplier form [1440] */
    int times_min[RD_CAMPAIGN_MAX_TIMES]; /* time_of_day: minutes after local midnight, sorted */
    int n_times;
    int min_gap_minutes;        /* time_of_day, smart [30] */
    int horizon_hours;          /* smart [48] */
    int min_samples;            /* smart [200] */
    int failed_max_retries;     /* [1] */
    int failed_retry_seconds;   /* [60] */
    rd_outcome_t machine_as;    /* outcome a machine-answered call counts as [no-answer] */
    rd_amd_t machine_detection; /* [off] */

    /* schedule */
    int daily_start_min;    /* minutes after local midnight [540] */
    int daily_end_min;      /* exclusive [1260]; > daily_start_min */
    char *timezone;         /* IANA [Asia/Kolkata] */
    bool callee_local_time; /* derive zone from the number */
    uint8_t days_mask;      /* bit d = weekday d allowed (0 = Sunday) [0x7f] */
    int jitter_seconds;     /* [120] */

    /* limits */
    int concurrency;      /* live calls, global [10] */
    char *agent_pool;     /* NULL = none */
    int max_per_day;      /* per number, all campaigns, callee's local day [4] */
    int max_per_7_days;   /* rolling [7] */
    int calls_per_minute; /* 0 = unlimited */

    /* call */
    rd_purpose_t purpose;
    rd_mode_t mode;
    int ring_timeout_seconds;   /* provider TimeOut [30] */
    int time_limit_seconds;     /* provider TimeLimit [600] */
    int callback_grace_seconds; /* poll when no callback this long after ring+limit [60];
                                   wall seconds (network/provider delay, not the call) */
    int sms_after_attempts;     /* 0 = no SMS fallback */
    char *sms_body;
    char *sms_dlt_entity_id;   /* sms_fallback.dlt_entity_id (exotel: required), NULL = none */
    char *sms_dlt_template_id; /* sms_fallback.dlt_template_id (exotel: required) */
    char *provider;            /* NULL = engine default */
} rd_campaign_t;

/*
 * The one rule for a campaign name (API, inbox, CLI): 1..RD_CAMPAIGN_NAME_MAX
 * characters of [A-Za-z0-9_.-], and not "." or ".." (path segments that
 * clients normalise away: such a campaign could never be addressed). Pure.
 */
bool rd_campaign_name_valid(const char *s, size_t len);

/* Zero the struct and set every default (a valid campaign but for name etc.). */
void rd_campaign_init(rd_campaign_t *c);
/* Free owned strings; the struct may be init'ed again. */
void rd_campaign_deinit(rd_campaign_t *c);

/*
 * Parses and validates a campaign body. On success returns 0 and *out owns
 * its strings. On failure returns RD_EPARSE (not JSON) or RD_EINVAL (a field
 * is wrong), writes "<field>: <reason>" to err and leaves *out deinit'ed.
 * `len` bytes of `json` are read; it need not be NUL-terminated.
 */
int rd_campaign_parse(const char *json, size_t len, rd_campaign_t *out, char *err, size_t errlen);

/*
 * The SMS fallback rules that depend on the provider the campaign really
 * uses (`provider`: the campaign's own or the engine default; NULL =
 * unknown, nothing checked): exotel needs sms_fallback.dlt_entity_id and
 * .dlt_template_id (India's DLT registration; operators drop an SMS
 * without them). rd_campaign_parse applies it with the campaign's own
 * provider; the API applies it again with the engine's default. Returns 0
 * or RD_EINVAL with "<field>: <reason>" in err.
 */
int rd_campaign_check_provider(const rd_campaign_t *c, const char *provider, char *err,
                               size_t errlen);

/* Static name of an AMD setting ("off", "enable", "detect_message_end"). */
const char *rd_amd_name(rd_amd_t a);

/*
 * An engine's defaults for the per-number caps of campaigns created through
 * it (redial-server --max-per-day / --max-per-7-days and their environment
 * twins): they take the place of rd_campaign_init's 4 and 7 for a body
 * without those `limits` keys. Once parsed, the effective values are stored
 * (rd_campaign_to_json), so other engines never re-apply their own.
 */
/* The built-in caps (the seed: "3-4 attempts per number per day"; its
   increasing example makes 4 in one day). */
#define RD_CAMPAIGN_MAX_PER_DAY_DEFAULT 4
#define RD_CAMPAIGN_MAX_PER_7_DAYS_DEFAULT 7

typedef struct rd_campaign_defaults {
    int max_per_day;    /* limits.max_attempts_per_number_per_day when absent */
    int max_per_7_days; /* limits.max_attempts_per_number_per_7_days when absent */
} rd_campaign_defaults_t;

/* The built-in defaults (the two macros above). */
void rd_campaign_defaults_init(rd_campaign_defaults_t *d);

/* 0, or RD_EINVAL with "<key>: must be an integer in lo..hi" when a value is
 * out of the range the JSON key accepts (keys named as in `limits`). */
int rd_campaign_defaults_check(const rd_campaign_defaults_t *d, char *err, size_t errlen);

/* rd_campaign_parse with *d (checked) in place of the built-in defaults; d NULL = built-in. */
int rd_campaign_parse_with(const char *json, size_t len, const rd_campaign_defaults_t *d,
                           rd_campaign_t *out, char *err, size_t errlen);

/* Normalised JSON (all effective values, no `numbers`); caller frees with rd_free. */
char *rd_campaign_to_json(const rd_campaign_t *c);

/*
 * Configuration equality: every field but `numbers` (which are jobs, not
 * configuration). Strings compare by content.
 */
bool rd_campaign_equal(const rd_campaign_t *a, const rd_campaign_t *b);

/* Purpose name <-> enum; default max_attempts for a purpose (0 for NONE). */
const char *rd_purpose_name(rd_purpose_t p);
int rd_purpose_default_attempts(rd_purpose_t p);

#endif
