/*  fuzz_link.c - libFuzzer target: a link batch, taken the way the
    coordinator takes it (services/store/writeset.c,
    dt_writeset_add_batch):

        dt_msgpack_scan, dt_wire_unpack, dt_link_open (any link message;
        a batch {t, track, first, items} must open the same way with
        dt_link_batch_open), then dt_item_decode (events in
        DT_FORM_STAMPED) on each item of a batch

    A decoded event item must pack (dt_item_pack_event) and decode again to
    the same fields; a decoded reject item likewise (dt_item_pack_reject).
    The error of an item that does not decode goes into rejects as text, so
    it must be UTF-8. Built and run by tests/fuzz/run.
*/
#include "fuzz_common.h"
#include "proto/link.h"

static void
event_round_trip (const dt_event_t *event)
{
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    dt_item_pack_event (&pk, event);
    msgpack_unpacked again;
    fuzz_reread (&again, &buf, "an event item");
    dt_event_t back;
    dt_reject_t reject;
    dt_error_t err;
    int kind = dt_item_decode (&again.data, fuzz_stages (), &back, &reject, &err);
    FUZZ_ASSERT (kind == DT_ITEM_EVENT, "a packed event item does not decode: %s", err.message);
    fuzz_same_event (event, &back, DT_HAS_LEAD | DT_HAS_CATEGORY);
    msgpack_unpacked_destroy (&again);
    dt_buf_free (&buf);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
    if (size > DT_FRAME_MAX)
        return 0;
    dt_error_t err;
    msgpack_unpacked unpacked;
    if (fuzz_unpack (&unpacked, (const char *) data, size, &err))
        return 0;
    dt_link_msg_t msg;
    const msgpack_object *items;
    dt_track_t track;
    uint64_t first;
    int opened = dt_link_open (&unpacked.data, &msg);
    int batch = dt_link_batch_open (&unpacked.data, &items, &track, &first);
    bool is_batch = opened == 0 && msg.type == DT_LINK_BATCH;
    FUZZ_ASSERT (!is_batch || batch == 0, "dt_link_open took a batch dt_link_batch_open refuses");
    if (batch) {
        msgpack_unpacked_destroy (&unpacked);
        return 0;
    }
    FUZZ_ASSERT (!is_batch || (msg.items == items && msg.first == first),
                 "a batch opened two ways");
    for (uint32_t i = 0; i < items->via.array.size; i++) {
        dt_event_t event;
        dt_reject_t reject;
        int kind = dt_item_decode (&items->via.array.ptr [i], fuzz_stages (), &event, &reject, &err);
        if (kind == DT_ITEM_EVENT) {
            FUZZ_ASSERT (event.track == DT_TRACK_MARKETING || event.track == DT_TRACK_SALES,
                         "a stamped event without a track");
            event_round_trip (&event);
        }
        else
        if (kind == DT_ITEM_REJECT)
            fuzz_reject_round_trip (&reject);
        else {
            FUZZ_ASSERT (kind == -1, "dt_item_decode returned %d", kind);
            fuzz_check_error (&err);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    return 0;
}
