/*  event.c - decode, validate and pack touchpoint events (see event.h).

    Validation is strict on purpose: unknown keys, duplicate keys, wrong
    types and values outside the documented limits are refused with the field
    named, because a publisher learns its mistake from the reply, not from a
    row that silently differs from what it sent.
*/
#include "proto/event.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

//  Names with their lengths: decoding compares them with every event's
//  keys and values, and a strlen per comparison showed in profiles
#define NAME(literal) { literal, sizeof literal - 1 }
static const dt_str_t s_track_names [DT_TRACKS] = { NAME ("marketing"), NAME ("sales") };
static const dt_str_t s_category_names [] = {
    NAME ("one_to_one"), NAME ("promotional"), NAME ("transactional")
};
static const dt_str_t s_channel_names [] = {
    NAME ("email"), NAME ("phone"), NAME ("meeting"), NAME ("webinar"), NAME ("event"),
    NAME ("ad"), NAME ("web"), NAME ("social"), NAME ("chat"), NAME ("letter"), NAME ("other")
};
#define CHANNELS (sizeof (s_channel_names) / sizeof (s_channel_names [0]))

const char *
dt_track_name (dt_track_t track)
{
    return track >= 0 && track < DT_TRACKS? s_track_names [track].ptr: "none";
}

dt_track_t
dt_track_parse (const char *ptr, size_t len)
{
    for (int i = 0; i < DT_TRACKS; i++)
        if (s_track_names [i].len == len && memcmp (s_track_names [i].ptr, ptr, len) == 0)
            return (dt_track_t) i;
    return DT_TRACK_NONE;
}

const char *
dt_category_name (dt_category_t category)
{
    return s_category_names [category].ptr;
}

//  Replace every byte that does not start a valid UTF-8 sequence with '?':
//  quoting a value cut at a byte count (or the message itself cut at its
//  size) may split a character, and the message goes into a text column
static void
s_utf8_sanitize (char *text)
{
    size_t len = strlen (text);
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char) text [i];
        size_t n = c < 0x80? 1: c >= 0xF0? 4: c >= 0xE0? 3: c >= 0xC0? 2: 1;
        if (i + n <= len && dt_utf8_valid (text + i, n))
            i += n;
        else
            text [i++] = '?';
    }
}

int
dt_error_set (dt_error_t *err, const char *code, const char *field, const char *format, ...)
{
    err->code = code;
    snprintf (err->field, sizeof err->field, "%s", field? field: "");
    va_list args;
    va_start (args, format);
    vsnprintf (err->message, sizeof err->message, format, args);
    va_end (args);
    s_utf8_sanitize (err->message);
    return -1;
}

//  --------------------------------------------------------------------------
//  Stages

void
dt_stageset_default (dt_stageset_t *self)
{
    char err [128];
    int rc = dt_stageset_parse (self, DT_DEFAULT_STAGES, err, sizeof err);
    (void) rc;
}

int
dt_stageset_parse (dt_stageset_t *self, const char *spec, char *err, size_t errlen)
{
    memset (self, 0, sizeof *self);
    const char *cursor = spec;
    while (*cursor) {
        const char *end = strchr (cursor, ',');
        size_t len = end? (size_t) (end - cursor): strlen (cursor);
        const char *colon = memchr (cursor, ':', len);
        if (!colon || colon == cursor) {
            snprintf (err, errlen, "stages: '%.*s' is not name:track", (int) len, cursor);
            return -1;
        }
        size_t name_len = (size_t) (colon - cursor);
        dt_track_t owner = dt_track_parse (colon + 1, len - name_len - 1);
        if (owner == DT_TRACK_NONE) {
            snprintf (err, errlen, "stages: owner of '%.*s' must be marketing or sales",
                      (int) name_len, cursor);
            return -1;
        }
        if (name_len >= DT_STAGE_NAME_MAX || self->count == DT_MAX_STAGES) {
            snprintf (err, errlen, "stages: at most %d stages of at most %d bytes",
                      DT_MAX_STAGES, DT_STAGE_NAME_MAX - 1);
            return -1;
        }
        if (dt_stageset_find (self, cursor, name_len) >= 0) {
            snprintf (err, errlen, "stages: '%.*s' is listed twice", (int) name_len, cursor);
            return -1;
        }
        memcpy (self->name [self->count], cursor, name_len);
        self->name_len [self->count] = (uint8_t) name_len;
        self->owner [self->count++] = owner;
        cursor += len + (end? 1: 0);
    }
    if (self->count == 0) {
        snprintf (err, errlen, "stages: the list is empty");
        return -1;
    }
    return 0;
}

int
dt_stageset_find (const dt_stageset_t *self, const char *ptr, size_t len)
{
    for (int i = 0; i < self->count; i++)
        if (self->name_len [i] == len && memcmp (self->name [i], ptr, len) == 0)
            return i;
    return -1;
}

//  --------------------------------------------------------------------------
//  Decoding

//  The fields of an event, in the order they are packed
typedef enum {
    F_ID, F_SOURCE, F_ACCOUNT, F_CONTACT, F_STAGE, F_CHANNEL, F_KIND,
    F_OCCURRED_AT, F_ACTOR, F_LEAD, F_ADVISORS, F_PROJECT, F_THEME,
    F_CLAIMS, F_BODY, F_ATTRS, F_CATEGORY, F_RESERVATION, F_TRACK, F_RECEIVED_AT, F_PUBLISHER, F_COUNT
} field_t;

static const dt_str_t s_field_names [F_COUNT] = {
    NAME ("id"), NAME ("source"), NAME ("account"), NAME ("contact"), NAME ("stage"),
    NAME ("channel"), NAME ("kind"), NAME ("occurred_at"), NAME ("actor"), NAME ("lead"),
    NAME ("advisors"), NAME ("project"), NAME ("theme"), NAME ("claims"), NAME ("body"),
    NAME ("attrs"), NAME ("category"), NAME ("reservation"), NAME ("track"), NAME ("received_at"),
    NAME ("publisher")
};

static int
s_field_lookup (const msgpack_object *key)
{
    if (key->type != MSGPACK_OBJECT_STR)
        return -1;
    for (int i = 0; i < F_COUNT; i++)
        if (dt_str_same (dt_str_of (key), s_field_names [i]))
            return i;
    return -2;
}

static const char *
s_type_name (const msgpack_object *obj)
{
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL: return "nil";
        case MSGPACK_OBJECT_BOOLEAN: return "a boolean";
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER: return "an integer";
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64: return "a float";
        case MSGPACK_OBJECT_STR: return "a string";
        case MSGPACK_OBJECT_ARRAY: return "an array";
        case MSGPACK_OBJECT_MAP: return "a map";
        case MSGPACK_OBJECT_BIN: return "binary";
        default: return "an extension type";
    }
}

//  A string field: type, UTF-8, length bounds
static int
s_take_str (const msgpack_object *obj, const char *field, uint32_t min, uint32_t max,
          dt_str_t *out, dt_error_t *err)
{
    if (obj->type != MSGPACK_OBJECT_STR)
        return dt_error_set (err, "wrong_type", field, "%s: must be a string, got %s",
                             field, s_type_name (obj));
    if (obj->via.str.size < min)
        return dt_error_set (err, "bad_value", field, "%s: must not be empty", field);
    if (obj->via.str.size > max)
        return dt_error_set (err, "too_long", field, "%s: %u bytes, at most %u allowed",
                             field, obj->via.str.size, max);
    if (!dt_utf8_valid (obj->via.str.ptr, obj->via.str.size))
        return dt_error_set (err, "bad_value", field,
                             "%s: must be valid UTF-8 without NUL bytes", field);
    *out = dt_str_of (obj);
    return 0;
}

static int
s_take_int (const msgpack_object *obj, const char *field, int64_t min, int64_t max,
          int64_t *out, dt_error_t *err)
{
    int64_t value;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
        if (obj->via.u64 > (uint64_t) INT64_MAX)
            return dt_error_set (err, "bad_value", field, "%s: out of range", field);
        value = (int64_t) obj->via.u64;
    }
    else
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        value = obj->via.i64;
    else
        return dt_error_set (err, "wrong_type", field, "%s: must be an integer, got %s",
                             field, s_type_name (obj));
    if (value < min || value > max)
        return dt_error_set (err, "bad_value", field,
                             "%s: %lld is outside %lld..%lld", field,
                             (long long) value, (long long) min, (long long) max);
    *out = value;
    return 0;
}

static int
s_take_track (const msgpack_object *obj, const char *field, dt_track_t *out, dt_error_t *err)
{
    dt_str_t name;
    if (s_take_str (obj, field, 1, 32, &name, err))
        return -1;
    *out = dt_track_parse (name.ptr, name.len);
    if (*out == DT_TRACK_NONE)
        return dt_error_set (err, "bad_value", field,
                             "%s: '%.*s' is not a track (marketing or sales)",
                             field, (int) name.len, name.ptr);
    return 0;
}

//  Size of a msgpack object written as JSON, roughly, and its depth; refuses
//  what JSON and PostgreSQL jsonb cannot hold (bin, ext, non-finite floats,
//  non-string keys, NUL bytes) so the coordinator never fails a batch on it.
static int
s_check_attrs_value (const msgpack_object *obj, int depth, size_t *size, dt_error_t *err)
{
    //  Only containers make a level: attrs itself is level 1
    if (depth > DT_ATTRS_DEPTH
    && (obj->type == MSGPACK_OBJECT_ARRAY || obj->type == MSGPACK_OBJECT_MAP))
        return dt_error_set (err, "too_deep", "attrs",
                             "attrs: nested deeper than %d levels", DT_ATTRS_DEPTH);
    switch (obj->type) {
        case MSGPACK_OBJECT_NIL:
        case MSGPACK_OBJECT_BOOLEAN:
            *size += 5;
            return 0;
        case MSGPACK_OBJECT_POSITIVE_INTEGER:
        case MSGPACK_OBJECT_NEGATIVE_INTEGER:
            *size += 20;
            return 0;
        case MSGPACK_OBJECT_FLOAT32:
        case MSGPACK_OBJECT_FLOAT64:
            if (obj->via.f64 != obj->via.f64 || obj->via.f64 - obj->via.f64 != 0)
                return dt_error_set (err, "bad_value", "attrs",
                                     "attrs: NaN and infinite numbers have no JSON form");
            *size += 24;
            return 0;
        case MSGPACK_OBJECT_STR:
            if (!dt_utf8_valid (obj->via.str.ptr, obj->via.str.size))
                return dt_error_set (err, "bad_value", "attrs",
                                     "attrs: strings must be valid UTF-8 without NUL bytes");
            *size += obj->via.str.size + 2;
            return 0;
        case MSGPACK_OBJECT_ARRAY:
            *size += 2;
            for (uint32_t i = 0; i < obj->via.array.size; i++) {
                if (s_check_attrs_value (&obj->via.array.ptr [i], depth + 1, size, err))
                    return -1;
                *size += 1;
            }
            return 0;
        case MSGPACK_OBJECT_MAP:
            *size += 2;
            for (uint32_t i = 0; i < obj->via.map.size; i++) {
                const msgpack_object *key = &obj->via.map.ptr [i].key;
                if (key->type != MSGPACK_OBJECT_STR)
                    return dt_error_set (err, "wrong_type", "attrs",
                                         "attrs: map keys must be strings, got %s",
                                         s_type_name (key));
                if (s_check_attrs_value (key, depth + 1, size, err)
                ||  s_check_attrs_value (&obj->via.map.ptr [i].val, depth + 1, size, err))
                    return -1;
                *size += 2;
            }
            return 0;
        default:
            return dt_error_set (err, "wrong_type", "attrs",
                                 "attrs: %s values have no JSON form", s_type_name (obj));
    }
}

int
dt_event_decode (const msgpack_object *obj, const dt_stageset_t *stages,
                 dt_form_t form, dt_track_t track, dt_event_t *ev, dt_error_t *err)
{
    memset (ev, 0, sizeof *ev);
    ev->track = track;
    ev->lead = DT_TRACK_NONE;
    ev->stage_index = -1;
    if (obj->type != MSGPACK_OBJECT_MAP)
        return dt_error_set (err, "not_a_map", "", "an event must be a map, got %s",
                             s_type_name (obj));

    const msgpack_object *seen [F_COUNT] = { NULL };
    for (uint32_t i = 0; i < obj->via.map.size; i++) {
        const msgpack_object *key = &obj->via.map.ptr [i].key;
        int field = s_field_lookup (key);
        if (field == -1)
            return dt_error_set (err, "unknown_field", "",
                                 "field names must be strings, got %s", s_type_name (key));
        if (field == -2 || (form == DT_FORM_INGRESS
                            && (field == F_TRACK || field == F_RECEIVED_AT || field == F_PUBLISHER))) {
            char name [48];
            int len = key->via.str.size > 40? 40: (int) key->via.str.size;
            snprintf (name, sizeof name, "%.*s", len, key->via.str.ptr);
            for (char *c = name; *c; c++)
                if ((unsigned char) *c < 0x20 || (unsigned char) *c >= 0x7F)
                    *c = '?';
            return dt_error_set (err, "unknown_field", name,
                                 "%s: unknown field (the event fields are listed in PROTOCOL.md)",
                                 name);
        }
        if (seen [field])
            return dt_error_set (err, "duplicate_field", s_field_names [field].ptr,
                                 "%s: given twice", s_field_names [field].ptr);
        seen [field] = &obj->via.map.ptr [i].val;
    }

    static const field_t required [] = {
        F_ID, F_SOURCE, F_ACCOUNT, F_STAGE, F_CHANNEL, F_KIND, F_OCCURRED_AT
    };
    for (size_t i = 0; i < sizeof required / sizeof required [0]; i++)
        if (!seen [required [i]])
            return dt_error_set (err, "missing_field", s_field_names [required [i]].ptr,
                                 "%s: required", s_field_names [required [i]].ptr);
    if (form == DT_FORM_STAMPED && (!seen [F_TRACK] || !seen [F_RECEIVED_AT]))
        return dt_error_set (err, "missing_field", seen [F_TRACK]? "received_at": "track",
                             "a stamped event needs track and received_at");

    //  Optional fields: nil counts as absent, so publishers may send sparse
    //  records from a fixed schema
    for (int f = 0; f < F_COUNT; f++)
        if (seen [f] && seen [f]->type == MSGPACK_OBJECT_NIL) {
            //  The stamp is required on the link: nil there is a wrong type
            bool optional = !(form == DT_FORM_STAMPED && (f == F_TRACK || f == F_RECEIVED_AT));
            for (size_t i = 0; i < sizeof required / sizeof required [0]; i++)
                if (required [i] == (field_t) f)
                    optional = false;
            if (optional)
                seen [f] = NULL;
        }

    if (s_take_str (seen [F_ID], "id", 1, DT_ID_MAX, &ev->id, err)
    ||  s_take_str (seen [F_SOURCE], "source", 1, DT_TEXT_MAX, &ev->source, err)
    ||  s_take_str (seen [F_ACCOUNT], "account", 1, DT_TEXT_MAX, &ev->account, err)
    ||  s_take_str (seen [F_STAGE], "stage", 1, DT_TEXT_MAX, &ev->stage, err)
    ||  s_take_str (seen [F_CHANNEL], "channel", 1, DT_TEXT_MAX, &ev->channel, err)
    ||  s_take_str (seen [F_KIND], "kind", 1, DT_TEXT_MAX, &ev->kind, err)
    ||  s_take_int (seen [F_OCCURRED_AT], "occurred_at", DT_OCCURRED_MIN, DT_OCCURRED_MAX,
                  &ev->occurred_at, err))
        return -1;

    ev->stage_index = dt_stageset_find (stages, ev->stage.ptr, ev->stage.len);
    if (ev->stage_index < 0) {
        char list [DT_MAX_STAGES * (DT_STAGE_NAME_MAX + 2)] = "";
        for (int i = 0; i < stages->count; i++) {
            if (i)
                strcat (list, ", ");
            strcat (list, stages->name [i]);
        }
        return dt_error_set (err, "bad_value", "stage",
                             "stage: '%.*s' is not a configured funnel stage (%s)",
                             (int) (ev->stage.len > 64? 64: ev->stage.len), ev->stage.ptr, list);
    }
    bool known_channel = false;
    for (size_t i = 0; i < CHANNELS; i++)
        if (dt_str_same (ev->channel, s_channel_names [i]))
            known_channel = true;
    if (!known_channel)
        return dt_error_set (err, "bad_value", "channel",
                             "channel: '%.*s' is not one of email, phone, meeting, webinar, "
                             "event, ad, web, social, chat, letter, other",
                             (int) (ev->channel.len > 64? 64: ev->channel.len), ev->channel.ptr);

    struct { field_t field; dt_str_t *out; uint32_t max; uint32_t bit; } optional [] = {
        { F_CONTACT, &ev->contact, DT_TEXT_MAX, DT_HAS_CONTACT },
        { F_ACTOR, &ev->actor, DT_TEXT_MAX, DT_HAS_ACTOR },
        { F_PROJECT, &ev->project, DT_TEXT_MAX, DT_HAS_PROJECT },
        { F_THEME, &ev->theme, DT_TEXT_MAX, DT_HAS_THEME },
        { F_BODY, &ev->body, DT_BODY_MAX, DT_HAS_BODY },
        { F_RESERVATION, &ev->reservation, DT_TOKEN_MAX, DT_HAS_RESERVATION }
    };
    for (size_t i = 0; i < sizeof optional / sizeof optional [0]; i++)
        if (seen [optional [i].field]) {
            uint32_t min = optional [i].field == F_BODY? 0: 1;
            if (s_take_str (seen [optional [i].field], s_field_names [optional [i].field].ptr,
                          min, optional [i].max, optional [i].out, err))
                return -1;
            ev->present |= optional [i].bit;
        }

    if (form == DT_FORM_STAMPED) {
        if (s_take_track (seen [F_TRACK], "track", &ev->track, err)
        ||  s_take_int (seen [F_RECEIVED_AT], "received_at", 0, INT64_MAX, &ev->received_at, err))
            return -1;
        if (seen [F_PUBLISHER]) {
            if (s_take_str (seen [F_PUBLISHER], "publisher", 1, DT_TEXT_MAX, &ev->publisher, err))
                return -1;
            ev->present |= DT_HAS_PUBLISHER;
        }
    }
    ev->lead = ev->track;
    if (seen [F_LEAD]) {
        if (s_take_track (seen [F_LEAD], "lead", &ev->lead, err))
            return -1;
        ev->present |= DT_HAS_LEAD;
    }
    if (seen [F_ADVISORS]) {
        const msgpack_object *list = seen [F_ADVISORS];
        if (list->type != MSGPACK_OBJECT_ARRAY)
            return dt_error_set (err, "wrong_type", "advisors",
                                 "advisors: must be an array of track names, got %s",
                                 s_type_name (list));
        if (list->via.array.size > DT_TRACKS)
            return dt_error_set (err, "bad_value", "advisors",
                                 "advisors: at most %d tracks", DT_TRACKS);
        for (uint32_t i = 0; i < list->via.array.size; i++) {
            dt_track_t advisor;
            if (s_take_track (&list->via.array.ptr [i], "advisors", &advisor, err))
                return -1;
            if (ev->advisors & (1u << advisor))
                return dt_error_set (err, "bad_value", "advisors",
                                     "advisors: %s is listed twice", dt_track_name (advisor));
            if (advisor == ev->lead)
                return dt_error_set (err, "bad_value", "advisors",
                                     "advisors: %s is the lead, it can not also advise",
                                     dt_track_name (advisor));
            ev->advisors |= (uint8_t) (1u << advisor);
        }
        ev->present |= DT_HAS_ADVISORS;
    }
    if (seen [F_CATEGORY]) {
        dt_str_t name;
        if (s_take_str (seen [F_CATEGORY], "category", 1, 32, &name, err))
            return -1;
        bool found = false;
        for (int i = 0; i < 3; i++)
            if (dt_str_same (name, s_category_names [i])) {
                ev->category = (dt_category_t) i;
                found = true;
            }
        if (!found)
            return dt_error_set (err, "bad_value", "category",
                                 "category: '%.*s' is not promotional, one_to_one or transactional",
                                 (int) (name.len > 32? 32: name.len), name.ptr);
        ev->present |= DT_HAS_CATEGORY;
    }
    if (seen [F_CLAIMS]) {
        const msgpack_object *map = seen [F_CLAIMS];
        if (map->type != MSGPACK_OBJECT_MAP)
            return dt_error_set (err, "wrong_type", "claims",
                                 "claims: must be a map of string to string, got %s",
                                 s_type_name (map));
        if (map->via.map.size > DT_CLAIMS_MAX)
            return dt_error_set (err, "too_long", "claims",
                                 "claims: %u entries, at most %d allowed",
                                 map->via.map.size, DT_CLAIMS_MAX);
        for (uint32_t i = 0; i < map->via.map.size; i++) {
            dt_str_t key, value;
            if (s_take_str (&map->via.map.ptr [i].key, "claims", 1, DT_CLAIM_KEY_MAX, &key, err)
            ||  s_take_str (&map->via.map.ptr [i].val, "claims", 0, DT_TEXT_MAX, &value, err))
                return -1;
            for (uint32_t j = 0; j < i; j++)
                if (map->via.map.ptr [j].key.via.str.size == key.len
                &&  memcmp (map->via.map.ptr [j].key.via.str.ptr, key.ptr, key.len) == 0)
                    return dt_error_set (err, "duplicate_field", "claims",
                                         "claims: key '%.*s' given twice",
                                         (int) key.len, key.ptr);
        }
        ev->claims = map->via.map.ptr;
        ev->claim_count = map->via.map.size;
        ev->present |= DT_HAS_CLAIMS;
    }
    if (seen [F_ATTRS]) {
        const msgpack_object *map = seen [F_ATTRS];
        if (map->type != MSGPACK_OBJECT_MAP)
            return dt_error_set (err, "wrong_type", "attrs", "attrs: must be a map, got %s",
                                 s_type_name (map));
        size_t size = 0;
        if (s_check_attrs_value (map, 1, &size, err))
            return -1;
        if (size > DT_ATTRS_MAX)
            return dt_error_set (err, "too_long", "attrs",
                                 "attrs: about %zu bytes as JSON, at most %d allowed",
                                 size, DT_ATTRS_MAX);
        ev->attrs = map;
        ev->present |= DT_HAS_ATTRS;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Packing

static void
s_pack_field_str (msgpack_packer *pk, field_t field, dt_str_t value)
{
    dt_pack_str (pk, s_field_names [field]);
    dt_pack_str (pk, value);
}

void
dt_event_pack (msgpack_packer *pk, const dt_event_t *ev, dt_form_t form)
{
    bool stamped = form == DT_FORM_STAMPED;
    uint32_t present = ev->present;
    if (stamped)
        present |= DT_HAS_LEAD | DT_HAS_CATEGORY;
    size_t count = 7 + (stamped? 2: 0);
    for (uint32_t bit = 1; bit <= DT_HAS_CATEGORY; bit <<= 1)
        if (present & bit)
            count++;
    bool publisher = stamped && (present & DT_HAS_PUBLISHER);
    bool reservation = present & DT_HAS_RESERVATION;
    msgpack_pack_map (pk, count + (publisher? 1: 0) + (reservation? 1: 0));
    s_pack_field_str (pk, F_ID, ev->id);
    s_pack_field_str (pk, F_SOURCE, ev->source);
    s_pack_field_str (pk, F_ACCOUNT, ev->account);
    s_pack_field_str (pk, F_STAGE, ev->stage);
    s_pack_field_str (pk, F_CHANNEL, ev->channel);
    s_pack_field_str (pk, F_KIND, ev->kind);
    dt_pack_cstr (pk, "occurred_at");
    msgpack_pack_int64 (pk, ev->occurred_at);
    if (present & DT_HAS_CONTACT)
        s_pack_field_str (pk, F_CONTACT, ev->contact);
    if (present & DT_HAS_ACTOR)
        s_pack_field_str (pk, F_ACTOR, ev->actor);
    if (present & DT_HAS_PROJECT)
        s_pack_field_str (pk, F_PROJECT, ev->project);
    if (present & DT_HAS_THEME)
        s_pack_field_str (pk, F_THEME, ev->theme);
    if (present & DT_HAS_BODY)
        s_pack_field_str (pk, F_BODY, ev->body);
    if (present & DT_HAS_CLAIMS) {
        dt_pack_cstr (pk, "claims");
        msgpack_pack_map (pk, ev->claim_count);
        for (uint32_t i = 0; i < ev->claim_count; i++) {
            dt_pack_str (pk, dt_str_of (&ev->claims [i].key));
            dt_pack_str (pk, dt_str_of (&ev->claims [i].val));
        }
    }
    if (present & DT_HAS_ATTRS) {
        dt_pack_cstr (pk, "attrs");
        msgpack_pack_object (pk, *ev->attrs);
    }
    if (present & DT_HAS_ADVISORS) {
        dt_pack_cstr (pk, "advisors");
        int count = 0;
        for (int t = 0; t < DT_TRACKS; t++)
            if (ev->advisors & (1u << t))
                count++;
        msgpack_pack_array (pk, count);
        for (int t = 0; t < DT_TRACKS; t++)
            if (ev->advisors & (1u << t))
                dt_pack_cstr (pk, dt_track_name ((dt_track_t) t));
    }
    if (present & DT_HAS_LEAD) {
        dt_pack_cstr (pk, "lead");
        dt_pack_cstr (pk, dt_track_name (ev->lead));
    }
    if (present & DT_HAS_CATEGORY) {
        dt_pack_cstr (pk, "category");
        dt_pack_str (pk, s_category_names [ev->category]);
    }
    if (reservation)
        s_pack_field_str (pk, F_RESERVATION, ev->reservation);
    if (stamped) {
        dt_pack_cstr (pk, "track");
        dt_pack_cstr (pk, dt_track_name (ev->track));
        dt_pack_cstr (pk, "received_at");
        msgpack_pack_int64 (pk, ev->received_at);
        if (publisher)
            s_pack_field_str (pk, F_PUBLISHER, ev->publisher);
    }
}
