/*  checkapi.h - the check API's answers (proto/PROTOCOL.md, "Check API"):
    a planned touchpoint judged against the memory the link thread keeps,
    not remembered; with `reserve`, a slot of the contact budget held for it
    and stored before the reply names it. The coordinator's loop receives
    and replies (envelopes, the ROUTER socket); this module turns one
    request frame into one reply, on the link thread, with its engine.
*/
#ifndef DT_CHECKAPI_H
#define DT_CHECKAPI_H

#include "base/metrics.h"
#include "rules/engine.h"
#include "store/history.h"

#include <czmq.h>
#include <msgpack.h>

//  Brings back the memory of the event's account if it was let go
typedef void (dt_checkapi_preload_fn) (void *ctx, const dt_event_t *event);

typedef struct {
    dt_engine_t *engine;
    dt_history_t *history;              //  reservations are stored through it
    const dt_stageset_t *stages;
    dt_checkapi_preload_fn *preload;
    void *preload_ctx;
    dt_counter_t *m_reservations, *m_reservations_taken;
} dt_checkapi_t;

//  Answer one request (body NULL: not one frame) into pk: the verdict, or
//  the error map. Until ready (memory and reservations read back) every
//  request is answered `unavailable`.
void dt_checkapi_answer (const dt_checkapi_t *self, bool ready, zframe_t *body,
                         msgpack_packer *pk);

#endif
