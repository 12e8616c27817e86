/*  trackd.h - one track daemon: the ingress ROUTER where publishers send
    requests, validation, and the link DEALER that forwards accepted events
    (and rejects, for the rejects table) to the coordinator.

    Marketing and sales run this same code; what differs is the dt_track_t
    and the defaults in track_profiles (main.c).

    A publisher's request is answered only when the coordinator has confirmed
    every accepted event of it as committed to PostgreSQL: the link carries a
    sequence number per item and the coordinator acknowledges "all up to N".
*/
#ifndef DT_TRACKD_H
#define DT_TRACKD_H

#include "event.h"

typedef struct {
    dt_track_t track;
    const char *ingress;            //  e.g. "tcp://*:7701"
    const char *coordinator;        //  e.g. "tcp://127.0.0.1:7720"
    dt_stageset_t stages;
    int batch_max;                  //  items per link batch
    int window;                     //  link batches in flight
    int resend_ms;                  //  resend unacknowledged batches after this
    int drain_ms;                   //  on SIGTERM, wait this long for the coordinator
    int queue_max;                  //  items waiting to be sent before ingress pauses
} dt_trackd_opts_t;

typedef struct dt_trackd_t dt_trackd_t;

//  Bind and connect. Returns NULL (logged) if the ingress can not be bound.
dt_trackd_t *dt_trackd_new (const dt_trackd_opts_t *opts);
void dt_trackd_destroy (dt_trackd_t **self_p);

//  Serve until stopped by SIGTERM/SIGINT (dt_stop_requests), then drain:
//  stop reading, forward and confirm what was accepted, answer, return 0.
//  Returns -1 if the drain ran out of time with requests unanswered.
int dt_trackd_run (dt_trackd_t *self);

//  The endpoint the ingress is bound to (resolves a "*" port)
const char *dt_trackd_endpoint (dt_trackd_t *self);

#endif
