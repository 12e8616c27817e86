/*  caps.c - the contact budget's settings in text and back (see caps.h,
    docs/rules.md "Contact budget"). Every refusal names the cap or channel
    and says what was expected.
*/
#include "rules/caps.h"
#include "proto/event.h"
#include "rules/settings.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HOUR_MS     INT64_C (3600000)
#define DAY_MS      INT64_C (86400000)

//  proto/PROTOCOL.md's channels: a filter on another could never match
static const char *s_channels [] = {
    "email", "phone", "meeting", "webinar", "event", "ad", "web", "social", "chat",
    "letter", "other"
};
#define CHANNELS (sizeof s_channels / sizeof s_channels [0])

static const char *s_days [7] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

static bool
s_channel_known (const char *name)
{
    for (size_t i = 0; i < CHANNELS; i++)
        if (strcmp (name, s_channels [i]) == 0)
            return true;
    return false;
}

static bool
s_name_ok (const char *name, size_t max)
{
    size_t len = strlen (name);
    if (len == 0 || len > max)
        return false;
    for (const char *c = name; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
           || *c == '-' || *c == '_' || *c == '.'))
            return false;
    return true;
}

//  Split text at ';' into trimmed items (written into a copy); calls fn on
//  each non-empty one. Returns fn's first non-zero answer.
typedef int (s_item_fn) (void *arg, char *item, int index, char *err, size_t errlen);

static int
s_each_item (const char *text, s_item_fn *fn, void *arg, char *err, size_t errlen)
{
    size_t len = strlen (text);
    if (len >= DT_CAPS_TEXT_MAX) {
        snprintf (err, errlen, "the text is %zu bytes long; at most %d", len,
                  DT_CAPS_TEXT_MAX - 1);
        return -1;
    }
    char copy [DT_CAPS_TEXT_MAX];
    memcpy (copy, text, len + 1);
    int index = 0;
    for (char *item = copy, *next; item; item = next) {
        next = strchr (item, ';');
        if (next)
            *next++ = 0;
        for (char *c = item; *c; c++)
            if (*c == '\n' || *c == '\t' || *c == '\r')
                *c = ' ';
        while (*item == ' ')
            item++;
        size_t item_len = strlen (item);
        while (item_len && item [item_len - 1] == ' ')
            item [--item_len] = 0;
        if (!*item)
            continue;
        int rc = fn (arg, item, index++, err, errlen);
        if (rc)
            return rc;
    }
    return 0;
}

//  The next space-separated word of *cursor, or NULL
static char *
s_word (char **cursor)
{
    char *c = *cursor;
    while (*c == ' ')
        c++;
    if (!*c)
        return NULL;
    char *word = c;
    while (*c && *c != ' ')
        c++;
    if (*c)
        *c++ = 0;
    *cursor = c;
    return word;
}

static int
s_fail (char *err, size_t errlen, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    vsnprintf (err, errlen, format, args);
    va_end (args);
    return -1;
}

void
dt_budget_default (dt_budget_t *budget)
{
    memset (budget, 0, sizeof *budget);
    strcpy (budget->zone, "UTC");
}

//  --------------------------------------------------------------------------
//  Caps

static int
s_window (dt_cap_t *cap, const char *text, char *err, size_t errlen)
{
    if (strcmp (text, "day") == 0) cap->window = DT_WINDOW_DAY;
    else if (strcmp (text, "week") == 0) cap->window = DT_WINDOW_WEEK;
    else if (strcmp (text, "month") == 0) cap->window = DT_WINDOW_MONTH;
    else {
        int64_t ms;
        cap->window = DT_WINDOW_ROLLING;
        if (dt_duration_parse (text, &ms) || ms > DT_CAP_WINDOW_MAX
        ||  (ms < 2 * DAY_MS && ms % HOUR_MS) || (ms >= 2 * DAY_MS && ms % DAY_MS))
            return s_fail (err, errlen, "cap %s: the window must be day, week, month, whole "
                           "hours under 2 days (24h) or whole days up to 90 (7d, 30d), "
                           "not '%s'", cap->name, text);
        cap->length = ms;
    }
    return 0;
}

static int
s_cap_item (void *arg, char *item, int index, char *err, size_t errlen)
{
    dt_budget_t *budget = (dt_budget_t *) arg;
    if (index >= DT_CAPS_MAX)
        return s_fail (err, errlen, "at most %d caps", DT_CAPS_MAX);
    dt_cap_t *cap = &budget->cap [index];
    memset (cap, 0, sizeof *cap);
    cap->category = cap->track = -1;
    char *colon = strchr (item, ':');
    if (!colon)
        return s_fail (err, errlen, "cap %d ('%.40s') must start with its name and a colon, "
                       "as in 'emails: contact channel=email 20 per month'", index + 1, item);
    *colon = 0;
    size_t name_len = strlen (item);
    while (name_len && item [name_len - 1] == ' ')
        item [--name_len] = 0;
    if (!s_name_ok (item, DT_CAP_NAME_MAX))
        return s_fail (err, errlen, "cap %d: the name '%.40s' must be 1 to %d letters, digits, "
                       "'-', '_' or '.'", index + 1, item, DT_CAP_NAME_MAX);
    strcpy (cap->name, item);
    for (int i = 0; i < index; i++)
        if (strcmp (budget->cap [i].name, cap->name) == 0)
            return s_fail (err, errlen, "cap %s is named twice", cap->name);
    char *cursor = colon + 1, *word;
    bool scoped = false, limited = false;
    while ((word = s_word (&cursor))) {
        char *eq = strchr (word, '=');
        if (strcmp (word, "contact") == 0 || strcmp (word, "account") == 0) {
            if (scoped)
                return s_fail (err, errlen, "cap %s: one scope (contact or account)", cap->name);
            scoped = true;
            cap->per_account = word [0] == 'a';
        }
        else
        if (eq) {
            *eq = 0;
            const char *value = eq + 1;
            if (strcmp (word, "channel") == 0) {
                if (!s_channel_known (value))
                    return s_fail (err, errlen, "cap %s: channel '%.40s' is not one of email, "
                                   "phone, meeting, webinar, event, ad, web, social, chat, "
                                   "letter, other", cap->name, value);
                snprintf (cap->channel, sizeof cap->channel, "%s", value);
            }
            else
            if (strcmp (word, "kind") == 0) {
                if (!s_name_ok (value, DT_CAP_VALUE_MAX))
                    return s_fail (err, errlen, "cap %s: kind '%.40s' must be 1 to %d letters, "
                                   "digits, '-', '_' or '.'", cap->name, value, DT_CAP_VALUE_MAX);
                strcpy (cap->kind, value);
            }
            else
            if (strcmp (word, "category") == 0) {
                if (strcmp (value, "promotional") == 0)
                    cap->category = DT_CATEGORY_PROMOTIONAL;
                else
                if (strcmp (value, "one_to_one") == 0)
                    cap->category = DT_CATEGORY_ONE_TO_ONE;
                else
                    return s_fail (err, errlen, "cap %s: category must be promotional or "
                                   "one_to_one (transactional touches are never capped), not "
                                   "'%.40s'", cap->name, value);
            }
            else
            if (strcmp (word, "track") == 0) {
                if (strcmp (value, "marketing") == 0)
                    cap->track = DT_TRACK_MARKETING;
                else
                if (strcmp (value, "sales") == 0)
                    cap->track = DT_TRACK_SALES;
                else
                    return s_fail (err, errlen, "cap %s: track must be marketing or sales, "
                                   "not '%.40s'", cap->name, value);
            }
            else
                return s_fail (err, errlen, "cap %s: '%.40s' is not a filter (they are "
                               "channel, kind, category, track)", cap->name, word);
        }
        else
        if (*word >= '0' && *word <= '9') {
            char *end;
            long limit = strtol (word, &end, 10);
            char *per = s_word (&cursor), *window = s_word (&cursor);
            if (*end || limit < 1 || limit > DT_CAP_LIMIT_MAX)
                return s_fail (err, errlen, "cap %s: the limit must be a whole number from 1 "
                               "to %d, not '%.40s'", cap->name, DT_CAP_LIMIT_MAX, word);
            if (!per || strcmp (per, "per") != 0 || !window)
                return s_fail (err, errlen, "cap %s: the limit is followed by 'per' and a "
                               "window, as in '20 per month'", cap->name);
            cap->limit = (int) limit;
            if (s_window (cap, window, err, errlen))
                return -1;
            limited = true;
            if ((word = s_word (&cursor)))
                return s_fail (err, errlen, "cap %s: '%.40s' after the window; the window "
                               "comes last", cap->name, word);
        }
        else
            return s_fail (err, errlen, "cap %s: '%.40s' is neither a scope (contact, "
                           "account), a filter (channel=, kind=, category=, track=) nor a "
                           "limit ('20 per month')", cap->name, word);
    }
    if (!limited)
        return s_fail (err, errlen, "cap %s has no limit and window ('20 per month')",
                       cap->name);
    budget->cap_count = index + 1;
    return 0;
}

int
dt_budget_set_caps (dt_budget_t *budget, const char *text, char *err, size_t errlen)
{
    dt_budget_t copy = *budget;
    copy.cap_count = 0;
    if (s_each_item (text, s_cap_item, &copy, err, errlen))
        return -1;
    memset (copy.cap + copy.cap_count, 0, sizeof copy.cap [0] * (DT_CAPS_MAX - copy.cap_count));
    *budget = copy;
    return 0;
}

void
dt_cap_window_text (const dt_cap_t *cap, char *buf, size_t buflen)
{
    if (cap->window == DT_WINDOW_DAY)
        snprintf (buf, buflen, "day");
    else
    if (cap->window == DT_WINDOW_WEEK)
        snprintf (buf, buflen, "week");
    else
    if (cap->window == DT_WINDOW_MONTH)
        snprintf (buf, buflen, "month");
    else
    if (cap->length < 2 * DAY_MS)
        snprintf (buf, buflen, "%lldh", (long long) (cap->length / HOUR_MS));
    else
        snprintf (buf, buflen, "%lldd", (long long) (cap->length / DAY_MS));
}

void
dt_budget_caps_text (const dt_budget_t *budget, char *buf, size_t buflen)
{
    size_t len = 0;
    buf [0] = 0;
    for (int i = 0; i < budget->cap_count && len < buflen; i++) {
        const dt_cap_t *cap = &budget->cap [i];
        char window [16];
        dt_cap_window_text (cap, window, sizeof window);
        len += (size_t) snprintf (buf + len, buflen - len, "%s%s: %s%s%s%s%s%s%s%s%s %d per %s",
            i? "; ": "", cap->name, cap->per_account? "account": "contact",
            cap->channel [0]? " channel=": "", cap->channel,
            cap->kind [0]? " kind=": "", cap->kind,
            cap->category >= 0? " category=": "",
            cap->category >= 0? dt_category_name ((dt_category_t) cap->category): "",
            cap->track >= 0? " track=": "",
            cap->track >= 0? dt_track_name ((dt_track_t) cap->track): "",
            cap->limit, window);
    }
}

//  --------------------------------------------------------------------------
//  Sending hours

static int
s_day (const char *text, size_t len)
{
    for (int d = 0; d < 7; d++)
        if (len == 3 && memcmp (text, s_days [d], 3) == 0)
            return d;
    return -1;
}

static int
s_clock (const char *text, int *minutes)
{
    if (strlen (text) != 5 || text [2] != ':'
    ||  text [0] < '0' || text [0] > '2' || text [1] < '0' || text [1] > '9'
    ||  text [3] < '0' || text [3] > '5' || text [4] < '0' || text [4] > '9')
        return -1;
    *minutes = ((text [0] - '0') * 10 + text [1] - '0') * 60 + (text [3] - '0') * 10 + text [4] - '0';
    return *minutes > 24 * 60? -1: 0;
}

static int
s_quiet_item (void *arg, char *item, int index, char *err, size_t errlen)
{
    dt_budget_t *budget = (dt_budget_t *) arg;
    if (index >= DT_QUIET_MAX)
        return s_fail (err, errlen, "sending hours for at most %d channels", DT_QUIET_MAX);
    dt_quiet_t *quiet = &budget->quiet [index];
    memset (quiet, 0, sizeof *quiet);
    quiet->days = 0x7F;
    quiet->from = 0;
    quiet->to = 24 * 60;
    char *cursor = item, *word = s_word (&cursor);
    if (!word || !s_channel_known (word))
        return s_fail (err, errlen, "sending hours %d ('%.40s') must start with a channel "
                       "(email, phone, meeting, webinar, event, ad, web, social, chat, letter, "
                       "other)", index + 1, item);
    strcpy (quiet->channel, word);
    for (int i = 0; i < index; i++)
        if (strcmp (budget->quiet [i].channel, quiet->channel) == 0)
            return s_fail (err, errlen, "sending hours for %s are given twice", quiet->channel);
    bool days_set = false, hours_set = false;
    while ((word = s_word (&cursor))) {
        char *dash = strchr (word, '-');
        if (strchr (word, ':')) {
            int from, to;
            if (hours_set || !dash || (*dash = 0, s_clock (word, &from)) || s_clock (dash + 1, &to)
            ||  from >= to)
                return s_fail (err, errlen, "%s: hours must be given once as HH:MM-HH:MM, the "
                               "start before the end (00:00 to 24:00)", quiet->channel);
            quiet->from = (int16_t) from;
            quiet->to = (int16_t) to;
            hours_set = true;
            continue;
        }
        if (days_set)
            return s_fail (err, errlen, "%s: days are given once, as in mon-fri or "
                           "mon,wed,fri", quiet->channel);
        days_set = true;
        quiet->days = 0;
        for (char *part = word, *next; part; part = next) {
            next = strchr (part, ',');
            if (next)
                *next++ = 0;
            char *to = strchr (part, '-');
            int first = s_day (part, to? (size_t) (to - part): strlen (part));
            int last = to? s_day (to + 1, strlen (to + 1)): first;
            if (first < 0 || last < 0)
                return s_fail (err, errlen, "%s: '%.40s' is not a day or a range of days "
                               "(mon, tue, wed, thu, fri, sat, sun; mon-fri)", quiet->channel,
                               part);
            for (int d = first; ; d = (d + 1) % 7) {
                quiet->days |= (uint8_t) (1 << d);
                if (d == last)
                    break;
            }
        }
    }
    if (!days_set && !hours_set)
        return s_fail (err, errlen, "%s: give the days (mon-fri) or hours (08:00-20:00) when "
                       "it may be used", quiet->channel);
    budget->quiet_count = index + 1;
    return 0;
}

int
dt_budget_set_quiet (dt_budget_t *budget, const char *text, char *err, size_t errlen)
{
    dt_budget_t copy = *budget;
    copy.quiet_count = 0;
    if (s_each_item (text, s_quiet_item, &copy, err, errlen))
        return -1;
    memset (copy.quiet + copy.quiet_count, 0,
            sizeof copy.quiet [0] * (DT_QUIET_MAX - copy.quiet_count));
    *budget = copy;
    return 0;
}

void
dt_budget_quiet_text (const dt_budget_t *budget, char *buf, size_t buflen)
{
    size_t len = 0;
    buf [0] = 0;
    for (int i = 0; i < budget->quiet_count && len < buflen; i++) {
        const dt_quiet_t *quiet = &budget->quiet [i];
        len += (size_t) snprintf (buf + len, buflen - len, "%s%s", i? "; ": "", quiet->channel);
        if (quiet->days != 0x7F) {
            //  Runs of days from Monday to Sunday: "mon-fri", "mon,wed,fri"
            char days [64] = "";
            size_t days_len = 0;
            for (int i = 1; i <= 7; ) {
                if (!(quiet->days & (1 << (i % 7)))) {
                    i++;
                    continue;
                }
                int j = i;
                while (j + 1 <= 7 && (quiet->days & (1 << ((j + 1) % 7))))
                    j++;
                days_len += (size_t) snprintf (days + days_len, sizeof days - days_len,
                                               "%s%s", days_len? ",": "", s_days [i % 7]);
                if (j > i)
                    days_len += (size_t) snprintf (days + days_len, sizeof days - days_len,
                                                   "-%s", s_days [j % 7]);
                i = j + 1;
            }
            len += (size_t) snprintf (buf + len, buflen - len, " %s", days);
        }
        if (len < buflen && (quiet->from != 0 || quiet->to != 24 * 60))
            len += (size_t) snprintf (buf + len, buflen - len, " %02d:%02d-%02d:%02d",
                                      quiet->from / 60, quiet->from % 60,
                                      quiet->to / 60, quiet->to % 60);
    }
}

//  --------------------------------------------------------------------------
//  Zone, checks, horizon

int
dt_budget_set_zone (dt_budget_t *budget, const char *text, char *err, size_t errlen)
{
    size_t len = strlen (text);
    bool ok = len > 0 && len < sizeof budget->zone && text [0] != '/'
           && strstr (text, "..") == NULL;
    for (const char *c = text; ok && *c; c++)
        ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
          || *c == '/' || *c == '_' || *c == '-' || *c == '+';
    if (!ok)
        return s_fail (err, errlen, "budget.timezone must be an IANA time zone name like "
                       "Europe/Berlin or UTC, not '%.60s'", text);
    strcpy (budget->zone, text);
    return 0;
}

int
dt_budget_check (const dt_budget_t *budget, char *err, size_t errlen)
{
    char caps [DT_CAPS_TEXT_MAX], quiet [DT_CAPS_TEXT_MAX];
    if (budget->cap_count < 0 || budget->cap_count > DT_CAPS_MAX
    ||  budget->quiet_count < 0 || budget->quiet_count > DT_QUIET_MAX)
        return s_fail (err, errlen, "at most %d caps and %d channels' sending hours",
                       DT_CAPS_MAX, DT_QUIET_MAX);
    //  Whatever was set field by field must read back the same
    dt_budget_t copy;
    dt_budget_default (&copy);
    dt_budget_caps_text (budget, caps, sizeof caps);
    dt_budget_quiet_text (budget, quiet, sizeof quiet);
    if (dt_budget_set_caps (&copy, caps, err, errlen)
    ||  dt_budget_set_quiet (&copy, quiet, err, errlen)
    ||  dt_budget_set_zone (&copy, budget->zone, err, errlen))
        return -1;
    return 0;
}

int64_t
dt_budget_horizon (const dt_budget_t *budget)
{
    int64_t longest = 0;
    for (int i = 0; i < budget->cap_count; i++) {
        const dt_cap_t *cap = &budget->cap [i];
        int64_t span = cap->window == DT_WINDOW_ROLLING? cap->length:
                       cap->window == DT_WINDOW_DAY? DAY_MS:
                       cap->window == DT_WINDOW_WEEK? 7 * DAY_MS: 31 * DAY_MS;
        if (span > longest)
            longest = span;
    }
    return longest? longest + DAY_MS: 0;
}
