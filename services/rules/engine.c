/*  engine.c - the rule engine's public API (see engine.h, docs/rules.md):
    judging, remembering, eviction. The rest of the engine is in the
    modules internal.h lists.

    The shape follows from the throughput target (a million touchpoints a
    second on one core) and the memory target (under 1 KiB per active
    account):

    - Each account is one fixed-size block (account_t) handed out from
      chunks of CHUNK_ACCOUNTS blocks and recycled through a free list, so
      judging never allocates once the account exists.
    - The account table is open addressing with linear probing on a 64-bit
      hash of the account id; a slot is 8 bytes (32 bits of the hash as a tag
      plus the block index), deletion shifts entries back instead of leaving
      tombstones, so eviction keeps lookups short.
    - Touches are kept as a struct of arrays (times, hashed ids, hashed
      contacts, flags) so the scans of the collision and pressure rules read
      a few cache lines. Ids are kept for the "related" lists in a small
      ring per account, and checked against their hash when read back: an
      id the ring has overwritten is left out rather than misreported.
    - Claims keep their value (the first VALUE_KEPT bytes, for the message)
      and the id of the touchpoint that set them in a small arena that is
      compacted when a claim changes, which is rare.
    - Everything else (themes and claim keys the leading track used, key
      projects) is a hash and a time to the millisecond, kept in 48 bits
      (T48: ms since DT_OCCURRED_MIN), since windows are exact to the ms.
    - With 100,000 accounts the block is almost never in cache, and waiting
      for it was half the time of a judgement. The engine finds the block
      from the table alone, asks for its lines, and runs the rules that need
      no memory (stage, themes, banned phrases) while they arrive. Told of
      the events ahead (dt_engine_prefetch), it asks for the table slot two
      events ahead and for the block (and budget counters) one ahead.

    Hash collisions: accounts are told apart by a 64-bit hash, contacts,
    ids, themes and claim keys by 32 bits within one account, claim values
    by 64 bits. The chance that one of these merges two strings is far below
    the chance of a wrong row in the systems that feed us.
*/
#include "rules/internal.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>

//  The account's memory, looked up from the slot s_probe found; created if
//  asked
static account_t *
s_account (dt_engine_t *self, uint64_t key, size_t slot, bool create)
{
    account_t *account = table_find_from (self, key, slot);
    if (account || !create)
        return account;
    return table_create (self, key);
}


//  The block index of an account in memory
static uint32_t
s_block_index (dt_engine_t *self, uint64_t key)
{
    uint64_t entry = self->slots [s_probe (self, key, key & (self->slot_count - 1))];
    return entry? (uint32_t) entry - 1: BLOCK_NONE;
}

//  --------------------------------------------------------------------------
//  The engine

//  Take a checked configuration
static void
s_configure (dt_engine_t *self, const dt_rules_config_t *cfg)
{
    //  The budget's counters outlive a new configuration with the same caps
    budget_t *budget = budget_new (cfg, self->zones);
    if (budget && budget_same_caps (self->budget, cfg))
        budget_adopt (budget, &self->budget);
    budget_destroy (&self->budget);
    self->budget = budget;
    self->cfg = *cfg;
    //  The caps a planned touch counts against may have changed
    for (uint32_t i = 0; i < resv_slots (self->reservations); i++)
        if (resv_at (self->reservations, i))
            reservation_place (self, resv_at (self->reservations, i));
    dt_duration_format (cfg->collision_window, self->collision_text,
                        sizeof self->collision_text);
    dt_duration_format (cfg->sequence_window, self->sequence_text, sizeof self->sequence_text);
    dt_duration_format (cfg->pressure_period, self->pressure_text, sizeof self->pressure_text);
}

dt_engine_t *
dt_engine_new (const dt_rules_config_t *cfg, const dt_stageset_t *stages)
{
    char err [256];
    dt_rules_config_t defaults;
    if (!cfg) {
        dt_rules_config_default (&defaults);
        cfg = &defaults;
    }
    if (dt_rules_config_check (cfg, err, sizeof err))
        return NULL;
    dt_engine_t *self = (dt_engine_t *) calloc (1, sizeof (dt_engine_t));
    if (!self)
        return NULL;
    s_configure (self, cfg);
    if (stages)
        self->stages = *stages;
    else
        dt_stageset_default (&self->stages);
    self->slot_count = 1024;
    self->slots = (uint64_t *) calloc (self->slot_count, sizeof (uint64_t));
    if (!self->slots) {
        free (self);
        return NULL;
    }
    account_init (&self->empty, 0);
    return self;
}

void
dt_engine_destroy (dt_engine_t **self_p)
{
    assert (self_p);
    dt_engine_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->chunk_count; i++)
        free (self->chunks [i]);
    free (self->chunks);
    free (self->free_list);
    free (self->slots);
    dt_tonebook_destroy (&self->tonebook);
    dt_identity_destroy (&self->identity);
    dt_suppression_destroy (&self->suppressions);
    dt_zonemap_destroy (&self->zonemap);
    budget_destroy (&self->budget);
    resv_destroy (&self->reservations);
    free (self->taken);
    free (self);
    *self_p = NULL;
}

int
dt_engine_set_tonebook (dt_engine_t *self, dt_tonebook_t **tonebook_p, char *err, size_t errlen)
{
    assert (self);
    assert (tonebook_p);
    dt_tonebook_t *tonebook = *tonebook_p;
    *tonebook_p = NULL;
    if (tonebook && dt_tonebook_validate (tonebook, &self->stages, err, errlen)) {
        dt_tonebook_destroy (&tonebook);
        return -1;
    }
    dt_tonebook_destroy (&self->tonebook);
    self->tonebook = tonebook;
    return 0;
}

int
dt_engine_set_identity (dt_engine_t *self, dt_identity_t **identity_p, char *err, size_t errlen)
{
    assert (self);
    assert (identity_p);
    dt_identity_t *identity = *identity_p;
    *identity_p = NULL;
    if (identity && !dt_identity_valid (identity)
    &&  dt_identity_validate (identity, err, errlen)) {
        dt_identity_destroy (&identity);
        return -1;
    }
    //  Suppressions and zones follow the buyers: file them under the new
    //  canonical ids
    if ((self->suppressions
    &&   dt_suppression_resolve (self->suppressions, identity, err, errlen))
    ||  (self->zonemap && dt_zonemap_resolve (self->zonemap, identity, err, errlen))) {
        char ignored [8];
        if (self->suppressions)
            dt_suppression_resolve (self->suppressions, self->identity, ignored, sizeof ignored);
        if (self->zonemap)
            dt_zonemap_resolve (self->zonemap, self->identity, ignored, sizeof ignored);
        dt_identity_destroy (&identity);
        return -1;
    }
    dt_identity_destroy (&self->identity);
    self->identity = identity;
    //  The lookups under way read the old map
    for (int i = 0; i < HINTS; i++)
        self->hints [i].ev = NULL;
    return 0;
}

int
dt_engine_check_config (dt_engine_t *self, const dt_rules_config_t *cfg, char *err, size_t errlen)
{
    assert (self);
    if (dt_rules_config_check (cfg, err, errlen))
        return -1;
    //  A default zone the tz database lacks would silently mean UTC
    const char *zone = cfg->budget.zone;
    if (self->zones && !dt_tzdb_find (self->zones, zone, strlen (zone))) {
        snprintf (err, errlen, "budget.timezone: '%s' is not in the tz database", zone);
        return -1;
    }
    return 0;
}

int
dt_engine_set_suppressions (dt_engine_t *self, dt_suppression_t **suppressions_p,
                            char *err, size_t errlen)
{
    assert (self);
    assert (suppressions_p);
    dt_suppression_t *suppressions = *suppressions_p;
    *suppressions_p = NULL;
    if (suppressions
    &&  dt_suppression_resolve (suppressions, self->identity, err, errlen)) {
        dt_suppression_destroy (&suppressions);
        return -1;
    }
    dt_suppression_destroy (&self->suppressions);
    self->suppressions = suppressions;
    return 0;
}

dt_identity_t *
dt_engine_identity (dt_engine_t *self)
{
    assert (self);
    return self->identity;
}

const dt_suppression_t *
dt_engine_suppressions (dt_engine_t *self)
{
    assert (self);
    return self->suppressions;
}

int
dt_engine_set_zonemap (dt_engine_t *self, dt_zonemap_t **zonemap_p, char *err, size_t errlen)
{
    assert (self);
    assert (zonemap_p);
    dt_zonemap_t *zonemap = *zonemap_p;
    *zonemap_p = NULL;
    if (zonemap && dt_zonemap_zones (zonemap) != self->zones) {
        snprintf (err, errlen, "the zone map was made with another tz database than the engine's");
        dt_zonemap_destroy (&zonemap);
        return -1;
    }
    if (zonemap && dt_zonemap_resolve (zonemap, self->identity, err, errlen)) {
        dt_zonemap_destroy (&zonemap);
        return -1;
    }
    //  An empty map is none: judging tests one pointer
    if (dt_zonemap_rows (zonemap) == 0)
        dt_zonemap_destroy (&zonemap);
    dt_zonemap_destroy (&self->zonemap);
    self->zonemap = zonemap;
    return 0;
}

const dt_zonemap_t *
dt_engine_zonemap (dt_engine_t *self)
{
    assert (self);
    return self->zonemap;
}

dt_str_t
dt_engine_canonical (dt_engine_t *self, dt_id_kind_t kind, dt_str_t id)
{
    assert (self);
    return s_canonical (self, kind, id);
}

dt_str_t
dt_engine_judged_id (dt_engine_t *self, dt_id_kind_t kind)
{
    assert (self);
    assert ((unsigned) kind < DT_ID_KINDS);
    return self->judged [kind];
}

int
dt_engine_set_config (dt_engine_t *self, const dt_rules_config_t *cfg)
{
    assert (self);
    char err [256];
    if (!cfg || dt_engine_check_config (self, cfg, err, sizeof err))
        return -1;
    s_configure (self, cfg);
    return 0;
}

int
dt_engine_set_zones (dt_engine_t *self, const dt_tzdb_t *zones, char *err, size_t errlen)
{
    assert (self);
    const char *zone = self->cfg.budget.zone;
    if (zones && !dt_tzdb_find (zones, zone, strlen (zone))) {
        snprintf (err, errlen, "budget.timezone: '%s' is not in the tz database", zone);
        return -1;
    }
    self->zones = zones;
    s_configure (self, &self->cfg);
    return 0;
}

const dt_rules_config_t *
dt_engine_config (dt_engine_t *self)
{
    return &self->cfg;
}

//  Ask for every cache line of block bytes from..to (blocks do not start
//  on a line, so a range may touch one line more than its length says)
static inline void
s_prefetch (const char *block, size_t from, size_t to)
{
    uintptr_t line = ((uintptr_t) block + from) & ~(uintptr_t) 63;
    for (; line < (uintptr_t) block + to; line += 64)
        __builtin_prefetch ((const void *) line);
}

//  The parts of an account's block judging ev reads, besides its touches
#define PART_CLAIMS     0x01
#define PART_SEEN       0x02
#define PART_PROJECTS   0x04
static inline uint8_t
s_parts (const dt_event_t *ev)
{
    return (uint8_t) ((ev->claim_count? PART_CLAIMS: 0)
                    | (ev->claim_count || ev->theme.len? PART_SEEN: 0)
                    | (ev->project.len? PART_PROJECTS: 0));
}

//  Ask for the lines of block index the rules read: touches always; claims,
//  themes and projects when the event has them (asking for every line
//  stalls when the fill buffers run out); then the budget's counters
static inline __attribute__ ((always_inline)) void
s_block_ask (dt_engine_t *self, uint32_t index, uint8_t parts)
{
    if (index != BLOCK_NONE) {
        const char *block = (const char *) s_block (self, index);
        s_prefetch (block, 0, offsetof (account_t, claims));
        if (parts & PART_CLAIMS)
            s_prefetch (block, offsetof (account_t, claims), offsetof (account_t, seen));
        if (parts & PART_SEEN)
            s_prefetch (block, offsetof (account_t, seen), offsetof (account_t, projects));
        if (parts & PART_PROJECTS)
            s_prefetch (block, offsetof (account_t, projects), offsetof (account_t, idlog));
    }
    //  After the block's: the fill buffers serve those first
    if (self->budget)
        budget_prefetch (self->budget, index);
}

//  The hint dt_engine_prefetch left for ev, if any, now taken; hints given
//  before it are given up (their events were judged without them, or not
//  at all)
static hint_t *
s_hint_take (dt_engine_t *self, const dt_event_t *ev)
{
    hint_t *found = NULL;
    for (int i = 0; i < HINTS; i++) {
        hint_t *hint = &self->hints [i];
        if (hint->ev == ev && hint->account.ptr == ev->account.ptr
        &&  hint->account.len == ev->account.len && hint->contact.ptr == ev->contact.ptr
        &&  hint->contact.len == ev->contact.len && (!found || hint->number > found->number))
            found = hint;
    }
    for (int i = 0; found && i < HINTS; i++)
        if (self->hints [i].number <= found->number)
            self->hints [i].ev = NULL;
    return found;
}

//  Read the slots of hint's lookups, which have had time to come, and ask
//  for what they point to: the rows, and the table slot of an account
//  alias; or, when the account is no alias (most), the account's block,
//  since its table slot was asked for with the lookups
static void
s_hint_step (dt_engine_t *self, hint_t *hint)
{
    uint64_t guessed = s_account_hash (dt_identity_step (self->identity,
                                                         &hint->lookup [DT_ID_ACCOUNT]));
    if (hint->contact.len)
        dt_identity_step (self->identity, &hint->lookup [DT_ID_CONTACT]);
    if (guessed != hint->key)
        __builtin_prefetch (&self->slots [guessed & (self->slot_count - 1)]);
    else
        s_block_ask (self, s_block_index (self, guessed), hint->parts);
}

int
dt_engine_judge (dt_engine_t *self, const dt_event_t *ev, bool commit,
                 dt_finding_t *findings, int max, dt_verdict_t *verdict)
{
    assert (self);
    assert (ev);
    sink_t sink = { findings, findings && max > 0? max: 0, 0, DT_VERDICT_OK };
    if (verdict)
        *verdict = DT_VERDICT_OK;
    //  With many accounts neither the table slot nor the account's block is
    //  in cache: ask for the slot first, work on the event while it comes.
    //  With many aliases neither are the alias slots and rows: ask for both
    //  ids' slots and, at once, for the table slot of the account as if it
    //  were no alias (most are not); read the alias slots when they have
    //  come (an account alias's slot says which table slot to ask for
    //  instead) and ask for their rows; finish both lookups after the
    //  rules of the event, when the rows are in cache
    //  (When dt_engine_prefetch was told of the event, its lookups are
    //  under way, read further and asked for all of that already)
    dt_identity_t *identity = self->identity;
    hint_t *hint = identity? s_hint_take (self, ev): NULL;
    dt_identity_lookup_t *lookups = hint? hint->lookup: self->lookup;
    dt_identity_lookup_t *account_lookup = &lookups [DT_ID_ACCOUNT];
    dt_identity_lookup_t *contact_lookup = &lookups [DT_ID_CONTACT];
    bool contact_pending = identity && ev->contact.len;
    uint64_t key;
    if (identity) {
        if (!hint) {
            dt_identity_start (identity, DT_ID_ACCOUNT, ev->account, account_lookup);
            if (contact_pending)
                dt_identity_start (identity, DT_ID_CONTACT, ev->contact, contact_lookup);
        }
        key = s_account_hash (account_lookup->hash);
    }
    else
        key = s_account_hash (dt_hash (ev->account.ptr, ev->account.len, 0));
    self->judged [DT_ID_ACCOUNT] = ev->account;
    self->judged [DT_ID_CONTACT] = ev->contact;
    __builtin_prefetch (&self->slots [key & (self->slot_count - 1)]);
    info_t info;
    int rc = check_info (self, ev, &info);
    if (identity) {
        uint64_t guessed = s_account_hash (dt_identity_step (identity, account_lookup));
        if (guessed != key) {
            key = guessed;
            __builtin_prefetch (&self->slots [key & (self->slot_count - 1)]);
        }
        if (contact_pending)
            dt_identity_step (identity, contact_lookup);
        if (rc) {
            self->judged [DT_ID_ACCOUNT] = dt_identity_finish (identity, account_lookup);
            if (contact_pending)
                self->judged [DT_ID_CONTACT] = dt_identity_finish (identity, contact_lookup);
        }
    }
    if (rc)
        return -1;
    if (self->budget)
        budget_prepare (self->budget, &info);
    //  Find where the block should be from the table alone, ask for the
    //  lines the rules read, and judge what needs no memory while they come
    size_t slot = s_probe (self, key, key & (self->slot_count - 1));
    info.block = self->slots [slot]? (uint32_t) self->slots [slot] - 1: BLOCK_NONE;
    s_block_ask (self, info.block, s_parts (ev));
    check_event (self, &info, &sink);
    if (identity) {
        self->judged [DT_ID_ACCOUNT] = dt_identity_finish (identity, account_lookup);
        if (!dt_identity_guess_held (account_lookup)) {
            //  Another alias had the key's tag: the table slot asked for
            //  was not the account's
            dt_str_t account = self->judged [DT_ID_ACCOUNT];
            key = s_account_hash (dt_hash (account.ptr, account.len, 0));
            slot = s_probe (self, key, key & (self->slot_count - 1));
            //  Its block too, which the budget reads and counts in
            info.block = self->slots [slot]? (uint32_t) self->slots [slot] - 1: BLOCK_NONE;
        }
        if (contact_pending)
            self->judged [DT_ID_CONTACT] = dt_identity_finish (identity, contact_lookup);
    }
    //  An id that is no alias is its own canonical id: its lookup hashed it
    info.contact = contact_pending && !contact_lookup->found && self->judged [DT_ID_CONTACT].len?
                   s_contact_hash (contact_lookup->hash): s_contact_key (self->judged [DT_ID_CONTACT]);
    info.key = key;
    self->judged_reservation = false;
    resv_t *own = ev->present & DT_HAS_RESERVATION? reservation_own (self, &info, commit, &sink):
                                                    NULL;

    //  A check needs no memory of its own
    account_t *account = s_account (self, key, slot, commit);
    const account_t *memory = account? account: &self->empty;
    int replay = account_replay (memory, &info);
    check_memory (self, memory, &info, replay, &sink);
    if (own)
        own->ignored = false;

    if (commit && account) {
        if (self->budget && replay < 0) {
            if (info.block == BLOCK_NONE)       //  created just now
                info.block = s_block_index (self, key);
            budget_commit (self, &info);
        }
        account_commit (account, &info, replay, self->cfg.memory_window);
    }
    if (verdict)
        *verdict = sink.verdict;
    return sink.count;
}

void
dt_engine_prefetch (dt_engine_t *self, const dt_event_t *ev)
{
    //  With alias maps the account table's slot is known only once the
    //  account is resolved, a lookup that would wait here: ask for the
    //  alias slots, and for the table slot of the account as if it were no
    //  alias (most are not)
    //  The hint before this one has had time: read its slots (the alias
    //  maps', or the table's: then ask for the account's block)
    hint_t *last = self->hint_count? &self->hints [(self->hint_count - 1) % HINTS]: NULL;
    if (last && last->ev) {
        if (self->identity)
            s_hint_step (self, last);
        else
            s_block_ask (self, s_block_index (self, last->key), last->parts);
    }
    hint_t *hint = &self->hints [self->hint_count % HINTS];
    hint->ev = ev;
    hint->account = ev->account;
    hint->contact = ev->contact;
    hint->number = self->hint_count++;
    hint->parts = s_parts (ev);
    uint64_t key;
    if (self->identity) {
        dt_identity_start (self->identity, DT_ID_ACCOUNT, ev->account,
                           &hint->lookup [DT_ID_ACCOUNT]);
        if (ev->contact.len)
            dt_identity_start (self->identity, DT_ID_CONTACT, ev->contact,
                               &hint->lookup [DT_ID_CONTACT]);
        key = s_account_hash (hint->lookup [DT_ID_ACCOUNT].hash);
    }
    else
        key = s_account_hash (dt_hash (ev->account.ptr, ev->account.len, 0));
    hint->key = key;
    __builtin_prefetch (&self->slots [key & (self->slot_count - 1)]);
    //  The buyers' own zones (ids as sent: most are canonical)
    if (self->zonemap && self->budget) {
        dt_zonemap_prefetch (self->zonemap, DT_ID_CONTACT, ev->contact);
        dt_zonemap_prefetch (self->zonemap, DT_ID_ACCOUNT, ev->account);
    }
}

void
dt_engine_remember (dt_engine_t *self, const dt_event_t *ev)
{
    assert (self);
    assert (ev);
    info_t info;
    if (check_info (self, ev, &info))
        return;
    info.contact = s_contact_key (s_canonical (self, DT_ID_CONTACT, ev->contact));
    uint64_t key = s_account_key (self, ev->account);
    size_t slot = s_probe (self, key, key & (self->slot_count - 1));
    account_t *account = s_account (self, key, slot, true);
    if (!account)
        return;
    int replay = account_replay (account, &info);
    if (self->budget && replay < 0) {
        info.block = s_block_index (self, key);
        budget_prepare (self->budget, &info);
        budget_commit (self, &info);
    }
    account_commit (account, &info, replay, self->cfg.memory_window);
}

int64_t
dt_engine_horizon (dt_engine_t *self)
{
    return dt_rules_config_horizon (&self->cfg);
}

//  Evicts idle accounts from slot *cursor on, looking at up to budget slots;
//  *cursor is where to go on (0 after the last slot)
static size_t
s_evict_slots (dt_engine_t *self, int64_t now_ms, size_t *cursor, size_t budget)
{
    int64_t cutoff = now_ms - dt_engine_horizon (self);
    size_t evicted = 0, slot = *cursor < self->slot_count? *cursor: 0;
    while (budget > 0 && slot < self->slot_count) {
        budget--;
        uint64_t entry = self->slots [slot];
        if (!entry || s_block (self, (uint32_t) entry - 1)->newest >= cutoff) {
            slot++;
            continue;
        }
        //  The shift may pull a later entry into this slot: look again
        budget_forget (self->budget, (uint32_t) entry - 1);
        table_delete (self, slot);
        self->free_list [self->free_count++] = (uint32_t) entry - 1;
        self->accounts--;
        evicted++;
    }
    *cursor = slot < self->slot_count? slot: 0;
    return evicted;
}

size_t
dt_engine_evict (dt_engine_t *self, int64_t now_ms)
{
    assert (self);
    size_t cursor = 0;
    return s_evict_slots (self, now_ms, &cursor, SIZE_MAX);
}

size_t
dt_engine_evict_step (dt_engine_t *self, int64_t now_ms)
{
    assert (self);
    size_t budget = self->slot_count / EVICT_STEPS;
    return s_evict_slots (self, now_ms, &self->evict_cursor,
                          budget > EVICT_STEP_MIN? budget: EVICT_STEP_MIN);
}

bool
dt_engine_has_account (dt_engine_t *self, dt_str_t account)
{
    return table_find (self, s_account_key (self, account)) != NULL;
}

bool
dt_engine_forget (dt_engine_t *self, dt_str_t canonical)
{
    assert (self);
    uint64_t key = s_account_hash (dt_hash (canonical.ptr, canonical.len, 0));
    size_t slot = s_probe (self, key, key & (self->slot_count - 1));
    uint64_t entry;
    while ((entry = self->slots [slot])) {
        if (s_block (self, (uint32_t) entry - 1)->key == key) {
            //  Its counters too: the block goes back to the free list
            budget_forget (self->budget, (uint32_t) entry - 1);
            table_delete (self, slot);
            self->free_list [self->free_count++] = (uint32_t) entry - 1;
            self->accounts--;
            return true;
        }
        slot = s_probe (self, key, (slot + 1) & (self->slot_count - 1));
    }
    return false;
}

size_t
dt_engine_accounts (dt_engine_t *self)
{
    return self->accounts;
}

size_t
dt_engine_state_bytes (dt_engine_t *self)
{
    return budget_bytes (self->budget) + resv_bytes (self->reservations)
         + self->slot_count * sizeof (uint64_t)
         + self->chunk_count * (sizeof (account_t *)
                              + CHUNK_ACCOUNTS * (sizeof (account_t) + sizeof (uint32_t)));
}

size_t
dt_engine_account_block_bytes (void)
{
    return sizeof (account_t);
}

