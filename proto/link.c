/*  link.c - the link and check API codec (see link.h)
*/
#include "proto/link.h"

#include <string.h>

//  {"t": type, "track": track}: what a track says
static void
s_pack_from_track (msgpack_packer *pk, const char *type, const char *track)
{
    msgpack_pack_map (pk, 2);
    dt_pack_cstr (pk, "t");
    dt_pack_cstr (pk, type);
    dt_pack_cstr (pk, "track");
    dt_pack_cstr (pk, track);
}

void
dt_link_hello_pack (msgpack_packer *pk, const char *track)
{
    s_pack_from_track (pk, "hello", track);
}

void
dt_link_ping_pack (msgpack_packer *pk, const char *track)
{
    s_pack_from_track (pk, "ping", track);
}

void
dt_link_batch_pack_head (msgpack_packer *pk, const char *track, uint64_t first, uint32_t count)
{
    msgpack_pack_map (pk, 4);
    dt_pack_cstr (pk, "t");
    dt_pack_cstr (pk, "batch");
    dt_pack_cstr (pk, "track");
    dt_pack_cstr (pk, track);
    dt_pack_cstr (pk, "first");
    msgpack_pack_uint64 (pk, first);
    dt_pack_cstr (pk, "items");
    msgpack_pack_array (pk, count);
}

//  {"t": type, "instance": instance, ...}: what the coordinator says, with
//  room for extra keys the caller packs next
static void
s_pack_from_coordinator (msgpack_packer *pk, const char *type, uint64_t instance, int extra)
{
    msgpack_pack_map (pk, 2 + extra);
    dt_pack_cstr (pk, "t");
    dt_pack_cstr (pk, type);
    dt_pack_cstr (pk, "instance");
    msgpack_pack_uint64 (pk, instance);
}

void
dt_link_credit_pack (msgpack_packer *pk, uint64_t instance, uint64_t items)
{
    s_pack_from_coordinator (pk, "credit", instance, 1);
    dt_pack_cstr (pk, "items");
    msgpack_pack_uint64 (pk, items);
}

void
dt_link_pong_pack (msgpack_packer *pk, uint64_t instance)
{
    s_pack_from_coordinator (pk, "pong", instance, 0);
}

void
dt_link_ack_pack (msgpack_packer *pk, uint64_t instance, uint64_t first, uint64_t upto)
{
    s_pack_from_coordinator (pk, "ack", instance, 2);
    dt_pack_cstr (pk, "first");
    msgpack_pack_uint64 (pk, first);
    dt_pack_cstr (pk, "upto");
    msgpack_pack_uint64 (pk, upto);
}

static dt_track_t
s_track_of (const msgpack_object *track_obj)
{
    return track_obj && track_obj->type == MSGPACK_OBJECT_STR?
        dt_track_parse (track_obj->via.str.ptr, track_obj->via.str.size): DT_TRACK_NONE;
}

int
dt_link_batch_open (const msgpack_object *root, const msgpack_object **items,
                    dt_track_t *track, uint64_t *first)
{
    const msgpack_object *list = dt_map_get (root, "items");
    *track = s_track_of (dt_map_get (root, "track"));
    if (!list || list->type != MSGPACK_OBJECT_ARRAY || list->via.array.size == 0
    ||  *track == DT_TRACK_NONE || !dt_map_uint (root, "first", first))
        return -1;
    *items = list;
    return 0;
}

int
dt_link_open (const msgpack_object *root, dt_link_msg_t *msg)
{
    memset (msg, 0, sizeof *msg);
    msg->name = msg->track = dt_str_c ("");
    const msgpack_object *type = dt_map_get (root, "t");
    if (!type || type->type != MSGPACK_OBJECT_STR)
        return -1;
    msg->name = dt_str_of (type);
    const msgpack_object *track = dt_map_get (root, "track");
    if (track && track->type == MSGPACK_OBJECT_STR)
        msg->track = dt_str_of (track);
    dt_map_uint (root, "instance", &msg->instance);

    if (dt_str_eq (msg->name, "hello"))
        msg->type = DT_LINK_HELLO;
    else
    if (dt_str_eq (msg->name, "ping"))
        msg->type = DT_LINK_PING;
    else
    if (dt_str_eq (msg->name, "pong"))
        msg->type = DT_LINK_PONG;
    else
    if (dt_str_eq (msg->name, "batch")) {
        dt_track_t batch_track;
        if (dt_link_batch_open (root, &msg->items, &batch_track, &msg->first) == 0)
            msg->type = DT_LINK_BATCH;
    }
    else
    if (dt_str_eq (msg->name, "credit")) {
        if (dt_map_uint (root, "items", &msg->credit))
            msg->type = DT_LINK_CREDIT;
    }
    else
    if (dt_str_eq (msg->name, "ack")) {
        if (dt_map_uint (root, "first", &msg->first) && dt_map_uint (root, "upto", &msg->upto))
            msg->type = DT_LINK_ACK;
    }
    return 0;
}

//  --------------------------------------------------------------------------
//  Check API

void
dt_check_request_pack_head (msgpack_packer *pk, uint64_t req, const char *track,
                            const dt_check_options_t *options)
{
    bool owner = options && options->owner.len;
    msgpack_pack_map (pk, 4 + (options? 3: 0) + (owner? 1: 0));
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "track");
    dt_pack_cstr (pk, track);
    if (options) {
        dt_pack_cstr (pk, "reserve");
        if (options->reserve)
            msgpack_pack_true (pk);
        else
            msgpack_pack_false (pk);
        dt_pack_cstr (pk, "ttl_ms");
        msgpack_pack_int64 (pk, options->ttl_ms);
        dt_pack_cstr (pk, "priority");
        msgpack_pack_int (pk, options->priority);
        if (owner) {
            dt_pack_cstr (pk, "owner");
            dt_pack_str (pk, options->owner);
        }
    }
    dt_pack_cstr (pk, "event");
}

//  An integer field of a map within [min, max]: absent leaves *value
static int
s_take_range (const msgpack_object *root, const char *key, int64_t min, int64_t max,
              int64_t *value, dt_error_t *err)
{
    const msgpack_object *obj = dt_map_get (root, key);
    if (!obj)
        return 0;
    int64_t got;
    if (obj->type == MSGPACK_OBJECT_POSITIVE_INTEGER && obj->via.u64 <= INT64_MAX)
        got = (int64_t) obj->via.u64;
    else
    if (obj->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
        got = obj->via.i64;
    else
        return dt_error_set (err, "bad_request", key, "%s: an integer from %lld to %lld",
                             key, (long long) min, (long long) max);
    if (got < min || got > max)
        return dt_error_set (err, "bad_request", key, "%s: %lld is not from %lld to %lld",
                             key, (long long) got, (long long) min, (long long) max);
    *value = got;
    return 0;
}

static int
s_check_options (const msgpack_object *root, dt_check_options_t *options, dt_error_t *err)
{
    options->ttl_ms = DT_TTL_MS_DEFAULT;
    const msgpack_object *reserve = dt_map_get (root, "reserve");
    if (reserve && reserve->type != MSGPACK_OBJECT_BOOLEAN)
        return dt_error_set (err, "bad_request", "reserve", "reserve: true or false");
    options->reserve = reserve && reserve->via.boolean;
    int64_t priority = 0;
    if (s_take_range (root, "ttl_ms", DT_TTL_MS_MIN, DT_TTL_MS_MAX, &options->ttl_ms, err)
    ||  s_take_range (root, "priority", DT_PRIORITY_MIN, DT_PRIORITY_MAX, &priority, err))
        return -1;
    options->priority = (int) priority;
    const msgpack_object *owner = dt_map_get (root, "owner");
    if (owner) {
        if (owner->type != MSGPACK_OBJECT_STR || owner->via.str.size == 0
        ||  owner->via.str.size > DT_OWNER_MAX
        ||  !dt_utf8_valid (owner->via.str.ptr, owner->via.str.size))
            return dt_error_set (err, "bad_request", "owner",
                                 "owner: a UTF-8 string of 1 to %d bytes", DT_OWNER_MAX);
        options->owner = dt_str_of (owner);
    }
    return 0;
}

int
dt_check_request_open (const msgpack_object *root, dt_check_request_t *request, dt_error_t *err)
{
    memset (request, 0, sizeof *request);
    request->has_req = dt_map_uint (root, "req", &request->req);
    request->track = s_track_of (dt_map_get (root, "track"));
    request->event = dt_map_get (root, "event");
    uint64_t version = 0;
    if (!request->has_req)
        return dt_error_set (err, "bad_request", "req", "req: required, an unsigned integer");
    if (!dt_map_uint (root, "v", &version) || version != DT_PROTOCOL_VERSION)
        return dt_error_set (err, version? "unsupported_version": "bad_request", "v",
                             "v: required, the integer 1");
    if (request->track == DT_TRACK_NONE)
        return dt_error_set (err, "bad_request", "track", "track: marketing or sales");
    if (!request->event)
        return dt_error_set (err, "bad_request", "event", "event: required, one event map");
    return s_check_options (root, &request->options, err);
}

void
dt_check_reply_pack_head (msgpack_packer *pk, uint64_t req, const char *verdict,
                          dt_str_t account_key, const dt_str_t *contact_key, uint32_t count,
                          uint32_t extra)
{
    msgpack_pack_map (pk, 5 + (contact_key? 1: 0) + extra);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, DT_PROTOCOL_VERSION);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "verdict");
    dt_pack_cstr (pk, verdict);
    dt_pack_cstr (pk, "account_key");
    dt_pack_str (pk, account_key);
    if (contact_key) {
        dt_pack_cstr (pk, "contact_key");
        dt_pack_str (pk, *contact_key);
    }
    dt_pack_cstr (pk, "findings");
    msgpack_pack_array (pk, count);
}

int
dt_check_reply_open (const msgpack_object *root, dt_check_reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    reply->verdict = dt_str_c ("");
    reply->error = dt_map_get (root, "error");
    const msgpack_object *findings = dt_map_get (root, "findings");
    if (findings && findings->type == MSGPACK_OBJECT_ARRAY)
        reply->findings = findings;
    const msgpack_object *token = dt_map_get (root, "reservation");
    if (token && token->type == MSGPACK_OBJECT_STR)
        reply->reservation = dt_str_of (token);
    dt_map_uint (root, "expires_at", &reply->expires_at);
    const msgpack_object *taken = dt_map_get (root, "taken");
    if (taken && taken->type == MSGPACK_OBJECT_ARRAY)
        reply->taken = taken;
    if (reply->error)
        return 0;
    const msgpack_object *verdict = dt_map_get (root, "verdict");
    if (!verdict || verdict->type != MSGPACK_OBJECT_STR)
        return -1;
    reply->verdict = dt_str_of (verdict);
    return 0;
}
