/*  test_httpd.c - the health and metrics server (services/base/httpd.c),
    spoken to over plain sockets: liveness, readiness flipping with a reason,
    metrics with the values set, 404, 405, HEAD, bad addresses, a port in
    use, the connection limit, and a clean stop with a client still connected.
*/
#include "base/httpd.h"
#include "base/metrics.h"
#include "unit/testing.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

//  --------------------------------------------------------------------------
//  A plain HTTP/1.1 client: one request per connection, read until close

typedef struct {
    int status;                         //  0 if no status line came back
    char head [4096];                   //  status line and headers
    char body [65536];
} reply_t;

static int
s_connect (int port)
{
    int fd = socket (AF_INET, SOCK_STREAM, 0);
    struct timeval timeout = { .tv_sec = 5 };
    setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
    sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
    if (connect (fd, (struct sockaddr *) &sin, sizeof sin) != 0) {
        close (fd);
        return -1;
    }
    return fd;
}

//  Send raw request text on fd, read the reply until the server closes
static void
s_exchange (int fd, const char *request, reply_t *reply)
{
    memset (reply, 0, sizeof *reply);
    if (fd < 0)
        return;
    if (request && send (fd, request, strlen (request), MSG_NOSIGNAL) < 0)
        return;
    static char raw [sizeof reply->head + sizeof reply->body];
    size_t size = 0;
    ssize_t got;
    while (size < sizeof raw - 1
        && (got = recv (fd, raw + size, sizeof raw - 1 - size, 0)) > 0)
        size += (size_t) got;
    raw [size] = 0;
    char *end = strstr (raw, "\r\n\r\n");
    if (!end)
        return;
    *end = 0;
    snprintf (reply->head, sizeof reply->head, "%.*s", (int) sizeof reply->head - 1, raw);
    snprintf (reply->body, sizeof reply->body, "%.*s", (int) sizeof reply->body - 1, end + 4);
    sscanf (raw, "HTTP/1.%*d %d", &reply->status);
}

static void
s_request (int port, const char *method, const char *path, reply_t *reply)
{
    char request [512];
    snprintf (request, sizeof request,
        "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", method, path);
    int fd = s_connect (port);
    s_exchange (fd, request, reply);
    if (fd >= 0)
        close (fd);
}

//  The value of a header, "" if absent
static const char *
s_header (reply_t *reply, const char *name)
{
    static char value [256];
    value [0] = 0;
    char *line = reply->head;
    while ((line = strstr (line, "\r\n"))) {
        line += 2;
        if (strncasecmp (line, name, strlen (name)) == 0 && line [strlen (name)] == ':') {
            const char *start = line + strlen (name) + 1;
            while (*start == ' ')
                start++;
            size_t len = strcspn (start, "\r");
            snprintf (value, sizeof value, "%.*s", (int) len, start);
            break;
        }
    }
    return value;
}

//  --------------------------------------------------------------------------
//  The daemon's side: readiness backed by atomics

typedef struct {
    atomic_bool connected;
    atomic_int calls;
    const char *reason;                 //  set before connected goes false
} state_t;

static bool
s_ready (void *ctx, char *reason, size_t len)
{
    state_t *state = ctx;
    atomic_fetch_add (&state->calls, 1);
    if (atomic_load (&state->connected))
        return true;
    snprintf (reason, len, "%s", state->reason);
    return false;
}

static double
s_seven (void *ctx)
{
    (void) ctx;
    return 7;
}

//  --------------------------------------------------------------------------

static void
test_bad_addresses (void)
{
    const char *bad [] = { "nope", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000",
        "127.0.0.1:80x", "127.0.0.1:-1", "1.2.3:80", "db.example:80", "[::1]:80",
        ":123456", "256.0.0.1:80" };
    for (size_t i = 0; i < sizeof bad / sizeof bad [0]; i++) {
        char err [256] = "";
        dt_httpd_t *httpd = dt_httpd_new (bad [i], NULL, NULL, NULL, err, sizeof err);
        CHECK (httpd == NULL);
        CHECK (strstr (err, "bad HTTP address") != NULL);
        dt_httpd_destroy (&httpd);
    }
    char err [256] = "";
    CHECK (dt_httpd_new (NULL, NULL, NULL, NULL, err, sizeof err) == NULL);
    CHECK (err [0]);
}

static void
test_serve (void)
{
    dt_metrics_t *metrics = dt_metrics_new ("dt_");
    dt_counter_t *events = dt_metrics_counter (metrics, "events_total", "Events.", NULL);
    dt_counter_t *rejected = dt_metrics_counter (metrics, "rejected_total", "Rejects.", "code");
    dt_metrics_gauge_fn (metrics, "journal_depth", "Depth.", s_seven, NULL);
    state_t state = { .reason = "database unreachable" };
    atomic_init (&state.connected, true);
    atomic_init (&state.calls, 0);

    char err [256] = "";
    dt_httpd_t *httpd = dt_httpd_new ("127.0.0.1:0", metrics, s_ready, &state, err, sizeof err);
    CHECK (httpd);
    CHECK_STR (err, "");
    if (!httpd) {
        fprintf (stderr, "dt_httpd_new: %s\n", err);
        dt_metrics_destroy (&metrics);
        return;
    }
    int port = dt_httpd_port (httpd);
    CHECK (port > 0 && port < 65536);
    reply_t *reply = malloc (sizeof *reply);

    s_request (port, "GET", "/healthz", reply);
    CHECK_INT (reply->status, 200);
    CHECK_STR (reply->body, "ok\n");
    CHECK_STR (s_header (reply, "Content-Type"), "text/plain; charset=utf-8");

    //  HEAD: the same headers, no body
    s_request (port, "HEAD", "/healthz", reply);
    CHECK_INT (reply->status, 200);
    CHECK_STR (reply->body, "");
    CHECK_STR (s_header (reply, "Content-Length"), "3");

    s_request (port, "GET", "/readyz", reply);
    CHECK_INT (reply->status, 200);
    CHECK_STR (reply->body, "ready\n");
    CHECK_INT (atomic_load (&state.calls), 1);

    atomic_store (&state.connected, false);
    s_request (port, "GET", "/readyz", reply);
    CHECK_INT (reply->status, 503);
    CHECK_STR (reply->body, "not ready: database unreachable\n");
    state.reason = "two\nlines\r";             //  kept to one line
    s_request (port, "GET", "/readyz", reply);
    CHECK_STR (reply->body, "not ready: two lines \n");
    state.reason = "";
    s_request (port, "GET", "/readyz", reply);
    CHECK_STR (reply->body, "not ready: unknown\n");
    atomic_store (&state.connected, true);
    s_request (port, "GET", "/readyz", reply);
    CHECK_INT (reply->status, 200);

    //  Metrics carry what was set, as of each scrape
    dt_counter_add (events, NULL, 42);
    dt_counter_add (rejected, "bad_value", 3);
    s_request (port, "GET", "/metrics", reply);
    CHECK_INT (reply->status, 200);
    CHECK_STR (s_header (reply, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    CHECK (strstr (reply->body, "# TYPE dt_events_total counter\ndt_events_total 42\n"));
    CHECK (strstr (reply->body, "\ndt_rejected_total{code=\"bad_value\"} 3\n"));
    CHECK (strstr (reply->body, "\ndt_journal_depth 7\n"));
    char *text = dt_metrics_render (metrics);
    CHECK_STR (reply->body, text);
    free (text);
    dt_counter_add (events, NULL, 1);
    s_request (port, "GET", "/metrics?debug=1", reply);       //  query ignored
    CHECK_INT (reply->status, 200);
    CHECK (strstr (reply->body, "\ndt_events_total 43\n"));

    const char *missing [] = { "/nope", "/", "/healthz/", "/metricsx", "/READYZ" };
    for (size_t i = 0; i < sizeof missing / sizeof missing [0]; i++) {
        s_request (port, "GET", missing [i], reply);
        CHECK_INT (reply->status, 404);
    }
    const char *methods [] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
    for (size_t i = 0; i < sizeof methods / sizeof methods [0]; i++) {
        s_request (port, methods [i], "/metrics", reply);
        CHECK_INT (reply->status, 405);
        CHECK_STR (s_header (reply, "Allow"), "GET, HEAD");
    }
    //  A POST with a body is refused before the body is read
    int fd = s_connect (port);
    s_exchange (fd, "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
                    "Connection: close\r\n\r\nhello", reply);
    close (fd);
    CHECK_INT (reply->status, 405);
    //  Garbage is answered (400) or dropped, and the server carries on
    fd = s_connect (port);
    s_exchange (fd, "\x01\x02 nonsense\r\n\r\n", reply);
    close (fd);
    CHECK (reply->status == 0 || reply->status == 400);
    s_request (port, "GET", "/healthz", reply);
    CHECK_INT (reply->status, 200);

    //  Keep-alive: two requests on one connection
    fd = s_connect (port);
    s_exchange (fd, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", reply);
    close (fd);
    CHECK_INT (reply->status, 200);
    CHECK (strncmp (reply->body, "ok\nHTTP/1.1 200 OK\r\n", 20) == 0);
    CHECK (strstr (reply->body, "\r\n\r\nready\n"));

    //  The port is taken now
    char address [32];
    snprintf (address, sizeof address, "127.0.0.1:%d", port);
    dt_httpd_t *second = dt_httpd_new (address, metrics, NULL, NULL, err, sizeof err);
    CHECK (second == NULL);
    CHECK (strstr (err, address) && strstr (err, "in use"));
    dt_httpd_destroy (&second);

    //  Over the connection limit a connection waits, unanswered, until a
    //  slot is free
    int idle [DT_HTTPD_CONNECTIONS];
    for (int i = 0; i < DT_HTTPD_CONNECTIONS; i++)
        idle [i] = s_connect (port);
    usleep (100 * 1000);
    int waiting = s_connect (port);
    const char *request = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    CHECK_INT (send (waiting, request, strlen (request), MSG_NOSIGNAL), strlen (request));
    struct pollfd item = { .fd = waiting, .events = POLLIN };
    CHECK_INT (poll (&item, 1, 300), 0);
    close (idle [0]);
    s_exchange (waiting, NULL, reply);
    close (waiting);
    CHECK_INT (reply->status, 200);
    CHECK_STR (reply->body, "ok\n");

    //  Stopping does not wait for idle clients
    struct timespec start, end;
    clock_gettime (CLOCK_MONOTONIC, &start);
    dt_httpd_destroy (&httpd);
    clock_gettime (CLOCK_MONOTONIC, &end);
    CHECK (httpd == NULL);
    CHECK (end.tv_sec - start.tv_sec < 2);
    dt_httpd_destroy (&httpd);                  //  safe twice
    for (int i = 1; i < DT_HTTPD_CONNECTIONS; i++)
        close (idle [i]);
    CHECK (s_connect (port) < 0);               //  nobody listens

    free (reply);
    dt_metrics_destroy (&metrics);
}

static void
test_defaults (void)
{
    //  No metrics, no readiness callback; every interface
    char err [256] = "";
    dt_httpd_t *httpd = dt_httpd_new ("*:0", NULL, NULL, NULL, err, sizeof err);
    CHECK (httpd);
    if (!httpd)
        return;
    reply_t *reply = malloc (sizeof *reply);
    s_request (dt_httpd_port (httpd), "GET", "/readyz", reply);
    CHECK_INT (reply->status, 200);
    s_request (dt_httpd_port (httpd), "GET", "/metrics", reply);
    CHECK_INT (reply->status, 404);
    dt_httpd_destroy (&httpd);

    httpd = dt_httpd_new ("localhost:0", NULL, NULL, NULL, err, sizeof err);
    CHECK (httpd);
    if (httpd) {
        s_request (dt_httpd_port (httpd), "GET", "/healthz", reply);
        CHECK_INT (reply->status, 200);
    }
    dt_httpd_destroy (&httpd);
    free (reply);
}

int
main (void)
{
    test_bad_addresses ();
    test_serve ();
    test_defaults ();
    return TESTING_DONE ();
}
