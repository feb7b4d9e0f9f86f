/*
 * console.c — serves the embedded web console (console.h).
 *
 * Design. The page is one self-contained HTML file (inline CSS, inline
 * script, SVG drawn by the script), compiled into the binary as a byte
 * array (gen/rd_assets.h), so a deployment cannot serve a stale or
 * tampered copy from disk and needs no static-file directory. The response
 * carries a Content-Security-Policy that lets the page talk only to the
 * engine that served it (connect-src 'self') and load nothing from
 * anywhere else, plus no-store caching (the page follows the binary) and
 * anti-framing headers.
 */
#include "engine/console.h"

#include <string.h>

#include "rd_assets.h"

static const char HEADERS[] =
    "Content-Security-Policy: default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\n"
    "Cache-Control: no-store\r\n";

bool rd_console_handle(rd_http_req_t *req) {
    bool page = (req->path_len == 1 && req->path[0] == '/') ||
                (req->path_len == 3 && !memcmp(req->path, "/ui", 3)) ||
                (req->path_len == 4 && !memcmp(req->path, "/ui/", 4));
    if (!page) return false;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
        rd_http_respond(req, 405, "application/json", "Allow: GET, HEAD\r\n",
                        "{\"error\":\"the console is read with GET\"}", 38);
        return true;
    }
    rd_http_respond(req, 200, "text/html; charset=utf-8", HEADERS, rd_asset_index_html,
                    rd_asset_index_html_len);
    return true;
}
