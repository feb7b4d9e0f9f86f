/*
 * fixtures.h — test data and small checks more than one test needs, so a
 * fixture cannot drift between the tests that claim to use "the same" one.
 *
 * Threads: the test's main thread.
 */
#ifndef RD_TEST_FIXTURES_H
#define RD_TEST_FIXTURES_H

#include <hiredis/hiredis.h>

/* The request body of the seed's curl example, byte for byte (SPEC section 3). */
#define RD_TEST_SEED_BODY                                    \
    "{\n"                                                    \
    "\"name\": \"Payment_Reminders\",\n"                     \
    "\"caller_id\": \"<exophone>\",\n"                       \
    "\"call_flow_id\": \"<flow_id>\",\n"                     \
    "\"numbers\": [\"+919876543210\", \"+919876543211\"],\n" \
    "\"retry\": {\n"                                         \
    "\"max_attempts\": 3,\n"                                 \
    "\"interval_minutes\": 60,\n"                            \
    "\"retry_on\": [\"busy\", \"no-answer\", \"failed\"]\n"  \
    "},\n"                                                   \
    "\"schedule\": {\n"                                      \
    "\"daily_start\": \"09:00\",\n"                          \
    "\"daily_end\": \"21:00\"\n"                             \
    "}\n"                                                    \
    "}"

/* The same campaign as SPEC section 3 lays it out (no trailing newline). */
#define RD_TEST_SPEC_BODY                                                                     \
    "{ \"name\": \"Payment_Reminders\", \"caller_id\": \"<exophone>\", \"call_flow_id\": "    \
    "\"<flow_id>\",\n"                                                                        \
    "  \"numbers\": [\"+919876543210\", \"+919876543211\"],\n"                                \
    "  \"retry\": { \"max_attempts\": 3, \"interval_minutes\": 60, \"retry_on\": [\"busy\", " \
    "\"no-answer\", \"failed\"] },\n"                                                         \
    "  \"schedule\": { \"daily_start\": \"09:00\", \"daily_end\": \"21:00\" } }"

/*
 * Runs fmt (one or two %s: the key "<prefix>:<key>", then arg) on the
 * borrowed blocking context c and returns the integer reply, a string reply
 * as a number, or -1 for anything else. Fails the test when Redis does not
 * answer.
 */
long long rd_test_redis_int(redisContext *c, const char *prefix, const char *fmt, const char *key,
                            const char *arg);

#endif
