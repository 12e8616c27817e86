/*  writesets.h - writesets for unit tests, filled as the coordinator's link
    thread fills them: events decoded by the real codec, packed as a
    marketing track's link batch, added, and judged by a rule engine with
    its default settings. Include after unit/testing.h (the codec's answer
    is a check).
*/
#ifndef DT_TEST_WRITESETS_H
#define DT_TEST_WRITESETS_H

#include "store/writeset.h"
#include "rules/engine.h"
#include "proto/link.h"
#include "proto/wire.h"

#include <stdlib.h>

static dt_stageset_t writesets_stages;

//  A writeset holding one marketing batch of the events named by ids
static inline dt_writeset_t *
writeset_of (dt_engine_t *engine, const char *const *ids, size_t count)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init (&sb);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sb, msgpack_sbuffer_write);
    dt_link_batch_pack_head (&pk, "marketing", 1, (uint32_t) count);
    for (size_t i = 0; i < count; i++) {
        //  An event as a publisher sends it, through the codec
        msgpack_sbuffer in;
        msgpack_sbuffer_init (&in);
        msgpack_packer ipk;
        msgpack_packer_init (&ipk, &in, msgpack_sbuffer_write);
        msgpack_pack_map (&ipk, 8);
        const char *fields [] = { "id", ids [i], "source", "crm", "account", "acme",
                                  "contact", "bob@acme.com",
                                  "stage", "awareness", "channel", "email", "kind", "email" };
        for (size_t f = 0; f < sizeof fields / sizeof fields [0]; f++)
            dt_pack_cstr (&ipk, fields [f]);
        dt_pack_cstr (&ipk, "occurred_at");
        msgpack_pack_int64 (&ipk, 1777593600000 + (int64_t) i * 60000);
        msgpack_unpacked up;
        msgpack_unpacked_init (&up);
        size_t offset = 0;
        msgpack_unpack_next (&up, in.data, in.size, &offset);
        dt_event_t event;
        dt_error_t err;
        int rc = dt_event_decode (&up.data, &writesets_stages, DT_FORM_INGRESS, DT_TRACK_MARKETING,
                                  &event, &err);
        CHECK (rc == 0);
        if (rc)
            fprintf (stderr, "  %s: %s\n", err.field, err.message);
        event.received_at = 1777593600000000 + (int64_t) i;
        dt_item_pack_event (&pk, &event);
        msgpack_unpacked_destroy (&up);
        msgpack_sbuffer_destroy (&in);
    }
    dt_writeset_t *ws = dt_writeset_new ();
    zframe_t *frame = zframe_new (sb.data, sb.size);
    zframe_t *peer = zframe_new ("marketing", 9);
    msgpack_unpacked unpacked;     //  its zone is taken
    msgpack_unpacked_init (&unpacked);
    size_t offset = 0;
    msgpack_unpack_next (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &offset);
    CHECK (dt_writeset_add_batch (ws, &frame, &unpacked, peer, &writesets_stages) == 0);
    CHECK_INT (ws->event_count, count);
    dt_writeset_judge (ws, engine);
    zframe_destroy (&peer);
    msgpack_sbuffer_destroy (&sb);
    return ws;
}

//  count ids "<prefix>-<n>", n from first
static inline const char **
ids_of (const char *prefix, size_t first, size_t count)
{
    const char **ids = calloc (count, sizeof *ids);
    for (size_t i = 0; i < count; i++) {
        char *id = malloc (64);
        snprintf (id, 64, "%s-%zu", prefix, first + i);
        ids [i] = id;
    }
    return ids;
}

static inline void
ids_free (const char **ids, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free ((char *) ids [i]);
    free (ids);
}

//  A rule engine with default settings, for writeset_of
static inline dt_engine_t *
writesets_engine (void)
{
    dt_stageset_default (&writesets_stages);
    return dt_engine_new (NULL, &writesets_stages);
}

#endif
