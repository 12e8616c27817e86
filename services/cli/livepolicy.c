/*  livepolicy.c - see livepolicy.h
*/
#include "cli/livepolicy.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Parse text, printing each error as FILE:LINE:COLUMN: reason
dt_policy_t *
dt_cli_policy_parse (const char *name, const char *text, size_t len, const dt_rules_config_t *defaults,
         const dt_stageset_t *stages)
{
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse (text, len, defaults, stages, &errors);
    for (int i = 0; i < errors.count; i++)
        fprintf (stderr, "%s:%d:%d: %s\n", name, errors.error [i].line,
                 errors.error [i].column, errors.error [i].reason);
    if (errors.more)
        fprintf (stderr, "%s: %d more errors\n", name, errors.more);
    return policy;
}

//  The coordinator's stages, as stage_owners has them; the default funnel
//  if that table is empty
int
dt_cli_store_stages (PGconn *conn, dt_stageset_t *stages)
{
    PGresult *r = dt_cli_pg_query ("policy", conn,
        "SELECT coalesce (string_agg (stage || ':' || owner, ',' ORDER BY position), '')"
        " FROM stage_owners", 0, NULL);
    if (!r)
        return -1;
    char err [256];
    const char *spec = PQgetvalue (r, 0, 0);
    int rc = 0;
    if (!*spec)
        dt_stageset_default (stages);
    else
    if (dt_stageset_parse (stages, spec, err, sizeof err)) {
        fprintf (stderr, "policy: the stages in stage_owners are not usable: %s\n", err);
        rc = -1;
    }
    PQclear (r);
    return rc;
}

//  The coordinator's rule options as it recorded them, over the documented
//  defaults
int
dt_cli_store_defaults (PGconn *conn, dt_rules_config_t *defaults)
{
    dt_rules_config_default (defaults);
    PGresult *r = dt_cli_pg_query ("policy", conn,
        "SELECT setting, value FROM policy_defaults ORDER BY setting", 0, NULL);
    if (!r)
        return -1;
    char err [256];
    for (int i = 0; i < PQntuples (r); i++)
        if (dt_rules_config_set (defaults, PQgetvalue (r, i, 0), PQgetvalue (r, i, 1),
                                 err, sizeof err))
            fprintf (stderr, "policy: ignoring the recorded option %s: %s\n",
                     PQgetvalue (r, i, 0), err);
    PQclear (r);
    return 0;
}

//  The tone-book tables and the options as a policy (a store without versions)
dt_policy_t *
dt_cli_tables_policy (PGconn *conn, const dt_rules_config_t *defaults)
{
    PGresult *themes = dt_cli_pg_query ("policy", conn,
        "SELECT name, array_to_string (stages, ','),"
        " coalesce ((extract (epoch FROM valid_from) * 1000)::bigint, 0),"
        " coalesce ((extract (epoch FROM valid_to) * 1000)::bigint, 0), retired,"
        " coalesce (note, '') FROM tone_themes", 0, NULL);
    PGresult *claims = dt_cli_pg_query ("policy", conn, "SELECT key, value FROM tone_claims",
                                        0, NULL);
    PGresult *banned = dt_cli_pg_query ("policy", conn, "SELECT phrase FROM tone_banned", 0, NULL);
    dt_policy_t *policy = NULL;
    if (themes && claims && banned) {
        policy = dt_policy_new (defaults);
        char err [256];
        for (int i = 0; i < PQntuples (themes); i++)
            dt_policy_add_theme (policy, PQgetvalue (themes, i, 0), PQgetvalue (themes, i, 1),
                                 atoll (PQgetvalue (themes, i, 2)),
                                 atoll (PQgetvalue (themes, i, 3)),
                                 PQgetvalue (themes, i, 4) [0] == 't', PQgetvalue (themes, i, 5),
                                 err, sizeof err);
        for (int i = 0; i < PQntuples (claims); i++)
            dt_policy_add_claim (policy, PQgetvalue (claims, i, 0), PQgetvalue (claims, i, 1),
                                 err, sizeof err);
        for (int i = 0; i < PQntuples (banned); i++)
            dt_policy_add_banned (policy, PQgetvalue (banned, i, 0), NULL, err, sizeof err);
    }
    PQclear (themes);
    PQclear (claims);
    PQclear (banned);
    return policy;
}

//  The live policy and its version (0: none stored, the tables)
dt_policy_t *
dt_cli_live_policy (PGconn *conn, const dt_rules_config_t *defaults, const dt_stageset_t *stages,
        int *version)
{
    PGresult *r = dt_cli_pg_query ("policy", conn,
        "SELECT number, text FROM policy_versions ORDER BY number DESC", 0, NULL);
    if (!r)
        return NULL;
    *version = 0;
    dt_policy_t *policy = NULL;
    for (int i = 0; i < PQntuples (r) && !policy; i++) {
        dt_policy_errors_t errors;
        policy = dt_policy_parse (PQgetvalue (r, i, 1), (size_t) PQgetlength (r, i, 1),
                                  defaults, stages, &errors);
        if (policy)
            *version = atoi (PQgetvalue (r, i, 0));
        else
            fprintf (stderr, "policy: version %s does not parse (line %d: %s); the one "
                     "before it is live\n", PQgetvalue (r, i, 0), errors.error [0].line,
                     errors.error [0].reason);
    }
    bool any = PQntuples (r) > 0;
    PQclear (r);
    if (!policy && !any)
        policy = dt_cli_tables_policy (conn, defaults);
    return policy;
}

//  Version N's text (the caller frees it), or NULL after printing why
char *
dt_cli_version_text (PGconn *conn, const char *number)
{
    const char *params [] = { number };
    PGresult *r = dt_cli_pg_query ("policy", conn,
        "SELECT text FROM policy_versions WHERE number = $1::integer", 1, params);
    if (!r)
        return NULL;
    char *text = PQntuples (r) == 1? strdup (PQgetvalue (r, 0, 0)): NULL;
    if (PQntuples (r) != 1)
        fprintf (stderr, "policy: there is no version %s (see `dualtrack policy history`)\n",
                 number);
    PQclear (r);
    return text;
}

