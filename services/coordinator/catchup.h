/*  catchup.h - the catch-up API (proto/PROTOCOL.md, "Catch-up API"): a
    ROUTER answering "the verdicts after seq N matching topic prefix P, at
    most K" from PostgreSQL, in seq order, a page per request, each verdict
    as the decisions feed carried it (topic and message).

    An actor with its own socket and PostgreSQL connection, so a slow query
    never holds up judging. It answers up to the last seq the link thread
    published, never past it: later seqs may be committed out of order.
*/
#ifndef DT_CATCHUP_ACTOR_H
#define DT_CATCHUP_ACTOR_H

#include "base/metrics.h"
#include "proto/event.h"

#include <czmq.h>
#include <stdatomic.h>

//  What the actor gets; it outlives the actor
typedef struct {
    zsock_t *router;                    //  bound (and secured) by the coordinator; the actor owns it
    const char *pg_uri;
    const char *pg_password;            //  NULL: from the URI or libpq
    const dt_stageset_t *stages;
    atomic_uint_fast64_t *published;    //  the last seq on the feed; UINT64_MAX not known yet
    dt_counter_t *requests;             //  per request, by result
} dt_catchup_args_t;

//  The actor's body, for zactor_new (dt_catchup_actor, args)
void dt_catchup_actor (zsock_t *pipe, void *args);

#endif
