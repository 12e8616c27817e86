/*  utf8.h - UTF-8 for the whole project: validating what comes from the
    network, decoding a character, and the case folding and word characters
    the banned-phrase scan matches with.

    Case folding is Unicode's simple case folding, from utf8proc's tables:
    one character folds to one character, so the scan can compare text and
    phrase character by character. Where Unicode folds a character to
    several (ß to "ss", ŉ to "ʼn"), it folds to its lowercase letter
    instead, which is one character (İ to i, ẞ to ß). A word character is a
    letter, mark or decimal digit of a script that puts spaces between
    words: Chinese and Japanese characters are not word characters, so a
    phrase in those scripts matches inside a sentence.

    The callers run these on every character of a text: they are answered
    inline for ASCII, the CJK ranges and the tables below, by utf8.c for
    the rest.
*/
#ifndef DT_UTF8_H
#define DT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

//  Write cp (at most U+10FFFF) as UTF-8 to out, which has room for 4
//  bytes; returns how many it wrote
size_t dt_utf8_put (uint32_t cp, char *out);

//  True if ptr/len is valid UTF-8 without NUL bytes (PostgreSQL text can
//  not hold NUL, and JSON must be UTF-8): no overlong forms, surrogates or
//  code points past U+10FFFF
bool dt_utf8_valid (const char *ptr, size_t len);

//  Decode one character from p (p < end) into *cp; returns its length, or
//  1 and U+FFFD for a byte that starts no valid sequence (so a caller
//  steps over invalid bytes one at a time)
static inline size_t
dt_utf8_next (const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    uint8_t c = p [0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t value, min;
    if (c >= 0xC2 && c <= 0xDF) { need = 1; value = c & 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { need = 2; value = c & 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { need = 3; value = c & 0x07; min = 0x10000; }
    else {
        *cp = 0xFFFD;
        return 1;
    }
    if ((size_t) (end - p) <= need) {
        *cp = 0xFFFD;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if ((p [i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        value = (value << 6) | (p [i] & 0x3F);
    }
    if (value < min || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF)) {
        *cp = 0xFFFD;
        return 1;
    }
    *cp = value;
    return need + 1;
}

//  Characters below U+3000 (the alphabets, Greek Extended, Vietnamese) are
//  answered from tables utf8.c builds from utf8proc's before main: a call
//  into utf8proc for each character made a scan of a Greek or Russian text
//  take twice as long. Read only through the functions below.
#define DT_UTF8_TABLE_SIZE  0x3000
extern uint16_t dt_utf8_fold_table [DT_UTF8_TABLE_SIZE];
extern uint8_t dt_utf8_word_table [DT_UTF8_TABLE_SIZE / 8];

//  The characters the tables do not cover
uint32_t dt_utf8_fold_other (uint32_t cp);
bool dt_utf8_is_word_other (uint32_t cp);

//  The simple case folding of cp (see above)
static inline uint32_t
dt_utf8_fold (uint32_t cp)
{
    if (cp < 0x80)
        return cp >= 'A' && cp <= 'Z'? cp + 32: cp;
    if (cp < DT_UTF8_TABLE_SIZE)
        return dt_utf8_fold_table [cp];
    if (cp < 0xA000)
        return cp;              //  CJK, kana, Hangul jamo: no case
    return dt_utf8_fold_other (cp);
}

//  True if cp is a letter, mark or digit of a script that separates words
static inline bool
dt_utf8_is_word (uint32_t cp)
{
    if (cp < 0x80)
        return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
    if (cp < DT_UTF8_TABLE_SIZE)
        return (dt_utf8_word_table [cp / 8] >> (cp % 8)) & 1;
    return dt_utf8_is_word_other (cp);
}

//  True if cp is white space: ASCII, no-break and the Unicode spaces
static inline bool
dt_utf8_is_space (uint32_t cp)
{
    return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || cp == 0xA0 || cp == 0x3000
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F || cp == 0x205F;
}

#endif
