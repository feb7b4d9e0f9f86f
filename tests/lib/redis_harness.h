/*
 * redis_harness.h — a Redis for a test: a throw-away redis-server on a free
 * loopback port in a temp dir, or (when REDIAL_TEST_REDIS_URL is set and the
 * test does not need to kill Redis) the shared one, always with a key prefix
 * unique to the test process so tests never see each other's keys.
 *
 * Threads: call from the test's main thread. The sync context helper returns
 * a hiredis blocking context the caller owns (redisFree).
 */
#ifndef RD_REDIS_HARNESS_H
#define RD_REDIS_HARNESS_H

#include <stdbool.h>
#include <sys/types.h>

#include <hiredis/hiredis.h>

typedef struct rd_test_redis {
    char url[128];   /* redis://127.0.0.1:<port>/0 */
    char prefix[64]; /* "{rdt<pid>x<n>}" */
    char host[64];
    int port;
    pid_t pid;     /* our redis-server, 0 when shared */
    char dir[256]; /* its temp dir */
    bool aof;      /* own server with appendonly yes, appendfsync always */
} rd_test_redis_t;

/* A Redis for the test: the shared one if REDIAL_TEST_REDIS_URL is set, else our own. */
int rd_test_redis_start(rd_test_redis_t *t);
/* Always our own redis-server (tests that SIGKILL or restart it); it also listens on the
 * unix socket <dir>/redis.sock. */
int rd_test_redis_start_own(rd_test_redis_t *t);
/* Our own redis-server with AOF persistence (appendfsync always): a SIGKILL
 * followed by rd_test_redis_restart() loses no acknowledged write. */
int rd_test_redis_start_aof(rd_test_redis_t *t);
/* Stops our server (SIGKILL, waits, removes the dir) or deletes the prefix's
 * keys from the shared one. */
void rd_test_redis_stop(rd_test_redis_t *t);
/* Own server only: SIGKILL it (data is lost unless it runs with AOF). */
int rd_test_redis_kill(rd_test_redis_t *t);
/* Own server only: start it again on the same port. */
int rd_test_redis_restart(rd_test_redis_t *t);
/* A blocking hiredis connection to it (NULL on failure); caller frees. */
redisContext *rd_test_redis_sync(const rd_test_redis_t *t);
/* Sums MEMORY USAGE over every key of the prefix (SCAN), in bytes; < 0 on error. */
long long rd_test_redis_prefix_bytes(const rd_test_redis_t *t);

#endif
