/*  identity.c - `dualtrack identity`: the contact and account aliases
    (contact_aliases, account_aliases; docs/schema.md) edited from the
    command line, and exported or imported as CSV (kind,alias,canonical,
    source).

    A change (add, remove, import) runs in one transaction: it locks both
    tables against other writers, reads the mapping, builds the would-be
    mapping with the identity module (rules/identity.h) and validates it,
    and writes only if it passes. A refused change prints the reason, which
    names the rows, and exits 1 with nothing written.
*/
#include "cli/cli.h"
#include "rules/identity.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CSV_HEADER "kind,alias,canonical,source"

//  One row of a CSV file or of a change
typedef struct {
    dt_id_kind_t kind;
    char *alias, *canonical, *source;   //  source NULL: none
    int line;                           //  in the file, 0 for the command line
} row_t;

typedef struct {
    row_t *rows;
    size_t count, alloc;
    char *text;                         //  the file the rows point into
} rows_t;

static const char *const tables [DT_ID_KINDS] = { "contact_aliases", "account_aliases" };

static void
s_rows_push (rows_t *self, row_t row)
{
    dt_cli_grow ("identity", (void **) &self->rows, self->count, &self->alloc, sizeof (row_t));
    self->rows [self->count++] = row;
}

static void
s_rows_free (rows_t *self)
{
    free (self->rows);
    free (self->text);
    memset (self, 0, sizeof *self);
}

//  Rows of a CSV file with the header kind,alias,canonical,source; 0, or
//  -1 after saying which line is wrong
static int
s_read_csv (const char *path, rows_t *rows)
{
    char *cursor, *fields [4];
    int line, count;
    rows->text = dt_cli_csv_open ("identity", path, CSV_HEADER, &cursor, &line);
    if (!rows->text)
        return -1;
    while (true) {
        int at = line + 1;
        count = dt_cli_csv_record (&cursor, fields, 4, &line);
        if (count == 0)
            break;
        if (count == 1 && fields [0][0] == 0)
            continue;       //  an empty line
        row_t row = { .line = at };
        if (count < 0) {
            fprintf (stderr, "identity: %s line %d: a quoted field is not closed\n", path, at);
            return -1;
        }
        if (count != 4 && count != 3) {
            fprintf (stderr, "identity: %s line %d: %d fields, want 4 (%s)\n", path, at,
                     count, CSV_HEADER);
            return -1;
        }
        if (dt_identity_kind_parse (fields [0], &row.kind)) {
            fprintf (stderr, "identity: %s line %d: kind '%.40s' is neither contact nor "
                     "account\n", path, at, fields [0]);
            return -1;
        }
        row.alias = fields [1];
        row.canonical = fields [2];
        row.source = count == 4 && *fields [3]? fields [3]: NULL;
        s_rows_push (rows, row);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  The store

static PGresult *
s_exec (PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    return dt_cli_pg_query ("identity", conn, sql, nparams, params);
}

//  Both tables, kind first, each buyer's rows together (the identity
//  module shares their canonical id's bytes)
#define SELECT_ALL \
    "SELECT 'contact', alias, canonical, coalesce (source, ''), created_at, created_by" \
    " FROM contact_aliases UNION ALL" \
    " SELECT 'account', alias, canonical, coalesce (source, ''), created_at, created_by" \
    " FROM account_aliases ORDER BY 1 DESC, 3, 2"

//  Add the stored rows to map, but for the one of kind `skip_kind` with
//  alias `skip` (NULL: none). Returns the rows added, or -1.
static long
s_load (PGconn *conn, dt_identity_t *map, int skip_kind, const char *skip, bool *skipped)
{
    PGresult *r = s_exec (conn, SELECT_ALL, 0, NULL);
    if (!r)
        return -1;
    long added = 0;
    for (int i = 0; i < PQntuples (r); i++) {
        dt_id_kind_t kind = DT_ID_CONTACT;
        dt_identity_kind_parse (PQgetvalue (r, i, 0), &kind);
        const char *alias = PQgetvalue (r, i, 1);
        if (skip && (int) kind == skip_kind && strcmp (alias, skip) == 0) {
            *skipped = true;
            continue;
        }
        //  A stored row the module refuses (edited with SQL) is reported by
        //  validate, with the first such row
        dt_identity_add (map, kind, alias, PQgetvalue (r, i, 2), PQgetvalue (r, i, 3), NULL, 0);
        added++;
    }
    PQclear (r);
    return added;
}

//  Begin the change: a transaction that holds both tables against other
//  writers (readers go on)
static int
s_begin (PGconn *conn)
{
    return dt_cli_pg_begin ("identity", conn, "contact_aliases, account_aliases");
}

static int
s_validate (dt_identity_t *map)
{
    char err [1024];
    if (dt_identity_validate (map, err, sizeof err) == 0)
        return 0;
    fprintf (stderr, "identity: refused, nothing written: %s\n", err);
    return -1;
}

//  Insert rows not stored yet (an alias stored with the same canonical id
//  is left as it is); *inserted counts the new ones
static int
s_insert (PGconn *conn, const rows_t *rows, long *inserted)
{
    for (size_t i = 0; i < rows->count; i++) {
        const row_t *row = &rows->rows [i];
        char sql [256];
        snprintf (sql, sizeof sql, "INSERT INTO %s (alias, canonical, source) VALUES ($1, $2, $3)"
                  " ON CONFLICT (alias) DO NOTHING", tables [row->kind]);
        const char *params [3] = { row->alias, row->canonical, row->source };
        PGresult *r = s_exec (conn, sql, 3, params);
        if (!r)
            return -1;
        *inserted += atol (PQcmdTuples (r));
        PQclear (r);
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Commands

//  add: the stored mapping and the new row; remove: the stored mapping less
//  one row; import: the stored mapping (none with replace) and the file's
static int
s_change (PGconn *conn, const char *command, rows_t *rows, bool replace)
{
    if (s_begin (conn))
        return 1;
    dt_identity_t *map = dt_identity_new ();
    bool remove = strcmp (command, "remove") == 0, skipped = false;
    long stored = 0;
    if (!replace) {
        stored = s_load (conn, map, remove? (int) rows->rows [0].kind: -1,
                         remove? rows->rows [0].alias: NULL, &skipped);
        if (stored < 0) {
            dt_identity_destroy (&map);
            return 1;
        }
    }
    if (remove && !skipped) {
        fprintf (stderr, "identity: there is no %s alias '%s'\n",
                 dt_identity_kind_name (rows->rows [0].kind), rows->rows [0].alias);
        dt_identity_destroy (&map);
        return 1;
    }
    for (size_t i = 0; !remove && i < rows->count; i++) {
        const row_t *row = &rows->rows [i];
        char err [512];
        if (dt_identity_add (map, row->kind, row->alias, row->canonical, row->source,
                             err, sizeof err)) {
            if (row->line)
                fprintf (stderr, "identity: refused, nothing written: line %d: %s\n",
                         row->line, err);
            else
                fprintf (stderr, "identity: refused, nothing written: %s\n", err);
            dt_identity_destroy (&map);
            return 1;
        }
    }
    int rc = s_validate (map);
    dt_identity_destroy (&map);
    if (rc)
        return 1;
    long inserted = 0;
    if (remove) {
        char sql [128];
        snprintf (sql, sizeof sql, "DELETE FROM %s WHERE alias = $1",
                  tables [rows->rows [0].kind]);
        const char *params [1] = { rows->rows [0].alias };
        rc = dt_cli_pg_run ("identity", conn, sql, 1, params);
    }
    else
    if (replace)
        rc = dt_cli_pg_run ("identity", conn, "DELETE FROM contact_aliases", 0, NULL)
          || dt_cli_pg_run ("identity", conn, "DELETE FROM account_aliases", 0, NULL);
    if (rc == 0 && !remove)
        rc = s_insert (conn, rows, &inserted);
    if (rc || dt_cli_pg_run ("identity", conn, "COMMIT", 0, NULL))
        return 1;
    if (remove)
        printf ("removed %s alias '%s'\n", dt_identity_kind_name (rows->rows [0].kind),
                rows->rows [0].alias);
    else
    if (strcmp (command, "add") == 0)
        printf ("%s %s alias '%s' -> '%s'\n", inserted? "added": "already there:",
                dt_identity_kind_name (rows->rows [0].kind), rows->rows [0].alias,
                rows->rows [0].canonical);
    else
        printf ("imported %zu rows: %ld new, %zu already there%s\n", rows->count, inserted,
                rows->count - (size_t) inserted, replace? " (replacing every alias)": "");
    return 0;
}

static int
s_export (PGconn *conn, const char *kind_filter)
{
    PGresult *r = s_exec (conn, SELECT_ALL, 0, NULL);
    if (!r)
        return 1;
    printf ("%s\n", CSV_HEADER);
    for (int i = 0; i < PQntuples (r); i++) {
        if (kind_filter && strcmp (PQgetvalue (r, i, 0), kind_filter))
            continue;
        for (int col = 0; col < 4; col++)
            dt_cli_csv_field (stdout, PQgetvalue (r, i, col), col == 3);
    }
    PQclear (r);
    return fflush (stdout) || ferror (stdout)? 1: 0;
}

static int
s_list (PGconn *conn, const char *kind_filter)
{
    PGresult *r = s_exec (conn, SELECT_ALL, 0, NULL);
    if (!r)
        return 1;
    long counts [DT_ID_KINDS] = { 0 };
    for (int i = 0; i < PQntuples (r); i++) {
        if (kind_filter && strcmp (PQgetvalue (r, i, 0), kind_filter))
            continue;
        dt_id_kind_t kind = DT_ID_CONTACT;
        dt_identity_kind_parse (PQgetvalue (r, i, 0), &kind);
        counts [kind]++;
        const char *source = PQgetvalue (r, i, 3);
        printf ("%-7s  %s -> %s  (%s%s%.19s by %s)\n", PQgetvalue (r, i, 0),
                PQgetvalue (r, i, 1), PQgetvalue (r, i, 2), source, *source? ", ": "",
                PQgetvalue (r, i, 4), PQgetvalue (r, i, 5));
    }
    PQclear (r);
    printf ("%ld contact aliases, %ld account aliases\n", counts [DT_ID_CONTACT],
            counts [DT_ID_ACCOUNT]);
    return 0;
}

static int
s_usage (int code)
{
    printf ("Usage: dualtrack identity [--pg URI] COMMAND ...\n"
            "  add --contact|--account ALIAS CANONICAL [--source S]\n"
            "                       point ALIAS at the buyer's canonical id\n"
            "  remove --contact|--account ALIAS\n"
            "  import FILE.csv [--replace]\n"
            "                       add the rows of a CSV file with the header\n"
            "                       " CSV_HEADER " (kind: contact or account;\n"
            "                       - reads standard input); --replace: the file becomes\n"
            "                       the whole mapping\n"
            "  export [--contact|--account]   that CSV, to standard output\n"
            "  list [--contact|--account]     the aliases, a line each\n"
            "  tz set --contact|--account ID ZONE [--source S]\n"
            "                       the buyer's own IANA time zone (e.g. Europe/Berlin), in\n"
            "                       which the contact budget counts its days and hours\n"
            "  tz remove --contact|--account ID\n"
            "  tz list [--contact|--account]  the buyers with a zone of their own\n"
            "A change is validated as a whole before anything is written (no chains, no\n"
            "alias that is another buyer's canonical id, no alias with two canonical ids;\n"
            "e-mail addresses and phone numbers are compared normalised): a refused\n"
            "change prints the reason naming the rows, and nothing is written.\n"
            "  --pg URI    the store (default: $DT_PG_URI, else postgresql:///dualtrack)\n"
            "  --pg-password-file FILE  a file holding only the password (default:\n"
            "              $DT_PG_PASSWORD_FILE; else the URI, PGPASSWORD or ~/.pgpass)\n"
            "Exit status: 0 done, 1 refused or the store failed, 2 usage error.\n");
    return code;
}

int
dt_cli_identity (int argc, char *argv [])
{
    const char *uri = dt_cli_pg_uri (), *source = NULL;
    const char *password_file = getenv ("DT_PG_PASSWORD_FILE");
    int kind = -1;
    bool replace = false;
    static struct option longopts [] = {
        { "pg", required_argument, 0, 'p' }, { "pg-password-file", required_argument, 0, 'P' },
        { "contact", no_argument, 0, 'c' }, { "account", no_argument, 0, 'a' },
        { "source", required_argument, 0, 's' }, { "replace", no_argument, 0, 'r' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "p:P:cas:rh", longopts, NULL)) != -1) {
        switch (opt) {
            case 'p': uri = optarg; break;
            case 'P': password_file = optarg; break;
            case 'c':
            case 'a':
                if (kind >= 0 && kind != (opt == 'a')) {
                    fprintf (stderr, "identity: --contact or --account, not both\n");
                    return 2;
                }
                kind = opt == 'a'? DT_ID_ACCOUNT: DT_ID_CONTACT;
                break;
            case 's': source = optarg; break;
            case 'r': replace = true; break;
            case 'h': return s_usage (0);
            default: return s_usage (2);
        }
    }
    if (optind >= argc)
        return s_usage (2);
    const char *command = argv [optind];
    char **args = argv + optind + 1;
    int nargs = argc - optind - 1;
    const char *kind_name = kind >= 0? dt_identity_kind_name ((dt_id_kind_t) kind): NULL;
    if (strcmp (command, "tz") == 0) {
        if (replace) {
            fprintf (stderr, "identity: --replace goes with import\n");
            return 2;
        }
        return dt_cli_identity_tz (uri, password_file, kind_name, source, nargs, args);
    }
    rows_t rows = { 0 };
    int want = -1;
    if (strcmp (command, "add") == 0)
        want = 2;
    else
    if (strcmp (command, "remove") == 0 || strcmp (command, "import") == 0)
        want = 1;
    else
    if (strcmp (command, "export") == 0 || strcmp (command, "list") == 0)
        want = 0;
    else {
        fprintf (stderr, "identity: unknown command '%s'\n", command);
        return s_usage (2);
    }
    if (nargs != want) {
        fprintf (stderr, "identity: %s takes %d argument%s (--help)\n", command, want,
                 want == 1? "": "s");
        return 2;
    }
    if ((strcmp (command, "add") == 0 || strcmp (command, "remove") == 0) && kind < 0) {
        fprintf (stderr, "identity: %s needs --contact or --account\n", command);
        return 2;
    }
    if ((source && strcmp (command, "add")) || (replace && strcmp (command, "import"))) {
        fprintf (stderr, "identity: --source goes with add, --replace with import\n");
        return 2;
    }
    if (strcmp (command, "import") == 0 && kind >= 0) {
        fprintf (stderr, "identity: import takes the kind of each row from the file\n");
        return 2;
    }
    if (strcmp (command, "import") == 0) {
        if (s_read_csv (args [0], &rows)) {
            s_rows_free (&rows);
            return 1;
        }
    }
    else
    if (want > 0) {
        row_t row = { (dt_id_kind_t) kind, args [0], want == 2? args [1]: NULL,
                      source && *source? (char *) source: NULL, 0 };
        s_rows_push (&rows, row);
    }
    int rc = 0;
    PGconn *conn = dt_cli_pg_connect ("identity", uri, password_file, &rc);
    if (!conn) {
        s_rows_free (&rows);
        return rc;
    }
    if (want == 0)
        rc = strcmp (command, "list") == 0? s_list (conn, kind_name): s_export (conn, kind_name);
    else
        rc = s_change (conn, command, &rows, replace);
    PQfinish (conn);
    s_rows_free (&rows);
    return rc;
}
