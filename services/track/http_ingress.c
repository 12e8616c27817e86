/*  http_ingress.c - see http_ingress.h
*/
#include "track/http_ingress.h"
#include "base/buf.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/tokens.h"
#include "proto/jsonreq.h"

#include <czmq.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <strings.h>

struct _dt_http_ingress_t {
    struct MHD_Daemon *daemon;
    dt_tokens_t *tokens;
    char *handoff;
    char *cert, *key;               //  PEM text, NUL-terminated; NULL: plain
    int port;
    atomic_bool stopping;           //  draining: new requests get 503
    atomic_bool closing;            //  destroying: waiting requests get 503
    dt_counter_t *m_requests;
};

//  One request, from its headers to its completion
typedef struct {
    char publisher [DT_TOKEN_NAME_MAX + 1];
    bool lines;                     //  application/x-ndjson
    bool too_large;                 //  the body went past the limit: 413
    dt_buf_t body;
} request_t;

static void
s_log (void *cls, const char *format, va_list args)
{
    (void) cls;
    char message [512];
    vsnprintf (message, sizeof message, format, args);
    size_t len = strlen (message);
    while (len > 0 && (message [len - 1] == '\n' || message [len - 1] == ' '))
        message [--len] = 0;
    dt_warn (message, "component=http_ingress");
}

//  --------------------------------------------------------------------------
//  Answers

static enum MHD_Result
s_answer (dt_http_ingress_t *self, struct MHD_Connection *connection,
          unsigned int status, const char *json, size_t len)
{
    struct MHD_Response *response =
        MHD_create_response_from_buffer (len, (void *) json, MHD_RESPMEM_MUST_COPY);
    if (!response)
        return MHD_NO;
    MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header (response, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (status == MHD_HTTP_SERVICE_UNAVAILABLE)
        MHD_add_response_header (response, MHD_HTTP_HEADER_RETRY_AFTER, DT_HTTP_INGRESS_RETRY_AFTER);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_ALLOW, "POST");
    if (status == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header (response, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                 "Bearer realm=\"dualtrack\"");
    enum MHD_Result result = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    char label [16];
    snprintf (label, sizeof label, "%u", status);
    dt_counter_add (self->m_requests, label, 1);
    return result;
}

//  An answer the HTTP thread gives alone: the ingress's error map
static enum MHD_Result
s_refuse (dt_http_ingress_t *self, struct MHD_Connection *connection, unsigned int status,
          const char *code, const char *message)
{
    dt_error_t err;
    dt_error_set (&err, code, "", "%s", message);
    dt_buf_t frame = { 0 }, json = { 0 };
    msgpack_packer pk;
    msgpack_packer_init (&pk, &frame, dt_buf_msgpack_write);
    dt_reply_pack_error (&pk, false, 0, &err);
    dt_jsonreq_reply (frame.data, frame.size, &json);
    enum MHD_Result result = s_answer (self, connection, status, json.data, json.size);
    dt_buf_free (&frame);
    dt_buf_free (&json);
    return result;
}

//  --------------------------------------------------------------------------
//  The handoff to the loop

//  Send msg to the loop and wait for its answer. Returns the reply frame, or
//  NULL (then the request is answered 503) when the loop does not answer in
//  time or the ingress is closing.
static zframe_t *
s_handoff (dt_http_ingress_t *self, zmsg_t **msg_p)
{
    zsock_t *dealer = zsock_new (ZMQ_DEALER);
    if (!dealer) {
        zmsg_destroy (msg_p);
        return NULL;
    }
    zsock_set_linger (dealer, 0);
    zsock_set_sndtimeo (dealer, 1000);
    zsock_set_rcvtimeo (dealer, 100);
    zframe_t *reply = NULL;
    if (zsock_connect (dealer, "%s", self->handoff) == 0 && zmsg_send (msg_p, dealer) == 0) {
        //  In slices, so a closing ingress is noticed
        for (int waited = 0; !reply && waited < DT_HTTP_INGRESS_WAIT_MS
             && !atomic_load (&self->closing); waited += 100)
            reply = zframe_recv (dealer);
    }
    zmsg_destroy (msg_p);
    zsock_destroy (&dealer);
    return reply;
}

static enum MHD_Result
s_complete (dt_http_ingress_t *self, struct MHD_Connection *connection, request_t *request)
{
    if (request->too_large) {
        char message [96];
        snprintf (message, sizeof message, "the body is over %d bytes", DT_HTTP_BODY_MAX);
        return s_refuse (self, connection, MHD_HTTP_CONTENT_TOO_LARGE, "frame_too_large", message);
    }
    if (atomic_load (&self->stopping))
        return s_refuse (self, connection, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                         "the track is stopping; send again later");
    dt_buf_t frame = { 0 };
    dt_error_t err;
    zmsg_t *msg = zmsg_new ();
    zmsg_addstr (msg, request->publisher);
    if (dt_jsonreq_pack (request->body.data? request->body.data: "", request->body.size,
                         request->lines, &frame, &err) == 0)
        zmsg_addmem (msg, frame.data, frame.size);
    else {
        //  Refused before msgpack: the loop records the body in rejects
        zmsg_addmem (msg, request->body.data, request->body.size);
        zmsg_addstr (msg, err.code);
        zmsg_addstr (msg, err.field);
        zmsg_addstr (msg, err.message);
    }
    dt_buf_free (&frame);
    zframe_t *reply = s_handoff (self, &msg);
    if (!reply)
        return s_refuse (self, connection, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                         "the track did not answer in time; send again later "
                         "(events it took are stored once)");
    dt_buf_t json = { 0 };
    int status = dt_jsonreq_reply ((const char *) zframe_data (reply), zframe_size (reply), &json);
    zframe_destroy (&reply);
    enum MHD_Result result = status < 0?
        s_refuse (self, connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                  "the track's answer was unreadable"):
        s_answer (self, connection, (unsigned int) status, json.data, json.size);
    dt_buf_free (&json);
    return result;
}

//  --------------------------------------------------------------------------
//  Requests: checked on the first call (headers), body gathered on the next
//  ones, handed over on the last

//  "Bearer <token>": the token's holder into publisher, else -1
static int
s_authenticate (dt_http_ingress_t *self, struct MHD_Connection *connection, char *publisher)
{
    const char *header = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                      MHD_HTTP_HEADER_AUTHORIZATION);
    if (!header || strncasecmp (header, "Bearer ", 7) != 0)
        return -1;
    const char *token = header + 7;
    while (*token == ' ')
        token++;
    size_t len = strlen (token);
    while (len > 0 && token [len - 1] == ' ')
        len--;
    if (len == 0 || len > 512)
        return -1;
    return dt_tokens_check (self->tokens, token, len, publisher, DT_TOKEN_NAME_MAX + 1);
}

//  application/json or application/x-ndjson, parameters (charset) aside:
//  0 JSON, 1 JSON lines, -1 neither
static int
s_content_type (struct MHD_Connection *connection)
{
    const char *type = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                    MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!type)
        return -1;
    size_t len = strcspn (type, "; \t");
    if (len == 16 && strncasecmp (type, "application/json", 16) == 0)
        return 0;
    if (len == 20 && strncasecmp (type, "application/x-ndjson", 20) == 0)
        return 1;
    return -1;
}

static enum MHD_Result
s_handle (void *cls, struct MHD_Connection *connection, const char *url,
          const char *method, const char *version, const char *upload_data,
          size_t *upload_data_size, void **con_cls)
{
    (void) version;
    dt_http_ingress_t *self = cls;
    request_t *request = *con_cls;
    if (!request) {
        if (strcmp (url, "/v1/events") != 0)
            return s_refuse (self, connection, MHD_HTTP_NOT_FOUND, "not_found",
                             "no such path: events go to POST /v1/events");
        if (strcmp (method, MHD_HTTP_METHOD_POST) != 0)
            return s_refuse (self, connection, MHD_HTTP_METHOD_NOT_ALLOWED, "method_not_allowed",
                             "/v1/events takes POST");
        char publisher [DT_TOKEN_NAME_MAX + 1];
        if (s_authenticate (self, connection, publisher)) {
            dt_warn ("HTTP request refused: no valid bearer token", "component=http_ingress");
            return s_refuse (self, connection, MHD_HTTP_UNAUTHORIZED, "unauthorized",
                             "send Authorization: Bearer <token> with a token of the track's "
                             "token directory");
        }
        int lines = s_content_type (connection);
        if (lines < 0)
            return s_refuse (self, connection, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                             "unsupported_media_type",
                             "Content-Type must be application/json or application/x-ndjson");
        const char *length = MHD_lookup_connection_value (connection, MHD_HEADER_KIND,
                                                          MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull (length, NULL, 10) > DT_HTTP_BODY_MAX) {
            char message [96];
            snprintf (message, sizeof message, "the body is over %d bytes", DT_HTTP_BODY_MAX);
            return s_refuse (self, connection, MHD_HTTP_CONTENT_TOO_LARGE, "frame_too_large", message);
        }
        if (atomic_load (&self->stopping))
            return s_refuse (self, connection, MHD_HTTP_SERVICE_UNAVAILABLE, "unavailable",
                             "the track is stopping; send again later");
        request = calloc (1, sizeof *request);
        snprintf (request->publisher, sizeof request->publisher, "%s", publisher);
        request->lines = lines == 1;
        *con_cls = request;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (request->body.size + *upload_data_size > DT_HTTP_BODY_MAX)
            request->too_large = true;
        if (!request->too_large)
            dt_buf_append (&request->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return s_complete (self, connection, request);
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **con_cls,
             enum MHD_RequestTerminationCode code)
{
    (void) cls, (void) connection, (void) code;
    request_t *request = *con_cls;
    if (request) {
        dt_buf_free (&request->body);
        free (request);
        *con_cls = NULL;
    }
}

//  --------------------------------------------------------------------------

static char *
s_read_file (const char *path, char *err, size_t errlen)
{
    FILE *file = fopen (path, "r");
    if (!file) {
        snprintf (err, errlen, "can not read %s: %s", path, strerror (errno));
        return NULL;
    }
    dt_buf_t text = { 0 };
    char chunk [4096];
    size_t n;
    while ((n = fread (chunk, 1, sizeof chunk, file)) > 0)
        dt_buf_append (&text, chunk, n);
    fclose (file);
    dt_buf_putc (&text, 0);
    return text.data;
}

dt_http_ingress_t *
dt_http_ingress_new (const dt_http_ingress_opts_t *opts, char *err, size_t errlen)
{
    struct sockaddr_in sin;
    if (!opts->address || dt_httpd_parse_address (opts->address, &sin)) {
        snprintf (err, errlen, "bad HTTP ingress address \"%s\": want HOST:PORT",
                  opts->address? opts->address: "(null)");
        return NULL;
    }
    dt_http_ingress_t *self = calloc (1, sizeof *self);
    self->handoff = strdup (opts->handoff);
    self->tokens = dt_tokens_new (opts->tokens_dir, err, errlen);
    if (!self->tokens) {
        dt_http_ingress_destroy (&self);
        return NULL;
    }
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD
                       | MHD_USE_ERROR_LOG;
    if (opts->cert_file) {
        if (MHD_is_feature_supported (MHD_FEATURE_TLS) != MHD_YES) {
            snprintf (err, errlen, "this libmicrohttpd has no TLS");
            dt_http_ingress_destroy (&self);
            return NULL;
        }
        self->cert = s_read_file (opts->cert_file, err, errlen);
        self->key = self->cert? s_read_file (opts->key_file, err, errlen): NULL;
        if (!self->key) {
            dt_http_ingress_destroy (&self);
            return NULL;
        }
        flags |= MHD_USE_TLS;
    }
    self->m_requests = dt_metrics_counter (opts->metrics, "http_requests_total",
        "HTTP ingress requests, by the status answered", "status");

    //  Connection threads inherit the mask of the thread that makes them:
    //  signals stay with the daemon's loop
    sigset_t block, old;
    sigemptyset (&block);
    sigaddset (&block, SIGTERM);
    sigaddset (&block, SIGINT);
    sigaddset (&block, SIGHUP);
    pthread_sigmask (SIG_BLOCK, &block, &old);
    self->daemon = MHD_start_daemon (flags, ntohs (sin.sin_port), NULL, NULL, s_handle, self,
        MHD_OPTION_EXTERNAL_LOGGER, s_log, self,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &sin,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int) DT_HTTP_INGRESS_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 60,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, self,
        self->cert? MHD_OPTION_HTTPS_MEM_CERT: MHD_OPTION_END, self->cert,
        MHD_OPTION_HTTPS_MEM_KEY, self->key,
        MHD_OPTION_END);
    pthread_sigmask (SIG_SETMASK, &old, NULL);
    if (!self->daemon) {
        snprintf (err, errlen, "can not serve the HTTP ingress on %s%s", opts->address,
                  self->cert? " (is the certificate and key pair valid PEM?)": "");
        dt_http_ingress_destroy (&self);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    self->port = info? info->port: ntohs (sin.sin_port);
    return self;
}

void
dt_http_ingress_destroy (dt_http_ingress_t **self_p)
{
    if (*self_p) {
        dt_http_ingress_t *self = *self_p;
        atomic_store (&self->stopping, true);
        atomic_store (&self->closing, true);
        if (self->daemon)
            MHD_stop_daemon (self->daemon);     //  waits for the connection threads
        dt_tokens_destroy (&self->tokens);
        free (self->handoff);
        free (self->cert);
        free (self->key);
        free (self);
        *self_p = NULL;
    }
}

void
dt_http_ingress_stop (dt_http_ingress_t *self)
{
    atomic_store (&self->stopping, true);
}

int
dt_http_ingress_reload (dt_http_ingress_t *self)
{
    return dt_tokens_reload (self->tokens);
}

int
dt_http_ingress_port (dt_http_ingress_t *self)
{
    return self->port;
}
