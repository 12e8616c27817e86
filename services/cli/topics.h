/*  topics.h - lists given as text (topic prefixes, URLs, verdicts, rules:
    "a b,c") and the topic prefix filter that `dualtrack watch` and
    `dualtrack relay` apply to the decisions feed. Pure.
*/
#ifndef DT_CLI_TOPICS_H
#define DT_CLI_TOPICS_H

#include "proto/wire.h"

#include <czmq.h>
#include <stdbool.h>

//  Split text on spaces, commas and tabs into a new list of copies (empty
//  items left out); the caller destroys it
zlist_t *
    dt_topics_split (const char *text);

//  Whether topic starts with one of the prefixes; every topic when there
//  are none (prefixes NULL or empty)
bool
    dt_topics_match (zlist_t *prefixes, dt_str_t topic);

#endif
