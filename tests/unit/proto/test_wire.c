/*  test_wire.c - the wire frames (proto/wire.c): one msgpack value per
    frame, the ingress request envelope, replies with results and errors,
    link items (events and rejects) and the map helpers. Inputs are built as
    a daemon would receive them (tests/unit/proto/build.h).
*/
#include "proto/wire.h"
#include "unit/proto/build.h"
#include "unit/testing.h"

#include <stdlib.h>

static dt_stageset_t stages;
static slot_t S1;

//  --------------------------------------------------------------------------
//  Wire: frames and requests

static void
test_wire_unpack (void)
{
    msgpack_unpacked up;
    dt_error_t err;
    mp_t m;
    mp_init (&m);

    msgpack_unpacked_init (&up);
    memset (&err, 0, sizeof err);
    CHECK_INT (dt_wire_unpack (&up, "", 0, &err), -1);
    CHECK_STR (err.code, "bad_request");
    CHECK_STR (err.field, "");
    CHECK (strstr (err.message, "empty") != NULL);
    msgpack_unpacked_destroy (&up);

    const struct { const char *data; size_t size; } bad [] = {
        { "\xc1", 1 },                              //  never used
        { "\xc1\xc1\xc1\xc1", 4 },
        { "\x82\xa1v\x01", 4 },                     //  map of 2 with 1 entry: truncated
        { "\x81\xa1", 2 },
        { "\xdb\x00\x00\x00\x10" "abc", 8 },        //  str32 longer than the frame
        { "\x81\xa1v\x01\x00", 5 },                 //  one byte after the map
        { "\x80\x80", 2 },                          //  two maps
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        msgpack_unpacked_init (&up);
        memset (&err, 0, sizeof err);
        int rc = dt_wire_unpack (&up, bad [i].data, bad [i].size, &err);
        CHECK_INT (rc, -1);
        CHECK_STR (err.code, "bad_request");
        CHECK (err.message [0] != 0);
        if (rc != -1)
            fprintf (stderr, "  ^ frame %zu accepted\n", i);
        msgpack_unpacked_destroy (&up);
    }
    //  Trailing bytes are counted in the message
    msgpack_unpacked_init (&up);
    CHECK_INT (dt_wire_unpack (&up, "\x80\x01\x02\x03", 4, &err), -1);
    CHECK (strstr (err.message, "3 bytes") != NULL);
    msgpack_unpacked_destroy (&up);

    //  One map, exactly
    msgpack_pack_map (&m.pk, 1);
    pk_str (&m.pk, "v");
    msgpack_pack_int (&m.pk, 1);
    msgpack_unpacked_init (&up);
    CHECK_INT (dt_wire_unpack (&up, m.sb.data, m.sb.size, &err), 0);
    CHECK (up.data.type == MSGPACK_OBJECT_MAP && obj_is_uint (dt_map_get (&up.data, "v"), 1));
    msgpack_unpacked_destroy (&up);
    mp_free (&m);
}

typedef struct {
    int v;                  //  -1: absent, -2: string "1"
    int req;                //  -1: absent, -2: string, -3: negative
    int events;             //  -1: absent, -2: a map, -3: nil; else that many events
    bool extra;
    bool int_key;
} reqspec_t;

static void
pack_request (mp_t *m, const reqspec_t *r)
{
    size_t n = (r->v != -1) + (r->req != -1) + (r->events != -1) + r->extra + r->int_key;
    msgpack_pack_map (&m->pk, n);
    if (r->extra) {
        pk_str (&m->pk, "track");
        pk_str (&m->pk, "sales");
    }
    if (r->req != -1) {
        pk_str (&m->pk, "req");
        if (r->req == -2)
            pk_str (&m->pk, "7");
        else
        if (r->req == -3)
            msgpack_pack_int (&m->pk, -7);
        else
            msgpack_pack_uint64 (&m->pk, (uint64_t) r->req);
    }
    if (r->v != -1) {
        pk_str (&m->pk, "v");
        if (r->v == -2)
            pk_str (&m->pk, "1");
        else
            msgpack_pack_int (&m->pk, r->v);
    }
    if (r->int_key) {
        msgpack_pack_int (&m->pk, 1);
        msgpack_pack_int (&m->pk, 1);
    }
    if (r->events != -1) {
        pk_str (&m->pk, "events");
        if (r->events == -2)
            msgpack_pack_map (&m->pk, 0);
        else
        if (r->events == -3)
            msgpack_pack_nil (&m->pk);
        else {
            msgpack_pack_array (&m->pk, (size_t) r->events);
            for (int i = 0; i < r->events; i++)
                msgpack_pack_map (&m->pk, 0);
        }
    }
}

static void
test_request_parse (void)
{
    struct {
        reqspec_t spec;
        const char *code;           //  NULL: parses
        const char *field;
        bool has_req;
    } cases [] = {
        { { 1, 7, 1, false, false }, NULL, "", true },
        { { 1, 7, 1000, false, false }, NULL, "", true },
        { { 1, 0, 1, false, false }, NULL, "", true },
        { { 1, -1, 1, false, false }, "bad_request", "req", false },     //  missing req
        { { 1, -2, 1, false, false }, "bad_request", "req", false },     //  req a string
        { { 1, -3, 1, false, false }, "bad_request", "req", false },     //  req negative
        { { 1, 7, 1, true, false }, "bad_request", "", true },           //  extra key
        { { 1, 7, 1, false, true }, "bad_request", "", true },           //  non-string key
        { { -1, 7, 1, false, false }, "bad_request", "v", true },        //  missing v
        { { -2, 7, 1, false, false }, "bad_request", "v", true },        //  v a string
        { { 2, 7, 1, false, false }, "unsupported_version", "v", true },
        { { 0, 7, 1, false, false }, "unsupported_version", "v", true },
        { { 1, 7, -1, false, false }, "bad_request", "events", true },   //  missing events
        { { 1, 7, -2, false, false }, "bad_request", "events", true },   //  a map
        { { 1, 7, -3, false, false }, "bad_request", "events", true },   //  nil
        { { 1, 7, 0, false, false }, "too_many_events", "events", true },
        { { 1, 7, 1001, false, false }, "too_many_events", "events", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases [0]; i++) {
        slot_clear (&S1);
        pack_request (&S1.m, &cases [i].spec);
        const msgpack_object *root = slot_unpack (&S1);
        dt_request_t req;
        dt_error_t err;
        memset (&err, 0, sizeof err);
        memset (&req, 0xff, sizeof req);
        int rc = dt_request_parse (root, &req, &err);
        int before = testing_failed;
        if (cases [i].code) {
            CHECK_INT (rc, -1);
            CHECK_STR (err.code, cases [i].code);
            CHECK_STR (err.field, cases [i].field);
            CHECK (err.message [0] != 0);
        }
        else {
            CHECK_INT (rc, 0);
            CHECK_INT (req.count, cases [i].spec.events);
            CHECK (req.events == root->via.map.ptr [2].val.via.array.ptr);
        }
        CHECK_INT (req.has_req, cases [i].has_req);
        if (cases [i].has_req)
            CHECK_INT (req.req, cases [i].spec.req);
        if (testing_failed > before)
            fprintf (stderr, "  ^ request case %zu (%s %s: \"%s\")\n", i,
                     err.code? err.code: "", err.field, err.message);
    }
    //  A large req is echoed whole
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 3);
    pk_str (&S1.m.pk, "v");
    msgpack_pack_int (&S1.m.pk, 2);
    pk_str (&S1.m.pk, "req");
    msgpack_pack_uint64 (&S1.m.pk, UINT64_MAX);
    pk_str (&S1.m.pk, "events");
    msgpack_pack_array (&S1.m.pk, 0);
    dt_request_t req;
    dt_error_t err;
    CHECK_INT (dt_request_parse (slot_unpack (&S1), &req, &err), -1);
    CHECK_STR (err.code, "unsupported_version");
    CHECK (req.has_req && req.req == UINT64_MAX);

    //  Not a map
    const char *roots [] = { "\x90", "\xc0", "\xa3" "abc", "\x01" };
    for (size_t i = 0; i < sizeof roots / sizeof roots [0]; i++) {
        slot_clear (&S1);
        msgpack_sbuffer_write (&S1.m.sb, roots [i], strlen (roots [i]));
        memset (&err, 0, sizeof err);
        CHECK_INT (dt_request_parse (slot_unpack (&S1), &req, &err), -1);
        CHECK_STR (err.code, "bad_request");
        CHECK_STR (err.field, "");
        CHECK (!req.has_req);
    }
}

//  --------------------------------------------------------------------------
//  Wire: replies

static void
test_reply_error (void)
{
    dt_error_t err;
    dt_error_set (&err, "bad_request", "", "frame is not msgpack");
    slot_clear (&S1);
    dt_reply_pack_error (&S1.m.pk, false, 0, &err);
    const msgpack_object *root = slot_unpack (&S1);
    CHECK (root->type == MSGPACK_OBJECT_MAP && root->via.map.size == 3);
    CHECK (obj_is_uint (dt_map_get (root, "v"), 1));
    const msgpack_object *req = dt_map_get (root, "req");
    CHECK (req && req->type == MSGPACK_OBJECT_NIL);
    const msgpack_object *e = dt_map_get (root, "error");
    CHECK (e && e->type == MSGPACK_OBJECT_MAP && e->via.map.size == 2);
    if (e) {
        CHECK (obj_is_str (dt_map_get (e, "code"), "bad_request"));
        CHECK (obj_is_str (dt_map_get (e, "message"), "frame is not msgpack"));
        CHECK (dt_map_get (e, "field") == NULL);
    }

    dt_error_set (&err, "unsupported_version", "v", "v: version %d is not supported", 2);
    slot_clear (&S1);
    dt_reply_pack_error (&S1.m.pk, true, 42, &err);
    root = slot_unpack (&S1);
    CHECK (root->type == MSGPACK_OBJECT_MAP && root->via.map.size == 3);
    CHECK (obj_is_uint (dt_map_get (root, "v"), 1));
    CHECK (obj_is_uint (dt_map_get (root, "req"), 42));
    e = dt_map_get (root, "error");
    CHECK (e && e->type == MSGPACK_OBJECT_MAP && e->via.map.size == 3);
    if (e) {
        CHECK (obj_is_str (dt_map_get (e, "code"), "unsupported_version"));
        CHECK (obj_is_str (dt_map_get (e, "message"), "v: version 2 is not supported"));
        CHECK (obj_is_str (dt_map_get (e, "field"), "v"));
    }
    CHECK (dt_map_get (root, "accepted") == NULL);

    //  req 0 is a req, not nil
    slot_clear (&S1);
    dt_reply_pack_error (&S1.m.pk, true, 0, &err);
    root = slot_unpack (&S1);
    CHECK (obj_is_uint (dt_map_get (root, "req"), 0));
    slot_clear (&S1);
    dt_reply_pack_error (&S1.m.pk, true, UINT64_MAX, &err);
    root = slot_unpack (&S1);
    CHECK (obj_is_uint (dt_map_get (root, "req"), UINT64_MAX));
}

static void
test_reply_result (void)
{
    dt_rejection_t rej [2];
    memset (rej, 0, sizeof rej);
    rej [0].index = 3;
    strcpy (rej [0].id, "ev-7");
    dt_error_set (&rej [0].error, "bad_value", "stage", "stage: 'x' is not a configured funnel stage");
    rej [1].index = 999;
    dt_error_set (&rej [1].error, "not_a_map", "", "an event must be a map, got an integer");

    slot_clear (&S1);
    dt_reply_pack_result (&S1.m.pk, 9, 998, rej, 2);
    const msgpack_object *root = slot_unpack (&S1);
    CHECK (root->type == MSGPACK_OBJECT_MAP && root->via.map.size == 4);
    CHECK (obj_is_uint (dt_map_get (root, "v"), 1));
    CHECK (obj_is_uint (dt_map_get (root, "req"), 9));
    CHECK (obj_is_uint (dt_map_get (root, "accepted"), 998));
    CHECK (dt_map_get (root, "error") == NULL);
    const msgpack_object *list = dt_map_get (root, "rejected");
    CHECK (list && list->type == MSGPACK_OBJECT_ARRAY && list->via.array.size == 2);
    if (list && list->type == MSGPACK_OBJECT_ARRAY && list->via.array.size == 2) {
        const msgpack_object *r = &list->via.array.ptr [0];
        CHECK (r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 5);
        CHECK (obj_is_uint (dt_map_get (r, "index"), 3));
        CHECK (obj_is_str (dt_map_get (r, "id"), "ev-7"));
        CHECK (obj_is_str (dt_map_get (r, "code"), "bad_value"));
        CHECK (obj_is_str (dt_map_get (r, "field"), "stage"));
        CHECK (obj_is_str (dt_map_get (r, "error"), "stage: 'x' is not a configured funnel stage"));
        r = &list->via.array.ptr [1];
        CHECK (r->type == MSGPACK_OBJECT_MAP && r->via.map.size == 5);
        CHECK (obj_is_uint (dt_map_get (r, "index"), 999));
        const msgpack_object *id = dt_map_get (r, "id");
        CHECK (id && id->type == MSGPACK_OBJECT_NIL);
        CHECK (obj_is_str (dt_map_get (r, "code"), "not_a_map"));
        CHECK (obj_is_str (dt_map_get (r, "field"), ""));
        CHECK (obj_is_str (dt_map_get (r, "error"), "an event must be a map, got an integer"));
    }

    //  All accepted: an empty rejected array
    slot_clear (&S1);
    dt_reply_pack_result (&S1.m.pk, 0, 1000, NULL, 0);
    root = slot_unpack (&S1);
    CHECK (obj_is_uint (dt_map_get (root, "req"), 0));
    CHECK (obj_is_uint (dt_map_get (root, "accepted"), 1000));
    list = dt_map_get (root, "rejected");
    CHECK (list && list->type == MSGPACK_OBJECT_ARRAY && list->via.array.size == 0);
}

//  --------------------------------------------------------------------------
//  Wire: link items

static void
test_item_reject (void)
{
    static char raw [DT_RAW_MAX + 100];
    for (size_t i = 0; i < sizeof raw; i++)
        raw [i] = (char) (i * 7);

    dt_reject_t in;
    memset (&in, 0, sizeof in);
    in.received_at = T_RCV;
    in.track = S;
    in.code = dt_str_c ("unknown_field");
    in.field = dt_str_c ("colour");
    in.message = dt_str_c ("colour: unknown field\twith a tab");
    in.event_id = dt_str_c ("ev-9");
    in.index = 3;
    in.raw = raw;
    in.raw_size = 40;

    dt_event_t ev;
    dt_reject_t out;
    dt_error_t err;
    slot_clear (&S1);
    dt_item_pack_reject (&S1.m.pk, &in);
    memset (&err, 0, sizeof err);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), DT_ITEM_REJECT);
    CHECK_INT (out.received_at, T_RCV);
    CHECK_INT (out.track, S);
    CHECK (dt_str_eq (out.code, "unknown_field"));
    CHECK (dt_str_eq (out.field, "colour"));
    CHECK (dt_str_eq (out.message, "colour: unknown field\twith a tab"));
    CHECK (dt_str_eq (out.event_id, "ev-9"));
    CHECK_INT (out.index, 3);
    CHECK (out.raw_size == 40 && memcmp (out.raw, raw, 40) == 0);

    //  A frame reject: no event id, index -1, empty field, empty raw
    in.track = M;
    in.event_id = dt_str_c ("");
    in.field = dt_str_c ("");
    in.index = -1;
    in.raw_size = 0;
    in.received_at = 0;
    slot_clear (&S1);
    dt_item_pack_reject (&S1.m.pk, &in);
    const msgpack_object *obj = slot_unpack (&S1);
    CHECK (obj->type == MSGPACK_OBJECT_ARRAY && obj->via.array.size == 2);
    if (obj->type == MSGPACK_OBJECT_ARRAY && obj->via.array.size == 2) {
        const msgpack_object *id = dt_map_get (&obj->via.array.ptr [1], "event_id");
        CHECK (id && id->type == MSGPACK_OBJECT_NIL);
    }
    CHECK_INT (dt_item_decode (obj, &stages, &ev, &out, &err), DT_ITEM_REJECT);
    CHECK_INT (out.track, M);
    CHECK_INT (out.event_id.len, 0);
    CHECK_INT (out.index, -1);
    CHECK_INT (out.field.len, 0);
    CHECK_INT (out.raw_size, 0);
    CHECK_INT (out.received_at, 0);

    //  The last index of a request; raw capped at 64 KiB
    in.index = DT_EVENTS_MAX - 1;
    in.raw_size = sizeof raw;
    slot_clear (&S1);
    dt_item_pack_reject (&S1.m.pk, &in);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), DT_ITEM_REJECT);
    CHECK_INT (out.index, DT_EVENTS_MAX - 1);
    CHECK (out.raw_size == DT_RAW_MAX && memcmp (out.raw, raw, DT_RAW_MAX) == 0);
    in.raw_size = DT_RAW_MAX;
    slot_clear (&S1);
    dt_item_pack_reject (&S1.m.pk, &in);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), DT_ITEM_REJECT);
    CHECK_INT (out.raw_size, DT_RAW_MAX);
}

//  A reject item map with one thing changed
static void
pack_reject_body (msgpack_packer *pk, int change)
{
    //  change: 0 none, 1 no raw, 2 raw a string, 3 received_at negative,
    //  4 code invalid UTF-8, 5 track an integer, 6 no error, 7 field nil
    msgpack_pack_map (pk, change == 1 || change == 6? 7: 8);
    pk_str (pk, "index");
    msgpack_pack_int (pk, 0);
    pk_str (pk, "received_at");
    msgpack_pack_int64 (pk, change == 3? -5: T_RCV);
    pk_str (pk, "track");
    if (change == 5)
        msgpack_pack_int (pk, 1);
    else
        pk_str (pk, "sales");
    pk_str (pk, "code");
    if (change == 4)
        pk_strn (pk, "bad\xff", 4);
    else
        pk_str (pk, "bad_value");
    pk_str (pk, "field");
    if (change == 7)
        msgpack_pack_nil (pk);
    else
        pk_str (pk, "stage");
    if (change != 6) {
        pk_str (pk, "error");
        pk_str (pk, "stage: no");
    }
    pk_str (pk, "event_id");
    pk_str (pk, "ev-1");
    if (change != 1) {
        pk_str (pk, "raw");
        if (change == 2)
            pk_str (pk, "abc");
        else {
            msgpack_pack_bin (pk, 3);
            msgpack_pack_bin_body (pk, "abc", 3);
        }
    }
}

static void
test_item_bad (void)
{
    dt_event_t ev;
    dt_reject_t out;
    dt_error_t err;

    //  Envelopes that are not [kind, body]
    for (int shape = 0; shape < 7; shape++) {
        slot_clear (&S1);
        msgpack_packer *pk = &S1.m.pk;
        switch (shape) {
            case 0: msgpack_pack_nil (pk); break;
            case 1: msgpack_pack_array (pk, 1); msgpack_pack_int (pk, 0); break;
            case 2: msgpack_pack_array (pk, 3); msgpack_pack_int (pk, 1);
                    pack_reject_body (pk, 0); msgpack_pack_nil (pk); break;
            case 3: msgpack_pack_array (pk, 2); pk_str (pk, "1"); pack_reject_body (pk, 0); break;
            case 4: msgpack_pack_array (pk, 2); msgpack_pack_int (pk, -1); pack_reject_body (pk, 0); break;
            case 5: msgpack_pack_array (pk, 2); msgpack_pack_int (pk, 2); pack_reject_body (pk, 0); break;
            case 6: msgpack_pack_map (pk, 2); msgpack_pack_int (pk, 1); pack_reject_body (pk, 0);
                    pk_str (pk, "x"); msgpack_pack_nil (pk); break;
        }
        memset (&err, 0, sizeof err);
        int rc = dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err);
        CHECK_INT (rc, -1);
        CHECK_STR (err.code, "bad_link_item");
        if (rc != -1 || !err.code || strcmp (err.code, "bad_link_item"))
            fprintf (stderr, "  ^ item shape %d\n", shape);
    }
    //  The good reject body decodes
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 1);
    pack_reject_body (&S1.m.pk, 0);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), DT_ITEM_REJECT);
    CHECK (dt_str_eq (out.field, "stage") && dt_str_eq (out.event_id, "ev-1"));
    //  Reject bodies lacking a field, or with a wrong one
    for (int change = 1; change <= 7; change++) {
        slot_clear (&S1);
        msgpack_pack_array (&S1.m.pk, 2);
        msgpack_pack_int (&S1.m.pk, 1);
        pack_reject_body (&S1.m.pk, change);
        memset (&err, 0, sizeof err);
        int rc = dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err);
        CHECK_INT (rc, -1);
        CHECK_STR (err.code, "bad_link_item");
        if (rc != -1)
            fprintf (stderr, "  ^ reject change %d accepted\n", change);
    }
    //  A reject body that is not a map
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "reject");
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), -1);
    CHECK_STR (err.code, "bad_link_item");

    //  Event items are validated as stamped events
    evb_t b;
    evb_base (&b);
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 0);
    evb_pack (&b, &S1.m);
    memset (&err, 0, sizeof err);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), -1);
    CHECK_STR (err.code, "missing_field");
    CHECK_STR (err.field, "track");

    evb_str (&b, "track", "sales");
    evb_int (&b, "received_at", T_RCV);
    evb_str (&b, "stage", "nowhere");
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 0);
    evb_pack (&b, &S1.m);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), -1);
    CHECK_STR (err.code, "bad_value");
    CHECK_STR (err.field, "stage");

    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 0);
    msgpack_pack_array (&S1.m.pk, 0);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), -1);
    CHECK_STR (err.code, "not_a_map");

    evb_str (&b, "stage", "intent");
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 2);
    msgpack_pack_int (&S1.m.pk, 0);
    evb_pack (&b, &S1.m);
    CHECK_INT (dt_item_decode (slot_unpack (&S1), &stages, &ev, &out, &err), DT_ITEM_EVENT);
    CHECK_INT (ev.track, S);
    CHECK_INT (ev.received_at, T_RCV);
    CHECK_INT (ev.stage_index, 3);
}

static void
test_map_helpers (void)
{
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 3);
    msgpack_pack_int (&S1.m.pk, 5);
    pk_str (&S1.m.pk, "int key");
    pk_str (&S1.m.pk, "a");
    msgpack_pack_uint64 (&S1.m.pk, 12);
    pk_str (&S1.m.pk, "b");
    msgpack_pack_int (&S1.m.pk, -12);
    const msgpack_object *root = slot_unpack (&S1);
    uint64_t value = 0;
    CHECK (dt_map_get (root, "a") != NULL);
    CHECK (dt_map_get (root, "c") == NULL);
    CHECK (dt_map_get (root, "") == NULL);
    CHECK (dt_map_uint (root, "a", &value) && value == 12);
    CHECK (!dt_map_uint (root, "b", &value));
    CHECK (!dt_map_uint (root, "c", &value));
    CHECK (dt_map_get (&root->via.map.ptr [1].val, "a") == NULL);     //  not a map
}

int
main (void)
{
    dt_stageset_default (&stages);
    slot_init (&S1);

    test_wire_unpack ();
    test_request_parse ();
    test_reply_error ();
    test_reply_result ();
    test_item_reject ();
    test_item_bad ();
    test_map_helpers ();

    slot_free (&S1);
    return TESTING_DONE ();
}
