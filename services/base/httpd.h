/*  httpd.h - the health and metrics HTTP server every daemon embeds
    (libmicrohttpd, in its own thread):

        GET /healthz   200 "ok\n" while the process runs (liveness)
        GET /readyz    200 "ready\n", or 503 "not ready: <reason>\n"
        GET /metrics   200, text/plain; version=0.0.4, from dt_metrics_render
        other paths    404; methods other than GET and HEAD: 405

    At most DT_HTTPD_CONNECTIONS connections at once, each closed after
    DT_HTTPD_TIMEOUT seconds idle. Server errors are logged with dt_log.
*/
#ifndef DT_HTTPD_H
#define DT_HTTPD_H

#include "base/metrics.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#define DT_HTTPD_CONNECTIONS    32
#define DT_HTTPD_TIMEOUT        10      //  seconds

typedef struct _dt_httpd_t dt_httpd_t;

//  Readiness: return true if ready, or false with a one-line reason written
//  into reason (len bytes, already zeroed). Called from the HTTP thread, so
//  read what other threads set through atomics.
typedef bool (dt_ready_fn) (void *ctx, char *reason, size_t len);

//  Start serving on address "HOST:PORT": HOST an IPv4 address, "localhost",
//  or "*" / "0.0.0.0" for every interface; PORT 0 picks a free port (see
//  dt_httpd_port). metrics may be NULL (then /metrics is 404) and ready may
//  be NULL (always ready); both must outlive the server. Returns NULL with
//  a message in err (errlen bytes) if the address is bad or cannot be bound.
dt_httpd_t *
    dt_httpd_new (const char *address, dt_metrics_t *metrics,
                  dt_ready_fn *ready, void *ctx, char *err, size_t errlen);

//  Stop serving (waits for the HTTP thread) and free; safe on NULL and twice
void
    dt_httpd_destroy (dt_httpd_t **self_p);

//  "HOST:PORT" as above into an IPv4 socket address (also the HTTP
//  ingress's, services/track/http_ingress.c); -1 if it is not one
int
    dt_httpd_parse_address (const char *address, struct sockaddr_in *sin);

//  The port bound, useful after asking for port 0
int
    dt_httpd_port (dt_httpd_t *self);

#endif
