/*  fuzz_common.h - what both fuzz targets check: a frame goes through the
    scanner before msgpack-c sees it, everything we pack re-reads to the same
    fields, and every error message we produce can be stored as text.
    A broken property aborts, so libFuzzer keeps the input as a crash.
*/
#ifndef DT_FUZZ_COMMON_H
#define DT_FUZZ_COMMON_H

#include "fuzz_assert.h"
#include "base/buf.h"
#include "proto/mpscan.h"
#include "proto/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const dt_stageset_t *
fuzz_stages (void)
{
    static dt_stageset_t stages;
    if (stages.count == 0)
        dt_stageset_default (&stages);
    return &stages;
}

//  What the daemon will run before dt_wire_unpack: scan, then unpack. A frame
//  the scanner accepts must unpack whole. Returns 0 with *result to destroy,
//  or -1 with err.
static int
fuzz_unpack (msgpack_unpacked *result, const char *data, size_t size, dt_error_t *err)
{
    msgpack_unpacked_init (result);
    if (dt_msgpack_scan (data, size, NULL, err)) {
        FUZZ_ASSERT (err->code && strcmp (err->code, "bad_request") == 0 && err->message [0],
                     "scanner refused without a bad_request message");
        msgpack_unpacked_destroy (result);
        return -1;
    }
    int rc = dt_wire_unpack (result, data, size, err);
    FUZZ_ASSERT (rc == 0, "the scanner accepted a frame msgpack-c refuses: %s", err->message);
    return 0;
}

//  Errors go back to publishers as msgpack str and into rejects as text
static void
fuzz_check_error (const dt_error_t *err)
{
    FUZZ_ASSERT (err->code && err->code [0], "error without a code");
    FUZZ_ASSERT (dt_utf8_valid (err->message, strlen (err->message)),
                 "error message is not UTF-8 (code %s, field %s)", err->code, err->field);
    FUZZ_ASSERT (dt_utf8_valid (err->field, strlen (err->field)),
                 "error field is not UTF-8 (code %s)", err->code);
}

static bool
fuzz_str_same (dt_str_t a, dt_str_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp (a.ptr, b.ptr, a.len) == 0);
}

//  a was decoded, packed and decoded again as b. extra_present: bits the
//  packing adds (the stamped form always writes lead and category).
static inline void
fuzz_same_event (const dt_event_t *a, const dt_event_t *b, uint32_t extra_present)
{
    static const struct { const char *name; size_t offset; } strs [] = {
        { "id", offsetof (dt_event_t, id) },
        { "source", offsetof (dt_event_t, source) },
        { "account", offsetof (dt_event_t, account) },
        { "contact", offsetof (dt_event_t, contact) },
        { "stage", offsetof (dt_event_t, stage) },
        { "channel", offsetof (dt_event_t, channel) },
        { "kind", offsetof (dt_event_t, kind) },
        { "actor", offsetof (dt_event_t, actor) },
        { "project", offsetof (dt_event_t, project) },
        { "theme", offsetof (dt_event_t, theme) },
        { "body", offsetof (dt_event_t, body) }
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs [0]; i++) {
        const dt_str_t *sa = (const dt_str_t *) ((const char *) a + strs [i].offset);
        const dt_str_t *sb = (const dt_str_t *) ((const char *) b + strs [i].offset);
        FUZZ_ASSERT (fuzz_str_same (*sa, *sb), "round trip changed %s", strs [i].name);
    }
    FUZZ_ASSERT (a->occurred_at == b->occurred_at, "round trip changed occurred_at");
    FUZZ_ASSERT (a->track == b->track, "round trip changed track");
    FUZZ_ASSERT (a->received_at == b->received_at, "round trip changed received_at");
    FUZZ_ASSERT (a->lead == b->lead, "round trip changed lead");
    FUZZ_ASSERT (a->advisors == b->advisors, "round trip changed advisors");
    FUZZ_ASSERT (a->category == b->category, "round trip changed category");
    FUZZ_ASSERT (a->stage_index == b->stage_index, "round trip changed stage_index");
    FUZZ_ASSERT ((a->present | extra_present) == b->present,
                 "round trip changed present: %#x -> %#x", a->present, b->present);
    FUZZ_ASSERT (a->claim_count == b->claim_count, "round trip changed claim_count");
    for (uint32_t i = 0; i < a->claim_count; i++)
        FUZZ_ASSERT (msgpack_object_equal (a->claims [i].key, b->claims [i].key)
                  && msgpack_object_equal (a->claims [i].val, b->claims [i].val),
                     "round trip changed claim %u", i);
    FUZZ_ASSERT ((a->attrs == NULL) == (b->attrs == NULL), "round trip lost attrs");
    if (a->attrs)
        FUZZ_ASSERT (msgpack_object_equal (*a->attrs, *b->attrs), "round trip changed attrs");
}

//  Unpack bytes we packed ourselves: they must pass the scanner too
static void
fuzz_reread (msgpack_unpacked *result, const dt_buf_t *buf, const char *what)
{
    dt_error_t err;
    msgpack_unpacked_init (result);
    FUZZ_ASSERT (dt_msgpack_scan (buf->data, buf->size, NULL, &err) == 0,
                 "%s as packed is refused by the scanner: %s", what, err.message);
    FUZZ_ASSERT (dt_wire_unpack (result, buf->data, buf->size, &err) == 0,
                 "%s as packed does not unpack: %s", what, err.message);
}

//  A link item for a reject, packed and decoded again: the same reject
static inline void
fuzz_reject_round_trip (const dt_reject_t *r)
{
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    dt_item_pack_reject (&pk, r);
    msgpack_unpacked again;
    fuzz_reread (&again, &buf, "a reject item");
    dt_event_t event;
    dt_reject_t back;
    dt_error_t err;
    int kind = dt_item_decode (&again.data, fuzz_stages (), &event, &back, &err);
    FUZZ_ASSERT (kind == DT_ITEM_REJECT, "a packed reject does not decode: %s", err.message);
    size_t raw_size = r->raw_size > DT_RAW_MAX? DT_RAW_MAX: r->raw_size;
    FUZZ_ASSERT (back.received_at == r->received_at, "reject round trip changed received_at");
    FUZZ_ASSERT (back.track == r->track, "reject round trip changed track");
    FUZZ_ASSERT (back.index == r->index, "reject round trip changed index");
    FUZZ_ASSERT (fuzz_str_same (back.code, r->code)
              && fuzz_str_same (back.field, r->field)
              && fuzz_str_same (back.message, r->message)
              && fuzz_str_same (back.event_id, r->event_id),
                 "reject round trip changed a string");
    FUZZ_ASSERT (back.raw_size == raw_size
              && (raw_size == 0 || memcmp (back.raw, r->raw, raw_size) == 0),
                 "reject round trip changed raw");
    msgpack_unpacked_destroy (&again);
    dt_buf_free (&buf);
}

#endif
