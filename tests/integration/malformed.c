/*  malformed.c - sends broken frames and events to a running track daemon and
    checks each reply: the documented error code, the field named, the req
    echoed. Used by malformed.sh, which then checks the rejects table.
    Usage: malformed ENDPOINT
*/
#include "unit/testing.h"
#include "base/buf.h"
#include "proto/wire.h"

#include <czmq.h>

static zsock_t *dealer;
static uint64_t next_req = 100;

//  The reply's strings point into its frame: kept until the next exchange
static zframe_t *last_reply;

//  Send raw frames, return the unpacked reply (caller destroys)
static bool
exchange (zmsg_t *msg, msgpack_unpacked *reply)
{
    zmsg_send (&msg, dealer);
    zframe_destroy (&last_reply);
    last_reply = zframe_recv (dealer);
    if (!last_reply)
        return false;
    msgpack_unpacked_init (reply);
    dt_error_t err;
    return dt_wire_unpack (reply, (const char *) zframe_data (last_reply),
                           zframe_size (last_reply), &err) == 0;
}

static bool
exchange_bytes (const void *data, size_t size, msgpack_unpacked *reply)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, data, size);
    return exchange (msg, reply);
}

static char text [512];

//  A string value at a path of map keys, into `text`
static const char *
get_str (const msgpack_object *obj, const char *key, const char *key2)
{
    const msgpack_object *value = dt_map_get (obj, key);
    if (value && key2)
        value = dt_map_get (value, key2);
    if (!value || value->type != MSGPACK_OBJECT_STR)
        return "(absent)";
    snprintf (text, sizeof text, "%.*s", (int) value->via.str.size, value->via.str.ptr);
    return text;
}

//  The first rejection of a reply
static const msgpack_object *
first_rejection (const msgpack_object *reply)
{
    const msgpack_object *rejected = dt_map_get (reply, "rejected");
    if (!rejected || rejected->type != MSGPACK_OBJECT_ARRAY || rejected->via.array.size == 0)
        return NULL;
    return &rejected->via.array.ptr [0];
}

//  A valid event with one field replaced (or removed when value_json is NULL),
//  packed into pk. `override` packs the replacement value.
typedef void (override_fn) (msgpack_packer *pk);
static void
pack_event (msgpack_packer *pk, const char *id, const char *skip, const char *extra_key,
            override_fn *extra_value)
{
    const char *keys [] = { "id", "source", "account", "stage", "channel", "kind" };
    const char *values [] = { id, "test", "ACME", "interest", "email", "newsletter" };
    int count = 7 + (extra_key? 1: 0);
    for (int i = 0; i < 6; i++)
        if (skip && streq (skip, keys [i]))
            count--;
    if (skip && streq (skip, "occurred_at"))
        count--;
    for (int i = 0; i < 6 && extra_key; i++)
        if (streq (extra_key, keys [i]))
            count--;
    if (extra_key && streq (extra_key, "occurred_at"))
        count--;
    msgpack_pack_map (pk, (size_t) count);
    for (int i = 0; i < 6; i++) {
        if ((skip && streq (skip, keys [i])) || (extra_key && streq (extra_key, keys [i])))
            continue;
        dt_pack_cstr (pk, keys [i]);
        dt_pack_cstr (pk, values [i]);
    }
    if (!(skip && streq (skip, "occurred_at")) && !(extra_key && streq (extra_key, "occurred_at"))) {
        dt_pack_cstr (pk, "occurred_at");
        msgpack_pack_int64 (pk, 1777593600000LL);
    }
    if (extra_key) {
        dt_pack_cstr (pk, extra_key);
        extra_value (pk);
    }
}

//  Send a request with one event and return its reply
static bool
send_one (const char *id, const char *skip, const char *extra_key, override_fn *extra_value,
          msgpack_unpacked *reply)
{
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    msgpack_pack_map (&pk, 3);
    dt_pack_cstr (&pk, "v");
    msgpack_pack_uint8 (&pk, 1);
    dt_pack_cstr (&pk, "req");
    msgpack_pack_uint64 (&pk, next_req++);
    dt_pack_cstr (&pk, "events");
    msgpack_pack_array (&pk, 1);
    pack_event (&pk, id, skip, extra_key, extra_value);
    bool ok = exchange_bytes (buf.data, buf.size, reply);
    dt_buf_free (&buf);
    return ok;
}

static void pack_string_date (msgpack_packer *pk) { dt_pack_cstr (pk, "yesterday"); }
static void pack_colour (msgpack_packer *pk) { dt_pack_cstr (pk, "blue"); }
static void pack_bad_stage (msgpack_packer *pk) { dt_pack_cstr (pk, "hesitation"); }
static void pack_big_body (msgpack_packer *pk)
{
    static char body [DT_BODY_MAX + 1];
    memset (body, 'x', sizeof body);
    msgpack_pack_str (pk, sizeof body);
    msgpack_pack_str_body (pk, body, sizeof body);
}
static void pack_bad_utf8 (msgpack_packer *pk)
{
    msgpack_pack_str (pk, 3);
    msgpack_pack_str_body (pk, "a\xC0\xAF", 3);
}

//  Expect one rejected event with this code and field
static void
expect_rejection (const char *what, const char *id, const char *skip, const char *key,
                  override_fn *value, const char *code, const char *field)
{
    msgpack_unpacked reply;
    bool ok = send_one (id, skip, key, value, &reply);
    CHECK (ok);
    if (!ok)
        return;
    const msgpack_object *r = first_rejection (&reply.data);
    CHECK (r != NULL);
    if (r) {
        printf ("%s: %s\n", what, get_str (r, "error", NULL));
        CHECK_STR (get_str (r, "code", NULL), code);
        CHECK_STR (get_str (r, "field", NULL), field);
        //  The message names the field too
        CHECK (strstr (get_str (r, "error", NULL), field) != NULL);
    }
    uint64_t accepted = 99;
    CHECK (dt_map_uint (&reply.data, "accepted", &accepted) && accepted == 0);
    msgpack_unpacked_destroy (&reply);
}

//  Expect a frame-level error with this code
static void
expect_frame_error (const char *what, msgpack_unpacked *reply, bool ok, const char *code)
{
    CHECK (ok);
    if (!ok)
        return;
    printf ("%s: %s\n", what, get_str (&reply->data, "error", "message"));
    CHECK_STR (get_str (&reply->data, "error", "code"), code);
    msgpack_unpacked_destroy (reply);
}

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: malformed ENDPOINT\n");
        return 2;
    }
    dealer = zsock_new_dealer (argv [1]);
    zsock_set_rcvtimeo (dealer, 5000);
    msgpack_unpacked reply;

    //  Frames that are not requests
    bool ok = exchange_bytes ("\xc1 not msgpack", 13, &reply);
    expect_frame_error ("not msgpack", &reply, ok, "bad_request");
    ok = exchange_bytes ("", 0, &reply);
    expect_frame_error ("empty frame", &reply, ok, "bad_request");
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, "part one");
    zmsg_addstr (msg, "part two");
    ok = exchange (msg, &reply);
    expect_frame_error ("multipart", &reply, ok, "bad_request");
    ok = exchange_bytes ("\x93\x01\x02\x03", 4, &reply);     //  [1, 2, 3]
    expect_frame_error ("not a map", &reply, ok, "bad_request");
    //  {"v": 2, "req": 7, "events": []}
    ok = exchange_bytes ("\x83\xa1v\x02\xa3req\x07\xa6""events\x90", 17, &reply);
    CHECK (ok);
    if (ok) {
        uint64_t req = 0;
        CHECK (dt_map_uint (&reply.data, "req", &req) && req == 7);
        expect_frame_error ("version 2", &reply, ok, "unsupported_version");
    }
    //  {"v": 1, "req": 8, "events": []}
    ok = exchange_bytes ("\x83\xa1v\x01\xa3req\x08\xa6""events\x90", 17, &reply);
    expect_frame_error ("no events", &reply, ok, "too_many_events");
    //  A frame past the 8 MiB limit
    size_t big = DT_FRAME_MAX + 16;
    char *huge = calloc (1, big);
    ok = exchange_bytes (huge, big, &reply);
    free (huge);
    expect_frame_error ("frame too large", &reply, ok, "frame_too_large");

    //  Events that are not valid
    expect_rejection ("wrong type", "bad-type-1", NULL, "occurred_at", pack_string_date,
                      "wrong_type", "occurred_at");
    expect_rejection ("missing field", "bad-missing-1", "account", NULL, NULL,
                      "missing_field", "account");
    expect_rejection ("unknown key", "bad-unknown-1", NULL, "colour", pack_colour,
                      "unknown_field", "colour");
    expect_rejection ("unknown stage", "bad-stage-1", NULL, "stage", pack_bad_stage,
                      "bad_value", "stage");
    expect_rejection ("oversize body", "bad-body-1", NULL, "body", pack_big_body,
                      "too_long", "body");
    expect_rejection ("invalid UTF-8", "bad-utf8-1", NULL, "kind", pack_bad_utf8,
                      "bad_value", "kind");

    //  A request over a REQ socket (an envelope with an empty delimiter)
    zsock_t *req = zsock_new_req (argv [1]);
    zsock_set_rcvtimeo (req, 5000);
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    msgpack_pack_map (&pk, 3);
    dt_pack_cstr (&pk, "v");
    msgpack_pack_uint8 (&pk, 1);
    dt_pack_cstr (&pk, "req");
    msgpack_pack_uint64 (&pk, 4242);
    dt_pack_cstr (&pk, "events");
    msgpack_pack_array (&pk, 2);
    pack_event (&pk, "good-req-1", NULL, NULL, NULL);
    pack_event (&pk, "bad-req-2", "stage", NULL, NULL);
    zframe_t *frame = zframe_new (buf.data, buf.size);
    zframe_send (&frame, req, 0);
    dt_buf_free (&buf);
    frame = zframe_recv (req);
    CHECK (frame != NULL);
    if (frame) {
        msgpack_unpacked_init (&reply);
        dt_error_t err;
        CHECK (dt_wire_unpack (&reply, (const char *) zframe_data (frame), zframe_size (frame), &err) == 0);
        uint64_t value = 0;
        CHECK (dt_map_uint (&reply.data, "req", &value) && value == 4242);
        CHECK (dt_map_uint (&reply.data, "accepted", &value) && value == 1);
        const msgpack_object *r = first_rejection (&reply.data);
        CHECK (r && dt_map_uint (r, "index", &value) && value == 1);
        CHECK (r && streq (get_str (r, "id", NULL), "bad-req-2"));
        CHECK (r && streq (get_str (r, "code", NULL), "missing_field"));
        msgpack_unpacked_destroy (&reply);
        zframe_destroy (&frame);
    }
    zsock_destroy (&req);

    //  And the daemon still takes good events
    ok = send_one ("good-after-1", NULL, NULL, NULL, &reply);
    CHECK (ok);
    if (ok) {
        uint64_t accepted = 0;
        CHECK (dt_map_uint (&reply.data, "accepted", &accepted) && accepted == 1);
        msgpack_unpacked_destroy (&reply);
    }
    zframe_destroy (&last_reply);
    zsock_destroy (&dealer);
    return TESTING_DONE ();
}
