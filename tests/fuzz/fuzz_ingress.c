/*  fuzz_ingress.c - libFuzzer target: a publisher's frame, taken the way the
    track daemon takes it (services/track/trackd.c, handle_request):

        dt_msgpack_scan, dt_wire_unpack, dt_request_parse, then
        dt_event_decode (DT_FORM_INGRESS) on each event

    then what the daemon does with the outcome: an accepted event is packed
    as a journal item (dt_item_pack_event) and a rejected one as a reject item
    with its raw bytes (dt_item_pack_reject); the reply is packed with
    dt_reply_pack_result or dt_reply_pack_error. Beyond the sanitizers it
    checks that every decoded event packs and decodes again to the same
    fields (ingress form and stamped link item), that every reject item reads
    back the same, that what we pack passes our own scanner, and that every
    error message is UTF-8 (it goes to the publisher and into rejects).
    Built and run by tests/fuzz/run.
*/
#include "fuzz_common.h"

#define FUZZ_RECEIVED_AT 1700000000000000LL

//  A reply must be msgpack we can read back
static void
check_reply (dt_buf_t *reply)
{
    msgpack_unpacked again;
    fuzz_reread (&again, reply, "a reply");
    FUZZ_ASSERT (again.data.type == MSGPACK_OBJECT_MAP, "a reply is not a map");
    msgpack_unpacked_destroy (&again);
    dt_buf_reset (reply);
}

//  A frame refused as a whole: the error reply and the reject item
static void
refuse_frame (const char *data, size_t size, const dt_request_t *request, dt_error_t *err,
              dt_track_t track, dt_buf_t *reply)
{
    fuzz_check_error (err);
    msgpack_packer pk;
    msgpack_packer_init (&pk, reply, dt_buf_msgpack_write);
    dt_reply_pack_error (&pk, request->has_req, request->req, err);
    check_reply (reply);
    dt_reject_t reject = {
        .received_at = FUZZ_RECEIVED_AT, .track = track, .index = -1,
        .code = dt_str_c (err->code), .field = dt_str_c (err->field),
        .message = dt_str_c (err->message), .event_id = { "", 0 },
        .raw = data, .raw_size = size
    };
    fuzz_reject_round_trip (&reject);
}

//  An accepted event: the ingress form and the journal item read back the same
static void
accept_event (const dt_event_t *event, dt_track_t track)
{
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    dt_event_pack (&pk, event, DT_FORM_INGRESS);
    msgpack_unpacked again;
    fuzz_reread (&again, &buf, "an event");
    dt_event_t back;
    dt_error_t err;
    int rc = dt_event_decode (&again.data, fuzz_stages (), DT_FORM_INGRESS, track, &back, &err);
    FUZZ_ASSERT (rc == 0, "a packed event does not decode: %s", err.message);
    fuzz_same_event (event, &back, 0);
    msgpack_unpacked_destroy (&again);

    dt_event_t stamped = *event;
    stamped.received_at = FUZZ_RECEIVED_AT;
    dt_buf_reset (&buf);
    dt_item_pack_event (&pk, &stamped);
    fuzz_reread (&again, &buf, "an event item");
    dt_reject_t reject;
    int kind = dt_item_decode (&again.data, fuzz_stages (), &back, &reject, &err);
    FUZZ_ASSERT (kind == DT_ITEM_EVENT, "a packed event item does not decode: %s", err.message);
    fuzz_same_event (&stamped, &back, DT_HAS_LEAD | DT_HAS_CATEGORY);
    msgpack_unpacked_destroy (&again);
    dt_buf_free (&buf);
}

//  A rejected event: its rejection for the reply, its reject item with raw bytes
static void
reject_event (const msgpack_object *obj, uint32_t index, const dt_error_t *err,
              dt_track_t track, dt_rejection_t *r)
{
    fuzz_check_error (err);
    dt_str_t id = dt_salvage_id (obj);
    r->index = index;
    snprintf (r->id, sizeof r->id, "%.*s", (int) id.len, id.ptr);
    r->error = *err;

    dt_buf_t raw = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &raw, dt_buf_msgpack_write);
    msgpack_pack_object (&pk, *obj);
    dt_reject_t reject = {
        .received_at = FUZZ_RECEIVED_AT, .track = track, .index = (int32_t) index,
        .code = dt_str_c (err->code), .field = dt_str_c (err->field),
        .message = dt_str_c (err->message), .event_id = id,
        .raw = raw.data, .raw_size = raw.size
    };
    fuzz_reject_round_trip (&reject);
    dt_buf_free (&raw);
}

//  One frame as one track daemon handles it
static void
handle_frame (const char *data, size_t size, dt_track_t track)
{
    static dt_rejection_t rejections [DT_EVENTS_MAX];
    static dt_buf_t reply;
    dt_error_t err;
    dt_request_t request = { 0 };
    msgpack_unpacked unpacked;
    if (fuzz_unpack (&unpacked, data, size, &err)) {
        refuse_frame (data, size, &request, &err, track, &reply);
        return;
    }
    if (dt_request_parse (&unpacked.data, &request, &err)) {
        refuse_frame (data, size, &request, &err, track, &reply);
        msgpack_unpacked_destroy (&unpacked);
        return;
    }
    FUZZ_ASSERT (request.count >= 1 && request.count <= DT_EVENTS_MAX,
                 "a request of %u events was let through", request.count);
    uint32_t accepted = 0, rejected = 0;
    for (uint32_t i = 0; i < request.count; i++) {
        dt_event_t event;
        if (dt_event_decode (&request.events [i], fuzz_stages (), DT_FORM_INGRESS,
                             track, &event, &err) == 0) {
            accept_event (&event, track);
            accepted++;
        }
        else
            reject_event (&request.events [i], i, &err, track, &rejections [rejected++]);
    }
    msgpack_unpacked_destroy (&unpacked);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &reply, dt_buf_msgpack_write);
    dt_reply_pack_result (&pk, request.req, accepted, rejections, rejected);
    check_reply (&reply);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > DT_FRAME_MAX)
        return 0;               //  the daemon refuses it before looking inside
    //  Each daemon is one track; the track changes what lead and advisors allow
    handle_frame ((const char *) data, size, DT_TRACK_MARKETING);
    handle_frame ((const char *) data, size, DT_TRACK_SALES);
    return 0;
}
