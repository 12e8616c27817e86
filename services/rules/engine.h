/*  engine.h - the rule engine: judges one touchpoint at a time against the
    four rules of DOMAIN.md (plus contact pressure) and per-account memory
    of recent touches, and returns findings a manager can read.

    Pure: no sockets, no SQL, no files, no clock. Time is the events'
    occurred_at; the caller passes "now" only to dt_engine_evict. The caller
    owns persistence: it rebuilds memory at start-up with dt_engine_remember,
    and before judging feeds back, the same way, the history of accounts
    memory let go (dt_engine_has_account says which are missing).

    Memory per account is fixed (see docs/rules.md, "Memory"): the last
    DT_TOUCHES_KEPT touches, the leading tracks' latest claims, the themes
    and claim keys they used, and key project participation. Accounts sit in
    an open-addressing table keyed by a 64-bit hash of the account id, and
    judging allocates nothing once an account exists.

    One engine belongs to one thread; it has no locks.
*/
#ifndef DT_RULES_H
#define DT_RULES_H

#include "proto/event.h"
#include "base/tzdb.h"
#include "rules/settings.h"
#include "rules/tonebook.h"
#include "rules/identity.h"
#include "rules/suppression.h"
#include "rules/reservation.h"
#include "rules/zonemap.h"

#define DT_RELATED_MAX      8
#define DT_MESSAGE_MAX      512

typedef struct {
    dt_rule_t rule;
    dt_severity_t severity;
    char message [DT_MESSAGE_MAX];          //  one sentence, valid UTF-8
    int related_count;
    char related [DT_RELATED_MAX][DT_ID_MAX + 1];   //  other touchpoint ids
} dt_finding_t;

typedef struct _dt_engine_t dt_engine_t;

//  Create an engine. cfg NULL means the defaults; stages NULL means the
//  default funnel. Both are copied. Returns NULL if cfg does not pass
//  dt_rules_config_check or memory runs out.
dt_engine_t *dt_engine_new (const dt_rules_config_t *cfg, const dt_stageset_t *stages);

//  Destroy the engine, its tone book and its memory; nulls the pointer
void dt_engine_destroy (dt_engine_t **self_p);

//  Use a new tone book. Takes ownership of *tonebook_p and nulls it, always.
//  The book is validated against the engine's stages first: if that fails
//  it is destroyed, the previous book stays in force and -1 is returned
//  with a sentence in err; otherwise the previous book is destroyed. A NULL
//  book switches the tone rules off.
int dt_engine_set_tonebook (dt_engine_t *self, dt_tonebook_t **tonebook_p,
                            char *err, size_t errlen);

//  Judge buyers by canonical ids (rules/identity.h): every rule keys the
//  account and compares contacts by the id dt_identity_resolve returns for
//  what the event carries. Takes ownership of *identity_p and nulls it,
//  always. A map not yet valid is validated first: if that fails it is
//  destroyed, the previous map stays in force and -1 is returned with the
//  sentence naming the rows in err; otherwise the previous map is
//  destroyed. NULL: ids as sent, no normalisation (the default). Memory
//  already kept stays filed under the ids it was filed under: the caller
//  forgets the accounts whose ids changed (dt_engine_forget, see
//  dt_identity_diff) and feeds their history back.
int dt_engine_set_identity (dt_engine_t *self, dt_identity_t **identity_p,
                            char *err, size_t errlen);

//  Consent (rule `suppressed`): the buyers no touchpoint may reach. Takes
//  ownership of *suppressions_p and nulls it, always. The set is filed
//  under the canonical ids of the alias map in force (dt_suppression_resolve),
//  and again by every dt_engine_set_identity. If a row was refused the set
//  is destroyed, the previous one stays in force and -1 is returned with
//  the sentence naming the row in err. NULL: nobody is suppressed.
int dt_engine_set_suppressions (dt_engine_t *self, dt_suppression_t **suppressions_p,
                                char *err, size_t errlen);

//  The buyers' own time zones (table contact_settings): the contact
//  budget reads a buyer's local time in its contact's zone, else its
//  account's, before an event's attrs.tz and the default zone. Takes
//  ownership of *zonemap_p and nulls it, always. The map must have been
//  made with the tz database of dt_engine_set_zones; it is filed under the
//  canonical ids of the alias map in force, and again by every
//  dt_engine_set_identity. If a row was refused the map is destroyed, the
//  previous one stays in force and -1 is returned with the sentence naming
//  the row in err. NULL or an empty map: none (judging pays one pointer test).
int dt_engine_set_zonemap (dt_engine_t *self, dt_zonemap_t **zonemap_p,
                           char *err, size_t errlen);

//  The zone map in force (NULL for none or empty); the engine keeps ownership
const dt_zonemap_t *dt_engine_zonemap (dt_engine_t *self);

//  The map in force (NULL for none); the engine keeps ownership
dt_identity_t *dt_engine_identity (dt_engine_t *self);

//  The suppression set in force (NULL for none); the engine keeps ownership
const dt_suppression_t *dt_engine_suppressions (dt_engine_t *self);

//  The canonical id the engine judges id by (a kind of rules/identity.h),
//  as dt_identity_resolve returns it: valid until the next call into the
//  engine. Copy it to keep it.
dt_str_t dt_engine_canonical (dt_engine_t *self, dt_id_kind_t kind, dt_str_t id);

//  The canonical ids the last dt_engine_judge judged its event by (what
//  dt_engine_canonical would say of its account and contact; the contact
//  empty for none), from the judgement's own lookups: no second lookup.
//  Valid until the next call into the engine, and while the event is.
dt_str_t dt_engine_judged_id (dt_engine_t *self, dt_id_kind_t kind);

//  Would dt_engine_set_config take cfg? 0, or -1 with a sentence in err
//  (dt_rules_config_check, and a default zone the engine's tz database has)
int dt_engine_check_config (dt_engine_t *self, const dt_rules_config_t *cfg,
                            char *err, size_t errlen);

//  Replace the configuration (copied). Returns 0, or -1 with the old one
//  kept if cfg does not pass dt_rules_config_check.
int dt_engine_set_config (dt_engine_t *self, const dt_rules_config_t *cfg);

//  The configuration in force
const dt_rules_config_t *dt_engine_config (dt_engine_t *self);

//  The time zones the contact budget reads local time in (caps.h): the
//  policy's default zone and events' attrs.tz. Borrowed, read-only: the
//  caller keeps them alive while the engine lives (several engines may
//  share them). Without them every zone is UTC. Returns -1 with a sentence
//  if the configured default zone is not among them (nothing changes).
//  Once zones are set, dt_engine_set_config refuses an unknown default zone.
int dt_engine_set_zones (dt_engine_t *self, const dt_tzdb_t *zones, char *err, size_t errlen);

//  Judge one touchpoint. With commit the touchpoint is remembered after it
//  is judged (the same id twice is remembered once); without commit (the
//  check API, a planned touchpoint) no memory changes. Writes up to max
//  findings (findings may be NULL if max is 0); the verdict covers every
//  finding, written or not. Returns the number written, or -1 if the event
//  has no valid track or stage for this engine (verdict ok, nothing kept).
int dt_engine_judge (dt_engine_t *self, const dt_event_t *ev, bool commit,
                     dt_finding_t *findings, int max, dt_verdict_t *verdict);

//  Reservations (docs/rules.md, "Reservations"): a slot of the contact
//  budget held for a planned touch. Judge ev as a check and, if it fits
//  every cap (no contact_pressure finding above info), hold a slot for it:
//  the caller gives want's token (unique), owner, priority, created_at and
//  expires_at; the engine files it under the canonical ids and the planned
//  touch's local time, and counts it as a touch of every cap it matches
//  until an event carrying the token uses it, it expires (by received_at:
//  ev's is "now") or a request of higher priority takes it. If the touch
//  does not fit but would without some reservations of lower priority of
//  the same account, it takes as few as it needs (most valuable kept; at
//  most 8): dt_engine_reserve_taken lists them for the caller to record.
//  findings as for dt_engine_judge (max > 0): those of the touch as judged
//  in the end. *held says whether want is held. Returns the finding count,
//  or -1 (an event the engine can not judge, or no memory).
int dt_engine_reserve (dt_engine_t *self, const dt_event_t *ev, dt_reservation_t *want,
                       dt_finding_t *findings, int max, dt_verdict_t *verdict, bool *held);

//  The reservations the last dt_engine_reserve took (valid until the next
//  call into the engine); returns their count
int dt_engine_reserve_taken (dt_engine_t *self, const dt_reservation_t **taken);

//  The caller could not record the last reservation: drop it, and give the
//  ones it took back to their holders
void dt_engine_reserve_undo (dt_engine_t *self, const char *token);

//  File a reservation as recorded (a restart; a taken or used one too, so a
//  late event carrying its token is told what became of it). Replaces one
//  with the same token. 0, or -1 when memory runs out.
int dt_engine_restore_reservation (dt_engine_t *self, const dt_reservation_t *rec);

//  An event carrying a token (its `reservation` field): dt_engine_judge
//  uses a valid one (held, not expired, for the event's canonical contact),
//  which then counts no more (the event counts instead); with commit false
//  it is set aside for that judgement only. Any other token gets an info
//  finding of contact_pressure saying why, and the event is judged as one
//  without. True if the event just judged used (or, resent, had used) its
//  reservation.
bool dt_engine_judged_reservation (dt_engine_t *self);

//  The owner's reservations taken by requests of higher priority that it
//  was not told of yet (up to max into out, now told); their count
int dt_engine_reservations_taken_from (dt_engine_t *self, const char *owner,
                                       dt_reservation_t *out, int max);

//  Drop the records of reservations that ended over an hour before now_ms
size_t dt_engine_reservations_sweep (dt_engine_t *self, int64_t now_ms);

//  Reservations held now (counted against the caps, expiry aside)
size_t dt_engine_reservations_held (dt_engine_t *self);

//  A hint that ev will be judged soon (say, two events ahead in a batch):
//  starts loading its account's table slot into cache, and the next hint
//  reads the slot and asks for the account's block and budget counters, so
//  a batch costs fewer cache misses. With alias maps it starts the lookups
//  of ev's ids (the next hint reads them further, and asks for the block of
//  an account that is no alias) and judging ev takes them over, so
//  ev and the strings it points to must not change until it is judged.
//  Judging is correct with or without it.
void dt_engine_prefetch (dt_engine_t *self, const dt_event_t *ev);

//  Remember a touchpoint without judging it: rebuilds memory from the
//  store. Events in any order; idempotent by id.
void dt_engine_remember (dt_engine_t *self, const dt_event_t *ev);

//  How far back memory reaches, in ms: the largest configured window. To
//  bring back an account memory let go, feed its touches with occurred_at
//  >= event time - horizon before judging the event.
int64_t dt_engine_horizon (dt_engine_t *self);

//  Forget accounts whose newest touch is older than now_ms - horizon.
//  Returns the number evicted.
size_t dt_engine_evict (dt_engine_t *self, int64_t now_ms);

//  The same, a slice of the memory per call (1/64 of its table, at least
//  4096 slots), going on where the last call stopped: a daemon calls it
//  often instead of dt_engine_evict now and then, which touches every
//  account (about 4 ms for 100,000, 14 ms for 1,000,000) while events wait.
size_t dt_engine_evict_step (dt_engine_t *self, int64_t now_ms);

//  True if the account (any of its ids) is in memory
bool dt_engine_has_account (dt_engine_t *self, dt_str_t account);

//  Drop the memory filed under this canonical account id (as
//  dt_engine_canonical returned it under whichever map was in force; the
//  id is not looked up), so its history can be fed back under a new
//  mapping. True if there was one.
bool dt_engine_forget (dt_engine_t *self, dt_str_t canonical);

//  Accounts in memory, and the bytes their memory takes (account blocks,
//  the account table and the free list; not the tone book)
size_t dt_engine_accounts (dt_engine_t *self);
size_t dt_engine_state_bytes (dt_engine_t *self);

//  Bytes of one account's memory block (for the benchmark and docs)
size_t dt_engine_account_block_bytes (void);

#endif
