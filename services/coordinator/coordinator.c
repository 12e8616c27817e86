/*  coordinator.c - the link loop and the store actor (see coordinator.h).

    Ownership of a writeset moves by pointer over the actor pipe: the link
    thread fills it, sends it ("WRITE", ptr), and gets it back ("DONE", ptr)
    once committed; only then does it acknowledge the tracks. At most one
    writeset is at the store at a time, so commits (and acks) stay in order.
*/
#include "coordinator.h"
#include "log.h"
#include "signals.h"
#include "store.h"
#include "writeset.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>

struct dt_coordinator_t {
    dt_coordinator_opts_t opts;
    zsock_t *link;
    zactor_t *store;
    dt_writeset_t *filling;         //  collecting items
    bool store_busy;                //  a writeset is at the store
    uint64_t committed_events, duplicate_events, committed_rejects;
};

//  --------------------------------------------------------------------------
//  Store actor: owns the PostgreSQL connection

static void
store_actor (zsock_t *pipe, void *args)
{
    const dt_coordinator_opts_t *opts = (const dt_coordinator_opts_t *) args;
    dt_store_t *store = dt_store_new (opts->pg_uri, opts->pg_password);
    zsock_signal (pipe, 0);
    char err [512];
    int backoff = 100;
    bool terminated = false;
    //  Connect early, so readiness and migrations do not wait for traffic
    if (dt_store_connect (store, err, sizeof err))
        dt_warn ("PostgreSQL not reachable yet", "error=\"%s\"", err);
    else
        dt_info ("connected to PostgreSQL", NULL);

    while (!terminated) {
        char *command = NULL;
        void *ptr = NULL;
        if (zsock_recv (pipe, "sp", &command, &ptr) < 0)
            break;
        if (streq (command, "$TERM"))
            terminated = true;
        else
        if (streq (command, "WRITE")) {
            dt_writeset_t *ws = (dt_writeset_t *) ptr;
            //  Retry until committed: the tracks hold these events and wait
            //  for the acknowledgement, so giving up would only delay them
            while (true) {
                if (dt_store_connected (store) && dt_store_write (store, ws, err, sizeof err) == 0)
                    break;
                if (dt_store_connected (store))
                    dt_warn ("commit failed, retrying", "error=\"%s\"", err);
                if (zsock_events (pipe) & ZMQ_POLLIN) {
                    //  $TERM while PostgreSQL is away: the tracks resend
                    dt_error ("stopping with a writeset uncommitted; the tracks will resend it",
                              "events=%u", ws->event_count);
                    ws = NULL;
                    terminated = true;
                    break;
                }
                zclock_sleep (backoff);
                backoff = backoff < 5000? backoff * 2: 5000;
                if (dt_store_connect (store, err, sizeof err) == 0) {
                    dt_info ("reconnected to PostgreSQL", NULL);
                    backoff = 100;
                }
                else
                    dt_warn ("PostgreSQL unreachable", "error=\"%s\" retry_ms=%d", err, backoff);
            }
            zsock_send (pipe, "sp", "DONE", ws);
        }
        free (command);
    }
    dt_store_destroy (&store);
}

//  --------------------------------------------------------------------------

dt_coordinator_t *
dt_coordinator_new (const dt_coordinator_opts_t *opts)
{
    dt_coordinator_t *self = calloc (1, sizeof *self);
    self->opts = *opts;
    self->filling = dt_writeset_new ();
    self->link = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->link, 1);
    zsock_set_sndtimeo (self->link, 0);
    //  Acknowledgements sent just before a clean exit must still get out
    zsock_set_linger (self->link, 2000);
    if (zsock_bind (self->link, "%s", opts->links) < 0) {
        dt_error ("can not bind the link endpoint", "endpoint=%s error=\"%s\"",
                  opts->links, zmq_strerror (zmq_errno ()));
        dt_coordinator_destroy (&self);
        return NULL;
    }
    self->store = zactor_new (store_actor, &self->opts);
    dt_info ("coordinator ready", "links=%s", opts->links);
    return self;
}

void
dt_coordinator_destroy (dt_coordinator_t **self_p)
{
    if (*self_p) {
        dt_coordinator_t *self = *self_p;
        zactor_destroy (&self->store);
        zsock_destroy (&self->link);
        dt_writeset_destroy (&self->filling);
        free (self);
        *self_p = NULL;
    }
}

static void
send_to_store (dt_coordinator_t *self)
{
    if (self->store_busy || dt_writeset_size (self->filling) == 0)
        return;
    self->filling->first_received_us = zclock_usecs ();
    zsock_send (self->store, "sp", "WRITE", self->filling);
    self->filling = dt_writeset_new ();
    self->store_busy = true;
}

static void
acknowledge (dt_coordinator_t *self, dt_writeset_t *ws)
{
    for (uint32_t i = 0; i < ws->ack_count; i++) {
        msgpack_sbuffer sbuf;
        msgpack_sbuffer_init (&sbuf);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
        msgpack_pack_map (&pk, 3);
        dt_pack_cstr (&pk, "t");
        dt_pack_cstr (&pk, "ack");
        dt_pack_cstr (&pk, "first");
        msgpack_pack_uint64 (&pk, ws->acks [i].first);
        dt_pack_cstr (&pk, "upto");
        msgpack_pack_uint64 (&pk, ws->acks [i].upto);
        zmsg_t *msg = zmsg_new ();
        zmsg_addmem (msg, zframe_data (ws->acks [i].peer), zframe_size (ws->acks [i].peer));
        zmsg_addmem (msg, sbuf.data, sbuf.size);
        msgpack_sbuffer_destroy (&sbuf);
        if (zmsg_send (&msg, self->link) < 0) {
            //  The track went away: it resends after reconnecting
            dt_warn ("track gone before its acknowledgement", "upto=%llu",
                     (unsigned long long) ws->acks [i].upto);
            zmsg_destroy (&msg);
        }
    }
}

static void
store_done (dt_coordinator_t *self)
{
    char *command = NULL;
    void *ptr = NULL;
    if (zsock_recv (self->store, "sp", &command, &ptr) < 0)
        return;
    dt_writeset_t *ws = (dt_writeset_t *) ptr;
    if (ws) {
        self->committed_events += ws->stored;
        self->duplicate_events += ws->duplicates;
        self->committed_rejects += ws->reject_count;
        dt_debug ("committed", "events=%u stored=%u duplicates=%u rejects=%u",
                  ws->event_count, ws->stored, ws->duplicates, ws->reject_count);
        acknowledge (self, ws);
        dt_writeset_destroy (&ws);
    }
    free (command);
    self->store_busy = false;
}

//  A small control message to a track
static void
link_send (dt_coordinator_t *self, zframe_t *peer, const char *type, const char *key, uint64_t value)
{
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init (&sbuf);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &sbuf, msgpack_sbuffer_write);
    msgpack_pack_map (&pk, key? 2: 1);
    dt_pack_cstr (&pk, "t");
    dt_pack_cstr (&pk, type);
    if (key) {
        dt_pack_cstr (&pk, key);
        msgpack_pack_uint64 (&pk, value);
    }
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, zframe_data (peer), zframe_size (peer));
    zmsg_addmem (msg, sbuf.data, sbuf.size);
    msgpack_sbuffer_destroy (&sbuf);
    if (zmsg_send (&msg, self->link) < 0)
        zmsg_destroy (&msg);        //  the track is gone; it says hello again
}

static void
link_recv (dt_coordinator_t *self)
{
    zmsg_t *msg = zmsg_recv (self->link);
    if (!msg)
        return;
    zframe_t *peer = zmsg_pop (msg);
    size_t frames = zmsg_size (msg);
    zframe_t *body = zmsg_pop (msg);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    const msgpack_object *type = NULL;
    if (body && frames == 1
    &&  dt_wire_unpack (&unpacked, (const char *) zframe_data (body), zframe_size (body), &err) == 0)
        type = dt_map_get (&unpacked.data, "t");
    if (!type || type->type != MSGPACK_OBJECT_STR)
        dt_warn ("unreadable message on the link", "frames=%zu", frames);
    else
    if (dt_str_eq (dt_str_of (type), "batch")) {
        if (dt_writeset_add_batch (self->filling, &body, &unpacked, peer, &self->opts.stages))
            dt_warn ("unreadable batch on the link", NULL);
    }
    else
    if (dt_str_eq (dt_str_of (type), "hello")) {
        //  Credit: what this track may have unacknowledged. It bounds what the
        //  coordinator holds in memory, so the link is always read and a
        //  heartbeat is answered even while PostgreSQL is away.
        const msgpack_object *track = dt_map_get (&unpacked.data, "track");
        dt_info ("track connected", "track=%.*s credit=%d",
                 track && track->type == MSGPACK_OBJECT_STR? (int) track->via.str.size: 0,
                 track && track->type == MSGPACK_OBJECT_STR? track->via.str.ptr: "",
                 self->opts.credit);
        link_send (self, peer, "credit", "items", (uint64_t) self->opts.credit);
    }
    else
    if (dt_str_eq (dt_str_of (type), "ping"))
        link_send (self, peer, "pong", NULL, 0);
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&body);
    zframe_destroy (&peer);
    zmsg_destroy (&msg);
}

int
dt_coordinator_run (dt_coordinator_t *self)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->store), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->link), 0, ZMQ_POLLIN, 0 }
    };
    bool draining = false;
    int64_t deadline = 0;
    while (true) {
        if (dt_stop_requests && !draining) {
            draining = true;
            deadline = dt_mono_ms () + self->opts.drain_ms;
            dt_info ("stopping: committing what is in hand", "items=%u",
                     dt_writeset_size (self->filling));
        }
        send_to_store (self);
        if (draining && ((!self->store_busy && dt_writeset_size (self->filling) == 0)
                         || dt_stop_requests > 1 || dt_mono_ms () > deadline))
            break;
        //  The link is always read: the tracks' credit bounds what arrives
        bool read_link = !draining;
        int rc = zmq_poll (items, read_link? 2: 1, 100);
        if (rc < 0 && zmq_errno () != EINTR) {
            dt_error ("poll failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            return -1;
        }
        if (items [0].revents & ZMQ_POLLIN)
            store_done (self);
        if (read_link && (items [1].revents & ZMQ_POLLIN))
            for (int n = 0; n < 64 && (zsock_events (self->link) & ZMQ_POLLIN); n++)
                link_recv (self);
    }
    bool clean = !self->store_busy && dt_writeset_size (self->filling) == 0;
    dt_info (clean? "stopped": "stopped with items uncommitted; the tracks will resend them",
             "events_stored=%llu duplicates=%llu rejects=%llu",
             (unsigned long long) self->committed_events,
             (unsigned long long) self->duplicate_events,
             (unsigned long long) self->committed_rejects);
    return clean? 0: -1;
}
