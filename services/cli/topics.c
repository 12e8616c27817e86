/*  topics.c - text lists and the topic prefix filter (see topics.h)
*/
#include "cli/topics.h"

#include <stdlib.h>
#include <string.h>

zlist_t *
dt_topics_split (const char *text)
{
    zlist_t *items = zlist_new ();
    zlist_autofree (items);
    char *copy = strdup (text);
    for (char *save = NULL, *item = strtok_r (copy, " ,\t", &save); item;
         item = strtok_r (NULL, " ,\t", &save))
        zlist_append (items, item);
    free (copy);
    return items;
}

bool
dt_topics_match (zlist_t *prefixes, dt_str_t topic)
{
    if (!prefixes || zlist_size (prefixes) == 0)
        return true;
    for (char *prefix = zlist_first (prefixes); prefix; prefix = zlist_next (prefixes)) {
        size_t len = strlen (prefix);
        if (topic.len >= len && memcmp (topic.ptr, prefix, len) == 0)
            return true;
    }
    return false;
}
