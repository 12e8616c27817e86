/*  test_link.c - the link codec (proto/link.c): each message packed and
    opened again, malformed ones refused, and the exact bytes of some of
    them, so the wire between tracks and coordinators of different builds
    can not drift; the check API's request and reply likewise.
*/
#include "proto/link.h"
#include "base/buf.h"
#include "unit/proto/build.h"
#include "unit/testing.h"

#include <stdlib.h>

static slot_t S1;

//  Pack with fn into S1 and open it as a link message
#define OPEN_PACKED(msg, pack_call) ( \
    slot_clear (&S1), (pack_call), dt_link_open (slot_unpack (&S1), (msg)))

static bool
bytes_are (const char *want, size_t size)
{
    bool same = S1.m.sb.size == size && memcmp (S1.m.sb.data, want, size) == 0;
    if (!same) {
        fprintf (stderr, "  packed:");
        for (size_t i = 0; i < S1.m.sb.size; i++)
            fprintf (stderr, " %02x", (unsigned char) S1.m.sb.data [i]);
        fprintf (stderr, "\n");
    }
    return same;
}

static void
test_round_trips (void)
{
    dt_link_msg_t msg;
    CHECK_INT (OPEN_PACKED (&msg, dt_link_hello_pack (&S1.m.pk, "marketing")), 0);
    CHECK_INT (msg.type, DT_LINK_HELLO);
    CHECK (dt_str_eq (msg.track, "marketing") && dt_str_eq (msg.name, "hello"));
    CHECK_INT (msg.instance, 0);

    CHECK_INT (OPEN_PACKED (&msg, dt_link_ping_pack (&S1.m.pk, "sales")), 0);
    CHECK_INT (msg.type, DT_LINK_PING);
    CHECK (dt_str_eq (msg.track, "sales"));

    CHECK_INT (OPEN_PACKED (&msg, dt_link_credit_pack (&S1.m.pk, 77, 20000)), 0);
    CHECK_INT (msg.type, DT_LINK_CREDIT);
    CHECK_INT (msg.instance, 77);
    CHECK_INT (msg.credit, 20000);

    CHECK_INT (OPEN_PACKED (&msg, dt_link_pong_pack (&S1.m.pk, UINT64_MAX)), 0);
    CHECK_INT (msg.type, DT_LINK_PONG);
    CHECK (msg.instance == UINT64_MAX);

    CHECK_INT (OPEN_PACKED (&msg, dt_link_ack_pack (&S1.m.pk, 9, 101, 1100)), 0);
    CHECK_INT (msg.type, DT_LINK_ACK);
    CHECK_INT (msg.instance, 9);
    CHECK_INT (msg.first, 101);
    CHECK_INT (msg.upto, 1100);

    //  A batch: the head, then its items appended as the track does
    slot_clear (&S1);
    dt_link_batch_pack_head (&S1.m.pk, "sales", 41, 2);
    msgpack_pack_nil (&S1.m.pk);
    msgpack_pack_true (&S1.m.pk);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_BATCH);
    CHECK (dt_str_eq (msg.track, "sales"));
    CHECK_INT (msg.first, 41);
    CHECK (msg.items && msg.items->via.array.size == 2);
    const msgpack_object *items;
    dt_track_t track;
    uint64_t first;
    CHECK_INT (dt_link_batch_open (slot_unpack (&S1), &items, &track, &first), 0);
    CHECK_INT (track, DT_TRACK_SALES);
    CHECK_INT (first, 41);
    CHECK (items->via.array.ptr [1].type == MSGPACK_OBJECT_BOOLEAN);
}

//  The bytes on the wire: a change here breaks mixed versions
static void
test_golden_bytes (void)
{
    slot_clear (&S1);
    dt_link_hello_pack (&S1.m.pk, "marketing");
    static const char hello [] =
        "\x82" "\xa1" "t" "\xa5" "hello" "\xa5" "track" "\xa9" "marketing";
    CHECK (bytes_are (hello, sizeof hello - 1));

    slot_clear (&S1);
    dt_link_ping_pack (&S1.m.pk, "sales");
    static const char ping [] = "\x82" "\xa1" "t" "\xa4" "ping" "\xa5" "track" "\xa5" "sales";
    CHECK (bytes_are (ping, sizeof ping - 1));

    slot_clear (&S1);
    dt_link_ack_pack (&S1.m.pk, 1, 5, 300);
    static const char ack [] =
        "\x84" "\xa1" "t" "\xa3" "ack" "\xa8" "instance" "\x01"
        "\xa5" "first" "\x05" "\xa4" "upto" "\xcd\x01\x2c";
    CHECK (bytes_are (ack, sizeof ack - 1));

    slot_clear (&S1);
    dt_link_credit_pack (&S1.m.pk, 0x100000000ull, 20000);
    static const char credit [] =
        "\x83" "\xa1" "t" "\xa6" "credit" "\xa8" "instance" "\xcf\x00\x00\x00\x01\x00\x00\x00\x00"
        "\xa5" "items" "\xcd\x4e\x20";
    CHECK (bytes_are (credit, sizeof credit - 1));

    slot_clear (&S1);
    dt_link_pong_pack (&S1.m.pk, 7);
    static const char pong [] = "\x82" "\xa1" "t" "\xa4" "pong" "\xa8" "instance" "\x07";
    CHECK (bytes_are (pong, sizeof pong - 1));

    slot_clear (&S1);
    dt_link_batch_pack_head (&S1.m.pk, "sales", 70000, 3);
    static const char batch [] =
        "\x84" "\xa1" "t" "\xa5" "batch" "\xa5" "track" "\xa5" "sales"
        "\xa5" "first" "\xce\x00\x01\x11\x70" "\xa5" "items" "\x93";
    CHECK (bytes_are (batch, sizeof batch - 1));

    slot_clear (&S1);
    dt_check_request_pack_head (&S1.m.pk, 1, "sales", NULL);
    msgpack_pack_map (&S1.m.pk, 0);
    static const char request [] =
        "\x84" "\xa1" "v" "\x01" "\xa3" "req" "\x01" "\xa5" "track" "\xa5" "sales"
        "\xa5" "event" "\x80";
    CHECK (bytes_are (request, sizeof request - 1));
}

//  A map {"t": t, key: value} with value as given
static const msgpack_object *
pack_t_with (const char *t, const char *key, int value_kind)
{
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 2);
    pk_str (&S1.m.pk, "t");
    pk_str (&S1.m.pk, t);
    pk_str (&S1.m.pk, key);
    if (value_kind == 0)
        pk_str (&S1.m.pk, "5");
    else
        msgpack_pack_int (&S1.m.pk, -5);
    return slot_unpack (&S1);
}

static void
test_malformed (void)
{
    dt_link_msg_t msg;
    //  No link message at all
    slot_clear (&S1);
    msgpack_pack_array (&S1.m.pk, 0);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), -1);
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "t");
    msgpack_pack_int (&S1.m.pk, 1);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), -1);
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "track");
    pk_str (&S1.m.pk, "sales");
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), -1);

    //  Known types lacking their fields, or with them mistyped, and unknown
    //  types: opened, but not as anything to act on
    CHECK_INT (dt_link_open (pack_t_with ("ack", "first", 1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    CHECK_INT (dt_link_open (pack_t_with ("credit", "items", 0), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    CHECK_INT (dt_link_open (pack_t_with ("credit", "items", 1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    CHECK_INT (dt_link_open (pack_t_with ("batch", "items", 0), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    CHECK (dt_str_eq (msg.name, "batch"));
    CHECK_INT (dt_link_open (pack_t_with ("later", "x", 0), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    CHECK (dt_str_eq (msg.name, "later"));

    //  Batches: empty, without first, with an unknown track
    slot_clear (&S1);
    dt_link_batch_pack_head (&S1.m.pk, "sales", 1, 0);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    slot_clear (&S1);
    dt_link_batch_pack_head (&S1.m.pk, "support", 1, 1);
    msgpack_pack_nil (&S1.m.pk);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 3);
    pk_str (&S1.m.pk, "t");
    pk_str (&S1.m.pk, "batch");
    pk_str (&S1.m.pk, "track");
    pk_str (&S1.m.pk, "sales");
    pk_str (&S1.m.pk, "items");
    msgpack_pack_array (&S1.m.pk, 1);
    msgpack_pack_nil (&S1.m.pk);
    CHECK_INT (dt_link_open (slot_unpack (&S1), &msg), 0);
    CHECK_INT (msg.type, DT_LINK_UNKNOWN);
    const msgpack_object *items;
    dt_track_t track;
    uint64_t first;
    CHECK_INT (dt_link_batch_open (slot_unpack (&S1), &items, &track, &first), -1);
}

//  {"v": v, "req": req, "track": track, "event": {}}, each when given
static const msgpack_object *
pack_check (int v, int req, const char *track, bool event)
{
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, (v >= 0) + (req >= 0) + (track != NULL) + event);
    if (v >= 0) {
        pk_str (&S1.m.pk, "v");
        msgpack_pack_int (&S1.m.pk, v);
    }
    if (req >= 0) {
        pk_str (&S1.m.pk, "req");
        msgpack_pack_int (&S1.m.pk, req);
    }
    if (track) {
        pk_str (&S1.m.pk, "track");
        pk_str (&S1.m.pk, track);
    }
    if (event) {
        pk_str (&S1.m.pk, "event");
        msgpack_pack_map (&S1.m.pk, 0);
    }
    return slot_unpack (&S1);
}

static void
test_check_request (void)
{
    dt_check_request_t request;
    dt_error_t err;
    slot_clear (&S1);
    dt_check_request_pack_head (&S1.m.pk, 12, "marketing", NULL);
    evb_t b;
    evb_base (&b);
    evb_pack (&b, &S1.m);
    CHECK_INT (dt_check_request_open (slot_unpack (&S1), &request, &err), 0);
    CHECK (request.has_req && request.req == 12);
    CHECK_INT (request.track, DT_TRACK_MARKETING);
    CHECK (request.event && request.event->type == MSGPACK_OBJECT_MAP
           && request.event->via.map.size == (uint32_t) b.n);

    struct {
        int v, req;
        const char *track;
        bool event;
        const char *code, *field;
        bool has_req;
    } bad [] = {
        { 1, -1, "sales", true, "bad_request", "req", false },
        { -1, 3, "sales", true, "bad_request", "v", true },
        { 0, 3, "sales", true, "bad_request", "v", true },
        { 2, 3, "sales", true, "unsupported_version", "v", true },
        { 1, 3, NULL, true, "bad_request", "track", true },
        { 1, 3, "support", true, "bad_request", "track", true },
        { 1, 3, "sales", false, "bad_request", "event", true },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        memset (&err, 0, sizeof err);
        int rc = dt_check_request_open (pack_check (bad [i].v, bad [i].req, bad [i].track,
                                                    bad [i].event), &request, &err);
        CHECK_INT (rc, -1);
        CHECK_STR (err.code, bad [i].code);
        CHECK_STR (err.field, bad [i].field);
        CHECK (request.has_req == bad [i].has_req);
        if (rc != -1 || strcmp (err.field, bad [i].field))
            fprintf (stderr, "  ^ check request %zu\n", i);
    }
    //  Reservation options: packed and read back; defaults; each bad one named
    dt_check_options_t options = { true, 60000, -7, dt_str_c ("mail-tool") };
    slot_clear (&S1);
    dt_check_request_pack_head (&S1.m.pk, 13, "sales", &options);
    evb_pack (&b, &S1.m);
    CHECK_INT (dt_check_request_open (slot_unpack (&S1), &request, &err), 0);
    CHECK (request.options.reserve);
    CHECK_INT (request.options.ttl_ms, 60000);
    CHECK_INT (request.options.priority, -7);
    CHECK (dt_str_eq (request.options.owner, "mail-tool"));
    slot_clear (&S1);
    dt_check_request_pack_head (&S1.m.pk, 14, "sales", NULL);
    evb_pack (&b, &S1.m);
    CHECK_INT (dt_check_request_open (slot_unpack (&S1), &request, &err), 0);
    CHECK (!request.options.reserve);
    CHECK_INT (request.options.ttl_ms, DT_TTL_MS_DEFAULT);
    CHECK_INT (request.options.priority, 0);
    CHECK_INT (request.options.owner.len, 0);
    const char *fields [] = { "reserve", "ttl_ms", "ttl_ms", "priority", "owner" };
    for (int i = 0; i < 5; i++) {
        slot_clear (&S1);
        msgpack_pack_map (&S1.m.pk, 5);
        pk_str (&S1.m.pk, "v");
        msgpack_pack_uint8 (&S1.m.pk, 1);
        pk_str (&S1.m.pk, "req");
        msgpack_pack_uint8 (&S1.m.pk, 15);
        pk_str (&S1.m.pk, "track");
        pk_str (&S1.m.pk, "sales");
        pk_str (&S1.m.pk, fields [i]);
        if (i == 0)
            msgpack_pack_uint8 (&S1.m.pk, 1);       //  not a boolean
        else
        if (i == 1)
            msgpack_pack_int (&S1.m.pk, 999);       //  under a second
        else
        if (i == 2)
            pk_str (&S1.m.pk, "15m");
        else
        if (i == 3)
            msgpack_pack_int (&S1.m.pk, 1001);
        else
            pk_str (&S1.m.pk, "");
        pk_str (&S1.m.pk, "event");
        msgpack_pack_map (&S1.m.pk, 0);
        CHECK_INT (dt_check_request_open (slot_unpack (&S1), &request, &err), -1);
        CHECK_STR (err.code, "bad_request");
        CHECK_STR (err.field, fields [i]);
    }

    //  Not a map: no req to echo
    slot_clear (&S1);
    pk_str (&S1.m.pk, "check");
    CHECK_INT (dt_check_request_open (slot_unpack (&S1), &request, &err), -1);
    CHECK_STR (err.code, "bad_request");
    CHECK (!request.has_req);
}

static void
test_check_reply (void)
{
    dt_check_reply_t reply;
    slot_clear (&S1);
    dt_str_t contact_key = dt_str_c ("bob@acme.com");
    dt_check_reply_pack_head (&S1.m.pk, 5, "warn", dt_str_c ("acme.com"), &contact_key, 1, 0);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "rule");
    pk_str (&S1.m.pk, "collision");
    const msgpack_object *root = slot_unpack (&S1);
    CHECK_INT (dt_check_reply_open (root, &reply), 0);
    CHECK (reply.error == NULL);
    CHECK (dt_str_eq (reply.verdict, "warn"));
    CHECK (reply.findings && reply.findings->via.array.size == 1);
    CHECK (obj_is_uint (dt_map_get (root, "req"), 5));
    CHECK (obj_is_uint (dt_map_get (root, "v"), DT_PROTOCOL_VERSION));
    CHECK (dt_str_eq (dt_str_of (dt_map_get (root, "account_key")), "acme.com"));
    CHECK (dt_str_eq (dt_str_of (dt_map_get (root, "contact_key")), "bob@acme.com"));

    //  The error reply is the ingress one
    dt_error_t err;
    dt_error_set (&err, "missing_field", "stage", "stage: required");
    slot_clear (&S1);
    dt_reply_pack_error (&S1.m.pk, true, 5, &err);
    CHECK_INT (dt_check_reply_open (slot_unpack (&S1), &reply), 0);
    CHECK (reply.error && obj_is_str (dt_map_get (reply.error, "code"), "missing_field"));
    CHECK_INT (reply.verdict.len, 0);

    //  Neither
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "verdict");
    msgpack_pack_int (&S1.m.pk, 1);
    CHECK_INT (dt_check_reply_open (slot_unpack (&S1), &reply), -1);
}

int
main (void)
{
    slot_init (&S1);
    test_round_trips ();
    test_golden_bytes ();
    test_malformed ();
    test_check_request ();
    test_check_reply ();
    slot_free (&S1);
    return TESTING_DONE ();
}
