/*  reservation.h - a slot of the contact budget held for a planned touch
    (docs/rules.md, "Reservations"): the record the check API hands out as
    a token, the engine counts against every cap until it is used, expires
    or is taken by a request of higher priority, and the store keeps
    (table `reservations`, docs/schema.md). The engine owns the live ones
    (dt_engine_reserve and friends, rules/engine.h).
*/
#ifndef DT_RESERVATION_H
#define DT_RESERVATION_H

#include "proto/link.h"     //  the check request's limits

//  An ended reservation is kept (in memory and read back at start) this
//  long after its expiry, so a late event carrying it learns what became
//  of it; the most a request may take from lower priorities
#define DT_RESERVATION_KEEP_MS  3600000LL
#define DT_TAKEN_MAX            8
//  Bytes of a PostgreSQL array literal of DT_TAKEN_MAX tokens
#define DT_TAKEN_LIST_MAX       (DT_TAKEN_MAX * (DT_TOKEN_MAX + 3) + 3)

typedef enum {
    DT_RESERVATION_HELD = 0,    //  counted against the caps until expires_at
    DT_RESERVATION_USED,        //  an event carried the token (used_by)
    DT_RESERVATION_PREEMPTED    //  taken by a request of higher priority
} dt_reservation_state_t;

typedef struct {
    //  The caller's, when asking
    char token [DT_TOKEN_MAX + 1];
    char owner [DT_OWNER_MAX + 1];  //  who asked: shown to whoever it blocks
    int priority;
    int64_t created_at, expires_at; //  ms since the epoch
    //  The engine's: the buyer by canonical ids, and the planned touch
    char account_key [DT_TEXT_MAX + 1];
    char contact_key [DT_TEXT_MAX + 1];
    dt_track_t track;
    char channel [16];
    char kind [DT_TEXT_MAX + 1];
    dt_category_t category;
    int64_t planned_at;             //  the touch's occurred_at
    char zone [64];                 //  its attrs.tz, "" for none
    dt_reservation_state_t state;
    int64_t ended_at;               //  when it was used or taken
    char used_by [DT_ID_MAX + 1];   //  the touchpoint that used it
    char taken_by [DT_TOKEN_MAX + 1];   //  the reservation that took it
    char taken_by_owner [DT_OWNER_MAX + 1];
} dt_reservation_t;

const char *dt_reservation_state_name (dt_reservation_state_t state);

#endif
