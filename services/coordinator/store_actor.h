/*  store_actor.h - a store actor: one thread that owns one PostgreSQL writer
    connection (store/store.h) and commits the writesets the link thread
    hands it, retrying until each is committed, so the link thread never
    waits on PostgreSQL.

    The pipe protocol, each a picture "sp" (command, pointer):
      link thread -> actor   "WRITE", writeset   commit it (ownership moves)
      actor -> link thread   "DONE", writeset    committed (ownership back;
                                                 NULL if stopped first)
      actor -> link thread   "CONNECTED", NULL   (re)connected, migrations run
    $TERM stops it; a writeset it could not commit goes back as DONE NULL
    and the tracks resend its events.
*/
#ifndef DT_STORE_ACTOR_H
#define DT_STORE_ACTOR_H

#include "base/metrics.h"

#include <czmq.h>
#include <stdatomic.h>

//  What the actors share with the link thread; it outlives them
typedef struct {
    const char *pg_uri;
    const char *pg_password;            //  NULL: from the URI or libpq
    dt_histogram_t *commit_seconds;     //  per commit
    dt_histogram_t *writeset_items;     //  per commit
    dt_histogram_t *ingress_to_commit;  //  per event: track receipt -> committed
    atomic_bool *ready;                 //  connected and committing
} dt_store_actor_args_t;

//  The actor's body, for zactor_new (dt_store_actor, args)
void dt_store_actor (zsock_t *pipe, void *args);

#endif
