/*
 * bulk.c — a campaign's numbers into the store, a bounded window at a time
 * (see bulk.h).
 *
 * Design. One heap object drives the window: `next` is the next number to
 * look at, `inflight` the requests outstanding. pump() checks numbers and
 * issues enqueues until the window is full or the list is done; each reply
 * counts its result and pumps again. Numbers refused by
 * rd_enqueue_prepare() are recorded without touching Redis. Completion
 * always goes through a zero-delay uv timer, so the callback never runs
 * inside rd_bulk_enqueue() (even when no number reached the store) and the
 * object is freed in the timer's close callback (libuv rule: free only once
 * closed).
 *
 * Invariants: once `status` is set (a store failure) nothing more is sent,
 * but the replies already due are awaited before finishing.
 */
#include "store/bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store/enqueue.h"
#include "proto/rd.h"
#include "proto/text.h"

typedef struct bulk {
    uv_timer_t timer;
    rd_store_t *s;
    const rd_campaign_t *c;
    char *const *numbers;
    int64_t now_ms;
    unsigned window, inflight;
    size_t next;
    bool finishing;
    rd_bulk_res_t res;
    rd_bulk_bad_t *bad; /* RD_BULK_MAX_BAD entries */
    rd_bulk_cb cb;
    void *arg;
} bulk_t;

typedef struct {
    bulk_t *b;
    size_t index;
} req_t;

static void add_bad(bulk_t *b, size_t index, const char *number, const char *reason) {
    b->res.n_refused++;
    if (b->res.n_bad >= RD_BULK_MAX_BAD) return;
    rd_bulk_bad_t *x = &b->bad[b->res.n_bad++];
    x->index = index;
    rd_text_printable(x->number, sizeof x->number, number);
    snprintf(x->reason, sizeof x->reason, "%s", reason);
}

static int cmp_bad(const void *a, const void *b) {
    size_t x = ((const rd_bulk_bad_t *)a)->index, y = ((const rd_bulk_bad_t *)b)->index;
    return x < y ? -1 : x > y;
}

static void closed(uv_handle_t *h) {
    bulk_t *b = h->data;
    rd_free(b->bad);
    rd_free(b);
}

static void fire(uv_timer_t *t) {
    bulk_t *b = t->data;
    qsort(b->bad, b->res.n_bad, sizeof *b->bad, cmp_bad);
    b->res.bad = b->bad;
    b->cb(&b->res, b->arg);
    uv_close((uv_handle_t *)&b->timer, closed);
}

static void pump(bulk_t *b);

static void enq_cb(rd_store_t *s, int status, rd_enq_result_t result, const char *id, void *arg) {
    (void)s;
    (void)id;
    req_t *r = arg;
    bulk_t *b = r->b;
    b->inflight--;
    if (status) {
        if (!b->res.status) b->res.status = status;
    } else if ((int)result >= 0 && result <= RD_ENQ_CONFLICT) {
        b->res.by_result[result]++;
        if (rd_enqueue_result_refused(result))
            add_bad(b, r->index, b->numbers[r->index], rd_enqueue_result_name(result));
    }
    rd_free(r);
    pump(b);
}

static void pump(bulk_t *b) {
    while (!b->res.status && b->next < b->res.total && b->inflight < b->window) {
        size_t i = b->next++;
        const char *to = b->numbers[i];
        rd_store_enqueue_t e;
        char err[200];
        if (rd_enqueue_prepare(b->c, to, NULL, NULL, NULL, 0, 0, b->now_ms, &e, err, sizeof err)) {
            b->res.invalid++;
            add_bad(b, i, to, err);
            continue;
        }
        req_t *r = rd_malloc(sizeof *r);
        r->b = b;
        r->index = i;
        int rc = rd_store_enqueue(b->s, &e, b->now_ms, enq_cb, r);
        if (rc) {
            rd_free(r);
            b->res.status = rc;
            break;
        }
        b->inflight++;
        b->res.sent++;
    }
    if (b->inflight == 0 && !b->finishing && (b->res.status || b->next >= b->res.total)) {
        b->finishing = true;
        uv_timer_start(&b->timer, fire, 0, 0);
    }
}

int rd_bulk_enqueue(uv_loop_t *loop, rd_store_t *s, const rd_campaign_t *c, char *const *numbers,
                    size_t n, int64_t now_ms, unsigned max_inflight, rd_bulk_cb cb, void *arg) {
    bulk_t *b = rd_calloc(1, sizeof *b);
    b->bad = rd_calloc(RD_BULK_MAX_BAD, sizeof *b->bad);
    b->s = s;
    b->c = c;
    b->numbers = numbers;
    b->now_ms = now_ms;
    b->window = max_inflight ? max_inflight : 128;
    b->res.total = n;
    b->cb = cb;
    b->arg = arg;
    uv_timer_init(loop, &b->timer);
    b->timer.data = b;
    pump(b);
    return 0;
}

json_t *rd_bulk_res_to_json(const rd_bulk_res_t *r) {
    json_t *o = json_object();
    json_object_set_new(o, "numbers", json_integer((json_int_t)r->total));
    json_object_set_new(o, "enqueued", json_integer((json_int_t)r->by_result[RD_ENQ_CREATED]));
    json_object_set_new(o, "duplicates", json_integer((json_int_t)r->by_result[RD_ENQ_DUPLICATE]));
    json_object_set_new(o, "dnd", json_integer((json_int_t)r->by_result[RD_ENQ_FINAL_DND]));
    json_object_set_new(o, "opted_out",
                        json_integer((json_int_t)r->by_result[RD_ENQ_FINAL_OPTOUT]));
    json_object_set_new(o, "refused", json_integer((json_int_t)r->n_refused));
    json_t *a = json_array();
    for (size_t i = 0; i < r->n_bad; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "index", json_integer((json_int_t)r->bad[i].index));
        json_object_set_new(x, "number", json_string(r->bad[i].number));
        json_object_set_new(x, "reason", json_string(r->bad[i].reason));
        json_array_append_new(a, x);
    }
    json_object_set_new(o, "invalid", a);
    if (r->n_refused > r->n_bad) json_object_set_new(o, "invalid_truncated", json_true());
    return o;
}
