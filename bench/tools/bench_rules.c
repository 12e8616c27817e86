/*  bench_rules.c - how fast the rule engine judges, and how much memory an
    active account costs. Not a test: it prints figures.

    100,000 active accounts, a default-sized tone book (20 themes, 3
    canonical claims, 30 banned phrases), a traffic mix close to real use:
    each track mostly on its own stages, some joint work, some crossings,
    bodies of a few hundred bytes, claims on one touch in five, key projects
    on one in ten, transactional touches, ids like a UUID.

    Events are generated before the clock starts; a ring of EVENTS events is
    replayed pass after pass with new ids and later times, so the engine
    sees a steady stream and reaches its steady state (full touch rings)
    during the warm-up passes. Memory is the engine's own accounting
    (dt_engine_state_bytes: account blocks, table and free list).

    Each event's own strings (id, account, contact) sit together in a small
    frame, in the order events are judged, as they would in the msgpack
    frame the coordinator has just decoded; bodies and themes come from a
    few shared texts, as campaign mail does.

    Each pass covers a week by default, so an account gets about 2.6
    touches a week; a shorter span makes denser traffic with more findings.

    With --aliases N the engine judges by canonical ids (rules/identity.h)
    through an alias map of N rows, as the coordinator does: one contact in
    three of the traffic and one account in four are aliases of another
    id, the rest of the N rows (three in four contacts, as CRM, phone and
    e-mail ids of people) never seen in the traffic, so lookups walk a map
    of full size. Every id judged is looked up (normalised first); memory
    is the map's own accounting (dt_identity_bytes). Compare with the same
    run without --aliases (interleaved runs: docs/performance.md). The
    twin has an empty map, as the coordinator has when the alias tables are
    empty (ids normalised, nothing to look up): the ratio is the cost of the
    aliases. With BENCH_TWIN_BARE set it has no map at all (ids as sent, as
    before issue 14): the ratio counts normalising every id too. (One twin
    a run: a third engine's memory would change what the caches hold.)

    With BENCH_CAPS set (budget.caps, e.g. "a: contact 20 per 30d; ...")
    the contact budget counts those caps, in BENCH_TZ's zone (default
    Europe/Berlin) read from the system's tz database; memory then includes
    the budget's counters (and both engines count them with --aliases).
    Without --aliases and BENCH_SETTINGS, a twin engine without caps judges
    the same passes in turn, for the ratio of the two rates (issue 17's
    "within 15% of the figure without").

    With BENCH_SETTINGS=N (and BENCH_CAPS) the main engine reads buyers' own
    zones from a zone map (table contact_settings, rules/zonemap.h) of N
    rows, half accounts of the traffic and half contacts of other accounts,
    in four zones; a twin engine without it judges the same passes in turn
    (as with --aliases), for the ratio of the two rates.

    Usage: bench_rules [--aliases N] [accounts] [timed passes] [days per pass]
*/
#include "rules/engine.h"
#include "rules/identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define EVENTS          262144
#define WARMUP_PASSES   6
#define DAY_MS          86400000LL
#define T0              1777766400000LL     //  3 May 2026
#define FRAME_SIZE      128                 //  id, account and contact of one event

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
s_rand (void)
{
    //  xorshift64*: fast, and good enough to shuffle traffic
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static uint32_t
s_below (uint32_t limit)
{
    return (uint32_t) ((s_rand () >> 32) % limit);
}

static dt_str_t
s_str (const char *text)
{
    dt_str_t str = { text, (uint32_t) strlen (text) };
    return str;
}

static const char *bodies [] = {
    "Dear customer, thank you for visiting our stand at the trade fair last week. "
    "We have put together a short summary of the sessions you attended and a link to "
    "the recordings. Let us know if a follow-up call would help your team.",
    "Hello, following our call I am sending the evaluation plan we discussed: three "
    "weeks of pilot on your staging environment, weekly check-ins, and a final review "
    "with your architects. Please confirm the start date that suits you.",
    "Hi, our spring webinar series starts next Tuesday with a session on moving "
    "reporting workloads to the cloud. Seats are limited; the agenda and the speakers "
    "are on the event page.",
    "Good afternoon, attached is the revised quote with the volume tier we agreed on "
    "and the delivery schedule. The offer stays open until the end of the month.",
    "您好，感谢您参加我们的产品发布会。附件是会议资料和演示视频的链接，如有任何问题请随时与我们联系。"
    "我们的销售团队将在下周与您确认试用安排。",
    "Hello, a quick reminder that your invoice for the April services is available in "
    "the customer portal. No action is needed if you pay by direct debit.",
    "Hi there, as promised here is the case study of a logistics company that cut its "
    "reporting time in half with our platform. Happy to introduce you to their team.",
    //  Two bodies with banned phrases, picked rarely
    "Act now: this plan comes with guaranteed returns for every customer who signs "
    "before Friday.",
    "Sign up today and get the premium module for free, no questions asked.",
};
#define BODIES (sizeof bodies / sizeof bodies [0])

static const char *banned [30] = {
    "guaranteed returns", "free", "risk-free", "no questions asked", "best price ever",
    "once in a lifetime", "act now", "100% secure", "limited time only", "cheapest",
    "no obligation", "miracle", "unbeatable", "zero risk", "double your money",
    "最便宜", "保证收益", "零风险", "绝对安全", "限时抢购",
    "earn extra cash", "winner", "you have been selected", "this is not spam",
    "instant results", "lowest price", "no catch", "risk free trial", "once-off deal",
    "why pay more"
};

//  Claim sets: key/value pairs the events point to
typedef struct {
    msgpack_object_kv kv [2];
    uint32_t count;
} claims_t;

static void
s_claims (claims_t *self, const char *key1, const char *value1, const char *key2,
          const char *value2)
{
    memset (self, 0, sizeof *self);
    const char *keys [2] = { key1, key2 }, *values [2] = { value1, value2 };
    for (int i = 0; i < 2 && keys [i]; i++) {
        self->kv [i].key.type = MSGPACK_OBJECT_STR;
        self->kv [i].key.via.str.ptr = keys [i];
        self->kv [i].key.via.str.size = (uint32_t) strlen (keys [i]);
        self->kv [i].val.type = MSGPACK_OBJECT_STR;
        self->kv [i].val.via.str.ptr = values [i];
        self->kv [i].val.via.str.size = (uint32_t) strlen (values [i]);
        self->count++;
    }
}

//  The CPU time of this thread: on a shared machine the wall clock also
//  counts the time other processes had the core, and "per core" is what
//  we want to know. The wall time is printed too.
static double
s_now (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static double
s_wall (void)
{
    struct timespec ts;
    clock_gettime (CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

//  The tone book: 20 themes, 3 canonical claims, 30 banned phrases
static dt_tonebook_t *
s_book (const dt_stageset_t *stages)
{
    char err [256], name [64];
    dt_tonebook_t *book = dt_tonebook_new ();
    for (int i = 0; i < 20; i++) {
        snprintf (name, sizeof name, "theme-%02d", i);
        dt_tonebook_add_theme (book, name, i < 10? "awareness,interest,consideration":
                               "intent,evaluation,negotiation,purchase",
                               i == 7? T0 + 365 * 86400000LL: 0, 0, i == 9, err, sizeof err);
    }
    dt_tonebook_add_claim (book, "discount", "10%", err, sizeof err);
    dt_tonebook_add_claim (book, "warranty", "2 years", err, sizeof err);
    dt_tonebook_add_claim (book, "sla", "99.9%", err, sizeof err);
    for (int i = 0; i < 30; i++)
        dt_tonebook_add_banned (book, banned [i], err, sizeof err);
    if (dt_tonebook_validate (book, stages, err, sizeof err)) {
        fprintf (stderr, "tone book: %s\n", err);
        dt_tonebook_destroy (&book);
    }
    return book;
}

//  An engine with the tone book and, with BENCH_CAPS and caps, the contact
//  budget in zones (the caller's), or NULL
static dt_engine_t *
s_engine (const dt_stageset_t *stages, size_t *book_bytes, const dt_tzdb_t *zones, bool caps_on)
{
    char err [256] = "out of memory";
    dt_tonebook_t *book = s_book (stages);
    if (!book)
        return NULL;
    *book_bytes = dt_tonebook_bytes (book);
    dt_rules_config_t cfg;
    dt_rules_config_default (&cfg);
    const char *caps = caps_on? getenv ("BENCH_CAPS"): NULL;
    const char *tz = getenv ("BENCH_TZ")? getenv ("BENCH_TZ"): "Europe/Berlin";
    if (caps && (dt_rules_config_set (&cfg, "budget.caps", caps, err, sizeof err)
              || dt_rules_config_set (&cfg, "budget.timezone", tz, err, sizeof err))) {
        fprintf (stderr, "caps: %s\n", err);
        dt_tonebook_destroy (&book);
        return NULL;
    }
    dt_engine_t *engine = dt_engine_new (&cfg, stages);
    if (!engine || dt_engine_set_tonebook (engine, &book, err, sizeof err)
    ||  dt_engine_set_zones (engine, zones, err, sizeof err)) {
        fprintf (stderr, "engine: %s\n", err);
        dt_engine_destroy (&engine);
        dt_tonebook_destroy (&book);
    }
    return engine;
}

//  A pass of the twin engine (no alias map) over the same events: judged
//  and committed as the main loop does, findings counted alike, then
//  evicted; returns the CPU seconds
static double
s_twin_pass (dt_engine_t *twin, dt_event_t *events, bool hint, int64_t evict_at,
             long long *tally)
{
    dt_finding_t findings [16];
    double start = s_now ();
    for (int i = 0; i < EVENTS; i++) {
        if (hint && i + 2 < EVENTS)
            dt_engine_prefetch (twin, &events [i + 2]);
        dt_verdict_t verdict;
        int n = dt_engine_judge (twin, &events [i], true, findings, 16, &verdict);
        *tally += n + verdict;
        for (int f = 0; f < n; f++)
            *tally += findings [f].rule;
    }
    dt_engine_evict (twin, evict_at);
    return s_now () - start;
}

int
main (int argc, char *argv [])
{
    long aliases = -1;
    if (argc > 2 && strcmp (argv [1], "--aliases") == 0) {
        aliases = atol (argv [2]);
        argc -= 2;
        argv += 2;
    }
    int accounts = argc > 1? atoi (argv [1]): 100000;
    int passes = argc > 2? atoi (argv [2]): 8;
    int days = argc > 3? atoi (argv [3]): 7;
    int64_t span = days * DAY_MS;
    if (accounts < 1 || passes < 1 || days < 1 || (aliases < 0 && aliases != -1)) {
        fprintf (stderr, "usage: bench_rules [--aliases N] [accounts] [timed passes] "
                 "[days per pass]\n");
        return 1;
    }
    dt_stageset_t stages;
    dt_stageset_default (&stages);

    char err [256];
    size_t book_bytes = 0;
    dt_tzdb_t *zones = dt_tzdb_new ();
    char zone_err [256] = "out of memory";
    if (!zones || (getenv ("BENCH_CAPS")
                   && dt_tzdb_load_dir (zones, DT_TZDB_DIR, zone_err, sizeof zone_err) < 0)) {
        fprintf (stderr, "caps: %s\n", zone_err);
        return 1;
    }
    dt_engine_t *engine = s_engine (&stages, &book_bytes, zones, true);
    if (!engine)
        return 1;
    //  With an alias map, a twin engine without one judges the same passes,
    //  in turn with the main one (which goes first alternates), so that the
    //  ratio of the two rates comes from one run: on a shared machine the
    //  load changes from one run to the next
    long settings = getenv ("BENCH_SETTINGS")? atol (getenv ("BENCH_SETTINGS")): -1;
    //  With caps alone, the twin judges without them
    bool caps_twin = getenv ("BENCH_CAPS") && aliases < 0 && settings < 0;
    bool twinned = aliases >= 0 || settings >= 0 || caps_twin;
    dt_engine_t *twin = twinned? s_engine (&stages, &book_bytes, zones, !caps_twin): NULL;
    if (twinned && !twin)
        return 1;
    //  What the coordinator runs with empty alias tables
    bool bare = getenv ("BENCH_TWIN_BARE") != NULL;
    if (aliases >= 0 && !bare) {
        dt_identity_t *empty = dt_identity_new ();
        if (dt_identity_validate (empty, err, sizeof err)
        ||  dt_engine_set_identity (twin, &empty, err, sizeof err)) {
            fprintf (stderr, "empty map: %s\n", err);
            return 1;
        }
    }
    size_t settings_rows = 0, settings_bytes = 0;
    if (settings >= 0) {
        static const char *names [4] = { "Europe/Berlin", "America/New_York", "Asia/Tokyo",
                                         "Australia/Sydney" };
        dt_zonemap_t *map = dt_zonemap_new (zones);
        char id [48];
        for (long k = 0; k < settings; k++) {
            long who = (k / 2 * 2 + k % 2) % accounts;
            if (k % 2 == 0)
                snprintf (id, sizeof id, "acct-%07ld", who);
            else
                snprintf (id, sizeof id, "c1@acct-%07ld", who);
            if (dt_zonemap_add (map, k % 2? "contact": "account", id, names [k % 4],
                                err, sizeof err)) {
                fprintf (stderr, "settings: %s\n", err);
                return 1;
            }
        }
        settings_rows = dt_zonemap_rows (map);
        if (dt_engine_set_zonemap (engine, &map, err, sizeof err)) {
            fprintf (stderr, "settings: %s\n", err);
            return 1;
        }
        settings_bytes = dt_zonemap_bytes (dt_engine_zonemap (engine));
    }

    //  The alias map, if asked for
    size_t identity_bytes = 0, identity_rows = 0;
    double identity_build = 0;
    if (aliases >= 0) {
        double build_start = s_wall ();
        dt_identity_t *map = dt_identity_new ();
        char alias [64], canonical [48];
        long made = 0;
        for (int i = 0; i < accounts * 3 && made < aliases; i += 3, made++) {
            snprintf (alias, sizeof alias, "c%d@acct-%07d", i % 3, i / 3);
            snprintf (canonical, sizeof canonical, "003Dn%010d", i / 3);
            dt_identity_add (map, DT_ID_CONTACT, alias, canonical, "crm", err, sizeof err);
        }
        for (int i = 0; i < accounts && made < aliases; i += 4, made++) {
            snprintf (alias, sizeof alias, "acct-%07d", i);
            snprintf (canonical, sizeof canonical, "001Dn%010d", i);
            dt_identity_add (map, DT_ID_ACCOUNT, alias, canonical, "crm", err, sizeof err);
        }
        for (long i = 0; made < aliases; i++, made++) {
            //  People and companies the traffic never names
            bool contact = i % 4 != 3;
            if (contact && i % 3 == 0)
                snprintf (alias, sizeof alias, "first.last%ld@company%ld.example", i, i % 977);
            else
            if (contact && i % 3 == 1)
                snprintf (alias, sizeof alias, "+49 30 %09ld", i);
            else
                snprintf (alias, sizeof alias, "%s%012ld", contact? "00Q": "001Dx", i);
            snprintf (canonical, sizeof canonical, "%s%010ld", contact? "003Dx": "001Dy", i / 3);
            dt_identity_add (map, contact? DT_ID_CONTACT: DT_ID_ACCOUNT, alias, canonical,
                             "filler", err, sizeof err);
        }
        if (dt_identity_validate (map, err, sizeof err)) {
            fprintf (stderr, "aliases: %s\n", err);
            return 1;
        }
        identity_bytes = dt_identity_bytes (map);
        identity_rows = dt_identity_rows (map, DT_ID_CONTACT) + dt_identity_rows (map, DT_ID_ACCOUNT);
        identity_build = s_wall () - build_start;
        if (dt_engine_set_identity (engine, &map, err, sizeof err)) {
            fprintf (stderr, "aliases: %s\n", err);
            return 1;
        }
    }

    //  Names: accounts, three contacts each, projects
    char (*account_names) [24] = calloc ((size_t) accounts, 24);
    char (*contact_names) [32] = calloc ((size_t) accounts * 3, 32);
    for (int i = 0; i < accounts; i++) {
        snprintf (account_names [i], 24, "acct-%07d", i);
        for (int c = 0; c < 3; c++)
            snprintf (contact_names [i * 3 + c], 32, "c%d@acct-%07d", c, i);
    }
    static const char *projects [] = { "ERP-2026", "CRM-rollout", "BI-pilot", "DWH" };
    static char themes [20][24];
    for (int i = 0; i < 20; i++)
        snprintf (themes [i], sizeof themes [i], "theme-%02d", i);
    claims_t claim_sets [6];
    s_claims (&claim_sets [0], "price", "12,000 CNY", NULL, NULL);
    s_claims (&claim_sets [1], "price", "11,500 CNY", "discount", "10%");
    s_claims (&claim_sets [2], "delivery", "June 2026", NULL, NULL);
    s_claims (&claim_sets [3], "warranty", "2 years", "sla", "99.9%");
    s_claims (&claim_sets [4], "price", "9,900 CNY", NULL, NULL);
    s_claims (&claim_sets [5], "discount", "15%", NULL, NULL);

    //  The ring of events
    dt_event_t *events = calloc (EVENTS, sizeof (dt_event_t));
    char (*frames) [FRAME_SIZE] = calloc (EVENTS, FRAME_SIZE);
    int64_t *offsets = calloc (EVENTS, sizeof (int64_t));
    if (!events || !frames || !offsets || !account_names || !contact_names) {
        fprintf (stderr, "out of memory\n");
        return 1;
    }
    for (int i = 0; i < EVENTS; i++) {
        dt_event_t *ev = &events [i];
        int account = i % accounts;        //  set again for each pass
        dt_track_t track = s_below (2)? DT_TRACK_SALES: DT_TRACK_MARKETING;
        ev->track = ev->lead = track;
        //  Mostly on its own stages; 3% crossings; 10% joint
        int stage = track == DT_TRACK_MARKETING? (int) s_below (3): 3 + (int) s_below (4);
        uint32_t roll = s_below (100);
        if (roll < 3)
            stage = track == DT_TRACK_MARKETING? 3 + (int) s_below (4): (int) s_below (3);
        else
        if (roll < 13) {
            ev->advisors = (uint8_t) (1 << (1 - track));
            ev->present |= DT_HAS_ADVISORS;
        }
        ev->stage_index = stage;
        ev->stage = s_str (stages.name [stage]);
        ev->account = s_str (account_names [account]);
        if (s_below (10)) {
            ev->contact = s_str (contact_names [account * 3 + (int) s_below (3)]);
            ev->present |= DT_HAS_CONTACT;
        }
        ev->source = s_str ("crm");
        ev->channel = s_str ("email");
        ev->kind = s_str ("email");
        roll = s_below (100);
        ev->category = roll < 10? DT_CATEGORY_TRANSACTIONAL: roll < 40?
                       DT_CATEGORY_PROMOTIONAL: DT_CATEGORY_ONE_TO_ONE;
        roll = s_below (100);
        uint32_t body = roll < 1? BODIES - 2: roll < 2? BODIES - 1: s_below (BODIES - 2);
        ev->body = s_str (bodies [body]);
        ev->present |= DT_HAS_BODY;
        roll = s_below (100);
        if (roll < 90) {
            //  Mostly a theme approved for the range, sometimes a wrong one
            int theme = (stage < 3? 0: 10) + (int) s_below (10);
            if (roll < 3)
                theme = (theme + 10) % 20;
            ev->theme = s_str (themes [theme]);
            ev->present |= DT_HAS_THEME;
        }
        if (s_below (5) == 0) {
            claims_t *set = &claim_sets [track == DT_TRACK_SALES? s_below (4): s_below (6)];
            ev->claims = set->kv;
            ev->claim_count = set->count;
            ev->present |= DT_HAS_CLAIMS;
        }
        if (s_below (10) == 0) {
            ev->project = s_str (projects [s_below (4)]);
            ev->present |= DT_HAS_PROJECT;
        }
        //  Times spread over the pass, a few percent arriving late
        offsets [i] = (int64_t) i * span / EVENTS;
        if (s_below (50) == 0)
            offsets [i] -= (int64_t) s_below (6 * 3600) * 1000;
        if (offsets [i] < 0)
            offsets [i] = 0;
    }

    dt_finding_t findings [16];
    //  Read once: getenv in the timed loop (once per finding) was a tenth
    //  of the time measured
    bool show = getenv ("BENCH_SHOW") != NULL;
    long long found = 0, verdicts [3] = { 0, 0, 0 };
    double elapsed = 0, check_elapsed = 0, hinted_elapsed = 0, wall_elapsed = 0, evict_max = 0;
    long long judged = 0, checked = 0, hinted = 0, per_rule [DT_RULES] = { 0 };
    double twin_elapsed = 0, twin_hinted_elapsed = 0;
    long long twin_tally = 0;
    int total = WARMUP_PASSES + passes;
    for (int pass = 0; pass < total; pass++) {
        //  New ids, times and accounts, outside the clock: every account at
        //  least once per pass (7919 is prime), the rest at random
        for (int i = 0; i < EVENTS; i++) {
            int account = i < accounts? (int) (((int64_t) i * 7919 + pass) % accounts):
                          (int) s_below ((uint32_t) accounts);
            char *frame = frames [i];
            int len = snprintf (frame, 40, "%08x-%04x-4%03x-a%03x-%012llx", pass, i & 0xFFFF,
                                (unsigned) (i >> 16) & 0xFFF, (unsigned) (s_rand () & 0xFFF),
                                (unsigned long long) (s_rand () & 0xFFFFFFFFFFFFULL));
            events [i].id.ptr = frame;
            events [i].id.len = (uint32_t) len;
            frame += len;
            len = (int) strlen (account_names [account]);
            memcpy (frame, account_names [account], (size_t) len);
            events [i].account.ptr = frame;
            events [i].account.len = (uint32_t) len;
            frame += len;
            if (events [i].contact.len) {
                const char *contact = contact_names [account * 3 + (int) s_below (3)];
                len = (int) strlen (contact);
                memcpy (frame, contact, (size_t) len);
                events [i].contact.ptr = frame;
                events [i].contact.len = (uint32_t) len;
            }
            events [i].occurred_at = T0 + pass * span + offsets [i];
        }
        bool timed = pass >= WARMUP_PASSES;
        //  Every other timed pass gives the engine the hint a daemon judging
        //  a batch can give: the event two ahead (interleaved, so noise from
        //  other work on the machine falls on both alike)
        bool hint = timed && (pass - WARMUP_PASSES) % 2 == 1;
        int64_t evict_at = T0 + (pass + 1) * span;
        //  The twin first on every other pass of each kind
        bool twin_first = twin && (pass / 2) % 2 == 0;
        if (twin_first) {
            double took = s_twin_pass (twin, events, hint, evict_at, &twin_tally);
            if (timed) {
                twin_elapsed += took;
                twin_hinted_elapsed += hint? took: 0;
            }
        }
        double start = s_now (), wall_start = s_wall ();
        for (int i = 0; i < EVENTS; i++) {
            if (hint && i + 2 < EVENTS)
                dt_engine_prefetch (engine, &events [i + 2]);
            dt_verdict_t verdict;
            int n = dt_engine_judge (engine, &events [i], true, findings, 16, &verdict);
            if (timed) {
                found += n;
                verdicts [verdict]++;
                for (int f = 0; f < n; f++) {
                    per_rule [findings [f].rule]++;
                    if (show && s_below (20000) == 0)
                        printf ("    %s: %s\n", dt_rule_id (findings [f].rule), findings [f].message);
                }
            }
        }
        double evict_start = s_wall ();
        dt_engine_evict (engine, evict_at);
        double stop = s_now (), wall_stop = s_wall ();
        if (twin && !twin_first) {
            double took = s_twin_pass (twin, events, hint, evict_at, &twin_tally);
            if (timed) {
                twin_elapsed += took;
                twin_hinted_elapsed += hint? took: 0;
            }
        }
        //  One call stops the daemon's link thread that long
        if (wall_stop - evict_start > evict_max)
            evict_max = wall_stop - evict_start;
        if (timed) {
            elapsed += stop - start;
            wall_elapsed += wall_stop - wall_start;
            judged += EVENTS;
            if (hint) {
                hinted_elapsed += stop - start;
                hinted += EVENTS;
            }
            //  The check API on the same traffic: judged, not remembered
            start = s_now ();
            for (int i = 0; i < EVENTS; i += 4) {
                dt_verdict_t verdict;
                dt_engine_judge (engine, &events [i], false, findings, 16, &verdict);
            }
            check_elapsed += s_now () - start;
            checked += EVENTS / 4;
        }
    }

    size_t active = dt_engine_accounts (engine);
    size_t bytes = dt_engine_state_bytes (engine);
    //  What the daemon does instead: a slice per step, one cycle of them
    double step_max = 0;
    for (int step = 0; step < 64; step++) {
        double step_start = s_wall ();
        dt_engine_evict_step (engine, T0 + total * span);
        if (s_wall () - step_start > step_max)
            step_max = s_wall () - step_start;
    }
    printf ("rule engine benchmark (one core, %d accounts, %d timed passes of %d events, "
            "%d days each)\n", accounts, passes, EVENTS, days);
    if (getenv ("BENCH_CAPS"))
        printf ("  caps         : %s (zone %s)\n", getenv ("BENCH_CAPS"),
                getenv ("BENCH_TZ")? getenv ("BENCH_TZ"): "Europe/Berlin");
    printf ("  judge+commit : %lld touchpoints in %.3f s of CPU = %.0f touchpoints/s "
            "(%.0f ns each; %.0f/s by the wall clock)\n", judged, elapsed, judged / elapsed,
            elapsed * 1e9 / judged, judged / wall_elapsed);
    double plain_rate = judged > hinted? (judged - hinted) / (elapsed - hinted_elapsed): 0;
    double hinted_rate = hinted? hinted / hinted_elapsed: 0;
    printf ("    one by one : %.0f touchpoints/s; with dt_engine_prefetch two ahead: "
            "%.0f touchpoints/s\n", plain_rate, hinted_rate);
    printf ("  check only   : %lld touchpoints in %.3f s = %.0f touchpoints/s\n",
            checked, check_elapsed, checked / check_elapsed);
    printf ("  findings     : %.3f per touchpoint; verdicts ok %.1f%%, warn %.1f%%, "
            "violation %.1f%%\n", (double) found / judged, 100.0 * verdicts [0] / judged,
            100.0 * verdicts [1] / judged, 100.0 * verdicts [2] / judged);
    printf ("  by rule      :");
    for (int r = 0; r < DT_RULES; r++)
        printf (" %s %.1f%%", dt_rule_id ((dt_rule_t) r), 100.0 * per_rule [r] / judged);
    printf ("\n");
    printf ("  memory       : %zu active accounts, %zu bytes of state = %.0f bytes per "
            "account (block %zu bytes)\n", active, bytes, (double) bytes / active,
            dt_engine_account_block_bytes ());
    printf ("  tone book    : %zu bytes\n", book_bytes);
    if (settings >= 0)
        printf ("  settings     : %zu rows of buyers' own zones, %zu bytes (%.1f per row, "
                "apart from the accounts' state)\n", settings_rows, settings_bytes,
                settings_rows? (double) settings_bytes / settings_rows: 0.0);
    if (twinned) {
        if (aliases >= 0)
            printf ("  aliases      : %zu rows, %zu bytes = %.1f bytes per alias; built and "
                    "validated in %.2f s\n", identity_rows, identity_bytes,
                    identity_rows? (double) identity_bytes / identity_rows: 0.0, identity_build);
        double twin_rate = judged / twin_elapsed;
        double twin_plain = (judged - hinted) / (twin_elapsed - twin_hinted_elapsed);
        double twin_hinted = hinted? hinted / twin_hinted_elapsed: 0;
        printf ("  same run     : without %s (a twin engine, same passes, in turn) %.0f "
                "touchpoints/s; with / without = %.3f (one by one %.3f, hinted %.3f)%s\n",
                caps_twin? "caps": aliases < 0? "settings": bare? "a map (ids as sent)":
                "aliases (an empty map)", twin_rate, (judged / elapsed) / twin_rate, plain_rate / twin_plain,
                twin_hinted? hinted_rate / twin_hinted: 0.0, twin_tally < 0? " ": "");
    }
    if (aliases < 0)
        printf ("  aliases      : none (ids as sent)\n");
    printf ("  eviction     : longest call %.2f ms, in steps (the daemon's way) %.2f ms"
            " (wall clock)\n", evict_max * 1e3, step_max * 1e3);
    printf ("  targets      : >= 1000000 touchpoints/s: %s; <= 1024 bytes per account: %s\n",
            plain_rate >= 1e6 || hinted_rate >= 1e6? "met": "NOT MET",
            (double) bytes / active <= 1024? "met": "NOT MET");

    dt_engine_destroy (&engine);
    dt_engine_destroy (&twin);
    dt_tzdb_destroy (&zones);
    free (events);
    free (frames);
    free (offsets);
    free (account_names);
    free (contact_names);
    return 0;
}
