/*  test_jsonreq.c - the HTTP ingress's JSON (proto/jsonreq.c): a body becomes
    the same msgpack request a ZeroMQ publisher sends (byte for byte for the
    same map), a body of the wrong shape is refused with bad_request naming
    what is wrong, and replies become JSON with their HTTP status.
*/
#include "proto/jsonreq.h"
#include "unit/testing.h"

#include <stdlib.h>

static dt_stageset_t stages;

//  The events of a frame made from JSON, decoded as the track does
static int
s_decode (const dt_buf_t *frame, uint32_t *count, dt_error_t *err)
{
    msgpack_unpacked up;
    msgpack_unpacked_init (&up);
    dt_request_t request;
    int rc = dt_wire_unpack (&up, frame->data, frame->size, err);
    if (rc == 0)
        rc = dt_request_parse (&up.data, &request, err);
    *count = rc == 0? request.count: 0;
    for (uint32_t i = 0; rc == 0 && i < request.count; i++) {
        dt_event_t ev;
        rc = dt_event_decode (&request.events [i], &stages, DT_FORM_INGRESS,
                              DT_TRACK_MARKETING, &ev, err);
    }
    msgpack_unpacked_destroy (&up);
    return rc;
}

#define EVENT "{\"id\": \"a\", \"source\": \"crm\", \"account\": \"acme\", \"stage\": \"awareness\", " \
              "\"channel\": \"email\", \"kind\": \"k\", \"occurred_at\": 1780000000000}"

static void
test_pack (void)
{
    dt_buf_t frame = { 0 };
    dt_error_t err;
    const char *body = "{\"events\": [" EVENT ", " EVENT "]}";
    CHECK_INT (dt_jsonreq_pack (body, strlen (body), false, &frame, &err), 0);
    uint32_t count;
    CHECK_INT (s_decode (&frame, &count, &err), 0);
    CHECK_INT (count, 2);

    //  The same request packed as a ZeroMQ publisher would: the same bytes
    dt_buf_t want = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &want, dt_buf_msgpack_write);
    msgpack_pack_map (&pk, 3);
    dt_pack_cstr (&pk, "v");
    msgpack_pack_uint8 (&pk, 1);
    dt_pack_cstr (&pk, "req");
    msgpack_pack_uint8 (&pk, 0);
    dt_pack_cstr (&pk, "events");
    msgpack_pack_array (&pk, 1);
    msgpack_pack_map (&pk, 2);
    dt_pack_cstr (&pk, "id");
    dt_pack_cstr (&pk, "x");
    dt_pack_cstr (&pk, "occurred_at");
    msgpack_pack_int64 (&pk, 1780000000000LL);
    dt_buf_reset (&frame);
    const char *small = "{\"events\": [{\"id\": \"x\", \"occurred_at\": 1780000000000}]}";
    CHECK_INT (dt_jsonreq_pack (small, strlen (small), false, &frame, &err), 0);
    CHECK (frame.size == want.size && memcmp (frame.data, want.data, want.size) == 0);
    dt_buf_free (&want);

    //  JSON lines: blank lines skipped; a scalar line is an event the
    //  validator refuses, as over ZeroMQ
    dt_buf_reset (&frame);
    const char *lines = EVENT "\n\n  \r\n" EVENT "\n";
    CHECK_INT (dt_jsonreq_pack (lines, strlen (lines), true, &frame, &err), 0);
    CHECK_INT (s_decode (&frame, &count, &err), 0);
    CHECK_INT (count, 2);
    dt_buf_reset (&frame);
    CHECK_INT (dt_jsonreq_pack ("42\n", 3, true, &frame, &err), 0);
    CHECK_INT (s_decode (&frame, &count, &err), -1);
    CHECK_STR (err.code, "not_a_map");
    //  A float occurred_at is the wrong type, as a msgpack float would be
    dt_buf_reset (&frame);
    const char *real = "{\"events\": [{\"id\": \"a\", \"source\": \"crm\", \"account\": \"acme\", "
        "\"stage\": \"awareness\", \"channel\": \"email\", \"kind\": \"k\", \"occurred_at\": 1.78e12}]}";
    CHECK_INT (dt_jsonreq_pack (real, strlen (real), false, &frame, &err), 0);
    CHECK_INT (s_decode (&frame, &count, &err), -1);
    CHECK_STR (err.code, "wrong_type");
    CHECK_STR (err.field, "occurred_at");
    dt_buf_free (&frame);
}

static void
test_refused (void)
{
    const struct { const char *body; bool lines; const char *field; const char *words; } cases [] = {
        { "{\"events\": [", false, "", "not JSON" },
        { "[1, 2]", false, "", "must be an object" },
        { "{\"events\": [], \"req\": 1}", false, "req", "unknown key" },
        { "{}", false, "events", "required" },
        { "{\"events\": [{\"id\": \"a\", \"id\": \"b\"}]}", false, "", "not JSON" },
        { EVENT "\n{\"id\": \n", true, "", "line 2" },
        { "{\"events\": [\"\\u0000\"]}", false, "", "not JSON" },
        { "{\"events\": [\"\xff\"]}", false, "", "not JSON" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        dt_buf_t frame = { 0 };
        dt_error_t err;
        CHECK_INT (dt_jsonreq_pack (cases [i].body, strlen (cases [i].body), cases [i].lines,
                                    &frame, &err), -1);
        CHECK_STR (err.code, "bad_request");
        CHECK_STR (err.field, cases [i].field);
        CHECK (strstr (err.message, cases [i].words) != NULL);
        dt_buf_free (&frame);
    }
}

static void
test_reply (void)
{
    dt_buf_t frame = { 0 }, json = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
    dt_reply_pack_result (&pk, 0, 3, NULL, 0);
    CHECK_INT (dt_jsonreq_reply (frame.data, frame.size, &json), 200);
    CHECK (json.size && strncmp (json.data, "{\"v\":1,\"accepted\":3,\"rejected\":[]}\n", json.size) == 0);

    dt_rejection_t r = { .index = 1, .id = "b" };
    dt_error_set (&r.error, "missing_field", "kind", "kind: required");
    dt_buf_reset (&frame);
    dt_buf_reset (&json);
    dt_reply_pack_result (&pk, 0, 1, &r, 1);
    CHECK_INT (dt_jsonreq_reply (frame.data, frame.size, &json), 400);
    const char *want = "{\"v\":1,\"accepted\":1,\"rejected\":[{\"index\":1,\"id\":\"b\","
                       "\"code\":\"missing_field\",\"field\":\"kind\",\"error\":\"kind: required\"}]}\n";
    CHECK (json.size == strlen (want) && memcmp (json.data, want, json.size) == 0);

    dt_error_set (&r.error, "overloaded", "", "later");
    dt_buf_reset (&frame);
    dt_reply_pack_result (&pk, 0, 0, &r, 1);
    CHECK_INT (dt_jsonreq_reply (frame.data, frame.size, &json), 503);

    const struct { const char *code; int status; } errors [] = {
        { "overloaded", 503 }, { "frame_too_large", 413 }, { "bad_request", 400 },
        { "too_many_events", 400 }, { "unsupported_version", 400 }
    };
    for (size_t i = 0; i < sizeof errors / sizeof errors [0]; i++) {
        dt_error_t err;
        dt_error_set (&err, errors [i].code, "", "x");
        dt_buf_reset (&frame);
        dt_reply_pack_error (&pk, true, 7, &err);
        CHECK_INT (dt_jsonreq_reply (frame.data, frame.size, &json), errors [i].status);
    }
    CHECK_INT (dt_jsonreq_reply ("\x01", 1, &json), -1);
    dt_buf_free (&frame);
    dt_buf_free (&json);
}

int
main (void)
{
    dt_stageset_default (&stages);
    test_pack ();
    test_refused ();
    test_reply ();
    return TESTING_DONE ();
}
