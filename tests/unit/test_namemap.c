/* Unit tests: engine/namemap.c (intrusive name-keyed table): growth past the
 * initial buckets, find, remove, and deinit handing every node back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "engine/namemap.h"
#include "proto/rd.h"

typedef struct {
    rd_namemap_node_t node;
    int value;
} item_t;

static int freed;
static void free_item(rd_namemap_node_t *n) {
    freed++;
    rd_free(n);
}

static void t_grow_find_remove(void **state) {
    (void)state;
    rd_namemap_t m;
    rd_namemap_init(&m);
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "campaign-%d", i);
        assert_null(rd_namemap_find(&m, name));
        item_t *it = rd_calloc(1, sizeof *it);
        it->value = i;
        rd_namemap_insert(&m, &it->node, name);
    }
    assert_int_equal(m.n, 1000);
    assert_true(m.n_buckets >= 1000);
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "campaign-%d", i);
        item_t *it = (item_t *)rd_namemap_find(&m, name);
        assert_non_null(it);
        assert_int_equal(it->value, i);
        assert_string_equal(it->node.name, name);
    }
    for (int i = 0; i < 1000; i += 2) {
        snprintf(name, sizeof name, "campaign-%d", i);
        item_t *it = (item_t *)rd_namemap_find(&m, name);
        rd_namemap_remove(&m, &it->node);
        assert_null(it->node.name);
        rd_free(it);
        assert_null(rd_namemap_find(&m, name));
    }
    assert_int_equal(m.n, 500);
    assert_non_null(rd_namemap_find(&m, "campaign-999"));
    freed = 0;
    rd_namemap_deinit(&m, free_item);
    assert_int_equal(freed, 500);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_grow_find_remove)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
