/*  table.c - the account table (see internal.h): open addressing with
    linear probing over 8-byte slots (a 32-bit tag of the account's hash and
    the block index), blocks from chunks that never move, freed blocks on a
    free list. Deletion shifts the rest of a cluster back instead of leaving
    tombstones, so eviction keeps lookups short.
*/
#include "rules/internal.h"

#include <stdlib.h>

//  The account with key, starting from the slot s_probe found
account_t *
table_find_from (dt_engine_t *self, uint64_t key, size_t slot)
{
    uint64_t entry;
    while ((entry = self->slots [slot])) {
        account_t *account = s_block (self, (uint32_t) entry - 1);
        if (account->key == key)
            return account;
        slot = s_probe (self, key, (slot + 1) & (self->slot_count - 1));
    }
    return NULL;
}

account_t *
table_find (dt_engine_t *self, uint64_t key)
{
    return table_find_from (self, key, s_probe (self, key, key & (self->slot_count - 1)));
}

static void
s_slot_put (uint64_t *slots, size_t slot_count, uint64_t key, uint32_t index)
{
    size_t mask = slot_count - 1;
    size_t slot = key & mask;
    while (slots [slot])
        slot = (slot + 1) & mask;
    slots [slot] = (key >> 32) << 32 | ((uint64_t) index + 1);
}

static int
s_table_grow (dt_engine_t *self)
{
    size_t count = self->slot_count * 2;
    uint64_t *slots = (uint64_t *) calloc (count, sizeof (uint64_t));
    if (!slots)
        return -1;
    for (size_t i = 0; i < self->slot_count; i++) {
        uint64_t entry = self->slots [i];
        if (entry) {
            uint32_t index = (uint32_t) entry - 1;
            s_slot_put (slots, count, s_block (self, index)->key, index);
        }
    }
    free (self->slots);
    self->slots = slots;
    self->slot_count = count;
    return 0;
}

account_t *
table_create (dt_engine_t *self, uint64_t key)
{
    //  Keep the load under 4/5: linear probing stays short
    if ((self->accounts + 1) * 5 > self->slot_count * 4 && s_table_grow (self))
        return NULL;
    uint32_t index;
    if (self->free_count)
        index = self->free_list [--self->free_count];
    else {
        if (self->blocks_used == self->chunk_count * CHUNK_ACCOUNTS) {
            //  On a cache line: the lines a block takes are the fewest
            account_t *chunk = (account_t *) aligned_alloc (64, CHUNK_ACCOUNTS * sizeof (account_t));
            account_t **chunks = (account_t **) realloc (self->chunks,
                (self->chunk_count + 1) * sizeof (account_t *));
            uint32_t *free_list = (uint32_t *) realloc (self->free_list,
                (self->chunk_count + 1) * CHUNK_ACCOUNTS * sizeof (uint32_t));
            if (chunks)
                self->chunks = chunks;
            if (free_list)
                self->free_list = free_list;
            if (!chunk || !chunks || !free_list) {
                free (chunk);
                return NULL;
            }
            self->chunks [self->chunk_count++] = chunk;
        }
        index = (uint32_t) self->blocks_used++;
    }
    account_t *account = s_block (self, index);
    account_init (account, key);
    s_slot_put (self->slots, self->slot_count, key, index);
    self->accounts++;
    return account;
}

//  Remove the entry in slot, shifting later entries of its cluster back
void
table_delete (dt_engine_t *self, size_t hole)
{
    size_t mask = self->slot_count - 1;
    size_t slot = hole;
    while (true) {
        slot = (slot + 1) & mask;
        uint64_t entry = self->slots [slot];
        if (!entry)
            break;
        size_t home = s_block (self, (uint32_t) entry - 1)->key & mask;
        bool stays = hole <= slot? (hole < home && home <= slot): (hole < home || home <= slot);
        if (!stays) {
            self->slots [hole] = entry;
            hole = slot;
        }
    }
    self->slots [hole] = 0;
}

