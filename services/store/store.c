/*  store.c - see store.h
*/
#include "store/store.h"
#include "store/copyrow.h"
#include "base/log.h"
#include "store/migrations.h"

#include <czmq.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _dt_store_t {
    char *uri;
    char *password;
    PGconn *conn;
    dt_buf_t rows;          //  COPY data, reused between writesets
    dt_buf_t scratch;
    dt_buf_t finding_rows;  //  COPY data of the findings, beside rows
    dt_buf_t id_rows;       //  COPY data of touchpoint_ids (id, occurred_at)
    char sqlstate [6];      //  of the last failed COPY
    dt_buf_t seq_rows;      //  COPY data of stage_seqs (id, seq)
    dt_store_sequencer_t sequencer;
    uint64_t seq_next;      //  without a sequencer: the next seq
};

//  Any 64-bit number the project owns, to serialise migrations between
//  coordinators starting at once
#define MIGRATION_LOCK 0x6475616c74726b01LL

//  s_write_transaction's answer when rows numbered on a guessed first seq
//  must be written again (store.h, the sequencer)
#define S_GUESS_MISSED (-2)

dt_store_t *
dt_store_new (const char *uri, const char *password)
{
    dt_store_t *self = calloc (1, sizeof *self);
    self->uri = strdup (uri);
    self->password = password? strdup (password): NULL;
    return self;
}

void
dt_store_destroy (dt_store_t **self_p)
{
    if (*self_p) {
        dt_store_t *self = *self_p;
        if (self->conn)
            PQfinish (self->conn);
        dt_buf_free (&self->rows);
        dt_buf_free (&self->scratch);
        dt_buf_free (&self->finding_rows);
        dt_buf_free (&self->id_rows);
        dt_buf_free (&self->seq_rows);
        free (self->uri);
        free (self->password);
        free (self);
        *self_p = NULL;
    }
}

void
dt_store_set_sequencer (dt_store_t *self, const dt_store_sequencer_t *sequencer)
{
    self->sequencer = *sequencer;
}

bool
dt_store_connected (dt_store_t *self)
{
    return self->conn && PQstatus (self->conn) == CONNECTION_OK;
}

int
dt_store_backend_pid (dt_store_t *self)
{
    return self->conn? PQbackendPID (self->conn): 0;
}

//  Keep the SQLSTATE of a failed command (23505: a unique violation;
//  40P01, 40001: a concurrent transaction won, try again)
static void
s_note_sqlstate (dt_store_t *self, const PGresult *result)
{
    const char *state = result? PQresultErrorField (result, PG_DIAG_SQLSTATE): NULL;
    snprintf (self->sqlstate, sizeof self->sqlstate, "%s", state? state: "");
}

//  Run a command; on failure fill err with the server's message
static int
s_exec_ok (dt_store_t *self, const char *sql, ExecStatusType want, char *err, size_t errlen)
{
    PGresult *result = PQexec (self->conn, sql);
    int rc = 0;
    if (PQresultStatus (result) != want) {
        s_note_sqlstate (self, result);
        snprintf (err, errlen, "%s", PQerrorMessage (self->conn));
        char *newline = strchr (err, '\n');
        if (newline)
            *newline = 0;
        rc = -1;
    }
    PQclear (result);
    return rc;
}

static int
s_migrate (dt_store_t *self, char *err, size_t errlen)
{
    char sql [256];
    snprintf (sql, sizeof sql, "SELECT pg_advisory_lock (%lld)", MIGRATION_LOCK);
    if (s_exec_ok (self, sql, PGRES_TUPLES_OK, err, errlen)
    ||  s_exec_ok (self, "SET client_min_messages = warning", PGRES_COMMAND_OK, err, errlen)
    //  A DO block, so a writer role without CREATE on the schema passes
    //  once the table exists
    ||  s_exec_ok (self, "DO $$ BEGIN IF to_regclass ('schema_migrations') IS NULL THEN"
                       " CREATE TABLE schema_migrations ("
                       " version integer PRIMARY KEY, name text NOT NULL,"
                       " applied_at timestamptz NOT NULL DEFAULT now()); END IF; END $$",
                 PGRES_COMMAND_OK, err, errlen))
        return -1;
    PGresult *result = PQexec (self->conn, "SELECT coalesce (max (version), 0) FROM schema_migrations");
    if (PQresultStatus (result) != PGRES_TUPLES_OK) {
        snprintf (err, errlen, "%s", PQerrorMessage (self->conn));
        PQclear (result);
        return -1;
    }
    int current = atoi (PQgetvalue (result, 0, 0));
    PQclear (result);

    int rc = 0;
    for (int i = 0; i < dt_migration_count && rc == 0; i++) {
        const dt_migration_t *m = &dt_migrations [i];
        if (m->version <= current)
            continue;
        char record [256];
        snprintf (record, sizeof record,
                  "INSERT INTO schema_migrations (version, name) VALUES (%d, '%s')",
                  m->version, m->name);
        if (s_exec_ok (self, "BEGIN", PGRES_COMMAND_OK, err, errlen)
        ||  s_exec_ok (self, m->sql, PGRES_COMMAND_OK, err, errlen)
        ||  s_exec_ok (self, record, PGRES_COMMAND_OK, err, errlen)
        ||  s_exec_ok (self, "COMMIT", PGRES_COMMAND_OK, err, errlen)) {
            char reason [512];
            snprintf (reason, sizeof reason, "%s", err);
            snprintf (err, errlen, "migration %s failed: %s", m->name, reason);
            PGresult *undo = PQexec (self->conn, "ROLLBACK");
            PQclear (undo);
            rc = -1;
        }
        else
            dt_info ("applied migration", "name=%s", m->name);
    }
    snprintf (sql, sizeof sql, "SELECT pg_advisory_unlock (%lld)", MIGRATION_LOCK);
    char ignore [256];
    s_exec_ok (self, sql, PGRES_TUPLES_OK, ignore, sizeof ignore);
    return rc;
}

int
dt_store_connect (dt_store_t *self, char *err, size_t errlen)
{
    if (self->conn)
        PQfinish (self->conn);
    //  The URI is expanded as a connection string; a password from a file
    //  (a compose secret) is added beside it, never written into the URI
    const char *keys [] = { "dbname", "password", "application_name", NULL };
    const char *values [] = { self->uri, self->password, "dualtrack-coordinator", NULL };
    if (!self->password) {
        keys [1] = "application_name";
        values [1] = "dualtrack-coordinator";
        keys [2] = NULL;
    }
    self->conn = PQconnectdbParams (keys, values, 1);
    if (PQstatus (self->conn) != CONNECTION_OK) {
        snprintf (err, errlen, "%s", PQerrorMessage (self->conn));
        char *newline = strchr (err, '\n');
        if (newline)
            *newline = 0;
        return -1;
    }
    if (s_migrate (self, err, errlen))
        return -1;
    //  The monthly partitions of touchpoints, made ahead (rows of a month
    //  without one land in touchpoints_default)
    if (s_exec_ok (self, "SELECT ensure_touchpoint_partitions (now (), 3)",
                 PGRES_TUPLES_OK, err, errlen))
        return -1;
    //  Staging tables live in the session: COPY lands there, and one
    //  INSERT ... SELECT moves the rows the store does not have yet
    if (s_exec_ok (self,
            "CREATE TEMP TABLE stage_touchpoints"
            " (LIKE touchpoints INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            PGRES_COMMAND_OK, err, errlen)
    ||  s_exec_ok (self,
            "CREATE TEMP TABLE stage_rejects"
            " (LIKE rejects INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            PGRES_COMMAND_OK, err, errlen)
    ||  s_exec_ok (self,
            "CREATE TEMP TABLE stage_findings"
            " (LIKE findings INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
            PGRES_COMMAND_OK, err, errlen)
    ||  s_exec_ok (self,
            "CREATE TEMP TABLE stage_seqs (id text, seq bigint) ON COMMIT DELETE ROWS",
            PGRES_COMMAND_OK, err, errlen))
        return -1;
    if (!self->sequencer.first) {
        PGresult *result = PQexec (self->conn, "SELECT coalesce (max (seq), 0) + 1 FROM touchpoint_ids");
        if (PQresultStatus (result) != PGRES_TUPLES_OK) {
            snprintf (err, errlen, "%s", PQerrorMessage (self->conn));
            PQclear (result);
            return -1;
        }
        self->seq_next = strtoull (PQgetvalue (result, 0, 0), NULL, 10);
        PQclear (result);
    }
    return 0;
}

//  COPY a buffer of rows. On failure err has the message and
//  self->sqlstate the SQLSTATE (23505: a unique violation)
static int
s_copy_buffer (dt_store_t *self, const char *sql, const dt_buf_t *rows, char *err, size_t errlen)
{
    self->sqlstate [0] = 0;
    if (s_exec_ok (self, sql, PGRES_COPY_IN, err, errlen))
        return -1;
    //  libpq takes the whole buffer; it flushes as the socket allows
    if (PQputCopyData (self->conn, rows->data, (int) rows->size) != 1
    ||  PQputCopyEnd (self->conn, NULL) != 1) {
        snprintf (err, errlen, "COPY: %s", PQerrorMessage (self->conn));
        return -1;
    }
    PGresult *result;
    int rc = 0;
    while ((result = PQgetResult (self->conn))) {
        if (PQresultStatus (result) != PGRES_COMMAND_OK) {
            snprintf (err, errlen, "COPY: %s", PQresultErrorMessage (result));
            s_note_sqlstate (self, result);
            rc = -1;
        }
        PQclear (result);
    }
    return rc;
}

//  One query of several statements, COPYs among them, each COPY's rows
//  sent when the server asks for them: a round trip per COPY instead of
//  two, and none for the BEGIN, SAVEPOINT or COMMIT riding along. An error
//  ends the query there (the server skips the rest of it).
static void s_tell_used (dt_store_t *self, dt_writeset_t *ws, uint64_t count);

//  copied (if not NULL) gets its turn once every COPY succeeded, before
//  what follows them (the COMMIT) is done
static int
s_copy_chain (dt_store_t *self, const char *sql, const dt_buf_t *const *buffers, int count,
            dt_writeset_t *copied, uint64_t copied_count, char *err, size_t errlen)
{
    self->sqlstate [0] = 0;
    if (!PQsendQuery (self->conn, sql)) {
        snprintf (err, errlen, "%s", PQerrorMessage (self->conn));
        return -1;
    }
    int sent = 0, rc = 0;
    PGresult *result;
    while ((result = PQgetResult (self->conn))) {
        ExecStatusType status = PQresultStatus (result);
        if (status != PGRES_COPY_IN && status != PGRES_COMMAND_OK && rc == 0) {
            snprintf (err, errlen, "COPY: %s", PQresultErrorMessage (result));
            s_note_sqlstate (self, result);
            rc = -1;
        }
        PQclear (result);
        if (status != PGRES_COPY_IN) {
            if (copied && sent == count && rc == 0 && status == PGRES_COMMAND_OK) {
                s_tell_used (self, copied, copied_count);
                copied = NULL;
            }
            continue;
        }
        const dt_buf_t *rows = sent < count? buffers [sent]: NULL;
        sent++;
        if (!rows) {
            PQputCopyEnd (self->conn, "more COPYs than buffers");
            continue;
        }
        if (PQputCopyData (self->conn, rows->data, (int) rows->size) != 1
        ||  PQputCopyEnd (self->conn, NULL) != 1) {
            snprintf (err, errlen, "COPY: %s", PQerrorMessage (self->conn));
            return -1;
        }
    }
    if (rc == 0 && sent != count) {
        snprintf (err, errlen, "COPY: %d statements for %d buffers", sent, count);
        rc = -1;
    }
    return rc;
}

static int
s_copy_rows (dt_store_t *self, const char *sql, char *err, size_t errlen)
{
    return s_copy_buffer (self, sql, &self->rows, err, errlen);
}

//  Mark the writeset's events that the INSERT reported as new
static void
s_mark_new (dt_writeset_t *ws, uint32_t from, uint32_t count, PGresult *result)
{
    zhashx_t *new_ids = zhashx_new ();
    for (int row = 0; row < PQntuples (result); row++)
        zhashx_insert (new_ids, PQgetvalue (result, row, 0), ws);
    for (uint32_t i = from; i < from + count; i++) {
        char id [DT_ID_MAX + 1];
        snprintf (id, sizeof id, "%.*s", (int) ws->events [i].id.len, ws->events [i].id.ptr);
        if (zhashx_lookup (new_ids, id)) {
            ws->judgements [i].is_new = true;
            //  An id twice in one writeset is new once
            zhashx_delete (new_ids, id);
        }
    }
    zhashx_destroy (&new_ids);
}

//  The writeset's events say how many seqs they took: the next writeset's
//  turn (once; a retry numbers the same events the same way)
static void
s_tell_used (dt_store_t *self, dt_writeset_t *ws, uint64_t count)
{
    if (ws->seq_told)
        return;
    ws->seq_told = true;
    //  Events committed alone before (s_write_isolating) have theirs
    count += ws->seq_used;
    if (self->sequencer.used)
        self->sequencer.used (self->sequencer.ctx, ws, count);
    else
        self->seq_next = ws->seq_first + count;
}

//  One transaction: events [from, from + count) of the writeset with their
//  verdicts and findings, and (if with_rejects) the writeset's rejects plus
//  extra ones. *stored gets the number of events new to the store. The
//  new events take the writeset's next seqs, in order; the whole writeset
//  in one transaction says how many once its rows are in.
static int
s_write_transaction (dt_store_t *self, dt_writeset_t *ws, uint32_t from, uint32_t count,
                   const dt_reject_t *rejects, uint32_t reject_count, uint32_t *stored,
                   char *err, size_t errlen)
{
    *stored = 0;
    if (count == 0 && s_exec_ok (self, "BEGIN", PGRES_COMMAND_OK, err, errlen))
        return -1;
    bool whole = from == 0 && count == ws->event_count;
    uint64_t next = ws->seq_first + ws->seq_used;
    if (count) {
        //  The writeset's rows, made as its events were judged (an id twice
        //  in one writeset, from a batch resent after a reconnect, has a row
        //  for its first copy only); one event alone is formatted here.
        //  Every row is numbered as if new: the usual case.
        const dt_buf_t *rows = &ws->touchpoint_rows, *finding_rows = &ws->finding_rows;
        uint32_t distinct = ws->distinct;
        if (!whole) {
            dt_buf_reset (&self->rows);
            dt_buf_reset (&self->finding_rows);
            distinct = 0;
            for (uint32_t i = from; i < from + count; i++) {
                const dt_judgement_t *j = &ws->judgements [i];
                if (j->repeat)
                    continue;
                dt_buf_put_uint (&self->rows, next + distinct);
                dt_buf_putc (&self->rows, '\t');
                distinct++;
                dt_str_t account_key = dt_writeset_account_key (ws, i);
                dt_copy_judged_touchpoint (&self->rows, &self->scratch, &ws->events [i],
                                           dt_verdict_name (j->verdict), account_key,
                                           dt_writeset_contact_key (ws, i), j->policy_version,
                                           DT_JUDGED_RESERVATION (j, &ws->events [i]));
                for (uint32_t k = 0; k < j->finding_count; k++) {
                    const dt_finding_t *f = &ws->findings [j->first_finding + k];
                    dt_copy_finding (&self->finding_rows, &ws->events [i], (int) k,
                                     dt_rule_id (f->rule), dt_severity_name (f->severity),
                                     f->message, (const char (*) [DT_ID_MAX + 1]) f->related,
                                     f->related_count, account_key, j->policy_version);
                }
            }
            rows = &self->rows;
            finding_rows = &self->finding_rows;
        }
        else
            for (uint32_t k = 0; k < distinct; k++)
                dt_writeset_put_seq (ws->touchpoint_rows.data + ws->seq_at [k], next + k);
        //  The ids first: touchpoint_ids keeps the publisher's id unique
        //  across the partitions of touchpoints (and the seq, unique)
        dt_buf_reset (&self->id_rows);
        uint32_t rank = 0;
        for (uint32_t i = from; i < from + count; i++) {
            if (!ws->judgements [i].repeat) {
                dt_buf_put_uint (&self->id_rows, next + rank++);
                dt_buf_putc (&self->id_rows, '\t');
                dt_copy_touchpoint_id (&self->id_rows, &ws->events [i]);
            }
        }
        //  The usual case: every event is new, and COPY straight into the
        //  tables is the cheapest write PostgreSQL has. A resend makes the
        //  COPY of the ids fail on their primary key (23505): then, and only
        //  then, the rows go through staging tables and ON CONFLICT DO NOTHING.
        //  All of it one query (s_copy_chain): a light load commits many small
        //  writesets, and round trips were most of their time. With no
        //  rejects to add, the COMMIT rides along too.
        const dt_buf_t *buffers [3] = { &self->id_rows, rows, finding_rows };
        bool with_findings = finding_rows->size > 0;
        bool commit_here = reject_count == 0 && !ws->seq_guess;
        char sql [1024];
        snprintf (sql, sizeof sql, "BEGIN; SAVEPOINT direct;"
                  " COPY touchpoint_ids (seq, " DT_TOUCHPOINT_ID_COLUMNS ") FROM STDIN;"
                  " COPY touchpoints (" DT_WRITESET_ROW_COLUMNS ") FROM STDIN;%s%s",
                  with_findings? " COPY findings (" DT_FINDING_COLUMNS ") FROM STDIN;": "",
                  commit_here? " COMMIT": "");
        if (s_copy_chain (self, sql, buffers, with_findings? 3: 2, whole? ws: NULL, distinct,
                          err, errlen) == 0) {
            rank = 0;
            for (uint32_t i = from; i < from + count; i++) {
                dt_judgement_t *j = &ws->judgements [i];
                j->is_new = !j->repeat;
                j->seq = j->is_new? next + rank++: 0;
            }
            *stored = distinct;
            if (commit_here) {
                ws->seq_used += distinct;
                return 0;
            }
        }
        else {
            bool resend = streq (self->sqlstate, "23505");
            if (!resend || s_exec_ok (self, "ROLLBACK TO SAVEPOINT direct", PGRES_COMMAND_OK,
                                    err, errlen))
                return -1;
            if (s_copy_buffer (self, "COPY stage_touchpoints (" DT_WRITESET_ROW_COLUMNS ") FROM STDIN",
                             rows, err, errlen)
            ||  (finding_rows->size
              && s_copy_buffer (self, "COPY stage_findings (" DT_FINDING_COLUMNS ") FROM STDIN",
                              finding_rows, err, errlen)))
                return -1;
            //  The ids the store does not have yet decide, and only they are
            //  numbered; the touchpoints and findings go in for those only:
            //  a resent event keeps the judgement and seq it got the first time
            PGresult *result = PQexec (self->conn,
                "INSERT INTO touchpoint_ids (id, occurred_at)"
                " SELECT id, occurred_at FROM stage_touchpoints"
                " ON CONFLICT (id) DO NOTHING RETURNING id");
            if (PQresultStatus (result) != PGRES_TUPLES_OK) {
                s_note_sqlstate (self, result);
                snprintf (err, errlen, "insert: %s", PQresultErrorMessage (result));
                PQclear (result);
                return -1;
            }
            *stored = (uint32_t) PQntuples (result);
            s_mark_new (ws, from, count, result);
            PQclear (result);
            dt_buf_reset (&self->seq_rows);
            rank = 0;
            for (uint32_t i = from; i < from + count; i++) {
                dt_judgement_t *j = &ws->judgements [i];
                j->seq = j->is_new? next + rank++: 0;
                if (j->is_new) {
                    dt_copy_text (&self->seq_rows, ws->events [i].id.ptr, ws->events [i].id.len);
                    dt_buf_putc (&self->seq_rows, '\t');
                    dt_buf_put_uint (&self->seq_rows, j->seq);
                    dt_buf_putc (&self->seq_rows, '\n');
                }
            }
            if (s_copy_buffer (self, "COPY stage_seqs (id, seq) FROM STDIN", &self->seq_rows,
                             err, errlen)
            ||  s_exec_ok (self,
                    "UPDATE touchpoint_ids t SET seq = s.seq FROM stage_seqs s WHERE t.id = s.id;"
                    " UPDATE stage_touchpoints t SET seq = s.seq FROM stage_seqs s WHERE t.id = s.id;"
                    " INSERT INTO touchpoints SELECT DISTINCT ON (id) * FROM stage_touchpoints"
                    "  WHERE id IN (SELECT id FROM stage_seqs);"
                    " INSERT INTO findings (" DT_FINDING_COLUMNS ")"
                    "  SELECT " DT_FINDING_COLUMNS " FROM stage_findings"
                    "  WHERE touchpoint_id IN (SELECT id FROM stage_seqs)",
                    PGRES_COMMAND_OK, err, errlen))
                return -1;
            if (whole)
                s_tell_used (self, ws, *stored);
        }
        //  Rows numbered on a guess commit only once it is confirmed
        if (ws->seq_guess) {
            if (!self->sequencer.confirm (self->sequencer.ctx, ws)) {
                snprintf (err, errlen, "the guessed seqs did not hold");
                return S_GUESS_MISSED;
            }
            ws->seq_guess = false;
        }
    }
    if (reject_count) {
        dt_buf_reset (&self->rows);
        for (uint32_t i = 0; i < reject_count; i++)
            dt_copy_reject (&self->rows, &rejects [i]);
        if (s_copy_rows (self, "COPY stage_rejects (" DT_REJECT_COLUMNS ") FROM STDIN",
                       err, errlen)
        ||  s_exec_ok (self,
                "INSERT INTO rejects (" DT_REJECT_COLUMNS ")"
                " SELECT " DT_REJECT_COLUMNS " FROM stage_rejects"
                " ON CONFLICT (track, received_at, item_index) DO NOTHING",
                PGRES_COMMAND_OK, err, errlen))
            return -1;
    }
    if (s_exec_ok (self, "COMMIT", PGRES_COMMAND_OK, err, errlen))
        return -1;
    ws->seq_used += *stored;
    return 0;
}

//  The last failure was a deadlock or serialization failure: a concurrent
//  transaction won, and the same write can simply be tried again
static bool
s_lost_to_concurrent (dt_store_t *self)
{
    return streq (self->sqlstate, "40P01") || streq (self->sqlstate, "40001");
}

static void
s_rollback (dt_store_t *self)
{
    //  Leave no transaction open behind a failure; if the COMMIT itself was
    //  cut off its outcome is unknown, and the retry's ON CONFLICT settles it
    if (PQstatus (self->conn) == CONNECTION_OK) {
        PGresult *result = PQexec (self->conn, "ROLLBACK");
        PQclear (result);
    }
}

//  PostgreSQL refused the writeset with the connection intact: some row is
//  unacceptable to it though the codec passed it. Write the events one by
//  one, so a single bad event becomes a reject (store_refused) instead of
//  holding every other event back forever.
static int
s_write_isolating (dt_store_t *self, dt_writeset_t *ws, char *err, size_t errlen)
{
    dt_reject_t *refused = calloc (ws->event_count + ws->reject_count + 1, sizeof (dt_reject_t));
    dt_buf_t *raws = calloc (ws->event_count + 1, sizeof (dt_buf_t));
    char (*messages) [256] = calloc (ws->event_count + 1, 256);
    uint32_t refused_count = 0;
    ws->stored = 0;
    int rc = 0;
    for (uint32_t i = 0; i < ws->event_count && rc == 0; i++) {
        uint32_t stored;
        int written = -1;
        for (int attempt = 1; written && attempt <= 5; attempt++) {
            written = s_write_transaction (self, ws, i, 1, NULL, 0, &stored,
                                         messages [refused_count], 256);
            if (written) {
                s_rollback (self);
                if (!s_lost_to_concurrent (self))
                    break;
            }
        }
        if (written == 0) {
            ws->stored += stored;
            continue;
        }
        ws->judgements [i].seq = 0;
        if (!dt_store_connected (self)) {
            snprintf (err, errlen, "%s", messages [refused_count]);
            rc = -1;
            break;
        }
        const dt_event_t *ev = &ws->events [i];
        dt_warn ("PostgreSQL refused an event: recorded as a reject",
                 "id=%.*s error=\"%s\"", (int) ev->id.len, ev->id.ptr, messages [refused_count]);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &raws [refused_count], dt_buf_msgpack_write);
        dt_event_pack (&pk, ev, DT_FORM_STAMPED);
        dt_reject_t *r = &refused [refused_count];
        r->received_at = ev->received_at;
        r->track = ev->track;
        r->code = dt_str_c ("store_refused");
        r->field = dt_str_c ("");
        r->message = dt_str_c (messages [refused_count]);
        r->event_id = ev->id;
        if (ev->present & DT_HAS_PUBLISHER)
            r->publisher = ev->publisher;
        r->index = -1000000 - (int32_t) i;      //  apart from request indexes
        r->raw = raws [refused_count].data;
        r->raw_size = raws [refused_count].size;
        refused_count++;
    }
    if (rc == 0) {
        //  The next writeset's seqs follow the events stored here
        s_tell_used (self, ws, 0);
        memcpy (refused + refused_count, ws->rejects, ws->reject_count * sizeof (dt_reject_t));
        uint32_t unused;
        rc = s_write_transaction (self, ws, 0, 0, refused, refused_count + ws->reject_count,
                                &unused, err, errlen);
        if (rc)
            s_rollback (self);
    }
    for (uint32_t i = 0; i < refused_count; i++)
        dt_buf_free (&raws [i]);
    free (raws);
    free (messages);
    free (refused);
    return rc;
}

//  The writeset's turn to number its events: kept across retries, asked
//  again after a guess that missed
static int
s_take_turn (dt_store_t *self, dt_writeset_t *ws, char *err, size_t errlen)
{
    if (!ws->event_count || ws->seq_first)
        return 0;
    ws->seq_guess = ws->seq_told = false;
    if (self->sequencer.first)
        ws->seq_first = self->sequencer.first (self->sequencer.ctx, ws, &ws->seq_guess);
    else
        ws->seq_first = self->seq_next;
    if (!ws->seq_first) {
        snprintf (err, errlen, "stopping before the writeset's turn");
        return -1;
    }
    return 0;
}

//  A guess that missed: the rows are rolled back; number them again
static int
s_turn_again (dt_store_t *self, dt_writeset_t *ws, char *err, size_t errlen)
{
    ws->seq_first = 0;
    return s_take_turn (self, ws, err, errlen);
}

int
dt_store_write (dt_store_t *self, dt_writeset_t *ws, char *err, size_t errlen)
{
    if (!dt_store_connected (self)) {
        snprintf (err, errlen, "not connected");
        return -1;
    }
    if (s_take_turn (self, ws, err, errlen))
        return -1;
    //  Two writesets committing at once can hold the same ids (a batch
    //  resent after a reconnect) and wait on each other: PostgreSQL then
    //  cancels one (deadlock), which is simply written again
    for (int attempt = 1; ; attempt++) {
        for (uint32_t i = 0; i < ws->event_count; i++) {
            ws->judgements [i].is_new = false;
            ws->judgements [i].seq = 0;
        }
        int rc = s_write_transaction (self, ws, 0, ws->event_count, ws->rejects,
                                      ws->reject_count, &ws->stored, err, errlen);
        if (rc == 0) {
            ws->duplicates = ws->event_count - ws->stored;
            return 0;
        }
        s_rollback (self);
        if (!dt_store_connected (self))
            return -1;
        if (rc == S_GUESS_MISSED) {
            if (s_turn_again (self, ws, err, errlen))
                return -1;
            attempt--;
            continue;
        }
        if (attempt == 5 || !s_lost_to_concurrent (self))
            break;
        dt_info ("a concurrent writeset won a lock: writing again", "attempt=%d error=\"%s\"",
                 attempt, err);
    }
    dt_warn ("PostgreSQL refused a writeset: writing its events one by one",
             "events=%u error=\"%s\"", ws->event_count, err);
    //  Those commit one at a time: on seqs that are certain
    if (ws->seq_guess) {
        bool kept = self->sequencer.confirm (self->sequencer.ctx, ws);
        ws->seq_guess = false;
        if (!kept && s_turn_again (self, ws, err, errlen))
            return -1;
    }
    if (s_write_isolating (self, ws, err, errlen))
        return -1;
    ws->duplicates = ws->event_count - ws->stored;
    return 0;
}
