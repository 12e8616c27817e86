/*  store_actor.h - a store actor: one thread that owns one PostgreSQL writer
    connection (store/store.h) and commits the writesets the link thread
    hands it, retrying until each is committed, so the link thread never
    waits on PostgreSQL.

    The pipe protocol, each a picture "sp8" (command, pointer, number):
      link thread -> actor   "WRITE", writeset, 0   commit it (ownership moves)
      actor -> link thread   "SEQ", writeset, 0     its turn to number its new
                                                    events, please (feed seq)
      link thread -> actor   "BASE", writeset, seq  the first of its numbers
      link thread -> actor   "GUESS", writeset, seq the first, if the writeset
                                                    ahead stores all its events
      actor -> link thread   "USED", writeset, n    its events took n; only
                                                    its COMMIT is left
      link thread -> actor   "GO", writeset, 0      the guess held: commit
      link thread -> actor   "MISS", writeset, 0    it did not: roll back and
                                                    ask again (SEQ)
      actor -> link thread   "DONE", writeset, 0    committed (ownership back;
                                                    NULL if stopped first)
      actor -> link thread   "CONNECTED", NULL, 0   (re)connected, migrations run
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
