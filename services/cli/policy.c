/*  policy.c - `dualtrack policy`: the policy file (docs/policy.md) checked,
    compared with the live policy, applied as a new version, exported,
    listed and rolled back.

    The live policy is the newest stored version that parses (the
    coordinator refuses a broken one and keeps the one before), over the
    coordinator's rule options as it recorded them (policy_defaults); with
    no version stored, it is the tone-book tables and those options, so
    `policy export` of a system without versions gives operations a file
    to start from. Stages come from stage_owners, which 005 asks to keep
    equal to the daemons' `stages`.
*/
#include "cli/cli.h"
#include "cli/livepolicy.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

//  Store text as a new version; waits up to wait_ms for the coordinator to
//  say it is live. 0, or 1 after printing why.
static int
s_store_version (PGconn *conn, const char *text, const char *note, int wait_ms)
{
    const char *params [] = { text, note? note: "" };
    PGresult *r = PQexecParams (conn,
        "INSERT INTO policy_versions (number, text, note)"
        " SELECT coalesce (max (number), 0) + 1, $1, $2 FROM policy_versions"
        " RETURNING number, hash, applied_at", 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus (r) != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField (r, PG_DIAG_SQLSTATE);
        if (state && strcmp (state, "23505") == 0)
            fprintf (stderr, "policy: another version was applied at the same moment; "
                     "check `dualtrack policy diff` and apply again\n");
        else
            fprintf (stderr, "policy: could not store the version: %s",
                     PQerrorMessage (conn));
        PQclear (r);
        return 1;
    }
    char number [16], applied_at [64];
    snprintf (number, sizeof number, "%s", PQgetvalue (r, 0, 0));
    snprintf (applied_at, sizeof applied_at, "%s", PQgetvalue (r, 0, 2));
    printf ("stored as version %s (sha256 %.12s)\n", number, PQgetvalue (r, 0, 1));
    PQclear (r);
    //  The coordinator records what it made of it in tonebook_reloads
    char pattern [64];
    snprintf (pattern, sizeof pattern, "policy version %s %%", number);
    const char *wait_params [] = { applied_at, pattern };
    for (int waited = 0; waited < wait_ms; waited += 50) {
        r = PQexecParams (conn,
            "SELECT ok, message FROM tonebook_reloads WHERE at >= $1 AND message LIKE $2"
            " ORDER BY at DESC LIMIT 1", 2, NULL, wait_params, NULL, NULL, 0);
        if (PQresultStatus (r) == PGRES_TUPLES_OK && PQntuples (r) == 1) {
            bool ok = PQgetvalue (r, 0, 0) [0] == 't';
            if (ok)
                printf ("live: the coordinator took version %s after %d ms\n", number, waited);
            else
                fprintf (stderr, "policy: the coordinator refused it: %s\n",
                         PQgetvalue (r, 0, 1));
            PQclear (r);
            return ok? 0: 1;
        }
        PQclear (r);
        usleep (50000);
    }
    if (wait_ms > 0)
        printf ("no coordinator confirmed version %s within %d ms (is one running?); it "
                "takes it when it starts\n", number, wait_ms);
    return 0;
}

static int
s_validate (const char *path, const dt_stageset_t *stages)
{
    size_t len;
    char *text = dt_cli_read_file ("policy", path, &len);
    if (!text)
        return 1;
    dt_policy_t *policy = dt_cli_policy_parse (path, text, len, NULL, stages);
    free (text);
    if (!policy)
        return 1;
    printf ("%s: valid (%zu themes, %zu canonical claims, %zu banned phrases)\n", path,
            dt_policy_themes (policy), dt_policy_claims (policy), dt_policy_banned (policy));
    dt_policy_destroy (&policy);
    return 0;
}

static int
s_usage (int code)
{
    printf ("Usage: dualtrack policy [--pg URI] COMMAND ...\n"
            "  validate FILE        check a policy file: every error as FILE:LINE:COLUMN: reason\n"
            "                       (stages: --stages SPEC, default the standard funnel)\n"
            "  diff FILE            what FILE would change against the live policy\n"
            "  apply FILE --note \"why\"   validate and store as a new version, live at once\n"
            "  export               the live policy as a policy file (without versions: the\n"
            "                       tone-book tables and the coordinator's options)\n"
            "  history              the versions, newest first\n"
            "  show N               version N's text as applied, comments included\n"
            "  rollback N [--note \"why\"]   apply version N's text again as a new version\n"
            "FILE - reads standard input. The format: docs/policy.md.\n"
            "  --wait MS   apply, rollback: wait this long for the coordinator to confirm\n"
            "              (default 5000; 0: do not wait)\n"
            "  --pg URI    the store (default: $DT_PG_URI, else postgresql:///dualtrack)\n"
            "  --pg-password-file FILE  a file holding only the password (default:\n"
            "              $DT_PG_PASSWORD_FILE; else the URI, PGPASSWORD or ~/.pgpass)\n"
            "Exit status: 0 done, 1 invalid, refused or the store failed, 2 usage error.\n");
    return code;
}

static int
s_history (PGconn *conn)
{
    PGresult *r = dt_cli_pg_query ("policy", conn,
        "SELECT number, to_char (applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),"
        " applied_by, left (hash, 12), note FROM policy_versions ORDER BY number DESC", 0, NULL);
    if (!r)
        return 1;
    if (PQntuples (r) == 0)
        printf ("no policy applied yet: the tone-book tables and the coordinator's options "
                "are in force\n");
    for (int i = 0; i < PQntuples (r); i++)
        printf ("%4s  %s UTC  %-16s  %s  %s\n", PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                PQgetvalue (r, i, 2), PQgetvalue (r, i, 3), PQgetvalue (r, i, 4));
    PQclear (r);
    return 0;
}

//  diff, apply, export, rollback: they need the live policy
static int
s_against_live (PGconn *conn, const char *command, const char *arg, const char *note,
                int wait_ms)
{
    dt_stageset_t stages;
    dt_rules_config_t defaults;
    if (dt_cli_store_stages (conn, &stages) || dt_cli_store_defaults (conn, &defaults))
        return 1;
    int version = 0;
    dt_policy_t *live = dt_cli_live_policy (conn, &defaults, &stages, &version);
    if (!live)
        return 1;
    int rc = 0;
    if (strcmp (command, "export") == 0) {
        dt_buf_t out = { 0 };
        dt_policy_format (live, &out);
        fwrite (out.data, 1, out.size, stdout);
        dt_buf_free (&out);
        dt_policy_destroy (&live);
        return 0;
    }
    char *text = NULL;
    size_t len = 0;
    char name [64];
    const char *source = arg;
    if (strcmp (command, "rollback") == 0) {
        text = dt_cli_version_text (conn, arg);
        len = text? strlen (text): 0;
        snprintf (name, sizeof name, "version %s", arg);
        source = name;
    }
    else
        text = dt_cli_read_file ("policy", arg, &len);
    dt_policy_t *candidate = text? dt_cli_policy_parse (source, text, len, &defaults, &stages): NULL;
    if (!candidate)
        rc = 1;
    else {
        dt_buf_t diff = { 0 };
        int lines = dt_policy_diff (live, candidate, &diff);
        if (strcmp (command, "diff") == 0) {
            printf ("against the live policy (%s%d):\n", version? "version ": "tables, version ",
                    version);
            if (lines == 0)
                printf ("  no change\n");
            for (size_t i = 0; i < diff.size; ) {
                const char *line = diff.data + i, *end = memchr (line, '\n', diff.size - i);
                size_t line_len = end? (size_t) (end - line): diff.size - i;
                printf ("  %.*s\n", (int) line_len, line);
                i += line_len + 1;
            }
        }
        else {
            char rollback_note [512];
            if (strcmp (command, "rollback") == 0) {
                snprintf (rollback_note, sizeof rollback_note, "rollback to version %s%s%s",
                          arg, note && *note? ": ": "", note? note: "");
                note = rollback_note;
            }
            if (lines == 0)
                printf ("no change in effect against the live policy; storing it anyway\n");
            else
                printf ("%d change%s against the live policy\n", lines, lines == 1? "": "s");
            rc = s_store_version (conn, text, note, wait_ms);
        }
        dt_buf_free (&diff);
    }
    dt_policy_destroy (&candidate);
    dt_policy_destroy (&live);
    free (text);
    return rc;
}

int
dt_cli_policy (int argc, char *argv [])
{
    const char *uri = dt_cli_pg_uri (), *note = NULL, *stages_spec = NULL;
    const char *password_file = getenv ("DT_PG_PASSWORD_FILE");
    int wait_ms = 5000;
    static struct option longopts [] = {
        { "pg", required_argument, 0, 'p' }, { "pg-password-file", required_argument, 0, 'P' },
        { "note", required_argument, 0, 'n' }, { "stages", required_argument, 0, 's' },
        { "wait", required_argument, 0, 'w' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "p:P:n:s:w:h", longopts, NULL)) != -1) {
        switch (opt) {
            case 'p': uri = optarg; break;
            case 'P': password_file = optarg; break;
            case 'n': note = optarg; break;
            case 's': stages_spec = optarg; break;
            case 'w': wait_ms = atoi (optarg); break;
            case 'h': return s_usage (0);
            default: return s_usage (2);
        }
    }
    if (optind >= argc)
        return s_usage (2);
    const char *command = argv [optind];
    int nargs = argc - optind - 1;
    const char *arg = nargs > 0? argv [optind + 1]: NULL;
    static const struct { const char *name; int args; } commands [] = {
        { "validate", 1 }, { "diff", 1 }, { "apply", 1 }, { "export", 0 },
        { "history", 0 }, { "show", 1 }, { "rollback", 1 }
    };
    int want = -1;
    for (size_t i = 0; i < sizeof commands / sizeof commands [0]; i++)
        if (strcmp (command, commands [i].name) == 0)
            want = commands [i].args;
    if (want < 0) {
        fprintf (stderr, "policy: unknown command '%s'\n", command);
        return s_usage (2);
    }
    if (nargs != want) {
        fprintf (stderr, "policy: %s takes %d argument%s (--help)\n", command, want,
                 want == 1? "": "s");
        return 2;
    }
    if (strcmp (command, "apply") == 0 && (!note || !*note)) {
        fprintf (stderr, "policy: apply needs --note \"why\": the history keeps it\n");
        return 2;
    }
    if (strcmp (command, "validate") == 0) {
        dt_stageset_t stages;
        char err [256];
        if (!stages_spec)
            dt_stageset_default (&stages);
        else
        if (dt_stageset_parse (&stages, stages_spec, err, sizeof err)) {
            fprintf (stderr, "policy: --stages: %s\n", err);
            return 2;
        }
        return s_validate (arg, &stages);
    }
    int rc = 0;
    PGconn *conn = dt_cli_pg_connect ("policy", uri, password_file, &rc);
    if (!conn)
        return rc;
    if (strcmp (command, "history") == 0)
        rc = s_history (conn);
    else
    if (strcmp (command, "show") == 0) {
        char *text = dt_cli_version_text (conn, arg);
        if (text)
            fputs (text, stdout);
        rc = text? 0: 1;
        free (text);
    }
    else
        rc = s_against_live (conn, command, arg, note, wait_ms);
    PQfinish (conn);
    return rc;
}
