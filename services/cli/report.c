/*  report.c - `dualtrack report`: one self-contained HTML page about a date
    range, from the analyst views of the store (docs/schema.md): volumes per
    track and stage, findings per rule and day, the accounts with the most
    collisions, tone compliance per track.

    The page has inline CSS and charts drawn here as inline SVG: no script,
    no font, no image, no link leaves the page, so it can be mailed or
    archived as it is. Every figure in a chart is also in a text table.
    Every string from the store is escaped for HTML. Days are UTC dates.
*/
#include "cli/cli.h"
#include "cli/page.h"

#include <errno.h>
#include <getopt.h>
#include <libpq-fe.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_DAYS 3661               //  ten years and a day
#define TRACK_COUNT 2

static const char *const track_names [TRACK_COUNT] = { "marketing", "sales" };
static const char *const track_colors [TRACK_COUNT] = { "#2b6cb0", "#dd6b20" };

//  The range of a query on the row-level views, as UTC instants
#define RANGE "occurred_at >= $1::date::timestamp AT TIME ZONE 'UTC' " \
              "AND occurred_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'"

typedef struct {
    char *name;
    char *owner;                    //  NULL: not in stage_owners
    long long touches [TRACK_COUNT];
    long long outside, outside_not_joint, joint;
} stage_t;

typedef struct {
    char *name;
    long long total, violations, warnings, infos;
    long long *per_day;             //  n_days counts
} rule_t;

typedef struct {
    char *name;
    long long collisions, marketing, sales, contacts;
} account_t;

typedef struct {
    char *track, *theme;            //  theme NULL: none
    long long touchpoints, compliant;
} theme_t;

typedef struct {
    long long touchpoints, compliant, warn, violation;
} track_total_t;

typedef struct {
    char from [11], to [11];
    time_t from_t;
    int n_days;
    stage_t *stages; int n_stages;
    rule_t *rules; int n_rules;
    account_t *accounts; int n_accounts;
    theme_t *themes; int n_themes;
    track_total_t tracks [TRACK_COUNT];
    long long collisions, colliding_accounts;
    long long findings_by_track [TRACK_COUNT];
} report_t;

static char *
s_dup (const char *s)
{
    char *copy = strdup (s);
    if (!copy) {
        fprintf (stderr, "report: out of memory\n");
        exit (2);
    }
    return copy;
}

static long long
s_ll (const PGresult *r, int row, int col)
{
    return PQgetisnull (r, row, col)? 0: strtoll (PQgetvalue (r, row, col), NULL, 10);
}

static int
s_track_index (const char *track)
{
    for (int i = 0; i < TRACK_COUNT; i++)
        if (strcmp (track, track_names [i]) == 0)
            return i;
    return -1;
}

static void
s_day_label (const report_t *self, int index, char *out, size_t size, const char *format)
{
    time_t t = self->from_t + (time_t) index * 86400;
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, size, format, &tm);
}

//  --------------------------------------------------------------------
//  Reading the store

static PGresult *
s_query (PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    return dt_cli_pg_query ("report", conn, sql, nparams, params);
}

static stage_t *
s_stage (report_t *self, const char *name)
{
    for (int i = 0; i < self->n_stages; i++)
        if (strcmp (self->stages [i].name, name) == 0)
            return &self->stages [i];
    return NULL;
}

static int
s_load (report_t *self, PGconn *conn, int top)
{
    const char *params [3] = { self->from, self->to, NULL };
    char top_text [16];
    snprintf (top_text, sizeof top_text, "%d", top);
    params [2] = top_text;
    //  One snapshot for every figure on the page
    PGresult *r = s_query (conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
    if (!r)
        return -1;
    PQclear (r);

    //  Stages: the funnel in order, then any stored stage it does not know
    r = s_query (conn,
        "SELECT stage, owner FROM stage_owners ORDER BY position", 0, NULL);
    if (!r)
        return -1;
    PGresult *v = s_query (conn,
        "SELECT stage, track, count(*), count(*) FILTER (WHERE outside_ownership),"
        " count(*) FILTER (WHERE outside_not_joint), count(*) FILTER (WHERE joint)"
        " FROM touchpoint_facts WHERE " RANGE " GROUP BY stage, track ORDER BY stage, track",
        2, params);
    if (!v) {
        PQclear (r);
        return -1;
    }
    self->stages = dt_page_alloc ((size_t) (PQntuples (r) + PQntuples (v)), sizeof (stage_t));
    for (int i = 0; i < PQntuples (r); i++) {
        stage_t *stage = &self->stages [self->n_stages++];
        stage->name = s_dup (PQgetvalue (r, i, 0));
        stage->owner = s_dup (PQgetvalue (r, i, 1));
    }
    for (int i = 0; i < PQntuples (v); i++) {
        stage_t *stage = s_stage (self, PQgetvalue (v, i, 0));
        if (!stage) {
            stage = &self->stages [self->n_stages++];
            stage->name = s_dup (PQgetvalue (v, i, 0));
        }
        int track = s_track_index (PQgetvalue (v, i, 1));
        if (track >= 0)
            stage->touches [track] += s_ll (v, i, 2);
        stage->outside += s_ll (v, i, 3);
        stage->outside_not_joint += s_ll (v, i, 4);
        stage->joint += s_ll (v, i, 5);
    }
    PQclear (r);
    PQclear (v);

    //  Per track: touchpoints, tone compliance, verdicts
    r = s_query (conn,
        "SELECT track, count(*), count(*) FILTER (WHERE tone_ok),"
        " count(*) FILTER (WHERE verdict = 'warn'), count(*) FILTER (WHERE verdict = 'violation')"
        " FROM touchpoint_facts WHERE " RANGE " GROUP BY track", 2, params);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples (r); i++) {
        int track = s_track_index (PQgetvalue (r, i, 0));
        if (track < 0)
            continue;
        self->tracks [track].touchpoints = s_ll (r, i, 1);
        self->tracks [track].compliant = s_ll (r, i, 2);
        self->tracks [track].warn = s_ll (r, i, 3);
        self->tracks [track].violation = s_ll (r, i, 4);
    }
    PQclear (r);

    //  Tone compliance per track and theme, the 100 themes most used
    r = s_query (conn,
        "SELECT track, theme, count(*), count(*) FILTER (WHERE tone_ok)"
        " FROM touchpoint_facts WHERE " RANGE " GROUP BY track, theme"
        " ORDER BY count(*) DESC, track, theme NULLS LAST LIMIT 100", 2, params);
    if (!r)
        return -1;
    self->themes = dt_page_alloc ((size_t) PQntuples (r), sizeof (theme_t));
    for (int i = 0; i < PQntuples (r); i++) {
        theme_t *theme = &self->themes [self->n_themes++];
        theme->track = s_dup (PQgetvalue (r, i, 0));
        theme->theme = PQgetisnull (r, i, 1)? NULL: s_dup (PQgetvalue (r, i, 1));
        theme->touchpoints = s_ll (r, i, 2);
        theme->compliant = s_ll (r, i, 3);
    }
    PQclear (r);

    //  Findings per rule and day
    r = s_query (conn,
        "SELECT day - $1::date, rule, track, sum(findings), sum(violations), sum(warnings), sum(infos)"
        " FROM findings_daily WHERE day BETWEEN $1::date AND $2::date"
        " GROUP BY day, rule, track ORDER BY rule", 2, params);
    if (!r)
        return -1;
    self->rules = dt_page_alloc ((size_t) PQntuples (r), sizeof (rule_t));
    for (int i = 0; i < PQntuples (r); i++) {
        long long day = s_ll (r, i, 0);
        const char *name = PQgetvalue (r, i, 1);
        rule_t *rule = self->n_rules? &self->rules [self->n_rules - 1]: NULL;
        if (!rule || strcmp (rule->name, name) != 0) {
            rule = &self->rules [self->n_rules++];
            rule->name = s_dup (name);
            rule->per_day = dt_page_alloc ((size_t) self->n_days, sizeof (long long));
        }
        long long count = s_ll (r, i, 3);
        if (day >= 0 && day < self->n_days)
            rule->per_day [day] += count;
        rule->total += count;
        rule->violations += s_ll (r, i, 4);
        rule->warnings += s_ll (r, i, 5);
        rule->infos += s_ll (r, i, 6);
        int track = s_track_index (PQgetvalue (r, i, 2));
        if (track >= 0)
            self->findings_by_track [track] += count;
    }
    PQclear (r);
    //  Most findings first (stable: then by name)
    for (int i = 1; i < self->n_rules; i++)
        for (int k = i; k > 0; k--) {
            rule_t *a = &self->rules [k - 1], *b = &self->rules [k];
            if (a->total > b->total || (a->total == b->total && strcmp (a->name, b->name) <= 0))
                break;
            rule_t swap = *a; *a = *b; *b = swap;
        }

    //  Collisions
    r = s_query (conn,
        "SELECT count(*), count(DISTINCT account) FROM collisions WHERE " RANGE, 2, params);
    if (!r)
        return -1;
    self->collisions = s_ll (r, 0, 0);
    self->colliding_accounts = s_ll (r, 0, 1);
    PQclear (r);
    r = s_query (conn,
        "SELECT account, count(*), count(*) FILTER (WHERE track = 'marketing'),"
        " count(*) FILTER (WHERE track = 'sales'), count(DISTINCT contact)"
        " FROM collisions WHERE " RANGE
        " GROUP BY account ORDER BY count(*) DESC, account LIMIT $3::int", 3, params);
    if (!r)
        return -1;
    self->accounts = dt_page_alloc ((size_t) PQntuples (r), sizeof (account_t));
    for (int i = 0; i < PQntuples (r); i++) {
        account_t *account = &self->accounts [self->n_accounts++];
        account->name = s_dup (PQgetvalue (r, i, 0));
        account->collisions = s_ll (r, i, 1);
        account->marketing = s_ll (r, i, 2);
        account->sales = s_ll (r, i, 3);
        account->contacts = s_ll (r, i, 4);
    }
    PQclear (r);
    r = s_query (conn, "COMMIT", 0, NULL);
    if (!r)
        return -1;
    PQclear (r);
    return 0;
}

static void
s_free (report_t *self)
{
    for (int i = 0; i < self->n_stages; i++) {
        free (self->stages [i].name);
        free (self->stages [i].owner);
    }
    for (int i = 0; i < self->n_rules; i++) {
        free (self->rules [i].name);
        free (self->rules [i].per_day);
    }
    for (int i = 0; i < self->n_accounts; i++)
        free (self->accounts [i].name);
    for (int i = 0; i < self->n_themes; i++) {
        free (self->themes [i].track);
        free (self->themes [i].theme);
    }
    free (self->stages);
    free (self->rules);
    free (self->accounts);
    free (self->themes);
}

//  --------------------------------------------------------------------
//  Writing HTML and SVG

//  Touches per stage, a bar per track; the stage's owner shades its column
static void
s_chart_volumes (FILE *out, const report_t *self)
{
    int width = 760, height = 300, left = 56, right = 744, top = 34, bottom = 250;
    long long max = 0, step;
    for (int i = 0; i < self->n_stages; i++)
        for (int t = 0; t < TRACK_COUNT; t++)
            if (self->stages [i].touches [t] > max)
                max = self->stages [i].touches [t];
    max = dt_page_nice_max (max, &step);
    dt_page_svg_open (out, width, height, "Touchpoints per stage and track");
    for (int t = 0; t < TRACK_COUNT; t++)
        dt_page_legend_item (out, left + t * 120, 18, track_colors [t], track_names [t]);
    dt_page_legend_item (out, left + 240, 18, "#e2e8f0", "column shaded by the owning track");
    dt_page_y_axis (out, left, right, top, bottom, max, step);
    int n = self->n_stages? self->n_stages: 1;
    double slot = (double) (right - left) / n;
    double bar = slot * 0.32 > 40? 40: slot * 0.32;
    for (int i = 0; i < self->n_stages; i++) {
        const stage_t *stage = &self->stages [i];
        double x0 = left + i * slot;
        int owner = stage->owner? s_track_index (stage->owner): -1;
        if (owner >= 0)
            fprintf (out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"%s\""
                     " fill-opacity=\"0.08\"/>\n", x0 + 2, top, slot - 4, bottom - top,
                     track_colors [owner]);
        double center = x0 + slot / 2;
        for (int t = 0; t < TRACK_COUNT; t++) {
            long long value = stage->touches [t];
            double h = (double) value / (double) max * (bottom - top);
            double x = center + (t == 0? -bar - 2: 2);
            fprintf (out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                     "<title>", x, bottom - h, bar, h, track_colors [t]);
            dt_page_esc (out, track_names [t]);
            fputs (" at ", out);
            dt_page_esc (out, stage->name);
            fprintf (out, ": %lld</title></rect>"
                     "<text x=\"%.1f\" y=\"%.1f\" class=\"val\">%lld</text>\n",
                     value, x + bar / 2, bottom - h - 4, value);
        }
        fprintf (out, "<text x=\"%.1f\" y=\"%d\" class=\"xa\">", center, bottom + 18);
        dt_page_esc_cut (out, stage->name, (int) (slot / 7));
        fprintf (out, "</text><text x=\"%.1f\" y=\"%d\" class=\"xa sub\">", center, bottom + 34);
        dt_page_esc (out, stage->owner? stage->owner: "no owner");
        fputs ("</text>\n", out);
    }
    fprintf (out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
             left, bottom, right, bottom);
    fputs ("</svg>\n", out);
}

//  Findings per day, a line per rule
static void
s_chart_findings (FILE *out, const report_t *self)
{
    int per_row = 4, legend_rows = (self->n_rules + per_row - 1) / per_row;
    int width = 760, left = 56, right = 744, top = 16, bottom = 236;
    int height = bottom + 44 + legend_rows * 20;
    long long max = 0, step;
    for (int r = 0; r < self->n_rules; r++)
        for (int d = 0; d < self->n_days; d++)
            if (self->rules [r].per_day [d] > max)
                max = self->rules [r].per_day [d];
    max = dt_page_nice_max (max, &step);
    dt_page_svg_open (out, width, height, "Findings per day and rule");
    dt_page_y_axis (out, left, right, top, bottom, max, step);
    int n = self->n_days;
    double dx = n > 1? (double) (right - left - 20) / (n - 1): 0;
    #define X_OF(d) (n > 1? left + 10 + (d) * dx: (left + right) / 2.0)
    //  Day labels: at most eight, evenly spaced, the last day always
    bool same_year = strncmp (self->from, self->to, 4) == 0;
    int every = (n + 7) / 8;
    for (int d = 0; d < n; d++) {
        if (d % every != 0 && d != n - 1)
            continue;
        if (d != n - 1 && d + every > n - 1 && (n - 1 - d) * dx < 60)
            continue;       //  too close to the last label
        char label [16];
        s_day_label (self, d, label, sizeof label, same_year? "%d %b": "%d %b %y");
        fprintf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"axis\"/>"
                 "<text x=\"%.1f\" y=\"%d\" class=\"xa\">%s</text>\n",
                 X_OF (d), bottom, X_OF (d), bottom + 4, X_OF (d), bottom + 18, label);
    }
    for (int r = 0; r < self->n_rules; r++) {
        const rule_t *rule = &self->rules [r];
        const char *color = dt_page_colors [r % DT_PAGE_COLORS];
        fprintf (out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (int d = 0; d < n; d++)
            fprintf (out, "%s%.1f,%.1f", d? " ": "", X_OF (d),
                     bottom - (double) rule->per_day [d] / (double) max * (bottom - top));
        fputs ("\"/>\n", out);
        for (int d = 0; d < n && n <= 92; d++) {
            if (!rule->per_day [d])
                continue;
            char label [16];
            s_day_label (self, d, label, sizeof label, "%Y-%m-%d");
            fprintf (out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>",
                     X_OF (d), bottom - (double) rule->per_day [d] / (double) max * (bottom - top),
                     color);
            dt_page_esc (out, rule->name);
            fprintf (out, " on %s: %lld</title></circle>\n", label, rule->per_day [d]);
        }
    }
    #undef X_OF
    fprintf (out, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" class=\"axis\"/>\n",
             left, bottom, right, bottom);
    for (int r = 0; r < self->n_rules; r++)
        dt_page_legend_item (out, left + (r % per_row) * 172, bottom + 48 + (r / per_row) * 20,
                       dt_page_colors [r % DT_PAGE_COLORS], self->rules [r].name);
    if (!self->n_rules)
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"xa\">no findings in this range</text>\n",
                 (left + right) / 2, (top + bottom) / 2);
    fputs ("</svg>\n", out);
}

//  Horizontal bars: the accounts with the most collisions, split by the
//  track whose touchpoint raised the collision
static void
s_chart_accounts (FILE *out, const report_t *self)
{
    int width = 760, left = 190, right = 700, top = 34, row = 24;
    int bottom = top + (self->n_accounts? self->n_accounts: 1) * row;
    long long max = 0, step;
    for (int i = 0; i < self->n_accounts; i++)
        if (self->accounts [i].collisions > max)
            max = self->accounts [i].collisions;
    max = dt_page_nice_max (max, &step);
    dt_page_svg_open (out, width, bottom + 24, "Accounts with the most collisions");
    for (int t = 0; t < TRACK_COUNT; t++)
        dt_page_legend_item (out, left + t * 200, 18, track_colors [t], t == 0?
                       "raised by a marketing touch": "raised by a sales touch");
    for (long long v = 0; v <= max; v += step) {
        double x = left + (double) v / (double) max * (right - left);
        fprintf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                 "<text x=\"%.1f\" y=\"%d\" class=\"xa\">%lld</text>\n",
                 x, top, x, bottom, x, bottom + 16, v);
    }
    for (int i = 0; i < self->n_accounts; i++) {
        const account_t *account = &self->accounts [i];
        int y = top + i * row + 4;
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"ya\">", left - 8, y + 12);
        dt_page_esc_cut (out, account->name, 24);
        fputs ("</text>\n", out);
        double x = left;
        long long parts [TRACK_COUNT] = { account->marketing, account->sales };
        for (int t = 0; t < TRACK_COUNT; t++) {
            double w = (double) parts [t] / (double) max * (right - left);
            if (parts [t])
                fprintf (out, "<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"16\" fill=\"%s\">"
                         "<title>%lld by %s</title></rect>\n",
                         x, y, w, track_colors [t], parts [t], track_names [t]);
            x += w;
        }
        fprintf (out, "<text x=\"%.1f\" y=\"%d\">%lld</text>\n", x + 6, y + 12,
                 account->collisions);
    }
    if (!self->n_accounts)
        fprintf (out, "<text x=\"%d\" y=\"%d\">no collisions in this range</text>\n",
                 left, top + 16);
    fputs ("</svg>\n", out);
}

//  Tone compliance per track, 0 to 100 %
static void
s_chart_tone (FILE *out, const report_t *self)
{
    int width = 760, left = 110, right = 640, top = 12, row = 30;
    int bottom = top + TRACK_COUNT * row;
    dt_page_svg_open (out, width, bottom + 24, "Tone compliance per track");
    for (int p = 0; p <= 100; p += 20) {
        double x = left + p / 100.0 * (right - left);
        fprintf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                 "<text x=\"%.1f\" y=\"%d\" class=\"xa\">%d%%</text>\n",
                 x, top, x, bottom, x, bottom + 16, p);
    }
    for (int t = 0; t < TRACK_COUNT; t++) {
        const track_total_t *total = &self->tracks [t];
        int y = top + t * row + 6;
        double share = total->touchpoints? (double) total->compliant / (double) total->touchpoints: 0;
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"ya\">%s</text>"
                 "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
                 "<text x=\"%.1f\" y=\"%d\">", left - 8, y + 13, track_names [t],
                 left, y, share * (right - left), track_colors [t],
                 left + share * (right - left) + 6, y + 13);
        dt_page_percent (out, total->compliant, total->touchpoints);
        fprintf (out, " (%lld of %lld)</text>\n", total->compliant, total->touchpoints);
    }
    fputs ("</svg>\n", out);
}

static void
s_render (FILE *out, const report_t *self)
{
    char generated [32];
    time_t now = time (NULL);
    struct tm tm;
    gmtime_r (&now, &tm);
    strftime (generated, sizeof generated, "%Y-%m-%d %H:%M UTC", &tm);

    char title [96];
    snprintf (title, sizeof title, "Dualtrack report %s to %s", self->from, self->to);
    dt_page_head (out, title);
    fprintf (out, "<h1>Dualtrack report</h1>\n<p class=\"range\">Touchpoints that occurred from "
             "<b id=\"from\">%s</b> to <b id=\"to\">%s</b> (%d day%s, UTC dates, both included). "
             "Generated %s from the store.</p>\n",
             self->from, self->to, self->n_days, self->n_days == 1? "": "s", generated);

    //  Summary
    long long touchpoints = 0, findings = 0;
    for (int t = 0; t < TRACK_COUNT; t++) {
        touchpoints += self->tracks [t].touchpoints;
        findings += self->findings_by_track [t];
    }
    fputs ("<h2 id=\"summary\">Summary</h2>\n<table>\n<thead><tr><th></th><th class=\"n\">touchpoints</th>"
           "<th class=\"n\">findings</th><th class=\"n\">verdict warn</th>"
           "<th class=\"n\">verdict violation</th><th class=\"n\">tone compliance</th></tr></thead>\n"
           "<tbody>\n", out);
    for (int t = 0; t < TRACK_COUNT; t++) {
        const track_total_t *total = &self->tracks [t];
        fprintf (out, "<tr><th scope=\"row\">%s</th><td class=\"n\" id=\"touchpoints-%s\">%lld</td>"
                 "<td class=\"n\" id=\"findings-%s\">%lld</td>",
                 track_names [t], track_names [t], total->touchpoints,
                 track_names [t], self->findings_by_track [t]);
        dt_page_td (out, total->warn);
        dt_page_td (out, total->violation);
        fprintf (out, "<td class=\"n\">");
        dt_page_percent (out, total->compliant, total->touchpoints);
        fputs ("</td></tr>\n", out);
    }
    long long compliant = self->tracks [0].compliant + self->tracks [1].compliant;
    fprintf (out, "<tr><th scope=\"row\">both tracks</th><td class=\"n\" id=\"touchpoints-total\">%lld</td>"
             "<td class=\"n\" id=\"findings-total\">%lld</td>", touchpoints, findings);
    dt_page_td (out, self->tracks [0].warn + self->tracks [1].warn);
    dt_page_td (out, self->tracks [0].violation + self->tracks [1].violation);
    fputs ("<td class=\"n\">", out);
    dt_page_percent (out, compliant, touchpoints);
    fprintf (out, "</td></tr>\n</tbody>\n</table>\n<p>Collisions: <b id=\"collisions-total\">%lld</b>"
             " on <b id=\"colliding-accounts\">%lld</b> account%s.</p>\n",
             self->collisions, self->colliding_accounts, self->colliding_accounts == 1? "": "s");

    //  Volumes
    fputs ("<h2 id=\"volumes\">Volumes per track and stage</h2>\n", out);
    s_chart_volumes (out, self);
    fputs ("<table>\n<thead><tr><th>stage</th><th>owner</th><th class=\"n\">marketing</th>"
           "<th class=\"n\">sales</th><th class=\"n\">total</th><th class=\"n\">joint</th>"
           "<th class=\"n\">outside ownership</th><th class=\"n\">of those, not joint</th></tr></thead>\n"
           "<tbody>\n", out);
    for (int i = 0; i < self->n_stages; i++) {
        const stage_t *stage = &self->stages [i];
        fputs ("<tr><th scope=\"row\">", out);
        dt_page_esc (out, stage->name);
        fputs ("</th><td>", out);
        dt_page_esc (out, stage->owner? stage->owner: "(not in stage_owners)");
        fputs ("</td>", out);
        dt_page_td (out, stage->touches [0]);
        dt_page_td (out, stage->touches [1]);
        dt_page_td (out, stage->touches [0] + stage->touches [1]);
        dt_page_td (out, stage->joint);
        dt_page_td (out, stage->outside);
        dt_page_td (out, stage->outside_not_joint);
        fputs ("</tr>\n", out);
    }
    fputs ("</tbody>\n</table>\n<p class=\"note\">Outside ownership: touches made by the track "
           "that does not own the stage; not joint: without the owner as lead or advisor.</p>\n", out);

    //  Findings
    fputs ("<h2 id=\"findings\">Findings per rule over time</h2>\n", out);
    s_chart_findings (out, self);
    fputs ("<table>\n<thead><tr><th>rule</th><th class=\"n\">findings</th><th class=\"n\">violation</th>"
           "<th class=\"n\">warn</th><th class=\"n\">info</th></tr></thead>\n<tbody>\n", out);
    for (int r = 0; r < self->n_rules; r++) {
        const rule_t *rule = &self->rules [r];
        fputs ("<tr><th scope=\"row\">", out);
        dt_page_esc (out, rule->name);
        fputs ("</th><td class=\"n\" id=\"rule-", out);
        dt_page_esc (out, rule->name);
        fprintf (out, "\">%lld</td>", rule->total);
        dt_page_td (out, rule->violations);
        dt_page_td (out, rule->warnings);
        dt_page_td (out, rule->infos);
        fputs ("</tr>\n", out);
    }
    if (!self->n_rules)
        fputs ("<tr><td colspan=\"5\">no findings in this range</td></tr>\n", out);
    fputs ("</tbody>\n</table>\n", out);
    if (self->n_rules) {
        //  Day by day: the days with findings, a column per rule
        fputs ("<div class=\"scroll\"><table>\n<thead><tr><th>day</th>", out);
        for (int r = 0; r < self->n_rules; r++) {
            fputs ("<th class=\"n\">", out);
            dt_page_esc (out, self->rules [r].name);
            fputs ("</th>", out);
        }
        fputs ("</tr></thead>\n<tbody>\n", out);
        for (int d = 0; d < self->n_days; d++) {
            long long any = 0;
            for (int r = 0; r < self->n_rules; r++)
                any += self->rules [r].per_day [d];
            if (!any)
                continue;
            char label [16];
            s_day_label (self, d, label, sizeof label, "%Y-%m-%d");
            fprintf (out, "<tr><th scope=\"row\">%s</th>", label);
            for (int r = 0; r < self->n_rules; r++)
                dt_page_td (out, self->rules [r].per_day [d]);
            fputs ("</tr>\n", out);
        }
        fputs ("</tbody>\n</table></div>\n<p class=\"note\">Days without findings are left out "
               "of this table.</p>\n", out);
    }

    //  Collisions
    fputs ("<h2 id=\"collisions\">Top colliding accounts</h2>\n", out);
    s_chart_accounts (out, self);
    fputs ("<table>\n<thead><tr><th class=\"n\">#</th><th>account</th><th class=\"n\">collisions</th>"
           "<th class=\"n\">by marketing touches</th><th class=\"n\">by sales touches</th>"
           "<th class=\"n\">contacts</th></tr></thead>\n<tbody>\n", out);
    for (int i = 0; i < self->n_accounts; i++) {
        const account_t *account = &self->accounts [i];
        fprintf (out, "<tr id=\"top-%d\"><td class=\"n\">%d</td><th scope=\"row\">", i + 1, i + 1);
        dt_page_esc (out, account->name);
        fputs ("</th>", out);
        dt_page_td (out, account->collisions);
        dt_page_td (out, account->marketing);
        dt_page_td (out, account->sales);
        dt_page_td (out, account->contacts);
        fputs ("</tr>\n", out);
    }
    if (!self->n_accounts)
        fputs ("<tr><td colspan=\"6\">no collisions in this range</td></tr>\n", out);
    fputs ("</tbody>\n</table>\n<p class=\"note\">A collision is counted on the touchpoint that "
           "raised it: both tracks touched the same contact within the window, independently.</p>\n",
           out);

    //  Tone
    fputs ("<h2 id=\"tone\">Tone compliance per track</h2>\n", out);
    s_chart_tone (out, self);
    fputs ("<table>\n<thead><tr><th>track</th><th class=\"n\">touchpoints</th>"
           "<th class=\"n\">compliant</th><th class=\"n\">compliance</th></tr></thead>\n<tbody>\n", out);
    for (int t = 0; t < TRACK_COUNT; t++) {
        const track_total_t *total = &self->tracks [t];
        fprintf (out, "<tr><th scope=\"row\">%s</th>", track_names [t]);
        dt_page_td (out, total->touchpoints);
        dt_page_td (out, total->compliant);
        fprintf (out, "<td class=\"n\" id=\"tone-%s\">", track_names [t]);
        dt_page_percent (out, total->compliant, total->touchpoints);
        fputs ("</td></tr>\n", out);
    }
    fputs ("</tbody>\n</table>\n", out);
    if (self->n_themes) {
        fputs ("<div class=\"scroll\"><table>\n<thead><tr><th>track</th><th>theme</th>"
               "<th class=\"n\">touchpoints</th><th class=\"n\">compliant</th>"
               "<th class=\"n\">compliance</th></tr></thead>\n<tbody>\n", out);
        for (int i = 0; i < self->n_themes; i++) {
            const theme_t *theme = &self->themes [i];
            fputs ("<tr><td>", out);
            dt_page_esc (out, theme->track);
            fputs ("</td><td>", out);
            dt_page_esc (out, theme->theme? theme->theme: "(no theme)");
            fputs ("</td>", out);
            dt_page_td (out, theme->touchpoints);
            dt_page_td (out, theme->compliant);
            fputs ("<td class=\"n\">", out);
            dt_page_percent (out, theme->compliant, theme->touchpoints);
            fputs ("</td></tr>\n", out);
        }
        fputs ("</tbody>\n</table></div>\n", out);
    }
    fputs ("<p class=\"note\">Compliant: a touchpoint with no finding of a tone rule "
           "(the rules marked tone in rule_catalog: a theme unknown, retired or not approved "
           "for the stage, a banned phrase, a contradicting claim, a lead violation).</p>\n"
           "</body>\n</html>\n", out);
}

//  --------------------------------------------------------------------

//  The first line of a file that holds only a password (a compose secret)
static int
s_usage (int code)
{
    printf ("Usage: dualtrack report --from YYYY-MM-DD --to YYYY-MM-DD [--pg URI] [--out FILE]\n"
            "                        [--top N]\n"
            "Writes one self-contained HTML page (inline CSS and SVG charts, no script,\n"
            "nothing loaded from the network) about the touchpoints that occurred in the\n"
            "range, both days included (UTC dates): volumes per track and stage, findings\n"
            "per rule and day, the N accounts with the most collisions (default 10), tone\n"
            "compliance per track. It reads the analyst views (docs/schema.md).\n"
            "  --pg URI    the store (default: $DT_PG_URI, else postgresql:///dualtrack)\n"
            "  --pg-password-file FILE  a file holding only the password (default:\n"
            "              $DT_PG_PASSWORD_FILE; else the URI, PGPASSWORD or ~/.pgpass)\n"
            "  --out FILE  write there (replaced only when the page is complete);\n"
            "              default: standard output\n"
            "Exit status: 0 written, 1 the store failed, 2 usage error.\n");
    return code;
}

int
dt_cli_report (int argc, char *argv [])
{
    const char *uri = dt_cli_pg_uri (), *from = NULL, *to = NULL, *out_path = NULL;
    const char *password_file = getenv ("DT_PG_PASSWORD_FILE");
    long top = 10;
    static struct option longopts [] = {
        { "pg", required_argument, 0, 'p' }, { "from", required_argument, 0, 'f' },
        { "to", required_argument, 0, 't' }, { "out", required_argument, 0, 'o' },
        { "top", required_argument, 0, 'n' }, { "pg-password-file", required_argument, 0, 'P' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "p:f:t:o:n:P:h", longopts, NULL)) != -1) {
        char *end;
        switch (opt) {
            case 'p': uri = optarg; break;
            case 'f': from = optarg; break;
            case 't': to = optarg; break;
            case 'o': out_path = optarg; break;
            case 'P': password_file = optarg; break;
            case 'n':
                errno = 0;
                top = strtol (optarg, &end, 10);
                if (errno || *end || end == optarg || top < 1 || top > 1000) {
                    fprintf (stderr, "report: --top must be a number from 1 to 1000\n");
                    return 2;
                }
                break;
            case 'h': return s_usage (0);
            default: return s_usage (2);
        }
    }
    if (optind < argc) {
        fprintf (stderr, "report: unexpected argument '%s'\n", argv [optind]);
        return 2;
    }
    report_t self = { .n_days = 0 };
    time_t to_t;
    if (!from || !to) {
        fprintf (stderr, "report: --from and --to are required (YYYY-MM-DD)\n");
        return 2;
    }
    if (!dt_page_parse_day (from, &self.from_t)) {
        fprintf (stderr, "report: --from '%s' is not a date YYYY-MM-DD between 2000 and 2099\n", from);
        return 2;
    }
    if (!dt_page_parse_day (to, &to_t)) {
        fprintf (stderr, "report: --to '%s' is not a date YYYY-MM-DD between 2000 and 2099\n", to);
        return 2;
    }
    if (to_t < self.from_t) {
        fprintf (stderr, "report: --to %s is before --from %s\n", to, from);
        return 2;
    }
    self.n_days = (int) ((to_t - self.from_t) / 86400) + 1;
    if (self.n_days > MAX_DAYS) {
        fprintf (stderr, "report: the range is %d days, at most %d\n", self.n_days, MAX_DAYS);
        return 2;
    }
    memcpy (self.from, from, 11);
    memcpy (self.to, to, 11);

    int rc = 0;
    PGconn *conn = dt_cli_pg_connect ("report", uri, password_file, &rc);
    if (!conn)
        return rc;
    if (s_load (&self, conn, (int) top)) {
        PQfinish (conn);
        s_free (&self);
        return 1;
    }
    PQfinish (conn);

    FILE *out = stdout;
    char *tmp_path = NULL;
    if (out_path) {
        size_t size = strlen (out_path) + 32;
        tmp_path = dt_page_alloc (size, 1);
        snprintf (tmp_path, size, "%s.tmp.%ld", out_path, (long) getpid ());
        out = fopen (tmp_path, "w");
        if (!out) {
            fprintf (stderr, "report: cannot write %s: %s\n", tmp_path, strerror (errno));
            free (tmp_path);
            s_free (&self);
            return 2;
        }
    }
    s_render (out, &self);
    if (fflush (out) || ferror (out)) {
        fprintf (stderr, "report: writing %s failed: %s\n", out_path? out_path: "the page",
                 strerror (errno));
        rc = 2;
    }
    if (out_path) {
        if (fclose (out) && rc == 0) {
            fprintf (stderr, "report: writing %s failed: %s\n", out_path, strerror (errno));
            rc = 2;
        }
        if (rc == 0 && rename (tmp_path, out_path)) {
            fprintf (stderr, "report: cannot write %s: %s\n", out_path, strerror (errno));
            rc = 2;
        }
        if (rc)
            unlink (tmp_path);
        free (tmp_path);
    }
    s_free (&self);
    return rc;
}
