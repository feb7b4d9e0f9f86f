/*
 * journal.c — placed writes kept across Redis outages (contract in journal.h).
 *
 * Entries: one heap entry per placed write, owned by exactly one place at a
 * time — in flight (the store holds it as the callback's arg) or on the
 * pending FIFO (head/tail). A failed write comes back through on_done and
 * is appended to the FIFO; since the store runs callbacks in issue order,
 * the FIFO stays in issue order across replays.
 *
 * Replay: a repeating timer; when the store reports Redis up
 * (rd_store_connected: the traffic connection and the PING probe), the
 * whole FIFO is sent again (the store batches it into one placed.lua call
 * per loop iteration). placed.lua is fenced by the lease token and
 * idempotent for the same call id, so sending an entry twice, or after the
 * lease was settled by a callback that got through, is harmless: stale.
 *
 * Resource errors (kept): RD_ETIMEOUT, RD_ECLOSED (connection lost), RD_EIO,
 * RD_EAGAIN, RD_ENOMEM, and RD_EREDIS (an error reply: OOM at maxmemory,
 * LOADING while Redis reads its AOF, ...). An error reply that is not going
 * away (a bug) must not loop forever: after MAX_REDIS_TRIES error replies
 * the entry is dropped and logged. Anything else (RD_EPROTO, RD_EINVAL) is
 * dropped and logged at once.
 */
#include "engine/journal.h"

#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "proto/rd.h"

#define MAX_REDIS_TRIES 2000 /* error replies per entry: ~8 min at 250 ms */

typedef struct entry {
    struct entry *next;
    rd_journal_t *j;
    uint64_t token;
    int64_t deadline_ms;
    uint32_t redis_errors;
    bool kept;
    char campaign[RD_CAMPAIGN_NAME_MAX + 1];
    char call_id[RD_STORE_CALL_ID_MAX + 1];
} entry_t;

struct rd_journal {
    rd_store_t *store;
    uv_timer_t timer;
    size_t max_items;
    entry_t *head, *tail;
    size_t flight;
    rd_journal_stats_t st;
    bool closing, timer_closed;
    void (*close_cb)(void *);
    void *close_arg;
};

static void log_entry(int level, const char *event, const entry_t *e, int status) {
    char tok[24];
    snprintf(tok, sizeof tok, "%llu", (unsigned long long)e->token);
    rd_log(level, event, "campaign", e->campaign, "lease", tok, "call_id", e->call_id, "error",
           rd_strerror(status), NULL);
}

static void on_timer_closed(uv_handle_t *h) {
    rd_journal_t *j = h->data;
    void (*cb)(void *) = j->close_cb;
    void *arg = j->close_arg;
    rd_free(j);
    if (cb) cb(arg);
}

static void maybe_closed(rd_journal_t *j) {
    if (!j->closing || j->flight > 0 || j->timer_closed) return;
    j->timer_closed = true;
    uv_close((uv_handle_t *)&j->timer, on_timer_closed);
}

static bool resource_error(int status) {
    return status == RD_ETIMEOUT || status == RD_ECLOSED || status == RD_EIO ||
           status == RD_EAGAIN || status == RD_ENOMEM || status == RD_EREDIS;
}

static void on_done(rd_store_t *s, int status, void *arg);

static void send_entry(rd_journal_t *j, entry_t *e) {
    j->flight++;
    int rc =
        rd_store_placed(j->store, e->campaign, e->token, e->call_id, e->deadline_ms, on_done, e);
    if (rc != 0) on_done(j->store, rc, e); /* arguments checked at entry: not expected */
}

static void on_done(rd_store_t *s, int status, void *arg) {
    (void)s;
    entry_t *e = arg;
    rd_journal_t *j = e->j;
    j->flight--;
    if (status == 0 || status == RD_ESTALE) {
        if (e->kept) {
            if (status == 0) {
                j->st.replayed++;
                log_entry(RD_LOG_INFO, "journal.replayed", e, 0);
            } else {
                j->st.stale++;
            }
        }
        rd_free(e);
    } else if (!resource_error(status) ||
               (status == RD_EREDIS && ++e->redis_errors > MAX_REDIS_TRIES)) {
        j->st.dropped++;
        log_entry(RD_LOG_ERROR, "journal.dropped", e, status);
        rd_free(e);
    } else if (j->closing) {
        j->st.dropped++;
        log_entry(RD_LOG_ERROR, "journal.lost", e, status);
        rd_free(e);
    } else if (!e->kept && j->st.pending >= j->max_items) {
        j->st.dropped++;
        log_entry(RD_LOG_ERROR, "journal.full", e, status);
        rd_free(e);
    } else {
        if (!e->kept) {
            e->kept = true;
            j->st.kept++;
            log_entry(RD_LOG_WARN, "journal.kept", e, status);
        }
        e->next = NULL;
        if (j->tail)
            j->tail->next = e;
        else
            j->head = e;
        j->tail = e;
        j->st.pending++;
    }
    maybe_closed(j);
}

static void on_timer(uv_timer_t *t) {
    rd_journal_t *j = t->data;
    if (j->closing || !j->head || !rd_store_connected(j->store)) return;
    entry_t *e = j->head;
    j->head = j->tail = NULL;
    j->st.pending = 0;
    while (e) {
        entry_t *next = e->next;
        send_entry(j, e);
        e = next;
    }
}

int rd_journal_create(uv_loop_t *loop, rd_store_t *store, size_t max_items, uint32_t retry_ms,
                      rd_journal_t **out) {
    *out = NULL;
    if (!store) return RD_EINVAL;
    rd_journal_t *j = rd_calloc(1, sizeof *j);
    j->store = store;
    j->max_items = max_items ? max_items : 100000;
    uv_timer_init(loop, &j->timer);
    j->timer.data = j;
    uint32_t every = retry_ms ? retry_ms : 250;
    uv_timer_start(&j->timer, on_timer, every, every);
    uv_unref((uv_handle_t *)&j->timer);
    *out = j;
    return 0;
}

int rd_journal_placed(rd_journal_t *j, const char *campaign, uint64_t token, const char *call_id,
                      int64_t deadline_ms) {
    if (j->closing || !campaign || strlen(campaign) > RD_CAMPAIGN_NAME_MAX || !call_id ||
        strlen(call_id) > RD_STORE_CALL_ID_MAX || !token || token > INT64_MAX)
        return RD_EINVAL;
    entry_t *e = rd_calloc(1, sizeof *e);
    e->j = j;
    e->token = token;
    e->deadline_ms = deadline_ms;
    snprintf(e->campaign, sizeof e->campaign, "%s", campaign);
    snprintf(e->call_id, sizeof e->call_id, "%s", call_id);
    j->st.placed++;
    send_entry(j, e);
    return 0;
}

void rd_journal_stats(const rd_journal_t *j, rd_journal_stats_t *out) { *out = j->st; }

void rd_journal_close(rd_journal_t *j, void (*cb)(void *arg), void *arg) {
    if (j->closing) return;
    j->closing = true;
    j->close_cb = cb;
    j->close_arg = arg;
    uv_timer_stop(&j->timer);
    for (entry_t *e = j->head, *next; e; e = next) {
        next = e->next;
        j->st.dropped++;
        log_entry(RD_LOG_ERROR, "journal.lost", e, RD_ECLOSED);
        rd_free(e);
    }
    j->head = j->tail = NULL;
    j->st.pending = 0;
    maybe_closed(j);
}
