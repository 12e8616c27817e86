/*  seeds.c - writes the seed corpus for the fuzz targets: a few valid and
    almost-valid requests (ingress) and link batches (link), one file each.
    Usage: seeds INGRESS_DIR LINK_DIR (tests/fuzz/run calls it)
*/
#include "base/buf.h"
#include "proto/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
save (const char *dir, const char *name, const dt_buf_t *buf)
{
    char path [1024];
    snprintf (path, sizeof path, "%s/%s", dir, name);
    FILE *file = fopen (path, "wb");
    if (!file || fwrite (buf->data, 1, buf->size, file) != buf->size || fclose (file)) {
        perror (path);
        exit (1);
    }
}

static void
kv_str (msgpack_packer *pk, const char *key, const char *value)
{
    dt_pack_cstr (pk, key);
    dt_pack_cstr (pk, value);
}

static void
request_head (msgpack_packer *pk, uint64_t req, uint32_t events)
{
    msgpack_pack_map (pk, 3);
    dt_pack_cstr (pk, "v");
    msgpack_pack_uint8 (pk, 1);
    dt_pack_cstr (pk, "req");
    msgpack_pack_uint64 (pk, req);
    dt_pack_cstr (pk, "events");
    msgpack_pack_array (pk, events);
}

//  The seven required fields; extra more entries follow
static void
event_head (msgpack_packer *pk, const char *id, const char *stage, uint32_t extra)
{
    msgpack_pack_map (pk, 7 + extra);
    kv_str (pk, "id", id);
    kv_str (pk, "source", "crm");
    kv_str (pk, "account", "acme");
    kv_str (pk, "stage", stage);
    kv_str (pk, "channel", "email");
    kv_str (pk, "kind", "sent");
    dt_pack_cstr (pk, "occurred_at");
    msgpack_pack_int64 (pk, 1700000000000LL);
}

static void
full_event (msgpack_packer *pk, const char *id)
{
    event_head (pk, id, "interest", 10);
    kv_str (pk, "contact", "jane@acme.example");
    kv_str (pk, "actor", "Zoë Müller");
    kv_str (pk, "project", "東京 launch");
    kv_str (pk, "theme", "pricing");
    kv_str (pk, "body", "Hello,\nthe offer stands.");
    dt_pack_cstr (pk, "claims");
    msgpack_pack_map (pk, 2);
    kv_str (pk, "tier", "gold");
    kv_str (pk, "region", "emea");
    dt_pack_cstr (pk, "attrs");
    msgpack_pack_map (pk, 3);
    dt_pack_cstr (pk, "score");
    msgpack_pack_double (pk, 0.75);
    dt_pack_cstr (pk, "tags");
    msgpack_pack_array (pk, 4);
    msgpack_pack_int32 (pk, -3);
    dt_pack_cstr (pk, "x");
    msgpack_pack_nil (pk);
    msgpack_pack_true (pk);
    dt_pack_cstr (pk, "nested");
    msgpack_pack_map (pk, 1);
    dt_pack_cstr (pk, "a");
    msgpack_pack_map (pk, 1);
    dt_pack_cstr (pk, "b");
    msgpack_pack_float (pk, 1.5f);
    dt_pack_cstr (pk, "lead");
    dt_pack_cstr (pk, "marketing");
    dt_pack_cstr (pk, "advisors");
    msgpack_pack_array (pk, 1);
    dt_pack_cstr (pk, "sales");
    kv_str (pk, "category", "promotional");
}

int
main (int argc, char *argv [])
{
    if (argc != 3) {
        fprintf (stderr, "usage: seeds INGRESS_DIR LINK_DIR\n");
        return 2;
    }
    const char *ingress = argv [1], *link = argv [2];
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);

    request_head (&pk, 1, 1);
    event_head (&pk, "evt-1", "awareness", 0);
    save (ingress, "minimal", &buf);

    dt_buf_reset (&buf);
    request_head (&pk, 2, 1);
    full_event (&pk, "evt-full");
    save (ingress, "full", &buf);
    dt_buf_t full = buf;
    buf = (dt_buf_t) { 0 };
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);

    //  A mix of good and bad events, nil optionals, the sales side
    request_head (&pk, 3, 6);
    event_head (&pk, "evt-ok", "purchase", 3);
    kv_str (&pk, "lead", "sales");
    dt_pack_cstr (&pk, "contact");
    msgpack_pack_nil (&pk);
    dt_pack_cstr (&pk, "advisors");
    msgpack_pack_array (&pk, 1);
    dt_pack_cstr (&pk, "marketing");
    event_head (&pk, "evt-bad-stage", "nowhere", 0);
    event_head (&pk, "evt-unknown", "intent", 1);
    kv_str (&pk, "colour", "red");
    event_head (&pk, "evt-track", "intent", 1);
    kv_str (&pk, "track", "sales");
    msgpack_pack_map (&pk, 2);
    kv_str (&pk, "id", "evt-short");
    msgpack_pack_uint8 (&pk, 7);
    msgpack_pack_nil (&pk);
    msgpack_pack_array (&pk, 0);
    save (ingress, "mixed", &buf);

    //  Optional fields gone wrong, one event each
    dt_buf_reset (&buf);
    request_head (&pk, 4, 7);
    event_head (&pk, "evt-claims", "intent", 1);
    dt_pack_cstr (&pk, "claims");
    msgpack_pack_map (&pk, 2);
    kv_str (&pk, "k", "v");
    kv_str (&pk, "k", "w");
    event_head (&pk, "evt-attrs-deep", "intent", 1);
    dt_pack_cstr (&pk, "attrs");
    for (int i = 0; i < 9; i++) {
        msgpack_pack_map (&pk, 1);
        dt_pack_cstr (&pk, "d");
    }
    msgpack_pack_nil (&pk);
    event_head (&pk, "evt-attrs-bin", "intent", 1);
    dt_pack_cstr (&pk, "attrs");
    msgpack_pack_map (&pk, 2);
    dt_pack_cstr (&pk, "b");
    msgpack_pack_bin (&pk, 2);
    msgpack_pack_bin_body (&pk, "\x00\x01", 2);
    msgpack_pack_uint8 (&pk, 1);
    msgpack_pack_double (&pk, 1.0 / 0.0);
    event_head (&pk, "evt-advisors", "awareness", 2);
    kv_str (&pk, "lead", "sales");
    dt_pack_cstr (&pk, "advisors");
    msgpack_pack_array (&pk, 2);
    dt_pack_cstr (&pk, "sales");
    dt_pack_cstr (&pk, "sales");
    event_head (&pk, "evt-category", "awareness", 1);
    kv_str (&pk, "category", "transactional");
    event_head (&pk, "evt-time", "awareness", 1);
    kv_str (&pk, "body", "");
    event_head (&pk, "évt-ünïcode", "évaluation", 1);
    kv_str (&pk, "theme", "\xc3");
    save (ingress, "optional", &buf);

    //  Just past each size limit, so the fuzzer starts from large inputs
    static char big [DT_BODY_MAX + 1];
    memset (big, 'x', sizeof big);
    dt_buf_reset (&buf);
    request_head (&pk, 5, 5);
    event_head (&pk, "evt-long-kind", "intent", 1);
    dt_pack_cstr (&pk, "theme");
    dt_str_t text = { big, DT_TEXT_MAX + 1 };
    dt_pack_str (&pk, text);
    event_head (&pk, "evt-long-body", "intent", 1);
    dt_pack_cstr (&pk, "body");
    dt_str_t body = { big, DT_BODY_MAX + 1 };
    dt_pack_str (&pk, body);
    event_head (&pk, "evt-many-claims", "intent", 1);
    dt_pack_cstr (&pk, "claims");
    msgpack_pack_map (&pk, DT_CLAIMS_MAX + 1);
    for (int i = 0; i < DT_CLAIMS_MAX + 1; i++) {
        char key [16];
        snprintf (key, sizeof key, "k%d", i);
        kv_str (&pk, key, "v");
    }
    event_head (&pk, "evt-big-attrs", "intent", 1);
    dt_pack_cstr (&pk, "attrs");
    msgpack_pack_map (&pk, 1);
    dt_pack_cstr (&pk, "s");
    dt_str_t blob = { big, DT_ATTRS_MAX };
    dt_pack_str (&pk, blob);
    msgpack_pack_map (&pk, 7);
    dt_pack_cstr (&pk, "id");
    msgpack_pack_nil (&pk);
    kv_str (&pk, "source", "crm");
    kv_str (&pk, "account", "acme");
    kv_str (&pk, "stage", "intent");
    kv_str (&pk, "channel", "email");
    kv_str (&pk, "kind", "sent");
    dt_pack_cstr (&pk, "occurred_at");
    msgpack_pack_int64 (&pk, 1700000000000LL);
    save (ingress, "limits", &buf);

    dt_buf_reset (&buf);
    request_head (&pk, 6, DT_EVENTS_MAX + 1);
    for (int i = 0; i < DT_EVENTS_MAX + 1; i++)
        event_head (&pk, "evt-many", "intent", 0);
    save (ingress, "too-many-events", &buf);

    dt_buf_reset (&buf);
    msgpack_pack_map (&pk, 3);
    dt_pack_cstr (&pk, "v");
    msgpack_pack_uint8 (&pk, 2);
    dt_pack_cstr (&pk, "req");
    msgpack_pack_uint8 (&pk, 9);
    dt_pack_cstr (&pk, "events");
    msgpack_pack_array (&pk, 0);
    save (ingress, "bad-version", &buf);

    //  Link batches: stamped events from the seeds above, and a reject
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    dt_request_t request;
    dt_stageset_t stages;
    dt_stageset_default (&stages);
    dt_event_t event;
    if (dt_wire_unpack (&unpacked, full.data, full.size, &err)
    ||  dt_request_parse (&unpacked.data, &request, &err)
    ||  dt_event_decode (&request.events [0], &stages, DT_FORM_INGRESS, DT_TRACK_MARKETING,
                         &event, &err)) {
        fprintf (stderr, "seeds: the full event does not decode: %s\n", err.message);
        return 1;
    }
    event.received_at = 1700000000123456LL;
    dt_reject_t reject = {
        .received_at = 1700000000123457LL, .track = DT_TRACK_MARKETING, .index = 1,
        .code = dt_str_c ("bad_value"), .field = dt_str_c ("stage"),
        .message = dt_str_c ("stage: 'nowhere' is not a configured funnel stage"),
        .event_id = dt_str_c ("evt-bad-stage"), .raw = "\x81\xa2id\xa1x", .raw_size = 6
    };
    dt_buf_reset (&buf);
    msgpack_pack_map (&pk, 4);
    kv_str (&pk, "t", "batch");
    kv_str (&pk, "track", "marketing");
    dt_pack_cstr (&pk, "first");
    msgpack_pack_uint64 (&pk, 41);
    dt_pack_cstr (&pk, "items");
    msgpack_pack_array (&pk, 2);
    dt_item_pack_event (&pk, &event);
    dt_item_pack_reject (&pk, &reject);
    save (link, "batch", &buf);

    dt_buf_reset (&buf);
    event.present = 0;
    event.claim_count = 0;
    event.attrs = NULL;
    event.track = DT_TRACK_SALES;
    event.lead = DT_TRACK_SALES;
    event.advisors = 0;
    msgpack_pack_map (&pk, 4);
    kv_str (&pk, "t", "batch");
    kv_str (&pk, "track", "sales");
    dt_pack_cstr (&pk, "first");
    msgpack_pack_uint64 (&pk, 1);
    dt_pack_cstr (&pk, "items");
    msgpack_pack_array (&pk, 1);
    dt_item_pack_event (&pk, &event);
    save (link, "batch-minimal", &buf);

    msgpack_unpacked_destroy (&unpacked);
    dt_buf_free (&full);
    dt_buf_free (&buf);
    return 0;
}
