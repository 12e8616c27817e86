/*  caps.h - the contact budget's settings (docs/rules.md, "Contact
    budget"): any number of caps (a scope, a filter, a limit, a rolling or
    calendar window), sending hours per channel for the quiet_hours rule, and
    the default time zone. Their text forms are what the rule settings
    `budget.caps`, `budget.quiet` and `budget.timezone` hold, and what the
    policy file's `rules: budget:` section says:

        budget.caps      emails: contact channel=email 20 per month;
                         phone: contact channel=phone 2 per 7d;
                         everything: account 30 per 30d
        budget.quiet     phone mon-fri 08:00-20:00; email mon-sat
        budget.timezone  Europe/Berlin

    Plain structs with fixed arrays, so the rule configuration that holds
    them stays a value (copied, compared). Pure: text in, struct out, and
    back to canonical text.
*/
#ifndef DT_CAPS_H
#define DT_CAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DT_CAPS_MAX         16
#define DT_QUIET_MAX        16
#define DT_CAP_NAME_MAX     31
#define DT_CAP_VALUE_MAX    31          //  channel and kind filters
#define DT_CAP_LIMIT_MAX    1000
#define DT_CAP_WINDOW_MAX   (90LL * 86400000LL)
#define DT_CAPS_TEXT_MAX    4096        //  the longest text form

typedef enum {
    DT_WINDOW_ROLLING = 0,      //  the last N days (or hours) up to the touch's
    DT_WINDOW_DAY,              //  calendar day, week (Monday to Sunday) or
    DT_WINDOW_WEEK,             //  month in the contact's time zone
    DT_WINDOW_MONTH
} dt_window_t;

typedef struct {
    char name [DT_CAP_NAME_MAX + 1];
    bool per_account;           //  scope: the account, else the contact
    char channel [DT_CAP_VALUE_MAX + 1];    //  "" any
    char kind [DT_CAP_VALUE_MAX + 1];       //  "" any
    int category;               //  dt_category_t, -1 any (never transactional)
    int track;                  //  dt_track_t, -1 any
    int limit;                  //  1..DT_CAP_LIMIT_MAX touches per window
    dt_window_t window;
    int64_t length;             //  rolling: ms, whole hours under 2 days,
                                //  whole days from 2 days, at most 90 days
} dt_cap_t;

//  When a channel may be used: on the days in `days` (bit 0 Sunday .. bit 6
//  Saturday), from minute `from` to minute `to` after local midnight
//  (0..1440, from < to). Outside that is quiet.
typedef struct {
    char channel [DT_CAP_VALUE_MAX + 1];
    uint8_t days;
    int16_t from, to;
} dt_quiet_t;

typedef struct {
    int cap_count;
    dt_cap_t cap [DT_CAPS_MAX];
    int quiet_count;
    dt_quiet_t quiet [DT_QUIET_MAX];
    char zone [64];             //  IANA name of the default time zone
} dt_budget_t;

//  No caps, no quiet hours, UTC
void dt_budget_default (dt_budget_t *budget);

//  Parse the text forms into budget (all caps, all quiet hours, or the
//  zone are replaced). Returns 0, or -1 with a sentence naming the cap or
//  channel and why in err, budget unchanged. An empty text means none.
int dt_budget_set_caps (dt_budget_t *budget, const char *text, char *err, size_t errlen);
int dt_budget_set_quiet (dt_budget_t *budget, const char *text, char *err, size_t errlen);
int dt_budget_set_zone (dt_budget_t *budget, const char *text, char *err, size_t errlen);

//  The canonical text forms (parse them and you get the same struct)
void dt_budget_caps_text (const dt_budget_t *budget, char *buf, size_t buflen);
void dt_budget_quiet_text (const dt_budget_t *budget, char *buf, size_t buflen);

//  One cap's window in words: "30 days", "month", "24 hours"
void dt_cap_window_text (const dt_cap_t *cap, char *buf, size_t buflen);

//  Check a budget built field by field. Returns 0, or -1 with a sentence.
int dt_budget_check (const dt_budget_t *budget, char *err, size_t errlen);

//  The longest span the caps look back, in ms (a calendar month counts 31
//  days), plus a day for time zones: memory must reach that far
int64_t dt_budget_horizon (const dt_budget_t *budget);

#endif
