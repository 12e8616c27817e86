/*  test_catchup.c - the catch-up API's codec (proto/catchup.c): request and
    reply packed and opened again, the exact bytes of each, so clients and
    coordinators of different builds agree, and malformed requests refused
    with the field named.
*/
#include "proto/catchup.h"
#include "unit/proto/build.h"
#include "unit/testing.h"

static slot_t S1;

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
test_request (void)
{
    slot_clear (&S1);
    dt_catchup_request_pack (&S1.m.pk, 7, 300, "sales.", 500);
    //  {"v":1,"req":7,"after":300,"prefix":"sales.","limit":500}
    static const char want [] =
        "\x85\xa1v\x01\xa3req\x07\xa5" "after\xcd\x01\x2c\xa6prefix\xa6sales.\xa5limit\xcd\x01\xf4";
    CHECK (bytes_are (want, sizeof want - 1));
    dt_catchup_request_t request;
    dt_error_t err;
    CHECK_INT (dt_catchup_request_open (slot_unpack (&S1), &request, &err), 0);
    CHECK_INT (request.req, 7);
    CHECK_INT (request.after, 300);
    CHECK_STR (request.prefix, "sales.");
    CHECK_INT (request.limit, 500);

    //  prefix and limit are optional
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 3);
    pk_str (&S1.m.pk, "v"); msgpack_pack_uint8 (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "req"); msgpack_pack_uint8 (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "after"); msgpack_pack_uint8 (&S1.m.pk, 0);
    CHECK_INT (dt_catchup_request_open (slot_unpack (&S1), &request, &err), 0);
    CHECK_STR (request.prefix, "");
    CHECK_INT (request.limit, DT_CATCHUP_LIMIT_DEFAULT);
}

//  A request {"v":1,"req":1, key: value} with value packed by the caller
#define BAD_REQUEST(pack_value, key, want_field) do { \
    slot_clear (&S1); \
    msgpack_pack_map (&S1.m.pk, 4); \
    pk_str (&S1.m.pk, "v"); msgpack_pack_uint8 (&S1.m.pk, 1); \
    pk_str (&S1.m.pk, "req"); msgpack_pack_uint8 (&S1.m.pk, 1); \
    if (strcmp (key, "after")) { pk_str (&S1.m.pk, "after"); msgpack_pack_uint8 (&S1.m.pk, 0); } \
    else { pk_str (&S1.m.pk, "prefix"); pk_str (&S1.m.pk, ""); } \
    pk_str (&S1.m.pk, key); pack_value; \
    dt_catchup_request_t request; \
    dt_error_t err; \
    CHECK_INT (dt_catchup_request_open (slot_unpack (&S1), &request, &err), -1); \
    CHECK_STR (err.code, "bad_request"); \
    CHECK_STR (err.field, want_field); \
    CHECK (request.has_req); \
} while (0)

static void
test_malformed (void)
{
    BAD_REQUEST (msgpack_pack_int8 (&S1.m.pk, -1), "after", "after");
    BAD_REQUEST (pk_str (&S1.m.pk, "12"), "after", "after");
    BAD_REQUEST (msgpack_pack_uint8 (&S1.m.pk, 3), "prefix", "prefix");
    BAD_REQUEST (pk_str (&S1.m.pk, "an.overlong.prefix.an.overlong.prefix.an.overlong.prefix.xxxxxxxxx"),
                 "prefix", "prefix");
    BAD_REQUEST (pk_strn (&S1.m.pk, "a\0b", 3), "prefix", "prefix");
    BAD_REQUEST (msgpack_pack_uint8 (&S1.m.pk, 0), "limit", "limit");
    BAD_REQUEST (msgpack_pack_uint32 (&S1.m.pk, 10001), "limit", "limit");
    BAD_REQUEST (pk_str (&S1.m.pk, "5"), "limit", "limit");

    dt_catchup_request_t request;
    dt_error_t err;
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "after"); msgpack_pack_uint8 (&S1.m.pk, 0);
    CHECK_INT (dt_catchup_request_open (slot_unpack (&S1), &request, &err), -1);
    CHECK_STR (err.field, "req");
    CHECK (!request.has_req);
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 3);
    pk_str (&S1.m.pk, "v"); msgpack_pack_uint8 (&S1.m.pk, 2);
    pk_str (&S1.m.pk, "req"); msgpack_pack_uint8 (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "after"); msgpack_pack_uint8 (&S1.m.pk, 0);
    CHECK_INT (dt_catchup_request_open (slot_unpack (&S1), &request, &err), -1);
    CHECK_STR (err.code, "unsupported_version");
}

static void
test_reply (void)
{
    slot_clear (&S1);
    dt_catchup_reply_pack_head (&S1.m.pk, 7, 1001, true, 1);
    msgpack_pack_array (&S1.m.pk, 2);
    pk_str (&S1.m.pk, "sales.ok");
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "seq");
    msgpack_pack_uint16 (&S1.m.pk, 1001);
    //  {"v":1,"req":7,"last":1001,"more":true,"items":[["sales.ok",{"seq":1001}]]}
    static const char want [] =
        "\x85\xa1v\x01\xa3req\x07\xa4last\xcd\x03\xe9\xa4more\xc3\xa5items\x91"
        "\x92\xa8sales.ok\x81\xa3seq\xcd\x03\xe9";
    CHECK (bytes_are (want, sizeof want - 1));
    dt_catchup_reply_t reply;
    CHECK_INT (dt_catchup_reply_open (slot_unpack (&S1), &reply), 0);
    CHECK (!reply.error);
    CHECK_INT (reply.last, 1001);
    CHECK (reply.more);
    CHECK_INT (reply.items->via.array.size, 1);
    dt_str_t topic;
    const msgpack_object *message;
    CHECK_INT (dt_catchup_item_open (&reply.items->via.array.ptr [0], &topic, &message), 0);
    CHECK (dt_str_eq (topic, "sales.ok"));
    CHECK (obj_is_uint (dt_map_get (message, "seq"), 1001));
    CHECK_INT (dt_catchup_item_open (message, &topic, &message), -1);

    //  An error reply opens as one; a map without items does not
    slot_clear (&S1);
    dt_error_t err;
    dt_error_set (&err, "bad_request", "after", "after: required");
    dt_reply_pack_error (&S1.m.pk, true, 3, &err);
    CHECK_INT (dt_catchup_reply_open (slot_unpack (&S1), &reply), 0);
    CHECK (reply.error);
    slot_clear (&S1);
    msgpack_pack_map (&S1.m.pk, 1);
    pk_str (&S1.m.pk, "last"); msgpack_pack_uint8 (&S1.m.pk, 1);
    CHECK_INT (dt_catchup_reply_open (slot_unpack (&S1), &reply), -1);
}

int
main (void)
{
    slot_init (&S1);
    test_request ();
    test_malformed ();
    test_reply ();
    slot_free (&S1);
    return TESTING_DONE ();
}
