/*  catchup.c - see catchup.h
*/
#include "coordinator/catchup.h"
#include "base/buf.h"
#include "base/envelope.h"
#include "base/log.h"
#include "base/signals.h"
#include "coordinator/decision.h"
#include "proto/catchup.h"
#include "store/feedlog.h"

#include <string.h>

typedef struct {
    const dt_catchup_args_t *args;
    dt_feedlog_t *log;
    dt_buf_t items;                 //  the reply's items, packed
    dt_buf_t reply;
    msgpack_packer items_pk;
    const char *prefix;
    uint32_t item_count;
    uint64_t last;                  //  the last verdict read
} s_catchup_t;

static bool
s_starts_with (const char *text, const char *prefix)
{
    return strncmp (text, prefix, strlen (prefix)) == 0;
}

//  Can the prefix match an advisory topic "advisory.<track>"? Those depend
//  on the findings, so such requests are filtered here, not in SQL.
static bool
s_may_be_advisory (const char *prefix)
{
    return s_starts_with ("advisory.", prefix) || s_starts_with (prefix, "advisory.");
}

//  One verdict read back: its messages on the feed, those the prefix matches
static void
s_add_verdict (void *ctx, const dt_feed_verdict_t *v)
{
    s_catchup_t *self = (s_catchup_t *) ctx;
    self->last = v->seq;
    char topic [64];
    dt_decision_topic (topic, sizeof topic, &v->event, v->verdict);
    dt_track_t advised = dt_decision_advised (&v->event, self->args->stages, v->findings,
                                              v->finding_count);
    for (int part = 0; part < 2; part++) {
        if (part == 1) {
            if (advised == DT_TRACK_NONE)
                break;
            dt_decision_advisory_topic (topic, sizeof topic, advised);
        }
        if (!s_starts_with (topic, self->prefix))
            continue;
        msgpack_pack_array (&self->items_pk, 2);
        dt_pack_cstr (&self->items_pk, topic);
        dt_decision_pack (&self->items_pk, &v->event, v->verdict, v->findings, v->finding_count,
                          v->account_key, v->contact_key, v->seq);
        self->item_count++;
    }
}

//  Answer one request into self->reply; -1 with err when it is refused
static int
s_answer (s_catchup_t *self, const dt_catchup_request_t *request, dt_error_t *err)
{
    uint64_t published = atomic_load (self->args->published);
    //  Until the coordinator has read where the numbering stands
    if (published == UINT64_MAX)
        return dt_error_set (err, "unavailable", "", "the coordinator is starting; ask again later");
    dt_buf_reset (&self->items);
    self->item_count = 0;
    self->prefix = request->prefix;
    self->last = request->after;
    bool more = false;
    if (request->after < published) {
        char text [256] = "";
        if (!dt_feedlog_connected (self->log) && dt_feedlog_connect (self->log, text, sizeof text)) {
            dt_warn ("catch-up: PostgreSQL not reachable", "error=\"%s\"", text);
            return dt_error_set (err, "unavailable", "", "the store is not reachable; ask again later");
        }
        const char *verdict_prefix = *request->prefix && !s_may_be_advisory (request->prefix)?
                                     request->prefix: NULL;
        int64_t read = dt_feedlog_read (self->log, request->after, published, verdict_prefix,
                                        request->limit, s_add_verdict, self, text, sizeof text);
        if (read < 0) {
            dt_warn ("catch-up: query failed", "error=\"%s\"", text);
            return dt_error_set (err, "unavailable", "", "the store did not answer; ask again later");
        }
        //  A short page read everything up to the last published seq
        if (read < request->limit)
            self->last = published;
        more = self->last < published;
    }
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->reply, dt_buf_msgpack_write);
    dt_catchup_reply_pack_head (&pk, request->req, self->last, more, self->item_count);
    dt_buf_append (&self->reply, self->items.data, self->items.size);
    return 0;
}

static void
s_handle (s_catchup_t *self, zsock_t *router)
{
    zmsg_t *msg = zmsg_recv (router);
    if (!msg)
        return;
    bool req_envelope;
    zframe_t *identity = dt_envelope_open (msg, &req_envelope);
    zframe_t *body = zmsg_first (msg);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    dt_catchup_request_t request = { 0 };
    dt_buf_reset (&self->reply);
    int rc = -1;
    if (!body || zmsg_size (msg) != 1)
        dt_error_set (&err, "bad_request", "", "send one frame: {v, req, after, prefix, limit}");
    else
    if (dt_wire_unpack (&unpacked, (const char *) zframe_data (body), zframe_size (body), &err) == 0
    &&  dt_catchup_request_open (&unpacked.data, &request, &err) == 0)
        rc = s_answer (self, &request, &err);
    if (rc) {
        dt_buf_reset (&self->reply);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->reply, dt_buf_msgpack_write);
        dt_reply_pack_error (&pk, request.has_req, request.req, &err);
    }
    dt_counter_add (self->args->requests, rc? err.code: "ok", 1);
    dt_envelope_reply (router, &identity, req_envelope, self->reply.data, self->reply.size);
    msgpack_unpacked_destroy (&unpacked);
    zmsg_destroy (&msg);
}

void
dt_catchup_actor (zsock_t *pipe, void *args)
{
    s_catchup_t self = { .args = (const dt_catchup_args_t *) args };
    dt_signals_block_thread ();
    self.log = dt_feedlog_new (self.args->pg_uri, self.args->pg_password, self.args->stages);
    msgpack_packer_init (&self.items_pk, &self.items, dt_buf_msgpack_write);
    zpoller_t *poller = zpoller_new (pipe, self.args->router, NULL);
    zsock_signal (pipe, 0);
    while (true) {
        void *which = zpoller_wait (poller, -1);
        if (which == self.args->router)
            s_handle (&self, self.args->router);
        else
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool term = !command || streq (command, "$TERM");
            zstr_free (&command);
            if (term)
                break;
        }
        //  NULL: interrupted (signals belong to the link thread); $TERM ends it
    }
    zpoller_destroy (&poller);
    dt_feedlog_destroy (&self.log);
    dt_buf_free (&self.items);
    dt_buf_free (&self.reply);
}
