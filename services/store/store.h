/*  store.h - the coordinator's PostgreSQL connection: schema migrations at
    connect, and one transaction per writeset (COPY straight into the tables;
    if an id is already stored, COPY into staging tables and INSERT ... ON
    CONFLICT DO NOTHING instead, so a resent event is stored once).

    Owned by one thread (the store actor in coordinator.c); libpq is not
    shared between threads.
*/
#ifndef DT_STORE_H
#define DT_STORE_H

#include "store/writeset.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _dt_store_t dt_store_t;

//  password may be NULL (then the URI's, or libpq's usual sources, apply)
dt_store_t *dt_store_new (const char *uri, const char *password);
void dt_store_destroy (dt_store_t **self_p);

//  Connect (again), apply pending migrations, prepare the session.
//  Returns 0, or -1 with a sentence in err.
int dt_store_connect (dt_store_t *self, char *err, size_t errlen);

bool dt_store_connected (dt_store_t *self);

//  The server process of the connection (for diagnostics), or 0
int dt_store_backend_pid (dt_store_t *self);

//  Who hands out the feed's sequence numbers (seq): first () gives the
//  first of the writeset's numbers (0: give up, the process is stopping);
//  used () says how many its new events took, once its rows are in and
//  only its COMMIT is left, so the next writeset's turn comes while this
//  one commits. Without one, the store numbers its own writesets from
//  max (seq) + 1 at connect.
//
//  first () may answer before the writeset ahead has said how many it
//  used: then it sets *guess, taking every event of that one to be new
//  (they are, unless a resend is among them). The rows go in, and before
//  anything commits confirm () says whether the guess held: true, commit;
//  false, roll back and ask first () again. The sequencer only guesses
//  for a writeset that shares no id with the one ahead, so neither waits
//  on the other's rows in PostgreSQL while the guess is open.
typedef struct {
    uint64_t (*first) (void *ctx, dt_writeset_t *writeset, bool *guess);
    void (*used) (void *ctx, dt_writeset_t *writeset, uint64_t count);
    bool (*confirm) (void *ctx, dt_writeset_t *writeset);
    void *ctx;
} dt_store_sequencer_t;

void dt_store_set_sequencer (dt_store_t *self, const dt_store_sequencer_t *sequencer);

//  Commit a writeset in one transaction; fills stored and duplicates.
//  Returns 0, or -1 with err (the connection may then be gone; the caller
//  reconnects and retries the same writeset, which is safe).
int dt_store_write (dt_store_t *self, dt_writeset_t *writeset, char *err, size_t errlen);

#endif
