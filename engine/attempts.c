/*
 * attempts.c — the engine's live attempts by lease token (contract in
 * attempts.h).
 *
 * Design: entries are nodes of two intrusive lists — a hash chain (buckets
 * indexed by a mix of the token, power-of-two count fixed at creation, about
 * two per entry at most) and an age list (insertion order, oldest first:
 * the eviction order when the table is full). Dropped entries go to a free
 * list and are reused with their record buffer, so once the table has seen
 * its peak nothing is allocated.
 */
#include "engine/attempts.h"

#include <stdio.h>
#include <string.h>

#include "proto/rd.h"

typedef struct entry {
    struct entry *hnext;         /* hash chain */
    struct entry *older, *newer; /* age list; free list uses newer */
    rd_store_job_t job;
    char *rec; /* owned copy of job.nrec */
    size_t rec_cap;
} entry_t;

struct rd_attempts {
    entry_t **buckets;
    size_t mask, n, max;
    entry_t *oldest, *newest, *free;
};

static size_t bucket_of(const rd_attempts_t *a, uint64_t tok) {
    tok ^= tok >> 33;
    tok *= 0xff51afd7ed558ccdULL;
    tok ^= tok >> 33;
    return (size_t)tok & a->mask;
}

int rd_attempts_create(size_t max, rd_attempts_t **out) {
    *out = NULL;
    if (max < 1) return RD_EINVAL;
    rd_attempts_t *a = rd_calloc(1, sizeof *a);
    size_t nb = 16;
    while (nb < 2 * max) nb *= 2;
    a->buckets = rd_calloc(nb, sizeof *a->buckets);
    a->mask = nb - 1;
    a->max = max;
    *out = a;
    return 0;
}

static entry_t *find(const rd_attempts_t *a, uint64_t tok, entry_t ***link) {
    entry_t **pp = &a->buckets[bucket_of(a, tok)];
    for (; *pp; pp = &(*pp)->hnext)
        if ((*pp)->job.token == tok) break;
    if (link) *link = pp;
    return *pp;
}

static void unlink_entry(rd_attempts_t *a, entry_t *e, entry_t **link) {
    *link = e->hnext;
    if (e->older)
        e->older->newer = e->newer;
    else
        a->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        a->newest = e->older;
    e->hnext = e->older = NULL;
    e->newer = a->free;
    a->free = e;
    a->n--;
}

void rd_attempts_drop(rd_attempts_t *a, uint64_t token) {
    entry_t **link;
    entry_t *e = find(a, token, &link);
    if (e) unlink_entry(a, e, link);
}

int rd_attempts_put(rd_attempts_t *a, const rd_store_job_t *job) {
    if (!job->token || !job->nrec || !job->nrec_len) return RD_EINVAL;
    rd_attempts_drop(a, job->token);
    if (a->n == a->max) rd_attempts_drop(a, a->oldest->job.token);
    entry_t *e = a->free;
    if (e)
        a->free = e->newer;
    else
        e = rd_calloc(1, sizeof *e);
    if (e->rec_cap < job->nrec_len) {
        rd_free(e->rec);
        e->rec_cap = job->nrec_len < 256 ? 256 : job->nrec_len;
        e->rec = rd_malloc(e->rec_cap);
    }
    memcpy(e->rec, job->nrec, job->nrec_len);
    e->job = *job;
    e->job.vars = NULL;
    e->job.n_vars = 0;
    e->job.nrec = e->rec;
    e->job.nrec_owned = false;
    e->job.state = RD_JOB_CLAIMED;
    e->job.attempt = (int)job->n_hist + 1;
    /* A lookup counts the claim's own attempt among the number's (the claim reply does not). */
    if (e->job.n_num_attempts < RD_STORE_MAX_NUM_ATTEMPTS)
        e->job.num_attempts_ms[e->job.n_num_attempts++] = job->lease_start_ms;
    entry_t **b = &a->buckets[bucket_of(a, job->token)];
    e->hnext = *b;
    *b = e;
    e->newer = NULL;
    e->older = a->newest;
    if (a->newest)
        a->newest->newer = e;
    else
        a->oldest = e;
    a->newest = e;
    a->n++;
    return 0;
}

void rd_attempts_placed(rd_attempts_t *a, uint64_t token, const char *call_id,
                        int64_t deadline_ms) {
    entry_t *e = find(a, token, NULL);
    if (!e) return;
    e->job.state = RD_JOB_PLACED;
    snprintf(e->job.call_id, sizeof e->job.call_id, "%s", call_id ? call_id : "");
    e->job.deadline_ms = deadline_ms;
}

const rd_store_job_t *rd_attempts_get(const rd_attempts_t *a, const char *campaign,
                                      uint64_t token) {
    entry_t *e = find(a, token, NULL);
    if (!e || strcmp(e->job.campaign, campaign) != 0) return NULL;
    return &e->job;
}

size_t rd_attempts_count(const rd_attempts_t *a) { return a->n; }

void rd_attempts_destroy(rd_attempts_t *a) {
    if (!a) return;
    while (a->oldest) rd_attempts_drop(a, a->oldest->job.token);
    while (a->free) {
        entry_t *e = a->free;
        a->free = e->newer;
        rd_free(e->rec);
        rd_free(e);
    }
    rd_free(a->buckets);
    rd_free(a);
}
