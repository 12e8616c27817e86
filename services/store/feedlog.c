/*  feedlog.c - see feedlog.h
*/
#include "store/feedlog.h"
#include "store/pgconn.h"
#include "store/writeset.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _dt_feedlog_t {
    char *uri;
    char *password;
    PGconn *conn;
    dt_stageset_t stages;
    dt_finding_t findings [DT_FINDINGS_PER_EVENT];
};

dt_feedlog_t *
dt_feedlog_new (const char *uri, const char *password, const dt_stageset_t *stages)
{
    dt_feedlog_t *self = calloc (1, sizeof *self);
    self->uri = strdup (uri);
    self->password = password? strdup (password): NULL;
    self->stages = *stages;
    return self;
}

void
dt_feedlog_destroy (dt_feedlog_t **self_p)
{
    if (*self_p) {
        dt_feedlog_t *self = *self_p;
        if (self->conn)
            PQfinish (self->conn);
        free (self->uri);
        free (self->password);
        free (self);
        *self_p = NULL;
    }
}

int
dt_feedlog_connect (dt_feedlog_t *self, char *err, size_t errlen)
{
    if (self->conn)
        PQfinish (self->conn);
    self->conn = dt_pg_connect (self->uri, self->password, "dualtrack-coordinator-feed",
                                err, errlen);
    return PQstatus (self->conn) == CONNECTION_OK? 0: -1;
}

bool
dt_feedlog_connected (dt_feedlog_t *self)
{
    return self->conn && PQstatus (self->conn) == CONNECTION_OK;
}

int64_t
dt_feedlog_last (dt_feedlog_t *self, char *err, size_t errlen)
{
    PGresult *result = PQexec (self->conn, "SELECT coalesce (max (seq), 0) FROM touchpoint_ids");
    int64_t last = -1;
    if (PQresultStatus (result) == PGRES_TUPLES_OK)
        last = strtoll (PQgetvalue (result, 0, 0), NULL, 10);
    else
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
    PQclear (result);
    return last;
}

static dt_str_t
s_value (const PGresult *result, int row, int column)
{
    return (dt_str_t) { PQgetvalue (result, row, column),
                        (uint32_t) PQgetlength (result, row, column) };
}

static dt_verdict_t
s_verdict_parse (const char *name)
{
    for (int v = DT_VERDICT_OK; v <= DT_VERDICT_VIOLATION; v++)
        if (strcmp (name, dt_verdict_name ((dt_verdict_t) v)) == 0)
            return (dt_verdict_t) v;
    return DT_VERDICT_OK;
}

//  The findings of the verdict seq, from rows of (seq, finding_no, rule,
//  severity, message, related) in order, starting at *row
static uint32_t
s_findings_of (dt_feedlog_t *self, uint64_t seq, const PGresult *result, int *row)
{
    int rows = PQntuples (result);
    while (*row < rows && strtoull (PQgetvalue (result, *row, 0), NULL, 10) < seq)
        (*row)++;
    uint32_t count = 0;
    int number = -1;
    for (; *row < rows && strtoull (PQgetvalue (result, *row, 0), NULL, 10) == seq; (*row)++) {
        int this_number = atoi (PQgetvalue (result, *row, 1));
        if (this_number != number) {
            if (count == DT_FINDINGS_PER_EVENT)
                continue;
            number = this_number;
            dt_finding_t *f = &self->findings [count++];
            memset (f, 0, sizeof *f);
            f->rule = dt_rule_parse (PQgetvalue (result, *row, 2));
            dt_severity_parse (PQgetvalue (result, *row, 3), &f->severity);
            snprintf (f->message, sizeof f->message, "%s", PQgetvalue (result, *row, 4));
        }
        dt_finding_t *f = &self->findings [count - 1];
        if (!PQgetisnull (result, *row, 5) && f->related_count < DT_RELATED_MAX)
            snprintf (f->related [f->related_count++], DT_ID_MAX + 1, "%s",
                      PQgetvalue (result, *row, 5));
    }
    return count;
}

int64_t
dt_feedlog_read (dt_feedlog_t *self, uint64_t after, uint64_t upto,
                 const char *verdict_prefix, uint32_t limit,
                 dt_feedlog_fn *fn, void *ctx, char *err, size_t errlen)
{
    char after_text [24], upto_text [24], limit_text [16];
    snprintf (after_text, sizeof after_text, "%llu", (unsigned long long) after);
    snprintf (upto_text, sizeof upto_text, "%llu", (unsigned long long) upto);
    snprintf (limit_text, sizeof limit_text, "%u", limit);
    const char *params [4] = { after_text, upto_text, limit_text, verdict_prefix };
    //  seq -> (id, occurred_at) through touchpoint_ids' unique index, then
    //  the touchpoint in its partition
    PGresult *verdicts = PQexecParams (self->conn,
        "SELECT i.seq, t.id, t.track, t.account, t.contact, t.stage, t.lead,"
        "       (extract (epoch FROM t.occurred_at) * 1000)::bigint, t.verdict,"
        "       coalesce (t.account_key, t.account), coalesce (t.contact_key, t.contact)"
        " FROM touchpoint_ids i"
        " JOIN touchpoints t ON t.id = i.id AND t.occurred_at = i.occurred_at"
        " WHERE i.seq > $1::bigint AND i.seq <= $2::bigint"
        "   AND ($4::text IS NULL OR starts_with (t.track || '.' || t.verdict, $4::text))"
        " ORDER BY i.seq LIMIT $3::integer",
        4, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (verdicts) != PGRES_TUPLES_OK) {
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
        PQclear (verdicts);
        return -1;
    }
    int rows = PQntuples (verdicts);
    if (rows == 0) {
        PQclear (verdicts);
        return 0;
    }
    //  The findings of the same range, one row per related id
    snprintf (upto_text, sizeof upto_text, "%s", PQgetvalue (verdicts, rows - 1, 0));
    PGresult *findings = PQexecParams (self->conn,
        "SELECT i.seq, f.finding_no, f.rule, f.severity, f.message, r.rel"
        " FROM touchpoint_ids i JOIN findings f ON f.touchpoint_id = i.id"
        " LEFT JOIN LATERAL unnest (f.related) WITH ORDINALITY AS r (rel, ord) ON true"
        " WHERE i.seq > $1::bigint AND i.seq <= $2::bigint"
        " ORDER BY i.seq, f.finding_no, r.ord",
        2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (findings) != PGRES_TUPLES_OK) {
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
        PQclear (findings);
        PQclear (verdicts);
        return -1;
    }
    int finding_row = 0;
    for (int row = 0; row < rows; row++) {
        dt_feed_verdict_t v;
        memset (&v, 0, sizeof v);
        v.seq = strtoull (PQgetvalue (verdicts, row, 0), NULL, 10);
        dt_event_t *ev = &v.event;
        ev->id = s_value (verdicts, row, 1);
        ev->track = dt_track_parse (PQgetvalue (verdicts, row, 2), (size_t) PQgetlength (verdicts, row, 2));
        ev->account = s_value (verdicts, row, 3);
        if (!PQgetisnull (verdicts, row, 4)) {
            ev->contact = s_value (verdicts, row, 4);
            ev->present |= DT_HAS_CONTACT;
        }
        ev->stage = s_value (verdicts, row, 5);
        ev->stage_index = dt_stageset_find (&self->stages, ev->stage.ptr, ev->stage.len);
        ev->lead = dt_track_parse (PQgetvalue (verdicts, row, 6), (size_t) PQgetlength (verdicts, row, 6));
        ev->occurred_at = strtoll (PQgetvalue (verdicts, row, 7), NULL, 10);
        v.verdict = s_verdict_parse (PQgetvalue (verdicts, row, 8));
        v.account_key = s_value (verdicts, row, 9);
        v.contact_key = s_value (verdicts, row, 10);
        v.finding_count = s_findings_of (self, v.seq, findings, &finding_row);
        v.findings = self->findings;
        fn (ctx, &v);
    }
    PQclear (findings);
    PQclear (verdicts);
    return rows;
}

static int
s_exec (dt_feedlog_t *self, const char *sql, ExecStatusType want, char *err, size_t errlen)
{
    PGresult *result = PQexec (self->conn, sql);
    int rc = PQresultStatus (result) == want? 0: -1;
    if (rc)
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
    PQclear (result);
    return rc;
}

int64_t
dt_feedlog_close_gap (dt_feedlog_t *self, uint64_t window, char *err, size_t errlen)
{
    int64_t last = dt_feedlog_last (self, err, errlen);
    if (last < 0)
        return -1;
    uint64_t from = (uint64_t) last > window? (uint64_t) last - window: 0;
    char from_text [24];
    snprintf (from_text, sizeof from_text, "%llu", (unsigned long long) from);
    const char *params [1] = { from_text };
    //  The seq before the first hole: the window's first row follows from
    PGresult *result = PQexecParams (self->conn,
        "SELECT prev FROM (SELECT seq, coalesce (lag (seq) OVER (ORDER BY seq), $1::bigint) AS prev"
        "                  FROM touchpoint_ids WHERE seq > $1::bigint) tail"
        " WHERE seq - prev > 1 ORDER BY seq LIMIT 1", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (result) != PGRES_TUPLES_OK) {
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
        PQclear (result);
        return -1;
    }
    if (PQntuples (result) == 0) {
        PQclear (result);
        return 0;
    }
    char sql [1024];
    snprintf (sql, sizeof sql,
        "BEGIN;"
        " CREATE TEMP TABLE feed_renumber ON COMMIT DROP AS"
        "  SELECT id, occurred_at, %s::bigint + row_number () OVER (ORDER BY seq) AS seq"
        "  FROM touchpoint_ids WHERE seq > %s::bigint;"
        //  Through negative values: the unique index checks every row
        " UPDATE touchpoint_ids t SET seq = - r.seq FROM feed_renumber r WHERE t.id = r.id;"
        " UPDATE touchpoint_ids t SET seq = r.seq FROM feed_renumber r WHERE t.id = r.id;"
        " UPDATE touchpoints t SET seq = r.seq FROM feed_renumber r"
        "  WHERE t.id = r.id AND t.occurred_at = r.occurred_at",
        PQgetvalue (result, 0, 0), PQgetvalue (result, 0, 0));
    PQclear (result);
    result = PQexec (self->conn, sql);
    int64_t moved = -1;
    if (PQresultStatus (result) == PGRES_COMMAND_OK)
        moved = strtoll (PQcmdTuples (result), NULL, 10);
    else
        dt_pg_first_line (err, errlen, PQerrorMessage (self->conn));
    PQclear (result);
    if (moved < 0 || s_exec (self, "COMMIT", PGRES_COMMAND_OK, err, errlen)) {
        s_exec (self, "ROLLBACK", PGRES_COMMAND_OK, err, 0);
        return -1;
    }
    return moved;
}
