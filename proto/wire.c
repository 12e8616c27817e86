/*  wire.c - ingress request/reply frames and link items (see wire.h)
*/
#include "proto/wire.h"
#include "proto/mpscan.h"

#include <string.h>

const msgpack_object *
dt_map_get (const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    dt_str_t wanted = dt_str_c (key);
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr [i].key;
        if (k->type == MSGPACK_OBJECT_STR && dt_str_same (dt_str_of (k), wanted))
            return &map->via.map.ptr [i].val;
    }
    return NULL;
}

bool
dt_map_uint (const msgpack_object *map, const char *key, uint64_t *value)
{
    const msgpack_object *obj = dt_map_get (map, key);
    if (!obj || obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return false;
    *value = obj->via.u64;
    return true;
}

dt_str_t
dt_salvage_id (const msgpack_object *event)
{
    dt_str_t none = { "", 0 };
    const msgpack_object *id = dt_map_get (event, "id");
    if (!id || id->type != MSGPACK_OBJECT_STR || id->via.str.size == 0
    ||  id->via.str.size > DT_ID_MAX || !dt_utf8_valid (id->via.str.ptr, id->via.str.size))
        return none;
    return dt_str_of (id);
}

int
dt_wire_unpack (msgpack_unpacked *result, const char *data, size_t size, dt_error_t *err)
{
    //  Refuse lying counts, deep nesting and junk before msgpack-c allocates
    if (dt_msgpack_scan (data, size, NULL, err))
        return -1;
    size_t offset = 0;
    msgpack_unpack_return rc = msgpack_unpack_next (result, data, size, &offset);
    if (rc != MSGPACK_UNPACK_SUCCESS)
        return dt_error_set (err, "bad_request", "",
                             rc == MSGPACK_UNPACK_CONTINUE?
                             "frame is not msgpack: it ends inside a value":
                             rc == MSGPACK_UNPACK_NOMEM_ERROR?
                             "frame is not msgpack: a declared size is impossible":
                             "frame is not msgpack");
    if (offset != size)
        return dt_error_set (err, "bad_request", "",
                             "frame holds %zu bytes after the first msgpack value: send one map",
                             size - offset);
    return 0;
}

int
dt_request_parse (const msgpack_object *root, dt_request_t *req, dt_error_t *err)
{
    memset (req, 0, sizeof *req);
    if (root->type != MSGPACK_OBJECT_MAP)
        return dt_error_set (err, "bad_request", "",
                             "a request must be a map {v, req, events}");
    const msgpack_object *req_obj = dt_map_get (root, "req");
    if (!req_obj || req_obj->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return dt_error_set (err, "bad_request", "req",
                             "req: required, an unsigned integer");
    req->has_req = true;
    req->req = req_obj->via.u64;

    for (uint32_t i = 0; i < root->via.map.size; i++) {
        const msgpack_object *key = &root->via.map.ptr [i].key;
        if (key->type != MSGPACK_OBJECT_STR
        || !(dt_str_eq (dt_str_of (key), "v") || dt_str_eq (dt_str_of (key), "req")
          || dt_str_eq (dt_str_of (key), "events")))
            return dt_error_set (err, "bad_request", "",
                                 "a request has exactly the keys v, req and events");
    }
    uint64_t version;
    if (!dt_map_uint (root, "v", &version))
        return dt_error_set (err, "bad_request", "v", "v: required, the integer 1");
    if (version != DT_PROTOCOL_VERSION)
        return dt_error_set (err, "unsupported_version", "v",
                             "v: version %llu is not supported; this daemon speaks 1",
                             (unsigned long long) version);
    const msgpack_object *events = dt_map_get (root, "events");
    if (!events || events->type != MSGPACK_OBJECT_ARRAY)
        return dt_error_set (err, "bad_request", "events",
                             "events: required, an array of 1..%d events", DT_EVENTS_MAX);
    if (events->via.array.size == 0 || events->via.array.size > DT_EVENTS_MAX)
        return dt_error_set (err, "too_many_events", "events",
                             "events: %u events; a request holds 1..%d",
                             events->via.array.size, DT_EVENTS_MAX);
    req->events = events->via.array.ptr;
    req->count = events->via.array.size;
    return 0;
}

static void
s_pack_error_map (msgpack_packer *pk, const dt_error_t *err)
{
    msgpack_pack_map (pk, err->field [0]? 3: 2);
    dt_pack_cstr (pk, "code");
    dt_pack_cstr (pk, err->code);
    dt_pack_cstr (pk, "message");
    dt_pack_cstr (pk, err->message);
    if (err->field [0]) {
        dt_pack_cstr (pk, "field");
        dt_pack_cstr (pk, err->field);
    }
}

void
dt_reply_pack_error (msgpack_packer *pk, bool has_req, uint64_t req, const dt_error_t *err)
{
    msgpack_pack_map (pk, 3);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    if (has_req)
        msgpack_pack_uint64 (pk, req);
    else
        msgpack_pack_nil (pk);
    dt_pack_cstr (pk, "error");
    s_pack_error_map (pk, err);
}

void
dt_reply_pack_result (msgpack_packer *pk, uint64_t req, uint32_t accepted,
                      const dt_rejection_t *rejections, uint32_t rejected)
{
    msgpack_pack_map (pk, 4);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "accepted");
    msgpack_pack_uint32 (pk, accepted);
    dt_pack_cstr (pk, "rejected");
    msgpack_pack_array (pk, rejected);
    for (uint32_t i = 0; i < rejected; i++) {
        const dt_rejection_t *r = &rejections [i];
        msgpack_pack_map (pk, 5);
        dt_pack_cstr (pk, "index");
        msgpack_pack_uint32 (pk, r->index);
        dt_pack_cstr (pk, "id");
        if (r->id [0])
            dt_pack_cstr (pk, r->id);
        else
            msgpack_pack_nil (pk);
        dt_pack_cstr (pk, "code");
        dt_pack_cstr (pk, r->error.code);
        dt_pack_cstr (pk, "field");
        dt_pack_cstr (pk, r->error.field);
        dt_pack_cstr (pk, "error");
        dt_pack_cstr (pk, r->error.message);
    }
}

void
dt_item_pack_event (msgpack_packer *pk, const dt_event_t *event)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_uint8 (pk, DT_ITEM_EVENT);
    dt_event_pack (pk, event, DT_FORM_STAMPED);
}

void
dt_item_pack_reject (msgpack_packer *pk, const dt_reject_t *r)
{
    msgpack_pack_array (pk, 2);
    msgpack_pack_uint8 (pk, DT_ITEM_REJECT);
    //  publisher only when known: a coordinator of before ignores it
    msgpack_pack_map (pk, r->publisher.len? 9: 8);
    dt_pack_cstr (pk, "index");
    msgpack_pack_int32 (pk, r->index);
    dt_pack_cstr (pk, "received_at");
    msgpack_pack_int64 (pk, r->received_at);
    dt_pack_cstr (pk, "track");
    dt_pack_cstr (pk, dt_track_name (r->track));
    dt_pack_cstr (pk, "code");
    dt_pack_str (pk, r->code);
    dt_pack_cstr (pk, "field");
    dt_pack_str (pk, r->field);
    dt_pack_cstr (pk, "error");
    dt_pack_str (pk, r->message);
    dt_pack_cstr (pk, "event_id");
    if (r->event_id.len)
        dt_pack_str (pk, r->event_id);
    else
        msgpack_pack_nil (pk);
    dt_pack_cstr (pk, "raw");
    size_t raw_size = r->raw_size > DT_RAW_MAX? DT_RAW_MAX: r->raw_size;
    msgpack_pack_bin (pk, raw_size);
    msgpack_pack_bin_body (pk, r->raw, raw_size);
    if (r->publisher.len) {
        dt_pack_cstr (pk, "publisher");
        dt_pack_str (pk, r->publisher);
    }
}

dt_str_t
dt_str_c (const char *cstr)
{
    dt_str_t s = { cstr, (uint32_t) strlen (cstr) };
    return s;
}

//  A string of a reject map, checked for UTF-8 since it goes to a text column
static bool
s_reject_str (const msgpack_object *map, const char *key, dt_str_t *out)
{
    const msgpack_object *obj = dt_map_get (map, key);
    if (!obj || obj->type != MSGPACK_OBJECT_STR
    ||  !dt_utf8_valid (obj->via.str.ptr, obj->via.str.size))
        return false;
    *out = dt_str_of (obj);
    return true;
}

int
dt_item_decode (const msgpack_object *obj, const dt_stageset_t *stages,
                dt_event_t *event, dt_reject_t *reject, dt_error_t *err)
{
    if (obj->type != MSGPACK_OBJECT_ARRAY || obj->via.array.size != 2
    ||  obj->via.array.ptr [0].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
        return dt_error_set (err, "bad_link_item", "", "a link item is [kind, body]");
    const msgpack_object *body = &obj->via.array.ptr [1];
    uint64_t kind = obj->via.array.ptr [0].via.u64;
    if (kind == DT_ITEM_EVENT) {
        if (dt_event_decode (body, stages, DT_FORM_STAMPED, DT_TRACK_NONE, event, err))
            return -1;
        return DT_ITEM_EVENT;
    }
    if (kind == DT_ITEM_REJECT) {
        memset (reject, 0, sizeof *reject);
        dt_str_t track;
        const msgpack_object *received = dt_map_get (body, "received_at");
        const msgpack_object *raw = dt_map_get (body, "raw");
        if (!received || received->type != MSGPACK_OBJECT_POSITIVE_INTEGER
        ||  received->via.u64 > (uint64_t) INT64_MAX
        ||  !raw || raw->type != MSGPACK_OBJECT_BIN
        ||  !s_reject_str (body, "track", &track) || !s_reject_str (body, "code", &reject->code)
        ||  !s_reject_str (body, "field", &reject->field)
        ||  !s_reject_str (body, "error", &reject->message))
            return dt_error_set (err, "bad_link_item", "", "a reject item lacks a field");
        reject->received_at = (int64_t) received->via.u64;
        const msgpack_object *index = dt_map_get (body, "index");
        reject->index = -1;
        if (index && index->type == MSGPACK_OBJECT_POSITIVE_INTEGER && index->via.u64 < DT_EVENTS_MAX)
            reject->index = (int32_t) index->via.u64;
        reject->track = dt_track_parse (track.ptr, track.len);
        reject->raw = raw->via.bin.ptr;
        reject->raw_size = raw->via.bin.size;
        dt_str_t event_id;
        if (s_reject_str (body, "event_id", &event_id))
            reject->event_id = event_id;
        dt_str_t publisher;
        if (s_reject_str (body, "publisher", &publisher) && publisher.len <= DT_TEXT_MAX)
            reject->publisher = publisher;
        return DT_ITEM_REJECT;
    }
    return dt_error_set (err, "bad_link_item", "", "unknown link item kind %llu",
                         (unsigned long long) kind);
}
