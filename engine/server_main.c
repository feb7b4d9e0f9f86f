/*
 * server_main.c — redial-server: parse flags/env, start the engine on the
 * default loop, run until the graceful stop completes, exit 0.
 *
 * Exit codes (common/exit.h): 0 stopped cleanly (or --help/--version), 1
 * could not start (the message says why), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <uv.h>

#include "common/exit.h"
#include "engine/config.h"
#include "common/log.h"
#include "engine/server.h"
#include "proto/rd.h"

static void close_any(uv_handle_t *h, void *arg) {
    (void)arg;
    if (!uv_is_closing(h)) uv_close(h, NULL);
}

int main(int argc, char **argv) {
    rd_server_config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    char err[512] = "";
    int rc = rd_opts_parse(rd_server_opts, rd_server_opts_len, &cfg, argc, argv, NULL,
                           RD_SERVER_USAGE, err, sizeof err);
    if (rc == 1) {
        rd_opts_free(rd_server_opts, rd_server_opts_len, &cfg);
        return RD_EXIT_OK;
    }
    if (rc != 0) {
        fprintf(stderr, "redial-server: %s\n", err);
        rd_opts_free(rd_server_opts, rd_server_opts_len, &cfg);
        return RD_EXIT_USAGE;
    }
    rd_campaign_defaults_t defs; /* checked here, so a bad value is a usage error */
    if (rd_server_campaign_defaults(&cfg, &defs, err, sizeof err) != 0) {
        fprintf(stderr, "redial-server: %s\n", err);
        rd_opts_free(rd_server_opts, rd_server_opts_len, &cfg);
        return 2;
    }
    rd_log_level_t level;
    if (rd_log_level_parse(cfg.log_level, &level) != 0 || rd_log_setup(cfg.log_file, level) != 0) {
        fprintf(stderr, "redial-server: --log/--log-level: cannot use '%s' / '%s'\n", cfg.log_file,
                cfg.log_level);
        rd_opts_free(rd_server_opts, rd_server_opts_len, &cfg);
        return RD_EXIT_USAGE;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    rd_server_t *srv = NULL;
    int status = 0;
    rc = rd_server_start(&loop, &cfg, &srv, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "redial-server: %s\n", err);
        rd_log(RD_LOG_ERROR, "server.start_failed", "error", err, NULL);
        status = RD_EXIT_FAILED;
        uv_walk(&loop, close_any, NULL);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0) {
        uv_walk(&loop, close_any, NULL);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    rd_server_destroy(srv);
    rd_opts_free(rd_server_opts, rd_server_opts_len, &cfg);
    curl_global_cleanup();
    return status;
}
