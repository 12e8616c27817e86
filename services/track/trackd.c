/*  trackd.c - the track daemon's loop (see trackd.h).

    Items (accepted events and rejects) get consecutive sequence numbers and
    are packed into the outbox. The outbox is cut into link batches; at most
    `window` batches are in flight, and each stays in memory until the
    coordinator acknowledges it, so a lost batch is sent again (the
    coordinator's insert is idempotent on the event id).
*/
#include "trackd.h"
#include "buf.h"
#include "log.h"
#include "signals.h"
#include "wire.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>

//  A publisher request waiting for its events to be committed
typedef struct {
    zframe_t *identity;
    bool req_envelope;              //  REQ client: reply with an empty delimiter
    uint64_t req;
    uint64_t upto;                  //  answered when the coordinator confirms this seq
    uint32_t accepted;
    uint32_t rejected;
    dt_rejection_t *rejections;
} pending_t;

//  A link batch sent and not yet acknowledged
typedef struct {
    uint64_t first;
    uint64_t last;
    zframe_t *frame;
    int64_t sent_at;
} inflight_t;

struct dt_trackd_t {
    dt_trackd_opts_t opts;
    zsock_t *ingress;
    zsock_t *link;
    char endpoint [256];
    const char *name;

    uint64_t next_seq;              //  seq of the next item
    uint64_t acked;                 //  the coordinator confirmed all <= acked

    dt_buf_t outbox;                //  packed items not yet in a batch
    uint64_t outbox_first;
    uint32_t outbox_count;
    size_t *outbox_ends;            //  end offset of each item in outbox
    uint32_t outbox_ends_alloc;

    zlistx_t *inflight;             //  of inflight_t, oldest first
    zlistx_t *pending;              //  of pending_t, by upto

    dt_buf_t scratch;               //  reused for packing replies and items
    dt_rejection_t *rejections;     //  scratch for one request's rejections

    int64_t last_received_at;
    uint64_t received, accepted, rejected;
};

static void
pending_destroy (pending_t **self_p)
{
    if (*self_p) {
        zframe_destroy (&(*self_p)->identity);
        free ((*self_p)->rejections);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
inflight_destroy (inflight_t **self_p)
{
    if (*self_p) {
        zframe_destroy (&(*self_p)->frame);
        free (*self_p);
        *self_p = NULL;
    }
}

dt_trackd_t *
dt_trackd_new (const dt_trackd_opts_t *opts)
{
    dt_trackd_t *self = calloc (1, sizeof *self);
    self->opts = *opts;
    self->name = dt_track_name (opts->track);
    self->next_seq = 1;
    self->inflight = zlistx_new ();
    zlistx_set_destructor (self->inflight, (zlistx_destructor_fn *) inflight_destroy);
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, (zlistx_destructor_fn *) pending_destroy);
    self->rejections = calloc (DT_EVENTS_MAX, sizeof (dt_rejection_t));

    self->ingress = zsock_new (ZMQ_ROUTER);
    //  Replies to a publisher that went away must fail visibly, not vanish
    zsock_set_router_mandatory (self->ingress, 1);
    //  A frame past twice the documented limit drops the connection; up to
    //  it the daemon answers frame_too_large itself
    zsock_set_maxmsgsize (self->ingress, 2 * DT_FRAME_MAX);
    zsock_set_sndtimeo (self->ingress, 0);
    if (zsock_bind (self->ingress, "%s", opts->ingress) < 0) {
        dt_error ("can not bind the ingress", "endpoint=%s error=\"%s\"",
                  opts->ingress, zmq_strerror (zmq_errno ()));
        dt_trackd_destroy (&self);
        return NULL;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "%s",
              zsock_endpoint (self->ingress)? zsock_endpoint (self->ingress): opts->ingress);

    self->link = zsock_new (ZMQ_DEALER);
    zsock_set_sndtimeo (self->link, 0);
    //  Flow is bounded by the window of unacknowledged batches, not by the
    //  high-water mark, so ZeroMQ never has to drop or block for us
    zsock_set_sndhwm (self->link, 0);
    zsock_set_rcvhwm (self->link, 0);
    zsock_set_reconnect_ivl (self->link, 100);
    zsock_set_reconnect_ivl_max (self->link, 2000);
    if (zsock_connect (self->link, "%s", opts->coordinator) < 0) {
        dt_error ("bad coordinator endpoint", "endpoint=%s", opts->coordinator);
        dt_trackd_destroy (&self);
        return NULL;
    }
    dt_info ("track daemon ready", "track=%s ingress=%s coordinator=%s",
             self->name, self->endpoint, opts->coordinator);
    return self;
}

void
dt_trackd_destroy (dt_trackd_t **self_p)
{
    if (*self_p) {
        dt_trackd_t *self = *self_p;
        zsock_destroy (&self->ingress);
        zsock_destroy (&self->link);
        zlistx_destroy (&self->inflight);
        zlistx_destroy (&self->pending);
        dt_buf_free (&self->outbox);
        dt_buf_free (&self->scratch);
        free (self->rejections);
        free (self->outbox_ends);
        free (self);
        *self_p = NULL;
    }
}

const char *
dt_trackd_endpoint (dt_trackd_t *self)
{
    return self->endpoint;
}

//  --------------------------------------------------------------------------
//  Replies to publishers

static void
send_reply (dt_trackd_t *self, zframe_t *identity, bool req_envelope)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_append (msg, &identity);
    if (req_envelope)
        zmsg_addmem (msg, NULL, 0);
    zmsg_addmem (msg, self->scratch.data, self->scratch.size);
    if (zmsg_send (&msg, self->ingress) < 0) {
        //  EHOSTUNREACH: the publisher disconnected; its events are stored,
        //  and a resend of the same ids will be acknowledged again
        dt_warn ("publisher gone before its reply", "track=%s error=\"%s\"",
                 self->name, zmq_strerror (zmq_errno ()));
        zmsg_destroy (&msg);
    }
}

static void
reply_error (dt_trackd_t *self, zframe_t *identity, bool req_envelope,
             bool has_req, uint64_t req, const dt_error_t *err)
{
    msgpack_packer pk;
    dt_buf_reset (&self->scratch);
    msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
    dt_reply_pack_error (&pk, has_req, req, err);
    send_reply (self, zframe_dup (identity), req_envelope);
}

static void
reply_result (dt_trackd_t *self, pending_t *pending)
{
    msgpack_packer pk;
    dt_buf_reset (&self->scratch);
    msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
    dt_reply_pack_result (&pk, pending->req, pending->accepted,
                          pending->rejections, pending->rejected);
    send_reply (self, pending->identity, pending->req_envelope);
    pending->identity = NULL;
}

//  --------------------------------------------------------------------------
//  Items into the outbox

//  Close the item just packed at the end of the outbox: it takes the next seq
static void
outbox_commit_item (dt_trackd_t *self)
{
    if (self->outbox_count == 0)
        self->outbox_first = self->next_seq;
    if (self->outbox_count == self->outbox_ends_alloc) {
        self->outbox_ends_alloc = self->outbox_ends_alloc? 2 * self->outbox_ends_alloc: 1024;
        self->outbox_ends = realloc (self->outbox_ends,
                                     self->outbox_ends_alloc * sizeof (size_t));
        assert (self->outbox_ends);
    }
    self->outbox_ends [self->outbox_count++] = self->outbox.size;
    self->next_seq++;
}

static void
outbox_add_event (dt_trackd_t *self, const dt_event_t *event)
{
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->outbox, dt_buf_msgpack_write);
    dt_item_pack_event (&pk, event);
    outbox_commit_item (self);
}

static void
outbox_add_reject (dt_trackd_t *self, int64_t received_at, int32_t index,
                   const dt_error_t *err, dt_str_t event_id, const char *raw, size_t raw_size)
{
    dt_reject_t reject = {
        .received_at = received_at, .track = self->opts.track, .index = index,
        .code = dt_str_c (err->code), .field = dt_str_c (err->field),
        .message = dt_str_c (err->message), .event_id = event_id,
        .raw = raw, .raw_size = raw_size
    };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->outbox, dt_buf_msgpack_write);
    dt_item_pack_reject (&pk, &reject);
    outbox_commit_item (self);
}

//  A rejected event's own bytes, for rejects.raw
static void
outbox_add_event_reject (dt_trackd_t *self, int64_t received_at, int32_t index,
                         const dt_error_t *err, const msgpack_object *obj, dt_str_t event_id)
{
    dt_buf_t raw = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &raw, dt_buf_msgpack_write);
    msgpack_pack_object (&pk, *obj);
    outbox_add_reject (self, received_at, index, err, event_id, raw.data, raw.size);
    dt_buf_free (&raw);
}

//  --------------------------------------------------------------------------
//  Ingress

//  Receive times are strictly increasing per daemon, so (track, received_at,
//  index) names a reject uniquely and a resent one is stored once
static int64_t
next_received_at (dt_trackd_t *self)
{
    int64_t now = dt_now_us ();
    self->last_received_at = now > self->last_received_at? now: self->last_received_at + 1;
    return self->last_received_at;
}

//  The id of an event that failed validation, if it has a usable one
static dt_str_t
salvage_id (const msgpack_object *obj)
{
    dt_str_t none = { "", 0 };
    const msgpack_object *id = dt_map_get (obj, "id");
    if (!id || id->type != MSGPACK_OBJECT_STR || id->via.str.size == 0
    ||  id->via.str.size > DT_ID_MAX || !dt_utf8_valid (id->via.str.ptr, id->via.str.size))
        return none;
    return dt_str_of (id);
}

static void
handle_request (dt_trackd_t *self, zframe_t *identity, bool req_envelope,
                const char *data, size_t size, bool multipart)
{
    int64_t received_at = next_received_at (self);
    dt_error_t err;
    dt_str_t no_id = { "", 0 };
    self->received++;

    if (multipart) {
        dt_error_set (&err, "bad_request", "",
                      "multipart message: send the request as one frame");
        reply_error (self, identity, req_envelope, false, 0, &err);
        outbox_add_reject (self, received_at, -1, &err, no_id, data, size);
        return;
    }
    if (size > DT_FRAME_MAX) {
        dt_error_set (&err, "frame_too_large", "",
                      "frame of %zu bytes; at most %d allowed", size, DT_FRAME_MAX);
        reply_error (self, identity, req_envelope, false, 0, &err);
        outbox_add_reject (self, received_at, -1, &err, no_id, data, size);
        return;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_request_t request;
    if (dt_wire_unpack (&unpacked, data, size, &err)
    ||  dt_request_parse (&unpacked.data, &request, &err)) {
        reply_error (self, identity, req_envelope, request.has_req, request.req, &err);
        outbox_add_reject (self, received_at, -1, &err, no_id, data, size);
        msgpack_unpacked_destroy (&unpacked);
        return;
    }

    uint32_t accepted = 0, rejected = 0;
    for (uint32_t i = 0; i < request.count; i++) {
        dt_event_t event;
        if (dt_event_decode (&request.events [i], &self->opts.stages, DT_FORM_INGRESS,
                             self->opts.track, &event, &err) == 0) {
            event.received_at = received_at;
            outbox_add_event (self, &event);
            accepted++;
        }
        else {
            dt_str_t id = salvage_id (&request.events [i]);
            dt_rejection_t *r = &self->rejections [rejected++];
            r->index = i;
            snprintf (r->id, sizeof r->id, "%.*s", (int) id.len, id.ptr);
            r->error = err;
            outbox_add_event_reject (self, received_at, (int32_t) i, &err, &request.events [i], id);
        }
    }
    msgpack_unpacked_destroy (&unpacked);
    self->accepted += accepted;
    self->rejected += rejected;

    pending_t *pending = calloc (1, sizeof *pending);
    pending->identity = zframe_dup (identity);
    pending->req_envelope = req_envelope;
    pending->req = request.req;
    pending->accepted = accepted;
    pending->rejected = rejected;
    pending->upto = self->next_seq - 1;
    if (rejected) {
        pending->rejections = malloc (rejected * sizeof (dt_rejection_t));
        memcpy (pending->rejections, self->rejections, rejected * sizeof (dt_rejection_t));
    }
    if (accepted == 0) {
        //  Nothing to store for this publisher; the rejects follow on their own
        reply_result (self, pending);
        pending_destroy (&pending);
    }
    else
        zlistx_add_end (self->pending, pending);
}

//  Read one message from the ingress ROUTER: [identity] ([empty]) payload...
static void
ingress_recv (dt_trackd_t *self)
{
    zmsg_t *msg = zmsg_recv (self->ingress);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    bool req_envelope = false;
    //  A REQ client puts an empty delimiter before its payload
    zframe_t *first = zmsg_first (msg);
    if (first && zframe_size (first) == 0 && zmsg_size (msg) > 1) {
        zframe_t *delimiter = zmsg_pop (msg);
        zframe_destroy (&delimiter);
        req_envelope = true;
    }
    size_t frames = zmsg_size (msg);
    zframe_t *payload = zmsg_first (msg);
    if (frames == 0 || !payload) {
        dt_error_t err;
        dt_error_set (&err, "bad_request", "", "empty message: send one msgpack map");
        reply_error (self, identity, req_envelope, false, 0, &err);
        dt_str_t no_id = { "", 0 };
        outbox_add_reject (self, next_received_at (self), -1, &err, no_id, "", 0);
    }
    else
        handle_request (self, identity, req_envelope,
                        (const char *) zframe_data (payload), zframe_size (payload),
                        frames > 1);
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  Link to the coordinator

static void
flush_outbox (dt_trackd_t *self)
{
    while (self->outbox_count && (int) zlistx_size (self->inflight) < self->opts.window) {
        uint32_t count = self->outbox_count;
        if (count > (uint32_t) self->opts.batch_max)
            count = (uint32_t) self->opts.batch_max;
        size_t cut = self->outbox_ends [count - 1];
        dt_buf_t frame = { 0 };
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
        msgpack_pack_map (&pk, 4);
        dt_pack_cstr (&pk, "t");
        dt_pack_cstr (&pk, "batch");
        dt_pack_cstr (&pk, "track");
        dt_pack_cstr (&pk, self->name);
        dt_pack_cstr (&pk, "first");
        msgpack_pack_uint64 (&pk, self->outbox_first);
        dt_pack_cstr (&pk, "items");
        msgpack_pack_array (&pk, count);
        dt_buf_append (&frame, self->outbox.data, cut);

        inflight_t *batch = calloc (1, sizeof *batch);
        batch->first = self->outbox_first;
        batch->last = self->outbox_first + count - 1;
        batch->frame = zframe_new (frame.data, frame.size);
        batch->sent_at = dt_mono_ms ();
        dt_buf_free (&frame);
        zframe_t *copy = zframe_dup (batch->frame);
        if (zframe_send (&copy, self->link, 0) < 0) {
            //  Not connected yet: it goes again on the resend timer
            zframe_destroy (&copy);
        }
        zlistx_add_end (self->inflight, batch);

        memmove (self->outbox.data, self->outbox.data + cut, self->outbox.size - cut);
        self->outbox.size -= cut;
        self->outbox_first += count;
        self->outbox_count -= count;
        for (uint32_t i = 0; i < self->outbox_count; i++)
            self->outbox_ends [i] = self->outbox_ends [i + count] - cut;
    }
}

static void
resend_stale (dt_trackd_t *self)
{
    int64_t now = dt_mono_ms ();
    inflight_t *batch = zlistx_first (self->inflight);
    if (!batch || now - batch->sent_at < self->opts.resend_ms)
        return;
    dt_warn ("coordinator silent: sending unacknowledged batches again",
             "track=%s batches=%zu first_seq=%llu", self->name,
             zlistx_size (self->inflight), (unsigned long long) batch->first);
    for (; batch; batch = zlistx_next (self->inflight)) {
        zframe_t *copy = zframe_dup (batch->frame);
        if (zframe_send (&copy, self->link, 0) < 0)
            zframe_destroy (&copy);
        batch->sent_at = now;
    }
}

static void
handle_ack (dt_trackd_t *self, uint64_t upto)
{
    if (upto > self->acked)
        self->acked = upto;
    inflight_t *batch;
    while ((batch = zlistx_first (self->inflight)) && batch->last <= self->acked)
        zlistx_delete (self->inflight, NULL);
    pending_t *pending;
    while ((pending = zlistx_first (self->pending)) && pending->upto <= self->acked) {
        reply_result (self, pending);
        zlistx_delete (self->pending, NULL);
    }
}

static void
link_recv (dt_trackd_t *self)
{
    zframe_t *frame = zframe_recv (self->link);
    if (!frame)
        return;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    uint64_t upto;
    if (dt_wire_unpack (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &err) == 0
    &&  dt_map_uint (&unpacked.data, "upto", &upto))
        handle_ack (self, upto);
    else
        dt_warn ("unreadable message from the coordinator", "track=%s size=%zu",
                 self->name, zframe_size (frame));
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&frame);
}

//  --------------------------------------------------------------------------

int
dt_trackd_run (dt_trackd_t *self)
{
    zmq_pollitem_t items [] = {
        { zsock_resolve (self->link), 0, ZMQ_POLLIN, 0 },
        { zsock_resolve (self->ingress), 0, ZMQ_POLLIN, 0 }
    };
    bool draining = false;
    int64_t drain_deadline = 0;
    while (true) {
        if (dt_stop_requests && !draining) {
            draining = true;
            drain_deadline = dt_mono_ms () + self->opts.drain_ms;
            dt_info ("stopping: no new requests, confirming what was accepted",
                     "track=%s pending=%zu", self->name, zlistx_size (self->pending));
        }
        flush_outbox (self);
        if (draining) {
            bool done = zlistx_size (self->pending) == 0 && zlistx_size (self->inflight) == 0
                     && self->outbox_count == 0;
            if (done || dt_stop_requests > 1 || dt_mono_ms () > drain_deadline) {
                if (!done)
                    dt_error ("stopped with requests unanswered", "track=%s pending=%zu",
                              self->name, zlistx_size (self->pending));
                else
                    dt_info ("stopped", "track=%s received=%llu accepted=%llu rejected=%llu",
                             self->name, (unsigned long long) self->received,
                             (unsigned long long) self->accepted,
                             (unsigned long long) self->rejected);
                return done? 0: -1;
            }
        }
        //  Pause the ingress while the coordinator can not keep up, so the
        //  back-pressure reaches publishers through ZeroMQ's own queues
        bool read_ingress = !draining && self->outbox_count < (uint32_t) self->opts.queue_max;
        int rc = zmq_poll (items, read_ingress? 2: 1, 100);
        if (rc < 0) {
            if (zmq_errno () == EINTR)
                continue;
            dt_error ("poll failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            return -1;
        }
        if (items [0].revents & ZMQ_POLLIN)
            while (zsock_events (self->link) & ZMQ_POLLIN)
                link_recv (self);
        if (read_ingress && (items [1].revents & ZMQ_POLLIN)) {
            //  Take what is queued, up to a bound, then forward it as one batch
            for (int n = 0; n < 256 && (zsock_events (self->ingress) & ZMQ_POLLIN); n++)
                ingress_recv (self);
        }
        resend_stale (self);
    }
}
