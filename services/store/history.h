/*  history.h - what the coordinator reads back from PostgreSQL: the tone
    book (and its change notifications), and recent touchpoints to rebuild
    the rule engine's memory at start and for accounts it evicted.

    A connection of its own, owned by the coordinator's main thread (the
    writer connection belongs to the store actor).
*/
#ifndef DT_HISTORY_H
#define DT_HISTORY_H

#include "rules/engine.h"
#include "base/buf.h"

typedef struct _dt_history_t dt_history_t;

dt_history_t *dt_history_new (const char *uri, const char *password, const dt_stageset_t *stages);
void dt_history_destroy (dt_history_t **self_p);

//  Called for every touchpoint the history feeds to the engine
typedef void (dt_history_observer_fn) (void *ctx, const dt_event_t *event);
void dt_history_set_observer (dt_history_t *self, dt_history_observer_fn *fn, void *ctx);

//  Connect (again) and LISTEN for tone book, alias, suppression and contact
//  setting changes. 0, or -1
//  with err.
int dt_history_connect (dt_history_t *self, char *err, size_t errlen);
bool dt_history_connected (dt_history_t *self);

//  The connection's socket, to poll for notifications (-1 if none)
int dt_history_socket (dt_history_t *self);

//  Read what arrived on the socket. Returns what changed (the flags below,
//  0 for nothing), or -1 if the connection was lost.
#define DT_HISTORY_TONEBOOK     1
#define DT_HISTORY_IDENTITY     2
#define DT_HISTORY_SUPPRESSIONS 4
#define DT_HISTORY_SETTINGS     8       //  contact_settings (the buyers' zones)
int dt_history_notified (dt_history_t *self);

//  The reader connection (libpq's PGconn), for the store's other readers
//  (aliases.c, policy_load.c: they read on the connection that LISTENs);
//  NULL when not connected
struct pg_conn *dt_history_conn (dt_history_t *self);

//  The same, or NULL with "not connected to the store" in err
struct pg_conn *dt_history_conn_or_say (dt_history_t *self, char *err, size_t errlen);

//  Load the tone book from its tables. NULL with err on failure. The book is
//  not yet validated against the stages: dt_engine_set_tonebook does that.
dt_tonebook_t *dt_history_tonebook (dt_history_t *self, char *err, size_t errlen);

//  Record a reload attempt in tonebook_reloads
void dt_history_record_reload (dt_history_t *self, bool ok, const char *message);

//  Record a reload attempt in table (a KIND_reloads table: at, ok,
//  message); a warning is logged if that fails
void dt_history_record (dt_history_t *self, const char *table, bool ok, const char *message);

//  A refused reload: logged as an error (msg, with err) and recorded in
//  table as not ok with err. Returns -1.
int dt_history_refused (dt_history_t *self, const char *table, const char *msg, const char *err);

//  Feed the engine every touchpoint that occurred or arrived within the
//  horizon before now. Returns the count, or -1 with err.
int64_t dt_history_rebuild (dt_history_t *self, dt_engine_t *engine, int64_t horizon_ms,
                            char *err, size_t errlen);

//  Append text to a PostgreSQL array literal being built in array ("{" so
//  far, or "{" and elements) as one quoted element
void dt_history_array_element (dt_buf_t *array, dt_str_t text);

//  Feed the engine the touchpoints of these accounts since since_ms, in one
//  query (the accounts a batch needs that memory evicted). Returns the
//  count, or -1 (logged).
int64_t dt_history_load_accounts (dt_history_t *self, dt_engine_t *engine,
                                  const dt_str_t *accounts, size_t count, int64_t since_ms);

#endif
