/*  curve.c - see curve.h. The ZAP handler follows RFC 27 (ZAP): a REP
    socket on inproc://zeromq.zap.01 answering each handshake with 200 or 400.
*/
#include "base/curve.h"
#include "base/log.h"
#include "base/signals.h"
#include "base/utf8.h"

#include <stdatomic.h>

struct _dt_curve_t {
    zcert_t *cert;
    zactor_t *zap;
    char *clients_dir;
    atomic_uint_fast64_t refused;
};

static void
s_zap_actor (zsock_t *pipe, void *args)
{
    dt_curve_t *self = (dt_curve_t *) args;
    zsock_t *handler = zsock_new_rep ("inproc://zeromq.zap.01");
    zcertstore_t *allowed = zcertstore_new (self->clients_dir);
    dt_signals_block_thread ();
    zsock_signal (pipe, 0);
    zpoller_t *poller = zpoller_new (pipe, handler, NULL);
    while (true) {
        zsock_t *which = zpoller_wait (poller, -1);
        if (which == pipe) {
            char *command = zstr_recv (pipe);
            bool reload = command && streq (command, "RELOAD");
            if (reload) {
                //  The store re-reads the directory only when it looks
                //  changed (file times, in whole seconds): this is at once
                zcertstore_destroy (&allowed);
                allowed = zcertstore_new (self->clients_dir);
                zsock_signal (pipe, 0);
            }
            zstr_free (&command);
            if (reload)
                continue;
        }
        if (which != handler)
            break;      //  $TERM
        zmsg_t *request = zmsg_recv (handler);
        if (!request)
            break;
        char *version = zmsg_popstr (request);
        char *sequence = zmsg_popstr (request);
        char *domain = zmsg_popstr (request);
        char *address = zmsg_popstr (request);
        zframe_t *identity = zmsg_pop (request);
        char *mechanism = zmsg_popstr (request);
        zframe_t *key = zmsg_pop (request);
        bool allowed_client = false;
        char public_text [41] = "";
        const char *user = "";
        if (mechanism && streq (mechanism, "CURVE") && key && zframe_size (key) == 32) {
            zmq_z85_encode (public_text, zframe_data (key), 32);
            zcert_t *cert = zcertstore_lookup (allowed, public_text);
            allowed_client = cert != NULL;
            user = public_text;
            //  The certificate's name (dualtrack keygen NAME) becomes the
            //  messages' User-Id: the track records it as the publisher
            const char *name = cert? zcert_meta (cert, "name"): NULL;
            if (name && *name && strlen (name) <= 256 && dt_utf8_valid (name, strlen (name)))
                user = name;
        }
        if (!allowed_client) {
            atomic_fetch_add (&self->refused, 1);
            dt_warn ("connection refused: client key not in the allow-list",
                     "peer=%s mechanism=%s client_key=%s allow_list=%s",
                     address? address: "?", mechanism? mechanism: "?",
                     public_text [0]? public_text: "none", self->clients_dir);
        }
        zmsg_t *reply = zmsg_new ();
        zmsg_addstr (reply, "1.0");
        zmsg_addstr (reply, sequence? sequence: "");
        zmsg_addstr (reply, allowed_client? "200": "400");
        zmsg_addstr (reply, allowed_client? "OK": "not in the allow-list");
        zmsg_addstr (reply, allowed_client? user: "");
        zmsg_addmem (reply, NULL, 0);
        zmsg_send (&reply, handler);
        free (version);
        free (sequence);
        free (domain);
        free (address);
        free (mechanism);
        zframe_destroy (&identity);
        zframe_destroy (&key);
        zmsg_destroy (&request);
    }
    zpoller_destroy (&poller);
    zcertstore_destroy (&allowed);
    zsock_destroy (&handler);
}

dt_curve_t *
dt_curve_new (const char *cert_path, const char *clients_dir, char *err, size_t errlen)
{
    dt_curve_t *self = calloc (1, sizeof *self);
    self->cert = zcert_load (cert_path);
    if (!self->cert) {
        snprintf (err, errlen, "can not load the certificate %s (make one with dualtrack keygen)",
                  cert_path);
        dt_curve_destroy (&self);
        return NULL;
    }
    static const byte zeros [32] = { 0 };
    if (memcmp (zcert_secret_key (self->cert), zeros, 32) == 0) {
        snprintf (err, errlen, "%s has no secret key (%s_secret must be beside it)",
                  cert_path, cert_path);
        dt_curve_destroy (&self);
        return NULL;
    }
    if (clients_dir) {
        if (!zsys_file_exists (clients_dir)) {
            snprintf (err, errlen, "the allow-list directory %s does not exist", clients_dir);
            dt_curve_destroy (&self);
            return NULL;
        }
        self->clients_dir = strdup (clients_dir);
        self->zap = zactor_new (s_zap_actor, self);
    }
    return self;
}

void
dt_curve_destroy (dt_curve_t **self_p)
{
    if (*self_p) {
        dt_curve_t *self = *self_p;
        zactor_destroy (&self->zap);
        zcert_destroy (&self->cert);
        free (self->clients_dir);
        free (self);
        *self_p = NULL;
    }
}

void
dt_curve_server (dt_curve_t *self, zsock_t *sock)
{
    assert (self->zap);         //  a server needs its allow-list
    zcert_apply (self->cert, sock);
    zsock_set_curve_server (sock, 1);
    zsock_set_zap_domain (sock, "dualtrack");
}

int
dt_curve_client (dt_curve_t *self, zsock_t *sock, const char *server_cert_path,
                 char *err, size_t errlen)
{
    zcert_t *server = zcert_load (server_cert_path);
    if (!server) {
        snprintf (err, errlen, "can not load the server's public certificate %s", server_cert_path);
        return -1;
    }
    zcert_apply (self->cert, sock);
    zsock_set_curve_serverkey (sock, zcert_public_txt (server));
    zcert_destroy (&server);
    return 0;
}

int
dt_curve_reload (dt_curve_t *self)
{
    if (!self->zap)
        return -1;
    zstr_send (self->zap, "RELOAD");
    return zsock_wait (self->zap) == 0? 0: -1;
}

uint64_t
dt_curve_refused (dt_curve_t *self)
{
    return atomic_load (&self->refused);
}
