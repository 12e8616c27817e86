/*  curve.h - who may connect: CURVE encryption and authentication for the
    ZeroMQ sockets (ingress, link, decisions feed, check API).

    A server socket gets this process's key pair and asks the ZAP handler
    (an actor here, one per process) about every client: its public key must
    be in the allow-list directory (certificates made by `dualtrack keygen`;
    the directory is re-read when it changes, and at once on
    dt_curve_reload: SIGHUP). A refused client is logged. An admitted one's
    messages carry its certificate's name as their User-Id (zframe_meta),
    or its public key when the certificate has no usable name.
    A client socket gets its own key pair and the server's public key.
*/
#ifndef DT_CURVE_H
#define DT_CURVE_H

#include <czmq.h>
#include <stdbool.h>

typedef struct _dt_curve_t dt_curve_t;

//  Load this process's certificate (cert_path: the file `dualtrack keygen`
//  wrote; its _secret twin must be beside it) and, for servers, start the
//  ZAP handler over clients_dir (NULL for a pure client). NULL with err.
dt_curve_t *dt_curve_new (const char *cert_path, const char *clients_dir, char *err, size_t errlen);
void dt_curve_destroy (dt_curve_t **self_p);

//  Make a socket a CURVE server. Call before bind.
void dt_curve_server (dt_curve_t *self, zsock_t *sock);

//  Make a socket a CURVE client of the server whose public certificate is
//  in server_cert_path. Call before connect. 0, or -1 with err.
int dt_curve_client (dt_curve_t *self, zsock_t *sock, const char *server_cert_path,
                     char *err, size_t errlen);

//  Re-read the allow-list now; the next handshake uses it. 0, or -1 when
//  this process has none (a pure client).
int dt_curve_reload (dt_curve_t *self);

//  Clients refused so far (for metrics)
uint64_t dt_curve_refused (dt_curve_t *self);

#endif
