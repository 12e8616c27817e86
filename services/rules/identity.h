/*  identity.h - the alias maps: one buyer (a contact or an account) known
    under several ids in the company's systems (an e-mail address, a CRM id,
    a phone number), each alias pointing at the buyer's canonical id.

    The caller builds a map row by row (alias, canonical, source; the rows
    live in PostgreSQL, contact_aliases and account_aliases, docs/schema.md;
    this module does no I/O), then validates it. Only a map that passed
    dt_identity_validate answers lookups. A refused map says why in a
    sentence naming the offending rows; the caller keeps its old map (a
    separate object) in force, so a bad change never loses the mapping.

    Normalisation (per kind, on by default; rules/normalise.h) makes ids
    that differ only in writing the same id, for the aliases and canonical
    ids of the rows and for the ids looked up alike. The stored touchpoint
    keeps what was sent; only judgement uses the normalised, resolved id.

    Aliases do not chain: an alias points at a canonical id that is no
    alias itself, so resolution is one lookup. Memory: the rows' strings sit
    in one arena, the index is open addressing over dt_hash (see
    dt_identity_bytes; bench/tools/bench_identity.c measures it).
*/
#ifndef DT_IDENTITY_H
#define DT_IDENTITY_H

#include "proto/event.h"
#include "rules/normalise.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct _dt_identity_t dt_identity_t;

typedef enum {
    DT_ID_CONTACT = 0,
    DT_ID_ACCOUNT = 1,
    DT_ID_KINDS = 2
} dt_id_kind_t;

//  Create an empty map (both kinds, normalisation on for both)
dt_identity_t *dt_identity_new (void);

//  Destroy the map and null the caller's pointer; safe on NULL
void dt_identity_destroy (dt_identity_t **self_p);

//  Turn normalisation of a kind on or off (on by default). Takes effect at
//  the next dt_identity_validate; until then the map answers no lookups.
void dt_identity_set_normalise (dt_identity_t *self, dt_id_kind_t kind, bool on);

//  Add a row: alias -> canonical, from source (NULL or "": none). The
//  strings are copied. Refuses an empty or over-long alias or canonical id
//  and invalid UTF-8. Returns 0, or -1 with a sentence in err; a failed add
//  also makes dt_identity_validate fail, so a half-loaded map is never used.
int dt_identity_add (dt_identity_t *self, dt_id_kind_t kind, const char *alias,
                     const char *canonical, const char *source, char *err, size_t errlen);

//  Check the whole map and build its indexes. Refuses, naming the rows
//  involved (as they were added):
//    - an alias pointing at two canonical ids;
//    - a chain: an alias whose canonical id is itself an alias of another
//      canonical id (the later row is refused: "point it at ... instead");
//    - an alias that is the canonical id of another buyer (when the row
//      making it an alias comes after the rows pointing at it).
//  Rows that say the same thing twice, and rows whose alias is its
//  canonical id once normalised, are accepted and change nothing.
//  Returns 0, or -1 with a sentence in err (the first problem, and how many
//  there are in all).
int dt_identity_validate (dt_identity_t *self, char *err, size_t errlen);

//  True if validated and not changed since
bool dt_identity_valid (const dt_identity_t *self);

//  The canonical id of id, normalised first: the alias's canonical id, or
//  the normalised id itself when it is no alias. The map must be valid.
//  The result points into the map (a canonical id, valid while the map
//  lives), into id (when normalisation changed nothing), or into a buffer
//  of the map that the next lookup overwrites: copy it to keep it.
dt_str_t dt_identity_resolve (dt_identity_t *self, dt_id_kind_t kind, dt_str_t id);

static inline dt_str_t
dt_identity_contact (dt_identity_t *self, dt_str_t id)
{
    return dt_identity_resolve (self, DT_ID_CONTACT, id);
}

static inline dt_str_t
dt_identity_account (dt_identity_t *self, dt_str_t id)
{
    return dt_identity_resolve (self, DT_ID_ACCOUNT, id);
}

//  One lookup in steps, so that its waits for memory overlap other work:
//  with a million aliases the index and the rows are far bigger than the
//  caches, and a lookup read in one go waits for two of them in turn.
//  dt_identity_start normalises and hashes id and asks for its index slot;
//  dt_identity_step (optional, once the slot has had time to come) reads
//  it and asks for the row of the first slot with the key's tag, with the
//  strings that follow it; dt_identity_finish answers as
//  dt_identity_resolve would. The answer may point into the lookup (its
//  normalised id): keep the lookup while the answer is used. The map must
//  be valid and unchanged from start to finish.
//
//  dt_identity_step returns a guess at dt_hash (seed 0) of the answer: the
//  hash of the normalised id when no slot has its tag (no alias, certain),
//  or, for account aliases, the hash of the canonical id the map keeps
//  beside the slot (the rule engine keys an account's memory by it and
//  asks for that memory before the row arrives). The guess is wrong only
//  if another alias shares the key's 32-bit tag: dt_identity_guess_held
//  after finish says whether it held. For contact aliases it is the id's
//  own hash, no guess.
typedef struct {
    dt_str_t key;                   //  the id normalised
    uint64_t hash;                  //  dt_hash (key, seed 0)
    uint64_t guessed;               //  what dt_identity_step returns
    uint32_t guess, found;          //  the row step guessed / finish found, 0 none
    dt_id_kind_t kind;
    bool indexed;                   //  the kind has rows and key can be one
    bool stepped;
    char buffer [DT_IDENTITY_NORM_MAX];
} dt_identity_lookup_t;

void dt_identity_start (const dt_identity_t *self, dt_id_kind_t kind, dt_str_t id,
                        dt_identity_lookup_t *lookup);
uint64_t dt_identity_step (const dt_identity_t *self, dt_identity_lookup_t *lookup);
dt_str_t dt_identity_finish (const dt_identity_t *self, dt_identity_lookup_t *lookup);

static inline bool
dt_identity_guess_held (const dt_identity_lookup_t *lookup)
{
    return lookup->guess == lookup->found;
}

//  Every id of a kind that resolves to canonical (a canonical id as
//  dt_identity_resolve returns it): each alias as added and, when it
//  differs, its normalised form. Writes up to max to ids (pointing into
//  the map) and returns how many there are in all; 0 when canonical has no
//  alias. The map must be valid. (A reverse index, 4 bytes a row: the
//  coordinator uses it to read the history of every id of an account.)
size_t dt_identity_ids_of (const dt_identity_t *self, dt_id_kind_t kind, dt_str_t canonical,
                           dt_str_t *ids, size_t max);

//  What changed from one valid map to another for a kind (either may be
//  NULL: no map). added: rows of new_map whose alias old resolves
//  otherwise; removed: rows of old whose alias new_map resolves otherwise.
//  For each such row fn, if not NULL, is told the alias (normalised) and
//  both canonical ids (the row's and what the other map makes of the
//  alias), so the caller can drop the buyers whose set of ids changed and
//  find the history sent under the alias; an id may be told more than
//  once. The strings point into the maps.
typedef void (dt_identity_change_fn) (void *ctx, dt_id_kind_t kind, dt_str_t id);
void dt_identity_diff (const dt_identity_t *old, const dt_identity_t *new_map, dt_id_kind_t kind,
                       size_t *added, size_t *removed, dt_identity_change_fn *fn, void *ctx);

//  Rows of a kind (as added, duplicates included) and bytes held
size_t dt_identity_rows (const dt_identity_t *self, dt_id_kind_t kind);
size_t dt_identity_bytes (const dt_identity_t *self);

//  The name of a kind: "contact" or "account"
const char *dt_identity_kind_name (dt_id_kind_t kind);

//  The kind a name names ("contact" or "account"): 0, or -1 for anything
//  else (NULL too)
int dt_identity_kind_parse (const char *name, dt_id_kind_t *kind);

//  The canonical id of id (dt_identity_resolve; self NULL: id as given) as
//  a new string the caller frees, its length in *len. NULL out of memory.
//  For the sets filed under canonical ids (suppressions, zones).
char *dt_identity_key (dt_identity_t *self, dt_id_kind_t kind, dt_str_t id, uint32_t *len);

#endif
