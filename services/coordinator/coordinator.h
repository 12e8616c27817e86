/*  coordinator.h - the coordinator daemon: the link ROUTER where the track
    daemons forward items, and the store actor that commits them to
    PostgreSQL, one writeset per transaction.

    The link thread keeps reading while the store commits: the next writeset
    fills up during the current commit, so batches grow with load and the
    number of transactions per event falls as the store gets busier.
*/
#ifndef DT_COORDINATOR_H
#define DT_COORDINATOR_H

#include "rules/engine.h"

typedef struct {
    const char *links;              //  e.g. "tcp://*:7720"
    const char *decisions;          //  PUB, e.g. "tcp://*:7710"
    const char *check;              //  ROUTER, e.g. "tcp://*:7711"
    const char *catchup;            //  ROUTER, e.g. "tcp://*:7712" (catchup.h)
    const char *http;               //  health and metrics, e.g. "127.0.0.1:9720"; "" none
    //  CURVE (services/base/curve.h); NULL cert: plain TCP
    const char *curve_cert;         //  the coordinator's certificate
    const char *curve_clients;      //  allow-list: tracks, subscribers, check clients
    dt_rules_config_t rules;
    const char *pg_uri;
    const char *pg_password;        //  NULL: from the URI or libpq's environment
    dt_stageset_t stages;
    int credit;                     //  items each track may have unacknowledged
    int store_connections;          //  writesets committing at once (1..DT_STORE_CONNECTIONS_MAX)
    int writeset_max;               //  items at which a writeset is closed
    int drain_ms;                   //  on SIGTERM, time to commit what is in hand
} dt_coordinator_opts_t;

#define DT_STORE_CONNECTIONS_MAX 8

typedef struct _dt_coordinator_t dt_coordinator_t;

dt_coordinator_t *dt_coordinator_new (const dt_coordinator_opts_t *opts);
void dt_coordinator_destroy (dt_coordinator_t **self_p);

//  Serve until SIGTERM/SIGINT, then commit what is in hand and return 0
int dt_coordinator_run (dt_coordinator_t *self);

#endif
