/*  contact_settings.h - the buyers' own time zones read from the store: the
    rows of table contact_settings (migration 018) loaded into a
    rules/zonemap, each zone resolved in the tz database once, compared
    with the map in force and handed to the engine (the contact budget's
    local time); every attempt recorded in contact_setting_reloads and
    logged with what changed.

    The engine files the map under the canonical ids of the alias map in
    force, and again whenever that map changes: nothing here depends on the
    order the two are loaded in. A change drops the memory of the accounts
    it touches (an account's row, or a contact's: the accounts whose stored
    touchpoints name the contact), so their counters are counted again in
    the new zone when the coordinator reads their history back on their
    next touch, as it does after an alias change (store/aliases.h). Reads
    through the history's connection, on the coordinator's main thread, as
    the suppressions do.
*/
#ifndef DT_CONTACT_SETTINGS_H
#define DT_CONTACT_SETTINGS_H

#include "store/history.h"

//  The table as a new map of zones from zones (the caller owns it), read
//  only: nothing is recorded (the what-if's way). NULL with the reason,
//  naming the row, in err.
dt_zonemap_t *dt_contact_settings_load (struct pg_conn *conn, const dt_tzdb_t *zones,
                                        char *err, size_t errlen);

//  Load the table and put the map in force in the engine, its zones from
//  zones (the engine's tz database, dt_engine_set_zones). On a refused
//  change (an unknown zone or a bad row, named by kind and id, or a failed
//  query) the map in force stays, the reason is logged and recorded and -1
//  returned with it in err. On success the memory of the accounts the
//  change touched (for contacts: with touchpoints since since_ms) is
//  dropped, and the change logged and recorded (rows added, removed and
//  given another zone; accounts dropped). Returns 0.
int dt_contact_settings_reload (dt_history_t *history, dt_engine_t *engine,
                                const dt_tzdb_t *zones, int64_t since_ms,
                                char *err, size_t errlen);

#endif
