/*  http_ingress.h - a track's HTTP ingress: POST /v1/events for systems that
    speak HTTP and JSON, not ZeroMQ (proto/PROTOCOL.md, "HTTP ingress").

    libmicrohttpd serves it, one thread per connection. A thread checks the
    request (path, method, bearer token against the token directory,
    content type, size), turns the JSON body into the msgpack request a
    ZeroMQ publisher sends (proto/jsonreq.h) and hands it to the track's
    loop through an inproc DEALER, one per request, connected to the loop's
    ROUTER at `handoff`. The loop owns the journal and the track's state: it
    takes the frame down the same path as the ZeroMQ ingress (decode,
    validate, journal, one fdatasync per burst) and answers once the
    request's items are synced; the thread turns that answer into JSON and
    an HTTP status. So nothing is shared between the threads but sockets,
    metrics (atomics) and the token store (its own lock).

    The handoff, thread -> loop (the ROUTER adds the routing id):
        [publisher] [request frame]                       a request
        [publisher] [body] [code] [field] [message]       a body refused
                                                          before msgpack
    loop -> thread: [reply frame] (dt_reply_pack_result or _error).
*/
#ifndef DT_HTTP_INGRESS_H
#define DT_HTTP_INGRESS_H

#include "base/metrics.h"

#include <stddef.h>

#define DT_HTTP_INGRESS_CONNECTIONS 64      //  at once; more wait in the backlog
#define DT_HTTP_INGRESS_WAIT_MS     30000   //  for the loop's answer, then 503
#define DT_HTTP_INGRESS_RETRY_AFTER "1"     //  seconds, in every 503

typedef struct {
    const char *address;            //  HOST:PORT (services/base/httpd.h's form)
    const char *tokens_dir;         //  bearer tokens (services/base/tokens.h)
    const char *cert_file;          //  PEM certificate and key: HTTPS;
    const char *key_file;           //  both NULL: plain HTTP
    const char *handoff;            //  the loop's ROUTER, e.g. inproc://...
    dt_metrics_t *metrics;          //  where to count requests by status
} dt_http_ingress_opts_t;

typedef struct _dt_http_ingress_t dt_http_ingress_t;

//  Start serving. NULL with err (errlen bytes) if the token directory, the
//  certificate or the address is unusable.
dt_http_ingress_t *dt_http_ingress_new (const dt_http_ingress_opts_t *opts, char *err, size_t errlen);

//  Stop serving: requests still waiting for the loop are answered 503 (the
//  publisher sends again; ids are idempotent). Safe on NULL and twice.
void dt_http_ingress_destroy (dt_http_ingress_t **self_p);

//  From now on answer 503 to new requests (the track is draining)
void dt_http_ingress_stop (dt_http_ingress_t *self);

//  Re-read the token directory now (SIGHUP). Tokens read, or -1.
int dt_http_ingress_reload (dt_http_ingress_t *self);

//  The port bound (useful after asking for port 0)
int dt_http_ingress_port (dt_http_ingress_t *self);

#endif
