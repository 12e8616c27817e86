/*  replay.c - see replay.h
*/
#include "store/replay.h"
#include "store/pgconn.h"
#include "store/tprow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  The columns after DT_TPROW_COLUMNS
enum { COL_BODY = DT_TPROW_COUNT, COL_POLICY, COL_VERDICT, COLUMNS };

//  Split one COPY text row into its columns, unescaping each in place and
//  ending it with a NUL. 0, or -1 if the row does not have COLUMNS columns.
static int
s_split (char *line, int len, dt_tpcol_t *cols)
{
    char *p = line, *end = line + len;
    if (end > line && end [-1] == '\n')
        end--;
    for (int c = 0; c < COLUMNS; c++) {
        if (p > end)
            return -1;
        char *out = p, *start = p;
        cols [c].ptr = start;
        cols [c].null = false;
        if (end - p >= 2 && p [0] == '\\' && p [1] == 'N' && (p + 2 == end || p [2] == '\t')) {
            cols [c].null = true;
            p += 2;
        }
        else
        while (p < end && *p != '\t') {
            if (*p != '\\' || p + 1 >= end) {
                *out++ = *p++;
                continue;
            }
            p++;
            char e = *p++;
            switch (e) {
                case 'b': *out++ = '\b'; break;
                case 'f': *out++ = '\f'; break;
                case 'n': *out++ = '\n'; break;
                case 'r': *out++ = '\r'; break;
                case 't': *out++ = '\t'; break;
                case 'v': *out++ = '\v'; break;
                default:
                    if (e >= '0' && e <= '7') {
                        int value = e - '0';
                        for (int i = 0; i < 2 && p < end && *p >= '0' && *p <= '7'; i++)
                            value = value * 8 + (*p++ - '0');
                        *out++ = (char) value;
                    }
                    else
                        *out++ = e;     //  \\ and any other escaped character
            }
        }
        //  The column must end where the row does, or at a tab
        bool last = c == COLUMNS - 1;
        if (last? p != end: p >= end || *p != '\t')
            return -1;
        cols [c].len = cols [c].null? 0: (uint32_t) (out - start);
        if (!cols [c].null)
            *out = 0;       //  over the tab, or the newline, or an escape's room
        p++;
    }
    return 0;
}

int64_t
dt_replay_range (PGconn *conn, const dt_stageset_t *stages, int64_t from_ms, int64_t to_ms,
                 dt_replay_fn *fn, void *ctx, char *err, size_t errlen)
{
    //  COPY takes no parameters: the values are numbers
    char sql [1024];
    snprintf (sql, sizeof sql,
        "COPY (SELECT " DT_TPROW_COLUMNS ", body, policy_version, verdict FROM touchpoints"
        " WHERE occurred_at >= timestamptz 'epoch' + %lld * interval '1 millisecond'"
        "   AND occurred_at < timestamptz 'epoch' + %lld * interval '1 millisecond'"
        " ORDER BY occurred_at, seq NULLS LAST, id) TO STDOUT",
        (long long) from_ms, (long long) to_ms);
    PGresult *result = PQexec (conn, sql);
    if (PQresultStatus (result) != PGRES_COPY_OUT) {
        dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
        PQclear (result);
        return -1;
    }
    PQclear (result);
    dt_tprow_t *decoder = dt_tprow_new (stages);
    int64_t count = 0;
    int rc = 0;
    char *line;
    int len;
    while ((len = PQgetCopyData (conn, &line, 0)) > 0) {
        dt_tpcol_t cols [COLUMNS];
        dt_event_t ev;
        if (rc == 0 && s_split (line, len, cols)) {
            snprintf (err, errlen, "a row of the store could not be read (%d bytes)", len);
            rc = -1;    //  read on: the connection must see the COPY end
        }
        else
        if (rc == 0 && dt_tprow_decode (decoder, cols, &ev) == 0) {
            if (!cols [COL_BODY].null) {
                ev.body.ptr = cols [COL_BODY].ptr;
                ev.body.len = cols [COL_BODY].len;
                ev.present |= DT_HAS_BODY;
            }
            dt_replay_row_t row = { atoi (cols [COL_POLICY].ptr), DT_VERDICT_OK };
            if (strcmp (cols [COL_VERDICT].ptr, "violation") == 0)
                row.verdict = DT_VERDICT_VIOLATION;
            else
            if (strcmp (cols [COL_VERDICT].ptr, "warn") == 0)
                row.verdict = DT_VERDICT_WARN;
            fn (ctx, &ev, &row);
            count++;
        }
        PQfreemem (line);
    }
    if (len == -2 && rc == 0) {
        dt_pg_first_line (err, errlen, PQerrorMessage (conn));
        rc = -1;
    }
    while ((result = PQgetResult (conn))) {
        if (PQresultStatus (result) != PGRES_COMMAND_OK && rc == 0) {
            dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    dt_tprow_destroy (&decoder);
    return rc? -1: count;
}
