/*  trackd.h - one track daemon: the ingress ROUTER where publishers send
    requests, validation, and the link DEALER that forwards accepted events
    (and rejects, for the rejects table) to the coordinator.

    Marketing and sales run this same code; what differs is the dt_track_t
    and the defaults in track_profiles (main.c).

    A publisher's request is answered once its accepted events are fsynced to
    the track's journal (services/journal/journal.h); from there they are
    forwarded until the coordinator confirms them committed to PostgreSQL:
    the link carries the journal's sequence number per item and the
    coordinator acknowledges "all up to N".
*/
#ifndef DT_TRACKD_H
#define DT_TRACKD_H

#include "proto/event.h"

typedef struct {
    dt_track_t track;
    const char *ingress;            //  e.g. "tcp://*:7701"
    const char *coordinator;        //  e.g. "tcp://127.0.0.1:7720"
    const char *http;               //  health and metrics, e.g. "127.0.0.1:9701"; "" none
    //  CURVE (services/base/curve.h); NULL cert: plain TCP
    const char *curve_cert;         //  this track's certificate
    const char *curve_clients;      //  allow-list directory of publishers
    const char *curve_coordinator;  //  the coordinator's public certificate
    //  The HTTP ingress (http_ingress.h); "" or NULL: off
    const char *http_ingress;       //  e.g. "*:7801"
    const char *http_tokens;        //  bearer token directory
    const char *http_cert;          //  PEM certificate and key: HTTPS; NULL: plain HTTP
    const char *http_key;
    dt_stageset_t stages;
    int batch_max;                  //  items per link batch
    int window;                     //  link batches in flight
    int heartbeat_ms;               //  ping the coordinator when quiet this long
    int liveness_ms;                //  silence after which the coordinator is gone
    int drain_ms;                   //  on SIGTERM, time to forward what the journal holds
    const char *journal_dir;
    uint64_t journal_max_bytes;     //  unconfirmed bytes before answering overloaded
} dt_trackd_opts_t;

typedef struct _dt_trackd_t dt_trackd_t;

//  Bind and connect. Returns NULL (logged) if the ingress can not be bound.
dt_trackd_t *dt_trackd_new (const dt_trackd_opts_t *opts);
void dt_trackd_destroy (dt_trackd_t **self_p);

//  Serve until stopped by SIGTERM/SIGINT (dt_stop_requests), then drain:
//  stop reading, answer, forward what the journal holds for up to drain_ms,
//  return 0. Returns -1 if the journal failed (the daemon must restart).
int dt_trackd_run (dt_trackd_t *self);

//  The endpoint the ingress is bound to (resolves a "*" port)
const char *dt_trackd_endpoint (dt_trackd_t *self);

#endif
