/*  normalise.c - see normalise.h. Most ids need no copy: an address
    already in lower-case ASCII, an id that is neither address nor phone
    number, are answered as they are.
*/
#include "rules/normalise.h"
#include "base/utf8.h"

#include <string.h>

static bool
s_phone_char (uint8_t c)
{
    return (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')';
}

//  True if id is certainly its own normal form, decided in one pass over
//  its bytes: printable ASCII (nothing to trim or fold but capitals), and
//  either an address in lower case or neither address nor phone number.
//  The ids judging looks up are mostly so; the rest take the long way.
static bool
s_plain (const uint8_t *ptr, size_t len)
{
    size_t ats = 0;
    bool printable = true, capitals = false;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = ptr [i];
        ats += c == '@';
        printable &= c > ' ' && c < 0x7F;
        capitals |= c >= 'A' && c <= 'Z';
    }
    if (!printable)
        return false;
    if (ats == 0)
        return ptr [0] != '+' && (ptr [0] < '0' || ptr [0] > '9');
    return ats == 1 && !capitals && ptr [0] != '@' && ptr [len - 1] != '@';
}

dt_str_t
dt_identity_normalise (dt_str_t id, char *out)
{
    if (id.len == 0 || id.len > DT_IDENTITY_ID_MAX
    ||  s_plain ((const uint8_t *) id.ptr, id.len))
        return id;
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
