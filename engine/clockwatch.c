/*
 * clockwatch.c — clock discipline (contract in clockwatch.h).
 *
 * One check = TIME, then (when the skew is within bounds) clock.lua. The
 * skew estimate assumes the reply was produced halfway through the round
 * trip: skew = (sent + received) / 2 - redis_time, so its error is at most
 * half the round trip (sub-millisecond on a LAN, far below the 2 s bound).
 * A check that gets no answer (Redis down, timeout) changes nothing: the
 * clocks did not move because Redis went away, and the store's own
 * handling of the outage applies.
 *
 * Why 2 s by default: the shortest lease is the 30 s poll lease (the claim
 * lease is 60 s), and the retry intervals are minutes; recovery also waits
 * out the allowed skew before it treats a lease as expired
 * (docs/reliability.md), so 2 s of disagreement can neither expire a live
 * lease nor move a retry noticeably, while an NTP-disciplined host is
 * within milliseconds.
 *
 * Lifetime: one timer and one rd_redis connection; at most one check in
 * flight (`busy`). Close fails the outstanding command with RD_ECLOSED; its
 * callback sees `closing` and touches nothing but the busy flag.
 */
#include "engine/clockwatch.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rd.h"
#include "rd_lua.h"

#define CMD_TIMEOUT_MS 2000

struct rd_clockwatch {
    uv_loop_t *loop;
    rd_redis_t *r;
    int script;
    uv_timer_t tick;
    rd_clockwatch_cfg_t cfg;
    char prefix[128], engine[128];
    rd_clockwatch_state_t st;
    int64_t skew_ms, sent_ms;
    uint64_t checks;
    bool busy, closing;
    char why[320];
    int open;
    void (*close_cb)(void *);
    void *close_arg;
};

static int64_t wall(const rd_clockwatch_t *w) {
    return w->cfg.wall_ms ? w->cfg.wall_ms(w->cfg.wall_ctx) : rd_wall_ms();
}

static void finish(rd_clockwatch_t *w, rd_clockwatch_state_t st) {
    w->busy = false;
    w->checks++;
    if (st == RD_CLOCKWATCH_OK) w->why[0] = '\0';
    if (st == w->st) return;
    w->st = st;
    if (w->cfg.on_change) w->cfg.on_change(w->cfg.data, st);
}

/* The sentences of a failed check. rep: clock.lua's {0, scale, offset, engine}. */
static void why_mismatch(const rd_clockwatch_cfg_t *cfg, const redisReply *rep, char *why,
                         size_t len) {
    const char *sc = rep->elements > 1 && rep->element[1]->str ? rep->element[1]->str : "?";
    const char *off = rep->elements > 2 && rep->element[2]->str ? rep->element[2]->str : "?";
    const char *eng = rep->elements > 3 && rep->element[3]->str ? rep->element[3]->str : "?";
    snprintf(why, len,
             "time settings differ from the deployment's (engine %s runs scale %s, offset %s; "
             "this engine scale %.17g, offset %lld): give every engine the same "
             "--time-scale, --time-origin and --time-epoch",
             eng, sc, off, cfg->clock->scale,
             (long long)llround((double)cfg->clock->origin_ms -
                                (double)cfg->clock->epoch_ms * cfg->clock->scale));
}

static void why_skew(const rd_clockwatch_cfg_t *cfg, int64_t skew, char *why, size_t len) {
    snprintf(why, len,
             "clock skew %lld ms against Redis TIME exceeds the %lld ms limit: fix this "
             "host's time (NTP)",
             (long long)skew, (long long)cfg->max_skew_ms);
}

/* Skew from a TIME reply given the wall ms at send and receive; false when malformed. */
static bool skew_of(const redisReply *rep, int64_t sent, int64_t recv, int64_t *skew) {
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 || !rep->element[0]->str ||
        !rep->element[1]->str)
        return false;
    int64_t redis_ms = strtoll(rep->element[0]->str, NULL, 10) * 1000 +
                       strtoll(rep->element[1]->str, NULL, 10) / 1000;
    *skew = (sent + recv) / 2 - redis_ms;
    return true;
}

static bool mapping_ok(const redisReply *rep, bool *ok) {
    if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements < 1 ||
        rep->element[0]->type != REDIS_REPLY_INTEGER)
        return false;
    *ok = rep->element[0]->integer == 1;
    return true;
}

static void on_mapping(rd_redis_t *r, int status, redisReply *rep, void *arg) {
    (void)r;
    rd_clockwatch_t *w = arg;
    bool ok;
    if (w->closing || status != 0 || !mapping_ok(rep, &ok)) {
        w->busy = false;
        return;
    }
    if (ok) {
        finish(w, RD_CLOCKWATCH_OK);
        return;
    }
    why_mismatch(&w->cfg, rep, w->why, sizeof w->why);
    finish(w, RD_CLOCKWATCH_MISMATCH);
}

/* clock.lua's arguments for cfg (KEYS[1] then ARGV), in caller storage. */
typedef struct mapping_args {
    char scale[48], offset[32], tol[32], ttl[24], seq[160];
    const char *av[7];
    size_t al[7];
} mapping_args_t;

static void mapping_args(const rd_clockwatch_cfg_t *cfg, mapping_args_t *m) {
    const rd_clock_t *c = cfg->clock;
    snprintf(m->scale, sizeof m->scale, "%.17g", c->scale);
    snprintf(m->offset, sizeof m->offset, "%lld",
             (long long)llround((double)c->origin_ms - (double)c->epoch_ms * c->scale));
    snprintf(m->tol, sizeof m->tol, "%lld",
             (long long)llround((double)cfg->max_skew_ms * c->scale));
    snprintf(m->ttl, sizeof m->ttl, "%u", RD_MAX(30000u, 6 * cfg->period_ms));
    snprintf(m->seq, sizeof m->seq, "%s:seq", cfg->prefix);
    const char *av[] = {m->seq,
                        cfg->prefix,
                        m->scale,
                        m->offset,
                        m->tol,
                        m->ttl,
                        cfg->engine_id ? cfg->engine_id : ""};
    for (size_t i = 0; i < RD_ARRAY_LEN(av); i++) {
        m->av[i] = av[i];
        m->al[i] = strlen(av[i]);
    }
}

static void check_mapping(rd_clockwatch_t *w) {
    if (w->cfg.clock->manual) {
        finish(w, RD_CLOCKWATCH_OK);
        return;
    }
    mapping_args_t m;
    mapping_args(&w->cfg, &m);
    if (rd_redis_script(w->r, w->script, 1, (int)RD_ARRAY_LEN(m.av), m.av, m.al, CMD_TIMEOUT_MS,
                        on_mapping, w) != 0)
        w->busy = false;
}

static void on_time(rd_redis_t *r, int status, redisReply *rep, void *arg) {
    (void)r;
    rd_clockwatch_t *w = arg;
    if (w->closing || status != 0 || !rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 ||
        !rep->element[0]->str || !rep->element[1]->str) {
        w->busy = false;
        return;
    }
    int64_t recv = wall(w);
    int64_t redis_ms = strtoll(rep->element[0]->str, NULL, 10) * 1000 +
                       strtoll(rep->element[1]->str, NULL, 10) / 1000;
    w->skew_ms = (w->sent_ms + recv) / 2 - redis_ms;
    if (llabs(w->skew_ms) > w->cfg.max_skew_ms) {
        snprintf(w->why, sizeof w->why,
                 "clock skew %lld ms against Redis TIME exceeds the %lld ms limit: fix this "
                 "host's time (NTP)",
                 (long long)w->skew_ms, (long long)w->cfg.max_skew_ms);
        finish(w, RD_CLOCKWATCH_SKEWED);
        return;
    }
    check_mapping(w);
}

static void on_tick(uv_timer_t *t) {
    rd_clockwatch_t *w = t->data;
    if (w->busy || w->closing) return;
    static const char *const av[] = {"TIME"};
    static const size_t al[] = {4};
    w->sent_ms = wall(w);
    if (rd_redis_command(w->r, 1, av, al, CMD_TIMEOUT_MS, on_time, w) == 0) w->busy = true;
}

int rd_clockwatch_create(uv_loop_t *loop, const rd_clockwatch_cfg_t *cfg, rd_clockwatch_t **out) {
    *out = NULL;
    if (!cfg->addr || !cfg->clock || !cfg->prefix || strlen(cfg->prefix) >= 128) return RD_EINVAL;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    ro.addr = *cfg->addr;
    ro.cmd_timeout_ms = CMD_TIMEOUT_MS;
    rd_clockwatch_t *w = rd_calloc(1, sizeof *w);
    w->loop = loop;
    w->cfg = *cfg;
    if (w->cfg.max_skew_ms <= 0) w->cfg.max_skew_ms = 2000;
    if (w->cfg.period_ms == 0) w->cfg.period_ms = 5000;
    snprintf(w->prefix, sizeof w->prefix, "%s", cfg->prefix);
    snprintf(w->engine, sizeof w->engine, "%s", cfg->engine_id ? cfg->engine_id : "");
    w->cfg.prefix = w->prefix;
    w->cfg.engine_id = w->engine;
    int rc = rd_redis_create(loop, &ro, &w->r);
    if (rc < 0) {
        rd_free(w);
        return rc;
    }
    w->script = rd_redis_script_add(w->r, rd_lua_clock, rd_lua_clock_len);
    uv_timer_init(loop, &w->tick);
    w->tick.data = w;
    w->open = 2;
    uv_timer_start(&w->tick, on_tick, 0, w->cfg.period_ms);
    *out = w;
    return 0;
}

int rd_clockwatch_check_sync(const rd_clockwatch_cfg_t *in, char *err, size_t errlen) {
    rd_clockwatch_cfg_t cfg = *in;
    if (cfg.max_skew_ms <= 0) cfg.max_skew_ms = 2000;
    if (cfg.period_ms == 0) cfg.period_ms = 5000;
    err[0] = '\0';
    struct timeval tv = {CMD_TIMEOUT_MS / 1000, 0};
    redisContext *c = redisConnectWithTimeout(cfg.addr->host, cfg.addr->port, tv);
    int rc = RD_EIO;
    redisReply *r = NULL;
    if (!c || c->err) goto out;
    redisSetTimeout(c, tv);
    if (cfg.addr->password[0]) {
        r = cfg.addr->user[0] ? redisCommand(c, "AUTH %s %s", cfg.addr->user, cfg.addr->password)
                              : redisCommand(c, "AUTH %s", cfg.addr->password);
        if (!r || r->type == REDIS_REPLY_ERROR) goto out;
        freeReplyObject(r);
    }
    if (cfg.addr->db) {
        r = redisCommand(c, "SELECT %d", cfg.addr->db);
        if (!r || r->type == REDIS_REPLY_ERROR) goto out;
        freeReplyObject(r);
    }
    int64_t sent = cfg.wall_ms ? cfg.wall_ms(cfg.wall_ctx) : rd_wall_ms();
    r = redisCommand(c, "TIME");
    int64_t recv = cfg.wall_ms ? cfg.wall_ms(cfg.wall_ctx) : rd_wall_ms(), skew;
    if (!skew_of(r, sent, recv, &skew)) goto out;
    freeReplyObject(r);
    r = NULL;
    if (llabs(skew) > cfg.max_skew_ms) {
        why_skew(&cfg, skew, err, errlen);
        rc = RD_ERANGE;
        goto out;
    }
    rc = 0;
    if (cfg.clock->manual) goto out;
    mapping_args_t m;
    mapping_args(&cfg, &m);
    const char *av[3 + RD_ARRAY_LEN(m.av)] = {"EVAL", rd_lua_clock, "1"};
    size_t al[3 + RD_ARRAY_LEN(m.av)] = {4, rd_lua_clock_len, 1};
    for (size_t i = 0; i < RD_ARRAY_LEN(m.av); i++) {
        av[3 + i] = m.av[i];
        al[3 + i] = m.al[i];
    }
    r = redisCommandArgv(c, (int)RD_ARRAY_LEN(av), av, al);
    bool ok;
    if (!mapping_ok(r, &ok)) {
        rc = RD_EIO;
    } else if (!ok) {
        why_mismatch(&cfg, r, err, errlen);
        rc = RD_EEXISTS;
    }
out:
    if (rc == RD_EIO && !err[0])
        snprintf(err, errlen, "cannot check the clock against Redis%s%s", c && c->err ? ": " : "",
                 c && c->err ? c->errstr : "");
    if (r) freeReplyObject(r);
    if (c) redisFree(c);
    return rc;
}

rd_clockwatch_state_t rd_clockwatch_state(const rd_clockwatch_t *w) { return w->st; }
int64_t rd_clockwatch_skew_ms(const rd_clockwatch_t *w) { return w->skew_ms; }
uint64_t rd_clockwatch_checks(const rd_clockwatch_t *w) { return w->checks; }
const char *rd_clockwatch_why(const rd_clockwatch_t *w) { return w->why; }

static void closed_one(rd_clockwatch_t *w) {
    if (--w->open > 0) return;
    void (*cb)(void *) = w->close_cb;
    void *arg = w->close_arg;
    rd_free(w);
    if (cb) cb(arg);
}

static void on_tick_closed(uv_handle_t *h) { closed_one(h->data); }
static void on_conn_closed(void *arg) { closed_one(arg); }

void rd_clockwatch_close(rd_clockwatch_t *w, void (*cb)(void *arg), void *arg) {
    if (w->closing) return;
    w->closing = true;
    w->close_cb = cb;
    w->close_arg = arg;
    uv_timer_stop(&w->tick);
    uv_close((uv_handle_t *)&w->tick, on_tick_closed);
    rd_redis_close(w->r, on_conn_closed, w);
}
