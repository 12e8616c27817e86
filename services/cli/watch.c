/*  watch.c - `dualtrack watch`: tail the decisions feed, a line per
    touchpoint and a line per finding.

    With --since or --cursor it resumes (proto/PROTOCOL.md, "Resuming the
    feed"): it subscribes first, then asks the catch-up API for what came
    after the last seq it has, page by page, then reads the live feed,
    dropping what it already showed (by seq) and catching up again whenever
    a seq is missing, so it shows every verdict once, in order, without gap.
    It subscribes to every topic then, to see every seq, and filters here.
*/
#include "cli/cli.h"
#include "base/buf.h"
#include "proto/catchup.h"
#include "proto/wire.h"

#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

//  Verdicts per catch-up page; how long to wait for one before asking
//  again (a coordinator restarting loses the question), and how often
#define PAGE_LIMIT 1000
#define PAGE_WAIT_MS 2000
#define PAGE_ASKS 30

typedef struct {
    zlist_t *topics;                //  prefixes; empty: every topic
    bool quiet;
    long count;                     //  -1: no end
    long seen;                      //  messages shown
    //  Resuming
    bool resume;
    zsock_t *catchup;               //  DEALER to the catch-up API
    const char *catchup_endpoint;
    uint64_t req;
    uint64_t last;                  //  the last verdict seq handled
    uint64_t advisory_last;         //  the last advisory message's seq
    const char *cursor_path;        //  NULL: none
    uint64_t cursor_saved;
    int64_t cursor_saved_at;
} s_watch_t;

static bool
s_starts_with (dt_str_t text, const char *prefix)
{
    size_t len = strlen (prefix);
    return text.len >= len && memcmp (text.ptr, prefix, len) == 0;
}

static bool
s_wanted (s_watch_t *self, dt_str_t topic)
{
    if (zlist_size (self->topics) == 0)
        return true;
    for (char *prefix = zlist_first (self->topics); prefix; prefix = zlist_next (self->topics))
        if (s_starts_with (topic, prefix))
            return true;
    return false;
}

static void
s_show (s_watch_t *self, dt_str_t topic, const msgpack_object *message)
{
    self->seen++;
    if (self->quiet)
        return;
    printf ("%.*s ", (int) topic.len, topic.ptr);
    dt_cli_print_str (message, "id");
    printf (" account=");
    dt_cli_print_str (message, "account");
    printf (" verdict=");
    dt_cli_print_str (message, "verdict");
    uint64_t seq;
    if (dt_map_uint (message, "seq", &seq))
        printf (" seq=%llu", (unsigned long long) seq);
    printf ("\n");
    dt_cli_print_findings (dt_map_get (message, "findings"));
    fflush (stdout);
}

typedef enum { TAKEN, DUPLICATE, GAP } s_taken_t;

//  One message, live (a missing seq is a gap) or caught up (the API skips
//  verdicts the prefix does not match). Advisory messages share their
//  verdict's seq and follow it.
static s_taken_t
s_take (s_watch_t *self, dt_str_t topic, const msgpack_object *message, bool live)
{
    uint64_t seq = 0;
    if (!self->resume || !dt_map_uint (message, "seq", &seq) || seq == 0) {
        if (s_wanted (self, topic))
            s_show (self, topic, message);
        return TAKEN;
    }
    if (s_starts_with (topic, "advisory.")) {
        if (seq <= self->advisory_last)
            return DUPLICATE;
        //  Live, its verdict's message comes first: else it was lost
        if (live && seq > self->last)
            return GAP;
        self->advisory_last = seq;
    }
    else {
        if (seq <= self->last)
            return DUPLICATE;
        if (live && seq > self->last + 1)
            return GAP;
        self->last = seq;
    }
    if (s_wanted (self, topic))
        s_show (self, topic, message);
    return TAKEN;
}

static bool
s_done (s_watch_t *self)
{
    return self->count >= 0 && self->seen >= self->count;
}

//  The cursor: the last seq handled, replaced whole (temporary file, fsync,
//  rename, the directory fsynced), so a crash leaves the old or the new
static int
s_cursor_save (s_watch_t *self, bool now)
{
    if (!self->cursor_path || self->cursor_saved == self->last)
        return 0;
    if (!now && zclock_mono () - self->cursor_saved_at < 1000)
        return 0;
    char temp [4096], dir [4096];
    snprintf (temp, sizeof temp, "%s.tmp", self->cursor_path);
    snprintf (dir, sizeof dir, "%s", self->cursor_path);
    int fd = open (temp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    char text [32];
    int len = snprintf (text, sizeof text, "%llu\n", (unsigned long long) self->last);
    if (fd < 0 || write (fd, text, (size_t) len) != len || fsync (fd) || close (fd)
    ||  rename (temp, self->cursor_path)) {
        fprintf (stderr, "watch: can not write the cursor %s: %s\n", self->cursor_path,
                 strerror (errno));
        if (fd >= 0)
            close (fd);
        return -1;
    }
    int dir_fd = open (dirname (dir), O_RDONLY);
    if (dir_fd >= 0) {
        fsync (dir_fd);
        close (dir_fd);
    }
    self->cursor_saved = self->last;
    self->cursor_saved_at = zclock_mono ();
    return 0;
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

//  Ask the catch-up API for everything after self->last, page by page,
//  until it has no more. 0, or -1 when it does not answer or refuses.
static int
s_catch_up (s_watch_t *self)
{
    //  One topic: the API filters; else every verdict, filtered here
    const char *prefix = zlist_size (self->topics) == 1? zlist_first (self->topics): "";
    bool more = true;
    int asked = 0;
    while (more && !s_done (self)) {
        dt_buf_t frame = { 0 };
        msgpack_packer pk;
        msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
        uint64_t req = ++self->req;
        dt_catchup_request_pack (&pk, req, self->last, prefix, PAGE_LIMIT);
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
            if (++asked < PAGE_ASKS && !zsys_interrupted)
                continue;
            fprintf (stderr, "watch: no answer from the catch-up API %s\n", self->catchup_endpoint);
            return -1;
        }
        asked = 0;
        const msgpack_object *code = page.error? dt_map_get (page.error, "code"): NULL;
        if (code && code->type == MSGPACK_OBJECT_STR && dt_str_eq (dt_str_of (code), "unavailable")
        &&  ++asked < PAGE_ASKS && !zsys_interrupted) {
            //  The coordinator is starting, or PostgreSQL is away: again soon
            msgpack_unpacked_destroy (&answer);
            zframe_destroy (&reply);
            zclock_sleep (500);
            continue;
        }
        if (page.error) {
            fprintf (stderr, "watch: the catch-up API refused: ");
            dt_cli_print_str (page.error, "code");
            fprintf (stderr, ": ");
            fflush (stdout);
            const msgpack_object *message = dt_map_get (page.error, "message");
            if (message && message->type == MSGPACK_OBJECT_STR)
                fprintf (stderr, "%.*s", (int) message->via.str.size, message->via.str.ptr);
            fprintf (stderr, "\n");
            msgpack_unpacked_destroy (&answer);
            zframe_destroy (&reply);
            return -1;
        }
        for (uint32_t i = 0; i < page.items->via.array.size && !s_done (self); i++) {
            dt_str_t topic;
            const msgpack_object *message;
            if (dt_catchup_item_open (&page.items->via.array.ptr [i], &topic, &message) == 0)
                s_take (self, topic, message, false);
        }
        //  The page covers the verdicts the prefix skipped too
        if (!s_done (self) && page.last > self->last)
            self->last = page.last;
        more = page.more;
        msgpack_unpacked_destroy (&answer);
        zframe_destroy (&reply);
        s_cursor_save (self, false);
    }
    return 0;
}

int
dt_cli_watch (int argc, char *argv [])
{
    const char *endpoint = "tcp://127.0.0.1:7710", *cert = NULL, *server_cert = NULL;
    const char *since = NULL;
    long timeout_ms = -1;
    s_watch_t self = { .topics = zlist_new (), .count = -1,
                       .catchup_endpoint = "tcp://127.0.0.1:7712" };
    static struct option longopts [] = {
        { "endpoint", required_argument, 0, 'e' }, { "topic", required_argument, 0, 't' },
        { "count", required_argument, 0, 'n' }, { "timeout", required_argument, 0, 'T' },
        { "quiet", no_argument, 0, 'q' }, { "cert", required_argument, 0, 'c' },
        { "server-cert", required_argument, 0, 's' }, { "since", required_argument, 0, 'S' },
        { "cursor", required_argument, 0, 'C' }, { "catchup", required_argument, 0, 'u' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "e:t:n:T:c:s:S:C:u:qh", longopts, NULL)) != -1) {
        switch (opt) {
            case 'e': endpoint = optarg; break;
            case 't': zlist_append (self.topics, optarg); break;
            case 'n': self.count = atol (optarg); break;
            case 'T': timeout_ms = atol (optarg); break;
            case 'q': self.quiet = true; break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            case 'S': since = optarg; break;
            case 'C': self.cursor_path = optarg; break;
            case 'u': self.catchup_endpoint = optarg; break;
            default:
                printf ("Usage: dualtrack watch [--endpoint EP] [--topic PREFIX]... [--count N]\n"
                        "         [--timeout MS] [--quiet] [--cert FILE --server-cert FILE]\n"
                        "         [--since SEQ] [--cursor FILE] [--catchup EP]\n"
                        "Prints verdicts from the decisions feed (default tcp://127.0.0.1:7710),\n"
                        "each with its seq. Topics are TRACK.VERDICT (sales.warn) and\n"
                        "advisory.TRACK; a prefix filters (--topic sales. --topic\n"
                        "marketing.violation). --count exits after N verdicts, --timeout after\n"
                        "MS quiet ms; --quiet prints only the final count.\n"
                        "--since SEQ first shows the stored verdicts after SEQ (0: all) from the\n"
                        "catch-up API (default tcp://127.0.0.1:7712), then the live ones: each\n"
                        "once, in order, none missing. --cursor FILE keeps the last seq shown\n"
                        "in FILE and resumes after it (over --since when FILE exists).\n");
                zlist_destroy (&self.topics);
                return opt == 'h'? 0: 2;
        }
    }
    if (since) {
        char *end = NULL;
        errno = 0;
        self.last = strtoull (since, &end, 10);
        if (!*since || *end || errno || *since == '-') {
            fprintf (stderr, "watch: --since must be a seq (0 or more), not '%s'\n", since);
            zlist_destroy (&self.topics);
            return 2;
        }
    }
    if (self.cursor_path) {
        int loaded = s_cursor_load (self.cursor_path, &self.last);
        if (loaded < 0) {
            fprintf (stderr, "watch: the cursor %s does not hold a seq\n", self.cursor_path);
            zlist_destroy (&self.topics);
            return 2;
        }
        self.cursor_saved = loaded == 0? self.last: UINT64_MAX;
    }
    self.resume = since || self.cursor_path;
    self.advisory_last = self.last;

    zsock_t *sub = zsock_new (ZMQ_SUB);
    zsock_set_rcvhwm (sub, 0);
    if (dt_cli_secure (sub, cert, server_cert)) {
        zsock_destroy (&sub);
        zlist_destroy (&self.topics);
        return 2;
    }
    //  Resuming: every topic, to see every seq
    if (zlist_size (self.topics) == 0 || self.resume)
        zsock_set_subscribe (sub, "");
    else
        for (char *topic = zlist_first (self.topics); topic; topic = zlist_next (self.topics))
            zsock_set_subscribe (sub, topic);
    int rc = 0;
    if (zsock_connect (sub, "%s", endpoint) < 0) {
        fprintf (stderr, "watch: bad endpoint %s\n", endpoint);
        rc = 2;
    }
    if (rc == 0 && self.resume) {
        self.catchup = zsock_new (ZMQ_DEALER);
        zsock_set_rcvtimeo (self.catchup, PAGE_WAIT_MS);
        if (dt_cli_secure (self.catchup, cert, server_cert)
        ||  zsock_connect (self.catchup, "%s", self.catchup_endpoint) < 0) {
            fprintf (stderr, "watch: bad catch-up endpoint %s\n", self.catchup_endpoint);
            rc = 2;
        }
        else
        if (s_catch_up (&self))
            rc = 1;
    }
    int64_t quiet_since = zclock_mono ();
    while (rc == 0 && !s_done (&self) && !zsys_interrupted) {
        zmq_pollitem_t item = { zsock_resolve (sub), 0, ZMQ_POLLIN, 0 };
        int ready = zmq_poll (&item, 1, 200);
        if (ready < 0)
            break;      //  interrupted
        if (ready == 0) {
            s_cursor_save (&self, true);
            if (timeout_ms >= 0 && zclock_mono () - quiet_since >= timeout_ms)
                break;
            continue;
        }
        quiet_since = zclock_mono ();
        zframe_t *topic_frame = zframe_recv (sub);
        zframe_t *body = topic_frame && zframe_more (topic_frame)? zframe_recv (sub): NULL;
        msgpack_unpacked verdict;
        msgpack_unpacked_init (&verdict);
        dt_error_t err;
        if (body && dt_wire_unpack (&verdict, (const char *) zframe_data (body),
                                    zframe_size (body), &err) == 0) {
            dt_str_t topic = { (const char *) zframe_data (topic_frame),
                               (uint32_t) zframe_size (topic_frame) };
            //  A seq missing: what came between is in the store
            if (s_take (&self, topic, &verdict.data, true) == GAP
            &&  (s_catch_up (&self) || s_take (&self, topic, &verdict.data, true) == GAP)) {
                if (rc == 0 && !s_done (&self)) {
                    fprintf (stderr, "watch: seq %llu is missing and the catch-up API does not have it\n",
                             (unsigned long long) self.last + 1);
                    rc = 1;
                }
            }
        }
        msgpack_unpacked_destroy (&verdict);
        zframe_destroy (&body);
        zframe_destroy (&topic_frame);
        s_cursor_save (&self, false);
    }
    if (s_cursor_save (&self, true))
        rc = 1;
    printf ("watched %ld verdicts\n", self.seen);
    zsock_destroy (&self.catchup);
    zsock_destroy (&sub);
    zlist_destroy (&self.topics);
    return rc;
}
