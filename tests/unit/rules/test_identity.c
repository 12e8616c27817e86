/*  test_identity.c - the alias maps: normalisation of e-mail addresses and
    phone numbers, lookups of both kinds, each refusal of dt_identity_validate
    with the sentence naming the rows, bad rows, and a replacement map that
    is refused while the old one keeps answering.
*/
#include "rules/identity.h"
#include "base/hash.h"
#include "unit/testing.h"
#include "unit/tagclash.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

static dt_str_t
S (const char *text)
{
    dt_str_t str = { text, (uint32_t) strlen (text) };
    return str;
}

//  A result as a C string (static buffer: one at a time)
static const char *
s_text (dt_str_t str)
{
    static char buffer [DT_IDENTITY_NORM_MAX + 1];
    memcpy (buffer, str.ptr, str.len);
    buffer [str.len] = 0;
    return buffer;
}

static const char *
s_normal (const char *id)
{
    char out [DT_IDENTITY_NORM_MAX];
    return s_text (dt_identity_normalise (S (id), out));
}

static const char *
s_contact (dt_identity_t *map, const char *id)
{
    //  In a buffer of exactly its size, so ASan catches a read past it
    size_t len = strlen (id);
    char *copy = (char *) malloc (len? len: 1);
    memcpy (copy, id, len);
    dt_str_t slice = { copy, (uint32_t) len };
    const char *result = s_text (dt_identity_contact (map, slice));
    free (copy);
    return result;
}

static const char *
s_account (dt_identity_t *map, const char *id)
{
    return s_text (dt_identity_account (map, S (id)));
}

static void
s_test_normalise (void)
{
    //  E-mail addresses: trimmed, folded as a whole
    CHECK_STR (s_normal ("Bob@Acme.COM"), "bob@acme.com");
    CHECK_STR (s_normal ("  bob@acme.com \t"), "bob@acme.com");
    CHECK_STR (s_normal ("\xC2\xA0" "Bob@ACME.com"), "bob@acme.com");     //  no-break space
    CHECK_STR (s_normal ("ÉLODIE@Société.FR"), "élodie@société.fr");
    CHECK_STR (s_normal ("ΣΩΚΡΆΤΗΣ@example.gr"), "σωκράτησ@example.gr");
    CHECK_STR (s_normal ("bob@acme.com"), "bob@acme.com");
    //  Not e-mail addresses: as sent
    CHECK_STR (s_normal ("bob @acme.com"), "bob @acme.com");
    CHECK_STR (s_normal ("@Acme"), "@Acme");
    CHECK_STR (s_normal ("Acme@"), "Acme@");
    CHECK_STR (s_normal ("a@b@C"), "a@b@C");
    CHECK_STR (s_normal ("Bob\x01@Acme.com"), "Bob\x01@Acme.com");    //  a control character
    CHECK_STR (s_normal ("B\xFF@Acme.com"), "B\xFF@Acme.com");        //  not UTF-8
    CHECK_STR (s_normal ("B\xEF\xBF\xBD@Acme.com"), "b\xEF\xBF\xBD@acme.com");   //  U+FFFD itself
    CHECK_STR (s_normal ("Bob\xE3\x80\x80x@Acme.com"), "Bob\xE3\x80\x80x@Acme.com");    //  U+3000
    //  Phone numbers: '+' and digits
    CHECK_STR (s_normal ("+49 30 1234567"), "+49301234567");
    CHECK_STR (s_normal ("+49 (30) 123-45.67"), "+49301234567");
    CHECK_STR (s_normal (" 030 123 4567 "), "0301234567");
    CHECK_STR (s_normal ("0301234567"), "0301234567");
    CHECK_STR (s_normal ("+"), "+");
    CHECK_STR (s_normal ("+ -"), "+ -");
    CHECK_STR (s_normal ("+49 30 12x4"), "+49 30 12x4");
    CHECK_STR (s_normal ("49+30"), "49+30");
    CHECK_STR (s_normal ("(030) 1234"), "(030) 1234");    //  must start with '+' or a digit
    //  Other ids: exactly as sent, white space too
    CHECK_STR (s_normal ("003Dn00000Xk2"), "003Dn00000Xk2");
    CHECK_STR (s_normal (" Acme.com "), " Acme.com ");
    CHECK_STR (s_normal (""), "");
    CHECK_STR (s_normal ("   "), "   ");
    //  An unchanged id is returned as it is, not copied
    char out [DT_IDENTITY_NORM_MAX];
    dt_str_t id = S ("bob@acme.com");
    CHECK (dt_identity_normalise (id, out).ptr == id.ptr);
    //  The one-pass answer for plain ASCII ids and the long way agree at
    //  their edges: a capital, a DEL, a leading digit or '+', an '@' at an end
    id = S ("003Dn00000Xk2");
    CHECK (dt_identity_normalise (id, out).ptr == id.ptr);
    CHECK_STR (s_normal ("bob@acme.coM"), "bob@acme.com");
    CHECK_STR (s_normal ("bob\x7F@acme.com"), "bob\x7F@acme.com");
    CHECK_STR (s_normal ("9acme"), "9acme");
    CHECK_STR (s_normal ("+acme"), "+acme");
    CHECK_STR (s_normal ("+4930"), "+4930");
    CHECK_STR (s_normal ("crm@"), "crm@");
    CHECK_STR (s_normal ("x@y"), "x@y");
    //  Folding that lengthens UTF-8 (U+023A, 2 bytes, folds to U+2C65, 3)
    char longest [DT_IDENTITY_ID_MAX + 1];
    size_t len = 0;
    while (len + 2 <= DT_IDENTITY_ID_MAX - 2) {
        memcpy (longest + len, "\xC8\xBA", 2);
        len += 2;
    }
    memcpy (longest + len, "@x", 2);
    len += 2;
    dt_str_t folded = dt_identity_normalise ((dt_str_t) { longest, (uint32_t) len }, out);
    CHECK (folded.len > len && folded.len <= DT_IDENTITY_NORM_MAX);
    //  Too long: as it is
    char too_long [DT_IDENTITY_ID_MAX + 10];
    memset (too_long, 'A', sizeof too_long);
    too_long [0] = 'X';
    too_long [5] = '@';
    dt_str_t as_is = { too_long, sizeof too_long };
    CHECK (dt_identity_normalise (as_is, out).ptr == too_long);
}

static dt_identity_t *
s_valid_map (void)
{
    char err [512] = "";
    dt_identity_t *map = dt_identity_new ();
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "Bob@Acme.com", "003Dn00000Xk2", "marketo",
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "+49 30 1234567", "003Dn00000Xk2",
                                "calls", err, sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "robert@acme.com", "003Dn00000Xk2", "",
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "alice@acme.com", "003Dn00000Al1", NULL,
                                err, sizeof err), 0);
    //  The same row twice, and one that only differs in writing: accepted
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "bob@acme.com", "003Dn00000Xk2", "crm",
                                err, sizeof err), 0);
    //  An alias that normalises to its canonical id changes nothing
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "Carol@Acme.com", "carol@acme.com", "crm",
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "acme.com", "001Dn000ACME", "marketo",
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "ACME GmbH", "001Dn000ACME", "erp",
                                err, sizeof err), 0);
    CHECK_INT (dt_identity_validate (map, err, sizeof err), 0);
    CHECK_STR (err, "");
    CHECK (dt_identity_valid (map));
    return map;
}

static void
s_test_lookup (void)
{
    dt_identity_t *map = s_valid_map ();
    CHECK_INT (dt_identity_rows (map, DT_ID_CONTACT), 6);
    CHECK_INT (dt_identity_rows (map, DT_ID_ACCOUNT), 2);
    //  Aliases, however written
    CHECK_STR (s_contact (map, "bob@acme.com"), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, " BOB@ACME.COM "), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, "+49 (30) 123-4567"), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, "+49301234567"), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, "Robert@acme.com"), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, "alice@acme.com"), "003Dn00000Al1");
    //  The canonical id and unknown ids: themselves, normalised
    CHECK_STR (s_contact (map, "003Dn00000Xk2"), "003Dn00000Xk2");
    CHECK_STR (s_contact (map, "Dave@Acme.com"), "dave@acme.com");
    CHECK_STR (s_contact (map, "CAROL@acme.com"), "carol@acme.com");
    CHECK_STR (s_contact (map, "+49 30 7654321"), "+49307654321");
    CHECK_STR (s_contact (map, "003dn00000xk2"), "003dn00000xk2");   //  CRM ids are exact
    CHECK_STR (s_contact (map, ""), "");
    //  A contact alias is no account alias, and the other way round
    CHECK_STR (s_account (map, "bob@acme.com"), "bob@acme.com");
    CHECK_STR (s_contact (map, "acme.com"), "acme.com");
    CHECK_STR (s_account (map, "acme.com"), "001Dn000ACME");
    CHECK_STR (s_account (map, "ACME GmbH"), "001Dn000ACME");
    CHECK_STR (s_account (map, "acme gmbh"), "acme gmbh");          //  not an e-mail: exact
    //  The canonical id points into the map: it outlives the next lookup
    dt_str_t kept = dt_identity_contact (map, S ("bob@acme.com"));
    dt_identity_contact (map, S ("Zed@Acme.com"));
    CHECK (kept.len == 13 && memcmp (kept.ptr, "003Dn00000Xk2", 13) == 0);
    CHECK (dt_identity_bytes (map) > 0);
    dt_identity_destroy (&map);
    CHECK (map == NULL);
    dt_identity_destroy (&map);
}

static void
s_test_normalise_off (void)
{
    char err [512];
    dt_identity_t *map = dt_identity_new ();
    dt_identity_set_normalise (map, DT_ID_CONTACT, false);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "Bob@Acme.com", "C1", NULL, err,
                                sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "bob@acme.com", "C2", NULL, err,
                                sizeof err), 0);
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "Acme@Example.com", "A1", NULL, err,
                                sizeof err), 0);
    CHECK_INT (dt_identity_validate (map, err, sizeof err), 0);
    CHECK_STR (s_contact (map, "Bob@Acme.com"), "C1");
    CHECK_STR (s_contact (map, "bob@acme.com"), "C2");
    CHECK_STR (s_contact (map, "BOB@acme.com"), "BOB@acme.com");
    CHECK_STR (s_account (map, "acme@example.com"), "A1");          //  accounts still on
    //  Turned back on, the two rows are one alias with two canonical ids
    dt_identity_set_normalise (map, DT_ID_CONTACT, true);
    CHECK (!dt_identity_valid (map));
    CHECK_INT (dt_identity_validate (map, err, sizeof err), -1);
    CHECK_STR (err, "contact alias 'bob@acme.com' points at two canonical ids: rows "
               "'Bob@Acme.com' -> 'C1' and 'bob@acme.com' -> 'C2'");
    dt_identity_destroy (&map);
}

//  A map of the valid rows plus extra ones; validate's answer in err
static int
s_refused (const char *const rows [][4], char *err, size_t errlen)
{
    dt_identity_t *map = s_valid_map ();
    for (int i = 0; rows [i][0]; i++) {
        dt_id_kind_t kind = strcmp (rows [i][0], "account") == 0? DT_ID_ACCOUNT: DT_ID_CONTACT;
        dt_identity_add (map, kind, rows [i][1], rows [i][2], rows [i][3], NULL, 0);
    }
    int rc = dt_identity_validate (map, err, errlen);
    CHECK (dt_identity_valid (map) == (rc == 0));
    dt_identity_destroy (&map);
    return rc;
}

static void
s_test_refusals (void)
{
    char err [512];
    //  Two canonical ids for one alias (however written)
    const char *const two [][4] = {
        { "contact", "BOB@acme.com ", "003Dn00000Zz9", "crm" }, { NULL } };
    CHECK_INT (s_refused (two, err, sizeof err), -1);
    CHECK_STR (err, "contact alias 'bob@acme.com' points at two canonical ids: rows "
               "'Bob@Acme.com' -> '003Dn00000Xk2' (from marketo) and 'BOB@acme.com ' -> "
               "'003Dn00000Zz9' (from crm)");
    //  A chain: the new row points at an alias
    const char *const chain [][4] = {
        { "contact", "bobby@acme.com", "+49 30 123 4567", "crm" }, { NULL } };
    CHECK_INT (s_refused (chain, err, sizeof err), -1);
    CHECK_STR (err, "contact alias row 'bobby@acme.com' -> '+49 30 123 4567' (from crm) "
               "makes a chain: '+49301234567' is itself an alias (row '+49 30 1234567' -> "
               "'003Dn00000Xk2' (from calls)); point the alias at '003Dn00000Xk2' instead");
    //  The new row makes a canonical id of another buyer an alias
    const char *const canonical [][4] = {
        { "account", "001Dn000ACME", "001Dn000GROUP", "crm" }, { NULL } };
    CHECK_INT (s_refused (canonical, err, sizeof err), -1);
    CHECK_STR (err, "account alias row '001Dn000ACME' -> '001Dn000GROUP' (from crm) makes "
               "'001Dn000ACME' an alias, but '001Dn000ACME' is the canonical id of another "
               "buyer (row 'acme.com' -> '001Dn000ACME' (from marketo)); point that buyer's "
               "aliases elsewhere first");
    //  A cycle of two rows is caught as well
    const char *const cycle [][4] = {
        { "contact", "x@acme.com", "y@acme.com", NULL },
        { "contact", "Y@acme.com", "X@acme.com", NULL }, { NULL } };
    CHECK_INT (s_refused (cycle, err, sizeof err), -1);
    CHECK_STR (err, "contact alias row 'Y@acme.com' -> 'X@acme.com' makes 'y@acme.com' an "
               "alias, but 'y@acme.com' is the canonical id of another buyer (row "
               "'x@acme.com' -> 'y@acme.com'); point that buyer's aliases elsewhere first");
    //  Several problems: the first is told, and how many there are
    const char *const several [][4] = {
        { "contact", "bob@acme.com", "003Dn00000Zz9", "crm" },
        { "contact", "carl@acme.com", "alice@acme.com", "crm" },
        { "account", "acme.com", "001Dn000OTHER", "crm" }, { NULL } };
    CHECK_INT (s_refused (several, err, sizeof err), -1);
    CHECK (strstr (err, "contact alias 'bob@acme.com' points at two canonical ids") == err);
    CHECK (strstr (err, "(3 rows refused in all)") != NULL);
    //  The same kind only: a contact alias may equal an account's canonical id
    const char *const kinds [][4] = {
        { "contact", "001Dn000ACME", "003Dn00000Al1", "crm" }, { NULL } };
    CHECK_INT (s_refused (kinds, err, sizeof err), 0);
}

static void
s_test_bad_rows (void)
{
    char err [512];
    dt_identity_t *map = dt_identity_new ();
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "", "C1", NULL, err, sizeof err), -1);
    CHECK_STR (err, "contact alias '' (-> 'C1') is empty, longer than 256 bytes or not "
               "valid UTF-8");
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "a1", "", NULL, err, sizeof err), -1);
    CHECK_STR (err, "account alias 'a1': its canonical id '' is empty, longer than 256 bytes "
               "or not valid UTF-8");
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "a\xFF", "A", NULL, err, sizeof err), -1);
    CHECK_INT (dt_identity_add (map, DT_ID_ACCOUNT, "a2", "A", "s\xC3", err, sizeof err), -1);
    char long_id [DT_IDENTITY_ID_MAX + 2];
    memset (long_id, 'x', sizeof long_id - 1);
    long_id [sizeof long_id - 1] = 0;
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, long_id, "C", NULL, err, sizeof err), -1);
    CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, "ok@acme.com", "C", NULL, err, sizeof err),
               0);
    //  A map with a refused row is refused as a whole, with the first reason
    CHECK_INT (dt_identity_validate (map, err, sizeof err), -1);
    CHECK_STR (err, "contact alias '' (-> 'C1') is empty, longer than 256 bytes or not "
               "valid UTF-8");
    CHECK (!dt_identity_valid (map));
    dt_identity_destroy (&map);
    //  An empty map is valid and maps nothing
    map = dt_identity_new ();
    CHECK_INT (dt_identity_validate (map, err, sizeof err), 0);
    CHECK_STR (s_contact (map, "Bob@Acme.com"), "bob@acme.com");
    CHECK_STR (s_account (map, "acme"), "acme");
    dt_identity_destroy (&map);
}

//  The caller's pattern: build the new map beside the old, switch only if
//  it validates
static void
s_test_replacement (void)
{
    char err [512];
    dt_identity_t *current = s_valid_map ();
    dt_identity_t *next = dt_identity_new ();
    dt_identity_add (next, DT_ID_CONTACT, "bob@acme.com", "003Dn00000Xk2", "crm", NULL, 0);
    dt_identity_add (next, DT_ID_CONTACT, "003Dn00000Xk2", "003Dn00000NEW", "crm", NULL, 0);
    CHECK_INT (dt_identity_validate (next, err, sizeof err), -1);
    CHECK (strstr (err, "makes '003Dn00000Xk2' an alias") != NULL);
    dt_identity_destroy (&next);
    //  The old map answers as before
    CHECK_STR (s_contact (current, "Bob@acme.com"), "003Dn00000Xk2");
    CHECK_STR (s_account (current, "acme.com"), "001Dn000ACME");
    //  A good replacement takes over; the old one is destroyed
    next = dt_identity_new ();
    dt_identity_add (next, DT_ID_CONTACT, "bob@acme.com", "003Dn00000NEW", "crm", NULL, 0);
    CHECK_INT (dt_identity_validate (next, err, sizeof err), 0);
    dt_identity_destroy (&current);
    current = next;
    CHECK_STR (s_contact (current, "Bob@acme.com"), "003Dn00000NEW");
    CHECK_STR (s_account (current, "acme.com"), "acme.com");
    //  Adding to a valid map makes it invalid until validated again
    dt_identity_add (current, DT_ID_ACCOUNT, "acme.com", "001Dn000ACME", NULL, NULL, 0);
    CHECK (!dt_identity_valid (current));
    CHECK_INT (dt_identity_validate (current, err, sizeof err), 0);
    CHECK_STR (s_account (current, "acme.com"), "001Dn000ACME");
    dt_identity_destroy (&current);
}

//  One alias of a person, as company systems write them: an e-mail address
//  (one in ten with capitals), a phone number with separators, a lead id
static void
s_many_alias (int i, char *alias, size_t size, bool lookup)
{
    int person = i / 3;
    if (i % 3 == 0)
        snprintf (alias, size, person % 10 || lookup? "firstname.lastname%d@company%d.example":
                  "Firstname.Lastname%d@Company%d.example", person, person % 977);
    else
    if (i % 3 == 1)
        snprintf (alias, size, lookup? "+493%09d": "+49 3%04d %05d", lookup? person:
                  person / 100000, person % 100000);
    else
        snprintf (alias, size, "00Q%012d", person);
}

//  Many rows: the index grows, every alias is found, memory stays small
static void
s_test_many (void)
{
    char err [512], alias [64], canonical [32];
    dt_identity_t *map = dt_identity_new ();
    int count = 300000;
    for (int i = 0; i < count; i++) {
        s_many_alias (i, alias, sizeof alias, false);
        snprintf (canonical, sizeof canonical, "003Dn%013d", i / 3);
        CHECK_INT (dt_identity_add (map, DT_ID_CONTACT, alias, canonical,
                                    i % 2? "marketo": "crm", err, sizeof err), 0);
    }
    CHECK_INT (dt_identity_validate (map, err, sizeof err), 0);
    int wrong = 0;
    for (int i = 0; i < count; i++) {
        s_many_alias (i, alias, sizeof alias, true);
        snprintf (canonical, sizeof canonical, "003Dn%013d", i / 3);
        if (strcmp (s_contact (map, alias), canonical) != 0)
            wrong++;
    }
    CHECK_INT (wrong, 0);
    size_t per_alias = dt_identity_bytes (map) / (size_t) count;
    printf ("identity: %d aliases, %zu bytes per alias\n", count, per_alias);
    CHECK (per_alias <= 100);
    dt_identity_destroy (&map);
}

//  The reverse index and the difference between two maps
static int changes;
static char changed [16][64];

static void
s_note_change (void *ctx, dt_id_kind_t kind, dt_str_t id)
{
    (void) ctx;
    (void) kind;
    if (changes < 16)
        snprintf (changed [changes], sizeof changed [0], "%.*s", (int) id.len, id.ptr);
    changes++;
}

static bool
s_changed (const char *id)
{
    for (int i = 0; i < changes && i < 16; i++)
        if (strcmp (changed [i], id) == 0)
            return true;
    return false;
}

static void
s_test_ids_and_diff (void)
{
    char err [256];
    dt_identity_t *old = dt_identity_new ();
    dt_identity_add (old, DT_ID_ACCOUNT, "001Dn000ACME", "acme.com", "crm", err, sizeof err);
    dt_identity_add (old, DT_ID_ACCOUNT, "ACME@Mail.example", "acme.com", "mail", err, sizeof err);
    dt_identity_add (old, DT_ID_ACCOUNT, "001Dn000GLOBEX", "globex.com", "crm", err, sizeof err);
    dt_identity_add (old, DT_ID_CONTACT, "003Dn00000Xk2", "bob@acme.com", "crm", err, sizeof err);
    CHECK_INT (dt_identity_validate (old, err, sizeof err), 0);
    dt_str_t ids [8];
    //  Each alias as added and, when it differs, as normalised
    CHECK_INT (dt_identity_ids_of (old, DT_ID_ACCOUNT, S ("acme.com"), ids, 8), 3);
    CHECK_STR (s_text (ids [0]), "001Dn000ACME");
    CHECK_STR (s_text (ids [1]), "ACME@Mail.example");
    CHECK_STR (s_text (ids [2]), "acme@mail.example");
    CHECK_INT (dt_identity_ids_of (old, DT_ID_ACCOUNT, S ("acme.com"), ids, 1), 3);
    CHECK_INT (dt_identity_ids_of (old, DT_ID_ACCOUNT, S ("globex.com"), ids, 8), 1);
    CHECK_INT (dt_identity_ids_of (old, DT_ID_ACCOUNT, S ("initech.com"), ids, 8), 0);
    CHECK_INT (dt_identity_ids_of (old, DT_ID_CONTACT, S ("acme.com"), ids, 8), 0);
    CHECK_INT (dt_identity_ids_of (old, DT_ID_CONTACT, S ("bob@acme.com"), ids, 8), 1);

    //  GLOBEX's CRM id moves to ACME, one alias added, one removed
    dt_identity_t *new_map = dt_identity_new ();
    dt_identity_add (new_map, DT_ID_ACCOUNT, "001Dn000ACME", "acme.com", "crm", err, sizeof err);
    dt_identity_add (new_map, DT_ID_ACCOUNT, "ACME@Mail.example", "acme.com", "mail", err, sizeof err);
    dt_identity_add (new_map, DT_ID_ACCOUNT, "001Dn000GLOBEX", "acme.com", "crm", err, sizeof err);
    dt_identity_add (new_map, DT_ID_ACCOUNT, "acme.de", "acme.com", NULL, err, sizeof err);
    dt_identity_add (new_map, DT_ID_CONTACT, "003Dn00000Xk2", "Bob@acme.com", NULL, err, sizeof err);
    CHECK_INT (dt_identity_validate (new_map, err, sizeof err), 0);
    size_t added, removed;
    changes = 0;
    dt_identity_diff (old, new_map, DT_ID_ACCOUNT, &added, &removed, s_note_change, NULL);
    CHECK_INT (added, 2);
    CHECK_INT (removed, 1);
    CHECK (s_changed ("acme.com"));
    CHECK (s_changed ("globex.com"));
    CHECK (s_changed ("acme.de"));
    CHECK (s_changed ("001Dn000GLOBEX"));
    CHECK (!s_changed ("001Dn000ACME"));
    //  Contacts did not change (the same once normalised); from or to no
    //  map, every row
    changes = 0;
    dt_identity_diff (old, new_map, DT_ID_CONTACT, &added, &removed, s_note_change, NULL);
    CHECK_INT (added + removed + (size_t) changes, 0);
    dt_identity_diff (NULL, new_map, DT_ID_ACCOUNT, &added, &removed, NULL, NULL);
    CHECK_INT (added, 4);
    CHECK_INT (removed, 0);
    dt_identity_diff (old, NULL, DT_ID_CONTACT, &added, &removed, s_note_change, NULL);
    CHECK_INT (added, 0);
    CHECK_INT (removed, 1);
    CHECK (s_changed ("bob@acme.com"));
    CHECK (s_changed ("003Dn00000Xk2"));
    dt_identity_destroy (&old);
    dt_identity_destroy (&new_map);
}

//  The fast path reads ids eight bytes at a time: random ids of 1 to 40
//  bytes, every byte at every place of a word, must come out normal. An
//  address (one '@', inside) in printable ASCII has no capital left; an id
//  of '+', digits and separators only is '+' and digits; and normalising
//  again changes nothing.
static void
s_test_normalise_words (void)
{
    static const char alphabet [] = "aZA@+05 \t-(.[`{\x7F\xC3\xA9\x89\x1F!~";
    unsigned seed = 7;
    int bad_address = 0, bad_phone = 0, unstable = 0, not_same = 0;
    for (int round = 0; round < 200000; round++) {
        char id [41];
        size_t len = 1 + (size_t) (rand_r (&seed) % 40);
        for (size_t i = 0; i < len; i++)
            id [i] = alphabet [rand_r (&seed) % (sizeof alphabet - 1)];
        char out [DT_IDENTITY_NORM_MAX], again [DT_IDENTITY_NORM_MAX];
        dt_str_t result = dt_identity_normalise ((dt_str_t) { id, (uint32_t) len }, out);
        dt_str_t twice = dt_identity_normalise (result, again);
        unstable += twice.len != result.len || memcmp (twice.ptr, result.ptr, result.len);
        //  The lookup's one pass answers the same, with the answer's hash
        uint64_t hash;
        char hashed_out [DT_IDENTITY_NORM_MAX];
        dt_str_t hashed = dt_identity_normalise_hash ((dt_str_t) { id, (uint32_t) len },
                                                      hashed_out, &hash);
        not_same += hashed.len != result.len || memcmp (hashed.ptr, result.ptr, result.len)
                 || hash != dt_hash (result.ptr, result.len, 0);
        //  A leading space sends the id the long way (trimmed, as the fast
        //  path would not need): same answer, but for an id that is neither
        //  address nor phone number, which keeps its space
        char spaced [42] = " ";
        memcpy (spaced + 1, id, len);
        dt_str_t slow = dt_identity_normalise ((dt_str_t) { spaced, (uint32_t) len + 1 }, again);
        if (slow.len == len + 1 && slow.ptr [0] == ' ') {
            slow.ptr++;
            slow.len--;
        }
        not_same += slow.len != result.len || memcmp (slow.ptr, result.ptr, result.len);
        int ats = 0, capitals = 0, ascii = 1, phone = 1;
        for (size_t i = 0; i < result.len; i++) {
            unsigned char c = (unsigned char) result.ptr [i];
            ats += c == '@';
            capitals += c >= 'A' && c <= 'Z';
            ascii &= c > ' ' && c < 0x7F;
        }
        int digits = 0;
        for (size_t i = 0; i < len; i++) {
            digits += id [i] >= '0' && id [i] <= '9';
            phone &= (id [i] >= '0' && id [i] <= '9') || memchr (" -.()", id [i], 5) != NULL
                  || (i == 0 && id [i] == '+');
        }
        phone &= (id [0] == '+' || (id [0] >= '0' && id [0] <= '9')) && digits > 0;
        bool address = ats == 1 && result.ptr [0] != '@' && result.ptr [result.len - 1] != '@';
        bad_address += address && ascii && capitals > 0;
        for (size_t i = 0; phone && i < result.len; i++)
            bad_phone += !((result.ptr [i] >= '0' && result.ptr [i] <= '9') || (i == 0 && result.ptr [i] == '+'));
    }
    CHECK_INT (bad_address, 0);
    CHECK_INT (bad_phone, 0);
    CHECK_INT (unstable, 0);
    CHECK_INT (not_same, 0);
}

//  Two aliases whose hashes share the 32-bit tag and the first slot of an
//  index of 16 (about one pair in 600,000 ids): a lookup of the second
//  steps to the first's row (the first slot with the tag), and finishing
//  must see that its key differs and answer the second's canonical id
static void
s_test_tag_clash (void)
{
    char alias [2][32] = { "", "" }, err [256];
    CHECK (tagclash_find ("crm-", alias [0], alias [1]));
    if (!alias [0][0])
        return;
    for (int kind = 0; kind < DT_ID_KINDS; kind++) {
        dt_identity_t *map = dt_identity_new ();
        dt_identity_add (map, (dt_id_kind_t) kind, alias [0], "first-buyer", NULL, err, sizeof err);
        dt_identity_add (map, (dt_id_kind_t) kind, alias [1], "second-buyer", NULL, err, sizeof err);
        CHECK_INT (dt_identity_validate (map, err, sizeof err), 0);
        const char *canonical [2] = { "first-buyer", "second-buyer" };
        for (int which = 0; which < 2; which++) {
            //  In steps, as the rule engine looks up, and in one call
            dt_identity_lookup_t lookup;
            dt_identity_start (map, (dt_id_kind_t) kind, S (alias [which]), &lookup);
            dt_identity_step (map, &lookup);
            CHECK_STR (s_text (dt_identity_finish (map, &lookup)), canonical [which]);
            CHECK (lookup.found != 0);
            //  The first slot with the tag is the first alias's
            CHECK (dt_identity_guess_held (&lookup) == (which == 0));
            CHECK_STR (s_text (dt_identity_resolve (map, (dt_id_kind_t) kind, S (alias [which]))),
                       canonical [which]);
        }
        dt_identity_destroy (&map);
    }
}

int
main (void)
{
    s_test_normalise ();
    s_test_normalise_words ();
    s_test_lookup ();
    s_test_normalise_off ();
    s_test_refusals ();
    s_test_bad_rows ();
    s_test_replacement ();
    s_test_many ();
    s_test_ids_and_diff ();
    s_test_tag_clash ();
    return TESTING_DONE ();
}
