/*  tprow.c - see tprow.h
*/
#include "store/tprow.h"
#include "base/utf8.h"

#include <stdlib.h>
#include <string.h>

//  Claims as PostgreSQL writes jsonb as text: {"key": "value", ...}. The
//  unescaped strings sit in text, the map's entries point into it.
#define CLAIM_TEXT_MAX (DT_CLAIMS_MAX * (DT_CLAIM_KEY_MAX + DT_TEXT_MAX) * 2)

struct _dt_tprow_t {
    dt_stageset_t stages;
    msgpack_object_kv claims [DT_CLAIMS_MAX];
    char text [CLAIM_TEXT_MAX];
    msgpack_object attrs;           //  {"tz": ...} when the row has one
    msgpack_object_kv tz;
};

dt_tprow_t *
dt_tprow_new (const dt_stageset_t *stages)
{
    dt_tprow_t *self = (dt_tprow_t *) calloc (1, sizeof *self);
    if (self)
        self->stages = *stages;
    return self;
}

void
dt_tprow_destroy (dt_tprow_t **self_p)
{
    if (*self_p) {
        free (*self_p);
        *self_p = NULL;
    }
}

static const char *
s_skip_space (const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
        p++;
    return p;
}

static int
s_hex4 (const char *p, unsigned *value)
{
    *value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p [i];
        unsigned digit = c >= '0' && c <= '9'? (unsigned) (c - '0'):
                         c >= 'a' && c <= 'f'? (unsigned) (c - 'a' + 10):
                         c >= 'A' && c <= 'F'? (unsigned) (c - 'A' + 10): 16;
        if (digit == 16)
            return -1;
        *value = *value * 16 + digit;
    }
    return 0;
}

//  One JSON string at *p (at its opening quote) unescaped into text at
//  *used; *p moves past its closing quote. 0, or -1 if it is not one.
static int
s_string (const char **p, char *text, size_t *used, msgpack_object *out)
{
    const char *s = *p;
    if (*s++ != '"')
        return -1;
    size_t start = *used, at = *used;
    while (*s != '"') {
        if (!*s || at + 4 >= CLAIM_TEXT_MAX)
            return -1;
        if (*s != '\\') {
            text [at++] = *s++;
            continue;
        }
        s++;
        unsigned cp = 0;
        switch (*s) {
            case '"': case '\\': case '/': cp = (unsigned char) *s; break;
            case 'b': cp = '\b'; break;
            case 'f': cp = '\f'; break;
            case 'n': cp = '\n'; break;
            case 'r': cp = '\r'; break;
            case 't': cp = '\t'; break;
            case 'u':
                if (s_hex4 (s + 1, &cp))
                    return -1;
                s += 4;
                if (cp >= 0xD800 && cp < 0xDC00) {
                    unsigned low;
                    if (s [1] != '\\' || s [2] != 'u' || s_hex4 (s + 3, &low)
                    ||  low < 0xDC00 || low > 0xDFFF)
                        return -1;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    s += 6;
                }
                break;
            default: return -1;
        }
        s++;
        at += dt_utf8_put (cp, text + at);
    }
    *p = s + 1;
    *used = at;
    out->type = MSGPACK_OBJECT_STR;
    out->via.str.ptr = text + start;
    out->via.str.size = (uint32_t) (at - start);
    return 0;
}

//  The claims object into self->claims; the count, or -1 if it is not an
//  object of strings
static int
s_claims (dt_tprow_t *self, const char *p)
{
    size_t used = 0;
    int count = 0;
    p = s_skip_space (p);
    if (*p++ != '{')
        return -1;
    p = s_skip_space (p);
    if (*p == '}')
        return 0;
    while (count < DT_CLAIMS_MAX) {
        msgpack_object_kv *kv = &self->claims [count];
        p = s_skip_space (p);
        if (s_string (&p, self->text, &used, &kv->key))
            return -1;
        p = s_skip_space (p);
        if (*p++ != ':')
            return -1;
        p = s_skip_space (p);
        if (s_string (&p, self->text, &used, &kv->val))
            return -1;
        count++;
        p = s_skip_space (p);
        if (*p == '}')
            return count;
        if (*p++ != ',')
            return -1;
    }
    return -1;
}

static dt_str_t
s_str (const dt_tpcol_t *col)
{
    dt_str_t s = { col->ptr, col->len };
    return s;
}

int
dt_tprow_decode (dt_tprow_t *self, const dt_tpcol_t *cols, dt_event_t *ev)
{
    memset (ev, 0, sizeof *ev);
    ev->id = s_str (&cols [0]);
    ev->track = dt_track_parse (cols [1].ptr, cols [1].len);
    ev->account = s_str (&cols [2]);
    if (!cols [3].null) {
        ev->contact = s_str (&cols [3]);
        ev->present |= DT_HAS_CONTACT;
    }
    ev->stage = s_str (&cols [4]);
    ev->stage_index = dt_stageset_find (&self->stages, ev->stage.ptr, ev->stage.len);
    ev->lead = dt_track_parse (cols [5].ptr, cols [5].len);
    if (!cols [6].null)
        for (int t = 0; t < DT_TRACKS; t++)
            if (strstr (cols [6].ptr, dt_track_name ((dt_track_t) t)))
                ev->advisors |= (uint8_t) (1u << t);
    if (ev->advisors)
        ev->present |= DT_HAS_ADVISORS;
    if (!cols [7].null) {
        ev->project = s_str (&cols [7]);
        ev->present |= DT_HAS_PROJECT;
    }
    if (!cols [8].null) {
        ev->theme = s_str (&cols [8]);
        ev->present |= DT_HAS_THEME;
    }
    ev->occurred_at = atoll (cols [10].ptr);
    dt_str_t category = s_str (&cols [11]);
    ev->category = dt_str_eq (category, "promotional")? DT_CATEGORY_PROMOTIONAL:
                   dt_str_eq (category, "transactional")? DT_CATEGORY_TRANSACTIONAL:
                   DT_CATEGORY_ONE_TO_ONE;
    ev->source = s_str (&cols [12]);
    ev->channel = s_str (&cols [13]);
    ev->kind = s_str (&cols [14]);
    if (ev->track == DT_TRACK_NONE || ev->lead == DT_TRACK_NONE || ev->stage_index < 0)
        return -1;
    if (!cols [9].null) {
        int count = s_claims (self, cols [9].ptr);
        if (count >= 0) {
            ev->claims = self->claims;
            ev->claim_count = (uint32_t) count;
            ev->present |= DT_HAS_CLAIMS;
        }
    }
    //  The contact budget's local time: attrs.tz is all of attrs it reads
    if (!cols [15].null) {
        self->tz.key.type = self->tz.val.type = MSGPACK_OBJECT_STR;
        self->tz.key.via.str.ptr = "tz";
        self->tz.key.via.str.size = 2;
        self->tz.val.via.str.ptr = cols [15].ptr;
        self->tz.val.via.str.size = cols [15].len;
        self->attrs.type = MSGPACK_OBJECT_MAP;
        self->attrs.via.map.size = 1;
        self->attrs.via.map.ptr = &self->tz;
        ev->attrs = &self->attrs;
        ev->present |= DT_HAS_ATTRS;
    }
    return 0;
}
