/*  settings.c - rule ids, severities and the rule configuration (see
    settings.h, docs/rules.md for every key and its default).
*/
#include "rules/settings.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *s_rule_ids [DT_RULES] = {
    "stage_crossing", "collision", "unknown_theme", "theme_stage",
    "banned_phrase", "claim_conflict", "lead_violation", "sequence",
    "key_project_solo", "contact_pressure", "suppressed", "quiet_hours"
};

//  Defaults: what breaks one of the four rules outright is a violation;
//  what may have a good reason (a busy week, a theme not yet approved at
//  that stage) is a warning a manager looks at.
static const dt_severity_t s_default_severity [DT_RULES] = {
    [DT_RULE_STAGE_CROSSING]   = DT_SEV_VIOLATION,
    [DT_RULE_COLLISION]        = DT_SEV_WARN,
    [DT_RULE_UNKNOWN_THEME]    = DT_SEV_WARN,
    [DT_RULE_THEME_STAGE]      = DT_SEV_WARN,
    [DT_RULE_BANNED_PHRASE]    = DT_SEV_VIOLATION,
    [DT_RULE_CLAIM_CONFLICT]   = DT_SEV_VIOLATION,
    [DT_RULE_LEAD_VIOLATION]   = DT_SEV_WARN,
    [DT_RULE_SEQUENCE]         = DT_SEV_WARN,
    [DT_RULE_KEY_PROJECT_SOLO] = DT_SEV_WARN,
    [DT_RULE_CONTACT_PRESSURE] = DT_SEV_WARN,
    //  Touching a buyer who said no breaks consent, whatever the reason
    [DT_RULE_SUPPRESSED]       = DT_SEV_VIOLATION,
    [DT_RULE_QUIET_HOURS]      = DT_SEV_WARN
};

#define HOUR_MS     INT64_C (3600000)
#define DAY_MS      INT64_C (86400000)

static const char *const config_keys [] = {
    "severity.stage_crossing", "severity.collision", "severity.unknown_theme",
    "severity.theme_stage", "severity.banned_phrase", "severity.claim_conflict",
    "severity.lead_violation", "severity.sequence", "severity.key_project_solo",
    "severity.contact_pressure", "severity.suppressed", "severity.quiet_hours",
    "collision.window", "collision.scope",
    "pressure.contact.max", "pressure.account.max", "pressure.period",
    "sequence.window", "memory.window",
    "budget.caps", "budget.quiet", "budget.timezone",
    NULL
};

const char *
dt_rule_id (dt_rule_t rule)
{
    return rule >= 0 && rule < DT_RULES? s_rule_ids [rule]: "unknown";
}

dt_rule_t
dt_rule_parse (const char *id)
{
    for (int i = 0; i < DT_RULES; i++)
        if (strcmp (s_rule_ids [i], id) == 0)
            return (dt_rule_t) i;
    return DT_RULES;
}

const char *
dt_severity_name (dt_severity_t severity)
{
    switch (severity) {
        case DT_SEV_OFF:        return "off";
        case DT_SEV_INFO:       return "info";
        case DT_SEV_WARN:       return "warn";
        case DT_SEV_VIOLATION:  return "violation";
    }
    return "unknown";
}

int
dt_severity_parse (const char *name, dt_severity_t *severity)
{
    for (int s = DT_SEV_OFF; s <= DT_SEV_VIOLATION; s++)
        if (strcmp (name, dt_severity_name ((dt_severity_t) s)) == 0) {
            *severity = (dt_severity_t) s;
            return 0;
        }
    return -1;
}

const char *
dt_verdict_name (dt_verdict_t verdict)
{
    switch (verdict) {
        case DT_VERDICT_OK:         return "ok";
        case DT_VERDICT_WARN:       return "warn";
        case DT_VERDICT_VIOLATION:  return "violation";
    }
    return "unknown";
}

void
dt_rules_config_default (dt_rules_config_t *cfg)
{
    memset (cfg, 0, sizeof *cfg);
    memcpy (cfg->severity, s_default_severity, sizeof cfg->severity);
    cfg->collision_window = 72 * HOUR_MS;
    cfg->collision_scope = DT_SCOPE_CONTACT;
    cfg->pressure_contact_max = 3;
    cfg->pressure_account_max = 10;
    cfg->pressure_period = 7 * DAY_MS;
    cfg->sequence_window = 30 * DAY_MS;
    cfg->memory_window = 30 * DAY_MS;
    dt_budget_default (&cfg->budget);
}

int
dt_duration_parse (const char *text, int64_t *ms)
{
    const char *cursor = text;
    int64_t total = 0;
    if (!*cursor)
        return -1;
    while (*cursor) {
        if (*cursor < '0' || *cursor > '9')
            return -1;
        int64_t number = 0;
        while (*cursor >= '0' && *cursor <= '9') {
            number = number * 10 + (*cursor++ - '0');
            if (number > DT_WINDOW_MAX_MS)
                return -1;
        }
        int64_t unit;
        if (strncmp (cursor, "ms", 2) == 0) { unit = 1; cursor += 2; }
        else if (*cursor == 's') { unit = 1000; cursor++; }
        else if (*cursor == 'm') { unit = 60000; cursor++; }
        else if (*cursor == 'h') { unit = HOUR_MS; cursor++; }
        else if (*cursor == 'd') { unit = DAY_MS; cursor++; }
        else
            return -1;              //  a bare number is ambiguous: refuse it
        if (number > DT_WINDOW_MAX_MS / unit)
            return -1;
        total += number * unit;
        if (total > DT_WINDOW_MAX_MS)
            return -1;
    }
    if (total <= 0)
        return -1;
    *ms = total;
    return 0;
}

void
dt_duration_format (int64_t ms, char *buf, size_t buflen)
{
    //  Hours read better than days for short windows ("72h", not "3d")
    if (ms % DAY_MS == 0 && ms >= 7 * DAY_MS)
        snprintf (buf, buflen, "%" PRId64 "d", ms / DAY_MS);
    else
    if (ms % HOUR_MS == 0)
        snprintf (buf, buflen, "%" PRId64 "h", ms / HOUR_MS);
    else
    if (ms % 60000 == 0)
        snprintf (buf, buflen, "%" PRId64 "m", ms / 60000);
    else
    if (ms % 1000 == 0)
        snprintf (buf, buflen, "%" PRId64 "s", ms / 1000);
    else
        snprintf (buf, buflen, "%" PRId64 "ms", ms);
}

static int
s_parse_count (const char *key, const char *value, int *out, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long number = strtol (value, &end, 10);
    if (errno || end == value || *end || number < 1 || number > DT_PRESSURE_LIMIT) {
        snprintf (err, errlen, "%s must be a whole number from 1 to %d, not '%s'",
                  key, DT_PRESSURE_LIMIT, value);
        return -1;
    }
    *out = (int) number;
    return 0;
}

static int
s_parse_window (const char *key, const char *value, int64_t *out, char *err, size_t errlen)
{
    if (dt_duration_parse (value, out)) {
        snprintf (err, errlen, "%s must be a duration like 72h, 7d or 30m "
                  "(at most 3650d), not '%s'", key, value);
        return -1;
    }
    return 0;
}

int
dt_rules_config_set (dt_rules_config_t *cfg, const char *key, const char *value,
                     char *err, size_t errlen)
{
    if (!key || !value) {
        snprintf (err, errlen, "a configuration key and value are required");
        return -1;
    }
    if (strncmp (key, "severity.", 9) == 0) {
        dt_rule_t rule = dt_rule_parse (key + 9);
        if (rule == DT_RULES) {
            snprintf (err, errlen, "'%s' names no rule; rules are stage_crossing, "
                      "collision, unknown_theme, theme_stage, banned_phrase, "
                      "claim_conflict, lead_violation, sequence, key_project_solo, "
                      "contact_pressure, suppressed, quiet_hours", key);
            return -1;
        }
        if (dt_severity_parse (value, &cfg->severity [rule])) {
            snprintf (err, errlen, "%s must be off, info, warn or violation, not '%s'",
                      key, value);
            return -1;
        }
        return 0;
    }
    if (strcmp (key, "collision.window") == 0)
        return s_parse_window (key, value, &cfg->collision_window, err, errlen);
    if (strcmp (key, "pressure.period") == 0)
        return s_parse_window (key, value, &cfg->pressure_period, err, errlen);
    if (strcmp (key, "sequence.window") == 0)
        return s_parse_window (key, value, &cfg->sequence_window, err, errlen);
    if (strcmp (key, "memory.window") == 0)
        return s_parse_window (key, value, &cfg->memory_window, err, errlen);
    if (strcmp (key, "pressure.contact.max") == 0)
        return s_parse_count (key, value, &cfg->pressure_contact_max, err, errlen);
    if (strcmp (key, "pressure.account.max") == 0)
        return s_parse_count (key, value, &cfg->pressure_account_max, err, errlen);
    if (strcmp (key, "budget.caps") == 0)
        return dt_budget_set_caps (&cfg->budget, value, err, errlen);
    if (strcmp (key, "budget.quiet") == 0)
        return dt_budget_set_quiet (&cfg->budget, value, err, errlen);
    if (strcmp (key, "budget.timezone") == 0)
        return dt_budget_set_zone (&cfg->budget, value, err, errlen);
    if (strcmp (key, "collision.scope") == 0) {
        if (strcmp (value, "contact") == 0)
            cfg->collision_scope = DT_SCOPE_CONTACT;
        else
        if (strcmp (value, "account") == 0)
            cfg->collision_scope = DT_SCOPE_ACCOUNT;
        else {
            snprintf (err, errlen, "collision.scope must be contact or account, not '%s'",
                      value);
            return -1;
        }
        return 0;
    }
    snprintf (err, errlen, "'%s' is not a rule configuration key; see docs/rules.md "
              "for the list", key);
    return -1;
}

int
dt_rules_config_get (const dt_rules_config_t *cfg, const char *key, char *buf, size_t buflen)
{
    if (strncmp (key, "severity.", 9) == 0) {
        dt_rule_t rule = dt_rule_parse (key + 9);
        if (rule == DT_RULES)
            return -1;
        snprintf (buf, buflen, "%s", dt_severity_name (cfg->severity [rule]));
    }
    else
    if (strcmp (key, "collision.window") == 0)
        dt_duration_format (cfg->collision_window, buf, buflen);
    else
    if (strcmp (key, "pressure.period") == 0)
        dt_duration_format (cfg->pressure_period, buf, buflen);
    else
    if (strcmp (key, "sequence.window") == 0)
        dt_duration_format (cfg->sequence_window, buf, buflen);
    else
    if (strcmp (key, "memory.window") == 0)
        dt_duration_format (cfg->memory_window, buf, buflen);
    else
    if (strcmp (key, "pressure.contact.max") == 0)
        snprintf (buf, buflen, "%d", cfg->pressure_contact_max);
    else
    if (strcmp (key, "pressure.account.max") == 0)
        snprintf (buf, buflen, "%d", cfg->pressure_account_max);
    else
    if (strcmp (key, "budget.caps") == 0)
        dt_budget_caps_text (&cfg->budget, buf, buflen);
    else
    if (strcmp (key, "budget.quiet") == 0)
        dt_budget_quiet_text (&cfg->budget, buf, buflen);
    else
    if (strcmp (key, "budget.timezone") == 0)
        snprintf (buf, buflen, "%s", cfg->budget.zone);
    else
    if (strcmp (key, "collision.scope") == 0)
        snprintf (buf, buflen, "%s",
                  cfg->collision_scope == DT_SCOPE_ACCOUNT? "account": "contact");
    else
        return -1;
    return 0;
}

const char *const *
dt_rules_config_keys (void)
{
    return config_keys;
}

int
dt_rules_config_check (const dt_rules_config_t *cfg, char *err, size_t errlen)
{
    for (int i = 0; i < DT_RULES; i++)
        if (cfg->severity [i] < DT_SEV_OFF || cfg->severity [i] > DT_SEV_VIOLATION) {
            snprintf (err, errlen, "severity.%s is not off, info, warn or violation",
                      s_rule_ids [i]);
            return -1;
        }
    const struct { const char *key; int64_t value; } windows [] = {
        { "collision.window", cfg->collision_window },
        { "pressure.period", cfg->pressure_period },
        { "sequence.window", cfg->sequence_window },
        { "memory.window", cfg->memory_window }
    };
    for (size_t i = 0; i < sizeof windows / sizeof windows [0]; i++)
        if (windows [i].value <= 0 || windows [i].value > DT_WINDOW_MAX_MS) {
            snprintf (err, errlen, "%s must be a duration between 1ms and 3650d",
                      windows [i].key);
            return -1;
        }
    if (cfg->pressure_contact_max < 1 || cfg->pressure_contact_max > DT_PRESSURE_LIMIT
    ||  cfg->pressure_account_max < 1 || cfg->pressure_account_max > DT_PRESSURE_LIMIT) {
        snprintf (err, errlen, "pressure.contact.max and pressure.account.max must be "
                  "from 1 to %d", DT_PRESSURE_LIMIT);
        return -1;
    }
    if (cfg->collision_scope != DT_SCOPE_CONTACT && cfg->collision_scope != DT_SCOPE_ACCOUNT) {
        snprintf (err, errlen, "collision.scope must be contact or account");
        return -1;
    }
    return dt_budget_check (&cfg->budget, err, errlen);
}

int64_t
dt_rules_config_horizon (const dt_rules_config_t *cfg)
{
    int64_t horizon = cfg->collision_window;
    if (cfg->pressure_period > horizon)
        horizon = cfg->pressure_period;
    if (cfg->sequence_window > horizon)
        horizon = cfg->sequence_window;
    if (cfg->memory_window > horizon)
        horizon = cfg->memory_window;
    if (dt_budget_horizon (&cfg->budget) > horizon)
        horizon = dt_budget_horizon (&cfg->budget);
    return horizon;
}
