/*  utf8.c - UTF-8 validation, and case folding and word characters beyond
    ASCII from utf8proc's Unicode tables (see utf8.h).
*/
#include "base/utf8.h"

#include <assert.h>
#include <utf8proc.h>

bool
dt_utf8_valid (const char *ptr, size_t len)
{
    const unsigned char *s = (const unsigned char *) ptr;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s [i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) { n = 1; cp = c & 0x1F; }
        else
        if (c >= 0xE0 && c <= 0xEF) { n = 2; cp = c & 0x0F; }
        else
        if (c >= 0xF0 && c <= 0xF4) { n = 3; cp = c & 0x07; }
        else
            return false;
        if (i + n >= len)
            return false;       //  truncated sequence
        for (size_t k = 1; k <= n; k++) {
            if ((s [i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s [i + k] & 0x3F);
        }
        //  Overlong forms, surrogates and code points past U+10FFFF
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000)
        ||  (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return false;
        i += n + 1;
    }
    return true;
}

uint16_t dt_utf8_fold_table [DT_UTF8_TABLE_SIZE];
uint8_t dt_utf8_word_table [DT_UTF8_TABLE_SIZE / 8];

static uint32_t
s_fold (uint32_t cp)
{
    if (cp > 0x10FFFF)
        return cp;
    //  Most characters (small letters, CJK, symbols) have no folding: one
    //  table lookup answers them
    const utf8proc_property_t *property = utf8proc_get_property ((utf8proc_int32_t) cp);
    if (property->casefold_seqindex == UINT16_MAX)
        return cp;
    utf8proc_int32_t folded [4];
    int boundclass = 0;
    utf8proc_ssize_t count = utf8proc_decompose_char ((utf8proc_int32_t) cp, folded, 4,
                                                      UTF8PROC_CASEFOLD, &boundclass);
    if (count == 1)
        return (uint32_t) folded [0];
    //  Unicode folds it to several characters; the scan compares one for
    //  one, and the lowercase letter is Unicode's simple folding for these
    return (uint32_t) utf8proc_tolower ((utf8proc_int32_t) cp);
}

static bool
s_is_word (uint32_t cp)
{
    //  Scripts written without spaces between words, and their punctuation
    if (cp >= 0x2E00 && cp < 0xA000)
        return false;               //  CJK punctuation, kana, ideographs
    if (cp >= 0xF900 && cp < 0xFB00)
        return false;               //  CJK compatibility ideographs
    if (cp >= 0xFE00 && cp < 0xFE70)
        return false;               //  variation selectors, CJK forms
    if (cp >= 0xFF00 && cp < 0xFFF0)  //  full-width Latin letters and digits
        return (cp >= 0xFF10 && cp <= 0xFF19) || (cp >= 0xFF21 && cp <= 0xFF3A)
            || (cp >= 0xFF41 && cp <= 0xFF5A);
    if (cp >= 0x1F000)
        return false;               //  emoji, CJK extensions, private use
    switch (utf8proc_category ((utf8proc_int32_t) cp)) {
        case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
        case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
        case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL:
            return true;
        default:
            return false;
    }
}

//  Before main, so the tables are whole before any thread reads them
__attribute__ ((constructor)) static void
s_tables_build (void)
{
    for (uint32_t cp = 0; cp < DT_UTF8_TABLE_SIZE; cp++) {
        uint32_t folded = s_fold (cp);
        assert (folded <= UINT16_MAX);
        dt_utf8_fold_table [cp] = (uint16_t) folded;
        if (s_is_word (cp))
            dt_utf8_word_table [cp / 8] |= (uint8_t) (1 << (cp % 8));
    }
}

uint32_t
dt_utf8_fold_other (uint32_t cp)
{
    //  Korean, and the full-width forms of Chinese and Japanese texts:
    //  answered without utf8proc, whose lookups cost more than the scan
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return cp;                  //  Hangul syllables: no case
    if (cp >= 0xFF00 && cp < 0xFFF0)
        return cp >= 0xFF21 && cp <= 0xFF3A? cp + 0x20: cp;
    return s_fold (cp);
}

bool
dt_utf8_is_word_other (uint32_t cp)
{
    if (cp >= 0xAC00 && cp <= 0xD7A3)
        return true;                //  Hangul syllables: Korean puts spaces between words
    return s_is_word (cp);
}

size_t
dt_utf8_put (uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out [0] = (char) cp;
        return 1;
    }
    if (cp < 0x800) {
        out [0] = (char) (0xC0 | (cp >> 6));
        out [1] = (char) (0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out [0] = (char) (0xE0 | (cp >> 12));
        out [1] = (char) (0x80 | ((cp >> 6) & 0x3F));
        out [2] = (char) (0x80 | (cp & 0x3F));
        return 3;
    }
    out [0] = (char) (0xF0 | (cp >> 18));
    out [1] = (char) (0x80 | ((cp >> 12) & 0x3F));
    out [2] = (char) (0x80 | ((cp >> 6) & 0x3F));
    out [3] = (char) (0x80 | (cp & 0x3F));
    return 4;
}
