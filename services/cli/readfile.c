/*  readfile.c - a whole input file into memory, for the subcommands that
    take one (`dualtrack policy`, `identity import`, `whatif --policy`)
*/
#include "cli/cli.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
dt_cli_read_file (const char *prog, const char *path, size_t *len)
{
    FILE *file = strcmp (path, "-") == 0? stdin: fopen (path, "rb");
    if (!file) {
        fprintf (stderr, "%s: cannot read %s: %s\n", prog, path, strerror (errno));
        return NULL;
    }
    size_t alloc = 4096, size = 0;
    char *text = (char *) malloc (alloc);
    while (text) {
        size_t got = fread (text + size, 1, alloc - size - 1, file);
        size += got;
        if (size < alloc - 1)
            break;
        alloc *= 2;
        char *grown = (char *) realloc (text, alloc);
        if (!grown) {
            free (text);
            text = NULL;
            break;
        }
        text = grown;
    }
    bool failed = ferror (file);
    if (file != stdin)
        fclose (file);
    if (!text || failed) {
        fprintf (stderr, "%s: cannot read %s\n", prog, path);
        free (text);
        return NULL;
    }
    text [size] = 0;
    *len = size;
    return text;
}

