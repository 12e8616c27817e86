/*  coordinator.c - the link loop, which drives the store actors
    (store_actor.c), the check API (its answers: checkapi.c) and the
    decisions feed (see coordinator.h).

    Ownership of a writeset moves by pointer over an actor pipe: the link
    thread fills it, sends it ("WRITE", ptr) to an idle store actor (each
    has its own PostgreSQL connection), and gets it back ("DONE", ptr) once
    committed. Writesets close at writeset.max items; while every store
    actor is busy the full ones queue. Several commit at once, so PostgreSQL
    works on one while another waits for its WAL flush, but the link thread
    acknowledges the tracks and publishes the verdicts strictly in the order
    the writesets were sent, so the feed follows the order of judgement.

    The rule engine lives in the link thread: events are judged as they
    arrive (so the check API sees the same memory at once), and the store
    writes each verdict and its findings in the touchpoint's transaction.

    The link thread's loop is a zloop: the store actors and the check API
    are its readers, the link and the history's notifications too once the
    rule memory is rebuilt, a 100 ms timer keeps retries and eviction going,
    and s_loop_turn runs after every wake-up. A signal interrupts zloop_start;
    run reads its flag and starts it again. zloop costs about 0.1 µs more per
    wake-up than the zmq_poll it replaced (within the noise of a PAIR ping
    loop at ~7 µs a wake-up), against up to 2 ms of judging per link slice.
*/
#include "coordinator/coordinator.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/curve.h"
#include "base/bloom.h"
#include "store/aliases.h"
#include "coordinator/catchup.h"
#include "coordinator/checkapi.h"
#include "store/reservations.h"
#include "store/suppressions.h"
#include "store/contact_settings.h"
#include "coordinator/decision.h"
#include "coordinator/sequencer.h"
#include "coordinator/store_actor.h"
#include "base/envelope.h"
#include "base/hash.h"
#include "store/feedlog.h"
#include "store/history.h"
#include "store/policy_load.h"
#include "base/httpd.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/signals.h"
#include "proto/link.h"
#include "store/store.h"
#include "store/writeset.h"

#include <czmq.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

//  Bits of the Bloom filter of accounts ever stored (2 MiB)
#define BLOOM_BITS      ((size_t) 1 << 24)

//  Longest the link thread judges incoming batches before it looks at the
//  store actors again
#define LINK_SLICE_US 2000

struct _dt_coordinator_t {
    dt_coordinator_opts_t opts;
    dt_tzdb_t *zones;               //  the tz database, for the contact budget
    zsock_t *link;
    zsock_t *decisions;             //  PUB: every verdict
    zsock_t *check;                 //  ROUTER: what would you say about this?
    zsock_t *catchup;               //  ROUTER: the feed from the store (its actor's)
    zactor_t *catchup_actor;
    dt_catchup_args_t catchup_args;
    zactor_t *stores [DT_STORE_CONNECTIONS_MAX];
    dt_store_actor_args_t store_args;   //  what every store actor shares
    dt_writeset_t *at_store [DT_STORE_CONNECTIONS_MAX];    //  what each is writing
    dt_writeset_t *filling;         //  collecting items
    zlistx_t *ready;                //  full writesets waiting for a store actor
    zlistx_t *committing;           //  at the store actors, oldest sent first
    zlistx_t *spares;               //  committed ones, emptied for reuse
    bool store_connected;
    dt_engine_t *engine;
    dt_history_t *history;
    int64_t history_retry_at;
    int policy_version;             //  in force in the engine; 0: none (tables, options)
    dt_bloom_t *bloom;              //  canonical accounts ever stored: others have no history
    dt_str_t preload_accounts [64]; //  s_preload: canonical ids (PRELOAD_MAX)
    char preload_keys [64][DT_IDENTITY_NORM_MAX];
    dt_str_t *preload_ids;          //  and every id of theirs
    size_t preload_id_count, preload_id_alloc;
    int64_t newest_occurred;        //  the stream's "now", for eviction
    int64_t evicted_at;
    dt_buf_t scratch;
    uint64_t instance;              //  random per start: tracks notice a restart
    uint64_t committed_events, duplicate_events, committed_rejects, published;
    //  The feed's numbering (seq): writesets number their events in the
    //  order they were sent, so the numbers follow the order of
    //  publication; its next is 0 until read at start
    dt_sequencer_t sequencer;
    atomic_uint_fast64_t seq_published;     //  every seq up to it is committed
    bool started;                   //  rule memory rebuilt: the link is read

    //  The loop (zloop): the store actors and the check API always, the
    //  link and the history's notifications once started (s_watch_inputs)
    zloop_t *loop;
    bool link_watched;
    int notify_fd;                  //  registered, -1 none
    bool draining;                  //  SIGTERM: committing what is in hand
    int64_t drain_deadline;

    //  Operations. The store actor and the HTTP thread touch only metrics
    //  (atomic) and these flags.
    dt_metrics_t *metrics;
    dt_httpd_t *httpd;
    dt_curve_t *curve;              //  NULL: plain TCP
    atomic_bool ready_store, ready_memory, ready_reader;
    dt_counter_t *m_events, *m_rejects, *m_findings, *m_verdicts, *m_published, *m_checks;
    dt_counter_t *m_seq_guesses;
    dt_checkapi_t checkapi;         //  what the check API answers with
    int64_t swept_at;               //  reservations' records last swept (mono ms)
    dt_counter_t *m_catchups;
    dt_histogram_t *m_commit_seconds, *m_writeset_items, *m_ingress_to_commit;
    dt_gauge_t *m_accounts, *m_state_bytes;
};

static void s_preload (dt_coordinator_t *self, const dt_event_t *events, uint32_t count);
static void s_tell_store (void *ctx, dt_writeset_t *ws, const char *command, uint64_t value);

//  The check API's way to bring back an account's memory
static void
s_check_preload (void *ctx, const dt_event_t *event)
{
    s_preload ((dt_coordinator_t *) ctx, event, 1);
}

static bool
s_is_ready (void *ctx, char *reason, size_t len)
{
    dt_coordinator_t *self = (dt_coordinator_t *) ctx;
    if (!atomic_load (&self->ready_store))
        snprintf (reason, len, "not connected to PostgreSQL");
    else
    if (!atomic_load (&self->ready_memory))
        snprintf (reason, len, "rebuilding the rule memory");
    else
    if (!atomic_load (&self->ready_reader))
        snprintf (reason, len, "reader connection to PostgreSQL lost");
    else
        return true;
    return false;
}

static void
s_metrics_setup (dt_coordinator_t *self)
{
    dt_metrics_t *m = self->metrics = dt_metrics_new ("dualtrack_coordinator_");
    self->m_events = dt_metrics_counter (m, "events_total",
        "Events committed, by result (stored, or duplicate: a resend of a stored id)", "result");
    self->m_seq_guesses = dt_metrics_counter (m, "seq_guesses_total",
        "Writesets that started on a guessed first seq, by result (kept, or missed: written again)",
        "result");
    dt_counter_add (self->m_seq_guesses, "kept", 0);
    dt_counter_add (self->m_seq_guesses, "missed", 0);
    self->m_rejects = dt_metrics_counter (m, "rejects_stored_total", "Rejects written to the rejects table", NULL);
    self->m_findings = dt_metrics_counter (m, "findings_total", "Findings stored, by rule", "rule");
    self->m_verdicts = dt_metrics_counter (m, "verdicts_total", "Verdicts on stored touchpoints", "verdict");
    self->m_published = dt_metrics_counter (m, "feed_messages_total", "Messages published on the decisions feed", NULL);
    self->m_checks = dt_metrics_counter (m, "checks_total", "Check API requests answered", NULL);
    self->checkapi.m_reservations = dt_metrics_counter (m, "reservations_total",
        "Reservations held for check requests", NULL);
    self->checkapi.m_reservations_taken = dt_metrics_counter (m, "reservations_taken_total",
        "Reservations taken by a higher priority", NULL);
    self->m_catchups = dt_metrics_counter (m, "catchup_requests_total",
        "Catch-up API requests answered, by result (ok or the error code)", "result");
    self->m_commit_seconds = dt_metrics_histogram (m, "pg_commit_seconds",
        "Time to write and commit one writeset in PostgreSQL", dt_metrics_seconds_buckets, 13);
    static const double items [] = { 1, 10, 100, 500, 1000, 2500, 5000, 10000, 20000, 40000 };
    self->m_writeset_items = dt_metrics_histogram (m, "writeset_items",
        "Items (events and rejects) per transaction", items, 10);
    self->m_ingress_to_commit = dt_metrics_histogram (m, "ingress_to_commit_seconds",
        "Time from a track receiving an event to its commit", dt_metrics_seconds_buckets, 13);
    self->m_accounts = dt_metrics_gauge (m, "rule_accounts", "Accounts in the rule engine's memory");
    self->m_state_bytes = dt_metrics_gauge (m, "rule_state_bytes", "Bytes of rule engine memory");
    dt_counter_add (self->m_events, "stored", 0);
    dt_counter_add (self->m_events, "duplicate", 0);
    for (int v = DT_VERDICT_OK; v <= DT_VERDICT_VIOLATION; v++)
        dt_counter_add (self->m_verdicts, dt_verdict_name ((dt_verdict_t) v), 0);
    for (int r = 0; r < DT_RULES; r++)
        dt_counter_add (self->m_findings, dt_rule_id ((dt_rule_t) r), 0);
}

static void s_note_event (void *ctx, const dt_event_t *event);

//  The tz database, read once (~600 zones, ~0.6 MB), for local time in the
//  contact budget; without it every zone is UTC
static int
s_zones_setup (dt_coordinator_t *self)
{
    char err [256];
    self->zones = dt_tzdb_new ();
    int count = self->zones? dt_tzdb_load_dir (self->zones, DT_TZDB_DIR, err, sizeof err): -1;
    if (count < 0)
        dt_warn ("no tz database: every time zone is UTC", "error=\"%s\"", err);
    if (!self->zones || dt_engine_set_zones (self->engine, self->zones, err, sizeof err)) {
        dt_error ("the rule configuration is not valid", "error=\"%s\"", self->zones? err: "out of memory");
        return -1;
    }
    return 0;
}

//  --------------------------------------------------------------------------

dt_coordinator_t *
dt_coordinator_new (const dt_coordinator_opts_t *opts)
{
    dt_coordinator_t *self = calloc (1, sizeof *self);
    self->opts = *opts;
    self->filling = dt_writeset_new ();
    self->ready = zlistx_new ();
    self->committing = zlistx_new ();
    self->sequencer = (dt_sequencer_t) { .tell = s_tell_store, .ctx = self,
                                         .writesets = self->committing };
    self->spares = zlistx_new ();
    //  Not secret, only different from the last start's
    self->instance = (uint64_t) dt_now_us () * 2654435761u ^ (uint64_t) getpid ();
    self->link = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->link, 1);
    zsock_set_sndtimeo (self->link, 0);
    //  Acknowledgements sent just before a clean exit must still get out
    zsock_set_linger (self->link, 2000);
    self->decisions = zsock_new (ZMQ_PUB);
    //  A slow subscriber loses verdicts at this mark rather than slowing
    //  the data path: the store keeps every verdict for it to catch up
    zsock_set_sndhwm (self->decisions, 200000);
    self->check = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->check, 1);
    zsock_set_sndtimeo (self->check, 0);
    zsock_set_maxmsgsize (self->check, 2 * DT_FRAME_MAX);
    self->catchup = zsock_new (ZMQ_ROUTER);
    zsock_set_router_mandatory (self->catchup, 1);
    zsock_set_maxmsgsize (self->catchup, 4096);
    if (opts->curve_cert) {
        char err [256];
        self->curve = dt_curve_new (opts->curve_cert, opts->curve_clients, err, sizeof err);
        if (!self->curve) {
            dt_error ("can not set up CURVE", "error=\"%s\"", err);
            dt_coordinator_destroy (&self);
            return NULL;
        }
        dt_curve_server (self->curve, self->link);
        dt_curve_server (self->curve, self->decisions);
        dt_curve_server (self->curve, self->check);
        dt_curve_server (self->curve, self->catchup);
    }
    if (zsock_bind (self->link, "%s", opts->links) < 0
    ||  zsock_bind (self->decisions, "%s", opts->decisions) < 0
    ||  zsock_bind (self->check, "%s", opts->check) < 0
    ||  zsock_bind (self->catchup, "%s", opts->catchup) < 0) {
        dt_error ("can not bind the link, the decisions feed, the check or catch-up API",
                  "links=%s decisions=%s check=%s catchup=%s error=\"%s\"", opts->links,
                  opts->decisions, opts->check, opts->catchup, zmq_strerror (zmq_errno ()));
        dt_coordinator_destroy (&self);
        return NULL;
    }
    self->engine = dt_engine_new (&opts->rules, &opts->stages);
    if (!self->engine) {
        dt_error ("the rule configuration is not valid", NULL);
        dt_coordinator_destroy (&self);
        return NULL;
    }
    if (s_zones_setup (self)) {
        dt_coordinator_destroy (&self);
        return NULL;
    }
    self->bloom = dt_bloom_new (BLOOM_BITS);
    self->history = dt_history_new (opts->pg_uri, opts->pg_password, &opts->stages);
    dt_history_set_observer (self->history, s_note_event, self);
    self->checkapi.engine = self->engine;
    self->checkapi.history = self->history;
    self->checkapi.stages = &self->opts.stages;
    self->checkapi.preload = s_check_preload;
    self->checkapi.preload_ctx = self;
    s_metrics_setup (self);
    if (opts->http && *opts->http) {
        char err [256];
        self->httpd = dt_httpd_new (opts->http, self->metrics, s_is_ready, self, err, sizeof err);
        if (!self->httpd) {
            dt_error ("can not serve health and metrics", "address=%s error=\"%s\"", opts->http, err);
            dt_coordinator_destroy (&self);
            return NULL;
        }
    }
    self->store_args = (dt_store_actor_args_t) {
        .pg_uri = opts->pg_uri, .pg_password = opts->pg_password,
        .commit_seconds = self->m_commit_seconds, .writeset_items = self->m_writeset_items,
        .ingress_to_commit = self->m_ingress_to_commit, .ready = &self->ready_store
    };
    for (int i = 0; i < opts->store_connections; i++)
        self->stores [i] = zactor_new (dt_store_actor, &self->store_args);
    atomic_store (&self->seq_published, UINT64_MAX);
    self->catchup_args = (dt_catchup_args_t) {
        .router = self->catchup, .pg_uri = opts->pg_uri, .pg_password = opts->pg_password,
        .stages = &self->opts.stages, .published = &self->seq_published,
        .requests = self->m_catchups
    };
    self->catchup_actor = zactor_new (dt_catchup_actor, &self->catchup_args);
    dt_info ("coordinator ready", "links=%s decisions=%s check=%s catchup=%s security=%s",
             opts->links, opts->decisions, opts->check, opts->catchup,
             self->curve? "curve": "plain");
    return self;
}

void
dt_coordinator_destroy (dt_coordinator_t **self_p)
{
    if (*self_p) {
        dt_coordinator_t *self = *self_p;
        //  The actors first: they may hold writesets until they stop
        for (int i = 0; i < DT_STORE_CONNECTIONS_MAX; i++)
            zactor_destroy (&self->stores [i]);
        zactor_destroy (&self->catchup_actor);
        dt_httpd_destroy (&self->httpd);
        dt_metrics_destroy (&self->metrics);
        zsock_destroy (&self->link);
        zsock_destroy (&self->decisions);
        zsock_destroy (&self->check);
        zsock_destroy (&self->catchup);
        dt_curve_destroy (&self->curve);
        dt_writeset_destroy (&self->filling);
        zlistx_t **lists [] = { &self->ready, &self->committing, &self->spares };
        for (size_t l = 0; l < sizeof lists / sizeof lists [0]; l++) {
            if (!*lists [l])
                continue;
            dt_writeset_t *ws;
            while ((ws = (dt_writeset_t *) zlistx_detach (*lists [l], NULL)))
                dt_writeset_destroy (&ws);
            zlistx_destroy (lists [l]);
        }
        dt_engine_destroy (&self->engine);
        dt_tzdb_destroy (&self->zones);
        dt_history_destroy (&self->history);
        dt_buf_free (&self->scratch);
        dt_bloom_destroy (&self->bloom);
        free (self->preload_ids);
        free (self);
        *self_p = NULL;
    }
}

static dt_writeset_t *
s_take_spare (dt_coordinator_t *self)
{
    dt_writeset_t *ws = (dt_writeset_t *) zlistx_detach (self->spares, NULL);
    return ws? ws: dt_writeset_new ();
}

//  The writeset is full: it waits for a store actor, a new one fills
static void
s_close_filling (dt_coordinator_t *self)
{
    zlistx_add_end (self->ready, self->filling);
    self->filling = s_take_spare (self);
}

//  Every idle store actor gets the oldest full writeset, or else what is
//  filling: under light load a few events go at once (low latency), under
//  heavy load writesets grow to writeset.max while the actors are busy
static void
s_send_to_store (dt_coordinator_t *self)
{
    for (int i = 0; i < self->opts.store_connections; i++) {
        if (self->at_store [i])
            continue;
        dt_writeset_t *ws = (dt_writeset_t *) zlistx_detach (self->ready, NULL);
        if (!ws) {
            if (dt_writeset_size (self->filling) == 0)
                return;
            ws = self->filling;
            self->filling = s_take_spare (self);
        }
        ws->committed = false;
        dt_sequencer_sent (&self->sequencer, ws);
        zsock_send (self->stores [i], "sp8", "WRITE", ws, (uint64_t) 0);
        self->at_store [i] = ws;
        zlistx_add_end (self->committing, ws);
    }
}

//  Nothing in hand: every item received is committed and acknowledged
static bool
s_all_committed (dt_coordinator_t *self)
{
    return zlistx_size (self->committing) == 0 && zlistx_size (self->ready) == 0
        && dt_writeset_size (self->filling) == 0;
}

//  A link message packed in scratch, to the track behind peer. Returns -1
//  when the track is gone (it says hello again and resends).
static int
s_link_send (dt_coordinator_t *self, zframe_t *peer)
{
    zmsg_t *msg = zmsg_new ();
    zmsg_addmem (msg, zframe_data (peer), zframe_size (peer));
    zmsg_addmem (msg, self->scratch.data, self->scratch.size);
    if (zmsg_send (&msg, self->link) == 0)
        return 0;
    zmsg_destroy (&msg);
    return -1;
}

//  Start packing a link message into scratch
static void
s_link_pack_start (dt_coordinator_t *self, msgpack_packer *pk)
{
    dt_buf_reset (&self->scratch);
    msgpack_packer_init (pk, &self->scratch, dt_buf_msgpack_write);
}

static void
s_acknowledge (dt_coordinator_t *self, dt_writeset_t *ws)
{
    for (uint32_t i = 0; i < ws->ack_count; i++) {
        msgpack_packer pk;
        s_link_pack_start (self, &pk);
        dt_link_ack_pack (&pk, self->instance, ws->acks [i].first, ws->acks [i].upto);
        if (s_link_send (self, ws->acks [i].peer))
            //  The track went away: it resends after reconnecting
            dt_warn ("track gone before its acknowledgement", "upto=%llu",
                     (unsigned long long) ws->acks [i].upto);
    }
}

//  --------------------------------------------------------------------------
//  Judgement: Bloom filter of known accounts, loading missing accounts, the feed

//  An account's key in the Bloom filter
static uint64_t
s_account_key (dt_str_t account)
{
    return dt_hash (account.ptr, account.len, 0x6475616c);
}

//  Before events are judged, the accounts they need that memory does not
//  hold but the store may (evicted ones: the Bloom filter says maybe) are
//  loaded, all of them in one query, each from the horizon before the
//  earliest of those events, so a late event sees its own time's history.
//  Judging then never waits on the store account by account.
//  Accounts are canonical ids (rules/identity.h): an account's history is
//  read under every id it has (dt_aliases_ids), so histories sent under
//  ids an alias joined later come back as one.
#define PRELOAD_MAX 64                  //  accounts per query
_Static_assert (PRELOAD_MAX == sizeof (((dt_coordinator_t *) 0)->preload_accounts)
                             / sizeof (dt_str_t), "s_preload's arrays hold PRELOAD_MAX");

static void
s_preload_load (dt_coordinator_t *self, uint32_t wanted, int64_t earliest)
{
    self->preload_id_count = 0;
    for (uint32_t k = 0; k < wanted; k++)
        if (dt_aliases_ids (self->engine, self->preload_accounts [k], &self->preload_ids,
                            &self->preload_id_count, &self->preload_id_alloc))
            break;      //  out of memory: the ids so far
    dt_history_load_accounts (self->history, self->engine, self->preload_ids,
                              self->preload_id_count,
                              earliest - dt_engine_horizon (self->engine));
}

static void
s_preload (dt_coordinator_t *self, const dt_event_t *events, uint32_t count)
{
    if (!dt_history_connected (self->history))
        return;
    dt_str_t *accounts = self->preload_accounts;
    uint32_t wanted = 0;
    int64_t earliest = INT64_MAX;
    for (uint32_t i = 0; i < count; i++) {
        if (dt_engine_has_account (self->engine, events [i].account))
            continue;
        dt_str_t account = dt_engine_canonical (self->engine, DT_ID_ACCOUNT, events [i].account);
        if (!dt_bloom_has (self->bloom, s_account_key (account)))
            continue;
        uint32_t k = 0;
        while (k < wanted && !dt_str_same (accounts [k], account))
            k++;
        if (k == wanted) {
            //  Copied: the answer of a lookup lasts until the next
            size_t len = account.len < DT_IDENTITY_NORM_MAX? account.len: DT_IDENTITY_NORM_MAX;
            memcpy (self->preload_keys [wanted], account.ptr, len);
            accounts [wanted].ptr = self->preload_keys [wanted];
            accounts [wanted++].len = (uint32_t) len;
        }
        if (events [i].occurred_at < earliest)
            earliest = events [i].occurred_at;
        if (wanted == PRELOAD_MAX) {
            s_preload_load (self, wanted, earliest);
            wanted = 0;
            earliest = INT64_MAX;
        }
    }
    if (wanted)
        s_preload_load (self, wanted, earliest);
}

//  [topic][decision in scratch] on the feed, straight from our buffers
//  (a PUB never blocks: a slow subscriber loses at its high-water mark)
static void
s_publish (dt_coordinator_t *self, const char *topic)
{
    void *socket = zsock_resolve (self->decisions);
    zmq_send (socket, topic, strlen (topic), ZMQ_SNDMORE);
    zmq_send (socket, self->scratch.data, self->scratch.size, 0);
}

static void
s_publish_verdicts (dt_coordinator_t *self, dt_writeset_t *ws)
{
    for (uint32_t i = 0; i < ws->event_count; i++) {
        const dt_judgement_t *j = &ws->judgements [i];
        if (!j->is_new)
            continue;       //  a resend: its verdict went out the first time
        const dt_event_t *ev = &ws->events [i];
        const dt_finding_t *findings = ws->findings + j->first_finding;
        dt_buf_reset (&self->scratch);
        msgpack_packer pk;
        msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
        dt_decision_pack (&pk, ev, j->verdict, findings, j->finding_count,
                          dt_writeset_account_key (ws, i), dt_writeset_contact_key (ws, i), j->seq);
        char topic [64];
        dt_decision_topic (topic, sizeof topic, ev, j->verdict);
        s_publish (self, topic);
        dt_counter_add (self->m_published, NULL, 1);
        dt_track_t advised = dt_decision_advised (ev, &self->opts.stages, findings, j->finding_count);
        if (advised != DT_TRACK_NONE) {
            dt_decision_advisory_topic (topic, sizeof topic, advised);
            s_publish (self, topic);
        }
        self->published++;
    }
}

//  A canonical account whose ids changed: its history may be in the store
static void
s_mark_account (void *ctx, dt_str_t canonical)
{
    dt_coordinator_t *self = (dt_coordinator_t *) ctx;
    dt_bloom_add (self->bloom, s_account_key (canonical));
}

//  Put the alias tables in force (dt_aliases_reload logs and records it; a
//  refused change leaves the mapping in force)
static void
s_identity_reload (dt_coordinator_t *self)
{
    char err [512];
    dt_aliases_reload (self->history, self->engine,
                       self->newest_occurred - dt_engine_horizon (self->engine),
                       s_mark_account, self, err, sizeof err);
}

//  The feed's numbering resumes after the highest seq stored: every
//  writeset the last run sent a store actor either committed whole or not
//  at all, and took its turn after all those before it committed theirs
static int
s_seq_start (dt_coordinator_t *self)
{
    if (self->sequencer.next)
        return 0;
    char err [512] = "";
    dt_feedlog_t *log = dt_feedlog_new (self->opts.pg_uri, self->opts.pg_password,
                                        &self->opts.stages);
    //  Holes can only be among the last few writesets' seqs (each at most
    //  writeset.max items plus a batch): a wide margin, for any settings
    //  the last run had
    uint64_t window = 4 * (uint64_t) DT_STORE_CONNECTIONS_MAX * ((uint64_t) self->opts.writeset_max + 1000);
    int64_t moved = dt_feedlog_connect (log, err, sizeof err) == 0?
                    dt_feedlog_close_gap (log, window, err, sizeof err): -1;
    int64_t last = moved >= 0? dt_feedlog_last (log, err, sizeof err): -1;
    dt_feedlog_destroy (&log);
    if (moved > 0)
        dt_warn ("the last run stopped with a hole in the feed's seqs: numbered again",
                 "verdicts=%lld", (long long) moved);
    if (last < 0) {
        dt_warn ("can not read the feed's last seq", "error=\"%s\"", err);
        return -1;
    }
    self->sequencer.next = (uint64_t) last + 1;
    atomic_store (&self->seq_published, (uint64_t) last);
    dt_info ("feed numbering resumes", "last_seq=%lld", (long long) last);
    return 0;
}

//  Put the suppressions in force (dt_suppressions_reload logs and records
//  it; a refused change leaves the set in force)
static void
s_suppressions_reload (dt_coordinator_t *self)
{
    char err [512];
    dt_suppressions_reload (self->history, self->engine, dt_now_ms (), err, sizeof err);
}

//  The same for the buyers' own time zones (contact_settings)
static void
s_settings_reload (dt_coordinator_t *self)
{
    char err [512];
    dt_contact_settings_reload (self->history, self->engine, self->zones,
                                self->newest_occurred - dt_engine_horizon (self->engine),
                                err, sizeof err);
}

//  Rebuild the engine's memory and tone book from the store: at start, and
//  whenever the reader connection comes back
static int
s_history_start (dt_coordinator_t *self)
{
    char err [512];
    if (dt_history_connect (self->history, err, sizeof err)) {
        dt_warn ("can not read the store yet", "error=\"%s\"", err);
        return -1;
    }
    //  The live policy overrides the options, which become its defaults
    dt_policy_record_defaults (self->history, &self->opts.rules);
    dt_policy_load (self->history, self->engine, &self->opts.rules, &self->opts.stages,
                    &self->policy_version);
    dt_tonebook_t *book = self->policy_version? NULL:
                          dt_history_tonebook (self->history, err, sizeof err);
    if (self->policy_version == 0
    &&  (!book || dt_engine_set_tonebook (self->engine, &book, err, sizeof err))) {
        dt_error ("the tone book in the store is not valid; keeping the one in force",
                  "error=\"%s\"", err);
        dt_history_record_reload (self->history, false, err);
    }
    //  The alias maps before the memory: it is rebuilt under them
    s_identity_reload (self);
    s_suppressions_reload (self);
    s_settings_reload (self);
    int64_t started = dt_mono_ms ();
    int64_t count = dt_history_rebuild (self->history, self->engine,
                                        dt_engine_horizon (self->engine), err, sizeof err);
    if (count < 0) {
        dt_warn ("could not rebuild the rule memory", "error=\"%s\"", err);
        return -1;
    }
    dt_info ("rule memory rebuilt from the store", "touchpoints=%lld accounts=%zu ms=%lld",
             (long long) count, dt_engine_accounts (self->engine),
             (long long) (dt_mono_ms () - started));
    //  The slots held before a restart hold again
    count = dt_reservations_load (self->history, self->engine, dt_now_ms (), err, sizeof err);
    if (count < 0) {
        dt_warn ("could not read the reservations", "error=\"%s\"", err);
        return -1;
    }
    dt_info ("reservations read from the store", "reservations=%lld held=%zu", (long long) count,
             dt_engine_reservations_held (self->engine));
    return s_seq_start (self);
}

//  Every touchpoint the engine learns of, live or from the store, marks its
//  account in the Bloom filter and moves the stream's clock
//  The stream's clock follows occurred_at (history replays and tests run in
//  the past) but a future-dated event moves it at most a day past the wall
//  clock, or eviction would empty the rule memory
static void
s_note_occurred (dt_coordinator_t *self, int64_t occurred_at, int64_t wall_ms)
{
    int64_t ceiling = wall_ms + 86400000LL;
    int64_t occurred = occurred_at < ceiling? occurred_at: ceiling;
    if (occurred > self->newest_occurred)
        self->newest_occurred = occurred;
}

static void
s_note_event (void *ctx, const dt_event_t *event)
{
    dt_coordinator_t *self = (dt_coordinator_t *) ctx;
    dt_bloom_add (self->bloom, s_account_key (dt_engine_canonical (self->engine, DT_ID_ACCOUNT,
                                                                   event->account)));
    s_note_occurred (self, event->occurred_at, dt_now_ms ());
}

//  The same for a batch's events, reading the clock once
static void
s_note_judged (dt_coordinator_t *self, dt_writeset_t *ws, uint32_t from)
{
    int64_t wall_ms = dt_now_ms ();
    for (uint32_t i = from; i < ws->event_count; i++) {
        dt_bloom_add (self->bloom, s_account_key (dt_writeset_account_key (ws, i)));
        s_note_occurred (self, ws->events [i].occurred_at, wall_ms);
    }
}

static void
s_tonebook_reload (dt_coordinator_t *self)
{
    //  A policy, once applied, holds the tone book: the tables are read
    //  only while no version exists (docs/policy.md)
    dt_policy_load_t loaded = dt_policy_load (self->history, self->engine, &self->opts.rules,
                                              &self->opts.stages, &self->policy_version);
    if (self->policy_version > 0) {
        if (loaded == DT_POLICY_UNCHANGED)
            dt_info ("tone book tables not read: a policy is in force", "version=%d",
                     self->policy_version);
        return;
    }
    char err [512];
    dt_tonebook_t *book = dt_history_tonebook (self->history, err, sizeof err);
    if (book && dt_engine_set_tonebook (self->engine, &book, err, sizeof err) == 0) {
        dt_info ("tone book reloaded", NULL);
        dt_history_record_reload (self->history, true, "reloaded");
    }
    else {
        dt_error ("tone book change refused; the previous one stays in force",
                  "error=\"%s\"", err);
        dt_history_record_reload (self->history, false, err);
    }
}

//  --------------------------------------------------------------------------
//  Check API (checkapi.c): judge a planned touchpoint without remembering it

static void
s_check_recv (dt_coordinator_t *self)
{
    zmsg_t *msg = zmsg_recv (self->check);
    if (!msg)
        return;
    bool req_envelope;
    zframe_t *identity = dt_envelope_open (msg, &req_envelope);
    zframe_t *body = zmsg_first (msg);
    dt_buf_reset (&self->scratch);
    msgpack_packer pk;
    msgpack_packer_init (&pk, &self->scratch, dt_buf_msgpack_write);
    dt_checkapi_answer (&self->checkapi, self->started, body && zmsg_size (msg) == 1? body: NULL,
                        &pk);
    dt_envelope_reply (self->check, &identity, req_envelope, self->scratch.data, self->scratch.size);
    dt_counter_add (self->m_checks, NULL, 1);
    zmsg_destroy (&msg);
}

//  A committed writeset: acknowledge the tracks, publish, count, recycle
static void
s_finish_writeset (dt_coordinator_t *self, dt_writeset_t *ws)
{
    self->committed_events += ws->stored;
    self->duplicate_events += ws->duplicates;
    self->committed_rejects += ws->reject_count;
    dt_debug ("committed", "events=%u stored=%u duplicates=%u rejects=%u findings=%u",
              ws->event_count, ws->stored, ws->duplicates, ws->reject_count,
              ws->finding_count);
    s_acknowledge (self, ws);
    //  Every writeset before it is committed too: the catch-up API may
    //  answer up to its last seq (before the feed has it, so a subscriber
    //  that sees a seq live can always fetch what came before it)
    if (ws->seq_count)
        atomic_store (&self->seq_published, ws->seq_granted + ws->seq_count - 1);
    s_publish_verdicts (self, ws);
    dt_counter_add (self->m_events, "stored", ws->stored);
    dt_counter_add (self->m_events, "duplicate", ws->duplicates);
    dt_counter_add (self->m_rejects, NULL, ws->reject_count);
    for (uint32_t i = 0; i < ws->event_count; i++) {
        const dt_judgement_t *j = &ws->judgements [i];
        if (!j->is_new)
            continue;
        dt_counter_add (self->m_verdicts, dt_verdict_name (j->verdict), 1);
        for (uint32_t k = 0; k < j->finding_count; k++)
            dt_counter_add (self->m_findings,
                            dt_rule_id (ws->findings [j->first_finding + k].rule), 1);
    }
    dt_writeset_reset (ws);
    if (zlistx_size (self->spares) <= (size_t) self->opts.store_connections)
        zlistx_add_end (self->spares, ws);
    else
        dt_writeset_destroy (&ws);
}

//  The sequencer's word to the store actor writing ws
static void
s_tell_store (void *ctx, dt_writeset_t *ws, const char *command, uint64_t value)
{
    dt_coordinator_t *self = (dt_coordinator_t *) ctx;
    if (streq (command, "GO") || streq (command, "MISS"))
        dt_counter_add (self->m_seq_guesses, streq (command, "GO")? "kept": "missed", 1);
    for (int i = 0; i < self->opts.store_connections; i++)
        if (self->at_store [i] == ws)
            zsock_send (self->stores [i], "sp8", command, ws, value);
}

static void
s_store_done (dt_coordinator_t *self, int index)
{
    char *command = NULL;
    void *ptr = NULL;
    uint64_t value = 0;
    if (zsock_recv (self->stores [index], "sp8", &command, &ptr, &value) < 0)
        return;
    if (streq (command, "SEQ") && ptr)
        dt_sequencer_asked (&self->sequencer, (dt_writeset_t *) ptr);
    else
    if (streq (command, "USED") && ptr)
        dt_sequencer_used (&self->sequencer, (dt_writeset_t *) ptr, value);
    else
    if (streq (command, "CONNECTED")) {
        self->store_connected = true;
        atomic_store (&self->ready_store, true);
    }
    else {
        //  A writeset committed out of turn waits for the older ones
        if (ptr) {
            dt_writeset_t *ws = (dt_writeset_t *) ptr;
            ws->committed = true;
            //  Stopped before it said how many it used: it took none
            if (!dt_sequencer_stopped (&self->sequencer, ws))
                dt_error ("a writeset stopped during its turn to number", NULL);
        }
        self->at_store [index] = NULL;
        dt_writeset_t *oldest;
        while ((oldest = (dt_writeset_t *) zlistx_first (self->committing)) && oldest->committed) {
            zlistx_detach (self->committing, NULL);
            s_finish_writeset (self, oldest);
        }
    }
    free (command);
}

static void
s_link_recv (dt_coordinator_t *self)
{
    zmsg_t *msg = zmsg_recv (self->link);
    if (!msg)
        return;
    zframe_t *peer = zmsg_pop (msg);
    size_t frames = zmsg_size (msg);
    zframe_t *body = zmsg_pop (msg);
    msgpack_unpacked unpacked;
    msgpack_unpacked_init (&unpacked);
    dt_error_t err;
    dt_link_msg_t link;
    msgpack_packer pk;
    if (!body || frames != 1
    ||  dt_wire_unpack (&unpacked, (const char *) zframe_data (body), zframe_size (body), &err)
    ||  dt_link_open (&unpacked.data, &link))
        dt_warn ("unreadable message on the link", "frames=%zu", frames);
    else
    if (link.type == DT_LINK_BATCH) {
        uint32_t from = self->filling->event_count;
        if (dt_writeset_add_batch (self->filling, &body, &unpacked, peer, &self->opts.stages))
            dt_warn ("unreadable batch on the link", NULL);
        s_preload (self, self->filling->events + from, self->filling->event_count - from);
        self->filling->policy_version = self->policy_version;
        dt_writeset_judge (self->filling, self->engine);
        s_note_judged (self, self->filling, from);
        if (dt_writeset_size (self->filling) >= (uint32_t) self->opts.writeset_max)
            s_close_filling (self);
    }
    else
    if (link.type == DT_LINK_HELLO) {
        //  Credit: what this track may have unacknowledged. It bounds what the
        //  coordinator holds in memory, so the link is always read and a
        //  heartbeat is answered even while PostgreSQL is away.
        dt_info ("track connected", "track=%.*s credit=%d",
                 (int) link.track.len, link.track.ptr, self->opts.credit);
        s_link_pack_start (self, &pk);
        dt_link_credit_pack (&pk, self->instance, (uint64_t) self->opts.credit);
        s_link_send (self, peer);
    }
    else
    if (link.type == DT_LINK_PING) {
        s_link_pack_start (self, &pk);
        dt_link_pong_pack (&pk, self->instance);
        s_link_send (self, peer);
    }
    else
    if (dt_str_eq (link.name, "batch"))
        dt_warn ("unreadable batch on the link", NULL);
    msgpack_unpacked_destroy (&unpacked);
    zframe_destroy (&body);
    zframe_destroy (&peer);
    zmsg_destroy (&msg);
}

//  SIGHUP: the allow-list (tracks, subscribers, check clients) is re-read
//  at once, not when its directory next looks changed
static void
s_reload (dt_coordinator_t *self)
{
    dt_reload_requested = 0;
    if (self->curve && dt_curve_reload (self->curve) == 0)
        dt_info ("SIGHUP: allow-list re-read", "allow_list=%s", self->opts.curve_clients);
    else
        dt_info ("SIGHUP: no allow-list to re-read", NULL);
}

static int s_on_link (zloop_t *loop, zsock_t *reader, void *arg);
static int s_on_notify (zloop_t *loop, zmq_pollitem_t *item, void *arg);

//  The link and the tone book notifications are read once the rule memory
//  is rebuilt, until a drain begins; the tracks' credit bounds what arrives.
//  The history's socket changes when it reconnects.
static void
s_watch_inputs (dt_coordinator_t *self)
{
    bool wanted = self->started && !self->draining;
    if (wanted != self->link_watched) {
        if (wanted) {
            zloop_reader (self->loop, self->link, s_on_link, self);
            zloop_reader_set_tolerant (self->loop, self->link);
        }
        else
            zloop_reader_end (self->loop, self->link);
        self->link_watched = wanted;
    }
    int fd = wanted? dt_history_socket (self->history): -1;
    if (fd != self->notify_fd) {
        zmq_pollitem_t item = { NULL, self->notify_fd, ZMQ_POLLIN, 0 };
        if (self->notify_fd >= 0)
            zloop_poller_end (self->loop, &item);
        item.fd = fd;
        if (fd >= 0) {
            zloop_poller (self->loop, &item, s_on_notify, self);
            zloop_poller_set_tolerant (self->loop, &item);
        }
        self->notify_fd = fd;
    }
}

//  What runs after every wake-up of the loop, whatever woke it: a slice of
//  eviction, the signals' flags, the rule memory's (re)build, the store
//  actors fed, the readers the state calls for, and the end of a drain.
//  -1 ends the loop.
static int
s_loop_turn (dt_coordinator_t *self)
{
    //  Forget idle accounts, a slice of the memory every 100 ms (a full
    //  cycle in a few seconds); they come back on demand
    if (self->started && dt_mono_ms () - self->evicted_at >= 100) {
        size_t evicted = dt_engine_evict_step (self->engine, self->newest_occurred);
        if (evicted)
            dt_debug ("evicted idle accounts", "accounts=%zu", evicted);
        self->evicted_at = dt_mono_ms ();
        //  Records of reservations ended over an hour ago, once a minute
        if (self->evicted_at - self->swept_at >= 60000) {
            dt_engine_reservations_sweep (self->engine, dt_now_ms ());
            self->swept_at = self->evicted_at;
        }
    }
    if (dt_reload_requested)
        s_reload (self);
    if (dt_stop_requests && !self->draining) {
        self->draining = true;
        self->drain_deadline = dt_mono_ms () + self->opts.drain_ms;
        dt_info ("stopping: committing what is in hand", "writesets=%zu",
                 zlistx_size (self->committing) + zlistx_size (self->ready) + 1);
    }
    //  The engine judges nothing before it knows the store's recent
    //  history: until then the tracks keep events in their journals
    if (!self->started && self->store_connected && dt_mono_ms () >= self->history_retry_at) {
        self->started = s_history_start (self) == 0;
        if (!self->started)
            self->history_retry_at = dt_mono_ms () + 1000;
        atomic_store (&self->ready_memory, self->started);
    }
    atomic_store (&self->ready_reader, dt_history_connected (self->history));
    dt_gauge_set (self->m_accounts, (double) dt_engine_accounts (self->engine));
    dt_gauge_set (self->m_state_bytes, (double) dt_engine_state_bytes (self->engine));
    if (self->started && !dt_history_connected (self->history)
    &&  dt_mono_ms () >= self->history_retry_at) {
        char err [256];
        if (dt_history_connect (self->history, err, sizeof err) == 0) {
            s_tonebook_reload (self);
            s_identity_reload (self);
            s_suppressions_reload (self);
            s_settings_reload (self);
        }
        else
            self->history_retry_at = dt_mono_ms () + 1000;
    }
    s_send_to_store (self);
    if (self->draining && (s_all_committed (self) || dt_stop_requests > 1
                        || dt_mono_ms () > self->drain_deadline))
        return -1;
    s_watch_inputs (self);
    return 0;
}

static int
s_on_store (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop;
    dt_coordinator_t *self = (dt_coordinator_t *) arg;
    for (int i = 0; i < self->opts.store_connections; i++)
        if ((void *) self->stores [i] == (void *) reader)
            s_store_done (self, i);
    return s_loop_turn (self);
}

static int
s_on_check (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop, (void) reader;
    dt_coordinator_t *self = (dt_coordinator_t *) arg;
    s_check_recv (self);
    return s_loop_turn (self);
}

//  Judging a backlog of batches takes long (up to 1000 items each): back to
//  the loop every LINK_SLICE_US, so that a store actor that finished gets
//  the next writeset and committed verdicts go out instead of waiting for
//  the whole backlog to be judged
static int
s_on_link (zloop_t *loop, zsock_t *reader, void *arg)
{
    (void) loop, (void) reader;
    dt_coordinator_t *self = (dt_coordinator_t *) arg;
    int64_t until = dt_mono_us () + LINK_SLICE_US;
    for (int n = 0; n < 64 && (zsock_events (self->link) & ZMQ_POLLIN); n++) {
        s_link_recv (self);
        if (dt_mono_us () >= until)
            break;
    }
    return s_loop_turn (self);
}

static int
s_on_notify (zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    dt_coordinator_t *self = (dt_coordinator_t *) arg;
    if (item->revents & ZMQ_POLLIN) {
        int changed = dt_history_notified (self->history);
        if (changed > 0 && (changed & DT_HISTORY_TONEBOOK))
            s_tonebook_reload (self);
        if (changed > 0 && (changed & DT_HISTORY_IDENTITY))
            s_identity_reload (self);
        if (changed > 0 && (changed & DT_HISTORY_SUPPRESSIONS))
            s_suppressions_reload (self);
        if (changed > 0 && (changed & DT_HISTORY_SETTINGS))
            s_settings_reload (self);
        if (changed < 0)
            dt_warn ("lost the reader connection to PostgreSQL", NULL);
    }
    return s_loop_turn (self);
}

//  Nothing arrived for 100 ms: retries, eviction and deadlines go on
static int
s_on_tick (zloop_t *loop, int timer_id, void *arg)
{
    (void) loop, (void) timer_id;
    return s_loop_turn ((dt_coordinator_t *) arg);
}

int
dt_coordinator_run (dt_coordinator_t *self)
{
    self->loop = zloop_new ();
    self->notify_fd = -1;
    for (int i = 0; i < self->opts.store_connections; i++) {
        zloop_reader (self->loop, (zsock_t *) self->stores [i], s_on_store, self);
        zloop_reader_set_tolerant (self->loop, (zsock_t *) self->stores [i]);
    }
    zloop_reader (self->loop, self->check, s_on_check, self);
    zloop_reader_set_tolerant (self->loop, self->check);
    zloop_timer (self->loop, 100, 0, s_on_tick, self);
    int rc = s_loop_turn (self);
    //  A signal interrupts zloop_start (rc 0): its flag is read, and the
    //  loop goes on
    while (rc == 0) {
        rc = zloop_start (self->loop);
        if (rc == 0 && zmq_errno () != EINTR) {
            dt_error ("poll failed", "error=\"%s\"", zmq_strerror (zmq_errno ()));
            zloop_destroy (&self->loop);
            return -1;
        }
        if (rc == 0)
            rc = s_loop_turn (self);
    }
    zloop_destroy (&self->loop);
    bool clean = s_all_committed (self);
    dt_info (clean? "stopped": "stopped with items uncommitted; the tracks will resend them",
             "events_stored=%llu duplicates=%llu rejects=%llu verdicts_published=%llu",
             (unsigned long long) self->committed_events,
             (unsigned long long) self->duplicate_events,
             (unsigned long long) self->committed_rejects,
             (unsigned long long) self->published);
    return clean? 0: -1;
}
