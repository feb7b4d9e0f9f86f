/*
 * cli_stats.c — `redial-cli stats` and `redial-cli report`: the seed's
 * retry-performance metrics of one campaign (SPEC section 6).
 *
 * Design. Both read the campaign's raw counters with rd_store_stats() and
 * compute the metrics with rd_stats_compute() — the one computation the
 * control API uses too — so every surface shows the same figures. `stats`
 * prints rd_stats_to_text() or rd_stats_to_json() as is; the report's metric
 * table renders rd_stats_rows(), the rows of that text table.
 * `report` writes one self-contained HTML file (inline CSS and an inline
 * SVG chart, no script, no external asset, so it can be mailed or archived):
 * the metric table with targets and verdicts, the cumulative connection
 * curve against the seed's reference curve (40/60/70/73/74 %), outcomes by
 * attempt number, dispositions, and the recommendation. The file is written
 * to FILE.tmp and renamed, so a reader never sees half a report.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_session.h"
#include "proto/sbuf.h"

typedef struct {
    bool done;
    int status;
    rd_store_stats_t st;
} stats_res_t;

static void stats_cb(rd_store_t *s, int status, const rd_store_stats_t *st, void *arg) {
    (void)s;
    stats_res_t *r = arg;
    r->status = status;
    if (!status && st) r->st = *st;
    r->done = true;
}

/* Loads the counters; returns 0 or an exit code (printed). */
static int load_stats(rd_cli_session_t *s, const char *name, rd_store_stats_t *out) {
    char what[128];
    int rc = rd_cli_campaign_what(s->cmd, name, what, sizeof what);
    if (rc) return rc;
    stats_res_t *r = rd_calloc(1, sizeof *r);
    rc = rd_store_stats(s->store, name, stats_cb, r);
    if (!rc) rc = rd_cli_wait(s, &r->done);
    if (!rc) rc = r->status;
    if (!rc) *out = r->st;
    rd_free(r);
    return rc ? rd_cli_fail(s, rc, what) : 0;
}

/* ---- stats ------------------------------------------------------------------------- */

static const char *const STATS_HELP =
    "Usage: redial-cli stats CAMPAIGN [--json]\n"
    "\n"
    "The seed's retry metrics of CAMPAIGN from its live counters: first-attempt,\n"
    "per-retry and total connection rates, average attempts to connect, unreachable\n"
    "rate, retry ROI (each against its target), the cumulative connection rate by\n"
    "attempt with its incremental gain, and a recommendation when the last attempt\n"
    "adds less than 5%. --json prints the same as GET /v1/campaigns/{id}/stats.\n"
    "\n"
    "Example:\n"
    "  redial-cli stats Payment_Reminders\n"
    "\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t STATS_FLAGS[] = {{"json", false, false}};

int rd_cli_stats(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    rd_store_stats_t *st = rd_malloc(sizeof *st);
    int ex = rd_cli_args_parse(a, "stats", STATS_FLAGS, RD_ARRAY_LEN(STATS_FLAGS), STATS_HELP,
                               argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    if (a->n_pos != 1) {
        rd_cli_err("stats", "needs exactly one CAMPAIGN (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "stats"))) goto out;
    ex = load_stats(&s, a->pos[0], st);
    rd_cli_close(&s);
    if (ex) goto out;
    rd_stats_t m;
    rd_stats_compute(&st->counts, &m);
    if (rd_cli_flag_has(a, "json")) {
        rd_cli_print_json(rd_stats_to_json(a->pos[0], &m));
    } else {
        char *t = rd_stats_to_text(a->pos[0], &m);
        fputs(t, stdout);
        rd_free(t);
    }
out:
    rd_free(st);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}

/* ---- report ------------------------------------------------------------------------- */

static const char *const REPORT_HELP =
    "Usage: redial-cli report CAMPAIGN --out FILE.html [--json]\n"
    "\n"
    "Writes a self-contained HTML report of CAMPAIGN (no external assets): the\n"
    "seed's metric table with targets and verdicts, the cumulative connection curve\n"
    "(inline SVG, with the seed's reference curve), outcomes by attempt,\n"
    "dispositions and the recommendation. --out - writes the HTML to stdout.\n"
    "\n"
    "  --out FILE         where the HTML goes ('-' = stdout)\n"
    "  --json             {campaign, out, bytes, generated} on stdout once written\n"
    "                     (not with --out -)\n"
    "\n"
    "Example:\n"
    "  redial-cli report Payment_Reminders --out payment_reminders.html\n"
    "\n" RD_CLI_EXIT_HELP;

static const rd_cli_flag_t REPORT_FLAGS[] = {{"out", true, false}, {"json", false, false}};

/* The report is markup built from many small appends: a short name keeps it readable. */
#define sb rd_sbuf_printf

static void sb_esc(rd_sbuf_t *b, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            sb(b, "&lt;");
            break;
        case '>':
            sb(b, "&gt;");
            break;
        case '&':
            sb(b, "&amp;");
            break;
        case '"':
            sb(b, "&quot;");
            break;
        case '\'':
            sb(b, "&#39;");
            break;
        default:
            sb(b, "%c", *s);
        }
    }
}

/* One row of the metric table (rd_stats_rows: the same rows as the text table). */
static void metric_row(rd_sbuf_t *b, const rd_stats_row_t *r) {
    static const char *const cls[] = {"nodata", "ok", "missed"};
    static const char *const word[] = {"no data", "ok", "missed"};
    sb(b, "<tr><td>%s</td><td class=\"num\">%s</td><td class=\"num\">", r->name, r->value);
    sb_esc(b, r->target);
    sb(b, "</td><td class=\"%s\">%s</td></tr>\n", cls[r->verdict], word[r->verdict]);
}

/* The cumulative curve: x = attempt 1..N, y = 0..100 %. */
static void chart(rd_sbuf_t *b, const rd_stats_t *m) {
    static const double seed[] = {0, 0.40, 0.60, 0.70, 0.73, 0.74};
    int n = m->max_attempt > 5 ? m->max_attempt : 5;
    const double W = 640, H = 350, L = 56, R = 24, T = 50, B = 44; /* legend in the top margin */
    double pw = W - L - R, ph = H - T - B;
#define X(i) (L + (n > 1 ? pw * ((i)-1) / (n - 1) : pw / 2))
#define Y(v) (T + ph * (1.0 - (v)))
    sb(b,
       "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
       "height=\"%.0f\" role=\"img\" aria-label=\"Cumulative connection rate by attempt\">\n",
       W, H, W, H);
    for (int p = 0; p <= 100; p += 20) {
        sb(b,
           "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
           "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"end\">%d%%</text>\n",
           L, Y(p / 100.0), W - R, Y(p / 100.0), L - 8, Y(p / 100.0) + 4, p);
    }
    for (int i = 1; i <= n; i++)
        sb(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\">%d</text>\n", X(i),
           H - B + 18, i);
    sb(b, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\" text-anchor=\"middle\">attempt</text>\n",
       L + pw / 2, H - 6);
    sb(b, "<polyline class=\"seed\" points=\"");
    for (int i = 1; i <= 5; i++) sb(b, "%.1f,%.1f ", X(i), Y(seed[i]));
    sb(b, "\"/>\n");
    if (m->max_attempt >= 1 && !isnan(m->cumulative[1])) {
        sb(b, "<polyline class=\"curve\" points=\"");
        for (int i = 1; i <= m->max_attempt; i++) sb(b, "%.1f,%.1f ", X(i), Y(m->cumulative[i]));
        sb(b, "\"/>\n");
        for (int i = 1; i <= m->max_attempt; i++) {
            char v[32];
            sb(b,
               "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" class=\"dot\"/>"
               "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">%s</text>\n",
               X(i), Y(m->cumulative[i]), X(i), Y(m->cumulative[i]) - 10,
               rd_stats_pct(v, sizeof v, m->cumulative[i]));
        }
    } else {
        sb(b,
           "<text x=\"%.1f\" y=\"%.1f\" class=\"label\" text-anchor=\"middle\">no attempts "
           "yet</text>\n",
           L + pw / 2, T + ph / 2);
    }
    sb(b,
       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"curve\"/>"
       "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">this campaign</text>\n"
       "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"seed\"/>"
       "<text x=\"%.1f\" y=\"%.1f\" class=\"axis\">seed reference (40/60/70/73/74%%)</text>\n",
       L, 12.0, L + 24, 12.0, L + 30, 16.0, L + 220, 12.0, L + 244, 12.0, L + 250, 16.0);
    sb(b, "</svg>\n");
#undef X
#undef Y
}

static char *render(const char *name, const rd_store_stats_t *st, const rd_stats_t *m,
                    const char *generated) {
    rd_sbuf_t b;
    rd_sbuf_init(&b, 16384);
    char v[32];
    sb(&b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>redial "
           "report: ");
    sb_esc(&b, name);
    sb(&b, "</title>\n<style>\n"
           "body{font:15px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;"
           "max-width:900px;color:#1d2430;padding:0 1em}\n"
           "h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em}\n"
           "table{border-collapse:collapse;margin:.5em 0}"
           "th,td{padding:.35em .8em;border-bottom:1px solid #dde2ea;text-align:left}"
           "th{background:#f3f5f9}.num{text-align:right;font-variant-numeric:tabular-nums}\n"
           ".ok{color:#0a7a32;font-weight:600}.missed{color:#b3261e;font-weight:600}"
           ".nodata{color:#777}.muted{color:#667}\n"
           ".grid{stroke:#e4e8ef;stroke-width:1}.axis{font-size:12px;fill:#556}"
           ".label{font-size:12px;fill:#1d2430}\n"
           ".curve{fill:none;stroke:#2f6fde;stroke-width:3}.dot{fill:#2f6fde}"
           ".seed{fill:none;stroke:#9aa3b2;stroke-width:2;stroke-dasharray:6 4}\n"
           ".rec{background:#fff6e0;border-left:4px solid #e0a800;padding:.6em 1em}\n"
           "</style></head><body>\n<h1>Retry performance: ");
    sb_esc(&b, name);
    sb(&b,
       "</h1>\n<p class=\"muted\">Generated %s by redial-cli. %llu jobs, %llu dialed, %llu "
       "finished, %llu pending, %llu live, %llu attempts.</p>\n",
       generated, (unsigned long long)st->counts.jobs, (unsigned long long)m->dialed,
       (unsigned long long)m->finished, (unsigned long long)st->pending,
       (unsigned long long)st->live, (unsigned long long)m->attempts_total);

    sb(&b, "<h2>Metrics</h2>\n<table id=\"metrics\">\n<tr><th>Metric</th><th>Value</th>"
           "<th>Target</th><th>Verdict</th></tr>\n");
    rd_stats_row_t rows[RD_STATS_MAX_ROWS];
    size_t n_rows = rd_stats_rows(m, rows);
    for (size_t i = 0; i < n_rows; i++) metric_row(&b, &rows[i]);
    sb(&b, "</table>\n");

    sb(&b, "<h2>Cumulative connection rate by attempt</h2>\n");
    chart(&b, m);
    sb(&b, "<table id=\"cumulative\">\n<tr><th>Attempt</th><th>Connection rate (cumulative)"
           "</th><th>Incremental gain</th></tr>\n");
    for (int n = 1; n <= m->max_attempt; n++) {
        char inc[48];
        if (n == 1)
            snprintf(inc, sizeof inc, "--");
        else if (isnan(m->incremental[n]))
            snprintf(inc, sizeof inc, "n/a");
        else
            snprintf(inc, sizeof inc, "%+.1f%%%s", m->incremental[n] * 100.0,
                     m->incremental[n] < RD_STATS_DIMINISHING ? " (diminishing)" : "");
        sb(&b,
           "<tr><td class=\"num\">%d</td><td class=\"num\">%s</td><td class=\"num\">%s"
           "</td></tr>\n",
           n, rd_stats_pct(v, sizeof v, m->cumulative[n]), inc);
    }
    sb(&b, "</table>\n");

    sb(&b, "<h2>Outcomes by attempt</h2>\n<table id=\"outcomes\">\n<tr><th>Attempt</th>");
    for (int o = 0; o < RD_OUT__COUNT; o++) sb(&b, "<th>%s</th>", rd_outcome_name((rd_outcome_t)o));
    sb(&b, "<th>total</th></tr>\n");
    for (int n = 1; n <= m->max_attempt; n++) {
        uint64_t tot = 0;
        sb(&b, "<tr><td class=\"num\">%d</td>", n);
        for (int o = 0; o < RD_OUT__COUNT; o++) {
            tot += st->by_attempt[n][o];
            sb(&b, "<td class=\"num\">%llu</td>", (unsigned long long)st->by_attempt[n][o]);
        }
        sb(&b, "<td class=\"num\">%llu</td></tr>\n", (unsigned long long)tot);
    }
    sb(&b, "</table>\n");

    sb(&b, "<h2>Dispositions</h2>\n<table id=\"dispositions\">\n<tr><th>Disposition</th>"
           "<th>Jobs</th></tr>\n");
    for (int d = 0; d < RD_DISP__COUNT; d++)
        sb(&b, "<tr><td>%s</td><td class=\"num\">%llu</td></tr>\n",
           rd_disposition_name((rd_disposition_t)d), (unsigned long long)st->counts.finals[d]);
    sb(&b, "</table>\n<h2>Recommendation</h2>\n");
    if (m->recommendation[0]) {
        sb(&b, "<p class=\"rec\">");
        sb_esc(&b, m->recommendation);
        sb(&b, "</p>\n");
    } else {
        sb(&b, "<p>No change recommended: %s</p>\n",
           m->max_attempt >= 2 ? "the last attempt still adds at least 5% connections."
                               : "not enough attempts yet to judge retries.");
    }
    sb(&b, "</body></html>\n");
    return b.buf;
}

int rd_cli_report(int argc, char **argv) {
    rd_cli_args_t *a = rd_malloc(sizeof *a);
    rd_store_stats_t *st = rd_malloc(sizeof *st);
    char *html = NULL;
    int ex = rd_cli_args_parse(a, "report", REPORT_FLAGS, RD_ARRAY_LEN(REPORT_FLAGS), REPORT_HELP,
                               argc - 1, argv + 1);
    if (ex) goto out;
    if (a->help) goto out;
    const char *path = rd_cli_flag_get(a, "out");
    if (a->n_pos != 1 || !path || !*path) {
        rd_cli_err("report", "needs a CAMPAIGN and --out FILE.html (see --help)");
        ex = RD_CLI_USAGE;
        goto out;
    }
    rd_cli_session_t s;
    if ((ex = rd_cli_open(&s, &a->g, "report"))) goto out;
    ex = load_stats(&s, a->pos[0], st);
    char gen[40];
    rd_cli_fmt_utc(gen, sizeof gen, rd_cli_now(&s));
    rd_cli_close(&s);
    if (ex) goto out;
    rd_stats_t m;
    rd_stats_compute(&st->counts, &m);
    html = render(a->pos[0], st, &m, gen);
    size_t len = strlen(html);
    if (!strcmp(path, "-")) {
        if (rd_cli_flag_has(a, "json")) {
            rd_cli_err("report", "--json describes a written file: not with --out -");
            ex = RD_CLI_USAGE;
            goto out;
        }
        if (fwrite(html, 1, len, stdout) != len || fflush(stdout) != 0) {
            rd_cli_err("report", "stdout: cannot write (%s)", strerror(errno));
            ex = RD_CLI_REFUSED;
        }
        goto out;
    }
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        rd_cli_err("report", "--out: path too long");
        ex = RD_CLI_USAGE;
        goto out;
    }
    FILE *f = fopen(tmp, "w");
    bool ok = f && fwrite(html, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        rd_cli_err("report", "%s: cannot write (%s)", path, strerror(errno));
        if (f) remove(tmp);
        ex = RD_CLI_REFUSED;
        goto out;
    }
    if (rd_cli_flag_has(a, "json"))
        rd_cli_print_json(json_pack("{s:s,s:s,s:I,s:s}", "campaign", a->pos[0], "out", path,
                                    "bytes", (json_int_t)len, "generated", gen));
    else
        printf("wrote %s (%zu bytes)\n", path, len);
out:
    rd_free(html);
    rd_free(st);
    rd_cli_args_free(a);
    rd_free(a);
    return ex;
}
