/*  suppress.c - `dualtrack suppress`: consent from the command line, the
    rows of table suppressions (migration 014, docs/schema.md) added,
    ended, imported from CSV (kind,id,scope,reason,source,since,until) and
    listed.

    A change runs in one transaction that holds the table against other
    writers. Each row is checked first by the rules' own validation
    (rules/suppression.h: kind, id, scope, reason) and then by the table's
    named constraints (times): a refused row prints the reason naming the
    row (its line, for a file) and nothing is written. A row already
    covered by a stored one (the same buyer and scope, or scope all, from
    no later and until no earlier) is not stored twice. Removing ends a
    suppression (until = now) and keeps the row as the record; one that
    has not begun yet is deleted.
*/
#include "cli/cli.h"
#include "rules/suppression.h"
#include "base/buf.h"
#include "store/aliases.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_HEADER  "kind,id,scope,reason,source,since,until"
#define CSV_FIELDS  7

//  One row of a CSV file or of the command line; NULL: the default
//  (scope promotional, no source, since now, until open)
typedef struct {
    const char *kind, *id, *scope, *reason, *source, *since, *until;
    int line;                           //  in the file, 0 for the command line
} row_t;

typedef struct {
    row_t *rows;
    size_t count, alloc;
    char *text;                         //  the file the rows point into
} rows_t;

static void
s_rows_push (rows_t *self, row_t row)
{
    dt_cli_grow ("suppress", (void **) &self->rows, self->count, &self->alloc, sizeof (row_t));
    self->rows [self->count++] = row;
}

static void
s_rows_free (rows_t *self)
{
    free (self->rows);
    free (self->text);
    memset (self, 0, sizeof *self);
}

static const char *
s_or_null (const char *text)
{
    return text && *text? text: NULL;
}

//  Print why a row is refused; always -1
static int
s_refuse (const row_t *row, const char *why)
{
    if (row->line)
        fprintf (stderr, "suppress: refused, nothing written: line %d: %s\n", row->line, why);
    else
        fprintf (stderr, "suppress: refused, nothing written: %s\n", why);
    return -1;
}

//  Rows of a CSV file with the header below; 0, or -1 after saying which
//  line is wrong
static int
s_read_csv (const char *path, rows_t *rows)
{
    char *cursor, *fields [CSV_FIELDS];
    int line, count;
    rows->text = dt_cli_csv_open ("suppress", path, CSV_HEADER, &cursor, &line);
    if (!rows->text)
        return -1;
    while (true) {
        int at = line + 1;
        count = dt_cli_csv_record (&cursor, fields, CSV_FIELDS, &line);
        if (count == 0)
            break;
        if (count == 1 && fields [0][0] == 0)
            continue;       //  an empty line
        if (count < 0) {
            fprintf (stderr, "suppress: %s line %d: a quoted field is not closed\n", path, at);
            return -1;
        }
        if (count != CSV_FIELDS) {
            fprintf (stderr, "suppress: %s line %d: %d fields, want %d (%s; source, since and "
                     "until may be empty)\n", path, at, count, CSV_FIELDS, CSV_HEADER);
            return -1;
        }
        row_t row = { fields [0], fields [1], s_or_null (fields [2]), fields [3],
                      s_or_null (fields [4]), s_or_null (fields [5]), s_or_null (fields [6]), at };
        s_rows_push (rows, row);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The store

//  Refuse a row with the store's reason (for a constraint, its name says
//  which field: suppressions_until, ...); clears r; always -1
static int
s_refuse_store (const row_t *row, PGresult *r)
{
    char why [512];
    snprintf (why, sizeof why, "%s %s: %s", row->kind, row->id,
              r? PQresultErrorMessage (r): "no answer from the store");
    why [strcspn (why, "\n")] = 0;
    PQclear (r);
    return s_refuse (row, why);
}

//  Store one row unless a stored one covers it (the same buyer, its scope
//  or all, from no later and until no earlier): (true, its number, since)
//  for a new row, (false, the covering row's number, '') otherwise
#define STORE_ROW \
    "WITH covering AS (" \
    "  SELECT suppression_no FROM suppressions" \
    "  WHERE kind = $1 AND id = $2 AND (scope = $3 OR scope = 'all')" \
    "    AND since <= coalesce ($6::timestamptz, now ())" \
    "    AND (until IS NULL OR until >= $7::timestamptz)" \
    "  ORDER BY suppression_no LIMIT 1)," \
    " stored AS (" \
    "  INSERT INTO suppressions (kind, id, scope, reason, source, since, until)" \
    "  SELECT $1, $2, $3, $4::text, $5::text, coalesce ($6::timestamptz, now ())," \
    "         $7::timestamptz" \
    "  WHERE NOT EXISTS (SELECT 1 FROM covering)" \
    "  RETURNING suppression_no, since)" \
    " SELECT true, suppression_no," \
    "        to_char (since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' FROM stored" \
    " UNION ALL SELECT false, suppression_no, '' FROM covering"

//  Rows sent at once: the statements of one chunk are pipelined (a round
//  trip per chunk, not per row); small enough that neither side's socket
//  buffer fills while the other writes
#define CHUNK_ROWS  256

//  One row's answer: counted, and said for add
static int
s_stored (const row_t *row, PGresult *r, long *inserted, bool say)
{
    if (PQresultStatus (r) != PGRES_TUPLES_OK || PQntuples (r) != 1)
        return s_refuse_store (row, r);
    const char *scope = row->scope? row->scope: "promotional";
    bool stored = PQgetvalue (r, 0, 0) [0] == 't';
    *inserted += stored;
    if (say && stored)
        printf ("suppressed %s '%s' (%s) since %s%s%s: suppression %s\n", row->kind, row->id,
                scope, PQgetvalue (r, 0, 2), row->until? " until ": "",
                row->until? row->until: "", PQgetvalue (r, 0, 1));
    else
    if (say)
        printf ("already there: %s '%s' is suppressed (%s) by suppression %s\n",
                row->kind, row->id, scope, PQgetvalue (r, 0, 1));
    PQclear (r);
    return 0;
}

//  Store the checked rows, in the transaction begun; *inserted counts the
//  new ones. 0, or -1 after printing why for the first row refused (the
//  table's constraint: the transaction is then aborted)
static int
s_store_rows (PGconn *conn, const rows_t *rows, long *inserted, bool say)
{
    //  Prepared once: planned once, not per row
    PGresult *prepared = PQprepare (conn, "store_row", STORE_ROW, 7, NULL);
    bool ok = PQresultStatus (prepared) == PGRES_COMMAND_OK;
    PQclear (prepared);
    if (!ok || !PQenterPipelineMode (conn)) {
        fprintf (stderr, "suppress: %s", PQerrorMessage (conn));
        return -1;
    }
    int rc = 0;
    for (size_t from = 0; from < rows->count && rc == 0; from += CHUNK_ROWS) {
        size_t to = from + CHUNK_ROWS < rows->count? from + CHUNK_ROWS: rows->count, sent;
        for (sent = from; sent < to; sent++) {
            const row_t *row = &rows->rows [sent];
            const char *values [] = { row->kind, row->id, row->scope? row->scope: "promotional",
                                      row->reason, row->source, row->since, row->until };
            if (!PQsendQueryPrepared (conn, "store_row", 7, values, NULL, NULL, 0))
                break;
        }
        if (sent < to || !PQpipelineSync (conn)) {
            fprintf (stderr, "suppress: sending to the store failed: %s", PQerrorMessage (conn));
            rc = -1;
        }
        //  Each statement's result and the NULL that ends it, then the
        //  sync's; after a refused row the rest come back aborted
        for (size_t i = from; i < sent; i++) {
            PGresult *r = PQgetResult (conn);
            if (rc == 0)
                rc = s_stored (&rows->rows [i], r, inserted, say);
            else
                PQclear (r);
            PQclear (PQgetResult (conn));
        }
        if (sent == to)
            PQclear (PQgetResult (conn));
    }
    if (!PQexitPipelineMode (conn) && rc == 0) {
        fprintf (stderr, "suppress: %s", PQerrorMessage (conn));
        rc = -1;
    }
    return rc;
}

//  --------------------------------------------------------------------------
//  Commands

//  add and import: every row checked, then stored in one transaction
static int
s_add (PGconn *conn, const char *command, rows_t *rows)
{
    //  The rules' checks first, all rows before anything is written (times
    //  are the table's to check: PostgreSQL parses them)
    dt_suppression_t *set = dt_suppression_new ();
    if (!set) {
        fprintf (stderr, "suppress: out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < rows->count; i++) {
        const row_t *row = &rows->rows [i];
        char err [512];
        if (dt_suppression_add (set, row->kind, row->id,
                                row->scope? row->scope: "promotional", 0, DT_SUPPRESS_OPEN,
                                row->reason, err, sizeof err)) {
            dt_suppression_destroy (&set);
            s_refuse (row, err);
            return 1;
        }
    }
    dt_suppression_destroy (&set);
    if (dt_cli_pg_begin ("suppress", conn, "suppressions"))
        return 1;
    bool one = strcmp (command, "add") == 0;
    long inserted = 0;
    if (s_store_rows (conn, rows, &inserted, one))
        return 1;           //  closing the connection rolls back
    if (dt_cli_pg_run ("suppress", conn, "COMMIT", 0, NULL))
        return 1;
    if (!one)
        printf ("imported %zu rows: %ld new, %zu already there\n", rows->count, inserted,
                rows->count - (size_t) inserted);
    return 0;
}

//  The suppression_no of the buyer's rows in force or to come (of one
//  scope, or all), as a PostgreSQL array literal: the rows whose id is the
//  same buyer as id, the way the coordinator compares them (normalised,
//  through the alias tables). NULL after saying why.
static char *
s_buyer_rows (PGconn *conn, const char *kind, const char *id, const char *scope)
{
    char err [512];
    dt_identity_t *map = dt_aliases_load (conn, err, sizeof err);
    if (!map) {
        fprintf (stderr, "suppress: the alias tables can not be read: %s\n", err);
        return NULL;
    }
    dt_id_kind_t id_kind = strcmp (kind, "contact") == 0? DT_ID_CONTACT: DT_ID_ACCOUNT;
    dt_str_t resolved = dt_identity_resolve (map, id_kind, (dt_str_t) { id, (uint32_t) strlen (id) });
    char *buyer = strndup (resolved.ptr, resolved.len);
    const char *params [] = { kind, scope };
    PGresult *rows = dt_cli_pg_query ("suppress", conn,
        "SELECT suppression_no, id FROM suppressions"
        " WHERE kind = $1 AND ($2::text IS NULL OR scope = $2)"
        "   AND (until IS NULL OR until > now ())", 2, params);
    dt_buf_t list = { 0 };
    dt_buf_putc (&list, '{');
    for (int i = 0; rows && buyer && i < PQntuples (rows); i++) {
        const char *row_id = PQgetvalue (rows, i, 1);
        dt_str_t canonical = dt_identity_resolve (map, id_kind,
                                                  (dt_str_t) { row_id, (uint32_t) strlen (row_id) });
        if (canonical.len == strlen (buyer) && memcmp (canonical.ptr, buyer, canonical.len) == 0) {
            if (list.size > 1)
                dt_buf_putc (&list, ',');
            dt_buf_puts (&list, PQgetvalue (rows, i, 0));
        }
    }
    dt_buf_puts (&list, "}");
    dt_buf_putc (&list, 0);
    char *found = rows && buyer? strdup (list.data): NULL;
    PQclear (rows);
    dt_buf_free (&list);
    free (buyer);
    dt_identity_destroy (&map);
    return found;
}

//  remove: end the buyer's suppressions in force now (of one scope, or
//  all), by any of its ids; delete those that have not begun
static int
s_remove (PGconn *conn, const char *kind, const char *id, const char *scope)
{
    if (dt_cli_pg_begin ("suppress", conn, "suppressions"))
        return 1;
    char *buyer_rows = s_buyer_rows (conn, kind, id, scope);
    if (!buyer_rows)
        return 1;
    const char *params [] = { buyer_rows };
    PGresult *ended = dt_cli_pg_query ("suppress", conn,
        "UPDATE suppressions SET until = now ()"
        " WHERE suppression_no = ANY ($1::bigint []) AND since < now ()", 1, params);
    PGresult *deleted = ended? dt_cli_pg_query ("suppress", conn,
        "DELETE FROM suppressions"
        " WHERE suppression_no = ANY ($1::bigint []) AND since >= now ()", 1, params): NULL;
    free (buyer_rows);
    if (!ended || !deleted) {
        PQclear (ended);
        return 1;
    }
    long ended_count = atol (PQcmdTuples (ended)), deleted_count = atol (PQcmdTuples (deleted));
    PQclear (ended);
    PQclear (deleted);
    if (ended_count + deleted_count == 0) {
        fprintf (stderr, "suppress: there is no suppression of %s '%s'%s%s in force or to come "
                 "(by any of its ids, as the rules compare them: see dualtrack suppress list)\n",
                 kind, id,
                 scope? " with scope ": "", scope? scope: "");
        return 1;
    }
    if (dt_cli_pg_run ("suppress", conn, "COMMIT", 0, NULL))
        return 1;
    printf ("lifted %s '%s': %ld suppression%s ended now (kept as the record), %ld not yet "
            "begun deleted\n", kind, id, ended_count, ended_count == 1? "": "s", deleted_count);
    return 0;
}

static int
s_list (PGconn *conn, const char *kind, bool all)
{
    const char *params [] = { kind, all? "t": "f" };
    PGresult *r = dt_cli_pg_query ("suppress", conn,
        "SELECT suppression_no, kind, id, scope, reason, coalesce (source, ''),"
        "  to_char (since AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
        "  coalesce (to_char (until AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), ''),"
        "  created_by, until IS NOT NULL AND until <= now ()"
        " FROM suppressions"
        " WHERE ($1::text IS NULL OR kind = $1)"
        "   AND ($2::boolean OR until IS NULL OR until > now ())"
        " ORDER BY kind DESC, id, since, suppression_no", 2, params);
    if (!r)
        return 1;
    long counts [2] = { 0, 0 };
    for (int i = 0; i < PQntuples (r); i++) {
        const char *source = PQgetvalue (r, i, 5), *until = PQgetvalue (r, i, 7);
        counts [strcmp (PQgetvalue (r, i, 1), "account") == 0]++;
        printf ("%-7s  %s  %s  since %s UTC%s%s%s  (%s%s%s; #%s by %s)%s\n",
                PQgetvalue (r, i, 1), PQgetvalue (r, i, 2), PQgetvalue (r, i, 3),
                PQgetvalue (r, i, 6), *until? " until ": ", open", until, *until? " UTC": "",
                PQgetvalue (r, i, 4), *source? ", from ": "", source, PQgetvalue (r, i, 0),
                PQgetvalue (r, i, 8), PQgetvalue (r, i, 9) [0] == 't'? "  [ended]": "");
    }
    PQclear (r);
    printf ("%ld contact and %ld account suppressions%s\n", counts [0], counts [1],
            all? " (ended ones too)": " in force or to come");
    return 0;
}

static int
s_usage (int code)
{
    printf ("Usage: dualtrack suppress [--pg URI] COMMAND ...\n"
            "Consent: buyers no touchpoint may reach (rule suppressed; docs/operations.md).\n"
            "  add --contact|--account ID --reason TEXT [--scope promotional|all]\n"
            "      [--source S] [--since TIME] [--until TIME]\n"
            "                       suppress a buyer (by any of its ids: aliases apply);\n"
            "                       scope promotional (default) exempts transactional\n"
            "                       touchpoints, all does not; since defaults to now, until\n"
            "                       to open (TIME: as PostgreSQL reads it, '2026-05-01 09:00Z')\n"
            "  remove --contact|--account ID [--scope promotional|all]\n"
            "                       lift it: the suppressions in force end now (the rows stay\n"
            "                       as the record), ones not yet begun are deleted\n"
            "  import FILE.csv      add the rows of a CSV file with the header\n"
            "                       " CSV_HEADER "\n"
            "                       (scope, source, since, until may be empty; - reads\n"
            "                       standard input)\n"
            "  list [--contact|--account] [--all]\n"
            "                       the suppressions in force or to come, a line each;\n"
            "                       --all: ended ones too\n"
            "A change is checked whole before anything is written: a refused row prints\n"
            "the reason naming the row (and its line), and nothing is written. A row a\n"
            "stored one already covers is not stored again. The coordinator applies a\n"
            "change at once.\n"
            "  --pg URI    the store (default: $DT_PG_URI, else postgresql:///dualtrack)\n"
            "  --pg-password-file FILE  a file holding only the password (default:\n"
            "              $DT_PG_PASSWORD_FILE; else the URI, PGPASSWORD or ~/.pgpass)\n"
            "Exit status: 0 done, 1 refused or the store failed, 2 usage error.\n");
    return code;
}

int
dt_cli_suppress (int argc, char *argv [])
{
    const char *uri = dt_cli_pg_uri ();
    const char *password_file = getenv ("DT_PG_PASSWORD_FILE");
    const char *kind = NULL;
    row_t one = { 0 };
    bool all = false;
    static struct option longopts [] = {
        { "pg", required_argument, 0, 'p' }, { "pg-password-file", required_argument, 0, 'P' },
        { "contact", no_argument, 0, 'c' }, { "account", no_argument, 0, 'a' },
        { "reason", required_argument, 0, 'r' }, { "scope", required_argument, 0, 's' },
        { "source", required_argument, 0, 'S' }, { "since", required_argument, 0, 'f' },
        { "until", required_argument, 0, 'u' }, { "all", no_argument, 0, 'A' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "p:P:car:s:S:f:u:Ah", longopts, NULL)) != -1) {
        switch (opt) {
            case 'p': uri = optarg; break;
            case 'P': password_file = optarg; break;
            case 'c':
            case 'a': {
                const char *name = opt == 'a'? "account": "contact";
                if (kind && strcmp (kind, name)) {
                    fprintf (stderr, "suppress: --contact or --account, not both\n");
                    return 2;
                }
                kind = name;
                break;
            }
            case 'r': one.reason = optarg; break;
            case 's': one.scope = optarg; break;
            case 'S': one.source = s_or_null (optarg); break;
            case 'f': one.since = s_or_null (optarg); break;
            case 'u': one.until = s_or_null (optarg); break;
            case 'A': all = true; break;
            case 'h': return s_usage (0);
            default: return s_usage (2);
        }
    }
    if (optind >= argc)
        return s_usage (2);
    const char *command = argv [optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    bool add = strcmp (command, "add") == 0, remove = strcmp (command, "remove") == 0;
    bool import = strcmp (command, "import") == 0, list = strcmp (command, "list") == 0;
    if (!add && !remove && !import && !list) {
        fprintf (stderr, "suppress: unknown command '%s'\n", command);
        return s_usage (2);
    }
    int want = list? 0: 1;
    if (nargs != want) {
        fprintf (stderr, "suppress: %s takes %s (--help)\n", command,
                 add || remove? "one id": import? "one file": "no argument");
        return 2;
    }
    if ((add || remove) && !kind) {
        fprintf (stderr, "suppress: %s needs --contact or --account\n", command);
        return 2;
    }
    if (import && kind) {
        fprintf (stderr, "suppress: import takes the kind of each row from the file\n");
        return 2;
    }
    if (add && !one.reason) {
        fprintf (stderr, "suppress: add needs --reason (why the buyer must not be touched)\n");
        return 2;
    }
    if ((!add && (one.reason || one.source || one.since || one.until))
    ||  (one.scope && !add && !remove) || (all && !list)) {
        fprintf (stderr, "suppress: --reason, --source, --since and --until go with add, "
                 "--scope with add or remove, --all with list\n");
        return 2;
    }
    if (remove && one.scope && strcmp (one.scope, "promotional") && strcmp (one.scope, "all")) {
        fprintf (stderr, "suppress: --scope must be promotional or all, not '%s'\n", one.scope);
        return 2;
    }
    rows_t rows = { 0 };
    if (import && s_read_csv (args [0], &rows)) {
        s_rows_free (&rows);
        return 1;
    }
    if (add) {
        one.kind = kind;
        one.id = args [0];
        s_rows_push (&rows, one);
    }
    int rc = 0;
    PGconn *conn = dt_cli_pg_connect ("suppress", uri, password_file, &rc);
    if (conn) {
        if (list)
            rc = s_list (conn, kind, all);
        else
        if (remove)
            rc = s_remove (conn, kind, args [0], one.scope);
        else
            rc = s_add (conn, command, &rows);
        PQfinish (conn);
    }
    s_rows_free (&rows);
    return rc;
}
