/*
 * hist.c — summing and rendering fixed-bucket histograms (contract in
 * hist.h).
 *
 * Design: buckets are stored per bucket, not cumulatively, so an
 * observation is one add; the cumulative counts the exposition wants are
 * built on render. Bounds are printed with %g (0.001 .. 10), sums in
 * seconds with nanosecond precision.
 */
#include "proto/hist.h"

void rd_hist_add(rd_hist_t *dst, const rd_hist_t *src) {
    for (int i = 0; i <= RD_HIST_N; i++)
        atomic_fetch_add_explicit(&dst->b[i],
                                  atomic_load_explicit(&src->b[i], memory_order_relaxed),
                                  memory_order_relaxed);
    atomic_fetch_add_explicit(&dst->sum_ns,
                              atomic_load_explicit(&src->sum_ns, memory_order_relaxed),
                              memory_order_relaxed);
}

void rd_hist_render(rd_sbuf_t *out, const char *name, const char *help, const rd_hist_t *h) {
    static const uint64_t bounds[RD_HIST_N] = RD_HIST_BOUNDS_NS;
    rd_sbuf_printf(out, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    uint64_t cum = 0;
    for (int i = 0; i < RD_HIST_N; i++) {
        cum += atomic_load_explicit(&h->b[i], memory_order_relaxed);
        rd_sbuf_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name, (double)bounds[i] / 1e9,
                       (unsigned long long)cum);
    }
    cum += atomic_load_explicit(&h->b[RD_HIST_N], memory_order_relaxed);
    uint64_t sum = atomic_load_explicit(&h->sum_ns, memory_order_relaxed);
    rd_sbuf_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n%s_sum %llu.%09llu\n%s_count %llu\n", name,
                   (unsigned long long)cum, name, (unsigned long long)(sum / 1000000000ull),
                   (unsigned long long)(sum % 1000000000ull), name, (unsigned long long)cum);
}
