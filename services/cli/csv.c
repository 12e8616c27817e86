/*  csv.c - CSV files for the subcommands that import and export rows
    (`dualtrack identity`, `dualtrack suppress`): RFC 4180, fields quoted
    when they hold a comma, a quote or a line break, quotes doubled inside;
    LF or CRLF lines.
*/
#include "cli/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
dt_cli_csv_field (FILE *out, const char *text, bool last)
{
    bool quote = strpbrk (text, ",\"\r\n") || (*text && (text [0] == ' '
                                               || text [strlen (text) - 1] == ' '));
    if (quote) {
        fputc ('"', out);
        for (const char *c = text; *c; c++) {
            if (*c == '"')
                fputc ('"', out);
            fputc (*c, out);
        }
        fputc ('"', out);
    }
    else
        fputs (text, out);
    fputc (last? '\n': ',', out);
}

//  Split the next record of a CSV text in place, from *cursor; fields get
//  up to max pointers. Returns the field count, 0 at the end, -1 when a
//  quote is not closed. *line counts the lines.
int
dt_cli_csv_record (char **cursor, char **fields, int max, int *line)
{
    char *in = *cursor, *out = *cursor;
    if (!*in)
        return 0;
    int count = 0;
    (*line)++;
    while (true) {
        char *field = out;
        if (*in == '"') {
            in++;
            while (true) {
                if (!*in)
                    return -1;
                if (*in == '"' && in [1] == '"') {
                    *out++ = '"';
                    in += 2;
                }
                else
                if (*in == '"') {
                    in++;
                    break;
                }
                else {
                    if (*in == '\n')
                        (*line)++;
                    *out++ = *in++;
                }
            }
        }
        while (*in && *in != ',' && *in != '\n' && *in != '\r')
            *out++ = *in++;
        char stop = *in;
        *out++ = 0;
        if (count < max)
            fields [count] = field;
        count++;
        if (stop == ',') {
            in++;
            continue;
        }
        //  out may have written over *in: what it was is in stop
        if (stop == '\r' && in [1] == '\n')
            in += 2;
        else
        if (stop)
            in++;
        break;
    }
    *cursor = in;
    return count;
}

char *
dt_cli_csv_open (const char *prog, const char *path, const char *header, char **cursor,
                 int *line)
{
    size_t size;
    char *text = dt_cli_read_file (prog, path, &size);
    if (!text)
        return NULL;
    if (strlen (text) != size) {
        fprintf (stderr, "%s: %s holds a NUL byte: not a CSV file\n", prog, path);
        free (text);
        return NULL;
    }
    *cursor = text;
    if (strncmp (*cursor, "\xEF\xBB\xBF", 3) == 0)
        *cursor += 3;       //  a byte order mark, as spreadsheets write
    *line = 0;
    //  The first record joined back with commas is the header, or not
    char *fields [32], joined [256] = "";
    int count = dt_cli_csv_record (cursor, fields, 32, line);
    for (int i = 0; i < count && i < 32; i++)
        snprintf (joined + strlen (joined), sizeof joined - strlen (joined), "%s%s",
                  i? ",": "", fields [i]);
    if (count <= 0 || count > 32 || strcmp (joined, header)) {
        fprintf (stderr, "%s: %s: the first line must be the header %s\n", prog, path, header);
        free (text);
        return NULL;
    }
    return text;
}

void
dt_cli_grow (const char *prog, void **items, size_t count, size_t *alloc, size_t size)
{
    if (count < *alloc)
        return;
    size_t grown = *alloc? *alloc * 2: 64;
    void *bigger = realloc (*items, grown * size);
    if (!bigger) {
        fprintf (stderr, "%s: out of memory\n", prog);
        exit (2);
    }
    *items = bigger;
    *alloc = grown;
}
