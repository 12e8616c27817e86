/*  reservations.h - the store's side of the contact budget's reservations
    (migration 016, docs/schema.md "Reservations"): a reservation is
    written before the check reply names its token, together with the
    reservations it took; at start the ones that may still matter are read
    back into the engine. On the history connection (the coordinator's
    thread): a reservation is one short statement, like the reads of the
    tone book and the alias maps.
*/
#ifndef DT_STORE_RESERVATIONS_H
#define DT_STORE_RESERVATIONS_H

#include "rules/engine.h"
#include "store/history.h"

//  Record held (a new reservation) and mark the ones it took, in one
//  statement. 0, or -1 with err: then nothing was written.
int dt_reservations_record (dt_history_t *history, const dt_reservation_t *held,
                            const dt_reservation_t *taken, int taken_count,
                            char *err, size_t errlen);

//  File in the engine every reservation that ended (or ends) after an hour
//  before now_ms, in its state now. Returns the count, or -1 with err.
int64_t dt_reservations_load (dt_history_t *history, dt_engine_t *engine, int64_t now_ms,
                              char *err, size_t errlen);

#endif
