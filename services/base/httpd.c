/*  httpd.c - health and metrics over HTTP with libmicrohttpd (see httpd.h)

    libmicrohttpd runs its own polling thread and calls s_handle for each
    request; every answer is made in that one call, so nothing is kept per
    connection. The server only reads the registry (dt_metrics_render is
    lock-free) and calls the daemon's readiness callback.
*/
#include "base/httpd.h"
#include "base/log.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_PLAIN      "text/plain; charset=utf-8"
#define TEXT_METRICS    "text/plain; version=0.0.4; charset=utf-8"

struct _dt_httpd_t {
    struct MHD_Daemon *daemon;
    dt_metrics_t *metrics;              //  not ours
    dt_ready_fn *ready;
    void *ctx;
    int port;
    char address [64];                  //  for log lines
    pthread_t creator;                  //  logs from it during start are the
    atomic_bool started;                //  reason dt_httpd_new failed
    char start_error [512];
};

//  --------------------------------------------------------------------------
//  libmicrohttpd's messages: while starting, keep the first as the error;
//  afterwards, log them

static void
s_log (void *cls, const char *format, va_list args)
{
    dt_httpd_t *self = cls;
    char message [512];
    vsnprintf (message, sizeof message, format, args);
    size_t len = strlen (message);
    while (len > 0 && (message [len - 1] == '\n' || message [len - 1] == ' '))
        message [--len] = 0;
    if (!atomic_load (&self->started) && pthread_equal (pthread_self (), self->creator)) {
        if (!self->start_error [0])
            snprintf (self->start_error, sizeof self->start_error, "%s", message);
    }
    else
        dt_warn (message, "component=httpd addr=%s", self->address);
}

//  --------------------------------------------------------------------------
//  Requests

static enum MHD_Result
s_reply (struct MHD_Connection *connection, unsigned int status,
         const char *type, char *body, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (strlen (body), body, mode);
    if (!response) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free (body);
        return MHD_NO;                  //  libmicrohttpd closes the connection
    }
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return result;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    (void) version; (void) upload_data;
    dt_httpd_t *self = cls;
    //  Other methods are answered at once, on the first call, so their body
    //  is never read (and libmicrohttpd closes the connection afterwards)
    if (strcmp (method, MHD_HTTP_METHOD_GET) != 0
    &&  strcmp (method, MHD_HTTP_METHOD_HEAD) != 0)
        return s_reply (connection, MHD_HTTP_METHOD_NOT_ALLOWED, TEXT_PLAIN,
                        "method not allowed\n", MHD_RESPMEM_PERSISTENT);
    //  GET and HEAD are answered on the second call, once the request is
    //  complete, which keeps the connection alive; any body is skipped
    static int headers_seen;
    if (*con_cls == NULL) {
        *con_cls = &headers_seen;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0;
        return MHD_YES;
    }

    if (strcmp (url, "/healthz") == 0)
        return s_reply (connection, MHD_HTTP_OK, TEXT_PLAIN,
                        "ok\n", MHD_RESPMEM_PERSISTENT);

    if (strcmp (url, "/readyz") == 0) {
        char reason [256] = "";
        if (!self->ready || self->ready (self->ctx, reason, sizeof reason))
            return s_reply (connection, MHD_HTTP_OK, TEXT_PLAIN,
                            "ready\n", MHD_RESPMEM_PERSISTENT);
        reason [sizeof reason - 1] = 0;
        for (char *c = reason; *c; c++)
            if ((unsigned char) *c < ' ' || *c == 0x7f)
                *c = ' ';               //  one line
        char body [300];
        snprintf (body, sizeof body, "not ready: %s\n", reason [0]? reason: "unknown");
        return s_reply (connection, MHD_HTTP_SERVICE_UNAVAILABLE, TEXT_PLAIN,
                        body, MHD_RESPMEM_MUST_COPY);
    }
    if (strcmp (url, "/metrics") == 0 && self->metrics) {
        char *text = dt_metrics_render (self->metrics);
        if (!text)
            return s_reply (connection, MHD_HTTP_INTERNAL_SERVER_ERROR, TEXT_PLAIN,
                            "out of memory\n", MHD_RESPMEM_PERSISTENT);
        return s_reply (connection, MHD_HTTP_OK, TEXT_METRICS, text, MHD_RESPMEM_MUST_FREE);
    }
    return s_reply (connection, MHD_HTTP_NOT_FOUND, TEXT_PLAIN,
                    "not found\n", MHD_RESPMEM_PERSISTENT);
}

//  --------------------------------------------------------------------------

int
dt_httpd_parse_address (const char *address, struct sockaddr_in *sin)
{
    memset (sin, 0, sizeof *sin);
    sin->sin_family = AF_INET;
    const char *colon = strrchr (address, ':');
    if (!colon || colon - address >= 64 || !colon [1] || strlen (colon + 1) > 5)
        return -1;
    long port = 0;
    for (const char *c = colon + 1; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        port = port * 10 + (*c - '0');
    }
    if (port > 65535)
        return -1;
    sin->sin_port = htons ((uint16_t) port);

    char host [64];
    memcpy (host, address, (size_t) (colon - address));
    host [colon - address] = 0;
    if (strcmp (host, "*") == 0 || strcmp (host, "0.0.0.0") == 0 || !host [0])
        sin->sin_addr.s_addr = htonl (INADDR_ANY);
    else
    if (strcmp (host, "localhost") == 0)
        sin->sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    else
    if (inet_pton (AF_INET, host, &sin->sin_addr) != 1)
        return -1;
    return 0;
}

//  --------------------------------------------------------------------------

dt_httpd_t *
dt_httpd_new (const char *address, dt_metrics_t *metrics,
              dt_ready_fn *ready, void *ctx, char *err, size_t errlen)
{
    struct sockaddr_in sin;
    if (!address || dt_httpd_parse_address (address, &sin) != 0) {
        snprintf (err, errlen, "bad HTTP address \"%s\": want HOST:PORT, "
                  "HOST an IPv4 address, localhost or *", address? address: "(null)");
        return NULL;
    }
    dt_httpd_t *self = calloc (1, sizeof *self);
    if (!self) {
        snprintf (err, errlen, "out of memory");
        return NULL;
    }
    self->metrics = metrics;
    self->ready = ready;
    self->ctx = ctx;
    snprintf (self->address, sizeof self->address, "%s", address);
    self->creator = pthread_self ();
    atomic_init (&self->started, false);

    errno = 0;
    self->daemon = MHD_start_daemon (
        MHD_USE_AUTO_INTERNAL_THREAD | MHD_USE_ERROR_LOG,
        ntohs (sin.sin_port), NULL, NULL, s_handle, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, self,         //  first, or MHD complains
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sin,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) DT_HTTPD_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) DT_HTTPD_TIMEOUT,
        MHD_OPTION_END);
    if (!self->daemon) {
        int error = errno;
        snprintf (err, errlen, "cannot serve HTTP on %s: %s", address,
                  self->start_error [0]? self->start_error
                : error? strerror (error): "libmicrohttpd failed to start");
        free (self);
        return NULL;
    }
    atomic_store (&self->started, true);
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info? info->port: ntohs (sin.sin_port);
    return self;
}

void
dt_httpd_destroy (dt_httpd_t **self_p)
{
    assert (self_p);
    dt_httpd_t *self = *self_p;
    if (!self)
        return;
    MHD_stop_daemon (self->daemon);
    free (self);
    *self_p = NULL;
}

int
dt_httpd_port (dt_httpd_t *self)
{
    assert (self);
    return self->port;
}
