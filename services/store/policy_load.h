/*  policy_load.h - the coordinator's side of the policy (docs/policy.md):
    the newest version in policy_versions made live in the rule engine, a
    broken one refused with the old one kept (tonebook_reloads records
    both), and the coordinator's own rule options recorded as the defaults
    a policy file may leave out (policy_defaults).

    Uses the history's reader connection, which LISTENs on
    'dualtrack_policy' beside 'dualtrack_tonebook'.
*/
#ifndef DT_POLICY_LOAD_H
#define DT_POLICY_LOAD_H

#include "rules/engine.h"
#include "store/history.h"

//  What dt_policy_load did
typedef enum {
    DT_POLICY_NONE = 0,         //  no version stored: the tone-book tables rule
    DT_POLICY_LOADED,           //  a newer version is now live (*version set)
    DT_POLICY_UNCHANGED,        //  the newest is the one in force already
    DT_POLICY_REFUSED           //  the newest is broken, or the store unreadable:
                                //  nothing changed
} dt_policy_load_t;

//  Make the newest policy version live in engine: parsed over defaults (the
//  coordinator's options) and the engine's stages. *version is the one in
//  force (0: none) and is updated when a newer one loads.
dt_policy_load_t dt_policy_load (dt_history_t *history, dt_engine_t *engine,
                                 const dt_rules_config_t *defaults,
                                 const dt_stageset_t *stages, int *version);

//  Record the coordinator's rule options in policy_defaults. 0 or -1.
int dt_policy_record_defaults (dt_history_t *history, const dt_rules_config_t *defaults);

#endif
