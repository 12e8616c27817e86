/*  test_zonemap.c - the buyers' own time zones on their own: rows
    validated (an unknown zone, a bad kind or id refuse the whole map,
    naming the row and the field), looked up by canonical id through an
    alias map and again after the alias map changes, a contact's row
    before its account's, two rows of one buyer (the one naming the
    canonical id wins), and what a reload reports as changed. The engine's
    use of it is tested in test_budget.c (s_test_buyer_zones).
*/
#include "rules/zonemap.h"
#include "unit/testing.h"

#include <stdlib.h>

static dt_tzdb_t *zones;

static dt_str_t
s_str (const char *text)
{
    dt_str_t str = { text, (uint32_t) strlen (text) };
    return str;
}

//  The zone's name for the buyer, or "-"
static const char *
s_find (const dt_zonemap_t *map, dt_id_kind_t kind, const char *id)
{
    const dt_zone_t *zone = dt_zonemap_find (map, kind, s_str (id));
    return zone? dt_zone_name (zone): "-";
}

static const char *
s_buyer (const dt_zonemap_t *map, dt_identity_t *identity, const char *contact,
         const char *account)
{
    const dt_zone_t *zone = dt_zonemap_buyer (map, identity, s_str (contact), s_str (account));
    return zone? dt_zone_name (zone): "-";
}

static void
s_test_refusals (void)
{
    char err [256];
    dt_zonemap_t *map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "contact", "bob@acme.com", "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "carol@acme.com", "Europe/Berln", err, sizeof err), -1);
    CHECK_STR (err, "contact setting 2 (contact carol@acme.com): tz 'Europe/Berln' is not a time zone of "
               "the tz database (an IANA name such as Europe/Berlin)");
    //  One refused row refuses the map: it answers nothing
    CHECK_INT (dt_zonemap_resolve (map, NULL, err, sizeof err), -1);
    CHECK (strstr (err, "contact setting 2 (contact carol@acme.com): tz 'Europe/Berln'"));
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "-");
    dt_zonemap_destroy (&map);
    CHECK (map == NULL);
    dt_zonemap_destroy (&map);              //  twice is fine

    map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "person", "x", "UTC", err, sizeof err), -1);
    CHECK_STR (err, "contact setting 1 (x): kind must be contact or account, not 'person'");
    dt_zonemap_destroy (&map);
    map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "account", "", "UTC", err, sizeof err), -1);
    CHECK_STR (err, "contact setting 1: id must be 1 to 256 bytes of valid UTF-8");
    dt_zonemap_destroy (&map);
    map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "account", "acme.com", "", err, sizeof err), -1);
    CHECK (strstr (err, "contact setting 1 (account acme.com): tz '' is not a time zone"));
    CHECK_INT (dt_zonemap_add (map, "account", "acme.com", "../../etc/passwd", err, sizeof err), -1);
    CHECK_INT (dt_zonemap_add (map, "account", "acme.com", "\xff\xfe", err, sizeof err), -1);
    CHECK (strstr (err, "tz '(not a name)'"));
    dt_zonemap_destroy (&map);
    //  Without a tz database every zone is refused, even UTC
    map = dt_zonemap_new (NULL);
    CHECK_INT (dt_zonemap_add (map, "account", "acme.com", "UTC", err, sizeof err), -1);
    dt_zonemap_destroy (&map);
}

static void
s_test_lookup (void)
{
    char err [256];
    dt_zonemap_t *map = dt_zonemap_new (zones);
    CHECK (dt_zonemap_zones (map) == zones);
    //  An empty map answers nothing
    CHECK_INT (dt_zonemap_resolve (map, NULL, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "-");
    CHECK_INT (dt_zonemap_add (map, "contact", "bob@acme.com", "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "account", "acme.com", "America/New_York", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "acme.com", "Asia/Tokyo", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_rows (map), 3);
    //  Not yet resolved: nothing
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "-");
    CHECK_INT (dt_zonemap_resolve (map, NULL, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "Europe/Berlin");
    //  A contact and an account may share an id
    CHECK_STR (s_find (map, DT_ID_ACCOUNT, "acme.com"), "America/New_York");
    CHECK_STR (s_find (map, DT_ID_CONTACT, "acme.com"), "Asia/Tokyo");
    CHECK_STR (s_find (map, DT_ID_ACCOUNT, "bob@acme.com"), "-");
    CHECK_STR (s_find (map, DT_ID_CONTACT, "Bob@acme.com"), "-");   //  no alias map: exact
    //  The contact's row first, then the account's
    CHECK_STR (s_buyer (map, NULL, "bob@acme.com", "acme.com"), "Europe/Berlin");
    CHECK_STR (s_buyer (map, NULL, "carol@acme.com", "acme.com"), "America/New_York");
    CHECK_STR (s_buyer (map, NULL, "", "acme.com"), "America/New_York");
    CHECK_STR (s_buyer (map, NULL, "carol@acme.com", "globex.com"), "-");

    //  Through an alias map: rows by alias or canonical id, ids normalised
    dt_identity_t *identity = dt_identity_new ();
    CHECK_INT (dt_identity_add (identity, DT_ID_CONTACT, "bob@acme.com", "003Dn00000Xk2", NULL,
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_add (identity, DT_ID_ACCOUNT, "acme.com", "0015g00000ACME", NULL,
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_validate (identity, err, sizeof err), 0);
    CHECK_INT (dt_zonemap_resolve (map, identity, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "003Dn00000Xk2"), "Europe/Berlin");
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "-");    //  by canonical id only
    CHECK_STR (s_buyer (map, identity, "BOB@Acme.com", "x"), "Europe/Berlin");
    CHECK_STR (s_buyer (map, identity, "003Dn00000Xk2", "x"), "Europe/Berlin");
    CHECK_STR (s_buyer (map, identity, "dan@acme.com", "ACME.com"), "-");   //  not normalised
    CHECK_STR (s_buyer (map, identity, "dan@acme.com", "0015g00000ACME"), "America/New_York");
    //  The alias map changes: filed again
    CHECK_INT (dt_zonemap_resolve (map, NULL, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "bob@acme.com"), "Europe/Berlin");
    CHECK_STR (s_find (map, DT_ID_CONTACT, "003Dn00000Xk2"), "-");
    CHECK_INT (dt_zonemap_conflicts (map), 0);
    dt_zonemap_destroy (&map);

    //  Two rows of one buyer: the row naming the canonical id wins,
    //  whichever comes first; else the first added. Conflicts counted.
    map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "contact", "bob@acme.com", "Europe/Berlin", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "003Dn00000Xk2", "Asia/Tokyo", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "Bob@Acme.com", "Europe/Paris", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_resolve (map, identity, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "003Dn00000Xk2"), "Asia/Tokyo");
    CHECK_INT (dt_zonemap_conflicts (map), 2);
    dt_zonemap_destroy (&map);
    map = dt_zonemap_new (zones);
    CHECK_INT (dt_zonemap_add (map, "contact", "Bob@Acme.com", "Europe/Paris", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_add (map, "contact", "bob@acme.com", "Europe/Paris", err, sizeof err), 0);
    CHECK_INT (dt_zonemap_resolve (map, identity, err, sizeof err), 0);
    CHECK_STR (s_find (map, DT_ID_CONTACT, "003Dn00000Xk2"), "Europe/Paris");
    CHECK_INT (dt_zonemap_conflicts (map), 0);        //  the same zone: no conflict
    dt_zonemap_destroy (&map);
    dt_identity_destroy (&identity);
}

//  Many buyers: every one found, none confused with another
static void
s_test_many (void)
{
    char err [256], id [32];
    const char *names [3] = { "Europe/Berlin", "Asia/Tokyo", "America/New_York" };
    dt_zonemap_t *map = dt_zonemap_new (zones);
    int refused = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf (id, sizeof id, "c%d@example.com", i);
        refused += dt_zonemap_add (map, i % 2? "contact": "account", id, names [i % 3],
                                   err, sizeof err) != 0;
    }
    CHECK_INT (refused, 0);
    CHECK_INT (dt_zonemap_resolve (map, NULL, err, sizeof err), 0);
    int right = 0, wrong = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf (id, sizeof id, "c%d@example.com", i);
        right += strcmp (s_find (map, i % 2? DT_ID_CONTACT: DT_ID_ACCOUNT, id), names [i % 3]) == 0;
        wrong += strcmp (s_find (map, i % 2? DT_ID_ACCOUNT: DT_ID_CONTACT, id), "-") != 0;
    }
    CHECK_INT (right, 20000);
    CHECK_INT (wrong, 0);
    //  Rows (with the room doubling left), their ids and keys, the index:
    //  ~165 bytes a buyer here
    CHECK (dt_zonemap_bytes (map) > 20000 * 100 && dt_zonemap_bytes (map) < 20000 * 200);
    dt_zonemap_destroy (&map);
}

static dt_zonemap_t *
s_map (const char *const *rows)
{
    char err [256];
    dt_zonemap_t *map = dt_zonemap_new (zones);
    for (; rows [0]; rows += 3)
        CHECK_INT (dt_zonemap_add (map, rows [0], rows [1], rows [2], err, sizeof err), 0);
    return map;
}

static void
s_diff (const dt_zonemap_t *old, const dt_zonemap_t *new_map, size_t want_added,
        size_t want_removed, size_t want_changed)
{
    size_t added = 99, removed = 99, changed = 99;
    CHECK_INT (dt_zonemap_diff (old, new_map, &added, &removed, &changed, NULL, NULL), 0);
    CHECK_INT (added, want_added);
    CHECK_INT (removed, want_removed);
    CHECK_INT (changed, want_changed);
}

static void
s_told (void *ctx, dt_id_kind_t kind, dt_str_t canonical)
{
    char *told = (char *) ctx;
    size_t len = strlen (told);
    snprintf (told + len, 128 - len, " %s:%.*s", dt_identity_kind_name (kind),
              (int) canonical.len, canonical.ptr);
}

static void
s_test_diff (void)
{
    const char *const a [] = { "contact", "bob", "Europe/Berlin", "account", "acme", "UTC", NULL };
    //  Another order, one zone changed, one row more
    const char *const b [] = { "account", "acme", "UTC", "contact", "bob", "Asia/Tokyo",
                               "contact", "carol", "UTC", NULL };
    dt_zonemap_t *one = s_map (a), *two = s_map (b), *again = s_map (a);
    s_diff (NULL, NULL, 0, 0, 0);
    s_diff (NULL, one, 2, 0, 0);
    s_diff (one, NULL, 0, 2, 0);
    s_diff (one, again, 0, 0, 0);
    s_diff (one, two, 1, 0, 1);
    s_diff (two, one, 0, 1, 1);
    //  The buyers told: bob's zone changed, carol's row is new
    char told [128] = "";
    size_t added, removed, changed;
    CHECK_INT (dt_zonemap_diff (one, two, &added, &removed, &changed, s_told, told), 0);
    CHECK_STR (told, " contact:bob contact:carol");
    told [0] = 0;
    CHECK_INT (dt_zonemap_diff (two, NULL, &added, &removed, &changed, s_told, told), 0);
    CHECK_STR (told, " contact:bob contact:carol account:acme");
    dt_zonemap_destroy (&one);
    dt_zonemap_destroy (&two);
    dt_zonemap_destroy (&again);
}

int
main (void)
{
    zones = dt_tzdb_new ();
    char err [256];
    CHECK (dt_tzdb_load_dir (zones, DT_TZDB_DIR, err, sizeof err) > 300);
    s_test_refusals ();
    s_test_lookup ();
    s_test_many ();
    s_test_diff ();
    dt_tzdb_destroy (&zones);
    return TESTING_DONE ();
}
