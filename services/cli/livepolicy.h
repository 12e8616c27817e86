/*  livepolicy.h - the policy as the CLI reads it from the store, for
    `dualtrack policy` and `dualtrack whatif`: the coordinator's stages
    (stage_owners), its rule options as it recorded them (policy_defaults),
    the live policy (the newest stored version that parses; with none
    stored, the tone-book tables and those options), a stored version's
    text, and a policy file's text parsed with every error printed as
    FILE:LINE:COLUMN: reason. Errors are printed to stderr.
*/
#ifndef DT_CLI_LIVEPOLICY_H
#define DT_CLI_LIVEPOLICY_H

#include "cli/cli.h"
#include "rules/policy.h"

//  Parse text, printing each error as NAME:LINE:COLUMN: reason
dt_policy_t *dt_cli_policy_parse (const char *name, const char *text, size_t len,
                                  const dt_rules_config_t *defaults, const dt_stageset_t *stages);

//  The coordinator's stages as stage_owners has them (the default funnel
//  if that table is empty). 0, or -1 after printing why.
int dt_cli_store_stages (PGconn *conn, dt_stageset_t *stages);

//  The coordinator's rule options as it recorded them, over the documented
//  defaults. 0, or -1 after printing why.
int dt_cli_store_defaults (PGconn *conn, dt_rules_config_t *defaults);

//  The live policy and its version in *version (0: none stored, the
//  tone-book tables); NULL after printing why
dt_policy_t *dt_cli_live_policy (PGconn *conn, const dt_rules_config_t *defaults,
                                 const dt_stageset_t *stages, int *version);

//  The tone-book tables and the options as a policy (what rules while no
//  version is stored); NULL after printing why
dt_policy_t *dt_cli_tables_policy (PGconn *conn, const dt_rules_config_t *defaults);

//  Version number's text (the caller frees it), or NULL after printing why
char *dt_cli_version_text (PGconn *conn, const char *number);

#endif
