/*
 * hist.h — a fixed-bucket latency histogram for the Prometheus exposition.
 *
 * One rd_hist_t per counting thread (STYLE rule 10): rd_hist_observe is a
 * bucket search over RD_HIST_N fixed bounds and two relaxed atomic adds on
 * the owner's block, no allocation, no lock. The reader sums blocks with
 * rd_hist_add and renders the sum as one histogram family (_bucket
 * cumulative with le="+Inf", _sum in seconds, _count).
 *
 * Thread safety: observe from the owning thread; add/render from any
 * thread (relaxed loads: a scrape may see one observation half counted).
 */
#ifndef RD_HIST_H
#define RD_HIST_H

#include <stdatomic.h>
#include <stdint.h>

#include "proto/sbuf.h"

/* Upper bounds in seconds: 1 ms .. 10 s (a dial, a settle, a script). */
#define RD_HIST_BOUNDS_NS                                                                        \
    {                                                                                            \
        1000000ull, 2500000ull, 5000000ull, 10000000ull, 25000000ull, 50000000ull, 100000000ull, \
            250000000ull, 500000000ull, 1000000000ull, 2500000000ull, 5000000000ull,             \
            10000000000ull                                                                       \
    }
#define RD_HIST_N 13

typedef struct rd_hist {
    _Atomic uint64_t b[RD_HIST_N + 1]; /* per bucket (not cumulative); [RD_HIST_N] = over */
    _Atomic uint64_t sum_ns;
} rd_hist_t;

/* Counts one duration of ns nanoseconds in h (NULL: nothing). */
static inline void rd_hist_observe(rd_hist_t *h, uint64_t ns) {
    static const uint64_t bounds[RD_HIST_N] = RD_HIST_BOUNDS_NS;
    if (!h) return;
    int i = 0;
    while (i < RD_HIST_N && ns > bounds[i]) i++;
    atomic_fetch_add_explicit(&h->b[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum_ns, ns, memory_order_relaxed);
}

/* dst += src (dst is the reader's own copy). */
void rd_hist_add(rd_hist_t *dst, const rd_hist_t *src);

/* Appends h as the histogram family `name` (ends in _seconds) with HELP help. */
void rd_hist_render(rd_sbuf_t *out, const char *name, const char *help, const rd_hist_t *h);

#endif
