/*
 * The engine's campaign cache against a real Redis: a campaign is loaded once
 * and then answered from memory; concurrent gets share one load; an unknown
 * name answers RD_ENOTFOUND and is not kept (the inbox can name anything), so
 * a campaign created later is found.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "engine/ccache.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

typedef struct {
    int calls, status;
    const rd_campaign_t *c;
} got_t;

static void on_got(int status, const rd_campaign_t *c, void *arg) {
    got_t *g = arg;
    g->calls++;
    g->status = status;
    g->c = c;
}

static void run_until(uv_loop_t *loop, const got_t *g, int calls) {
    while (g->calls < calls) uv_run(loop, UV_RUN_ONCE);
}

static void t_cache(void **state) {
    (void)state;
    rd_test_redis_t r;
    assert_int_equal(rd_test_redis_start(&r), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, r.url, r.prefix, NULL, 0, 0);
    rd_ccache_t *cc = rd_ccache_create(s);

    /* Unknown names: not found, and nothing retained. */
    char name[32];
    for (int i = 0; i < 50; i++) {
        got_t g = {0};
        snprintf(name, sizeof name, "nope%d", i);
        rd_ccache_get(cc, name, on_got, &g);
        run_until(&loop, &g, 1);
        assert_int_equal(g.status, RD_ENOTFOUND);
        assert_null(g.c);
    }
    assert_int_equal(rd_ccache_size(cc), 0);

    /* Created later: found; two concurrent gets share the load. */
    assert_int_equal(ts_campaign(s, &loop,
                                 "{\"name\":\"nope7\",\"caller_id\":\"080\",\"call_flow_id\":\"1\","
                                 "\"limits\":{\"concurrency\":4}}",
                                 1795860000000LL),
                     0);
    got_t a = {0}, b = {0};
    uint64_t before = rd_store_commands_sent(s);
    rd_ccache_get(cc, "nope7", on_got, &a);
    rd_ccache_get(cc, "nope7", on_got, &b);
    assert_int_equal(a.calls + b.calls, 0);
    run_until(&loop, &b, 1);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    assert_ptr_equal(a.c, b.c);
    assert_int_equal(a.c->concurrency, 4);
    assert_true(rd_store_commands_sent(s) - before <= 1);

    /* Cached: answered at once, no Redis command. */
    before = rd_store_commands_sent(s);
    got_t c = {0};
    rd_ccache_get(cc, "nope7", on_got, &c);
    assert_int_equal(c.calls, 1);
    assert_ptr_equal(c.c, a.c);
    assert_ptr_equal(rd_ccache_peek(cc, "nope7"), a.c);
    assert_int_equal(rd_store_commands_sent(s), before);
    assert_int_equal(rd_ccache_size(cc), 1);

    ts_close(s, &loop);
    rd_ccache_destroy(cc);
    assert_int_equal(uv_loop_close(&loop), 0);
    rd_test_redis_stop(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_cache)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
