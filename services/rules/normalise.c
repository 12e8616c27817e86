/*  normalise.c - see normalise.h. Most ids need no copy: an address
    already in lower-case ASCII, an id that is neither address nor phone
    number, are answered as they are.
*/
#include "rules/normalise.h"
#include "base/hash.h"
#include "base/utf8.h"

#include <string.h>

static bool
s_phone_char (uint8_t c)
{
    return (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

#define ONES    0x0101010101010101ULL
#define HIGHS   0x8080808080808080ULL

//  What s_plain needs to know of an id's bytes, eight at a time: each
//  test leaves a byte's high bit set where it holds, on the bytes' low
//  seven bits (no carry crosses a byte): below 0x21 or from 0x7F up (no
//  printable ASCII), an '@', a capital. valid has the high bits of the
//  bytes that are the id's. Of the '@'s only none, one or more matters
//  (a count would be a call into libgcc without -mpopcnt).
typedef struct {
    uint64_t unprintable, capitals, at, more_ats;
} scan_t;

static inline void
s_scan (scan_t *scan, uint64_t word, uint64_t valid)
{
    uint64_t low = word & ~HIGHS;
    uint64_t at = ~((low ^ 0x40 * ONES) + 0x7F * ONES) & valid;
    scan->unprintable |= (word | ~(low + 0x5F * ONES) | (low + ONES)) & valid;
    scan->more_ats |= (at & (at - 1)) | (uint64_t) (scan->at && at);
    scan->at |= at;
    scan->capitals |= (low + 0x3F * ONES) & (0xDA * ONES - low) & valid;
}

//  True if id is certainly its own normal form, decided in one pass over
//  its bytes: printable ASCII (nothing to trim or fold but capitals), and
//  either an address in lower case or neither address nor phone number.
//  The ids judging looks up are mostly so; the rest take the long way.
//  The pass hashes the bytes too (dt_hash, seed 0), for the lookup that
//  follows; dt_identity_normalise, which has no use for it, pays a few
//  multiplies a word.
static inline bool
s_plain (const uint8_t *ptr, size_t len, uint64_t *hash)
{
    scan_t scan = { 0, 0, 0, 0 };
    uint64_t mixed = dt_hash_begin (len, 0);
    size_t left = len;
    const uint8_t *bytes = ptr;
    while (left >= 8) {
        uint64_t word;
        memcpy (&word, bytes, 8);
        s_scan (&scan, word, HIGHS);
        mixed = dt_hash_word (mixed, word);
        bytes += 8;
        left -= 8;
    }
    if (left) {
        uint64_t word = dt_hash_last (bytes + left, left, len);
        s_scan (&scan, word, HIGHS >> (8 * (8 - left)));
        mixed = dt_hash_tail (mixed, word);
    }
    *hash = dt_hash_end (mixed);
    if (scan.unprintable)
        return false;
    if (!scan.at)
        return ptr [0] != '+' && (ptr [0] < '0' || ptr [0] > '9');
    return !scan.more_ats && !scan.capitals && ptr [0] != '@' && ptr [len - 1] != '@';
}

//  The normal form of an id s_plain could not answer for
static dt_str_t
s_long_way (dt_str_t id, char *out)
{
    const uint8_t *start = (const uint8_t *) id.ptr, *end = start + id.len;
    //  Trim white space at both ends
    while (start < end) {
        uint32_t cp;
        size_t n = dt_utf8_next (start, end, &cp);
        if (!dt_utf8_is_space (cp))
            break;
        start += n;
    }
    while (end > start) {
        const uint8_t *last = end - 1;
        while (last > start && (*last & 0xC0) == 0x80)
            last--;
        uint32_t cp;
        dt_utf8_next (last, end, &cp);
        if (!dt_utf8_is_space (cp))
            break;
        end = last;
    }
    if (start == end)
        return id;
    size_t len = (size_t) (end - start);
    const uint8_t *at = (const uint8_t *) memchr (start, '@', len);
    size_t out_len = 0;
    if (at) {
        //  An e-mail address: one '@' with text both sides, no white space
        if (at == start || at == end - 1 || memchr (at + 1, '@', (size_t) (end - at - 1)))
            return id;
        //  Most addresses are already normal (lower-case ASCII, nothing to
        //  trim): answer them without a copy
        const uint8_t *cursor = start;
        while (cursor < end && *cursor > ' ' && *cursor < 0x80 && (*cursor < 'A' || *cursor > 'Z'))
            cursor++;
        if (cursor == end && len == id.len)
            return id;
        out_len = (size_t) (cursor - start);
        memcpy (out, start, out_len);
        while (cursor < end) {
            uint8_t c = *cursor;
            if (c < 0x80) {         //  ASCII, most addresses: no decoding
                if (c <= ' ')
                    return id;      //  white space or a control character
                out [out_len++] = (char) (c >= 'A' && c <= 'Z'? c + 32: c);
                cursor++;
                continue;
            }
            uint32_t cp;
            size_t n = dt_utf8_next (cursor, end, &cp);
            if (dt_utf8_is_space (cp) || (cp == 0xFFFD && n == 1))
                return id;          //  white space, or not valid UTF-8
            out_len += dt_utf8_put (dt_utf8_fold (cp), out + out_len);
            cursor += n;
        }
    }
    else
    if (*start == '+' || (*start >= '0' && *start <= '9')) {
        //  A phone number: '+' and digits, the usual separators between
        if (*start == '+')
            out [out_len++] = '+';
        for (const uint8_t *cursor = start + (*start == '+'); cursor < end; cursor++) {
            if (!s_phone_char (*cursor))
                return id;
            if (*cursor >= '0' && *cursor <= '9')
                out [out_len++] = (char) *cursor;
        }
        if (out_len == 0 || (out_len == 1 && out [0] == '+'))
            return id;
    }
    else
        return id;              //  any other id: as sent
    if (out_len == id.len && memcmp (out, id.ptr, out_len) == 0)
        return id;
    dt_str_t result = { out, (uint32_t) out_len };
    return result;
}

dt_str_t
dt_identity_normalise (dt_str_t id, char *out)
{
    uint64_t unused;
    if (id.len == 0 || id.len > DT_IDENTITY_ID_MAX
    ||  s_plain ((const uint8_t *) id.ptr, id.len, &unused))
        return id;
    return s_long_way (id, out);
}

dt_str_t
dt_identity_normalise_hash (dt_str_t id, char *out, uint64_t *hash)
{
    if (id.len == 0 || id.len > DT_IDENTITY_ID_MAX) {
        *hash = dt_hash (id.ptr, id.len, 0);
        return id;
    }
    if (s_plain ((const uint8_t *) id.ptr, id.len, hash))
        return id;
    dt_str_t key = s_long_way (id, out);
    if (key.ptr != id.ptr || key.len != id.len)
        *hash = dt_hash (key.ptr, key.len, 0);
    return key;
}
