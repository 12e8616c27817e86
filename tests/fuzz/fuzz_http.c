/*  fuzz_http.c - libFuzzer target: an HTTP ingress body, taken the way the
    track's HTTP threads take it (services/track/http_ingress.c): the first
    byte picks JSON or JSON lines, the rest is the body.

        dt_jsonreq_pack, then the frame down the ZeroMQ path's own steps
        (dt_wire_unpack, dt_request_parse, dt_event_decode) and the reply
        turned back into JSON (dt_jsonreq_reply)

    Beyond the sanitizers it checks that every frame the JSON becomes passes
    the scanner and unpacks whole, that a refused body has a bad_request
    with a UTF-8 message, and that every reply becomes JSON jansson reads
    back with a status of the table. Built and run by tests/fuzz/run.
*/
#include "fuzz_common.h"
#include "proto/jsonreq.h"

#include <jansson.h>

static void
check_json_reply (const dt_buf_t *frame, int want_status)
{
    dt_buf_t json = { 0 };
    int status = dt_jsonreq_reply (frame->data, frame->size, &json);
    FUZZ_ASSERT (status == 200 || status == 400 || status == 413 || status == 503,
                 "reply status %d", status);
    FUZZ_ASSERT (want_status == 0 || status == want_status, "status %d, want %d", status, want_status);
    json_error_t jerr;
    json_t *back = json_loadb (json.data, json.size, 0, &jerr);
    FUZZ_ASSERT (back && json_is_object (back) && !json_object_get (back, "req"),
                 "the JSON reply does not read back: %s", jerr.text);
    json_decref (back);
    dt_buf_free (&json);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size < 1 || size > DT_HTTP_BODY_MAX)
        return 0;
    bool lines = data [0] & 1;
    dt_buf_t frame = { 0 }, reply = { 0 };
    dt_error_t err;
    msgpack_packer pk;
    msgpack_packer_init (&pk, &reply, dt_buf_msgpack_write);
    if (dt_jsonreq_pack ((const char *) data + 1, size - 1, lines, &frame, &err)) {
        fuzz_check_error (&err);
        FUZZ_ASSERT (strcmp (err.code, "bad_request") == 0, "a body refused with %s", err.code);
        dt_reply_pack_error (&pk, false, 0, &err);
        check_json_reply (&reply, 400);
        dt_buf_free (&frame);
        dt_buf_free (&reply);
        return 0;
    }
    msgpack_unpacked unpacked;
    dt_request_t request = { 0 };
    if (frame.size > DT_FRAME_MAX) {
        dt_error_set (&err, "frame_too_large", "", "too large");
        dt_reply_pack_error (&pk, false, 0, &err);
        check_json_reply (&reply, 413);
    }
    else {
        FUZZ_ASSERT (fuzz_unpack (&unpacked, frame.data, frame.size, &err) == 0,
                     "a frame made from JSON is refused: %s", err.message);
        if (dt_request_parse (&unpacked.data, &request, &err)) {
            fuzz_check_error (&err);
            dt_reply_pack_error (&pk, request.has_req, request.req, &err);
            check_json_reply (&reply, 400);
        }
        else {
            static dt_rejection_t rejections [DT_EVENTS_MAX];
            uint32_t accepted = 0, rejected = 0;
            for (uint32_t i = 0; i < request.count; i++) {
                dt_event_t event;
                if (dt_event_decode (&request.events [i], fuzz_stages (), DT_FORM_INGRESS,
                                     DT_TRACK_MARKETING, &event, &err) == 0)
                    accepted++;
                else {
                    fuzz_check_error (&err);
                    dt_rejection_t *r = &rejections [rejected++];
                    r->index = i;
                    dt_str_t id = dt_salvage_id (&request.events [i]);
                    snprintf (r->id, sizeof r->id, "%.*s", (int) id.len, id.ptr);
                    r->error = err;
                }
            }
            dt_reply_pack_result (&pk, request.req, accepted, rejections, rejected);
            check_json_reply (&reply, rejected? 400: 200);
        }
        msgpack_unpacked_destroy (&unpacked);
    }
    dt_buf_free (&frame);
    dt_buf_free (&reply);
    return 0;
}
