/*  zonemap.h - a buyer's own time zone: the contacts and accounts whose
    calendar days and sending hours the contact budget reads in a zone of
    their own, whatever the event or the policy says.

    The caller adds the rows (they live in PostgreSQL, table
    contact_settings, docs/schema.md; this module does no I/O), each zone
    name resolved once, here, through the tz database the map was made
    with: a lookup returns the zone itself, never a name to look up again.
    A row that fails validation (an unknown zone names the field, tz) is
    refused with a sentence naming the row; the map then refuses to
    resolve, so the caller keeps its old map in force and a bad change
    loses nothing.

    Rows name buyers by any of their ids; dt_zonemap_resolve files them
    under the canonical ids of an alias map (rules/identity.h), again
    whenever the map changes. When two rows land on one buyer (an alias
    and its canonical id both have a row) the row naming the canonical id
    itself wins, else the first added; dt_zonemap_conflicts counts those
    whose zone differs. The index holds only the buyers that have a row:
    nothing per account, and lookups allocate nothing.
*/
#ifndef DT_ZONEMAP_H
#define DT_ZONEMAP_H

#include "base/tzdb.h"
#include "rules/identity.h"

typedef struct _dt_zonemap_t dt_zonemap_t;

//  An empty map whose zone names are looked up in zones (borrowed: it must
//  outlive the map; NULL: every zone is refused)
dt_zonemap_t *dt_zonemap_new (const dt_tzdb_t *zones);
void dt_zonemap_destroy (dt_zonemap_t **self_p);

//  Add a row: kind "contact" or "account", the id (1..256 bytes of valid
//  UTF-8), the zone's IANA name. Strings are copied. Returns 0, or -1 with
//  a sentence naming the row (its number, from 1, and id) and the field;
//  a refused row also makes the map refuse to resolve.
int dt_zonemap_add (dt_zonemap_t *self, const char *kind, const char *id, const char *zone,
                    char *err, size_t errlen);

//  Index the rows under the canonical ids identity gives their ids, or
//  under their ids as given when identity is NULL (the engine then judges
//  ids as sent too). Call again whenever the alias map changes. Returns 0,
//  or -1 with the first refused row's sentence (the map answers nothing).
int dt_zonemap_resolve (dt_zonemap_t *self, dt_identity_t *identity, char *err, size_t errlen);

//  The zone of the buyer known by canonical id, or NULL
const dt_zone_t *dt_zonemap_find (const dt_zonemap_t *self, dt_id_kind_t kind, dt_str_t id);

//  Ask for the slot the buyer known by id would be in (a prefetch, for a
//  lookup a little later; nothing is read now)
void dt_zonemap_prefetch (const dt_zonemap_t *self, dt_id_kind_t kind, dt_str_t id);

//  The zone of a touch to contact (may be empty) at account, ids as the
//  event carries them (resolved here through identity, NULL: as sent): the
//  contact's row, else the account's, else NULL
const dt_zone_t *dt_zonemap_buyer (const dt_zonemap_t *self, dt_identity_t *identity,
                                   dt_str_t contact, dt_str_t account);

size_t dt_zonemap_rows (const dt_zonemap_t *self);

//  Bytes the map takes (rows, their strings, the index)
size_t dt_zonemap_bytes (const dt_zonemap_t *self);

//  The tz database the map's zones come from
const dt_tzdb_t *dt_zonemap_zones (const dt_zonemap_t *self);

//  Rows another row of the same buyer overrides with a different zone
size_t dt_zonemap_conflicts (const dt_zonemap_t *self);

//  What changed from old to new (either may be NULL: no rows), rows paired
//  by kind and id: *added in new only, *removed in old only, *changed in
//  both with another zone. fn (if not NULL) is told the buyer of each such
//  row, by the canonical id its map filed it under (resolve both first),
//  so the caller can drop what it counted in the old zone. Returns 0, or
//  -1 out of memory.
typedef void (dt_zonemap_change_fn) (void *ctx, dt_id_kind_t kind, dt_str_t canonical);
int dt_zonemap_diff (const dt_zonemap_t *old, const dt_zonemap_t *new_map,
                     size_t *added, size_t *removed, size_t *changed,
                     dt_zonemap_change_fn *fn, void *ctx);

#endif
