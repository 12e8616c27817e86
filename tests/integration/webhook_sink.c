/*  webhook_sink.c - a webhook receiver for relay.sh, on loopback only: it
    answers 503 to the first FAIL requests (and to the first FAIL_EACH of
    each Idempotency-Key), then 200, and writes one line per request to LOG:
    "<status> <Idempotency-Key> <Dualtrack-Seq> <body>" (the body is one
    line of JSON), and one to stderr with the time of each request:
    "<ms since the epoch> <status> <Idempotency-Key>". Its 503s carry
    RETRY_AFTER as their Retry-After header when given. It prints "port N"
    once listening, and stops on SIGTERM.
    FAIL written @PATH fails every request while the file PATH exists.
    It listens on 127.0.0.1, or on the IPv4 address in $WEBHOOK_SINK_ADDR
    (scripts/compose-test: the compose network's gateway, for the relay in
    its container).
    Usage: webhook_sink LOG [FAIL] [FAIL_EACH] [RETRY_AFTER]  (FAIL -1: always fail)
*/
#include <czmq.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static FILE *s_log;
static long s_fail, s_fail_each, s_requests;
static const char *s_retry_after;   //  NULL: no Retry-After
static const char *s_fail_file;     //  fail while it exists
static zhash_t *s_attempts;         //  key -> attempts seen so far (as a string)

typedef struct {
    char *body;
    size_t size;
} s_upload_t;

static enum MHD_Result
s_answer (void *cls, struct MHD_Connection *connection, const char *url, const char *method,
          const char *version, const char *data, size_t *data_size, void **state)
{
    (void) cls; (void) url; (void) version;
    s_upload_t *upload = *state;
    if (!upload) {
        *state = calloc (1, sizeof (s_upload_t));
        return MHD_YES;
    }
    if (*data_size) {
        upload->body = realloc (upload->body, upload->size + *data_size + 1);
        memcpy (upload->body + upload->size, data, *data_size);
        upload->size += *data_size;
        upload->body [upload->size] = 0;
        *data_size = 0;
        return MHD_YES;
    }
    const char *key = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Idempotency-Key");
    const char *seq = MHD_lookup_connection_value (connection, MHD_HEADER_KIND, "Dualtrack-Seq");
    key = key? key: "-";
    //  The daemon runs one thread: no locks
    long before = s_requests++;
    char *seen = zhash_lookup (s_attempts, key);
    long attempts = seen? atol (seen): 0;
    char count [24];
    snprintf (count, sizeof count, "%ld", attempts + 1);
    zhash_update (s_attempts, key, count);
    unsigned status = strcmp (method, "POST") != 0? 405
                    : s_fail < 0 || before < s_fail || attempts < s_fail_each
                    || (s_fail_file && access (s_fail_file, F_OK) == 0)? 503: 200;
    fprintf (s_log, "%u %s %s %s\n", status, key, seq? seq: "-", upload->body? upload->body: "");
    fflush (s_log);
    fprintf (stderr, "%lld %u %s\n", (long long) zclock_time (), status, key);
    //  A slow receiver, when asked (WEBHOOK_SINK_DELAY_MS): each 200 takes that long
    const char *delay = getenv ("WEBHOOK_SINK_DELAY_MS");
    if (delay && status == 200)
        zclock_sleep (atoi (delay));
    struct MHD_Response *response = MHD_create_response_from_buffer (3, (void *) "ok\n",
                                                                    MHD_RESPMEM_PERSISTENT);
    if (status == 503 && s_retry_after)
        MHD_add_response_header (response, "Retry-After", s_retry_after);
    enum MHD_Result rc = MHD_queue_response (connection, status, response);
    MHD_destroy_response (response);
    return rc;
}

static void
s_completed (void *cls, struct MHD_Connection *connection, void **state,
             enum MHD_RequestTerminationCode code)
{
    (void) cls; (void) connection; (void) code;
    s_upload_t *upload = *state;
    if (upload) {
        free (upload->body);
        free (upload);
        *state = NULL;
    }
}

static volatile sig_atomic_t s_stop;
static void s_on_signal (int sig) { (void) sig; s_stop = 1; }

int
main (int argc, char *argv [])
{
    if (argc < 2) {
        fprintf (stderr, "usage: webhook_sink LOG [FAIL] [FAIL_EACH] [RETRY_AFTER]\n");
        return 2;
    }
    s_log = fopen (argv [1], "a");
    s_fail = argc > 2 && argv [2][0] != '@'? atol (argv [2]): 0;
    s_fail_file = argc > 2 && argv [2][0] == '@'? argv [2] + 1: NULL;
    s_fail_each = argc > 3? atol (argv [3]): 0;
    s_retry_after = argc > 4 && *argv [4]? argv [4]: NULL;
    if (!s_log)
        return 2;
    s_attempts = zhash_new ();
    zhash_autofree (s_attempts);
    struct sockaddr_in loopback = { .sin_family = AF_INET, .sin_port = 0,
                                    .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
    const char *address = getenv ("WEBHOOK_SINK_ADDR");
    if (address && *address && inet_pton (AF_INET, address, &loopback.sin_addr) != 1) {
        fprintf (stderr, "webhook_sink: WEBHOOK_SINK_ADDR '%s' is not an IPv4 address\n", address);
        return 2;
    }
    struct MHD_Daemon *daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL,
        s_answer, NULL, MHD_OPTION_SOCK_ADDR, &loopback,
        MHD_OPTION_NOTIFY_COMPLETED, s_completed, NULL, MHD_OPTION_END);
    if (!daemon) {
        fprintf (stderr, "webhook_sink: can not listen\n");
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info (daemon, MHD_DAEMON_INFO_BIND_PORT);
    printf ("port %u\n", info->port);
    fflush (stdout);
    signal (SIGTERM, s_on_signal);
    signal (SIGINT, s_on_signal);
    while (!s_stop)
        pause ();
    MHD_stop_daemon (daemon);
    zhash_destroy (&s_attempts);
    fclose (s_log);
    return 0;
}
