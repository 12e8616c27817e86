/*  relaycursor.c - the relay's cursor file: parse and format (see
    relaycursor.h)
*/
#include "cli/relaycursor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t
dt_relay_url_key (const char *url)
{
    uint64_t hash = 14695981039346656037ULL;
    for (const unsigned char *c = (const unsigned char *) url; *c; c++)
        hash = (hash ^ *c) * 1099511628211ULL;
    return hash;
}

//  A seq at *text: true and *text after it
static bool
s_seq (const char **text, uint64_t *seq)
{
    if (**text < '0' || **text > '9')
        return false;
    char *end;
    errno = 0;
    *seq = strtoull (*text, &end, 10);
    *text = end;
    return errno == 0;
}

int
dt_relay_cursor_parse (const char *text, uint64_t *first, dt_relay_mark_t *marks, int max,
                       int *count, int *line)
{
    *count = 0;
    *line = 1;
    if (!s_seq (&text, first) || (*text != '\n' && *text != 0))
        return -1;
    while (*text == '\n' && text [1]) {
        text++;
        ++*line;
        dt_relay_mark_t mark = { 0 };
        char *end;
        if (!s_seq (&text, &mark.seq) || *text != ' ')
            return -1;
        text++;
        mark.key = strtoull (text, &end, 16);
        if (end - text != 16 || (*end != ' ' && *end != '\n' && *end != 0) || *text == ' ')
            return -1;
        text = end;
        //  The rest of the line (where it points) is for the reader
        text += strcspn (text, "\n");
        if (*count < max)
            marks [(*count)++] = mark;
    }
    return *text == 0 || (*text == '\n' && text [1] == 0)? 0: -1;
}

uint64_t
dt_relay_cursor_find (const dt_relay_mark_t *marks, int count, uint64_t key, uint64_t fallback)
{
    for (int i = 0; i < count; i++)
        if (marks [i].key == key)
            return marks [i].seq;
    return fallback;
}

void
dt_relay_cursor_format (dt_buf_t *buf, const dt_relay_mark_t *marks, int count, uint64_t fallback)
{
    uint64_t first = count? UINT64_MAX: fallback;
    for (int i = 0; i < count; i++)
        first = marks [i].seq < first? marks [i].seq: first;
    char line [64];
    int len = snprintf (line, sizeof line, "%" PRIu64 "\n", first);
    dt_buf_append (buf, line, (size_t) len);
    for (int i = 0; i < count; i++) {
        len = snprintf (line, sizeof line, "%" PRIu64 " %016" PRIx64 "%s", marks [i].seq, marks [i].key,
                        marks [i].where? " ": "");
        dt_buf_append (buf, line, (size_t) len);
        if (marks [i].where)
            dt_buf_append (buf, marks [i].where, strcspn (marks [i].where, "\n"));
        dt_buf_append (buf, "\n", 1);
    }
}
