/*  relaycursor.h - the relay's cursor file, pure (parse and format; the
    relay reads and writes the file). Each URL keeps its own position, so a
    URL parked for a while catches up from where it stopped:

        640                                   the seq every URL has
        812 9f86d081884c7d65 https://crm.example.com
        640 3c2d5e1f0a9b8c7d https://hooks.slack.com

    A URL line: the last seq that URL has (delivered, or left out by the
    filters), the URL's key (FNV-1a of the URL as configured, so the file
    holds no secret of it), and where it points, for the reader. A file of
    the first line alone (written before URLs kept their own) gives every
    URL that seq.
*/
#ifndef DT_CLI_RELAYCURSOR_H
#define DT_CLI_RELAYCURSOR_H

#include "base/buf.h"

#include <stdint.h>

typedef struct {
    uint64_t key;                   //  dt_relay_url_key of the URL
    uint64_t seq;                   //  the last seq it has
    const char *where;              //  for the reader (format only; may be NULL)
} dt_relay_mark_t;

//  The key of a URL as configured (with its slack: prefix, if any)
uint64_t
    dt_relay_url_key (const char *url);

//  Parse a cursor file's text: 0 with *first and up to max marks (*count;
//  later ones are left out), or -1 with *line the first line that is not
//  as above (1: the first)
int
    dt_relay_cursor_parse (const char *text, uint64_t *first, dt_relay_mark_t *marks, int max,
                           int *count, int *line);

//  The seq of key among marks, or fallback when it has no line
uint64_t
    dt_relay_cursor_find (const dt_relay_mark_t *marks, int count, uint64_t key, uint64_t fallback);

//  The file's text for these marks (appended to buf): the first line is
//  their lowest seq (fallback when there are none)
void
    dt_relay_cursor_format (dt_buf_t *buf, const dt_relay_mark_t *marks, int count,
                            uint64_t fallback);

#endif
