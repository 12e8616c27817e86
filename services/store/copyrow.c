/*  copyrow.c - see copyrow.h
*/
#include "store/copyrow.h"
#include "base/calendar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

//  Bytes COPY's text format escapes
static inline bool
s_needs_escape (unsigned char c)
{
    return c == '\\' || c == '\n' || c == '\r' || c == '\t';
}

void
dt_copy_text (dt_buf_t *buf, const char *ptr, size_t len)
{
    if (!ptr) {
        dt_buf_append (buf, "\\N", 2);
        return;
    }
    //  Most text has nothing to escape: one pass to find out, one memcpy
    size_t i = 0;
    while (i < len && !s_needs_escape ((unsigned char) ptr [i]))
        i++;
    dt_buf_append (buf, ptr, i);
    if (i == len)
        return;
    dt_buf_reserve (buf, 2 * (len - i));
    char *out = buf->data + buf->size;
    for (; i < len; i++) {
        char c = ptr [i];
        if (s_needs_escape ((unsigned char) c)) {
            *out++ = '\\';
            *out++ = c == '\n'? 'n': c == '\r'? 'r': c == '\t'? 't': '\\';
        }
        else
            *out++ = c;
    }
    buf->size = (size_t) (out - buf->data);
}

//  Two decimal digits at out
static inline void
s_put2 (char *out, int value)
{
    out [0] = (char) ('0' + value / 10);
    out [1] = (char) ('0' + value % 10);
}

static void
s_copy_time (dt_buf_t *buf, int64_t seconds, int64_t micros)
{
    int64_t days = seconds / 86400, second_of_day = seconds % 86400;
    if (second_of_day < 0) {
        days--;
        second_of_day += 86400;
    }
    int64_t year;
    int month, day;
    dt_civil_from_days (days, &year, &month, &day);
    if (year < 0 || year > 9999) {
        //  Far outside what the codec lets through for occurred_at; a
        //  received_at this far off still gets written, the slow way
        time_t t = (time_t) seconds;
        struct tm tm;
        gmtime_r (&t, &tm);
        dt_buf_printf (buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00",
                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec, (int) micros);
        return;
    }
    //  2026-11-27 04:10:26.123000+00
    dt_buf_reserve (buf, 29);
    char *out = buf->data + buf->size;
    s_put2 (out, (int) (year / 100));
    s_put2 (out + 2, (int) (year % 100));
    out [4] = '-';
    s_put2 (out + 5, month);
    out [7] = '-';
    s_put2 (out + 8, day);
    out [10] = ' ';
    int s = (int) second_of_day;
    s_put2 (out + 11, s / 3600);
    out [13] = ':';
    s_put2 (out + 14, s / 60 % 60);
    out [16] = ':';
    s_put2 (out + 17, s % 60);
    out [19] = '.';
    int us = (int) micros;
    s_put2 (out + 20, us / 10000);
    s_put2 (out + 22, us / 100 % 100);
    s_put2 (out + 24, us % 100);
    memcpy (out + 26, "+00", 3);
    buf->size += 29;
}

void
dt_copy_time_ms (dt_buf_t *buf, int64_t ms)
{
    int64_t seconds = ms / 1000, rest = ms % 1000;
    if (rest < 0) {
        seconds--;
        rest += 1000;
    }
    s_copy_time (buf, seconds, rest * 1000);
}

void
dt_copy_time_us (dt_buf_t *buf, int64_t us)
{
    int64_t seconds = us / 1000000, rest = us % 1000000;
    if (rest < 0) {
        seconds--;
        rest += 1000000;
    }
    s_copy_time (buf, seconds, rest);
}

//  msgpack-c may give an empty string a NULL pointer: present is what
//  decides between '' and NULL
static void
s_copy_str (dt_buf_t *buf, dt_str_t str, bool present)
{
    dt_copy_text (buf, present? (str.ptr? str.ptr: ""): NULL, str.len);
}

static void
s_touchpoint_fields (dt_buf_t *buf, dt_buf_t *scratch, const dt_event_t *ev)
{
    s_copy_str (buf, ev->id, true);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, dt_track_name (ev->track));
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->source, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->account, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->contact, ev->present & DT_HAS_CONTACT);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->stage, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->channel, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->kind, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->actor, ev->present & DT_HAS_ACTOR);
    dt_buf_putc (buf, '\t');
    dt_copy_time_ms (buf, ev->occurred_at);
    dt_buf_putc (buf, '\t');
    dt_copy_time_us (buf, ev->received_at);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, dt_track_name (ev->lead));
    dt_buf_append (buf, "\t{", 2);
    bool comma = false;
    for (int t = 0; t < DT_TRACKS; t++)
        if (ev->advisors & (1u << t)) {
            if (comma)
                dt_buf_putc (buf, ',');
            dt_buf_puts (buf, dt_track_name ((dt_track_t) t));
            comma = true;
        }
    dt_buf_append (buf, "}\t", 2);
    s_copy_str (buf, ev->project, ev->present & DT_HAS_PROJECT);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->theme, ev->present & DT_HAS_THEME);
    dt_buf_putc (buf, '\t');
    if (ev->present & DT_HAS_CLAIMS) {
        dt_buf_reset (scratch);
        dt_buf_putc (scratch, '{');
        for (uint32_t i = 0; i < ev->claim_count; i++) {
            if (i)
                dt_buf_putc (scratch, ',');
            dt_json_of_msgpack (scratch, &ev->claims [i].key);
            dt_buf_putc (scratch, ':');
            dt_json_of_msgpack (scratch, &ev->claims [i].val);
        }
        dt_buf_putc (scratch, '}');
        dt_copy_text (buf, scratch->data, scratch->size);
    }
    else
        dt_copy_text (buf, NULL, 0);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->body, ev->present & DT_HAS_BODY);
    dt_buf_putc (buf, '\t');
    if (ev->present & DT_HAS_ATTRS) {
        dt_buf_reset (scratch);
        dt_json_of_msgpack (scratch, ev->attrs);
        dt_copy_text (buf, scratch->data, scratch->size);
    }
    else
        dt_copy_text (buf, NULL, 0);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, dt_category_name (ev->category));
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, ev->publisher, ev->present & DT_HAS_PUBLISHER);
}

void
dt_copy_touchpoint (dt_buf_t *buf, dt_buf_t *scratch, const dt_event_t *ev)
{
    s_touchpoint_fields (buf, scratch, ev);
    dt_buf_putc (buf, '\n');
}

void
dt_copy_judged_touchpoint (dt_buf_t *buf, dt_buf_t *scratch, const dt_event_t *ev,
                           const char *verdict, dt_str_t account_key, dt_str_t contact_key,
                           int policy_version, dt_str_t reservation)
{
    s_touchpoint_fields (buf, scratch, ev);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, verdict);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, account_key, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, contact_key, ev->present & DT_HAS_CONTACT);
    dt_buf_putc (buf, '\t');
    dt_buf_put_int (buf, policy_version);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, reservation, reservation.len > 0);
    dt_buf_putc (buf, '\n');
}


void
dt_copy_touchpoint_id (dt_buf_t *buf, const dt_event_t *ev)
{
    s_copy_str (buf, ev->id, true);
    dt_buf_putc (buf, '\t');
    dt_copy_time_ms (buf, ev->occurred_at);
    dt_buf_putc (buf, '\n');
}

void
dt_copy_finding (dt_buf_t *buf, const dt_event_t *ev, int number, const char *rule,
                 const char *severity, const char *message, const char (*related) [DT_ID_MAX + 1],
                 int related_count, dt_str_t account_key, int policy_version)
{
    s_copy_str (buf, ev->id, true);
    dt_buf_putc (buf, '\t');
    dt_buf_put_int (buf, number);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, rule);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, severity);
    dt_buf_putc (buf, '\t');
    dt_copy_text (buf, message, strlen (message));
    dt_buf_putc (buf, '\t');
    //  text[] literal: each element double-quoted, with \ and " escaped,
    //  then every byte COPY-escaped
    dt_buf_putc (buf, '{');
    for (int i = 0; i < related_count; i++) {
        if (i)
            dt_buf_putc (buf, ',');
        dt_buf_putc (buf, '"');
        for (const char *c = related [i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                dt_copy_text (buf, "\\", 1);
            dt_copy_text (buf, c, 1);
        }
        dt_buf_putc (buf, '"');
    }
    dt_buf_append (buf, "}\t", 2);
    s_copy_str (buf, ev->account, true);
    dt_buf_putc (buf, '\t');
    dt_buf_puts (buf, dt_track_name (ev->track));
    dt_buf_putc (buf, '\t');
    dt_copy_time_ms (buf, ev->occurred_at);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, account_key, true);
    dt_buf_putc (buf, '\t');
    dt_buf_put_int (buf, policy_version);
    dt_buf_putc (buf, '\n');
}

void
dt_copy_reject (dt_buf_t *buf, const dt_reject_t *r)
{
    dt_copy_time_us (buf, r->received_at);
    dt_buf_printf (buf, "\t%s\t", dt_track_name (r->track));
    s_copy_str (buf, r->code, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, r->field, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, r->message, true);
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, r->event_id, r->event_id.len > 0);
    dt_buf_printf (buf, "\t%d\t\\\\x", r->index);
    static const char hex [] = "0123456789abcdef";
    dt_buf_reserve (buf, 2 * r->raw_size + 1);
    for (size_t i = 0; i < r->raw_size; i++) {
        unsigned char c = (unsigned char) r->raw [i];
        buf->data [buf->size++] = hex [c >> 4];
        buf->data [buf->size++] = hex [c & 15];
    }
    dt_buf_putc (buf, '\t');
    s_copy_str (buf, r->publisher, r->publisher.len > 0);
    dt_buf_putc (buf, '\n');
}
