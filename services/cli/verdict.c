/*  verdict.c - how the CLI prints a verdict: a line per finding, the same
    for `dualtrack watch` (the feed) and `dualtrack check` (the check API)
*/
#include "cli/cli.h"
#include "proto/wire.h"

#include <stdio.h>

void
dt_cli_print_str (const msgpack_object *map, const char *key)
{
    const msgpack_object *value = dt_map_get (map, key);
    if (value && value->type == MSGPACK_OBJECT_STR)
        printf ("%.*s", (int) value->via.str.size, value->via.str.ptr);
    else
        printf ("-");
}

void
dt_cli_print_findings (const msgpack_object *findings)
{
    if (!findings || findings->type != MSGPACK_OBJECT_ARRAY)
        return;
    for (uint32_t i = 0; i < findings->via.array.size; i++) {
        const msgpack_object *f = &findings->via.array.ptr [i];
        printf ("  ");
        dt_cli_print_str (f, "rule");
        printf (" (");
        dt_cli_print_str (f, "severity");
        printf ("): ");
        dt_cli_print_str (f, "message");
        const msgpack_object *related = dt_map_get (f, "related");
        if (related && related->type == MSGPACK_OBJECT_ARRAY && related->via.array.size) {
            printf (" [related:");
            for (uint32_t k = 0; k < related->via.array.size; k++)
                if (related->via.array.ptr [k].type == MSGPACK_OBJECT_STR)
                    printf (" %.*s", (int) related->via.array.ptr [k].via.str.size,
                            related->via.array.ptr [k].via.str.ptr);
            printf ("]");
        }
        printf ("\n");
    }
}
