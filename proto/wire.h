/*  wire.h - the frames of the Dualtrack wire protocol (proto/PROTOCOL.md):
    one msgpack value per frame, ingress requests and replies, and the items
    a track journals and forwards (events and rejects). The link's messages
    around those items are proto/link.h's. Pure msgpack in, msgpack out;
    sockets live elsewhere.
*/
#ifndef DT_WIRE_H
#define DT_WIRE_H

#include "proto/event.h"

#define DT_PROTOCOL_VERSION 1
#define DT_RAW_MAX          65536   //  bytes of a rejected frame kept in rejects.raw

//  An ingress request, parsed but with events not yet decoded
typedef struct {
    bool has_req;
    uint64_t req;
    const msgpack_object *events;   //  array items
    uint32_t count;
} dt_request_t;

//  One rejected event of a request, as the reply reports it
typedef struct {
    uint32_t index;
    char id [DT_ID_MAX + 1];        //  "" when the event had no usable id
    dt_error_t error;
} dt_rejection_t;

//  Link items: what a track forwards to the coordinator, one per journal record
typedef enum {
    DT_ITEM_EVENT = 0,              //  [0, <stamped event map>]
    DT_ITEM_REJECT = 1              //  [1, <reject map>]
} dt_item_kind_t;

//  A rejected event or frame on its way to the rejects table
typedef struct {
    int64_t received_at;            //  µs since epoch
    dt_track_t track;
    dt_str_t code;
    dt_str_t field;
    dt_str_t message;
    dt_str_t event_id;              //  len 0 when unknown
    int32_t index;                  //  the event's index in its request, -1 for the frame
    dt_str_t publisher;             //  who sent it, as the track authenticated; len 0 when unknown
    const char *raw;
    size_t raw_size;
} dt_reject_t;

//  Unpack a frame that must hold exactly one msgpack object. Returns 0, or -1
//  with err->code "bad_request".
int dt_wire_unpack (msgpack_unpacked *result, const char *data, size_t size, dt_error_t *err);

//  Check the request envelope {"v", "req", "events"}. Returns 0 or -1 with
//  err (bad_request, unsupported_version, too_many_events). req->has_req is
//  set as soon as a valid req was seen, so errors can echo it.
int dt_request_parse (const msgpack_object *root, dt_request_t *req, dt_error_t *err);

//  Replies to a publisher (or a check client)
void dt_reply_pack_error (msgpack_packer *pk, bool has_req, uint64_t req, const dt_error_t *err);
void dt_reply_pack_result (msgpack_packer *pk, uint64_t req, uint32_t accepted,
                           const dt_rejection_t *rejections, uint32_t rejected);

//  Link items
void dt_item_pack_event (msgpack_packer *pk, const dt_event_t *event);
void dt_item_pack_reject (msgpack_packer *pk, const dt_reject_t *reject);

//  The id of an event that failed validation, if it has a usable one (a
//  non-empty UTF-8 string of at most DT_ID_MAX bytes), for its reject; else ""
dt_str_t dt_salvage_id (const msgpack_object *event);

//  Decode a link item. For DT_ITEM_EVENT fills event (validated as stamped);
//  for DT_ITEM_REJECT fills reject. Both point into obj. Returns the kind
//  or -1 with err.
int dt_item_decode (const msgpack_object *obj, const dt_stageset_t *stages,
                    dt_event_t *event, dt_reject_t *reject, dt_error_t *err);

//  Look up a key in a msgpack map; NULL if absent
const msgpack_object *dt_map_get (const msgpack_object *map, const char *key);

//  A dt_str_t of a C string
dt_str_t dt_str_c (const char *cstr);

//  An unsigned integer from a map key; false if absent or not an uint
bool dt_map_uint (const msgpack_object *map, const char *key, uint64_t *value);

#endif
