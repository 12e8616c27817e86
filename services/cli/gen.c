/*  gen.c - `dualtrack gen`: deterministic sample events as JSON lines.

    The events exercise every field and the awkward corners of the format
    (quotes, backslashes, tabs, newlines, non-ASCII text, nested attrs), so
    a round trip through the system shows any byte that changes.
*/
#include "cli/cli.h"
#include "proto/event.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

//  A small deterministic generator (xorshift), so runs are reproducible
static uint64_t
s_next_random (uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

int
dt_cli_gen (int argc, char *argv [])
{
    long count = 100;
    long accounts = 50;
    unsigned long long seed = 1;
    const char *track = "marketing", *prefix = "ev";
    long long base_ms = 1767225600000LL;    //  2026-01-01T00:00:00Z
    static struct option longopts [] = {
        { "count", required_argument, 0, 'n' }, { "track", required_argument, 0, 't' },
        { "seed", required_argument, 0, 's' }, { "prefix", required_argument, 0, 'p' },
        { "accounts", required_argument, 0, 'a' }, { "start-ms", required_argument, 0, 'S' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "n:t:s:p:a:S:h", longopts, NULL)) != -1) {
        switch (opt) {
            case 'n': count = atol (optarg); break;
            case 't': track = optarg; break;
            case 's': seed = strtoull (optarg, NULL, 10); break;
            case 'p': prefix = optarg; break;
            case 'a': accounts = atol (optarg); break;
            case 'S': base_ms = atoll (optarg); break;
            default:
                printf ("Usage: dualtrack gen [--count N] [--track marketing|sales] [--seed N]\n"
                        "         [--prefix P] [--accounts N] [--start-ms MS]\n"
                        "Writes N sample events as JSON lines; ids are P-TRACK-SEED-I.\n");
                return opt == 'h'? 0: 2;
        }
    }
    dt_track_t own = dt_track_parse (track, strlen (track));
    if (own == DT_TRACK_NONE || accounts < 1) {
        fprintf (stderr, "gen: --track must be marketing or sales, --accounts positive\n");
        return 2;
    }
    dt_stageset_t stages;
    dt_stageset_default (&stages);
    static const char *channels [] = { "email", "phone", "meeting", "webinar", "event", "ad",
                                       "web", "social", "chat", "letter", "other" };
    static const char *kinds [] = { "newsletter", "demo", "quote", "follow_up", "invite" };
    static const char *themes [] = { "cloud-first", "secure-by-default", "fast-onboarding" };
    static const char *bodies [] = {
        "Hello, \"friend\" \\ here is our offer.\nLine two\twith a tab.",
        "Grüße aus München: 价格 12,000 CNY — ✓",
        "plain text",
        ""
    };
    uint64_t state = seed * 0x9E3779B97F4A7C15ULL + 1;
    for (long i = 0; i < count; i++) {
        uint64_t r = s_next_random (&state);
        //  Mostly the track's own stages, sometimes the other's (joint work)
        int stage;
        do
            stage = (int) (s_next_random (&state) % (uint64_t) stages.count);
        while (stages.owner [stage] != own && r % 5 != 0);
        char id [96], account [32], contact [48];
        snprintf (id, sizeof id, "%s-%s-%llu-%ld", prefix, track, seed, i);
        long account_number = (long) (s_next_random (&state) % (uint64_t) accounts);
        snprintf (account, sizeof account, "acct-%ld", account_number);
        snprintf (contact, sizeof contact, "contact-%ld-%d", account_number, (int) (r % 3));

        json_t *event = json_object ();
        json_object_set_new (event, "id", json_string (id));
        json_object_set_new (event, "source", json_string (own == DT_TRACK_MARKETING? "hubspot": "salesforce"));
        json_object_set_new (event, "account", json_string (account));
        json_object_set_new (event, "stage", json_string (stages.name [stage]));
        json_object_set_new (event, "channel", json_string (channels [r % 11]));
        json_object_set_new (event, "kind", json_string (kinds [(r >> 8) % 5]));
        json_object_set_new (event, "occurred_at", json_integer (base_ms + i * 60000 + (long long) (r % 60000)));
        if (r & 1)
            json_object_set_new (event, "contact", json_string (contact));
        if (r & 2)
            json_object_set_new (event, "actor", json_string ((r & 4)? "Zoë Ångström": "jdoe"));
        if (stages.owner [stage] != own) {
            json_object_set_new (event, "lead", json_string (dt_track_name (stages.owner [stage])));
            json_t *advisors = json_array ();
            json_array_append_new (advisors, json_string (track));
            json_object_set_new (event, "advisors", advisors);
        }
        if ((r >> 3) % 4 == 0)
            json_object_set_new (event, "project", json_string ("key-project-7"));
        if ((r >> 5) % 2)
            json_object_set_new (event, "theme", json_string (themes [(r >> 6) % 3]));
        if ((r >> 9) % 3 == 0) {
            json_t *claims = json_object ();
            json_object_set_new (claims, "price", json_string ("12,000 CNY"));
            if ((r >> 11) % 2)
                json_object_set_new (claims, "delivery", json_string ("within 30 days"));
            json_object_set_new (event, "claims", claims);
        }
        if ((r >> 12) % 2)
            json_object_set_new (event, "body", json_string (bodies [(r >> 13) % 4]));
        if ((r >> 15) % 3 == 0) {
            json_t *attrs = json_pack ("{s:s, s:i, s:b, s:[i, f, s], s:{s:n}}",
                                       "campaign", "q3-launch", "score", (int) (r % 100),
                                       "vip", (int) ((r >> 16) & 1), "list", 1, 0.1, "x\ty",
                                       "nested", "none");
            json_object_set_new (event, "attrs", attrs);
        }
        if ((r >> 17) % 5 == 0)
            json_object_set_new (event, "category", json_string ((r >> 18) % 2? "promotional": "transactional"));
        //  15 digits: 0.1 is written 0.1, as a publisher would write it
        char *text = json_dumps (event, JSON_COMPACT | JSON_REAL_PRECISION (15));
        puts (text);
        free (text);
        json_decref (event);
    }
    return 0;
}
