/*
 * httpd_thread.h — an rd_httpd server on its own loop and thread, for tests
 * that need a real HTTP peer in-process (a callback receiver, the server
 * under test) while the test's thread blocks in a client.
 *
 * The handler given in the config runs on the server's thread, and may arm
 * handles on h->loop. Stopping closes the server on that thread (through a
 * uv_async, the only handle the test's thread touches), joins it, and
 * asserts uv_loop_close() == 0, so a test that leaks a handle fails.
 *
 * Threads: start and stop from the test's main thread.
 */
#ifndef RD_TEST_HTTPD_THREAD_H
#define RD_TEST_HTTPD_THREAD_H

#include <pthread.h>
#include <uv.h>

#include "common/httpd.h"

typedef struct rd_test_httpd {
    uv_loop_t loop;  /* the server's loop (its thread only, once started) */
    rd_httpd_t *srv; /* the server (its thread only) */
    int port;        /* the bound port on 127.0.0.1 */
    uv_async_t stop; /* private */
    pthread_t th;    /* private */
} rd_test_httpd_t;

/* Creates the server from cfg (borrowed; its port may be 0) on h->loop and
 * starts the thread. Fails the test when the server cannot be created. */
void rd_test_httpd_start(rd_test_httpd_t *h, const rd_httpd_config_t *cfg);
/* Closes the server on its thread, joins the thread and closes the loop. */
void rd_test_httpd_stop(rd_test_httpd_t *h);

#endif
