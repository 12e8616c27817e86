/*  checkapi.c - see checkapi.h
*/
#include "coordinator/checkapi.h"
#include "base/clock.h"
#include "base/log.h"
#include "coordinator/decision.h"
#include "proto/link.h"
#include "store/reservations.h"
#include "store/writeset.h"

//  Judge the planned touch and hold a slot for it if it fits (the engine
//  decides at once, so of two requests racing for the last slot exactly
//  one gets it: the first to arrive); the reservation is stored before the
//  reply names it, or not held at all. Returns the finding count, or -2
//  with err.
static int
s_reserve (const dt_checkapi_t *self, const dt_event_t *event, const dt_check_options_t *options,
           const char *owner, dt_finding_t *findings, dt_verdict_t *verdict,
           dt_reservation_t *held, bool *reserved, dt_error_t *err)
{
    memset (held, 0, sizeof *held);
    zuuid_t *uuid = zuuid_new ();
    snprintf (held->token, sizeof held->token, "%s", zuuid_str_canonical (uuid));
    zuuid_destroy (&uuid);
    snprintf (held->owner, sizeof held->owner, "%s", owner);
    held->priority = options->priority;
    held->created_at = event->received_at / 1000;
    held->expires_at = held->created_at + options->ttl_ms;
    int count = dt_engine_reserve (self->engine, event, held, findings, DT_FINDINGS_PER_EVENT,
                                   verdict, reserved);
    if (count < 0) {
        dt_error_set (err, "bad_request", "event", "event: can not be judged");
        return -2;
    }
    if (!*reserved)
        return count;
    const dt_reservation_t *taken;
    int taken_count = dt_engine_reserve_taken (self->engine, &taken);
    char why [256];
    if (dt_reservations_record (self->history, held, taken, taken_count, why, sizeof why)) {
        dt_engine_reserve_undo (self->engine, held->token);
        *reserved = false;
        dt_warn ("reservation not stored: nothing held", "error=\"%s\"", why);
        dt_error_set (err, "unavailable", "", "the reservation could not be stored (%s): "
                      "nothing is held; ask again", why);
        return -2;
    }
    dt_counter_add (self->m_reservations, NULL, 1);
    for (int i = 0; i < taken_count; i++)
        dt_info ("reservation taken by a higher priority", "reservation=%s owner=%s by=%s by_owner=%s",
                 taken [i].token, taken [i].owner, held->token, held->owner);
    dt_counter_add (self->m_reservations_taken, NULL, (uint64_t) taken_count);
    return count;
}

//  A request opened and its event decoded: the verdict, and the slot if
//  one was asked for. False with err when there is no verdict to give.
static bool
s_answer (const dt_checkapi_t *self, const dt_check_request_t *request, dt_event_t *event,
          msgpack_packer *pk, dt_error_t *err)
{
    event->received_at = dt_now_us ();
    self->preload (self->preload_ctx, event);
    dt_finding_t findings [DT_FINDINGS_PER_EVENT];
    dt_verdict_t verdict = DT_VERDICT_OK;
    const dt_check_options_t *options = &request->options;
    char owner [DT_OWNER_MAX + 1];
    snprintf (owner, sizeof owner, "%.*s", (int) options->owner.len, options->owner.ptr);
    if (!owner [0])
        snprintf (owner, sizeof owner, "%s", dt_track_name (request->track));
    dt_reservation_t held;
    bool reserved = false;
    int count;
    if (!options->reserve)
        count = dt_engine_judge (self->engine, event, false, findings, DT_FINDINGS_PER_EVENT,
                                 &verdict);
    else
    if (!(event->present & DT_HAS_CONTACT)) {
        dt_error_set (err, "bad_request", "contact", "contact: a reservation holds a "
                      "slot of one contact's budget; the event names none");
        return false;
    }
    else
    if ((count = s_reserve (self, event, options, owner, findings, &verdict, &held, &reserved,
                            err)) == -2)
        return false;
    //  The canonical ids the judgement used (no second lookup)
    dt_str_t account_key = dt_engine_judged_id (self->engine, DT_ID_ACCOUNT);
    dt_str_t contact_key = dt_engine_judged_id (self->engine, DT_ID_CONTACT);
    dt_reservation_t taken [4];
    int taken_count = dt_engine_reservations_taken_from (self->engine, owner, taken, 4);
    dt_check_reply_pack (pk, request->req, verdict, findings, count > 0? (uint32_t) count: 0,
                         event, account_key, contact_key, reserved? &held: NULL, taken,
                         taken_count);
    return true;
}

void
dt_checkapi_answer (const dt_checkapi_t *self, bool ready, zframe_t *body, msgpack_packer *pk)
{
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    dt_check_request_t request = { 0 };
    dt_event_t event;
    bool answered = false;
    if (!body)
        dt_error_set (&err, "bad_request", "", "send one frame: {v, req, track, event}");
    else
    if (dt_wire_unpack (&unpacked, (const char *) zframe_data (body), zframe_size (body), &err) == 0
    &&  dt_check_request_open (&unpacked.data, &request, &err) == 0) {
        //  Before memory and reservations are read back, an answer would
        //  judge against nothing (and could hand out a slot already held)
        if (!ready)
            dt_error_set (&err, "unavailable", "", "the coordinator is starting (rule memory "
                          "not rebuilt yet): ask again shortly");
        else
        if (dt_event_decode (request.event, self->stages, DT_FORM_INGRESS, request.track,
                             &event, &err) == 0)
            answered = s_answer (self, &request, &event, pk, &err);
    }
    if (!answered)
        dt_reply_pack_error (pk, request.has_req, request.req, &err);
    msgpack_unpacked_destroy (&unpacked);
}
