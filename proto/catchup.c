/*  catchup.c - see catchup.h
*/
#include "proto/catchup.h"

#include <string.h>

void
dt_catchup_request_pack (msgpack_packer *pk, uint64_t req, uint64_t after,
                         const char *prefix, uint32_t limit)
{
    msgpack_pack_map (pk, 5);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "after");
    msgpack_pack_uint64 (pk, after);
    dt_pack_cstr (pk, "prefix");
    dt_pack_cstr (pk, prefix);
    dt_pack_cstr (pk, "limit");
    msgpack_pack_uint32 (pk, limit);
}

int
dt_catchup_request_open (const msgpack_object *root, dt_catchup_request_t *request,
                         dt_error_t *err)
{
    memset (request, 0, sizeof *request);
    request->has_req = dt_map_uint (root, "req", &request->req);
    uint64_t version = 0, limit = DT_CATCHUP_LIMIT_DEFAULT;
    if (!request->has_req)
        return dt_error_set (err, "bad_request", "req", "req: required, an unsigned integer");
    if (!dt_map_uint (root, "v", &version) || version != DT_PROTOCOL_VERSION)
        return dt_error_set (err, version? "unsupported_version": "bad_request", "v",
                             "v: required, the integer 1");
    if (!dt_map_uint (root, "after", &request->after))
        return dt_error_set (err, "bad_request", "after",
                             "after: required, the last seq seen (0 for the start)");
    const msgpack_object *prefix = dt_map_get (root, "prefix");
    if (prefix) {
        if (prefix->type != MSGPACK_OBJECT_STR || prefix->via.str.size > DT_CATCHUP_PREFIX_MAX)
            return dt_error_set (err, "bad_request", "prefix",
                                 "prefix: a topic prefix of at most 64 bytes");
        memcpy (request->prefix, prefix->via.str.ptr, prefix->via.str.size);
        request->prefix [prefix->via.str.size] = 0;
        if (strlen (request->prefix) != prefix->via.str.size)
            return dt_error_set (err, "bad_request", "prefix", "prefix: no NUL bytes");
    }
    if (dt_map_get (root, "limit")
    &&  (!dt_map_uint (root, "limit", &limit) || limit < 1 || limit > DT_CATCHUP_LIMIT_MAX))
        return dt_error_set (err, "bad_request", "limit", "limit: 1 to 10000 verdicts per reply");
    request->limit = (uint32_t) limit;
    return 0;
}

void
dt_catchup_reply_pack_head (msgpack_packer *pk, uint64_t req, uint64_t last, bool more,
                            uint32_t count)
{
    msgpack_pack_map (pk, 5);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "last");
    msgpack_pack_uint64 (pk, last);
    dt_pack_cstr (pk, "more");
    if (more)
        msgpack_pack_true (pk);
    else
        msgpack_pack_false (pk);
    dt_pack_cstr (pk, "items");
    msgpack_pack_array (pk, count);
}

int
dt_catchup_reply_open (const msgpack_object *root, dt_catchup_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    reply->error = dt_map_get (root, "error");
    if (reply->error)
        return 0;
    const msgpack_object *items = dt_map_get (root, "items");
    const msgpack_object *more = dt_map_get (root, "more");
    if (!items || items->type != MSGPACK_OBJECT_ARRAY
    ||  !more || more->type != MSGPACK_OBJECT_BOOLEAN
    ||  !dt_map_uint (root, "last", &reply->last))
        return -1;
    reply->items = items;
    reply->more = more->via.boolean;
    return 0;
}

int
dt_catchup_item_open (const msgpack_object *item, dt_str_t *topic,
                      const msgpack_object **message)
{
    if (item->type != MSGPACK_OBJECT_ARRAY || item->via.array.size != 2
    ||  item->via.array.ptr [0].type != MSGPACK_OBJECT_STR
    ||  item->via.array.ptr [1].type != MSGPACK_OBJECT_MAP)
        return -1;
    *topic = dt_str_of (&item->via.array.ptr [0]);
    *message = &item->via.array.ptr [1];
    return 0;
}
