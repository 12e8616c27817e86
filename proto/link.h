/*  link.h - the link codec: every message between the track daemons and the
    coordinator, and the coordinator's check API (proto/PROTOCOL.md, "Link"
    and "Check API"). One pack per message, one open for what arrives; the
    bytes are the contract, so tests/unit/proto/test_link.c pins some of
    them. Pure msgpack; sockets live elsewhere. Opened messages point into
    the msgpack object they were opened from.
*/
#ifndef DT_LINK_H
#define DT_LINK_H

#include "proto/wire.h"

typedef enum {
    DT_LINK_UNKNOWN = 0,            //  a "t" this codec does not know, or lacking its fields
    DT_LINK_HELLO,                  //  track: {"t":"hello","track"}
    DT_LINK_PING,                   //  track: {"t":"ping","track"}
    DT_LINK_BATCH,                  //  track: {"t":"batch","track","first","items"}
    DT_LINK_CREDIT,                 //  coordinator: {"t":"credit","instance","items"}
    DT_LINK_PONG,                   //  coordinator: {"t":"pong","instance"}
    DT_LINK_ACK                     //  coordinator: {"t":"ack","instance","first","upto"}
} dt_link_type_t;

//  A link message, opened
typedef struct {
    dt_link_type_t type;
    dt_str_t name;                  //  its "t" as sent
    dt_str_t track;                 //  hello, ping, batch: the sender's track name ("" if none)
    uint64_t instance;              //  coordinator messages: its start's id, 0 if none
    uint64_t first;                 //  batch, ack: the first seq
    uint64_t upto;                  //  ack: the last seq
    uint64_t credit;                //  credit: items the track may have unacknowledged
    const msgpack_object *items;    //  batch: its items, a non-empty array
} dt_link_msg_t;

//  Open a link message. Returns -1 when root is no link message (not a map
//  with a string "t"), else 0 with msg filled: DT_LINK_UNKNOWN when "t" is
//  not known here or its fields are missing or mistyped (not acted on, but
//  still a sign of the peer's life).
int dt_link_open (const msgpack_object *root, dt_link_msg_t *msg);

//  Track to coordinator
void dt_link_hello_pack (msgpack_packer *pk, const char *track);
void dt_link_ping_pack (msgpack_packer *pk, const char *track);

//  Start a batch: everything up to the items array's header; the caller
//  packs (or appends) its count items
void dt_link_batch_pack_head (msgpack_packer *pk, const char *track, uint64_t first,
                              uint32_t count);

//  A batch's items (a non-empty array), track and first seq, as dt_link_open
//  takes them, for the store that keeps the frame. Returns 0, or -1 if it is
//  no batch.
int dt_link_batch_open (const msgpack_object *root, const msgpack_object **items,
                        dt_track_t *track, uint64_t *first);

//  Coordinator to track. instance is random per coordinator start, so a
//  track notices a restart (and resends what the old one did not commit).
void dt_link_credit_pack (msgpack_packer *pk, uint64_t instance, uint64_t items);
void dt_link_pong_pack (msgpack_packer *pk, uint64_t instance);
void dt_link_ack_pack (msgpack_packer *pk, uint64_t instance, uint64_t first, uint64_t upto);

//  --------------------------------------------------------------------------
//  Check API

//  Reservations (issue 17): the limits of a check request's fields
#define DT_OWNER_MAX        64          //  bytes in "owner"
#define DT_TTL_MS_MIN       1000LL
#define DT_TTL_MS_MAX       86400000LL  //  a day
#define DT_TTL_MS_DEFAULT   900000LL    //  15 minutes
#define DT_PRIORITY_MIN     -1000
#define DT_PRIORITY_MAX     1000

//  What a check may ask besides the verdict: to hold a slot of the
//  contact budget ("reserve", "ttl_ms", "priority") for "owner" (also
//  told of its reservations taken since its last check)
typedef struct {
    bool reserve;
    int64_t ttl_ms;                 //  DT_TTL_MS_DEFAULT when not given
    int priority;                   //  0 when not given
    dt_str_t owner;                 //  len 0: the track's name
} dt_check_options_t;

//  A check request {"v", "req", "track", "event", "reserve"?, "ttl_ms"?,
//  "priority"?, "owner"?}
typedef struct {
    bool has_req;                   //  set as soon as a valid req was seen, for the error reply
    uint64_t req;
    dt_track_t track;
    const msgpack_object *event;    //  not decoded yet
    dt_check_options_t options;
} dt_check_request_t;

//  Pack a request up to the "event" key; the caller packs the event.
//  options NULL: a plain check.
void dt_check_request_pack_head (msgpack_packer *pk, uint64_t req, const char *track,
                                 const dt_check_options_t *options);

//  Open a request. Returns 0, or -1 with err (bad_request naming the
//  field, unsupported_version); the event is decoded by the caller.
int dt_check_request_open (const msgpack_object *root, dt_check_request_t *request,
                           dt_error_t *err);

//  A check reply: {"v", "req", "verdict", "account_key", "contact_key"?,
//  "findings": [...], "reservation"?, "expires_at"?, "taken"?} or the
//  ingress error map {"v", "req", "error"} (dt_reply_pack_error)
typedef struct {
    const msgpack_object *error;    //  the error map, or NULL
    dt_str_t verdict;               //  "ok", "warn" or "violation"; len 0 with an error
    const msgpack_object *findings; //  array, or NULL
    dt_str_t reservation;           //  the token of the slot held, len 0 none
    uint64_t expires_at;            //  and when it ends (ms)
    const msgpack_object *taken;    //  array of the owner's reservations taken, or NULL
} dt_check_reply_t;

//  Pack a reply up to the findings array's header; the caller packs count
//  findings (coordinator/decision.h knows them), then, if extra says so,
//  the extra keys. account_key and contact_key: the canonical ids the
//  touchpoint was judged by (contact_key NULL when it has no contact).
//  extra: the number of keys the caller packs after the findings
//  ("reservation", "expires_at", "taken").
void dt_check_reply_pack_head (msgpack_packer *pk, uint64_t req, const char *verdict,
                               dt_str_t account_key, const dt_str_t *contact_key,
                               uint32_t count, uint32_t extra);

//  Open a reply. Returns 0 for an error reply or a verdict, else -1.
int dt_check_reply_open (const msgpack_object *root, dt_check_reply_t *reply);

#endif
