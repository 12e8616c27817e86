/*  trackd.c - the track daemon's loop (see trackd.h).

    Items (accepted events and rejects) are appended to the journal, which
    gives them consecutive sequence numbers. After each burst of requests one
    fdatasync makes them durable, and only then are the publishers answered.
    A cursor reads the journal into link batches; at most `window` batches
    are in flight, each kept until the coordinator acknowledges it (and sent
    again if it stays silent: its insert is idempotent on the event id). An
    acknowledgement trims the journal; after a crash the journal replays from
    the last acknowledged seq.

    The loop is a zloop: the link and the ingress are its readers, a 100 ms
    timer keeps the heartbeats, and after every wake-up s_loop_turn syncs,
    answers and forwards. A signal interrupts zloop_start; run reads the
    flag and starts it again. zloop costs about 0.1 µs more per wake-up
    than a hand-made zmq_poll, against an fdatasync per burst.
*/
#include "track/trackd.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/curve.h"
#include "base/envelope.h"
#include "base/httpd.h"
#include "journal/journal.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/signals.h"
#include "proto/link.h"
#include "track/http_ingress.h"

#include <czmq.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

//  A publisher request waiting for its events to be committed
typedef struct {
    zsock_t *reply_to;              //  the ingress ROUTER or the HTTP handoff's
    zframe_t *identity;
    bool req_envelope;              //  REQ client: reply with an empty delimiter
    uint64_t req;
    uint64_t upto;                  //  answered when the coordinator confirms this seq
    uint32_t accepted;
    uint32_t rejected;
    dt_rejection_t *rejections;
    int64_t received_us;            //  monotonic, for the ack latency
} pending_t;

//  A link batch sent and not yet acknowledged
typedef struct {
    uint64_t first;
    uint64_t last;
    zframe_t *frame;
    bool sent;                      //  on the current link (false after a reconnect)
    int64_t sent_at;
    bool acked;                     //  committed; trimmed once all before it are
} inflight_t;

struct _dt_trackd_t {
    dt_trackd_opts_t opts;
    zsock_t *ingress;
    zsock_t *link;
    char endpoint [256];
    const char *name;

    //  The link: credit-based flow (zguide ch. 7) and heartbeats (ch. 4).
    //  The coordinator grants items on hello and returns them with each
    //  ack; silence past liveness_ms means it is gone: the socket is made
    //  anew (a recreated container has a new address) and unacknowledged
    //  batches go again once a new grant arrives.
    int64_t credit;                 //  items the coordinator will still take
    bool link_up;                   //  heard from the coordinator lately
    int64_t last_heard;
    int64_t last_ping;
    int64_t hello_at;
    uint64_t coordinator_instance;  //  0 until the coordinator's first answer
    bool credited;                  //  the coordinator answered the last hello

    //  The loop (zloop): the link and the ingress as readers, a 100 ms tick
    zloop_t *loop;
    bool draining;                  //  SIGTERM: no new requests, forwarding the rest
    int64_t drain_deadline;
    bool stopped;                   //  drained: run returns 0

    dt_journal_t *journal;
    dt_journal_cursor_t *cursor;    //  next record to forward
    bool unsynced;                  //  appended since the last sync
    bool overloaded;                //  the journal refused an append (disk limit)
    bool failed;                    //  the journal can not be trusted: exit

    zlistx_t *inflight;             //  of inflight_t, oldest first
    zlistx_t *pending;              //  of pending_t, by upto

    dt_buf_t scratch;               //  reused for packing replies
    dt_buf_t item;                  //  reused for packing journal records
    dt_rejection_t *rejections;     //  scratch for one request's rejections

    int64_t last_received_at;
    uint64_t received, accepted, rejected;

    //  Operations: /healthz, /readyz, /metrics. The HTTP thread reads only
    //  metrics (atomic) and these flags.
    dt_metrics_t *metrics;
    dt_httpd_t *httpd;
    dt_curve_t *curve;              //  NULL: plain TCP
    //  POST /v1/events (http_ingress.h): its threads hand requests to this
    //  loop through the handoff ROUTER, answered like the ingress's
    dt_http_ingress_t *http_ingress;
    zsock_t *handoff;
    atomic_int ready_state;         //  0 ready, else a reason below
    dt_counter_t *m_requests, *m_events, *m_rejects, *m_batches, *m_acked;
    dt_histogram_t *m_ack_seconds, *m_batch_items;
    dt_gauge_t *m_journal_depth, *m_journal_bytes, *m_credit, *m_link_up;
};

enum { READY = 0, NOT_READY_LINK, NOT_READY_OVERLOADED, NOT_READY_JOURNAL };

static bool
s_is_ready (void *ctx, char *reason, size_t len)
{
    dt_trackd_t *self = (dt_trackd_t *) ctx;
    int state = atomic_load (&self->ready_state);
    snprintf (reason, len, "%s", state == NOT_READY_LINK? "no link to the coordinator":
              state == NOT_READY_OVERLOADED? "journal at its disk limit":
              state == NOT_READY_JOURNAL? "journal failed": "");
    return state == READY;
}

static void
s_metrics_setup (dt_trackd_t *self)
{
    dt_metrics_t *m = self->metrics = dt_metrics_new ("dualtrack_track_");
    self->m_requests = dt_metrics_counter (m, "requests_total",
        "Ingress requests by result (ok: a reply with accepted/rejected events, or the frame error code)", "result");
    self->m_events = dt_metrics_counter (m, "events_total", "Events received, by result", "result");
    self->m_rejects = dt_metrics_counter (m, "rejected_events_total",
        "Rejected events and frames, by error code", "code");
    self->m_batches = dt_metrics_counter (m, "batches_sent_total", "Link batches sent to the coordinator (resends included)", NULL);
    self->m_acked = dt_metrics_counter (m, "items_confirmed_total", "Journal items the coordinator confirmed as committed", NULL);
    self->m_ack_seconds = dt_metrics_histogram (m, "ack_seconds",
        "Time from receiving a request to answering it (journal fsync included)",
        dt_metrics_seconds_buckets, 13);
    static const double items [] = { 1, 10, 50, 100, 250, 500, 1000, 2500, 5000 };
    self->m_batch_items = dt_metrics_histogram (m, "batch_items", "Items per link batch", items, 9);
    self->m_journal_depth = dt_metrics_gauge (m, "journal_depth", "Journal items not yet confirmed by the coordinator");
    self->m_journal_bytes = dt_metrics_gauge (m, "journal_bytes", "Journal bytes not yet confirmed");
    self->m_credit = dt_metrics_gauge (m, "link_credit", "Items the coordinator will still take");
    self->m_link_up = dt_metrics_gauge (m, "link_up", "1 while the coordinator answers");
    dt_counter_add (self->m_events, "accepted", 0);
    dt_counter_add (self->m_events, "rejected", 0);
}

//  Called once per loop: what the HTTP thread may read
static void
s_metrics_update (dt_trackd_t *self)
{
    dt_gauge_set (self->m_journal_depth, (double) dt_journal_depth (self->journal));
    dt_gauge_set (self->m_journal_bytes, (double) dt_journal_bytes (self->journal));
    dt_gauge_set (self->m_credit, (double) self->credit);
    dt_gauge_set (self->m_link_up, self->link_up? 1: 0);
    atomic_store (&self->ready_state, self->failed? NOT_READY_JOURNAL:
                  self->overloaded? NOT_READY_OVERLOADED:
                  !self->link_up? NOT_READY_LINK: READY);
}

static void
s_pending_destroy (pending_t **self_p)
{
    if (*self_p) {
        zframe_destroy (&(*self_p)->identity);
        free ((*self_p)->rejections);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_inflight_destroy (inflight_t **self_p)
{
    if (*self_p) {
        zframe_destroy (&(*self_p)->frame);
        free (*self_p);
        *self_p = NULL;
    }
}

static void
s_link_send (dt_trackd_t *self, zframe_t *frame)
{
    zframe_t *copy = zframe_dup (frame);
    if (zframe_send (&copy, self->link, 0) < 0)
        zframe_destroy (&copy);     //  not connected yet: liveness will tell
}

//  A hello or a ping: the only messages a track packs besides batches
static void
s_link_send_control (dt_trackd_t *self, void (*pack) (msgpack_packer *, const char *))
{
    dt_buf_t buf = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &buf, dt_buf_msgpack_write);
    pack (&pk, self->name);
    zframe_t *frame = zframe_new (buf.data, buf.size);
    s_link_send (self, frame);
    zframe_destroy (&frame);
    dt_buf_free (&buf);
}

static int s_on_link (zloop_t *loop, zsock_t *reader, void *arg);

//  (Re)create the link socket and say hello; every unacknowledged batch is
//  sent again once the coordinator grants credit
static int
s_link_connect (dt_trackd_t *self)
{
    if (self->loop && self->link)
        zloop_reader_end (self->loop, self->link);
    zsock_destroy (&self->link);
    self->link = zsock_new (ZMQ_DEALER);
    if (self->loop) {
        zloop_reader (self->loop, self->link, s_on_link, self);
        zloop_reader_set_tolerant (self->loop, self->link);
    }
    zsock_set_sndtimeo (self->link, 0);
    //  Credit bounds what is in flight, not the high-water mark, so ZeroMQ
    //  never has to drop or block for us
    zsock_set_sndhwm (self->link, 0);
    zsock_set_rcvhwm (self->link, 0);
    zsock_set_reconnect_ivl (self->link, 100);
    zsock_set_reconnect_ivl_max (self->link, 2000);
    char err [256];
    if (self->curve && dt_curve_client (self->curve, self->link, self->opts.curve_coordinator,
                                        err, sizeof err)) {
        dt_error ("can not secure the link", "error=\"%s\"", err);
        return -1;
    }
    if (zsock_connect (self->link, "%s", self->opts.coordinator) < 0) {
        dt_error ("bad coordinator endpoint", "endpoint=%s", self->opts.coordinator);
        return -1;
    }
    self->credit = 0;
    self->credited = false;
    self->coordinator_instance = 0;
    for (inflight_t *batch = zlistx_first (self->inflight); batch;
         batch = zlistx_next (self->inflight))
        batch->sent = false;
    s_link_send_control (self, dt_link_hello_pack);
    self->hello_at = self->last_heard = dt_mono_ms ();
    return 0;
}

dt_trackd_t *
dt_trackd_new (const dt_trackd_opts_t *opts)
{
    dt_trackd_t *self = calloc (1, sizeof *self);
    self->opts = *opts;
    self->name = dt_track_name (opts->track);
    self->inflight = zlistx_new ();
    zlistx_set_destructor (self->inflight, (zlistx_destructor_fn *) s_inflight_destroy);
    self->pending = zlistx_new ();
    zlistx_set_destructor (self->pending, (zlistx_destructor_fn *) s_pending_destroy);
    self->rejections = calloc (DT_EVENTS_MAX, sizeof (dt_rejection_t));
    s_metrics_setup (self);
    atomic_store (&self->ready_state, NOT_READY_LINK);
    if (opts->http && *opts->http) {
        char err [256];
        self->httpd = dt_httpd_new (opts->http, self->metrics, s_is_ready, self, err, sizeof err);
        if (!self->httpd) {
            dt_error ("can not serve health and metrics", "address=%s error=\"%s\"", opts->http, err);
            dt_trackd_destroy (&self);
            return NULL;
        }
    }

    dt_journal_opts_t journal_opts = { .max_bytes = opts->journal_max_bytes };
    dt_journal_report_t report;
    self->journal = dt_journal_new (opts->journal_dir, &journal_opts, &report);
    if (!self->journal) {
        dt_error ("can not open the journal", "track=%s dir=%s error=\"%s\"",
                  self->name, opts->journal_dir, report.message);
        dt_trackd_destroy (&self);
        return NULL;
    }
    dt_info ("journal open", "track=%s dir=%s records=%llu to_forward=%llu dropped_bytes=%llu report=\"%s\"",
             self->name, opts->journal_dir, (unsigned long long) report.records,
             (unsigned long long) (report.next_seq - 1 - report.confirmed),
             (unsigned long long) report.dropped_bytes, report.message);
    self->cursor = dt_journal_cursor_new (self->journal, report.confirmed + 1);

    self->ingress = zsock_new (ZMQ_ROUTER);
    //  Replies to a publisher that went away must fail visibly, not vanish
    zsock_set_router_mandatory (self->ingress, 1);
    //  A frame past twice the documented limit drops the connection; up to
    //  it the daemon answers frame_too_large itself
    zsock_set_maxmsgsize (self->ingress, 2 * DT_FRAME_MAX);
    zsock_set_sndtimeo (self->ingress, 0);
    if (opts->curve_cert) {
        char err [256];
        self->curve = dt_curve_new (opts->curve_cert, opts->curve_clients, err, sizeof err);
        if (!self->curve) {
            dt_error ("can not set up CURVE", "error=\"%s\"", err);
            dt_trackd_destroy (&self);
            return NULL;
        }
        dt_curve_server (self->curve, self->ingress);
    }
    if (zsock_bind (self->ingress, "%s", opts->ingress) < 0) {
        dt_error ("can not bind the ingress", "endpoint=%s error=\"%s\"",
                  opts->ingress, zmq_strerror (zmq_errno ()));
        dt_trackd_destroy (&self);
        return NULL;
    }
    snprintf (self->endpoint, sizeof self->endpoint, "%s",
              zsock_endpoint (self->ingress)? zsock_endpoint (self->ingress): opts->ingress);

    if (opts->http_ingress && *opts->http_ingress) {
        self->handoff = zsock_new (ZMQ_ROUTER);
        zsock_set_router_mandatory (self->handoff, 1);
        zsock_set_sndtimeo (self->handoff, 0);
        char handoff [64];
        snprintf (handoff, sizeof handoff, "inproc://dt-http-ingress-%p", (void *) self);
        char err [512];
        dt_http_ingress_opts_t http_opts = {
            .address = opts->http_ingress, .tokens_dir = opts->http_tokens,
            .cert_file = opts->http_cert, .key_file = opts->http_key,
            .handoff = handoff, .metrics = self->metrics
        };
        if (zsock_bind (self->handoff, "%s", handoff) < 0
        ||  !(self->http_ingress = dt_http_ingress_new (&http_opts, err, sizeof err))) {
            dt_error ("can not start the HTTP ingress", "track=%s address=%s error=\"%s\"",
                      self->name, opts->http_ingress, err);
            dt_trackd_destroy (&self);
            return NULL;
        }
        dt_info ("HTTP ingress ready", "track=%s address=%s port=%d tls=%s tokens=%s",
                 self->name, opts->http_ingress, dt_http_ingress_port (self->http_ingress),
                 opts->http_cert? "on": "off", opts->http_tokens);
    }
    if (s_link_connect (self)) {
        dt_trackd_destroy (&self);
        return NULL;
    }
    dt_info ("track daemon ready", "track=%s ingress=%s coordinator=%s security=%s",
             self->name, self->endpoint, opts->coordinator, self->curve? "curve": "plain");
    return self;
}

void
dt_trackd_destroy (dt_trackd_t **self_p)
{
    if (*self_p) {
        dt_trackd_t *self = *self_p;
        //  First: its threads wait on the handoff socket
        dt_http_ingress_destroy (&self->http_ingress);
        zsock_destroy (&self->handoff);
        dt_httpd_destroy (&self->httpd);
        dt_metrics_destroy (&self->metrics);
        zsock_destroy (&self->ingress);
        zsock_destroy (&self->link);
        dt_curve_destroy (&self->curve);
        zlistx_destroy (&self->inflight);
        zlistx_destroy (&self->pending);
        dt_journal_cursor_destroy (&self->cursor);
        dt_journal_destroy (&self->journal);
        dt_buf_free (&self->scratch);
        dt_buf_free (&self->item);
        free (self->rejections);
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
s_send_reply (dt_trackd_t *self, zsock_t *to, zframe_t *identity, bool req_envelope)
{
    if (dt_envelope_reply (to, &identity, req_envelope,
                           self->scratch.data, self->scratch.size))
        //  EHOSTUNREACH: the publisher disconnected; its events are stored,
        //  and a resend of the same ids will be acknowledged again
        dt_warn ("publisher gone before its reply", "track=%s error=\"%s\"",
                 self->name, zmq_strerror (zmq_errno ()));
}

static void
s_reply_error (dt_trackd_t *self, zsock_t *to, zframe_t *identity, bool req_envelope,
             bool has_req, uint64_t req, const dt_error_t *err)
{
    msgpack_packer pk;
    dt_buf_reset (&self->scratch);
    msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
    dt_reply_pack_error (&pk, has_req, req, err);
    s_send_reply (self, to, zframe_dup (identity), req_envelope);
    dt_counter_add (self->m_requests, err->code, 1);
    dt_counter_add (self->m_rejects, err->code, 1);
}

static void
s_reply_result (dt_trackd_t *self, pending_t *pending)
{
    msgpack_packer pk;
    dt_buf_reset (&self->scratch);
    msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
    dt_reply_pack_result (&pk, pending->req, pending->accepted,
                          pending->rejections, pending->rejected);
    s_send_reply (self, pending->reply_to, pending->identity, pending->req_envelope);
    dt_counter_add (self->m_requests, "ok", 1);
    dt_histogram_observe (self->m_ack_seconds, (double) (dt_mono_us () - pending->received_us) / 1e6);
    pending->identity = NULL;
}

//  --------------------------------------------------------------------------
//  Items into the journal

//  Append the item packed in self->item. Returns 0, or -1 when the journal
//  is over its disk limit (the caller answers overloaded).
static int
s_journal_item (dt_trackd_t *self)
{
    if (dt_journal_append (self->journal, self->item.data, (uint32_t) self->item.size, NULL) == 0) {
        self->unsynced = true;
        return 0;
    }
    if (errno == ENOSPC) {
        if (!self->overloaded)
            dt_warn ("journal full: answering overloaded until the coordinator catches up",
                     "track=%s bytes=%llu", self->name,
                     (unsigned long long) dt_journal_bytes (self->journal));
        self->overloaded = true;
        return -1;
    }
    dt_error ("journal write failed: exiting so a restart recovers from disk",
              "track=%s error=\"%s\"", self->name, strerror (errno));
    self->failed = true;
    return -1;
}

static int
s_journal_event (dt_trackd_t *self, const dt_event_t *event)
{
    dt_buf_reset (&self->item);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->item, dt_buf_msgpack_write);
    dt_item_pack_event (&pk, event);
    return s_journal_item (self);
}

//  publisher: who sent it, as authenticated (NULL: unknown)
static void
s_journal_reject (dt_trackd_t *self, int64_t received_at, int32_t index,
                const dt_error_t *err, dt_str_t event_id, const char *raw, size_t raw_size,
                const char *publisher)
{
    dt_reject_t reject = {
        .received_at = received_at, .track = self->opts.track, .index = index,
        .code = dt_str_c (err->code), .field = dt_str_c (err->field),
        .message = dt_str_c (err->message), .event_id = event_id,
        .publisher = dt_str_c (publisher? publisher: ""),
        .raw = raw, .raw_size = raw_size
    };
    dt_buf_reset (&self->item);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->item, dt_buf_msgpack_write);
    dt_item_pack_reject (&pk, &reject);
    //  A reject that does not fit under the disk limit is still answered;
    //  only its row in the rejects table is lost, and the log says so
    if (s_journal_item (self))
        dt_warn ("reject not recorded: journal full", "track=%s code=%s", self->name, err->code);
}

//  A rejected event's own bytes, for rejects.raw
static void
s_journal_event_reject (dt_trackd_t *self, int64_t received_at, int32_t index,
                      const dt_error_t *err, const msgpack_object *obj, dt_str_t event_id,
                      const char *publisher)
{
    dt_buf_t raw = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &raw, dt_buf_msgpack_write);
    msgpack_pack_object (&pk, *obj);
    s_journal_reject (self, received_at, index, err, event_id, raw.data, raw.size, publisher);
    dt_buf_free (&raw);
}

//  --------------------------------------------------------------------------
//  Ingress

//  Receive times are strictly increasing per daemon, so (track, received_at,
//  index) names a reject uniquely and a resent one is stored once
static int64_t
s_next_received_at (dt_trackd_t *self)
{
    int64_t now = dt_now_us ();
    self->last_received_at = now > self->last_received_at? now: self->last_received_at + 1;
    return self->last_received_at;
}

//  A request from either ingress: from is the socket to answer on,
//  publisher who sent it as authenticated (NULL: unknown, plain ZeroMQ)
static void
s_handle_request (dt_trackd_t *self, zsock_t *from, zframe_t *identity, bool req_envelope,
                const char *data, size_t size, bool multipart, const char *publisher)
{
    int64_t received_at = s_next_received_at (self);
    dt_error_t err;
    dt_str_t no_id = { "", 0 };
    self->received++;

    if (self->overloaded) {
        dt_error_set (&err, "overloaded", "",
                      "the track's journal is at its disk limit; send again later");
        s_reply_error (self, from, identity, req_envelope, false, 0, &err);
        return;
    }
    if (multipart) {
        dt_error_set (&err, "bad_request", "",
                      "multipart message: send the request as one frame");
        s_reply_error (self, from, identity, req_envelope, false, 0, &err);
        s_journal_reject (self, received_at, -1, &err, no_id, data, size, publisher);
        return;
    }
    if (size > DT_FRAME_MAX) {
        dt_error_set (&err, "frame_too_large", "",
                      "frame of %zu bytes; at most %d allowed", size, DT_FRAME_MAX);
        s_reply_error (self, from, identity, req_envelope, false, 0, &err);
        s_journal_reject (self, received_at, -1, &err, no_id, data, size, publisher);
        return;
    }
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_request_t request = { 0 };
    if (dt_wire_unpack (&unpacked, data, size, &err)
    ||  dt_request_parse (&unpacked.data, &request, &err)) {
        s_reply_error (self, from, identity, req_envelope, request.has_req, request.req, &err);
        s_journal_reject (self, received_at, -1, &err, no_id, data, size, publisher);
        msgpack_unpacked_destroy (&unpacked);
        return;
    }

    uint32_t accepted = 0, rejected = 0;
    for (uint32_t i = 0; i < request.count; i++) {
        dt_event_t event;
        if (dt_event_decode (&request.events [i], &self->opts.stages, DT_FORM_INGRESS,
                             self->opts.track, &event, &err) == 0) {
            event.received_at = received_at;
            if (publisher) {
                event.publisher = dt_str_c (publisher);
                event.present |= DT_HAS_PUBLISHER;
            }
            if (s_journal_event (self, &event) == 0) {
                accepted++;
                continue;
            }
            dt_error_set (&err, "overloaded", "",
                          "the track can not take more events now; send again later");
        }
        dt_str_t id = dt_salvage_id (&request.events [i]);
        dt_rejection_t *r = &self->rejections [rejected++];
        r->index = i;
        snprintf (r->id, sizeof r->id, "%.*s", (int) id.len, id.ptr);
        r->error = err;
        s_journal_event_reject (self, received_at, (int32_t) i, &err, &request.events [i], id, publisher);
    }
    msgpack_unpacked_destroy (&unpacked);
    self->accepted += accepted;
    self->rejected += rejected;
    dt_counter_add (self->m_events, "accepted", accepted);
    dt_counter_add (self->m_events, "rejected", rejected);
    for (uint32_t i = 0; i < rejected; i++)
        dt_counter_add (self->m_rejects, self->rejections [i].error.code, 1);

    pending_t *pending = calloc (1, sizeof *pending);
    pending->reply_to = from;
    pending->identity = zframe_dup (identity);
    pending->req_envelope = req_envelope;
    pending->req = request.req;
    pending->received_us = dt_mono_us ();
    pending->accepted = accepted;
    pending->rejected = rejected;
    pending->upto = dt_journal_next_seq (self->journal) - 1;
    if (rejected) {
        pending->rejections = malloc (rejected * sizeof (dt_rejection_t));
        memcpy (pending->rejections, self->rejections, rejected * sizeof (dt_rejection_t));
    }
    zlistx_add_end (self->pending, pending);
}

//  Read one message from the ingress ROUTER: [identity] ([empty]) payload...
static void
s_ingress_recv (dt_trackd_t *self)
{
    zmsg_t *msg = zmsg_recv (self->ingress);
    if (!msg)
        return;
    bool req_envelope;
    zframe_t *identity = dt_envelope_open (msg, &req_envelope);
    size_t frames = zmsg_size (msg);
    zframe_t *payload = zmsg_first (msg);
    if (frames == 0 || !payload) {
        dt_error_t err;
        dt_error_set (&err, "bad_request", "", "empty message: send one msgpack map");
        s_reply_error (self, self->ingress, identity, req_envelope, false, 0, &err);
        dt_str_t no_id = { "", 0 };
        s_journal_reject (self, s_next_received_at (self), -1, &err, no_id, "", 0, NULL);
    }
    else {
        //  With CURVE, the ZAP handler named the client (base/curve.h)
        const char *user = self->curve? zframe_meta (payload, "User-Id"): NULL;
        s_handle_request (self, self->ingress, identity, req_envelope,
                        (const char *) zframe_data (payload), zframe_size (payload),
                        frames > 1, user && *user? user: NULL);
    }
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

//  One request from the HTTP ingress (http_ingress.h, "the handoff")
static void
s_handoff_recv (dt_trackd_t *self)
{
    zmsg_t *msg = zmsg_recv (self->handoff);
    if (!msg)
        return;
    zframe_t *identity = zmsg_pop (msg);
    char *publisher = zmsg_popstr (msg);
    zframe_t *body = zmsg_pop (msg);
    if (identity && publisher && body && zmsg_size (msg) == 0)
        s_handle_request (self, self->handoff, identity, false,
                        (const char *) zframe_data (body), zframe_size (body), false, publisher);
    else
    if (identity && publisher && body && zmsg_size (msg) == 3) {
        //  A body refused before it was msgpack: answered and recorded as
        //  the ZeroMQ path records a frame it can not read
        char *code = zmsg_popstr (msg), *field = zmsg_popstr (msg), *message = zmsg_popstr (msg);
        dt_error_t err;
        //  The code is one of jsonreq's, a static string there
        dt_error_set (&err, "bad_request", field, "%s", message);
        self->received++;
        s_reply_error (self, self->handoff, identity, false, false, 0, &err);
        dt_str_t no_id = { "", 0 };
        s_journal_reject (self, s_next_received_at (self), -1, &err, no_id,
                          (const char *) zframe_data (body), zframe_size (body), publisher);
        free (code);
        free (field);
        free (message);
    }
    zframe_destroy (&body);
    free (publisher);
    zframe_destroy (&identity);
    zmsg_destroy (&msg);
}

//  --------------------------------------------------------------------------
//  Link to the coordinator

//  Send again what a lost link left unacknowledged, then read synced
//  journal records into new batches, as far as credit and window allow
static void
s_forward (dt_trackd_t *self)
{
    for (inflight_t *batch = zlistx_first (self->inflight); batch;
         batch = zlistx_next (self->inflight)) {
        int64_t items = (int64_t) (batch->last - batch->first + 1);
        if (batch->sent || batch->acked || self->credit < items)
            continue;
        s_link_send (self, batch->frame);
        batch->sent = true;
        batch->sent_at = dt_mono_ms ();
        self->credit -= items;
    }
    while ((int) zlistx_size (self->inflight) < self->opts.window && self->credit > 0) {
        uint32_t limit = (uint32_t) self->opts.batch_max;
        if ((int64_t) limit > self->credit)
            limit = (uint32_t) self->credit;
        dt_buf_reset (&self->scratch);
        uint32_t count = 0;
        uint64_t first = 0, seq = 0;
        const void *data;
        uint32_t len;
        int rc = 0;
        while (count < limit
           && (rc = dt_journal_cursor_next (self->cursor, &data, &len, &seq)) == 1) {
            if (count++ == 0)
                first = seq;
            dt_buf_append (&self->scratch, data, len);
        }
        if (rc < 0) {
            dt_error ("journal read failed: exiting so a restart recovers from disk",
                      "track=%s error=\"%s\"", self->name, strerror (errno));
            self->failed = true;
        }
        if (count == 0)
            return;
        dt_buf_t frame = { 0 };
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
        dt_link_batch_pack_head (&pk, self->name, first, count);
        dt_buf_append (&frame, self->scratch.data, self->scratch.size);

        inflight_t *batch = calloc (1, sizeof *batch);
        batch->first = first;
        batch->last = seq;
        batch->frame = zframe_new (frame.data, frame.size);
        batch->sent = true;
        batch->sent_at = dt_mono_ms ();
        dt_buf_free (&frame);
        s_link_send (self, batch->frame);
        self->credit -= count;
        dt_counter_add (self->m_batches, NULL, 1);
        dt_histogram_observe (self->m_batch_items, count);
        zlistx_add_end (self->inflight, batch);
    }
}

//  One fdatasync for every item appended since the last, then the answers
static void
s_sync_and_answer (dt_trackd_t *self)
{
    if (self->unsynced) {
        if (dt_journal_sync (self->journal)) {
            dt_error ("journal sync failed: exiting so a restart recovers from disk",
                      "track=%s error=\"%s\"", self->name, strerror (errno));
            self->failed = true;
            return;
        }
        self->unsynced = false;
    }
    uint64_t synced = dt_journal_synced (self->journal);
    pending_t *pending;
    while ((pending = zlistx_first (self->pending)) && pending->upto <= synced) {
        s_reply_result (self, pending);
        zlistx_delete (self->pending, NULL);
    }
}

//  Heartbeat; a coordinator silent past liveness is gone. (A batch that a
//  live coordinator has not acknowledged yet is waiting for a commit: it is
//  resent only when that coordinator restarts or goes silent.)
static void
s_link_tick (dt_trackd_t *self)
{
    int64_t now = dt_mono_ms ();
    //  A hello lost with a coordinator that died before answering it: the
    //  next coordinator answers pings but grants nothing until asked again
    if (!self->credited && now - self->hello_at > 2 * self->opts.heartbeat_ms) {
        s_link_send_control (self, dt_link_hello_pack);
        self->hello_at = now;
    }
    if (now - self->last_heard > self->opts.liveness_ms) {
        if (self->link_up || now - self->hello_at > 10 * self->opts.liveness_ms)
            dt_warn ("coordinator silent: connecting again", "track=%s unacknowledged_batches=%zu",
                     self->name, zlistx_size (self->inflight));
        self->link_up = false;
        s_link_connect (self);
    }
    else
    if (now - self->last_ping >= self->opts.heartbeat_ms) {
        //  Pinged even while batches flow: the coordinator answers pings at
        //  once, acks only after a commit, which may take longer than liveness
        s_link_send_control (self, dt_link_ping_pack);
        self->last_ping = now;
    }
}

//  The coordinator committed one batch. The journal is trimmed only over the
//  run of acknowledged batches at the head: a batch lost with a crashed
//  coordinator keeps everything after it in the journal until it is resent.
static void
s_handle_ack (dt_trackd_t *self, uint64_t first, uint64_t upto)
{
    inflight_t *batch;
    for (batch = zlistx_first (self->inflight); batch; batch = zlistx_next (self->inflight))
        if (batch->first == first && batch->last == upto)
            batch->acked = true;
    if (upto >= first && upto - first < (uint64_t) self->opts.batch_max)
        self->credit += (int64_t) (upto - first + 1);
    uint64_t confirmed = 0;
    while ((batch = zlistx_first (self->inflight)) && batch->acked) {
        confirmed = batch->last;
        zlistx_delete (self->inflight, NULL);
    }
    if (confirmed == 0)
        return;
    dt_counter_add (self->m_acked, NULL, confirmed - dt_journal_confirmed (self->journal));
    dt_journal_confirm (self->journal, confirmed);
    if (self->overloaded && dt_journal_bytes (self->journal) < self->opts.journal_max_bytes / 2) {
        self->overloaded = false;
        dt_info ("journal below half its limit: taking events again", "track=%s", self->name);
    }
}

static void
s_link_recv (dt_trackd_t *self)
{
    zframe_t *frame = zframe_recv (self->link);
    if (!frame)
        return;
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    dt_link_msg_t msg;
    if (dt_wire_unpack (&unpacked, (const char *) zframe_data (frame), zframe_size (frame), &err) == 0
    &&  dt_link_open (&unpacked.data, &msg) == 0) {
        //  Any message is a sign of life, even one this track does not know
        if (!self->link_up)
            dt_info ("coordinator link up", "track=%s", self->name);
        self->link_up = true;
        self->last_heard = dt_mono_ms ();
        //  A new coordinator instance lost what the old one had not
        //  committed: start over with hello, and resend once credited
        if (self->coordinator_instance && msg.instance && msg.instance != self->coordinator_instance) {
            dt_warn ("the coordinator restarted: sending unacknowledged batches again",
                     "track=%s batches=%zu", self->name, zlistx_size (self->inflight));
            s_link_connect (self);
            msgpack_unpacked_destroy (&unpacked);
            zframe_destroy (&frame);
            return;
        }
        if (msg.instance)
            self->coordinator_instance = msg.instance;
        if (msg.type == DT_LINK_ACK)
            s_handle_ack (self, msg.first, msg.upto);
        else
        if (msg.type == DT_LINK_CREDIT) {
            self->credit = (int64_t) msg.credit;
            self->credited = true;
        }
    }
    else
        dt_warn ("unreadable message from the coordinator", "track=%s size=%zu",
                 self->name, zframe_size (frame));
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&frame);
}

//  SIGHUP: the publishers' allow-list is re-read at once, not when its
//  directory next looks changed
static void
s_reload (dt_trackd_t *self)
{
    dt_reload_requested = 0;
    if (self->curve && dt_curve_reload (self->curve) == 0)
        dt_info ("SIGHUP: allow-list re-read", "track=%s allow_list=%s",
                 self->name, self->opts.curve_clients);
    else
        dt_info ("SIGHUP: no allow-list to re-read", "track=%s", self->name);
    if (self->http_ingress)
        dt_info ("SIGHUP: token directory re-read", "track=%s dir=%s tokens=%d", self->name,
                 self->opts.http_tokens, dt_http_ingress_reload (self->http_ingress));
}

//  --------------------------------------------------------------------------

//  What runs after every wake-up of the loop, whatever woke it: SIGHUP and
//  SIGTERM, one fdatasync for all that came in (then the answers), batches
//  forwarded, and the end of a drain. -1 ends the loop.
static int
s_loop_turn (dt_trackd_t *self)
{
    if (dt_reload_requested)
        s_reload (self);
    if (dt_stop_requests && !self->draining) {
        self->draining = true;
        self->drain_deadline = dt_mono_ms () + self->opts.drain_ms;
        zloop_reader_end (self->loop, self->ingress);
        //  HTTP requests already handed over are still answered
        if (self->http_ingress)
            dt_http_ingress_stop (self->http_ingress);
        dt_info ("stopping: no new requests; forwarding what the journal holds",
                 "track=%s to_forward=%llu", self->name,
                 (unsigned long long) dt_journal_depth (self->journal));
    }
    s_sync_and_answer (self);
    s_forward (self);
    s_metrics_update (self);
    if (self->failed)
        return -1;
    if (self->draining && zlistx_size (self->pending) == 0) {
        //  Everything accepted is on disk: exit once it is forwarded, or
        //  when the drain time is up (a restart forwards the rest)
        uint64_t left = dt_journal_depth (self->journal);
        if (left == 0 || dt_stop_requests > 1 || dt_mono_ms () > self->drain_deadline) {
            dt_info ("stopped", "track=%s received=%llu accepted=%llu rejected=%llu "
                     "left_in_journal=%llu", self->name,
                     (unsigned long long) self->received, (unsigned long long) self->accepted,
                     (unsigned long long) self->rejected, (unsigned long long) left);
            self->stopped = true;
            return -1;
        }
    }
    return 0;
}

static int
s_on_link (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop, (void) reader;     //  self->link: s_link_recv may make it anew
    dt_trackd_t *self = (dt_trackd_t *) arg;
    while (zsock_events (self->link) & ZMQ_POLLIN)
        s_link_recv (self);
    s_link_tick (self);
    return s_loop_turn (self);
}

static int
s_on_ingress (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop, (void) reader;
    dt_trackd_t *self = (dt_trackd_t *) arg;
    //  Take what is queued, up to a bound, then sync once for all of it
    for (int n = 0; n < 256 && !self->failed
         && (zsock_events (self->ingress) & ZMQ_POLLIN); n++)
        s_ingress_recv (self);
    s_link_tick (self);
    return s_loop_turn (self);
}

static int
s_on_handoff (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop, (void) reader;
    dt_trackd_t *self = (dt_trackd_t *) arg;
    for (int n = 0; n < 256 && !self->failed
         && (zsock_events (self->handoff) & ZMQ_POLLIN); n++)
        s_handoff_recv (self);
    s_link_tick (self);
    return s_loop_turn (self);
}

//  Heartbeats, liveness and the drain's deadline when nothing arrives
static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    dt_trackd_t *self = (dt_trackd_t *) arg;
    s_link_tick (self);
    return s_loop_turn (self);
}

int
dt_trackd_run (dt_trackd_t *self)
{
    self->loop = zloop_new ();
    zloop_reader (self->loop, self->link, s_on_link, self);
    zloop_reader_set_tolerant (self->loop, self->link);
    zloop_reader (self->loop, self->ingress, s_on_ingress, self);
    zloop_reader_set_tolerant (self->loop, self->ingress);
    if (self->handoff) {
        zloop_reader (self->loop, self->handoff, s_on_handoff, self);
        zloop_reader_set_tolerant (self->loop, self->handoff);
    }
    zloop_timer (self->loop, 100, 0, s_on_tick, self);
    int rc = s_loop_turn (self);
    //  A signal interrupts zloop_start (rc 0): its flag is read, and the
    //  loop goes on
    while (rc == 0) {
        rc = zloop_start (self->loop);
        if (rc == 0 && zmq_errno () != EINTR) {
            dt_error ("poll failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            rc = -1;
        }
        else
        if (rc == 0)
            rc = s_loop_turn (self);
    }
    zloop_destroy (&self->loop);
    return self->stopped? 0: -1;
}
