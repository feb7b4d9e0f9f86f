/*
 * redis_harness.c — throw-away redis-server for tests (see the header).
 *
 * Our own server runs in the foreground of a child process (fork + exec of
 * redis-server from PATH) with no persistence, bound to 127.0.0.1 on a port
 * picked by binding port 0 first; the test waits for PING. It is started with
 * the recommended deployment settings of docs/REDIS.md. Kill is SIGKILL +
 * waitpid, so a killed test leaves no zombie; the temp dir is removed at stop.
 */
#include "tests/lib/redis_harness.h"
#include "tests/lib/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void make_prefix(rd_test_redis_t *t) {
    static int n; /* test-process-local counter: main thread only */
    snprintf(t->prefix, sizeof(t->prefix), "{rdt%dx%d}", (int)getpid(), n++);
}

static int wait_ping(const rd_test_redis_t *t) {
    for (int i = 0; i < 200; i++) {
        redisContext *c = rd_test_redis_sync(t);
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            bool ok = r && r->type == REDIS_REPLY_STATUS;
            if (r) freeReplyObject(r);
            redisFree(c);
            if (ok) return 0;
        }
        if (t->pid) {
            int st;
            if (waitpid(t->pid, &st, WNOHANG) == t->pid) return -1;
        }
        rd_test_sleep_ms(25);
    }
    return -1;
}

static int spawn(rd_test_redis_t *t) {
    char port[16];
    snprintf(port, sizeof(port), "%d", t->port);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        char log[300];
        snprintf(log, sizeof(log), "%s/redis.log", t->dir);
        char sock[300];
        snprintf(sock, sizeof(sock), "%s/redis.sock", t->dir);
        execlp("redis-server", "redis-server", "--bind", "127.0.0.1", "--port", port, "--dir",
               t->dir, "--save", "", "--appendonly", t->aof ? "yes" : "no", "--appendfsync",
               "always", "--daemonize", "no", "--maxmemory-policy", "noeviction", "--logfile", log,
               "--unixsocket", sock, "--unixsocketperm", "700", (char *)NULL);
        _exit(127);
    }
    t->pid = pid;
    if (wait_ping(t) < 0) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        t->pid = 0;
        return -1;
    }
    return 0;
}

static int start_own(rd_test_redis_t *t, bool aof) {
    memset(t, 0, sizeof(*t));
    t->aof = aof;
    make_prefix(t);
    const char *tmp = getenv("TMPDIR");
    snprintf(t->dir, sizeof(t->dir), "%s/rdtredis.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(t->dir)) return -1;
    snprintf(t->host, sizeof(t->host), "127.0.0.1");
    for (int attempt = 0; attempt < 5; attempt++) {
        t->port = rd_test_free_port();
        if (t->port <= 0) continue;
        snprintf(t->url, sizeof(t->url), "redis://127.0.0.1:%d/0", t->port);
        if (spawn(t) == 0) return 0;
    }
    rmdir(t->dir);
    return -1;
}

int rd_test_redis_start_own(rd_test_redis_t *t) { return start_own(t, false); }

int rd_test_redis_start_aof(rd_test_redis_t *t) { return start_own(t, true); }

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int rd_test_redis_start(rd_test_redis_t *t) {
    const char *url = getenv("REDIAL_TEST_REDIS_URL");
    if (!url || !*url) return rd_test_redis_start_own(t);
    memset(t, 0, sizeof(*t));
    make_prefix(t);
    snprintf(t->url, sizeof(t->url), "%s", url);
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strchr(p, '@');
    if (at) p = at + 1;
    const char *colon = strchr(p, ':');
    size_t hl = colon ? (size_t)(colon - p) : strcspn(p, "/");
    if (hl >= sizeof(t->host)) return -1;
    memcpy(t->host, p, hl);
    t->host[hl] = 0;
    t->port = colon ? atoi(colon + 1) : 6379;
    return wait_ping(t);
}

redisContext *rd_test_redis_sync(const rd_test_redis_t *t) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout(t->host, t->port, tv);
    if (!c) return NULL;
    if (c->err) {
        redisFree(c);
        return NULL;
    }
    return c;
}

static void del_prefix(const rd_test_redis_t *t) {
    redisContext *c = rd_test_redis_sync(t);
    if (!c) return;
    char match[80];
    snprintf(match, sizeof(match), "%s*", t->prefix);
    char cursor[32] = "0";
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r) freeReplyObject(r);
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *d = redisCommand(c, "UNLINK %b", r->element[1]->element[i]->str,
                                         r->element[1]->element[i]->len);
            if (d) freeReplyObject(d);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(c);
}

void rd_test_redis_stop(rd_test_redis_t *t) {
    if (!t->pid) {
        if (t->port) del_prefix(t);
        return;
    }
    kill(t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
    t->pid = 0;
    nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); /* redis.log, appendonlydir/ */
}

int rd_test_redis_kill(rd_test_redis_t *t) {
    if (!t->pid) return -1;
    kill(t->pid, SIGKILL);
    waitpid(t->pid, NULL, 0);
    t->pid = 0;
    return 0;
}

int rd_test_redis_restart(rd_test_redis_t *t) {
    if (t->pid || !t->dir[0]) return -1;
    for (int i = 0; i < 40; i++) { /* the port may linger briefly */
        if (spawn(t) == 0) return 0;
        rd_test_sleep_ms(50);
    }
    return -1;
}

long long rd_test_redis_prefix_bytes(const rd_test_redis_t *t) {
    redisContext *c = rd_test_redis_sync(t);
    if (!c) return -1;
    char match[80];
    snprintf(match, sizeof(match), "%s*", t->prefix);
    char cursor[32] = "0";
    long long total = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            if (r) freeReplyObject(r);
            total = -1;
            break;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            redisReply *m =
                redisCommand(c, "MEMORY USAGE %b SAMPLES 0", r->element[1]->element[i]->str,
                             r->element[1]->element[i]->len);
            if (m && m->type == REDIS_REPLY_INTEGER) total += m->integer;
            if (m) freeReplyObject(m);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(c);
    return total;
}
