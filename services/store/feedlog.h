/*  feedlog.h - the decisions feed as the store has it: verdicts read back
    in seq order (migration 010), for the catch-up API, and the highest seq
    stored, where the coordinator's numbering resumes after a restart.

    Its own PostgreSQL connection, owned by one thread (libpq is not shared
    between threads); it reads, but for dt_feedlog_close_gap at start.
*/
#ifndef DT_FEEDLOG_H
#define DT_FEEDLOG_H

#include "rules/engine.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct _dt_feedlog_t dt_feedlog_t;

//  One stored verdict, with what the feed message carries. Its strings
//  point into the query's result: valid during the callback only.
typedef struct {
    uint64_t seq;
    dt_event_t event;               //  id, track, account, contact, stage, lead, occurred_at
    dt_verdict_t verdict;
    dt_str_t account_key;           //  the canonical ids it was judged by (the
    dt_str_t contact_key;           //  sent ones for rows stored before them)
    const dt_finding_t *findings;
    uint32_t finding_count;
} dt_feed_verdict_t;

typedef void (dt_feedlog_fn) (void *ctx, const dt_feed_verdict_t *verdict);

//  password may be NULL (the URI's, or libpq's usual sources, apply)
dt_feedlog_t *dt_feedlog_new (const char *uri, const char *password, const dt_stageset_t *stages);
void dt_feedlog_destroy (dt_feedlog_t **self_p);

//  Connect (again). 0, or -1 with a sentence in err.
int dt_feedlog_connect (dt_feedlog_t *self, char *err, size_t errlen);
bool dt_feedlog_connected (dt_feedlog_t *self);

//  The highest seq stored (0: none yet), or -1 with err
int64_t dt_feedlog_last (dt_feedlog_t *self, char *err, size_t errlen);

//  Several writesets commit at once, each with its range of seqs, and the
//  feed publishes a range only once every range before it is committed. A
//  process cut off (SIGKILL, power) can leave ranges committed after one
//  that never was: a hole among the last seqs, none of them published yet
//  (nor served by the catch-up API, which stops at the last published).
//  At start, before numbering again, the rows after the first hole among
//  the last window seqs are numbered again to close it. Returns how many
//  rows moved, or -1 with err.
int64_t dt_feedlog_close_gap (dt_feedlog_t *self, uint64_t window, char *err, size_t errlen);

//  The verdicts with after < seq <= upto, in seq order, at most limit, each
//  to fn. verdict_prefix (NULL: all) keeps only those whose topic
//  "<track>.<verdict>" starts with it. Returns how many were read (limit:
//  there may be more), or -1 with err.
int64_t dt_feedlog_read (dt_feedlog_t *self, uint64_t after, uint64_t upto,
                         const char *verdict_prefix, uint32_t limit,
                         dt_feedlog_fn *fn, void *ctx, char *err, size_t errlen);

#endif
