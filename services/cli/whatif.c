/*  whatif.c - `dualtrack whatif`: what a policy would have said about the
    touchpoints of a date range, against what the live policy says
    (docs/policy.md, "What-if").

    Two pure rule engines judge every stored touchpoint of the range in the
    order they occurred: one under the live policy (the version in force,
    or the tone-book tables and the coordinator's options when none is
    stored), one under the candidate (a policy file, a stored version, or,
    with --as-judged, the version each touchpoint was judged under: the
    self-check). Both start with the rule memory warmed over the horizon
    (the longest window of either policy) before --from: those touchpoints
    are judged and remembered, not counted. Both use the alias maps in
    force, so only the policy differs.

    The report: findings by rule and severity (live, candidate, change), the
    verdicts that would change, the accounts most affected, and a sample of
    touchpoints whose findings change with both sets of messages. As text on
    stdout, and as an HTML page (inline SVG, cli/page.h) or JSON with the
    same figures (--out). --findings writes every finding of the candidate
    in the form of the findings table, to compare with it.

    Read-only: it reads touchpoints, policy versions and the alias maps, so
    the analyst role (dualtrack_analyst) may run it.
*/
#include "cli/cli.h"
#include "cli/livepolicy.h"
#include "cli/page.h"
#include "base/hash.h"
#include "rules/engine.h"
#include "store/aliases.h"
#include "store/replay.h"
#include "store/suppressions.h"
#include "store/contact_settings.h"

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FINDINGS_MAX 32             //  per touchpoint and engine
#define SEVERITIES 3                //  info, warn, violation
#define VERSIONS_MAX 4096           //  stored versions --as-judged switches between

//  A touchpoint whose findings change, kept for the report's sample
typedef struct {
    char *id, *account;
    int64_t occurred_at;
    dt_verdict_t verdict [2];
    int count [2];
    dt_finding_t *findings [2];     //  live, candidate
} sample_t;

//  An account whose touchpoints' findings change
typedef struct {
    char *name;                     //  the canonical id; NULL: free slot
    long long changed, findings [2];
} account_t;

typedef struct {
    //  The engines: [0] live, [1] candidate
    dt_engine_t *engine [2];
    dt_tzdb_t *zones;               //  the system's tz database, for both
    dt_stageset_t stages;
    dt_rules_config_t defaults;
    PGconn *conn;
    //  --as-judged: the stored versions, parsed on first use
    bool as_judged;
    dt_policy_t *versions [VERSIONS_MAX];
    int in_force;                   //  the candidate's version; -1 none yet
    //  The range counted, and the track (DT_TRACK_NONE: both)
    int64_t from_ms, to_ms;
    dt_track_t track;
    //  Figures
    long long warmup, touchpoints, changed;
    long long by_rule [2][DT_RULES][SEVERITIES];
    long long verdicts [3][3];      //  [live][candidate]
    account_t *accounts;
    size_t account_slots, account_count;
    sample_t *sample;
    int sample_max, sample_count;
    uint64_t rng;
    FILE *findings_out;
    int failed;                     //  an engine or version could not be set up
    //  Scratch per touchpoint
    dt_finding_t findings [2][FINDINGS_MAX];
} whatif_t;

static char *
s_dup_str (dt_str_t s)
{
    char *copy = dt_page_alloc (s.len + 1, 1);
    memcpy (copy, s.ptr, s.len);
    return copy;
}

//  --------------------------------------------------------------------
//  Engines under a policy

//  Put policy in force in engine (its settings and tone book). 0 or -1.
static int
s_use_policy (dt_engine_t *engine, const dt_policy_t *policy, const char *what)
{
    char err [512];
    dt_tonebook_t *book = dt_policy_tonebook (policy, err, sizeof err);
    if (!book || dt_engine_set_tonebook (engine, &book, err, sizeof err)
    ||  dt_engine_set_config (engine, dt_policy_config ((dt_policy_t *) policy))) {
        fprintf (stderr, "whatif: %s cannot be used: %s\n", what, err);
        return -1;
    }
    return 0;
}

static dt_engine_t *
s_engine (whatif_t *self, const dt_policy_t *policy, const char *what)
{
    dt_engine_t *engine = dt_engine_new (dt_policy_config ((dt_policy_t *) policy), &self->stages);
    if (!engine) {
        fprintf (stderr, "whatif: %s: the rule settings are not valid\n", what);
        return NULL;
    }
    char err [512];
    //  As the coordinator judges: the alias maps, consent and the contact
    //  budget's time zones, the buyers' own too (each as they are now)
    dt_identity_t *map = dt_aliases_load (self->conn, err, sizeof err);
    if (!map)
        fprintf (stderr, "whatif: the alias maps cannot be read (ids judged as sent): %s\n", err);
    dt_suppression_t *set = dt_suppressions_load (self->conn, err, sizeof err);
    if (!set)
        fprintf (stderr, "whatif: the suppressions cannot be read (none judged): %s\n", err);
    if (!self->zones) {
        self->zones = dt_tzdb_new ();
        if (self->zones && dt_tzdb_load_dir (self->zones, DT_TZDB_DIR, err, sizeof err) < 0)
            fprintf (stderr, "whatif: no tz database (every time zone is UTC): %s\n", err);
    }
    dt_zonemap_t *zonemap = dt_contact_settings_load (self->conn, self->zones, err, sizeof err);
    if (!zonemap)
        fprintf (stderr, "whatif: the contact settings cannot be read (no buyer's own zone): %s\n",
                 err);
    //  s_use_policy says itself why it refuses
    bool refused = false;
    if ((self->zones && dt_engine_set_zones (engine, self->zones, err, sizeof err))
    ||  (map && dt_engine_set_identity (engine, &map, err, sizeof err))
    ||  (set && dt_engine_set_suppressions (engine, &set, err, sizeof err))
    ||  (zonemap && dt_engine_set_zonemap (engine, &zonemap, err, sizeof err))) {
        fprintf (stderr, "whatif: %s cannot be used: %s\n", what, err);
        refused = true;
    }
    if (refused || s_use_policy (engine, policy, what)) {
        dt_identity_destroy (&map);
        dt_suppression_destroy (&set);
        dt_zonemap_destroy (&zonemap);
        dt_engine_destroy (&engine);
        return NULL;
    }
    return engine;
}

//  Stored version number parsed (cached); with number 0, the tables
static dt_policy_t *
s_version (whatif_t *self, int number)
{
    if (number < 0 || number >= VERSIONS_MAX)
        return NULL;
    if (!self->versions [number]) {
        if (number == 0)
            //  Before any version: the tone-book tables (as they are now)
            //  and the coordinator's options
            self->versions [0] = dt_cli_tables_policy (self->conn, &self->defaults);
        else {
            char text_number [16];
            snprintf (text_number, sizeof text_number, "%d", number);
            size_t len;
            char *text = dt_cli_version_text (self->conn, text_number);
            len = text? strlen (text): 0;
            char name [32];
            snprintf (name, sizeof name, "version %d", number);
            if (text)
                self->versions [number] = dt_cli_policy_parse (name, text, len, &self->defaults,
                                                               &self->stages);
            free (text);
        }
    }
    return self->versions [number];
}

//  --------------------------------------------------------------------
//  Judging

static bool
s_same_findings (const dt_finding_t *a, int na, const dt_finding_t *b, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++)
        if (a [i].rule != b [i].rule || a [i].severity != b [i].severity
        ||  strcmp (a [i].message, b [i].message) != 0)
            return false;
    return true;
}

static account_t *
s_account (whatif_t *self, dt_str_t name)
{
    if ((self->account_count + 1) * 2 > self->account_slots) {
        size_t slots = self->account_slots? self->account_slots * 2: 1024;
        account_t *grown = dt_page_alloc (slots, sizeof *grown);
        for (size_t i = 0; i < self->account_slots; i++)
            if (self->accounts [i].name) {
                size_t at = dt_hash (self->accounts [i].name, strlen (self->accounts [i].name), 0)
                          & (slots - 1);
                while (grown [at].name)
                    at = (at + 1) & (slots - 1);
                grown [at] = self->accounts [i];
            }
        free (self->accounts);
        self->accounts = grown;
        self->account_slots = slots;
    }
    size_t at = dt_hash (name.ptr, name.len, 0) & (self->account_slots - 1);
    while (self->accounts [at].name) {
        if (strlen (self->accounts [at].name) == name.len
        &&  memcmp (self->accounts [at].name, name.ptr, name.len) == 0)
            return &self->accounts [at];
        at = (at + 1) & (self->account_slots - 1);
    }
    self->accounts [at].name = s_dup_str (name);
    self->account_count++;
    return &self->accounts [at];
}

static void
s_sample_free (sample_t *sample)
{
    free (sample->id);
    free (sample->account);
    free (sample->findings [0]);
    free (sample->findings [1]);
    memset (sample, 0, sizeof *sample);
}

//  Reservoir sampling over the changed touchpoints (a fixed seed: the
//  same store gives the same sample)
static void
s_keep_sample (whatif_t *self, const dt_event_t *ev, dt_str_t account,
               const int count [2], const dt_verdict_t verdict [2])
{
    int slot = self->sample_count < self->sample_max? self->sample_count++: -1;
    if (slot < 0) {
        self->rng ^= self->rng << 13;
        self->rng ^= self->rng >> 7;
        self->rng ^= self->rng << 17;
        uint64_t pick = self->rng % (uint64_t) self->changed;
        if (pick >= (uint64_t) self->sample_max)
            return;
        slot = (int) pick;
        s_sample_free (&self->sample [slot]);
    }
    sample_t *sample = &self->sample [slot];
    sample->id = s_dup_str (ev->id);
    sample->account = s_dup_str (account);
    sample->occurred_at = ev->occurred_at;
    for (int e = 0; e < 2; e++) {
        sample->verdict [e] = verdict [e];
        sample->count [e] = count [e];
        sample->findings [e] = dt_page_alloc ((size_t) count [e], sizeof (dt_finding_t));
        memcpy (sample->findings [e], self->findings [e], (size_t) count [e] * sizeof (dt_finding_t));
    }
}

//  A finding as the findings table holds it, in COPY's text form:
//  touchpoint_id, rule, severity, message, related (comma-separated)
static void
s_copy_text (FILE *out, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = text [i];
        switch (c) {
            case '\\': fputs ("\\\\", out); break;
            case '\n': fputs ("\\n", out); break;
            case '\r': fputs ("\\r", out); break;
            case '\t': fputs ("\\t", out); break;
            case '\b': fputs ("\\b", out); break;
            case '\f': fputs ("\\f", out); break;
            case '\v': fputs ("\\v", out); break;
            default: fputc (c, out);
        }
    }
}

static void
s_write_findings (FILE *out, const dt_event_t *ev, const dt_finding_t *findings, int count)
{
    for (int i = 0; i < count; i++) {
        const dt_finding_t *f = &findings [i];
        s_copy_text (out, ev->id.ptr, ev->id.len);
        fprintf (out, "\t%s\t%s\t", dt_rule_id (f->rule), dt_severity_name (f->severity));
        s_copy_text (out, f->message, strlen (f->message));
        fputc ('\t', out);
        for (int r = 0; r < f->related_count; r++) {
            if (r)
                fputc (',', out);
            s_copy_text (out, f->related [r], strlen (f->related [r]));
        }
        fputc ('\n', out);
    }
}

static void
s_judge (void *ctx, const dt_event_t *ev, const dt_replay_row_t *row)
{
    whatif_t *self = (whatif_t *) ctx;
    if (self->failed)
        return;
    if (self->as_judged && row->policy_version != self->in_force) {
        //  Read before the replay: the connection is busy with it now
        int number = row->policy_version;
        dt_policy_t *policy = number >= 0 && number < VERSIONS_MAX? self->versions [number]: NULL;
        char what [48];
        snprintf (what, sizeof what, "policy version %d", row->policy_version);
        if (!policy || s_use_policy (self->engine [1], policy, what)) {
            fprintf (stderr, "whatif: touchpoint %.*s was judged under %s, which cannot be "
                     "used\n", (int) ev->id.len, ev->id.ptr, what);
            self->failed = 1;
            return;
        }
        self->in_force = row->policy_version;
    }
    int count [2];
    dt_verdict_t verdict [2];
    for (int e = 0; e < 2; e++) {
        count [e] = dt_engine_judge (self->engine [e], ev, true, self->findings [e],
                                     FINDINGS_MAX, &verdict [e]);
        if (count [e] < 0) {
            count [e] = 0;
            verdict [e] = DT_VERDICT_OK;
        }
    }
    if (ev->occurred_at < self->from_ms) {
        self->warmup++;
        return;
    }
    if (self->track != DT_TRACK_NONE && ev->track != self->track)
        return;     //  judged (the other track's touches count for this one's), not counted
    self->touchpoints++;
    for (int e = 0; e < 2; e++)
        for (int i = 0; i < count [e]; i++) {
            const dt_finding_t *f = &self->findings [e][i];
            if (f->severity >= DT_SEV_INFO && f->severity <= DT_SEV_VIOLATION)
                self->by_rule [e][f->rule][f->severity]++;
        }
    self->verdicts [verdict [0]][verdict [1]]++;
    if (self->findings_out)
        s_write_findings (self->findings_out, ev, self->findings [1], count [1]);
    if (s_same_findings (self->findings [0], count [0], self->findings [1], count [1]))
        return;
    self->changed++;
    dt_str_t canonical = dt_engine_canonical (self->engine [0], DT_ID_ACCOUNT, ev->account);
    account_t *account = s_account (self, canonical);
    account->changed++;
    account->findings [0] += count [0];
    account->findings [1] += count [1];
    s_keep_sample (self, ev, canonical, count, verdict);
}

//  --------------------------------------------------------------------
//  The report's figures

typedef struct {
    const char *from, *to, *track;
    char live [64], candidate [300];
    dt_buf_t diff;                  //  the policy change in words, a line each
    int diff_lines;
    account_t **top;                //  the accounts most affected
    int top_count;
    double seconds;
} report_t;

//  Most affected first: the largest change in findings, then the most
//  touchpoints whose findings change, then by name
static int
s_by_changed (const void *a, const void *b)
{
    const account_t *x = *(account_t *const *) a, *y = *(account_t *const *) b;
    long long dx = llabs (x->findings [1] - x->findings [0]);
    long long dy = llabs (y->findings [1] - y->findings [0]);
    if (dx != dy)
        return dx < dy? 1: -1;
    if (x->changed != y->changed)
        return x->changed < y->changed? 1: -1;
    return strcmp (x->name, y->name);
}

static int
s_by_time (const void *a, const void *b)
{
    const sample_t *x = (const sample_t *) a, *y = (const sample_t *) b;
    if (x->occurred_at != y->occurred_at)
        return x->occurred_at < y->occurred_at? -1: 1;
    return strcmp (x->id, y->id);
}

static long long
s_rule_total (const whatif_t *self, int engine, int rule)
{
    long long total = 0;
    for (int s = 0; s < SEVERITIES; s++)
        total += self->by_rule [engine][rule][s];
    return total;
}

static long long
s_total (const whatif_t *self, int engine)
{
    long long total = 0;
    for (int r = 0; r < DT_RULES; r++)
        total += s_rule_total (self, engine, r);
    return total;
}

static long long
s_verdict_total (const whatif_t *self, int engine, int verdict)
{
    long long total = 0;
    for (int v = 0; v < 3; v++)
        total += engine == 0? self->verdicts [verdict][v]: self->verdicts [v][verdict];
    return total;
}

static long long
s_verdicts_changed (const whatif_t *self)
{
    long long total = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (a != b)
                total += self->verdicts [a][b];
    return total;
}

static void
s_time_text (int64_t ms, char *out, size_t size)
{
    time_t t = (time_t) (ms / 1000);
    struct tm tm;
    gmtime_r (&t, &tm);
    strftime (out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
s_print_text (const whatif_t *self, const report_t *report)
{
    printf ("what-if %s to %s%s%s: live %s, candidate %s\n", report->from, report->to,
            report->track? ", track ": "", report->track? report->track: "",
            report->live, report->candidate);
    printf ("touchpoints judged: %lld (and %lld before --from to warm the memory)\n",
            self->touchpoints, self->warmup);
    printf ("touchpoints whose findings change: %lld; verdicts that change: %lld\n",
            self->changed, s_verdicts_changed (self));
    printf ("findings by rule and severity   live  candidate  change\n");
    for (int r = 0; r < DT_RULES; r++)
        for (int s = 0; s < SEVERITIES; s++) {
            long long a = self->by_rule [0][r][s], b = self->by_rule [1][r][s];
            if (a || b)
                printf ("  %-18s %-9s %9lld %10lld %+7lld\n", dt_rule_id ((dt_rule_t) r),
                        dt_severity_name ((dt_severity_t) s), a, b, b - a);
        }
    printf ("  %-28s %9lld %10lld %+7lld\n", "all", s_total (self, 0), s_total (self, 1),
            s_total (self, 1) - s_total (self, 0));
    for (int i = 0; i < report->top_count; i++)
        printf ("account %s: %lld touchpoints change, findings %lld -> %lld\n",
                report->top [i]->name, report->top [i]->changed, report->top [i]->findings [0],
                report->top [i]->findings [1]);
    fprintf (stderr, "whatif: %lld touchpoints in %.2f s (%.0f/s)\n",
             self->touchpoints + self->warmup, report->seconds,
             report->seconds > 0? (double) (self->touchpoints + self->warmup) / report->seconds: 0);
}

//  --------------------------------------------------------------------
//  JSON

static json_t *
s_json_findings (const dt_finding_t *findings, int count)
{
    json_t *array = json_array ();
    for (int i = 0; i < count; i++)
        json_array_append_new (array, json_pack ("{s:s, s:s, s:s}",
            "rule", dt_rule_id (findings [i].rule),
            "severity", dt_severity_name (findings [i].severity),
            "message", findings [i].message));
    return array;
}

static json_t *
s_json (const whatif_t *self, const report_t *report)
{
    json_t *root = json_object ();
    json_object_set_new (root, "from", json_string (report->from));
    json_object_set_new (root, "to", json_string (report->to));
    json_object_set_new (root, "track", report->track? json_string (report->track): json_null ());
    json_object_set_new (root, "live", json_string (report->live));
    json_object_set_new (root, "candidate", json_string (report->candidate));
    json_t *diff = json_array ();
    for (size_t i = 0; i < report->diff.size; ) {
        const char *line = report->diff.data + i;
        const char *end = memchr (line, '\n', report->diff.size - i);
        size_t len = end? (size_t) (end - line): report->diff.size - i;
        json_array_append_new (diff, json_stringn (line, len));
        i += len + 1;
    }
    json_object_set_new (root, "policy_changes", diff);
    json_object_set_new (root, "warmup_touchpoints", json_integer (self->warmup));
    json_object_set_new (root, "touchpoints", json_integer (self->touchpoints));
    json_object_set_new (root, "touchpoints_changed", json_integer (self->changed));
    json_t *rules = json_array ();
    for (int r = 0; r < DT_RULES; r++)
        for (int s = 0; s < SEVERITIES; s++) {
            long long a = self->by_rule [0][r][s], b = self->by_rule [1][r][s];
            if (a || b)
                json_array_append_new (rules, json_pack ("{s:s, s:s, s:I, s:I, s:I}",
                    "rule", dt_rule_id ((dt_rule_t) r), "severity",
                    dt_severity_name ((dt_severity_t) s), "live", (json_int_t) a,
                    "candidate", (json_int_t) b, "change", (json_int_t) (b - a)));
        }
    json_object_set_new (root, "findings", rules);
    json_object_set_new (root, "findings_total", json_pack ("{s:I, s:I, s:I}",
        "live", (json_int_t) s_total (self, 0), "candidate", (json_int_t) s_total (self, 1),
        "change", (json_int_t) (s_total (self, 1) - s_total (self, 0))));
    json_t *verdicts = json_object (), *moves = json_array ();
    for (int e = 0; e < 2; e++) {
        json_t *counts = json_object ();
        for (int v = 0; v < 3; v++)
            json_object_set_new (counts, dt_verdict_name ((dt_verdict_t) v),
                                 json_integer (s_verdict_total (self, e, v)));
        json_object_set_new (verdicts, e? "candidate": "live", counts);
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (a != b && self->verdicts [a][b])
                json_array_append_new (moves, json_pack ("{s:s, s:s, s:I}",
                    "from", dt_verdict_name ((dt_verdict_t) a),
                    "to", dt_verdict_name ((dt_verdict_t) b),
                    "count", (json_int_t) self->verdicts [a][b]));
    json_object_set_new (verdicts, "changed", json_integer (s_verdicts_changed (self)));
    json_object_set_new (verdicts, "changes", moves);
    json_object_set_new (root, "verdicts", verdicts);
    json_t *accounts = json_array ();
    for (int i = 0; i < report->top_count; i++)
        json_array_append_new (accounts, json_pack ("{s:s, s:I, s:I, s:I}",
            "account", report->top [i]->name,
            "touchpoints_changed", (json_int_t) report->top [i]->changed,
            "live_findings", (json_int_t) report->top [i]->findings [0],
            "candidate_findings", (json_int_t) report->top [i]->findings [1]));
    json_object_set_new (root, "accounts", accounts);
    json_t *sample = json_array ();
    for (int i = 0; i < self->sample_count; i++) {
        const sample_t *s = &self->sample [i];
        char at [32];
        s_time_text (s->occurred_at, at, sizeof at);
        json_t *item = json_pack ("{s:s, s:s, s:s, s:s, s:s}", "id", s->id, "account",
            s->account, "occurred_at", at, "live_verdict", dt_verdict_name (s->verdict [0]),
            "candidate_verdict", dt_verdict_name (s->verdict [1]));
        json_object_set_new (item, "live", s_json_findings (s->findings [0], s->count [0]));
        json_object_set_new (item, "candidate", s_json_findings (s->findings [1], s->count [1]));
        json_array_append_new (sample, item);
    }
    json_object_set_new (root, "sample", sample);
    return root;
}

//  --------------------------------------------------------------------
//  HTML

static const char *const side_colors [2] = { "#718096", "#d69e2e" };
static const char *const side_names [2] = { "live", "candidate" };

//  Paired horizontal bars (live, candidate) per row label
static void
s_chart_pairs (FILE *out, const char *label, int rows, const char *const *names,
               const long long (*values) [2])
{
    int width = 760, left = 170, right = 680, top = 34, row = 36;
    int bottom = top + (rows? rows: 1) * row;
    long long max = 0, step;
    for (int i = 0; i < rows; i++)
        for (int e = 0; e < 2; e++)
            if (values [i][e] > max)
                max = values [i][e];
    max = dt_page_nice_max (max, &step);
    dt_page_svg_open (out, width, bottom + 24, label);
    for (int e = 0; e < 2; e++)
        dt_page_legend_item (out, left + e * 160, 18, side_colors [e], side_names [e]);
    for (long long v = 0; v <= max; v += step) {
        double x = left + (double) v / (double) max * (right - left);
        fprintf (out, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"grid\"/>"
                 "<text x=\"%.1f\" y=\"%d\" class=\"xa\">%lld</text>\n",
                 x, top, x, bottom, x, bottom + 16, v);
    }
    for (int i = 0; i < rows; i++) {
        int y = top + i * row + 3;
        fprintf (out, "<text x=\"%d\" y=\"%d\" class=\"ya\">", left - 8, y + 18);
        dt_page_esc_cut (out, names [i], 22);
        fputs ("</text>\n", out);
        for (int e = 0; e < 2; e++) {
            double w = (double) values [i][e] / (double) max * (right - left);
            fprintf (out, "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"14\" fill=\"%s\">"
                     "<title>%s: %lld</title></rect><text x=\"%.1f\" y=\"%d\" class=\"sub\">"
                     "%lld</text>\n", left, y + e * 15, w, side_colors [e], side_names [e],
                     values [i][e], left + w + 4, y + e * 15 + 11, values [i][e]);
        }
    }
    if (!rows)
        fprintf (out, "<text x=\"%d\" y=\"%d\">nothing to show</text>\n", left, top + 16);
    fputs ("</svg>\n", out);
}

static void
s_html_findings (FILE *out, const dt_finding_t *findings, int count)
{
    if (!count)
        fputs ("<i>none</i>", out);
    for (int i = 0; i < count; i++) {
        fprintf (out, "%s<b>%s</b> (%s): ", i? "<br>": "", dt_rule_id (findings [i].rule),
                 dt_severity_name (findings [i].severity));
        dt_page_esc (out, findings [i].message);
    }
}

static void
s_html_change (FILE *out, long long change)
{
    fprintf (out, "<td class=\"n\">%+lld</td>", change);
}

static void
s_render (FILE *out, const whatif_t *self, const report_t *report)
{
    char title [96];
    snprintf (title, sizeof title, "Dualtrack what-if %s to %s", report->from, report->to);
    dt_page_head (out, title);
    fputs ("<h1>Dualtrack what-if</h1>\n<p class=\"range\">Touchpoints that occurred from <b>", out);
    dt_page_esc (out, report->from);
    fputs ("</b> to <b>", out);
    dt_page_esc (out, report->to);
    fputs ("</b> (UTC dates, both included)", out);
    if (report->track) {
        fputs (", track ", out);
        dt_page_esc (out, report->track);
    }
    fputs (", judged again under two policies. <b>Live</b>: ", out);
    dt_page_esc (out, report->live);
    fputs (". <b>Candidate</b>: ", out);
    dt_page_esc (out, report->candidate);
    fputs (".</p>\n", out);

    fputs ("<h2 id=\"summary\">Summary</h2>\n<table>\n<tbody>\n", out);
    fprintf (out, "<tr><th scope=\"row\">touchpoints judged</th><td class=\"n\" id=\"touchpoints\">%lld</td></tr>\n"
             "<tr><th scope=\"row\">before the range, to warm the rule memory</th><td class=\"n\">%lld</td></tr>\n"
             "<tr><th scope=\"row\">touchpoints whose findings change</th><td class=\"n\" id=\"changed\">%lld</td></tr>\n"
             "<tr><th scope=\"row\">verdicts that change</th><td class=\"n\" id=\"verdicts-changed\">%lld</td></tr>\n"
             "<tr><th scope=\"row\">findings, live &rarr; candidate</th><td class=\"n\" id=\"findings\">%lld &rarr; %lld</td></tr>\n"
             "</tbody>\n</table>\n", self->touchpoints, self->warmup, self->changed,
             s_verdicts_changed (self), s_total (self, 0), s_total (self, 1));
    fputs ("<h2 id=\"policy\">What the candidate changes in the policy</h2>\n<ul>\n", out);
    for (size_t i = 0; i < report->diff.size; ) {
        const char *line = report->diff.data + i;
        const char *end = memchr (line, '\n', report->diff.size - i);
        size_t len = end? (size_t) (end - line): report->diff.size - i;
        char *text = dt_page_alloc (len + 1, 1);
        memcpy (text, line, len);
        fputs ("<li>", out);
        dt_page_esc (out, text);
        fputs ("</li>\n", out);
        free (text);
        i += len + 1;
    }
    if (report->diff_lines == 0)
        fputs ("<li>no change in the policy's content</li>\n", out);
    fputs ("</ul>\n", out);

    //  Findings per rule
    const char *names [DT_RULES];
    long long values [DT_RULES][2];
    int rows = 0;
    for (int r = 0; r < DT_RULES; r++) {
        long long a = s_rule_total (self, 0, r), b = s_rule_total (self, 1, r);
        if (!a && !b)
            continue;
        names [rows] = dt_rule_id ((dt_rule_t) r);
        values [rows][0] = a;
        values [rows][1] = b;
        rows++;
    }
    fputs ("<h2 id=\"findings-by-rule\">Findings by rule</h2>\n", out);
    s_chart_pairs (out, "Findings per rule, live and candidate", rows, names,
                   (const long long (*) [2]) values);
    fputs ("<table id=\"rules\">\n<thead><tr><th>rule</th><th>severity</th><th class=\"n\">live</th>"
           "<th class=\"n\">candidate</th><th class=\"n\">change</th></tr></thead>\n<tbody>\n", out);
    for (int r = 0; r < DT_RULES; r++)
        for (int s = 0; s < SEVERITIES; s++) {
            long long a = self->by_rule [0][r][s], b = self->by_rule [1][r][s];
            if (!a && !b)
                continue;
            fprintf (out, "<tr><td>%s</td><td>%s</td>", dt_rule_id ((dt_rule_t) r),
                     dt_severity_name ((dt_severity_t) s));
            dt_page_td (out, a);
            dt_page_td (out, b);
            s_html_change (out, b - a);
            fputs ("</tr>\n", out);
        }
    fputs ("<tr><th scope=\"row\" colspan=\"2\">all</th>", out);
    dt_page_td (out, s_total (self, 0));
    dt_page_td (out, s_total (self, 1));
    s_html_change (out, s_total (self, 1) - s_total (self, 0));
    fputs ("</tr>\n</tbody>\n</table>\n", out);

    //  Verdicts
    const char *verdict_names [3];
    long long verdict_values [3][2];
    for (int v = 0; v < 3; v++) {
        verdict_names [v] = dt_verdict_name ((dt_verdict_t) v);
        verdict_values [v][0] = s_verdict_total (self, 0, v);
        verdict_values [v][1] = s_verdict_total (self, 1, v);
    }
    fputs ("<h2 id=\"verdicts\">Verdicts</h2>\n", out);
    s_chart_pairs (out, "Verdicts, live and candidate", 3, verdict_names,
                   (const long long (*) [2]) verdict_values);
    fputs ("<table>\n<thead><tr><th>live verdict</th><th>candidate verdict</th>"
           "<th class=\"n\">touchpoints</th></tr></thead>\n<tbody>\n", out);
    int moves = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            if (a != b && self->verdicts [a][b]) {
                fprintf (out, "<tr><td>%s</td><td>%s</td>", dt_verdict_name ((dt_verdict_t) a),
                         dt_verdict_name ((dt_verdict_t) b));
                dt_page_td (out, self->verdicts [a][b]);
                fputs ("</tr>\n", out);
                moves++;
            }
    if (!moves)
        fputs ("<tr><td colspan=\"3\">no verdict changes</td></tr>\n", out);
    fputs ("</tbody>\n</table>\n", out);

    //  Accounts
    fputs ("<h2 id=\"accounts\">Accounts most affected</h2>\n", out);
    const char **account_names = dt_page_alloc ((size_t) report->top_count, sizeof (char *));
    long long (*account_values) [2] = dt_page_alloc ((size_t) report->top_count, sizeof *account_values);
    for (int i = 0; i < report->top_count; i++) {
        account_names [i] = report->top [i]->name;
        account_values [i][0] = report->top [i]->findings [0];
        account_values [i][1] = report->top [i]->findings [1];
    }
    s_chart_pairs (out, "Findings of the accounts most affected, live and candidate",
                   report->top_count, account_names, (const long long (*) [2]) account_values);
    free (account_names);
    free (account_values);
    fputs ("<table>\n<thead><tr><th>account</th><th class=\"n\">touchpoints whose findings change</th>"
           "<th class=\"n\">findings live</th><th class=\"n\">findings candidate</th></tr></thead>\n"
           "<tbody>\n", out);
    for (int i = 0; i < report->top_count; i++) {
        fputs ("<tr><td>", out);
        dt_page_esc (out, report->top [i]->name);
        fputs ("</td>", out);
        dt_page_td (out, report->top [i]->changed);
        dt_page_td (out, report->top [i]->findings [0]);
        dt_page_td (out, report->top [i]->findings [1]);
        fputs ("</tr>\n", out);
    }
    fputs ("</tbody>\n</table>\n", out);

    //  Sample
    fprintf (out, "<h2 id=\"sample\">A sample of the touchpoints that change</h2>\n"
             "<p class=\"note\">%d of %lld, picked evenly at random with a fixed seed, in time "
             "order.</p>\n<div class=\"scroll\"><table>\n<thead><tr><th>touchpoint</th>"
             "<th>live findings</th><th>candidate findings</th></tr></thead>\n<tbody>\n",
             self->sample_count, self->changed);
    for (int i = 0; i < self->sample_count; i++) {
        const sample_t *s = &self->sample [i];
        char at [32];
        s_time_text (s->occurred_at, at, sizeof at);
        fputs ("<tr><td>", out);
        dt_page_esc (out, s->id);
        fputs ("<br><span class=\"note\">", out);
        dt_page_esc (out, s->account);
        fprintf (out, ", %s</span></td><td>verdict %s<br>", at, dt_verdict_name (s->verdict [0]));
        s_html_findings (out, s->findings [0], s->count [0]);
        fprintf (out, "</td><td>verdict %s<br>", dt_verdict_name (s->verdict [1]));
        s_html_findings (out, s->findings [1], s->count [1]);
        fputs ("</td></tr>\n", out);
    }
    fputs ("</tbody>\n</table></div>\n</body>\n</html>\n", out);
}

//  --------------------------------------------------------------------
//  The command

static int
s_usage (int code)
{
    printf ("Usage: dualtrack whatif (--policy FILE | --policy-version N | --as-judged)\n"
            "                        --from YYYY-MM-DD --to YYYY-MM-DD [OPTIONS]\n"
            "Judge the stored touchpoints of the range again, under the live policy and\n"
            "under a candidate, and report what would change (docs/policy.md).\n"
            "  --policy FILE         the candidate: a policy file (- for standard input)\n"
            "  --policy-version N    the candidate: stored version N\n"
            "  --as-judged           the candidate: the version each touchpoint was judged\n"
            "                        under (the self-check: see --findings)\n"
            "  --from, --to DAY      UTC days, both included\n"
            "  --track T             count only the touchpoints of track T (marketing, sales);\n"
            "                        the other track's are judged too, as they count for it\n"
            "  --out FILE            also write the report: FILE.html (a page with charts)\n"
            "                        or FILE.json (the same figures)\n"
            "  --findings FILE       every finding of the candidate in the range, one a line\n"
            "                        as COPY writes the findings table: touchpoint_id, rule,\n"
            "                        severity, message, related (comma-separated)\n"
            "  --top N               accounts in the report (default 10)\n"
            "  --sample N            touchpoints in the sample (default 20)\n"
            "  --pg URI              the store (default: $DT_PG_URI, else postgresql:///dualtrack)\n"
            "  --pg-password-file F  a file holding only the password\n"
            "Exit status: 0 done, 1 the store or a policy failed, 2 usage error.\n");
    return code;
}

static bool
s_ends_with (const char *text, const char *tail)
{
    size_t a = strlen (text), b = strlen (tail);
    return a >= b && strcmp (text + a - b, tail) == 0;
}

//  Read the range through both engines and write the report
static int
s_run (whatif_t *self, report_t *report, const char *out_path, int top)
{
    int64_t horizon = dt_engine_horizon (self->engine [0]);
    if (dt_engine_horizon (self->engine [1]) > horizon)
        horizon = dt_engine_horizon (self->engine [1]);
    for (int v = 1; self->as_judged && v < VERSIONS_MAX; v++)
        if (self->versions [v]) {
            int64_t h = dt_rules_config_horizon (dt_policy_config (self->versions [v]));
            if (h > horizon)
                horizon = h;
        }
    struct timespec t0, t1;
    clock_gettime (CLOCK_MONOTONIC, &t0);
    char err [512];
    int64_t rows = dt_replay_range (self->conn, &self->stages, self->from_ms - horizon,
                                    self->to_ms, s_judge, self, err, sizeof err);
    clock_gettime (CLOCK_MONOTONIC, &t1);
    report->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rows < 0) {
        fprintf (stderr, "whatif: cannot read the touchpoints: %s\n", err);
        return 1;
    }
    if (self->failed)
        return 1;
    //  The accounts most affected
    account_t **all = dt_page_alloc (self->account_count, sizeof *all);
    size_t n = 0;
    for (size_t i = 0; i < self->account_slots; i++)
        if (self->accounts [i].name)
            all [n++] = &self->accounts [i];
    qsort (all, n, sizeof *all, s_by_changed);
    report->top = all;
    report->top_count = (int) (n < (size_t) top? n: (size_t) top);
    qsort (self->sample, (size_t) self->sample_count, sizeof (sample_t), s_by_time);
    s_print_text (self, report);
    int rc = 0;
    if (out_path) {
        FILE *out = fopen (out_path, "w");
        if (!out) {
            fprintf (stderr, "whatif: cannot write %s\n", out_path);
            rc = 1;
        }
        else {
            if (s_ends_with (out_path, ".json")) {
                json_t *json = s_json (self, report);
                json_dumpf (json, out, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
                fputc ('\n', out);
                json_decref (json);
            }
            else
                s_render (out, self, report);
            if (fclose (out)) {
                fprintf (stderr, "whatif: cannot write %s\n", out_path);
                rc = 1;
            }
        }
    }
    return rc;
}

int
dt_cli_whatif (int argc, char *argv [])
{
    const char *uri = dt_cli_pg_uri (), *password_file = getenv ("DT_PG_PASSWORD_FILE");
    const char *policy_path = NULL, *version_arg = NULL, *from = NULL, *to = NULL;
    const char *track_arg = NULL, *out_path = NULL, *findings_path = NULL;
    bool as_judged = false;
    int top = 10, sample = 20;
    static struct option longopts [] = {
        { "policy", required_argument, 0, 'f' }, { "policy-version", required_argument, 0, 'v' },
        { "as-judged", no_argument, 0, 'j' }, { "from", required_argument, 0, 'a' },
        { "to", required_argument, 0, 'b' }, { "track", required_argument, 0, 't' },
        { "out", required_argument, 0, 'o' }, { "findings", required_argument, 0, 'F' },
        { "top", required_argument, 0, 'n' }, { "sample", required_argument, 0, 's' },
        { "pg", required_argument, 0, 'p' }, { "pg-password-file", required_argument, 0, 'P' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
            case 'f': policy_path = optarg; break;
            case 'v': version_arg = optarg; break;
            case 'j': as_judged = true; break;
            case 'a': from = optarg; break;
            case 'b': to = optarg; break;
            case 't': track_arg = optarg; break;
            case 'o': out_path = optarg; break;
            case 'F': findings_path = optarg; break;
            case 'n': top = atoi (optarg); break;
            case 's': sample = atoi (optarg); break;
            case 'p': uri = optarg; break;
            case 'P': password_file = optarg; break;
            case 'h': return s_usage (0);
            default: return s_usage (2);
        }
    }
    if (optind < argc) {
        fprintf (stderr, "whatif: unexpected argument '%s'\n", argv [optind]);
        return 2;
    }
    if ((policy_path != NULL) + (version_arg != NULL) + as_judged != 1) {
        fprintf (stderr, "whatif: name one candidate: --policy FILE, --policy-version N or "
                 "--as-judged\n");
        return 2;
    }
    time_t from_t, to_t;
    if (!from || !dt_page_parse_day (from, &from_t)) {
        fprintf (stderr, "whatif: --from must be a day as YYYY-MM-DD\n");
        return 2;
    }
    if (!to || !dt_page_parse_day (to, &to_t) || to_t < from_t) {
        fprintf (stderr, "whatif: --to must be a day as YYYY-MM-DD, not before --from\n");
        return 2;
    }
    dt_track_t track = DT_TRACK_NONE;
    if (track_arg && (track = dt_track_parse (track_arg, strlen (track_arg))) == DT_TRACK_NONE) {
        fprintf (stderr, "whatif: --track must be marketing or sales\n");
        return 2;
    }
    char *end = NULL;
    long version_number = version_arg? strtol (version_arg, &end, 10): 0;
    if (version_arg && (*end || version_number < 1 || version_number >= VERSIONS_MAX)) {
        fprintf (stderr, "whatif: --policy-version must be a version number (see "
                 "`dualtrack policy history`)\n");
        return 2;
    }
    if (out_path && !s_ends_with (out_path, ".html") && !s_ends_with (out_path, ".json")) {
        fprintf (stderr, "whatif: --out must end in .html or .json\n");
        return 2;
    }
    if (top < 0 || sample < 0) {
        fprintf (stderr, "whatif: --top and --sample take a count\n");
        return 2;
    }
    int rc = 0;
    whatif_t *self = dt_page_alloc (1, sizeof *self);
    self->conn = dt_cli_pg_connect ("whatif", uri, password_file, &rc);
    if (!self->conn) {
        free (self);
        return rc;
    }
    self->as_judged = as_judged;
    self->track = track;
    self->in_force = -1;
    self->from_ms = (int64_t) from_t * 1000;
    self->to_ms = ((int64_t) to_t + 86400) * 1000;
    self->sample_max = sample;
    self->sample = dt_page_alloc ((size_t) sample, sizeof (sample_t));
    self->rng = 0x9E3779B97F4A7C15ULL;
    report_t report = { .from = from, .to = to, .track = track_arg };
    dt_policy_t *live = NULL, *candidate = NULL;
    int live_version = 0;
    rc = 1;
    if (dt_cli_store_stages (self->conn, &self->stages)
    ||  dt_cli_store_defaults (self->conn, &self->defaults)
    ||  !(live = dt_cli_live_policy (self->conn, &self->defaults, &self->stages, &live_version)))
        goto done;
    if (live_version)
        snprintf (report.live, sizeof report.live, "policy version %d", live_version);
    else
        snprintf (report.live, sizeof report.live, "the tone-book tables (no policy version)");
    char *text = NULL;
    size_t len = 0;
    if (policy_path) {
        text = dt_cli_read_file ("whatif", policy_path, &len);
        candidate = text? dt_cli_policy_parse (policy_path, text, len, &self->defaults,
                                               &self->stages): NULL;
        snprintf (report.candidate, sizeof report.candidate, "the file %s", policy_path);
    }
    else
    if (version_arg) {
        text = dt_cli_version_text (self->conn, version_arg);
        len = text? strlen (text): 0;
        char name [32];
        snprintf (name, sizeof name, "version %ld", version_number);
        candidate = text? dt_cli_policy_parse (name, text, len, &self->defaults, &self->stages):
                    NULL;
        snprintf (report.candidate, sizeof report.candidate, "policy version %ld",
                  version_number);
    }
    else {
        //  Every stored version, so the horizon covers the longest window
        PGresult *r = dt_cli_pg_query ("whatif", self->conn,
            "SELECT number FROM policy_versions ORDER BY number", 0, NULL);
        for (int i = 0; r && i < PQntuples (r); i++)
            s_version (self, atoi (PQgetvalue (r, i, 0)));
        PQclear (r);
        s_version (self, 0);
        candidate = dt_policy_new (&self->defaults);    //  replaced per touchpoint
        snprintf (report.candidate, sizeof report.candidate,
                  "the version each touchpoint was judged under");
    }
    free (text);
    if (!candidate)
        goto done;
    report.diff_lines = as_judged? 0: dt_policy_diff (live, candidate, &report.diff);
    if (!(self->engine [0] = s_engine (self, live, report.live))
    ||  !(self->engine [1] = s_engine (self, candidate, report.candidate)))
        goto done;
    if (findings_path && !(self->findings_out = fopen (findings_path, "w"))) {
        fprintf (stderr, "whatif: cannot write %s\n", findings_path);
        goto done;
    }
    rc = s_run (self, &report, out_path, top);
    if (self->findings_out && fclose (self->findings_out)) {
        fprintf (stderr, "whatif: cannot write %s\n", findings_path);
        rc = 1;
    }
    self->findings_out = NULL;
done:
    if (self->findings_out)
        fclose (self->findings_out);
    dt_policy_destroy (&live);
    dt_policy_destroy (&candidate);
    for (int v = 0; v < VERSIONS_MAX; v++)
        dt_policy_destroy (&self->versions [v]);
    for (int e = 0; e < 2; e++)
        dt_engine_destroy (&self->engine [e]);
    dt_tzdb_destroy (&self->zones);
    for (size_t i = 0; i < self->account_slots; i++)
        free (self->accounts [i].name);
    free (self->accounts);
    for (int i = 0; i < self->sample_count; i++)
        s_sample_free (&self->sample [i]);
    free (self->sample);
    free (report.top);
    dt_buf_free (&report.diff);
    PQfinish (self->conn);
    free (self);
    return rc;
}
