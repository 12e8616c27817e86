/*  aliases.c - see aliases.h
*/
#include "store/aliases.h"
#include "base/log.h"
#include "store/pgconn.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IDS_PER_ACCOUNT_MAX 256     //  aliases of one account read back

//  Add one table's rows to map, streamed a row at a time (a million rows
//  never sit in a result at once). 0, or -1 with err.
static int
s_load_table (PGconn *conn, dt_identity_t *map, dt_id_kind_t kind, char *err, size_t errlen)
{
    //  Ordered by canonical id: rows of one buyer share its bytes
    const char *sql = kind == DT_ID_CONTACT?
        "SELECT alias, canonical, source FROM contact_aliases ORDER BY canonical, alias":
        "SELECT alias, canonical, source FROM account_aliases ORDER BY canonical, alias";
    if (!PQsendQuery (conn, sql) || !PQsetSingleRowMode (conn)) {
        dt_pg_first_line (err, errlen, PQerrorMessage (conn));
        return -1;
    }
    int rc = 0;
    PGresult *result;
    while ((result = PQgetResult (conn))) {
        ExecStatusType status = PQresultStatus (result);
        if (status == PGRES_SINGLE_TUPLE) {
            if (rc == 0)
                rc = dt_identity_add (map, kind, PQgetvalue (result, 0, 0),
                                      PQgetvalue (result, 0, 1),
                                      PQgetisnull (result, 0, 2)? NULL: PQgetvalue (result, 0, 2),
                                      err, errlen);
        }
        else
        if (status != PGRES_TUPLES_OK && rc == 0) {
            dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
            rc = -1;
        }
        PQclear (result);
    }
    return rc;
}

//  What a change touched, gathered while both maps are alive
typedef struct {
    dt_engine_t *engine;
    dt_aliases_mark_fn *mark;
    void *mark_ctx;
    size_t forgotten;           //  accounts whose memory was dropped
    dt_buf_t contacts;          //  contact ids that moved, an array literal
    size_t contact_ids;
} change_t;

//  An account id a change touched: its memory goes, and it may now have
//  history under ids it did not have
static void
s_account_touched (change_t *change, dt_str_t id)
{
    if (dt_engine_forget (change->engine, id))
        change->forgotten++;
    if (change->mark)
        change->mark (change->mark_ctx, id);
}

static void
s_on_change (void *ctx, dt_id_kind_t kind, dt_str_t id)
{
    change_t *change = (change_t *) ctx;
    if (kind == DT_ID_ACCOUNT)
        s_account_touched (change, id);
    else {
        dt_history_array_element (&change->contacts, id);
        change->contact_ids++;
    }
}

int
dt_aliases_contact_accounts (PGconn *conn, dt_buf_t *contacts, int64_t since_ms,
                             dt_aliases_account_fn *fn, void *ctx, char *err, size_t errlen)
{
    dt_buf_append (contacts, "}", 2);     //  with its NUL
    char since [32];
    snprintf (since, sizeof since, "%lld", (long long) since_ms);
    const char *values [] = { contacts->data, since };
    PGresult *result = PQexecParams (conn,
        "SELECT DISTINCT account FROM touchpoints"
        " WHERE (contact = ANY ($1::text[]) OR contact_key = ANY ($1::text[]))"
        "   AND occurred_at >= to_timestamp ($2::bigint / 1000.0)",
        2, NULL, values, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus (result) != PGRES_TUPLES_OK) {
        dt_pg_first_line (err, errlen, PQresultErrorMessage (result));
        rc = -1;
    }
    else
        for (int i = 0; i < PQntuples (result); i++) {
            dt_str_t account = { PQgetvalue (result, i, 0),
                                 (uint32_t) PQgetlength (result, i, 0) };
            fn (ctx, account);
        }
    PQclear (result);
    return rc;
}

//  An account whose stored touchpoints name a contact id that moved: its
//  memory has the contact under its old canonical id. It is dropped under
//  both maps' canonical ids.
typedef struct {
    change_t *change;
    dt_identity_t *old, *map;
} moved_t;

static void
s_contact_account (void *ctx, dt_str_t account)
{
    moved_t *moved = (moved_t *) ctx;
    //  Each answer is used before the next lookup overwrites it
    s_account_touched (moved->change, moved->old? dt_identity_account (moved->old, account): account);
    s_account_touched (moved->change, dt_identity_account (moved->map, account));
}

dt_identity_t *
dt_aliases_load (PGconn *conn, char *err, size_t errlen)
{
    dt_identity_t *map = dt_identity_new ();
    int rc = map? 0: -1;
    if (!map)
        snprintf (err, errlen, "out of memory loading the alias maps");
    if (rc == 0)
        rc = s_load_table (conn, map, DT_ID_CONTACT, err, errlen);
    if (rc == 0)
        rc = s_load_table (conn, map, DT_ID_ACCOUNT, err, errlen);
    if (rc == 0)
        rc = dt_identity_validate (map, err, errlen);
    if (rc)
        dt_identity_destroy (&map);
    return map;
}

static int
s_refused (dt_history_t *history, const char *err)
{
    return dt_history_refused (history, "identity_reloads",
                               "alias change refused; the mapping in force stays", err);
}

int
dt_aliases_reload (dt_history_t *history, dt_engine_t *engine, int64_t since_ms,
                   dt_aliases_mark_fn *mark, void *ctx, char *err, size_t errlen)
{
    PGconn *conn = dt_history_conn_or_say (history, err, errlen);
    if (!conn)
        return -1;
    dt_identity_t *map = dt_aliases_load (conn, err, errlen);
    if (!map)
        return s_refused (history, err);
    //  What changed, per kind. Memory filed under the ids a change touched
    //  is dropped while both maps can still answer for them; a first load
    //  into an empty memory has nothing to drop.
    dt_identity_t *old = dt_engine_identity (engine);
    size_t added [DT_ID_KINDS], removed [DT_ID_KINDS];
    change_t change = { engine, mark, ctx, 0, { 0 }, 0 };
    dt_buf_append (&change.contacts, "{", 1);
    bool drop = old || dt_engine_accounts (engine) > 0;
    for (int kind = 0; kind < DT_ID_KINDS; kind++)
        dt_identity_diff (old, map, (dt_id_kind_t) kind, &added [kind], &removed [kind],
                          drop? s_on_change: NULL, &change);
    moved_t moved = { &change, old, map };
    if (change.contact_ids
    &&  dt_aliases_contact_accounts (conn, &change.contacts, since_ms, s_contact_account, &moved,
                                     err, errlen)) {
        //  Memory may now mix mappings for some accounts: say so, go on
        dt_warn ("could not find the accounts of contacts whose ids changed",
                 "error=\"%s\"", err);
    }
    dt_buf_free (&change.contacts);
    size_t contact_rows = dt_identity_rows (map, DT_ID_CONTACT);
    size_t account_rows = dt_identity_rows (map, DT_ID_ACCOUNT);
    size_t bytes = dt_identity_bytes (map);
    int rc = dt_engine_set_identity (engine, &map, err, errlen);
    if (rc)         //  validated above: out of memory at worst
        return s_refused (history, err);
    char message [256];
    snprintf (message, sizeof message,
              "contact aliases +%zu -%zu, account aliases +%zu -%zu (%zu and %zu rows); "
              "%zu accounts' memory dropped", added [DT_ID_CONTACT], removed [DT_ID_CONTACT],
              added [DT_ID_ACCOUNT], removed [DT_ID_ACCOUNT], contact_rows, account_rows,
              change.forgotten);
    dt_info ("alias maps reloaded", "contacts_added=%zu contacts_removed=%zu accounts_added=%zu"
             " accounts_removed=%zu contact_rows=%zu account_rows=%zu bytes=%zu"
             " accounts_dropped=%zu", added [DT_ID_CONTACT], removed [DT_ID_CONTACT],
             added [DT_ID_ACCOUNT], removed [DT_ID_ACCOUNT], contact_rows, account_rows, bytes,
             change.forgotten);
    dt_history_record (history, "identity_reloads", true, message);
    return 0;
}

int
dt_aliases_ids (dt_engine_t *engine, dt_str_t canonical, dt_str_t **ids, size_t *count,
                size_t *alloc)
{
    dt_identity_t *map = dt_engine_identity (engine);
    size_t more = 1 + (map? dt_identity_ids_of (map, DT_ID_ACCOUNT, canonical, NULL, 0): 0);
    if (more > IDS_PER_ACCOUNT_MAX + 1) {
        dt_warn ("an account has more aliases than are read back", "account=\"%.*s\" ids=%zu"
                 " read=%d", (int) (canonical.len > 80? 80: canonical.len), canonical.ptr,
                 more - 1, IDS_PER_ACCOUNT_MAX);
        more = IDS_PER_ACCOUNT_MAX + 1;
    }
    if (*count + more > *alloc) {
        size_t grown = *alloc? *alloc: 64;
        while (grown < *count + more)
            grown *= 2;
        dt_str_t *bigger = (dt_str_t *) realloc (*ids, grown * sizeof (dt_str_t));
        if (!bigger)
            return -1;
        *ids = bigger;
        *alloc = grown;
    }
    (*ids) [(*count)++] = canonical;
    if (more > 1) {
        size_t all = dt_identity_ids_of (map, DT_ID_ACCOUNT, canonical, *ids + *count, more - 1);
        *count += all < more - 1? all: more - 1;
    }
    return 0;
}
