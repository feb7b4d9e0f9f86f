/* Unit tests: engine/attempts.c (the engine's live attempts by lease token):
 * a kept job reads back as a lookup would (CLAIMED, then PLACED with its call
 * id; the claim's own attempt among the number's), the campaign must match,
 * drop forgets, a full table evicts the oldest, and entries are recycled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/attempts.h"
#include "proto/rd.h"

static void mkjob(rd_store_job_t *j, const char *campaign, uint64_t tok, const char *rec,
                  size_t len) {
    memset(j, 0, sizeof *j);
    snprintf(j->campaign, sizeof j->campaign, "%s", campaign);
    snprintf(j->to, sizeof j->to, "+9190%08llu", (unsigned long long)tok);
    j->token = tok;
    j->state = RD_JOB_CLAIMED;
    j->lease_start_ms = 1000 + (int64_t)tok;
    j->n_hist = 1;
    j->hist[0].start_ms = 10;
    j->num_attempts_ms[0] = 10;
    j->n_num_attempts = 1;
    j->nrec = rec;
    j->nrec_len = len;
    j->cid = 7;
}

static void t_put_get_placed(void **state) {
    (void)state;
    rd_attempts_t *a;
    assert_int_equal(rd_attempts_create(8, &a), 0);
    char rec[] = "\x92\x91\x0a\x93\x07\x00\x01";
    rd_store_job_t j;
    mkjob(&j, "camp", 42, rec, 7);
    assert_int_equal(rd_attempts_put(a, &j), 0);
    rec[0] = 'X'; /* the table holds its own copy */
    const rd_store_job_t *g = rd_attempts_get(a, "camp", 42);
    assert_non_null(g);
    assert_int_equal(g->state, RD_JOB_CLAIMED);
    assert_int_equal(g->attempt, 2);
    assert_int_equal(g->n_num_attempts, 2);
    assert_int_equal(g->num_attempts_ms[1], 1042);
    assert_int_equal(g->nrec_len, 7);
    assert_memory_equal(g->nrec, "\x92\x91\x0a\x93\x07\x00\x01", 7);
    assert_null(rd_attempts_get(a, "other", 42));
    assert_null(rd_attempts_get(a, "camp", 43));
    rd_attempts_placed(a, 42, "CA123", 99999);
    g = rd_attempts_get(a, "camp", 42);
    assert_int_equal(g->state, RD_JOB_PLACED);
    assert_string_equal(g->call_id, "CA123");
    assert_int_equal(g->deadline_ms, 99999);
    rd_attempts_drop(a, 42);
    assert_null(rd_attempts_get(a, "camp", 42));
    assert_int_equal(rd_attempts_count(a), 0);
    /* no record: not kept */
    mkjob(&j, "camp", 5, rec, 7);
    j.nrec = NULL;
    assert_int_equal(rd_attempts_put(a, &j), RD_EINVAL);
    rd_attempts_destroy(a);
}

static void t_full_evicts_oldest(void **state) {
    (void)state;
    rd_attempts_t *a;
    assert_int_equal(rd_attempts_create(100, &a), 0);
    rd_store_job_t j;
    for (uint64_t t = 1; t <= 1000; t++) {
        mkjob(&j, "c", t, "\x91\x90", 2);
        assert_int_equal(rd_attempts_put(a, &j), 0);
        assert_true(rd_attempts_count(a) <= 100);
    }
    assert_int_equal(rd_attempts_count(a), 100);
    assert_null(rd_attempts_get(a, "c", 900));
    for (uint64_t t = 901; t <= 1000; t++) assert_non_null(rd_attempts_get(a, "c", t));
    /* the same token again replaces, not duplicates */
    mkjob(&j, "c", 1000, "\x91\x90", 2);
    assert_int_equal(rd_attempts_put(a, &j), 0);
    assert_int_equal(rd_attempts_count(a), 100);
    rd_attempts_drop(a, 1000);
    assert_null(rd_attempts_get(a, "c", 1000));
    assert_non_null(rd_attempts_get(a, "c", 999));
    rd_attempts_destroy(a);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_put_get_placed),
                                       cmocka_unit_test(t_full_evicts_oldest)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
