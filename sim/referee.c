/*
 * referee.c — counts rule violations over every call the simulator sees
 * (see referee.h for the rules).
 *
 * State is flat arrays indexed by small integers, with string maps in
 * front (sim/strmap.h):
 *   numbers   per number: calls so far, live calls, DND flag, opt-out time,
 *             current local day and its call count, and a chain of
 *             per-(campaign, number) entries (attempts, answered);
 *   campaigns limits (if told) and counters; unknown campaigns are created
 *             on first sight, unchecked;
 *   pools     agent pools: live and max live vs capacity;
 *   calls     one small record per call (number, campaign, live, outcome);
 *   keys      the set of attempt keys seen (double-dial detection).
 *
 * Per-number-day counts: calls arrive in policy-time order, so a number
 * only needs its current local day; a histogram of (number, day) counts is
 * kept incrementally for the report.
 *
 * Examples: the first RD_REF_EXAMPLES violations are kept verbatim so a
 * failing test or bench can say what went wrong, not just how often.
 */
#include "sim/referee.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sim/strmap.h"
#include "proto/campaign.h"
#include "proto/rd.h"
#include "proto/tz.h"

#define RD_REF_EXAMPLES 32
#define RD_REF_HIST 32
#define RD_REF_DEFAULT_TZ "Asia/Kolkata"

static const char *const vnames[] = {
#define RD__REF_NAME(e, s) s,
    RD_REF_VIOLATIONS(RD__REF_NAME)
#undef RD__REF_NAME
};

typedef struct {
    rd_ref_campaign_t cfg;
    bool configured;
    const rd_tz_t *tz;
    uint32_t pool; /* index + 1, 0 = none */
    uint64_t calls, ended;
    int live, max_live, max_attempts_seen;
    uint64_t outcomes[RD_OUT__COUNT];
    uint64_t viol[RD_REF_V__COUNT];
} camp_t;

typedef struct {
    const char *name;
    int capacity, live, max_live;
} pool_t;

typedef struct {
    uint32_t camp, next; /* next: index + 1 in cn[] */
    uint32_t attempts;
    bool answered;
} cn_t;

typedef struct {
    const char *number;
    uint32_t calls, live;
    bool dnd;
    int64_t optout_at; /* INT64_MAX = not opted out */
    int32_t day;
    uint32_t day_count;
    uint32_t cn_head;
} num_t;

typedef struct {
    uint32_t num, camp;
    int64_t start_ms, end_ms;
    uint8_t outcome;
    bool live;
} call_t;

typedef struct {
    rd_ref_violation_t kind;
    char number[24];
    char campaign[RD_REF_NAME_MAX + 1];
    char key[100];
    int64_t at_ms;
    char detail[96];
} example_t;

struct rd_referee {
    rd_strmap_t num_map, camp_map, pool_map, key_map;
    num_t *nums;
    size_t nnums, capnums;
    camp_t *camps;
    size_t ncamps, capcamps;
    pool_t *pools;
    size_t npools, cappools;
    cn_t *cn;
    size_t ncn, capcn;
    call_t *calls;
    size_t ncalls, capcalls;
    uint64_t viol[RD_REF_V__COUNT];
    uint64_t day_hist[RD_REF_HIST + 1];
    uint64_t live;
    example_t ex[RD_REF_EXAMPLES];
    size_t nex;
};

#define GROW(arr, n, cap)                                     \
    do {                                                      \
        if ((n) == (cap)) {                                   \
            (cap) = (cap) ? (cap)*2 : 64;                     \
            (arr) = rd_realloc((arr), (cap) * sizeof *(arr)); \
        }                                                     \
    } while (0)

rd_referee_t *rd_referee_create(void) {
    rd_referee_t *r = rd_calloc(1, sizeof *r);
    rd_strmap_init(&r->num_map);
    rd_strmap_init(&r->camp_map);
    rd_strmap_init(&r->pool_map);
    rd_strmap_init(&r->key_map);
    return r;
}

void rd_referee_destroy(rd_referee_t *r) {
    if (!r) return;
    rd_strmap_deinit(&r->num_map);
    rd_strmap_deinit(&r->camp_map);
    rd_strmap_deinit(&r->pool_map);
    rd_strmap_deinit(&r->key_map);
    rd_free(r->nums);
    rd_free(r->camps);
    rd_free(r->pools);
    rd_free(r->cn);
    rd_free(r->calls);
    rd_free(r);
}

static uint32_t get_num(rd_referee_t *r, const char *number) {
    uint32_t idx;
    const char *key;
    if (!rd_strmap_put(&r->num_map, number, strlen(number), (uint32_t)r->nnums, &idx, &key))
        return idx;
    GROW(r->nums, r->nnums, r->capnums);
    num_t *n = &r->nums[r->nnums++];
    memset(n, 0, sizeof *n);
    n->number = key;
    n->optout_at = INT64_MAX;
    n->day = -1;
    return idx;
}

static uint32_t get_camp(rd_referee_t *r, const char *name, size_t len) {
    uint32_t idx;
    if (!rd_strmap_put(&r->camp_map, name, len, (uint32_t)r->ncamps, &idx, NULL)) return idx;
    GROW(r->camps, r->ncamps, r->capcamps);
    camp_t *c = &r->camps[r->ncamps++];
    memset(c, 0, sizeof *c);
    size_t n = RD_MIN(len, (size_t)RD_REF_NAME_MAX);
    memcpy(c->cfg.name, name, n);
    c->cfg.name[n] = '\0';
    snprintf(c->cfg.timezone, sizeof c->cfg.timezone, "%s", RD_REF_DEFAULT_TZ);
    c->tz = rd_tz_get(RD_REF_DEFAULT_TZ);
    return idx;
}

static uint32_t get_pool(rd_referee_t *r, const char *name) {
    uint32_t idx;
    const char *key;
    if (!rd_strmap_put(&r->pool_map, name, strlen(name), (uint32_t)r->npools, &idx, &key))
        return idx;
    GROW(r->pools, r->npools, r->cappools);
    pool_t *p = &r->pools[r->npools++];
    memset(p, 0, sizeof *p);
    p->name = key;
    return idx;
}

void rd_referee_set_campaign(rd_referee_t *r, const rd_ref_campaign_t *cfg) {
    uint32_t i = get_camp(r, cfg->name, strlen(cfg->name));
    camp_t *c = &r->camps[i];
    c->cfg = *cfg;
    c->configured = true;
    if (!c->cfg.timezone[0])
        snprintf(c->cfg.timezone, sizeof c->cfg.timezone, "%s", RD_REF_DEFAULT_TZ);
    c->tz = rd_tz_get(c->cfg.timezone);
    if (!c->tz) c->tz = rd_tz_get("UTC");
    c->pool = 0;
    if (cfg->agent_pool[0]) {
        uint32_t p = get_pool(r, cfg->agent_pool);
        c->pool = p + 1;
        if (cfg->agent_capacity > 0) r->pools[p].capacity = cfg->agent_capacity;
    }
}

/* get_num may grow r->nums: index it only after the call returns (reading
   r->nums in the same expression used the old array — a SIGSEGV before the
   first call, a lost mark on the 65th, 129th, ... distinct number). */
void rd_referee_add_dnd(rd_referee_t *r, const char *number) {
    uint32_t i = get_num(r, number);
    r->nums[i].dnd = true;
}

void rd_referee_add_optout(rd_referee_t *r, const char *number, int64_t at_ms) {
    uint32_t i = get_num(r, number);
    num_t *n = &r->nums[i];
    if (at_ms < n->optout_at) n->optout_at = at_ms;
}

static cn_t *get_cn(rd_referee_t *r, uint32_t num, uint32_t camp) {
    for (uint32_t i = r->nums[num].cn_head; i; i = r->cn[i - 1].next)
        if (r->cn[i - 1].camp == camp) return &r->cn[i - 1];
    GROW(r->cn, r->ncn, r->capcn);
    cn_t *e = &r->cn[r->ncn++];
    e->camp = camp;
    e->attempts = 0;
    e->answered = false;
    e->next = r->nums[num].cn_head;
    r->nums[num].cn_head = (uint32_t)r->ncn;
    return e;
}

static void violation(rd_referee_t *r, rd_ref_violation_t v, camp_t *c, const char *number,
                      const char *key, int64_t at, unsigned *flags, const char *fmt, ...)
    RD_PRINTF(8, 9);

static void violation(rd_referee_t *r, rd_ref_violation_t v, camp_t *c, const char *number,
                      const char *key, int64_t at, unsigned *flags, const char *fmt, ...) {
    r->viol[v]++;
    c->viol[v]++;
    *flags |= 1u << v;
    if (r->nex >= RD_REF_EXAMPLES) return;
    example_t *e = &r->ex[r->nex++];
    e->kind = v;
    snprintf(e->number, sizeof e->number, "%s", number);
    snprintf(e->campaign, sizeof e->campaign, "%s", c->cfg.name);
    snprintf(e->key, sizeof e->key, "%s", key ? key : "");
    e->at_ms = at;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->detail, sizeof e->detail, fmt, ap);
    va_end(ap);
}

static const rd_tz_t *zone_for(const camp_t *c, const char *number) {
    if (c->cfg.callee_local_time) {
        const char *z = rd_tz_for_number(number);
        const rd_tz_t *tz = z ? rd_tz_get(z) : NULL;
        if (tz) return tz;
    }
    return c->tz ? c->tz : rd_tz_get("UTC");
}

uint32_t rd_referee_call_start(rd_referee_t *r, const char *number, const char *attempt_key,
                               int64_t now, uint32_t *nth_call, unsigned *flags) {
    unsigned fl = 0;
    const char *key = attempt_key ? attempt_key : "";
    const char *colon = strrchr(key, ':');
    uint32_t ci = get_camp(r, key, colon ? (size_t)(colon - key) : 0);
    uint32_t ni = get_num(r, number);
    camp_t *c = &r->camps[ci];
    num_t *n = &r->nums[ni];
    *nth_call = n->calls;

    GROW(r->calls, r->ncalls, r->capcalls);
    uint32_t id = (uint32_t)r->ncalls++;
    call_t *call = &r->calls[id];
    call->num = ni;
    call->camp = ci;
    call->start_ms = now;
    call->end_ms = 0;
    call->outcome = RD_OUT_IN_PROGRESS;
    call->live = true;

    c->calls++;
    c->live++;
    if (c->live > c->max_live) c->max_live = c->live;
    r->live++;
    if (c->configured && c->cfg.concurrency > 0 && c->live > c->cfg.concurrency)
        violation(r, RD_REF_V_CONCURRENCY, c, number, key, now, &fl, "live %d > concurrency %d",
                  c->live, c->cfg.concurrency);
    if (c->pool) {
        pool_t *p = &r->pools[c->pool - 1];
        p->live++;
        if (p->live > p->max_live) p->max_live = p->live;
        if (p->capacity > 0 && p->live > p->capacity)
            violation(r, RD_REF_V_AGENT_CAPACITY, c, number, key, now, &fl,
                      "pool %s live %d > capacity %d", p->name, p->live, p->capacity);
    }
    if (n->live > 0)
        violation(r, RD_REF_V_OVERLAP, c, number, key, now, &fl, "%u call(s) already live",
                  n->live);
    n->live++;
    n->calls++;
    if (n->dnd) violation(r, RD_REF_V_DND, c, number, key, now, &fl, "number is on the DND list");
    if (now >= n->optout_at)
        violation(r, RD_REF_V_OPTOUT, c, number, key, now, &fl, "number opted out");

    cn_t *e = get_cn(r, ni, ci);
    e->attempts++;
    if ((int)e->attempts > c->max_attempts_seen) c->max_attempts_seen = (int)e->attempts;
    if (c->configured && c->cfg.max_attempts > 0 && (int)e->attempts > c->cfg.max_attempts)
        violation(r, RD_REF_V_BUDGET, c, number, key, now, &fl, "attempt %u > max_attempts %d",
                  e->attempts, c->cfg.max_attempts);
    if (e->answered)
        violation(r, RD_REF_V_AFTER_CONNECT, c, number, key, now, &fl,
                  "dialed again after a connected call");

    if (key[0] && !rd_strmap_put(&r->key_map, key, strlen(key), id, NULL, NULL))
        violation(r, RD_REF_V_DUPLICATE_KEY, c, number, key, now, &fl,
                  "attempt key used by an earlier call");

    /* Local day and window. */
    rd_localtime_t lt;
    const rd_tz_t *tz = zone_for(c, number);
    if (tz) {
        rd_tz_local(tz, now, &lt);
        int32_t day = lt.year * 512 + lt.month * 32 + lt.day;
        if (day != n->day) {
            n->day = day;
            n->day_count = 0;
        }
        uint32_t dc = ++n->day_count;
        if (dc - 1 > 0) r->day_hist[RD_MIN(dc - 1, (uint32_t)RD_REF_HIST)]--;
        r->day_hist[RD_MIN(dc, (uint32_t)RD_REF_HIST)]++;
        if (c->configured && c->cfg.max_per_day > 0 && (int)dc > c->cfg.max_per_day)
            violation(r, RD_REF_V_PER_NUMBER_DAY, c, number, key, now, &fl,
                      "call %u of the local day %04d-%02d-%02d > max_per_day %d", dc, lt.year,
                      lt.month, lt.day, c->cfg.max_per_day);
        if (c->configured && c->cfg.daily_end_min > 0) {
            int m = lt.hour * 60 + lt.minute;
            bool in = m >= c->cfg.daily_start_min && m < c->cfg.daily_end_min;
            bool day_ok = c->cfg.days_mask == 0 || (c->cfg.days_mask & (1u << lt.wday));
            if (!in || !day_ok)
                violation(r, RD_REF_V_OUTSIDE_WINDOW, c, number, key, now, &fl,
                          "local %04d-%02d-%02d %02d:%02d (%s) outside %02d:%02d-%02d:%02d%s",
                          lt.year, lt.month, lt.day, lt.hour, lt.minute, rd_tz_name(tz),
                          c->cfg.daily_start_min / 60, c->cfg.daily_start_min % 60,
                          c->cfg.daily_end_min / 60, c->cfg.daily_end_min % 60,
                          day_ok ? "" : " (weekday not allowed)");
        }
    }
    if (flags) *flags = fl;
    return id;
}

void rd_referee_call_end(rd_referee_t *r, uint32_t id, rd_outcome_t outcome, bool answered_human,
                         int64_t now) {
    if (id >= r->ncalls) return;
    call_t *call = &r->calls[id];
    if (!call->live) return;
    call->live = false;
    call->end_ms = now;
    call->outcome = (uint8_t)outcome;
    camp_t *c = &r->camps[call->camp];
    num_t *n = &r->nums[call->num];
    c->live--;
    c->ended++;
    if ((unsigned)outcome < RD_OUT__COUNT) c->outcomes[outcome]++;
    if (c->pool) r->pools[c->pool - 1].live--;
    n->live--;
    r->live--;
    if (outcome == RD_OUT_COMPLETED && answered_human)
        get_cn(r, call->num, call->camp)->answered = true;
}

uint32_t rd_referee_number_calls(const rd_referee_t *r, const char *number) {
    uint32_t idx;
    if (!rd_strmap_get(&r->num_map, number, strlen(number), &idx)) return 0;
    return r->nums[idx].calls;
}

uint64_t rd_referee_violation_count(const rd_referee_t *r, rd_ref_violation_t v) {
    return (unsigned)v < RD_REF_V__COUNT ? r->viol[v] : 0;
}

uint64_t rd_referee_violations_total(const rd_referee_t *r) {
    uint64_t t = 0;
    for (int i = 0; i < RD_REF_V__COUNT; i++) t += r->viol[i];
    return t;
}

uint64_t rd_referee_calls_total(const rd_referee_t *r) { return r->ncalls; }

static void iso(char *buf, size_t len, int64_t ms) {
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

char *rd_referee_report(const rd_referee_t *r, int64_t now_ms, const char *extra) {
    json_t *root = json_object();
    char t[96];
    iso(t, sizeof t, now_ms);
    json_object_set_new(root, "at", json_string(t));
    json_object_set_new(root, "calls_total", json_integer((json_int_t)r->ncalls));
    json_object_set_new(root, "calls_live", json_integer((json_int_t)r->live));
    json_object_set_new(root, "numbers", json_integer((json_int_t)r->nnums));

    uint64_t outs[RD_OUT__COUNT] = {0};
    json_t *camps = json_object();
    for (size_t i = 0; i < r->ncamps; i++) {
        const camp_t *c = &r->camps[i];
        if (!c->configured && c->calls == 0) continue;
        json_t *o = json_object();
        json_object_set_new(o, "configured", json_boolean(c->configured));
        json_object_set_new(o, "calls", json_integer((json_int_t)c->calls));
        json_object_set_new(o, "live", json_integer(c->live));
        json_object_set_new(o, "max_live", json_integer(c->max_live));
        json_object_set_new(o, "concurrency", json_integer(c->cfg.concurrency));
        json_object_set_new(o, "max_attempts", json_integer(c->cfg.max_attempts));
        json_object_set_new(o, "max_attempts_seen", json_integer(c->max_attempts_seen));
        json_object_set_new(o, "max_per_day", json_integer(c->cfg.max_per_day));
        json_t *oc = json_object();
        for (int k = 0; k < RD_OUT__COUNT; k++) {
            outs[k] += c->outcomes[k];
            if (c->outcomes[k])
                json_object_set_new(oc, rd_outcome_name((rd_outcome_t)k),
                                    json_integer((json_int_t)c->outcomes[k]));
        }
        json_object_set_new(o, "outcomes", oc);
        json_t *v = json_object();
        for (int k = 0; k < RD_REF_V__COUNT; k++)
            json_object_set_new(v, vnames[k], json_integer((json_int_t)c->viol[k]));
        json_object_set_new(o, "violations", v);
        json_object_set_new(camps, c->cfg.name, o);
    }
    json_object_set_new(root, "campaigns", camps);
    json_t *oc = json_object();
    for (int k = 0; k < RD_OUT__COUNT; k++)
        if (outs[k])
            json_object_set_new(oc, rd_outcome_name((rd_outcome_t)k),
                                json_integer((json_int_t)outs[k]));
    json_object_set_new(root, "outcomes", oc);

    json_t *pools = json_object();
    for (size_t i = 0; i < r->npools; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "capacity", json_integer(r->pools[i].capacity));
        json_object_set_new(o, "live", json_integer(r->pools[i].live));
        json_object_set_new(o, "max_live", json_integer(r->pools[i].max_live));
        json_object_set_new(pools, r->pools[i].name, o);
    }
    json_object_set_new(root, "agent_pools", pools);

    json_t *pd = json_object();
    json_t *hist = json_object();
    int maxc = 0;
    for (int k = 1; k <= RD_REF_HIST; k++) {
        if (!r->day_hist[k]) continue;
        char kk[16];
        snprintf(kk, sizeof kk, k == RD_REF_HIST ? "%d+" : "%d", k);
        json_object_set_new(hist, kk, json_integer((json_int_t)r->day_hist[k]));
        maxc = k;
    }
    json_object_set_new(pd, "max", json_integer(maxc));
    json_object_set_new(pd, "hist", hist);
    json_object_set_new(root, "calls_per_number_day", pd);

    json_t *v = json_object();
    for (int k = 0; k < RD_REF_V__COUNT; k++)
        json_object_set_new(v, vnames[k], json_integer((json_int_t)r->viol[k]));
    json_object_set_new(root, "violations", v);
    json_object_set_new(root, "violations_total",
                        json_integer((json_int_t)rd_referee_violations_total(r)));
    json_t *ex = json_array();
    for (size_t i = 0; i < r->nex; i++) {
        const example_t *e = &r->ex[i];
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(vnames[e->kind]));
        json_object_set_new(o, "number", json_string(e->number));
        json_object_set_new(o, "campaign", json_string(e->campaign));
        json_object_set_new(o, "attempt_key", json_string(e->key));
        iso(t, sizeof t, e->at_ms);
        json_object_set_new(o, "at", json_string(t));
        json_object_set_new(o, "detail", json_string(e->detail));
        json_array_append_new(ex, o);
    }
    json_object_set_new(root, "examples", ex);
    if (extra) {
        json_t *x = json_loads(extra, 0, NULL);
        if (json_is_object(x)) json_object_update(root, x);
        json_decref(x);
    }
    char *s = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(root);
    char *out = rd_strdup(s ? s : "{}");
    free(s);
    return out;
}

/* ---- campaign JSON ---- */

static int hhmm(const char *s, int *out) {
    int h, m;
    char tail;
    if (!s || sscanf(s, "%d:%d%c", &h, &m, &tail) != 2 || h < 0 || h > 24 || m < 0 || m > 59 ||
        h * 60 + m > 1440)
        return -1;
    *out = h * 60 + m;
    return 0;
}

static int day_bit(json_t *d) {
    static const char *names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
    if (json_is_integer(d)) {
        json_int_t v = json_integer_value(d);
        return v >= 0 && v <= 6 ? (int)v : -1;
    }
    if (!json_is_string(d)) return -1;
    for (int i = 0; i < 7; i++)
        if (strncasecmp(json_string_value(d), names[i], 3) == 0) return i;
    return -1;
}

static int from_spec_body(const char *json, size_t len, rd_ref_campaign_t *out, char *err,
                          size_t errlen) {
    rd_campaign_t c;
    rd_campaign_init(&c);
    int rc = rd_campaign_parse(json, len, &c, err, errlen);
    if (rc != 0) return RD_EPARSE;
    snprintf(out->name, sizeof out->name, "%s", c.name);
    out->concurrency = c.concurrency;
    out->max_attempts = c.max_attempts;
    out->max_per_day = c.max_per_day;
    out->daily_start_min = c.daily_start_min;
    out->daily_end_min = c.daily_end_min;
    out->days_mask = c.days_mask == 0x7f ? 0 : c.days_mask;
    snprintf(out->timezone, sizeof out->timezone, "%s",
             c.timezone ? c.timezone : RD_REF_DEFAULT_TZ);
    out->callee_local_time = c.callee_local_time;
    if (c.agent_pool) snprintf(out->agent_pool, sizeof out->agent_pool, "%s", c.agent_pool);
    rd_campaign_deinit(&c);
    return 0;
}

int rd_referee_campaign_from_json(const char *json, size_t len, rd_ref_campaign_t *out, char *err,
                                  size_t errlen) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    int rc = RD_EPARSE;
    if (!json_is_object(root)) {
        snprintf(err, errlen, "body: not a JSON object");
        goto done;
    }
    if (json_object_get(root, "caller_id")) {
        rc = from_spec_body(json, len, out, err, errlen);
        goto done;
    }
    json_t *name = json_object_get(root, "name");
    if (!json_is_string(name) || json_string_length(name) == 0 ||
        json_string_length(name) > RD_REF_NAME_MAX) {
        snprintf(err, errlen, "name: required string of 1..%d chars", RD_REF_NAME_MAX);
        goto done;
    }
    snprintf(out->name, sizeof out->name, "%s", json_string_value(name));
    snprintf(out->timezone, sizeof out->timezone, "%s", RD_REF_DEFAULT_TZ);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        int *ip = !strcmp(key, "concurrency")      ? &out->concurrency
                  : !strcmp(key, "max_attempts")   ? &out->max_attempts
                  : !strcmp(key, "max_per_day")    ? &out->max_per_day
                  : !strcmp(key, "agent_capacity") ? &out->agent_capacity
                                                   : NULL;
        if (ip) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > 1000000000) {
                snprintf(err, errlen, "%s: must be a non-negative integer", key);
                goto done;
            }
            *ip = (int)json_integer_value(v);
        } else if (!strcmp(key, "daily_start") || !strcmp(key, "daily_end")) {
            int m;
            if (hhmm(json_string_value(v), &m) != 0) {
                snprintf(err, errlen, "%s: must be \"HH:MM\"", key);
                goto done;
            }
            *(key[6] == 's' ? &out->daily_start_min : &out->daily_end_min) = m;
        } else if (!strcmp(key, "timezone")) {
            if (!json_is_string(v) || !rd_tz_get(json_string_value(v))) {
                snprintf(err, errlen, "timezone: unknown zone");
                goto done;
            }
            snprintf(out->timezone, sizeof out->timezone, "%s", json_string_value(v));
        } else if (!strcmp(key, "callee_local_time")) {
            if (!json_is_boolean(v)) {
                snprintf(err, errlen, "callee_local_time: must be a boolean");
                goto done;
            }
            out->callee_local_time = json_is_true(v);
        } else if (!strcmp(key, "agent_pool")) {
            if (!json_is_string(v) || json_string_length(v) > RD_REF_NAME_MAX) {
                snprintf(err, errlen, "agent_pool: must be a string of <= %d chars",
                         RD_REF_NAME_MAX);
                goto done;
            }
            snprintf(out->agent_pool, sizeof out->agent_pool, "%s", json_string_value(v));
        } else if (!strcmp(key, "days")) {
            size_t i;
            json_t *d;
            if (!json_is_array(v)) {
                snprintf(err, errlen, "days: must be an array");
                goto done;
            }
            json_array_foreach(v, i, d) {
                int b = day_bit(d);
                if (b < 0) {
                    snprintf(err, errlen, "days[%zu]: not a weekday", i);
                    goto done;
                }
                out->days_mask |= 1u << b;
            }
        } else if (strcmp(key, "name") != 0) {
            snprintf(err, errlen, "%.40s: unknown field", key);
            goto done;
        }
    }
    if (out->daily_end_min && out->daily_end_min <= out->daily_start_min) {
        snprintf(err, errlen, "daily_end: must be after daily_start");
        goto done;
    }
    rc = 0;
done:
    json_decref(root);
    return rc;
}
