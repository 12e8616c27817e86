/*  follow.c - the decisions feed followed without loss, with catch-up from
    the store and a cursor file (see follow.h): `dualtrack watch` and
    `dualtrack relay` both read the feed through it.

    It subscribes to every topic when resuming, to see every seq, and
    filters here.
*/
#include "cli/follow.h"
#include "cli/cli.h"
#include "cli/topics.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/signals.h"
#include "proto/catchup.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Verdicts per catch-up page; how long to wait for one before asking
//  again (a coordinator restarting loses the question), and how often
#define PAGE_LIMIT 1000
#define PAGE_WAIT_MS 2000
#define PAGE_ASKS 30

struct _dt_follow_t {
    dt_follow_opts_t opts;
    dt_follow_fn *fn;
    void *ctx;
    zsock_t *sub;
    zsock_t *catchup;               //  DEALER to the catch-up API
    uint64_t req;
    uint64_t last;                  //  the last verdict seq handled
    uint64_t advisory_last;         //  the last advisory message's seq
    bool done;                      //  the handler said DONE or STOP
    uint64_t cursor_saved;
    int64_t cursor_saved_at;
};

//  A signal asked to stop: the CLI's (czmq's handler) or a daemon's
static bool
s_stopping (void)
{
    return zsys_interrupted || dt_stop_requests;
}

static void
s_say (dt_follow_t *self, const char *format, ...)
{
    char text [512];
    va_list args;
    va_start (args, format);
    vsnprintf (text, sizeof text, format, args);
    va_end (args);
    if (self->opts.logfmt)
        dt_warn (text, NULL);
    else
        fprintf (stderr, "%s: %s\n", self->opts.prog, text);
}

static bool
s_starts_with (dt_str_t text, const char *prefix)
{
    size_t len = strlen (prefix);
    return text.len >= len && memcmp (text.ptr, prefix, len) == 0;
}

typedef enum { TAKEN, DUPLICATE, GAP, STOPPED } s_taken_t;

//  One message, live (a missing seq is a gap) or caught up (the API skips
//  verdicts the prefix does not match). Advisory messages share their
//  verdict's seq and follow it. The seq moves only once the handler has it.
static s_taken_t
s_take (dt_follow_t *self, dt_str_t topic, const msgpack_object *message, bool live)
{
    uint64_t seq = 0;
    bool sequenced = self->opts.resume && dt_map_uint (message, "seq", &seq) && seq > 0;
    bool advisory = s_starts_with (topic, "advisory.");
    if (sequenced && advisory) {
        if (seq <= self->advisory_last)
            return DUPLICATE;
        //  Live, its verdict's message comes first: else it was lost
        if (live && seq > self->last)
            return GAP;
    }
    else
    if (sequenced) {
        if (seq <= self->last)
            return DUPLICATE;
        if (live && seq > self->last + 1)
            return GAP;
    }
    if (dt_topics_match (self->opts.topics, topic)) {
        dt_follow_act_t act = self->fn (self->ctx, topic, message);
        if (act == DT_FOLLOW_STOP) {
            self->done = true;
            return STOPPED;
        }
        if (act == DT_FOLLOW_DONE)
            self->done = true;
    }
    if (sequenced && advisory)
        self->advisory_last = seq;
    else
    if (sequenced) {
        self->last = seq;
        //  A catch-up page can take long to handle (a relay's retries):
        //  the cursor follows within it, not only between pages
        dt_follow_save (self, false);
    }
    return TAKEN;
}

//  0 and the seq in the file, 1 when there is no file, -1 when it is not a seq
static int
s_cursor_load (const char *path, uint64_t *seq)
{
    FILE *file = fopen (path, "r");
    if (!file)
        return errno == ENOENT? 1: -1;
    char text [32] = "";
    char *end = NULL;
    bool read = fgets (text, sizeof text, file) != NULL;
    fclose (file);
    errno = 0;
    *seq = read? strtoull (text, &end, 10): 0;
    return read && end != text && (*end == '\n' || *end == 0) && errno == 0? 0: -1;
}

//  The SUB socket to the feed: 0, or -1 after saying why
static int
s_subscribe (dt_follow_t *self)
{
    const dt_follow_opts_t *opts = &self->opts;
    self->sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (self->sub, 0);
    if (dt_cli_secure (self->sub, opts->cert, opts->server_cert))
        return -1;
    //  Resuming: every topic, to see every seq
    zlist_t *topics = opts->topics;
    if (!topics || zlist_size (topics) == 0 || opts->resume)
        zsock_set_subscribe (self->sub, "");
    else
        for (char *topic = zlist_first (topics); topic; topic = zlist_next (topics))
            zsock_set_subscribe (self->sub, topic);
    if (zsock_connect (self->sub, "%s", opts->endpoint) < 0) {
        s_say (self, "bad endpoint %s", opts->endpoint);
        return -1;
    }
    return 0;
}

dt_follow_t *
dt_follow_new (const dt_follow_opts_t *opts, dt_follow_fn *fn, void *ctx)
{
    dt_follow_t *self = calloc (1, sizeof *self);
    self->opts = *opts;
    self->fn = fn;
    self->ctx = ctx;
    self->last = opts->since;
    self->cursor_saved = UINT64_MAX;
    if (opts->cursor_path) {
        int loaded = s_cursor_load (opts->cursor_path, &self->last);
        if (loaded < 0) {
            s_say (self, "the cursor %s does not hold a seq", opts->cursor_path);
            dt_follow_destroy (&self);
            return NULL;
        }
        if (loaded == 0)
            self->cursor_saved = self->last;
    }
    self->advisory_last = self->last;

    //  No endpoint: the catch-up API alone
    if (opts->endpoint && s_subscribe (self)) {
        dt_follow_destroy (&self);
        return NULL;
    }
    if (opts->resume) {
        self->catchup = zsock_new (ZMQ_DEALER);
        zsock_set_rcvtimeo (self->catchup, PAGE_WAIT_MS);
        if (dt_cli_secure (self->catchup, opts->cert, opts->server_cert)
        ||  zsock_connect (self->catchup, "%s", opts->catchup) < 0) {
            s_say (self, "bad catch-up endpoint %s", opts->catchup);
            dt_follow_destroy (&self);
            return NULL;
        }
    }
    return self;
}

void
dt_follow_destroy (dt_follow_t **self_p)
{
    if (*self_p) {
        dt_follow_t *self = *self_p;
        zsock_destroy (&self->catchup);
        zsock_destroy (&self->sub);
        free (self);
        *self_p = NULL;
    }
}

//  Ask the catch-up API for everything after self->last, page by page,
//  until it has no more
int
dt_follow_catch_up (dt_follow_t *self)
{
    return dt_follow_catch_up_pages (self, INT_MAX, NULL);
}

int
dt_follow_catch_up_pages (dt_follow_t *self, int pages, bool *more_p)
{
    if (more_p)
        *more_p = false;
    if (!self->opts.resume)
        return 0;
    uint32_t limit = self->opts.page_limit? self->opts.page_limit: PAGE_LIMIT;
    //  One topic: the API filters; else every verdict, filtered here
    zlist_t *topics = self->opts.topics;
    const char *prefix = topics && zlist_size (topics) == 1? zlist_first (topics): "";
    bool more = true;
    int asked = 0;
    while (more && !self->done && pages > 0) {
        dt_buf_t frame = { 0 };
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
        uint64_t req = ++self->req;
        dt_catchup_request_pack (&pk, req, self->last, prefix, limit);
        zframe_t *request = zframe_new (frame.data, frame.size);
        dt_buf_free (&frame);
        zframe_send (&request, self->catchup, 0);
        zframe_t *reply = NULL;
        msgpack_unpacked answer;
        msgpack_unpacked_init (&answer);
        dt_catchup_reply_t page;
        int rc = -1;
        //  Replies to earlier requests (after a timeout) are skipped
        while (rc && (reply = zframe_recv (self->catchup))) {
            dt_error_t err;
            uint64_t reply_req = 0;
            if (dt_wire_unpack (&answer, (const char *) zframe_data (reply), zframe_size (reply), &err) == 0
            &&  dt_map_uint (&answer.data, "req", &reply_req) && reply_req == req)
                rc = dt_catchup_reply_open (&answer.data, &page);
            if (rc)
                zframe_destroy (&reply);
        }
        if (!reply) {
            msgpack_unpacked_destroy (&answer);
            if (++asked < PAGE_ASKS && !s_stopping ())
                continue;
            s_say (self, "no answer from the catch-up API %s", self->opts.catchup);
            return -1;
        }
        asked = 0;
        const msgpack_object *code = page.error? dt_map_get (page.error, "code"): NULL;
        if (code && code->type == MSGPACK_OBJECT_STR && dt_str_eq (dt_str_of (code), "unavailable")
        &&  ++asked < PAGE_ASKS && !s_stopping ()) {
            //  The coordinator is starting, or PostgreSQL is away: again soon
            msgpack_unpacked_destroy (&answer);
            zframe_destroy (&reply);
            zclock_sleep (500);
            continue;
        }
        if (page.error) {
            const msgpack_object *message = dt_map_get (page.error, "message");
            dt_str_t code_text = code && code->type == MSGPACK_OBJECT_STR? dt_str_of (code): (dt_str_t) { "-", 1 };
            dt_str_t text = message && message->type == MSGPACK_OBJECT_STR? dt_str_of (message): (dt_str_t) { "", 0 };
            s_say (self, "the catch-up API refused: %.*s: %.*s", (int) code_text.len, code_text.ptr,
                   (int) text.len, text.ptr);
            msgpack_unpacked_destroy (&answer);
            zframe_destroy (&reply);
            return -1;
        }
        for (uint32_t i = 0; i < page.items->via.array.size && !self->done; i++) {
            dt_str_t topic;
            const msgpack_object *message;
            if (dt_catchup_item_open (&page.items->via.array.ptr [i], &topic, &message) == 0)
                s_take (self, topic, message, false);
        }
        //  The page covers the verdicts the prefix skipped too
        if (!self->done && page.last > self->last)
            self->last = page.last;
        more = page.more;
        pages--;
        msgpack_unpacked_destroy (&answer);
        zframe_destroy (&reply);
        dt_follow_save (self, false);
    }
    if (more_p)
        *more_p = more && !self->done;
    return 0;
}

int
dt_follow_poll (dt_follow_t *self, int timeout_ms)
{
    if (!self->sub) {
        zclock_sleep (timeout_ms);
        return 0;
    }
    zmq_pollitem_t item = { zsock_resolve (self->sub), 0, ZMQ_POLLIN, 0 };
    if (zmq_poll (&item, 1, timeout_ms) <= 0)
        return 0;       //  quiet, or a signal
    zframe_t *topic_frame = zframe_recv (self->sub);
    zframe_t *body = topic_frame && zframe_more (topic_frame)? zframe_recv (self->sub): NULL;
    msgpack_unpacked verdict;
    msgpack_unpacked_init (&verdict);
    dt_error_t err;
    int rc = 1;
    if (body && dt_wire_unpack (&verdict, (const char *) zframe_data (body),
                                zframe_size (body), &err) == 0) {
        dt_str_t topic = { (const char *) zframe_data (topic_frame),
                           (uint32_t) zframe_size (topic_frame) };
        //  A seq missing: what came between is in the store
        if (s_take (self, topic, &verdict.data, true) == GAP
        &&  (dt_follow_catch_up (self) || s_take (self, topic, &verdict.data, true) == GAP)
        &&  !self->done) {
            s_say (self, "seq %llu is missing and the catch-up API does not have it",
                   (unsigned long long) self->last + 1);
            rc = -1;
        }
    }
    msgpack_unpacked_destroy (&verdict);
    zframe_destroy (&body);
    zframe_destroy (&topic_frame);
    return rc;
}

bool
dt_follow_done (dt_follow_t *self)
{
    return self->done;
}

uint64_t
dt_follow_last (dt_follow_t *self)
{
    return self->last;
}

int
dt_follow_save (dt_follow_t *self, bool now)
{
    const char *path = self->opts.cursor_path;
    if (!path || self->cursor_saved == self->last)
        return 0;
    if (!now && zclock_mono () - self->cursor_saved_at < 1000)
        return 0;
    char text [32];
    int len = snprintf (text, sizeof text, "%llu\n", (unsigned long long) self->last);
    if (dt_cli_write_atomic (path, text, (size_t) len, 0644)) {
        s_say (self, "can not write the cursor %s: %s", path, strerror (errno));
        return -1;
    }
    self->cursor_saved = self->last;
    self->cursor_saved_at = zclock_mono ();
    return 0;
}
