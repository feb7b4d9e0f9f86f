/*
 * store_int.h — what the store's files share (store.c, store_record.c,
 * store_job.c, store_admin.c); not part of the contract (store/store.h).
 * Loop thread of the store only, like everything in the store.
 */
#ifndef RD_STORE_INT_H
#define RD_STORE_INT_H

#include <hiredis/hiredis.h>
#include <msgpack.h>

#include "common/redis.h"
#include "common/redis_probe.h"
#include "store/store.h"

/* The scripts, loaded as lib.lua + <name>.lua (rd_store_create). */
enum {
    SC_ENQUEUE,
    SC_CLAIM,
    SC_PLACED,
    SC_RELEASE,
    SC_LOOKUP,
    SC_SETTLE,
    SC_RECOVER,
    SC_CAMPAIGN_CREATE,
    SC_CAMPAIGN_STATE,
    SC_CAMPAIGN_GET,
    SC_OPTOUT,
    SC_POOL_SET,
    SC_STATS,
    SC_DND_ADD,
    SC__COUNT
};

/* Buffers of the engine-side settle (settle_prep), reused across settles. */
typedef struct settle_prep {
    msgpack_sbuffer rec, ev, fin;
    int attempt;
    char call[RD_STORE_CALL_ID_MAX + 1];
} settle_prep_t;

enum { BQ_ENQUEUE, BQ_PLACED, BQ_RELEASE, BQ_SETTLE, BQ_LOOKUP, BQ__COUNT };

struct rd_store {
    uv_loop_t *loop;
    rd_redis_t *r;
    rd_redis_probe_t *probe; /* liveness probe, NULL = none */
    char prefix[128];
    char k_seq[160];
    size_t prefix_len, k_seq_len;
    rd_store_opts_t opts;
    char bucket[128];
    int sc[SC__COUNT];
    void (*close_cb)(void *);
    void *close_arg;
    /* Per-item operations issued in one loop iteration go out as one script
     * call per kind (see "batching" below). */
    struct bq *bq[BQ__COUNT];
    settle_prep_t *prepp;
    uint64_t settles_prepared; /* settles applied from the engine's record */
    uv_prepare_t flush;
    uv_timer_t wait; /* batch_wait_ms: the oldest queued item's deadline */
    int open_handles;
    /* Scripts of the store modules in their own files (rd_store_ext_script). */
    struct {
        const char *src;
        int h;
    } ext[16];
    int n_ext;
};

/* Arguments of one unbatched script call: KEYS[1] and the prefix, then the call's. */
#define ARGS_MAX 24

typedef struct args {
    int n;
    const char *v[ARGS_MAX];
    size_t l[ARGS_MAX];
    char num[ARGS_MAX][24]; /* storage for numbers */
} args_t;

/* One in-flight unbatched operation: the user's callback and what the decoder needs. */
typedef struct op {
    rd_store_t *s;
    void (*cb)(void);
    void *arg;
    int64_t i1, i2;
    char str[RD_CAMPAIGN_NAME_MAX + 1];
} op_t;

/* A batch of per-item calls of one kind (store.c, "batching"). */
typedef struct bq_item bq_item_t;
typedef void (*bq_done_fn)(rd_store_t *s, const bq_item_t *it, int rc, redisReply **vals);

struct bq_item {
    bq_done_fn done;
    void (*cb)(void);
    void *arg;
};

typedef struct bq {
    int script, per_item, nvals, max_items;
    bq_item_t *items;
    size_t n, cap;
    char *buf; /* argument bytes, back to back */
    size_t blen, bcap;
    size_t *off, *len; /* per argument */
    size_t na, acap;
    int64_t now; /* the latest `now` of the queued items */
} bq_t;

/* ---- store.c: script runner, reply helpers, batching ---- */

void rd_store__args_init(args_t *a, rd_store_t *s);
void rd_store__arg_str(args_t *a, const char *p, size_t len);
void rd_store__arg_cstr(args_t *a, const char *p);
void rd_store__arg_i64(args_t *a, int64_t v);
void rd_store__arg_dbl(args_t *a, double v);
/* A new op (owned by the call: freed by its completion, or by run on failure). */
op_t *rd_store__op_new(rd_store_t *s, void (*cb)(void), void *arg);
/* Runs `script` with a; frees o when it cannot be sent. */
int rd_store__run(rd_store_t *s, int script, args_t *a, rd_redis_cb done, op_t *o);
/* Integer value of an integer or decimal-string reply (0 otherwise). */
int64_t rd_store__rint_(const redisReply *r);
bool rd_store__is_arr(const redisReply *r, size_t min);
bool rd_store__is_str(const redisReply *r);
/* Copies len bytes (truncated to cap - 1) and terminates. */
void rd_store__copy_str(char *dst, size_t cap, const char *src, size_t len);
/* Queues one item of batch `kind`; its arguments follow (bq_bin/str/i64), then bq_commit. */
bq_t *rd_store__bq_begin(rd_store_t *s, int kind, bq_done_fn done, void (*cb)(void), void *arg,
                         int64_t now);
void rd_store__bq_bin(bq_t *q, const void *p, size_t len);
void rd_store__bq_str(bq_t *q, const char *p);
void rd_store__bq_i64(bq_t *q, int64_t v);
void rd_store__bq_commit(rd_store_t *s, int kind);
/* Completions for rd_store_cb (status only) and rd_store_count_cb. */
void rd_store__done_ok(rd_redis_t *r, int status, redisReply *reply, void *arg);
void rd_store__done_count(rd_redis_t *r, int status, redisReply *reply, void *arg);

/* ---- store_record.c: the number-record codec ---- */

bool rd_store__mp_i64(const msgpack_object *o, int64_t *out);
bool rd_store__mp_str(const msgpack_object *o, const char **p, size_t *len);
/* Decodes one msgpack value from buf into u (caller destroys u). */
bool rd_store__mp_one(msgpack_unpacked *u, const char *buf, size_t len);
void rd_store__vars_free(rd_job_var_t *v, size_t n);
/* Packs vars as a msgpack map str -> str into sb. */
int rd_store__vars_encode(const rd_job_var_t *v, size_t n, msgpack_sbuffer *sb);
/* From a number record: the job of campaign id cid (live when seq is 0, the
 * (-seq)-th job when seq < 0, the one with that seq when > 0) and the
 * number's attempts. RD_ENOTFOUND when the record holds no such job. */
int rd_store__job_from_nrec(rd_store_job_t *j, const redisReply *nrec, int64_t cid, int64_t seq);
/* A lease over the job: claimed or placed, token, start, call id, polls.
 * with_attempt: the live attempt counts among the number's attempts. */
void rd_store__job_lease(rd_store_job_t *j, uint64_t tok, int64_t start, bool placed,
                         const redisReply *call, int64_t polls, bool with_attempt);
/* campaign and number replies -> *j (zeroed first). */
int rd_store__job_names(rd_store_job_t *j, const redisReply *camp, const redisReply *num);
void rd_store__job_clear(rd_store_job_t *j);
/* Claim (group 5) / recover (group 8) job groups from reply->element[first..]. */
int rd_store__decode_jobs(const redisReply *reply, size_t first, size_t group, int64_t now,
                          rd_store_job_t **out, size_t *n_out);
void rd_store__free_jobs(rd_store_job_t *jobs, size_t n);
/* The engine-side half of a settle given its job (see store_record.c). */
bool rd_store__settle_prep(const rd_store_settle_t *st, settle_prep_t *sp);

/* ---- store_job.c ---- */

/* Batched lookup by mode "a" (attempt key), "c" (call id), "i" (job id). */
int rd_store__lookup(rd_store_t *s, const char *mode, const char *key, rd_store_job_cb cb,
                     void *arg);

#endif
