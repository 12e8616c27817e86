/*  policy_load.c - see policy_load.h
*/
#include "store/policy_load.h"
#include "base/log.h"
#include "rules/policy.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  Refuse a version: logged, and recorded where the tone book's refusals go
static dt_policy_load_t
s_refuse (dt_history_t *history, int number, const char *reason)
{
    char message [600];
    snprintf (message, sizeof message, "policy version %d refused, the one in force stays: %s",
              number, reason);
    dt_error ("policy refused; the previous one stays in force", "version=%d error=\"%s\"",
              number, reason);
    dt_history_record_reload (history, false, message);
    return DT_POLICY_REFUSED;
}

dt_policy_load_t
dt_policy_load (dt_history_t *history, dt_engine_t *engine, const dt_rules_config_t *defaults,
                const dt_stageset_t *stages, int *version)
{
    PGconn *conn = dt_history_conn (history);
    if (!conn)
        return DT_POLICY_REFUSED;
    PGresult *result = PQexec (conn,
        "SELECT number, text FROM policy_versions ORDER BY number DESC LIMIT 1");
    if (PQresultStatus (result) != PGRES_TUPLES_OK) {
        dt_warn ("could not read the policy versions", "error=\"%s\"",
                 PQresultErrorMessage (result));
        PQclear (result);
        return DT_POLICY_REFUSED;
    }
    if (PQntuples (result) == 0) {
        PQclear (result);
        return DT_POLICY_NONE;
    }
    int number = atoi (PQgetvalue (result, 0, 0));
    if (number == *version) {
        PQclear (result);
        return DT_POLICY_UNCHANGED;
    }
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse (PQgetvalue (result, 0, 1),
                                           (size_t) PQgetlength (result, 0, 1), defaults,
                                           stages, &errors);
    PQclear (result);
    char err [512] = "the rule settings are not valid";
    if (!policy) {
        snprintf (err, sizeof err, "line %d column %d: %s (%d errors)", errors.error [0].line,
                  errors.error [0].column, errors.error [0].reason, errors.count + errors.more);
        return s_refuse (history, number, err);
    }
    //  Everything checked before the book goes in: if the engine refuses
    //  it, nothing has changed yet, and the settings then cannot fail
    dt_tonebook_t *book = NULL;
    if (dt_engine_check_config (engine, dt_policy_config (policy), err, sizeof err) == 0)
        book = dt_policy_tonebook (policy, err, sizeof err);
    if (!book || dt_engine_set_tonebook (engine, &book, err, sizeof err)
    ||  dt_engine_set_config (engine, dt_policy_config (policy))) {
        dt_policy_destroy (&policy);
        return s_refuse (history, number, err);
    }
    dt_info ("policy in force", "version=%d themes=%zu claims=%zu banned=%zu", number,
             dt_policy_themes (policy), dt_policy_claims (policy), dt_policy_banned (policy));
    dt_policy_destroy (&policy);
    snprintf (err, sizeof err, "policy version %d in force", number);
    dt_history_record_reload (history, true, err);
    *version = number;
    return DT_POLICY_LOADED;
}

int
dt_policy_record_defaults (dt_history_t *history, const dt_rules_config_t *defaults)
{
    PGconn *conn = dt_history_conn (history);
    if (!conn)
        return -1;
    int rc = 0;
    for (const char *const *key = dt_rules_config_keys (); *key && rc == 0; key++) {
        char value [DT_SETTING_TEXT_MAX];
        dt_rules_config_get (defaults, *key, value, sizeof value);
        const char *params [] = { *key, value };
        PGresult *result = PQexecParams (conn,
            "INSERT INTO policy_defaults (setting, value) VALUES ($1, $2)"
            " ON CONFLICT (setting) DO UPDATE SET value = EXCLUDED.value, recorded_at = now ()",
            2, NULL, params, NULL, NULL, 0);
        if (PQresultStatus (result) != PGRES_COMMAND_OK) {
            dt_warn ("could not record the rule options as the policy defaults",
                     "error=\"%s\"", PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    return rc;
}
