/*
 * fixtures.c — shared test data and checks (see fixtures.h).
 */
#include "tests/lib/fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

long long rd_test_redis_int(redisContext *c, const char *prefix, const char *fmt, const char *key,
                            const char *arg) {
    char full[256];
    snprintf(full, sizeof full, "%s:%s", prefix, key);
    redisReply *rep = redisCommand(c, fmt, full, arg);
    assert_non_null(rep);
    long long v = rep->type == REDIS_REPLY_INTEGER  ? rep->integer
                  : rep->type == REDIS_REPLY_STRING ? atoll(rep->str)
                                                    : -1;
    freeReplyObject(rep);
    return v;
}
