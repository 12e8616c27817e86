/*  publish.c - `dualtrack publish`: JSON lines in, requests out, a line per
    rejected event and a summary.

    Requests are pipelined: up to --window requests are in flight on one
    DEALER. A request without a reply after --timeout is sent again with the
    same req and the same events (the daemons are idempotent on event ids),
    up to --retries times.
*/
#include "cli/cli.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/jsonmp.h"
#include "proto/wire.h"

#include <czmq.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t req;
    uint32_t count;
    long *lines;                //  input line of each event
    char **ids;                 //  id of each event, for the report
    zframe_t *frame;
    int64_t sent_at;
    int tries;
} request_t;

typedef struct {
    zsock_t *dealer;
    FILE *acked;                //  ids of accepted events, one per line
    bool quiet;
    int timeout_ms;
    int retries;
    uint64_t next_req;
    zhashx_t *inflight;         //  req -> request_t
    uint64_t sent, accepted, rejected, invalid;
    bool failed;
} publisher_t;

static void
s_request_destroy (request_t **self_p)
{
    if (*self_p) {
        request_t *self = *self_p;
        for (uint32_t i = 0; i < self->count; i++)
            free (self->ids [i]);
        free (self->ids);
        free (self->lines);
        zframe_destroy (&self->frame);
        free (self);
        *self_p = NULL;
    }
}

static void
s_send_request (publisher_t *self, request_t *request)
{
    zframe_t *copy = zframe_dup (request->frame);
    if (zframe_send (&copy, self->dealer, 0) < 0)
        zframe_destroy (&copy);
    request->sent_at = dt_mono_ms ();
    request->tries++;
}

//  Reads a reply and reports its rejections
static void
s_handle_reply (publisher_t *self)
{
    zframe_t *frame = zframe_recv (self->dealer);
    if (!frame)
        return;
    msgpack_unpacked reply;
    msgpack_unpacked_init (&reply);
    dt_error_t err;
    uint64_t req = 0;
    if (dt_wire_unpack (&reply, (const char *) zframe_data (frame), zframe_size (frame), &err)
    ||  !dt_map_uint (&reply.data, "req", &req)) {
        const msgpack_object *error = dt_map_get (&reply.data, "error");
        const msgpack_object *message = error? dt_map_get (error, "message"): NULL;
        fprintf (stderr, "publish: the daemon refused a request: %.*s\n",
                 message && message->type == MSGPACK_OBJECT_STR? (int) message->via.str.size: 7,
                 message && message->type == MSGPACK_OBJECT_STR? message->via.str.ptr: "unknown");
        self->failed = true;
        msgpack_unpacked_destroy (&reply);
        zframe_destroy (&frame);
        return;
    }
    char key [32];
    snprintf (key, sizeof key, "%llu", (unsigned long long) req);
    request_t *request = zhashx_lookup (self->inflight, key);
    if (!request) {
        //  The answer to a request we already sent again and got answered
        msgpack_unpacked_destroy (&reply);
        zframe_destroy (&frame);
        return;
    }
    const msgpack_object *error = dt_map_get (&reply.data, "error");
    if (error) {
        const msgpack_object *code = dt_map_get (error, "code");
        const msgpack_object *message = dt_map_get (error, "message");
        fprintf (stderr, "publish: request %llu (lines %ld-%ld) refused: %.*s: %.*s\n",
                 (unsigned long long) req, request->lines [0], request->lines [request->count - 1],
                 code && code->type == MSGPACK_OBJECT_STR? (int) code->via.str.size: 0,
                 code && code->type == MSGPACK_OBJECT_STR? code->via.str.ptr: "",
                 message && message->type == MSGPACK_OBJECT_STR? (int) message->via.str.size: 0,
                 message && message->type == MSGPACK_OBJECT_STR? message->via.str.ptr: "");
        self->rejected += request->count;
        self->failed = true;
    }
    else {
        uint64_t accepted = 0;
        dt_map_uint (&reply.data, "accepted", &accepted);
        self->accepted += accepted;
        const msgpack_object *rejected = dt_map_get (&reply.data, "rejected");
        bool *refused = calloc (request->count, sizeof (bool));
        if (rejected && rejected->type == MSGPACK_OBJECT_ARRAY) {
            self->rejected += rejected->via.array.size;
            for (uint32_t i = 0; i < rejected->via.array.size; i++) {
                const msgpack_object *r = &rejected->via.array.ptr [i];
                uint64_t index = 0;
                dt_map_uint (r, "index", &index);
                const msgpack_object *code = dt_map_get (r, "code");
                const msgpack_object *message = dt_map_get (r, "error");
                if (index < request->count)
                    refused [index] = true;
                if (!self->quiet)
                    printf ("rejected: line %ld: id %s: %.*s: %.*s\n",
                            index < request->count? request->lines [index]: -1L,
                            index < request->count && request->ids [index]? request->ids [index]: "(none)",
                            code && code->type == MSGPACK_OBJECT_STR? (int) code->via.str.size: 0,
                            code && code->type == MSGPACK_OBJECT_STR? code->via.str.ptr: "",
                            message && message->type == MSGPACK_OBJECT_STR? (int) message->via.str.size: 0,
                            message && message->type == MSGPACK_OBJECT_STR? message->via.str.ptr: "");
            }
        }
        if (self->acked)
            for (uint32_t i = 0; i < request->count; i++)
                if (!refused [i] && request->ids [i])
                    fprintf (self->acked, "%s\n", request->ids [i]);
        free (refused);
    }
    zhashx_delete (self->inflight, key);
    msgpack_unpacked_destroy (&reply);
    zframe_destroy (&frame);
}

static void
s_wait_replies (publisher_t *self, size_t until_inflight)
{
    while (zhashx_size (self->inflight) > until_inflight && !self->failed) {
        if (zsock_events (self->dealer) & ZMQ_POLLIN) {
            s_handle_reply (self);
            continue;
        }
        zmq_pollitem_t item = { zsock_resolve (self->dealer), 0, ZMQ_POLLIN, 0 };
        if (zmq_poll (&item, 1, 200) > 0) {
            s_handle_reply (self);
            continue;
        }
        if (zmq_errno () == EINTR && zsys_interrupted) {
            self->failed = true;
            break;
        }
        int64_t now = dt_mono_ms ();
        request_t *request;
        for (request = zhashx_first (self->inflight); request; request = zhashx_next (self->inflight))
            if (now - request->sent_at > self->timeout_ms) {
                if (request->tries > self->retries) {
                    fprintf (stderr, "publish: no reply to request %llu after %d tries\n",
                             (unsigned long long) request->req, request->tries);
                    self->failed = true;
                    return;
                }
                s_send_request (self, request);
            }
    }
}

int
dt_cli_publish (int argc, char *argv [])
{
    const char *track = NULL, *endpoint = NULL, *acked_path = NULL;
    const char *cert = NULL, *server_cert = NULL;
    int batch = 100, window = 4, timeout_ms = 10000, retries = 30;
    bool quiet = false;
    static struct option longopts [] = {
        { "track", required_argument, 0, 't' }, { "endpoint", required_argument, 0, 'e' },
        { "batch", required_argument, 0, 'b' }, { "window", required_argument, 0, 'w' },
        { "timeout", required_argument, 0, 'T' }, { "retries", required_argument, 0, 'r' },
        { "acked", required_argument, 0, 'a' }, { "quiet", no_argument, 0, 'q' },
        { "cert", required_argument, 0, 'c' }, { "server-cert", required_argument, 0, 's' },
        { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
    };
    int opt;
    optind = 1;
    while ((opt = getopt_long (argc, argv, "t:e:b:w:T:r:a:c:s:qh", longopts, NULL)) != -1) {
        switch (opt) {
            case 't': track = optarg; break;
            case 'e': endpoint = optarg; break;
            case 'b': batch = atoi (optarg); break;
            case 'w': window = atoi (optarg); break;
            case 'T': timeout_ms = atoi (optarg); break;
            case 'r': retries = atoi (optarg); break;
            case 'a': acked_path = optarg; break;
            case 'q': quiet = true; break;
            case 'c': cert = optarg; break;
            case 's': server_cert = optarg; break;
            default:
                printf ("Usage: dualtrack publish --track marketing|sales [--endpoint EP]\n"
                        "         [--batch N] [--window N] [--timeout MS] [--retries N]\n"
                        "         [--acked FILE] [--quiet] [--cert FILE --server-cert FILE] [FILE...]\n"
                        "Publishes JSON lines (one event per line) from the files or stdin.\n"
                        "  --batch    events per request (1..1000, default 100)\n"
                        "  --window   requests in flight (default 4)\n"
                        "  --timeout  ms before a request is sent again (default 10000)\n"
                        "  --acked    write the id of every accepted event to FILE\n"
                        "  --cert, --server-cert  CURVE: your certificate and the track's public one\n"
                        "Exit status: 0 all accepted, 1 some rejected, 2 failure.\n");
                return opt == 'h'? 0: 2;
        }
    }
    if (!endpoint) {
        if (track && streq (track, "marketing"))
            endpoint = "tcp://127.0.0.1:7701";
        else
        if (track && streq (track, "sales"))
            endpoint = "tcp://127.0.0.1:7702";
        else {
            fprintf (stderr, "publish: --track marketing|sales or --endpoint is required\n");
            return 2;
        }
    }
    if (batch < 1 || batch > DT_EVENTS_MAX || window < 1) {
        fprintf (stderr, "publish: --batch must be 1..%d and --window positive\n", DT_EVENTS_MAX);
        return 2;
    }

    publisher_t self = { .quiet = quiet, .timeout_ms = timeout_ms, .retries = retries, .next_req = 1 };
    self.dealer = zsock_new (ZMQ_DEALER);
    if (dt_cli_secure (self.dealer, cert, server_cert)
    ||  zsock_connect (self.dealer, "%s", endpoint) < 0) {
        fprintf (stderr, "publish: can not connect to %s\n", endpoint);
        zsock_destroy (&self.dealer);
        return 2;
    }
    zsock_set_linger (self.dealer, 0);
    //  A DEALER with no peer (none yet, or one that refused our key) blocks
    //  on send: bound it, and let the resend timer try again
    zsock_set_sndtimeo (self.dealer, 200);
    self.inflight = zhashx_new ();
    zhashx_set_destructor (self.inflight, (zhashx_destructor_fn *) s_request_destroy);
    if (acked_path && !(self.acked = fopen (acked_path, "w"))) {
        fprintf (stderr, "publish: can not write %s: %s\n", acked_path, strerror (errno));
        return 2;
    }

    int file_index = optind;
    FILE *input = file_index < argc? NULL: stdin;
    const char *input_name = "stdin";
    char *line = NULL;
    size_t line_alloc = 0;
    long line_number = 0;
    dt_buf_t events = { 0 };
    request_t *request = NULL;

    while (!self.failed) {
        if (!input) {
            if (file_index >= argc)
                break;
            input_name = argv [file_index++];
            input = fopen (input_name, "r");
            line_number = 0;
            if (!input) {
                fprintf (stderr, "publish: can not read %s: %s\n", input_name, strerror (errno));
                self.failed = true;
                break;
            }
        }
        ssize_t len = getline (&line, &line_alloc, input);
        bool eof = len < 0;
        if (!eof) {
            line_number++;
            while (len > 0 && (line [len - 1] == '\n' || line [len - 1] == '\r'))
                line [--len] = 0;
            if (len == 0)
                continue;
            json_error_t jerr;
            json_t *value = json_loadb (line, (size_t) len, JSON_REJECT_DUPLICATES, &jerr);
            if (!value) {
                fprintf (stderr, "invalid: %s line %ld: not JSON: %s\n", input_name, line_number, jerr.text);
                self.invalid++;
                continue;
            }
            if (!request) {
                request = calloc (1, sizeof *request);
                request->lines = calloc ((size_t) batch, sizeof (long));
                request->ids = calloc ((size_t) batch, sizeof (char *));
                dt_buf_reset (&events);
            }
            json_t *id = json_is_object (value)? json_object_get (value, "id"): NULL;
            request->lines [request->count] = line_number;
            request->ids [request->count] = json_is_string (id)? strdup (json_string_value (id)): NULL;
            request->count++;
            msgpack_packer pk;
            msgpack_packer_init (&pk, &events, dt_buf_msgpack_write);
            dt_pack_json (&pk, value);
            json_decref (value);
        }
        if (request && (request->count == (uint32_t) batch || eof)) {
            request->req = self.next_req++;
            dt_buf_t frame = { 0 };
            msgpack_packer pk;
            msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
            msgpack_pack_map (&pk, 3);
            dt_pack_cstr (&pk, "v");
            msgpack_pack_uint8 (&pk, DT_PROTOCOL_VERSION);
            dt_pack_cstr (&pk, "req");
            msgpack_pack_uint64 (&pk, request->req);
            dt_pack_cstr (&pk, "events");
            msgpack_pack_array (&pk, request->count);
            dt_buf_append (&frame, events.data, events.size);
            request->frame = zframe_new (frame.data, frame.size);
            dt_buf_free (&frame);
            char key [32];
            snprintf (key, sizeof key, "%llu", (unsigned long long) request->req);
            zhashx_insert (self.inflight, key, request);
            self.sent += request->count;
            s_send_request (&self, request);
            request = NULL;
            s_wait_replies (&self, (size_t) window - 1);
        }
        if (eof) {
            if (input != stdin)
                fclose (input);
            input = NULL;
            if (file_index >= argc)
                break;
        }
    }
    if (input && input != stdin)
        fclose (input);
    s_wait_replies (&self, 0);
    s_request_destroy (&request);
    free (line);
    dt_buf_free (&events);
    if (self.acked)
        fclose (self.acked);
    printf ("published %llu events: accepted %llu, rejected %llu, invalid lines %llu%s\n",
            (unsigned long long) self.sent, (unsigned long long) self.accepted,
            (unsigned long long) self.rejected, (unsigned long long) self.invalid,
            self.failed? " (stopped early)": "");
    zhashx_destroy (&self.inflight);
    zsock_destroy (&self.dealer);
    if (self.failed)
        return 2;
    return self.rejected || self.invalid? 1: 0;
}
