/*  message.c - the sentences of findings (see internal.h).

    Messages are written by hand-rolled formatting into the finding's own
    buffer: when most touchpoints had findings, libc's vsnprintf cost more
    than all the rules together. A message is cut at a character boundary
    when it runs out of room, so it is always valid UTF-8.
*/
#include "rules/internal.h"
#include "base/calendar.h"

#include <assert.h>
#include <stdarg.h>

void
text_put (text_t *text, const char *ptr, size_t len)
{
    if (text->full)
        return;
    size_t room = text->size - 1 - text->len;
    if (len > room) {
        //  Cut before a continuation byte so the message stays valid UTF-8
        len = room;
        while (len > 0 && ((uint8_t) ptr [len] & 0xC0) == 0x80)
            len--;
        text->full = true;
    }
    memcpy (text->buf + text->len, ptr, len);
    text->len += len;
    text->buf [text->len] = 0;
}

static void
s_int (text_t *text, long long value)
{
    char digits [24];
    size_t len = 0;
    unsigned long long magnitude = value < 0? 0ULL - (unsigned long long) value:
                                              (unsigned long long) value;
    do {
        digits [sizeof digits - 1 - len++] = (char) ('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (value < 0)
        digits [sizeof digits - 1 - len++] = '-';
    text_put (text, digits + sizeof digits - len, len);
}

//  printf for messages, but only %s, %d and %lld: libc's vsnprintf cost
//  more than all the rules together when most touchpoints had findings
void
text_printf (text_t *text, const char *format, ...)
{
    va_list args;
    va_start (args, format);
    const char *cursor = format;
    while (*cursor) {
        const char *percent = strchr (cursor, '%');
        if (!percent) {
            text_puts (text, cursor);
            break;
        }
        text_put (text, cursor, (size_t) (percent - cursor));
        if (percent [1] == 's') {
            text_puts (text, va_arg (args, const char *));
            cursor = percent + 2;
        }
        else
        if (percent [1] == 'd') {
            s_int (text, va_arg (args, int));
            cursor = percent + 2;
        }
        else
        if (strncmp (percent, "%lld", 4) == 0) {
            s_int (text, va_arg (args, long long));
            cursor = percent + 4;
        }
        else {
            assert (false);         //  a format this function does not know
            break;
        }
    }
    va_end (args);
}

//  A slice from a customer system, shown at most max bytes long; control
//  characters become spaces so a message stays one line
void
text_slice (text_t *text, const char *ptr, size_t len, size_t max)
{
    bool cut = len > max;
    if (cut) {
        len = max;
        while (len > 0 && ((uint8_t) ptr [len] & 0xC0) == 0x80)
            len--;
    }
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if ((uint8_t) ptr [i] < 0x20 || ptr [i] == 0x7F) {
            text_put (text, ptr + start, i - start);
            text_put (text, " ", 1);
            start = i + 1;
        }
    text_put (text, ptr + start, len - start);
    if (cut)
        text_puts (text, "\xE2\x80\xA6");
}

void
text_str (text_t *text, dt_str_t str)
{
    text_slice (text, str.ptr, str.len, 64);
}

void
text_date (text_t *text, int64_t ms)
{
    static const char *months [12] = {
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December"
    };
    int64_t days = ms >= 0? ms / DAY_MS: -((-ms + DAY_MS - 1) / DAY_MS);
    int64_t year;
    int month, day;
    dt_civil_from_days (days, &year, &month, &day);
    text_printf (text, "%d %s %lld", day, months [month - 1], (long long) year);
}


//  "contact X at account A", or "account A" when there is no contact
void
text_who (text_t *text, const dt_event_t *ev)
{
    if (ev->contact.len) {
        text_puts (text, "contact ");
        text_str (text, ev->contact);
        text_puts (text, " at ");
    }
    text_puts (text, "account ");
    text_str (text, ev->account);
}

//  Count the finding in the verdict and return where to write it, or NULL
//  if the caller's array is full (the verdict still counts it)
dt_finding_t *
sink_emit (dt_engine_t *self, sink_t *sink, dt_rule_t rule, text_t *text)
{
    dt_severity_t severity = self->cfg.severity [rule];
    if (severity == DT_SEV_VIOLATION)
        sink->verdict = DT_VERDICT_VIOLATION;
    else
    if (severity == DT_SEV_WARN && sink->verdict == DT_VERDICT_OK)
        sink->verdict = DT_VERDICT_WARN;
    if (sink->count >= sink->max)
        return NULL;
    dt_finding_t *finding = &sink->findings [sink->count++];
    finding->rule = rule;
    finding->severity = severity;
    finding->message [0] = 0;
    finding->related_count = 0;
    text->buf = finding->message;
    text->size = sizeof finding->message;
    text->len = 0;
    text->full = false;
    return finding;
}


void
finding_related (dt_finding_t *finding, const char *ptr, size_t len)
{
    if (finding->related_count >= DT_RELATED_MAX || len == 0 || len > DT_ID_MAX)
        return;
    memcpy (finding->related [finding->related_count], ptr, len);
    finding->related [finding->related_count++][len] = 0;
}

