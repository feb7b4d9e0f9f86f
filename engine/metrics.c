/*
 * metrics.c — per-thread counter blocks summed on read (see metrics.h).
 */
#include "engine/metrics.h"

#include <stdio.h>
#include <string.h>

#include "proto/rd.h"

static const char *const m_names[] = {
#define RD__M_NAME(id, name, help) name,
    RD_METRICS_MAP(RD__M_NAME)
#undef RD__M_NAME
};
static const char *const m_help[] = {
#define RD__M_HELP(id, name, help) help,
    RD_METRICS_MAP(RD__M_HELP)
#undef RD__M_HELP
};

rd_counters_t *rd_metrics_register(rd_metrics_t *m) {
    if (m->n_blocks >= RD_METRICS_MAX_BLOCKS) return NULL;
    return &m->blocks[m->n_blocks++];
}

uint64_t rd_metrics_sum(const rd_metrics_t *m, rd_metric_t id) {
    uint64_t s = 0;
    for (int i = 0; i < m->n_blocks; i++)
        s += atomic_load_explicit(&m->blocks[i].v[id], memory_order_relaxed);
    return s;
}

char *rd_metrics_render(const rd_metrics_t *m, char *buf, size_t *len) {
    size_t cap = *len + 8192;
    buf = rd_realloc(buf, cap);
    for (int id = 0; id < RD_M__COUNT; id++) {
        const char *kind = strstr(m_names[id], "_total") ? "counter" : "untyped";
        for (;;) {
            int n = snprintf(buf + *len, cap - *len, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n",
                             m_names[id], m_help[id], m_names[id], kind, m_names[id],
                             (unsigned long long)rd_metrics_sum(m, (rd_metric_t)id));
            if (n > 0 && (size_t)n < cap - *len) {
                *len += (size_t)n;
                break;
            }
            cap *= 2;
            buf = rd_realloc(buf, cap);
        }
    }
    return buf;
}
