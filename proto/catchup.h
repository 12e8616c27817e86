/*  catchup.h - the catch-up API's messages (proto/PROTOCOL.md, "Catch-up
    API"): a subscriber asks for the verdicts after the last seq it saw,
    and gets them a page at a time, each as the decisions feed carried it
    (topic and message), so it treats both alike.
*/
#ifndef DT_CATCHUP_H
#define DT_CATCHUP_H

#include "proto/wire.h"

//  Verdicts per reply when the request does not say, and at most
#define DT_CATCHUP_LIMIT_DEFAULT 1000
#define DT_CATCHUP_LIMIT_MAX 10000
//  The longest topic prefix
#define DT_CATCHUP_PREFIX_MAX 64

//  A request {"v", "req", "after", "prefix"?, "limit"?}
typedef struct {
    bool has_req;                   //  set as soon as a valid req was seen, for the error reply
    uint64_t req;
    uint64_t after;                 //  the last seq the subscriber has (0: from the start)
    char prefix [DT_CATCHUP_PREFIX_MAX + 1];    //  topic prefix, "" all
    uint32_t limit;                 //  verdicts per reply, 1..DT_CATCHUP_LIMIT_MAX
} dt_catchup_request_t;

void dt_catchup_request_pack (msgpack_packer *pk, uint64_t req, uint64_t after,
                              const char *prefix, uint32_t limit);

//  Open a request. Returns 0, or -1 with err (bad_request,
//  unsupported_version) naming the field.
int dt_catchup_request_open (const msgpack_object *root, dt_catchup_request_t *request,
                             dt_error_t *err);

//  A reply {"v", "req", "last", "more", "items": [[topic, message], ...]}:
//  the messages of the verdicts after the request's seq up to last, in seq
//  order; more: later verdicts are already stored (ask again after last).
//  Pack up to the items array's header; the caller packs count items, each
//  an array of 2: the topic (str) and the message (map, as on the feed).
void dt_catchup_reply_pack_head (msgpack_packer *pk, uint64_t req, uint64_t last, bool more,
                                 uint32_t count);

typedef struct {
    const msgpack_object *error;    //  the error map {"code", "field", "message"}, or NULL
    uint64_t last;
    bool more;
    const msgpack_object *items;    //  array of [topic, message], or NULL with an error
} dt_catchup_reply_t;

//  Open a reply. Returns 0 for an error reply or a page, else -1.
int dt_catchup_reply_open (const msgpack_object *root, dt_catchup_reply_t *reply);

//  One item of a reply: its topic and message. Returns 0, or -1 if it is
//  not [str, map].
int dt_catchup_item_open (const msgpack_object *item, dt_str_t *topic,
                          const msgpack_object **message);

#endif
