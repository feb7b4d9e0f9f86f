/*
 * Concurrency of the Redis core: several claimers — threads with a loop
 * each, and separate processes (this binary re-executed with --swarm) —
 * claim, "dial" (hold the job a few ms), and settle the same jobs at once.
 *
 * An independent referee in shared memory (a file mmap'ed MAP_SHARED by
 * every claimer) counts what the claimers actually hold between the claim
 * reply and the settle request — a window inside the real lease — and
 * records the maxima: live calls per campaign and per agent pool, live calls
 * per number (must be <= 1: never two calls to one number, across
 * campaigns), and attempts per number (the test's daily cap of 2, checked by
 * the claimer on the attempt starts returned by the claim, as the engine
 * does with the policy). Every job is resolved exactly once (final, or
 * deferred to tomorrow by the cap), so resolved == jobs proves that no job
 * was lost or claimed twice.
 *
 * The SIGKILL test lets a child process claim and place jobs, kills it
 * mid-lease, and checks that after the lease every job comes back (claims
 * requeued, placed calls handed to polling) and every slot is released.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"
#include "proto/clock.h"
#include "proto/rd.h"
#include "tests/lib/redis_harness.h"
#include "tests/lib/store_sync.h"

#define N_NUMS 300
#define N_JOBS 300 /* A: 0..99, B: 50..149 (50 shared with A), C: 200..299 */
#define CAP_DAY 2
#define DAY_MS 86400000LL

static const char *const CAMPS[3] = {"A", "B", "C"};
static const int CONC[3] = {3, 4, 5};
#define POOL_CAP 5 /* A and B share pool "p": 3 + 4 > 5 */

typedef struct shm {
    _Atomic int camp_live[3], camp_max[3];
    _Atomic int pool_live, pool_max;
    _Atomic int num_live[N_NUMS], num_max_live;
    _Atomic int num_attempts[N_NUMS], num_max_attempts;
    _Atomic int resolved, attempts, errors, finals, deferred;
} shm_t;

static void amax(_Atomic int *m, int v) {
    int cur = atomic_load(m);
    while (v > cur && !atomic_compare_exchange_weak(m, &cur, v))
        ;
}

static int camp_index(const char *c) { return c[0] - 'A'; }

static int num_index(const char *to) { return atoi(to + 7); /* "+919000" then 5 digits */ }

static void num_name(int i, char *buf, size_t len) { snprintf(buf, len, "+919000%05d", i); }

/* ---- one claimer: a loop, a store, a claim/hold/settle cycle ---------------------------------------- */

typedef struct claimer {
    uv_loop_t loop;
    rd_store_t *s;
    rd_clock_t clk;
    shm_t *m;
    uv_timer_t tick;
    int calls; /* held or settling */
    bool claiming, stopping;
    uint64_t end_ms;
    int hold_max_ms;
    unsigned seed;
} claimer_t;

typedef struct call {
    uv_timer_t t;
    claimer_t *c;
    rd_store_job_t *job;
    bool counted_pool;
} call_t;

static void schedule(claimer_t *c, uint64_t ms);

static void call_closed(uv_handle_t *h) {
    call_t *k = h->data;
    rd_store_job_free(k->job);
    rd_free(k);
}

static void call_end(call_t *k) {
    k->c->calls--;
    uv_close((uv_handle_t *)&k->t, call_closed);
}

static void on_settled(rd_store_t *s, int status, const rd_store_settle_res_t *r, void *arg) {
    (void)s;
    call_t *k = arg;
    shm_t *m = k->c->m;
    if (status < 0) {
        atomic_fetch_add(&m->errors, 1);
    } else if (r->final) {
        atomic_fetch_add(&m->finals, 1);
        atomic_fetch_add(&m->resolved, 1);
    }
    call_end(k);
}

static void on_hold_done(uv_timer_t *t) {
    call_t *k = t->data;
    claimer_t *c = k->c;
    rd_store_job_t *j = k->job;
    int ci = camp_index(j->campaign), ni = num_index(j->to);
    /* Leave the referee before the settle request (inside the lease). */
    atomic_fetch_sub(&c->m->camp_live[ci], 1);
    if (k->counted_pool) atomic_fetch_sub(&c->m->pool_live, 1);
    atomic_fetch_sub(&c->m->num_live[ni], 1);
    int64_t now = rd_clock_now(&c->clk);
    rd_store_settle_t st = {.campaign = j->campaign,
                            .token = j->token,
                            .ended_ms = now,
                            .now_ms = now,
                            .hour_of_week = -1};
    if (j->attempt == 1) {
        st.outcome = RD_OUT_BUSY;
        st.decision.due_ms = now + 20;
    } else {
        st.outcome = RD_OUT_COMPLETED;
        st.decision.final = true;
        st.decision.disposition = RD_DISP_CONNECTED;
    }
    if (rd_store_settle(c->s, &st, on_settled, k) < 0) {
        atomic_fetch_add(&c->m->errors, 1);
        call_end(k);
    }
}

static void on_released(rd_store_t *s, int status, void *arg) {
    (void)s;
    call_t *k = arg;
    if (status < 0) {
        atomic_fetch_add(&k->c->m->errors, 1);
    } else {
        atomic_fetch_add(&k->c->m->deferred, 1);
        atomic_fetch_add(&k->c->m->resolved, 1);
    }
    call_end(k);
}

static void start_call(claimer_t *c, const rd_store_job_t *j) {
    call_t *k = rd_calloc(1, sizeof(*k));
    k->c = c;
    k->job = rd_store_job_dup(j);
    uv_timer_init(&c->loop, &k->t);
    k->t.data = k;
    c->calls++;
    shm_t *m = c->m;
    int64_t now = rd_clock_now(&c->clk);
    int ci = camp_index(j->campaign), ni = num_index(j->to);
    /* The dial-time cap check, as the engine makes it (here: a 24 h day). */
    int today = 0;
    for (size_t i = 0; i < j->n_num_attempts; i++) today += j->num_attempts_ms[i] > now - DAY_MS;
    if (today >= CAP_DAY) {
        if (rd_store_release(c->s, j->campaign, j->token, now + DAY_MS, now, on_released, k) < 0) {
            atomic_fetch_add(&m->errors, 1);
            call_end(k);
        }
        return;
    }
    amax(&m->camp_max[ci], atomic_fetch_add(&m->camp_live[ci], 1) + 1);
    if (ci < 2) {
        k->counted_pool = true;
        amax(&m->pool_max, atomic_fetch_add(&m->pool_live, 1) + 1);
    }
    amax(&m->num_max_live, atomic_fetch_add(&m->num_live[ni], 1) + 1);
    amax(&m->num_max_attempts, atomic_fetch_add(&m->num_attempts[ni], 1) + 1);
    atomic_fetch_add(&m->attempts, 1);
    uv_timer_start(&k->t, on_hold_done,
                   (uint64_t)(rand_r(&c->seed) % (unsigned)(c->hold_max_ms + 1)), 0);
}

static void on_claimed(rd_store_t *s, int status, const rd_store_claim_res_t *r, void *arg) {
    (void)s;
    claimer_t *c = arg;
    c->claiming = false;
    if (status < 0) {
        atomic_fetch_add(&c->m->errors, 1);
        schedule(c, 5);
        return;
    }
    for (size_t i = 0; i < r->n; i++) start_call(c, &r->jobs[i]);
    schedule(c, r->n ? 0 : 2);
}

static void on_tick(uv_timer_t *t) {
    claimer_t *c = t->data;
    if (atomic_load(&c->m->resolved) >= N_JOBS || uv_now(&c->loop) >= c->end_ms) {
        c->stopping = true;
        return;
    }
    rd_store_claim_req_t req = {.now_ms = rd_clock_now(&c->clk),
                                .max_jobs = 8,
                                .lease_ms = 10000,
                                .lock_retry_ms = 5,
                                .engine = "swarm"};
    c->claiming = true;
    if (rd_store_claim(c->s, &req, on_claimed, c) < 0) {
        c->claiming = false;
        atomic_fetch_add(&c->m->errors, 1);
        schedule(c, 5);
    }
}

static void schedule(claimer_t *c, uint64_t ms) {
    if (!c->stopping) uv_timer_start(&c->tick, on_tick, ms, 0);
}

/* Runs one claimer until every job is resolved or `seconds` pass. */
static void swarm_run(const char *url, const char *prefix, shm_t *m, int seconds) {
    claimer_t c;
    memset(&c, 0, sizeof(c));
    uv_loop_init(&c.loop);
    rd_clock_init_wall(&c.clk);
    c.m = m;
    c.hold_max_ms = 3;
    c.seed = (unsigned)uv_hrtime();
    c.s = ts_store(&c.loop, url, prefix, NULL, 0, 0);
    uv_timer_init(&c.loop, &c.tick);
    c.tick.data = &c;
    c.end_ms = uv_now(&c.loop) + (uint64_t)seconds * 1000;
    schedule(&c, 0);
    while (!c.stopping || c.calls || c.claiming) uv_run(&c.loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&c.tick, NULL);
    ts_close(c.s, &c.loop);
    uv_run(&c.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&c.loop) != 0) atomic_fetch_add(&m->errors, 1000);
}

/* ---- fixtures ---------------------------------------------------------------------------------------- */

typedef struct fx {
    rd_test_redis_t redis;
    char shm_path[300];
    shm_t *m;
} fx_t;

static shm_t *shm_map(const char *path, bool create) {
    int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
    if (fd < 0) return NULL;
    if (create && ftruncate(fd, sizeof(shm_t)) < 0) {
        close(fd);
        return NULL;
    }
    void *p = mmap(NULL, sizeof(shm_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static void populate(fx_t *f) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    rd_clock_t clk;
    rd_clock_init_wall(&clk);
    int64_t now = rd_clock_now(&clk);
    for (int i = 0; i < 3; i++) {
        char json[512];
        snprintf(json, sizeof(json),
                 "{\"name\":\"%s\",\"caller_id\":\"1\",\"call_flow_id\":\"1\","
                 "\"limits\":{\"concurrency\":%d%s}}",
                 CAMPS[i], CONC[i], i < 2 ? ",\"agent_pool\":\"p\"" : "");
        assert_int_equal(ts_campaign(s, &loop, json, now), 0);
    }
    assert_int_equal(ts_pool(s, &loop, "p", POOL_CAP), 0);
    char num[20];
    for (int i = 0; i < 300; i++) {
        const char *camp = i < 100 ? "A" : i < 200 ? "B" : "C";
        /* A dials its shared numbers first, as B does: they collide. */
        int n = i < 100 ? (i + 50) % 100 : i < 200 ? i - 50 : i;
        num_name(n, num, sizeof(num));
        rd_enq_result_t r;
        assert_int_equal(ts_enqueue(s, &loop, camp, num, NULL, now, now, &r), 0);
        assert_int_equal(r, RD_ENQ_CREATED);
    }
    ts_close(s, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int setup(void **state) {
    fx_t *f = rd_calloc(1, sizeof(*f));
    if (rd_test_redis_start(&f->redis) < 0) return -1;
    const char *tmp = getenv("TMPDIR");
    snprintf(f->shm_path, sizeof(f->shm_path), "%s/rdt-swarm-%d", tmp && *tmp ? tmp : "/tmp",
             (int)getpid());
    f->m = shm_map(f->shm_path, true);
    if (!f->m) return -1;
    memset(f->m, 0, sizeof(*f->m));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx_t *f = *state;
    munmap(f->m, sizeof(shm_t));
    unlink(f->shm_path);
    rd_test_redis_stop(&f->redis);
    rd_free(f);
    return 0;
}

/* One command (format with the prefix first) returning an integer or a number string. */
static long long redis_int(fx_t *f, const char *fmt, ...) RD_PRINTF(2, 3);
static long long redis_int(fx_t *f, const char *fmt, ...) {
    redisContext *c = rd_test_redis_sync(&f->redis);
    assert_non_null(c);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_INTEGER)
        v = r->integer;
    else if (r && r->type == REDIS_REPLY_STRING)
        v = atoll(r->str);
    if (r) freeReplyObject(r);
    redisFree(c);
    return v;
}

static void check_referee(fx_t *f) {
    shm_t *m = f->m;
    fprintf(stderr, "referee: camp max %d %d %d pool %d num live %d attempts %d finals %d\n",
            atomic_load(&m->camp_max[0]), atomic_load(&m->camp_max[1]),
            atomic_load(&m->camp_max[2]), atomic_load(&m->pool_max), atomic_load(&m->num_max_live),
            atomic_load(&m->num_max_attempts), atomic_load(&m->finals));
    assert_int_equal(atomic_load(&m->errors), 0);
    assert_int_equal(atomic_load(&m->resolved), N_JOBS);
    for (int i = 0; i < 3; i++) {
        assert_true(atomic_load(&m->camp_max[i]) <= CONC[i]);
        assert_true(atomic_load(&m->camp_max[i]) >= 1);
    }
    assert_true(atomic_load(&m->pool_max) <= POOL_CAP);
    assert_int_equal(atomic_load(&m->num_max_live), 1);
    assert_true(atomic_load(&m->num_max_attempts) <= CAP_DAY);
    /* Shared numbers 50..99 have two jobs (4 attempts wanted) but room for
     * 2 attempts today: exactly 2 attempts each; per number, either one job
     * finished and the other is deferred, or both are deferred. */
    int finals = atomic_load(&m->finals), deferred = atomic_load(&m->deferred);
    assert_int_equal(finals + deferred, N_JOBS);
    assert_true(finals >= N_JOBS - 100 && finals <= N_JOBS - 50);
    assert_int_equal(atomic_load(&m->attempts), 2 * (N_JOBS - 50));
    for (int i = 0; i < N_NUMS; i++)
        if (i < 150 || i >= 200) assert_int_equal(atomic_load(&m->num_attempts[i]), 2);
    /* Nothing left held in Redis. */
    for (int i = 0; i < 3; i++)
        assert_int_equal(redis_int(f, "HGET %s:c:%s live", f->redis.prefix, CAMPS[i]), 0);
    assert_int_equal(redis_int(f, "HGET %s:pool:%s live", f->redis.prefix, "p"), 0);
    assert_int_equal(redis_int(f, "ZCARD %s:leases", f->redis.prefix), 0);
    assert_int_equal(redis_int(f, "HLEN %s:lease", f->redis.prefix), 0);
    assert_int_equal(redis_int(f, "HLEN %s:call", f->redis.prefix), 0);
}

typedef struct targ {
    fx_t *f;
} targ_t;

static void *thread_main(void *arg) {
    fx_t *f = ((targ_t *)arg)->f;
    swarm_run(f->redis.url, f->redis.prefix, f->m, 30);
    return NULL;
}

static void t_threads(void **state) {
    fx_t *f = *state;
    populate(f);
    pthread_t th[4];
    targ_t a = {f};
    for (int i = 0; i < 4; i++) assert_int_equal(pthread_create(&th[i], NULL, thread_main, &a), 0);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    check_referee(f);
}

static pid_t spawn_self(fx_t *f, const char *mode) {
    char exe[512];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0) return -1;
    exe[n] = 0;
    pid_t pid = fork();
    if (pid == 0) {
        execl(exe, exe, mode, f->redis.url, f->redis.prefix, f->shm_path, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static void t_processes(void **state) {
    fx_t *f = *state;
    populate(f);
    pid_t p[3];
    for (int i = 0; i < 3; i++) assert_true((p[i] = spawn_self(f, "--swarm")) > 0);
    swarm_run(f->redis.url, f->redis.prefix, f->m, 30); /* and the parent too */
    for (int i = 0; i < 3; i++) {
        int st;
        assert_int_equal(waitpid(p[i], &st, 0), p[i]);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    check_referee(f);
}

/* Child of t_sigkill: claims everything it can, places half, then waits to die. */
static int victim_main(const char *url, const char *prefix, shm_t *m) {
    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, url, prefix, NULL, 0, 0);
    rd_clock_t clk;
    rd_clock_init_wall(&clk);
    int64_t now = rd_clock_now(&clk);
    int held = 0;
    /* Claim until every limit is saturated (locked numbers are pushed back). */
    for (int round = 0; round < 20; round++) {
        ts_jobs_t j;
        if (ts_claim(s, &loop, now, 100, 1500, &j) != 0) return 1;
        if (j.n == 0) break;
        for (size_t i = 0; i < j.n; i++, held++) {
            char cid[32];
            snprintf(cid, sizeof(cid), "CALL%d", held);
            if (held % 2 == 0 &&
                ts_placed(s, &loop, j.v[i]->campaign, j.v[i]->token, cid, now + 2500) != 0)
                return 1;
        }
        ts_jobs_free(&j);
    }
    atomic_store(&m->attempts, held); /* tell the parent how many it holds */
    for (;;) pause();
}

static void t_sigkill(void **state) {
    fx_t *f = *state;
    populate(f);
    pid_t p = spawn_self(f, "--victim");
    assert_true(p > 0);
    for (int i = 0; i < 400 && atomic_load(&f->m->attempts) == 0; i++) usleep(10000);
    int held = atomic_load(&f->m->attempts);
    assert_int_equal(held, 10); /* A 3 + B 2 (pool 5) + C 5 */
    kill(p, SIGKILL);
    waitpid(p, NULL, 0);
    assert_int_equal(redis_int(f, "HGET %s:c:%s live", f->redis.prefix, "C"), 5);

    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_store_t *s = ts_store(&loop, f->redis.url, f->redis.prefix, NULL, 0, 0);
    rd_clock_t clk;
    rd_clock_init_wall(&clk);
    /* Before the leases end nothing is recovered and nothing can be claimed. */
    ts_jobs_t r, j;
    assert_int_equal(ts_recover(s, &loop, rd_clock_now(&clk), 100, 60000, &r), 0);
    assert_int_equal(r.requeued + r.n, 0);
    ts_jobs_free(&r);
    assert_int_equal(ts_claim(s, &loop, rd_clock_now(&clk), 100, 60000, &j), 0);
    assert_int_equal(j.n, 0);
    ts_jobs_free(&j);
    usleep(2600 * 1000);
    assert_int_equal(ts_recover(s, &loop, rd_clock_now(&clk), 100, 60000, &r), 0);
    assert_int_equal((int)(r.requeued + r.n), held);
    assert_int_equal(r.requeued, 5);
    /* The placed calls: polled and settled by this engine (no answer -> final). */
    for (size_t i = 0; i < r.n; i++) {
        assert_true(strncmp(r.v[i]->call_id, "CALL", 4) == 0);
        assert_int_equal(ts_settle(s, &loop, r.v[i]->campaign, r.v[i]->token, RD_OUT_NO_ANSWER,
                                   true, RD_DISP_UNREACHABLE, 0, rd_clock_now(&clk), NULL),
                         0);
    }
    size_t placed = r.n;
    ts_jobs_free(&r);
    /* Tokens are back: a full round of claims is possible again. */
    assert_int_equal(ts_claim(s, &loop, rd_clock_now(&clk), 100, 60000, &j), 0);
    assert_true(j.n >= 8);
    for (size_t i = 0; i < j.n; i++)
        assert_int_equal(ts_release(s, &loop, j.v[i]->campaign, j.v[i]->token, rd_clock_now(&clk),
                                    rd_clock_now(&clk)),
                         0);
    ts_jobs_free(&j);
    /* No job lost: every job is pending or final. */
    long long pending = 0, finished = 0;
    for (int i = 0; i < 3; i++) {
        pending += redis_int(f, "ZCARD %s:c:%s:due", f->redis.prefix, CAMPS[i]);
        finished += redis_int(f, "HGET %s:c:%s fin", f->redis.prefix, CAMPS[i]);
        assert_int_equal(redis_int(f, "HGET %s:c:%s live", f->redis.prefix, CAMPS[i]), 0);
    }
    assert_int_equal(pending + finished, N_JOBS);
    assert_int_equal(finished, (long long)placed);
    ts_close(s, &loop);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(int argc, char **argv) {
    if (argc == 5 && (strcmp(argv[1], "--swarm") == 0 || strcmp(argv[1], "--victim") == 0)) {
        shm_t *m = shm_map(argv[4], false);
        if (!m) return 2;
        if (argv[1][2] == 'v') return victim_main(argv[2], argv[3], m);
        swarm_run(argv[2], argv[3], m, 30);
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(t_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(t_sigkill, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
