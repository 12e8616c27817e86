/*  test_utf8.c - UTF-8 (services/base/utf8.c): case folding in the scripts
    the tone book meets (Latin with its German and Turkish cases, Greek,
    Cyrillic, Armenian, Cherokee, full-width Latin, letters outside the
    BMP), that folding is stable and agrees with utf8proc, word and space
    characters, and decoding and validating invalid sequences.
*/
#include "base/utf8.h"
#include "unit/testing.h"

#include <utf8proc.h>

static void
test_folding (void)
{
    CHECK_INT (dt_utf8_fold ('A'), 'a');
    CHECK_INT (dt_utf8_fold ('z'), 'z');
    CHECK_INT (dt_utf8_fold ('@'), '@');
    CHECK_INT (dt_utf8_fold (0xC9), 0xE9);       //  É
    CHECK_INT (dt_utf8_fold (0xD7), 0xD7);       //  × is not a letter
    CHECK_INT (dt_utf8_fold (0x100), 0x101);     //  Ā
    CHECK_INT (dt_utf8_fold (0x101), 0x101);
    CHECK_INT (dt_utf8_fold (0x141), 0x142);     //  Ł
    CHECK_INT (dt_utf8_fold (0x142), 0x142);
    CHECK_INT (dt_utf8_fold (0x147), 0x148);     //  Ň
    CHECK_INT (dt_utf8_fold (0x152), 0x153);     //  Œ
    CHECK_INT (dt_utf8_fold (0x178), 0xFF);      //  Ÿ
    CHECK_INT (dt_utf8_fold (0x17D), 0x17E);     //  Ž
    CHECK_INT (dt_utf8_fold (0x17F), 's');       //  ſ
    CHECK_INT (dt_utf8_fold (0x1C5), 0x1C6);     //  ǅ, a title-case letter
    CHECK_INT (dt_utf8_fold (0x416), 0x436);     //  Ж
    CHECK_INT (dt_utf8_fold (0x394), 0x3B4);     //  Δ
    CHECK_INT (dt_utf8_fold (0xB5), 0x3BC);      //  micro sign is mu
    CHECK_INT (dt_utf8_fold (0x212A), 'k');      //  Kelvin sign
    CHECK_INT (dt_utf8_fold (0x2126), 0x3C9);    //  Ohm sign is omega
    CHECK_INT (dt_utf8_fold (0x6700), 0x6700);   //  CJK: nothing to fold
    CHECK_INT (dt_utf8_fold (0xFFFD), 0xFFFD);
}

static void
test_folding_languages (void)
{
    //  German: ß has no one-letter capital fold, ẞ folds to it
    CHECK_INT (dt_utf8_fold (0xDF), 0xDF);
    CHECK_INT (dt_utf8_fold (0x1E9E), 0xDF);
    //  Turkish: İ to i (Unicode folds it to i and a combining dot, two
    //  characters), dotless ı stays itself, I is i
    CHECK_INT (dt_utf8_fold (0x130), 'i');
    CHECK_INT (dt_utf8_fold (0x131), 0x131);
    CHECK_INT (dt_utf8_fold ('I'), 'i');
    //  Armenian: Ա Ֆ to ա ֆ; the ligature և stays (its fold is two letters)
    CHECK_INT (dt_utf8_fold (0x531), 0x561);
    CHECK_INT (dt_utf8_fold (0x556), 0x586);
    CHECK_INT (dt_utf8_fold (0x561), 0x561);
    CHECK_INT (dt_utf8_fold (0x587), 0x587);
    //  Cherokee folds to the capitals: Unicode added the small letters later
    CHECK_INT (dt_utf8_fold (0x13A0), 0x13A0);
    CHECK_INT (dt_utf8_fold (0xAB70), 0x13A0);
    CHECK_INT (dt_utf8_fold (0x13F8), 0x13F0);
    //  Full-width Latin: Ａ to ａ, digits stay
    CHECK_INT (dt_utf8_fold (0xFF21), 0xFF41);
    CHECK_INT (dt_utf8_fold (0xFF3A), 0xFF5A);
    CHECK_INT (dt_utf8_fold (0xFF41), 0xFF41);
    CHECK_INT (dt_utf8_fold (0xFF10), 0xFF10);
    //  Georgian Mtavruli, Glagolitic, and Deseret (outside the BMP)
    CHECK_INT (dt_utf8_fold (0x1C90), 0x10D0);
    CHECK_INT (dt_utf8_fold (0x2C00), 0x2C30);
    CHECK_INT (dt_utf8_fold (0x10400), 0x10428);
    //  Greek Extended: Ἀ to ἀ; ᾈ (with iota subscript) to ᾀ, its small letter
    CHECK_INT (dt_utf8_fold (0x1F08), 0x1F00);
    CHECK_INT (dt_utf8_fold (0x1F88), 0x1F80);
}

static void
test_folding_greek_cyrillic (void)
{
    //  Every Greek capital, accented ones included, folds to its small
    //  letter; final sigma is sigma; small letters stay
    const uint32_t pairs [][2] = {
        { 0x386, 0x3AC }, { 0x388, 0x3AD }, { 0x389, 0x3AE }, { 0x38A, 0x3AF },   //  Ά Έ Ή Ί
        { 0x38C, 0x3CC }, { 0x38E, 0x3CD }, { 0x38F, 0x3CE },                     //  Ό Ύ Ώ
        { 0x3AA, 0x3CA }, { 0x3AB, 0x3CB },                                       //  Ϊ Ϋ
        { 0x391, 0x3B1 }, { 0x3A3, 0x3C3 }, { 0x3A9, 0x3C9 },                     //  Α Σ Ω
        { 0x3C2, 0x3C3 }, { 0x3D0, 0x3B2 }, { 0x3D1, 0x3B8 }, { 0x3F5, 0x3B5 },   //  ς ϐ ϑ ϵ
        { 0x3DA, 0x3DB }, { 0x3FD, 0x37B }, { 0x3F4, 0x3B8 },                     //  Ϛ Ͻ ϴ
        { 0x3AC, 0x3AC }, { 0x3C3, 0x3C3 }, { 0x390, 0x390 }, { 0x3A2, 0x3A2 },   //  stay
        //  Cyrillic beyond Russian: Ѣ, Ґ, Ӂ, Ӏ, Ӑ, Ԁ; small letters stay
        { 0x462, 0x463 }, { 0x490, 0x491 }, { 0x4C1, 0x4C2 }, { 0x4C0, 0x4CF },
        { 0x4D0, 0x4D1 }, { 0x500, 0x501 }, { 0x491, 0x491 }, { 0x483, 0x483 },
        { 0x401, 0x451 }, { 0xA640, 0xA641 },                                     //  Ё, Ꙁ
        { 0x530, 0x530 }                                                          //  unassigned
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs [0]; i++)
        CHECK_INT (dt_utf8_fold (pairs [i][0]), pairs [i][1]);
}

//  Over every code point: folding twice is folding once (a phrase is stored
//  folded and compared with folded text), and where Unicode's full folding
//  is one character it is that character
static void
test_folding_everywhere (void)
{
    int unstable = 0, different = 0;
    for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
        if (cp >= 0xD800 && cp <= 0xDFFF)
            continue;
        uint32_t folded = dt_utf8_fold (cp);
        if (dt_utf8_fold (folded) != folded)
            unstable++;
        utf8proc_int32_t full [4];
        int boundclass = 0;
        if (utf8proc_decompose_char ((utf8proc_int32_t) cp, full, 4, UTF8PROC_CASEFOLD,
                                     &boundclass) == 1
        &&  (uint32_t) full [0] != folded)
            different++;
    }
    CHECK_INT (unstable, 0);
    CHECK_INT (different, 0);
}

static void
test_word_characters (void)
{
    const uint32_t words [] = {
        'a', 'Z', '7', 0xE9, 0x142, 0xAA, 0xB5,     //  Latin, ª, µ
        0x3B1, 0x436, 0x531, 0x13A0, 0xAB70,        //  Greek, Cyrillic, Armenian, Cherokee
        0x5D0, 0x628, 0x915, 0x96B,                 //  Hebrew, Arabic, Devanagari letter, digit
        0x301, 0xAC00, 0x10400,                     //  combining acute, Hangul, Deseret
        0xFF21, 0xFF41, 0xFF10                      //  full-width A, a, 0
    };
    const uint32_t others [] = {
        '_', ' ', '-', '.', 0xD7, 0xF7, 0xA0, 0xB2, 0xAD,   //  × ÷ no-break ² soft hyphen
        0x37E, 0x589, 0x60C, 0x964,                 //  Greek ;, Armenian full stop, Arabic
                                                    //  comma, Devanagari danda
        0x2014, 0x20AC, 0x3000, 0x3002, 0x3042, 0x30A2, 0x6700,   //  —, €, CJK space, 。 あ ア 最
        0xF900, 0xFF01, 0xFF0C, 0xFF66, 0xFFFD,     //  CJK compatibility, ！ ， half-width ｦ
        0xE000, 0x1F600, 0x20000                    //  private use, emoji, CJK extension B
    };
    for (size_t i = 0; i < sizeof words / sizeof words [0]; i++)
        CHECK (dt_utf8_is_word (words [i]));
    for (size_t i = 0; i < sizeof others / sizeof others [0]; i++)
        CHECK (!dt_utf8_is_word (others [i]));
    CHECK (dt_utf8_is_space (' ') && dt_utf8_is_space ('\t') && dt_utf8_is_space ('\n'));
    CHECK (dt_utf8_is_space (0xA0) && dt_utf8_is_space (0x3000) && dt_utf8_is_space (0x2003));
    CHECK (!dt_utf8_is_space ('a') && !dt_utf8_is_space (0x200B) && !dt_utf8_is_space (0));
}

static void
test_decoding (void)
{
    struct {
        const char *bytes;
        size_t len;
        uint32_t cp;            //  what the first character decodes to
        size_t step;
    } cases [] = {
        { "a", 1, 'a', 1 },
        { "\xC3\xA9", 2, 0xE9, 2 },
        { "\xE2\x82\xAC", 3, 0x20AC, 3 },
        { "\xF0\x9D\x84\x9E", 4, 0x1D11E, 4 },
        { "\xEF\xBF\xBD", 3, 0xFFFD, 3 },           //  a real U+FFFD
        { "\xF4\x8F\xBF\xBF", 4, 0x10FFFF, 4 },
        { "\x80", 1, 0xFFFD, 1 },                   //  a lone continuation byte
        { "\xC0\x80", 2, 0xFFFD, 1 },               //  overlong NUL
        { "\xC1\xBF", 2, 0xFFFD, 1 },
        { "\xE0\x80\xAF", 3, 0xFFFD, 1 },           //  overlong /
        { "\xF0\x80\x80\xAF", 4, 0xFFFD, 1 },
        { "\xED\xA0\x80", 3, 0xFFFD, 1 },           //  a surrogate
        { "\xF4\x90\x80\x80", 4, 0xFFFD, 1 },       //  past U+10FFFF
        { "\xF5\x80\x80\x80", 4, 0xFFFD, 1 },
        { "\xFF", 1, 0xFFFD, 1 },
        { "\xC3", 1, 0xFFFD, 1 },                   //  cut short
        { "\xE2\x82", 2, 0xFFFD, 1 },
        { "\xF0\x9D\x84", 3, 0xFFFD, 1 },
        { "\xC3\x28", 2, 0xFFFD, 1 },               //  no continuation byte
        { "\xE2\x28\xA1", 3, 0xFFFD, 1 }
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        const uint8_t *p = (const uint8_t *) cases [i].bytes;
        uint32_t cp = 0;
        CHECK_INT (dt_utf8_next (p, p + cases [i].len, &cp), cases [i].step);
        CHECK_INT (cp, cases [i].cp);
    }
    //  Invalid bytes are stepped over one by one, and what follows decodes
    const char *text = "a\xFF\xC3\xA9\xE2\x82z";
    const uint32_t want [] = { 'a', 0xFFFD, 0xE9, 0xFFFD, 0xFFFD, 'z' };
    const uint8_t *p = (const uint8_t *) text, *end = p + strlen (text);
    size_t count = 0;
    while (p < end && count < 6) {
        uint32_t cp;
        p += dt_utf8_next (p, end, &cp);
        CHECK_INT (cp, want [count++]);
    }
    CHECK (p == end && count == 6);
}

static void
test_validation (void)
{
    CHECK (dt_utf8_valid ("", 0));
    CHECK (dt_utf8_valid ("plain", 5));
    CHECK (dt_utf8_valid ("Stra\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x98\x80", 16));
    CHECK (!dt_utf8_valid ("a\0b", 3));             //  PostgreSQL text holds no NUL
    CHECK (!dt_utf8_valid ("\xC0\x80", 2));
    CHECK (!dt_utf8_valid ("\xED\xA0\x80", 3));
    CHECK (!dt_utf8_valid ("\xF4\x90\x80\x80", 4));
    CHECK (!dt_utf8_valid ("\xC3", 1));
    CHECK (!dt_utf8_valid ("ab\xE2\x82", 4));
    CHECK (!dt_utf8_valid ("\x80", 1));

    //  The validator and the decoder agree on every short byte string:
    //  valid exactly when decoding meets no invalid byte and no NUL
    uint64_t seed = 42;
    int disagreements = 0;
    for (int round = 0; round < 200000; round++) {
        uint8_t bytes [6];
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t len = 1 + (seed >> 61) % 6;
        for (size_t i = 0; i < len; i++) {
            uint8_t byte = (uint8_t) (seed >> (8 * i));
            //  Mostly lead and continuation bytes, where the cases are
            bytes [i] = (seed >> (50 + i)) & 1? byte: (uint8_t) (0x80 | (byte & 0x7F));
        }
        bool decodes = true;
        const uint8_t *q = bytes, *end = bytes + len;
        while (q < end) {
            uint32_t cp;
            size_t n = dt_utf8_next (q, end, &cp);
            if (cp == 0 || (cp == 0xFFFD && n == 1))
                decodes = false;
            q += n;
        }
        if (decodes != dt_utf8_valid ((const char *) bytes, len))
            disagreements++;
    }
    CHECK_INT (disagreements, 0);
}

//  dt_utf8_put writes what dt_utf8_next reads back, at each length's edges
static void
test_put (void)
{
    const uint32_t points [] = { 0x00, 0x41, 0x7F, 0x80, 0xE9, 0x7FF, 0x800, 0x4E2D,
                                 0xFFFD, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF };
    const size_t lengths [] = { 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4 };
    for (size_t i = 0; i < sizeof points / sizeof points [0]; i++) {
        char out [4];
        size_t n = dt_utf8_put (points [i], out);
        CHECK_INT ((int) n, (int) lengths [i]);
        uint32_t cp = 0;
        CHECK_INT ((int) dt_utf8_next ((const uint8_t *) out, (const uint8_t *) out + n, &cp),
                   (int) n);
        CHECK_INT ((int) cp, (int) points [i]);
    }
    char e_acute [4];
    CHECK_INT ((int) dt_utf8_put (0xE9, e_acute), 2);
    CHECK (memcmp (e_acute, "\xC3\xA9", 2) == 0);
}

int
main (void)
{
    test_folding ();
    test_folding_languages ();
    test_folding_greek_cyrillic ();
    test_folding_everywhere ();
    test_word_characters ();
    test_decoding ();
    test_validation ();
    test_put ();
    return TESTING_DONE ();
}
