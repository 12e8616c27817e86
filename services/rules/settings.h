/*  settings.h - the rule ids, severities, verdicts and the configuration
    of the rule engine (windows, limits, severities) with documented defaults
    (docs/rules.md) and a key/value setter, so a config file and environment
    overrides are both just calls to dt_rules_config_set.

    The rule ids and the severity and verdict names are part of the public
    contract (proto/PROTOCOL.md): subscribers filter on them, so they never
    change spelling.
*/
#ifndef DT_RULESCONFIG_H
#define DT_RULESCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules/caps.h"

typedef enum {
    DT_RULE_STAGE_CROSSING,
    DT_RULE_COLLISION,
    DT_RULE_UNKNOWN_THEME,
    DT_RULE_THEME_STAGE,
    DT_RULE_BANNED_PHRASE,
    DT_RULE_CLAIM_CONFLICT,
    DT_RULE_LEAD_VIOLATION,
    DT_RULE_SEQUENCE,
    DT_RULE_KEY_PROJECT_SOLO,
    DT_RULE_CONTACT_PRESSURE,
    DT_RULE_SUPPRESSED,
    DT_RULE_QUIET_HOURS,
    DT_RULES
} dt_rule_t;

typedef enum {
    DT_SEV_OFF = -1,            //  the rule is not evaluated at all
    DT_SEV_INFO = 0,            //  reported, leaves the verdict ok
    DT_SEV_WARN = 1,
    DT_SEV_VIOLATION = 2
} dt_severity_t;

typedef enum {
    DT_VERDICT_OK = 0,
    DT_VERDICT_WARN = 1,
    DT_VERDICT_VIOLATION = 2
} dt_verdict_t;

//  What "the same customer" means for the collision rule
typedef enum {
    DT_SCOPE_CONTACT = 0,       //  same contact; touches without a contact
                                //  count for the whole account
    DT_SCOPE_ACCOUNT = 1        //  any contact of the same account
} dt_scope_t;

//  The engine keeps the last DT_TOUCHES_KEPT touches of an account, so a
//  pressure limit can be at most one less (see docs/rules.md)
#define DT_TOUCHES_KEPT     16
#define DT_PRESSURE_LIMIT   (DT_TOUCHES_KEPT - 1)

//  Longest window accepted, so window arithmetic can never overflow
#define DT_WINDOW_MAX_MS    (3650LL * 86400000LL)

//  A plain struct: copy it, compare it, set fields in tests. Use
//  dt_rules_config_set for anything that comes from outside.
struct _dt_rules_config_t {
    dt_severity_t severity [DT_RULES];
    int64_t collision_window;       //  ms, default 72h
    dt_scope_t collision_scope;     //  default contact
    int pressure_contact_max;       //  default 3
    int pressure_account_max;       //  default 10
    int64_t pressure_period;        //  ms, default 7d
    int64_t sequence_window;        //  ms, default 30d
    int64_t memory_window;          //  ms, default 30d: claims, themes, projects
    dt_budget_t budget;             //  caps, sending hours, default zone (caps.h)
};

//  The longest text form of a setting (budget.caps): a buffer this big
//  holds any value dt_rules_config_get writes
#define DT_SETTING_TEXT_MAX DT_CAPS_TEXT_MAX
typedef struct _dt_rules_config_t dt_rules_config_t;

//  The public rule id ("stage_crossing", ...), or "unknown"
const char *dt_rule_id (dt_rule_t rule);

//  The rule with that id, or DT_RULES if there is none
dt_rule_t dt_rule_parse (const char *id);

//  "off", "info", "warn", "violation"
const char *dt_severity_name (dt_severity_t severity);

//  Parse a severity name into *severity. Returns 0 or -1.
int dt_severity_parse (const char *name, dt_severity_t *severity);

//  "ok", "warn", "violation"
const char *dt_verdict_name (dt_verdict_t verdict);

//  Fill cfg with the documented defaults
void dt_rules_config_default (dt_rules_config_t *cfg);

//  Set one key from its text form: "severity.<rule id>" (off|info|warn|
//  violation), "collision.window", "collision.scope" (contact|account),
//  "pressure.contact.max", "pressure.account.max", "pressure.period",
//  "sequence.window", "memory.window", "budget.caps", "budget.quiet",
//  "budget.timezone" (caps.h has their forms). Durations are like "72h", "7d",
//  "30m", "90s", "1d12h". Returns 0, or -1 with a sentence in err and cfg
//  unchanged.
int dt_rules_config_set (dt_rules_config_t *cfg, const char *key, const char *value,
                         char *err, size_t errlen);

//  Write the text form of one key's value into buf (the form _set takes).
//  Returns 0, or -1 for an unknown key.
int dt_rules_config_get (const dt_rules_config_t *cfg, const char *key,
                         char *buf, size_t buflen);

//  All keys _set accepts, NULL-terminated: lets the daemon map environment
//  variables and log the configuration in force.
const char *const *dt_rules_config_keys (void);

//  Check a whole configuration (e.g. one built field by field). Returns 0,
//  or -1 with a sentence in err.
int dt_rules_config_check (const dt_rules_config_t *cfg, char *err, size_t errlen);

//  How far back the engine must remember: the largest window. Accounts with
//  no touch inside it are evicted; the caller reloads this much history for an account memory let go.
int64_t dt_rules_config_horizon (const dt_rules_config_t *cfg);

//  Parse a duration such as "72h", "7d", "30m", "90s", "250ms" or "1d12h"
//  into milliseconds. Returns 0, or -1 if the text is not a positive
//  duration of at most DT_WINDOW_MAX_MS.
int dt_duration_parse (const char *text, int64_t *ms);

//  Format milliseconds in the largest unit that divides them ("72h", "7d")
void dt_duration_format (int64_t ms, char *buf, size_t buflen);

#endif
