/*  jsonreq.h - the HTTP ingress's JSON (proto/PROTOCOL.md, "HTTP ingress"):
    a body becomes the very msgpack request frame a ZeroMQ publisher sends,
    so both ingresses share one decoder, one validator and one journal path
    and the same event gives the same stored row whichever way it came; the
    msgpack reply the track packs becomes the JSON reply and its HTTP status.
    Pure: no sockets, no HTTP server.
*/
#ifndef DT_JSONREQ_H
#define DT_JSONREQ_H

#include "base/buf.h"
#include "proto/wire.h"

#include <stdbool.h>

//  The largest body taken (answered 413 above it): the frame limit
#define DT_HTTP_BODY_MAX    DT_FRAME_MAX

//  body (len bytes): {"events": [<event>, ...]} when lines is false, else
//  JSON lines, one event per non-blank line. Appends to frame the request
//  {"v": 1, "req": 0, "events": [...]} in msgpack: objects as maps in their
//  key order, integers as ints, other numbers as float64, null as nil.
//  Returns 0, or -1 with err (code bad_request; field "events" or the
//  unknown key when one is to blame) when the body is not UTF-8 JSON of
//  that shape, or repeats a key in an object (the ZeroMQ path could tell
//  which event; a JSON parser can not keep both values). What the body
//  holds inside "events" is left to the shared validation (dt_request_parse,
//  dt_event_decode): too many events, a wrong type, a missing field.
int dt_jsonreq_pack (const char *body, size_t len, bool lines, dt_buf_t *frame, dt_error_t *err);

//  A reply frame (dt_reply_pack_result or dt_reply_pack_error) as the JSON
//  the HTTP ingress answers, the same map without "req", appended to json.
//  Returns its HTTP status: 200 every event accepted; 503 when the track is
//  overloaded (the frame or an event); 413 frame_too_large; 400 any other
//  frame error or a rejected event. -1 if frame is not such a reply.
int dt_jsonreq_reply (const char *frame, size_t size, dt_buf_t *json);

#endif
