/*  test_tprow.c - a stored touchpoint row made into an event
    (services/store/tprow.c): every column read, optional ones absent when
    NULL, advisors from the array's text, claims from jsonb's text with
    every JSON escape (quotes, backslashes, control characters, \\u with
    surrogate pairs) turned back into the bytes that were sent, claims that
    are not an object of strings left out, and a row the stages cannot
    place refused.
*/
#include "store/tprow.h"
#include "unit/testing.h"

#include <stdlib.h>
#include <string.h>

//  The row a stored touchpoint gives: DT_TPROW_COUNT columns, NULL for
//  absent (the same order as DT_TPROW_COLUMNS)
static void
s_row (dt_tpcol_t *cols, const char *const *values)
{
    for (int c = 0; c < DT_TPROW_COUNT; c++) {
        cols [c].null = values [c] == NULL;
        cols [c].ptr = values [c]? values [c]: "";
        cols [c].len = values [c]? (uint32_t) strlen (values [c]): 0;
    }
}

static int
s_claim (const dt_event_t *ev, const char *key, const char *value)
{
    for (uint32_t i = 0; i < ev->claim_count; i++) {
        const msgpack_object_kv *kv = &ev->claims [i];
        if (kv->key.via.str.size == strlen (key)
        &&  memcmp (kv->key.via.str.ptr, key, strlen (key)) == 0)
            return kv->val.via.str.size == strlen (value)
                && memcmp (kv->val.via.str.ptr, value, strlen (value)) == 0;
    }
    return 0;
}

static void
test_full_row (dt_tprow_t *decoder)
{
    const char *values [DT_TPROW_COUNT] = {
        "tp-1", "sales", "acme", "ann@acme.example", "intent", "marketing",
        "{marketing,sales}", "key-project-7", "cloud-first",
        "{\"price\": \"12,000 \\\"CNY\\\"\", \"path\": \"C:\\\\x\\ty\\nz\", "
            "\"text\": \"caf\\u00e9 \\ud83d\\ude00 \\u4ef7\"}",
        "1767225600123", "promotional", "crm", "email", "quote", "Europe/Berlin"
    };
    dt_tpcol_t cols [DT_TPROW_COUNT];
    s_row (cols, values);
    dt_event_t ev;
    CHECK_INT (dt_tprow_decode (decoder, cols, &ev), 0);
    CHECK (dt_str_eq (ev.id, "tp-1"));
    CHECK_INT (ev.track, DT_TRACK_SALES);
    CHECK_INT (ev.lead, DT_TRACK_MARKETING);
    CHECK (dt_str_eq (ev.account, "acme"));
    CHECK (dt_str_eq (ev.contact, "ann@acme.example"));
    CHECK (dt_str_eq (ev.stage, "intent"));
    CHECK_INT (ev.stage_index, 3);
    CHECK_INT (ev.advisors, (1 << DT_TRACK_MARKETING) | (1 << DT_TRACK_SALES));
    CHECK (dt_str_eq (ev.project, "key-project-7"));
    CHECK (dt_str_eq (ev.theme, "cloud-first"));
    CHECK_INT (ev.occurred_at, 1767225600123LL);
    CHECK_INT (ev.category, DT_CATEGORY_PROMOTIONAL);
    CHECK (dt_str_eq (ev.source, "crm") && dt_str_eq (ev.channel, "email") && dt_str_eq (ev.kind, "quote"));
    CHECK_INT (ev.present & (DT_HAS_CONTACT | DT_HAS_ADVISORS | DT_HAS_PROJECT | DT_HAS_THEME | DT_HAS_CLAIMS),
               DT_HAS_CONTACT | DT_HAS_ADVISORS | DT_HAS_PROJECT | DT_HAS_THEME | DT_HAS_CLAIMS);
    CHECK_INT (ev.claim_count, 3);
    CHECK (s_claim (&ev, "price", "12,000 \"CNY\""));
    CHECK (s_claim (&ev, "path", "C:\\x\ty\nz"));
    CHECK (s_claim (&ev, "text", "caf\xC3\xA9 \xF0\x9F\x98\x80 \xE4\xBB\xB7"));
    //  attrs holds the time zone alone, for the contact budget
    CHECK (ev.present & DT_HAS_ATTRS);
    CHECK (ev.attrs && ev.attrs->type == MSGPACK_OBJECT_MAP && ev.attrs->via.map.size == 1);
    CHECK (ev.attrs && dt_str_eq (dt_str_of (&ev.attrs->via.map.ptr [0].val), "Europe/Berlin"));
}

static void
test_optional_absent (dt_tprow_t *decoder)
{
    const char *values [DT_TPROW_COUNT] = {
        "tp-2", "marketing", "acme", NULL, "awareness", "marketing", "{}", NULL, NULL, NULL,
        "1767225600000", "one_to_one", "crm", "email", "newsletter"
    };
    dt_tpcol_t cols [DT_TPROW_COUNT];
    s_row (cols, values);
    dt_event_t ev;
    CHECK_INT (dt_tprow_decode (decoder, cols, &ev), 0);
    CHECK_INT (ev.present, 0);
    CHECK_INT (ev.advisors, 0);
    CHECK_INT (ev.category, DT_CATEGORY_ONE_TO_ONE);
    CHECK_INT (ev.claim_count, 0);
    //  An empty object: claims present, none in it (as the history read them)
    values [9] = "{}";
    s_row (cols, values);
    CHECK_INT (dt_tprow_decode (decoder, cols, &ev), 0);
    CHECK_INT (ev.present & DT_HAS_CLAIMS, DT_HAS_CLAIMS);
    CHECK_INT (ev.claim_count, 0);
}

static void
test_bad_claims_left_out (dt_tprow_t *decoder)
{
    const char *bad [] = {
        "{\"price\": 12}", "[\"a\"]", "{\"a\": \"b\"", "{\"a\" \"b\"}", "{\"a\": \"\\q\"}",
        "{\"a\": \"\\ud83d\"}", "{\"a\": \"b\",}"
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        const char *values [DT_TPROW_COUNT] = {
            "tp-3", "marketing", "acme", NULL, "awareness", "marketing", "{}", NULL, NULL, bad [i],
            "1767225600000", "transactional", "crm", "email", "newsletter"
        };
        dt_tpcol_t cols [DT_TPROW_COUNT];
        s_row (cols, values);
        dt_event_t ev;
        CHECK_INT (dt_tprow_decode (decoder, cols, &ev), 0);
        if ((ev.present & DT_HAS_CLAIMS) != 0)
            fprintf (stderr, "claims taken from %s\n", bad [i]);
        CHECK_INT (ev.present & DT_HAS_CLAIMS, 0);
        CHECK_INT (ev.category, DT_CATEGORY_TRANSACTIONAL);
    }
}

static void
test_unplaceable_refused (dt_tprow_t *decoder)
{
    const char *values [DT_TPROW_COUNT] = {
        "tp-4", "marketing", "acme", NULL, "shopping", "marketing", "{}", NULL, NULL, NULL,
        "1767225600000", "one_to_one", "crm", "email", "newsletter"
    };
    dt_tpcol_t cols [DT_TPROW_COUNT];
    s_row (cols, values);
    dt_event_t ev;
    CHECK_INT (dt_tprow_decode (decoder, cols, &ev), -1);
    values [4] = "awareness";
    values [1] = "support";
    s_row (cols, values);
    CHECK_INT (dt_tprow_decode (decoder, cols, &ev), -1);
}

int
main (void)
{
    dt_stageset_t stages;
    dt_stageset_default (&stages);
    dt_tprow_t *decoder = dt_tprow_new (&stages);
    test_full_row (decoder);
    test_optional_absent (decoder);
    test_bad_claims_left_out (decoder);
    test_unplaceable_refused (decoder);
    dt_tprow_destroy (&decoder);
    CHECK (decoder == NULL);
    return TESTING_DONE ();
}
