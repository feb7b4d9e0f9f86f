/*
 * httpd_thread.c — an rd_httpd on its own thread for tests (see the header).
 */
#include "tests/lib/httpd_thread.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

static void on_srv_closed(void *data) {
    rd_test_httpd_t *h = data;
    uv_close((uv_handle_t *)&h->stop, NULL);
}

static void on_stop(uv_async_t *a) {
    rd_test_httpd_t *h = a->data;
    rd_httpd_close(h->srv, on_srv_closed, h);
}

static void *server_main(void *arg) {
    rd_test_httpd_t *h = arg;
    uv_run(&h->loop, UV_RUN_DEFAULT);
    return NULL;
}

void rd_test_httpd_start(rd_test_httpd_t *h, const rd_httpd_config_t *cfg) {
    assert_int_equal(uv_loop_init(&h->loop), 0);
    assert_int_equal(uv_async_init(&h->loop, &h->stop, on_stop), 0);
    h->stop.data = h;
    char err[256];
    if (rd_httpd_create(&h->loop, cfg, &h->srv, err, sizeof err) != 0) fail_msg("httpd: %s", err);
    h->port = rd_httpd_port(h->srv);
    assert_true(h->port > 0);
    assert_int_equal(pthread_create(&h->th, NULL, server_main, h), 0);
}

void rd_test_httpd_stop(rd_test_httpd_t *h) {
    uv_async_send(&h->stop);
    pthread_join(h->th, NULL);
    assert_int_equal(uv_loop_close(&h->loop), 0);
}
