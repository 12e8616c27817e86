/*  test_tonebook.c - the tone book: rows refused one by one, books refused
    as a whole, theme and claim lookups, and the banned phrase matcher
    (case folding, whole words, white space, CJK, slice bounds).
*/
#include "rules/tonebook.h"
#include "base/utf8.h"
#include "unit/testing.h"

#include <stdlib.h>

#define MAY_3_2026  1777766400000LL     //  00:00 UTC
#define DAY         86400000LL

static dt_stageset_t stages;

static dt_tonebook_t *
s_valid_book (void)
{
    char err [256];
    dt_tonebook_t *book = dt_tonebook_new ();
    CHECK_INT (dt_tonebook_add_theme (book, "cloud-first", "awareness, interest", 0, 0, false,
                                      err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_theme (book, "spring-2026", "*", MAY_3_2026,
                                      MAY_3_2026 + 10 * DAY, false, err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_theme (book, "legacy", "", 0, 0, true, err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_claim (book, "discount", "10%", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "guaranteed  returns", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "free", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "Économie garantie", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "ŁATWY zysk", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "最便宜", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "100%", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    return book;
}

static dt_str_t
S (const char *text)
{
    dt_str_t str = { text, (uint32_t) strlen (text) };
    return str;
}

//  Scan a copy of text in a buffer of exactly its size, so ASan catches any
//  read past the slice; returns the number of distinct phrases found
static int
s_scan (dt_tonebook_t *book, const char *text, size_t len, int *hits)
{
    char *copy = (char *) malloc (len? len: 1);
    memcpy (copy, text, len);
    int count = 0;
    dt_tonebook_scan (book, copy, len, hits, &count, 8);
    free (copy);
    return count;
}

static int
s_found (dt_tonebook_t *book, const char *text)
{
    int hits [8];
    return s_scan (book, text, strlen (text), hits);
}

static void
test_rows_refused (void)
{
    char err [256];
    dt_tonebook_t *book = dt_tonebook_new ();
    CHECK_INT (dt_tonebook_add_theme (book, "", "awareness", 0, 0, false, err, sizeof err), -1);
    CHECK (strstr (err, "empty name") != NULL);
    CHECK_INT (dt_tonebook_add_theme (book, "bad\xC3", "awareness", 0, 0, false, err, sizeof err), -1);
    CHECK (strstr (err, "UTF-8") != NULL);
    CHECK_INT (dt_tonebook_add_theme (book, "late", "", 2000, 1000, false, err, sizeof err), -1);
    CHECK (strstr (err, "never valid") != NULL);
    CHECK_INT (dt_tonebook_add_claim (book, "", "1", err, sizeof err), -1);
    CHECK_INT (dt_tonebook_add_claim (book, "price", "", err, sizeof err), -1);
    CHECK_INT (dt_tonebook_add_banned (book, "   \t ", err, sizeof err), -1);
    CHECK (strstr (err, "empty") != NULL);
    CHECK_INT (dt_tonebook_add_banned (book, "\xFF\xFE", err, sizeof err), -1);
    //  A book with a refused row is refused as a whole, naming the first
    CHECK_INT (dt_tonebook_add_theme (book, "fine", "awareness", 0, 0, false, err, sizeof err), 0);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK (strstr (err, "empty name") != NULL);
    CHECK (!dt_tonebook_valid (book));
    dt_tonebook_destroy (&book);
    CHECK (book == NULL);
    dt_tonebook_destroy (&book);        //  twice is harmless
}

static void
test_book_refused (void)
{
    char err [256];
    dt_tonebook_t *book = dt_tonebook_new ();
    dt_tonebook_add_theme (book, "cloud-first", "awareness,negotation", 0, 0, false, err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK (strstr (err, "'negotation' is not a configured stage") != NULL);
    CHECK (strstr (err, "awareness, interest") != NULL);
    dt_tonebook_destroy (&book);

    book = dt_tonebook_new ();
    dt_tonebook_add_theme (book, "a", "awareness,,interest", 0, 0, false, err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK (strstr (err, "empty entry") != NULL);
    dt_tonebook_destroy (&book);

    book = dt_tonebook_new ();
    dt_tonebook_add_theme (book, "cloud-first", "awareness", 0, 0, false, err, sizeof err);
    dt_tonebook_add_theme (book, "cloud-first", "interest", 0, 0, false, err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK_STR (err, "theme 'cloud-first' is listed twice");
    dt_tonebook_destroy (&book);

    book = dt_tonebook_new ();
    dt_tonebook_add_claim (book, "price", "1", err, sizeof err);
    dt_tonebook_add_claim (book, "price", "2", err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK_STR (err, "canonical claim 'price' is listed twice");
    dt_tonebook_destroy (&book);

    book = dt_tonebook_new ();
    dt_tonebook_add_banned (book, "Free  Gift", err, sizeof err);
    dt_tonebook_add_banned (book, "free gift", err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    CHECK (strstr (err, "listed twice") != NULL);
    dt_tonebook_destroy (&book);

    //  An empty book is valid
    book = dt_tonebook_new ();
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    CHECK_INT (dt_tonebook_theme (book, S ("x"), MAY_3_2026, 0, NULL, NULL), DT_THEME_UNKNOWN);
    CHECK (!dt_tonebook_canonical (book, S ("price"), NULL));
    CHECK_INT (s_found (book, "free"), 0);
    dt_tonebook_destroy (&book);
}

static void
test_themes (void)
{
    dt_tonebook_t *book = s_valid_book ();
    int awareness = dt_stageset_find (&stages, "awareness", 9);
    int negotiation = dt_stageset_find (&stages, "negotiation", 11);
    int64_t when = 0;
    const char *approved = NULL;
    CHECK_INT (dt_tonebook_theme (book, S ("cloud-first"), MAY_3_2026, awareness, NULL, NULL),
               DT_THEME_OK);
    CHECK_INT (dt_tonebook_theme (book, S ("cloud-first"), MAY_3_2026, negotiation, &when,
                                  &approved), DT_THEME_WRONG_STAGE);
    CHECK_STR (approved, "awareness, interest");
    CHECK_INT (dt_tonebook_theme (book, S ("cloud-first"), MAY_3_2026, -1, NULL, NULL),
               DT_THEME_OK);
    CHECK_INT (dt_tonebook_theme (book, S ("Cloud-First"), MAY_3_2026, awareness, NULL, NULL),
               DT_THEME_UNKNOWN);
    CHECK_INT (dt_tonebook_theme (book, S ("cloud"), MAY_3_2026, awareness, NULL, NULL),
               DT_THEME_UNKNOWN);
    CHECK_INT (dt_tonebook_theme (book, S ("legacy"), MAY_3_2026, awareness, NULL, NULL),
               DT_THEME_RETIRED);
    //  Validity: from inclusive, to exclusive
    CHECK_INT (dt_tonebook_theme (book, S ("spring-2026"), MAY_3_2026 - 1, negotiation, &when,
                                  NULL), DT_THEME_NOT_YET);
    CHECK_INT (when, MAY_3_2026);
    CHECK_INT (dt_tonebook_theme (book, S ("spring-2026"), MAY_3_2026, negotiation, NULL, NULL),
               DT_THEME_OK);
    CHECK_INT (dt_tonebook_theme (book, S ("spring-2026"), MAY_3_2026 + 10 * DAY - 1,
                                  negotiation, NULL, NULL), DT_THEME_OK);
    CHECK_INT (dt_tonebook_theme (book, S ("spring-2026"), MAY_3_2026 + 10 * DAY, negotiation,
                                  &when, NULL), DT_THEME_EXPIRED);
    CHECK_INT (when, MAY_3_2026 + 10 * DAY);
    CHECK (dt_tonebook_has_theme (book, S ("legacy")));
    dt_str_t value;
    CHECK (dt_tonebook_canonical (book, S ("discount"), &value));
    CHECK (value.len == 3 && memcmp (value.ptr, "10%", 3) == 0);
    CHECK (!dt_tonebook_canonical (book, S ("Discount"), &value));
    CHECK_INT (dt_tonebook_themes (book), 3);
    CHECK_INT (dt_tonebook_claims (book), 1);
    CHECK_INT (dt_tonebook_phrases (book), 6);
    CHECK (dt_tonebook_bytes (book) > 0);

    //  Adding a row invalidates until validated again
    char err [256];
    dt_tonebook_add_theme (book, "new", "", 0, 0, false, err, sizeof err);
    CHECK (!dt_tonebook_valid (book));
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    CHECK_INT (dt_tonebook_theme (book, S ("new"), MAY_3_2026, 3, NULL, NULL), DT_THEME_OK);
    dt_tonebook_destroy (&book);
}

static void
test_phrases (void)
{
    dt_tonebook_t *book = s_valid_book ();
    int hits [8];
    //  Case-insensitive, whole words only
    CHECK_INT (s_found (book, "Get it FREE today"), 1);
    CHECK_INT (s_found (book, "Free!"), 1);
    CHECK_INT (s_found (book, "(free)"), 1);
    CHECK_INT (s_found (book, "freedom of choice"), 0);
    CHECK_INT (s_found (book, "carefree"), 0);
    CHECK_INT (s_found (book, "free2play"), 0);
    CHECK_INT (s_found (book, "2free"), 0);
    CHECK_INT (s_found (book, "free_"), 1);         //  underscore is not a letter
    //  Phrases: any run of white space inside
    CHECK_INT (s_found (book, "We offer Guaranteed Returns."), 1);
    CHECK_INT (s_found (book, "guaranteed\n\t returns"), 1);
    CHECK_INT (s_found (book, "guaranteed\xC2\xA0returns"), 1);     //  no-break space
    CHECK_INT (s_found (book, "guaranteedreturns"), 0);
    CHECK_INT (s_found (book, "guaranteed returnss"), 0);
    CHECK_INT (s_found (book, "unguaranteed returns"), 0);
    //  Latin-1 and Latin Extended-A folding
    CHECK_INT (s_found (book, "une économie GARANTIE"), 1);
    CHECK_INT (s_found (book, "une ÉCONOMIE garantie"), 1);
    CHECK_INT (s_found (book, "une economie garantie"), 0);         //  accents matter
    CHECK_INT (s_found (book, "łatwy ZYSK"), 1);
    CHECK_INT (s_found (book, "ŁATWY zysk"), 1);
    CHECK_INT (s_found (book, "złatwy zysk"), 0);
    CHECK_INT (s_found (book, "łatwy zyskó"), 0);                   //  ó is a letter
    //  CJK: no spaces between words, so the phrase matches inside a sentence
    CHECK_INT (s_found (book, "我们的价格最便宜。"), 1);
    CHECK_INT (s_found (book, "最便"), 0);
    CHECK_INT (s_found (book, "abc最便宜"), 0);     //  glued to a Latin word
    //  A phrase that ends in punctuation still needs a boundary after it
    CHECK_INT (s_found (book, "100% sure"), 1);
    CHECK_INT (s_found (book, "1100% sure"), 0);
    CHECK_INT (s_found (book, "100%off"), 0);
    //  Several phrases, each once
    CHECK_INT (s_scan (book, "free free FREE guaranteed returns", 33, hits), 2);
    CHECK_STR (dt_tonebook_phrase (book, hits [0]), "free");
    CHECK_STR (dt_tonebook_phrase (book, hits [1]), "guaranteed returns");
    //  The slice ends where it says, even inside a longer buffer
    const char *text = "freedom";
    int count = 0;
    dt_tonebook_scan (book, text, 4, hits, &count, 8);
    CHECK_INT (count, 1);
    count = 0;
    dt_tonebook_scan (book, text, 3, hits, &count, 8);
    CHECK_INT (count, 0);
    CHECK_INT (s_scan (book, "guaranteed ret", 14, hits), 0);
    CHECK_INT (s_scan (book, "guaranteed ", 11, hits), 0);
    //  Invalid and truncated UTF-8 never crash and never read past the end
    CHECK_INT (s_scan (book, "\xFF" "free \xC3", 7, hits), 1);
    CHECK_INT (s_scan (book, "\xE6\x9C", 2, hits), 0);
    CHECK_INT (s_scan (book, "\xC5", 1, hits), 0);
    CHECK_INT (s_scan (book, "", 0, hits), 0);
    //  max is respected
    count = 0;
    dt_tonebook_scan (book, "free 100% guaranteed returns", 28, hits, &count, 1);
    CHECK_INT (count, 1);
    dt_tonebook_destroy (&book);
}

static void
test_folding_greek (void)
{
    //  In a book: capitals with tonos and final sigma match either way
    char err [256];
    dt_tonebook_t *book = dt_tonebook_new ();
    CHECK_INT (dt_tonebook_add_banned (book, "έκπτωση", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "ΌΛΟΣ ΔΩΡΕΆΝ", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "Ґарантія", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    CHECK_INT (s_found (book, "Έκπτωση 50% σήμερα"), 1);
    CHECK_INT (s_found (book, "ΈΚΠΤΩΣΗ"), 1);
    CHECK_INT (s_found (book, "μεγάλη έκπτωση!"), 1);
    CHECK_INT (s_found (book, "εκπτωση"), 0);                  //  accents matter
    CHECK_INT (s_found (book, "εκπτώσεις"), 0);                //  another word
    CHECK_INT (s_found (book, "όλοσ δωρεάν"), 1);
    CHECK_INT (s_found (book, "όλος δωρεάν"), 1);              //  final sigma = sigma
    CHECK_INT (s_found (book, "Όλος Δωρεάν"), 1);
    CHECK_INT (s_found (book, "ґарантія"), 1);
    dt_tonebook_destroy (&book);

    //  ς and σ are one letter: two phrases that differ only there are one
    book = dt_tonebook_new ();
    CHECK_INT (dt_tonebook_add_banned (book, "όλος", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_add_banned (book, "ΌΛΟΣ", err, sizeof err), 0);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), -1);
    dt_tonebook_destroy (&book);
}

//  A reference matcher, slow and obvious: try every phrase at every
//  character. The fast scan must find exactly the same phrases.
static bool
s_ref_space (uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x3000
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F;
}

static size_t
s_ref_decode (const char *text, size_t len, size_t at, uint32_t *cps, size_t max)
{
    size_t count = 0;
    const uint8_t *p = (const uint8_t *) text + at, *end = (const uint8_t *) text + len;
    while (p < end && count < max)
        p += dt_utf8_next (p, end, &cps [count++]);
    return count;
}

static bool
s_ref_found (const char *text, size_t len, const char *phrase)
{
    uint32_t t [512], ph [300];
    size_t tn = s_ref_decode (text, len, 0, t, 512);
    //  Normalise the phrase as the tone book does
    uint32_t raw [300];
    size_t rn = s_ref_decode (phrase, strlen (phrase), 0, raw, 300), pn = 0;
    for (size_t i = 0; i < rn; i++) {
        if (s_ref_space (raw [i])) {
            if (pn && ph [pn - 1] != ' ')
                ph [pn++] = ' ';
        }
        else
            ph [pn++] = dt_utf8_fold (raw [i]);
    }
    while (pn && ph [pn - 1] == ' ')
        pn--;
    for (size_t start = 0; start < tn; start++) {
        if (start > 0 && dt_utf8_is_word (t [start - 1]))
            continue;
        size_t i = start, k = 0;
        for (; k < pn && i < tn; k++) {
            if (ph [k] == ' ') {
                if (!s_ref_space (t [i]))
                    break;
                while (i < tn && s_ref_space (t [i]))
                    i++;
            }
            else
            if (dt_utf8_fold (t [i]) == ph [k])
                i++;
            else
                break;
        }
        if (k == pn && (i == tn || !dt_utf8_is_word (t [i])))
            return true;
    }
    return false;
}

static void
test_scan_matches_reference (void)
{
    static const char *phrases [] = {
        "guaranteed returns", "free", "Économie garantie", "ŁATWY zysk", "最便宜", "100%",
        "no questions asked", "act now", "x", "risk-free", "once in a lifetime"
    };
    static const char *pieces [] = {
        "free", "FREE", "Free", "freedom", "carefree", "guaranteed", "returns", "GUARANTEED",
        "économie", "ÉCONOMIE", "garantie", "łatwy", "ŁATWY", "zysk", "最便宜", "最", "便宜",
        "100%", "1100%", "no", "questions", "asked", "act", "now", "x", "X", "xx", "risk",
        "-", "risk-free", "once", "in", "a", "lifetime", "2", "é", "a",
        " ", " ", " ", "  ", "\n", "\t", "\xC2\xA0", ",", ".", "!", "(", ")", "_", "。", "，",
        "\xFF", "\xC3", "\xE6\x9C"
    };
    const size_t piece_count = sizeof pieces / sizeof pieces [0];
    const size_t phrase_count = sizeof phrases / sizeof phrases [0];
    char err [256];
    dt_tonebook_t *book = dt_tonebook_new ();
    for (size_t i = 0; i < phrase_count; i++)
        dt_tonebook_add_banned (book, phrases [i], err, sizeof err);
    CHECK_INT (dt_tonebook_validate (book, &stages, err, sizeof err), 0);
    uint64_t seed = 12345;
    int mismatches = 0, found_any = 0;
    for (int round = 0; round < 5000; round++) {
        char text [600];
        size_t len = 0;
        int pieces_in = 1 + (int) (seed % 60);
        for (int i = 0; i < pieces_in; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *piece = pieces [(seed >> 33) % piece_count];
            size_t n = strlen (piece);
            if (len + n >= sizeof text)
                break;
            memcpy (text + len, piece, n);
            len += n;
        }
        int hits [16], count = 0;
        char *copy = (char *) malloc (len? len: 1);
        memcpy (copy, text, len);
        dt_tonebook_scan (book, copy, len, hits, &count, 16);
        free (copy);
        for (size_t i = 0; i < phrase_count; i++) {
            bool fast = false;
            for (int h = 0; h < count; h++)
                fast |= strcmp (dt_tonebook_phrase (book, hits [h]),
                                dt_tonebook_phrase (book, (int) i)) == 0;
            bool slow = s_ref_found (text, len, phrases [i]);
            found_any += slow;
            if (fast != slow && mismatches++ < 5)
                fprintf (stderr, "scan and reference differ on '%s' in '%.*s'\n",
                         phrases [i], (int) len, text);
        }
    }
    CHECK_INT (mismatches, 0);
    CHECK (found_any > 1000);
    dt_tonebook_destroy (&book);
}

int
main (void)
{
    dt_stageset_default (&stages);
    test_rows_refused ();
    test_book_refused ();
    test_themes ();
    test_phrases ();
    test_folding_greek ();
    test_scan_matches_reference ();
    return TESTING_DONE ();
}
