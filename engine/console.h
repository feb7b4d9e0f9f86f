/*
 * console.h — the web console: one page (console/index.html, embedded in
 * the binary at build time by cmake/embed_assets.cmake) that operates the
 * deployment through the control API with the API credentials. No external
 * asset, no build step. docs/CONSOLE.md describes what it shows.
 *
 * Thread safety: the loop thread of the httpd (pure: serves constant bytes).
 */
#ifndef RD_CONSOLE_H
#define RD_CONSOLE_H

#include <stdbool.h>

#include "common/httpd.h"

/*
 * Answers GET / and GET /ui (and HEAD) with the console page; returns false
 * for any other path (the caller routes it). The page itself is public: it
 * holds no data, every figure comes from the authenticated API.
 */
bool rd_console_handle(rd_http_req_t *req);

#endif
