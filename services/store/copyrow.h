/*  copyrow.h - rows for PostgreSQL's COPY text format: escaping, timestamps,
    msgpack as JSON. Pure functions, so the exact bytes are unit-tested.
*/
#ifndef DT_COPYROW_H
#define DT_COPYROW_H

#include "base/buf.h"
#include "base/jsonmp.h"
#include "proto/wire.h"

//  Column lists matching the rows below
#define DT_TOUCHPOINT_COLUMNS "id, track, source, account, contact, stage, channel, kind, actor, " \
    "occurred_at, received_at, lead, advisors, project, theme, claims, body, attrs, category, " \
    "publisher"
#define DT_FINDING_COLUMNS "touchpoint_id, finding_no, rule, severity, message, related, " \
    "account, track, occurred_at, account_key, policy_version"
//  A judged touchpoint: the event's columns, its verdict, the canonical ids
//  it was judged by (migration 008) and the policy version (migration 011)
//  and the reservation it used (migration 016)
#define DT_JUDGED_TOUCHPOINT_COLUMNS DT_TOUCHPOINT_COLUMNS ", verdict, account_key, contact_key, " \
    "policy_version, reservation"
#define DT_TOUCHPOINT_ID_COLUMNS "id, occurred_at"
#define DT_REJECT_COLUMNS "received_at, track, code, field, error, event_id, item_index, raw, publisher"

//  Text with COPY's backslash escapes; a NULL ptr writes \N
void dt_copy_text (dt_buf_t *buf, const char *ptr, size_t len);

//  2026-11-27 04:10:26.123000+00 from ms or µs since the epoch
void dt_copy_time_ms (dt_buf_t *buf, int64_t ms);
void dt_copy_time_us (dt_buf_t *buf, int64_t us);

//  One row, with its trailing newline
void dt_copy_touchpoint (dt_buf_t *buf, dt_buf_t *scratch, const dt_event_t *event);
void dt_copy_reject (dt_buf_t *buf, const dt_reject_t *reject);

//  A touchpoint row with its verdict, the canonical ids it was judged by,
//  the policy version judged under and the token of the reservation it
//  used (DT_JUDGED_TOUCHPOINT_COLUMNS); contact_key is written NULL when
//  the event has no contact, reservation when its len is 0
void dt_copy_judged_touchpoint (dt_buf_t *buf, dt_buf_t *scratch, const dt_event_t *event,
                                const char *verdict, dt_str_t account_key,
                                dt_str_t contact_key, int policy_version,
                                dt_str_t reservation);

//  A touchpoint_ids row (DT_TOUCHPOINT_ID_COLUMNS): the id kept unique
//  across the partitions of touchpoints
void dt_copy_touchpoint_id (dt_buf_t *buf, const dt_event_t *event);

//  A finding row (DT_FINDING_COLUMNS) of the event's finding number;
//  account_key: the canonical account the event was judged by; the policy
//  version judged under
void dt_copy_finding (dt_buf_t *buf, const dt_event_t *event, int number, const char *rule,
                      const char *severity, const char *message,
                      const char (*related) [DT_ID_MAX + 1], int related_count,
                      dt_str_t account_key, int policy_version);

#endif
