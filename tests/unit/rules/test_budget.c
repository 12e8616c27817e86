/*  test_budget.c - the contact budget: caps and sending hours in text
    (accepted forms read back the same, every refusal says why), and the
    engine counting them: a monthly cap hit on the 21st, two caps on one
    touch, calendar days in two zones for the same instant, a rolling
    window's edges to the bucket, hour windows, quiet hours, transactional
    touches exempt, replays and checks counted once or not at all, 1,000
    touches in 90 days, counters kept across a reload with the same caps and
    dropped with the account; reservations held, used, refused, taken.
*/
#include "rules/engine.h"
#include "rules/policy.h"
#include "unit/testing.h"
#include "unit/tagclash.h"

#include <assert.h>
#include <stdlib.h>

#define HOUR        3600000LL
#define DAY         86400000LL
//  1 May 2026 00:00 UTC, a Friday
#define MAY1        1777593600000LL

static dt_stageset_t stages;
static dt_tzdb_t *zones;

typedef struct {
    dt_event_t ev;
    msgpack_object attrs;
    msgpack_object_kv kv [1];
    char id [64];
} tp_t;

static dt_str_t
s_str (const char *text)
{
    dt_str_t str = { text? text: "", text? (uint32_t) strlen (text): 0 };
    return str;
}

static void
tp_init (tp_t *self, const char *id, dt_track_t track, const char *contact,
         const char *channel, int64_t at)
{
    memset (self, 0, sizeof *self);
    snprintf (self->id, sizeof self->id, "%s", id);
    self->ev.id = s_str (self->id);
    self->ev.source = s_str ("test");
    self->ev.account = s_str ("acct");
    self->ev.contact = s_str (contact);
    if (contact)
        self->ev.present |= DT_HAS_CONTACT;
    const char *stage = track == DT_TRACK_MARKETING? "awareness": "intent";
    self->ev.stage = s_str (stage);
    self->ev.stage_index = dt_stageset_find (&stages, stage, strlen (stage));
    self->ev.channel = s_str (channel);
    self->ev.kind = s_str (channel);
    self->ev.occurred_at = at;
    self->ev.track = self->ev.lead = track;
    self->ev.category = DT_CATEGORY_ONE_TO_ONE;
}

static void
tp_tz (tp_t *self, const char *tz)
{
    self->kv [0].key.type = MSGPACK_OBJECT_STR;
    self->kv [0].key.via.str.ptr = "tz";
    self->kv [0].key.via.str.size = 2;
    self->kv [0].val.type = MSGPACK_OBJECT_STR;
    self->kv [0].val.via.str.ptr = tz;
    self->kv [0].val.via.str.size = (uint32_t) strlen (tz);
    self->attrs.type = MSGPACK_OBJECT_MAP;
    self->attrs.via.map.size = 1;
    self->attrs.via.map.ptr = self->kv;
    self->ev.attrs = &self->attrs;
    self->ev.present |= DT_HAS_ATTRS;
}

static dt_finding_t found [16];
static int found_count;

static int
judge (dt_engine_t *engine, tp_t *tp, bool commit)
{
    dt_verdict_t verdict;
    found_count = dt_engine_judge (engine, &tp->ev, commit, found, 16, &verdict);
    for (int i = 0; i < found_count; i++)
        if (getenv ("TEST_VERBOSE"))
            fprintf (stderr, "  %s: %s\n", dt_rule_id (found [i].rule), found [i].message);
    return found_count;
}

//  The message of the finding of that rule, or NULL
static const char *
finding (dt_rule_t rule)
{
    for (int i = 0; i < found_count; i++)
        if (found [i].rule == rule)
            return found [i].message;
    return NULL;
}

//  An engine with only the budget rules and the given settings (the old
//  single-limit pressure settings out of the way: a 1 ms period)
static dt_engine_t *
s_engine (const char *caps, const char *quiet, const char *zone)
{
    dt_rules_config_t cfg;
    char err [256];
    dt_rules_config_default (&cfg);
    for (int r = 0; r < DT_RULES; r++)
        if (r != DT_RULE_CONTACT_PRESSURE && r != DT_RULE_QUIET_HOURS)
            cfg.severity [r] = DT_SEV_OFF;
    cfg.pressure_period = 1;
    int rc = dt_rules_config_set (&cfg, "budget.caps", caps, err, sizeof err)
           | dt_rules_config_set (&cfg, "budget.quiet", quiet, err, sizeof err)
           | dt_rules_config_set (&cfg, "budget.timezone", zone, err, sizeof err);
    if (rc)
        fprintf (stderr, "settings: %s\n", err);
    assert (rc == 0);
    dt_engine_t *engine = dt_engine_new (&cfg, &stages);
    assert (engine);
    CHECK_INT (dt_engine_set_zones (engine, zones, err, sizeof err), 0);
    return engine;
}

//  --------------------------------------------------------------------------

static void
s_caps_text (const char *text, const char *want)
{
    dt_budget_t budget;
    char err [256], out [DT_CAPS_TEXT_MAX];
    dt_budget_default (&budget);
    int rc = dt_budget_set_caps (&budget, text, err, sizeof err);
    CHECK_INT (rc, 0);
    if (rc)
        fprintf (stderr, "  '%s': %s\n", text, err);
    dt_budget_caps_text (&budget, out, sizeof out);
    CHECK_STR (out, want);
}

static void
s_caps_refused (const char *text, const char *why)
{
    dt_budget_t budget;
    char err [256] = "";
    dt_budget_default (&budget);
    CHECK_INT (dt_budget_set_caps (&budget, "keep: contact 1 per day", err, sizeof err), 0);
    CHECK_INT (dt_budget_set_caps (&budget, text, err, sizeof err), -1);
    if (!strstr (err, why))
        fprintf (stderr, "  '%s': '%s' lacks '%s'\n", text, err, why);
    CHECK (strstr (err, why) != NULL);
    CHECK_INT (budget.cap_count, 1);        //  unchanged
}

static void
s_test_text (void)
{
    s_caps_text ("", "");
    s_caps_text ("emails: channel=email 20 per month",
                 "emails: contact channel=email 20 per month");
    s_caps_text (" a: account 30 per 30d ;\n b : contact channel=phone kind=call "
                 "category=promotional track=sales 2 per 24h; c: contact 1 per week; ",
                 "a: account 30 per 30d; b: contact channel=phone kind=call "
                 "category=promotional track=sales 2 per 24h; c: contact 1 per week");
    s_caps_text ("x: contact 1000 per 90d; y: contact 1 per 36h; z: contact 5 per 2d",
                 "x: contact 1000 per 90d; y: contact 1 per 36h; z: contact 5 per 2d");
    s_caps_refused ("no colon here", "must start with its name");
    s_caps_refused ("a: contact 0 per day", "from 1 to 1000");
    s_caps_refused ("a: contact 1001 per day", "from 1 to 1000");
    s_caps_refused ("a: contact 5 per 91d", "up to 90");
    s_caps_refused ("a: contact 5 per 2d12h", "whole days");
    s_caps_refused ("a: contact 5 per 90m", "whole hours");
    s_caps_refused ("a: contact 5 per fortnight", "not 'fortnight'");
    s_caps_refused ("a: contact 5", "'per' and a window");
    s_caps_refused ("a: contact channel=email", "has no limit");
    s_caps_refused ("a: contact channel=fax 5 per day", "channel 'fax'");
    s_caps_refused ("a: contact category=transactional 5 per day", "never capped");
    s_caps_refused ("a: contact track=support 5 per day", "marketing or sales");
    s_caps_refused ("a: contact colour=red 5 per day", "not a filter");
    s_caps_refused ("a: contact account 5 per day", "one scope");
    s_caps_refused ("a: contact 5 per day; a: account 5 per day", "named twice");
    s_caps_refused ("a: contact 5 per day extra", "comes last");
    s_caps_refused ("a b: contact 5 per day", "the name 'a b'");

    dt_budget_t budget;
    char err [256], out [DT_CAPS_TEXT_MAX];
    dt_budget_default (&budget);
    CHECK_INT (dt_budget_set_quiet (&budget, "phone 08:00-20:00; email mon-sat; "
                                    "chat sat,sun,mon 09:30-17:00; letter fri-mon", err, sizeof err), 0);
    dt_budget_quiet_text (&budget, out, sizeof out);
    CHECK_STR (out, "phone 08:00-20:00; email mon-sat; chat mon,sat-sun 09:30-17:00; "
                    "letter mon,fri-sun");
    const char *bad [] = { "fax 08:00-20:00", "phone 20:00-08:00", "phone 08:00", "phone",
                           "phone mon-fri sat", "phone 08:00-25:00", "email funday",
                           "phone 08:00-20:00; phone mon", NULL };
    for (int i = 0; bad [i]; i++) {
        CHECK_INT (dt_budget_set_quiet (&budget, bad [i], err, sizeof err), -1);
        CHECK (strlen (err) > 10);
    }
    CHECK_INT (budget.quiet_count, 4);
    CHECK_INT (dt_budget_set_zone (&budget, "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_budget_set_zone (&budget, "../etc/passwd", err, sizeof err), -1);
    CHECK_INT (dt_budget_set_zone (&budget, "", err, sizeof err), -1);

    //  Through the settings, and an unknown zone refused once zones are set
    dt_rules_config_t cfg;
    dt_rules_config_default (&cfg);
    CHECK_INT (dt_rules_config_set (&cfg, "budget.timezone", "Mars/Olympus", err, sizeof err), 0);
    dt_engine_t *engine = dt_engine_new (&cfg, &stages);
    CHECK_INT (dt_engine_set_zones (engine, zones, err, sizeof err), -1);
    CHECK (strstr (err, "Mars/Olympus") != NULL);
    dt_rules_config_default (&cfg);
    CHECK_INT (dt_engine_set_zones (engine, zones, err, sizeof err), -1);    //  still Mars
    dt_engine_destroy (&engine);
    engine = dt_engine_new (&cfg, &stages);
    CHECK_INT (dt_engine_set_zones (engine, zones, err, sizeof err), 0);
    CHECK_INT (dt_rules_config_set (&cfg, "budget.timezone", "Mars/Olympus", err, sizeof err), 0);
    CHECK_INT (dt_engine_set_config (engine, &cfg), -1);
    dt_engine_destroy (&engine);
}

//  20 emails a month per contact, both tracks: the 21st fires, with the
//  month and the next free slot in the contact's zone
static void
s_test_monthly (void)
{
    dt_engine_t *engine = s_engine ("emails: contact channel=email 20 per month", "",
                                    "Europe/Berlin");
    tp_t tp;
    char id [32];
    for (int day = 1; day <= 21; day++) {
        snprintf (id, sizeof id, "m-%d", day);
        tp_init (&tp, id, day % 2? DT_TRACK_MARKETING: DT_TRACK_SALES, "c1", "email",
                 MAY1 + (day - 1) * DAY + 9 * HOUR);
        judge (engine, &tp, true);
        CHECK_INT (finding (DT_RULE_CONTACT_PRESSURE) != NULL, day == 21);
    }
    const char *message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "over cap emails (20 per month): 21 touches in the "
                              "month from 1 May 2026 (Europe/Berlin)"));
    CHECK (message && strstr (message, "this one from marketing on 21 May 2026 11:00 "
                              "Europe/Berlin"));
    CHECK (message && strstr (message, "next free slot: 1 June 2026 00:00 Europe/Berlin."));
    //  A phone call does not count against an email cap; another contact
    //  has its own budget
    tp_init (&tp, "m-phone", DT_TRACK_SALES, "c1", "phone", MAY1 + 22 * DAY);
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "m-other", DT_TRACK_SALES, "c2", "email", MAY1 + 22 * DAY);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  30 April 23:30 in Berlin is 21:30 UTC: April, so it fits
    tp_init (&tp, "m-april", DT_TRACK_SALES, "c1", "email", MAY1 - 150 * 60000);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  But 1 May 00:30 in Berlin (30 April 22:30 UTC) is May: over
    tp_init (&tp, "m-may", DT_TRACK_SALES, "c1", "email", MAY1 - 90 * 60000);
    CHECK_INT (judge (engine, &tp, false), 1);
    //  Transactional touches are exempt and uncounted
    tp_init (&tp, "m-invoice", DT_TRACK_SALES, "c1", "email", MAY1 + 25 * DAY);
    tp.ev.category = DT_CATEGORY_TRANSACTIONAL;
    CHECK_INT (judge (engine, &tp, true), 0);
    dt_engine_destroy (&engine);
}

//  A phone cap and a cap on everything: both apply; the first broken leads
static void
s_test_two_caps (void)
{
    dt_engine_t *engine = s_engine ("phone: contact channel=phone 2 per 7d; "
                                    "all: contact 3 per 7d", "", "UTC");
    tp_t tp;
    const char *channels [] = { "email", "phone", "phone", "phone" };
    for (int i = 0; i < 4; i++) {
        char id [16];
        snprintf (id, sizeof id, "two-%d", i);
        tp_init (&tp, id, DT_TRACK_SALES, "c1", channels [i], MAY1 + i * DAY);
        judge (engine, &tp, true);
        const char *message = finding (DT_RULE_CONTACT_PRESSURE);
        if (i < 3)
            CHECK (message == NULL);
        else
            CHECK (message && strstr (message, "over cap phone (2 per 7d): 3 touches in the 7 days")
                           && strstr (message, "also over all (4 of 3 per 7d)")
                           //  all has room again on 9 May (the window 3..9 May holds
                           //  two), phone only on 10 May: the later one
                           && strstr (message, "next free slot: 10 May 2026 00:00 UTC"));
        CHECK_INT (found_count, i == 3);
    }
    dt_engine_destroy (&engine);
}

//  The same instant is Monday in Berlin and Sunday in New York: a cap of
//  one a calendar day fires only for the contact in New York
static void
s_test_zones (void)
{
    dt_engine_t *engine = s_engine ("daily: contact 1 per day", "", "UTC");
    //  Sunday 3 May 2026 20:00 UTC: Sunday 22:00 in Berlin, 16:00 in New York
    int64_t sunday = MAY1 + 2 * DAY + 20 * HOUR;
    //  22:30 UTC: Monday 00:30 in Berlin, Sunday 18:30 in New York
    int64_t later = sunday + 150 * 60000;
    const char *zone [2] = { "Europe/Berlin", "America/New_York" };
    const char *contact [2] = { "berlin", "new-york" };
    for (int z = 0; z < 2; z++) {
        tp_t tp;
        tp_init (&tp, z? "ny-1": "be-1", DT_TRACK_MARKETING, contact [z], "email", sunday);
        tp_tz (&tp, zone [z]);
        CHECK_INT (judge (engine, &tp, true), 0);
        tp_init (&tp, z? "ny-2": "be-2", DT_TRACK_SALES, contact [z], "email", later);
        tp_tz (&tp, zone [z]);
        CHECK_INT (judge (engine, &tp, true), z);
        if (z) {
            const char *message = finding (DT_RULE_CONTACT_PRESSURE);
            CHECK (message && strstr (message, "the day 3 May 2026 (America/New_York)")
                           && strstr (message, "on 3 May 2026 18:30 America/New_York")
                           && strstr (message, "next free slot: 4 May 2026 00:00 America/New_York"));
        }
    }
    //  An unknown zone falls back to the default (UTC: both Sunday)
    tp_t tp;
    tp_init (&tp, "xx-1", DT_TRACK_SALES, "nowhere", "email", sunday);
    tp_tz (&tp, "Atlantis/Capital");
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "xx-2", DT_TRACK_SALES, "nowhere", "email", later);
    tp_tz (&tp, "Atlantis/Capital");
    CHECK_INT (judge (engine, &tp, true), 1);
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "(attrs.tz names no known zone: the "
                   "default zone was used.)"));
    dt_engine_destroy (&engine);
}

//  A buyer's own zone (contact_settings, rules/zonemap.h): the contact's
//  row before the account's, both before attrs.tz and the default zone;
//  rows by alias filed again when the alias map comes later; an empty map
//  is none; a map of another tz database is refused
static void
s_test_buyer_zones (void)
{
    dt_engine_t *engine = s_engine ("daily: contact 1 per day", "", "UTC");
    char err [256];
    dt_zonemap_t *map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "contact", "c-berlin", "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "account", "ny-acct", "America/New_York", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "bob@x.com", "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_engine_set_zonemap (engine, &map, err, sizeof err), 0);
    CHECK (map == NULL);
    CHECK (dt_engine_zonemap (engine) != NULL);
    //  Sunday 20:00 and 22:30 UTC: a new day in Berlin, not in New York,
    //  Tokyo (Monday both) or UTC
    int64_t sunday = MAY1 + 2 * DAY + 20 * HOUR, later = sunday + 150 * 60000;
    struct {
        const char *contact, *account, *tz;
        int findings;           //  of the second touch
    } cases [] = {
        { "c-berlin", "ny-acct", "Asia/Tokyo", 0 },         //  the contact's row
        { "c-other", "ny-acct", "Europe/Berlin", 1 },       //  the account's row
        { "c-tokyo", "acct", "Europe/Berlin", 0 },          //  no row: attrs.tz
        { "003", "acct", NULL, 1 },                         //  not yet an alias: UTC
    };
    const char *message;
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        for (int n = 0; n < 2; n++) {
            tp_t tp;
            char id [32];
            snprintf (id, sizeof id, "bz-%zu-%d", i, n);
            tp_init (&tp, id, DT_TRACK_MARKETING, cases [i].contact, "email", n? later: sunday);
            tp.ev.account = s_str (cases [i].account);
            if (cases [i].tz)
                tp_tz (&tp, cases [i].tz);
            CHECK_INT (judge (engine, &tp, true), n? cases [i].findings: 0);
        }
    }
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "(UTC)"));
    //  bob@x.com becomes an alias of 003: its row is 003's from now on
    //  (two touches on Monday and Tuesday UTC, both Tuesday in Berlin)
    dt_identity_t *identity = dt_identity_new ();
    CHECK_INT (dt_identity_add (identity, DT_ID_CONTACT, "bob@x.com", "003", NULL, err, sizeof err), 0);
    CHECK_INT (dt_engine_set_identity (engine, &identity, err, sizeof err), 0);
    tp_t tp;
    tp_init (&tp, "bz-003-3", DT_TRACK_SALES, "003", "email", later + DAY);     //  Tuesday 00:30 Berlin
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "bz-003-4", DT_TRACK_SALES, "003", "email", later + DAY + 90 * 60000);
    CHECK_INT (judge (engine, &tp, true), 1);                                  //  Tuesday 02:00 Berlin
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "(Europe/Berlin)"));
    //  An empty map is none; one made with another tz database is refused
    map = dt_zonemap_new (zones);
    CHECK_INT (dt_engine_set_zonemap (engine, &map, err, sizeof err), 0);
    CHECK (dt_engine_zonemap (engine) == NULL);
    dt_tzdb_t *other = dt_tzdb_new ();
    map = dt_zonemap_new (other);
    CHECK_INT (dt_zonemap_add (map, "contact", "c", "UTC", err, sizeof err), 0);
    CHECK_INT (dt_engine_set_zonemap (engine, &map, err, sizeof err), -1);
    CHECK (map == NULL);
    dt_tzdb_destroy (&other);
    dt_engine_destroy (&engine);
}

//  An account forgotten (its ids or zone changed: the caller feeds its
//  history back) loses its counters with its block, which the next account
//  may get
static void
s_test_forget (void)
{
    dt_engine_t *engine = s_engine ("daily: account 2 per day", "", "UTC");
    tp_t tp;
    tp_init (&tp, "f-1", DT_TRACK_SALES, "c1", "email", MAY1 + 9 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    CHECK (dt_engine_forget (engine, s_str ("acct")));
    //  Two touches it knows of that day, then three
    for (int i = 2; i <= 4; i++) {
        char id [16];
        snprintf (id, sizeof id, "f-%d", i);
        tp_init (&tp, id, DT_TRACK_SALES, "c1", "email", MAY1 + (8 + i) * HOUR);
        CHECK_INT (judge (engine, &tp, true), i == 4);
    }
    dt_engine_destroy (&engine);
}

//  A rolling window of 7 days is the touch's local day and the 6 before;
//  the busiest window holding a late touch counts
static void
s_test_edges (void)
{
    dt_engine_t *engine = s_engine ("week: contact 2 per 7d; burst: account 2 per 24h", "", "UTC");
    tp_t tp;
    tp_init (&tp, "e-1", DT_TRACK_SALES, "c1", "email", MAY1);                    //  1 May 00:00
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "e-2", DT_TRACK_SALES, "c1", "email", MAY1 + 6 * DAY + 12 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  8 May 00:00 exactly: the window 2..8 May holds two -> fits
    tp_init (&tp, "e-3", DT_TRACK_SALES, "c1", "email", MAY1 + 7 * DAY);
    CHECK_INT (judge (engine, &tp, false), 0);
    //  7 May 23:59:59.999: the window 1..7 May would hold three
    tp_init (&tp, "e-4", DT_TRACK_SALES, "c1", "email", MAY1 + 7 * DAY - 1);
    CHECK_INT (judge (engine, &tp, false), 1);
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "the 7 days 1 May 2026 to 7 May 2026"));
    //  With this one sent too, the 7 days up to 14 May are the first with room
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "next free slot: 14 May 2026 00:00 UTC"));
    //  A late touch on 2 May: the window 1..7 May holds three
    tp_init (&tp, "e-5", DT_TRACK_SALES, "c1", "email", MAY1 + DAY);
    CHECK_INT (judge (engine, &tp, false), 1);
    //  On 30 April it fits: 24..30 April to 30 April..6 May hold two at most
    tp_init (&tp, "e-6", DT_TRACK_SALES, "c1", "email", MAY1 - HOUR);
    CHECK_INT (judge (engine, &tp, false), 0);
    //  Checks and replays change nothing
    tp_init (&tp, "e-2", DT_TRACK_SALES, "c1", "email", MAY1 + 6 * DAY + 12 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "e-3", DT_TRACK_SALES, "c1", "email", MAY1 + 7 * DAY);
    CHECK_INT (judge (engine, &tp, false), 0);

    //  Hours: two per 24 hours for the account, any contact
    tp_init (&tp, "h-1", DT_TRACK_SALES, "c2", "chat", MAY1 + 20 * DAY + 9 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "h-2", DT_TRACK_SALES, NULL, "chat", MAY1 + 20 * DAY + 10 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  9:00 next day: the 24 hours 10:00..9:59 hold h-2 and this one: fits
    tp_init (&tp, "h-3", DT_TRACK_SALES, "c3", "chat", MAY1 + 21 * DAY + 9 * HOUR);
    CHECK_INT (judge (engine, &tp, false), 0);
    //  8:59: h-1 is still inside
    tp_init (&tp, "h-4", DT_TRACK_SALES, "c3", "chat", MAY1 + 21 * DAY + 8 * HOUR + 59 * 60000);
    CHECK_INT (judge (engine, &tp, false), 1);
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "account acct is over cap burst "
                   "(2 per 24h): 3 touches in the 24 hours from 21 May 2026 09:00"));
    //  From 10:00 the 24 hours no longer hold h-1 and h-2 both
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "next free slot: 22 May 2026 10:00 UTC"));
    dt_engine_destroy (&engine);
}

static void
s_test_quiet (void)
{
    dt_engine_t *engine = s_engine ("", "phone mon-fri 08:00-20:00; email mon-sat",
                                    "Europe/Berlin");
    tp_t tp;
    //  Monday 4 May 2026: 07:59 Berlin = 05:59 UTC
    int64_t monday = MAY1 + 3 * DAY - 2 * HOUR;
    tp_init (&tp, "q-1", DT_TRACK_SALES, "c1", "phone", monday + 7 * HOUR + 59 * 60000);
    CHECK_INT (judge (engine, &tp, true), 1);
    const char *message = finding (DT_RULE_QUIET_HOURS);
    CHECK (message && strstr (message, "phone touch by sales to contact c1 at account acct on "
                              "Monday 4 May 2026 07:59 Europe/Berlin is outside its sending "
                              "hours (phone mon-fri 08:00-20:00); next allowed: Monday 4 May "
                              "2026 08:00 Europe/Berlin."));
    tp_init (&tp, "q-2", DT_TRACK_SALES, "c1", "phone", monday + 8 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "q-3", DT_TRACK_SALES, "c1", "phone", monday + 20 * HOUR - 1);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  20:00 Friday: next allowed Monday 08:00
    tp_init (&tp, "q-4", DT_TRACK_SALES, "c1", "phone", monday + 4 * DAY + 20 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 1);
    CHECK (strstr (finding (DT_RULE_QUIET_HOURS), "next allowed: Monday 11 May 2026 08:00"));
    //  Email on Sunday; not on Saturday; meetings have no sending hours
    tp_init (&tp, "q-5", DT_TRACK_MARKETING, "c1", "email", monday - DAY + 12 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 1);
    CHECK (strstr (finding (DT_RULE_QUIET_HOURS), "email touch by marketing"));
    tp_init (&tp, "q-6", DT_TRACK_MARKETING, "c1", "email", monday - 2 * DAY + 12 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "q-7", DT_TRACK_MARKETING, "c1", "meeting", monday - DAY + 3 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  Transactional: exempt
    tp_init (&tp, "q-8", DT_TRACK_SALES, "c1", "phone", monday + 3 * HOUR);
    tp.ev.category = DT_CATEGORY_TRANSACTIONAL;
    CHECK_INT (judge (engine, &tp, true), 0);
    //  The contact in Tokyo: 07:59 Berlin is 14:59 there
    tp_init (&tp, "q-9", DT_TRACK_SALES, "c2", "phone", monday + 7 * HOUR + 59 * 60000);
    tp_tz (&tp, "Asia/Tokyo");
    CHECK_INT (judge (engine, &tp, true), 0);
    //  Off means off
    dt_rules_config_t cfg = *dt_engine_config (engine);
    cfg.severity [DT_RULE_QUIET_HOURS] = DT_SEV_OFF;
    CHECK_INT (dt_engine_set_config (engine, &cfg), 0);
    tp_init (&tp, "q-10", DT_TRACK_SALES, "c1", "phone", monday + 3 * HOUR);
    CHECK_INT (judge (engine, &tp, true), 0);
    dt_engine_destroy (&engine);
}

//  1,000 touches over 90 days fit a cap of 1,000 per 90 days; one more does not
static void
s_test_big (void)
{
    dt_engine_t *engine = s_engine ("big: contact 1000 per 90d; other: contact channel=chat 5 per day",
                                    "", "UTC");
    tp_t tp;
    char id [32];
    int fired = 0;
    size_t before = 0;
    for (int i = 0; i < 1000; i++) {
        if (i == 1)
            before = dt_engine_state_bytes (engine);    //  the account's block is there
        snprintf (id, sizeof id, "big-%d", i);
        tp_init (&tp, id, i % 2? DT_TRACK_SALES: DT_TRACK_MARKETING, "c1", "email",
                 MAY1 + (int64_t) i * (89 * DAY / 1000));
        fired += judge (engine, &tp, true);
    }
    CHECK_INT (fired, 0);
    tp_init (&tp, "big-x", DT_TRACK_SALES, "c1", "email", MAY1 + 89 * DAY + HOUR);
    CHECK_INT (judge (engine, &tp, false), 1);
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "1001 touches in the 90 days"));
    //  Counters, not touches: 90 days of one contact are 90 entries
    size_t grown = dt_engine_state_bytes (engine) - before;
    printf ("budget: 1000 touches on 90 days: %zu bytes of counters\n", grown);
    CHECK (grown < 4096);

    //  The same caps in a new configuration keep the counts; other caps start afresh
    dt_rules_config_t cfg = *dt_engine_config (engine);
    cfg.severity [DT_RULE_COLLISION] = DT_SEV_WARN;
    CHECK_INT (dt_engine_set_config (engine, &cfg), 0);
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) != NULL);
    char err [256];
    CHECK_INT (dt_rules_config_set (&cfg, "budget.caps", "big: contact 1000 per 89d", err, sizeof err), 0);
    CHECK_INT (dt_engine_set_config (engine, &cfg), 0);
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    dt_engine_destroy (&engine);
}

//  A cap of 1,000 a day filled by one contact in one day: an entry counts
//  255 touches per cap, the rest go on in more entries of the same day,
//  and the hour cap beside it keeps its own count
static void
s_test_one_day_full (void)
{
    dt_engine_t *engine = s_engine ("day: contact 1000 per day; hour: contact 300 per 1h",
                                    "", "UTC");
    tp_t tp;
    char id [32];
    int fired = 0;
    for (int i = 0; i < 1000; i++) {
        snprintf (id, sizeof id, "full-%d", i);
        //  The first 299 in the first hour, the rest later that day
        int64_t at = i < 299? MAY1 + i * 10000LL: MAY1 + 2 * HOUR + (i - 299) * 60000LL;
        tp_init (&tp, id, DT_TRACK_MARKETING, "c1", "email", at);
        fired += judge (engine, &tp, true);
    }
    CHECK_INT (fired, 0);
    tp_init (&tp, "full-x", DT_TRACK_SALES, "c1", "email", MAY1 + 20 * HOUR);
    CHECK_INT (judge (engine, &tp, false), 1);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE)
           && strstr (finding (DT_RULE_CONTACT_PRESSURE), "over cap day (1000 per day): 1001 touches"));
    //  Two more in the first hour: 300 fit the hour cap, 301 do not
    tp_init (&tp, "full-h1", DT_TRACK_SALES, "c2", "email", MAY1 + 1000);
    judge (engine, &tp, true);
    tp_init (&tp, "full-h2", DT_TRACK_SALES, "c1", "email", MAY1 + 2000);
    CHECK_INT (judge (engine, &tp, true), 1);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE)
           && strstr (finding (DT_RULE_CONTACT_PRESSURE), "1001 touches")
           && strstr (finding (DT_RULE_CONTACT_PRESSURE), "also over") == NULL);
    tp_init (&tp, "full-h3", DT_TRACK_SALES, "c1", "email", MAY1 + 3000);
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE)
           && strstr (finding (DT_RULE_CONTACT_PRESSURE), "also over hour (301 of 300 per 1h)"));
    dt_engine_destroy (&engine);
}

//  Memory rebuilt with dt_engine_remember counts as judging did
static void
s_test_remember (void)
{
    dt_engine_t *engine = s_engine ("daily: contact 2 per day", "", "UTC");
    tp_t tp;
    for (int i = 0; i < 2; i++) {
        char id [16];
        snprintf (id, sizeof id, "r-%d", i);
        tp_init (&tp, id, DT_TRACK_SALES, "c1", "email", MAY1 + i * HOUR);
        dt_engine_remember (engine, &tp.ev);
        dt_engine_remember (engine, &tp.ev);        //  twice: once
    }
    tp_init (&tp, "r-2", DT_TRACK_SALES, "c1", "email", MAY1 + 5 * HOUR);
    CHECK_INT (judge (engine, &tp, false), 1);
    //  Evicted, the account's counters go; another account that gets its
    //  block starts from nothing
    CHECK_INT (dt_engine_evict (engine, MAY1 + 40 * DAY), 1);
    tp.ev.account = s_str ("another");
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "r-3", DT_TRACK_SALES, "c1", "email", MAY1 + 6 * HOUR);
    tp.ev.account = s_str ("another");
    CHECK_INT (judge (engine, &tp, true), 0);
    tp_init (&tp, "r-4", DT_TRACK_SALES, "c1", "email", MAY1 + 7 * HOUR);
    tp.ev.account = s_str ("another");
    CHECK_INT (judge (engine, &tp, true), 1);
    dt_engine_destroy (&engine);
}

//  The policy file's budget section: read, written back quoted, read again
//  the same; a bad cap located and explained
static void
s_test_policy (void)
{
    const char *text =
        "tone:\n"
        "rules:\n"
        "  severity:\n"
        "    quiet_hours: violation\n"
        "  budget:\n"
        "    caps: \"emails: channel=email 20 per month; all: account 30 per 30d\"\n"
        "    sending hours: phone mon-fri 08:00-20:00\n"
        "    time zone: Europe/Berlin\n";
    dt_policy_errors_t errors;
    dt_policy_t *policy = dt_policy_parse (text, strlen (text), NULL, &stages, &errors);
    CHECK (policy != NULL);
    if (!policy)
        return;
    const dt_rules_config_t *cfg = dt_policy_config (policy);
    CHECK_INT (cfg->budget.cap_count, 2);
    CHECK_INT (cfg->budget.quiet_count, 1);
    CHECK_STR (cfg->budget.zone, "Europe/Berlin");
    CHECK_INT (cfg->severity [DT_RULE_QUIET_HOURS], DT_SEV_VIOLATION);
    dt_buf_t out = { 0 };
    dt_policy_format (policy, &out);
    dt_buf_putc (&out, 0);
    CHECK (strstr (out.data, "    caps: \"emails: contact channel=email 20 per month; all: "
                             "account 30 per 30d\"\n"));
    CHECK (strstr (out.data, "    sending hours: \"phone mon-fri 08:00-20:00\"\n"));
    CHECK (strstr (out.data, "    time zone: Europe/Berlin\n"));
    dt_policy_t *again = dt_policy_parse (out.data, out.size - 1, NULL, &stages, &errors);
    CHECK (again && memcmp (dt_policy_config (again), cfg, sizeof *cfg) == 0);
    dt_buf_t diff = { 0 };
    CHECK_INT (dt_policy_diff (policy, again, &diff), 0);
    dt_policy_t *none = dt_policy_new (NULL);
    CHECK (dt_policy_diff (none, policy, &diff) >= 3);
    dt_buf_putc (&diff, 0);
    CHECK (strstr (diff.data, "budget caps:  -> emails: contact channel=email 20 per month"));
    dt_buf_free (&diff);
    dt_buf_free (&out);
    dt_policy_destroy (&none);
    dt_policy_destroy (&again);
    dt_policy_destroy (&policy);

    const char *bad = "tone:\nrules:\n  budget:\n    caps: \"emails: contact 0 per month\"\n";
    CHECK (dt_policy_parse (bad, strlen (bad), NULL, &stages, &errors) == NULL);
    CHECK_INT (errors.count, 1);
    CHECK_INT (errors.error [0].line, 4);
    CHECK (strstr (errors.error [0].reason, "budget caps: cap emails: the limit must be a whole "
                   "number from 1 to 1000, not '0'") != NULL);
}

//  Reservations: a slot held for a planned touch counts against the caps,
//  the event carrying its token uses it, a bad token is noted (info) and
//  judged as none, a higher priority takes a lower one's slot
static bool
s_reserve (dt_engine_t *engine, tp_t *tp, const char *token, const char *owner, int priority,
           int64_t now, int64_t ttl)
{
    dt_reservation_t want;
    memset (&want, 0, sizeof want);
    snprintf (want.token, sizeof want.token, "%s", token);
    snprintf (want.owner, sizeof want.owner, "%s", owner);
    want.priority = priority;
    want.created_at = now;
    want.expires_at = now + ttl;
    tp->ev.received_at = now * 1000;
    dt_verdict_t verdict;
    bool held = false;
    found_count = dt_engine_reserve (engine, &tp->ev, &want, found, 16, &verdict, &held);
    CHECK (found_count >= 0);
    for (int i = 0; i < found_count; i++)
        if (getenv ("TEST_VERBOSE"))
            fprintf (stderr, "  reserve %s: %s: %s\n", token, dt_rule_id (found [i].rule),
                     found [i].message);
    return held;
}

static void
s_carry (tp_t *tp, const char *token, int64_t now)
{
    tp->ev.reservation = s_str (token);
    tp->ev.present |= DT_HAS_RESERVATION;
    tp->ev.received_at = now * 1000;
}

static void
s_test_reserve (void)
{
    dt_engine_t *engine = s_engine ("daily: contact 1 per day", "", "UTC");
    int64_t now = MAY1 + 8 * HOUR, ttl = 15 * 60000;
    tp_t tp;
    //  The last slot of c1's day, held; a second request is told who holds it
    tp_init (&tp, "plan-1", DT_TRACK_MARKETING, "c1", "email", MAY1 + 10 * HOUR);
    CHECK (s_reserve (engine, &tp, "T1", "mail-tool", 0, now, ttl));
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    CHECK_INT (dt_engine_reservations_held (engine), 1);
    tp_init (&tp, "plan-2", DT_TRACK_SALES, "c1", "phone", MAY1 + 11 * HOUR);
    CHECK (!s_reserve (engine, &tp, "T2", "dialer", 0, now + 1, ttl));
    const char *message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation T1 holds one for mail-tool until "
                              "1 May 2026 08:15 UTC"));
    CHECK_INT (dt_engine_reservations_held (engine), 1);
    //  A plain check sees the slot taken too; with the token it fits
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) != NULL);
    tp_init (&tp, "plan-1", DT_TRACK_MARKETING, "c1", "email", MAY1 + 10 * HOUR);
    s_carry (&tp, "T1", now + 2);
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    CHECK_INT (dt_engine_reservations_held (engine), 1);
    //  The event with the token uses the slot: it fits, and counts itself
    tp_init (&tp, "sent-1", DT_TRACK_MARKETING, "c1", "email", MAY1 + 10 * HOUR);
    s_carry (&tp, "T1", now + 60000);
    CHECK_INT (judge (engine, &tp, true), 0);
    CHECK (dt_engine_judged_reservation (engine));
    CHECK_INT (dt_engine_reservations_held (engine), 0);
    judge (engine, &tp, true);          //  resent: the same touchpoint, no note
    CHECK_INT (found_count, 0);
    CHECK (dt_engine_judged_reservation (engine));
    tp_init (&tp, "sent-2", DT_TRACK_SALES, "c1", "phone", MAY1 + 12 * HOUR);
    judge (engine, &tp, true);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) != NULL);
    //  Tokens that can not be used: noted, verdict unchanged
    dt_verdict_t verdict;
    tp_init (&tp, "sent-3", DT_TRACK_SALES, "c9", "phone", MAY1 + 12 * HOUR);
    s_carry (&tp, "T1", now + 60000);
    found_count = dt_engine_judge (engine, &tp.ev, true, found, 16, &verdict);
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation T1 of mail-tool was already used by "
                              "touchpoint sent-1"));
    CHECK_INT (found [0].severity, DT_SEV_INFO);
    CHECK_INT (verdict, DT_VERDICT_OK);
    CHECK (!dt_engine_judged_reservation (engine));
    tp_init (&tp, "sent-4", DT_TRACK_SALES, "c9", "phone", MAY1 + 13 * HOUR);
    s_carry (&tp, "nope", now);
    judge (engine, &tp, true);
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation nope is unknown"));
    //  Another contact's token
    tp_init (&tp, "plan-3", DT_TRACK_SALES, "c2", "email", MAY1 + 10 * HOUR);
    CHECK (s_reserve (engine, &tp, "T3", "crm", 0, now, ttl));
    tp_init (&tp, "sent-5", DT_TRACK_SALES, "c3", "email", MAY1 + 10 * HOUR);
    s_carry (&tp, "T3", now + 1000);
    judge (engine, &tp, true);
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation T3 of crm is for contact c2; contact c3"));
    CHECK_INT (dt_engine_reservations_held (engine), 1);
    //  Expired: it counts no more, and its token is refused
    tp_init (&tp, "plan-4", DT_TRACK_SALES, "c2", "email", MAY1 + 11 * HOUR);
    tp.ev.received_at = (now + ttl) * 1000;
    judge (engine, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    s_carry (&tp, "T3", now + ttl);
    judge (engine, &tp, true);
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation T3 of crm expired on 1 May 2026"));
    CHECK (!dt_engine_judged_reservation (engine));
    //  Priority: a higher one takes the slot, the holder hears of it once
    tp_init (&tp, "plan-5", DT_TRACK_MARKETING, "c4", "email", MAY1 + 10 * HOUR);
    CHECK (s_reserve (engine, &tp, "T5", "newsletter", 1, now, ttl));
    tp_init (&tp, "plan-6", DT_TRACK_SALES, "c4", "phone", MAY1 + 14 * HOUR);
    CHECK (!s_reserve (engine, &tp, "T6", "dialer", 1, now + 1, ttl));     //  equal: no
    CHECK (s_reserve (engine, &tp, "T7", "dialer", 5, now + 2, ttl));
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    const dt_reservation_t *taken;
    CHECK_INT (dt_engine_reserve_taken (engine, &taken), 1);
    CHECK_STR (taken [0].token, "T5");
    CHECK_STR (taken [0].taken_by, "T7");
    dt_reservation_t news [4];
    CHECK_INT (dt_engine_reservations_taken_from (engine, "dialer", news, 4), 0);
    CHECK_INT (dt_engine_reservations_taken_from (engine, "newsletter", news, 4), 1);
    CHECK_STR (news [0].token, "T5");
    CHECK_INT (dt_engine_reservations_taken_from (engine, "newsletter", news, 4), 0);
    tp_init (&tp, "sent-6", DT_TRACK_MARKETING, "c4", "email", MAY1 + 10 * HOUR);
    s_carry (&tp, "T5", now + 5);
    judge (engine, &tp, false);
    message = finding (DT_RULE_CONTACT_PRESSURE);
    CHECK (message && strstr (message, "reservation T5 of newsletter was taken by reservation "
                              "T7 of dialer, of a higher priority than its 1, on 1 May 2026; "));
    //  An even higher one takes T7, and the caller could not record it:
    //  undone, T7 holds again
    tp_init (&tp, "plan-8", DT_TRACK_MARKETING, "c4", "email", MAY1 + 15 * HOUR);
    CHECK (s_reserve (engine, &tp, "T8", "ads", 9, now + 6, ttl));
    CHECK_INT (dt_engine_reserve_taken (engine, &taken), 1);
    dt_engine_reserve_undo (engine, "T8");
    CHECK (!s_reserve (engine, &tp, "T9", "ads", 2, now + 7, ttl));
    CHECK (strstr (finding (DT_RULE_CONTACT_PRESSURE), "reservation T7 holds one for dialer"));
    //  Restored from the store after a restart: counted again
    dt_engine_t *again = s_engine ("daily: contact 1 per day", "", "UTC");
    dt_reservation_t rec = taken [0];       //  T7's record, as taken by T8 and given back
    rec.state = DT_RESERVATION_HELD;
    CHECK_INT (dt_engine_restore_reservation (again, &rec), 0);
    tp_init (&tp, "plan-9", DT_TRACK_SALES, "c4", "meeting", MAY1 + 16 * HOUR);
    tp.ev.received_at = (now + 8) * 1000;
    judge (again, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) != NULL);
    //  A policy whose cap no longer matches the planned touch: not counted
    dt_rules_config_t cfg = *dt_engine_config (again);
    char err [256];
    CHECK_INT (dt_rules_config_set (&cfg, "budget.caps", "daily: contact channel=email 1 per day",
                                    err, sizeof err), 0);
    CHECK_INT (dt_engine_set_config (again, &cfg), 0);
    judge (again, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);
    CHECK_INT (dt_engine_reservations_sweep (again, now + ttl + 2 * HOUR), 1);
    CHECK_INT (dt_engine_reservations_held (again), 0);
    //  Ids that normalise (the alias map's buffer): filed under both
    //  canonical ids, neither overwritten by the other's lookup
    dt_identity_t *identity = dt_identity_new ();
    CHECK_INT (dt_engine_set_identity (again, &identity, err, sizeof err), 0);
    tp_init (&tp, "plan-10", DT_TRACK_SALES, " Bob@Acme.COM", "phone", MAY1 + 17 * HOUR);
    tp.ev.account = s_str (" acme.com ");
    CHECK (s_reserve (again, &tp, "T10", "dialer", 0, now + 9, ttl));
    dt_reservation_t news2 [1];
    CHECK_INT (dt_engine_reservations_taken_from (again, "dialer", news2, 1), 0);
    tp_init (&tp, "plan-11", DT_TRACK_SALES, "bob@acme.com", "phone", MAY1 + 18 * HOUR);
    tp.ev.account = s_str ("acme.com");
    s_carry (&tp, "T10", now + 10);
    judge (again, &tp, false);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) == NULL);     //  its own: set aside, same buyer
    dt_engine_destroy (&again);
    dt_engine_destroy (&engine);
}

//  An id that is no alias but shares an account alias's tag and first
//  slot, in a map whose filter lets it through: the engine first asks for
//  the alias's buyer's memory, then finds its guess wrong. The touch must
//  be counted, and checked, against the id's own budget.
static void
s_test_tag_clash (void)
{
    char alias [32] = "", plain [32] = "", err [256];
    CHECK (tagclash_find ("acct-", alias, plain));
    dt_identity_t *map = alias [0]? tagclash_map (alias, plain, "globex.com"): NULL;
    CHECK (map != NULL);
    if (!map)
        return;
    dt_engine_t *engine = s_engine ("acct: account 1 per day", "", "UTC");
    CHECK_INT (dt_engine_set_identity (engine, &map, err, sizeof err), 0);
    tp_t tp;
    tp_init (&tp, "g1", DT_TRACK_SALES, "c1", "email", MAY1 + HOUR);
    tp.ev.account = s_str ("globex.com");
    CHECK_INT (judge (engine, &tp, true), 0);
    //  Its own first touch of the day: within the cap
    tp_init (&tp, "p1", DT_TRACK_SALES, "c1", "email", MAY1 + 2 * HOUR);
    tp.ev.account = s_str (plain);
    CHECK_INT (judge (engine, &tp, true), 0);
    //  Its second: over it
    tp_init (&tp, "p2", DT_TRACK_SALES, "c1", "email", MAY1 + 3 * HOUR);
    tp.ev.account = s_str (plain);
    CHECK_INT (judge (engine, &tp, true), 1);
    CHECK (finding (DT_RULE_CONTACT_PRESSURE) != NULL);
    //  globex.com's count is its own: one touch, so a second is over
    tp_init (&tp, "g2", DT_TRACK_SALES, "c1", "email", MAY1 + 4 * HOUR);
    tp.ev.account = s_str ("globex.com");
    CHECK_INT (judge (engine, &tp, true), 1);
    dt_engine_destroy (&engine);
}

int
main (void)
{
    dt_stageset_default (&stages);
    zones = dt_tzdb_new ();
    char err [256];
    CHECK (dt_tzdb_load_dir (zones, DT_TZDB_DIR, err, sizeof err) > 300);
    s_test_text ();
    s_test_monthly ();
    s_test_two_caps ();
    s_test_zones ();
    s_test_buyer_zones ();
    s_test_forget ();
    s_test_edges ();
    s_test_quiet ();
    s_test_big ();
    s_test_one_day_full ();
    s_test_remember ();
    s_test_policy ();
    s_test_reserve ();
    s_test_tag_clash ();
    dt_tzdb_destroy (&zones);
    return TESTING_DONE ();
}
