/*
 * ingest.c — stage "ingest": the inbox consumer (contract in ingest.h).
 *
 * Design:
 * - One Redis connection of its own, used in turns: a read (XREADGROUP
 *   BLOCK, or every claim_idle_ms/2 an XAUTOCLAIM sweep of a dead
 *   consumer's pending entries) returns a batch; each entry then runs
 *     decode -> campaign (engine/ccache.h) -> rd_policy_first
 *       -> rd_store_enqueue -> [XADD deadletter] -> ack
 *   and when the batch is done its acks go as one XACK and one XDEL (the
 *   stream would otherwise keep processed entries) naming every id; the next
 *   read goes out after that XACK's reply, so a blocking read never sits in
 *   front of an XACK.
 * - A Redis failure neither acks nor dead-letters: the entry stays pending
 *   and comes back through XAUTOCLAIM (processing is idempotent).
 * - Stream bytes are never trusted: anything odd is a dead letter with a
 *   reason.
 *
 * Threads: the loop thread only.
 */
#include "engine/ingest.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/redis.h"
#include "proto/campaign.h"
#include "proto/job.h"
#include "proto/policy.h"
#include "proto/rd.h"
#include "proto/tz.h"

#define GROUP "redial"
#define RETRY_MS 500
#define DEADLETTER_MAXLEN "1000000" /* XADD MAXLEN ~ of the dead-letter stream */

typedef struct entry entry_t;

struct rd_ingest {
    uv_loop_t *loop;
    rd_redis_t *r;
    rd_ingest_opts_t o;
    char prefix[128], k_inbox[160], k_dead[160], consumer[128];
    uv_timer_t timer;
    bool closing, redis_closing, r_closed, timer_closed;
    int inflight;
    bool reading;
    bool acking;      /* the batch's XACK is out */
    char (*acks)[64]; /* ids of the batch's entries done, to XACK + XDEL */
    size_t n_acks, cap_acks;
    uint64_t last_sweep;
    char sweep_cursor[64];
    rd_ingest_counters_t ctr;
    void (*close_cb)(void *);
    void *close_arg;
};

struct entry {
    rd_ingest_t *in;
    char id[64];
    int nf;    /* fields * 2 */
    char **fv; /* field/value copies (for the dead letter) */
    size_t *fl;
    rd_job_msg_t msg;
    int64_t due_ms;
    char reason[300];
};

static void next_read(rd_ingest_t *in);
static void maybe_free(rd_ingest_t *in);
static void close_redis(rd_ingest_t *in);

/* ---- entries ------------------------------------------------------------------------ */

/* The batch is done: its acks go out, then (after the XACK) the next read or the close. */
static void batch_end(rd_ingest_t *in);

static void entry_done(entry_t *e) {
    rd_ingest_t *in = e->in;
    for (int i = 0; i < e->nf; i++) rd_free(e->fv[i]);
    rd_free(e->fv);
    rd_free(e->fl);
    rd_job_msg_deinit(&e->msg);
    rd_free(e);
    if (--in->inflight == 0) batch_end(in);
}

static void after_batch(rd_ingest_t *in) {
    if (in->closing)
        close_redis(in);
    else
        next_read(in);
}

static void on_acks(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    rd_ingest_t *in = arg;
    in->acking = false;
    if (rd_redis_reply_status(status, reply) < 0)
        in->ctr.errors++; /* redelivered later; processing is idempotent */
    after_batch(in);
}

static void batch_end(rd_ingest_t *in) {
    size_t n = in->n_acks;
    if (n == 0) {
        after_batch(in);
        return;
    }
    in->n_acks = 0;
    const char **argv = rd_malloc((n + 3) * sizeof *argv);
    size_t *lens = rd_malloc((n + 3) * sizeof *lens);
    argv[0] = "XACK";
    lens[0] = 4;
    argv[1] = in->k_inbox;
    lens[1] = strlen(in->k_inbox);
    argv[2] = GROUP;
    lens[2] = strlen(GROUP);
    for (size_t i = 0; i < n; i++) {
        argv[3 + i] = in->acks[i];
        lens[3 + i] = strlen(in->acks[i]);
    }
    in->acking = true;
    if (rd_redis_command(in->r, (int)(n + 3), argv, lens, 0, on_acks, in) < 0) {
        in->acking = false;
        in->ctr.errors++;
        rd_free(argv);
        rd_free(lens);
        after_batch(in);
        return;
    }
    /* XDEL k id...: the same ids after "XDEL k" (argv shifted by one). */
    argv[1] = "XDEL";
    lens[1] = 4;
    argv[2] = in->k_inbox;
    lens[2] = strlen(in->k_inbox);
    rd_redis_command(in->r, (int)(n + 2), argv + 1, lens + 1, 0, NULL, NULL);
    rd_free(argv);
    rd_free(lens);
}

/* The entry is processed: its id joins the batch's acks. */
static void ack(entry_t *e) {
    rd_ingest_t *in = e->in;
    if (in->n_acks == in->cap_acks) {
        size_t nc = in->cap_acks ? in->cap_acks * 2 : 64;
        in->acks = rd_realloc(in->acks, nc * sizeof *in->acks);
        in->cap_acks = nc;
    }
    snprintf(in->acks[in->n_acks++], sizeof in->acks[0], "%s", e->id);
    entry_done(e);
}

static void on_deadletter(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    entry_t *e = arg;
    if (rd_redis_reply_status(status, reply) < 0) {
        e->in->ctr.errors++; /* stays pending: dead-lettered on redelivery */
        entry_done(e);
        return;
    }
    e->in->ctr.deadlettered++;
    ack(e);
}

static void deadletter(entry_t *e) {
    rd_ingest_t *in = e->in;
    int argc = 6 + e->nf + 4;
    const char **argv = rd_calloc((size_t)argc, sizeof(char *));
    size_t *lens = rd_calloc((size_t)argc, sizeof(size_t));
    int n = 0;
    argv[n] = "XADD", lens[n++] = 4;
    argv[n] = in->k_dead, lens[n++] = strlen(in->k_dead);
    argv[n] = "MAXLEN", lens[n++] = 6;
    argv[n] = "~", lens[n++] = 1;
    argv[n] = DEADLETTER_MAXLEN, lens[n++] = strlen(DEADLETTER_MAXLEN);
    argv[n] = "*", lens[n++] = 1;
    for (int i = 0; i < e->nf; i++) argv[n] = e->fv[i], lens[n++] = e->fl[i];
    argv[n] = "reason", lens[n++] = 6;
    argv[n] = e->reason, lens[n++] = strlen(e->reason);
    argv[n] = "entry", lens[n++] = 5;
    argv[n] = e->id, lens[n++] = strlen(e->id);
    int rc = rd_redis_command(in->r, n, argv, lens, 0, on_deadletter, e);
    rd_free(argv);
    rd_free(lens);
    if (rc < 0) entry_done(e);
}

static void refuse(entry_t *e, const char *fmt, ...) RD_PRINTF(2, 3);
static void refuse(entry_t *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
    va_end(ap);
    deadletter(e);
}

/*
 * A resource problem (a zone file unreadable for lack of descriptors or
 * memory, Redis down): never a verdict on the entry. It stays pending, is
 * not acked, and comes back through XAUTOCLAIM after claim_idle_ms.
 */
static void defer(entry_t *e, const char *why) {
    e->in->ctr.errors++;
    rd_log(RD_LOG_WARN, "ingest.deferred", "entry", e->id, "reason", why, NULL);
    entry_done(e);
}

static void on_enqueued(rd_store_t *s, int status, rd_enq_result_t res, const char *id, void *arg) {
    (void)s;
    (void)id;
    entry_t *e = arg;
    rd_ingest_t *in = e->in;
    if (status < 0) {
        defer(e, rd_strerror(status));
        return;
    }
    switch (res) {
    case RD_ENQ_CREATED:
        in->ctr.created++;
        if (in->o.on_job) in->o.on_job(in->o.on_job_arg, e->msg.campaign, e->due_ms);
        ack(e);
        return;
    case RD_ENQ_DUPLICATE:
        in->ctr.duplicates++;
        ack(e);
        return;
    case RD_ENQ_FINAL_DND:
    case RD_ENQ_FINAL_OPTOUT:
        in->ctr.finals++;
        ack(e);
        return;
    case RD_ENQ_NO_CAMPAIGN:
        refuse(e, "campaign: no such campaign '%s'", e->msg.campaign);
        return;
    case RD_ENQ_CANCELED:
        refuse(e, "campaign: '%s' is canceled", e->msg.campaign);
        return;
    case RD_ENQ_CONFLICT:
        refuse(e, "to: %s already has a live job in this campaign under another id", e->msg.to);
        return;
    }
    in->ctr.errors++;
    entry_done(e);
}

static void enqueue(entry_t *e, const rd_campaign_t *c) {
    rd_ingest_t *in = e->in;
    const rd_tz_t *z;
    int zr = e->msg.tz[0] ? rd_tz_lookup(e->msg.tz, &z) : 0;
    if (zr == RD_ETRANSIENT) {
        defer(e, "tz: zone file unreadable now");
        return;
    }
    if (zr != 0) {
        refuse(e, "tz: unknown time zone '%s'", e->msg.tz);
        return;
    }
    rd_policy_ctx_t ctx;
    memset(&ctx, 0, sizeof(ctx));
    ctx.c = c;
    ctx.tz = rd_policy_zone(c, e->msg.tz[0] ? e->msg.tz : NULL, e->msg.to);
    if (!ctx.tz) {
        defer(e, "tz: the callee's zone file is unreadable now");
        return;
    }
    ctx.jitter_seed = rd_policy_seed(e->msg.campaign, e->msg.to, 1);
    int64_t now = rd_clock_now(in->o.clock);
    rd_decision_t d;
    rd_policy_first(&ctx, now, e->msg.not_before_ms, &d);
    if (d.final) {
        refuse(e, "schedule: %s", d.why ? d.why : "no allowed dial time");
        return;
    }
    rd_store_enqueue_t q = {
        .campaign = e->msg.campaign,
        .to = e->msg.to,
        .id = e->msg.id,
        .vars = e->msg.vars,
        .n_vars = e->msg.n_vars,
        .tz = e->msg.tz,
        .not_before_ms = e->msg.not_before_ms,
        .due_ms = d.due_ms,
    };
    e->due_ms = d.due_ms;
    int rc = rd_store_enqueue(in->o.store, &q, now, on_enqueued, e);
    if (rc == RD_EINVAL)
        refuse(e, "to: '%s' not accepted by the store", e->msg.to);
    else if (rc < 0)
        defer(e, rd_strerror(rc));
}

static void on_campaign(int status, const rd_campaign_t *c, void *arg) {
    entry_t *e = arg;
    if (status == RD_ENOTFOUND) {
        refuse(e, "campaign: no such campaign '%s'", e->msg.campaign);
    } else if (status == RD_EPARSE || status == RD_EINVAL) {
        refuse(e, "campaign: stored configuration of '%s' does not parse", e->msg.campaign);
    } else if (status < 0) {
        defer(e, rd_strerror(status)); /* Redis, or the campaign's zone unreadable now */
    } else {
        enqueue(e, c);
    }
}

static void entry_start(rd_ingest_t *in, const redisReply *item) {
    entry_t *e = rd_calloc(1, sizeof(*e));
    e->in = in;
    rd_job_msg_init(&e->msg);
    in->inflight++;
    in->ctr.read++;
    snprintf(e->id, sizeof(e->id), "%s", item->element[0]->str);
    const redisReply *f = item->element[1];
    if (!f || f->type != REDIS_REPLY_ARRAY) {
        refuse(e, "entry: %s", "no fields (deleted entry)");
        return;
    }
    e->nf = (int)(f->elements & ~(size_t)1);
    e->fv = rd_calloc((size_t)e->nf + 1, sizeof(char *));
    e->fl = rd_calloc((size_t)e->nf + 1, sizeof(size_t));
    for (int i = 0; i < e->nf; i++) {
        const redisReply *x = f->element[i];
        bool ok = x && (x->type == REDIS_REPLY_STRING || x->type == REDIS_REPLY_STATUS);
        e->fl[i] = ok ? x->len : 0;
        e->fv[i] = rd_malloc(e->fl[i] + 1);
        if (ok) memcpy(e->fv[i], x->str, x->len);
        e->fv[i][e->fl[i]] = 0;
    }
    int which = -1;
    for (int i = 0; i + 1 < e->nf; i += 2)
        if (e->fl[i] == 1 && (e->fv[i][0] == 'm' || e->fv[i][0] == 'j')) {
            which = i;
            break;
        }
    if (which < 0) {
        refuse(e, "entry: %s", "no field 'm' (msgpack) or 'j' (JSON)");
        return;
    }
    char err[256];
    int rc =
        e->fv[which][0] == 'm'
            ? rd_job_msg_decode(e->fv[which + 1], e->fl[which + 1], &e->msg, err, sizeof(err))
            : rd_job_msg_decode_json(e->fv[which + 1], e->fl[which + 1], &e->msg, err, sizeof(err));
    if (rc == RD_ETRANSIENT || rc == RD_ENOMEM) {
        defer(e, err);
        return;
    }
    if (rc < 0) {
        refuse(e, "%s", err);
        return;
    }
    rd_ccache_get(in->o.campaigns, e->msg.campaign, on_campaign, e);
}

/* ---- reading ------------------------------------------------------------------------------ */

static void on_timer(uv_timer_t *t) {
    rd_ingest_t *in = t->data;
    next_read(in);
}

static void retry_later(rd_ingest_t *in) {
    if (!in->closing) uv_timer_start(&in->timer, on_timer, RETRY_MS, 0);
}

/* Starts every entry of a [[id, fields], ...] list (NULL: none), then lets
 * the next read go once the batch is done. The guard (inflight + 1 while
 * starting) keeps an entry that finishes synchronously from starting the
 * next read before the whole batch has started. */
static void start_batch(rd_ingest_t *in, const redisReply *list) {
    in->inflight++;
    for (size_t i = 0; list && list->type == REDIS_REPLY_ARRAY && i < list->elements; i++) {
        const redisReply *it = list->element[i];
        if (!it || it->type != REDIS_REPLY_ARRAY || it->elements < 2 ||
            it->element[0]->type != REDIS_REPLY_STRING || it->element[0]->len >= 64)
            continue; /* not an entry (stream ids are short): nothing to ack */
        entry_start(in, it);
    }
    if (--in->inflight == 0) batch_end(in);
}

static void on_group(rd_redis_t *r, int status, redisReply *reply, void *arg);

static bool nogroup(int status, const redisReply *reply) {
    return status == 0 && reply && reply->type == REDIS_REPLY_ERROR &&
           strncmp(reply->str, "NOGROUP", 7) == 0;
}

static void create_group(rd_ingest_t *in) {
    const char *argv[6] = {"XGROUP", "CREATE", in->k_inbox, GROUP, "0", "MKSTREAM"};
    size_t lens[6] = {6, 6, strlen(in->k_inbox), strlen(GROUP), 1, 8};
    in->reading = true;
    if (rd_redis_command(in->r, 6, argv, lens, 0, on_group, in) < 0) in->reading = false;
}

static void on_group(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    rd_ingest_t *in = arg;
    in->reading = false;
    if (in->closing) {
        maybe_free(in);
        return;
    }
    /* BUSYGROUP = it exists: fine. Anything else negative: retry. */
    if (status < 0) {
        retry_later(in);
        return;
    }
    next_read(in);
}

/*
 * Common handling of a read (XREADGROUP) or sweep (XAUTOCLAIM) reply: false
 * when the ingest is closing, the group had to be recreated (stream or group
 * gone: Redis restarted), or the read failed (retried later); true when the
 * reply holds entries to process.
 */
static bool read_reply_usable(rd_ingest_t *in, int status, redisReply *reply) {
    in->reading = false;
    if (in->closing) {
        maybe_free(in);
        return false;
    }
    if (nogroup(status, reply)) {
        create_group(in);
        return false;
    }
    if (rd_redis_reply_status(status, reply) < 0) {
        retry_later(in);
        return false;
    }
    return true;
}

static void on_read(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    rd_ingest_t *in = arg;
    if (!read_reply_usable(in, status, reply)) return;
    /* nil (block timed out) or [[stream, [entries]]] */
    const redisReply *list = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 1) {
        const redisReply *st = reply->element[0];
        if (st && st->type == REDIS_REPLY_ARRAY && st->elements >= 2) list = st->element[1];
    }
    start_batch(in, list);
}

static void on_sweep(rd_redis_t *r, int status, redisReply *reply, void *arg) {
    (void)r;
    rd_ingest_t *in = arg;
    if (!read_reply_usable(in, status, reply)) return;
    /* [next cursor, [entries], [deleted ids]] */
    const redisReply *list = NULL;
    if (reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
        reply->element[0]->type == REDIS_REPLY_STRING && reply->element[0]->len < 64) {
        snprintf(in->sweep_cursor, sizeof(in->sweep_cursor), "%s", reply->element[0]->str);
        list = reply->element[1];
        /* Deleted entries (trimmed while pending) cannot be processed: ack them. */
        if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY) {
            const redisReply *d = reply->element[2];
            for (size_t i = 0; i < d->elements; i++) {
                if (d->element[i]->type != REDIS_REPLY_STRING) continue;
                const char *argv[4] = {"XACK", in->k_inbox, GROUP, d->element[i]->str};
                size_t lens[4] = {4, strlen(in->k_inbox), strlen(GROUP), d->element[i]->len};
                rd_redis_command(in->r, 4, argv, lens, 0, NULL, NULL);
            }
        }
    } else {
        snprintf(in->sweep_cursor, sizeof(in->sweep_cursor), "0-0");
    }
    start_batch(in, list);
}

static void next_read(rd_ingest_t *in) {
    if (in->closing || in->reading || in->inflight || in->acking) return;
    char count[16];
    snprintf(count, sizeof(count), "%d", in->o.batch);
    uint64_t now = uv_now(in->loop);
    in->reading = true;
    int rc;
    if (now - in->last_sweep >= in->o.claim_idle_ms / 2 || strcmp(in->sweep_cursor, "0-0") != 0) {
        if (strcmp(in->sweep_cursor, "0-0") == 0) in->last_sweep = now;
        char idle[16];
        snprintf(idle, sizeof(idle), "%u", in->o.claim_idle_ms);
        const char *argv[8] = {"XAUTOCLAIM", in->k_inbox,      GROUP,   in->consumer,
                               idle,         in->sweep_cursor, "COUNT", count};
        size_t lens[8];
        for (int i = 0; i < 8; i++) lens[i] = strlen(argv[i]);
        rc = rd_redis_command(in->r, 8, argv, lens, 0, on_sweep, in);
    } else {
        char block[16];
        snprintf(block, sizeof(block), "%u", in->o.block_ms);
        const char *argv[10] = {"XREADGROUP", "GROUP", GROUP, in->consumer, "COUNT",
                                count,        "BLOCK", block, "STREAMS",    in->k_inbox};
        size_t lens[11];
        for (int i = 0; i < 10; i++) lens[i] = strlen(argv[i]);
        const char *av[11];
        memcpy(av, argv, sizeof(argv));
        av[10] = ">";
        lens[10] = 1;
        rc = rd_redis_command(in->r, 11, av, lens, in->o.block_ms + in->o.cmd_timeout_ms, on_read,
                              in);
    }
    if (rc < 0) {
        in->reading = false;
        retry_later(in);
    }
}

/* ---- lifetime ------------------------------------------------------------------------------- */

void rd_ingest_opts_init(rd_ingest_opts_t *o) {
    memset(o, 0, sizeof(*o));
    o->batch = 200;
    o->block_ms = 1000;
    o->claim_idle_ms = 30000;
    o->cmd_timeout_ms = 5000;
}

int rd_ingest_create(uv_loop_t *loop, const rd_ingest_opts_t *opts, rd_ingest_t **out) {
    *out = NULL;
    if (!opts->store || !opts->campaigns || !opts->clock || !opts->consumer || !opts->consumer[0] ||
        strlen(opts->consumer) >= 128)
        return RD_EINVAL;
    rd_redis_opts_t ro;
    rd_redis_opts_init(&ro);
    if (rd_redis_addr_config(opts->url, opts->password, &ro.addr) != 0) return RD_EINVAL;
    const char *prefix = opts->prefix ? opts->prefix : RD_STORE_DEFAULT_PREFIX;
    if (strlen(prefix) >= 120) return RD_EINVAL;
    rd_ingest_t *in = rd_calloc(1, sizeof(*in));
    in->loop = loop;
    in->o = *opts;
    if (in->o.batch < 1 || in->o.batch > 10000) in->o.batch = 200;
    if (!in->o.block_ms) in->o.block_ms = 1000;
    if (!in->o.claim_idle_ms) in->o.claim_idle_ms = 30000;
    if (!in->o.cmd_timeout_ms) in->o.cmd_timeout_ms = 5000;
    ro.cmd_timeout_ms = in->o.cmd_timeout_ms;
    snprintf(in->prefix, sizeof(in->prefix), "%s", prefix);
    snprintf(in->k_inbox, sizeof(in->k_inbox), "%s:inbox", prefix);
    snprintf(in->k_dead, sizeof(in->k_dead), "%s:deadletter", prefix);
    snprintf(in->consumer, sizeof(in->consumer), "%s", opts->consumer);
    snprintf(in->sweep_cursor, sizeof(in->sweep_cursor), "0-0");
    in->o.url = in->o.password = in->o.prefix = in->o.consumer = NULL;
    int rc = rd_redis_create(loop, &ro, &in->r);
    if (rc < 0) {
        rd_free(in);
        return rc;
    }
    uv_timer_init(loop, &in->timer);
    in->timer.data = in;
    /* The first sweep takes over whatever a dead consumer left pending. */
    in->last_sweep = uv_now(loop) - in->o.claim_idle_ms;
    create_group(in);
    *out = in;
    return 0;
}

static void maybe_free(rd_ingest_t *in) {
    if (!in->closing || in->inflight || in->reading || in->acking || !in->r_closed ||
        !in->timer_closed)
        return;
    void (*cb)(void *) = in->close_cb;
    void *arg = in->close_arg;
    rd_free(in->acks);
    rd_free(in);
    if (cb) cb(arg);
}

static void on_r_closed(void *arg) {
    rd_ingest_t *in = arg;
    in->r_closed = true;
    maybe_free(in);
}

static void on_timer_closed(uv_handle_t *h) {
    rd_ingest_t *in = h->data;
    in->timer_closed = true;
    maybe_free(in);
}

/* Closes the connection once no entry is in flight. A blocking read still
 * outstanding then fails with RD_ECLOSED (nothing was read by it). */
static void close_redis(rd_ingest_t *in) {
    if (in->redis_closing) return;
    in->redis_closing = true;
    rd_redis_close(in->r, on_r_closed, in);
}

void rd_ingest_close(rd_ingest_t *in, void (*cb)(void *arg), void *arg) {
    if (in->closing) return;
    in->closing = true;
    in->close_cb = cb;
    in->close_arg = arg;
    uv_close((uv_handle_t *)&in->timer, on_timer_closed);
    /* Entries in flight finish first (their XACKs included): they are
     * bounded by the command timeout even when Redis is gone. */
    if (in->inflight == 0 && !in->acking) close_redis(in);
}

void rd_ingest_counters(const rd_ingest_t *in, rd_ingest_counters_t *out) { *out = in->ctr; }
