/*
 * journal.h — what the engine learned about calls it placed, kept until
 * Redis has it (issue 12, item 1).
 *
 * When the provider accepts a dial, the call exists: its id must reach the
 * lease (rd_store_placed) or the job would later be taken for "never placed"
 * and the number dialed again. A Redis outage (down, stopped, at maxmemory,
 * restarting) makes that write fail with a resource error; the journal keeps
 * it (bounded, in issue order) and sends it again every retry period while
 * the store reports Redis up, until Redis applies it or answers that the
 * lease is no longer current (fenced as always: a replay can never place
 * somebody else's lease). Callback outcomes are not journaled: a callback
 * that cannot be settled is answered 503, and once the call id is on the
 * lease, recovery polls the provider for its outcome (docs/reliability.md).
 *
 * What is lost: entries still pending when the engine exits or crashes (each
 * is logged at error level at close), and entries beyond max_items (counted,
 * logged). That is the crash window docs/reliability.md writes down.
 *
 * Threads: the engine loop thread.
 */
#ifndef RD_JOURNAL_H
#define RD_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "store/store.h"

typedef struct rd_journal rd_journal_t;

typedef struct rd_journal_stats {
    uint64_t placed;   /* placed writes issued through the journal */
    uint64_t kept;     /* of them, kept after a failed write */
    uint64_t replayed; /* kept ones Redis applied later */
    uint64_t stale;    /* kept ones Redis answered stale (lease settled or gone meanwhile) */
    uint64_t dropped;  /* lost: over max_items, or given up after a non-resource error */
    size_t pending;    /* kept now */
} rd_journal_stats_t;

/*
 * A journal writing through `store` (borrowed; must outlive the journal),
 * keeping at most max_items (0 = 100000) entries, retrying every retry_ms
 * (0 = 250) wall ms. Returns 0 and *out.
 */
int rd_journal_create(uv_loop_t *loop, rd_store_t *store, size_t max_items, uint32_t retry_ms,
                      rd_journal_t **out);

/*
 * The provider accepted the dial of lease (campaign, token) as call_id ("" =
 * the reply was unreadable: placed, id unknown); deadline_ms as for
 * rd_store_placed. Strings are copied. The write goes
 * out at once; if it fails for a resource reason it is kept and retried.
 * Returns 0 or RD_EINVAL (bad arguments, nothing kept).
 */
int rd_journal_placed(rd_journal_t *j, const char *campaign, uint64_t token, const char *call_id,
                      int64_t deadline_ms);

void rd_journal_stats(const rd_journal_t *j, rd_journal_stats_t *out);

/*
 * Stops retrying; every entry still kept is logged at error level
 * (journal.lost) and freed. cb(arg) (may be NULL) runs once every write in
 * flight has completed (call before closing the store) and the timer is closed.
 */
void rd_journal_close(rd_journal_t *j, void (*cb)(void *arg), void *arg);

#endif
