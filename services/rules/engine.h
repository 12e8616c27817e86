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

//  A hint that ev will be judged soon (say, two events ahead in a batch):
//  starts loading its account's table slot into cache, so a batch costs
//  fewer cache misses. Judging is correct with or without it.
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

//  True if the account is in memory
bool dt_engine_has_account (dt_engine_t *self, dt_str_t account);

//  Accounts in memory, and the bytes their memory takes (account blocks,
//  the account table and the free list; not the tone book)
size_t dt_engine_accounts (dt_engine_t *self);
size_t dt_engine_state_bytes (dt_engine_t *self);

//  Bytes of one account's memory block (for the benchmark and docs)
size_t dt_engine_account_block_bytes (void);

#endif
